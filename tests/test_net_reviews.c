/* test_net_reviews.c - the appstore, googleplay and jsonl kinds
 *
 * parse_any on the fixtures in tests/fixtures/{appstore,googleplay,jsonl}
 * (written from Apple's customer-review feed as itunes.apple.com serves
 * it and from the Play Developer API reference), hostile and malformed
 * bodies, and every kind through es_poller_run(): against the loopback
 * server for the two stores and jsonl's URL mode, against a temporary
 * file and /bin/sh commands for jsonl's local modes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* cmocka.h needs setjmp.h, stdarg.h and stddef.h first. */
#include <cmocka.h>

#include "earshot/alloc.h"
#include "earshot/buf.h"
#include "earshot/config.h"
#include "earshot/error.h"
#include "earshot/jsonl.h"
#include "earshot/source.h"
#include "pollrun.h"
#include "testhttpd.h"

static struct es_testhttpd *srv;

#define APP_PATH(page, fmt)                                                    \
    "/us/rss/customerreviews/page=" #page "/id=389801252/sortby=mostrecent/" fmt
#define PLAY_PATH "/androidpublisher/v3/applications/com.acme.cloud/reviews"
#define TOKEN     "ya29.secret-token-123"

/* ==== Helpers ==== */

static char *fixture(const char *kind, const char *name, size_t *len)
{
    return es_pollrun_fixture(len, "%s/%s", kind, name);
}

static int parse_any(const char *kind, const char *buf, size_t len,
                     struct es_caught *out)
{
    const struct es_source_ops *ops = es_source_find(kind);
    assert_non_null(ops);
    assert_non_null(ops->parse_any);
    struct es_parse_opts opts = { .source = "fixture" };
    memset(out, 0, sizeof(*out));
    es_error_clear();
    return ops->parse_any(buf, len, &opts, es_caught_add, out);
}

static int parse_fixture(const char *kind, const char *name,
                         struct es_caught *out)
{
    size_t len;
    char *buf = fixture(kind, name, &len);
    int rc = parse_any(kind, buf, len, out);
    free(buf);
    return rc;
}

static int parse_str(const char *kind, const char *s, struct es_caught *out)
{
    return parse_any(kind, s, strlen(s), out);
}

/* Opens source "s" from config text (every "@BASE@" replaced with the
 * loopback server's URL). */
static struct es_source *open_conf(const char *text)
{
    char *conf = es_pollrun_conf(srv, text);
    struct es_config *cfg = NULL;
    int rc = es_config_load_string(&cfg, conf, "test.conf");
    if (rc != 0)
        fail_msg("config: %s", es_error_last());
    const struct es_config_source *cs = es_config_source_find(cfg, "s");
    assert_non_null(cs);
    struct es_source *src = NULL;
    rc = es_source_open(&src, cs);
    if (rc != 0)
        fail_msg("open: %s", es_error_last());
    es_config_free(cfg);
    free(conf);
    return src;
}

/* Expects opening source "s" of @text to fail with ES_EINVALID and a
 * message containing @what; returns nothing. */
static void open_fails(const char *text, const char *what)
{
    struct es_config *cfg = NULL;
    assert_int_equal(es_config_load_string(&cfg, text, "bad.conf"), 0);
    struct es_source *src = NULL;
    assert_int_equal(es_source_open(&src, es_config_source_find(cfg, "s")),
                     ES_EINVALID);
    assert_null(src);
    if (!strstr(es_error_last(), what))
        fail_msg("'%s' lacks '%s'", es_error_last(), what);
    assert_non_null(strstr(es_error_last(), "bad.conf:"));
    es_config_free(cfg);
}

static struct es_testhttpd_response file_response(const char *kind,
                                                  const char *name, char **keep)
{
    struct es_testhttpd_response r = { .content_type = "application/json" };
    *keep = fixture(kind, name, &r.body_len);
    r.body = *keep;
    return r;
}

/* ==== appstore: parsing ==== */

static void test_appstore_json(void **state)
{
    (void)state;
    struct es_caught it;
    assert_int_equal(parse_fixture("appstore", "reviews-page1.json", &it), 0);
    /* The app's own entry (im:name, im:image) is not a review. */
    assert_int_equal(it.n, 3);
    struct es_item *r = it.items[0];
    assert_string_equal(r->platform, "appstore");
    assert_string_equal(r->source, "fixture");
    assert_string_equal(r->external_id, "11012345678");
    assert_string_equal(r->author, "Grumpy Cat \xf0\x9f\x98\xbe");
    assert_string_equal(r->author_name, "Grumpy Cat \xf0\x9f\x98\xbe");
    assert_string_equal(r->title, "Sync broke after update \xf0\x9f\x98\xa1");
    assert_string_equal(r->text,
                        "Since 7.4.1 nothing syncs. I lost a whole day of "
                        "work. Fix it please! \xf0\x9f\x98\x80 (not)");
    assert_null(r->content);
    assert_int_equal(r->created_at, 1715354062);
    assert_int_equal(r->kind, ES_KIND_REVIEW);
    assert_int_equal(r->rating, 1);
    assert_int_equal(r->ncategories, 1);
    assert_string_equal(r->categories[0], "version:7.4.1");
    assert_string_equal(r->url, "https://itunes.apple.com/us/review?id="
                                "389801252&type=Purple%20Software");
    assert_null(r->in_reply_to);
    assert_null(r->reply_ref);
    assert_int_equal(r->flags, 0); /* any app's reviews: the query decides */
    assert_string_equal(it.items[1]->title,
                        "\xe7\xa5\x9e\xe3\x82\xa2\xe3\x83\x97"
                        "\xe3\x83\xaa");
    assert_int_equal(it.items[1]->rating, 4);
    assert_int_equal(it.items[1]->created_at, 1715317265);
    assert_string_equal(it.items[2]->author, "Zo\xc3\xab & \"friends\"");
    assert_string_equal(it.items[2]->title, "Love it <3");
    assert_string_equal(it.items[2]->categories[0], "version:7.4.0");
    assert_int_equal(it.items[2]->rating, 5);
    es_caught_release(&it);

    /* One entry: an object, not an array; no link, no version. */
    assert_int_equal(parse_fixture("appstore", "reviews-single.json", &it), 0);
    assert_int_equal(it.n, 1);
    assert_string_equal(it.items[0]->external_id, "10998877665");
    assert_string_equal(it.items[0]->author, "J\xc3\xbcrgen");
    assert_string_equal(it.items[0]->title, "Endlich \xc3\xbc"
                                            "bersichtlich");
    assert_non_null(
        strstr(it.items[0]->text, "\xf0\x9f\x98\x80\xf0\x9f\x91\x8d"));
    assert_int_equal(it.items[0]->created_at, 1714514399);
    /* No link of its own: the app page, from the feed's own URL. */
    assert_string_equal(it.items[0]->url, "https://apps.apple.com/de/app/"
                                          "id389801252");
    assert_int_equal(it.items[0]->ncategories, 0);
    es_caught_release(&it);

    /* A page past the last review: no entry at all. */
    assert_int_equal(parse_fixture("appstore", "reviews-empty.json", &it), 0);
    assert_int_equal(it.n, 0);
}

