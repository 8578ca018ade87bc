/* cmd_rekey — `solent rekey`: seal the store's values anew with the newest key. */
#ifndef SOLENT_ENGINE_CMD_REKEY_H
#define SOLENT_ENGINE_CMD_REKEY_H

/* Runs the command; 0 when every value is sealed with the newest key, 1 when not, 2 for
 * usage. */
int cmd_rekey_run(int argc, char **argv);

#endif
