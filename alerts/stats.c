/* stats.c - mention counts and sentiment per time bucket, for people and
 * scripts
 *
 * One query per request: the mentions of the window grouped by group,
 * bucket and label, in the order groups then buckets, so the rows fill the
 * bucket arrays as they come (a group's array is allocated when its first
 * row arrives). Only --by tag needs a second pass for the total, because
 * a mention with two tags is in two groups; for the other groupings every
 * mention is in exactly one group and the total is their sum. The five
 * statements are fixed strings: nothing is pasted into SQL.
 *
 * The time expression COALESCE(created_at, first_seen) has no index (one
 * would slow every insert, see inbox/schema.c), so the filter scans the
 * table; this is read at the pace of a person asking or a chart being
 * drawn. Reads through the inbox's connection (es_inbox__db), holds no
 * write lock.
 */
#include "earshot/stats.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/item.h"
#include "inbox/store.h"

/* ==== Names ==== */

int es_stats_bucket_parse(const char *s, long *out)
{
    static const struct {
        const char *name;
        long secs;
    } names[] = {
        { "5m", ES_STATS_5M },     { "5min", ES_STATS_5M },
        { "hour", ES_STATS_HOUR }, { "1h", ES_STATS_HOUR },
        { "h", ES_STATS_HOUR },    { "day", ES_STATS_DAY },
        { "1d", ES_STATS_DAY },    { "d", ES_STATS_DAY },
    };
    for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].secs;
            return 0;
        }
    }
    return es_error_set(
        ES_EINVALID, "unknown bucket '%s' (known: 5m, hour, day)", s ? s : "");
}

const char *es_stats_bucket_name(long bucket)
{
    switch (bucket) {
    case ES_STATS_5M:
        return "5m";
    case ES_STATS_HOUR:
        return "hour";
    case ES_STATS_DAY:
        return "day";
    default:
        return NULL;
    }
}

int64_t es_stats_bucket_floor(int64_t t, long bucket)
{
    assert(bucket > 0);
    int64_t r = t % bucket;
    return r < 0 ? t - r - bucket : t - r;
}

static const char *const label_names[ES_STATS_NLABELS] = {
    "negative",
    "neutral",
    "positive",
    "unscored",
};

const char *es_stats_label_name(int label)
{
    return label >= 0 && label < ES_STATS_NLABELS ? label_names[label] : NULL;
}

static const char *const by_names[] = {
    [ES_STATS_BY_NONE] = "none",         [ES_STATS_BY_SOURCE] = "source",
    [ES_STATS_BY_PLATFORM] = "platform", [ES_STATS_BY_TAG] = "tag",
    [ES_STATS_BY_LANG] = "lang",
};

const char *es_stats_by_name(enum es_stats_by by)
{
    return (size_t)by < sizeof(by_names) / sizeof(by_names[0]) ? by_names[by]
                                                               : "none";
}

int es_stats_by_parse(const char *name, enum es_stats_by *out)
{
    for (size_t i = 0; name && i < sizeof(by_names) / sizeof(by_names[0]);
         i++) {
        if (strcmp(name, by_names[i]) == 0) {
            *out = (enum es_stats_by)i;
            return 0;
        }
    }
    if (name && strcmp(name, "language") == 0) {
        *out = ES_STATS_BY_LANG;
        return 0;
    }
    return es_error_set(ES_EINVALID,
                        "cannot group by '%s' (known: source, platform, tag, "
                        "lang)",
                        name ? name : "");
}

/* ==== The queries ==== */

/* Every statement returns (group, bucket index, label, mentions, sum of
 * compound scores, scored mentions) for ?1 <= time < ?2, buckets of ?3
 * seconds from ?1, ordered by group then bucket. The time expression sits
 * in a subquery so that it is written once; SQLite flattens it. */
#define STATS_SELECT                                                           \
    "SELECT g, (t - ?1) / ?3 AS b, label, COUNT(*), TOTAL(sentiment),"         \
    " COUNT(sentiment) FROM ("
