/* test_cli.c - the command-line contract, run as a user would run it
 *
 * Spawns the real earshot binary (ES_EARSHOT_BIN) against fixture feeds
 * through file:// sources and a temporary database, and checks exit
 * statuses and output: other tools rely on both.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* cmocka needs stdarg, stddef and setjmp first. */
#include <cmocka.h>

#include "earshot/alloc.h"
#include "earshot/buf.h"
#include "fixtures.h"
#include "runcli.h"

static char tmpdir[] = "/tmp/es-cli-XXXXXX";

/* Every run: HOME is the temporary folder, no --config or --db. */
static const struct es_run_opts run_opts = {
    .bin = ES_EARSHOT_BIN,
    .tmpdir = tmpdir,
};

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static char *write_config(const char *extra)
{
    char *path = es_xasprintf("%s/test.conf", tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "[earshot]\n"
            "database = cli.db\n"
            "[source \"brand\"]\n"
            "type = rss\n"
            "url = file://%s/cli/brand.xml\n"
            "interval = 600\n"
            "%s",
            ES_FIXTURES, extra ? extra : "");
    fclose(f);
    return path;
}

static int setup(void **state)
{
    (void)state;
    assert_non_null(mkdtemp(tmpdir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    es_fx_rmtree(tmpdir);
    return 0;
}

/* An argument echoed in an error is cut to 200 bytes, and never inside a
 * character: "x" and 150 two-byte "é" would have been cut after the lead
 * byte of the hundredth, leaving invalid UTF-8 on the terminal. */
static void expect_cut_echo(const char *prefix, const char *command,
                            const char *arg)
{
    struct es_buf want = ES_BUF_INIT;
    es_buf_adds(&want, prefix);
    es_buf_adds(&want, "x");
    for (int i = 0; i < 99; i++)
        es_buf_adds(&want, "\xC3\xA9");
    es_buf_adds(&want, "'\n");
    struct es_run r;
    es_run_earshot(&r, &run_opts, NULL, command ? command : arg,
                   command ? arg : NULL, NULL);
    assert_int_equal(r.status, 2);
    assert_true(strncmp(r.err.ptr, want.ptr, want.len) == 0);
    es_run_release(&r);
    es_buf_release(&want);
}

static void test_long_argument_cut_whole(void **state)
{
    (void)state;
    struct es_buf arg = ES_BUF_INIT;
    es_buf_adds(&arg, "x");
    for (int i = 0; i < 150; i++)
        es_buf_adds(&arg, "\xC3\xA9");
    expect_cut_echo("error: unknown command '", NULL, arg.ptr);
    /* The same through a command's own option parser. */
    expect_cut_echo("error: unexpected argument '", "sources", arg.ptr);
    es_buf_release(&arg);
}

static void test_help_version_usage(void **state)
{
    (void)state;
    struct es_run r;
    es_run_earshot(&r, &run_opts, NULL, "--help", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "usage: earshot"));
    assert_non_null(strstr(r.out.ptr, "poll"));
    es_run_release(&r);

    es_run_earshot(&r, &run_opts, NULL, "--version", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "earshot "));
    es_run_release(&r);

    es_run_earshot(&r, &run_opts, NULL, "frobnicate", NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err.ptr, "unknown command 'frobnicate'"));
    es_run_release(&r);

    es_run_earshot(&r, &run_opts, NULL, "inbox", "--bogus", NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err.ptr, "unknown option '--bogus'"));
    es_run_release(&r);

    es_run_earshot(&r, &run_opts, NULL, "poll", "--help", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "usage: earshot poll"));
    es_run_release(&r);

    /* "--" ends the global options, as getopt's users expect; what
     * follows it is the command, even when it looks like an option. */
    es_run_earshot(&r, &run_opts, NULL, "--db", "x.db", "--", "poll", "--help",
                   NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "usage: earshot poll"));
    es_run_release(&r);
    es_run_earshot(&r, &run_opts, NULL, "--", "--version", NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err.ptr, "unknown command '--version'"));
    es_run_release(&r);

    /* What is missing is named, before the usage. */
    es_run_earshot(&r, &run_opts, NULL, "show", NULL);
    assert_int_equal(r.status, 2);
    assert_true(strncmp(r.err.ptr, "error: missing the mention ID\n", 30) == 0);
    assert_non_null(strstr(r.err.ptr, "usage: earshot show"));
    es_run_release(&r);
    es_run_earshot(&r, &run_opts, NULL, "parse", "rss", NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err.ptr, "error: missing FILE"));
    es_run_release(&r);

    /* A value-taking option followed by another option lacks its value:
     * "--svg --help" writes no file named "--help". */
    es_run_earshot(&r, &run_opts, NULL, "inbox", "--source", "--json", NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err.ptr, "option '--source' needs a value"));
    /* The synopsis and where the rest is, not the whole help. */
    assert_non_null(strstr(r.err.ptr, "('earshot inbox --help' says more)"));
    assert_null(strstr(r.err.ptr, "Lists mentions"));
    es_run_release(&r);

    /* The same option twice; a global option after the command. */
    es_run_earshot(&r, &run_opts, NULL, "inbox", "--state", "new", "--state",
                   "open", NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err.ptr, "option '--state' given twice"));
    es_run_release(&r);
    es_run_earshot(&r, &run_opts, NULL, "inbox", "--db", "x.db", NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err.ptr, "'--db' goes before the command"));
    es_run_release(&r);

    /* "help COMMAND" is "COMMAND --help". */
    es_run_earshot(&r, &run_opts, NULL, "help", "poll", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "usage: earshot poll"));
    es_run_release(&r);
}

