/* test_triage.c - states, bulk changes, assignment, notes, tags, canned
 * replies, threads and saved views (include/earshot/triage.h)
 *
 * Runs on in-memory inboxes, and on a temporary file opened twice where
 * two agents (two connections) must see each other's changes: the
 * stale-version guard. Every change is checked for its audit row and its
 * conversation touch as well as for the change itself.
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

#include "earshot/alloc.h"
#include "earshot/config.h"
#include "earshot/error.h"
#include "earshot/inbox.h"
#include "earshot/triage.h"
#include "earshot/workflow.h"
#include "inbox/store.h"

/* ==== Fixtures ==== */

struct fx {
    struct es_inbox *ib;
    int64_t src;  /* a mastodon source */
    int64_t feed; /* an rss source */
};

static int setup(void **state)
{
    struct fx *fx = es_xcalloc(1, sizeof(*fx));
    if (es_inbox_open(&fx->ib, ":memory:") < 0 ||
        es_inbox_source_ensure(fx->ib, "masto", "mastodon", &fx->src) < 0 ||
        es_inbox_source_ensure(fx->ib, "blog", "rss", &fx->feed) < 0 ||
        es_agent_add(fx->ib, "dana", ES_ROLE_ADMIN, NULL) < 0 ||
        es_agent_add(fx->ib, "sam", ES_ROLE_AGENT, "dana") < 0 ||
        es_agent_add(fx->ib, "vic", ES_ROLE_VIEWER, "dana") < 0)
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    es_inbox_free(fx->ib);
    free(fx);
    return 0;
}

struct post {
    const char *platform; /* NULL: mastodon */
    const char *id;
    const char *parent; /* in_reply_to */
    int64_t created;
    const char *author;
    const char *author_name;
    const char *lang;
    int priority; /* < 0: unscored */
    int label;
};

/* Stores @p in source @src; returns the mention id. */
static int64_t put(struct es_inbox *ib, int64_t src, const struct post *p)
{
    struct es_item it;
    struct es_scores sc;
    int64_t id = 0;
    es_item_init(&it);
    it.platform = es_xstrdup(p->platform ? p->platform : "mastodon");
    it.external_id = es_xstrdup(p->id);
    it.text = es_xasprintf("text of %s", p->id);
    if (p->parent) {
        it.in_reply_to = es_xstrdup(p->parent);
        it.kind = ES_KIND_REPLY;
    }
    if (p->author)
        it.author = es_xstrdup(p->author);
    if (p->author_name)
        it.author_name = es_xstrdup(p->author_name);
    if (p->lang)
        it.lang = es_xstrdup(p->lang);
    it.created_at = p->created ? p->created : ES_TIME_UNKNOWN;
    memset(&sc, 0, sizeof(sc));
    sc.label = p->label;
    sc.priority = p->priority;
    strcpy(sc.reasons, "[]");
    assert_int_equal(
        es_inbox_put(ib, src, &it, p->priority >= 0 ? &sc : NULL, NULL, &id),
        0);
    es_item_release(&it);
    return id;
}

static int64_t put_simple(struct fx *fx, const char *id)
{
    struct post p = { .id = id, .priority = -1 };
    return put(fx->ib, fx->src, &p);
}

static const char *state_of(struct es_inbox *ib, int64_t id)
{
    static char buf[16];
    struct es_mention m;
    assert_int_equal(es_inbox_get(ib, id, &m), 0);
    snprintf(buf, sizeof(buf), "%s", m.state);
    es_mention_release(&m);
    return buf;
}

struct audit_seen {
    int n;
    char last[512];
};

static int on_audit(const struct es_audit_entry *e, void *payload)
{
    struct audit_seen *s = payload;
    s->n++;
    snprintf(s->last, sizeof(s->last), "%s|%s|%s|%s|%s", e->agent, e->action,
             e->object, e->before ? e->before : "-", e->after ? e->after : "-");
    return 0;
}

/* The number of audit rows, and the last one in @last (may be NULL). */
static int audit_rows(struct es_inbox *ib, char *last, size_t size)
{
    struct audit_seen s = { 0 };
    assert_int_equal(es_audit_each(ib, ES_TIME_UNKNOWN, NULL, 0, on_audit, &s),
                     0);
    if (last)
        snprintf(last, size, "%s", s.last);
    return s.n;
}

static int64_t version_of(struct es_inbox *ib, int64_t mention)
{
    struct es_buf key = ES_BUF_INIT;
    int64_t v = 0;
    assert_int_equal(es_conversation_of(ib, mention, &key), 0);
    assert_int_equal(es_conversation_version(ib, key.ptr, &v), 0);
    es_buf_release(&key);
    return v;
}

