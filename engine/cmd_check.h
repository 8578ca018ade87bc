/* cmd_check — `solent check-config [-c FILE]`: loads and validates the configuration. */
#ifndef SOLENT_ENGINE_CMD_CHECK_H
#define SOLENT_ENGINE_CMD_CHECK_H

/* Runs the command; 0 when the file is valid, 1 when not, 2 for a usage error. */
int cmd_check_run(int argc, char **argv);

#endif
