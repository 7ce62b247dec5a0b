/* query.h - the listening query language shared by every source
 *
 * Each source's `query =` says which mentions a team wants, in the syntax
 * people already type into X, Reddit or GitHub search:
 *
 *     (acme OR acmecloud) AND (outage OR down OR "not working") NOT hiring
 *     #acme -giveaway -job
 *     "acme app" refund*
 *
 * A query is compiled once (es_query_parse), then applied to every
 * collected item after parsing (es_query_match), and rendered for the
 * platform's own search where it has one (es_query_render), so the
 * platform returns fewer items and the local filter has the last word.
 *
 * Syntax
 * - Terms are separated by whitespace; `(`, `)` and `"` end a term.
 * - "quoted phrase": its words in order. Inside quotes nothing is an
 *   operator. An empty phrase is an error.
 * - AND, OR, NOT are operators only in upper case; "and", "or", "not"
 *   are ordinary terms (as in X and Reddit search). To search for the word
 *   AND itself, quote it: "AND".
 * - Adjacent terms are joined by an implicit AND.
 * - A leading `-` negates the term, phrase or group it touches: -job,
 *   -"for sale", -(giveaway OR contest). A lone `-` is an error.
 * - Precedence: NOT and `-` bind tightest, then AND, then OR; parentheses
 *   group. NOT NOT x is x.
 * - term* is a prefix term (refund* matches refund, refunds, refunded).
 *   `*` anywhere else, or after something other than a letter or digit,
 *   is an error.
 * - A query made only of negations is allowed: it matches every item that
 *   lacks them (useful on a source that is already narrow, such as a
 *   feed). An empty query (NULL, "" or only whitespace) matches every item.
 *
 * Matching
 * - Text and query are case-folded and NFC-normalised with utf8proc, so
 *   "CAFÉ", "Café" and "cafe\u0301" are alike. Default-ignorable characters
 *   (soft hyphen, zero-width space and joiner) are dropped, typographic
 *   apostrophes (U+2018, U+2019, U+02BC) read as ' and the hyphens U+2010
 *   and U+2011 as -. NFKC is not used: it would turn "Acme™" into "acmetm".
 * - Word characters are letters, marks, digits and connector punctuation
 *   (`_`), by Unicode category. At each end of a term that is a word
 *   character, the text must have a word boundary: acme matches "Acme's",
 *   "ACME!", "acme-cloud", "#acme", "@acme", "acme.com", not "acmecorp",
 *   "acme2" or "acme_hq". So ' and - inside a word split it: don't matches
 *   "don't" and "don’t" literally, e-mail matches "e-mail" but not "email".
 * - Wide (CJK) letters never form a boundary, and an end of a term that is
 *   not a word character (emoji, C++, 5%) needs none, so a term written in
 *   Chinese, Japanese or Korean, or one without any word character, is a
 *   plain substring match: 東京 matches "東京タワー", 🔥 matches "🔥🔥".
 *   NEEDSWORK: Thai, Lao, Khmer and Myanmar text has no spaces either, but
 *   its letters are not wide, so a term there matches only a whole run.
 * - A term starting with #, @ or $ matches only that hashtag, handle or
 *   cashtag, with a boundary before the sigil: #acme does not match plain
 *   "acme" or "#acmecloud", @acme does not match "support@acme.com" but
 *   does match "@acme.bsky.social".
 * - A phrase matches its whitespace-separated words in order, each word
 *   with the term rules above, with only non-word characters between them
 *   in the text (spaces, newlines, punctuation, emoji): "acme app" matches
 *   "ACME App", "acme\napp" and "acme - app". Punctuation written in the
 *   query is matched as written: "acme, inc" needs the comma.
 * - An item is given as several text fields (title, text, author...); a
 *   term or phrase matches when it occurs in any one field (a phrase never
 *   spans two), and the operators combine those results.
 *
 * Threads: a compiled query is immutable; any number of threads may match,
 * render and read it at once.
 */
#ifndef EARSHOT_QUERY_H
#define EARSHOT_QUERY_H

#include <stddef.h>

#define ES_QUERY_MAX_LEN          4096 /* bytes of query text */
#define ES_QUERY_MAX_DEPTH        32   /* levels of nested parentheses */
#define ES_QUERY_MAX_ALTERNATIVES 256  /* es_query_alternatives() cap */

