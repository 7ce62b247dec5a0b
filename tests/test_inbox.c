/* test_inbox.c - the SQLite inbox: schema, dedupe, search, health, crashes
 *
 * Most tests run on ":memory:"; the ones about files (migrations, re-open,
 * a writer killed mid-batch) use a fresh directory under /tmp made with
 * mkdtemp and removed afterwards. SQL is used directly only to play the
 * parts other modules will own (setting a state, a score) and to check what
 * was really stored.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* cmocka.h needs setjmp.h, stdarg.h and stddef.h first. */
#include <cmocka.h>

#include <sqlite3.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/inbox.h"
#include "earshot/ingest.h"
#include "earshot/item.h"
#include "inbox/store.h"

/* ==== Fixtures and helpers ==== */

struct tmpdb {
    char dir[64];
    char path[128];
};

static int tmp_setup(void **state)
{
    struct tmpdb *t = es_xcalloc(1, sizeof(*t));
    snprintf(t->dir, sizeof(t->dir), "/tmp/es-inbox-XXXXXX");
    if (!mkdtemp(t->dir)) {
        free(t);
        return -1;
    }
    snprintf(t->path, sizeof(t->path), "%s/inbox.db", t->dir);
    *state = t;
    return 0;
}

static int tmp_teardown(void **state)
{
    struct tmpdb *t = *state;
    char p[160];
    static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        snprintf(p, sizeof(p), "%s%s", t->path, suffix[i]);
        unlink(p);
    }
    snprintf(p, sizeof(p), "%s/junk", t->dir);
    unlink(p);
    rmdir(t->dir);
    free(t);
    return 0;
}

static int mem_setup(void **state)
{
    struct es_inbox *ib = NULL;
    if (es_inbox_open(&ib, ":memory:") < 0)
        return -1;
    *state = ib;
    return 0;
}

static int mem_teardown(void **state)
{
    es_inbox_free(*state);
    return 0;
}

/* Fills @it (initialised) with a plain post. */
static void fill_item(struct es_item *it, const char *ext, const char *title,
                      const char *text)
{
    es_item_release(it);
    it->platform = es_xstrdup("rss");
    it->external_id = es_xstrdup(ext);
    it->title = es_xstrdup(title);
    it->text = es_xstrdup(text);
    it->author = es_xstrdup("someone");
}

static int64_t add_source(struct es_inbox *ib, const char *name)
{
    int64_t id = 0;
    assert_int_equal(es_inbox_source_ensure(ib, name, "rss", &id), 0);
    assert_true(id > 0);
    return id;
}

static enum es_put_result put(struct es_inbox *ib, int64_t src,
                              const struct es_item *it, int64_t *id)
{
    enum es_put_result res = -1;
    int rc = es_inbox_put(ib, src, it, NULL, &res, id);
    if (rc != 0)
        fail_msg("es_inbox_put: %s", es_error_last());
    return res;
}

/* Stores mention @ext of @src with @text (title "t") through @it. */
static enum es_put_result put_text(struct es_inbox *ib, int64_t src,
                                   struct es_item *it, const char *ext,
                                   const char *text)
{
    fill_item(it, ext, "t", text);
    return put(ib, src, it, NULL);
}

/* Scores as the classifier would hand them in. */
static struct es_scores make_scores(double compound, int label, int priority,
                                    const char *reasons, const char *lang)
{
    struct es_scores sc;
    memset(&sc, 0, sizeof(sc));
    sc.sentiment = compound;
    sc.neg = compound < 0 ? -compound : 0;
    sc.pos = compound > 0 ? compound : 0;
    sc.neu = 1 - sc.neg - sc.pos;
    sc.label = label;
    sc.priority = priority;
    snprintf(sc.reasons, sizeof(sc.reasons), "%s", reasons);
    snprintf(sc.lang, sizeof(sc.lang), "%s", lang);
    return sc;
}

static enum es_put_result put_scored(struct es_inbox *ib, int64_t src,
                                     const struct es_item *it,
                                     const struct es_scores *sc, int64_t *id)
{
    enum es_put_result res = -1;
    if (es_inbox_put(ib, src, it, sc, &res, id) != 0)
        fail_msg("es_inbox_put: %s", es_error_last());
    return res;
}

/* Runs @sql with optional text arguments bound in order, and returns the
 * first column of its first row as an integer (-999 when no row). */
static long long sql_int(struct es_inbox *ib, const char *sql, ...)
{
    sqlite3 *db = es_inbox__db(ib);
    sqlite3_stmt *stmt = NULL;
    long long v = -999;
    va_list ap;

    if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    va_start(ap, sql);
    for (int i = 1; i <= sqlite3_bind_parameter_count(stmt); i++)
        sqlite3_bind_text(stmt, i, va_arg(ap, const char *), -1,
                          SQLITE_TRANSIENT);
    va_end(ap);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        v = sqlite3_column_int64(stmt, 0);
    else if (rc != SQLITE_DONE)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_finalize(stmt);
    return v;
}

static void sql_exec(struct es_inbox *ib, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(es_inbox__db(ib), sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err);
}

/* Fails unless the search index matches the rows of mentions it is
 * built from (rank 1: checked against their content, not only itself). */
static void assert_index_intact(struct es_inbox *ib)
{
    sql_exec(ib, "INSERT INTO mentions_fts (mentions_fts, rank)"
                 " VALUES ('integrity-check', 1)");
}

/* Collects listed mentions' external ids, joined by ','. */
struct collect {
    char ids[1024];
    int n;
    int stop_after; /* > 0: return 42 after that many */
};

static int collect_cb(const struct es_mention *m, void *payload)
{
    struct collect *c = payload;
    size_t len = strlen(c->ids);
    snprintf(c->ids + len, sizeof(c->ids) - len, "%s%s", len ? "," : "",
             m->item.external_id);
    c->n++;
    if (c->stop_after > 0 && c->n >= c->stop_after)
        return 42;
    return 0;
}

static int search_count(struct es_inbox *ib, const char *q)
{
    struct es_inbox_query query = { .search = q, .limit = 1000 };
    struct collect c = { .n = 0 };
    int rc = es_inbox_list(ib, &query, collect_cb, &c);
    if (rc != 0)
        fail_msg("search '%s': %s", q, es_error_last());
    return c.n;
}

/* About 400 bytes of text built from a small vocabulary, different for
 * every @i, with the marker word @tag in it. */
static void make_text(char *out, size_t size, long i, const char *tag)
{
    static const char *const words[] = {
        "the",      "battery", "support",  "refund",  "great",   "awful",
        "shipping", "screen",  "update",   "crashed", "love",    "broken",
        "customer", "service", "waited",   "weeks",   "quality", "price",
        "company",  "answer",  "replaced", "phone",   "laptop",  "slow",
    };
    size_t n = sizeof(words) / sizeof(words[0]), len;
    unsigned long x = (unsigned long)i * 2654435761UL + 12345;

    len = (size_t)snprintf(out, size, "%s item%ld", tag, i);
    while (len + 16 < size && len < 400) {
        x = x * 6364136223846793005UL + 1442695040888963407UL;
        len += (size_t)snprintf(out + len, size - len, " %s",
                                words[(x >> 33) % n]);
    }
}

/* ==== Opening and migrations ==== */

static void test_open_memory(void **state)
{
    struct es_inbox *ib = *state;
    assert_int_equal(es_inbox_schema_version(ib), ES_INBOX__LATEST);
    assert_true(ES_INBOX__LATEST >= 2);
    assert_int_equal(es_inbox_count(ib), 0);
    assert_int_equal(sql_int(ib, "PRAGMA foreign_keys"), 1);
    assert_int_equal(sql_int(ib, "PRAGMA busy_timeout"), 5000);
}

static void test_open_file_twice(void **state)
{
    struct tmpdb *t = *state;
    struct es_inbox *ib = NULL;
    struct es_item it;
    struct es_mention m;
    int64_t src, id = 0;

    assert_int_equal(es_inbox_open(&ib, t->path), 0);
    assert_int_equal(es_inbox_schema_version(ib), ES_INBOX__LATEST);
    assert_int_equal(sql_int(ib, "PRAGMA synchronous"), 1); /* NORMAL */
    {
        sqlite3_stmt *stmt = NULL;
        sqlite3_prepare_v2(es_inbox__db(ib), "PRAGMA journal_mode", -1, &stmt,
                           NULL);
        assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
        assert_string_equal(sqlite3_column_text(stmt, 0), "wal");
        sqlite3_finalize(stmt);
    }
    src = add_source(ib, "blog");
    es_item_init(&it);
    fill_item(&it, "a1", "First", "kept across opens");
    assert_int_equal(put(ib, src, &it, &id), ES_PUT_NEW);
    es_inbox_free(ib);

    /* Opening again runs no migration and keeps the data. */
    ib = NULL;
    assert_int_equal(es_inbox_open(&ib, t->path), 0);
    assert_int_equal(es_inbox_schema_version(ib), ES_INBOX__LATEST);
    assert_int_equal(es_inbox_count(ib), 1);
    assert_int_equal(es_inbox_get(ib, id, &m), 0);
    assert_string_equal(m.item.text, "kept across opens");
    assert_string_equal(m.item.source, "blog");
    es_mention_release(&m);
    assert_int_equal(search_count(ib, "across"), 1);
    assert_int_equal(put(ib, src, &it, NULL), ES_PUT_UNCHANGED);
    es_inbox_free(ib);
    es_item_release(&it);
}

