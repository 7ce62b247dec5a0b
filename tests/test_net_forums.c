/* test_net_forums.c - the "reddit", "hackernews" and "github" source kinds
 *
 * The first part runs each kind's parse_any on the fixtures in
 * tests/fixtures/{reddit,hackernews,github}/, written from the platforms'
 * API documentation: Reddit Listings, comment pages with nested replies
 * and "more" stubs, inbox messages, [deleted]/[removed] things; Algolia's
 * search_by_date results and item trees with HTML entities; GitHub issue
 * search results, issues and comment arrays. Unicode, emoji, surrogate
 * pair escapes and nulls throughout; wrong shapes, wrong types, deep
 * nesting and truncated bodies must fail cleanly.
 *
 * The second part runs the kinds through the poller against the loopback
 * server: paths and query parameters, the User-Agent Reddit wants, tokens,
 * Reddit's password grant, cursors across two polls (no gap, no
 * duplicate), thread context, rate-limit headers that stop paging, 429
 * with Retry-After, and that no token ever reaches a message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* cmocka.h needs setjmp.h, stdarg.h and stddef.h first. */
#include <cmocka.h>

#include "earshot/alloc.h"
#include "earshot/buf.h"
#include "earshot/config.h"
#include "earshot/error.h"
#include "earshot/source.h"
#include "pollrun.h"
#include "testhttpd.h"

#define TOKEN    "tok-SECRET-4f9a2b"
#define PASSWORD "p@ss word-SECRET"

static struct es_testhttpd *srv;

/* ==== Helpers ==== */

static char *fixture(const char *name)
{
    return es_pollrun_fixture(NULL, "%s", name);
}

