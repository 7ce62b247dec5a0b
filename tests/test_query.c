/* test_query.c - the listening query language
 *
 * Every source filters with es_query_match() and pushes es_query_render()
 * into platform search, so the grammar, every error message a user will
 * see in front of file:line, the matching rules (boundaries, folding,
 * hashtags, phrases, CJK) and the renderings are pinned down here. The
 * parse tree is observed through the BOOLEAN rendering, which brackets
 * every composite child.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka.h uses jmp_buf, va_list and size_t without including them. */
#include <cmocka.h>

#include "earshot/alloc.h"
#include "earshot/buf.h"
#include "earshot/error.h"
#include "earshot/query.h"

/* ==== Helpers ==== */

static struct es_query *parse_ok(const char *text)
{
    struct es_query *q = NULL;
    char err[256];
    int rc = es_query_parse(&q, text, err, sizeof(err));
    if (rc != 0)
        fail_msg("query '%s' should parse: %s", text ? text : "(null)", err);
    assert_non_null(q);
    return q;
}

static void expect_error(const char *text, const char *msg)
{
    struct es_query *q = (struct es_query *)1;
    char err[256] = "stale";
    int rc = es_query_parse(&q, text, err, sizeof(err));
    if (rc != ES_EINVALID)
        fail_msg("query '%s' should fail with '%s', got %d", text, msg, rc);
    assert_null(q);
    assert_string_equal(err, msg);
    assert_string_equal(es_error_last(), msg);
}

/* One field. */
static int matches(const char *query, const char *text)
{
    struct es_query *q = parse_ok(query);
    const char *fields[] = { text };
    int r = es_query_match(q, fields, 1);
    es_query_free(q);
    return r;
}

#define MATCH(query, text)   assert_true(matches(query, text))
#define NOMATCH(query, text) assert_false(matches(query, text))

static void expect_render(const char *query, enum es_query_style style,
                          const char *want)
{
    struct es_query *q = parse_ok(query);
    char *got = es_query_render(q, style);
    if (!want && got)
        fail_msg("render '%s': want NULL, got '%s'", query, got);
    if (want && !got)
        fail_msg("render '%s': want '%s', got NULL", query, want);
    if (want && strcmp(want, got) != 0)
        fail_msg("render '%s': want '%s', got '%s'", query, want, got);
    free(got);
    es_query_free(q);
}

#define BOOL(query, want)  expect_render(query, ES_QUERY_STYLE_BOOLEAN, want)
#define PLAIN(query, want) expect_render(query, ES_QUERY_STYLE_PLAIN, want)

/* @want: the expected alternatives, NULL-terminated. */
static void expect_alternatives(const char *query, size_t max,
                                const char *const *want)
{
    struct es_query *q = parse_ok(query);
    char **alts = NULL;
    size_t i;
    assert_int_equal(es_query_alternatives(q, max, &alts), 0);
    assert_non_null(alts);
    for (i = 0; want[i]; i++) {
        if (!alts[i])
            fail_msg("'%s': alternative %zu missing, want '%s'", query, i,
                     want[i]);
        assert_string_equal(alts[i], want[i]);
    }
    if (alts[i])
        fail_msg("'%s': unexpected alternative '%s'", query, alts[i]);
    es_query_alternatives_free(alts);
    es_query_free(q);
}

/* ==== Parsing: structure, seen through the BOOLEAN rendering ==== */

static void test_parse_precedence_and_implicit_and(void **state)
{
    (void)state;
    BOOL("a b OR c", "(a b) OR c");
    BOOL("a OR b c", "a OR (b c)");
    BOOL("a AND b OR c AND d", "(a b) OR (c d)");
    BOOL("a AND b", "a b");
    BOOL("(a b) c", "a b c");
    BOOL("(a OR b) OR c", "a OR b OR c");
    /* Implicit AND also binds what touches a bracket or a quote. */
    BOOL("acme(x OR y)\"z w\"", "acme (x OR y) \"z w\"");
}

