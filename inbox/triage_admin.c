/* triage_admin.c - managing agents and canned replies
 *
 * What admins do: add, disable and enable agents (on top of workflow.c's
 * agent table, adding who may do it), and keep the canned replies agents
 * answer with. Canned replies are expanded here too, since replies and
 * tickets both use them; the expansion itself is a pure function so the
 * checks on a template run before it is ever stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/item.h"
#include "earshot/triage.h"
#include "sql.h"
#include "store.h"
#include "triage_int.h"

/* ==== Agents ==== */

/* Reads one integer from @sql (no parameters) into *out. */
static int count_of(struct es_inbox *ib, const char *sql, long long *out)
{
    sqlite3_stmt *stmt = es_sql_prepare(ib, sql, "");
    if (!stmt)
        return ES_EDB;
    int rc = sqlite3_step(stmt) == SQLITE_ROW
                 ? 0
                 : es_sql_fail(ib, "cannot count agents");
    *out = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return rc;
}

/* Checks that @by is an enabled admin, to @what. */
static int check_admin(struct es_inbox *ib, const char *by, const char *what)
{
    if (!by || !*by)
        return es_error_set(
            ES_EAUTH, "only an admin can %s: say which admin is acting", what);
    return es_agent_check(ib, by, ES_ROLE_ADMIN, what);
}

int es_triage_agent_add(struct es_inbox *ib, const char *name,
                        enum es_role role, const char *by)
{
    long long n;
    int rc = count_of(ib, "SELECT count(*) FROM agents", &n);
    if (rc < 0)
        return rc;
    /* NEEDSWORK: two processes adding the very first agent at once can
     * both pass this check (es_agent_add runs its own transaction); both
     * agents are then admins, which is harmless. */
    if (n == 0) {
        if (role != ES_ROLE_ADMIN)
            return es_error_set(ES_EINVALID,
                                "agent '%s' would be the first agent, and the "
                                "first agent must be an admin (role admin, "
                                "not %s)",
                                name ? name : "", es_role_name(role));
        return es_agent_add(ib, name, role, by && *by ? by : NULL);
    }
    rc = check_admin(ib, by, "add agents");
    if (rc < 0)
        return rc;
    return es_agent_add(ib, name, role, by);
}

int es_triage_agent_set_disabled(struct es_inbox *ib, const char *name,
                                 int disabled, const char *by)
{
    int rc = check_admin(ib, by, disabled ? "disable agents" : "enable agents");
    if (rc < 0)
        return rc;
    struct es_agent a;
    if ((rc = es_agent_get(ib, name, &a)) < 0)
        return rc;
    int last_admin = 0;
    if (disabled && a.role == ES_ROLE_ADMIN && !a.disabled) {
        long long admins;
        rc = count_of(ib,
                      "SELECT count(*) FROM agents WHERE role = 'admin'"
                      " AND disabled = 0",
                      &admins);
        last_admin = rc == 0 && admins <= 1;
    }
    es_agent_release(&a);
    if (rc < 0)
        return rc;
    if (last_admin)
        return es_error_set(ES_EINVALID,
                            "agent '%s' is the last enabled admin: add or "
                            "enable another admin first",
                            name);
    return es_agent_set_disabled(ib, name, disabled, by);
}

/* ==== Expanding placeholders ==== */

#define PLACEHOLDER_MAX 32

/* The length of the placeholder name at @p (just after a '{'), when a
 * run of lower-case letters and underscores closed by '}' is there; 0
 * when this brace is plain text. */
static size_t placeholder_len(const char *p)
{
    size_t n = 0;
    while (n <= PLACEHOLDER_MAX &&
           ((p[n] >= 'a' && p[n] <= 'z') || p[n] == '_'))
        n++;
    return n > 0 && n <= PLACEHOLDER_MAX && p[n] == '}' ? n : 0;
}

