/* test_cli_triage.c - the triage commands, run as an agent would run them
 *
 * Spawns the real earshot binary (ES_EARSHOT_BIN) on a temporary database
 * filled through the library (a Mastodon thread and a feed entry), and
 * checks exit statuses, output and what ended up in the database: the
 * states, tags, notes and the audit rows each command must leave.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* cmocka needs stdarg, stddef and setjmp first. */
#include <cmocka.h>

#include "earshot/alloc.h"
#include "earshot/buf.h"
#include "earshot/inbox.h"
#include "earshot/triage.h"
#include "earshot/workflow.h"
#include "fixtures.h"
#include "runcli.h"

static char tmpdir[64];
static char *conf;   /* the config every run gets */
static char *dbpath; /* its database */

/* Every run: `earshot --config CONF ...` with HOME in the test's folder
 * (setup() sets .config). */
static struct es_run_opts run_opts = {
    .bin = ES_EARSHOT_BIN,
    .tmpdir = tmpdir,
};

/* Runs earshot with the NULL-terminated arguments and checks the exit
 * status and that stdout (or, for a failure, stderr) holds @want (NULL: no
 * check). */
static void expect_run(int status, const char *want, ...)
{
    struct es_run r;
    va_list ap;
    va_start(ap, want);
    es_run_earshotv(&r, &run_opts, NULL, ap);
    va_end(ap);
    const char *where = status ? r.err.ptr : r.out.ptr;
    if (r.status != status || (want && !strstr(where, want)))
        print_error("want status %d and '%s'\ngot status %d\nstdout: "
                    "%s\nstderr: %s\n",
                    status, want ? want : "", r.status, r.out.ptr, r.err.ptr);
    assert_int_equal(r.status, status);
    if (want)
        assert_non_null(strstr(where, want));
    es_run_release(&r);
}

#define EXPECT(status, want, ...) expect_run(status, want, __VA_ARGS__, NULL)

struct post {
    const char *platform;
    const char *id;
    const char *parent;
    int64_t created;
    const char *author;
    const char *lang;
    int priority;
};

static void put(struct es_inbox *ib, int64_t src, const struct post *p)
{
    struct es_item it;
    struct es_scores sc;
    es_item_init(&it);
    it.platform = es_xstrdup(p->platform);
    it.external_id = es_xstrdup(p->id);
    it.text = es_xasprintf("text of %s", p->id);
    it.author = es_xstrdup(p->author);
    it.lang = es_xstrdup(p->lang);
    it.created_at = p->created;
    if (p->parent) {
        it.in_reply_to = es_xstrdup(p->parent);
        it.kind = ES_KIND_REPLY;
    }
    if (strcmp(p->author, "alice") == 0)
        it.author_name = es_xstrdup("Alice");
    memset(&sc, 0, sizeof(sc));
    sc.label = -1;
    sc.priority = p->priority;
    strcpy(sc.reasons, "[]");
    assert_int_equal(es_inbox_put(ib, src, &it, &sc, NULL, NULL), 0);
    es_item_release(&it);
}

static void write_config(const char *extra)
{
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f,
            "[earshot]\n"
            "database = %s\n"
            "[view \"billing\"]\n"
            "tag = billing\n"
            "limit = 1\n"
            "[view \"german\"]\n"
            "lang = de\n"
            "%s",
            dbpath, extra ? extra : "");
    fclose(f);
}

/* A fresh folder and database for each test: mentions 1-3 are one
 * Mastodon thread (2 answers 1, 3 answers 2), 4 a feed entry. */
static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/es-clitriage-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    conf = es_xasprintf("%s/test.conf", tmpdir);
    run_opts.config = conf;
    dbpath = es_xasprintf("%s/t.db", tmpdir);
    write_config(NULL);
    struct es_inbox *ib = NULL;
    int64_t masto, blog;
    if (es_inbox_open(&ib, dbpath) < 0 ||
        es_inbox_source_ensure(ib, "masto", "mastodon", &masto) < 0 ||
        es_inbox_source_ensure(ib, "blog", "rss", &blog) < 0)
        return -1;
    const struct post posts[] = {
        { "mastodon", "100", NULL, 1000, "alice", "en", 80 },
        { "mastodon", "101", "100", 1100, "bob", "en", 20 },
        { "mastodon", "102", "101", 1200, "alice", "de", 60 },
    };
    for (size_t i = 0; i < 3; i++)
        put(ib, masto, &posts[i]);
    const struct post feed = {
        "rss", "feed-1", NULL, 900, "carol", "en-GB", 40
    };
    put(ib, blog, &feed);
    es_inbox_free(ib);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    es_fx_rmtree(tmpdir);
    free(conf);
    free(dbpath);
    return 0;
}