static void test_appstore_xml(void **state)
{
    (void)state;
    struct es_caught it;
    assert_int_equal(parse_fixture("appstore", "reviews-page1.xml", &it), 0);
    assert_int_equal(it.n, 2);
    struct es_item *r = it.items[0];
    assert_string_equal(r->external_id, "11012345678");
    assert_string_equal(r->title, "Sync broke after update \xf0\x9f\x98\xa1");
    /* The type="text" content, not the html table that follows it. */
    assert_string_equal(r->text,
                        "Since 7.4.1 nothing syncs. I lost a whole day of "
                        "work. Fix it please! \xf0\x9f\x98\x80 (not)");
    assert_null(r->content);
    assert_string_equal(r->author, "Grumpy Cat \xf0\x9f\x98\xbe");
    assert_int_equal(r->rating, 1);
    assert_int_equal(r->created_at, 1715354062);
    assert_string_equal(r->categories[0], "version:7.4.1");
    assert_string_equal(r->url, "https://itunes.apple.com/us/review?id="
                                "389801252&type=Purple%20Software");
    assert_int_equal(r->kind, ES_KIND_REVIEW);
    /* CDATA text is plain text, markup characters and all. */
    assert_string_equal(it.items[1]->text, "とにかく使いやすい！ <b>だけど</b> "
                                           "同期が少し遅いので、星4で");
    assert_int_equal(it.items[1]->rating, 4);
    es_caught_release(&it);

    assert_int_equal(parse_fixture("appstore", "reviews-empty.xml", &it), 0);
    assert_int_equal(it.n, 0);

    /* Only html content: its text, and the markup kept as content. */
    assert_int_equal(
        parse_str("appstore",
                  "<feed xmlns=\"http://www.w3.org/2005/Atom\" "
                  "xmlns:im=\"http://itunes.apple.com/rss\"><entry><id>9</id>"
                  "<im:rating>2</im:rating><content type=\"html\">&lt;p&gt;"
                  "a &amp;amp; b&lt;/p&gt;</content></entry></feed>",
                  &it),
        0);
    assert_int_equal(it.n, 1);
    assert_string_equal(it.items[0]->text, "a & b");
    assert_string_equal(it.items[0]->content, "<p>a &amp; b</p>");
    assert_null(it.items[0]->url);
    assert_int_equal(it.items[0]->created_at, ES_TIME_UNKNOWN);
    es_caught_release(&it);
}

static void test_appstore_bad_input(void **state)
{
    (void)state;
    struct es_caught it;
    assert_int_equal(parse_str("appstore", "{\"feed\": []}", &it), ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "appstore"));
    assert_non_null(strstr(es_error_last(), "$.feed"));
    assert_int_equal(parse_str("appstore", "{\"results\": []}", &it),
                     ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "$.feed"));
    assert_int_equal(
        parse_str("appstore", "{\"feed\": {\"entry\": \"x\"}}", &it),
        ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "$.feed.entry"));
    assert_int_equal(
        parse_str("appstore", "{\"feed\": {\"entry\": [{\"id\"", &it),
        ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "invalid JSON"));
    assert_int_equal(it.n, 0);
    assert_int_equal(parse_str("appstore", "", &it), ES_EPARSE);

    /* Wrong types: an id that is an object, a rating that is not 1..5;
     * the good entry is kept and the bad one reported. */
    assert_int_equal(
        parse_str("appstore",
                  "{\"feed\": {\"entry\": [{\"id\": {}, \"im:rating\": "
                  "{\"label\": \"5\"}}, {\"id\": {\"label\": \"7\"}, "
                  "\"im:rating\": {\"label\": \"9\"}, \"title\": 3, "
                  "\"content\": {\"label\": null}, \"author\": []}]}}",
                  &it),
        ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "1 review without an id"));
    assert_int_equal(it.n, 1);
    assert_string_equal(it.items[0]->external_id, "7");
    assert_int_equal(it.items[0]->rating, 0);
    assert_null(it.items[0]->title);
    assert_null(it.items[0]->text);
    assert_null(it.items[0]->author);
    es_caught_release(&it);

    /* Deep nesting is refused before yajl recurses. */
    struct es_buf deep = ES_BUF_INIT;
    es_buf_adds(&deep, "{\"feed\":");
    for (int i = 0; i < 100000; i++)
        es_buf_addch(&deep, '[');
    assert_int_equal(parse_str("appstore", deep.ptr, &it), ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "nested"));
    es_buf_reset(&deep);
    for (int i = 0; i < 100000; i++)
        es_buf_adds(&deep, "<a>");
    assert_int_equal(parse_str("appstore", deep.ptr, &it), ES_EPARSE);
    es_buf_release(&deep);

    /* XML: not a feed, truncated, billion laughs, an external entity. */
    assert_int_equal(
        parse_str("appstore", "<html><body>blocked</body></html>", &it),
        ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "not an Atom feed"));
    assert_int_equal(parse_str("appstore",
                               "<feed xmlns=\"http://www.w3.org/2005/Atom\">"
                               "<entry><id>1</id>",
                               &it),
                     ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "invalid XML"));
    char *laughs = fixture("feed", "billion-laughs.xml", NULL);
    assert_int_equal(parse_str("appstore", laughs, &it), ES_EPARSE);
    assert_int_equal(it.n, 0);
    free(laughs);
    assert_int_equal(
        parse_str("appstore",
                  "<?xml version=\"1.0\"?><!DOCTYPE feed [<!ENTITY x SYSTEM "
                  "\"file:///etc/passwd\">]><feed xmlns=\"http://www.w3.org/"
                  "2005/Atom\" xmlns:im=\"http://itunes.apple.com/rss\">"
                  "<entry><id>1</id><im:rating>1</im:rating><content>&x;"
                  "</content></entry></feed>",
                  &it),
        ES_EPARSE);
    assert_int_equal(it.n, 0);
    /* An im:rating outside Apple's namespace is not Apple's. */
    assert_int_equal(
        parse_str("appstore",
                  "<feed xmlns=\"http://www.w3.org/2005/Atom\" "
                  "xmlns:im=\"http://example.com/other\"><entry><id>1</id>"
                  "<im:rating>1</im:rating></entry></feed>",
                  &it),
        0);
    assert_int_equal(it.n, 0);
}

/* ==== appstore: polling ==== */

