/* test_stats.c - mention counts and sentiment per time bucket, and the chart
 *
 * Builds inboxes with mentions at chosen times and with chosen scores,
 * then checks exact bucket counts: the UTC alignment of 5-minute, hourly
 * and daily buckets, the empty buckets inside the window, the fallback to
 * first_seen, the groupings (source, platform, tag, language), net
 * sentiment and share negative, the JSON and CSV shapes, the SVG (parsed
 * as XML with libxml2: series, legend, escaping, no outside resource),
 * and `earshot stats` itself.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* cmocka.h needs setjmp.h, stdarg.h and stddef.h first. */
#include <cmocka.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <sqlite3.h>
#include <yajl/yajl_tree.h>

#include "earshot/alloc.h"
#include "earshot/buf.h"
#include "earshot/error.h"
#include "earshot/inbox.h"
#include "earshot/stats.h"
#include "fixtures.h"
#include "inbox/store.h"
#include "runcli.h"

#define T0 INT64_C(1715299200) /* 2024-05-10T00:00:00Z, a Friday */
#define M  INT64_C(60)
#define H  INT64_C(3600)
#define D  INT64_C(86400)
#define NO ES_TIME_UNKNOWN

/* ==== Building an inbox ==== */

/* Stores a mention of @source created at @created (NO: unknown) with
 * label @label - 'n'egative, 'z'ero (neutral), 'p'ositive or 'u'nscored -
 * and compound @compound, on @platform and in @lang (both may be NULL).
 * Returns its id. */
static int64_t add(struct es_inbox *ib, const char *source, int64_t created,
                   char label, double compound, const char *platform,
                   const char *lang)
{
    struct es_fx_mention m = {
        .source = source,
        .created_at = created,
        .label = label,
        .sentiment = compound,
        .priority = 10,
        .platform = platform,
        .lang = lang,
    };
    return es_fx_put_mention(ib, &m);
}

static void exec_sql(struct es_inbox *ib, const char *sql, int64_t a, int64_t b)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(es_inbox__db(ib), sql, -1, &stmt, NULL) != SQLITE_OK)
        fail_msg("sql: %s", sqlite3_errmsg(es_inbox__db(ib)));
    sqlite3_bind_int64(stmt, 1, a);
    sqlite3_bind_int64(stmt, 2, b);
    if (sqlite3_step(stmt) != SQLITE_DONE)
        fail_msg("sql: %s", sqlite3_errmsg(es_inbox__db(ib)));
    sqlite3_finalize(stmt);
}

static void set_first_seen(struct es_inbox *ib, int64_t id, int64_t t)
{
    exec_sql(ib, "UPDATE mentions SET first_seen = ?2 WHERE id = ?1", id, t);
}

static void compute(struct es_inbox *ib, int64_t since, int64_t until,
                    long bucket, enum es_stats_by by, struct es_stats *st)
{
    struct es_stats_query q = {
        .since = since,
        .until = until,
        .bucket = bucket,
        .by = by,
        .now = NO,
    };
    int rc = es_stats_compute(ib, &q, st);
    if (rc != 0)
        fail_msg("es_stats_compute: %s", es_error_last());
}

/* Checks the counts of @c: negative, neutral, positive, unscored. */
static void check_cell(const struct es_stats_cell *c, long neg, long neu,
                       long pos, long unscored)
{
    assert_int_equal(c->count[ES_STATS_NEGATIVE], neg);
    assert_int_equal(c->count[ES_STATS_NEUTRAL], neu);
    assert_int_equal(c->count[ES_STATS_POSITIVE], pos);
    assert_int_equal(c->count[ES_STATS_UNSCORED], unscored);
    assert_int_equal(c->total, neg + neu + pos + unscored);
    assert_int_equal(c->scored, neg + neu + pos);
}

static const struct es_stats_group *group(const struct es_stats *st,
                                          const char *name)
{
    for (size_t i = 0; i < st->ngroups; i++)
        if (strcmp(st->groups[i].name, name) == 0)
            return &st->groups[i];
    fail_msg("no group '%s'", name);
    return NULL;
}

/* ==== Names and alignment ==== */

