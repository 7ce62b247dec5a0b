/* ingest.c - drives the collectors through the classifier into the inbox
 *
 * The poller knows HTTP and parsing, the classifier knows words, the inbox
 * knows SQLite; none knows the others. This file is the seam: it reads
 * per-source health from the store to decide what is due, hands the due
 * sources to the poller, scores what comes back, and writes each returned
 * batch in its own transaction together with the new health row, so a
 * crash never leaves half a batch or a cursor that points past what was
 * stored.
 *
 * A pass is a pipeline of three threads: the producer (the poller's
 * callback, or the parser of a local document) fetches and parses, a
 * scorer thread computes sentiment and priority, and the writer stores.
 * Parsing, scoring and SQLite each cost about a third of a mention
 * (docs/performance.md); in two threads one of them always waited on the
 * other, in three the work spreads over whatever cores there are.
 */
#include "earshot/ingest.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/feed.h"
#include "earshot/priority.h"
#include "earshot/sentiment.h"
#include "earshot/source.h"

/* ==== Scoring ==== */

struct es_scorer {
    struct es_lexicon *lex;   /* owned; immutable once open */
    struct es_priority *prio; /* owned; immutable once open */
    char *lexicon_path;       /* what was loaded, for messages */
};

_Static_assert(sizeof(((struct es_scores *)0)->reasons) >=
                   sizeof(((struct es_priority_result *)0)->reasons),
               "the stored reasons must hold what priority writes");

void es_scorer_free(struct es_scorer *sc)
{
    if (!sc)
        return;
    es_lexicon_free(sc->lex);
    es_priority_free(sc->prio);
    free(sc->lexicon_path);
    free(sc);
}

int es_scorer_open(struct es_scorer **out, const struct es_config *cfg,
                   const char *data_dir)
{
    const struct es_config_classifier *cc =
        cfg ? es_config_classifier(cfg) : NULL;
    const struct es_config_priority *cp = cfg ? es_config_priority(cfg) : NULL;
    struct es_scorer *sc = es_xcalloc(1, sizeof(*sc));
    const char *origin;
    int rc;

    if (cc && cc->lexicon) {
        sc->lexicon_path = es_xstrdup(cc->lexicon);
        origin = "set by 'lexicon =' in [classifier]";
    } else if (data_dir) {
        sc->lexicon_path = es_xasprintf("%s/lexicons/earshot-en.tsv", data_dir);
        origin = "the data dir's lexicon; set 'lexicon =' in [classifier] "
                 "or pass --data-dir to use another";
    } else {
        rc = es_error_set(ES_ENOTFOUND,
                          "no lexicon to score mentions with: no data dir "
                          "was found (pass --data-dir DIR holding "
                          "lexicons/earshot-en.tsv) and 'lexicon =' is not "
                          "set in [classifier]");
        goto done;
    }
    rc = es_lexicon_load(&sc->lex, sc->lexicon_path);
    if (rc == ES_ENOTFOUND) {
        /* The loader named the path; say where it came from. */
        char why[512];
        snprintf(why, sizeof(why), "%s", es_error_last());
        rc = es_error_set(ES_ENOTFOUND, "%s (%s)", why, origin);
    }
    if (rc < 0)
        goto done;
    for (size_t i = 0; cc && i < cc->noverlays; i++) {
        rc = es_lexicon_overlay(sc->lex, cc->overlays[i]);
        if (rc < 0)
            goto done;
    }
    /* The brand's own names are names, not sentiment ("Havoc"). */
    if (cp)
        es_lexicon_add_names(sc->lex, cp->brands, cp->nbrands);
    struct es_priority_weights w;
    es_priority_weights_default(&w);
    if (cp) {
        w.negative = cp->weight_negative;
        w.urgency = cp->weight_urgency;
        w.reach = cp->weight_reach;
        w.rating = cp->weight_rating;
        w.direct = cp->weight_direct;
        w.age = cp->weight_age;
    }
    struct es_priority_cues own;
    memset(&own, 0, sizeof(own));
    if (cp) {
        own.phrases[ES_PRIORITY_CUE_SAFETY] = cp->safety_words;
        own.nphrases[ES_PRIORITY_CUE_SAFETY] = cp->nsafety_words;
        own.phrases[ES_PRIORITY_CUE_SECURITY] = cp->security_words;
        own.nphrases[ES_PRIORITY_CUE_SECURITY] = cp->nsecurity_words;
        own.phrases[ES_PRIORITY_CUE_VULNERABLE] = cp->vulnerable_words;
        own.nphrases[ES_PRIORITY_CUE_VULNERABLE] = cp->nvulnerable_words;
        own.phrases[ES_PRIORITY_CUE_URGENT] = cp->urgent_words;
        own.nphrases[ES_PRIORITY_CUE_URGENT] = cp->nurgent_words;
        own.phrases[ES_PRIORITY_CUE_OUTAGE] = cp->outage_words;
        own.nphrases[ES_PRIORITY_CUE_OUTAGE] = cp->noutage_words;
    }
    sc->prio = es_priority_new_with(&w, cp ? cp->brands : NULL,
                                    cp ? cp->nbrands : 0, &own);
    rc = 0;
done:
    if (rc < 0) {
        es_scorer_free(sc);
        sc = NULL;
    }
    *out = sc;
    return rc;
}

