/* cmd_alerts.c - `alerts`: the spike alerts, their backtest and a check
 *
 * `earshot alerts` lists what the rules raised (es_alerts_list), with the
 * explanation in a line or two for people and whole for scripts;
 * `alerts backtest RULE` replays the stored history through a rule
 * (es_alerts_backtest) to show what it would have raised, writing
 * nothing; `alerts check` evaluates every rule once, as `serve` does after
 * each poll pass, for those who run earshot from cron.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "collectors/json.h"
#include "earshot/alerts.h"
#include "earshot/error.h"
#include "earshot/metrics.h"

/* The config file's name for a message. */
static const char *config_name(const struct es_config *cfg)
{
    return es_config_file(cfg) ? es_config_file(cfg) : "the config";
}

/* Parses the value of option --@name (ISO 8601, "now" or an age such as
 * 7d, from @now) into *out. Returns 0, or ES_EXIT_USAGE after printing
 * what is wrong. */
static int parse_time_opt(const char *name, const char *value, int64_t now,
                          int64_t *out)
{
    if (value && es_metrics_parse_time(value, now, out) < 0) {
        fprintf(stderr, "error: --%s: %s\n", name, es_error_last());
        return ES_EXIT_USAGE;
    }
    return 0;
}

/* ==== Listing ==== */

struct list_out {
    int json;
    size_t n;
    struct es_buf buf;
};

static const char *bucket_name(int64_t secs)
{
    return secs == 300 ? "5m" : secs == 86400 ? "1d" : "1h";
}

/* Appends the first @max names of the [["name", n], ...] list @key of
 * @ex, "name n" each, comma-separated; returns how many. */
static size_t add_names(struct es_buf *b, yajl_val ex, const char *key,
                        size_t max, int counts)
{
    yajl_val list = es_json_get(ex, key);
    size_t shown = 0;
    for (size_t i = 0; i < es_json_len(list) && shown < max; i++) {
        yajl_val pair = es_json_at(list, i);
        yajl_val name = es_json_at(pair, 0), n = es_json_at(pair, 1);
        if (!YAJL_IS_STRING(name))
            continue;
        es_buf_adds(b, shown++ ? ", " : "");
        es_buf_adds(b, YAJL_GET_STRING(name));
        if (counts && YAJL_IS_INTEGER(n))
            es_buf_addf(b, " %lld", YAJL_GET_INTEGER(n));
    }
    return shown;
}

/* The explanation in one line: terms, sources, authors. */
static void print_why(const char *explanation)
{
    yajl_val ex = NULL;
    struct es_buf b = ES_BUF_INIT;
    if (!explanation ||
        es_json_parse(&ex, "explanation", explanation, strlen(explanation)) < 0)
        return;
    es_buf_adds(&b, "    terms: ");
    if (!add_names(&b, ex, "terms", 5, 0))
        es_buf_adds(&b, "-");
    es_buf_adds(&b, "; sources: ");
    if (!add_names(&b, ex, "sources", 3, 1))
        es_buf_adds(&b, "-");
    es_buf_adds(&b, "; authors: ");
    if (!add_names(&b, ex, "authors", 3, 1))
        es_buf_adds(&b, "-");
    es_buf_addch(&b, '\n');
    es_cli_write(b.ptr, b.len);
    yajl_val top = es_json_at(es_json_get(ex, "top_mentions"), 0);
    const char *text = es_json_str(top, "text");
    if (text) {
        /* One line of the top mention, cut to fit a terminal. */
        b.len = 0;
        es_buf_adds(&b, "    top: ");
        const char *author = es_json_str(top, "author");
        if (author)
            es_buf_addf(&b, "%s: ", author);
        /* Whole characters only, up to about 100 bytes. */
        size_t len = strlen(text), used = 0;
        while (used < len && used < 100) {
            unsigned long cp;
            size_t n = es_utf8_decode(text + used, len - used, &cp);
            if (n == 0)
                break;
            if (cp == '\n' || cp == '\t' || cp == '\r')
                es_buf_addch(&b, ' ');
            else
                es_buf_add(&b, text + used, n);
            used += n;
        }
        if (used < len)
            es_buf_adds(&b, "...");
        es_buf_addch(&b, '\n');
        es_cli_write(b.ptr, b.len);
    }
    es_buf_release(&b);
    es_json_free(ex);
}

