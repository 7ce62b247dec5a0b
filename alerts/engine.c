/* engine.c - alert rules, evaluated live and in backtests over the store
 *
 * A rule ([alert "NAME"]) names a series of mentions; the engine counts it
 * per bucket straight from the mentions table and hands the counts to the
 * detector (detector.c), so the store never keeps a second copy of the
 * series. Live evaluation (es_alerts_check) decides each closed bucket
 * once: alert_rules.evaluated_until says how far a rule has gone,
 * open_alert and cooldown_until carry the lifecycle between passes, and
 * the alerts rows say which buckets were inside a spike (they stay out of
 * the baseline). A pass over a rule is one transaction: the alerts rows,
 * their explanation, the alert_deliveries rows for the notifier and the
 * rule's progress are written together or not at all.
 *
 * A backtest (es_alerts_backtest) loads the same counts and steps every
 * bucket from the first stored mention with an empty state, through the
 * same detector, writing nothing: what a rule would have done had it been
 * live all along.
 *
 * The table has no index on time (one would slow every insert), so each
 * scan starts at the first mention id that can fall in its window
 * (es_alerts__min_id) and a rule is only counted when a bucket has closed.
 */
#include "engine.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sqlite3.h>

#include "earshot/alerts.h"
#include "earshot/alloc.h"
#include "earshot/buf.h"
#include "earshot/config.h"
#include "earshot/error.h"
#include "earshot/inbox.h"
#include "earshot/item.h"
#include "earshot/metrics.h"
#include "earshot/query.h"
#include "inbox/store.h"

#define DAY 86400
/* A rule left behind (serve was stopped) catches up this far at most. */
#define CATCH_UP (7 * DAY)
/* A mention's time may be this far after it was first seen (clock skew,
 * a platform's future-dated post). */
#define TIME_SLACK DAY

/* ==== Rules ==== */

int es_alert_bucket_parse(const char *s, int64_t *out)
{
    if (s && strcmp(s, "5m") == 0)
        *out = 300;
    else if (s && strcmp(s, "1h") == 0)
        *out = 3600;
    else if (s && strcmp(s, "1d") == 0)
        *out = DAY;
    else
        return es_error_set(ES_EINVALID, "bad bucket '%s' (5m, 1h or 1d)",
                            s ? s : "");
    return 0;
}

int64_t es_alert_closed_until(int64_t bucket, int64_t now)
{
    int64_t grace = bucket / 10;
    int64_t t = now - grace;
    /* Floor division, also for times before 1970. */
    int64_t q = t / bucket - (t % bucket < 0);
    return q * bucket;
}

/* Splits the comma-separated @list into r->notify, trimming blanks. */
static void split_notify(struct es_alert_rule *r, const char *list)
{
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *start = p;
        while (*p && *p != ',')
            p++;
        const char *end = p;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if (end > start) {
            r->notify =
                es_xrealloc(r->notify, (r->nnotify + 1) * sizeof(*r->notify));
            r->notify[r->nnotify++] = es_xstrndup(start, (size_t)(end - start));
        }
    }
}

/* Reads series = into r->kind, r->arg and r->query. */
static int parse_series(struct es_alert_rule *r)
{
    static const struct {
        const char *prefix;
        enum es_alert_series kind;
    } prefixed[] = {
        { "source:", ES_SERIES_SOURCE },
        { "platform:", ES_SERIES_PLATFORM },
        { "tag:", ES_SERIES_TAG },
        { "query:", ES_SERIES_QUERY },
    };
    const char *s = r->series;
    if (strcmp(s, "negative") == 0 || strcmp(s, "positive") == 0 ||
        strcmp(s, "neutral") == 0) {
        r->kind = ES_SERIES_LABEL;
        r->arg = es_xstrdup(s);
        return 0;
    }
    if (strcmp(s, "all") == 0) {
        r->kind = ES_SERIES_ALL;
        r->arg = es_xstrdup("");
        return 0;
    }
    for (size_t i = 0; i < sizeof(prefixed) / sizeof(*prefixed); i++) {
        size_t len = strlen(prefixed[i].prefix);
        if (strncmp(s, prefixed[i].prefix, len) != 0)
            continue;
        const char *arg = s + len;
        while (*arg == ' ')
            arg++;
        if (!*arg)
            break;
        r->kind = prefixed[i].kind;
        r->arg = es_xstrdup(arg);
        if (r->kind != ES_SERIES_QUERY)
            return 0;
        char err[256];
        if (es_query_parse(&r->query, arg, err, sizeof(err)) < 0)
            return es_error_set(ES_EINVALID, "alert '%s': series '%s': %s",
                                r->name, s, err);
        return 0;
    }
    return es_error_set(ES_EINVALID,
                        "alert '%s': bad series '%s' (negative, positive, "
                        "neutral, all, source:NAME, platform:NAME, tag:NAME "
                        "or query:TEXT)",
                        r->name, s);
}