void es_scorer_score(const struct es_scorer *sc, const struct es_item *item,
                     int64_t now, struct es_scores *out)
{
    struct es_sentiment s;
    struct es_priority_result pr;
    char stack[2048];
    char *heap = NULL;
    const char *buf = "";
    size_t len = 0;

    /* The title and the text are read as one: a headline says as much
     * as the body. A feed whose description repeats its title counts it
     * once. */
    const char *title = item->title, *text = item->text;
    if (title && text && strcmp(title, text) == 0)
        title = NULL;
    if (title && text) {
        size_t lt = strlen(title), lx = strlen(text);
        char *p = lt + lx + 2 <= sizeof(stack)
                      ? stack
                      : (heap = es_xmalloc(lt + lx + 2));
        memcpy(p, title, lt);
        p[lt] = '\n';
        memcpy(p + lt + 1, text, lx + 1);
        buf = p;
        len = lt + 1 + lx;
    } else if (title || text) {
        buf = title ? title : text;
        len = strlen(buf);
    }
    es_sentiment_score(sc->lex, buf, len, &s);
    free(heap);
    es_priority_score(sc->prio, item, &s, now, &pr);

    out->sentiment = s.compound;
    out->pos = s.pos;
    out->neu = s.neu;
    out->neg = s.neg;
    out->label = s.label;
    out->low_confidence = s.low_confidence;
    /* "und" (no words at all) is no language: stored as unknown. */
    if (strcmp(s.lang, "und") == 0)
        out->lang[0] = '\0';
    else
        snprintf(out->lang, sizeof(out->lang), "%s", s.lang);
    out->priority = pr.score;
    memcpy(out->reasons, pr.reasons, sizeof(pr.reasons));
}

/* ==== Polling ==== */

struct ingest_source {
    struct es_source *src; /* owned */
    int64_t id;            /* row id in the store */
};

/* A configured source its kind refused to open (an unreadable token_file,
 * a query it cannot compile): reported as failing at each poll, with
 * backoff, while the others poll (one failing source never holds up the
 * others). */
struct broken_source {
    const struct es_config_source *cs; /* borrowed from the config */
    char *error;                       /* why it did not open */
};

struct es_ingest {
    const struct es_config *cfg; /* borrowed */
    struct es_inbox *ib;         /* borrowed */
    const struct es_scorer *sc;  /* borrowed */
    struct broken_source *broken;
    size_t nbroken;
    struct es_poller *poller;
    struct ingest_source *sources;
    size_t nsources;
    uint64_t rng; /* xorshift state for schedule jitter */
};

static double next_random(struct es_ingest *ig)
{
    uint64_t x = ig->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    ig->rng = x;
    return (double)(x >> 11) / (double)(1ULL << 53);
}

int es_ingest_open(struct es_ingest **out, const struct es_config *cfg,
                   struct es_inbox *ib, const struct es_scorer *sc)
{
    int rc = 0;
    assert(cfg && ib && sc);
    struct es_ingest *ig = es_xcalloc(1, sizeof(*ig));
    ig->cfg = cfg;
    ig->ib = ib;
    ig->sc = sc;
    ig->rng = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^
              0x9E3779B97F4A7C15ULL;
    size_t n = es_config_source_count(cfg);
    ig->sources = es_xcalloc(n ? n : 1, sizeof(*ig->sources));
    ig->broken = es_xcalloc(n ? n : 1, sizeof(*ig->broken));
    /* One transaction for all the rows: a commit each made opening a
     * thousand-source config cost more than polling it. */
    rc = es_inbox_begin(ib);
    if (rc < 0)
        goto done;
    for (size_t i = 0; i < n; i++) {
        const struct es_config_source *cs = es_config_source_at(cfg, i);
        struct ingest_source *is = &ig->sources[ig->nsources];
        int64_t id;
        if (es_source_open(&is->src, cs) < 0) {
            struct broken_source *b = &ig->broken[ig->nbroken++];
            b->cs = cs;
            b->error = es_xstrdup(es_error_last());
        } else {
            ig->nsources++;
        }
        rc = es_inbox_source_ensure(ib, cs->name, cs->type, &id);
        if (rc < 0)
            goto done;
        if (is->src)
            is->id = id;
    }
    rc = es_inbox_commit(ib);
    if (rc < 0)
        goto done;
    ig->poller = es_poller_new(es_config_http(cfg));
done:
    if (rc < 0) {
        es_inbox_rollback(ib);
        es_ingest_free(ig);
        ig = NULL;
    }
    *out = ig;
    return rc;
}

