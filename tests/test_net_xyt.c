/* test_net_xyt.c - the "x" and "youtube" source kinds
 *
 * parse_any on the fixtures in tests/fixtures/{x,youtube} (written from
 * the X API v2 and YouTube Data API v3 references: search and mentions
 * pages, single and batch lookups, errors-only bodies, comment threads,
 * reply lists, error bodies) and on malformed input; then both kinds
 * through the poller against the loopback server: the paths and query
 * parameters of every request, the Authorization header and the key
 * parameter, paging within a poll, the cursor advancing across polls
 * without duplicates or gaps, rate limits, 429s, and secrets kept out of
 * every message.
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

#include <curl/curl.h>

#include "earshot/alloc.h"
#include "earshot/buf.h"
#include "earshot/config.h"
#include "earshot/error.h"
#include "earshot/item.h"
#include "earshot/query.h"
#include "earshot/source.h"
#include "pollrun.h"
#include "testhttpd.h"

static struct es_testhttpd *srv;

#define X_TOKEN  "AAAAAAAAAAAAAAAAAAAAAXyTs3cr3tB34r3r%2BT0k3n"
#define YT_KEY   "AIzaSyXyT-s3cr3tK3y_0123456789abcdefgh"
#define X_SEARCH "/2/tweets/search/recent"
#define X_MENT   "/2/users/1468217365405978624/mentions"
#define X_LOOKUP "/2/tweets"
#define YT_THR   "/youtube/v3/commentThreads"
#define YT_COM   "/youtube/v3/comments"

/* ==== Helpers ==== */

static char *fixture(const char *kind, const char *name)
{
    return es_pollrun_fixture(NULL, "%s/%s", kind, name);
}

/* Runs KIND's parse_any on @buf. */
static int parse_str(const char *kind, const char *buf, struct es_caught *c)
{
    const struct es_source_ops *ops = es_source_find(kind);
    assert_non_null(ops);
    assert_non_null(ops->parse_any);
    struct es_parse_opts opts = { .source = "fx" };
    memset(c, 0, sizeof(*c));
    es_error_clear();
    return ops->parse_any(buf, strlen(buf), &opts, es_caught_add, c);
}

static int parse_fixture(const char *kind, const char *name,
                         struct es_caught *c)
{
    char *buf = fixture(kind, name);
    int rc = parse_str(kind, buf, c);
    free(buf);
    return rc;
}

static char *iso(int64_t t)
{
    static char out[21];
    return es_time_format(t, out);
}

/* Opens the one source of config @text (its base_url pointing at the
 * test server). Returns ES_* and sets *out. */
static int open_conf(const char *text, struct es_source **out)
{
    struct es_config *cfg = NULL;
    char *conf = es_pollrun_conf(srv, text);
    int rc = es_config_load_string(&cfg, conf, "test.conf");
    if (rc != 0)
        fail_msg("config: %s", es_error_last());
    *out = NULL;
    rc = es_source_open(out, es_config_source_at(cfg, 0));
    es_config_free(cfg);
    free(conf);
    return rc;
}

static struct es_source *open_ok(const char *text)
{
    struct es_source *src = NULL;
    int rc = open_conf(text, &src);
    if (rc != 0)
        fail_msg("open: %s", es_error_last());
    return src;
}

static void assert_param(const char *path, long nth, const char *name,
                         const char *want)
{
    es_pollrun_assert_param(srv, path, nth, name, want);
}

static void route_file(const char *path, const char *kind, const char *name)
{
    char *rel = es_xasprintf("%s/%s", kind, name);
    es_pollrun_route_file(srv, path, rel, "application/json; charset=utf-8");
    free(rel);
}

/* Routes @path to answer the fixtures @names[] in turn. */
static void route_files(const char *path, const char *kind,
                        const char *const *names, size_t n)
{
    struct es_testhttpd_response seq[8];
    char *bodies[8];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++) {
        bodies[i] = fixture(kind, names[i]);
        memset(&seq[i], 0, sizeof(seq[i]));
        seq[i].body = bodies[i];
        seq[i].content_type = "application/json";
    }
    es_testhttpd_route_seq(srv, path, seq, n);
    for (size_t i = 0; i < n; i++)
        free(bodies[i]);
}

static void assert_no_duplicates(const struct es_caught *a,
                                 const struct es_caught *b)
{
    for (size_t i = 0; i < a->n; i++)
        for (size_t k = 0; k < b->n; k++)
            if (a != b || i != k)
                if (strcmp(a->items[i]->external_id,
                           b->items[k]->external_id) == 0)
                    fail_msg("'%s' emitted twice", a->items[i]->external_id);
}

/* ==== x: parse_any ==== */

/* t.co links are shown as the addresses they stand for. */
static void test_x_expands_links(void **state)
{
    (void)state;
    struct es_caught c;
    const char doc[] =
        "{\"data\":[{\"id\":\"17\",\"author_id\":\"5\","
        "\"text\":\"Down again: https://t.co/AbC123 &amp; "
        "https://t.co/AbC123 see https://t.co/Pic9 https://t.co/AbC1234\","
        "\"entities\":{\"urls\":[{\"start\":12,\"end\":35,"
        "\"url\":\"https://t.co/AbC123\",\"expanded_url\":"
        "\"https://status.acme.example/incidents/42\",\"display_url\":"
        "\"status.acme.example/incidents/\u2026\"},{\"url\":"
        "\"https://t.co/Pic9\"}]}}],"
        "\"includes\":{\"users\":[{\"id\":\"5\",\"username\":\"zoe\"}]},"
        "\"meta\":{\"result_count\":1}}";
    assert_int_equal(parse_str("x", doc, &c), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0]->text,
                        "Down again: https://status.acme.example/incidents/42 "
                        "& https://status.acme.example/incidents/42 see "
                        "https://t.co/Pic9 https://t.co/AbC1234");
    es_caught_release(&c);

    /* An address that holds its own link is put in once, never read
     * again: 40 such entities once doubled the text 40 times. */
    struct es_buf big = ES_BUF_INIT;
    es_buf_adds(&big, "{\"data\":[{\"id\":\"18\",\"author_id\":\"5\","
                      "\"text\":\"see t and t\",\"entities\":{\"urls\":[");
    for (int i = 0; i < 40; i++)
        es_buf_adds(&big, i ? ",{\"url\":\"t\",\"expanded_url\":\"t t\"}"
                            : "{\"url\":\"t\",\"expanded_url\":\"t t\"}");
    es_buf_adds(&big, "]}}]}");
    assert_int_equal(parse_str("x", big.ptr, &c), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0]->text, "see t t and t t");
    es_caught_release(&c);
    es_buf_release(&big);
}

/* Hashtags are categories; a response that did not ask for created_at
 * still dates its posts, from their snowflake ids. */
static void test_x_hashtags_and_id_time(void **state)
{
    (void)state;
    struct es_caught c;
    const char doc[] =
        "{\"data\":[{\"id\":\"1578516068309794817\",\"author_id\":\"5\","
        "\"text\":\"#Acme down again #outage\",\"entities\":{\"hashtags\":"
        "[{\"start\":0,\"end\":5,\"tag\":\"Acme\"},{\"start\":16,\"end\":23,"
        "\"tag\":\"outage\"}]}},{\"id\":\"20\",\"author_id\":\"5\","
        "\"text\":\"just setting up my twttr\"}],"
        "\"includes\":{\"users\":[{\"id\":\"5\",\"username\":\"zoe\"}]}}";
    assert_int_equal(parse_str("x", doc, &c), 0);
    assert_int_equal(c.n, 2);
    const struct es_item *t = c.items[0];
    assert_int_equal(t->ncategories, 2);
    assert_string_equal(t->categories[0], "Acme");
    assert_string_equal(t->categories[1], "outage");
    /* (1578516068309794817 >> 22) + 1288834974657 ms:
     * 2022-10-07T22:42:12.734Z. */
    assert_int_equal(t->created_at, 1665182532);
    /* Id 20 comes from before snowflakes: no time can be read from it. */
    assert_int_equal(c.items[1]->created_at, ES_TIME_UNKNOWN);
    es_caught_release(&c);
}

/* An edit is a new post with a new id: it is the original's mention. */
static void test_x_edits(void **state)
{
    (void)state;
    struct es_caught c;
    const char doc[] =
        "{\"data\":[{\"id\":\"31\",\"author_id\":\"5\",\"text\":"
        "\"Acme is down (edited: back now)\",\"edit_history_tweet_ids\":"
        "[\"29\",\"31\"],\"conversation_id\":\"29\"},{\"id\":\"40\","
        "\"author_id\":\"5\",\"text\":\"never edited\","
        "\"edit_history_tweet_ids\":[\"40\"]},{\"id\":\"29\",\"author_id\":"
        "\"5\",\"text\":\"Acme is down\",\"edit_history_tweet_ids\":"
        "[\"29\",\"31\"]}],"
        "\"includes\":{\"users\":[{\"id\":\"5\",\"username\":\"zoe\"}]},"
        "\"meta\":{\"result_count\":2}}";
    assert_int_equal(parse_str("x", doc, &c), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.items[0]->external_id, "29");
    assert_string_equal(c.items[0]->reply_ref, "{\"id\":\"31\"}");
    assert_string_equal(c.items[0]->url, "https://x.com/zoe/status/31");
    /* Not its own thread's root; and the earlier version (29) is not
     * emitted, which would put the old text back. */
    assert_null(c.items[0]->thread_root);
    assert_string_equal(c.items[1]->external_id, "40");
    assert_null(c.items[1]->reply_ref);
    es_caught_release(&c);
}