/* A copy of `earshot` (cli/front.c) in a folder of its own: no
 * earshot-core beside it or at ../libexec/earshot. */
static char *lone_front(void)
{
    char *dir = es_xasprintf("%s/lone", tmpdir);
    char *path = es_xasprintf("%s/earshot", dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    FILE *in = fopen(ES_EARSHOT_BIN, "rb");
    FILE *out = fopen(path, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
    assert_int_equal(chmod(path, 0755), 0);
    free(dir);
    return path;
}

/* `earshot` scores by itself and hands everything else to earshot-core:
 * with no core to be found, classify still works and the rest says what
 * is missing; a copy taken out of the build tree finds the core of the
 * build it came from. */
static void test_front_runs_classify_itself(void **state)
{
    (void)state;
    char *bin = lone_front();
    static const char *const no_core[] = { "EARSHOT_CORE",
                                           "/nonexistent/earshot-core", NULL };
    const struct es_run_opts lone = { .bin = bin, .tmpdir = tmpdir };
    const struct es_run_opts coreless = { .bin = bin,
                                          .tmpdir = tmpdir,
                                          .env = no_core };
    char *texts = es_xasprintf("%s/texts.txt", tmpdir);
    es_fx_write_file(texts, "I love it, thanks for the quick fix!\n"
                            "worst support ever, still waiting\n");
    struct es_run r;

    es_run_earshot(&r, &coreless, texts, "classify", NULL);
    assert_int_equal(r.status, 0);
    char *end;
    double first = strtod(r.out.ptr, &end);
    assert_true(first >= 0.05);
    assert_int_equal(*end, '\n');
    assert_true(strtod(end + 1, NULL) <= -0.05);
    assert_int_equal(count_lines(r.out.ptr), 2);
    es_run_release(&r);

    /* "--" ends the global options: the front still runs classify. */
    es_run_earshot(&r, &coreless, texts, "--", "classify", NULL);
    assert_int_equal(r.status, 0);
    assert_int_equal(count_lines(r.out.ptr), 2);
    es_run_release(&r);

    /* Global options before classify are read, not handed on. */
    es_run_earshot(&r, &coreless, texts, "--data-dir", "/nonexistent",
                   "classify", NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err.ptr, "/nonexistent/lexicons/earshot-en.tsv"));
    es_run_release(&r);

    es_run_earshot(&r, &coreless, NULL, "--version", NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err.ptr, "cannot run earshot-core "
                                      "(/nonexistent/earshot-core)"));
    assert_non_null(strstr(r.err.ptr, "No such file"));
    es_run_release(&r);

    es_run_earshot(&r, &coreless, NULL, "inbox", NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err.ptr, "cannot run earshot-core"));
    es_run_release(&r);

    /* Copied out of the build tree, it still finds that build's core. */
    es_run_earshot(&r, &lone, NULL, "--version", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "earshot "));
    es_run_release(&r);

    free(texts);
    free(bin);
}

