/* test_feed.c - the RSS/Atom parser, its HTML and URL helpers
 *
 * Fixtures in tests/fixtures/feed/ are modelled on what real publishers
 * emit (WordPress, Reddit, GitHub, Blogger's Atom 0.3, Netscape's RSS
 * 0.91, an RSS 1.0 news site) plus the faults real feeds have. Hostile
 * documents (XXE, billion laughs, oversized, deeply nested) are built in
 * the tests. Every item any test sees is checked to be valid UTF-8.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* cmocka.h uses jmp_buf, va_list and size_t without including them. */
#include <cmocka.h>

#include <libxml/HTMLparser.h>

#include "collectors/html.h"
#include "collectors/url.h"
#include "earshot/buf.h"
#include "earshot/error.h"
#include "earshot/feed.h"
#include "earshot/item.h"

#define FIXTURE(name) ES_FIXTURES "/feed/" name

/* ==== Collecting what the parser emits ==== */

struct got {
    struct es_item **items;
    size_t n, alloc;
    int meta_calls;
    size_t items_before_meta; /* entries emitted before meta: must be 0 */
    char *meta_title, *meta_link;
    size_t stop_after; /* emit returns 7 once this many arrived (0: never) */
    int meta_rc;       /* what the meta callback returns */
    int keep;          /* 0: only count (large documents) */
};

static void assert_valid_utf8(const char *what, const char *s)
{
    if (!s)
        return;
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        unsigned long cp;
        size_t n = es_utf8_decode(s + i, len - i, &cp);
        if (n == 0)
            fail_msg("%s is not valid UTF-8 at byte %zu: \"%s\"", what, i, s);
        i += n;
    }
}

static void check_item(const struct es_item *it)
{
    assert_valid_utf8("platform", it->platform);
    assert_valid_utf8("source", it->source);
    assert_valid_utf8("external_id", it->external_id);
    assert_valid_utf8("url", it->url);
    assert_valid_utf8("author", it->author);
    assert_valid_utf8("author_name", it->author_name);
    assert_valid_utf8("title", it->title);
    assert_valid_utf8("text", it->text);
    assert_valid_utf8("summary", it->summary);
    assert_valid_utf8("content", it->content);
    assert_valid_utf8("lang", it->lang);
    for (size_t i = 0; i < it->ncategories; i++)
        assert_valid_utf8("category", it->categories[i]);
    /* Every entry is identified and normalised the same way. */
    assert_non_null(it->external_id);
    assert_string_equal(it->platform, "rss");
    assert_int_equal(it->kind, ES_KIND_ARTICLE);
    assert_true(it->fetched_at == ES_TIME_UNKNOWN);
    assert_true(it->author_followers == ES_COUNT_UNKNOWN);
    assert_null(it->in_reply_to);
    assert_null(it->thread_root);
    assert_int_equal(it->rating, 0);
}

static int collect(const struct es_item *item, void *payload)
{
    struct got *g = payload;
    check_item(item);
    if (g->keep) {
        if (g->n == g->alloc) {
            g->alloc = g->alloc ? g->alloc * 2 : 16;
            g->items = realloc(g->items, g->alloc * sizeof(*g->items));
            assert_non_null(g->items);
        }
        g->items[g->n] = es_item_dup(item);
    }
    g->n++;
    if (g->stop_after && g->n >= g->stop_after)
        return 7;
    return 0;
}

static int on_meta(const char *title, const char *link, void *payload)
{
    struct got *g = payload;
    assert_valid_utf8("feed title", title);
    assert_valid_utf8("feed link", link);
    g->meta_calls++;
    g->items_before_meta = g->n;
    free(g->meta_title);
    free(g->meta_link);
    g->meta_title = title ? strdup(title) : NULL;
    g->meta_link = link ? strdup(link) : NULL;
    return g->meta_rc;
}

static void got_clear(struct got *g)
{
    for (size_t i = 0; i < g->n && g->items; i++)
        es_item_free(g->items[i]);
    free(g->items);
    free(g->meta_title);
    free(g->meta_link);
    memset(g, 0, sizeof(*g));
    g->keep = 1;
}

static int setup(void **state)
{
    struct got *g = calloc(1, sizeof(*g));
    g->keep = 1;
    *state = g;
    return 0;
}

static int teardown(void **state)
{
    got_clear(*state);
    free(*state);
    return 0;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open fixture '%s'", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static int parse_buf(const char *buf, size_t len, const char *base_url,
                     struct got *g)
{
    struct es_feed_opts opts = {
        .source = "test",
        .base_url = base_url,
        .meta = on_meta,
    };
    size_t count = 0;
    int rc = es_feed_parse(buf, len, &opts, collect, g, &count);
    assert_int_equal(count, g->n);
    return rc;
}

static int parse_fixture(const char *path, const char *base_url, struct got *g)
{
    size_t len;
    char *buf = slurp(path, &len);
    int rc = parse_buf(buf, len, base_url, g);
    free(buf);
    return rc;
}

static const struct es_item *by_title(const struct got *g, const char *title)
{
    for (size_t i = 0; i < g->n; i++)
        if (g->items[i]->title && strcmp(g->items[i]->title, title) == 0)
            return g->items[i];
    fail_msg("no item titled \"%s\" among %zu", title, g->n);
    return NULL;
}

static const struct es_item *by_id(const struct got *g, const char *id)
{
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->items[i]->external_id, id) == 0)
            return g->items[i];
    fail_msg("no item with id \"%s\" among %zu", id, g->n);
    return NULL;
}

static int64_t date(const char *s)
{
    int64_t t;
    assert_int_equal(es_time_parse(s, &t), 0);
    return t;
}

static void assert_has_category(const struct es_item *it, const char *cat)
{
    for (size_t i = 0; i < it->ncategories; i++)
        if (strcmp(it->categories[i], cat) == 0)
            return;
    fail_msg("item \"%s\" has no category \"%s\"", it->title, cat);
}

/* Whether any string the parse produced contains @needle. */
static int anywhere(const struct got *g, const char *needle)
{
    if ((g->meta_title && strstr(g->meta_title, needle)) ||
        (g->meta_link && strstr(g->meta_link, needle)))
        return 1;
    for (size_t i = 0; i < g->n; i++) {
        const struct es_item *it = g->items[i];
        const char *f[] = { it->external_id, it->url,     it->author,
                            it->author_name, it->title,   it->text,
                            it->summary,     it->content, it->lang };
        for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++)
            if (f[k] && strstr(f[k], needle))
                return 1;
        for (size_t k = 0; k < it->ncategories; k++)
            if (strstr(it->categories[k], needle))
                return 1;
    }
    return 0;
}

/* ==== Formats ==== */

static void test_wordpress_rss2(void **state)
{
    struct got *g = *state;
    assert_int_equal(parse_fixture(FIXTURE("wordpress-rss2.xml"), NULL, g), 0);
    assert_int_equal(g->n, 3);
    assert_int_equal(g->meta_calls, 1);
    assert_int_equal(g->items_before_meta, 0);
    assert_string_equal(g->meta_title, "Brewtown Coffee Blog");
    assert_string_equal(g->meta_link, "https://blog.brewtown.example");

    const struct es_item *it = g->items[0];
    /* &#8211; and &#8217; are character references. */
    assert_string_equal(
        it->title,
        "Our new espresso blend \xE2\x80\x93 and why it\xE2\x80\x99s darker");
    assert_string_equal(
        it->url,
        "https://blog.brewtown.example/2024/05/02/new-espresso-blend/");
    assert_string_equal(it->external_id,
                        "https://blog.brewtown.example/?p=1482");
    assert_string_equal(it->source, "test");
    assert_string_equal(it->author, "Maria Okafor");
    assert_string_equal(it->author_name, "Maria Okafor");
    assert_int_equal(it->ncategories, 3);
    assert_string_equal(it->categories[0], "Coffee");
    assert_string_equal(it->categories[1], "Espresso");
    assert_string_equal(it->categories[2], "Announcements");
    assert_int_equal(it->created_at, date("2024-05-02T09:15:00Z"));
    assert_true(it->updated_at == ES_TIME_UNKNOWN);
    assert_string_equal(it->lang, "en-US");
    /* The description (CDATA) is kept as the HTML it is. */
    assert_non_null(strstr(it->summary, "too sour &#8230; <a href=\"https://"));
    /* content:encoded, as published (trimmed). */
    assert_true(strncmp(it->content, "<p>After six months", 19) == 0);
    assert_non_null(strstr(it->content, "<script type=\"text/javascript\">"));
    assert_non_null(strstr(it->content, "Caf&eacute; regulars"));
    /* The text comes from the content: tags, script and style gone,
     * references decoded, white space collapsed. */
    assert_string_equal(
        it->text,
        "After six months of cupping we are switching the house espresso to "
        "a darker roast. Customers told us the old blend was too sour \xE2\x80\xA6 "
        "and they were right. The new blend is 60% Brazil, 40% Ethiopia & it "
        "costs the same. Caf\xC3\xA9 regulars get a free cup this week.");

    it = g->items[1];
    assert_string_equal(
        it->title,
        "Closed on Monday for the \xE2\x80\x9CSpring Clean\xE2\x80\x9D");
    assert_string_equal(it->author, "Tom Reyes");
    assert_string_equal(it->text,
                        "Both shops will be closed on Monday 29 April while we "
                        "deep-clean the machines. Main Street: open again "
                        "Tuesday Harbour kiosk: open again Wednesday");

    /* No content:encoded: the text comes from the description. */
    it = g->items[2];
    assert_null(it->content);
    assert_string_equal(it->summary, "Listen to episode 12 of our podcast.");
    assert_string_equal(it->text, "Listen to episode 12 of our podcast.");
}

static void test_reddit_atom(void **state)
{
    struct got *g = *state;
    assert_int_equal(parse_fixture(FIXTURE("reddit-atom.xml"), NULL, g), 0);
    assert_int_equal(g->n, 2);
    assert_int_equal(g->meta_calls, 1);
    assert_string_equal(g->meta_title, "newest submissions : espresso");
    /* rel="alternate", not rel="self". */
    assert_string_equal(g->meta_link,
                        "https://www.reddit.example/r/espresso/new");

    const struct es_item *it = by_id(g, "t3_1cif0x2");
    assert_string_equal(it->title, "Brewtown's new blend: too bitter?");
    assert_string_equal(it->url,
                        "https://www.reddit.example/r/espresso/comments/"
                        "1cif0x2/brewtown_blend/");
    assert_string_equal(it->author, "/u/crema_queen");
    assert_int_equal(it->ncategories, 1);
    assert_string_equal(it->categories[0], "espresso");
    assert_int_equal(it->created_at, date("2024-05-02T10:31:44Z"));
    assert_int_equal(it->updated_at, date("2024-05-02T10:31:44Z"));
    assert_null(it->summary);
    /* type="html": the escaped markup, decoded once by XML. */
    assert_true(strncmp(it->content,
                        "<!-- SC_OFF --><div class=\"md\"><p>Just tried",
                        44) == 0);
    assert_non_null(strstr(it->content, "it&#39;s <em>way</em>"));
    assert_string_equal(
        it->text, "Just tried the new Brewtown blend and it's way too "
                  "bitter for me. Anyone else? submitted by /u/crema_queen "
                  "[link] [comments]");

    it = by_id(g, "t3_1cie9zz");
    assert_string_equal(it->title, "Grinder upgrade & first shots");
    assert_non_null(strstr(it->content, "?width=640&amp;crop=smart"));
}

static void test_github_atom(void **state)
{
    struct got *g = *state;
    assert_int_equal(parse_fixture(FIXTURE("github-atom.xml"), NULL, g), 0);
    assert_int_equal(g->n, 2);
    assert_string_equal(g->meta_title, "Release notes from roaster");
    assert_string_equal(g->meta_link,
                        "https://github.example/brewtown/roaster/releases");

    const struct es_item *it = by_title(g, "v2.4.0");
    assert_string_equal(it->external_id,
                        "tag:github.example,2008:Repository/48213377/v2.4.0");
    assert_string_equal(it->url, "https://github.example/brewtown/roaster/"
                                 "releases/tag/v2.4.0");
    assert_string_equal(it->author, "mokafor");
    /* No <published>: created_at falls back to <updated>. */
    assert_int_equal(it->created_at, date("2024-05-01T14:22:10Z"));
    assert_int_equal(it->updated_at, date("2024-05-01T14:22:10Z"));
    assert_string_equal(it->lang, "en-US"); /* xml:lang on <feed> */
    assert_string_equal(it->text,
                        "What's Changed Fix crash when the profile is empty by "
                        "@mokafor in #311 Faster temperature curve rendering "
                        "Full Changelog: v2.3.1...v2.4.0");
    it = by_title(g, "v2.3.1");
    assert_string_equal(it->author, "treyes");
    assert_string_equal(it->content, "<p>Bug fix release.</p>");
}

static void test_rss1_rdf(void **state)
{
    struct got *g = *state;
    assert_int_equal(parse_fixture(FIXTURE("rss1-rdf.xml"), NULL, g), 0);
    /* Items sit outside <channel>; <image> and <textinput> are not items. */
    assert_int_equal(g->n, 2);
    assert_string_equal(g->meta_title, "Harbour Town News");
    assert_string_equal(g->meta_link, "https://news.harbour.example/");

    const struct es_item *it = g->items[0];
    assert_string_equal(it->title, "Ferry delays expected all week");
    assert_string_equal(it->url,
                        "https://news.harbour.example/2024/05/ferry-delays");
    assert_string_equal(it->external_id,
                        "https://news.harbour.example/2024/05/ferry-delays");
    assert_string_equal(it->author, "Priya Nair");
    assert_int_equal(it->ncategories, 2);
    assert_string_equal(it->categories[0], "Transport");
    assert_string_equal(it->categories[1], "Ferries");
    assert_has_category(it, "Transport");
    assert_int_equal(it->created_at, date("2024-05-02T06:45:00Z"));
    assert_string_equal(it->summary, "Engine repairs mean the 7:40 ferry will "
                                     "run <b>late</b> until Friday.");
    assert_string_equal(it->text, "Engine repairs mean the 7:40 ferry will run "
                                  "late until Friday.");
    assert_string_equal(it->lang, "en-GB"); /* channel dc:language */

    it = g->items[1];
    assert_string_equal(it->author, "Sam Ortiz");
    assert_int_equal(it->created_at, date("2024-05-01T00:00:00Z"));
    assert_string_equal(it->text, "The weekly market will be held on the quay "
                                  "from June, the council said.");
}

