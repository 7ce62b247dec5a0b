/* http.c - GET over libcurl's multi interface, with earshot's limits
 *
 * A poll cycle fetches hundreds of feeds, often many from one host, so the
 * client is built on one long-lived multi handle: its connection cache
 * keeps HTTP/1.1 connections alive between transfers and between cycles,
 * and a small pool of easy handles is reused (curl_easy_reset keeps their
 * caches). At most max_parallel transfers run at once, and at most
 * MAX_PER_HOST of them against one host, so a long list of feeds on one
 * server neither opens dozens of sockets to it nor waits in libcurl's
 * pending queue, where the transfer timeout would already be ticking.
 * A batch opens them a few at a time (START_PER_HOST), one more for
 * each answer, as TCP's slow start does.
 *
 * Everything a transfer can go wrong with ends up here as one error code
 * and one message naming the URL (without its userinfo): curl errors, HTTP
 * status codes, a body over max_body, a 304. Request and response headers
 * are never printed, since they may carry tokens.
 */
#include "http.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/item.h"

#ifndef ES_VERSION
#define ES_VERSION "0.0.0"
#endif

#define USER_AGENT "earshot/" ES_VERSION " (+https://github.com/earshot)"

/* Transfers in flight against one host. Enough to keep a server busy
 * without looking like an attack on it, and few enough for a small
 * server's listen queue: Python's http.server listens with a backlog of
 * 5, which holds 6 connections not yet accepted. A server that closes
 * every connection (HTTP/1.0) makes each transfer a new one; the 7th and
 * 8th SYNs of a burst were dropped, and the kernel sends a dropped SYN
 * again only after a second, which held up a whole 1,000-feed pass (1.13
 * s against 0.61-0.73 s with 6). */
#define MAX_PER_HOST 6

/* Transfers a batch starts against a host before any of them has come
 * back; each one that comes back allows one more, up to MAX_PER_HOST, as
 * TCP's slow start does: a host is not sent a burst of connections
 * before it has answered one. */
#define START_PER_HOST 2

struct hostq;

/* One slot of the pool: an easy handle and the state of its transfer. */
struct transfer {
    CURL *easy;
    int busy; /* a transfer is in flight */
    const struct es_http_request *req;
    struct hostq *q;            /* the host queue it came from */
    struct curl_slist *headers; /* the request headers we built */
    char *retry_after;          /* raw Retry-After of the last response */
    char *rate_remaining;       /* raw rate-limit headers, any spelling */
    char *rate_reset;
    long max_body;
    int too_big; /* the write callback refused more */
    struct es_http_response res;
    char errbuf[CURL_ERROR_SIZE]; /* curl's detailed message */
};

struct es_http {
    struct es_config_http cfg; /* limits, defaults filled in */
    CURLM *multi;              /* owns the connection and DNS caches */
    struct transfer *slots;    /* max_parallel of them */
    size_t nslots;
};

/* ==== Responses ==== */

void es_http_response_init(struct es_http_response *res)
{
    memset(res, 0, sizeof(*res));
    es_buf_init(&res->body);
    res->retry_after = -1;
    res->rate_remaining = -1;
    res->rate_reset = -1;
}

void es_http_response_release(struct es_http_response *res)
{
    free(res->error);
    es_buf_release(&res->body);
    free(res->etag);
    free(res->last_modified);
    free(res->content_type);
    free(res->link);
    es_http_response_init(res);
}

/* Query parameters that carry credentials (YouTube's key=, OAuth's
 * access_token=, ...): their values never reach a message. */
