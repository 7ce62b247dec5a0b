/* sentiment.h - lexicon-and-rules sentiment scoring (the VADER family)
 *
 * A struct es_lexicon maps lower-case terms (words, multi-word expressions,
 * emoticons, emoji) to valences on the -4..+4 scale. es_sentiment_score()
 * tokenises a UTF-8 text, looks every token up, applies the rules of
 * Hutto & Gilbert (ICWSM 2014) - boosters and dampeners, negation, "but",
 * ALL-CAPS, "!" and "?", idioms - and normalises the sum into [-1, 1].
 *
 * Text that is not English is recognised and scored from its emoji and
 * emoticons only, with low_confidence set: the English lexicon says
 * nothing true about a Spanish or Japanese post.
 *
 * Threads: a lexicon is immutable once es_lexicon_load() (and any
 * es_lexicon_overlay() calls) returned, so any number of threads may score
 * with it at the same time without locks.
 */
#ifndef EARSHOT_SENTIMENT_H
#define EARSHOT_SENTIMENT_H

#include <stddef.h>

struct es_lexicon;

/* The format es_lexicon_load() found in a file. */
enum es_lexicon_format {
    ES_LEXICON_EARSHOT = 0, /* term<TAB>valence, valence in [-4, 4] */
    ES_LEXICON_VADER = 1,   /* token<TAB>mean<TAB>sd<TAB>[ratings] */
    ES_LEXICON_AFINN = 2,   /* token<TAB>integer in [-5, 5], scaled by 0.8 */
};

/* Loads the lexicon at @path into *out. The format is told from the file:
 * four tab-separated fields on the first data line is VADER's; two fields
 * whose values are all integers and reach +-5 somewhere is AFINN's
 * (scaled by 0.8 onto -4..+4); anything else with two fields is
 * earshot's own, where a value beyond +-4 is an error. Lines starting with
 * '#' and blank lines are skipped (in every format). Terms are case-folded
 * and NFKC-normalised; a term with spaces is a multi-word expression ("no
 * problem", "still waiting"). Every lexicon also knows the rule words
 * (boosters, negations, "but") and a few default idioms that its own
 * entries override.
 *
 * Returns 0, ES_ENOTFOUND when @path cannot be opened, or ES_EINVALID for
 * a malformed line, with the message "FILE:LINE: problem". On failure *out
 * is NULL. The caller frees the result with es_lexicon_free().
 */
int es_lexicon_load(struct es_lexicon **out, const char *path);

/* Loads a lexicon from memory, as es_lexicon_load() does from a file;
 * @name stands for the file name in error messages. */
int es_lexicon_load_buf(struct es_lexicon **out, const char *name,
                        const char *buf, size_t len);

/* Adds the entries of the file at @path to @lex, replacing the valence of
 * terms already there (a brand overlay: "havoc<TAB>0" makes a product name
 * neutral, "outage<TAB>-3.5" makes the word strongly negative). Any of the
 * three formats. Returns 0, ES_ENOTFOUND or ES_EINVALID ("FILE:LINE: ...");
 * on failure @lex is unchanged. Not thread-safe: overlay before sharing
 * the lexicon between threads. */
int es_lexicon_overlay(struct es_lexicon *lex, const char *path);

/* Makes the @n brand names in @names (any case, as [priority] brand =
 * gives them) names rather than words: a name is never rated ("Havoc",
 * "Best Buy"), a one-word name sits inside an expression without
 * breaking it ("cancel my Acme subscription"), and neither counts as
 * shouting. A name of several words is rated 0 whole and sits inside an
 * expression too; its words joined into one ("acmecloud") are a name. A word
 * the rules use ("not", "very") stays a rule word; blank names are skipped. Not
 * thread-safe, like es_lexicon_overlay(). */
void es_lexicon_add_names(struct es_lexicon *lex, const char *const *names,
                          size_t n);

/* Frees @lex; NULL is a no-op. */
void es_lexicon_free(struct es_lexicon *lex);