/* mkstemp leaves an empty file: SQLite takes it as an empty database. */
static void test_open_empty_file(void **state)
{
    struct tmpdb *t = *state;
    struct es_inbox *ib = NULL;
    struct stat st;
    int fd;

    snprintf(t->path, sizeof(t->path), "%s/empty-XXXXXX", t->dir);
    fd = mkstemp(t->path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(stat(t->path, &st), 0);
    assert_int_equal(st.st_size, 0);
    assert_int_equal(es_inbox_open(&ib, t->path), 0);
    assert_int_equal(es_inbox_schema_version(ib), ES_INBOX__LATEST);
    assert_int_equal(es_inbox_count(ib), 0);
    es_inbox_free(ib);
}

/* A reader (the CLI, the web page) next to the writer: WAL shows it the
 * last commit while a batch is open, and the batch once committed. */
static void test_reader_beside_writer(void **state)
{
    struct tmpdb *t = *state;
    struct es_inbox *w = NULL, *r = NULL;
    struct es_item it;
    int64_t src;

    assert_int_equal(es_inbox_open(&w, t->path), 0);
    assert_int_equal(es_inbox_open(&r, t->path), 0);
    src = add_source(w, "feed");
    es_item_init(&it);
    fill_item(&it, "one", "t", "first");
    assert_int_equal(put(w, src, &it, NULL), ES_PUT_NEW);
    assert_int_equal(es_inbox_count(r), 1);

    assert_int_equal(es_inbox_begin(w), 0);
    fill_item(&it, "two", "t", "second");
    assert_int_equal(put(w, src, &it, NULL), ES_PUT_NEW);
    assert_int_equal(es_inbox_count(r), 1);
    assert_int_equal(search_count(r, "second"), 0);
    assert_int_equal(es_inbox_commit(w), 0);
    assert_int_equal(es_inbox_count(r), 2);
    assert_int_equal(search_count(r, "second"), 1);
    es_item_release(&it);
    es_inbox_free(r);
    es_inbox_free(w);
}

/* es_inbox_read_begin: the reads up to read_end see the database as it
 * was when the snapshot began, whatever another connection commits. */
static void test_read_snapshot(void **state)
{
    struct tmpdb *t = *state;
    struct es_inbox *w = NULL, *r = NULL;
    struct es_source_health h, got;
    char name[] = "feed";

    assert_int_equal(es_inbox_open(&w, t->path), 0);
    assert_int_equal(es_inbox_open(&r, t->path), 0);
    add_source(w, name);
    memset(&h, 0, sizeof(h));
    h.name = name;
    h.last_attempt = h.last_success = h.next_poll = ES_TIME_UNKNOWN;
    h.failures = 1;
    assert_int_equal(es_inbox_health_put(w, &h), 0);

    assert_int_equal(es_inbox_read_begin(r), 0);
    assert_int_equal(es_inbox_health_get(r, "feed", &got), 0);
    assert_int_equal(got.failures, 1);
    es_source_health_release(&got);
    h.failures = 2; /* committed by the writer meanwhile */
    assert_int_equal(es_inbox_health_put(w, &h), 0);
    assert_int_equal(es_inbox_health_get(r, "feed", &got), 0);
    assert_int_equal(got.failures, 1);
    es_source_health_release(&got);
    es_inbox_read_end(r);

    assert_int_equal(es_inbox_health_get(r, "feed", &got), 0);
    assert_int_equal(got.failures, 2);
    es_source_health_release(&got);
    /* Ending twice, or with no snapshot, is harmless. */
    es_inbox_read_end(r);
    es_inbox_free(r);
    es_inbox_free(w);
}

static void test_upgrade_from_v1(void **state)
{
    struct tmpdb *t = *state;
    struct es_inbox *ib = NULL;
    struct es_mention m;
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;

    /* A file written by an earshot that knew only version 1. */
    assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
    assert_int_equal(es_inbox__migrate(db, t->path, 1), 0);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO sources (id, name, type)"
                                  " VALUES (7, 'old', 'atom')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO mentions (source_id,"
                                        " external_id, title, text, author,"
                                        " state, first_seen, last_changed)"
                                        " VALUES (7, ?1, ?2, ?3, 'ann',"
                                        " 'resolved', 1, 1)",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(stmt, 1, "legacy-1", -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, "Vintage", -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, "stored before search existed", -1,
                      SQLITE_STATIC);
    assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
    sqlite3_finalize(stmt);
    assert_int_equal(
        sqlite3_exec(db, "SELECT * FROM mentions_fts", NULL, NULL, NULL),
        SQLITE_ERROR); /* no search table at version 1 */
    sqlite3_close(db);

    assert_int_equal(es_inbox_open(&ib, t->path), 0);
    assert_int_equal(es_inbox_schema_version(ib), ES_INBOX__LATEST);
    assert_int_equal(es_inbox_count(ib), 1);
    /* The upgrade indexed the row that was already there. */
    assert_int_equal(search_count(ib, "existed"), 1);
    assert_int_equal(search_count(ib, "vintage"), 1);
    assert_int_equal(search_count(ib, "ann"), 1);
    assert_int_equal(es_inbox_get(ib, 1, &m), 0);
    assert_string_equal(m.state, "resolved");
    assert_string_equal(m.item.source, "old");
    es_mention_release(&m);
    es_inbox_free(ib);
}

static void test_newer_schema_refused(void **state)
{
    struct tmpdb *t = *state;
    struct es_inbox *ib = NULL;
    sqlite3 *db = NULL;
    char sql[64];

    assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
             ES_INBOX__LATEST + 3);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE future (x);"
                                  "INSERT INTO future VALUES (1);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    assert_int_equal(es_inbox_open(&ib, t->path), ES_EDB);
    assert_null(ib);
    assert_non_null(strstr(es_error_last(), "cannot open inbox '"));
    assert_non_null(strstr(es_error_last(), t->path));
    assert_non_null(strstr(es_error_last(), "newer"));

    /* Untouched. */
    db = NULL;
    assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
    sqlite3_stmt *stmt = NULL;
    sqlite3_prepare_v2(db,
                       "SELECT (SELECT x FROM future),"
                       " (SELECT count(*) FROM sqlite_schema"
                       "  WHERE name = 'mentions')",
                       -1, &stmt, NULL);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(stmt, 0), 1);
    assert_int_equal(sqlite3_column_int(stmt, 1), 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

static void test_open_errors(void **state)
{
    struct tmpdb *t = *state;
    struct es_inbox *ib = NULL;
    char junk[160];
    FILE *f;

    assert_int_equal(es_inbox_open(&ib, "/nonexistent-dir/x/inbox.db"), ES_EDB);
    assert_null(ib);
    assert_non_null(strstr(
        es_error_last(), "cannot open inbox '/nonexistent-dir/x/inbox.db': "));

    snprintf(junk, sizeof(junk), "%s/junk", t->dir);
    f = fopen(junk, "w");
    assert_non_null(f);
    for (int i = 0; i < 200; i++)
        fputs("this is not an sqlite database at all\n", f);
    fclose(f);
    assert_int_equal(es_inbox_open(&ib, junk), ES_EDB);
    assert_null(ib);
    assert_non_null(strstr(es_error_last(), "cannot open inbox '"));
    assert_non_null(strstr(es_error_last(), "not a database"));
}

/* ==== Storing ==== */

static void test_put_new_unchanged_updated(void **state)
{
    struct es_inbox *ib = *state;
    struct es_item it;
    struct es_mention m;
    int64_t src = add_source(ib, "forum"), id = 0, id2 = 0;

    es_item_init(&it);
    fill_item(&it, "t-1", "Checkout", "the checkout page spins forever");
    assert_int_equal(put(ib, src, &it, &id), ES_PUT_NEW);
    assert_true(id > 0);
    assert_int_equal(put(ib, src, &it, &id2), ES_PUT_UNCHANGED);
    assert_int_equal(id2, id);

    /* Another module triages it. */
    sql_exec(ib, "UPDATE mentions SET state = 'open', assignee = 'maria'");
    assert_int_equal(sql_int(ib, "SELECT edited FROM mentions"), 0);

    /* Metadata alone is not an edit. */
    free(it.url);
    it.url = es_xstrdup("https://forum.example/t-1");
    assert_int_equal(put(ib, src, &it, NULL), ES_PUT_UNCHANGED);

    free(it.text);
    it.text = es_xstrdup("the checkout page now shows a blank screen");
    id2 = 0;
    assert_int_equal(put(ib, src, &it, &id2), ES_PUT_UPDATED);
    assert_int_equal(id2, id);
    assert_int_equal(es_inbox_count(ib), 1);
    assert_int_equal(es_inbox_get(ib, id, &m), 0);
    assert_string_equal(m.state, "open");
    assert_string_equal(m.assignee, "maria");
    assert_int_equal(m.edited, 1);
    assert_string_equal(m.item.text,
                        "the checkout page now shows a blank screen");
    assert_string_equal(m.item.url, "https://forum.example/t-1");
    es_mention_release(&m);

    /* The index follows the text. */
    assert_int_equal(search_count(ib, "blank"), 1);
    assert_int_equal(search_count(ib, "spins"), 0);
    assert_int_equal(search_count(ib, "forever"), 0);
    assert_int_equal(sql_int(ib, "SELECT count(*) FROM mentions_fts"), 1);

    /* A changed title is an edit too, and a repeat of it is not. */
    free(it.title);
    it.title = es_xstrdup("Checkout broken");
    assert_int_equal(put(ib, src, &it, NULL), ES_PUT_UPDATED);
    assert_int_equal(put(ib, src, &it, NULL), ES_PUT_UNCHANGED);
    assert_int_equal(search_count(ib, "title:broken"), 1);
    assert_int_equal(sql_int(ib, "SELECT state = 'open' FROM mentions"), 1);

    /* A text that goes away is a change as well (NULL is not "same"). */
    free(it.text);
    it.text = NULL;
    assert_int_equal(put(ib, src, &it, NULL), ES_PUT_UPDATED);
    assert_int_equal(search_count(ib, "blank"), 0);
    assert_int_equal(search_count(ib, "checkout"), 1);
    assert_index_intact(ib);
    es_item_release(&it);
}

static void test_dedupe_batches(void **state)
{
    struct es_inbox *ib = *state;
    struct es_item it;
    int64_t a = add_source(ib, "a"), b = add_source(ib, "b");
    char ext[32], text[512];
    int counts[3];

    es_item_init(&it);
    for (int round = 0; round < 3; round++) {
        memset(counts, 0, sizeof(counts));
        assert_int_equal(es_inbox_begin(ib), 0);
        for (int i = 0; i < 200; i++) {
            snprintf(ext, sizeof(ext), "id-%d", i);
            /* Round 2 edits every tenth item. */
            make_text(text, sizeof(text),
                      round == 2 && i % 10 == 0 ? i + 1000 : i, "dedupe");
            fill_item(&it, ext, "t", text);
            counts[put(ib, a, &it, NULL)]++;
        }
        assert_int_equal(es_inbox_commit(ib), 0);
        if (round == 0)
            assert_int_equal(counts[ES_PUT_NEW], 200);
        if (round == 1)
            assert_int_equal(counts[ES_PUT_UNCHANGED], 200);
        if (round == 2) {
            assert_int_equal(counts[ES_PUT_UPDATED], 20);
            assert_int_equal(counts[ES_PUT_UNCHANGED], 180);
        }
        assert_int_equal(es_inbox_count(ib), 200);
    }
    /* The same external id from another source is another mention. */
    fill_item(&it, "id-1", "t", "other source");
    assert_int_equal(put(ib, b, &it, NULL), ES_PUT_NEW);
    assert_int_equal(es_inbox_count(ib), 201);
    assert_int_equal(sql_int(ib, "SELECT count(*) FROM mentions_fts"), 201);
    assert_int_equal(sql_int(ib, "SELECT sum(edited) FROM mentions"), 20);
    es_item_release(&it);
}

/* A batch indexes its new mentions when it commits; an edit in the same
 * batch of a mention stored earlier in it still leaves one index row per
 * mention, holding the last values. */
static void test_index_follows_batch(void **state)
{
    struct es_inbox *ib = *state;
    struct es_item it;
    int64_t src = add_source(ib, "s");

    es_item_init(&it);
    assert_int_equal(es_inbox_begin(ib), 0);
    assert_int_equal(put_text(ib, src, &it, "a", "first draft of alpha"),
                     ES_PUT_NEW);
    assert_int_equal(put_text(ib, src, &it, "a", "final words of alpha"),
                     ES_PUT_UPDATED);
    assert_int_equal(put_text(ib, src, &it, "b", "bravo arrives"), ES_PUT_NEW);
    assert_int_equal(es_inbox_commit(ib), 0);
    assert_index_intact(ib);
    assert_int_equal(search_count(ib, "draft"), 0);
    assert_int_equal(search_count(ib, "final"), 1);
    assert_int_equal(search_count(ib, "alpha"), 1);

    /* Repeats between new mentions, and an edit of a mention stored
     * before the batch. */
    assert_int_equal(es_inbox_begin(ib), 0);
    assert_int_equal(put_text(ib, src, &it, "c", "charlie arrives"),
                     ES_PUT_NEW);
    assert_int_equal(put_text(ib, src, &it, "b", "bravo arrives"),
                     ES_PUT_UNCHANGED);
    assert_int_equal(put_text(ib, src, &it, "d", "delta arrives"), ES_PUT_NEW);
    assert_int_equal(put_text(ib, src, &it, "b", "bravo left"), ES_PUT_UPDATED);
    assert_int_equal(es_inbox_commit(ib), 0);
    assert_index_intact(ib);
    assert_int_equal(search_count(ib, "arrives"), 2);
    assert_int_equal(search_count(ib, "left"), 1);

    /* A rolled-back batch leaves nothing to index in the next one. */
    assert_int_equal(es_inbox_begin(ib), 0);
    assert_int_equal(put_text(ib, src, &it, "e", "echo rolled back"),
                     ES_PUT_NEW);
    es_inbox_rollback(ib);
    assert_int_equal(es_inbox_begin(ib), 0);
    assert_int_equal(put_text(ib, src, &it, "f", "foxtrot kept"), ES_PUT_NEW);
    assert_int_equal(es_inbox_commit(ib), 0);
    assert_int_equal(search_count(ib, "echo"), 0);
    assert_int_equal(search_count(ib, "foxtrot"), 1);
    assert_index_intact(ib);
    es_item_release(&it);
}

static void test_roundtrip_all_fields(void **state)
{
    struct es_inbox *ib = *state;
    struct es_item it;
    struct es_mention m;
    int64_t src = add_source(ib, "reviews"), id = 0;

    es_item_init(&it);
    it.platform = es_xstrdup("appstore");
    it.external_id = es_xstrdup("r-99");
    it.url = es_xstrdup("https://apps.example/r/99");
    it.author = es_xstrdup("jo");
    it.author_name = es_xstrdup("Jo \xc3\x89lise");
    it.author_followers = 1234567890123LL;
    it.title = es_xstrdup("Crashes \"every\" time");
    it.text = es_xstrdup("crashes on launch\nsince 2.0");
    it.summary = es_xstrdup("<p>crashes</p>");
    it.content = es_xstrdup("<p>crashes on launch<br>since 2.0</p>");
    es_item_add_category(&it, "bug");
    es_item_add_category(&it, "say \"hi\", \\ \xe2\x9c\x93");
    es_item_add_category(&it, "");
    it.created_at = 1714564800;
    it.updated_at = 1714568400;
    it.fetched_at = 1714570000;
    it.kind = ES_KIND_REVIEW;
    it.in_reply_to = es_xstrdup("p-1");
    it.thread_root = es_xstrdup("p-0");
    it.rating = 2;
    it.lang = es_xstrdup("en-GB");
    it.reply_ref = es_xstrdup("{\"review\":99}");
    assert_int_equal(put(ib, src, &it, &id), ES_PUT_NEW);

    assert_int_equal(es_inbox_get(ib, id, &m), 0);
    assert_int_equal(m.id, id);
    assert_string_equal(m.item.source, "reviews");
    assert_string_equal(m.item.platform, "appstore");
    assert_string_equal(m.item.external_id, "r-99");
    assert_string_equal(m.item.url, it.url);
    assert_string_equal(m.item.author, "jo");
    assert_string_equal(m.item.author_name, it.author_name);
    assert_true(m.item.author_followers == 1234567890123LL);
    assert_string_equal(m.item.title, it.title);
    assert_string_equal(m.item.text, it.text);
    assert_string_equal(m.item.summary, it.summary);
    assert_string_equal(m.item.content, it.content);
    assert_int_equal(m.item.ncategories, 3);
    assert_string_equal(m.item.categories[0], "bug");
    assert_string_equal(m.item.categories[1], it.categories[1]);
    assert_string_equal(m.item.categories[2], "");
    assert_true(m.item.created_at == 1714564800);
    assert_true(m.item.updated_at == 1714568400);
    assert_true(m.item.fetched_at == 1714570000);
    assert_int_equal(m.item.kind, ES_KIND_REVIEW);
    assert_string_equal(m.item.in_reply_to, "p-1");
    assert_string_equal(m.item.thread_root, "p-0");
    assert_int_equal(m.item.rating, 2);
    assert_string_equal(m.item.lang, "en-GB");
    assert_string_equal(m.item.reply_ref, "{\"review\":99}");
    assert_string_equal(m.state, "new");
    assert_null(m.assignee);
    assert_int_equal(m.edited, 0);
    assert_true(m.first_seen > 1700000000);
    assert_string_equal(m.item.categories[1], "say \"hi\", \\ \xe2\x9c\x93");
    es_mention_release(&m);
    assert_int_equal(sql_int(ib, "SELECT json_valid(categories)"
                                 " FROM mentions"),
                     1);
    assert_int_equal(sql_int(ib, "SELECT kind = 'review' FROM mentions"), 1);
    es_item_release(&it);
}

static void test_unknowns_are_null(void **state)
{
    struct es_inbox *ib = *state;
    struct es_item it;
    struct es_mention m;
    int64_t src = add_source(ib, "bare"), id = 0;

    es_item_init(&it);
    it.external_id = es_xstrdup("only-an-id");
    assert_int_equal(put(ib, src, &it, &id), ES_PUT_NEW);
    assert_int_equal(
        sql_int(ib, "SELECT created_at IS NULL AND updated_at IS NULL"
                    " AND fetched_at IS NULL AND author_followers IS NULL"
                    " AND rating IS NULL AND categories IS NULL"
                    " AND text IS NULL AND sentiment IS NULL"
                    " AND sentiment_pos IS NULL AND sentiment_neu IS NULL"
                    " AND sentiment_neg IS NULL AND label IS NULL"
                    " AND priority IS NULL AND priority_reasons IS NULL"
                    " AND low_confidence IS NULL AND lang IS NULL"
                    " FROM mentions"),
        1);
    assert_int_equal(es_inbox_get(ib, id, &m), 0);
    assert_true(m.item.created_at == ES_TIME_UNKNOWN);
    assert_true(m.item.updated_at == ES_TIME_UNKNOWN);
    assert_true(m.item.fetched_at == ES_TIME_UNKNOWN);
    assert_true(m.item.author_followers == ES_COUNT_UNKNOWN);
    assert_int_equal(m.item.rating, 0);
    assert_int_equal(m.item.ncategories, 0);
    assert_null(m.item.text);
    assert_null(m.item.categories);
    /* Unscored: the flags say so, and nothing pretends to be a score. */
    assert_int_equal(m.scored, 0);
    assert_int_equal(m.prioritised, 0);
    assert_int_equal(m.nreasons, 0);
    assert_null(m.reasons);
    es_mention_release(&m);

    /* Once a classifier wrote scores they read back. */
    sql_exec(ib, "UPDATE mentions SET sentiment = -0.25, priority = 80");
    assert_int_equal(es_inbox_get(ib, id, &m), 0);
    assert_int_equal(m.scored, 1);
    assert_true(m.sentiment == -0.25);
    assert_int_equal(m.prioritised, 1);
    assert_int_equal(m.priority, 80);
    es_mention_release(&m);

    /* An unknown id. */
    assert_int_equal(es_inbox_get(ib, id + 100, &m), ES_ENOTFOUND);
    es_mention_release(&m);
    es_item_release(&it);
}

static void test_put_errors(void **state)
{
    struct es_inbox *ib = *state;
    struct es_item it;
    int64_t src = add_source(ib, "s");
    enum es_put_result res = ES_PUT_UNCHANGED;

    es_item_init(&it);
    it.text = es_xstrdup("no id");
    assert_int_equal(es_inbox_put(ib, src, &it, NULL, &res, NULL), ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "no external id"));

    /* A source id that was never registered breaks the foreign key. */
    fill_item(&it, "x", "t", "orphan");
    assert_int_equal(es_inbox_put(ib, src + 50, &it, NULL, NULL, NULL),
                     ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "FOREIGN KEY"));
    assert_non_null(strstr(es_error_last(), "'x'"));
    assert_int_equal(es_inbox_count(ib), 0);
    assert_int_equal(sql_int(ib, "SELECT count(*) FROM mentions_fts"), 0);

    /* A rolled-back batch keeps nothing, and the next batch works. */
    assert_int_equal(es_inbox_begin(ib), 0);
    fill_item(&it, "y", "t", "rolled back");
    assert_int_equal(put(ib, src, &it, NULL), ES_PUT_NEW);
    assert_int_equal(es_inbox_put(ib, src + 50, &it, NULL, NULL, NULL),
                     ES_EINVALID);
    es_inbox_rollback(ib);
    es_inbox_rollback(ib); /* harmless twice */
    assert_int_equal(es_inbox_count(ib), 0);
    assert_int_equal(search_count(ib, "rolled"), 0);
    assert_int_equal(es_inbox_begin(ib), 0);
    assert_int_equal(put(ib, src, &it, NULL), ES_PUT_NEW);
    assert_int_equal(es_inbox_commit(ib), 0);
    assert_int_equal(es_inbox_count(ib), 1);
    /* Commit without a batch is an error, not a crash. */
    assert_int_equal(es_inbox_commit(ib), ES_EDB);
    es_item_release(&it);
}

