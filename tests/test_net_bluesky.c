/* test_net_bluesky.c - the "bluesky" source kind
 *
 * The first half runs parse_any on the fixtures in tests/fixtures/bluesky/
 * (searchPosts, listNotifications, getPostThread, getAuthorFeed, a post
 * view, a session, an XRPC error), written from the atproto lexicons:
 * facets with byte offsets after emoji and CJK text, surrogate-pair
 * escapes, nulls, deleted and blocked posts, quotes and image embeds. The
 * second half runs the kind through the poller against the loopback
 * server: the session (createSession, Bearer, refreshSession after an
 * ExpiredToken answer, createSession again when the refresh token is
 * refused), cursors and high-water marks across polls, thread context,
 * rate limits, and that no secret ever reaches a message.
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

#define PASSWORD "hunter2-abcd-efgh-ijkl"
#define NOTIF    "/xrpc/app.bsky.notification.listNotifications"
#define SEARCH   "/xrpc/app.bsky.feed.searchPosts"
#define THREAD   "/xrpc/app.bsky.feed.getPostThread"
#define FEED     "/xrpc/app.bsky.feed.getAuthorFeed"
#define CREATE   "/xrpc/com.atproto.server.createSession"
#define REFRESH  "/xrpc/com.atproto.server.refreshSession"

#define ALICE_A                                                                \
    "at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3kyqdwqm6ew2k"
#define CID_A "bafyreig2fjxi3rptqdgylg7e5hmjl6mcke7rn2b6cugzlqq3i4zu6rq52q"
#define P_URI                                                                  \
    "at://did:plc:3jpt2mvvsumj2r7eqk4gzzjz/app.bsky.feed.post/3kypzw5yrgs2a"
#define R_URI                                                                  \
    "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3kypzrw5mnk2d"
#define CID_R "bafyreiexaghzgnk3v7hcwy2xvbjqvhiywxgo6nsn7ygbq6ynwddhb3u2vm"
#define OWN1                                                                   \
    "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3kyq2hbbbxs2k"

static struct es_testhttpd *srv;

/* ==== Helpers ==== */

static char *fixture(const char *name)
{
    return es_pollrun_fixture(NULL, "bluesky/%s", name);
}

static char *fixture_path(const char *name)
{
    return es_pollrun_fixture_path("bluesky/%s", name);
}

static const struct es_source_ops *ops(void)
{
    const struct es_source_ops *o = es_source_find("bluesky");
    assert_non_null(o);
    assert_non_null(o->parse_any);
    return o;
}

static int parse_text(const char *text, struct es_caught *c)
{
    struct es_parse_opts opts = { .source = "fx" };
    memset(c, 0, sizeof(*c));
    return ops()->parse_any(text, strlen(text), &opts, es_caught_add, c);
}

static int parse_fixture(const char *name, struct es_caught *c)
{
    char *buf = fixture(name);
    int rc = parse_text(buf, c);
    free(buf);
    return rc;
}

/* A post's categories are bounded: a body of 160,000 distinct tags once
 * took 39 s of comparisons. */
static void test_tags_bounded(void **state)
{
    (void)state;
    struct es_caught c;
    struct es_buf b = ES_BUF_INIT;
    es_buf_adds(&b,
                "{\"posts\":[{\"uri\":\"at://did:plc:b/app.bsky.feed.post/"
                "3k\",\"cid\":\"c\",\"author\":{\"did\":\"did:plc:b\","
                "\"handle\":\"bob.example.com\"},\"record\":{\"$type\":"
                "\"app.bsky.feed.post\",\"createdAt\":\"2024-05-01T11:58:30."
                "000Z\",\"text\":\"hi\",\"tags\":[");
    for (int i = 0; i < 5000; i++)
        es_buf_addf(&b, "%s\"t%d\"", i ? "," : "", i);
    es_buf_adds(&b, "]},\"indexedAt\":\"2024-05-01T11:58:30.912Z\"}]}");
    assert_int_equal(parse_text(b.ptr, &c), 0);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.items[0]->ncategories, 64);
    assert_string_equal(c.items[0]->categories[0], "t0");
    es_caught_release(&c);
    es_buf_release(&b);
}

/* An empty displayName is no name, as null is (and as other kinds say). */
static void test_empty_display_name(void **state)
{
    (void)state;
    struct es_caught c;
    assert_int_equal(
        parse_text("{\"posts\":[{\"uri\":\"at://did:plc:b/app.bsky.feed.post/"
                   "3k\",\"cid\":\"c\",\"author\":{\"did\":\"did:plc:b\","
                   "\"handle\":\"bob.example.com\",\"displayName\":\"\"},"
                   "\"record\":{\"$type\":\"app.bsky.feed.post\",\"createdAt\":"
                   "\"2024-05-01T11:58:30.000Z\",\"text\":\"hi\"},"
                   "\"indexedAt\":\"2024-05-01T11:58:30.912Z\"}]}",
                   &c),
        0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0]->author, "bob.example.com");
    assert_null(c.items[0]->author_name);
    es_caught_release(&c);
}

static int has_category(const struct es_item *it, const char *cat)
{
    for (size_t i = 0; i < it->ncategories; i++)
        if (strcmp(it->categories[i], cat) == 0)
            return 1;
    return 0;
}

static int64_t iso(const char *s)
{
    int64_t t;
    assert_int_equal(es_time_parse(s, &t), 0);
    return t;
}

/* ==== parse_any: the fixtures ==== */