static void test_parse_not_binds_tightest(void **state)
{
    (void)state;
    BOOL("NOT a b", "-a b");
    BOOL("acme NOT hiring", "acme -hiring");
    BOOL("a OR NOT b c", "a OR (-b c)");
    BOOL("-(a OR b) c", "-(a OR b) c");
    BOOL("-\"for sale\" acme", "-\"for sale\" acme");
    BOOL("NOT NOT a", "a");
    BOOL("-(-a)", "a");
    BOOL("--a", "a");
    BOOL("NOT (a b)", "-(a b)");
}

static void test_parse_nested_parens(void **state)
{
    (void)state;
    BOOL("((a OR (b c)) d)", "(a OR (b c)) d");
    BOOL("(((a)))", "a");
    BOOL("(a OR (b OR (c d)))", "a OR b OR (c d)");
}

static void test_parse_lowercase_operators_are_terms(void **state)
{
    (void)state;
    BOOL("salt and pepper or not", "salt and pepper or not");
    BOOL("acme Or b", "acme Or b");
    MATCH("salt and pepper", "Salt AND pepper");
    NOMATCH("salt and pepper", "salt & pepper");
    NOMATCH("acme Or b", "acme b");
    MATCH("acme Or b", "acme or b");
    /* Quoted, or after a dash, an operator word is a term. */
    MATCH("\"AND\"", "this and that");
    BOOL("acme -AND", "acme -AND");
    NOMATCH("acme -AND", "acme and more");
}

static void test_parse_empty_query_matches_everything(void **state)
{
    (void)state;
    const char *inputs[] = { NULL, "", "   ", " \t\r\n ", "\xC2\xA0" };
    for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        struct es_query *q = parse_ok(inputs[i]);
        const char *fields[] = { "anything" };
        assert_true(es_query_match(q, fields, 1));
        assert_true(es_query_match(q, NULL, 0));
        char *r = es_query_render(q, ES_QUERY_STYLE_BOOLEAN);
        assert_string_equal(r, "");
        free(r);
        r = es_query_render(q, ES_QUERY_STYLE_PLAIN);
        assert_string_equal(r, "");
        free(r);
        es_query_free(q);
    }
}

static void test_parse_negations_only(void **state)
{
    (void)state;
    MATCH("-giveaway -job", "acme news");
    NOMATCH("-giveaway -job", "Acme GIVEAWAY!");
    NOMATCH("-giveaway -job", "new job at acme");
    BOOL("-giveaway -job", "-giveaway -job");
    PLAIN("-giveaway -job", "");

    struct es_query *q = parse_ok("NOT spam");
    assert_true(es_query_match(q, NULL, 0)); /* nothing there to exclude */
    es_query_free(q);
}

static void test_parse_phrase_whitespace_collapsed(void **state)
{
    (void)state;
    BOOL("\"  ACME \t app\n \"", "\"ACME app\"");
    BOOL("Acme \"a (b) OR c\"", "Acme \"a (b) OR c\"");
    MATCH("\"a (b) OR c\"", "A (B) or c");
}

static void test_parse_deep_negation_runs(void **state)
{
    (void)state;
    struct es_buf b = ES_BUF_INIT;
    for (int i = 0; i < 500; i++)
        es_buf_adds(&b, "NOT ");
    es_buf_adds(&b, "acme");
    BOOL(b.ptr, "acme");
    es_buf_reset(&b);
    for (int i = 0; i < 1001; i++)
        es_buf_addch(&b, '-');
    es_buf_adds(&b, "acme");
    BOOL(b.ptr, "-acme");
    es_buf_release(&b);
}

static void test_query_text_is_kept(void **state)
{
    (void)state;
    struct es_query *q = parse_ok("  #acme -job ");
    assert_string_equal(es_query_text(q), "  #acme -job ");
    es_query_free(q);
    q = parse_ok(NULL);
    assert_string_equal(es_query_text(q), "");
    es_query_free(q);
}

