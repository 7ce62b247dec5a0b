/* test_net_tickets.c - tickets from the command line, and the helpdesk
 * webhook over a loopback socket
 *
 * Runs the real earshot binary (ES_EARSHOT_BIN) against a database the
 * test fills through the library and a config whose [helpdesk] points at
 * tests/support/testhttpd.h: `ticket ID` with its full context, one
 * ticket per conversation, the subcommands and their exit statuses, a
 * viewer refused, and `ticket forward` retried until the helpdesk accepts
 * (500, 500, then 200), each request signed (checked against an
 * independent HMAC over the body the server received) with the same
 * delivery id. The secret is never in any output.
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

#include <sqlite3.h>

#include "earshot/alloc.h"
#include "earshot/buf.h"
#include "earshot/inbox.h"
#include "earshot/workflow.h"
#include "fixtures.h"
#include "inbox/store.h"
#include "runcli.h"
#include "testhttpd.h"

#define SECRET "hd-Secret-9f3a7c"
#define TOKEN  "mastodon-T0ken-55"
#define T0     1726000000LL

static char tmpdir[] = "/tmp/es-tickets-XXXXXX";
static struct es_testhttpd *srv;
static char *conf_path;
static char *db_path;

/* Every run: `earshot --config CONF ...`, with the helpdesk secret and
 * the Mastodon token in the environment (setup sets .config). */
static const char *const run_env[] = {
    "ES_TEST_HELPDESK_SECRET", SECRET, "ES_TEST_MASTODON_TOKEN", TOKEN, NULL,
};
static struct es_run_opts run_opts = {
    .bin = ES_EARSHOT_BIN,
    .tmpdir = tmpdir,
    .env = run_env,
};

/* Runs `earshot --config CONF ARGS...` (NULL-terminated); the secret
 * must appear in neither output. */
static void run(struct es_run *r, ...)
{
    va_list ap;
    va_start(ap, r);
    es_run_earshotv(r, &run_opts, NULL, ap);
    va_end(ap);
    if (strstr(r->out.ptr, SECRET) || strstr(r->err.ptr, SECRET) ||
        strstr(r->out.ptr, TOKEN) || strstr(r->err.ptr, TOKEN))
        fail_msg("the helpdesk secret was printed:\n%s\n%s", r->out.ptr,
                 r->err.ptr);
}

static void put(struct es_inbox *ib, int64_t src, const char *id,
                const char *parent, const char *author, long long followers,
                const char *text, int64_t created, int prio, double sentiment)
{
    struct es_item it;
    es_item_init(&it);
    it.platform = es_xstrdup("mastodon");
    it.external_id = es_xstrdup(id);
    it.url = es_xasprintf("https://social.example/@%s/%s", author, id);
    it.author = es_xstrdup(author);
    it.author_followers = followers;
    it.text = es_xstrdup(text);
    it.created_at = created;
    if (parent) {
        it.in_reply_to = es_xstrdup(parent);
        it.kind = ES_KIND_REPLY;
    }
    struct es_scores sc = { 0 };
    sc.sentiment = sentiment;
    sc.label = sentiment < -0.05 ? -1 : sentiment > 0.05 ? 1 : 0;
    sc.neu = 1;
    sc.priority = prio;
    snprintf(sc.reasons, sizeof(sc.reasons), "[\"negative\"]");
    assert_int_equal(es_inbox_put(ib, src, &it, &sc, NULL, NULL), 0);
    es_item_release(&it);
}

static void db_exec(const char *sql)
{
    struct es_inbox *ib = NULL;
    assert_int_equal(es_inbox_open(&ib, db_path), 0);
    assert_int_equal(sqlite3_exec(es_inbox__db(ib), sql, NULL, NULL, NULL),
                     SQLITE_OK);
    es_inbox_free(ib);
}

static long long db_int(const char *sql)
{
    struct es_inbox *ib = NULL;
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(es_inbox_open(&ib, db_path), 0);
    assert_int_equal(sqlite3_prepare_v2(es_inbox__db(ib), sql, -1, &stmt, NULL),
                     SQLITE_OK);
    long long v = -1;
    if (sqlite3_step(stmt) == SQLITE_ROW)
        v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    es_inbox_free(ib);
    return v;
}