static void test_search_posts(void **state)
{
    (void)state;
    struct es_caught c;
    assert_int_equal(parse_fixture("search_posts.json", &c), 0);
    assert_int_equal(c.n, 4);

    /* Emoji (sent as a surrogate-pair escape) and CJK before every facet:
     * the byte offsets still land on the link, the tag and the mention. */
    const struct es_item *a = c.items[0];
    assert_string_equal(a->platform, "bluesky");
    assert_string_equal(a->source, "fx");
    assert_string_equal(a->external_id, ALICE_A);
    assert_string_equal(
        a->url,
        "https://bsky.app/profile/alice.bsky.social/post/3kyqdwqm6ew2k");
    assert_string_equal(a->author, "alice.bsky.social");
    assert_string_equal(a->author_name,
                        "Alice \xf0\x9f\x8c\xb8 \xe7\x94\xb0\xe4\xb8\xad");
    assert_string_equal(
        a->text,
        "\xf0\x9f\x98\x80 Acme\xe3\x81\xae\xe6\x9d\xb1\xe4\xba\xac\xe5\xba\x97"
        "\xe3\x82\xaa\xe3\x83\xbc\xe3\x83\x97\xe3\x83\xb3\xef\xbc\x81\xf0\x9f"
        "\x8e\x89 Details: "
        "https://www.acme.com/spring-sale-2024?utm_source=bsky #AcmeDeals cc "
        "@support.acme.com");
    assert_int_equal(a->created_at, iso("2024-05-01T12:00:00Z"));
    assert_int_equal(a->kind, ES_KIND_POST);
    assert_null(a->in_reply_to);
    assert_null(a->thread_root);
    assert_string_equal(a->lang, "ja");
    assert_int_equal(a->author_followers, ES_COUNT_UNKNOWN);
    assert_string_equal(a->reply_ref,
                        "{\"uri\":\"" ALICE_A "\",\"cid\":\"" CID_A
                        "\",\"root_uri\":\"" ALICE_A "\",\"root_cid\":\"" CID_A
                        "\"}");
    assert_true(has_category(a, "AcmeDeals"));
    assert_true(has_category(a, "@support.acme.com"));
    assert_null(a->content);

    /* A reply: parent and root from record.reply; displayName null. */
    const struct es_item *b = c.items[1];
    assert_string_equal(b->author, "bob.example.com");
    assert_null(b->author_name);
    assert_int_equal(b->kind, ES_KIND_REPLY);
    assert_string_equal(b->in_reply_to, P_URI);
    assert_string_equal(b->thread_root, R_URI);
    assert_null(b->lang);
    assert_string_equal(b->text, "@acme.com my order never arrived "
                                 "\xf0\x9f\x98\xa4 3 weeks now");
    assert_non_null(strstr(b->reply_ref, "\"root_uri\":\"" R_URI
                                         "\",\"root_cid\":\"" CID_R "\"}"));
    assert_int_equal(b->created_at, iso("2024-05-01T11:58:30Z"));

    /* A quote (record embed) is a post; handle.invalid gives way to the
     * DID in author and url. */
    const struct es_item *q = c.items[2];
    assert_int_equal(q->kind, ES_KIND_POST);
    assert_string_equal(q->author, "did:plc:vwzwgnygau7ed7b7wt5ux7y2");
    assert_string_equal(q->author_name, "Carol");
    assert_string_equal(q->url, "https://bsky.app/profile/"
                                "did:plc:vwzwgnygau7ed7b7wt5ux7y2/post/"
                                "3kyqdtgfm2s2y");
    assert_string_equal(q->text,
                        "This is why I love Acme \xe2\x9d\xa4\xef\xb8\x8f");

    /* Custom link text is kept, the URI follows it. */
    const struct es_item *d = c.items[3];
    assert_string_equal(d->text, "Same here! Custom link: see the FAQ "
                                 "(https://acme.com/faq)");
    assert_string_equal(d->in_reply_to, ALICE_A);
    assert_string_equal(d->thread_root, ALICE_A);
    es_caught_release(&c);

    assert_int_equal(parse_fixture("search_empty.json", &c), 0);
    assert_int_equal(c.n, 0);
    es_caught_release(&c);
}

static void test_notifications(void **state)
{
    (void)state;
    struct es_caught c;
    assert_int_equal(parse_fixture("notifications.json", &c), 0);
    /* like, follow, repost and starterpack-joined are not mentions. */
    assert_int_equal(c.n, 3);

    assert_string_equal(c.items[0]->author, "carol.bsky.social");
    assert_int_equal(c.items[0]->kind, ES_KIND_POST); /* a quote */
    assert_string_equal(c.items[0]->text, "lol look at this \xf0\x9f\x98\x82 "
                                          "https://bsky.app/profile/acme.com");

    const struct es_item *r = c.items[1];
    assert_int_equal(r->kind, ES_KIND_REPLY);
    assert_string_equal(r->in_reply_to, OWN1);
    assert_string_equal(r->thread_root, OWN1);
    assert_string_equal(r->author_name, "Bob \xf0\x9f\x91\xbe");
    assert_string_equal(r->lang, "ja");
    assert_string_equal(r->url, "https://bsky.app/profile/bob.example.com/"
                                "post/3kyqe2xkptc2l");

    const struct es_item *m = c.items[2];
    assert_int_equal(m->kind, ES_KIND_POST);
    assert_string_equal(m->lang, "es");
    assert_string_equal(m->text, "Hey @acme.com \xe2\x80\x94 \xc2\xbfpor "
                                 "qu\xc3\xa9 no funciona la app? "
                                 "\xf0\x9f\x98\xad");
    assert_true(has_category(m, "@acme.com"));
    assert_int_equal(m->created_at, iso("2024-05-01T12:02:00Z"));
    es_caught_release(&c);

    assert_int_equal(parse_fixture("notifications_empty.json", &c), 0);
    assert_int_equal(c.n, 0);
    es_caught_release(&c);
}

static void test_thread(void **state)
{
    (void)state;
    struct es_caught c;
    assert_int_equal(parse_fixture("thread.json", &c), 0);
    /* The ancestor, the post, then its replies depth-first; the deleted
     * and the blocked reply are skipped. */
    assert_int_equal(c.n, 5);
    assert_string_equal(c.items[0]->external_id, R_URI);
    assert_int_equal(c.items[0]->kind, ES_KIND_POST);
    assert_string_equal(c.items[0]->author_name, "Acme \xe2\x84\xa2");
    assert_string_equal(c.items[1]->external_id, P_URI);
    assert_string_equal(c.items[1]->in_reply_to, R_URI);
    assert_string_equal(c.items[2]->author, "acme.com");
    assert_string_equal(c.items[2]->in_reply_to, P_URI);
    assert_string_equal(c.items[2]->thread_root, R_URI);
    assert_string_equal(c.items[3]->author, "carol.bsky.social");
    assert_string_equal(c.items[4]->text, "+1");
    /* langs: [] gives no language. */
    assert_null(c.items[4]->lang);
    for (size_t i = 0; i < c.n; i++)
        assert_null(strstr(c.items[i]->external_id, "deleted"));
    es_caught_release(&c);

    assert_int_equal(parse_fixture("thread_deleted_parent.json", &c), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0]->in_reply_to, P_URI);
    es_caught_release(&c);

    assert_int_equal(parse_fixture("thread_notfound.json", &c), 0);
    assert_int_equal(c.n, 0);
    es_caught_release(&c);
}

static void test_author_feed(void **state)
{
    (void)state;
    struct es_caught c;
    assert_int_equal(parse_fixture("author_feed.json", &c), 0);
    /* Entry 0: the reply's root and parent, then the reply; entry 1 is a
     * repost (skipped); entry 2 a post, the root printed already (one
     * object per post); entry 3 a reply whose parent is gone (the reply
     * alone). */
    assert_int_equal(c.n, 4);
    assert_string_equal(c.items[0]->external_id, R_URI);
    assert_string_equal(c.items[1]->external_id, P_URI);
    assert_string_equal(c.items[2]->author, "acme.com");
    assert_string_equal(c.items[2]->in_reply_to, P_URI);
    assert_string_equal(c.items[3]->text, "replying into the void");
    assert_int_equal(c.items[3]->kind, ES_KIND_REPLY);
    for (size_t i = 0; i < c.n; i++)
        assert_string_not_equal(c.items[i]->author, "carol.bsky.social");
    es_caught_release(&c);
}

