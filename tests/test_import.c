/* test_import.c - JSON Lines mentions into the inbox (`earshot import`)
 *
 * Imports files and pipes with es_ingest_import_fd() and checks what was
 * stored: created_at and platform kept, sentiment scored with the shipped
 * lexicon, the source created as "jsonl" (an existing one keeping its
 * type), dedupe on a second import, bad lines reported by number and
 * skipped (bad JSON, missing keys, a line over the length limit), a byte
 * order mark, CRLF and a last line without newline, and a 50,000-line
 * import through a pipe that commits batches while the writer is still
 * writing (it never holds the whole input). Then `earshot import` with a
 * file and with stdin.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* cmocka.h needs setjmp.h, stdarg.h and stddef.h first. */
#include <cmocka.h>

#include "earshot/alloc.h"
#include "earshot/buf.h"
#include "earshot/error.h"
#include "earshot/inbox.h"
#include "earshot/ingest.h"
#include "earshot/jsonl.h"
#include "fixtures.h"
#include "runcli.h"

#define T0 INT64_C(1715299200) /* 2024-05-10T00:00:00Z */

static char tmpdir[] = "/tmp/es-import-XXXXXX";
static struct es_scorer *scorer; /* the shipped lexicon, loaded once */

/* ==== Helpers ==== */