int es_alert_rule_parse(struct es_alert_rule **out, const struct es_config *cfg,
                        const struct es_config_source *sec)
{
    struct es_alert_rule *r = es_xcalloc(1, sizeof(*r));
    const char *v;
    int64_t bucket;
    int rc;

    *out = NULL;
    r->name = es_xstrdup(sec->name ? sec->name : "");
    v = es_config_source_get(sec, "series");
    r->series = es_xstrdup(v && *v ? v : "negative");
    if ((rc = parse_series(r)) < 0)
        goto done;

    v = es_config_source_get(sec, "bucket");
    if (!v)
        v = "1h";
    if (es_alert_bucket_parse(v, &bucket) < 0) {
        rc = es_error_set(ES_EINVALID,
                          "alert '%s': bad bucket '%s' (5m, 1h "
                          "or 1d)",
                          r->name, v);
        goto done;
    }
    snprintf(r->bucket_name, sizeof(r->bucket_name), "%s", v);
    es_detector_params_default(&r->p, bucket);

    if ((v = es_config_source_get(sec, "sensitivity"))) {
        char *end;
        double s = strtod(v, &end);
        if (end == v || *end || !isfinite(s) || s <= 0 || s > 100) {
            rc = es_error_set(ES_EINVALID,
                              "alert '%s': bad sensitivity '%s' (a number "
                              "above 0, such as 3)",
                              r->name, v);
            goto done;
        }
        r->p.sensitivity = s;
    }
    /* Hysteresis: half the firing score, at least 1, never above it. */
    r->p.still = r->p.sensitivity / 2 < 1 ? 1 : r->p.sensitivity / 2;
    if (r->p.still > r->p.sensitivity)
        r->p.still = r->p.sensitivity;

    if ((v = es_config_source_get(sec, "min_count"))) {
        char *end;
        long n = strtol(v, &end, 10);
        if (end == v || *end || n < 1) {
            rc = es_error_set(ES_EINVALID,
                              "alert '%s': bad min_count '%s' (a whole number "
                              "from 1)",
                              r->name, v);
            goto done;
        }
        r->p.min_count = n;
    }
    if ((v = es_config_source_get(sec, "cooldown"))) {
        long secs;
        if (es_metrics_parse_duration(v, &secs) < 0 || secs < 0) {
            rc = es_error_set(ES_EINVALID,
                              "alert '%s': bad cooldown '%s' (seconds, or "
                              "with an s, m or h suffix)",
                              r->name, v);
            goto done;
        }
        r->p.cooldown = secs;
    }
    r->enabled = es_config_source_bool(sec, "enabled", 1);
    if ((v = es_config_source_get(sec, "notify")))
        split_notify(r, v);
    for (size_t i = 0; cfg && i < r->nnotify; i++)
        if (!es_config_section_find(cfg, "notify", r->notify[i])) {
            rc = es_error_set(ES_EINVALID,
                              "alert '%s': notify '%s': no [notify \"%s\"] "
                              "section",
                              r->name, r->notify[i], r->notify[i]);
            goto done;
        }
    rc = 0;
done:
    if (rc < 0)
        es_alert_rule_free(r);
    else
        *out = r;
    return rc;
}

int es_alert_rule_find(struct es_alert_rule **out, const struct es_config *cfg,
                       const char *name)
{
    const struct es_config_source *sec =
        es_config_section_find(cfg, "alert", name);
    *out = NULL;
    if (!sec)
        return es_error_set(
            ES_ENOTFOUND, "no [alert \"%s\"] rule in '%s'", name,
            es_config_file(cfg) ? es_config_file(cfg) : "the config");
    return es_alert_rule_parse(out, cfg, sec);
}

void es_alert_rule_free(struct es_alert_rule *rule)
{
    if (!rule)
        return;
    free(rule->name);
    free(rule->series);
    free(rule->arg);
    es_query_free(rule->query);
    for (size_t i = 0; i < rule->nnotify; i++)
        free(rule->notify[i]);
    free(rule->notify);
    free(rule);
}

/* ==== Shared with explain.c ==== */

void es_alerts__bind_arg(sqlite3_stmt *stmt, const struct es_alert_rule *rule)
{
    if (sqlite3_bind_parameter_count(stmt) >= 5)
        sqlite3_bind_text(stmt, 5, rule->arg ? rule->arg : "", -1,
                          SQLITE_TRANSIENT);
}

int es_alerts__query_match(const struct es_alert_rule *rule, const char *title,
                           const char *text, const char *author)
{
    if (rule->kind != ES_SERIES_QUERY || !rule->query)
        return 1;
    const char *fields[3] = { title, text, author };
    return es_query_match(rule->query, fields, 3);
}

/* The first row at or after @id: its id and first_seen. 0 when none. */
static int row_at(sqlite3_stmt *st, int64_t id, int64_t *rid, int64_t *seen)
{
    int found = 0;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *rid = sqlite3_column_int64(st, 0);
        *seen = sqlite3_column_int64(st, 1);
        found = 1;
    }
    return found;
}