static void test_x_parse_search(void **state)
{
    (void)state;
    struct es_caught c;
    assert_int_equal(parse_fixture("x", "search_recent.json", &c), 0);
    /* Six tweets, two of them retweets of one original: five items. */
    assert_int_equal(c.n, 5);

    const struct es_item *it = c.items[0];
    assert_string_equal(it->platform, "x");
    assert_string_equal(it->source, "fx");
    assert_string_equal(it->external_id, "1790041592015798745");
    assert_string_equal(it->url,
                        "https://x.com/zoe_builds/status/1790041592015798745");
    assert_string_equal(it->author, "zoe_builds");
    assert_string_equal(it->author_name, "Zo\xc3\xab Ortega \xf0\x9f\x9a\x80");
    assert_int_equal(it->author_followers, 1830);
    assert_string_equal(it->text,
                        "@acmecloud your status page says all green but I "
                        "can't log in \xf0\x9f\x98\xa4 & the support chat is "
                        "down too");
    assert_string_equal(iso(it->created_at), "2024-05-13T15:02:11Z");
    assert_int_equal(it->kind, ES_KIND_REPLY);
    assert_string_equal(it->in_reply_to, "1790038123456789012");
    assert_string_equal(it->thread_root, "1790038123456789012");
    assert_string_equal(it->lang, "en");
    assert_null(it->reply_ref);

    /* A note tweet: the whole text, not the 280-character cut. */
    it = c.items[1];
    assert_string_equal(it->external_id, "1790040877665112064");
    assert_string_equal(it->author, "danak");
    assert_int_equal(it->author_followers, 15204);
    /* White space collapsed, as in every mention's text. */
    assert_non_null(strstr(it->text, "great on paper. The import tool "
                                     "choked at 40% & support took 3 days"));
    assert_non_null(strstr(it->text, "#acmecloud"));
    assert_null(strstr(it->text, "https://t.co/Qz5pWm1cXb"));
    assert_int_equal(it->kind, ES_KIND_POST);
    assert_null(it->thread_root);
    assert_null(it->in_reply_to);

    /* The retweet became its original, once for both retweets. */
    it = c.items[2];
    assert_string_equal(it->external_id, "1790012345678901234");
    assert_string_equal(it->author, "acmecloud");
    assert_string_equal(it->author_name, "Acme Cloud");
    assert_int_equal(it->author_followers, 250113);
    assert_string_equal(it->url,
                        "https://x.com/acmecloud/status/1790012345678901234");
    assert_string_equal(it->text,
                        "We're rolling out dark mode \xf0\x9f\x8c\x99 "
                        "to everyone today! https://t.co/xK2bLq9TzR");
    assert_string_equal(iso(it->created_at), "2024-05-13T13:02:00Z");
    assert_int_equal(it->kind, ES_KIND_POST);
    assert_null(es_caught_find(&c, "1790040102144442658"));
    assert_null(es_caught_find(&c, "1790039555511111111"));

    /* A quote is a post of its own. */
    it = c.items[3];
    assert_string_equal(it->external_id, "1790039000000000001");
    assert_string_equal(it->lang, "es");
    assert_string_equal(it->author, "luciafdz");
    assert_string_equal(it->author_name, "Luc\xc3\xad"
                                         "a Fern\xc3\xa1ndez");
    assert_int_equal(it->author_followers, 0);
    assert_non_null(strstr(it->text, "\xc2\xa1Por fin! Me encanta el modo "
                                     "oscuro de Acme \xf0\x9f\x98\x80"));
    assert_int_equal(it->kind, ES_KIND_POST);

    /* A reply whose parent is gone (the partial error) and whose root
     * is elsewhere. */
    it = c.items[4];
    assert_string_equal(it->external_id, "1790038999999999999");
    assert_int_equal(it->kind, ES_KIND_REPLY);
    assert_string_equal(it->in_reply_to, "1790030000000000000");
    assert_string_equal(it->thread_root, "1790029999999999999");
    assert_string_equal(it->text, "@someone @acmecloud same here, 3rd outage "
                                  "this month <sigh>");
    es_caught_release(&c);
}

static void test_x_parse_shapes(void **state)
{
    (void)state;
    struct es_caught c;

    /* A single tweet lookup. */
    assert_int_equal(parse_fixture("x", "tweet.json", &c), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0]->external_id, "1790029999999999999");
    assert_string_equal(c.items[0]->author, "bigaccount");
    assert_int_equal(c.items[0]->author_followers, 180000000LL);
    assert_string_equal(iso(c.items[0]->created_at), "2024-05-13T14:10:00Z");
    es_caught_release(&c);

    /* A batch lookup with one id not found: the found one is kept. */
    assert_int_equal(parse_fixture("x", "tweets_lookup.json", &c), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0]->external_id, "1790029999999999999");
    es_caught_release(&c);

    /* An empty page is fine. */
    assert_int_equal(parse_fixture("x", "search_empty.json", &c), 0);
    assert_int_equal(c.n, 0);
    es_caught_release(&c);

    /* Only errors: an error naming the kind and the path. */
    assert_int_equal(parse_fixture("x", "errors_only.json", &c), ES_ENOTFOUND);
    assert_int_equal(c.n, 0);
    assert_non_null(strstr(es_error_last(), "x: "));
    assert_non_null(strstr(es_error_last(), "$.errors[0]"));
    assert_non_null(strstr(es_error_last(),
                           "Not Found Error: Could not find tweet with id: "
                           "[1790000000000000001]."));
    es_caught_release(&c);

    /* The mentions timeline. */
    assert_int_equal(parse_fixture("x", "mentions.json", &c), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.items[0]->author, "priya_dev");
    assert_int_equal(c.items[0]->kind, ES_KIND_POST);
    assert_null(c.items[0]->thread_root);
    assert_string_equal(
        c.items[1]->text,
        "@acmecloud thanks, that fixed it \xe2\x9d\xa4\xef\xb8\x8f");
    assert_int_equal(c.items[1]->kind, ES_KIND_REPLY);
    assert_string_equal(c.items[1]->in_reply_to, "1790045000000000000");
    assert_string_equal(c.items[1]->thread_root, "1790038123456789012");
    es_caught_release(&c);

    assert_int_equal(parse_fixture("x", "search_recent_last.json", &c), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.items[0]->author_name,
                        "Kenji \xe4\xb8\xad\xe6\x9d\x91");
    assert_non_null(strstr(c.items[0]->text, "\xe6\x9d\xb1\xe4\xba\xac"));
    assert_string_equal(c.items[1]->lang, "und");
    es_caught_release(&c);

    /* Numeric ids, an author missing from includes, and a retweet whose
     * original's author is only named by the "RT @name:" prefix. */
    assert_int_equal(
        parse_str("x",
                  "{\"data\":[{\"id\":123,\"text\":\"n\",\"author_id\":\"9\"},"
                  "{\"id\":\"7\",\"text\":\"RT @orig_A: hello\","
                  "\"referenced_tweets\":[{\"type\":\"retweeted\","
                  "\"id\":\"6\"}]}],"
                  "\"includes\":{\"tweets\":[{\"id\":\"6\",\"text\":\"hello "
                  "world\",\"author_id\":\"66\"}]}}",
                  &c),
        0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.items[0]->external_id, "123");
    assert_null(c.items[0]->author);
    assert_int_equal(c.items[0]->author_followers, ES_COUNT_UNKNOWN);
    assert_string_equal(c.items[0]->url, "https://x.com/i/web/status/123");
    assert_int_equal(c.items[0]->created_at, ES_TIME_UNKNOWN);
    assert_string_equal(c.items[1]->external_id, "6");
    assert_string_equal(c.items[1]->author, "orig_A");
    assert_string_equal(c.items[1]->text, "hello world");
    assert_string_equal(c.items[1]->url, "https://x.com/orig_A/status/6");
    es_caught_release(&c);

    /* A retweet whose original is not in includes (deleted, or its
     * account protected) is no mention: its words are the original's, and
     * a deleted post must not live on in the inbox. */
    assert_int_equal(parse_str("x",
                               "{\"data\":[{\"id\":\"8\",\"text\":\"RT @a: "
                               "x\",\"referenced_tweets\":[{\"type\":"
                               "\"retweeted\",\"id\":\"5\"}]},{\"id\":\"9\","
                               "\"text\":\"own words\"}]}",
                               &c),
                     0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0]->external_id, "9");
    es_caught_release(&c);
}

