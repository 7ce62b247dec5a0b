/* metrics.h - response times, resolution times, workload, backlog, SLAs
 *
 * What a social team is measured on, computed from the inbox alone: how
 * long customers wait for a first public answer, how long until their
 * conversation is resolved, who sent how many replies, what is waiting
 * now, and which conversations missed the targets of [sla]. The unit is
 * the conversation (es_conversation_of: the platform's thread, or one
 * mention that stands alone). docs/metrics.md defines every clock; in
 * short:
 *
 * - A mention arrives at its created_at when that is known and earlier
 *   than first_seen (the customer waited from the moment they posted),
 *   else at first_seen. Mentions in state spam or ignored do not count:
 *   an agent decided they need no answer.
 * - A conversation starts at the arrival of its first counted mention.
 *   The window [since, until) selects conversations by that start, and
 *   every figure except the backlog describes those conversations.
 * - The first response is the earlier of conversations.first_response_at
 *   and the sent_at of the first reply sent publicly in the conversation.
 *   Resolution is conversations.resolved_at.
 * - The backlog is the inbox now: every mention in state new, open or
 *   pending, whatever its age (states have no history to go back to).
 *
 * Medians and 90th percentiles use linear interpolation between the two
 * nearest ranks (numpy's default, Excel's PERCENTILE.INC): the median of
 * an even count is the mean of the middle two. Reads only; not
 * thread-safe beyond what es_inbox is.
 */
#ifndef EARSHOT_METRICS_H
#define EARSHOT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "earshot/buf.h"
#include "earshot/config.h"
#include "earshot/inbox.h"

/* ==== Targets ==== */

/* The [sla] section, in seconds. */
struct es_sla {
    long first_response;               /* every conversation; default 4h */
    long negative_first_response;      /* a negative mention; default 30m */
    int high_priority;                 /* priority at or above it ... */
    long high_priority_first_response; /* ... is answered within this, 30m */
    long resolution;                   /* first mention to resolved, 24h */
};

/* Sets *out to the documented defaults. */
void es_sla_default(struct es_sla *out);

/* Reads [sla] of @cfg into *out: the defaults for every key it does not
 * set (and for a NULL @cfg). ES_EINVALID naming the key for a value that
 * is not a duration (the config loader checks them, so only a config built
 * some other way can fail). */
int es_sla_from_config(const struct es_config *cfg, struct es_sla *out);

/* Parses a duration as the config writes one: digits with an optional s,
 * m or h suffix ("90", "90s", "15m", "4h"). Returns 0, or ES_EINVALID. */
int es_metrics_parse_duration(const char *s, long *out);

/* Parses a point in time for --since/--until: an ISO 8601 (or any
 * es_time_parse) date, "now", or an age before @now: digits with an s, m,
 * h, d or w suffix ("7d", "24h", "30m"). Returns 0, or ES_EINVALID with a
 * message naming @s. */
int es_metrics_parse_time(const char *s, int64_t now, int64_t *out);

/* ==== Computing ==== */

enum es_metrics_by {
    ES_METRICS_BY_NONE = 0,
    ES_METRICS_BY_AGENT,  /* who answered first; unanswered: the assignee */
    ES_METRICS_BY_SOURCE, /* the source of the first mention */
    ES_METRICS_BY_DAY,    /* the UTC day the conversation started */
};

/* "none", "agent", "source", "day". */
const char *es_metrics_by_name(enum es_metrics_by by);
/* Returns 0 and sets *out ("agent", "source", "day"), or ES_EINVALID. */
int es_metrics_by_parse(const char *name, enum es_metrics_by *out);

struct es_metrics_query {
    int64_t since; /* conversations started at or after; ES_TIME_UNKNOWN:
                      no bound */
    int64_t until; /* ... and before; ES_TIME_UNKNOWN: no bound */
    enum es_metrics_by by; /* how to group; NONE: only the total */
    int64_t now;           /* the clock of open breaches and ages;
                              ES_TIME_UNKNOWN: es_time_now() */
    struct es_sla sla;     /* the targets */
};

