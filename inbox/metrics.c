/* metrics.c - response and resolution times, workload, backlog, SLA breaches
 *
 * Everything here reads: four queries (the mentions of the window's
 * conversations, the conversations rows, the sent replies, the backlog
 * counts), then the figures are put together in C, because a percentile
 * and "the tightest target among the mentions answered by the first reply"
 * are not things SQL says well. The clocks are defined in
 * include/earshot/metrics.h and docs/metrics.md. A metrics run happens at
 * the pace of a person asking, so a full scan of the mentions is fine;
 * nothing here holds a write lock.
 */
#include "earshot/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/item.h"
#include "sql.h"
#include "store.h"

/* ==== Targets and times ==== */

void es_sla_default(struct es_sla *out)
{
    out->first_response = 4 * 3600;
    out->negative_first_response = 30 * 60;
    out->high_priority = 70;
    out->high_priority_first_response = 30 * 60;
    out->resolution = 24 * 3600;
}

/* Reads digits followed by an optional suffix from @units (multipliers in
 * @mult). Returns 0, or -1 for anything else (signs, spaces, overflow). */
static int parse_amount(const char *s, const char *units, const long *mult,
                        int need_unit, long *out)
{
    long n = 0;
    const char *p = s;
    if (!s || *p < '0' || *p > '9')
        return -1;
    int big = 0; /* well formed but over a century: -2 */
    for (; *p >= '0' && *p <= '9'; p++) {
        if (n > (100L * 365 * 24 * 3600) / 10)
            big = 1;
        else
            n = n * 10 + (*p - '0');
    }
    long m = 1;
    if (*p) {
        const char *u = strchr(units, *p);
        if (!u || p[1] != '\0')
            return -1;
        m = mult[u - units];
    } else if (need_unit) {
        return -1;
    }
    if (big || n > (100L * 365 * 24 * 3600) / m)
        return -2;
    *out = n * m;
    return 0;
}

int es_metrics_parse_duration(const char *s, long *out)
{
    static const long mult[] = { 1, 60, 3600 };
    if (parse_amount(s, "smh", mult, 0, out) < 0)
        return es_error_set(ES_EINVALID,
                            "bad duration '%s' (seconds, or a number with s, "
                            "m or h)",
                            s ? s : "");
    return 0;
}

int es_sla_from_config(const struct es_config *cfg, struct es_sla *out)
{
    es_sla_default(out);
    if (!cfg || es_config_section_count(cfg, "sla") == 0)
        return 0;
    const struct {
        const char *key;
        long *field;
    } durations[] = {
        { "first_response", &out->first_response },
        { "negative_first_response", &out->negative_first_response },
        { "high_priority_first_response", &out->high_priority_first_response },
        { "resolution", &out->resolution },
    };
    const struct es_config_source *sec = es_config_section_at(cfg, "sla", 0);
    for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
        const char *v = es_config_source_get(sec, durations[i].key);
        long secs;
        if (!v)
            continue;
        if (es_metrics_parse_duration(v, &secs) < 0 || secs <= 0)
            return es_error_set(ES_EINVALID,
                                "[sla] %s: bad duration '%s' (seconds, or a "
                                "number with s, m or h)",
                                durations[i].key, v);
        *durations[i].field = secs;
    }
    const char *hp = es_config_source_get(sec, "high_priority");
    if (hp) {
        long n;
        static const long one[] = { 1 };
        if (parse_amount(hp, "", one, 0, &n) < 0 || n > 100)
            return es_error_set(ES_EINVALID,
                                "[sla] high_priority: bad priority '%s' "
                                "(0 to 100)",
                                hp);
        out->high_priority = (int)n;
    }
    return 0;
}

int es_metrics_parse_time(const char *s, int64_t now, int64_t *out)
{
    static const long mult[] = { 1, 60, 3600, 24 * 3600, 7 * 24 * 3600 };
    long ago;
    if (!s || !*s)
        return es_error_set(ES_EINVALID, "empty time: give a date such as "
                                         "2026-05-01 or an age such as 7d");
    if (strcmp(s, "now") == 0) {
        *out = now;
        return 0;
    }
    int rc = parse_amount(s, "smhdw", mult, 1, &ago);
    if (rc == 0) {
        *out = now - ago;
        return 0;
    }
    if (rc == -2)
        return es_error_set(ES_EINVALID,
                            "time '%s' is more than a century ago: earshot "
                            "keeps no mention that old",
                            s);
    /* A bare number would read as a year to es_time_parse: refuse it
     * rather than guess between seconds ago and 1970. */
    const char *p = s;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p != '\0' && es_time_parse(s, out) == 0)
        return 0;
    return es_error_set(ES_EINVALID,
                        "bad time '%s': give an ISO 8601 date (2026-05-01, "
                        "2026-05-01T09:00:00Z), now, or an age such as 90m, "
                        "24h, 7d, 2w",
                        s);
}