static int list_one(const struct es_alert *a, void *payload)
{
    struct list_out *lo = payload;
    char s[21], e[21];
    if (lo->json) {
        struct es_buf *b = &lo->buf;
        es_buf_reset(b);
        es_buf_addf(b, "%s{\"id\":%lld,", lo->n ? "," : "", (long long)a->id);
        es_json_key_str(b, "rule", a->rule);
        es_buf_addf(b, ",\"bucket\":\"%s\",", bucket_name(a->bucket));
        es_json_key_str(b, "started_at", es_time_format(a->started_at, s));
        es_buf_addch(b, ',');
        es_json_key_time(b, "ended_at", a->ended_at);
        es_buf_addf(b,
                    ",\"state\":\"%s\",\"observed\":%ld,\"expected\":%.4g,"
                    "\"score\":%.4g,\"peak\":%ld,\"explanation\":",
                    a->firing ? "firing" : "resolved", a->observed, a->expected,
                    a->score, a->peak);
        /* Stored by the engine as JSON: passed through whole. */
        es_buf_adds(b, a->explanation ? a->explanation : "null");
        es_buf_addch(b, '}');
        es_cli_write(b->ptr, b->len);
    } else {
        printf("#%lld %s  %s .. %s  observed %ld, expected %.1f (score %.1f, "
               "peak %ld)\n",
               (long long)a->id, a->rule, es_time_format(a->started_at, s),
               es_cli_fmt_time(a->ended_at, e, "firing"), a->observed,
               a->expected, a->score, a->peak);
        print_why(a->explanation);
    }
    lo->n++;
    return 0;
}

static int alerts_list(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] =
        "usage: earshot alerts [--json] [--rule NAME] [--limit N]\n"
        "       earshot alerts backtest RULE [--since T] [--until T] "
        "[--json]\n"
        "       earshot alerts check [--now T]\n"
        "Lists the spike alerts the [alert] rules raised, newest first: the\n"
        "rule, the start and end (or \"firing\"), the observed count of the\n"
        "first bucket against the expected one, and why (the terms, sources\n"
        "and authors driving the spike, and its top mention); --json prints\n"
        "each alert with its whole explanation. Default --limit 20.\n"
        "`backtest` replays stored history through RULE as if it had been\n"
        "live, and prints the alerts it would have raised, notifying no one.\n"
        "`check` evaluates every rule on the buckets that closed (what\n"
        "`serve` and `poll` do after each pass), for cron.\n";
    const char *json = NULL, *rule = NULL, *limit_s = NULL;
    const struct es_opt opts[] = {
        { "json", 0, &json },
        { "rule", 1, &rule },
        { "limit", 1, &limit_s },
        { NULL, 0, NULL },
    };
    const char *args[1];
    int nargs, limit = 20;
    int rc = es_cli_parse_opts(argc, argv, opts, args, 0, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    if (limit_s && es_cli_parse_count("limit", limit_s, 1000000, &limit) < 0)
        return ES_EXIT_USAGE;
    struct es_inbox *ib = es_ctx_inbox(ctx);
    if (!ib)
        return ES_EXIT_FAIL;
    struct list_out lo = { json != NULL, 0, ES_BUF_INIT };
    if (lo.json)
        fputs("[", stdout);
    rc = es_alerts_list(ib, rule, limit, list_one, &lo);
    if (lo.json)
        fputs("]\n", stdout);
    else if (rc == 0 && lo.n == 0)
        fprintf(stderr, "no alerts%s%s%s\n", rule ? " for rule '" : "",
                rule ? rule : "", rule ? "'" : "");
    es_buf_release(&lo.buf);
    if (rc < 0)
        return es_cli_fail("%s", es_error_last());
    return ES_EXIT_OK;
}

/* ==== backtest ==== */

struct backtest_out {
    int json;
    size_t n;
};

