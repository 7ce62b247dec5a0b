/* test_net_notify.c - alert notifications over loopback sockets
 *
 * The notifier (include/earshot/notify.h) against real servers on
 * 127.0.0.1: the test HTTP server (tests/support/testhttpd.h) as a Slack
 * and a webhook endpoint, the SMTP sink (tests/support/smtpd.h) as a mail
 * server, and /bin/sh commands. The alerts and alert_deliveries rows are
 * written by hand, so these tests do not depend on the detector. Checked:
 * the webhook body and its HMAC-SHA256 signature (against an independent
 * EVP_MAC over the bytes the server received), retries with the same
 * delivery id, the Slack body, email envelope, headers, AUTH, STARTTLS
 * refused cleanly, 451 retried and 550 final, dot-stuffing, the command
 * channel's stdin, exit status and timeout, one failing channel not
 * holding up another, unknown channels, and that no secret appears in
 * any error, body or output. Then `earshot notify test`.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* cmocka.h needs setjmp.h, stdarg.h and stddef.h first. */
#include <cmocka.h>

#include <curl/curl.h>
#include <sqlite3.h>
#include <yajl/yajl_tree.h>

#include "alerts/smtp.h"
#include "collectors/json.h"
#include "earshot/alloc.h"
#include "earshot/buf.h"
#include "earshot/config.h"
#include "earshot/error.h"
#include "earshot/inbox.h"
#include "earshot/notify.h"
#include "fixtures.h"
#include "inbox/store.h"
#include "runcli.h"
#include "smtpd.h"
#include "testhttpd.h"

#define SECRET     "whsec-Sup3rS3cret-81f2"
#define PASSWORD   "mail-Pa55word-77c1"
#define SLACK_PATH "/services/T0000/B0000/SlackT0kenXYZ123"
#define SLACK_TOK  "SlackT0kenXYZ123"
#define T0         1726000000LL /* 2024-09-10T20:26:40Z */
#define LATER      (T0 + 100000000LL)

static char tmpdir[] = "/tmp/es-notify-XXXXXX";

/* What each test gets: an inbox, the servers, a config built for them. */
struct fx {
    struct es_inbox *ib;
    struct es_testhttpd *http;
    struct es_smtpd *smtp;
    struct es_config *cfg;
};

/* ==== Helpers ==== */

static void assert_no_secret(const char *s)
{
    if (!s)
        return;
    if (strstr(s, SECRET) || strstr(s, PASSWORD) || strstr(s, SLACK_TOK) ||
        strstr(s, "/services/")) {
        fail_msg("a secret leaked: %s", s);
    }
}