/* ==== Scores ==== */

static void test_scores_roundtrip(void **state)
{
    struct es_inbox *ib = *state;
    struct es_item it;
    struct es_mention m;
    int64_t src = add_source(ib, "mentions"), id = 0;
    struct es_scores sc = make_scores(
        -0.4215, -1, 72, "[\"negative -0.42\",\"mentions refund\"]", "en");
    sc.pos = 0.125;
    sc.neu = 0.5;
    sc.neg = 0.375;

    es_item_init(&it);
    fill_item(&it, "s-1", NULL, "Still waiting for a refund");
    assert_int_equal(put_scored(ib, src, &it, &sc, &id), ES_PUT_NEW);
    assert_int_equal(es_inbox_get(ib, id, &m), 0);
    assert_int_equal(m.scored, 1);
    assert_true(m.sentiment == -0.4215);
    assert_true(m.pos == 0.125 && m.neu == 0.5 && m.neg == 0.375);
    assert_int_equal(m.label, -1);
    assert_int_equal(m.low_confidence, 0);
    assert_int_equal(m.prioritised, 1);
    assert_int_equal(m.priority, 72);
    assert_int_equal(m.nreasons, 2);
    assert_string_equal(m.reasons[0], "negative -0.42");
    assert_string_equal(m.reasons[1], "mentions refund");
    /* No language from the platform: the classifier's. */
    assert_string_equal(m.item.lang, "en");
    es_mention_release(&m);
    /* Stored as the schema says: a label word, a JSON array, in the same
     * row the INSERT wrote. */
    assert_int_equal(sql_int(ib, "SELECT label = 'negative' AND"
                                 " json_valid(priority_reasons) AND"
                                 " json_array_length(priority_reasons) = 2"
                                 " AND low_confidence = 0 FROM mentions"),
                     1);

    /* The platform's language wins; no language stays unknown; a
     * low-confidence score says so. */
    fill_item(&it, "s-2", NULL, "hola");
    it.lang = es_xstrdup("es");
    struct es_scores lc = make_scores(0, 0, 0, "[]", "en");
    lc.low_confidence = 1;
    assert_int_equal(put_scored(ib, src, &it, &lc, &id), ES_PUT_NEW);
    assert_int_equal(es_inbox_get(ib, id, &m), 0);
    assert_string_equal(m.item.lang, "es");
    assert_int_equal(m.low_confidence, 1);
    assert_int_equal(m.label, 0);
    assert_int_equal(m.nreasons, 0);
    assert_int_equal(m.prioritised, 1);
    es_mention_release(&m);
    fill_item(&it, "s-3", NULL, "\xF0\x9F\x98\x80");
    struct es_scores none = make_scores(0.5, 1, 3, "", "");
    assert_int_equal(put_scored(ib, src, &it, &none, &id), ES_PUT_NEW);
    assert_int_equal(es_inbox_get(ib, id, &m), 0);
    assert_null(m.item.lang);
    assert_int_equal(m.label, 1);
    es_mention_release(&m);
    es_item_release(&it);
}