/* classify reads no config unless one is named; a named one brings its
 * [classifier] overlays and [priority] brand names, as ingest scores
 * with them. */
static void test_classify_named_config(void **state)
{
    (void)state;
    char *overlay = es_xasprintf("%s/acme.tsv", tmpdir);
    char *conf = es_xasprintf("%s/classify.conf", tmpdir);
    char *texts = es_xasprintf("%s/outage.txt", tmpdir);
    es_fx_write_file(overlay, "outage\t0\n");
    es_fx_write_file(conf, "[classifier]\noverlay = acme.tsv\n");
    es_fx_write_file(texts, "outage again\n");
    struct es_run r;

    es_run_earshot(&r, &run_opts, texts, "classify", NULL);
    assert_int_equal(r.status, 0);
    assert_true(strtod(r.out.ptr, NULL) <= -0.05);
    es_run_release(&r);

    es_run_earshot(&r, &run_opts, texts, "--config", conf, "classify", NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out.ptr, "0.0000\n");
    es_run_release(&r);

    /* Its [priority] brand names rate nothing: a product called Havoc. */
    es_fx_write_file(texts, "Havoc shipped a new release\n");
    es_run_earshot(&r, &run_opts, texts, "classify", NULL);
    assert_int_equal(r.status, 0);
    assert_true(strtod(r.out.ptr, NULL) <= -0.05);
    es_run_release(&r);
    es_fx_write_file(conf, "[priority]\nbrand = Havoc\n");
    es_run_earshot(&r, &run_opts, texts, "--config", conf, "classify", NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out.ptr, "0.0000\n");
    es_run_release(&r);

    /* A bad config is an error that names it, not a silent default. */
    es_fx_write_file(conf, "[classifier]\noverlay = missing.tsv\n");
    es_run_earshot(&r, &run_opts, texts, "--config", conf, "classify", NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err.ptr, "missing.tsv"));
    es_run_release(&r);

    free(overlay);
    free(conf);
    free(texts);
}

static void test_parse_rss_json_lines(void **state)
{
    (void)state;
    struct es_run r;
    char *file = es_xasprintf("%s/cli/brand.xml", ES_FIXTURES);
    es_run_earshot(&r, &run_opts, NULL, "parse", "rss", file, "--base-url",
                   "https://example.com/feed.xml", NULL);
    assert_int_equal(r.status, 0);
    assert_int_equal(count_lines(r.out.ptr), 3);
    assert_true(strncmp(r.out.ptr,
                        "{\"feed\":{\"title\":\"Acme mentions\",\"link\":"
                        "\"https://example.com/\"}}\n",
                        60) == 0);
    /* Relative link resolved, date in UTC, entities decoded, HTML kept in
     * summary and stripped from text. */
    assert_non_null(
        strstr(r.out.ptr, "\"url\":\"https://example.com/posts/1\""));
    assert_non_null(
        strstr(r.out.ptr, "\"created_at\":\"2024-09-10T06:15:00Z\""));
    assert_non_null(strstr(r.out.ptr, "\"id\":\"post-1\""));
    assert_non_null(strstr(r.out.ptr, "\"author\":\"dana\""));
    assert_non_null(strstr(r.out.ptr,
                           "\"text\":\"Still waiting for support \xE2\x80\x94 "
                           "day three.\""));
    assert_non_null(strstr(r.out.ptr, "<b>three</b>"));
    assert_non_null(strstr(r.out.ptr, "Caf\xC3\xA9 review: Acme\xE2\x80\x99s"));
    assert_non_null(strstr(r.out.ptr, "\"categories\":[\"support\"]"));
    es_run_release(&r);

    /* The same document on stdin. */
    es_run_earshot(&r, &run_opts, file, "parse", "rss", "-", NULL);
    assert_int_equal(r.status, 0);
    assert_int_equal(count_lines(r.out.ptr), 3);
    es_run_release(&r);
    free(file);
}