static void test_post_view_and_session(void **state)
{
    (void)state;
    struct es_caught c;
    assert_int_equal(parse_fixture("post_view.json", &c), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0]->text, "Service is back \xe2\x9c\x85 "
                                          "https://acme.com/blog/status");
    assert_int_equal(c.items[0]->created_at, iso("2024-05-01T13:00:00Z"));
    es_caught_release(&c);

    /* A session holds no posts: nothing, and no error (and no token in
     * any message). */
    es_error_clear();
    assert_int_equal(parse_fixture("session.json", &c), 0);
    assert_int_equal(c.n, 0);
    assert_null(strstr(es_error_last(), "FIXTURE"));
    es_caught_release(&c);

    assert_int_equal(parse_fixture("error_expired.json", &c), ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "bluesky"));
    assert_non_null(strstr(es_error_last(), "ExpiredToken"));
    es_caught_release(&c);
}

/* ==== parse_any: bad input ==== */

static void assert_shape_error(const char *text, const char *path)
{
    struct es_caught c;
    assert_int_equal(parse_text(text, &c), ES_EPARSE);
    const char *msg = es_error_last();
    if (!strstr(msg, "bluesky") || !strstr(msg, path))
        fail_msg("'%s' gave '%s', expected 'bluesky' and '%s'", text, msg,
                 path);
    es_caught_release(&c);
}

static void test_wrong_shapes(void **state)
{
    (void)state;
    assert_shape_error("[]", "$");
    assert_shape_error("{\"foo\": 1}", "$");
    assert_shape_error("{\"posts\": {}}", "$.posts");
    assert_shape_error("{\"notifications\": \"x\"}", "$.notifications");
    assert_shape_error("{\"thread\": []}", "$.thread");
    assert_shape_error("{\"feed\": 7}", "$.feed");
    assert_shape_error("\"just a string\"", "$");
    assert_shape_error("", "bluesky");
    assert_shape_error("{\"posts\": [", "bluesky");
}

static void test_wrong_types(void **state)
{
    (void)state;
    struct es_caught c;
    /* Broken entries are skipped and named; good ones still come. */
    assert_int_equal(
        parse_text("{\"posts\": [{\"uri\": {}, \"cid\": 1, \"author\": \"x\","
                   " \"record\": []}, 5, null,"
                   " {\"uri\": \"at://did:plc:a/app.bsky.feed.post/3k\","
                   " \"cid\": [], \"author\": {\"did\": \"did:plc:a\","
                   " \"handle\": 42}, \"record\": {\"text\": \"ok\","
                   " \"createdAt\": {}, \"langs\": [3], \"facets\": 7,"
                   " \"reply\": \"no\"}, \"indexedAt\":"
                   " \"2024-05-01T00:00:00Z\"},"
                   " {\"uri\": \"at://x/app.bsky.feed.post/1\", \"author\":"
                   " {\"handle\": \"h\"}, \"record\": {\"text\": 5}}]}",
                   &c),
        ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "$.posts[0]"));
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0]->text, "ok");
    assert_string_equal(c.items[0]->author, "did:plc:a");
    assert_int_equal(c.items[0]->created_at, iso("2024-05-01T00:00:00Z"));
    assert_null(c.items[0]->lang);
    assert_int_equal(c.items[0]->kind, ES_KIND_POST);
    /* A missing cid is null in the reply reference, still valid JSON. */
    assert_non_null(strstr(c.items[0]->reply_ref, "\"cid\":null"));
    es_caught_release(&c);

    assert_int_equal(
        parse_text("{\"notifications\": [1, \"x\", {\"reason\": \"mention\","
                   " \"uri\": \"at://a/app.bsky.feed.post/1\"}]}",
                   &c),
        ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "$.notifications[0]"));
    assert_int_equal(c.n, 0);
    es_caught_release(&c);

    /* Thread nodes of the wrong type are skipped, not followed. */
    assert_int_equal(parse_text("{\"thread\": {\"post\": 5, \"parent\": [1],"
                                " \"replies\": {\"a\": 1}}}",
                                &c),
                     ES_EPARSE);
    assert_int_equal(c.n, 0);
    es_caught_release(&c);
}

static void test_deep_and_truncated(void **state)
{
    (void)state;
    struct es_caught c;
    struct es_buf b = ES_BUF_INIT;
    es_buf_adds(&b, "{\"thread\":");
    for (int i = 0; i < 400; i++)
        es_buf_adds(&b, "{\"parent\":");
    es_buf_adds(&b, "null");
    for (int i = 0; i < 401; i++)
        es_buf_addch(&b, '}');
    assert_int_equal(parse_text(b.ptr, &c), ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "bluesky"));
    es_caught_release(&c);
    es_buf_release(&b);

    /* A long chain of parents within the nesting cap is walked without
     * recursion. */
    es_buf_adds(&b, "{\"thread\":");
    for (int i = 0; i < 100; i++)
        es_buf_adds(&b, "{\"notFound\":true,\"parent\":");
    es_buf_adds(&b, "null");
    for (int i = 0; i < 101; i++)
        es_buf_addch(&b, '}');
    assert_int_equal(parse_text(b.ptr, &c), 0);
    assert_int_equal(c.n, 0);
    es_caught_release(&c);
    es_buf_release(&b);

    /* Every prefix of every fixture: an error or items, never a crash. */
    static const char *const names[] = {
        "search_posts.json", "notifications.json", "thread.json",
        "author_feed.json",  "post_view.json",     "session.json",
    };
    struct es_parse_opts opts = { .source = "fx" };
    for (size_t f = 0; f < sizeof(names) / sizeof(*names); f++) {
        char *buf = fixture(names[f]);
        size_t len = strlen(buf);
        for (size_t cut = 0; cut < len; cut += 5) {
            struct es_caught cc = { 0 };
            char *part = es_xstrndup(buf, cut);
            int rc = ops()->parse_any(part, cut, &opts, es_caught_add, &cc);
            assert_true(rc == 0 || rc == ES_EPARSE);
            es_caught_release(&cc);
            free(part);
        }
        free(buf);
    }
}

/* Builds a one-post searchPosts body with @facets (JSON) over @text
 * (JSON string contents). */
static char *facet_post(const char *text, const char *facets)
{
    return es_xasprintf(
        "{\"posts\":[{\"uri\":\"at://did:plc:a/app.bsky.feed.post/3k\","
        "\"cid\":\"bafy\",\"author\":{\"did\":\"did:plc:a\",\"handle\":"
        "\"a.test\"},\"record\":{\"$type\":\"app.bsky.feed.post\",\"text\":"
        "\"%s\",\"createdAt\":\"2024-05-01T00:00:00Z\",\"facets\":%s},"
        "\"indexedAt\":\"2024-05-01T00:00:01Z\"}]}",
        text, facets);
}

static void expect_text(const char *text, const char *facets, const char *want)
{
    struct es_caught c;
    char *body = facet_post(text, facets);
    assert_int_equal(parse_text(body, &c), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0]->text, want);
    es_caught_release(&c);
    free(body);
}

#define LINK(s, e, u)                                                          \
    "{\"index\":{\"byteStart\":" #s ",\"byteEnd\":" #e "},\"features\":[{"     \
    "\"$type\":\"app.bsky.richtext.facet#link\",\"uri\":\"" u "\"}]}"