static void test_atom03(void **state)
{
    struct got *g = *state;
    assert_int_equal(parse_fixture(FIXTURE("atom03.xml"), NULL, g), 0);
    assert_int_equal(g->n, 5);
    /* mode="escaped" type="text/html": "&amp;amp;" is an escaped "&amp;". */
    assert_string_equal(g->meta_title, "Bean & Leaf");
    assert_string_equal(g->meta_link, "http://beanandleaf.blogger.example");

    const struct es_item *it = by_title(g, "First flush Darjeeling");
    assert_string_equal(it->url, "http://beanandleaf.blogger.example/2005/03/"
                                 "first-flush.html");
    assert_string_equal(it->external_id,
                        "tag:blogger.example,1999:blog-11111.post-2001");
    assert_string_equal(it->author, "Ines Duarte");
    /* issued is the publication date; modified the update. */
    assert_int_equal(it->created_at, date("2005-03-14T21:01:00Z"));
    assert_int_equal(it->updated_at, date("2005-03-14T21:03:10Z"));
    assert_string_equal(it->content,
                        "<p>The first flush arrived &mdash; light, "
                        "floral, <i>gorgeous</i>.</p>");
    assert_string_equal(it->text, "The first flush arrived \xE2\x80\x94 light, "
                                  "floral, gorgeous.");
    assert_string_equal(it->lang, "en");

    /* mode="xml": inline XHTML, the div unwrapped; an author with only an
     * e-mail address. */
    it = by_title(g, "Guest post: my grinder");
    assert_string_equal(it->content,
                        "<p>The <b>hand grinder</b> is slow but quiet.</p>");
    assert_string_equal(it->summary, "A guest reviews a hand grinder");
    assert_string_equal(it->author, "guest@beanandleaf.example");
    assert_null(it->author_name);
    assert_string_equal(it->text, "The hand grinder is slow but quiet.");

    /* mode="base64" of an image is skipped; the feed's author stands
     * in. */
    it = by_title(g, "Photo post");
    assert_null(it->content);
    assert_string_equal(it->text, "Photo post");
    assert_string_equal(it->author, "Ines Duarte");

    /* mode="base64" of text or HTML (wrapped across lines) is decoded. */
    it = by_title(g, "Encoded post");
    assert_string_equal(it->content,
                        "<p>Decoded caf\xC3\xA9 &amp; <b>bold</b></p>");
    assert_string_equal(it->summary, "Plain summary");
    assert_string_equal(it->text, "Decoded caf\xC3\xA9 & bold");

    /* Not base64: no content, and no garbage. */
    it = by_title(g, "Broken encoding");
    assert_null(it->content);
    assert_string_equal(it->text, "Broken encoding");
}

/* JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/) read by the same
 * parser: the item model, relative links, and what real feeds leave out. */
static void test_jsonfeed_11(void **state)
{
    struct got *g = *state;
    char path[512];
    snprintf(path, sizeof(path), "%s/feed/jsonfeed-1.1.json", ES_FIXTURES);
    assert_int_equal(
        parse_fixture(path, "https://blog.acme.example/feed.json", g), 0);
    assert_int_equal(g->meta_calls, 1);
    assert_int_equal(g->items_before_meta, 0);
    assert_string_equal(g->meta_title, "Acme Engineering");
    assert_string_equal(g->meta_link, "https://blog.acme.example/");
    assert_int_equal(g->n, 4); /* the string among the items is skipped */

    /* An id longer than a platform's numeric ones, and not the url. */
    const struct es_item *it =
        by_id(g, "tag:blog.acme.example,2024-05-02:/2024/outage-report/"
                 "incident-review-and-next-steps");
    assert_string_equal(it->platform, "rss");
    assert_string_equal(it->source, "test");
    assert_int_equal(it->kind, ES_KIND_ARTICLE);
    assert_string_equal(it->url,
                        "https://blog.acme.example/2024/outage-report");
    assert_string_equal(it->title,
                        "Outage report: Q&A about the May 1 incident");
    assert_string_equal(it->content,
                        "<p>We&#8217;re <strong>sorry</strong> for the "
                        "downtime.</p>\n<p>Here is   what happened.</p>");
    assert_string_equal(it->summary, "What went wrong on May 1");
    assert_string_equal(it->text, "We\xE2\x80\x99re sorry for the downtime. "
                                  "Here is what happened.");
    assert_int_equal(it->created_at, date("2024-05-02T13:30:00Z"));
    assert_int_equal(it->updated_at, date("2024-05-03T10:00:00Z"));
    assert_string_equal(it->author, "Jo Bloggs"); /* the first of two */
    assert_string_equal(it->author_name, "Jo Bloggs");
    assert_int_equal(it->ncategories, 2);
    assert_has_category(it, "incident");
    assert_has_category(it, "status");
    assert_string_equal(it->lang, "en-GB");

    /* Plain text only; a relative url; the 1.0 "author" beside an empty
     * "authors"; the feed's language. */
    it = by_id(g, "42");
    assert_string_equal(it->url, "https://blog.acme.example/2024/new-region");
    assert_null(it->title);
    assert_string_equal(it->content,
                        "A new region opens in Toronto.\n\nSign up today.");
    assert_string_equal(it->text,
                        "A new region opens in Toronto. Sign up today.");
    assert_int_equal(it->created_at, date("2024-04-20T12:00:00Z"));
    assert_int_equal(it->updated_at, ES_TIME_UNKNOWN);
    assert_string_equal(it->author, "Riya Patel");
    assert_string_equal(it->lang, "en-US");

    /* A link post: external_url when there is no url; an empty
     * content_html gives way to content_text; tags in one string (Grav);
     * the feed's author. */
    it = by_id(g, "43");
    assert_string_equal(it->author, "Acme Team");
    assert_int_equal(it->ncategories, 2);
    assert_has_category(it, "funding");
    assert_has_category(it, "news");
    assert_string_equal(it->url, "https://news.example/acme-funding");
    assert_string_equal(it->content, "Acme raised money.");
    assert_string_equal(it->text, "Acme raised money.");
    assert_int_equal(it->created_at, ES_TIME_UNKNOWN);

    /* No id: the url names it, as a feed entry's link does. */
    it = by_title(g, "An item without an id");
    assert_string_equal(it->external_id,
                        "https://blog.acme.example/2024/no-id");
}

/* JSON Feed 1.0: "author" as one object, numeric ids, a version written
 * with "http:", and the same document pushed a byte at a time. */
static void test_jsonfeed_10(void **state)
{
    struct got *g = *state;
    char path[512];
    snprintf(path, sizeof(path), "%s/feed/jsonfeed-1.0.json", ES_FIXTURES);
    size_t len;
    char *buf = slurp(path, &len);
    struct es_feed_opts opts = { .source = "old", .meta = on_meta };
    struct es_feed_parser *p = es_feed_parser_new(&opts, collect, g);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(es_feed_parser_push(p, buf + i, 1), 0);
    assert_int_equal(g->n, 0); /* nothing before the end of the document */
    assert_int_equal(es_feed_parser_finish(p), 0);
    assert_int_equal(es_feed_parser_count(p), 2);
    es_feed_parser_free(p);
    free(buf);

    assert_string_equal(g->meta_title, "Old style");
    const struct es_item *it = by_id(g, "1");
    assert_string_equal(it->text, "Numeric id & entity");
    assert_string_equal(it->author, "Feed Author");
    assert_int_equal(it->created_at, date("2017-05-17T15:02:12Z"));
    assert_null(it->url);
    /* An author with a url and no name is named by the url. */
    it = by_id(g, "2");
    assert_string_equal(it->author, "https://jane.example/");
    assert_null(it->author_name);
    assert_string_equal(it->title, "Own author");
}

/* JSON that is no JSON Feed, or a broken one: an error that says which,
 * and nothing emitted. */
static void test_jsonfeed_errors(void **state)
{
    struct got *g = *state;
    static const struct {
        const char *doc, *why;
    } cases[] = {
        { "{\"title\": \"no version\", \"items\": []}",
          "not an RSS, Atom or JSON feed (JSON without a \"version\"" },
        { "[1, 2]", "not an RSS, Atom or JSON feed (JSON without" },
        { "{\"version\": \"https://jsonfeed.org/version/1.1\", \"items\": {}}",
          "\"items\" is not an array" },
        { "\xEF\xBB\xBF {\"version\": \"https://jsonfeed.org/version/1.1\", "
          "\"items\": [{\"id\": \"1\", \"content_text\": \"cut",
          "JSON Feed: invalid JSON" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        got_clear(g);
        assert_int_equal(parse_buf(cases[i].doc, strlen(cases[i].doc), NULL, g),
                         ES_EPARSE);
        if (!strstr(es_error_last(), cases[i].why))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, es_error_last(),
                     cases[i].why);
        assert_non_null(strstr(es_error_last(), "feed 'test': line 1: "));
        assert_int_equal(g->n, 0);
        assert_int_equal(g->meta_calls, 0);
    }
    /* An empty feed is a feed: its title, no items, no error; and so is
     * one whose version is spelt as generators spell it. */
    static const char *const versions[] = {
        "https://jsonfeed.org/version/1",
        "https://www.jsonfeed.org/version/1.1", "jsonfeed.org/version/1", "1.0"
    };
    for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
        char empty[200];
        int n = snprintf(empty, sizeof(empty),
                         "\xEF\xBB\xBF{\"version\": \"%s\", \"title\": "
                         "\"Quiet\", \"items\": []}",
                         versions[i]);
        got_clear(g);
        assert_int_equal(parse_buf(empty, (size_t)n, NULL, g), 0);
        assert_int_equal(g->meta_calls, 1);
        assert_string_equal(g->meta_title, "Quiet");
        assert_int_equal(g->n, 0);
    }
    got_clear(g);
    static const char other[] = "{\"version\": \"2.0\", \"items\": []}";
    assert_int_equal(parse_buf(other, sizeof(other) - 1, NULL, g), ES_EPARSE);
}

static void test_rss091_entities_and_fallback_ids(void **state)
{
    struct got *g = *state;
    /* The DOCTYPE names Netscape's DTD, which is never fetched: the HTML
     * entities it would declare are decoded all the same. */
    assert_int_equal(parse_fixture(FIXTURE("rss091.xml"), NULL, g), 0);
    assert_int_equal(g->n, 3);
    assert_string_equal(g->meta_title, "Caf\xC3\xA9 Society Weekly");

    const struct es_item *it = g->items[0];
    assert_string_equal(it->title,
                        "Le meilleur caf\xC3\xA9 de Paris \xE2\x80\x94 "
                        "notre s\xC3\xA9lection");
    assert_string_equal(it->summary,
                        "Nous avons go\xC3\xBBt\xC3\xA9 40 caf\xC3\xA9s "
                        "\xC3\xA0 Paris\xC2\xA0\xE2\x80\xA6 voici les "
                        "dix meilleurs.");
    /* The no-break space is white space in the text. */
    assert_string_equal(it->text,
                        "Nous avons go\xC3\xBBt\xC3\xA9 40 caf\xC3\xA9s "
                        "\xC3\xA0 Paris \xE2\x80\xA6 voici les dix "
                        "meilleurs.");
    /* No guid: the link identifies the entry. */
    assert_string_equal(it->external_id,
                        "http://www.cafesociety.example/2001/paris.html");
    assert_true(it->created_at == ES_TIME_UNKNOWN);
    assert_string_equal(it->lang, "fr");

    assert_string_equal(
        g->items[1]->summary,
        "The \xE2\x80\x98Harbour kiosk\xE2\x80\x99 opens in June.");

    /* Neither guid nor link: a hash of title and date. */
    it = g->items[2];
    assert_null(it->url);
    assert_int_equal(strlen(it->external_id), 18);
    assert_true(strncmp(it->external_id, "h:", 2) == 0);
    assert_true(strspn(it->external_id + 2, "0123456789abcdef") == 16);
}

static void test_no_guid(void **state)
{
    struct got *g = *state;
    assert_int_equal(parse_fixture(FIXTURE("no-guid.xml"), NULL, g), 0);
    assert_int_equal(g->n, 6);
    assert_string_equal(g->items[0]->external_id, "https://noguid.example/a");
    const char *h1 = g->items[1]->external_id, *h2 = g->items[2]->external_id;
    const char *h3 = g->items[3]->external_id;
    assert_true(strncmp(h1, "h:", 2) == 0 && strlen(h1) == 18);
    assert_true(strncmp(h3, "h:", 2) == 0 && strlen(h3) == 18);
    /* Same title, other date: other id. */
    assert_string_not_equal(h1, h2);
    assert_string_not_equal(h1, h3);
    assert_null(g->items[3]->title);
    assert_string_equal(g->items[3]->text, "Neither title nor date nor link.");
    /* A guid is a permalink unless it says otherwise. */
    assert_string_equal(g->items[4]->url, "https://noguid.example/permalink");
    assert_string_equal(g->items[4]->external_id,
                        "https://noguid.example/permalink");
    assert_null(g->items[5]->url);
    assert_string_equal(g->items[5]->external_id, "internal-77");

    /* The hash is stable from one poll to the next. */
    char *keep = strdup(h1);
    got_clear(g);
    assert_int_equal(parse_fixture(FIXTURE("no-guid.xml"), NULL, g), 0);
    assert_string_equal(g->items[1]->external_id, keep);
    free(keep);
}

static void test_dates_every_zone_form(void **state)
{
    struct got *g = *state;
    assert_int_equal(parse_fixture(FIXTURE("dates.xml"), NULL, g), 0);
    const int64_t want = date("2024-05-01T12:00:00Z");
    assert_int_equal(g->n, 32);
    for (size_t i = 0; i < g->n; i++) {
        const struct es_item *it = g->items[i];
        /* Go's zero time, Hugo's "no date", is none. */
        if (strcmp(it->external_id, "garbage") == 0 ||
            strcmp(it->external_id, "go-zero-time") == 0) {
            assert_true(it->created_at == ES_TIME_UNKNOWN);
            continue;
        }
        if (it->created_at != want)
            fail_msg("date of '%s' is %lld", it->external_id,
                     (long long)it->created_at);
    }
    assert_int_equal(by_id(g, "atom-updated")->updated_at, want);
}

/* ==== Text constructs and entities ==== */

