/* test_net_collectors.c - the poller, the HTTP client and the rss source
 * against a loopback server
 *
 * Every test scripts tests/support/testhttpd.c and runs es_poller_run()
 * (or es_http_get()) against it: conditional GET, error codes, backoff
 * with es_schedule_next(), redirects, gzip, size caps, timeouts, resets,
 * one failing source among many, file:// and keep-alive reuse. A
 * test-local source kind ("lines": one item per line) exercises the
 * poller without depending on the feed parser; the rss tests at the end
 * run the real kind on tiny inline feeds.
 */
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

#include <curl/curl.h>

#include "collectors/http.h"
#include "collectors/url.h"
#include "earshot/alloc.h"
#include "earshot/buf.h"
#include "earshot/error.h"
#include "earshot/query.h"
#include "earshot/source.h"
#include "testhttpd.h"

static struct es_testhttpd *srv;

/* ==== A test-local source kind: one item per line ==== */

struct lines_source {
    struct es_source base;
    int parses;         /* calls to parse */
    char *content_type; /* last one parse saw */
    char *next_url;     /* from a "!NEXT path" line: the next page */
    char *begun;        /* the cursor begin() was given */
    int begins;
};

static void lines_begin(struct es_source *src, const char *cursor)
{
    struct lines_source *ls = (struct lines_source *)src;
    free(ls->begun);
    ls->begun = es_xstrdup(cursor);
    ls->begins++;
    free(ls->next_url);
    ls->next_url = NULL;
}

static int lines_request(struct es_source *src, struct es_source_request *req)
{
    memset(req, 0, sizeof(*req));
    struct lines_source *ls = (struct lines_source *)src;
    if (!src->url)
        return es_error_set(ES_EINVALID, "source '%s': no url", src->name);
    req->url = ls->next_url ? ls->next_url : src->url;
    req->headers[0] = "X-Test: lines";
    req->conditional = !ls->next_url;
    return 0;
}

/* Emits one item per non-empty line; a line "!BAD" is a parse error
 * after the items before it, "!NEXT PATH" asks for PATH next in the same
 * poll, "!CURSOR C" stores cursor C with the page. */
static int lines_parse(struct es_source *src,
                       const struct es_source_response *res,
                       struct es_source_page *page, es_item_cb emit,
                       void *payload)
{
    struct lines_source *ls = (struct lines_source *)src;
    const char *p = res->body;
    const char *end = res->body + res->len;
    size_t line = 0;

    ls->parses++;
    free(ls->content_type);
    ls->content_type = es_xstrdup(res->content_type);
    free(ls->next_url);
    ls->next_url = NULL;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        line++;
        if (n == 4 && memcmp(p, "!BAD", 4) == 0)
            return es_error_set(ES_EPARSE, "feed '%s': line %zu: bad line",
                                src->name, line);
        if (n > 6 && memcmp(p, "!NEXT ", 6) == 0) {
            char *path = es_xstrndup(p + 6, n - 6);
            ls->next_url = es_testhttpd_url(srv, path);
            free(path);
            page->more = 1;
        } else if (n > 8 && memcmp(p, "!CURSOR ", 8) == 0) {
            free(page->cursor);
            page->cursor = es_xstrndup(p + 8, n - 8);
        } else if (n) {
            struct es_item it;
            es_item_init(&it);
            it.platform = es_xstrdup("test");
            it.source = es_xstrdup(src->name);
            it.external_id = es_xstrndup(p, n);
            it.title = es_xstrndup(p, n);
            int rc = emit(&it, payload);
            es_item_release(&it);
            if (rc)
                return rc;
        }
        p += n + 1;
    }
    return 0;
}

static void lines_close(struct es_source *src)
{
    struct lines_source *ls = (struct lines_source *)src;
    if (!ls)
        return;
    free(ls->base.name);
    free(ls->base.url);
    free(ls->content_type);
    free(ls->next_url);
    free(ls->begun);
    free(ls);
}

static const struct es_source_ops lines_ops = {
    .name = "lines",
    .default_interval_s = 60,
    .begin = lines_begin,
    .request = lines_request,
    .parse = lines_parse,
    .close = lines_close,
};

/* Returns a "lines" source for @path on the test server (or for @url when
 * it contains "://"). */
static struct lines_source *lines_new(const char *name, const char *path)
{
    struct lines_source *ls = es_xcalloc(1, sizeof(*ls));
    ls->base.ops = &lines_ops;
    ls->base.name = es_xstrdup(name);
    if (path)
        ls->base.url = strstr(path, "://") ? es_xstrdup(path)
                                           : es_testhttpd_url(srv, path);
    ls->base.interval = 60;
    ls->base.enabled = 1;
    return ls;
}

/* ==== Collecting results ==== */

/* One job's outcome, copied out of the callback. */
struct got {
    int calls;
    int status;
    char *error;
    long http_code;
    char *etag;
    char *last_modified;
    int64_t retry_after;
    size_t nitems;
    char *first_title;
    char *first_url;
    char *first_source;
    char *first_platform;
    int64_t first_fetched_at;
    char *cursor;       /* the last non-NULL cursor reported */
    size_t total_items; /* over every call */
    int last_step;
};

struct run {
    const struct es_poll_job *jobs;
    size_t njobs;
    struct got *got;
    size_t order;   /* callbacks so far */
    int stop_after; /* return 7 from the n-th callback; 0 never */
};

static int record(struct es_poll_result *res, void *payload)
{
    struct run *run = payload;
    size_t i;

    for (i = 0; i < run->njobs; i++)
        if (run->jobs[i].src == res->src)
            break;
    assert_true(i < run->njobs);
    struct got *g = &run->got[i];
    g->calls++;
    g->status = res->status;
    free(g->error);
    free(g->etag);
    free(g->last_modified);
    g->error = es_xstrdup(res->error);
    g->http_code = res->http_code;
    g->etag = es_xstrdup(res->etag);
    g->last_modified = es_xstrdup(res->last_modified);
    g->retry_after = res->retry_after;
    g->nitems = res->nitems;
    g->total_items += res->nitems;
    g->last_step = res->step;
    if (res->cursor) {
        free(g->cursor);
        g->cursor = es_xstrdup(res->cursor);
    }
    if (res->status < 0)
        assert_non_null(res->error);
    if (res->nitems && !g->first_title) {
        g->first_title = es_xstrdup(res->items[0]->title);
        g->first_url = es_xstrdup(res->items[0]->url);
        g->first_source = es_xstrdup(res->items[0]->source);
        g->first_platform = es_xstrdup(res->items[0]->platform);
        g->first_fetched_at = res->items[0]->fetched_at;
    }
    run->order++;
    if (run->stop_after && run->order == (size_t)run->stop_after)
        return 7;
    return 0;
}

static void got_release(struct got *g)
{
    free(g->error);
    free(g->etag);
    free(g->last_modified);
    free(g->first_title);
    free(g->first_url);
    free(g->first_source);
    free(g->first_platform);
    free(g->cursor);
    memset(g, 0, sizeof(*g));
}

/* Polls @njobs jobs with @http limits into @got; returns es_poller_run. */
static int poll_jobs(const struct es_config_http *http,
                     const struct es_poll_job *jobs, size_t njobs,
                     struct got *got)
{
    struct es_poller *p = es_poller_new(http);
    struct run run = { .jobs = jobs, .njobs = njobs, .got = got };
    memset(got, 0, njobs * sizeof(*got));
    int rc = es_poller_run(p, jobs, njobs, record, &run);
    es_poller_free(p);
    return rc;
}

