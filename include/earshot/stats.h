/* stats.h - mention volume and sentiment over time, in buckets
 *
 * The analytics marketing reads: how many mentions came in per 5 minutes,
 * hour or day, how many of them were negative, neutral, positive or not
 * scored, the net sentiment (the mean compound score of the scored ones)
 * and the share that was negative - for every mention, or per source,
 * platform, tag or language. The charts (es_stats_svg) and the scripts
 * (es_stats_json, es_stats_csv) read the same struct es_stats.
 *
 * Definitions:
 *
 * - The time of a mention is COALESCE(created_at, first_seen): when it
 *   was posted, else when the inbox first stored it (the same clock as
 *   the alert rules).
 * - Buckets are aligned to multiples of their length since the Unix
 *   epoch, which puts 5m, hour and day buckets on the UTC clock (a day
 *   runs from 00:00 UTC). The window is widened to whole buckets: the
 *   first bucket holds @since, the last one holds the second before
 *   @until, and every bucket in between is present, with zeros when
 *   nothing came in.
 * - A mention is scored when it has a sentiment (label and compound);
 *   "unscored" ones were stored before scoring existed, or without a
 *   scorer. Net sentiment and share negative describe the scored ones
 *   only, and are NAN (JSON null, empty in CSV) when there are none.
 *
 * Computing reads the mentions in one SQL pass grouped by bucket (two for
 * --by tag, whose groups overlap); there is no index on the time
 * expression, so it scans the table, which is fine at the pace of a
 * person asking. Reads only; not thread-safe beyond what es_inbox is.
 */
#ifndef EARSHOT_STATS_H
#define EARSHOT_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "earshot/buf.h"
#include "earshot/inbox.h"

/* ==== Buckets, labels, groupings ==== */

enum {
    ES_STATS_5M = 300,
    ES_STATS_HOUR = 3600,
    ES_STATS_DAY = 86400,
};

/* Parses a bucket length: "5m", "hour" (or "1h", "h"), "day" (or "1d",
 * "d"). Returns 0 and sets *out to seconds, or ES_EINVALID naming @s. */
int es_stats_bucket_parse(const char *s, long *out);
/* "5m", "hour", "day" for those lengths; NULL for any other. */
const char *es_stats_bucket_name(long bucket);

/* The start of the bucket of length @bucket (> 0) holding Unix time @t:
 * the largest multiple of @bucket that is <= @t. */
int64_t es_stats_bucket_floor(int64_t t, long bucket);

/* Sentiment labels, in the order of es_stats_cell.count. */
enum es_stats_label {
    ES_STATS_NEGATIVE = 0,
    ES_STATS_NEUTRAL,
    ES_STATS_POSITIVE,
    ES_STATS_UNSCORED,
    ES_STATS_NLABELS,
};

/* "negative", "neutral", "positive", "unscored"; NULL past the end. */
const char *es_stats_label_name(int label);

enum es_stats_by {
    ES_STATS_BY_NONE = 0,
    ES_STATS_BY_SOURCE,   /* the source's name */
    ES_STATS_BY_PLATFORM, /* mentions.platform */
    ES_STATS_BY_TAG,      /* each tag of the mention (a mention with two
                             tags counts in both groups) */
    ES_STATS_BY_LANG,     /* the primary subtag of the language, lower
                             case: "en-GB" and "en" are both "en" */
};

/* "none", "source", "platform", "tag", "lang". */
const char *es_stats_by_name(enum es_stats_by by);
/* Returns 0 and sets *out ("source", "platform", "tag", "lang", and
 * "none"), or ES_EINVALID naming @name. */
int es_stats_by_parse(const char *name, enum es_stats_by *out);

/* The name of the group of mentions with no platform, language or tag. */
#define ES_STATS_GROUP_NONE "(none)"
/* The name of the group of every mention (es_stats.total). */
#define ES_STATS_GROUP_ALL "(all)"

/* At most this many buckets in one window (5m buckets over about 347
 * days), and this many cells (buckets times groups, the total included):
 * a bound on the memory one request can take. */
#define ES_STATS_MAX_BUCKETS 100000
#define ES_STATS_MAX_CELLS   2000000

/* ==== Computing ==== */

