/* test_collectors.c - the collectors without the network
 *
 * es_schedule_next() is pure arithmetic, so its contract in source.h is
 * checked here case by case: the plain interval, the backoff's start,
 * doubling and cap, the jitter's bounds, and Retry-After winning. Then the
 * guarded JSON reader every platform kind uses (collectors/json.h) meets
 * hostile input: deep nesting, huge bodies, NUL bytes, truncation, wrong
 * types. Last, the state the platform kinds share (collectors/stream.h):
 * the context queue and its ring of fetched threads, seconds cursors,
 * cursor members and base URLs.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka.h needs setjmp.h, stdarg.h and stddef.h first. */
#include <cmocka.h>

#include "collectors/json.h"
#include "collectors/stream.h"
#include "collectors/url.h"
#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/source.h"

#define NOW ((int64_t)1700000000)

static void test_schedule_healthy(void **state)
{
    (void)state;
    /* rnd 0.5 is the middle of the jitter range: no jitter. */
    assert_int_equal(es_schedule_next(NOW, 900, 0, -1, 0.5), NOW + 900);
    assert_int_equal(es_schedule_next(NOW, 60, 0, -1, 0.5), NOW + 60);
    /* +-10% at the ends. */
    assert_int_equal(es_schedule_next(NOW, 900, 0, -1, 0.0), NOW + 810);
    assert_int_equal(es_schedule_next(NOW, 900, 0, -1, 1.0), NOW + 990);
    /* Every rnd in between stays inside the band. */
    for (int i = 0; i <= 100; i++) {
        int64_t t = es_schedule_next(NOW, 1000, 0, -1, i / 100.0);
        assert_true(t >= NOW + 900 && t <= NOW + 1100);
    }
}

static void test_schedule_backoff(void **state)
{
    (void)state;
    /* Long interval: starts at 60 s, doubles, capped at 6 h. */
    assert_int_equal(es_schedule_next(NOW, 900, 1, -1, 0.5), NOW + 60);
    assert_int_equal(es_schedule_next(NOW, 900, 2, -1, 0.5), NOW + 120);
    assert_int_equal(es_schedule_next(NOW, 900, 3, -1, 0.5), NOW + 240);
    assert_int_equal(es_schedule_next(NOW, 900, 9, -1, 0.5), NOW + 15360);
    assert_int_equal(es_schedule_next(NOW, 900, 10, -1, 0.5), NOW + 21600);
    assert_int_equal(es_schedule_next(NOW, 900, 50, -1, 0.5), NOW + 21600);
    assert_int_equal(es_schedule_next(NOW, 900, 1000000, -1, 0.5), NOW + 21600);
    /* Short interval: the first retry is after one interval. */
    assert_int_equal(es_schedule_next(NOW, 10, 1, -1, 0.5), NOW + 10);
    assert_int_equal(es_schedule_next(NOW, 10, 2, -1, 0.5), NOW + 20);
    /* An interval over 6 h is its own cap. */
    assert_int_equal(es_schedule_next(NOW, 86400, 1, -1, 0.5), NOW + 60);
    assert_int_equal(es_schedule_next(NOW, 86400, 40, -1, 0.5), NOW + 86400);
    /* Monotonic in failures. */
    int64_t prev = 0;
    for (int f = 1; f < 30; f++) {
        int64_t t = es_schedule_next(NOW, 300, f, -1, 0.5);
        assert_true(t >= prev);
        prev = t;
    }
    /* Jitter applies to backoff too. */
    assert_int_equal(es_schedule_next(NOW, 900, 2, -1, 0.0), NOW + 108);
    assert_int_equal(es_schedule_next(NOW, 900, 2, -1, 1.0), NOW + 132);
}

static void test_schedule_retry_after(void **state)
{
    (void)state;
    /* Retry-After later than the schedule wins, exactly. */
    assert_int_equal(es_schedule_next(NOW, 900, 1, 3600, 0.5), NOW + 3600);
    assert_int_equal(es_schedule_next(NOW, 900, 0, 3600, 1.0), NOW + 3600);
    /* Sooner than the schedule changes nothing. */
    assert_int_equal(es_schedule_next(NOW, 900, 0, 30, 0.5), NOW + 900);
    assert_int_equal(es_schedule_next(NOW, 900, 3, 10, 0.5), NOW + 240);
    /* Zero is "whenever": the schedule stands. */
    assert_int_equal(es_schedule_next(NOW, 900, 1, 0, 0.5), NOW + 60);
}

