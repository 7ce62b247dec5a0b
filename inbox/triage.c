/* triage.c - states, assignment, notes, tags, threads and saved views
 *
 * The changes an agent makes to mentions. Each one follows the same
 * steps, in one BEGIN IMMEDIATE transaction so that two agents (two
 * processes) are serialised: check the agent, read the mention, refuse a
 * stale conversation version, change the row, touch the conversation
 * (its version goes up and it remembers who changed what, for the next
 * agent's stale message), write the audit row. A change that would change
 * nothing writes nothing, so the audit log and the versions only move
 * when something did.
 */
#include "earshot/triage.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/item.h"
#include "sql.h"
#include "store.h"
#include "triage_int.h"

/* ==== Helpers shared with triage_admin.c and workflow.c ==== */

int es_triage__valid_name(const char *name, const char *also)
{
    if (!name || !*name || strlen(name) > 64)
        return 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == ' ' || (also && strchr(also, *p)))
            return 0;
    return 1;
}

/* ==== States ==== */

static const char *const state_names[] = {
    "new", "open", "pending", "resolved", "spam", "ignored",
};

#define NSTATES ((int)(sizeof(state_names) / sizeof(state_names[0])))

/* allowed[from] has bit `to` set when from -> to is allowed (see the
 * table in triage.h); same-state moves are handled before. */
#define BIT(s) (1u << (s))
static const unsigned allowed[] = {
    [ES_STATE_NEW] = BIT(ES_STATE_OPEN) | BIT(ES_STATE_PENDING) |
                     BIT(ES_STATE_RESOLVED) | BIT(ES_STATE_SPAM) |
                     BIT(ES_STATE_IGNORED),
    [ES_STATE_OPEN] = BIT(ES_STATE_PENDING) | BIT(ES_STATE_RESOLVED) |
                      BIT(ES_STATE_SPAM) | BIT(ES_STATE_IGNORED),
    [ES_STATE_PENDING] = BIT(ES_STATE_OPEN) | BIT(ES_STATE_RESOLVED),
    [ES_STATE_RESOLVED] = BIT(ES_STATE_OPEN),
    [ES_STATE_SPAM] = BIT(ES_STATE_NEW) | BIT(ES_STATE_OPEN),
    [ES_STATE_IGNORED] = BIT(ES_STATE_NEW) | BIT(ES_STATE_OPEN),
};

/* The same table in words, for messages. */
static const char *const targets[] = {
    [ES_STATE_NEW] = "open, pending, resolved, spam or ignored",
    [ES_STATE_OPEN] = "pending, resolved, spam or ignored",
    [ES_STATE_PENDING] = "open or resolved",
    [ES_STATE_RESOLVED] = "open",
    [ES_STATE_SPAM] = "new or open",
    [ES_STATE_IGNORED] = "new or open",
};

const char *es_state_name(enum es_state state)
{
    return (int)state >= 0 && (int)state < NSTATES ? state_names[state] : "new";
}

int es_state_parse(const char *name, enum es_state *out)
{
    for (int s = 0; name && s < NSTATES; s++)
        if (strcmp(name, state_names[s]) == 0) {
            *out = (enum es_state)s;
            return 0;
        }
    return es_error_set(ES_EINVALID,
                        "unknown state '%s' (new, open, pending, resolved, "
                        "spam, ignored)",
                        name ? name : "");
}

int es_state_allowed(enum es_state from, enum es_state to)
{
    if ((int)from < 0 || (int)from >= NSTATES || (int)to < 0 ||
        (int)to >= NSTATES)
        return 0;
    return from == to || (allowed[from] & BIT(to)) != 0;
}

const char *es_state_targets(enum es_state from)
{
    return (int)from >= 0 && (int)from < NSTATES ? targets[from] : "";
}

void es_change_release(struct es_change *c)
{
    if (!c)
        return;
    free(c->before);
    memset(c, 0, sizeof(*c));
}

/* ==== One change to one mention ==== */