static void test_facets(void **state)
{
    (void)state;
    /* "\u00e9t\u00e9 \u6771\u4eac \uD83D\uDE00 ex.com/a..." : 2+1+2 bytes,
     * space, 6 bytes, space, 4 bytes, space: the link starts at byte 18. */
    const char *t =
        "\\u00e9t\\u00e9 \\u6771\\u4eac \\uD83D\\uDE00 ex.com/a... !";
    const char *head = "\xc3\xa9t\xc3\xa9 \xe6\x9d\xb1\xe4\xba\xac "
                       "\xf0\x9f\x98\x80 ";
    char want[128];

    snprintf(want, sizeof(want), "%shttps://ex.com/abc !", head);
    expect_text(t, "[" LINK(18, 29, "https://ex.com/abc") "]", want);
    /* Counting characters instead of bytes would land mid-character:
     * such a facet is ignored and the text left as written. */
    snprintf(want, sizeof(want), "%sex.com/a... !", head);
    expect_text(t, "[" LINK(1, 5, "https://x.test") "]", want);
    expect_text(t, "[" LINK(14, 20, "https://x.test") "]", want);
    expect_text(t, "[" LINK(7, 18, "https://x.test") "]", want);
    /* Out of range, reversed, negative, not numbers. */
    expect_text(t, "[" LINK(18, 99, "https://x.test") "]", want);
    expect_text(t, "[" LINK(20, 18, "https://x.test") "]", want);
    expect_text(t, "[" LINK(-4, 2, "https://x.test") "]", want);
    expect_text(t,
                "[{\"index\":{\"byteStart\":\"a\",\"byteEnd\":{}},"
                "\"features\":[]}, 5, null, {\"index\": 3}]",
                want);
    /* Overlapping links: the first wins; facets out of order are sorted. */
    snprintf(want, sizeof(want), "%shttps://ex.com/abc !", head);
    expect_text(t,
                "[" LINK(20, 29, "https://x.test") "," LINK(
                    18, 29, "https://ex.com/abc") "]",
                want);
    expect_text(
        "a.test b.test",
        "[" LINK(7, 13, "https://b.test/") "," LINK(0, 6, "http://a.test") "]",
        "http://a.test https://b.test/");
    /* Line breaks count in the byte offsets and are white space in the
     * text, collapsed as in every mention's text. */
    expect_text("down\\n\\nsee a.test  now",
                "[" LINK(10, 16, "https://a.test/x") "]",
                "down see https://a.test/x now");
    /* The unicode ellipsis the app also uses for shortened links. */
    expect_text("see www.ex.com/lo\\u2026",
                "[" LINK(4, 20, "https://www.ex.com/long/path") "]",
                "see https://www.ex.com/long/path");
}

static void test_emit_stops(void **state)
{
    (void)state;
    struct es_caught c = { .stop_after = 2 };
    char *buf = fixture("search_posts.json");
    struct es_parse_opts opts = { .source = "fx" };
    assert_int_equal(
        ops()->parse_any(buf, strlen(buf), &opts, es_caught_add, &c), 5);
    assert_int_equal(c.n, 2);
    es_caught_release(&c);
    free(buf);
}

/* ==== Opening ==== */

/* A [source] section built from "key = value" lines, the way the config
 * loader hands it over (line 1 is the section header). Built by hand so
 * that these tests do not depend on the loader's key table. */
struct section {
    struct es_config_source cfg;
    struct es_config_kv kv[16];
    char *text;
};

static void section_parse(struct section *sec, const char *text)
{
    memset(sec, 0, sizeof(*sec));
    sec->text = es_xstrdup(text);
    sec->cfg.name = "bs";
    sec->cfg.enabled = 1;
    sec->cfg.file = "test.conf";
    sec->cfg.line = 1;
    sec->cfg.kv = sec->kv;
    int line = 1;
    for (char *p = sec->text, *nl; p && *p; p = nl) {
        nl = strchr(p, '\n');
        if (nl)
            *nl++ = '\0';
        line++;
        char *eq = strstr(p, " = ");
        if (!eq)
            continue;
        *eq = '\0';
        assert_true(sec->cfg.nkv < 16);
        struct es_config_kv *kv = &sec->kv[sec->cfg.nkv++];
        kv->key = p;
        kv->value = eq + 3;
        kv->line = line;
        if (strcmp(p, "type") == 0)
            sec->cfg.type = kv->value;
    }
}

static int open_text(const char *text, struct es_source **out)
{
    struct section sec;
    section_parse(&sec, text);
    int rc = es_source_open(out, &sec.cfg);
    free(sec.text);
    return rc;
}

/* Opens a bluesky source on the test server with @extra keys. */
static struct es_source *open_src(const char *extra)
{
    char *base = es_testhttpd_url(srv, "");
    char *text =
        es_xasprintf("type = bluesky\nbase_url = %s/\n%s", base, extra);
    struct es_source *src;
    if (open_text(text, &src) != 0)
        fail_msg("open: %s", es_error_last());
    free(text);
    free(base);
    return src;
}

static void expect_open_error(const char *body, const char *what)
{
    char *text = es_xasprintf("type = bluesky\n%s", body);
    struct es_source *src;
    assert_int_equal(open_text(text, &src), ES_EINVALID);
    assert_null(src);
    const char *msg = es_error_last();
    if (!strstr(msg, what) || !strstr(msg, "test.conf:1:"))
        fail_msg("got '%s', expected '%s'", msg, what);
    assert_null(strstr(msg, PASSWORD));
    free(text);
}

static void test_open_errors(void **state)
{
    (void)state;
    expect_open_error("mentions = yes\n", "needs handle and app_password");
    expect_open_error("mentions = yes\nhandle = acme.com\n",
                      "needs handle and app_password");
    expect_open_error("app_password = " PASSWORD "\nquery = acme\n",
                      "no handle");
    expect_open_error("own_posts = yes\n", "needs a handle");
    expect_open_error("", "needs a query");
    /* Only negations: nothing a search could ask for. */
    expect_open_error("query = -job\n", "needs a query");
    expect_open_error("query = (a OR b) (c OR d) (e OR f)\n", "narrower");

    struct es_source *src;
    assert_int_equal(open_text("type = bluesky\nquery = acme\n", &src), 0);
    assert_int_equal(src->interval, 300);
    assert_true(src->ops->flags & ES_SOURCE_HAS_SEARCH);
    es_source_free(src);
    /* The app password may come from token_file like any secret. */
    assert_int_equal(open_text("type = bluesky\nhandle = @acme.com\n"
                               "mentions = yes\ntoken = " PASSWORD "\n",
                               &src),
                     0);
    es_source_free(src);
}

static void test_open_from_config(void **state)
{
    (void)state;
    struct es_config *cfg = NULL;
    struct es_source *src = NULL;
    assert_int_equal(es_config_load_string(&cfg,
                                           "[source \"sky\"]\n"
                                           "type = bluesky\n"
                                           "query = acme OR acmecloud\n"
                                           "context = no\nmax_pages = 2\n",
                                           "real.conf"),
                     0);
    assert_int_equal(es_source_open(&src, es_config_source_at(cfg, 0)), 0);
    assert_string_equal(src->name, "sky");
    assert_string_equal(src->ops->name, "bluesky");
    es_source_free(src);
    es_config_free(cfg);
}

