/* alerts.h - spike alerts: a seasonal detector, the rules and their alerts
 *
 * Three layers, each usable alone:
 *
 * - The detector (alerts/detector.c) is pure: a series of bucket counts
 *   in, decisions out, no database. It learns the daily and weekly rhythm
 *   of a series (a robust median and MAD of the same time of week over
 *   the previous weeks), decides whether a bucket is a spike, and runs
 *   the alert lifecycle (fire, stay one alert while the spike lasts,
 *   resolve, cool down). Live evaluation, backtests and the tests all run
 *   this same code.
 * - Rules ([alert "NAME"] sections) say what series to count and with
 *   what settings (es_alert_rule_parse).
 * - The engine (alerts/engine.c) counts a rule's series in the stored
 *   mentions, feeds the closed buckets it has not yet evaluated to the
 *   detector, and records what happens in the alerts tables: an alerts
 *   row per spike, its explanation, and one alert_deliveries row per
 *   [notify] channel per event for the notifier to deliver.
 *
 * The baseline of a bucket (the detector's design; docs/alerts.md has the
 * bench figures behind each choice):
 * 1. weekly: the same time of week in each of up to `weeks` (8) previous
 *    weeks; for 5-minute buckets the 5 buckets centred on the same time
 *    (25 minutes) of each week, so a sample is not one noisy 5-minute
 *    count. Used when at least 3 weeks have a sample.
 * 2. daily: else the same time of day over the previous 14 days (at
 *    least 3 of them); for day buckets, the previous 14 days (at least 5).
 * 3. global: else the buckets of the previous 7 days (at least a day's
 *    worth), with no rhythm at all: their spread is wide, so this level
 *    rarely fires.
 * 4. none: less history than that, and the detector never fires.
 * A sample is a bucket that is "known" (the inbox held mentions within
 * the day that ends with it: an inbox that was not collecting yet, or a
 * collector that was down for a day, is missing data, not a quiet
 * series) and was not inside an alert (so a long spike does not teach
 * the baseline to expect spikes).
 *
 * expected = median(samples) * trend; spread = max(1.4826 * MAD(samples)
 * * trend, sqrt(expected) + 1): the MAD follows the series' own noise,
 * the Poisson-like floor keeps low counts (where a MAD of 0 is common)
 * from firing on a handful of mentions. trend is a slow correction for a
 * growing or shrinking series: (observed + 50) / (baseline + 50) summed
 * over the known, non-alert buckets of the previous 7 days that had a
 * weekly or daily baseline, clamped to 0.5..2 (the +50 keeps a sparse
 * series from chasing its own noise).
 *
 * Decision: score = (observed - expected) / spread, a robust z-score. A
 * bucket fires when observed >= min_count and score >= sensitivity and
 * the rule is not cooling down; the alert then stays open while each
 * following bucket scores at least `still` (hysteresis: lower than
 * sensitivity, so a spike that wavers stays one alert), and is resolved
 * at the first bucket that does not. The next alert may start no sooner
 * than `cooldown` seconds after the end of the last one.
 */
#ifndef EARSHOT_ALERTS_H
#define EARSHOT_ALERTS_H

#include <stddef.h>
#include <stdint.h>

struct es_config;
struct es_config_source;
struct es_inbox;
struct es_query;

/* ==== The detector: counts in, decisions out ==== */

#define ES_DETECTOR_WEEKS_MAX 8

struct es_detector_params {
    int64_t bucket;     /* seconds: 300, 3600 or 86400 */
    double sensitivity; /* fire at this robust z-score (default 3) */
    double still;       /* stay firing while the score is at least this
                           (default sensitivity / 2, at least 1) */
    long min_count;     /* never fire on fewer mentions (default 5) */
    int64_t cooldown;   /* seconds from an alert's end to the next start
                           (default 6 hours) */
    int weeks;          /* weeks of seasonal history, 1 to
                           ES_DETECTOR_WEEKS_MAX (default 8) */
};

/* Sets *out to the defaults above for buckets of @bucket seconds. */
void es_detector_params_default(struct es_detector_params *out, int64_t bucket);

/* How far back, in seconds, the baseline of a bucket looks (the seasonal
 * weeks, plus the 7 days of the trend whose own baselines look back as
 * far): what a caller loads before the first bucket it evaluates so that
 * the baseline is the one a longer replay would give. */
int64_t es_detector_history(const struct es_detector_params *p);