/* The mention a change is about, as read inside its transaction. */
struct target {
    int64_t id;
    char *state;
    char *assignee;    /* NULL: unassigned */
    char *conv;        /* mentions.conversation; NULL: stands alone */
    struct es_buf key; /* the conversation key: conv, or "m:ID" */
    char object[32];   /* "mention:ID", for the audit log */
};

static void target_release(struct target *t)
{
    free(t->state);
    free(t->assignee);
    free(t->conv);
    es_buf_release(&t->key);
    memset(t, 0, sizeof(*t));
}

/* Reads mention @id into @t (released by the caller whatever happens). */
static int load_target(struct es_inbox *ib, int64_t id, struct target *t)
{
    memset(t, 0, sizeof(*t));
    es_buf_init(&t->key);
    t->id = id;
    snprintf(t->object, sizeof(t->object), "mention:%lld", (long long)id);
    sqlite3_stmt *stmt = es_sql_prepare(
        ib, "SELECT state, assignee, conversation FROM mentions WHERE id = ?1",
        "i", id);
    if (!stmt)
        return ES_EDB;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        t->state = es_sql_dup_col(stmt, 0);
        t->assignee = es_sql_dup_col(stmt, 1);
        t->conv = es_sql_dup_col(stmt, 2);
        if (t->conv)
            es_buf_adds(&t->key, t->conv);
        else
            es_buf_addf(&t->key, "m:%lld", (long long)id);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = es_error_set(ES_ENOTFOUND, "no mention %lld", (long long)id);
    } else {
        rc = es_sql_fail(ib, "cannot read a mention");
    }
    sqlite3_finalize(stmt);
    return rc;
}

/* Refuses a conversation changed since version @expect (> 0) was loaded,
 * before anything is written: es_conversation_touch() with a stale
 * version changes nothing and sets the "who changed what" message. */
static int check_fresh(struct es_inbox *ib, const struct target *t,
                       int64_t expect)
{
    int64_t cur;
    if (expect <= 0)
        return 0;
    int rc = es_conversation_version(ib, t->key.ptr, &cur);
    if (rc < 0 || cur == expect)
        return rc;
    return es_conversation_touch(ib, t->key.ptr, NULL, NULL, expect, NULL);
}

/* Opens the transaction of a change to mention @id by @agent (who needs
 * to be an agent or admin to @what) and loads the mention into @t. On
 * failure the transaction is rolled back (if it was opened) and @t still
 * needs target_release(). */
static int begin_change(struct es_inbox *ib, int64_t id, const char *agent,
                        const char *what, int64_t expect, struct target *t)
{
    memset(t, 0, sizeof(*t));
    es_buf_init(&t->key);
    int rc = es_inbox_begin(ib);
    if (rc < 0)
        return rc;
    rc = es_agent_check(ib, agent, ES_ROLE_AGENT, what);
    if (rc == 0)
        rc = load_target(ib, id, t);
    if (rc == 0)
        rc = check_fresh(ib, t, expect);
    if (rc < 0)
        es_inbox_rollback(ib);
    return rc;
}

/* Records the change @what to @t's conversation and its audit row. */
static int record(struct es_inbox *ib, const struct target *t,
                  const char *agent, const char *action, const char *before,
                  const char *after, const char *what, int64_t expect,
                  int64_t *version)
{
    int rc =
        es_conversation_touch(ib, t->key.ptr, agent, what, expect, version);
    if (rc == 0)
        rc = es_audit_add(ib, agent, action, t->object, before, after);
    return rc;
}

/* Fills @out with the outcome of a change (or a no-op: changed 0, the
 * current version). Takes ownership of @before. */
static int fill_change(struct es_inbox *ib, const struct target *t, int changed,
                       int64_t version, char *before, struct es_change *out)
{
    int rc = 0;
    if (!changed)
        rc = es_conversation_version(ib, t->key.ptr, &version);
    if (out && rc == 0) {
        out->changed = changed;
        out->version = version;
        out->before = before;
        before = NULL;
    }
    free(before);
    return rc;
}

/* ==== States ==== */

