/* test_config.c - the settings file: keys, defaults, errors, the shipped
 * config/earshot.conf
 *
 * Most cases load text held in memory under the name "config.conf" so that
 * the expected messages read exactly as a user would see them; a few load
 * files from tests/fixtures/config/ to cover the file path and its folder.
 */
#define _XOPEN_SOURCE 700 /* realpath() */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* cmocka.h uses jmp_buf, va_list and size_t without including them. */
#include <cmocka.h>

#include "config/keys.h"
#include "earshot/alloc.h"
#include "earshot/buf.h"
#include "earshot/config.h"
#include "earshot/error.h"
#include "earshot/ingest.h"
#include "earshot/source.h"

#define FIXTURES ES_FIXTURES "/config"
#define SHIPPED  ES_SOURCE_DIR "/config/earshot.conf"

/* ==== Helpers ==== */

/* Loads @text as "config.conf" and expects it to fail with exactly @msg. */
static void expect_error(const char *text, const char *msg)
{
    struct es_config *cfg = (struct es_config *)&cfg; /* must be reset */
    int rc = es_config_load_string(&cfg, text, "config.conf");
    assert_int_equal(rc, ES_EINVALID);
    assert_null(cfg);
    assert_string_equal(es_error_last(), msg);
}

/* Loads @text as "config.conf" and expects success. */
static struct es_config *expect_ok(const char *text)
{
    struct es_config *cfg = NULL;
    int rc = es_config_load_string(&cfg, text, "config.conf");
    if (rc != 0)
        fail_msg("unexpected error: %s", es_error_last());
    assert_non_null(cfg);
    return cfg;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    struct es_buf b = ES_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        es_buf_add(&b, chunk, n);
    fclose(f);
    return es_buf_detach(&b);
}

/* The current folder, as the loader resolves "config.conf" against it. */
static char *cwd(void)
{
    char *c = realpath(".", NULL);
    assert_non_null(c);
    return c;
}

/* ==== Defaults ==== */

static void test_defaults_new(void **state)
{
    (void)state;
    struct es_config *cfg = es_config_new();
    /* No database: the program picks its own place (XDG data home). */
    assert_null(es_config_database(cfg));
    assert_null(es_config_data_dir(cfg));
    assert_string_equal(es_config_log_level(cfg), "info");
    assert_null(es_config_file(cfg));
    const struct es_config_http *h = es_config_http(cfg);
    assert_int_equal(h->connect_timeout_ms, 10000);
    assert_int_equal(h->timeout_ms, 30000);
    assert_int_equal(h->max_body, 16L * 1024 * 1024);
    assert_int_equal(h->max_redirects, 5);
    assert_int_equal(h->max_parallel, 32);
    assert_int_equal(es_config_source_count(cfg), 0);
    assert_null(es_config_source_at(cfg, 0));
    assert_null(es_config_source_find(cfg, "hn"));
    es_config_free(cfg);
    es_config_free(NULL);
}

static void test_defaults_loaded(void **state)
{
    (void)state;
    struct es_config *cfg = expect_ok("[source \"hn\"]\n"
                                      "type = rss\n");
    /* Unset stays unset: the program knows where databases live. */
    assert_null(es_config_database(cfg));
    assert_null(es_config_data_dir(cfg));
    assert_string_equal(es_config_log_level(cfg), "info");
    assert_int_equal(es_config_http(cfg)->max_parallel, 32);
    assert_string_equal(es_config_file(cfg), "config.conf");
    const struct es_config_source *s = es_config_source_at(cfg, 0);
    assert_non_null(s);
    assert_string_equal(s->name, "hn");
    assert_string_equal(s->type, "rss");
    assert_null(s->url);
    assert_int_equal(s->interval, 0);
    assert_int_equal(s->enabled, 1);
    assert_string_equal(s->file, "config.conf");
    assert_int_equal(s->line, 1);
    /* Defaults are not "as written": kv holds only what the file set. */
    assert_int_equal(s->nkv, 1);
    assert_null(es_config_source_get(s, "interval"));
    assert_null(es_config_source_get(NULL, "type"));
    es_config_free(cfg);
}

/* ==== A full file ==== */

static void test_full(void **state)
{
    (void)state;
    setenv("ES_TEST_TOKEN", "t0k3n", 1);
    struct es_config *cfg = expect_ok(
        "# comment\n"
        "; another\n"
        "[earshot]\n"
        "database = /var/lib/earshot/inbox.db\n"
        "data_dir = share\n"
        "log_level = debug\n"
        "\n"
        "[http]\n"
        "connect_timeout = 5\n"
        "timeout = 2m\n"
        "max_body = 512k\n"
        "max_redirects = 0\n"
        "max_parallel = 16\n"
        "\n"
        "[source \"hn\"]\n"
        "    type = rss\n"
        "    url = https://hnrss.org/newest?q=earshot ; inline comment\n"
        "    interval = 15m\n"
        "    enabled = no\n"
        "\n"
        "[source \"gh\"]\n"
        "\ttype = github\n"
        "\tbase_url = https://api.github.com\n"
        "\tquery = \"acme cloud\" OR acmecloud\n"
        "\ttoken = ${ES_TEST_TOKEN}\n"
        "\ttoken_file = secrets/gh.token\n"
        "\tinterval = 3600\n");
    char *dir = cwd();
    char *want = NULL;

    assert_string_equal(es_config_database(cfg), "/var/lib/earshot/inbox.db");
    want = es_xasprintf("%s/share", dir);
    assert_string_equal(es_config_data_dir(cfg), want);
    free(want);
    assert_string_equal(es_config_log_level(cfg), "debug");

    const struct es_config_http *h = es_config_http(cfg);
    assert_int_equal(h->connect_timeout_ms, 5000);
    assert_int_equal(h->timeout_ms, 120000);
    assert_int_equal(h->max_body, 512 * 1024);
    assert_int_equal(h->max_redirects, 0);
    assert_int_equal(h->max_parallel, 16);

    assert_int_equal(es_config_source_count(cfg), 2);
    const struct es_config_source *hn = es_config_source_find(cfg, "hn");
    assert_ptr_equal(hn, es_config_source_at(cfg, 0));
    assert_string_equal(hn->type, "rss");
    assert_string_equal(hn->url, "https://hnrss.org/newest?q=earshot");
    assert_int_equal(hn->interval, 900);
    assert_int_equal(hn->enabled, 0);
    assert_int_equal(hn->line, 15);
    assert_int_equal(hn->nkv, 4);
    assert_string_equal(hn->kv[0].key, "type");
    assert_int_equal(hn->kv[0].line, 16);
    assert_string_equal(hn->kv[1].key, "url");
    assert_string_equal(hn->kv[1].value, hn->url);
    assert_int_equal(hn->kv[1].line, 17);
    assert_string_equal(hn->kv[2].value, "15m");
    assert_string_equal(es_config_source_get(hn, "enabled"), "no");

    const struct es_config_source *gh = es_config_source_find(cfg, "gh");
    assert_ptr_equal(gh, es_config_source_at(cfg, 1));
    assert_int_equal(gh->line, 21);
    assert_string_equal(gh->type, "github");
    assert_null(gh->url);
    assert_int_equal(gh->interval, 3600);
    assert_int_equal(gh->enabled, 1);
    assert_string_equal(es_config_source_get(gh, "base_url"),
                        "https://api.github.com");
    assert_string_equal(es_config_source_get(gh, "query"),
                        "\"acme cloud\" OR acmecloud");
    assert_string_equal(es_config_source_get(gh, "token"), "t0k3n");
    want = es_xasprintf("%s/secrets/gh.token", dir);
    assert_string_equal(es_config_source_get(gh, "token_file"), want);
    free(want);
    assert_null(es_config_source_get(gh, "url"));
    assert_null(es_config_source_find(cfg, "nope"));
    assert_null(es_config_source_at(cfg, 2));

    free(dir);
    es_config_free(cfg);
    unsetenv("ES_TEST_TOKEN");
}

