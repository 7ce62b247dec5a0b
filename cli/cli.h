/* cli.h - shared state and helpers of the earshot command line
 *
 * Every command handler gets a struct es_ctx holding the global options;
 * the config and the inbox are opened lazily, only by commands that need
 * them, so `earshot parse` works with no config and no database.
 */
#ifndef EARSHOT_CLI_H
#define EARSHOT_CLI_H

#include <stdio.h>

#include "earshot/buf.h"
#include "earshot/config.h"
#include "earshot/inbox.h"
#include "earshot/item.h"

/* Exit statuses: the contract other tools rely on. */
enum { ES_EXIT_OK = 0, ES_EXIT_FAIL = 1, ES_EXIT_USAGE = 2 };

struct es_ctx {
    const char *config_path;  /* --config, or NULL: look it up */
    const char *db_path;      /* --db, or NULL: from config */
    const char *data_dir;     /* --data-dir, or NULL: look it up */
    const char *as_agent;     /* --as, or NULL: [earshot] agent */
    struct es_config *cfg;    /* owned, lazily loaded */
    const char *cfg_data_dir; /* the config's data_dir, borrowed from cfg */
    struct es_inbox *ib;      /* owned, lazily opened */
    char *found_data_dir;     /* owned */
    char *found_db_path;      /* owned */
    int no_create;            /* the command only reads: no new database */
    int no_agent;             /* es_ctx_agent() found no --as and no agent */
};

/* Loads the config (once). Prints the error and returns NULL on failure. */
struct es_config *es_ctx_config(struct es_ctx *ctx);
/* Opens the inbox (once), creating the database. Prints the error and
 * returns NULL on failure. */
struct es_inbox *es_ctx_inbox(struct es_ctx *ctx);
/* The folder holding earshot.conf, samples/ and lexicons/: --data-dir, the
 * config's data_dir, $EARSHOT_DATA_DIR, the install prefix of the running
 * binary, the compiled-in install dir, then the source tree. NULL when
 * none exists. */
const char *es_ctx_data_dir(struct es_ctx *ctx);
/* The agent the command acts as: --as, else [earshot] agent. Prints the
 * error and returns NULL when neither is set (or the config fails). The
 * caller still checks that the agent exists and may do what it asks
 * (es_agent_check). */
const char *es_ctx_agent(struct es_ctx *ctx);
/* The exit status after es_ctx_agent() returned NULL: ES_EXIT_USAGE when
 * the command line lacked --as (and the config names no agent), since the
 * remedy is an option; ES_EXIT_FAIL when the config itself failed. */
int es_ctx_agent_exit(const struct es_ctx *ctx);

/* Where global option @a ("--db" or "--db=x.db") is kept in @ctx, or
 * NULL when @a is not one (cli/common.c). */
const char **es_cli_global_slot(struct es_ctx *ctx, const char *a);
/* Whether the user named a config: --config, or $EARSHOT_CONFIG. */
int es_cli_config_given(const struct es_ctx *ctx);
/* The folder of the running executable, or NULL. Free it. */
char *es_cli_exe_dir(void);

/* Command-line option parsing shared by the handlers: a small table so
 * that every command accepts `--opt VALUE`, `--opt=VALUE` and `--help`. */
struct es_opt {
    const char *name;   /* "limit" for --limit */
    int takes_value;    /* 1: --name VALUE */
    const char **value; /* set to the value (or "1" for a flag) */
};

/* Parses @argv[1..] against @opts. Non-option words go to @args (up to
 * @maxargs, count in *nargs). Returns 0; ES_EXIT_USAGE after printing a
 * message; or -1 after printing @usage for --help (the command then exits
 * 0): `if (rc) return rc < 0 ? ES_EXIT_OK : rc;`. */
int es_cli_parse_opts(int argc, char **argv, const struct es_opt *opts,
                      const char **args, int maxargs, int *nargs,
                      const char *usage);

/* Parses the value of option --@name as a whole number from 1 to @max
 * into *out. Returns 0, or -1 after printing what is wrong. */
int es_cli_parse_count(const char *name, const char *value, int max, int *out);

/* Parses @s as an id: a whole number above 0 (a mention, a ticket, a
 * reply, a conversation version) into *out. Returns 0, or -1 when @s is
 * NULL or not one; prints nothing, since each command words the problem
 * its own way. */
int es_cli_parse_id(const char *s, int64_t *out);

/* Writes the @len bytes at @s to stdout with every control character but
 * tab and line feed (C0, DEL, and C1 as UTF-8 encodes it) shown as
 * U+FFFD: what people post reaches an agent's terminal, and an escape
 * sequence in it could clear the screen, retitle the window or hide
 * text. JSON output needs none of it (its strings escape them). */
void es_cli_write(const char *s, size_t len);

/* Prints "error: MESSAGE", then @usage, to stderr and returns
 * ES_EXIT_USAGE: a command line that lacks something says what. */