/* Returns a copy of @s with the first @from replaced by @to. */
static char *replace(const char *s, const char *from, const char *to)
{
    const char *p = strstr(s, from);
    if (!p)
        fail_msg("'%s' not in the text", from);
    return es_xasprintf("%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
}

static int stop_item(const struct es_item *item, void *payload)
{
    (void)item;
    (void)payload;
    return 9;
}

static const struct es_source_ops *ops(const char *kind)
{
    const struct es_source_ops *o = es_source_find(kind);
    assert_non_null(o);
    assert_non_null(o->parse_any);
    return o;
}

static int parse_text(const char *kind, const char *text, struct es_caught *c)
{
    struct es_parse_opts opts = { .source = "fx" };
    memset(c, 0, sizeof(*c));
    return ops(kind)->parse_any(text, strlen(text), &opts, es_caught_add, c);
}

static int parse_fixture(const char *kind, const char *name,
                         struct es_caught *c)
{
    char *buf = fixture(name);
    int rc = parse_text(kind, buf, c);
    free(buf);
    return rc;
}

static const struct es_item *find(const struct es_caught *c, const char *id)
{
    const struct es_item *it = es_caught_find(c, id);
    if (!it)
        fail_msg("no item '%s'", id);
    return it;
}

static int has(const struct es_caught *c, const char *id)
{
    return es_caught_find(c, id) != NULL;
}

static int64_t iso(const char *s)
{
    int64_t t;
    assert_int_equal(es_time_parse(s, &t), 0);
    return t;
}

static void assert_shape_error(const char *kind, const char *text,
                               const char *path)
{
    struct es_caught c;
    assert_int_equal(parse_text(kind, text, &c), ES_EPARSE);
    const char *msg = es_error_last();
    if (!strstr(msg, kind) || !strstr(msg, path))
        fail_msg("'%s' gave '%s', expected '%s' and '%s'", text, msg, kind,
                 path);
    es_caught_release(&c);
}

/* Every prefix of @name parses to an error or items, never a crash; a
 * deeply nested body is refused. */
static void assert_robust(const char *kind, const char *name)
{
    struct es_parse_opts opts = { .source = "fx" };
    char *buf = fixture(name);
    size_t len = strlen(buf);
    for (size_t cut = 0; cut < len; cut += 7) {
        struct es_caught c = { 0 };
        char *part = es_xstrndup(buf, cut);
        int rc = ops(kind)->parse_any(part, cut, &opts, es_caught_add, &c);
        assert_true(rc == 0 || rc == ES_EPARSE);
        es_caught_release(&c);
        free(part);
    }
    /* A non-zero emit return stops the parse and comes back. */
    assert_int_equal(ops(kind)->parse_any(buf, len, &opts, stop_item, NULL), 9);
    free(buf);
}

static void assert_too_deep(const char *kind, const char *open,
                            const char *close)
{
    struct es_buf b = ES_BUF_INIT;
    struct es_caught c;
    for (int i = 0; i < 300; i++)
        es_buf_adds(&b, open);
    es_buf_adds(&b, "1");
    for (int i = 0; i < 300; i++)
        es_buf_adds(&b, close);
    assert_int_equal(parse_text(kind, b.ptr, &c), ES_EPARSE);
    assert_non_null(strstr(es_error_last(), kind));
    es_caught_release(&c);
    es_buf_release(&b);
}

/* ==== Reddit: parse_any ==== */

static void test_reddit_search(void **state)
{
    (void)state;
    struct es_caught c;
    assert_int_equal(parse_fixture("reddit", "reddit/search.json", &c), 0);
    /* [removed] and [deleted] posts are skipped. */
    assert_int_equal(c.n, 2);
    assert_false(has(&c, "t3_1chdz9x"));
    assert_false(has(&c, "t3_1chd0aa"));

    const struct es_item *a = c.items[0];
    assert_string_equal(a->external_id, "t3_1cheb0a");
    assert_string_equal(a->platform, "reddit");
    assert_string_equal(a->source, "fx");
    assert_int_equal(a->kind, ES_KIND_POST);
    assert_string_equal(a->author, "tired_admin_42");
    assert_string_equal(a->title,
                        "Acme Cloud outage again? \xF0\x9F\x98\x80 caf\xC3\xA9 "
                        "edition");
    /* The text is what a reader sees: from selftext_html (raw_json: real
     * HTML), white space collapsed, not the Markdown. */
    assert_string_equal(a->text,
                        "Is anyone else seeing Acme Cloud timeouts since "
                        "09:00 UTC? Our status page says \xE2\x80\x9C"
                        "all good\xE2\x80\x9D \xF0\x9F\x98\xA1 Q&A: yes, "
                        "we checked <our> side first.");
    assert_non_null(strstr(a->content, "<div class=\"md\"><p>Is anyone"));
    assert_string_equal(a->url, "https://www.reddit.com/r/sysadmin/comments/"
                                "1cheb0a/acme_cloud_outage_again_caf\xC3\xA9"
                                "_edition/");
    assert_int_equal(a->created_at, 1714564800);
    assert_int_equal(a->ncategories, 1);
    assert_string_equal(a->categories[0], "sysadmin");
    assert_null(a->in_reply_to);
    assert_null(a->thread_root);
    assert_int_equal(a->author_followers, ES_COUNT_UNKNOWN);

    /* A link post: the permalink, not the link; no text. */
    const struct es_item *b = find(&c, "t3_1chdq3k");
    assert_null(b->text);
    assert_null(b->content);
    assert_int_equal(b->updated_at, 1714565100);
    assert_int_equal(a->updated_at, ES_TIME_UNKNOWN); /* "edited": false */
    assert_string_equal(b->title,
                        "Acme open-sources its edge proxy \xE2\x80\x94"
                        " written in Rust \xF0\x9F\xA6\x80");
    assert_string_equal(b->url, "https://www.reddit.com/r/programming/"
                                "comments/1chdq3k/acme_opensources_its_edge_"
                                "proxy_written_in_rust/");
    es_caught_release(&c);

    assert_int_equal(parse_fixture("reddit", "reddit/empty.json", &c), 0);
    assert_int_equal(c.n, 0);
    es_caught_release(&c);
}

/* Reddit's text is Markdown; what a reader sees is its HTML rendering. */
static void test_reddit_markdown(void **state)
{
    (void)state;
    struct es_caught c;
    const char doc[] =
        "{\"kind\":\"Listing\",\"data\":{\"children\":["
        "{\"kind\":\"t1\",\"data\":{\"name\":\"t1_a1\",\"author\":\"x\","
        "\"created_utc\":1714564800,\"parent_id\":\"t3_p1\","
        "\"link_id\":\"t3_p1\",\"permalink\":\"/r/acme/comments/p1/t/a1/\","
        "\"body\":\"**So sorry**, see [the docs](https://d.example/x)\\n\\n"
        "&#x200B;\\n\\n> quoted\","
        "\"body_html\":\"<div class=\\\"md\\\"><p><strong>So sorry</strong>, "
        "see <a href=\\\"https://d.example/x\\\">the docs</a></p>\\n\\n"
        "<p>&#x200B;</p>\\n\\n<blockquote>\\n<p>quoted</p>\\n</blockquote>"
        "\\n</div>\"}},"
        "{\"kind\":\"t1\",\"data\":{\"name\":\"t1_a2\",\"author\":\"y\","
        "\"created_utc\":1714564801,\"parent_id\":\"t3_p1\","
        "\"link_id\":\"t3_p1\",\"permalink\":\"/r/acme/comments/p1/t/a2/\","
        "\"body\":\"no  html\\n\\nhere <b>\"}}]}}";
    assert_int_equal(parse_text("reddit", doc, &c), 0);
    assert_int_equal(c.n, 2);
    const struct es_item *a = find(&c, "t1_a1");
    assert_string_equal(a->text, "So sorry, see the docs quoted");
    assert_non_null(strstr(a->content, "<strong>So sorry</strong>"));
    /* Only the new editor's empty paragraphs: no text at all. */
    es_caught_release(&c);
    const char empty[] =
        "{\"kind\":\"t1\",\"data\":{\"name\":\"t1_a3\",\"author\":\"z\","
        "\"created_utc\":1714564802,\"parent_id\":\"t3_p1\",\"link_id\":"
        "\"t3_p1\",\"body\":\"&#x200B;\",\"body_html\":\"<div "
        "class=\\\"md\\\"><p>&#x200B;</p></div>\"}}";
    assert_int_equal(parse_text("reddit", empty, &c), 0);
    assert_int_equal(c.n, 1);
    assert_null(c.items[0]->text);
    es_caught_release(&c);
    assert_int_equal(parse_text("reddit", doc, &c), 0);
    /* Without HTML, the Markdown as typed, white space collapsed. */
    const struct es_item *b = find(&c, "t1_a2");
    assert_string_equal(b->text, "no html here <b>");
    assert_null(b->content);
    es_caught_release(&c);
    /* Without raw_json=1, Reddit's default, the HTML comes escaped once
     * more: it is unescaped, then read as HTML. */
    const char escaped[] =
        "{\"kind\":\"t1\",\"data\":{\"name\":\"t1_a4\",\"author\":\"z\","
        "\"created_utc\":1714564803,\"parent_id\":\"t3_p1\",\"link_id\":"
        "\"t3_p1\",\"body\":\"Q&amp;A: **yes**\",\"body_html\":\"&lt;div "
        "class=\\\"md\\\"&gt;&lt;p&gt;Q&amp;amp;A: &lt;strong&gt;yes&lt;/strong&gt;"
        "&lt;/p&gt;\\n&lt;/div&gt;\"}}";
    assert_int_equal(parse_text("reddit", escaped, &c), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0]->text, "Q&A: yes");
    assert_non_null(strstr(c.items[0]->content, "<strong>yes</strong>"));
    es_caught_release(&c);
    /* A comment of before 2017 has no permalink: its ids make one. */
    const char old[] =
        "{\"kind\":\"t1\",\"data\":{\"id\":\"d81vwef\",\"author\":\"z\","
        "\"subreddit\":\"acme\",\"created_utc\":1474848000,\"parent_id\":"
        "\"t3_54hhwl\",\"link_id\":\"t3_54hhwl\",\"body\":\"hi\"}}";
    assert_int_equal(parse_text("reddit", old, &c), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(
        c.items[0]->url,
        "https://www.reddit.com/r/acme/comments/54hhwl/_/d81vwef/");
    es_caught_release(&c);
}

static void test_reddit_comments(void **state)
{
    (void)state;
    struct es_caught c;
    /* /r/SUB/comments: a flat Listing of t1. */
    assert_int_equal(
        parse_fixture("reddit", "reddit/comments_listing.json", &c), 0);
    assert_int_equal(c.n, 2);
    const struct es_item *a = find(&c, "t1_l2a9x01");
    assert_int_equal(a->kind, ES_KIND_COMMENT);
    assert_string_equal(a->author, "deploy_dan");
    assert_string_equal(a->text, "The Acme CLI 2.3 broke my deploys "
                                 "\xF0\x9F\x98\xA4 acme push now hangs "
                                 "forever");
    assert_string_equal(a->in_reply_to, "t3_1cgz111");
    assert_string_equal(a->thread_root, "t3_1cgz111");
    assert_null(a->title);
    assert_string_equal(a->url, "https://www.reddit.com/r/acme/comments/"
                                "1cgz111/cli_23_release_notes/l2a9x01/");
    assert_int_equal(a->created_at, 1714565400);
    const struct es_item *b = find(&c, "t1_l2a6d33");
    assert_string_equal(b->in_reply_to, "t1_l2a5000");
    assert_string_equal(b->thread_root, "t3_1cgy999");
    assert_non_null(strstr(b->text, "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E"));
    es_caught_release(&c);

    /* /comments/ID: [post Listing, comments Listing] with nested replies. */
    assert_int_equal(parse_fixture("reddit", "reddit/comments_page.json", &c),
                     0);
    assert_int_equal(c.n, 5);
    assert_string_equal(c.items[0]->external_id, "t3_1cgz111");
    assert_int_equal(c.items[0]->kind, ES_KIND_POST);
    assert_string_equal(c.items[0]->title, "CLI 2.3 release notes");
    assert_string_equal(c.items[1]->external_id, "t1_l2a7000");
    /* A live reply under a removed comment is kept; the removed one and
     * the "more" stubs are not items. */
    const struct es_item *r = find(&c, "t1_l2a8d01");
    assert_string_equal(r->in_reply_to, "t1_l2a8c77");
    assert_string_equal(r->thread_root, "t3_1cgz111");
    assert_string_equal(r->author, "acme_support");
    assert_false(has(&c, "t1_l2a8c77"));
    assert_false(has(&c, "t1_l2a7555"));
    assert_false(has(&c, "t1__"));
    assert_true(has(&c, "t1_l2a7100"));
    assert_true(has(&c, "t1_l2a9x01"));
    es_caught_release(&c);
}

static void test_reddit_inbox(void **state)
{
    (void)state;
    struct es_caught c;
    assert_int_equal(parse_fixture("reddit", "reddit/mentions.json", &c), 0);
    assert_int_equal(c.n, 2);
    const struct es_item *m = find(&c, "t1_l2a5e21");
    assert_int_equal(m->kind, ES_KIND_COMMENT);
    assert_string_equal(m->author, "curious_carla");
    /* An inbox item has its context path instead of a permalink. */
    assert_string_equal(m->url, "https://www.reddit.com/r/acme/comments/"
                                "1cgx555/billing_question/l2a5e21/");
    assert_string_equal(m->thread_root, "t3_1cgx555");
    assert_string_equal(m->in_reply_to, "t3_1cgx555");
    assert_non_null(strstr(m->text, "Charged twice \xF0\x9F\x92\xB8"));
    assert_string_equal(find(&c, "t1_l29zz10")->in_reply_to, "t1_l29zy00");
    assert_string_equal(find(&c, "t1_l29zz10")->thread_root, "t3_1cgw777");
    es_caught_release(&c);

    /* The inbox mixes private messages (t4) and comment messages (t1). */
    assert_int_equal(parse_fixture("reddit", "reddit/inbox.json", &c), 0);
    assert_int_equal(c.n, 2);
    const struct es_item *pm = find(&c, "t4_2a9ql7");
    assert_int_equal(pm->kind, ES_KIND_POST);
    assert_string_equal(pm->title, "Refund for order #8812");
    assert_string_equal(pm->author, "quiet_quinn");
    assert_string_equal(pm->url,
                        "https://www.reddit.com/message/messages/2a9ql7");
    assert_null(pm->in_reply_to);
    assert_int_equal(pm->ncategories, 0);
    assert_string_equal(find(&c, "t1_l2a7300")->thread_root, "t3_1cgz111");
    assert_false(has(&c, "t4_2a9qk1")); /* [deleted] */
    es_caught_release(&c);
}

static void test_reddit_bad_input(void **state)
{
    (void)state;
    struct es_caught c;
    assert_shape_error("reddit", "{\"foo\": 1}", "$");
    assert_shape_error("reddit", "[]", "$");
    assert_shape_error("reddit", "\"Listing\"", "$");
    assert_shape_error("reddit",
                       "{\"kind\": \"Listing\", \"data\": {\"children\": {}}}",
                       "$.data.children");
    assert_shape_error("reddit",
                       "[{\"kind\": \"Listing\", \"data\": {\"children\": "
                       "[]}}, 3]",
                       "$[1]");
    assert_shape_error("reddit",
                       "[{\"kind\": \"Listing\", \"data\": {\"children\": "
                       "[]}}, {\"kind\": \"Listing\", \"data\": {}}]",
                       "$[1].data.children");
    assert_shape_error("reddit", "{\"kind\": \"Listing\", \"data\": {\"ch",
                       "reddit");
    assert_shape_error("reddit", "", "reddit");

    /* Wrong types: skipped or left empty, never followed. */
    assert_int_equal(
        parse_text("reddit",
                   "{\"kind\": \"Listing\", \"data\": {\"children\": ["
                   "5, null, \"t3\", {\"kind\": 7}, {\"kind\": \"t3\"},"
                   "{\"kind\": \"t3\", \"data\": {\"name\": {}, \"id\": []}},"
                   "{\"kind\": \"t1\", \"data\": {\"name\": \"t1_a\", "
                   "\"body\": 5}},"
                   "{\"kind\": \"t1\", \"data\": {\"name\": \"t1_b\", "
                   "\"body\": \"ok\", \"created_utc\": \"soon\", "
                   "\"author\": [], \"permalink\": 3, \"replies\": 7, "
                   "\"subreddit\": {}}},"
                   "{\"kind\": \"t3\", \"data\": {\"id\": \"xyz\", "
                   "\"title\": \"t\", \"created_utc\": -5}}]}}",
                   &c),
        0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.items[0]->external_id, "t1_b");
    assert_int_equal(c.items[0]->created_at, ES_TIME_UNKNOWN);
    assert_null(c.items[0]->author);
    assert_null(c.items[0]->url);
    assert_int_equal(c.items[0]->ncategories, 0);
    /* No name: the fullname is made from kind and id. */
    assert_string_equal(c.items[1]->external_id, "t3_xyz");
    assert_int_equal(c.items[1]->created_at, ES_TIME_UNKNOWN);
    es_caught_release(&c);

    assert_too_deep("reddit", "[", "]");
    assert_too_deep("reddit", "{\"a\":", "}");
    assert_robust("reddit", "reddit/comments_page.json");
    assert_robust("reddit", "reddit/search.json");
    assert_robust("reddit", "reddit/inbox.json");
}

/* ==== Hacker News: parse_any ==== */

static void test_hn_search(void **state)
{
    (void)state;
    struct es_caught c;
    assert_int_equal(
        parse_fixture("hackernews", "hackernews/search_by_date.json", &c), 0);
    assert_int_equal(c.n, 3);

    const struct es_item *cm = c.items[0];
    assert_string_equal(cm->platform, "hackernews");
    assert_string_equal(cm->external_id, "40224213");
    assert_int_equal(cm->kind, ES_KIND_COMMENT);
    assert_string_equal(cm->url, "https://news.ycombinator.com/item?id="
                                 "40224213");
    assert_string_equal(cm->author, "jdoe");
    assert_null(cm->title);
    /* HTML to text: entities decoded, <p> a space, link text kept. */
    assert_string_equal(cm->text,
                        "We moved off Acme last year & never looked back. "
                        "Their support \"SLA\" is a joke / don't trust it "
                        "\xF0\x9F\x98\x80 See "
                        "https://example.com/acme-postmortem");
    assert_non_null(strstr(cm->content, "&quot;SLA&quot;"));
    assert_int_equal(cm->created_at, 1714568000);
    assert_string_equal(cm->in_reply_to, "40223900");
    assert_string_equal(cm->thread_root, "40220001");

    const struct es_item *st = find(&c, "40220001");
    assert_int_equal(st->kind, ES_KIND_POST);
    assert_string_equal(st->title, "Acme Cloud is down");
    assert_null(st->text); /* a link story: its address is its content,
                            * for a query on the brand's domain */
    assert_string_equal(st->content,
                        "<a href=\"https://status.acme.example/incidents/123\">"
                        "https://status.acme.example/incidents/123</a>");
    assert_null(st->in_reply_to);
    assert_null(st->thread_root);
    assert_int_equal(st->created_at, iso("2024-05-01T12:20:00Z"));

    const struct es_item *ask = find(&c, "40219000");
    assert_string_equal(ask->text,
                        "We're evaluating Acme for our caf\xC3\xA9 chain"
                        "\xE2\x80\x99s POS backend. Any war stories? "
                        "Latency, billing surprises, anything.");
    es_caught_release(&c);

    assert_int_equal(
        parse_fixture("hackernews", "hackernews/search_empty.json", &c), 0);
    assert_int_equal(c.n, 0);
    es_caught_release(&c);
}

static void test_hn_item_tree(void **state)
{
    (void)state;
    struct es_caught c;
    assert_int_equal(
        parse_fixture("hackernews", "hackernews/item_tree.json", &c), 0);
    /* The deleted comment (no author, no text) is skipped; its reply is
     * kept. */
    assert_int_equal(c.n, 5);
    assert_string_equal(c.items[0]->external_id, "40220001");
    assert_int_equal(c.items[0]->kind, ES_KIND_POST);
    assert_false(has(&c, "40224300"));
    const struct es_item *k = find(&c, "40224400");
    assert_string_equal(k->in_reply_to, "40224300");
    assert_string_equal(k->thread_root, "40220001");
    assert_string_equal(k->text, "Replying to a deleted comment: acme's "
                                 "eu-west region is fine now.");
    assert_int_equal(k->created_at, 1714568700);
    const struct es_item *e = find(&c, "40221111");
    assert_string_equal(e->text, "Status page still green \xF0\x9F\x98\x82 > "
                                 "\"All systems operational\"");
    assert_string_equal(find(&c, "40223900")->text,
                        "Their API gateway is returning 502s for us in "
                        "eu-west. Status page: \"All systems operational\"");
    es_caught_release(&c);

    /* The tree as the API's documentation shows it: no "type", no
     * "story_id"; a node with a parent is a comment, in the root's
     * thread. */
    assert_int_equal(
        parse_text(
            "hackernews",
            "{\"id\": 1, \"created_at\": \"2006-10-09T18:21:51.000Z\", "
            "\"author\": \"pg\", \"title\": \"Y Combinator\", \"url\": "
            "\"http://ycombinator.com\", \"text\": null, \"points\": 57, "
            "\"parent_id\": null, \"children\": [{\"id\": 15, "
            "\"created_at\": \"2006-10-09T19:51:01.000Z\", \"author\": "
            "\"sama\", \"text\": \"Acme is down again\", \"points\": "
            "null, \"parent_id\": 1, \"children\": [{\"id\": 17, "
            "\"created_at\": \"2006-10-09T19:52:45.000Z\", \"author\": "
            "\"pg\", \"text\": \"Is it?\", \"parent_id\": 15, "
            "\"children\": []}]}]}",
            &c),
        0);
    assert_int_equal(c.n, 3);
    assert_int_equal(find(&c, "1")->kind, ES_KIND_POST);
    k = find(&c, "17");
    assert_int_equal(k->kind, ES_KIND_COMMENT);
    assert_string_equal(k->in_reply_to, "15");
    assert_string_equal(k->thread_root, "1");
    assert_string_equal(find(&c, "15")->in_reply_to, "1");
    es_caught_release(&c);
}

/* The official Firebase API's items (/v0/item/ID.json, its documented
 * shape): "by", "time" and "parent" where Algolia says "author",
 * "created_at_i" and "parent_id"; "kids" are ids, not nested items. */
static void test_hn_firebase_items(void **state)
{
    (void)state;
    struct es_caught c;
    assert_int_equal(
        parse_text("hackernews",
                   "{\"by\": \"ann\", \"id\": 40224500, \"kids\": [40224600], "
                   "\"parent\": 40220001, \"text\": \"Acme&#x27;s status page "
                   "is <i>still</i> green\", \"time\": 1714568700, "
                   "\"type\": \"comment\"}",
                   &c),
        0);
    assert_int_equal(c.n, 1);
    const struct es_item *k = c.items[0];
    assert_string_equal(k->external_id, "40224500");
    assert_int_equal(k->kind, ES_KIND_COMMENT);
    assert_string_equal(k->author, "ann");
    assert_int_equal(k->created_at, 1714568700);
    assert_string_equal(k->in_reply_to, "40220001");
    assert_string_equal(k->text, "Acme's status page is still green");
    es_caught_release(&c);

    assert_int_equal(
        parse_text("hackernews",
                   "{\"by\": \"bob\", \"descendants\": 3, \"id\": 40220001, "
                   "\"kids\": [40224500], \"score\": 12, \"time\": 1714560000, "
                   "\"title\": \"Acme Cloud is down\", \"type\": \"story\", "
                   "\"url\": \"https://status.acme.example/\"}",
                   &c),
        0);
    assert_int_equal(c.n, 1);
    k = c.items[0];
    assert_int_equal(k->kind, ES_KIND_POST);
    assert_string_equal(k->author, "bob");
    assert_string_equal(k->title, "Acme Cloud is down");
    assert_int_equal(k->created_at, 1714560000);
    assert_non_null(strstr(k->content, "https://status.acme.example/"));
    es_caught_release(&c);
}

static void test_hn_bad_input(void **state)
{
    (void)state;
    struct es_caught c;
    assert_shape_error("hackernews", "{\"hits\": {}}", "$.hits");
    assert_shape_error("hackernews", "[1, 2]", "$");
    assert_shape_error("hackernews", "{\"nbHits\": 0}", "$");
    assert_shape_error("hackernews", "{\"id\": 1, \"children\": {}}",
                       "$.children");
    assert_shape_error("hackernews", "{\"hits\": [", "hackernews");

    assert_int_equal(
        parse_text("hackernews",
                   "{\"hits\": [1, null, {\"objectID\": {}}, "
                   "{\"objectID\": \"7\", \"author\": [], \"comment_text\": "
                   "5, \"_tags\": \"comment\", \"created_at_i\": \"x\", "
                   "\"parent_id\": {}},"
                   "{\"objectID\": 8, \"author\": \"a\", \"_tags\": "
                   "[\"comment\", 3], \"comment_text\": \"<b>hi\", "
                   "\"created_at\": \"2024-05-01T00:00:00Z\"}]}",
                   &c),
        0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0]->external_id, "8");
    assert_int_equal(c.items[0]->kind, ES_KIND_COMMENT);
    assert_string_equal(c.items[0]->text, "hi");
    assert_int_equal(c.items[0]->created_at, iso("2024-05-01T00:00:00Z"));
    es_caught_release(&c);

    assert_too_deep("hackernews", "{\"id\":1,\"type\":\"x\",\"children\":[",
                    "]}");
    assert_robust("hackernews", "hackernews/search_by_date.json");
    assert_robust("hackernews", "hackernews/item_tree.json");
}