enum es_baseline_level {
    ES_BASELINE_NONE = 0, /* too little history: never fires */
    ES_BASELINE_GLOBAL,   /* the previous 7 days, no rhythm */
    ES_BASELINE_DAILY,    /* the same time of day, previous days */
    ES_BASELINE_WEEKLY,   /* the same time of week, previous weeks */
};

/* "none", "global", "daily", "weekly". */
const char *es_baseline_level_name(enum es_baseline_level level);

/* The baseline of one bucket. */
struct es_expectation {
    enum es_baseline_level level;
    double expected;   /* mentions the bucket should hold (trend applied) */
    double spread;     /* robust spread, floored */
    double trend;      /* the trend factor applied (1: none) */
    double dispersion; /* noise in Poisson units (1: Poisson) */
    size_t nsamples;   /* buckets the median was taken over */
};

enum es_detect_event {
    ES_DETECT_QUIET = 0, /* not firing and not a spike */
    ES_DETECT_LEARNING,  /* not firing, no baseline yet */
    ES_DETECT_FIRE,      /* the first bucket of a spike: an alert opens */
    ES_DETECT_CONTINUE,  /* still elevated: the open alert goes on */
    ES_DETECT_RESOLVE,   /* back to normal: the open alert ends where this
                            bucket starts */
    ES_DETECT_COOLDOWN,  /* a spike, but the rule is cooling down */
};

/* "quiet", "learning", "fire", "continue", "resolve", "cooldown". */
const char *es_detect_event_name(enum es_detect_event ev);

/* What the detector made of one bucket. */
struct es_decision {
    enum es_detect_event event;
    int64_t at;    /* start of the bucket */
    long observed; /* its count */
    struct es_expectation e;
    double score; /* (observed - expected) / spread; 0 with no
                     baseline */
};

/* The lifecycle: everything the detector carries from one bucket to the
 * next besides the counts. The engine stores it in alert_rules and the
 * alerts row and restores it with es_detector_restore(). */
struct es_detector_state {
    int firing;             /* an alert is open */
    int64_t started_at;     /* while firing: start of its first bucket */
    long observed;          /* while firing: count of the first bucket */
    double expected;        /* while firing: the first bucket's baseline */
    double score;           /* while firing: the first bucket's score */
    long peak;              /* while firing: the largest bucket so far */
    size_t buckets;         /* while firing: buckets inside the alert */
    int64_t cooldown_until; /* no alert starts in a bucket before this;
                               ES_TIME_UNKNOWN (INT64_MIN): none */
};

struct es_detector;

/* A detector over @n buckets of @p->bucket seconds, the first starting at
 * @start (a multiple of the bucket, in Unix seconds). Every bucket starts
 * unknown with a count of 0 and the state is empty (not firing, no
 * cooldown). The caller frees it with es_detector_free(). */
struct es_detector *es_detector_new(const struct es_detector_params *p,
                                    int64_t start, size_t n);
void es_detector_free(struct es_detector *d);

/* Bucket @i holds @count mentions of the series; @known says whether the
 * inbox was collecting then (see above). A bucket's baseline reads only
 * the buckets before it, so set (and mark) bucket @i before asking for
 * the baseline of, or stepping, any bucket after it. */
void es_detector_set(struct es_detector *d, size_t i, long count, int known);

/* Bucket @i was inside an alert (as the store remembers it): it is left
 * out of every baseline. Same rule as es_detector_set().
 * es_detector_step() marks the buckets of the alerts it opens itself. */
void es_detector_mark_alert(struct es_detector *d, size_t i);

/* Replaces the lifecycle state (an empty one after es_detector_new()). */
void es_detector_restore(struct es_detector *d,
                         const struct es_detector_state *st);

/* Returns a borrowed pointer to the current state, valid until the next
 * call on @d. */
const struct es_detector_state *es_detector_state(const struct es_detector *d);

/* The baseline of bucket @i, from buckets before it only. */
void es_detector_expect(struct es_detector *d, size_t i,
                        struct es_expectation *out);

/* Decides bucket @i and moves the lifecycle on. Buckets are stepped in
 * increasing order (a bucket may be skipped: it is then history only).
 * Deterministic: the same counts, marks and state give the same
 * decisions. */
void es_detector_step(struct es_detector *d, size_t i, struct es_decision *out);

/* ==== Rules: [alert "NAME"] ==== */