static void test_names(void **state)
{
    (void)state;
    long b = 0;
    assert_int_equal(es_stats_bucket_parse("5m", &b), 0);
    assert_int_equal(b, 300);
    assert_int_equal(es_stats_bucket_parse("hour", &b), 0);
    assert_int_equal(b, 3600);
    assert_int_equal(es_stats_bucket_parse("1h", &b), 0);
    assert_int_equal(b, 3600);
    assert_int_equal(es_stats_bucket_parse("day", &b), 0);
    assert_int_equal(b, 86400);
    assert_int_equal(es_stats_bucket_parse("2h", &b), ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "'2h'"));
    assert_string_equal(es_stats_bucket_name(300), "5m");
    assert_string_equal(es_stats_bucket_name(86400), "day");
    assert_null(es_stats_bucket_name(7200));

    enum es_stats_by by = ES_STATS_BY_NONE;
    assert_int_equal(es_stats_by_parse("tag", &by), 0);
    assert_int_equal(by, ES_STATS_BY_TAG);
    assert_int_equal(es_stats_by_parse("lang", &by), 0);
    assert_int_equal(by, ES_STATS_BY_LANG);
    assert_int_equal(es_stats_by_parse("agent", &by), ES_EINVALID);
    assert_string_equal(es_stats_by_name(ES_STATS_BY_PLATFORM), "platform");
    assert_string_equal(es_stats_label_name(ES_STATS_UNSCORED), "unscored");
    assert_null(es_stats_label_name(ES_STATS_NLABELS));

    /* Floors, before the epoch too. */
    assert_int_equal(es_stats_bucket_floor(T0 + 3599, 3600), T0);
    assert_int_equal(es_stats_bucket_floor(T0 + 3600, 3600), T0 + 3600);
    assert_int_equal(es_stats_bucket_floor(T0 + 299, 300), T0);
    assert_int_equal(es_stats_bucket_floor(T0 + D - 1, D), T0);
    assert_int_equal(es_stats_bucket_floor(-1, 3600), -3600);
    assert_int_equal(es_stats_bucket_floor(-3600, 3600), -3600);
}

/* ==== Counting ==== */

static void test_hourly_counts_empty_buckets(void **state)
{
    (void)state;
    struct es_inbox *ib = es_fx_inbox();
    struct es_stats st;

    add(ib, "s", T0 - 1, 'n', -0.5, NULL, NULL); /* before the window */
    add(ib, "s", T0 + 10, 'n', -0.5, NULL, NULL);
    add(ib, "s", T0 + H - 1, 'p', 0.7, NULL, NULL);
    add(ib, "s", T0 + H, 'z', 0.0, NULL, NULL);
    add(ib, "s", T0 + 3 * H + 5, 'u', 0, NULL, NULL);
    add(ib, "s", T0 + 3 * H + 6, 'n', -0.9, NULL, NULL);
    add(ib, "s", T0 + 5 * H, 'p', 0.9, NULL, NULL); /* after it */

    /* Unaligned ends widen to whole hours: [T0, T0 + 5h). */
    compute(ib, T0 + 30 * M, T0 + 4 * H + 1, ES_STATS_HOUR, ES_STATS_BY_NONE,
            &st);
    assert_int_equal(st.since, T0);
    assert_int_equal(st.until, T0 + 5 * H);
    assert_int_equal(st.nbuckets, 5);
    assert_string_equal(st.total.name, ES_STATS_GROUP_ALL);
    assert_int_equal(st.ngroups, 0);

    const struct es_stats_cell *c = st.total.cells;
    check_cell(&c[0], 1, 0, 1, 0);
    assert_true(fabs(c[0].net - 0.1) < 1e-9);
    assert_true(fabs(c[0].share_negative - 0.5) < 1e-9);
    check_cell(&c[1], 0, 1, 0, 0);
    assert_true(fabs(c[1].net) < 1e-9);
    assert_true(fabs(c[1].share_negative) < 1e-9);
    check_cell(&c[2], 0, 0, 0, 0); /* empty, but there */
    assert_true(isnan(c[2].net));
    assert_true(isnan(c[2].share_negative));
    /* The unscored mention counts in the volume, not in the sentiment. */
    check_cell(&c[3], 1, 0, 0, 1);
    assert_true(fabs(c[3].net + 0.9) < 1e-9);
    assert_true(fabs(c[3].share_negative - 1.0) < 1e-9);
    check_cell(&c[4], 0, 0, 0, 0);

    check_cell(&st.total.sum, 2, 1, 1, 1);
    assert_true(fabs(st.total.sum.net - (-0.5 + 0.7 + 0 - 0.9) / 4) < 1e-9);
    assert_true(fabs(st.total.sum.share_negative - 0.5) < 1e-9);
    es_stats_release(&st);

    /* An aligned until is exclusive: the mention at T0 + 5h stays out. */
    compute(ib, T0, T0 + 5 * H, ES_STATS_HOUR, ES_STATS_BY_NONE, &st);
    assert_int_equal(st.nbuckets, 5);
    assert_int_equal(st.total.sum.total, 5);
    es_stats_release(&st);
    es_inbox_free(ib);
}