/* Polls one source, optionally with validators. */
static int poll_one(const struct es_config_http *http, struct es_source *src,
                    const char *etag, const char *lm, struct got *got)
{
    struct es_poll_job job = { .src = src, .etag = etag, .last_modified = lm };
    return poll_jobs(http, &job, 1, got);
}

static void free_lines(struct lines_source *ls)
{
    lines_close(&ls->base);
}

/* ==== Conditional GET ==== */

static void test_conditional_get(void **state)
{
    (void)state;
    struct es_testhttpd_response r = {
        .content_type = "text/plain; charset=utf-8",
        .body = "one\ntwo\nthree\n",
        .etag = "\"v1\"",
        .last_modified = "Wed, 01 May 2024 12:00:00 GMT",
    };
    es_testhttpd_route(srv, "/cond", &r);
    struct lines_source *ls = lines_new("cond", "/cond");
    struct got g;

    assert_int_equal(poll_one(NULL, &ls->base, NULL, NULL, &g), 0);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.status, 0);
    assert_null(g.error);
    assert_int_equal(g.http_code, 200);
    assert_int_equal(g.nitems, 3);
    assert_string_equal(g.first_title, "one");
    assert_string_equal(g.etag, "\"v1\"");
    assert_string_equal(g.last_modified, "Wed, 01 May 2024 12:00:00 GMT");
    assert_string_equal(ls->content_type, "text/plain; charset=utf-8");
    assert_int_equal(ls->parses, 1);
    char *inm = es_testhttpd_header(srv, "/cond", -1, "If-None-Match");
    assert_null(inm);
    got_release(&g);

    /* Second poll with the validators: 304, nothing parsed. */
    assert_int_equal(poll_one(NULL, &ls->base, "\"v1\"",
                              "Wed, 01 May 2024 12:00:00 GMT", &g),
                     0);
    assert_int_equal(g.status, ES_EUNCHANGED);
    assert_int_equal(g.http_code, 304);
    assert_int_equal(g.nitems, 0);
    assert_int_equal(ls->parses, 1);
    assert_string_equal(g.etag, "\"v1\"");
    inm = es_testhttpd_header(srv, "/cond", -1, "If-None-Match");
    char *ims = es_testhttpd_header(srv, "/cond", -1, "If-Modified-Since");
    assert_string_equal(inm, "\"v1\"");
    assert_string_equal(ims, "Wed, 01 May 2024 12:00:00 GMT");
    free(inm);
    free(ims);
    got_release(&g);

    /* Last-Modified alone is enough. */
    assert_int_equal(
        poll_one(NULL, &ls->base, NULL, "Wed, 01 May 2024 12:00:00 GMT", &g),
        0);
    assert_int_equal(g.status, ES_EUNCHANGED);
    assert_int_equal(ls->parses, 1);
    got_release(&g);

    /* A stale ETag gets the full body again. */
    assert_int_equal(poll_one(NULL, &ls->base, "\"v0\"", NULL, &g), 0);
    assert_int_equal(g.status, 0);
    assert_int_equal(g.nitems, 3);
    assert_int_equal(ls->parses, 2);
    got_release(&g);
    free_lines(ls);
}

/* ==== Errors and backoff ==== */

static void test_server_error_backoff(void **state)
{
    (void)state;
    struct es_testhttpd_response seq[] = {
        { .status = 500, .body = "oops", .etag = "\"err\"" },
        { .status = 500, .body = "oops" },
        { .status = 500, .body = "oops" },
        { .body = "back\n" },
    };
    es_testhttpd_route_seq(srv, "/flaky", seq, 4);
    struct lines_source *ls = lines_new("flaky", "/flaky");
    struct got g;
    int64_t now = 1700000000;
    int64_t prev_delay = 0;

    for (int failures = 1; failures <= 3; failures++) {
        assert_int_equal(poll_one(NULL, &ls->base, NULL, NULL, &g), 0);
        assert_int_equal(g.status, ES_ENETWORK);
        assert_int_equal(g.http_code, 500);
        assert_int_equal(g.nitems, 0);
        assert_null(g.etag); /* an error page's validators are not kept */
        assert_non_null(strstr(g.error, "HTTP 500 from 'http://127.0.0.1:"));
        assert_non_null(strstr(g.error, "/flaky'"));
        int64_t delay =
            es_schedule_next(now, ls->base.interval, failures, -1, 0.5) - now;
        assert_true(delay > prev_delay);
        prev_delay = delay;
        got_release(&g);
    }
    assert_int_equal(ls->parses, 0);
    /* 60 s interval: 60, 120, 240. */
    assert_int_equal(prev_delay, 240);

    assert_int_equal(poll_one(NULL, &ls->base, NULL, NULL, &g), 0);
    assert_int_equal(g.status, 0);
    assert_int_equal(g.nitems, 1);
    assert_string_equal(g.first_title, "back");
    got_release(&g);
    free_lines(ls);
}

