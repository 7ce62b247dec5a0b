/* cmd_stats.c - `stats`: mention volume and sentiment over time
 *
 * One es_stats_compute() result printed four ways: a table for people,
 * es_stats_json()/es_stats_csv() for scripts, and es_stats_svg() for a
 * chart to paste into a report. Only reads, so it needs no agent.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "earshot/error.h"
#include "earshot/metrics.h"
#include "earshot/stats.h"

/* ==== The table ==== */

/* "2024-05-10 14:00", or "2024-05-10" for whole days. */
static void fmt_start(int64_t t, long bucket, char out[static 21])
{
    char iso[21];
    es_time_format(t, iso);
    if (bucket % 86400 == 0)
        snprintf(out, 21, "%.10s", iso);
    else
        snprintf(out, 21, "%.10s %.5s", iso, iso + 11);
}

/* Appends @s padded or cut to @width characters (not bytes). */
static void add_cell(struct es_buf *b, const char *s, size_t width)
{
    size_t chars = 0;
    const char *p = s;
    for (; *p && chars < width; chars++) {
        p++;
        while (((unsigned char)*p & 0xC0) == 0x80)
            p++;
    }
    es_buf_add_valid_utf8(b, s, (size_t)(p - s));
    for (; chars < width; chars++)
        es_buf_addch(b, ' ');
}

static void add_figures(struct es_buf *b, const struct es_stats_cell *c)
{
    char net[16], neg[16];
    if (isnan(c->net))
        snprintf(net, sizeof(net), "-");
    else
        snprintf(net, sizeof(net), "%+.2f", c->net);
    if (isnan(c->share_negative))
        snprintf(neg, sizeof(neg), "-");
    else
        snprintf(neg, sizeof(neg), "%.0f%%", c->share_negative * 100);
    es_buf_addf(b, " %8ld %7ld %7ld %7ld %8ld %6s %5s\n", c->total,
                c->count[ES_STATS_NEGATIVE], c->count[ES_STATS_NEUTRAL],
                c->count[ES_STATS_POSITIVE], c->count[ES_STATS_UNSCORED], net,
                neg);
}

#define GROUP_WIDTH 20

static void add_header(struct es_buf *b, const char *first, const char *group)
{
    es_buf_addf(b, "%-16s ", first);
    if (group) {
        char upper[16];
        size_t i = 0;
        for (; group[i] && i + 1 < sizeof(upper); i++)
            upper[i] = (char)toupper((unsigned char)group[i]);
        upper[i] = '\0';
        add_cell(b, upper, GROUP_WIDTH);
        es_buf_addch(b, ' ');
    }
    es_buf_addf(b, "%8s %7s %7s %7s %8s %6s %5s\n", "MENTIONS", "NEG", "NEU",
                "POS", "UNSCORED", "NET", "%NEG");
}