/* conversations.resolved_at of @key: -1 for NULL or no row. */
static int64_t resolved_at(struct es_inbox *ib, const char *key)
{
    sqlite3_stmt *stmt = NULL;
    int64_t at = -1;
    assert_int_equal(sqlite3_prepare_v2(es_inbox__db(ib),
                                        "SELECT resolved_at FROM conversations"
                                        " WHERE key = ?1",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(stmt) == SQLITE_ROW &&
        sqlite3_column_type(stmt, 0) != SQLITE_NULL)
        at = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return at;
}

/* ==== States ==== */

static void test_transition_table(void **state)
{
    (void)state;
    enum es_state s;
    assert_int_equal(es_state_parse("pending", &s), 0);
    assert_int_equal(s, ES_STATE_PENDING);
    assert_string_equal(es_state_name(ES_STATE_IGNORED), "ignored");
    assert_int_equal(es_state_parse("closed", &s), ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "unknown state 'closed'"));

    /* Allowed. */
    assert_true(es_state_allowed(ES_STATE_NEW, ES_STATE_OPEN));
    assert_true(es_state_allowed(ES_STATE_NEW, ES_STATE_SPAM));
    assert_true(es_state_allowed(ES_STATE_OPEN, ES_STATE_PENDING));
    assert_true(es_state_allowed(ES_STATE_PENDING, ES_STATE_OPEN));
    assert_true(es_state_allowed(ES_STATE_RESOLVED, ES_STATE_OPEN));
    assert_true(es_state_allowed(ES_STATE_SPAM, ES_STATE_NEW));
    assert_true(es_state_allowed(ES_STATE_IGNORED, ES_STATE_OPEN));
    assert_true(es_state_allowed(ES_STATE_RESOLVED, ES_STATE_RESOLVED));
    /* Refused. */
    assert_false(es_state_allowed(ES_STATE_OPEN, ES_STATE_NEW));
    assert_false(es_state_allowed(ES_STATE_RESOLVED, ES_STATE_PENDING));
    assert_false(es_state_allowed(ES_STATE_RESOLVED, ES_STATE_NEW));
    assert_false(es_state_allowed(ES_STATE_PENDING, ES_STATE_SPAM));
    assert_false(es_state_allowed(ES_STATE_SPAM, ES_STATE_RESOLVED));
    assert_false(es_state_allowed(ES_STATE_IGNORED, ES_STATE_PENDING));
    assert_false(es_state_allowed((enum es_state)42, ES_STATE_OPEN));
    assert_string_equal(es_state_targets(ES_STATE_RESOLVED), "open");
}

static void test_set_state(void **state)
{
    struct fx *fx = *state;
    struct es_inbox *ib = fx->ib;
    int64_t id = put_simple(fx, "100");
    int rows = audit_rows(ib, NULL, 0);
    struct es_change ch;
    char last[512];

    assert_int_equal(es_triage_set_state(ib, id, "open", "sam", 0, &ch), 0);
    assert_int_equal(ch.changed, 1);
    assert_int_equal(ch.version, 2);
    assert_string_equal(ch.before, "new");
    es_change_release(&ch);
    assert_string_equal(state_of(ib, id), "open");
    assert_int_equal(audit_rows(ib, last, sizeof(last)), rows + 1);
    char want[64];
    snprintf(want, sizeof(want), "sam|state|mention:%lld|new|open",
             (long long)id);
    assert_string_equal(last, want);

    /* The same state: a no-op, nothing audited, the version stays. */
    assert_int_equal(es_triage_set_state(ib, id, "open", "sam", 0, &ch), 0);
    assert_int_equal(ch.changed, 0);
    assert_int_equal(ch.version, 2);
    es_change_release(&ch);
    assert_int_equal(audit_rows(ib, NULL, 0), rows + 1);

    /* Refused by the table: nothing changes. */
    assert_int_equal(es_triage_set_state(ib, id, "resolved", "sam", 2, &ch), 0);
    assert_int_equal(ch.version, 3);
    es_change_release(&ch);
    assert_int_equal(es_triage_set_state(ib, id, "pending", "sam", 0, &ch),
                     ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "is resolved: it can go to open "
                                            "only, not pending"));
    assert_string_equal(state_of(ib, id), "resolved");
    assert_int_equal(version_of(ib, id), 3);
    assert_int_equal(audit_rows(ib, NULL, 0), rows + 2);
    assert_int_equal(es_triage_set_state(ib, id, "new", "sam", 0, NULL),
                     ES_EINVALID);
    /* Reopen. */
    assert_int_equal(es_triage_set_state(ib, id, "open", "sam", 0, NULL), 0);
    assert_string_equal(state_of(ib, id), "open");

    /* Bad input. */
    assert_int_equal(es_triage_set_state(ib, id, "closed", "sam", 0, NULL),
                     ES_EINVALID);
    assert_int_equal(es_triage_set_state(ib, 9999, "open", "sam", 0, NULL),
                     ES_ENOTFOUND);
    assert_non_null(strstr(es_error_last(), "no mention 9999"));
    assert_int_equal(es_triage_set_state(ib, id, "open", "ghost", 0, NULL),
                     ES_ENOTFOUND);
    assert_non_null(strstr(es_error_last(), "earshot agent add"));
}