static void test_rate_limit(void **state)
{
    (void)state;
    struct es_testhttpd_response r429 = {
        .status = 429,
        .headers = "Retry-After: 120\r\n",
        .body = "slow down",
    };
    es_testhttpd_route(srv, "/limited", &r429);
    struct lines_source *ls = lines_new("limited", "/limited");
    struct got g;

    assert_int_equal(poll_one(NULL, &ls->base, NULL, NULL, &g), 0);
    assert_int_equal(g.status, ES_ERATELIMIT);
    assert_int_equal(g.http_code, 429);
    assert_int_equal(g.retry_after, 120);
    assert_non_null(strstr(g.error, "HTTP 429"));
    /* 60 s interval, first failure: 60 s +-10%, but the server said 120. */
    int64_t now = 1700000000;
    assert_int_equal(es_schedule_next(now, 60, 1, g.retry_after, 1.0),
                     now + 120);
    got_release(&g);

    /* 503 with an HTTP-date about a minute ahead. */
    char date[64];
    char hdr[100];
    time_t when = time(NULL) + 61;
    struct tm tm;
    gmtime_r(&when, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    snprintf(hdr, sizeof(hdr), "Retry-After: %s\r\n", date);
    struct es_testhttpd_response r503 = { .status = 503, .headers = hdr };
    es_testhttpd_route(srv, "/limited", &r503);
    assert_int_equal(poll_one(NULL, &ls->base, NULL, NULL, &g), 0);
    assert_int_equal(g.status, ES_ERATELIMIT);
    assert_int_equal(g.http_code, 503);
    assert_true(g.retry_after >= 55 && g.retry_after <= 61);
    got_release(&g);

    /* A 503 without Retry-After is an outage. */
    struct es_testhttpd_response down = { .status = 503 };
    es_testhttpd_route(srv, "/limited", &down);
    assert_int_equal(poll_one(NULL, &ls->base, NULL, NULL, &g), 0);
    assert_int_equal(g.status, ES_ENETWORK);
    assert_int_equal(g.retry_after, -1);
    got_release(&g);

    /* Auth failures have their own code. */
    struct es_testhttpd_response denied = { .status = 401 };
    es_testhttpd_route(srv, "/limited", &denied);
    assert_int_equal(poll_one(NULL, &ls->base, NULL, NULL, &g), 0);
    assert_int_equal(g.status, ES_EAUTH);
    assert_non_null(strstr(g.error, "HTTP 401"));
    got_release(&g);
    free_lines(ls);
}

/* ==== Redirects, gzip, size cap ==== */

static void test_redirects(void **state)
{
    (void)state;
    struct es_testhttpd_response r1 = { .status = 302, .location = "/r2" };
    struct es_testhttpd_response r2 = { .status = 301, .location = "/r3" };
    char *r3_target = es_testhttpd_url(srv, "/r-final");
    struct es_testhttpd_response r3 = { .status = 302, .location = r3_target };
    struct es_testhttpd_response fin = { .body = "landed\n" };
    es_testhttpd_route(srv, "/r1", &r1);
    es_testhttpd_route(srv, "/r2", &r2);
    es_testhttpd_route(srv, "/r3", &r3);
    es_testhttpd_route(srv, "/r-final", &fin);
    free(r3_target);
    struct lines_source *ls = lines_new("redir", "/r1");
    struct got g;

    assert_int_equal(poll_one(NULL, &ls->base, NULL, NULL, &g), 0);
    assert_int_equal(g.status, 0);
    assert_int_equal(g.http_code, 200);
    assert_int_equal(g.nitems, 1);
    assert_string_equal(g.first_title, "landed");
    assert_int_equal(es_testhttpd_hits(srv, "/r-final"), 1);
    got_release(&g);

    /* Three hops with a limit of two is refused. */
    struct es_config_http two = { .max_redirects = 2 };
    assert_int_equal(poll_one(&two, &ls->base, NULL, NULL, &g), 0);
    assert_int_equal(g.status, ES_ENETWORK);
    assert_non_null(strstr(g.error, "/r1'"));
    assert_non_null(strstr(g.error, "edirect"));
    assert_int_equal(es_testhttpd_hits(srv, "/r-final"), 1);
    got_release(&g);

    /* A redirect may not lead to the local disk. */
    struct es_testhttpd_response tofile = { .status = 302,
                                            .location = "file:///etc/passwd" };
    es_testhttpd_route(srv, "/r-file", &tofile);
    struct lines_source *lf = lines_new("redir-file", "/r-file");
    assert_int_equal(poll_one(NULL, &lf->base, NULL, NULL, &g), 0);
    assert_int_equal(g.status, ES_ENETWORK);
    assert_int_equal(g.nitems, 0);
    got_release(&g);
    free_lines(lf);
    free_lines(ls);
}

static void test_gzip(void **state)
{
    (void)state;
    struct es_buf big = ES_BUF_INIT;
    for (int i = 0; i < 5000; i++)
        es_buf_addf(&big, "line %d\n", i);
    struct es_testhttpd_response r = { .body = big.ptr, .gzip = 1 };
    es_testhttpd_route(srv, "/gz", &r);
    struct lines_source *ls = lines_new("gz", "/gz");
    struct got g;

    assert_int_equal(poll_one(NULL, &ls->base, NULL, NULL, &g), 0);
    assert_int_equal(g.status, 0);
    assert_int_equal(g.nitems, 5000);
    assert_string_equal(g.first_title, "line 0");
    char *ae = es_testhttpd_header(srv, "/gz", -1, "Accept-Encoding");
    assert_non_null(ae);
    assert_non_null(strstr(ae, "gzip"));
    free(ae);
    got_release(&g);
    free_lines(ls);

    /* The encoder itself: a known CRC (of "hello\n": 0x363a3020). */
    struct es_buf gz = ES_BUF_INIT;
    es_testhttpd_gzip("hello\n", 6, &gz);
    assert_int_equal(gz.len, 10 + 5 + 6 + 8);
    const unsigned char *t = (const unsigned char *)gz.ptr + gz.len - 8;
    assert_int_equal(t[0] | t[1] << 8 | t[2] << 16 | (unsigned)t[3] << 24,
                     0x363a3020u);
    es_buf_release(&gz);
    es_buf_release(&big);
}

static void test_oversized(void **state)
{
    (void)state;
    struct es_config_http small = { .max_body = 65536, .max_redirects = 5 };
    struct es_testhttpd_response sized = { .body_size = 1024 * 1024 };
    struct es_testhttpd_response chunked = { .body_size = 1024 * 1024,
                                             .chunked = 1 };
    struct es_testhttpd_response fits = { .body_size = 65536 };
    es_testhttpd_route(srv, "/big", &sized);
    es_testhttpd_route(srv, "/big-chunked", &chunked);
    es_testhttpd_route(srv, "/fits", &fits);
    struct lines_source *a = lines_new("big", "/big");
    struct lines_source *b = lines_new("big-chunked", "/big-chunked");
    struct lines_source *c = lines_new("fits", "/fits");
    struct got g;

    /* Refused up front from Content-Length... */
    assert_int_equal(poll_one(&small, &a->base, NULL, NULL, &g), 0);
    assert_int_equal(g.status, ES_ETOOBIG);
    assert_non_null(strstr(g.error, "/big'"));
    assert_non_null(strstr(g.error, "65536"));
    assert_int_equal(a->parses, 0);
    got_release(&g);

    /* ...and cut off mid-stream without one. */
    assert_int_equal(poll_one(&small, &b->base, NULL, NULL, &g), 0);
    assert_int_equal(g.status, ES_ETOOBIG);
    assert_non_null(strstr(g.error, "/big-chunked'"));
    assert_non_null(strstr(g.error, "65536"));
    assert_int_equal(b->parses, 0);
    got_release(&g);

    /* Exactly the cap is fine. */
    assert_int_equal(poll_one(&small, &c->base, NULL, NULL, &g), 0);
    assert_int_equal(g.status, 0);
    assert_int_equal(c->parses, 1);
    assert_true(g.nitems > 1000);
    got_release(&g);

    free_lines(a);
    free_lines(b);
    free_lines(c);
}

/* ==== Slow, reset, unreachable ==== */

static double elapsed_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) +
           (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_timeouts(void **state)
{
    (void)state;
    struct es_config_http quick = { .timeout_ms = 1000,
                                    .connect_timeout_ms = 1000,
                                    .max_redirects = 5 };
    struct es_testhttpd_response slow = { .body = "late\n", .delay_ms = 4000 };
    struct es_testhttpd_response stall = { .body = "late\n", .stall_ms = 4000 };
    es_testhttpd_route(srv, "/slow", &slow);
    es_testhttpd_route(srv, "/stall", &stall);
    struct lines_source *a = lines_new("slow", "/slow");
    struct lines_source *b = lines_new("stall", "/stall");
    struct es_poll_job jobs[] = { { .src = &a->base }, { .src = &b->base } };
    struct got g[2];
    struct timespec t0;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(poll_jobs(&quick, jobs, 2, g), 0);
    /* Both time out in parallel, well before the server would answer. */
    assert_true(elapsed_since(&t0) < 3.0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(g[i].calls, 1);
        assert_int_equal(g[i].status, ES_ENETWORK);
        assert_non_null(strstr(g[i].error, "timed out"));
        got_release(&g[i]);
    }
    assert_int_equal(a->parses + b->parses, 0);
    free_lines(a);
    free_lines(b);
}

static void test_reset_and_refused(void **state)
{
    (void)state;
    struct es_testhttpd_response rst = { .reset = 1 };
    es_testhttpd_route(srv, "/reset", &rst);
    struct lines_source *a = lines_new("reset", "/reset");
    /* A port nobody listens on: bind one, note it, close it. */
    struct es_testhttpd *gone = NULL;
    assert_int_equal(es_testhttpd_open(&gone, 0), 0);
    char *dead_url = es_testhttpd_url(gone, "/x");
    es_testhttpd_free(gone);
    struct lines_source *b = lines_new("refused", dead_url);
    free(dead_url);
    struct es_poll_job jobs[] = { { .src = &a->base }, { .src = &b->base } };
    struct got g[2];

    assert_int_equal(poll_jobs(NULL, jobs, 2, g), 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(g[i].calls, 1);
        assert_int_equal(g[i].status, ES_ENETWORK);
        assert_int_equal(g[i].http_code, 0);
        assert_non_null(strstr(g[i].error, "cannot fetch 'http://127.0.0.1:"));
    }
    assert_non_null(strstr(g[0].error, "/reset'"));
    got_release(&g[0]);
    got_release(&g[1]);
    free_lines(a);
    free_lines(b);
}

/* ==== Batches ==== */

static void test_one_failing_among_many(void **state)
{
    (void)state;
    enum { N = 12 };
    struct lines_source *src[N];
    struct es_poll_job jobs[N];
    struct got g[N];
    struct es_testhttpd_response bad = { .status = 500 };
    struct es_testhttpd_response rst = { .reset = 1 };

    for (int i = 0; i < N; i++) {
        char path[32], body[64], name[32];
        snprintf(path, sizeof(path), "/many/%d", i);
        snprintf(body, sizeof(body), "item-%d-a\nitem-%d-b\n", i, i);
        snprintf(name, sizeof(name), "many-%d", i);
        struct es_testhttpd_response ok = { .body = body };
        es_testhttpd_route(srv, path, i == 3 ? &bad : i == 7 ? &rst : &ok);
        src[i] = lines_new(name, path);
        jobs[i] = (struct es_poll_job){ .src = &src[i]->base };
    }
    /* And one whose request cannot even be built. */
    free(src[10]->base.url);
    src[10]->base.url = NULL;

    int64_t before = (int64_t)time(NULL);
    assert_int_equal(poll_jobs(NULL, jobs, N, g), 0);
    for (int i = 0; i < N; i++) {
        char want[32];
        assert_int_equal(g[i].calls, 1);
        if (i == 3 || i == 7) {
            assert_int_equal(g[i].status, ES_ENETWORK);
        } else if (i == 10) {
            assert_int_equal(g[i].status, ES_EINVALID);
            assert_string_equal(g[i].error, "source 'many-10': no url");
        } else {
            assert_int_equal(g[i].status, 0);
            assert_int_equal(g[i].nitems, 2);
            snprintf(want, sizeof(want), "item-%d-a", i);
            assert_string_equal(g[i].first_title, want);
            assert_true(g[i].first_fetched_at >= before);
            assert_true(g[i].first_fetched_at <= (int64_t)time(NULL));
        }
        char *xt = NULL;
        if (i != 10) {
            char path[32];
            snprintf(path, sizeof(path), "/many/%d", i);
            xt = es_testhttpd_header(srv, path, -1, "X-Test");
            assert_non_null(xt);
            assert_string_equal(xt, "lines");
        }
        free(xt);
        got_release(&g[i]);
        free_lines(src[i]);
    }
}

static void test_keepalive_reuse(void **state)
{
    (void)state;
    enum { N = 200 };
    struct lines_source *src[N];
    struct es_poll_job jobs[N];
    struct got *g = es_xcalloc(N, sizeof(*g));
    struct es_testhttpd_response ok = { .body = "a\nb\n", .etag = "\"same\"" };

    es_testhttpd_route(srv, "/ka", &ok);
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof(name), "ka-%d", i);
        src[i] = lines_new(name, "/ka");
        jobs[i] = (struct es_poll_job){ .src = &src[i]->base };
    }
    size_t conns_before = es_testhttpd_connections(srv);
    size_t hits_before = es_testhttpd_hits(srv, "/ka");
    assert_int_equal(poll_jobs(NULL, jobs, N, g), 0);
    size_t conns = es_testhttpd_connections(srv) - conns_before;
    assert_int_equal(es_testhttpd_hits(srv, "/ka") - hits_before, N);
    /* 200 feeds on one host ride a few keep-alive connections. */
    assert_true(conns >= 1);
    assert_true(conns <= 6);
    for (int i = 0; i < N; i++) {
        assert_int_equal(g[i].calls, 1);
        assert_int_equal(g[i].status, 0);
        assert_int_equal(g[i].nitems, 2);
        got_release(&g[i]);
        free_lines(src[i]);
    }
    free(g);
}

