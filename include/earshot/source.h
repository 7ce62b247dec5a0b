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

#include "earshot/config.h"
#include "earshot/item.h"

enum es_source_flags {
    ES_SOURCE_NEEDS_AUTH = 1 << 0, /* refuses to open without a token */
    ES_SOURCE_HAS_SEARCH = 1 << 1, /* pushes the query to the platform */
};

struct es_source;

/* What one fetch needs; filled by ops->request. Strings are borrowed from
 * the source and valid until the next call on it. */
struct es_source_request {
    const char *url;
    const char *headers[8]; /* extra "Name: value" lines, NULL-terminated */
};

struct es_source_ops {
    const char *name;       /* config `type =`: "rss", ... */
    unsigned flags;         /* enum es_source_flags */
    int default_interval_s; /* used when config sets no interval */
    /* Checks the section and builds an instance; ES_EINVALID with a
     * "FILE:LINE: ..." message when the section is unusable. */
    int (*open)(struct es_source **out, const struct es_config_source *cfg);
    /* Describes the next request. */
    int (*request)(struct es_source *src, struct es_source_request *req);
    /* Parses a response body. @content_type may be NULL. Emits items with
     * platform and source set. Returns 0, ES_EPARSE with a message when
     * the body was malformed (items recovered before that were emitted), or
     * the non-zero value emit returned. */
    int (*parse)(struct es_source *src, const char *buf, size_t len,
                 const char *content_type, es_item_cb emit, void *payload);
    void (*close)(struct es_source *src); /* frees src; NULL is a no-op */
};

/* Every instance starts with this (libgit2's parent member). */
struct es_source {
    const struct es_source_ops *ops;
    char *name;   /* [source "NAME"] */
    char *url;    /* configured URL, may be NULL */
    int interval; /* seconds, config or the kind's default */
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

/* Fills the base fields from @cfg (for the kinds' open functions). */
void es_source__init_base(struct es_source *src,
                          const struct es_source_ops *ops,
                          const struct es_config_source *cfg);
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
};

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
    int64_t retry_after; /* seconds, -1 when the server gave none */
    struct es_item **items;
    size_t nitems;
};

/* Called once per job. Everything in @res is borrowed for the call, except
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
 * each body as it arrives, and calls @cb once per job, in completion order,
 * from the calling thread. One failing source never stops the others.
 * Returns 0, or the first non-zero value @cb returned (remaining transfers
 * are abandoned and get no callback). */
int es_poller_run(struct es_poller *p, const struct es_poll_job *jobs,
                  size_t njobs, es_poll_cb cb, void *payload);

#endif
