/* source_rss.c - the "rss" source kind: RSS, RDF, Atom and JSON feeds
 *
 * The simplest kind and the model for the others: the request is the
 * configured URL, and the body goes to the streaming feed parser
 * (feed.c). The charset named by the Content-Type header is passed on,
 * because a feed served as ISO-8859-1 without an XML declaration saying so
 * is common, and relative links resolve against the feed's own URL.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/feed.h"
#include "earshot/source.h"

/* Defined at the bottom; registry.c refers to it. */
extern const struct es_source_ops es_source_rss_ops;

struct rss_source {
    struct es_source base; /* must stay first */
};

/* What we would rather get, in order; a server ignoring it is fine. */
#define ACCEPT                                                                  \
    "Accept: application/rss+xml, application/atom+xml, "                       \
    "application/feed+json, application/rdf+xml;q=0.9, application/xml;q=0.8, " \
    "text/xml;q=0.8, application/json;q=0.8, */*;q=0.5"

static int has_scheme(const char *url, const char *scheme)
{
    size_t n = strlen(scheme);
    return strncasecmp(url, scheme, n) == 0 && strncmp(url + n, "://", 3) == 0;
}

static int rss_open(struct es_source **out, const struct es_config_source *cfg)
{
    *out = NULL;
    if (!cfg->url || !*cfg->url)
        return es_error_set(ES_EINVALID, "%s:%d: [source \"%s\"] needs a url",
                            cfg->file, cfg->line, cfg->name);
    if (!has_scheme(cfg->url, "http") && !has_scheme(cfg->url, "https") &&
        !has_scheme(cfg->url, "file"))
        return es_error_set(
            ES_EINVALID,
            "%s:%d: [source \"%s\"] url '%s' is not http, https or file",
            cfg->file, cfg->line, cfg->name, cfg->url);

    struct rss_source *s = es_xcalloc(1, sizeof(*s));
    int rc = es_source__init_base(&s->base, &es_source_rss_ops, cfg);
    if (rc != 0) {
        free(s);
        return rc;
    }
    *out = &s->base;
    return 0;
}

static int rss_request(struct es_source *src, struct es_source_request *req)
{
    memset(req, 0, sizeof(*req));
    req->url = src->url;
    req->headers[0] = ACCEPT;
    req->conditional = 1; /* a feed is the same URL every time */
    return 0;
}

/* Copies the charset parameter of Content-Type @ct into @out (at most
 * @size bytes with the NUL). Returns @out, or NULL when there is none. */
static char *content_type_charset(const char *ct, char *out, size_t size)
{
    if (!ct)
        return NULL;
    for (const char *p = strchr(ct, ';'); p; p = strchr(p + 1, ';')) {
        const char *v = p + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        if (strncasecmp(v, "charset", 7) != 0)
            continue;
        v += 7;
        while (*v == ' ' || *v == '\t')
            v++;
        if (*v != '=')
            continue;
        v++;
        while (*v == ' ' || *v == '\t')
            v++;
        int quoted = *v == '"';
        if (quoted)
            v++;
        size_t len = strcspn(v, quoted ? "\"" : "; \t");
        if (len == 0 || len >= size)
            return NULL;
        memcpy(out, v, len);
        out[len] = '\0';
        return out;
    }
    return NULL;
}

static int rss_parse(struct es_source *src,
                     const struct es_source_response *res,
                     struct es_source_page *page, es_item_cb emit,
                     void *payload)
{
    char charset[64];
    struct es_feed_opts opts = {
        .source = src->name,
        .base_url = src->url,
        .charset =
            content_type_charset(res->content_type, charset, sizeof(charset)),
    };
    (void)page; /* one document, no cursor: the validators do that job */
    return es_feed_parse(res->body, res->len, &opts, emit, payload, NULL);
}

static void rss_close(struct es_source *src)
{
    if (!src)
        return;
    struct rss_source *s = (struct rss_source *)src; /* base is first */
    es_source__release_base(&s->base);
    free(s);
}

const struct es_source_ops es_source_rss_ops = {
    .name = "rss",
    .flags = 0,
    .default_interval_s = 900,
    .open = rss_open,
    .request = rss_request,
    .parse = rss_parse,
    .close = rss_close,
};
