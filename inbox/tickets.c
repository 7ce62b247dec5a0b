/* tickets.c - private tickets with the whole context of a conversation
 *
 * A ticket is opened from any mention of a conversation and snapshots the
 * thread as it stands (every mention with its scores and state, the
 * agents' notes and tags, the authors and their reach) into
 * tickets.context, a JSON document built here from the inbox's own rows
 * (docs/tickets.md describes it). The conversation key stays on the
 * ticket as the live link. One ticket per conversation: the UNIQUE
 * column and the IMMEDIATE transaction make a second opening find the
 * first ticket instead.
 *
 * Tickets and the public thread move together: opening a ticket takes
 * the thread's new and open mentions to pending (the public side is
 * handled; the customer is now answered in private), solving or closing
 * it resolves them, reopening it opens them again (the moves triage's
 * transition table allows; done here in the ticket's own transaction).
 *
 * The helpdesk webhook is split in two: this file builds the body, signs
 * it and records each attempt's outcome; the HTTP request itself is made
 * by cli/ticket_forward.c, because the inbox library does not link the
 * collectors' HTTP client. Like workflow.c, every call prepares its
 * statements: these run at the pace of people typing commands.
 */
#include "earshot/tickets.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/outbox.h"
#include "earshot/triage.h"
#include "earshot/workflow.h"
#include "sql.h"
#include "store.h"

/* The longest note or message body. */
#define MESSAGE_MAX (64 * 1024)
/* How long a derived subject may get, in characters. */
#define SUBJECT_CHARS 72

/* ==== Statements ==== */

/* The mentions of conversation @key: a platform thread's key is in
 * mentions.conversation; a mention that stands alone is "m:ID". Binds
 * ?1 and ?2 of a statement using CONV_WHERE. */
#define CONV_WHERE "(conversation = ?1 OR (conversation IS NULL AND id = ?2))"

static void bind_conv(sqlite3_stmt *stmt, const char *key)
{
    long long alone = -1;
    if (strncmp(key, "m:", 2) == 0) {
        char *end;
        alone = strtoll(key + 2, &end, 10);
        if (*end || alone <= 0)
            alone = -1;
    }
    es_sql_bind_text(stmt, 1, key);
    sqlite3_bind_int64(stmt, 2, alone);
}

static void ticket_object(char out[static 32], int64_t id)
{
    snprintf(out, 32, "ticket:%lld", (long long)id);
}

/* ==== States ==== */

static const char *const state_names[] = { "open", "pending", "solved",
                                           "closed" };

const char *es_ticket_state_name(enum es_ticket_state state)
{
    return state >= ES_TICKET_OPEN && state <= ES_TICKET_CLOSED
               ? state_names[state]
               : "open";
}

int es_ticket_state_parse(const char *name, enum es_ticket_state *out)
{
    for (int s = ES_TICKET_OPEN; name && s <= ES_TICKET_CLOSED; s++)
        if (strcmp(name, state_names[s]) == 0) {
            *out = (enum es_ticket_state)s;
            return 0;
        }
    return es_error_set(ES_EINVALID,
                        "unknown ticket state '%s' (open, pending, solved, "
                        "closed)",
                        name ? name : "");
}

/* Bit @to of allowed[@from]: the transitions es_ticket_transition_ok()
 * documents. */
static const unsigned allowed[] = {
    [ES_TICKET_OPEN] = 1u << ES_TICKET_PENDING | 1u << ES_TICKET_SOLVED |
                       1u << ES_TICKET_CLOSED,
    [ES_TICKET_PENDING] =
        1u << ES_TICKET_OPEN | 1u << ES_TICKET_SOLVED | 1u << ES_TICKET_CLOSED,
    [ES_TICKET_SOLVED] = 1u << ES_TICKET_OPEN | 1u << ES_TICKET_CLOSED,
    [ES_TICKET_CLOSED] = 1u << ES_TICKET_OPEN,
};

int es_ticket_transition_ok(enum es_ticket_state from, enum es_ticket_state to)
{
    if (from < ES_TICKET_OPEN || from > ES_TICKET_CLOSED ||
        to < ES_TICKET_OPEN || to > ES_TICKET_CLOSED)
        return 0;
    return (allowed[from] >> to) & 1u;
}

/* ==== Reading tickets ==== */

#define TICKET_COLUMNS                                                         \
    "id, conversation, subject, state, assignee, priority, context,"           \
    " created_by, created_at, updated_at, solved_at, forward_state,"           \
    " forward_attempts, forward_next, forward_error"

void es_ticket_release(struct es_ticket *t)
{
    if (!t)
        return;
    free(t->conversation);
    free(t->subject);
    free(t->assignee);
    free(t->context);
    free(t->created_by);
    free(t->forward_state);
    free(t->forward_error);
    memset(t, 0, sizeof(*t));
}

static void read_ticket(sqlite3_stmt *stmt, struct es_ticket *t)
{
    memset(t, 0, sizeof(*t));
    t->id = sqlite3_column_int64(stmt, 0);
    t->conversation = es_sql_dup_col(stmt, 1);
    t->subject = es_sql_dup_col(stmt, 2);
    if (es_ticket_state_parse((const char *)sqlite3_column_text(stmt, 3),
                              &t->state) < 0)
        t->state = ES_TICKET_OPEN; /* the CHECK constraint rules it out */
    t->assignee = es_sql_dup_col(stmt, 4);
    t->priority = sqlite3_column_type(stmt, 5) == SQLITE_NULL
                      ? -1
                      : sqlite3_column_int(stmt, 5);
    t->context = es_sql_dup_col(stmt, 6);
    t->created_by = es_sql_dup_col(stmt, 7);
    t->created_at = sqlite3_column_int64(stmt, 8);
    t->updated_at = sqlite3_column_int64(stmt, 9);
    t->solved_at = es_sql_time_col(stmt, 10);
    t->forward_state = es_sql_dup_col(stmt, 11);
    t->forward_attempts = sqlite3_column_int(stmt, 12);
    t->forward_next = es_sql_time_col(stmt, 13);
    t->forward_error = es_sql_dup_col(stmt, 14);
}

int es_ticket_get(struct es_inbox *ib, int64_t id, struct es_ticket *out)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *stmt = es_sql_prepare(
        ib, "SELECT " TICKET_COLUMNS " FROM tickets WHERE id = ?1", "i", id);
    if (!stmt)
        return ES_EDB;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        read_ticket(stmt, out);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = es_error_set(ES_ENOTFOUND, "no ticket %lld", (long long)id);
    } else {
        rc = es_sql_fail(ib, "cannot read a ticket");
    }
    sqlite3_finalize(stmt);
    return rc;
}

int es_ticket_of_conversation(struct es_inbox *ib, const char *key,
                              int64_t *ticket_id)
{
    sqlite3_stmt *stmt = es_sql_prepare(
        ib, "SELECT id FROM tickets WHERE conversation = ?1", "t", key);
    if (!stmt)
        return ES_EDB;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        *ticket_id = sqlite3_column_int64(stmt, 0);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = es_error_set(ES_ENOTFOUND, "conversation '%s' has no ticket", key);
    } else {
        rc = es_sql_fail(ib, "cannot look up a ticket");
    }
    sqlite3_finalize(stmt);
    return rc;
}