#define STATS_TIME                                                             \
    "SELECT COALESCE(m.created_at, m.first_seen) AS t,"                        \
    " m.label AS label, m.sentiment AS sentiment, "
#define STATS_GROUP                                                            \
    ") WHERE t >= ?1 AND t < ?2 GROUP BY g, b, label ORDER BY g, b"

static const char SQL_NONE[] =
    STATS_SELECT STATS_TIME "NULL AS g FROM mentions m" STATS_GROUP;

static const char SQL_SOURCE[] =
    STATS_SELECT STATS_TIME "s.name AS g FROM mentions m"
                            " JOIN sources s ON s.id = m.source_id" STATS_GROUP;

static const char SQL_PLATFORM[] = STATS_SELECT STATS_TIME
    "NULLIF(m.platform, '') AS g FROM mentions m" STATS_GROUP;

/* A mention without tags is in the group of none. */
static const char SQL_TAG[] = STATS_SELECT STATS_TIME
    "mt.tag AS g FROM mentions m"
    " LEFT JOIN mention_tags mt ON mt.mention_id = m.id" STATS_GROUP;

/* "en-GB" and "EN" are "en": the primary subtag, lower case. */
static const char SQL_LANG[] = STATS_SELECT STATS_TIME
    "NULLIF(lower(CASE WHEN instr(m.lang, '-') > 0"
    " THEN substr(m.lang, 1, instr(m.lang, '-') - 1) ELSE m.lang END), '')"
    " AS g FROM mentions m" STATS_GROUP;

static const char *const by_sql[] = {
    [ES_STATS_BY_NONE] = SQL_NONE,         [ES_STATS_BY_SOURCE] = SQL_SOURCE,
    [ES_STATS_BY_PLATFORM] = SQL_PLATFORM, [ES_STATS_BY_TAG] = SQL_TAG,
    [ES_STATS_BY_LANG] = SQL_LANG,
};

static int db_error(struct es_inbox *ib, const char *what)
{
    return es_error_set(ES_EDB, "stats: %s: %s", what,
                        sqlite3_errmsg(es_inbox__db(ib)));
}

/* Maps a stored label to enum es_stats_label: anything unknown (or NULL)
 * counts as unscored. */
static int label_of(const unsigned char *label)
{
    if (!label)
        return ES_STATS_UNSCORED;
    if (strcmp((const char *)label, "negative") == 0)
        return ES_STATS_NEGATIVE;
    if (strcmp((const char *)label, "neutral") == 0)
        return ES_STATS_NEUTRAL;
    if (strcmp((const char *)label, "positive") == 0)
        return ES_STATS_POSITIVE;
    return ES_STATS_UNSCORED;
}

static void cell_add(struct es_stats_cell *c, int label, long n, double sum,
                     long scored)
{
    c->count[label] += n;
    c->total += n;
    c->sentiment_sum += sum;
    c->scored += scored;
}

static void cell_add_cell(struct es_stats_cell *c,
                          const struct es_stats_cell *from)
{
    for (int l = 0; l < ES_STATS_NLABELS; l++)
        c->count[l] += from->count[l];
    c->total += from->total;
    c->sentiment_sum += from->sentiment_sum;
    c->scored += from->scored;
}

/* Sets the derived figures of @c from its counts. */
static void cell_finish(struct es_stats_cell *c)
{
    long labelled = c->count[ES_STATS_NEGATIVE] + c->count[ES_STATS_NEUTRAL] +
                    c->count[ES_STATS_POSITIVE];
    c->net = c->scored ? c->sentiment_sum / (double)c->scored : NAN;
    c->share_negative =
        labelled ? (double)c->count[ES_STATS_NEGATIVE] / (double)labelled : NAN;
}

static void group_finish(struct es_stats_group *g, size_t nbuckets)
{
    memset(&g->sum, 0, sizeof(g->sum));
    for (size_t i = 0; i < nbuckets; i++) {
        cell_finish(&g->cells[i]);
        cell_add_cell(&g->sum, &g->cells[i]);
    }
    cell_finish(&g->sum);
}