/* ==== GitHub: parse_any ==== */

static void test_github_search(void **state)
{
    (void)state;
    struct es_caught c;
    assert_int_equal(parse_fixture("github", "github/search_issues.json", &c),
                     0);
    assert_int_equal(c.n, 3);
    const struct es_item *a = c.items[0];
    assert_string_equal(a->platform, "github");
    assert_string_equal(a->external_id, "2273000042");
    assert_int_equal(a->kind, ES_KIND_POST);
    assert_string_equal(a->url, "https://github.com/acme-corp/widgets/issues/"
                                "42");
    assert_string_equal(a->title, "acme push hangs on 2.3 \xE2\x80\x94 "
                                  "regression?");
    assert_string_equal(a->author, "deploy-dan");
    /* No body_html in this answer: the Markdown, white space collapsed,
     * is the text, and the content as written. */
    assert_non_null(strstr(a->text, "Since upgrading to **acme 2.3**, `acme "
                                    "push` hangs forever."));
    assert_non_null(strstr(a->content, "Since upgrading to **acme 2.3**"));
    assert_non_null(strstr(a->text, "Caf\xC3\xA9 \xE2\x98\x95 Unicode check: "
                                    "\xF0\x9F\x98\x80"));
    assert_int_equal(a->created_at, iso("2024-05-01T12:00:00Z"));
    assert_int_equal(a->updated_at, iso("2024-05-01T12:31:10Z"));
    assert_int_equal(a->ncategories, 1);
    assert_string_equal(a->categories[0], "acme-corp/widgets");
    assert_string_equal(a->reply_ref,
                        "{\"repo\":\"acme-corp/widgets\",\"number\":42}");
    assert_null(a->in_reply_to);

    const struct es_item *pr = find(&c, "2273000107");
    assert_int_equal(pr->kind, ES_KIND_POST);
    assert_null(pr->text); /* "body": null */
    assert_string_equal(pr->url, "https://github.com/octo-org/octo-app/pull/"
                                 "7");
    assert_string_equal(pr->reply_ref,
                        "{\"repo\":\"octo-org/octo-app\",\"number\":7}");
    assert_non_null(
        strstr(find(&c, "2273000009")->text, "validator \xF0\x9F\xA4\x94 "));
    es_caught_release(&c);

    assert_int_equal(parse_fixture("github", "github/search_empty.json", &c),
                     0);
    assert_int_equal(c.n, 0);
    es_caught_release(&c);
}

/* An issue's text is what a reader sees: not its template's hidden
 * instructions, not its Markdown. */
static void test_github_text(void **state)
{
    (void)state;
    struct es_caught c;
    const char doc[] =
        "{\"total_count\":2,\"items\":["
        "{\"id\":1,\"number\":5,\"title\":\"Crash\",\"html_url\":"
        "\"https://github.com/a/b/issues/5\",\"repository_url\":"
        "\"https://api.github.com/repos/a/b\",\"user\":{\"login\":\"u\"},"
        "\"body\":\"<!-- Describe the bug. -->\\r\\n**It crashes** on "
        "start\\r\\n<!-- Steps? -->\","
        "\"body_html\":\"<p dir=\\\"auto\\\"><strong>It crashes</strong> "
        "on start</p>\"},"
        "{\"id\":2,\"number\":6,\"title\":\"Slow\",\"html_url\":"
        "\"https://github.com/a/b/issues/6\",\"repository_url\":"
        "\"https://api.github.com/repos/a/b\",\"user\":{\"login\":\"v\"},"
        "\"body\":\"<!-- Describe the bug.\\r\\nA clear description. -->"
        "\\r\\nIt is   slow\\r\\n\\r\\n<!-- unclosed\"}]}";
    assert_int_equal(parse_text("github", doc, &c), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(find(&c, "1")->text, "It crashes on start");
    assert_non_null(strstr(find(&c, "1")->content, "<!-- Describe"));
    /* Without HTML: the Markdown less its comments. */
    assert_string_equal(find(&c, "2")->text, "It is slow");
    es_caught_release(&c);
    /* "<!--" inside `code` is text, not a comment. */
    const char code[] =
        "{\"id\":3,\"number\":7,\"title\":\"Parser\",\"html_url\":"
        "\"https://github.com/a/b/issues/7\",\"repository_url\":"
        "\"https://api.github.com/repos/a/b\",\"user\":{\"login\":\"w\"},"
        "\"body\":\"It chokes on `<!--` in input <!-- hidden --> badly\"}";
    assert_int_equal(parse_text("github", code, &c), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0]->text, "It chokes on `<!--` in input badly");
    es_caught_release(&c);
}