static int secret_param(const char *name, size_t len)
{
    static const char *const names[] = {
        "key",      "api_key",       "apikey", "access_token", "token",
        "password", "client_secret", "sig",    "signature",    "auth"
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
        if (strlen(names[i]) == len && strncasecmp(name, names[i], len) == 0)
            return 1;
    return 0;
}

char *es_http__redact_url(const char *url, char *out, size_t size)
{
    const char *rest = url;
    const char *sep = strstr(url, "://");
    size_t scheme_len = 0;

    if (sep) {
        const char *auth = sep + 3;
        size_t auth_len = strcspn(auth, "/?#");
        const char *at = NULL;
        for (size_t i = 0; i < auth_len; i++)
            if (auth[i] == '@')
                at = auth + i;
        scheme_len = (size_t)(auth - url);
        rest = at ? at + 1 : auth;
    }
    struct es_buf b = ES_BUF_INIT;
    es_buf_add(&b, url, scheme_len);
    const char *q = strchr(rest, '?');
    if (!q) {
        es_buf_adds(&b, rest);
    } else {
        es_buf_add(&b, rest, (size_t)(q - rest) + 1);
        const char *p = q + 1;
        while (*p && *p != '#') {
            size_t plen = strcspn(p, "&#");
            size_t nlen = strcspn(p, "=&#");
            if (nlen < plen && secret_param(p, nlen)) {
                es_buf_add(&b, p, nlen);
                es_buf_adds(&b, "=REDACTED");
            } else {
                es_buf_add(&b, p, plen);
            }
            p += plen;
            if (*p == '&') {
                es_buf_addch(&b, '&');
                p++;
            }
        }
        es_buf_adds(&b, p);
    }
    snprintf(out, size, "%s", b.ptr ? b.ptr : "");
    es_buf_release(&b);
    return out;
}

/* ==== Credentials echoed in an error page ==== */

/* A server that refuses a credential may quote it back in its error page
 * ("bad credentials: Bearer ..."), and that page's start becomes the
 * source's error message, stored and shown by `earshot sources`. Before
 * it is kept, every credential the request carried is replaced by
 * REDACTED: the value of each header whose name speaks of one, whole and
 * after its scheme ("Bearer", "Basic", decoded too: "id:secret"), and the
 * values of secret parameters (secret_param()) in the URL's query and in
 * a form or JSON request body. Values shorter than REDACT_MIN bytes are
 * left: they would blank ordinary words. */
#define REDACT_MIN 6

/* Replaces each occurrence of the @n bytes at @secret in @b. */
static void redact_in(struct es_buf *b, const char *secret, size_t n)
{
    if (n < REDACT_MIN || b->len < n)
        return;
    struct es_buf out = ES_BUF_INIT;
    size_t from = 0;
    for (size_t i = 0; i + n <= b->len;) {
        if (memcmp(b->ptr + i, secret, n) == 0) {
            es_buf_add(&out, b->ptr + from, i - from);
            es_buf_adds(&out, "REDACTED");
            i += n;
            from = i;
        } else {
            i++;
        }
    }
    if (from == 0)
        return;
    es_buf_add(&out, b->ptr + from, b->len - from);
    es_buf_release(b);
    *b = out;
}

/* Whether the header name of line @h speaks of a credential; sets *value
 * to the start of its value. */
static int credential_header(const char *h, const char **value)
{
    static const char *const words[] = { "auth",      "token",   "key",
                                         "secret",    "cookie",  "session",
                                         "signature", "password" };
    const char *colon = strchr(h, ':');
    if (!colon)
        return 0;
    size_t n = (size_t)(colon - h);
    for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
        size_t wl = strlen(words[w]);
        for (size_t i = 0; i + wl <= n; i++)
            if (strncasecmp(h + i, words[w], wl) == 0) {
                *value = colon + 1 + strspn(colon + 1, " \t");
                return 1;
            }
    }
    return 0;
}

/* @v (@n bytes) as written and as a form decodes it ("p%40ss+word"):
 * '+' is a space, then curl unescapes, as url.c reads a query value. */
static void redact_param_value(struct es_buf *b, const char *v, size_t n)
{
    redact_in(b, v, n);
    if (n > INT_MAX)
        return;
    char *plus = es_xstrndup(v, n);
    for (char *c = plus; *c; c++)
        if (*c == '+')
            *c = ' ';
    int dlen = 0;
    char *d = curl_easy_unescape(NULL, plus, (int)n, &dlen);
    if (d && ((size_t)dlen != n || memcmp(d, v, n) != 0))
        redact_in(b, d, (size_t)dlen);
    curl_free(d);
    free(plus);
}

/* The values of secret parameters in "a=b&c=d" (@s, @len bytes). */
static void redact_params(struct es_buf *b, const char *s, size_t len)
{
    const char *end = s + len;
    while (s < end) {
        size_t plen = (size_t)(end - s);
        const char *amp = memchr(s, '&', plen);
        if (amp)
            plen = (size_t)(amp - s);
        const char *eq = memchr(s, '=', plen);
        if (eq && secret_param(s, (size_t)(eq - s)))
            redact_param_value(b, eq + 1, plen - (size_t)(eq - s) - 1);
        s += plen + (amp != NULL);
    }
}