static void test_scores_follow_edits(void **state)
{
    struct es_inbox *ib = *state;
    struct es_item it;
    struct es_mention m;
    int64_t src = add_source(ib, "forum"), id = 0;
    struct es_scores angry =
        make_scores(-0.8, -1, 60, "[\"negative -0.80\"]", "en");
    struct es_scores happy = make_scores(0.7, 1, 5, "[\"1 day old\"]", "en");

    es_item_init(&it);
    fill_item(&it, "e-1", "Refund", "Still waiting for a refund");
    assert_int_equal(put_scored(ib, src, &it, &angry, &id), ES_PUT_NEW);
    sql_exec(ib, "UPDATE mentions SET state = 'open'");

    /* A repeat with the same text writes nothing, scores included. */
    assert_int_equal(put_scored(ib, src, &it, &happy, NULL), ES_PUT_UNCHANGED);
    assert_int_equal(es_inbox_get(ib, id, &m), 0);
    assert_int_equal(m.priority, 60);
    assert_int_equal(m.label, -1);
    es_mention_release(&m);

    /* An edit takes the scores of its new text, and keeps its state. */
    free(it.text);
    it.text = es_xstrdup("Refund arrived, thanks!");
    assert_int_equal(put_scored(ib, src, &it, &happy, NULL), ES_PUT_UPDATED);
    assert_int_equal(es_inbox_get(ib, id, &m), 0);
    assert_true(m.sentiment == 0.7);
    assert_int_equal(m.label, 1);
    assert_int_equal(m.priority, 5);
    assert_string_equal(m.reasons[0], "1 day old");
    assert_string_equal(m.state, "open");
    es_mention_release(&m);

    /* An edit stored unscored drops scores that described the old text. */
    free(it.text);
    it.text = es_xstrdup("Refund arrived");
    assert_int_equal(put(ib, src, &it, NULL), ES_PUT_UPDATED);
    assert_int_equal(es_inbox_get(ib, id, &m), 0);
    assert_int_equal(m.scored, 0);
    assert_int_equal(m.prioritised, 0);
    assert_int_equal(m.nreasons, 0);
    es_mention_release(&m);
    es_item_release(&it);
}

struct labels {
    char ids[256];
};

static int label_cb(const struct es_mention *m, void *payload)
{
    struct labels *l = payload;
    size_t len = strlen(l->ids);
    snprintf(l->ids + len, sizeof(l->ids) - len, "%s%s:%d", len ? "," : "",
             m->item.external_id, m->prioritised ? m->priority : -1);
    return 0;
}

static void test_list_by_priority_and_label(void **state)
{
    struct es_inbox *ib = *state;
    struct es_item it;
    int64_t src = add_source(ib, "s");
    struct es_scores neg = make_scores(-0.6, -1, 40, "[]", "en");
    struct es_scores neg2 = make_scores(-0.3, -1, 90, "[]", "en");
    struct es_scores pos = make_scores(0.6, 1, 70, "[]", "en");
    struct es_scores neu = make_scores(0.0, 0, 10, "[]", "en");

    es_item_init(&it);
    fill_item(&it, "old", NULL, "stored before scoring, refund");
    put(ib, src, &it, NULL);
    fill_item(&it, "n1", NULL, "refund one");
    put_scored(ib, src, &it, &neg, NULL);
    fill_item(&it, "n2", NULL, "refund two");
    put_scored(ib, src, &it, &neg2, NULL);
    fill_item(&it, "p1", NULL, "great");
    put_scored(ib, src, &it, &pos, NULL);
    fill_item(&it, "u1", NULL, "refund policy");
    put_scored(ib, src, &it, &neu, NULL);
    es_item_release(&it);

    struct labels l = { "" };
    assert_int_equal(es_inbox_list(ib, NULL, label_cb, &l), 0);
    /* Highest priority first; the unscored one last. */
    assert_string_equal(l.ids, "n2:90,p1:70,n1:40,u1:10,old:-1");

    struct es_inbox_query q = { .label = "negative" };
    memset(&l, 0, sizeof(l));
    assert_int_equal(es_inbox_list(ib, &q, label_cb, &l), 0);
    assert_string_equal(l.ids, "n2:90,n1:40");
    q.label = "neutral";
    q.search = "refund";
    memset(&l, 0, sizeof(l));
    assert_int_equal(es_inbox_list(ib, &q, label_cb, &l), 0);
    assert_string_equal(l.ids, "u1:10");
    q.label = "positive";
    q.search = "refund";
    memset(&l, 0, sizeof(l));
    assert_int_equal(es_inbox_list(ib, &q, label_cb, &l), 0);
    assert_string_equal(l.ids, "");
}

/* ==== Rescoring in batches ==== */

struct scan_seen {
    int64_t last;
    int n;
    int ordered;
    int stop_at;
};

static int scan_cb(const struct es_mention *m, void *payload)
{
    struct scan_seen *s = payload;
    if (m->id <= s->last)
        s->ordered = 0;
    s->last = m->id;
    s->n++;
    return s->stop_at && s->n == s->stop_at ? 9 : 0;
}

