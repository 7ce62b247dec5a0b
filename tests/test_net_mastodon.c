/* test_net_mastodon.c - the "mastodon" kind: fixtures and the poller
 *
 * The first half runs parse_any on hand-written fixtures shaped after the
 * entities at docs.joinmastodon.org (Status, Account, Notification,
 * Context, Search, Conversation) and on broken bodies. The second half
 * opens sources from config text pointed at the loopback server
 * (tests/support/testhttpd.h) and polls them through es_poller_run():
 * paths, query parameters, the Authorization header, min_id moving
 * forward across polls, Link pagination, thread context, search paging
 * to the high-water mark, own posts, rate limits and secrets.
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
#include "earshot/item.h"
#include "earshot/source.h"
#include "pollrun.h"
#include "testhttpd.h"

#define TOKEN "s3cret-T0ken-xyz"

static struct es_testhttpd *srv;
static const struct es_source_ops *ops;

/* ==== Helpers ==== */

static char *fixture(const char *name)
{
    return es_pollrun_fixture(NULL, "mastodon/%s", name);
}

/* parse_any on @buf into @c; returns its code. */
static int parse_buf(const char *buf, struct es_caught *c)
{
    struct es_parse_opts opts = { .source = "fx" };
    es_error_clear();
    return ops->parse_any(buf, strlen(buf), &opts, es_caught_add, c);
}

static int parse_fixture(const char *name, struct es_caught *c)
{
    char *buf = fixture(name);
    int rc = parse_buf(buf, c);
    free(buf);
    return rc;
}

/* ==== parse_any on fixtures ==== */

static void test_single_status(void **state)
{
    (void)state;
    struct es_caught c = { 0 };
    assert_int_equal(parse_fixture("status.json", &c), 0);
    assert_int_equal(c.n, 1);
    const struct es_item *it = c.items[0];
    assert_string_equal(it->platform, "mastodon");
    assert_string_equal(it->source, "fx");
    assert_string_equal(it->external_id, "113502274511352201");
    assert_string_equal(it->url,
                        "https://mastodon.social/@zoe/113502274511352201");
    assert_string_equal(it->author, "zoe");
    assert_string_equal(it->author_name, "Zo\xc3\xab \xc3\x98rsted :verified:");
    assert_int_equal(it->author_followers, 1342);
    assert_null(it->title);
    /* Mentions, hashtags and links flattened; entities and the surrogate
     * pair escape decoded; the invisible parts of a link are kept as text
     * (a browser would render them too, only hidden by CSS). */
    assert_string_equal(
        it->text,
        "Just moved our team to @acme Cloud and it's great \xf0\x9f\x98\x80 "
        "\xf0\x9f\x8e\x89 #AcmeCloud Details: "
        "https://acme.example/blog/launch?utm_source=mastodon&x=1");
    assert_non_null(strstr(it->content, "<span class=\"h-card\""));
    assert_int_equal(it->created_at, 1732009267);
    assert_int_equal(it->updated_at, 1732009500);
    assert_int_equal(it->kind, ES_KIND_POST);
    assert_null(it->in_reply_to);
    assert_null(it->thread_root);
    assert_string_equal(it->lang, "en");
    assert_string_equal(it->reply_ref,
                        "{\"id\":\"113502274511352201\",\"acct\":\"zoe\"}");
    assert_int_equal(it->ncategories, 1);
    assert_string_equal(it->categories[0], "acmecloud");
    es_caught_release(&c);
}

static void test_tag_timeline(void **state)
{
    (void)state;
    struct es_caught c = { 0 };
    assert_int_equal(parse_fixture("tag_timeline.json", &c), 0);
    assert_int_equal(c.n, 3);

    const struct es_item *r = es_caught_find(&c, "113502301234567003");
    assert_non_null(r);
    assert_int_equal(r->kind, ES_KIND_REPLY);
    assert_string_equal(r->in_reply_to, "113502290000000555");
    assert_string_equal(r->author, "kai@fosstodon.org");
    assert_string_equal(r->author_name, "Kai M\xc3\xbcller");
    assert_string_equal(r->lang, "de");
    assert_string_equal(r->text, "@acme Der Login funktioniert schon wieder "
                                 "nicht \xf0\x9f\x98\xa1 #acme");
    assert_string_equal(
        r->reply_ref,
        "{\"id\":\"113502301234567003\",\"acct\":\"kai@fosstodon.org\"}");

    /* Content warning as the subject; url null: the uri instead; no
     * display name, no language. */
    const struct es_item *cw = es_caught_find(&c, "113502299876543002");
    assert_non_null(cw);
    assert_string_equal(cw->title, "CW: outage rant");
    assert_string_equal(
        cw->url,
        "https://hachyderm.io/users/ops_bob/statuses/113502299800000000");
    assert_null(cw->author_name);
    assert_int_equal(cw->author_followers, 0);
    assert_null(cw->lang);
    assert_string_equal(cw->text,
                        "Third \"maintenance window\" this week & nobody told "
                        "us. Status page says green. #acme #SRE :angry_blob:");
    assert_int_equal(cw->created_at, 1732009660);
    assert_int_equal(cw->ncategories, 2);

    const struct es_item *ja = es_caught_find(&c, "113502288000000001");
    assert_non_null(ja);
    assert_string_equal(ja->text, "\xe6\x9d\xb1\xe4\xba\xac\xe3\x81\xa7"
                                  "acme\xe3\x81\x8c\xe8\x90\xbd\xe3\x81\xa1"
                                  "\xe3\x81\x9f\xe3\x81\xbf\xe3\x81\x9f\xe3"
                                  "\x81\x84 \xf0\x9f\x98\xb1 #acme");
    assert_string_equal(ja->author_name, "\xe3\x81\xaf\xe3\x81\xaa "
                                         "\xf0\x9f\x8c\xb8");
    es_caught_release(&c);
}

static void test_notifications(void **state)
{
    (void)state;
    struct es_caught c = { 0 };
    assert_int_equal(parse_fixture("notifications.json", &c), 0);
    /* Two mentions; the mention whose status is null, the favourite and
     * the follow give nothing. */
    assert_int_equal(c.n, 2);
    const struct es_item *m = c.items[0];
    assert_string_equal(m->external_id, "113502350000000010");
    assert_string_equal(m->author, "zsc@social.example");
    assert_string_equal(m->author_name, "Zs\xc3\xb3"
                                        "fia \xf0\x9f\x91\xa9\xe2\x80\x8d"
                                        "\xf0\x9f\x92\xbb");
    assert_int_equal(m->kind, ES_KIND_REPLY);
    assert_string_equal(m->in_reply_to, "113502200000000100");
    assert_string_equal(m->text,
                        "@acme still waiting on ticket #4411, any update? <3");
    assert_string_equal(m->reply_ref, "{\"id\":\"113502350000000010\","
                                      "\"acct\":\"zsc@social.example\"}");
    assert_null(es_caught_find(&c, "113502200000000100")); /* the favourite's */
    const struct es_item *fr = c.items[1];
    assert_string_equal(fr->external_id, "113502290000000001");
    assert_int_equal(fr->kind, ES_KIND_POST);
    assert_string_equal(fr->lang, "fr");
    /* A direct message: a reply to it must stay direct. */
    assert_string_equal(fr->reply_ref,
                        "{\"id\":\"113502290000000001\",\"acct\":"
                        "\"lena\",\"visibility\":\"direct\"}");
    /* The no-break space before '!' collapses like any space. */
    assert_string_equal(fr->text, "@acme merci, \xc3\xa7"
                                  "a marche tr\xc3\xa8s "
                                  "bien maintenant !");
    es_caught_release(&c);
}

