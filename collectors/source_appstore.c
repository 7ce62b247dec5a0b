/* source_appstore.c - the "appstore" kind: App Store customer reviews
 *
 * Apple publishes the most recent customer reviews of every app, per
 * storefront country, as a public feed with no key:
 *
 *   {base_url}/{country}/rss/customerreviews/page={n}/id={app_id}/
 *       sortby=mostrecent/json     (or .../xml)
 *
 * The JSON variant is Apple's mechanical translation of the Atom feed:
 * every element becomes {"label": TEXT} and its attributes
 * {"attributes": {...}}, a repeated element becomes an array and a single
 * one an object (so feed.entry is an object when a page holds one entry).
 * The XML variant is the Atom feed itself with Apple's im: namespace. Both
 * go through the same review converter. Some pages mix in an entry that
 * describes the app (im:name, im:image, no im:rating): it is not a review
 * and is skipped.
 *
 * The feed is newest first and holds at most ten pages of 50. A poll reads
 * page 1, 2, ... until a page has no review, has a review older than the
 * stored high-water mark (the newest review time seen, as Unix seconds),
 * has no rel="next" link to a later page, or max_pages is reached; the new
 * high-water mark is stored with that last page only, so an interrupted
 * poll starts over instead of leaving a gap. Reviews older than the mark
 * are not emitted again.
 *
 * Each review's app version becomes the category "version:X.Y.Z".
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/source.h"
#include "html.h"
#include "json.h"
#include "stream.h"
#include "url.h"

/* Defined at the bottom; registry.c refers to it. */
extern const struct es_source_ops es_source_appstore_ops;

#define KIND             "appstore"
#define DEFAULT_BASE_URL "https://itunes.apple.com"
#define APP_PAGE_URL     "https://apps.apple.com"
#define IM_NS            "http://itunes.apple.com/rss"
#define ATOM_NS          "http://www.w3.org/2005/Atom"
#define MAX_PAGES        10 /* what Apple serves, whatever next says */
#define XML_MAX_BYTES    ((size_t)ES_JSON_MAX_BYTES)

struct appstore_source {
    struct es_source base; /* must stay first */
    char *app_id;          /* digits */
    char *country;         /* two lower-case letters */
    char *app_url;         /* the app's store page: the fallback url */
    int xml;               /* format = xml */
    int max_pages;         /* pages per poll */
    char *ua_header;       /* "User-Agent: ..." or NULL */
    struct es_buf url;     /* the request URL, valid until the next call */
    /* Per poll: */
    int page;       /* the page to request next (1-based) */
    int done;       /* the last page was read */
    int64_t since;  /* stored high-water mark, or ES_TIME_UNKNOWN */
    int64_t newest; /* newest review time seen in this poll */
};

/* What one page held, for the paging decision. */
struct page_info {
    size_t reviews;        /* review entries, emitted or not */
    size_t bad;            /* review entries without an id */
    int64_t oldest;        /* oldest review time; INT64_MAX when none */
    int64_t newest;        /* newest review time; ES_TIME_UNKNOWN when none */
    long next_page;        /* page number of rel="next", 0 when none */
    struct es_buf app_url; /* derived from the feed's own URL */
};

/* One conversion: where the items go and what to skip. */
struct ctx {
    const char *source;  /* item->source */
    const char *app_url; /* fallback url; NULL: derive from the feed */
    int64_t since;       /* skip reviews older than this */
    es_item_cb emit;
    void *payload;
    struct page_info *info;
};

/* A review as found in either format; borrowed strings. */
struct review {
    const char *id;
    const char *title;
    const char *text;    /* <content type="text"> */
    const char *html;    /* <content type="html">, when no text one */
    const char *author;  /* author/name */
    const char *updated; /* ISO 8601 */
    const char *version; /* im:version */
    const char *rating;  /* im:rating, "1".."5" */
    const char *link;    /* the review's link, if any */
    int is_app;          /* im:name or im:image: the app's own entry */
};

static void page_info_init(struct page_info *pi)
{
    memset(pi, 0, sizeof(*pi));
    pi->oldest = INT64_MAX;
    pi->newest = ES_TIME_UNKNOWN;
    es_buf_init(&pi->app_url);
}

