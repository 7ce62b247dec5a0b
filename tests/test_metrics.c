/* test_metrics.c - response and resolution times, workload, backlog, SLAs
 *
 * Builds inboxes with chosen times: mentions (arrival from created_at or
 * first_seen), replies inserted as the outbox leaves them once sent
 * (state 'sent', sent_at, agent, visibility), and conversations rows with
 * first_response_at and resolved_at. Then checks exact medians and 90th
 * percentiles, per-agent counts, backlog cells, SLA breaches (late, open,
 * the tighter negative and high-priority targets), the grouping, and the
 * `earshot metrics` and `earshot audit` commands with their CSV and JSON.
 */
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

#include <sqlite3.h>
#include <yajl/yajl_tree.h>

#include "earshot/alloc.h"
#include "earshot/buf.h"
#include "earshot/config.h"
#include "earshot/error.h"
#include "earshot/inbox.h"
#include "earshot/metrics.h"
#include "earshot/workflow.h"
#include "fixtures.h"
#include "inbox/store.h"
#include "runcli.h"

#define T0 INT64_C(1735689600) /* 2025-01-01T00:00:00Z */
#define M  INT64_C(60)
#define H  INT64_C(3600)
#define D  INT64_C(86400)
#define NO ES_TIME_UNKNOWN

/* ==== Building an inbox ==== */

/* Steps @stmt once (a statement that returns no rows) and finalizes it. */
static void exec_stmt(struct es_inbox *ib, sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        fail_msg("sql: %s", sqlite3_errmsg(es_inbox__db(ib)));
    sqlite3_finalize(stmt);
}

static sqlite3_stmt *prep(struct es_inbox *ib, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(es_inbox__db(ib), sql, -1, &stmt, NULL) != SQLITE_OK)
        fail_msg("sql: %s", sqlite3_errmsg(es_inbox__db(ib)));
    return stmt;
}

static void bind_time(sqlite3_stmt *stmt, int i, int64_t t)
{
    if (t == NO)
        sqlite3_bind_null(stmt, i);
    else
        sqlite3_bind_int64(stmt, i, t);
}

