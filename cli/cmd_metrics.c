/* cmd_metrics.c - `metrics` (response times, backlog, SLAs) and `audit`
 *
 * Both only read, so they need no agent. `metrics` prints one
 * es_metrics_compute() result three ways: tables for people, and
 * es_metrics_json()/es_metrics_csv() for scripts (the web page will use
 * the same calls). `audit` walks the audit log with es_audit_each() and
 * keeps the latest --limit rows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/metrics.h"
#include "earshot/workflow.h"

/* ==== Formatting for people ==== */

/* Writes @secs as at most two units, "45s", "27m 30s", "3h 5m", "2d 4h",
 * into @out; "-" when @known is 0. Returns @out. */
static char *fmt_dur(double secs, int known, char out[static 24])
{
    if (!known) {
        snprintf(out, 24, "-");
        return out;
    }
    long s = (long)(secs + 0.5);
    if (s < 0)
        s = 0;
    if (s < 60)
        snprintf(out, 24, "%lds", s);
    else if (s < 3600)
        snprintf(out, 24, s % 60 ? "%ldm %lds" : "%ldm", s / 60, s % 60);
    else if (s < 86400)
        snprintf(out, 24, s % 3600 / 60 ? "%ldh %ldm" : "%ldh", s / 3600,
                 s % 3600 / 60);
    else
        snprintf(out, 24, s % 86400 / 3600 ? "%ldd %ldh" : "%ldd", s / 86400,
                 s % 86400 / 3600);
    return out;
}

static void print_group(const struct es_metrics_group *g)
{
    char fm[24], fp[24], rm[24], rp[24];
    const struct es_metrics_stat *f = &g->first_response, *r = &g->resolution;
    printf("%-20s %6ld %8ld %11s %9s %8ld %10s %9s %5ld %7ld %8ld\n", g->name,
           g->conversations, g->responded, fmt_dur(f->median, f->n != 0, fm),
           fmt_dur(f->p90, f->n != 0, fp), g->resolved,
           fmt_dur(r->median, r->n != 0, rm), fmt_dur(r->p90, r->n != 0, rp),
           g->open, g->replies, g->breaches);
}

static const char *target_title(const char *target)
{
    if (strcmp(target, "negative_first_response") == 0)
        return "first response, negative";
    if (strcmp(target, "high_priority_first_response") == 0)
        return "first response, high priority";
    if (strcmp(target, "first_response") == 0)
        return "first response";
    return target;
}

/* The worst breaches the table shows; --json lists them all. */
#define WORST_SHOWN 5

static void print_tables(const struct es_metrics *m)
{
    char a[24], b[24], c[24], d[24], since[21], until[21];
    if (m->since != ES_TIME_UNKNOWN)
        es_time_format(m->since, since);
    else
        snprintf(since, sizeof(since), "the start");
    if (m->until != ES_TIME_UNKNOWN)
        es_time_format(m->until, until);
    else
        snprintf(until, sizeof(until), "now");
    printf("conversations whose first mention arrived from %s to %s\n\n", since,
           until);
    printf("%-20s %6s %8s %11s %9s %8s %10s %9s %5s %7s %8s\n",
           m->by == ES_METRICS_BY_NONE ? "" : es_metrics_by_name(m->by),
           "CONVS", "ANSWERED", "RESP MEDIAN", "RESP P90", "RESOLVED",
           "RES MEDIAN", "RES P90", "OPEN", "REPLIES", "BREACHES");
    for (size_t i = 0; i < m->ngroups; i++)
        print_group(&m->groups[i]);
    print_group(&m->total);

    printf("\nreplies sent, per agent\n");
    if (m->nagents == 0)
        printf("  none\n");
    else
        printf("  %-20s %7s %6s %7s %15s\n", "AGENT", "REPLIES", "PUBLIC",
               "PRIVATE", "FIRST RESPONSES");
    for (size_t i = 0; i < m->nagents; i++) {
        const struct es_metrics_agent *ag = &m->agents[i];
        printf("  %-20s %7ld %6ld %7ld %15ld\n", ag->agent, ag->replies,
               ag->public_replies, ag->replies - ag->public_replies,
               ag->first_responses);
    }

    printf("\nbacklog now: mentions waiting by priority, whatever their "
           "age\n  %-8s",
           "STATE");
    for (int band = 0; band < ES_METRICS_NBANDS; band++)
        printf(" %8s", es_metrics_band_name(band));
    printf(" %8s\n", "total");
    long col[ES_METRICS_NBANDS] = { 0 }, all = 0;
    for (int s = 0; s < ES_METRICS_NSTATES; s++) {
        long row = 0;
        printf("  %-8s", es_metrics_state_name(s));
        for (int band = 0; band < ES_METRICS_NBANDS; band++) {
            printf(" %8ld", m->backlog[s][band]);
            row += m->backlog[s][band];
            col[band] += m->backlog[s][band];
        }
        printf(" %8ld\n", row);
        all += row;
    }
    printf("  %-8s", "total");
    for (int band = 0; band < ES_METRICS_NBANDS; band++)
        printf(" %8ld", col[band]);
    printf(" %8ld\n", all);

    printf("\nSLA targets: first response %s, negative %s, priority %d+ %s; "
           "resolution %s\n",
           fmt_dur((double)m->sla.first_response, 1, a),
           fmt_dur((double)m->sla.negative_first_response, 1, b),
           m->sla.high_priority,
           fmt_dur((double)m->sla.high_priority_first_response, 1, c),
           fmt_dur((double)m->sla.resolution, 1, d));
    printf("breaches: %zu (%ld still open)\n", m->nbreaches, m->open_breaches);
    if (m->nbreaches == 0)
        return;
    printf("  %-8s %-16s %-30s %-6s %9s %9s %9s\n", "MENTION", "SOURCE",
           "TARGET", "STATUS", "WAITED", "OVER BY", "AGE");
    for (size_t i = 0; i < m->nbreaches && i < WORST_SHOWN; i++) {
        const struct es_metrics_breach *br = &m->breaches[i];
        printf("  %-8lld %-16.16s %-30s %-6s %9s %9s %9s\n",
               (long long)br->mention_id, br->source, target_title(br->target),
               br->open ? "open" : "late", fmt_dur((double)br->waited, 1, a),
               fmt_dur((double)br->over, 1, b), fmt_dur((double)br->age, 1, c));
    }
    if (m->nbreaches > WORST_SHOWN)
        printf("  ... and %zu more (--json lists them all)\n",
               m->nbreaches - WORST_SHOWN);
}

