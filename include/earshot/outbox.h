/* outbox.h - public replies, exactly once: the outbox and its sender
 *
 * A reply is stored before anything is sent: es_outbox_queue() checks
 * everything that can be checked without the network (the agent, the
 * claim on the conversation, the stale-reply guard, the account and its
 * credentials, the platform's length limit, that the platform can take a
 * reply at all) and writes the reply as 'queued' with an idempotency key
 * of its own, in one transaction. The sender (replies/sender.c) delivers
 * what is due: it marks a reply 'sending' and commits before the request,
 * and 'sent' (or 'queued' again for a retry, 'failed', 'unknown') after.
 * A reply found in 'sending' by the next sender was cut off mid-flight:
 * it is sent again with the same key only where the platform honours one
 * (Mastodon's Idempotency-Key, Bluesky's record key, Google Play's reply
 * that replaces the previous one); elsewhere it becomes 'unknown' and
 * waits for an agent (es_outbox_resolve()). Every function goes through
 * the es_inbox connection and is as thread-safe as it is.
 */
#ifndef EARSHOT_OUTBOX_H
#define EARSHOT_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "earshot/buf.h"
#include "earshot/config.h"
#include "earshot/inbox.h"

/* ==== Queueing ==== */

struct es_reply_request {
    int64_t mention_id;
    const char *account; /* [account "NAME"], NULL: the first of the
                            mention's platform */
    const char *agent;
    const char *body;       /* final text, placeholders already expanded */
    int private_message;    /* 1: a private message to the author */
    int64_t expect_version; /* > 0: refuse if the conversation changed */
    int64_t ticket_id;      /* 0: none */
};

/* Queues the reply @rq for the sender and sets *reply_id (may be NULL).
 * Checks, in this order, and refuses with a message for the caller to
 * show: the agent (es_agent_check; ES_ENOTFOUND, ES_EAUTH for a viewer),
 * the mention (ES_ENOTFOUND), that its platform takes replies (ES_EINVALID
 * with the item's URL for feeds, Hacker News, the App Store) and private
 * messages when asked, the account (ES_ENOTFOUND; ES_EINVALID for one of
 * another platform) and its credentials (ES_EAUTH naming the account and
 * the missing key, never a secret), the length (ES_ETOOBIG with the
 * count and the limit). Then, in one BEGIN IMMEDIATE transaction: the
 * claim on the conversation (ES_EEXISTS "dana is replying to this
 * conversation ..."), the stale guard when @rq->expect_version > 0
 * (ES_EEXISTS saying who changed what), the reply row with a fresh
 * 128-bit idempotency key and an audit row. The claim stays until it
 * expires ([earshot] claim_ttl), so a second agent is told who answered.
 * Mastodon replies get "@acct " in front when the text does not mention
 * the author: the stored body is exactly what will be posted. */
int es_outbox_queue(struct es_inbox *ib, const struct es_config *cfg,
                    const struct es_reply_request *rq, int64_t *reply_id);

/* ==== Platforms, accounts and lengths ==== */

/* How long @text is for @platform ("mastodon", "x", "bluesky", ...) as
 * the platform counts (Mastodon: graphemes, a URL counts 23 and
 * @user@domain counts as @user; X: weighted, CJK and emoji count 2, a URL
 * 23; Bluesky: graphemes; the others: characters), into *count, and the
 * platform's limit into *limit (private messages have their own). Returns
 * 0, or ES_EINVALID (message set) for a platform with no reply API or
 * one earshot does not know, or for text that is not UTF-8. */
int es_outbox_text_length(const char *platform, int private_message,
                          const char *text, long *count, long *limit);

/* Finds the account to reply on @platform with: [account "@name"] when
 * @name is not NULL (ES_ENOTFOUND when there is none, ES_EINVALID when
 * its type is another platform's), else the first [account] of type
 * @platform (ES_ENOTFOUND saying how to add one). Sets *out to a
 * borrowed pointer valid until es_config_free(). */