static void group_release(struct es_stats_group *g)
{
    free(g->name);
    free(g->cells);
    g->name = NULL;
    g->cells = NULL;
}

/* Runs @sql over the window of @st and adds its rows: into st->total
 * when @into_total, else into a group per distinct value (a new group
 * for each, since the rows come ordered by group). */
static int run_query(struct es_inbox *ib, const char *sql, struct es_stats *st,
                     int into_total)
{
    sqlite3_stmt *stmt = NULL;
    size_t cap = st->ngroups;
    int rc;

    if (sqlite3_prepare_v2(es_inbox__db(ib), sql, -1, &stmt, NULL) != SQLITE_OK)
        return db_error(ib, "cannot read mentions");
    sqlite3_bind_int64(stmt, 1, st->since);
    sqlite3_bind_int64(stmt, 2, st->until);
    sqlite3_bind_int64(stmt, 3, st->bucket);

    struct es_stats_group *cur = into_total ? &st->total : NULL;
    for (;;) {
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_DONE) {
            rc = 0;
            break;
        }
        if (rc != SQLITE_ROW) {
            rc = db_error(ib, "cannot read mentions");
            break;
        }
        if (!into_total) {
            const char *g = (const char *)sqlite3_column_text(stmt, 0);
            if (!g)
                g = ES_STATS_GROUP_NONE;
            if (!cur || strcmp(cur->name, g) != 0) {
                /* The NULL group sorts first and "(none)" could be a tag
                 * too: look back before opening a group. */
                cur = NULL;
                for (size_t i = 0; i < st->ngroups; i++)
                    if (strcmp(st->groups[i].name, g) == 0)
                        cur = &st->groups[i];
            }
            if (!cur) {
                if ((st->ngroups + 2) * st->nbuckets > ES_STATS_MAX_CELLS) {
                    rc = es_error_set(
                        ES_EINVALID,
                        "stats: more than %d cells (%zu groups of %zu "
                        "buckets so far): use a shorter window or a longer "
                        "bucket",
                        ES_STATS_MAX_CELLS, st->ngroups + 1, st->nbuckets);
                    break;
                }
                if (st->ngroups == cap) {
                    cap = cap ? cap * 2 : 8;
                    st->groups =
                        es_xrealloc(st->groups, cap * sizeof(*st->groups));
                }
                cur = &st->groups[st->ngroups++];
                cur->name = es_xstrdup(g);
                cur->cells = es_xcalloc(st->nbuckets, sizeof(*cur->cells));
                memset(&cur->sum, 0, sizeof(cur->sum));
            }
        }
        sqlite3_int64 b = sqlite3_column_int64(stmt, 1);
        if (b < 0 || (uint64_t)b >= st->nbuckets)
            continue; /* cannot happen with the WHERE above */
        cell_add(&cur->cells[b], label_of(sqlite3_column_text(stmt, 2)),
                 (long)sqlite3_column_int64(stmt, 3),
                 sqlite3_column_double(stmt, 4),
                 (long)sqlite3_column_int64(stmt, 5));
    }
    sqlite3_finalize(stmt);
    return rc;
}

/* Most mentions first, then by name. */
static int cmp_group(const void *a, const void *b)
{
    const struct es_stats_group *ga = a, *gb = b;
    if (ga->sum.total != gb->sum.total)
        return ga->sum.total > gb->sum.total ? -1 : 1;
    return strcmp(ga->name, gb->name);
}

int es_stats_compute(struct es_inbox *ib, const struct es_stats_query *q,
                     struct es_stats *out)
{
    int rc = 0;

