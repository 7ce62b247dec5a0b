/* ingest.h - the pipeline: collectors -> (classifier) -> inbox
 *
 * es_ingest ties the configured sources to the store: it decides which
 * sources are due from the health kept in the database, polls them all at
 * once through the poller, stores each source's batch in one transaction,
 * and records the outcome (validators, next poll, errors) per source. It is
 * the one writer of the inbox; it runs in the calling thread.
 */
#ifndef EARSHOT_INGEST_H
#define EARSHOT_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "earshot/config.h"
#include "earshot/inbox.h"

struct es_ingest;

/* Opens every source of @cfg (disabled ones too, so they can be listed).
 * Borrows @cfg and @ib: both must outlive the result, which the caller
 * frees with es_ingest_free(). ES_EINVALID with "FILE:LINE: ..." when a
 * source section is unusable. */
int es_ingest_open(struct es_ingest **out, const struct es_config *cfg,
                   struct es_inbox *ib);
void es_ingest_free(struct es_ingest *ig);

/* One source's outcome of a pass, borrowed for the callback. */
struct es_ingest_report {
    const char *source;
    int status;        /* 0, ES_EUNCHANGED, or a negative error */
    const char *error; /* what went wrong, or the recovered parse problem */
    long http_code;
    size_t nnew, nupdated, nunchanged;
    int64_t next_poll;
};

typedef void (*es_ingest_report_cb)(const struct es_ingest_report *r,
                                    void *payload);

enum es_ingest_flags {
    ES_INGEST_ALL = 1 << 0, /* poll every enabled source, due or not */
};

/* Polls the due enabled sources (all of them with ES_INGEST_ALL; only
 * @only, due or not, when it is not NULL) and stores what they return.
 * Calls @cb (may be NULL) once per polled source. A source's failure is
 * reported and recorded, never returned: the result is 0, ES_ENOTFOUND
 * when @only names no source, or ES_EDB when the store fails. Sets
 * *npolled when not NULL. */
int es_ingest_poll(struct es_ingest *ig, unsigned flags, const char *only,
                   es_ingest_report_cb cb, void *payload, size_t *npolled);

/* The earliest next_poll of the enabled sources (Unix seconds), or
 * ES_TIME_UNKNOWN when there is none. */
int64_t es_ingest_next_due(struct es_ingest *ig);

/* Reads a feed document from @fd in chunks, parses it as a stream and
 * stores its entries as source @source_name (created with type "rss" when
 * unknown) in one transaction: a backfill that never holds the document or
 * its entries in memory. @base_url resolves relative links (may be NULL).
 * Sets the counts in *report. ES_EPARSE when nothing could be parsed; the
 * batch is rolled back on any store error. */
int es_ingest_feed_fd(struct es_inbox *ib, int fd, const char *source_name,
                      const char *base_url, struct es_ingest_report *report);

#endif
