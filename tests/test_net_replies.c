/* test_net_replies.c - public replies, exactly once, against fake platforms
 *
 * A loopback server (tests/support/testhttpd.h) plays every platform and
 * records what it receives; the tests assert the exact request per
 * platform (method, path, auth header, body fields, idempotency key), the
 * outbox's states after successes, retries, refusals and garbage, the
 * sender killed with SIGKILL while its request is in flight (the platform
 * still gets exactly one post), two agents answering one conversation at
 * once, viewers, and the checks done before anything is queued.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* cmocka needs stdarg, stddef and setjmp first. */
#include <cmocka.h>

#include <curl/curl.h>
#include <sqlite3.h>
#include <yajl/yajl_tree.h>

#include "earshot/alloc.h"
#include "earshot/buf.h"
#include "earshot/config.h"
#include "earshot/error.h"
#include "earshot/inbox.h"
#include "earshot/outbox.h"
#include "earshot/triage.h"
#include "earshot/workflow.h"
#include "fixtures.h"
#include "inbox/store.h"
#include "runcli.h"
#include "testhttpd.h"

static char tmpdir[] = "/tmp/es-replies-XXXXXX";

struct fx {
    struct es_testhttpd *srv;
    struct es_config *cfg;
    struct es_inbox *ib;
    char *cfg_path;
    char *db_path;
};

static int ntest;

/* ==== Fixture ==== */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    struct fx *fx = es_xcalloc(1, sizeof(*fx));
    if (es_testhttpd_open(&fx->srv, 0) < 0)
        return -1;
    char *url = es_testhttpd_url(fx->srv, "");
    fx->db_path = es_xasprintf("%s/replies-%d.db", tmpdir, ++ntest);
    fx->cfg_path = es_xasprintf("%s/replies-%d.conf", tmpdir, ntest);
    char *text = es_xasprintf(
        "[earshot]\n"
        "database = %s\n"
        "claim_ttl = 600\n"
        "[account \"acme-mastodon\"]\n"
        "type = mastodon\nbase_url = %s\ntoken = masto-secret-1\n"
        "[account \"acme-bsky\"]\n"
        "type = bluesky\nbase_url = %s\nhandle = acme.bsky.social\n"
        "app_password = bsky-secret-2\n"
        "[account \"acme-x\"]\n"
        "type = x\nbase_url = %s\ntoken = x-secret-3\n"
        "[account \"bare-x\"]\n"
        "type = x\nbase_url = %s\n"
        "[account \"acme-reddit\"]\n"
        "type = reddit\nbase_url = %s\nclient_id = cid-4\n"
        "client_secret = csecret-5\nusername = acme\npassword = rpass-6\n"
        "user_agent = earshot-test/1.0\n"
        "[account \"half-reddit\"]\n"
        "type = reddit\nclient_id = cid-4\nclient_secret = csecret-5\n"
        "[account \"acme-yt\"]\n"
        "type = youtube\nbase_url = %s\ntoken = yt-secret-7\n"
        "[account \"acme-play\"]\n"
        "type = googleplay\nbase_url = %s\ntoken = play-secret-8\n"
        "package = com.acme.app\n"
        "[account \"acme-gh\"]\n"
        "type = github\nbase_url = %s\ntoken = gh-secret-9\n"
        "[account \"nopass-bsky\"]\n"
        "type = bluesky\nhandle = other.bsky.social\n",
        fx->db_path, url, url, url, url, url, url, url, url);
    write_file(fx->cfg_path, text);
    free(text);
    free(url);
    if (es_config_load(&fx->cfg, fx->cfg_path) < 0) {
        fprintf(stderr, "config: %s\n", es_error_last());
        return -1;
    }
    if (es_inbox_open(&fx->ib, fx->db_path) < 0)
        return -1;
    if (es_agent_add(fx->ib, "dana", ES_ROLE_ADMIN, NULL) < 0 ||
        es_agent_add(fx->ib, "sam", ES_ROLE_AGENT, NULL) < 0 ||
        es_agent_add(fx->ib, "vic", ES_ROLE_VIEWER, NULL) < 0)
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    es_inbox_free(fx->ib);
    es_config_free(fx->cfg);
    es_testhttpd_free(fx->srv);
    free(fx->cfg_path);
    free(fx->db_path);
    free(fx);
    return 0;
}

struct mention_spec {
    const char *platform;
    const char *id;
    const char *author;
    const char *url;
    const char *reply_ref;
    const char *thread_root;
    const char *title;
};

static int64_t add_mention(struct es_inbox *ib, const struct mention_spec *s)
{
    int64_t sid, id = 0;
    assert_int_equal(es_inbox_source_ensure(ib, s->platform, s->platform, &sid),
                     0);
    struct es_item it;
    es_item_init(&it);
    it.platform = es_xstrdup(s->platform);
    it.source = es_xstrdup(s->platform);
    it.external_id = es_xstrdup(s->id);
    it.author = s->author ? es_xstrdup(s->author) : NULL;
    it.url = s->url ? es_xstrdup(s->url) : NULL;
    it.reply_ref = s->reply_ref ? es_xstrdup(s->reply_ref) : NULL;
    it.thread_root = s->thread_root ? es_xstrdup(s->thread_root) : NULL;
    it.title = s->title ? es_xstrdup(s->title) : NULL;
    it.text = es_xstrdup("my account is locked, please help");
    it.kind = ES_KIND_POST;
    it.created_at = es_time_now() - 60;
    assert_int_equal(es_inbox_put(ib, sid, &it, NULL, NULL, &id), 0);
    es_item_release(&it);
    assert_true(id > 0);
    return id;
}

static int64_t mastodon_mention(struct es_inbox *ib)
{
    const struct mention_spec s = {
        "mastodon",
        "110001",
        "carol@example.social",
        "https://example.social/@carol/110001",
        "{\"id\":\"110001\",\"acct\":\"carol@example.social\"}",
        NULL,
        NULL,
    };
    return add_mention(ib, &s);
}

static int64_t queue(struct fx *fx, int64_t mention, const char *agent,
                     const char *text, int private_message, int64_t expect)
{
    struct es_reply_request rq = {
        .mention_id = mention,
        .agent = agent,
        .body = text,
        .private_message = private_message,
        .expect_version = expect,
    };
    int64_t id = 0;
    int rc = es_outbox_queue(fx->ib, fx->cfg, &rq, &id);
    if (rc < 0)
        fprintf(stderr, "queue: %s\n", es_error_last());
    assert_int_equal(rc, 0);
    assert_true(id > 0);
    return id;
}

static void route_json(struct fx *fx, const char *path, int status,
                       const char *body)
{
    struct es_testhttpd_response r = {
        .status = status,
        .content_type = "application/json",
        .body = body,
    };
    es_testhttpd_route(fx->srv, path, &r);
}

/* Shows why a reply was not sent, for a failing test's log. */
static void show_report(const struct es_send_report *r, void *payload)
{
    (void)payload;
    if (r->state != ES_REPLY_SENT && getenv("ES_TEST_VERBOSE"))
        fprintf(stderr, "reply %lld: %s: %s\n", (long long)r->reply_id,
                es_reply_state_name(r->state), r->error ? r->error : "");
}

static struct es_send_stats send_due(struct fx *fx)
{
    struct es_send_stats st;
    assert_int_equal(
        es_replies_send_due(fx->ib, fx->cfg, show_report, NULL, &st), 0);
    return st;
}

static void get_reply(struct fx *fx, int64_t id, struct es_reply *r)
{
    assert_int_equal(es_outbox_get(fx->ib, id, r), 0);
}

/* The JSON body of the @nth request to @path, parsed. */
static yajl_val body_json(struct fx *fx, const char *path, long nth)
{
    char *body = es_testhttpd_body(fx->srv, path, nth);
    assert_non_null(body);
    char err[128];
    yajl_val v = yajl_tree_parse(body, err, sizeof(err));
    if (!v)
        fprintf(stderr, "not JSON: %s\n", body);
    assert_non_null(v);
    free(body);
    return v;
}

static const char *jstr(yajl_val v, ...)
{
    const char *path[8];
    size_t n = 0;
    va_list ap;
    va_start(ap, v);
    const char *k;
    while ((k = va_arg(ap, const char *)) != NULL && n < 7)
        path[n++] = k;
    va_end(ap);
    path[n] = NULL;
    yajl_val s = yajl_tree_get(v, path, yajl_t_string);
    return s ? YAJL_GET_STRING(s) : NULL;
}

static void assert_header(struct fx *fx, const char *path, long nth,
                          const char *name, const char *want)
{
    char *h = es_testhttpd_header(fx->srv, path, nth, name);
    if (!h || strcmp(h, want) != 0)
        fprintf(stderr, "%s of %s: '%s', want '%s'\n", name, path,
                h ? h : "(none)", want);
    assert_non_null(h);
    assert_string_equal(h, want);
    free(h);
}

static void assert_method(struct fx *fx, const char *path, long nth,
                          const char *want)
{
    char *m = es_testhttpd_method(fx->srv, path, nth);
    assert_non_null(m);
    assert_string_equal(m, want);
    free(m);
}

/* The value of form field @name in @body, decoded, or NULL (caller frees). */
static char *form_field(const char *body, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = body; p && *p; p = strchr(p, '&'), p = p ? p + 1 : p) {
        if (strncmp(p, name, n) == 0 && p[n] == '=') {
            const char *v = p + n + 1;
            int len = (int)strcspn(v, "&");
            int outlen;
            char *dec = curl_easy_unescape(NULL, v, len, &outlen);
            char *copy = es_xstrdup(dec);
            curl_free(dec);
            return copy;
        }
    }
    return NULL;
}

static int64_t one_int(struct fx *fx, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(es_inbox__db(fx->ib), sql, -1, &st, NULL),
        SQLITE_OK);
    int64_t v = -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_type(st, 0) == SQLITE_NULL
                ? INT64_MIN
                : sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void exec_sql(struct fx *fx, const char *sql)
{
    assert_int_equal(sqlite3_exec(es_inbox__db(fx->ib), sql, NULL, NULL, NULL),
                     SQLITE_OK);
}