/* A distribution of durations in seconds. */
struct es_metrics_stat {
    long n;        /* how many */
    double median; /* 0 when n is 0 */
    double p90;
    double mean;
    double max;
};

/* Figures for the conversations of one group (or of all of them). */
struct es_metrics_group {
    char *name;                            /* agent, source, YYYY-MM-DD;
                                              "all" for the total; an
                                              unanswered, unassigned
                                              conversation's agent is
                                              "(none)" */
    long conversations;                    /* started in the window */
    long responded;                        /* with a first response */
    long resolved;                         /* with a resolved_at */
    long open;                             /* a mention new, open, pending */
    struct es_metrics_stat first_response; /* start to first response */
    struct es_metrics_stat resolution;     /* start to resolved_at */
    long replies;  /* replies sent in these conversations (by the
                      agent, for ES_METRICS_BY_AGENT) */
    long breaches; /* entries of es_metrics.breaches */
};

/* Sent replies of one agent in the window's conversations. */
struct es_metrics_agent {
    char *agent;
    long replies;         /* sent, public and private */
    long public_replies;  /* visibility public */
    long first_responses; /* conversations it answered first */
};

/* Backlog cells: mention states by priority band. */
enum { ES_METRICS_NSTATES = 3 }; /* new, open, pending */
enum { ES_METRICS_NBANDS = 4 };  /* 0-39, 40-69, 70-100, unscored */

/* "new", "open", "pending" for 0..2; NULL past the end. */
const char *es_metrics_state_name(int state);
/* "0-39", "40-69", "70-100", "unscored" for 0..3; NULL past the end. */
const char *es_metrics_band_name(int band);

/* A target missed, or being missed now. */
struct es_metrics_breach {
    char *conversation; /* the key */
    int64_t mention_id; /* the mention whose target it was */
    char *source;       /* that mention's source */
    const char *target; /* static: "first_response",
                           "negative_first_response",
                           "high_priority_first_response", "resolution" */
    long target_s;      /* the target, seconds */
    int64_t arrived;    /* the mention's arrival (resolution: the start) */
    int64_t stopped;    /* first response or resolution; ES_TIME_UNKNOWN
                           while open */
    long waited;        /* stopped (or now, while open) - arrived */
    long over;          /* waited - target_s, > 0 */
    long age;           /* now - arrived */
    int open;           /* 1: no response (or resolution) yet */
};

struct es_metrics {
    int64_t since, until, now; /* as used (now resolved) */
    enum es_metrics_by by;
    struct es_sla sla;
    struct es_metrics_group total;   /* every conversation; name "all" */
    struct es_metrics_group *groups; /* by name (days in order) */
    size_t ngroups;
    struct es_metrics_agent *agents; /* most replies first, then name */
    size_t nagents;
    long backlog[ES_METRICS_NSTATES][ES_METRICS_NBANDS];
    struct es_metrics_breach *breaches; /* furthest over target first */
    size_t nbreaches;
    long open_breaches; /* of which open */
};

/* Computes the metrics of @q into *out; release it with
 * es_metrics_release() (also after a failure). Returns 0, or ES_EDB. */
int es_metrics_compute(struct es_inbox *ib, const struct es_metrics_query *q,
                       struct es_metrics *out);
void es_metrics_release(struct es_metrics *m);

/* ==== Output for scripts ==== */

/* Appends @m as one JSON object (docs/metrics.md has the shape): times
 * ISO 8601, durations in seconds (null for a distribution of none). */
void es_metrics_json(const struct es_metrics *m, struct es_buf *out);

/* Appends the group table as CSV (RFC 4180, a header line first): one row
 * per group, then the total with by = "all"; durations in seconds, empty
 * when there were none. */
void es_metrics_csv(const struct es_metrics *m, struct es_buf *out);

#endif
