/* explain.c - why an alert fired: its mentions, terms, sources and authors
 *
 * An alert that only says "42 negative mentions, 7 expected" sends someone
 * digging; this file does the digging once, when the alert is written, and
 * stores the answer in alerts.explanation (the JSON documented in
 * include/earshot/alerts.h) for `earshot alerts`, the notifier and the web
 * page. It reads the rule's mentions of the spike's window and of the 7
 * days before it (the same series, the same condition as the counts, from
 * engine.h):
 *
 * - top mentions: the highest priority first, then the most negative;
 * - terms: words whose share of the spike's mentions is well above their
 *   share of the baseline's (a log ratio of document frequencies, with a
 *   half-count prior), kept when at least 2 and 2% of the spike's mentions
 *   hold them, ranked by that ratio. English stopwords are left out (a
 *   short list of our own: the classifier's lists live inside the
 *   classifier library, which this module does not link);
 * - sources and authors: who and where the spike's mentions came from.
 *
 * The baseline's terms are sampled (every k-th mention) when its week
 * holds more than BASE_SAMPLE mentions, so a busy series costs a bounded
 * scan. Ties are broken by name or id, so an explanation is deterministic.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "collectors/json.h"
#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/item.h"
#include "engine.h"
#include "strmap.h"

#define TOP_MENTIONS   5
#define TOP_TERMS      10
#define TOP_NAMES      5
#define TEXT_MAX       280 /* bytes of a top mention's text */
#define BASE_DAYS      7
#define BASE_SAMPLE    20000 /* baseline mentions read, at most about */
#define WORD_MAX       40    /* longer tokens are not words */
#define TERM_MIN_RATIO 1.5   /* a term is at least this over-represented */

#define EXPLAIN_SQL(cond)                                                      \
    "SELECT m.id, m.author, s.name, m.title, m.text, m.sentiment,"             \
    " m.priority, m.url FROM mentions m JOIN sources s ON s.id = m.source_id"  \
    " WHERE m.id >= ?3 AND " ES_ALERTS__TIME " >= ?1 AND " ES_ALERTS__TIME     \
    " < ?2 AND " cond " ORDER BY m.id"

static const char *const explain_sql[] = {
    [ES_SERIES_LABEL] = EXPLAIN_SQL(ES_ALERTS__COND_LABEL),
    [ES_SERIES_ALL] = EXPLAIN_SQL(ES_ALERTS__COND_ALL),
    [ES_SERIES_SOURCE] = EXPLAIN_SQL(ES_ALERTS__COND_SOURCE),
    [ES_SERIES_PLATFORM] = EXPLAIN_SQL(ES_ALERTS__COND_PLATFORM),
    [ES_SERIES_TAG] = EXPLAIN_SQL(ES_ALERTS__COND_TAG),
    [ES_SERIES_QUERY] = EXPLAIN_SQL(ES_ALERTS__COND_QUERY),
};

enum { C_ID, C_AUTHOR, C_SOURCE, C_TITLE, C_TEXT, C_SENT, C_PRIO, C_URL };

/* Sorted, for bsearch. */
static const char *const stopwords[] = {
    "about",   "above",  "after",   "again",    "against", "all",
    "also",    "and",    "any",     "are",      "aren't",  "because",
    "been",    "before", "being",   "below",    "between", "both",
    "but",     "can",    "can't",   "cannot",   "could",   "couldn't",
    "did",     "didn't", "does",    "doesn't",  "doing",   "don't",
    "down",    "during", "each",    "even",     "every",   "few",
    "for",     "from",   "further", "get",      "gets",    "got",
    "had",     "hadn't", "has",     "hasn't",   "have",    "haven't",
    "having",  "her",    "here",    "hers",     "herself", "him",
    "himself", "his",    "how",     "i'm",      "i've",    "into",
    "isn't",   "it's",   "its",     "itself",   "just",    "let's",
    "like",    "more",   "most",    "much",     "must",    "myself",
    "nor",     "not",    "now",     "off",      "once",    "one",
    "only",    "other",  "our",     "ours",     "out",     "over",
    "own",     "really", "same",    "she",      "should",  "since",
    "some",    "still",  "such",    "than",     "that",    "that's",
    "the",     "their",  "them",    "then",     "there",   "these",
    "they",    "this",   "those",   "through",  "too",     "under",
    "until",   "very",   "was",     "wasn't",   "were",    "weren't",
    "what",    "when",   "where",   "which",    "while",   "who",
    "whom",    "why",    "will",    "with",     "won't",   "would",
    "you",     "your",   "yours",   "yourself",
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int is_stopword(const char *w)
{
    return bsearch(&w, stopwords, sizeof(stopwords) / sizeof(*stopwords),
                   sizeof(*stopwords), cmp_str) != NULL;
}

/* ==== Counting names and terms ==== */

/* A name (term, source, author) with its counts. */
struct tally {
    char *name;
    long spike;    /* spike mentions holding it */
    long base;     /* baseline mentions holding it */
    long last_doc; /* the last mention counted, to count each once */
    double score;  /* terms: the log ratio */
};

struct tallies {
    struct es_strmap index; /* name -> position + 1 */
    struct tally *v;
    size_t n, cap;
};

static struct tally *tally_get(struct tallies *t, const char *name)
{
    void *pos;
    if (es_strmap_get(&t->index, name, &pos))
        return &t->v[(size_t)(uintptr_t)pos - 1];
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->v = es_xrealloc(t->v, t->cap * sizeof(*t->v));
    }
    struct tally *e = &t->v[t->n++];
    memset(e, 0, sizeof(*e));
    e->name = es_xstrdup(name);
    e->last_doc = -1;
    es_strmap_put(&t->index, name, (void *)(uintptr_t)t->n);
    return e;
}