/* One notification (GET /api/v1/notifications/:id) is read as the
 * list's entries are: a mention gives its status, never a status made of
 * the notification itself. */
static void test_single_notification(void **state)
{
    (void)state;
    struct es_caught c = { 0 };
    assert_int_equal(parse_fixture("notification.json", &c), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0]->external_id, "113502350000000010");
    assert_true(c.items[0]->flags & ES_ITEM_DIRECT);
    assert_string_equal(c.items[0]->text,
                        "@acme still waiting on ticket #4411, any update? <3");
    es_caught_release(&c);
    assert_int_equal(
        parse_buf("{\"id\":\"9\",\"type\":\"follow\",\"created_at\":"
                  "\"2024-11-19T10:02:11.064Z\",\"account\":{\"id\":\"1\","
                  "\"acct\":\"a\",\"username\":\"a\"}}",
                  &c),
        0);
    assert_int_equal(c.n, 0);
    es_caught_release(&c);
}

static void test_context_search_conversations(void **state)
{
    (void)state;
    struct es_caught c = { 0 };

    assert_int_equal(parse_fixture("context.json", &c), 0);
    assert_int_equal(c.n, 3);
    for (size_t i = 0; i < c.n; i++)
        assert_string_equal(c.items[i]->thread_root, "113502200000000100");
    assert_string_equal(c.items[0]->external_id, "113502200000000100");
    assert_int_equal(c.items[0]->kind, ES_KIND_POST);
    assert_string_equal(c.items[1]->in_reply_to, "113502350000000010");
    assert_string_equal(c.items[2]->text, "@acme thanks \xf0\x9f\x99\x8f");
    es_caught_release(&c);

    assert_int_equal(parse_fixture("search.json", &c), 0);
    assert_int_equal(c.n, 2); /* accounts and hashtags are no mentions */
    assert_string_equal(c.items[0]->external_id, "113502400000000002");
    assert_string_equal(c.items[0]->text,
                        "acme CLI says \"not working\" again. Anyone else? "
                        "https://status.acme.example/");
    assert_string_equal(c.items[1]->author, "pablo@mas.to");
    assert_int_equal(c.items[1]->kind, ES_KIND_REPLY);
    es_caught_release(&c);

    assert_int_equal(parse_fixture("conversations.json", &c), 0);
    assert_int_equal(c.n, 1); /* the second has no last status */
    assert_string_equal(c.items[0]->external_id, "113502410000000004");
    assert_string_equal(c.items[0]->in_reply_to, "113502405000000003");
    assert_non_null(strstr(c.items[0]->text, "INV-2024-0042"));
    es_caught_release(&c);
}

/* A quote of the brand's post (Mastodon 4.5) is a mention too. */
static void test_quote_notification(void **state)
{
    (void)state;
    struct es_caught c = { 0 };
    const char doc[] =
        "[{\"id\":\"9\",\"type\":\"quote\",\"account\":{\"id\":\"3\","
        "\"acct\":\"ann\"},\"status\":{\"id\":\"500\",\"created_at\":"
        "\"2025-10-01T10:00:00.000Z\",\"visibility\":\"public\","
        "\"content\":\"<p class=\\\"quote-inline\\\">RE: <a href=\\\""
        "https://m.example/@acme/1\\\">m.example/@acme/1</a></p>"
        "<p>This is why I left Acme</p>\",\"account\":"
        "{\"id\":\"3\",\"acct\":\"ann\"}}},"
        "{\"id\":\"8\",\"type\":\"favourite\",\"account\":{\"id\":\"4\","
        "\"acct\":\"bo\"},\"status\":{\"id\":\"400\",\"content\":"
        "\"<p>ours</p>\",\"account\":{\"id\":\"1\",\"acct\":\"acme\"}}}]";
    assert_int_equal(parse_buf(doc, &c), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0]->external_id, "500");
    assert_string_equal(c.items[0]->author, "ann");
    assert_string_equal(c.items[0]->text, "This is why I left Acme");
    es_caught_release(&c);
}

static void test_boost_deleted_empty(void **state)
{
    (void)state;
    struct es_caught c = { 0 };

    /* A self-boost and the post itself in one page: one item, the
     * original, under its own id and author. */
    assert_int_equal(parse_fixture("own_statuses.json", &c), 0);
    assert_int_equal(c.n, 2);
    const struct es_item *orig = es_caught_find(&c, "113502450000000005");
    assert_non_null(orig);
    assert_null(es_caught_find(&c, "113502500000000009"));
    assert_string_equal(orig->url,
                        "https://mastodon.social/@acme/113502450000000005");
    assert_string_equal(orig->text,
                        "Incident resolved. Thanks for your patience "
                        "\xf0\x9f\x92\x99");
    assert_non_null(es_caught_find(&c, "113502460000000006"));
    es_caught_release(&c);

    /* A boost alone resolves to the original too. */
    static const char boost[] =
        "{\"id\":\"9\",\"content\":\"\",\"reblog\":{\"id\":\"5\","
        "\"content\":\"<p>hi</p>\",\"account\":{\"acct\":\"orig@x.example\"}},"
        "\"account\":{\"acct\":\"booster\"}}";
    assert_int_equal(parse_buf(boost, &c), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0]->external_id, "5");
    assert_string_equal(c.items[0]->author, "orig@x.example");
    es_caught_release(&c);

    assert_int_equal(parse_fixture("deleted_status.json", &c), 0);
    assert_int_equal(c.n, 0);
    assert_int_equal(parse_fixture("empty.json", &c), 0);
    assert_int_equal(c.n, 0);
    assert_int_equal(parse_fixture("verify_credentials.json", &c), 0);
    assert_int_equal(c.n, 0);
    assert_int_equal(parse_buf("{\"ancestors\":[],\"descendants\":[]}", &c), 0);
    assert_int_equal(parse_buf("{\"accounts\":[],\"statuses\":[],"
                               "\"hashtags\":[]}",
                               &c),
                     0);
    assert_int_equal(c.n, 0);

    /* Numeric ids (other servers) and an acct with a leading @. */
    assert_int_equal(parse_buf("[{\"id\":42,\"in_reply_to_id\":41,\"content\":"
                               "\"x\",\"account\":{\"acct\":\"@bob\"}}]",
                               &c),
                     0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0]->external_id, "42");
    assert_string_equal(c.items[0]->in_reply_to, "41");
    assert_string_equal(c.items[0]->author, "bob");
    assert_int_equal(c.items[0]->created_at, ES_TIME_UNKNOWN);
    assert_int_equal(c.items[0]->author_followers, ES_COUNT_UNKNOWN);
    es_caught_release(&c);
}