int es_canned_expand(const char *body, const char *what, const char *author,
                     const char *agent, const char *ticket, struct es_buf *out)
{
    static const char *const names[] = { "author", "agent", "ticket" };
    const char *values[] = { author, agent, ticket };
    static const char *const missing[] = {
        "the mention has no author (or none was given)",
        "no agent was given",
        "no ticket was given",
    };

    es_buf_reset(out);
    for (const char *p = body ? body : ""; *p; p++) {
        size_t n = *p == '{' ? placeholder_len(p + 1) : 0;
        if (n == 0) {
            es_buf_addch(out, *p);
            continue;
        }
        size_t k = 0;
        while (k < 3 &&
               !(strlen(names[k]) == n && strncmp(names[k], p + 1, n) == 0))
            k++;
        if (k == 3)
            return es_error_set(ES_EINVALID,
                                "%s: unknown placeholder {%.*s} (known: "
                                "{author}, {agent}, {ticket})",
                                what, (int)n, p + 1);
        if (!values[k])
            return es_error_set(ES_EINVALID, "%s uses {%s}, but %s", what,
                                names[k], missing[k]);
        es_buf_adds(out, values[k]);
        p += n + 1;
    }
    return 0;
}

/* ==== Canned replies ==== */

void es_canned_release(struct es_canned *c)
{
    if (!c)
        return;
    free(c->name);
    free(c->body);
    free(c->updated_by);
    memset(c, 0, sizeof(*c));
}

/* Reads the body of canned reply @name into *out (the caller frees it);
 * NULL when there is none. */
static int body_of(struct es_inbox *ib, const char *name, char **out)
{
    *out = NULL;
    sqlite3_stmt *stmt = es_sql_prepare(
        ib, "SELECT body FROM canned WHERE name = ?1", "t", name);
    if (!stmt)
        return ES_EDB;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *out = es_xstrdup((const char *)sqlite3_column_text(stmt, 0));
    rc = rc == SQLITE_ROW || rc == SQLITE_DONE
             ? 0
             : es_sql_fail(ib, "cannot read a canned reply");
    sqlite3_finalize(stmt);
    return rc;
}

int es_canned_add(struct es_inbox *ib, const char *name, const char *body,
                  const char *agent, int replace)
{
    struct es_buf check = ES_BUF_INIT;
    char *old = NULL;
    char what[96];

    if (!es_triage__valid_name(name, NULL))
        return es_error_set(ES_EINVALID,
                            "canned reply name '%s' must be 1 to 64 "
                            "characters with no spaces or control characters",
                            name ? name : "");
    snprintf(what, sizeof(what), "canned reply '%s'", name);
    if (!body || body[strspn(body, " \t\r\n")] == '\0')
        return es_error_set(ES_EINVALID, "%s is empty", what);
    /* Every placeholder must be a known one: expand with stand-ins. */
    int rc = es_canned_expand(body, what, "a", "a", "1", &check);
    es_buf_release(&check);
    if (rc < 0)
        return rc;
    if ((rc = es_inbox_begin(ib)) < 0)
        return rc;
    rc = check_admin(ib, agent, "manage canned replies");
    if (rc == 0)
        rc = body_of(ib, name, &old);
    if (rc == 0 && old && !replace)
        rc = es_error_set(ES_EEXISTS,
                          "%s exists already: replace it, or remove it "
                          "first",
                          what);
    if (rc == 0)
        rc = es_sql_run(
            ib,
            es_sql_prepare(ib,
                           "INSERT INTO canned (name, body, updated_by,"
                           " updated_at) VALUES (?1, ?2, ?3, ?4) ON"
                           " CONFLICT (name) DO UPDATE SET body ="
                           " excluded.body, updated_by ="
                           " excluded.updated_by, updated_at ="
                           " excluded.updated_at",
                           "ttti", name, body, agent, (int64_t)es_time_now()),
            "cannot store a canned reply");
    char object[80];
    snprintf(object, sizeof(object), "canned:%s", name);
    if (rc == 0)
        rc = es_audit_add(ib, agent, old ? "canned replace" : "canned add",
                          object, old, body);
    free(old);
    return es_sql_end(ib, rc);
}