static void bind_str(sqlite3_stmt *stmt, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(stmt, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(stmt, i);
}

static int serial;

/* Stores a mention of @source in conversation @conv (NULL: it stands
 * alone), created at @created (NO: unknown), first seen at @seen, with
 * @label (NULL: unscored), @prio (-1: none), @state and @assignee. */
static int64_t add_mention(struct es_inbox *ib, const char *source,
                           const char *conv, int64_t created, int64_t seen,
                           const char *label, int prio, const char *state,
                           const char *assignee)
{
    int64_t sid, id;
    struct es_item it;
    assert_int_equal(es_inbox_source_ensure(ib, source, "rss", &sid), 0);
    es_item_init(&it);
    it.external_id = es_xasprintf("m-%d", ++serial);
    it.text = es_xstrdup("where is my order?");
    assert_int_equal(es_inbox_put(ib, sid, &it, NULL, NULL, &id), 0);
    es_item_release(&it);
    sqlite3_stmt *stmt =
        prep(ib, "UPDATE mentions SET conversation = ?2, created_at = ?3,"
                 " first_seen = ?4, label = ?5, priority = ?6, state = ?7,"
                 " assignee = ?8 WHERE id = ?1");
    sqlite3_bind_int64(stmt, 1, id);
    bind_str(stmt, 2, conv);
    bind_time(stmt, 3, created);
    sqlite3_bind_int64(stmt, 4, seen);
    bind_str(stmt, 5, label);
    if (prio < 0)
        sqlite3_bind_null(stmt, 6);
    else
        sqlite3_bind_int(stmt, 6, prio);
    bind_str(stmt, 7, state);
    bind_str(stmt, 8, assignee);
    exec_stmt(ib, stmt);
    return id;
}

/* A reply as the outbox leaves it: sent ones have sent_at. */
static void add_reply(struct es_inbox *ib, int64_t mention, const char *agent,
                      const char *visibility, const char *state, int64_t sent)
{
    char key[32];
    snprintf(key, sizeof(key), "key-%d", ++serial);
    sqlite3_stmt *stmt =
        prep(ib, "INSERT INTO replies (mention_id, account, agent, body,"
                 " visibility, state, idempotency_key, attempts, created_at,"
                 " sent_at) VALUES (?1, 'brand', ?2, 'thanks!', ?3, ?4, ?5,"
                 " 1, ?6, ?7)");
    sqlite3_bind_int64(stmt, 1, mention);
    bind_str(stmt, 2, agent);
    bind_str(stmt, 3, visibility);
    bind_str(stmt, 4, state);
    bind_str(stmt, 5, key);
    sqlite3_bind_int64(stmt, 6, sent == NO ? T0 : sent - 60);
    bind_time(stmt, 7, sent);
    exec_stmt(ib, stmt);
}

static void sent(struct es_inbox *ib, int64_t mention, const char *agent,
                 int64_t at)
{
    add_reply(ib, mention, agent, "public", "sent", at);
}

static void set_conv(struct es_inbox *ib, const char *key, int64_t first,
                     int64_t resolved)
{
    sqlite3_stmt *stmt =
        prep(ib, "INSERT INTO conversations (key, first_response_at,"
                 " resolved_at) VALUES (?1, ?2, ?3) ON CONFLICT (key) DO"
                 " UPDATE SET first_response_at = excluded.first_response_at,"
                 " resolved_at = excluded.resolved_at");
    bind_str(stmt, 1, key);
    bind_time(stmt, 2, first);
    bind_time(stmt, 3, resolved);
    exec_stmt(ib, stmt);
}

/* The main scenario, the window [T0, T0 + 3d), now T0 + 4d:
 * c0..c9 arrive 6 hours apart (four on 2025-01-01, four on 01-02, two on
 * 01-03), answered after 5, 10, 15, 20, 25, 30, 40, 60, 120 and 240
 * minutes (dana c0..c5, sam c6..c9); c0..c3 resolved after 1, 2, 3 and 30
 * hours; c0..c4 and c10 from source alpha, c5..c9 from beta. c10 stands
 * alone, unanswered, assigned to lee, unscored. Outside the window or not
 * counted: a conversation started before T0 (with a follow-up and a reply
 * inside it), one after, a spam mention, a failed and a queued reply. */
static const int fr_min[10] = { 5, 10, 15, 20, 25, 30, 40, 60, 120, 240 };
static const int prio[10] = { 10, 20, 30, 40, 50, 35, 60, 65, 38, 45 };

static int64_t fill_main(struct es_inbox *ib)
{
    for (int i = 0; i < 10; i++) {
        char conv[16];
        snprintf(conv, sizeof(conv), "t:c%d", i);
        int64_t at = T0 + i * 6 * H;
        int64_t id =
            add_mention(ib, i < 5 ? "alpha" : "beta", conv, at, at, "neutral",
                        prio[i], i < 4 ? "resolved" : "open", NULL);
        sent(ib, id, i < 6 ? "dana" : "sam", at + fr_min[i] * M);
        /* c1's row also has what the outbox sets as it sends: the same
         * time, which must not count twice. */
        static const int64_t res[4] = { 1 * H, 2 * H, 3 * H, 30 * H };
        if (i < 4)
            set_conv(ib, conv, i == 1 ? at + fr_min[i] * M : NO, at + res[i]);
        if (i == 9) { /* a private message later, and two unsent */
            add_reply(ib, id, "sam", "private", "sent", at + 5 * H);
            add_reply(ib, id, "dana", "public", "failed", NO);
            add_reply(ib, id, "dana", "public", "queued", NO);
        }
    }
    int64_t c10 =
        add_mention(ib, "alpha", NULL, NO, T0 + 1 * H, NULL, -1, "new", "lee");
    add_mention(ib, "alpha", "t:old", T0 - 2 * D, T0 - 2 * D, "neutral", 5,
                "pending", NULL);
    int64_t f = add_mention(ib, "alpha", "t:old", T0 + 1 * H, T0 + 1 * H,
                            "neutral", 5, "pending", NULL);
    sent(ib, f, "sam", T0 + 2 * H);
    add_mention(ib, "beta", "t:after", NO, T0 + 3 * D + H, "neutral", 75, "new",
                NULL);
    add_mention(ib, "beta", "t:spam", NO, T0 + 2 * H, "negative", 90, "spam",
                NULL);
    return c10;
}

static struct es_metrics_query main_query(enum es_metrics_by by)
{
    struct es_metrics_query q = {
        .since = T0,
        .until = T0 + 3 * D,
        .by = by,
        .now = T0 + 4 * D,
    };
    es_sla_default(&q.sla);
    return q;
}

static int setup(void **state)
{
    struct es_inbox *ib = NULL;
    if (es_inbox_open(&ib, ":memory:") < 0)
        return -1;
    *state = ib;
    return 0;
}

static int teardown(void **state)
{
    es_inbox_free(*state);
    return 0;
}

/* ==== The library ==== */

static void test_parse_durations_and_times(void **state)
{
    (void)state;
    long s;
    assert_int_equal(es_metrics_parse_duration("90", &s), 0);
    assert_int_equal(s, 90);
    assert_int_equal(es_metrics_parse_duration("90s", &s), 0);
    assert_int_equal(s, 90);
    assert_int_equal(es_metrics_parse_duration("15m", &s), 0);
    assert_int_equal(s, 900);
    assert_int_equal(es_metrics_parse_duration("4h", &s), 0);
    assert_int_equal(s, 14400);
    static const char *const bad[] = {
        "", "h", "4d", "-5", "4hh", " 4h", "4.5h", "99999999999999999999"
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(es_metrics_parse_duration(bad[i], &s), ES_EINVALID);

    int64_t t, now = T0 + 10 * D;
    assert_int_equal(es_metrics_parse_time("7d", now, &t), 0);
    assert_int_equal(t, now - 7 * D);
    assert_int_equal(es_metrics_parse_time("24h", now, &t), 0);
    assert_int_equal(t, now - D);
    assert_int_equal(es_metrics_parse_time("2w", now, &t), 0);
    assert_int_equal(t, now - 14 * D);
    assert_int_equal(es_metrics_parse_time("now", now, &t), 0);
    assert_int_equal(t, now);
    assert_int_equal(es_metrics_parse_time("2025-01-01", now, &t), 0);
    assert_int_equal(t, T0);
    assert_int_equal(es_metrics_parse_time("2025-01-01T06:30:00Z", now, &t), 0);
    assert_int_equal(t, T0 + 6 * H + 30 * M);
    assert_int_equal(es_metrics_parse_time("12", now, &t), ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "'12'"));
    assert_int_equal(es_metrics_parse_time("7x", now, &t), ES_EINVALID);
    assert_int_equal(es_metrics_parse_time("yesterday", now, &t), ES_EINVALID);
    /* A valid age past a century says so, rather than "bad time". */
    assert_int_equal(es_metrics_parse_time("100000d", now, &t), ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "more than a century ago"));

    enum es_metrics_by by;
    assert_int_equal(es_metrics_by_parse("day", &by), 0);
    assert_int_equal(by, ES_METRICS_BY_DAY);
    assert_int_equal(es_metrics_by_parse("week", &by), ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "'week'"));
}

