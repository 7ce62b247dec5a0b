/* workflow.h - the inbox at work: agents, conversations, the audit log
 *
 * The pieces every workflow file shares (triage, replies, tickets,
 * metrics): who the agents are and what their role lets them do, the key
 * and version of a conversation (the stale-reply guard), and the audit
 * log that records every agent action with its before and after. All of
 * it lives in the inbox's database (schema version 5) and goes through
 * the es_inbox connection; none of it is thread-safe beyond what
 * es_inbox is.
 */
#ifndef EARSHOT_WORKFLOW_H
#define EARSHOT_WORKFLOW_H

#include <stdint.h>

#include "earshot/buf.h"
#include "earshot/inbox.h"

/* ==== Agents ==== */

/* Ordered: a role can do everything the roles below it can. */
enum es_role {
    ES_ROLE_VIEWER = 0, /* reads */
    ES_ROLE_AGENT,      /* triages, replies, opens tickets */
    ES_ROLE_ADMIN,      /* manages agents and canned replies */
};

struct es_agent {
    int64_t id;
    char *name;
    enum es_role role;
    int disabled;
    int64_t created_at;
};

void es_agent_release(struct es_agent *a);
/* "viewer", "agent", "admin". */
const char *es_role_name(enum es_role role);
/* Returns 0 and sets *out, or ES_EINVALID for an unknown name. */
int es_role_parse(const char *name, enum es_role *out);

/* Adds agent @name with @role. ES_EEXISTS when the name is taken,
 * ES_EINVALID for an empty name or one with control characters. Audited
 * as done by @by (NULL: "system"). */
int es_agent_add(struct es_inbox *ib, const char *name, enum es_role role,
                 const char *by);
/* Reads agent @name into *out (release it after); ES_ENOTFOUND. */
int es_agent_get(struct es_inbox *ib, const char *name, struct es_agent *out);
/* Disables (or enables again) agent @name, audited as @by. */
int es_agent_set_disabled(struct es_inbox *ib, const char *name, int disabled,
                          const char *by);
typedef int (*es_agent_cb)(const struct es_agent *a, void *payload);
/* Calls @cb for every agent, by name. */
int es_agent_each(struct es_inbox *ib, es_agent_cb cb, void *payload);

/* Checks that agent @name exists, is enabled and has at least @need.
 * Returns 0, ES_ENOTFOUND ("no agent 'x': add one with `earshot agent add
 * x`"), or ES_EAUTH ("agent 'x' is a viewer: viewers read, they cannot
 * ..."; "agent 'x' is disabled"), the message set for the caller to
 * show. @what names the action in the message ("reply", "change states"). */
int es_agent_check(struct es_inbox *ib, const char *name, enum es_role need,
                   const char *what);

/* ==== The audit log ==== */

/* Appends one row: @agent did @action ("state", "assign", "reply", ...)
 * to @object ("mention:12", "ticket:3", "agent:dana", "canned:thanks"),
 * with the value before and after (either may be NULL). Runs in the
 * caller's transaction when one is open. */
int es_audit_add(struct es_inbox *ib, const char *agent, const char *action,
                 const char *object, const char *before, const char *after);

struct es_audit_entry {
    int64_t id;
    int64_t at;
    const char *agent;
    const char *action;
    const char *object;
    const char *before; /* may be NULL */
    const char *after;  /* may be NULL */
};
typedef int (*es_audit_cb)(const struct es_audit_entry *e, void *payload);
/* Calls @cb for the audit rows at or after @since (ES_TIME_UNKNOWN: all)
 * by @agent (NULL: anyone), oldest first, at most @limit (<= 0: all).
 * Strings are borrowed for the call. */
int es_audit_each(struct es_inbox *ib, int64_t since, const char *agent,
                  int limit, es_audit_cb cb, void *payload);

/* ==== Conversations ==== */

/* Writes the conversation key of mention @mention_id into @out: the
 * mention's conversation column, or "m:ID" for a mention that stands
 * alone (a feed entry). ES_ENOTFOUND for an unknown mention. */
int es_conversation_of(struct es_inbox *ib, int64_t mention_id,
                       struct es_buf *out);

/* The current version of conversation @key (1 for one nobody changed
 * yet). An agent reads it when it loads a conversation and hands it back
 * with a change: es_conversation_touch() refuses a stale one. */
int es_conversation_version(struct es_inbox *ib, const char *key,
                            int64_t *version);

/* Records a change to conversation @key by @agent (@what: "state open ->
 * pending", "note", "reply queued", ...): the version goes up by one.
 * When @expect is > 0 and the version is not @expect any more, nothing
 * changes and ES_EEXISTS is returned with a message saying who changed
 * what and when ("conversation changed since you loaded it: dana set
 * state open -> pending at 2026-11-23T10:02:00Z"). Sets *version (may be
 * NULL) to the new version. */
int es_conversation_touch(struct es_inbox *ib, const char *key,
                          const char *agent, const char *what, int64_t expect,
                          int64_t *version);

/* Takes (or renews) the claim of @agent on conversation @key for @ttl
 * seconds: starting a reply does this, so two agents never answer one
 * customer at once. ES_EEXISTS when another agent holds an unexpired
 * claim, with "dana is replying to this conversation (claimed at ...,
 * until ...)". Does not change the version. */
int es_conversation_claim(struct es_inbox *ib, const char *key,
                          const char *agent, long ttl);
/* Drops @agent's claim on @key (another agent's claim is left alone). */
int es_conversation_release(struct es_inbox *ib, const char *key,
                            const char *agent);

#endif