/* What the server had seen when the first of a batch came back. */
struct first_back {
    size_t conns_before; /* es_testhttpd_connections() before the run */
    size_t at_first;     /* connections accepted at the first callback */
    size_t calls;
};

static int note_first(const struct es_http_request *req,
                      struct es_http_response *res, void *payload)
{
    struct first_back *fb = payload;
    (void)req;
    assert_int_equal(res->http_code, 200);
    if (fb->calls++ == 0)
        fb->at_first = es_testhttpd_connections(srv) - fb->conns_before;
    return 0;
}

/* A server that closes every connection (HTTP/1.0, Python's http.server)
 * makes each feed a new connection. Eight at once overflow a listen
 * queue of five, and the kernel's one-second SYN retry then stalls the
 * batch: a host gets two connections until one answers, one more per
 * answer, and never more than six. */
static void test_connections_per_host(void **state)
{
    (void)state;
    enum { N = 24 };
    struct es_testhttpd_response closing = {
        .body = "x\n",
        .delay_ms = 40,
        .close = 1,
    };
    es_testhttpd_route(srv, "/closing", &closing);
    char *url = es_testhttpd_url(srv, "/closing");
    struct es_http_request reqs[N];
    for (int i = 0; i < N; i++)
        reqs[i] = (struct es_http_request){ .url = url };
    struct es_http *h = es_http_new(NULL);
    struct first_back fb = { .conns_before = es_testhttpd_connections(srv) };
    size_t waiting = es_testhttpd_reset_waiting(srv);

    assert_int_equal(es_http_get_many(h, reqs, N, note_first, &fb), 0);
    assert_int_equal(fb.calls, N);
    assert_int_equal(es_testhttpd_connections(srv) - fb.conns_before, N);
    assert_true(fb.at_first >= 1);
    assert_true(fb.at_first <= 2);
    size_t peak = es_testhttpd_peak_waiting(srv) - waiting;
    assert_true(peak >= 3); /* it did grow */
    assert_true(peak <= 6);
    es_http_free(h);
    free(url);
}

static void test_callback_stops_run(void **state)
{
    (void)state;
    enum { N = 20 };
    struct lines_source *src[N];
    struct es_poll_job jobs[N];
    struct got g[N];
    struct es_testhttpd_response ok = { .body = "x\n" };
    es_testhttpd_route(srv, "/stop", &ok);
    for (int i = 0; i < N; i++) {
        src[i] = lines_new("stop", "/stop");
        jobs[i] = (struct es_poll_job){ .src = &src[i]->base };
    }
    struct es_config_http two = { .max_parallel = 2, .max_redirects = 5 };
    struct es_poller *p = es_poller_new(&two);
    struct run run = { .jobs = jobs, .njobs = N, .got = g, .stop_after = 3 };
    memset(g, 0, sizeof(g));
    assert_int_equal(es_poller_run(p, jobs, N, record, &run), 7);
    assert_int_equal(run.order, 3);
    es_poller_free(p);
    for (int i = 0; i < N; i++) {
        got_release(&g[i]);
        free_lines(src[i]);
    }
}