static void test_github_issue_and_comments(void **state)
{
    (void)state;
    struct es_caught c;
    assert_int_equal(parse_fixture("github", "github/issue.json", &c), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0]->external_id, "2273000042");
    assert_string_equal(c.items[0]->author, "deploy-dan");
    es_caught_release(&c);

    assert_int_equal(parse_fixture("github", "github/comments.json", &c), 0);
    assert_int_equal(c.n, 2);
    const struct es_item *a = c.items[0];
    assert_string_equal(a->external_id, "2088123456");
    assert_int_equal(a->kind, ES_KIND_COMMENT);
    assert_string_equal(a->author, "acme-bot");
    assert_string_equal(a->url, "https://github.com/acme-corp/widgets/issues/"
                                "42#issuecomment-2088123456");
    assert_string_equal(a->reply_ref,
                        "{\"repo\":\"acme-corp/widgets\",\"number\":42}");
    /* A bare comments array does not say the issue's id. */
    assert_null(a->in_reply_to);
    assert_string_equal(c.items[1]->text,
                        "Log attached \xF0\x9F\x91\x87 \xE2\x80\x94 looks "
                        "like acme waits on a lock file. > acme: "
                        "waiting for .acme/lock");
    assert_int_equal(c.items[1]->created_at, iso("2024-05-01T12:31:10Z"));
    es_caught_release(&c);

    assert_int_equal(parse_fixture("github", "github/comments_empty.json", &c),
                     0);
    assert_int_equal(c.n, 0);
    es_caught_release(&c);

    /* One comment (GET .../issues/comments/ID), and comments and issues
     * of older answers, with no issue_url or repository_url: the API url
     * names the repository. */
    assert_int_equal(
        parse_text("github",
                   "{\"id\":5449237,\"url\":\"https://api.github.com/repos/"
                   "acme-corp/widgets/issues/comments/5449237\",\"body\":"
                   "\"Thanks!\",\"user\":{\"login\":\"dan\"},\"created_at\":"
                   "\"2012-05-01T22:03:59Z\"}",
                   &c),
        0);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.items[0]->kind, ES_KIND_COMMENT);
    assert_string_equal(c.items[0]->text, "Thanks!");
    assert_string_equal(c.items[0]->categories[0], "acme-corp/widgets");
    es_caught_release(&c);
    assert_int_equal(
        parse_text("github",
                   "[{\"id\":5,\"url\":\"https://api.github.com/repos/a/b/"
                   "issues/comments/5\",\"body\":\"x\",\"user\":{}},{\"id\":6,"
                   "\"number\":28,\"title\":\"t\",\"url\":\"https://api.github"
                   ".com/repos/a/b/issues/28\",\"body\":\"y\"}]",
                   &c),
        0);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.items[0]->kind, ES_KIND_COMMENT);
    assert_int_equal(c.items[1]->kind, ES_KIND_POST);
    assert_string_equal(c.items[1]->reply_ref,
                        "{\"repo\":\"a/b\",\"number\":28}");
    es_caught_release(&c);
}

static void test_github_bad_input(void **state)
{
    (void)state;
    struct es_caught c;
    assert_shape_error("github", "{\"items\": 5}", "$.items");
    assert_shape_error("github", "{\"message\": \"Not Found\"}", "$");
    assert_shape_error("github", "[{\"x\": 1}]", "$[0]");
    assert_shape_error("github", "[3]", "$[0]");
    assert_shape_error("github", "7", "$");
    assert_shape_error("github", "{\"items\": [{\"id\": 1", "github");

    assert_int_equal(
        parse_text("github",
                   "{\"total_count\": 2, \"items\": [null, {\"id\": {}, "
                   "\"title\": 5}, {\"id\": 77, \"title\": [], \"user\": 4, "
                   "\"body\": {}, \"created_at\": \"yesterday\", "
                   "\"repository_url\": \"https://api.github.com/repos/a/"
                   "b%2F..\", \"number\": \"x\"}]}",
                   &c),
        0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0]->external_id, "77");
    assert_null(c.items[0]->title);
    assert_null(c.items[0]->author);
    assert_null(c.items[0]->reply_ref);
    assert_int_equal(c.items[0]->ncategories, 0);
    assert_int_equal(c.items[0]->created_at, ES_TIME_UNKNOWN);
    es_caught_release(&c);

    assert_too_deep("github", "[", "]");
    assert_robust("github", "github/search_issues.json");
    assert_robust("github", "github/comments.json");
}

/* ==== Opening ==== */

static int open_text(const char *text, struct es_source **out)
{
    struct es_config *cfg = NULL;
    *out = NULL;
    int rc = es_config_load_string(&cfg, text, "test.conf");
    if (rc != 0)
        fail_msg("config: %s", es_error_last());
    rc = es_source_open(out, es_config_source_at(cfg, 0));
    es_config_free(cfg);
    return rc;
}

/* Opens a source of @kind named @name on the test server. */
static struct es_source *open_src(const char *kind, const char *name,
                                  const char *extra)
{
    char *base = es_testhttpd_url(srv, "");
    char *text = es_xasprintf("[source \"%s\"]\ntype = %s\nbase_url = %s\n%s",
                              name, kind, base, extra);
    struct es_source *src;
    if (open_text(text, &src) != 0)
        fail_msg("open: %s", es_error_last());
    free(text);
    free(base);
    return src;
}

/* The query sees where links point: Reddit's text (from its HTML) keeps a
 * link's words, not its address. */
static void test_query_sees_links(void **state)
{
    (void)state;
    struct es_source *src = open_src("reddit", "rq", "query = acme\n");
    struct es_caught c;
    const char doc[] =
        "{\"kind\":\"t1\",\"data\":{\"name\":\"t1_l1\",\"author\":\"x\","
        "\"created_utc\":1714564800,\"parent_id\":\"t3_p1\",\"link_id\":"
        "\"t3_p1\",\"body\":\"[the pricing page](https://acme.example/p) "
        "is a rip-off\",\"body_html\":\"<div class=\\\"md\\\"><p><a "
        "href=\\\"https://acme.example/p\\\">the pricing page</a> is a "
        "rip-off</p></div>\"}}";
    assert_int_equal(parse_text("reddit", doc, &c), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0]->text, "the pricing page is a rip-off");
    assert_true(es_source_matches(src, c.items[0]));
    es_caught_release(&c);
    es_source_free(src);
}

static void expect_open_error(const char *kind, const char *body,
                              const char *what)
{
    char *text = es_xasprintf("[source \"x\"]\ntype = %s\n%s", kind, body);
    struct es_source *src;
    assert_int_equal(open_text(text, &src), ES_EINVALID);
    assert_null(src);
    const char *msg = es_error_last();
    if (!strstr(msg, what) || !strstr(msg, "test.conf:1:"))
        fail_msg("got '%s', expected '%s'", msg, what);
    assert_null(strstr(msg, "SECRET"));
    free(text);
}

static void test_open(void **state)
{
    (void)state;
    expect_open_error("reddit", "", "needs a query, a subreddit or mentions");
    expect_open_error("reddit", "query = -job\n", "needs a query");
    expect_open_error("reddit", "subreddit = acme corp\n",
                      "is not a subreddit name");
    expect_open_error("reddit", "mentions = yes\n", "needs a token");
    expect_open_error("reddit",
                      "query = acme\nclient_id = abc\n"
                      "password = " PASSWORD "\n",
                      "needs client_id, client_secret, username and password");
    expect_open_error("github", "", "needs a query");
    expect_open_error("github", "query = -job -hiring\n", "needs a query");

    struct es_source *src;
    assert_int_equal(open_text("[source \"r\"]\ntype = reddit\n"
                               "subreddit = r/acme\n",
                               &src),
                     0);
    assert_int_equal(src->interval, 300);
    assert_true(src->ops->flags & ES_SOURCE_HAS_SEARCH);
    es_source_free(src);
    assert_int_equal(open_text("[source \"r\"]\ntype = reddit\n"
                               "mentions = yes\nclient_id = abc\n"
                               "client_secret = SECRET1\nusername = bot\n"
                               "password = " PASSWORD "\n",
                               &src),
                     0);
    es_source_free(src);
    /* Hacker News reads everything new without a query. */
    assert_int_equal(open_text("[source \"h\"]\ntype = hackernews\n", &src), 0);
    assert_int_equal(src->interval, 300);
    es_source_free(src);
    assert_int_equal(open_text("[source \"g\"]\ntype = github\n"
                               "query = acme\n",
                               &src),
                     0);
    es_source_free(src);
}

/* ==== Through the poller ==== */

static const struct es_item *polled_find(const struct es_polled *p,
                                         const char *id)
{
    const struct es_item *it = es_caught_find(&p->items, id);
    if (!it)
        fail_msg("no item '%s' polled", id);
    return it;
}

static void assert_param(const char *path, long nth, const char *name,
                         const char *want)
{
    es_pollrun_assert_param(srv, path, nth, name, want);
}

static void assert_header(const char *path, long nth, const char *name,
                          const char *want)
{
    es_pollrun_assert_header(srv, path, nth, name, want);
}

static void assert_no_secret(const char *text)
{
    if (text && (strstr(text, TOKEN) || strstr(text, "SECRET")))
        fail_msg("a secret leaked: %s", text);
}

static void route_file(const char *path, const char *name)
{
    es_pollrun_route_file(srv, path, name, "application/json; charset=UTF-8");
}

static void route_status(const char *path, int status, const char *headers,
                         const char *body)
{
    struct es_testhttpd_response r = {
        .status = status,
        .content_type = "application/json",
        .headers = headers,
        .body = body,
    };
    es_testhttpd_route(srv, path, &r);
}

/* ==== Reddit through the poller ==== */

#define R_SEARCH "/search.json"