static void print_table(const struct es_stats *st)
{
    struct es_buf b = ES_BUF_INIT;
    char from[21], to[21];
    const char *bucket = es_stats_bucket_name(st->bucket);
    int grouped = st->by != ES_STATS_BY_NONE;

    fmt_start(st->since, st->bucket, from);
    fmt_start(st->bucket % 86400 == 0 ? st->until - 86400 : st->until,
              st->bucket, to);
    es_buf_addf(&b, "mentions per %s by sentiment, %s to %s UTC%s%s\n\n",
                bucket ? bucket : "bucket", from, to, grouped ? ", by " : "",
                grouped ? es_stats_by_name(st->by) : "");
    add_header(&b, "START", grouped ? es_stats_by_name(st->by) : NULL);
    for (size_t i = 0; i < st->nbuckets; i++) {
        char start[21];
        fmt_start(st->since + (int64_t)i * st->bucket, st->bucket, start);
        if (!grouped) {
            es_buf_addf(&b, "%-16s", start);
            add_figures(&b, &st->total.cells[i]);
            continue;
        }
        /* A row per group that had mentions; an empty bucket still shows. */
        int shown = 0;
        for (size_t g = 0; g < st->ngroups; g++) {
            const struct es_stats_group *gr = &st->groups[g];
            if (gr->cells[i].total == 0)
                continue;
            es_buf_addf(&b, "%-16s ", start);
            add_cell(&b, gr->name, GROUP_WIDTH);
            add_figures(&b, &gr->cells[i]);
            shown = 1;
        }
        if (!shown) {
            es_buf_addf(&b, "%-16s ", start);
            add_cell(&b, "-", GROUP_WIDTH);
            add_figures(&b, &st->total.cells[i]);
        }
    }
    es_buf_adds(&b, "\n");
    if (grouped) {
        es_buf_addf(&b, "the whole window, by %s\n", es_stats_by_name(st->by));
        add_header(&b, "", es_stats_by_name(st->by));
        for (size_t g = 0; g < st->ngroups; g++) {
            es_buf_addf(&b, "%-16s ", "");
            add_cell(&b, st->groups[g].name, GROUP_WIDTH);
            add_figures(&b, &st->groups[g].sum);
        }
        es_buf_addf(&b, "%-16s ", "");
        add_cell(&b, "total", GROUP_WIDTH);
    } else {
        es_buf_addf(&b, "%-16s", "total");
    }
    add_figures(&b, &st->total.sum);
    es_cli_write(b.ptr, b.len);
    es_buf_release(&b);
}

/* ==== The chart ==== */

/* Writes @b to @path ("-": stdout). Returns 0, or -1 after printing why. */
static int write_file(const char *path, const struct es_buf *b)
{
    if (strcmp(path, "-") == 0) {
        es_cli_write(b->ptr, b->len);
        return 0;
    }
    /* An earlier chart is replaced; anything else (a database named by
     * mistake) is not. */
    FILE *f = fopen(path, "rb");
    if (f) {
        char head[64];
        size_t n = fread(head, 1, sizeof(head), f);
        fclose(f);
        size_t i = 0;
        while (i < n && (head[i] == ' ' || head[i] == '\n' || head[i] == '\r' ||
                         head[i] == '\t'))
            i++;
        if (n && (i == n || head[i] != '<')) {
            es_cli_fail("'%s' exists and is no SVG file: not overwritten",
                        path);
            return -1;
        }
    }
    f = fopen(path, "w");
    if (!f) {
        es_cli_fail("cannot write '%s': %s", path, strerror(errno));
        return -1;
    }
    size_t n = fwrite(b->ptr, 1, b->len, f);
    int err = n != b->len ? errno : 0;
    if (fclose(f) != 0 && !err)
        err = errno;
    if (n != b->len || err) {
        es_cli_fail("cannot write '%s': %s", path, strerror(err ? err : EIO));
        return -1;
    }
    return 0;
}

/* ==== stats ==== */

