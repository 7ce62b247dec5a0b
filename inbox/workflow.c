/* workflow.c - agents, the audit log and conversation versions
 *
 * These run at the pace of people typing commands, not of a poller, so
 * each call prepares its statement, runs it and finalizes it: nothing to
 * keep in step with store.c's prepared set. Every change an agent makes
 * is recorded in the audit table in the same transaction as the change.
 */
#include "earshot/workflow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/item.h"
#include "sql.h"
#include "store.h"
#include "triage_int.h"

/* ==== Agents ==== */

static const char *const role_names[] = { "viewer", "agent", "admin" };

const char *es_role_name(enum es_role role)
{
    return role >= ES_ROLE_VIEWER && role <= ES_ROLE_ADMIN ? role_names[role]
                                                           : "viewer";
}

int es_role_parse(const char *name, enum es_role *out)
{
    for (int r = ES_ROLE_VIEWER; name && r <= ES_ROLE_ADMIN; r++)
        if (strcmp(name, role_names[r]) == 0) {
            *out = (enum es_role)r;
            return 0;
        }
    return es_error_set(ES_EINVALID,
                        "unknown role '%s' (admin, agent or viewer)",
                        name ? name : "");
}

void es_agent_release(struct es_agent *a)
{
    if (!a)
        return;
    free(a->name);
    memset(a, 0, sizeof(*a));
}

int es_agent_add(struct es_inbox *ib, const char *name, enum es_role role,
                 const char *by)
{
    if (!es_triage__valid_name(name, NULL))
        return es_error_set(ES_EINVALID,
                            "agent name '%s' must be 1 to 64 characters with "
                            "no spaces or control characters",
                            name ? name : "");
    char now[24];
    snprintf(now, sizeof(now), "%lld", (long long)es_time_now());
    int rc = es_inbox_begin(ib);
    if (rc < 0)
        return rc;
    sqlite3_stmt *stmt = es_sql_prepare(
        ib,
        "INSERT INTO agents (name, role, created_at) VALUES (?1, ?2, "
        "CAST(?3 AS INTEGER)) ON CONFLICT (name) DO NOTHING",
        "ttt", name, es_role_name(role), now);
    if (!stmt) {
        rc = ES_EDB;
    } else if (sqlite3_step(stmt) != SQLITE_DONE) {
        rc = es_sql_fail(ib, "cannot add an agent");
    } else if (sqlite3_changes(es_inbox__db(ib)) == 0) {
        rc = es_error_set(ES_EEXISTS, "agent '%s' exists already", name);
    }
    sqlite3_finalize(stmt);
    if (rc == 0) {
        char object[96];
        snprintf(object, sizeof(object), "agent:%s", name);
        rc = es_audit_add(ib, by ? by : "system", "agent add", object, NULL,
                          es_role_name(role));
    }
    return es_sql_end(ib, rc);
}

static void read_agent(sqlite3_stmt *stmt, struct es_agent *out)
{
    memset(out, 0, sizeof(*out));
    out->id = sqlite3_column_int64(stmt, 0);
    out->name = es_sql_dup_col(stmt, 1);
    es_role_parse((const char *)sqlite3_column_text(stmt, 2), &out->role);
    out->disabled = sqlite3_column_int(stmt, 3);
    out->created_at = sqlite3_column_int64(stmt, 4);
}

int es_agent_get(struct es_inbox *ib, const char *name, struct es_agent *out)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *stmt =
        es_sql_prepare(ib,
                       "SELECT id, name, role, disabled, created_at"
                       " FROM agents WHERE name = ?1",
                       "t", name);
    if (!stmt)
        return ES_EDB;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        read_agent(stmt, out);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = es_error_set(ES_ENOTFOUND,
                          "no agent '%s': add one with `earshot agent add %s`",
                          name ? name : "", name ? name : "NAME");
    } else {
        rc = es_sql_fail(ib, "cannot read an agent");
    }
    sqlite3_finalize(stmt);
    return rc;
}

int es_agent_set_disabled(struct es_inbox *ib, const char *name, int disabled,
                          const char *by)
{
    struct es_agent a;
    int rc = es_agent_get(ib, name, &a);
    if (rc < 0)
        return rc;
    int was = a.disabled;
    es_agent_release(&a);
    if (was == (disabled != 0))
        return 0;
    if ((rc = es_inbox_begin(ib)) < 0)
        return rc;
    rc = es_sql_run(
        ib,
        es_sql_prepare(ib, "UPDATE agents SET disabled = ?1 WHERE name = ?2",
                       "tt", disabled ? "1" : "0", name),
        "cannot change an agent");
    char object[96];
    snprintf(object, sizeof(object), "agent:%s", name);
    if (rc == 0)
        rc = es_audit_add(ib, by ? by : "system",
                          disabled ? "agent disable" : "agent enable", object,
                          was ? "disabled" : "enabled",
                          disabled ? "disabled" : "enabled");
    return es_sql_end(ib, rc);
}

