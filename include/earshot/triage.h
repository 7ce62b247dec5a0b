/* triage.h - working the inbox: states, assignment, notes, tags, canned
 *
 * What an agent does to mentions once they are stored: moves them through
 * the states (validated by one transition table), assigns them, leaves
 * internal notes, tags them, reads the conversation around a mention,
 * keeps canned replies, and picks the agents and saved views to work
 * with. Every change checks the acting agent (es_agent_check: viewers
 * read, they cannot change anything), runs in one transaction, writes an
 * audit row with the value before and after, and touches the mention's
 * conversation (es_conversation_touch) so the stale-reply guard sees it.
 * The command line and the web page call these same functions. Not
 * thread-safe beyond what es_inbox is.
 */
#ifndef EARSHOT_TRIAGE_H
#define EARSHOT_TRIAGE_H

#include <stddef.h>
#include <stdint.h>

#include "earshot/buf.h"
#include "earshot/config.h"
#include "earshot/inbox.h"
#include "earshot/workflow.h"

/* ==== States ==== */

enum es_state {
    ES_STATE_NEW = 0, /* nobody looked at it yet */
    ES_STATE_OPEN,    /* being worked on */
    ES_STATE_PENDING, /* waiting on the customer */
    ES_STATE_RESOLVED,
    ES_STATE_SPAM,
    ES_STATE_IGNORED, /* not for us: no answer needed */
};

/* "new", "open", "pending", "resolved", "spam", "ignored". */
const char *es_state_name(enum es_state state);
/* Returns 0 and sets *out, or ES_EINVALID naming the known states. */
int es_state_parse(const char *name, enum es_state *out);

/* Whether a mention may go from @from to @to. The table:
 *
 *   new      -> open, pending, resolved, spam, ignored
 *   open     -> pending, resolved, spam, ignored
 *   pending  -> open, resolved         (the customer answered, or done)
 *   resolved -> open                   (reopen)
 *   spam     -> new, open              (it was not spam after all)
 *   ignored  -> new, open
 *
 * Nothing goes back to new except out of spam and ignored: "new" means
 * nobody has looked. A move to the same state is always allowed and is
 * a no-op (nothing changes, nothing is audited). */
int es_state_allowed(enum es_state from, enum es_state to);
/* The states @from may go to, as "open, pending, ..." (static text). */
const char *es_state_targets(enum es_state from);

/* What one change did. */
struct es_change {
    int changed;     /* 0: it was so already, nothing written */
    int64_t version; /* the conversation's version after the call */
    char *before;    /* the value before ("open", an assignee, a tag
                        list); NULL for none. Owned: es_change_release() */
};

void es_change_release(struct es_change *c);

/* Moves mention @mention_id to @state as @agent. @expect_version > 0 is
 * the conversation version the agent loaded: a conversation changed since
 * is refused with ES_EEXISTS and a message saying who changed what. A
 * move the table does not allow is ES_EINVALID ("mention 12 is resolved:
 * it can go to open only"). When every mention of the conversation is
 * then resolved (spam and ignored ones aside), conversations.resolved_at
 * is set; a move out of resolved clears it. ES_ENOTFOUND for an unknown
 * mention; ES_EAUTH / ES_ENOTFOUND from es_agent_check. @out (may be
 * NULL) is filled on success; release it after. */
int es_triage_set_state(struct es_inbox *ib, int64_t mention_id,
                        const char *state, const char *agent,
                        int64_t expect_version, struct es_change *out);

/* What a bulk change did to the mentions its query matched. */
struct es_bulk_result {
    int matched;   /* mentions the query selected */
    int changed;   /* moved to the new state */
    int unchanged; /* already in it */
    int refused;   /* the transition table does not allow the move */
};

/* Moves every mention @q selects (the inbox view's filters; a limit <= 0
 * means no limit here, unlike es_inbox_list) to @state as @agent, in one
 * transaction: each mention is checked against the transition table on
 * its own, so one refused move does not stop the others. Fills *out.
 * Fails as a whole (nothing kept) only on a database error or when the
 * agent may not change states. */
int es_triage_set_state_bulk(struct es_inbox *ib,
                             const struct es_inbox_query *q, const char *state,
                             const char *agent, struct es_bulk_result *out);

/* ==== Assignment, notes and tags ==== */

/* Assigns mention @mention_id to @assignee as @agent; @assignee NULL
 * unassigns it. The assignee must be an enabled agent or admin (viewers
 * cannot work a mention): ES_EAUTH or ES_ENOTFOUND with a message
 * otherwise. Assigning to the current assignee is a no-op. Audited as
 * "assign" or "unassign" with the assignees before and after. */
int es_triage_assign(struct es_inbox *ib, int64_t mention_id,
                     const char *assignee, const char *agent,
                     int64_t expect_version, struct es_change *out);

/* Adds internal note @body (non-empty, at most 10,000 bytes) to mention
 * @mention_id as @agent. Notes are never sent anywhere. Sets *note_id
 * (may be NULL). */
int es_triage_note_add(struct es_inbox *ib, int64_t mention_id,
                       const char *body, const char *agent,
                       int64_t expect_version, int64_t *note_id,
                       struct es_change *out);

struct es_note {
    int64_t id;
    int64_t mention_id;
    const char *agent;
    const char *body;
    int64_t created_at;
};
typedef int (*es_note_cb)(const struct es_note *n, void *payload);
/* Calls @cb for the notes of mention @mention_id, oldest first. The note
 * is borrowed for the call; a non-zero return stops and is returned. */