static void test_atom_text_types(void **state)
{
    struct got *g = *state;
    assert_int_equal(parse_fixture(FIXTURE("atom-text-types.xml"), NULL, g), 0);
    assert_int_equal(g->n, 5);

    /* type="text": plain text, nothing is markup. */
    const struct es_item *it = by_id(g, "tag:types.example,2024:text");
    assert_string_equal(it->title, "Less-than in text: a < b & c > d");
    assert_string_equal(it->summary, "Plain text: <b>not bold</b> &amp; stays");
    assert_string_equal(it->text, "Plain text: <b>not bold</b> &amp; stays");

    /* type="html": the title becomes text; content kept as HTML. */
    it = by_id(g, "tag:types.example,2024:html");
    assert_string_equal(it->title, "HTML title: emphasis & more");
    assert_string_equal(it->summary, "<p>An <b>HTML</b> summary</p>");
    assert_string_equal(
        it->content,
        "<p>HTML content in <b>CDATA</b></p><script>alert(1)</script>");
    assert_string_equal(it->text, "HTML content in CDATA");

    /* type="xhtml": the serialised inner markup of the div. */
    it = by_id(g, "tag:types.example,2024:xhtml");
    assert_string_equal(it->title, "XHTML title");
    assert_string_equal(
        it->content,
        "<p>First &amp; <a href=\"https://types.example/?a=1&amp;b=2\">"
        "link</a></p><img src=\"x.png\" alt=\"an &lt;image&gt;\" />"
        "<br />Tail text &lt;3");
    assert_string_equal(it->text, "First & link Tail text <3");

    /* Out-of-line content: the summary is what there is. */
    it = by_id(g, "tag:types.example,2024:src");
    assert_null(it->content);
    assert_string_equal(it->text, "The summary is the text.");

    /* Text content: white space collapsed in the text only. */
    it = by_id(g, "tag:types.example,2024:plain");
    assert_string_equal(it->content, "Line one\n      line   two <tag> &nbsp;");
    assert_string_equal(it->text, "Line one line two <tag> &nbsp;");
}

static void test_html_entities_in_text(void **state)
{
    struct got *g = *state;
    assert_int_equal(parse_fixture(FIXTURE("entities-rss.xml"), NULL, g), 0);
    assert_int_equal(g->n, 2);
    assert_string_equal(g->meta_title,
                        "Entit\xC3\xA9s & Co \xE2\x80\x94 no DTD");

    const struct es_item *it = g->items[0];
    /* The text around each entity survives. */
    assert_string_equal(it->title, "Cr\xC3\xA8me br\xC3\xBBl\xC3\xA9"
                                   "e \xE2\x80\x93 the "
                                   "\xE2\x80\x98"
                                   "best\xE2\x80\x99 in town\xE2\x80\xA6");
    assert_string_equal(it->author, "Ren\xC3\xA9"
                                    "e Fa\xC3\xA7on");
    assert_string_equal(it->categories[0], "Caf\xC3\xA9s");
    /* &#150; and &#x92; are C1 controls in XML; read as Windows-1252. */
    assert_string_equal(it->summary, "<p>Price: \xE2\x82\xAC"
                                     "5\xC2\xA0\xE2\x80\x94 \"worth it\" says "
                                     "'Jo'.</p> Before\xC2\xA9"
                                     "after \xC2\xA9 \xE2\x98\xBA "
                                     "\xE2\x80\x93\xE2\x80\x99");
    assert_string_equal(it->text,
                        "Price: \xE2\x82\xAC"
                        "5 \xE2\x80\x94 \"worth it\" says 'Jo'. "
                        "Before\xC2\xA9"
                        "after \xC2\xA9 \xE2\x98\xBA \xE2\x80\x93\xE2\x80\x99");

    it = g->items[1];
    assert_string_equal(it->title, "Numbers: 5 < 7 && 8 > 2");
    /* Inside CDATA a reference is HTML source, decoded in the text. */
    assert_string_equal(it->summary, "In CDATA the &eacute; stays source: "
                                     "<b>caf&eacute;</b> &amp; more");
    assert_string_equal(
        it->text, "In CDATA the \xC3\xA9 stays source: caf\xC3\xA9 & more");
}

static void test_html_entities_in_attributes(void **state)
{
    struct got *g = *state;
    assert_int_equal(parse_fixture(FIXTURE("entities-atom.xml"), NULL, g), 0);
    assert_int_equal(g->n, 1);
    assert_string_equal(
        g->meta_link,
        "https://attr.example/caf\xC3\xA9/?a=1&b=\xC3\xA9t\xC3\xA9");
    const struct es_item *it = g->items[0];
    assert_string_equal(it->title,
                        "Entities in attributes: caf\xC3\xA9 & cr\xC3\xA8me");
    /* "&#38;amp;" is a literal "&amp;": decoded once, not twice. */
    assert_string_equal(it->url,
                        "https://attr.example/p?q=caf\xC3\xA9&x=<y>&z=&amp;");
    assert_int_equal(it->ncategories, 3);
    assert_string_equal(it->categories[0], "d\xC3\xA9j\xC3\xA0 vu");
    assert_string_equal(it->categories[1],
                        "na\xC3\xAFve \xE2\x80\x93 \"quoted\"");
    assert_string_equal(it->categories[2], "label \xE2\x82\xAC only");
    assert_string_equal(it->text, "caf\xC3\xA9");
}

static void test_entities_chunked_everywhere(void **state)
{
    struct got *g = *state;
    /* An entity split across pushes in text and in an attribute. */
    const char doc[] =
        "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\">"
        "<entry><id>1</id><title>a&eacute;b&hellip;c</title>"
        "<category term=\"x&eacute;y&amp;z\"/></entry></feed>";
    for (size_t step = 1; step <= 5; step++) {
        got_clear(g);
        struct es_feed_parser *p = es_feed_parser_new(NULL, collect, g);
        for (size_t off = 0; off < sizeof(doc) - 1; off += step) {
            size_t n =
                sizeof(doc) - 1 - off < step ? sizeof(doc) - 1 - off : step;
            assert_int_equal(es_feed_parser_push(p, doc + off, n), 0);
        }
        assert_int_equal(es_feed_parser_finish(p), 0);
        es_feed_parser_free(p);
        assert_int_equal(g->n, 1);
        assert_string_equal(g->items[0]->title, "a\xC3\xA9"
                                                "b\xE2\x80\xA6"
                                                "c");
        assert_string_equal(g->items[0]->categories[0], "x\xC3\xA9y&z");
        assert_null(g->items[0]->source); /* no opts: no source */
    }
}

/* Some publishers write an emoji as its two UTF-16 halves, each as a
 * numeric reference. libxml2 refuses such references and drops them; they
 * must come out as the character, and references to no character at all
 * as U+FFFD, however the document is split into pushes. */
static void test_surrogate_pair_references(void **state)
{
    struct got *g = *state;
    const char doc[] =
        "<rss version=\"2.0\"><channel><title>S</title>"
        "<item><guid>1</guid>"
        "<title>Nice &#55357;&#56832; work &#xD83D;&#xDC4D;</title>"
        "<description>Lone &#xD83D; and far &#1114112; and &#0; here"
        "</description></item>"
        "<item><guid>2</guid><title>Escaped</title><description>"
        "&lt;p&gt;Great &amp;#55357;&amp;#56832;&lt;/p&gt;</description>"
        "</item>"
        /* "&#X41;": HTML reads an upper-case X, XML does not. */
        "<item><guid>3</guid><title>Upper &#X41;&#X263a; &#XD83D;&#XDE00;"
        "</title></item></channel></rss>";
    for (size_t step = 1; step <= 64; step = step * 2 + 1) {
        got_clear(g);
        struct es_feed_parser *p = es_feed_parser_new(NULL, collect, g);
        for (size_t off = 0; off < sizeof(doc) - 1; off += step) {
            size_t n =
                sizeof(doc) - 1 - off < step ? sizeof(doc) - 1 - off : step;
            assert_int_equal(es_feed_parser_push(p, doc + off, n), 0);
        }
        assert_int_equal(es_feed_parser_finish(p), 0);
        es_feed_parser_free(p);
        assert_int_equal(g->n, 3);
        const struct es_item *it = by_id(g, "1");
        assert_string_equal(it->title, "Nice \xF0\x9F\x98\x80 work "
                                       "\xF0\x9F\x91\x8D");
        assert_string_equal(it->text, "Lone \xEF\xBF\xBD and far "
                                      "\xEF\xBF\xBD and \xEF\xBF\xBD here");
        it = by_id(g, "2");
        assert_string_equal(it->text, "Great \xF0\x9F\x98\x80");
        assert_string_equal(by_id(g, "3")->title,
                            "Upper A\xE2\x98\xBA \xF0\x9F\x98\x80");
    }
}

/* A channel that names itself only with dc:title (feedparser's corpus
 * has one): its title, as an item's dc:title is the item's. */
static void test_channel_dc_title(void **state)
{
    struct got *g = *state;
    static const char doc[] =
        "<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
        "<channel><dc:title>Acme &amp; Co</dc:title>"
        "<item><guid>1</guid><dc:title>Item</dc:title></item>"
        "</channel></rss>";
    assert_int_equal(parse_buf(doc, sizeof(doc) - 1, NULL, g), 0);
    assert_int_equal(g->meta_calls, 1);
    assert_string_equal(g->meta_title, "Acme & Co");
    assert_int_equal(g->items_before_meta, 0);
    assert_string_equal(by_id(g, "1")->title, "Item");
}

static void test_undefined_entity_kept_as_written(void **state)
{
    struct got *g = *state;
    const char doc[] =
        "<rss><channel><item><guid>1</guid>"
        "<title>Before &madeup; after</title></item>"
        "<item><guid>2</guid><title>Next &amp; fine</title></item>"
        "</channel></rss>";
    assert_int_equal(parse_buf(doc, sizeof(doc) - 1, NULL, g), ES_EPARSE);
    assert_non_null(
        strstr(es_error_last(), "line 1: entity 'madeup' not defined"));
    assert_int_equal(g->n, 2);
    assert_string_equal(g->items[0]->title, "Before &madeup; after");
    assert_string_equal(g->items[1]->title, "Next & fine");
}

/* HTML5 added names that HTML 4 lacked (&comma;, &lstrok;, &ccaron;):
 * publishers write them in XML with no DTD, and inside escaped HTML. */
static void test_html5_entities(void **state)
{
    struct got *g = *state;
    const char doc[] =
        "<rss><channel><item><guid>1</guid>"
        "<title>&Lstrok;&oacute;d&zacute;&comma; Brno &amp; &Ccaron;esk"
        "&yacute; Krumlov</title>"
        "<description>&lt;p&gt;Cena&amp;colon; 5&amp;nbsp;K&amp;ccaron;"
        " &amp;eacute &amp;star;&lt;/p&gt;</description>"
        "</item></channel></rss>";
    assert_int_equal(parse_buf(doc, sizeof(doc) - 1, NULL, g), 0);
    assert_int_equal(g->n, 1);
    assert_string_equal(g->items[0]->title, "\xC5\x81\xC3\xB3"
                                            "d\xC5\xBA, Brno & "
                                            "\xC4\x8C"
                                            "esk\xC3\xBD Krumlov");
    assert_string_equal(g->items[0]->text,
                        "Cena: 5 K\xC4\x8D \xC3\xA9 \xE2\x98\x86");
}

/* An RSS title is plain text by the spec and HTML in practice: it is read
 * as HTML only when it looks like some (an end tag, or a reference with
 * its ';' left after the XML is decoded). */
static void test_rss_title_plain_or_html(void **state)
{
    struct got *g = *state;
    const char doc[] =
        "<rss><channel><item><guid>1</guid>"
        "<title>Rock &amp;reggae, 5 &lt; 7</title></item>"
        "<item><guid>2</guid><title>AT&amp;amp;T &lt;b&gt;cuts&lt;/b&gt; "
        "prices</title></item>"
        "<item><guid>3</guid><title><![CDATA[Q&A: <i>why</i> now]]></title>"
        "</item>"
        "<item><guid>4</guid><title>I &lt;3 it &amp; you</title></item>"
        "<item><guid>5</guid><title>&lt;h1&gt;Big&lt;/h1&gt; news</title>"
        "</item>"
        "</channel></rss>";
    assert_int_equal(parse_buf(doc, sizeof(doc) - 1, NULL, g), 0);
    assert_int_equal(g->n, 5);
    assert_string_equal(g->items[0]->title, "Rock &reggae, 5 < 7");
    assert_string_equal(g->items[1]->title, "AT&T cuts prices");
    assert_string_equal(g->items[2]->title, "Q&A: why now");
    assert_string_equal(g->items[3]->title, "I <3 it & you");
    assert_string_equal(g->items[4]->title, "Big news");
}

/* A tag that names no HTML element says the title is about markup, as
 * feedparser reads it (miniflux's test "&lt;/example&gt;" once gave an
 * entry no title at all). */
static void test_rss_title_about_markup(void **state)
{
    struct got *g = *state;
    const char doc[] =
        "<rss><channel><item><guid>1</guid><title>&lt;/example&gt;</title>"
        "</item><item><guid>2</guid><title>C++ std::vector&lt;int&gt; and "
        "&lt;/T&gt; tricks</title></item><item><guid>3</guid><title>Fix for "
        "&lt;/script&gt; in JSON</title></item><item><guid>4</guid><title>"
        "&amp;nope; &lt;/b&gt;</title></item></channel></rss>";
    assert_int_equal(parse_buf(doc, sizeof(doc) - 1, NULL, g), 0);
    assert_int_equal(g->n, 4);
    assert_string_equal(g->items[0]->title, "</example>");
    assert_string_equal(g->items[1]->title,
                        "C++ std::vector<int> and </T> tricks");
    assert_string_equal(g->items[2]->title, "Fix for </script> in JSON");
    assert_string_equal(g->items[3]->title, "&nope; </b>");
}

/* Authors and dates as real feeds write them: an RSS author with child
 * elements (blog.google: the <name>, not the job title after it), an
 * Atom author in an RSS item whose children have no prefix, a Drupal
 * date in a <time datetime>, and a CDATA link escaped as if it were not. */
static void test_rss_author_date_link_quirks(void **state)
{
    struct got *g = *state;
    const char doc[] =
        "<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\">"
        "<channel><title>t</title>"
        "<item><guid>1</guid><author xmlns:author=\"http://www.w3.org/2005/"
        "Atom\">\n <name>Annette K</name>\n <title>Vice President</title>\n"
        " <department>Policy</department><company/></author>"
        "<pubDate>\n <time datetime=\"2019-05-03T19:21:28Z\">Fri, 05/03/2019"
        " - 15:21</time>\n</pubDate>"
        "<link><![CDATA[https://e.example/a?utm_source=Feed%20X&amp;xid=2]]>"
        "</link></item>"
        "<item><guid>2</guid><atom:author><name>Foo Bar</name></atom:author>"
        "</item>"
        "<item><guid>3</guid><atom:author><email>a@e.example</email>"
        "</atom:author></item>"
        "</channel></rss>";
    assert_int_equal(parse_buf(doc, sizeof(doc) - 1, NULL, g), 0);
    assert_int_equal(g->n, 3);
    assert_string_equal(g->items[0]->author, "Annette K");
    assert_int_equal(g->items[0]->created_at, 1556911288);
    assert_string_equal(g->items[0]->url,
                        "https://e.example/a?utm_source=Feed%20X&xid=2");
    assert_string_equal(g->items[1]->author, "Foo Bar");
    assert_string_equal(g->items[2]->author, "a@e.example");
}