static void test_sla_from_config(void **state)
{
    (void)state;
    struct es_sla sla;
    assert_int_equal(es_sla_from_config(NULL, &sla), 0);
    assert_int_equal(sla.first_response, 4 * 3600);
    assert_int_equal(sla.negative_first_response, 1800);
    assert_int_equal(sla.high_priority, 70);
    assert_int_equal(sla.high_priority_first_response, 1800);
    assert_int_equal(sla.resolution, 86400);

    struct es_config *cfg = NULL;
    assert_int_equal(es_config_load_string(&cfg,
                                           "[sla]\n"
                                           "first_response = 2h\n"
                                           "negative_first_response = 45m\n"
                                           "high_priority = 50\n"
                                           "resolution = 3600\n",
                                           "sla.conf"),
                     0);
    assert_int_equal(es_sla_from_config(cfg, &sla), 0);
    assert_int_equal(sla.first_response, 7200);
    assert_int_equal(sla.negative_first_response, 2700);
    assert_int_equal(sla.high_priority, 50);
    assert_int_equal(sla.high_priority_first_response, 1800); /* default */
    assert_int_equal(sla.resolution, 3600);
    es_config_free(cfg);

    /* A file without [sla]: the defaults. */
    cfg = es_config_new();
    assert_int_equal(es_sla_from_config(cfg, &sla), 0);
    assert_int_equal(sla.first_response, 4 * 3600);
    es_config_free(cfg);
}

static void test_times_and_counts(void **state)
{
    struct es_inbox *ib = *state;
    int64_t c10 = fill_main(ib);
    struct es_metrics_query q = main_query(ES_METRICS_BY_NONE);
    struct es_metrics m;
    assert_int_equal(es_metrics_compute(ib, &q, &m), 0);

    const struct es_metrics_group *t = &m.total;
    assert_string_equal(t->name, "all");
    assert_int_equal(m.ngroups, 0);
    assert_int_equal(t->conversations, 11);
    assert_int_equal(t->responded, 10);
    assert_int_equal(t->resolved, 4);
    assert_int_equal(t->open, 7);
    /* 5 10 15 20 25 | 30 40 60 120 240 minutes: the median is the mean of
     * 25 and 30; the 90th percentile is 8.1 ranks in, 120 + 0.1 * 120. */
    assert_int_equal(t->first_response.n, 10);
    assert_true(t->first_response.median == 1650.0);
    assert_true(t->first_response.p90 == 7920.0);
    assert_true(t->first_response.mean == 3390.0);
    assert_true(t->first_response.max == 14400.0);
    /* 1 2 3 30 hours: median 2.5 h; p90 at 2.7 ranks: 3 h + 0.7 * 27 h. */
    assert_int_equal(t->resolution.n, 4);
    assert_true(t->resolution.median == 9000.0);
    assert_true(t->resolution.p90 == 78840.0);
    /* 10 public + 1 private sent; failed, queued and the reply in the
     * conversation that started before the window are not counted. */
    assert_int_equal(t->replies, 11);

    assert_int_equal(m.nagents, 2);
    assert_string_equal(m.agents[0].agent, "dana");
    assert_int_equal(m.agents[0].replies, 6);
    assert_int_equal(m.agents[0].public_replies, 6);
    assert_int_equal(m.agents[0].first_responses, 6);
    assert_string_equal(m.agents[1].agent, "sam");
    assert_int_equal(m.agents[1].replies, 5);
    assert_int_equal(m.agents[1].public_replies, 4);
    assert_int_equal(m.agents[1].first_responses, 4);

    /* The backlog is every waiting mention now, in or out of the window. */
    static const long want[ES_METRICS_NSTATES][ES_METRICS_NBANDS] = {
        { 0, 0, 1, 1 }, /* new: t:after (75), c10 (unscored) */
        { 2, 4, 0, 0 }, /* open: c4..c9 (50 35 60 65 38 45) */
        { 2, 0, 0, 0 }, /* pending: both mentions of t:old (5) */
    };
    for (int s = 0; s < ES_METRICS_NSTATES; s++)
        for (int b = 0; b < ES_METRICS_NBANDS; b++)
            if (m.backlog[s][b] != want[s][b])
                fail_msg("backlog %s %s: %ld, want %ld",
                         es_metrics_state_name(s), es_metrics_band_name(b),
                         m.backlog[s][b], want[s][b]);

    /* c3 resolved after 30 h (late); c4..c9 still open after 24 h; c10
     * neither answered nor resolved. c0..c9's answers all came in time:
     * c9's 240 minutes is exactly the 4 h target, which is no breach. */
    assert_int_equal(t->breaches, 9);
    assert_int_equal(m.nbreaches, 9);
    assert_int_equal(m.open_breaches, 8);
    const struct es_metrics_breach *b = &m.breaches[0];
    char key[32];
    snprintf(key, sizeof(key), "m:%lld", (long long)c10);
    assert_string_equal(b->conversation, key);
    assert_int_equal(b->mention_id, c10);
    assert_string_equal(b->source, "alpha");
    assert_string_equal(b->target, "first_response");
    assert_int_equal(b->target_s, 4 * H);
    assert_true(b->open);
    assert_int_equal(b->stopped, NO);
    assert_int_equal(b->waited, 4 * D - H);
    assert_int_equal(b->over, 4 * D - H - 4 * H);
    assert_int_equal(b->age, 4 * D - H);
    assert_string_equal(m.breaches[1].target, "resolution");
    assert_int_equal(m.breaches[1].mention_id, c10);
    assert_int_equal(m.breaches[1].over, 4 * D - H - D);
    int late = 0;
    for (size_t i = 0; i < m.nbreaches; i++) {
        assert_true(m.breaches[i].over > 0);
        assert_true(i == 0 || m.breaches[i - 1].over >= m.breaches[i].over);
        if (!m.breaches[i].open) {
            late++;
            assert_string_equal(m.breaches[i].conversation, "t:c3");
            assert_string_equal(m.breaches[i].target, "resolution");
            assert_int_equal(m.breaches[i].waited, 30 * H);
            assert_int_equal(m.breaches[i].stopped, T0 + 18 * H + 30 * H);
        }
    }
    assert_int_equal(late, 1);
    es_metrics_release(&m);

    /* No window: t:old and t:after count too (t:old's first mention was
     * answered 2 days + 2 h after it arrived, a late response). */
    q.since = q.until = NO;
    assert_int_equal(es_metrics_compute(ib, &q, &m), 0);
    assert_int_equal(m.total.conversations, 13);
    assert_int_equal(m.total.responded, 11);
    assert_int_equal(m.agents[1].replies, 6);
    es_metrics_release(&m);
}

