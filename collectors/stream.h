/* stream.h - state the platform kinds keep between requests (module-private)
 *
 * Several platform kinds (reddit, hackernews) poll a few streams, queue
 * the threads of matching comments they did not see whole, and fetch a
 * few of those threads as context in each poll, remembering which they
 * fetched so that a later poll does not fetch them again. The stores
 * (appstore, googleplay) keep a cursor that is just Unix seconds. These
 * helpers hold what those kinds had each written for themselves.
 */
#ifndef EARSHOT_COLLECTORS_STREAM_H
#define EARSHOT_COLLECTORS_STREAM_H

#include <stddef.h>
#include <stdint.h>

/* ==== String vectors ==== */

/* Appends a copy of @s to the vector *arr of *n strings. */
void es_strv_add(char ***arr, size_t *n, const char *s);
/* Returns 1 when one of the @n strings of @arr is @s, else 0. */
int es_strv_has(char *const *arr, size_t n, const char *s);
/* Frees the @n strings of @arr and @arr itself. */
void es_strv_free(char **arr, size_t n);

/* ==== Context queue ==== */

#define ES_CTXQ_MAX      64   /* threads waiting at the most */
#define ES_CTXQ_PER_POLL 5    /* thread fetches in one poll */
#define ES_CTXQ_FETCHED  1024 /* threads remembered as fetched */

/* Threads whose context is wanted, oldest first, and a ring of those this
 * process fetched. Zero-initialise it; es_ctxq_release() frees it. */
struct es_ctxq {
    char **queue; /* thread ids waiting */
    size_t n;
    char **fetched; /* ring of thread ids fetched */
    size_t nfetched;
    size_t fetched_next; /* the slot the next fetch replaces when full */
    int polled;          /* fetches in this poll; the kind zeroes it */
};

/* Queues thread @id unless it waits already, was fetched, or the queue
 * is full. */
void es_ctxq_want(struct es_ctxq *q, const char *id);
/* Returns 1 when a thread waits and this poll may fetch another. */
int es_ctxq_ready(const struct es_ctxq *q);
/* Takes the oldest waiting thread (es_ctxq_ready() must be true), counts
 * it as fetched in this poll and remembers it. The caller frees the
 * result. */
char *es_ctxq_pop(struct es_ctxq *q);
/* Frees what @q holds and zeroes it. */
void es_ctxq_release(struct es_ctxq *q);

/* ==== Cursors ==== */

/* The Unix seconds of a cursor of 1 to 18 digits; ES_TIME_UNKNOWN for
 * NULL or anything else (an old format, a hand edit). */
int64_t es_cursor_seconds(const char *cursor);

#endif