/* Declared entity names chosen to collide in the table's hash ("Az" and
 * "BY" hash alike) take a bounded walk each: the first 32 of one run are
 * kept, later ones are treated as undefined (names past the table's
 * size are too). A feed of such names once made every reference walk
 * thousands of slots. */
static void test_entity_collisions_bounded(void **state)
{
    struct got *g = *state;
    char path[512];
    snprintf(path, sizeof(path), "%s/feed/entity-collisions.xml", ES_FIXTURES);
    assert_int_equal(parse_fixture(path, NULL, g), ES_EPARSE);
    assert_int_equal(g->n, 1);
    assert_string_equal(g->items[0]->title, "v0 v31 &BYBYBYAzAzBY;");
}

static void test_declared_entities(void **state)
{
    struct got *g = *state;
    /* Plain internal entities are fine, including the XHTML DTD's style
     * of declaring them through a character reference. */
    const char doc[] = "<?xml version=\"1.0\"?>\n"
                       "<!DOCTYPE rss [\n"
                       "<!ENTITY company \"Brewtown &#38; Sons\">\n"
                       "<!ENTITY nbsp \"&#38;#160;\">\n"
                       "<!ENTITY copy \"(c)\">\n"
                       "]>\n"
                       "<rss><channel><item><guid>1</guid>"
                       "<title>&company;&nbsp;&copy;&eacute;</title>"
                       "<link>http://e.example/?by=&company;</link>"
                       "</item></channel></rss>";
    assert_int_equal(parse_buf(doc, sizeof(doc) - 1, NULL, g), 0);
    assert_int_equal(g->n, 1);
    assert_string_equal(g->items[0]->title, "Brewtown & Sons (c)\xC3\xA9");
    assert_string_equal(g->items[0]->url,
                        "http://e.example/?by=Brewtown & Sons");
}

static void test_bare_ampersand_and_less_than(void **state)
{
    struct got *g = *state;
    /* The commonest faults in the wild: libxml2 alone would drop "&T",
     * turn the href into "?a=1=2" and stop at "< 3". */
    const char doc[] =
        "<?xml version=\"1.0\"?>\n"
        "<rss xmlns:atom=\"http://www.w3.org/2005/Atom\"><channel>\n"
        "<title>Q&A</title>\n"
        "<item><guid>1</guid><title>AT&T & Verizon</title>\n"
        "<description>x < 3 and <b>bold</b> &#8212 &amp ok</description></item>\n"
        "<item><guid>2</guid><title>Second</title>"
        "<atom:link rel=\"alternate\" href=\"http://e.example/?a=1&b=2&c\"/></item>\n"
        "<item><guid>3</guid><title><![CDATA[CDATA & stays]]></title></item>\n"
        "</channel></rss>\n";
    assert_int_equal(parse_buf(doc, sizeof(doc) - 1, NULL, g), ES_EPARSE);
    assert_non_null(
        strstr(es_error_last(), "line 3: '&' starts no entity reference"));
    assert_int_equal(g->n, 3);
    assert_string_equal(g->meta_title, "Q&A");
    assert_string_equal(g->items[0]->title, "AT&T & Verizon");
    assert_string_equal(g->items[0]->summary,
                        "x < 3 and <b>bold</b> &#8212 &amp ok");
    assert_string_equal(g->items[0]->text, "x < 3 and bold \xE2\x80\x94 & ok");
    assert_string_equal(g->items[1]->url, "http://e.example/?a=1&b=2&c");
    assert_string_equal(g->items[2]->title, "CDATA & stays");
}

static void test_atom_links_authors_source(void **state)
{
    struct got *g = *state;
    const char doc[] =
        "<feed xmlns=\"http://www.w3.org/2005/Atom\">"
        "<title>F</title><author><name>Feed Person</name></author>"
        "<entry><id>1</id><title>Entry one</title>"
        "<link rel=\"self\" href=\"http://e.example/self\"/>"
        "<link rel=\"enclosure\" href=\"http://e.example/a.mp3\"/>"
        "<link rel=\"alternate\" type=\"application/atom+xml\" href=\"http://e.example/1.atom\"/>"
        "<link rel=\"alternate\" type=\"text/html\" href=\"http://e.example/1.html\"/>"
        "<link href=\"http://e.example/later.html\"/>"
        "<source><id>src</id><title>Source title</title>"
        "<link href=\"http://source.example/\"/>"
        "<updated>2001-01-01T00:00:00Z</updated>"
        "<author><name>Source Person</name></author></source>"
        "<updated>2024-05-01T12:00:00Z</updated></entry>"
        "<entry><id>2</id><title>Entry two</title>"
        "<author><name>First</name><email>first@e.example</email></author>"
        "<author><name>Second</name></author>"
        "<link href=\"http://e.example/2\"/></entry>"
        "<entry><id>3</id><title>Entry three</title></entry>"
        "</feed>";
    assert_int_equal(parse_buf(doc, sizeof(doc) - 1, NULL, g), 0);
    assert_int_equal(g->n, 3);
    const struct es_item *it = by_id(g, "1");
    /* The HTML alternate; <source>'s children are not the entry's. */
    assert_string_equal(it->url, "http://e.example/1.html");
    assert_string_equal(it->title, "Entry one");
    assert_int_equal(it->updated_at, date("2024-05-01T12:00:00Z"));
    assert_string_equal(it->author, "Source Person");
    it = by_id(g, "2");
    assert_string_equal(it->author, "First");
    assert_string_equal(it->author_name, "First");
    it = by_id(g, "3");
    assert_null(it->url);
    assert_string_equal(it->author, "Feed Person");
}

static void test_dc_description(void **state)
{
    struct got *g = *state;
    const char doc[] =
        "<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
        "<channel><title>DC</title>"
        "<item><guid>1</guid><title>Only DC</title>"
        "<dc:description>Said &lt;em&gt;briefly&lt;/em&gt;</dc:description>"
        "</item>"
        "<item><guid>2</guid><title>Both</title>"
        "<description>The RSS one</description>"
        "<dc:description>The DC one</dc:description></item>"
        "</channel></rss>";
    assert_int_equal(parse_buf(doc, sizeof(doc) - 1, NULL, g), 0);
    assert_int_equal(g->n, 2);
    const struct es_item *it = by_id(g, "1");
    assert_string_equal(it->summary, "Said <em>briefly</em>");
    assert_string_equal(it->text, "Said briefly");
    assert_string_equal(by_id(g, "2")->summary, "The RSS one");
}

/* Media RSS: YouTube's channel feeds give a video's description only as
 * media:description inside media:group; Mastodon's give an image's alt
 * text there, which must not replace the post. Podcasts: iTunes tags. */
static void test_extension_summaries(void **state)
{
    struct got *g = *state;
    const char yt[] =
        "<feed xmlns:yt=\"http://www.youtube.com/xml/schemas/2015\" "
        "xmlns:media=\"http://search.yahoo.com/mrss/\" "
        "xmlns=\"http://www.w3.org/2005/Atom\"><title>Acme</title>"
        "<entry><id>yt:video:abc123</id><yt:videoId>abc123</yt:videoId>"
        "<title>Widget review</title>"
        "<link rel=\"alternate\" "
        "href=\"https://www.youtube.com/watch?v=abc123\"/>"
        "<published>2024-05-01T12:00:00+00:00</published>"
        "<media:group><media:title>Widget review</media:title>"
        "<media:description>It broke after a week &amp; support never "
        "answered.</media:description></media:group></entry></feed>";
    assert_int_equal(parse_buf(yt, sizeof(yt) - 1, NULL, g), 0);
    assert_int_equal(g->n, 1);
    const struct es_item *it = by_id(g, "yt:video:abc123");
    assert_string_equal(it->summary,
                        "It broke after a week & support never answered.");
    assert_string_equal(it->text,
                        "It broke after a week & support never answered.");
    assert_string_equal(it->title, "Widget review");
    got_clear(g);

    const char masto[] =
        "<rss version=\"2.0\" xmlns:media=\"http://search.yahoo.com/mrss/\">"
        "<channel><title>#acme</title>"
        "<item><guid>1</guid>"
        "<media:content url=\"https://f.example/1.png\" medium=\"image\">"
        "<media:description type=\"plain\">A cracked screen"
        "</media:description></media:content>"
        "<description>&lt;p&gt;My phone broke again&lt;/p&gt;</description>"
        "</item>"
        "<item><guid>2</guid>"
        "<media:content url=\"https://f.example/2.png\" medium=\"image\">"
        "<media:description type=\"html\">&lt;b&gt;Only&lt;/b&gt; a picture"
        "</media:description></media:content></item>"
        "</channel></rss>";
    assert_int_equal(parse_buf(masto, sizeof(masto) - 1, NULL, g), 0);
    assert_int_equal(g->n, 2);
    assert_string_equal(by_id(g, "1")->summary, "<p>My phone broke again</p>");
    assert_string_equal(by_id(g, "1")->text, "My phone broke again");
    assert_string_equal(by_id(g, "2")->summary, "<b>Only</b> a picture");
    assert_string_equal(by_id(g, "2")->text, "Only a picture");
    got_clear(g);

    /* Podcasts: itunes:summary and itunes:author when nothing else says. */
    const char pod[] =
        "<rss version=\"2.0\" "
        "xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\">"
        "<channel><title>Gadget Talk</title>"
        "<itunes:author>The Network</itunes:author>"
        "<item><guid>12</guid><title>Ep 12</title>"
        "<itunes:author>Jo Host</itunes:author>"
        "<itunes:summary>The widget is great.</itunes:summary></item>"
        "<item><guid>13</guid><title>Ep 13</title>"
        "<description>Show notes</description>"
        "<itunes:summary>Plain summary</itunes:summary>"
        "<author>jo@pod.example (Jo Host)</author>"
        "<itunes:author>Someone Else</itunes:author></item>"
        "</channel></rss>";
    assert_int_equal(parse_buf(pod, sizeof(pod) - 1, NULL, g), 0);
    assert_int_equal(g->n, 2);
    assert_string_equal(by_id(g, "12")->summary, "The widget is great.");
    assert_string_equal(by_id(g, "12")->author, "Jo Host");
    assert_string_equal(by_id(g, "13")->summary, "Show notes");
    assert_string_equal(by_id(g, "13")->author, "jo@pod.example (Jo Host)");
    got_clear(g);

    /* Apple's first documents spelt the namespace in capitals, and hosts
     * put escaped HTML in a summary the spec calls plain text. */
    const char pod2[] =
        "<rss version=\"2.0\" "
        "xmlns:itunes=\"http://www.itunes.com/DTDs/Podcast-1.0.dtd\">"
        "<channel><title>Gadget Talk</title>"
        "<item><guid>14</guid><title>Ep 14</title>"
        "<itunes:author>Jo Host</itunes:author>"
        "<itunes:summary>&lt;p&gt;The &lt;b&gt;widget&lt;/b&gt; "
        "is great.&lt;/p&gt;</itunes:summary></item>"
        "<item><guid>15</guid><title>Ep 15</title>"
        "<itunes:summary>Tips: 5 &lt; 7 &amp; more</itunes:summary></item>"
        "</channel></rss>";
    assert_int_equal(parse_buf(pod2, sizeof(pod2) - 1, NULL, g), 0);
    assert_int_equal(g->n, 2);
    assert_string_equal(by_id(g, "14")->author, "Jo Host");
    assert_string_equal(by_id(g, "14")->summary,
                        "<p>The <b>widget</b> is great.</p>");
    assert_string_equal(by_id(g, "14")->text, "The widget is great.");
    assert_string_equal(by_id(g, "15")->text, "Tips: 5 < 7 & more");
}

/* Atom feeds that name another namespace still are Atom feeds. */
static void test_atom_other_namespace(void **state)
{
    struct got *g = *state;
    const char *roots[] = {
        "<feed xmlns=\"https://www.w3.org/2005/Atom\">",
        "<feed xmlns=\"http://www.w3.org/2005/atom\">",
        "<feed version=\"0.2\" xmlns=\"http://purl.org/echo/\">",
    };
    for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
        char doc[1024];
        int n =
            snprintf(doc, sizeof(doc),
                     "%s<title>Misnamed</title>"
                     "<link rel=\"alternate\" href=\"http://m.example/\"/>"
                     "<entry><id>tag:m.example,2024:1</id><title>One</title>"
                     "<link href=\"http://m.example/1\"/>"
                     "<updated>2024-05-01T12:00:00Z</updated>"
                     "<author><name>Mo</name></author></entry></feed>",
                     roots[i]);
        got_clear(g);
        assert_int_equal(parse_buf(doc, (size_t)n, NULL, g), 0);
        assert_int_equal(g->n, 1);
        assert_string_equal(g->meta_title, "Misnamed");
        assert_string_equal(g->meta_link, "http://m.example/");
        const struct es_item *it = g->items[0];
        assert_string_equal(it->external_id, "tag:m.example,2024:1");
        assert_string_equal(it->title, "One");
        assert_string_equal(it->url, "http://m.example/1");
        assert_string_equal(it->author, "Mo");
        assert_int_equal(it->updated_at, date("2024-05-01T12:00:00Z"));
    }
    /* Any other root element still is not a feed. */
    got_clear(g);
    const char other[] = "<list xmlns=\"http://l.example/\"><entry/></list>";
    assert_int_equal(parse_buf(other, sizeof(other) - 1, NULL, g), ES_EPARSE);
}

/* RSS 2.0 items may carry their content as an xhtml:body element. */
static void test_rss_xhtml_body(void **state)
{
    struct got *g = *state;
    const char doc[] =
        "<rss version=\"2.0\"><channel><title>X</title>"
        "<item><guid>1</guid><title>Body</title>"
        "<description>Short</description>"
        "<body xmlns=\"http://www.w3.org/1999/xhtml\">"
        "<div class=\"lede\">Long <em>form</em></div><p>more<br/></p></body>"
        "</item>"
        "<item><guid>2</guid><title>Not XHTML</title>"
        "<body>plain element of no known namespace</body></item>"
        "</channel></rss>";
    assert_int_equal(parse_buf(doc, sizeof(doc) - 1, NULL, g), 0);
    assert_int_equal(g->n, 2);
    const struct es_item *it = by_id(g, "1");
    assert_string_equal(it->summary, "Short");
    assert_string_equal(it->content,
                        "<div class=\"lede\">Long <em>form</em></div>"
                        "<p>more<br /></p>");
    assert_string_equal(it->text, "Long form more");
    assert_null(by_id(g, "2")->content);
}