int es_agent_each(struct es_inbox *ib, es_agent_cb cb, void *payload)
{
    sqlite3_stmt *stmt = es_sql_prepare(ib,
                                        "SELECT id, name, role, disabled,"
                                        " created_at FROM agents ORDER BY name",
                                        NULL);
    if (!stmt)
        return ES_EDB;
    int rc = 0, step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct es_agent a;
        read_agent(stmt, &a);
        rc = cb(&a, payload);
        es_agent_release(&a);
        if (rc)
            break;
    }
    if (!rc && step != SQLITE_DONE)
        rc = es_sql_fail(ib, "cannot list agents");
    sqlite3_finalize(stmt);
    return rc;
}

int es_agent_check(struct es_inbox *ib, const char *name, enum es_role need,
                   const char *what)
{
    struct es_agent a;
    int rc = es_agent_get(ib, name, &a);
    if (rc < 0)
        return rc;
    if (a.disabled)
        rc = es_error_set(ES_EAUTH, "agent '%s' is disabled: it cannot %s",
                          name, what);
    else if (a.role < need)
        rc = es_error_set(
            ES_EAUTH, "agent '%s' is a%s %s: %s only can %s", name,
            a.role == ES_ROLE_AGENT ? "n" : "", es_role_name(a.role),
            need == ES_ROLE_ADMIN ? "admins" : "agents and admins", what);
    es_agent_release(&a);
    return rc;
}

/* ==== The audit log ==== */

int es_audit_add(struct es_inbox *ib, const char *agent, const char *action,
                 const char *object, const char *before, const char *after)
{
    char now[24];
    snprintf(now, sizeof(now), "%lld", (long long)es_time_now());
    return es_sql_run(
        ib,
        es_sql_prepare(ib,
                       "INSERT INTO audit (at, agent, action, object, before,"
                       " after) VALUES (CAST(?1 AS INTEGER), ?2, ?3, ?4, ?5,"
                       " ?6)",
                       "tttttt", now, agent ? agent : "system", action, object,
                       before, after),
        "cannot write the audit log");
}

int es_audit_each(struct es_inbox *ib, int64_t since, const char *agent,
                  int limit, es_audit_cb cb, void *payload)
{
    char s_since[24], s_limit[24];
    snprintf(s_since, sizeof(s_since), "%lld",
             (long long)(since == ES_TIME_UNKNOWN ? INT64_MIN : since));
    snprintf(s_limit, sizeof(s_limit), "%d", limit > 0 ? limit : -1);
    sqlite3_stmt *stmt = es_sql_prepare(
        ib,
        "SELECT id, at, agent, action, object, before, after FROM"
        " audit WHERE at >= CAST(?1 AS INTEGER) AND (?2 IS NULL OR"
        " agent = ?2) ORDER BY id LIMIT CAST(?3 AS INTEGER)",
        "ttt", s_since, agent, s_limit);
    if (!stmt)
        return ES_EDB;
    int rc = 0, step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct es_audit_entry e = {
            .id = sqlite3_column_int64(stmt, 0),
            .at = sqlite3_column_int64(stmt, 1),
            .agent = (const char *)sqlite3_column_text(stmt, 2),
            .action = (const char *)sqlite3_column_text(stmt, 3),
            .object = (const char *)sqlite3_column_text(stmt, 4),
            .before = (const char *)sqlite3_column_text(stmt, 5),
            .after = (const char *)sqlite3_column_text(stmt, 6),
        };
        if ((rc = cb(&e, payload)) != 0)
            break;
    }
    if (!rc && step != SQLITE_DONE)
        rc = es_sql_fail(ib, "cannot read the audit log");
    sqlite3_finalize(stmt);
    return rc;
}

/* ==== Conversations ==== */

int es_conversation_of(struct es_inbox *ib, int64_t mention_id,
                       struct es_buf *out)
{
    char id[24];
    snprintf(id, sizeof(id), "%lld", (long long)mention_id);
    sqlite3_stmt *stmt =
        es_sql_prepare(ib,
                       "SELECT COALESCE(conversation, 'm:' || id)"
                       " FROM mentions WHERE id = CAST(?1 AS"
                       " INTEGER)",
                       "t", id);
    if (!stmt)
        return ES_EDB;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        es_buf_reset(out);
        es_buf_adds(out, (const char *)sqlite3_column_text(stmt, 0));
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = es_error_set(ES_ENOTFOUND, "no mention %lld",
                          (long long)mention_id);
    } else {
        rc = es_sql_fail(ib, "cannot read a mention");
    }
    sqlite3_finalize(stmt);
    return rc;
}

