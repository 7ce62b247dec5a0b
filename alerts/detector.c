/* detector.c - the seasonal spike detector: bucket counts in, decisions out
 *
 * Pure: no database, no clock, no allocation after es_detector_new(). The
 * engine loads a rule's counts and the alerts the store remembers, then
 * steps the buckets that closed; a backtest steps every bucket of the
 * stored history from an empty state; the tests step synthetic series.
 * All three get the same decisions from the same numbers.
 *
 * The baseline and the decision are described in include/earshot/alerts.h;
 * docs/alerts.md has the bench behind the constants below. Baselines are
 * computed lazily and cached per bucket (the untrended median and MAD):
 * a bucket's baseline depends only on the buckets before it, which no
 * later step changes, so a cached value stays right. The trend factor of
 * a bucket reads the cached baselines of the 7 days before it.
 */
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/alerts.h"
#include "earshot/alloc.h"
#include "earshot/item.h"

#define DAY  86400
#define WEEK (7 * DAY)

/* A sample needs this many distinct weeks (days) of history to stand. */
#define MIN_WEEKS 3
#define MIN_DAYS  3
/* Day buckets: the previous days, at least this many. */
#define DAY_BUCKET_DAYS     14
#define DAY_BUCKET_MIN_DAYS 5
/* The daily level looks back this many days; the global one and the trend
 * 7 days. */
#define DAILY_DAYS  14
#define GLOBAL_DAYS 7
#define TREND_DAYS  7
/* The trend's prior, in mentions, and its clamp. */
#define TREND_PRIOR 50.0
#define TREND_MIN   0.5
#define TREND_MAX   2.0
/* The spread's floor: sqrt(expected) + FLOOR_C. */
#define FLOOR_C 1.0
/* MAD to standard deviation, for normal data. */
#define MAD_SCALE 1.4826

enum bucket_flags {
    F_KNOWN = 1 << 0, /* the inbox was collecting */
    F_ALERT = 1 << 1, /* inside an alert: never a sample */
    F_RAW = 1 << 2,   /* raw[], mad[] and level[] are computed */
};

struct es_detector {
    struct es_detector_params p;
    int64_t start;        /* time of bucket 0 */
    size_t n;             /* buckets */
    long *count;          /* mentions per bucket */
    unsigned char *flags; /* enum bucket_flags */
    double *raw;          /* untrended median, when F_RAW */
    double *mad;          /* untrended MAD, when F_RAW */
    unsigned char *level; /* enum es_baseline_level, when F_RAW */
    size_t *nsamples;     /* samples behind raw[], when F_RAW */
    size_t per_day;       /* buckets in a day (1 for day buckets) */
    size_t per_week;      /* buckets in a week */
    size_t half;          /* the seasonal window is 2 * half + 1 buckets */
    double *tmp;          /* samples, then deviations */
    size_t tmpcap;
    struct es_detector_state st;
};

void es_detector_params_default(struct es_detector_params *out, int64_t bucket)
{
    memset(out, 0, sizeof(*out));
    out->bucket = bucket;
    out->sensitivity = 3.0;
    out->still = 1.5;
    out->min_count = 5;
    out->cooldown = 6 * 3600;
    out->weeks = ES_DETECTOR_WEEKS_MAX;
}

/* Five-minute counts are small and noisy: each week gives the 5 buckets
 * around the same time instead of one. */
static size_t half_window(int64_t bucket)
{
    return bucket < 3600 ? 2 : 0;
}

int64_t es_detector_history(const struct es_detector_params *p)
{
    int weeks = p->weeks < 1 ? 1 : p->weeks;
    if (weeks > ES_DETECTOR_WEEKS_MAX)
        weeks = ES_DETECTOR_WEEKS_MAX;
    int64_t seasonal = (int64_t)weeks * WEEK;
    if (seasonal < DAILY_DAYS * DAY)
        seasonal = DAILY_DAYS * DAY;
    return seasonal + TREND_DAYS * DAY +
           (int64_t)(half_window(p->bucket) + 1) * p->bucket;
}