static void test_rss_oddities(void **state)
{
    struct got *g = *state;
    /* Blank lines before the declaration (fatal to XML parsers), an
     * undeclared dc: prefix, raw XHTML in a description, atom:link in an
     * item, more than one link, a duplicate category. */
    const char doc[] =
        "\n\n  <?xml version=\"1.0\"?>\n"
        "<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\"><channel>\n"
        "<atom:link rel=\"self\" href=\"http://e.example/feed\"/>\n"
        "<link>http://e.example/</link><title>Odd</title>\n"
        "<item><title>One</title><dc:creator>Undeclared Prefix</dc:creator>"
        "<atom:link rel=\"alternate\" href=\"http://e.example/atom-link\"/>"
        "<link>http://e.example/rss-link</link><link>http://e.example/second</link>"
        "<category>A</category><category> A </category><dc:subject>B</dc:subject>"
        "<description><p>Raw <b>xhtml</b> &amp; text</p></description></item>\n"
        "</channel></rss>";
    assert_int_equal(parse_buf(doc, sizeof(doc) - 1, NULL, g), 0);
    assert_int_equal(g->n, 1);
    assert_string_equal(g->meta_link, "http://e.example/");
    const struct es_item *it = g->items[0];
    assert_string_equal(it->author, "Undeclared Prefix");
    assert_string_equal(it->url, "http://e.example/rss-link");
    assert_int_equal(it->ncategories, 2);
    assert_string_equal(it->categories[0], "A");
    assert_string_equal(it->categories[1], "B");
    assert_string_equal(it->summary, "<p>Raw <b>xhtml</b> &amp; text</p>");
    assert_string_equal(it->text, "Raw xhtml & text");

    /* Line numbers count the blank lines that were dropped. */
    got_clear(g);
    const char bad[] = "\n\n<?xml version=\"1.0\"?>\n<rss><channel>\n"
                       "<item><title>x</title></bogus></item></channel></rss>";
    assert_int_equal(parse_buf(bad, sizeof(bad) - 1, NULL, g), ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "line 5: "));
}

/* RSS <author> is an address, but publishers put the name on either side
 * of it; dc:creator sometimes carries one too. */
static void test_rss_author_display_names(void **state)
{
    struct got *g = *state;
    const char doc[] =
        "<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
        "<channel><title>Names</title>"
        "<item><guid>1</guid><author>pat@news.example (Pat Doe)</author></item>"
        "<item><guid>2</guid><author>Pat Doe (pat@news.example)</author></item>"
        "<item><guid>3</guid><author>Pat Doe &lt;pat@news.example&gt;</author>"
        "</item>"
        "<item><guid>4</guid><author>\"Pat Doe\" &lt;mailto:pat@news.example&gt;"
        "</author></item>"
        "<item><guid>5</guid><author>pat@news.example</author></item>"
        "<item><guid>6</guid><dc:creator>Pat  Doe\n(pat@news.example)"
        "</dc:creator></item>"
        "<item><guid>7</guid><dc:creator>The News Desk</dc:creator></item>"
        "</channel></rss>";
    assert_int_equal(parse_buf(doc, sizeof(doc) - 1, NULL, g), 0);
    assert_int_equal(g->n, 7);
    const char *ids[] = { "1", "2", "3", "4", "6" };
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        const struct es_item *it = by_id(g, ids[i]);
        if (!it->author_name || strcmp(it->author_name, "Pat Doe") != 0)
            fail_msg("item %s: author_name \"%s\", want \"Pat Doe\"", ids[i],
                     it->author_name ? it->author_name : "(null)");
    }
    /* The author itself is kept as written. */
    assert_string_equal(by_id(g, "2")->author, "Pat Doe (pat@news.example)");
    assert_string_equal(by_id(g, "5")->author, "pat@news.example");
    assert_null(by_id(g, "5")->author_name);
    assert_string_equal(by_id(g, "7")->author_name, "The News Desk");
}

/* Names and categories may carry escaped markup or entities, read once
 * as a title's are: arXiv's RSS 1.0 links each author in dc:creator, and
 * WordPress escapes "&" inside CDATA. An address in angle brackets is no
 * markup. */
static void test_author_category_markup(void **state)
{
    struct got *g = *state;
    const char doc[] =
        "<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
        "<channel><title>Marked</title>"
        "<item><guid>1</guid><dc:creator> &lt;a href=\"http://x.example/1\"&gt;"
        "Hana Nakamura&lt;/a&gt;, &lt;a href=\"http://x.example/2\"&gt;Jonas "
        "Weber&lt;/a&gt;</dc:creator></item>"
        "<item><guid>2</guid><dc:creator><![CDATA[Ana &amp; Luis]]>"
        "</dc:creator><category><![CDATA[Food &amp; Drink]]></category>"
        "<category><![CDATA[Caf&eacute;s]]></category>"
        "<category>5 &lt; 7</category></item>"
        "<item><guid>3</guid><author>Pat Doe &lt;pat@news.example&gt;</author>"
        "</item>"
        "</channel></rss>";
    assert_int_equal(parse_buf(doc, sizeof(doc) - 1, NULL, g), 0);
    assert_int_equal(g->n, 3);
    assert_string_equal(by_id(g, "1")->author, "Hana Nakamura, Jonas Weber");
    const struct es_item *it = by_id(g, "2");
    assert_string_equal(it->author, "Ana & Luis");
    assert_int_equal(it->ncategories, 3);
    assert_string_equal(it->categories[0], "Food & Drink");
    assert_string_equal(it->categories[1], "Caf\xC3\xA9s");
    assert_string_equal(it->categories[2], "5 < 7");
    assert_string_equal(by_id(g, "3")->author, "Pat Doe <pat@news.example>");
}

/* ==== Links ==== */

static void test_atom_link_without_href(void **state)
{
    struct got *g = *state;
    /* Some generators write the address as the link's text. Only an
     * alternate link is the entry's URL, in whichever order they come. */
    const char doc[] =
        "<feed xmlns=\"http://www.w3.org/2005/Atom\""
        " xml:base=\"http://blog.example/posts/\">"
        "<title>T</title><link>http://blog.example/</link>"
        "<entry><id>a</id><title>A</title>"
        "<link rel=\"alternate\">http://blog.example/a.html</link>"
        "<link rel=\"enclosure\">http://blog.example/a.ogg</link></entry>"
        "<entry><id>b</id><title>B</title>"
        "<link rel=\"enclosure\">http://blog.example/b.ogg</link>"
        "<link> b.html </link></entry>"
        "<entry><id>c</id><title>C</title>"
        "<link rel=\"alternate\" type=\"text/html\" href=\"c.html\"/>"
        "<link rel=\"alternate\">http://blog.example/c-text.html</link>"
        "</entry>"
        "</feed>";
    assert_int_equal(parse_buf(doc, sizeof(doc) - 1, NULL, g), 0);
    assert_int_equal(g->n, 3);
    assert_string_equal(g->meta_link, "http://blog.example/");
    assert_string_equal(by_id(g, "a")->url, "http://blog.example/a.html");
    assert_string_equal(by_id(g, "b")->url, "http://blog.example/posts/b.html");
    /* An href outranks text. */
    assert_string_equal(by_id(g, "c")->url, "http://blog.example/posts/c.html");
}

static void test_xml_base_atom(void **state)
{
    struct got *g = *state;
    assert_int_equal(
        parse_fixture(FIXTURE("atom-xmlbase.xml"),
                      "https://roastery.example/feeds/journal.atom", g),
        0);
    assert_int_equal(g->n, 4);
    /* The feed's xml:base is itself relative to the document URL. */
    assert_string_equal(g->meta_link, "https://roastery.example/journal/");
    assert_string_equal(g->items[0]->url,
                        "https://roastery.example/journal/2024/05/relative");
    assert_string_equal(g->items[1]->url,
                        "https://mirror.roastery.example/posts/two.html");
    assert_string_equal(
        g->items[2]->url,
        "https://roastery.example/journal/sub/deeper/three.html");
    assert_string_equal(g->items[3]->url,
                        "https://roastery.example/shop?item=42&ref=feed");
    /* Feed-level author stands in for entries without one. */
    assert_string_equal(g->items[0]->author, "The Roasters");
}

static void test_xml_base_rss(void **state)
{
    struct got *g = *state;
    assert_int_equal(parse_fixture(FIXTURE("rss-xmlbase.xml"),
                                   "https://ignored.example/feed", g),
                     0);
    assert_int_equal(g->n, 2);
    assert_string_equal(g->meta_link,
                        "https://www.harbour.example/news/index.html");
    assert_string_equal(g->items[0]->url,
                        "https://www.harbour.example/news/2024/ferry.html");
    assert_string_equal(g->items[0]->external_id,
                        "https://www.harbour.example/news/2024/ferry.html");
    assert_string_equal(g->items[1]->url,
                        "https://archive.harbour.example/2019/old.html");
    assert_string_equal(g->items[1]->external_id, "old-2019");
}

static void test_relative_links_base_url(void **state)
{
    struct got *g = *state;
    assert_int_equal(parse_fixture(FIXTURE("rss-relative.xml"),
                                   "https://site.example/blog/feed.xml", g),
                     0);
    assert_int_equal(g->n, 3);
    assert_string_equal(g->meta_link, "https://site.example/");
    assert_string_equal(g->items[0]->url,
                        "https://site.example/blog/posts/7.html");
    assert_string_equal(g->items[1]->url, "https://site.example/about");
    assert_string_equal(g->items[2]->url, "https://elsewhere.example/x");

    /* Without a base URL relative links stay as they are. */
    got_clear(g);
    assert_int_equal(parse_fixture(FIXTURE("rss-relative.xml"), NULL, g), 0);
    assert_string_equal(g->items[0]->url, "posts/7.html");
    assert_string_equal(g->meta_link, "/");
}

/* ==== Encodings ==== */

static void test_latin1_declared(void **state)
{
    struct got *g = *state;
    assert_int_equal(parse_fixture(FIXTURE("latin1.xml"), NULL, g), 0);
    assert_int_equal(g->n, 1);
    assert_string_equal(g->meta_title, "Caf\xC3\xA9 du Port");
    const struct es_item *it = g->items[0];
    assert_string_equal(it->title,
                        "\xC3\x89t\xC3\xA9 2024 : la terrasse est ouverte");
    /* 0x80, 0x96, 0x92, 0x93, 0x94 are Windows-1252, as browsers read
     * ISO-8859-1. */
    assert_string_equal(it->summary,
                        "Les cr\xC3\xAApes co\xC3\xBBtent 5\xE2\x82\xAC "
                        "\xE2\x80\x93 c\xE2\x80\x99"
                        "est \xE2\x80\x9C"
                        "le\xE2\x80\x9D prix.");
    assert_string_equal(it->author,
                        "chef@port.example (Fran\xC3\xA7oise M\xC3\xBCller)");
    assert_string_equal(it->author_name, "Fran\xC3\xA7oise M\xC3\xBCller");
    assert_string_equal(it->categories[0], "Caf\xC3\xA9");
}

static void test_wrong_encoding_declaration(void **state)
{
    struct got *g = *state;
    /* Says UTF-8, is Windows-1252: the entries come out readable. */
    size_t len;
    char *buf = slurp(FIXTURE("wrong-encoding.xml"), &len);
    struct es_feed_opts opts = { .source = "wrong" };
    struct es_feed_parser *p = es_feed_parser_new(&opts, collect, g);
    assert_int_equal(es_feed_parser_push(p, buf, len), 0);
    assert_int_equal(es_feed_parser_finish(p), 0);
    assert_non_null(es_feed_parser_error(p));
    assert_non_null(strstr(es_feed_parser_error(p), "invalid UTF-8"));
    es_feed_parser_free(p);
    free(buf);
    assert_int_equal(g->n, 1);
    assert_string_equal(g->items[0]->title,
                        "\xC3\x89t\xC3\xA9 2024 : la terrasse est ouverte");
    assert_string_equal(g->items[0]->text,
                        "Les cr\xC3\xAApes co\xC3\xBBtent 5\xE2\x82\xAC "
                        "\xE2\x80\x93 c\xE2\x80\x99"
                        "est \xE2\x80\x9C"
                        "le\xE2\x80\x9D prix.");
}

static void test_invalid_utf8(void **state)
{
    struct got *g = *state;
    assert_int_equal(parse_fixture(FIXTURE("invalid-utf8.xml"), NULL, g), 0);
    /* Both entries, every string valid UTF-8 (checked in collect()). */
    assert_int_equal(g->n, 2);
    assert_string_equal(g->items[0]->title,
                        "Valid \xC3\xA9 then stray \xC3\xBF byte");
    assert_non_null(strstr(g->items[0]->summary, "cut \xC3\x83 sequence"));
    assert_string_equal(g->items[1]->title,
                        "Second item \xE4\xB8\xAD\xE6\x96\x87");
    assert_string_equal(g->items[1]->categories[0], "\xC3\xA9t\xC3\xA9");

    /* The same with the bytes arriving one at a time. */
    size_t len;
    char *buf = slurp(FIXTURE("invalid-utf8.xml"), &len);
    struct got g2 = { .keep = 1 };
    struct es_feed_parser *p = es_feed_parser_new(NULL, collect, &g2);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(es_feed_parser_push(p, buf + i, 1), 0);
    assert_int_equal(es_feed_parser_finish(p), 0);
    es_feed_parser_free(p);
    assert_int_equal(g2.n, 2);
    assert_string_equal(g2.items[0]->title, g->items[0]->title);
    assert_string_equal(g2.items[0]->summary, g->items[0]->summary);
    got_clear(&g2);
    free(buf);
}

static void test_other_encodings(void **state)
{
    struct got *g = *state;
    assert_int_equal(parse_fixture(FIXTURE("windows-1251.xml"), NULL, g), 0);
    assert_int_equal(g->n, 1);
    assert_string_equal(g->meta_title,
                        "\xD0\x9A\xD0\xBE\xD1\x84\xD0\xB5\xD0\xB9"
                        "\xD0\xBD\xD1\x8F"); /* Кофейня */
    assert_string_equal(g->items[0]->text,
                        "\xD0\x9E\xD1\x87\xD0\xB5\xD0\xBD\xD1\x8C "
                        "\xD0\xB2\xD0\xBA\xD1\x83\xD1\x81\xD0\xBD"
                        "\xD0\xBE!"); /* Очень вкусно! */
    got_clear(g);
    assert_int_equal(parse_fixture(FIXTURE("utf16.xml"), NULL, g), 0);
    assert_int_equal(g->n, 1);
    assert_string_equal(g->items[0]->title,
                        "\xE6\x96\xB0\xE3\x81\x97\xE3\x81\x84"
                        "\xE8\xB1\x86 caf\xC3\xA9");
    assert_string_equal(g->items[0]->text,
                        "\xE7\xBE\x8E\xE5\x91\xB3\xE3\x81\x97"
                        "\xE3\x81\x84");
}