static void test_5m_and_day_alignment(void **state)
{
    (void)state;
    struct es_inbox *ib = es_fx_inbox();
    struct es_stats st;

    add(ib, "s", T0 + 299, 'n', -0.4, NULL, NULL);
    add(ib, "s", T0 + 300, 'p', 0.4, NULL, NULL);
    add(ib, "s", T0 + 14 * M + 59, 'z', 0, NULL, NULL);
    add(ib, "s", T0 + D - 1, 'n', -0.2, NULL, NULL);
    add(ib, "s", T0 + D, 'n', -0.6, NULL, NULL);

    compute(ib, T0 + 2 * M, T0 + 16 * M, ES_STATS_5M, ES_STATS_BY_NONE, &st);
    assert_int_equal(st.since, T0);
    assert_int_equal(st.until, T0 + 20 * M);
    assert_int_equal(st.nbuckets, 4);
    check_cell(&st.total.cells[0], 1, 0, 0, 0);
    check_cell(&st.total.cells[1], 0, 0, 1, 0);
    check_cell(&st.total.cells[2], 0, 1, 0, 0);
    check_cell(&st.total.cells[3], 0, 0, 0, 0);
    es_stats_release(&st);

    /* Days run from 00:00 UTC, whatever hour the window starts at. */
    compute(ib, T0 - D + 13 * H, T0 + D + 1, ES_STATS_DAY, ES_STATS_BY_NONE,
            &st);
    assert_int_equal(st.since, T0 - D);
    assert_int_equal(st.until, T0 + 2 * D);
    assert_int_equal(st.nbuckets, 3);
    check_cell(&st.total.cells[0], 0, 0, 0, 0);
    check_cell(&st.total.cells[1], 2, 1, 1, 0);
    check_cell(&st.total.cells[2], 1, 0, 0, 0);
    assert_true(fabs(st.total.cells[1].net - (-0.4 + 0.4 + 0 - 0.2) / 4) <
                1e-9);
    assert_true(fabs(st.total.cells[1].share_negative - 0.5) < 1e-9);
    es_stats_release(&st);

    /* Hours: 24 buckets for a day, one mention in the first and last. */
    compute(ib, T0, T0 + D, ES_STATS_HOUR, ES_STATS_BY_NONE, &st);
    assert_int_equal(st.nbuckets, 24);
    assert_int_equal(st.total.cells[0].total, 3);
    assert_int_equal(st.total.cells[23].total, 1);
    for (size_t i = 1; i < 23; i++)
        assert_int_equal(st.total.cells[i].total, 0);
    es_stats_release(&st);
    es_inbox_free(ib);
}

static void test_time_is_created_else_first_seen(void **state)
{
    (void)state;
    struct es_inbox *ib = es_fx_inbox();
    struct es_stats st;

    /* Posted in hour 0, stored in hour 2: counted when posted. */
    int64_t a = add(ib, "s", T0 + 5, 'n', -0.5, NULL, NULL);
    set_first_seen(ib, a, T0 + 2 * H + 5);
    /* No created_at: counted when first seen. */
    int64_t b = add(ib, "s", NO, 'p', 0.5, NULL, NULL);
    set_first_seen(ib, b, T0 + H + 5);

    compute(ib, T0, T0 + 3 * H, ES_STATS_HOUR, ES_STATS_BY_NONE, &st);
    check_cell(&st.total.cells[0], 1, 0, 0, 0);
    check_cell(&st.total.cells[1], 0, 0, 1, 0);
    check_cell(&st.total.cells[2], 0, 0, 0, 0);
    es_stats_release(&st);
    es_inbox_free(ib);
}

static void test_group_by_source_platform_lang(void **state)
{
    (void)state;
    struct es_inbox *ib = es_fx_inbox();
    struct es_stats st;

    add(ib, "hn", T0 + 1, 'n', -0.8, "hackernews", "en");
    add(ib, "hn", T0 + 2, 'p', 0.6, "hackernews", "en-GB");
    add(ib, "hn", T0 + H + 1, 'n', -0.2, "hackernews", "EN");
    add(ib, "masto", T0 + 3, 'z', 0.0, "mastodon", "de");
    add(ib, "masto", T0 + 2 * H + 1, 'u', 0, "mastodon", NULL);
    add(ib, "blog", T0 + 4, 'p', 0.4, NULL, NULL);

    compute(ib, T0, T0 + 3 * H, ES_STATS_HOUR, ES_STATS_BY_SOURCE, &st);
    assert_int_equal(st.by, ES_STATS_BY_SOURCE);
    assert_int_equal(st.ngroups, 3);
    /* Most mentions first, then by name. */
    assert_string_equal(st.groups[0].name, "hn");
    assert_string_equal(st.groups[1].name, "masto");
    assert_string_equal(st.groups[2].name, "blog");
    const struct es_stats_group *hn = group(&st, "hn");
    check_cell(&hn->cells[0], 1, 0, 1, 0);
    check_cell(&hn->cells[1], 1, 0, 0, 0);
    check_cell(&hn->cells[2], 0, 0, 0, 0);
    check_cell(&hn->sum, 2, 0, 1, 0);
    assert_true(fabs(hn->sum.net - (-0.8 + 0.6 - 0.2) / 3) < 1e-9);
    assert_true(fabs(hn->sum.share_negative - 2.0 / 3) < 1e-9);
    const struct es_stats_group *masto = group(&st, "masto");
    check_cell(&masto->cells[0], 0, 1, 0, 0);
    check_cell(&masto->cells[2], 0, 0, 0, 1);
    assert_true(isnan(masto->cells[2].net));
    /* The total is every mention, once. */
    check_cell(&st.total.cells[0], 1, 1, 2, 0);
    check_cell(&st.total.sum, 2, 1, 2, 1);
    es_stats_release(&st);

    compute(ib, T0, T0 + 3 * H, ES_STATS_HOUR, ES_STATS_BY_PLATFORM, &st);
    assert_int_equal(st.ngroups, 3);
    check_cell(&group(&st, "hackernews")->sum, 2, 0, 1, 0);
    check_cell(&group(&st, "mastodon")->sum, 0, 1, 0, 1);
    check_cell(&group(&st, ES_STATS_GROUP_NONE)->sum, 0, 0, 1, 0);
    check_cell(&st.total.sum, 2, 1, 2, 1);
    es_stats_release(&st);

    /* "en", "en-GB" and "EN" are one language. */
    compute(ib, T0, T0 + 3 * H, ES_STATS_HOUR, ES_STATS_BY_LANG, &st);
    assert_int_equal(st.ngroups, 3);
    assert_string_equal(st.groups[0].name, "en");
    check_cell(&group(&st, "en")->sum, 2, 0, 1, 0);
    check_cell(&group(&st, "de")->sum, 0, 1, 0, 0);
    check_cell(&group(&st, ES_STATS_GROUP_NONE)->sum, 0, 0, 1, 1);
    es_stats_release(&st);
    es_inbox_free(ib);
}