static void test_group_by(void **state)
{
    struct es_inbox *ib = *state;
    fill_main(ib);
    struct es_metrics m;

    struct es_metrics_query q = main_query(ES_METRICS_BY_DAY);
    assert_int_equal(es_metrics_compute(ib, &q, &m), 0);
    assert_int_equal(m.ngroups, 3);
    const struct es_metrics_group *g = m.groups;
    assert_string_equal(g[0].name, "2025-01-01");
    assert_int_equal(g[0].conversations, 5); /* c0..c3 and c10 */
    assert_int_equal(g[0].responded, 4);
    assert_int_equal(g[0].open, 1);
    assert_true(g[0].first_response.median == 750.0);
    assert_true(g[0].first_response.p90 == 1110.0);
    assert_true(g[0].resolution.median == 9000.0);
    assert_int_equal(g[0].breaches, 3);
    assert_int_equal(g[0].replies, 4);
    assert_string_equal(g[1].name, "2025-01-02");
    assert_int_equal(g[1].conversations, 4);
    assert_true(g[1].first_response.median == 2100.0);
    assert_int_equal(g[1].resolution.n, 0);
    assert_int_equal(g[1].breaches, 4);
    assert_string_equal(g[2].name, "2025-01-03");
    assert_int_equal(g[2].conversations, 2);
    assert_true(g[2].first_response.median == 10800.0);
    assert_true(g[2].first_response.p90 == 13680.0);
    assert_int_equal(g[2].replies, 3);
    assert_int_equal(m.total.conversations, 11);
    es_metrics_release(&m);

    q = main_query(ES_METRICS_BY_AGENT);
    assert_int_equal(es_metrics_compute(ib, &q, &m), 0);
    assert_int_equal(m.ngroups, 3);
    g = m.groups;
    assert_string_equal(g[0].name, "dana");
    assert_int_equal(g[0].conversations, 6);
    assert_true(g[0].first_response.median == 1050.0);
    assert_int_equal(g[0].replies, 6);
    /* Unanswered: the assignee's group. */
    assert_string_equal(g[1].name, "lee");
    assert_int_equal(g[1].conversations, 1);
    assert_int_equal(g[1].responded, 0);
    assert_int_equal(g[1].first_response.n, 0);
    assert_int_equal(g[1].breaches, 2);
    assert_int_equal(g[1].replies, 0);
    assert_string_equal(g[2].name, "sam");
    assert_int_equal(g[2].conversations, 4);
    assert_true(g[2].first_response.median == 5400.0);
    assert_int_equal(g[2].replies, 5);
    es_metrics_release(&m);

    q = main_query(ES_METRICS_BY_SOURCE);
    assert_int_equal(es_metrics_compute(ib, &q, &m), 0);
    assert_int_equal(m.ngroups, 2);
    assert_string_equal(m.groups[0].name, "alpha");
    assert_int_equal(m.groups[0].conversations, 6);
    assert_true(m.groups[0].first_response.median == 900.0);
    assert_true(m.groups[0].first_response.p90 == 1380.0);
    assert_string_equal(m.groups[1].name, "beta");
    assert_true(m.groups[1].first_response.median == 3600.0);
    assert_true(m.groups[1].first_response.p90 == 11520.0);
    es_metrics_release(&m);
}

/* Arrival is created_at when known and earlier than first_seen; the first
 * response is the earlier of first_response_at and the first public reply
 * sent; a private reply is no first response. */