static void test_parse_garbage_fails(void **state)
{
    (void)state;
    char *bad = es_xasprintf("%s/garbage.txt", tmpdir);
    FILE *f = fopen(bad, "w");
    fputs("{\"this\": \"is json, not a feed\"}\n", f);
    fclose(f);
    struct es_run r;
    es_run_earshot(&r, &run_opts, NULL, "parse", "rss", bad, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err.ptr, "error: "));
    assert_non_null(strstr(r.err.ptr, "garbage.txt"));
    es_run_release(&r);

    es_run_earshot(&r, &run_opts, NULL, "parse", "rss", "/nonexistent/feed.xml",
                   NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err.ptr, "/nonexistent/feed.xml"));
    es_run_release(&r);

    es_run_earshot(&r, &run_opts, NULL, "parse", "tumblr", bad, NULL);
    assert_int_equal(r.status, 2);
    es_run_release(&r);
    free(bad);
}

/* `parse KIND FILE` for the platform kinds: one JSON object per mention
 * with the platform's name, from a file or stdin; a body of the wrong
 * shape fails naming the kind and the JSON path. */
static void test_parse_platform_kinds(void **state)
{
    (void)state;
    static const struct {
        const char *kind, *fixture;
    } cases[] = {
        { "mastodon", "mastodon/notifications.json" },
        { "bluesky", "bluesky/search_posts.json" },
        { "appstore", "appstore/reviews-page1.json" },
        { "googleplay", "googleplay/reviews-page1.json" },
        { "jsonl", "jsonl/mentions.jsonl" },
        { "x", "x/search_recent.json" },
        { "youtube", "youtube/comment_threads.json" },
        { "reddit", "reddit/comments_page.json" },
        { "hackernews", "hackernews/search_by_date.json" },
        { "github", "github/search_issues.json" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        char *path = es_xasprintf("%s/%s", ES_FIXTURES, cases[i].fixture);
        char *want = es_xasprintf("\"platform\":\"%s\"", cases[i].kind);
        struct es_run r;
        es_run_earshot(&r, &run_opts, NULL, "parse", cases[i].kind, path, NULL);
        if (r.status != 0)
            fail_msg("parse %s %s: exit %d: %s", cases[i].kind, path, r.status,
                     r.err.ptr ? r.err.ptr : "");
        size_t n = count_lines(r.out.ptr);
        assert_true(n > 0);
        /* Every line is one mention object (jsonl keeps each line's own
         * platform, so only the count is checked there). */
        if (strcmp(cases[i].kind, "jsonl") != 0) {
            size_t hits = 0;
            for (const char *p = r.out.ptr; (p = strstr(p, want)); p++)
                hits++;
            assert_int_equal(hits, n);
        }
        es_run_release(&r);
        /* The same from stdin. */
        struct es_run r2;
        es_run_earshot(&r2, &run_opts, path, "parse", cases[i].kind, "-", NULL);
        assert_int_equal(r2.status, 0);
        assert_int_equal(count_lines(r2.out.ptr), n);
        es_run_release(&r2);
        free(want);
        free(path);
    }

    char *bad = es_xasprintf("%s/shape.json", tmpdir);
    FILE *f = fopen(bad, "w");
    fputs("{\"statuses\": 7}\n", f);
    fclose(f);
    struct es_run r;
    es_run_earshot(&r, &run_opts, NULL, "parse", "mastodon", bad, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err.ptr, "mastodon"));
    assert_non_null(strstr(r.err.ptr, "$"));
    assert_int_equal(r.out.len, 0);
    es_run_release(&r);
    es_run_earshot(&r, &run_opts, NULL, "parse", "bluesky", "/nonexistent.json",
                   NULL);
    assert_int_equal(r.status, 1);
    es_run_release(&r);
    free(bad);
}