int es_outbox_account(const struct es_config *cfg, const char *name,
                      const char *platform,
                      const struct es_config_source **out);

/* Checks that account @acct has the credentials its type needs (token or
 * token_file; Bluesky: handle and app_password; Reddit: a token, or
 * client_id, client_secret, username and password; Google Play: a
 * package here or on @source, the mention's source, which may be NULL).
 * ES_EAUTH "account 'NAME' (TYPE) has no KEY: ..." naming what is missing,
 * never a value; ES_EINVALID for a token_file that cannot be read. Mastodon
 * accounts need base_url too (their instance). */
int es_outbox_account_check(const struct es_config_source *acct,
                            const struct es_config_source *source);

/* Reads the secret @key of account @acct into *out: `token` from `token`
 * or the first line of `token_file`; any other key as written. Returns
 * 0; ES_ENOTFOUND when it is not set (*out NULL); ES_EINVALID for an
 * unreadable or empty token_file. The caller frees *out with
 * es_outbox_secret_free(), which wipes it first. */
int es_outbox_account_secret(const struct es_config_source *acct,
                             const char *key, char **out);
void es_outbox_secret_free(char *secret);

/* Copies the string (or integer) at @key of a mention's reply_ref (the
 * JSON object a collector keeps for replying: "acct", "cid", "repo",
 * "visibility", ...) into @out, reset first; empty when there is none. */
void es_outbox_ref_get(const char *reply_ref, const char *key,
                       struct es_buf *out);

/* ==== Reading the outbox ==== */

enum es_reply_state {
    ES_REPLY_QUEUED = 0, /* waiting for the sender (maybe a retry) */
    ES_REPLY_SENDING,    /* the request is (or was, at a crash) in flight */
    ES_REPLY_SENT,
    ES_REPLY_FAILED,    /* the platform refused it; see error */
    ES_REPLY_UNKNOWN,   /* may or may not have been posted: an agent
                           decides with es_outbox_resolve() */
    ES_REPLY_CANCELLED, /* an agent withdrew it */
};

/* "queued", "sending", "sent", "failed", "unknown", "cancelled". */
const char *es_reply_state_name(enum es_reply_state state);
/* Returns 0 and sets *out, or ES_EINVALID naming the states. */
int es_reply_state_parse(const char *name, enum es_reply_state *out);

struct es_reply {
    int64_t id;
    int64_t mention_id;
    char *account;
    char *agent;
    char *body;
    int private_message;
    enum es_reply_state state;
    char *idempotency_key;
    int attempts;         /* requests started so far */
    int64_t next_attempt; /* ES_TIME_UNKNOWN: as soon as possible; in
                             'sending': when that attempt started */
    char *platform_id;    /* the posted reply's id, when sent (may be
                             NULL: a platform that returns none) */
    char *url;            /* the posted reply, when known */
    char *error;          /* the last problem, or NULL */
    int64_t ticket_id;    /* 0: none */
    int64_t created_at;
    int64_t sent_at;   /* ES_TIME_UNKNOWN until sent */
    char *platform;    /* the mention's platform */
    char *mention_url; /* the mention's URL, or NULL */
};

/* Frees the strings of @r and zeroes it. */
void es_reply_release(struct es_reply *r);

/* Reads reply @id into *out (release it after); ES_ENOTFOUND. */
int es_outbox_get(struct es_inbox *ib, int64_t id, struct es_reply *out);

typedef int (*es_reply_cb)(const struct es_reply *r, void *payload);
/* Calls @cb for every reply in state @state (NULL: any), newest first,
 * at most @limit (<= 0: all). The reply is borrowed for the call; a
 * non-zero return stops the walk and is returned. */
int es_outbox_each(struct es_inbox *ib, const char *state, int limit,
                   es_reply_cb cb, void *payload);

enum es_outbox_resolution {
    ES_OUTBOX_SENT,   /* it did appear: mark it sent */
    ES_OUTBOX_RESEND, /* it did not: queue it again */
    ES_OUTBOX_CANCEL, /* leave it unsent */
};