static void test_appstore_open(void **state)
{
    (void)state;
    open_fails("[source \"s\"]\ntype = appstore\n", "needs an app_id");
    open_fails("[source \"s\"]\ntype = appstore\napp_id = acme\n",
               "app_id 'acme' is not a number");
    open_fails("[source \"s\"]\ntype = appstore\napp_id = 1\ncountry = usa\n",
               "country 'usa'");
    open_fails("[source \"s\"]\ntype = appstore\napp_id = 1\nformat = rss\n",
               "format 'rss'");
    struct es_source *src =
        open_conf("[source \"s\"]\ntype = appstore\napp_id = id389801252\n");
    assert_string_equal(src->ops->name, "appstore");
    assert_int_equal(src->interval, 3600);
    es_source_free(src);
}

static void test_appstore_poll(void **state)
{
    (void)state;
    char *b1, *b2, *b3;
    struct es_testhttpd_response p1 =
        file_response("appstore", "reviews-page1.json", &b1);
    struct es_testhttpd_response p2 =
        file_response("appstore", "reviews-page2.json", &b2);
    struct es_testhttpd_response p3 =
        file_response("appstore", "reviews-empty.json", &b3);
    es_testhttpd_route(srv, APP_PATH(1, "json"), &p1);
    es_testhttpd_route(srv, APP_PATH(2, "json"), &p2);
    es_testhttpd_route(srv, APP_PATH(3, "json"), &p3);
    es_testhttpd_clear_log(srv);
    struct es_source *src = open_conf("[source \"s\"]\ntype = appstore\n"
                                      "app_id = 389801252\ncountry = US\n"
                                      "base_url = @BASE@/\n"
                                      "user_agent = acme-listener/1.0\n");
    struct es_polled p;

    /* First poll: pages 1, 2, then 3 is empty. */
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.calls, 3);
    assert_int_equal(p.status, 0);
    assert_null(p.first_error);
    assert_int_equal(p.items.n, 5);
    assert_string_equal(p.items.items[0]->external_id, "11012345678");
    assert_string_equal(p.items.items[0]->source, "s");
    assert_string_equal(p.items.items[4]->external_id, "11010555555");
    assert_string_equal(p.cursor, "1715354062");
    assert_int_equal(es_testhttpd_hits(srv, APP_PATH(1, "json")), 1);
    assert_int_equal(es_testhttpd_hits(srv, APP_PATH(2, "json")), 1);
    assert_int_equal(es_testhttpd_hits(srv, APP_PATH(3, "json")), 1);
    char *ua = es_testhttpd_header(srv, APP_PATH(1, "json"), 0, "User-Agent");
    assert_string_equal(ua, "acme-listener/1.0");
    free(ua);
    char *accept = es_testhttpd_header(srv, APP_PATH(1, "json"), 0, "Accept");
    assert_non_null(strstr(accept, "application/json"));
    free(accept);

    /* Second poll from the stored mark: page 1 reaches it, no more pages,
     * only the review at the mark itself comes again (deduped later). */
    char *cursor = es_xstrdup(p.cursor);
    es_polled_release(&p);
    es_testhttpd_clear_log(srv);
    es_polled_run(&p, src, cursor, NULL);
    assert_int_equal(p.calls, 1);
    assert_int_equal(p.items.n, 1);
    assert_string_equal(p.items.items[0]->external_id, "11012345678");
    assert_string_equal(p.cursor, "1715354062");
    assert_int_equal(es_testhttpd_hits(srv, APP_PATH(2, "json")), 0);
    es_polled_release(&p);

    /* A mark older than page 1's reviews but newer than page 2's: pages
     * 1 and 2, and only what is newer than the mark. */
    es_testhttpd_clear_log(srv);
    es_polled_run(&p, src, "1715250000", NULL);
    assert_int_equal(p.calls, 2);
    assert_int_equal(p.items.n, 3);
    assert_string_equal(p.cursor, "1715354062");
    assert_int_equal(es_testhttpd_hits(srv, APP_PATH(3, "json")), 0);
    es_polled_release(&p);

    /* A malformed stored cursor counts as none. */
    es_polled_run(&p, src, "{\"bogus\":", NULL);
    assert_int_equal(p.items.n, 5);
    es_polled_release(&p);
    free(cursor);
    es_source_free(src);

    /* max_pages = 1 stops after page 1 and stores the mark there. */
    src = open_conf("[source \"s\"]\ntype = appstore\napp_id = 389801252\n"
                    "base_url = @BASE@\nmax_pages = 1\n");
    es_testhttpd_clear_log(srv);
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.calls, 1);
    assert_int_equal(p.items.n, 3);
    assert_string_equal(p.cursor, "1715354062");
    assert_int_equal(es_testhttpd_hits(srv, APP_PATH(2, "json")), 0);
    es_polled_release(&p);
    es_source_free(src);
    free(b1);
    free(b2);
    free(b3);
}

static void test_appstore_poll_xml_and_limits(void **state)
{
    (void)state;
    char *b1, *b2;
    struct es_testhttpd_response p1 =
        file_response("appstore", "reviews-page1.xml", &b1);
    struct es_testhttpd_response p2 =
        file_response("appstore", "reviews-empty.xml", &b2);
    p1.content_type = p2.content_type = "application/xml; charset=utf-8";
    es_testhttpd_route(srv, APP_PATH(1, "xml"), &p1);
    es_testhttpd_route(srv, APP_PATH(2, "xml"), &p2);
    es_testhttpd_clear_log(srv);
    struct es_source *src = open_conf("[source \"s\"]\ntype = appstore\n"
                                      "app_id = 389801252\nformat = xml\n"
                                      "base_url = @BASE@\n");
    struct es_polled p;
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.calls, 2);
    assert_int_equal(p.status, 0);
    assert_int_equal(p.items.n, 2);
    assert_string_equal(p.cursor, "1715354062");
    es_polled_release(&p);

    /* The window is spent after page 1: no page 2 in this poll, and the
     * next poll waits for the reset. */
    char hdr[128];
    snprintf(hdr, sizeof(hdr),
             "X-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: %lld\r\n",
             (long long)time(NULL) + 100);
    p1.headers = hdr;
    es_testhttpd_route(srv, APP_PATH(1, "xml"), &p1);
    es_testhttpd_clear_log(srv);
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.calls, 1);
    assert_int_equal(p.items.n, 2);
    assert_true(p.retry_after >= 95 && p.retry_after <= 100);
    assert_int_equal(es_testhttpd_hits(srv, APP_PATH(2, "xml")), 0);
    /* Stopped before the end of the stream: the mark is not moved. */
    assert_null(p.cursor);
    es_polled_release(&p);

    struct es_testhttpd_response r429 = {
        .status = 429,
        .headers = "Retry-After: 30\r\n",
        .body = "Too Many Requests",
    };
    es_testhttpd_route(srv, APP_PATH(1, "xml"), &r429);
    es_polled_run(&p, src, "1715354062", NULL);
    assert_int_equal(p.calls, 1);
    assert_int_equal(p.status, ES_ERATELIMIT);
    assert_int_equal(p.http_code, 429);
    assert_int_equal(p.retry_after, 30);
    assert_null(p.cursor);
    assert_int_equal(p.items.n, 0);
    es_polled_release(&p);
    es_source_free(src);
    free(b1);
    free(b2);
}