static void test_poll_inbox_show(void **state)
{
    (void)state;
    char *conf = write_config(NULL);
    struct es_run r;

    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "poll", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "brand: 2 new, 0 updated, 0 unchanged"));
    es_run_release(&r);

    /* Not due again for 600 s: a plain poll does nothing... */
    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "poll", NULL);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.out.len, 0);
    es_run_release(&r);

    /* ...and --all polls it again without storing anything twice. */
    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "poll", "--all",
                   NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "brand: 0 new"));
    es_run_release(&r);

    /* Polled mentions are stored scored. */
    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "inbox", "--json",
                   NULL);
    assert_int_equal(r.status, 0);
    assert_null(strstr(r.out.ptr, "\"sentiment\":null"));
    assert_null(strstr(r.out.ptr, "\"priority\":null"));
    assert_non_null(strstr(r.out.ptr, "\"sentiment_pos\":"));
    assert_non_null(strstr(r.out.ptr, "\"label\":\""));
    assert_non_null(strstr(r.out.ptr, "\"low_confidence\":false"));
    assert_non_null(strstr(r.out.ptr, "\"priority_reasons\":["));
    assert_non_null(strstr(r.out.ptr, "\"lang\":\"en\""));
    assert_non_null(strstr(r.out.ptr, "\"state\":\"new\""));
    assert_non_null(strstr(r.out.ptr, "\"mention_id\":1"));
    assert_non_null(strstr(r.out.ptr, "\"mention_id\":2"));
    assert_null(strstr(r.out.ptr, "\"mention_id\":3"));
    es_run_release(&r);

    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "inbox", "--search",
                   "waiting", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "PRIO SENTIMENT"));
    assert_null(strstr(r.out.ptr, "unscored"));
    assert_non_null(strstr(r.out.ptr, "Acme Cloud ate my weekend"));
    assert_null(strstr(r.out.ptr, "dashboard"));
    es_run_release(&r);

    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "show", "1", NULL);
    assert_int_equal(r.status, 0);
    assert_null(strstr(r.out.ptr, "unscored"));
    assert_non_null(strstr(r.out.ptr, "sentiment: "));
    assert_non_null(strstr(r.out.ptr, "(pos "));
    assert_non_null(strstr(r.out.ptr, "priority:  "));
    assert_non_null(strstr(r.out.ptr, "language:  en"));
    es_run_release(&r);

    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "show", "999", NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err.ptr, "no mention with id 999"));
    es_run_release(&r);

    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "sources", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "brand"));
    es_run_release(&r);

    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "poll", "--source",
                   "nope", NULL);
    assert_int_equal(r.status, 2); /* a name the config lacks: usage */
    assert_non_null(strstr(r.err.ptr, "'nope'"));
    es_run_release(&r);
    free(conf);
}

/* Writes @body as file @name in the temporary folder (a feed, a config);
 * returns its path. */
static char *write_tmp(const char *name, const char *body)
{
    char *path = es_xasprintf("%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(body, f);
    fclose(f);
    return path;
}

static const char SCORED_FEED[] =
    "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>"
    "<item><guid>love</guid><description>Love the new dashboard"
    "</description></item>"
    "<item><guid>refund</guid><description>Still waiting for a refund"
    "</description></item>"
    "<item><guid>ipv6</guid><description>Does Acme Cloud have IPv6 yet?"
    "</description></item>"
    "</channel></rss>";

/* Writes a config for the scored feed with [priority] @priority. */
static char *write_scored_config(const char *feed, const char *priority)
{
    char *path = es_xasprintf("%s/scored.conf", tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "[earshot]\n"
            "database = scored.db\n"
            "[priority]\n"
            "brand = Acme Cloud\n"
            "%s"
            "[source \"s\"]\n"
            "type = rss\n"
            "url = file://%s\n",
            priority, feed);
    fclose(f);
    return path;
}

/* Position of @needle in @hay, or -1. */
static long pos_of(const char *hay, const char *needle)
{
    const char *p = strstr(hay, needle);
    return p ? (long)(p - hay) : -1;
}

/* The inbox's source column is cut at 16 characters, never inside one. */
static void test_inbox_column_keeps_characters(void **state)
{
    (void)state;
    char *feed = write_tmp("column.xml", SCORED_FEED);
    char *text = es_xasprintf("[earshot]\n"
                              "database = column.db\n"
                              "[source \"abcdefghijklmno\xC3\xA9zz\"]\n"
                              "type = rss\n"
                              "url = file://%s\n",
                              feed);
    char *conf = write_tmp("column.conf", text);
    free(text);
    struct es_run r;
    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "poll", NULL);
    assert_int_equal(r.status, 0);
    es_run_release(&r);
    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "inbox", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, " abcdefghijklmno\xC3\xA9 "));
    assert_null(strstr(r.out.ptr, "\xC3\xA9z"));
    es_run_release(&r);
    free(conf);
    free(feed);
}