int es_ticket_each(struct es_inbox *ib, const struct es_ticket_query *q,
                   es_ticket_cb cb, void *payload)
{
    enum es_ticket_state st;
    if (q && q->state && es_ticket_state_parse(q->state, &st) < 0)
        return ES_EINVALID;
    sqlite3_stmt *stmt = es_sql_prepare(
        ib,
        "SELECT " TICKET_COLUMNS " FROM tickets"
        " WHERE (?1 IS NULL OR state = ?1)"
        " AND (?2 IS NULL OR (?2 = '' AND assignee IS NULL)"
        " OR assignee = ?2)"
        " ORDER BY CASE state WHEN 'open' THEN 0 WHEN 'pending' THEN 1"
        " WHEN 'solved' THEN 2 ELSE 3 END, priority DESC NULLS LAST,"
        " created_at, id LIMIT ?3",
        "tti", q ? q->state : NULL, q ? q->assignee : NULL,
        (int64_t)(q && q->limit > 0 ? q->limit : -1));
    if (!stmt)
        return ES_EDB;
    int rc = 0, step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct es_ticket t;
        read_ticket(stmt, &t);
        rc = cb(&t, payload);
        es_ticket_release(&t);
        if (rc)
            break;
    }
    if (!rc && step != SQLITE_DONE)
        rc = es_sql_fail(ib, "cannot list tickets");
    sqlite3_finalize(stmt);
    return rc;
}

/* ==== The context snapshot ==== */

struct author {
    char *platform;
    char *author;
    char *author_name;
    long long followers; /* the highest seen, ES_COUNT_UNKNOWN */
    int mentions;
};

struct snapshot {
    struct author *authors;
    size_t nauthors;
    char **tags; /* the union, in first-seen order */
    size_t ntags;
    int priority; /* the highest, -1 for none */
    struct es_buf subject;
};

static void snapshot_release(struct snapshot *s)
{
    for (size_t i = 0; i < s->nauthors; i++) {
        free(s->authors[i].platform);
        free(s->authors[i].author);
        free(s->authors[i].author_name);
    }
    free(s->authors);
    for (size_t i = 0; i < s->ntags; i++)
        free(s->tags[i]);
    free(s->tags);
    es_buf_release(&s->subject);
}

static int str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void add_author(struct snapshot *s, const struct es_item *it)
{
    if (!it->author && !it->author_name)
        return;
    struct author *a = NULL;
    for (size_t i = 0; i < s->nauthors && !a; i++)
        if (str_eq(s->authors[i].platform, it->platform) &&
            str_eq(s->authors[i].author, it->author) &&
            (it->author || str_eq(s->authors[i].author_name, it->author_name)))
            a = &s->authors[i];
    if (!a) {
        s->authors =
            es_xrealloc(s->authors, (s->nauthors + 1) * sizeof(*s->authors));
        a = &s->authors[s->nauthors++];
        memset(a, 0, sizeof(*a));
        a->platform = it->platform ? es_xstrdup(it->platform) : NULL;
        a->author = it->author ? es_xstrdup(it->author) : NULL;
        a->followers = ES_COUNT_UNKNOWN;
    }
    if (!a->author_name && it->author_name)
        a->author_name = es_xstrdup(it->author_name);
    if (it->author_followers != ES_COUNT_UNKNOWN &&
        it->author_followers > a->followers)
        a->followers = it->author_followers;
    a->mentions++;
}

static void add_tag(struct snapshot *s, const char *tag)
{
    for (size_t i = 0; i < s->ntags; i++)
        if (strcmp(s->tags[i], tag) == 0)
            return;
    s->tags = es_xrealloc(s->tags, (s->ntags + 1) * sizeof(*s->tags));
    s->tags[s->ntags++] = es_xstrdup(tag);
}

/* The subject from the first mention: its title, else the first words of
 * its text (whole words up to SUBJECT_CHARS characters, "…" when cut),
 * on one line. */
static void derive_subject(struct es_buf *out, const struct es_mention *m)
{
    const char *src =
        m->item.title && *m->item.title ? m->item.title : m->item.text;
    size_t chars = 0, cut_at = 0;
    int space = 1, cut = 0;
    es_buf_reset(out);
    for (const char *p = src ? src : ""; *p; p++) {
        unsigned char c = (unsigned char)*p;
        int ws = c == ' ' || c == '\n' || c == '\t' || c == '\r';
        if (ws) {
            if (!space && out->len) {
                cut_at = out->len;
                es_buf_addch(out, ' ');
                chars++;
            }
            space = 1;
            continue;
        }
        if ((c & 0xC0) != 0x80 && chars >= SUBJECT_CHARS) {
            cut = 1;
            break;
        }
        space = 0;
        es_buf_addch(out, (char)c);
        if ((c & 0xC0) != 0x80)
            chars++;
    }
    if (cut) {
        /* Back to the last whole word when there is one. */
        if (cut_at > 0)
            es_buf_truncate(out, cut_at);
        es_buf_adds(out, "\xE2\x80\xA6");
    }
    while (out->len && out->ptr[out->len - 1] == ' ')
        es_buf_truncate(out, out->len - 1);
    if (!out->len)
        es_buf_addf(out, "mention %lld", (long long)m->id);
}

static void key_str(struct es_buf *out, const char *key, const char *val)
{
    es_buf_addf(out, "\"%s\":", key);
    if (val)
        es_buf_add_json_str(out, val, strlen(val));
    else
        es_buf_adds(out, "null");
}

static void key_time(struct es_buf *out, const char *key, int64_t t)
{
    char tmp[21];
    key_str(out, key, t == ES_TIME_UNKNOWN ? NULL : es_time_format(t, tmp));
}

static void add_str_array(struct es_buf *out, char *const *v, size_t n)
{
    es_buf_addch(out, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            es_buf_addch(out, ',');
        es_buf_add_json_str(out, v[i], strlen(v[i]));
    }
    es_buf_addch(out, ']');
}

/* Appends the agents' tags of mention @id as a JSON array and adds them
 * to the snapshot's union. */
static int add_mention_tags(struct es_inbox *ib, int64_t id, struct snapshot *s,
                            struct es_buf *out)
{
    sqlite3_stmt *stmt = es_sql_prepare(ib,
                                        "SELECT tag FROM mention_tags WHERE"
                                        " mention_id = ?1 ORDER BY tag",
                                        "i", id);
    if (!stmt)
        return ES_EDB;
    int n = 0, step;
    es_buf_addch(out, '[');
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *tag = (const char *)sqlite3_column_text(stmt, 0);
        if (!tag)
            continue;
        if (n++)
            es_buf_addch(out, ',');
        es_buf_add_json_str(out, tag, strlen(tag));
        add_tag(s, tag);
    }
    es_buf_addch(out, ']');
    int rc = step == SQLITE_DONE ? 0 : es_sql_fail(ib, "cannot read tags");
    sqlite3_finalize(stmt);
    return rc;
}

