/* cmd_messages — `solent messages`: what the store holds, metadata only. */
#ifndef SOLENT_ENGINE_CMD_MESSAGES_H
#define SOLENT_ENGINE_CMD_MESSAGES_H

/* Runs the command; 0 on success, 1 when the store cannot be read, 2 for usage. */
int cmd_messages_run(int argc, char **argv);

#endif