/* Writes @len bytes of @data to tmpdir/@name; returns the path (free it). */
static char *write_file(const char *name, const char *data, size_t len)
{
    char *path = es_xasprintf("%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

/* The bad lines an import reported. */
struct bad_seen {
    unsigned long lines[16];
    char why[16][200];
    size_t n;
};

static void on_bad(unsigned long lineno, const char *why, void *payload)
{
    struct bad_seen *bs = payload;
    if (bs->n < 16) {
        bs->lines[bs->n] = lineno;
        snprintf(bs->why[bs->n], sizeof(bs->why[0]), "%s", why);
    }
    bs->n++;
}

/* Imports tmpdir/@name (holding @data) as source @source. */
static int import_text(struct es_inbox *ib, const struct es_scorer *sc,
                       const char *source, const char *data, size_t len,
                       struct bad_seen *bs, struct es_import_report *rep)
{
    char *path = write_file("in.jsonl", data, len);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    struct es_import_opts opts = {
        .source = source,
        .bad = on_bad,
        .payload = bs,
    };
    int rc = es_ingest_import_fd(ib, sc, fd, &opts, rep);
    close(fd);
    free(path);
    return rc;
}

static struct es_inbox *new_inbox(void)
{
    struct es_inbox *ib = NULL;
    assert_int_equal(es_inbox_open(&ib, ":memory:"), 0);
    return ib;
}

/* Reads the mention of @ext_id stored last (ids grow) into *m. */
struct find {
    const char *ext_id;
    int64_t id;
};

static int find_cb(const struct es_mention *m, void *payload)
{
    struct find *f = payload;
    if (strcmp(m->item.external_id, f->ext_id) == 0)
        f->id = m->id;
    return 0;
}

static void get_mention(struct es_inbox *ib, const char *ext_id,
                        struct es_mention *m)
{
    struct find f = { ext_id, 0 };
    struct es_inbox_query q = { .limit = 100000 };
    assert_int_equal(es_inbox_list(ib, &q, find_cb, &f), 0);
    if (!f.id)
        fail_msg("no mention '%s'", ext_id);
    assert_int_equal(es_inbox_get(ib, f.id, m), 0);
}

/* ==== Importing ==== */

static const char MENTIONS[] =
    "{\"id\":\"a1\",\"platform\":\"mastodon\",\"author\":\"carol\","
    "\"created_at\":\"2024-05-10T14:03:00Z\",\"lang\":\"en\","
    "\"text\":\"I hate this, the service is awful and broken again\"}\n"
    "{\"id\":\"a2\",\"created_at\":1715350000,"
    "\"text\":\"love it, great work, thank you\"}\n"
    "{\"id\":3,\"text\":\"release notes for version 3\"}\n";

static void test_keeps_created_at_and_scores(void **state)
{
    (void)state;
    struct es_inbox *ib = new_inbox();
    struct bad_seen bs = { 0 };
    struct es_import_report rep;
    struct es_mention m;

    assert_int_equal(
        import_text(ib, scorer, NULL, MENTIONS, strlen(MENTIONS), &bs, &rep),
        0);
    assert_int_equal(rep.nlines, 3);
    assert_int_equal(rep.nnew, 3);
    assert_int_equal(rep.nupdated + rep.nunchanged + rep.nbad, 0);
    assert_int_equal(rep.nbatches, 1);
    assert_int_equal(bs.n, 0);

    get_mention(ib, "a1", &m);
    assert_int_equal(m.item.created_at, T0 + 14 * 3600 + 3 * 60);
    assert_string_equal(m.item.platform, "mastodon");
    assert_string_equal(m.item.author, "carol");
    assert_string_equal(m.item.source, "import");
    assert_true(m.scored);
    assert_int_equal(m.label, -1);
    assert_true(m.sentiment < -0.3);
    assert_true(m.prioritised);
    assert_true(m.item.fetched_at != ES_TIME_UNKNOWN);
    es_mention_release(&m);

    get_mention(ib, "a2", &m);
    assert_int_equal(m.item.created_at, 1715350000);
    assert_string_equal(m.item.platform, "jsonl"); /* none given */
    assert_true(m.scored);
    assert_int_equal(m.label, 1);
    es_mention_release(&m);

    get_mention(ib, "3", &m);
    assert_int_equal(m.item.created_at, ES_TIME_UNKNOWN);
    assert_true(m.scored);
    es_mention_release(&m);

    /* A new source is of type jsonl. */
    struct es_source_health h;
    assert_int_equal(es_inbox_health_get(ib, "import", &h), 0);
    assert_string_equal(h.type, "jsonl");
    es_source_health_release(&h);
    assert_int_equal(es_inbox_count(ib), 3);
    es_inbox_free(ib);
}

static void test_bad_lines_numbered_and_skipped(void **state)
{
    (void)state;
    static const char in[] =
        "{\"id\":\"g1\",\"text\":\"good one\"}\n"       /* 1 */
        "{\"id\":\"b1\",\"text\":\n"                    /* 2: bad JSON */
        "\n"                                            /* 3: blank */
        "{\"id\":\"b2\"}\n"                             /* 4: no text */
        "   \t\r\n"                                     /* 5: blank */
        "[1,2,3]\n"                                     /* 6: not an object */
        "{\"id\":\"b3\",\"text\":\"x\",\"rating\":9}\n" /* 7: bad rating */
        "{\"id\":\"g2\",\"text\":\"good two\"}\n";      /* 8 */
    struct es_inbox *ib = new_inbox();
    struct bad_seen bs = { 0 };
    struct es_import_report rep;

    assert_int_equal(import_text(ib, scorer, "dump", in, strlen(in), &bs, &rep),
                     0);
    assert_int_equal(rep.nlines, 8);
    assert_int_equal(rep.nnew, 2);
    assert_int_equal(rep.nbad, 4);
    assert_int_equal(bs.n, 4);
    assert_int_equal(bs.lines[0], 2);
    assert_int_equal(bs.lines[1], 4);
    assert_int_equal(bs.lines[2], 6);
    assert_int_equal(bs.lines[3], 7);
    assert_non_null(strstr(bs.why[1], "text"));
    assert_non_null(strstr(bs.why[3], "rating"));
    assert_int_equal(es_inbox_count(ib), 2);
    es_inbox_free(ib);
}

static void test_bom_crlf_last_line_and_long_line(void **state)
{
    (void)state;
    struct es_inbox *ib = new_inbox();
    struct bad_seen bs = { 0 };
    struct es_import_report rep;

    static const char in[] = "\xEF\xBB\xBF{\"id\":\"c1\",\"text\":\"one\"}\r\n"
                             "{\"id\":\"c2\",\"text\":\"two\"}";
    assert_int_equal(import_text(ib, scorer, NULL, in, strlen(in), &bs, &rep),
                     0);
    assert_int_equal(rep.nnew, 2);
    assert_int_equal(rep.nbad, 0);
    assert_int_equal(rep.nlines, 2);

    /* A line over the limit is skipped as it streams by; the lines around
     * it are kept, and so is a long line under the limit. */
    struct es_buf b = ES_BUF_INIT;
    es_buf_adds(&b, "{\"id\":\"d1\",\"text\":\"before\"}\n{\"id\":\"d2\","
                    "\"text\":\"");
    for (size_t i = 0; i < ES_JSONL_MAX_LINE + 1000; i++)
        es_buf_addch(&b, 'x');
    es_buf_adds(&b, "\"}\n{\"id\":\"d3\",\"text\":\"after\"}\n{\"id\":\"d4\","
                    "\"text\":\"");
    for (size_t i = 0; i < 500000; i++)
        es_buf_addch(&b, 'y');
    es_buf_adds(&b, "\"}\n");
    /* And one over the limit at the end, with no newline. */
    es_buf_adds(&b, "{\"id\":\"d5\",\"text\":\"");
    for (size_t i = 0; i < ES_JSONL_MAX_LINE; i++)
        es_buf_addch(&b, 'z');
    memset(&bs, 0, sizeof(bs));
    assert_int_equal(import_text(ib, scorer, NULL, b.ptr, b.len, &bs, &rep), 0);
    assert_int_equal(rep.nlines, 5);
    assert_int_equal(rep.nnew, 3);
    assert_int_equal(rep.nbad, 2);
    assert_int_equal(bs.lines[0], 2);
    assert_int_equal(bs.lines[1], 5);
    assert_non_null(strstr(bs.why[0], "longer than"));
    es_buf_release(&b);
    assert_int_equal(es_inbox_count(ib), 5);
    es_inbox_free(ib);
}

static void test_dedupe_source_type_unscored(void **state)
{
    (void)state;
    struct es_inbox *ib = new_inbox();
    struct bad_seen bs = { 0 };
    struct es_import_report rep;
    struct es_mention m;

    /* A configured source being backfilled keeps its type. */
    assert_int_equal(es_inbox_source_ensure(ib, "hn", "hackernews", NULL), 0);
    assert_int_equal(
        import_text(ib, NULL, "hn", MENTIONS, strlen(MENTIONS), &bs, &rep), 0);
    assert_int_equal(rep.nnew, 3);
    struct es_source_health h;
    assert_int_equal(es_inbox_health_get(ib, "hn", &h), 0);
    assert_string_equal(h.type, "hackernews");
    es_source_health_release(&h);
    /* No scorer: stored unscored. */
    get_mention(ib, "a1", &m);
    assert_false(m.scored);
    es_mention_release(&m);

    /* Again: nothing new. With a changed text: an update, scored now. */
    assert_int_equal(
        import_text(ib, scorer, "hn", MENTIONS, strlen(MENTIONS), &bs, &rep),
        0);
    assert_int_equal(rep.nnew, 0);
    assert_int_equal(rep.nunchanged, 3);
    static const char edited[] =
        "{\"id\":\"a1\",\"platform\":\"mastodon\",\"text\":\"now it works, "
        "thanks\"}\n";
    assert_int_equal(
        import_text(ib, scorer, "hn", edited, strlen(edited), &bs, &rep), 0);
    assert_int_equal(rep.nupdated, 1);
    get_mention(ib, "a1", &m);
    assert_true(m.edited);
    assert_true(m.scored);
    es_mention_release(&m);
    assert_int_equal(es_inbox_count(ib), 3);
    assert_int_equal(bs.n, 0);
    es_inbox_free(ib);
}

static void test_unreadable_input(void **state)
{
    (void)state;
    struct es_inbox *ib = new_inbox();
    struct es_import_report rep;
    /* A directory opens but cannot be read. */
    int fd = open(tmpdir, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(es_ingest_import_fd(ib, scorer, fd, NULL, &rep), ES_ERROR);
    assert_non_null(strstr(es_error_last(), "cannot read"));
    close(fd);
    es_inbox_free(ib);
}

/* ==== A large import stays streaming ==== */

enum { BIG_LINES = 50000, PAUSE_AT = 20000 };

/* The writer end of a pipe, and what the importer has committed. */
struct stream {
    int fd;
    pthread_mutex_t lock; /* guards the fields below */
    pthread_cond_t cond;
    size_t written; /* lines written so far */
    size_t batches; /* committed by the importer */
    size_t written_at_first_batch;
    int paused_until_commit; /* 1: the importer committed while the
                                writer was waiting at PAUSE_AT */
};

static void write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t)n;
    }
}