/* The string values of secret members ("password": "...") in a JSON
 * request body. */
static void redact_json_members(struct es_buf *b, const char *s)
{
    for (const char *q = strchr(s, '"'); q; q = strchr(q + 1, '"')) {
        const char *name = q + 1, *close = strchr(name, '"');
        if (!close)
            return;
        const char *v = close + 1 + strspn(close + 1, " \t\r\n");
        if (*v == ':' && secret_param(name, (size_t)(close - name))) {
            v += 1 + strspn(v + 1, " \t\r\n");
            if (*v == '"') {
                const char *ve = v + 1;
                while (*ve && *ve != '"')
                    ve += ve[0] == '\\' && ve[1] ? 2 : 1;
                redact_in(b, v + 1, (size_t)(ve - v - 1));
            }
        }
        q = close;
    }
}

static void redact_credentials(struct es_buf *body,
                               const struct es_http_request *req)
{
    for (const char *const *h = req->headers; h && *h; h++) {
        const char *v;
        if (!credential_header(*h, &v))
            continue;
        size_t vlen = strcspn(v, "\r\n");
        const char *sp = NULL;
        for (const char *c = v; c < v + vlen; c++)
            if (*c == ' ')
                sp = c;
        if (sp) {
            /* The credential after its scheme first, so that the message
             * still says which scheme was refused: "Basic REDACTED". */
            const char *cred = sp + 1;
            size_t clen = (size_t)(v + vlen - cred);
            struct es_buf d = ES_BUF_INIT;
            if (strncasecmp(v, "Basic ", 6) == 0 &&
                es_base64_decode(cred, clen, &d) == 0 && d.len) {
                redact_in(body, d.ptr, d.len);
                const char *colon = memchr(d.ptr, ':', d.len);
                if (colon)
                    redact_in(body, colon + 1,
                              d.len - (size_t)(colon - d.ptr) - 1);
            }
            es_buf_release(&d);
            redact_in(body, cred, clen);
        }
        redact_in(body, v, vlen);
    }
    const char *q = strchr(req->url, '?');
    if (q)
        redact_params(body, q + 1, strcspn(q + 1, "#"));
    if (req->body) {
        /* A copy, NUL-ended: @body_len bytes need not be. */
        size_t n = req->body_len ? req->body_len : strlen(req->body);
        struct es_buf copy = ES_BUF_INIT;
        es_buf_add(&copy, req->body, n < 65536 ? n : 65536);
        if (copy.len) {
            redact_params(body, copy.ptr, copy.len);
            redact_json_members(body, copy.ptr);
        }
        es_buf_release(&copy);
    }
}

/* ==== Client ==== */

static long or_default(long v, long def)
{
    return v > 0 ? v : def;
}

struct es_http *es_http_new(const struct es_config_http *cfg)
{
    struct es_http *h = es_xcalloc(1, sizeof(*h));
    struct es_config_http zero = { 0 };

    if (!cfg)
        cfg = &zero;
    h->cfg.connect_timeout_ms =
        or_default(cfg->connect_timeout_ms, ES_HTTP_CONNECT_TIMEOUT_MS);
    h->cfg.timeout_ms = or_default(cfg->timeout_ms, ES_HTTP_TIMEOUT_MS);
    h->cfg.max_body = or_default(cfg->max_body, ES_HTTP_MAX_BODY);
    /* "Follow no redirect" is a valid wish: only a negative count (or no
     * config at all) means the default. */
    h->cfg.max_redirects = cfg == &zero || cfg->max_redirects < 0
                               ? ES_HTTP_MAX_REDIRECTS
                               : cfg->max_redirects;
    h->cfg.max_parallel = or_default(cfg->max_parallel, ES_HTTP_MAX_PARALLEL);

    h->multi = curl_multi_init();
    if (!h->multi) {
        fprintf(stderr, "fatal: curl_multi_init failed\n");
        abort();
    }
    long per_host =
        h->cfg.max_parallel < MAX_PER_HOST ? h->cfg.max_parallel : MAX_PER_HOST;
    /* A backstop for redirects to a busy host; our own dispatch keeps the
     * count under this for the hosts it knows. */
    curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, per_host);
    /* Keep enough idle connections that the next cycle reuses them. */
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS,
                      h->cfg.max_parallel + per_host);

    h->nslots = (size_t)h->cfg.max_parallel;
    h->slots = es_xcalloc(h->nslots, sizeof(*h->slots));
    for (size_t i = 0; i < h->nslots; i++)
        es_http_response_init(&h->slots[i].res);
    return h;
}