/* ==== googleplay ==== */

static void test_googleplay_parse(void **state)
{
    (void)state;
    struct es_caught it;
    assert_int_equal(parse_fixture("googleplay", "reviews-page1.json", &it), 0);
    assert_int_equal(it.n, 3);
    struct es_item *r = it.items[0];
    assert_string_equal(r->platform, "googleplay");
    assert_string_equal(r->external_id,
                        "gp:AOqpTOGp2bM8yB3mVx1Lr5Zk0kqQ4nNwq8XKmUe1yVxHn9Q2rK"
                        "c3tJ9wP0aH1sT5uV7");
    assert_string_equal(r->author_name, "Jane Doe");
    assert_null(r->author);
    /* "\tbody": an empty title. */
    assert_null(r->title);
    assert_string_equal(r->text, "Crashes on startup since the update "
                                 "\xf0\x9f\x98\xa0 Pixel 8, Android 14.");
    assert_int_equal(r->created_at, 1715331262);
    assert_int_equal(r->updated_at, 1715331262);
    assert_int_equal(r->rating, 1);
    assert_int_equal(r->kind, ES_KIND_REVIEW);
    assert_string_equal(r->lang, "en");
    assert_int_equal(r->ncategories, 1);
    assert_string_equal(r->categories[0], "version:7.4.1");
    assert_string_equal(r->reply_ref,
                        "{\"review_id\":\"gp:AOqpTOGp2bM8yB3mVx1Lr5Zk0kqQ4nNwq"
                        "8XKmUe1yVxHn9Q2rKc3tJ9wP0aH1sT5uV7\",\"replied\":"
                        "false}");
    assert_null(r->url); /* no package without a source */
    assert_int_equal(r->flags, ES_ITEM_DIRECT);

    r = it.items[1];
    assert_string_equal(r->author_name, "J\xc3\xb6rg M\xc3\xbcller");
    assert_string_equal(r->title, "Endlich wieder gut");
    assert_string_equal(r->text, "Nach dem letzten Update l\xc3\xa4uft alles "
                                 "fl\xc3\xbcssig \xf0\x9f\x98\x80 Danke!");
    assert_string_equal(r->lang, "de-DE");
    assert_int_equal(r->rating, 5);
    assert_non_null(strstr(r->reply_ref, "\"replied\":true"));

    r = it.items[2];
    assert_string_equal(r->author_name, "A Google user");
    assert_string_equal(r->text, "ok");
    assert_string_equal(r->lang, "pt-BR");
    assert_int_equal(r->ncategories, 0);
    assert_int_equal(r->created_at, 1715300000);
    es_caught_release(&it);

    assert_int_equal(parse_fixture("googleplay", "review-get.json", &it), 0);
    assert_int_equal(it.n, 1);
    assert_non_null(strstr(it.items[0]->reply_ref, "\"replied\":true"));
    es_caught_release(&it);
    assert_int_equal(parse_fixture("googleplay", "reviews-empty.json", &it), 0);
    assert_int_equal(it.n, 0);
    assert_int_equal(parse_fixture("googleplay", "reviews-page2.json", &it), 0);
    assert_int_equal(it.n, 2);
    assert_string_equal(it.items[0]->author_name, "\xe6\x9d\x8e\xe9\x9b\xb7");
    assert_string_equal(it.items[0]->lang, "zh-CN");
    es_caught_release(&it);

    /* An error body says so, with the platform's reason. */
    assert_int_equal(parse_fixture("googleplay", "error-401.json", &it),
                     ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "googleplay: an error response"));
    assert_non_null(strstr(es_error_last(), "invalid authentication"));

    /* Wrong shapes and types. */
    assert_int_equal(parse_str("googleplay", "[]", &it), ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "googleplay"));
    assert_non_null(strstr(es_error_last(), "at $:"));
    assert_int_equal(parse_str("googleplay", "{\"reviews\": {}}", &it),
                     ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "$.reviews"));
    assert_int_equal(parse_str("googleplay", "{\"statuses\": [1]}", &it),
                     ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "$.reviews"));
    assert_int_equal(
        parse_str("googleplay", "{\"reviews\": [{\"reviewId\"", &it),
        ES_EPARSE);
    assert_int_equal(
        parse_str(
            "googleplay",
            "{\"reviews\": [{\"reviewId\": {}}, {\"reviewId\": \"r2\", "
            "\"authorName\": 5, \"comments\": {\"userComment\": 1}}, "
            "{\"reviewId\": \"r3\", \"comments\": [null, {\"userComment\":"
            " {\"text\": null, \"starRating\": \"x\", \"lastModified\": "
            "{\"seconds\": {}}}}]}]}",
            &it),
        ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "1 review without a reviewId"));
    assert_int_equal(it.n, 2);
    assert_null(it.items[0]->author_name);
    assert_null(it.items[0]->text);
    assert_int_equal(it.items[1]->rating, 0);
    assert_int_equal(it.items[1]->created_at, ES_TIME_UNKNOWN);
    es_caught_release(&it);
}

static void test_googleplay_open(void **state)
{
    (void)state;
    open_fails("[source \"s\"]\ntype = googleplay\ntoken = x\n",
               "needs a package");
    open_fails("[source \"s\"]\ntype = googleplay\npackage = com.acme\n",
               "needs a token or token_file");
    open_fails("[source \"s\"]\ntype = googleplay\ntoken = x\n"
               "package = ../etc\n",
               "is not a package name");
    open_fails("[source \"s\"]\ntype = googleplay\npackage = com.acme\n"
               "token_file = /nonexistent/token\n",
               "cannot read token_file");
}

