/* ingest.h - the pipeline: collectors -> classifier -> inbox
 *
 * es_ingest ties the configured sources to the store: it decides which
 * sources are due from the health kept in the database, polls them all at
 * once through the poller, scores every mention (sentiment and priority,
 * with an es_scorer), stores each source's batch in one transaction, and
 * records the outcome (validators, next poll, errors) per source. It is
 * the one writer of the inbox. A pass fetches and parses in the calling
 * thread, scores in a second and stores in a third, which hold the inbox
 * until the pass returns.
 */
#ifndef EARSHOT_INGEST_H
#define EARSHOT_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "earshot/config.h"
#include "earshot/inbox.h"

/* ==== Scoring ==== */

/* The lexicon and the priority settings every stored mention is scored
 * with. Immutable once open: threads share one without locks. */
struct es_scorer;

/* Loads the lexicon of @cfg's [classifier] section - `lexicon =`, else
 * @data_dir/lexicons/earshot-en.tsv - and its overlays, and reads the
 * [priority] weights and brands. @cfg may be NULL (every default); a
 * NULL @data_dir can only work with `lexicon =` set. Loads the lexicon
 * once: open one scorer per process. ES_ENOTFOUND naming the path tried
 * when there is no lexicon; the loader's "FILE:LINE: ..." for a bad one.
 * The caller frees *out with es_scorer_free(). */
int es_scorer_open(struct es_scorer **out, const struct es_config *cfg,
                   const char *data_dir);
void es_scorer_free(struct es_scorer *sc);

/* Scores @item (its title and text, with the priority factors) as of Unix
 * time @now into *out. Thread-safe. */
void es_scorer_score(const struct es_scorer *sc, const struct es_item *item,
                     int64_t now, struct es_scores *out);

/* ==== Polling ==== */

struct es_ingest;

/* Opens every source of @cfg (disabled ones too, so they can be listed).
 * Borrows @cfg, @ib and @sc: all must outlive the result, which the
 * caller frees with es_ingest_free(). Every mention a poll stores is
 * scored with @sc. ES_EINVALID with "FILE:LINE: ..." when a source
 * section is unusable. */
int es_ingest_open(struct es_ingest **out, const struct es_config *cfg,
                   struct es_inbox *ib, const struct es_scorer *sc);
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

/* Reads a feed document from @fd in chunks, parses it as a stream, scores
 * each entry with @sc (in a scorer thread) and stores the entries as
 * source @source_name (created with type "rss" when unknown) in one
 * transaction: a backfill that never holds the document or its entries in
 * memory. @base_url resolves relative links (may be NULL). Sets the
 * counts in *report. ES_EPARSE when nothing could be parsed; the batch is
 * rolled back on any store error. */
int es_ingest_feed_fd(struct es_inbox *ib, const struct es_scorer *sc, int fd,
                      const char *source_name, const char *base_url,
                      struct es_ingest_report *report);

/* ==== Rescoring ==== */

struct es_rescore_report {
    size_t nscored;  /* mentions given new scores */
    size_t nchanged; /* of those, whose priority or label changed */
    size_t nskipped; /* edited or removed while we scored: left alone */
    size_t nbatches; /* transactions */
};

/* Called after each batch with the totals so far; may be NULL. */
typedef void (*es_rescore_progress_cb)(const struct es_rescore_report *r,
                                       void *payload);

/* Recomputes sentiment and priority of every mention stored when it starts
 * with @sc (after a lexicon or weight change), as of now; mentions stored
 * meanwhile were scored as they came. Reads @batch mentions at a time
 * (<= 0: 500) without holding the write lock, scores them, then writes
 * that batch in one short transaction, so a poller writing the same
 * database waits at most one batch. A mention edited in the meantime is
 * skipped (the poller scored its new text). Sets *out. ES_EDB when the
 * store fails; batches already written stay. */
int es_ingest_rescore(struct es_inbox *ib, const struct es_scorer *sc,
                      int batch, es_rescore_progress_cb cb, void *payload,
                      struct es_rescore_report *out);

/* ==== Importing JSON Lines ==== */

/* Where an import stands; the totals so far while it runs. */
struct es_import_report {
    size_t nlines;   /* lines read, blank ones included */
    size_t nnew;     /* stored for the first time */
    size_t nupdated; /* seen before with another text or title: edited */
    size_t nunchanged;
    size_t nbad;     /* lines skipped: not a mention */
    size_t nbatches; /* transactions committed */
};

/* Called for each line skipped, with its number (from 1) and the reason
 * ("missing \"text\"", "longer than 1048576 bytes", ...), borrowed. */
typedef void (*es_import_bad_cb)(unsigned long lineno, const char *why,
                                 void *payload);
/* Called after each committed batch with the totals so far. */
typedef void (*es_import_progress_cb)(const struct es_import_report *r,
                                      void *payload);

struct es_import_opts {
    const char *source;   /* the source to store under; NULL: "import" */
    size_t batch;         /* mentions per transaction; 0: 4096 */
    es_import_bad_cb bad; /* may be NULL */
    es_import_progress_cb progress; /* may be NULL */
    void *payload;                  /* for both callbacks */
};

/* Reads JSON Lines mentions in the `earshot parse` format (jsonl.h) from
 * @fd until its end, and stores them like polled ones: scored with @sc
 * (NULL: stored unscored) as of now, deduplicated on (source, id), under
 * the source @opts->source, created with type "jsonl" when unknown (an
 * existing source keeps its type). Each mention keeps its created_at and
 * platform (es_jsonl_parse_line's "jsonl" when the line names none);
 * fetched_at is now. A streaming import: it holds one batch of mentions
 * at a time and never the whole input, scores a batch outside any
 * transaction, then writes it in one short transaction.
 *
 * A line that is not a mention (bad JSON, no "id" or "text", a line over
 * ES_JSONL_MAX_LINE bytes) is passed to @opts->bad and skipped; a byte
 * order mark at the start and blank lines are ignored; the last line
 * needs no newline. Sets the totals in *out (@opts may be NULL).
 *
 * Returns 0 (also when lines were skipped); ES_ERROR with the system's
 * reason when @fd cannot be read; ES_EDB when the store fails. The
 * batches committed before a failure stay (out->nbatches says how many);
 * nothing of the batch in progress is stored. */
int es_ingest_import_fd(struct es_inbox *ib, const struct es_scorer *sc, int fd,
                        const struct es_import_opts *opts,
                        struct es_import_report *out);

#endif