static void test_undecodable_input(void **state)
{
    struct got *g = *state;
    /* Bytes that are not Shift_JIS: iconv gives up there; what came
     * before is kept and the problem is named. */
    const char doc[] = "<?xml version=\"1.0\" encoding=\"Shift_JIS\"?>\n"
                       "<rss><channel><item><guid>1</guid>"
                       "<title>ok \x93\xfa\x96\x7b</title></item>\n"
                       "<item><guid>2</guid><title>bad \x85\xff\xfc</title>"
                       "</item></channel></rss>";
    assert_int_equal(parse_buf(doc, sizeof(doc) - 1, NULL, g), ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "line 2: "));
    assert_int_equal(g->n, 1);
    assert_string_equal(g->items[0]->title,
                        "ok \xE6\x97\xA5\xE6\x9C\xAC"); /* 日本 */
}

static void test_http_charset_wins(void **state)
{
    struct got *g = *state;
    /* Declared UTF-8, sent as KOI8-R with the header saying so (RFC 7303:
     * the header wins). */
    const char doc[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                       "<rss><channel><item><guid>1</guid>"
                       "<title>\xF0\xD2\xC9\xD7\xC5\xD4</title>"
                       "</item></channel></rss>";
    struct es_feed_opts opts = { .charset = "KOI8-R" };
    size_t count;
    assert_int_equal(
        es_feed_parse(doc, sizeof(doc) - 1, &opts, collect, g, &count), 0);
    assert_int_equal(count, 1);
    assert_string_equal(
        g->items[0]->title,
        "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82"); /* Привет */

    /* And the header's UTF-8 beats a declared Latin-1. */
    got_clear(g);
    const char doc2[] = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"
                        "<rss><channel><item><guid>1</guid>"
                        "<title>caf\xC3\xA9</title></item></channel></rss>";
    opts.charset = "utf-8";
    assert_int_equal(
        es_feed_parse(doc2, sizeof(doc2) - 1, &opts, collect, g, &count), 0);
    assert_string_equal(g->items[0]->title, "caf\xC3\xA9");

    /* The one exception: a server's default Latin-1 over a document that
     * declares UTF-8 is a mislabel; the UTF-8 bytes read as UTF-8... */
    got_clear(g);
    const char doc3[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                        "<rss><channel><item><guid>1</guid>"
                        "<title>caf\xC3\xA9 \xE2\x80\x94 ok</title>"
                        "</item></channel></rss>";
    opts.charset = "ISO-8859-1";
    assert_int_equal(
        es_feed_parse(doc3, sizeof(doc3) - 1, &opts, collect, g, &count), 0);
    assert_string_equal(g->items[0]->title,
                        "caf\xC3\xA9 \xE2\x80\x94 ok"); /* café — ok */
    /* ...and a document that was Latin-1 after all still reads right. */
    got_clear(g);
    const char doc4[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                        "<rss><channel><item><guid>1</guid>"
                        "<title>caf\xE9</title></item></channel></rss>";
    assert_int_equal(
        es_feed_parse(doc4, sizeof(doc4) - 1, &opts, collect, g, &count), 0);
    assert_string_equal(g->items[0]->title, "caf\xC3\xA9");
    /* Latin-1 declared and sent stays Latin-1. */
    got_clear(g);
    const char doc5[] = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"
                        "<rss><channel><item><guid>1</guid>"
                        "<title>caf\xE9</title></item></channel></rss>";
    assert_int_equal(
        es_feed_parse(doc5, sizeof(doc5) - 1, &opts, collect, g, &count), 0);
    assert_string_equal(g->items[0]->title, "caf\xC3\xA9");
}

/* The meta callback came once, before every entry, with @title. */
static void assert_meta_first(const struct got *g, const char *title)
{
    assert_int_equal(g->meta_calls, 1);
    assert_int_equal(g->items_before_meta, 0);
    if (title)
        assert_string_equal(g->meta_title, title);
    else
        assert_null(g->meta_title);
}

/* A feed may give its title, link and author after its entries (Atom
 * allows any order; some RSS generators write the channel's elements
 * last): the entries are held until the title has come, and the meta
 * callback still comes first, with it. */
static void test_late_feed_metadata(void **state)
{
    struct got *g = *state;
    const char atom[] =
        "<feed xmlns=\"http://www.w3.org/2005/Atom\">"
        "<entry><id>1</id><title>First</title><link href=\"http://e.org/1\"/>"
        "<updated>2024-05-01T12:00:00Z</updated></entry>"
        "<entry><id>2</id><title>Second</title><link href=\"http://e.org/2\"/>"
        "<updated>2024-05-01T12:00:00Z</updated>"
        "<author><name>Own</name></author></entry>"
        "<title>Late title</title><link href=\"http://e.org/\"/>"
        "<author><name>Late Author</name></author></feed>";
    assert_int_equal(parse_buf(atom, sizeof(atom) - 1, NULL, g), 0);
    assert_meta_first(g, "Late title");
    assert_string_equal(g->meta_link, "http://e.org/");
    assert_int_equal(g->n, 2);
    assert_string_equal(g->items[0]->title, "First");
    /* The feed's author is the entries' that have none of their own. */
    assert_string_equal(g->items[0]->author, "Late Author");
    assert_string_equal(g->items[1]->author, "Own");

    /* RSS, the title between two items: held until the next item. */
    got_clear(g);
    const char rss[] = "<rss version=\"2.0\"><channel>"
                       "<item><guid>a</guid><title>A</title></item>"
                       "<title>Channel</title><link>http://c.org/</link>"
                       "<item><guid>b</guid><title>B</title></item>"
                       "</channel></rss>";
    assert_int_equal(parse_buf(rss, sizeof(rss) - 1, NULL, g), 0);
    assert_meta_first(g, "Channel");
    assert_string_equal(g->meta_link, "http://c.org/");
    assert_int_equal(g->n, 2);
    assert_string_equal(g->items[0]->external_id, "a");
    assert_string_equal(g->items[1]->external_id, "b");

    /* No title at all: no more than 256 entries are held, and the rest
     * stream as before, all in document order. */
    got_clear(g);
    struct es_buf doc = ES_BUF_INIT;
    es_buf_adds(&doc, "<rss version=\"2.0\"><channel>");
    for (int i = 0; i < 300; i++)
        es_buf_addf(&doc, "<item><guid>g%d</guid><title>t</title></item>", i);
    es_buf_adds(&doc, "</channel></rss>");
    assert_int_equal(parse_buf(doc.ptr, doc.len, NULL, g), 0);
    assert_meta_first(g, NULL);
    assert_int_equal(g->n, 300);
    assert_string_equal(g->items[0]->external_id, "g0");
    assert_string_equal(g->items[256]->external_id, "g256");
    assert_string_equal(g->items[299]->external_id, "g299");

    /* A callback that stops the parse while held entries go out. */
    got_clear(g);
    g->stop_after = 1;
    assert_int_equal(parse_buf(atom, sizeof(atom) - 1, NULL, g), 7);
    assert_int_equal(g->n, 1);
    es_buf_release(&doc);
}

/* ==== Streaming ==== */

/* A canonical dump of everything collected, to compare two parses. */
static char *dump_items(const struct got *g)
{
    struct es_buf b = ES_BUF_INIT;
    es_buf_addf(&b, "meta %d [%s] [%s]\n", g->meta_calls,
                g->meta_title ? g->meta_title : "-",
                g->meta_link ? g->meta_link : "-");
    for (size_t i = 0; i < g->n; i++) {
        const struct es_item *it = g->items[i];
        es_buf_addf(&b, "%s|%s|%s|%s|%s|%s|%s|%s|%s|%lld|%lld|",
                    it->external_id, it->url ? it->url : "-",
                    it->title ? it->title : "-", it->author ? it->author : "-",
                    it->text ? it->text : "-", it->summary ? it->summary : "-",
                    it->content ? it->content : "-", it->lang ? it->lang : "-",
                    it->author_name ? it->author_name : "-",
                    (long long)it->created_at, (long long)it->updated_at);
        for (size_t k = 0; k < it->ncategories; k++)
            es_buf_addf(&b, "%s,", it->categories[k]);
        es_buf_addch(&b, '\n');
    }
    return es_buf_detach(&b);
}

static void test_chunked_push_matches_whole(void **state)
{
    (void)state;
    static const char *const files[] = {
        "wordpress-rss2.xml",  "reddit-atom.xml",  "github-atom.xml",
        "rss1-rdf.xml",        "atom03.xml",       "rss091.xml",
        "atom-xmlbase.xml",    "entities-rss.xml", "entities-atom.xml",
        "atom-text-types.xml", "latin1.xml",       "wrong-encoding.xml",
        "invalid-utf8.xml",    "windows-1251.xml", "utf16.xml",
        "dates.xml",           "no-guid.xml",
    };
    static const size_t steps[] = { 1, 2, 3, 7, 64, 4093 };
    for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/feed/%s", ES_FIXTURES, files[f]);
        size_t len;
        char *buf = slurp(path, &len);
        struct got whole = { .keep = 1 };
        int rc_whole = parse_buf(buf, len, "https://base.example/dir/", &whole);
        char *want = dump_items(&whole);
        for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
            struct got part = { .keep = 1 };
            struct es_feed_opts opts = {
                .source = "test",
                .base_url = "https://base.example/dir/",
                .meta = on_meta,
            };
            struct es_feed_parser *p =
                es_feed_parser_new(&opts, collect, &part);
            for (size_t off = 0; off < len; off += steps[s]) {
                size_t n = len - off < steps[s] ? len - off : steps[s];
                assert_int_equal(es_feed_parser_push(p, buf + off, n), 0);
            }
            int rc = es_feed_parser_finish(p);
            assert_int_equal(es_feed_parser_count(p), part.n);
            es_feed_parser_free(p);
            char *have = dump_items(&part);
            if (rc != rc_whole || strcmp(have, want) != 0)
                fail_msg("%s pushed %zu bytes at a time differs:\n%s\nvs\n%s",
                         files[f], steps[s], have, want);
            free(have);
            got_clear(&part);
        }
        free(want);
        got_clear(&whole);
        free(buf);
    }
}

static void test_meta_once_and_at_finish(void **state)
{
    struct got *g = *state;
    /* No entries: meta still comes, at finish. */
    const char doc[] = "<rss><channel><title>Empty &amp; quiet</title>"
                       "<link>https://quiet.example/</link></channel></rss>";
    assert_int_equal(parse_buf(doc, sizeof(doc) - 1, NULL, g), 0);
    assert_int_equal(g->n, 0);
    assert_int_equal(g->meta_calls, 1);
    assert_string_equal(g->meta_title, "Empty & quiet");
    assert_string_equal(g->meta_link, "https://quiet.example/");

    /* Nothing known about the feed: meta gets NULLs. */
    got_clear(g);
    const char doc2[] = "<feed xmlns=\"http://www.w3.org/2005/Atom\"/>";
    assert_int_equal(parse_buf(doc2, sizeof(doc2) - 1, NULL, g), 0);
    assert_int_equal(g->meta_calls, 1);
    assert_null(g->meta_title);
    assert_null(g->meta_link);
}

static void test_callbacks_stop_parsing(void **state)
{
    struct got *g = *state;
    size_t len, count = 99;
    char *buf = slurp(FIXTURE("wordpress-rss2.xml"), &len);
    g->stop_after = 2;
    struct es_feed_opts opts = { .meta = on_meta };
    assert_int_equal(es_feed_parse(buf, len, &opts, collect, g, &count), 7);
    assert_int_equal(count, 2);
    assert_int_equal(g->n, 2);

    /* The push API returns it too, and keeps returning it. */
    got_clear(g);
    g->stop_after = 1;
    struct es_feed_parser *p = es_feed_parser_new(&opts, collect, g);
    int rc = 0;
    for (size_t off = 0; off < len && rc == 0; off += 100)
        rc = es_feed_parser_push(p, buf + off,
                                 len - off < 100 ? len - off : 100);
    assert_int_equal(rc, 7);
    assert_int_equal(es_feed_parser_push(p, "<x/>", 4), 7);
    assert_int_equal(es_feed_parser_finish(p), 7);
    assert_int_equal(es_feed_parser_count(p), 1);
    es_feed_parser_free(p);

    /* The meta callback can stop it before any entry. */
    got_clear(g);
    g->meta_rc = 5;
    assert_int_equal(es_feed_parse(buf, len, &opts, collect, g, &count), 5);
    assert_int_equal(count, 0);
    assert_int_equal(g->meta_calls, 1);
    free(buf);
}

static void test_opts_are_copied(void **state)
{
    struct got *g = *state;
    char source[16] = "copied", base[64] = "https://copy.example/dir/";
    struct es_feed_opts opts = { .source = source, .base_url = base };
    struct es_feed_parser *p = es_feed_parser_new(&opts, collect, g);
    memset(source, 'X', sizeof(source) - 1);
    memset(base, 'Y', sizeof(base) - 1);
    const char doc[] =
        "<rss><channel><item><link>x.html</link></item></channel></rss>";
    assert_int_equal(es_feed_parser_push(p, doc, sizeof(doc) - 1), 0);
    assert_int_equal(es_feed_parser_finish(p), 0);
    assert_null(es_feed_parser_error(p));
    es_feed_parser_free(p);
    assert_int_equal(g->n, 1);
    assert_string_equal(g->items[0]->source, "copied");
    assert_string_equal(g->items[0]->url, "https://copy.example/dir/x.html");
    es_feed_parser_free(NULL); /* no-op */
}

/* ==== Malformed and hostile documents ==== */

static void test_truncated(void **state)
{
    struct got *g = *state;
    size_t len;
    char *buf = slurp(FIXTURE("wordpress-rss2.xml"), &len);
    const char *second = strstr(buf, "<item>");
    second = strstr(second + 1, "<item>");
    assert_non_null(second);
    /* Cuts inside the second item: in a tag, in CDATA, in a character
     * reference, in a date, in an attribute name. */
    const char *marks[] = { "<title>Closed", "<dc:creator><![CDATA[Tom R",
                            "Spring Clean&#82", "<pubDate>Fri, 26",
                            "<guid isPerma" };
    for (size_t m = 0; m < sizeof(marks) / sizeof(marks[0]); m++) {
        const char *at = strstr(second, marks[m]);
        assert_non_null(at);
        size_t cut = (size_t)(at - buf) + strlen(marks[m]);
        got_clear(g);
        struct es_feed_opts opts = { .source = "cut", .meta = on_meta };
        struct es_feed_parser *p = es_feed_parser_new(&opts, collect, g);
        assert_int_equal(es_feed_parser_push(p, buf, cut), 0);
        assert_int_equal(es_feed_parser_finish(p), ES_EPARSE);
        /* "line N: what", in both places. */
        const char *err = es_feed_parser_error(p);
        assert_non_null(err);
        assert_true(strncmp(err, "line ", 5) == 0);
        assert_true(strtol(err + 5, NULL, 10) > 1);
        assert_non_null(strstr(es_error_last(), err));
        assert_non_null(strstr(es_error_last(), "cut"));
        es_feed_parser_free(p);
        /* The entry before the cut was emitted, the cut one was not. */
        assert_int_equal(g->n, 1);
        assert_string_equal(g->items[0]->external_id,
                            "https://blog.brewtown.example/?p=1482");
        assert_int_equal(g->meta_calls, 1);
    }
    free(buf);

    /* A cut inside a UTF-8 sequence. */
    got_clear(g);
    const char doc[] =
        "<rss><channel><item><guid>1</guid><title>caf\xC3\xA9</title>"
        "</item>\n<item><guid>2</guid><title>caf\xC3";
    assert_int_equal(parse_buf(doc, sizeof(doc) - 1, NULL, g), ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "line 2: "));
    assert_int_equal(g->n, 1);
    assert_string_equal(g->items[0]->title, "caf\xC3\xA9");
}