/* Adds dana (admin), sam (agent) and vic (viewer). */
static void add_team(void)
{
    EXPECT(0, "added admin dana", "agent", "add", "dana");
    EXPECT(0, "added agent sam", "--as", "dana", "agent", "add", "sam");
    EXPECT(0, "added viewer vic", "--as", "dana", "agent", "add", "vic",
           "--role", "viewer");
}

struct audit_seen {
    struct es_buf rows; /* "agent|action|object|before|after\n" each */
};

static int on_audit(const struct es_audit_entry *e, void *payload)
{
    struct es_buf *b = payload;
    es_buf_addf(b, "%s|%s|%s|%s|%s\n", e->agent, e->action, e->object,
                e->before ? e->before : "-", e->after ? e->after : "-");
    return 0;
}

/* The whole audit log as lines, read through the library. */
static char *audit_log(void)
{
    struct es_inbox *ib = NULL;
    struct es_buf b = ES_BUF_INIT;
    assert_int_equal(es_inbox_open(&ib, dbpath), 0);
    assert_int_equal(es_audit_each(ib, ES_TIME_UNKNOWN, NULL, 0, on_audit, &b),
                     0);
    es_inbox_free(ib);
    return es_buf_detach(&b);
}

/* ==== Tests ==== */

static void test_agents(void **state)
{
    (void)state;
    EXPECT(0, "NAME", "agent", "list");
    EXPECT(0, "[]", "agent", "list", "--json");
    /* The first agent must be an admin; anyone may add it. */
    EXPECT(1, "first agent must be an admin", "agent", "add", "dana", "--role",
           "agent");
    add_team();
    /* Then only admins add. */
    EXPECT(2, "who is acting", "agent", "add", "lee");
    EXPECT(1, "admins only can add agents", "--as", "sam", "agent", "add",
           "lee");
    EXPECT(1, "agent 'vic' is a viewer", "--as", "vic", "agent", "add", "lee");
    EXPECT(1, "exists already", "--as", "dana", "agent", "add", "sam");
    EXPECT(2, "unknown role 'boss'", "--as", "dana", "agent", "add", "lee",
           "--role", "boss");
    EXPECT(2, "unknown agent command 'fire'", "agent", "fire", "sam");
    EXPECT(2, "usage: earshot agent", "agent");
    EXPECT(0, "usage: earshot agent add", "agent", "--help");

    EXPECT(0, "agent sam disabled", "--as", "dana", "agent", "disable", "sam");
    EXPECT(0, "\"name\":\"sam\",\"role\":\"agent\",\"disabled\":true", "agent",
           "list", "--json");
    EXPECT(0, "\"name\":\"vic\",\"role\":\"viewer\",\"disabled\":false",
           "agent", "list", "--json");
    EXPECT(1, "agent 'sam' is disabled", "--as", "sam", "state", "1", "open");
    EXPECT(1, "admins only can enable agents", "--as", "vic", "agent", "enable",
           "sam");
    EXPECT(0, "agent sam enabled", "--as", "dana", "agent", "enable", "sam");
    EXPECT(1, "last enabled admin", "--as", "dana", "agent", "disable", "dana");
    EXPECT(1, "no agent 'ghost'", "--as", "dana", "agent", "disable", "ghost");

    char *log = audit_log();
    assert_non_null(strstr(log, "system|agent add|agent:dana|-|admin\n"));
    assert_non_null(strstr(log, "dana|agent add|agent:vic|-|viewer\n"));
    assert_non_null(
        strstr(log, "dana|agent disable|agent:sam|enabled|disabled\n"));
    assert_non_null(
        strstr(log, "dana|agent enable|agent:sam|disabled|enabled\n"));
    free(log);
}