/* What people post reaches an agent's terminal: an escape sequence in a
 * mention (a JSON string may hold any control character) is shown as
 * U+FFFD by the listing and by show, never sent to the terminal. */
static void test_terminal_escapes_not_printed(void **state)
{
    (void)state;
    char *lines =
        write_tmp("esc.jsonl",
                  "{\"id\": \"esc-1\", \"text\": \"evil \\u001b]0;pwned\\u0007 "
                  "\\u001b[2J\\u001b[31mrefund now\\u009b\", \"author\": "
                  "\"\\u001b[31mattacker\", \"title\": \"t\\u001b[1mx\"}\n");
    char *db = es_xasprintf("%s/esc.db", tmpdir);
    char *conf = write_config("");
    struct es_run r;
    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "--db", db, "import",
                   lines, "--source", "esc", NULL);
    assert_int_equal(r.status, 0);
    es_run_release(&r);
    static const char *const views[][2] = { { "inbox", NULL },
                                            { "show", "1" } };
    for (size_t i = 0; i < 2; i++) {
        es_run_earshot(&r, &run_opts, NULL, "--config", conf, "--db", db,
                       views[i][0], views[i][1], NULL);
        assert_int_equal(r.status, 0);
        if (memchr(r.out.ptr, 0x1b, r.out.len) ||
            memchr(r.out.ptr, 0x07, r.out.len) || strstr(r.out.ptr, "\xC2\x9B"))
            fail_msg("%s printed a control character: %s", views[i][0],
                     r.out.ptr);
        assert_non_null(strstr(r.out.ptr, "\xEF\xBF\xBD[31mattacker"));
        es_run_release(&r);
    }
    /* JSON keeps them, escaped. */
    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "--db", db, "show",
                   "1", "--json", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "\\u001b[31mattacker"));
    es_run_release(&r);
    free(conf);
    free(db);
    free(lines);
}

/* Small courtesies of the command line: a chart never replaces a file
 * that is no chart, a database in a missing folder names the folder, and
 * a name that is its own handle is said once. */
static void test_cli_courtesies(void **state)
{
    (void)state;
    char *db = es_xasprintf("%s/court.db", tmpdir);
    char *conf = write_config("");
    char *lines =
        write_tmp("court.jsonl", "{\"id\": \"c-1\", \"text\": \"hello\", "
                                 "\"author\": \"Marta K.\", \"author_name\": "
                                 "\"Marta K.\"}\n");
    struct es_run r;
    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "--db", db, "import",
                   lines, "--source", "court", NULL);
    assert_int_equal(r.status, 0);
    es_run_release(&r);
    es_run_earshot(&r, &run_opts, NULL, "--db", db, "show", "1", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "author:    Marta K.\n"));
    es_run_release(&r);

    char *notsvg = write_tmp("notes.txt", "my notes, not a chart\n");
    es_run_earshot(&r, &run_opts, NULL, "--db", db, "stats", "--svg", notsvg,
                   NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err.ptr, "is no SVG file: not overwritten"));
    es_run_release(&r);
    FILE *f = fopen(notsvg, "r");
    char head[32] = "";
    assert_non_null(fgets(head, sizeof(head), f));
    fclose(f);
    assert_string_equal(head, "my notes, not a chart\n");

    /* An empty lexicon is valid, but surely not what was meant. */
    char *empty = write_tmp("empty.tsv", "# nothing yet\n");
    char *in = write_tmp("in.txt", "great :)\n");
    es_run_earshot(&r, &run_opts, in, "classify", "--lexicon", empty, NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out.ptr, "0.0000\n");
    assert_non_null(strstr(r.err.ptr, "has no entries: texts will score 0"));
    es_run_release(&r);
    free(in);
    free(empty);

    char *nodir = es_xasprintf("%s/no/such/folder/x.db", tmpdir);
    es_run_earshot(&r, &run_opts, NULL, "--db", nodir, "init", NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err.ptr, "/no/such/folder' does not exist)"));
    es_run_release(&r);
    free(nodir);
    free(notsvg);
    free(lines);
    free(conf);
    free(db);
}

