/* source_googleplay.c - the "googleplay" kind: Google Play reviews
 *
 * The Play Developer API lists the reviews of an app the account
 * publishes (GET {base_url}/androidpublisher/v3/applications/{package}/
 * reviews, OAuth access token as "Authorization: Bearer"). Only reviews
 * created or modified in the last week are listed, newest first, in pages
 * chained by tokenPagination.nextPageToken.
 *
 * A review is a conversation: comments[] holds the user's comment and,
 * once the developer answered, a developerComment. The item is the user's
 * comment; whether the developer already replied goes into reply_ref as
 * {"review_id": "...", "replied": true|false}, which is what a reply
 * (reviews.reply) needs. The user comment's text is "title<TAB>body" when
 * the reviewer wrote a title: it is split into title and text. The app
 * version becomes the category "version:X" as for the App Store. Every
 * review is flagged ES_ITEM_DIRECT: it is about the account's own app.
 *
 * Paging and cursor: the cursor is the newest lastModified seen (Unix
 * seconds). A poll pages until a page has no review, reaches a review
 * older than the cursor, has no nextPageToken, or max_pages is reached,
 * and stores the new mark with that last page only. Reviews older than
 * the mark are not emitted again; an edited review comes back with a new
 * lastModified and is emitted again (the store sees the same id).
 */
#include <stdlib.h>
#include <string.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/source.h"
#include "json.h"
#include "stream.h"
#include "url.h"

/* Defined at the bottom; registry.c refers to it. */
extern const struct es_source_ops es_source_googleplay_ops;

#define KIND             "googleplay"
#define DEFAULT_BASE_URL "https://androidpublisher.googleapis.com"
#define PLAY_URL         "https://play.google.com/store/apps/details"
#define PAGE_SIZE        "100"
#define MAX_PAGES        ES_POLL_MAX_STEPS

struct googleplay_source {
    struct es_source base; /* must stay first */
    char *package;         /* com.example.app */
    int max_pages;
    char *auth_header; /* "Authorization: Bearer TOKEN": a secret */
    char *ua_header;   /* "User-Agent: ..." or NULL */
    struct es_buf url; /* the request URL, valid until the next call */
    /* Per poll: */
    char *next_token; /* nextPageToken of the last page, or NULL */
    int pages;        /* pages read */
    int done;
    int64_t since;  /* stored high-water mark, or ES_TIME_UNKNOWN */
    int64_t newest; /* newest lastModified seen in this poll */
};

/* What one page held. */
struct page_info {
    size_t reviews; /* review objects, emitted or not */
    size_t bad;     /* reviews without a reviewId */
    int64_t oldest; /* INT64_MAX when no time was seen */
    int64_t newest; /* ES_TIME_UNKNOWN when no time was seen */
};

struct ctx {
    const char *source;
    const char *package; /* for the url; NULL in `earshot parse` */
    int64_t since;
    es_item_cb emit;
    void *payload;
    struct page_info *info;
};

/* A Timestamp {"seconds": "1452283223", "nanos": 367000000}. */
static int64_t timestamp(yajl_val ts)
{
    long long secs;
    if (es_json_int(ts, "seconds", &secs) != 0)
        return ES_TIME_UNKNOWN;
    return (int64_t)secs;
}

/* Converts and emits one Review object. */
static int emit_review(struct ctx *c, yajl_val r)
{
    struct page_info *pi = c->info;
    yajl_val user = NULL, dev = NULL;
    struct es_item item;
    int rc;

    if (!es_json_is_object(r))
        return 0;
    pi->reviews++;
    const char *id = es_json_str(r, "reviewId");
    if (!id || !*id) {
        pi->bad++;
        return 0;
    }
    yajl_val comments = es_json_get(r, "comments");
    for (size_t i = 0; i < es_json_len(comments); i++) {
        yajl_val cm = es_json_at(comments, i);
        if (!user && es_json_is_object(es_json_get(cm, "userComment")))
            user = es_json_get(cm, "userComment");
        if (!dev && es_json_is_object(es_json_get(cm, "developerComment")))
            dev = es_json_get(cm, "developerComment");
    }
    int64_t t = timestamp(es_json_get(user, "lastModified"));
    if (t != ES_TIME_UNKNOWN) {
        if (t < pi->oldest)
            pi->oldest = t;
        if (pi->newest == ES_TIME_UNKNOWN || t > pi->newest)
            pi->newest = t;
        if (c->since != ES_TIME_UNKNOWN && t < c->since)
            return 0; /* seen in an earlier poll */
    }

    es_item_init(&item);
    item.platform = es_xstrdup(KIND);
    item.source = es_xstrdup(c->source);
    item.external_id = es_xstrdup(id);
    if (c->package) {
        struct es_buf u = ES_BUF_INIT;
        es_buf_adds(&u, PLAY_URL);
        es_url_add_param(&u, "id", c->package);
        es_url_add_param(&u, "reviewId", id);
        item.url = es_buf_detach(&u);
    }
    /* Play shows a display name only. */
    es_json_set(&item.author_name, es_json_str(r, "authorName"));
    const char *text = es_json_str(user, "text");
    const char *tab = text ? strchr(text, '\t') : NULL;
    if (tab) {
        if (tab > text)
            item.title = es_xstrndup(text, (size_t)(tab - text));
        es_json_set_plain_text(&item.text, tab + 1, 0);
    } else {
        es_json_set_plain_text(&item.text, text, 0);
    }
    item.created_at = t;
    item.updated_at = t;
    item.kind = ES_KIND_REVIEW;
    /* The API lists the reviews of the account's own apps only: each one
     * is addressed to the brand, whatever the source's query says. */
    item.flags = ES_ITEM_DIRECT;
    long long stars;
    if (es_json_int(user, "starRating", &stars) == 0 && stars >= 1 &&
        stars <= 5)
        item.rating = (int)stars;
    const char *lang = es_json_str(user, "reviewerLanguage");
    if (lang && *lang) {
        /* Android locales ("en_GB") as BCP 47 ("en-GB"). */
        item.lang = es_xstrdup(lang);
        for (char *p = item.lang; *p; p++)
            if (*p == '_')
                *p = '-';
    }
    const char *version = es_json_str(user, "appVersionName");
    if (version && *version) {
        char *cat = es_xasprintf("version:%s", version);
        es_item_add_category(&item, cat);
        free(cat);
    }
    struct es_buf ref = ES_BUF_INIT;
    es_buf_adds(&ref, "{\"review_id\":");
    es_buf_add_json_str(&ref, id, strlen(id));
    es_buf_addf(&ref, ",\"replied\":%s}", dev ? "true" : "false");
    item.reply_ref = es_buf_detach(&ref);
    rc = c->emit(&item, c->payload);
    es_item_release(&item);
    return rc;
}