int64_t es_alerts__min_id(sqlite3 *db, int64_t t)
{
    static const char sql[] = "SELECT id, first_seen FROM mentions WHERE id "
                              ">= ?1 ORDER BY id LIMIT 1";
    sqlite3_stmt *st = NULL;
    int64_t lo = 0, hi, rid, seen;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return 0; /* scan everything: slower, still right */
    if (!row_at(st, INT64_MIN, &lo, &seen)) {
        lo = 0;
        goto done;
    }
    if (seen >= t)
        goto done;
    /* Invariant: the row at lo is before t; the answer is after lo. */
    hi = INT64_MAX;
    {
        sqlite3_stmt *mx = NULL;
        if (sqlite3_prepare_v2(db, "SELECT MAX(id) FROM mentions", -1, &mx,
                               NULL) == SQLITE_OK &&
            sqlite3_step(mx) == SQLITE_ROW)
            hi = sqlite3_column_int64(mx, 0) + 1;
        sqlite3_finalize(mx);
    }
    lo = lo + 1;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (!row_at(st, mid, &rid, &seen) || seen >= t)
            hi = mid;
        else
            lo = rid + 1;
    }
done:
    sqlite3_finalize(st);
    return lo;
}

/* ==== Counting a series ==== */

#define COUNT_SQL(cond)                                                        \
    "SELECT (" ES_ALERTS__TIME " - ?1) / ?2, COUNT(*),"                        \
    " SUM(CASE WHEN " cond " THEN 1 ELSE 0 END) FROM mentions m"               \
    " WHERE m.id >= ?3 AND " ES_ALERTS__TIME " >= ?1 AND " ES_ALERTS__TIME     \
    " < ?4 GROUP BY 1"

static const char *const count_sql[] = {
    [ES_SERIES_LABEL] = COUNT_SQL(ES_ALERTS__COND_LABEL),
    [ES_SERIES_ALL] = COUNT_SQL(ES_ALERTS__COND_ALL),
    [ES_SERIES_SOURCE] = COUNT_SQL(ES_ALERTS__COND_SOURCE),
    [ES_SERIES_PLATFORM] = COUNT_SQL(ES_ALERTS__COND_PLATFORM),
    [ES_SERIES_TAG] = COUNT_SQL(ES_ALERTS__COND_TAG),
    [ES_SERIES_QUERY] = COUNT_SQL(ES_ALERTS__COND_QUERY),
};

/* query: series are matched row by row. */
static const char QUERY_ROWS[] =
    "SELECT (" ES_ALERTS__TIME " - ?1) / ?2, m.title, m.text, m.author"
    " FROM mentions m WHERE m.id >= ?3 AND " ES_ALERTS__TIME
    " >= ?1 AND " ES_ALERTS__TIME " < ?4";

/* The counts of @rule's series and of every mention in the buckets of
 * [@from, @to) (multiples of the bucket), into @count and @all (n each,
 * zeroed by the caller). */
