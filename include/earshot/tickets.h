/* tickets.h - private tickets that carry a conversation's whole context
 *
 * When a public thread has to go private, `earshot ticket ID` turns the
 * conversation of mention ID into a ticket. The ticket keeps a JSON
 * snapshot of everything known at that moment (every mention of the
 * thread with its author, reach, sentiment, priority and state, the
 * notes and tags on them: docs/tickets.md describes it) so the customer
 * never repeats themselves, plus the conversation key, the live link to
 * the thread as it grows. One ticket per conversation. Tickets have their
 * own states, an assignee, a priority, internal notes and messages, and
 * may be forwarded to an external helpdesk through a signed webhook.
 *
 * Every change checks the acting agent (viewers only read), runs in one
 * transaction with its audit row, and touches the conversation so the
 * stale-reply guard sees it. Everything goes through the es_inbox
 * connection and is as thread-safe as es_inbox is (not at all).
 */
#ifndef EARSHOT_TICKETS_H
#define EARSHOT_TICKETS_H

#include <stddef.h>
#include <stdint.h>

#include "earshot/buf.h"
#include "earshot/config.h"
#include "earshot/inbox.h"

/* ==== States ==== */

enum es_ticket_state {
    ES_TICKET_OPEN = 0, /* an agent has to act */
    ES_TICKET_PENDING,  /* waiting on the customer */
    ES_TICKET_SOLVED,   /* answered; the customer may still reopen it */
    ES_TICKET_CLOSED,   /* done */
};

/* "open", "pending", "solved", "closed". */
const char *es_ticket_state_name(enum es_ticket_state state);
/* Returns 0 and sets *out, or ES_EINVALID naming the four states. */
int es_ticket_state_parse(const char *name, enum es_ticket_state *out);
/* 1 when a ticket may go from @from to @to: open and pending go to each
 * other, to solved and to closed; solved goes to open (reopened) or
 * closed; closed only to open. Staying put is no transition (0). */
int es_ticket_transition_ok(enum es_ticket_state from, enum es_ticket_state to);

/* ==== Tickets ==== */

struct es_ticket {
    int64_t id;
    char *conversation; /* the live link: mentions.conversation, "m:ID" */
    char *subject;
    enum es_ticket_state state;
    char *assignee;       /* NULL when unassigned */
    int priority;         /* 0..100; -1 when no mention had one */
    char *context;        /* the JSON snapshot (docs/tickets.md) */
    char *created_by;     /* the agent who opened it */
    int64_t created_at;   /* Unix seconds */
    int64_t updated_at;   /* last change of any kind */
    int64_t solved_at;    /* ES_TIME_UNKNOWN unless solved or closed after */
    char *forward_state;  /* NULL (not forwarded), "pending", "delivered" */
    int forward_attempts; /* webhook attempts so far */
    int64_t forward_next; /* next attempt, ES_TIME_UNKNOWN when none */
    char *forward_error;  /* last failed attempt's problem, or NULL */
};

/* Frees the strings of @t and zeroes it; NULL is a no-op. */
void es_ticket_release(struct es_ticket *t);

/* What `earshot ticket ID` asks for. Strings are borrowed for the call. */
struct es_ticket_request {
    int64_t mention_id;     /* any mention of the conversation */
    const char *agent;      /* who opens it: an agent or admin */
    int64_t expect_version; /* > 0: refuse (ES_EEXISTS, saying who
                               changed what) when the conversation changed
                               since the agent loaded it */
    const char *ack_canned; /* canned reply posted publicly in answer to
                               mention_id once the ticket is open; NULL:
                               none */
    const char *dm_canned;  /* canned private message to the author of
                               mention_id; NULL: none */
    const char *account;    /* [account "NAME"] for both; NULL: the first
                               of the mention's platform */
};

/* What es_ticket_open() did. */
struct es_ticket_opened {
    int64_t ticket_id;    /* the conversation's ticket, new or not */
    int created;          /* 1: opened now; 0: it had one already */
    int64_t ack_reply_id; /* the queued acknowledgement, or 0 */
    int64_t dm_reply_id;  /* the queued private message, or 0 */
};