static void test_schedule_odd_input(void **state)
{
    (void)state;
    /* Never now or earlier, whatever the input. */
    assert_true(es_schedule_next(NOW, 0, 0, -1, 0.5) > NOW);
    assert_true(es_schedule_next(NOW, -5, 3, -1, 0.0) > NOW);
    /* rnd outside 0..1 (or NaN) is clamped, not trusted. */
    assert_int_equal(es_schedule_next(NOW, 900, 0, -1, 7.0), NOW + 990);
    assert_int_equal(es_schedule_next(NOW, 900, 0, -1, -3.0), NOW + 810);
    assert_int_equal(es_schedule_next(NOW, 900, 0, -1, NAN), NOW + 810);
}

/* ==== The guarded JSON reader ==== */

static void test_json_deep_nesting(void **state)
{
    (void)state;
    /* 200,000 levels would overflow the stack in yajl_tree_free. */
    size_t depth = 200000;
    char *buf = es_xmalloc(2 * depth + 1);
    memset(buf, '[', depth);
    memset(buf + depth, ']', depth);
    buf[2 * depth] = '\0';
    yajl_val v;
    assert_int_equal(es_json_parse(&v, "mastodon", buf, 2 * depth), ES_EPARSE);
    assert_null(v);
    assert_non_null(strstr(es_error_last(), "mastodon"));
    assert_non_null(strstr(es_error_last(), "nested deeper"));
    /* Brackets inside strings are not nesting. */
    const char *ok = "{\"a\":\"[[[[[[[[\\\"[[[[\"}";
    assert_int_equal(es_json_parse(&v, "x", ok, strlen(ok)), 0);
    assert_string_equal(es_json_str(v, "a"), "[[[[[[[[\"[[[[");
    es_json_free(v);
    free(buf);
}

static void test_json_huge_body(void **state)
{
    (void)state;
    size_t len = (size_t)ES_JSON_MAX_BYTES + 1;
    char *buf = es_xmalloc(len + 1);
    memset(buf, ' ', len);
    buf[0] = '[';
    buf[len - 1] = ']';
    buf[len] = '\0';
    yajl_val v;
    assert_int_equal(es_json_parse(&v, "reddit", buf, len), ES_ETOOBIG);
    assert_non_null(strstr(es_error_last(), "reddit"));
    free(buf);
}

static void test_json_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "   ",
        "{\"id\": \"1\", \"text\": \"cut",
        "[{\"id\":1},",
        "{\"a\":1}}",
        "nul\xff",
        "{\"text\":\"\xc3\x28\"}", /* invalid UTF-8 in a string */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        yajl_val v;
        assert_int_equal(es_json_parse(&v, "x", bad[i], strlen(bad[i])),
                         ES_EPARSE);
        assert_null(v);
        assert_non_null(strstr(es_error_last(), "x: "));
    }
    /* A NUL byte inside the body. */
    const char nul[] = "{\"a\":\"b\0c\"}";
    yajl_val v;
    assert_int_equal(es_json_parse(&v, "x", nul, sizeof(nul) - 1), ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "NUL"));
}