/* Asserts that parse_any fails on @body with ES_EPARSE and @path in the
 * message, after emitting @nitems items. */
static void expect_shape(const char *body, const char *path, size_t nitems)
{
    struct es_caught c = { 0 };
    int rc = parse_buf(body, &c);
    if (rc != ES_EPARSE || !strstr(es_error_last(), path))
        fail_msg("body %s: rc %d, message '%s', wanted a path %s", body, rc,
                 es_error_last(), path);
    assert_non_null(strstr(es_error_last(), "mastodon"));
    assert_int_equal(c.n, nitems);
    es_caught_release(&c);
}

static void test_shape_errors(void **state)
{
    (void)state;
    expect_shape("{\"foo\":1}", "at $:", 0);
    expect_shape("42", "at $:", 0);
    expect_shape("\"str\"", "at $:", 0);
    expect_shape("[1,2]", "at $[0]:", 0);
    expect_shape("[{\"foo\":1}]", "at $[0]:", 0);
    expect_shape("[{\"id\":{},\"content\":\"x\",\"account\":{\"acct\":\"a\"}}]",
                 "at $[0].id:", 0);
    expect_shape("[{\"id\":\"1\",\"content\":\"x\",\"account\":{\"acct\":\"a\"}"
                 "},{\"id\":\"2\",\"content\":\"y\"}]",
                 "at $[1].account:", 1);
    expect_shape("[{\"id\":\"1\",\"content\":\"x\",\"account\":{\"acct\":7}}]",
                 "at $[0].account.acct:", 0);
    expect_shape("[{\"id\":\"1\",\"content\":\"x\",\"reblog\":[],"
                 "\"account\":{\"acct\":\"a\"}}]",
                 "at $[0].reblog:", 0);
    expect_shape("[{\"id\":\"1\",\"type\":\"mention\",\"account\":{},"
                 "\"status\":\"gone\"}]",
                 "at $[0].status:", 0);
    expect_shape("[{\"id\":\"1\",\"type\":\"mention\",\"account\":{}},"
                 "{\"id\":\"2\",\"account\":{}}]",
                 "at $[1].type:", 0);
    expect_shape("{\"statuses\":{}}", "at $.statuses:", 0);
    expect_shape("{\"ancestors\":{},\"descendants\":[]}", "at $.ancestors:", 0);
    expect_shape("[{\"id\":\"1\",\"unread\":true,\"accounts\":[],"
                 "\"last_status\":5}]",
                 "at $[0].last_status:", 0);

    struct es_caught c = { 0 };
    assert_int_equal(parse_buf("[{\"id\":\"1\",\"content\":", &c), ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "mastodon: invalid JSON at its "
                                            "end (byte 21): "));
    /* Where it went wrong, and what was there: an XML page, a stray comma. */
    assert_int_equal(parse_buf("<?xml version=\"1.0\"?><rss/>", &c), ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "invalid JSON at byte 0 ('<'): "));
    assert_int_equal(parse_buf("[{\"id\":\"1\",,}]", &c), ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "invalid JSON at byte 11 (','): "));
    assert_int_equal(parse_buf("", &c), ES_EPARSE);
    /* Deep nesting is refused before yajl recurses into it. */
    struct es_buf deep = ES_BUF_INIT;
    for (int i = 0; i < 5000; i++)
        es_buf_addch(&deep, '[');
    assert_int_equal(parse_buf(deep.ptr, &c), ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "nested deeper"));
    es_buf_release(&deep);
    assert_int_equal(c.n, 0);
}

/* Every fixture survives being cut at any byte: an error or items, never
 * a crash (ASan checks the rest). */
static void test_truncated_fixtures(void **state)
{
    (void)state;
    static const char *const names[] = {
        "status.json",       "tag_timeline.json", "notifications.json",
        "context.json",      "search.json",       "conversations.json",
        "own_statuses.json",
    };
    struct es_parse_opts opts = { .source = "fx" };
    for (size_t f = 0; f < sizeof(names) / sizeof(*names); f++) {
        char *buf = fixture(names[f]);
        size_t len = strlen(buf);
        for (size_t cut = 0; cut < len; cut += 7) {
            struct es_caught c = { 0 };
            char *part = es_xstrndup(buf, cut);
            int rc = ops->parse_any(part, cut, &opts, es_caught_add, &c);
            assert_true(rc == 0 || rc == ES_EPARSE);
            es_caught_release(&c);
            free(part);
        }
        free(buf);
    }
}

/* ==== Opening ==== */

static int open_text(const char *text, struct es_source **out)
{
    struct es_config *cfg = NULL;
    int rc = es_config_load_string(&cfg, text, "test.conf");
    if (rc == 0) {
        rc = es_source_open(out, es_config_source_at(cfg, 0));
        es_config_free(cfg);
        return rc;
    }
    return rc;
}

/* Opens a mastodon source on the test server with @extra keys. */
static struct es_source *open_src(const char *extra)
{
    char *base = es_testhttpd_url(srv, "");
    char *text = es_xasprintf("[source \"acme\"]\ntype = mastodon\n"
                              "base_url = %s/\n%s",
                              base, extra);
    struct es_source *src;
    if (open_text(text, &src) != 0)
        fail_msg("open: %s", es_error_last());
    free(text);
    free(base);
    return src;
}

static void expect_open_error(const char *text, const char *want)
{
    struct es_source *src = (struct es_source *)&src;
    int rc = open_text(text, &src);
    if (rc != ES_EINVALID || !strstr(es_error_last(), want))
        fail_msg("wanted '%s', got %d '%s'", want, rc, es_error_last());
    assert_null(src);
    assert_null(strstr(es_error_last(), TOKEN));
}