/* Returns the page number in a feed URL ("/page=3/"), or 0. */
static long page_of(const char *href)
{
    const char *p = href ? strstr(href, "page=") : NULL;
    if (!p)
        return 0;
    char *end;
    long n = strtol(p + 5, &end, 10);
    return end != p + 5 && n > 0 && n < 1000 ? n : 0;
}

/* Writes the store page of the app whose review feed is @feed_url
 * (".../us/rss/customerreviews/.../id=123/...") into @out; nothing when
 * the URL is not one. */
static void derive_app_url(const char *feed_url, struct es_buf *out)
{
    if (!feed_url || out->len)
        return;
    const char *rss = strstr(feed_url, "/rss/customerreviews");
    if (!rss)
        return;
    const char *cc = rss;
    while (cc > feed_url && cc[-1] != '/')
        cc--;
    size_t cclen = (size_t)(rss - cc);
    const char *id = strstr(rss, "id=");
    if (!id || cclen < 2 || cclen > 3)
        return;
    id += 3;
    size_t idlen = strspn(id, "0123456789");
    if (idlen == 0 || idlen > 20)
        return;
    es_buf_addf(out, APP_PAGE_URL "/%.*s/app/id%.*s", (int)cclen, cc,
                (int)idlen, id);
}

/* Converts and emits one review. Returns 0 or what emit returned. */
static int emit_review(struct ctx *c, const struct review *r)
{
    struct page_info *pi = c->info;
    struct es_item item;
    int64_t t = ES_TIME_UNKNOWN;
    int rc = 0;

    /* The app's own entry, or anything else that is not a review. */
    if (r->is_app || !r->rating)
        return 0;
    pi->reviews++;
    if (!r->id || !*r->id) {
        pi->bad++;
        return 0;
    }
    if (r->updated && es_time_parse(r->updated, &t) != 0)
        t = ES_TIME_UNKNOWN;
    if (t != ES_TIME_UNKNOWN) {
        if (t < pi->oldest)
            pi->oldest = t;
        if (pi->newest == ES_TIME_UNKNOWN || t > pi->newest)
            pi->newest = t;
        /* Seen in an earlier poll: the store has it. */
        if (c->since != ES_TIME_UNKNOWN && t < c->since)
            return 0;
    }

    es_item_init(&item);
    item.platform = es_xstrdup(KIND);
    item.source = es_xstrdup(c->source);
    item.external_id = es_xstrdup(r->id);
    if (r->link && *r->link)
        item.url = es_xstrdup(r->link);
    else if (c->app_url)
        item.url = es_xstrdup(c->app_url);
    else if (pi->app_url.len)
        item.url = es_xstrdup(pi->app_url.ptr);
    /* Apple shows the nickname only: it is both handle and name. */
    es_json_set(&item.author, r->author);
    es_json_set(&item.author_name, r->author);
    es_json_set(&item.title, r->title);
    if (r->text) {
        es_json_set_plain_text(&item.text, r->text, 0);
    } else if (r->html) {
        es_json_set(&item.content, r->html);
        es_json_set_html_text(&item.text, r->html);
    }
    item.created_at = t;
    item.kind = ES_KIND_REVIEW;
    char *end;
    long stars = strtol(r->rating, &end, 10);
    item.rating = end != r->rating && *end == '\0' && stars >= 1 && stars <= 5
                      ? (int)stars
                      : 0;
    if (r->version && *r->version) {
        char *cat = es_xasprintf("version:%s", r->version);
        es_item_add_category(&item, cat);
        free(cat);
    }
    rc = c->emit(&item, c->payload);
    es_item_release(&item);
    return rc;
}

/* ==== JSON ==== */

/* The text of element @key of @obj: {"key": {"label": TEXT}}. */
static const char *label(yajl_val obj, const char *key)
{
    return es_json_str(es_json_get(obj, key), "label");
}

/* The href of the link of relation @rel among @links (one link object
 * or an array of them); NULL when there is none. A NULL @rel takes the
 * first link with an href. */