static void test_googleplay_poll(void **state)
{
    (void)state;
    char *b1, *b2, *b3;
    struct es_testhttpd_response seq[2];
    seq[0] = file_response("googleplay", "reviews-page1.json", &b1);
    seq[1] = file_response("googleplay", "reviews-page2.json", &b2);
    es_testhttpd_route_seq(srv, PLAY_PATH, seq, 2);
    es_testhttpd_clear_log(srv);
    char tokfile[] = "/tmp/es-reviews-token-XXXXXX";
    int fd = mkstemp(tokfile);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, TOKEN "\n", sizeof(TOKEN)), sizeof(TOKEN));
    close(fd);
    char conf[512];
    snprintf(conf, sizeof(conf),
             "[source \"s\"]\ntype = googleplay\npackage = com.acme.cloud\n"
             "token_file = %s\nbase_url = @BASE@\n",
             tokfile);
    struct es_source *src = open_conf(conf);
    struct es_polled p;

    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.calls, 2);
    assert_int_equal(p.status, 0);
    assert_null(p.first_error);
    assert_int_equal(p.items.n, 5);
    assert_string_equal(p.cursor, "1715331262");
    assert_string_equal(p.items.items[0]->url,
                        "https://play.google.com/store/apps/details?id=com."
                        "acme.cloud&reviewId=gp%3AAOqpTOGp2bM8yB3mVx1Lr5Zk0kqQ"
                        "4nNwq8XKmUe1yVxHn9Q2rKc3tJ9wP0aH1sT5uV7");
    assert_int_equal(es_testhttpd_hits(srv, PLAY_PATH), 2);
    char *auth = es_testhttpd_header(srv, PLAY_PATH, 0, "Authorization");
    assert_string_equal(auth, "Bearer " TOKEN);
    free(auth);
    auth = es_testhttpd_header(srv, PLAY_PATH, 1, "Authorization");
    assert_string_equal(auth, "Bearer " TOKEN);
    free(auth);
    char *q = es_testhttpd_query(srv, PLAY_PATH, 0);
    assert_string_equal(q, "maxResults=100");
    free(q);
    q = es_testhttpd_query(srv, PLAY_PATH, 1);
    assert_string_equal(q, "maxResults=100&token=CpEBCo4BQUxYd3pYZGhITnB3S3J6"
                           "dFVxeUtGd0ZGb2N0X2R4c2c");
    free(q);
    char *cursor = es_xstrdup(p.cursor);
    es_polled_release(&p);

    /* From the mark: page 1 reaches it; nothing older comes again. */
    es_testhttpd_route(srv, PLAY_PATH, &seq[0]);
    es_testhttpd_clear_log(srv);
    es_polled_run(&p, src, cursor, NULL);
    assert_int_equal(p.calls, 1);
    assert_int_equal(p.items.n, 1);
    assert_string_equal(p.cursor, "1715331262");
    q = es_testhttpd_query(srv, PLAY_PATH, 0);
    assert_string_equal(q, "maxResults=100");
    free(q);
    es_polled_release(&p);

    /* No reviews this week. */
    seq[1] = file_response("googleplay", "reviews-empty.json", &b3);
    es_testhttpd_route(srv, PLAY_PATH, &seq[1]);
    es_polled_run(&p, src, cursor, NULL);
    assert_int_equal(p.status, 0);
    assert_int_equal(p.items.n, 0);
    assert_string_equal(p.cursor, "1715331262");
    es_polled_release(&p);
    free(b2);

    /* A refused token: the platform's reason, never the token. */
    struct es_testhttpd_response r401 =
        file_response("googleplay", "error-401.json", &b2);
    r401.status = 401;
    es_testhttpd_route(srv, PLAY_PATH, &r401);
    es_polled_run(&p, src, cursor, NULL);
    assert_int_equal(p.status, ES_EAUTH);
    assert_non_null(
        strstr(p.first_error, "invalid authentication credentials"));
    assert_null(strstr(p.first_error, "secret-token"));
    assert_null(p.cursor);
    es_polled_release(&p);

    /* 429 with Retry-After, then a spent window after page 1. */
    struct es_testhttpd_response r429 = {
        .status = 429,
        .content_type = "application/json",
        .headers = "Retry-After: 45\r\n",
        .body = "{\"error\":{\"code\":429,\"message\":\"Quota exceeded\","
                "\"status\":\"RESOURCE_EXHAUSTED\"}}",
    };
    es_testhttpd_route(srv, PLAY_PATH, &r429);
    es_polled_run(&p, src, cursor, NULL);
    assert_int_equal(p.status, ES_ERATELIMIT);
    assert_int_equal(p.retry_after, 45);
    assert_non_null(strstr(p.first_error, "Quota exceeded"));
    assert_null(strstr(p.first_error, "secret-token"));
    es_polled_release(&p);

    char hdr[128];
    snprintf(hdr, sizeof(hdr),
             "RateLimit-Remaining: 0\r\nRateLimit-Reset: 60\r\n");
    seq[0].headers = hdr;
    es_testhttpd_route_seq(srv, PLAY_PATH, seq, 1);
    es_testhttpd_clear_log(srv);
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.calls, 1);
    assert_int_equal(p.items.n, 3);
    assert_true(p.retry_after > 0);
    assert_int_equal(es_testhttpd_hits(srv, PLAY_PATH), 1);
    es_polled_release(&p);

    es_source_free(src);
    unlink(tokfile);
    free(cursor);
    free(b1);
    free(b2);
    free(b3);
}

/* ==== jsonl: one line ==== */

