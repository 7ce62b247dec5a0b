/* notify.h - telling people about alerts: Slack, webhooks, email, commands
 *
 * The alert engine (alerts.h) queues one alert_deliveries row per
 * [notify "NAME"] channel of a rule for each event ('fire' when an alert
 * opens, 'resolve' when it ends). This module delivers the rows that are
 * due, through the channel's type:
 *
 *   slack    a Slack-compatible incoming webhook (url): {"text", "blocks"}
 *   webhook  a JSON POST to url, signed with HMAC-SHA256 of the exact body
 *            under `secret` (X-Earshot-Signature: sha256=HEX); unsigned
 *            sending is refused
 *   email    SMTP through libcurl (smtp_url, from, to, username, password,
 *            starttls)
 *   command  /bin/sh -c COMMAND with the webhook's JSON on stdin; exit
 *            status 0 means delivered
 *
 * The body of webhook and command deliveries is documented in
 * docs/alerts-notify.md. Every delivery is at least once: it is retried
 * with backoff until the channel accepts it or ES_NOTIFY_MAX_ATTEMPTS
 * attempts have failed, and X-Earshot-Delivery (or "delivery" in the
 * JSON) is the same on every try so receivers can drop duplicates.
 *
 * Secrets (secret, password, the path of a Slack webhook URL, the query
 * of a webhook URL, userinfo in any URL) never appear in a message, a
 * recorded error or any output.
 */
#ifndef EARSHOT_NOTIFY_H
#define EARSHOT_NOTIFY_H

#include <stdint.h>

#include "earshot/config.h"
#include "earshot/inbox.h"

/* A delivery that failed this many times is marked 'failed' and left. */
#define ES_NOTIFY_MAX_ATTEMPTS 10
/* The first retry comes about this long after a failure, then the wait
 * doubles up to six hours (es_schedule_next(), +-10% jitter): ten attempts
 * span about eleven hours. */
#define ES_NOTIFY_RETRY_S 60
/* One attempt may take this long unless the channel sets `timeout`. */
#define ES_NOTIFY_TIMEOUT_S 30
/* A pass takes at most this many due deliveries per channel (the rest
 * wait for the next pass), so a backlog cannot hold the serve loop. */
#define ES_NOTIFY_PER_CHANNEL 20

/* What one attempt came to, for progress output. Every pointer is
 * borrowed for the duration of the callback. */
struct es_notify_report {
    long long delivery_id; /* alert_deliveries.id; 0 for a test message */
    long long alert_id;
    const char *notify; /* the [notify] name */
    const char *type;   /* its type, or NULL when the section is missing */
    const char *event;  /* "fire", "resolve" or "test" */
    int attempt;        /* 1 for the first try */
    const char *state;  /* "delivered", "pending" (will retry), "failed" */
    const char *error;  /* why it failed (secrets removed), or NULL */
    int64_t next;       /* next try, Unix seconds, when pending */
};

typedef void (*es_notify_cb)(const struct es_notify_report *r, void *payload);

/* Delivers the due alert_deliveries rows of @ib (state 'pending' and
 * next_attempt <= now; a 'resolve' waits while the 'fire' of the same
 * alert and channel is pending) through the channels of @cfg, and
 * records each outcome: attempts, last_error, delivered_at, the next try
 * or 'failed'. Each channel gets its own thread and each attempt is bound
 * by the channel's timeout, so a slow or failing channel never holds up
 * the others; after a failure, a channel's other rows wait for the next
 * pass (and its backoff) instead of failing one by one. A [notify] name
 * that the config does not have, or a channel missing a key, is a
 * recorded error like any other (retried: the config may be fixed). A
 * refusal that retrying cannot fix (an HTTP 4xx other than 408/425/429,
 * an SMTP 55x) marks the row 'failed' at once.
 *
 * The rows taken are leased (next_attempt moved past the pass) so that a
 * second earshot process does not send them too. Sets *ndelivered (may be
 * NULL) to the number delivered. Returns 0 even when deliveries failed
 * (they are recorded); ES_EDB when the database fails. Call
 * curl_global_init() first. Not thread-safe on the same @ib. */
int es_notify_deliver_due(struct es_inbox *ib, const struct es_config *cfg,
                          int *ndelivered);

/* es_notify_deliver_due() as of @now (Unix seconds), calling @cb (may be
 * NULL) once per attempt, after it is recorded. */
int es_notify_deliver_run(struct es_inbox *ib, const struct es_config *cfg,
                          int64_t now, es_notify_cb cb, void *payload,
                          int *ndelivered);

/* Sends a made-up alert ("test" event, rule "earshot-test", alert id 0)
 * through the [notify] channel @name, once, to check a config. Nothing is
 * recorded. Returns 0 when the channel accepted it; ES_ENOTFOUND for an
 * unknown name; ES_EINVALID for a channel missing a key; ES_ENETWORK,
 * ES_EAUTH or ES_ERROR when sending failed, with a message naming the
 * channel and never a secret. Calls @cb (may be NULL) with the outcome. */
int es_notify_test(const struct es_config *cfg, const char *name,
                   es_notify_cb cb, void *payload);

#endif