static const char *json_link(yajl_val links, const char *rel)
{
    size_t n = es_json_is_array(links) ? es_json_len(links) : 1;
    for (size_t i = 0; i < n; i++) {
        yajl_val l = es_json_is_array(links) ? es_json_at(links, i) : links;
        yajl_val a = es_json_get(l, "attributes");
        const char *href = es_json_str(a, "href");
        const char *r = es_json_str(a, "rel");
        if (href && (!rel || (r && strcmp(r, rel) == 0)))
            return href;
    }
    return NULL;
}

static int json_entry(struct ctx *c, yajl_val e)
{
    struct review r = { 0 };
    if (!es_json_is_object(e))
        return 0;
    r.id = label(e, "id");
    r.title = label(e, "title");
    r.author = es_json_str(es_json_path(e, "author.name"), "label");
    r.updated = label(e, "updated");
    r.version = label(e, "im:version");
    r.rating = label(e, "im:rating");
    r.is_app = es_json_get(e, "im:name") || es_json_get(e, "im:image");
    /* Apple sends the plain text version; take an html one only alone. */
    yajl_val content = es_json_get(e, "content");
    size_t n = es_json_is_array(content) ? es_json_len(content) : 1;
    for (size_t i = 0; i < n; i++) {
        yajl_val ce =
            es_json_is_array(content) ? es_json_at(content, i) : content;
        const char *type = es_json_str(es_json_get(ce, "attributes"), "type");
        const char *text = es_json_str(ce, "label");
        if (!text)
            continue;
        if (type && strcmp(type, "html") == 0) {
            if (!r.html)
                r.html = text;
        } else if (!r.text) {
            r.text = text;
        }
    }
    yajl_val links = es_json_get(e, "link");
    r.link = json_link(links, "related");
    if (!r.link)
        r.link = json_link(links, NULL);
    return emit_review(c, &r);
}

static int parse_json(struct ctx *c, const char *buf, size_t len)
{
    yajl_val root = NULL;
    int rc = es_json_parse(&root, KIND, buf, len);
    if (rc != 0)
        return rc;
    yajl_val feed = es_json_get(root, "feed");
    if (!es_json_is_object(feed)) {
        rc = es_json_shape_error(KIND, "$.feed", "expected a feed object");
        goto done;
    }
    yajl_val links = es_json_get(feed, "link");
    const char *next = json_link(links, "next");
    c->info->next_page = page_of(next);
    if (!c->app_url) {
        derive_app_url(json_link(links, "self"), &c->info->app_url);
        derive_app_url(label(feed, "id"), &c->info->app_url);
    }
    yajl_val entry = es_json_get(feed, "entry");
    if (es_json_is_array(entry)) {
        for (size_t i = 0; rc == 0 && i < es_json_len(entry); i++)
            rc = json_entry(c, es_json_at(entry, i));
    } else if (es_json_is_object(entry)) {
        rc = json_entry(c, entry); /* one entry: no array */
    } else if (entry) {
        rc = es_json_shape_error(KIND, "$.feed.entry",
                                 "expected an entry object or an array");
    }
done:
    es_json_free(root);
    return rc;
}

/* ==== XML ==== */

/* Whether @n is element @local in namespace @ns (NULL: Atom or none). */
static int is_el(const xmlNode *n, const char *ns, const char *local)
{
    if (n->type != XML_ELEMENT_NODE ||
        strcmp((const char *)n->name, local) != 0)
        return 0;
    const char *href = n->ns && n->ns->href ? (const char *)n->ns->href : NULL;
    if (ns)
        return href && strcmp(href, ns) == 0;
    return !href || strcmp(href, ATOM_NS) == 0;
}

/* The text content of @n as a malloc()ed string. */
static char *node_text(const xmlNode *n)
{
    xmlChar *s = xmlNodeGetContent(n);
    char *out = es_xstrdup(s ? (const char *)s : "");
    xmlFree(s);
    return out;
}

/* An attribute (no namespace) as a malloc()ed string, or NULL. */
static char *node_attr(const xmlNode *n, const char *name)
{
    xmlChar *s = xmlGetNoNsProp(n, (const xmlChar *)name);
    char *out = s ? es_xstrdup((const char *)s) : NULL;
    xmlFree(s);
    return out;
}

/* Sets *field to the text of @n unless already set. */
static void take_text(char **field, const xmlNode *n)
{
    if (!*field)
        *field = node_text(n);
}

