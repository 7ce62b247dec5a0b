/* testhttpd.c - a scriptable HTTP/1.1 server on 127.0.0.1 for tests
 *
 * One thread per connection (loopsrv.c): simple enough to trust, and
 * fast enough for the benchmark's thousand feeds, since keep-alive means
 * a handful of connections carry them all. It speaks
 * just the HTTP/1.1 a client like libcurl needs: request heads,
 * Content-Length request bodies (kept in the log), keep-alive, chunked or sized
 * responses. Everything the tests need to provoke in a client is a field
 * of struct es_testhttpd_response.
 *
 * Routes and the request log sit behind one mutex. Replaced routes are
 * kept until the server is freed, so a connection thread may use a
 * response it looked up without holding the lock.
 */
#include "testhttpd.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "earshot/alloc.h"
#include "earshot/buf.h"
#include "loopsrv.h"

#define MAX_HEAD (64 * 1024) /* request head limit */
#define MAX_HDRS 64
#define CHUNK    16384 /* bytes per write of a generated or chunked body */

struct route {
    char *path;
    struct es_testhttpd_response *seq; /* deep copies */
    size_t n;
    size_t next; /* requests answered so far */
    int dead;    /* replaced by a later route for the same path */
};

/* One logged request. */
struct logged {
    char *method;
    char *path;
    char *query; /* NULL when the target had none */
    char *body;  /* the request body ("" when none), up to BODY_KEEP */
    char *names[MAX_HDRS];
    char *values[MAX_HDRS];
    size_t nheaders;
};

struct es_testhttpd {
    struct es_loopsrv *loop; /* sockets, threads, connections */
    pthread_mutex_t lock;    /* guards everything below */
    struct route *routes;
    size_t nroutes;
    char *root;
    int logging;
    struct logged *log;
    size_t nlog;
    size_t alloc_log;
    size_t waiting;      /* requests in their delay_ms now */
    size_t peak_waiting; /* most of them at once since the last reset */
};

/* A parsed request head; the strings point into the connection buffer. */
struct request {
    char *method;
    char *path;
    char *query;
    int http10;
    char *names[MAX_HDRS];
    char *values[MAX_HDRS];
    size_t nheaders;
};

/* ==== gzip ==== */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
    pthread_once(&crc_once, crc_init);
    crc = ~crc;
    while (n--)
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static void put_le32(struct es_buf *out, uint32_t v)
{
    unsigned char b[4] = { (unsigned char)v, (unsigned char)(v >> 8),
                           (unsigned char)(v >> 16), (unsigned char)(v >> 24) };
    es_buf_add(out, b, 4);
}

void es_testhttpd_gzip(const void *buf, size_t len, struct es_buf *out)
{
    static const unsigned char header[10] = { 0x1f, 0x8b, 8, 0, 0,
                                              0,    0,    0, 0, 255 };
    const unsigned char *p = buf;
    size_t left = len;

    es_buf_add(out, header, sizeof(header));
    do {
        size_t n = left > 65535 ? 65535 : left;
        unsigned char block[5] = {
            (unsigned char)(n == left ? 1 : 0), /* BFINAL, BTYPE 00 */
            (unsigned char)n,
            (unsigned char)(n >> 8),
            (unsigned char)~n,
            (unsigned char)(~n >> 8),
        };
        es_buf_add(out, block, sizeof(block));
        es_buf_add(out, p, n);
        p += n;
        left -= n;
    } while (left > 0);
    put_le32(out, crc32_update(0, buf, len));
    put_le32(out, (uint32_t)len);
}

/* ==== Small helpers ==== */

static char *dup_or_null(const char *s)
{
    return s ? es_xstrdup(s) : NULL;
}

/* Sends head and body with one system call where possible, so that a
 * small response leaves in one segment. */