/* ==== metrics ==== */

int cmd_metrics(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] =
        "usage: earshot metrics [--since T] [--until T] [--by agent|source|day]\n"
        "                       [--json | --csv]\n"
        "Response metrics of the conversations whose first mention arrived\n"
        "in the window (default: the last 7 days): first response and\n"
        "resolution times (median and 90th percentile), replies per agent,\n"
        "SLA breaches against [sla] of the config, and the backlog now by\n"
        "state and priority band. T is an ISO 8601 date (2026-05-01,\n"
        "2026-05-01T09:00:00Z), now, or an age such as 90m, 24h, 7d, 2w.\n"
        "--by groups the conversations by the agent who answered first (or\n"
        "the assignee), the source of the first mention, or the UTC day it\n"
        "arrived. --json prints everything, --csv the group table. Clocks\n"
        "are defined in docs/metrics.md.\n";
    const char *since = NULL, *until = NULL, *by = NULL, *json = NULL,
               *csv = NULL;
    const struct es_opt opts[] = {
        { "since", 1, &since }, { "until", 1, &until }, { "by", 1, &by },
        { "json", 0, &json },   { "csv", 0, &csv },     { NULL, 0, NULL },
    };
    const char *args[1];
    int nargs;
    int rc = es_cli_parse_opts(argc, argv, opts, args, 0, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    if (json && csv) {
        fprintf(stderr, "error: --json and --csv exclude each other\n%s",
                usage);
        return ES_EXIT_USAGE;
    }
    struct es_metrics_query q = {
        .since = ES_TIME_UNKNOWN,
        .until = ES_TIME_UNKNOWN,
        .by = ES_METRICS_BY_NONE,
        .now = es_time_now(),
    };
    q.since = q.now - 7 * 86400;
    if ((since && es_metrics_parse_time(since, q.now, &q.since) < 0) ||
        (until && es_metrics_parse_time(until, q.now, &q.until) < 0) ||
        (by && es_metrics_by_parse(by, &q.by) < 0)) {
        fprintf(stderr, "error: %s\n", es_error_last());
        return ES_EXIT_USAGE;
    }
    if (q.until != ES_TIME_UNKNOWN && q.until <= q.since) {
        fprintf(stderr, "error: --until must come after --since\n");
        return ES_EXIT_USAGE;
    }
    struct es_config *cfg = es_ctx_config(ctx);
    if (!cfg)
        return ES_EXIT_FAIL;
    if (es_sla_from_config(cfg, &q.sla) < 0)
        return es_cli_fail("%s", es_error_last());
    struct es_inbox *ib = es_ctx_inbox(ctx);
    if (!ib)
        return ES_EXIT_FAIL;
    struct es_metrics m;
    if (es_metrics_compute(ib, &q, &m) < 0) {
        es_metrics_release(&m);
        return es_cli_fail("%s", es_error_last());
    }
    if (json || csv) {
        struct es_buf b = ES_BUF_INIT;
        if (json) {
            es_metrics_json(&m, &b);
            es_buf_addch(&b, '\n');
        } else {
            es_metrics_csv(&m, &b);
        }
        es_cli_write(b.ptr, b.len);
        es_buf_release(&b);
    } else {
        print_tables(&m);
    }
    es_metrics_release(&m);
    return ES_EXIT_OK;
}

/* ==== audit ==== */