static int xml_entry(struct ctx *c, const xmlNode *e)
{
    char *id = NULL, *title = NULL, *text = NULL, *html = NULL;
    char *author = NULL, *updated = NULL, *version = NULL, *rating = NULL;
    char *related = NULL, *anylink = NULL;
    int is_app = 0;

    for (const xmlNode *n = e->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (is_el(n, NULL, "id")) {
            take_text(&id, n);
        } else if (is_el(n, NULL, "title")) {
            take_text(&title, n);
        } else if (is_el(n, NULL, "updated")) {
            take_text(&updated, n);
        } else if (is_el(n, NULL, "content")) {
            char *type = node_attr(n, "type");
            if (type && strcmp(type, "html") == 0)
                take_text(&html, n);
            else
                take_text(&text, n);
            free(type);
        } else if (is_el(n, NULL, "author")) {
            for (const xmlNode *a = n->children; a; a = a->next)
                if (is_el(a, NULL, "name"))
                    take_text(&author, a);
        } else if (is_el(n, NULL, "link")) {
            char *rel = node_attr(n, "rel");
            char *href = node_attr(n, "href");
            if (href && rel && strcmp(rel, "related") == 0 && !related) {
                related = href;
                href = NULL;
            } else if (href && !anylink) {
                anylink = href;
                href = NULL;
            }
            free(rel);
            free(href);
        } else if (is_el(n, IM_NS, "rating")) {
            take_text(&rating, n);
        } else if (is_el(n, IM_NS, "version")) {
            take_text(&version, n);
        } else if (is_el(n, IM_NS, "name") || is_el(n, IM_NS, "image")) {
            is_app = 1;
        }
    }
    struct review r = {
        .id = id,
        .title = title,
        .text = text,
        .html = text ? NULL : html,
        .author = author,
        .updated = updated,
        .version = version,
        .rating = rating,
        .link = related ? related : anylink,
        .is_app = is_app,
    };
    int rc = emit_review(c, &r);
    free(id);
    free(title);
    free(text);
    free(html);
    free(author);
    free(updated);
    free(version);
    free(rating);
    free(related);
    free(anylink);
    return rc;
}

/* Entity declarations are dropped: a reference to one is then an
 * undeclared entity, a fatal error, so no entity ever expands (billion
 * laughs) and none names a file or URL (XXE). Apple's feed declares
 * none. */
static void no_entity_decl(void *ctx, const xmlChar *name, int type,
                           const xmlChar *public_id, const xmlChar *system_id,
                           xmlChar *content)
{
    (void)ctx;
    (void)name;
    (void)type;
    (void)public_id;
    (void)system_id;
    (void)content;
}

static int parse_xml(struct ctx *c, const char *buf, size_t len)
{
    xmlParserCtxtPtr pctx = NULL;
    xmlDocPtr doc = NULL;
    int rc = 0;

    if (len > XML_MAX_BYTES || len > INT_MAX)
        return es_error_set(ES_ETOOBIG,
                            "%s: XML body of %zu bytes is over the limit", KIND,
                            len);
    pctx = xmlNewParserCtxt();
    if (!pctx)
        return es_error_set(ES_ERROR, "%s: cannot create an XML parser", KIND);
    pctx->sax->entityDecl = no_entity_decl;
    pctx->sax->externalSubset = NULL; /* never load a DTD */
    /* No XML_PARSE_NOENT, DTDLOAD, DTDATTR or HUGE: nothing is loaded
     * and libxml2's own limits stay. */
    doc = xmlCtxtReadMemory(pctx, buf, (int)len, NULL, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR |
                                XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
    if (!doc) {
        const xmlError *err = xmlCtxtGetLastError(pctx);
        char msg[200] = "cannot parse";
        if (err && err->message) {
            snprintf(msg, sizeof(msg), "%s", err->message);
            msg[strcspn(msg, "\n")] = '\0';
        }
        rc = es_error_set(ES_EPARSE, "%s: invalid XML at line %d: %s", KIND,
                          err ? err->line : 0, msg);
        goto done;
    }
    const xmlNode *root = xmlDocGetRootElement(doc);
    if (!root || !is_el(root, NULL, "feed")) {
        rc = es_error_set(ES_EPARSE, "%s: not an Atom feed: the root is <%s>",
                          KIND, root ? (const char *)root->name : "");
        goto done;
    }
    for (const xmlNode *n = root->children; rc == 0 && n; n = n->next) {
        if (is_el(n, NULL, "link")) {
            char *rel = node_attr(n, "rel");
            char *href = node_attr(n, "href");
            if (rel && href && strcmp(rel, "next") == 0)
                c->info->next_page = page_of(href);
            if (rel && href && strcmp(rel, "self") == 0 && !c->app_url)
                derive_app_url(href, &c->info->app_url);
            free(rel);
            free(href);
        } else if (is_el(n, NULL, "id") && !c->app_url) {
            char *id = node_text(n);
            derive_app_url(id, &c->info->app_url);
            free(id);
        } else if (is_el(n, NULL, "entry")) {
            rc = xml_entry(c, n);
        }
    }
done:
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(pctx);
    return rc;
}

/* Parses either format, judged by its first byte. */
static int parse_body(struct ctx *c, const char *buf, size_t len)
{
    size_t i = 0;
    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' ||
                       buf[i] == '\n'))
        i++;
    int rc = i < len && buf[i] == '<' ? parse_xml(c, buf, len)
                                      : parse_json(c, buf, len);
    if (rc == 0 && c->info->bad)
        rc = es_error_set(ES_EPARSE, "%s: %zu review%s without an id skipped",
                          KIND, c->info->bad, c->info->bad == 1 ? "" : "s");
    return rc;
}