static void test_x_parse_bad(void **state)
{
    (void)state;
    struct es_caught c;
    char *buf = fixture("x", "search_recent.json");

    /* Truncated anywhere: a clean error, never a crash. */
    size_t len = strlen(buf);
    for (size_t cut = 0; cut + 2 < len; cut += 97) {
        char save = buf[cut];
        buf[cut] = '\0';
        int rc = parse_str("x", buf, &c);
        assert_true(rc == ES_EPARSE);
        assert_non_null(strstr(es_error_last(), "x: "));
        es_caught_release(&c);
        buf[cut] = save;
    }
    free(buf);

    assert_int_equal(parse_str("x", "[]", &c), ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "x: unexpected JSON at $:"));
    es_caught_release(&c);
    assert_int_equal(parse_str("x", "{\"data\":\"x\"}", &c), ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "at $.data:"));
    es_caught_release(&c);
    assert_int_equal(parse_str("x", "{\"foo\":1}", &c), ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "at $.data: missing"));
    es_caught_release(&c);
    assert_int_equal(parse_str("x", "{\"data\":{\"id\":[1]}}", &c), ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "$.data.id"));
    es_caught_release(&c);
    /* A /2/users answer (the docs' example) is users, not a post whose
     * link would go nowhere. */
    assert_int_equal(parse_str("x",
                               "{\"data\":[{\"id\":\"2244994945\",\"name\":"
                               "\"X Dev\",\"username\":\"XDevelopers\","
                               "\"created_at\":\"2013-12-14T04:35:55.000Z\"}]}",
                               &c),
                     ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "users (a /2/users answer)"));
    assert_int_equal(c.n, 0);
    es_caught_release(&c);

    /* A bad entry is skipped and named; the others are kept. */
    assert_int_equal(parse_str("x",
                               "{\"data\":[{\"id\":{}},7,{\"id\":\"1\","
                               "\"text\":\"ok\"}]}",
                               &c),
                     ES_EPARSE);
    assert_int_equal(c.n, 1);
    assert_non_null(strstr(es_error_last(), "x: unexpected JSON at $.data[0]"));
    es_caught_release(&c);

    /* Wrong types everywhere but the id. */
    assert_int_equal(
        parse_str("x",
                  "{\"data\":[{\"id\":\"5\",\"text\":7,\"author_id\":{},"
                  "\"created_at\":[],\"referenced_tweets\":\"x\","
                  "\"note_tweet\":5,\"lang\":null,\"conversation_id\":[]}],"
                  "\"includes\":{\"users\":\"x\",\"tweets\":{}},"
                  "\"meta\":[],\"errors\":{}}",
                  &c),
        0);
    assert_int_equal(c.n, 1);
    assert_null(c.items[0]->text);
    assert_null(c.items[0]->lang);
    assert_int_equal(c.items[0]->created_at, ES_TIME_UNKNOWN);
    es_caught_release(&c);

    /* Deep nesting. */
    struct es_buf deep = ES_BUF_INIT;
    es_buf_adds(&deep, "{\"data\":");
    for (int i = 0; i < 100000; i++)
        es_buf_addch(&deep, '[');
    assert_int_equal(parse_str("x", deep.ptr, &c), ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "nested deeper"));
    es_caught_release(&c);
    es_buf_release(&deep);
    assert_int_equal(parse_str("x", "", &c), ES_EPARSE);
    es_caught_release(&c);
}

/* ==== x: through the poller ==== */

static const char X_CONF[] = "[source \"xs\"]\n"
                             "type = x\n"
                             "base_url = @BASE@\n"
                             "token = " X_TOKEN "\n"
                             "query = (acme OR acmecloud) -hiring\n"
                             "context = no\n";

static void test_x_search_paging(void **state)
{
    (void)state;
    static const char *const pages[] = { "search_recent.json",
                                         "search_recent_last.json",
                                         "search_empty.json" };
    route_files(X_SEARCH, "x", pages, 3);
    es_testhttpd_clear_log(srv);
    struct es_source *src = open_ok(X_CONF);
    struct es_polled p1, p2, p3;

    /* First poll: both pages, next_token on the second. */
    es_polled_run(&p1, src, NULL, NULL);
    assert_int_equal(p1.failures, 0);
    assert_int_equal(es_testhttpd_hits(srv, X_SEARCH), 2);
    assert_int_equal(p1.items.n, 7);
    assert_no_duplicates(&p1.items, &p1.items);

    char *auth = es_testhttpd_header(srv, X_SEARCH, 0, "Authorization");
    assert_string_equal(auth, "Bearer " X_TOKEN);
    free(auth);
    struct es_query *q = NULL;
    assert_int_equal(es_query_parse(&q, "(acme OR acmecloud) -hiring", NULL, 0),
                     0);
    char *rendered = es_query_render(q, ES_QUERY_STYLE_BOOLEAN);
    assert_param(X_SEARCH, 0, "query", rendered);
    assert_param(X_SEARCH, 1, "query", rendered);
    assert_non_null(strstr(rendered, "acmecloud"));
    assert_non_null(strstr(rendered, "-hiring"));
    free(rendered);
    es_query_free(q);
    assert_param(X_SEARCH, 0, "max_results", "100");
    assert_param(X_SEARCH, 0, "tweet.fields",
                 "created_at,author_id,conversation_id,in_reply_to_user_id,"
                 "referenced_tweets,lang,public_metrics,entities,note_tweet");
    assert_param(X_SEARCH, 0, "expansions",
                 "author_id,referenced_tweets.id,"
                 "referenced_tweets.id.author_id");
    assert_param(X_SEARCH, 0, "user.fields", "username,name,public_metrics");
    assert_param(X_SEARCH, 0, "since_id", NULL);
    assert_param(X_SEARCH, 0, "next_token", NULL);
    assert_param(X_SEARCH, 1, "next_token",
                 "b26v89c19zqg8o3fpzbkk1o0vbt6x0mnyyzpeuqg4udml");
    assert_param(X_SEARCH, 1, "since_id", NULL);
    /* The first page's cursor holds the pass under way; the last one the
     * new high-water mark. */
    assert_string_equal(p1.cursors[0],
                        "{\"search\":{\"newest\":\"1790041592015798745\","
                        "\"next\":\"b26v89c19zqg8o3fpzbkk1o0vbt6x0mnyyzpeuqg4"
                        "udml\"}}");
    assert_string_equal(p1.cursor,
                        "{\"search\":{\"since_id\":\"1790041592015798745\"}}");

    /* Second poll: since_id, an empty page, the same mark. */
    es_polled_run(&p2, src, p1.cursor, NULL);
    assert_int_equal(es_testhttpd_hits(srv, X_SEARCH), 3);
    assert_param(X_SEARCH, 2, "since_id", "1790041592015798745");
    assert_param(X_SEARCH, 2, "next_token", NULL);
    assert_int_equal(p2.items.n, 0);
    assert_int_equal(p2.status, 0);
    assert_string_equal(p2.cursor,
                        "{\"search\":{\"since_id\":\"1790041592015798745\"}}");

    /* Third poll: one new tweet; the mark moves. */
    struct es_testhttpd_response r = {
        .body = "{\"data\":[{\"id\":\"1790060000000000000\",\"text\":\"acme "
                "again\",\"author_id\":\"1\",\"created_at\":"
                "\"2024-05-13T17:00:00.000Z\"}],\"includes\":{\"users\":[{"
                "\"id\":\"1\",\"username\":\"u1\",\"name\":\"U\"}]},"
                "\"meta\":{\"newest_id\":\"1790060000000000000\","
                "\"oldest_id\":\"1790060000000000000\",\"result_count\":1}}",
    };
    es_testhttpd_route(srv, X_SEARCH, &r);
    es_polled_run(&p3, src, p2.cursor, NULL);
    assert_param(X_SEARCH, 3, "since_id", "1790041592015798745");
    assert_int_equal(p3.items.n, 1);
    assert_string_equal(p3.items.items[0]->url,
                        "https://x.com/u1/status/1790060000000000000");
    assert_string_equal(p3.cursor,
                        "{\"search\":{\"since_id\":\"1790060000000000000\"}}");
    assert_no_duplicates(&p1.items, &p3.items);

    es_polled_release(&p1);
    es_polled_release(&p2);
    es_polled_release(&p3);
    es_source_free(src);
}

