/* jsonfeed.c - JSON Feed 1.0 and 1.1 into the feeds' item model
 *
 * The fields: id (else url), url (else external_url: a link post's
 * target is what it is about), title, summary, content_html (else
 * content_text) as the content, date_published and date_modified, authors
 * (1.1) or author (1.0) of the item or else of the feed, tags, language.
 * Every member is optional to this reader, since real feeds leave out
 * what the spec requires (an id, most often); what has the wrong type is
 * ignored.
 */
#include "jsonfeed.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "earshot/buf.h"
#include "earshot/error.h"
#include "html.h"
#include "json.h"
#include "url.h"

#define VERSION_PREFIX "https://jsonfeed.org/version/"

/* 1 when @v names a JSON Feed version: "https://jsonfeed.org/version/1.1",
 * or as generators also write it: "http:", "www.", no scheme, or the
 * bare number ("1.0", which gofeed's sample has). */
static int is_version(const char *v)
{
    static const char *const bare[] = { "1", "1.0", "1.1" };
    if (!v)
        return 0;
    const char *at = strstr(v, "jsonfeed.org/version/");
    if (at && (at == v || at[-1] == '/' || at[-1] == '.'))
        return 1;
    for (size_t i = 0; i < sizeof(bare) / sizeof(bare[0]); i++)
        if (strcmp(v, bare[i]) == 0)
            return 1;
    return 0;
}

/* The name of author object @a, else its url; NULL when it has neither. */
static const char *author_in(yajl_val a, const char **name)
{
    *name = es_json_str(a, "name");
    if (*name && **name)
        return *name;
    *name = NULL;
    const char *url = es_json_str(a, "url");
    return url && *url ? url : NULL;
}

/* The first author of @obj: "authors" (1.1), else "author" (1.0), which
 * feeds keep beside an empty "authors" for older readers. */
static const char *author_of(yajl_val obj, const char **name)
{
    const char *who =
        author_in(es_json_at(es_json_get(obj, "authors"), 0), name);
    return who ? who : author_in(es_json_get(obj, "author"), name);
}

/* Adds the comma-separated tags of @s, trimmed, as categories. */
static void add_tag_list(struct es_item *item, const char *s)
{
    struct es_buf b = ES_BUF_INIT;
    while (*s) {
        size_t n = strcspn(s, ",");
        const char *t = s, *e = s + n;
        while (t < e && (*t == ' ' || *t == '\t'))
            t++;
        while (e > t && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e > t) {
            es_buf_reset(&b);
            es_buf_add(&b, t, (size_t)(e - t));
            es_item_add_category(item, b.ptr);
        }
        s += n + (s[n] == ',');
    }
    es_buf_release(&b);
}

/* Sets @field to @ref resolved against @base; NULL for no @ref. */
static void set_url(char **field, const char *base, const char *ref)
{
    if (!ref || !*ref) {
        es_json_set(field, NULL);
        return;
    }
    struct es_buf b = ES_BUF_INIT;
    es_url_resolve(base, ref, strlen(ref), &b);
    es_json_set(field, b.ptr);
    es_buf_release(&b);
}

/* FNV-1a 64 of title and date, as feed.c names an entry with neither id
 * nor link: stable from one poll to the next. */
static void hash_id(yajl_val it, char out[24])
{
    const char *parts[2] = { es_json_str(it, "title"),
                             es_json_str(it, "date_published") };
    uint64_t h = ES_FNV1A_INIT;
    for (size_t k = 0; k < 2; k++) {
        const char *s = parts[k] ? parts[k] : "";
        h = es_fnv1a(h, s, strlen(s));
        h = es_fnv1a(h, "\x1F", 1); /* a separator */
    }
    snprintf(out, 24, "h:%016llx", (unsigned long long)h);
}