static int load_counts(sqlite3 *db, const struct es_alert_rule *rule,
                       int64_t from, int64_t to, long *count, long *all)
{
    int64_t b = rule->p.bucket;
    size_t n = (size_t)((to - from) / b);
    int query = rule->kind == ES_SERIES_QUERY;
    sqlite3_stmt *st = NULL;
    int rc, step;

    if (sqlite3_prepare_v2(db, query ? QUERY_ROWS : count_sql[rule->kind], -1,
                           &st, NULL) != SQLITE_OK)
        return es_error_set(ES_EDB, "alert '%s': %s", rule->name,
                            sqlite3_errmsg(db));
    sqlite3_bind_int64(st, 1, from);
    sqlite3_bind_int64(st, 2, b);
    sqlite3_bind_int64(st, 3, es_alerts__min_id(db, from - TIME_SLACK));
    sqlite3_bind_int64(st, 4, to);
    es_alerts__bind_arg(st, rule);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 i = sqlite3_column_int64(st, 0);
        if (i < 0 || (size_t)i >= n)
            continue;
        if (query) {
            all[i]++;
            if (es_alerts__query_match(
                    rule, (const char *)sqlite3_column_text(st, 1),
                    (const char *)sqlite3_column_text(st, 2),
                    (const char *)sqlite3_column_text(st, 3)))
                count[i]++;
        } else {
            all[i] += (long)sqlite3_column_int64(st, 1);
            count[i] += (long)sqlite3_column_int64(st, 2);
        }
    }
    rc = step == SQLITE_DONE ? 0
                             : es_error_set(ES_EDB, "alert '%s': %s",
                                            rule->name, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

/* A rule's series around a window: a detector whose bucket 0 starts at
 * @start, and the counts of every mention from a day earlier (what the
 * "known" flags and the explanation's baseline need). */
struct series {
    struct es_detector *d;
    int64_t start;  /* time of the detector's bucket 0 */
    size_t n;       /* the detector's buckets */
    size_t lead;    /* buckets of the day before start */
    long *all;      /* every mention, lead + n buckets */
    int64_t bucket; /* seconds */
};

static void series_release(struct series *s)
{
    es_detector_free(s->d);
    free(s->all);
    memset(s, 0, sizeof(*s));
}

/* Loads @rule's series for buckets [@start, @end) into @s. A bucket is
 * known when the inbox holds any mention in the day that ends with it
 * (for day buckets: the bucket itself): data that was never collected is
 * missing history, not a quiet series. */
static int series_load(sqlite3 *db, const struct es_alert_rule *rule,
                       int64_t start, int64_t end, struct series *s)
{
    int64_t b = rule->p.bucket;
    long *count = NULL, *sum = NULL;
    int rc;

    memset(s, 0, sizeof(*s));
    s->bucket = b;
    s->start = start;
    s->n = end > start ? (size_t)((end - start) / b) : 0;
    s->lead = (size_t)(DAY / b);
    size_t total = s->lead + s->n;
    count = es_xcalloc(total ? total : 1, sizeof(*count));
    s->all = es_xcalloc(total ? total : 1, sizeof(*s->all));
    rc =
        load_counts(db, rule, start - (int64_t)s->lead * b, end, count, s->all);
    if (rc < 0)
        goto done;
    /* Prefix sums of every mention: sum[k] = all[0] + ... + all[k - 1]. */
    sum = es_xcalloc(total + 1, sizeof(*sum));
    for (size_t k = 0; k < total; k++)
        sum[k + 1] = sum[k] + s->all[k];
    s->d = es_detector_new(&rule->p, start, s->n);
    for (size_t i = 0; i < s->n; i++) {
        size_t k = s->lead + i; /* this bucket in count[] and all[] */
        /* The lead buckets that end with this one: a day's worth. */
        long day = sum[k + 1] - sum[k + 1 - s->lead];
        es_detector_set(s->d, i, count[k], day > 0);
    }
done:
    free(count);
    free(sum);
    if (rc < 0)
        series_release(s);
    return rc;
}

/* The number of mentions (every series) in [@from, @to), as far as @s
 * covers it. */
static long series_all(const struct series *s, int64_t from, int64_t to)
{
    int64_t first = s->start - (int64_t)s->lead * s->bucket;
    long n = 0;
    for (int64_t t = from; t < to; t += s->bucket) {
        if (t < first)
            continue;
        size_t k = (size_t)((t - first) / s->bucket);
        if (k < s->lead + s->n)
            n += s->all[k];
    }
    return n;
}

/* The detector bucket holding @t, clamped to [0, n]. */
static size_t series_index(const struct series *s, int64_t t)
{
    if (t <= s->start)
        return 0;
    int64_t i = (t - s->start) / s->bucket;
    return (size_t)i > s->n ? s->n : (size_t)i;
}

/* ==== Live evaluation ==== */

static const char RULE_GET[] = "SELECT evaluated_until, open_alert,"
                               " cooldown_until FROM alert_rules WHERE rule ="
                               " ?1";
static const char RULE_PUT[] =
    "INSERT INTO alert_rules (rule, evaluated_until, open_alert,"
    " cooldown_until) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (rule) DO UPDATE"
    " SET evaluated_until = excluded.evaluated_until, open_alert ="
    " excluded.open_alert, cooldown_until = excluded.cooldown_until";
/* The alerts of a rule that cover part of [?2, ?3). */
static const char ALERTS_IN[] =
    "SELECT started_at, ended_at FROM alerts WHERE rule = ?1 AND started_at <"
    " ?3 AND (ended_at IS NULL OR ended_at > ?2)";
static const char ALERT_OPEN[] =
    "SELECT started_at, observed, expected, score, peak, state FROM alerts"
    " WHERE id = ?1";
static const char ALERT_INSERT[] =
    "INSERT INTO alerts (rule, bucket, started_at, state, observed, expected,"
    " score, peak, created_at, updated_at) VALUES (?1, ?2, ?3, 'firing', ?4,"
    " ?5, ?6, ?7, ?8, ?8)";
static const char ALERT_UPDATE[] =
    "UPDATE alerts SET peak = ?2, explanation = ?3, updated_at = ?4,"
    " ended_at = ?5, state = CASE WHEN ?5 IS NULL THEN 'firing' ELSE"
    " 'resolved' END WHERE id = ?1";
static const char DELIVERY_QUEUE[] =
    "INSERT OR IGNORE INTO alert_deliveries (alert_id, notify, event, state,"
    " attempts, next_attempt, created_at) VALUES (?1, ?2, ?3, 'pending', 0,"
    " ?4, ?4)";

/* What a rule's row in alert_rules says. */
struct rule_row {
    int found;
    int64_t evaluated_until; /* ES_TIME_UNKNOWN: never evaluated */
    int64_t open_alert;      /* 0: none */
    int64_t cooldown_until;  /* ES_TIME_UNKNOWN: none */
};

static int64_t column_time(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL
               ? ES_TIME_UNKNOWN
               : sqlite3_column_int64(st, col);
}

static void bind_time(sqlite3_stmt *st, int col, int64_t t)
{
    if (t == ES_TIME_UNKNOWN)
        sqlite3_bind_null(st, col);
    else
        sqlite3_bind_int64(st, col, t);
}

static int db_fail(sqlite3 *db, const char *rule)
{
    return es_error_set(ES_EDB, "alert '%s': %s", rule, sqlite3_errmsg(db));
}

static int rule_get(sqlite3 *db, const char *rule, struct rule_row *out)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, step;
    memset(out, 0, sizeof(*out));
    out->evaluated_until = ES_TIME_UNKNOWN;
    out->cooldown_until = ES_TIME_UNKNOWN;
    if (sqlite3_prepare_v2(db, RULE_GET, -1, &st, NULL) != SQLITE_OK)
        return db_fail(db, rule);
    sqlite3_bind_text(st, 1, rule, -1, SQLITE_STATIC);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        out->found = 1;
        out->evaluated_until = column_time(st, 0);
        out->open_alert = sqlite3_column_int64(st, 1);
        out->cooldown_until = column_time(st, 2);
    } else if (step != SQLITE_DONE) {
        rc = db_fail(db, rule);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Marks the buckets of @s that the stored alerts of @rule cover before
 * @until (an open alert covers up to it). */
static int mark_alerts(sqlite3 *db, const struct es_alert_rule *rule,
                       struct series *s, int64_t until)
{
    sqlite3_stmt *st = NULL;
    int step;
    if (sqlite3_prepare_v2(db, ALERTS_IN, -1, &st, NULL) != SQLITE_OK)
        return db_fail(db, rule->name);
    sqlite3_bind_text(st, 1, rule->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, s->start);
    sqlite3_bind_int64(st, 3, until);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t from = sqlite3_column_int64(st, 0);
        int64_t to = column_time(st, 1);
        if (to == ES_TIME_UNKNOWN || to > until)
            to = until;
        size_t a = series_index(s, from);
        /* Round the end up: a bucket the alert touches is left out. */
        size_t z = series_index(s, to + s->bucket - 1);
        for (size_t i = a; i < z && i < s->n; i++)
            es_detector_mark_alert(s->d, i);
    }
    sqlite3_finalize(st);
    return step == SQLITE_DONE ? 0 : db_fail(db, rule->name);
}