static void test_jsonl_line(void **state)
{
    (void)state;
    struct es_item item;
    char err[128];
    es_item_init(&item);

    const char *ok = "{\"id\":\"x1\",\"text\":\"hi \\uD83D\\uDE00\","
                     "\"created_at\":\"2024-05-10T14:03:00Z\","
                     "\"author_followers\":5,\"rating\":4,\"kind\":\"review\","
                     "\"categories\":[\"a\",\"b\"],\"reply_ref\":{\"k\":[1,"
                     "true,null,\"\\u00e9\"]}}\r\n";
    assert_int_equal(
        es_jsonl_parse_line(ok, strlen(ok), &item, err, sizeof(err)), 0);
    assert_string_equal(item.external_id, "x1");
    assert_string_equal(item.platform, "jsonl");
    assert_null(item.source);
    assert_string_equal(item.text, "hi \xf0\x9f\x98\x80");
    assert_int_equal(item.created_at, 1715349780);
    assert_int_equal(item.updated_at, ES_TIME_UNKNOWN);
    assert_int_equal(item.author_followers, 5);
    assert_int_equal(item.rating, 4);
    assert_int_equal(item.kind, ES_KIND_REVIEW);
    assert_int_equal(item.ncategories, 2);
    assert_string_equal(item.reply_ref, "{\"k\":[1,true,null,\"\xc3\xa9\"]}");
    /* Not NUL-terminated: only @len bytes are read. */
    const char *two = "{\"id\":1,\"text\":\"\"}{\"id\":2";
    assert_int_equal(es_jsonl_parse_line(two, 18, &item, err, sizeof(err)), 0);
    assert_string_equal(item.external_id, "1");
    assert_string_equal(item.text, "");
    assert_int_equal(item.author_followers, ES_COUNT_UNKNOWN);
    assert_int_equal(item.kind, ES_KIND_POST);
    assert_int_equal(es_jsonl_parse_line("  \r\n", 4, &item, err, sizeof(err)),
                     ES_ENOTFOUND);
    assert_null(item.external_id);

    static const struct {
        const char *line;
        const char *why;
    } bad[] = {
        { "[1,2]", "expected a JSON object" },
        { "{\"text\":\"t\"}", "missing \"id\"" },
        { "{\"id\":{},\"text\":\"t\"}", "\"id\" must be" },
        { "{\"id\":\"\",\"text\":\"t\"}", "\"id\" must be" },
        { "{\"id\":\"a\"}", "missing \"text\"" },
        { "{\"id\":\"a\",\"text\":5}", "\"text\" must be a string" },
        { "{\"id\":\"a\",\"text\":\"t\",\"created_at\":\"yesterday\"}",
          "\"created_at\" must be" },
        { "{\"id\":\"a\",\"text\":\"t\",\"kind\":\"tweet\"}",
          "unknown \"kind\" 'tweet'" },
        { "{\"id\":\"a\",\"text\":\"t\",\"categories\":\"x\"}",
          "must be an array" },
        { "{\"id\":\"a\",\"text\":\"t\",\"categories\":[1]}",
          "must hold strings" },
        { "{\"id\":\"a\",\"text\":\"t\",\"author_followers\":-1}",
          "must be a count" },
        { "{\"id\":\"a\",\"text\":\"t\",\"rating\":6}", "must be 1 to 5" },
        { "{\"id\":\"a\",\"text\":\"t\",\"reply_ref\":[1]}",
          "\"reply_ref\" must be" },
        { "{\"id\":\"a\",\"text\":\"t\"", "invalid JSON" },
        { "{\"id\":\"a\",\"text\":\"\xff\xfe\"}", "invalid JSON" },
        { "{\"id\":\"a\",\"text\":\"t\"} trailing", "invalid JSON" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        int rc = es_jsonl_parse_line(bad[i].line, strlen(bad[i].line), &item,
                                     err, sizeof(err));
        if (rc != ES_EPARSE || !strstr(err, bad[i].why))
            fail_msg("line %zu: rc %d, '%s' lacks '%s'", i, rc, err,
                     bad[i].why);
        assert_string_equal(err, es_error_last());
        assert_null(item.external_id);
    }
    struct es_buf deep = ES_BUF_INIT;
    es_buf_adds(&deep, "{\"id\":\"a\",\"text\":\"t\",\"x\":");
    for (int i = 0; i < 5000; i++)
        es_buf_addch(&deep, '[');
    assert_int_equal(
        es_jsonl_parse_line(deep.ptr, deep.len, &item, err, sizeof(err)),
        ES_EPARSE);
    assert_non_null(strstr(err, "nested"));
    es_buf_release(&deep);
    es_item_release(&item);
}

static void test_jsonl_parse_any(void **state)
{
    (void)state;
    struct es_caught it;
    assert_int_equal(parse_fixture("jsonl", "mentions.jsonl", &it), ES_EPARSE);
    assert_string_equal(es_error_last(),
                        "jsonl: line 5: \"rating\" must be 1 to 5 "
                        "(and 1 more bad line: 7)");
    assert_int_equal(it.n, 4);
    struct es_item *m = it.items[0];
    assert_string_equal(m->platform, "mastodon");
    assert_string_equal(m->source, "fixture");
    assert_string_equal(m->author_name, "Carol \xf0\x9f\x8c\xbb");
    assert_int_equal(m->author_followers, 1234);
    assert_int_equal(m->created_at, 1715349780);
    assert_non_null(strstr(m->content, "<a href="));
    assert_string_equal(m->lang, "en");
    assert_null(m->title);
    assert_null(m->reply_ref);
    assert_int_equal(m->rating, 0);
    m = it.items[1];
    assert_int_equal(m->kind, ES_KIND_REPLY);
    assert_int_equal(m->author_followers, ES_COUNT_UNKNOWN);
    assert_int_equal(m->created_at, 1715353200);
    assert_string_equal(m->text, "@acme.bsky.social your sync is broken "
                                 "again \xf0\x9f\x98\x80\xf0\x9f\x98\xa1");
    assert_string_equal(m->in_reply_to,
                        "at://did:plc:xyz/app.bsky.feed.post/3kq1a");
    assert_string_equal(m->reply_ref,
                        "{\"uri\":\"at://did:plc:abc123/app.bsky.feed.post/"
                        "3kq2w\",\"cid\":\"bafyreib2\",\"root_uri\":\"at://"
                        "did:plc:xyz/app.bsky.feed.post/3kq1a\",\"root_cid\":"
                        "\"bafyreia1\"}");
    m = it.items[2];
    assert_string_equal(m->external_id, "4242");
    assert_string_equal(m->platform, "jsonl");
    assert_int_equal(m->created_at, 1715353200);
    assert_int_equal(m->kind, ES_KIND_COMMENT);
    m = it.items[3];
    assert_string_equal(m->platform, "appstore");
    assert_int_equal(m->rating, 1);
    assert_string_equal(m->reply_ref, "11012345678");
    assert_string_equal(m->categories[0], "version:7.4.1");
    es_caught_release(&it);

    assert_int_equal(parse_str("jsonl", "", &it), 0);
    assert_int_equal(it.n, 0);
    /* No final newline: the last line still counts here. */
    assert_int_equal(parse_str("jsonl",
                               "\xef\xbb\xbf{\"id\":1,\"text\":\"a\"}\n"
                               "{\"id\":2,\"text\":\"b\"}",
                               &it),
                     0);
    assert_int_equal(it.n, 2);
    es_caught_release(&it);
}

/* ==== jsonl: polling a file, a command, a URL ==== */

static void append(const char *path, const char *s)
{
    FILE *f = fopen(path, "ab");
    assert_non_null(f);
    fputs(s, f);
    fclose(f);
}

#define LINE(id) "{\"id\":\"" id "\",\"text\":\"mention " id "\"}\n"

static void test_jsonl_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/es-reviews-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], moved[256], conf[512];
    snprintf(path, sizeof(path), "%s/mentions.jsonl", dir);
    snprintf(moved, sizeof(moved), "%s/mentions.jsonl.1", dir);
    snprintf(conf, sizeof(conf), "[source \"s\"]\ntype = jsonl\npath = %s\n",
             path);
    struct es_source *src = open_conf(conf);
    struct es_polled p;

    /* Not there yet: an error naming the source and the file. */
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.status, ES_ENOTFOUND);
    assert_non_null(strstr(p.first_error, "source 's'"));
    assert_non_null(strstr(p.first_error, "mentions.jsonl"));
    es_polled_release(&p);

    /* Two lines and half of a third. */
    append(path, LINE("a") LINE("b") "{\"id\":\"c\",\"te");
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.status, 0);
    assert_null(p.first_error);
    assert_int_equal(p.items.n, 2);
    assert_string_equal(p.items.items[0]->external_id, "a");
    assert_string_equal(p.items.items[1]->external_id, "b");
    assert_string_equal(p.items.items[1]->source, "s");
    assert_non_null(p.cursor);
    assert_non_null(strstr(p.cursor, "\"line\":2"));
    char *c1 = es_xstrdup(p.cursor);
    es_polled_release(&p);

    /* Nothing complete since: unchanged, the cursor stays. */
    es_polled_run(&p, src, c1, NULL);
    assert_int_equal(p.status, ES_EUNCHANGED);
    assert_int_equal(p.items.n, 0);
    assert_null(p.cursor);
    es_polled_release(&p);

    /* The rest of line 3, a bad line 4, line 5: only the new lines, the
     * bad one reported with its number in the file. */
    append(path, "xt\":\"mention c\"}\n{\"id\":\"d\"}\n" LINE("e"));
    es_polled_run(&p, src, c1, NULL);
    assert_int_equal(p.status, 0);
    assert_int_equal(p.items.n, 2);
    assert_string_equal(p.items.items[0]->external_id, "c");
    assert_string_equal(p.items.items[0]->text, "mention c");
    assert_string_equal(p.items.items[1]->external_id, "e");
    assert_string_equal(p.first_error, "source 's': line 4: missing \"text\"");
    assert_non_null(strstr(p.cursor, "\"line\":5"));
    char *c2 = es_xstrdup(p.cursor);
    es_polled_release(&p);

    /* A restart from the older cursor reads the same lines again: the
     * cursor, not the process, holds the position. */
    es_polled_run(&p, src, c1, NULL);
    assert_int_equal(p.items.n, 2);
    assert_string_equal(p.cursor, c2);
    es_polled_release(&p);
    es_polled_run(&p, src, c2, NULL);
    assert_int_equal(p.status, ES_EUNCHANGED);
    es_polled_release(&p);

    /* Truncated and rewritten longer than before: starts over. */
    FILE *f = fopen(path, "wb");
    fputs(LINE("x1") LINE("x2") LINE("x3") LINE("x4") LINE("x5") LINE("x6"), f);
    fclose(f);
    es_polled_run(&p, src, c2, NULL);
    assert_int_equal(p.items.n, 6);
    assert_string_equal(p.items.items[0]->external_id, "x1");
    char *c3 = es_xstrdup(p.cursor);
    es_polled_release(&p);

    /* Rotated: a new file under the name starts at line 1. */
    assert_int_equal(rename(path, moved), 0);
    append(path, LINE("r1"));
    es_polled_run(&p, src, c3, NULL);
    assert_int_equal(p.items.n, 1);
    assert_string_equal(p.items.items[0]->external_id, "r1");
    assert_non_null(strstr(p.cursor, "\"line\":1"));
    char *c4 = es_xstrdup(p.cursor);
    es_polled_release(&p);

    /* Only a bad line: an error, no items, the cursor does not move. */
    append(path, "not json\n");
    es_polled_run(&p, src, c4, NULL);
    assert_int_equal(p.status, ES_EPARSE);
    assert_int_equal(p.items.n, 0);
    assert_non_null(strstr(p.first_error, "source 's': line 2: invalid JSON"));
    assert_null(p.cursor);
    es_polled_release(&p);
    /* Once a good line follows, both are behind the cursor. */
    append(path, LINE("r3"));
    es_polled_run(&p, src, c4, NULL);
    assert_int_equal(p.status, 0);
    assert_int_equal(p.items.n, 1);
    assert_string_equal(p.items.items[0]->external_id, "r3");
    assert_non_null(strstr(p.first_error, "line 2: invalid JSON"));
    assert_non_null(strstr(p.cursor, "\"line\":3"));
    char *c5 = es_xstrdup(p.cursor);
    es_polled_release(&p);

    /* Lines over the limit are reported and skipped: one the converter
     * refuses, one longer than a whole read. */
    FILE *big = fopen(path, "ab");
    fputs("{\"id\":\"big\",\"text\":\"", big);
    for (int i = 0; i < 2 * 1024; i++)
        fprintf(big, "%01023d", 0);
    fputs("\"}\n", big);
    for (int i = 0; i < 17 * 1024; i++)
        fprintf(big, "%01023d", 0);
    fputs("\n" LINE("r6"), big);
    fclose(big);
    /* The first read (16 MiB at most) holds only the refused line: its
     * cursor is stored, and the report comes with the next read's items,
     * in this poll or, when the poller stops after one read, the next. */
    es_polled_run(&p, src, c5, NULL);
    assert_int_equal(p.status, 0);
    if (p.items.n == 0) {
        assert_null(p.first_error);
        assert_non_null(strstr(p.cursor, "\"line\":4"));
        char *c6 = es_xstrdup(p.cursor);
        es_polled_release(&p);
        es_polled_run(&p, src, c6, NULL);
        free(c6);
    }
    assert_int_equal(p.status, 0);
    assert_int_equal(p.items.n, 1);
    assert_string_equal(p.items.items[0]->external_id, "r6");
    assert_string_equal(p.first_error,
                        "source 's': line 4: longer than 1048576 "
                        "bytes (and 1 more bad line: 5)");
    assert_non_null(strstr(p.cursor, "\"line\":6"));
    es_polled_release(&p);

    /* A malformed cursor reads from the start. */
    es_polled_run(&p, src, "[\"nonsense\"", NULL);
    assert_true(p.items.n >= 2); /* r6 may come with a second read */
    assert_string_equal(p.items.items[0]->external_id, "r1");
    assert_string_equal(p.items.items[1]->external_id, "r3");
    es_polled_release(&p);

    es_source_free(src);
    unlink(path);
    unlink(moved);
    rmdir(dir);
    free(c1);
    free(c2);
    free(c3);
    free(c4);
    free(c5);
}