/* ==== Errors ==== */

static void test_error_unterminated_quote(void **state)
{
    (void)state;
    expect_error("acme \"corp", "unterminated quote starting at column 6");
    expect_error("\"acme\" \"corp", "unterminated quote starting at column 8");
    expect_error("\"", "unterminated quote starting at column 1");
}

static void test_error_unbalanced_parens(void **state)
{
    (void)state;
    expect_error("(acme OR corp", "unmatched '(' at column 1");
    expect_error("((a) OR b", "unmatched '(' at column 1");
    expect_error("a (b (c)", "unmatched '(' at column 3");
    expect_error("acme)", "unmatched ')' at column 5");
    expect_error("(a) b)", "unmatched ')' at column 6");
    expect_error(")", "unmatched ')' at column 1");
    expect_error("(", "unmatched '(' at column 1");
}

static void test_error_missing_operand(void **state)
{
    (void)state;
    expect_error("acme OR", "missing term after 'OR' at column 6");
    expect_error("AND acme", "missing term before 'AND' at column 1");
    expect_error("OR acme", "missing term before 'OR' at column 1");
    expect_error("acme AND", "missing term after 'AND' at column 6");
    expect_error("acme NOT", "missing term after 'NOT' at column 6");
    expect_error("NOT", "missing term after 'NOT' at column 1");
    expect_error("acme OR OR b", "missing term after 'OR' at column 6");
    expect_error("acme AND OR b", "missing term after 'AND' at column 6");
    expect_error("(acme OR)", "missing term after 'OR' at column 7");
    expect_error("(OR a)", "missing term before 'OR' at column 2");
    expect_error("acme NOT )", "missing term after 'NOT' at column 6");
    expect_error("acme -", "missing term after '-' at column 6");
    expect_error("acme - job", "missing term after '-' at column 6");
    expect_error("(-)", "missing term after '-' at column 2");
}

static void test_error_empty_group_phrase_term(void **state)
{
    (void)state;
    expect_error("acme ()", "empty group at column 6");
    expect_error("( )", "empty group at column 1");
    expect_error("\"\"", "empty phrase at column 1");
    expect_error("acme \" \t \"", "empty phrase at column 6");
    /* A zero-width space is a term character, but folds to nothing. */
    expect_error("acme \xE2\x80\x8B", "empty term at column 6");
}

static void test_error_misplaced_star(void **state)
{
    (void)state;
    expect_error("ref*nd", "misplaced '*' at column 4");
    expect_error("*", "misplaced '*' at column 1");
    expect_error("acme *", "misplaced '*' at column 6");
    expect_error("acme #*", "misplaced '*' at column 7");
    expect_error("refund**", "misplaced '*' at column 7");
    /* Inside quotes a star is text. */
    MATCH("\"5*\"", "rated 5* by users");
}

static void test_error_invalid_utf8(void **state)
{
    (void)state;
    expect_error("caf\xC3", "invalid UTF-8 at column 4");
    expect_error("a \xFF b", "invalid UTF-8 at column 3");
    expect_error("\xC0\xAF", "invalid UTF-8 at column 1"); /* overlong */
}

static void test_error_buffer_optional_and_truncated(void **state)
{
    (void)state;
    struct es_query *q = NULL;
    char small[10];

    es_error_clear();
    assert_int_equal(es_query_parse(&q, "(acme", NULL, 0), ES_EINVALID);
    assert_null(q);
    assert_string_equal(es_error_last(), "unmatched '(' at column 1");

    assert_int_equal(es_query_parse(&q, "x \"y", small, sizeof(small)),
                     ES_EINVALID);
    assert_string_equal(small, "untermina");
    assert_string_equal(es_error_last(),
                        "unterminated quote starting at column 3");
}