/* Appends the internal notes on mention @id as a JSON array. */
static int add_mention_notes(struct es_inbox *ib, int64_t id,
                             struct es_buf *out)
{
    sqlite3_stmt *stmt = es_sql_prepare(ib,
                                        "SELECT agent, body, created_at FROM"
                                        " notes WHERE mention_id = ?1 ORDER BY"
                                        " created_at, id",
                                        "i", id);
    if (!stmt)
        return ES_EDB;
    int n = 0, step;
    es_buf_addch(out, '[');
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        es_buf_adds(out, n++ ? ",{" : "{");
        key_str(out, "agent", (const char *)sqlite3_column_text(stmt, 0));
        es_buf_addch(out, ',');
        key_str(out, "body", (const char *)sqlite3_column_text(stmt, 1));
        es_buf_addch(out, ',');
        key_time(out, "created_at", es_sql_time_col(stmt, 2));
        es_buf_addch(out, '}');
    }
    es_buf_addch(out, ']');
    int rc = step == SQLITE_DONE ? 0 : es_sql_fail(ib, "cannot read notes");
    sqlite3_finalize(stmt);
    return rc;
}

/* Appends mention @m of the snapshot as one JSON object. */
static int add_mention(struct es_inbox *ib, const struct es_mention *m,
                       struct snapshot *s, struct es_buf *out)
{
    const struct es_item *it = &m->item;
    es_buf_addf(out, "{\"mention_id\":%lld,", (long long)m->id);
    key_str(out, "platform", it->platform);
    es_buf_addch(out, ',');
    key_str(out, "source", it->source);
    es_buf_addch(out, ',');
    key_str(out, "external_id", it->external_id);
    es_buf_addch(out, ',');
    key_str(out, "url", it->url);
    es_buf_addch(out, ',');
    key_str(out, "kind", es_item_kind_name(it->kind));
    es_buf_addch(out, ',');
    key_str(out, "in_reply_to", it->in_reply_to);
    es_buf_addch(out, ',');
    key_str(out, "author", it->author);
    es_buf_addch(out, ',');
    key_str(out, "author_name", it->author_name);
    es_buf_addch(out, ',');
    if (it->author_followers == ES_COUNT_UNKNOWN)
        es_buf_adds(out, "\"author_followers\":null,");
    else
        es_buf_addf(out, "\"author_followers\":%lld,", it->author_followers);
    key_str(out, "title", it->title);
    es_buf_addch(out, ',');
    key_str(out, "text", it->text);
    es_buf_addch(out, ',');
    key_time(out, "created_at", it->created_at);
    es_buf_addch(out, ',');
    key_time(out, "first_seen", m->first_seen);
    es_buf_addch(out, ',');
    key_str(out, "lang", it->lang);
    es_buf_addch(out, ',');
    if (it->rating > 0)
        es_buf_addf(out, "\"rating\":%d,", it->rating);
    else
        es_buf_adds(out, "\"rating\":null,");
    key_str(out, "state", m->state);
    es_buf_addch(out, ',');
    key_str(out, "assignee", m->assignee);
    es_buf_addch(out, ',');
    if (m->scored)
        es_buf_addf(out,
                    "\"sentiment\":{\"label\":\"%s\",\"score\":%.4f,"
                    "\"low_confidence\":%s},",
                    m->label < 0   ? "negative"
                    : m->label > 0 ? "positive"
                                   : "neutral",
                    m->sentiment, m->low_confidence ? "true" : "false");
    else
        es_buf_adds(out, "\"sentiment\":null,");
    if (m->prioritised) {
        es_buf_addf(out, "\"priority\":%d,\"priority_reasons\":", m->priority);
        add_str_array(out, m->reasons, m->nreasons);
        es_buf_addch(out, ',');
        if (m->priority > s->priority)
            s->priority = m->priority;
    } else {
        es_buf_adds(out, "\"priority\":null,\"priority_reasons\":null,");
    }
    es_buf_adds(out, "\"categories\":");
    add_str_array(out, it->categories, it->ncategories);
    es_buf_adds(out, ",\"tags\":");
    int rc = add_mention_tags(ib, m->id, s, out);
    if (rc == 0) {
        es_buf_adds(out, ",\"notes\":");
        rc = add_mention_notes(ib, m->id, out);
    }
    es_buf_addch(out, '}');
    add_author(s, it);
    return rc;
}

/* Reads the ids of conversation @key's mentions, oldest first, into
 * *ids (the caller frees it) and their number into *n. */
static int thread_ids(struct es_inbox *ib, const char *key, int64_t **ids,
                      size_t *n)
{
    *ids = NULL;
    *n = 0;
    sqlite3_stmt *stmt =
        es_sql_prepare(ib,
                       "SELECT id FROM mentions WHERE " CONV_WHERE
                       " ORDER BY COALESCE(created_at, first_seen), id",
                       NULL);
    if (!stmt)
        return ES_EDB;
    bind_conv(stmt, key);
    size_t alloc = 0;
    int step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (*n == alloc) {
            alloc = alloc ? alloc * 2 : 16;
            *ids = es_xrealloc(*ids, alloc * sizeof(**ids));
        }
        (*ids)[(*n)++] = sqlite3_column_int64(stmt, 0);
    }
    int rc = step == SQLITE_DONE ? 0 : es_sql_fail(ib, "cannot read a thread");
    sqlite3_finalize(stmt);
    return rc;
}

/* Writes the snapshot of conversation @key into @out, opened from
 * mention @from by @agent at @now, and the derived subject and priority
 * into @s. */
static int build_context(struct es_inbox *ib, const char *key, int64_t from,
                         const char *agent, int64_t now, struct snapshot *s,
                         struct es_buf *out)
{
    int64_t *ids = NULL;
    size_t n = 0;
    int rc = thread_ids(ib, key, &ids, &n);
    if (rc < 0)
        return rc;
    size_t keep = n < ES_TICKET_CONTEXT_MAX ? n : ES_TICKET_CONTEXT_MAX;
    int has_from = 0;
    for (size_t i = 0; i < keep; i++)
        has_from |= ids[i] == from;
    if (!has_from && keep > 0)
        ids[keep - 1] = from; /* past the cap: the opening one stays */

    char tmp[21];
    es_buf_reset(out);
    es_buf_adds(out, "{\"version\":1,");
    key_str(out, "conversation", key);
    es_buf_addf(out, ",\"opened_from\":%lld,", (long long)from);
    key_str(out, "opened_by", agent);
    es_buf_addch(out, ',');
    key_str(out, "opened_at", es_time_format(now, tmp));
    es_buf_addf(out, ",\"mentions_total\":%zu,\"mentions\":[", n);
    for (size_t i = 0; i < keep && rc == 0; i++) {
        struct es_mention m;
        rc = es_inbox_get(ib, ids[i], &m);
        if (rc < 0)
            break;
        if (i == 0)
            derive_subject(&s->subject, &m);
        if (i)
            es_buf_addch(out, ',');
        rc = add_mention(ib, &m, s, out);
        es_mention_release(&m);
    }
    free(ids);
    if (rc < 0)
        return rc;
    es_buf_adds(out, "],\"authors\":[");
    for (size_t i = 0; i < s->nauthors; i++) {
        const struct author *a = &s->authors[i];
        es_buf_adds(out, i ? ",{" : "{");
        key_str(out, "platform", a->platform);
        es_buf_addch(out, ',');
        key_str(out, "author", a->author);
        es_buf_addch(out, ',');
        key_str(out, "author_name", a->author_name);
        if (a->followers == ES_COUNT_UNKNOWN)
            es_buf_adds(out, ",\"followers\":null");
        else
            es_buf_addf(out, ",\"followers\":%lld", a->followers);
        es_buf_addf(out, ",\"mentions\":%d}", a->mentions);
    }
    es_buf_adds(out, "],\"tags\":");
    add_str_array(out, s->tags, s->ntags);
    es_buf_addch(out, '}');
    if (!s->subject.len)
        es_buf_addf(&s->subject, "conversation %s", key);
    return 0;
}

