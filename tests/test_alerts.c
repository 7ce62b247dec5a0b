/* test_alerts.c - the spike detector, the alert engine and `earshot alerts`
 *
 * The detector is fed synthetic hourly series with the rhythm of social
 * traffic (quiet nights, a morning peak, lower weekends) and Poisson noise
 * from a fixed seed, so every run sees the same numbers: a normal morning
 * after a quiet night does not fire, a 4x spike fires at once, a long
 * spike is one alert, the cooldown and the hysteresis hold, low counts
 * never fire, alert buckets and missing data stay out of the baseline.
 * The engine runs on an inbox filled with four weeks of such mentions and
 * a spike: the alert opens with its explanation and one delivery per
 * channel, resolves, and stays quiet within the cooldown; the backtest
 * gives the same alerts every time. The command line is run for real.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* cmocka.h needs setjmp.h, stdarg.h and stddef.h first. */
#include <cmocka.h>

#include <sqlite3.h>
#include <yajl/yajl_tree.h>

#include "earshot/alerts.h"
#include "earshot/alloc.h"
#include "earshot/buf.h"
#include "earshot/config.h"
#include "earshot/error.h"
#include "earshot/inbox.h"
#include "earshot/item.h"
#include "fixtures.h"
#include "inbox/store.h"
#include "runcli.h"

#define T0   INT64_C(1704067200) /* 2024-01-01T00:00:00Z, a Monday */
#define H    INT64_C(3600)
#define D    INT64_C(86400)
#define WEEK (7 * D)

/* ==== Synthetic series ==== */

static uint64_t rng;

static double urand(void)
{
    /* xorshift64*: the same numbers on every machine. */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (double)((rng * UINT64_C(2685821657736338717)) >> 11) /
           9007199254740992.0;
}

static long poisson(double lam)
{
    double limit = exp(-lam), p = 1.0;
    long k = 0;
    if (lam <= 0)
        return 0;
    for (;;) {
        p *= urand();
        if (p <= limit)
            return k;
        k++;
    }
}

/* Relative volume by hour: quiet nights, a peak at 9-11. */
static const double weekday[24] = { 0.30, 0.25, 0.22, 0.20, 0.22, 0.30,
                                    0.50, 0.80, 1.20, 1.60, 1.70, 1.55,
                                    1.35, 1.40, 1.45, 1.35, 1.25, 1.15,
                                    1.05, 1.00, 0.90, 0.75, 0.55, 0.40 };

/* The expected count of the hour starting at @t for a series peaking at
 * @peak mentions an hour on weekdays; weekends at 60%. */
static double rate(int64_t t, double peak)
{
    int64_t day = (t - T0) / D % 7; /* 0 = Monday */
    double r = peak * weekday[(t % D) / H] / 1.7;
    return day >= 5 ? 0.6 * r : r;
}

/* A detector over @n hourly buckets from T0 with Poisson counts of
 * rate(@peak); the counts go to @counts when not NULL. */
static struct es_detector *series(const struct es_detector_params *p, size_t n,
                                  double peak, uint64_t seed, long *counts)
{
    struct es_detector *d = es_detector_new(p, T0, n);
    rng = seed;
    for (size_t i = 0; i < n; i++) {
        long c = poisson(rate(T0 + (int64_t)i * H, peak));
        es_detector_set(d, i, c, 1);
        if (counts)
            counts[i] = c;
    }
    return d;
}

static void hourly(struct es_detector_params *p)
{
    es_detector_params_default(p, H);
}

/* Steps buckets [from, to) and counts the events of each kind. */
static void step_range(struct es_detector *d, size_t from, size_t to,
                       int counts[6])
{
    memset(counts, 0, 6 * sizeof(*counts));
    for (size_t i = from; i < to; i++) {
        struct es_decision dc;
        es_detector_step(d, i, &dc);
        counts[dc.event]++;
    }
}

/* ==== The detector ==== */

static void test_params_and_names(void **state)
{
    (void)state;
    struct es_detector_params p;
    es_detector_params_default(&p, 300);
    assert_int_equal(p.bucket, 300);
    assert_true(p.sensitivity == 3.0);
    assert_true(p.still == 1.5);
    assert_int_equal(p.min_count, 5);
    assert_int_equal(p.cooldown, 6 * H);
    assert_int_equal(p.weeks, 8);
    /* Eight weeks, the trend's week, and a little. */
    assert_true(es_detector_history(&p) >= 9 * WEEK);
    assert_string_equal(es_baseline_level_name(ES_BASELINE_WEEKLY), "weekly");
    assert_string_equal(es_baseline_level_name(ES_BASELINE_NONE), "none");
    assert_string_equal(es_detect_event_name(ES_DETECT_FIRE), "fire");
    assert_string_equal(es_detect_event_name(ES_DETECT_COOLDOWN), "cooldown");

    int64_t b;
    assert_int_equal(es_alert_bucket_parse("5m", &b), 0);
    assert_int_equal(b, 300);
    assert_int_equal(es_alert_bucket_parse("1d", &b), 0);
    assert_int_equal(b, D);
    assert_int_equal(es_alert_bucket_parse("2h", &b), ES_EINVALID);
    /* Closed: a tenth of a bucket after its end. */
    assert_int_equal(es_alert_closed_until(H, T0 + 2 * H + 359), T0 + H);
    assert_int_equal(es_alert_closed_until(H, T0 + 2 * H + 360), T0 + 2 * H);
    assert_int_equal(es_alert_closed_until(D, T0 + D + 8640), T0 + D);
}

static void test_learning_without_history(void **state)
{
    (void)state;
    struct es_detector_params p;
    hourly(&p);
    struct es_detector *d = series(&p, 24, 40, 1, NULL);
    int ev[6];
    /* A first day: no baseline at all, whatever the counts. */
    es_detector_set(d, 20, 500, 1);
    step_range(d, 0, 24, ev);
    assert_int_equal(ev[ES_DETECT_LEARNING], 24);
    assert_int_equal(ev[ES_DETECT_FIRE], 0);
    es_detector_free(d);
}

/* The night of the fifth Monday, then its morning peak: four times the
 * night's volume, and normal for a Monday morning. */