void es_ingest_free(struct es_ingest *ig)
{
    if (!ig)
        return;
    for (size_t i = 0; i < ig->nsources; i++)
        es_source_free(ig->sources[i].src);
    free(ig->sources);
    for (size_t i = 0; i < ig->nbroken; i++)
        free(ig->broken[i].error);
    free(ig->broken);
    es_poller_free(ig->poller);
    free(ig);
}

static struct ingest_source *find_source(struct es_ingest *ig,
                                         const struct es_source *src)
{
    for (size_t i = 0; i < ig->nsources; i++)
        if (ig->sources[i].src == src)
            return &ig->sources[i];
    return NULL;
}

/* ==== The writer ====
 *
 * The poller fetches and parses in the calling thread; storing runs in a
 * writer thread that owns the inbox for the duration of a pass, so SQLite
 * work overlaps network and parsing (two cores, two busy threads). Results
 * cross over through a queue. The writer groups several sources' batches in
 * one transaction (up to GROUP_ITEMS items or GROUP_MS milliseconds): each
 * commit makes FTS5 write a new segment, so a commit per source would cost
 * more than the inserts. A source's batch is never split across commits,
 * and its health row (validators, next poll) commits with its items.
 */

/* QUEUE_MAX_ITEMS bounds what a producer faster than the disk makes us
 * hold: a few MB of mentions. */
enum { GROUP_ITEMS = 20000, GROUP_MS = 1000, QUEUE_MAX_ITEMS = 8192 };

/* One source's outcome, owned by the queue. */
struct pending {
    struct pending *next;
    struct ingest_source *is;
    int status;
    char *error;
    long http_code;
    char *etag;
    char *last_modified;
    char *cursor; /* stored with the items, or NULL: keep the old one */
    int64_t retry_after;
    struct es_item **items;   /* taken from the poller */
    struct es_scores *scores; /* one per item, from the scorer */
    size_t nitems;
    int64_t source_id;           /* where the items go */
    struct es_ingest_report rep; /* filled by the writer */
    int64_t next_poll;
};

struct pass {
    struct es_ingest *ig;
    const struct es_scorer *sc; /* borrowed */
    struct es_inbox *ib;        /* the writer's, borrowed */
    int one_txn; /* never commit before the end (a file backfill) */
    es_ingest_report_cb cb;
    void *payload;
    pthread_t scorer, writer;
    pthread_mutex_t lock;              /* guards the fields below */
    pthread_cond_t to_score;           /* the scorer waits on it */
    pthread_cond_t to_store;           /* the writer waits on it */
    pthread_cond_t room;               /* the producer waits on it */
    struct pending *in_head, *in_tail; /* to score, in arrival order */
    struct pending *head, *tail;       /* scored, to store */
    size_t queued_items;               /* in both lists */
    int done;                          /* the producer has finished */
    int scored;   /* ... and the scorer has emptied its list */
    int db_error; /* first store failure, returned by es_ingest_poll */
    char db_msg[512];
};