enum es_query_style {
    /* X/Twitter, Reddit, GitHub: space is AND, OR, -term, -"phrase",
     * -(group), parentheses and quotes. */
    ES_QUERY_STYLE_BOOLEAN = 0,
    /* Mastodon, Bluesky, Hacker News (Algolia): keywords all required,
     * "phrases" quoted, no operators. */
    ES_QUERY_STYLE_PLAIN,
};

struct es_query;

/* Compiles @text (NULL means ""). Returns 0 and sets *out to a query the
 * caller frees with es_query_free(); an empty query is a real query that
 * matches everything, never NULL. On a malformed query returns ES_EINVALID,
 * sets *out to NULL, and writes the problem and its 1-based byte column to
 * @err (when @err is not NULL and @errsize > 0; truncated to fit) and to
 * es_error_last(), for example "unterminated quote starting at column 7"
 * or "missing term after 'OR' at column 6". The message names no file or
 * line: the config layer prefixes them. Errors: invalid UTF-8, more than
 * ES_QUERY_MAX_LEN bytes, parentheses nested deeper than
 * ES_QUERY_MAX_DEPTH, unmatched ( or ), unterminated quote, empty group
 * "()", empty phrase or term, an operator or - without its operand, a
 * misplaced *. */
int es_query_parse(struct es_query **out, const char *text, char *err,
                   size_t errsize);

/* Frees @q; NULL is a no-op. */
void es_query_free(struct es_query *q);

/* Returns a borrowed pointer to the text @q was compiled from ("" for
 * NULL), valid until es_query_free(). */
const char *es_query_text(const struct es_query *q);

/* Returns 1 when the item whose text fields are @fields matches @q, else 0.
 * NULL entries in @fields are skipped; @fields may be NULL when @nfields
 * is 0. Invalid UTF-8 in a field is read as U+FFFD. The fields are folded
 * once per call into one buffer (a field over 1023 code points with
 * non-ASCII text costs one more allocation), then each term is found with
 * strstr() and boundary checks: no allocation per term. */
int es_query_match(const struct es_query *q, const char *const *fields,
                   size_t nfields);

/* Renders @q for a platform's own search in @style. The rendering is
 * never narrower than @q, so nothing the local filter would keep is lost;
 * the collector still runs es_query_match() on every item:
 * - a prefix term cannot be pushed: where it must match it is left out
 *   (the query "acme app" refund* searches "acme app" and the filter
 *   narrows), where it must not match its stem is excluded (-refund*
 *   becomes -refund);
 * - ES_QUERY_STYLE_PLAIN has no negation: negations are left out; it has
 *   no OR either: the terms every match must contain (the top-level AND)
 *   are rendered, and an OR elsewhere is left out: acme (outage OR down)
 *   renders acme.
 * Returns a string the caller frees with free(): "" when nothing can be
 * pushed because every item may match (empty query, only negations, a
 * lone prefix term), so the collector fetches broadly; or NULL (PLAIN
 * only) when the query is an OR with no term common to every alternative,
 * so one plain search cannot express it: the collector fetches broadly or
 * issues one search per es_query_alternatives() entry. Terms keep the case
 * they were written in; phrases are quoted with their whitespace
 * collapsed. */
char *es_query_render(const struct es_query *q, enum es_query_style style);

/* Expands @q into plain searches (ES_QUERY_STYLE_PLAIN strings) whose
 * results together cover every item @q matches: the query in disjunctive
 * form, with negations and prefix terms left out and alternatives that a
 * broader one covers removed. (acme OR acmecloud) (outage OR down) gives
 * four; "acme app" OR @acmehq gives two; acme -job gives one, "acme".
 * Returns 0 and sets *out to a NULL-terminated array of at least one
 * string, which the caller frees with es_query_alternatives_free(); a
 * single "" means no search narrows anything (see es_query_render()).
 * Returns ES_ETOOBIG, with *out NULL and a message, when more than @max
 * searches would be needed (@max is at most ES_QUERY_MAX_ALTERNATIVES, so
 * a hostile query cannot make the expansion explode); the collector then
 * fetches broadly. */
int es_query_alternatives(const struct es_query *q, size_t max, char ***out);

/* Frees an array from es_query_alternatives(); NULL is a no-op. */
void es_query_alternatives_free(char **alts);

#endif