/* ==== Lengths as the platforms count them ==== */

static void test_lengths(void **state)
{
    (void)state;
    long n, limit;
    /* Mastodon: graphemes; a URL is 23, @user@domain counts as @user. */
    assert_int_equal(es_outbox_text_length("mastodon", 0, "hello", &n, &limit),
                     0);
    assert_int_equal(n, 5);
    assert_int_equal(limit, 500);
    assert_int_equal(
        es_outbox_text_length("mastodon", 0,
                              "@carol@example.social see "
                              "https://status.example.com/incidents/12345678",
                              &n, &limit),
        0);
    assert_int_equal(n, 6 + 5 + 23);
    /* é as e + combining accent is one grapheme. */
    assert_int_equal(
        es_outbox_text_length("mastodon", 0, "caf\x65\xCC\x81", &n, &limit), 0);
    assert_int_equal(n, 4);

    /* X: Latin 1, CJK 2, an emoji (even a ZWJ family) 2, a URL 23. */
    assert_int_equal(es_outbox_text_length("x", 0, "abc", &n, &limit), 0);
    assert_int_equal(n, 3);
    assert_int_equal(limit, 280);
    assert_int_equal(
        es_outbox_text_length("x", 0, "\xE4\xBD\xA0\xE5\xA5\xBD", &n, &limit),
        0);
    assert_int_equal(n, 4);
    assert_int_equal(
        es_outbox_text_length("x", 0,
                              "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9"
                              "\xE2\x80\x8D\xF0\x9F\x91\xA7",
                              &n, &limit),
        0);
    assert_int_equal(n, 2);
    assert_int_equal(
        es_outbox_text_length("x", 0,
                              "go https://example.com/a/very/long/path"
                              "/that/goes/on/and/on.",
                              &n, &limit),
        0);
    assert_int_equal(n, 3 + 23 + 1);
    assert_int_equal(
        es_outbox_text_length("x", 0, "see acme.com now", &n, &limit), 0);
    assert_int_equal(n, 4 + 23 + 4);
    assert_int_equal(es_outbox_text_length("x", 1, "\xE4\xBD\xA0", &n, &limit),
                     0);
    assert_int_equal(limit, 10000);

    /* Bluesky: graphemes; a flag and a family are one each. */
    assert_int_equal(es_outbox_text_length("bluesky", 0,
                                           "\xF0\x9F\x87\xAB\xF0\x9F\x87\xB7"
                                           "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0"
                                           "\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F"
                                           "\x91\xA7!",
                                           &n, &limit),
                     0);
    assert_int_equal(n, 3);
    assert_int_equal(limit, 300);
    assert_int_equal(
        es_outbox_text_length("googleplay", 0, "thanks", &n, &limit), 0);
    assert_int_equal(limit, 350);

    /* No reply API, no private messages, not UTF-8. */
    assert_int_equal(es_outbox_text_length("hackernews", 0, "x", &n, &limit),
                     ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "Hacker News"));
    assert_int_equal(es_outbox_text_length("rss", 0, "x", &n, &limit),
                     ES_EINVALID);
    assert_int_equal(es_outbox_text_length("youtube", 1, "x", &n, &limit),
                     ES_EINVALID);
    assert_int_equal(es_outbox_text_length("x", 0, "bad \xC3", &n, &limit),
                     ES_EINVALID);
}

/* ==== The exact request per platform ==== */

/* An '@' nearer the end of the reply than the author's handle is long
 * (an address) is no mention of the author: the handle goes in front. The
 * check once read past the reply there (AddressSanitizer). */
static void test_mastodon_address_is_no_mention(void **state)
{
    struct fx *fx = *state;
    int64_t m = mastodon_mention(fx->ib);
    int64_t id = queue(fx, m, "dana", "Write to help@acme.io", 0, 0);
    struct es_reply r;
    get_reply(fx, id, &r);
    assert_string_equal(r.body, "@carol@example.social Write to help@acme.io");
    es_reply_release(&r);
}

static void test_mastodon(void **state)
{
    struct fx *fx = *state;
    int64_t m = mastodon_mention(fx->ib);
    int64_t id = queue(fx, m, "dana", "We are on it, sorry!", 0, 0);
    struct es_reply r;
    get_reply(fx, id, &r);
    assert_int_equal(r.state, ES_REPLY_QUEUED);
    /* The author is mentioned in front: the stored text is what goes out. */
    assert_string_equal(r.body, "@carol@example.social We are on it, sorry!");
    assert_int_equal(strlen(r.idempotency_key), 32);
    char *key = es_xstrdup(r.idempotency_key);
    es_reply_release(&r);

    route_json(fx, "/api/v1/statuses", 200,
               "{\"id\":\"110002\",\"url\":\"https://m.example/@acme/110002\","
               "\"uri\":\"https://m.example/users/acme/statuses/110002\"}");
    struct es_send_stats st = send_due(fx);
    assert_int_equal(st.sent, 1);
    assert_int_equal(es_testhttpd_hits(fx->srv, "/api/v1/statuses"), 1);
    assert_method(fx, "/api/v1/statuses", 0, "POST");
    assert_header(fx, "/api/v1/statuses", 0, "Authorization",
                  "Bearer masto-secret-1");
    assert_header(fx, "/api/v1/statuses", 0, "Idempotency-Key", key);
    yajl_val b = body_json(fx, "/api/v1/statuses", 0);
    assert_string_equal(jstr(b, "status", NULL),
                        "@carol@example.social We are on it, sorry!");
    assert_string_equal(jstr(b, "in_reply_to_id", NULL), "110001");
    assert_null(jstr(b, "visibility", NULL));
    yajl_tree_free(b);

    get_reply(fx, id, &r);
    assert_int_equal(r.state, ES_REPLY_SENT);
    assert_string_equal(r.platform_id, "110002");
    assert_string_equal(r.url, "https://m.example/@acme/110002");
    assert_true(r.sent_at != ES_TIME_UNKNOWN);
    assert_int_equal(r.attempts, 1);
    es_reply_release(&r);
    assert_true(one_int(fx, "SELECT first_response_at FROM conversations"
                            " WHERE key = 'mastodon:110001'") > 0);
    assert_int_equal(one_int(fx, "SELECT count(*) FROM audit WHERE action ="
                                 " 'reply' AND agent = 'dana'"),
                     1);
    assert_int_equal(one_int(fx, "SELECT count(*) FROM audit WHERE action ="
                                 " 'reply sent'"),
                     1);

    /* Nothing is due any more: a second pass sends nothing. */
    st = send_due(fx);
    assert_int_equal(st.sent, 0);
    assert_int_equal(es_testhttpd_hits(fx->srv, "/api/v1/statuses"), 1);

    /* Our reply, polled again, is not a new mention. */
    int64_t sid;
    es_inbox_source_ensure(fx->ib, "mastodon", "mastodon", &sid);
    struct es_item it;
    es_item_init(&it);
    it.platform = es_xstrdup("mastodon");
    it.external_id = es_xstrdup("110002");
    it.text = es_xstrdup("We are on it, sorry!");
    long long before = es_inbox_count(fx->ib);
    assert_int_equal(es_inbox_put(fx->ib, sid, &it, NULL, NULL, NULL), 0);
    assert_int_equal(es_inbox_count(fx->ib), before);
    es_item_release(&it);

    /* A private message is a direct status, also keyed. */
    id = queue(fx, m, "dana", "Could you DM us your account email?", 1, 0);
    send_due(fx);
    b = body_json(fx, "/api/v1/statuses", 1);
    assert_string_equal(jstr(b, "visibility", NULL), "direct");
    assert_non_null(strstr(jstr(b, "status", NULL), "@carol@example.social "));
    yajl_tree_free(b);
    get_reply(fx, id, &r);
    assert_int_equal(r.state, ES_REPLY_SENT);
    assert_int_equal(r.private_message, 1);
    es_reply_release(&r);
    free(key);

    /* A public reply is never wider than the status it answers: to a
     * direct message it is direct, to a followers-only post followers-only,
     * to an unlisted one unlisted. */
    static const char *const vis[] = { "direct", "private", "unlisted",
                                       "limited" };
    static const char *const sent[] = { "direct", "private", "unlisted",
                                        "private" }; /* a fork's: narrow */
    for (int i = 0; i < 4; i++) {
        char sid_s[16], ref[128];
        snprintf(sid_s, sizeof(sid_s), "11010%d", i);
        snprintf(ref, sizeof(ref),
                 "{\"id\":\"%s\",\"acct\":\"carol@example.social\","
                 "\"visibility\":\"%s\"}",
                 sid_s, vis[i]);
        const struct mention_spec dm = {
            "mastodon", sid_s, "carol@example.social", NULL, ref, NULL, NULL,
        };
        int64_t dm_id = add_mention(fx->ib, &dm);
        queue(fx, dm_id, "dana", "Thanks, looking into it.", 0, 0);
        send_due(fx);
        b = body_json(fx, "/api/v1/statuses", 2 + i);
        assert_string_equal(jstr(b, "in_reply_to_id", NULL), sid_s);
        assert_string_equal(jstr(b, "visibility", NULL), sent[i]);
        yajl_tree_free(b);
    }
}

/* Carol's Bluesky post, in a thread whose root is another post. */
static const struct mention_spec carol_bluesky = {
    "bluesky",
    "at://did:plc:carol/app.bsky.feed.post/3kabc",
    "carol.bsky.social",
    "https://bsky.app/profile/carol.bsky.social/post/3kabc",
    "{\"uri\":\"at://did:plc:carol/app.bsky.feed.post/3kabc\",\"cid\":"
    "\"bafyparent\",\"root_uri\":\"at://did:plc:root/app.bsky.feed.post/"
    "3kroot\",\"root_cid\":\"bafyroot\"}",
    "at://did:plc:root/app.bsky.feed.post/3kroot",
    NULL,
};

/* The PDS logs the brand's account in as did:plc:acme. */
static void route_bluesky_session(struct fx *fx)
{
    route_json(fx, "/xrpc/com.atproto.server.createSession", 200,
               "{\"accessJwt\":\"jwt-1\",\"refreshJwt\":\"r\",\"handle\":"
               "\"acme.bsky.social\",\"did\":\"did:plc:acme\"}");
}