/* Sets conversations.resolved_at for @t's conversation after a move to
 * @to: every mention resolved (spam and ignored ones aside, and at least
 * one resolved) makes it resolved, now when this very move resolved it,
 * else since whenever it was; anything else clears it. The row exists:
 * the change touched it. */
#define RESOLVED_UPDATE(IN_CONV)                                               \
    "UPDATE conversations SET resolved_at = CASE"                              \
    " WHEN NOT EXISTS (SELECT 1 FROM mentions WHERE " IN_CONV                  \
    " AND state <> 'resolved' AND state <> 'spam' AND state <> 'ignored')"     \
    " AND EXISTS (SELECT 1 FROM mentions WHERE " IN_CONV                       \
    " AND state = 'resolved')"                                                 \
    " THEN CASE WHEN ?3 THEN ?2 ELSE COALESCE(resolved_at, ?2) END"            \
    " ELSE NULL END WHERE key = ?1"

static const char RESOLVED_CONV[] = RESOLVED_UPDATE("conversation = ?4");
static const char RESOLVED_ALONE[] = RESOLVED_UPDATE("id = ?5");

static int update_resolved(struct es_inbox *ib, const struct target *t,
                           enum es_state to)
{
    return es_sql_run(
        ib,
        es_sql_prepare(ib, t->conv ? RESOLVED_CONV : RESOLVED_ALONE, "tiiti",
                       t->key.ptr, (int64_t)es_time_now(),
                       (int64_t)(to == ES_STATE_RESOLVED), t->conv, t->id),
        "cannot mark a conversation resolved");
}

/* Moves loaded mention @t to @to inside the open transaction. Returns
 * ES_EINVALID (and writes nothing) when the table refuses the move. */
static int apply_state(struct es_inbox *ib, const struct target *t,
                       enum es_state to, const char *agent, int64_t expect,
                       int *changed, int64_t *version)
{
    enum es_state from;
    *changed = 0;
    int rc = es_state_parse(t->state, &from);
    if (rc < 0)
        return rc;
    if (from == to)
        return 0;
    if (!es_state_allowed(from, to))
        return es_error_set(ES_EINVALID,
                            "mention %lld is %s: it can go to %s only, not "
                            "%s",
                            (long long)t->id, es_state_name(from),
                            es_state_targets(from), es_state_name(to));
    rc = es_sql_run(
        ib,
        es_sql_prepare(ib, "UPDATE mentions SET state = ?2 WHERE id = ?1", "it",
                       t->id, es_state_name(to)),
        "cannot change a state");
    char what[96];
    snprintf(what, sizeof(what), "set mention %lld %s -> %s", (long long)t->id,
             es_state_name(from), es_state_name(to));
    if (rc == 0)
        rc = record(ib, t, agent, "state", es_state_name(from),
                    es_state_name(to), what, expect, version);
    if (rc == 0)
        rc = update_resolved(ib, t, to);
    if (rc == 0)
        *changed = 1;
    return rc;
}

int es_triage_set_state(struct es_inbox *ib, int64_t mention_id,
                        const char *state, const char *agent,
                        int64_t expect_version, struct es_change *out)
{
    enum es_state to;
    struct target t;
    int changed = 0;
    int64_t version = 0;

    if (out)
        memset(out, 0, sizeof(*out));
    int rc = es_state_parse(state, &to);
    if (rc < 0)
        return rc;
    rc = begin_change(ib, mention_id, agent, "change states", expect_version,
                      &t);
    if (rc < 0)
        goto done;
    rc = apply_state(ib, &t, to, agent, expect_version, &changed, &version);
    if (rc == 0)
        rc = fill_change(ib, &t, changed, version, es_xstrdup(t.state), out);
    rc = es_sql_end(ib, rc);
    if (rc < 0)
        es_change_release(out);
done:
    target_release(&t);
    return rc;
}

struct ids {
    int64_t *v;
    size_t n, alloc;
};

static int collect_id(const struct es_mention *m, void *payload)
{
    struct ids *ids = payload;
    if (ids->n == ids->alloc) {
        ids->alloc = ids->alloc ? ids->alloc * 2 : 64;
        ids->v = es_xrealloc(ids->v, ids->alloc * sizeof(*ids->v));
    }
    ids->v[ids->n++] = m->id;
    return 0;
}