/* BOM, CRLF, a last line without newline, [http] split in two. */
static void test_syntax_variants(void **state)
{
    (void)state;
    struct es_config *cfg = expect_ok("\xEF\xBB\xBF[http]\r\n"
                                      "timeout = 7\r\n"
                                      "[source \"a b \\\"c\\\"\"]  ; note\r\n"
                                      "type=rss\r\n"
                                      "[http]\n"
                                      "max_parallel=3");
    assert_int_equal(es_config_http(cfg)->timeout_ms, 7000);
    assert_int_equal(es_config_http(cfg)->max_parallel, 3);
    const struct es_config_source *s = es_config_source_at(cfg, 0);
    assert_string_equal(s->name, "a b \"c\"");
    assert_int_equal(s->line, 3);
    assert_int_equal(s->kv[0].line, 4);
    es_config_free(cfg);

    cfg = expect_ok("");
    assert_int_equal(es_config_source_count(cfg), 0);
    es_config_free(cfg);

    /* Section names are ours to parse: no inline comment inside quotes,
     * no length limit (inih's own would cut at 50 bytes). */
    cfg = expect_ok("[source \"brand ;mentions\"]\ntype = rss\n"
                    "[source \"a-rather-long-source-name-for-the-acme-cloud-"
                    "status-page-feed\"]\ntype = atom\n");
    assert_string_equal(es_config_source_at(cfg, 0)->name, "brand ;mentions");
    assert_string_equal(es_config_source_at(cfg, 1)->name,
                        "a-rather-long-source-name-for-the-acme-cloud-status-"
                        "page-feed");
    es_config_free(cfg);
}

/* ==== Durations, sizes, booleans ==== */

static int source_interval(const char *value)
{
    char *text =
        es_xasprintf("[source \"s\"]\ntype = rss\ninterval = %s\n", value);
    struct es_config *cfg = expect_ok(text);
    int v = es_config_source_at(cfg, 0)->interval;
    es_config_free(cfg);
    free(text);
    return v;
}

static long http_max_body(const char *value)
{
    char *text = es_xasprintf("[http]\nmax_body = %s\n", value);
    struct es_config *cfg = expect_ok(text);
    long v = es_config_http(cfg)->max_body;
    es_config_free(cfg);
    free(text);
    return v;
}

static void test_suffixes(void **state)
{
    (void)state;
    assert_int_equal(source_interval("0"), 0);
    assert_int_equal(source_interval("90"), 90);
    assert_int_equal(source_interval("45s"), 45);
    assert_int_equal(source_interval("5m"), 300);
    assert_int_equal(source_interval("2h"), 7200);
    assert_int_equal(source_interval("720h"), 30 * 24 * 3600);
    assert_int_equal(http_max_body("1024"), 1024);
    assert_int_equal(http_max_body("64k"), 64 * 1024);
    assert_int_equal(http_max_body("64K"), 64 * 1024);
    assert_int_equal(http_max_body("2M"), 2 * 1024 * 1024);

    struct es_config *cfg = expect_ok("[http]\nconnect_timeout = 1m\n");
    assert_int_equal(es_config_http(cfg)->connect_timeout_ms, 60000);
    es_config_free(cfg);

    expect_error("[source \"s\"]\ntype = rss\ninterval = 5x\n",
                 "config.conf:3: bad duration '5x' for 'interval' in [source "
                 "\"s\"] (expected seconds, or a number with s, m or h)");
    expect_error("[source \"s\"]\ntype = rss\ninterval = 5 m\n",
                 "config.conf:3: bad duration '5 m' for 'interval' in [source "
                 "\"s\"] (expected seconds, or a number with s, m or h)");
    expect_error("[source \"s\"]\ntype = rss\ninterval = 5mm\n",
                 "config.conf:3: bad duration '5mm' for 'interval' in [source "
                 "\"s\"] (expected seconds, or a number with s, m or h)");
    expect_error("[source \"s\"]\ntype = rss\ninterval = 721h\n",
                 "config.conf:3: out-of-range value '721h' for 'interval' in "
                 "[source \"s\"] (expected 0 to 2592000 seconds)");
    expect_error("[source \"s\"]\ntype = rss\ninterval = -1\n",
                 "config.conf:3: out-of-range value '-1' for 'interval' in "
                 "[source \"s\"] (expected 0 to 2592000 seconds)");
    expect_error("[http]\nmax_body = 10G\n",
                 "config.conf:2: bad size '10G' for 'max_body' in [http] "
                 "(expected bytes, or a number with k or M)");
    expect_error("[http]\nmax_body = 2048M\n",
                 "config.conf:2: out-of-range value '2048M' for 'max_body' in "
                 "[http] (expected 1024 to 1073741824 bytes)");
    expect_error("[http]\ntimeout = 99999999999999999999999\n",
                 "config.conf:2: out-of-range value '99999999999999999999999' "
                 "for 'timeout' in [http] (expected 1 to 3600 seconds)");
    /* An overflow in the multiplication, not in strtol. */
    expect_error("[http]\nmax_body = 9223372036854775807M\n",
                 "config.conf:2: out-of-range value '9223372036854775807M' "
                 "for 'max_body' in [http] (expected 1024 to 1073741824 "
                 "bytes)");
}

