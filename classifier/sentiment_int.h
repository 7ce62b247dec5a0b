/* sentiment_int.h - the scorer's token array and the language check
 *
 * Shared by sentiment.c (tokenizer, rules) and lang.c (which language a
 * text is in, from the counts the tokenizer gathers as it goes).
 */
#ifndef EARSHOT_CLASSIFIER_SENTIMENT_INT_H
#define EARSHOT_CLASSIFIER_SENTIMENT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "lexicon.h"

enum tok_kind {
    TK_WORD,  /* letters or digits */
    TK_SHORT, /* a one-letter word: kept for expressions, then dropped */
    TK_EMO,   /* an emoji or emoticon */
};

struct tok {
    uint32_t off, len;         /* the token's bytes in the text */
    uint32_t loff, llen;       /* its lowered form in scratch.low */
    uint32_t hash;             /* lex_hash() of the lowered form */
    uint32_t flags;            /* e->flags, 0 without e: the rules test
                                  flags without a branch on e */
    const struct lex_entry *e; /* its lexicon entry, or NULL */
    float score;               /* contribution after every rule */
    float valence;             /* lexicon valence (0 when unrated) */
    uint32_t rules;            /* ES_RULE_* bits */
    uint8_t kind;              /* enum tok_kind */
    uint8_t upper;             /* has letters, all upper case */
    uint8_t alpha;             /* has letters */
    uint8_t brk;               /* a clause ends after it */
    uint8_t send;              /* a sentence ends after it */
    uint8_t neg;               /* a negation ("not", "isn't") */
    uint8_t mwe;               /* e->mwe_max of a word (0: starts no
                                  expression, or not a word) */
};

/* Scripts other than Latin, for the language check. */
enum script {
    SC_KANA,
    SC_HAN,
    SC_HANGUL,
    SC_CYRILLIC,
    SC_GREEK,
    SC_ARABIC,
    SC_HEBREW,
    SC_THAI,
    SC_DEVANAGARI,
    SC_OTHER,
    SC_COUNT,
};

/* What the tokenizer saw that tells the language. */
struct lang_counts {
    unsigned sw[LANG_COUNT];          /* stopwords of each language */
    unsigned char strong[LANG_COUNT]; /* a word that alone names it */
    unsigned char hint[LANG_COUNT];   /* letters typical of it (ñ, ß) */
    unsigned char xseen;              /* a word of LANG_FLAG_COUNT.. seen */
    unsigned lex_hits;                /* words the English lexicon rates */
    unsigned latin;                   /* Latin letters */
    unsigned latin_ext;               /* of which beyond ASCII (é, ł, ş) */
    unsigned script[SC_COUNT];        /* letters of other scripts */
};

struct scratch {
    const struct es_lexicon *lex;
    const char *text; /* the text scored, borrowed */
    size_t tlen;      /* its length in bytes */
    struct tok *t;    /* tstack, or heap for long texts */
    size_t n, cap;
    char *low; /* lstack, or heap */
    size_t llen, lcap;
    unsigned excl, quest; /* "!" and "?" in the text */
    int any_upper;        /* a token in capitals (set by the merge) */
    int rated_any;        /* a token rated other than 0 (set by
                             score_english()) */
    unsigned nt_seen;     /* a word in "n't" ("haven't": no LEX_NEGATE) */
    unsigned xall;        /* every word's LEXX_* bits, rated or not */
    unsigned quotes; /* a '"' or '“' in the text (set by the tokenizer) */
    struct lang_counts lang;
    /* lang.sw[] of the LEX_LANG languages as 16-bit lanes, four to a
     * word, added to without a branch per language; flush_stopwords()
     * moves them into lang.sw before a lane can overflow. */
    uint64_t swp[2];
    unsigned swp_n; /* words added to swp since the last flush */
    struct tok tstack[256];
    char lstack[4096];
};

/* Decides the language of the text @buf (@len bytes) from @lc and writes
 * its code into @code (8 bytes). Returns 1 for English, 0 otherwise.
 * Asks libexttextcat only when the counts cannot tell. Thread-safe. */
int es_lang__decide(const struct lang_counts *lc, const char *buf, size_t len,
                    char code[8]);

#endif