int es_triage_notes_each(struct es_inbox *ib, int64_t mention_id, es_note_cb cb,
                         void *payload);

/* Adds (es_triage_tag) or removes (es_triage_untag) the @ntags tags to
 * mention @mention_id as @agent. A tag is 1 to 64 bytes with no spaces,
 * commas or control characters (ES_EINVALID otherwise, before anything
 * changes); tags are kept as written, case and all. Adding a tag the
 * mention has, or removing one it has not, changes nothing; when no tag
 * changes at all the call is a no-op. Audited as one row with the
 * mention's tag list before and after ("billing,refund"). */
int es_triage_tag(struct es_inbox *ib, int64_t mention_id,
                  const char *const *tags, size_t ntags, const char *agent,
                  int64_t expect_version, struct es_change *out);
int es_triage_untag(struct es_inbox *ib, int64_t mention_id,
                    const char *const *tags, size_t ntags, const char *agent,
                    int64_t expect_version, struct es_change *out);

typedef int (*es_tag_cb)(const char *tag, void *payload);
/* Calls @cb for each tag of mention @mention_id, by name. */
int es_triage_tags_each(struct es_inbox *ib, int64_t mention_id, es_tag_cb cb,
                        void *payload);

/* ==== Conversations ==== */

/* Calls @cb for every mention of the conversation of mention
 * @mention_id (a mention with none is a conversation of one), oldest
 * first (created_at, else first_seen, then id), with @depth its place in
 * the reply tree: 0 for a mention whose parent (in_reply_to) is not in
 * the conversation, its parent's depth + 1 otherwise. The mention is
 * borrowed for the call; a non-zero return stops and is returned.
 * ES_ENOTFOUND for an unknown mention. */
typedef int (*es_thread_cb)(const struct es_mention *m, int depth,
                            void *payload);
int es_triage_thread(struct es_inbox *ib, int64_t mention_id, es_thread_cb cb,
                     void *payload);

/* ==== Saved views ==== */

/* Fills @q from [view "@name"] of @cfg (state, source, platform, label,
 * lang, tag, assignee ("-" for the unassigned, made ""), search, limit);
 * the fields a view does not set are
 * left as they are, so a caller sets its own overrides after. The strings
 * are borrowed from @cfg. ES_ENOTFOUND for an unknown view, with a
 * message listing the views there are; ES_EINVALID for a bad limit. */
int es_triage_view(const struct es_config *cfg, const char *name,
                   struct es_inbox_query *q);

/* ==== Managing agents ==== */

/* Adds agent @name with @role, as admin @by. Only an admin may add
 * agents, except the very first one, which anyone may add (@by may be
 * NULL then) and which must be an admin (ES_EINVALID otherwise). */
int es_triage_agent_add(struct es_inbox *ib, const char *name,
                        enum es_role role, const char *by);
/* Disables (or enables again) agent @name, as admin @by. The last
 * enabled admin cannot be disabled (ES_EINVALID): nobody could manage the
 * agents after. A disabled agent cannot change anything; its audit rows,
 * notes and replies stay. */
int es_triage_agent_set_disabled(struct es_inbox *ib, const char *name,
                                 int disabled, const char *by);

/* ==== Canned replies ==== */

/* A canned reply's text may hold the placeholders {author} (the
 * mention author's display name, else handle), {agent} (the replying
 * agent's name) and {ticket} (the ticket's number). Any other {word} of
 * lower-case letters and underscores is refused as a likely typo when a
 * canned reply is added; other braces are plain text. */

struct es_canned {
    char *name;
    char *body;
    char *updated_by; /* may be NULL */
    int64_t updated_at;
};

void es_canned_release(struct es_canned *c);

/* Adds canned reply @name (1 to 64 bytes, no spaces or control
 * characters) with @body as @agent, an admin (admins manage canned
 * replies; agents use them). ES_EEXISTS when the name is taken, unless
 * @replace. ES_EINVALID for an empty body or an unknown placeholder. */
int es_canned_add(struct es_inbox *ib, const char *name, const char *body,
                  const char *agent, int replace);
/* Removes canned reply @name as admin @agent; ES_ENOTFOUND. */
int es_canned_remove(struct es_inbox *ib, const char *name, const char *agent);
/* Reads canned reply @name into *out (release it after); ES_ENOTFOUND
 * with a message naming the known ones. */
int es_canned_get(struct es_inbox *ib, const char *name, struct es_canned *out);
typedef int (*es_canned_cb)(const struct es_canned *c, void *payload);
/* Calls @cb for every canned reply, by name (borrowed for the call). */
int es_canned_each(struct es_inbox *ib, es_canned_cb cb, void *payload);

/* Replaces the content of @out with canned reply @name, placeholders
 * expanded for mention @mention_id, agent @agent and ticket @ticket_id.
 * A placeholder with nothing to put in is ES_EINVALID naming it: {ticket}
 * with @ticket_id 0, {author} for a mention with no author (or
 * @mention_id 0), {agent} with @agent NULL; so is an unknown placeholder.
 * ES_ENOTFOUND for an unknown canned reply or mention. Reads only. */
int es_canned_render(struct es_inbox *ib, const char *name, int64_t mention_id,
                     const char *agent, int64_t ticket_id, struct es_buf *out);

/* Expands the placeholders of @body into @out (replacing its content)
 * with the values given; a placeholder whose value is NULL is
 * ES_EINVALID naming it and @what ("canned reply 'thanks'"). */
int es_canned_expand(const char *body, const char *what, const char *author,
                     const char *agent, const char *ticket, struct es_buf *out);

#endif