static void test_booleans(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int value;
    } cases[] = {
        { "yes", 1 }, { "no", 0 }, { "true", 1 }, { "false", 0 },
        { "1", 1 },   { "0", 0 },  { "YES", 1 },  { "False", 0 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text = es_xasprintf("[source \"s\"]\ntype = rss\nenabled = %s\n",
                                  cases[i].text);
        struct es_config *cfg = expect_ok(text);
        assert_int_equal(es_config_source_at(cfg, 0)->enabled, cases[i].value);
        es_config_free(cfg);
        free(text);
    }
}

/* ==== Errors: every one names FILE:LINE ==== */

static void test_error_unknown_key(void **state)
{
    (void)state;
    /* The example from STYLE.md, line for line, from a fixture file. */
    struct es_config *cfg = NULL;
    const char *path = FIXTURES "/unknown-key.conf";
    int rc = es_config_load(&cfg, path);
    assert_int_equal(rc, ES_EINVALID);
    assert_null(cfg);
    char *want = NULL;
    want =
        es_xasprintf("%s:12: unknown key 'intervall' in [source \"hn\"]", path);
    assert_string_equal(es_error_last(), want);
    free(want);

    expect_error("[http]\ntimeout = 3\nretries = 2\n",
                 "config.conf:3: unknown key 'retries' in [http]");
    /* Keys are per section: url is a source key, not an [earshot] one. */
    expect_error("[earshot]\nurl = http://x\n",
                 "config.conf:2: unknown key 'url' in [earshot]");
    expect_error("type = rss\n",
                 "config.conf:1: key 'type' outside any section");
}

static void test_error_sections(void **state)
{
    (void)state;
    expect_error("[http]\ntimeout = 3\n\n[inbox]\nx = 1\n",
                 "config.conf:4: unknown section 'inbox'");
    /* Reported even when the section has no key at all. */
    expect_error("[sauce \"hn\"]\n", "config.conf:1: unknown section 'sauce'");
    expect_error("[source]\ntype = rss\n",
                 "config.conf:1: missing name for section [source] (write "
                 "[source \"NAME\"])");
    expect_error("[http \"x\"]\n",
                 "config.conf:1: unexpected name 'x' for section [http]");
    expect_error("[source hn]\n",
                 "config.conf:1: unquoted name 'hn' in section header (write "
                 "[source \"hn\"])");
    expect_error("[source \"hn]\n",
                 "config.conf:1: unterminated name in section header");
    expect_error("[source \"hn\"\n",
                 "config.conf:1: missing ']' in section header");
    expect_error("[http] timeout = 3\n",
                 "config.conf:1: unexpected text after section header");
    expect_error("[]\n", "config.conf:1: missing section name in '[]'");
    expect_error("[source \"\"]\n",
                 "config.conf:1: empty name in section [source \"\"]");
    /* The section is checked before its name. */
    expect_error("[sour ce]\n", "config.conf:1: unknown section 'sour'");
    /* Names are shown as they would be written. */
    expect_error(
        "[source \"say \\\"hi\\\"\"]\nquery = x\n",
        "config.conf:1: missing 'type' in [source \"say \\\"hi\\\"\"]");
    expect_error("[source \"caf\xe9\"]\n",
                 "config.conf:1: invalid UTF-8 in section name");
    expect_error("[source \"a\x01\"]\n",
                 "config.conf:1: control character in section name");
    /* What is quoted from the file is cleaned for terminals and JSON. */
    expect_error("[http]\nti\x01me\xff = 3\n",
                 "config.conf:2: unknown key 'ti?me\xef\xbf\xbd' in [http]");
}

static void test_error_sources(void **state)
{
    (void)state;
    expect_error("[source \"hn\"]\n"
                 "type = rss\n"
                 "\n"
                 "[source \"gh\"]\n"
                 "type = atom\n"
                 "[source \"hn\"]\n"
                 "type = rss\n",
                 "config.conf:6: duplicate source 'hn' (first defined at line "
                 "1)");
    /* Missing type: at the header, when the next section starts ... */
    expect_error("[source \"hn\"]\n"
                 "url = https://example.com/feed\n"
                 "[http]\n",
                 "config.conf:1: missing 'type' in [source \"hn\"]");
    /* ... and at the end of the file. */
    expect_error("[source \"a\"]\ntype = rss\n\n[source \"hn\"]\n",
                 "config.conf:4: missing 'type' in [source \"hn\"]");
    expect_error("[source \"hn\"]\ntype =\n",
                 "config.conf:2: empty value for 'type' in [source \"hn\"]");
    expect_error("[source \"hn\"]\n"
                 "type = rss\n"
                 "url = https://a.example/feed\n"
                 "url = https://b.example/feed\n",
                 "config.conf:4: duplicate key 'url' in [source \"hn\"] (first "
                 "set at line 3)");
    /* The same key in two [http] blocks is still a duplicate. */
    expect_error("[http]\ntimeout = 3\n[source \"a\"]\ntype = rss\n[http]\n"
                 "timeout = 4\n",
                 "config.conf:6: duplicate key 'timeout' in [http] (first set "
                 "at line 2)");
    expect_error("[source \"hn\"]\ntype = rss\nurl = ftp://example.com/feed\n",
                 "config.conf:3: unsupported URL 'ftp://example.com/feed' for "
                 "'url' in [source \"hn\"] (expected http://, https:// or "
                 "file:)");
    expect_error("[source \"hn\"]\ntype = rss\nurl =\n",
                 "config.conf:3: empty value for 'url' in [source \"hn\"]");
}

static void test_error_values(void **state)
{
    (void)state;
    expect_error("[http]\nmax_redirects = lots\n",
                 "config.conf:2: bad integer 'lots' for 'max_redirects' in "
                 "[http]");
    expect_error("[http]\nmax_redirects = 3.5\n",
                 "config.conf:2: bad integer '3.5' for 'max_redirects' in "
                 "[http]");
    expect_error("[http]\nmax_redirects = +3\n",
                 "config.conf:2: bad integer '+3' for 'max_redirects' in "
                 "[http]");
    expect_error("[http]\nmax_redirects = 21\n",
                 "config.conf:2: out-of-range value '21' for 'max_redirects' "
                 "in [http] (expected 0 to 20)");
    expect_error("[http]\nmax_parallel = 0\n",
                 "config.conf:2: out-of-range value '0' for 'max_parallel' in "
                 "[http] (expected 1 to 64)");
    expect_error("[source \"hn\"]\ntype = rss\nenabled = maybe\n",
                 "config.conf:3: bad boolean 'maybe' for 'enabled' in [source "
                 "\"hn\"] (expected yes, no, true, false, 1 or 0)");
    expect_error("[earshot]\nlog_level = verbose\n",
                 "config.conf:2: bad log level 'verbose' for 'log_level' in "
                 "[earshot] (expected error, warn, info or debug)");
    expect_error("[earshot]\ndatabase =\n",
                 "config.conf:2: empty value for 'database' in [earshot]");
    expect_error("[http]\njust some words\n",
                 "config.conf:2: syntax error (expected 'key = value', "
                 "'[section]' or a comment)");
}

