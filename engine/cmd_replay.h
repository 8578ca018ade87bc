/* cmd_replay — `solent replay`: re-transform stored messages and queue their bundles. */
#ifndef SOLENT_ENGINE_CMD_REPLAY_H
#define SOLENT_ENGINE_CMD_REPLAY_H

/* Runs the command; 0 when everything asked for was queued (or printed), 1 when something
 * was not, 2 for usage. */
int cmd_replay_run(int argc, char **argv);

#endif