static void test_group_by_tag(void **state)
{
    (void)state;
    struct es_inbox *ib = es_fx_inbox();
    struct es_stats st;

    int64_t a = add(ib, "s", T0 + 1, 'n', -0.6, NULL, NULL);
    int64_t b = add(ib, "s", T0 + H + 1, 'p', 0.2, NULL, NULL);
    add(ib, "s", T0 + 2, 'z', 0.0, NULL, NULL); /* untagged */
    es_fx_add_tag(ib, a, "billing");
    es_fx_add_tag(ib, a, "outage");
    es_fx_add_tag(ib, b, "billing");

    compute(ib, T0, T0 + 2 * H, ES_STATS_HOUR, ES_STATS_BY_TAG, &st);
    assert_int_equal(st.ngroups, 3);
    assert_string_equal(st.groups[0].name, "billing");
    const struct es_stats_group *billing = group(&st, "billing");
    check_cell(&billing->cells[0], 1, 0, 0, 0);
    check_cell(&billing->cells[1], 0, 0, 1, 0);
    check_cell(&group(&st, "outage")->sum, 1, 0, 0, 0);
    check_cell(&group(&st, ES_STATS_GROUP_NONE)->sum, 0, 1, 0, 0);
    /* Mention a is in two groups, but once in the total. */
    check_cell(&st.total.cells[0], 1, 1, 0, 0);
    check_cell(&st.total.sum, 1, 1, 1, 0);
    es_stats_release(&st);
    es_inbox_free(ib);
}

static void test_errors_and_limits(void **state)
{
    (void)state;
    struct es_inbox *ib = es_fx_inbox();
    struct es_stats st;
    struct es_stats_query q = {
        .since = T0,
        .until = T0,
        .bucket = ES_STATS_HOUR,
        .now = NO,
    };
    assert_int_equal(es_stats_compute(ib, &q, &st), ES_EINVALID);
    es_stats_release(&st);
    q.until = T0 + H;
    q.bucket = 0;
    assert_int_equal(es_stats_compute(ib, &q, &st), ES_EINVALID);
    es_stats_release(&st);
    /* 5-minute buckets over 400 days: too many. */
    q.bucket = ES_STATS_5M;
    q.since = T0 - 400 * D;
    q.until = T0;
    assert_int_equal(es_stats_compute(ib, &q, &st), ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "buckets"));
    es_stats_release(&st);
    /* No until: up to now, so the bucket of now is the last. */
    q.bucket = ES_STATS_DAY;
    q.since = T0;
    q.until = NO;
    q.now = T0 + 2 * D + 5;
    assert_int_equal(es_stats_compute(ib, &q, &st), 0);
    assert_int_equal(st.nbuckets, 3);
    assert_int_equal(st.until, T0 + 3 * D);
    es_stats_release(&st);
    es_inbox_free(ib);
}

/* ==== JSON and CSV ==== */

static yajl_val get(yajl_val obj, const char *key)
{
    const char *path[] = { key, NULL };
    yajl_val v = yajl_tree_get(obj, path, yajl_t_any);
    if (!v)
        fail_msg("no key '%s'", key);
    return v;
}

static long long get_int(yajl_val obj, const char *key)
{
    yajl_val v = get(obj, key);
    assert_true(YAJL_IS_INTEGER(v));
    return YAJL_GET_INTEGER(v);
}