int es_cli_usage_error(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* How many bytes of @s "%.*s" should print to show at most @max bytes
 * of it without cutting a UTF-8 character in two: what a user typed,
 * echoed in an error, is kept to a line or so. */
int es_cli_clip(const char *s, int max);
/* The precision and the argument for "'%.*s'": ES_CLIP(arg). */
#define ES_CLIP(s) es_cli_clip((s), 200), (s)

/* Prints "error: MESSAGE" to stderr and returns ES_EXIT_FAIL. */
int es_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints this thread's last error after a library call that took the
 * command line's words as they were (a tag, a note, a canned reply's
 * name or text) and failed with @rc: ES_EXIT_USAGE when the words were
 * refused (ES_EINVALID), else ES_EXIT_FAIL. Not for calls that also
 * refuse what the database holds with ES_EINVALID (a state move). */
int es_cli_fail_args(int rc);

/* Appends at most @max UTF-8 characters of @s (NULL: none) to @out, line
 * breaks and tabs turned into spaces, with "…" when cut: a one-line
 * glimpse of a text in a listing. */
void es_cli_add_snippet(struct es_buf *out, const char *s, size_t max);
/* Appends @s cut to @width characters and padded with spaces to @width:
 * a table column that never splits a character. */
void es_cli_add_column(struct es_buf *out, const char *s, size_t width);

/* Returns @t formatted by es_time_format() into @out, or @none (which may
 * be NULL) when @t is ES_TIME_UNKNOWN: a time that may not have happened
 * yet, in a listing. */
const char *es_cli_fmt_time(int64_t t, char out[static 21], const char *none);

/* Ends a listing written through a library each() call whose result is
 * @rc: with @json, closes the array @b holds (begun with '[', each element
 * added as ",\n{...}") and prints it unless @rc failed. Releases @b.
 * Returns ES_EXIT_OK, or ES_EXIT_FAIL after printing the library's
 * message when @rc < 0. */
int es_cli_list_end(struct es_buf *b, int json, int rc);

/* JSON output of items and mentions (cli/json.c). */
void es_json_item_fields(struct es_buf *out, const struct es_item *item);
void es_json_item(struct es_buf *out, const struct es_item *item);
void es_json_mention(struct es_buf *out, const struct es_mention *m);
void es_json_key_str(struct es_buf *out, const char *key, const char *val);
/* Appends "KEY":"TIME" (ISO 8601), or "KEY":null for ES_TIME_UNKNOWN. */
void es_json_key_time(struct es_buf *out, const char *key, int64_t t);

/* Command handlers. */
int cmd_init(int argc, char **argv, struct es_ctx *ctx);
int cmd_serve(int argc, char **argv, struct es_ctx *ctx);
int cmd_poll(int argc, char **argv, struct es_ctx *ctx);
int cmd_sources(int argc, char **argv, struct es_ctx *ctx);
int cmd_inbox(int argc, char **argv, struct es_ctx *ctx);
int cmd_show(int argc, char **argv, struct es_ctx *ctx);
int cmd_parse(int argc, char **argv, struct es_ctx *ctx);
int cmd_ingest(int argc, char **argv, struct es_ctx *ctx);
int cmd_classify(int argc, char **argv, struct es_ctx *ctx);
int cmd_rescore(int argc, char **argv, struct es_ctx *ctx);
int cmd_ticket(int argc, char **argv, struct es_ctx *ctx);
int cmd_tickets(int argc, char **argv, struct es_ctx *ctx);
int cmd_metrics(int argc, char **argv, struct es_ctx *ctx);
int cmd_stats(int argc, char **argv, struct es_ctx *ctx);
int cmd_import(int argc, char **argv, struct es_ctx *ctx);
int cmd_alerts(int argc, char **argv, struct es_ctx *ctx);
/* Evaluates the [alert] rules once (cmd_alerts.c), as `alerts check`
 * does: a line per alert fired or resolved on @out, errors on stderr.
 * Returns 0, or -1 when the config, the inbox or a rule failed. */
int es_cli_alerts_check(struct es_ctx *ctx, FILE *out);
int cmd_audit(int argc, char **argv, struct es_ctx *ctx);
int cmd_state(int argc, char **argv, struct es_ctx *ctx);
int cmd_assign(int argc, char **argv, struct es_ctx *ctx);
int cmd_unassign(int argc, char **argv, struct es_ctx *ctx);
int cmd_note(int argc, char **argv, struct es_ctx *ctx);
int cmd_tag(int argc, char **argv, struct es_ctx *ctx);
int cmd_untag(int argc, char **argv, struct es_ctx *ctx);
int cmd_thread(int argc, char **argv, struct es_ctx *ctx);
int cmd_canned(int argc, char **argv, struct es_ctx *ctx);
int cmd_agent(int argc, char **argv, struct es_ctx *ctx);
int cmd_reply(int argc, char **argv, struct es_ctx *ctx);
int cmd_outbox(int argc, char **argv, struct es_ctx *ctx);
int cmd_send(int argc, char **argv, struct es_ctx *ctx);
int cmd_notify(int argc, char **argv, struct es_ctx *ctx);
/* One sending pass over the outbox (cmd_reply.c): a line per reply on
 * @out. Returns the replies that failed or are unknown, or -1 after
 * printing an error; another sender at work is 0 (said on stderr unless
 * @quiet_busy). */
int es_cli_send_pass(struct es_ctx *ctx, FILE *out, int quiet_busy);

#endif