static int setup(void **state)
{
    struct fx *f = es_xcalloc(1, sizeof(*f));
    assert_int_equal(es_inbox_open(&f->ib, ":memory:"), 0);
    assert_int_equal(es_testhttpd_open(&f->http, 0), 0);
    assert_int_equal(es_smtpd_open(&f->smtp), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    es_config_free(f->cfg);
    es_testhttpd_free(f->http);
    es_smtpd_free(f->smtp);
    es_inbox_free(f->ib);
    free(f);
    return 0;
}

/* Loads config text in which every "@HTTP@" becomes the test server's
 * base URL and "@SMTP@" the sink's. */
static void config(struct fx *f, const char *text)
{
    struct es_buf b = ES_BUF_INIT;
    char *http = es_testhttpd_url(f->http, "");
    char *smtp = es_smtpd_url(f->smtp);
    for (const char *p = text; *p;) {
        if (!strncmp(p, "@HTTP@", 6)) {
            es_buf_adds(&b, http);
            p += 6;
        } else if (!strncmp(p, "@SMTP@", 6)) {
            es_buf_adds(&b, smtp);
            p += 6;
        } else {
            es_buf_addch(&b, *p++);
        }
    }
    es_config_free(f->cfg);
    f->cfg = NULL;
    if (es_config_load_string(&f->cfg, b.ptr, "notify.conf") < 0)
        fail_msg("config: %s", es_error_last());
    free(http);
    free(smtp);
    es_buf_release(&b);
}

static sqlite3 *db(struct fx *f)
{
    return es_inbox__db(f->ib);
}

static void exec_sql(struct fx *f, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db(f), sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("sql: %s: %s", sql, err);
}

/* The explanation the detector documents in alerts.h. */
static const char EXPLANATION[] =
    "{\"rule\":\"neg-spike\",\"series\":\"negative\",\"bucket\":\"1h\","
    "\"started_at\":\"2024-09-10T20:00:00Z\",\"ended_at\":null,"
    "\"buckets\":1,\"observed\":41,\"expected\":7.5,\"score\":8.9,"
    "\"peak\":57,\"baseline\":\"weekly\",\"mentions\":98,"
    "\"top_mentions\":[{\"id\":12,\"author\":\"@ann\",\"source\":"
    "\"mastodon\",\"text\":\"Login is down again <b>caf\xc3\xa9</b> & "
    "nobody answers\",\"sentiment\":-0.81,\"priority\":77,"
    "\"url\":\"https://social.example/@ann/12\"},{\"id\":13,\"author\":"
    "\"@bob\",\"source\":\"hn\",\"text\":\"outage outage\","
    "\"sentiment\":-0.5}],"
    "\"terms\":[[\"outage\",31],[\"login\",12]],"
    "\"sources\":[[\"mastodon\",60],[\"hn\",38]],"
    "\"authors\":[[\"@ann\",4]]}";

/* Inserts an alert of rule neg-spike started at T0 - T0 % 3600, 41
 * observed, 7.5 expected, score 8.9, peak 57; resolved after 3 hours
 * when @resolved. Returns its id. */
static long long add_alert(struct fx *f, int resolved)
{
    sqlite3_stmt *st;
    int64_t start = T0 - T0 % 3600;
    assert_int_equal(
        sqlite3_prepare_v2(
            db(f),
            "INSERT INTO alerts (rule, bucket, started_at, ended_at, state,"
            " observed, expected, score, peak, explanation, created_at,"
            " updated_at) VALUES ('neg-spike', 3600, ?1, ?2, ?3, 41, 7.5,"
            " 8.9, 57, ?4, ?1, ?1)",
            -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_int64(st, 1, start);
    if (resolved)
        sqlite3_bind_int64(st, 2, start + 3 * 3600);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_text(st, 3, resolved ? "resolved" : "firing", -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(st, 4, EXPLANATION, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    return sqlite3_last_insert_rowid(db(f));
}

/* Queues a delivery as the engine does (pending, due at T0). */
static long long add_delivery(struct fx *f, long long alert, const char *notify,
                              const char *event)
{
    sqlite3_stmt *st;
    assert_int_equal(
        sqlite3_prepare_v2(db(f),
                           "INSERT INTO alert_deliveries (alert_id, notify,"
                           " event, next_attempt, created_at) VALUES (?1, ?2,"
                           " ?3, ?4, ?4)",
                           -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_int64(st, 1, alert);
    sqlite3_bind_text(st, 2, notify, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, event, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, T0);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    return sqlite3_last_insert_rowid(db(f));
}

/* One alert_deliveries row as recorded. */
struct row {
    char state[16];
    int attempts;
    char error[1024];  /* "" when NULL */
    long long next;    /* -1 when NULL */
    long long deliver; /* delivered_at, -1 when NULL */
};

static void get_row(struct fx *f, long long id, struct row *r)
{
    sqlite3_stmt *st;
    memset(r, 0, sizeof(*r));
    assert_int_equal(
        sqlite3_prepare_v2(db(f),
                           "SELECT state, attempts, last_error, next_attempt,"
                           " delivered_at FROM alert_deliveries WHERE id = ?1",
                           -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_int64(st, 1, id);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(r->state, sizeof(r->state), "%s", sqlite3_column_text(st, 0));
    r->attempts = sqlite3_column_int(st, 1);
    if (sqlite3_column_type(st, 2) != SQLITE_NULL)
        snprintf(r->error, sizeof(r->error), "%s", sqlite3_column_text(st, 2));
    r->next = sqlite3_column_type(st, 3) == SQLITE_NULL
                  ? -1
                  : sqlite3_column_int64(st, 3);
    r->deliver = sqlite3_column_type(st, 4) == SQLITE_NULL
                     ? -1
                     : sqlite3_column_int64(st, 4);
    sqlite3_finalize(st);
    assert_no_secret(r->error);
}

/* Every report of a pass, concatenated, to check for secrets. */
static void on_report(const struct es_notify_report *r, void *payload)
{
    struct es_buf *log = payload;
    es_buf_addf(log, "%s %s %s %d %s\n", r->notify, r->event, r->state,
                r->attempt, r->error ? r->error : "");
}

/* One pass at @now; returns the number delivered. */
static int pass(struct fx *f, int64_t now)
{
    struct es_buf log = ES_BUF_INIT;
    int n = -1;
    assert_int_equal(
        es_notify_deliver_run(f->ib, f->cfg, now, on_report, &log, &n), 0);
    assert_no_secret(log.ptr);
    es_buf_release(&log);
    return n;
}

static yajl_val parse_json(const char *s)
{
    char err[256];
    yajl_val v = yajl_tree_parse(s, err, sizeof(err));
    if (!v)
        fail_msg("not JSON (%s): %s", err, s);
    return v;
}

/* Decodes quoted-printable @s (soft breaks dropped, =XX decoded). The
 * caller frees the result. */
static char *qp_decode(const char *s)
{
    struct es_buf b = ES_BUF_INIT;
    for (const char *p = s; *p; p++) {
        if (*p == '=' && p[1] == '\r' && p[2] == '\n') {
            p += 2;
        } else if (*p == '=' && p[1] && p[2]) {
            char hex[3] = { p[1], p[2], 0 };
            es_buf_addch(&b, (int)strtol(hex, NULL, 16));
            p += 2;
        } else {
            es_buf_addch(&b, *p);
        }
    }
    return es_buf_detach(&b);
}

/* The body of a received email, decoded. */
static char *mail_body(const struct es_smtpd_message *m)
{
    const char *sep = strstr(m->data, "\r\n\r\n");
    assert_non_null(sep);
    return qp_decode(sep + 4);
}

/* Whether a line of @data's head starts with @line. */
static int has_header(const char *data, const char *line)
{
    const char *end = strstr(data, "\r\n\r\n");
    struct es_buf want = ES_BUF_INIT;
    int found = !strncmp(data, line, strlen(line));
    es_buf_addf(&want, "\r\n%s", line);
    const char *hit = strstr(data, want.ptr);
    if (hit && hit < end)
        found = 1;
    es_buf_release(&want);
    return found;
}

static const char WEBHOOK_CONF[] = "[notify \"hook\"]\n"
                                   "type = webhook\n"
                                   "url = @HTTP@/hook\n"
                                   "secret = " SECRET "\n"
                                   "timeout = 5\n";

/* ==== Webhook ==== */

static void test_webhook_payload_and_signature(void **state)
{
    struct fx *f = *state;
    struct es_testhttpd_response ok = { .status = 200, .body = "ok" };
    struct row r;
    char want[72];

    es_testhttpd_route(f->http, "/hook", &ok);
    config(f, WEBHOOK_CONF);
    long long a = add_alert(f, 0);
    long long d = add_delivery(f, a, "hook", "fire");

    assert_int_equal(pass(f, T0), 1);
    assert_int_equal(es_testhttpd_hits(f->http, "/hook"), 1);
    char *body = es_testhttpd_body(f->http, "/hook", 0);
    char *sig = es_testhttpd_header(f->http, "/hook", 0, "X-Earshot-Signature");
    char *ev = es_testhttpd_header(f->http, "/hook", 0, "X-Earshot-Event");
    char *id = es_testhttpd_header(f->http, "/hook", 0, "X-Earshot-Delivery");
    char *ct = es_testhttpd_header(f->http, "/hook", 0, "Content-Type");
    es_fx_hmac_sha256(SECRET, body, strlen(body), want);
    assert_non_null(sig);
    assert_string_equal(sig, want);
    assert_string_equal(ev, "fire");
    assert_non_null(id);
    assert_true(strlen(id) > 4);
    assert_string_equal(ct, "application/json");
    assert_no_secret(body);

    yajl_val v = parse_json(body);
    long long n;
    double x;
    assert_string_equal(es_json_str(v, "event"), "fire");
    assert_string_equal(es_json_str(v, "delivery"), id);
    assert_int_equal(es_json_int(v, "alert_id", &n), 0);
    assert_int_equal(n, a);
    assert_string_equal(es_json_str(v, "rule"), "neg-spike");
    assert_string_equal(es_json_str(v, "state"), "firing");
    assert_string_equal(es_json_str(v, "bucket"), "1h");
    assert_string_equal(es_json_str(v, "started_at"), "2024-09-10T20:00:00Z");
    assert_null(es_json_get(v, "ended_at"));
    assert_int_equal(es_json_int(v, "observed", &n), 0);
    assert_int_equal(n, 41);
    assert_int_equal(es_json_num(v, "expected", &x), 0);
    assert_true(x > 7.49 && x < 7.51);
    assert_int_equal(es_json_num(v, "score", &x), 0);
    assert_true(x > 8.89 && x < 8.91);
    assert_int_equal(es_json_int(v, "peak", &n), 0);
    assert_int_equal(n, 57);
    assert_non_null(strstr(es_json_str(v, "summary"), "41 negative mentions"));
    yajl_val top = es_json_path(v, "explanation.top_mentions");
    assert_int_equal(es_json_len(top), 2);
    assert_string_equal(es_json_str(es_json_at(top, 0), "author"), "@ann");
    yajl_tree_free(v);

    get_row(f, d, &r);
    assert_string_equal(r.state, "delivered");
    assert_int_equal(r.attempts, 1);
    assert_string_equal(r.error, "");
    assert_true(r.deliver >= T0);
    assert_int_equal(r.next, -1);

    /* Delivered once: a later pass sends nothing. */
    assert_int_equal(pass(f, LATER), 0);
    assert_int_equal(es_testhttpd_hits(f->http, "/hook"), 1);
    free(body);
    free(sig);
    free(ev);
    free(id);
    free(ct);
}

static void test_webhook_retries(void **state)
{
    struct fx *f = *state;
    struct es_testhttpd_response seq[] = {
        { .status = 500, .body = "boom " SECRET },
        { .status = 500, .body = "boom" },
        { .status = 200, .body = "ok" },
    };
    struct row r;

    es_testhttpd_route_seq(f->http, "/hook", seq, 3);
    config(f, WEBHOOK_CONF);
    long long d = add_delivery(f, add_alert(f, 0), "hook", "fire");

    assert_int_equal(pass(f, T0), 0);
    get_row(f, d, &r);
    assert_string_equal(r.state, "pending");
    assert_int_equal(r.attempts, 1);
    assert_non_null(strstr(r.error, "HTTP 500"));
    assert_non_null(strstr(r.error, "boom ***")); /* the server's echo */
    /* Backoff: about a minute later, not at once. */
    assert_true(r.next > T0 + 30 && r.next < T0 + 3600);
    assert_int_equal(r.deliver, -1);

    /* Not due yet: nothing is sent. */
    assert_int_equal(pass(f, T0 + 5), 0);
    assert_int_equal(es_testhttpd_hits(f->http, "/hook"), 1);

    assert_int_equal(pass(f, r.next), 0);
    get_row(f, d, &r);
    assert_string_equal(r.state, "pending");
    assert_int_equal(r.attempts, 2);
    assert_int_equal(pass(f, LATER), 1);
    get_row(f, d, &r);
    assert_string_equal(r.state, "delivered");
    assert_int_equal(r.attempts, 3);
    assert_string_equal(r.error, "");
    assert_int_equal(pass(f, LATER + 100000), 0);
    assert_int_equal(es_testhttpd_hits(f->http, "/hook"), 3);

    /* The same delivery id every time; each try signed over its body. */
    char *id0 = es_testhttpd_header(f->http, "/hook", 0, "X-Earshot-Delivery");
    for (long i = 0; i < 3; i++) {
        char *id =
            es_testhttpd_header(f->http, "/hook", i, "X-Earshot-Delivery");
        char *sig =
            es_testhttpd_header(f->http, "/hook", i, "X-Earshot-Signature");
        char *body = es_testhttpd_body(f->http, "/hook", i);
        char want[72];
        es_fx_hmac_sha256(SECRET, body, strlen(body), want);
        assert_string_equal(id, id0);
        assert_string_equal(sig, want);
        free(id);
        free(sig);
        free(body);
    }
    free(id0);
}

static void test_webhook_refuses_unsigned(void **state)
{
    struct fx *f = *state;
    struct es_testhttpd_response ok = { .status = 200 };
    struct row r;

    es_testhttpd_route(f->http, "/hook", &ok);
    config(f, "[notify \"hook\"]\ntype = webhook\nurl = @HTTP@/hook\n");
    long long d = add_delivery(f, add_alert(f, 0), "hook", "fire");
    assert_int_equal(pass(f, T0), 0);
    assert_int_equal(es_testhttpd_hits(f->http, NULL), 0);
    get_row(f, d, &r);
    assert_string_equal(r.state, "pending");
    assert_int_equal(r.attempts, 1);
    assert_non_null(strstr(r.error, "no secret"));
    assert_non_null(strstr(r.error, "webhook 'hook'"));
}

static void test_webhook_gives_up(void **state)
{
    struct fx *f = *state;
    struct es_testhttpd_response bad = { .status = 503 };
    struct row r;

    es_testhttpd_route(f->http, "/hook", &bad);
    config(f, WEBHOOK_CONF);
    long long d = add_delivery(f, add_alert(f, 0), "hook", "fire");
    exec_sql(f, "UPDATE alert_deliveries SET attempts = 9");
    assert_int_equal(pass(f, T0), 0);
    get_row(f, d, &r);
    assert_string_equal(r.state, "failed");
    assert_int_equal(r.attempts, ES_NOTIFY_MAX_ATTEMPTS);
    assert_int_equal(r.next, -1);
    assert_non_null(strstr(r.error, "HTTP 503"));
    assert_int_equal(pass(f, LATER), 0);
    assert_int_equal(es_testhttpd_hits(f->http, NULL), 1);
}

static void test_resolve_follows_fire(void **state)
{
    struct fx *f = *state;
    struct es_testhttpd_response seq[] = {
        { .status = 500 },
        { .status = 200 },
    };
    struct row r;

    es_testhttpd_route_seq(f->http, "/hook", seq, 2);
    config(f, WEBHOOK_CONF);
    long long a = add_alert(f, 1);
    long long fire = add_delivery(f, a, "hook", "fire");
    long long res = add_delivery(f, a, "hook", "resolve");

    /* The fire fails: the resolve is not sent before it. */
    assert_int_equal(pass(f, T0), 0);
    assert_int_equal(es_testhttpd_hits(f->http, "/hook"), 1);
    get_row(f, res, &r);
    assert_string_equal(r.state, "pending");
    assert_int_equal(r.attempts, 0);
    assert_int_equal(pass(f, T0 + 10), 0);
    assert_int_equal(es_testhttpd_hits(f->http, "/hook"), 1);

    assert_int_equal(pass(f, LATER), 2);
    get_row(f, fire, &r);
    assert_string_equal(r.state, "delivered");
    get_row(f, res, &r);
    assert_string_equal(r.state, "delivered");
    assert_int_equal(r.attempts, 1);

    char *e1 = es_testhttpd_header(f->http, "/hook", 1, "X-Earshot-Event");
    char *e2 = es_testhttpd_header(f->http, "/hook", 2, "X-Earshot-Event");
    char *id1 = es_testhttpd_header(f->http, "/hook", 1, "X-Earshot-Delivery");
    char *id2 = es_testhttpd_header(f->http, "/hook", 2, "X-Earshot-Delivery");
    assert_string_equal(e1, "fire");
    assert_string_equal(e2, "resolve");
    assert_string_not_equal(id1, id2);
    char *body = es_testhttpd_body(f->http, "/hook", 2);
    yajl_val v = parse_json(body);
    long long n;
    assert_string_equal(es_json_str(v, "event"), "resolve");
    assert_string_equal(es_json_str(v, "state"), "resolved");
    assert_string_equal(es_json_str(v, "ended_at"), "2024-09-10T23:00:00Z");
    assert_int_equal(es_json_int(v, "duration_seconds", &n), 0);
    assert_int_equal(n, 3 * 3600);
    assert_non_null(strstr(es_json_str(v, "summary"), "over after 3h"));
    yajl_tree_free(v);
    free(body);
    free(e1);
    free(e2);
    free(id1);
    free(id2);
}

/* ==== Slack ==== */

static const char SLACK_CONF[] = "[notify \"team\"]\n"
                                 "type = slack\n"
                                 "url = @HTTP@" SLACK_PATH "\n";

static void test_slack_body(void **state)
{
    struct fx *f = *state;
    struct es_testhttpd_response ok = { .status = 200, .body = "ok" };

    es_testhttpd_route(f->http, SLACK_PATH, &ok);
    config(f, SLACK_CONF);
    long long a = add_alert(f, 1);
    add_delivery(f, a, "team", "fire");
    add_delivery(f, a, "team", "resolve");
    assert_int_equal(pass(f, T0), 2);
    assert_int_equal(es_testhttpd_hits(f->http, SLACK_PATH), 2);

    char *body = es_testhttpd_body(f->http, SLACK_PATH, 0);
    yajl_val v = parse_json(body);
    const char *text = es_json_str(v, "text");
    assert_non_null(text);
    assert_non_null(strstr(text, "neg-spike"));
    assert_non_null(strstr(text, "41 negative mentions"));
    assert_non_null(strstr(text, "7.5 expected"));
    yajl_val blocks = es_json_get(v, "blocks");
    assert_true(es_json_len(blocks) >= 3);
    assert_string_equal(es_json_str(es_json_at(blocks, 0), "type"), "header");
    assert_non_null(
        strstr(es_json_str(es_json_path(es_json_at(blocks, 0), "text"), "text"),
               "neg-spike"));
    /* Mentions with links, mrkdwn-escaped. */
    int links = 0, drivers = 0, fields = 0;
    for (size_t i = 0; i < es_json_len(blocks); i++) {
        yajl_val blk = es_json_at(blocks, i);
        const char *t = es_json_str(es_json_get(blk, "text"), "text");
        if (t && strstr(t, "<https://social.example/@ann/12|@ann>")) {
            links = 1;
            assert_non_null(strstr(t, "&lt;b&gt;caf\xc3\xa9&lt;/b&gt; &amp;"));
        }
        if (es_json_len(es_json_get(blk, "fields")) >= 4)
            fields = 1;
        const char *ctx =
            es_json_str(es_json_at(es_json_get(blk, "elements"), 0), "text");
        if (ctx && strstr(ctx, "outage (31)") && strstr(ctx, "mastodon (60)") &&
            strstr(ctx, "@ann (4)"))
            drivers = 1;
    }
    assert_true(links);
    assert_true(fields);
    assert_true(drivers);
    yajl_tree_free(v);
    free(body);

    /* The resolve says the spike is over and how long it lasted. */
    body = es_testhttpd_body(f->http, SLACK_PATH, 1);
    v = parse_json(body);
    assert_non_null(strstr(es_json_str(v, "text"), "over after 3h"));
    assert_non_null(strstr(body, "Resolved"));
    yajl_tree_free(v);
    free(body);
}

static void test_slack_url_is_secret(void **state)
{
    struct fx *f = *state;
    struct es_testhttpd_response gone = {
        .status = 404,
        .body = "no_service for " SLACK_PATH,
    };
    struct row r;

    es_testhttpd_route(f->http, SLACK_PATH, &gone);
    config(f, SLACK_CONF);
    long long d = add_delivery(f, add_alert(f, 0), "team", "fire");
    assert_int_equal(pass(f, T0), 0);
    get_row(f, d, &r); /* checks for the token */
    /* A 404 from Slack is final: the webhook was revoked. */
    assert_string_equal(r.state, "failed");
    assert_non_null(strstr(r.error, "HTTP 404"));
    assert_non_null(strstr(r.error, "no_service"));
    assert_non_null(strstr(r.error, "slack 'team'"));

    /* Nobody listening: the client's own message names the URL. */
    struct es_testhttpd *tmp;
    assert_int_equal(es_testhttpd_open(&tmp, 0), 0);
    int port = es_testhttpd_port(tmp);
    es_testhttpd_free(tmp);
    char text[512];
    snprintf(text, sizeof(text),
             "[notify \"team\"]\ntype = slack\n"
             "url = http://127.0.0.1:%d" SLACK_PATH "\n",
             port);
    es_config_free(f->cfg);
    assert_int_equal(es_config_load_string(&f->cfg, text, "n.conf"), 0);
    d = add_delivery(f, add_alert(f, 0), "team", "fire");
    assert_int_equal(pass(f, T0), 0);
    get_row(f, d, &r);
    assert_string_equal(r.state, "pending");
    assert_non_null(strstr(r.error, "127.0.0.1"));
}

/* Slack refuses a text over 3000 characters or a header over 150: long
 * mentions and links are cut, not sent to be refused. */
static void test_slack_limits(void **state)
{
    struct fx *f = *state;
    struct es_testhttpd_response ok = { .status = 200, .body = "ok" };
    struct es_buf ex = ES_BUF_INIT, rule = ES_BUF_INIT;

    es_testhttpd_route(f->http, SLACK_PATH, &ok);
    config(f, SLACK_CONF);
    long long a = add_alert(f, 0);
    es_buf_adds(&ex, "{\"series\":\"negative\",\"top_mentions\":[");
    for (int i = 0; i < 5; i++) {
        es_buf_addf(&ex,
                    "%s{\"id\":%d,\"author\":\"@a%d\",\"url\":"
                    "\"https://x.example/",
                    i ? "," : "", i, i);
        for (int k = 0; k < 900; k++)
            es_buf_addch(&ex, 'u');
        es_buf_adds(&ex, "\",\"text\":\"");
        for (int k = 0; k < 600; k++)
            es_buf_adds(&ex, "<&");
        es_buf_adds(&ex, "\"}");
    }
    es_buf_adds(&ex, "]}");
    for (int k = 0; k < 300; k++)
        es_buf_addch(&rule, 'r');
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(
                         db(f), "UPDATE alerts SET explanation = ?1, rule = ?2",
                         -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, ex.ptr, (int)ex.len, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, rule.ptr, (int)rule.len, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    add_delivery(f, a, "team", "fire");
    assert_int_equal(pass(f, T0), 1);

    char *body = es_testhttpd_body(f->http, SLACK_PATH, 0);
    yajl_val v = parse_json(body);
    yajl_val blocks = es_json_get(v, "blocks");
    int mentions = 0;
    for (size_t i = 0; i < es_json_len(blocks); i++) {
        yajl_val blk = es_json_at(blocks, i);
        const char *t = es_json_str(es_json_get(blk, "text"), "text");
        if (!strcmp(es_json_str(blk, "type"), "header"))
            assert_true(strlen(t) <= 150);
        else if (t)
            assert_true(strlen(t) <= 3000);
        if (t && strstr(t, "Top mentions")) {
            mentions = 1;
            assert_non_null(strstr(t, "&lt;&amp;"));
            assert_non_null(strstr(t, "<https://x.example/uuu"));
        }
    }
    assert_true(mentions);
    yajl_tree_free(v);
    free(body);
    es_buf_release(&ex);
    es_buf_release(&rule);
}

/* ==== Email ==== */

static const char MAIL_CONF[] = "[notify \"mail\"]\n"
                                "type = email\n"
                                "smtp_url = @SMTP@\n"
                                "starttls = no\n"
                                "username = alerts\n"
                                "password = " PASSWORD "\n"
                                "from = Earshot <alerts@example.com>\n"
                                "to = oncall@example.com, \"Doe, Jane\" "
                                "<jane@example.com>\n"
                                "timeout = 10\n";

static void test_email_delivered(void **state)
{
    struct fx *f = *state;
    struct es_smtpd_message m;
    struct row r;

    es_smtpd_set_auth(f->smtp, "PLAIN LOGIN", "alerts", PASSWORD, 1);
    config(f, MAIL_CONF);
    long long d = add_delivery(f, add_alert(f, 0), "mail", "fire");
    assert_int_equal(pass(f, T0), 1);
    get_row(f, d, &r);
    assert_string_equal(r.state, "delivered");
    assert_int_equal(es_smtpd_count(f->smtp), 1);
    assert_int_equal(es_smtpd_message(f->smtp, 0, &m), 0);
    assert_string_equal(m.from, "alerts@example.com");
    assert_int_equal(m.nrcpt, 2);
    assert_string_equal(m.rcpt[0], "oncall@example.com");
    assert_string_equal(m.rcpt[1], "jane@example.com");
    assert_string_equal(m.auth_user, "alerts");
    assert_non_null(m.auth_mech);

    assert_true(has_header(m.data, "Date: Tue, 10 Sep 2024 20:26:40 +0000"));
    assert_true(has_header(m.data, "From: Earshot <alerts@example.com>"));
    assert_true(has_header(m.data, "To: <oncall@example.com>,"));
    assert_non_null(strstr(m.data, "\r\n \"Doe, Jane\" <jane@example.com>"));
    assert_true(has_header(m.data, "Subject: [earshot] Spike: neg-spike: 41 "
                                   "negative mentions (7.5 expected)"));
    assert_true(has_header(m.data, "Message-ID: <es-"));
    assert_non_null(strstr(m.data, "@example.com>\r\n"));
    assert_true(has_header(m.data, "MIME-Version: 1.0"));
    assert_true(has_header(m.data, "Content-Type: text/plain; charset=utf-8"));
    assert_true(
        has_header(m.data, "Content-Transfer-Encoding: quoted-printable"));
    assert_true(has_header(m.data, "X-Earshot-Event: fire"));
    /* Quoted-printable keeps every line short and 7-bit. */
    for (const char *p = m.data; *p; p++)
        assert_true((unsigned char)*p < 0x80);
    char *body = mail_body(&m);
    assert_non_null(strstr(body, "41 negative mentions in the hour from "
                                 "2024-09-10 20:00 UTC, 7.5 expected"));
    assert_non_null(strstr(body, "<b>caf\xc3\xa9</b> & nobody"));
    assert_non_null(strstr(body, "https://social.example/@ann/12"));
    assert_non_null(strstr(body, "Terms: outage (31), login (12)"));
    assert_no_secret(m.data);
    free(body);
    es_smtpd_message_release(&m);

    char *verbs = es_smtpd_verbs(f->smtp);
    assert_non_null(strstr(verbs, "AUTH"));
    assert_null(strstr(verbs, "STARTTLS"));
    free(verbs);
}

static void test_email_auth_plain(void **state)
{
    struct fx *f = *state;
    struct es_smtpd_message m;

    es_smtpd_set_auth(f->smtp, "PLAIN", "alerts", PASSWORD, 1);
    config(f, MAIL_CONF);
    add_delivery(f, add_alert(f, 0), "mail", "fire");
    assert_int_equal(pass(f, T0), 1);
    assert_int_equal(es_smtpd_message(f->smtp, 0, &m), 0);
    assert_string_equal(m.auth_mech, "PLAIN");
    assert_string_equal(m.auth_user, "alerts");
    es_smtpd_message_release(&m);
}

static void test_email_auth_refused(void **state)
{
    struct fx *f = *state;
    struct row r;

    es_smtpd_set_auth(f->smtp, "PLAIN LOGIN", "alerts", "another-password", 1);
    config(f, MAIL_CONF);
    long long d = add_delivery(f, add_alert(f, 0), "mail", "fire");
    assert_int_equal(pass(f, T0), 0);
    get_row(f, d, &r);
    assert_string_equal(r.state, "pending");
    assert_non_null(strstr(r.error, "refused the login"));
    assert_non_null(strstr(r.error, "535"));
    assert_int_equal(es_smtpd_count(f->smtp), 0);
}

static void test_email_starttls_required(void **state)
{
    struct fx *f = *state;
    struct row r;

    es_smtpd_set_auth(f->smtp, "PLAIN LOGIN", NULL, NULL, 0);
    /* starttls defaults to yes; the sink has no TLS at all. */
    config(f, "[notify \"mail\"]\ntype = email\nsmtp_url = @SMTP@\n"
              "username = alerts\npassword = " PASSWORD "\n"
              "from = alerts@example.com\nto = oncall@example.com\n");
    long long d = add_delivery(f, add_alert(f, 0), "mail", "fire");
    assert_int_equal(pass(f, T0), 0);
    get_row(f, d, &r);
    assert_string_equal(r.state, "pending");
    assert_non_null(strstr(r.error, "does not offer STARTTLS"));
    assert_non_null(strstr(r.error, "email 'mail'"));
    assert_int_equal(es_smtpd_count(f->smtp), 0);
    /* Neither the login nor the message went out in clear. */
    char *verbs = es_smtpd_verbs(f->smtp);
    assert_non_null(strstr(verbs, "EHLO"));
    assert_null(strstr(verbs, "AUTH"));
    assert_null(strstr(verbs, "MAIL"));
    free(verbs);
}

static void test_email_451_retried(void **state)
{
    struct fx *f = *state;
    struct row r;

    es_smtpd_set_auth(f->smtp, "PLAIN LOGIN", "alerts", PASSWORD, 1);
    es_smtpd_refuse(f->smtp, ES_SMTPD_END, "451 4.3.0 try again later", 1);
    config(f, MAIL_CONF);
    long long d = add_delivery(f, add_alert(f, 0), "mail", "fire");
    assert_int_equal(pass(f, T0), 0);
    get_row(f, d, &r);
    assert_string_equal(r.state, "pending");
    assert_int_equal(r.attempts, 1);
    assert_non_null(strstr(r.error, "451"));
    assert_int_equal(es_smtpd_count(f->smtp), 0);
    assert_int_equal(pass(f, LATER), 1);
    get_row(f, d, &r);
    assert_string_equal(r.state, "delivered");
    assert_int_equal(r.attempts, 2);
    assert_int_equal(es_smtpd_count(f->smtp), 1);
}

static void test_email_550_final(void **state)
{
    struct fx *f = *state;
    struct row r;

    es_smtpd_set_auth(f->smtp, "PLAIN LOGIN", "alerts", PASSWORD, 1);
    es_smtpd_refuse(f->smtp, ES_SMTPD_RCPT, "550 5.1.1 no such user here", -1);
    config(f, MAIL_CONF);
    long long d = add_delivery(f, add_alert(f, 0), "mail", "fire");
    assert_int_equal(pass(f, T0), 0);
    get_row(f, d, &r);
    assert_string_equal(r.state, "failed");
    assert_int_equal(r.attempts, 1);
    assert_non_null(strstr(r.error, "550 5.1.1 no such user here"));
    assert_int_equal(pass(f, LATER), 0);
    assert_int_equal(es_smtpd_count(f->smtp), 0);
}

/* libcurl dot-stuffs the data: lines of a lone "." or starting with "."
 * arrive intact, and the message is not cut short. */
static void test_email_dot_stuffing(void **state)
{
    struct fx *f = *state;
    struct es_smtpd_message m;
    char *url = es_smtpd_url(f->smtp);
    const char *body = ".leading dot\n.\n..two dots\nlast line\n";
    struct es_smtp_mail mail = {
        .name = "dots",
        .url = url,
        .starttls = 0,
        .from = "a@example.com",
        .to = "b@example.com",
        .subject = "Caf\xc3\xa9 =?x?= " SECRET,
        .body = body,
        .message_id = "dots-1",
        .date = T0,
    };
    assert_int_equal(es_smtp_send(&mail, NULL), 0);
    assert_int_equal(es_smtpd_message(f->smtp, 0, &m), 0);
    char *got = mail_body(&m);
    assert_string_equal(got,
                        ".leading dot\r\n.\r\n..two dots\r\nlast line\r\n");
    /* A non-ASCII subject is RFC 2047-encoded. */
    assert_true(has_header(m.data, "Subject: =?UTF-8?B?"));
    free(got);
    es_smtpd_message_release(&m);
    free(url);
}

static void test_email_addresses(void **state)
{
    (void)state;
    char **a = NULL;
    size_t n = 0;
    assert_int_equal(
        es_smtp_addresses(" a@x.org ,\"Doe, J\" <j@y.org>, Bob <b@z.org> ", &a,
                          &n),
        0);
    assert_int_equal(n, 3);
    assert_string_equal(a[0], "a@x.org");
    assert_string_equal(a[1], "j@y.org");
    assert_string_equal(a[2], "b@z.org");
    es_smtp_addresses_free(a);
    assert_int_equal(es_smtp_addresses("nobody", &a, &n), ES_EINVALID);
    assert_int_equal(es_smtp_addresses("a@b\r\nBcc: c@d", &a, &n), ES_EINVALID);
    assert_int_equal(es_smtp_addresses(" , ", &a, &n), ES_EINVALID);

    struct es_buf qp = ES_BUF_INIT;
    const char *line = "caf\xc3\xa9 = ok \r\n";
    es_smtp_qp_encode(line, strlen(line), &qp);
    assert_string_equal(qp.ptr, "caf=C3=A9 =3D ok=20\r\n");
    es_buf_reset(&qp);
    char longline[200];
    memset(longline, 'x', sizeof(longline) - 1);
    longline[sizeof(longline) - 1] = '\0';
    es_smtp_qp_encode(longline, strlen(longline), &qp);
    for (const char *p = qp.ptr; *p;) {
        const char *e = strstr(p, "\r\n");
        size_t len = e ? (size_t)(e - p) : strlen(p);
        assert_true(len <= 76);
        p += len + (e ? 2 : 0);
    }
    char *back = qp_decode(qp.ptr);
    assert_string_equal(back, longline);
    free(back);
    es_buf_release(&qp);
}

/* ==== Command ==== */

static void test_command_stdin(void **state)
{
    struct fx *f = *state;
    char text[2048], path[600], envp[600];
    struct row r;

    snprintf(path, sizeof(path), "%s/stdin.json", tmpdir);
    snprintf(envp, sizeof(envp), "%s/env.txt", tmpdir);
    snprintf(text, sizeof(text),
             "[notify \"cmd\"]\ntype = command\n"
             "command = cat > %s; printf '%%s %%s' \"$EARSHOT_EVENT\" "
             "\"$EARSHOT_RULE\" > %s\n",
             path, envp);
    config(f, text);
    long long a = add_alert(f, 0);
    long long d = add_delivery(f, a, "cmd", "fire");
    assert_int_equal(pass(f, T0), 1);
    get_row(f, d, &r);
    assert_string_equal(r.state, "delivered");

    struct es_buf got = ES_BUF_INIT;
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
        es_buf_add(&got, buf, n);
    fclose(fp);
    yajl_val v = parse_json(got.ptr);
    long long id;
    assert_string_equal(es_json_str(v, "event"), "fire");
    assert_int_equal(es_json_int(v, "alert_id", &id), 0);
    assert_int_equal(id, a);
    assert_string_equal(es_json_str(v, "rule"), "neg-spike");
    assert_non_null(es_json_path(v, "explanation.terms"));
    yajl_tree_free(v);
    es_buf_reset(&got);
    fp = fopen(envp, "r");
    assert_non_null(fp);
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    assert_string_equal(buf, "fire neg-spike");
    es_buf_release(&got);
}

static void test_command_fails(void **state)
{
    struct fx *f = *state;
    struct row r;

    /* It ignores its stdin, complains and fails. */
    config(f, "[notify \"cmd\"]\ntype = command\n"
              "command = echo boom >&2; echo second >&2; exit 3\n");
    long long d = add_delivery(f, add_alert(f, 0), "cmd", "fire");
    assert_int_equal(pass(f, T0), 0);
    get_row(f, d, &r);
    assert_string_equal(r.state, "pending");
    assert_int_equal(r.attempts, 1);
    assert_non_null(
        strstr(r.error, "command 'cmd': exited with status 3: boom / second"));
}

/* A command that closes its stdin without reading a body larger than a
 * pipe holds: the write fails with EPIPE, and earshot must not die of
 * SIGPIPE (the test would). Its exit status still decides. */
static void test_command_ignores_stdin(void **state)
{
    struct fx *f = *state;
    struct row r;
    struct es_buf big = ES_BUF_INIT;

    config(f, "[notify \"cmd\"]\ntype = command\ntimeout = 20\n"
              "command = exec 0<&-; sleep 1; exit 0\n");
    long long a = add_alert(f, 0);
    es_buf_adds(&big, "{\"series\":\"negative\",\"filler\":\"");
    for (int i = 0; i < 300000; i++)
        es_buf_addch(&big, 'x');
    es_buf_adds(&big, "\"}");
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db(f),
                                        "UPDATE alerts SET explanation = ?1",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, big.ptr, (int)big.len, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    long long d = add_delivery(f, a, "cmd", "fire");
    assert_int_equal(pass(f, T0), 1);
    get_row(f, d, &r);
    assert_string_equal(r.state, "delivered");
    es_buf_release(&big);
}

/* Whether process @pid is gone (or a zombie awaiting its new parent). */
static int process_gone(long pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    const char *close_paren = strrchr(buf, ')');
    return close_paren && close_paren[1] == ' ' &&
           (close_paren[2] == 'Z' || close_paren[2] == 'X');
}

static void test_command_timeout(void **state)
{
    struct fx *f = *state;
    char text[2048], pidfile[600];
    struct row r;

    snprintf(pidfile, sizeof(pidfile), "%s/bg.pid", tmpdir);
    unlink(pidfile);
    snprintf(text, sizeof(text),
             "[notify \"slow\"]\ntype = command\ntimeout = 1\n"
             "command = sleep 60 & echo $! > %s; sleep 60\n",
             pidfile);
    config(f, text);
    long long d = add_delivery(f, add_alert(f, 0), "slow", "fire");
    assert_int_equal(pass(f, T0), 0);
    get_row(f, d, &r);
    assert_string_equal(r.state, "pending");
    assert_non_null(strstr(r.error, "timed out after 1 s"));

    /* The whole process group went, the background sleep too. */
    FILE *fp = fopen(pidfile, "r");
    assert_non_null(fp);
    long pid = 0;
    assert_int_equal(fscanf(fp, "%ld", &pid), 1);
    fclose(fp);
    assert_true(pid > 1);
    int gone = 0;
    for (int i = 0; i < 500 && !gone; i++) {
        gone = process_gone(pid);
        if (!gone) {
            struct timespec nap = { 0, 10 * 1000000L };
            nanosleep(&nap, NULL);
        }
    }
    assert_true(gone);
}

/* ==== Channels apart ==== */

static void test_failing_channel_does_not_block(void **state)
{
    struct fx *f = *state;
    struct es_testhttpd_response ok = { .status = 200 };
    char text[2048];
    struct row r;

    es_testhttpd_route(f->http, "/hook", &ok);
    es_smtpd_set_auth(f->smtp, "PLAIN LOGIN", "alerts", PASSWORD, 1);
    snprintf(text, sizeof(text),
             "%s%s[notify \"stuck\"]\ntype = command\ntimeout = 1\n"
             "command = sleep 30\n"
             "[notify \"down\"]\ntype = webhook\nsecret = " SECRET "\n"
             "url = @HTTP@/down\n",
             WEBHOOK_CONF, MAIL_CONF);
    struct es_testhttpd_response down = { .status = 502 };
    es_testhttpd_route(f->http, "/down", &down);
    config(f, text);
    long long a1 = add_alert(f, 0), a2 = add_alert(f, 0);
    long long stuck1 = add_delivery(f, a1, "stuck", "fire");
    long long down1 = add_delivery(f, a1, "down", "fire");
    long long hook1 = add_delivery(f, a1, "hook", "fire");
    long long mail1 = add_delivery(f, a1, "mail", "fire");
    long long ghost1 = add_delivery(f, a1, "ghost", "fire");
    long long stuck2 = add_delivery(f, a2, "stuck", "fire");
    long long hook2 = add_delivery(f, a2, "hook", "fire");

    assert_int_equal(pass(f, T0), 3);
    get_row(f, hook1, &r);
    assert_string_equal(r.state, "delivered");
    get_row(f, hook2, &r);
    assert_string_equal(r.state, "delivered");
    get_row(f, mail1, &r);
    assert_string_equal(r.state, "delivered");
    assert_int_equal(es_smtpd_count(f->smtp), 1);

    get_row(f, stuck1, &r);
    assert_string_equal(r.state, "pending");
    assert_int_equal(r.attempts, 1);
    assert_non_null(strstr(r.error, "timed out"));
    long long next = r.next;
    /* The stuck channel's second row was not tried after its first
     * failed, and waits as long. */
    get_row(f, stuck2, &r);
    assert_string_equal(r.state, "pending");
    assert_int_equal(r.attempts, 0);
    assert_int_equal(r.next, next);

    get_row(f, down1, &r);
    assert_string_equal(r.state, "pending");
    assert_non_null(strstr(r.error, "HTTP 502"));

    /* A [notify] name the config does not have is a recorded error. */
    get_row(f, ghost1, &r);
    assert_string_equal(r.state, "pending");
    assert_int_equal(r.attempts, 1);
    assert_non_null(strstr(r.error, "no [notify \"ghost\"] section"));
}

static void test_alert_gone(void **state)
{
    struct fx *f = *state;
    struct es_testhttpd_response ok = { .status = 200 };
    struct row r;

    es_testhttpd_route(f->http, "/hook", &ok);
    config(f, WEBHOOK_CONF);
    exec_sql(f, "PRAGMA foreign_keys = OFF");
    long long d = add_delivery(f, 4242, "hook", "fire");
    exec_sql(f, "PRAGMA foreign_keys = ON");
    assert_int_equal(pass(f, T0), 0);
    get_row(f, d, &r);
    assert_string_equal(r.state, "failed");
    assert_non_null(strstr(r.error, "alert 4242 is gone"));
    assert_int_equal(es_testhttpd_hits(f->http, NULL), 0);
}

/* ==== Test messages ==== */

static void test_notify_test(void **state)
{
    struct fx *f = *state;
    struct es_testhttpd_response ok = { .status = 200 };
    struct es_testhttpd_response bad = { .status = 500,
                                         .body = "bad " SLACK_PATH };

    es_testhttpd_route(f->http, "/hook", &ok);
    es_testhttpd_route(f->http, SLACK_PATH, &bad);
    struct es_buf text = ES_BUF_INIT;
    es_buf_adds(&text, WEBHOOK_CONF);
    es_buf_adds(&text, SLACK_CONF);
    config(f, text.ptr);
    es_buf_release(&text);

    assert_int_equal(es_notify_test(f->cfg, "hook", NULL, NULL), 0);
    char *ev = es_testhttpd_header(f->http, "/hook", 0, "X-Earshot-Event");
    assert_string_equal(ev, "test");
    free(ev);
    char *body = es_testhttpd_body(f->http, "/hook", 0);
    yajl_val v = parse_json(body);
    assert_string_equal(es_json_str(v, "rule"), "earshot-test");
    yajl_tree_free(v);
    free(body);

    assert_int_equal(es_notify_test(f->cfg, "team", NULL, NULL), ES_ENETWORK);
    assert_non_null(strstr(es_error_last(), "HTTP 500"));
    assert_no_secret(es_error_last());
    assert_int_equal(es_notify_test(f->cfg, "nope", NULL, NULL), ES_ENOTFOUND);
    assert_non_null(strstr(es_error_last(), "nope"));
    /* Nothing recorded. */
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db(f),
                                        "SELECT count(*) FROM alert_deliveries",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0);
    sqlite3_finalize(st);
}

/* ==== The command line ==== */

static void test_cli_notify_test(void **state)
{
    struct fx *f = *state;
    struct es_testhttpd_response ok = { .status = 200 };
    struct es_testhttpd_response bad = { .status = 500,
                                         .body = "bad " SLACK_PATH };
    char conf[600], db_path[600];
    struct es_run r;

    es_testhttpd_route(f->http, "/hook", &ok);
    es_testhttpd_route(f->http, SLACK_PATH, &bad);
    snprintf(conf, sizeof(conf), "%s/earshot.conf", tmpdir);
    snprintf(db_path, sizeof(db_path), "%s/cli.db", tmpdir);
    char *hook = es_testhttpd_url(f->http, "/hook");
    char *slack = es_testhttpd_url(f->http, SLACK_PATH);
    FILE *fp = fopen(conf, "w");
    assert_non_null(fp);
    fprintf(fp,
            "[notify \"hook\"]\ntype = webhook\nurl = %s\n"
            "secret = ${ES_TEST_NOTIFY_SECRET}\n"
            "[notify \"team\"]\ntype = slack\nurl = %s\n",
            hook, slack);
    fclose(fp);
    free(hook);
    free(slack);
    const char *const env[] = { "ES_TEST_NOTIFY_SECRET", SECRET, NULL };
    struct es_run_opts opts = {
        .bin = ES_EARSHOT_BIN,
        .tmpdir = tmpdir,
        .config = conf,
        .db = db_path,
        .env = env,
    };

    es_run_earshot(&r, &opts, NULL, "notify", "test", "hook", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "hook"));
    assert_no_secret(r.out.ptr);
    assert_no_secret(r.err.ptr);
    es_run_release(&r);
    assert_int_equal(es_testhttpd_hits(f->http, "/hook"), 1);

    es_run_earshot(&r, &opts, NULL, "notify", "test", "team", NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err.ptr, "HTTP 500"));
    assert_no_secret(r.out.ptr);
    assert_no_secret(r.err.ptr);
    es_run_release(&r);

    es_run_earshot(&r, &opts, NULL, "notify", "test", "ghost", NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err.ptr, "ghost"));
    es_run_release(&r);

    es_run_earshot(&r, &opts, NULL, "notify", NULL);
    assert_int_equal(r.status, 2);
    es_run_release(&r);
    es_run_earshot(&r, &opts, NULL, "notify", "test", NULL);
    assert_int_equal(r.status, 2);
    es_run_release(&r);
    es_run_earshot(&r, &opts, NULL, "notify", "--help", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "notify test"));
    es_run_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_webhook_payload_and_signature,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_webhook_retries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_webhook_refuses_unsigned, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_webhook_gives_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve_follows_fire, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_slack_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slack_url_is_secret, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_slack_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_email_delivered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_email_auth_plain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_email_auth_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_email_starttls_required, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_email_451_retried, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_email_550_final, setup, teardown),
        cmocka_unit_test_setup_teardown(test_email_dot_stuffing, setup,
                                        teardown),
        cmocka_unit_test(test_email_addresses),
        cmocka_unit_test_setup_teardown(test_command_stdin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_ignores_stdin, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_command_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_channel_does_not_block,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_alert_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notify_test, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli_notify_test, setup, teardown),
    };
    int rc;

    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpdir);
    return rc;
}