static void test_state(void **state)
{
    (void)state;
    add_team();
    EXPECT(0, "mention 1: new -> open (conversation version 2)", "--as", "sam",
           "state", "1", "open");
    EXPECT(0, "mention 1 is open already (conversation version 2)", "--as",
           "sam", "state", "1", "open");
    EXPECT(0, "conversation: mastodon:100, version 2", "show", "1");
    EXPECT(0, "\"version\":2", "show", "3", "--json");
    EXPECT(1,
           "mention 1 is open: it can go to pending, resolved, spam or "
           "ignored only, not new",
           "--as", "sam", "state", "1", "new");
    EXPECT(1,
           "agent 'vic' is a viewer: agents and admins only can change "
           "states",
           "--as", "vic", "state", "1", "pending");
    EXPECT(2, "unknown state 'closed'", "--as", "sam", "state", "1", "closed");
    EXPECT(2, "'x1' is not a mention id", "--as", "sam", "state", "x1", "open");
    EXPECT(2, "--expect-version takes", "--as", "sam", "state", "1", "open",
           "--expect-version", "zero");
    EXPECT(1, "no mention 99", "--as", "sam", "state", "99", "open");
    EXPECT(2, "usage: earshot state", "--as", "sam", "state", "1");

    /* The stale guard: dana loaded version 1, sam changed it since. */
    EXPECT(1, "sam set mention 1 new -> open", "--as", "dana", "state", "2",
           "pending", "--expect-version", "1");
    EXPECT(0, "mention 2: new -> pending (conversation version 3)", "--as",
           "dana", "state", "2", "pending", "--expect-version", "2");

    /* Bulk: the thread (1 open, 2 pending, 3 new) to spam. */
    EXPECT(2, "--bulk needs a filter", "--as", "sam", "state", "--bulk",
           "spam");
    EXPECT(0, "3 matched: 2 changed to spam, 0 spam already, 1 refused", "--as",
           "sam", "state", "--bulk", "spam", "--platform", "mastodon");
    EXPECT(1, "viewer", "--as", "vic", "state", "--bulk", "new", "--state",
           "spam");
    EXPECT(0, "2 matched: 2 changed to open", "--as", "sam", "state", "--bulk",
           "open", "--state", "spam");
    EXPECT(0, "1 matched: 1 changed to resolved", "--as", "sam", "state",
           "--bulk", "resolved", "--view", "german");
    EXPECT(0, "1 matched: 1 changed to ignored", "--as", "sam", "state",
           "--bulk", "ignored", "--source", "blog");
    EXPECT(0, "4      ignored", "inbox", "--state", "ignored");

    char *log = audit_log();
    assert_non_null(strstr(log, "sam|state|mention:1|new|open\n"));
    assert_non_null(strstr(log, "dana|state|mention:2|new|pending\n"));
    assert_non_null(strstr(log, "sam|state|mention:3|new|spam\n"));
    assert_non_null(strstr(log, "sam|state|mention:3|open|resolved\n"));
    assert_non_null(strstr(log, "sam|state|mention:4|new|ignored\n"));
    /* Refused and no-op moves leave no row. */
    assert_null(strstr(log, "mention:2|pending|spam"));
    assert_null(strstr(log, "mention:1|open|open"));
    free(log);
}

static void test_assign_notes_tags(void **state)
{
    (void)state;
    add_team();
    EXPECT(0, "mention 2 assigned to sam (conversation version 2)", "--as",
           "dana", "assign", "2", "sam");
    EXPECT(0, "assigned to sam already", "--as", "dana", "assign", "2", "sam");
    EXPECT(1, "agents and admins only can be assigned mentions", "--as", "dana",
           "assign", "2", "vic");
    EXPECT(1, "no agent 'ghost'", "--as", "dana", "assign", "2", "ghost");
    EXPECT(0, "assignee:  sam", "show", "2");
    EXPECT(0, "2      new", "inbox", "--assignee", "sam");
    EXPECT(0, "4      new", "inbox", "--assignee", "-");
    EXPECT(0, "mention 2 unassigned, was sam", "--as", "sam", "unassign", "2");
    EXPECT(0, "mention 2 is not assigned", "--as", "sam", "unassign", "2");

    EXPECT(0, "note 1 added to mention 2 (conversation version 4)", "--as",
           "sam", "note", "2", "called", "them,", "refund", "sent");
    EXPECT(2, "note for mention 2 is empty", "--as", "sam", "note", "2", " ");
    EXPECT(2, "usage: earshot note", "--as", "sam", "note", "2");
    char *input = es_xasprintf("%s/note.txt", tmpdir);
    FILE *f = fopen(input, "w");
    assert_non_null(f);
    fputs("first line\nsecond line\n", f);
    fclose(f);
    struct es_run r;
    es_run_earshot(&r, &run_opts, input, "--as", "dana", "note", "2", "-",
                   NULL);
    assert_int_equal(r.status, 0);
    es_run_release(&r);
    free(input);

    EXPECT(0, "mention 2 tags: billing, refund (conversation version 6)",
           "--as", "sam", "tag", "2", "refund", "billing");
    EXPECT(0, "has those tags already", "--as", "sam", "tag", "2", "billing");
    EXPECT(2, "tag 'a,b' must be", "--as", "sam", "tag", "2", "a,b");
    EXPECT(1, "viewer", "--as", "vic", "tag", "2", "x");
    EXPECT(0, "mention 2 tags: refund", "--as", "sam", "untag", "2", "billing");
    EXPECT(0, "has none of those tags", "--as", "sam", "untag", "2", "nope");
    EXPECT(0, "mention 4 tags: billing", "--as", "sam", "tag", "4", "billing");

    /* show: tags and notes; inbox --json: tags. */
    es_run_earshot(&r, &run_opts, NULL, "show", "2", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "tags: refund\n"));
    assert_non_null(strstr(r.out.ptr, "note 1 by sam at "));
    assert_non_null(strstr(r.out.ptr, "  called them, refund sent\n"));
    assert_non_null(strstr(r.out.ptr, "  first line\n  second line\n"));
    es_run_release(&r);
    EXPECT(0,
           "\"notes\":[{\"id\":1,\"agent\":\"sam\",\"body\":\"called them, "
           "refund sent\"",
           "show", "2", "--json");
    EXPECT(0, "\"tags\":[\"refund\"]}", "inbox", "--json", "--tag", "refund");
    EXPECT(0, "\"tags\":[]}", "inbox", "--json", "--platform", "mastodon");

    char *log = audit_log();
    assert_non_null(strstr(log, "dana|assign|mention:2|-|sam\n"));
    assert_non_null(strstr(log, "sam|unassign|mention:2|sam|-\n"));
    assert_non_null(
        strstr(log, "sam|note|mention:2|-|called them, refund sent\n"));
    assert_non_null(
        strstr(log, "dana|note|mention:2|-|first line\nsecond line\n"));
    assert_non_null(strstr(log, "sam|tag|mention:2|-|billing,refund\n"));
    assert_non_null(strstr(log, "sam|untag|mention:2|billing,refund|refund\n"));
    free(log);
}