static void test_open_errors(void **state)
{
    (void)state;
    expect_open_error("[source \"m\"]\ntype = mastodon\ntag = acme\n",
                      "test.conf:1: [source \"m\"] needs base_url");
    expect_open_error("[source \"m\"]\ntype = mastodon\n"
                      "base_url = file:///tmp\ntag = acme\n",
                      "test.conf:3: [source \"m\"] base_url 'file:///tmp' is "
                      "not http or https");
    expect_open_error("[source \"m\"]\ntype = mastodon\n"
                      "base_url = https://m.example\ntoken = " TOKEN "\n",
                      "needs tag, query or mentions = yes");
    expect_open_error("[source \"m\"]\ntype = mastodon\n"
                      "base_url = https://m.example\nown_posts = yes\n",
                      "needs tag, query or mentions = yes");
    expect_open_error("[source \"m\"]\ntype = mastodon\n"
                      "base_url = https://m.example\nmentions = yes\n",
                      "test.conf:4: [source \"m\"] mentions = yes needs a "
                      "user token");
    expect_open_error("[source \"m\"]\ntype = mastodon\n"
                      "base_url = https://m.example\ntag = acme\n"
                      "own_posts = yes\n",
                      "own_posts = yes needs a user token");
    expect_open_error("[source \"m\"]\ntype = mastodon\n"
                      "base_url = https://m.example\nquery = -job\n"
                      "token = " TOKEN "\n",
                      "test.conf:4: [source \"m\"] query '-job' gives "
                      "Mastodon search nothing");
    expect_open_error("[source \"m\"]\ntype = mastodon\n"
                      "base_url = https://m.example\ntag = # ,#\n",
                      "names no hashtag");
    expect_open_error("[source \"m\"]\ntype = mastodon\n"
                      "base_url = https://m.example\ntag = a b c d e f\n",
                      "at most 5 hashtags");
    expect_open_error("[source \"m\"]\ntype = mastodon\n"
                      "base_url = https://m.example\nquery = (a\n",
                      "bad query");

    /* A prefix term alone cannot be searched, but the tag stream can
     * still use the query as a filter. */
    struct es_source *src;
    assert_int_equal(open_text("[source \"m\"]\ntype = mastodon\n"
                               "base_url = https://m.example\ntag = acme\n"
                               "query = refund*\n",
                               &src),
                     0);
    assert_string_equal(src->ops->name, "mastodon");
    assert_int_equal(src->interval, 300);
    es_source_free(src);
}

/* ==== Through the poller ==== */

/* One answer as the callback saw it. */
struct page_rec {
    int status;
    char *error;
    long http_code;
    int64_t retry_after;
    char *cursor; /* NULL: keep the stored one */
    size_t nitems;
};

struct pollrun {
    struct page_rec pages[16];
    size_t npages;
    struct es_caught items;
    char *stored; /* the cursor a store would hold afterwards */
};

static int on_result(struct es_poll_result *res, void *payload)
{
    struct pollrun *r = payload;
    assert_true(r->npages < 16);
    struct page_rec *p = &r->pages[r->npages++];
    p->status = res->status;
    p->error = es_xstrdup(res->error);
    p->http_code = res->http_code;
    p->retry_after = res->retry_after;
    p->cursor = es_xstrdup(res->cursor);
    p->nitems = res->nitems;
    if (res->status < 0)
        assert_non_null(res->error);
    if (res->error)
        assert_null(strstr(res->error, TOKEN));
    for (size_t i = 0; i < res->nitems; i++)
        es_caught_add(res->items[i], &r->items);
    if (res->cursor && (res->status == 0)) {
        free(r->stored);
        r->stored = es_xstrdup(res->cursor);
    }
    return 0;
}

static void run_poll(struct es_source *src, const char *cursor,
                     struct pollrun *r)
{
    memset(r, 0, sizeof(*r));
    r->stored = es_xstrdup(cursor);
    struct es_poller *p = es_poller_new(NULL);
    struct es_poll_job job = { .src = src, .cursor = cursor };
    assert_int_equal(es_poller_run(p, &job, 1, on_result, r), 0);
    es_poller_free(p);
}

static void pollrun_release(struct pollrun *r)
{
    for (size_t i = 0; i < r->npages; i++) {
        free(r->pages[i].error);
        free(r->pages[i].cursor);
    }
    es_caught_release(&r->items);
    free(r->stored);
    memset(r, 0, sizeof(*r));
}

/* Asserts the query string of the @nth request for @path. */
static void expect_query(const char *path, long nth, const char *want)
{
    char *q = es_testhttpd_query(srv, path, nth);
    if (!want) {
        if (q)
            fail_msg("%s #%ld: wanted no query, got '%s'", path, nth, q);
        return;
    }
    if (!q || strcmp(q, want) != 0)
        fail_msg("%s #%ld: wanted '%s', got '%s'", path, nth, want,
                 q ? q : "(none)");
    free(q);
}

/* A small status page body: statuses with ids @ids (newest first). */
static char *page_of(const char *const *ids, size_t n)
{
    struct es_buf b = ES_BUF_INIT;
    es_buf_addch(&b, '[');
    for (size_t i = 0; i < n; i++)
        es_buf_addf(&b,
                    "%s{\"id\":\"%s\",\"created_at\":\"2024-11-19T10:00:00Z\","
                    "\"in_reply_to_id\":null,\"content\":\"<p>acme %s</p>\","
                    "\"reblog\":null,\"account\":{\"id\":\"1\",\"acct\":"
                    "\"u%s\",\"display_name\":\"U\",\"followers_count\":1}}",
                    i ? "," : "", ids[i], ids[i], ids[i]);
    es_buf_addch(&b, ']');
    return es_buf_detach(&b);
}

/* A Link header for a page whose newest id is @newest, oldest @oldest. */
static char *link_for(const char *path, const char *newest, const char *oldest)
{
    char *base = es_testhttpd_url(srv, path);
    char *h = es_xasprintf("Link: <%s?max_id=%s>; rel=\"next\", "
                           "<%s?min_id=%s>; rel=\"prev\"\r\n",
                           base, oldest, base, newest);
    free(base);
    return h;
}

#define TAG_PATH "/api/v1/timelines/tag/acme"