/* Checks the figures of a JSON cell. */
static void check_json_cell(yajl_val c, long long mentions, long long neg,
                            long long neu, long long pos, long long unscored)
{
    assert_int_equal(get_int(c, "mentions"), mentions);
    assert_int_equal(get_int(c, "negative"), neg);
    assert_int_equal(get_int(c, "neutral"), neu);
    assert_int_equal(get_int(c, "positive"), pos);
    assert_int_equal(get_int(c, "unscored"), unscored);
}

/* Two hours: hour 0 has a negative (-0.5) and a positive (0.7) from hn and
 * an unscored one from "a,b"; hour 1 is empty. */
static void fill_two_hours(struct es_inbox *ib)
{
    add(ib, "hn", T0 + 1, 'n', -0.5, NULL, NULL);
    add(ib, "hn", T0 + 2, 'p', 0.7, NULL, NULL);
    add(ib, "a,b \"q\"", T0 + 3, 'u', 0, NULL, NULL);
}

static void check_json(const char *text, int grouped)
{
    char err[256];
    yajl_val root = yajl_tree_parse(text, err, sizeof(err));
    if (!root)
        fail_msg("bad JSON: %s\n%s", err, text);
    assert_string_equal(YAJL_GET_STRING(get(root, "since")),
                        "2024-05-10T00:00:00Z");
    assert_string_equal(YAJL_GET_STRING(get(root, "until")),
                        "2024-05-10T02:00:00Z");
    assert_string_equal(YAJL_GET_STRING(get(root, "bucket")), "hour");
    assert_int_equal(get_int(root, "bucket_seconds"), 3600);
    yajl_val total = get(root, "total");
    assert_string_equal(YAJL_GET_STRING(get(total, "name")), "(all)");
    check_json_cell(total, 3, 1, 0, 1, 1);
    assert_true(fabs(YAJL_GET_DOUBLE(get(total, "net_sentiment")) - 0.1) <
                1e-9);
    assert_true(fabs(YAJL_GET_DOUBLE(get(total, "share_negative")) - 0.5) <
                1e-9);
    yajl_val buckets = get(total, "buckets");
    assert_true(YAJL_IS_ARRAY(buckets));
    assert_int_equal(buckets->u.array.len, 2);
    yajl_val b1 = buckets->u.array.values[1];
    assert_string_equal(YAJL_GET_STRING(get(b1, "start")),
                        "2024-05-10T01:00:00Z");
    check_json_cell(b1, 0, 0, 0, 0, 0);
    assert_true(YAJL_IS_NULL(get(b1, "net_sentiment")));
    assert_true(YAJL_IS_NULL(get(b1, "share_negative")));
    yajl_val groups = get(root, "groups");
    assert_true(YAJL_IS_ARRAY(groups));
    if (!grouped) {
        assert_true(YAJL_IS_NULL(get(root, "by")));
        assert_int_equal(groups->u.array.len, 0);
    } else {
        assert_string_equal(YAJL_GET_STRING(get(root, "by")), "source");
        assert_int_equal(groups->u.array.len, 2);
        yajl_val g0 = groups->u.array.values[0];
        assert_string_equal(YAJL_GET_STRING(get(g0, "name")), "hn");
        check_json_cell(g0, 2, 1, 0, 1, 0);
        yajl_val g1 = groups->u.array.values[1];
        assert_string_equal(YAJL_GET_STRING(get(g1, "name")), "a,b \"q\"");
        assert_true(YAJL_IS_NULL(get(g1, "net_sentiment")));
        assert_int_equal(get(g1, "buckets")->u.array.len, 2);
    }
    yajl_tree_free(root);
}

static void test_json_shape(void **state)
{
    (void)state;
    struct es_inbox *ib = es_fx_inbox();
    struct es_stats st;
    struct es_buf b = ES_BUF_INIT;

    fill_two_hours(ib);
    compute(ib, T0, T0 + 2 * H, ES_STATS_HOUR, ES_STATS_BY_NONE, &st);
    es_stats_json(&st, &b);
    check_json(b.ptr, 0);
    es_stats_release(&st);

    es_buf_reset(&b);
    compute(ib, T0, T0 + 2 * H, ES_STATS_HOUR, ES_STATS_BY_SOURCE, &st);
    es_stats_json(&st, &b);
    check_json(b.ptr, 1);
    es_stats_release(&st);
    es_buf_release(&b);
    es_inbox_free(ib);
}

static const char CSV_GROUPED[] =
    "start,group,mentions,negative,neutral,positive,unscored,net_sentiment,"
    "share_negative\n"
    "2024-05-10T00:00:00Z,(all),3,1,0,1,1,0.1000,0.5000\n"
    "2024-05-10T01:00:00Z,(all),0,0,0,0,0,,\n"
    "2024-05-10T00:00:00Z,hn,2,1,0,1,0,0.1000,0.5000\n"
    "2024-05-10T01:00:00Z,hn,0,0,0,0,0,,\n"
    "2024-05-10T00:00:00Z,\"a,b \"\"q\"\"\",1,0,0,0,1,,\n"
    "2024-05-10T01:00:00Z,\"a,b \"\"q\"\"\",0,0,0,0,0,,\n";

