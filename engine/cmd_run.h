/* cmd_run — `solent run [-c FILE]`: the engine itself, until SIGTERM or SIGINT. */
#ifndef SOLENT_ENGINE_CMD_RUN_H
#define SOLENT_ENGINE_CMD_RUN_H

/* Runs the engine; 0 after a clean stop, 1 when it cannot start, 2 for usage. */
int cmd_run_run(int argc, char **argv);

#endif