static void test_parse_errors(void **state)
{
    (void)state;
    struct es_testhttpd_response partial = { .body = "a\nb\n!BAD\nc\n" };
    struct es_testhttpd_response broken = { .body = "!BAD\nc\n" };
    es_testhttpd_route(srv, "/partial", &partial);
    es_testhttpd_route(srv, "/broken", &broken);
    struct lines_source *a = lines_new("partial", "/partial");
    struct lines_source *b = lines_new("broken", "/broken");
    struct es_poll_job jobs[] = { { .src = &a->base }, { .src = &b->base } };
    struct got g[2];

    assert_int_equal(poll_jobs(NULL, jobs, 2, g), 0);
    /* Recovered items are delivered, with the complaint. */
    assert_int_equal(g[0].status, 0);
    assert_int_equal(g[0].nitems, 2);
    assert_string_equal(g[0].error, "feed 'partial': line 3: bad line");
    /* Nothing recovered: a parse error. */
    assert_int_equal(g[1].status, ES_EPARSE);
    assert_int_equal(g[1].nitems, 0);
    assert_string_equal(g[1].error, "feed 'broken': line 1: bad line");
    assert_null(g[1].etag);
    got_release(&g[0]);
    got_release(&g[1]);
    free_lines(a);
    free_lines(b);
}

/* ==== file://, User-Agent, secrets, es_http_get ==== */

static void test_file_url(void **state)
{
    (void)state;
    char path[] = "/tmp/es-net-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "local\nfeed\n", 11), 11);
    close(fd);
    char *url = es_xasprintf("file://%s", path);
    struct lines_source *ls = lines_new("file", url);
    struct got g;

    assert_int_equal(poll_one(NULL, &ls->base, NULL, NULL, &g), 0);
    assert_int_equal(g.status, 0);
    assert_int_equal(g.http_code, 0);
    assert_int_equal(g.nitems, 2);
    assert_string_equal(g.first_title, "local");
    got_release(&g);

    /* A missing file is an error naming it. */
    unlink(path);
    assert_int_equal(poll_one(NULL, &ls->base, NULL, NULL, &g), 0);
    assert_int_equal(g.status, ES_ENETWORK);
    assert_non_null(strstr(g.error, path));
    got_release(&g);
    free_lines(ls);
    free(url);
}

static void test_user_agent(void **state)
{
    (void)state;
    struct es_testhttpd_response ok = { .body = "x\n" };
    es_testhttpd_route(srv, "/ua", &ok);
    struct lines_source *ls = lines_new("ua", "/ua");
    struct got g;

    assert_int_equal(poll_one(NULL, &ls->base, NULL, NULL, &g), 0);
    char *ua = es_testhttpd_header(srv, "/ua", -1, "User-Agent");
    char *method = es_testhttpd_method(srv, "/ua", -1);
    assert_non_null(ua);
    assert_true(strncmp(ua, "earshot/", 8) == 0);
    assert_true(ua[8] >= '0' && ua[8] <= '9'); /* a version follows */
    assert_string_equal(method, "GET");
    free(ua);
    free(method);
    got_release(&g);
    free_lines(ls);
}

static void test_no_secrets_in_errors(void **state)
{
    (void)state;
    struct es_testhttpd_response bad = { .status = 500 };
    es_testhttpd_route(srv, "/secret", &bad);
    char *url = es_xasprintf("http://alice:hunter2@127.0.0.1:%d/secret?x=1",
                             es_testhttpd_port(srv));
    struct lines_source *ls = lines_new("secret", url);
    struct got g;

    assert_int_equal(poll_one(NULL, &ls->base, NULL, NULL, &g), 0);
    assert_int_equal(g.status, ES_ENETWORK);
    assert_null(strstr(g.error, "hunter2"));
    assert_null(strstr(g.error, "alice"));
    assert_non_null(strstr(g.error, "http://127.0.0.1:"));
    /* The credentials did reach the server, as Basic auth. */
    char *auth = es_testhttpd_header(srv, "/secret", -1, "Authorization");
    char *query = es_testhttpd_query(srv, "/secret", -1);
    assert_non_null(auth);
    assert_string_equal(query, "x=1");
    free(auth);
    free(query);
    got_release(&g);
    free_lines(ls);
    free(url);

    char out[128];
    assert_string_equal(
        es_http__redact_url("https://u:p@h.example/a@b", out, sizeof(out)),
        "https://h.example/a@b");
    assert_string_equal(es_http__redact_url("no scheme", out, sizeof(out)),
                        "no scheme");
}

static void test_http_get(void **state)
{
    (void)state;
    struct es_testhttpd_response ok = {
        .body = "hello",
        .content_type = "text/plain",
        .etag = "\"e\"",
    };
    es_testhttpd_route(srv, "/get", &ok);
    char *url = es_testhttpd_url(srv, "/get");
    const char *hdrs[] = { "X-One: 1", NULL };
    struct es_http_request req = { .url = url, .headers = hdrs };
    struct es_http_response res;

    assert_int_equal(es_http_get(NULL, &req, &res), 0);
    assert_int_equal(res.http_code, 200);
    assert_int_equal(res.body.len, 5);
    assert_string_equal(res.body.ptr, "hello");
    assert_string_equal(res.content_type, "text/plain");
    assert_string_equal(res.etag, "\"e\"");
    char *one = es_testhttpd_header(srv, "/get", -1, "X-One");
    assert_string_equal(one, "1");
    free(one);
    es_http_response_release(&res);

    struct es_http *h = es_http_new(NULL);
    req.etag = "\"e\"";
    assert_int_equal(es_http_get(h, &req, &res), ES_EUNCHANGED);
    assert_int_equal(res.http_code, 304);
    assert_int_equal(res.body.len, 0);
    assert_string_equal(es_error_last(), res.error);
    es_http_response_release(&res);

    /* Only http, https and file. */
    req.url = "ftp://127.0.0.1/x";
    assert_int_equal(es_http_get(h, &req, &res), ES_ENETWORK);
    assert_non_null(strstr(res.error, "ftp://127.0.0.1/x"));
    es_http_response_release(&res);
    es_http_free(h);
    free(url);
}

static void test_server_root(void **state)
{
    (void)state;
    char dir[] = "/tmp/es-net-root-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = es_xasprintf("%s/feed.txt", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("r1\nr2\n", f);
    fclose(f);
    es_testhttpd_set_root(srv, dir);
    struct es_testhttpd_response from_file = { .body_file = path };
    es_testhttpd_route(srv, "/body-file", &from_file);
    struct lines_source *a = lines_new("root", "/feed.txt");
    struct lines_source *b = lines_new("missing", "/missing.txt");
    struct lines_source *c = lines_new("body-file", "/body-file");
    struct got g;

    /* Files under the root come with validators... */
    assert_int_equal(poll_one(NULL, &a->base, NULL, NULL, &g), 0);
    assert_int_equal(g.status, 0);
    assert_int_equal(g.nitems, 2);
    assert_string_equal(a->content_type, "text/plain; charset=utf-8");
    assert_non_null(g.etag);
    assert_non_null(g.last_modified);
    char *etag = es_xstrdup(g.etag);
    char *lm = es_xstrdup(g.last_modified);
    got_release(&g);
    /* ...and answer them with 304. */
    assert_int_equal(poll_one(NULL, &a->base, etag, NULL, &g), 0);
    assert_int_equal(g.status, ES_EUNCHANGED);
    got_release(&g);
    assert_int_equal(poll_one(NULL, &a->base, NULL, lm, &g), 0);
    assert_int_equal(g.status, ES_EUNCHANGED);
    got_release(&g);

    assert_int_equal(poll_one(NULL, &b->base, NULL, NULL, &g), 0);
    assert_int_equal(g.status, ES_ENETWORK);
    assert_int_equal(g.http_code, 404);
    got_release(&g);

    assert_int_equal(poll_one(NULL, &c->base, NULL, NULL, &g), 0);
    assert_int_equal(g.status, 0);
    assert_int_equal(g.nitems, 2);
    assert_string_equal(g.first_title, "r1");
    got_release(&g);

    es_testhttpd_set_root(srv, "/nonexistent");
    unlink(path);
    rmdir(dir);
    free(path);
    free(etag);
    free(lm);
    free_lines(a);
    free_lines(b);
    free_lines(c);
}