/* Restores the open alert @id into the detector; not firing when the row
 * is gone or was resolved by hand. */
static int restore_open(sqlite3 *db, const struct es_alert_rule *rule,
                        struct series *s, int64_t id, int64_t from,
                        struct es_detector_state *st)
{
    sqlite3_stmt *q = NULL;
    int step;
    if (!id)
        return 0;
    if (sqlite3_prepare_v2(db, ALERT_OPEN, -1, &q, NULL) != SQLITE_OK)
        return db_fail(db, rule->name);
    sqlite3_bind_int64(q, 1, id);
    step = sqlite3_step(q);
    if (step == SQLITE_ROW &&
        strcmp((const char *)sqlite3_column_text(q, 5), "firing") == 0) {
        st->firing = 1;
        st->started_at = sqlite3_column_int64(q, 0);
        st->observed = (long)sqlite3_column_int64(q, 1);
        st->expected = sqlite3_column_double(q, 2);
        st->score = sqlite3_column_double(q, 3);
        st->peak = (long)sqlite3_column_int64(q, 4);
        st->buckets = from > st->started_at
                          ? (size_t)((from - st->started_at) / s->bucket)
                          : 1;
    }
    sqlite3_finalize(q);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0
                                                     : db_fail(db, rule->name);
}

/* Queues one delivery per notify channel of @rule for @event of alert @id;
 * adds the rows queued to *queued. */
static int queue_deliveries(sqlite3 *db, const struct es_alert_rule *rule,
                            int64_t id, const char *event, int64_t now,
                            size_t *queued)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (rule->nnotify == 0)
        return 0;
    if (sqlite3_prepare_v2(db, DELIVERY_QUEUE, -1, &st, NULL) != SQLITE_OK)
        return db_fail(db, rule->name);
    for (size_t i = 0; i < rule->nnotify; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, rule->notify[i], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, event, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, now);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = db_fail(db, rule->name);
            break;
        }
        *queued += (size_t)sqlite3_changes(db);
    }
    sqlite3_finalize(st);
    return rc;
}

/* Opens an alerts row for the decision @dc; sets *id. */
static int alert_insert(sqlite3 *db, const struct es_alert_rule *rule,
                        const struct es_decision *dc, int64_t now, int64_t *id)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(db, ALERT_INSERT, -1, &st, NULL) != SQLITE_OK)
        return db_fail(db, rule->name);
    sqlite3_bind_text(st, 1, rule->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, rule->p.bucket);
    sqlite3_bind_int64(st, 3, dc->at);
    sqlite3_bind_int64(st, 4, dc->observed);
    sqlite3_bind_double(st, 5, dc->e.expected);
    sqlite3_bind_double(st, 6, dc->score);
    sqlite3_bind_int64(st, 7, dc->observed);
    sqlite3_bind_int64(st, 8, now);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(db, rule->name);
    else
        *id = sqlite3_last_insert_rowid(db);
    sqlite3_finalize(st);
    return rc;
}

/* Rewrites alert @id: its peak, its explanation over [started_at, @until),
 * and its end (@ended_at, or ES_TIME_UNKNOWN while firing). */