    assert(ib && q && out);
    memset(out, 0, sizeof(*out));
    out->by = q->by;
    out->bucket = q->bucket;
    if (q->bucket <= 0)
        return es_error_set(ES_EINVALID, "stats: bucket of %ld seconds",
                            q->bucket);
    if ((size_t)q->by >= sizeof(by_sql) / sizeof(by_sql[0]))
        return es_error_set(ES_EINVALID, "stats: unknown grouping %d",
                            (int)q->by);
    if (q->since == ES_TIME_UNKNOWN)
        return es_error_set(ES_EINVALID, "stats: the window has no start");
    int64_t until = q->until;
    if (until == ES_TIME_UNKNOWN)
        until = q->now != ES_TIME_UNKNOWN ? q->now : es_time_now();
    if (until <= q->since)
        return es_error_set(ES_EINVALID,
                            "stats: the window ends before it starts");
    /* Dates far outside what anyone stores would overflow below. */
    const int64_t limit = (int64_t)1 << 50;
    if (q->since < -limit || until > limit)
        return es_error_set(ES_EINVALID, "stats: window out of range");

    out->since = es_stats_bucket_floor(q->since, q->bucket);
    out->until = es_stats_bucket_floor(until - 1, q->bucket) + q->bucket;
    int64_t n = (out->until - out->since) / q->bucket;
    if (n > ES_STATS_MAX_BUCKETS) {
        const char *name = es_stats_bucket_name(q->bucket);
        return es_error_set(ES_EINVALID,
                            "stats: %lld buckets of %s%s in the window, at "
                            "most %d: use a shorter window or a longer bucket",
                            (long long)n, name ? name : "",
                            name ? "" : "seconds", ES_STATS_MAX_BUCKETS);
    }
    out->nbuckets = (size_t)n;
    out->total.name = es_xstrdup(ES_STATS_GROUP_ALL);
    out->total.cells = es_xcalloc(out->nbuckets, sizeof(*out->total.cells));

    if (q->by == ES_STATS_BY_NONE) {
        rc = run_query(ib, SQL_NONE, out, 1);
    } else {
        rc = run_query(ib, by_sql[q->by], out, 0);
        if (rc == 0 && q->by == ES_STATS_BY_TAG) {
            rc = run_query(ib, SQL_NONE, out, 1);
        } else if (rc == 0) {
            /* Every mention is in exactly one group. */
            for (size_t g = 0; g < out->ngroups; g++)
                for (size_t i = 0; i < out->nbuckets; i++)
                    cell_add_cell(&out->total.cells[i],
                                  &out->groups[g].cells[i]);
        }
    }
    if (rc < 0)
        return rc;
    group_finish(&out->total, out->nbuckets);
    for (size_t g = 0; g < out->ngroups; g++)
        group_finish(&out->groups[g], out->nbuckets);
    if (out->ngroups > 1)
        qsort(out->groups, out->ngroups, sizeof(*out->groups), cmp_group);
    return 0;
}

void es_stats_release(struct es_stats *st)
{
    if (!st)
        return;
    group_release(&st->total);
    for (size_t g = 0; g < st->ngroups; g++)
        group_release(&st->groups[g]);
    free(st->groups);
    st->groups = NULL;
    st->ngroups = 0;
    st->nbuckets = 0;
}

/* ==== JSON ==== */

/* Appends @x with 4 decimals, or null for NAN. */
static void add_json_number(struct es_buf *out, double x)
{
    if (isnan(x))
        es_buf_adds(out, "null");
    else
        es_buf_addf(out, "%.4f", x);
}

static void add_json_cell(struct es_buf *out, const struct es_stats_cell *c)
{
    es_buf_addf(out,
                "\"mentions\":%ld,\"negative\":%ld,\"neutral\":%ld,"
                "\"positive\":%ld,\"unscored\":%ld,\"net_sentiment\":",
                c->total, c->count[ES_STATS_NEGATIVE],
                c->count[ES_STATS_NEUTRAL], c->count[ES_STATS_POSITIVE],
                c->count[ES_STATS_UNSCORED]);
    add_json_number(out, c->net);
    es_buf_adds(out, ",\"share_negative\":");
    add_json_number(out, c->share_negative);
}