static void put_many(struct es_inbox *ib, int64_t src, int n, const char *tag)
{
    struct es_item it;
    char ext[32], text[512];
    es_item_init(&it);
    assert_int_equal(es_inbox_begin(ib), 0);
    for (int i = 0; i < n; i++) {
        snprintf(ext, sizeof(ext), "%s-%d", tag, i);
        make_text(text, sizeof(text), i, tag);
        fill_item(&it, ext, "t", text);
        assert_int_equal(put(ib, src, &it, NULL), ES_PUT_NEW);
    }
    assert_int_equal(es_inbox_commit(ib), 0);
    es_item_release(&it);
}

static void test_scan_batches(void **state)
{
    struct es_inbox *ib = *state;
    int64_t src = add_source(ib, "s"), after = 0, last = -1;
    int sizes[8], nb = 0, total = 0;

    put_many(ib, src, 1203, "scan");
    for (;;) {
        struct scan_seen seen = { .last = after, .ordered = 1 };
        assert_int_equal(es_inbox_scan(ib, after, 500, scan_cb, &seen, &last),
                         0);
        assert_true(seen.ordered);
        if (seen.n == 0) {
            assert_true(last == after); /* nothing: the cursor stays */
            break;
        }
        assert_true(last == seen.last);
        assert_true(nb < 8);
        sizes[nb++] = seen.n;
        total += seen.n;
        after = last;
    }
    assert_int_equal(nb, 3);
    assert_int_equal(sizes[0], 500);
    assert_int_equal(sizes[1], 500);
    assert_int_equal(sizes[2], 203);
    assert_int_equal(total, 1203);

    /* A callback's non-zero return stops the batch and comes back. */
    struct scan_seen seen = { .ordered = 1, .stop_at = 3 };
    assert_int_equal(es_inbox_scan(ib, 0, 500, scan_cb, &seen, &last), 9);
    assert_int_equal(seen.n, 3);
    assert_true(last == seen.last);
}

static int keep_first(const struct es_mention *m, void *payload)
{
    struct es_mention *out = payload;
    es_item_init(&out->item);
    out->id = m->id;
    out->item.title = m->item.title ? es_xstrdup(m->item.title) : NULL;
    out->item.text = m->item.text ? es_xstrdup(m->item.text) : NULL;
    out->scored = m->scored;
    out->prioritised = m->prioritised;
    out->priority = m->priority;
    out->label = m->label;
    return 1;
}

static void test_set_scores(void **state)
{
    struct es_inbox *ib = *state;
    struct es_item it;
    struct es_mention m, got;
    int64_t src = add_source(ib, "s"), id = 0;
    struct es_scores a =
        make_scores(-0.5, -1, 30, "[\"negative -0.50\"]", "en");
    int changed = -1;

    es_item_init(&it);
    fill_item(&it, "x", "t", "the text as read");
    assert_int_equal(put(ib, src, &it, &id), ES_PUT_NEW);
    memset(&m, 0, sizeof(m));
    assert_int_equal(es_inbox_scan(ib, 0, 1, keep_first, &m, NULL), 1);

    /* Unscored to scored is a change; the lang fills in. */
    assert_int_equal(es_inbox_set_scores(ib, &m, &a, &changed), 0);
    assert_int_equal(changed, 1);
    assert_int_equal(es_inbox_get(ib, id, &got), 0);
    assert_int_equal(got.priority, 30);
    assert_int_equal(got.label, -1);
    assert_string_equal(got.reasons[0], "negative -0.50");
    assert_string_equal(got.item.lang, "en");
    es_mention_release(&got);

    /* The same scores again: no change. */
    m.scored = m.prioritised = 1;
    m.priority = 30;
    m.label = -1;
    assert_int_equal(es_inbox_set_scores(ib, &m, &a, &changed), 0);
    assert_int_equal(changed, 0);
    /* Another label is a change, as is another priority. */
    struct es_scores b = make_scores(0.2, 1, 30, "[]", "fr");
    assert_int_equal(es_inbox_set_scores(ib, &m, &b, &changed), 0);
    assert_int_equal(changed, 1);
    assert_int_equal(es_inbox_get(ib, id, &got), 0);
    assert_string_equal(got.item.lang, "en"); /* a language stays */
    assert_int_equal(got.nreasons, 0);
    es_mention_release(&got);

    /* Edited since it was read: the new text's scores are left alone. */
    fill_item(&it, "x", "t", "the text after an edit");
    struct es_scores fresh = make_scores(0.9, 1, 1, "[]", "en");
    assert_int_equal(put_scored(ib, src, &it, &fresh, NULL), ES_PUT_UPDATED);
    assert_int_equal(es_inbox_set_scores(ib, &m, &a, &changed), ES_ENOTFOUND);
    assert_non_null(strstr(es_error_last(), "edited"));
    assert_int_equal(es_inbox_get(ib, id, &got), 0);
    assert_int_equal(got.priority, 1);
    es_mention_release(&got);
    /* So is a mention that is gone. */
    m.id = id + 99;
    assert_int_equal(es_inbox_set_scores(ib, &m, &a, NULL), ES_ENOTFOUND);
    es_mention_release(&m);
    es_item_release(&it);
}

struct progress {
    int calls;
    size_t last_scored;
    struct es_inbox *other; /* a second writer, as `earshot serve` is */
    int64_t other_src;
    int other_writes;
};

static void on_progress(const struct es_rescore_report *r, void *payload)
{
    struct progress *p = payload;
    p->calls++;
    assert_true(r->nscored > p->last_scored);
    assert_int_equal(r->nbatches, p->calls);
    p->last_scored = r->nscored;
    if (p->other) {
        /* Between two batches the write lock is free: another writer gets
         * in at once (its busy timeout never comes into play). */
        struct es_item it;
        char ext[32];
        es_item_init(&it);
        snprintf(ext, sizeof(ext), "poll-%d", p->calls);
        fill_item(&it, ext, "polled", "polled while rescoring");
        assert_int_equal(put(p->other, p->other_src, &it, NULL), ES_PUT_NEW);
        p->other_writes++;
        es_item_release(&it);
    }
}

static void test_rescore(void **state)
{
    struct tmpdb *t = *state;
    struct es_inbox *ib = NULL, *other = NULL;
    struct es_scorer *sc = NULL;
    struct es_rescore_report r;
    struct es_item it;
    struct es_mention m;
    int64_t src, id = 0;

    assert_int_equal(es_inbox_open(&ib, t->path), 0);
    assert_int_equal(es_inbox_open(&other, t->path), 0);
    src = add_source(ib, "s");
    put_many(ib, src, 1200, "rescore");
    es_item_init(&it);
    fill_item(&it, "angry", "Still waiting", "Still waiting for a refund");
    assert_int_equal(put(ib, src, &it, &id), ES_PUT_NEW);
    es_item_release(&it);
    assert_int_equal(sql_int(ib, "SELECT count(*) FROM mentions"
                                 " WHERE sentiment IS NULL"),
                     1201);

    if (es_scorer_open(&sc, NULL, ES_SOURCE_DIR "/config") != 0)
        fail_msg("%s", es_error_last());
    struct progress p = { .other = other, .other_src = src };
    assert_int_equal(es_ingest_rescore(ib, sc, 500, on_progress, &p, &r), 0);
    /* 1201 mentions in 3 batches. The ones polled meanwhile (scored by
     * their poller in real life) are not chased: the walk ends where the
     * inbox ended when it began. */
    assert_int_equal(p.calls, 3);
    assert_int_equal(p.other_writes, 3);
    assert_int_equal(r.nbatches, 3);
    assert_int_equal(r.nscored, 1201);
    assert_int_equal(r.nchanged, 1201);
    assert_int_equal(r.nskipped, 0);
    assert_int_equal(sql_int(ib, "SELECT count(*) FROM mentions WHERE"
                                 " sentiment IS NULL OR priority IS NULL"
                                 " OR label IS NULL OR low_confidence IS NULL"
                                 " OR priority_reasons IS NULL"),
                     3);
    assert_int_equal(sql_int(ib, "SELECT count(*) FROM mentions WHERE"
                                 " sentiment IS NULL AND external_id LIKE"
                                 " 'poll-%'"),
                     3);
    assert_int_equal(es_inbox_get(ib, id, &m), 0);
    assert_int_equal(m.label, -1);
    assert_true(m.sentiment < 0);
    int has_refund = 0;
    for (size_t i = 0; i < m.nreasons; i++)
        has_refund |= strcmp(m.reasons[i], "mentions refund") == 0;
    assert_true(has_refund);
    es_mention_release(&m);

    /* Nothing changed since: everything rescored, nothing different but
     * the three that were unscored. */
    assert_int_equal(es_ingest_rescore(ib, sc, 0, NULL, NULL, &r), 0);
    assert_int_equal(r.nbatches, 3);
    assert_int_equal(r.nscored, 1204);
    assert_int_equal(r.nchanged, 3);

    /* An empty inbox is no work. */
    sql_exec(ib, "DELETE FROM mentions_fts; DELETE FROM mentions");
    assert_int_equal(es_ingest_rescore(ib, sc, 7, NULL, NULL, &r), 0);
    assert_int_equal(r.nbatches, 0);
    assert_int_equal(r.nscored, 0);
    es_scorer_free(sc);
    es_inbox_free(other);
    es_inbox_free(ib);
}