static void test_viewer_and_disabled_refused(void **state)
{
    struct fx *fx = *state;
    struct es_inbox *ib = fx->ib;
    int64_t id = put_simple(fx, "200");
    const char *tags[] = { "billing" };
    assert_int_equal(es_triage_set_state(ib, id, "open", "vic", 0, NULL),
                     ES_EAUTH);
    assert_non_null(strstr(es_error_last(), "agent 'vic' is a viewer"));
    assert_non_null(strstr(es_error_last(), "change states"));
    assert_int_equal(es_triage_assign(ib, id, "sam", "vic", 0, NULL), ES_EAUTH);
    assert_int_equal(es_triage_note_add(ib, id, "hi", "vic", 0, NULL, NULL),
                     ES_EAUTH);
    assert_int_equal(es_triage_tag(ib, id, tags, 1, "vic", 0, NULL), ES_EAUTH);
    struct es_bulk_result br;
    struct es_inbox_query q = { .state = "new" };
    assert_int_equal(es_triage_set_state_bulk(ib, &q, "open", "vic", &br),
                     ES_EAUTH);

    int rows = audit_rows(ib, NULL, 0);
    assert_int_equal(es_agent_set_disabled(ib, "sam", 1, "dana"), 0);
    rows++;
    assert_int_equal(es_triage_set_state(ib, id, "open", "sam", 0, NULL),
                     ES_EAUTH);
    assert_non_null(strstr(es_error_last(), "agent 'sam' is disabled"));
    assert_int_equal(es_triage_note_add(ib, id, "hi", "sam", 0, NULL, NULL),
                     ES_EAUTH);
    /* Nothing changed, nothing audited, the version did not move. */
    assert_string_equal(state_of(ib, id), "new");
    assert_int_equal(audit_rows(ib, NULL, 0), rows);
    assert_int_equal(version_of(ib, id), 1);
}

static void test_resolved_at(void **state)
{
    struct fx *fx = *state;
    struct es_inbox *ib = fx->ib;
    struct post root = { .id = "300", .created = 1000, .priority = -1 };
    struct post r1 = {
        .id = "301", .parent = "300", .created = 1100, .priority = -1
    };
    struct post r2 = {
        .id = "302", .parent = "301", .created = 1200, .priority = -1
    };
    int64_t a = put(ib, fx->src, &root), b = put(ib, fx->src, &r1),
            c = put(ib, fx->src, &r2);
    assert_int_equal(es_triage_set_state(ib, a, "resolved", "sam", 0, NULL), 0);
    assert_int_equal(resolved_at(ib, "mastodon:300"), -1);
    assert_int_equal(es_triage_set_state(ib, b, "resolved", "sam", 0, NULL), 0);
    assert_int_equal(resolved_at(ib, "mastodon:300"), -1);
    /* The last open one is spam: the rest resolved is resolution. */
    assert_int_equal(es_triage_set_state(ib, c, "spam", "sam", 0, NULL), 0);
    int64_t at = resolved_at(ib, "mastodon:300");
    assert_true(at > 0 && at <= es_time_now());
    /* Reopened: not resolved any more. */
    assert_int_equal(es_triage_set_state(ib, b, "open", "sam", 0, NULL), 0);
    assert_int_equal(resolved_at(ib, "mastodon:300"), -1);
    assert_int_equal(es_triage_set_state(ib, b, "resolved", "sam", 0, NULL), 0);
    assert_true(resolved_at(ib, "mastodon:300") > 0);

    /* A feed entry is a conversation of its own. */
    struct post f = { .platform = "rss", .id = "post-1", .priority = -1 };
    int64_t fid = put(ib, fx->feed, &f);
    char key[32];
    snprintf(key, sizeof(key), "m:%lld", (long long)fid);
    assert_int_equal(es_triage_set_state(ib, fid, "resolved", "sam", 0, NULL),
                     0);
    assert_true(resolved_at(ib, key) > 0);
    /* Only spam is no resolution. */
    struct post g = { .platform = "rss", .id = "post-2", .priority = -1 };
    int64_t gid = put(ib, fx->feed, &g);
    snprintf(key, sizeof(key), "m:%lld", (long long)gid);
    assert_int_equal(es_triage_set_state(ib, gid, "spam", "sam", 0, NULL), 0);
    assert_int_equal(resolved_at(ib, key), -1);
}

/* ==== Bulk ==== */

