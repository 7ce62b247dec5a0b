/* test_tickets.c - private tickets on an in-memory inbox
 *
 * include/earshot/tickets.h without the network: the context snapshot
 * (every mention of the thread with author, reach, sentiment, priority,
 * state, notes and tags), one ticket per conversation, the state machine
 * and what it does to the public thread, who may change what, the audit
 * rows, and the helpdesk webhook's body, signature (checked against
 * libcrypto's EVP_MAC and an RFC 4231 vector) and retry bookkeeping.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka.h needs setjmp.h, stdarg.h and stddef.h first. */
#include <cmocka.h>

#include <sqlite3.h>

#include "earshot/alloc.h"
#include "earshot/config.h"
#include "earshot/error.h"
#include "earshot/inbox.h"
#include "earshot/tickets.h"
#include "earshot/triage.h"
#include "earshot/workflow.h"
#include "fixtures.h"
#include "inbox/store.h"

#define T0 1726000000LL

struct fx {
    struct es_inbox *ib;
    int64_t root, reply1, reply2, ignored, other, feed;
};

/* Stores one mastodon post; @prio < 0: unscored. */
static int64_t put(struct es_inbox *ib, int64_t src, const char *platform,
                   const char *id, const char *parent, const char *author,
                   const char *name, long long followers, const char *text,
                   int64_t created, int prio, double sentiment)
{
    struct es_item it;
    es_item_init(&it);
    it.platform = es_xstrdup(platform);
    it.external_id = es_xstrdup(id);
    it.url = es_xasprintf("https://social.example/@%s/%s", author, id);
    it.author = es_xstrdup(author);
    it.author_name = name ? es_xstrdup(name) : NULL;
    it.author_followers = followers;
    it.text = es_xstrdup(text);
    it.created_at = created;
    if (parent) {
        it.in_reply_to = es_xstrdup(parent);
        it.kind = ES_KIND_REPLY;
    }
    struct es_scores sc = { 0 };
    sc.sentiment = sentiment;
    sc.label = sentiment < -0.05 ? -1 : sentiment > 0.05 ? 1 : 0;
    sc.neg = sentiment < 0 ? -sentiment : 0;
    sc.neu = 1 - sc.neg;
    sc.priority = prio;
    snprintf(sc.reasons, sizeof(sc.reasons), "[\"negative\",\"direct\"]");
    int64_t mid = 0;
    assert_int_equal(
        es_inbox_put(ib, src, &it, prio >= 0 ? &sc : NULL, NULL, &mid), 0);
    es_item_release(&it);
    return mid;
}