static void test_upgrade_from_v2(void **state)
{
    struct tmpdb *t = *state;
    struct es_inbox *ib = NULL;
    struct es_mention m;
    sqlite3 *db = NULL;

    /* Scores written by hand at version 2, before low_confidence. */
    assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
    assert_int_equal(es_inbox__migrate(db, t->path, 2), 0);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO sources (id, name, type)"
                                  " VALUES (1, 'old', 'rss');"
                                  "INSERT INTO mentions (source_id,"
                                  " external_id, text, sentiment, label,"
                                  " priority, first_seen, last_changed)"
                                  " VALUES (1, 'v2', 'kept', -0.5,"
                                  " 'negative', 20, 1, 1);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "SELECT low_confidence FROM mentions",
                                  NULL, NULL, NULL),
                     SQLITE_ERROR);
    sqlite3_close(db);

    assert_int_equal(es_inbox_open(&ib, t->path), 0);
    assert_int_equal(es_inbox_schema_version(ib), ES_INBOX__LATEST);
    assert_int_equal(sql_int(ib, "SELECT low_confidence IS NULL FROM mentions"),
                     1);
    assert_int_equal(es_inbox_get(ib, 1, &m), 0);
    assert_int_equal(m.scored, 1);
    assert_int_equal(m.label, -1);
    assert_int_equal(m.priority, 20);
    assert_int_equal(m.low_confidence, 0);
    assert_int_equal(m.nreasons, 0);
    es_mention_release(&m);
    es_inbox_free(ib);
}

/* Version 4 turns the search index into an external-content table: the
 * rows indexed under version 3 (with their own copy of the text) are
 * indexed again from mentions, and edits after the upgrade keep the index
 * and the stored text in step. */
static void test_upgrade_from_v3(void **state)
{
    struct tmpdb *t = *state;
    struct es_inbox *ib = NULL;
    struct es_item it;
    struct es_mention m;
    sqlite3 *db = NULL;
    int64_t id = 0;

    assert_int_equal(sqlite3_open(t->path, &db), SQLITE_OK);
    assert_int_equal(es_inbox__migrate(db, t->path, 3), 0);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO sources (id, name, type)"
                                  " VALUES (1, 'old', 'rss');"
                                  "INSERT INTO mentions (id, source_id,"
                                  " external_id, title, text, author, state,"
                                  " first_seen, last_changed) VALUES"
                                  " (1, 1, 'a', 'Refund', 'legacy refund"
                                  " delayed', 'ann', 'open', 1, 1),"
                                  " (2, 1, 'b', 'Praise', 'legacy kind"
                                  " words', 'bob', 'new', 1, 1);"
                                  "INSERT INTO mentions_fts (rowid, text,"
                                  " title, author) SELECT id, text, title,"
                                  " author FROM mentions;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);

    assert_int_equal(es_inbox_open(&ib, t->path), 0);
    assert_true(ES_INBOX__LATEST >= 4);
    assert_int_equal(es_inbox_schema_version(ib), ES_INBOX__LATEST);
    /* No second copy of the text any more, and the settings survive. */
    assert_int_equal(sql_int(ib, "SELECT count(*) FROM sqlite_schema"
                                 " WHERE name = 'mentions_fts_content'"),
                     0);
    assert_int_equal(sql_int(ib, "SELECT v FROM mentions_fts_config"
                                 " WHERE k = 'hashsize'"),
                     16777216);
    assert_int_equal(search_count(ib, "legacy"), 2);
    assert_int_equal(search_count(ib, "delayed"), 1);
    assert_int_equal(search_count(ib, "title:praise"), 1);
    assert_int_equal(search_count(ib, "ann"), 1);
    assert_index_intact(ib);

    /* An edit of an upgraded row without an author keeps the stored one,
     * in the index too. */
    es_item_init(&it);
    fill_item(&it, "a", "Refund", "refund arrived at last");
    free(it.author);
    it.author = NULL;
    assert_int_equal(put(ib, 1, &it, &id), ES_PUT_UPDATED);
    assert_int_equal(id, 1);
    assert_int_equal(put(ib, 1, &it, NULL), ES_PUT_UNCHANGED);
    assert_int_equal(search_count(ib, "delayed"), 0);
    assert_int_equal(search_count(ib, "arrived"), 1);
    assert_int_equal(search_count(ib, "legacy"), 1);
    assert_int_equal(search_count(ib, "ann"), 1);
    assert_int_equal(es_inbox_get(ib, 1, &m), 0);
    assert_string_equal(m.item.author, "ann");
    assert_string_equal(m.state, "open");
    assert_int_equal(m.edited, 1);
    es_mention_release(&m);

    /* A new author replaces the old one in the index. */
    fill_item(&it, "b", "Praise", "legacy kind words");
    free(it.author);
    it.author = es_xstrdup("carol");
    assert_int_equal(put(ib, 1, &it, NULL), ES_PUT_UNCHANGED);
    free(it.text);
    it.text = es_xstrdup("kind words, edited");
    assert_int_equal(put(ib, 1, &it, NULL), ES_PUT_UPDATED);
    assert_int_equal(search_count(ib, "bob"), 0);
    assert_int_equal(search_count(ib, "carol"), 1);

    fill_item(&it, "c", "New", "stored after the upgrade");
    assert_int_equal(put(ib, 1, &it, &id), ES_PUT_NEW);
    assert_int_equal(id, 3);
    assert_int_equal(search_count(ib, "upgrade"), 1);
    assert_int_equal(sql_int(ib, "SELECT count(*) FROM mentions_fts"), 3);
    assert_index_intact(ib);
    es_item_release(&it);
    es_inbox_free(ib);
}

/* ==== Sources and health ==== */

static int health_cb(const struct es_source_health *h, void *payload)
{
    struct collect *c = payload;
    size_t len = strlen(c->ids);
    snprintf(c->ids + len, sizeof(c->ids) - len, "%s%s:%lld", len ? "," : "",
             h->name, h->mentions);
    c->n++;
    if (c->stop_after > 0 && c->n >= c->stop_after)
        return 7;
    return 0;
}

static void test_health(void **state)
{
    struct es_inbox *ib = *state;
    struct es_source_health h, got;
    struct es_item it;
    struct collect c = { .n = 0 };
    int64_t id1 = 0, id2 = 0;

    assert_int_equal(es_inbox_source_ensure(ib, "news", "rss", &id1), 0);
    assert_int_equal(es_inbox_source_ensure(ib, "news", "rss", &id2), 0);
    assert_true(id1 == id2);
    /* Changing the kind keeps the row (and its mentions). */
    assert_int_equal(es_inbox_source_ensure(ib, "news", "atom", &id2), 0);
    assert_true(id1 == id2);
    assert_int_equal(es_inbox_source_ensure(ib, "news", NULL, NULL),
                     ES_EINVALID);

    assert_int_equal(es_inbox_health_get(ib, "news", &got), 0);
    assert_string_equal(got.name, "news");
    assert_string_equal(got.type, "atom");
    assert_true(got.last_attempt == ES_TIME_UNKNOWN);
    assert_true(got.last_success == ES_TIME_UNKNOWN);
    assert_true(got.next_poll == ES_TIME_UNKNOWN);
    assert_int_equal(got.failures, 0);
    assert_null(got.last_error);
    assert_null(got.etag);
    assert_null(got.cursor);
    assert_int_equal(got.mentions, -1); /* only the listing counts */
    es_source_health_release(&got);

    memset(&h, 0, sizeof(h));
    h.name = es_xstrdup("news");
    h.last_attempt = 1000;
    h.last_success = 900;
    h.next_poll = 1300;
    h.failures = 3;
    h.last_error = es_xstrdup("feed 'news': HTTP 503");
    h.etag = es_xstrdup("\"abc\"");
    h.last_modified = es_xstrdup("Wed, 01 May 2024 12:00:00 GMT");
    h.cursor = es_xstrdup("since=42");
    assert_int_equal(es_inbox_health_put(ib, &h), 0);
    assert_int_equal(es_inbox_health_get(ib, "news", &got), 0);
    assert_true(got.last_attempt == 1000);
    assert_true(got.last_success == 900);
    assert_true(got.next_poll == 1300);
    assert_int_equal(got.failures, 3);
    assert_string_equal(got.last_error, h.last_error);
    assert_string_equal(got.etag, "\"abc\"");
    assert_string_equal(got.last_modified, h.last_modified);
    assert_string_equal(got.cursor, "since=42");
    assert_string_equal(got.type, "atom");
    es_source_health_release(&got);

    /* Success clears the error; unknown times go back to NULL. */
    free(h.last_error);
    h.last_error = NULL;
    h.failures = 0;
    h.last_success = ES_TIME_UNKNOWN;
    assert_int_equal(es_inbox_health_put(ib, &h), 0);
    assert_int_equal(es_inbox_health_get(ib, "news", &got), 0);
    assert_null(got.last_error);
    assert_int_equal(got.failures, 0);
    assert_true(got.last_success == ES_TIME_UNKNOWN);
    es_source_health_release(&got);
    assert_int_equal(sql_int(ib, "SELECT last_success IS NULL FROM sources"),
                     1);

    /* Unknown sources: a plain put fails, one with a type registers. */
    free(h.name);
    h.name = es_xstrdup("ghost");
    assert_int_equal(es_inbox_health_put(ib, &h), ES_ENOTFOUND);
    assert_int_equal(es_inbox_health_get(ib, "ghost", &got), ES_ENOTFOUND);
    assert_non_null(strstr(es_error_last(), "'ghost'"));
    h.type = es_xstrdup("mastodon");
    assert_int_equal(es_inbox_health_put(ib, &h), 0);
    assert_int_equal(es_inbox_health_get(ib, "ghost", &got), 0);
    assert_string_equal(got.type, "mastodon");
    assert_string_equal(got.cursor, "since=42");
    es_source_health_release(&got);
    es_source_health_release(&h);

    /* Each, by name, with mention counts. */
    es_item_init(&it);
    for (int i = 0; i < 3; i++) {
        char ext[8];
        snprintf(ext, sizeof(ext), "m%d", i);
        fill_item(&it, ext, "t", "x");
        assert_int_equal(put(ib, id1, &it, NULL), ES_PUT_NEW);
    }
    es_item_release(&it);
    add_source(ib, "alpha");
    assert_int_equal(es_inbox_health_each(ib, health_cb, &c), 0);
    assert_string_equal(c.ids, "alpha:0,ghost:0,news:3");
    memset(&c, 0, sizeof(c));
    c.stop_after = 2;
    assert_int_equal(es_inbox_health_each(ib, health_cb, &c), 7);
    assert_string_equal(c.ids, "alpha:0,ghost:0");
    /* The statement was left clean: a full walk works again. */
    memset(&c, 0, sizeof(c));
    assert_int_equal(es_inbox_health_each(ib, health_cb, &c), 0);
    assert_int_equal(c.n, 3);
    assert_int_equal(es_inbox_count(ib), 3);
}