static void tallies_release(struct tallies *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->v[i].name);
    free(t->v);
    es_strmap_clear(&t->index);
    memset(t, 0, sizeof(*t));
}

/* Most spike mentions first, then by name. */
static int cmp_count(const void *a, const void *b)
{
    const struct tally *x = a, *y = b;
    if (x->spike != y->spike)
        return x->spike > y->spike ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Highest score first, then most mentions, then by name. */
static int cmp_score(const void *a, const void *b)
{
    const struct tally *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return cmp_count(a, b);
}

/* Counts each word of @s once for document @doc: into ->spike when
 * @spike, else ->base. Words: runs of ASCII letters, digits, _ ' and
 * any non-ASCII byte (so accented and non-Latin words stay whole), ASCII
 * lower-cased, trimmed of ', at least 3 bytes, not only digits, not a
 * stopword, not part of a link. */
static void count_words(struct tallies *t, const char *s, long doc, int spike)
{
    char w[WORD_MAX + 1];
    if (!s)
        return;
    while (*s) {
        size_t len = 0;
        int digits = 1, toolong = 0;
        const char *start = s;
        while (*s) {
            unsigned char c = (unsigned char)*s;
            int word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                       (c >= '0' && c <= '9') || c == '_' || c == '\'' ||
                       c >= 0x80;
            if (!word)
                break;
            if (len < WORD_MAX)
                w[len++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            else
                toolong = 1;
            if (c < '0' || c > '9')
                digits = 0;
            s++;
        }
        /* A link: skip the rest of it. */
        if (*s == ':' && s - start >= 4 &&
            (strncmp(start, "http", 4) == 0 ||
             strncmp(start, "HTTP", 4) == 0)) {
            while (*s && *s != ' ' && *s != '\n' && *s != '\t')
                s++;
            continue;
        }
        if (s == start) {
            s++;
            continue;
        }
        size_t a = 0;
        while (a < len && w[a] == '\'')
            a++;
        while (len > a && w[len - 1] == '\'')
            len--;
        w[len] = '\0';
        if (toolong || digits || len - a < 3 || is_stopword(w + a))
            continue;
        struct tally *e = tally_get(t, w + a);
        if (e->last_doc == doc)
            continue;
        e->last_doc = doc;
        if (spike)
            e->spike++;
        else
            e->base++;
    }
}

/* ==== Top mentions ==== */

struct top {
    int64_t id;
    int has_prio;
    long prio;
    int has_sent;
    double sent;
    char *author, *source, *text, *url;
};

/* Does @a rank above @b: priority, then negativity, then the older id. */
static int top_before(const struct top *a, const struct top *b)
{
    long pa = a->has_prio ? a->prio : -1, pb = b->has_prio ? b->prio : -1;
    if (pa != pb)
        return pa > pb;
    double sa = a->has_sent ? a->sent : 0, sb = b->has_sent ? b->sent : 0;
    if (sa != sb)
        return sa < sb;
    return a->id < b->id;
}

static void top_release(struct top *t)
{
    free(t->author);
    free(t->source);
    free(t->text);
    free(t->url);
    memset(t, 0, sizeof(*t));
}

static char *col_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *v = sqlite3_column_text(st, col);
    return v ? es_xstrdup((const char *)v) : NULL;
}

/* Keeps the row in @tops (sorted, at most TOP_MENTIONS) when it ranks. */
static void top_offer(struct top *tops, size_t *n, sqlite3_stmt *st)
{
    struct top c;
    memset(&c, 0, sizeof(c));
    c.id = sqlite3_column_int64(st, C_ID);
    c.has_prio = sqlite3_column_type(st, C_PRIO) != SQLITE_NULL;
    c.prio = (long)sqlite3_column_int64(st, C_PRIO);
    c.has_sent = sqlite3_column_type(st, C_SENT) != SQLITE_NULL;
    c.sent = sqlite3_column_double(st, C_SENT);
    if (*n == TOP_MENTIONS && !top_before(&c, &tops[*n - 1]))
        return;
    c.author = col_dup(st, C_AUTHOR);
    c.source = col_dup(st, C_SOURCE);
    c.text = col_dup(st, C_TEXT);
    if (!c.text || !*c.text) {
        free(c.text);
        c.text = col_dup(st, C_TITLE);
    }
    c.url = col_dup(st, C_URL);
    if (*n == TOP_MENTIONS)
        top_release(&tops[--*n]);
    size_t k = *n;
    while (k > 0 && top_before(&c, &tops[k - 1])) {
        tops[k] = tops[k - 1];
        k--;
    }
    tops[k] = c;
    (*n)++;
}

/* ==== Writing ==== */

/* Appends @s cut to at most @max bytes at a character boundary. */
static void add_cut(struct es_buf *out, const char *s, size_t max)
{
    size_t len = strlen(s);
    if (len > max) {
        len = max;
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
            len--;
    }
    es_buf_add_json_str(out, s, len);
}

/* Appends a finite number (JSON has no NaN or infinity). */
static void add_num(struct es_buf *out, double v)
{
    if (!isfinite(v))
        v = 0;
    es_buf_addf(out, "%.4g", v);
}

/* Appends [["name", n], ...] of the first @max of @t (already sorted)
 * that @keep accepts. */
static void add_pairs(struct es_buf *out, const struct tallies *t, size_t max,
                      int terms)
{
    size_t shown = 0;
    es_buf_addch(out, '[');
    for (size_t i = 0; i < t->n && shown < max; i++) {
        const struct tally *e = &t->v[i];
        if (terms && e->score <= 0)
            break; /* sorted: the rest is not over-represented */
        if (e->spike <= 0)
            continue;
        if (shown++)
            es_buf_addch(out, ',');
        es_buf_addch(out, '[');
        es_json_add_str(out, e->name);
        es_buf_addf(out, ",%ld]", e->spike);
    }
    es_buf_addch(out, ']');
}

/* Runs the window [@from, @to) of @rule, calling per row. */
static int scan(sqlite3 *db, const struct es_alert_rule *rule, int64_t from,
                int64_t to, int spike, long stride, struct tallies *terms,
                struct tallies *sources, struct tallies *authors,
                struct top *tops, size_t *ntops, long *docs)
{
    sqlite3_stmt *st = NULL;
    int step;
    long seen = 0;
    if (sqlite3_prepare_v2(db, explain_sql[rule->kind], -1, &st, NULL) !=
        SQLITE_OK)
        return es_error_set(ES_EDB, "alert '%s': %s", rule->name,
                            sqlite3_errmsg(db));
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, to);
    sqlite3_bind_int64(st, 3, es_alerts__min_id(db, from - 86400));
    es_alerts__bind_arg(st, rule);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        const char *title = (const char *)sqlite3_column_text(st, C_TITLE);
        const char *text = (const char *)sqlite3_column_text(st, C_TEXT);
        const char *author = (const char *)sqlite3_column_text(st, C_AUTHOR);
        if (!es_alerts__query_match(rule, title, text, author))
            continue;
        if (!spike && seen++ % stride != 0)
            continue;
        long doc = (long)sqlite3_column_int64(st, C_ID);
        /* Spike and baseline mentions are different rows: the doc id keeps
         * a word counted once per mention across both title and text. */
        count_words(terms, title, doc, spike);
        count_words(terms, text, doc, spike);
        (*docs)++;
        if (!spike)
            continue;
        const char *source = (const char *)sqlite3_column_text(st, C_SOURCE);
        if (source)
            tally_get(sources, source)->spike++;
        if (author && *author)
            tally_get(authors, author)->spike++;
        top_offer(tops, ntops, st);
    }
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return es_error_set(ES_EDB, "alert '%s': %s", rule->name,
                            sqlite3_errmsg(db));
    return 0;
}