static void pending_free(struct pending *pd)
{
    for (size_t i = 0; i < pd->nitems; i++)
        es_item_free(pd->items[i]);
    free(pd->items);
    free(pd->scores);
    free(pd->error);
    free(pd->etag);
    free(pd->last_modified);
    free(pd->cursor);
    free(pd);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void enqueue(struct pass *ps, struct pending *pd);

/* Scores the items of @pd, in the scorer thread. */
static void score_pending(const struct es_scorer *sc, struct pending *pd)
{
    int64_t now = es_time_now();
    if (!pd->nitems)
        return;
    pd->scores = es_xmalloc(pd->nitems * sizeof(*pd->scores));
    for (size_t i = 0; i < pd->nitems; i++)
        es_scorer_score(sc, pd->items[i], now, &pd->scores[i]);
}

/* The poller's callback, in the polling thread: queue the result. */
static int on_result(struct es_poll_result *res, void *payload)
{
    struct pass *ps = payload;
    struct ingest_source *is = find_source(ps->ig, res->src);
    if (!is)
        return 0;
    struct pending *pd = es_xcalloc(1, sizeof(*pd));
    pd->is = is;
    pd->source_id = is->id;
    pd->status = res->status;
    pd->error = es_xstrdup(res->error);
    pd->http_code = res->http_code;
    pd->etag = es_xstrdup(res->etag);
    pd->last_modified = es_xstrdup(res->last_modified);
    pd->retry_after = res->retry_after;
    pd->cursor = es_xstrdup(res->cursor);
    pd->items = res->items;
    pd->nitems = res->nitems;
    res->items = NULL; /* ours now: see es_poll_cb */
    res->nitems = 0;
    enqueue(ps, pd);
    return 0;
}

/* Appends @pd to the list *@head .. *@tail. */
static void list_add(struct pending **head, struct pending **tail,
                     struct pending *pd)
{
    pd->next = NULL;
    if (*tail)
        (*tail)->next = pd;
    else
        *head = pd;
    *tail = pd;
}

/* Takes the first of the list *@head .. *@tail, or NULL. */
static struct pending *list_take(struct pending **head, struct pending **tail)
{
    struct pending *pd = *head;
    if (pd) {
        *head = pd->next;
        if (!*head)
            *tail = NULL;
        pd->next = NULL;
    }
    return pd;
}

/* Hands @pd to the scorer, waiting while the queue is full. */
static void enqueue(struct pass *ps, struct pending *pd)
{
    pthread_mutex_lock(&ps->lock);
    /* Bound the memory a slow disk can make us hold. */
    while (ps->queued_items > QUEUE_MAX_ITEMS && !ps->db_error)
        pthread_cond_wait(&ps->room, &ps->lock);
    list_add(&ps->in_head, &ps->in_tail, pd);
    ps->queued_items += pd->nitems;
    pthread_cond_signal(&ps->to_score);
    pthread_mutex_unlock(&ps->lock);
}

/* The scorer thread: scores what the producer queued, in order, and
 * passes it on to the writer. */
static void *scorer_main(void *arg)
{
    struct pass *ps = arg;
    for (;;) {
        pthread_mutex_lock(&ps->lock);
        while (!ps->in_head && !ps->done)
            pthread_cond_wait(&ps->to_score, &ps->lock);
        struct pending *pd = list_take(&ps->in_head, &ps->in_tail);
        if (!pd) {
            ps->scored = 1;
            pthread_cond_signal(&ps->to_store);
            pthread_mutex_unlock(&ps->lock);
            return NULL;
        }
        pthread_mutex_unlock(&ps->lock);

        score_pending(ps->sc, pd);

        pthread_mutex_lock(&ps->lock);
        list_add(&ps->head, &ps->tail, pd);
        pthread_cond_signal(&ps->to_store);
        pthread_mutex_unlock(&ps->lock);
    }
}

/* Stores the items of @pd for source pd->source_id and counts them in
 * pd->rep: all of a file backfill's chunk, the batch part of a poll. */
static int store_chunk(struct es_inbox *ib, struct pending *pd)
{
    struct es_ingest_report *rep = &pd->rep;
    for (size_t i = 0; i < pd->nitems; i++) {
        enum es_put_result pr;
        int rc = es_inbox_put(ib, pd->source_id, pd->items[i], &pd->scores[i],
                              &pr, NULL);
        if (rc < 0)
            return rc;
        if (pr == ES_PUT_NEW)
            rep->nnew++;
        else if (pr == ES_PUT_UPDATED)
            rep->nupdated++;
        else
            rep->nunchanged++;
    }
    return 0;
}

/* Records one more failed attempt in @h: the error, and the next poll
 * backed off from @interval (or after @retry_after, when >= 0). */
static void health_failed(struct es_ingest *ig, struct es_source_health *h,
                          int64_t now, int interval, const char *error,
                          int64_t retry_after)
{
    h->failures++;
    free(h->last_error);
    h->last_error = es_xstrdup(error);
    h->next_poll = es_schedule_next(now, interval, h->failures, retry_after,
                                    next_random(ig));
}

/* Computes the health row that goes with @pd and stores its items. Runs
 * inside the writer's open transaction. */
static int store_pending(struct es_ingest *ig, struct pending *pd)
{
    struct ingest_source *is = pd->is;
    struct es_source_health h;
    struct es_ingest_report *rep = &pd->rep;
    int64_t now = es_time_now();
    int rc = es_inbox_health_get(ig->ib, is->src->name, &h);
    if (rc == ES_ENOTFOUND) {
        memset(&h, 0, sizeof(h));
        h.name = es_xstrdup(is->src->name);
        h.last_success = ES_TIME_UNKNOWN;
    } else if (rc < 0) {
        return rc;
    }
    rep->source = is->src->name;
    rep->status = pd->status;
    rep->error = pd->error;
    rep->http_code = pd->http_code;
    h.last_attempt = now;

    if (pd->status == 0 || pd->status == ES_EUNCHANGED) {
        h.last_success = now;
        h.failures = 0;
        free(h.last_error);
        /* Items recovered from a malformed document: keep them, but let
         * `earshot sources` say where the document broke. */
        h.last_error = es_xstrdup(pd->error);
        if (pd->status == 0) {
            free(h.etag);
            free(h.last_modified);
            h.etag = es_xstrdup(pd->etag);
            h.last_modified = es_xstrdup(pd->last_modified);
            /* The cursor moves in the transaction that stores what it
             * points past: a crash before the commit loses neither. */
            if (pd->cursor) {
                free(h.cursor);
                h.cursor = es_xstrdup(pd->cursor);
            }
        }
        /* retry_after is set on success too, once a rate limit is spent. */
        h.next_poll = es_schedule_next(now, is->src->interval, 0,
                                       pd->retry_after, next_random(ig));
    } else {
        health_failed(ig, &h, now, is->src->interval,
                      pd->error ? pd->error : es_error_name(pd->status),
                      pd->retry_after);
    }
    rep->next_poll = h.next_poll;

    rc = store_chunk(ig->ib, pd);
    if (rc >= 0)
        rc = es_inbox_health_put(ig->ib, &h);
    es_source_health_release(&h);
    return rc < 0 ? rc : 0;
}

/* Ends the open group: commit, then tell the caller about each source of
 * it. On a store failure nothing of the group is kept (validators
 * included, so the next poll fetches it all again) and each source of the
 * group is reported with the store's error. */
static void finish_group(struct pass *ps, struct pending **group, int rc)
{
    if (rc >= 0)
        rc = es_inbox_commit(ps->ib);
    if (rc < 0) {
        es_inbox_rollback(ps->ib);
        pthread_mutex_lock(&ps->lock);
        if (!ps->db_error) {
            ps->db_error = rc;
            snprintf(ps->db_msg, sizeof(ps->db_msg), "%s", es_error_last());
        }
        pthread_cond_broadcast(&ps->room);
        pthread_mutex_unlock(&ps->lock);
    }
    for (struct pending *pd = *group, *next; pd; pd = next) {
        next = pd->next;
        if (rc < 0) {
            memset(&pd->rep, 0, sizeof(pd->rep));
            pd->rep.source = pd->is ? pd->is->src->name : NULL;
            pd->rep.status = rc;
            pd->rep.error = ps->db_msg;
        }
        if (ps->cb)
            ps->cb(&pd->rep, ps->payload);
        pending_free(pd);
    }
    *group = NULL;
}

static void *writer_main(void *arg)
{
    struct pass *ps = arg;
    struct pending *group = NULL, **group_tail = &group;
    size_t group_items = 0;
    int64_t group_start = 0;
    int rc = 0;

    for (;;) {
        pthread_mutex_lock(&ps->lock);
        while (!ps->head && !ps->scored)
            pthread_cond_wait(&ps->to_store, &ps->lock);
        struct pending *pd = list_take(&ps->head, &ps->tail);
        if (pd) {
            ps->queued_items -= pd->nitems;
            pthread_cond_broadcast(&ps->room);
        }
        int stop = !pd && ps->scored;
        /* A failed backfill keeps nothing: drop what still comes. */
        int discard = pd && ps->one_txn && ps->db_error;
        pthread_mutex_unlock(&ps->lock);
        if (stop)
            break;
        if (discard) {
            pending_free(pd);
            continue;
        }

        if (!group) {
            rc = es_inbox_begin(ps->ib);
            group_items = 0;
            group_start = now_ms();
        }
        pd->next = NULL;
        if (rc >= 0)
            rc = pd->is ? store_pending(ps->ig, pd) : store_chunk(ps->ib, pd);
        /* Only the counts wait for the commit: free the items now. */
        group_items += pd->nitems;
        for (size_t i = 0; i < pd->nitems; i++)
            es_item_free(pd->items[i]);
        pd->nitems = 0;
        free(pd->scores);
        pd->scores = NULL;
        *group_tail = pd;
        group_tail = &pd->next;
        if (rc < 0 || (!ps->one_txn && (group_items >= GROUP_ITEMS ||
                                        now_ms() - group_start >= GROUP_MS))) {
            finish_group(ps, &group, rc);
            group_tail = &group;
            rc = 0;
        }
    }
    if (group) {
        /* The producer may have failed after handing items over. */
        pthread_mutex_lock(&ps->lock);
        if (rc >= 0 && ps->db_error)
            rc = ps->db_error;
        pthread_mutex_unlock(&ps->lock);
        finish_group(ps, &group, rc);
    }
    return NULL;
}

/* Starts the scorer and writer threads of @ps. */
static int pass_start(struct pass *ps)
{
    pthread_mutex_init(&ps->lock, NULL);
    pthread_cond_init(&ps->to_score, NULL);
    pthread_cond_init(&ps->to_store, NULL);
    pthread_cond_init(&ps->room, NULL);
    if (pthread_create(&ps->scorer, NULL, scorer_main, ps) != 0)
        goto fail;
    if (pthread_create(&ps->writer, NULL, writer_main, ps) != 0) {
        pthread_mutex_lock(&ps->lock);
        ps->done = 1;
        pthread_cond_signal(&ps->to_score);
        pthread_mutex_unlock(&ps->lock);
        pthread_join(ps->scorer, NULL);
        goto fail;
    }
    return 0;
fail:
    pthread_cond_destroy(&ps->to_score);
    pthread_cond_destroy(&ps->to_store);
    pthread_cond_destroy(&ps->room);
    pthread_mutex_destroy(&ps->lock);
    return es_error_set(ES_ERROR, "cannot start the scorer and writer threads");
}

/* Tells the threads nothing more will come, waits for the writer to
 * commit, and returns its first store error (with its message set). */
static int pass_finish(struct pass *ps)
{
    pthread_mutex_lock(&ps->lock);
    ps->done = 1;
    pthread_cond_signal(&ps->to_score);
    pthread_mutex_unlock(&ps->lock);
    pthread_join(ps->scorer, NULL);
    pthread_join(ps->writer, NULL);
    pthread_cond_destroy(&ps->to_score);
    pthread_cond_destroy(&ps->to_store);
    pthread_cond_destroy(&ps->room);
    pthread_mutex_destroy(&ps->lock);
    if (ps->db_error < 0)
        es_error_set(ps->db_error, "%s", ps->db_msg);
    return ps->db_error;
}

/* Tries each broken source that this pass would poll again: one that
 * opens now (the token file is there) joins the sources and is polled
 * with them; the others are reported as failing and their health rows
 * record it (backoff, last error), in one transaction of its own. Adds
 * the failures to *npolled; sets *found for @only. */
static int poll_broken(struct es_ingest *ig, unsigned flags, const char *only,
                       es_ingest_report_cb cb, void *payload, size_t *npolled,
                       int *found)
{
    int64_t now = es_time_now();
    int rc = 0, began = 0;
    for (size_t i = 0; i < ig->nbroken && rc == 0; i++) {
        const struct es_config_source *cs = ig->broken[i].cs;
        if (only ? strcmp(cs->name, only) != 0 : !cs->enabled)
            continue;
        if (only)
            *found = 1;
        struct es_source_health h;
        rc = es_inbox_health_get(ig->ib, cs->name, &h);
        if (rc == ES_ENOTFOUND) {
            memset(&h, 0, sizeof(h));
            h.name = es_xstrdup(cs->name);
            h.last_success = ES_TIME_UNKNOWN;
            h.next_poll = ES_TIME_UNKNOWN;
            rc = 0;
        } else if (rc < 0) {
            break;
        }
        if (!only && !(flags & ES_INGEST_ALL) &&
            h.next_poll != ES_TIME_UNKNOWN && h.next_poll > now) {
            es_source_health_release(&h);
            continue;
        }
        if (!began && (rc = es_inbox_begin(ig->ib)) == 0)
            began = 1;
        struct ingest_source *is = &ig->sources[ig->nsources];
        if (rc == 0 && es_source_open(&is->src, cs) == 0) {
            rc = es_inbox_source_ensure(ig->ib, cs->name, cs->type, &is->id);
            if (rc < 0) { /* stays broken; the pass fails with the store */
                es_source_free(is->src);
                is->src = NULL;
                es_source_health_release(&h);
                break;
            }
            ig->nsources++;
            free(ig->broken[i].error);
            ig->broken[i--] = ig->broken[--ig->nbroken];
            es_source_health_release(&h);
            continue;
        }
        free(ig->broken[i].error);
        ig->broken[i].error = es_xstrdup(es_error_last());
        h.last_attempt = now;
        health_failed(ig, &h, now, cs->interval > 0 ? cs->interval : 900,
                      ig->broken[i].error, -1);
        if (rc == 0)
            rc = es_inbox_health_put(ig->ib, &h);
        if (rc == 0 && cb) {
            struct es_ingest_report rep = {
                .source = cs->name,
                .status = ES_EINVALID,
                .error = ig->broken[i].error,
                .next_poll = h.next_poll,
            };
            cb(&rep, payload);
        }
        es_source_health_release(&h);
        ++*npolled;
    }
    if (began && rc == 0)
        rc = es_inbox_commit(ig->ib);
    else if (began)
        es_inbox_rollback(ig->ib);
    return rc;
}

int es_ingest_poll(struct es_ingest *ig, unsigned flags, const char *only,
                   es_ingest_report_cb cb, void *payload, size_t *npolled)
{
    int rc = 0;
    /* Room for every source: a broken one may open in this pass. */
    size_t cap = ig->nsources + ig->nbroken + 1;
    struct es_poll_job *jobs = es_xcalloc(cap, sizeof(*jobs));
    struct es_source_health *hs = es_xcalloc(cap, sizeof(*hs));
    size_t njobs = 0;
    int64_t now = es_time_now();
    int found = 0, reading = 0;
    size_t nbroken = 0;

    rc = poll_broken(ig, flags, only, cb, payload, &nbroken, &found);
    if (rc < 0)
        goto done;
    rc = es_inbox_read_begin(ig->ib);
    if (rc < 0)
        goto done;
    reading = 1;
    for (size_t i = 0; i < ig->nsources; i++) {
        struct es_source *src = ig->sources[i].src;
        if (only) {
            if (strcmp(src->name, only) != 0)
                continue;
            found = 1;
        } else if (!src->enabled) {
            continue;
        }
        struct es_source_health *h = &hs[njobs];
        rc = es_inbox_health_get(ig->ib, src->name, h);
        if (rc == ES_ENOTFOUND) {
            memset(h, 0, sizeof(*h));
            h->next_poll = ES_TIME_UNKNOWN;
            rc = 0;
        } else if (rc < 0) {
            goto done;
        }
        int due = only || (flags & ES_INGEST_ALL) ||
                  h->next_poll == ES_TIME_UNKNOWN || h->next_poll <= now;
        if (!due) {
            es_source_health_release(h);
            continue;
        }
        jobs[njobs].src = src;
        jobs[njobs].etag = h->etag;
        jobs[njobs].last_modified = h->last_modified;
        jobs[njobs].cursor = h->cursor;
        njobs++;
    }
    es_inbox_read_end(ig->ib);
    reading = 0;
    if (only && !found) {
        rc = es_error_set(ES_ENOTFOUND, "no source named '%s' in the config",
                          only);
        goto done;
    }
    if (njobs) {
        struct pass ps = {
            .ig = ig,
            .sc = ig->sc,
            .ib = ig->ib,
            .cb = cb,
            .payload = payload,
        };
        rc = pass_start(&ps);
        if (rc == 0) {
            es_poller_run(ig->poller, jobs, njobs, on_result, &ps);
            rc = pass_finish(&ps);
        }
    }
done:
    if (reading)
        es_inbox_read_end(ig->ib);
    if (npolled)
        *npolled = njobs + nbroken;
    for (size_t i = 0; i < njobs; i++)
        es_source_health_release(&hs[i]);
    free(hs);
    free(jobs);
    return rc;
}

int64_t es_ingest_next_due(struct es_ingest *ig)
{
    int64_t best = ES_TIME_UNKNOWN;
    if (es_inbox_read_begin(ig->ib) < 0)
        return es_time_now();
    for (size_t i = 0; i < ig->nsources; i++) {
        struct es_source *src = ig->sources[i].src;
        struct es_source_health h;
        if (!src->enabled)
            continue;
        if (es_inbox_health_get(ig->ib, src->name, &h) < 0) {
            es_inbox_read_end(ig->ib);
            return es_time_now();
        }
        int64_t t =
            h.next_poll == ES_TIME_UNKNOWN ? es_time_now() : h.next_poll;
        es_source_health_release(&h);
        if (best == ES_TIME_UNKNOWN || t < best)
            best = t;
    }
    es_inbox_read_end(ig->ib);
    return best;
}

/* ==== Streaming a local feed document into the store ==== */

/* Items go to the writer in chunks: small enough to keep memory flat on a
 * document of any size, large enough that the queue is not the cost. */
enum { CHUNK_ITEMS = 512 };

struct file_ingest {
    struct pass *ps;
    int64_t source_id;
    int64_t now;
    struct pending *chunk; /* being filled by the parser */
    int stop;              /* the writer failed: stop parsing */
};

static void flush_chunk(struct file_ingest *fi)
{
    if (!fi->chunk)
        return;
    enqueue(fi->ps, fi->chunk);
    fi->chunk = NULL;
    pthread_mutex_lock(&fi->ps->lock);
    fi->stop = fi->ps->db_error;
    pthread_mutex_unlock(&fi->ps->lock);
}

static int queue_entry(const struct es_item *item, void *payload)
{
    struct file_ingest *fi = payload;
    struct pending *pd = fi->chunk;
    if (!pd) {
        pd = fi->chunk = es_xcalloc(1, sizeof(*pd));
        pd->source_id = fi->source_id;
        pd->items = es_xmalloc(CHUNK_ITEMS * sizeof(*pd->items));
    }
    /* The parser reuses its item: the writer needs its own copy, packed
     * in one allocation (one malloc and free instead of a dozen). */
    struct es_item *copy = es_item_pack(item);
    copy->fetched_at = fi->now;
    pd->items[pd->nitems++] = copy;
    if (pd->nitems == CHUNK_ITEMS)
        flush_chunk(fi);
    /* A store failure stops the parse: nothing more would be kept. */
    return fi->stop;
}

/* The writer's report callback: adds a chunk's counts to the total. */
static void sum_chunk(const struct es_ingest_report *r, void *payload)
{
    struct es_ingest_report *total = payload;
    total->nnew += r->nnew;
    total->nupdated += r->nupdated;
    total->nunchanged += r->nunchanged;
}

int es_ingest_feed_fd(struct es_inbox *ib, const struct es_scorer *sc, int fd,
                      const char *source_name, const char *base_url,
                      struct es_ingest_report *report)
{
    int rc;
    int64_t sid;
    struct es_feed_parser *p = NULL;

    memset(report, 0, sizeof(*report));
    report->source = source_name;
    rc = es_inbox_source_ensure(ib, source_name, "rss", &sid);
    if (rc < 0)
        goto done;

    /* The parser runs here, scoring and the store in their threads: the
     * three overlap, and the whole document is still one transaction. */
    assert(sc);
    struct pass ps = {
        .sc = sc,
        .ib = ib,
        .one_txn = 1,
        .cb = sum_chunk,
        .payload = report,
    };
    rc = pass_start(&ps);
    if (rc < 0)
        goto done;

    struct file_ingest fi = { &ps, sid, es_time_now(), NULL, 0 };
    struct es_feed_opts opts = {
        .source = source_name,
        .base_url = base_url,
        .max_size = (size_t)1 << 40, /* a local backfill: no size cap */
    };
    p = es_feed_parser_new(&opts, queue_entry, &fi);
    rc = es_feed_parser_push_fd(p, fd);
    if (rc == 0) {
        rc = es_feed_parser_finish(p);
        if (rc == ES_EPARSE && es_feed_parser_count(p) > 0) {
            /* Recovered entries are kept; the caller still hears why. */
            report->error = es_feed_parser_error(p);
            report->status = ES_EPARSE;
            rc = 0;
        }
    }
    flush_chunk(&fi);
    if (rc != 0) {
        /* Make the writer roll back: nothing of a failed read is kept. */
        char msg[512];
        snprintf(msg, sizeof(msg), "%s", es_error_last());
        pthread_mutex_lock(&ps.lock);
        if (!ps.db_error) {
            ps.db_error = rc < 0 ? rc : ES_ERROR;
            snprintf(ps.db_msg, sizeof(ps.db_msg), "%s", msg);
        }
        pthread_mutex_unlock(&ps.lock);
    }
    int wrc = pass_finish(&ps);
    if (rc == 0)
        rc = wrc;
done:
    if (rc < 0) {
        report->status = rc;
        report->nnew = report->nupdated = report->nunchanged = 0;
    }
    /* report->error points into the parser: keep a copy in the error
     * buffer so it outlives the parser. */
    if (report->error) {
        es_error_set(ES_EPARSE, "%s", report->error);
        report->error = es_error_last();
    }
    es_feed_parser_free(p);
    return rc;
}

/* ==== Rescoring ==== */

/* One batch of a rescore: what was read and the new scores. */
struct rescore_batch {
    const struct es_scorer *sc;
    int64_t now;
    int64_t upto;          /* the last id when the rescore began */
    struct es_mention *ms; /* id, title, text and old scores only */
    struct es_scores *scores;
    size_t n;
};

/* es_inbox_scan's callback: scores @m and keeps what the write needs. */
static int rescore_one(const struct es_mention *m, void *payload)
{
    struct rescore_batch *b = payload;
    /* Mentions stored since the start were scored as they came. */
    if (m->id > b->upto)
        return 1;
    struct es_mention *keep = &b->ms[b->n];
    memset(keep, 0, sizeof(*keep));
    es_item_init(&keep->item);
    keep->id = m->id;
    keep->item.title = es_xstrdup(m->item.title);
    keep->item.text = es_xstrdup(m->item.text);
    keep->scored = m->scored;
    keep->label = m->label;
    keep->prioritised = m->prioritised;
    keep->priority = m->priority;
    es_scorer_score(b->sc, &m->item, b->now, &b->scores[b->n]);
    b->n++;
    return 0;
}

int es_ingest_rescore(struct es_inbox *ib, const struct es_scorer *sc,
                      int batch, es_rescore_progress_cb cb, void *payload,
                      struct es_rescore_report *out)
{
    struct rescore_batch b = { .sc = sc };
    int64_t after = 0;
    int rc = 0;

    assert(ib && sc && out);
    memset(out, 0, sizeof(*out));
    if (batch <= 0)
        batch = 500;
    b.upto = es_inbox_last_id(ib);
    if (b.upto < 0)
        return (int)b.upto;
    b.ms = es_xcalloc((size_t)batch, sizeof(*b.ms));
    b.scores = es_xmalloc((size_t)batch * sizeof(*b.scores));
    for (;;) {
        /* Read and score outside any transaction: a poller can write
         * meanwhile. Only the writes below take the lock. */
        b.n = 0;
        b.now = es_time_now();
        rc = es_inbox_scan(ib, after, batch, rescore_one, &b, &after);
        if (rc < 0 || b.n == 0)
            break;
        int last_batch = rc == 1; /* reached mentions newer than upto */
        size_t nscored = 0, nchanged = 0, nskipped = 0;
        rc = es_inbox_begin(ib);
        for (size_t i = 0; rc >= 0 && i < b.n; i++) {
            int changed = 0;
            rc = es_inbox_set_scores(ib, &b.ms[i], &b.scores[i], &changed);
            if (rc == ES_ENOTFOUND) {
                nskipped++;
                rc = 0;
            } else if (rc == 0) {
                nscored++;
                nchanged += (size_t)changed;
            }
        }
        if (rc >= 0)
            rc = es_inbox_commit(ib);
        if (rc < 0) {
            /* Nothing of this batch is kept or counted; earlier ones are
             * kept. */
            es_inbox_rollback(ib);
            break;
        }
        out->nscored += nscored;
        out->nchanged += nchanged;
        out->nskipped += nskipped;
        out->nbatches++;
        for (size_t i = 0; i < b.n; i++)
            es_mention_release(&b.ms[i]);
        b.n = 0;
        if (cb)
            cb(out, payload);
        if (last_batch)
            break;
    }
    for (size_t i = 0; i < b.n; i++)
        es_mention_release(&b.ms[i]);
    free(b.ms);
    free(b.scores);
    return rc < 0 ? rc : 0;
}