static void test_clocks(void **state)
{
    struct es_inbox *ib = *state;
    /* Posted at T0, fetched 3 h later, answered at 4 h: 4 h. */
    int64_t a = add_mention(ib, "alpha", "t:a", T0, T0 + 3 * H, "neutral", 10,
                            "open", NULL);
    sent(ib, a, "dana", T0 + 4 * H);
    /* A platform clock ahead of ours: first_seen counts, 1 h. */
    int64_t b = add_mention(ib, "alpha", "t:b", T0 + 10 * H, T0 + 5 * H,
                            "neutral", 10, "open", NULL);
    sent(ib, b, "dana", T0 + 6 * H);
    /* Only the conversations row knows: 30 m. */
    add_mention(ib, "alpha", "t:c", NO, T0 + 7 * H, "neutral", 10, "open",
                NULL);
    set_conv(ib, "t:c", T0 + 7 * H + 30 * M, NO);
    /* The row says 2 h, the reply says 20 m: the earlier wins. */
    int64_t d = add_mention(ib, "alpha", "t:d", NO, T0 + 8 * H, "neutral", 10,
                            "open", NULL);
    sent(ib, d, "sam", T0 + 8 * H + 20 * M);
    set_conv(ib, "t:d", T0 + 10 * H, NO);
    /* A private message is not a public answer: no response. */
    int64_t e = add_mention(ib, "alpha", "t:e", NO, T0 + 9 * H, "neutral", 10,
                            "open", NULL);
    add_reply(ib, e, "sam", "private", "sent", T0 + 9 * H + 5 * M);

    struct es_metrics_query q = {
        .since = NO, .until = NO, .by = ES_METRICS_BY_AGENT, .now = T0 + 12 * H
    };
    es_sla_default(&q.sla);
    struct es_metrics m;
    assert_int_equal(es_metrics_compute(ib, &q, &m), 0);
    assert_int_equal(m.total.conversations, 5);
    assert_int_equal(m.total.responded, 4);
    /* 20 m, 30 m, 1 h, 4 h */
    assert_true(m.total.first_response.median == 45 * 60.0);
    assert_true(m.total.first_response.max == 4 * 3600.0);
    assert_true(m.total.first_response.mean == (20 + 30 + 60 + 240) * 60.0 / 4);
    /* t:c has no reply and no assignee; t:e only a private one. */
    assert_int_equal(m.ngroups, 3);
    assert_string_equal(m.groups[0].name, "(none)");
    assert_int_equal(m.groups[0].conversations, 2);
    assert_string_equal(m.groups[1].name, "dana");
    assert_string_equal(m.groups[2].name, "sam");
    assert_int_equal(m.groups[2].conversations, 1);
    assert_int_equal(m.groups[2].replies, 2);
    /* t:e has waited 2 h 55 m of its 4 h: no breach yet. */
    assert_int_equal(m.nbreaches, 0);
    es_metrics_release(&m);
}

/* The targets: negative and high-priority mentions get the tighter ones;
 * a follow-up after the first answer starts no clock; the mention that
 * set the deadline is named. */