static void test_tag_paging(void **state)
{
    (void)state;
    es_testhttpd_clear_log(srv);
    char *fx = fixture("tag_timeline.json");
    char *l1 = link_for(TAG_PATH, "113502301234567003", "113502288000000001");
    struct es_testhttpd_response first = {
        .content_type = "application/json; charset=utf-8",
        .headers = l1,
        .body = fx,
    };
    es_testhttpd_route(srv, TAG_PATH, &first);
    struct es_source *src = open_src("tag = #acme\ntoken = " TOKEN "\n");
    struct pollrun r;

    /* First poll: the newest page only, no backfill. */
    run_poll(src, NULL, &r);
    assert_int_equal(r.npages, 1);
    assert_int_equal(r.pages[0].status, 0);
    assert_int_equal(r.items.n, 3);
    assert_string_equal(r.stored, "{\"tag\":\"113502301234567003\"}");
    assert_int_equal(es_testhttpd_hits(srv, TAG_PATH), 1);
    expect_query(TAG_PATH, 0, "limit=40");
    char *auth = es_testhttpd_header(srv, TAG_PATH, 0, "Authorization");
    assert_string_equal(auth, "Bearer " TOKEN);
    free(auth);
    char *accept = es_testhttpd_header(srv, TAG_PATH, 0, "Accept");
    assert_string_equal(accept, "application/json");
    free(accept);
    char *cursor = es_xstrdup(r.stored);
    pollrun_release(&r);

    /* Second poll: min_id from the cursor; the server links to newer
     * pages (rel="prev") until an empty one. */
    static const char *const p1[] = { "113502310000000005",
                                      "113502305000000004" };
    static const char *const p2[] = { "113502320000000006" };
    char *b1 = page_of(p1, 2);
    char *b2 = page_of(p2, 1);
    char *h1 = link_for(TAG_PATH, p1[0], p1[1]);
    char *h2 = link_for(TAG_PATH, p2[0], p2[0]);
    struct es_testhttpd_response seq[] = {
        { .content_type = "application/json", .headers = h1, .body = b1 },
        { .content_type = "application/json", .headers = h2, .body = b2 },
        { .content_type = "application/json", .body = "[]" },
    };
    es_testhttpd_route_seq(srv, TAG_PATH, seq, 3);
    es_testhttpd_clear_log(srv);
    run_poll(src, cursor, &r);
    assert_int_equal(r.npages, 3);
    assert_int_equal(r.items.n, 3);
    expect_query(TAG_PATH, 0, "limit=40&min_id=113502301234567003");
    expect_query(TAG_PATH, 1, "limit=40&min_id=113502310000000005");
    expect_query(TAG_PATH, 2, "limit=40&min_id=113502320000000006");
    /* Each page stores its newest id with its items. */
    assert_string_equal(r.pages[0].cursor, "{\"tag\":\"113502310000000005\"}");
    assert_string_equal(r.pages[1].cursor, "{\"tag\":\"113502320000000006\"}");
    assert_string_equal(r.stored, "{\"tag\":\"113502320000000006\"}");
    free(cursor);
    cursor = es_xstrdup(r.stored);
    pollrun_release(&r);

    /* Third poll: nothing new, one request, same position. */
    es_testhttpd_clear_log(srv);
    run_poll(src, cursor, &r);
    assert_int_equal(es_testhttpd_hits(srv, TAG_PATH), 1);
    expect_query(TAG_PATH, 0, "limit=40&min_id=113502320000000006");
    assert_int_equal(r.items.n, 0);
    assert_string_equal(r.stored, cursor);
    pollrun_release(&r);

    /* A page with no Link rel="prev" is the last one, full or not. */
    char *tag_url = es_testhttpd_url(srv, TAG_PATH);
    char *next_only = es_xasprintf("Link: <%s?max_id=113502320000000006>; "
                                   "rel=\"next\"\r\n",
                                   tag_url);
    struct es_testhttpd_response nolink = {
        .content_type = "application/json",
        .headers = next_only,
        .body = b2,
    };
    es_testhttpd_route(srv, TAG_PATH, &nolink);
    es_testhttpd_clear_log(srv);
    run_poll(src, "{\"tag\":\"113502301234567003\"}", &r);
    assert_int_equal(es_testhttpd_hits(srv, TAG_PATH), 1);
    assert_string_equal(r.stored, "{\"tag\":\"113502320000000006\"}");
    pollrun_release(&r);
    free(next_only);
    free(tag_url);

    /* A malformed stored cursor is ignored: a first poll again. */
    es_testhttpd_route(srv, TAG_PATH, &first);
    es_testhttpd_clear_log(srv);
    run_poll(src, "{\"tag\":{}}", &r);
    expect_query(TAG_PATH, 0, "limit=40");
    assert_string_equal(r.stored, "{\"tag\":\"113502301234567003\"}");
    pollrun_release(&r);
    es_testhttpd_clear_log(srv);
    run_poll(src, "not json", &r);
    expect_query(TAG_PATH, 0, "limit=40");
    pollrun_release(&r);

    es_source_free(src);
    free(cursor);
    free(b1);
    free(b2);
    free(h1);
    free(h2);
    free(l1);
    free(fx);
}

static void test_max_pages_and_tags(void **state)
{
    (void)state;
    /* A server that always links to a newer page: max_pages stops it. */
    static const char *const a[] = { "200", "199" };
    static const char *const b[] = { "300", "299" };
    static const char *const c[] = { "400", "399" };
    char *ba = page_of(a, 2);
    char *bb = page_of(b, 2);
    char *bc = page_of(c, 2);
    const char *path = "/api/v1/timelines/tag/caf%C3%A9";
    char *ha = link_for(path, "200", "199");
    char *hb = link_for(path, "300", "299");
    char *hc = link_for(path, "400", "399");
    struct es_testhttpd_response seq[] = {
        { .content_type = "application/json", .headers = ha, .body = ba },
        { .content_type = "application/json", .headers = hb, .body = bb },
        { .content_type = "application/json", .headers = hc, .body = bc },
    };
    es_testhttpd_route_seq(srv, path, seq, 3);
    es_testhttpd_clear_log(srv);
    struct es_source *src =
        open_src("tag = #caf\xc3\xa9, acme #acmecloud\nmax_pages = 2\n");
    struct pollrun pr;
    run_poll(src, "{\"tag\":\"100\"}", &pr);
    assert_int_equal(es_testhttpd_hits(srv, path), 2);
    expect_query(path, 0, "limit=40&any[]=acme&any[]=acmecloud&min_id=100");
    expect_query(path, 1, "limit=40&any[]=acme&any[]=acmecloud&min_id=200");
    /* No token configured: no Authorization header. */
    assert_null(es_testhttpd_header(srv, path, 0, "Authorization"));
    assert_int_equal(pr.items.n, 4);
    assert_string_equal(pr.stored, "{\"tag\":\"300\"}");
    pollrun_release(&pr);
    es_source_free(src);

    /* A server that ignores min_id and repeats its page: the position
     * does not move, so paging stops instead of asking again. */
    es_testhttpd_route(srv, path, &seq[0]);
    es_testhttpd_clear_log(srv);
    src = open_src("tag = caf\xc3\xa9\n");
    run_poll(src, "{\"tag\":\"100\"}", &pr);
    assert_int_equal(es_testhttpd_hits(srv, path), 2);
    expect_query(path, 1, "limit=40&min_id=200");
    /* The same two statuses twice: the store dedupes them. */
    assert_int_equal(pr.items.n, 4);
    assert_string_equal(pr.stored, "{\"tag\":\"200\"}");
    pollrun_release(&pr);
    es_source_free(src);
    free(ba);
    free(bb);
    free(bc);
    free(ha);
    free(hb);
    free(hc);
}

