/* cmd_send — `solent send HOST:PORT FILE|DIR...`: an MLLP client for tests, demos and load. */
#ifndef SOLENT_ENGINE_CMD_SEND_H
#define SOLENT_ENGINE_CMD_SEND_H

/* Runs the command; 0 when every message was accepted (AA/CA), 1 otherwise, 2 for usage. */
int cmd_send_run(int argc, char **argv);

#endif
