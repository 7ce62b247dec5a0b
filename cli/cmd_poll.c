/* cmd_poll.c - init, poll, serve and sources: the listening commands
 *
 * `poll` is one pass and `serve` is the same pass on a loop; both print one
 * line per polled source so a cron job or a person can see what happened.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/ingest.h"
#include "earshot/source.h"

struct report_out {
    FILE *out;
    size_t failed; /* sources whose poll failed */
};

static void print_report(const struct es_ingest_report *r, void *payload)
{
    struct report_out *ro = payload;
    FILE *out = ro->out;
    if (r->status < 0 && r->status != ES_EUNCHANGED)
        ro->failed++;
    if (r->status == ES_EUNCHANGED)
        fprintf(out, "%s: unchanged (not modified)\n", r->source);
    else if (r->status < 0) /* on stderr: `poll >/dev/null` in cron */
        fprintf(stderr, "%s: error: %s\n", r->source,
                r->error ? r->error : es_error_name(r->status));
    else
        fprintf(out, "%s: %zu new, %zu updated, %zu unchanged%s%s\n", r->source,
                r->nnew, r->nupdated, r->nunchanged,
                r->error ? "; recovered from: " : "", r->error ? r->error : "");
}

int cmd_init(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] =
        "usage: earshot init\n"
        "Creates the database (or upgrades its schema) and prints where the\n"
        "config, the data folder and the database are.\n";
    const char *args[1];
    int nargs;
    int rc = es_cli_parse_opts(argc, argv, NULL, args, 0, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    /* Check the config too when there is one, so that a broken file is
     * found now rather than by `serve`. */
    const char *dd = es_ctx_data_dir(ctx);
    if ((ctx->config_path || getenv("EARSHOT_CONFIG") || dd) &&
        !es_ctx_config(ctx))
        return ES_EXIT_FAIL;
    struct es_inbox *ib = es_ctx_inbox(ctx);
    if (!ib)
        return ES_EXIT_FAIL;
    printf("database: %s (schema version %d, %lld mentions)\n",
           ctx->found_db_path, es_inbox_schema_version(ib), es_inbox_count(ib));
    printf("data dir: %s\n", dd ? dd : "(none found)");
    printf("sources:  %zu configured\n",
           ctx->cfg ? es_config_source_count(ctx->cfg) : (size_t)0);
    return ES_EXIT_OK;
}

/* Opens config, inbox, the scorer (the lexicon, loaded once) and the
 * sources for poll and serve. The caller frees *sc after the result. */
static struct es_ingest *open_ingest(struct es_ctx *ctx, struct es_scorer **sc)
{
    *sc = NULL;
    struct es_config *cfg = es_ctx_config(ctx);
    if (!cfg)
        return NULL;
    /* The lexicon first: without it nothing is stored, so a database
     * should not be created either. */
    if (es_scorer_open(sc, cfg, es_ctx_data_dir(ctx)) < 0) {
        es_cli_fail("%s", es_error_last());
        return NULL;
    }
    struct es_inbox *ib = es_ctx_inbox(ctx);
    struct es_ingest *ig = NULL;
    if (!ib || es_ingest_open(&ig, cfg, ib, *sc) < 0) {
        /* A failed es_ctx_inbox() has printed its error already. */
        if (ib)
            es_cli_fail("%s", es_error_last());
        es_scorer_free(*sc);
        *sc = NULL;
        return NULL;
    }
    return ig;
}