#define NOTIF_PATH "/api/v1/notifications"
#define CTX_PATH   "/api/v1/statuses/113502350000000010/context"

/* A server that refuses the quote notification type (some non-Mastodon
 * servers answer 422) is asked for mentions alone, in the same poll. */
static void test_mentions_without_quote_type(void **state)
{
    (void)state;
    struct es_testhttpd_response seq[] = {
        { .status = 422,
          .content_type = "application/json",
          .body = "{\"error\":\"Invalid parameter(s): types\"}" },
        { .content_type = "application/json", .body = "[]" },
    };
    es_testhttpd_route_seq(srv, NOTIF_PATH, seq, 2);
    es_testhttpd_clear_log(srv);
    struct es_source *src = open_src("mentions = yes\ntoken = " TOKEN "\n");
    struct pollrun r;
    run_poll(src, "{\"mentions\":\"5\"}", &r);
    assert_int_equal(es_testhttpd_hits(srv, NOTIF_PATH), 2);
    expect_query(NOTIF_PATH, 0,
                 "types[]=mention&types[]=quote&limit=40&min_id=5");
    expect_query(NOTIF_PATH, 1, "types[]=mention&limit=40&min_id=5");
    for (size_t i = 0; i < r.npages; i++)
        assert_true(r.pages[i].status >= 0);
    pollrun_release(&r);
    es_source_free(src);
}

static void test_mentions_and_context(void **state)
{
    (void)state;
    char *fx = fixture("notifications.json");
    char *ctx = fixture("context.json");
    char *h = link_for(NOTIF_PATH, "34975861", "34975399");
    struct es_testhttpd_response seq[] = {
        { .content_type = "application/json", .headers = h, .body = fx },
        { .content_type = "application/json", .body = "[]" },
    };
    struct es_testhttpd_response cr = {
        .content_type = "application/json",
        .body = ctx,
    };
    es_testhttpd_route_seq(srv, NOTIF_PATH, seq, 2);
    es_testhttpd_route(srv, CTX_PATH, &cr);
    es_testhttpd_clear_log(srv);
    struct es_source *src = open_src("mentions = yes\ntoken = " TOKEN "\n"
                                     "user_agent = acme-listener/1.0\n");
    struct pollrun r;

    run_poll(src, "{\"mentions\":\"34975000\"}", &r);
    /* Notifications, the empty page after them, then the thread of the
     * reply whose parent was not in the page. */
    assert_int_equal(r.npages, 3);
    expect_query(NOTIF_PATH, 0,
                 "types[]=mention&types[]=quote&limit=40&min_id=34975000");
    expect_query(NOTIF_PATH, 1,
                 "types[]=mention&types[]=quote&limit=40&min_id=34975861");
    char *ua = es_testhttpd_header(srv, NOTIF_PATH, 0, "User-Agent");
    assert_string_equal(ua, "acme-listener/1.0");
    free(ua);
    char *auth = es_testhttpd_header(srv, CTX_PATH, 0, "Authorization");
    assert_string_equal(auth, "Bearer " TOKEN);
    free(auth);
    assert_int_equal(es_testhttpd_hits(srv, CTX_PATH), 1);
    /* The pending context is stored with the mentions that asked for it
     * and dropped with the context's items. */
    assert_string_equal(r.pages[0].cursor,
                        "{\"mentions\":\"34975861\",\"context\":["
                        "\"113502350000000010\"]}");
    assert_int_equal(r.pages[0].nitems, 2);
    assert_int_equal(r.pages[2].nitems, 3);
    assert_string_equal(r.pages[2].cursor, "{\"mentions\":\"34975861\"}");
    assert_string_equal(r.stored, "{\"mentions\":\"34975861\"}");
    const struct es_item *root = es_caught_find(&r.items, "113502200000000100");
    assert_non_null(root);
    assert_string_equal(root->thread_root, "113502200000000100");
    const struct es_item *reply =
        es_caught_find(&r.items, "113502360000000020");
    assert_non_null(reply);
    assert_string_equal(reply->thread_root, "113502200000000100");
    assert_string_equal(reply->author, "acme");
    pollrun_release(&r);

    /* The same thread again later: already fetched in this process. */
    es_testhttpd_route_seq(srv, NOTIF_PATH, seq, 2);
    es_testhttpd_clear_log(srv);
    run_poll(src, "{\"mentions\":\"34975000\"}", &r);
    assert_int_equal(es_testhttpd_hits(srv, CTX_PATH), 0);
    pollrun_release(&r);
    es_source_free(src);

    /* A pending context left in a stored cursor is fetched; a 404 (the
     * status is gone) is skipped without failing the poll. */
    src = open_src("mentions = yes\ntoken = " TOKEN "\n");
    struct es_testhttpd_response gone = {
        .status = 404,
        .content_type = "application/json",
        .body = "{\"error\":\"Record not found\"}",
    };
    es_testhttpd_route(srv, "/api/v1/statuses/777/context", &gone);
    es_testhttpd_route(srv, NOTIF_PATH, &seq[1]);
    es_testhttpd_clear_log(srv);
    run_poll(
        src,
        "{\"mentions\":\"34975861\",\"context\":[\"777\",\"113502350000000010\"]}",
        &r);
    assert_int_equal(es_testhttpd_hits(srv, "/api/v1/statuses/777/context"), 1);
    assert_int_equal(es_testhttpd_hits(srv, CTX_PATH), 1);
    assert_string_equal(r.stored, "{\"mentions\":\"34975861\"}");
    assert_int_equal(r.items.n, 3);
    for (size_t i = 0; i < r.npages; i++)
        assert_int_equal(r.pages[i].status, 0);
    pollrun_release(&r);

    /* context = no: no thread fetches, nothing pending. */
    es_source_free(src);
    src = open_src("mentions = yes\ncontext = no\ntoken = " TOKEN "\n");
    es_testhttpd_route_seq(srv, NOTIF_PATH, seq, 2);
    es_testhttpd_clear_log(srv);
    run_poll(src, "{\"mentions\":\"1\"}", &r);
    assert_int_equal(es_testhttpd_hits(srv, CTX_PATH), 0);
    assert_string_equal(r.stored, "{\"mentions\":\"34975861\"}");
    pollrun_release(&r);
    es_source_free(src);
    free(fx);
    free(ctx);
    free(h);
}

/* A search page: statuses @ids (newest first). */
static char *search_of(const char *const *ids, size_t n)
{
    char *arr = page_of(ids, n);
    char *body = es_xasprintf("{\"accounts\":[],\"statuses\":%s,"
                              "\"hashtags\":[]}",
                              arr);
    free(arr);
    return body;
}