static void sql(struct es_inbox *ib, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *q = sqlite3_vmprintf(fmt, ap);
    va_end(ap);
    char *err = NULL;
    int rc = sqlite3_exec(es_inbox__db(ib), q, NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fail_msg("%s: %s", q, err);
    sqlite3_free(q);
}

static long long sql_int(struct es_inbox *ib, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *q = sqlite3_vmprintf(fmt, ap);
    va_end(ap);
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(es_inbox__db(ib), q, -1, &stmt, NULL),
                     SQLITE_OK);
    long long v = LLONG_MIN;
    if (sqlite3_step(stmt) == SQLITE_ROW &&
        sqlite3_column_type(stmt, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_free(q);
    return v;
}

/* The text of one value, copied into @out. */
static char *sql_text(struct es_inbox *ib, char *out, size_t size,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *q = sqlite3_vmprintf(fmt, ap);
    va_end(ap);
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(es_inbox__db(ib), q, -1, &stmt, NULL),
                     SQLITE_OK);
    out[0] = '\0';
    if (sqlite3_step(stmt) == SQLITE_ROW &&
        sqlite3_column_type(stmt, 0) != SQLITE_NULL)
        snprintf(out, size, "%s", sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    sqlite3_free(q);
    return out;
}

static const char *state_of(struct es_inbox *ib, int64_t id)
{
    static char buf[32];
    return sql_text(ib, buf, sizeof(buf),
                    "SELECT state FROM mentions WHERE id = %lld",
                    (long long)id);
}

/* es_ticket_open() with its outcome in two variables. */
static int open_t(struct es_inbox *ib, const struct es_config *cfg,
                  const struct es_ticket_request *rq, int64_t *id, int *created)
{
    struct es_ticket_opened o;
    int rc = es_ticket_open(ib, cfg, rq, &o);
    if (id)
        *id = o.ticket_id;
    if (created)
        *created = o.created;
    return rc;
}

static int setup(void **state)
{
    struct fx *f = es_xcalloc(1, sizeof(*f));
    if (es_inbox_open(&f->ib, ":memory:") < 0)
        return -1;
    struct es_inbox *ib = f->ib;
    assert_int_equal(es_agent_add(ib, "dana", ES_ROLE_ADMIN, NULL), 0);
    assert_int_equal(es_agent_add(ib, "sam", ES_ROLE_AGENT, "dana"), 0);
    assert_int_equal(es_agent_add(ib, "vic", ES_ROLE_VIEWER, "dana"), 0);
    int64_t src, feed;
    assert_int_equal(es_inbox_source_ensure(ib, "m", "mastodon", &src), 0);
    assert_int_equal(es_inbox_source_ensure(ib, "blog", "rss", &feed), 0);
    /* A thread of four, stored out of order, and a stranger. */
    f->reply1 = put(ib, src, "mastodon", "101", "100", "bob", NULL, 50,
                    "Same here, three weeks now", T0 + 60, 60, -0.3);
    f->root = put(ib, src, "mastodon", "100", NULL, "ann", "Ann Example", 1200,
                  "My order never arrived and support is silent. Where is "
                  "my parcel? I paid for express shipping and it has been "
                  "two weeks",
                  T0, 80, -0.62);
    f->reply2 = put(ib, src, "mastodon", "102", "101", "ann", "Ann Example",
                    1250, "Anyone? @acme", T0 + 120, 70, 0.0);
    f->ignored = put(ib, src, "mastodon", "103", "100", "dave", NULL, -1, "lol",
                     T0 + 180, -1, 0);
    f->other = put(ib, src, "mastodon", "200", NULL, "carl", NULL, 10,
                   "Love the new app", T0 + 30, 20, 0.7);
    f->feed = put(ib, feed, "rss", "https://blog.example/p/1", NULL, "erin",
                  NULL, -1, "A review of Acme", T0 + 40, 30, 0.1);
    sql(ib, "UPDATE mentions SET state = 'open' WHERE id = %lld",
        (long long)f->root);
    sql(ib, "UPDATE mentions SET state = 'ignored' WHERE id = %lld",
        (long long)f->ignored);
    sql(ib,
        "INSERT INTO notes (mention_id, agent, body, created_at) VALUES"
        " (%lld, 'dana', 'customer called twice', %lld),"
        " (%lld, 'sam', 'order #4411', %lld)",
        (long long)f->root, T0 + 500, (long long)f->reply2, T0 + 600);
    sql(ib,
        "INSERT INTO mention_tags (mention_id, tag) VALUES (%lld, 'billing'),"
        " (%lld, 'urgent'), (%lld, 'billing')",
        (long long)f->root, (long long)f->root, (long long)f->reply1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    es_inbox_free(f->ib);
    free(f);
    return 0;
}

static long long audit_rows(struct es_inbox *ib)
{
    return sql_int(ib, "SELECT count(*) FROM audit");
}

/* ==== The snapshot ==== */

struct seen {
    int n;
    int64_t ids[8];
    char line[8][512];
};

static int on_context(const struct es_ticket_context_mention *m, void *payload)
{
    struct seen *s = payload;
    assert_true(s->n < 8);
    s->ids[s->n] = m->mention_id;
    snprintf(s->line[s->n], sizeof(s->line[0]),
             "%s|%s|%s|%lld|%s|%s|%.2f|%d|%s|%s|%s|%s|%lld", m->platform,
             m->author ? m->author : "-", m->author_name ? m->author_name : "-",
             m->author_followers, m->state ? m->state : "-",
             m->label ? m->label : "-", m->label ? m->sentiment : 0.0,
             m->priority, m->reasons ? m->reasons : "-",
             m->tags ? m->tags : "-", m->notes ? m->notes : "-",
             m->url ? m->url : "-", (long long)m->created_at);
    s->n++;
    return 0;
}

static void test_open_snapshot(void **state)
{
    struct fx *f = *state;
    struct es_inbox *ib = f->ib;
    long long audit0 = audit_rows(ib);
    struct es_ticket_request rq = { .mention_id = f->reply2, .agent = "sam" };
    int64_t id = 0;
    int created = -1;
    assert_int_equal(open_t(ib, NULL, &rq, &id, &created), 0);
    assert_int_equal(created, 1);
    assert_true(id > 0);

    struct es_ticket t;
    assert_int_equal(es_ticket_get(ib, id, &t), 0);
    assert_string_equal(t.conversation, "mastodon:100");
    assert_int_equal(t.state, ES_TICKET_OPEN);
    assert_int_equal(t.priority, 80); /* the thread's highest */
    assert_null(t.assignee);
    assert_string_equal(t.created_by, "sam");
    assert_null(t.forward_state); /* no [helpdesk] */
    /* The first mention's first words, cut at a word, on one line. */
    assert_string_equal(t.subject,
                        "My order never arrived and support is silent. "
                        "Where is my parcel? I paid\xE2\x80\xA6");

    /* The snapshot is valid JSON with everything known. */
    assert_int_equal(sql_int(ib,
                             "SELECT json_valid(context) FROM tickets"
                             " WHERE id = %lld",
                             (long long)id),
                     1);
    assert_int_equal(sql_int(ib, "SELECT json_extract(context,"
                                 " '$.mentions_total') FROM tickets"),
                     4);
    assert_int_equal(sql_int(ib, "SELECT json_extract(context,"
                                 " '$.opened_from') FROM tickets"),
                     f->reply2);
    char buf[512];
    assert_string_equal(sql_text(ib, buf, sizeof(buf),
                                 "SELECT json_extract(context, '$.tags')"
                                 " FROM tickets"),
                        "[\"billing\",\"urgent\"]");
    /* Authors with their reach: ann's highest follower count, counted
     * twice; dave's unknown. */
    assert_string_equal(
        sql_text(ib, buf, sizeof(buf),
                 "SELECT group_concat(json_extract(value, '$.author') || ':'"
                 " || COALESCE(json_extract(value, '$.followers'), 'null')"
                 " || ':' || json_extract(value, '$.mentions'), ' ') FROM"
                 " tickets, json_each(context, '$.authors')"),
        "ann:1250:2 bob:50:1 dave:null:1");
    assert_string_equal(
        sql_text(ib, buf, sizeof(buf),
                 "SELECT json_extract(context, '$.mentions[0].text') FROM"
                 " tickets"),
        "My order never arrived and support is silent. Where is my parcel? "
        "I paid for express shipping and it has been two weeks");

    struct seen s = { 0 };
    assert_int_equal(es_ticket_context_each(ib, id, on_context, &s), 0);
    assert_int_equal(s.n, 4);
    assert_int_equal(s.ids[0], f->root);
    assert_int_equal(s.ids[1], f->reply1);
    assert_int_equal(s.ids[2], f->reply2);
    assert_int_equal(s.ids[3], f->ignored);
    char want[512];
    snprintf(want, sizeof(want),
             "mastodon|ann|Ann Example|1200|open|negative|-0.62|80|negative, "
             "direct|billing, urgent|2024-09-10T20:35:00Z dana: customer "
             "called twice|https://social.example/@ann/100|%lld",
             T0);
    assert_string_equal(s.line[0], want);
    assert_non_null(strstr(s.line[1], "bob|-|50|new|negative|-0.30|60|"));
    assert_non_null(strstr(s.line[1], "|billing|-|"));
    assert_non_null(strstr(s.line[2], "|neutral|0.00|70|"));
    assert_non_null(strstr(s.line[2], "sam: order #4411"));
    assert_non_null(strstr(s.line[3], "dave|-|-1|ignored|-|0.00|-1|-|-|-|"));

    /* The public thread is handled: new and open went pending; the
     * ignored one and the stranger stayed. */
    assert_string_equal(state_of(ib, f->root), "pending");
    assert_string_equal(state_of(ib, f->reply1), "pending");
    assert_string_equal(state_of(ib, f->reply2), "pending");
    assert_string_equal(state_of(ib, f->ignored), "ignored");
    assert_string_equal(state_of(ib, f->other), "new");

    /* Audited: the ticket and each move; the conversation touched. */
    assert_int_equal(audit_rows(ib), audit0 + 4);
    assert_string_equal(
        sql_text(ib, buf, sizeof(buf),
                 "SELECT agent || '|' || object || '|' || after FROM audit"
                 " WHERE action = 'ticket open'"),
        "sam|ticket:1|conversation mastodon:100 from mention:3");
    assert_int_equal(sql_int(ib, "SELECT count(*) FROM audit WHERE action ="
                                 " 'state' AND after = 'pending'"),
                     3);
    int64_t v;
    assert_int_equal(es_conversation_version(ib, "mastodon:100", &v), 0);
    assert_int_equal(v, 2);
    assert_non_null(strstr(sql_text(ib, buf, sizeof(buf),
                                    "SELECT changed_what FROM conversations"
                                    " WHERE key = 'mastodon:100'"),
                           "opened ticket 1"));

    es_ticket_release(&t);
}

/* A huge thread: the snapshot keeps the oldest, and always the mention
 * the ticket was opened from; the total counts them all. */
static void test_snapshot_cap(void **state)
{
    struct fx *f = *state;
    struct es_inbox *ib = f->ib;
    int64_t src, last = 0;
    char id[16];
    assert_int_equal(es_inbox_source_ensure(ib, "m", "mastodon", &src), 0);
    assert_int_equal(es_inbox_begin(ib), 0);
    for (int i = 0; i < ES_TICKET_CONTEXT_MAX + 2; i++) {
        snprintf(id, sizeof(id), "9%05d", i);
        last = put(ib, src, "mastodon", id, i ? "900000" : NULL, "zed", NULL, 1,
                   "again", T0 + i, 5, -0.2);
    }
    assert_int_equal(es_inbox_commit(ib), 0);
    struct es_ticket_request rq = { .mention_id = last, .agent = "sam" };
    int64_t tid;
    assert_int_equal(open_t(ib, NULL, &rq, &tid, NULL), 0);
    assert_int_equal(sql_int(ib, "SELECT json_array_length(context,"
                                 " '$.mentions') FROM tickets"),
                     ES_TICKET_CONTEXT_MAX);
    assert_int_equal(sql_int(ib, "SELECT json_extract(context,"
                                 " '$.mentions_total') FROM tickets"),
                     ES_TICKET_CONTEXT_MAX + 2);
    assert_int_equal(sql_int(ib,
                             "SELECT json_extract(context, '$.mentions[%d]"
                             ".mention_id') FROM tickets",
                             ES_TICKET_CONTEXT_MAX - 1),
                     last);
    assert_int_equal(sql_int(ib, "SELECT json_extract(context,"
                                 " '$.authors[0].mentions') FROM tickets"),
                     ES_TICKET_CONTEXT_MAX);
    /* Every mention of the thread went pending, not only the kept ones. */
    assert_int_equal(sql_int(ib, "SELECT count(*) FROM mentions WHERE author ="
                                 " 'zed' AND state = 'pending'"),
                     ES_TICKET_CONTEXT_MAX + 2);
}

static int count_mention(const struct es_mention *m, void *payload)
{
    int64_t *last = payload;
    last[0]++;
    last[1] = m->id;
    return 0;
}

static void test_live_thread(void **state)
{
    struct fx *f = *state;
    struct es_inbox *ib = f->ib;
    struct es_ticket_request rq = { .mention_id = f->root, .agent = "sam" };
    int64_t id;
    assert_int_equal(open_t(ib, NULL, &rq, &id, NULL), 0);
    int64_t src;
    assert_int_equal(es_inbox_source_ensure(ib, "m", "mastodon", &src), 0);
    int64_t later = put(ib, src, "mastodon", "104", "102", "ann", NULL, 1250,
                        "Still nothing", T0 + 900, 75, -0.4);
    int64_t seen[2] = { 0, 0 };
    assert_int_equal(es_ticket_thread_each(ib, id, count_mention, seen), 0);
    assert_int_equal(seen[0], 5);
    assert_int_equal(seen[1], later);
    struct seen s = { 0 };
    assert_int_equal(es_ticket_context_each(ib, id, on_context, &s), 0);
    assert_int_equal(s.n, 4); /* the snapshot stays as it was */
}

/* ==== One ticket per conversation ==== */

static void test_one_per_conversation(void **state)
{
    struct fx *f = *state;
    struct es_inbox *ib = f->ib;
    struct es_ticket_request rq = { .mention_id = f->root, .agent = "sam" };
    int64_t a, b, c, d;
    int created;
    assert_int_equal(open_t(ib, NULL, &rq, &a, &created), 0);
    assert_int_equal(created, 1);
    long long audit1 = audit_rows(ib);
    /* Any mention of the thread, any agent, even a viewer: the same. */
    rq.mention_id = f->reply1;
    rq.agent = "dana";
    assert_int_equal(open_t(ib, NULL, &rq, &b, &created), 0);
    assert_int_equal(created, 0);
    assert_int_equal(b, a);
    rq.agent = "vic";
    assert_int_equal(open_t(ib, NULL, &rq, &b, &created), 0);
    assert_int_equal(created, 0);
    assert_int_equal(b, a);
    assert_int_equal(audit_rows(ib), audit1);
    assert_int_equal(sql_int(ib, "SELECT count(*) FROM tickets"), 1);
    assert_int_equal(es_ticket_of_conversation(ib, "mastodon:100", &b), 0);
    assert_int_equal(b, a);
    assert_int_equal(es_ticket_of_conversation(ib, "mastodon:200", &b),
                     ES_ENOTFOUND);

    /* A viewer cannot open a new one. */
    rq.mention_id = f->other;
    assert_int_equal(open_t(ib, NULL, &rq, &c, &created), ES_EAUTH);
    assert_non_null(strstr(es_error_last(), "viewer"));
    assert_int_equal(sql_int(ib, "SELECT count(*) FROM tickets"), 1);
    rq.agent = "sam";
    assert_int_equal(open_t(ib, NULL, &rq, &c, &created), 0);
    assert_int_equal(created, 1);
    assert_true(c != a);

    /* A feed entry is a conversation of one: "m:ID". */
    rq.mention_id = f->feed;
    assert_int_equal(open_t(ib, NULL, &rq, &d, &created), 0);
    struct es_ticket t;
    assert_int_equal(es_ticket_get(ib, d, &t), 0);
    char key[32];
    snprintf(key, sizeof(key), "m:%lld", (long long)f->feed);
    assert_string_equal(t.conversation, key);
    assert_string_equal(t.subject, "A review of Acme");
    assert_int_equal(t.priority, 30);
    struct seen s = { 0 };
    assert_int_equal(es_ticket_context_each(ib, d, on_context, &s), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.ids[0], f->feed);
    es_ticket_release(&t);

    /* Unknown mention, unknown agent. */
    rq.mention_id = 999;
    assert_int_equal(open_t(ib, NULL, &rq, &d, NULL), ES_ENOTFOUND);
    int64_t src;
    assert_int_equal(es_inbox_source_ensure(ib, "m", "mastodon", &src), 0);
    rq.mention_id = put(ib, src, "mastodon", "300", NULL, "fay", NULL, 5,
                        "hello", T0, 10, 0);
    rq.agent = "ghost";
    assert_int_equal(open_t(ib, NULL, &rq, &d, NULL), ES_ENOTFOUND);
    assert_non_null(strstr(es_error_last(), "no agent 'ghost'"));
}

static void test_stale_version(void **state)
{
    struct fx *f = *state;
    struct es_inbox *ib = f->ib;
    int64_t v;
    assert_int_equal(es_conversation_version(ib, "mastodon:200", &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(es_conversation_touch(ib, "mastodon:200", "dana",
                                           "set mention 5 new -> open", 0, &v),
                     0);
    struct es_ticket_request rq = {
        .mention_id = f->other,
        .agent = "sam",
        .expect_version = 1,
    };
    int64_t id;
    assert_int_equal(open_t(ib, NULL, &rq, &id, NULL), ES_EEXISTS);
    assert_non_null(strstr(es_error_last(), "dana"));
    assert_int_equal(sql_int(ib, "SELECT count(*) FROM tickets"), 0);
    assert_string_equal(state_of(ib, f->other), "new"); /* rolled back */
    rq.expect_version = 2;
    assert_int_equal(open_t(ib, NULL, &rq, &id, NULL), 0);
}

/* ==== States ==== */

static void test_transitions(void **state)
{
    struct fx *f = *state;
    struct es_inbox *ib = f->ib;
    assert_true(es_ticket_transition_ok(ES_TICKET_OPEN, ES_TICKET_PENDING));
    assert_true(es_ticket_transition_ok(ES_TICKET_PENDING, ES_TICKET_OPEN));
    assert_true(es_ticket_transition_ok(ES_TICKET_SOLVED, ES_TICKET_OPEN));
    assert_true(es_ticket_transition_ok(ES_TICKET_CLOSED, ES_TICKET_OPEN));
    assert_false(es_ticket_transition_ok(ES_TICKET_SOLVED, ES_TICKET_PENDING));
    assert_false(es_ticket_transition_ok(ES_TICKET_CLOSED, ES_TICKET_SOLVED));
    assert_false(es_ticket_transition_ok(ES_TICKET_OPEN, ES_TICKET_OPEN));
    enum es_ticket_state st;
    assert_int_equal(es_ticket_state_parse("solved", &st), 0);
    assert_int_equal(st, ES_TICKET_SOLVED);
    assert_int_equal(es_ticket_state_parse("done", &st), ES_EINVALID);

    struct es_ticket_request rq = { .mention_id = f->root, .agent = "sam" };
    int64_t id;
    assert_int_equal(open_t(ib, NULL, &rq, &id, NULL), 0);
    struct es_ticket t;

    assert_int_equal(es_ticket_set_state(ib, id, ES_TICKET_PENDING, "sam"), 0);
    long long audit1 = audit_rows(ib);
    /* Same state: nothing happens, nothing is audited. */
    assert_int_equal(es_ticket_set_state(ib, id, ES_TICKET_PENDING, "sam"), 0);
    assert_int_equal(audit_rows(ib), audit1);

    /* Solving resolves the thread's pending mentions. */
    assert_int_equal(es_ticket_set_state(ib, id, ES_TICKET_SOLVED, "sam"), 0);
    assert_int_equal(es_ticket_get(ib, id, &t), 0);
    assert_int_equal(t.state, ES_TICKET_SOLVED);
    assert_true(t.solved_at != ES_TIME_UNKNOWN);
    es_ticket_release(&t);
    assert_string_equal(state_of(ib, f->root), "resolved");
    assert_string_equal(state_of(ib, f->reply2), "resolved");
    assert_string_equal(state_of(ib, f->ignored), "ignored");
    assert_true(sql_int(ib, "SELECT resolved_at FROM conversations WHERE"
                            " key = 'mastodon:100'") > 0);
    assert_int_equal(audit_rows(ib), audit1 + 1 + 3);

    /* Refused moves name the allowed ones and change nothing. */
    assert_int_equal(es_ticket_set_state(ib, id, ES_TICKET_PENDING, "sam"),
                     ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "is solved"));
    assert_non_null(strstr(es_error_last(), "only open, closed"));
    assert_int_equal(es_ticket_set_state(ib, id, ES_TICKET_CLOSED, "sam"), 0);
    assert_int_equal(es_ticket_set_state(ib, id, ES_TICKET_SOLVED, "sam"),
                     ES_EINVALID);
    assert_int_equal(es_ticket_get(ib, id, &t), 0);
    assert_int_equal(t.state, ES_TICKET_CLOSED);
    assert_true(t.solved_at != ES_TIME_UNKNOWN); /* closed keeps it */
    es_ticket_release(&t);

    /* Reopening opens the thread again and clears the times. */
    assert_int_equal(es_ticket_set_state(ib, id, ES_TICKET_OPEN, "dana"), 0);
    assert_int_equal(es_ticket_get(ib, id, &t), 0);
    assert_int_equal(t.state, ES_TICKET_OPEN);
    assert_true(t.solved_at == ES_TIME_UNKNOWN);
    es_ticket_release(&t);
    assert_string_equal(state_of(ib, f->root), "open");
    assert_string_equal(state_of(ib, f->reply1), "open");
    assert_int_equal(sql_int(ib, "SELECT resolved_at IS NULL FROM"
                                 " conversations WHERE key = 'mastodon:100'"),
                     1);
    char buf[256];
    assert_string_equal(
        sql_text(ib, buf, sizeof(buf),
                 "SELECT group_concat(agent || ':' || before || '>' || after,"
                 " ' ') FROM audit WHERE action = 'ticket state'"),
        "sam:open>pending sam:pending>solved sam:solved>closed "
        "dana:closed>open");
    assert_int_equal(es_ticket_set_state(ib, 4242, ES_TICKET_OPEN, "sam"),
                     ES_ENOTFOUND);
}

/* ==== Who may change what ==== */

static void test_viewer_refused(void **state)
{
    struct fx *f = *state;
    struct es_inbox *ib = f->ib;
    struct es_ticket_request rq = { .mention_id = f->root, .agent = "sam" };
    int64_t id;
    assert_int_equal(open_t(ib, NULL, &rq, &id, NULL), 0);
    long long audit1 = audit_rows(ib);
    int64_t v1;
    assert_int_equal(es_conversation_version(ib, "mastodon:100", &v1), 0);

    assert_int_equal(es_ticket_set_state(ib, id, ES_TICKET_SOLVED, "vic"),
                     ES_EAUTH);
    assert_non_null(strstr(es_error_last(), "viewer"));
    assert_int_equal(es_ticket_assign(ib, id, "sam", "vic"), ES_EAUTH);
    assert_int_equal(es_ticket_set_priority(ib, id, 10, "vic"), ES_EAUTH);
    assert_int_equal(
        es_ticket_message_add(ib, id, ES_TICKET_NOTE, "vic", "hi", NULL),
        ES_EAUTH);
    assert_int_equal(es_ticket_set_state(ib, id, ES_TICKET_SOLVED, "ghost"),
                     ES_ENOTFOUND);
    assert_int_equal(es_agent_set_disabled(ib, "sam", 1, "dana"), 0);
    audit1++;
    assert_int_equal(es_ticket_set_state(ib, id, ES_TICKET_SOLVED, "sam"),
                     ES_EAUTH);
    assert_non_null(strstr(es_error_last(), "disabled"));

    struct es_ticket t;
    assert_int_equal(es_ticket_get(ib, id, &t), 0);
    assert_int_equal(t.state, ES_TICKET_OPEN);
    assert_null(t.assignee);
    assert_int_equal(t.priority, 80);
    es_ticket_release(&t);
    assert_int_equal(audit_rows(ib), audit1);
    assert_int_equal(sql_int(ib, "SELECT count(*) FROM ticket_messages"), 0);
    int64_t v2;
    assert_int_equal(es_conversation_version(ib, "mastodon:100", &v2), 0);
    assert_int_equal(v2, v1);
    /* Reading is for everyone. */
    struct seen s = { 0 };
    assert_int_equal(es_ticket_context_each(ib, id, on_context, &s), 0);
    assert_int_equal(s.n, 4);
}

/* ==== Assignee, priority, notes ==== */

struct msgs {
    int n;
    char last[256];
};

static int on_message(const struct es_ticket_message *m, void *payload)
{
    struct msgs *s = payload;
    s->n++;
    snprintf(s->last, sizeof(s->last), "%s|%s|%s",
             es_ticket_message_kind_name(m->kind), m->agent ? m->agent : "-",
             m->body);
    return 0;
}

static void test_assign_priority_notes(void **state)
{
    struct fx *f = *state;
    struct es_inbox *ib = f->ib;
    struct es_ticket_request rq = { .mention_id = f->root, .agent = "sam" };
    int64_t id;
    assert_int_equal(open_t(ib, NULL, &rq, &id, NULL), 0);
    int64_t v1, v2;
    assert_int_equal(es_conversation_version(ib, "mastodon:100", &v1), 0);

    assert_int_equal(es_ticket_assign(ib, id, "sam", "dana"), 0);
    assert_int_equal(es_ticket_assign(ib, id, "vic", "dana"), ES_EAUTH);
    assert_non_null(strstr(es_error_last(), "take tickets"));
    assert_int_equal(es_ticket_assign(ib, id, "ghost", "dana"), ES_ENOTFOUND);
    assert_int_equal(es_ticket_set_priority(ib, id, 95, "sam"), 0);
    assert_int_equal(es_ticket_set_priority(ib, id, 101, "sam"), ES_EINVALID);
    struct es_ticket t;
    assert_int_equal(es_ticket_get(ib, id, &t), 0);
    assert_string_equal(t.assignee, "sam");
    assert_int_equal(t.priority, 95);
    es_ticket_release(&t);
    assert_int_equal(es_ticket_assign(ib, id, NULL, "sam"), 0);
    assert_int_equal(es_ticket_get(ib, id, &t), 0);
    assert_null(t.assignee);
    es_ticket_release(&t);

    int64_t mid = 0;
    assert_int_equal(es_ticket_message_add(ib, id, ES_TICKET_NOTE, "sam",
                                           "refund approved by finance", &mid),
                     0);
    assert_true(mid > 0);
    assert_int_equal(es_ticket_message_add(ib, id, ES_TICKET_IN, NULL,
                                           "thanks, got it", NULL),
                     0);
    assert_int_equal(
        es_ticket_message_add(ib, id, ES_TICKET_NOTE, "sam", "  \n", NULL),
        ES_EINVALID);
    assert_int_equal(
        es_ticket_message_add(ib, id, ES_TICKET_NOTE, "sam", "bad \xff", NULL),
        ES_EINVALID);
    assert_int_equal(
        es_ticket_message_add(ib, id, ES_TICKET_NOTE, "sam", "", NULL),
        ES_EINVALID);
    assert_int_equal(
        es_ticket_message_add(ib, 999, ES_TICKET_NOTE, "sam", "x", NULL),
        ES_ENOTFOUND);
    struct msgs s = { 0 };
    assert_int_equal(es_ticket_messages_each(ib, id, on_message, &s), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.last, "in|-|thanks, got it");

    char buf[512];
    assert_string_equal(
        sql_text(ib, buf, sizeof(buf),
                 "SELECT group_concat(agent || ':' || action || ':' ||"
                 " COALESCE(before, '-') || '>' || COALESCE(after, '-'), ' ')"
                 " FROM audit WHERE object = 'ticket:1' AND action <> 'ticket"
                 " open'"),
        "dana:ticket assign:->sam sam:ticket priority:80>95 "
        "sam:ticket assign:sam>- sam:ticket note:->refund approved by "
        "finance system:ticket message:->thanks, got it");
    /* Each change touched the conversation. */
    assert_int_equal(es_conversation_version(ib, "mastodon:100", &v2), 0);
    assert_int_equal(v2, v1 + 5);
}

/* ==== Listing ==== */

struct ids {
    int n;
    int64_t id[8];
};

static int on_ticket(const struct es_ticket *t, void *payload)
{
    struct ids *s = payload;
    s->id[s->n++] = t->id;
    return 0;
}

static void test_list(void **state)
{
    struct fx *f = *state;
    struct es_inbox *ib = f->ib;
    int64_t a, b, c;
    struct es_ticket_request rq = { .mention_id = f->other, .agent = "sam" };
    assert_int_equal(open_t(ib, NULL, &rq, &a, NULL), 0); /* 20 */
    rq.mention_id = f->root;
    assert_int_equal(open_t(ib, NULL, &rq, &b, NULL), 0); /* 80 */
    rq.mention_id = f->feed;
    assert_int_equal(open_t(ib, NULL, &rq, &c, NULL), 0); /* 30 */
    assert_int_equal(es_ticket_set_state(ib, b, ES_TICKET_SOLVED, "sam"), 0);
    assert_int_equal(es_ticket_assign(ib, c, "dana", "sam"), 0);

    struct ids s = { 0 };
    assert_int_equal(es_ticket_each(ib, NULL, on_ticket, &s), 0);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.id[0], c); /* open, 30 */
    assert_int_equal(s.id[1], a); /* open, 20 */
    assert_int_equal(s.id[2], b); /* solved */
    struct es_ticket_query q = { .state = "solved" };
    memset(&s, 0, sizeof(s));
    assert_int_equal(es_ticket_each(ib, &q, on_ticket, &s), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.id[0], b);
    q = (struct es_ticket_query){ .assignee = "dana" };
    memset(&s, 0, sizeof(s));
    assert_int_equal(es_ticket_each(ib, &q, on_ticket, &s), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.id[0], c);
    q = (struct es_ticket_query){ .assignee = "", .limit = 1 };
    memset(&s, 0, sizeof(s));
    assert_int_equal(es_ticket_each(ib, &q, on_ticket, &s), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.id[0], a);
    q = (struct es_ticket_query){ .state = "done" };
    assert_int_equal(es_ticket_each(ib, &q, on_ticket, &s), ES_EINVALID);
}

/* ==== The helpdesk webhook ==== */

static void test_signature(void **state)
{
    (void)state;
    char sig[ES_TICKETS_SIG_SIZE], want[72];
    /* RFC 4231, test case 2. */
    const char *data = "what do ya want for nothing?";
    assert_int_equal(es_tickets_sign("Jefe", data, strlen(data), sig), 0);
    assert_string_equal(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f0"
                             "89d2739839dec58b964ec3843");
    const char *body = "{\"event\":\"ticket.created\",\"x\":\"caf\xC3\xA9\"}";
    assert_int_equal(es_tickets_sign("s3cret", body, strlen(body), sig), 0);
    es_fx_hmac_sha256("s3cret", body, strlen(body), want);
    assert_string_equal(sig, want);
    /* The length counts, not a NUL. */
    assert_int_equal(es_tickets_sign("s3cret", body, 5, sig), 0);
    es_fx_hmac_sha256("s3cret", body, 5, want);
    assert_string_equal(sig, want);
}

static struct es_config *helpdesk_config(const char *extra)
{
    char *text = es_xasprintf("[helpdesk]\n"
                              "webhook_url = http://127.0.0.1:9/hook\n"
                              "secret = s3cret\n"
                              "%s",
                              extra);
    struct es_config *cfg = NULL;
    if (es_config_load_string(&cfg, text, "test.conf") < 0)
        fail_msg("%s", es_error_last());
    free(text);
    return cfg;
}

static void test_forward_bookkeeping(void **state)
{
    struct fx *f = *state;
    struct es_inbox *ib = f->ib;
    struct es_config *cfg = helpdesk_config("");
    struct es_config *off = helpdesk_config("enabled = no\n");
    struct es_helpdesk hd;
    assert_int_equal(es_helpdesk_get(cfg, &hd), 1);
    assert_string_equal(hd.secret, "s3cret");
    assert_int_equal(es_helpdesk_get(off, &hd), 0);
    assert_int_equal(es_helpdesk_get(NULL, &hd), 0);

    struct es_ticket_request rq = { .mention_id = f->root, .agent = "sam" };
    int64_t id, id2;
    int64_t before = es_time_now();
    assert_int_equal(open_t(ib, cfg, &rq, &id, NULL), 0);
    rq.mention_id = f->other;
    assert_int_equal(open_t(ib, off, &rq, &id2, NULL), 0);
    struct es_ticket t;
    assert_int_equal(es_ticket_get(ib, id2, &t), 0);
    assert_null(t.forward_state); /* forwarding off: never sent */
    es_ticket_release(&t);
    assert_int_equal(es_ticket_get(ib, id, &t), 0);
    assert_string_equal(t.forward_state, "pending");
    assert_true(t.forward_next >= before && t.forward_next <= es_time_now());

    /* The body: documented fields, the snapshot, the delivery id. */
    struct es_ticket_delivery d;
    es_ticket_delivery_init(&d);
    int64_t now = es_time_now();
    assert_int_equal(es_tickets_forward_next(ib, now, &d), 0);
    assert_int_equal(d.ticket_id, id);
    assert_int_equal(d.attempts, 0);
    char want_id[64];
    snprintf(want_id, sizeof(want_id), "earshot-ticket-%lld-%lld",
             (long long)id, (long long)t.created_at);
    assert_string_equal(d.id.ptr, want_id);
    struct es_buf body = ES_BUF_INIT;
    es_tickets_forward_body(&t, &body);
    assert_string_equal(d.body.ptr, body.ptr);
    es_buf_release(&body);
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(
            es_inbox__db(ib),
            "SELECT json_valid(?1), json_extract(?1, '$.event'),"
            " json_extract(?1, '$.delivery'), json_extract(?1,"
            " '$.ticket.id'), json_extract(?1, '$.ticket.subject'),"
            " json_extract(?1, '$.ticket.state'), json_extract(?1,"
            " '$.ticket.priority'), json_extract(?1, '$.ticket.created_at'),"
            " json_array_length(?1, '$.ticket.context.mentions'),"
            " json_extract(?1, '$.ticket.context.mentions[0].author')",
            -1, &stmt, NULL),
        SQLITE_OK);
    sqlite3_bind_text(stmt, 1, d.body.ptr, (int)d.body.len, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(stmt, 0), 1);
    assert_string_equal(sqlite3_column_text(stmt, 1), "ticket.created");
    assert_string_equal(sqlite3_column_text(stmt, 2), want_id);
    assert_int_equal(sqlite3_column_int64(stmt, 3), id);
    assert_string_equal(sqlite3_column_text(stmt, 4), t.subject);
    assert_string_equal(sqlite3_column_text(stmt, 5), "open");
    assert_int_equal(sqlite3_column_int(stmt, 6), 80);
    char iso[21];
    assert_string_equal(sqlite3_column_text(stmt, 7),
                        es_time_format(t.created_at, iso));
    assert_int_equal(sqlite3_column_int(stmt, 8), 4);
    assert_string_equal(sqlite3_column_text(stmt, 9), "ann");
    sqlite3_finalize(stmt);
    assert_null(strstr(d.body.ptr, "s3cret"));
    es_ticket_release(&t);

    /* Leased: nobody else takes it meanwhile. */
    struct es_ticket_delivery d2;
    es_ticket_delivery_init(&d2);
    assert_int_equal(es_tickets_forward_next(ib, now, &d2), ES_ENOTFOUND);
    assert_int_equal(
        es_tickets_forward_next(ib, now + ES_TICKETS_FORWARD_LEASE, &d2), 0);
    assert_int_equal(d2.ticket_id, id);
    es_ticket_delivery_release(&d2);

    /* 500: counted, kept, retried at the time given. */
    assert_int_equal(es_tickets_forward_result(ib, id, 500, NULL, now + 60), 0);
    assert_int_equal(es_ticket_get(ib, id, &t), 0);
    assert_string_equal(t.forward_state, "pending");
    assert_int_equal(t.forward_attempts, 1);
    assert_int_equal(t.forward_next, now + 60);
    assert_string_equal(t.forward_error, "HTTP 500");
    es_ticket_release(&t);
    assert_int_equal(es_tickets_forward_next(ib, now + 59, &d2), ES_ENOTFOUND);
    assert_int_equal(es_tickets_forward_next(ib, now + 60, &d2), 0);
    assert_int_equal(d2.attempts, 1);
    assert_string_equal(d2.id.ptr, want_id); /* the same on every try */
    assert_int_equal(es_tickets_forward_result(
                         ib, id, 0, "cannot fetch: refused", now + 180),
                     0);
    assert_int_equal(es_tickets_forward_next(ib, now + 180, &d2), 0);
    long long audit1 = audit_rows(ib);
    assert_int_equal(es_tickets_forward_result(ib, id, 202, NULL, 0), 0);
    assert_int_equal(es_ticket_get(ib, id, &t), 0);
    assert_string_equal(t.forward_state, "delivered");
    assert_int_equal(t.forward_attempts, 3);
    assert_null(t.forward_error);
    assert_true(t.forward_next == ES_TIME_UNKNOWN);
    es_ticket_release(&t);
    assert_int_equal(audit_rows(ib), audit1 + 1);
    /* Delivered is final; nothing more is due. */
    assert_int_equal(es_tickets_forward_result(ib, id, 200, NULL, 0),
                     ES_ENOTFOUND);
    assert_int_equal(es_tickets_forward_next(ib, now + 100000, &d2),
                     ES_ENOTFOUND);

    /* The ticket's JSON never carries the secret either. */
    struct es_buf js = ES_BUF_INIT;
    assert_int_equal(es_ticket_get(ib, id, &t), 0);
    es_ticket_json(&js, &t);
    assert_null(strstr(js.ptr, "s3cret"));
    assert_non_null(strstr(js.ptr, "\"forward\":{\"state\":\"delivered\","
                                   "\"attempts\":3,\"next\":null,"
                                   "\"error\":null}"));
    es_ticket_release(&t);
    es_buf_release(&js);
    es_ticket_delivery_release(&d);
    es_ticket_delivery_release(&d2);
    es_config_free(cfg);
    es_config_free(off);
}

/* ==== Acknowledgement and private message ==== */

static void test_ack_and_dm(void **state)
{
    struct fx *f = *state;
    struct es_inbox *ib = f->ib;
    struct es_config *cfg = NULL;
    if (es_config_load_string(&cfg,
                              "[account \"acme\"]\n"
                              "type = mastodon\n"
                              "base_url = http://127.0.0.1:9\n"
                              "token = tok\n",
                              "test.conf") < 0)
        fail_msg("%s", es_error_last());
    assert_int_equal(es_canned_add(ib, "ack",
                                   "Thanks {author}, this is ticket "
                                   "#{ticket}: we will write to you.",
                                   "dana", 0),
                     0);
    assert_int_equal(es_canned_add(ib, "dm",
                                   "Hi {author}, {agent} here about ticket "
                                   "#{ticket}. Your order number?",
                                   "dana", 0),
                     0);

    /* Checked before anything changes: an unknown canned reply, a
     * platform with no replies, one with no private messages, no
     * account. */
    struct es_ticket_request rq = {
        .mention_id = f->reply2,
        .agent = "sam",
        .ack_canned = "ack",
        .dm_canned = "nope",
    };
    struct es_ticket_opened o;
    long long audit0 = audit_rows(ib);
    assert_int_equal(es_ticket_open(ib, cfg, &rq, &o), ES_ENOTFOUND);
    assert_non_null(strstr(es_error_last(), "no canned reply 'nope'"));
    rq.mention_id = f->feed;
    rq.dm_canned = NULL;
    assert_int_equal(es_ticket_open(ib, cfg, &rq, &o), ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "cannot acknowledge mention"));
    int64_t yt_src;
    assert_int_equal(es_inbox_source_ensure(ib, "yt", "youtube", &yt_src), 0);
    rq.mention_id = put(ib, yt_src, "youtube", "c1", NULL, "gus", NULL, 3,
                        "meh", T0, 10, 0);
    rq.ack_canned = NULL;
    rq.dm_canned = "dm";
    assert_int_equal(es_ticket_open(ib, cfg, &rq, &o), ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "private message"));
    rq.mention_id = f->reply2;
    rq.ack_canned = "ack";
    assert_int_equal(es_ticket_open(ib, NULL, &rq, &o), ES_ENOTFOUND);
    assert_int_equal(sql_int(ib, "SELECT count(*) FROM tickets"), 0);
    assert_int_equal(sql_int(ib, "SELECT count(*) FROM replies"), 0);
    assert_int_equal(audit_rows(ib), audit0);
    assert_string_equal(state_of(ib, f->reply2), "new");

    /* Both queued with the new ticket, rendered for it. */
    assert_int_equal(es_ticket_open(ib, cfg, &rq, &o), 0);
    assert_int_equal(o.created, 1);
    assert_true(o.ack_reply_id > 0);
    assert_true(o.dm_reply_id > 0);
    char buf[512], want[256];
    snprintf(want, sizeof(want),
             "public|%lld|%lld|queued|@ann Thanks Ann Example, this is "
             "ticket #%lld: we will write to you.",
             (long long)f->reply2, (long long)o.ticket_id,
             (long long)o.ticket_id);
    assert_string_equal(sql_text(ib, buf, sizeof(buf),
                                 "SELECT visibility || '|' || mention_id ||"
                                 " '|' || ticket_id || '|' || state || '|' ||"
                                 " body FROM replies WHERE id = %lld",
                                 (long long)o.ack_reply_id),
                        want);
    snprintf(want, sizeof(want),
             "private|%lld|@ann Hi Ann Example, sam here about ticket #%lld. "
             "Your order number?",
             (long long)o.ticket_id, (long long)o.ticket_id);
    assert_string_equal(sql_text(ib, buf, sizeof(buf),
                                 "SELECT visibility || '|' || ticket_id ||"
                                 " '|' || body FROM replies WHERE id = %lld",
                                 (long long)o.dm_reply_id),
                        want);
    /* The DM is the ticket's first message out. */
    struct msgs ms = { 0 };
    assert_int_equal(es_ticket_messages_each(ib, o.ticket_id, on_message, &ms),
                     0);
    assert_int_equal(ms.n, 1);
    snprintf(want, sizeof(want),
             "out|sam|@ann Hi Ann Example, sam here about ticket #%lld. Your "
             "order number?",
             (long long)o.ticket_id);
    assert_string_equal(ms.last, want);

    /* Never twice: the conversation's ticket exists now. */
    int64_t first = o.ticket_id;
    rq.mention_id = f->root;
    rq.agent = "dana";
    assert_int_equal(es_ticket_open(ib, cfg, &rq, &o), ES_EEXISTS);
    assert_int_equal(o.ticket_id, first);
    assert_int_equal(o.created, 0);
    assert_non_null(strstr(es_error_last(), "earshot reply"));
    assert_int_equal(sql_int(ib, "SELECT count(*) FROM replies"), 2);
    /* Without notices an existing ticket is simply shown. */
    rq.ack_canned = rq.dm_canned = NULL;
    assert_int_equal(es_ticket_open(ib, cfg, &rq, &o), 0);
    assert_int_equal(o.ticket_id, first);
    es_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_live_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_per_conversation, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stale_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_viewer_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_assign_priority_notes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_and_dm, setup, teardown),
        cmocka_unit_test(test_signature),
        cmocka_unit_test_setup_teardown(test_forward_bookkeeping, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
