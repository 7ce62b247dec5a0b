/* stream.c - state the platform kinds keep between requests
 *
 * See stream.h. The context queue is a plain array: it holds at most
 * ES_CTXQ_MAX ids, so a scan costs less than keeping a map in step.
 */
#include "stream.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/alloc.h"
#include "earshot/item.h"

/* ==== String vectors ==== */

void es_strv_add(char ***arr, size_t *n, const char *s)
{
    *arr = es_xrealloc(*arr, (*n + 1) * sizeof(**arr));
    (*arr)[(*n)++] = es_xstrdup(s);
}

int es_strv_has(char *const *arr, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(arr[i], s) == 0)
            return 1;
    return 0;
}

void es_strv_free(char **arr, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(arr[i]);
    free(arr);
}

/* ==== Context queue ==== */

void es_ctxq_want(struct es_ctxq *q, const char *id)
{
    if (es_strv_has(q->queue, q->n, id) ||
        es_strv_has(q->fetched, q->nfetched, id) || q->n >= ES_CTXQ_MAX)
        return;
    es_strv_add(&q->queue, &q->n, id);
}

int es_ctxq_ready(const struct es_ctxq *q)
{
    return q->n && q->polled < ES_CTXQ_PER_POLL;
}

char *es_ctxq_pop(struct es_ctxq *q)
{
    assert(q->n > 0);
    /* The oldest wish first; it leaves the queue whatever happens. */
    char *id = q->queue[0];
    memmove(q->queue, q->queue + 1, (q->n - 1) * sizeof(*q->queue));
    q->n--;
    /* Remember it so that no later poll fetches it again. */
    if (q->nfetched < ES_CTXQ_FETCHED) {
        es_strv_add(&q->fetched, &q->nfetched, id);
    } else {
        free(q->fetched[q->fetched_next]);
        q->fetched[q->fetched_next] = es_xstrdup(id);
        q->fetched_next = (q->fetched_next + 1) % ES_CTXQ_FETCHED;
    }
    q->polled++;
    return id;
}

void es_ctxq_release(struct es_ctxq *q)
{
    es_strv_free(q->queue, q->n);
    es_strv_free(q->fetched, q->nfetched);
    memset(q, 0, sizeof(*q));
}

/* ==== Cursors ==== */

int64_t es_cursor_seconds(const char *cursor)
{
    if (!cursor || !*cursor || strlen(cursor) >= 19 ||
        cursor[strspn(cursor, "0123456789")] != '\0')
        return ES_TIME_UNKNOWN;
    return strtoll(cursor, NULL, 10);
}