static void test_bluesky(void **state)
{
    struct fx *fx = *state;
    int64_t m = add_mention(fx->ib, &carol_bluesky);
    int64_t id = queue(fx, m, "dana", "Sorry about that, fixed now.", 0, 0);

    route_bluesky_session(fx);
    route_json(fx, "/xrpc/com.atproto.repo.createRecord", 200,
               "{\"uri\":\"at://did:plc:acme/app.bsky.feed.post/3kreply\","
               "\"cid\":\"bafyreply\"}");
    struct es_send_stats st = send_due(fx);
    assert_int_equal(st.sent, 1);

    yajl_val b = body_json(fx, "/xrpc/com.atproto.server.createSession", 0);
    assert_string_equal(jstr(b, "identifier", NULL), "acme.bsky.social");
    assert_string_equal(jstr(b, "password", NULL), "bsky-secret-2");
    yajl_tree_free(b);
    assert_method(fx, "/xrpc/com.atproto.repo.createRecord", 0, "POST");
    assert_header(fx, "/xrpc/com.atproto.repo.createRecord", 0, "Authorization",
                  "Bearer jwt-1");
    b = body_json(fx, "/xrpc/com.atproto.repo.createRecord", 0);
    assert_string_equal(jstr(b, "repo", NULL), "did:plc:acme");
    assert_string_equal(jstr(b, "collection", NULL), "app.bsky.feed.post");
    const char *rkey = jstr(b, "rkey", NULL);
    assert_non_null(rkey);
    assert_int_equal(strlen(rkey), 13);
    assert_int_equal(strspn(rkey, "234567abcdefghijklmnopqrstuvwxyz"), 13);
    assert_string_equal(jstr(b, "record", "$type", NULL), "app.bsky.feed.post");
    assert_string_equal(jstr(b, "record", "text", NULL),
                        "Sorry about that, fixed now.");
    assert_string_equal(jstr(b, "record", "reply", "parent", "uri", NULL),
                        "at://did:plc:carol/app.bsky.feed.post/3kabc");
    assert_string_equal(jstr(b, "record", "reply", "parent", "cid", NULL),
                        "bafyparent");
    assert_string_equal(jstr(b, "record", "reply", "root", "uri", NULL),
                        "at://did:plc:root/app.bsky.feed.post/3kroot");
    assert_string_equal(jstr(b, "record", "reply", "root", "cid", NULL),
                        "bafyroot");
    assert_non_null(jstr(b, "record", "createdAt", NULL));
    yajl_tree_free(b);
    struct es_reply r;
    get_reply(fx, id, &r);
    assert_int_equal(r.state, ES_REPLY_SENT);
    assert_string_equal(r.platform_id,
                        "at://did:plc:acme/app.bsky.feed.post/3kreply");
    assert_non_null(strstr(r.url, "https://bsky.app/profile/acme.bsky.social/"
                                  "post/"));
    es_reply_release(&r);

    /* A 500 from the PDS: the record may exist. The retry asks for the
     * same record key first, finds it, and does not post again. */
    es_testhttpd_clear_log(fx->srv);
    id = queue(fx, m, "dana", "One more thing.", 0, 0);
    route_json(fx, "/xrpc/com.atproto.repo.createRecord", 500,
               "{\"error\":\"InternalServerError\",\"message\":\"Internal "
               "Server Error\"}");
    st = send_due(fx);
    assert_int_equal(st.retrying, 1);
    get_reply(fx, id, &r);
    assert_int_equal(r.state, ES_REPLY_QUEUED);
    assert_true(r.next_attempt > es_time_now());
    assert_non_null(strstr(r.error, "Internal Server Error"));
    es_reply_release(&r);
    b = body_json(fx, "/xrpc/com.atproto.repo.createRecord", 0);
    char *first_rkey = es_xstrdup(jstr(b, "rkey", NULL));
    yajl_tree_free(b);
    exec_sql(fx, "UPDATE replies SET next_attempt = 0");
    route_json(fx, "/xrpc/com.atproto.repo.getRecord", 200,
               "{\"uri\":\"at://did:plc:acme/app.bsky.feed.post/x\",\"cid\":"
               "\"bafy\",\"value\":{}}");
    st = send_due(fx);
    assert_int_equal(st.sent, 1);
    assert_int_equal(
        es_testhttpd_hits(fx->srv, "/xrpc/com.atproto.repo.createRecord"), 1);
    char *q =
        es_testhttpd_query(fx->srv, "/xrpc/com.atproto.repo.getRecord", 0);
    assert_non_null(q);
    char *want = es_xasprintf("rkey=%s", first_rkey);
    assert_non_null(strstr(q, want));
    assert_non_null(strstr(q, "repo=did%3Aplc%3Aacme"));
    free(want);
    free(q);
    get_reply(fx, id, &r);
    assert_int_equal(r.state, ES_REPLY_SENT);
    assert_string_equal(r.platform_id,
                        "at://did:plc:acme/app.bsky.feed.post/x");
    es_reply_release(&r);

    /* A create that meets the record of an earlier attempt counts as
     * sent, under that record's URI. */
    id = queue(fx, m, "dana", "And another.", 0, 0);
    route_json(fx, "/xrpc/com.atproto.repo.createRecord", 400,
               "{\"error\":\"InvalidRequest\",\"message\":\"Record already "
               "exists\"}");
    st = send_due(fx);
    assert_int_equal(st.sent, 1);
    get_reply(fx, id, &r);
    assert_int_equal(r.state, ES_REPLY_SENT);
    b = body_json(fx, "/xrpc/com.atproto.repo.createRecord", -1);
    char *uri = es_xasprintf("at://did:plc:acme/app.bsky.feed.post/%s",
                             jstr(b, "rkey", NULL));
    assert_string_equal(r.platform_id, uri);
    free(uri);
    yajl_tree_free(b);
    es_reply_release(&r);
    free(first_rkey);

    /* A private message goes through the chat service. */
    id = queue(fx, m, "dana", "Sending you the details here.", 1, 0);
    route_json(fx, "/xrpc/chat.bsky.convo.getConvoForMembers", 200,
               "{\"convo\":{\"id\":\"convo-9\",\"members\":[]}}");
    route_json(fx, "/xrpc/chat.bsky.convo.sendMessage", 200,
               "{\"id\":\"msg-1\",\"rev\":\"r1\",\"text\":\"x\"}");
    st = send_due(fx);
    assert_int_equal(st.sent, 1);
    q = es_testhttpd_query(fx->srv, "/xrpc/chat.bsky.convo.getConvoForMembers",
                           0);
    assert_string_equal(q, "members=did%3Aplc%3Acarol");
    free(q);
    assert_header(fx, "/xrpc/chat.bsky.convo.sendMessage", 0, "atproto-proxy",
                  "did:web:api.bsky.chat#bsky_chat");
    assert_header(fx, "/xrpc/chat.bsky.convo.sendMessage", 0, "Authorization",
                  "Bearer jwt-1");
    b = body_json(fx, "/xrpc/chat.bsky.convo.sendMessage", 0);
    assert_string_equal(jstr(b, "convoId", NULL), "convo-9");
    assert_string_equal(jstr(b, "message", "text", NULL),
                        "Sending you the details here.");
    yajl_tree_free(b);
    get_reply(fx, id, &r);
    assert_string_equal(r.platform_id, "msg-1");
    es_reply_release(&r);
}

/* Checks facet @k of the array @facets: it covers @span, found in @text,
 * and its one feature is of @type with @key = @value. */
static void expect_facet(yajl_val facets, size_t k, const char *text,
                         const char *span, const char *type, const char *key,
                         const char *value)
{
    assert_true(YAJL_IS_ARRAY(facets));
    assert_true(k < facets->u.array.len);
    yajl_val f = facets->u.array.values[k];
    const char *bs[] = { "index", "byteStart", NULL };
    const char *be[] = { "index", "byteEnd", NULL };
    const char *feat[] = { "features", NULL };
    const char *at = strstr(text, span);
    assert_non_null(at);
    assert_int_equal(YAJL_GET_INTEGER(yajl_tree_get(f, bs, yajl_t_number)),
                     at - text);
    assert_int_equal(YAJL_GET_INTEGER(yajl_tree_get(f, be, yajl_t_number)),
                     at - text + (long)strlen(span));
    yajl_val fs = yajl_tree_get(f, feat, yajl_t_array);
    assert_non_null(fs);
    assert_int_equal(fs->u.array.len, 1);
    assert_string_equal(jstr(fs->u.array.values[0], "$type", NULL), type);
    assert_string_equal(jstr(fs->u.array.values[0], key, NULL), value);
}

/* Links, @handles and #tags go out as facets: UTF-8 byte ranges of the
 * text. A handle that does not resolve stays plain text, and the reply
 * still goes. */