static const char *const by_names[] = { "none", "agent", "source", "day" };

const char *es_metrics_by_name(enum es_metrics_by by)
{
    return by >= ES_METRICS_BY_NONE && by <= ES_METRICS_BY_DAY ? by_names[by]
                                                               : "none";
}

int es_metrics_by_parse(const char *name, enum es_metrics_by *out)
{
    for (int i = ES_METRICS_BY_AGENT; name && i <= ES_METRICS_BY_DAY; i++)
        if (strcmp(name, by_names[i]) == 0) {
            *out = (enum es_metrics_by)i;
            return 0;
        }
    return es_error_set(ES_EINVALID,
                        "cannot group by '%s' (agent, source or day)",
                        name ? name : "");
}

static const char *const state_names[ES_METRICS_NSTATES] = { "new", "open",
                                                             "pending" };
static const char *const band_names[ES_METRICS_NBANDS] = { "0-39", "40-69",
                                                           "70-100",
                                                           "unscored" };

const char *es_metrics_state_name(int state)
{
    return state >= 0 && state < ES_METRICS_NSTATES ? state_names[state] : NULL;
}

const char *es_metrics_band_name(int band)
{
    return band >= 0 && band < ES_METRICS_NBANDS ? band_names[band] : NULL;
}

/* ==== Working state ==== */

struct ment {
    int64_t id;
    int64_t arrived;
    int negative; /* label negative */
    int priority; /* -1: unscored */
    char *assignee;
    char *source;
};

struct conv {
    char *key;
    size_t first, n;       /* its mentions, in arrival order */
    int64_t start;         /* arrival of the first */
    int open;              /* a mention new, open or pending */
    int64_t response_at;   /* conversations.first_response_at */
    int64_t first_reply;   /* sent_at of the first public reply sent */
    const char *responder; /* its agent (borrowed from the agents) */
    int64_t resolved_at;   /* conversations.resolved_at */
    long replies;          /* sent, public and private */
    struct acc *group;     /* NULL when not grouped */
};

struct dvec {
    double *v;
    size_t n, cap;
};

/* A group's figures while they are being summed. */
struct acc {
    char *name;
    long conversations, responded, resolved, open, replies, breaches;
    struct dvec fr, res;
};

struct agent_acc {
    char *name;
    long replies, public_replies, first_responses;
};

struct work {
    struct ment *m;
    size_t nm, capm;
    struct conv *c;
    size_t nc, capc;
    struct acc **groups;
    size_t ngroups, capgroups;
    struct agent_acc *agents;
    size_t nagents, capagents;
    struct es_metrics_breach *b;
    size_t nb, capb;
};

static void dvec_push(struct dvec *d, double x)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->v = es_xrealloc(d->v, d->cap * sizeof(*d->v));
    }
    d->v[d->n++] = x;
}

/* Grows *@arr (of @size-byte elements) to hold one more than *@n. */
static void *grow(void *arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return arr;
    *cap = *cap ? *cap * 2 : 16;
    return es_xrealloc(arr, *cap * size);
}

/* qsort(), but for an empty array too: qsort's base must not be NULL
 * even when there is nothing to sort. */
static void sort(void *base, size_t n, size_t size,
                 int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(base, n, size, cmp);
}

/* es_sql_fail(), but the figures' messages begin "metrics:". */
static int db_fail(struct es_inbox *ib, const char *what)
{
    return es_error_set(ES_EDB, "metrics: %s: %s", what,
                        sqlite3_errmsg(es_inbox__db(ib)));
}

static struct acc *acc_find(struct work *w, const char *name)
{
    for (size_t i = 0; i < w->ngroups; i++)
        if (strcmp(w->groups[i]->name, name) == 0)
            return w->groups[i];
    w->groups = grow(w->groups, &w->capgroups, w->ngroups, sizeof(*w->groups));
    struct acc *a = es_xcalloc(1, sizeof(*a));
    a->name = es_xstrdup(name);
    w->groups[w->ngroups++] = a;
    return a;
}

static void acc_free(struct acc *a)
{
    if (!a)
        return;
    free(a->name);
    free(a->fr.v);
    free(a->res.v);
    free(a);
}