/* ==== Moving the public thread along ==== */

/* Moves the mentions of conversation @key whose state is @from_a or
 * @from_b (may be NULL) to @to, each audited as "state" by @agent. Sets
 * *moved to their number. */
static int move_mentions(struct es_inbox *ib, const char *key,
                         const char *from_a, const char *from_b, const char *to,
                         const char *agent, int *moved)
{
    *moved = 0;
    sqlite3_stmt *sel =
        es_sql_prepare(ib,
                       "SELECT id, state FROM mentions WHERE " CONV_WHERE
                       " AND (state = ?3 OR state = ?4)"
                       " ORDER BY id",
                       NULL);
    if (!sel)
        return ES_EDB;
    bind_conv(sel, key);
    es_sql_bind_text(sel, 3, from_a);
    es_sql_bind_text(sel, 4, from_b ? from_b : from_a);
    int rc = 0, step;
    while (rc == 0 && (step = sqlite3_step(sel)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(sel, 0);
        char before[16], object[32];
        snprintf(before, sizeof(before), "%s", sqlite3_column_text(sel, 1));
        snprintf(object, sizeof(object), "mention:%lld", (long long)id);
        sqlite3_stmt *up = es_sql_prepare(
            ib, "UPDATE mentions SET state = ?1 WHERE id = ?2", "ti", to, id);
        rc = es_sql_run(ib, up, "cannot change a mention's state");
        if (rc == 0)
            rc = es_audit_add(ib, agent, "state", object, before, to);
        if (rc == 0)
            (*moved)++;
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = es_sql_fail(ib, "cannot read a thread");
    sqlite3_finalize(sel);
    return rc;
}

/* Keeps conversations.resolved_at in step with the thread after the
 * ticket moved it, as triage does: set (when not yet) once every mention
 * is resolved (spam and ignored aside, at least one resolved), cleared
 * otherwise. A conversation nobody
 * acted on has no row yet: it gets one at version 1, which is what
 * es_conversation_version() reports for a missing row anyway. */
static int sync_resolved(struct es_inbox *ib, const char *key, int64_t now)
{
    sqlite3_stmt *stmt = es_sql_prepare(ib,
                                        "INSERT INTO conversations (key)"
                                        " VALUES (?1) ON CONFLICT DO NOTHING",
                                        "t", key);
    int rc = es_sql_run(ib, stmt, "cannot change a conversation");
    if (rc < 0)
        return rc;
    stmt = es_sql_prepare(
        ib,
        "UPDATE conversations SET resolved_at = CASE WHEN NOT"
        " EXISTS (SELECT 1 FROM mentions WHERE " CONV_WHERE
        " AND state <> 'resolved' AND state <> 'spam' AND state"
        " <> 'ignored') AND EXISTS (SELECT 1 FROM mentions WHERE"
        " " CONV_WHERE " AND state = 'resolved') THEN"
        " COALESCE(resolved_at, ?3) ELSE NULL END WHERE key = ?1",
        NULL);
    if (!stmt)
        return ES_EDB;
    bind_conv(stmt, key);
    sqlite3_bind_int64(stmt, 3, now);
    return es_sql_run(ib, stmt, "cannot change a conversation");
}

/* ==== Opening ==== */

/* Opens the ticket of conversation @key (of mention rq->mention_id) in
 * one transaction, or finds the existing one: sets *id and *created. */
static int open_ticket(struct es_inbox *ib, const struct es_config *cfg,
                       const struct es_ticket_request *rq, const char *key,
                       int64_t *id, int *created)
{
    struct es_buf context = ES_BUF_INIT, what = ES_BUF_INIT;
    struct snapshot snap = { .priority = -1, .subject = ES_BUF_INIT };
    struct es_helpdesk hd;
    int64_t now = es_time_now();
    int rc, moved = 0;

    *created = 0;
    if ((rc = es_inbox_begin(ib)) < 0)
        return rc;
    /* Again under the write lock: another process may have been first. */
    rc = es_ticket_of_conversation(ib, key, id);
    if (rc == 0 || rc != ES_ENOTFOUND)
        goto done;
    es_error_clear();
    rc =
        build_context(ib, key, rq->mention_id, rq->agent, now, &snap, &context);
    if (rc < 0)
        goto done;
    int forward = es_helpdesk_get(cfg, &hd);
    sqlite3_stmt *ins = es_sql_prepare(
        ib,
        "INSERT INTO tickets (conversation, subject, state,"
        " priority, context, created_by, created_at, updated_at,"
        " forward_state, forward_next) VALUES (?1, ?2, 'open', ?3,"
        " ?4, ?5, ?6, ?6, ?7, ?8)",
        NULL);
    if (ins) {
        es_sql_bind_text(ins, 1, key);
        es_sql_bind_text(ins, 2, snap.subject.ptr);
        if (snap.priority >= 0)
            sqlite3_bind_int(ins, 3, snap.priority);
        else
            sqlite3_bind_null(ins, 3);
        es_sql_bind_text(ins, 4, context.ptr);
        es_sql_bind_text(ins, 5, rq->agent);
        sqlite3_bind_int64(ins, 6, now);
        es_sql_bind_text(ins, 7, forward ? "pending" : NULL);
        if (forward)
            sqlite3_bind_int64(ins, 8, now);
        else
            sqlite3_bind_null(ins, 8);
    }
    rc = es_sql_run(ib, ins, "cannot open a ticket");
    if (rc < 0)
        goto done;
    *id = sqlite3_last_insert_rowid(es_inbox__db(ib));
    rc = move_mentions(ib, key, "new", "open", "pending", rq->agent, &moved);
    if (rc < 0)
        goto done;
    char object[32];
    ticket_object(object, *id);
    es_buf_addf(&what, "conversation %s from mention:%lld", key,
                (long long)rq->mention_id);
    rc = es_audit_add(ib, rq->agent, "ticket open", object, NULL, what.ptr);
    if (rc < 0)
        goto done;
    es_buf_reset(&what);
    es_buf_addf(&what, "opened ticket %lld", (long long)*id);
    if (moved)
        es_buf_addf(&what, " (%d mention%s pending)", moved,
                    moved == 1 ? "" : "s");
    rc = es_conversation_touch(ib, key, rq->agent, what.ptr, rq->expect_version,
                               NULL);
    if (rc == 0)
        *created = 1;
done:
    rc = es_sql_end(ib, rc);
    if (rc < 0)
        *created = 0;
    es_buf_release(&context);
    es_buf_release(&what);
    snapshot_release(&snap);
    return rc;
}

/* Checks, before anything changes, what can be checked of the notice
 * @canned (a private message when @private) to the author of mention
 * @m: the canned reply, the platform, the account and its credentials. */
static int notice_check(struct es_inbox *ib, const struct es_config *cfg,
                        const struct es_ticket_request *rq,
                        const struct es_mention *m, const char *canned,
                        int private)
{
    struct es_canned c;
    const struct es_config_source *acct;
    long count, limit;
    int rc = es_canned_get(ib, canned, &c);
    if (rc < 0)
        return rc;
    /* Whether the platform takes it at all; the length is checked on the
     * rendered text when it is queued. */
    rc = es_outbox_text_length(m->item.platform, private, c.body, &count,
                               &limit);
    es_canned_release(&c);
    if (rc < 0) {
        char why[512]; /* es_error_set() writes where es_error_last() is */
        snprintf(why, sizeof(why), "%s", es_error_last());
        return es_error_set(rc, "cannot %s mention %lld: %s",
                            private ? "send a private message about"
                                    : "acknowledge",
                            (long long)m->id, why);
    }
    if ((rc = es_outbox_account(cfg, rq->account, m->item.platform, &acct)) < 0)
        return rc;
    const struct es_config_source *src =
        m->item.source && cfg ? es_config_source_find(cfg, m->item.source)
                              : NULL;
    return es_outbox_account_check(acct, src);
}

/* Renders @canned for ticket @id and queues it (privately when
 * @private); sets *reply_id. A private message is also recorded as an
 * "out" message of the ticket, with the text exactly as queued. */
static int notice_queue(struct es_inbox *ib, const struct es_config *cfg,
                        const struct es_ticket_request *rq, int64_t id,
                        const char *canned, int private, int64_t *reply_id)
{
    struct es_buf text = ES_BUF_INIT;
    int rc = es_canned_render(ib, canned, rq->mention_id, rq->agent, id, &text);
    if (rc == 0) {
        struct es_reply_request rr = {
            .mention_id = rq->mention_id,
            .account = rq->account,
            .agent = rq->agent,
            .body = text.ptr,
            .private_message = private,
            .ticket_id = id,
        };
        rc = es_outbox_queue(ib, cfg, &rr, reply_id);
    }
    if (rc == 0 && private) {
        struct es_reply r;
        rc = es_outbox_get(ib, *reply_id, &r);
        if (rc == 0)
            rc = es_ticket_message_add(ib, id, ES_TICKET_OUT, rq->agent, r.body,
                                       NULL);
        es_reply_release(&r);
    }
    if (rc < 0) {
        char why[512]; /* es_error_set() writes where es_error_last() is */
        snprintf(why, sizeof(why), "%s", es_error_last());
        rc = es_error_set(rc,
                          "ticket %lld is open, but its %s was not queued: "
                          "%s",
                          (long long)id,
                          private ? "private message" : "acknowledgement", why);
    }
    es_buf_release(&text);
    return rc;
}

int es_ticket_open(struct es_inbox *ib, const struct es_config *cfg,
                   const struct es_ticket_request *rq,
                   struct es_ticket_opened *out)
{
    struct es_buf key = ES_BUF_INIT;
    struct es_mention m;
    int notices = rq->ack_canned || rq->dm_canned;
    int rc;

    memset(out, 0, sizeof(*out));
    memset(&m, 0, sizeof(m));
    rc = es_conversation_of(ib, rq->mention_id, &key);
    if (rc < 0)
        goto done;
    /* A conversation that has its ticket shows it, to anyone. */
    rc = es_ticket_of_conversation(ib, key.ptr, &out->ticket_id);
    if (rc == 0 && notices)
        rc = es_error_set(ES_EEXISTS,
                          "conversation %s has ticket %lld already: an "
                          "acknowledgement and a private message go out only "
                          "with a new ticket (answer with `earshot reply`)",
                          key.ptr, (long long)out->ticket_id);
    if (rc == 0 || rc != ES_ENOTFOUND)
        goto done;
    es_error_clear();
    rc = es_agent_check(ib, rq->agent, ES_ROLE_AGENT, "open tickets");
    if (rc == 0 && notices)
        rc = es_inbox_get(ib, rq->mention_id, &m);
    if (rc == 0 && rq->ack_canned)
        rc = notice_check(ib, cfg, rq, &m, rq->ack_canned, 0);
    if (rc == 0 && rq->dm_canned)
        rc = notice_check(ib, cfg, rq, &m, rq->dm_canned, 1);
    if (rc < 0)
        goto done;
    rc = open_ticket(ib, cfg, rq, key.ptr, &out->ticket_id, &out->created);
    if (rc < 0 || !out->created) {
        if (rc == 0 && notices) /* another agent opened it meanwhile */
            rc = es_error_set(ES_EEXISTS,
                              "conversation %s has ticket %lld already: it "
                              "was opened a moment ago, and its "
                              "acknowledgement is not sent twice",
                              key.ptr, (long long)out->ticket_id);
        goto done;
    }
    if (rq->ack_canned)
        rc = notice_queue(ib, cfg, rq, out->ticket_id, rq->ack_canned, 0,
                          &out->ack_reply_id);
    if (rc == 0 && rq->dm_canned)
        rc = notice_queue(ib, cfg, rq, out->ticket_id, rq->dm_canned, 1,
                          &out->dm_reply_id);
done:
    es_buf_release(&key);
    es_mention_release(&m);
    return rc;
}

/* ==== Changing a ticket ==== */

/* Starts a change of ticket @id by @agent: checks the agent may @what,
 * begins the transaction and reads the ticket into *t. On failure
 * nothing is open and *t is released. */
static int change_begin(struct es_inbox *ib, int64_t id, const char *agent,
                        const char *what, struct es_ticket *t)
{
    memset(t, 0, sizeof(*t));
    int rc = es_agent_check(ib, agent, ES_ROLE_AGENT, what);
    if (rc < 0)
        return rc;
    if ((rc = es_inbox_begin(ib)) < 0)
        return rc;
    rc = es_ticket_get(ib, id, t);
    if (rc < 0)
        es_inbox_rollback(ib);
    return rc;
}

/* Ends a change begun by change_begin(): the audit row, the touch of the
 * conversation (@what_conv) and updated_at, then commit or roll back. */
static int change_end(struct es_inbox *ib, struct es_ticket *t,
                      const char *agent, const char *action, const char *before,
                      const char *after, const char *what_conv, int rc)
{
    char object[32];
    ticket_object(object, t->id);
    if (rc == 0) {
        sqlite3_stmt *stmt = es_sql_prepare(
            ib, "UPDATE tickets SET updated_at = ?1 WHERE id = ?2", "ii",
            es_time_now(), t->id);
        rc = es_sql_run(ib, stmt, "cannot change a ticket");
    }
    if (rc == 0)
        rc = es_audit_add(ib, agent, action, object, before, after);
    if (rc == 0)
        rc = es_conversation_touch(ib, t->conversation, agent, what_conv, 0,
                                   NULL);
    rc = es_sql_end(ib, rc);
    es_ticket_release(t);
    return rc;
}

int es_ticket_set_state(struct es_inbox *ib, int64_t id,
                        enum es_ticket_state state, const char *agent)
{
    struct es_ticket t;
    int rc = change_begin(ib, id, agent, "change ticket states", &t);
    if (rc < 0)
        return rc;
    enum es_ticket_state from = t.state;
    if (from == state) {
        es_inbox_rollback(ib);
        es_ticket_release(&t);
        return 0;
    }
    if (!es_ticket_transition_ok(from, state)) {
        struct es_buf ok = ES_BUF_INIT;
        for (int s = ES_TICKET_OPEN; s <= ES_TICKET_CLOSED; s++)
            if (es_ticket_transition_ok(from, (enum es_ticket_state)s))
                es_buf_addf(&ok, "%s%s", ok.len ? ", " : "", state_names[s]);
        rc = es_error_set(
            ES_EINVALID, "ticket %lld is %s: it cannot become %s (only %s)",
            (long long)id, state_names[from], state_names[state], ok.ptr);
        es_buf_release(&ok);
        es_inbox_rollback(ib);
        es_ticket_release(&t);
        return rc;
    }
    int64_t now = es_time_now();
    int done = state == ES_TICKET_SOLVED || state == ES_TICKET_CLOSED;
    int was_done = from == ES_TICKET_SOLVED || from == ES_TICKET_CLOSED;
    sqlite3_stmt *stmt = es_sql_prepare(
        ib,
        "UPDATE tickets SET state = ?1, solved_at = CASE WHEN ?1 ="
        " 'solved' THEN ?2 WHEN ?1 = 'closed' THEN solved_at ELSE NULL"
        " END WHERE id = ?3",
        "tii", state_names[state], now, id);
    rc = es_sql_run(ib, stmt, "cannot change a ticket");
    int moved = 0;
    if (rc == 0 && done && !was_done)
        rc = move_mentions(ib, t.conversation, "pending", NULL, "resolved",
                           agent, &moved);
    else if (rc == 0 && was_done && !done)
        rc = move_mentions(ib, t.conversation, "resolved", NULL, "open", agent,
                           &moved);
    if (rc == 0 && moved)
        rc = sync_resolved(ib, t.conversation, now);
    char what[96];
    snprintf(what, sizeof(what), "set ticket %lld %s -> %s", (long long)id,
             state_names[from], state_names[state]);
    return change_end(ib, &t, agent, "ticket state", state_names[from],
                      state_names[state], what, rc);
}

int es_ticket_assign(struct es_inbox *ib, int64_t id, const char *assignee,
                     const char *agent)
{
    struct es_ticket t;
    int rc;
    if (assignee &&
        (rc = es_agent_check(ib, assignee, ES_ROLE_AGENT, "take tickets")) < 0)
        return rc;
    if ((rc = change_begin(ib, id, agent, "assign tickets", &t)) < 0)
        return rc;
    if (str_eq(t.assignee, assignee)) {
        es_inbox_rollback(ib);
        es_ticket_release(&t);
        return 0;
    }
    sqlite3_stmt *stmt =
        es_sql_prepare(ib, "UPDATE tickets SET assignee = ?1 WHERE id = ?2",
                       "ti", assignee, id);
    rc = es_sql_run(ib, stmt, "cannot assign a ticket");
    char what[160];
    if (assignee)
        snprintf(what, sizeof(what), "assigned ticket %lld to %s",
                 (long long)id, assignee);
    else
        snprintf(what, sizeof(what), "unassigned ticket %lld", (long long)id);
    char *before = t.assignee ? es_xstrdup(t.assignee) : NULL;
    rc = change_end(ib, &t, agent, "ticket assign", before, assignee, what, rc);
    free(before);
    return rc;
}

int es_ticket_set_priority(struct es_inbox *ib, int64_t id, int priority,
                           const char *agent)
{
    if (priority < 0 || priority > 100)
        return es_error_set(ES_EINVALID, "ticket priority %d: give 0 to 100",
                            priority);
    struct es_ticket t;
    int rc = change_begin(ib, id, agent, "change ticket priorities", &t);
    if (rc < 0)
        return rc;
    if (t.priority == priority) {
        es_inbox_rollback(ib);
        es_ticket_release(&t);
        return 0;
    }
    sqlite3_stmt *stmt =
        es_sql_prepare(ib, "UPDATE tickets SET priority = ?1 WHERE id = ?2",
                       "ii", (int64_t)priority, id);
    rc = es_sql_run(ib, stmt, "cannot change a ticket");
    char before[16], after[16], what[96];
    if (t.priority >= 0)
        snprintf(before, sizeof(before), "%d", t.priority);
    snprintf(after, sizeof(after), "%d", priority);
    snprintf(what, sizeof(what), "set ticket %lld priority %d", (long long)id,
             priority);
    return change_end(ib, &t, agent, "ticket priority",
                      t.priority >= 0 ? before : NULL, after, what, rc);
}

/* ==== Notes and messages ==== */

static const char *const kind_names[] = { "note", "out", "in" };

const char *es_ticket_message_kind_name(enum es_ticket_message_kind kind)
{
    return kind >= ES_TICKET_NOTE && kind <= ES_TICKET_IN ? kind_names[kind]
                                                          : "note";
}

/* 0 when @s is non-empty, valid UTF-8 and at most MESSAGE_MAX bytes. */
static int check_body(const char *s, int64_t id)
{
    size_t len = s ? strlen(s) : 0, i = 0;
    int blank = 1;
    if (len == 0 || len > MESSAGE_MAX)
        return es_error_set(ES_EINVALID,
                            "ticket %lld: a message needs 1 to %d bytes, "
                            "not %zu",
                            (long long)id, MESSAGE_MAX, len);
    while (i < len) {
        unsigned long cp;
        size_t n = es_utf8_decode(s + i, len - i, &cp);
        if (n == 0)
            return es_error_set(ES_EINVALID,
                                "ticket %lld: the message is not valid UTF-8 "
                                "(byte %zu)",
                                (long long)id, i);
        if (cp != ' ' && cp != '\n' && cp != '\t' && cp != '\r')
            blank = 0;
        i += n;
    }
    if (blank)
        return es_error_set(ES_EINVALID, "ticket %lld: the message is blank",
                            (long long)id);
    return 0;
}

int es_ticket_message_add(struct es_inbox *ib, int64_t id,
                          enum es_ticket_message_kind kind, const char *agent,
                          const char *body, int64_t *message_id)
{
    struct es_ticket t;
    int rc;
    if (kind < ES_TICKET_NOTE || kind > ES_TICKET_IN)
        return es_error_set(ES_EINVALID, "unknown ticket message kind %d",
                            (int)kind);
    if ((rc = check_body(body, id)) < 0)
        return rc;
    const char *who = agent;
    if (kind == ES_TICKET_IN && !agent) {
        /* What the customer sent, recorded by earshot itself. */
        who = "system";
        memset(&t, 0, sizeof(t));
        if ((rc = es_inbox_begin(ib)) < 0)
            return rc;
        if ((rc = es_ticket_get(ib, id, &t)) < 0) {
            es_inbox_rollback(ib);
            return rc;
        }
    } else {
        rc = change_begin(ib, id, agent,
                          kind == ES_TICKET_NOTE ? "write ticket notes"
                                                 : "record ticket messages",
                          &t);
        if (rc < 0)
            return rc;
    }
    sqlite3_stmt *stmt = es_sql_prepare(
        ib,
        "INSERT INTO ticket_messages (ticket_id, agent, kind,"
        " body, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        "ittti", id, agent, kind_names[kind], body, es_time_now());
    rc = es_sql_run(ib, stmt, "cannot add a ticket message");
    if (rc == 0 && message_id)
        *message_id = sqlite3_last_insert_rowid(es_inbox__db(ib));
    char what[96];
    snprintf(what, sizeof(what), "%s on ticket %lld",
             kind == ES_TICKET_NOTE  ? "wrote a note"
             : kind == ES_TICKET_OUT ? "sent a private message"
                                     : "received a private message",
             (long long)id);
    return change_end(ib, &t, who,
                      kind == ES_TICKET_NOTE ? "ticket note" : "ticket message",
                      NULL, body, what, rc);
}

int es_ticket_messages_each(struct es_inbox *ib, int64_t id,
                            es_ticket_message_cb cb, void *payload)
{
    sqlite3_stmt *stmt = es_sql_prepare(
        ib,
        "SELECT id, ticket_id, kind, agent, body, created_at FROM"
        " ticket_messages WHERE ticket_id = ?1 ORDER BY"
        " created_at, id",
        "i", id);
    if (!stmt)
        return ES_EDB;
    int rc = 0, step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *kind = (const char *)sqlite3_column_text(stmt, 2);
        struct es_ticket_message m = {
            .id = sqlite3_column_int64(stmt, 0),
            .ticket_id = sqlite3_column_int64(stmt, 1),
            .kind = ES_TICKET_NOTE,
            .agent = (const char *)sqlite3_column_text(stmt, 3),
            .body = (const char *)sqlite3_column_text(stmt, 4),
            .created_at = sqlite3_column_int64(stmt, 5),
        };
        for (int k = ES_TICKET_NOTE; kind && k <= ES_TICKET_IN; k++)
            if (strcmp(kind, kind_names[k]) == 0)
                m.kind = (enum es_ticket_message_kind)k;
        if ((rc = cb(&m, payload)) != 0)
            break;
    }
    if (!rc && step != SQLITE_DONE)
        rc = es_sql_fail(ib, "cannot read ticket messages");
    sqlite3_finalize(stmt);
    return rc;
}

/* ==== Reading the context ==== */

int es_ticket_context_each(struct es_inbox *ib, int64_t id,
                           es_ticket_context_cb cb, void *payload)
{
    /* SQLite's JSON functions walk the snapshot: no second JSON parser. */
    sqlite3_stmt *stmt = es_sql_prepare(
        ib,
        "SELECT json_extract(m.value, '$.mention_id'),"
        " json_extract(m.value, '$.platform'),"
        " json_extract(m.value, '$.source'), json_extract(m.value, '$.url'),"
        " json_extract(m.value, '$.author'),"
        " json_extract(m.value, '$.author_name'),"
        " json_extract(m.value, '$.author_followers'),"
        " json_extract(m.value, '$.title'), json_extract(m.value, '$.text'),"
        " json_extract(m.value, '$.created_at'),"
        " json_extract(m.value, '$.state'),"
        " json_extract(m.value, '$.sentiment.label'),"
        " json_extract(m.value, '$.sentiment.score'),"
        " json_extract(m.value, '$.priority'),"
        " (SELECT group_concat(r.value, ', ') FROM json_each(m.value,"
        " '$.priority_reasons') r),"
        " (SELECT group_concat(g.value, ', ') FROM json_each(m.value,"
        " '$.tags') g),"
        " (SELECT group_concat(COALESCE(json_extract(n.value,"
        " '$.created_at'), '-') || ' ' || COALESCE(json_extract(n.value,"
        " '$.agent'), '-') || ': ' || COALESCE(json_extract(n.value,"
        " '$.body'), ''), char(10)) FROM json_each(m.value, '$.notes') n)"
        " FROM tickets t, json_each(t.context, '$.mentions') m"
        " WHERE t.id = ?1 ORDER BY m.key",
        "i", id);
    if (!stmt)
        return ES_EDB;
    int rc = 0, step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
#define TXT(i) ((const char *)sqlite3_column_text(stmt, (i)))
        struct es_ticket_context_mention m = {
            .mention_id = sqlite3_column_int64(stmt, 0),
            .platform = TXT(1),
            .source = TXT(2),
            .url = TXT(3),
            .author = TXT(4),
            .author_name = TXT(5),
            .author_followers = sqlite3_column_type(stmt, 6) == SQLITE_NULL
                                    ? ES_COUNT_UNKNOWN
                                    : sqlite3_column_int64(stmt, 6),
            .title = TXT(7),
            .text = TXT(8),
            .created_at = ES_TIME_UNKNOWN,
            .state = TXT(10),
            .label = TXT(11),
            .sentiment = sqlite3_column_double(stmt, 12),
            .priority = sqlite3_column_type(stmt, 13) == SQLITE_NULL
                            ? -1
                            : sqlite3_column_int(stmt, 13),
            .reasons = TXT(14),
            .tags = TXT(15),
            .notes = TXT(16),
        };
        if (TXT(9))
            es_time_parse(TXT(9), &m.created_at);
#undef TXT
        if ((rc = cb(&m, payload)) != 0)
            break;
    }
    if (!rc && step != SQLITE_DONE)
        rc = es_sql_fail(ib, "cannot read a ticket's context");
    sqlite3_finalize(stmt);
    return rc;
}

int es_ticket_thread_each(struct es_inbox *ib, int64_t id, es_mention_cb cb,
                          void *payload)
{
    struct es_ticket t;
    int64_t *ids = NULL;
    size_t n = 0;
    int rc = es_ticket_get(ib, id, &t);
    if (rc < 0)
        return rc;
    rc = thread_ids(ib, t.conversation, &ids, &n);
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct es_mention m;
        rc = es_inbox_get(ib, ids[i], &m);
        if (rc == ES_ENOTFOUND) {
            rc = 0; /* gone meanwhile */
            continue;
        }
        if (rc < 0)
            break;
        rc = cb(&m, payload);
        es_mention_release(&m);
    }
    free(ids);
    es_ticket_release(&t);
    return rc;
}

