/* test_collectors.c - the collectors without the network
 *
 * es_schedule_next() is pure arithmetic, so its contract in source.h is
 * checked here case by case: the plain interval, the backoff's start,
 * doubling and cap, the jitter's bounds, and Retry-After winning.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs setjmp.h, stdarg.h and stddef.h first. */
#include <cmocka.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedule_healthy),
        cmocka_unit_test(test_schedule_backoff),
        cmocka_unit_test(test_schedule_retry_after),
        cmocka_unit_test(test_schedule_odd_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
