/* engine.h - what engine.c and explain.c share (module-private)
 *
 * engine.c counts a rule's series and runs the lifecycle into the alerts
 * tables; explain.c writes the explanation of one alert from the mentions
 * of its window. Both select the rule's mentions with the same condition,
 * kept here so that a count and its explanation never disagree.
 */
#ifndef EARSHOT_ALERTS_ENGINE_H
#define EARSHOT_ALERTS_ENGINE_H

#include <stdint.h>

#include <sqlite3.h>

#include "earshot/alerts.h"
#include "earshot/buf.h"

/* The time of a mention for every series and chart. */
#define ES_ALERTS__TIME "COALESCE(m.created_at, m.first_seen)"

/* The SQL conditions selecting a rule's mentions from `mentions m`, one
 * per enum es_alert_series, with the rule's argument bound as ?5. query:
 * is matched in C (es_alerts__query_match), so its condition keeps every
 * row. Macros, so that each file builds its statements as constants. */
#define ES_ALERTS__COND_LABEL "m.label = ?5"
#define ES_ALERTS__COND_ALL   "1"
#define ES_ALERTS__COND_SOURCE                                                 \
    "m.source_id IN (SELECT id FROM sources WHERE name = ?5)"
#define ES_ALERTS__COND_PLATFORM "m.platform = ?5"
#define ES_ALERTS__COND_TAG                                                    \
    "EXISTS (SELECT 1 FROM mention_tags t WHERE t.mention_id = m.id"           \
    " AND t.tag = ?5)"
#define ES_ALERTS__COND_QUERY "1"

/* Binds the rule's argument as ?5 when @stmt has that parameter. */
void es_alerts__bind_arg(sqlite3_stmt *stmt, const struct es_alert_rule *rule);

/* 1 when a row of @rule's ES_SERIES_QUERY matches (title, text, author);
 * 1 for every other kind (the SQL condition decided). */
int es_alerts__query_match(const struct es_alert_rule *rule, const char *title,
                           const char *text, const char *author);

/* The smallest mention id that can have a time of @t or later: mentions
 * are stored in first_seen order and a mention's time is never much after
 * it was first seen, so the scan of a window starts there (the table has
 * no index on time). Binary search on the rowid: a few lookups. */
int64_t es_alerts__min_id(sqlite3 *db, int64_t t);

/* One alert to explain. */
struct es_alerts__spike {
    int64_t started_at; /* the window: [started_at, until) */
    int64_t until;
    int64_t ended_at; /* ES_TIME_UNKNOWN while firing */
    size_t buckets;
    long observed; /* first bucket */
    double expected;
    double score;
    long peak;
    const char *level; /* baseline of the first bucket, or NULL */
    long base_rows;    /* about how many mentions the 7 days before hold
                          (all series), to sample the baseline's terms */
};

/* Writes the explanation JSON of @spike (include/earshot/alerts.h) into
 * @out (appended). Returns 0, or ES_EDB with a message naming the rule. */
int es_alerts__explain(sqlite3 *db, const struct es_alert_rule *rule,
                       const struct es_alerts__spike *spike,
                       struct es_buf *out);

#endif