static void test_x_mentions_resume(void **state)
{
    (void)state;
    static const char *const pages[] = { "mentions.json",
                                         "mentions_last.json" };
    route_files(X_MENT, "x", pages, 2);
    es_testhttpd_clear_log(srv);
    struct es_source *src = open_ok("[source \"xm\"]\n"
                                    "type = x\n"
                                    "base_url = @BASE@/\n"
                                    "token = " X_TOKEN "\n"
                                    "mentions = yes\n"
                                    "user_id = 1468217365405978624\n"
                                    "max_pages = 1\n"
                                    "context = no\n");
    struct es_polled p1, p2;

    /* max_pages cuts the pass: the cursor keeps the old mark and the page
     * to resume at. */
    es_polled_run(&p1, src,
                  "{\"mentions\":{\"since_id\":\"1790040000000000000\"}}",
                  NULL);
    assert_int_equal(es_testhttpd_hits(srv, X_MENT), 1);
    assert_int_equal(es_testhttpd_hits(srv, X_SEARCH), 0);
    char *auth = es_testhttpd_header(srv, X_MENT, 0, "Authorization");
    assert_string_equal(auth, "Bearer " X_TOKEN);
    free(auth);
    assert_param(X_MENT, 0, "since_id", "1790040000000000000");
    assert_param(X_MENT, 0, "pagination_token", NULL);
    assert_param(X_MENT, 0, "query", NULL);
    assert_param(X_MENT, 0, "max_results", "100");
    assert_param(X_MENT, 0, "expansions",
                 "author_id,referenced_tweets.id,"
                 "referenced_tweets.id.author_id");
    assert_int_equal(p1.items.n, 2);
    assert_string_equal(p1.cursor,
                        "{\"mentions\":{\"since_id\":\"1790040000000000000\","
                        "\"newest\":\"1790050000000000123\",\"next\":"
                        "\"7140dibdnow9c7btw481s8m561gat797rboud5r80xvzm\"}}");

    /* The next poll resumes there, then stores the new mark. */
    es_polled_run(&p2, src, p1.cursor, NULL);
    assert_int_equal(es_testhttpd_hits(srv, X_MENT), 2);
    assert_param(X_MENT, 1, "since_id", "1790040000000000000");
    assert_param(X_MENT, 1, "pagination_token",
                 "7140dibdnow9c7btw481s8m561gat797rboud5r80xvzm");
    assert_param(X_MENT, 1, "next_token", NULL);
    assert_int_equal(p2.items.n, 1);
    assert_string_equal(p2.items.items[0]->external_id, "1790047000000000789");
    assert_no_duplicates(&p1.items, &p2.items);
    assert_string_equal(p2.cursor, "{\"mentions\":{\"since_id\":"
                                   "\"1790050000000000123\"}}");
    es_polled_release(&p1);
    es_polled_release(&p2);

    /* A first pass (no cursor) reads max_pages and takes its mark. */
    route_file(X_MENT, "x", "mentions.json");
    es_polled_run(&p1, src, NULL, NULL);
    assert_int_equal(es_testhttpd_hits(srv, X_MENT), 3);
    assert_param(X_MENT, 2, "since_id", NULL);
    assert_string_equal(p1.cursor, "{\"mentions\":{\"since_id\":"
                                   "\"1790050000000000123\"}}");
    es_polled_release(&p1);

    /* A malformed stored cursor is ignored. */
    es_polled_run(&p1, src, "{\"mentions\":{\"since_id\":\"12a\"}", NULL);
    assert_param(X_MENT, 3, "since_id", NULL);
    es_polled_release(&p1);
    es_polled_run(&p1, src,
                  "{\"mentions\":{\"since_id\":\"12a\",\"next\":\"t\"}}", NULL);
    assert_param(X_MENT, 4, "since_id", NULL);
    assert_param(X_MENT, 4, "pagination_token", NULL);
    es_polled_release(&p1);
    es_source_free(src);
}

static void test_x_both_streams_context(void **state)
{
    (void)state;
    static const char *const pages[] = { "search_recent.json",
                                         "search_recent_last.json" };
    route_files(X_SEARCH, "x", pages, 2);
    route_file(X_MENT, "x", "mentions_last.json");
    route_file(X_LOOKUP, "x", "tweets_lookup.json");
    es_testhttpd_clear_log(srv);
    struct es_source *src = open_ok("[source \"xb\"]\n"
                                    "type = x\n"
                                    "base_url = @BASE@\n"
                                    "token = " X_TOKEN "\n"
                                    "query = acme OR acmecloud\n"
                                    "mentions = yes\n"
                                    "user_id = 1468217365405978624\n");
    struct es_polled p;
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.failures, 0);
    assert_int_equal(p.calls, 4);
    assert_int_equal(es_testhttpd_hits(srv, X_SEARCH), 2);
    assert_int_equal(es_testhttpd_hits(srv, X_MENT), 1);
    /* One lookup, for the one root that was nowhere in the answers. */
    assert_int_equal(es_testhttpd_hits(srv, X_LOOKUP), 1);
    assert_param(X_LOOKUP, 0, "ids", "1790029999999999999");
    assert_param(X_LOOKUP, 0, "expansions",
                 "author_id,referenced_tweets.id,"
                 "referenced_tweets.id.author_id");
    char *auth = es_testhttpd_header(srv, X_LOOKUP, 0, "Authorization");
    assert_string_equal(auth, "Bearer " X_TOKEN);
    free(auth);
    /* The parent from includes.tweets and the looked-up root. */
    const struct es_item *parent =
        es_caught_find(&p.items, "1790038123456789012");
    assert_non_null(parent);
    assert_string_equal(parent->author, "acmecloud");
    assert_non_null(es_caught_find(&p.items, "1790029999999999999"));
    assert_non_null(es_caught_find(&p.items, "1790047000000000789"));
    assert_int_equal(p.items.n, 7 + 1 + 1 + 1);
    assert_string_equal(p.cursor,
                        "{\"search\":{\"since_id\":\"1790041592015798745\"},"
                        "\"mentions\":{\"since_id\":\"1790047000000000789\"}}");
    char *cursor = es_xstrdup(p.cursor);
    es_polled_release(&p);

    /* The same root again: not looked up twice in one process. */
    struct es_testhttpd_response again = {
        .body = "{\"data\":[{\"id\":\"1790070000000000000\",\"text\":\"acme "
                "still down\",\"conversation_id\":\"1790029999999999999\","
                "\"referenced_tweets\":[{\"type\":\"replied_to\",\"id\":"
                "\"1790029999999999999\"}]}],\"meta\":{\"newest_id\":"
                "\"1790070000000000000\",\"result_count\":1}}",
    };
    es_testhttpd_route(srv, X_SEARCH, &again);
    route_file(X_MENT, "x", "search_empty.json");
    es_polled_run(&p, src, cursor, NULL);
    assert_int_equal(p.failures, 0);
    assert_int_equal(es_testhttpd_hits(srv, X_LOOKUP), 1);
    assert_param(X_SEARCH, 2, "since_id", "1790041592015798745");
    assert_param(X_MENT, 1, "since_id", "1790047000000000789");
    assert_int_equal(p.items.n, 1);
    assert_string_equal(p.cursor,
                        "{\"search\":{\"since_id\":\"1790070000000000000\"},"
                        "\"mentions\":{\"since_id\":\"1790047000000000789\"}}");
    es_polled_release(&p);
    free(cursor);

    /* A failing lookup costs the context only. */
    es_testhttpd_route(srv, X_SEARCH,
                       &(struct es_testhttpd_response){ .body = again.body });
    struct es_testhttpd_response gone = { .status = 503,
                                          .body = "{\"title\":\"x\"}" };
    es_testhttpd_route(srv, X_LOOKUP, &gone);
    es_source_free(src);
    src = open_ok("[source \"xb\"]\n"
                  "type = x\n"
                  "base_url = @BASE@\n"
                  "token = " X_TOKEN "\n"
                  "query = acme\n");
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(es_testhttpd_hits(srv, X_LOOKUP), 2);
    assert_int_equal(p.failures, 0);
    assert_int_equal(p.items.n, 1);
    es_polled_release(&p);
    es_source_free(src);
}

static void test_x_rate_limit(void **state)
{
    (void)state;
    char hdr[160];
    snprintf(hdr, sizeof(hdr),
             "x-rate-limit-limit: 450\r\nx-rate-limit-remaining: 0\r\n"
             "x-rate-limit-reset: %lld\r\n",
             (long long)time(NULL) + 300);
    char *body = fixture("x", "search_recent.json");
    struct es_testhttpd_response r = { .body = body, .headers = hdr };
    es_testhttpd_route(srv, X_SEARCH, &r);
    es_testhttpd_clear_log(srv);
    struct es_source *src = open_ok(X_CONF);
    struct es_polled p;
    es_polled_run(&p, src, NULL, NULL);
    /* The window is spent: no second page, wait for the reset. */
    assert_int_equal(es_testhttpd_hits(srv, X_SEARCH), 1);
    assert_int_equal(p.calls, 1);
    assert_int_equal(p.status, 0);
    assert_int_equal(p.items.n, 5);
    assert_in_range(p.retry_after, 295, 301);
    /* The next poll resumes at the page it did not read. */
    assert_string_equal(p.cursor,
                        "{\"search\":{\"newest\":\"1790041592015798745\","
                        "\"next\":\"b26v89c19zqg8o3fpzbkk1o0vbt6x0mnyyzpeuqg4"
                        "udml\"}}");
    char *cursor = es_xstrdup(p.cursor);
    es_polled_release(&p);
    route_file(X_SEARCH, "x", "search_recent_last.json");
    es_polled_run(&p, src, cursor, NULL);
    assert_param(X_SEARCH, 1, "next_token",
                 "b26v89c19zqg8o3fpzbkk1o0vbt6x0mnyyzpeuqg4udml");
    assert_param(X_SEARCH, 1, "since_id", NULL);
    assert_int_equal(p.items.n, 2);
    assert_string_equal(p.cursor,
                        "{\"search\":{\"since_id\":\"1790041592015798745\"}}");
    es_polled_release(&p);
    free(cursor);
    free(body);
    es_source_free(src);
}