struct es_stats_query {
    int64_t since;       /* the window starts in the bucket holding this */
    int64_t until;       /* ... and ends before this; ES_TIME_UNKNOWN: now */
    long bucket;         /* seconds; > 0 (ES_STATS_5M, _HOUR, _DAY) */
    enum es_stats_by by; /* NONE: the total only */
    int64_t now;         /* for a missing @until; ES_TIME_UNKNOWN:
                            es_time_now() */
};

/* The mentions of one bucket (or of the whole window). */
struct es_stats_cell {
    long count[ES_STATS_NLABELS]; /* by label, enum es_stats_label */
    long total;                   /* every mention: the sum of count */
    long scored;                  /* with a compound score */
    double sentiment_sum;         /* their compound scores added up */
    double net;                   /* sentiment_sum / scored; NAN: none */
    double share_negative;        /* negative / (negative + neutral +
                                     positive); NAN: none */
};

struct es_stats_group {
    char *name; /* ES_STATS_GROUP_ALL for the total; the source, platform,
                   tag or language; ES_STATS_GROUP_NONE for mentions
                   without one */
    struct es_stats_cell *cells; /* nbuckets, oldest first */
    struct es_stats_cell sum;    /* the whole window */
};

struct es_stats {
    int64_t since, until; /* the window as widened: [since, until) */
    long bucket;          /* seconds */
    size_t nbuckets;      /* (until - since) / bucket; bucket i starts at
                             since + i * bucket */
    enum es_stats_by by;
    struct es_stats_group total;   /* every mention of the window */
    struct es_stats_group *groups; /* BY_NONE: none; else most mentions
                                      first, then by name */
    size_t ngroups;
};

/* Counts the mentions of @q's window into *out; release it with
 * es_stats_release() (also after a failure). Returns 0; ES_EINVALID for a
 * window that is empty or reversed, a bucket <= 0, or a request over
 * ES_STATS_MAX_BUCKETS or ES_STATS_MAX_CELLS (the message says which);
 * ES_EDB when the store fails. */
int es_stats_compute(struct es_inbox *ib, const struct es_stats_query *q,
                     struct es_stats *out);
void es_stats_release(struct es_stats *st);

/* ==== Output ==== */

/* Appends @st as one JSON object:
 *
 *   {"since": ISO, "until": ISO, "bucket": "hour", "bucket_seconds": 3600,
 *    "by": "source" | null,
 *    "total": GROUP, "groups": [GROUP, ...]}
 *   GROUP: {"name": "...", CELL..., "buckets": [{"start": ISO, CELL...}]}
 *   CELL:  "mentions": N, "negative": N, "neutral": N, "positive": N,
 *          "unscored": N, "net_sentiment": X | null,
 *          "share_negative": X | null
 *
 * Times are ISO 8601 UTC; "bucket" is null for a length without a name;
 * "groups" is [] without a grouping; X has 4 decimals. */
void es_stats_json(const struct es_stats *st, struct es_buf *out);

/* Appends @st as CSV (RFC 4180 quoting, lines end in \n, a header line
 * first) with the columns
 *
 *   start,group,mentions,negative,neutral,positive,unscored,
 *   net_sentiment,share_negative
 *
 * one row per bucket per group: the total first (group "(all)"), then
 * each group in the order of st->groups, each oldest bucket first. start
 * is ISO 8601 UTC; net_sentiment and share_negative have 4 decimals and
 * are empty when no mention of the row is scored. */
void es_stats_csv(const struct es_stats *st, struct es_buf *out);

/* Appends a self-contained SVG document (no external resources, 960x400
 * viewBox) charting st->total: stacked columns of the mentions per bucket
 * by sentiment (stacked areas when the buckets are too many to draw as
 * columns), the net sentiment as a line on a secondary axis from -1 to 1,
 * time labels spaced to the number of buckets, a legend, and @title
 * (NULL: "Mentions by sentiment" with the window and bucket). Every text
 * is escaped; invalid UTF-8 becomes U+FFFD. The series are groups with
 * the ids "series-negative", "series-neutral", "series-positive",
 * "series-unscored" and "series-net" (for tests and style sheets). */
void es_stats_svg(const struct es_stats *st, const char *title,
                  struct es_buf *out);

#endif