enum es_alert_series {
    ES_SERIES_LABEL = 0, /* negative, positive, neutral */
    ES_SERIES_ALL,       /* every mention */
    ES_SERIES_SOURCE,    /* source:NAME */
    ES_SERIES_PLATFORM,  /* platform:NAME */
    ES_SERIES_TAG,       /* tag:NAME */
    ES_SERIES_QUERY,     /* query:TEXT, matched on title, text, author */
};

/* One rule, read from its section with every default applied. Read-only
 * for callers; es_alert_rule_parse() makes one and es_alert_rule_free()
 * frees it with everything it points to. */
struct es_alert_rule {
    char *name;                  /* the section's name */
    char *series;                /* as written; "negative" by default */
    enum es_alert_series kind;   /* what series counts */
    char *arg;                   /* the label, name, tag or query text */
    struct es_query *query;      /* ES_SERIES_QUERY: compiled */
    char bucket_name[4];         /* "5m", "1h" or "1d" */
    struct es_detector_params p; /* bucket, sensitivity, min_count, ... */
    char **notify;               /* [notify] names, in the order given */
    size_t nnotify;
    int enabled; /* enabled = (default yes) */
};

/* Reads the [alert] section @sec (from es_config_section_at(cfg, "alert",
 * ...)). When @cfg is not NULL every notify name must be a [notify]
 * section of it. Returns 0 and sets *out, freed by the caller with
 * es_alert_rule_free(); ES_EINVALID with a message naming the rule and
 * the key ("alert 'x': series 'bogus': ...") otherwise. */
int es_alert_rule_parse(struct es_alert_rule **out, const struct es_config *cfg,
                        const struct es_config_source *sec);

/* The rule named @name in @cfg: as es_alert_rule_parse(), or ES_ENOTFOUND
 * when there is no such [alert] section. */
int es_alert_rule_find(struct es_alert_rule **out, const struct es_config *cfg,
                       const char *name);

/* Frees @rule; NULL is a no-op. */
void es_alert_rule_free(struct es_alert_rule *rule);

/* Parses "5m", "1h" or "1d" into seconds. Returns 0, or ES_EINVALID. */
int es_alert_bucket_parse(const char *s, int64_t *out);

/* The end of the last bucket of @bucket seconds that is closed at @now:
 * a bucket is closed once its end plus a grace of a tenth of a bucket
 * (for mentions that arrive late) has passed. A multiple of @bucket. */
int64_t es_alert_closed_until(int64_t bucket, int64_t now);

/* ==== The engine: live evaluation into the alerts tables ==== */

/* The explanation JSON stored in alerts.explanation (and read by the
 * notifier), one object:
 *
 *   {"rule": "negative-spike", "series": "negative", "bucket": "1h",
 *    "started_at": "2024-05-01T09:00:00Z", "ended_at": null,
 *    "buckets": 2, "observed": 41, "expected": 7.5, "score": 8.9,
 *    "peak": 57, "baseline": "weekly", "mentions": 98,
 *    "top_mentions": [{"id": 12, "author": "@ann", "source": "mastodon",
 *                      "text": "...", "sentiment": -0.81,
 *                      "priority": 77, "url": "https://..."}, ...],
 *    "terms": [["outage", 31], ["login", 12], ...],
 *    "sources": [["mastodon", 60], ["hn", 38]],
 *    "authors": [["@ann", 4], ...]}
 *
 * observed, expected and score describe the first bucket; peak is the
 * largest bucket; mentions, top_mentions, terms, sources and authors cover
 * the whole spike so far (started_at to ended_at, or to the last bucket
 * evaluated while firing). The explanation is written when the alert
 * fires and rewritten as it grows and when it resolves. top_mentions: up
 * to 5 of the spike's mentions, highest priority first, then most
 * negative; text cut to 280 bytes. terms: up to 10 words over-represented
 * in the spike against the rule's series in the 7 days before it (log
 * ratio of document frequencies, stopwords and words of fewer than 3
 * letters left out), with the number of the spike's mentions holding
 * them. sources and authors: up to 5 each, most mentions first. Every
 * list is ordered with ties broken by name or id, so it is deterministic.
 */

enum es_alert_event_kind {
    ES_ALERT_FIRED = 0, /* an alert opened */
    ES_ALERT_RESOLVED,  /* an alert ended */
    ES_ALERT_FAILED,    /* a rule could not be evaluated */
};

