/* ticket_forward.c - delivering new tickets to an external helpdesk
 *
 * The HTTP half of the helpdesk webhook (include/earshot/tickets.h). The
 * inbox library builds each body, signs it and records every outcome, but
 * it does not link the collectors' HTTP client (the inbox never talks to
 * the network), and the collectors do not know the inbox; the earshot
 * program links both, so the request is made here. `earshot ticket
 * forward` runs one pass; `earshot send` and `serve` call
 * es_tickets_forward_due() the same way.
 *
 * Deliveries are at least once: a helpdesk that answered 2xx gets no
 * more, anything else is retried with the pollers' backoff, and a crash
 * between the request and the record sends it again after the lease.
 * X-Earshot-Delivery is the same on every try, so the helpdesk dedupes.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "collectors/http.h"
#include "earshot/error.h"
#include "earshot/item.h"
#include "earshot/source.h"
#include "earshot/tickets.h"

/* Each pass delivers at most this many, so a long backlog cannot hold
 * the serve loop for long; the rest go on the next pass. */
#define FORWARD_PER_PASS 20
/* The first retry after this long, doubling up to six hours
 * (es_schedule_next() with this interval). */
#define FORWARD_RETRY_S 60
/* A webhook answers quickly or not at all. */
#define FORWARD_TIMEOUT_MS 15000L
/* How much of a refusal's body the ticket keeps as its error. */
#define FORWARD_ERROR_BODY 200

/* A number in [0, 1) for the backoff's jitter: xorshift, seeded once. */
static double jitter(void)
{
    static uint64_t x;
    if (!x)
        x = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ull | 1;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return (double)(x >> 11) / 9007199254740992.0;
}

/* The refusal as the ticket keeps it: the client's message plus the start
 * of the helpdesk's own explanation, on one line. */
static void describe_failure(const struct es_http_response *res,
                             struct es_buf *out)
{
    es_buf_reset(out);
    es_buf_adds(out, res->error ? res->error : "no answer");
    if (res->http_code >= 400 && res->body.len) {
        struct es_buf body = ES_BUF_INIT;
        size_t n = res->body.len < FORWARD_ERROR_BODY ? res->body.len
                                                      : FORWARD_ERROR_BODY;
        es_buf_add_valid_utf8(&body, res->body.ptr, n);
        for (size_t i = 0; i < body.len; i++)
            if ((unsigned char)body.ptr[i] < 0x20)
                body.ptr[i] = ' ';
        es_buf_addf(out, ": %s", body.ptr);
        es_buf_release(&body);
    }
}

int es_tickets_forward_run(struct es_inbox *ib, const struct es_config *cfg,
                           es_ticket_forward_cb cb, void *payload,
                           int *ndelivered)
{
    struct es_helpdesk hd;
    struct es_ticket_delivery d;
    struct es_buf error = ES_BUF_INIT;
    struct es_http *http = NULL;
    int rc = 0, delivered = 0;

    if (ndelivered)
        *ndelivered = 0;
    if (!es_helpdesk_get(cfg, &hd))
        return 0;
    if (!hd.secret || !*hd.secret)
        return es_error_set(ES_EINVALID,
                            "[helpdesk] has no secret: tickets are only "
                            "forwarded signed (set secret = ${ENV_VAR})");
    if (strncasecmp(hd.webhook_url, "http://", 7) != 0 &&
        strncasecmp(hd.webhook_url, "https://", 8) != 0)
        return es_error_set(ES_EINVALID,
                            "[helpdesk] webhook_url must be http:// or "
                            "https://");

    struct es_config_http hc = *es_config_http(cfg);
    if (hc.timeout_ms <= 0 || hc.timeout_ms > FORWARD_TIMEOUT_MS)
        hc.timeout_ms = FORWARD_TIMEOUT_MS;
    hc.max_redirects = 0; /* a redirected POST would turn into a GET */
    http = es_http_new(&hc);
    es_ticket_delivery_init(&d);
    for (int pass = 0; pass < FORWARD_PER_PASS; pass++) {
        int64_t now = es_time_now();
        rc = es_tickets_forward_next(ib, now, &d);
        if (rc == ES_ENOTFOUND) {
            rc = 0;
            break;
        }
        if (rc < 0)
            break;
        char sig[ES_TICKETS_SIG_SIZE];
        char h_sig[ES_TICKETS_SIG_SIZE + 32];
        struct es_buf h_id = ES_BUF_INIT;
        struct es_http_response res;
        es_http_response_init(&res);
        if (es_tickets_sign(hd.secret, d.body.ptr, d.body.len, sig) < 0) {
            res.status = ES_ERROR;
            res.error = NULL;
            es_buf_reset(&error);
            es_buf_adds(&error, es_error_last());
        } else {
            snprintf(h_sig, sizeof(h_sig), "X-Earshot-Signature: %s", sig);
            es_buf_addf(&h_id, "X-Earshot-Delivery: %s", d.id.ptr);
            const char *headers[] = {
                "Content-Type: application/json",
                "X-Earshot-Event: ticket.created",
                h_sig,
                h_id.ptr,
                NULL,
            };
            struct es_http_request req = {
                .url = hd.webhook_url,
                .method = "POST",
                .body = d.body.ptr,
                .body_len = d.body.len,
                .headers = headers,
            };
            es_http_get(http, &req, &res);
            if (res.status < 0 || res.http_code < 200 || res.http_code > 299)
                describe_failure(&res, &error);
        }
        int ok =
            res.status == 0 && res.http_code >= 200 && res.http_code <= 299;
        int64_t next =
            ok ? ES_TIME_UNKNOWN
               : es_schedule_next(now, FORWARD_RETRY_S, d.attempts + 1,
                                  res.retry_after, jitter());
        rc = es_tickets_forward_result(ib, d.ticket_id, ok ? res.http_code : 0,
                                       ok ? NULL : error.ptr, next);
        /* A helpdesk's non-2xx code is kept in the error text above;
         * the result's code says only "accepted or not". */
        if (rc == 0 && cb) {
            struct es_ticket_forward_report r = {
                .ticket_id = d.ticket_id,
                .attempt = d.attempts + 1,
                .http_code = res.http_code,
                .error = ok ? NULL : error.ptr,
                .next = next,
            };
            cb(&r, payload);
        }
        if (rc == 0 && ok)
            delivered++;
        es_http_response_release(&res);
        es_buf_release(&h_id);
        es_ticket_delivery_release(&d);
        if (rc < 0)
            break;
    }
    es_ticket_delivery_release(&d);
    es_http_free(http);
    es_buf_release(&error);
    if (ndelivered)
        *ndelivered = delivered;
    return rc;
}

int es_tickets_forward_due(struct es_inbox *ib, const struct es_config *cfg,
                           int *ndelivered)
{
    return es_tickets_forward_run(ib, cfg, NULL, NULL, ndelivered);
}
