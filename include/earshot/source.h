/* source.h - pluggable collectors and the concurrent poller
 *
 * A source kind is a const ops table (curl's Curl_handler): it says which
 * URL to fetch next and how to parse the body into es_items. The poller
 * fetches every due source at once through libcurl's multi interface and
 * hands back one batch per source. Collectors never touch the database: the
 * caller (ingest/) stores the batch and the validators it is given.
 */
#ifndef EARSHOT_SOURCE_H
#define EARSHOT_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "earshot/buf.h"
#include "earshot/config.h"
#include "earshot/item.h"

enum es_source_flags {
    ES_SOURCE_NEEDS_AUTH = 1 << 0, /* refuses to open without a token */
    ES_SOURCE_HAS_SEARCH = 1 << 1, /* pushes the query to the platform */
};

struct es_source;
struct es_query;

/* What one fetch needs; filled by ops->request. Strings are borrowed from
 * the source and valid until the next call on it. */
struct es_source_request {
    const char *url;
    const char *headers[8]; /* extra "Name: value" lines, NULL-terminated */
    const char *method;     /* NULL: GET; "POST" sends @body */
    const char *body;       /* request body, or NULL */
    size_t body_len;        /* 0: strlen(body) */
    int conditional;        /* send the last 200's ETag / Last-Modified
                             * (feeds; never for cursor-paged APIs) */
};

/* A response as a kind sees it. Borrowed for the call. */
struct es_source_response {
    const char *body; /* NUL-terminated; may hold NULs before @len */
    size_t len;
    const char *content_type; /* may be NULL */
    long http_code;           /* 0 for file:// */
    const char *link;         /* the Link header (RFC 8288), or NULL */
};

/* What a kind's parse says about the page it just read. */
struct es_source_page {
    char *cursor; /* es_xstrdup()ed cursor to store together with this
                   * page's items (and only once they are stored); NULL
                   * keeps the stored one. The poller frees it. */
    int more;     /* 1: call request again in this poll (the next page,
                   * thread context, a request after a new session) */
};

/* Options of a stateless parse (`earshot parse KIND FILE`). */
struct es_parse_opts {
    const char *source;   /* names the input in messages and items */
    const char *base_url; /* resolves relative links; may be NULL */
};

struct es_source_ops {
    const char *name;       /* config `type =`: "rss", ... */
    unsigned flags;         /* enum es_source_flags */
    int default_interval_s; /* used when config sets no interval */
    /* Checks the section and builds an instance; ES_EINVALID with a
     * "FILE:LINE: ..." message when the section is unusable. */
    int (*open)(struct es_source **out, const struct es_config_source *cfg);
    /* Optional. Called at the start of every poll with the cursor stored
     * with the last stored page (NULL: never polled), before the first
     * request: a restart resumes exactly there. */
    void (*begin)(struct es_source *src, const char *cursor);
    /* Describes the next request. ES_EUNCHANGED: nothing to fetch now. */
    int (*request)(struct es_source *src, struct es_source_request *req);
    /* Optional, for kinds that read no URL (a command's output, say):
     * when set, the poller calls it instead of request + HTTP, in the
     * polling thread, and hands @body to parse as if fetched (http_code
     * 0). Returns 0, ES_EUNCHANGED when there is nothing new, or a
     * negative error with a message. */
    int (*fetch)(struct es_source *src, struct es_buf *body);
    /* Parses a successful response. Emits items with platform and source
     * set, and fills @page. Returns 0, ES_EPARSE with a message when the
     * body was malformed (items recovered before that were emitted), or
     * the non-zero value emit returned. */
    int (*parse)(struct es_source *src, const struct es_source_response *res,
                 struct es_source_page *page, es_item_cb emit, void *payload);
    /* Optional. Sees an HTTP error answer (@res->http_code >= 400, body
     * kept). Returns 1 to request again in this poll (after dropping an
     * expired session, say), 0 to let the poll fail. */
    int (*failed)(struct es_source *src, const struct es_source_response *res);
    /* Parses any body this kind's collector fetches, detecting its shape,
     * with no source state (`earshot parse KIND`). Same returns as parse;
     * a body of the wrong shape is ES_EPARSE naming the kind and the JSON
     * path that surprised it. NULL for kinds parsed elsewhere (rss). */
    int (*parse_any)(const char *buf, size_t len,
                     const struct es_parse_opts *opts, es_item_cb emit,
                     void *payload);
    void (*close)(struct es_source *src); /* frees src; NULL is a no-op */
};