static void test_views(void **state)
{
    (void)state;
    add_team();
    EXPECT(0, NULL, "--as", "sam", "tag", "1", "billing");
    EXPECT(0, NULL, "--as", "sam", "tag", "4", "billing");
    /* The view: billing, limit 1: the higher priority one only. */
    struct es_run r;
    es_run_earshot(&r, &run_opts, NULL, "inbox", "--view", "billing", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "text of 100"));
    assert_null(strstr(r.out.ptr, "feed-1"));
    es_run_release(&r);
    /* An explicit option overrides the view's. */
    es_run_earshot(&r, &run_opts, NULL, "inbox", "--view", "billing", "--limit",
                   "5", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "text of 100"));
    assert_non_null(strstr(r.out.ptr, "text of feed-1"));
    assert_null(strstr(r.out.ptr, "text of 101"));
    es_run_release(&r);
    es_run_earshot(&r, &run_opts, NULL, "inbox", "--view", "billing", "--tag",
                   "nope", NULL);
    assert_int_equal(r.status, 0);
    assert_null(strstr(r.out.ptr, "text of"));
    es_run_release(&r);
    es_run_earshot(&r, &run_opts, NULL, "inbox", "--view", "german", NULL);
    assert_non_null(strstr(r.out.ptr, "text of 102"));
    assert_null(strstr(r.out.ptr, "text of 100"));
    es_run_release(&r);
    /* --lang en also matches en-GB. */
    es_run_earshot(&r, &run_opts, NULL, "inbox", "--lang", "en", NULL);
    assert_non_null(strstr(r.out.ptr, "text of feed-1"));
    assert_non_null(strstr(r.out.ptr, "text of 100"));
    assert_null(strstr(r.out.ptr, "text of 102"));
    es_run_release(&r);

    EXPECT(1, "no view 'nope' (views: billing, german)", "inbox", "--view",
           "nope");
    EXPECT(2, "unknown state 'later'", "inbox", "--state", "later");
    write_config("[view \"bad\"]\nstate = later\n");
    EXPECT(1, "view 'bad': unknown state 'later'", "inbox", "--view", "bad");
}