/* Agent @agent decides about reply @id: a reply in 'unknown' may be
 * marked sent, queued again or cancelled; a 'failed' one queued again or
 * cancelled; a 'queued' one cancelled. Checks the agent (viewers are
 * refused), audits, and touches the conversation. ES_ENOTFOUND, or
 * ES_EINVALID naming the state and what can be done in it. */
int es_outbox_resolve(struct es_inbox *ib, int64_t id, const char *agent,
                      enum es_outbox_resolution how);

/* ==== The sender's steps (for replies/sender.c) ==== */

/* Sets *ids (the caller frees it) to the replies to send now, oldest
 * first: 'queued' ones due at @now, and 'sending' ones (cut off by a
 * crash: the caller holds the sender lock, so no other sender has them in
 * hand). */
int es_outbox_due(struct es_inbox *ib, int64_t now, int64_t **ids, size_t *n);

/* Each of these commits on its own. mark_sending moves a 'queued' or
 * 'sending' reply to 'sending', counts the attempt and notes when it
 * started (in next_attempt): call it, and let it commit, before the
 * request. mark_sent records the platform's id and
 * URL (either may be NULL), sent_at, and the conversation's first
 * response for a public reply; it accepts a reply in 'sending' or
 * 'unknown'. mark_retry puts a 'sending' reply back in 'queued' until
 * @next_attempt; mark_failed ('queued' or 'sending') and mark_unknown
 * ('sending') record @error. Outcomes are audited as done by "system".
 * ES_EEXISTS when the reply is in another state (naming it). */
int es_outbox_mark_sending(struct es_inbox *ib, int64_t id);
int es_outbox_mark_sent(struct es_inbox *ib, int64_t id,
                        const char *platform_id, const char *url);
int es_outbox_mark_retry(struct es_inbox *ib, int64_t id, int64_t next_attempt,
                         const char *error);
int es_outbox_mark_failed(struct es_inbox *ib, int64_t id, const char *error);
int es_outbox_mark_unknown(struct es_inbox *ib, int64_t id, const char *error);

/* One sender at a time per database: an advisory lock on "DB-sender.lock"
 * next to the database file, released by the kernel when the process
 * dies, so a reply left in 'sending' is known to be a crash's. Returns 0
 * and sets *out (NULL for an in-memory database: nothing to share);
 * ES_EEXISTS when another process holds it; ES_ERROR when the lock file
 * cannot be opened. es_outbox_unlock(NULL) does nothing. */
struct es_outbox_lock;
int es_outbox_lock(struct es_inbox *ib, struct es_outbox_lock **out);
void es_outbox_unlock(struct es_outbox_lock *lock);

/* ==== Sending (replies/) ==== */

/* One reply's outcome, borrowed for the callback. */
struct es_send_report {
    int64_t reply_id;
    const char *account;
    const char *platform;
    enum es_reply_state state; /* after this attempt */
    const char *platform_id;   /* when sent, may be NULL */
    const char *url;           /* when sent, may be NULL */
    const char *error;         /* the problem, when not sent */
    int64_t next_attempt;      /* a retry: when */
};

typedef void (*es_send_cb)(const struct es_send_report *r, void *payload);

struct es_send_stats {
    size_t sent;
    size_t retrying; /* back in 'queued' with a later next_attempt */
    size_t failed;
    size_t unknown;
};

/* Delivers every reply that is due through its account (@cfg's
 * [account] sections), once, calling @cb (may be NULL) per reply and
 * filling *stats (may be NULL). Takes the sender lock: ES_EEXISTS when
 * another sender runs (nothing sent). A reply's failure is reported and
 * recorded, never returned: the result is 0, ES_EEXISTS, or ES_EDB when
 * the outbox itself cannot be read or written. Uses @cfg's [http] limits.
 * Runs in the calling thread. */
int es_replies_send_due(struct es_inbox *ib, const struct es_config *cfg,
                        es_send_cb cb, void *payload,
                        struct es_send_stats *stats);

#endif