void es_ticket_json(struct es_buf *out, const struct es_ticket *t)
{
    es_buf_addf(out, "{\"id\":%lld,", (long long)t->id);
    key_str(out, "conversation", t->conversation);
    es_buf_addch(out, ',');
    key_str(out, "subject", t->subject);
    es_buf_addch(out, ',');
    key_str(out, "state", es_ticket_state_name(t->state));
    es_buf_addch(out, ',');
    key_str(out, "assignee", t->assignee);
    if (t->priority >= 0)
        es_buf_addf(out, ",\"priority\":%d,", t->priority);
    else
        es_buf_adds(out, ",\"priority\":null,");
    key_str(out, "created_by", t->created_by);
    es_buf_addch(out, ',');
    key_time(out, "created_at", t->created_at);
    es_buf_addch(out, ',');
    key_time(out, "updated_at", t->updated_at);
    es_buf_addch(out, ',');
    key_time(out, "solved_at", t->solved_at);
    es_buf_adds(out, ",\"forward\":{");
    key_str(out, "state", t->forward_state);
    es_buf_addf(out, ",\"attempts\":%d,", t->forward_attempts);
    key_time(out, "next", t->forward_next);
    es_buf_addch(out, ',');
    key_str(out, "error", t->forward_error);
    /* The snapshot is JSON this file wrote; anything else is not passed
     * on as if it were. */
    es_buf_adds(out, "},\"context\":");
    if (t->context && t->context[0] == '{')
        es_buf_adds(out, t->context);
    else
        es_buf_adds(out, "null");
    es_buf_addch(out, '}');
}