static void test_limit_length(void **state)
{
    (void)state;
    char *text = es_xmalloc(ES_QUERY_MAX_LEN + 2);
    for (size_t i = 0; i < ES_QUERY_MAX_LEN; i += 2)
        memcpy(text + i, "a ", 2);
    text[ES_QUERY_MAX_LEN] = '\0';
    struct es_query *q = parse_ok(text); /* exactly the limit */
    es_query_free(q);
    text[ES_QUERY_MAX_LEN] = 'b';
    text[ES_QUERY_MAX_LEN + 1] = '\0';
    expect_error(text, "query is too long (4097 bytes, the limit is 4096)");
    free(text);
}

static void test_limit_depth(void **state)
{
    (void)state;
    struct es_buf b = ES_BUF_INIT;
    for (int i = 0; i < ES_QUERY_MAX_DEPTH; i++)
        es_buf_addch(&b, '(');
    es_buf_adds(&b, "acme");
    for (int i = 0; i < ES_QUERY_MAX_DEPTH; i++)
        es_buf_addch(&b, ')');
    BOOL(b.ptr, "acme");

    es_buf_reset(&b);
    for (int i = 0; i < ES_QUERY_MAX_DEPTH + 1; i++)
        es_buf_addch(&b, '(');
    es_buf_adds(&b, "acme");
    for (int i = 0; i < ES_QUERY_MAX_DEPTH + 1; i++)
        es_buf_addch(&b, ')');
    expect_error(b.ptr,
                 "parentheses nested deeper than 32 levels at column 33");

    /* Depth counts open brackets, not brackets seen: siblings are fine. */
    es_buf_reset(&b);
    for (int i = 0; i < 40; i++)
        es_buf_adds(&b, "(a) ");
    struct es_query *q = parse_ok(b.ptr);
    es_query_free(q);
    es_buf_release(&b);
}

/* ==== Matching ==== */

static void test_match_word_boundaries(void **state)
{
    (void)state;
    MATCH("acme", "Acme's new app");
    MATCH("acme", "I love ACME!");
    MATCH("acme", "#acme");
    MATCH("acme", "cc @acme");
    MATCH("acme", "acme-cloud is down");
    MATCH("acme", "see https://acme.com/status");
    MATCH("acme", "acme");
    NOMATCH("acme", "acmecorp");
    NOMATCH("acme", "theacme");
    NOMATCH("acme", "acme2");
    NOMATCH("acme", "@acme_hq");
    NOMATCH("acme", "acm e");
    /* A digit term, and a term that ends in a symbol (no boundary). */
    MATCH("2024", "in 2024.");
    NOMATCH("2024", "20245");
    MATCH("c++", "I write C++, daily");
}

static void test_match_case_folding_non_ascii(void **state)
{
    (void)state;
    MATCH("Café", "CAFÉ OPEN");
    MATCH("Café", "le café.");
    MATCH("Café", "CAFE\xCC\x81 noir"); /* E + combining acute */
    MATCH("cafe\xCC\x81", "Café");      /* decomposed query */
    NOMATCH("Café", "cafe");
    NOMATCH("Café", "cafés");
    MATCH("straße", "STRASSE");
    MATCH("ÆRØ", "ærø er smuk");
    MATCH("москва", "Привет, МОСКВА!");
    NOMATCH("москва", "москвариум");
}

static void test_match_hashtags_handles_cashtags(void **state)
{
    (void)state;
    MATCH("#acme", "love #Acme!");
    MATCH("#acme", "(#ACME)");
    NOMATCH("#acme", "love acme");
    NOMATCH("#acme", "#acmecloud");
    NOMATCH("#acme", "foo#acme");
    MATCH("@acmehq", "@AcmeHQ thanks");
    MATCH("@acmehq", "cc @acmehq.bsky.social");
    NOMATCH("@acmehq", "mail support@acmehq.com");
    NOMATCH("@acmehq", "@acmehq_support");
    NOMATCH("@acmehq", "acmehq");
    MATCH("$acme", "$ACME to the moon");
    NOMATCH("$acme", "acme stock");
}