static void test_recovers_after_errors(void **state)
{
    struct got *g = *state;
    const char doc[] =
        "<rss><channel>\n"
        "<item><guid>1</guid><title>One</title>"
        "<description>mismatched</descr></item>\n"
        "<item><guid>2</guid><title>Two &amp; &eacute;</title></item>\n"
        "</channel></rss>";
    assert_int_equal(parse_buf(doc, sizeof(doc) - 1, NULL, g), ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "line 2: "));
    assert_int_equal(g->n, 2);
    /* References after the error are not lost. */
    assert_string_equal(by_id(g, "2")->title, "Two & \xC3\xA9");
}

static void test_not_a_feed(void **state)
{
    struct got *g = *state;
    static const char *const files[] = { "not-a-feed.html", "not-a-feed.json" };
    for (size_t i = 0; i < 2; i++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/feed/%s", ES_FIXTURES, files[i]);
        got_clear(g);
        assert_int_equal(parse_fixture(path, NULL, g), ES_EPARSE);
        assert_non_null(
            strstr(es_error_last(), "not an RSS, Atom or JSON feed"));
        assert_int_equal(g->n, 0);
        assert_int_equal(g->meta_calls, 0);
    }
    static const char *const docs[] = {
        "",
        "   \n",
        "plain text, no markup",
        "<?xml version=\"1.0\"?><opml version=\"2.0\"><body/></opml>",
        "<html><body><rss><channel><item><title>x</title></item></channel></rss></body></html>",
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        got_clear(g);
        struct es_feed_parser *p = es_feed_parser_new(NULL, collect, g);
        assert_int_equal(es_feed_parser_push(p, docs[i], strlen(docs[i])), 0);
        assert_int_equal(es_feed_parser_finish(p), ES_EPARSE);
        assert_non_null(
            strstr(es_feed_parser_error(p), "not an RSS, Atom or JSON feed"));
        assert_true(strncmp(es_feed_parser_error(p), "line ", 5) == 0);
        assert_non_null(
            strstr(es_error_last(), "not an RSS, Atom or JSON feed"));
        es_feed_parser_free(p);
        assert_int_equal(g->n, 0);
    }
    /* Text that is no markup at all: the message shows how it starts,
     * printable bytes only. */
    got_clear(g);
    static const char text[] = "# My notes\x1b[2J\nmore";
    assert_int_equal(parse_buf(text, sizeof(text) - 1, NULL, g), ES_EPARSE);
    assert_non_null(strstr(es_error_last(),
                           "(not XML or JSON: it starts with \"# My "
                           "notes?[2J\")"));
    /* The message names the root element, cut short: never inside a
     * character (found by fuzz_feed). */
    static const char cjk[] = "<fee\xE4\xA1\x88\xE4\xA1\x88\xE4\xA1\x88\xE4\xA1"
                              "\x88\xE4\xA1\x88\xE4\xA1\x88\xE4\xA1\x88\xE4\xA1"
                              "\x88\xE4\xA1\x88\xE4\xA1\x88\xE4\xA1\x88\xE4\xA1"
                              "\x88\xE4\xA1\x88/>";
    got_clear(g);
    assert_int_equal(parse_buf(cjk, sizeof(cjk) - 1, NULL, g), ES_EPARSE);
    const char *m = es_error_last();
    assert_non_null(strstr(m, "root element 'fee\xE4\xA1\x88"));
    assert_int_equal(es_utf8_invalid_at(m, strlen(m)), strlen(m));
}

static void test_xxe_never_reads_files(void **state)
{
    struct got *g = *state;
    char path[] = "/tmp/earshot-xxe-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char secret[] = "SECRET-7f3a9c-do-not-leak";
    assert_int_equal(write(fd, secret, sizeof(secret) - 1),
                     (ssize_t)(sizeof(secret) - 1));
    close(fd);

    char doc[2048];
    snprintf(doc, sizeof(doc),
             "<?xml version=\"1.0\"?>\n"
             "<!DOCTYPE rss SYSTEM \"file://%s\" [\n"
             "  <!ENTITY xxe SYSTEM \"file://%s\">\n"
             "  <!ENTITY %% ext SYSTEM \"file://%s\">\n"
             "  %%ext;\n"
             "  <!ENTITY nested \"&xxe;\">\n"
             "]>\n"
             "<rss><channel><title>T &xxe;</title>\n"
             "<item><guid>1</guid><title>A &xxe; B</title>"
             "<link>http://e.example/&xxe;</link>"
             "<description>&xxe;&nested;</description>"
             "<category>&xxe;</category></item>\n"
             "</channel></rss>\n",
             path, path, path);
    int rc = parse_buf(doc, strlen(doc), NULL, g);
    unlink(path);
    assert_int_equal(rc, ES_EPARSE);
    assert_int_equal(g->n, 1);
    assert_false(anywhere(g, secret));
    assert_null(strstr(es_error_last(), secret));
    /* The text around the refused entity is kept. */
    assert_string_equal(g->items[0]->title, "A &xxe; B");

    /* Without the parameter entity, the refusal itself is the problem. */
    got_clear(g);
    const char doc2[] =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE rss [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
        "<rss><channel><item><guid>1</guid><title>&xxe;</title>"
        "</item></channel></rss>";
    assert_int_equal(parse_buf(doc2, sizeof(doc2) - 1, NULL, g), ES_EPARSE);
    assert_non_null(
        strstr(es_error_last(), "external entity 'xxe' not loaded"));
    assert_false(anywhere(g, "root:"));
}

static long max_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_billion_laughs(void **state)
{
    struct got *g = *state;
    long rss0 = max_rss_kb();
    double t0 = now_s();
    assert_int_equal(parse_fixture(FIXTURE("billion-laughs.xml"), NULL, g),
                     ES_EPARSE);
    double secs = now_s() - t0;
    assert_true(secs < 2.0);
    /* Expanded, lol9 alone is 3 GB; nothing near that was allocated. */
    assert_true(max_rss_kb() - rss0 < 64 * 1024);
    assert_non_null(strstr(es_error_last(), "not expanded"));
    assert_int_equal(g->n, 2);
    assert_string_equal(by_id(g, "lol")->title, "Laughs &lol9;");
    assert_true(strlen(by_id(g, "lol")->summary) < 100);
    assert_false(anywhere(g, "lollol"));
    /* A plain declared entity still works. */
    assert_string_equal(by_id(g, "plain")->title, "Plain lol item");
}

static void test_deep_nesting(void **state)
{
    struct got *g = *state;
    struct es_buf doc = ES_BUF_INIT;
    es_buf_adds(&doc,
                "<rss><channel><item><guid>1</guid><title>ok</title></item>\n"
                "<item><guid>2</guid><description>");
    for (int i = 0; i < 400; i++)
        es_buf_adds(&doc, "<d>");
    es_buf_adds(&doc, "deep");
    for (int i = 0; i < 400; i++)
        es_buf_adds(&doc, "</d>");
    es_buf_adds(
        &doc,
        "</description></item><item><guid>3</guid></item></channel></rss>");

    /* The default cap (256). */
    assert_int_equal(parse_buf(doc.ptr, doc.len, NULL, g), ES_EPARSE);
    assert_non_null(
        strstr(es_error_last(), "line 2: elements nested deeper than 256"));
    assert_int_equal(g->n, 1);

    /* A smaller cap from the options. */
    got_clear(g);
    struct es_feed_opts opts = { .max_depth = 8 };
    size_t count;
    assert_int_equal(es_feed_parse(doc.ptr, doc.len, &opts, collect, g, &count),
                     ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "nested deeper than 8"));
    assert_int_equal(count, 1);

    /* And a larger one lets the document through. */
    got_clear(g);
    opts.max_depth = 1000;
    assert_int_equal(es_feed_parse(doc.ptr, doc.len, &opts, collect, g, &count),
                     0);
    assert_int_equal(count, 3);
    assert_string_equal(by_id(g, "2")->text, "deep");
    es_buf_release(&doc);
}

/* A ~50 MB RSS document: @n items of some 500 bytes each. */
static char *big_feed(size_t n, size_t *len)
{
    struct es_buf b = ES_BUF_INIT;
    es_buf_grow(&b, n * 520 + 512);
    es_buf_adds(
        &b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" "
            "xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel>"
            "<title>Big</title><link>https://big.example/</link>\n");
    for (size_t i = 0; i < n; i++)
        es_buf_addf(
            &b,
            "<item><title>Item %zu: caf&eacute; &amp; cr&egrave;me</title>"
            "<link>https://big.example/%zu</link><guid>big-%zu</guid>"
            "<dc:creator>Writer %zu</dc:creator>"
            "<pubDate>Wed, 01 May 2024 12:%02zu:00 GMT</pubDate>"
            "<category>c%zu</category><description>&lt;p&gt;Some "
            "&lt;b&gt;HTML&lt;/b&gt; text for item %zu &amp;mdash; with "
            "entities&amp;hellip; and a &lt;a href=&quot;https://x.example/"
            "%zu&quot;&gt;link&lt;/a&gt;.&lt;/p&gt;</description></item>\n",
            i, i, i, i % 50, i % 60, i % 7, i, i);
    es_buf_adds(&b, "</channel></rss>\n");
    *len = b.len;
    return es_buf_detach(&b);
}

static void test_size_cap(void **state)
{
    struct got *g = *state;
    size_t len;
    const size_t n = 120000;
    char *doc = big_feed(n, &len);
    assert_true(len > 50u * 1000 * 1000);
    g->keep = 0;

    /* Over a 16 MiB cap: ES_ETOOBIG once the cap is passed. */
    struct es_feed_opts opts = { .source = "big", .max_size = 16u << 20 };
    size_t count = 0;
    assert_int_equal(es_feed_parse(doc, len, &opts, collect, g, &count),
                     ES_ETOOBIG);
    assert_non_null(
        strstr(es_error_last(), "feed 'big': document over 16777216 bytes"));
    assert_true(count > 0 && count < n);

    /* Pushing by hand: the push that passes the cap fails, and so does
     * every later call. */
    g->n = 0;
    struct es_feed_parser *p = es_feed_parser_new(&opts, collect, g);
    int rc = 0;
    size_t off = 0;
    while (off < len && rc == 0) {
        size_t k = len - off < 1000000 ? len - off : 1000000;
        rc = es_feed_parser_push(p, doc + off, k);
        off += k;
    }
    assert_int_equal(rc, ES_ETOOBIG);
    assert_true(off > (16u << 20) && off <= (16u << 20) + 1000000);
    assert_int_equal(es_feed_parser_push(p, "x", 1), ES_ETOOBIG);
    assert_int_equal(es_feed_parser_finish(p), ES_ETOOBIG);
    es_feed_parser_free(p);

    /* Under the default cap (64 MiB) it parses, in bounded memory. */
    g->n = 0;
    long rss0 = max_rss_kb();
    opts.max_size = 0;
    assert_int_equal(es_feed_parse(doc, len, &opts, collect, g, &count), 0);
    assert_int_equal(count, n);
#if !defined(__SANITIZE_ADDRESS__)
    /* The parser's own memory does not grow with the document. */
    assert_true(max_rss_kb() - rss0 < 16 * 1024);
#else
    (void)rss0;
#endif
    free(doc);
}

static void test_big_document_fields(void **state)
{
    struct got *g = *state;
    size_t len;
    char *doc = big_feed(300, &len);
    assert_int_equal(parse_buf(doc, len, NULL, g), 0);
    assert_int_equal(g->n, 300);
    const struct es_item *it = by_id(g, "big-123");
    assert_string_equal(it->title, "Item 123: caf\xC3\xA9 & cr\xC3\xA8me");
    assert_string_equal(it->author, "Writer 23");
    assert_int_equal(it->ncategories, 1);
    assert_has_category(it, "c4");
    assert_int_equal(it->created_at, date("2024-05-01T12:03:00Z"));
    assert_string_equal(it->text,
                        "Some HTML text for item 123 \xE2\x80\x94 with "
                        "entities\xE2\x80\xA6 and a link.");
    free(doc);
}

/* ==== html.h ==== */

static void assert_text(const char *html, const char *want)
{
    struct es_buf b = ES_BUF_INIT;
    es_html_to_text(html, strlen(html), &b);
    if (strcmp(b.ptr, want) != 0)
        fail_msg("es_html_to_text(\"%s\") = \"%s\", want \"%s\"", html, b.ptr,
                 want);
    assert_int_equal(b.len, strlen(want));
    es_buf_release(&b);
}