/* ==== Forwarding to a helpdesk ==== */

int es_helpdesk_get(const struct es_config *cfg, struct es_helpdesk *out)
{
    memset(out, 0, sizeof(*out));
    const struct es_config_source *sec =
        cfg && es_config_section_count(cfg, "helpdesk") > 0
            ? es_config_section_at(cfg, "helpdesk", 0)
            : NULL;
    if (!sec)
        return 0;
    out->webhook_url = es_config_source_get(sec, "webhook_url");
    out->secret = es_config_source_get(sec, "secret");
    out->enabled = es_config_source_bool(sec, "enabled", 1);
    if (out->webhook_url && !*out->webhook_url)
        out->webhook_url = NULL;
    return out->enabled && out->webhook_url;
}

void es_tickets_delivery_id(const struct es_ticket *t, struct es_buf *out)
{
    es_buf_reset(out);
    es_buf_addf(out, "earshot-ticket-%lld-%lld", (long long)t->id,
                (long long)t->created_at);
}

void es_tickets_forward_body(const struct es_ticket *t, struct es_buf *out)
{
    struct es_buf id = ES_BUF_INIT;
    es_tickets_delivery_id(t, &id);
    es_buf_reset(out);
    es_buf_adds(out, "{\"event\":\"ticket.created\",");
    key_str(out, "delivery", id.ptr);
    es_buf_adds(out, ",\"ticket\":");
    es_ticket_json(out, t);
    es_buf_addch(out, '}');
    es_buf_release(&id);
}

