/* pollrun.c - run a collector once through the poller and keep what it said
 *
 * Shared by the collector tests; see pollrun.h. Items a poll reports are
 * taken over from the result, so the poller frees nothing twice.
 */
#include "pollrun.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka.h needs setjmp.h, stdarg.h and stddef.h first. */
#include <cmocka.h>

#include "collectors/url.h"
#include "earshot/alloc.h"
#include "earshot/source.h"
#include "testhttpd.h"

/* ==== Items ==== */

int es_caught_add(const struct es_item *item, void *payload)
{
    struct es_caught *c = payload;
    c->items = es_xrealloc(c->items, (c->n + 1) * sizeof(*c->items));
    c->items[c->n++] = es_item_dup(item);
    if (c->stop_after && c->n == c->stop_after)
        return 5;
    return 0;
}

void es_caught_release(struct es_caught *c)
{
    for (size_t i = 0; i < c->n; i++)
        es_item_free(c->items[i]);
    free(c->items);
    memset(c, 0, sizeof(*c));
}

const struct es_item *es_caught_find(const struct es_caught *c, const char *id)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->items[i]->external_id, id) == 0)
            return c->items[i];
    return NULL;
}

size_t es_caught_count(const struct es_caught *c, const char *id)
{
    size_t n = 0;
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->items[i]->external_id, id) == 0)
            n++;
    return n;
}

/* ==== Fixtures ==== */

/* ES_FIXTURES/<@fmt with @ap>. */
static char *vpath(const char *fmt, va_list ap)
{
    struct es_buf b = ES_BUF_INIT;
    es_buf_adds(&b, ES_FIXTURES "/");
    es_buf_vaddf(&b, fmt, ap);
    return es_buf_detach(&b);
}

char *es_pollrun_fixture_path(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *path = vpath(fmt, ap);
    va_end(ap);
    return path;
}

char *es_pollrun_fixture(size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *path = vpath(fmt, ap);
    va_end(ap);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open fixture %s", path);
    struct es_buf b = ES_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        es_buf_add(&b, chunk, n);
    fclose(f);
    free(path);
    if (len)
        *len = b.len;
    return es_buf_detach(&b);
}

void es_pollrun_route_file(struct es_testhttpd *srv, const char *path,
                           const char *rel, const char *content_type)
{
    char *file = es_pollrun_fixture_path("%s", rel);
    /* The server reads it per request; a typo must fail here, not as an
     * empty answer. */
    FILE *f = fopen(file, "rb");
    if (!f)
        fail_msg("cannot open fixture %s", file);
    fclose(f);
    struct es_testhttpd_response r = {
        .content_type = content_type,
        .body_file = file,
    };
    es_testhttpd_route(srv, path, &r);
    free(file);
}

char *es_pollrun_conf(struct es_testhttpd *srv, const char *text)
{
    struct es_buf b = ES_BUF_INIT;
    char *base = es_testhttpd_url(srv, "");
    const char *p = text, *q;
    while ((q = strstr(p, "@BASE@")) != NULL) {
        es_buf_add(&b, p, (size_t)(q - p));
        es_buf_adds(&b, base);
        p = q + strlen("@BASE@");
    }
    es_buf_adds(&b, p);
    free(base);
    return es_buf_detach(&b);
}

/* ==== One poll ==== */

static int on_result(struct es_poll_result *res, void *payload)
{
    struct es_polled *p = payload;
    if (p->calls < ES_POLLED_STEPS)
        p->cursors[p->calls] = es_xstrdup(res->cursor);
    p->calls++;
    p->status = res->status;
    p->http_code = res->http_code;
    if (res->retry_after > p->retry_after)
        p->retry_after = res->retry_after;
    if (res->status < 0)
        p->failures++;
    if (res->error) {
        if (!p->first_error)
            p->first_error = es_xstrdup(res->error);
        free(p->error);
        p->error = es_xstrdup(res->error);
        es_buf_adds(&p->errors, res->error);
        es_buf_addch(&p->errors, '\n');
    }
    if (res->cursor) {
        free(p->cursor);
        p->cursor = es_xstrdup(res->cursor);
    }
    struct es_caught *c = &p->items;
    for (size_t i = 0; i < res->nitems; i++) {
        c->items = es_xrealloc(c->items, (c->n + 1) * sizeof(*c->items));
        c->items[c->n++] = res->items[i];
    }
    free(res->items);
    res->items = NULL;
    res->nitems = 0;
    return 0;
}

void es_polled_run(struct es_polled *p, struct es_source *src,
                   const char *cursor, const char *etag)
{
    memset(p, 0, sizeof(*p));
    es_buf_init(&p->errors);
    p->retry_after = -1;
    struct es_poller *poller = es_poller_new(NULL);
    struct es_poll_job job = { .src = src, .cursor = cursor, .etag = etag };
    assert_int_equal(es_poller_run(poller, &job, 1, on_result, p), 0);
    es_poller_free(poller);
}

void es_polled_release(struct es_polled *p)
{
    es_caught_release(&p->items);
    for (size_t i = 0; i < ES_POLLED_STEPS; i++)
        free(p->cursors[i]);
    free(p->first_error);
    free(p->error);
    free(p->cursor);
    es_buf_release(&p->errors);
    memset(p, 0, sizeof(*p));
}

/* ==== Requests the server logged ==== */

char *es_pollrun_param(struct es_testhttpd *srv, const char *path, long nth,
                       const char *name)
{
    char *q = es_testhttpd_query(srv, path, nth);
    if (!q)
        return NULL;
    char *url = es_xasprintf("http://x/?%s", q);
    struct es_buf out = ES_BUF_INIT;
    char *ret = NULL;
    if (es_url_query_param(url, name, &out) == 0)
        ret = es_buf_detach(&out);
    es_buf_release(&out);
    free(url);
    free(q);
    return ret;
}

/* Fails unless @got (freed here) is @want, or absent when @want is NULL;
 * @what names the kind of value in the message. */
static void check_logged(char *got, const char *what, const char *path,
                         long nth, const char *name, const char *want)
{
    if (!want && got) {
        fail_msg("%s #%ld: %s %s '%s', expected none", path, nth, what, name,
                 got);
    } else if (want && (!got || strcmp(got, want) != 0)) {
        fail_msg("%s #%ld: %s %s is '%s', expected '%s'", path, nth, what, name,
                 got ? got : "(none)", want);
    }
    free(got);
}

void es_pollrun_assert_param(struct es_testhttpd *srv, const char *path,
                             long nth, const char *name, const char *want)
{
    check_logged(es_pollrun_param(srv, path, nth, name), "parameter", path, nth,
                 name, want);
}

void es_pollrun_assert_header(struct es_testhttpd *srv, const char *path,
                              long nth, const char *name, const char *want)
{
    check_logged(es_testhttpd_header(srv, path, nth, name), "header", path, nth,
                 name, want);
}