static void test_bulk(void **state)
{
    struct fx *fx = *state;
    struct es_inbox *ib = fx->ib;
    int64_t ids[6];
    for (int i = 0; i < 6; i++) {
        char ext[8];
        snprintf(ext, sizeof(ext), "4%02d", i);
        struct post p = { .id = ext, .priority = 10 * i, .label = -1 };
        ids[i] = put(ib, fx->src, &p);
    }
    struct post f = { .platform = "rss", .id = "feed-1", .priority = 90 };
    int64_t fid = put(ib, fx->feed, &f);
    /* 0 open, 1 resolved, 2 pending; 3..5 new. */
    assert_int_equal(es_triage_set_state(ib, ids[0], "open", "sam", 0, NULL),
                     0);
    assert_int_equal(
        es_triage_set_state(ib, ids[1], "resolved", "sam", 0, NULL), 0);
    assert_int_equal(es_triage_set_state(ib, ids[2], "pending", "sam", 0, NULL),
                     0);
    int rows = audit_rows(ib, NULL, 0);

    /* Everything on mastodon to spam: new and open may, resolved and
     * pending may not. */
    struct es_inbox_query q = { .platform = "mastodon" };
    struct es_bulk_result br;
    assert_int_equal(es_triage_set_state_bulk(ib, &q, "spam", "sam", &br), 0);
    assert_int_equal(br.matched, 6);
    assert_int_equal(br.changed, 4);
    assert_int_equal(br.refused, 2);
    assert_int_equal(br.unchanged, 0);
    assert_string_equal(state_of(ib, ids[0]), "spam");
    assert_string_equal(state_of(ib, ids[1]), "resolved");
    assert_string_equal(state_of(ib, ids[2]), "pending");
    assert_string_equal(state_of(ib, ids[5]), "spam");
    assert_string_equal(state_of(ib, fid), "new");
    assert_int_equal(audit_rows(ib, NULL, 0), rows + 4);

    /* Again: the four are spam already. */
    assert_int_equal(es_triage_set_state_bulk(ib, &q, "spam", "sam", &br), 0);
    assert_int_equal(br.changed, 0);
    assert_int_equal(br.unchanged, 4);
    assert_int_equal(br.refused, 2);

    /* By state and a limit: the two highest priority spam ones back. */
    struct es_inbox_query q2 = { .state = "spam", .limit = 2 };
    assert_int_equal(es_triage_set_state_bulk(ib, &q2, "open", "sam", &br), 0);
    assert_int_equal(br.changed, 2);
    assert_string_equal(state_of(ib, ids[5]), "open");
    assert_string_equal(state_of(ib, ids[4]), "open");
    assert_string_equal(state_of(ib, ids[3]), "spam");

    /* By tag and by source. */
    const char *tags[] = { "vip" };
    assert_int_equal(es_triage_tag(ib, ids[3], tags, 1, "sam", 0, NULL), 0);
    struct es_inbox_query q3 = { .tag = "vip" };
    assert_int_equal(es_triage_set_state_bulk(ib, &q3, "new", "sam", &br), 0);
    assert_int_equal(br.matched, 1);
    assert_int_equal(br.changed, 1);
    assert_string_equal(state_of(ib, ids[3]), "new");
    struct es_inbox_query q4 = { .source = "blog" };
    assert_int_equal(es_triage_set_state_bulk(ib, &q4, "ignored", "sam", &br),
                     0);
    assert_int_equal(br.matched, 1);
    assert_string_equal(state_of(ib, fid), "ignored");

    /* What is not FTS5 syntax searches its words: here none matches, and
     * nothing changes. */
    struct es_inbox_query odd = { .search = "\"unclosed" };
    assert_int_equal(es_triage_set_state_bulk(ib, &odd, "open", "sam", &br), 0);
    assert_int_equal(br.matched, 0);
    assert_int_equal(br.changed, 0);
    assert_int_equal(es_triage_set_state_bulk(ib, &q, "closed", "sam", &br),
                     ES_EINVALID);
}

/* ==== The stale guard, across two connections ==== */

static void test_stale_version(void **state)
{
    (void)state;
    char path[] = "/tmp/es-triage-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct es_inbox *a = NULL, *b = NULL;
    int64_t src;
    assert_int_equal(es_inbox_open(&a, path), 0);
    assert_int_equal(es_inbox_open(&b, path), 0);
    assert_int_equal(es_inbox_source_ensure(a, "masto", "mastodon", &src), 0);
    assert_int_equal(es_agent_add(a, "dana", ES_ROLE_ADMIN, NULL), 0);
    assert_int_equal(es_agent_add(a, "sam", ES_ROLE_AGENT, "dana"), 0);
    struct post p = { .id = "500", .priority = -1 };
    int64_t id = put(a, src, &p);

    /* Both load version 1; sam (connection b) changes it first. */
    int64_t loaded = version_of(a, id);
    assert_int_equal(loaded, 1);
    assert_int_equal(es_triage_set_state(b, id, "pending", "sam", loaded, NULL),
                     0);
    int rows = audit_rows(a, NULL, 0);
    struct es_change ch;
    assert_int_equal(
        es_triage_set_state(a, id, "resolved", "dana", loaded, &ch),
        ES_EEXISTS);
    char want[96];
    snprintf(want, sizeof(want), "sam set mention %lld new -> pending",
             (long long)id);
    assert_non_null(strstr(es_error_last(), want));
    assert_non_null(strstr(es_error_last(), "version 1, now 2"));
    assert_string_equal(state_of(a, id), "pending");
    assert_int_equal(audit_rows(a, NULL, 0), rows);
    /* Even a change that would be a no-op is refused when stale. */
    assert_int_equal(
        es_triage_set_state(a, id, "pending", "dana", loaded, NULL),
        ES_EEXISTS);
    /* The other changes honour the guard too. */
    const char *tags[] = { "x" };
    assert_int_equal(es_triage_tag(a, id, tags, 1, "dana", loaded, NULL),
                     ES_EEXISTS);
    assert_int_equal(
        es_triage_note_add(a, id, "note", "dana", loaded, NULL, NULL),
        ES_EEXISTS);
    assert_int_equal(es_triage_assign(a, id, "dana", "dana", loaded, NULL),
                     ES_EEXISTS);
    assert_int_equal(audit_rows(a, NULL, 0), rows);
    /* Loaded again, it goes through. */
    loaded = version_of(a, id);
    assert_int_equal(loaded, 2);
    assert_int_equal(
        es_triage_set_state(a, id, "resolved", "dana", loaded, &ch), 0);
    assert_int_equal(ch.version, 3);
    es_change_release(&ch);
    es_inbox_free(a);
    es_inbox_free(b);
    unlink(path);
    char *wal = es_xasprintf("%s-wal", path),
         *shm = es_xasprintf("%s-shm", path);
    unlink(wal);
    unlink(shm);
    free(wal);
    free(shm);
}

/* ==== Assignment, notes, tags ==== */