static void test_quiet_night_then_morning_peak(void **state)
{
    (void)state;
    struct es_detector_params p;
    hourly(&p);
    size_t first = (size_t)(4 * WEEK / H); /* Monday of week 5, 00:00 */
    struct es_detector *d = series(&p, first + 24, 40, 7, NULL);
    double lowest = 1e9, highest = 0;
    for (size_t i = 0; i < first; i++) {
        struct es_decision dc;
        es_detector_step(d, i, &dc);
    }
    for (size_t i = first; i < first + 13; i++) {
        struct es_decision dc;
        es_detector_step(d, i, &dc);
        assert_int_not_equal(dc.event, ES_DETECT_FIRE);
        assert_int_equal(dc.e.level, ES_BASELINE_WEEKLY);
        assert_true(dc.score < p.sensitivity);
        if (dc.e.expected < lowest)
            lowest = dc.e.expected;
        if (dc.e.expected > highest)
            highest = dc.e.expected;
    }
    /* The baseline followed the rhythm rather than a flat level. */
    assert_true(highest > 4 * lowest);
    es_detector_free(d);

    /* With only five days of history: the same time of day. */
    d = series(&p, 6 * 24, 40, 9, NULL);
    for (size_t i = 0; i < 5 * 24; i++) {
        struct es_decision dc;
        es_detector_step(d, i, &dc);
    }
    for (size_t i = 5 * 24; i < 5 * 24 + 13; i++) {
        struct es_decision dc;
        es_detector_step(d, i, &dc);
        assert_int_equal(dc.e.level, ES_BASELINE_DAILY);
        assert_int_not_equal(dc.event, ES_DETECT_FIRE);
    }
    es_detector_free(d);
}

/* A bucket at 4x its seasonal level fires in that bucket, at the peak
 * and at night. */
static void test_spike_fires_at_once(void **state)
{
    (void)state;
    struct es_detector_params p;
    hourly(&p);
    size_t at[] = { (size_t)((4 * WEEK + 2 * D + 10 * H) / H),
                    (size_t)((4 * WEEK + 3 * D + 3 * H) / H) };
    for (size_t k = 0; k < 2; k++) {
        struct es_detector *d = series(&p, at[k] + 24, 40, 11 + k, NULL);
        long spike = lround(4 * rate(T0 + (int64_t)at[k] * H, 40));
        es_detector_set(d, at[k], spike, 1);
        int ev[6];
        step_range(d, 0, at[k], ev);
        struct es_decision dc;
        es_detector_step(d, at[k], &dc);
        assert_int_equal(dc.event, ES_DETECT_FIRE);
        assert_int_equal(dc.at, T0 + (int64_t)at[k] * H);
        assert_int_equal(dc.observed, spike);
        assert_true(dc.score >= 3);
        assert_true(dc.e.expected > spike / 6.0 && dc.e.expected < spike / 2.5);
        const struct es_detector_state *st = es_detector_state(d);
        assert_true(st->firing);
        assert_int_equal(st->started_at, dc.at);
        assert_int_equal(st->peak, spike);
        /* Back to normal: resolved where the next bucket starts. */
        es_detector_step(d, at[k] + 1, &dc);
        assert_int_equal(dc.event, ES_DETECT_RESOLVE);
        assert_false(es_detector_state(d)->firing);
        assert_int_equal(es_detector_state(d)->cooldown_until,
                         dc.at + p.cooldown);
        es_detector_free(d);
    }
}

static void test_long_spike_is_one_alert(void **state)
{
    (void)state;
    struct es_detector_params p;
    hourly(&p);
    size_t at = (size_t)((5 * WEEK + D + 6 * H) / H), len = 12;
    struct es_detector *d = series(&p, at + 48, 40, 21, NULL);
    for (size_t i = at; i < at + len; i++)
        es_detector_set(d, i, lround(3 * rate(T0 + (int64_t)i * H, 40)), 1);
    int ev[6];
    step_range(d, 0, at, ev);
    struct es_decision dc;
    size_t fires = 0, resolves = 0;
    int64_t resolved_at = 0;
    for (size_t i = at; i < at + len + 4; i++) {
        es_detector_step(d, i, &dc);
        if (i == at)
            assert_int_equal(dc.event, ES_DETECT_FIRE);
        else if (i < at + len)
            assert_int_equal(dc.event, ES_DETECT_CONTINUE);
        fires += dc.event == ES_DETECT_FIRE;
        if (dc.event == ES_DETECT_RESOLVE) {
            resolves++;
            resolved_at = dc.at;
        }
    }
    assert_int_equal(fires, 1);
    assert_int_equal(resolves, 1);
    assert_int_equal(resolved_at, T0 + (int64_t)(at + len) * H);
    assert_int_equal(es_detector_state(d)->buckets, len);
    es_detector_free(d);
}

static void test_cooldown(void **state)
{
    (void)state;
    struct es_detector_params p;
    hourly(&p);
    size_t at = (size_t)((4 * WEEK + D + 9 * H) / H);
    struct es_detector *d = series(&p, at + 24, 40, 31, NULL);
    /* Spikes at +0, +3 (within 6 h of the end at +1) and +8. */
    size_t spikes[] = { at, at + 3, at + 8 };
    for (size_t k = 0; k < 3; k++)
        es_detector_set(d, spikes[k],
                        lround(5 * rate(T0 + (int64_t)spikes[k] * H, 40)), 1);
    int ev[6];
    step_range(d, 0, at, ev);
    enum es_detect_event want[] = {
        ES_DETECT_FIRE,     ES_DETECT_RESOLVE, ES_DETECT_QUIET,
        ES_DETECT_COOLDOWN, ES_DETECT_QUIET,   ES_DETECT_QUIET,
        ES_DETECT_QUIET,    ES_DETECT_QUIET,   ES_DETECT_FIRE,
    };
    for (size_t k = 0; k < sizeof(want) / sizeof(*want); k++) {
        struct es_decision dc;
        es_detector_step(d, at + k, &dc);
        if (want[k] == ES_DETECT_QUIET)
            assert_true(dc.event == ES_DETECT_QUIET);
        else
            assert_int_equal(dc.event, want[k]);
    }
    es_detector_free(d);

    /* No cooldown: the second spike is an alert of its own. */
    p.cooldown = 0;
    d = series(&p, at + 24, 40, 31, NULL);
    for (size_t k = 0; k < 3; k++)
        es_detector_set(d, spikes[k],
                        lround(5 * rate(T0 + (int64_t)spikes[k] * H, 40)), 1);
    step_range(d, 0, at, ev);
    step_range(d, at, at + 9, ev);
    assert_int_equal(ev[ES_DETECT_FIRE], 3);
    assert_int_equal(ev[ES_DETECT_COOLDOWN], 0);
    es_detector_free(d);
}

