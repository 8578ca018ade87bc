/* cmd_bench — `solent bench parse DIR...`: parser throughput on one core. */
#ifndef SOLENT_ENGINE_CMD_BENCH_H
#define SOLENT_ENGINE_CMD_BENCH_H

/* Runs the command; returns the process exit status (0 ok, 1 no input, 2 usage). */
int cmd_bench_run(int argc, char **argv);

/* `solent bench scale [--max SIZE]`: time per KB by message shape and size (cmd_bench_scale.c). */
int cmd_bench_scale_run(int argc, char **argv);

#endif