static int alert_update(sqlite3 *db, const struct es_alert_rule *rule,
                        const struct series *s, int64_t id,
                        const struct es_detector_state *st, int64_t until,
                        int64_t ended_at, int64_t now)
{
    struct es_buf ex = ES_BUF_INIT;
    sqlite3_stmt *q = NULL;
    struct es_alerts__spike sp;
    struct es_expectation e;
    int rc;

    memset(&sp, 0, sizeof(sp));
    sp.started_at = st->started_at;
    sp.until = until;
    sp.ended_at = ended_at;
    sp.buckets = st->buckets;
    sp.observed = st->observed;
    sp.expected = st->expected;
    sp.score = st->score;
    sp.peak = st->peak;
    if (st->started_at >= s->start) {
        es_detector_expect(s->d, series_index(s, st->started_at), &e);
        sp.level = es_baseline_level_name(e.level);
    }
    sp.base_rows = series_all(s, st->started_at - 7 * DAY, st->started_at);
    rc = es_alerts__explain(db, rule, &sp, &ex);
    if (rc < 0)
        goto done;
    if (sqlite3_prepare_v2(db, ALERT_UPDATE, -1, &q, NULL) != SQLITE_OK) {
        rc = db_fail(db, rule->name);
        goto done;
    }
    sqlite3_bind_int64(q, 1, id);
    sqlite3_bind_int64(q, 2, st->peak);
    sqlite3_bind_text(q, 3, ex.ptr, (int)ex.len, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, now);
    bind_time(q, 5, ended_at);
    if (sqlite3_step(q) != SQLITE_DONE)
        rc = db_fail(db, rule->name);
done:
    sqlite3_finalize(q);
    es_buf_release(&ex);
    return rc;
}

static int rule_put(sqlite3 *db, const char *rule, int64_t evaluated_until,
                    int64_t open_alert, int64_t cooldown_until)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(db, RULE_PUT, -1, &st, NULL) != SQLITE_OK)
        return db_fail(db, rule);
    sqlite3_bind_text(st, 1, rule, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, evaluated_until);
    if (open_alert)
        sqlite3_bind_int64(st, 3, open_alert);
    else
        sqlite3_bind_null(st, 3);
    bind_time(st, 4, cooldown_until);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(db, rule);
    sqlite3_finalize(st);
    return rc;
}

/* The events of one pass, told to the caller after the commit. */
struct events {
    struct es_alert_event *v;
    size_t n;
};

static struct es_alert_event *
event_add(struct events *ev, enum es_alert_event_kind kind, const char *rule)
{
    ev->v = es_xrealloc(ev->v, (ev->n + 1) * sizeof(*ev->v));
    struct es_alert_event *e = &ev->v[ev->n++];
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    e->rule = rule;
    e->ended_at = ES_TIME_UNKNOWN;
    return e;
}

/* Steps the buckets [@from, @until) of @rule inside the open transaction,
 * writing what happens; fills @ev. */
static int evaluate(sqlite3 *db, const struct es_alert_rule *rule,
                    const struct rule_row *row, int64_t from, int64_t until,
                    int64_t now, struct events *ev)
{
    struct series s;
    struct es_detector_state st;
    int64_t open_id = 0, cooldown;
    int dirty = 0, rc;
    int64_t b = rule->p.bucket;
    int64_t start = from - es_detector_history(&rule->p);
    start -= ((start % b) + b) % b; /* down to a bucket */

    rc = series_load(db, rule, start, until, &s);
    if (rc < 0)
        return rc;
    if ((rc = mark_alerts(db, rule, &s, from)) < 0)
        goto done;
    memset(&st, 0, sizeof(st));
    st.cooldown_until = row->cooldown_until;
    if ((rc = restore_open(db, rule, &s, row->open_alert, from, &st)) < 0)
        goto done;
    if (st.firing)
        open_id = row->open_alert;
    /* Replay the history silently, from an empty state, before the real
     * state takes over: the spikes it finds there stay out of the
     * baseline, as they would in a backtest, including those from before
     * the rule existed (the store has no alerts for them). */
    for (size_t i = 0; i < series_index(&s, from); i++) {
        struct es_decision quiet;
        es_detector_step(s.d, i, &quiet);
    }
    es_detector_restore(s.d, &st);

    for (size_t i = series_index(&s, from); i < s.n; i++) {
        struct es_decision dc;
        es_detector_step(s.d, i, &dc);
        const struct es_detector_state *now_st = es_detector_state(s.d);
        struct es_alert_event *e;
        switch (dc.event) {
        case ES_DETECT_FIRE:
            if ((rc = alert_insert(db, rule, &dc, now, &open_id)) < 0)
                goto done;
            e = event_add(ev, ES_ALERT_FIRED, rule->name);
            e->alert_id = open_id;
            e->started_at = dc.at;
            e->observed = dc.observed;
            e->expected = dc.e.expected;
            e->score = dc.score;
            e->peak = dc.observed;
            rc = queue_deliveries(db, rule, open_id, "fire", now, &e->queued);
            if (rc < 0)
                goto done;
            dirty = 1;
            break;
        case ES_DETECT_CONTINUE:
            dirty = 1;
            break;
        case ES_DETECT_RESOLVE: {
            /* The state before this bucket describes the alert. */
            struct es_detector_state closed = *now_st;
            closed.firing = 1;
            rc =
                alert_update(db, rule, &s, open_id, &closed, dc.at, dc.at, now);
            if (rc < 0)
                goto done;
            e = event_add(ev, ES_ALERT_RESOLVED, rule->name);
            e->alert_id = open_id;
            e->started_at = closed.started_at;
            e->ended_at = dc.at;
            e->observed = closed.observed;
            e->expected = closed.expected;
            e->score = closed.score;
            e->peak = closed.peak;
            rc =
                queue_deliveries(db, rule, open_id, "resolve", now, &e->queued);
            if (rc < 0)
                goto done;
            open_id = 0;
            dirty = 0;
            break;
        }
        default:
            break;
        }
    }
    const struct es_detector_state *end = es_detector_state(s.d);
    if (end->firing && dirty) {
        rc = alert_update(db, rule, &s, open_id, end, until, ES_TIME_UNKNOWN,
                          now);
        if (rc < 0)
            goto done;
    }
    cooldown = end->cooldown_until;
    rc = rule_put(db, rule->name, until, end->firing ? open_id : 0, cooldown);
done:
    series_release(&s);
    return rc;
}

