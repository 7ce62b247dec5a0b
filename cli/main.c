/* main.c - earshot's entry point and command table
 *
 * Global options come before the command (`earshot --db x.db inbox`), as in
 * git; each command parses its own options. Libraries with global state
 * (libcurl, libxml2) are initialised here, once, before any thread starts,
 * and only for the commands that use them: `classify` is a filter timed
 * in texts per second, and curl_global_init alone (OpenSSL reading its
 * config) costs it as many instructions as a few hundred texts.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libxml/parser.h>

#include "cli.h"
#include "earshot/alloc.h"
#include "earshot/error.h"

/* What a command needs initialised before it runs: bits of cmd.needs. */
enum cmd_needs {
    CMD_NEEDS_CURL = 1 << 0, /* curl_global_init: fetches over HTTP */
    CMD_NEEDS_XML = 1 << 1,  /* xmlInitParser: parses feeds or HTML */
    CMD_READS = 1 << 2,      /* only reads the database: never creates it */
};

#define CMD_NEEDS_LIBS (CMD_NEEDS_CURL | CMD_NEEDS_XML)

struct cmd {
    const char *name;
    int (*fn)(int argc, char **argv, struct es_ctx *ctx);
    const char *summary;
    unsigned needs; /* enum cmd_needs */
};

static const struct cmd commands[] = {
    { "init", cmd_init, "create the database and show where things are",
      CMD_NEEDS_LIBS },
    { "serve", cmd_serve, "poll every source on its schedule until stopped",
      CMD_NEEDS_LIBS },
    { "poll", cmd_poll, "one pass over due sources, then exit",
      CMD_NEEDS_LIBS },
    { "sources", cmd_sources, "the health of every source",
      CMD_NEEDS_LIBS | CMD_READS },
    { "inbox", cmd_inbox, "list mentions", CMD_READS },
    { "show", cmd_show, "one mention in full", CMD_READS },
    { "parse", cmd_parse, "parse a document and print JSON Lines (no database)",
      CMD_NEEDS_LIBS },
    { "ingest", cmd_ingest, "store the entries of a local feed document",
      CMD_NEEDS_LIBS },
    { "import", cmd_import, "store JSON Lines mentions (earshot parse format)",
      0 },
    { "classify", cmd_classify, "sentiment score of each stdin line", 0 },
    { "rescore", cmd_rescore, "score stored mentions again", 0 },
    { "ticket", cmd_ticket, "open or work a private ticket", CMD_NEEDS_CURL },
    { "tickets", cmd_tickets, "list tickets", CMD_READS },
    { "metrics", cmd_metrics, "response times, backlog and SLA breaches",
      CMD_READS },
    { "stats", cmd_stats, "mentions per hour or day by sentiment; --svg chart",
      0 },
    { "alerts", cmd_alerts, "spike alerts: list, backtest RULE, check", 0 },
    { "audit", cmd_audit, "who did what, when: the audit log", CMD_READS },
    { "state", cmd_state, "move mentions to a state (one, or --bulk)", 0 },
    { "assign", cmd_assign, "assign a mention to an agent", 0 },
    { "unassign", cmd_unassign, "leave a mention unassigned", 0 },
    { "note", cmd_note, "add an internal note to a mention", 0 },
    { "tag", cmd_tag, "tag a mention", 0 },
    { "untag", cmd_untag, "remove tags from a mention", 0 },
    { "thread", cmd_thread, "the conversation around a mention", CMD_READS },
    { "canned", cmd_canned, "canned replies: add, list, show, rm", 0 },
    { "agent", cmd_agent, "agents: add, list, disable, enable", 0 },
    { "reply", cmd_reply, "queue a public reply (or private message)", 0 },
    { "outbox", cmd_outbox, "the replies and their states; resolve", 0 },
    { "send", cmd_send, "deliver the replies that are due, then exit",
      CMD_NEEDS_CURL },
    { "notify", cmd_notify, "send a test alert through a [notify] channel",
      CMD_NEEDS_CURL },
};

static void usage(FILE *out)
{
    fprintf(out, "usage: earshot [--config FILE] [--db FILE] [--data-dir DIR] "
                 "[--as AGENT] [--] COMMAND [ARGS]\n"
                 "       earshot --help | --version\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'earshot COMMAND --help' (or 'earshot help COMMAND') "
                 "describes a command.\n"
                 "Exit status: 0 success, 1 failure, 2 usage error.\n");
}

/* ==== Config and database ==== */

struct es_config *es_ctx_config(struct es_ctx *ctx)
{
    if (ctx->cfg)
        return ctx->cfg;
    const char *path = ctx->config_path;
    char *found = NULL;
    if (!path)
        path = getenv("EARSHOT_CONFIG");
    if (!path || !*path) {
        const char *dd = es_ctx_data_dir(ctx);
        if (!dd) {
            es_cli_fail("no config found: pass --config FILE or set "
                        "EARSHOT_CONFIG");
            return NULL;
        }
        path = found = es_xasprintf("%s/earshot.conf", dd);
    }
    if (es_config_load(&ctx->cfg, path) < 0) {
        es_cli_fail("%s", es_error_last());
        ctx->cfg = NULL;
    } else {
        ctx->cfg_data_dir = es_config_data_dir(ctx->cfg);
    }
    free(found);
    return ctx->cfg;
}

/* $XDG_DATA_HOME/earshot/earshot.db, the default home of the database when
 * neither --db nor the config names one. */