static void test_x_errors_and_secrets(void **state)
{
    (void)state;
    struct es_source *src = open_ok(X_CONF);
    struct es_polled p;

    /* 429 with Retry-After. */
    char *b429 = fixture("x", "error_429.json");
    struct es_testhttpd_response r429 = {
        .status = 429,
        .body = b429,
        .headers = "Retry-After: 120\r\nx-rate-limit-remaining: 0\r\n",
    };
    es_testhttpd_route(srv, X_SEARCH, &r429);
    es_polled_run(&p, src,
                  "{\"search\":{\"since_id\":\"1790041592015798745\"}}", NULL);
    assert_int_equal(p.status, ES_ERATELIMIT);
    assert_int_equal(p.retry_after, 120);
    assert_null(p.cursor);
    assert_non_null(strstr(p.error, "Too Many Requests"));
    assert_null(strstr(p.error, X_TOKEN));
    assert_null(strstr(p.error, "s3cr3t"));
    es_polled_release(&p);
    free(b429);

    /* 401. */
    char *b401 = fixture("x", "error_401.json");
    struct es_testhttpd_response r401 = { .status = 401, .body = b401 };
    es_testhttpd_route(srv, X_SEARCH, &r401);
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.status, ES_EAUTH);
    assert_non_null(strstr(p.error, "Unauthorized"));
    assert_null(strstr(p.error, "s3cr3t"));
    es_polled_release(&p);
    free(b401);

    /* A 200 holding only errors (a suspended account, say). */
    route_file(X_SEARCH, "x", "errors_only.json");
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.status, ES_ENOTFOUND);
    assert_non_null(strstr(p.error, "x 'xs': the API answered only errors at "
                                    "$.errors[0]"));
    assert_null(p.cursor);
    es_polled_release(&p);

    /* Invalid JSON: the cursor stays. */
    struct es_testhttpd_response junk = { .body = "{\"data\":[" };
    es_testhttpd_route(srv, X_SEARCH, &junk);
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.status, ES_EPARSE);
    assert_non_null(strstr(p.error, "x 'xs': invalid JSON"));
    assert_null(p.cursor);
    es_polled_release(&p);

    /* since_id older than the search window: restarted without it. */
    char *b400 = fixture("x", "error_since_id.json");
    char *last = fixture("x", "search_recent_last.json");
    struct es_testhttpd_response seq[] = {
        { .status = 400, .body = b400 },
        { .body = last },
    };
    es_testhttpd_route_seq(srv, X_SEARCH, seq, 2);
    es_testhttpd_clear_log(srv);
    es_polled_run(&p, src,
                  "{\"search\":{\"since_id\":\"1780000000000000000\"}}", NULL);
    assert_int_equal(es_testhttpd_hits(srv, X_SEARCH), 2);
    assert_param(X_SEARCH, 0, "since_id", "1780000000000000000");
    assert_param(X_SEARCH, 1, "since_id", NULL);
    assert_int_equal(p.failures, 0);
    assert_int_equal(p.items.n, 2);
    assert_string_equal(p.cursor,
                        "{\"search\":{\"since_id\":\"1790021111111111111\"}}");
    es_polled_release(&p);
    /* Once only: a second 400 fails the poll, with the platform's
     * message and no token. */
    struct es_testhttpd_response bad = { .status = 400, .body = b400 };
    es_testhttpd_route(srv, X_SEARCH, &bad);
    es_polled_run(&p, src,
                  "{\"search\":{\"since_id\":\"1780000000000000000\"}}", NULL);
    assert_int_equal(es_testhttpd_hits(srv, X_SEARCH), 4);
    assert_int_equal(p.status, ES_ENETWORK);
    assert_non_null(strstr(p.error, "HTTP 400"));
    assert_null(strstr(p.error, "s3cr3t"));
    es_polled_release(&p);
    free(b400);
    free(last);
    es_source_free(src);
}

static void test_x_open_errors(void **state)
{
    (void)state;
    struct es_source *src = NULL;
    assert_int_equal(
        open_conf("[source \"a\"]\ntype = x\nquery = acme\n", &src),
        ES_EINVALID);
    assert_null(src);
    assert_string_equal(es_error_last(), "test.conf:1: [source \"a\"] needs a "
                                         "bearer token (token or "
                                         "token_file)");
    assert_int_equal(open_conf("\n[source \"b\"]\ntype = x\ntoken = " X_TOKEN
                               "\nmentions = yes\n",
                               &src),
                     ES_EINVALID);
    assert_string_equal(es_error_last(),
                        "test.conf:2: [source \"b\"] mentions = yes needs "
                        "user_id (the account's numeric id)");
    assert_int_equal(open_conf("[source \"c\"]\ntype = x\ntoken = " X_TOKEN
                               "\nmentions = yes\nuser_id = @acme\n",
                               &src),
                     ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "user_id '@acme' is not"));
    assert_int_equal(
        open_conf("[source \"d\"]\ntype = x\ntoken = " X_TOKEN "\n", &src),
        ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "needs a query"));
    /* Only negations: nothing X can search for. */
    assert_int_equal(open_conf("[source \"e\"]\ntype = x\ntoken = " X_TOKEN
                               "\nquery = -job\n",
                               &src),
                     ES_EINVALID);
    assert_null(strstr(es_error_last(), "s3cr3t"));
    assert_int_equal(open_conf("[source \"f\"]\ntype = x\ntoken = " X_TOKEN
                               "\nquery = -job\nmentions = yes\n"
                               "user_id = 42\n",
                               &src),
                     0);
    assert_non_null(src);
    assert_string_equal(src->ops->name, "x");
    assert_int_equal(src->interval, 900);
    es_source_free(src);
}

/* ==== youtube: parse_any ==== */

static void test_yt_parse_threads(void **state)
{
    (void)state;
    struct es_caught c;
    assert_int_equal(parse_fixture("youtube", "comment_threads.json", &c), 0);
    assert_int_equal(c.n, 6);

    const struct es_item *it = c.items[0];
    assert_string_equal(it->platform, "youtube");
    assert_string_equal(it->source, "fx");
    assert_string_equal(it->external_id, "UgwQ7vS2h0dJ4Tn5yFp4AaABAg");
    assert_string_equal(it->url, "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
                                 "&lc=UgwQ7vS2h0dJ4Tn5yFp4AaABAg");
    assert_string_equal(it->author, "zoe_builds");
    assert_string_equal(it->author_name, "@zoe_builds");
    assert_int_equal(it->author_followers, ES_COUNT_UNKNOWN);
    /* The original text, not the HTML display text; white space
     * collapsed, as in every mention's text. */
    assert_string_equal(it->text, "Love the new *dark mode* & the 1:02 demo "
                                  "\xf0\x9f\x98\x80 Great job \"Acme\" team");
    assert_non_null(it->content);
    assert_non_null(strstr(it->content, "<b>dark mode</b>"));
    assert_string_equal(iso(it->created_at), "2024-05-13T16:00:00Z");
    assert_string_equal(iso(it->updated_at), "2024-05-13T16:05:00Z");
    assert_int_equal(it->kind, ES_KIND_COMMENT);
    assert_null(it->in_reply_to);
    assert_null(it->thread_root);
    assert_int_equal(it->ncategories, 1);
    assert_string_equal(it->categories[0], "dQw4w9WgXcQ");
    assert_null(it->reply_ref);

    it = c.items[1];
    assert_string_equal(it->external_id,
                        "UgwQ7vS2h0dJ4Tn5yFp4AaABAg.A3Jf9sXkQ2bA3JfB1cD2eF");
    assert_string_equal(it->url,
                        "https://www.youtube.com/watch?v=dQw4w9WgXcQ&lc="
                        "UgwQ7vS2h0dJ4Tn5yFp4AaABAg.A3Jf9sXkQ2bA3JfB1cD2eF");
    assert_string_equal(it->author, "AcmeCloud");
    assert_string_equal(it->text, "@zoe_builds agreed, finally!");
    assert_int_equal(it->kind, ES_KIND_COMMENT);
    assert_string_equal(it->in_reply_to, "UgwQ7vS2h0dJ4Tn5yFp4AaABAg");
    assert_string_equal(it->thread_root, "UgwQ7vS2h0dJ4Tn5yFp4AaABAg");
    assert_string_equal(c.items[2]->text, "It still crashes on Android 14 for "
                                          "me \xf0\x9f\x98\x95");
    assert_null(c.items[2]->content);

    /* A legacy name without @ is kept as it is. */
    it = c.items[3];
    assert_string_equal(it->author, "Mar\xc3\xad"
                                    "a Jos\xc3\xa9");
    assert_string_equal(it->author_name, "Mar\xc3\xad"
                                         "a Jos\xc3\xa9");
    assert_string_equal(it->text, "\xc2\xbf"
                                  "Cu\xc3\xa1ndo llega a M\xc3\xa9"
                                  "xico? \xf0\x9f\x87\xb2\xf0\x9f\x87\xbd");

    it = c.items[4];
    assert_string_equal(it->text, "Pricing page is confusing. 3 tiers < 1 "
                                  "clear answer");
    assert_string_equal(it->author, "dana.k");
    it = c.items[5];
    assert_string_equal(it->in_reply_to, "UgyTzKJm2bB8L9rQ6n14AaABAg");
    assert_string_equal(it->thread_root, "UgyTzKJm2bB8L9rQ6n14AaABAg");
    es_caught_release(&c);

    /* Channel-wide threads: each on its own video. */
    assert_int_equal(parse_fixture("youtube", "channel_threads.json", &c), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.items[0]->categories[0], "9bZkp7q19f0");
    assert_string_equal(c.items[0]->url,
                        "https://www.youtube.com/watch?v=9bZkp7q19f0&lc="
                        "UgxChAn1eL0pN3sR5e4AaABAg");
    assert_string_equal(c.items[1]->categories[0], "dQw4w9WgXcQ");
    es_caught_release(&c);
}