static void test_sla_breaches(void **state)
{
    struct es_inbox *ib = *state;
    /* s1 neutral, answered in 45 m: fine. */
    int64_t s1 =
        add_mention(ib, "masto", "t:s1", NO, T0, "neutral", 20, "open", NULL);
    sent(ib, s1, "dana", T0 + 45 * M);
    /* s2 negative, answered in 45 m: over its 30 m by 15 m. */
    int64_t s2 = add_mention(ib, "masto", "t:s2", NO, T0 + 1 * H, "negative",
                             20, "open", NULL);
    sent(ib, s2, "dana", T0 + 1 * H + 45 * M);
    /* s3 priority 80, answered in 20 m: fine. */
    int64_t s3 = add_mention(ib, "masto", "t:s3", NO, T0 + 2 * H, "neutral", 80,
                             "open", NULL);
    sent(ib, s3, "dana", T0 + 2 * H + 20 * M);
    /* s4 priority 85, unanswered for 7 h: open, over by 6 h 30 m. */
    int64_t s4 = add_mention(ib, "bsky", "t:s4", NO, T0 + 3 * H, "neutral", 85,
                             "new", NULL);
    /* s5 neutral, unanswered for 5 h: open, over by 1 h. */
    int64_t s5 = add_mention(ib, "bsky", "t:s5", NO, T0 + 5 * H, "positive", 10,
                             "pending", NULL);
    /* s6 unanswered for 2 h: within its 4 h. */
    add_mention(ib, "bsky", "t:s6", NO, T0 + 8 * H, "neutral", 10, "new", NULL);
    /* s7 resolved without an answer: no first-response breach. */
    add_mention(ib, "bsky", "t:s7", NO, T0 + 1 * H, "negative", 10, "resolved",
                NULL);
    set_conv(ib, "t:s7", NO, T0 + 2 * H);
    /* s8 answered in 1 h; the negative follow-up came after the answer. */
    int64_t s8 = add_mention(ib, "masto", "t:s8", NO, T0 + 2 * H, "neutral", 10,
                             "open", NULL);
    add_mention(ib, "masto", "t:s8", NO, T0 + 4 * H, "negative", 10, "open",
                NULL);
    sent(ib, s8, "sam", T0 + 3 * H);
    /* s9: a negative mention 10 m after the first, both answered 50 m
     * after it: the negative one's 30 m target was missed by 20 m. */
    int64_t s9 = add_mention(ib, "masto", "t:s9", NO, T0 + 2 * H, "neutral", 10,
                             "open", NULL);
    int64_t s9n = add_mention(ib, "masto", "t:s9", NO, T0 + 2 * H + 10 * M,
                              "negative", 10, "open", NULL);
    sent(ib, s9, "sam", T0 + 3 * H);
    /* Spam needs no answer. */
    add_mention(ib, "masto", "t:spam", NO, T0, "negative", 95, "spam", NULL);
    add_mention(ib, "masto", "t:ign", NO, T0, "negative", 95, "ignored", NULL);
    /* s13 resolved after 30 h (late); s14 open after 3 days. */
    int64_t s13 = add_mention(ib, "masto", "t:s13", NO, T0 - 2 * D, "neutral",
                              10, "resolved", NULL);
    sent(ib, s13, "dana", T0 - 2 * D + H);
    set_conv(ib, "t:s13", NO, T0 - 2 * D + 30 * H);
    int64_t s14 = add_mention(ib, "masto", "t:s14", NO, T0 - 3 * D, "neutral",
                              10, "open", NULL);
    sent(ib, s14, "dana", T0 - 3 * D + 10 * M);

    struct es_metrics_query q = {
        .since = NO, .until = NO, .by = ES_METRICS_BY_NONE, .now = T0 + 10 * H
    };
    es_sla_default(&q.sla);
    struct es_metrics m;
    assert_int_equal(es_metrics_compute(ib, &q, &m), 0);
    assert_int_equal(m.total.conversations, 11);
    assert_int_equal(m.nbreaches, 6);
    assert_int_equal(m.open_breaches, 3);
    const struct es_metrics_breach *b = m.breaches;
    struct {
        int64_t mention;
        const char *target;
        long over;
        int open;
        const char *source;
    } want[] = {
        { s14, "resolution", (long)(3 * D + 10 * H - D), 1, "masto" },
        { s4, "high_priority_first_response", (long)(7 * H - 30 * M), 1,
          "bsky" },
        { s13, "resolution", (long)(6 * H), 0, "masto" },
        { s5, "first_response", (long)H, 1, "bsky" },
        { s9n, "negative_first_response", (long)(20 * M), 0, "masto" },
        { s2, "negative_first_response", (long)(15 * M), 0, "masto" },
    };
    for (size_t i = 0; i < 6; i++) {
        if (b[i].mention_id != want[i].mention ||
            strcmp(b[i].target, want[i].target) != 0 ||
            b[i].over != want[i].over || b[i].open != want[i].open)
            fail_msg("breach %zu: mention %lld %s over %ld open %d; want "
                     "%lld %s over %ld open %d",
                     i, (long long)b[i].mention_id, b[i].target, b[i].over,
                     b[i].open, (long long)want[i].mention, want[i].target,
                     want[i].over, want[i].open);
        assert_string_equal(b[i].source, want[i].source);
    }
    assert_int_equal(b[1].age, 7 * H);
    assert_int_equal(b[1].waited, 7 * H);
    assert_int_equal(b[1].target_s, 30 * M);
    assert_int_equal(b[4].waited, 50 * M);
    assert_int_equal(b[4].arrived, T0 + 2 * H + 10 * M);
    assert_int_equal(b[4].stopped, T0 + 3 * H);
    assert_string_equal(b[4].conversation, "t:s9");
    assert_int_equal(b[5].waited, 45 * M);
    es_metrics_release(&m);

    /* A looser negative target of 1 h clears s2 and s9; a high-priority
     * threshold of 90 turns s4 into an ordinary 4 h target. */
    q.sla.negative_first_response = 3600;
    q.sla.high_priority = 90;
    assert_int_equal(es_metrics_compute(ib, &q, &m), 0);
    assert_int_equal(m.nbreaches, 4);
    assert_int_equal(m.breaches[1].mention_id, s13);
    assert_int_equal(m.breaches[2].mention_id, s4);
    assert_string_equal(m.breaches[2].target, "first_response");
    assert_int_equal(m.breaches[2].over, 3 * H);
    assert_int_equal(m.breaches[3].mention_id, s5);
    es_metrics_release(&m);
}

static void test_json_and_csv_writers(void **state)
{
    struct es_inbox *ib = *state;
    fill_main(ib);
    struct es_metrics_query q = main_query(ES_METRICS_BY_SOURCE);
    struct es_metrics m;
    assert_int_equal(es_metrics_compute(ib, &q, &m), 0);
    struct es_buf b = ES_BUF_INIT;
    es_metrics_csv(&m, &b);
    assert_string_equal(
        b.ptr, "by,group,conversations,responded,resolved,open,"
               "first_response_median_s,first_response_p90_s,"
               "resolution_median_s,resolution_p90_s,replies,breaches\n"
               "source,alpha,6,5,4,2,900,1380,9000,78840,5,4\n"
               "source,beta,5,5,0,5,3600,11520,,,6,5\n"
               "all,all,11,10,4,7,1650,7920,9000,78840,11,9\n");
    es_buf_reset(&b);
    es_metrics_json(&m, &b);
    char err[256];
    yajl_val root = yajl_tree_parse(b.ptr, err, sizeof(err));
    if (!root)
        fail_msg("metrics JSON does not parse: %s\n%s", err, b.ptr);
    static const char *p_median[] = { "total", "first_response", "median_s",
                                      NULL };
    static const char *p_by[] = { "by", NULL };
    static const char *p_cell[] = { "backlog", "open", "40-69", NULL };
    static const char *p_groups[] = { "groups", NULL };
    static const char *p_since[] = { "since", NULL };
    yajl_val v = yajl_tree_get(root, p_median, yajl_t_number);
    assert_non_null(v);
    assert_int_equal(YAJL_GET_INTEGER(v), 1650);
    v = yajl_tree_get(root, p_by, yajl_t_string);
    assert_non_null(v);
    assert_string_equal(YAJL_GET_STRING(v), "source");
    v = yajl_tree_get(root, p_cell, yajl_t_number);
    assert_non_null(v);
    assert_int_equal(YAJL_GET_INTEGER(v), 4);
    v = yajl_tree_get(root, p_groups, yajl_t_array);
    assert_non_null(v);
    assert_int_equal(YAJL_GET_ARRAY(v)->len, 2);
    v = yajl_tree_get(root, p_since, yajl_t_string);
    assert_non_null(v);
    assert_string_equal(YAJL_GET_STRING(v), "2025-01-01T00:00:00Z");
    yajl_tree_free(root);
    es_buf_release(&b);
    es_metrics_release(&m);
}