const char *es_baseline_level_name(enum es_baseline_level level)
{
    switch (level) {
    case ES_BASELINE_GLOBAL:
        return "global";
    case ES_BASELINE_DAILY:
        return "daily";
    case ES_BASELINE_WEEKLY:
        return "weekly";
    case ES_BASELINE_NONE:
        break;
    }
    return "none";
}

const char *es_detect_event_name(enum es_detect_event ev)
{
    static const char *const names[] = { "quiet",    "learning", "fire",
                                         "continue", "resolve",  "cooldown" };
    return (unsigned)ev < sizeof(names) / sizeof(*names) ? names[ev] : "quiet";
}

struct es_detector *es_detector_new(const struct es_detector_params *p,
                                    int64_t start, size_t n)
{
    assert(p && p->bucket > 0);
    struct es_detector *d = es_xcalloc(1, sizeof(*d));
    d->p = *p;
    if (d->p.weeks < 1)
        d->p.weeks = 1;
    if (d->p.weeks > ES_DETECTOR_WEEKS_MAX)
        d->p.weeks = ES_DETECTOR_WEEKS_MAX;
    d->start = start;
    d->n = n;
    size_t cells = n ? n : 1;
    d->count = es_xcalloc(cells, sizeof(*d->count));
    d->flags = es_xcalloc(cells, 1);
    d->raw = es_xcalloc(cells, sizeof(*d->raw));
    d->mad = es_xcalloc(cells, sizeof(*d->mad));
    d->level = es_xcalloc(cells, 1);
    d->nsamples = es_xcalloc(cells, sizeof(*d->nsamples));
    d->per_day = p->bucket >= DAY ? 1 : (size_t)(DAY / p->bucket);
    d->per_week = p->bucket >= WEEK ? 1 : (size_t)(WEEK / p->bucket);
    d->half = half_window(p->bucket);
    size_t w = 2 * d->half + 1;
    d->tmpcap = (size_t)d->p.weeks * w;
    if (d->tmpcap < DAILY_DAYS * w)
        d->tmpcap = DAILY_DAYS * w;
    if (d->tmpcap < GLOBAL_DAYS * d->per_day)
        d->tmpcap = GLOBAL_DAYS * d->per_day;
    d->tmp = es_xmalloc(d->tmpcap * sizeof(*d->tmp));
    d->st.cooldown_until = ES_TIME_UNKNOWN;
    return d;
}

void es_detector_free(struct es_detector *d)
{
    if (!d)
        return;
    free(d->count);
    free(d->flags);
    free(d->raw);
    free(d->mad);
    free(d->level);
    free(d->nsamples);
    free(d->tmp);
    free(d);
}

void es_detector_set(struct es_detector *d, size_t i, long count, int known)
{
    assert(i < d->n);
    d->count[i] = count < 0 ? 0 : count;
    if (known)
        d->flags[i] |= F_KNOWN;
    else
        d->flags[i] &= (unsigned char)~F_KNOWN;
}

void es_detector_mark_alert(struct es_detector *d, size_t i)
{
    assert(i < d->n);
    d->flags[i] |= F_ALERT;
}

void es_detector_restore(struct es_detector *d,
                         const struct es_detector_state *st)
{
    d->st = *st;
}

const struct es_detector_state *es_detector_state(const struct es_detector *d)
{
    return &d->st;
}

/* ==== Robust statistics ==== */

/* The @k-th smallest of @v[0..n) (k < n), moving the elements of @v
 * (quickselect, with the middle element as the pivot: deterministic, and
 * linear on the sorted runs that counts often are). */
static double select_kth(double *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        double pivot = v[lo + (hi - lo) / 2];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                double t = v[i];
                v[i] = v[j];
                v[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return v[k];
    }
    return v[k];
}