static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/es-tickets-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    assert_int_equal(es_testhttpd_open(&srv, 0), 0);
    conf_path = es_xasprintf("%s/earshot.conf", tmpdir);
    run_opts.config = conf_path;
    db_path = es_xasprintf("%s/tickets.db", tmpdir);
    char *hook = es_testhttpd_url(srv, "/hook");
    FILE *f = fopen(conf_path, "w");
    assert_non_null(f);
    fprintf(f,
            "[earshot]\n"
            "database = tickets.db\n"
            "[helpdesk]\n"
            "webhook_url = %s\n"
            "secret = ${ES_TEST_HELPDESK_SECRET}\n"
            "[account \"acme\"]\n"
            "type = mastodon\n"
            "base_url = %s\n"
            "token = ${ES_TEST_MASTODON_TOKEN}\n",
            hook, hook);
    fclose(f);
    free(hook);

    struct es_inbox *ib = NULL;
    assert_int_equal(es_inbox_open(&ib, db_path), 0);
    assert_int_equal(es_agent_add(ib, "dana", ES_ROLE_ADMIN, NULL), 0);
    assert_int_equal(es_agent_add(ib, "sam", ES_ROLE_AGENT, "dana"), 0);
    assert_int_equal(es_agent_add(ib, "vic", ES_ROLE_VIEWER, "dana"), 0);
    int64_t src;
    assert_int_equal(es_inbox_source_ensure(ib, "m", "mastodon", &src), 0);
    put(ib, src, "100", NULL, "ann", 1200,
        "My order never arrived and support is silent", T0, 80, -0.62);
    put(ib, src, "101", "100", "bob", 50, "Same here, three weeks", T0 + 60, 60,
        -0.3);
    put(ib, src, "200", NULL, "carl", 10, "Love the app", T0, 20, 0.7);
    assert_int_equal(
        sqlite3_exec(es_inbox__db(ib),
                     "INSERT INTO notes (mention_id, agent, body, created_at)"
                     " VALUES (1, 'dana', 'customer called twice', 1726000500);"
                     "INSERT INTO mention_tags VALUES (1, 'billing');"
                     "INSERT INTO canned (name, body, updated_at) VALUES"
                     " ('ack', 'Thanks {author}: ticket #{ticket}, DM on"
                     " its way', 0), ('dm', 'Hi {author}, {agent} here',"
                     " 0);",
                     NULL, NULL, NULL),
        SQLITE_OK);
    es_inbox_free(ib);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    es_testhttpd_free(srv);
    es_fx_rmtree(tmpdir);
    free(conf_path);
    free(db_path);
    return 0;
}