/* Clears what one transfer left in @t, keeping the easy handle. */
static void transfer_reset(struct transfer *t)
{
    curl_slist_free_all(t->headers);
    t->headers = NULL;
    free(t->retry_after);
    free(t->rate_remaining);
    free(t->rate_reset);
    t->retry_after = t->rate_remaining = t->rate_reset = NULL;
    es_http_response_release(&t->res);
    t->busy = 0;
    t->too_big = 0;
    t->req = NULL;
    t->q = NULL;
    t->errbuf[0] = '\0';
}

void es_http_free(struct es_http *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->nslots; i++) {
        struct transfer *t = &h->slots[i];
        if (t->busy)
            curl_multi_remove_handle(h->multi, t->easy);
        transfer_reset(t);
        if (t->easy)
            curl_easy_cleanup(t->easy);
    }
    free(h->slots);
    curl_multi_cleanup(h->multi);
    free(h);
}

/* ==== Callbacks ==== */

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct transfer *t = userdata;
    size_t len = size * nmemb;

    /* Content-Length was checked up front (CURLOPT_MAXFILESIZE); this
     * catches chunked and compressed bodies that grow past the cap. */
    if (t->res.body.len + len > (size_t)t->max_body) {
        t->too_big = 1;
        return 0;
    }
    es_buf_add(&t->res.body, ptr, len);
    return len;
}

/* Replaces *@dst with a copy of the header value in @v (@len bytes),
 * trimmed of surrounding blanks and the line ending. */
static void set_header_value(char **dst, const char *v, size_t len)
{
    while (len && (*v == ' ' || *v == '\t')) {
        v++;
        len--;
    }
    while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' ||
                   v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    free(*dst);
    *dst = es_xstrndup(v, len);
}

static int header_is(const char *buf, size_t len, const char *name)
{
    size_t n = strlen(name);
    return len > n && buf[n] == ':' && strncasecmp(buf, name, n) == 0;
}

/* Keeps the rate-limit headers, whichever of the spellings in use the
 * platform picked: X-RateLimit-* (GitHub, Mastodon), x-rate-limit-* (X),
 * X-Ratelimit-* (Reddit), RateLimit-* (the IETF draft). */
static void rate_header(struct transfer *t, const char *buf, size_t len)
{
    static const char *const prefixes[] = { "X-RateLimit-", "X-Rate-Limit-",
                                            "RateLimit-" };
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(*prefixes); i++) {
        size_t n = strlen(prefixes[i]);
        if (len <= n || strncasecmp(buf, prefixes[i], n) != 0)
            continue;
        if (header_is(buf + n, len - n, "Remaining"))
            set_header_value(&t->rate_remaining, buf + n + 10, len - n - 10);
        else if (header_is(buf + n, len - n, "Reset"))
            set_header_value(&t->rate_reset, buf + n + 6, len - n - 6);
        return;
    }
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
    struct transfer *t = userdata;
    size_t len = size * nitems;

    /* Each response of a redirect chain (and any 1xx) sends its own block
     * of headers: only the final one's validators count. */
    if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
        free(t->res.etag);
        free(t->res.last_modified);
        free(t->res.content_type);
        free(t->retry_after);
        free(t->res.link);
        free(t->rate_remaining);
        free(t->rate_reset);
        t->res.etag = t->res.last_modified = t->res.content_type = NULL;
        t->retry_after = t->res.link = NULL;
        t->rate_remaining = t->rate_reset = NULL;
    } else if (header_is(buf, len, "ETag")) {
        set_header_value(&t->res.etag, buf + 5, len - 5);
    } else if (header_is(buf, len, "Last-Modified")) {
        set_header_value(&t->res.last_modified, buf + 14, len - 14);
    } else if (header_is(buf, len, "Content-Type")) {
        set_header_value(&t->res.content_type, buf + 13, len - 13);
    } else if (header_is(buf, len, "Retry-After")) {
        set_header_value(&t->retry_after, buf + 12, len - 12);
    } else if (header_is(buf, len, "Link")) {
        set_header_value(&t->res.link, buf + 5, len - 5);
    } else {
        rate_header(t, buf, len);
    }
    return len;
}

