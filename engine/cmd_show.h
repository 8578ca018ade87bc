/* cmd_show — `solent show ID [--content]`: one message as the admin API shows it; `solent
 * audit`: who read what content. */
#ifndef SOLENT_ENGINE_CMD_SHOW_H
#define SOLENT_ENGINE_CMD_SHOW_H

/* `solent show`: 0, 1 when there is no such message or the store cannot be read, 2 for
 * usage. */
int cmd_show_run(int argc, char **argv);
/* `solent audit`: 0, 1 when the store cannot be read, 2 for usage. */
int cmd_audit_run(int argc, char **argv);

#endif