#define SEARCH_PATH "/api/v2/search"

static void test_search(void **state)
{
    (void)state;
    char *fx = fixture("search.json");
    struct es_testhttpd_response first = {
        .content_type = "application/json",
        .body = fx,
    };
    es_testhttpd_route(srv, SEARCH_PATH, &first);
    es_testhttpd_clear_log(srv);
    struct es_source *src = open_src("query = acme \"not working\" -job\n"
                                     "token = " TOKEN "\n");
    struct pollrun r;

    run_poll(src, NULL, &r);
    expect_query(SEARCH_PATH, 0,
                 "q=acme%20%22not%20working%22&type=statuses&limit=40");
    assert_int_equal(r.items.n, 2);
    assert_string_equal(r.stored, "{\"search\":\"113502400000000002\"}");
    pollrun_release(&r);

    /* Newest first: page back (offset, with a token) until the stored
     * mark; the new mark is stored only with the last page. */
    static const char *const p1[] = { "500", "499" };
    static const char *const p2[] = { "498", "400" };
    char *b1 = search_of(p1, 2);
    char *b2 = search_of(p2, 2);
    struct es_testhttpd_response seq[] = {
        { .content_type = "application/json", .body = b1 },
        { .content_type = "application/json", .body = b2 },
    };
    es_testhttpd_route_seq(srv, SEARCH_PATH, seq, 2);
    es_testhttpd_clear_log(srv);
    run_poll(src, "{\"search\":\"113502400000000002\"}", &r);
    /* "500" sorts below the snowflake numerically: everything is at or
     * below the mark on the first page, so one page only. */
    assert_int_equal(es_testhttpd_hits(srv, SEARCH_PATH), 1);
    pollrun_release(&r);

    es_testhttpd_route_seq(srv, SEARCH_PATH, seq, 2);
    es_testhttpd_clear_log(srv);
    run_poll(src, "{\"search\":\"450\"}", &r);
    assert_int_equal(es_testhttpd_hits(srv, SEARCH_PATH), 2);
    expect_query(SEARCH_PATH, 1,
                 "q=acme%20%22not%20working%22&type=statuses&limit=40&"
                 "offset=2");
    assert_null(r.pages[0].cursor);
    assert_string_equal(r.pages[1].cursor, "{\"search\":\"500\"}");
    pollrun_release(&r);

    /* Without a token: max_id paging, and no Authorization header. */
    es_source_free(src);
    src = open_src("query = acme\n");
    static const char *const q1[] = { "900", "850" };
    static const char *const q2[] = { "800", "700" };
    char *c1 = search_of(q1, 2);
    char *c2 = search_of(q2, 2);
    struct es_testhttpd_response seq2[] = {
        { .content_type = "application/json", .body = c1 },
        { .content_type = "application/json", .body = c2 },
    };
    es_testhttpd_route_seq(srv, SEARCH_PATH, seq2, 2);
    es_testhttpd_clear_log(srv);
    run_poll(src, "{\"search\":\"750\"}", &r);
    assert_int_equal(es_testhttpd_hits(srv, SEARCH_PATH), 2);
    expect_query(SEARCH_PATH, 0, "q=acme&type=statuses&limit=40");
    expect_query(SEARCH_PATH, 1, "q=acme&type=statuses&limit=40&max_id=850");
    assert_null(es_testhttpd_header(srv, SEARCH_PATH, 0, "Authorization"));
    assert_string_equal(r.stored, "{\"search\":\"900\"}");
    pollrun_release(&r);

    /* An OR with nothing in common: one search per alternative, one mark
     * for all of them. */
    es_source_free(src);
    src = open_src("query = acme OR acmecloud\n");
    es_testhttpd_route(srv, SEARCH_PATH, &seq2[0]);
    es_testhttpd_clear_log(srv);
    run_poll(src, NULL, &r);
    assert_int_equal(es_testhttpd_hits(srv, SEARCH_PATH), 2);
    expect_query(SEARCH_PATH, 0, "q=acme&type=statuses&limit=40");
    expect_query(SEARCH_PATH, 1, "q=acmecloud&type=statuses&limit=40");
    assert_string_equal(r.stored, "{\"search\":\"900\"}");
    pollrun_release(&r);

    es_source_free(src);
    free(fx);
    free(b1);
    free(b2);
    free(c1);
    free(c2);
}

static void test_own_posts(void **state)
{
    (void)state;
    char *vc = fixture("verify_credentials.json");
    char *own = fixture("own_statuses.json");
    const char *own_path = "/api/v1/accounts/109000000000000001/statuses";
    struct es_testhttpd_response v = { .content_type = "application/json",
                                       .body = vc };
    struct es_testhttpd_response o = { .content_type = "application/json",
                                       .body = own };
    es_testhttpd_route(srv, "/api/v1/accounts/verify_credentials", &v);
    es_testhttpd_route(srv, own_path, &o);
    struct es_testhttpd_response empty = {
        .content_type = "application/json",
        .body = "[]",
    };
    es_testhttpd_route(srv, TAG_PATH, &empty);
    es_testhttpd_clear_log(srv);
    struct es_source *src = open_src("tag = acme\nown_posts = yes\n"
                                     "token = " TOKEN "\n");
    struct pollrun r;
    run_poll(src, "{\"tag\":\"5\"}", &r);
    assert_int_equal(es_testhttpd_hits(srv, TAG_PATH), 1);
    assert_int_equal(
        es_testhttpd_hits(srv, "/api/v1/accounts/verify_credentials"), 1);
    assert_int_equal(es_testhttpd_hits(srv, own_path), 1);
    expect_query(own_path, 0, "exclude_reblogs=true&limit=40");
    /* The boost and its original: one item. */
    assert_int_equal(r.items.n, 2);
    assert_non_null(es_caught_find(&r.items, "113502450000000005"));
    assert_string_equal(r.stored,
                        "{\"tag\":\"5\",\"own\":\"113502500000000009\"}");
    char *cursor = es_xstrdup(r.stored);
    pollrun_release(&r);

    /* The account id is kept: no second verify_credentials. */
    es_testhttpd_route(srv, own_path, &empty);
    es_testhttpd_clear_log(srv);
    run_poll(src, cursor, &r);
    assert_int_equal(
        es_testhttpd_hits(srv, "/api/v1/accounts/verify_credentials"), 0);
    expect_query(own_path, 0,
                 "exclude_reblogs=true&limit=40&min_id=113502500000000009");
    pollrun_release(&r);
    es_source_free(src);
    free(cursor);
    free(vc);
    free(own);
}