/* Median of @v[0..n) (n > 0); reorders @v. */
static double median(double *v, size_t n)
{
    double hi = select_kth(v, n, n / 2);
    if (n % 2)
        return hi;
    /* The lower middle is the largest of the part below n / 2. */
    double lo = v[0];
    for (size_t k = 1; k < n / 2; k++)
        if (v[k] > lo)
            lo = v[k];
    return (lo + hi) / 2.0;
}

/* Median and MAD of @v[0..n); reuses @v. */
static void median_mad(double *v, size_t n, double *med, double *mad)
{
    double m = median(v, n);
    for (size_t k = 0; k < n; k++)
        v[k] = fabs(v[k] - m);
    *med = m;
    *mad = median(v, n);
}

/* Is bucket @j (which may be out of range) a usable sample? */
static int usable(const struct es_detector *d, long long j)
{
    return j >= 0 && (size_t)j < d->n &&
           (d->flags[j] & (F_KNOWN | F_ALERT)) == F_KNOWN;
}

/* Gathers the seasonal samples of bucket @i: the window of 2*half+1
 * buckets around each of @periods earlier points @step buckets apart.
 * Returns the sample count; *nperiods is how many points gave one. */
static size_t gather(struct es_detector *d, size_t i, size_t step, int periods,
                     size_t *nperiods)
{
    size_t n = 0;
    *nperiods = 0;
    for (int k = 1; k <= periods; k++) {
        long long c = (long long)i - (long long)k * (long long)step;
        if (c + (long long)d->half < 0)
            break;
        int any = 0;
        for (long long j = c - (long long)d->half; j <= c + (long long)d->half;
             j++) {
            /* The window of the latest period must not reach the bucket
             * itself or later. */
            if (j >= (long long)i || !usable(d, j))
                continue;
            assert(n < d->tmpcap);
            d->tmp[n++] = (double)d->count[j];
            any = 1;
        }
        *nperiods += (size_t)any;
    }
    return n;
}

/* Computes (once) the untrended baseline of bucket @i. */
static void raw_baseline(struct es_detector *d, size_t i)
{
    if (d->flags[i] & F_RAW)
        return;
    size_t n, periods;
    enum es_baseline_level level = ES_BASELINE_NONE;

    n = d->per_week > d->per_day
            ? gather(d, i, d->per_week, d->p.weeks, &periods)
            : 0;
    if (n && periods >= MIN_WEEKS) {
        level = ES_BASELINE_WEEKLY;
    } else if (d->per_day == 1) {
        /* Day buckets: the previous days are the daily level. */
        n = gather(d, i, 1, DAY_BUCKET_DAYS, &periods);
        if (n >= DAY_BUCKET_MIN_DAYS)
            level = ES_BASELINE_DAILY;
    } else {
        n = gather(d, i, d->per_day, DAILY_DAYS, &periods);
        if (n && periods >= MIN_DAYS) {
            level = ES_BASELINE_DAILY;
        } else {
            n = 0;
            size_t back = GLOBAL_DAYS * d->per_day;
            for (size_t k = 1; k <= back && k <= i; k++)
                if (usable(d, (long long)(i - k)))
                    d->tmp[n++] = (double)d->count[i - k];
            if (n >= d->per_day)
                level = ES_BASELINE_GLOBAL;
        }
    }
    d->level[i] = (unsigned char)level;
    d->raw[i] = 0;
    d->mad[i] = 0;
    d->nsamples[i] = level == ES_BASELINE_NONE ? 0 : n;
    if (level != ES_BASELINE_NONE)
        median_mad(d->tmp, n, &d->raw[i], &d->mad[i]);
    d->flags[i] |= F_RAW;
}

/* The trend factor and the dispersion of bucket @i, from the usable
 * buckets of the 7 days before it that had a seasonal baseline: the
 * trend is their observed over baseline total (with a prior); the
 * dispersion is the scaled median of their residuals in Poisson units,
 * |observed - trend * baseline| / sqrt(trend * baseline), which measures
 * what the spread must cover: the series' noise beyond Poisson and the
 * error of the baseline itself. At least 1 (Poisson); 1 with fewer than
 * a day of residuals. */