/* Parses a reviews.list response (or one Review, from reviews.get).
 * Sets *next to the nextPageToken (borrowed from *root, which the caller
 * frees) when @next is not NULL. */
static int parse_body(struct ctx *c, const char *buf, size_t len,
                      yajl_val *root, const char **next)
{
    int rc = es_json_parse(root, KIND, buf, len);
    if (rc != 0)
        return rc;
    if (!es_json_is_object(*root))
        return es_json_shape_error(KIND, "$", "expected an object");
    if (es_json_get(*root, "error")) {
        char *why = es_json_error_text(buf, len);
        rc = es_error_set(ES_EPARSE, "%s: an error response, not reviews: %s",
                          KIND, why ? why : "no message");
        free(why);
        return rc;
    }
    if (next)
        *next =
            es_json_str(es_json_get(*root, "tokenPagination"), "nextPageToken");
    yajl_val reviews = es_json_get(*root, "reviews");
    if (es_json_str(*root, "reviewId")) {
        rc = emit_review(c, *root); /* reviews.get */
    } else if (reviews && !es_json_is_array(reviews)) {
        return es_json_shape_error(KIND, "$.reviews", "expected an array");
    } else if (!reviews && !es_json_get(*root, "tokenPagination") &&
               !es_json_get(*root, "pageInfo") && (*root)->u.object.len) {
        /* An empty list is {} (or has only the paging members). */
        return es_json_shape_error(KIND, "$.reviews",
                                   "expected a reviews list");
    }
    for (size_t i = 0; rc == 0 && i < es_json_len(reviews); i++)
        rc = emit_review(c, es_json_at(reviews, i));
    if (rc == 0 && c->info->bad)
        rc = es_error_set(ES_EPARSE,
                          "%s: %zu review%s without a reviewId "
                          "skipped",
                          KIND, c->info->bad, c->info->bad == 1 ? "" : "s");
    return rc;
}

static void page_info_init(struct page_info *pi)
{
    memset(pi, 0, sizeof(*pi));
    pi->oldest = INT64_MAX;
    pi->newest = ES_TIME_UNKNOWN;
}

static int googleplay_parse_any(const char *buf, size_t len,
                                const struct es_parse_opts *opts,
                                es_item_cb emit, void *payload)
{
    struct page_info pi;
    yajl_val root = NULL;
    page_info_init(&pi);
    struct ctx c = {
        .source = opts ? opts->source : NULL,
        .since = ES_TIME_UNKNOWN,
        .emit = emit,
        .payload = payload,
        .info = &pi,
    };
    int rc = parse_body(&c, buf, len, &root, NULL);
    es_json_free(root);
    return rc;
}

/* ==== The source ==== */