static int send_two(int fd, const char *a, size_t alen, const char *b,
                    size_t blen)
{
    struct iovec iov[2] = {
        { .iov_base = (void *)(uintptr_t)a, .iov_len = alen },
        { .iov_base = (void *)(uintptr_t)b, .iov_len = blen },
    };
    struct msghdr msg = { .msg_iov = iov, .msg_iovlen = blen ? 2 : 1 };
    ssize_t n;

    do
        n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -1;
    size_t sent = (size_t)n;
    if (sent < alen)
        return es_loopsrv_send_all(fd, a + sent, alen - sent) ||
               es_loopsrv_send_all(fd, b, blen);
    sent -= alen;
    return es_loopsrv_send_all(fd, b + sent, blen - sent);
}

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}

static const char *req_header(const struct request *rq, const char *name)
{
    for (size_t i = 0; i < rq->nheaders; i++)
        if (strcasecmp(rq->names[i], name) == 0)
            return rq->values[i];
    return NULL;
}

static void http_date(time_t t, char out[64])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 64, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* ==== Routes and log ==== */

static void resp_copy(struct es_testhttpd_response *dst,
                      const struct es_testhttpd_response *src)
{
    *dst = *src;
    dst->content_type = dup_or_null(src->content_type);
    dst->headers = dup_or_null(src->headers);
    dst->body_file = dup_or_null(src->body_file);
    dst->etag = dup_or_null(src->etag);
    dst->last_modified = dup_or_null(src->last_modified);
    dst->location = dup_or_null(src->location);
    if (src->body) {
        size_t len = src->body_len ? src->body_len : strlen(src->body);
        char *b = es_xmalloc(len + 1);
        memcpy(b, src->body, len);
        b[len] = '\0';
        dst->body = b;
        dst->body_len = len;
    }
}

/* Frees the strings resp_copy() made; they were ours all along. */
static void resp_free(struct es_testhttpd_response *r)
{
    free((void *)(uintptr_t)r->content_type);
    free((void *)(uintptr_t)r->headers);
    free((void *)(uintptr_t)r->body_file);
    free((void *)(uintptr_t)r->etag);
    free((void *)(uintptr_t)r->last_modified);
    free((void *)(uintptr_t)r->location);
    free((void *)(uintptr_t)r->body);
}

void es_testhttpd_route_seq(struct es_testhttpd *srv, const char *path,
                            const struct es_testhttpd_response *seq, size_t n)
{
    struct route r = { .path = es_xstrdup(path), .n = n };

    r.seq = es_xcalloc(n ? n : 1, sizeof(*r.seq));
    for (size_t i = 0; i < n; i++)
        resp_copy(&r.seq[i], &seq[i]);
    if (n == 0)
        r.n = 1; /* an empty script answers 200 with no body */

    pthread_mutex_lock(&srv->lock);
    for (size_t i = 0; i < srv->nroutes; i++)
        if (strcmp(srv->routes[i].path, path) == 0)
            srv->routes[i].dead = 1;
    srv->routes =
        es_xrealloc(srv->routes, (srv->nroutes + 1) * sizeof(*srv->routes));
    srv->routes[srv->nroutes++] = r;
    pthread_mutex_unlock(&srv->lock);
}

void es_testhttpd_route(struct es_testhttpd *srv, const char *path,
                        const struct es_testhttpd_response *resp)
{
    es_testhttpd_route_seq(srv, path, resp, 1);
}

void es_testhttpd_set_root(struct es_testhttpd *srv, const char *dir)
{
    pthread_mutex_lock(&srv->lock);
    free(srv->root);
    srv->root = es_xstrdup(dir);
    pthread_mutex_unlock(&srv->lock);
}

void es_testhttpd_set_logging(struct es_testhttpd *srv, int on)
{
    pthread_mutex_lock(&srv->lock);
    srv->logging = on;
    pthread_mutex_unlock(&srv->lock);
}

/* Returns the response for @path and moves its script on, or NULL when
 * no route matches. The pointer stays valid until the server is freed. */
static const struct es_testhttpd_response *lookup(struct es_testhttpd *srv,
                                                  const char *path)
{
    const struct es_testhttpd_response *r = NULL;

    pthread_mutex_lock(&srv->lock);
    for (size_t i = 0; i < srv->nroutes; i++) {
        struct route *rt = &srv->routes[i];
        if (rt->dead || strcmp(rt->path, path) != 0)
            continue;
        r = &rt->seq[rt->next < rt->n ? rt->next : rt->n - 1];
        rt->next++;
        break;
    }
    pthread_mutex_unlock(&srv->lock);
    return r;
}