static void test_yt_parse_shapes(void **state)
{
    (void)state;
    struct es_caught c;

    /* comments.list (replies): no videoId in a comment's snippet. */
    assert_int_equal(parse_fixture("youtube", "comments_replies.json", &c), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0]->external_id,
                        "UgwQ7vS2h0dJ4Tn5yFp4AaABAg.A3Jf9sXkQ2bA3JfM3nB4vC");
    assert_string_equal(c.items[0]->in_reply_to, "UgwQ7vS2h0dJ4Tn5yFp4AaABAg");
    assert_string_equal(c.items[0]->thread_root, "UgwQ7vS2h0dJ4Tn5yFp4AaABAg");
    assert_string_equal(c.items[0]->text, "Does it work on the \xe2\x80\x9c"
                                          "free\xe2\x80\x9d tier?");
    assert_null(c.items[0]->url);
    assert_int_equal(c.items[0]->ncategories, 0);
    es_caught_release(&c);

    assert_int_equal(parse_fixture("youtube", "comment_threads_empty.json", &c),
                     0);
    assert_int_equal(c.n, 0);
    es_caught_release(&c);

    /* Error bodies name the kind; Google's markup is gone. */
    assert_int_equal(
        parse_fixture("youtube", "error_comments_disabled.json", &c), ES_EAUTH);
    assert_string_equal(es_error_last(),
                        "youtube: the API answered an error at $.error: 403 "
                        "The video identified by the videoId parameter has "
                        "disabled comments. (commentsDisabled)");
    es_caught_release(&c);
    assert_int_equal(parse_fixture("youtube", "error_quota.json", &c),
                     ES_ERATELIMIT);
    assert_non_null(strstr(es_error_last(), "youtube: "));
    assert_non_null(strstr(es_error_last(), "(quotaExceeded)"));
    es_caught_release(&c);
    assert_int_equal(parse_fixture("youtube", "error_key_invalid.json", &c),
                     ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "API key not valid"));
    es_caught_release(&c);
    assert_int_equal(parse_fixture("youtube", "error_video_not_found.json", &c),
                     ES_ENOTFOUND);
    es_caught_release(&c);

    /* One resource on its own; HTML only when textOriginal is absent. */
    assert_int_equal(
        parse_str("youtube",
                  "{\"kind\":\"youtube#comment\",\"id\":\"Ugx1\",\"snippet\":"
                  "{\"videoId\":\"abc\",\"textDisplay\":\"a &amp; b<br>c "
                  "<a href=\\\"x\\\">@d</a>\",\"authorDisplayName\":\"@\","
                  "\"publishedAt\":\"2024-01-02T03:04:05.000Z\"}}",
                  &c),
        0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0]->text, "a & b c @d");
    assert_non_null(strstr(c.items[0]->content, "<br>"));
    assert_string_equal(c.items[0]->author, "@");
    assert_string_equal(iso(c.items[0]->created_at), "2024-01-02T03:04:05Z");
    es_caught_release(&c);
    assert_int_equal(
        parse_str("youtube",
                  "{\"kind\":\"youtube#commentThread\",\"id\":\"T\","
                  "\"snippet\":{\"videoId\":\"v\",\"topLevelComment\":{"
                  "\"id\":\"T\",\"snippet\":{\"textOriginal\":\"a < b & "
                  "c\"}}}}",
                  &c),
        0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0]->text, "a < b & c");
    assert_null(c.items[0]->content);
    es_caught_release(&c);

    /* A comment the channel rejected is skipped. */
    assert_int_equal(
        parse_str("youtube",
                  "{\"kind\":\"youtube#commentListResponse\",\"items\":["
                  "{\"id\":\"a\",\"snippet\":{\"textOriginal\":\"spam\","
                  "\"moderationStatus\":\"rejected\"}},{\"id\":\"b\","
                  "\"snippet\":{\"textOriginal\":\"ok\",\"moderationStatus\":"
                  "\"published\"}}]}",
                  &c),
        0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0]->external_id, "b");
    es_caught_release(&c);
}

static void test_yt_parse_bad(void **state)
{
    (void)state;
    struct es_caught c;
    char *buf = fixture("youtube", "comment_threads.json");
    size_t len = strlen(buf);
    for (size_t cut = 0; cut + 2 < len; cut += 89) {
        char save = buf[cut];
        buf[cut] = '\0';
        assert_int_equal(parse_str("youtube", buf, &c), ES_EPARSE);
        assert_non_null(strstr(es_error_last(), "youtube: "));
        es_caught_release(&c);
        buf[cut] = save;
    }
    free(buf);

    assert_int_equal(parse_str("youtube", "[]", &c), ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "youtube: unexpected JSON at $:"));
    es_caught_release(&c);
    assert_int_equal(parse_str("youtube", "{\"items\":{}}", &c), ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "at $.items: expected an array"));
    es_caught_release(&c);
    /* A search.list answer holds videos: said so, not "a comment without
     * an id". */
    assert_int_equal(
        parse_str(
            "youtube",
            "{\"kind\":\"youtube#searchListResponse\",\"items\":[{\"kind\":"
            "\"youtube#searchResult\",\"id\":{\"kind\":\"youtube#video\","
            "\"videoId\":\"v1\"},\"snippet\":{\"title\":\"t\"}}]}",
            &c),
        ES_EPARSE);
    assert_non_null(strstr(es_error_last(),
                           "at $.kind: a youtube#searchListResponse, not "
                           "comments"));
    es_caught_release(&c);
    assert_int_equal(parse_str("youtube", "{\"foo\":1}", &c), ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "at $.items: missing"));
    es_caught_release(&c);
    assert_int_equal(parse_str("youtube", "{\"kind\":\"youtube#comment\"}", &c),
                     ES_EPARSE);
    assert_non_null(strstr(es_error_last(), "$.id"));
    es_caught_release(&c);

    /* Bad entries are named and skipped; good ones kept. */
    assert_int_equal(
        parse_str("youtube",
                  "{\"kind\":\"youtube#commentThreadListResponse\",\"items\":"
                  "[{\"id\":{}},\"x\",{\"kind\":\"youtube#commentThread\","
                  "\"snippet\":{\"topLevelComment\":{\"id\":\"ok\",\"snippet\":"
                  "{\"textOriginal\":\"fine\",\"authorDisplayName\":5,"
                  "\"publishedAt\":{},\"videoId\":[]}}}}]}",
                  &c),
        ES_EPARSE);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0]->external_id, "ok");
    assert_null(c.items[0]->author);
    assert_null(c.items[0]->url);
    assert_int_equal(c.items[0]->created_at, ES_TIME_UNKNOWN);
    assert_non_null(strstr(es_error_last(), "youtube: unexpected JSON at "
                                            "$.items[0]"));
    es_caught_release(&c);

    struct es_buf deep = ES_BUF_INIT;
    es_buf_adds(&deep, "{\"items\":");
    for (int i = 0; i < 100000; i++)
        es_buf_adds(&deep, "[{\"a\":");
    assert_int_equal(parse_str("youtube", deep.ptr, &c), ES_EPARSE);
    es_caught_release(&c);
    es_buf_release(&deep);
}

/* ==== youtube: through the poller ==== */