/* Every instance starts with this (libgit2's parent member). */
struct es_source {
    const struct es_source_ops *ops;
    char *name;             /* [source "NAME"] */
    char *url;              /* configured URL, may be NULL */
    char *base_url;         /* `base_url =`, may be NULL (the kind's default) */
    char *token;            /* `token =` or the first line of `token_file =`, or
                             * NULL. A secret: never print it. */
    struct es_query *query; /* compiled `query =`, or NULL: everything */
    int interval;           /* seconds, config or the kind's default */
    int enabled;
};

/* Returns the ops of kind @type, or NULL. */
const struct es_source_ops *es_source_find(const char *type);
/* Returns the NULL-terminated registry (for --help and docs). */
const struct es_source_ops *const *es_source_kinds(void);

/* Opens the source described by @cfg through its kind's ops. The caller
 * frees it with es_source_free(). ES_EINVALID names file:line. */
int es_source_open(struct es_source **out, const struct es_config_source *cfg);
void es_source_free(struct es_source *src);

/* Fills the base fields from @cfg (for the kinds' open functions): name,
 * url, base_url, interval, enabled, the token (from `token` or
 * `token_file`) and the compiled query. ES_EINVALID with "FILE:LINE: ..."
 * for a malformed query or an unreadable token file (the message never
 * holds the token); the base is released again on failure. */
int es_source__init_base(struct es_source *src, const struct es_source_ops *ops,
                         const struct es_config_source *cfg);
/* Whether @item passes the source's query: always without one, and for
 * items flagged direct, context or own (enum es_item_flags). */
int es_source_matches(const struct es_source *src, const struct es_item *item);
/* Frees what es_source__init_base() allocated (for the kinds' close). */
void es_source__release_base(struct es_source *src);

/* ==== Scheduling ==== */

/* When to poll next, in Unix seconds. With @failures == 0: now + interval.
 * After @failures consecutive failures: exponential backoff starting at
 * min(interval, 60 s) and doubling, capped at max(interval, 6 h). Either
 * way up to +-10% jitter drawn from @rnd (0..1) spreads sources apart, and
 * the result is never sooner than now + @retry_after when that is >= 0. */
int64_t es_schedule_next(int64_t now, int interval, int failures,
                         int64_t retry_after, double rnd);

/* ==== The poller ==== */

/* What the caller knows about a source from its last polls. */
struct es_poll_job {
    struct es_source *src; /* borrowed */
    const char *etag;      /* validators from the last 200, or NULL */
    const char *last_modified;
    const char *cursor; /* stored with the last stored page, or NULL */
};

/* The most requests one source makes in one poll (pages, sessions,
 * thread context): a runaway cursor cannot keep a poll going. */
#define ES_POLL_MAX_STEPS 10

/* One source's outcome. Everything is borrowed for the callback only. */
struct es_poll_result {
    struct es_source *src;
    int status;        /* 0, ES_EUNCHANGED (304), or a negative error */
    const char *error; /* message when status < 0; or, when status is 0,
                        * the parse problem the items were recovered
                        * from; NULL otherwise */
    long http_code;    /* 0 when no HTTP answer came */
    const char *etag;  /* validators to keep (NULL: none given) */
    const char *last_modified;
    int64_t retry_after; /* seconds to wait before asking again: the
                          * server's Retry-After, or the time to the
                          * rate-limit reset once none are left; -1 when
                          * neither applies */
    const char *cursor;  /* store with these items; NULL: keep the old */
    int step;            /* 0 for the first request of the poll */
    struct es_item **items;
    size_t nitems;
};

/* Called once per request that got an answer or failed: a job whose source
 * asks for more pages is reported once per page. Everything in @res is
 * borrowed for the call, except
 * that the callback may take the items: it then sets res->items to NULL
 * (and res->nitems to 0) and frees each item with es_item_free() and the
 * array with free() when done. */
typedef int (*es_poll_cb)(struct es_poll_result *res, void *payload);

struct es_poller;

/* Takes HTTP limits from @http (copied); NULL means defaults. The caller
 * frees the result with es_poller_free(). */
struct es_poller *es_poller_new(const struct es_config_http *http);
void es_poller_free(struct es_poller *p);

/* Fetches all @njobs concurrently (up to max_parallel at a time), parses
 * each body as it arrives, and calls @cb once per answer, in completion
 * order, from the calling thread. Sources that ask for more (next page,
 * context) get their next request in the following round, up to
 * ES_POLL_MAX_STEPS requests, and never once their rate limit is spent.
 * Items the source's query rejects are dropped before @cb sees them. One
 * failing source never stops the others.
 * Returns 0, or the first non-zero value @cb returned (remaining transfers
 * are abandoned and get no callback). */
int es_poller_run(struct es_poller *p, const struct es_poll_job *jobs,
                  size_t njobs, es_poll_cb cb, void *payload);

#endif