static void test_csv_shape(void **state)
{
    (void)state;
    struct es_inbox *ib = es_fx_inbox();
    struct es_stats st;
    struct es_buf b = ES_BUF_INIT;

    fill_two_hours(ib);
    compute(ib, T0, T0 + 2 * H, ES_STATS_HOUR, ES_STATS_BY_SOURCE, &st);
    es_stats_csv(&st, &b);
    assert_string_equal(b.ptr, CSV_GROUPED);
    es_stats_release(&st);

    es_buf_reset(&b);
    compute(ib, T0, T0 + 2 * H, ES_STATS_HOUR, ES_STATS_BY_NONE, &st);
    es_stats_csv(&st, &b);
    /* Without a grouping: the header and the total's rows only. */
    const char *end = CSV_GROUPED;
    for (int i = 0; i < 3; i++)
        end = strchr(end, '\n') + 1;
    size_t head = (size_t)(end - CSV_GROUPED);
    assert_int_equal(b.len, head);
    assert_memory_equal(b.ptr, CSV_GROUPED, head);
    es_stats_release(&st);
    es_buf_release(&b);
    es_inbox_free(ib);
}

/* ==== SVG ==== */

/* The element with id @id under @node, or NULL. */
static xmlNodePtr find_id(xmlNodePtr node, const char *id)
{
    for (xmlNodePtr n = node; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        xmlChar *v = xmlGetProp(n, (const xmlChar *)"id");
        int match = v && strcmp((const char *)v, id) == 0;
        xmlFree(v);
        if (match)
            return n;
        xmlNodePtr in = find_id(n->children, id);
        if (in)
            return in;
    }
    return NULL;
}

/* Counts the elements named @name under @node. */
static size_t count_named(xmlNodePtr node, const char *name)
{
    size_t n = 0;
    for (xmlNodePtr c = node ? node->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE &&
            strcmp((const char *)c->name, name) == 0)
            n++;
    return n;
}

/* 1 when any attribute under @node names an outside resource. */
static int has_outside_ref(xmlNodePtr node)
{
    for (xmlNodePtr n = node; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        for (xmlAttrPtr a = n->properties; a; a = a->next) {
            if (strcmp((const char *)a->name, "href") == 0)
                return 1;
            xmlChar *v = xmlNodeGetContent((xmlNodePtr)a);
            int bad = v && (strstr((const char *)v, "url(") ||
                            strstr((const char *)v, "http:") ||
                            strstr((const char *)v, "https:"));
            xmlFree(v);
            /* The namespace URI is a name, not a fetch. */
            if (bad)
                return 1;
        }
        if (strcmp((const char *)n->name, "image") == 0 ||
            strcmp((const char *)n->name, "style") == 0 ||
            strcmp((const char *)n->name, "script") == 0)
            return 1;
        if (has_outside_ref(n->children))
            return 1;
    }
    return 0;
}

static char *node_text(xmlNodePtr n)
{
    xmlChar *v = xmlNodeGetContent(n);
    char *s = es_xstrdup((const char *)v);
    xmlFree(v);
    return s;
}

static xmlDocPtr parse_svg(const struct es_buf *b)
{
    xmlDocPtr doc = xmlReadMemory(b->ptr, (int)b->len, "chart.svg", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOERROR |
                                      XML_PARSE_NOWARNING);
    if (!doc)
        fail_msg("the SVG is not well-formed XML:\n%s", b->ptr);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    assert_string_equal((const char *)root->name, "svg");
    xmlChar *vb = xmlGetProp(root, (const xmlChar *)"viewBox");
    assert_string_equal((const char *)vb, "0 0 960 400");
    xmlFree(vb);
    assert_false(has_outside_ref(root));
    return doc;
}