static void test_yt_videos_paging_replies(void **state)
{
    (void)state;
    static const char *const threads[] = { "comment_threads.json",
                                           "comment_threads_last.json",
                                           "comment_threads_empty.json" };
    static const char *const replies[] = { "comments_replies.json",
                                           "comments_replies_last.json" };
    route_files(YT_THR, "youtube", threads, 3);
    route_files(YT_COM, "youtube", replies, 2);
    es_testhttpd_clear_log(srv);
    struct es_source *src = open_ok("[source \"yt\"]\n"
                                    "type = youtube\n"
                                    "base_url = @BASE@\n"
                                    "token = " YT_KEY "\n"
                                    "videos = dQw4w9WgXcQ, 9bZkp7q19f0\n");
    struct es_polled p1, p2;
    es_polled_run(&p1, src, NULL, NULL);
    assert_int_equal(p1.failures, 0);
    /* Thread page, its missing replies (two pages), the next thread page,
     * then the second video. */
    assert_int_equal(p1.calls, 5);
    assert_int_equal(es_testhttpd_hits(srv, YT_THR), 3);
    assert_int_equal(es_testhttpd_hits(srv, YT_COM), 2);
    assert_param(YT_THR, 0, "part", "snippet,replies");
    assert_param(YT_THR, 0, "maxResults", "100");
    assert_param(YT_THR, 0, "order", "time");
    assert_param(YT_THR, 0, "textFormat", "plainText");
    assert_param(YT_THR, 0, "videoId", "dQw4w9WgXcQ");
    assert_param(YT_THR, 0, "key", YT_KEY);
    assert_param(YT_THR, 0, "pageToken", NULL);
    assert_param(YT_THR, 0, "allThreadsRelatedToChannelId", NULL);
    assert_param(YT_COM, 0, "part", "snippet");
    assert_param(YT_COM, 0, "parentId", "UgwQ7vS2h0dJ4Tn5yFp4AaABAg");
    assert_param(YT_COM, 0, "key", YT_KEY);
    assert_param(YT_COM, 0, "pageToken", NULL);
    assert_param(YT_COM, 1, "parentId", "UgwQ7vS2h0dJ4Tn5yFp4AaABAg");
    assert_param(YT_COM, 1, "pageToken",
                 "R0FJQVJBQkdBQ0lCQ2dRSUF4QUJLQUFxQ2dqOG1LYk9CaENZdmRmTw==");
    assert_param(YT_THR, 1, "videoId", "dQw4w9WgXcQ");
    assert_param(YT_THR, 1, "pageToken",
                 "Z2V0X25ld2VzdF9maXJzdC0tQ2dnSWdBUVZGN2ZST0JJRkNJa2dHQUFTQl"
                 "FpSUlCZ0FFZ1VJblNBWUFSSUZDSjBnR0FBU0JRaUhJQmdBR0FBaURnb01D"
                 "TF94MHJJR0VNaW1oNU1C");
    assert_param(YT_THR, 2, "videoId", "9bZkp7q19f0");
    assert_param(YT_THR, 2, "pageToken", NULL);
    char *auth = es_testhttpd_header(srv, YT_THR, 0, "Authorization");
    assert_null(auth);

    assert_int_equal(p1.items.n, 6 + 1 + 1 + 2);
    assert_no_duplicates(&p1.items, &p1.items);
    const struct es_item *r = es_caught_find(
        &p1.items, "UgwQ7vS2h0dJ4Tn5yFp4AaABAg.A3Jf9sXkQ2bA3JfQ7wE8rT");
    assert_non_null(r);
    assert_string_equal(r->url, "https://www.youtube.com/watch?v=dQw4w9WgXcQ&"
                                "lc=UgwQ7vS2h0dJ4Tn5yFp4AaABAg."
                                "A3Jf9sXkQ2bA3JfQ7wE8rT");
    assert_string_equal(r->categories[0], "dQw4w9WgXcQ");
    assert_string_equal(r->thread_root, "UgwQ7vS2h0dJ4Tn5yFp4AaABAg");

    /* The thread page's cursor waits for its replies; the pass under way
     * is stored with them; the mark with the last page. */
    assert_string_equal(p1.cursors[0], "{}");
    assert_string_equal(p1.cursors[1], "{}");
    assert_string_equal(p1.cursors[2],
                        "{\"video:dQw4w9WgXcQ\":{\"newest\":"
                        "\"2024-05-13T16:20:00Z\",\"page\":\"Z2V0X25ld2VzdF9m"
                        "aXJzdC0tQ2dnSWdBUVZGN2ZST0JJRkNJa2dHQUFTQlFpSUlCZ0FF"
                        "Z1VJblNBWUFSSUZDSjBnR0FBU0JRaUhJQmdBR0FBaURnb01DTF94"
                        "MHJJR0VNaW1oNU1C\"}}");
    assert_string_equal(p1.cursor, "{\"video:dQw4w9WgXcQ\":{\"since\":"
                                   "\"2024-05-13T16:20:00Z\"}}");

    /* Second poll: the other video goes first; the first video's page
     * reaches the mark, so no second page and nothing old again. */
    static const char *const again[] = { "comment_threads_empty.json",
                                         "comment_threads.json" };
    route_files(YT_THR, "youtube", again, 2);
    es_testhttpd_clear_log(srv);
    es_polled_run(&p2, src, p1.cursor, NULL);
    assert_int_equal(p2.failures, 0);
    assert_int_equal(es_testhttpd_hits(srv, YT_THR), 2);
    assert_int_equal(es_testhttpd_hits(srv, YT_COM), 0);
    assert_param(YT_THR, 0, "videoId", "9bZkp7q19f0");
    assert_param(YT_THR, 1, "videoId", "dQw4w9WgXcQ");
    assert_param(YT_THR, 1, "pageToken", NULL);
    assert_int_equal(p2.items.n, 0);
    assert_string_equal(p2.cursor, "{\"video:dQw4w9WgXcQ\":{\"since\":"
                                   "\"2024-05-13T16:20:00Z\"}}");
    es_polled_release(&p1);
    es_polled_release(&p2);

    /* A poll cut short between a page and its replies reads the page
     * again next time: nothing is lost. */
    route_file(YT_THR, "youtube", "comment_threads.json");
    struct es_testhttpd_response boom = { .status = 500, .body = "oops" };
    es_testhttpd_route(srv, YT_COM, &boom);
    es_source_free(src);
    src = open_ok("[source \"yt\"]\n"
                  "type = youtube\n"
                  "base_url = @BASE@\n"
                  "token = " YT_KEY "\n"
                  "videos = dQw4w9WgXcQ\n");
    es_polled_run(&p1, src,
                  "{\"video:dQw4w9WgXcQ\":{\"since\":"
                  "\"2024-05-13T10:00:00Z\"}}",
                  NULL);
    assert_int_equal(p1.status, ES_ENETWORK);
    assert_null(strstr(p1.error, YT_KEY));
    assert_non_null(strstr(p1.error, "key=REDACTED"));
    assert_string_equal(p1.cursor, "{\"video:dQw4w9WgXcQ\":{\"since\":"
                                   "\"2024-05-13T10:00:00Z\"}}");
    es_polled_release(&p1);
    es_source_free(src);
}

static void test_yt_channel_resume(void **state)
{
    (void)state;
    static const char *const threads[] = { "channel_threads.json",
                                           "comment_threads_last.json" };
    route_files(YT_THR, "youtube", threads, 2);
    es_testhttpd_clear_log(srv);
    struct es_source *src = open_ok("[source \"ch\"]\n"
                                    "type = youtube\n"
                                    "base_url = @BASE@\n"
                                    "token = " YT_KEY "\n"
                                    "channel = UCq3Wm0Vx9Zt6Kk1Acme00000\n"
                                    "max_pages = 1\n"
                                    "context = no\n");
    struct es_polled p1, p2;
    es_polled_run(&p1, src,
                  "{\"channel:UCq3Wm0Vx9Zt6Kk1Acme00000\":{\"since\":"
                  "\"2024-05-13T00:00:00Z\"}}",
                  NULL);
    assert_int_equal(es_testhttpd_hits(srv, YT_THR), 1);
    assert_param(YT_THR, 0, "allThreadsRelatedToChannelId",
                 "UCq3Wm0Vx9Zt6Kk1Acme00000");
    assert_param(YT_THR, 0, "videoId", NULL);
    assert_int_equal(p1.items.n, 2);
    assert_string_equal(p1.cursor,
                        "{\"channel:UCq3Wm0Vx9Zt6Kk1Acme00000\":{\"since\":"
                        "\"2024-05-13T00:00:00Z\",\"newest\":"
                        "\"2024-05-14T09:00:00Z\",\"page\":"
                        "\"QURTSl9pMHg2MkRZY2VfUUdoR1FfX1hDWTdtbnNSVjlKRWFYQj"
                        "daZ3Rsc3A=\"}}");
    es_polled_run(&p2, src, p1.cursor, NULL);
    assert_int_equal(es_testhttpd_hits(srv, YT_THR), 2);
    assert_param(YT_THR, 1, "pageToken",
                 "QURTSl9pMHg2MkRZY2VfUUdoR1FfX1hDWTdtbnNSVjlKRWFYQjdaZ3Rsc"
                 "3A=");
    assert_int_equal(p2.items.n, 2);
    assert_no_duplicates(&p1.items, &p2.items);
    assert_string_equal(p2.cursor,
                        "{\"channel:UCq3Wm0Vx9Zt6Kk1Acme00000\":{\"since\":"
                        "\"2024-05-14T09:00:00Z\"}}");
    es_polled_release(&p1);
    es_polled_release(&p2);
    es_source_free(src);
}

/* An expired pageToken restarts the pass once; an empty page that still
 * has a nextPageToken is not the end. */