static int emit_item(yajl_val it, yajl_val feed, const char *feed_lang,
                     const struct es_jsonfeed_opts *o)
{
    static char platform[] = "rss";
    struct es_item item;
    char idbuf[64], hash[24];
    es_item_init(&item);

    set_url(&item.url, o->base_url, es_json_str(it, "url"));
    if (!item.url)
        set_url(&item.url, o->base_url, es_json_str(it, "external_url"));
    /* A string id of any length; a number (1.0 feeds) as written. */
    const char *id = es_json_str(it, "id");
    if (!id || !*id)
        id = es_json_id(it, "id", idbuf, sizeof(idbuf));
    if (!id)
        id = item.url;
    if (!id) {
        hash_id(it, hash);
        id = hash;
    }
    es_json_set(&item.external_id, id);
    /* The spec makes a title plain text, but feeds made from a blog's
     * RSS templates carry its entities ("Q&amp;A", "&#8217;"): decoded,
     * as a browser would show them. */
    const char *title = es_json_str(it, "title");
    if (title && strchr(title, '&')) {
        struct es_buf t = ES_BUF_INIT;
        es_html_decode_entities(title, strlen(title), &t);
        es_json_set(&item.title, t.ptr ? t.ptr : "");
        es_buf_release(&t);
    } else {
        es_json_set(&item.title, title);
    }

    const char *name, *author = author_of(it, &name);
    if (!author)
        author = author_of(feed, &name);
    es_json_set(&item.author, author);
    es_json_set(&item.author_name, name);

    const char *html = es_json_str(it, "content_html");
    const char *plain = es_json_str(it, "content_text");
    const char *summary = es_json_str(it, "summary");
    if (html && !*html)
        html = NULL;
    if (plain && !*plain)
        plain = NULL;
    es_json_set(&item.summary, summary);
    es_json_set(&item.content, html ? html : plain);
    /* The text to classify: what a reader sees of the content, else the
     * summary, else the title, as for RSS and Atom. */
    if (html)
        es_json_set_html_text(&item.text, html);
    if ((!item.text || !*item.text) && plain)
        es_json_set_plain_text(&item.text, plain, 0);
    if ((!item.text || !*item.text) && summary)
        es_json_set_plain_text(&item.text, summary, 0);
    if ((!item.text || !*item.text) && item.title)
        es_json_set_plain_text(&item.text, item.title, 0);

    yajl_val tags = es_json_get(it, "tags");
    for (size_t i = 0; i < es_json_len(tags); i++) {
        yajl_val t = es_json_at(tags, i);
        if (YAJL_IS_STRING(t) && *t->u.string)
            es_item_add_category(&item, t->u.string);
    }
    if (tags && YAJL_IS_STRING(tags)) /* Grav: "workflow,omnifocus" */
        add_tag_list(&item, tags->u.string);
    item.updated_at = es_json_time(it, "date_modified");
    item.created_at = es_json_time(it, "date_published");
    if (item.created_at == ES_TIME_UNKNOWN)
        item.created_at = item.updated_at;
    const char *lang = es_json_str(it, "language");
    es_json_set(&item.lang, lang && *lang ? lang : feed_lang);

    item.platform = platform;
    item.source = o->source;
    item.kind = ES_KIND_ARTICLE;
    int rc = o->emit(&item, o->payload);
    item.platform = NULL; /* borrowed */
    item.source = NULL;
    es_item_release(&item);
    return rc;
}

int es_jsonfeed_parse(const char *buf, size_t len,
                      const struct es_jsonfeed_opts *opts, size_t *count,
                      size_t *skipped, char *why, size_t why_size)
{
    yajl_val doc;
    *count = *skipped = 0;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
        buf += 3; /* a BOM, which yajl does not skip */
        len -= 3;
    }
    if (es_json_parse(&doc, "JSON Feed", buf, len) != 0) {
        snprintf(why, why_size, "%s", es_error_last());
        return ES_EPARSE;
    }
    const char *version = es_json_str(doc, "version");
    yajl_val items = es_json_get(doc, "items");
    int rc = 0;
    if (!es_json_is_object(doc) || !is_version(version)) {
        snprintf(why, why_size,
                 "not an RSS, Atom or JSON feed (JSON without a \"version\" "
                 "naming %s)",
                 VERSION_PREFIX);
        rc = ES_EPARSE;
    } else if (items && !es_json_is_array(items)) {
        snprintf(why, why_size, "JSON Feed: \"items\" is not an array");
        rc = ES_EPARSE;
    }
    if (rc == 0 && opts->meta)
        rc = opts->meta(es_json_str(doc, "title"),
                        es_json_str(doc, "home_page_url"), opts->payload);
    const char *lang = es_json_str(doc, "language");
    for (size_t i = 0; rc == 0 && i < es_json_len(items); i++) {
        yajl_val it = es_json_at(items, i);
        if (!es_json_is_object(it)) {
            ++*skipped;
            continue;
        }
        ++*count; /* handed to emit, as feed.c counts */
        rc = emit_item(it, doc, lang && *lang ? lang : NULL, opts);
    }
    es_json_free(doc);
    return rc;
}