static void test_bluesky_facets(void **state)
{
    struct fx *fx = *state;
    /* "Désolé": bytes and characters differ before the first facet. */
    const char text[] = "D\xC3\xA9sol\xC3\xA9 @jo.bsky.social! See "
                        "https://acme.example/help (or #AcmeHelp), cc "
                        "@nobody.example. Mail jo@acme.example, #1.";
    int64_t m = add_mention(fx->ib, &carol_bluesky);
    int64_t id = queue(fx, m, "dana", text, 0, 0);
    route_bluesky_session(fx);
    const struct es_testhttpd_response resolve[] = {
        { .status = 200,
          .content_type = "application/json",
          .body = "{\"did\":\"did:plc:jo\"}" },
        { .status = 400,
          .content_type = "application/json",
          .body = "{\"error\":\"InvalidRequest\",\"message\":\"Unable to "
                  "resolve handle\"}" },
    };
    es_testhttpd_route_seq(fx->srv, "/xrpc/com.atproto.identity.resolveHandle",
                           resolve, 2);
    route_json(fx, "/xrpc/com.atproto.repo.createRecord", 200,
               "{\"uri\":\"at://did:plc:acme/app.bsky.feed.post/3kreply\","
               "\"cid\":\"bafyreply\"}");
    struct es_send_stats st = send_due(fx);
    assert_int_equal(st.sent, 1);
    struct es_reply r;
    get_reply(fx, id, &r);
    assert_int_equal(r.state, ES_REPLY_SENT);
    es_reply_release(&r);

    char *q = es_testhttpd_query(fx->srv,
                                 "/xrpc/com.atproto.identity.resolveHandle", 0);
    assert_string_equal(q, "handle=jo.bsky.social");
    free(q);
    q = es_testhttpd_query(fx->srv, "/xrpc/com.atproto.identity.resolveHandle",
                           1);
    assert_string_equal(q, "handle=nobody.example");
    free(q);
    assert_int_equal(
        es_testhttpd_hits(fx->srv, "/xrpc/com.atproto.identity.resolveHandle"),
        2);

    yajl_val b = body_json(fx, "/xrpc/com.atproto.repo.createRecord", 0);
    assert_string_equal(jstr(b, "record", "text", NULL), text);
    const char *path[] = { "record", "facets", NULL };
    yajl_val facets = yajl_tree_get(b, path, yajl_t_array);
    assert_non_null(facets);
    assert_int_equal(facets->u.array.len, 3);
    /* "Désolé " is 9 bytes and 7 characters: offsets count bytes. */
    assert_int_equal(strstr(text, "@jo") - text, 9);
    expect_facet(facets, 0, text, "@jo.bsky.social",
                 "app.bsky.richtext.facet#mention", "did", "did:plc:jo");
    expect_facet(facets, 1, text, "https://acme.example/help",
                 "app.bsky.richtext.facet#link", "uri",
                 "https://acme.example/help");
    expect_facet(facets, 2, text, "#AcmeHelp", "app.bsky.richtext.facet#tag",
                 "tag", "AcmeHelp");
    yajl_tree_free(b);

    /* Plain text: no facets at all. */
    es_testhttpd_clear_log(fx->srv);
    queue(fx, m, "dana", "Thanks, all fixed.", 0, 0);
    st = send_due(fx);
    assert_int_equal(st.sent, 1);
    b = body_json(fx, "/xrpc/com.atproto.repo.createRecord", 0);
    assert_null(yajl_tree_get(b, path, yajl_t_any));
    yajl_tree_free(b);
    assert_int_equal(
        es_testhttpd_hits(fx->srv, "/xrpc/com.atproto.identity.resolveHandle"),
        0);
}

/* A private message to an author known only by handle: the PDS names
 * the DID first; a handle it cannot resolve fails the message, said. */
static void test_bluesky_chat_resolves_author(void **state)
{
    struct fx *fx = *state;
    const struct mention_spec s = {
        "bluesky",
        "at://erin.bsky.social/app.bsky.feed.post/3kerin",
        "erin.bsky.social",
        "https://bsky.app/profile/erin.bsky.social/post/3kerin",
        "{\"cid\":\"bafyerin\"}",
        NULL,
        NULL,
    };
    int64_t m = add_mention(fx->ib, &s);
    int64_t id = queue(fx, m, "dana", "Sending you the details here.", 1, 0);
    route_bluesky_session(fx);
    route_json(fx, "/xrpc/com.atproto.identity.resolveHandle", 200,
               "{\"did\":\"did:plc:erin\"}");
    route_json(fx, "/xrpc/chat.bsky.convo.getConvoForMembers", 200,
               "{\"convo\":{\"id\":\"convo-e\",\"members\":[]}}");
    route_json(fx, "/xrpc/chat.bsky.convo.sendMessage", 200,
               "{\"id\":\"msg-e\",\"rev\":\"r1\",\"text\":\"x\"}");
    struct es_send_stats st = send_due(fx);
    assert_int_equal(st.sent, 1);
    char *q = es_testhttpd_query(fx->srv,
                                 "/xrpc/com.atproto.identity.resolveHandle", 0);
    assert_string_equal(q, "handle=erin.bsky.social");
    free(q);
    q = es_testhttpd_query(fx->srv, "/xrpc/chat.bsky.convo.getConvoForMembers",
                           0);
    assert_string_equal(q, "members=did%3Aplc%3Aerin");
    free(q);
    struct es_reply r;
    get_reply(fx, id, &r);
    assert_int_equal(r.state, ES_REPLY_SENT);
    es_reply_release(&r);

    /* The PDS answers without a DID: refused, and never sent. */
    es_testhttpd_clear_log(fx->srv);
    id = queue(fx, m, "dana", "One more detail.", 1, 0);
    route_json(fx, "/xrpc/com.atproto.identity.resolveHandle", 200, "{}");
    st = send_due(fx);
    assert_int_equal(st.failed, 1);
    get_reply(fx, id, &r);
    assert_int_equal(r.state, ES_REPLY_FAILED);
    assert_non_null(strstr(r.error, "cannot resolve the author "
                                    "'erin.bsky.social'"));
    es_reply_release(&r);
    assert_int_equal(
        es_testhttpd_hits(fx->srv, "/xrpc/chat.bsky.convo.sendMessage"), 0);
}

static void test_x(void **state)
{
    struct fx *fx = *state;
    const struct mention_spec s = {
        "x",     "1790000000000000001",
        "carol", "https://x.com/carol/status/1",
        NULL,    NULL,
        NULL,
    };
    int64_t m = add_mention(fx->ib, &s);
    int64_t id = queue(fx, m, "sam", "Thanks for flagging, fixed!", 0, 0);
    route_json(fx, "/2/tweets", 201,
               "{\"data\":{\"id\":\"1790000000000000002\",\"text\":\"x\"}}");
    struct es_send_stats st = send_due(fx);
    assert_int_equal(st.sent, 1);
    assert_method(fx, "/2/tweets", 0, "POST");
    assert_header(fx, "/2/tweets", 0, "Authorization", "Bearer x-secret-3");
    yajl_val b = body_json(fx, "/2/tweets", 0);
    assert_string_equal(jstr(b, "text", NULL), "Thanks for flagging, fixed!");
    assert_string_equal(jstr(b, "reply", "in_reply_to_tweet_id", NULL),
                        "1790000000000000001");
    yajl_tree_free(b);
    struct es_reply r;
    get_reply(fx, id, &r);
    assert_string_equal(r.platform_id, "1790000000000000002");
    assert_string_equal(r.url,
                        "https://x.com/i/web/status/1790000000000000002");
    es_reply_release(&r);

    /* A direct message: the author's id first, then the message. */
    id = queue(fx, m, "sam", "DMing you now", 1, 0);
    route_json(fx, "/2/users/by/username/carol", 200,
               "{\"data\":{\"id\":\"4242\",\"username\":\"carol\"}}");
    route_json(fx, "/2/dm_conversations/with/4242/messages", 201,
               "{\"data\":{\"dm_conversation_id\":\"1-4242\","
               "\"dm_event_id\":\"777\"}}");
    st = send_due(fx);
    assert_int_equal(st.sent, 1);
    assert_method(fx, "/2/dm_conversations/with/4242/messages", 0, "POST");
    b = body_json(fx, "/2/dm_conversations/with/4242/messages", 0);
    assert_string_equal(jstr(b, "text", NULL), "DMing you now");
    yajl_tree_free(b);
    get_reply(fx, id, &r);
    assert_string_equal(r.platform_id, "777");
    es_reply_release(&r);

    /* An edited post is stored under its original's id; the reply goes
     * to its newest version. */
    const struct mention_spec edited = {
        "x",
        "1790000000000000010",
        "carol",
        NULL,
        "{\"id\":\"1790000000000000011\"}",
        NULL,
        NULL,
    };
    m = add_mention(fx->ib, &edited);
    queue(fx, m, "sam", "Thanks, noted", 0, 0);
    st = send_due(fx);
    assert_int_equal(st.sent, 1);
    b = body_json(fx, "/2/tweets", 1);
    assert_string_equal(jstr(b, "reply", "in_reply_to_tweet_id", NULL),
                        "1790000000000000011");
    yajl_tree_free(b);
}

static void test_reddit(void **state)
{
    struct fx *fx = *state;
    const struct mention_spec s = {
        "reddit",
        "t1_abc",
        "carol",
        "https://www.reddit.com/r/acme/comments/p1/x/abc/",
        NULL,
        "t3_p1",
        "Acme is down again?",
    };
    int64_t m = add_mention(fx->ib, &s);
    int64_t id =
        queue(fx, m, "dana", "We're looking into it & will update.", 0, 0);
    route_json(fx, "/api/v1/access_token", 200,
               "{\"access_token\":\"rtok-1\",\"token_type\":\"bearer\","
               "\"expires_in\":3600}");
    route_json(fx, "/api/comment", 200,
               "{\"json\":{\"errors\":[],\"data\":{\"things\":[{\"kind\":"
               "\"t1\",\"data\":{\"id\":\"def\",\"name\":\"t1_def\","
               "\"permalink\":\"/r/acme/comments/p1/x/def/\"}}]}}}");
    struct es_send_stats st = send_due(fx);
    assert_int_equal(st.sent, 1);
    /* The password grant, as the collector does it. */
    assert_header(fx, "/api/v1/access_token", 0, "Authorization",
                  "Basic Y2lkLTQ6Y3NlY3JldC01");
    char *body = es_testhttpd_body(fx->srv, "/api/v1/access_token", 0);
    assert_string_equal(body, "grant_type=password&username=acme&password="
                              "rpass-6");
    free(body);
    assert_method(fx, "/api/comment", 0, "POST");
    assert_header(fx, "/api/comment", 0, "Authorization", "bearer rtok-1");
    assert_header(fx, "/api/comment", 0, "User-Agent", "earshot-test/1.0");
    body = es_testhttpd_body(fx->srv, "/api/comment", 0);
    char *v = form_field(body, "thing_id");
    assert_string_equal(v, "t1_abc");
    free(v);
    v = form_field(body, "text");
    assert_string_equal(v, "We're looking into it & will update.");
    free(v);
    v = form_field(body, "api_type");
    assert_string_equal(v, "json");
    free(v);
    free(body);
    struct es_reply r;
    get_reply(fx, id, &r);
    assert_string_equal(r.platform_id, "t1_def");
    assert_string_equal(r.url,
                        "https://www.reddit.com/r/acme/comments/p1/x/def/");
    es_reply_release(&r);

    /* Reddit says RATELIMIT with a 200: later, not failed. */
    id = queue(fx, m, "dana", "Second try", 0, 0);
    route_json(fx, "/api/comment", 200,
               "{\"json\":{\"errors\":[[\"RATELIMIT\",\"you are doing that "
               "too much\",\"ratelimit\"]]}}");
    st = send_due(fx);
    assert_int_equal(st.retrying, 1);
    get_reply(fx, id, &r);
    assert_int_equal(r.state, ES_REPLY_QUEUED);
    assert_non_null(strstr(r.error, "you are doing that too much"));
    es_reply_release(&r);

    /* A private message about a comment: /api/compose to the author. */
    exec_sql(fx, "UPDATE replies SET state = 'cancelled' WHERE state ="
                 " 'queued'");
    id = queue(fx, m, "dana", "Can you send us your order number?", 1, 0);
    route_json(fx, "/api/compose", 200, "{\"json\":{\"errors\":[]}}");
    st = send_due(fx);
    assert_int_equal(st.sent, 1);
    body = es_testhttpd_body(fx->srv, "/api/compose", 0);
    v = form_field(body, "to");
    assert_string_equal(v, "carol");
    free(v);
    v = form_field(body, "subject");
    assert_string_equal(v, "re: Acme is down again?");
    free(v);
    v = form_field(body, "text");
    assert_string_equal(v, "Can you send us your order number?");
    free(v);
    free(body);
}