static void log_request(struct es_testhttpd *srv, const struct request *rq,
                        const struct es_buf *body)
{
    pthread_mutex_lock(&srv->lock);
    if (srv->logging) {
        if (srv->nlog == srv->alloc_log) {
            srv->alloc_log = srv->alloc_log ? srv->alloc_log * 2 : 64;
            srv->log =
                es_xrealloc(srv->log, srv->alloc_log * sizeof(*srv->log));
        }
        struct logged *l = &srv->log[srv->nlog++];
        memset(l, 0, sizeof(*l));
        l->method = es_xstrdup(rq->method);
        l->path = es_xstrdup(rq->path);
        l->query = dup_or_null(rq->query);
        for (size_t i = 0; i < rq->nheaders; i++) {
            l->names[i] = es_xstrdup(rq->names[i]);
            l->values[i] = es_xstrdup(rq->values[i]);
        }
        l->nheaders = rq->nheaders;
        l->body = es_xstrndup(body->ptr ? body->ptr : "", body->len);
    }
    pthread_mutex_unlock(&srv->lock);
}

static void logged_free(struct logged *l)
{
    free(l->method);
    free(l->path);
    free(l->query);
    free(l->body);
    for (size_t i = 0; i < l->nheaders; i++) {
        free(l->names[i]);
        free(l->values[i]);
    }
}

/* Returns the @nth logged request for @path; the caller holds the lock. */
static struct logged *find_logged(struct es_testhttpd *srv, const char *path,
                                  long nth)
{
    size_t count = 0;

    for (size_t i = 0; i < srv->nlog; i++)
        if (!path || strcmp(srv->log[i].path, path) == 0)
            count++;
    if (nth < 0)
        nth += (long)count;
    if (nth < 0 || (size_t)nth >= count)
        return NULL;
    for (size_t i = 0; i < srv->nlog; i++)
        if (!path || strcmp(srv->log[i].path, path) == 0)
            if (nth-- == 0)
                return &srv->log[i];
    return NULL;
}

size_t es_testhttpd_hits(struct es_testhttpd *srv, const char *path)
{
    size_t n = 0;
    pthread_mutex_lock(&srv->lock);
    for (size_t i = 0; i < srv->nlog; i++)
        if (!path || strcmp(srv->log[i].path, path) == 0)
            n++;
    pthread_mutex_unlock(&srv->lock);
    return n;
}

char *es_testhttpd_header(struct es_testhttpd *srv, const char *path, long nth,
                          const char *name)
{
    char *v = NULL;
    pthread_mutex_lock(&srv->lock);
    struct logged *l = find_logged(srv, path, nth);
    for (size_t i = 0; l && i < l->nheaders; i++)
        if (strcasecmp(l->names[i], name) == 0) {
            v = es_xstrdup(l->values[i]);
            break;
        }
    pthread_mutex_unlock(&srv->lock);
    return v;
}

char *es_testhttpd_method(struct es_testhttpd *srv, const char *path, long nth)
{
    char *v = NULL;
    pthread_mutex_lock(&srv->lock);
    struct logged *l = find_logged(srv, path, nth);
    if (l)
        v = es_xstrdup(l->method);
    pthread_mutex_unlock(&srv->lock);
    return v;
}

char *es_testhttpd_body(struct es_testhttpd *srv, const char *path, long nth)
{
    char *v = NULL;
    pthread_mutex_lock(&srv->lock);
    struct logged *l = find_logged(srv, path, nth);
    if (l)
        v = es_xstrdup(l->body);
    pthread_mutex_unlock(&srv->lock);
    return v;
}

char *es_testhttpd_query(struct es_testhttpd *srv, const char *path, long nth)
{
    char *v = NULL;
    pthread_mutex_lock(&srv->lock);
    struct logged *l = find_logged(srv, path, nth);
    if (l)
        v = dup_or_null(l->query);
    pthread_mutex_unlock(&srv->lock);
    return v;
}