/* A bucket scoring between `still` and `sensitivity` keeps an alert open
 * but does not open one. */
static void test_hysteresis(void **state)
{
    (void)state;
    struct es_detector_params p;
    hourly(&p);
    size_t at = (size_t)((4 * WEEK + 2 * D + 9 * H) / H);
    struct es_detector *d = series(&p, at + 48, 40, 41, NULL);
    es_detector_set(d, at, lround(5 * rate(T0 + (int64_t)at * H, 40)), 1);
    int ev[6];
    step_range(d, 0, at, ev);
    struct es_decision dc;
    es_detector_step(d, at, &dc);
    assert_int_equal(dc.event, ES_DETECT_FIRE);
    /* Three buckets at a score of about 2.2: still elevated. */
    for (size_t i = at + 1; i < at + 4; i++) {
        struct es_expectation e;
        es_detector_expect(d, i, &e);
        es_detector_set(d, i, lround(ceil(e.expected + 2.2 * e.spread)), 1);
        es_detector_step(d, i, &dc);
        assert_int_equal(dc.event, ES_DETECT_CONTINUE);
        assert_true(dc.score >= p.still && dc.score < p.sensitivity);
    }
    /* Back to the usual: resolved. */
    struct es_expectation e;
    es_detector_expect(d, at + 4, &e);
    es_detector_set(d, at + 4, lround(e.expected), 1);
    es_detector_step(d, at + 4, &dc);
    assert_int_equal(dc.event, ES_DETECT_RESOLVE);
    assert_int_equal(es_detector_state(d)->buckets, 4);
    /* After the cooldown, the same 2.2 does not open an alert. */
    step_range(d, at + 5, at + 12, ev);
    es_detector_expect(d, at + 12, &e);
    es_detector_set(d, at + 12, lround(ceil(e.expected + 2.2 * e.spread)), 1);
    es_detector_step(d, at + 12, &dc);
    assert_int_equal(dc.event, ES_DETECT_QUIET);
    assert_true(dc.score >= p.still && dc.score < p.sensitivity);
    es_detector_free(d);
}

/* A sparse series: a handful of mentions is far above a baseline of
 * nothing, but never fires below min_count. */
static void test_min_count(void **state)
{
    (void)state;
    struct es_detector_params p;
    hourly(&p);
    size_t at = (size_t)(4 * WEEK / H) + 30;
    struct es_detector *d = series(&p, at + 24, 0.3, 51, NULL);
    es_detector_set(d, at, 4, 1);
    es_detector_set(d, at + 10, 5, 1);
    int ev[6];
    step_range(d, 0, at, ev);
    assert_int_equal(ev[ES_DETECT_FIRE], 0);
    struct es_decision dc;
    es_detector_step(d, at, &dc);
    assert_true(dc.score >= p.sensitivity); /* a spike, statistically */
    assert_int_equal(dc.event, ES_DETECT_QUIET);
    step_range(d, at + 1, at + 10, ev);
    assert_int_equal(ev[ES_DETECT_FIRE], 0);
    es_detector_step(d, at + 10, &dc);
    assert_int_equal(dc.event, ES_DETECT_FIRE); /* at min_count */
    es_detector_free(d);
}

/* The buckets of an alert stay out of later baselines: a two-day spike
 * in week 5 changes nothing for week 6, exactly as if those buckets had
 * never been collected; unexcluded, it would raise the baseline. */
static void test_alert_buckets_excluded(void **state)
{
    (void)state;
    struct es_detector_params p;
    hourly(&p);
    size_t n = (size_t)(6 * WEEK / H);
    size_t s0 = (size_t)(4 * WEEK / H) + 24 + 8, len = 40;
    size_t probe = s0 + (size_t)(WEEK / H) + 12; /* a week after, mid-spike */
    long *counts = es_xcalloc(n, sizeof(*counts));

    struct es_detector *spiked = series(&p, n, 40, 61, counts);
    for (size_t i = s0; i < s0 + len; i++) {
        counts[i] = 4 * counts[i] + 20;
        es_detector_set(spiked, i, counts[i], 1);
    }
    int ev[6];
    step_range(spiked, 0, probe, ev);
    assert_int_equal(ev[ES_DETECT_FIRE], 1);
    struct es_expectation e_spiked;
    es_detector_expect(spiked, probe, &e_spiked);

    struct es_detector *missing = es_detector_new(&p, T0, n);
    for (size_t i = 0; i < n; i++)
        es_detector_set(missing, i, counts[i], i < s0 || i >= s0 + len);
    struct es_expectation e_missing;
    es_detector_expect(missing, probe, &e_missing);
    assert_true(e_spiked.expected == e_missing.expected);
    assert_true(e_spiked.spread == e_missing.spread);
    assert_int_equal(e_spiked.nsamples, e_missing.nsamples);

    /* The same series, never stepped: nothing is marked, the spike is in
     * every statistic of the following week. */
    struct es_detector *polluted = es_detector_new(&p, T0, n);
    for (size_t i = 0; i < n; i++)
        es_detector_set(polluted, i, counts[i], 1);
    struct es_expectation e_polluted;
    es_detector_expect(polluted, probe, &e_polluted);
    assert_true(e_polluted.trend > e_spiked.trend);
    assert_true(e_polluted.expected > e_spiked.expected);

    /* A mark from the store has the same effect as a step's own. */
    struct es_detector *marked = es_detector_new(&p, T0, n);
    for (size_t i = 0; i < n; i++) {
        es_detector_set(marked, i, counts[i], 1);
        if (i >= s0 && i < s0 + len)
            es_detector_mark_alert(marked, i);
    }
    struct es_expectation e_marked;
    es_detector_expect(marked, probe, &e_marked);
    assert_true(e_marked.expected == e_missing.expected);

    es_detector_free(spiked);
    es_detector_free(missing);
    es_detector_free(polluted);
    es_detector_free(marked);
    free(counts);
}

/* Weeks with no data at all are missing history, not a silent series:
 * the baseline falls back to the days that were collected. */