static void test_youtube_play_github(void **state)
{
    struct fx *fx = *state;
    const struct mention_spec yt = {
        "youtube", "UgzREPLY1",
        "carol",   "https://www.youtube.com/watch?v=vid123&lc=UgzREPLY1",
        NULL,      "UgzTOP",
        NULL,
    };
    int64_t m = add_mention(fx->ib, &yt);
    int64_t id = queue(fx, m, "dana", "Glad you liked it!", 0, 0);
    route_json(fx, "/youtube/v3/comments", 200,
               "{\"kind\":\"youtube#comment\",\"id\":\"UgzTOP.new1\","
               "\"snippet\":{\"parentId\":\"UgzTOP\"}}");
    struct es_send_stats st = send_due(fx);
    assert_int_equal(st.sent, 1);
    assert_method(fx, "/youtube/v3/comments", 0, "POST");
    char *q = es_testhttpd_query(fx->srv, "/youtube/v3/comments", 0);
    assert_string_equal(q, "part=snippet");
    free(q);
    assert_header(fx, "/youtube/v3/comments", 0, "Authorization",
                  "Bearer yt-secret-7");
    yajl_val b = body_json(fx, "/youtube/v3/comments", 0);
    /* YouTube threads are one level deep: the top comment is the parent. */
    assert_string_equal(jstr(b, "snippet", "parentId", NULL), "UgzTOP");
    assert_string_equal(jstr(b, "snippet", "textOriginal", NULL),
                        "Glad you liked it!");
    yajl_tree_free(b);
    struct es_reply r;
    get_reply(fx, id, &r);
    assert_string_equal(r.platform_id, "UgzTOP.new1");
    assert_string_equal(
        r.url, "https://www.youtube.com/watch?v=vid123&lc=UgzTOP.new1");
    es_reply_release(&r);

    const struct mention_spec gp = {
        "googleplay",
        "R1abc",
        NULL,
        "https://play.google.com/store/apps/details?id=com.acme.app",
        "{\"review_id\":\"R1abc\",\"replied\":false}",
        NULL,
        NULL,
    };
    m = add_mention(fx->ib, &gp);
    id = queue(fx, m, "dana", "Thanks for the review!", 0, 0);
    const char *gp_path =
        "/androidpublisher/v3/applications/com.acme.app/reviews/R1abc:reply";
    route_json(fx, gp_path, 200,
               "{\"result\":{\"replyText\":\"Thanks for the review!\","
               "\"lastEdited\":{\"seconds\":\"1700000000\"}}}");
    st = send_due(fx);
    assert_int_equal(st.sent, 1);
    assert_method(fx, gp_path, 0, "POST");
    assert_header(fx, gp_path, 0, "Authorization", "Bearer play-secret-8");
    b = body_json(fx, gp_path, 0);
    assert_string_equal(jstr(b, "replyText", NULL), "Thanks for the review!");
    yajl_tree_free(b);
    get_reply(fx, id, &r);
    assert_int_equal(r.state, ES_REPLY_SENT);
    assert_null(r.platform_id);
    es_reply_release(&r);

    const struct mention_spec gh = {
        "github",
        "9001",
        "carol",
        "https://github.com/acme/app/issues/7",
        "{\"repo\":\"acme/app\",\"number\":7}",
        NULL,
        NULL,
    };
    m = add_mention(fx->ib, &gh);
    id = queue(fx, m, "dana", "Fixed in 1.2.3.", 0, 0);
    route_json(fx, "/repos/acme/app/issues/7/comments", 201,
               "{\"id\":555,\"html_url\":\"https://github.com/acme/app/"
               "issues/7#issuecomment-555\"}");
    st = send_due(fx);
    assert_int_equal(st.sent, 1);
    assert_header(fx, "/repos/acme/app/issues/7/comments", 0, "Authorization",
                  "Bearer gh-secret-9");
    b = body_json(fx, "/repos/acme/app/issues/7/comments", 0);
    assert_string_equal(jstr(b, "body", NULL), "Fixed in 1.2.3.");
    yajl_tree_free(b);
    get_reply(fx, id, &r);
    assert_string_equal(r.platform_id, "555");
    es_reply_release(&r);
}

/* ==== Retries, refusals, garbage ==== */

static void test_failures(void **state)
{
    struct fx *fx = *state;
    int64_t m = mastodon_mention(fx->ib);
    struct es_reply r;

    /* 429 with Retry-After: back in the queue, not before it says. */
    int64_t id = queue(fx, m, "dana", "one", 0, 0);
    struct es_testhttpd_response busy = {
        .status = 429,
        .headers = "Retry-After: 120\r\n",
        .content_type = "application/json",
        .body = "{\"error\":\"Too many requests\"}",
    };
    es_testhttpd_route(fx->srv, "/api/v1/statuses", &busy);
    struct es_send_stats st = send_due(fx);
    assert_int_equal(st.retrying, 1);
    get_reply(fx, id, &r);
    assert_int_equal(r.state, ES_REPLY_QUEUED);
    assert_true(r.next_attempt >= es_time_now() + 119);
    es_reply_release(&r);
    /* Not due yet: the next pass leaves it alone. */
    st = send_due(fx);
    assert_int_equal(st.retrying + st.sent + st.failed, 0);
    assert_int_equal(es_testhttpd_hits(fx->srv, "/api/v1/statuses"), 1);

    /* A refusal is 'failed' with the platform's own words. */
    exec_sql(fx, "UPDATE replies SET next_attempt = 0");
    route_json(fx, "/api/v1/statuses", 422,
               "{\"error\":\"Validation failed: Text character limit of 500 "
               "exceeded\"}");
    st = send_due(fx);
    assert_int_equal(st.failed, 1);
    get_reply(fx, id, &r);
    assert_int_equal(r.state, ES_REPLY_FAILED);
    assert_non_null(strstr(r.error, "acme-mastodon"));
    assert_non_null(strstr(r.error, "HTTP 422"));
    assert_non_null(strstr(r.error, "Text character limit of 500 exceeded"));
    es_reply_release(&r);

    /* Garbage from Mastodon: the key makes another try harmless. */
    int64_t id2 = queue(fx, m, "dana", "two", 0, 0);
    struct es_testhttpd_response junk = {
        .status = 200,
        .content_type = "text/html",
        .body = "<html>oops</html>",
    };
    es_testhttpd_route(fx->srv, "/api/v1/statuses", &junk);
    st = send_due(fx);
    assert_int_equal(st.retrying, 1);
    get_reply(fx, id2, &r);
    assert_int_equal(r.state, ES_REPLY_QUEUED);
    assert_non_null(strstr(r.error, "not the JSON object"));
    es_reply_release(&r);

    /* Garbage from X, which has no key: an agent must look. Nothing is
     * lost: the reply, its text and the reason stay in the outbox. */
    const struct mention_spec s = { "x",  "55", "carol", "https://x.com/c/55",
                                    NULL, NULL, NULL };
    int64_t xm = add_mention(fx->ib, &s);
    int64_t id3 = queue(fx, xm, "dana", "three", 0, 0);
    struct es_testhttpd_response xjunk = {
        .status = 201,
        .content_type = "application/json",
        .body = "{\"data\": [1, 2",
    };
    es_testhttpd_route(fx->srv, "/2/tweets", &xjunk);
    exec_sql(fx, "UPDATE replies SET state = 'cancelled' WHERE id != 3");
    st = send_due(fx);
    assert_int_equal(st.unknown, 1);
    get_reply(fx, id3, &r);
    assert_int_equal(r.state, ES_REPLY_UNKNOWN);
    assert_string_equal(r.body, "three");
    assert_non_null(strstr(r.error, "HTTP 201"));
    assert_non_null(strstr(r.error, "earshot outbox resolve 3"));
    es_reply_release(&r);

    /* 503 from X: nothing was done, retry; a 502 may have been: unknown. */
    int64_t id4 = queue(fx, xm, "dana", "four", 0, 0);
    route_json(fx, "/2/tweets", 503, "{\"title\":\"Service Unavailable\"}");
    st = send_due(fx);
    assert_int_equal(st.retrying, 1);
    exec_sql(fx, "UPDATE replies SET next_attempt = 0");
    route_json(fx, "/2/tweets", 502, "{\"title\":\"Bad Gateway\"}");
    st = send_due(fx);
    assert_int_equal(st.unknown, 1);
    get_reply(fx, id4, &r);
    assert_int_equal(r.state, ES_REPLY_UNKNOWN);
    assert_int_equal(r.attempts, 2);
    es_reply_release(&r);

    /* Nobody listening: certainly not posted, retried. */
    int64_t id5 = queue(fx, xm, "dana", "five", 0, 0);
    char *cfgtext = es_xasprintf("[account \"acme-x\"]\ntype = x\nbase_url = "
                                 "http://127.0.0.1:1\ntoken = t\n");
    struct es_config *dead;
    assert_int_equal(es_config_load_string(&dead, cfgtext, "dead.conf"), 0);
    free(cfgtext);
    assert_int_equal(es_replies_send_due(fx->ib, dead, NULL, NULL, &st), 0);
    assert_int_equal(st.retrying, 1);
    get_reply(fx, id5, &r);
    assert_int_equal(r.state, ES_REPLY_QUEUED);
    es_reply_release(&r);
    es_config_free(dead);

    /* The account gone from the config at send time: failed, said so. */
    exec_sql(fx, "UPDATE replies SET next_attempt = 0");
    struct es_config *none = es_config_new();
    assert_int_equal(es_replies_send_due(fx->ib, none, NULL, NULL, &st), 0);
    assert_int_equal(st.failed, 1);
    get_reply(fx, id5, &r);
    assert_int_equal(r.state, ES_REPLY_FAILED);
    assert_non_null(strstr(r.error, "acme-x"));
    es_reply_release(&r);
    es_config_free(none);
}