static struct agent_acc *agent_find(struct work *w, const char *name)
{
    for (size_t i = 0; i < w->nagents; i++)
        if (strcmp(w->agents[i].name, name) == 0)
            return &w->agents[i];
    w->agents = grow(w->agents, &w->capagents, w->nagents, sizeof(*w->agents));
    struct agent_acc *a = &w->agents[w->nagents++];
    memset(a, 0, sizeof(*a));
    a->name = es_xstrdup(name);
    return a;
}

static int conv_cmp(const void *a, const void *b)
{
    return strcmp(((const struct conv *)a)->key, ((const struct conv *)b)->key);
}

static struct conv *conv_find(struct work *w, const char *key)
{
    struct conv k = { .key = (char *)(uintptr_t)key };
    if (!key || w->nc == 0) /* bsearch's base must not be NULL */
        return NULL;
    return bsearch(&k, w->c, w->nc, sizeof(*w->c), conv_cmp);
}

static void work_release(struct work *w)
{
    for (size_t i = 0; i < w->nm; i++) {
        free(w->m[i].assignee);
        free(w->m[i].source);
    }
    free(w->m);
    for (size_t i = 0; i < w->nc; i++)
        free(w->c[i].key);
    free(w->c);
    for (size_t i = 0; i < w->ngroups; i++)
        acc_free(w->groups[i]);
    free(w->groups);
    for (size_t i = 0; i < w->nagents; i++)
        free(w->agents[i].name);
    free(w->agents);
    for (size_t i = 0; i < w->nb; i++) {
        free(w->b[i].conversation);
        free(w->b[i].source);
    }
    free(w->b);
}

/* ==== Reading the inbox ==== */

/* A mention arrives at created_at when that is known and earlier than
 * first_seen, else at first_seen. Spam and ignored mentions need no
 * answer, so they neither start a clock nor keep a conversation open.
 * The window applies to the start of the whole conversation, which is
 * why every mention is read, not only those inside the window. */
static const char SQL_MENTIONS[] =
    "WITH m AS (SELECT id, COALESCE(conversation, 'm:' || id) AS conv,"
    "   CASE WHEN created_at IS NOT NULL AND created_at < first_seen"
    "   THEN created_at ELSE first_seen END AS arrived,"
    "   state, label, priority, assignee, source_id FROM mentions"
    "   WHERE state <> 'spam' AND state <> 'ignored'),"
    " c AS (SELECT conv FROM m GROUP BY conv"
    "   HAVING MIN(arrived) >= ?1 AND MIN(arrived) < ?2)"
    " SELECT m.conv, m.id, m.arrived, m.state, m.label, m.priority,"
    "   m.assignee, s.name"
    " FROM m JOIN c ON c.conv = m.conv JOIN sources s ON s.id = m.source_id"
    " ORDER BY m.conv, m.arrived, m.id";

static const char SQL_CONVERSATIONS[] =
    "SELECT key, first_response_at, resolved_at FROM conversations"
    " WHERE first_response_at IS NOT NULL OR resolved_at IS NOT NULL";

/* Sent replies, earliest first, so the first public one of a
 * conversation is the first met. */
static const char SQL_REPLIES[] =
    "SELECT COALESCE(m.conversation, 'm:' || m.id), r.agent, r.visibility,"
    "   r.sent_at FROM replies r JOIN mentions m ON m.id = r.mention_id"
    " WHERE r.state = 'sent'"
    " ORDER BY r.sent_at IS NULL, r.sent_at, r.id";

static const char SQL_BACKLOG[] =
    "SELECT state, CASE WHEN priority IS NULL THEN 3 WHEN priority < 40"
    "   THEN 0 WHEN priority < 70 THEN 1 ELSE 2 END, COUNT(*)"
    " FROM mentions WHERE state = 'new' OR state = 'open'"
    "   OR state = 'pending' GROUP BY 1, 2";