struct audit_row {
    int64_t id, at;
    char *agent, *action, *object, *before, *after;
};

/* The latest @cap rows seen, in a ring. */
struct audit_ring {
    struct audit_row *rows;
    size_t cap, seen;
};

static char *dup_or_null(const char *s)
{
    return s ? es_xstrdup(s) : NULL;
}

static void row_release(struct audit_row *r)
{
    free(r->agent);
    free(r->action);
    free(r->object);
    free(r->before);
    free(r->after);
}

static int keep_row(const struct es_audit_entry *e, void *payload)
{
    struct audit_ring *ring = payload;
    struct audit_row *r = &ring->rows[ring->seen % ring->cap];
    if (ring->seen >= ring->cap)
        row_release(r);
    r->id = e->id;
    r->at = e->at;
    r->agent = dup_or_null(e->agent);
    r->action = dup_or_null(e->action);
    r->object = dup_or_null(e->object);
    r->before = dup_or_null(e->before);
    r->after = dup_or_null(e->after);
    ring->seen++;
    return 0;
}

int cmd_audit(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] =
        "usage: earshot audit [--since T] [--agent A] [--limit N] [--json]\n"
        "Lists the audit log, oldest first: when, who, what, on which object,\n"
        "and the value before and after. Shows the latest N rows (default\n"
        "50) at or after T (an ISO 8601 date, or an age such as 24h or 7d;\n"
        "default: all), by agent A when given.\n";
    const char *since = NULL, *agent = NULL, *limit = NULL, *json = NULL;
    const struct es_opt opts[] = {
        { "since", 1, &since }, { "agent", 1, &agent }, { "limit", 1, &limit },
        { "json", 0, &json },   { NULL, 0, NULL },
    };
    const char *args[1];
    int nargs;
    int rc = es_cli_parse_opts(argc, argv, opts, args, 0, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    int cap = 50;
    if (limit && es_cli_parse_count("limit", limit, 1000000, &cap) < 0)
        return ES_EXIT_USAGE;
    int64_t from = ES_TIME_UNKNOWN;
    if (since && es_metrics_parse_time(since, es_time_now(), &from) < 0) {
        fprintf(stderr, "error: %s\n", es_error_last());
        return ES_EXIT_USAGE;
    }
    struct es_inbox *ib = es_ctx_inbox(ctx);
    if (!ib)
        return ES_EXIT_FAIL;
    struct audit_ring ring = { es_xcalloc((size_t)cap, sizeof(*ring.rows)),
                               (size_t)cap, 0 };
    rc = es_audit_each(ib, from, agent, 0, keep_row, &ring);
    if (rc < 0) {
        rc = es_cli_fail("%s", es_error_last());
        goto done;
    }
    size_t n = ring.seen < ring.cap ? ring.seen : ring.cap;
    size_t first = ring.seen < ring.cap ? 0 : ring.seen % ring.cap;
    struct es_buf b = ES_BUF_INIT;
    if (json)
        es_buf_adds(&b, n ? "[\n" : "[]\n");
    else
        es_buf_addf(&b, "%-20s %-12s %-16s %-20s %s\n", "WHEN", "AGENT",
                    "ACTION", "OBJECT", "BEFORE -> AFTER");
    for (size_t k = 0; k < n; k++) {
        const struct audit_row *r = &ring.rows[(first + k) % ring.cap];
        char when[21];
        es_time_format(r->at, when);
        if (json) {
            es_buf_addf(&b, "{\"id\":%lld,", (long long)r->id);
            es_json_key_str(&b, "at", when);
            es_buf_addch(&b, ',');
            es_json_key_str(&b, "agent", r->agent);
            es_buf_addch(&b, ',');
            es_json_key_str(&b, "action", r->action);
            es_buf_addch(&b, ',');
            es_json_key_str(&b, "object", r->object);
            es_buf_addch(&b, ',');
            es_json_key_str(&b, "before", r->before);
            es_buf_addch(&b, ',');
            es_json_key_str(&b, "after", r->after);
            es_buf_adds(&b, k + 1 < n ? "},\n" : "}\n]\n");
        } else {
            es_buf_addf(&b, "%-20s %-12s %-16s %-20s ", when,
                        r->agent ? r->agent : "-", r->action ? r->action : "-",
                        r->object ? r->object : "-");
            es_cli_add_snippet(&b, r->before ? r->before : "-", 40);
            es_buf_adds(&b, " -> ");
            es_cli_add_snippet(&b, r->after ? r->after : "-", 40);
            es_buf_addch(&b, '\n');
        }
    }
    if (!json && ring.seen > n)
        es_buf_addf(&b, "(the latest %zu of %zu rows; --limit shows more)\n", n,
                    ring.seen);
    es_cli_write(b.ptr, b.len);
    es_buf_release(&b);
    rc = ES_EXIT_OK;
done:
    for (size_t k = 0; k < ring.cap && k < ring.seen; k++)
        row_release(&ring.rows[k]);
    free(ring.rows);
    return rc;
}