/* Mastodon keeps an Idempotency-Key for an hour: repeats stay inside it. */
static void test_mastodon_key_window(void **state)
{
    struct fx *fx = *state;
    int64_t m = mastodon_mention(fx->ib);
    struct es_reply r;

    /* Cut off long ago: the key may be forgotten, so no blind repeat. */
    int64_t id = queue(fx, m, "dana", "old", 0, 0);
    char *sql = es_xasprintf("UPDATE replies SET state = 'sending', attempts ="
                             " 1, next_attempt = %lld WHERE id = %lld",
                             (long long)(es_time_now() - 3000), (long long)id);
    exec_sql(fx, sql);
    free(sql);
    route_json(fx, "/api/v1/statuses", 200, "{\"id\":\"1\"}");
    struct es_send_stats st = send_due(fx);
    assert_int_equal(st.unknown, 1);
    assert_int_equal(es_testhttpd_hits(fx->srv, "/api/v1/statuses"), 0);
    get_reply(fx, id, &r);
    assert_int_equal(r.state, ES_REPLY_UNKNOWN);
    assert_non_null(strstr(r.error, "forgotten its idempotency key"));
    es_reply_release(&r);

    /* Cut off a minute ago: sent again with its key. */
    id = queue(fx, m, "dana", "recent", 0, 0);
    sql = es_xasprintf("UPDATE replies SET state = 'sending', attempts = 1,"
                       " next_attempt = %lld WHERE id = %lld",
                       (long long)(es_time_now() - 60), (long long)id);
    exec_sql(fx, sql);
    free(sql);
    st = send_due(fx);
    assert_int_equal(st.sent, 1);
    assert_int_equal(es_testhttpd_hits(fx->srv, "/api/v1/statuses"), 1);

    /* 502s (maybe posted): repeated soon, five times, then an agent. */
    id = queue(fx, m, "dana", "flaky", 0, 0);
    route_json(fx, "/api/v1/statuses", 502, "<html>bad gateway</html>");
    for (int i = 1; i <= 5; i++) {
        st = send_due(fx);
        assert_int_equal(st.retrying, 1);
        get_reply(fx, id, &r);
        assert_int_equal(r.state, ES_REPLY_QUEUED);
        assert_true(r.next_attempt <= es_time_now() + 300);
        es_reply_release(&r);
        exec_sql(fx, "UPDATE replies SET next_attempt = 0 WHERE state ="
                     " 'queued'");
    }
    st = send_due(fx);
    assert_int_equal(st.unknown, 1);
    get_reply(fx, id, &r);
    assert_int_equal(r.state, ES_REPLY_UNKNOWN);
    assert_int_equal(r.attempts, 6);
    es_reply_release(&r);
    assert_int_equal(es_testhttpd_hits(fx->srv, "/api/v1/statuses"), 7);
}

/* token_file: the first line is the token; an unreadable one is said
 * before queueing, never with a secret. */
static void test_token_file(void **state)
{
    struct fx *fx = *state;
    char *tok = es_xasprintf("%s/x.token", tmpdir);
    write_file(tok, "tok-from-file  \nsecond line\n");
    char *url = es_testhttpd_url(fx->srv, "");
    char *text = es_xasprintf("[account \"file-x\"]\ntype = x\nbase_url = "
                              "%s\ntoken_file = %s\n"
                              "[account \"lost-x\"]\ntype = x\n"
                              "token_file = %s/missing.token\n",
                              url, tok, tmpdir);
    struct es_config *cfg;
    assert_int_equal(es_config_load_string(&cfg, text, "tokens.conf"), 0);
    const struct mention_spec s = { "x", "9", "carol", NULL, NULL, NULL, NULL };
    int64_t m = add_mention(fx->ib, &s);
    struct es_reply_request rq = {
        .mention_id = m, .agent = "dana", .body = "hi", .account = "lost-x"
    };
    int64_t id = 0;
    assert_int_equal(es_outbox_queue(fx->ib, cfg, &rq, &id), ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "cannot read token_file"));
    assert_non_null(strstr(es_error_last(), "lost-x"));
    rq.account = "file-x";
    assert_int_equal(es_outbox_queue(fx->ib, cfg, &rq, &id), 0);
    route_json(fx, "/2/tweets", 201, "{\"data\":{\"id\":\"10\"}}");
    struct es_send_stats st;
    assert_int_equal(es_replies_send_due(fx->ib, cfg, NULL, NULL, &st), 0);
    assert_int_equal(st.sent, 1);
    assert_header(fx, "/2/tweets", 0, "Authorization", "Bearer tok-from-file");
    es_config_free(cfg);
    free(text);
    free(url);
    free(tok);
}

/* A status read on another instance is looked up on the account's own
 * (status ids are per instance) before it is answered. */
static void test_mastodon_other_instance(void **state)
{
    struct fx *fx = *state;
    char *url = es_testhttpd_url(fx->srv, "");
    char *text = es_xasprintf("[source \"masto-elsewhere\"]\ntype = mastodon\n"
                              "base_url = https://elsewhere.example\n"
                              "tag = acme\n"
                              "[account \"acme-mastodon\"]\ntype = mastodon\n"
                              "base_url = %s\ntoken = t-1\n",
                              url);
    struct es_config *cfg;
    if (es_config_load_string(&cfg, text, "other.conf") < 0)
        fail_msg("%s", es_error_last());
    int64_t sid, m;
    es_inbox_source_ensure(fx->ib, "masto-elsewhere", "mastodon", &sid);
    struct es_item it;
    es_item_init(&it);
    it.platform = es_xstrdup("mastodon");
    it.source = es_xstrdup("masto-elsewhere");
    it.external_id = es_xstrdup("5550001");
    it.author = es_xstrdup("carol@example.social");
    it.url = es_xstrdup("https://example.social/@carol/42");
    it.text = es_xstrdup("help");
    assert_int_equal(es_inbox_put(fx->ib, sid, &it, NULL, NULL, &m), 0);
    es_item_release(&it);
    struct es_reply_request rq = { .mention_id = m,
                                   .agent = "dana",
                                   .body = "hello" };
    int64_t id;
    assert_int_equal(es_outbox_queue(fx->ib, cfg, &rq, &id), 0);
    route_json(fx, "/api/v2/search", 200,
               "{\"accounts\":[],\"statuses\":[{\"id\":\"777\"}]}");
    route_json(fx, "/api/v1/statuses", 200, "{\"id\":\"778\"}");
    struct es_send_stats st;
    assert_int_equal(es_replies_send_due(fx->ib, cfg, NULL, NULL, &st), 0);
    assert_int_equal(st.sent, 1);
    char *q = es_testhttpd_query(fx->srv, "/api/v2/search", 0);
    assert_non_null(q);
    assert_non_null(
        strstr(q, "q=https%3A%2F%2Fexample.social%2F%40carol%2F42"));
    assert_non_null(strstr(q, "resolve=true"));
    free(q);
    assert_header(fx, "/api/v2/search", 0, "Authorization", "Bearer t-1");
    yajl_val b = body_json(fx, "/api/v1/statuses", 0);
    assert_string_equal(jstr(b, "in_reply_to_id", NULL), "777");
    yajl_tree_free(b);
    es_config_free(cfg);
    free(text);
    free(url);
}

/* ==== Checks before queueing ==== */

static int64_t count_replies(struct fx *fx)
{
    return one_int(fx, "SELECT count(*) FROM replies");
}

static void expect_refusal(struct fx *fx, const struct es_reply_request *rq,
                           int code, const char *needle)
{
    int64_t id = 0;
    int rc = es_outbox_queue(fx->ib, fx->cfg, rq, &id);
    if (rc != code || !strstr(es_error_last(), needle))
        fprintf(stderr, "got %d '%s', want %d with '%s'\n", rc, es_error_last(),
                code, needle);
    assert_int_equal(rc, code);
    assert_non_null(strstr(es_error_last(), needle));
    assert_int_equal(id, 0);
}