int es_alerts__explain(sqlite3 *db, const struct es_alert_rule *rule,
                       const struct es_alerts__spike *sp, struct es_buf *out)
{
    struct tallies terms, sources, authors;
    struct top tops[TOP_MENTIONS];
    size_t ntops = 0;
    long nspike = 0, nbase = 0;
    int rc;

    memset(&terms, 0, sizeof(terms));
    memset(&sources, 0, sizeof(sources));
    memset(&authors, 0, sizeof(authors));
    rc = scan(db, rule, sp->started_at, sp->until, 1, 1, &terms, &sources,
              &authors, tops, &ntops, &nspike);
    if (rc < 0)
        goto done;
    long stride = sp->base_rows > BASE_SAMPLE ? sp->base_rows / BASE_SAMPLE : 1;
    rc = scan(db, rule, sp->started_at - BASE_DAYS * 86400, sp->started_at, 0,
              stride, &terms, &sources, &authors, tops, &ntops, &nbase);
    if (rc < 0)
        goto done;

    /* Terms: the log ratio of the spike's document frequency to the
     * baseline's, each with a half-count prior; kept when at least 2 and
     * 2% of the spike's mentions hold the word and it is at least
     * TERM_MIN_RATIO times as frequent. */
    long need = nspike / 50 > 2 ? nspike / 50 : 2;
    for (size_t i = 0; i < terms.n; i++) {
        struct tally *e = &terms.v[i];
        double fs = (e->spike + 0.5) / (nspike + 1.0);
        double fb = (e->base + 0.5) / (nbase + 1.0);
        e->score = e->spike >= need ? log(fs / fb) : 0;
        if (e->score < log(TERM_MIN_RATIO))
            e->score = 0;
    }
    qsort(terms.v, terms.n, sizeof(*terms.v), cmp_score);
    qsort(sources.v, sources.n, sizeof(*sources.v), cmp_count);
    qsort(authors.v, authors.n, sizeof(*authors.v), cmp_count);

    es_buf_adds(out, "{\"rule\":");
    es_json_add_str(out, rule->name);
    es_buf_adds(out, ",\"series\":");
    es_json_add_str(out, rule->series);
    es_buf_adds(out, ",\"bucket\":");
    es_json_add_str(out, rule->bucket_name);
    es_buf_adds(out, ",\"started_at\":");
    es_json_add_time(out, sp->started_at);
    es_buf_adds(out, ",\"ended_at\":");
    es_json_add_time(out, sp->ended_at);
    es_buf_addf(out,
                ",\"buckets\":%zu,\"observed\":%ld,\"expected\":", sp->buckets,
                sp->observed);
    add_num(out, sp->expected);
    es_buf_adds(out, ",\"score\":");
    add_num(out, sp->score);
    es_buf_addf(out, ",\"peak\":%ld,\"baseline\":", sp->peak);
    es_json_add_str(out, sp->level);
    es_buf_addf(out, ",\"mentions\":%ld,\"top_mentions\":[", nspike);
    for (size_t i = 0; i < ntops; i++) {
        const struct top *t = &tops[i];
        es_buf_addf(out, "%s{\"id\":%lld,\"author\":", i ? "," : "",
                    (long long)t->id);
        es_json_add_str(out, t->author);
        es_buf_adds(out, ",\"source\":");
        es_json_add_str(out, t->source);
        es_buf_adds(out, ",\"text\":");
        if (t->text)
            add_cut(out, t->text, TEXT_MAX);
        else
            es_buf_adds(out, "null");
        es_buf_adds(out, ",\"sentiment\":");
        if (t->has_sent)
            add_num(out, t->sent);
        else
            es_buf_adds(out, "null");
        es_buf_adds(out, ",\"priority\":");
        if (t->has_prio)
            es_buf_addf(out, "%ld", t->prio);
        else
            es_buf_adds(out, "null");
        es_buf_adds(out, ",\"url\":");
        es_json_add_str(out, t->url);
        es_buf_addch(out, '}');
    }
    es_buf_adds(out, "],\"terms\":");
    add_pairs(out, &terms, TOP_TERMS, 1);
    es_buf_adds(out, ",\"sources\":");
    add_pairs(out, &sources, TOP_NAMES, 0);
    es_buf_adds(out, ",\"authors\":");
    add_pairs(out, &authors, TOP_NAMES, 0);
    es_buf_addch(out, '}');
done:
    for (size_t i = 0; i < ntops; i++)
        top_release(&tops[i]);
    tallies_release(&terms);
    tallies_release(&sources);
    tallies_release(&authors);
    return rc;
}