static void test_assign(void **state)
{
    struct fx *fx = *state;
    struct es_inbox *ib = fx->ib;
    int64_t id = put_simple(fx, "600");
    struct es_change ch;
    char last[512], want[96];

    assert_int_equal(es_triage_assign(ib, id, "sam", "dana", 0, &ch), 0);
    assert_int_equal(ch.changed, 1);
    assert_null(ch.before);
    assert_int_equal(ch.version, 2);
    es_change_release(&ch);
    audit_rows(ib, last, sizeof(last));
    snprintf(want, sizeof(want), "dana|assign|mention:%lld|-|sam",
             (long long)id);
    assert_string_equal(last, want);
    struct es_mention m;
    assert_int_equal(es_inbox_get(ib, id, &m), 0);
    assert_string_equal(m.assignee, "sam");
    es_mention_release(&m);

    /* The same assignee: a no-op. */
    int rows = audit_rows(ib, NULL, 0);
    assert_int_equal(es_triage_assign(ib, id, "sam", "sam", 0, &ch), 0);
    assert_int_equal(ch.changed, 0);
    es_change_release(&ch);
    assert_int_equal(audit_rows(ib, NULL, 0), rows);

    /* Viewers, unknown and disabled agents cannot be assigned. */
    assert_int_equal(es_triage_assign(ib, id, "vic", "dana", 0, NULL),
                     ES_EAUTH);
    assert_non_null(strstr(es_error_last(), "be assigned mentions"));
    assert_int_equal(es_triage_assign(ib, id, "ghost", "dana", 0, NULL),
                     ES_ENOTFOUND);
    assert_int_equal(es_agent_add(ib, "lee", ES_ROLE_AGENT, "dana"), 0);
    assert_int_equal(es_agent_set_disabled(ib, "lee", 1, "dana"), 0);
    assert_int_equal(es_triage_assign(ib, id, "lee", "dana", 0, NULL),
                     ES_EAUTH);
    /* Admins can be. */
    assert_int_equal(es_triage_assign(ib, id, "dana", "sam", 0, &ch), 0);
    assert_string_equal(ch.before, "sam");
    es_change_release(&ch);

    assert_int_equal(es_triage_assign(ib, id, NULL, "sam", 0, &ch), 0);
    assert_int_equal(ch.changed, 1);
    assert_string_equal(ch.before, "dana");
    assert_int_equal(ch.version, 4);
    es_change_release(&ch);
    audit_rows(ib, last, sizeof(last));
    snprintf(want, sizeof(want), "sam|unassign|mention:%lld|dana|-",
             (long long)id);
    assert_string_equal(last, want);
    assert_int_equal(es_triage_assign(ib, id, NULL, "sam", 0, &ch), 0);
    assert_int_equal(ch.changed, 0);
    es_change_release(&ch);
}

struct notes_seen {
    int n;
    char text[256];
};

static int on_note(const struct es_note *n, void *payload)
{
    struct notes_seen *s = payload;
    size_t len = strlen(s->text);
    snprintf(s->text + len, sizeof(s->text) - len, "%s%s:%s", s->n ? "|" : "",
             n->agent, n->body);
    s->n++;
    return 0;
}

static int on_tag(const char *tag, void *payload)
{
    struct es_buf *b = payload;
    es_buf_adds(b, b->len ? "," : "");
    es_buf_adds(b, tag);
    return 0;
}

static void test_notes_and_tags(void **state)
{
    struct fx *fx = *state;
    struct es_inbox *ib = fx->ib;
    int64_t id = put_simple(fx, "700");
    int64_t other = put_simple(fx, "701");
    struct es_change ch;
    char last[512], want[128];
    int64_t nid = 0;

    assert_int_equal(es_triage_note_add(ib, id,
                                        "called them, refund on its way", "sam",
                                        0, &nid, &ch),
                     0);
    assert_true(nid > 0);
    assert_int_equal(ch.version, 2);
    es_change_release(&ch);
    assert_int_equal(
        es_triage_note_add(ib, id, "second", "dana", 2, NULL, NULL), 0);
    assert_int_equal(es_triage_note_add(ib, id, "  \n", "dana", 0, NULL, NULL),
                     ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "empty"));
    struct notes_seen ns = { 0 };
    assert_int_equal(es_triage_notes_each(ib, id, on_note, &ns), 0);
    assert_int_equal(ns.n, 2);
    assert_string_equal(ns.text,
                        "sam:called them, refund on its way|dana:second");
    audit_rows(ib, last, sizeof(last));
    snprintf(want, sizeof(want), "dana|note|mention:%lld|-|second",
             (long long)id);
    assert_string_equal(last, want);

    const char *t1[] = { "billing", "refund" };
    assert_int_equal(es_triage_tag(ib, id, t1, 2, "sam", 0, &ch), 0);
    assert_int_equal(ch.changed, 1);
    assert_null(ch.before);
    es_change_release(&ch);
    const char *t2[] = { "refund", "vip" };
    assert_int_equal(es_triage_tag(ib, id, t2, 2, "sam", 0, &ch), 0);
    assert_string_equal(ch.before, "billing,refund");
    es_change_release(&ch);
    audit_rows(ib, last, sizeof(last));
    snprintf(want, sizeof(want),
             "sam|tag|mention:%lld|billing,refund|billing,refund,vip",
             (long long)id);
    assert_string_equal(last, want);
    /* Tags it has already: a no-op. */
    int rows = audit_rows(ib, NULL, 0);
    int64_t v = version_of(ib, id);
    assert_int_equal(es_triage_tag(ib, id, t1, 2, "sam", 0, &ch), 0);
    assert_int_equal(ch.changed, 0);
    es_change_release(&ch);
    assert_int_equal(audit_rows(ib, NULL, 0), rows);
    assert_int_equal(version_of(ib, id), v);

    const char *bad[] = { "two words" };
    assert_int_equal(es_triage_tag(ib, id, bad, 1, "sam", 0, NULL),
                     ES_EINVALID);
    const char *comma[] = { "a,b" };
    assert_int_equal(es_triage_tag(ib, id, comma, 1, "sam", 0, NULL),
                     ES_EINVALID);
    assert_int_equal(es_triage_tag(ib, id, t1, 0, "sam", 0, NULL), ES_EINVALID);

    const char *u[] = { "billing", "nope" };
    assert_int_equal(es_triage_untag(ib, id, u, 2, "dana", 0, &ch), 0);
    assert_int_equal(ch.changed, 1);
    es_change_release(&ch);
    audit_rows(ib, last, sizeof(last));
    snprintf(want, sizeof(want),
             "dana|untag|mention:%lld|billing,refund,vip|refund,vip",
             (long long)id);
    assert_string_equal(last, want);
    struct es_buf tags = ES_BUF_INIT;
    assert_int_equal(es_triage_tags_each(ib, id, on_tag, &tags), 0);
    assert_string_equal(tags.ptr, "refund,vip");
    es_buf_reset(&tags);
    assert_int_equal(es_triage_tags_each(ib, other, on_tag, &tags), 0);
    assert_string_equal(tags.ptr, "");
    es_buf_release(&tags);
}