/* ==== Through the poller ==== */

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

/* A notification of @reason for post @rkey at @when. */
static void add_notif(struct es_buf *b, const char *reason, const char *rkey,
                      const char *when)
{
    if (b->ptr[b->len - 1] == '}')
        es_buf_addch(b, ',');
    es_buf_addf(
        b,
        "{\"uri\":\"at://did:plc:bob/app.bsky.feed.post/%s\","
        "\"cid\":\"bafy%s\",\"author\":{\"did\":\"did:plc:bob\",\"handle\":"
        "\"bob.test\",\"displayName\":\"Bob\"},\"reason\":\"%s\","
        "\"record\":{\"$type\":\"app.bsky.feed.post\",\"text\":\"hi @acme "
        "%s\",\"createdAt\":\"%s\"},\"isRead\":false,\"indexedAt\":\"%s\","
        "\"labels\":[]}",
        rkey, rkey, reason, rkey, when, when);
}

/* A listNotifications body: @n (reason, rkey, time) triples. */
static char *notif_page(const char *cursor, const char *const *e, size_t n)
{
    struct es_buf b = ES_BUF_INIT;
    es_buf_adds(&b, "{\"notifications\":[");
    for (size_t i = 0; i + 2 < n * 3; i += 3)
        add_notif(&b, e[i], e[i + 1], e[i + 2]);
    es_buf_adds(&b, "]");
    if (cursor)
        es_buf_addf(&b, ",\"cursor\":\"%s\"", cursor);
    es_buf_adds(&b, ",\"seenAt\":\"2024-05-01T00:00:00.000Z\"}");
    return es_buf_detach(&b);
}

/* A searchPosts body: @n (rkey, createdAt) pairs, posts by carol, each
 * indexed half a second after it was written. A rkey starting with 'r'
 * is a reply to at://did:plc:acme/app.bsky.feed.post/<rkey>parent. */
static char *search_page(const char *cursor, const char *const *e, size_t n)
{
    struct es_buf b = ES_BUF_INIT;
    es_buf_adds(&b, "{\"posts\":[");
    for (size_t i = 0; i < n; i++) {
        const char *rkey = e[2 * i], *when = e[2 * i + 1];
        if (i)
            es_buf_addch(&b, ',');
        es_buf_addf(&b,
                    "{\"uri\":\"at://did:plc:carol/app.bsky.feed.post/%s\","
                    "\"cid\":\"bafy%s\",\"author\":{\"did\":\"did:plc:carol\","
                    "\"handle\":\"carol.test\"},\"record\":{\"$type\":"
                    "\"app.bsky.feed.post\",\"text\":\"acme %s\","
                    "\"createdAt\":\"%s\"",
                    rkey, rkey, rkey, when);
        if (rkey[0] == 'r')
            es_buf_addf(&b,
                        ",\"reply\":{\"parent\":{\"uri\":\"at://did:plc:acme/"
                        "app.bsky.feed.post/%sparent\",\"cid\":\"bafyp\"},"
                        "\"root\":{\"uri\":\"at://did:plc:acme/"
                        "app.bsky.feed.post/%sparent\",\"cid\":\"bafyp\"}}",
                        rkey, rkey);
        es_buf_addf(&b, "},\"indexedAt\":\"%.19s.500Z\"}", when);
    }
    es_buf_adds(&b, "]");
    if (cursor)
        es_buf_addf(&b, ",\"cursor\":\"%s\"", cursor);
    es_buf_adds(&b, ",\"hitsTotal\":42}");
    return es_buf_detach(&b);
}

static char *session_body(const char *access, const char *refresh)
{
    return es_xasprintf("{\"did\":\"did:plc:acme\",\"handle\":\"acme.com\","
                        "\"accessJwt\":\"%s\",\"refreshJwt\":\"%s\","
                        "\"active\":true}",
                        access, refresh);
}

static void route_json(const char *path, const char *body)
{
    struct es_testhttpd_response r = {
        .content_type = "application/json; charset=utf-8",
        .body = body,
    };
    es_testhttpd_route(srv, path, &r);
}