static void test_json_getters_wrong_types(void **state)
{
    (void)state;
    const char *doc =
        "{\"id\":{},\"n\":\"12\",\"big\":1346889436626259968,"
        "\"s\":[1],\"t\":\"2024-05-01T12:00:00Z\",\"ti\":1714564800,"
        "\"nul\":null,\"b\":true,\"emoji\":\"\\uD83D\\uDE00\"}";
    yajl_val v;
    char id[32];
    long long n;
    assert_int_equal(es_json_parse(&v, "x", doc, strlen(doc)), 0);
    assert_null(es_json_str(v, "id"));
    assert_null(es_json_id(v, "id", id, sizeof(id)));
    assert_string_equal(es_json_id(v, "big", id, sizeof(id)),
                        "1346889436626259968");
    assert_int_equal(es_json_int(v, "n", &n), 0);
    assert_int_equal(n, 12);
    assert_int_equal(es_json_int(v, "s", &n), -1);
    assert_int_equal(es_json_int(v, "missing", &n), -1);
    assert_null(es_json_get(v, "nul"));
    assert_int_equal(es_json_bool(v, "b", 0), 1);
    assert_int_equal(es_json_bool(v, "n", 7), 7);
    assert_int_equal(es_json_time(v, "t"), 1714564800);
    assert_int_equal(es_json_time(v, "ti"), 1714564800);
    assert_int_equal(es_json_time(v, "s"), ES_TIME_UNKNOWN);
    assert_int_equal(es_json_len(es_json_get(v, "s")), 1);
    assert_int_equal(es_json_len(es_json_get(v, "n")), 0);
    assert_null(es_json_at(es_json_get(v, "s"), 5));
    assert_null(es_json_path(v, "id.deeper.still"));
    /* A surrogate pair escape is one emoji in UTF-8. */
    assert_string_equal(es_json_str(v, "emoji"), "\xF0\x9F\x98\x80");
    es_json_free(v);
}

/* A platform that cuts a string inside an emoji sends half a surrogate
 * pair; yajl would write the low half as invalid UTF-8. */
static void test_json_lone_surrogates(void **state)
{
    (void)state;
    const char *doc = "{\"low\":\"a\\uDE20b\",\"high\":\"a\\uD83Db\","
                      "\"pair\":\"\\ud83d\\ude00\",\"deep\":[{\"t\":"
                      "\"\\uDC00\\uDFFF\"}]}";
    yajl_val v;
    assert_int_equal(es_json_parse(&v, "x", doc, strlen(doc)), 0);
    assert_string_equal(es_json_str(v, "low"), "a\xEF\xBF\xBD"
                                               "b");
    assert_string_equal(es_json_str(v, "high"), "a?b");
    assert_string_equal(es_json_str(v, "pair"), "\xF0\x9F\x98\x80");
    yajl_val deep = es_json_at(es_json_get(v, "deep"), 0);
    assert_string_equal(es_json_str(deep, "t"), "\xEF\xBF\xBD\xEF\xBF\xBD");
    es_json_free(v);
    /* yajl checks the shape of a sequence, not its value: an overlong
     * form and a surrogate's raw bytes pass it, and are replaced here. */
    const char raw[] = "{\"a\":\"x\xC1\xB7y\",\"b\":[\"\xED\xA0\x80z\"],"
                       "\"c\":\"caf\xC3\xA9\"}";
    assert_int_equal(es_json_parse(&v, "x", raw, strlen(raw)), 0);
    assert_string_equal(es_json_str(v, "a"), "x\xEF\xBF\xBD\xEF\xBF\xBDy");
    yajl_val b0 = es_json_at(es_json_get(v, "b"), 0);
    assert_true(YAJL_IS_STRING(b0));
    assert_string_equal(b0->u.string, "\xEF\xBF\xBDz");
    assert_string_equal(es_json_str(v, "c"), "caf\xC3\xA9");
    es_json_free(v);
}

static void test_json_error_text(void **state)
{
    (void)state;
    const char *a = "{\"error\":\"InvalidToken\",\"message\":\"Bad token\"}";
    const char *b = "{\"errors\":[{\"message\":\"Rate limit\\nexceeded\"}]}";
    const char *c = "{\"error\":{\"code\":403,\"message\":\"quotaExceeded\"}}";
    char *t = es_json_error_text(a, strlen(a));
    assert_string_equal(t, "Bad token");
    free(t);
    t = es_json_error_text(b, strlen(b));
    assert_string_equal(t, "Rate limit exceeded");
    free(t);
    t = es_json_error_text(c, strlen(c));
    assert_string_equal(t, "quotaExceeded");
    free(t);
    assert_null(es_json_error_text("<html>", 6));
    assert_null(es_json_error_text("{}", 2));
    /* The caller's message survives the look inside the body. */
    es_error_set(ES_EAUTH, "HTTP 401 from 'x'");
    t = es_json_error_text(a, strlen(a));
    free(t);
    assert_string_equal(es_error_last(), "HTTP 401 from 'x'");
}