static void test_unknown_history(void **state)
{
    (void)state;
    struct es_detector_params p;
    hourly(&p);
    size_t n = (size_t)(4 * WEEK / H), known_from = (size_t)(3 * WEEK / H);
    struct es_detector *d = series(&p, n, 40, 71, NULL);
    for (size_t i = 0; i < known_from; i++)
        es_detector_set(d, i, 0, 0);
    int ev[6];
    step_range(d, 0, n, ev);
    assert_int_equal(ev[ES_DETECT_FIRE], 0);
    struct es_expectation e;
    size_t probe = known_from + 4 * 24 + 10; /* Friday 10:00 */
    es_detector_expect(d, probe, &e);
    assert_int_equal(e.level, ES_BASELINE_DAILY);
    assert_true(e.expected > 0.7 * rate(T0 + (int64_t)probe * H, 40));
    es_detector_free(d);
}

/* A series that doubles over eight weeks: the trend factor follows, and a
 * normal last week does not fire. */
static void test_trend(void **state)
{
    (void)state;
    struct es_detector_params p;
    hourly(&p);
    size_t n = (size_t)(8 * WEEK / H);
    struct es_detector *d = es_detector_new(&p, T0, n);
    rng = 81;
    for (size_t i = 0; i < n; i++) {
        double grow = 1.0 + (double)i / (double)n;
        es_detector_set(d, i, poisson(grow * rate(T0 + (int64_t)i * H, 40)), 1);
    }
    int ev[6];
    step_range(d, 0, n - 168, ev);
    struct es_expectation e;
    es_detector_expect(d, n - 168, &e);
    assert_true(e.trend > 1.05);
    step_range(d, n - 168, n, ev);
    assert_int_equal(ev[ES_DETECT_FIRE], 0);
    es_detector_free(d);
}

/* Eight weeks with spikes, twice: the same decisions. */
static void test_detector_deterministic(void **state)
{
    (void)state;
    struct es_detector_params p;
    hourly(&p);
    size_t n = (size_t)(8 * WEEK / H);
    struct es_decision *a = es_xcalloc(n, sizeof(*a));
    struct es_decision *b = es_xcalloc(n, sizeof(*b));
    size_t fires = 0;
    for (int run = 0; run < 2; run++) {
        struct es_detector *d = series(&p, n, 40, 91, NULL);
        for (size_t i = 200; i < n; i += 150)
            es_detector_set(d, i, 200, 1);
        for (size_t i = 0; i < n; i++)
            es_detector_step(d, i, run ? &b[i] : &a[i]);
        es_detector_free(d);
    }
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(a[i].event, b[i].event);
        assert_true(a[i].e.expected == b[i].e.expected);
        assert_true(a[i].score == b[i].score);
        fires += a[i].event == ES_DETECT_FIRE;
    }
    assert_true(fires >= 8);
    free(a);
    free(b);
}

/* ==== Rules ==== */

static struct es_config *config(const char *text)
{
    struct es_config *cfg = NULL;
    if (es_config_load_string(&cfg, text, "test.conf") < 0)
        fail_msg("config: %s", es_error_last());
    return cfg;
}

static void test_rules(void **state)
{
    (void)state;
    struct es_config *cfg =
        config("[notify \"ops\"]\ntype = webhook\nurl = http://127.0.0.1:1/x\n"
               "[notify \"mail\"]\ntype = command\ncommand = true\n"
               "[alert \"plain\"]\n"
               "[alert \"full\"]\nseries = query:outage OR \"is down\"\n"
               "bucket = 5m\nsensitivity = 4\nmin_count = 10\ncooldown = 90m\n"
               "notify = ops , mail\nenabled = no\n"
               "[alert \"tagged\"]\nseries = tag:billing\nbucket = 1d\n"
               "[alert \"bad-series\"]\nseries = mood:grumpy\n"
               "[alert \"bad-query\"]\nseries = query:(outage\n"
               "[alert \"bad-notify\"]\nnotify = ops, pager\n");
    struct es_alert_rule *r = NULL;

    assert_int_equal(es_alert_rule_find(&r, cfg, "plain"), 0);
    assert_string_equal(r->series, "negative");
    assert_int_equal(r->kind, ES_SERIES_LABEL);
    assert_string_equal(r->arg, "negative");
    assert_string_equal(r->bucket_name, "1h");
    assert_int_equal(r->p.bucket, H);
    assert_true(r->p.sensitivity == 3 && r->p.still == 1.5);
    assert_int_equal(r->p.min_count, 5);
    assert_int_equal(r->p.cooldown, 6 * H);
    assert_int_equal(r->nnotify, 0);
    assert_true(r->enabled);
    es_alert_rule_free(r);

    assert_int_equal(es_alert_rule_find(&r, cfg, "full"), 0);
    assert_int_equal(r->kind, ES_SERIES_QUERY);
    assert_non_null(r->query);
    assert_int_equal(r->p.bucket, 300);
    assert_true(r->p.sensitivity == 4 && r->p.still == 2);
    assert_int_equal(r->p.min_count, 10);
    assert_int_equal(r->p.cooldown, 90 * 60);
    assert_int_equal(r->nnotify, 2);
    assert_string_equal(r->notify[0], "ops");
    assert_string_equal(r->notify[1], "mail");
    assert_false(r->enabled);
    es_alert_rule_free(r);

    assert_int_equal(es_alert_rule_find(&r, cfg, "tagged"), 0);
    assert_int_equal(r->kind, ES_SERIES_TAG);
    assert_string_equal(r->arg, "billing");
    assert_int_equal(r->p.bucket, D);
    es_alert_rule_free(r);

    assert_int_equal(es_alert_rule_find(&r, cfg, "bad-series"), ES_EINVALID);
    assert_null(r);
    assert_non_null(strstr(es_error_last(), "alert 'bad-series'"));
    assert_non_null(strstr(es_error_last(), "mood:grumpy"));
    assert_int_equal(es_alert_rule_find(&r, cfg, "bad-query"), ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "bad-query"));
    assert_int_equal(es_alert_rule_find(&r, cfg, "bad-notify"), ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "pager"));
    assert_int_equal(es_alert_rule_find(&r, cfg, "nosuch"), ES_ENOTFOUND);
    es_config_free(cfg);
}

/* ==== The engine ==== */

/* The spike: a Wednesday of week 5, 10:00. */
#define SPIKE (T0 + 4 * WEEK + 2 * D + 10 * H)

static int serial;

/* Stores @m on the platform its source stands for ("masto": mastodon),
 * with a URL of its own. */
