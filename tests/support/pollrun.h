/* pollrun.h - run a collector once through the poller and keep what it said
 *
 * The collector tests (tests/test_net_*.c) each open sources from config
 * text pointed at the loopback server (testhttpd.h), poll them once with
 * a cursor through es_poller_run() and then assert on the items, the
 * cursors, the messages and the requests the server logged. This is the
 * part they had each written for themselves. Every helper fails the
 * running cmocka test when it cannot do its job.
 */
#ifndef EARSHOT_POLLRUN_H
#define EARSHOT_POLLRUN_H

#include <stddef.h>
#include <stdint.h>

#include "earshot/buf.h"
#include "earshot/item.h"

struct es_source;
struct es_testhttpd;

/* ==== Items ==== */

/* Items an emit callback saw, deep-copied. Zero-initialise it. */
struct es_caught {
    struct es_item **items;
    size_t n;
    size_t stop_after; /* es_caught_add returns 5 after this many; 0 never */
};

/* An es_item_cb: appends a copy of @item to the struct es_caught @payload. */
int es_caught_add(const struct es_item *item, void *payload);

/* Frees the items and zeroes @c. */
void es_caught_release(struct es_caught *c);

/* The item with external id @id, or NULL. Returns a borrowed pointer,
 * valid until es_caught_release(). */
const struct es_item *es_caught_find(const struct es_caught *c, const char *id);

/* How many items have external id @id. */
size_t es_caught_count(const struct es_caught *c, const char *id);

/* ==== Fixtures ==== */

/* The path ES_FIXTURES/<printf-style @fmt>. The caller frees the
 * result. */
char *es_pollrun_fixture_path(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* The contents of the fixture es_pollrun_fixture_path(@fmt, ...) names;
 * fails the test when it cannot be read. Sets *@len when @len is not
 * NULL. The caller frees the result. */
char *es_pollrun_fixture(size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Routes @path on @srv to the file ES_FIXTURES/@rel, sent as
 * @content_type; fails the test when the file cannot be read. */
void es_pollrun_route_file(struct es_testhttpd *srv, const char *path,
                           const char *rel, const char *content_type);

/* Config @text with every "@BASE@" replaced by @srv's URL. The caller
 * frees the result. */
char *es_pollrun_conf(struct es_testhttpd *srv, const char *text);

/* ==== One poll ==== */

#define ES_POLLED_STEPS 16

/* What the callbacks of one es_poller_run() reported. */
struct es_polled {
    int calls;
    int failures;                   /* callbacks with status < 0 */
    int status;                     /* of the last callback */
    long http_code;                 /* of the last callback */
    int64_t retry_after;            /* the largest seen; -1 none */
    char *first_error;              /* the first message, or NULL */
    char *error;                    /* the last message, or NULL */
    struct es_buf errors;           /* every message, one a line */
    char *cursor;                   /* the latest non-NULL cursor */
    char *cursors[ES_POLLED_STEPS]; /* of each callback, NULL kept */
    struct es_caught items;         /* every item, in order */
};

/* Polls @src once from @cursor (and @etag, both may be NULL) into @p,
 * which is reset first; fails the test when es_poller_run() does. */
void es_polled_run(struct es_polled *p, struct es_source *src,
                   const char *cursor, const char *etag);

/* Frees what @p holds and zeroes it. */
void es_polled_release(struct es_polled *p);

/* ==== Requests the server logged ==== */

/* The decoded query parameter @name of request @nth to @path, or NULL.
 * The caller frees the result. */
char *es_pollrun_param(struct es_testhttpd *srv, const char *path, long nth,
                       const char *name);

/* Fails the test unless query parameter @name of request @nth to @path
 * is @want (absent when @want is NULL). */
void es_pollrun_assert_param(struct es_testhttpd *srv, const char *path,
                             long nth, const char *name, const char *want);

/* Likewise for header @name. */
void es_pollrun_assert_header(struct es_testhttpd *srv, const char *path,
                              long nth, const char *name, const char *want);

#endif