static void test_html_to_text(void **state)
{
    (void)state;
    assert_text("", "");
    assert_text("plain", "plain");
    assert_text("  lots   of \n\t space  ", "lots of space");
    assert_text("<p>Hello <b>world</b></p>", "Hello world");
    assert_text("he<b>ll</b>o", "hello"); /* inline tags join */
    assert_text("<p>one</p><p>two</p>", "one two");
    assert_text("a<br>b<br/>c<BR />d", "a b c d");
    assert_text("<ul><li>x</li><li>y</li></ul>z", "x y z");
    assert_text("<h1>T</h1><div>D</div><td>1</td><td>2</td>", "T D 1 2");
    assert_text("x<script>var a = '<p>' + 1 < 2;</script>y", "x y");
    assert_text("x<SCRIPT type=\"a\">alert('</scr' + 'ipt>')</SCRIPT >y",
                "x y");
    assert_text("x<style>p { color: red }</style>y", "x y");
    assert_text("x<script>never closed", "x");
    assert_text("a <!-- a <b>comment</b> --> b", "a b");
    assert_text("a <!-- unterminated", "a");
    assert_text("<!DOCTYPE html><html><body>t</body></html>", "t");
    assert_text("<?php echo 1 ?>t", "t");
    assert_text("<![CDATA[x < y]]>", "x < y");
    assert_text("a < b and c > d", "a < b and c > d");
    assert_text("1<2", "1<2");
    assert_text("x <", "x <");
    assert_text("</>x", "x");
    assert_text("<a href=\"x>y\" title='>'>link</a>", "link");
    assert_text("<img alt=x>text", "text");
    assert_text("<p>unterminated <b", "unterminated");
    assert_text("caf&eacute; &amp; cr&egrave;me", "caf\xC3\xA9 & cr\xC3\xA8me");
    assert_text("&lt;p&gt; is a tag", "<p> is a tag");
    assert_text("&#233;&#xE9;&#XE9;&#233", "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9");
    assert_text("&#0;&#xD800;&#x110000;&#99999999999;",
                "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    assert_text("&#150;&#147;q&#148;", "\xE2\x80\x93\xE2\x80\x9Cq\xE2\x80\x9D");
    assert_text("AT&T &unknown; & &; &#; &#x;", "AT&T &unknown; & &; &#; &#x;");
    assert_text("&amp &lt &copy2024 &ampx &notin; &notit;",
                "& < \xC2\xA9"
                "2024 &x \xE2\x88\x89 \xC2\xACit;"); /* as HTML5's example */
    /* A two-code-point reference that is a space (U+205F U+200A). */
    assert_text("a&ThickSpace;b&ThickSpace;", "a b");
    assert_text("a&nbsp;&nbsp;b\xC2\xA0\xC2\xA0"
                "c&#8195;d",
                "a b c d");
    assert_text("&nbsp;<p>&nbsp;trimmed&nbsp;</p>&nbsp;", "trimmed");
    assert_text("bad \xFF byte \xC3", "bad \xEF\xBF\xBD byte \xEF\xBF\xBD");
    assert_text("ctl\x01\x02"
                "chars",
                "ctlchars");
    assert_text("\xE4\xB8\xAD\xE6\x96\x87 <i>\xF0\x9F\x98\x80</i>",
                "\xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80");

    /* It appends, and trims only what it wrote. */
    struct es_buf b = ES_BUF_INIT;
    es_buf_adds(&b, "prefix: ");
    es_html_to_text("  <p> x </p> ", 13, &b);
    assert_string_equal(b.ptr, "prefix: x");
    /* @len bounds the input. */
    es_buf_reset(&b);
    es_html_to_text("abc<b>def", 5, &b);
    assert_string_equal(b.ptr, "abc");
    es_buf_release(&b);
}

static void test_html_decode_entities(void **state)
{
    (void)state;
    struct es_buf b = ES_BUF_INIT;
    const char in[] =
        "<b>caf&eacute;</b> &amp;amp; &apos;q&apos; &#x263A; &bogus; "
        "&#128; \xFF";
    es_html_decode_entities(in, sizeof(in) - 1, &b);
    assert_string_equal(b.ptr,
                        "<b>caf\xC3\xA9</b> &amp; 'q' \xE2\x98\xBA &bogus; "
                        "\xE2\x82\xAC \xEF\xBF\xBD");
    es_buf_release(&b);

    unsigned long cp[2] = { 0, 0 };
    assert_int_equal(es_html_parse_ref("&eacute;x", 9, cp), 8);
    assert_int_equal(cp[0], 0xE9);
    assert_int_equal(cp[1], 0);
    assert_int_equal(es_html_parse_ref("&#65;", 5, cp), 5);
    assert_int_equal(cp[0], 'A');
    assert_int_equal(es_html_parse_ref("&#55357;&#56832;!", 17, cp), 16);
    assert_int_equal(cp[0], 0x1F600);
    assert_int_equal(es_html_parse_ref("&#xD83D;&#65;", 13, cp), 8);
    assert_int_equal(cp[0], 0xFFFD);
    assert_int_equal(es_html_parse_ref("&#", 2, cp), 0);
    assert_int_equal(es_html_parse_ref("&x", 2, cp), 0);
    assert_int_equal(es_html_parse_ref("&", 1, cp), 0);
    assert_int_equal(es_html_parse_ref("plain", 5, cp), 0);
    /* HTML5's names, not only HTML 4's. */
    assert_int_equal(es_html_parse_ref("&comma;", 7, cp), 7);
    assert_int_equal(cp[0], ',');
    assert_int_equal(es_html_parse_ref("&lstrok;", 8, cp), 8);
    assert_int_equal(cp[0], 0x142);
    assert_int_equal(
        es_html_parse_ref("&CounterClockwiseContourIntegral;", 33, cp), 33);
    assert_int_equal(cp[0], 0x2233);
    /* A reference that stands for two code points. */
    assert_int_equal(es_html_parse_ref("&NotEqualTilde;", 15, cp), 15);
    assert_int_equal(cp[0], 0x2242);
    assert_int_equal(cp[1], 0x338);
    /* Legacy names need no ';'; the longest one that fits is taken, and
     * the others need theirs. */
    assert_int_equal(es_html_parse_ref("&eacute ", 8, cp), 7);
    assert_int_equal(cp[0], 0xE9);
    assert_int_equal(es_html_parse_ref("&notit;", 7, cp), 4);
    assert_int_equal(cp[0], 0xAC);
    assert_int_equal(es_html_parse_ref("&notin;", 7, cp), 7);
    assert_int_equal(cp[0], 0x2209);
    assert_int_equal(es_html_parse_ref("&frac12x", 8, cp), 7);
    assert_int_equal(cp[0], 0xBD);
    assert_int_equal(es_html_parse_ref("&hellip ", 8, cp), 0);
    assert_int_equal(es_html_parse_ref("&comma", 6, cp), 0);
    unsigned long second = 1;
    assert_int_equal(es_html_entity("thetasym", 8, &second), 977);
    assert_int_equal(second, 0);
    assert_int_equal(es_html_entity("apos", 4, NULL), 39);
    assert_int_equal(es_html_entity("Eacute", 6, NULL), 0xC9);
    assert_int_equal(es_html_entity("eacut", 5, NULL), 0);
    assert_int_equal(es_html_entity("eacutee", 7, NULL), 0);
    assert_int_equal(es_html_entity("", 0, NULL), 0);
    assert_int_equal(es_html_entity("nvlt", 4, &second), '<');
    assert_int_equal(second, 0x20D2);
    assert_int_equal(es_html_cp1252(0x80), 0x20AC);
    assert_int_equal(es_html_cp1252(0x81), 0x81);
    assert_int_equal(es_html_cp1252(0x9F), 0x178);
    assert_int_equal(es_html_cp1252('a'), 'a');
    assert_int_equal(es_html_cp1252(0xE9), 0xE9);
}

/* Our table (HTML5's) must agree with libxml2's HTML 4 table on every
 * name that table has. */
static void test_entity_table_matches_libxml2(void **state)
{
    (void)state;
    size_t seen = 0;
    const htmlEntityDesc *prev = NULL;
    for (unsigned cp = 1; cp < 0x10000; cp++) {
        const htmlEntityDesc *d = htmlEntityValueLookup(cp);
        if (!d || d == prev)
            continue;
        prev = d;
        seen++;
        unsigned long got = es_html_entity(d->name, strlen(d->name), NULL);
        /* HTML5 moved the angle brackets to the mathematical ones. */
        if (strcmp(d->name, "lang") == 0 || strcmp(d->name, "rang") == 0) {
            assert_int_equal(got, d->value == 9001 ? 0x27E8 : 0x27E9);
            continue;
        }
        if (got != d->value)
            fail_msg("entity '%s': %lu, libxml2 says %u", d->name, got,
                     d->value);
        const htmlEntityDesc *back = htmlEntityLookup((const xmlChar *)d->name);
        assert_non_null(back);
        assert_int_equal(back->value, d->value);
    }
    assert_int_equal(seen, 253); /* all of HTML 4 */
}

/* ==== url.h ==== */

static void assert_resolved(const char *base, const char *ref, const char *want)
{
    struct es_buf b = ES_BUF_INIT;
    es_url_resolve(base, ref, strlen(ref), &b);
    if (strcmp(b.ptr, want) != 0)
        fail_msg("resolve(\"%s\", \"%s\") = \"%s\", want \"%s\"",
                 base ? base : "NULL", ref, b.ptr, want);
    es_buf_release(&b);
}

static void test_url_resolve(void **state)
{
    (void)state;
    const char *base = "https://example.com/a/b/feed.xml?x=1#top";
    assert_resolved(base, "post/1", "https://example.com/a/b/post/1");
    assert_resolved(base, "/root", "https://example.com/root");
    assert_resolved(base, "../up", "https://example.com/a/up");
    assert_resolved(base, "../../../../too-far", "https://example.com/too-far");
    assert_resolved(base, "./same", "https://example.com/a/b/same");
    assert_resolved(base, "//cdn.example.org/x", "https://cdn.example.org/x");
    assert_resolved(base, "?q=2", "https://example.com/a/b/feed.xml?q=2");
    assert_resolved(base, "#frag", "https://example.com/a/b/feed.xml?x=1#frag");
    assert_resolved(base, "  spaced.html \n",
                    "https://example.com/a/b/spaced.html");
    assert_resolved(base, "with space", "https://example.com/a/b/with%20space");
    /* Absolute references are kept exactly as written. */
    assert_resolved(base, "HTTP://Example.COM/Abs", "HTTP://Example.COM/Abs");
    assert_resolved(base, "tag:example.com,2024:1", "tag:example.com,2024:1");
    assert_resolved(base, "mailto:a@example.com", "mailto:a@example.com");
    /* Nothing to resolve against. */
    assert_resolved(NULL, "rel/x", "rel/x");
    assert_resolved("", "rel/x", "rel/x");
    assert_resolved("not absolute", "rel/x", "rel/x");
    assert_resolved("feed://example.com/x/", "y", "feed://example.com/x/y");
    assert_int_equal(es_url_is_absolute("http://x", 8), 1);
    assert_int_equal(es_url_is_absolute("a+b.c-d:x", 9), 1);
    assert_int_equal(es_url_is_absolute("/x:y", 4), 0);
    assert_int_equal(es_url_is_absolute("1ab:x", 5), 0);
    assert_int_equal(es_url_is_absolute("nocolon", 7), 0);
}

/* push_fd reads a whole file in chunks, with the same result as a push of
 * its bytes; a read error names itself. */
static void test_push_fd(void **state)
{
    struct got *g = *state;
    struct es_feed_opts opts = { .source = "fd" };
    int fd = open(FIXTURE("wordpress-rss2.xml"), O_RDONLY);
    assert_true(fd >= 0);
    struct es_feed_parser *p = es_feed_parser_new(&opts, collect, g);
    assert_int_equal(es_feed_parser_push_fd(p, fd), 0);
    assert_int_equal(es_feed_parser_finish(p), 0);
    close(fd);
    size_t n_fd = g->n;
    es_feed_parser_free(p);
    assert_true(n_fd > 0);

    size_t len;
    char *doc = slurp(FIXTURE("wordpress-rss2.xml"), &len);
    got_clear(g);
    g->keep = 1;
    size_t n_mem = 0;
    assert_int_equal(es_feed_parse(doc, len, &opts, collect, g, &n_mem), 0);
    assert_int_equal(n_mem, n_fd);
    free(doc);

    /* A directory opens but cannot be read. */
    fd = open(ES_FIXTURES, O_RDONLY);
    assert_true(fd >= 0);
    p = es_feed_parser_new(&opts, collect, g);
    assert_int_equal(es_feed_parser_push_fd(p, fd), ES_ERROR);
    assert_non_null(strstr(es_error_last(), "cannot read: "));
    close(fd);
    es_feed_parser_free(p);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_wordpress_rss2),
        T(test_push_fd),
        T(test_reddit_atom),
        T(test_github_atom),
        T(test_rss1_rdf),
        T(test_atom03),
        T(test_jsonfeed_11),
        T(test_jsonfeed_10),
        T(test_jsonfeed_errors),
        T(test_rss091_entities_and_fallback_ids),
        T(test_no_guid),
        T(test_dates_every_zone_form),
        T(test_atom_text_types),
        T(test_html_entities_in_text),
        T(test_html_entities_in_attributes),
        T(test_entities_chunked_everywhere),
        T(test_surrogate_pair_references),
        T(test_channel_dc_title),
        T(test_undefined_entity_kept_as_written),
        T(test_html5_entities),
        T(test_rss_title_plain_or_html),
        T(test_rss_title_about_markup),
        T(test_rss_author_date_link_quirks),
        T(test_declared_entities),
        T(test_entity_collisions_bounded),
        T(test_bare_ampersand_and_less_than),
        T(test_atom_links_authors_source),
        T(test_rss_oddities),
        T(test_rss_author_display_names),
        T(test_author_category_markup),
        T(test_dc_description),
        T(test_extension_summaries),
        T(test_rss_xhtml_body),
        T(test_atom_other_namespace),
        T(test_atom_link_without_href),
        T(test_xml_base_atom),
        T(test_xml_base_rss),
        T(test_relative_links_base_url),
        T(test_latin1_declared),
        T(test_wrong_encoding_declaration),
        T(test_invalid_utf8),
        T(test_other_encodings),
        T(test_undecodable_input),
        T(test_http_charset_wins),
        T(test_late_feed_metadata),
        T(test_chunked_push_matches_whole),
        T(test_meta_once_and_at_finish),
        T(test_callbacks_stop_parsing),
        T(test_opts_are_copied),
        T(test_truncated),
        T(test_recovers_after_errors),
        T(test_not_a_feed),
        T(test_xxe_never_reads_files),
        T(test_billion_laughs),
        T(test_deep_nesting),
        T(test_big_document_fields),
        T(test_size_cap),
        T(test_html_to_text),
        T(test_html_decode_entities),
        T(test_entity_table_matches_libxml2),
        T(test_url_resolve),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
