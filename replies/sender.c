/* sender.c - delivers the outbox, each reply exactly once
 *
 * One pass: take the sender lock, read the replies that are due, and for
 * each one commit 'sending' before its request goes out, then record what
 * came back. The order is the whole point: a crash between the request
 * and the commit of its outcome leaves the reply in 'sending', and the
 * next pass knows its request may have reached the platform. Where the
 * platform honours the reply's idempotency key (the ops table says so),
 * the next pass simply sends it again with the same key; elsewhere the
 * reply becomes 'unknown' and an agent decides (es_outbox_resolve()).
 * Failures that certainly left nothing behind (429, 503, no connection)
 * are retried with backoff; refusals are 'failed' with the platform's own
 * words. Credentials are read from the config at send time, used, and
 * wiped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/item.h"
#include "earshot/outbox.h"
#include "earshot/source.h"
#include "reply.h"

/* After this many attempts a reply that keeps meeting 429s and 5xx is
 * 'failed' (an agent can resend it). */
#define MAX_ATTEMPTS 10
/* The first retry waits this long, then twice as long each time (capped
 * at 6 hours by es_schedule_next). */
#define RETRY_BASE_S 60
/* On a platform that keeps a key for a while (Mastodon: an hour), a reply
 * that may have been posted is tried again at most this many times in
 * all, each within a twelfth of that while of the one before. */
#define MAX_KEYED_MAYBE 6

struct pass {
    struct es_inbox *ib;
    const struct es_config *cfg;
    struct es_http *http;
    es_send_cb cb;
    void *payload;
    struct es_send_stats stats;
};

/* The hint every 'unknown' reply carries. */
static void add_resolve_hint(struct es_buf *b, const struct es_reply *r,
                             const char *where)
{
    es_buf_addf(b,
                "; it may have been posted: look%s%s, then run `earshot "
                "outbox resolve %lld --sent` (it is there), `--resend` or "
                "`--cancel`",
                where ? " at " : "", where ? where : "", (long long)r->id);
}

/* Records outcome @state of reply @r with @error (or the sent ids of
 * @job) and reports it. Returns 0 or the database's error. */
static int finish(struct pass *p, const struct es_reply *r,
                  enum es_reply_state state, const char *error,
                  const struct es_reply_job *job, int64_t next)
{
    int rc;
    switch (state) {
    case ES_REPLY_SENT:
        rc = es_outbox_mark_sent(p->ib, r->id, job->platform_id, job->url);
        p->stats.sent++;
        break;
    case ES_REPLY_QUEUED:
        rc = es_outbox_mark_retry(p->ib, r->id, next, error);
        p->stats.retrying++;
        break;
    case ES_REPLY_UNKNOWN:
        rc = es_outbox_mark_unknown(p->ib, r->id, error);
        p->stats.unknown++;
        break;
    default:
        rc = es_outbox_mark_failed(p->ib, r->id, error);
        p->stats.failed++;
        break;
    }
    if (rc < 0)
        return rc;
    if (p->cb) {
        struct es_send_report rep = {
            .reply_id = r->id,
            .account = r->account,
            .platform = r->platform,
            .state = state,
            .platform_id = state == ES_REPLY_SENT ? job->platform_id : NULL,
            .url = state == ES_REPLY_SENT ? job->url : NULL,
            .error = error,
            .next_attempt = state == ES_REPLY_QUEUED ? next : ES_TIME_UNKNOWN,
        };
        p->cb(&rep, p->payload);
    }
    return 0;
}

/* Finds what reply @r needs to go out: its mention, its platform's ops,
 * its account. Returns 0, or -1 with the problem in @why (ES_EDB is
 * returned as such). */
static int prepare(struct pass *p, const struct es_reply *r,
                   struct es_mention *m, const struct es_reply_ops **ops,
                   struct es_reply_job *job, struct es_buf *why)
{
    int rc = es_inbox_get(p->ib, r->mention_id, m);
    if (rc == ES_EDB)
        return rc;
    if (rc < 0) {
        es_buf_addf(why, "mention %lld is gone", (long long)r->mention_id);
        return -1;
    }
    const char *platform = m->item.platform ? m->item.platform : "rss";
    *ops = es_reply__find(platform);
    if (!*ops) {
        es_buf_addf(why, "earshot cannot reply on platform '%s'", platform);
        return -1;
    }
    if (es_outbox_account(p->cfg, r->account, platform, &job->account) < 0) {
        es_buf_adds(why, es_error_last());
        return -1;
    }
    job->source = m->item.source && p->cfg
                      ? es_config_source_find(p->cfg, m->item.source)
                      : NULL;
    if (es_outbox_account_check(job->account, job->source) < 0) {
        es_buf_adds(why, es_error_last());
        return -1;
    }
    return 0;
}