/* ==== Listing and search ==== */

/* Stores mention @ext of @src created at @created (ES_TIME_UNKNOWN ok). */
static int64_t put_at(struct es_inbox *ib, int64_t src, const char *ext,
                      int64_t created, const char *text, const char *author)
{
    struct es_item it;
    int64_t id = 0;
    es_item_init(&it);
    fill_item(&it, ext, NULL, text);
    free(it.author);
    it.author = es_xstrdup(author);
    it.created_at = created;
    assert_int_equal(put(ib, src, &it, &id), ES_PUT_NEW);
    es_item_release(&it);
    return id;
}

static void set_sql(struct es_inbox *ib, const char *sql, int64_t id,
                    const char *value)
{
    sqlite3_stmt *stmt = NULL;
    sqlite3 *db = es_inbox__db(ib);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    sqlite3_bind_text(stmt, 1, value, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, id);
    assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
    sqlite3_finalize(stmt);
}

static struct collect list(struct es_inbox *ib, const char *state_,
                           const char *source, const char *search, int limit)
{
    struct es_inbox_query q = {
        .state = state_,
        .source = source,
        .search = search,
        .limit = limit,
    };
    struct collect c = { .n = 0 };
    int rc = es_inbox_list(ib, &q, collect_cb, &c);
    if (rc != 0)
        fail_msg("list: %s", es_error_last());
    return c;
}

static void seed_list(struct es_inbox *ib)
{
    int64_t a = add_source(ib, "a"), b = add_source(ib, "b");
    put_at(ib, a, "m1", 100, "refund please", "carol");
    put_at(ib, a, "m2", 300, "love the new update", "dave");
    put_at(ib, b, "m3", ES_TIME_UNKNOWN, "battery drains", "erin");
    int64_t m4 = put_at(ib, b, "m4", 10, "refund refused", "frank");
    int64_t m5 = put_at(ib, a, "m5", 5, "account hacked", "grace");
    put_at(ib, b, "m6", 100, "slow refund", "heidi");
    set_sql(ib, "UPDATE mentions SET priority = ?1 WHERE id = ?2", m4, "50");
    set_sql(ib, "UPDATE mentions SET priority = ?1 WHERE id = ?2", m5, "90");
    set_sql(ib, "UPDATE mentions SET state = ?1 WHERE id = ?2", m4, "open");
}

static void test_list_order_and_filters(void **state)
{
    struct es_inbox *ib = *state;
    struct collect c;

    seed_list(ib);
    /* Priority first, then newest (created, else first seen: m3 was seen
     * just now), then the later id on a tie (m6 after m1). */
    c = list(ib, NULL, NULL, NULL, 0);
    assert_string_equal(c.ids, "m5,m4,m3,m2,m6,m1");
    c = list(ib, NULL, NULL, NULL, 2);
    assert_string_equal(c.ids, "m5,m4");
    c = list(ib, "new", NULL, NULL, 0);
    assert_string_equal(c.ids, "m5,m3,m2,m6,m1");
    c = list(ib, "open", NULL, NULL, 0);
    assert_string_equal(c.ids, "m4");
    c = list(ib, NULL, "b", NULL, 0);
    assert_string_equal(c.ids, "m4,m3,m6");
    c = list(ib, "new", "b", NULL, 0);
    assert_string_equal(c.ids, "m3,m6");
    c = list(ib, "resolved", NULL, NULL, 0);
    assert_int_equal(c.n, 0);
    c = list(ib, NULL, "nosuch", NULL, 0);
    assert_int_equal(c.n, 0);

    /* Search keeps the same order and filters. */
    c = list(ib, NULL, NULL, "refund", 0);
    assert_string_equal(c.ids, "m4,m6,m1");
    c = list(ib, "new", NULL, "refund", 0);
    assert_string_equal(c.ids, "m6,m1");
    c = list(ib, NULL, "a", "refund", 0);
    assert_string_equal(c.ids, "m1");
    c = list(ib, NULL, NULL, "author:grace", 0);
    assert_string_equal(c.ids, "m5");
    c = list(ib, NULL, NULL, "refu*", 1);
    assert_string_equal(c.ids, "m4");
    c = list(ib, NULL, NULL, "\"new update\"", 0);
    assert_string_equal(c.ids, "m2");
    c = list(ib, NULL, NULL, "", 0); /* empty search: everything */
    assert_int_equal(c.n, 6);

    /* A callback's non-zero return stops the walk and comes back. */
    struct es_inbox_query q = { .limit = 0 };
    memset(&c, 0, sizeof(c));
    c.stop_after = 2;
    assert_int_equal(es_inbox_list(ib, &q, collect_cb, &c), 42);
    assert_string_equal(c.ids, "m5,m4");
    assert_int_equal(
        es_inbox_list(ib, NULL, collect_cb, &(struct collect){ .n = 0 }), 0);
}

/* What is not FTS5 syntax is searched as the words typed: "web-01",
 * "can't", "v3.2" and half a query find text, never a SQLite error. */
static void test_search_malformed(void **state)
{
    struct es_inbox *ib = *state;
    seed_list(ib);
    int64_t a = add_source(ib, "lit");
    put_at(ib, a, "m7", 50, "web-01 is down, can't log in to v3.2 (AND why?)",
           "ivan");
    static const struct {
        const char *search;
        int n;
    } cases[] = {
        { "web-01", 1 },
        { "can't", 1 },
        { "v3.2", 1 },
        { "refund?", 3 },
        { "(refund", 3 },
        { "refund AND", 0 },
        { "\"unterminated", 0 },
        { "nosuchcolumn:x", 0 },
        { "NEAR(", 0 },
        { "a OR OR b", 0 },
        { "AND", 1 },
        { "refund OR battery", 4 },
        { "refu* OR web-01", 4 },
        { "\"log in\" why?", 1 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct es_inbox_query q = { .search = cases[i].search, .limit = 50 };
        struct collect c = { .n = 0 };
        if (es_inbox_list(ib, &q, collect_cb, &c) != 0)
            fail_msg("search '%s': %s", cases[i].search, es_error_last());
        if ((int)c.n != cases[i].n)
            fail_msg("search '%s' found %d, want %d", cases[i].search, (int)c.n,
                     cases[i].n);
    }
    /* FTS5 syntax that is valid keeps its meaning: a column filter. */
    assert_int_equal(search_count(ib, "author:ivan"), 1);
    assert_int_equal(search_count(ib, "refund"), 3);
}

struct nested {
    struct es_inbox *ib;
    int outer;
    int inner;
};

static int inner_cb(const struct es_mention *m, void *payload)
{
    struct nested *n = payload;
    (void)m;
    n->inner++;
    return 0;
}

static int outer_cb(const struct es_mention *m, void *payload)
{
    struct nested *n = payload;
    struct es_mention got;
    n->outer++;
    /* Listing again, reading and writing from inside a listing works. */
    if (es_inbox_list(n->ib, NULL, inner_cb, n) != 0)
        return -100;
    if (es_inbox_get(n->ib, m->id, &got) != 0)
        return -101;
    if (strcmp(got.item.external_id, m->item.external_id) != 0)
        return -102;
    es_mention_release(&got);
    return 0;
}

static void test_list_nested(void **state)
{
    struct es_inbox *ib = *state;
    struct nested n = { .ib = ib };

    seed_list(ib);
    assert_int_equal(es_inbox_list(ib, NULL, outer_cb, &n), 0);
    assert_int_equal(n.outer, 6);
    assert_int_equal(n.inner, 36);
}

/* ==== Crash safety ==== */

#define CRASH_COMMITTED 1000
#define CRASH_SIGNAL_AT 30000 /* well past the page cache: on disk */

/* The doomed writer: one batch that never commits. Never returns. */
static void crash_child(const char *path, int fd)
{
    struct es_inbox *ib = NULL;
    struct es_item it;
    char ext[32], text[512];
    int64_t src = 0;

    if (es_inbox_open(&ib, path) < 0 ||
        es_inbox_source_ensure(ib, "feed", "rss", &src) < 0 ||
        es_inbox_begin(ib) < 0)
        _exit(2);
    es_item_init(&it);
    for (long i = 0; i < 5000000; i++) {
        snprintf(ext, sizeof(ext), "crash-%ld", i);
        make_text(text, sizeof(text), i, "doomed");
        fill_item(&it, ext, "lost", text);
        if (es_inbox_put(ib, src, &it, NULL, NULL, NULL) < 0)
            _exit(3);
        if (i == CRASH_SIGNAL_AT && write(fd, "x", 1) != 1)
            _exit(4);
    }
    _exit(5); /* killed long before */
}

static void test_crash_mid_batch(void **state)
{
    struct tmpdb *t = *state;
    struct es_inbox *ib = NULL;
    struct es_item it;
    struct es_mention m;
    struct stat st;
    char ext[32], text[512], wal[160], byte;
    int64_t src = 0, first = 0;
    int fds[2], status = 0;
    pid_t pid;

    /* A committed batch that must survive. */
    assert_int_equal(es_inbox_open(&ib, t->path), 0);
    assert_int_equal(es_inbox_source_ensure(ib, "feed", "rss", &src), 0);
    assert_int_equal(es_inbox_begin(ib), 0);
    es_item_init(&it);
    for (long i = 0; i < CRASH_COMMITTED; i++) {
        snprintf(ext, sizeof(ext), "kept-%ld", i);
        make_text(text, sizeof(text), i, "survivor");
        fill_item(&it, ext, "kept", text);
        assert_int_equal(put(ib, src, &it, i == 0 ? &first : NULL), ES_PUT_NEW);
    }
    assert_int_equal(es_inbox_commit(ib), 0);
    es_inbox_free(ib);
    ib = NULL;

    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        crash_child(t->path, fds[1]);
    }
    close(fds[1]);
    ssize_t got = read(fds[0], &byte, 1);
    close(fds[0]);
    /* The batch is half written: thousands of pages already in the WAL. */
    snprintf(wal, sizeof(wal), "%s-wal", t->path);
    int have_wal = stat(wal, &st) == 0;
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(got, 1); /* else the child failed: see its status */
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_true(have_wal);
    assert_true(st.st_size > 4 * 1024 * 1024);

    assert_int_equal(es_inbox_open(&ib, t->path), 0);
    {
        sqlite3_stmt *stmt = NULL;
        sqlite3_prepare_v2(es_inbox__db(ib), "PRAGMA integrity_check", -1,
                           &stmt, NULL);
        assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
        assert_string_equal(sqlite3_column_text(stmt, 0), "ok");
        sqlite3_finalize(stmt);
    }
    assert_index_intact(ib);
    assert_int_equal(es_inbox_count(ib), CRASH_COMMITTED);
    assert_int_equal(sql_int(ib, "SELECT count(*) FROM mentions"
                                 " WHERE external_id LIKE 'crash-%'"),
                     0);
    assert_int_equal(sql_int(ib, "SELECT count(*) FROM mentions_fts"),
                     CRASH_COMMITTED);
    assert_int_equal(search_count(ib, "doomed"), 0);
    assert_int_equal(search_count(ib, "survivor"), CRASH_COMMITTED);
    assert_int_equal(es_inbox_get(ib, first, &m), 0);
    make_text(text, sizeof(text), 0, "survivor");
    assert_string_equal(m.item.text, text);
    assert_string_equal(m.item.external_id, "kept-0");
    es_mention_release(&m);
    /* And the writer's place can be taken. */
    fill_item(&it, "after", "t", "after the crash");
    assert_int_equal(put(ib, src, &it, NULL), ES_PUT_NEW);
    es_inbox_free(ib);
    es_item_release(&it);
}