static void test_ticket_commands(void **state)
{
    (void)state;
    struct es_run r;
    run(&r, "ticket", "--help", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "usage: earshot ticket MENTION_ID"));
    es_run_release(&r);

    run(&r, "--as", "sam", "ticket", "2", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "opened ticket 1\n"));
    assert_non_null(strstr(r.out.ptr, "ticket 1  [open]  priority 80"));
    assert_non_null(
        strstr(r.out.ptr, "subject:      My order never arrived and support is "
                          "silent\n"));
    assert_non_null(strstr(r.out.ptr, "conversation: mastodon:100\n"));
    assert_non_null(strstr(r.out.ptr, "@ann, 1200 followers  [new]"));
    assert_non_null(strstr(r.out.ptr, "negative -0.62, priority 80"));
    assert_non_null(strstr(r.out.ptr, "tags: billing"));
    assert_non_null(strstr(r.out.ptr, "dana: customer called twice"));
    assert_non_null(strstr(r.out.ptr, "@bob, 50 followers"));
    assert_non_null(strstr(r.out.ptr, "helpdesk:     pending, 0 attempts"));
    assert_null(strstr(r.out.ptr, "Love the app"));
    es_run_release(&r);

    /* The same conversation from its other mention: the same ticket. */
    run(&r, "--as", "dana", "ticket", "1", "--json", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "{\"id\":1,"));
    assert_non_null(strstr(r.out.ptr, "\"created\":false}"));
    assert_non_null(strstr(r.out.ptr, "\"context\":{\"version\":1,"));
    assert_non_null(strstr(r.out.ptr, "\"thread\":[1,2]"));
    es_run_release(&r);
    assert_int_equal(db_int("SELECT count(*) FROM tickets"), 1);
    assert_int_equal(
        db_int("SELECT count(*) FROM mentions WHERE state = 'pending'"), 2);

    /* A viewer reads, and is refused any change. */
    run(&r, "--as", "vic", "ticket", "state", "1", "solved", NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err.ptr, "viewer"));
    es_run_release(&r);
    run(&r, "--as", "vic", "ticket", "3", NULL);
    assert_int_equal(r.status, 1);
    es_run_release(&r);
    run(&r, "ticket", "show", "1", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "ticket 1  [open]"));
    es_run_release(&r);

    run(&r, "--as", "sam", "ticket", "assign", "1", "dana", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "assignee dana"));
    es_run_release(&r);
    run(&r, "--as", "sam", "ticket", "note", "1", "refund approved", NULL);
    assert_int_equal(r.status, 0);
    es_run_release(&r);
    run(&r, "--as", "sam", "ticket", "state", "1", "pending", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "ticket 1: pending, assignee dana"));
    es_run_release(&r);
    run(&r, "--as", "sam", "ticket", "priority", "1", "90", NULL);
    assert_int_equal(r.status, 0);
    es_run_release(&r);
    run(&r, "ticket", "show", "1", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "ticket 1  [pending]  priority 90"));
    assert_non_null(strstr(r.out.ptr, "assignee:     dana"));
    assert_non_null(strstr(r.out.ptr, "note  sam:\n      refund approved"));
    es_run_release(&r);

    run(&r, "tickets", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "pending"));
    assert_non_null(strstr(r.out.ptr, "My order never arrived"));
    es_run_release(&r);
    run(&r, "tickets", "--state", "open", "--json", NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out.ptr, "[]\n");
    es_run_release(&r);

    /* Bad input: exit 2 for usage, 1 for what does not exist. */
    run(&r, "--as", "sam", "ticket", "state", "1", "done", NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err.ptr, "unknown ticket state 'done'"));
    es_run_release(&r);
    run(&r, "--as", "sam", "ticket", "state", "1", "solved", "extra", NULL);
    assert_int_equal(r.status, 2);
    es_run_release(&r);
    run(&r, "--as", "sam", "ticket", "frob", NULL);
    assert_int_equal(r.status, 2);
    es_run_release(&r);
    run(&r, "ticket", "show", "42", NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err.ptr, "no ticket 42"));
    es_run_release(&r);
    run(&r, "--as", "sam", "ticket", "99", NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err.ptr, "no mention 99"));
    es_run_release(&r);
    /* The stale guard: mention 3's conversation is at version 1. */
    run(&r, "--as", "sam", "ticket", "3", "--expect-version", "5", NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err.ptr, "conversation changed since you loaded"));
    es_run_release(&r);
    assert_int_equal(db_int("SELECT count(*) FROM tickets"), 1);
    run(&r, "--as", "sam", "ticket", "state", "1", "closed", NULL);
    assert_int_equal(r.status, 0);
    es_run_release(&r);
    run(&r, "--as", "sam", "ticket", "state", "1", "pending", NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err.ptr, "ticket 1 is closed"));
    es_run_release(&r);

    /* Every change is in the audit log. */
    assert_int_equal(db_int("SELECT count(*) FROM audit WHERE object ="
                            " 'ticket:1'"),
                     6);
}