static void test_reddit_poll_search(void **state)
{
    (void)state;
    route_file(R_SEARCH, "reddit/search.json");
    struct es_source *src = open_src("reddit", "r1", "query = acme -job\n");

    /* First poll: one page is where listening starts. */
    struct es_polled p;
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.failures, 0);
    assert_int_equal(es_testhttpd_hits(srv, R_SEARCH), 1);
    assert_header(R_SEARCH, 0, "User-Agent",
                  "earshot:r1:v0.1 (self-hosted social listening)");
    assert_header(R_SEARCH, 0, "Authorization", NULL);
    assert_param(R_SEARCH, 0, "q", "acme -job");
    assert_param(R_SEARCH, 0, "sort", "new");
    assert_param(R_SEARCH, 0, "limit", "100");
    assert_param(R_SEARCH, 0, "raw_json", "1");
    assert_param(R_SEARCH, 0, "restrict_sr", NULL);
    assert_param(R_SEARCH, 0, "after", NULL);
    assert_int_equal(p.items.n, 2);
    assert_string_equal(p.cursor, "{\"search\":1714564800}");
    char *stored = es_xstrdup(p.cursor);
    es_polled_release(&p);

    /* Second poll: a newer page, then the old one; paging stops once the
     * mark (less the index lag) is reached. */
    char *newer = es_xasprintf("%s/reddit/search_newer.json", ES_FIXTURES);
    char *older = es_xasprintf("%s/reddit/search.json", ES_FIXTURES);
    struct es_testhttpd_response seq[2] = {
        { .content_type = "application/json", .body_file = newer },
        { .content_type = "application/json", .body_file = older },
    };
    es_testhttpd_route_seq(srv, R_SEARCH, seq, 2);
    es_testhttpd_clear_log(srv);
    es_polled_run(&p, src, stored, NULL);
    assert_int_equal(p.failures, 0);
    assert_int_equal(es_testhttpd_hits(srv, R_SEARCH), 2);
    assert_param(R_SEARCH, 0, "after", NULL);
    assert_param(R_SEARCH, 1, "after", "t3_1chf222");
    /* The mark moves only with the stream's last page. */
    assert_int_equal(p.calls, 2);
    assert_string_equal(p.cursors[0], "{\"search\":1714564800}");
    assert_string_equal(p.cursors[1], "{\"search\":1714568400}");
    assert_int_equal(es_caught_count(&p.items, "t3_1chf111"), 1);
    assert_int_equal(es_caught_count(&p.items, "t3_1chf222"), 1);
    assert_int_equal(es_caught_count(&p.items, "t3_1cheb0a"), 1);
    /* Found by the search, but the local query has the last word. */
    assert_int_equal(p.items.n, 4);
    es_polled_release(&p);

    /* A cursor that is not ours is ignored. */
    es_testhttpd_route(srv, R_SEARCH,
                       &(struct es_testhttpd_response){
                           .content_type = "application/json",
                           .body_file = newer,
                       });
    es_testhttpd_clear_log(srv);
    es_polled_run(&p, src, "not json {", NULL);
    assert_int_equal(p.failures, 0);
    assert_int_equal(es_testhttpd_hits(srv, R_SEARCH), 1);
    assert_string_equal(p.cursor, "{\"search\":1714568400}");
    es_polled_release(&p);

    free(newer);
    free(older);
    free(stored);
    es_source_free(src);
}

static void test_reddit_poll_subreddit_oauth(void **state)
{
    (void)state;
    route_file("/r/acme/new", "reddit/empty.json");
    route_file("/r/acme/comments", "reddit/comments_listing.json");
    route_file("/message/inbox", "reddit/mentions.json");
    route_file("/comments/1cgz111", "reddit/comments_page.json");
    route_status("/comments/1cgy999", 404, NULL,
                 "{\"message\": \"Not Found\", \"error\": 404}");
    route_status("/comments/1cgx555", 403, NULL,
                 "{\"reason\": \"private\", \"message\": \"Forbidden\", "
                 "\"error\": 403}");
    route_file("/comments/1cgw777", "reddit/empty.json");

    struct es_source *src =
        open_src("reddit", "r2",
                 "subreddit = acme\nmentions = yes\ntoken = " TOKEN "\n"
                 "user_agent = linux:com.acme.listener:v2 (by /u/acme)\n");
    struct es_polled p;
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.failures, 0);
    /* With a token: oauth paths, no .json. */
    assert_int_equal(es_testhttpd_hits(srv, "/r/acme/new"), 1);
    assert_int_equal(es_testhttpd_hits(srv, "/r/acme/new.json"), 0);
    assert_int_equal(es_testhttpd_hits(srv, "/r/acme/comments"), 1);
    assert_int_equal(es_testhttpd_hits(srv, "/message/inbox"), 1);
    assert_int_equal(es_testhttpd_hits(srv, "/search"), 0);
    assert_header("/r/acme/new", 0, "Authorization", "bearer " TOKEN);
    assert_header("/message/inbox", 0, "Authorization", "bearer " TOKEN);
    /* Reading mentions must not mark them read for the team. */
    assert_param("/message/inbox", 0, "mark", "false");
    assert_header("/r/acme/comments", 0, "User-Agent",
                  "linux:com.acme.listener:v2 (by /u/acme)");
    assert_param("/r/acme/comments", 0, "limit", "100");
    assert_param("/r/acme/comments", 0, "raw_json", "1");
    /* Thread context for the comments whose post was not in the page:
     * a thread that is gone or private is skipped. */
    assert_int_equal(es_testhttpd_hits(srv, "/comments/1cgz111"), 1);
    assert_int_equal(es_testhttpd_hits(srv, "/comments/1cgy999"), 1);
    assert_int_equal(es_testhttpd_hits(srv, "/comments/1cgx555"), 1);
    assert_int_equal(es_testhttpd_hits(srv, "/comments/1cgw777"), 1);
    assert_header("/comments/1cgz111", 0, "Authorization", "bearer " TOKEN);
    assert_int_equal(es_caught_count(&p.items, "t3_1cgz111"), 1);
    assert_int_equal(es_caught_count(&p.items, "t1_l2a8d01"), 1);
    assert_int_equal(es_caught_count(&p.items, "t1_l2a5e21"), 1);
    /* The listing and the thread both hold this one; the store dedupes. */
    assert_int_equal(es_caught_count(&p.items, "t1_l2a9x01"), 2);
    assert_int_equal(es_caught_count(&p.items, "t1_l2a8c77"), 0);
    assert_string_equal(p.cursor,
                        "{\"comments\":1714565400,\"mentions\":1714564000}");
    char *stored = es_xstrdup(p.cursor);
    es_polled_release(&p);

    /* Second poll: the listings page back no further than the marks, and
     * no thread is fetched twice. */
    es_testhttpd_clear_log(srv);
    es_polled_run(&p, src, stored, NULL);
    assert_int_equal(p.failures, 0);
    assert_int_equal(es_testhttpd_hits(srv, "/r/acme/comments"), 1);
    assert_int_equal(es_testhttpd_hits(srv, "/message/inbox"), 1);
    assert_int_equal(es_testhttpd_hits(srv, "/comments/1cgz111"), 0);
    assert_int_equal(es_testhttpd_hits(srv, NULL), 3);
    assert_string_equal(p.cursor, stored);
    es_polled_release(&p);

    free(stored);
    es_source_free(src);
}

static void test_reddit_context_cap(void **state)
{
    (void)state;
    /* Seven comments on seven posts: five threads in this poll, the rest
     * in the next one. */
    struct es_buf b = ES_BUF_INIT;
    es_buf_adds(&b, "{\"kind\": \"Listing\", \"data\": {\"after\": null, "
                    "\"children\": [");
    for (int i = 1; i <= 7; i++)
        es_buf_addf(&b,
                    "%s{\"kind\": \"t1\", \"data\": {\"name\": \"t1_c%d\", "
                    "\"body\": \"acme %d\", \"author\": \"u%d\", "
                    "\"parent_id\": \"t3_p%d\", \"link_id\": \"t3_p%d\", "
                    "\"created_utc\": %d.0, \"permalink\": "
                    "\"/r/acme/comments/p%d/x/c%d/\"}}",
                    i > 1 ? "," : "", i, i, i, i, i, 1714560000 - i, i, i);
    es_buf_adds(&b, "], \"before\": null}}");
    route_file("/r/acme/new.json", "reddit/empty.json");
    es_testhttpd_route(srv, "/r/acme/comments.json",
                       &(struct es_testhttpd_response){
                           .content_type = "application/json",
                           .body = b.ptr,
                       });
    for (int i = 1; i <= 7; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/comments/p%d.json", i);
        route_file(path, "reddit/empty.json");
    }
    struct es_source *src = open_src("reddit", "r9", "subreddit = acme\n");
    struct es_polled p;
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.failures, 0);
    size_t fetched = 0;
    for (int i = 1; i <= 7; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/comments/p%d.json", i);
        fetched += es_testhttpd_hits(srv, path);
    }
    assert_int_equal(fetched, 5);
    assert_int_equal(es_testhttpd_hits(srv, "/comments/p1.json"), 1);
    assert_param("/comments/p1.json", 0, "raw_json", "1");
    assert_string_equal(p.cursor, "{\"comments\":1714559999}");
    char *stored = es_xstrdup(p.cursor);
    es_polled_release(&p);

    es_polled_run(&p, src, stored, NULL);
    fetched = 0;
    for (int i = 1; i <= 7; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/comments/p%d.json", i);
        assert_true(es_testhttpd_hits(srv, path) <= 1);
        fetched += es_testhttpd_hits(srv, path);
    }
    assert_int_equal(fetched, 7);
    es_polled_release(&p);
    free(stored);
    es_source_free(src);
    es_buf_release(&b);
}

static void test_reddit_poll_search_in_subreddit(void **state)
{
    (void)state;
    route_file("/r/acme+acmecloud/search.json", "reddit/search.json");
    route_file("/r/acme+acmecloud/comments.json", "reddit/empty.json");
    struct es_source *src =
        open_src("reddit", "r3",
                 "subreddit = acme+acmecloud\nquery = acme\ncontext = no\n");
    struct es_polled p;
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.failures, 0);
    assert_int_equal(es_testhttpd_hits(srv, "/r/acme+acmecloud/search.json"),
                     1);
    assert_param("/r/acme+acmecloud/search.json", 0, "restrict_sr", "1");
    assert_param("/r/acme+acmecloud/search.json", 0, "q", "acme");
    assert_int_equal(es_testhttpd_hits(srv, "/r/acme+acmecloud/new.json"), 0);
    assert_int_equal(es_testhttpd_hits(srv, "/r/acme+acmecloud/comments.json"),
                     1);
    assert_string_equal(p.cursor, "{\"search\":1714564800}");
    es_polled_release(&p);
    es_source_free(src);
}

/* A server without /message/inbox (a proxy, a Reddit-compatible API)
 * is asked for /message/mentions instead, in the same poll. */
static void test_reddit_mentions_fallback(void **state)
{
    (void)state;
    es_testhttpd_clear_log(srv);
    route_status("/message/inbox", 404, NULL,
                 "{\"message\": \"Not Found\", \"error\": 404}");
    route_file("/message/mentions", "reddit/mentions.json");
    route_file("/comments/1cgx555", "reddit/empty.json");
    route_file("/comments/1cgw777", "reddit/empty.json");
    struct es_source *src =
        open_src("reddit", "r9", "mentions = yes\ntoken = " TOKEN "\n");
    struct es_polled p;
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.failures, 0);
    assert_int_equal(es_testhttpd_hits(srv, "/message/inbox"), 1);
    assert_int_equal(es_testhttpd_hits(srv, "/message/mentions"), 1);
    assert_param("/message/mentions", 0, "mark", "false");
    assert_int_equal(es_caught_count(&p.items, "t1_l2a5e21"), 1);
    es_polled_release(&p);
    es_source_free(src);
}