/* ==== The rss source ==== */

static const char RSS[] =
    "<?xml version=\"1.0\"?>\n"
    "<rss version=\"2.0\"><channel><title>T</title>"
    "<link>http://example.com/</link>"
    "<item><title>First post</title><link>http://example.com/a/1</link>"
    "<guid>id-1</guid><description>Hello world</description></item>"
    "<item><title>Second post</title><link>http://example.com/a/2</link>"
    "<guid>id-2</guid></item>"
    "</channel></rss>\n";

static struct es_source *rss_open(const char *name, const char *url)
{
    struct es_config_source cfg = {
        .name = name,
        .type = "rss",
        .url = url,
        .enabled = 1,
        .file = "test.conf",
        .line = 3,
    };
    struct es_source *src = NULL;
    assert_int_equal(es_source_open(&src, &cfg), 0);
    assert_non_null(src);
    return src;
}

static void test_rss_open_errors(void **state)
{
    (void)state;
    struct es_config_source cfg = {
        .name = "nourl",
        .type = "rss",
        .enabled = 1,
        .file = "test.conf",
        .line = 12,
    };
    struct es_source dummy;
    struct es_source *src = &dummy; /* open must reset it */

    assert_int_equal(es_source_open(&src, &cfg), ES_EINVALID);
    assert_null(src);
    assert_string_equal(es_error_last(),
                        "test.conf:12: [source \"nourl\"] needs a url");
    cfg.url = "gopher://example.com/feed";
    assert_int_equal(es_source_open(&src, &cfg), ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "test.conf:12:"));
    assert_non_null(strstr(es_error_last(), "gopher://"));

    cfg.url = "https://example.com/feed";
    assert_int_equal(es_source_open(&src, &cfg), 0);
    assert_string_equal(src->name, "nourl");
    assert_string_equal(src->url, "https://example.com/feed");
    assert_int_equal(src->interval, 900);
    es_source_free(src);
    cfg.interval = 300;
    cfg.type = "atom";
    assert_int_equal(es_source_open(&src, &cfg), 0);
    assert_int_equal(src->interval, 300);
    assert_string_equal(src->ops->name, "rss");
    es_source_free(src);
    es_source_free(NULL);
}

static void test_rss_poll(void **state)
{
    (void)state;
    struct es_testhttpd_response r = {
        .content_type = "application/rss+xml",
        .body = RSS,
        .etag = "\"rss1\"",
        .gzip = 1,
    };
    es_testhttpd_route(srv, "/feed.xml", &r);
    char *url = es_testhttpd_url(srv, "/feed.xml");
    struct es_source *src = rss_open("news", url);
    struct got g;

    assert_int_equal(poll_one(NULL, src, NULL, NULL, &g), 0);
    assert_int_equal(g.status, 0);
    assert_null(g.error);
    assert_int_equal(g.nitems, 2);
    assert_string_equal(g.first_title, "First post");
    assert_string_equal(g.first_url, "http://example.com/a/1");
    assert_string_equal(g.first_source, "news");
    assert_string_equal(g.first_platform, "rss");
    assert_string_equal(g.etag, "\"rss1\"");
    char *accept = es_testhttpd_header(srv, "/feed.xml", -1, "Accept");
    assert_non_null(accept);
    assert_non_null(strstr(accept, "application/rss+xml"));
    free(accept);
    got_release(&g);

    assert_int_equal(poll_one(NULL, src, "\"rss1\"", NULL, &g), 0);
    assert_int_equal(g.status, ES_EUNCHANGED);
    assert_int_equal(g.nitems, 0);
    got_release(&g);
    es_source_free(src);
    free(url);
}

/* A JSON Feed at a source of the rss kind: fetched (gzip), parsed, its
 * relative links resolved against the feed's own URL. */
static void test_rss_poll_json_feed(void **state)
{
    (void)state;
    struct es_testhttpd_response r = {
        .content_type = "application/feed+json",
        .body = "{\"version\": \"https://jsonfeed.org/version/1.1\", "
                "\"title\": \"J\", \"items\": [{\"id\": \"j1\", "
                "\"url\": \"/posts/1\", \"title\": \"First JSON post\", "
                "\"content_html\": \"<p>Hello</p>\"}, {\"id\": \"j2\"}]}",
        .gzip = 1,
    };
    es_testhttpd_route(srv, "/feed.json", &r);
    char *url = es_testhttpd_url(srv, "/feed.json");
    char *post = es_testhttpd_url(srv, "/posts/1");
    struct es_source *src = rss_open("jf", url);
    struct got g;

    assert_int_equal(poll_one(NULL, src, NULL, NULL, &g), 0);
    assert_int_equal(g.status, 0);
    assert_null(g.error);
    assert_int_equal(g.nitems, 2);
    assert_string_equal(g.first_title, "First JSON post");
    assert_string_equal(g.first_url, post);
    assert_string_equal(g.first_platform, "rss");
    char *accept = es_testhttpd_header(srv, "/feed.json", -1, "Accept");
    assert_non_null(accept);
    assert_non_null(strstr(accept, "application/feed+json"));
    free(accept);
    got_release(&g);
    es_source_free(src);
    free(post);
    free(url);
}

static void test_rss_charset_and_errors(void **state)
{
    (void)state;
    /* Latin-1 bytes, no encoding in the XML declaration: only the
     * Content-Type says so. */
    static const char latin1[] =
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>c</title>"
        "<item><title>caf\xe9</title><guid>l1</guid></item>"
        "</channel></rss>";
    struct es_testhttpd_response r = {
        .content_type = "application/xml; charset=\"ISO-8859-1\"",
        .body = latin1,
    };
    struct es_testhttpd_response junk = {
        .content_type = "text/html",
        .body = "<html><body>not a feed</body></html>",
    };
    struct es_testhttpd_response cut = {
        .content_type = "application/rss+xml",
        .body = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>"
                "<title>c</title><item><title>kept</title><guid>k1</guid>"
                "</item><item><title>lost",
    };
    es_testhttpd_route(srv, "/latin1.xml", &r);
    es_testhttpd_route(srv, "/junk.html", &junk);
    es_testhttpd_route(srv, "/cut.xml", &cut);
    char *u1 = es_testhttpd_url(srv, "/latin1.xml");
    char *u2 = es_testhttpd_url(srv, "/junk.html");
    char *u3 = es_testhttpd_url(srv, "/cut.xml");
    struct es_source *s1 = rss_open("latin", u1);
    struct es_source *s2 = rss_open("junk", u2);
    struct es_source *s3 = rss_open("cut", u3);
    struct es_poll_job jobs[] = { { .src = s1 }, { .src = s2 }, { .src = s3 } };
    struct got g[3];

    assert_int_equal(poll_jobs(NULL, jobs, 3, g), 0);
    assert_int_equal(g[0].status, 0);
    assert_int_equal(g[0].nitems, 1);
    assert_string_equal(g[0].first_title, "caf\xc3\xa9");
    assert_int_equal(g[1].status, ES_EPARSE);
    assert_int_equal(g[1].nitems, 0);
    assert_non_null(g[1].error);
    assert_int_equal(g[2].status, 0);
    assert_int_equal(g[2].nitems, 1);
    assert_string_equal(g[2].first_title, "kept");
    assert_non_null(g[2].error); /* recovered, with the complaint */
    for (int i = 0; i < 3; i++)
        got_release(&g[i]);
    es_source_free(s1);
    es_source_free(s2);
    es_source_free(s3);
    free(u1);
    free(u2);
    free(u3);
}