static void test_thread(void **state)
{
    (void)state;
    add_team();
    EXPECT(0, NULL, "--as", "sam", "state", "2", "open");
    EXPECT(0, NULL, "--as", "sam", "note", "3", "asked", "for", "logs");
    struct es_run r;
    es_run_earshot(&r, &run_opts, NULL, "thread", "3", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "conversation mastodon:100, version 3"));
    long p1 = strstr(r.out.ptr, "  1 [new]") - r.out.ptr;
    long p2 = strstr(r.out.ptr, "    2 [open]") - r.out.ptr;
    long p3 = strstr(r.out.ptr, ">     3 [new]") - r.out.ptr;
    assert_true(p1 > 0 && p2 > p1 && p3 > p2);
    assert_non_null(strstr(r.out.ptr, "note 1 by sam at "));
    assert_non_null(strstr(r.out.ptr, "asked for logs"));
    assert_null(strstr(r.out.ptr, "feed-1"));
    es_run_release(&r);

    struct es_run s;
    es_run_earshot(&s, &run_opts, NULL, "show", "3", "--thread", NULL);
    assert_int_equal(s.status, 0);
    es_run_earshot(&r, &run_opts, NULL, "thread", "3", NULL);
    assert_string_equal(s.out.ptr, r.out.ptr);
    es_run_release(&s);
    es_run_release(&r);

    EXPECT(0, "\"depth\":2", "thread", "1", "--json");
    EXPECT(0, "{\"conversation\":\"mastodon:100\",\"version\":3,\"mentions\":[",
           "thread", "1", "--json");
    EXPECT(0, "conversation m:4, version 1", "thread", "4");
    EXPECT(1, "no mention 99", "thread", "99");
    EXPECT(2, "not a mention id", "thread", "abc");
}

static void test_canned(void **state)
{
    (void)state;
    add_team();
    EXPECT(0, "canned reply thanks added", "--as", "dana", "canned", "add",
           "thanks", "Hi {author}, {agent} here: ticket {ticket}.");
    EXPECT(0, "canned reply hello added", "--as", "dana", "canned", "add",
           "hello", "Hi", "{author}!");
    EXPECT(1, "admins only can manage canned replies", "--as", "sam", "canned",
           "add", "x", "y");
    EXPECT(2, "unknown placeholder {autor}", "--as", "dana", "canned", "add",
           "typo", "Hi {autor}");
    EXPECT(1, "add --replace to change it", "--as", "dana", "canned", "add",
           "hello", "Hey");
    EXPECT(0, "canned reply hello saved", "--as", "dana", "canned", "add",
           "hello", "Hey {author}!", "--replace");
    EXPECT(0, "hello                Hey {author}!", "canned", "list");
    EXPECT(0,
           "{\"name\":\"thanks\",\"body\":\"Hi {author}, {agent} here: "
           "ticket {ticket}.\",\"updated_by\":\"dana\"",
           "canned", "list", "--json");
    EXPECT(0, "Hi {author}, {agent} here", "canned", "show", "thanks");
    EXPECT(0, "Hi Alice, sam here: ticket 7.", "--as", "sam", "canned", "show",
           "thanks", "--mention", "1", "--ticket", "7");
    EXPECT(0, "Hey bob!", "canned", "show", "hello", "--mention", "2");
    EXPECT(1, "canned reply 'thanks' uses {ticket}, but no ticket was given",
           "--as", "sam", "canned", "show", "thanks", "--mention", "1");
    EXPECT(1, "no canned reply 'nope' (canned replies: hello, thanks)",
           "canned", "show", "nope");
    EXPECT(2, "unknown canned command 'edit'", "canned", "edit", "x");
    EXPECT(1, "admins only", "--as", "sam", "canned", "rm", "hello");
    EXPECT(0, "canned reply hello removed", "--as", "dana", "canned", "rm",
           "hello");
    EXPECT(1, "no canned reply 'hello'", "--as", "dana", "canned", "rm",
           "hello");

    char *log = audit_log();
    assert_non_null(
        strstr(log, "dana|canned add|canned:hello|-|Hi {author}!\n"));
    assert_non_null(strstr(
        log, "dana|canned replace|canned:hello|Hi {author}!|Hey {author}!\n"));
    assert_non_null(
        strstr(log, "dana|canned rm|canned:hello|Hey {author}!|-\n"));
    free(log);
}

static void test_help(void **state)
{
    (void)state;
    const char *cmds[] = { "state", "assign", "unassign", "note",
                           "tag",   "untag",  "thread",   "canned",
                           "agent", "inbox",  "show" };
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        struct es_run r;
        es_run_earshot(&r, &run_opts, NULL, cmds[i], "--help", NULL);
        assert_int_equal(r.status, 0);
        char want[48];
        snprintf(want, sizeof(want), "usage: earshot %s", cmds[i]);
        assert_non_null(strstr(r.out.ptr, want));
        es_run_release(&r);
    }
    EXPECT(0, "thread ", "--help");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_agents, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_assign_notes_tags, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_views, setup, teardown),
        cmocka_unit_test_setup_teardown(test_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_canned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_help, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