/* Returns Retry-After as seconds from now: delta-seconds or an HTTP-date;
 * -1 when absent or unreadable. */
static int64_t parse_retry_after(const char *v)
{
    if (!v || !*v)
        return -1;
    int64_t delta;
    if (strspn(v, "0123456789") == strlen(v)) {
        errno = 0;
        long long s = strtoll(v, NULL, 10);
        delta = errno ? ES_HTTP_WAIT_MAX : (int64_t)s;
    } else {
        time_t when = curl_getdate(v, NULL);
        if (when == (time_t)-1)
            return -1;
        delta = (int64_t)when - (int64_t)time(NULL);
    }
    /* A server asking for weeks of silence is more likely confused than
     * sincere; a date in the past means "now". */
    if (delta > ES_HTTP_WAIT_MAX)
        delta = ES_HTTP_WAIT_MAX;
    return delta < 0 ? 0 : delta;
}

/* Returns the rate-limit reset @v as Unix seconds, -1 when unreadable.
 * Platforms disagree on the unit: an ISO 8601 time (Mastodon), Unix
 * seconds (GitHub, X), or seconds from now (Reddit, the IETF draft). A
 * number too small to be a recent Unix time is a delay. */
static int64_t parse_rate_reset(const char *v)
{
    if (!v || !*v)
        return -1;
    int64_t now = (int64_t)time(NULL);
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (end != v && *end == '\0' && errno == 0 && d >= 0) {
        if (d > 1e9) /* Unix seconds */
            return d > 4e9 ? -1 : (int64_t)d;
        if (d > ES_HTTP_WAIT_MAX)
            d = ES_HTTP_WAIT_MAX;
        return now + (int64_t)(d + 0.999);
    }
    int64_t when;
    if (es_time_parse(v, &when) == 0)
        return when;
    return -1;
}

int64_t es_http_reset_wait(const struct es_http_response *res)
{
    if (res->rate_reset < 0)
        return -1;
    int64_t d = res->rate_reset - (int64_t)time(NULL);
    return d < 0 ? 0 : d > ES_HTTP_WAIT_MAX ? ES_HTTP_WAIT_MAX : d;
}

static long long parse_rate_remaining(const char *v)
{
    if (!v || !*v)
        return -1;
    char *end;
    double d = strtod(v, &end); /* Reddit sends "598.0" */
    if (end == v || !(d >= 0))  /* "nan" too: no integer to convert to */
        return -1;
    return d > 1e15 ? (long long)1e15 : (long long)d;
}

/* ==== One transfer ==== */

/* Prepares slot @t for @req; returns a curl error on failure. */
static CURLcode transfer_setup(struct es_http *h, struct transfer *t,
                               const struct es_http_request *req)
{
    CURL *e = t->easy;
    CURLcode rc = CURLE_OK;

    curl_easy_reset(e);
    t->req = req;
    t->max_body = h->cfg.max_body;
    t->busy = 1;

    if (req->headers)
        for (size_t i = 0; req->headers[i]; i++)
            t->headers = curl_slist_append(t->headers, req->headers[i]);
    if (req->etag && *req->etag) {
        char *line = es_xasprintf("If-None-Match: %s", req->etag);
        t->headers = curl_slist_append(t->headers, line);
        free(line);
    }
    if (req->last_modified && *req->last_modified) {
        char *line = es_xasprintf("If-Modified-Since: %s", req->last_modified);
        t->headers = curl_slist_append(t->headers, line);
        free(line);
    }
    /* No "Expect: 100-continue" round trip for a small JSON body. */
    if (req->body)
        t->headers = curl_slist_append(t->headers, "Expect:");

#define SET(opt, val)                                                          \
    do {                                                                       \
        if (rc == CURLE_OK)                                                    \
            rc = curl_easy_setopt(e, opt, val);                                \
    } while (0)
    SET(CURLOPT_URL, req->url);
    SET(CURLOPT_PRIVATE, (void *)t);
    SET(CURLOPT_ERRORBUFFER, t->errbuf);
    SET(CURLOPT_WRITEFUNCTION, on_write);
    SET(CURLOPT_WRITEDATA, (void *)t);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, (void *)t);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_CONNECTTIMEOUT_MS, h->cfg.connect_timeout_ms);
    SET(CURLOPT_TIMEOUT_MS, h->cfg.timeout_ms);
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->cfg.max_body);
    SET(CURLOPT_FOLLOWLOCATION, h->cfg.max_redirects > 0 ? 1L : 0L);
    SET(CURLOPT_MAXREDIRS, h->cfg.max_redirects);
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "http,https,file");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    SET(CURLOPT_PROTOCOLS,
        (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS | CURLPROTO_FILE));
    SET(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    SET(CURLOPT_ACCEPT_ENCODING, ""); /* every coding libcurl decodes */
    SET(CURLOPT_USERAGENT, USER_AGENT);
    /* Over TLS, wait for the first connection's ALPN answer and share it
     * as HTTP/2 streams rather than open a socket per feed. Plain http://
     * never gets HTTP/2 here, but libcurl 7.88 would still hold every
     * other transfer to that host until the first response arrives, so a
     * slow first feed would stall them all: no waiting there. */
    if (strncasecmp(req->url, "https:", 6) == 0)
        SET(CURLOPT_PIPEWAIT, 1L);
    int post = req->method && strcmp(req->method, "POST") == 0;
    if (req->body || post) {
        const char *body = req->body ? req->body : "";
        size_t blen = req->body_len ? req->body_len : strlen(body);
        SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
        SET(CURLOPT_POSTFIELDS, body);
    }
    if (req->method && !post && strcmp(req->method, "GET") != 0)
        SET(CURLOPT_CUSTOMREQUEST, req->method);
    if (t->headers)
        SET(CURLOPT_HTTPHEADER, t->headers);
#undef SET
    return rc;
}