static void test_refusals(void **state)
{
    struct fx *fx = *state;
    int64_t m = mastodon_mention(fx->ib);
    struct es_reply_request rq = { .mention_id = m,
                                   .agent = "dana",
                                   .body = "hi" };

    /* A viewer reads; it cannot reply. Nor can a stranger. */
    rq.agent = "vic";
    expect_refusal(fx, &rq, ES_EAUTH, "viewer");
    rq.agent = "nobody";
    expect_refusal(fx, &rq, ES_ENOTFOUND, "earshot agent add");
    rq.agent = "dana";

    /* Unknown mention. */
    rq.mention_id = 999999;
    expect_refusal(fx, &rq, ES_ENOTFOUND, "no mention 999999");
    rq.mention_id = m;

    /* Over the limit, with the count. */
    char big[520];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    rq.body = big;
    /* "@carol " (6 counted, as @carol) + 519 = 526 */
    expect_refusal(fx, &rq, ES_ETOOBIG, "526 characters");
    assert_non_null(strstr(es_error_last(), "limit of 500"));
    const struct mention_spec xs = {
        "x", "77", "carol", NULL, NULL, NULL, NULL
    };
    int64_t xm = add_mention(fx->ib, &xs);
    struct es_buf cjk = ES_BUF_INIT;
    for (int i = 0; i < 141; i++)
        es_buf_adds(&cjk, "\xE4\xBD\xA0");
    rq.mention_id = xm;
    rq.body = cjk.ptr;
    expect_refusal(fx, &rq, ES_ETOOBIG, "282 weighted characters");
    es_buf_release(&cjk);
    rq.body = "   \n ";
    expect_refusal(fx, &rq, ES_EINVALID, "empty");
    rq.body = "hi";

    /* Accounts: none named so, of another platform, no credentials (the
     * message names the key, never a secret). */
    rq.account = "nosuch";
    expect_refusal(fx, &rq, ES_ENOTFOUND, "no [account \"nosuch\"]");
    rq.account = "acme-mastodon";
    expect_refusal(fx, &rq, ES_EINVALID, "mastodon account");
    rq.account = "bare-x";
    expect_refusal(fx, &rq, ES_EAUTH, "account 'bare-x' (x) has no token");
    rq.account = "half-reddit";
    const struct mention_spec rs = { "reddit", "t3_zz", "carol", NULL,
                                     NULL,     NULL,    NULL };
    rq.mention_id = add_mention(fx->ib, &rs);
    expect_refusal(fx, &rq, ES_EAUTH, "has no username");
    assert_null(strstr(es_error_last(), "csecret-5"));
    rq.account = "nopass-bsky";
    const struct mention_spec bs = {
        "bluesky",
        "at://did:plc:c/app.bsky.feed.post/1",
        "c",
        NULL,
        "{\"uri\":\"at://did:plc:c/app.bsky.feed.post/1\",\"cid\":\"b\"}",
        NULL,
        NULL,
    };
    rq.mention_id = add_mention(fx->ib, &bs);
    expect_refusal(fx, &rq, ES_EAUTH, "has no app_password");
    rq.account = NULL;

    /* Platforms with no reply API: refused with the item's URL. */
    const struct mention_spec hn = {
        "hackernews", "4242", "pg", "https://news.ycombinator.com/item?id=4242",
        NULL,         NULL,   NULL,
    };
    rq.mention_id = add_mention(fx->ib, &hn);
    expect_refusal(fx, &rq, ES_EINVALID,
                   "https://news.ycombinator.com/item?id=4242");
    assert_non_null(strstr(es_error_last(), "Hacker News"));
    const struct mention_spec as = {
        "appstore", "rev-1", "someone", "https://apps.apple.com/app/id1",
        NULL,       NULL,    NULL,
    };
    rq.mention_id = add_mention(fx->ib, &as);
    expect_refusal(fx, &rq, ES_EINVALID, "https://apps.apple.com/app/id1");
    assert_non_null(strstr(es_error_last(), "App Store"));
    const struct mention_spec feed = {
        "rss", "post-1", NULL, "https://blog.example/post-1", NULL, NULL, NULL,
    };
    rq.mention_id = add_mention(fx->ib, &feed);
    expect_refusal(fx, &rq, ES_EINVALID, "https://blog.example/post-1");

    /* No private messages on YouTube. */
    const struct mention_spec yt = { "youtube", "Ugz1",
                                     "c",       "https://youtube.com/watch?v=1",
                                     NULL,      NULL,
                                     NULL };
    rq.mention_id = add_mention(fx->ib, &yt);
    rq.private_message = 1;
    expect_refusal(fx, &rq, ES_EINVALID, "no private messages");
    rq.private_message = 0;

    /* Stale: the conversation changed since version 1 was read. */
    rq.mention_id = m;
    assert_int_equal(es_conversation_touch(fx->ib, "mastodon:110001", "sam",
                                           "set state open -> pending", 0,
                                           NULL),
                     0);
    rq.expect_version = 1;
    expect_refusal(fx, &rq, ES_EEXISTS, "sam set state open -> pending");
    rq.expect_version = 2;
    int64_t id;
    assert_int_equal(es_outbox_queue(fx->ib, fx->cfg, &rq, &id), 0);

    /* Nothing was queued by any refusal; the one that passed is there. */
    assert_int_equal(count_replies(fx), 1);
    assert_int_equal(one_int(fx, "SELECT count(*) FROM audit WHERE action ="
                                 " 'reply'"),
                     1);
    /* Queueing touched the conversation: version 3 now. */
    int64_t v;
    assert_int_equal(es_conversation_version(fx->ib, "mastodon:110001", &v), 0);
    assert_int_equal(v, 3);
}

/* ==== Two agents, one conversation ==== */

static void test_collision_library(void **state)
{
    struct fx *fx = *state;
    int64_t m = mastodon_mention(fx->ib);
    /* A second connection: another agent's process. */
    struct es_inbox *other;
    assert_int_equal(es_inbox_open(&other, fx->db_path), 0);
    queue(fx, m, "dana", "first", 0, 0);
    struct es_reply_request rq = { .mention_id = m,
                                   .agent = "sam",
                                   .body = "second" };
    int64_t id = 0;
    assert_int_equal(es_outbox_queue(other, fx->cfg, &rq, &id), ES_EEXISTS);
    assert_non_null(
        strstr(es_error_last(), "dana is replying to this conversation"));
    es_inbox_free(other);
    assert_int_equal(count_replies(fx), 1);
    /* The claim holder may reply again. */
    queue(fx, m, "dana", "follow-up", 0, 0);
    assert_int_equal(count_replies(fx), 2);
}

/* Starts earshot --config CFG with the NULL-terminated arguments. */
static void start(struct es_run *r, struct fx *fx, ...)
{
    const struct es_run_opts opts = {
        .bin = ES_EARSHOT_BIN,
        .tmpdir = tmpdir,
        .config = fx->cfg_path,
    };
    va_list ap;
    va_start(ap, fx);
    es_run_startv(r, &opts, NULL, ap);
    va_end(ap);
}

static void test_collision_processes(void **state)
{
    struct fx *fx = *state;
    int64_t m = mastodon_mention(fx->ib);
    char ids[24];
    snprintf(ids, sizeof(ids), "%lld", (long long)m);
    struct es_run a, b;
    start(&a, fx, "--as", "dana", "reply", ids, "--text", "from dana", NULL);
    start(&b, fx, "--as", "sam", "reply", ids, "--text", "from sam", NULL);
    es_run_wait(&a);
    es_run_wait(&b);
    /* Exactly one is queued; the other is told who is replying. */
    assert_int_equal(a.status + b.status, 1);
    struct es_run *loser = a.status ? &a : &b;
    const char *winner = a.status ? "sam" : "dana";
    char *msg = es_xasprintf("%s is replying to this conversation", winner);
    if (!strstr(loser->err.ptr, msg))
        fprintf(stderr, "loser said: %s\n", loser->err.ptr);
    assert_non_null(strstr(loser->err.ptr, msg));
    free(msg);
    assert_int_equal(count_replies(fx), 1);
    es_run_release(&a);
    es_run_release(&b);

    /* A viewer on the command line: refused, nothing queued. */
    start(&a, fx, "--as", "vic", "reply", ids, "--text", "hi", NULL);
    es_run_wait(&a);
    assert_int_equal(a.status, 1);
    assert_non_null(strstr(a.err.ptr, "viewer"));
    es_run_release(&a);
    assert_int_equal(count_replies(fx), 1);
}

/* ==== The sender killed mid-flight ==== */

/* Waits until @path got @n requests; fails the test after 20 s. */
static void wait_hits(struct fx *fx, const char *path, size_t n)
{
    for (int i = 0; i < 2000; i++) {
        if (es_testhttpd_hits(fx->srv, path) >= n)
            return;
        struct timespec ts = { 0, 10 * 1000000L };
        nanosleep(&ts, NULL);
    }
    fail_msg("no request for %s", path);
}

/* Starts `earshot send`, waits for its request to @path, and kills it
 * with SIGKILL before the answer (the route holds it for a minute). */
static void send_and_kill(struct fx *fx, const char *path)
{
    struct es_run r;
    start(&r, fx, "send", NULL);
    wait_hits(fx, path, 1);
    assert_int_equal(kill(r.pid, SIGKILL), 0);
    es_run_wait(&r);
    assert_int_equal(r.status, 128 + SIGKILL);
    es_run_release(&r);
}

