/* import.c - JSON Lines mentions from a file or a pipe into the inbox
 *
 * `earshot import` and the alert backtests load history this way:
 * backfills, migrations from other tools, synthetic streams. The lines
 * are those `earshot parse` prints (include/earshot/jsonl.h), so a
 * mention keeps the created_at it was posted at, and the charts and rules
 * see it where it belongs in time.
 *
 * The input is read in fixed chunks and cut into lines here; a line is
 * parsed straight into the next slot of the batch, scored at once (no
 * transaction is open while we parse and score), and when the batch is
 * full it is written in one short transaction: a poller writing the same
 * database waits at most one batch, and memory stays at one batch
 * whatever the size of the input. A line too long to be a mention is
 * skipped as it streams past, never buffered.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "earshot/alloc.h"
#include "earshot/buf.h"
#include "earshot/error.h"
#include "earshot/ingest.h"
#include "earshot/jsonl.h"

#define DEFAULT_SOURCE "import"
#define SOURCE_TYPE    "jsonl"
enum { DEFAULT_BATCH = 4096, READ_STEP = 65536 };

/* A line is cut off (and reported too long) past this many bytes: the
 * parser's limit plus room for the white space it trims. */
#define LINE_CAP (ES_JSONL_MAX_LINE + 64)

struct import {
    struct es_inbox *ib;
    const struct es_scorer *sc; /* NULL: unscored */
    const struct es_import_opts *opts;
    struct es_import_report *rep;
    int64_t source_id;
    const char *source;
    struct es_item *items; /* the batch: nitems parsed mentions */
    struct es_scores *scores;
    size_t nitems, cap;
    int64_t now; /* the clock of this batch's scores and fetched_at */
};

/* Writes the batch in one transaction and empties it. */
static int flush_batch(struct import *im)
{
    struct es_import_report *rep = im->rep;
    size_t nnew = 0, nupdated = 0, nunchanged = 0;
    int rc = 0;

    if (im->nitems == 0)
        return 0;
    rc = es_inbox_begin(im->ib);
    for (size_t i = 0; rc >= 0 && i < im->nitems; i++) {
        enum es_put_result pr;
        rc = es_inbox_put(im->ib, im->source_id, &im->items[i],
                          im->sc ? &im->scores[i] : NULL, &pr, NULL);
        if (rc < 0)
            break;
        if (pr == ES_PUT_NEW)
            nnew++;
        else if (pr == ES_PUT_UPDATED)
            nupdated++;
        else
            nunchanged++;
    }
    if (rc >= 0)
        rc = es_inbox_commit(im->ib);
    if (rc < 0)
        es_inbox_rollback(im->ib);
    for (size_t i = 0; i < im->nitems; i++)
        es_item_release(&im->items[i]);
    im->nitems = 0;
    if (rc < 0)
        return rc;
    rep->nnew += nnew;
    rep->nupdated += nupdated;
    rep->nunchanged += nunchanged;
    rep->nbatches++;
    if (im->opts && im->opts->progress)
        im->opts->progress(rep, im->opts->payload);
    return 0;
}

static void report_bad(struct import *im, const char *why)
{
    im->rep->nbad++;
    if (im->opts && im->opts->bad)
        im->opts->bad((unsigned long)im->rep->nlines, why, im->opts->payload);
}

static void report_too_long(struct import *im)
{
    char why[64];
    snprintf(why, sizeof(why), "longer than %zu bytes",
             (size_t)ES_JSONL_MAX_LINE);
    report_bad(im, why);
}

/* Takes line number rep->nlines (@len bytes, no newline) into the batch,
 * or reports it; writes the batch when it is full. */
static int take_line(struct import *im, const char *line, size_t len)
{
    char why[200];
    struct es_item *item = &im->items[im->nitems];

    if (im->rep->nlines == 1 && len >= 3 &&
        memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
        line += 3;
        len -= 3;
    }
    if (im->nitems == 0)
        im->now = es_time_now();
    int rc = es_jsonl_parse_line(line, len, item, why, sizeof(why));
    if (rc == ES_ENOTFOUND)
        return 0;
    if (rc < 0) {
        report_bad(im, why);
        return 0;
    }
    item->source = es_xstrdup(im->source);
    item->fetched_at = im->now;
    if (im->sc)
        es_scorer_score(im->sc, item, im->now, &im->scores[im->nitems]);
    if (++im->nitems == im->cap)
        return flush_batch(im);
    return 0;
}

/* Makes sure the source exists: a new one is of type "jsonl", an
 * existing one (a configured source being backfilled) keeps its type. */
static int ensure_source(struct import *im)
{
    struct es_source_health h;
    int rc = es_inbox_health_get(im->ib, im->source, &h);
    if (rc == 0) {
        rc = es_inbox_source_ensure(im->ib, im->source, h.type, &im->source_id);
        es_source_health_release(&h);
        return rc;
    }
    if (rc != ES_ENOTFOUND)
        return rc;
    return es_inbox_source_ensure(im->ib, im->source, SOURCE_TYPE,
                                  &im->source_id);
}

int es_ingest_import_fd(struct es_inbox *ib, const struct es_scorer *sc, int fd,
                        const struct es_import_opts *opts,
                        struct es_import_report *out)
{
    struct import im = {
        .ib = ib,
        .sc = sc,
        .opts = opts,
        .rep = out,
    };
    struct es_buf line = ES_BUF_INIT;
    char *chunk = NULL;
    int too_long = 0; /* the current line passed LINE_CAP: skipping it */
    int rc;

    assert(ib && out);
    memset(out, 0, sizeof(*out));
    im.source = opts && opts->source ? opts->source : DEFAULT_SOURCE;
    im.cap = opts && opts->batch ? opts->batch : DEFAULT_BATCH;
    rc = ensure_source(&im);
    if (rc < 0)
        goto done;
    im.items = es_xmalloc(im.cap * sizeof(*im.items));
    for (size_t i = 0; i < im.cap; i++)
        es_item_init(&im.items[i]);
    if (sc)
        im.scores = es_xmalloc(im.cap * sizeof(*im.scores));
    chunk = es_xmalloc(READ_STEP);

    for (;;) {
        ssize_t n = read(fd, chunk, READ_STEP);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = es_error_set(ES_ERROR, "cannot read: %s", strerror(errno));
            goto done;
        }
        if (n == 0)
            break;
        const char *p = chunk, *end = chunk + n;
        while (p < end && rc == 0) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t seg = (size_t)((nl ? nl : end) - p);
            if (!too_long && line.len + seg > LINE_CAP) {
                too_long = 1;
                es_buf_reset(&line);
            }
            if (!too_long)
                es_buf_add(&line, p, seg);
            if (!nl)
                break;
            p = nl + 1;
            out->nlines++;
            if (too_long) {
                report_too_long(&im);
                too_long = 0;
            } else {
                rc = take_line(&im, line.ptr, line.len);
            }
            es_buf_reset(&line);
        }
        if (rc < 0)
            goto done;
    }
    /* The last line may lack its newline. */
    if (line.len || too_long) {
        out->nlines++;
        if (too_long) {
            report_too_long(&im);
        } else {
            rc = take_line(&im, line.ptr, line.len);
            if (rc < 0)
                goto done;
        }
    }
    rc = flush_batch(&im);
done:
    for (size_t i = 0; im.items && i < im.cap; i++)
        es_item_release(&im.items[i]);
    free(im.items);
    free(im.scores);
    free(chunk);
    es_buf_release(&line);
    return rc;
}