int es_triage_set_state_bulk(struct es_inbox *ib,
                             const struct es_inbox_query *q, const char *state,
                             const char *agent, struct es_bulk_result *out)
{
    struct es_inbox_query all = { 0 };
    struct ids ids = { 0 };
    struct es_bulk_result res = { 0 };
    enum es_state to;

    assert(out);
    memset(out, 0, sizeof(*out));
    int rc = es_state_parse(state, &to);
    if (rc < 0)
        return rc;
    if (q)
        all = *q;
    if (all.limit <= 0)
        all.limit = INT_MAX;
    if ((rc = es_inbox_begin(ib)) < 0)
        return rc;
    rc = es_agent_check(ib, agent, ES_ROLE_AGENT, "change states");
    /* The ids first, then the changes: the listing's cursor is not
     * disturbed by the rows it selects changing under it. */
    if (rc == 0)
        rc = es_inbox_list(ib, &all, collect_id, &ids);
    for (size_t i = 0; rc == 0 && i < ids.n; i++) {
        struct target t;
        int changed = 0;
        int64_t version;
        rc = load_target(ib, ids.v[i], &t);
        if (rc == 0)
            rc = apply_state(ib, &t, to, agent, 0, &changed, &version);
        target_release(&t);
        res.matched++;
        if (rc == ES_EINVALID) {
            res.refused++;
            rc = 0;
        } else if (rc == 0) {
            if (changed)
                res.changed++;
            else
                res.unchanged++;
        }
    }
    free(ids.v);
    rc = es_sql_end(ib, rc);
    if (rc == 0)
        *out = res;
    return rc;
}

/* ==== Assignment ==== */

int es_triage_assign(struct es_inbox *ib, int64_t mention_id,
                     const char *assignee, const char *agent,
                     int64_t expect_version, struct es_change *out)
{
    struct target t;
    int64_t version = 0;
    int changed = 0;

    if (out)
        memset(out, 0, sizeof(*out));
    int rc = begin_change(ib, mention_id, agent,
                          assignee ? "assign mentions" : "unassign mentions",
                          expect_version, &t);
    if (rc < 0)
        goto done;
    /* Only someone who can work a mention may be given one. */
    if (assignee)
        rc =
            es_agent_check(ib, assignee, ES_ROLE_AGENT, "be assigned mentions");
    int same = assignee ? t.assignee && strcmp(t.assignee, assignee) == 0
                        : t.assignee == NULL;
    if (rc == 0 && !same) {
        rc = es_sql_run(ib,
                        es_sql_prepare(ib,
                                       "UPDATE mentions SET assignee ="
                                       " ?2 WHERE id = ?1",
                                       "it", t.id, assignee),
                        "cannot assign a mention");
        char what[160];
        if (assignee)
            snprintf(what, sizeof(what), "assigned mention %lld to %s",
                     (long long)t.id, assignee);
        else
            snprintf(what, sizeof(what), "unassigned mention %lld (was %s)",
                     (long long)t.id, t.assignee);
        if (rc == 0)
            rc = record(ib, &t, agent, assignee ? "assign" : "unassign",
                        t.assignee, assignee, what, expect_version, &version);
        changed = rc == 0;
    }
    if (rc == 0)
        rc = fill_change(ib, &t, changed, version,
                         t.assignee ? es_xstrdup(t.assignee) : NULL, out);
    rc = es_sql_end(ib, rc);
    if (rc < 0)
        es_change_release(out);
done:
    target_release(&t);
    return rc;
}

/* ==== Notes ==== */

#define NOTE_MAX 10000

int es_triage_note_add(struct es_inbox *ib, int64_t mention_id,
                       const char *body, const char *agent,
                       int64_t expect_version, int64_t *note_id,
                       struct es_change *out)
{
    struct target t;
    struct es_buf clean = ES_BUF_INIT;
    int64_t version = 0;

