/* test_net_ingest.c - the pipeline end to end over loopback HTTP
 *
 * Config -> poller -> writer thread -> SQLite, against the test server:
 * what a poll stores, what it records about each source's health, and that
 * one source's trouble never costs another its mentions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* cmocka needs stdarg, stddef and setjmp first. */
#include <cmocka.h>

#include <sqlite3.h>

#include "earshot/alloc.h"
#include "earshot/buf.h"
#include "earshot/config.h"
#include "earshot/error.h"
#include "earshot/inbox.h"
#include "earshot/ingest.h"
#include "fixtures.h"
#include "testhttpd.h"

static const char FEED_V1[] =
    "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>"
    "<item><guid>a</guid><title>First</title>"
    "<description>Still waiting for a refund</description></item>"
    "<item><guid>b</guid><title>Second</title>"
    "<description>Love the new dashboard</description></item>"
    "</channel></rss>";

/* The same feed after its author edited entry a. */
static const char FEED_V2[] =
    "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>"
    "<item><guid>a</guid><title>First</title>"
    "<description>Refund arrived, thanks</description></item>"
    "<item><guid>b</guid><title>Second</title>"
    "<description>Love the new dashboard</description></item>"
    "</channel></rss>";

struct fixture {
    struct es_testhttpd *srv;
    char dir[32];
    char *db_path;
    struct es_config *cfg;
    struct es_inbox *ib;
    struct es_scorer *sc;
    struct es_ingest *ig;
    /* the last pass's reports, by source */
    struct es_ingest_report rep[4];
    char errors[4][512];
    const char *names[4];
    size_t nrep;
};

static void on_report(const struct es_ingest_report *r, void *payload)
{
    struct fixture *f = payload;
    if (f->nrep >= 4)
        return;
    f->rep[f->nrep] = *r;
    snprintf(f->errors[f->nrep], sizeof(f->errors[0]), "%s",
             r->error ? r->error : "");
    f->rep[f->nrep].error = f->errors[f->nrep];
    f->names[f->nrep] = r->source;
    f->nrep++;
}

static const struct es_ingest_report *report_of(struct fixture *f,
                                                const char *name)
{
    for (size_t i = 0; i < f->nrep; i++)
        if (strcmp(f->names[i], name) == 0)
            return &f->rep[i];
    fail_msg("no report for source '%s'", name);
    return NULL;
}

static void poll_all(struct fixture *f)
{
    f->nrep = 0;
    assert_int_equal(
        es_ingest_poll(f->ig, ES_INGEST_ALL, NULL, on_report, f, NULL), 0);
}

/* Opens config text @conf_fmt (@BASE@ stands for the server's base URL)
 * on a fresh database file. */
static void open_pipeline(struct fixture *f, const char *conf_fmt)
{
    char *base = es_testhttpd_url(f->srv, "");
    struct es_buf conf_buf = ES_BUF_INIT;
    for (const char *p = conf_fmt; *p;) {
        if (strncmp(p, "@BASE@", 6) == 0) {
            es_buf_adds(&conf_buf, base);
            p += 6;
        } else {
            es_buf_addch(&conf_buf, *p++);
        }
    }
    char *conf = es_buf_detach(&conf_buf);
    assert_int_equal(es_config_load_string(&f->cfg, conf, "test.conf"), 0);
    assert_int_equal(es_inbox_open(&f->ib, f->db_path), 0);
    if (es_scorer_open(&f->sc, f->cfg, ES_SOURCE_DIR "/config") != 0)
        fail_msg("%s", es_error_last());
    assert_int_equal(es_ingest_open(&f->ig, f->cfg, f->ib, f->sc), 0);
    free(conf);
    free(base);
}