static char *default_db_path(void)
{
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    char *dir;
    if (xdg && *xdg)
        dir = es_xasprintf("%s/earshot", xdg);
    else if (home && *home)
        dir = es_xasprintf("%s/.local/share/earshot", home);
    else
        return es_xstrdup("earshot.db");
    /* mkdir -p: on a fresh account even ~/.local may be missing. Errors
     * other than "exists" surface when SQLite opens the file. */
    for (char *slash = strchr(dir + 1, '/'); slash;
         slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        mkdir(dir, 0755);
        *slash = '/';
    }
    mkdir(dir, 0755);
    char *p = es_xasprintf("%s/earshot.db", dir);
    free(dir);
    return p;
}

struct es_inbox *es_ctx_inbox(struct es_ctx *ctx)
{
    if (ctx->ib)
        return ctx->ib;
    const char *path = ctx->db_path;
    if (!path)
        path = getenv("EARSHOT_DB");
    if (!path || !*path) {
        struct es_config *cfg = es_ctx_config(ctx);
        if (!cfg)
            return NULL;
        path = es_config_database(cfg);
    }
    if (!path || !*path)
        path = ctx->found_db_path = default_db_path();
    /* A command that only reads does not make a database: a mistyped
     * --db would look like an empty inbox, and leave a file behind. */
    if (ctx->no_create && strcmp(path, ":memory:") != 0 &&
        access(path, F_OK) != 0) {
        es_cli_fail("no database at '%s' (`earshot init` creates it; "
                    "`earshot poll` and `serve` fill it)",
                    path);
        return NULL;
    }
    if (es_inbox_open(&ctx->ib, path) < 0) {
        /* SQLite says "unable to open database file" for a folder that is
         * not there: say which. */
        char *dir = es_xstrdup(path);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir)
            *slash = '\0';
        struct stat st;
        if (slash && slash != dir && stat(dir, &st) != 0)
            es_cli_fail("%s (the folder '%s' does not exist)", es_error_last(),
                        dir);
        else if (strstr(es_error_last(), "readonly"))
            /* WAL: even a reader writes the -shm and -wal files beside
             * the database. */
            es_cli_fail("%s (earshot needs to write in the database's "
                        "folder, even to read: its -wal and -shm files "
                        "live there)",
                        es_error_last());
        else
            es_cli_fail("%s", es_error_last());
        free(dir);
        ctx->ib = NULL;
        return NULL;
    }
    if (!ctx->found_db_path)
        ctx->found_db_path = es_xstrdup(path);
    return ctx->ib;
}

/* ==== main ==== */

int main(int argc, char **argv)
{
    struct es_ctx ctx = { 0 };
    int i = 1;
    int rc;

    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) { /* the end of the global options */
            i++;
            break;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return ES_EXIT_OK;
        }
        if (strcmp(a, "--version") == 0) {
            printf("earshot %s\n", ES_VERSION);
            return ES_EXIT_OK;
        }
        const char **slot = es_cli_global_slot(&ctx, a);
        const char *val = NULL;
        if (!slot) {
            fprintf(stderr,
                    "error: unknown option '%.*s' (options of a command go "
                    "after it: 'earshot help COMMAND')\n",
                    ES_CLIP(a));
            return ES_EXIT_USAGE;
        }
        val = strchr(a, '=');
        if (val) {
            val++;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            fprintf(stderr, "error: option '%.*s' needs a value\n", ES_CLIP(a));
            return ES_EXIT_USAGE;
        }
        *slot = val;
    }
    if (i >= argc) {
        usage(stderr);
        return ES_EXIT_USAGE;
    }
    /* "earshot help inbox" is "earshot inbox --help". */
    static char help_opt[] = "--help";
    char *help_argv[3];
    if (strcmp(argv[i], "help") == 0) {
        if (i + 1 >= argc) {
            usage(stdout);
            return ES_EXIT_OK;
        }
        help_argv[0] = argv[i + 1];
        help_argv[1] = help_opt;
        help_argv[2] = NULL;
        argv = help_argv;
        argc = 2;
        i = 0;
    }
    const struct cmd *cmd = NULL;
    for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
        if (strcmp(commands[k].name, argv[i]) == 0)
            cmd = &commands[k];
    if (strcmp(argv[i], "help") == 0) {
        usage(stdout);
        return ES_EXIT_OK;
    }
    if (strcmp(argv[i], "version") == 0) {
        printf("earshot %s\n", ES_VERSION);
        return ES_EXIT_OK;
    }
    if (!cmd) {
        fprintf(stderr, "error: unknown command '%.*s'\n", ES_CLIP(argv[i]));
        usage(stderr);
        return ES_EXIT_USAGE;
    }

    if (cmd->needs & CMD_NEEDS_CURL)
        curl_global_init(CURL_GLOBAL_DEFAULT);
    if (cmd->needs & CMD_NEEDS_XML)
        xmlInitParser();
    ctx.no_create = (cmd->needs & CMD_READS) != 0;
    rc = cmd->fn(argc - i, argv + i, &ctx);
    es_inbox_free(ctx.ib);
    es_config_free(ctx.cfg);
    free(ctx.found_data_dir);
    free(ctx.found_db_path);
    if (cmd->needs & CMD_NEEDS_XML)
        xmlCleanupParser();
    if (cmd->needs & CMD_NEEDS_CURL)
        curl_global_cleanup();
    return rc;
}

const char *es_ctx_agent(struct es_ctx *ctx)
{
    if (ctx->as_agent && *ctx->as_agent)
        return ctx->as_agent;
    struct es_config *cfg = es_ctx_config(ctx);
    const char *name = cfg ? es_config_agent(cfg) : NULL;
    if (!name || !*name) {
        if (cfg) {
            ctx->no_agent = 1;
            es_cli_fail("who is acting? give --as AGENT (or set agent = NAME "
                        "in [earshot] of the config)");
        }
        return NULL;
    }
    return name;
}

int es_ctx_agent_exit(const struct es_ctx *ctx)
{
    return ctx->no_agent ? ES_EXIT_USAGE : ES_EXIT_FAIL;
}
