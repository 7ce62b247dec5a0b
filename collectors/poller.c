/* poller.c - fetch every due source at once, parse each as it lands
 *
 * The poller is the glue between the source kinds and the HTTP client: it
 * asks each source what to fetch, hands the whole batch to
 * es_http_get_many(), and parses each body in the calling thread as soon
 * as its transfer completes, while the other transfers keep going in the
 * kernel's buffers. Each answer's outcome (items, cursor, validators,
 * error) goes to the caller's callback in one piece; one source failing is
 * just one result with a negative status.
 *
 * API kinds need more than one request per poll (pages, a session first,
 * thread context), so a poll runs in rounds: every source's first request
 * together, then the next request of each source whose parse asked for
 * more, up to ES_POLL_MAX_STEPS. A source that has spent its rate limit
 * stops there, and its next poll waits for the window to reset.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/source.h"
#include "http.h"
#include "json.h"

struct es_poller {
    struct es_http *http; /* lives as long as the poller: keeps connections */
};

/* One job's progress through a poll. */
struct job_state {
    const struct es_poll_job *job;
    struct es_source_request sreq; /* the request in flight */
    int step;                      /* requests made so far */
    int more;                      /* request again in the next round */
};

/* One es_poller_run() call. */
struct run {
    es_poll_cb cb;
    void *payload;
};

/* Items a parse emitted, copied out of the parser's scratch space. */
struct collected {
    const struct es_source *src;
    size_t parsed; /* items the kind emitted, before the query filter */
    struct es_item **items;
    size_t n;
    size_t alloc;
    int64_t fetched_at;
};

struct es_poller *es_poller_new(const struct es_config_http *http)
{
    struct es_poller *p = es_xcalloc(1, sizeof(*p));
    p->http = es_http_new(http);
    return p;
}

void es_poller_free(struct es_poller *p)
{
    if (!p)
        return;
    es_http_free(p->http);
    free(p);
}

static int collect(const struct es_item *item, void *payload)
{
    struct collected *c = payload;

    c->parsed++;
    /* The listening query applies to every kind alike, after parsing:
     * what the platform's own search let through is narrowed here. */
    if (!es_source_matches(c->src, item))
        return 0;
    if (c->n == c->alloc) {
        c->alloc = c->alloc ? c->alloc * 2 : 16;
        c->items = es_xrealloc(c->items, c->alloc * sizeof(*c->items));
    }
    /* The parser reuses its item for the next entry: a deep copy is the
     * price of handing the whole batch over at once (packed: one
     * allocation per item). */
    struct es_item *copy = es_item_pack(item);
    copy->fetched_at = c->fetched_at;
    c->items[c->n++] = copy;
    return 0;
}

static void collected_release(struct collected *c)
{
    for (size_t i = 0; i < c->n; i++)
        es_item_free(c->items[i]);
    free(c->items);
    memset(c, 0, sizeof(*c));
}

/* Reports a job that never reached the network. */
static int report_early(const struct job_state *st, int status,
                        const struct run *run)
{
    char *msg = status == ES_EUNCHANGED ? NULL : es_xstrdup(es_error_last());
    struct es_poll_result res = {
        .src = st->job->src,
        .status = status,
        .error = msg,
        .retry_after = -1,
        .step = st->step,
    };
    int ret = run->cb(&res, run->payload);
    free(msg);
    return ret;
}

/* Seconds until the rate-limit window of @hres resets when it has no
 * request left, else -1. */
static int64_t rate_wait(const struct es_http_response *hres)
{
    return hres->rate_remaining != 0 ? -1 : es_http_reset_wait(hres);
}

/* es_http_get_many's callback: parses one body and reports the job. */
static int on_done(const struct es_http_request *req,
                   struct es_http_response *hres, void *payload)
{
    struct job_state *st = req->payload;
    struct es_source *src = st->job->src;
    struct run *run = payload;
    struct collected items = { .src = src };
    struct es_source_page page = { 0 };
    char *msg = NULL;
    struct es_source_response sres = {
        .body = hres->body.ptr ? hres->body.ptr : "",
        .len = hres->body.len,
        .content_type = hres->content_type,
        .http_code = hres->http_code,
        .link = hres->link,
    };
    struct es_poll_result res = {
        .src = src,
        .status = hres->status,
        .error = hres->error,
        .http_code = hres->http_code,
        .retry_after = hres->retry_after,
        .step = st->step - 1,
    };

