/* main — the solent command: dispatches to one command per subcommand name. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "engine/cmd_bench.h"
#include "engine/cmd_check.h"
#include "engine/cmd_convert.h"
#include "engine/cmd_parse.h"
#include "engine/cmd_route.h"
#include "engine/cmd_messages.h"
#include "engine/cmd_backup.h"
#include "engine/cmd_rekey.h"
#include "engine/cmd_replay.h"
#include "engine/cmd_status.h"
#include "engine/cmd_run.h"
#include "engine/cmd_send.h"
#include "engine/cmd_show.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"run", cmd_run_run, "run the engine: listen, store, acknowledge: run [-c FILE]"},
    {"send", cmd_send_run, "send messages over MLLP and report ACKs: send HOST:PORT FILE..."},
    {"messages", cmd_messages_run, "list stored messages (metadata only): messages [--status S]"},
    {"show", cmd_show_run, "one stored message in JSON, with its deliveries: show ID [--content]"},
    {"audit", cmd_audit_run, "who read which message's content, newest first: audit [--since T]"},
    {"status", cmd_status_run, "the outbound queue per destination: status [-c FILE]"},
    {"replay", cmd_replay_run, "queue stored messages again: replay --dead | MESSAGE_ID..."},
    {"backup", cmd_backup_run, "copy the store while the engine runs: backup [-c FILE] DEST"},
    {"rekey", cmd_rekey_run, "seal the store's values anew with the newest encryption key"},
    {"parse", cmd_parse_run, "print HL7v2 messages as JSON, or values with --get PATH"},
    {"convert", cmd_convert_run, "print HL7v2 messages as FHIR R4 transaction Bundles"},
    {"check-config", cmd_check_run, "validate the configuration file: check-config [-c FILE]"},
    {"route", cmd_route_run, "show the route each message takes: route [-c FILE] FILE..."},
    {"bench", cmd_bench_run, "measure throughput: bench parse|convert DIR"},
};

static int usage(FILE *to)
{
    fputs("usage: solent COMMAND [OPTIONS] [ARGS]\n\ncommands:\n", to);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(to, "  %-13s %s\n", commands[i].name, commands[i].summary);
    fputs("\nsolent COMMAND --help describes one command.\n", to);
    return to == stdout ? 0 : 2;
}

static const struct command *find(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(name, commands[i].name) == 0)
            return &commands[i];
    return NULL;
}

/* `solent help COMMAND`, `solent COMMAND -h`: the command's own --help (usage on stdout). */
static int help(const struct command *c)
{
    char *args[] = {(char *)c->name, "--help", NULL};
    return c->run(2, args);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    bool asks_help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
                     strcmp(argv[1], "help") == 0;
    if (asks_help && argc >= 3 && find(argv[2]))
        return help(find(argv[2]));
    if (asks_help && argc >= 3) {
        fprintf(stderr, "solent: unknown command '%s'\n", argv[2]);
        return usage(stderr);
    }
    if (asks_help)
        return usage(stdout);
    if (strcmp(argv[1], "--version") == 0)
        return puts("solent " SOLENT_VERSION) == EOF;
    const struct command *c = find(argv[1]);
    if (!c) {
        fprintf(stderr, "solent: unknown command '%s'\n", argv[1]);
        return usage(stderr);
    }
    if (argc >= 3 && (strcmp(argv[2], "-h") == 0 || strcmp(argv[2], "--help") == 0))
        return help(c);
    return c->run(argc - 1, argv + 1);
}