static void test_jsonl_command(void **state)
{
    (void)state;
    struct es_source *src =
        open_conf("[source \"s\"]\ntype = jsonl\ncommand = printf "
                  "'{\"id\":\"p1\",\"text\":\"caf\\303\\251\"}\\n"
                  "{\"id\":\"p2\",\"text\":\"two\",\"kind\":\"comment\"}\\n'; "
                  "echo 'a warning on stderr' >&2\n");
    struct es_polled p;
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.calls, 1);
    assert_int_equal(p.status, 0);
    assert_null(p.first_error);
    assert_int_equal(p.items.n, 2);
    assert_string_equal(p.items.items[0]->external_id, "p1");
    assert_string_equal(p.items.items[0]->text, "caf\xc3\xa9");
    assert_int_equal(p.items.items[1]->kind, ES_KIND_COMMENT);
    assert_null(p.cursor);
    es_polled_release(&p);
    es_source_free(src);

    /* A failing command: an error naming the source, nothing kept. */
    src = open_conf("[source \"s\"]\ntype = jsonl\ncommand = printf "
                    "'{\"id\":\"p1\",\"text\":\"t\"}\\n'; exit 3\n");
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.status, ES_ERROR);
    assert_string_equal(p.first_error,
                        "source 's': the command exited with status 3");
    assert_int_equal(p.items.n, 0);
    es_polled_release(&p);
    es_source_free(src);

    src = open_conf("[source \"s\"]\ntype = jsonl\n"
                    "command = /nonexistent/tool --json\n");
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.status, ES_ERROR);
    assert_non_null(strstr(p.first_error, "status 127"));
    es_polled_release(&p);
    es_source_free(src);

    /* A command may not outlive the source's interval. */
    src = open_conf("[source \"s\"]\ntype = jsonl\ninterval = 1\n"
                    "command = sleep 30\n");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    es_polled_run(&p, src, NULL, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(p.status, ES_ERROR);
    assert_non_null(strstr(p.first_error, "timed out after 1 s"));
    assert_true(t1.tv_sec - t0.tv_sec < 5);
    es_polled_release(&p);
    es_source_free(src);

    /* Output over the cap. */
    src = open_conf("[source \"s\"]\ntype = jsonl\n"
                    "command = head -c 20000000 /dev/zero\n");
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.status, ES_ETOOBIG);
    assert_non_null(strstr(p.first_error, "over the"));
    es_polled_release(&p);
    es_source_free(src);
}