static int setup(void **state)
{
    struct fixture *f = es_xcalloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/es-ingest-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->db_path = es_xasprintf("%s/inbox.db", f->dir);
    assert_int_equal(es_testhttpd_open(&f->srv, 0), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    es_ingest_free(f->ig);
    es_scorer_free(f->sc);
    es_inbox_free(f->ib);
    es_config_free(f->cfg);
    es_testhttpd_free(f->srv);
    es_fx_rmtree(f->dir);
    free(f->db_path);
    free(f);
    return 0;
}

static void health(struct fixture *f, const char *name,
                   struct es_source_health *h)
{
    assert_int_equal(es_inbox_health_get(f->ib, name, h), 0);
}

static void test_failing_source_does_not_stop_others(void **state)
{
    struct fixture *f = *state;
    struct es_testhttpd_response ok = {
        .content_type = "application/rss+xml",
        .body = FEED_V1,
        .etag = "\"v1\"",
    };
    struct es_testhttpd_response broken = { .status = 500, .body = "oops" };
    es_testhttpd_route(f->srv, "/good.xml", &ok);
    es_testhttpd_route(f->srv, "/broken.xml", &broken);
    open_pipeline(f, "[source \"good\"]\ntype = rss\nurl = @BASE@/good.xml\n"
                     "interval = 600\n"
                     "[source \"broken\"]\ntype = rss\n"
                     "url = @BASE@/broken.xml\ninterval = 600\n");

    int64_t t0 = es_time_now();
    poll_all(f);
    assert_int_equal(f->nrep, 2);
    assert_int_equal(report_of(f, "good")->status, 0);
    assert_int_equal(report_of(f, "good")->nnew, 2);
    assert_true(report_of(f, "broken")->status < 0);
    assert_non_null(strstr(report_of(f, "broken")->error, "500"));
    assert_int_equal(es_inbox_count(f->ib), 2);

    struct es_source_health h;
    health(f, "broken", &h);
    assert_int_equal(h.failures, 1);
    assert_non_null(strstr(h.last_error, "500"));
    assert_true(h.last_success == ES_TIME_UNKNOWN);
    int64_t first_wait = h.next_poll - t0;
    es_source_health_release(&h);
    health(f, "good", &h);
    assert_int_equal(h.failures, 0);
    assert_null(h.last_error);
    assert_string_equal(h.etag, "\"v1\"");
    assert_true(h.next_poll >= t0 + 540); /* 600 s less the jitter */
    es_source_health_release(&h);

    /* Second pass: the good feed answers 304 to its validator and is not
     * parsed; the broken one backs off further. */
    poll_all(f);
    assert_int_equal(report_of(f, "good")->status, ES_EUNCHANGED);
    char *inm = es_testhttpd_header(f->srv, "/good.xml", 1, "If-None-Match");
    assert_non_null(inm);
    assert_string_equal(inm, "\"v1\"");
    free(inm);
    health(f, "broken", &h);
    assert_int_equal(h.failures, 2);
    assert_true(h.next_poll - es_time_now() > first_wait);
    es_source_health_release(&h);
    assert_int_equal(es_inbox_count(f->ib), 2);
}

/* A source its kind will not open (its token file is not there yet)
 * does not stop the others: it is reported failing at each pass, with
 * backoff, and joins the others once the file is there. */
static void test_source_that_cannot_open(void **state)
{
    struct fixture *f = *state;
    struct es_testhttpd_response ok = {
        .content_type = "application/rss+xml",
        .body = FEED_V1,
    };
    es_testhttpd_route(f->srv, "/good.xml", &ok);
    char *tok = es_xasprintf("%s/token", f->dir);
    char *conf = es_xasprintf("[source \"good\"]\ntype = rss\n"
                              "url = @BASE@/good.xml\n"
                              "[source \"gh\"]\ntype = mastodon\n"
                              "base_url = @BASE@\nmentions = yes\n"
                              "token_file = %s\n",
                              tok);
    open_pipeline(f, conf);
    poll_all(f);
    assert_int_equal(f->nrep, 2);
    assert_int_equal(report_of(f, "good")->nnew, 2);
    assert_int_equal(report_of(f, "gh")->status, ES_EINVALID);
    assert_non_null(strstr(report_of(f, "gh")->error, "token_file"));
    struct es_source_health h;
    health(f, "gh", &h);
    assert_int_equal(h.failures, 1);
    assert_non_null(strstr(h.last_error, "cannot read token_file"));
    assert_true(h.next_poll > es_time_now());
    es_source_health_release(&h);

    /* Not due: a pass of due sources leaves it alone. */
    f->nrep = 0;
    size_t n = 9;
    assert_int_equal(es_ingest_poll(f->ig, 0, NULL, on_report, f, &n), 0);
    assert_int_equal(n, 0);

    /* The file is there now: the same pipeline polls it. */
    FILE *fp = fopen(tok, "w");
    assert_non_null(fp);
    fputs("tok-123456\n", fp);
    fclose(fp);
    es_testhttpd_route(f->srv, "/api/v1/notifications",
                       &(struct es_testhttpd_response){
                           .content_type = "application/json",
                           .body = "[]",
                       });
    poll_all(f);
    assert_int_equal(report_of(f, "gh")->status, 0);
    char *auth = es_testhttpd_header(f->srv, "/api/v1/notifications", -1,
                                     "Authorization");
    assert_non_null(auth);
    assert_non_null(strstr(auth, "tok-123456"));
    free(auth);
    free(conf);
    free(tok);
}

static int count_one(const struct es_mention *m, void *payload)
{
    (void)m;
    (*(size_t *)payload)++;
    return 0;
}

static size_t search_count(struct fixture *f, const char *query)
{
    struct es_inbox_query q = { .search = query };
    size_t n = 0;
    assert_int_equal(es_inbox_list(f->ib, &q, count_one, &n), 0);
    return n;
}

static int has_reason(const struct es_mention *m, const char *reason)
{
    for (size_t i = 0; i < m->nreasons; i++)
        if (strcmp(m->reasons[i], reason) == 0)
            return 1;
    return 0;
}

static void test_edit_updates_in_place_keeping_state(void **state)
{
    struct fixture *f = *state;
    struct es_testhttpd_response v1 = { .body = FEED_V1 };
    es_testhttpd_route(f->srv, "/feed.xml", &v1);
    open_pipeline(f, "[source \"blog\"]\ntype = rss\nurl = @BASE@/feed.xml\n");
    poll_all(f);
    assert_int_equal(report_of(f, "blog")->nnew, 2);

    /* Every polled mention is stored scored: sentiment, priority, and
     * why, with the classifier's language for an item that had none. */
    struct es_mention m;
    assert_int_equal(es_inbox_get(f->ib, 1, &m), 0);
    assert_string_equal(m.item.text, "Still waiting for a refund");
    assert_int_equal(m.scored, 1);
    assert_true(m.sentiment <= -0.05);
    assert_int_equal(m.label, -1);
    assert_true(m.neg > 0);
    assert_int_equal(m.low_confidence, 0);
    assert_string_equal(m.item.lang, "en");
    assert_int_equal(m.prioritised, 1);
    assert_true(m.priority > 0);
    assert_true(has_reason(&m, "mentions refund"));
    assert_non_null(m.reasons[0]);
    assert_int_equal(strncmp(m.reasons[0], "negative -0.", 12), 0);
    int priority_a = m.priority;
    es_mention_release(&m);
    assert_int_equal(es_inbox_get(f->ib, 2, &m), 0);
    assert_int_equal(m.label, 1);
    assert_true(m.priority < priority_a);
    es_mention_release(&m);

    /* An agent has opened entry a in the meantime. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(f->db_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "UPDATE mentions SET state = 'open',"
                                  " assignee = 'sam' WHERE external_id = 'a'",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);

    struct es_testhttpd_response v2 = { .body = FEED_V2 };
    es_testhttpd_route(f->srv, "/feed.xml", &v2);
    poll_all(f);
    assert_int_equal(report_of(f, "blog")->nnew, 0);
    assert_int_equal(report_of(f, "blog")->nupdated, 1);
    assert_int_equal(report_of(f, "blog")->nunchanged, 1);
    assert_int_equal(es_inbox_count(f->ib), 2);

    assert_int_equal(es_inbox_get(f->ib, 1, &m), 0);
    assert_string_equal(m.item.external_id, "a");
    assert_string_equal(m.item.text, "Refund arrived, thanks");
    assert_string_equal(m.state, "open");
    assert_string_equal(m.assignee, "sam");
    assert_true(m.edited);
    /* The edit was scored again, from its new text. */
    assert_int_equal(m.label, 1);
    assert_true(m.sentiment >= 0.05);
    assert_true(m.priority < priority_a);
    for (size_t i = 0; i < m.nreasons; i++)
        assert_int_not_equal(strncmp(m.reasons[i], "negative", 8), 0);
    assert_true(has_reason(&m, "mentions refund"));
    es_mention_release(&m);

    /* Search follows the edit: the new words find it, the old don't. */
    assert_int_equal(search_count(f, "arrived"), 1);
    assert_int_equal(search_count(f, "waiting"), 0);
}

static void test_retry_after_is_honoured(void **state)
{
    struct fixture *f = *state;
    struct es_testhttpd_response limited = {
        .status = 429,
        .headers = "Retry-After: 3600\r\n",
    };
    es_testhttpd_route(f->srv, "/busy.xml", &limited);
    open_pipeline(f, "[source \"busy\"]\ntype = rss\nurl = @BASE@/busy.xml\n"
                     "interval = 60\n");
    int64_t t0 = es_time_now();
    poll_all(f);
    assert_int_equal(report_of(f, "busy")->status, ES_ERATELIMIT);
    struct es_source_health h;
    health(f, "busy", &h);
    assert_int_equal(h.failures, 1);
    assert_true(h.next_poll >= t0 + 3600);
    es_source_health_release(&h);

    /* Not due: a plain pass leaves it alone. */
    f->nrep = 0;
    size_t n = 99;
    assert_int_equal(es_ingest_poll(f->ig, 0, NULL, on_report, f, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(es_testhttpd_hits(f->srv, "/busy.xml"), 1);
}

static void test_malformed_feed_keeps_recovered_entries(void **state)
{
    struct fixture *f = *state;
    struct es_testhttpd_response cut = {
        .body = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>"
                "<item><guid>x1</guid><title>Kept</title></item>\n"
                "<item><guid>x2</guid><title>Also kept</title></item>\n"
                "<item><guid>x3</guid><title>Cut off",
    };
    es_testhttpd_route(f->srv, "/cut.xml", &cut);
    open_pipeline(f, "[source \"cut\"]\ntype = rss\nurl = @BASE@/cut.xml\n");
    poll_all(f);
    assert_int_equal(report_of(f, "cut")->status, 0);
    assert_int_equal(report_of(f, "cut")->nnew, 2);
    struct es_source_health h;
    health(f, "cut", &h);
    assert_int_equal(h.failures, 0);
    assert_non_null(h.last_error);
    assert_non_null(strstr(h.last_error, "line"));
    es_source_health_release(&h);
}

/* A Mastodon status with id @id, as the API returns it. */
static char *status_json(const char *id, const char *text)
{
    return es_xasprintf(
        "{\"id\":\"%s\",\"created_at\":\"2026-11-20T10:00:%02dZ\","
        "\"in_reply_to_id\":null,\"in_reply_to_account_id\":null,"
        "\"sensitive\":false,\"spoiler_text\":\"\",\"visibility\":\"public\","
        "\"language\":\"en\",\"uri\":\"https://m.example/users/ann/statuses/"
        "%s\",\"url\":\"https://m.example/@ann/%s\",\"content\":\"<p>%s</p>\","
        "\"reblog\":null,\"account\":{\"id\":\"7\",\"username\":\"ann\","
        "\"acct\":\"ann\",\"display_name\":\"Ann\",\"followers_count\":12},"
        "\"media_attachments\":[],\"mentions\":[],\"tags\":[],\"emojis\":[]}",
        id, atoi(id) % 60, id, id, text);
}

static long long count_mentions(struct fixture *f)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    long long n = -1;
    assert_int_equal(
        sqlite3_open_v2(f->db_path, &db, SQLITE_OPEN_READONLY, NULL),
        SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT count(*) FROM mentions", -1, &st, NULL),
        SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* An API source's cursor is stored with its page, survives a restart, and
 * the next poll asks for what came after it: no gap, no duplicate. */
static void test_api_cursor_resumes_after_restart(void **state)
{
    struct fixture *f = *state;
    char *a = status_json("101", "Acme is down again");
    char *b = status_json("100", "Acme support fixed it");
    char *c = status_json("102", "Acme is back, thanks");
    char *page1 = es_xasprintf("[%s,%s]", a, b);
    char *page2 = es_xasprintf("[%s]", c);
    struct es_testhttpd_response seq[] = {
        { .content_type = "application/json", .body = page1 },
        { .content_type = "application/json", .body = page2 },
        { .content_type = "application/json", .body = "[]" },
    };
    const char *path = "/api/v1/timelines/tag/acme";
    es_testhttpd_route_seq(f->srv, path, seq, 3);
    const char *conf = "[source \"m\"]\ntype = mastodon\nbase_url = @BASE@\n"
                       "tag = acme\ncontext = no\n";
    open_pipeline(f, conf);
    poll_all(f);
    assert_int_equal(report_of(f, "m")->status, 0);
    assert_int_equal(report_of(f, "m")->nnew, 2);
    struct es_source_health h;
    health(f, "m", &h);
    assert_non_null(h.cursor);
    assert_non_null(strstr(h.cursor, "101"));
    es_source_health_release(&h);

    /* A restart: everything reopened from the database file. */
    es_ingest_free(f->ig);
    es_scorer_free(f->sc);
    es_inbox_free(f->ib);
    es_config_free(f->cfg);
    f->ig = NULL;
    f->sc = NULL;
    f->ib = NULL;
    f->cfg = NULL;
    open_pipeline(f, conf);
    poll_all(f);
    assert_int_equal(report_of(f, "m")->nnew, 1);
    char *q = es_testhttpd_query(f->srv, path, 1);
    assert_non_null(q);
    assert_non_null(strstr(q, "min_id=101"));
    free(q);
    assert_int_equal(count_mentions(f), 3);
    health(f, "m", &h);
    assert_non_null(strstr(h.cursor, "102"));
    es_source_health_release(&h);
    free(a);
    free(b);
    free(c);
    free(page1);
    free(page2);
}

/* A spent rate limit on a successful answer delays the next poll to the
 * window's reset, without counting a failure. */
static void test_spent_rate_limit_delays_next_poll(void **state)
{
    struct fixture *f = *state;
    char hdr[128];
    int64_t reset = es_time_now() + 1800;
    snprintf(hdr, sizeof(hdr),
             "X-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: %lld\r\n",
             (long long)reset);
    struct es_testhttpd_response r = { .content_type = "application/json",
                                       .body = "[]",
                                       .headers = hdr };
    es_testhttpd_route(f->srv, "/api/v1/timelines/tag/acme", &r);
    open_pipeline(f, "[source \"m\"]\ntype = mastodon\nbase_url = @BASE@\n"
                     "tag = acme\ninterval = 60\n");
    poll_all(f);
    assert_int_equal(report_of(f, "m")->status, 0);
    struct es_source_health h;
    health(f, "m", &h);
    assert_int_equal(h.failures, 0);
    assert_true(h.next_poll >= reset);
    es_source_health_release(&h);
}

/* Hostile answers after a good one: truncated JSON, a wrong shape, deep
 * nesting. Each fails that poll with a message naming the kind, and what
 * was stored (mentions, cursor) stays as it was. */
static void test_hostile_json_touches_nothing_stored(void **state)
{
    struct fixture *f = *state;
    char *a = status_json("201", "Acme works fine");
    char *good = es_xasprintf("[%s]", a);
    char deep[4096];
    memset(deep, '[', sizeof(deep) - 1);
    deep[sizeof(deep) - 1] = '\0';
    struct es_testhttpd_response seq[] = {
        { .content_type = "application/json", .body = good },
        { .content_type = "application/json",
          .body = "[{\"id\":\"202\",\"cont" },
        { .content_type = "application/json", .body = "{\"statuses\":7}" },
        { .content_type = "application/json", .body = deep },
    };
    es_testhttpd_route_seq(f->srv, "/api/v1/timelines/tag/acme", seq, 4);
    open_pipeline(f, "[source \"m\"]\ntype = mastodon\nbase_url = @BASE@\n"
                     "tag = acme\ncontext = no\n");
    poll_all(f);
    assert_int_equal(report_of(f, "m")->nnew, 1);
    struct es_source_health h;
    health(f, "m", &h);
    char *cursor = es_xstrdup(h.cursor);
    es_source_health_release(&h);
    for (int k = 0; k < 3; k++) {
        poll_all(f);
        const struct es_ingest_report *r = report_of(f, "m");
        assert_int_equal(r->status, ES_EPARSE);
        assert_non_null(strstr(r->error, "mastodon"));
        assert_int_equal(count_mentions(f), 1);
        health(f, "m", &h);
        assert_string_equal(h.cursor, cursor);
        assert_int_equal(h.failures, k + 1);
        es_source_health_release(&h);
    }
    free(cursor);
    free(a);
    free(good);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_failing_source_does_not_stop_others, setup, teardown),
        cmocka_unit_test_setup_teardown(test_source_that_cannot_open, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_edit_updates_in_place_keeping_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_after_is_honoured, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_malformed_feed_keeps_recovered_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_cursor_resumes_after_restart,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_spent_rate_limit_delays_next_poll,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_hostile_json_touches_nothing_stored, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