    if (out)
        memset(out, 0, sizeof(*out));
    size_t len = body ? strlen(body) : 0;
    size_t blank = body ? strspn(body, " \t\r\n") : 0;
    if (blank == len)
        return es_error_set(ES_EINVALID, "note for mention %lld is empty",
                            (long long)mention_id);
    if (len > NOTE_MAX)
        return es_error_set(ES_EINVALID,
                            "note for mention %lld is %zu bytes: at most %d",
                            (long long)mention_id, len, NOTE_MAX);
    es_buf_add_valid_utf8(&clean, body, len);
    int rc =
        begin_change(ib, mention_id, agent, "add notes", expect_version, &t);
    if (rc < 0)
        goto done;
    rc = es_sql_run(ib,
                    es_sql_prepare(ib,
                                   "INSERT INTO notes (mention_id,"
                                   " agent, body, created_at) VALUES"
                                   " (?1, ?2, ?3, ?4)",
                                   "itti", t.id, agent, clean.ptr,
                                   (int64_t)es_time_now()),
                    "cannot add a note");
    if (rc == 0 && note_id)
        *note_id = sqlite3_last_insert_rowid(es_inbox__db(ib));
    char what[64];
    snprintf(what, sizeof(what), "added a note to mention %lld",
             (long long)t.id);
    if (rc == 0)
        rc = record(ib, &t, agent, "note", NULL, clean.ptr, what,
                    expect_version, &version);
    if (rc == 0)
        rc = fill_change(ib, &t, 1, version, NULL, out);
    rc = es_sql_end(ib, rc);
done:
    target_release(&t);
    es_buf_release(&clean);
    return rc;
}

int es_triage_notes_each(struct es_inbox *ib, int64_t mention_id, es_note_cb cb,
                         void *payload)
{
    sqlite3_stmt *stmt = es_sql_prepare(
        ib,
        "SELECT id, mention_id, agent, body, created_at FROM notes"
        " WHERE mention_id = ?1 ORDER BY created_at, id",
        "i", mention_id);
    if (!stmt)
        return ES_EDB;
    int rc = 0, step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct es_note n = {
            .id = sqlite3_column_int64(stmt, 0),
            .mention_id = sqlite3_column_int64(stmt, 1),
            .agent = (const char *)sqlite3_column_text(stmt, 2),
            .body = (const char *)sqlite3_column_text(stmt, 3),
            .created_at = sqlite3_column_int64(stmt, 4),
        };
        if ((rc = cb(&n, payload)) != 0)
            break;
    }
    if (!rc && step != SQLITE_DONE)
        rc = es_sql_fail(ib, "cannot read notes");
    sqlite3_finalize(stmt);
    return rc;
}

/* ==== Tags ==== */

static int add_tag_to_list(const char *tag, void *payload)
{
    struct es_buf *b = payload;
    if (b->len)
        es_buf_addch(b, ',');
    es_buf_adds(b, tag);
    return 0;
}

int es_triage_tags_each(struct es_inbox *ib, int64_t mention_id, es_tag_cb cb,
                        void *payload)
{
    sqlite3_stmt *stmt = es_sql_prepare(
        ib, "SELECT tag FROM mention_tags WHERE mention_id = ?1 ORDER BY tag",
        "i", mention_id);
    if (!stmt)
        return ES_EDB;
    int rc = 0, step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW)
        if ((rc = cb((const char *)sqlite3_column_text(stmt, 0), payload)))
            break;
    if (!rc && step != SQLITE_DONE)
        rc = es_sql_fail(ib, "cannot read tags");
    sqlite3_finalize(stmt);
    return rc;
}

