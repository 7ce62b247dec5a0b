/* inbox.h - the unified inbox: mentions stored in SQLite
 *
 * One struct es_inbox owns one sqlite3 connection (WAL mode). It is the
 * single writer: collectors hand it batches, one transaction per batch.
 * The schema is created and upgraded by numbered migrations. A mention seen
 * again (same source and external id) is never stored twice; if its text
 * changed it is updated in place, marked edited, and keeps its state.
 * Not thread-safe: use one es_inbox per thread.
 */
#ifndef EARSHOT_INBOX_H
#define EARSHOT_INBOX_H

#include <stddef.h>
#include <stdint.h>

#include "earshot/item.h"

struct es_inbox;

/* Opens (creating when missing) the database at @path (":memory:" works)
 * and applies pending migrations. The caller frees *out with
 * es_inbox_free(). ES_EDB with "cannot open inbox 'PATH': ..." on error. */
int es_inbox_open(struct es_inbox **out, const char *path);
void es_inbox_free(struct es_inbox *ib);

/* The schema version after migrations (PRAGMA user_version). */
int es_inbox_schema_version(struct es_inbox *ib);

/* ==== Sources and their health ==== */

struct es_source_health {
    char *name;
    char *type;
    int64_t last_attempt; /* ES_TIME_UNKNOWN when never */
    int64_t last_success; /* ES_TIME_UNKNOWN when never */
    int64_t next_poll;    /* ES_TIME_UNKNOWN: due now */
    int failures;         /* consecutive */
    char *last_error;     /* NULL when the last poll succeeded */
    char *etag;           /* HTTP validators of the last 200 */
    char *last_modified;
    char *cursor;       /* platform cursor (since_id, ...) */
    long long mentions; /* stored mentions of this source; counted by
                           es_inbox_health_each only (-1 elsewhere) */
};

/* Frees the strings of @h. */
void es_source_health_release(struct es_source_health *h);

/* Makes sure a row exists for source @name of kind @type and sets *out to
 * its id (out may be NULL). Renaming a type keeps the row. */
int es_inbox_source_ensure(struct es_inbox *ib, const char *name,
                           const char *type, int64_t *out);

/* Reads the health of @name into *out (release it after). ES_ENOTFOUND
 * when the source was never seen. */
int es_inbox_health_get(struct es_inbox *ib, const char *name,
                        struct es_source_health *out);

/* Writes the poll outcome fields of @h (last_attempt, last_success,
 * next_poll, failures, last_error, etag, last_modified, cursor) for source
 * h->name. */
int es_inbox_health_put(struct es_inbox *ib, const struct es_source_health *h);

/* A read snapshot: the reads between these two see one state of the
 * database and pay for its locks once, not once a statement (a poll reads
 * the health of every source). Nothing may be written in between. */
int es_inbox_read_begin(struct es_inbox *ib);
void es_inbox_read_end(struct es_inbox *ib);

typedef int (*es_health_cb)(const struct es_source_health *h, void *payload);
/* Calls @cb for every known source, by name. */
int es_inbox_health_each(struct es_inbox *ib, es_health_cb cb, void *payload);

/* ==== Storing a batch ==== */

enum es_put_result {
    ES_PUT_NEW = 0,
    ES_PUT_UPDATED,   /* seen before, text or title changed: edited */
    ES_PUT_UNCHANGED, /* seen before, same content */
};

/* What the classifier says about a mention, stored with it in the same
 * INSERT. The inbox does not score: ingest hands these in. */
#define ES_SCORES_REASONS_MAX 320

struct es_scores {
    double sentiment; /* compound, in [-1, 1] */
    double pos;       /* proportions of the text, 0..1 */
    double neu;
    double neg;
    int label;          /* -1 negative, 0 neutral, 1 positive (the values
                           of enum es_sentiment_label) */
    int low_confidence; /* 1: not English, or no language found */
    char lang[8];       /* the classifier's language code, "" for none:
                           stored only when the item has no lang */
    int priority;       /* 0..100 */
    char reasons[ES_SCORES_REASONS_MAX]; /* JSON array of short strings */
};

/* One transaction per poll batch: begin, put each item, commit. On any
 * error call es_inbox_rollback(): nothing of the batch is kept. The
 * batch's new mentions reach the search index at the commit, so a search
 * on the same connection inside the batch does not find them yet. */
int es_inbox_begin(struct es_inbox *ib);
int es_inbox_commit(struct es_inbox *ib);
void es_inbox_rollback(struct es_inbox *ib);

