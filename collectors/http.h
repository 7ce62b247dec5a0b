/* http.h - the collectors' HTTP client (module-private)
 *
 * Every byte earshot fetches goes through here, and this is the only code
 * that calls curl_easy_* and curl_multi_*. One struct es_http wraps one
 * libcurl multi handle: its connection cache and DNS cache live as long as
 * the handle, so polling many feeds from one host reuses a few keep-alive
 * connections instead of opening one per feed. It applies the limits of
 * [http] (timeouts, body cap, redirects, parallelism), sends the
 * validators of the last poll, and turns whatever went wrong into one of
 * the error codes of error.h with a message that names the URL (never its
 * credentials, never a header).
 */
#ifndef EARSHOT_COLLECTORS_HTTP_H
#define EARSHOT_COLLECTORS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "earshot/buf.h"
#include "earshot/config.h"

/* Defaults for a NULL or zeroed struct es_config_http field. */
#define ES_HTTP_CONNECT_TIMEOUT_MS 10000L
#define ES_HTTP_TIMEOUT_MS         30000L
#define ES_HTTP_MAX_BODY           (16L * 1024 * 1024)
#define ES_HTTP_MAX_REDIRECTS      5L
#define ES_HTTP_MAX_PARALLEL       32L
/* The longest wait a server may ask for, seconds (Retry-After, a
 * rate-limit window's reset): beyond it, it is more likely confused than
 * sincere. */
#define ES_HTTP_WAIT_MAX (7 * 24 * 3600)

/* One request (a GET unless @method says otherwise). Every string is
 * borrowed for the duration of the call that takes the request. */
struct es_http_request {
    const char *url;            /* http://, https:// or file:// */
    const char *method;         /* NULL: GET; "POST" sends @body */
    const char *body;           /* request body, or NULL */
    size_t body_len;            /* 0: strlen(body) */
    const char *const *headers; /* extra "Name: value" lines, NULL-ended;
                                 * may be NULL */
    const char *etag;           /* sent as If-None-Match, or NULL */
    const char *last_modified;  /* sent as If-Modified-Since, or NULL */
    void *payload;              /* the caller's, handed back untouched */
};

/* One outcome. Owned by whoever holds it; es_http_response_release()
 * frees the contents. */
struct es_http_response {
    int status;         /* 0, ES_EUNCHANGED (304), or a negative error */
    char *error;        /* message when status < 0, else NULL */
    long http_code;     /* 0 when no HTTP answer came (and for file://) */
    struct es_buf body; /* the decoded body when status is 0; for an HTTP
                         * error status (>= 400) its first
                         * ES_HTTP_ERROR_BODY bytes (the platform's own
                         * explanation); empty otherwise */
    char *etag;         /* validators of the final response, or NULL */
    char *last_modified;
    char *content_type;  /* Content-Type as sent, or NULL */
    char *link;          /* Link header (pagination), or NULL */
    int64_t retry_after; /* seconds from now; -1 when not given */
    /* Rate limit from X-RateLimit-*, x-rate-limit-*, RateLimit-* headers
     * (any case): requests left in the window, -1 when not given; when
     * the window resets, Unix seconds, -1 when not given. */
    long long rate_remaining;
    int64_t rate_reset;
};

/* Seconds from now until @res's rate-limit window resets, 0 when it has,
 * at most ES_HTTP_WAIT_MAX (a reset in the year 9999 once parked a
 * source for millennia); -1 when the response named none. */
int64_t es_http_reset_wait(const struct es_http_response *res);

/* What an error response's body is cut to. */
#define ES_HTTP_ERROR_BODY 4096

void es_http_response_init(struct es_http_response *res);
/* Frees the contents and leaves @res initialised. */
void es_http_response_release(struct es_http_response *res);

struct es_http;

/* Returns a client with the limits of @cfg (copied). NULL means every
 * default above; a field <= 0 means its default, except max_redirects,
 * where 0 means "do not follow" and only a negative value the default. The
 * caller frees it with es_http_free(). Not thread-safe: one client per thread.
 */
struct es_http *es_http_new(const struct es_config_http *cfg);
void es_http_free(struct es_http *h);

/* Fetches @req and blocks until done. Fills @out (initialised here; the
 * caller releases it with es_http_response_release()) and returns
 * out->status, with the same message set through es_error_set(). @h may
 * be NULL: a client with default limits is used for this call only. */
int es_http_get(struct es_http *h, const struct es_http_request *req,
                struct es_http_response *out);

/* Called once per finished transfer, in completion order. @res belongs to
 * es_http and is released after the call; the callback may take what it
 * wants from it (es_buf_detach() on the body, or move a string out and
 * leave NULL). es_error_last() holds res->error during the call. A
 * non-zero return stops the batch. */
typedef int (*es_http_done_cb)(const struct es_http_request *req,
                               struct es_http_response *res, void *payload);

/* Fetches the @n requests concurrently, at most max_parallel at a time,
 * and calls @cb as each one finishes. Returns 0 once all are done, or the
 * first non-zero value @cb returned (the transfers still running are
 * abandoned and get no callback). */
int es_http_get_many(struct es_http *h, const struct es_http_request *reqs,
                     size_t n, es_http_done_cb cb, void *payload);

/* Writes @url into @out without its userinfo ("user:pass@"), for
 * messages; at most @size bytes with the NUL. Returns @out. */
char *es_http__redact_url(const char *url, char *out, size_t size);

#endif