int cmd_poll(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] =
        "usage: earshot poll [--source NAME] [--all]\n"
        "One pass over the sources that are due (all enabled ones with\n"
        "--all, or just NAME, due or not), then exit. Prints a line per\n"
        "source: new, updated and unchanged counts, or the error. Every\n"
        "mention is stored with its sentiment and priority. Exit 1 when any\n"
        "polled source failed (the others are stored all the same). Then\n"
        "evaluates the [alert] rules (see `earshot alerts check`).\n";
    const char *source = NULL, *all = NULL;
    const struct es_opt opts[] = {
        { "source", 1, &source },
        { "all", 0, &all },
        { NULL, 0, NULL },
    };
    const char *args[1];
    int nargs;
    int rc = es_cli_parse_opts(argc, argv, opts, args, 0, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    struct es_scorer *sc;
    struct es_ingest *ig = open_ingest(ctx, &sc);
    if (!ig)
        return ES_EXIT_FAIL;
    size_t n = 0;
    struct report_out ro = { stdout, 0 };
    rc = es_ingest_poll(ig, all ? ES_INGEST_ALL : 0, source, print_report, &ro,
                        &n);
    /* The lines went out buffered (a write each cost more than the
     * line): out they go before anything is said on stderr. */
    fflush(stdout);
    es_ingest_free(ig);
    es_scorer_free(sc);
    if (rc == ES_ENOTFOUND && source) {
        /* A name the config does not hold is a typo on the command
         * line, as `inbox --source` has it. */
        es_cli_fail("%s", es_error_last());
        return ES_EXIT_USAGE;
    }
    if (rc < 0)
        return es_cli_fail("%s", es_error_last());
    if (n == 0 && (all || source))
        fprintf(stderr, "no source to poll: the config has no enabled "
                        "[source] section\n");
    else if (n == 0)
        fprintf(stderr, "no source is due (use --all to poll every one)\n");
    /* Then the spike rules, as `earshot alerts check` does: a cron job
     * running poll gets its alerts too. A rule that fails is said on
     * stderr; the poll's own status stands. */
    es_cli_alerts_check(ctx, stdout);
    /* A cron job must see a failing source; the others were stored. */
    return ro.failed ? ES_EXIT_FAIL : ES_EXIT_OK;
}

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

int cmd_serve(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] =
        "usage: earshot serve\n"
        "Polls every enabled source on its schedule until SIGINT or SIGTERM,\n"
        "and on the same loop sends the replies due in the outbox and\n"
        "forwards new tickets to the [helpdesk] (what `earshot send` does)\n"
        "and evaluates the [alert] rules on the buckets that closed;\n"
        "a signal lets the pass in hand finish, then exits 0. The lexicon and\n"
        "the [priority] settings are read once, at start: restart serve after\n"
        "changing them (and run `earshot rescore` for the stored mentions).\n";
    const char *args[1];
    int nargs;
    int rc = es_cli_parse_opts(argc, argv, NULL, args, 0, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    struct es_scorer *sc;
    struct es_ingest *ig = open_ingest(ctx, &sc);
    if (!ig)
        return ES_EXIT_FAIL;

    /* No SA_RESTART: the sleep below must wake up on a signal. */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    fprintf(stderr, "earshot: serving %zu sources from '%s' (Ctrl-C stops)\n",
            es_config_source_count(ctx->cfg), ctx->found_db_path);
    rc = ES_EXIT_OK;
    while (!stop_requested) {
        struct report_out ro = { stderr, 0 };
        if (es_ingest_poll(ig, 0, NULL, print_report, &ro, NULL) < 0) {
            /* The store failed: say so and try again next round rather
             * than dropping every source. */
            fprintf(stderr, "error: %s\n", es_error_last());
        }
        /* The outbox's replies that are due go out on the same loop. */
        es_cli_send_pass(ctx, stderr, 1);
        /* Spike rules judge the buckets that closed (cheap when none did);
         * their notifications are queued for the notifier. */
        es_cli_alerts_check(ctx, stderr);
        int64_t next = es_ingest_next_due(ig);
        int64_t now = es_time_now();
        int64_t wait = next == ES_TIME_UNKNOWN ? 60 : next - now;
        if (wait < 1)
            wait = 1;
        if (wait > 60)
            wait = 60;
        for (int64_t s = 0; s < wait && !stop_requested; s++) {
            struct timespec ts = { 1, 0 };
            nanosleep(&ts, NULL);
        }
    }
    fprintf(stderr, "earshot: stopped\n");
    es_ingest_free(ig);
    es_scorer_free(sc);
    return rc;
}