static void test_error_long_line(void **state)
{
    (void)state;
    struct es_buf b = ES_BUF_INIT;
    es_buf_adds(&b, "[source \"s\"]\ntype = rss\nquery = ");
    for (int i = 0; i < 16000; i++)
        es_buf_addch(&b, 'q');
    es_buf_adds(&b, "\nurl = https://example.com/\n");
    /* Long but within the limit: read whole, not cut in two. */
    struct es_config *cfg = expect_ok(b.ptr);
    const struct es_config_source *s = es_config_source_at(cfg, 0);
    assert_int_equal(strlen(es_config_source_get(s, "query")), 16000);
    assert_string_equal(s->url, "https://example.com/");
    assert_int_equal(s->kv[2].line, 4);
    es_config_free(cfg);

    es_buf_truncate(&b, 0);
    es_buf_adds(&b, "[source \"s\"]\ntype = rss\nquery = ");
    for (int i = 0; i < 17000; i++)
        es_buf_addch(&b, 'q');
    es_buf_adds(&b, "\n");
    expect_error(b.ptr, "config.conf:3: line too long (over 16384 bytes)");
    es_buf_release(&b);
}

static void test_error_missing_file(void **state)
{
    (void)state;
    struct es_config *cfg = (struct es_config *)&cfg;
    int rc = es_config_load(&cfg, "/nonexistent/earshot.conf");
    assert_int_equal(rc, ES_ENOTFOUND);
    assert_null(cfg);
    assert_string_equal(es_error_last(),
                        "cannot read config '/nonexistent/earshot.conf': No "
                        "such file or directory");

    rc = es_config_load(&cfg, FIXTURES);
    assert_int_equal(rc, ES_ENOTFOUND);
    assert_null(cfg);
    assert_non_null(strstr(es_error_last(), "Is a directory"));
}

static void test_error_nul_byte(void **state)
{
    (void)state;
    char path[] = "/tmp/es_test_config_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char text[] = "[http]\ntimeout = 3\nmax\0_body = 1\n";
    assert_int_equal(write(fd, text, sizeof(text) - 1), sizeof(text) - 1);
    close(fd);
    struct es_config *cfg = NULL;
    assert_int_equal(es_config_load(&cfg, path), ES_EINVALID);
    assert_null(cfg);
    char *want = es_xasprintf("%s:3: unexpected NUL byte", path);
    assert_string_equal(es_error_last(), want);
    free(want);
    unlink(path);
}

/* ==== ${ENV} and secrets ==== */

static void test_env(void **state)
{
    (void)state;
    setenv("ES_TEST_HOST", "feeds.example.com", 1);
    setenv("ES_TEST_EMPTY", "", 1);
    unsetenv("ES_TEST_UNSET");
    struct es_config *cfg =
        expect_ok("[source \"s\"]\n"
                  "type = rss\n"
                  "url = https://${ES_TEST_HOST}/a?x=$$1&y=$z${ES_TEST_EMPTY}\n"
                  "query = price $$$$ ${ES_TEST_HOST}$\n");
    const struct es_config_source *s = es_config_source_at(cfg, 0);
    assert_string_equal(s->url, "https://feeds.example.com/a?x=$1&y=$z");
    assert_string_equal(es_config_source_get(s, "query"),
                        "price $$ feeds.example.com$");
    es_config_free(cfg);

    /* Expansion happens before the type is read. */
    setenv("ES_TEST_SECS", "10m", 1);
    cfg = expect_ok("[source \"s\"]\ntype = rss\ninterval = ${ES_TEST_SECS}\n");
    assert_int_equal(es_config_source_at(cfg, 0)->interval, 600);
    es_config_free(cfg);

    expect_error(
        "[source \"s\"]\ntype = rss\n\nurl = https://${ES_TEST_UNSET}/\n",
        "config.conf:4: environment variable 'ES_TEST_UNSET' is not "
        "set");
    expect_error(
        "[source \"s\"]\ntype = rss\nurl = https://${ES_TEST_HOST/\n",
        "config.conf:3: unterminated '${' in value of 'url' in [source "
        "\"s\"]");
    expect_error("[source \"s\"]\ntype = rss\nquery = ${}\n",
                 "config.conf:3: bad variable name in '${...}' in value of "
                 "'query' in [source \"s\"]");
    expect_error("[source \"s\"]\ntype = rss\nquery = ${A-B}\n",
                 "config.conf:3: bad variable name in '${...}' in value of "
                 "'query' in [source \"s\"]");
    unsetenv("ES_TEST_HOST");
    unsetenv("ES_TEST_EMPTY");
    unsetenv("ES_TEST_SECS");
}

static void test_secrets_not_in_messages(void **state)
{
    (void)state;
    /* A newline in a token would inject an HTTP header: refused, and the
     * message names the key but shows nothing of the value. */
    setenv("ES_TEST_SECRET", "hunter2-s3cr3t\r\nX-Evil: 1", 1);
    struct es_config *cfg = NULL;
    int rc = es_config_load_string(&cfg,
                                   "[source \"gh\"]\n"
                                   "type = github\n"
                                   "token = ${ES_TEST_SECRET}\n",
                                   "config.conf");
    assert_int_equal(rc, ES_EINVALID);
    assert_string_equal(es_error_last(),
                        "config.conf:3: control character in value of 'token' "
                        "in [source \"gh\"]");
    assert_null(strstr(es_error_last(), "hunter2"));

    /* Errors after a token was read do not carry it either. */
    setenv("ES_TEST_SECRET", "hunter2-s3cr3t", 1);
    rc = es_config_load_string(&cfg,
                               "[source \"gh\"]\n"
                               "type = github\n"
                               "token = ${ES_TEST_SECRET}\n"
                               "token = hunter2-s3cr3t\n",
                               "config.conf");
    assert_int_equal(rc, ES_EINVALID);
    assert_string_equal(es_error_last(),
                        "config.conf:4: duplicate key 'token' in [source "
                        "\"gh\"] (first set at line 3)");
    unsetenv("ES_TEST_SECRET");

    /* A token written in the file is not echoed when it is misplaced. */
    rc = es_config_load_string(&cfg, "[http]\ntoken = hunter2-s3cr3t\n",
                               "config.conf");
    assert_int_equal(rc, ES_EINVALID);
    assert_null(strstr(es_error_last(), "hunter2"));
    assert_string_equal(es_error_last(),
                        "config.conf:2: unknown key 'token' in [http]");

    /* Invalid UTF-8 from the environment: named, not shown. */
    setenv("ES_TEST_SECRET", "hunter2\xff", 1);
    rc = es_config_load_string(&cfg,
                               "[source \"gh\"]\n"
                               "type = github\n"
                               "token = ${ES_TEST_SECRET}\n",
                               "config.conf");
    assert_int_equal(rc, ES_EINVALID);
    assert_string_equal(es_error_last(),
                        "config.conf:3: invalid UTF-8 in value of 'token' in "
                        "[source \"gh\"]");
    unsetenv("ES_TEST_SECRET");
}