static int64_t put(struct es_inbox *ib, struct es_fx_mention m)
{
    char url[48];
    snprintf(url, sizeof(url), "https://example.com/%d", ++serial);
    m.platform = strcmp(m.source, "masto") == 0 ? "mastodon" : "rss";
    m.url = url;
    return es_fx_put_mention(ib, &m);
}

static const char *const grumbles[] = {
    "the app is slow and annoying today",
    "support did not answer my ticket",
    "the new settings page is confusing",
    "checkout failed once this morning",
};

/* Four weeks and two days of ordinary traffic up to @until: negative
 * mentions at rate(10), neutral ones at rate(6). */
static void fill(struct es_inbox *ib, int64_t until)
{
    rng = 5;
    assert_int_equal(es_inbox_begin(ib), 0);
    for (int64_t t = T0; t < until; t += H) {
        long neg = poisson(rate(t, 10)), neu = poisson(rate(t, 6));
        for (long k = 0; k < neg; k++) {
            char author[24];
            snprintf(author, sizeof(author), "@user%ld", (long)(urand() * 500));
            put(ib, (struct es_fx_mention){
                        .source = "feed",
                        .created_at = t + (int64_t)(urand() * 3599),
                        .label = 'n',
                        .text = grumbles[k % 4],
                        .author = author,
                        .priority = 30,
                        .sentiment = -0.5,
                    });
        }
        for (long k = 0; k < neu; k++) {
            put(ib, (struct es_fx_mention){
                        .source = "feed",
                        .created_at = t + (int64_t)(urand() * 3599),
                        .label = 'z',
                        .text = "a new acme release today",
                        .author = "@news",
                        .priority = 10,
                        .sentiment = 0,
                    });
        }
    }
    assert_int_equal(es_inbox_commit(ib), 0);
}

/* A pile-on in the bucket at @at: @n negative mentions about an outage,
 * mostly from three loud accounts on the mastodon source. */
static void spike(struct es_inbox *ib, int64_t at, int n, const char *tag)
{
    static const char *const loud[] = { "@loud1", "@loud2", "@loud3" };
    assert_int_equal(es_inbox_begin(ib), 0);
    for (int k = 0; k < n; k++) {
        int64_t id =
            put(ib, (struct es_fx_mention){
                        .source = k % 4 ? "masto" : "feed",
                        .created_at = at + 30 * k % 3600,
                        .label = 'n',
                        .text = k % 2 ? "acme outage: login broken again"
                                      : "total outage, acme login is down",
                        .author = k % 3 ? loud[k % 3] : "@someone",
                        .priority = k == 7 ? 95 : 60,
                        .sentiment = k == 3 ? -0.95 : -0.7,
                    });
        if (tag)
            es_fx_add_tag(ib, id, tag);
    }
    assert_int_equal(es_inbox_commit(ib), 0);
}

