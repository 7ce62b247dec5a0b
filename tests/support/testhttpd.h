/* testhttpd.h - a scriptable HTTP/1.1 server on 127.0.0.1 for tests
 *
 * The collectors are tested against real sockets without touching the
 * internet: a test opens a server on a free loopback port, scripts what
 * each path answers (status, headers, body, gzip, validators and 304s,
 * redirects, delays, resets, a sequence of answers), points a source at
 * es_testhttpd_url(), and afterwards asserts on what the client sent.
 * Each connection gets its own thread and keep-alive is honoured, so
 * thousands of requests go through quickly. es-fakeserver
 * (tests/fakeserver_main.c) wraps the same server around a folder.
 */
#ifndef EARSHOT_TESTHTTPD_H
#define EARSHOT_TESTHTTPD_H

#include <stddef.h>

/* How a path answers. Zero-initialise and set what matters; every string
 * is copied when the route is registered. */
struct es_testhttpd_response {
    int status;                /* 0 means 200 */
    const char *content_type;  /* NULL: no Content-Type header */
    const char *headers;       /* extra lines, each ending in "\r\n" */
    const char *body;          /* the body; NULL: empty */
    size_t body_len;           /* 0: strlen(body) */
    const char *body_file;     /* read the body from this file instead */
    size_t body_size;          /* with no body: this many filler bytes */
    int gzip;                  /* gzip the body if the client accepts it */
    int chunked;               /* chunked, no Content-Length */
    const char *etag;          /* sent; 304 when If-None-Match has it */
    const char *last_modified; /* sent; 304 when If-Modified-Since is it */
    const char *location;      /* Location header (redirects) */
    unsigned delay_ms;         /* wait before the status line */
    unsigned stall_ms;         /* wait between headers and body */
    int reset;                 /* reset the connection instead (RST) */
    int close;                 /* close the connection after answering */
};

struct es_testhttpd;

/* Listens on 127.0.0.1:@port (0 picks a free one) and starts serving.
 * Returns 0, or -1 with a message on stderr. The caller frees the server
 * with es_testhttpd_free(), which stops it and closes every connection. */
int es_testhttpd_open(struct es_testhttpd **out, int port);
void es_testhttpd_free(struct es_testhttpd *srv);

int es_testhttpd_port(const struct es_testhttpd *srv);
/* Returns "http://127.0.0.1:PORT" followed by @path; the caller frees
 * it. */
char *es_testhttpd_url(const struct es_testhttpd *srv, const char *path);

/* Every request for @path (the part before '?') gets @resp, replacing an
 * earlier route. Thread-safe. */
void es_testhttpd_route(struct es_testhttpd *srv, const char *path,
                        const struct es_testhttpd_response *resp);
/* The k-th request for @path gets @seq[k], and every request after the
 * @n-th gets @seq[n - 1] (first a 500, then 200s). Thread-safe. */
void es_testhttpd_route_seq(struct es_testhttpd *srv, const char *path,
                            const struct es_testhttpd_response *seq, size_t n);
/* Serves files under @dir for paths with no route, with ETag and
 * Last-Modified from the file and 304s; ".." is refused. */
void es_testhttpd_set_root(struct es_testhttpd *srv, const char *dir);
/* Whether requests are logged for the calls below (default yes; a
 * long-running fake server turns it off). */
void es_testhttpd_set_logging(struct es_testhttpd *srv, int on);

/* Number of requests logged for @path (NULL: all paths). */
size_t es_testhttpd_hits(struct es_testhttpd *srv, const char *path);
/* Returns a copy of header @name (case-insensitive) of the @nth request
 * for @path (NULL: any path), counting from 0, or from the end when @nth
 * is negative (-1 is the latest); NULL when there is no such request or
 * header. The caller frees the result with free(). */
char *es_testhttpd_header(struct es_testhttpd *srv, const char *path, long nth,
                          const char *name);
/* Like es_testhttpd_header() for the method or the query string (NULL
 * when the target had no '?'). */
char *es_testhttpd_method(struct es_testhttpd *srv, const char *path, long nth);
char *es_testhttpd_query(struct es_testhttpd *srv, const char *path, long nth);
/* The body of that request ("" when it had none; the first MiB). */
char *es_testhttpd_body(struct es_testhttpd *srv, const char *path, long nth);
/* Number of TCP connections accepted so far (keep-alive tests). */
size_t es_testhttpd_connections(struct es_testhttpd *srv);
/* The most requests that were in their delay_ms at once since the last
 * reset: requests a client had in flight together, since none of them
 * had an answer yet. The reset returns how many wait now (a test before
 * may have left one waiting). */
size_t es_testhttpd_peak_waiting(struct es_testhttpd *srv);
size_t es_testhttpd_reset_waiting(struct es_testhttpd *srv);
/* Forgets the logged requests. */
void es_testhttpd_clear_log(struct es_testhttpd *srv);

/* Writes @len bytes of @buf into @out as a gzip member (stored deflate
 * blocks: valid gzip that any decoder reads, no zlib needed). */
struct es_buf;
void es_testhttpd_gzip(const void *buf, size_t len, struct es_buf *out);

#endif