/* Opens the ticket of the conversation of mention rq->mention_id, or
 * finds the one it already has, and fills *out. An existing ticket
 * changes nothing and is not audited. A new ticket gets:
 * - context: the JSON snapshot of the thread (at most ES_TICKET_CONTEXT_MAX
 *   mentions, oldest first, always including rq->mention_id);
 * - subject: the first mention's title, else the first words of its text;
 * - priority: the highest priority among the thread's mentions;
 * - state open, no assignee, created_by rq->agent;
 * - forward_state "pending", due now, when [helpdesk] in @cfg (may be
 *   NULL) is enabled and has a webhook_url.
 * The thread's mentions in state new or open move to pending (the public
 * thread is handled now; each move is audited as "state" of the mention),
 * the conversation is touched ("opened ticket N") and the opening is
 * audited as "ticket open" of "ticket:N", all in one transaction.
 *
 * With rq->ack_canned or rq->dm_canned, everything that can be checked
 * beforehand is, before anything changes: the canned replies exist, the
 * platform takes replies (and private messages, for the DM), the account
 * and its credentials (ES_ENOTFOUND, ES_EINVALID, ES_EAUTH as
 * es_outbox_queue()). They go out only with a new ticket: a conversation
 * that has one already is ES_EEXISTS (out->ticket_id set), so two agents
 * opening it at once never acknowledge twice. Once the ticket is
 * committed, each is rendered (es_canned_render(), {ticket} is its
 * number) and queued with es_outbox_queue() (ticket_id set; the DM with
 * private_message 1, and recorded as an "out" message of the ticket).
 * A failure there leaves the ticket opened: out->created is 1 and the
 * error says what was not queued.
 *
 * Returns 0; ES_ENOTFOUND (no such mention, agent or canned reply),
 * ES_EAUTH (a viewer or a disabled agent), ES_EEXISTS (stale version),
 * ES_EDB. */
int es_ticket_open(struct es_inbox *ib, const struct es_config *cfg,
                   const struct es_ticket_request *rq,
                   struct es_ticket_opened *out);

/* The most mentions a snapshot holds; the rest stay reachable through
 * the conversation key ("mentions_total" in the snapshot counts all). */
#define ES_TICKET_CONTEXT_MAX 500

/* Sets *ticket_id to the ticket of conversation @key; ES_ENOTFOUND when
 * it has none (the message says so). */
int es_ticket_of_conversation(struct es_inbox *ib, const char *key,
                              int64_t *ticket_id);

/* Reads ticket @id into *out (release it after); ES_ENOTFOUND. */
int es_ticket_get(struct es_inbox *ib, int64_t id, struct es_ticket *out);

struct es_ticket_query {
    const char *state;    /* "open", ...; NULL: any */
    const char *assignee; /* NULL: anyone; "" : unassigned */
    int limit;            /* <= 0: all */
};

typedef int (*es_ticket_cb)(const struct es_ticket *t, void *payload);
/* Calls @cb for each matching ticket, open work first (open, pending,
 * solved, closed), then highest priority, then oldest. The ticket is
 * borrowed for the call; a non-zero return of @cb stops the walk and is
 * returned. ES_EINVALID for an unknown state. */
int es_ticket_each(struct es_inbox *ib, const struct es_ticket_query *q,
                   es_ticket_cb cb, void *payload);

/* Moves ticket @id to @state, as @agent, if the transition is allowed
 * (ES_EINVALID otherwise, naming both states and the allowed ones). Same
 * state: 0, nothing changes. Solved sets solved_at; reopening (to open
 * or pending) clears it. The conversation follows the ticket: solving or
 * closing resolves its pending mentions (and sets the conversation's
 * resolved_at once all of it is resolved, as triage does), reopening a
 * solved or closed ticket opens its resolved mentions again (and clears
 * resolved_at); each mention's move is audited as "state" of the
 * mention. Audited as "ticket state", before and after. */
int es_ticket_set_state(struct es_inbox *ib, int64_t id,
                        enum es_ticket_state state, const char *agent);

/* Assigns ticket @id to @assignee (an enabled agent or admin: viewers
 * and unknown names are refused), or unassigns it when @assignee is NULL.
 * Audited as "ticket assign" with the old and new assignee. */