static void test_crash_mastodon(void **state)
{
    struct fx *fx = *state;
    int64_t m = mastodon_mention(fx->ib);
    char ids[24];
    snprintf(ids, sizeof(ids), "%lld", (long long)m);
    struct es_run r;
    start(&r, fx, "--as", "dana", "reply", ids, "--text", "On it!", NULL);
    es_run_wait(&r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "reply 1 queued"));
    es_run_release(&r);

    const char *ok = "{\"id\":\"110009\",\"url\":\"https://m.example/@acme/"
                     "110009\"}";
    struct es_testhttpd_response seq[2] = {
        { .status = 200,
          .content_type = "application/json",
          .body = ok,
          .delay_ms = 60000 },
        { .status = 200, .content_type = "application/json", .body = ok },
    };
    es_testhttpd_route_seq(fx->srv, "/api/v1/statuses", seq, 2);
    send_and_kill(fx, "/api/v1/statuses");

    /* The crash left it in 'sending': its request may be out. */
    struct es_reply rep;
    get_reply(fx, 1, &rep);
    assert_int_equal(rep.state, ES_REPLY_SENDING);
    es_reply_release(&rep);

    /* Restarted: sent again with the same key, which Mastodon honours. */
    start(&r, fx, "send", NULL);
    es_run_wait(&r);
    if (r.status != 0)
        fprintf(stderr, "send: %s%s\n", r.out.ptr, r.err.ptr);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "reply 1: sent"));
    es_run_release(&r);
    size_t hits = es_testhttpd_hits(fx->srv, "/api/v1/statuses");
    assert_int_equal(hits, 2);
    char *k0 =
        es_testhttpd_header(fx->srv, "/api/v1/statuses", 0, "Idempotency-Key");
    char *k1 =
        es_testhttpd_header(fx->srv, "/api/v1/statuses", 1, "Idempotency-Key");
    /* One distinct key: the platform has received exactly one post. */
    assert_non_null(k0);
    assert_non_null(k1);
    assert_string_equal(k0, k1);
    free(k0);
    free(k1);
    get_reply(fx, 1, &rep);
    assert_int_equal(rep.state, ES_REPLY_SENT);
    assert_string_equal(rep.platform_id, "110009");
    assert_int_equal(rep.attempts, 2);
    es_reply_release(&rep);

    /* And a third run has nothing to do. */
    start(&r, fx, "send", NULL);
    es_run_wait(&r);
    assert_int_equal(r.status, 0);
    es_run_release(&r);
    assert_int_equal(es_testhttpd_hits(fx->srv, "/api/v1/statuses"), 2);

    /* The outbox lists it. */
    start(&r, fx, "outbox", "--json", NULL);
    es_run_wait(&r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "\"state\":\"sent\""));
    assert_non_null(strstr(r.out.ptr, "\"platform_id\":\"110009\""));
    es_run_release(&r);
}

static void test_crash_x(void **state)
{
    struct fx *fx = *state;
    const struct mention_spec s = {
        "x", "123", "carol", "https://x.com/carol/status/123", NULL, NULL, NULL
    };
    int64_t m = add_mention(fx->ib, &s);
    int64_t id = queue(fx, m, "dana", "On it!", 0, 0);
    const char *ok = "{\"data\":{\"id\":\"124\",\"text\":\"On it!\"}}";
    struct es_testhttpd_response seq[2] = {
        { .status = 201,
          .content_type = "application/json",
          .body = ok,
          .delay_ms = 60000 },
        { .status = 201, .content_type = "application/json", .body = ok },
    };
    es_testhttpd_route_seq(fx->srv, "/2/tweets", seq, 2);
    send_and_kill(fx, "/2/tweets");

    /* X takes no key: the restarted sender asks an agent instead of
     * posting again. */
    struct es_run r;
    start(&r, fx, "send", NULL);
    es_run_wait(&r);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.out.ptr, "unknown"));
    assert_non_null(strstr(r.out.ptr, "https://x.com/carol/status/123"));
    es_run_release(&r);
    assert_int_equal(es_testhttpd_hits(fx->srv, "/2/tweets"), 1);
    struct es_reply rep;
    get_reply(fx, id, &rep);
    assert_int_equal(rep.state, ES_REPLY_UNKNOWN);
    es_reply_release(&rep);

    /* Running again still posts nothing. */
    start(&r, fx, "send", NULL);
    es_run_wait(&r);
    assert_int_equal(r.status, 0);
    es_run_release(&r);
    assert_int_equal(es_testhttpd_hits(fx->srv, "/2/tweets"), 1);

    /* A viewer cannot decide; an agent can. */
    char ids[24];
    snprintf(ids, sizeof(ids), "%lld", (long long)id);
    start(&r, fx, "--as", "vic", "outbox", "resolve", ids, "--sent", NULL);
    es_run_wait(&r);
    assert_int_equal(r.status, 1);
    es_run_release(&r);
    start(&r, fx, "--as", "sam", "outbox", "resolve", ids, "--sent", NULL);
    es_run_wait(&r);
    assert_int_equal(r.status, 0);
    es_run_release(&r);
    get_reply(fx, id, &rep);
    assert_int_equal(rep.state, ES_REPLY_SENT);
    es_reply_release(&rep);
    assert_true(one_int(fx, "SELECT first_response_at FROM conversations"
                            " WHERE key = 'x:123'") > 0);
    assert_int_equal(one_int(fx, "SELECT count(*) FROM audit WHERE action ="
                                 " 'reply resolve' AND agent = 'sam'"),
                     1);
}

/* ==== Deciding about replies; one sender at a time ==== */

static void test_resolve_and_lock(void **state)
{
    struct fx *fx = *state;
    int64_t m = mastodon_mention(fx->ib);
    int64_t id = queue(fx, m, "dana", "hello", 0, 0);

    /* Only an unknown reply can be marked sent. */
    assert_int_equal(es_outbox_resolve(fx->ib, id, "dana", ES_OUTBOX_SENT),
                     ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "is queued"));
    assert_int_equal(es_outbox_resolve(fx->ib, id, "vic", ES_OUTBOX_CANCEL),
                     ES_EAUTH);
    assert_int_equal(es_outbox_resolve(fx->ib, 4242, "dana", ES_OUTBOX_CANCEL),
                     ES_ENOTFOUND);

    /* Another process holds the sender lock: this pass sends nothing. */
    route_json(fx, "/api/v1/statuses", 200, "{\"id\":\"9\"}");
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct es_inbox *ib;
        struct es_outbox_lock *lk = NULL;
        char c = 'x';
        if (es_inbox_open(&ib, fx->db_path) < 0 || es_outbox_lock(ib, &lk) < 0)
            c = 'e';
        if (write(pipefd[1], &c, 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    char c;
    assert_int_equal(read(pipefd[0], &c, 1), 1);
    assert_int_equal(c, 'x');
    struct es_send_stats st;
    assert_int_equal(es_replies_send_due(fx->ib, fx->cfg, NULL, NULL, &st),
                     ES_EEXISTS);
    assert_non_null(strstr(es_error_last(), "another sender"));
    assert_int_equal(es_testhttpd_hits(fx->srv, "/api/v1/statuses"), 0);
    struct es_run r;
    start(&r, fx, "send", NULL);
    es_run_wait(&r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.err.ptr, "another sender"));
    es_run_release(&r);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(pipefd[0]);
    close(pipefd[1]);
    /* Its death released the lock. */
    st = send_due(fx);
    assert_int_equal(st.sent, 1);

    /* failed -> resend keeps the key; cancel is final. */
    int64_t id2 = queue(fx, m, "dana", "again", 0, 0);
    route_json(fx, "/api/v1/statuses", 403,
               "{\"error\":\"This action is not allowed\"}");
    st = send_due(fx);
    assert_int_equal(st.failed, 1);
    struct es_reply rep;
    get_reply(fx, id2, &rep);
    char *key = es_xstrdup(rep.idempotency_key);
    es_reply_release(&rep);
    assert_int_equal(es_outbox_resolve(fx->ib, id2, "sam", ES_OUTBOX_RESEND),
                     0);
    route_json(fx, "/api/v1/statuses", 200, "{\"id\":\"10\"}");
    st = send_due(fx);
    assert_int_equal(st.sent, 1);
    assert_header(fx, "/api/v1/statuses", -1, "Idempotency-Key", key);
    free(key);
    assert_int_equal(es_outbox_resolve(fx->ib, id2, "sam", ES_OUTBOX_CANCEL),
                     ES_EINVALID);

    /* Listing by state. */
    struct es_run l;
    start(&l, fx, "outbox", "--state", "sent", NULL);
    es_run_wait(&l);
    assert_int_equal(l.status, 0);
    assert_non_null(strstr(l.out.ptr, "acme-mastodon"));
    es_run_release(&l);
    start(&l, fx, "outbox", "--state", "bogus", NULL);
    es_run_wait(&l);
    assert_int_equal(l.status, 2);
    es_run_release(&l);
}

/* ==== Canned replies from the command line ==== */

static void test_cli_canned_and_usage(void **state)
{
    struct fx *fx = *state;
    int64_t m = mastodon_mention(fx->ib);
    assert_int_equal(es_canned_add(fx->ib, "sorry",
                                   "Sorry {author}, {agent} here: fixing it.",
                                   "dana", 0),
                     0);
    char ids[24];
    snprintf(ids, sizeof(ids), "%lld", (long long)m);
    struct es_run r;
    start(&r, fx, "--as", "sam", "reply", ids, "--canned", "sorry", NULL);
    es_run_wait(&r);
    if (r.status)
        fprintf(stderr, "%s\n", r.err.ptr);
    assert_int_equal(r.status, 0);
    es_run_release(&r);
    struct es_reply rep;
    get_reply(fx, 1, &rep);
    assert_non_null(strstr(rep.body, "sam here: fixing it."));
    assert_true(strncmp(rep.body, "@carol@example.social Sorry ", 28) == 0);
    es_reply_release(&rep);

    start(&r, fx, "--as", "sam", "reply", ids, NULL);
    es_run_wait(&r);
    assert_int_equal(r.status, 2);
    es_run_release(&r);
    start(&r, fx, "--as", "sam", "reply", ids, "--text", "a", "--canned", "b",
          NULL);
    es_run_wait(&r);
    assert_int_equal(r.status, 2);
    es_run_release(&r);
    start(&r, fx, "--as", "sam", "reply", "abc", "--text", "a", NULL);
    es_run_wait(&r);
    assert_int_equal(r.status, 2);
    es_run_release(&r);
    start(&r, fx, "--as", "sam", "reply", "424242", "--text", "a", NULL);
    es_run_wait(&r);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err.ptr, "no mention 424242"));
    es_run_release(&r);
    start(&r, fx, "send", "--help", NULL);
    es_run_wait(&r);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "usage: earshot send"));
    es_run_release(&r);
}

static int global_setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int global_teardown(void **state)
{
    (void)state;
    es_fx_rmtree(tmpdir);
    curl_global_cleanup();
    return 0;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lengths),
        cmocka_unit_test_setup_teardown(test_mastodon, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mastodon_address_is_no_mention,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_bluesky, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bluesky_facets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bluesky_chat_resolves_author,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_x, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reddit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_youtube_play_github, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mastodon_key_window, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_token_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mastodon_other_instance, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_collision_library, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_collision_processes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_crash_mastodon, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_x, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve_and_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli_canned_and_usage, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, global_setup, global_teardown);
}