static void test_match_prefix(void **state)
{
    (void)state;
    MATCH("refund*", "Refunds please");
    MATCH("refund*", "REFUNDED yesterday");
    MATCH("refund*", "refund");
    MATCH("refund*", "#refunds");
    NOMATCH("refund*", "prerefund");
    NOMATCH("refund*", "refun");
    MATCH("\"acme app\" refund*", "The Acme app refunded me");
    NOMATCH("\"acme app\" refund*", "The Acme app is fine");
}

static void test_match_phrases(void **state)
{
    (void)state;
    MATCH("\"acme app\"", "I use the ACME App daily");
    MATCH("\"acme app\"", "acme\n\napp");
    MATCH("\"acme app\"", "acme - app");
    MATCH("\"acme app\"", "Acme, app.");
    MATCH("\"acme app\"", "acme \xF0\x9F\x94\xA5 app"); /* emoji between */
    MATCH("\"acme app\"", "acme acme app");             /* second try */
    NOMATCH("\"acme app\"", "acme my app");
    NOMATCH("\"acme app\"", "acmeapp");
    NOMATCH("\"acme app\"", "app acme");
    NOMATCH("\"acme app\"", "acme apps");
    NOMATCH("\"acme app\"", "xacme app");
    /* A sigil inside a phrase is matched as written. */
    MATCH("\"love #acme\"", "I love #Acme");
    NOMATCH("\"love #acme\"", "I love acme");
    /* Punctuation written in the phrase is required. */
    MATCH("\"acme, inc\"", "ACME, Inc.");
    NOMATCH("\"acme, inc\"", "acme inc");
}

static void test_match_apostrophes_and_ignorables(void **state)
{
    (void)state;
    MATCH("don't", "I DON\xE2\x80\x99T like it"); /* U+2019 */
    NOMATCH("don't", "dont");
    MATCH("acme", "Acme\xE2\x80\x99s");
    MATCH("\"acme's app\"", "Acme\xE2\x80\x99s app");
    MATCH("e-mail", "send an e\xE2\x80\x91mail"); /* U+2011 */
    NOMATCH("e-mail", "email");
    MATCH("acme", "ac\xC2\xADme rocks");     /* soft hyphen */
    MATCH("acme", "ac\xE2\x80\x8Bme rocks"); /* zero-width space */
}

static void test_match_cjk_and_emoji_substring(void **state)
{
    (void)state;
    MATCH("東京", "東京タワー");
    MATCH("東京", "私は東京に行く");
    NOMATCH("東京", "京都");
    MATCH("\xF0\x9F\x94\xA5", "so \xF0\x9F\x94\xA5\xF0\x9F\x94\xA5");
    NOMATCH("\xF0\x9F\x94\xA5", "so cold");
    /* A wide neighbour is a boundary for a Latin term. */
    MATCH("acme", "acme株式会社");
    MATCH("\"東京 タワー\"", "東京タワーに");
}

static void test_match_operators_issue_example(void **state)
{
    (void)state;
    const char *q = "(acme OR acmecloud) AND (outage OR down OR \"not "
                    "working\") NOT hiring";
    MATCH(q, "Acme is down again");
    MATCH(q, "acmecloud: not working!!");
    MATCH(q, "AcmeCloud OUTAGE");
    NOMATCH(q, "Acme is hiring, site down");
    NOMATCH(q, "acme is great");
    NOMATCH(q, "cloud outage");
    MATCH("acme OR \"acme corp\" OR @acmehq", "thanks @ACMEHQ");
    MATCH("#acme -giveaway -job", "#acme rocks");
    NOMATCH("#acme -giveaway -job", "#acme giveaway");
}