static void test_reddit_password_grant(void **state)
{
    (void)state;
    route_status("/api/v1/access_token", 200, NULL,
                 "{\"access_token\": \"tok-SECRET-session\", \"token_type\": "
                 "\"bearer\", \"expires_in\": 86400, \"scope\": \"*\"}");
    char *mentions = es_xasprintf("%s/reddit/mentions.json", ES_FIXTURES);
    struct es_testhttpd_response seq[2] = {
        { .status = 401,
          .content_type = "application/json",
          .body = "{\"message\": \"Unauthorized\", \"error\": 401}" },
        { .content_type = "application/json", .body_file = mentions },
    };
    es_testhttpd_route_seq(srv, "/message/inbox", seq, 2);
    route_file("/comments/1cgx555", "reddit/empty.json");
    route_file("/comments/1cgw777", "reddit/empty.json");

    struct es_source *src = open_src("reddit", "r4",
                                     "mentions = yes\nclient_id = cid-1\n"
                                     "client_secret = csecret-SECRET\n"
                                     "username = bot\n"
                                     "password = " PASSWORD "\n");
    struct es_polled p;
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.failures, 0);
    /* A token, a 401, a new token, the page. */
    assert_int_equal(es_testhttpd_hits(srv, "/api/v1/access_token"), 2);
    assert_int_equal(es_testhttpd_hits(srv, "/message/inbox"), 2);
    char *m = es_testhttpd_method(srv, "/api/v1/access_token", 0);
    assert_string_equal(m, "POST");
    free(m);
    /* HTTP Basic with base64("cid-1:csecret-SECRET"). */
    assert_header("/api/v1/access_token", 0, "Authorization",
                  "Basic Y2lkLTE6Y3NlY3JldC1TRUNSRVQ=");
    assert_header("/api/v1/access_token", 0, "User-Agent",
                  "earshot:r4:v0.1 (self-hosted social listening)");
    char *body = es_testhttpd_body(srv, "/api/v1/access_token", 0);
    assert_string_equal(body, "grant_type=password&username=bot&password="
                              "p%40ss%20word-SECRET");
    free(body);
    assert_header("/message/inbox", 1, "Authorization",
                  "bearer tok-SECRET-session");
    assert_int_equal(es_caught_count(&p.items, "t1_l2a5e21"), 1);
    assert_string_equal(p.cursor, "{\"mentions\":1714564000}");
    es_polled_release(&p);

    /* The session lasts: the next poll asks for no token. The account's
     * own answer, in the thread of the message it answered, is no
     * mention. */
    es_testhttpd_clear_log(srv);
    route_status(
        "/message/inbox", 200, NULL,
        "{\"kind\":\"Listing\",\"data\":{\"children\":[{\"kind\":\"t4\","
        "\"data\":{\"name\":\"t4_q1\",\"author\":\"quinn\",\"subject\":"
        "\"refund\",\"body\":\"where is my refund\",\"created_utc\":"
        "1714565000,\"replies\":{\"kind\":\"Listing\",\"data\":{"
        "\"children\":[{\"kind\":\"t4\",\"data\":{\"name\":\"t4_q2\","
        "\"author\":\"Bot\",\"subject\":\"re: refund\",\"body\":"
        "\"on its way\",\"created_utc\":1714565100}}]}}}}]}}");
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(es_testhttpd_hits(srv, "/api/v1/access_token"), 0);
    assert_int_equal(es_caught_count(&p.items, "t4_q1"), 1);
    assert_int_equal(es_caught_count(&p.items, "t4_q2"), 0);
    es_polled_release(&p);
    es_source_free(src);

    /* A refused grant comes with HTTP 200 and {"error": ...}. */
    route_status("/api/v1/access_token", 200, NULL,
                 "{\"error\": \"invalid_grant\"}");
    es_testhttpd_clear_log(srv);
    src = open_src("reddit", "r5",
                   "mentions = yes\nclient_id = cid-1\n"
                   "client_secret = csecret-SECRET\nusername = bot\n"
                   "password = " PASSWORD "\n");
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.failures, 1);
    assert_int_equal(p.status, ES_EAUTH);
    assert_non_null(strstr(p.errors.ptr, "invalid_grant"));
    assert_non_null(strstr(p.errors.ptr, "r5"));
    assert_no_secret(p.errors.ptr);
    assert_int_equal(es_testhttpd_hits(srv, "/message/inbox"), 0);
    es_polled_release(&p);

    /* Bad client credentials: HTTP 401 from the token endpoint. */
    route_status("/api/v1/access_token", 401, NULL,
                 "{\"message\": \"Unauthorized\", \"error\": 401}");
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.status, ES_EAUTH);
    assert_no_secret(p.errors.ptr);
    es_polled_release(&p);
    es_source_free(src);
    free(mentions);
}

/* A server that quotes back the credentials it refused: what is printed
 * and kept as the source's last error holds none of them, in any form
 * (the Basic header, its base64 decoded, the percent-encoded password of
 * the form, a bearer token). */
static void test_reddit_echoed_credentials(void **state)
{
    (void)state;
    route_status("/api/v1/access_token", 401, NULL,
                 "{\"message\": \"bad credentials: Basic "
                 "Y2lkLTE6Y3NlY3JldC1TRUNSRVQ= (cid-1:csecret-SECRET), "
                 "password p%40ss%20word-SECRET or p@ss word-SECRET\"}");
    struct es_source *src =
        open_src("reddit", "r9",
                 "mentions = yes\nclient_id = cid-1\n"
                 "client_secret = csecret-SECRET\nusername = bot\n"
                 "password = " PASSWORD "\n");
    struct es_polled p;
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.status, ES_EAUTH);
    assert_non_null(strstr(p.errors.ptr, "bad credentials: Basic REDACTED"));
    assert_no_secret(p.errors.ptr);
    es_polled_release(&p);
    es_source_free(src);

    route_status("/search", 401, NULL,
                 "{\"message\": \"bad credentials: Bearer " TOKEN "\"}");
    src = open_src("reddit", "r10", "query = acme\ntoken = " TOKEN "\n");
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.status, ES_EAUTH);
    assert_non_null(strstr(p.errors.ptr, "bad credentials: Bearer REDACTED"));
    assert_no_secret(p.errors.ptr);
    es_polled_release(&p);
    es_source_free(src);
}

static void test_reddit_rate_limits(void **state)
{
    (void)state;
    char *file = es_xasprintf("%s/reddit/search.json", ES_FIXTURES);
    /* Reddit's spelling: a float count and seconds until the reset. */
    es_testhttpd_route(srv, R_SEARCH,
                       &(struct es_testhttpd_response){
                           .content_type = "application/json",
                           .headers = "X-Ratelimit-Used: 100\r\n"
                                      "X-Ratelimit-Remaining: 0.0\r\n"
                                      "X-Ratelimit-Reset: 120\r\n",
                           .body_file = file,
                       });
    struct es_source *src = open_src("reddit", "r6", "query = acme\n");
    /* The page has an `after` and is all newer than the mark: without the
     * rate limit, a second page would follow. */
    struct es_polled p;
    es_polled_run(&p, src, "{\"search\":1714560000}", NULL);
    assert_int_equal(p.failures, 0);
    assert_int_equal(es_testhttpd_hits(srv, R_SEARCH), 1);
    assert_true(p.retry_after >= 110 && p.retry_after <= 121);
    /* The stream did not finish: its mark stays. */
    assert_string_equal(p.cursor, "{\"search\":1714560000}");
    assert_int_equal(p.items.n, 2);
    es_polled_release(&p);
    es_source_free(src);

    /* 429 with Retry-After; 401 with a token: no token in the message. */
    route_status(R_SEARCH, 429, "Retry-After: 30\r\n",
                 "{\"message\": \"Too Many Requests\", \"error\": 429}");
    src = open_src("reddit", "r7", "query = acme\n");
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.status, ES_ERATELIMIT);
    assert_int_equal(p.retry_after, 30);
    assert_null(p.cursor);
    es_polled_release(&p);
    es_source_free(src);

    route_status("/search", 401, NULL,
                 "{\"message\": \"Unauthorized\", \"error\": 401}");
    src = open_src("reddit", "r8", "query = acme\ntoken = " TOKEN "\n");
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.status, ES_EAUTH);
    assert_non_null(strstr(p.errors.ptr, "401"));
    assert_no_secret(p.errors.ptr);
    es_polled_release(&p);
    es_source_free(src);
    free(file);
}

/* ==== Hacker News through the poller ==== */

#define HN_SEARCH "/api/v1/search_by_date"

static struct es_testhttpd_response json_body(const char *body)
{
    struct es_testhttpd_response r = {
        .content_type = "application/json; charset=utf-8",
        .body = body,
    };
    return r;
}