/* Adds (@add) or removes the tags; see es_triage_tag(). */
static int change_tags(struct es_inbox *ib, int64_t mention_id,
                       const char *const *tags, size_t ntags, int add,
                       const char *agent, int64_t expect, struct es_change *out)
{
    struct target t;
    struct es_buf before = ES_BUF_INIT, after = ES_BUF_INIT,
                  which = ES_BUF_INIT;
    int64_t version = 0;
    int changed = 0;

    if (out)
        memset(out, 0, sizeof(*out));
    if (ntags == 0)
        return es_error_set(ES_EINVALID, "no tag given for mention %lld",
                            (long long)mention_id);
    for (size_t i = 0; i < ntags; i++)
        if (!es_triage__valid_name(tags[i], ","))
            return es_error_set(ES_EINVALID,
                                "tag '%s' must be 1 to 64 characters with no "
                                "spaces, commas or control characters",
                                tags[i] ? tags[i] : "");
    int rc =
        begin_change(ib, mention_id, agent, add ? "tag" : "untag", expect, &t);
    if (rc < 0)
        goto done;
    rc = es_triage_tags_each(ib, t.id, add_tag_to_list, &before);
    for (size_t i = 0; rc == 0 && i < ntags; i++) {
        rc = es_sql_run(
            ib,
            es_sql_prepare(ib,
                           add ? "INSERT INTO mention_tags (mention_id,"
                                 " tag) VALUES (?1, ?2) ON CONFLICT DO"
                                 " NOTHING"
                               : "DELETE FROM mention_tags WHERE"
                                 " mention_id = ?1 AND tag = ?2",
                           "it", t.id, tags[i]),
            "cannot change a tag");
        if (rc == 0 && sqlite3_changes(es_inbox__db(ib)) > 0) {
            changed++;
            es_buf_adds(&which, which.len ? ", " : "");
            es_buf_adds(&which, tags[i]);
        }
    }
    if (rc == 0 && changed) {
        rc = es_triage_tags_each(ib, t.id, add_tag_to_list, &after);
        char *what =
            es_xasprintf("%s mention %lld %s", add ? "tagged" : "untagged",
                         (long long)t.id, which.ptr);
        if (rc == 0)
            rc = record(ib, &t, agent, add ? "tag" : "untag",
                        before.len ? before.ptr : NULL,
                        after.len ? after.ptr : NULL, what, expect, &version);
        free(what);
    }
    if (rc == 0)
        rc = fill_change(ib, &t, changed > 0, version,
                         before.len ? es_buf_detach(&before) : NULL, out);
    rc = es_sql_end(ib, rc);
    if (rc < 0)
        es_change_release(out);
done:
    target_release(&t);
    es_buf_release(&before);
    es_buf_release(&after);
    es_buf_release(&which);
    return rc;
}

int es_triage_tag(struct es_inbox *ib, int64_t mention_id,
                  const char *const *tags, size_t ntags, const char *agent,
                  int64_t expect_version, struct es_change *out)
{
    return change_tags(ib, mention_id, tags, ntags, 1, agent, expect_version,
                       out);
}

int es_triage_untag(struct es_inbox *ib, int64_t mention_id,
                    const char *const *tags, size_t ntags, const char *agent,
                    int64_t expect_version, struct es_change *out)
{
    return change_tags(ib, mention_id, tags, ntags, 0, agent, expect_version,
                       out);
}

/* ==== Conversations ==== */

/* One mention of a thread as the reply tree needs it. */
struct node {
    int64_t id;
    char *external_id;
    char *in_reply_to;
    int parent; /* index in the thread, -1: none there */
    int depth;  /* -1 until computed */
};

/* The depth of node @i: its parent's plus one. A loop of replies (bad
 * platform data) is cut where it closes. */
static int node_depth(struct node *nodes, size_t n, int i)
{
    int chain = 0, j = i;
    while (nodes[j].depth < 0 && nodes[j].parent >= 0 && (size_t)chain < n) {
        j = nodes[j].parent;
        chain++;
    }
    int d = nodes[j].depth >= 0 ? nodes[j].depth : 0;
    if (nodes[j].depth < 0)
        nodes[j].depth = 0;
    /* Walk the chain again from @i, giving each its depth. */
    int steps = chain;
    for (int k = i; steps > 0; k = nodes[k].parent, steps--)
        nodes[k].depth = d + steps;
    return nodes[i].depth;
}