static void trend_dispersion(struct es_detector *d, size_t i, double *trend,
                             double *dispersion)
{
    double obs = 0, exp = 0;
    size_t back = TREND_DAYS * d->per_day;
    for (size_t k = 1; k <= back && k <= i; k++) {
        size_t j = i - k;
        if (!usable(d, (long long)j))
            continue;
        raw_baseline(d, j);
        if (d->level[j] != ES_BASELINE_WEEKLY &&
            d->level[j] != ES_BASELINE_DAILY)
            continue;
        obs += (double)d->count[j];
        exp += d->raw[j];
    }
    double r = (obs + TREND_PRIOR) / (exp + TREND_PRIOR);
    if (r < TREND_MIN)
        r = TREND_MIN;
    if (r > TREND_MAX)
        r = TREND_MAX;
    *trend = r;

    size_t n = 0;
    for (size_t k = 1; k <= back && k <= i; k++) {
        size_t j = i - k;
        if (!usable(d, (long long)j) || (d->level[j] != ES_BASELINE_WEEKLY &&
                                         d->level[j] != ES_BASELINE_DAILY))
            continue;
        double e = r * d->raw[j];
        d->tmp[n++] = fabs((double)d->count[j] - e) / sqrt(e > 1 ? e : 1);
    }
    double phi = n >= d->per_day ? MAD_SCALE * median(d->tmp, n) : 1.0;
    *dispersion = phi > 1.0 ? phi : 1.0;
}

void es_detector_expect(struct es_detector *d, size_t i,
                        struct es_expectation *out)
{
    assert(i < d->n);
    memset(out, 0, sizeof(*out));
    raw_baseline(d, i);
    out->level = (enum es_baseline_level)d->level[i];
    out->nsamples = d->nsamples[i];
    out->trend = 1.0;
    out->dispersion = 1.0;
    if (out->level == ES_BASELINE_NONE)
        return;
    if (out->level != ES_BASELINE_GLOBAL)
        trend_dispersion(d, i, &out->trend, &out->dispersion);
    out->expected = d->raw[i] * out->trend;
    double floor = out->dispersion * sqrt(out->expected) + FLOOR_C;
    double robust = MAD_SCALE * d->mad[i] * out->trend;
    out->spread = robust > floor ? robust : floor;
}

void es_detector_step(struct es_detector *d, size_t i, struct es_decision *out)
{
    assert(i < d->n);
    struct es_detector_state *st = &d->st;
    memset(out, 0, sizeof(*out));
    out->at = d->start + (int64_t)i * d->p.bucket;
    out->observed = d->count[i];
    es_detector_expect(d, i, &out->e);
    int have = out->e.level != ES_BASELINE_NONE;
    if (have)
        out->score = ((double)out->observed - out->e.expected) / out->e.spread;

    if (st->firing) {
        if (have && out->score >= d->p.still) {
            out->event = ES_DETECT_CONTINUE;
            d->flags[i] |= F_ALERT;
            st->buckets++;
            if (out->observed > st->peak)
                st->peak = out->observed;
        } else {
            out->event = ES_DETECT_RESOLVE;
            st->firing = 0;
            st->cooldown_until = out->at + d->p.cooldown;
        }
        return;
    }
    if (!have) {
        out->event = ES_DETECT_LEARNING;
        return;
    }
    if (out->observed < d->p.min_count || out->score < d->p.sensitivity) {
        out->event = ES_DETECT_QUIET;
        return;
    }
    if (st->cooldown_until != ES_TIME_UNKNOWN && out->at < st->cooldown_until) {
        out->event = ES_DETECT_COOLDOWN;
        return;
    }
    out->event = ES_DETECT_FIRE;
    d->flags[i] |= F_ALERT;
    st->firing = 1;
    st->started_at = out->at;
    st->observed = out->observed;
    st->expected = out->e.expected;
    st->score = out->score;
    st->peak = out->observed;
    st->buckets = 1;
}