    if (hres->status == 0) {
        items.fetched_at = (int64_t)time(NULL);
        es_error_clear();
        int rc = src->ops->parse(src, &sres, &page, collect, &items);
        if (rc != 0) {
            msg = es_xstrdup(es_error_last());
            res.error = msg;
        }
        if (rc == ES_EPARSE && items.parsed > 0) {
            /* Recovered: deliver what was read, with the complaint. */
            res.status = 0;
        } else if (rc < 0) {
            res.status = rc;
            collected_release(&items);
        } else if (rc > 0) {
            /* collect() never stops a parse: the kind misbehaved. */
            res.status = ES_ERROR;
            free(msg);
            msg =
                es_xasprintf("source '%s': parser returned %d", src->name, rc);
            res.error = msg;
            collected_release(&items);
        }
        /* A cursor only moves with a page that parsed. */
        if (res.status == 0) {
            res.cursor = page.cursor;
            st->more = page.more;
        }
    } else if (hres->http_code >= 400) {
        /* An expired session is the kind's to renew, not a failure. */
        if (src->ops->failed && st->step < ES_POLL_MAX_STEPS &&
            src->ops->failed(src, &sres) == 1) {
            st->more = 1;
            free(page.cursor);
            return 0;
        }
        char *why = es_json_error_text(hres->body.ptr, hres->body.len);
        if (why) {
            msg = es_xasprintf("%s: %s", hres->error ? hres->error : "", why);
            res.error = msg;
            free(why);
        }
    }
    /* Spent the window: wait for its reset rather than be refused. */
    int64_t wait = rate_wait(hres);
    if (wait >= 0) {
        st->more = 0;
        if (wait > res.retry_after)
            res.retry_after = wait;
    }
    /* Validators of an error page would only cause a wrong 304 later. */
    if (st->sreq.conditional &&
        (res.status == 0 || res.status == ES_EUNCHANGED)) {
        res.etag = hres->etag;
        res.last_modified = hres->last_modified;
    }
    res.items = items.items;
    res.nitems = items.n;

    int ret = run->cb(&res, run->payload);
    if (!res.items) {
        /* The callback took the items (see es_poll_cb). */
        items.items = NULL;
        items.n = 0;
    }
    collected_release(&items);
    free(page.cursor);
    free(msg);
    return ret;
}

/* Runs a kind's own fetch (no HTTP) and reports it like a transfer. */
static int fetch_local(struct job_state *st, struct run *run)
{
    struct es_http_response hres;
    struct es_http_request req = { .url = "", .payload = st };
    es_http_response_init(&hres);
    int rc = st->job->src->ops->fetch(st->job->src, &hres.body);
    st->step++;
    if (rc == ES_EUNCHANGED && st->step > 1) {
        es_http_response_release(&hres);
        return 0;
    }
    if (rc < 0) {
        hres.status = rc;
        hres.error = es_xstrdup(es_error_last());
        es_buf_clear(&hres.body);
    }
    int ret = on_done(&req, &hres, run);
    es_http_response_release(&hres);
    return ret;
}

int es_poller_run(struct es_poller *p, const struct es_poll_job *jobs,
                  size_t njobs, es_poll_cb cb, void *payload)
{
    struct run run = { .cb = cb, .payload = payload };
    size_t n = njobs ? njobs : 1;
    struct job_state *states = es_xcalloc(n, sizeof(*states));
    struct es_http_request *reqs = es_xcalloc(n, sizeof(*reqs));
    int ret = 0;

    for (size_t i = 0; i < njobs; i++) {
        states[i].job = &jobs[i];
        states[i].more = 1;
        if (jobs[i].src->ops->begin)
            jobs[i].src->ops->begin(jobs[i].src, jobs[i].cursor);
    }

    /* Round by round: every source's first request at once, then the
     * second pages of those that have one, and so on. */
    for (int round = 0; round < ES_POLL_MAX_STEPS; round++) {
        size_t nreqs = 0;
        int local = 0; /* a kind's own fetch ran in this round */
        for (size_t i = 0; i < njobs; i++) {
            struct job_state *st = &states[i];
            struct es_source *src = st->job->src;
            struct es_source_request *sr = &st->sreq;

            if (!st->more)
                continue;
            st->more = 0;
            memset(sr, 0, sizeof(*sr));
            es_error_clear();
            if (src->ops->fetch) {
                local = 1;
                ret = fetch_local(st, &run);
                if (ret)
                    goto done;
                continue;
            }
            int rc = src->ops->request(src, sr);
            if (rc == ES_EUNCHANGED) {
                /* Nothing to fetch: only the first round reports it. */
                if (st->step == 0 && (ret = report_early(st, rc, &run)))
                    goto done;
                continue;
            }
            if (rc == 0 && (!sr->url || !*sr->url))
                rc = es_error_set(ES_EINVALID, "source '%s': no URL to fetch",
                                  src->name);
            if (rc != 0) {
                ret = report_early(st, rc < 0 ? rc : ES_ERROR, &run);
                if (ret)
                    goto done;
                continue;
            }
            struct es_http_request *r = &reqs[nreqs++];
            memset(r, 0, sizeof(*r));
            r->url = sr->url;
            r->headers = sr->headers;
            r->method = sr->method;
            r->body = sr->body;
            r->body_len = sr->body_len;
            if (sr->conditional) {
                r->etag = st->job->etag;
                r->last_modified = st->job->last_modified;
            }
            r->payload = st;
            st->step++;
        }
        if (nreqs == 0 && !local)
            break;
        if (nreqs == 0)
            continue;
        ret = es_http_get_many(p->http, reqs, nreqs, on_done, &run);
        if (ret)
            break;
    }

done:
    free(reqs);
    free(states);
    return ret;
}