static void *writer_main(void *arg)
{
    struct stream *s = arg;
    char line[256];
    for (size_t i = 0; i < BIG_LINES; i++) {
        if (i == PAUSE_AT) {
            /* Wait for a commit: an importer that read everything first
             * would never make one, and the wait would time out. */
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 120;
            pthread_mutex_lock(&s->lock);
            while (s->batches == 0 &&
                   pthread_cond_timedwait(&s->cond, &s->lock, &until) == 0)
                ;
            s->paused_until_commit = s->batches > 0;
            pthread_mutex_unlock(&s->lock);
        }
        int n = snprintf(line, sizeof(line),
                         "{\"id\":\"big-%zu\",\"created_at\":%lld,"
                         "\"text\":\"mention number %zu is %s\"}\n",
                         i, (long long)(T0 + (int64_t)i * 60), i,
                         i % 3 ? "great" : "terrible");
        write_all(s->fd, line, (size_t)n);
        pthread_mutex_lock(&s->lock);
        s->written = i + 1;
        pthread_mutex_unlock(&s->lock);
    }
    close(s->fd);
    return NULL;
}

static void on_batch(const struct es_import_report *r, void *payload)
{
    struct stream *s = payload;
    pthread_mutex_lock(&s->lock);
    if (s->batches++ == 0)
        s->written_at_first_batch = s->written;
    (void)r;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static void test_large_import_streams(void **state)
{
    (void)state;
    struct es_inbox *ib = new_inbox();
    struct stream s = { 0 };
    struct es_import_report rep;
    int fds[2];
    pthread_t writer;

    assert_int_equal(pipe(fds), 0);
    s.fd = fds[1];
    pthread_mutex_init(&s.lock, NULL);
    pthread_cond_init(&s.cond, NULL);
    assert_int_equal(pthread_create(&writer, NULL, writer_main, &s), 0);
    struct es_import_opts opts = {
        .source = "big",
        .progress = on_batch,
        .payload = &s,
    };
    int rc = es_ingest_import_fd(ib, scorer, fds[0], &opts, &rep);
    pthread_join(writer, NULL);
    close(fds[0]);
    assert_int_equal(rc, 0);

    assert_int_equal(rep.nlines, BIG_LINES);
    assert_int_equal(rep.nnew, BIG_LINES);
    assert_int_equal(rep.nbad, 0);
    /* 4096 per transaction. */
    assert_int_equal(rep.nbatches, (BIG_LINES + 4095) / 4096);
    assert_int_equal(s.batches, rep.nbatches);
    /* The first batch was stored before the input ended. */
    assert_true(s.paused_until_commit);
    assert_true(s.written_at_first_batch <= PAUSE_AT);
    assert_int_equal(es_inbox_count(ib), BIG_LINES);

    struct es_mention m;
    get_mention(ib, "big-49999", &m);
    assert_int_equal(m.item.created_at, T0 + 49999 * 60);
    assert_true(m.scored);
    es_mention_release(&m);
    pthread_cond_destroy(&s.cond);
    pthread_mutex_destroy(&s.lock);
    es_inbox_free(ib);
}

/* ==== The command line ==== */

static void test_cli_import(void **state)
{
    (void)state;
    char *conf = es_xasprintf("%s/test.conf", tmpdir);
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fputs("[earshot]\ndatabase = cli.db\n", f);
    fclose(f);
    struct es_run_opts ro = {
        .bin = ES_EARSHOT_BIN,
        .tmpdir = tmpdir,
        .config = conf,
    };
    struct es_run r;

    static const char with_bad[] =
        "{\"id\":\"x1\",\"text\":\"awful, I hate it\","
        "\"created_at\":\"2024-05-10T10:00:00Z\"}\n"
        "not json at all\n"
        "{\"id\":\"x2\",\"text\":\"great, love it\"}\n"
        "{\"text\":\"no id\"}\n";
    char *path = write_file("cli.jsonl", with_bad, strlen(with_bad));
    es_run_earshot(&r, &ro, NULL, "import", path, NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out.ptr,
                        "import: 2 new, 0 updated, 0 unchanged, 2 bad\n");
    char *where = es_xasprintf("%s:2: ", path);
    assert_non_null(strstr(r.err.ptr, where));
    free(where);
    where = es_xasprintf("%s:4: ", path);
    assert_non_null(strstr(r.err.ptr, where));
    free(where);
    es_run_release(&r);

    /* The same again from stdin, under another source. */
    es_run_earshot(&r, &ro, path, "import", "-", "--source", "backfill", NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out.ptr,
                        "backfill: 2 new, 0 updated, 0 unchanged, 2 bad\n");
    assert_non_null(strstr(r.err.ptr, "<stdin>:2: "));
    es_run_release(&r);

    /* What was stored: scored, created_at kept, counted by stats. */
    es_run_earshot(&r, &ro, NULL, "inbox", "--source", "backfill", "--json",
                   NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(
        strstr(r.out.ptr, "\"created_at\":\"2024-05-10T10:00:00Z\""));
    assert_non_null(strstr(r.out.ptr, "\"label\":\"negative\""));
    es_run_release(&r);
    es_run_earshot(&r, &ro, NULL, "stats", "--since", "2024-05-10T10:00:00Z",
                   "--until", "2024-05-10T11:00:00Z", "--csv", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "2024-05-10T10:00:00Z,(all),2,2,0,0,0,"));
    es_run_release(&r);

    /* Nothing but bad lines: exit 1. A missing file: exit 1. */
    char *junk = write_file("junk.jsonl", "a\nb\n", 4);
    es_run_earshot(&r, &ro, NULL, "import", junk, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err.ptr, "error: "));
    es_run_release(&r);
    es_run_earshot(&r, &ro, NULL, "import", "/nonexistent/x.jsonl", NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err.ptr, "/nonexistent/x.jsonl"));
    es_run_release(&r);
    /* A private message says so in `show`, for the agent about to answer. */
    static const char dm[] =
        "{\"id\":\"d1\",\"platform\":\"mastodon\",\"text\":\"my account "
        "email is jo@x.example\",\"reply_ref\":\"{\\\"id\\\":\\\"d1\\\","
        "\\\"visibility\\\":\\\"direct\\\"}\"}\n";
    char *dmp = write_file("dm.jsonl", dm, strlen(dm));
    es_run_earshot(&r, &ro, NULL, "import", dmp, "--source", "dms", NULL);
    assert_int_equal(r.status, 0);
    es_run_release(&r);
    es_run_earshot(&r, &ro, NULL, "inbox", "--source", "dms", "--json", NULL);
    assert_int_equal(r.status, 0);
    const char *idp = strstr(r.out.ptr, "\"mention_id\":");
    assert_non_null(idp);
    char idbuf[24];
    snprintf(idbuf, sizeof(idbuf), "%lld", atoll(idp + 13));
    es_run_release(&r);
    es_run_earshot(&r, &ro, NULL, "show", idbuf, NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "visibility: direct (a private "
                                      "message: replies stay private)\n"));
    es_run_release(&r);
    free(dmp);
    /* Usage. */
    es_run_earshot(&r, &ro, NULL, "import", NULL);
    assert_int_equal(r.status, 2);
    es_run_release(&r);
    es_run_earshot(&r, &ro, NULL, "import", "--help", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "earshot import FILE"));
    es_run_release(&r);
    free(junk);
    free(path);
    free(conf);
}

/* ==== Fixtures ==== */

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(tmpdir))
        return -1;
    if (es_scorer_open(&scorer, NULL, ES_SOURCE_DIR "/config") != 0) {
        fprintf(stderr, "no lexicon: %s\n", es_error_last());
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    es_scorer_free(scorer);
    es_fx_rmtree(tmpdir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keeps_created_at_and_scores),
        cmocka_unit_test(test_bad_lines_numbered_and_skipped),
        cmocka_unit_test(test_bom_crlf_last_line_and_long_line),
        cmocka_unit_test(test_dedupe_source_type_unscored),
        cmocka_unit_test(test_unreadable_input),
        cmocka_unit_test(test_large_import_streams),
        cmocka_unit_test(test_cli_import),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