static void test_svg_columns(void **state)
{
    (void)state;
    struct es_inbox *ib = es_fx_inbox();
    struct es_stats st;
    struct es_buf b = ES_BUF_INIT;

    /* 24 hourly buckets: negatives in hours 2 and 5, one of each other
     * label in hour 5. */
    add(ib, "s", T0 + 2 * H, 'n', -0.5, NULL, NULL);
    add(ib, "s", T0 + 5 * H, 'n', -0.5, NULL, NULL);
    add(ib, "s", T0 + 5 * H + 1, 'z', 0, NULL, NULL);
    add(ib, "s", T0 + 5 * H + 2, 'p', 0.8, NULL, NULL);
    add(ib, "s", T0 + 5 * H + 3, 'u', 0, NULL, NULL);
    compute(ib, T0, T0 + D, ES_STATS_HOUR, ES_STATS_BY_NONE, &st);
    es_stats_svg(&st, "Acme <Cloud> & \"friends\"", &b);
    xmlDocPtr doc = parse_svg(&b);
    xmlNodePtr root = xmlDocGetRootElement(doc);

    /* Every series, as a group with its columns. */
    xmlNodePtr neg = find_id(root, "series-negative");
    assert_non_null(neg);
    assert_int_equal(count_named(neg, "rect"), 2);
    assert_int_equal(count_named(find_id(root, "series-neutral"), "rect"), 1);
    assert_int_equal(count_named(find_id(root, "series-positive"), "rect"), 1);
    assert_int_equal(count_named(find_id(root, "series-unscored"), "rect"), 1);
    /* The net line: two scored buckets, apart: two dots. */
    xmlNodePtr net = find_id(root, "series-net");
    assert_non_null(net);
    assert_int_equal(count_named(net, "path"), 1);
    assert_int_equal(count_named(net, "circle"), 2);

    /* The legend names each series with its count. */
    xmlNodePtr legend = find_id(root, "legend");
    assert_non_null(legend);
    char *text = node_text(legend);
    assert_non_null(strstr(text, "negative (2)"));
    assert_non_null(strstr(text, "neutral (1)"));
    assert_non_null(strstr(text, "positive (1)"));
    assert_non_null(strstr(text, "unscored (1)"));
    assert_non_null(strstr(text, "net sentiment"));
    free(text);

    /* The title comes back as given: escaped in the document. */
    assert_null(strstr(b.ptr, "<Cloud>"));
    int found = 0;
    for (xmlNodePtr n = root->children; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE &&
            strcmp((const char *)n->name, "title") == 0) {
            char *t = node_text(n);
            assert_string_equal(t, "Acme <Cloud> & \"friends\"");
            free(t);
            found = 1;
        }
    }
    assert_true(found);

    /* Time labels every few hours, the date under the first one. */
    xmlNodePtr labels = find_id(root, "time-labels");
    assert_non_null(labels);
    size_t nlabels = count_named(labels, "text");
    assert_true(nlabels >= 4 && nlabels <= 12);
    text = node_text(labels);
    assert_non_null(strstr(text, "00:00"));
    assert_non_null(strstr(text, "10 May"));
    free(text);
    xmlFreeDoc(doc);
    es_stats_release(&st);

    /* The default title names the window; bad UTF-8 and control
     * characters in a title still make a well-formed document. */
    es_buf_reset(&b);
    compute(ib, T0, T0 + D, ES_STATS_HOUR, ES_STATS_BY_NONE, &st);
    es_stats_svg(&st, NULL, &b);
    assert_non_null(strstr(b.ptr, "Mentions by sentiment per hour, 10 May "
                                  "2024 00:00 to 11 May 2024 00:00 UTC"));
    xmlFreeDoc(parse_svg(&b));
    es_buf_reset(&b);
    es_stats_svg(&st, "bad \xff\xfe bytes \x01\x1b and U+FFFF \xEF\xBF\xBF",
                 &b);
    xmlFreeDoc(parse_svg(&b));
    es_stats_release(&st);
    es_buf_release(&b);
    es_inbox_free(ib);
}

static void test_svg_areas_and_empty(void **state)
{
    (void)state;
    struct es_inbox *ib = es_fx_inbox();
    struct es_stats st;
    struct es_buf b = ES_BUF_INIT;

    /* 5-minute buckets over a week: 2016, too narrow for columns. */
    for (int i = 0; i < 200; i++)
        add(ib, "s", T0 + i * 3000, i % 3 == 0 ? 'n' : 'p',
            i % 3 == 0 ? -0.6 : 0.5, NULL, NULL);
    compute(ib, T0, T0 + 7 * D, ES_STATS_5M, ES_STATS_BY_NONE, &st);
    assert_int_equal(st.nbuckets, 2016);
    es_stats_svg(&st, NULL, &b);
    xmlDocPtr doc = parse_svg(&b);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    for (int l = 0; l < ES_STATS_NLABELS; l++) {
        char id[32];
        snprintf(id, sizeof(id), "series-%s", es_stats_label_name(l));
        xmlNodePtr g = find_id(root, id);
        assert_non_null(g);
        assert_int_equal(count_named(g, "rect"), 0);
        assert_int_equal(count_named(g, "path"), 1);
    }
    /* Daily labels for a week (not one per bucket). */
    size_t nlabels = count_named(find_id(root, "time-labels"), "text");
    assert_true(nlabels >= 4 && nlabels <= 12);
    /* A sensible size: well under a megabyte. */
    assert_true(b.len < 400000);
    xmlFreeDoc(doc);
    es_stats_release(&st);

    /* An empty window still charts, and says so. */
    es_buf_reset(&b);
    compute(ib, T0 - 30 * D, T0 - 29 * D, ES_STATS_HOUR, ES_STATS_BY_NONE, &st);
    es_stats_svg(&st, NULL, &b);
    doc = parse_svg(&b);
    assert_non_null(strstr(b.ptr, "no mentions in this window"));
    assert_non_null(find_id(xmlDocGetRootElement(doc), "series-net"));
    xmlFreeDoc(doc);
    es_stats_release(&st);
    es_buf_release(&b);
    es_inbox_free(ib);
}