/* ==== [classifier] and [priority] ==== */

static void test_scoring_defaults(void **state)
{
    (void)state;
    struct es_config *cfg = es_config_new();
    const struct es_config_classifier *c = es_config_classifier(cfg);
    const struct es_config_priority *p = es_config_priority(cfg);
    assert_null(c->lexicon);
    assert_int_equal(c->noverlays, 0);
    assert_true(p->weight_negative == 40);
    assert_true(p->weight_urgency == 30);
    assert_true(p->weight_reach == 10);
    assert_true(p->weight_rating == 20);
    assert_true(p->weight_direct == 10);
    assert_true(p->weight_age == 20);
    assert_int_equal(p->nbrands, 0);
    es_config_free(cfg);

    /* Empty sections are fine and change nothing. */
    cfg = expect_ok("[classifier]\n[priority]\n");
    assert_true(es_config_priority(cfg)->weight_urgency == 30);
    assert_null(es_config_classifier(cfg)->lexicon);
    es_config_free(cfg);
}

static void test_scoring_keys(void **state)
{
    (void)state;
    struct es_config *cfg = expect_ok("[classifier]\n"
                                      "lexicon = lex/my.tsv\n"
                                      "overlay = a.tsv, /abs/b.tsv,\n"
                                      "overlay = c.tsv\n"
                                      "[priority]\n"
                                      "weight_negative = 55.5\n"
                                      "weight_age = 0\n"
                                      "weight_reach = 100\n"
                                      "brand = Acme Cloud,acmecloud\n"
                                      "brand =  Widgetly  \n"
                                      "brand = Nova, Orbit\n");
    char *dir = cwd();
    char *want = NULL;
    const struct es_config_classifier *c = es_config_classifier(cfg);
    want = es_xasprintf("%s/lex/my.tsv", dir);
    assert_string_equal(c->lexicon, want);
    free(want);
    /* Repeated and comma-separated, in order, each resolved. */
    assert_int_equal(c->noverlays, 3);
    want = es_xasprintf("%s/a.tsv", dir);
    assert_string_equal(c->overlays[0], want);
    free(want);
    assert_string_equal(c->overlays[1], "/abs/b.tsv");
    want = es_xasprintf("%s/c.tsv", dir);
    assert_string_equal(c->overlays[2], want);
    free(want);

    const struct es_config_priority *p = es_config_priority(cfg);
    assert_true(p->weight_negative == 55.5);
    assert_true(p->weight_age == 0);
    assert_true(p->weight_reach == 100);
    assert_true(p->weight_urgency == 30); /* unset: the default */
    assert_int_equal(p->nbrands, 5);
    assert_string_equal(p->brands[0], "Acme Cloud");
    assert_string_equal(p->brands[1], "acmecloud");
    assert_string_equal(p->brands[2], "Widgetly");
    /* A blank after the comma, with nothing after the last name: the
     * list ends where the value does (AddressSanitizer would say). */
    assert_string_equal(p->brands[3], "Nova");
    assert_string_equal(p->brands[4], "Orbit");
    free(dir);
    es_config_free(cfg);
}

static void test_scoring_errors(void **state)
{
    (void)state;
    expect_error("[priority]\nweight_age = -1\n",
                 "config.conf:2: out-of-range value '-1' for 'weight_age' in "
                 "[priority] (expected 0 to 100)");
    expect_error("[priority]\nweight_age = 100.5\n",
                 "config.conf:2: out-of-range value '100.5' for 'weight_age' "
                 "in [priority] (expected 0 to 100)");
    static const char *const bad[] = { "lots", "1e3", "+3",    "0x10",
                                       "nan",  ".",   "1.2.3", "inf" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *text = es_xasprintf("[priority]\nweight_reach = %s\n", bad[i]);
        char *msg = es_xasprintf("config.conf:2: bad number '%s' for "
                                 "'weight_reach' in [priority] (expected a "
                                 "number such as 12 or 0.5)",
                                 bad[i]);
        expect_error(text, msg);
        free(text);
        free(msg);
    }
    /* "3." and ".5" have digits: numbers. */
    struct es_config *cfg = expect_ok("[priority]\nweight_reach = 3.\n"
                                      "weight_age = .5\n");
    assert_true(es_config_priority(cfg)->weight_reach == 3);
    assert_true(es_config_priority(cfg)->weight_age == 0.5);
    es_config_free(cfg);

    expect_error("[priority]\nweight_age = 1\nweight_age = 2\n",
                 "config.conf:3: duplicate key 'weight_age' in [priority] "
                 "(first set at line 2)");
    expect_error("[priority]\nbrand = , ,\n",
                 "config.conf:2: empty value for 'brand' in [priority]");
    expect_error("[classifier]\noverlay =\n",
                 "config.conf:2: empty value for 'overlay' in [classifier]");
    expect_error("[classifier]\nlexicon =\n",
                 "config.conf:2: empty value for 'lexicon' in [classifier]");
    expect_error("[classifier]\nweight_age = 3\n",
                 "config.conf:2: unknown key 'weight_age' in [classifier]");
    expect_error("[priority \"x\"]\n",
                 "config.conf:1: unexpected name 'x' for section [priority]");
}

/* The brand's own cue phrases: comma-separated or repeated, in order, one
 * to four words each, as the scorer counts them. */