/* ==== Canned replies ==== */

static int count_canned(const struct es_canned *c, void *payload)
{
    (void)c;
    (*(int *)payload)++;
    return 0;
}

static void test_canned(void **state)
{
    struct fx *fx = *state;
    struct es_inbox *ib = fx->ib;
    struct post p = {
        .id = "800", .author = "alice", .author_name = "Alice B", .priority = -1
    };
    int64_t id = put(ib, fx->src, &p);
    struct post q = { .id = "801", .author = "bob", .priority = -1 };
    int64_t id2 = put(ib, fx->src, &q);
    struct post r = { .id = "802", .priority = -1 };
    int64_t id3 = put(ib, fx->src, &r);
    struct es_buf out = ES_BUF_INIT;
    char last[512];

    assert_int_equal(es_canned_add(ib, "thanks",
                                   "Hi {author}, {agent} here: ticket "
                                   "{ticket} is open. {not a placeholder}",
                                   "dana", 0),
                     0);
    audit_rows(ib, last, sizeof(last));
    assert_non_null(
        strstr(last, "dana|canned add|canned:thanks|-|Hi {author}"));
    /* Agents use canned replies; admins manage them. */
    assert_int_equal(es_canned_add(ib, "x", "y", "sam", 0), ES_EAUTH);
    assert_non_null(strstr(es_error_last(), "manage canned replies"));
    assert_int_equal(es_canned_add(ib, "typo", "Hi {autor}", "dana", 0),
                     ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "unknown placeholder {autor}"));
    assert_int_equal(es_canned_add(ib, "thanks", "other", "dana", 0),
                     ES_EEXISTS);
    assert_int_equal(es_canned_add(ib, "two words", "x", "dana", 0),
                     ES_EINVALID);
    assert_int_equal(es_canned_add(ib, "empty", " ", "dana", 0), ES_EINVALID);

    assert_int_equal(es_canned_render(ib, "thanks", id, "sam", 42, &out), 0);
    assert_string_equal(out.ptr, "Hi Alice B, sam here: ticket 42 is open. "
                                 "{not a placeholder}");
    assert_int_equal(es_canned_render(ib, "thanks", id2, "sam", 7, &out), 0);
    assert_string_equal(out.ptr, "Hi bob, sam here: ticket 7 is open. "
                                 "{not a placeholder}");
    /* Nothing to put in a placeholder: an error naming it. */
    assert_int_equal(es_canned_render(ib, "thanks", id, "sam", 0, &out),
                     ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "canned reply 'thanks' uses "
                                            "{ticket}, but no ticket was "
                                            "given"));
    assert_int_equal(es_canned_render(ib, "thanks", id3, "sam", 1, &out),
                     ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "{author}"));
    assert_int_equal(es_canned_render(ib, "thanks", id, NULL, 1, &out),
                     ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "{agent}"));
    assert_int_equal(es_canned_render(ib, "thanks", 9999, "sam", 1, &out),
                     ES_ENOTFOUND);
    assert_int_equal(es_canned_render(ib, "nope", id, "sam", 1, &out),
                     ES_ENOTFOUND);
    assert_non_null(strstr(es_error_last(), "canned replies: thanks"));

    assert_int_equal(es_canned_add(ib, "bye", "Bye {agent}", "dana", 0), 0);
    assert_int_equal(es_canned_render(ib, "bye", 0, "sam", 0, &out), 0);
    assert_string_equal(out.ptr, "Bye sam");
    assert_int_equal(es_canned_add(ib, "bye", "Bye now", "dana", 1), 0);
    audit_rows(ib, last, sizeof(last));
    assert_string_equal(last, "dana|canned replace|canned:bye|Bye "
                              "{agent}|Bye now");
    struct es_canned c;
    assert_int_equal(es_canned_get(ib, "bye", &c), 0);
    assert_string_equal(c.body, "Bye now");
    assert_string_equal(c.updated_by, "dana");
    es_canned_release(&c);
    int n = 0;
    assert_int_equal(es_canned_each(ib, count_canned, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(es_canned_remove(ib, "bye", "sam"), ES_EAUTH);
    assert_int_equal(es_canned_remove(ib, "bye", "dana"), 0);
    audit_rows(ib, last, sizeof(last));
    assert_string_equal(last, "dana|canned rm|canned:bye|Bye now|-");
    assert_int_equal(es_canned_remove(ib, "bye", "dana"), ES_ENOTFOUND);
    assert_int_equal(es_canned_get(ib, "bye", &c), ES_ENOTFOUND);

    /* The pure expansion. */
    assert_int_equal(
        es_canned_expand("{agent}{agent} {x", "t", NULL, "a", NULL, &out), 0);
    assert_string_equal(out.ptr, "aa {x");
    assert_int_equal(es_canned_expand("{ticket}", "t", NULL, "a", NULL, &out),
                     ES_EINVALID);
    es_buf_release(&out);
}

/* ==== Threads ==== */

struct thread_seen {
    char text[512];
};

static int on_thread(const struct es_mention *m, int depth, void *payload)
{
    struct thread_seen *s = payload;
    size_t len = strlen(s->text);
    snprintf(s->text + len, sizeof(s->text) - len, "%s%d:%s", len ? " " : "",
             depth, m->item.external_id);
    return 0;
}

static void test_thread(void **state)
{
    struct fx *fx = *state;
    struct es_inbox *ib = fx->ib;
    /* A tree, stored out of order: a reply before its parent. */
    struct post posts[] = {
        { .id = "900", .created = 1000, .priority = -1 },
        { .id = "903", .parent = "902", .created = 1300, .priority = -1 },
        { .id = "901", .parent = "900", .created = 1100, .priority = -1 },
        { .id = "902", .parent = "900", .created = 1200, .priority = -1 },
        { .id = "904", .parent = "901", .created = 1400, .priority = -1 },
        { .id = "990", .created = 1050, .priority = -1 }, /* another thread */
    };
    int64_t ids[6];
    for (int i = 0; i < 6; i++)
        ids[i] = put(ib, fx->src, &posts[i]);
    struct thread_seen s = { { 0 } };
    assert_int_equal(es_triage_thread(ib, ids[4], on_thread, &s), 0);
    assert_string_equal(s.text, "0:900 1:901 1:902 2:903 2:904");
    memset(&s, 0, sizeof(s));
    assert_int_equal(es_triage_thread(ib, ids[5], on_thread, &s), 0);
    assert_string_equal(s.text, "0:990");
    struct post f = { .platform = "rss", .id = "feed-9", .priority = -1 };
    int64_t fid = put(ib, fx->feed, &f);
    memset(&s, 0, sizeof(s));
    assert_int_equal(es_triage_thread(ib, fid, on_thread, &s), 0);
    assert_string_equal(s.text, "0:feed-9");
    assert_int_equal(es_triage_thread(ib, 9999, on_thread, &s), ES_ENOTFOUND);
}

/* ==== Views and filters ==== */

static int collect(const struct es_mention *m, void *payload)
{
    struct es_buf *b = payload;
    es_buf_adds(b, b->len ? "," : "");
    es_buf_adds(b, m->item.external_id);
    return 0;
}

static const char *list(struct es_inbox *ib, const struct es_inbox_query *q,
                        struct es_buf *b)
{
    es_buf_reset(b);
    assert_int_equal(es_inbox_list(ib, q, collect, b), 0);
    return b->ptr;
}

static void test_filters_and_views(void **state)
{
    struct fx *fx = *state;
    struct es_inbox *ib = fx->ib;
    struct post posts[] = {
        { .id = "a", .lang = "en", .priority = 50, .label = -1 },
        { .id = "b", .lang = "en-GB", .priority = 40, .label = -1 },
        { .id = "c", .lang = "de", .priority = 30, .label = 1 },
        { .platform = "bluesky",
          .id = "d",
          .lang = "EN",
          .priority = 20,
          .label = -1 },
    };
    int64_t ids[4];
    for (int i = 0; i < 4; i++)
        ids[i] = put(ib, fx->src, &posts[i]);
    const char *tags[] = { "billing" };
    assert_int_equal(es_triage_tag(ib, ids[1], tags, 1, "sam", 0, NULL), 0);
    assert_int_equal(es_triage_tag(ib, ids[3], tags, 1, "sam", 0, NULL), 0);
    assert_int_equal(es_triage_assign(ib, ids[0], "sam", "sam", 0, NULL), 0);
    assert_int_equal(es_triage_assign(ib, ids[3], "dana", "sam", 0, NULL), 0);
    struct es_buf b = ES_BUF_INIT;

    struct es_inbox_query q = { .lang = "en" };
    assert_string_equal(list(ib, &q, &b), "a,b,d");
    q = (struct es_inbox_query){ .lang = "en-gb" };
    assert_string_equal(list(ib, &q, &b), "b");
    q = (struct es_inbox_query){ .platform = "bluesky" };
    assert_string_equal(list(ib, &q, &b), "d");
    q = (struct es_inbox_query){ .tag = "billing" };
    assert_string_equal(list(ib, &q, &b), "b,d");
    q = (struct es_inbox_query){ .assignee = "sam" };
    assert_string_equal(list(ib, &q, &b), "a");
    q = (struct es_inbox_query){ .assignee = "" };
    assert_string_equal(list(ib, &q, &b), "b,c");
    q = (struct es_inbox_query){ .tag = "billing",
                                 .label = "negative",
                                 .platform = "mastodon",
                                 .lang = "en" };
    assert_string_equal(list(ib, &q, &b), "b");
    q = (struct es_inbox_query){ .tag = "billing", .search = "d" };
    assert_string_equal(list(ib, &q, &b), "d");

    struct es_config *cfg = NULL;
    assert_int_equal(es_config_load_string(&cfg,
                                           "[view \"billing\"]\n"
                                           "tag = billing\n"
                                           "lang = en\n"
                                           "limit = 1\n"
                                           "[view \"mine\"]\n"
                                           "assignee = sam\n"
                                           "state = new\n"
                                           "[view \"nobody\"]\n"
                                           "assignee = -\n",
                                           "views.conf"),
                     0);
    q = (struct es_inbox_query){ 0 };
    assert_int_equal(es_triage_view(cfg, "billing", &q), 0);
    assert_string_equal(q.tag, "billing");
    assert_int_equal(q.limit, 1);
    assert_null(q.state);
    assert_string_equal(list(ib, &q, &b), "b");
    /* An explicit option overrides the view's. */
    q.limit = 10;
    q.lang = NULL;
    assert_string_equal(list(ib, &q, &b), "b,d");
    q = (struct es_inbox_query){ 0 };
    assert_int_equal(es_triage_view(cfg, "mine", &q), 0);
    assert_string_equal(list(ib, &q, &b), "a");
    q = (struct es_inbox_query){ 0 };
    assert_int_equal(es_triage_view(cfg, "nobody", &q), 0);
    assert_string_equal(list(ib, &q, &b), "b,c");
    assert_int_equal(es_triage_view(cfg, "nope", &q), ES_ENOTFOUND);
    assert_non_null(strstr(es_error_last(), "no view 'nope' (views: billing, "
                                            "mine, nobody)"));
    es_config_free(cfg);
    cfg = es_config_new();
    assert_int_equal(es_triage_view(cfg, "nope", &q), ES_ENOTFOUND);
    assert_non_null(strstr(es_error_last(), "defines none"));
    es_config_free(cfg);
    es_buf_release(&b);
}

/* ==== Managing agents ==== */

static int setup_empty(void **state)
{
    struct es_inbox *ib = NULL;
    if (es_inbox_open(&ib, ":memory:") < 0)
        return -1;
    *state = ib;
    return 0;
}

static int teardown_empty(void **state)
{
    es_inbox_free(*state);
    return 0;
}

static void test_agent_admin(void **state)
{
    struct es_inbox *ib = *state;
    char last[512];
    /* The first agent: anyone may add it, and it must be an admin. */
    assert_int_equal(es_triage_agent_add(ib, "dana", ES_ROLE_AGENT, NULL),
                     ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "first agent must be an admin"));
    assert_int_equal(es_triage_agent_add(ib, "dana", ES_ROLE_ADMIN, NULL), 0);
    /* Then only admins. */
    assert_int_equal(es_triage_agent_add(ib, "sam", ES_ROLE_AGENT, NULL),
                     ES_EAUTH);
    assert_int_equal(es_triage_agent_add(ib, "sam", ES_ROLE_AGENT, "dana"), 0);
    assert_int_equal(es_triage_agent_add(ib, "vic", ES_ROLE_VIEWER, "sam"),
                     ES_EAUTH);
    assert_non_null(strstr(es_error_last(), "admins only can add agents"));
    assert_int_equal(es_triage_agent_add(ib, "vic", ES_ROLE_VIEWER, "dana"), 0);
    audit_rows(ib, last, sizeof(last));
    assert_string_equal(last, "dana|agent add|agent:vic|-|viewer");

    assert_int_equal(es_triage_agent_set_disabled(ib, "sam", 1, "vic"),
                     ES_EAUTH);
    assert_int_equal(es_triage_agent_set_disabled(ib, "sam", 1, "dana"), 0);
    audit_rows(ib, last, sizeof(last));
    assert_string_equal(last, "dana|agent disable|agent:sam|enabled|disabled");
    assert_int_equal(es_triage_agent_set_disabled(ib, "sam", 0, "dana"), 0);
    /* The last enabled admin stays. */
    assert_int_equal(es_triage_agent_set_disabled(ib, "dana", 1, "dana"),
                     ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "last enabled admin"));
    assert_int_equal(es_triage_agent_add(ib, "ada", ES_ROLE_ADMIN, "dana"), 0);
    assert_int_equal(es_triage_agent_set_disabled(ib, "dana", 1, "ada"), 0);
    /* A disabled admin manages nothing. */
    assert_int_equal(es_triage_agent_add(ib, "zed", ES_ROLE_AGENT, "dana"),
                     ES_EAUTH);
    assert_int_equal(es_triage_agent_set_disabled(ib, "ghost", 1, "ada"),
                     ES_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transition_table),
        cmocka_unit_test_setup_teardown(test_set_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_viewer_and_disabled_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_resolved_at, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bulk, setup, teardown),
        cmocka_unit_test(test_stale_version),
        cmocka_unit_test_setup_teardown(test_assign, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notes_and_tags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_canned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filters_and_views, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_agent_admin, setup_empty,
                                        teardown_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
