/* cmd_status — `solent status`: the outbound queue per destination. */
#ifndef SOLENT_ENGINE_CMD_STATUS_H
#define SOLENT_ENGINE_CMD_STATUS_H

/* Runs the command; 0 on success, 1 when the store cannot be read, 2 for usage. */
int cmd_status_run(int argc, char **argv);

#endif