int cmd_stats(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] =
        "usage: earshot stats [--bucket 5m|hour|day] [--since T] [--until T]\n"
        "                     [--by source|platform|tag|lang] [--json | --csv]\n"
        "       earshot stats --svg FILE [--bucket B] [--since T] [--until T]\n"
        "                     [--title TEXT]\n"
        "Mentions per time bucket (default hour) by sentiment label, with the\n"
        "net sentiment (mean compound score of the scored mentions, -1..1)\n"
        "and the share of the scored mentions that is negative, over the\n"
        "window (default: the last 7 days). A mention's time is its\n"
        "created_at, else when it was first stored. Buckets are aligned to\n"
        "UTC (days start at 00:00 UTC); the window widens to whole buckets\n"
        "and empty buckets are listed with zeros. T is an ISO 8601 date\n"
        "(2026-05-01, 2026-05-01T09:00:00Z), now, or an age such as 90m,\n"
        "24h, 7d, 2w. --by splits the counts by source, platform, tag (a\n"
        "mention with two tags counts in both) or language (its primary\n"
        "subtag); mentions without one are in the group \"(none)\".\n"
        "\n"
        "--json prints {since, until, bucket, bucket_seconds, by, total,\n"
        "groups}: each group {name, mentions, negative, neutral, positive,\n"
        "unscored, net_sentiment, share_negative, buckets: [{start, ...the\n"
        "same counts}]}. --csv prints the columns start, group, mentions,\n"
        "negative, neutral, positive, unscored, net_sentiment,\n"
        "share_negative: a row per bucket for the total (group \"(all)\"),\n"
        "then for each group; net_sentiment and share_negative are null\n"
        "(empty in CSV) when no mention of the bucket is scored.\n"
        "\n"
        "--svg FILE (- for stdout) writes a self-contained SVG chart of\n"
        "every mention: stacked volume by sentiment and the net sentiment\n"
        "line, titled with the window unless --title is given.\n";
    const char *bucket = NULL, *since = NULL, *until = NULL, *by = NULL,
               *json = NULL, *csv = NULL, *svg = NULL, *title = NULL;
    const struct es_opt opts[] = {
        { "bucket", 1, &bucket }, { "since", 1, &since },
        { "until", 1, &until },   { "by", 1, &by },
        { "json", 0, &json },     { "csv", 0, &csv },
        { "svg", 1, &svg },       { "title", 1, &title },
        { NULL, 0, NULL },
    };
    const char *args[1];
    int nargs;
    int rc = es_cli_parse_opts(argc, argv, opts, args, 0, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    if ((json != NULL) + (csv != NULL) + (svg != NULL) > 1) {
        fprintf(stderr, "error: --json, --csv and --svg exclude each other\n%s",
                usage);
        return ES_EXIT_USAGE;
    }
    if (svg && by) {
        fprintf(stderr,
                "error: --by does not apply to --svg: the chart shows every "
                "mention\n%s",
                usage);
        return ES_EXIT_USAGE;
    }
    if (title && !svg) {
        fprintf(stderr, "error: --title goes with --svg\n%s", usage);
        return ES_EXIT_USAGE;
    }
    struct es_stats_query q = {
        .bucket = ES_STATS_HOUR,
        .by = ES_STATS_BY_NONE,
        .now = es_time_now(),
        .until = ES_TIME_UNKNOWN,
    };
    q.since = q.now - 7 * 86400;
    if ((bucket && es_stats_bucket_parse(bucket, &q.bucket) < 0) ||
        (since && es_metrics_parse_time(since, q.now, &q.since) < 0) ||
        (until && es_metrics_parse_time(until, q.now, &q.until) < 0) ||
        (by && es_stats_by_parse(by, &q.by) < 0)) {
        fprintf(stderr, "error: %s\n", es_error_last());
        return ES_EXIT_USAGE;
    }
    if ((q.until != ES_TIME_UNKNOWN ? q.until : q.now) <= q.since) {
        fprintf(stderr, "error: --until must come after --since\n");
        return ES_EXIT_USAGE;
    }
    struct es_inbox *ib = es_ctx_inbox(ctx);
    if (!ib)
        return ES_EXIT_FAIL;
    struct es_stats st;
    rc = es_stats_compute(ib, &q, &st);
    if (rc < 0) {
        es_stats_release(&st);
        if (rc == ES_EINVALID) {
            fprintf(stderr, "error: %s\n", es_error_last());
            return ES_EXIT_USAGE;
        }
        return es_cli_fail("%s", es_error_last());
    }
    rc = ES_EXIT_OK;
    if (svg) {
        struct es_buf b = ES_BUF_INIT;
        es_stats_svg(&st, title, &b);
        if (write_file(svg, &b) < 0)
            rc = ES_EXIT_FAIL;
        es_buf_release(&b);
    } else if (json || csv) {
        struct es_buf b = ES_BUF_INIT;
        if (json) {
            es_stats_json(&st, &b);
            es_buf_addch(&b, '\n');
        } else {
            es_stats_csv(&st, &b);
        }
        es_cli_write(b.ptr, b.len);
        es_buf_release(&b);
    } else {
        print_table(&st);
    }
    es_stats_release(&st);
    return rc;
}