static void add_json_group(struct es_buf *out, const struct es_stats *st,
                           const struct es_stats_group *g)
{
    es_buf_adds(out, "{\"name\":");
    es_buf_add_json_str(out, g->name, strlen(g->name));
    es_buf_addch(out, ',');
    add_json_cell(out, &g->sum);
    es_buf_adds(out, ",\"buckets\":[");
    for (size_t i = 0; i < st->nbuckets; i++) {
        char start[21];
        es_time_format(st->since + (int64_t)i * st->bucket, start);
        es_buf_addf(out, "%s{\"start\":\"%s\",", i ? "," : "", start);
        add_json_cell(out, &g->cells[i]);
        es_buf_addch(out, '}');
    }
    es_buf_adds(out, "]}");
}

void es_stats_json(const struct es_stats *st, struct es_buf *out)
{
    char since[21], until[21];
    const char *bucket = es_stats_bucket_name(st->bucket);

    es_time_format(st->since, since);
    es_time_format(st->until, until);
    es_buf_addf(out, "{\"since\":\"%s\",\"until\":\"%s\",\"bucket\":", since,
                until);
    if (bucket)
        es_buf_addf(out, "\"%s\"", bucket);
    else
        es_buf_adds(out, "null");
    es_buf_addf(out, ",\"bucket_seconds\":%ld,\"by\":", st->bucket);
    if (st->by == ES_STATS_BY_NONE)
        es_buf_adds(out, "null");
    else
        es_buf_addf(out, "\"%s\"", es_stats_by_name(st->by));
    es_buf_adds(out, ",\"total\":");
    add_json_group(out, st, &st->total);
    es_buf_adds(out, ",\"groups\":[");
    for (size_t g = 0; g < st->ngroups; g++) {
        if (g)
            es_buf_addch(out, ',');
        add_json_group(out, st, &st->groups[g]);
    }
    es_buf_adds(out, "]}");
}

/* ==== CSV ==== */

/* Appends @s as one CSV field (RFC 4180): quoted when it holds a comma, a
 * quote or a line break; invalid UTF-8 becomes U+FFFD. */
static void add_csv_field(struct es_buf *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        es_buf_add_valid_utf8(out, s, strlen(s));
        return;
    }
    es_buf_addch(out, '"');
    for (const char *p = s; *p;) {
        const char *q = strchr(p, '"');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        es_buf_add_valid_utf8(out, p, n);
        if (!q)
            break;
        es_buf_adds(out, "\"\"");
        p = q + 1;
    }
    es_buf_addch(out, '"');
}

static void add_csv_number(struct es_buf *out, double x)
{
    if (!isnan(x))
        es_buf_addf(out, "%.4f", x);
}

static void add_csv_group(struct es_buf *out, const struct es_stats *st,
                          const struct es_stats_group *g)
{
    for (size_t i = 0; i < st->nbuckets; i++) {
        const struct es_stats_cell *c = &g->cells[i];
        char start[21];
        es_time_format(st->since + (int64_t)i * st->bucket, start);
        es_buf_addf(out, "%s,", start);
        add_csv_field(out, g->name);
        es_buf_addf(out, ",%ld,%ld,%ld,%ld,%ld,", c->total,
                    c->count[ES_STATS_NEGATIVE], c->count[ES_STATS_NEUTRAL],
                    c->count[ES_STATS_POSITIVE], c->count[ES_STATS_UNSCORED]);
        add_csv_number(out, c->net);
        es_buf_addch(out, ',');
        add_csv_number(out, c->share_negative);
        es_buf_addch(out, '\n');
    }
}

void es_stats_csv(const struct es_stats *st, struct es_buf *out)
{
    es_buf_adds(out, "start,group,mentions,negative,neutral,positive,"
                     "unscored,net_sentiment,share_negative\n");
    add_csv_group(out, st, &st->total);
    for (size_t g = 0; g < st->ngroups; g++)
        add_csv_group(out, st, &st->groups[g]);
}
