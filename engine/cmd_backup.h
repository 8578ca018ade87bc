/* cmd_backup — `solent backup`: a consistent copy of the store while the engine runs. */
#ifndef SOLENT_ENGINE_CMD_BACKUP_H
#define SOLENT_ENGINE_CMD_BACKUP_H

/* Runs the command; 0 once the copy is on disk, 1 when not, 2 for usage. */
int cmd_backup_run(int argc, char **argv);

#endif