/* ==== Main ==== */

static int setup(void **state)
{
    (void)state;
    return es_testhttpd_open(&srv, 0);
}

static int teardown(void **state)
{
    (void)state;
    es_testhttpd_free(srv);
    srv = NULL;
    return 0;
}

/* ==== Pages, cursors, rate limits (API kinds) ==== */

static void test_paging_and_cursor(void **state)
{
    (void)state;
    struct es_testhttpd_response p1 = {
        .body = "a\nb\n!CURSOR c1\n!NEXT /page2\n",
        .etag = "\"v1\"",
    };
    struct es_testhttpd_response p2 = { .body = "c\n!CURSOR c2\n" };
    es_testhttpd_route(srv, "/page1", &p1);
    es_testhttpd_route(srv, "/page2", &p2);
    es_testhttpd_clear_log(srv);
    struct lines_source *ls = lines_new("paged", "/page1");
    struct es_poll_job job = { .src = &ls->base,
                               .cursor = "c0",
                               .etag = "\"v0\"" };
    struct got g;
    assert_int_equal(poll_jobs(NULL, &job, 1, &g), 0);
    /* begin() saw the stored cursor before the first request. */
    assert_int_equal(ls->begins, 1);
    assert_string_equal(ls->begun, "c0");
    /* Two answers, each reported with its own page's cursor. */
    assert_int_equal(g.calls, 2);
    assert_int_equal(g.total_items, 3);
    assert_string_equal(g.cursor, "c2");
    assert_int_equal(g.last_step, 1);
    assert_int_equal(es_testhttpd_hits(srv, "/page2"), 1);
    /* Validators go with the conditional first request only. */
    char *inm = es_testhttpd_header(srv, "/page1", 0, "If-None-Match");
    assert_non_null(inm);
    free(inm);
    assert_null(es_testhttpd_header(srv, "/page2", 0, "If-None-Match"));
    got_release(&g);
    free_lines(ls);
}

static void test_runaway_paging_is_capped(void **state)
{
    (void)state;
    struct es_testhttpd_response loop = { .body = "x\n!NEXT /loop\n" };
    es_testhttpd_route(srv, "/loop", &loop);
    es_testhttpd_clear_log(srv);
    struct lines_source *ls = lines_new("loop", "/loop");
    struct es_poll_job job = { .src = &ls->base };
    struct got g;
    assert_int_equal(poll_jobs(NULL, &job, 1, &g), 0);
    assert_int_equal(es_testhttpd_hits(srv, "/loop"), ES_POLL_MAX_STEPS);
    assert_int_equal(g.calls, ES_POLL_MAX_STEPS);
    got_release(&g);
    free_lines(ls);
}

/* A spent rate-limit window, in each platform's spelling, ends the
 * poll's paging and sets the wait to the reset. */
static void test_rate_limit_headers(void **state)
{
    (void)state;
    char hdr[4][160];
    char iso[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&(time_t){ now + 300 }, &tm);
    strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    /* GitHub (epoch), Mastodon (ISO 8601), Reddit (float, seconds from
     * now), IETF draft (seconds from now). */
    snprintf(hdr[0], sizeof(hdr[0]),
             "X-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: %lld\r\n",
             (long long)now + 300);
    snprintf(hdr[1], sizeof(hdr[1]),
             "X-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: %s\r\n", iso);
    snprintf(hdr[2], sizeof(hdr[2]),
             "x-ratelimit-remaining: 0.0\r\nx-ratelimit-reset: 300\r\n");
    snprintf(hdr[3], sizeof(hdr[3]),
             "RateLimit-Remaining: 0\r\nRateLimit-Reset: 300\r\n");
    for (int k = 0; k < 4; k++) {
        struct es_testhttpd_response r = {
            .body = "a\n!NEXT /rl-next\n",
            .headers = hdr[k],
        };
        es_testhttpd_route(srv, "/rl", &r);
        es_testhttpd_clear_log(srv);
        struct lines_source *ls = lines_new("rl", "/rl");
        struct es_poll_job job = { .src = &ls->base };
        struct got g;
        assert_int_equal(poll_jobs(NULL, &job, 1, &g), 0);
        assert_int_equal(g.calls, 1);
        assert_int_equal(g.status, 0);
        assert_int_equal(g.nitems, 1);
        assert_int_equal(es_testhttpd_hits(srv, "/rl-next"), 0);
        assert_in_range(g.retry_after, 295, 301);
        got_release(&g);
        free_lines(ls);
    }
    /* Requests left: paging goes on, no wait. */
    struct es_testhttpd_response ok = {
        .body = "a\n",
        .headers = "X-RateLimit-Remaining: 12\r\nX-RateLimit-Reset: 60\r\n",
    };
    es_testhttpd_route(srv, "/rl", &ok);
    struct lines_source *ls = lines_new("rl", "/rl");
    struct es_poll_job job = { .src = &ls->base };
    struct got g;
    assert_int_equal(poll_jobs(NULL, &job, 1, &g), 0);
    assert_int_equal(g.retry_after, -1);
    got_release(&g);
    free_lines(ls);
    /* A window said to reset in the year 9999 (or in 2096, as Unix
     * seconds) waits the longest wait honoured, 7 days, not forever. */
    const char *far[] = {
        "X-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: 9999-12-31T23:59:59Z\r\n",
        "X-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: 3999999999\r\n",
    };
    for (int k = 0; k < 2; k++) {
        ok.headers = far[k];
        es_testhttpd_route(srv, "/rl", &ok);
        ls = lines_new("rl", "/rl");
        job.src = &ls->base;
        assert_int_equal(poll_jobs(NULL, &job, 1, &g), 0);
        assert_in_range(g.retry_after, 7 * 24 * 3600 - 5, 7 * 24 * 3600);
        got_release(&g);
        free_lines(ls);
    }
    /* A count that is no number ("nan" converted to an integer is
     * undefined behaviour) is read as no count at all. */
    ok.headers = "X-RateLimit-Remaining: nan\r\nX-RateLimit-Reset: 60\r\n";
    es_testhttpd_route(srv, "/rl", &ok);
    ls = lines_new("rl", "/rl");
    job.src = &ls->base;
    assert_int_equal(poll_jobs(NULL, &job, 1, &g), 0);
    assert_int_equal(g.status, 0);
    assert_int_equal(g.retry_after, -1);
    got_release(&g);
    free_lines(ls);
}

/* A 429 naming only its window's reset waits for it. */
static void test_429_with_reset_only(void **state)
{
    (void)state;
    char hdr[96];
    snprintf(hdr, sizeof(hdr),
             "x-rate-limit-remaining: 0\r\nx-rate-limit-reset: %lld\r\n",
             (long long)time(NULL) + 600);
    struct es_testhttpd_response r = { .status = 429, .headers = hdr };
    es_testhttpd_route(srv, "/429r", &r);
    struct lines_source *ls = lines_new("t429", "/429r");
    struct es_poll_job job = { .src = &ls->base };
    struct got g;
    assert_int_equal(poll_jobs(NULL, &job, 1, &g), 0);
    assert_int_equal(g.status, ES_ERATELIMIT);
    assert_in_range(g.retry_after, 595, 601);
    got_release(&g);
    free_lines(ls);
}