int es_alerts_check_rule(struct es_inbox *ib, const struct es_alert_rule *rule,
                         int64_t now, es_alert_event_cb cb, void *payload)
{
    sqlite3 *db = es_inbox__db(ib);
    struct events ev = { NULL, 0 };
    struct rule_row row;
    int64_t b = rule->p.bucket, until, from;
    int rc;

    if (!rule->enabled)
        return 0;
    until = es_alert_closed_until(b, now);
    /* A cheap look first: most passes find no newly closed bucket and take
     * no write lock. */
    if ((rc = rule_get(db, rule->name, &row)) < 0)
        return rc;
    if (row.evaluated_until != ES_TIME_UNKNOWN && row.evaluated_until >= until)
        return 0;
    if ((rc = es_inbox_begin(ib)) < 0)
        return rc;
    /* Again under the lock: another process may have gone first. */
    if ((rc = rule_get(db, rule->name, &row)) < 0)
        goto done;
    if (row.evaluated_until == ES_TIME_UNKNOWN) {
        from = until - b; /* a new rule: the last closed bucket */
    } else {
        from = row.evaluated_until;
        /* A bucket setting that changed may leave it between buckets. */
        from += (b - ((from % b) + b) % b) % b;
    }
    if (from < until - CATCH_UP)
        from = until - CATCH_UP;
    if (from >= until)
        goto done;
    rc = evaluate(db, rule, &row, from, until, now, &ev);
done:
    if (rc == 0)
        rc = es_inbox_commit(ib);
    if (rc < 0) {
        es_inbox_rollback(ib);
        ev.n = 0; /* nothing happened */
    }
    for (size_t i = 0; cb && i < ev.n; i++)
        cb(&ev.v[i], payload);
    free(ev.v);
    return rc;
}

int es_alerts_check(struct es_inbox *ib, const struct es_config *cfg,
                    int64_t now, es_alert_event_cb cb, void *payload)
{
    size_t n = es_config_section_count(cfg, "alert");
    int first = 0;
    for (size_t i = 0; i < n; i++) {
        const struct es_config_source *sec =
            es_config_section_at(cfg, "alert", i);
        struct es_alert_rule *rule = NULL;
        int rc = es_alert_rule_parse(&rule, cfg, sec);
        if (rc == 0)
            rc = es_alerts_check_rule(ib, rule, now, cb, payload);
        if (rc < 0) {
            if (!first)
                first = rc;
            if (cb) {
                struct es_alert_event e;
                memset(&e, 0, sizeof(e));
                e.kind = ES_ALERT_FAILED;
                e.rule = sec->name;
                e.started_at = e.ended_at = ES_TIME_UNKNOWN;
                e.error = es_error_last();
                cb(&e, payload);
            }
        }
        es_alert_rule_free(rule);
    }
    return first;
}

/* ==== Backtests ==== */