int es_ticket_assign(struct es_inbox *ib, int64_t id, const char *assignee,
                     const char *agent);

/* Sets the priority of ticket @id (0..100, else ES_EINVALID). Audited as
 * "ticket priority". */
int es_ticket_set_priority(struct es_inbox *ib, int64_t id, int priority,
                           const char *agent);

/* ==== Notes and messages ==== */

enum es_ticket_message_kind {
    ES_TICKET_NOTE = 0, /* internal, never sent anywhere */
    ES_TICKET_OUT,      /* sent to the customer (a private message) */
    ES_TICKET_IN,       /* received from the customer */
};

/* "note", "out", "in". */
const char *es_ticket_message_kind_name(enum es_ticket_message_kind kind);

/* Adds a message of @kind with @body (non-empty, valid UTF-8, at most
 * 64 KiB: ES_EINVALID otherwise) to ticket @id as @agent, and sets
 * *message_id (may be NULL). Notes and out messages need an agent or
 * admin; an in message may come from "system" (@agent NULL). Audited as
 * "ticket note" / "ticket message" with the body as the after value. */
int es_ticket_message_add(struct es_inbox *ib, int64_t id,
                          enum es_ticket_message_kind kind, const char *agent,
                          const char *body, int64_t *message_id);

struct es_ticket_message {
    int64_t id;
    int64_t ticket_id;
    enum es_ticket_message_kind kind;
    const char *agent; /* NULL for a system message */
    const char *body;
    int64_t created_at;
};

typedef int (*es_ticket_message_cb)(const struct es_ticket_message *m,
                                    void *payload);
/* Calls @cb for each message of ticket @id, oldest first; the message is
 * borrowed for the call. */
int es_ticket_messages_each(struct es_inbox *ib, int64_t id,
                            es_ticket_message_cb cb, void *payload);

/* ==== Reading the context ==== */

/* One mention of a ticket's snapshot. Strings are borrowed for the
 * callback and NULL when the snapshot has none. */
struct es_ticket_context_mention {
    int64_t mention_id;
    const char *platform;
    const char *source;
    const char *url;
    const char *author;
    const char *author_name;
    long long author_followers; /* ES_COUNT_UNKNOWN when not known */
    const char *title;
    const char *text;
    int64_t created_at;  /* ES_TIME_UNKNOWN when not known */
    const char *state;   /* when the ticket was opened */
    const char *label;   /* "negative", ...; NULL: unscored */
    double sentiment;    /* when label is set */
    int priority;        /* -1 when none */
    const char *reasons; /* the priority's reasons, ", "-joined */
    const char *tags;    /* the agents' tags, ", "-joined */
    const char *notes;   /* one line per note: "TIME AGENT: BODY" */
};

typedef int (*es_ticket_context_cb)(const struct es_ticket_context_mention *m,
                                    void *payload);
/* Calls @cb for each mention of the snapshot of ticket @id, in the
 * snapshot's order (oldest first). */
int es_ticket_context_each(struct es_inbox *ib, int64_t id,
                           es_ticket_context_cb cb, void *payload);

/* Calls @cb for each mention of ticket @id's conversation as it is now
 * (the live thread: mentions that arrived after the ticket too), oldest
 * first. */
int es_ticket_thread_each(struct es_inbox *ib, int64_t id, es_mention_cb cb,
                          void *payload);

/* Appends ticket @t as one JSON object to @out: id, conversation,
 * subject, state, assignee, priority, created_by, created_at, updated_at,
 * solved_at (ISO 8601 UTC or null), forward {state, attempts, next,
 * error} and context (the snapshot itself). Never includes a secret. */
void es_ticket_json(struct es_buf *out, const struct es_ticket *t);

/* ==== Forwarding to a helpdesk ==== */

/* [helpdesk] of a config, defaults applied. Borrowed from the config. */
struct es_helpdesk {
    const char *webhook_url; /* NULL when not set */
    const char *secret;      /* NULL when not set; never print it */
    int enabled;             /* `enabled`, default yes */
};

/* Reads [helpdesk] of @cfg (NULL: none) into *out. Returns 1 when
 * forwarding is on (enabled, with a webhook_url), else 0. */
int es_helpdesk_get(const struct es_config *cfg, struct es_helpdesk *out);

