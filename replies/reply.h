/* reply.h - what the platform senders share (module-private)
 *
 * One const ops table per platform, like the collectors' registry: the
 * sender (sender.c) picks the table by the mention's platform, hands it a
 * job with everything one reply needs, and reads back the outcome. A
 * platform file knows its API (paths, auth, bodies, what its answer
 * holds) and nothing of the outbox's states: it says whether the reply
 * was posted, certainly not posted, maybe posted, or refused, and
 * sender.c decides what that means for the reply.
 */
#ifndef EARSHOT_REPLIES_REPLY_H
#define EARSHOT_REPLIES_REPLY_H

#include <stdint.h>

#include "earshot/buf.h"
#include "earshot/config.h"
#include "earshot/inbox.h"
#include "earshot/outbox.h"
#include "http.h"
#include "json.h"

enum es_reply_outcome {
    ES_REPLY_POSTED = 0, /* platform_id and url set (either may be NULL) */
    ES_REPLY_RETRY,      /* certainly not posted (429, 503, no connection):
                            try again later */
    ES_REPLY_MAYBE,      /* may have been posted (a 5xx or a connection
                            lost after the request went out, an answer
                            that is not what a post returns) */
    ES_REPLY_REFUSED,    /* the platform said no: do not retry */
};

/* One reply to send. The sender fills the inputs; the platform's send
 * sets the outcome and what goes with it. */
struct es_reply_job {
    struct es_http *http;                   /* borrowed */
    const struct es_config *cfg;            /* borrowed */
    const struct es_config_source *account; /* borrowed, from cfg */
    const struct es_config_source *source;  /* the mention's, or NULL */
    const struct es_reply *reply;           /* borrowed */
    const struct es_mention *mention;       /* borrowed */
    int retry; /* 1: an earlier attempt may have gone out */

    enum es_reply_outcome outcome;
    char *platform_id;   /* owned by the job */
    char *url;           /* owned by the job */
    struct es_buf error; /* what went wrong, when not posted */
    int64_t retry_after; /* seconds the platform asked for, or -1 */
};

enum es_reply_flags {
    /* A repeated attempt with the reply's idempotency key cannot post
     * twice: a reply cut off mid-flight is sent again. */
    ES_REPLY_KEYED_PUBLIC = 1 << 0,
    ES_REPLY_KEYED_PRIVATE = 1 << 1,
};

struct es_reply_ops {
    const char *name; /* the mention's platform, the account's type */
    unsigned flags;   /* enum es_reply_flags */
    int key_ttl_s;    /* how long the platform remembers a key; 0: for
                         good (a record key, a reply that replaces) */
    /* Sends job->reply; sets job->outcome (and the rest). Never fails
     * otherwise: every problem is an outcome with a message. */
    void (*send)(struct es_reply_job *job);
};

extern const struct es_reply_ops es_reply_mastodon;
extern const struct es_reply_ops es_reply_bluesky;
extern const struct es_reply_ops es_reply_x;
extern const struct es_reply_ops es_reply_reddit;
extern const struct es_reply_ops es_reply_youtube;
extern const struct es_reply_ops es_reply_googleplay;
extern const struct es_reply_ops es_reply_github;

/* The ops of platform @name, or NULL. */
const struct es_reply_ops *es_reply__find(const char *name);

/* ==== Helpers for the platform files (common.c) ==== */

/* Sets the job's outcome and message (printf-style); returns -1. */
int es_reply__fail(struct es_reply_job *job, enum es_reply_outcome outcome,
                   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Runs @req, doing @what ("posting the reply", "logging in"). Returns 0
 * for a 2xx answer (in @res, which the caller releases either way), or
 * -1 with the job's outcome and message set from the failure: 429 and 503
 * are RETRY with the platform's Retry-After, other 5xx and a connection
 * lost after connecting are MAYBE, other answers REFUSED with the
 * platform's own message. @safe marks a request that changes nothing
 * (a read, a login): its failures are RETRY, never MAYBE. */
int es_reply__call(struct es_reply_job *job, const struct es_http_request *req,
                   struct es_http_response *res, const char *what, int safe);

/* The classification of es_reply__call() for a request the caller ran
 * itself with es_http_get() (which returned @rc, non-zero). Returns -1. */
int es_reply__classify(struct es_reply_job *job, int rc,
                       const struct es_http_response *res, const char *what,
                       int safe);

/* POSTs @body to @url with the header lines @headers (NULL-terminated:
 * the Authorization, the Content-Type and whatever else the platform
 * wants), doing @what, then parses the 2xx answer as the JSON object
 * @name sends: es_reply__call() and es_reply__parse(). A request that
 * posts fails MAYBE when it may have reached the platform; one that is
 * @safe (a login: it changes nothing) fails RETRY instead. Returns 0 with
 * *root set, or -1 with the job's outcome and message set. The caller
 * releases @res and frees *root either way. */
int es_reply__post(struct es_reply_job *job, const char *url,
                   const struct es_buf *body, const char *const *headers,
                   const char *what, int safe, const char *name,
                   struct es_http_response *res, yajl_val *root);

/* Whether @hay contains @needle, ignoring ASCII case. */
int es_reply__icontains(const char *hay, const char *needle);

/* Appends the account's base_url (else @def) to @out without a trailing
 * slash. */
void es_reply__base(const struct es_reply_job *job, const char *def,
                    struct es_buf *out);

/* The string member @key of the mention's reply_ref (a JSON object),
 * copied into @out; returns 0, or -1 ("" in @out) when absent. */
int es_reply__ref(const struct es_reply_job *job, const char *key,
                  struct es_buf *out);

/* Reads the secret @key of the account (es_outbox_account_secret) and
 * appends "Authorization: @scheme SECRET" to @out. Returns 0, or -1 with
 * the job refused (a missing or unreadable secret). The caller wipes @out
 * with es_reply__wipe(). */
int es_reply__auth(struct es_reply_job *job, const char *scheme,
                   const char *key, struct es_buf *out);
/* Zeroes and releases @b (it held a secret). */
void es_reply__wipe(struct es_buf *b);

/* Parses the 2xx answer @res of @what into *root. Returns 0, or -1 with
 * the job's outcome set to @outcome ("the answer is not what a post
 * returns") and the parse problem in its message. */
int es_reply__parse(struct es_reply_job *job,
                    const struct es_http_response *res, const char *what,
                    enum es_reply_outcome outcome, yajl_val *root);

#endif
