/* cmd_route — `solent route`: which route each message takes under a configuration. */
#ifndef SOLENT_ENGINE_CMD_ROUTE_H
#define SOLENT_ENGINE_CMD_ROUTE_H

/* Runs the command; 0 when every message has a route, 1 when any has none, 2 for usage. */
int cmd_route_run(int argc, char **argv);

#endif