size_t es_testhttpd_connections(struct es_testhttpd *srv)
{
    return es_loopsrv_accepted(srv->loop);
}

size_t es_testhttpd_peak_waiting(struct es_testhttpd *srv)
{
    pthread_mutex_lock(&srv->lock);
    size_t n = srv->peak_waiting;
    pthread_mutex_unlock(&srv->lock);
    return n;
}

size_t es_testhttpd_reset_waiting(struct es_testhttpd *srv)
{
    pthread_mutex_lock(&srv->lock);
    size_t n = srv->peak_waiting = srv->waiting;
    pthread_mutex_unlock(&srv->lock);
    return n;
}

void es_testhttpd_clear_log(struct es_testhttpd *srv)
{
    pthread_mutex_lock(&srv->lock);
    for (size_t i = 0; i < srv->nlog; i++)
        logged_free(&srv->log[i]);
    srv->nlog = 0;
    pthread_mutex_unlock(&srv->lock);
}

/* ==== Answering ==== */

/* Does the request's If-None-Match list @etag (or "*")? */
static int etag_matches(const char *inm, const char *etag)
{
    size_t n = strlen(etag);
    if (strcmp(inm, "*") == 0)
        return 1;
    for (const char *p = strstr(inm, etag); p; p = strstr(p + 1, etag)) {
        int start = p == inm || p[-1] == ' ' || p[-1] == ',';
        int end = p[n] == '\0' || p[n] == ',' || p[n] == ' ';
        if (start && end)
            return 1;
    }
    return 0;
}

/* Reads the file at @path into @out; returns 0 or -1. */
static int read_file(const char *path, struct es_buf *out, struct stat *st)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return -1;
    }
    es_buf_grow(out, (size_t)st->st_size);
    for (;;) {
        char tmp[CHUNK];
        ssize_t n = read(fd, tmp, sizeof(tmp));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            close(fd);
            return -1;
        }
        if (n == 0)
            break;
        es_buf_add(out, tmp, (size_t)n);
    }
    close(fd);
    return 0;
}

static const char *guess_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot)
        return "application/octet-stream";
    if (strcmp(dot, ".xml") == 0 || strcmp(dot, ".rss") == 0)
        return "application/rss+xml";
    if (strcmp(dot, ".atom") == 0)
        return "application/atom+xml";
    if (strcmp(dot, ".json") == 0)
        return "application/json";
    if (strcmp(dot, ".txt") == 0)
        return "text/plain; charset=utf-8";
    if (strcmp(dot, ".html") == 0)
        return "text/html; charset=utf-8";
    return "application/octet-stream";
}

/* Builds the answer for a file under the root into @r (strings in the
 * given buffers); returns 0, or -1 for 404. */