static void test_poll_session_and_cursors(void **state)
{
    (void)state;
    char *sess = session_body("ACCESS-1", "REFRESH-1");
    route_json(CREATE, sess);

    const char *n1[] = { "mention", "m4", "2024-05-01T12:05:00.000Z",
                         "like",    "l1", "2024-05-01T12:04:30.000Z",
                         "reply",   "m3", "2024-05-01T12:04:00.000Z" };
    const char *n2[] = { "quote", "m2", "2024-05-01T12:00:00.000Z" };
    const char *n3[] = { "mention", "m5", "2024-05-01T12:10:00.000Z",
                         "mention", "m4", "2024-05-01T12:05:00.000Z" };
    char *np[3] = { notif_page("n-c1", n1, 3), notif_page(NULL, n2, 1),
                    notif_page("n-c3", n3, 2) };
    const char *s1[] = { "s4", "2024-05-01T12:06:00.000Z", "s3",
                         "2024-05-01T12:03:00.000Z" };
    const char *s2[] = { "s2", "2024-05-01T11:50:00.000Z" };
    const char *s3[] = { "s6", "2024-05-01T12:20:00.000Z", "s5",
                         "2024-05-01T12:10:00.000Z" };
    const char *s4[] = { "s4", "2024-05-01T12:06:00.000Z", "s1",
                         "2024-05-01T11:59:00.000Z" };
    char *sp[4] = { search_page("s-c1", s1, 2), search_page(NULL, s2, 1),
                    search_page("s-c3", s3, 2), search_page("s-c4", s4, 2) };
    struct es_testhttpd_response nseq[3], sseq[4];
    memset(nseq, 0, sizeof(nseq));
    memset(sseq, 0, sizeof(sseq));
    for (int i = 0; i < 3; i++)
        nseq[i].body = np[i];
    for (int i = 0; i < 4; i++)
        sseq[i].body = sp[i];
    es_testhttpd_route_seq(srv, NOTIF, nseq, 3);
    es_testhttpd_route_seq(srv, SEARCH, sseq, 4);

    struct es_source *src =
        open_src("handle = acme.com\napp_password = " PASSWORD "\n"
                 "mentions = yes\nquery = acme -job\ncontext = no\n");
    struct es_polled p;
    es_polled_run(&p, src, NULL, NULL);

    /* The session: one POST with the handle and the app password. */
    assert_int_equal(es_testhttpd_hits(srv, CREATE), 1);
    char *m = es_testhttpd_method(srv, CREATE, 0);
    assert_string_equal(m, "POST");
    free(m);
    char *body = es_testhttpd_body(srv, CREATE, 0);
    assert_string_equal(
        body, "{\"identifier\":\"acme.com\",\"password\":\"" PASSWORD "\"}");
    free(body);
    assert_header(CREATE, 0, "Content-Type", "application/json");
    assert_header(CREATE, 0, "Authorization", NULL);

    /* Mentions: two pages, the second from the first's cursor, under
     * the access token; the like is not a mention. */
    assert_int_equal(es_testhttpd_hits(srv, NOTIF), 2);
    assert_header(NOTIF, 0, "Authorization", "Bearer ACCESS-1");
    assert_header(NOTIF, 1, "Authorization", "Bearer ACCESS-1");
    assert_param(NOTIF, 0, "cursor", NULL);
    assert_param(NOTIF, 0, "reasons", "mention");
    assert_param(NOTIF, 1, "cursor", "n-c1");
    /* Search: the query as plain keywords (negations cannot be pushed),
     * newest first, paged by cursor under the session. */
    assert_int_equal(es_testhttpd_hits(srv, SEARCH), 2);
    assert_header(SEARCH, 0, "Authorization", "Bearer ACCESS-1");
    assert_param(SEARCH, 0, "q", "acme");
    assert_param(SEARCH, 0, "sort", "latest");
    assert_param(SEARCH, 0, "since", NULL);
    assert_param(SEARCH, 0, "cursor", NULL);
    assert_param(SEARCH, 1, "cursor", "s-c1");

    assert_int_equal(p.failures, 0);
    assert_int_equal(p.items.n, 6);
    assert_int_equal(
        es_caught_count(&p.items, "at://did:plc:bob/app.bsky.feed.post/l1"), 0);
    /* Each stream's new mark goes with its last page only. */
    assert_string_equal(p.cursor, "{\"mentions\":\"2024-05-01T12:05:00Z\","
                                  "\"search\":{\"acme\":"
                                  "\"2024-05-01T12:06:00Z\"}}");
    char *stored = es_xstrdup(p.cursor);
    es_polled_release(&p);

    /* Second poll: the session is reused, both streams start from the
     * top and stop at their marks: no gap, and the new marks. */
    es_testhttpd_clear_log(srv);
    es_polled_run(&p, src, stored, NULL);
    assert_int_equal(es_testhttpd_hits(srv, CREATE), 0);
    assert_int_equal(es_testhttpd_hits(srv, NOTIF), 1);
    assert_param(NOTIF, 0, "cursor", NULL);
    /* Search looks LOOKBACK (5 min) behind its mark, and pages on until
     * it reaches that point. */
    assert_int_equal(es_testhttpd_hits(srv, SEARCH), 2);
    assert_param(SEARCH, 0, "since", "2024-05-01T12:01:00Z");
    assert_param(SEARCH, 0, "cursor", NULL);
    assert_param(SEARCH, 1, "cursor", "s-c3");
    assert_int_equal(p.failures, 0);
    assert_int_equal(
        es_caught_count(&p.items, "at://did:plc:bob/app.bsky.feed.post/m5"), 1);
    assert_int_equal(
        es_caught_count(&p.items, "at://did:plc:carol/app.bsky.feed.post/s6"),
        1);
    assert_int_equal(
        es_caught_count(&p.items, "at://did:plc:carol/app.bsky.feed.post/s1"),
        1);
    assert_string_equal(p.cursor, "{\"mentions\":\"2024-05-01T12:10:00Z\","
                                  "\"search\":{\"acme\":"
                                  "\"2024-05-01T12:20:00Z\"}}");
    es_polled_release(&p);

    /* A cursor that is not ours is ignored: a fresh start. */
    es_testhttpd_clear_log(srv);
    es_polled_run(&p, src, "{not json", NULL);
    assert_param(SEARCH, 0, "since", NULL);
    es_polled_release(&p);
    es_testhttpd_clear_log(srv);
    es_polled_run(&p, src, "{\"search\":{\"acme\":5},\"mentions\":[]}", NULL);
    assert_param(SEARCH, 0, "since", NULL);
    es_polled_release(&p);

    es_source_free(src);
    free(stored);
    free(sess);
    for (int i = 0; i < 3; i++)
        free(np[i]);
    for (int i = 0; i < 4; i++)
        free(sp[i]);
}

static void test_poll_expired_token(void **state)
{
    (void)state;
    char *s1 = session_body("ACCESS-1", "REFRESH-1");
    char *s2 = session_body("ACCESS-2", "REFRESH-2");
    char *s3 = session_body("ACCESS-3", "REFRESH-3");
    const char *e1[] = { "mention", "m1", "2024-05-01T12:00:00.000Z" };
    char *page = notif_page(NULL, e1, 1);
    const char *expired = "{\"error\":\"ExpiredToken\","
                          "\"message\":\"Token has expired\"}";

    struct es_testhttpd_response creates[2] = {
        { .body = s1, .content_type = "application/json" },
        { .body = s3, .content_type = "application/json" },
    };
    es_testhttpd_route_seq(srv, CREATE, creates, 2);
    struct es_testhttpd_response refreshes[2] = {
        { .body = s2, .content_type = "application/json" },
        /* The refresh token is refused in the second poll. */
        { .status = 400,
          .body = "{\"error\":\"ExpiredToken\",\"message\":\"Token has been "
                  "revoked\"}",
          .content_type = "application/json" },
    };
    es_testhttpd_route_seq(srv, REFRESH, refreshes, 2);
    struct es_testhttpd_response notifs[4] = {
        { .status = 400, .body = expired, .content_type = "application/json" },
        { .body = page, .content_type = "application/json" },
        { .status = 401, .body = expired, .content_type = "application/json" },
        { .body = page, .content_type = "application/json" },
    };
    es_testhttpd_route_seq(srv, NOTIF, notifs, 4);

    struct es_source *src = open_src("handle = acme.com\n"
                                     "app_password = " PASSWORD "\n"
                                     "mentions = yes\n");
    struct es_polled p;
    es_polled_run(&p, src, NULL, NULL);
    /* create, list (expired), refresh, list again: one report per
     * answer that was not retried. */
    assert_int_equal(es_testhttpd_hits(srv, CREATE), 1);
    assert_int_equal(es_testhttpd_hits(srv, REFRESH), 1);
    assert_int_equal(es_testhttpd_hits(srv, NOTIF), 2);
    char *m = es_testhttpd_method(srv, REFRESH, 0);
    assert_string_equal(m, "POST");
    free(m);
    assert_header(REFRESH, 0, "Authorization", "Bearer REFRESH-1");
    assert_header(NOTIF, 0, "Authorization", "Bearer ACCESS-1");
    assert_header(NOTIF, 1, "Authorization", "Bearer ACCESS-2");
    assert_int_equal(p.failures, 0);
    assert_int_equal(p.items.n, 1);
    assert_int_equal(p.errors.len, 0);
    es_polled_release(&p);

    /* Next poll: expired again (as a 401), the refresh is refused, and a
     * new session is created from the app password. */
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(es_testhttpd_hits(srv, REFRESH), 2);
    assert_header(REFRESH, 1, "Authorization", "Bearer REFRESH-2");
    assert_int_equal(es_testhttpd_hits(srv, CREATE), 2);
    assert_int_equal(es_testhttpd_hits(srv, NOTIF), 4);
    assert_header(NOTIF, 3, "Authorization", "Bearer ACCESS-3");
    assert_int_equal(p.failures, 0);
    assert_int_equal(p.items.n, 1);
    es_polled_release(&p);

    es_source_free(src);
    free(s1);
    free(s2);
    free(s3);
    free(page);
}