/* What es_alerts_check() did, one call per event. Borrowed for the call. */
struct es_alert_event {
    enum es_alert_event_kind kind;
    const char *rule;
    int64_t alert_id;   /* alerts.id (not FAILED) */
    int64_t started_at; /* start of the first bucket */
    int64_t ended_at;   /* RESOLVED: where it ended; else ES_TIME_UNKNOWN */
    long observed;      /* the first bucket */
    double expected;
    double score;
    long peak;
    size_t queued;     /* alert_deliveries rows queued for this event */
    const char *error; /* FAILED: the message */
};

typedef void (*es_alert_event_cb)(const struct es_alert_event *ev,
                                  void *payload);

/* Evaluates one rule at @now (Unix seconds): every closed bucket (see
 * es_alert_closed_until) not yet evaluated (alert_rules.evaluated_until;
 * a rule never evaluated starts with the last closed bucket, and one that
 * was left behind catches up at most 7 days), on a baseline of the stored
 * mentions. Opens, extends and resolves alerts rows, writes their
 * explanation, queues an alert_deliveries row (state pending, next_attempt
 * @now) per notify channel for each fire and resolve, and moves
 * evaluated_until on: all in one transaction, so a failure leaves the rule
 * as it was. A disabled rule does nothing. Calls @cb (may be NULL) for
 * each alert fired or resolved, after the commit. Returns 0; ES_EDB or
 * ES_EINVALID with a message naming the rule. */
int es_alerts_check_rule(struct es_inbox *ib, const struct es_alert_rule *rule,
                         int64_t now, es_alert_event_cb cb, void *payload);

/* Evaluates every [alert] rule of @cfg as es_alerts_check_rule() does. A
 * rule that fails (a bad section, a database error) is reported to @cb as
 * ES_ALERT_FAILED and the others are still evaluated. Returns 0 when every
 * rule was evaluated, else the code of the first failure. */
int es_alerts_check(struct es_inbox *ib, const struct es_config *cfg,
                    int64_t now, es_alert_event_cb cb, void *payload);

/* ==== Backtests ==== */

/* An alert a backtest would have raised. */
struct es_alert_span {
    int64_t started_at; /* start of the first bucket */
    int64_t ended_at;   /* end; ES_TIME_UNKNOWN: still firing at the end */
    long observed;      /* the first bucket */
    double expected;
    double score;
    long peak;         /* the largest bucket */
    size_t buckets;    /* buckets inside the alert */
    const char *level; /* the first bucket's baseline level */
};

typedef int (*es_alert_span_cb)(const struct es_alert_span *span,
                                void *payload);

/* Replays @rule over the stored mentions bucket by bucket, as if it had
 * been live from the first stored mention with an empty state (no alert,
 * no cooldown), through the same detector and lifecycle, and calls @cb
 * for each alert that starts in [@since, @until), in order. @since may be
 * ES_TIME_UNKNOWN (from the first stored mention); @until is rounded down
 * to a bucket (es_alert_closed_until(bucket, now) replays every closed
 * bucket). Writes nothing and notifies no one; the same store gives the
 * same alerts. A non-zero return from @cb stops the replay and is
 * returned. Returns 0, or ES_EDB. */
int es_alerts_backtest(struct es_inbox *ib, const struct es_alert_rule *rule,
                       int64_t since, int64_t until, es_alert_span_cb cb,
                       void *payload);

/* ==== Reading alerts ==== */

/* One alerts row. */
struct es_alert {
    int64_t id;
    char *rule;
    int64_t bucket;     /* seconds */
    int64_t started_at; /* start of the first bucket */
    int64_t ended_at;   /* ES_TIME_UNKNOWN while firing */
    int firing;         /* state = 'firing' */
    long observed;
    double expected;
    double score;
    long peak;
    char *explanation; /* the JSON above, or NULL */
    int64_t created_at;
    int64_t updated_at;
};

/* Frees what @a holds (not @a); NULL is a no-op. */
void es_alert_release(struct es_alert *a);

typedef int (*es_alert_cb)(const struct es_alert *a, void *payload);

/* Calls @cb for the alerts of @rule (NULL: every rule), newest start
 * first, at most @limit of them (0: no limit). @a is borrowed for the
 * call. A non-zero return from @cb stops the walk and is returned.
 * Returns 0, or ES_EDB. */
int es_alerts_list(struct es_inbox *ib, const char *rule, int limit,
                   es_alert_cb cb, void *payload);

/* Reads alert @id into *out (released by the caller with
 * es_alert_release). Returns 0, ES_ENOTFOUND or ES_EDB. */
int es_alert_get(struct es_inbox *ib, int64_t id, struct es_alert *out);

#endif