/* Fills t->res from the finished transfer (curl result @rc), sets the
 * thread's error message, and returns the status. */
static int transfer_finish(struct es_http *h, struct transfer *t, CURLcode rc)
{
    struct es_http_response *res = &t->res;
    char url[512];
    char msg[1024];
    long code = 0;
    int status = 0;

    es_http__redact_url(t->req->url, url, sizeof(url));
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
    res->http_code = code;
    res->rate_remaining = parse_rate_remaining(t->rate_remaining);
    res->rate_reset = parse_rate_reset(t->rate_reset);

    if (t->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
        status = ES_ETOOBIG;
        snprintf(msg, sizeof(msg),
                 "response from '%s' is over the %ld-byte limit (max_body)",
                 url, h->cfg.max_body);
    } else if (rc != CURLE_OK) {
        status = ES_ENETWORK;
        snprintf(msg, sizeof(msg), "cannot fetch '%s': %s", url,
                 t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
    } else if (code == 304) {
        status = ES_EUNCHANGED;
        snprintf(msg, sizeof(msg), "'%s' not modified (HTTP 304)", url);
    } else if (code == 429 || code == 503) {
        res->retry_after = parse_retry_after(t->retry_after);
        /* A 429 that names only its window's reset waits for that. */
        if (res->retry_after < 0 && code == 429)
            res->retry_after = es_http_reset_wait(res);
        /* A 503 without Retry-After is an outage, not a throttle. */
        status =
            code == 429 || res->retry_after >= 0 ? ES_ERATELIMIT : ES_ENETWORK;
        snprintf(msg, sizeof(msg), "HTTP %ld from '%s'", code, url);
    } else if (code == 403 && res->rate_remaining == 0) {
        /* GitHub answers a spent primary rate limit with a 403. */
        status = ES_ERATELIMIT;
        if (res->rate_reset >= 0)
            res->retry_after = es_http_reset_wait(res);
        snprintf(msg, sizeof(msg), "HTTP %ld from '%s' (rate limit spent)",
                 code, url);
    } else if (code == 401 || code == 403) {
        status = ES_EAUTH;
        snprintf(msg, sizeof(msg), "HTTP %ld from '%s'", code, url);
    } else if (code != 0 && (code < 200 || code > 299)) {
        /* >= 400, or a 3xx we did not follow (no Location). */
        status = ES_ENETWORK;
        snprintf(msg, sizeof(msg), "HTTP %ld from '%s'", code, url);
    }

    res->status = status;
    if (status < 0) {
        /* An API's error page says what it disliked: keep its start for
         * the kind and the message; drop anything else. */
        if (code >= 400 && !t->too_big) {
            if (res->body.len > ES_HTTP_ERROR_BODY)
                es_buf_truncate(&res->body, ES_HTTP_ERROR_BODY);
            redact_credentials(&res->body, t->req);
        } else {
            es_buf_clear(&res->body);
        }
        res->error = es_xstrdup(msg);
        es_error_set(status, "%s", msg);
    } else {
        es_error_clear();
    }
    return status;
}

/* ==== Batches ==== */

/* The requests of one batch that go to one host, in the caller's order.
 * Hosts with requests left to start form a ring that the dispatcher walks
 * round-robin, so a thousand feeds on one server do not delay the feeds
 * of the others, and a saturated host costs one step to skip. */
struct hostq {
    const char *key;    /* host_key(), borrowed from the batch */
    const size_t *idx;  /* request indices, a slice of batch.order */
    size_t len;         /* requests queued */
    size_t pos;         /* requests started */
    size_t busy;        /* requests in flight */
    size_t limit;       /* in flight at most: START_PER_HOST, growing */
    struct hostq *next; /* ring of hosts with requests to start */
};

struct batch {
    char **keys;   /* host_key() of each request */
    size_t *order; /* request indices grouped by host */
    struct hostq *hosts;
    struct hostq *ring; /* the host before the next to try; NULL: none */
    size_t nring;
};

/* Returns the part of @url that names a server ("http://host:port"),
 * lower-cased, for counting transfers per host; "" for file:// and
 * anything without an authority. The caller frees it. */
static char *host_key(const char *url)
{
    const char *sep = strstr(url, "://");
    if (!sep || strncasecmp(url, "file:", 5) == 0)
        return es_xstrdup("");
    const char *auth = sep + 3;
    size_t len = strcspn(auth, "/?#");
    for (size_t i = len; i > 0; i--)
        if (auth[i - 1] == '@') {
            len -= i;
            auth += i;
            break;
        }
    char *key =
        es_xasprintf("%.*s%.*s", (int)(auth - url), url, (int)len, auth);
    for (char *c = key; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    return key;
}

struct keyed {
    const char *key;
    size_t i;
};

static int cmp_keyed(const void *a, const void *b)
{
    const struct keyed *x = a;
    const struct keyed *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Groups the @n requests by host into @b's queues. */
static void batch_init(struct batch *b, const struct es_http_request *reqs,
                       size_t n)
{
    struct keyed *k = es_xcalloc(n ? n : 1, sizeof(*k));
    size_t nhosts = 0;

    memset(b, 0, sizeof(*b));
    b->keys = es_xcalloc(n ? n : 1, sizeof(*b->keys));
    b->order = es_xcalloc(n ? n : 1, sizeof(*b->order));
    b->hosts = es_xcalloc(n ? n : 1, sizeof(*b->hosts));
    for (size_t i = 0; i < n; i++) {
        b->keys[i] = host_key(reqs[i].url);
        k[i].key = b->keys[i];
        k[i].i = i;
    }
    qsort(k, n, sizeof(*k), cmp_keyed);
    for (size_t i = 0; i < n; i++) {
        b->order[i] = k[i].i;
        if (i == 0 || strcmp(k[i].key, k[i - 1].key) != 0) {
            struct hostq *q = &b->hosts[nhosts++];
            q->key = k[i].key;
            q->idx = &b->order[i];
            q->limit = START_PER_HOST;
        }
        b->hosts[nhosts - 1].len++;
    }
    for (size_t i = 0; i < nhosts; i++)
        b->hosts[i].next = &b->hosts[(i + 1) % nhosts];
    b->ring = nhosts ? &b->hosts[nhosts - 1] : NULL;
    b->nring = nhosts;
    free(k);
}

static void batch_release(struct batch *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(b->keys[i]);
    free(b->keys);
    free(b->order);
    free(b->hosts);
}

/* Returns the next host with a request to start and room for it, or
 * NULL. At most q->limit transfers per host: the hosts skipped here are
 * the saturated ones, and there are few of those. */
static struct hostq *batch_next_host(struct batch *b)
{
    for (size_t k = 0; b->ring && k < b->nring; k++) {
        struct hostq *q = b->ring->next;
        if (!q->key[0] || q->busy < q->limit)
            return q;
        b->ring = q;
    }
    return NULL;
}

/* Takes the next request of @q, which batch_next_host() returned, and
 * moves the ring on. Returns the request index. */
static size_t batch_take(struct batch *b, struct hostq *q)
{
    size_t i = q->idx[q->pos++];
    q->busy++;
    if (q->pos < q->len) {
        b->ring = q; /* round-robin: the next start goes to the next host */
    } else {
        if (q->next == q)
            b->ring = NULL;
        else
            b->ring->next = q->next;
        b->nring--;
    }
    return i;
}

static struct transfer *free_slot(struct es_http *h)
{
    for (size_t i = 0; i < h->nslots; i++)
        if (!h->slots[i].busy) {
            if (!h->slots[i].easy) {
                h->slots[i].easy = curl_easy_init();
                if (!h->slots[i].easy) {
                    fprintf(stderr, "fatal: curl_easy_init failed\n");
                    abort();
                }
            }
            return &h->slots[i];
        }
    return NULL;
}

/* Hands a finished transfer to @cb and frees the slot. */
static int deliver(struct es_http *h, struct transfer *t, CURLcode rc,
                   es_http_done_cb cb, void *payload)
{
    transfer_finish(h, t, rc);
    t->q->busy--;
    /* The server answered: it takes one more connection. */
    if (rc == CURLE_OK && t->q->limit < MAX_PER_HOST)
        t->q->limit++;
    int ret = cb(t->req, &t->res, payload);
    transfer_reset(t);
    return ret;
}

int es_http_get_many(struct es_http *h, const struct es_http_request *reqs,
                     size_t n, es_http_done_cb cb, void *payload)
{
    struct batch b;
    size_t active = 0;
    size_t done = 0;
    int refill = 1; /* a slot was freed since the last fill */
    int ret = 0;

    assert(h && cb && (reqs || n == 0));
    batch_init(&b, reqs, n);

    while (done < n) {
        struct hostq *q;
        while (refill && active < h->nslots && (q = batch_next_host(&b))) {
            size_t i = batch_take(&b, q);
            struct transfer *t = free_slot(h);
            t->q = q;
            CURLcode rc = transfer_setup(h, t, &reqs[i]);
            if (rc == CURLE_OK &&
                curl_multi_add_handle(h->multi, t->easy) != CURLM_OK)
                rc = CURLE_FAILED_INIT;
            if (rc != CURLE_OK) {
                done++;
                ret = deliver(h, t, rc, cb, payload);
                if (ret)
                    goto done;
                continue;
            }
            active++;
        }
        refill = 0;
        if (done == n)
            break;

        int still = 0;
        CURLMcode mc = curl_multi_perform(h->multi, &still);
        if (mc != CURLM_OK) {
            fprintf(stderr, "fatal: curl_multi_perform: %s\n",
                    curl_multi_strerror(mc));
            abort();
        }

        CURLMsg *msg;
        int queued;
        while ((msg = curl_multi_info_read(h->multi, &queued))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            char *priv = NULL;
            CURLcode rc = msg->data.result;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
            struct transfer *t = (struct transfer *)(void *)priv;
            curl_multi_remove_handle(h->multi, t->easy);
            active--;
            done++;
            refill = 1;
            ret = deliver(h, t, rc, cb, payload);
            if (ret)
                goto done;
        }
        /* A freed slot is refilled before waiting on the sockets. */
        if (!refill && active > 0)
            curl_multi_poll(h->multi, NULL, 0, 1000, NULL);
    }

done:
    if (ret) {
        for (size_t i = 0; i < h->nslots; i++)
            if (h->slots[i].busy) {
                curl_multi_remove_handle(h->multi, h->slots[i].easy);
                transfer_reset(&h->slots[i]);
            }
    }
    batch_release(&b, n);
    return ret;
}

/* es_http_get's callback: moves the response to the caller's struct. */
static int take_response(const struct es_http_request *req,
                         struct es_http_response *res, void *payload)
{
    struct es_http_response *out = payload;
    (void)req;
    *out = *res;
    es_http_response_init(res);
    return 0;
}

int es_http_get(struct es_http *h, const struct es_http_request *req,
                struct es_http_response *out)
{
    struct es_http *tmp = NULL;

    es_http_response_init(out);
    if (!h)
        h = tmp = es_http_new(NULL);
    es_http_get_many(h, req, 1, take_response, out);
    es_http_free(tmp);
    if (out->status < 0)
        es_error_set(out->status, "%s", out->error);
    return out->status;
}