/* Asserts that none of the secrets is in @text. */
static void assert_no_secret(const char *text)
{
    static const char *const secrets[] = { PASSWORD, "ACCESS-", "REFRESH-",
                                           "hunter2" };
    for (size_t i = 0; i < sizeof(secrets) / sizeof(*secrets); i++)
        if (strstr(text, secrets[i]))
            fail_msg("secret '%s' in '%s'", secrets[i], text);
}

static void test_poll_auth_failures(void **state)
{
    (void)state;
    struct es_testhttpd_response bad = {
        .status = 401,
        .content_type = "application/json",
        .body = "{\"error\":\"AuthenticationRequired\",\"message\":\"Invalid "
                "identifier or password\"}",
    };
    es_testhttpd_route(srv, CREATE, &bad);
    struct es_source *src = open_src("handle = acme.com\n"
                                     "app_password = " PASSWORD "\n"
                                     "mentions = yes\nquery = acme\n");
    struct es_polled p;
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.calls, 1);
    assert_int_equal(p.failures, 1);
    assert_int_equal(p.http_code, 401);
    assert_non_null(strstr(p.errors.ptr, "Invalid identifier or password"));
    assert_no_secret(p.errors.ptr);
    assert_int_equal(es_testhttpd_hits(srv, NOTIF), 0);
    es_polled_release(&p);

    /* Sessions whose tokens are refused at once, again and again: the
     * poll gives up after a few, naming the source, not the tokens. */
    char *sess = session_body("ACCESS-9", "REFRESH-9");
    route_json(CREATE, sess);
    route_json(REFRESH, sess);
    struct es_testhttpd_response expired = {
        .status = 400,
        .content_type = "application/json",
        .body = "{\"error\":\"ExpiredToken\",\"message\":\"Token has "
                "expired\"}",
    };
    es_testhttpd_route(srv, NOTIF, &expired);
    es_testhttpd_clear_log(srv);
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.failures, 1);
    assert_int_equal(p.status, ES_EAUTH);
    assert_non_null(strstr(p.errors.ptr, "bluesky 'bs'"));
    assert_no_secret(p.errors.ptr);
    assert_true(es_testhttpd_hits(srv, NOTIF) <= 3);
    es_polled_release(&p);

    /* Any other error answer fails the poll with the server's words. */
    struct es_testhttpd_response other = {
        .status = 400,
        .content_type = "application/json",
        .body = "{\"error\":\"InvalidRequest\",\"message\":\"Error: limit "
                "must be <= 100\"}",
    };
    es_testhttpd_route(srv, NOTIF, &other);
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.failures, 1);
    assert_non_null(strstr(p.errors.ptr, "limit must be"));
    assert_no_secret(p.errors.ptr);
    es_polled_release(&p);

    es_source_free(src);
    free(sess);
}

static void test_poll_public_search(void **state)
{
    (void)state;
    const char *s1[] = { "s4", "2024-05-01T12:06:00.000Z", "s3",
                         "2024-05-01T12:03:00.000Z" };
    const char *s2[] = { "s2", "2024-05-01T11:50:00.000Z" };
    char *pages[2] = { search_page("s-c1", s1, 2), search_page(NULL, s2, 1) };
    struct es_testhttpd_response seq[2] = {
        { .body = pages[0], .content_type = "application/json" },
        { .body = pages[1], .content_type = "application/json" },
    };
    es_testhttpd_route_seq(srv, SEARCH, seq, 2);

    struct es_source *src = open_src("query = acme \"customer service\" -job\n"
                                     "user_agent = earshot-test/1.0\n");
    struct es_polled p;
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(es_testhttpd_hits(srv, SEARCH), 2);
    assert_header(SEARCH, 0, "Authorization", NULL);
    assert_header(SEARCH, 0, "User-Agent", "earshot-test/1.0");
    assert_param(SEARCH, 0, "q", "acme \"customer service\"");
    assert_param(SEARCH, 0, "sort", "latest");
    /* Anonymous clients may not send cursors: the next page is asked for
     * by time, up to one second past the oldest post seen. */
    assert_param(SEARCH, 1, "cursor", NULL);
    assert_param(SEARCH, 1, "until", "2024-05-01T12:03:01Z");
    assert_int_equal(p.failures, 0);
    assert_string_equal(p.cursor, "{\"search\":{\"acme \\\"customer "
                                  "service\\\"\":\"2024-05-01T12:06:00Z\"}}");
    char *stored = es_xstrdup(p.cursor);
    es_polled_release(&p);

    es_testhttpd_clear_log(srv);
    es_polled_run(&p, src, stored, NULL);
    assert_param(SEARCH, 0, "since", "2024-05-01T12:01:00Z");
    es_polled_release(&p);

    es_source_free(src);
    free(stored);
    free(pages[0]);
    free(pages[1]);
}

static void test_poll_alternatives(void **state)
{
    (void)state;
    const char *s1[] = { "s1", "2024-05-01T12:06:00.000Z" };
    char *body = search_page("more", s1, 1);
    route_json(SEARCH, body);
    /* No term is common to both branches: one plain search each, each
     * with its own mark. */
    struct es_source *src =
        open_src("query = acme OR \"acme cloud\"\nmax_pages = 1\n");
    struct es_polled p;
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(es_testhttpd_hits(srv, SEARCH), 2);
    assert_param(SEARCH, 0, "q", "acme");
    assert_param(SEARCH, 1, "q", "\"acme cloud\"");
    assert_int_equal(p.failures, 0);
    assert_string_equal(p.cursor,
                        "{\"search\":{\"acme\":\"2024-05-01T12:06:00Z\","
                        "\"\\\"acme cloud\\\"\":\"2024-05-01T12:06:00Z\"}}");
    char *stored = es_xstrdup(p.cursor);
    es_polled_release(&p);
    es_testhttpd_clear_log(srv);
    es_polled_run(&p, src, stored, NULL);
    assert_param(SEARCH, 0, "since", "2024-05-01T12:01:00Z");
    assert_param(SEARCH, 1, "since", "2024-05-01T12:01:00Z");
    es_polled_release(&p);
    es_source_free(src);
    free(stored);
    free(body);
}