static int read_mentions(struct es_inbox *ib, struct work *w, int64_t since,
                         int64_t until)
{
    sqlite3_stmt *stmt = NULL;
    int rc = 0, step;
    if (sqlite3_prepare_v2(es_inbox__db(ib), SQL_MENTIONS, -1, &stmt, NULL) !=
        SQLITE_OK)
        return db_fail(ib, "cannot read the mentions");
    sqlite3_bind_int64(stmt, 1, since == ES_TIME_UNKNOWN ? INT64_MIN : since);
    sqlite3_bind_int64(stmt, 2, until == ES_TIME_UNKNOWN ? INT64_MAX : until);
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(stmt, 0);
        if (!key)
            continue;
        struct conv *c = w->nc ? &w->c[w->nc - 1] : NULL;
        if (!c || strcmp(c->key, key) != 0) {
            w->c = grow(w->c, &w->capc, w->nc, sizeof(*w->c));
            c = &w->c[w->nc++];
            memset(c, 0, sizeof(*c));
            c->key = es_xstrdup(key);
            c->first = w->nm;
            c->start = sqlite3_column_int64(stmt, 2);
            c->response_at = c->first_reply = c->resolved_at = ES_TIME_UNKNOWN;
        }
        w->m = grow(w->m, &w->capm, w->nm, sizeof(*w->m));
        struct ment *m = &w->m[w->nm++];
        c->n++;
        m->id = sqlite3_column_int64(stmt, 1);
        m->arrived = sqlite3_column_int64(stmt, 2);
        const char *state = (const char *)sqlite3_column_text(stmt, 3);
        for (int s = 0; state && s < ES_METRICS_NSTATES; s++)
            c->open |= strcmp(state, state_names[s]) == 0;
        const char *label = (const char *)sqlite3_column_text(stmt, 4);
        m->negative = label && strcmp(label, "negative") == 0;
        m->priority = sqlite3_column_type(stmt, 5) == SQLITE_NULL
                          ? -1
                          : sqlite3_column_int(stmt, 5);
        m->assignee = es_sql_dup_col(stmt, 6);
        m->source = es_sql_dup_col(stmt, 7);
    }
    if (step != SQLITE_DONE)
        rc = db_fail(ib, "cannot read the mentions");
    sqlite3_finalize(stmt);
    /* SQLite's BINARY order is memcmp's, which is strcmp's for these
     * strings; sorting again costs little and keeps bsearch honest. */
    sort(w->c, w->nc, sizeof(*w->c), conv_cmp);
    return rc;
}

static int read_conversations(struct es_inbox *ib, struct work *w)
{
    sqlite3_stmt *stmt = NULL;
    int rc = 0, step;
    if (sqlite3_prepare_v2(es_inbox__db(ib), SQL_CONVERSATIONS, -1, &stmt,
                           NULL) != SQLITE_OK)
        return db_fail(ib, "cannot read the conversations");
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct conv *c =
            conv_find(w, (const char *)sqlite3_column_text(stmt, 0));
        if (!c)
            continue;
        c->response_at = es_sql_time_col(stmt, 1);
        c->resolved_at = es_sql_time_col(stmt, 2);
    }
    if (step != SQLITE_DONE)
        rc = db_fail(ib, "cannot read the conversations");
    sqlite3_finalize(stmt);
    return rc;
}

static int read_replies(struct es_inbox *ib, struct work *w,
                        enum es_metrics_by by)
{
    sqlite3_stmt *stmt = NULL;
    int rc = 0, step;
    if (sqlite3_prepare_v2(es_inbox__db(ib), SQL_REPLIES, -1, &stmt, NULL) !=
        SQLITE_OK)
        return db_fail(ib, "cannot read the replies");
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct conv *c =
            conv_find(w, (const char *)sqlite3_column_text(stmt, 0));
        const char *agent = (const char *)sqlite3_column_text(stmt, 1);
        const char *vis = (const char *)sqlite3_column_text(stmt, 2);
        int64_t sent_at = es_sql_time_col(stmt, 3);
        if (!c || !agent)
            continue;
        int public = vis && strcmp(vis, "public") == 0;
        struct agent_acc *a = agent_find(w, agent);
        a->replies++;
        a->public_replies += public;
        c->replies++;
        if (by == ES_METRICS_BY_AGENT)
            acc_find(w, agent)->replies++;
        if (public && sent_at != ES_TIME_UNKNOWN &&
            c->first_reply == ES_TIME_UNKNOWN) {
            c->first_reply = sent_at;
            c->responder = a->name;
            a->first_responses++;
        }
    }
    if (step != SQLITE_DONE)
        rc = db_fail(ib, "cannot read the replies");
    sqlite3_finalize(stmt);
    return rc;
}