/* Sends reply @id if it is still due. Returns 0 or ES_EDB. */
static int send_one(struct pass *p, int64_t id)
{
    struct es_reply r;
    struct es_mention m;
    struct es_reply_job job;
    struct es_buf why = ES_BUF_INIT;
    const struct es_reply_ops *ops = NULL;
    int rc;

    memset(&m, 0, sizeof(m));
    memset(&job, 0, sizeof(job));
    es_buf_init(&job.error);
    job.retry_after = -1;
    if ((rc = es_outbox_get(p->ib, id, &r)) < 0)
        return rc == ES_ENOTFOUND ? 0 : rc;
    if (r.state != ES_REPLY_QUEUED && r.state != ES_REPLY_SENDING)
        goto done; /* an agent acted on it since the list was read */
    int leftover = r.state == ES_REPLY_SENDING;
    es_buf_addf(&why, "%s (%s): ", r.account, r.platform ? r.platform : "?");
    size_t prefix = why.len;

    rc = prepare(p, &r, &m, &ops, &job, &why);
    if (rc == ES_EDB)
        goto done;
    if (rc < 0) {
        if (leftover) {
            add_resolve_hint(&why, &r, r.mention_url);
            rc = finish(p, &r, ES_REPLY_UNKNOWN, why.ptr, &job, 0);
        } else {
            rc = finish(p, &r, ES_REPLY_FAILED, why.ptr, &job, 0);
        }
        goto done;
    }
    unsigned keyed = ops->flags & (r.private_message ? ES_REPLY_KEYED_PRIVATE
                                                     : ES_REPLY_KEYED_PUBLIC);
    /* A key the platform may have forgotten protects nothing: half its
     * lifetime leaves room for the request that follows. */
    int stale_key = leftover && keyed && ops->key_ttl_s > 0 &&
                    (r.next_attempt == ES_TIME_UNKNOWN ||
                     es_time_now() - r.next_attempt > ops->key_ttl_s / 2);
    if (leftover && (!keyed || stale_key)) {
        es_buf_addf(&why,
                    "the sender stopped while this reply was in flight "
                    "(attempt %d), and %s %s",
                    r.attempts, ops->name,
                    keyed ? "has forgotten its idempotency key since"
                          : "takes no idempotency key");
        add_resolve_hint(&why, &r, r.mention_url);
        rc = finish(p, &r, ES_REPLY_UNKNOWN, why.ptr, &job, 0);
        goto done;
    }

    /* The commit that makes a crash visible: from here on, the request
     * may be out. */
    if ((rc = es_outbox_mark_sending(p->ib, id)) < 0) {
        if (rc == ES_EEXISTS)
            rc = 0;
        goto done;
    }
    job.http = p->http;
    job.cfg = p->cfg;
    job.reply = &r;
    job.mention = &m;
    job.retry = r.attempts > 0;
    job.outcome = ES_REPLY_REFUSED;
    ops->send(&job);

    int attempts = r.attempts + 1;
    enum es_reply_outcome out = job.outcome;
    int maybe_retry = 0;
    /* The key makes a repeat harmless, while the platform keeps it: each
     * repeat then comes soon after the attempt that may have posted, and
     * a reply that keeps failing that way goes to an agent. */
    if (out == ES_REPLY_MAYBE && keyed &&
        (ops->key_ttl_s == 0 || attempts < MAX_KEYED_MAYBE)) {
        out = ES_REPLY_RETRY;
        maybe_retry = ops->key_ttl_s > 0;
    }
    es_buf_truncate(&why, prefix);
    es_buf_adds(&why, job.error.len ? job.error.ptr : "no reason given");
    switch (out) {
    case ES_REPLY_POSTED:
        rc = finish(p, &r, ES_REPLY_SENT, NULL, &job, 0);
        break;
    case ES_REPLY_RETRY:
        if (attempts >= MAX_ATTEMPTS) {
            es_buf_addf(&why, " (gave up after %d attempts)", attempts);
            rc = finish(p, &r, ES_REPLY_FAILED, why.ptr, &job, 0);
        } else {
            /* A per-reply jitter spreads a burst of retries apart. */
            double rnd = (double)((uint64_t)id * 2654435761u % 1000) / 1000.0;
            int64_t now = es_time_now();
            int64_t next = es_schedule_next(now, RETRY_BASE_S, attempts,
                                            job.retry_after, rnd);
            if (maybe_retry && next > now + ops->key_ttl_s / 12)
                next = now + ops->key_ttl_s / 12;
            rc = finish(p, &r, ES_REPLY_QUEUED, why.ptr, &job, next);
        }
        break;
    case ES_REPLY_MAYBE:
        add_resolve_hint(&why, &r, r.mention_url);
        rc = finish(p, &r, ES_REPLY_UNKNOWN, why.ptr, &job, 0);
        break;
    default:
        rc = finish(p, &r, ES_REPLY_FAILED, why.ptr, &job, 0);
        break;
    }
done:
    es_reply_release(&r);
    es_mention_release(&m);
    free(job.platform_id);
    free(job.url);
    es_buf_release(&job.error);
    es_buf_release(&why);
    return rc;
}

int es_replies_send_due(struct es_inbox *ib, const struct es_config *cfg,
                        es_send_cb cb, void *payload,
                        struct es_send_stats *stats)
{
    struct es_outbox_lock *lock = NULL;
    struct pass p = { .ib = ib, .cfg = cfg, .cb = cb, .payload = payload };
    int64_t *ids = NULL;
    size_t n = 0;
    int rc;

    if (stats)
        memset(stats, 0, sizeof(*stats));
    if ((rc = es_outbox_lock(ib, &lock)) < 0)
        return rc;
    if ((rc = es_outbox_due(ib, es_time_now(), &ids, &n)) < 0 || n == 0)
        goto done;
    p.http = es_http_new(cfg ? es_config_http(cfg) : NULL);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = send_one(&p, ids[i]);
done:
    es_http_free(p.http);
    free(ids);
    es_outbox_unlock(lock);
    if (stats)
        *stats = p.stats;
    return rc;
}