/* Writes the stable delivery id of ticket @t ("earshot-ticket-ID-CREATED",
 * the same on every retry: the helpdesk dedupes on it) into @out. */
void es_tickets_delivery_id(const struct es_ticket *t, struct es_buf *out);

/* Writes the webhook body of ticket @t into @out (reset first):
 * {"event":"ticket.created","delivery":ID,"ticket":es_ticket_json()}. */
void es_tickets_forward_body(const struct es_ticket *t, struct es_buf *out);

/* Writes "sha256=" and the lowercase hex HMAC-SHA256 of @buf (@len
 * bytes) keyed with @secret into @out (at least ES_TICKETS_SIG_SIZE
 * bytes): the X-Earshot-Signature header value. Returns 0, or ES_ERROR
 * when libcrypto fails. */
#define ES_TICKETS_SIG_SIZE 72
int es_tickets_sign(const char *secret, const char *buf, size_t len,
                    char out[static ES_TICKETS_SIG_SIZE]);

/* One delivery due now, handed out by es_tickets_forward_next(). */
struct es_ticket_delivery {
    int64_t ticket_id;
    int attempts;       /* failed attempts before this one */
    struct es_buf id;   /* X-Earshot-Delivery */
    struct es_buf body; /* the JSON body */
};

void es_ticket_delivery_init(struct es_ticket_delivery *d);
void es_ticket_delivery_release(struct es_ticket_delivery *d);

/* How long a delivery handed out stays reserved for its sender: another
 * process calling es_tickets_forward_next() meanwhile skips it, and a
 * sender that dies mid-flight is retried after this. Seconds. */
#define ES_TICKETS_FORWARD_LEASE 300

/* Takes the next delivery due at @now (forward_state pending, next
 * attempt at or before @now, earliest first), reserves it for
 * ES_TICKETS_FORWARD_LEASE seconds and fills @d (initialised by the
 * caller; reset here). Returns 0, ES_ENOTFOUND when nothing is due,
 * ES_EDB. */
int es_tickets_forward_next(struct es_inbox *ib, int64_t now,
                            struct es_ticket_delivery *d);

/* Records the outcome of one attempt for ticket @id: an @http_code of
 * 200..299 marks it delivered (audited as "ticket forward" by "system");
 * anything else counts a failed attempt, keeps @error (NULL: "HTTP
 * CODE") as forward_error and schedules the next attempt at @next.
 * ES_ENOTFOUND when the ticket is gone or not being forwarded. */
int es_tickets_forward_result(struct es_inbox *ib, int64_t id, long http_code,
                              const char *error, int64_t next);

/* One attempt, as es_tickets_forward_run() reports it. */
struct es_ticket_forward_report {
    int64_t ticket_id;
    int attempt;       /* 1 for the first */
    long http_code;    /* 0 when no answer came */
    const char *error; /* NULL when delivered */
    int64_t next;      /* next attempt when not delivered */
};
typedef void (*es_ticket_forward_cb)(const struct es_ticket_forward_report *r,
                                     void *payload);

/* Delivers every forwarding due now, once each, through the webhook of
 * [helpdesk] in @cfg: a POST of the es_tickets_forward_body() JSON with
 * X-Earshot-Signature and X-Earshot-Delivery; a 2xx answer delivers it,
 * anything else is retried later with backoff (es_schedule_next()),
 * forever, until accepted. Calls @cb (may be NULL) after each attempt.
 * Sets *ndelivered (may be NULL). With forwarding off it does nothing.
 * Returns 0 (failed attempts are recorded on the ticket, not returned);
 * ES_EINVALID when [helpdesk] lacks a secret or its URL is not http(s);
 * ES_EDB. Implemented in cli/ticket_forward.c on the collectors' HTTP
 * client: the inbox library itself never talks to the network. */
int es_tickets_forward_run(struct es_inbox *ib, const struct es_config *cfg,
                           es_ticket_forward_cb cb, void *payload,
                           int *ndelivered);
/* es_tickets_forward_run() without a report: for `earshot send` and
 * `serve`. */
int es_tickets_forward_due(struct es_inbox *ib, const struct es_config *cfg,
                           int *ndelivered);

#endif