static int read_backlog(struct es_inbox *ib, struct es_metrics *out)
{
    sqlite3_stmt *stmt = NULL;
    int rc = 0, step;
    if (sqlite3_prepare_v2(es_inbox__db(ib), SQL_BACKLOG, -1, &stmt, NULL) !=
        SQLITE_OK)
        return db_fail(ib, "cannot count the backlog");
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        const char *state = (const char *)sqlite3_column_text(stmt, 0);
        int band = sqlite3_column_int(stmt, 1);
        for (int s = 0; state && s < ES_METRICS_NSTATES; s++)
            if (strcmp(state, state_names[s]) == 0 && band >= 0 &&
                band < ES_METRICS_NBANDS)
                out->backlog[s][band] = sqlite3_column_int64(stmt, 2);
    }
    if (step != SQLITE_DONE)
        rc = db_fail(ib, "cannot count the backlog");
    sqlite3_finalize(stmt);
    return rc;
}

/* ==== Putting the figures together ==== */

/* The first-response target of mention @m and its name: the tightest that
 * applies; on a tie the more specific one names it. */
static long target_of(const struct es_sla *sla, const struct ment *m,
                      const char **name)
{
    long t = sla->first_response;
    *name = "first_response";
    if (m->negative && sla->negative_first_response <= t) {
        t = sla->negative_first_response;
        *name = "negative_first_response";
    }
    if (m->priority >= 0 && m->priority >= sla->high_priority &&
        sla->high_priority_first_response < t) {
        t = sla->high_priority_first_response;
        *name = "high_priority_first_response";
    }
    return t;
}

static void add_breach(struct work *w, const struct conv *c,
                       const struct ment *m, const char *target, long target_s,
                       int64_t arrived, int64_t stopped, int64_t now)
{
    w->b = grow(w->b, &w->capb, w->nb, sizeof(*w->b));
    struct es_metrics_breach *b = &w->b[w->nb++];
    b->conversation = es_xstrdup(c->key);
    b->mention_id = m->id;
    b->source = es_xstrdup(m->source ? m->source : "");
    b->target = target;
    b->target_s = target_s;
    b->arrived = arrived;
    b->stopped = stopped;
    b->open = stopped == ES_TIME_UNKNOWN;
    b->waited = (long)((b->open ? now : stopped) - arrived);
    b->over = b->waited - target_s;
    b->age = (long)(now - arrived);
}

/* Flags the targets conversation @c missed; returns how many. The first
 * reply answers every mention that had arrived by then, so the deadline
 * is the earliest arrival + target among those (all of them while there
 * is no reply); a mention that came after the first reply is a follow-up
 * and starts no clock of its own. */
static long check_sla(struct work *w, const struct conv *c, int64_t response,
                      const struct es_sla *sla, int64_t now)
{
    size_t before = w->nb;
    const struct ment *due_m = &w->m[c->first];
    const char *due_name = NULL;
    long due_t = 0;
    int64_t due = INT64_MAX;
    for (size_t i = c->first; i < c->first + c->n; i++) {
        const struct ment *m = &w->m[i];
        if (i > c->first && response != ES_TIME_UNKNOWN &&
            m->arrived > response)
            break;
        const char *name;
        long t = target_of(sla, m, &name);
        if (m->arrived + t < due) {
            due = m->arrived + t;
            due_m = m;
            due_name = name;
            due_t = t;
        }
    }
    int waiting = c->open && c->resolved_at == ES_TIME_UNKNOWN;
    if (response != ES_TIME_UNKNOWN ? response > due : waiting && now > due)
        add_breach(w, c, due_m, due_name, due_t, due_m->arrived, response, now);
    due = c->start + sla->resolution;
    if (c->resolved_at != ES_TIME_UNKNOWN ? c->resolved_at > due
                                          : waiting && now > due)
        add_breach(w, c, &w->m[c->first], "resolution", sla->resolution,
                   c->start, c->resolved_at, now);
    return (long)(w->nb - before);
}

/* The name of @c's group. Borrowed from @c or @buf. */
static const char *group_name(const struct work *w, const struct conv *c,
                              enum es_metrics_by by, char buf[static 21])
{
    switch (by) {
    case ES_METRICS_BY_AGENT:
        if (c->responder)
            return c->responder;
        for (size_t i = c->first; i < c->first + c->n; i++)
            if (w->m[i].assignee)
                return w->m[i].assignee;
        return "(none)";
    case ES_METRICS_BY_SOURCE:
        return w->m[c->first].source ? w->m[c->first].source : "(none)";
    case ES_METRICS_BY_DAY:
        es_time_format(c->start, buf);
        buf[10] = '\0';
        return buf;
    case ES_METRICS_BY_NONE:
        break;
    }
    return NULL;
}