/* The number of terms with a valence (rule words such as "very" or "not"
 * that the lexicon does not rate are not counted). */
size_t es_lexicon_size(const struct es_lexicon *lex);

/* The bytes @lex holds in memory (table, entries, keys). */
size_t es_lexicon_bytes(const struct es_lexicon *lex);

/* The format of the file es_lexicon_load() read. */
enum es_lexicon_format es_lexicon_format_of(const struct es_lexicon *lex);

/* 1 when es_lexicon_load() read @lex from the cache of loaded lexicons
 * rather than building it from the file: $EARSHOT_CACHE_DIR, else
 * $XDG_CACHE_HOME/earshot or ~/.cache/earshot; EARSHOT_CACHE_DIR= (empty)
 * turns it off. An image is used only for the same file, unchanged, and
 * the same executable. */
int es_lexicon_from_cache(const struct es_lexicon *lex);

/* Looks @term up (any case; a multi-word term with single spaces). Returns
 * 1 and sets *valence when the lexicon rates it, else 0. */
int es_lexicon_lookup(const struct es_lexicon *lex, const char *term,
                      double *valence);

/* ==== Scoring ==== */

enum es_sentiment_label {
    ES_SENTIMENT_NEGATIVE = -1, /* compound <= -0.05 */
    ES_SENTIMENT_NEUTRAL = 0,
    ES_SENTIMENT_POSITIVE = 1, /* compound >= 0.05 */
};

#define ES_SENTIMENT_POS_THRESHOLD 0.05
#define ES_SENTIMENT_NEG_THRESHOLD -0.05

struct es_sentiment {
    double compound; /* normalised sum, in [-1, 1] */
    double pos;      /* share of the text that is positive, 0..1 */
    double neu;      /* pos + neu + neg == 1 (or all 0 for no tokens) */
    double neg;
    int label;          /* enum es_sentiment_label */
    char lang[8];       /* "en", "es", "ja", ...; "und" with no words */
    int low_confidence; /* 1: not English (only emoji and emoticons
                           counted) or no language found */
};

/* Scores the UTF-8 text @buf of @len bytes (no NUL needed; NUL bytes and
 * invalid UTF-8 count as spaces) into *out. A text longer than 128 KiB is
 * scored on its first 128 KiB. Never fails on any input: returns 0.
 * Allocates only for texts of more than a few hundred tokens. Thread-safe.
 */
int es_sentiment_score(const struct es_lexicon *lex, const char *buf,
                       size_t len, struct es_sentiment *out);

/* The rules that changed a token's valence (bits of
 * es_sentiment_token.rules); es_sentiment_rule_name() names each. */