static void test_match_fields(void **state)
{
    (void)state;
    struct es_query *q = parse_ok("acme AND outage");
    const char *split[] = { "Acme status", NULL, "major outage" };
    const char *one[] = { NULL, "no match here" };
    assert_true(es_query_match(q, split, 3));
    assert_false(es_query_match(q, one, 2));
    assert_false(es_query_match(q, NULL, 0));
    es_query_free(q);

    /* A phrase never spans two fields. */
    q = parse_ok("\"acme outage\"");
    const char *two[] = { "acme", "outage" };
    assert_false(es_query_match(q, two, 2));
    const char *both[] = { "x", "ACME outage" };
    assert_true(es_query_match(q, both, 2));
    es_query_free(q);
}

static void test_match_bad_and_long_text(void **state)
{
    (void)state;
    MATCH("acme", "\xFF acme \xC3");
    MATCH("café", "caf\xC3\xA9 \xFF");
    NOMATCH("acme", "\xFF\xFE");

    /* Longer than the fold's stack buffer: the heap path. */
    struct es_buf b = ES_BUF_INIT;
    for (int i = 0; i < 3000; i++)
        es_buf_adds(&b, "\xC3\x89 "); /* "É " */
    NOMATCH("café", b.ptr);
    es_buf_adds(&b, "CAFÉ");
    MATCH("café", b.ptr);
    MATCH("é", b.ptr);
    es_buf_release(&b);
}

/* ==== Rendering ==== */

static void test_render_boolean_issue_examples(void **state)
{
    (void)state;
    BOOL("acme OR \"acme corp\" OR @acmehq",
         "acme OR \"acme corp\" OR @acmehq");
    BOOL("(acme OR acmecloud) AND (outage OR down OR \"not working\") NOT "
         "hiring",
         "(acme OR acmecloud) (outage OR down OR \"not working\") -hiring");
    BOOL("#acme -giveaway -job", "#acme -giveaway -job");
    BOOL("\"acme app\" refund*", "\"acme app\"");
    BOOL("Acme \"ACME  Corp\"", "Acme \"ACME Corp\"");
    /* The words AND, OR and NOT as terms stay terms (found by fuzz_query:
     * "--NOT" rendered as NOT, which no platform reads as a word). */
    BOOL("--NOT", "\"NOT\"");
    BOOL("acme -\"OR\"", "acme -\"OR\"");
    BOOL("acme -OR", "acme -OR");
    PLAIN("acme \"AND\"", "acme \"AND\"");
}

static void test_render_boolean_prefix_never_narrows(void **state)
{
    (void)state;
    BOOL("acme -refund*", "acme -refund");
    BOOL("acme OR refund*", "");
    BOOL("refund*", "");
    BOOL("-(acme refund*)", "-(acme refund)");
    BOOL("acme (refund* OR x)", "acme");
    BOOL("-(acme -refund*)", "");
}

static void test_render_plain(void **state)
{
    (void)state;
    PLAIN("acme", "acme");
    PLAIN("a b c", "a b c");
    PLAIN("acme -job", "acme");
    PLAIN("#acme -giveaway -job", "#acme");
    PLAIN("\"acme app\" refund*", "\"acme app\"");
    PLAIN("acme (outage OR down)", "acme");
    PLAIN("Acme \"ACME  corp\" -(x OR y)", "Acme \"ACME corp\"");
    PLAIN("acme OR acmecloud", NULL);
    PLAIN("acme OR \"acme corp\" OR @acmehq", NULL);
    PLAIN("(a OR b) (c OR d)", NULL);
    PLAIN("-job", "");
    PLAIN("refund*", "");
    PLAIN("", "");
    /* An OR with a branch that may match anything is no constraint. */
    PLAIN("acme OR -job", "");
}