static void test_rate_limits(void **state)
{
    (void)state;
    static const char *const ids[] = { "300", "299" };
    char *body = page_of(ids, 2);
    char reset[64];
    time_t when = time(NULL) + 120;
    struct tm tm;
    gmtime_r(&when, &tm);
    strftime(reset, sizeof(reset), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    char *link = link_for(TAG_PATH, "300", "299");
    char *headers = es_xasprintf("%sX-RateLimit-Limit: 300\r\n"
                                 "X-RateLimit-Remaining: 0\r\n"
                                 "X-RateLimit-Reset: %s\r\n",
                                 link, reset);
    struct es_testhttpd_response spent = {
        .content_type = "application/json",
        .headers = headers,
        .body = body,
    };
    es_testhttpd_route(srv, TAG_PATH, &spent);
    es_testhttpd_clear_log(srv);
    struct es_source *src = open_src("tag = acme\ntoken = " TOKEN "\n");
    struct pollrun r;

    /* The page links to a newer one, but the window is spent: stop, keep
     * the page, and wait for the reset. */
    run_poll(src, "{\"tag\":\"1\"}", &r);
    assert_int_equal(es_testhttpd_hits(srv, TAG_PATH), 1);
    assert_int_equal(r.npages, 1);
    assert_int_equal(r.pages[0].status, 0);
    assert_int_equal(r.items.n, 2);
    assert_true(r.pages[0].retry_after >= 115 && r.pages[0].retry_after <= 120);
    assert_string_equal(r.stored, "{\"tag\":\"300\"}");
    pollrun_release(&r);

    /* 429 with Retry-After: an error that waits, cursor untouched. */
    struct es_testhttpd_response slow = {
        .status = 429,
        .content_type = "application/json",
        .headers = "Retry-After: 30\r\n",
        .body = "{\"error\":\"Too many requests\"}",
    };
    es_testhttpd_route(srv, TAG_PATH, &slow);
    run_poll(src, "{\"tag\":\"300\"}", &r);
    assert_int_equal(r.npages, 1);
    assert_int_equal(r.pages[0].status, ES_ERATELIMIT);
    assert_int_equal(r.pages[0].http_code, 429);
    assert_int_equal(r.pages[0].retry_after, 30);
    assert_null(r.pages[0].cursor);
    assert_non_null(strstr(r.pages[0].error, "Too many requests"));
    assert_string_equal(r.stored, "{\"tag\":\"300\"}");
    pollrun_release(&r);
    es_source_free(src);
    free(body);
    free(link);
    free(headers);
}

static void test_secrets_and_failures(void **state)
{
    (void)state;
    struct es_source *src = open_src("mentions = yes\ntag = acme\n"
                                     "token = " TOKEN "\n");
    struct pollrun r;

    /* Every failure message names the source's URL, never the token. */
    struct es_testhttpd_response denied = {
        .status = 401,
        .content_type = "application/json",
        .body = "{\"error\":\"The access token is invalid\"}",
    };
    es_testhttpd_route(srv, NOTIF_PATH, &denied);
    run_poll(src, NULL, &r);
    assert_int_equal(r.npages, 1);
    assert_int_equal(r.pages[0].status, ES_EAUTH);
    assert_non_null(strstr(r.pages[0].error, "HTTP 401"));
    assert_non_null(strstr(r.pages[0].error, "/api/v1/notifications"));
    assert_non_null(strstr(r.pages[0].error, "The access token is invalid"));
    pollrun_release(&r);

    struct es_testhttpd_response boom = { .status = 500, .body = "oops" };
    es_testhttpd_route(srv, NOTIF_PATH, &boom);
    run_poll(src, NULL, &r);
    assert_int_equal(r.pages[0].status, ES_ENETWORK);
    pollrun_release(&r);

    /* A 200 of the wrong shape names the source and the path. */
    struct es_testhttpd_response odd = {
        .content_type = "application/json",
        .body = "{\"error\":\"nope\"}",
    };
    es_testhttpd_route(srv, NOTIF_PATH, &odd);
    run_poll(src, NULL, &r);
    assert_int_equal(r.pages[0].status, ES_EPARSE);
    assert_non_null(strstr(r.pages[0].error, "mastodon 'acme'"));
    assert_non_null(strstr(r.pages[0].error, "at $:"));
    pollrun_release(&r);

    struct es_testhttpd_response junk = {
        .content_type = "text/html",
        .body = "<html>maintenance</html>",
    };
    es_testhttpd_route(srv, NOTIF_PATH, &junk);
    run_poll(src, NULL, &r);
    assert_int_equal(r.pages[0].status, ES_EPARSE);
    assert_non_null(strstr(r.pages[0].error, "mastodon 'acme': invalid JSON"));
    pollrun_release(&r);

    /* One bad notification among good ones: the rest are kept, the
     * cursor moves, the complaint is reported. */
    struct es_testhttpd_response part = {
        .content_type = "application/json",
        .body = "[{\"id\":\"12\",\"type\":\"mention\",\"account\":{},"
                "\"status\":{\"id\":\"88\",\"content\":\"<p>acme</p>\","
                "\"account\":{\"acct\":\"a\"}}},"
                "{\"id\":\"11\",\"type\":\"mention\",\"account\":{},"
                "\"status\":{\"id\":{}}}]",
    };
    es_testhttpd_route(srv, NOTIF_PATH, &part);
    es_testhttpd_route(srv, TAG_PATH, &odd);
    run_poll(src, NULL, &r);
    assert_int_equal(r.pages[0].status, 0);
    assert_int_equal(r.pages[0].nitems, 1);
    assert_non_null(strstr(r.pages[0].error, "$[1].status.id"));
    assert_string_equal(r.pages[0].cursor, "{\"mentions\":\"12\"}");
    /* The tag stream comes next and fails on its own body. */
    assert_int_equal(r.pages[1].status, ES_EPARSE);
    pollrun_release(&r);
    es_source_free(src);
}

/* ==== Main ==== */

static int setup(void **state)
{
    (void)state;
    ops = es_source_find("mastodon");
    if (!ops || !ops->parse_any)
        return -1;
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
        cmocka_unit_test(test_single_status),
        cmocka_unit_test(test_tag_timeline),
        cmocka_unit_test(test_notifications),
        cmocka_unit_test(test_single_notification),
        cmocka_unit_test(test_context_search_conversations),
        cmocka_unit_test(test_quote_notification),
        cmocka_unit_test(test_boost_deleted_empty),
        cmocka_unit_test(test_shape_errors),
        cmocka_unit_test(test_truncated_fixtures),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_tag_paging),
        cmocka_unit_test(test_max_pages_and_tags),
        cmocka_unit_test(test_mentions_without_quote_type),
        cmocka_unit_test(test_mentions_and_context),
        cmocka_unit_test(test_search),
        cmocka_unit_test(test_own_posts),
        cmocka_unit_test(test_rate_limits),
        cmocka_unit_test(test_secrets_and_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