static void test_yt_page_token_and_empty_pages(void **state)
{
    (void)state;
    char *last = fixture("youtube", "comment_threads_last.json");
    struct es_testhttpd_response seq[] = {
        { .status = 400,
          .body = "{\"error\":{\"code\":400,\"message\":\"The request "
                  "specifies an invalid page token.\",\"errors\":[{"
                  "\"message\":\"The request specifies an invalid page "
                  "token.\",\"domain\":\"youtube.parameter\",\"reason\":"
                  "\"invalidPageToken\",\"location\":\"pageToken\","
                  "\"locationType\":\"parameter\"}]}}" },
        { .body = "{\"kind\":\"youtube#commentThreadListResponse\","
                  "\"nextPageToken\":\"EMPTY2\",\"pageInfo\":{"
                  "\"totalResults\":0,\"resultsPerPage\":100},\"items\":[]}" },
        { .body = last },
    };
    es_testhttpd_route_seq(srv, YT_THR, seq, 3);
    es_testhttpd_clear_log(srv);
    struct es_source *src = open_ok("[source \"yt3\"]\n"
                                    "type = youtube\n"
                                    "base_url = @BASE@\n"
                                    "token = " YT_KEY "\n"
                                    "videos = dQw4w9WgXcQ\n");
    struct es_polled p;
    es_polled_run(&p, src,
                  "{\"video:dQw4w9WgXcQ\":{\"since\":\"2024-05-13T13:00:00Z\","
                  "\"newest\":\"2024-05-13T18:00:00Z\",\"page\":\"OLD\"}}",
                  NULL);
    assert_int_equal(p.failures, 0);
    assert_int_equal(es_testhttpd_hits(srv, YT_THR), 3);
    assert_param(YT_THR, 0, "pageToken", "OLD");
    assert_param(YT_THR, 1, "pageToken", NULL);
    assert_param(YT_THR, 2, "pageToken", "EMPTY2");
    /* Only the thread newer than the mark; the mark stays where it was
     * since the pass found nothing dated on its first page. */
    assert_int_equal(p.items.n, 1);
    assert_string_equal(p.items.items[0]->external_id,
                        "UgxFv8tQ2kL0pN3sR5e4AaABAg");
    assert_string_equal(p.cursor, "{\"video:dQw4w9WgXcQ\":{\"since\":"
                                  "\"2024-05-13T13:00:00Z\"}}");
    es_polled_release(&p);
    free(last);
    es_source_free(src);
}

static void test_yt_errors_and_secrets(void **state)
{
    (void)state;
    char *disabled = fixture("youtube", "error_comments_disabled.json");
    char *last = fixture("youtube", "comment_threads_last.json");
    struct es_polled p;

    /* A video with comments off is skipped while another is left. */
    struct es_testhttpd_response seq[] = {
        { .status = 403, .body = disabled },
        { .body = last },
    };
    es_testhttpd_route_seq(srv, YT_THR, seq, 2);
    es_testhttpd_clear_log(srv);
    struct es_source *src = open_ok("[source \"yt2\"]\n"
                                    "type = youtube\n"
                                    "base_url = @BASE@\n"
                                    "token = " YT_KEY "\n"
                                    "videos = dQw4w9WgXcQ,9bZkp7q19f0,\n");
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(es_testhttpd_hits(srv, YT_THR), 2);
    assert_param(YT_THR, 1, "videoId", "9bZkp7q19f0");
    assert_int_equal(p.failures, 0);
    assert_int_equal(p.items.n, 2);
    es_polled_release(&p);
    es_source_free(src);

    /* Alone, it is reported, without the key. */
    struct es_testhttpd_response r403 = { .status = 403, .body = disabled };
    es_testhttpd_route(srv, YT_THR, &r403);
    src = open_ok("[source \"yt1\"]\n"
                  "type = youtube\n"
                  "base_url = @BASE@\n"
                  "token = " YT_KEY "\n"
                  "videos = dQw4w9WgXcQ\n");
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.status, ES_EAUTH);
    assert_non_null(strstr(p.error, "HTTP 403"));
    assert_non_null(strstr(p.error, "disabled comments"));
    assert_null(strstr(p.error, YT_KEY));
    assert_null(strstr(p.error, "s3cr3t"));
    es_polled_release(&p);

    /* Quota, a bad key, a 429 with Retry-After: never the key. */
    char *quota = fixture("youtube", "error_quota.json");
    char *badkey = fixture("youtube", "error_key_invalid.json");
    struct es_testhttpd_response rq = { .status = 403, .body = quota };
    es_testhttpd_route(srv, YT_THR, &rq);
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.status, ES_EAUTH);
    assert_non_null(strstr(p.error, "quota"));
    assert_null(strstr(p.error, "s3cr3t"));
    es_polled_release(&p);
    struct es_testhttpd_response rk = { .status = 400, .body = badkey };
    es_testhttpd_route(srv, YT_THR, &rk);
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.status, ES_ENETWORK);
    assert_non_null(strstr(p.error, "API key not valid"));
    assert_null(strstr(p.error, "s3cr3t"));
    es_polled_release(&p);
    struct es_testhttpd_response r429 = {
        .status = 429,
        .headers = "Retry-After: 30\r\n",
        .body = "{\"error\":{\"code\":429,\"message\":\"Resource has been "
                "exhausted (e.g. check quota).\",\"errors\":[{\"reason\":"
                "\"rateLimitExceeded\"}]}}",
    };
    es_testhttpd_route(srv, YT_THR, &r429);
    es_polled_run(&p, src,
                  "{\"video:dQw4w9WgXcQ\":{\"since\":"
                  "\"2024-05-13T10:00:00Z\"}}",
                  NULL);
    assert_int_equal(p.status, ES_ERATELIMIT);
    assert_int_equal(p.retry_after, 30);
    assert_null(p.cursor);
    assert_null(strstr(p.error, "s3cr3t"));
    es_polled_release(&p);

    /* An error in a 200 body, and junk: the kind's own messages. */
    struct es_testhttpd_response e200 = { .body = quota };
    es_testhttpd_route(srv, YT_THR, &e200);
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.status, ES_ERATELIMIT);
    assert_non_null(strstr(p.error, "youtube 'yt1': the API answered an "
                                    "error"));
    assert_null(strstr(p.error, "s3cr3t"));
    es_polled_release(&p);
    struct es_testhttpd_response junk = { .body = "<html>oops</html>" };
    es_testhttpd_route(srv, YT_THR, &junk);
    es_polled_run(&p, src, NULL, NULL);
    assert_int_equal(p.status, ES_EPARSE);
    assert_non_null(strstr(p.error, "youtube 'yt1': invalid JSON"));
    assert_null(strstr(p.error, "s3cr3t"));
    es_polled_release(&p);

    es_source_free(src);
    free(disabled);
    free(last);
    free(quota);
    free(badkey);
}

static void test_yt_open_errors(void **state)
{
    (void)state;
    struct es_source *src = NULL;
    assert_int_equal(open_conf("[source \"a\"]\ntype = youtube\n"
                               "videos = dQw4w9WgXcQ\n",
                               &src),
                     ES_EINVALID);
    assert_null(src);
    assert_string_equal(es_error_last(), "test.conf:1: [source \"a\"] needs "
                                         "an API key (token or token_file)");
    assert_int_equal(
        open_conf("[source \"b\"]\ntype = youtube\ntoken = " YT_KEY "\n", &src),
        ES_EINVALID);
    assert_string_equal(es_error_last(), "test.conf:1: [source \"b\"] needs a "
                                         "channel or videos");
    assert_int_equal(open_conf("[source \"c\"]\ntype = youtube\ntoken = " YT_KEY
                               "\nvideos = dQw4w9WgXcQ, "
                               "https://youtu.be/x\n",
                               &src),
                     ES_EINVALID);
    assert_non_null(strstr(es_error_last(),
                           "'https://youtu.be/x' in videos is not a video id"));
    assert_null(strstr(es_error_last(), "s3cr3t"));
    assert_int_equal(open_conf("[source \"d\"]\ntype = youtube\ntoken = " YT_KEY
                               "\nchannel = @acme\n",
                               &src),
                     ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "channel '@acme' is not a channel "
                                            "id"));
    assert_int_equal(open_conf("[source \"e\"]\ntype = youtube\ntoken = " YT_KEY
                               "\nvideos = ,\n",
                               &src),
                     ES_EINVALID);
    assert_int_equal(open_conf("[source \"f\"]\ntype = youtube\ntoken = " YT_KEY
                               "\nchannel = UCq3Wm0Vx9Zt6Kk1Acme00000\n"
                               "videos = a1,b2\n",
                               &src),
                     0);
    assert_string_equal(src->ops->name, "youtube");
    es_source_free(src);
}

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
        cmocka_unit_test(test_x_expands_links),
        cmocka_unit_test(test_x_hashtags_and_id_time),
        cmocka_unit_test(test_x_edits),
        cmocka_unit_test(test_x_parse_search),
        cmocka_unit_test(test_x_parse_shapes),
        cmocka_unit_test(test_x_parse_bad),
        cmocka_unit_test(test_x_search_paging),
        cmocka_unit_test(test_x_mentions_resume),
        cmocka_unit_test(test_x_both_streams_context),
        cmocka_unit_test(test_x_rate_limit),
        cmocka_unit_test(test_x_errors_and_secrets),
        cmocka_unit_test(test_x_open_errors),
        cmocka_unit_test(test_yt_parse_threads),
        cmocka_unit_test(test_yt_parse_shapes),
        cmocka_unit_test(test_yt_parse_bad),
        cmocka_unit_test(test_yt_videos_paging_replies),
        cmocka_unit_test(test_yt_channel_resume),
        cmocka_unit_test(test_yt_page_token_and_empty_pages),
        cmocka_unit_test(test_yt_errors_and_secrets),
        cmocka_unit_test(test_yt_open_errors),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int failed = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return failed;
}