static void test_cue_phrases(void **state)
{
    (void)state;
    struct es_config *cfg = expect_ok(
        "[priority]\n"
        "safety_words = wardrobe tipped, door wide open\n"
        "safety_words = gas hob\n"
        "security_words = shows my address\n"
        "vulnerable_words = in the cot\n"
        "urgent_words = before the school run\n"
        "outage_words = lockers offline, don\xE2\x80\x99t open at all\n");
    const struct es_config_priority *p = es_config_priority(cfg);
    assert_int_equal(p->nsafety_words, 3);
    assert_string_equal(p->safety_words[0], "wardrobe tipped");
    assert_string_equal(p->safety_words[1], "door wide open");
    assert_string_equal(p->safety_words[2], "gas hob");
    assert_int_equal(p->nsecurity_words, 1);
    assert_int_equal(p->nvulnerable_words, 1);
    assert_int_equal(p->nurgent_words, 1);
    /* A curly apostrophe keeps its word whole: four words. */
    assert_int_equal(p->noutage_words, 2);
    assert_string_equal(p->outage_words[1], "don\xE2\x80\x99t open at all");
    es_config_free(cfg);
    cfg = expect_ok("[priority]\n");
    assert_int_equal(es_config_priority(cfg)->nsafety_words, 0);
    es_config_free(cfg);

    expect_error("[priority]\nsafety_words = the wardrobe tipped right over\n",
                 "config.conf:2: bad cue phrase (too many words) 'the wardrobe "
                 "tipped right over' for 'safety_words' in [priority] "
                 "(expected a phrase of one to four words, phrases separated "
                 "by commas)");
    expect_error("[priority]\nurgent_words = ok, --\n",
                 "config.conf:2: bad cue phrase (no words) '--' for "
                 "'urgent_words' in [priority] (expected a phrase of one to "
                 "four words, phrases separated by commas)");
    expect_error("[priority]\nlegal_words = tribunal\n",
                 "config.conf:2: unknown key 'legal_words' in [priority]");
}

/* ==== Paths and file: URLs ==== */

static void test_paths(void **state)
{
    (void)state;
    struct es_config *cfg = NULL;
    /* The folder need not exist for text loaded from memory. */
    int rc =
        es_config_load_string(&cfg,
                              "[earshot]\n"
                              "database = data/inbox.db\n"
                              "data_dir = /usr/share/earshot\n"
                              "[source \"rel\"]\n"
                              "type = rss\n"
                              "url = file:samples/acme-forum.xml\n"
                              "[source \"dot\"]\n"
                              "type = rss\n"
                              "url = file:./my feeds/caf\xc3\xa9 100%.xml\n"
                              "[source \"abs\"]\n"
                              "type = rss\n"
                              "url = file:/srv/feeds/a.xml\n"
                              "[source \"full\"]\n"
                              "type = rss\n"
                              "url = file:///srv/feeds/a.xml\n"
                              "[source \"up\"]\n"
                              "type = rss\n"
                              "url = FILE:../x.xml\n"
                              "[source \"web\"]\n"
                              "type = rss\n"
                              "url = HTTPS://Example.com/file:x\n",
                              "/no such/dir/earshot.conf");
    if (rc != 0)
        fail_msg("%s", es_error_last());
    assert_string_equal(es_config_database(cfg), "/no such/dir/data/inbox.db");
    assert_string_equal(es_config_data_dir(cfg), "/usr/share/earshot");
    assert_string_equal(es_config_source_find(cfg, "rel")->url,
                        "file:///no%20such/dir/samples/acme-forum.xml");
    assert_string_equal(
        es_config_source_find(cfg, "dot")->url,
        "file:///no%20such/dir/my%20feeds/caf%C3%A9%20100%.xml");
    assert_string_equal(es_config_source_find(cfg, "abs")->url,
                        "file:///srv/feeds/a.xml");
    assert_string_equal(es_config_source_find(cfg, "full")->url,
                        "file:///srv/feeds/a.xml");
    assert_string_equal(es_config_source_find(cfg, "up")->url,
                        "file:///no%20such/dir/../x.xml");
    assert_string_equal(es_config_source_find(cfg, "web")->url,
                        "HTTPS://Example.com/file:x");
    /* kv holds the resolved value too, so kinds read one truth. */
    assert_string_equal(
        es_config_source_get(es_config_source_find(cfg, "rel"), "url"),
        "file:///no%20such/dir/samples/acme-forum.xml");
    es_config_free(cfg);
}

static void test_fixture_file(void **state)
{
    (void)state;
    struct es_config *cfg = NULL;
    int rc = es_config_load(&cfg, FIXTURES "/good.conf");
    if (rc != 0)
        fail_msg("%s", es_error_last());
    char *dir = realpath(FIXTURES, NULL);
    assert_non_null(dir);
    char *want = NULL;
    /* A relative database starts at the config file's folder. */
    want = es_xasprintf("%s/inbox.db", dir);
    assert_string_equal(es_config_database(cfg), want);
    free(want);
    assert_string_equal(es_config_file(cfg), FIXTURES "/good.conf");
    assert_int_equal(es_config_source_count(cfg), 2);
    const struct es_config_source *s = es_config_source_find(cfg, "local");
    assert_non_null(s);
    want = es_xasprintf("file://%s/feeds/local.xml", dir);
    assert_string_equal(s->url, want);
    free(want);
    assert_string_equal(s->file, FIXTURES "/good.conf");
    /* The URL points at a file that is really there. */
    struct stat st;
    assert_int_equal(stat(s->url + strlen("file://"), &st), 0);
    free(dir);
    es_config_free(cfg);
}

/* ==== The shipped config/earshot.conf ==== */

static void test_shipped_parses(void **state)
{
    (void)state;
    struct es_config *cfg = NULL;
    int rc = es_config_load(&cfg, SHIPPED);
    if (rc != 0)
        fail_msg("%s", es_error_last());
    char *dir = realpath(ES_SOURCE_DIR "/config", NULL);
    assert_non_null(dir);

    /* The shipped file leaves the database to the program (it may be
     * installed read-only under /usr/share). */
    assert_null(es_config_database(cfg));

    size_t nfile = 0, nhttp = 0;
    for (size_t i = 0; i < es_config_source_count(cfg); i++) {
        const struct es_config_source *s = es_config_source_at(cfg, i);
        assert_non_null(s->type);
        assert_non_null(s->url);
        if (strncmp(s->url, "file://", 7) == 0) {
            /* Every sample is shipped, and was resolved next to the
             * config file. */
            struct stat st;
            if (stat(s->url + 7, &st) != 0)
                fail_msg("source '%s': no file at %s", s->name, s->url);
            assert_int_equal(strncmp(s->url + 7, dir, strlen(dir)), 0);
            nfile++;
        } else {
            assert_int_equal(strncmp(s->url, "https://", 8), 0);
            nhttp++;
        }
    }
    assert_true(nfile >= 2);
    assert_true(nhttp >= 3);
    free(dir);
    es_config_free(cfg);
}

/* An installed copy (the file and its samples/ in another folder) reads
 * its samples from there, not from the source tree. */