int es_tickets_sign(const char *secret, const char *buf, size_t len,
                    char out[static ES_TICKETS_SIG_SIZE])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    size_t klen = secret ? strlen(secret) : 0;
    out[0] = '\0';
    if (klen > 0x7fffffff ||
        !HMAC(EVP_sha256(), secret ? secret : "", (int)klen,
              (const unsigned char *)buf, len, md, &mdlen) ||
        mdlen != 32)
        return es_error_set(ES_ERROR, "helpdesk: cannot compute the "
                                      "HMAC-SHA256 signature");
    memcpy(out, "sha256=", 7);
    for (unsigned i = 0; i < mdlen; i++) {
        out[7 + 2 * i] = hex[md[i] >> 4];
        out[8 + 2 * i] = hex[md[i] & 15];
    }
    out[7 + 2 * mdlen] = '\0';
    return 0;
}

void es_ticket_delivery_init(struct es_ticket_delivery *d)
{
    memset(d, 0, sizeof(*d));
    es_buf_init(&d->id);
    es_buf_init(&d->body);
}

void es_ticket_delivery_release(struct es_ticket_delivery *d)
{
    es_buf_release(&d->id);
    es_buf_release(&d->body);
    d->ticket_id = 0;
    d->attempts = 0;
}

int es_tickets_forward_next(struct es_inbox *ib, int64_t now,
                            struct es_ticket_delivery *d)
{
    struct es_ticket t;
    int rc = es_inbox_begin(ib);
    if (rc < 0)
        return rc;
    memset(&t, 0, sizeof(t));
    sqlite3_stmt *stmt = es_sql_prepare(
        ib,
        "SELECT " TICKET_COLUMNS " FROM tickets WHERE"
        " forward_state = 'pending' AND COALESCE(forward_next, 0)"
        " <= ?1 ORDER BY forward_next, id LIMIT 1",
        "i", now);
    if (!stmt) {
        rc = ES_EDB;
        goto done;
    }
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW)
        read_ticket(stmt, &t);
    else if (step == SQLITE_DONE)
        rc = ES_ENOTFOUND;
    else
        rc = es_sql_fail(ib, "cannot read due deliveries");
    sqlite3_finalize(stmt);
    if (rc < 0)
        goto done;
    /* The lease: nobody else takes it while this sender works on it. */
    stmt =
        es_sql_prepare(ib, "UPDATE tickets SET forward_next = ?1 WHERE id = ?2",
                       "ii", now + ES_TICKETS_FORWARD_LEASE, t.id);
    rc = es_sql_run(ib, stmt, "cannot reserve a delivery");
    if (rc < 0)
        goto done;
    d->ticket_id = t.id;
    d->attempts = t.forward_attempts;
    es_tickets_delivery_id(&t, &d->id);
    es_tickets_forward_body(&t, &d->body);