int es_triage_thread(struct es_inbox *ib, int64_t mention_id, es_thread_cb cb,
                     void *payload)
{
    struct target t;
    struct node *nodes = NULL;
    size_t n = 0, alloc = 0;
    sqlite3_stmt *stmt = NULL;

    assert(cb);
    int rc = load_target(ib, mention_id, &t);
    if (rc < 0)
        goto done;
    stmt = es_sql_prepare(
        ib,
        t.conv ? "SELECT id, external_id, in_reply_to FROM mentions WHERE"
                 " conversation = ?1 ORDER BY COALESCE(created_at,"
                 " first_seen), id"
               : "SELECT id, external_id, in_reply_to FROM mentions WHERE"
                 " id = ?2",
        "ti", t.conv, t.id);
    if (!stmt) {
        rc = ES_EDB;
        goto done;
    }
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (n == alloc) {
            alloc = alloc ? alloc * 2 : 16;
            nodes = es_xrealloc(nodes, alloc * sizeof(*nodes));
        }
        nodes[n++] = (struct node){
            .id = sqlite3_column_int64(stmt, 0),
            .external_id = es_sql_dup_col(stmt, 1),
            .in_reply_to = es_sql_dup_col(stmt, 2),
            .parent = -1,
            .depth = -1,
        };
    }
    if (rc != SQLITE_DONE) {
        rc = es_sql_fail(ib, "cannot read a conversation");
        goto done;
    }
    rc = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; nodes[i].in_reply_to && j < n; j++)
            if (j != i && nodes[j].external_id &&
                strcmp(nodes[j].external_id, nodes[i].in_reply_to) == 0) {
                nodes[i].parent = (int)j;
                break;
            }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct es_mention m;
        int depth = node_depth(nodes, n, (int)i);
        rc = es_inbox_get(ib, nodes[i].id, &m);
        if (rc == 0)
            rc = cb(&m, depth, payload);
        es_mention_release(&m);
    }
done:
    sqlite3_finalize(stmt);
    for (size_t i = 0; i < n; i++) {
        free(nodes[i].external_id);
        free(nodes[i].in_reply_to);
    }
    free(nodes);
    target_release(&t);
    return rc;
}

/* ==== Saved views ==== */

int es_triage_view(const struct es_config *cfg, const char *name,
                   struct es_inbox_query *q)
{
    const struct es_config_source *v =
        es_config_section_find(cfg, "view", name ? name : "");
    if (!v) {
        size_t n = es_config_section_count(cfg, "view");
        if (n == 0)
            return es_error_set(ES_ENOTFOUND,
                                "no view '%s': the config defines none (add "
                                "a [view \"%s\"] section)",
                                name ? name : "", name ? name : "NAME");
        struct es_buf known = ES_BUF_INIT;
        for (size_t i = 0; i < n; i++) {
            es_buf_adds(&known, i ? ", " : "");
            es_buf_adds(&known, es_config_section_at(cfg, "view", i)->name);
        }
        int rc = es_error_set(ES_ENOTFOUND, "no view '%s' (views: %s)",
                              name ? name : "", known.ptr);
        es_buf_release(&known);
        return rc;
    }
    struct {
        const char *key;
        const char **field;
    } keys[] = {
        { "state", &q->state },       { "source", &q->source },
        { "platform", &q->platform }, { "label", &q->label },
        { "lang", &q->lang },         { "tag", &q->tag },
        { "assignee", &q->assignee }, { "search", &q->search },
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *val = es_config_source_get(v, keys[i].key);
        if (val)
            *keys[i].field = val;
    }
    /* "-" is no one: the unassigned mentions. */
    if (q->assignee && strcmp(q->assignee, "-") == 0)
        q->assignee = "";
    const char *limit = es_config_source_get(v, "limit");
    if (limit) {
        char *end;
        errno = 0;
        long l = strtol(limit, &end, 10);
        if (errno || end == limit || *end || l < 1 || l > INT_MAX)
            return es_error_set(ES_EINVALID, "view '%s': bad limit '%s'", name,
                                limit);
        q->limit = (int)l;
    }
    return 0;
}