static int appstore_parse_any(const char *buf, size_t len,
                              const struct es_parse_opts *opts, es_item_cb emit,
                              void *payload)
{
    struct page_info pi;
    page_info_init(&pi);
    struct ctx c = {
        .source = opts ? opts->source : NULL,
        .since = ES_TIME_UNKNOWN,
        .emit = emit,
        .payload = payload,
        .info = &pi,
    };
    int rc = parse_body(&c, buf, len);
    es_buf_release(&pi.app_url);
    return rc;
}

/* ==== The source ==== */

static int all_of(const char *s, const char *set)
{
    return *s && s[strspn(s, set)] == '\0';
}

static int appstore_open(struct es_source **out,
                         const struct es_config_source *cfg)
{
    *out = NULL;
    const char *app_id = es_config_source_get(cfg, "app_id");
    const char *country = es_config_source_get(cfg, "country");
    const char *format = es_config_source_get(cfg, "format");
    const char *max_pages = es_config_source_get(cfg, "max_pages");
    const char *ua = es_config_source_get(cfg, "user_agent");

    if (!app_id || !*app_id)
        return es_error_set(ES_EINVALID,
                            "%s:%d: [source \"%s\"] needs an app_id (the "
                            "number in the app's App Store URL)",
                            cfg->file, cfg->line, cfg->name);
    if (strncasecmp(app_id, "id", 2) == 0)
        app_id += 2; /* "id389801252" as in the URL */
    if (!all_of(app_id, "0123456789") || strlen(app_id) > 20)
        return es_error_set(ES_EINVALID,
                            "%s:%d: [source \"%s\"] app_id '%s' is not a "
                            "number",
                            cfg->file, cfg->line, cfg->name, app_id);
    if (!country)
        country = "us";
    if (strlen(country) != 2 ||
        !all_of(country,
                "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        return es_error_set(ES_EINVALID,
                            "%s:%d: [source \"%s\"] country '%s' is not a "
                            "two-letter code",
                            cfg->file, cfg->line, cfg->name, country);
    if (format && strcasecmp(format, "json") != 0 &&
        strcasecmp(format, "xml") != 0)
        return es_error_set(ES_EINVALID,
                            "%s:%d: [source \"%s\"] format '%s' is not json "
                            "or xml",
                            cfg->file, cfg->line, cfg->name, format);

    struct appstore_source *s = es_xcalloc(1, sizeof(*s));
    int rc = es_source__init_base(&s->base, &es_source_appstore_ops, cfg);
    if (rc != 0) {
        free(s);
        return rc;
    }
    s->app_id = es_xstrdup(app_id);
    s->country = es_xstrdup(country);
    s->country[0] = (char)(s->country[0] | 0x20); /* letters: lower case */
    s->country[1] = (char)(s->country[1] | 0x20);
    s->app_url =
        es_xasprintf(APP_PAGE_URL "/%s/app/id%s", s->country, s->app_id);
    s->xml = format && strcasecmp(format, "xml") == 0;
    s->max_pages = max_pages ? atoi(max_pages) : MAX_PAGES;
    if (s->max_pages < 1 || s->max_pages > MAX_PAGES)
        s->max_pages = MAX_PAGES;
    if (ua && *ua)
        s->ua_header = es_xasprintf("User-Agent: %s", ua);
    es_buf_init(&s->url);
    s->page = 1;
    s->since = ES_TIME_UNKNOWN;
    s->newest = ES_TIME_UNKNOWN;
    *out = &s->base;
    return 0;
}

static void appstore_begin(struct es_source *src, const char *cursor)
{
    struct appstore_source *s = (struct appstore_source *)src;
    s->page = 1;
    s->done = 0;
    /* The cursor is the newest review time, Unix seconds; anything else
     * (an old format, a hand edit) is ignored. */
    s->since = es_cursor_seconds(cursor);
    s->newest = s->since;
}

static int appstore_request(struct es_source *src,
                            struct es_source_request *req)
{
    struct appstore_source *s = (struct appstore_source *)src;
    memset(req, 0, sizeof(*req));
    if (s->done)
        return ES_EUNCHANGED;
    const char *base = src->base_url ? src->base_url : DEFAULT_BASE_URL;
    size_t blen = es_url_trim_len(base);
    es_buf_reset(&s->url);
    es_buf_addf(&s->url,
                "%.*s/%s/rss/customerreviews/page=%d/id=%s/sortby=mostrecent/"
                "%s",
                (int)blen, base, s->country, s->page, s->app_id,
                s->xml ? "xml" : "json");
    req->url = s->url.ptr;
    size_t h = 0;
    req->headers[h++] = s->xml ? "Accept: application/atom+xml, "
                                 "application/xml;q=0.9, */*;q=0.5"
                               : "Accept: application/json, */*;q=0.5";
    if (s->ua_header)
        req->headers[h++] = s->ua_header;
    req->headers[h] = NULL;
    return 0;
}

static int appstore_parse(struct es_source *src,
                          const struct es_source_response *res,
                          struct es_source_page *page, es_item_cb emit,
                          void *payload)
{
    struct appstore_source *s = (struct appstore_source *)src;
    struct page_info pi;
    page_info_init(&pi);
    struct ctx c = {
        .source = src->name,
        .app_url = s->app_url,
        .since = s->since,
        .emit = emit,
        .payload = payload,
        .info = &pi,
    };
    int rc = parse_body(&c, res->body, res->len);
    if (rc > 0 || (rc < 0 && rc != ES_EPARSE))
        goto done;
    if (pi.newest != ES_TIME_UNKNOWN &&
        (s->newest == ES_TIME_UNKNOWN || pi.newest > s->newest))
        s->newest = pi.newest;
    /* Older than the mark: everything after it is known too. */
    int reached = s->since != ES_TIME_UNKNOWN && pi.oldest < s->since;
    if (pi.reviews > 0 && !reached && pi.next_page > s->page &&
        s->page < s->max_pages && s->page < MAX_PAGES) {
        s->page++;
        page->more = 1;
    } else {
        s->done = 1;
        if (s->newest != ES_TIME_UNKNOWN)
            page->cursor = es_xasprintf("%lld", (long long)s->newest);
    }
done:
    es_buf_release(&pi.app_url);
    return rc;
}

static void appstore_close(struct es_source *src)
{
    if (!src)
        return;
    struct appstore_source *s = (struct appstore_source *)src;
    es_source__release_base(&s->base);
    free(s->app_id);
    free(s->country);
    free(s->app_url);
    free(s->ua_header);
    es_buf_release(&s->url);
    free(s);
}

const struct es_source_ops es_source_appstore_ops = {
    .name = KIND,
    .flags = 0,
    .default_interval_s = 3600,
    .open = appstore_open,
    .begin = appstore_begin,
    .request = appstore_request,
    .parse = appstore_parse,
    .parse_any = appstore_parse_any,
    .close = appstore_close,
};
