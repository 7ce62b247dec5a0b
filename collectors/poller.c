/* poller.c - fetch every due source at once, parse each as it lands
 *
 * The poller is the glue between the source kinds and the HTTP client: it
 * asks each source what to fetch, hands the whole batch to
 * es_http_get_many(), and parses each body in the calling thread as soon
 * as its transfer completes, while the other transfers keep going in the
 * kernel's buffers. Each source's outcome (items, validators, error) goes
 * to the caller's callback in one piece; one source failing is just one
 * result with a negative status.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/source.h"
#include "http.h"

struct es_poller {
    struct es_http *http; /* lives as long as the poller: keeps connections */
};

/* One es_poller_run() call. */
struct run {
    es_poll_cb cb;
    void *payload;
};

/* Items a parse emitted, copied out of the parser's scratch space. */
struct collected {
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
static int report_early(const struct es_poll_job *job, int status,
                        const struct run *run)
{
    char *msg = es_xstrdup(es_error_last()); /* cb may set another error */
    struct es_poll_result res = {
        .src = job->src,
        .status = status,
        .error = msg,
        .retry_after = -1,
    };
    int ret = run->cb(&res, run->payload);
    free(msg);
    return ret;
}

/* es_http_get_many's callback: parses one body and reports the job. */
static int on_done(const struct es_http_request *req,
                   struct es_http_response *hres, void *payload)
{
    const struct es_poll_job *const *jobp = req->payload;
    const struct es_poll_job *job = *jobp;
    struct es_source *src = job->src;
    struct run *run = payload;
    struct collected items = { 0 };
    char *msg = NULL;
    struct es_poll_result res = {
        .src = src,
        .status = hres->status,
        .error = hres->error,
        .http_code = hres->http_code,
        .retry_after = hres->retry_after,
    };

    if (hres->status == 0) {
        items.fetched_at = (int64_t)time(NULL);
        es_error_clear();
        int rc = src->ops->parse(src, hres->body.ptr, hres->body.len,
                                 hres->content_type, collect, &items);
        if (rc != 0) {
            msg = es_xstrdup(es_error_last());
            res.error = msg;
        }
        if (rc == ES_EPARSE && items.n > 0) {
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
    }
    /* Validators of an error page would only cause a wrong 304 later. */
    if (res.status == 0 || res.status == ES_EUNCHANGED) {
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
    free(msg);
    return ret;
}

int es_poller_run(struct es_poller *p, const struct es_poll_job *jobs,
                  size_t njobs, es_poll_cb cb, void *payload)
{
    struct run run = { .cb = cb, .payload = payload };
    struct es_source_request *sreqs = NULL;
    struct es_http_request *reqs = NULL;
    const struct es_poll_job **jobp = NULL; /* reqs[i].payload points here */
    size_t nreqs = 0;
    int ret = 0;

    sreqs = es_xcalloc(njobs ? njobs : 1, sizeof(*sreqs));
    reqs = es_xcalloc(njobs ? njobs : 1, sizeof(*reqs));
    jobp = es_xcalloc(njobs ? njobs : 1, sizeof(*jobp));

    for (size_t i = 0; i < njobs; i++) {
        struct es_source *src = jobs[i].src;
        struct es_source_request *sr = &sreqs[nreqs];

        memset(sr, 0, sizeof(*sr));
        es_error_clear();
        int rc = src->ops->request(src, sr);
        if (rc == 0 && (!sr->url || !*sr->url))
            rc = es_error_set(ES_EINVALID, "source '%s': no URL to fetch",
                              src->name);
        if (rc != 0) {
            ret = report_early(&jobs[i], rc < 0 ? rc : ES_ERROR, &run);
            if (ret)
                goto done;
            continue;
        }
        reqs[nreqs].url = sr->url;
        reqs[nreqs].headers = sr->headers;
        reqs[nreqs].etag = jobs[i].etag;
        reqs[nreqs].last_modified = jobs[i].last_modified;
        jobp[nreqs] = &jobs[i];
        reqs[nreqs].payload = &jobp[nreqs];
        nreqs++;
    }

    ret = es_http_get_many(p->http, reqs, nreqs, on_done, &run);

done:
    free(jobp);
    free(reqs);
    free(sreqs);
    return ret;
}