static void test_priority_label_rescore(void **state)
{
    (void)state;
    char *feed = write_tmp("scored.xml", SCORED_FEED);
    char *conf = write_scored_config(feed, "");
    struct es_run r;

    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "poll", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "s: 3 new"));
    es_run_release(&r);

    /* The refund first (negative, urgent), then the question to the
     * brand, then the praise. */
    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "inbox", NULL);
    assert_int_equal(r.status, 0);
    long refund = pos_of(r.out.ptr, "Still waiting for a refund");
    long ipv6 = pos_of(r.out.ptr, "IPv6");
    long love = pos_of(r.out.ptr, "Love the new dashboard");
    assert_true(refund > 0 && ipv6 > refund && love > ipv6);
    assert_non_null(strstr(r.out.ptr, " negative -0."));
    assert_non_null(strstr(r.out.ptr, " positive +0."));
    es_run_release(&r);

    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "show", "2", "--json",
                   NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "\"label\":\"negative\""));
    assert_non_null(strstr(r.out.ptr, "\"mentions refund\""));
    assert_non_null(strstr(r.out.ptr, "\"priority_reasons\":[\"negative -0."));
    es_run_release(&r);
    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "show", "3", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "priority:  15 - asks a question"));
    es_run_release(&r);

    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "inbox", "--label",
                   "positive", "--json", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "Love the new dashboard"));
    assert_null(strstr(r.out.ptr, "refund"));
    es_run_release(&r);
    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "inbox", "--label",
                   "angry", NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err.ptr, "unknown label 'angry'"));
    es_run_release(&r);

    /* New weights: urgency no longer counts. Rescore, one per batch. */
    free(conf);
    conf = write_scored_config(feed, "weight_urgency = 0\n");
    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "rescore", "--batch",
                   "1", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "rescored 3 mentions in 3 batches: 2 "
                                      "changed priority or label, 0 skipped"));
    es_run_release(&r);
    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "show", "3", NULL);
    assert_non_null(strstr(r.out.ptr, "priority:  0 - asks a question"));
    es_run_release(&r);
    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "rescore", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "rescored 3 mentions in 1 batch: 0 "
                                      "changed"));
    es_run_release(&r);
    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "rescore", "--batch",
                   "0", NULL);
    assert_int_equal(r.status, 2);
    es_run_release(&r);
    /* The brand's own cue phrases count once rescored. */
    free(conf);
    conf = write_scored_config(feed, "urgent_words = have IPv6\n");
    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "rescore", NULL);
    assert_int_equal(r.status, 0);
    es_run_release(&r);
    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "show", "3", NULL);
    assert_non_null(strstr(r.out.ptr, "says it is urgent"));
    es_run_release(&r);

    /* `ingest` scores as polling does. */
    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "ingest", "rss", feed,
                   "--source", "dump", NULL);
    assert_int_equal(r.status, 0);
    es_run_release(&r);
    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "inbox", "--source",
                   "dump", "--label", "negative", "--json", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "Still waiting for a refund"));
    assert_non_null(strstr(r.out.ptr, "\"mentions refund\""));
    assert_null(strstr(r.out.ptr, "Love"));
    es_run_release(&r);
    free(conf);

    /* No lexicon: a clear error naming the path, nothing polled. */
    conf =
        write_scored_config(feed, "[classifier]\n"
                                  "lexicon = /nonexistent/earshot/lex.tsv\n");
    char *nolex = es_xasprintf("%s/nolex.db", tmpdir);
    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "--db", nolex, "poll",
                   NULL);
    assert_int_equal(r.status, 1);
    struct stat st;
    assert_int_not_equal(stat(nolex, &st), 0); /* no database made */
    free(nolex);
    assert_non_null(strstr(r.err.ptr, "'/nonexistent/earshot/lex.tsv'"));
    assert_non_null(strstr(r.err.ptr, "[classifier]"));
    assert_int_equal(r.out.len, 0);
    es_run_release(&r);
    free(conf);
    free(feed);
}

static void test_bad_config_names_line(void **state)
{
    (void)state;
    char *conf = write_config("intervall = 5\n");
    struct es_run r;
    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "poll", NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err.ptr, "test.conf:7"));
    assert_non_null(strstr(r.err.ptr, "intervall"));
    es_run_release(&r);
    free(conf);
}