struct sources_out {
    struct es_ctx *ctx;
    int json;
    int first;
    struct es_buf buf;
};

static int print_health(const struct es_source_health *h, void *payload)
{
    struct sources_out *so = payload;
    const struct es_config_source *cs =
        es_config_source_find(so->ctx->cfg, h->name);
    char t1[21], t2[21];
    const char *enabled = !cs ? "removed" : cs->enabled ? "yes" : "no";
    if (so->json) {
        struct es_buf *b = &so->buf;
        es_buf_reset(b);
        es_buf_adds(b, so->first ? "[\n{" : ",\n{");
        so->first = 0;
        es_json_key_str(b, "name", h->name);
        es_buf_addch(b, ',');
        es_json_key_str(b, "type", h->type);
        es_buf_addch(b, ',');
        es_json_key_str(b, "enabled", enabled);
        es_buf_addch(b, ',');
        es_json_key_time(b, "last_success", h->last_success);
        es_buf_addch(b, ',');
        es_json_key_time(b, "next_poll", h->next_poll);
        es_buf_addf(b, ",\"failures\":%d,\"mentions\":%lld,", h->failures,
                    h->mentions);
        es_json_key_str(b, "last_error", h->last_error);
        es_buf_addch(b, ',');
        /* Where an API kind resumes: a platform id or time, never a
         * credential. */
        es_json_key_str(b, "cursor", h->cursor);
        es_buf_addch(b, '}');
        es_cli_write(b->ptr, b->len);
        return 0;
    }
    printf("%-20s %-10s %-7s %-20s %-20s %4d %8lld  %s\n", h->name,
           h->type ? h->type : "-", enabled,
           es_cli_fmt_time(h->last_success, t1, "never"),
           es_cli_fmt_time(h->next_poll, t2, "now"), h->failures, h->mentions,
           h->last_error ? h->last_error : "");
    return 0;
}

int cmd_sources(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] =
        "usage: earshot sources [--json]\n"
        "The health of every source: last success, next poll, consecutive\n"
        "failures, stored mentions and the last error.\n";
    const char *json = NULL;
    const struct es_opt opts[] = { { "json", 0, &json }, { NULL, 0, NULL } };
    const char *args[1];
    int nargs;
    int rc = es_cli_parse_opts(argc, argv, opts, args, 0, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    struct es_config *cfg = es_ctx_config(ctx);
    struct es_inbox *ib = cfg ? es_ctx_inbox(ctx) : NULL;
    if (!ib)
        return ES_EXIT_FAIL;
    /* Sources in the config that were never polled get a row too, all
     * in one transaction. */
    rc = es_inbox_begin(ib);
    for (size_t i = 0; rc == 0 && i < es_config_source_count(cfg); i++) {
        const struct es_config_source *cs = es_config_source_at(cfg, i);
        rc = es_inbox_source_ensure(ib, cs->name, cs->type, NULL);
    }
    if (rc == 0)
        rc = es_inbox_commit(ib);
    if (rc < 0) {
        es_inbox_rollback(ib);
        return es_cli_fail("%s", es_error_last());
    }
    struct sources_out so = { ctx, json != NULL, 1, ES_BUF_INIT };
    if (!so.json)
        printf("%-20s %-10s %-7s %-20s %-20s %4s %8s  %s\n", "SOURCE", "TYPE",
               "ENABLED", "LAST SUCCESS", "NEXT POLL", "FAIL", "MENTIONS",
               "LAST ERROR");
    rc = es_inbox_health_each(ib, print_health, &so);
    if (so.json)
        fputs(so.first ? "[]\n" : "\n]\n", stdout);
    es_buf_release(&so.buf);
    if (rc < 0)
        return es_cli_fail("%s", es_error_last());
    return ES_EXIT_OK;
}