static int googleplay_open(struct es_source **out,
                           const struct es_config_source *cfg)
{
    *out = NULL;
    const char *package = es_config_source_get(cfg, "package");
    const char *max_pages = es_config_source_get(cfg, "max_pages");
    const char *ua = es_config_source_get(cfg, "user_agent");

    if (!package || !*package)
        return es_error_set(ES_EINVALID,
                            "%s:%d: [source \"%s\"] needs a package (the "
                            "app's package name, e.g. com.example.app)",
                            cfg->file, cfg->line, cfg->name);
    if (package[strspn(package, "abcdefghijklmnopqrstuvwxyz"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")])
        return es_error_set(ES_EINVALID,
                            "%s:%d: [source \"%s\"] package '%s' is not a "
                            "package name",
                            cfg->file, cfg->line, cfg->name, package);

    struct googleplay_source *s = es_xcalloc(1, sizeof(*s));
    int rc = es_source__init_base(&s->base, &es_source_googleplay_ops, cfg);
    if (rc != 0) {
        free(s);
        return rc;
    }
    if (!s->base.token) {
        es_source__release_base(&s->base);
        free(s);
        return es_error_set(ES_EINVALID,
                            "%s:%d: [source \"%s\"] needs a token or "
                            "token_file (an OAuth access token with the "
                            "androidpublisher scope)",
                            cfg->file, cfg->line, cfg->name);
    }
    s->package = es_xstrdup(package);
    s->max_pages = max_pages ? atoi(max_pages) : MAX_PAGES;
    if (s->max_pages < 1 || s->max_pages > MAX_PAGES)
        s->max_pages = MAX_PAGES;
    s->auth_header = es_xasprintf("Authorization: Bearer %s", s->base.token);
    if (ua && *ua)
        s->ua_header = es_xasprintf("User-Agent: %s", ua);
    es_buf_init(&s->url);
    s->since = s->newest = ES_TIME_UNKNOWN;
    *out = &s->base;
    return 0;
}

static void googleplay_begin(struct es_source *src, const char *cursor)
{
    struct googleplay_source *s = (struct googleplay_source *)src;
    free(s->next_token);
    s->next_token = NULL;
    s->pages = 0;
    s->done = 0;
    /* Unix seconds; a malformed cursor is ignored. */
    s->since = es_cursor_seconds(cursor);
    s->newest = s->since;
}

static int googleplay_request(struct es_source *src,
                              struct es_source_request *req)
{
    struct googleplay_source *s = (struct googleplay_source *)src;
    memset(req, 0, sizeof(*req));
    if (s->done)
        return ES_EUNCHANGED;
    const char *base = src->base_url ? src->base_url : DEFAULT_BASE_URL;
    size_t blen = es_url_trim_len(base);
    es_buf_reset(&s->url);
    es_buf_addf(&s->url, "%.*s/androidpublisher/v3/applications/", (int)blen,
                base);
    es_url_add_escaped(&s->url, s->package);
    es_buf_adds(&s->url, "/reviews");
    es_url_add_param(&s->url, "maxResults", PAGE_SIZE);
    es_url_add_param(&s->url, "token", s->next_token);
    req->url = s->url.ptr;
    size_t h = 0;
    req->headers[h++] = s->auth_header;
    req->headers[h++] = "Accept: application/json";
    if (s->ua_header)
        req->headers[h++] = s->ua_header;
    req->headers[h] = NULL;
    return 0;
}

static int googleplay_parse(struct es_source *src,
                            const struct es_source_response *res,
                            struct es_source_page *page, es_item_cb emit,
                            void *payload)
{
    struct googleplay_source *s = (struct googleplay_source *)src;
    struct page_info pi;
    yajl_val root = NULL;
    const char *next = NULL;
    page_info_init(&pi);
    struct ctx c = {
        .source = src->name,
        .package = s->package,
        .since = s->since,
        .emit = emit,
        .payload = payload,
        .info = &pi,
    };
    int rc = parse_body(&c, res->body, res->len, &root, &next);
    if (rc > 0 || (rc < 0 && rc != ES_EPARSE))
        goto done;
    s->pages++;
    if (pi.newest != ES_TIME_UNKNOWN &&
        (s->newest == ES_TIME_UNKNOWN || pi.newest > s->newest))
        s->newest = pi.newest;
    int reached = s->since != ES_TIME_UNKNOWN && pi.oldest < s->since;
    free(s->next_token);
    s->next_token = NULL;
    if (pi.reviews > 0 && !reached && next && *next &&
        s->pages < s->max_pages) {
        s->next_token = es_xstrdup(next);
        page->more = 1;
    } else {
        s->done = 1;
        if (s->newest != ES_TIME_UNKNOWN)
            page->cursor = es_xasprintf("%lld", (long long)s->newest);
    }
done:
    es_json_free(root);
    return rc;
}

static void googleplay_close(struct es_source *src)
{
    if (!src)
        return;
    struct googleplay_source *s = (struct googleplay_source *)src;
    if (s->auth_header) {
        memset(s->auth_header, 0, strlen(s->auth_header));
        free(s->auth_header);
    }
    es_source__release_base(&s->base);
    free(s->package);
    free(s->ua_header);
    free(s->next_token);
    es_buf_release(&s->url);
    free(s);
}

const struct es_source_ops es_source_googleplay_ops = {
    .name = KIND,
    .flags = ES_SOURCE_NEEDS_AUTH,
    .default_interval_s = 3600,
    .open = googleplay_open,
    .begin = googleplay_begin,
    .request = googleplay_request,
    .parse = googleplay_parse,
    .parse_any = googleplay_parse_any,
    .close = googleplay_close,
};