static int backtest_one(const struct es_alert_span *sp, void *payload)
{
    struct backtest_out *bo = payload;
    char s[21], e[21];
    if (bo->json) {
        printf("%s{\"started_at\":\"%s\",\"ended_at\":", bo->n ? "," : "",
               es_time_format(sp->started_at, s));
        if (sp->ended_at == ES_TIME_UNKNOWN)
            printf("null");
        else
            printf("\"%s\"", es_time_format(sp->ended_at, e));
        printf(",\"buckets\":%zu,\"observed\":%ld,\"expected\":%.4g,"
               "\"score\":%.4g,\"peak\":%ld,\"baseline\":\"%s\"}",
               sp->buckets, sp->observed, sp->expected, sp->score, sp->peak,
               sp->level ? sp->level : "none");
    } else {
        printf("%-20s %-20s %8ld %9.1f %6.1f %6ld  %s\n",
               es_time_format(sp->started_at, s),
               es_cli_fmt_time(sp->ended_at, e, "firing"), sp->observed,
               sp->expected, sp->score, sp->peak,
               sp->level ? sp->level : "none");
    }
    bo->n++;
    return 0;
}

static int alerts_backtest(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] =
        "usage: earshot alerts backtest RULE [--since T] [--until T] "
        "[--json]\n"
        "Replays the stored mentions through [alert \"RULE\"] bucket by\n"
        "bucket, as if the rule had been live from the first stored mention\n"
        "with no alert and no cooldown, through the same detector, and\n"
        "prints each alert that would have started between --since and\n"
        "--until (ISO 8601, \"now\" or an age such as 7d; default: all the\n"
        "closed buckets): start, end (or \"firing\"), the first bucket's\n"
        "observed and expected counts and score, the peak, and the\n"
        "baseline it was judged on. Writes nothing and notifies no one; the\n"
        "same store gives the same output.\n";
    const char *since_s = NULL, *until_s = NULL, *json = NULL;
    const struct es_opt opts[] = {
        { "since", 1, &since_s },
        { "until", 1, &until_s },
        { "json", 0, &json },
        { NULL, 0, NULL },
    };
    const char *args[1];
    int nargs;
    int rc = es_cli_parse_opts(argc, argv, opts, args, 1, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    if (nargs != 1)
        return es_cli_usage_error(usage, "missing the RULE (an [alert] "
                                         "section of the config)");
    int64_t now = es_time_now(), since = ES_TIME_UNKNOWN, until = now;
    if ((rc = parse_time_opt("since", since_s, now, &since)) != 0 ||
        (rc = parse_time_opt("until", until_s, now, &until)) != 0)
        return rc;
    struct es_config *cfg = es_ctx_config(ctx);
    if (!cfg)
        return ES_EXIT_FAIL;
    struct es_alert_rule *rule = NULL;
    /* No [notify] check: a backtest notifies no one. */
    const struct es_config_source *sec =
        es_config_section_find(cfg, "alert", args[0]);
    if (!sec) { /* a name the config lacks: the command line's typo */
        es_cli_fail("no [alert \"%s\"] rule in '%s'", args[0],
                    config_name(cfg));
        return ES_EXIT_USAGE;
    }
    if (es_alert_rule_parse(&rule, NULL, sec) < 0)
        return es_cli_fail("%s", es_error_last());
    struct es_inbox *ib = es_ctx_inbox(ctx);
    if (!ib) {
        es_alert_rule_free(rule);
        return ES_EXIT_FAIL;
    }
    /* Only closed buckets: an open one is still filling. */
    int64_t closed = es_alert_closed_until(rule->p.bucket, now);
    if (until > closed)
        until = closed;
    struct backtest_out bo = { json != NULL, 0 };
    if (bo.json) {
        struct es_buf hb = ES_BUF_INIT;
        char u[21];
        es_buf_adds(&hb, "{\"rule\":");
        es_buf_add_json_str(&hb, rule->name, strlen(rule->name));
        es_buf_adds(&hb, ",\"series\":");
        es_buf_add_json_str(&hb, rule->series, strlen(rule->series));
        es_buf_addf(&hb,
                    ",\"bucket\":\"%s\",\"sensitivity\":%.4g,\"min_count\":%ld,"
                    "\"cooldown\":%lld,",
                    rule->bucket_name, rule->p.sensitivity, rule->p.min_count,
                    (long long)rule->p.cooldown);
        es_json_key_time(&hb, "since", since);
        es_buf_addf(&hb, ",\"until\":\"%s\",\"alerts\":[",
                    es_time_format(until, u));
        es_cli_write(hb.ptr, hb.len);
        es_buf_release(&hb);
    } else {
        printf("%-20s %-20s %8s %9s %6s %6s  %s\n", "START", "END", "OBSERVED",
               "EXPECTED", "SCORE", "PEAK", "BASELINE");
    }
    rc = es_alerts_backtest(ib, rule, since, until, backtest_one, &bo);
    if (bo.json)
        printf("]}\n");
    else if (rc == 0)
        fprintf(stderr, "%zu alerts from rule '%s' (%s buckets)\n", bo.n,
                rule->name, rule->bucket_name);
    es_alert_rule_free(rule);
    if (rc < 0)
        return es_cli_fail("%s", es_error_last());
    return ES_EXIT_OK;
}