static void test_shipped_installed_elsewhere(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/es_test_install_XXXXXX";
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    char *cmd = es_xasprintf("cp -R '%s/config/earshot.conf' "
                             "'%s/config/samples' '%s/'",
                             ES_SOURCE_DIR, ES_SOURCE_DIR, dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);

    char *path = es_xasprintf("%s/earshot.conf", dir);
    struct es_config *cfg = NULL;
    if (es_config_load(&cfg, path) != 0)
        fail_msg("%s", es_error_last());
    char *real = realpath(dir, NULL);
    assert_non_null(real);
    char *prefix = es_xasprintf("file://%s/samples/", real);
    size_t nfile = 0;
    for (size_t i = 0; i < es_config_source_count(cfg); i++) {
        const char *url = es_config_source_at(cfg, i)->url;
        if (strncmp(url, "file:", 5) != 0)
            continue;
        assert_int_equal(strncmp(url, prefix, strlen(prefix)), 0);
        struct stat st;
        assert_int_equal(stat(url + 7, &st), 0);
        nfile++;
    }
    assert_true(nfile >= 2);
    es_config_free(cfg);

    cmd = es_xasprintf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(prefix);
    free(real);
    free(path);
}

/* True when @text has a line that, after an optional comment mark and
 * blanks, reads `KEY = ...` (and `KEY = DEF` when @def is not NULL). */
static int documents(const char *text, const char *key, const char *def)
{
    for (const char *line = text; line && *line;) {
        const char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == ';')
            p++;
        while (*p == ' ' || *p == '\t')
            p++;
        size_t n = strlen(key);
        if (strncmp(p, key, n) == 0 && strncmp(p + n, " = ", 3) == 0) {
            const char *v = p + n + 3;
            size_t vlen = strcspn(v, "\n");
            if (!def || (strlen(def) == vlen && strncmp(v, def, vlen) == 0))
                return 1;
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return 0;
}

/* True when @text documents @key with a value of the form ${NAME}. */
static int documents_from_env(const char *text, const char *key)
{
    size_t n = strlen(key);
    for (const char *p = strstr(text, key); p; p = strstr(p + 1, key)) {
        if (p > text && p[-1] != ' ' && p[-1] != '#' && p[-1] != '\n')
            continue;
        if (strncmp(p + n, " = ${", 5) != 0)
            continue;
        const char *v = p + n + 5;
        size_t len = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
        if (len > 0 && v[len] == '}')
            return 1;
    }
    return 0;
}

static void test_shipped_documents_every_key(void **state)
{
    (void)state;
    char *text = slurp(SHIPPED);
    struct es_config__keyinfo k;
    size_t n = 0;
    for (size_t i = 0; es_config__key_info(i, &k) == 0; i++, n++) {
        if (!documents(text, k.name, NULL))
            fail_msg("config/earshot.conf does not document '%s' of [%s]",
                     k.name, k.section);
        /* Settings of [earshot] and [http] show their default the way
         * redis.conf does: `# key = default`. */
        if (!k.named && k.def && !documents(text, k.name, k.def))
            fail_msg("config/earshot.conf: no '%s = %s' for [%s]", k.name,
                     k.def, k.section);
        /* A secret is shown coming from the environment, never inline. */
        if (k.secret && !documents_from_env(text, k.name))
            fail_msg("config/earshot.conf: show '%s = ${SOME_VARIABLE}'",
                     k.name);
    }
    assert_true(n >= 16);
    assert_int_equal(es_config__key_info(n, &k), ES_ENOTFOUND);
    free(text);
}

/* ==== Robustness ==== */

/* Mutates a valid file byte by byte: any result is fine but a crash (the
 * sanitizer build turns leaks and overflows into failures). */
static void test_mutations(void **state)
{
    (void)state;
    static const char seed[] = "[earshot]\n"
                               "database = x.db\n"
                               "[http]\n"
                               "timeout = 3m\n"
                               "[source \"a\\\"b\"]\n"
                               "  type = rss ; c\n"
                               "  url = file:s/${HOME}/$$x.xml\n"
                               "  enabled = no\n";
    static const char alphabet[] = "[]\"\\=;#$ {}\n\r\t\x01\xc3\xff"
                                   "aZ09kMsmh:/.";
    unsigned long rnd = 12345;
    char buf[sizeof(seed)];
    int ok = 0, bad = 0;
    for (int iter = 0; iter < 4000; iter++) {
        memcpy(buf, seed, sizeof(seed));
        int edits = 1 + iter % 4;
        for (int e = 0; e < edits; e++) {
            rnd = rnd * 6364136223846793005UL + 1442695040888963407UL;
            size_t at = (rnd >> 33) % (sizeof(seed) - 1);
            buf[at] = alphabet[(rnd >> 13) % (sizeof(alphabet) - 1)];
        }
        struct es_config *cfg = NULL;
        int rc = es_config_load_string(&cfg, buf, "fuzz.conf");
        if (rc == 0) {
            assert_non_null(cfg);
            ok++;
        } else {
            assert_null(cfg);
            /* Every failure explains itself with a location. */
            assert_int_equal(strncmp(es_error_last(), "fuzz.conf:", 10), 0);
            bad++;
        }
        es_config_free(cfg);
    }
    assert_true(ok > 0);
    assert_true(bad > 0);
}

/* The platform examples of the shipped file, uncommented, load and open
 * through their kinds: the documentation cannot drift from the code. */
static void test_shipped_platform_examples_open(void **state)
{
    (void)state;
    char *text = slurp(SHIPPED);
    struct es_buf b = ES_BUF_INIT;
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) + 1 : strlen(line);
        if (n >= 2 && line[0] == '#' && line[1] == ';')
            es_buf_add(&b, line + 2, n - 2);
        else
            es_buf_add(&b, line, n);
        line += n;
    }
    static const char *const vars[] = { "MASTODON_TOKEN",
                                        "BLUESKY_APP_PASSWORD",
                                        "X_BEARER_TOKEN", "YOUTUBE_API_KEY",
                                        "GITHUB_TOKEN" };
    for (size_t i = 0; i < sizeof(vars) / sizeof(*vars); i++)
        setenv(vars[i], "secret-value-for-test", 1);
    /* token_file paths are relative to the file: give the example one. */
    char dir[] = "/tmp/es-conf-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *conf = es_xasprintf("%s/earshot.conf", dir);
    char *sec = es_xasprintf("%s/secrets", dir);
    char *tok = es_xasprintf("%s/googleplay.token", sec);
    assert_int_equal(mkdir(sec, 0700), 0);
    FILE *f = fopen(tok, "w");
    fputs("ya29.token\n", f);
    fclose(f);
    f = fopen(conf, "w");
    fputs(b.ptr, f);
    fclose(f);

    struct es_config *cfg;
    if (es_config_load(&cfg, conf) != 0)
        fail_msg("%s", es_error_last());
    size_t platforms = 0;
    for (size_t i = 0; i < es_config_source_count(cfg); i++) {
        const struct es_config_source *cs = es_config_source_at(cfg, i);
        struct es_source *src;
        if (es_source_open(&src, cs) != 0)
            fail_msg("[source \"%s\"]: %s", cs->name, es_error_last());
        assert_null(strstr(es_error_last(), "secret-value-for-test"));
        if (strcmp(cs->type, "rss") != 0 && strcmp(cs->type, "atom") != 0)
            platforms++;
        es_source_free(src);
    }
    assert_int_equal(platforms, 10);
    es_config_free(cfg);
    for (size_t i = 0; i < sizeof(vars) / sizeof(*vars); i++)
        unsetenv(vars[i]);
    unlink(tok);
    unlink(conf);
    rmdir(sec);
    rmdir(dir);
    free(tok);
    free(sec);
    free(conf);
    es_buf_release(&b);
    free(text);
}