int es_conversation_version(struct es_inbox *ib, const char *key,
                            int64_t *version)
{
    sqlite3_stmt *stmt = es_sql_prepare(
        ib, "SELECT version FROM conversations WHERE key = ?1", "t", key);
    if (!stmt)
        return ES_EDB;
    int rc = sqlite3_step(stmt);
    *version = 1;
    if (rc == SQLITE_ROW)
        *version = sqlite3_column_int64(stmt, 0);
    rc = rc == SQLITE_ROW || rc == SQLITE_DONE
             ? 0
             : es_sql_fail(ib, "cannot read a conversation");
    sqlite3_finalize(stmt);
    return rc;
}

int es_conversation_touch(struct es_inbox *ib, const char *key,
                          const char *agent, const char *what, int64_t expect,
                          int64_t *version)
{
    int64_t cur;
    int rc = es_conversation_version(ib, key, &cur);
    if (rc < 0)
        return rc;
    if (expect > 0 && expect != cur) {
        sqlite3_stmt *stmt =
            es_sql_prepare(ib,
                           "SELECT changed_by, changed_what,"
                           " changed_at FROM conversations WHERE"
                           " key = ?1",
                           "t", key);
        char when[21] = "";
        const char *by = NULL, *did = NULL;
        if (stmt && sqlite3_step(stmt) == SQLITE_ROW) {
            by = (const char *)sqlite3_column_text(stmt, 0);
            did = (const char *)sqlite3_column_text(stmt, 1);
            es_time_format(sqlite3_column_int64(stmt, 2), when);
        }
        rc = es_error_set(ES_EEXISTS,
                          "conversation changed since you loaded it (version "
                          "%lld, now %lld): %s %s at %s; load it again",
                          (long long)expect, (long long)cur,
                          by ? by : "someone", did ? did : "changed it",
                          when[0] ? when : "an unknown time");
        sqlite3_finalize(stmt);
        return rc;
    }
    char now[24];
    snprintf(now, sizeof(now), "%lld", (long long)es_time_now());
    rc = es_sql_run(
        ib,
        es_sql_prepare(
            ib,
            "INSERT INTO conversations (key, version, changed_by,"
            " changed_what, changed_at) VALUES (?1, 2, ?2, ?3,"
            " CAST(?4 AS INTEGER)) ON CONFLICT (key) DO UPDATE SET"
            " version = version + 1, changed_by = excluded.changed_by,"
            " changed_what = excluded.changed_what,"
            " changed_at = excluded.changed_at",
            "tttt", key, agent, what, now),
        "cannot change a conversation");
    if (rc == 0 && version)
        *version = cur + 1;
    return rc;
}

int es_conversation_claim(struct es_inbox *ib, const char *key,
                          const char *agent, long ttl)
{
    int64_t now = es_time_now();
    char s_now[24], s_until[24];
    snprintf(s_now, sizeof(s_now), "%lld", (long long)now);
    snprintf(s_until, sizeof(s_until), "%lld", (long long)(now + ttl));
    sqlite3_stmt *stmt = es_sql_prepare(ib,
                                        "SELECT claim_agent, claim_expires FROM"
                                        " conversations WHERE key = ?1",
                                        "t", key);
    if (!stmt)
        return ES_EDB;
    int rc = 0;
    if (sqlite3_step(stmt) == SQLITE_ROW &&
        sqlite3_column_type(stmt, 0) != SQLITE_NULL) {
        const char *holder = (const char *)sqlite3_column_text(stmt, 0);
        int64_t until = sqlite3_column_int64(stmt, 1);
        if (until > now && strcmp(holder, agent) != 0) {
            char when[21];
            rc = es_error_set(ES_EEXISTS,
                              "%s is replying to this conversation (claim "
                              "until %s): wait, or ask them",
                              holder, es_time_format(until, when));
        }
    }
    sqlite3_finalize(stmt);
    if (rc < 0)
        return rc;
    return es_sql_run(
        ib,
        es_sql_prepare(ib,
                       "INSERT INTO conversations (key, claim_agent,"
                       " claim_expires) VALUES (?1, ?2, CAST(?3 AS INTEGER))"
                       " ON CONFLICT (key) DO UPDATE SET claim_agent ="
                       " excluded.claim_agent, claim_expires ="
                       " excluded.claim_expires",
                       "ttt", key, agent, s_until),
        "cannot claim a conversation");
}

int es_conversation_release(struct es_inbox *ib, const char *key,
                            const char *agent)
{
    return es_sql_run(
        ib,
        es_sql_prepare(ib,
                       "UPDATE conversations SET claim_agent = NULL,"
                       " claim_expires = NULL WHERE key = ?1 AND claim_agent"
                       " = ?2",
                       "tt", key, agent),
        "cannot release a claim");
}