/* Stores @item for source @source_id (from es_inbox_source_ensure) with
 * @scores (NULL: unscored). An item without lang gets the classifier's
 * (scores->lang) when it has one. Sets *result when not NULL, and *id to
 * the mention id when not NULL. Only a changed text or title makes a
 * repeat ES_PUT_UPDATED (other fields of an unchanged repeat, scores
 * included, are not rewritten); an update keeps the mention's state and
 * assignee and takes @scores, since the old ones describe the old text
 * (NULL makes it unscored). Outside es_inbox_begin() the item is stored
 * in a transaction of its own. ES_EINVALID for an item without external_id
 * or an unknown @source_id; ES_EDB otherwise. @item and @scores are
 * borrowed. */
int es_inbox_put(struct es_inbox *ib, int64_t source_id,
                 const struct es_item *item, const struct es_scores *scores,
                 enum es_put_result *result, int64_t *id);

/* ==== Reading ==== */

/* A stored mention: the item plus what the inbox added. */
struct es_mention {
    int64_t id;
    struct es_item item;  /* item.source is the source's name */
    char *state;          /* "new", ... */
    char *assignee;       /* NULL when unassigned */
    int scored;           /* 0: sentiment is NULL ("unscored") */
    double sentiment;     /* compound score, when scored */
    double pos, neu, neg; /* proportions, when scored */
    int label;            /* -1, 0, 1 as in es_scores, when scored */
    int low_confidence;   /* when scored */
    int prioritised;      /* 0: priority is NULL */
    int priority;         /* 0..100, when prioritised */
    char **reasons;       /* why the priority: nreasons owned strings */
    size_t nreasons;
    int edited;         /* text changed after it was first stored */
    int64_t first_seen; /* when the inbox first stored it */
};

void es_mention_release(struct es_mention *m);

struct es_inbox_query {
    const char *state;    /* NULL: any */
    const char *source;   /* source name; NULL: any */
    const char *search;   /* FTS5 query over text, title and author, or
                           * plain words (see es_inbox_list) */
    int limit;            /* <= 0: 50 */
    const char *label;    /* "positive", "neutral", "negative"; NULL: any */
    const char *platform; /* "mastodon", ...; NULL: any */
    const char *lang;     /* "en" also matches "en-GB"; NULL: any */
    const char *tag;      /* has this tag (triage.h); NULL: any */
    const char *assignee; /* agent name, "" for unassigned; NULL: any */
};

typedef int (*es_mention_cb)(const struct es_mention *m, void *payload);

/* Calls @cb for each matching mention, highest priority first (unscored
 * ones last), then newest. The mention is borrowed for the call. A search
 * that is not valid FTS5 syntax ("web-01", "can't") searches the words
 * typed instead: each word or "phrase" as text, AND/OR/NOT between words
 * as operators, "word*" as a prefix. */
int es_inbox_list(struct es_inbox *ib, const struct es_inbox_query *q,
                  es_mention_cb cb, void *payload);

/* Reads mention @id into *out (release it after); ES_ENOTFOUND. */
int es_inbox_get(struct es_inbox *ib, int64_t id, struct es_mention *out);

/* Number of stored mentions; a negative error code (ES_EDB) on failure. */
long long es_inbox_count(struct es_inbox *ib);

/* ==== Rescoring in batches ==== */

/* Calls @cb for up to @limit mentions with an id above @after_id, in id
 * order: a cursor over the whole inbox for work in batches (pass the last
 * id seen as the next @after_id). Holds no write lock: a poller may write
 * meanwhile. Sets *last_id (when not NULL) to the last id passed to @cb,
 * or @after_id when there was none. A non-zero return of @cb stops the
 * walk and is returned. */
int es_inbox_scan(struct es_inbox *ib, int64_t after_id, int limit,
                  es_mention_cb cb, void *payload, int64_t *last_id);

/* The highest mention id stored (0 for none), or a negative error code
 * (ES_EDB): where a walk over "every mention there is now" ends. */
int64_t es_inbox_last_id(struct es_inbox *ib);

/* Replaces the scores of mention @m->id, but only while its title and text
 * are still those of @m: a mention edited since it was read keeps the
 * scores the writer of the edit gave it. Sets *changed to 1 when the
 * priority or the label differ from those of @m (may be NULL). Call it
 * inside es_inbox_begin()/commit() to write a batch at once. Returns 0,
 * ES_ENOTFOUND when the mention is gone or was edited, ES_EDB. */
int es_inbox_set_scores(struct es_inbox *ib, const struct es_mention *m,
                        const struct es_scores *scores, int *changed);

#endif