static long long query_int(struct es_inbox *ib, const char *sql)
{
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(es_inbox__db(ib), sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("sql: %s", sqlite3_errmsg(es_inbox__db(ib)));
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_type(st, 0) == SQLITE_NULL
                ? -1
                : sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

struct seen {
    size_t fired, resolved, failed;
    struct es_alert_event last;
    char failed_rule[64];
};

static void on_event(const struct es_alert_event *ev, void *payload)
{
    struct seen *s = payload;
    if (ev->kind == ES_ALERT_FIRED)
        s->fired++;
    else if (ev->kind == ES_ALERT_RESOLVED)
        s->resolved++;
    else {
        s->failed++;
        snprintf(s->failed_rule, sizeof(s->failed_rule), "%s", ev->rule);
    }
    s->last = *ev;
    s->last.rule = NULL;
    s->last.error = NULL;
}

static const char ENGINE_CONF[] =
    "[notify \"ops\"]\ntype = webhook\nurl = http://127.0.0.1:1/x\n"
    "[notify \"mail\"]\ntype = command\ncommand = true\n"
    "[alert \"neg\"]\nnotify = ops, mail\n";

static yajl_val json_get(yajl_val obj, const char *key)
{
    const char *path[] = { key, NULL };
    return yajl_tree_get(obj, path, yajl_t_any);
}

/* The string @v, or "" when it is not one. */
static const char *jstr(yajl_val v)
{
    return YAJL_IS_STRING(v) ? v->u.string : "";
}

/* Does the [["name", n], ...] list @key of @ex hold @name? */
static int pairs_have(yajl_val ex, const char *key, const char *name)
{
    yajl_val list = json_get(ex, key);
    if (!YAJL_IS_ARRAY(list))
        return 0;
    for (size_t i = 0; i < list->u.array.len; i++) {
        yajl_val pair = list->u.array.values[i];
        if (YAJL_IS_ARRAY(pair) && pair->u.array.len == 2 &&
            YAJL_IS_STRING(pair->u.array.values[0]) &&
            strcmp(jstr(pair->u.array.values[0]), name) == 0 &&
            YAJL_IS_INTEGER(pair->u.array.values[1]))
            return 1;
    }
    return 0;
}

static void test_engine_lifecycle(void **state)
{
    (void)state;
    struct es_inbox *ib = es_fx_inbox();
    struct es_config *cfg = config(ENGINE_CONF);
    fill(ib, SPIKE + 2 * D);
    spike(ib, SPIKE, 80, NULL);
    struct seen seen;
    memset(&seen, 0, sizeof(seen));

    /* A new rule judges the last closed bucket: the spike's. */
    int64_t now = SPIKE + H + 400;
    assert_int_equal(es_alerts_check(ib, cfg, now, on_event, &seen), 0);
    assert_int_equal(seen.fired, 1);
    assert_int_equal(seen.resolved, 0);
    assert_int_equal(seen.last.started_at, SPIKE);
    assert_int_equal(seen.last.queued, 2);
    assert_true(seen.last.observed >= 80);
    assert_true(seen.last.score >= 3);
    int64_t id = seen.last.alert_id;

    struct es_alert a;
    assert_int_equal(es_alert_get(ib, id, &a), 0);
    assert_string_equal(a.rule, "neg");
    assert_int_equal(a.bucket, H);
    assert_true(a.firing);
    assert_int_equal(a.ended_at, ES_TIME_UNKNOWN);
    assert_int_equal(a.started_at, SPIKE);
    assert_non_null(a.explanation);
    char err[128];
    yajl_val ex = yajl_tree_parse(a.explanation, err, sizeof(err));
    assert_non_null(ex);
    assert_true(YAJL_IS_INTEGER(json_get(ex, "observed")));
    assert_int_equal(YAJL_GET_INTEGER(json_get(ex, "observed")), a.observed);
    assert_true(YAJL_IS_NUMBER(json_get(ex, "expected")));
    assert_true(YAJL_IS_NUMBER(json_get(ex, "score")));
    assert_string_equal(jstr(json_get(ex, "bucket")), "1h");
    assert_string_equal(jstr(json_get(ex, "series")), "negative");
    assert_string_equal(jstr(json_get(ex, "baseline")), "weekly");
    yajl_val top = json_get(ex, "top_mentions");
    assert_true(YAJL_IS_ARRAY(top) && top->u.array.len == 5);
    /* Highest priority first, then the most negative. */
    yajl_val first = top->u.array.values[0];
    assert_int_equal(YAJL_GET_INTEGER(json_get(first, "priority")), 95);
    assert_non_null(strstr(jstr(json_get(first, "text")), "outage"));
    assert_true(YAJL_IS_STRING(json_get(first, "author")));
    assert_true(YAJL_IS_STRING(json_get(first, "source")));
    assert_true(YAJL_IS_NUMBER(json_get(first, "sentiment")));
    assert_true(YAJL_IS_INTEGER(json_get(first, "id")));
    assert_true(pairs_have(ex, "terms", "outage"));
    assert_true(pairs_have(ex, "terms", "login"));
    assert_false(pairs_have(ex, "terms", "the"));      /* a stopword */
    assert_false(pairs_have(ex, "terms", "annoying")); /* as usual */
    assert_true(pairs_have(ex, "sources", "masto"));
    assert_true(pairs_have(ex, "authors", "@loud2"));
    yajl_val sources = json_get(ex, "sources");
    assert_string_equal(jstr(sources->u.array.values[0]->u.array.values[0]),
                        "masto");
    yajl_tree_free(ex);
    es_alert_release(&a);

    assert_int_equal(query_int(ib, "SELECT COUNT(*) FROM alert_deliveries"
                                   " WHERE event = 'fire' AND state ="
                                   " 'pending' AND attempts = 0"),
                     2);
    assert_int_equal(query_int(ib, "SELECT COUNT(DISTINCT notify) FROM"
                                   " alert_deliveries"),
                     2);
    assert_int_equal(query_int(ib, "SELECT MIN(next_attempt) FROM"
                                   " alert_deliveries"),
                     now);
    assert_int_equal(query_int(ib, "SELECT open_alert FROM alert_rules"), id);
    assert_int_equal(query_int(ib, "SELECT evaluated_until FROM alert_rules"),
                     SPIKE + H);

    /* The same moment again: nothing new. */
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(es_alerts_check(ib, cfg, now, on_event, &seen), 0);
    assert_int_equal(seen.fired + seen.resolved, 0);

    /* The next bucket is ordinary: resolved. */
    now += H;
    assert_int_equal(es_alerts_check(ib, cfg, now, on_event, &seen), 0);
    assert_int_equal(seen.resolved, 1);
    assert_int_equal(seen.last.alert_id, id);
    assert_int_equal(seen.last.ended_at, SPIKE + H);
    assert_int_equal(seen.last.queued, 2);
    assert_int_equal(es_alert_get(ib, id, &a), 0);
    assert_false(a.firing);
    assert_int_equal(a.ended_at, SPIKE + H);
    assert_true(a.peak >= 80);
    ex = yajl_tree_parse(a.explanation, err, sizeof(err));
    assert_non_null(ex);
    assert_true(YAJL_IS_STRING(json_get(ex, "ended_at")));
    yajl_tree_free(ex);
    es_alert_release(&a);
    assert_int_equal(query_int(ib, "SELECT COUNT(*) FROM alert_deliveries"
                                   " WHERE event = 'resolve'"),
                     2);
    assert_int_equal(query_int(ib, "SELECT open_alert FROM alert_rules"), -1);
    assert_int_equal(query_int(ib, "SELECT cooldown_until FROM alert_rules"),
                     SPIKE + H + 6 * H);

    /* A second pile-on three hours later, within the cooldown: judged
     * (the rule catches up on the buckets it missed) but not raised. */
    spike(ib, SPIKE + 3 * H, 80, NULL);
    memset(&seen, 0, sizeof(seen));
    now = SPIKE + 5 * H + 400;
    assert_int_equal(es_alerts_check(ib, cfg, now, on_event, &seen), 0);
    assert_int_equal(seen.fired, 0);
    assert_int_equal(query_int(ib, "SELECT evaluated_until FROM alert_rules"),
                     SPIKE + 5 * H);
    /* After it, a third one is an alert again. */
    spike(ib, SPIKE + 9 * H, 80, NULL);
    now = SPIKE + 10 * H + 400;
    assert_int_equal(es_alerts_check(ib, cfg, now, on_event, &seen), 0);
    assert_int_equal(seen.fired, 1);
    assert_int_equal(seen.last.started_at, SPIKE + 9 * H);
    assert_int_equal(query_int(ib, "SELECT COUNT(*) FROM alerts"), 2);
    assert_int_equal(query_int(ib, "SELECT COUNT(*) FROM alert_deliveries"), 6);

    es_config_free(cfg);
    es_inbox_free(ib);
}

static int collect_span(const struct es_alert_span *sp, void *payload)
{
    struct es_buf *b = payload;
    es_buf_addf(b, "%lld %lld %ld %.6f %.6f %ld %zu %s\n",
                (long long)sp->started_at, (long long)sp->ended_at,
                sp->observed, sp->expected, sp->score, sp->peak, sp->buckets,
                sp->level);
    return 0;
}

static int collect_alert(const struct es_alert *a, void *payload)
{
    struct es_buf *b = payload;
    es_buf_addf(b, "%lld %s\n", (long long)a->started_at, a->rule);
    return 0;
}

static void test_engine_rules_and_backtest(void **state)
{
    (void)state;
    struct es_inbox *ib = es_fx_inbox();
    fill(ib, SPIKE + D);
    spike(ib, SPIKE, 80, "incident");
    struct es_config *cfg =
        config("[alert \"neg\"]\n"
               "[alert \"q\"]\nseries = query:outage\n"
               "[alert \"src\"]\nseries = source:masto\n"
               "[alert \"plat\"]\nseries = platform:mastodon\n"
               "[alert \"tag\"]\nseries = tag:incident\n"
               "[alert \"pos\"]\nseries = positive\n"
               "[alert \"off\"]\nenabled = no\n"
               "[alert \"broken\"]\nseries = query:\"unterminated\n");

    /* Every series sees the spike in a backtest, and only that. */
    const char *rules[] = { "neg", "q", "src", "plat", "tag" };
    char spike_line[32];
    snprintf(spike_line, sizeof(spike_line), "%lld ", (long long)SPIKE);
    for (size_t k = 0; k < sizeof(rules) / sizeof(*rules); k++) {
        struct es_alert_rule *r = NULL;
        struct es_buf b1 = ES_BUF_INIT, b2 = ES_BUF_INIT;
        assert_int_equal(es_alert_rule_find(&r, cfg, rules[k]), 0);
        assert_int_equal(es_alerts_backtest(ib, r, SPIKE - 2 * D, SPIKE + D,
                                            collect_span, &b1),
                         0);
        assert_int_equal(es_alerts_backtest(ib, r, SPIKE - 2 * D, SPIKE + D,
                                            collect_span, &b2),
                         0);
        assert_string_equal(b1.ptr, b2.ptr); /* deterministic */
        if (strncmp(b1.ptr, spike_line, strlen(spike_line)) != 0)
            fail_msg("rule %s: %s", rules[k], b1.ptr);
        es_buf_release(&b1);
        es_buf_release(&b2);
        es_alert_rule_free(r);
    }
    /* The positive series has no spike. */
    struct es_alert_rule *r = NULL;
    struct es_buf b = ES_BUF_INIT;
    assert_int_equal(es_alert_rule_find(&r, cfg, "pos"), 0);
    assert_int_equal(
        es_alerts_backtest(ib, r, ES_TIME_UNKNOWN, SPIKE + D, collect_span, &b),
        0);
    assert_string_equal(b.ptr, "");
    es_alert_rule_free(r);

    /* A backtest writes nothing. */
    assert_int_equal(query_int(ib, "SELECT COUNT(*) FROM alerts"), 0);
    assert_int_equal(query_int(ib, "SELECT COUNT(*) FROM alert_rules"), 0);

    /* Live: the broken rule is reported, the others evaluated, the
     * disabled one left alone. */
    struct seen seen;
    memset(&seen, 0, sizeof(seen));
    assert_int_equal(es_alerts_check(ib, cfg, SPIKE + H + 400, on_event, &seen),
                     ES_EINVALID);
    assert_int_equal(seen.failed, 1);
    assert_string_equal(seen.failed_rule, "broken");
    assert_int_equal(seen.fired, 5);
    assert_int_equal(query_int(ib, "SELECT COUNT(*) FROM alert_rules WHERE"
                                   " rule = 'off'"),
                     0);
    es_buf_reset(&b);
    assert_int_equal(es_alerts_list(ib, "tag", 0, collect_alert, &b), 0);
    snprintf(spike_line, sizeof(spike_line), "%lld tag\n", (long long)SPIKE);
    assert_string_equal(b.ptr, spike_line);
    es_buf_reset(&b);
    assert_int_equal(es_alerts_list(ib, NULL, 3, collect_alert, &b), 0);
    assert_int_equal(strlen(b.ptr) > 0, 1);
    size_t lines = 0;
    for (const char *p = b.ptr; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 3);
    es_buf_release(&b);
    struct es_alert a;
    assert_int_equal(es_alert_get(ib, 999, &a), ES_ENOTFOUND);

    es_config_free(cfg);
    es_inbox_free(ib);
}

/* Live evaluation bucket by bucket gives the alerts a backtest gives. */
static void test_live_equals_backtest(void **state)
{
    (void)state;
    struct es_inbox *ib = es_fx_inbox();
    fill(ib, SPIKE + 2 * D);
    spike(ib, SPIKE - D + 4 * H, 60, NULL);
    spike(ib, SPIKE, 80, NULL);
    spike(ib, SPIKE + H, 70, NULL);
    struct es_config *cfg = config("[alert \"neg\"]\n");
    struct es_alert_rule *r = NULL;
    assert_int_equal(es_alert_rule_find(&r, cfg, "neg"), 0);
    int64_t from = SPIKE - 2 * D;
    for (int64_t now = from + 400; now <= SPIKE + 2 * D; now += H)
        assert_int_equal(es_alerts_check_rule(ib, r, now, NULL, NULL), 0);
    struct es_buf live = ES_BUF_INIT, replay = ES_BUF_INIT;
    assert_int_equal(es_alerts_list(ib, NULL, 0, collect_alert, &live), 0);
    /* Oldest first, like the backtest. */
    struct es_buf rev = ES_BUF_INIT;
    char *save = NULL;
    char *lines[16];
    size_t n = 0;
    for (char *l = strtok_r(live.ptr, "\n", &save); l && n < 16;
         l = strtok_r(NULL, "\n", &save))
        lines[n++] = l;
    while (n)
        es_buf_addf(&rev, "%.10s\n", lines[--n]);
    assert_int_equal(
        es_alerts_backtest(ib, r, from, SPIKE + 2 * D, collect_span, &replay),
        0);
    struct es_buf starts = ES_BUF_INIT;
    save = NULL;
    for (char *l = strtok_r(replay.ptr, "\n", &save); l;
         l = strtok_r(NULL, "\n", &save))
        es_buf_addf(&starts, "%.10s\n", l);
    assert_string_equal(rev.ptr, starts.ptr);
    assert_true(rev.len >= 22); /* both spikes */
    es_buf_release(&live);
    es_buf_release(&rev);
    es_buf_release(&replay);
    es_buf_release(&starts);
    es_alert_rule_free(r);
    es_config_free(cfg);
    es_inbox_free(ib);
}

/* ==== The command line ==== */

static struct es_fx_cli cli_fx;

static int setup_cli(void **state)
{
    *state = &cli_fx; /* for es_fx_cli_teardown() */
    es_fx_cli_open(&cli_fx, ES_EARSHOT_BIN, "alerts", "alerts.db");
    es_fx_write_file(cli_fx.conf,
                     "[earshot]\ndatabase = %s\n[notify \"ops\"]\n"
                     "type = command\ncommand = true\n[alert \"neg\"]\n"
                     "notify = ops\n",
                     cli_fx.db);
    struct es_inbox *ib = NULL;
    assert_int_equal(es_inbox_open(&ib, cli_fx.db), 0);
    fill(ib, SPIKE + D);
    spike(ib, SPIKE, 80, NULL);
    es_inbox_free(ib);
    return 0;
}

static void test_cli_alerts(void **state)
{
    (void)state;
    struct es_run r, r2;
    char spike_iso[21], until_iso[21], now_iso[21], err[128];
    es_time_format(SPIKE, spike_iso);
    es_time_format(SPIKE + D, until_iso);
    es_time_format(SPIKE + H + 400, now_iso);

    /* backtest: the same output twice, the spike in it, nothing stored. */
    es_run_earshot(&r, &cli_fx.run, NULL, "alerts", "backtest", "neg",
                   "--since", "2024-01-25", "--until", until_iso, "--json",
                   NULL);
    es_run_earshot(&r2, &cli_fx.run, NULL, "alerts", "backtest", "neg",
                   "--since", "2024-01-25", "--until", until_iso, "--json",
                   NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out.ptr, r2.out.ptr);
    yajl_val doc = yajl_tree_parse(r.out.ptr, err, sizeof(err));
    if (!doc)
        fail_msg("backtest --json: %s: %s", err, r.out.ptr);
    yajl_val alerts = json_get(doc, "alerts");
    assert_true(YAJL_IS_ARRAY(alerts) && alerts->u.array.len >= 1);
    int found = 0;
    for (size_t i = 0; i < alerts->u.array.len; i++) {
        yajl_val a = alerts->u.array.values[i];
        const char *s = jstr(json_get(a, "started_at"));
        if (s && strcmp(s, spike_iso) == 0) {
            found = 1;
            assert_true(YAJL_IS_INTEGER(json_get(a, "observed")));
            assert_true(YAJL_IS_NUMBER(json_get(a, "expected")));
            assert_true(YAJL_IS_NUMBER(json_get(a, "score")));
        }
    }
    assert_true(found);
    assert_string_equal(jstr(json_get(doc, "bucket")), "1h");
    yajl_tree_free(doc);
    es_run_release(&r);
    es_run_release(&r2);

    es_run_earshot(&r, &cli_fx.run, NULL, "alerts", "backtest", "neg",
                   "--since", "2024-01-25", "--until", until_iso, NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "START"));
    assert_non_null(strstr(r.out.ptr, spike_iso));
    assert_non_null(strstr(r.err.ptr, "alerts from rule 'neg'"));
    es_run_release(&r);

    es_run_earshot(&r, &cli_fx.run, NULL, "alerts", NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out.ptr, "");
    assert_non_null(strstr(r.err.ptr, "no alerts"));
    es_run_release(&r);

    /* check: the spike's bucket has closed. */
    es_run_earshot(&r, &cli_fx.run, NULL, "alerts", "check", "--now", now_iso,
                   NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "alert 'neg': firing since"));
    assert_non_null(strstr(r.out.ptr, "1 notifications queued"));
    es_run_release(&r);

    es_run_earshot(&r, &cli_fx.run, NULL, "alerts", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "#1 neg"));
    assert_non_null(strstr(r.out.ptr, spike_iso));
    assert_non_null(strstr(r.out.ptr, ".. firing"));
    assert_non_null(strstr(r.out.ptr, "terms: "));
    assert_non_null(strstr(r.out.ptr, "outage"));
    assert_non_null(strstr(r.out.ptr, "@loud"));
    es_run_release(&r);

    es_run_earshot(&r, &cli_fx.run, NULL, "alerts", "--json", "--rule", "neg",
                   NULL);
    assert_int_equal(r.status, 0);
    doc = yajl_tree_parse(r.out.ptr, err, sizeof(err));
    if (!doc)
        fail_msg("alerts --json: %s: %s", err, r.out.ptr);
    assert_true(YAJL_IS_ARRAY(doc) && doc->u.array.len == 1);
    yajl_val a = doc->u.array.values[0];
    assert_string_equal(jstr(json_get(a, "state")), "firing");
    assert_true(YAJL_IS_NULL(json_get(a, "ended_at")));
    yajl_val ex = json_get(a, "explanation");
    assert_true(YAJL_IS_OBJECT(ex));
    assert_true(YAJL_IS_ARRAY(json_get(ex, "top_mentions")));
    assert_true(pairs_have(ex, "terms", "outage"));
    yajl_tree_free(doc);
    es_run_release(&r);

    es_run_earshot(&r, &cli_fx.run, NULL, "alerts", "--rule", "other", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.err.ptr, "no alerts for rule 'other'"));
    es_run_release(&r);

    /* Usage and errors. */
    es_run_earshot(&r, &cli_fx.run, NULL, "alerts", "--help", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "usage: earshot alerts"));
    es_run_release(&r);
    es_run_earshot(&r, &cli_fx.run, NULL, "alerts", "backtest", NULL);
    assert_int_equal(r.status, 2);
    es_run_release(&r);
    es_run_earshot(&r, &cli_fx.run, NULL, "alerts", "backtest", "nosuch", NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err.ptr, "nosuch"));
    es_run_release(&r);
    es_run_earshot(&r, &cli_fx.run, NULL, "alerts", "backtest", "neg",
                   "--since", "yesterday-ish", NULL);
    assert_int_equal(r.status, 2);
    es_run_release(&r);
    es_run_earshot(&r, &cli_fx.run, NULL, "alerts", "--limit", "0", NULL);
    assert_int_equal(r.status, 2);
    es_run_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_and_names),
        cmocka_unit_test(test_learning_without_history),
        cmocka_unit_test(test_quiet_night_then_morning_peak),
        cmocka_unit_test(test_spike_fires_at_once),
        cmocka_unit_test(test_long_spike_is_one_alert),
        cmocka_unit_test(test_cooldown),
        cmocka_unit_test(test_hysteresis),
        cmocka_unit_test(test_min_count),
        cmocka_unit_test(test_alert_buckets_excluded),
        cmocka_unit_test(test_unknown_history),
        cmocka_unit_test(test_trend),
        cmocka_unit_test(test_detector_deterministic),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_engine_lifecycle),
        cmocka_unit_test(test_engine_rules_and_backtest),
        cmocka_unit_test(test_live_equals_backtest),
        cmocka_unit_test_setup_teardown(test_cli_alerts, setup_cli,
                                        es_fx_cli_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