static void test_jsonl_url(void **state)
{
    (void)state;
    char *body = fixture("jsonl", "mentions.jsonl", NULL);
    struct es_testhttpd_response r = {
        .content_type = "application/x-ndjson",
        .body = body,
        .etag = "\"m1\"",
    };
    es_testhttpd_route(srv, "/export/mentions.jsonl", &r);
    es_testhttpd_clear_log(srv);
    struct es_source *src =
        open_conf("[source \"s\"]\ntype = jsonl\n"
                  "url = @BASE@/export/mentions.jsonl\ntoken = " TOKEN "\n");
    struct es_polled p;
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.status, 0);
    assert_int_equal(p.items.n, 4);
    assert_string_equal(p.items.items[0]->source, "s");
    assert_string_equal(p.first_error,
                        "source 's': line 5: \"rating\" must be 1 to "
                        "5 (and 1 more bad line: 7)");
    char *auth =
        es_testhttpd_header(srv, "/export/mentions.jsonl", 0, "Authorization");
    assert_string_equal(auth, "Bearer " TOKEN);
    free(auth);
    es_polled_release(&p);

    es_polled_run(&p, src, NULL, "\"m1\"");
    assert_int_equal(p.status, ES_EUNCHANGED);
    assert_int_equal(p.items.n, 0);
    es_polled_release(&p);

    struct es_testhttpd_response gone = { .status = 404 };
    es_testhttpd_route(srv, "/export/mentions.jsonl", &gone);
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.status, ES_ENETWORK);
    assert_null(strstr(p.first_error, "secret-token"));
    es_polled_release(&p);
    es_source_free(src);
    free(body);

    open_fails("[source \"s\"]\ntype = jsonl\n", "needs one of path, command");
    open_fails("[source \"s\"]\ntype = jsonl\npath = /tmp/x\ncommand = true\n",
               "needs only one of");
}

/* Whether two items hold the same mention (source and fetch time
 * aside). */
static void assert_same_item(const struct es_item *a, const struct es_item *b)
{
#define SAME_STR(f)                                                            \
    do {                                                                       \
        if (a->f || b->f) {                                                    \
            assert_non_null(a->f);                                             \
            assert_non_null(b->f);                                             \
            assert_string_equal(a->f, b->f);                                   \
        }                                                                      \
    } while (0)
    SAME_STR(external_id);
    SAME_STR(platform);
    SAME_STR(url);
    SAME_STR(title);
    SAME_STR(author);
    SAME_STR(author_name);
    SAME_STR(text);
    SAME_STR(summary);
    SAME_STR(content);
    SAME_STR(in_reply_to);
    SAME_STR(thread_root);
    SAME_STR(lang);
    SAME_STR(reply_ref);
#undef SAME_STR
    assert_int_equal(a->author_followers, b->author_followers);
    assert_int_equal(a->created_at, b->created_at);
    assert_int_equal(a->updated_at, b->updated_at);
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->rating, b->rating);
    assert_int_equal(a->ncategories, b->ncategories);
    for (size_t i = 0; i < a->ncategories; i++)
        assert_string_equal(a->categories[i], b->categories[i]);
}

/* What `earshot parse KIND` prints, read back by the jsonl kind (through
 * its command mode), is the mention the kind parsed in the first place. */
static void test_jsonl_roundtrip(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        { "appstore", "reviews-page1.json" },
        { "appstore", "reviews-page1.xml" },
        { "appstore", "reviews-single.json" },
        { "googleplay", "reviews-page1.json" },
        { "googleplay", "reviews-page2.json" },
        { "jsonl", "mentions.jsonl" },
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(*cases); c++) {
        struct es_caught direct;
        int rc = parse_fixture(cases[c][0], cases[c][1], &direct);
        assert_true(rc == 0 || rc == ES_EPARSE);
        char conf[1024];
        snprintf(conf, sizeof(conf),
                 "[source \"s\"]\ntype = jsonl\ncommand = '%s' parse %s "
                 "'%s/%s/%s' 2>/dev/null\n",
                 ES_EARSHOT_BIN, cases[c][0], ES_FIXTURES, cases[c][0],
                 cases[c][1]);
        struct es_source *src = open_conf(conf);
        struct es_polled p;
        es_polled_run(&p, src, NULL, NULL);
        if (p.status != 0)
            fail_msg("%s: %s", cases[c][1], p.first_error);
        assert_null(p.first_error);
        assert_int_equal(p.items.n, direct.n);
        assert_true(direct.n > 0);
        for (size_t i = 0; i < direct.n; i++)
            assert_same_item(direct.items[i], p.items.items[i]);
        es_polled_release(&p);
        es_caught_release(&direct);
        es_source_free(src);
    }
}

/* ==== Main ==== */

static int setup(void **state)
{
    (void)state;
    return es_testhttpd_open(&srv, 0);
}

static int teardown(void **state)
{
    (void)state;
    es_testhttpd_free(srv);
    srv = NULL;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appstore_json),
        cmocka_unit_test(test_appstore_xml),
        cmocka_unit_test(test_appstore_bad_input),
        cmocka_unit_test(test_appstore_open),
        cmocka_unit_test(test_appstore_poll),
        cmocka_unit_test(test_appstore_poll_xml_and_limits),
        cmocka_unit_test(test_googleplay_parse),
        cmocka_unit_test(test_googleplay_open),
        cmocka_unit_test(test_googleplay_poll),
        cmocka_unit_test(test_jsonl_line),
        cmocka_unit_test(test_jsonl_parse_any),
        cmocka_unit_test(test_jsonl_file),
        cmocka_unit_test(test_jsonl_command),
        cmocka_unit_test(test_jsonl_url),
        cmocka_unit_test(test_jsonl_roundtrip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