enum es_sentiment_rule {
    ES_RULE_LEXICON = 1 << 0,         /* the token is in the lexicon */
    ES_RULE_IDIOM = 1 << 1,           /* a multi-word expression matched */
    ES_RULE_BOOSTER = 1 << 2,         /* a booster or dampener before it */
    ES_RULE_NEGATION = 1 << 3,        /* a negation within 3 tokens before */
    ES_RULE_NO = 1 << 4,              /* "no" before it, or "no" as negator */
    ES_RULE_LEAST = 1 << 5,           /* "least" before it (not "at least") */
    ES_RULE_CAPS = 1 << 6,            /* ALL CAPS in mixed-case text */
    ES_RULE_BUT_BEFORE = 1 << 7,      /* before "but": weight halved */
    ES_RULE_BUT_AFTER = 1 << 8,       /* after "but": weight x1.5 */
    ES_RULE_EMOJI = 1 << 9,           /* an emoji or emoticon */
    ES_RULE_NEVER_SO = 1 << 10,       /* "never so good": emphasis, no flip */
    ES_RULE_ELONGATED = 1 << 11,      /* "sooo goood": found once shortened */
    ES_RULE_MODIFIER = 1 << 12,       /* a rule word itself (very, not, but) */
    ES_RULE_IRONY = 1 << 13,          /* praise of a bad situation ("Great,
                                         another outage"), or taken back
                                         ("Fun day. Not."): read as negated;
                                         a claim corrected the other way
                                         ("5 stars? More like 1 star."):
                                         rates nothing */
    ES_RULE_REMEDY = 1 << 14,         /* a trouble said fixed ("fixed the
                                         crashes"): it rates nothing */
    ES_RULE_AUDIENCE = 1 << 15,       /* in "for people who hate ads", what
                                         they hate: it rates nothing */
    ES_RULE_LAUGHTER = 1 << 16,       /* "crying laughing", "I'm dying 😂":
                                         tears and death said of laughter
                                         rate nothing */
    ES_RULE_ENDED = 1 << 17,          /* a good thing said over ("my
                                         vacation is over") or harmed
                                         ("ruined my weekend"): read as
                                         negated */
    ES_RULE_IRREALIS = 1 << 18,       /* in a clause of "if" or "unless",
                                         said of what may be: half its
                                         weight */
    ES_RULE_QUESTION = 1 << 19,       /* praise in a yes-no question ("is
                                         it safe?"): half its weight */
    ES_RULE_PLEA = 1 << 20,           /* "help" alone in its clause ("HELP!"):
                                         a cry for help, rated as a plea */
    ES_RULE_JOY = 1 << 21,            /* 😭 beside praise and no trouble:
                                         tears of joy, half its weight */
    ES_RULE_FEARED = 1 << 22,         /* a trouble not wanted or kept off
                                         ("don't want to lose it", "so it
                                         doesn't crash"): not flipped to
                                         praise, counted 0 */
    ES_RULE_RAISED = 1 << 23,         /* a price said raised ("raised my
                                         bill", "the rent went up"): rated
                                         as a trouble */
    ES_RULE_LESS = 1 << 24,           /* what there is less of ("less
                                         comfortable", "fewer crashes",
                                         "less than helpful"): negated */
    ES_RULE_COMPLAINT = 1 << 25,      /* a text with no rated word that
                                         complains in its form ("why is my
                                         order still not here", "every
                                         single time"): the form rates as a
                                         mild trouble */
    ES_RULE_LAST = ES_RULE_COMPLAINT, /* the highest bit; keep it last */
};

/* Returns a static name for one rule bit ("negation", "caps", ...), or
 * "?" for anything else. */
const char *es_sentiment_rule_name(unsigned rule);

/* One token of an explained score. */
struct es_sentiment_token {
    size_t offset;  /* byte offset of the token in the text */
    size_t len;     /* its length in bytes (an idiom spans its words) */
    double valence; /* lexicon valence, 0 when not in the lexicon */
    double score;   /* contribution to the sum after every rule */
    unsigned rules; /* enum es_sentiment_rule bits */
};

struct es_sentiment_explain {
    struct es_sentiment_token *tokens; /* owned array of n tokens */
    size_t n;
    size_t alloc;
    double sum;         /* sum of the token scores */
    double punctuation; /* "!" and "?" emphasis added to the sum */
};

#define ES_SENTIMENT_EXPLAIN_INIT                                              \
    {                                                                          \
        NULL, 0, 0, 0.0, 0.0                                                   \
    }

/* As es_sentiment_score(), and also records every token in @ex (which is
 * reset first; initialise it with ES_SENTIMENT_EXPLAIN_INIT). Tokens that
 * neither carry sentiment nor modify it are recorded with rules 0. Free the
 * contents with es_sentiment_explain_release(). Returns 0. */
int es_sentiment_explain(const struct es_lexicon *lex, const char *buf,
                         size_t len, struct es_sentiment *out,
                         struct es_sentiment_explain *ex);

/* Frees the contents of @ex and leaves it initialised and empty. */
void es_sentiment_explain_release(struct es_sentiment_explain *ex);

/* "positive", "neutral" or "negative". */
const char *es_sentiment_label_name(int label);

#endif