/* ==== The command line ==== */

/* Every run: `earshot --config CONF --db DB ...`, the config holding the
 * [sla] targets, the database fill_main() and the audit (setup_cli()). */
static struct es_fx_cli cli_fx;

static int setup_cli(void **state)
{
    *state = &cli_fx; /* for es_fx_cli_teardown() */
    es_fx_cli_open(&cli_fx, ES_EARSHOT_BIN, "metrics", "metrics.db");
    es_fx_write_file(cli_fx.conf,
                     "[sla]\nfirst_response = 4h\nresolution = 24h\n");
    struct es_inbox *ib = NULL;
    assert_int_equal(es_inbox_open(&ib, cli_fx.db), 0);
    fill_main(ib);
    assert_int_equal(es_agent_add(ib, "dana", ES_ROLE_ADMIN, NULL), 0);
    assert_int_equal(es_agent_add(ib, "sam", ES_ROLE_AGENT, "dana"), 0);
    assert_int_equal(
        es_audit_add(ib, "sam", "state", "mention:4", "new", "open"), 0);
    assert_int_equal(es_audit_add(ib, "dana", "assign", "mention:4", NULL,
                                  "sam\nthe night shift"),
                     0);
    es_inbox_free(ib);
    return 0;
}

static void test_cli_metrics(void **state)
{
    (void)state;
    struct es_run r;
    /* The scenario lies in the past: every open breach stays open. */
    es_run_earshot(&r, &cli_fx.run, NULL, "metrics", "--since", "2025-01-01",
                   "--until", "2025-01-04T00:00:00Z", "--by", "source", "--csv",
                   NULL);
    if (r.status != 0)
        fail_msg("metrics --csv: exit %d: %s", r.status, r.err.ptr);
    assert_string_equal(
        r.out.ptr, "by,group,conversations,responded,resolved,open,"
                   "first_response_median_s,first_response_p90_s,"
                   "resolution_median_s,resolution_p90_s,replies,breaches\n"
                   "source,alpha,6,5,4,2,900,1380,9000,78840,5,4\n"
                   "source,beta,5,5,0,5,3600,11520,,,6,5\n"
                   "all,all,11,10,4,7,1650,7920,9000,78840,11,9\n");
    es_run_release(&r);

    es_run_earshot(&r, &cli_fx.run, NULL, "metrics", "--since", "2025-01-01",
                   "--until", "2025-01-04", "--by", "day", "--json", NULL);
    assert_int_equal(r.status, 0);
    char err[256];
    yajl_val root = yajl_tree_parse(r.out.ptr, err, sizeof(err));
    if (!root)
        fail_msg("metrics --json does not parse: %s\n%s", err, r.out.ptr);
    static const char *p_groups[] = { "groups", NULL };
    static const char *p_breaches[] = { "breaches", NULL };
    static const char *p_agents[] = { "agents", NULL };
    static const char *p_name[] = { "name", NULL };
    static const char *p_p90[] = { "first_response", "p90_s", NULL };
    static const char *p_target[] = { "target", NULL };
    static const char *p_open[] = { "open", NULL };
    static const char *p_mention[] = { "mention_id", NULL };
    static const char *p_agent[] = { "agent", NULL };
    static const char *p_private[] = { "private", NULL };
    static const char *p_unscored[] = { "backlog", "new", "unscored", NULL };
    static const char *p_total[] = { "backlog", "open", "total", NULL };
    static const char *p_neg[] = { "sla", "negative_first_response_s", NULL };
    yajl_val groups = yajl_tree_get(root, p_groups, yajl_t_array);
    assert_non_null(groups);
    assert_int_equal(YAJL_GET_ARRAY(groups)->len, 3);
    yajl_val g2 = YAJL_GET_ARRAY(groups)->values[2];
    assert_string_equal(
        YAJL_GET_STRING(yajl_tree_get(g2, p_name, yajl_t_string)),
        "2025-01-03");
    assert_int_equal(YAJL_GET_INTEGER(yajl_tree_get(g2, p_p90, yajl_t_number)),
                     13680);
    yajl_val br = yajl_tree_get(root, p_breaches, yajl_t_array);
    assert_non_null(br);
    assert_int_equal(YAJL_GET_ARRAY(br)->len, 9);
    yajl_val b0 = YAJL_GET_ARRAY(br)->values[0];
    assert_string_equal(
        YAJL_GET_STRING(yajl_tree_get(b0, p_target, yajl_t_string)),
        "first_response");
    assert_true(YAJL_IS_TRUE(yajl_tree_get(b0, p_open, yajl_t_any)));
    assert_int_equal(
        YAJL_GET_INTEGER(yajl_tree_get(b0, p_mention, yajl_t_number)), 11);
    yajl_val agents = yajl_tree_get(root, p_agents, yajl_t_array);
    assert_int_equal(YAJL_GET_ARRAY(agents)->len, 2);
    yajl_val a1 = YAJL_GET_ARRAY(agents)->values[1];
    assert_string_equal(
        YAJL_GET_STRING(yajl_tree_get(a1, p_agent, yajl_t_string)), "sam");
    assert_int_equal(
        YAJL_GET_INTEGER(yajl_tree_get(a1, p_private, yajl_t_number)), 1);
    assert_int_equal(
        YAJL_GET_INTEGER(yajl_tree_get(root, p_unscored, yajl_t_number)), 1);
    assert_int_equal(
        YAJL_GET_INTEGER(yajl_tree_get(root, p_total, yajl_t_number)), 6);
    assert_int_equal(
        YAJL_GET_INTEGER(yajl_tree_get(root, p_neg, yajl_t_number)), 1800);
    yajl_tree_free(root);
    es_run_release(&r);

    /* The table for people. */
    es_run_earshot(&r, &cli_fx.run, NULL, "metrics", "--since", "2025-01-01",
                   "--until", "2025-01-04", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "27m 30s")); /* median */
    assert_non_null(strstr(r.out.ptr, "2h 12m"));  /* p90 */
    assert_non_null(strstr(r.out.ptr, "breaches: 9 (8 still open)"));
    assert_non_null(strstr(r.out.ptr, "... and 4 more"));
    assert_non_null(strstr(r.out.ptr, "dana"));
    es_run_release(&r);

    /* The default window is the last 7 days: nothing of 2025 in it. */
    es_run_earshot(&r, &cli_fx.run, NULL, "metrics", "--csv", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "\nall,all,0,0,0,0,,,,,0,0\n"));
    es_run_release(&r);

    /* Usage errors. */
    es_run_earshot(&r, &cli_fx.run, NULL, "metrics", "--by", "week", NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err.ptr, "cannot group by 'week'"));
    es_run_release(&r);
    es_run_earshot(&r, &cli_fx.run, NULL, "metrics", "--since", "yesterday",
                   NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err.ptr, "bad time 'yesterday'"));
    es_run_release(&r);
    es_run_earshot(&r, &cli_fx.run, NULL, "metrics", "--json", "--csv", NULL);
    assert_int_equal(r.status, 2);
    es_run_release(&r);
    es_run_earshot(&r, &cli_fx.run, NULL, "metrics", "--since", "2025-01-02",
                   "--until", "2025-01-01", NULL);
    assert_int_equal(r.status, 2);
    es_run_release(&r);
    es_run_earshot(&r, &cli_fx.run, NULL, "metrics", "--help", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "usage: earshot metrics"));
    es_run_release(&r);
}