int es_canned_remove(struct es_inbox *ib, const char *name, const char *agent)
{
    char *old = NULL;
    int rc = es_inbox_begin(ib);
    if (rc < 0)
        return rc;
    rc = check_admin(ib, agent, "manage canned replies");
    if (rc == 0)
        rc = body_of(ib, name, &old);
    if (rc == 0 && !old)
        rc = es_error_set(ES_ENOTFOUND, "no canned reply '%s'",
                          name ? name : "");
    if (rc == 0)
        rc = es_sql_run(ib,
                        es_sql_prepare(ib,
                                       "DELETE FROM canned WHERE name"
                                       " = ?1",
                                       "t", name),
                        "cannot remove a canned reply");
    char object[80];
    snprintf(object, sizeof(object), "canned:%s", name ? name : "");
    if (rc == 0)
        rc = es_audit_add(ib, agent, "canned rm", object, old, NULL);
    free(old);
    return es_sql_end(ib, rc);
}

static void read_canned(sqlite3_stmt *stmt, struct es_canned *c)
{
    const unsigned char *by = sqlite3_column_text(stmt, 2);
    c->name = es_xstrdup((const char *)sqlite3_column_text(stmt, 0));
    c->body = es_xstrdup((const char *)sqlite3_column_text(stmt, 1));
    c->updated_by = by ? es_xstrdup((const char *)by) : NULL;
    c->updated_at = sqlite3_column_int64(stmt, 3);
}

static int add_name(const struct es_canned *c, void *payload)
{
    struct es_buf *b = payload;
    es_buf_adds(b, b->len ? ", " : "");
    es_buf_adds(b, c->name);
    return 0;
}

int es_canned_get(struct es_inbox *ib, const char *name, struct es_canned *out)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *stmt = es_sql_prepare(ib,
                                        "SELECT name, body, updated_by,"
                                        " updated_at FROM canned WHERE"
                                        " name = ?1",
                                        "t", name);
    if (!stmt)
        return ES_EDB;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        read_canned(stmt, out);
        rc = 0;
    } else if (rc != SQLITE_DONE) {
        rc = es_sql_fail(ib, "cannot read a canned reply");
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE)
        return rc;
    struct es_buf known = ES_BUF_INIT;
    rc = es_canned_each(ib, add_name, &known);
    if (rc == 0)
        rc = es_error_set(
            ES_ENOTFOUND, "no canned reply '%s' (%s%s)", name ? name : "",
            known.len ? "canned replies: " : "there are none", known.ptr);
    es_buf_release(&known);
    return rc;
}

int es_canned_each(struct es_inbox *ib, es_canned_cb cb, void *payload)
{
    sqlite3_stmt *stmt = es_sql_prepare(
        ib,
        "SELECT name, body, updated_by, updated_at FROM canned ORDER BY name",
        "");
    if (!stmt)
        return ES_EDB;
    int rc = 0, step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct es_canned c;
        read_canned(stmt, &c);
        rc = cb(&c, payload);
        es_canned_release(&c);
        if (rc)
            break;
    }
    if (!rc && step != SQLITE_DONE)
        rc = es_sql_fail(ib, "cannot list canned replies");
    sqlite3_finalize(stmt);
    return rc;
}

int es_canned_render(struct es_inbox *ib, const char *name, int64_t mention_id,
                     const char *agent, int64_t ticket_id, struct es_buf *out)
{
    struct es_canned c;
    struct es_mention m;
    char ticket[24], what[96];
    const char *author = NULL;

    memset(&m, 0, sizeof(m));
    es_item_init(&m.item);
    int rc = es_canned_get(ib, name, &c);
    if (rc < 0)
        return rc;
    if (mention_id > 0) {
        rc = es_inbox_get(ib, mention_id, &m);
        if (rc < 0)
            goto done;
        if (m.item.author_name && *m.item.author_name)
            author = m.item.author_name;
        else if (m.item.author && *m.item.author)
            author = m.item.author;
    }
    snprintf(ticket, sizeof(ticket), "%lld", (long long)ticket_id);
    snprintf(what, sizeof(what), "canned reply '%s'", c.name);
    rc = es_canned_expand(c.body, what, author, agent,
                          ticket_id > 0 ? ticket : NULL, out);
done:
    es_mention_release(&m);
    es_canned_release(&c);
    return rc;
}