static void test_context_queue(void **state)
{
    (void)state;
    struct es_ctxq q = { 0 };
    assert_false(es_ctxq_ready(&q));
    es_ctxq_want(&q, "a");
    es_ctxq_want(&q, "b");
    es_ctxq_want(&q, "a"); /* waits already */
    assert_int_equal(q.n, 2);
    assert_true(es_ctxq_ready(&q));
    char *id = es_ctxq_pop(&q); /* the oldest first */
    assert_string_equal(id, "a");
    free(id);
    es_ctxq_want(&q, "a"); /* fetched already */
    assert_int_equal(q.n, 1);
    assert_int_equal(q.polled, 1);

    /* The queue holds ES_CTXQ_MAX; a poll fetches ES_CTXQ_PER_POLL. */
    char name[32];
    for (int i = 0; i < 2 * ES_CTXQ_MAX; i++) {
        snprintf(name, sizeof(name), "q%d", i);
        es_ctxq_want(&q, name);
    }
    assert_int_equal(q.n, ES_CTXQ_MAX);
    while (es_ctxq_ready(&q))
        free(es_ctxq_pop(&q));
    assert_int_equal(q.polled, ES_CTXQ_PER_POLL);
    es_ctxq_release(&q);
    assert_null(q.queue);
    assert_int_equal(q.n, 0);

    /* The ring forgets the oldest fetch once it is full. */
    for (int i = 0; i <= ES_CTXQ_FETCHED; i++) {
        snprintf(name, sizeof(name), "f%d", i);
        es_ctxq_want(&q, name);
        q.polled = 0;
        free(es_ctxq_pop(&q));
    }
    assert_int_equal(q.nfetched, ES_CTXQ_FETCHED);
    es_ctxq_want(&q, "f1"); /* still remembered */
    assert_int_equal(q.n, 0);
    es_ctxq_want(&q, "f0"); /* forgotten */
    assert_int_equal(q.n, 1);
    assert_string_equal(q.queue[0], "f0");
    es_ctxq_release(&q);
}

static void test_cursor_helpers(void **state)
{
    (void)state;
    assert_int_equal(es_cursor_seconds("1715354062"), 1715354062);
    assert_int_equal(es_cursor_seconds("0"), 0);
    assert_int_equal(es_cursor_seconds("999999999999999999"),
                     999999999999999999LL);
    assert_true(es_cursor_seconds(NULL) == ES_TIME_UNKNOWN);
    assert_true(es_cursor_seconds("") == ES_TIME_UNKNOWN);
    assert_true(es_cursor_seconds("1000000000000000000") == ES_TIME_UNKNOWN);
    assert_true(es_cursor_seconds("-5") == ES_TIME_UNKNOWN);
    assert_true(es_cursor_seconds("12a") == ES_TIME_UNKNOWN);
    assert_true(es_cursor_seconds("{\"since\":1}") == ES_TIME_UNKNOWN);

    struct es_buf b = ES_BUF_INIT;
    es_buf_addch(&b, '{');
    es_json_add_member_int(&b, "search", 1714000000);
    es_json_add_member_int(&b, "a \"q\"", -1);
    es_buf_addch(&b, '}');
    assert_string_equal(b.ptr, "{\"search\":1714000000,\"a \\\"q\\\"\":-1}");
    es_buf_release(&b);

    assert_int_equal(es_url_trim_len("https://h.example//"), 17);
    assert_int_equal(es_url_trim_len("https://h.example"), 17);
    assert_int_equal(es_url_trim_len("///"), 0);
    assert_int_equal(es_url_trim_len(""), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedule_healthy),
        cmocka_unit_test(test_schedule_backoff),
        cmocka_unit_test(test_schedule_retry_after),
        cmocka_unit_test(test_schedule_odd_input),
        cmocka_unit_test(test_json_deep_nesting),
        cmocka_unit_test(test_json_huge_body),
        cmocka_unit_test(test_json_malformed),
        cmocka_unit_test(test_json_getters_wrong_types),
        cmocka_unit_test(test_json_lone_surrogates),
        cmocka_unit_test(test_json_error_text),
        cmocka_unit_test(test_context_queue),
        cmocka_unit_test(test_cursor_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