static void acc_conv(struct acc *a, const struct conv *c, int64_t response,
                     long breaches, int count_replies)
{
    a->conversations++;
    a->open += c->open;
    a->breaches += breaches;
    if (count_replies)
        a->replies += c->replies;
    if (response != ES_TIME_UNKNOWN) {
        a->responded++;
        dvec_push(&a->fr,
                  response > c->start ? (double)(response - c->start) : 0.0);
    }
    if (c->resolved_at != ES_TIME_UNKNOWN) {
        a->resolved++;
        dvec_push(&a->res, c->resolved_at > c->start
                               ? (double)(c->resolved_at - c->start)
                               : 0.0);
    }
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The @pct-th percentile of the @n sorted values, interpolated linearly
 * between the nearest ranks; the rank is found in integers so that whole
 * seconds give exact results. */
static double percentile(const double *v, size_t n, unsigned pct)
{
    size_t lo = (n - 1) * pct / 100, rem = (n - 1) * pct % 100;
    if (rem == 0 || lo + 1 >= n)
        return v[lo];
    return v[lo] + (v[lo + 1] - v[lo]) * (double)rem / 100.0;
}

static void stat_of(struct dvec *d, struct es_metrics_stat *out)
{
    memset(out, 0, sizeof(*out));
    out->n = (long)d->n;
    if (d->n == 0)
        return;
    sort(d->v, d->n, sizeof(*d->v), dbl_cmp);
    double sum = 0;
    for (size_t i = 0; i < d->n; i++)
        sum += d->v[i];
    out->median = percentile(d->v, d->n, 50);
    out->p90 = percentile(d->v, d->n, 90);
    out->mean = sum / (double)d->n;
    out->max = d->v[d->n - 1];
}

static void group_of(struct acc *a, struct es_metrics_group *out)
{
    out->name = es_xstrdup(a->name);
    out->conversations = a->conversations;
    out->responded = a->responded;
    out->resolved = a->resolved;
    out->open = a->open;
    out->replies = a->replies;
    out->breaches = a->breaches;
    stat_of(&a->fr, &out->first_response);
    stat_of(&a->res, &out->resolution);
}

static int acc_cmp(const void *a, const void *b)
{
    return strcmp((*(struct acc *const *)a)->name,
                  (*(struct acc *const *)b)->name);
}

static int agent_cmp(const void *a, const void *b)
{
    const struct es_metrics_agent *x = a, *y = b;
    if (x->replies != y->replies)
        return x->replies > y->replies ? -1 : 1;
    return strcmp(x->agent, y->agent);
}

static int breach_cmp(const void *a, const void *b)
{
    const struct es_metrics_breach *x = a, *y = b;
    if (x->over != y->over)
        return x->over > y->over ? -1 : 1;
    if (x->mention_id != y->mention_id)
        return x->mention_id < y->mention_id ? -1 : 1;
    return strcmp(x->target, y->target);
}

int es_metrics_compute(struct es_inbox *ib, const struct es_metrics_query *q,
                       struct es_metrics *out)
{
    struct work w = { 0 };
    struct acc total = { 0 };
    int rc;

    memset(out, 0, sizeof(*out));
    out->since = q->since;
    out->until = q->until;
    out->now = q->now == ES_TIME_UNKNOWN ? es_time_now() : q->now;
    out->by = q->by;
    out->sla = q->sla;
    if ((rc = read_mentions(ib, &w, q->since, q->until)) < 0 ||
        (rc = read_conversations(ib, &w)) < 0 ||
        (rc = read_replies(ib, &w, q->by)) < 0 ||
        (rc = read_backlog(ib, out)) < 0)
        goto done;

    for (size_t i = 0; i < w.nc; i++) {
        struct conv *c = &w.c[i];
        int64_t response = c->response_at;
        if (c->first_reply != ES_TIME_UNKNOWN &&
            (response == ES_TIME_UNKNOWN || c->first_reply < response))
            response = c->first_reply;
        long breaches = check_sla(&w, c, response, &q->sla, out->now);
        acc_conv(&total, c, response, breaches, 1);
        char day[21];
        const char *name = group_name(&w, c, q->by, day);
        if (name)
            acc_conv(acc_find(&w, name), c, response, breaches,
                     q->by != ES_METRICS_BY_AGENT);
    }

    total.name = es_xstrdup("all");
    group_of(&total, &out->total);
    sort(w.groups, w.ngroups, sizeof(*w.groups), acc_cmp);
    out->groups = es_xcalloc(w.ngroups ? w.ngroups : 1, sizeof(*out->groups));
    for (size_t i = 0; i < w.ngroups; i++)
        group_of(w.groups[i], &out->groups[i]);
    out->ngroups = w.ngroups;

    out->agents = es_xcalloc(w.nagents ? w.nagents : 1, sizeof(*out->agents));
    for (size_t i = 0; i < w.nagents; i++) {
        out->agents[i].agent = w.agents[i].name;
        w.agents[i].name = NULL;
        out->agents[i].replies = w.agents[i].replies;
        out->agents[i].public_replies = w.agents[i].public_replies;
        out->agents[i].first_responses = w.agents[i].first_responses;
    }
    out->nagents = w.nagents;
    sort(out->agents, out->nagents, sizeof(*out->agents), agent_cmp);

    sort(w.b, w.nb, sizeof(*w.b), breach_cmp);
    out->breaches = w.b;
    out->nbreaches = w.nb;
    for (size_t i = 0; i < w.nb; i++)
        out->open_breaches += w.b[i].open;
    w.b = NULL;
    w.nb = 0;
done:
    free(total.name);
    free(total.fr.v);
    free(total.res.v);
    work_release(&w);
    return rc;
}

void es_metrics_release(struct es_metrics *m)
{
    if (!m)
        return;
    free(m->total.name);
    for (size_t i = 0; i < m->ngroups; i++)
        free(m->groups[i].name);
    free(m->groups);
    for (size_t i = 0; i < m->nagents; i++)
        free(m->agents[i].agent);
    free(m->agents);
    for (size_t i = 0; i < m->nbreaches; i++) {
        free(m->breaches[i].conversation);
        free(m->breaches[i].source);
    }
    free(m->breaches);
    memset(m, 0, sizeof(*m));
}

/* ==== JSON and CSV ==== */

/* Appends @x with at most 3 decimals and no trailing zeros. */
static void add_num(struct es_buf *out, double x)
{
    char tmp[48];
    snprintf(tmp, sizeof(tmp), "%.3f", x);
    char *dot = strchr(tmp, '.');
    if (dot) {
        char *end = tmp + strlen(tmp) - 1;
        while (end > dot && *end == '0')
            *end-- = '\0';
        if (end == dot)
            *end = '\0';
    }
    if (strcmp(tmp, "-0") == 0)
        strcpy(tmp, "0");
    es_buf_adds(out, tmp);
}

static void json_str(struct es_buf *out, const char *s)
{
    if (s)
        es_buf_add_json_str(out, s, strlen(s));
    else
        es_buf_adds(out, "null");
}

static void json_time(struct es_buf *out, int64_t t)
{
    char tmp[21];
    json_str(out, t == ES_TIME_UNKNOWN ? NULL : es_time_format(t, tmp));
}

static void json_stat(struct es_buf *out, const struct es_metrics_stat *s)
{
    es_buf_addf(out, "{\"n\":%ld,\"median_s\":", s->n);
    if (s->n == 0) {
        es_buf_adds(out, "null,\"p90_s\":null,\"mean_s\":null,\"max_s\":null}");
        return;
    }
    add_num(out, s->median);
    es_buf_adds(out, ",\"p90_s\":");
    add_num(out, s->p90);
    es_buf_adds(out, ",\"mean_s\":");
    add_num(out, s->mean);
    es_buf_adds(out, ",\"max_s\":");
    add_num(out, s->max);
    es_buf_addch(out, '}');
}

static void json_group(struct es_buf *out, const struct es_metrics_group *g)
{
    es_buf_adds(out, "{\"name\":");
    json_str(out, g->name);
    es_buf_addf(out,
                ",\"conversations\":%ld,\"responded\":%ld,\"resolved\":%ld,"
                "\"open\":%ld,\"first_response\":",
                g->conversations, g->responded, g->resolved, g->open);
    json_stat(out, &g->first_response);
    es_buf_adds(out, ",\"resolution\":");
    json_stat(out, &g->resolution);
    es_buf_addf(out, ",\"replies\":%ld,\"breaches\":%ld}", g->replies,
                g->breaches);
}

void es_metrics_json(const struct es_metrics *m, struct es_buf *out)
{
    es_buf_adds(out, "{\"since\":");
    json_time(out, m->since);
    es_buf_adds(out, ",\"until\":");
    json_time(out, m->until);
    es_buf_adds(out, ",\"now\":");
    json_time(out, m->now);
    es_buf_adds(out, ",\"by\":");
    json_str(out,
             m->by == ES_METRICS_BY_NONE ? NULL : es_metrics_by_name(m->by));
    es_buf_addf(out,
                ",\"sla\":{\"first_response_s\":%ld,"
                "\"negative_first_response_s\":%ld,\"high_priority\":%d,"
                "\"high_priority_first_response_s\":%ld,"
                "\"resolution_s\":%ld}",
                m->sla.first_response, m->sla.negative_first_response,
                m->sla.high_priority, m->sla.high_priority_first_response,
                m->sla.resolution);
    es_buf_adds(out, ",\"total\":");
    json_group(out, &m->total);
    es_buf_adds(out, ",\"groups\":[");
    for (size_t i = 0; i < m->ngroups; i++) {
        if (i)
            es_buf_addch(out, ',');
        json_group(out, &m->groups[i]);
    }
    es_buf_adds(out, "],\"agents\":[");
    for (size_t i = 0; i < m->nagents; i++) {
        const struct es_metrics_agent *a = &m->agents[i];
        es_buf_adds(out, i ? ",{\"agent\":" : "{\"agent\":");
        json_str(out, a->agent);
        es_buf_addf(out,
                    ",\"replies\":%ld,\"public\":%ld,\"private\":%ld,"
                    "\"first_responses\":%ld}",
                    a->replies, a->public_replies,
                    a->replies - a->public_replies, a->first_responses);
    }
    es_buf_adds(out, "],\"backlog\":{");
    for (int s = 0; s < ES_METRICS_NSTATES; s++) {
        long sum = 0;
        es_buf_addf(out, "%s\"%s\":{", s ? "," : "", state_names[s]);
        for (int b = 0; b < ES_METRICS_NBANDS; b++) {
            es_buf_addf(out, "\"%s\":%ld,", band_names[b], m->backlog[s][b]);
            sum += m->backlog[s][b];
        }
        es_buf_addf(out, "\"total\":%ld}", sum);
    }
    es_buf_addf(out, "},\"open_breaches\":%ld,\"breaches\":[",
                m->open_breaches);
    for (size_t i = 0; i < m->nbreaches; i++) {
        const struct es_metrics_breach *b = &m->breaches[i];
        es_buf_addf(out,
                    "%s{\"mention_id\":%lld,\"conversation\":", i ? "," : "",
                    (long long)b->mention_id);
        json_str(out, b->conversation);
        es_buf_adds(out, ",\"source\":");
        json_str(out, b->source);
        es_buf_adds(out, ",\"target\":");
        json_str(out, b->target);
        es_buf_addf(out, ",\"target_s\":%ld,\"arrived\":", b->target_s);
        json_time(out, b->arrived);
        es_buf_adds(out, ",\"stopped\":");
        json_time(out, b->stopped);
        es_buf_addf(out,
                    ",\"waited_s\":%ld,\"over_s\":%ld,\"age_s\":%ld,"
                    "\"open\":%s}",
                    b->waited, b->over, b->age, b->open ? "true" : "false");
    }
    es_buf_adds(out, "]}");
}

/* Appends @s as one CSV field, quoted when it holds a comma, a quote or a
 * line break (RFC 4180). */
static void csv_field(struct es_buf *out, const char *s)
{
    if (!strpbrk(s, ",\"\n")) {
        es_buf_adds(out, s);
        return;
    }
    es_buf_addch(out, '"');
    for (; *s; s++) {
        if (*s == '"')
            es_buf_addch(out, '"');
        es_buf_addch(out, *s);
    }
    es_buf_addch(out, '"');
}

static void csv_stat(struct es_buf *out, const struct es_metrics_stat *s)
{
    es_buf_addch(out, ',');
    if (s->n)
        add_num(out, s->median);
    es_buf_addch(out, ',');
    if (s->n)
        add_num(out, s->p90);
}

static void csv_row(struct es_buf *out, const char *by,
                    const struct es_metrics_group *g)
{
    csv_field(out, by);
    es_buf_addch(out, ',');
    csv_field(out, g->name);
    es_buf_addf(out, ",%ld,%ld,%ld,%ld", g->conversations, g->responded,
                g->resolved, g->open);
    csv_stat(out, &g->first_response);
    csv_stat(out, &g->resolution);
    es_buf_addf(out, ",%ld,%ld\n", g->replies, g->breaches);
}

void es_metrics_csv(const struct es_metrics *m, struct es_buf *out)
{
    es_buf_adds(out, "by,group,conversations,responded,resolved,open,"
                     "first_response_median_s,first_response_p90_s,"
                     "resolution_median_s,resolution_p90_s,replies,"
                     "breaches\n");
    for (size_t i = 0; i < m->ngroups; i++)
        csv_row(out, es_metrics_by_name(m->by), &m->groups[i]);
    csv_row(out, "all", &m->total);
}