static void test_alternatives(void **state)
{
    (void)state;
    expect_alternatives("(acme OR acmecloud) (outage OR down)", 16,
                        (const char *const[]){ "acme outage", "acme down",
                                               "acmecloud outage",
                                               "acmecloud down", NULL });
    expect_alternatives("acme OR (acme outage)", 16,
                        (const char *const[]){ "acme", NULL });
    expect_alternatives("acme OR ACME", 16,
                        (const char *const[]){ "acme", NULL });
    expect_alternatives(
        "\"acme app\" OR @acmehq -spam", 16,
        (const char *const[]){ "\"acme app\"", "@acmehq", NULL });
    expect_alternatives("acme -job", 16, (const char *const[]){ "acme", NULL });
    expect_alternatives("acme OR refund*", 16,
                        (const char *const[]){ "", NULL });
    expect_alternatives("", 16, (const char *const[]){ "", NULL });
    expect_alternatives("(a OR b) (c OR d) (e OR f)", 8,
                        (const char *const[]){ "a c e", "a c f", "a d e",
                                               "a d f", "b c e", "b c f",
                                               "b d e", "b d f", NULL });
}

static void test_alternatives_too_many(void **state)
{
    (void)state;
    struct es_query *q = parse_ok("(a OR b) (c OR d) (e OR f)");
    char **alts = (char **)1;
    assert_int_equal(es_query_alternatives(q, 4, &alts), ES_ETOOBIG);
    assert_null(alts);
    assert_non_null(strstr(es_error_last(), "more than 4"));
    es_query_free(q);

    /* 2^40 alternatives: refused quickly whatever the caller's max. */
    struct es_buf b = ES_BUF_INIT;
    for (int i = 0; i < 40; i++)
        es_buf_addf(&b, "(a%d OR b%d) ", i, i);
    q = parse_ok(b.ptr);
    assert_int_equal(es_query_alternatives(q, (size_t)-1, &alts), ES_ETOOBIG);
    assert_null(alts);
    es_query_free(q);
    es_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_precedence_and_implicit_and),
        cmocka_unit_test(test_parse_not_binds_tightest),
        cmocka_unit_test(test_parse_nested_parens),
        cmocka_unit_test(test_parse_lowercase_operators_are_terms),
        cmocka_unit_test(test_parse_empty_query_matches_everything),
        cmocka_unit_test(test_parse_negations_only),
        cmocka_unit_test(test_parse_phrase_whitespace_collapsed),
        cmocka_unit_test(test_parse_deep_negation_runs),
        cmocka_unit_test(test_query_text_is_kept),
        cmocka_unit_test(test_error_unterminated_quote),
        cmocka_unit_test(test_error_unbalanced_parens),
        cmocka_unit_test(test_error_missing_operand),
        cmocka_unit_test(test_error_empty_group_phrase_term),
        cmocka_unit_test(test_error_misplaced_star),
        cmocka_unit_test(test_error_invalid_utf8),
        cmocka_unit_test(test_error_buffer_optional_and_truncated),
        cmocka_unit_test(test_limit_length),
        cmocka_unit_test(test_limit_depth),
        cmocka_unit_test(test_match_word_boundaries),
        cmocka_unit_test(test_match_case_folding_non_ascii),
        cmocka_unit_test(test_match_hashtags_handles_cashtags),
        cmocka_unit_test(test_match_prefix),
        cmocka_unit_test(test_match_phrases),
        cmocka_unit_test(test_match_apostrophes_and_ignorables),
        cmocka_unit_test(test_match_cjk_and_emoji_substring),
        cmocka_unit_test(test_match_operators_issue_example),
        cmocka_unit_test(test_match_fields),
        cmocka_unit_test(test_match_bad_and_long_text),
        cmocka_unit_test(test_render_boolean_issue_examples),
        cmocka_unit_test(test_render_boolean_prefix_never_narrows),
        cmocka_unit_test(test_render_plain),
        cmocka_unit_test(test_alternatives),
        cmocka_unit_test(test_alternatives_too_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