/* An API's JSON error body explains the failure in the message. */
static void test_platform_error_message(void **state)
{
    (void)state;
    struct es_testhttpd_response r = {
        .status = 401,
        .content_type = "application/json",
        .body = "{\"error\":\"The access token is invalid\"}",
    };
    es_testhttpd_route(srv, "/deny", &r);
    struct lines_source *ls = lines_new("deny", "/deny");
    struct es_poll_job job = { .src = &ls->base };
    struct got g;
    assert_int_equal(poll_jobs(NULL, &job, 1, &g), 0);
    assert_int_equal(g.status, ES_EAUTH);
    assert_non_null(strstr(g.error, "HTTP 401"));
    assert_non_null(strstr(g.error, "The access token is invalid"));
    got_release(&g);
    free_lines(ls);
}

static void test_post_body(void **state)
{
    (void)state;
    struct es_testhttpd_response r = { .body = "{}" };
    es_testhttpd_route(srv, "/xrpc/login", &r);
    es_testhttpd_clear_log(srv);
    char *url = es_testhttpd_url(srv, "/xrpc/login");
    const char *hdrs[] = { "Content-Type: application/json", NULL };
    struct es_http_request req = {
        .url = url,
        .method = "POST",
        .headers = hdrs,
        .body = "{\"identifier\":\"acme.example\"}",
    };
    struct es_http_response res;
    assert_int_equal(es_http_get(NULL, &req, &res), 0);
    char *m = es_testhttpd_method(srv, "/xrpc/login", 0);
    char *b = es_testhttpd_body(srv, "/xrpc/login", 0);
    assert_string_equal(m, "POST");
    assert_string_equal(b, "{\"identifier\":\"acme.example\"}");
    free(m);
    free(b);
    es_http_response_release(&res);
    free(url);
}

static void test_redact_query_secrets(void **state)
{
    (void)state;
    char out[512];
    es_http__redact_url("https://www.googleapis.com/youtube/v3/"
                        "commentThreads?part=snippet&key=SECRET123&"
                        "pageToken=abc",
                        out, sizeof(out));
    assert_null(strstr(out, "SECRET123"));
    assert_non_null(strstr(out, "key=REDACTED"));
    assert_non_null(strstr(out, "pageToken=abc"));
    es_http__redact_url("https://u:pw@x.example/a?access_token=T0K&q=acme", out,
                        sizeof(out));
    assert_string_equal(out,
                        "https://x.example/a?access_token=REDACTED&q=acme");
}

static void test_link_header(void **state)
{
    (void)state;
    struct es_buf b = ES_BUF_INIT;
    const char *link = "<https://m.example/api/v1/notifications?max_id=7>; "
                       "rel=\"next\", "
                       "<https://m.example/api/v1/notifications?min_id=9>; "
                       "rel=\"prev\"";
    assert_int_equal(es_url_link_rel(link, "next", &b), 0);
    assert_string_equal(b.ptr,
                        "https://m.example/api/v1/notifications?max_id=7");
    assert_int_equal(es_url_link_rel(link, "prev", &b), 0);
    assert_string_equal(b.ptr,
                        "https://m.example/api/v1/notifications?min_id=9");
    assert_int_equal(es_url_link_rel(link, "last", &b), -1);
    struct es_buf v = ES_BUF_INIT;
    assert_int_equal(es_url_query_param(b.ptr, "min_id", &v), 0);
    assert_string_equal(v.ptr, "9");
    assert_int_equal(es_url_query_param(b.ptr, "max_id", &v), -1);
    /* An empty value is empty (found by fuzz_url: curl's unescape took a
     * length of 0 to mean the rest of the URL, "&n=1"). */
    assert_int_equal(es_url_query_param("/x?q=&n=1", "q", &v), 0);
    assert_string_equal(v.ptr, "");
    assert_int_equal(es_url_query_param("/x?q=acme%20cloud&n=1", "q", &v), 0);
    assert_string_equal(v.ptr, "acme cloud");
    es_buf_release(&v);
    struct es_buf c = ES_BUF_INIT;
    /* Relations listed with a comma inside the quotes, or unquoted, are
     * read; such a header once hung the scan. */
    assert_int_equal(
        es_url_link_rel("<https://x/y?page=2>; rel=\"prev,next\"", "next", &c),
        0);
    assert_string_equal(c.ptr, "https://x/y?page=2");
    assert_int_equal(es_url_link_rel("<https://x/y?page=1>; rel=\"first,\", "
                                     "<https://x/y?page=3>; rel=next",
                                     "next", &c),
                     0);
    assert_string_equal(c.ptr, "https://x/y?page=3");
    assert_int_equal(
        es_url_link_rel("<https://x/a>; rel=prev, <https://x/b>", "next", &c),
        -1);
    es_buf_release(&c);
    es_buf_reset(&b);
    es_url_add_param(&b, "q", "acme cloud/é&x");
    assert_string_equal(b.ptr, "?q=acme%20cloud%2F%C3%A9%26x");
    es_buf_release(&b);
}

/* The source's listening query drops what it does not match. */
static void test_query_filters_items(void **state)
{
    (void)state;
    struct es_testhttpd_response r = {
        .body = "Acme is down again\nnice weather\n#acme rocks\n",
    };
    es_testhttpd_route(srv, "/q", &r);
    struct lines_source *ls = lines_new("q", "/q");
    char err[128];
    assert_int_equal(es_query_parse(&ls->base.query, "acme", err, sizeof(err)),
                     0);
    struct es_poll_job job = { .src = &ls->base };
    struct got g;
    assert_int_equal(poll_jobs(NULL, &job, 1, &g), 0);
    assert_int_equal(g.nitems, 2);
    assert_string_equal(g.first_title, "Acme is down again");
    got_release(&g);
    es_query_free(ls->base.query);
    free_lines(ls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conditional_get),
        cmocka_unit_test(test_server_error_backoff),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_redirects),
        cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_oversized),
        cmocka_unit_test(test_timeouts),
        cmocka_unit_test(test_reset_and_refused),
        cmocka_unit_test(test_one_failing_among_many),
        cmocka_unit_test(test_keepalive_reuse),
        cmocka_unit_test(test_connections_per_host),
        cmocka_unit_test(test_callback_stops_run),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_file_url),
        cmocka_unit_test(test_user_agent),
        cmocka_unit_test(test_no_secrets_in_errors),
        cmocka_unit_test(test_http_get),
        cmocka_unit_test(test_server_root),
        cmocka_unit_test(test_rss_open_errors),
        cmocka_unit_test(test_rss_poll),
        cmocka_unit_test(test_rss_poll_json_feed),
        cmocka_unit_test(test_rss_charset_and_errors),
        cmocka_unit_test(test_paging_and_cursor),
        cmocka_unit_test(test_runaway_paging_is_capped),
        cmocka_unit_test(test_rate_limit_headers),
        cmocka_unit_test(test_429_with_reset_only),
        cmocka_unit_test(test_platform_error_message),
        cmocka_unit_test(test_post_body),
        cmocka_unit_test(test_redact_query_secrets),
        cmocka_unit_test(test_link_header),
        cmocka_unit_test(test_query_filters_items),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return failed;
}