static void test_hn_poll_walk(void **state)
{
    (void)state;
    route_file(HN_SEARCH, "hackernews/search_by_date.json");
    struct es_source *src =
        open_src("hackernews", "hn", "query = acme -hiring\ncontext = no\n");

    struct es_polled p;
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.failures, 0);
    assert_int_equal(es_testhttpd_hits(srv, HN_SEARCH), 1);
    assert_param(HN_SEARCH, 0, "query", "acme");
    assert_param(HN_SEARCH, 0, "tags", "(story,comment)");
    assert_param(HN_SEARCH, 0, "hitsPerPage", "100");
    assert_param(HN_SEARCH, 0, "page", "0");
    assert_param(HN_SEARCH, 0, "numericFilters", NULL);
    assert_int_equal(p.items.n, 3);
    assert_string_equal(p.cursor, "{\"acme\":1714568000}");
    es_polled_release(&p);

    /* Three pages since the mark: page 0, then back from the last page;
     * each page walked back moves the mark to just below its newest hit. */
    char *p0 = fixture("hackernews/search_p0.json");
    char *p1 = fixture("hackernews/search_p1.json");
    char *p2 = fixture("hackernews/search_p2.json");
    struct es_testhttpd_response seq[3] = { json_body(p0), json_body(p2),
                                            json_body(p1) };
    es_testhttpd_route_seq(srv, HN_SEARCH, seq, 3);
    es_testhttpd_clear_log(srv);
    es_polled_run(&p, src, "{\"acme\":1714560000}", NULL);
    assert_int_equal(p.failures, 0);
    assert_int_equal(es_testhttpd_hits(srv, HN_SEARCH), 3);
    assert_param(HN_SEARCH, 0, "numericFilters", "created_at_i>1714559880");
    assert_param(HN_SEARCH, 0, "page", "0");
    assert_param(HN_SEARCH, 1, "page", "2");
    assert_param(HN_SEARCH, 2, "page", "1");
    assert_param(HN_SEARCH, 2, "numericFilters", "created_at_i>1714559880");
    assert_int_equal(p.calls, 3);
    assert_string_equal(p.cursors[0], "{\"acme\":1714560000}");
    assert_string_equal(p.cursors[1], "{\"acme\":1714568099}");
    assert_string_equal(p.cursors[2], "{\"acme\":1714570000}");
    assert_int_equal(p.items.n, 6);
    for (size_t i = 0; i < p.items.n; i++)
        assert_int_equal(
            es_caught_count(&p.items, p.items.items[i]->external_id), 1);
    /* context = no: no thread fetched. */
    assert_int_equal(es_testhttpd_hits(srv, "/api/v1/items/40220001"), 0);
    es_polled_release(&p);

    /* A new hit between page 0 and the walk shifts every page: stop and
     * keep the mark rather than trust a shifted page. */
    char *p2b = replace(p2, "\"nbHits\": 250", "\"nbHits\": 251");
    struct es_testhttpd_response seq2[2] = { json_body(p0), json_body(p2b) };
    es_testhttpd_route_seq(srv, HN_SEARCH, seq2, 2);
    es_testhttpd_clear_log(srv);
    es_polled_run(&p, src, "{\"acme\":1714560000}", NULL);
    assert_int_equal(p.failures, 0);
    assert_int_equal(es_testhttpd_hits(srv, HN_SEARCH), 2);
    assert_string_equal(p.cursor, "{\"acme\":1714560000}");
    es_polled_release(&p);

    /* max_pages = 2: the walk stops after page 2, its progress kept. */
    es_source_free(src);
    src = open_src("hackernews", "hn",
                   "query = acme\ncontext = no\nmax_pages = 2\n");
    es_testhttpd_route_seq(srv, HN_SEARCH, seq, 3);
    es_testhttpd_clear_log(srv);
    es_polled_run(&p, src, "{\"acme\":1714560000}", NULL);
    assert_int_equal(es_testhttpd_hits(srv, HN_SEARCH), 2);
    assert_string_equal(p.cursor, "{\"acme\":1714568099}");
    es_polled_release(&p);

    es_source_free(src);
    free(p0);
    free(p1);
    free(p2);
    free(p2b);
}

/* Polls a source with a stored mark whose first search page is
 * search_p0.json with "nbHits": 250, "nbPages": 3 replaced by @counts
 * (and "hitsPerPage": 100 by @hpp when not NULL), then search_by_date;
 * returns the second request's numericFilters (NULL: none). */
static char *hn_poll_counts(const char *counts, const char *hpp)
{
    char *p0 = fixture("hackernews/search_p0.json");
    char *big = replace(p0, "\"nbHits\": 250, \"nbPages\": 3", counts);
    char *first =
        hpp ? replace(big, "\"hitsPerPage\": 100", hpp) : es_xstrdup(big);
    char *small = fixture("hackernews/search_by_date.json");
    struct es_testhttpd_response seq[2] = { json_body(first),
                                            json_body(small) };
    es_testhttpd_route_seq(srv, HN_SEARCH, seq, 2);
    struct es_source *src =
        open_src("hackernews", "hn", "query = acme\ncontext = no\n");
    struct es_polled p;
    es_polled_run(&p, src, "{\"acme\":1714500000}", NULL);
    assert_int_equal(p.failures, 0);
    char *nf = es_pollrun_param(srv, HN_SEARCH, 1, "numericFilters");
    if (!hpp) {
        assert_int_equal(es_testhttpd_hits(srv, HN_SEARCH), 2);
        long long hi = 0;
        assert_non_null(nf);
        assert_int_equal(sscanf(nf, "created_at_i>%*d,created_at_i<=%lld", &hi),
                         1);
        char *want = es_xasprintf("{\"acme\":%lld}", hi);
        assert_string_equal(p.cursor, want);
        free(want);
    }
    es_polled_release(&p);
    es_source_free(src);
    free(p0);
    free(big);
    free(first);
    free(small);
    return nf;
}

/* Counts no search serves (nbPages * hitsPerPage past 2^63) are bounded:
 * the product once overflowed (UBSan) and narrowed the window to one
 * second. */
static void test_hn_poll_hostile_counts(void **state)
{
    (void)state;
    char *nf = hn_poll_counts("\"nbHits\": 5, \"nbPages\": 4611686018427387904",
                              "\"hitsPerPage\": 4");
    /* 5 hits fit what the pages serve: the next request walks the pages
     * back in the same window, never narrowed to one second. */
    assert_non_null(nf);
    assert_string_equal(nf, "created_at_i>1714499880");
    free(nf);
}

static void test_hn_poll_window(void **state)
{
    (void)state;
    /* 5000 hits since the mark, but Algolia serves 1000 (10 pages of
     * 100): the search narrows to a window it can read whole. */
    char *nf = hn_poll_counts("\"nbHits\": 5000, \"nbPages\": 10", NULL);
    long long lo, hi;
    assert_int_equal(
        sscanf(nf, "created_at_i>%lld,created_at_i<=%lld", &lo, &hi), 2);
    assert_int_equal(lo, 1714499880);
    /* About a tenth of the span (1000 of 5000, aiming at half). */
    assert_true(hi > lo && hi < lo + (1714570000 - lo) / 5);
    free(nf);
}

static void test_hn_poll_alternatives(void **state)
{
    (void)state;
    route_file(HN_SEARCH, "hackernews/search_by_date.json");
    struct es_source *src = open_src("hackernews", "hn",
                                     "query = (acme OR acmecloud) -hiring\n"
                                     "context = no\n");
    struct es_polled p;
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.failures, 0);
    assert_int_equal(es_testhttpd_hits(srv, HN_SEARCH), 2);
    char *q0 = es_pollrun_param(srv, HN_SEARCH, 0, "query");
    char *q1 = es_pollrun_param(srv, HN_SEARCH, 1, "query");
    assert_non_null(q0);
    assert_non_null(q1);
    assert_string_not_equal(q0, q1);
    char *want = es_xasprintf("{\"%s\":1714568000,\"%s\":1714568000}", q0, q1);
    assert_string_equal(p.cursor, want);
    free(want);
    free(q0);
    free(q1);
    /* Each search found the same three hits; the store dedupes. */
    assert_int_equal(es_caught_count(&p.items, "40224213"), 2);
    es_polled_release(&p);
    es_source_free(src);

    /* No query: every new story and comment. */
    es_testhttpd_clear_log(srv);
    src = open_src("hackernews", "hn", "context = no\n");
    es_polled_run(&p, src, "{\"*\":1714560000}", NULL);
    assert_param(HN_SEARCH, 0, "query", NULL);
    assert_param(HN_SEARCH, 0, "numericFilters", "created_at_i>1714559880");
    assert_string_equal(p.cursor, "{\"*\":1714568000}");
    es_polled_release(&p);
    es_source_free(src);
}

static void test_hn_poll_context(void **state)
{
    (void)state;
    /* Two comments on a story that is not in the page. */
    route_file(HN_SEARCH, "hackernews/search_p1.json");
    route_file("/api/v1/items/40220001", "hackernews/item_tree.json");
    struct es_source *src = open_src("hackernews", "hn", "query = acme\n");
    struct es_polled p;
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.failures, 0);
    assert_int_equal(es_testhttpd_hits(srv, "/api/v1/items/40220001"), 1);
    /* The thread around the matching comments is kept whole, words or
     * not (flagged context). */
    assert_int_equal(es_caught_count(&p.items, "40220001"), 1);
    assert_int_equal(es_caught_count(&p.items, "40224400"), 1);
    assert_int_equal(es_caught_count(&p.items, "40223900"), 1);
    assert_string_equal(polled_find(&p, "40224213")->in_reply_to, "40223900");
    /* The thread does not move the mark. */
    assert_string_equal(p.cursor, "{\"acme\":1714569000}");
    es_polled_release(&p);

    /* Fetched once per process. */
    es_polled_run(&p, src, "{\"acme\":1714569000}", NULL);
    assert_int_equal(es_testhttpd_hits(srv, "/api/v1/items/40220001"), 1);
    es_polled_release(&p);
    es_source_free(src);

    /* A thread that is gone is skipped quietly. */
    es_testhttpd_clear_log(srv);
    route_status("/api/v1/items/40220001", 404, NULL,
                 "{\"status\": 404, \"error\": \"Not Found\"}");
    src = open_src("hackernews", "hn", "query = acme\n");
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.failures, 0);
    assert_int_equal(es_testhttpd_hits(srv, "/api/v1/items/40220001"), 1);
    es_polled_release(&p);
    es_source_free(src);
}

static void test_hn_poll_errors(void **state)
{
    (void)state;
    route_status(HN_SEARCH, 429, "Retry-After: 45\r\n",
                 "{\"message\": \"Too many requests\", \"status\": 429}");
    struct es_source *src = open_src("hackernews", "hn", "query = acme\n");
    struct es_polled p;
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.status, ES_ERATELIMIT);
    assert_int_equal(p.retry_after, 45);
    es_polled_release(&p);

    route_status(HN_SEARCH, 200, NULL, "{\"hits\": 5}");
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.status, ES_EPARSE);
    assert_non_null(strstr(p.errors.ptr, "$.hits"));
    assert_null(p.cursor);
    es_polled_release(&p);
    es_source_free(src);
}

/* ==== GitHub through the poller ==== */

#define GH_SEARCH   "/search/issues"
#define GH_COMMENTS "/repos/acme-corp/widgets/issues/42/comments"
#define GH_GONE     "/repos/gone-org/old-repo/issues/9/comments"