/* ==== The command line ==== */

static struct es_fx_cli cli_fx;

static int setup_cli(void **state)
{
    *state = &cli_fx; /* for es_fx_cli_teardown() */
    es_fx_cli_open(&cli_fx, ES_EARSHOT_BIN, "stats", "stats.db");
    es_fx_write_file(cli_fx.conf, "[earshot]\n");
    struct es_inbox *ib = NULL;
    assert_int_equal(es_inbox_open(&ib, cli_fx.db), 0);
    fill_two_hours(ib);
    es_inbox_free(ib);
    return 0;
}

static void test_cli_stats(void **state)
{
    (void)state;
    struct es_run r;

    es_run_earshot(&r, &cli_fx.run, NULL, "stats", "--since",
                   "2024-05-10T00:00:00Z", "--until", "2024-05-10T02:00:00Z",
                   "--json", NULL);
    assert_int_equal(r.status, 0);
    check_json(r.out.ptr, 0);
    es_run_release(&r);

    es_run_earshot(&r, &cli_fx.run, NULL, "stats", "--since", "2024-05-10",
                   "--until", "2024-05-10T02:00:00Z", "--by", "source", "--csv",
                   NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out.ptr, CSV_GROUPED);
    es_run_release(&r);

    /* The table: a line per bucket, the empty one included, and a total. */
    es_run_earshot(&r, &cli_fx.run, NULL, "stats", "--since", "2024-05-10",
                   "--until", "2024-05-10T02:00:00Z", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "2024-05-10 00:00        3       1"));
    assert_non_null(strstr(r.out.ptr, "2024-05-10 01:00        0"));
    assert_non_null(strstr(r.out.ptr, "+0.10   50%"));
    assert_non_null(strstr(r.out.ptr, "\ntotal  "));
    es_run_release(&r);

    /* Days over the default window end: three days, one with mentions. */
    es_run_earshot(&r, &cli_fx.run, NULL, "stats", "--bucket", "day", "--since",
                   "2024-05-09", "--until", "2024-05-12", "--csv", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "2024-05-10T00:00:00Z,(all),3,"));
    assert_non_null(strstr(r.out.ptr, "2024-05-11T00:00:00Z,(all),0,"));
    es_run_release(&r);

    /* The chart, to a file. */
    char *svg = es_xasprintf("%s/chart.svg", cli_fx.tmpdir);
    es_run_earshot(&r, &cli_fx.run, NULL, "stats", "--since", "2024-05-10",
                   "--until", "2024-05-11", "--svg", svg, "--title",
                   "Launch week", NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out.ptr, "");
    es_run_release(&r);
    xmlDocPtr doc = xmlReadFile(svg, NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    assert_non_null(find_id(xmlDocGetRootElement(doc), "series-negative"));
    assert_non_null(find_id(xmlDocGetRootElement(doc), "legend"));
    xmlFreeDoc(doc);
    free(svg);

    /* Usage errors: exit 2. */
    static const char *const bad[][4] = {
        { "--bucket", "2h", NULL, NULL },
        { "--json", "--csv", NULL, NULL },
        { "--svg", "x.svg", "--by", "source" },
        { "--by", "agent", NULL, NULL },
        { "--title", "t", NULL, NULL },
        { "--since", "2024-05-10", "--until", "2024-05-09" },
        { "--bucket", "5m", "--since", "2020-01-01" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        es_run_earshot(&r, &cli_fx.run, NULL, "stats", bad[i][0], bad[i][1],
                       bad[i][2], bad[i][3], NULL);
        if (r.status != 2)
            fail_msg("stats %s %s: status %d, stderr %s", bad[i][0], bad[i][1],
                     r.status, r.err.ptr);
        assert_non_null(strstr(r.err.ptr, "error: "));
        es_run_release(&r);
    }
    es_run_earshot(&r, &cli_fx.run, NULL, "stats", "--help", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "net_sentiment"));
    es_run_release(&r);
}

int main(void)
{
    xmlInitParser();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_hourly_counts_empty_buckets),
        cmocka_unit_test(test_5m_and_day_alignment),
        cmocka_unit_test(test_time_is_created_else_first_seen),
        cmocka_unit_test(test_group_by_source_platform_lang),
        cmocka_unit_test(test_group_by_tag),
        cmocka_unit_test(test_errors_and_limits),
        cmocka_unit_test(test_json_shape),
        cmocka_unit_test(test_csv_shape),
        cmocka_unit_test(test_svg_columns),
        cmocka_unit_test(test_svg_areas_and_empty),
        cmocka_unit_test_setup_teardown(test_cli_stats, setup_cli,
                                        es_fx_cli_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    xmlCleanupParser();
    return rc;
}