static void test_forward_retried_until_accepted(void **state)
{
    (void)state;
    struct es_testhttpd_response seq[] = {
        { .status = 500, .body = "helpdesk down: boom" },
        { .status = 500, .body = "still down" },
        { .status = 200, .body = "{\"ok\":true}" },
    };
    es_testhttpd_route_seq(srv, "/hook", seq, 3);

    struct es_run r;
    run(&r, "--as", "sam", "ticket", "1", NULL);
    assert_int_equal(r.status, 0);
    es_run_release(&r);
    long long created = db_int("SELECT created_at FROM tickets WHERE id = 1");
    char delivery[64];
    snprintf(delivery, sizeof(delivery), "earshot-ticket-1-%lld", created);

    /* First try: 500, kept with the helpdesk's words, retried in about a
     * minute. */
    long long t1 = (long long)time(NULL);
    run(&r, "ticket", "forward", NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.out.ptr, "ticket 1: not delivered (attempt 1)"));
    assert_non_null(strstr(r.out.ptr, "HTTP 500"));
    assert_non_null(strstr(r.out.ptr, "boom"));
    es_run_release(&r);
    assert_int_equal(es_testhttpd_hits(srv, "/hook"), 1);
    assert_int_equal(db_int("SELECT forward_attempts FROM tickets"), 1);
    long long next = db_int("SELECT forward_next FROM tickets");
    assert_true(next >= t1 + 50 && next <= (long long)time(NULL) + 70);
    /* Not due yet: nothing is sent. */
    run(&r, "ticket", "forward", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "0 delivered, 0 to retry"));
    es_run_release(&r);
    assert_int_equal(es_testhttpd_hits(srv, "/hook"), 1);

    /* Time passes (the test moves the clock of the row instead). */
    db_exec("UPDATE tickets SET forward_next = 0");
    run(&r, "ticket", "forward", NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.out.ptr, "(attempt 2)"));
    es_run_release(&r);
    next = db_int("SELECT forward_next FROM tickets");
    assert_true(next >= (long long)time(NULL) + 100); /* backing off */
    db_exec("UPDATE tickets SET forward_next = 0");
    run(&r, "ticket", "forward", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "ticket 1: delivered to the helpdesk "
                                      "(HTTP 200, attempt 3)"));
    assert_non_null(strstr(r.out.ptr, "1 delivered, 0 to retry"));
    es_run_release(&r);
    assert_int_equal(es_testhttpd_hits(srv, "/hook"), 3);
    assert_int_equal(db_int("SELECT forward_state = 'delivered' AND"
                            " forward_attempts = 3 AND forward_error IS NULL"
                            " FROM tickets"),
                     1);

    /* Accepted once: never again. */
    db_exec("UPDATE tickets SET forward_next = 0");
    run(&r, "ticket", "forward", NULL);
    assert_int_equal(r.status, 0);
    es_run_release(&r);
    assert_int_equal(es_testhttpd_hits(srv, "/hook"), 3);

    /* Every request: a signed JSON POST with the same delivery id. */
    for (long k = 0; k < 3; k++) {
        char *method = es_testhttpd_method(srv, "/hook", k);
        char *body = es_testhttpd_body(srv, "/hook", k);
        char *sig = es_testhttpd_header(srv, "/hook", k, "X-Earshot-Signature");
        char *id = es_testhttpd_header(srv, "/hook", k, "X-Earshot-Delivery");
        char *ct = es_testhttpd_header(srv, "/hook", k, "Content-Type");
        assert_string_equal(method, "POST");
        assert_non_null(sig);
        char want[72];
        es_fx_hmac_sha256(SECRET, body, strlen(body), want);
        assert_string_equal(sig, want);
        assert_string_equal(id, delivery);
        assert_string_equal(ct, "application/json");
        assert_null(strstr(body, SECRET));
        char *prefix = es_xasprintf("{\"event\":\"ticket.created\","
                                    "\"delivery\":\"%s\",\"ticket\":{\"id\":1,"
                                    "\"conversation\":\"mastodon:100\","
                                    "\"subject\":\"My order never arrived "
                                    "and support is silent\",\"state\":"
                                    "\"open\",",
                                    delivery);
        assert_true(strncmp(body, prefix, strlen(prefix)) == 0);
        assert_non_null(strstr(body, "\"priority\":80,"));
        assert_non_null(strstr(body, "\"context\":{\"version\":1,"));
        assert_non_null(strstr(body, "\"body\":\"customer called twice\""));
        free(prefix);
        free(method);
        free(body);
        free(sig);
        free(id);
        free(ct);
    }
    /* A body with a wrong secret would not match. */
    char *body = es_testhttpd_body(srv, "/hook", 0);
    char *sig = es_testhttpd_header(srv, "/hook", 0, "X-Earshot-Signature");
    char other[72];
    es_fx_hmac_sha256("not-the-secret", body, strlen(body), other);
    assert_string_not_equal(sig, other);
    free(body);
    free(sig);

    /* What an agent sees of it afterwards names no secret either. */
    run(&r, "ticket", "show", "1", "--json", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(
        r.out.ptr, "\"forward\":{\"state\":\"delivered\",\"attempts\":3"));
    es_run_release(&r);
}