int es_alerts_backtest(struct es_inbox *ib, const struct es_alert_rule *rule,
                       int64_t since, int64_t until, es_alert_span_cb cb,
                       void *payload)
{
    sqlite3 *db = es_inbox__db(ib);
    sqlite3_stmt *st = NULL;
    struct series s;
    struct es_alert_span span;
    int64_t b = rule->p.bucket, first;
    int rc = 0, step;

    memset(&s, 0, sizeof(s));
    if (sqlite3_prepare_v2(db,
                           "SELECT MIN(" ES_ALERTS__TIME ") FROM mentions m",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(db, rule->name);
    step = sqlite3_step(st);
    if (step != SQLITE_ROW) {
        rc = db_fail(db, rule->name);
        sqlite3_finalize(st);
        return rc;
    }
    first = column_time(st, 0);
    sqlite3_finalize(st);
    if (first == ES_TIME_UNKNOWN)
        return 0; /* no mentions, no alerts */
    first -= ((first % b) + b) % b;
    until -= ((until % b) + b) % b;
    if (since == ES_TIME_UNKNOWN || since < first)
        since = first;
    if (until <= since)
        return 0;
    if ((rc = series_load(db, rule, first, until, &s)) < 0)
        return rc;

    memset(&span, 0, sizeof(span));
    for (size_t i = 0; i < s.n && rc == 0; i++) {
        struct es_decision dc;
        es_detector_step(s.d, i, &dc);
        const struct es_detector_state *now_st = es_detector_state(s.d);
        switch (dc.event) {
        case ES_DETECT_FIRE:
            memset(&span, 0, sizeof(span));
            span.started_at = dc.at;
            span.ended_at = ES_TIME_UNKNOWN;
            span.observed = dc.observed;
            span.expected = dc.e.expected;
            span.score = dc.score;
            span.level = es_baseline_level_name(dc.e.level);
            break;
        case ES_DETECT_RESOLVE:
            span.ended_at = dc.at;
            if (span.started_at >= since && cb)
                rc = cb(&span, payload);
            break;
        default:
            break;
        }
        if (now_st->firing) {
            span.peak = now_st->peak;
            span.buckets = now_st->buckets;
        }
    }
    /* An alert still firing at the end of the replay. */
    if (rc == 0 && es_detector_state(s.d)->firing && span.started_at >= since &&
        cb)
        rc = cb(&span, payload);
    series_release(&s);
    return rc;
}

/* ==== Reading alerts ==== */

#define ALERT_COLUMNS                                                          \
    "id, rule, bucket, started_at, ended_at, state, observed, expected,"       \
    " score, peak, explanation, created_at, updated_at"

static char *column_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *v = sqlite3_column_text(st, col);
    return v ? es_xstrdup((const char *)v) : NULL;
}

static void read_alert(sqlite3_stmt *st, struct es_alert *a)
{
    memset(a, 0, sizeof(*a));
    a->id = sqlite3_column_int64(st, 0);
    a->rule = column_dup(st, 1);
    a->bucket = sqlite3_column_int64(st, 2);
    a->started_at = sqlite3_column_int64(st, 3);
    a->ended_at = column_time(st, 4);
    const unsigned char *state = sqlite3_column_text(st, 5);
    a->firing = state && strcmp((const char *)state, "firing") == 0;
    a->observed = (long)sqlite3_column_int64(st, 6);
    a->expected = sqlite3_column_double(st, 7);
    a->score = sqlite3_column_double(st, 8);
    a->peak = (long)sqlite3_column_int64(st, 9);
    a->explanation = column_dup(st, 10);
    a->created_at = sqlite3_column_int64(st, 11);
    a->updated_at = sqlite3_column_int64(st, 12);
}

void es_alert_release(struct es_alert *a)
{
    if (!a)
        return;
    free(a->rule);
    free(a->explanation);
    memset(a, 0, sizeof(*a));
}

int es_alerts_list(struct es_inbox *ib, const char *rule, int limit,
                   es_alert_cb cb, void *payload)
{
    static const char sql[] = "SELECT " ALERT_COLUMNS " FROM alerts WHERE"
                              " (?1 IS NULL OR rule = ?1) ORDER BY"
                              " started_at DESC, id DESC LIMIT ?2";
    sqlite3 *db = es_inbox__db(ib);
    sqlite3_stmt *st = NULL;
    int rc = 0, step;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return es_error_set(ES_EDB, "cannot list alerts: %s",
                            sqlite3_errmsg(db));
    if (rule)
        sqlite3_bind_text(st, 1, rule, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, limit > 0 ? limit : -1);
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        struct es_alert a;
        read_alert(st, &a);
        rc = cb ? cb(&a, payload) : 0;
        es_alert_release(&a);
        if (rc)
            break;
    }
    if (!rc && step != SQLITE_DONE)
        rc = es_error_set(ES_EDB, "cannot list alerts: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

int es_alert_get(struct es_inbox *ib, int64_t id, struct es_alert *out)
{
    static const char sql[] =
        "SELECT " ALERT_COLUMNS " FROM alerts WHERE id = ?1";
    sqlite3 *db = es_inbox__db(ib);
    sqlite3_stmt *st = NULL;
    int rc, step;
    memset(out, 0, sizeof(*out));
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return es_error_set(ES_EDB, "cannot read alert %lld: %s", (long long)id,
                            sqlite3_errmsg(db));
    sqlite3_bind_int64(st, 1, id);
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        read_alert(st, out);
        rc = 0;
    } else if (step == SQLITE_DONE) {
        rc = es_error_set(ES_ENOTFOUND, "no alert %lld", (long long)id);
    } else {
        rc = es_error_set(ES_EDB, "cannot read alert %lld: %s", (long long)id,
                          sqlite3_errmsg(db));
    }
    sqlite3_finalize(st);
    return rc;
}