static void test_poll_rate_limit(void **state)
{
    (void)state;
    const char *s1[] = { "s4", "2024-05-01T12:06:00.000Z" };
    char *page = search_page("s-c1", s1, 1);
    char headers[160];
    long long reset = (long long)time(NULL) + 120;
    snprintf(headers, sizeof(headers),
             "RateLimit-Limit: 3000\r\nRateLimit-Remaining: 0\r\n"
             "RateLimit-Reset: %lld\r\nRateLimit-Policy: 3000;w=300\r\n",
             reset);
    struct es_testhttpd_response r = {
        .body = page,
        .content_type = "application/json",
        .headers = headers,
    };
    es_testhttpd_route(srv, SEARCH, &r);
    struct es_source *src = open_src("query = acme\n");
    struct es_polled p;
    es_polled_run(&p, src, NULL, NULL);
    /* The window is spent: no second page in this poll, the next poll
     * waits for the reset, and the stream's mark does not move (the
     * next poll starts from the top again: no gap). */
    assert_int_equal(es_testhttpd_hits(srv, SEARCH), 1);
    assert_int_equal(p.failures, 0);
    assert_int_equal(p.items.n, 1);
    assert_true(p.retry_after >= 110 && p.retry_after <= 121);
    assert_string_equal(p.cursor, "{}");
    es_polled_release(&p);

    /* A 429 with Retry-After. */
    struct es_testhttpd_response busy = {
        .status = 429,
        .content_type = "application/json",
        .headers = "Retry-After: 30\r\n",
        .body = "{\"error\":\"RateLimitExceeded\",\"message\":\"Rate Limit "
                "Exceeded\"}",
    };
    es_testhttpd_route(srv, SEARCH, &busy);
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.failures, 1);
    assert_int_equal(p.status, ES_ERATELIMIT);
    assert_int_equal(p.retry_after, 30);
    assert_non_null(strstr(p.errors.ptr, "Rate Limit Exceeded"));
    es_polled_release(&p);
    es_source_free(src);
    free(page);
}

static void test_poll_context(void **state)
{
    (void)state;
    char *fx = fixture_path("search_posts.json");
    struct es_testhttpd_response page = {
        .body_file = fx,
        .content_type = "application/json",
    };
    es_testhttpd_route(srv, SEARCH, &page);
    char *thread = fixture_path("thread.json");
    struct es_testhttpd_response tr = {
        .body_file = thread,
        .content_type = "application/json",
    };
    es_testhttpd_route(srv, THREAD, &tr);

    struct es_source *src = open_src("query = acme\nmax_pages = 1\n");
    struct es_polled p;
    es_polled_run(&p, src, NULL, NULL);
    /* Bob's reply has its parent elsewhere: its thread is fetched; Dave's
     * reply answers a post of the page: nothing to fetch. */
    assert_int_equal(es_testhttpd_hits(srv, SEARCH), 1);
    assert_int_equal(es_testhttpd_hits(srv, THREAD), 1);
    assert_param(THREAD, 0, "uri", P_URI);
    assert_param(THREAD, 0, "depth", "3");
    assert_int_equal(p.failures, 0);
    /* 4 from the search and the thread's 5: the thread around a mention
     * is kept whatever words it uses (flagged context, exempt from the
     * query filter). */
    assert_int_equal(es_caught_count(&p.items, ALICE_A), 1);
    assert_int_equal(es_caught_count(&p.items, R_URI), 1);
    assert_int_equal(es_caught_count(&p.items, P_URI), 1);
    assert_int_equal(p.items.n, 9);
    es_polled_release(&p);

    /* The same parent is not fetched again by this process. */
    es_testhttpd_clear_log(srv);
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(es_testhttpd_hits(srv, THREAD), 0);
    es_polled_release(&p);
    es_source_free(src);

    /* A parent that is gone (400 NotFound) is skipped, the poll goes on;
     * with no query every thread post is kept. */
    struct es_testhttpd_response gone = {
        .status = 400,
        .content_type = "application/json",
        .body = "{\"error\":\"NotFound\",\"message\":\"Post not found: "
                "at://did:plc:acme/app.bsky.feed.post/r1parent\"}",
    };
    es_testhttpd_route(srv, THREAD, &gone);
    const char *s1[] = {
        "r1", "2024-05-01T12:06:00.000Z", "r2", "2024-05-01T12:05:00.000Z",
        "r3", "2024-05-01T12:04:00.000Z", "r4", "2024-05-01T12:03:00.000Z",
        "r5", "2024-05-01T12:02:00.000Z", "r6", "2024-05-01T12:01:00.000Z",
        "r7", "2024-05-01T12:00:00.000Z"
    };
    char *body = search_page(NULL, s1, 7);
    route_json(SEARCH, body);
    src = open_src("query = acme\n");
    es_testhttpd_clear_log(srv);
    es_polled_run(&p, src, NULL, NULL);
    /* Seven replies to seven posts elsewhere: five threads per poll. */
    assert_int_equal(es_testhttpd_hits(srv, THREAD), 5);
    assert_param(THREAD, 0, "uri",
                 "at://did:plc:acme/app.bsky.feed.post/r1parent");
    assert_param(THREAD, 4, "uri",
                 "at://did:plc:acme/app.bsky.feed.post/r5parent");
    assert_int_equal(p.failures, 0);
    assert_int_equal(p.items.n, 7);
    assert_string_equal(p.cursor,
                        "{\"search\":{\"acme\":\"2024-05-01T12:06:00Z\"}}");
    es_polled_release(&p);
    es_source_free(src);

    /* context = no fetches nothing. */
    src = open_src("query = acme\ncontext = no\n");
    es_testhttpd_clear_log(srv);
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(es_testhttpd_hits(srv, THREAD), 0);
    es_polled_release(&p);
    es_source_free(src);

    free(body);
    free(fx);
    free(thread);
}

static void test_poll_own_posts(void **state)
{
    (void)state;
    char *fx = fixture_path("author_feed.json");
    struct es_testhttpd_response page = {
        .body_file = fx,
        .content_type = "application/json",
    };
    es_testhttpd_route(srv, FEED, &page);
    struct es_source *src = open_src("handle = acme.com\nown_posts = yes\n"
                                     "max_pages = 1\n");
    struct es_polled p;
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(es_testhttpd_hits(srv, FEED), 1);
    assert_param(FEED, 0, "actor", "acme.com");
    assert_param(FEED, 0, "filter", "posts_with_replies");
    assert_header(FEED, 0, "Authorization", NULL);
    assert_int_equal(p.failures, 0);
    assert_int_equal(p.items.n, 4);
    /* The mark is the newest position in the listing: a repost counts
     * there, by the time of the repost. */
    assert_string_equal(p.cursor, "{\"own\":\"2024-05-01T09:40:00Z\"}");
    es_polled_release(&p);
    es_source_free(src);
    free(fx);
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
        cmocka_unit_test(test_tags_bounded),
        cmocka_unit_test(test_empty_display_name),
        cmocka_unit_test(test_search_posts),
        cmocka_unit_test(test_notifications),
        cmocka_unit_test(test_thread),
        cmocka_unit_test(test_author_feed),
        cmocka_unit_test(test_post_view_and_session),
        cmocka_unit_test(test_wrong_shapes),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_deep_and_truncated),
        cmocka_unit_test(test_facets),
        cmocka_unit_test(test_emit_stops),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_open_from_config),
        NET(test_poll_session_and_cursors),
        NET(test_poll_expired_token),
        NET(test_poll_auth_failures),
        NET(test_poll_public_search),
        NET(test_poll_alternatives),
        NET(test_poll_rate_limit),
        NET(test_poll_context),
        NET(test_poll_own_posts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