static int file_response(struct es_testhttpd *srv, const char *path,
                         struct es_testhttpd_response *r, struct es_buf *body,
                         char etag[64], char lm[64])
{
    char *root = NULL;
    struct stat st;

    pthread_mutex_lock(&srv->lock);
    root = dup_or_null(srv->root);
    pthread_mutex_unlock(&srv->lock);
    /* No way out of the root: any ".." is refused outright. */
    if (!root || path[0] != '/' || strstr(path, "..")) {
        free(root);
        return -1;
    }
    char *full = es_xasprintf("%s%s", root, path);
    int rc = read_file(full, body, &st);
    free(full);
    free(root);
    if (rc != 0)
        return -1;

    snprintf(etag, 64, "\"%llx-%llx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtime);
    http_date(st.st_mtime, lm);
    memset(r, 0, sizeof(*r));
    r->status = 200;
    r->content_type = guess_type(path);
    r->body = body->ptr;
    r->body_len = body->len;
    r->etag = etag;
    r->last_modified = lm;
    return 0;
}

/* Sends the generated body of @size filler bytes (chunked or not). */
static int send_filler(int fd, size_t size, int chunked)
{
    static const char line[] = "<!-- filler filler filler filler -->\n";
    char chunk[CHUNK];

    for (size_t i = 0; i < sizeof(chunk); i++)
        chunk[i] = line[i % (sizeof(line) - 1)];
    while (size > 0) {
        size_t n = size < sizeof(chunk) ? size : sizeof(chunk);
        if (chunked) {
            char hdr[32];
            int hl = snprintf(hdr, sizeof(hdr), "%zx\r\n", n);
            if (es_loopsrv_send_all(fd, hdr, (size_t)hl))
                return -1;
        }
        if (es_loopsrv_send_all(fd, chunk, n))
            return -1;
        if (chunked && es_loopsrv_send_all(fd, "\r\n", 2))
            return -1;
        size -= n;
    }
    return chunked ? es_loopsrv_send_all(fd, "0\r\n\r\n", 5) : 0;
}

/* Sends @r for request @rq. Returns 0 to keep the connection, -1 to
 * close it, 1 when it was reset (the fd is already closed). */
static int answer(struct es_testhttpd *srv, struct es_loopsrv_conn *conn,
                  int fd, const struct request *rq,
                  const struct es_testhttpd_response *r, int keep_alive)
{
    struct es_buf head = ES_BUF_INIT;
    struct es_buf body = ES_BUF_INIT;
    const char *bptr = NULL;
    size_t blen = 0;
    int head_only = strcmp(rq->method, "HEAD") == 0;
    int status = r->status ? r->status : 200;
    int gzip = 0;
    int ret = -1;

    if (r->reset) {
        es_loopsrv_conn_reset(conn);
        return 1;
    }
    if (r->delay_ms) {
        /* A request waiting here has had no byte of its answer: the
         * client still counts it as in flight. */
        pthread_mutex_lock(&srv->lock);
        if (++srv->waiting > srv->peak_waiting)
            srv->peak_waiting = srv->waiting;
        pthread_mutex_unlock(&srv->lock);
        es_loopsrv_nap(srv->loop, r->delay_ms);
        pthread_mutex_lock(&srv->lock);
        srv->waiting--;
        pthread_mutex_unlock(&srv->lock);
    }

    /* Conditional GET: If-None-Match wins over If-Modified-Since. */
    const char *inm = req_header(rq, "If-None-Match");
    const char *ims = req_header(rq, "If-Modified-Since");
    if (status == 200 && ((r->etag && inm && etag_matches(inm, r->etag)) ||
                          (!inm && r->last_modified && ims &&
                           strcmp(ims, r->last_modified) == 0)))
        status = 304;

    if (status != 304 && r->body_file) {
        struct stat st;
        if (read_file(r->body_file, &body, &st) != 0) {
            fprintf(stderr, "testhttpd: cannot read '%s'\n", r->body_file);
            status = 404;
        }
        bptr = body.ptr;
        blen = body.len;
    } else if (status != 304 && r->body) {
        bptr = r->body;
        blen = r->body_len ? r->body_len : strlen(r->body);
    }
    const char *ae = req_header(rq, "Accept-Encoding");
    if (r->gzip && bptr && ae && strstr(ae, "gzip")) {
        struct es_buf gz = ES_BUF_INIT;
        es_testhttpd_gzip(bptr, blen, &gz);
        es_buf_release(&body);
        body = gz;
        bptr = body.ptr;
        blen = body.len;
        gzip = 1;
    }
    int filler = status != 304 && !bptr && r->body_size > 0;
    size_t total = filler ? r->body_size : blen;

    es_buf_addf(&head, "HTTP/1.1 %d %s\r\n", status, reason(status));
    if (r->content_type && status != 304)
        es_buf_addf(&head, "Content-Type: %s\r\n", r->content_type);
    if (r->etag)
        es_buf_addf(&head, "ETag: %s\r\n", r->etag);
    if (r->last_modified)
        es_buf_addf(&head, "Last-Modified: %s\r\n", r->last_modified);
    if (r->location)
        es_buf_addf(&head, "Location: %s\r\n", r->location);
    if (gzip)
        es_buf_adds(&head,
                    "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n");
    if (r->headers)
        es_buf_adds(&head, r->headers);
    if (status != 304) {
        if (r->chunked)
            es_buf_adds(&head, "Transfer-Encoding: chunked\r\n");
        else
            es_buf_addf(&head, "Content-Length: %zu\r\n", total);
    }
    if (r->close)
        keep_alive = 0;
    es_buf_addf(&head, "Connection: %s\r\n\r\n",
                keep_alive ? "keep-alive" : "close");

    if (head_only || status == 304) {
        if (es_loopsrv_send_all(fd, head.ptr, head.len))
            goto done;
    } else if (r->stall_ms || filler || r->chunked) {
        if (es_loopsrv_send_all(fd, head.ptr, head.len))
            goto done;
        if (r->stall_ms)
            es_loopsrv_nap(srv->loop, r->stall_ms);
        if (filler) {
            if (send_filler(fd, total, r->chunked))
                goto done;
        } else if (r->chunked) {
            char hdr[32];
            int hl = snprintf(hdr, sizeof(hdr), "%zx\r\n", blen);
            if ((blen && (es_loopsrv_send_all(fd, hdr, (size_t)hl) ||
                          es_loopsrv_send_all(fd, bptr, blen) ||
                          es_loopsrv_send_all(fd, "\r\n", 2))) ||
                es_loopsrv_send_all(fd, "0\r\n\r\n", 5))
                goto done;
        } else if (es_loopsrv_send_all(fd, bptr, blen)) {
            goto done;
        }
    } else if (send_two(fd, head.ptr, head.len, bptr, blen)) {
        goto done;
    }
    ret = keep_alive ? 0 : -1;

done:
    es_buf_release(&head);
    es_buf_release(&body);
    return ret;
}

/* ==== Connections ==== */

/* Splits the head in @buf (NUL-terminated, "\r\n\r\n" included) into
 * @rq. Returns 0 or -1 for a malformed head. */
static int parse_head(char *buf, struct request *rq)
{
    memset(rq, 0, sizeof(*rq));
    char *line_end = strstr(buf, "\r\n");
    if (!line_end)
        return -1;
    *line_end = '\0';
    char *sp1 = strchr(buf, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp1 || !sp2)
        return -1;
    *sp1 = *sp2 = '\0';
    rq->method = buf;
    rq->path = sp1 + 1;
    rq->http10 = strcmp(sp2 + 1, "HTTP/1.0") == 0;
    char *q = strchr(rq->path, '?');
    if (q) {
        *q = '\0';
        rq->query = q + 1;
    }

    for (char *p = line_end + 2; *p && !(p[0] == '\r' && p[1] == '\n');) {
        char *end = strstr(p, "\r\n");
        if (!end)
            return -1;
        *end = '\0';
        char *colon = strchr(p, ':');
        if (colon && rq->nheaders < MAX_HDRS) {
            *colon = '\0';
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            rq->names[rq->nheaders] = p;
            rq->values[rq->nheaders] = v;
            rq->nheaders++;
        }
        p = end + 2;
    }
    return 0;
}

/* Reads until @buf holds a whole head; returns its length including the
 * blank line, 0 when the peer closed, -1 on error or an oversized head. */
static ssize_t read_head(int fd, char *buf, size_t *have)
{
    for (;;) {
        buf[*have] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end)
            return end + 4 - buf;
        if (*have >= MAX_HEAD)
            return -1;
        ssize_t n = recv(fd, buf + *have, MAX_HEAD - *have, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n == 0 && *have == 0 ? 0 : -1;
        *have += (size_t)n;
    }
}

/* Reads a request body of @len bytes, part of which may already sit in
 * @buf after the head, keeping up to BODY_KEEP of them in @out for the
 * log (tests assert what a client POSTed). */
#define BODY_KEEP (1024 * 1024)
static int read_body(int fd, char *buf, size_t *have, size_t len,
                     struct es_buf *out)
{
    size_t take = len < *have ? len : *have;
    es_buf_add(out, buf, take);
    memmove(buf, buf + take, *have - take);
    *have -= take;
    len -= take;
    while (len > 0) {
        char tmp[CHUNK];
        ssize_t n = recv(fd, tmp, len < sizeof(tmp) ? len : sizeof(tmp), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        if (out->len < BODY_KEEP)
            es_buf_add(out, tmp, (size_t)n);
        len -= (size_t)n;
    }
    return 0;
}

/* Serves the requests of one connection until it closes (loopsrv.h). */
static void serve_conn(struct es_loopsrv_conn *conn, int fd, void *payload)
{
    struct es_testhttpd *srv = payload;
    char *buf = es_xmalloc(MAX_HEAD + 1);
    size_t have = 0;

    for (;;) {
        ssize_t head_len = read_head(fd, buf, &have);
        if (head_len <= 0)
            break;
        /* The head is copied out so that pipelined bytes stay in buf. */
        char *head = es_xstrndup(buf, (size_t)head_len);
        memmove(buf, buf + head_len, have - (size_t)head_len);
        have -= (size_t)head_len;

        struct request rq;
        int rc = -1;
        if (parse_head(head, &rq) == 0) {
            const char *cl = req_header(&rq, "Content-Length");
            const char *conn_hdr = req_header(&rq, "Connection");
            int keep = rq.http10
                           ? conn_hdr && !strcasecmp(conn_hdr, "keep-alive")
                           : !(conn_hdr && !strcasecmp(conn_hdr, "close"));
            struct es_buf rbody = ES_BUF_INIT;
            if (!cl || read_body(fd, buf, &have, (size_t)strtoull(cl, NULL, 10),
                                 &rbody) == 0) {
                log_request(srv, &rq, &rbody);
                const struct es_testhttpd_response *r = lookup(srv, rq.path);
                struct es_testhttpd_response fr;
                struct es_buf fbody = ES_BUF_INIT;
                char etag[64], lm[64];
                if (r) {
                    rc = answer(srv, conn, fd, &rq, r, keep);
                } else if (file_response(srv, rq.path, &fr, &fbody, etag, lm) ==
                           0) {
                    rc = answer(srv, conn, fd, &rq, &fr, keep);
                } else {
                    struct es_testhttpd_response nf = {
                        .status = 404,
                        .content_type = "text/plain",
                        .body = "not found\n",
                    };
                    rc = answer(srv, conn, fd, &rq, &nf, keep);
                }
                es_buf_release(&fbody);
            }
            es_buf_release(&rbody);
        }
        free(head);
        if (rc != 0)
            break;
    }

    free(buf);
}

/* ==== Lifetime ==== */

int es_testhttpd_open(struct es_testhttpd **out, int port)
{
    struct es_testhttpd *srv = es_xcalloc(1, sizeof(*srv));

    *out = NULL;
    srv->logging = 1;
    pthread_mutex_init(&srv->lock, NULL);
    if (es_loopsrv_open(&srv->loop, port, 1024, serve_conn, srv) != 0) {
        fprintf(stderr, "testhttpd: cannot listen on 127.0.0.1:%d: %s\n", port,
                strerror(errno));
        pthread_mutex_destroy(&srv->lock);
        free(srv);
        return -1;
    }
    *out = srv;
    return 0;
}

void es_testhttpd_free(struct es_testhttpd *srv)
{
    if (!srv)
        return;

    /* First every connection thread ends: they use the routes. */
    es_loopsrv_free(srv->loop);
    for (size_t i = 0; i < srv->nroutes; i++) {
        for (size_t k = 0; k < srv->routes[i].n; k++)
            resp_free(&srv->routes[i].seq[k]);
        free(srv->routes[i].seq);
        free(srv->routes[i].path);
    }
    free(srv->routes);
    es_testhttpd_clear_log(srv);
    free(srv->log);
    free(srv->root);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
}

int es_testhttpd_port(const struct es_testhttpd *srv)
{
    return es_loopsrv_port(srv->loop);
}

char *es_testhttpd_url(const struct es_testhttpd *srv, const char *path)
{
    return es_xasprintf("http://127.0.0.1:%d%s", es_loopsrv_port(srv->loop),
                        path);
}