/* A malformed listening query stops the source with file:line and the
 * column of the problem; a good one opens. */
static void test_source_query_errors(void **state)
{
    (void)state;
    struct es_config *cfg;
    const char *text = "[source \"hn\"]\n"
                       "type = hackernews\n"
                       "query = (acme OR \"acme cloud) -job\n";
    assert_int_equal(es_config_load_string(&cfg, text, "q.conf"), 0);
    struct es_source *src = NULL;
    assert_int_equal(es_source_open(&src, es_config_source_at(cfg, 0)),
                     ES_EINVALID);
    assert_null(src);
    assert_non_null(strstr(es_error_last(), "q.conf:3:"));
    assert_non_null(strstr(es_error_last(), "column"));
    es_config_free(cfg);

    text = "[source \"hn\"]\ntype = hackernews\nquery = acme OR\n";
    assert_int_equal(es_config_load_string(&cfg, text, "q.conf"), 0);
    assert_int_equal(es_source_open(&src, es_config_source_at(cfg, 0)),
                     ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "q.conf:3:"));
    es_config_free(cfg);

    text = "[source \"hn\"]\ntype = hackernews\n"
           "query = (acme OR \"acme cloud\") -job\n";
    assert_int_equal(es_config_load_string(&cfg, text, "q.conf"), 0);
    assert_int_equal(es_source_open(&src, es_config_source_at(cfg, 0)), 0);
    es_source_free(src);
    es_config_free(cfg);
}

/* [account], [view], [sla] and [helpdesk]: read through the same lists as
 * sources; required keys and bad values name file:line. */
static void test_other_sections(void **state)
{
    (void)state;
    struct es_config *cfg;
    const char *text =
        "[earshot]\nagent = dana\nclaim_ttl = 5m\n"
        "[account \"m\"]\ntype = mastodon\n"
        "base_url = https://m.example\ntoken = s3cret\n"
        "[account \"b\"]\ntype = bluesky\nhandle = acme.bsky.social\n"
        "[view \"angry\"]\nlabel = negative\nlimit = 20\n"
        "[sla]\nfirst_response = 2h\n"
        "[helpdesk]\nwebhook_url = https://hd.example/hook\n";
    if (es_config_load_string(&cfg, text, "t.conf") != 0)
        fail_msg("%s", es_error_last());
    assert_string_equal(es_config_agent(cfg), "dana");
    assert_int_equal(es_config_claim_ttl(cfg), 300);
    assert_int_equal(es_config_section_count(cfg, "account"), 2);
    const struct es_config_source *a =
        es_config_section_find(cfg, "account", "m");
    assert_non_null(a);
    assert_string_equal(a->type, "mastodon");
    assert_int_equal(a->line, 4);
    assert_string_equal(es_config_source_get(a, "token"), "s3cret");
    assert_string_equal(es_config_section_at(cfg, "account", 1)->name, "b");
    const struct es_config_source *v =
        es_config_section_find(cfg, "view", "angry");
    assert_string_equal(es_config_source_get(v, "label"), "negative");
    assert_string_equal(es_config_source_get(v, "limit"), "20");
    assert_int_equal(es_config_section_count(cfg, "sla"), 1);
    assert_string_equal(
        es_config_source_get(es_config_section_at(cfg, "sla", 0),
                             "first_response"),
        "2h");
    assert_non_null(es_config_section_at(cfg, "helpdesk", 0));
    assert_null(es_config_section_find(cfg, "account", "nope"));
    assert_int_equal(es_config_section_count(cfg, "source"), 0);
    es_config_free(cfg);

    /* Defaults when unset. */
    assert_int_equal(es_config_load_string(&cfg, "", "e.conf"), 0);
    assert_null(es_config_agent(cfg));
    assert_int_equal(es_config_claim_ttl(cfg), 600);
    assert_int_equal(es_config_section_count(cfg, "sla"), 0);
    es_config_free(cfg);

    /* An account without type; a bad view limit; an unknown key. */
    assert_int_equal(es_config_load_string(
                         &cfg, "[account \"m\"]\ntoken = s3cret\n", "t.conf"),
                     ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "t.conf:1:"));
    assert_non_null(strstr(es_error_last(), "type"));
    assert_null(strstr(es_error_last(), "s3cret"));
    assert_int_equal(
        es_config_load_string(&cfg, "[view \"v\"]\nlimit = 0\n", "t.conf"),
        ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "t.conf:2:"));
    assert_int_equal(
        es_config_load_string(&cfg, "[sla]\nfirst = 2h\n", "t.conf"),
        ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "t.conf:2:"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_new),
        cmocka_unit_test(test_defaults_loaded),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_syntax_variants),
        cmocka_unit_test(test_suffixes),
        cmocka_unit_test(test_booleans),
        cmocka_unit_test(test_error_unknown_key),
        cmocka_unit_test(test_error_sections),
        cmocka_unit_test(test_error_sources),
        cmocka_unit_test(test_error_values),
        cmocka_unit_test(test_error_long_line),
        cmocka_unit_test(test_error_missing_file),
        cmocka_unit_test(test_error_nul_byte),
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_secrets_not_in_messages),
        cmocka_unit_test(test_scoring_defaults),
        cmocka_unit_test(test_scoring_keys),
        cmocka_unit_test(test_scoring_errors),
        cmocka_unit_test(test_cue_phrases),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_fixture_file),
        cmocka_unit_test(test_shipped_parses),
        cmocka_unit_test(test_shipped_installed_elsewhere),
        cmocka_unit_test(test_shipped_documents_every_key),
        cmocka_unit_test(test_shipped_platform_examples_open),
        cmocka_unit_test(test_source_query_errors),
        cmocka_unit_test(test_other_sections),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