static void test_poll_failing_source_keeps_others(void **state)
{
    (void)state;
    char *conf = write_config("[source \"gone\"]\n"
                              "type = rss\n"
                              "url = file:///nonexistent/earshot/feed.xml\n");
    char *db = es_xasprintf("%s/fail.db", tmpdir);
    struct es_run r;
    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "--db", db, "poll",
                   NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.out.ptr, "brand: 2 new"));
    /* The failing source's line goes to stderr, the others' to stdout. */
    assert_non_null(strstr(r.err.ptr, "gone: error: "));
    assert_null(strstr(r.out.ptr, "gone"));
    es_run_release(&r);

    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "--db", db, "sources",
                   "--json", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.ptr, "\"name\":\"gone\""));
    assert_non_null(strstr(r.out.ptr, "\"failures\":1"));
    es_run_release(&r);

    /* A mistyped source is no empty inbox; a mistyped database is not
     * made by a command that only reads. */
    es_run_earshot(&r, &run_opts, NULL, "--db", db, "inbox", "--source",
                   "brnad", NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err.ptr, "no source named 'brnad' (known: "));
    assert_non_null(strstr(r.err.ptr, "brand"));
    es_run_release(&r);
    /* A source of the named config that was never polled is no typo. */
    char *fresh = es_xasprintf("%s/fresh.db", tmpdir);
    es_run_earshot(&r, &run_opts, NULL, "--db", fresh, "init", NULL);
    assert_int_equal(r.status, 0);
    es_run_release(&r);
    es_run_earshot(&r, &run_opts, NULL, "--config", conf, "--db", fresh,
                   "inbox", "--source", "gone", NULL);
    assert_int_equal(r.status, 0);
    es_run_release(&r);
    free(fresh);
    char *typo = es_xasprintf("%s/fial.db", tmpdir);
    es_run_earshot(&r, &run_opts, NULL, "--db", typo, "inbox", NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err.ptr, "no database at '"));
    assert_int_equal(access(typo, F_OK), -1);
    es_run_release(&r);
    free(typo);
    free(db);
    free(conf);
}

static void test_serve_stops_on_sigterm(void **state)
{
    (void)state;
    char *conf = write_config(NULL);
    char *db = es_xasprintf("%s/serve.db", tmpdir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stderr))
            _exit(127);
        execl(ES_EARSHOT_BIN, ES_EARSHOT_BIN, "--config", conf, "--db", db,
              "serve", (char *)NULL);
        _exit(127);
    }
    /* Wait until the first pass has stored the feed, then stop it. */
    struct es_run r = { 0 };
    for (int i = 0; i < 100; i++) {
        struct timespec ts = { 0, 100 * 1000 * 1000 };
        nanosleep(&ts, NULL);
        es_run_earshot(&r, &run_opts, NULL, "--db", db, "inbox", "--json",
                       NULL);
        int stored = strstr(r.out.ptr, "\"mention_id\":2") != NULL;
        es_run_release(&r);
        if (stored)
            break;
    }
    kill(pid, SIGTERM);
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    es_run_earshot(&r, &run_opts, NULL, "--db", db, "inbox", "--json", NULL);
    assert_non_null(strstr(r.out.ptr, "\"mention_id\":2"));
    es_run_release(&r);
    free(db);
    free(conf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_version_usage),
        cmocka_unit_test(test_long_argument_cut_whole),
        cmocka_unit_test(test_front_runs_classify_itself),
        cmocka_unit_test(test_classify_named_config),
        cmocka_unit_test(test_parse_rss_json_lines),
        cmocka_unit_test(test_parse_garbage_fails),
        cmocka_unit_test(test_parse_platform_kinds),
        cmocka_unit_test(test_poll_inbox_show),
        cmocka_unit_test(test_inbox_column_keeps_characters),
        cmocka_unit_test(test_terminal_escapes_not_printed),
        cmocka_unit_test(test_cli_courtesies),
        cmocka_unit_test(test_priority_label_rescore),
        cmocka_unit_test(test_bad_config_names_line),
        cmocka_unit_test(test_poll_failing_source_keeps_others),
        cmocka_unit_test(test_serve_stops_on_sigterm),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