/* ==== check ==== */

static void print_event(const struct es_alert_event *ev, void *payload)
{
    FILE *out = payload;
    char s[21], e[21];
    switch (ev->kind) {
    case ES_ALERT_FIRED:
        fprintf(out,
                "alert '%s': firing since %s: %ld observed, %.1f expected "
                "(score %.1f); %zu notifications queued\n",
                ev->rule, es_time_format(ev->started_at, s), ev->observed,
                ev->expected, ev->score, ev->queued);
        break;
    case ES_ALERT_RESOLVED:
        fprintf(out,
                "alert '%s': resolved: %s .. %s, peak %ld; %zu notifications "
                "queued\n",
                ev->rule, es_time_format(ev->started_at, s),
                es_time_format(ev->ended_at, e), ev->peak, ev->queued);
        break;
    case ES_ALERT_FAILED:
        fprintf(stderr, "error: alert '%s': %s\n", ev->rule,
                ev->error ? ev->error : "failed");
        break;
    }
    fflush(out);
}

int es_cli_alerts_check(struct es_ctx *ctx, FILE *out)
{
    struct es_config *cfg = es_ctx_config(ctx);
    if (!cfg)
        return -1;
    if (es_config_section_count(cfg, "alert") == 0)
        return 0;
    struct es_inbox *ib = es_ctx_inbox(ctx);
    if (!ib)
        return -1;
    return es_alerts_check(ib, cfg, es_time_now(), print_event, out) < 0 ? -1
                                                                         : 0;
}

static int alerts_check(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] =
        "usage: earshot alerts check [--now T]\n"
        "Evaluates every enabled [alert] rule on the buckets that closed\n"
        "since it last ran (what `serve` and `poll` do after each pass):\n"
        "opens, extends and resolves alerts, and queues their notifications\n"
        "for the [notify] channels. Prints a line per alert fired or\n"
        "resolved. --now evaluates as if it were T (for replays; a rule\n"
        "then waits until T before it evaluates again). Exit 1 when a rule\n"
        "could not be evaluated (the others are).\n";
    const char *now_s = NULL;
    const struct es_opt opts[] = {
        { "now", 1, &now_s },
        { NULL, 0, NULL },
    };
    const char *args[1];
    int nargs;
    int rc = es_cli_parse_opts(argc, argv, opts, args, 0, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    int64_t now = es_time_now();
    if ((rc = parse_time_opt("now", now_s, now, &now)) != 0)
        return rc;
    struct es_config *cfg = es_ctx_config(ctx);
    if (!cfg)
        return ES_EXIT_FAIL;
    size_t nrules = es_config_section_count(cfg, "alert");
    if (nrules == 0) {
        fprintf(stderr, "no [alert] rules in '%s'\n", config_name(cfg));
        return ES_EXIT_OK;
    }
    struct es_inbox *ib = es_ctx_inbox(ctx);
    if (!ib)
        return ES_EXIT_FAIL;
    rc = es_alerts_check(ib, cfg, now, print_event, stdout);
    return rc < 0 ? ES_EXIT_FAIL : ES_EXIT_OK;
}

int cmd_alerts(int argc, char **argv, struct es_ctx *ctx)
{
    if (argc > 1 && strcmp(argv[1], "backtest") == 0)
        return alerts_backtest(argc - 1, argv + 1, ctx);
    if (argc > 1 && strcmp(argv[1], "check") == 0)
        return alerts_check(argc - 1, argv + 1, ctx);
    return alerts_list(argc, argv, ctx);
}