static void test_forward_misconfigured(void **state)
{
    (void)state;
    struct es_run r;
    /* A ticket opened while forwarding was on, then the secret is gone:
     * refused, nothing sent, nothing recorded. */
    run(&r, "--as", "sam", "ticket", "3", NULL);
    assert_int_equal(r.status, 0);
    es_run_release(&r);
    FILE *f = fopen(conf_path, "w");
    char *hook = es_testhttpd_url(srv, "/hook");
    fprintf(f,
            "[earshot]\ndatabase = tickets.db\n[helpdesk]\nwebhook_url = "
            "%s\n",
            hook);
    fclose(f);
    run(&r, "ticket", "forward", NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err.ptr, "[helpdesk] has no secret"));
    es_run_release(&r);
    assert_int_equal(es_testhttpd_hits(srv, "/hook"), 0);
    assert_int_equal(db_int("SELECT forward_attempts FROM tickets"), 0);
    /* Turned off: nothing to do, and says so. */
    f = fopen(conf_path, "w");
    fprintf(f,
            "[earshot]\ndatabase = tickets.db\n[helpdesk]\nwebhook_url = "
            "%s\nsecret = x\nenabled = no\n",
            hook);
    fclose(f);
    free(hook);
    run(&r, "ticket", "forward", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "forwarding is off"));
    es_run_release(&r);
    assert_int_equal(es_testhttpd_hits(srv, "/hook"), 0);
}

static void test_ack_and_dm(void **state)
{
    (void)state;
    struct es_run r;
    run(&r, "--as", "sam", "ticket", "3", "--ack", "ack", "--dm", "dm", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "opened ticket 1\n"
                                      "queued the acknowledgement as reply 1\n"
                                      "queued the private message as reply "
                                      "2\n"));
    assert_non_null(strstr(r.out.ptr, "out  sam:\n      @carl Hi carl, sam "
                                      "here"));
    es_run_release(&r);
    assert_int_equal(db_int("SELECT count(*) FROM replies WHERE ticket_id = 1"
                            " AND state = 'queued' AND ((id = 1 AND"
                            " visibility = 'public' AND body = '@carl Thanks"
                            " carl: ticket #1, DM on its way') OR (id = 2 AND"
                            " visibility = 'private'))"),
                     2);
    /* Asked again: refused, nothing more queued. */
    run(&r, "--as", "dana", "ticket", "3", "--ack", "ack", NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err.ptr, "has ticket 1 already"));
    es_run_release(&r);
    /* Checked before anything changes. */
    run(&r, "--as", "sam", "ticket", "1", "--dm", "nope", NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err.ptr, "no canned reply 'nope'"));
    es_run_release(&r);
    assert_int_equal(db_int("SELECT count(*) FROM replies"), 2);
    assert_int_equal(db_int("SELECT count(*) FROM tickets"), 1);
    run(&r, "--as", "sam", "ticket", "show", "1", "--ack", "ack", NULL);
    assert_int_equal(r.status, 2);
    es_run_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ticket_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forward_retried_until_accepted,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_forward_misconfigured, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ack_and_dm, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