static void test_github_poll(void **state)
{
    (void)state;
    char *base = es_testhttpd_url(srv, "");
    char *link = es_xasprintf(
        "Link: <%s/search/issues?q=acme&sort=created&order=asc&per_page=100&"
        "page=2>; rel=\"next\", <%s/search/issues?q=acme&page=2>; "
        "rel=\"last\"\r\nX-RateLimit-Limit: 30\r\n"
        "X-RateLimit-Remaining: 28\r\nX-RateLimit-Reset: 4102444800\r\n"
        "X-RateLimit-Resource: search\r\n",
        base, base);
    char *f_issues = es_xasprintf("%s/github/search_issues.json", ES_FIXTURES);
    char *f_empty = es_xasprintf("%s/github/search_empty.json", ES_FIXTURES);
    char *f_comm = es_xasprintf("%s/github/search_comments.json", ES_FIXTURES);
    struct es_testhttpd_response seq[3] = {
        { .content_type = "application/json; charset=utf-8",
          .headers = link,
          .body_file = f_issues },
        { .content_type = "application/json; charset=utf-8",
          .body_file = f_empty },
        { .content_type = "application/json; charset=utf-8",
          .body_file = f_comm },
    };
    es_testhttpd_route_seq(srv, GH_SEARCH, seq, 3);
    route_file(GH_COMMENTS, "github/comments.json");
    route_status(GH_GONE, 404, NULL,
                 "{\"message\": \"Not Found\", \"documentation_url\": "
                 "\"https://docs.github.com/rest\", \"status\": \"404\"}");

    struct es_source *src =
        open_src("github", "gh", "query = acme -hiring\ntoken = " TOKEN "\n");
    int64_t before = (int64_t)time(NULL);
    struct es_polled p;
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.failures, 0);
    assert_int_equal(es_testhttpd_hits(srv, GH_SEARCH), 3);
    assert_header(GH_SEARCH, 0, "Accept", "application/vnd.github.full+json");
    assert_header(GH_SEARCH, 0, "X-GitHub-Api-Version", "2022-11-28");
    assert_header(GH_SEARCH, 0, "Authorization", "Bearer " TOKEN);
    assert_header(GH_COMMENTS, 0, "Authorization", "Bearer " TOKEN);
    /* Issues: oldest first from a day back. */
    char *q = es_pollrun_param(srv, GH_SEARCH, 0, "q");
    assert_non_null(q);
    assert_non_null(strstr(q, "acme -hiring in:title,body created:>="));
    int64_t since = iso(strstr(q, ">=") + 2);
    assert_true(since >= before - 86400 - 2 && since <= before - 86400 + 2);
    free(q);
    assert_param(GH_SEARCH, 0, "sort", "created");
    assert_param(GH_SEARCH, 0, "order", "asc");
    assert_param(GH_SEARCH, 0, "per_page", "100");
    /* The Link header's next page. */
    assert_param(GH_SEARCH, 1, "page", "2");
    /* Comments: issues with a matching comment, then their comments. */
    q = es_pollrun_param(srv, GH_SEARCH, 2, "q");
    assert_non_null(strstr(q, "acme -hiring in:comments updated:>="));
    free(q);
    assert_param(GH_SEARCH, 2, "sort", "updated");
    assert_int_equal(es_testhttpd_hits(srv, GH_COMMENTS), 1);
    assert_param(GH_COMMENTS, 0, "per_page", "100");
    char *s = es_pollrun_param(srv, GH_COMMENTS, 0, "since");
    assert_non_null(s);
    assert_int_equal(iso(s), since);
    free(s);
    assert_int_equal(es_testhttpd_hits(srv, GH_GONE), 1);

    assert_int_equal(p.items.n, 5);
    const struct es_item *cm = polled_find(&p, "2088123456");
    assert_int_equal(cm->kind, ES_KIND_COMMENT);
    assert_string_equal(cm->in_reply_to, "2273000042");
    assert_string_equal(cm->thread_root, "2273000042");
    assert_int_equal(es_caught_count(&p.items, "2273000042"), 1);
    char *want = es_xasprintf("{\"issues\":%lld,\"comments\":%lld}",
                              (long long)iso("2024-05-01T12:20:00Z"),
                              (long long)iso("2024-05-01T12:31:10Z"));
    assert_string_equal(p.cursor, want);
    free(want);
    char *stored = es_xstrdup(p.cursor);
    es_polled_release(&p);

    /* Second poll: both searches start at their marks less five minutes. */
    es_testhttpd_route(srv, GH_SEARCH, &seq[1]);
    es_testhttpd_clear_log(srv);
    es_polled_run(&p, src, stored, NULL);
    assert_int_equal(p.failures, 0);
    assert_int_equal(es_testhttpd_hits(srv, GH_SEARCH), 2);
    q = es_pollrun_param(srv, GH_SEARCH, 0, "q");
    assert_string_equal(q, "acme -hiring in:title,body "
                           "created:>=2024-05-01T12:15:00Z");
    free(q);
    q = es_pollrun_param(srv, GH_SEARCH, 1, "q");
    assert_string_equal(q, "acme -hiring in:comments "
                           "updated:>=2024-05-01T12:26:10Z");
    free(q);
    assert_string_equal(p.cursor, stored);
    es_polled_release(&p);

    es_source_free(src);
    free(stored);
    free(f_issues);
    free(f_empty);
    free(f_comm);
    free(link);
    free(base);
}

static void test_github_rate_limit_and_links(void **state)
{
    (void)state;
    char *base = es_testhttpd_url(srv, "");
    char *f_issues = es_xasprintf("%s/github/search_issues.json", ES_FIXTURES);
    /* The window is spent (reset as Unix time): no second page. */
    char *hdr = es_xasprintf("Link: <%s/search/issues?q=acme&page=2>; "
                             "rel=\"next\"\r\nX-RateLimit-Limit: 10\r\n"
                             "X-RateLimit-Remaining: 0\r\n"
                             "X-RateLimit-Reset: %lld\r\n",
                             base, (long long)time(NULL) + 60);
    es_testhttpd_route(srv, GH_SEARCH,
                       &(struct es_testhttpd_response){
                           .content_type = "application/json",
                           .headers = hdr,
                           .body_file = f_issues,
                       });
    struct es_source *src = open_src("github", "gh", "query = acme\n");
    struct es_polled p;
    es_polled_run(&p, src, "{\"issues\":1714560000,\"comments\":1714560000}",
                  NULL);
    assert_int_equal(p.failures, 0);
    assert_int_equal(es_testhttpd_hits(srv, NULL), 1);
    assert_header(GH_SEARCH, 0, "Authorization", NULL);
    assert_true(p.retry_after >= 55 && p.retry_after <= 61);
    /* Oldest first: the page read moves the mark. */
    char *want = es_xasprintf("{\"issues\":%lld,\"comments\":1714560000}",
                              (long long)iso("2024-05-01T12:20:00Z"));
    assert_string_equal(p.cursor, want);
    free(want);
    es_polled_release(&p);
    free(hdr);

    /* A next link to another host would get the token: not followed. */
    es_source_free(src);
    src = open_src("github", "gh", "query = acme\ntoken = " TOKEN "\n");
    es_testhttpd_route(
        srv, GH_SEARCH,
        &(struct es_testhttpd_response){
            .content_type = "application/json",
            .headers = "Link: <http://127.0.0.2:1/search/issues?page=2>; "
                       "rel=\"next\"\r\n",
            .body_file = f_issues,
        });
    route_file(GH_COMMENTS, "github/comments_empty.json");
    route_file(GH_GONE, "github/comments_empty.json");
    es_testhttpd_clear_log(srv);
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.failures, 0);
    /* issues, comments search, two issues' comments */
    assert_int_equal(es_testhttpd_hits(srv, GH_SEARCH), 2);
    assert_int_equal(es_testhttpd_hits(srv, NULL), 4);
    es_polled_release(&p);

    /* incomplete_results: asked once more before the mark moves. */
    char *inc = fixture("github/search_issues.json");
    char *inc2 = replace(inc, "\"incomplete_results\": false",
                         "\"incomplete_results\": true");
    struct es_testhttpd_response seq[2] = { json_body(inc2), json_body(inc) };
    es_testhttpd_route_seq(srv, GH_SEARCH, seq, 2);
    es_testhttpd_clear_log(srv);
    es_polled_run(&p, src, "{\"issues\":1714560000,\"comments\":1714560000}",
                  NULL);
    assert_int_equal(p.calls >= 2, 1);
    assert_string_equal(p.cursors[0],
                        "{\"issues\":1714560000,\"comments\":1714560000}");
    char *q0 = es_testhttpd_query(srv, GH_SEARCH, 0);
    char *q1 = es_testhttpd_query(srv, GH_SEARCH, 1);
    assert_string_equal(q0, q1);
    free(q0);
    free(q1);
    want = es_xasprintf("{\"issues\":%lld,",
                        (long long)iso("2024-05-01T12:20:00Z"));
    assert_non_null(strstr(p.cursors[1], want));
    free(want);
    es_polled_release(&p);
    free(inc);
    free(inc2);

    /* Errors: a 401 and a 429 name the URL, never the token. */
    route_status(GH_SEARCH, 401, NULL,
                 "{\"message\": \"Bad credentials\", \"documentation_url\": "
                 "\"https://docs.github.com/rest\", \"status\": \"401\"}");
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.status, ES_EAUTH);
    assert_non_null(strstr(p.errors.ptr, "Bad credentials"));
    assert_no_secret(p.errors.ptr);
    es_polled_release(&p);
    route_status(GH_SEARCH, 429, "Retry-After: 60\r\n",
                 "{\"message\": \"You have exceeded a secondary rate "
                 "limit.\"}");
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.status, ES_ERATELIMIT);
    assert_int_equal(p.retry_after, 60);
    assert_no_secret(p.errors.ptr);
    es_polled_release(&p);

    es_source_free(src);
    free(f_issues);
    free(base);
}

/* ==== Setup ==== */

static int srv_setup(void **state)
{
    (void)state;
    return es_testhttpd_open(&srv, 0) == 0 ? 0 : -1;
}

static int srv_teardown(void **state)
{
    (void)state;
    es_testhttpd_free(srv);
    srv = NULL;
    return 0;
}

#define NET(f) cmocka_unit_test_setup_teardown(f, srv_setup, srv_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reddit_search),
        cmocka_unit_test(test_reddit_markdown),
        cmocka_unit_test(test_reddit_comments),
        cmocka_unit_test(test_reddit_inbox),
        cmocka_unit_test(test_reddit_bad_input),
        cmocka_unit_test(test_hn_search),
        cmocka_unit_test(test_hn_item_tree),
        cmocka_unit_test(test_hn_firebase_items),
        cmocka_unit_test(test_hn_bad_input),
        cmocka_unit_test(test_github_search),
        cmocka_unit_test(test_github_text),
        cmocka_unit_test(test_github_issue_and_comments),
        cmocka_unit_test(test_github_bad_input),
        cmocka_unit_test(test_open),
        NET(test_reddit_poll_search),
        NET(test_reddit_poll_subreddit_oauth),
        NET(test_query_sees_links),
        NET(test_reddit_context_cap),
        NET(test_reddit_poll_search_in_subreddit),
        NET(test_reddit_mentions_fallback),
        NET(test_reddit_password_grant),
        NET(test_reddit_echoed_credentials),
        NET(test_reddit_rate_limits),
        NET(test_hn_poll_walk),
        NET(test_hn_poll_window),
        NET(test_hn_poll_hostile_counts),
        NET(test_hn_poll_alternatives),
        NET(test_hn_poll_context),
        NET(test_hn_poll_errors),
        NET(test_github_poll),
        NET(test_github_rate_limit_and_links),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