done:
    if (rc == ES_ENOTFOUND) {
        es_inbox_commit(ib);
        es_error_set(ES_ENOTFOUND, "no ticket delivery is due");
    } else {
        rc = es_sql_end(ib, rc);
    }
    es_ticket_release(&t);
    return rc;
}

int es_tickets_forward_result(struct es_inbox *ib, int64_t id, long http_code,
                              const char *error, int64_t next)
{
    int ok = http_code >= 200 && http_code <= 299;
    char msg[48];
    if (!ok && !error) {
        snprintf(msg, sizeof(msg), "HTTP %ld", http_code);
        error = msg;
    }
    int rc = es_inbox_begin(ib);
    if (rc < 0)
        return rc;
    sqlite3_stmt *stmt = es_sql_prepare(
        ib,
        ok ? "UPDATE tickets SET forward_state = 'delivered',"
             " forward_attempts = forward_attempts + 1, forward_next ="
             " NULL, forward_error = NULL WHERE id = ?1 AND"
             " forward_state = 'pending'"
           : "UPDATE tickets SET forward_attempts = forward_attempts + 1,"
             " forward_error = ?2, forward_next = ?3 WHERE id = ?1 AND"
             " forward_state = 'pending'",
        NULL);
    if (stmt) {
        sqlite3_bind_int64(stmt, 1, id);
        if (!ok) {
            es_sql_bind_text(stmt, 2, error);
            sqlite3_bind_int64(stmt, 3, next);
        }
    }
    rc = es_sql_run(ib, stmt, "cannot record a delivery");
    if (rc == 0 && sqlite3_changes(es_inbox__db(ib)) == 0)
        rc = es_error_set(ES_ENOTFOUND,
                          "ticket %lld is not waiting to be forwarded",
                          (long long)id);
    if (rc == 0 && ok) {
        char object[32];
        ticket_object(object, id);
        rc = es_audit_add(ib, "system", "ticket forward", object, "pending",
                          "delivered");
    }
    return es_sql_end(ib, rc);
}