static void test_cli_audit(void **state)
{
    (void)state;
    struct es_run r;
    es_run_earshot(&r, &cli_fx.run, NULL, "audit", "--json", NULL);
    assert_int_equal(r.status, 0);
    char err[256];
    yajl_val root = yajl_tree_parse(r.out.ptr, err, sizeof(err));
    if (!root)
        fail_msg("audit --json does not parse: %s\n%s", err, r.out.ptr);
    assert_true(YAJL_IS_ARRAY(root));
    /* agent add x2, the state change, the assignment; oldest first */
    assert_int_equal(YAJL_GET_ARRAY(root)->len, 4);
    static const char *p_action[] = { "action", NULL };
    static const char *p_before[] = { "before", NULL };
    static const char *p_after[] = { "after", NULL };
    static const char *p_at[] = { "at", NULL };
    yajl_val last = YAJL_GET_ARRAY(root)->values[3];
    assert_string_equal(
        YAJL_GET_STRING(yajl_tree_get(last, p_action, yajl_t_string)),
        "assign");
    assert_true(YAJL_IS_NULL(yajl_tree_get(last, p_before, yajl_t_any)));
    assert_string_equal(
        YAJL_GET_STRING(yajl_tree_get(last, p_after, yajl_t_string)),
        "sam\nthe night shift");
    assert_non_null(yajl_tree_get(last, p_at, yajl_t_string));
    yajl_tree_free(root);
    es_run_release(&r);

    /* dana's latest action only, in the table. */
    es_run_earshot(&r, &cli_fx.run, NULL, "audit", "--agent", "dana", "--limit",
                   "1", "--since", "1h", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "assign"));
    assert_non_null(strstr(r.out.ptr, "- -> sam the night shift"));
    assert_null(strstr(r.out.ptr, "agent add"));
    assert_non_null(strstr(r.out.ptr, "the latest 1 of 2 rows"));
    es_run_release(&r);

    es_run_earshot(&r, &cli_fx.run, NULL, "audit", "--agent", "nobody", NULL);
    assert_int_equal(r.status, 0);
    assert_int_equal(strchr(r.out.ptr, '\n') - r.out.ptr + 1,
                     (long)r.out.len); /* the header only */
    es_run_release(&r);

    es_run_earshot(&r, &cli_fx.run, NULL, "audit", "--limit", "0", NULL);
    assert_int_equal(r.status, 2);
    es_run_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_durations_and_times),
        cmocka_unit_test(test_sla_from_config),
        cmocka_unit_test_setup_teardown(test_times_and_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_by, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sla_breaches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_and_csv_writers, setup,
                                        teardown),
    };
    const struct CMUnitTest cli[] = {
        cmocka_unit_test(test_cli_metrics),
        cmocka_unit_test(test_cli_audit),
    };
    int failed = cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("metrics cli", cli, setup_cli,
                                          es_fx_cli_teardown);
    return failed;
}