/* A platform post with @ext replying to @parent (may be NULL). */
static void post_item(struct es_item *it, const char *ext, const char *parent,
                      const char *root)
{
    es_item_release(it);
    it->platform = es_xstrdup("mastodon");
    it->external_id = es_xstrdup(ext);
    it->text = es_xstrdup("acme is down");
    it->author = es_xstrdup("ann");
    it->in_reply_to = es_xstrdup(parent);
    it->thread_root = es_xstrdup(root);
    it->kind = parent ? ES_KIND_REPLY : ES_KIND_POST;
}

/* Number of distinct conversations among mentions @a..: 1 when all are
 * grouped together. */
static long long conv_of(struct es_inbox *ib, const char *ext)
{
    return sql_int(
        ib,
        "SELECT count(*) FROM mentions m WHERE m.conversation ="
        " (SELECT conversation FROM mentions WHERE external_id = ?1)",
        ext);
}

/* Replies join their thread whatever order they arrive in; reviews group
 * per author per app; feed entries stand alone. */
static void test_conversations(void **state)
{
    struct es_inbox *ib = *state;
    int64_t src = add_source(ib, "m");
    struct es_item it;
    es_item_init(&it);
    /* Parent first, then its reply. */
    post_item(&it, "1", NULL, NULL);
    put(ib, src, &it, NULL);
    post_item(&it, "2", "1", NULL);
    put(ib, src, &it, NULL);
    assert_int_equal(conv_of(ib, "1"), 2);
    /* A chain arriving backwards: 12 replies to 11, which replies to 10.
     * A ticket opened on 12 alone follows it into the whole thread. */
    post_item(&it, "12", "11", NULL);
    put(ib, src, &it, NULL);
    sql_exec(ib, "INSERT INTO tickets (conversation, context, created_by,"
                 " created_at, updated_at) VALUES ('mastodon:11', '{}', 'dana',"
                 " 0, 0)");
    post_item(&it, "11", "10", NULL);
    put(ib, src, &it, NULL);
    post_item(&it, "10", NULL, NULL);
    put(ib, src, &it, NULL);
    assert_int_equal(conv_of(ib, "10"), 3);
    assert_int_equal(conv_of(ib, "12"), 3);
    assert_int_equal(sql_int(ib, "SELECT count(*) FROM tickets WHERE"
                                 " conversation = 'mastodon:10'"),
                     1);
    /* A platform naming the root joins even a far descendant. */
    post_item(&it, "13", "99", "10");
    put(ib, src, &it, NULL);
    assert_int_equal(conv_of(ib, "10"), 4);
    /* A customer writing into a resolved conversation opens it again. */
    sql_exec(ib, "INSERT INTO conversations (key, resolved_at)"
                 " VALUES ('mastodon:10', 1000)");
    post_item(&it, "14", "13", NULL);
    put(ib, src, &it, NULL);
    assert_int_equal(sql_int(ib, "SELECT resolved_at IS NULL FROM"
                                 " conversations WHERE key = 'mastodon:10'"),
                     1);
    /* Unrelated post: alone. */
    post_item(&it, "20", NULL, NULL);
    put(ib, src, &it, NULL);
    assert_int_equal(conv_of(ib, "20"), 1);
    assert_int_equal(conv_of(ib, "14"), 5);

    /* Reviews: one conversation per author per app (source). */
    int64_t app = add_source(ib, "app");
    for (int k = 0; k < 3; k++) {
        char ext[8];
        snprintf(ext, sizeof(ext), "r%d", k);
        es_item_release(&it);
        it.platform = es_xstrdup("appstore");
        it.external_id = es_xstrdup(ext);
        it.text = es_xstrdup("crashes");
        it.author = es_xstrdup(k < 2 ? "grumpy" : "happy");
        it.kind = ES_KIND_REVIEW;
        it.rating = 1;
        put(ib, app, &it, NULL);
    }
    assert_int_equal(conv_of(ib, "r0"), 2);
    assert_int_equal(conv_of(ib, "r2"), 1);

    /* Feeds: no conversation at all. */
    int64_t feed = add_source(ib, "feed");
    fill_item(&it, "f1", "t", "x");
    put(ib, feed, &it, NULL);
    assert_int_equal(sql_int(ib, "SELECT conversation IS NULL FROM mentions"
                                 " WHERE external_id = 'f1'"),
                     1);
    es_item_release(&it);
}

/* A reply earshot sent, seen again by a poller, is not a new mention. */
static void test_own_reply_not_ingested(void **state)
{
    struct es_inbox *ib = *state;
    int64_t src = add_source(ib, "m");
    struct es_item it;
    es_item_init(&it);
    post_item(&it, "1", NULL, NULL);
    int64_t mid = 0;
    put(ib, src, &it, &mid);
    char *sql = es_xasprintf(
        "INSERT INTO replies (mention_id, account, agent, body, state,"
        " idempotency_key, platform_id, created_at) VALUES"
        " (%lld, 'acme', 'dana', 'sorry!', 'sent', 'k1', '500', 0)",
        (long long)mid);
    sql_exec(ib, sql);
    free(sql);
    post_item(&it, "500", "1", NULL);
    int64_t id = -1;
    assert_int_equal(put(ib, src, &it, &id), ES_PUT_UNCHANGED);
    assert_int_equal(es_inbox_count(ib), 1);
    es_item_release(&it);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_memory, mem_setup,
                                        mem_teardown),
        cmocka_unit_test_setup_teardown(test_open_file_twice, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test_setup_teardown(test_open_empty_file, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test_setup_teardown(test_reader_beside_writer, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test_setup_teardown(test_read_snapshot, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_from_v1, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test_setup_teardown(test_put_new_unchanged_updated,
                                        mem_setup, mem_teardown),
        cmocka_unit_test_setup_teardown(test_dedupe_batches, mem_setup,
                                        mem_teardown),
        cmocka_unit_test_setup_teardown(test_index_follows_batch, mem_setup,
                                        mem_teardown),
        cmocka_unit_test_setup_teardown(test_roundtrip_all_fields, mem_setup,
                                        mem_teardown),
        cmocka_unit_test_setup_teardown(test_unknowns_are_null, mem_setup,
                                        mem_teardown),
        cmocka_unit_test_setup_teardown(test_put_errors, mem_setup,
                                        mem_teardown),
        cmocka_unit_test_setup_teardown(test_conversations, mem_setup,
                                        mem_teardown),
        cmocka_unit_test_setup_teardown(test_own_reply_not_ingested, mem_setup,
                                        mem_teardown),
        cmocka_unit_test_setup_teardown(test_scores_roundtrip, mem_setup,
                                        mem_teardown),
        cmocka_unit_test_setup_teardown(test_scores_follow_edits, mem_setup,
                                        mem_teardown),
        cmocka_unit_test_setup_teardown(test_list_by_priority_and_label,
                                        mem_setup, mem_teardown),
        cmocka_unit_test_setup_teardown(test_scan_batches, mem_setup,
                                        mem_teardown),
        cmocka_unit_test_setup_teardown(test_set_scores, mem_setup,
                                        mem_teardown),
        cmocka_unit_test_setup_teardown(test_rescore, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_from_v2, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test_setup_teardown(test_upgrade_from_v3, tmp_setup,
                                        tmp_teardown),
        cmocka_unit_test_setup_teardown(test_health, mem_setup, mem_teardown),
        cmocka_unit_test_setup_teardown(test_list_order_and_filters, mem_setup,
                                        mem_teardown),
        cmocka_unit_test_setup_teardown(test_search_malformed, mem_setup,
                                        mem_teardown),
        cmocka_unit_test_setup_teardown(test_list_nested, mem_setup,
                                        mem_teardown),
        cmocka_unit_test_setup_teardown(test_crash_mid_batch, tmp_setup,
                                        tmp_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
