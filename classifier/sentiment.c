/* sentiment.c - tokenizer and the rules of the VADER family
 *
 * The method of Hutto & Gilbert (ICWSM 2014), written from the paper's
 * description: every token's valence comes from the lexicon, then the
 * heuristics adjust it - boosters and dampeners before it, negations
 * within three tokens, ALL CAPS in mixed-case text, "least", "no" - and
 * "but" moves the weight to the clause after it. The sum, plus "!" and
 * "?" emphasis, is normalised with x / sqrt(x^2 + 15) into [-1, 1].
 *
 * Speed matters (a million tweets a second on one thread), so the
 * tokenizer is one pass over the bytes that lower-cases and hashes ASCII
 * words as it goes and looks each up once; only non-ASCII words go
 * through utf8proc. Tokens live in an array on the stack; a text of more
 * than a few hundred tokens moves to the heap, once per text.
 */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#include "earshot/alloc.h"
#include "lexicon.h"
#include "sentiment_int.h"

/* Constants of the method (the paper's empirically derived values). */
#define B_SCALAR 0.293 /* booster and dampener step */
#define C_INCR   0.733 /* ALL-CAPS emphasis */
#define N_SCALAR -0.74 /* negation: flip and damp */
/* A negated harm is a weaker good than a negated good is a harm: "not
 * bad" is faint praise, "not good" plain criticism. Lexicon methods after
 * VADER (SO-CAL's shifted negation, Taboada et al. 2011) weigh it so;
 * VADER flips both by -0.74. */
#define N_SCALAR_NEG -0.5
#define EXCL_STEP    0.292 /* per "!" (at most 4) */
#define QUEST_STEP   0.18  /* per "?" (2 or 3 of them) */
#define QUEST_MAX    0.96  /* 4 or more "?" */
#define NORM_ALPHA   15.0  /* x / sqrt(x^2 + alpha) */
#define BUT_BEFORE   0.5   /* weight of the clause before "but" */
#define BUT_AFTER    1.5   /* and after it */
#define NEVER_SO     1.25  /* "never so good": emphasis */
#define IRREALIS     0.5   /* a word in a clause of "if" or "unless" */
#define POLAR        0.5   /* praise in a yes-no question */
#define HELP_PLEA    -0.3  /* "help!" alone: as "please help" rates */
#define TEARS_OF_JOY -0.5  /* 😭 beside praise alone: flipped, halved */

/* The longest stretch of a text that is scored: longer texts are scored
 * on their first 128 KiB, which bounds the memory one call can take. */
#define TEXT_MAX (128u * 1024u)

#define TOK_STACK 256
#define LOW_STACK 4096
#define JOIN_MAX  256
#define LOW_PAD   3 /* zero bytes at the start of scratch.low */

/* ==== Token storage ==== */

static void scratch_init(struct scratch *sc, const struct es_lexicon *lex)
{
    memset(&sc->lang, 0, sizeof(sc->lang));
    sc->swp[0] = sc->swp[1] = 0;
    sc->swp_n = 0;
    sc->lex = lex;
    sc->t = sc->tstack;
    sc->n = 0;
    sc->cap = TOK_STACK;
    sc->low = sc->lstack;
    /* Three zero bytes before the first word, so that finish_word() can
     * read the three bytes before the end of any word. */
    memset(sc->lstack, 0, LOW_PAD);
    sc->llen = LOW_PAD;
    sc->lcap = LOW_STACK;
    sc->excl = 0;
    sc->quest = 0;
    sc->any_upper = 0;
    sc->rated_any = 0;
    sc->nt_seen = 0;
    sc->xall = 0;
    sc->quotes = 0;
}

static void scratch_release(struct scratch *sc)
{
    if (sc->t != sc->tstack)
        free(sc->t);
    if (sc->low != sc->lstack)
        free(sc->low);
}

/* Doubles the token array, moving it to the heap the first time. */
static void tok_grow(struct scratch *sc)
{
    size_t ncap = sc->cap * 2;
    if (sc->t == sc->tstack) {
        sc->t = es_xmalloc(ncap * sizeof(*sc->t));
        memcpy(sc->t, sc->tstack, sc->n * sizeof(*sc->t));
    } else {
        sc->t = es_xrealloc(sc->t, ncap * sizeof(*sc->t));
    }
    sc->cap = ncap;
}

static inline struct tok *tok_push(struct scratch *sc)
{
    if (sc->n == sc->cap)
        tok_grow(sc);
    struct tok *t = &sc->t[sc->n++];
    *t = (struct tok){ 0 };
    return t;
}

/* Grows the lowered-text buffer to hold @extra more bytes. */
static void low_grow(struct scratch *sc, size_t extra)
{
    size_t ncap = sc->lcap * 2;
    while (ncap < sc->llen + extra)
        ncap *= 2;
    if (sc->low == sc->lstack) {
        sc->low = es_xmalloc(ncap);
        memcpy(sc->low, sc->lstack, sc->llen);
    } else {
        sc->low = es_xrealloc(sc->low, ncap);
    }
    sc->lcap = ncap;
}

/* Makes room for @extra more bytes of lowered text. */
static inline void low_reserve(struct scratch *sc, size_t extra)
{
    if (sc->llen + extra > sc->lcap)
        low_grow(sc, extra);
}

/* ==== Tokenizer ==== */

/* ASCII classes, one table lookup per byte. */
enum { A_SPACE, A_LOWER, A_UPPER, A_DIGIT, A_APOS, A_HYPHEN, A_PUNCT, A_HIGH };

static const unsigned char ascii_class[256] = {
#define R4(x)  x, x, x, x
#define R16(x) R4(x), R4(x), R4(x), R4(x)
    /* 0x00-0x1F: controls (NUL included) are spaces */
    R16(A_SPACE),
    R16(A_SPACE),
    /* 0x20 ' ' ! " # $ % & ' ( ) * + , - . / */
    A_SPACE,
    A_PUNCT,
    A_PUNCT,
    A_PUNCT,
    A_PUNCT,
    A_PUNCT,
    A_PUNCT,
    A_APOS,
    A_PUNCT,
    A_PUNCT,
    A_PUNCT,
    A_PUNCT,
    A_PUNCT,
    A_HYPHEN,
    A_PUNCT,
    A_PUNCT,
    /* 0-9 : ; < = > ? */
    A_DIGIT,
    A_DIGIT,
    A_DIGIT,
    A_DIGIT,
    A_DIGIT,
    A_DIGIT,
    A_DIGIT,
    A_DIGIT,
    A_DIGIT,
    A_DIGIT,
    A_PUNCT,
    A_PUNCT,
    A_PUNCT,
    A_PUNCT,
    A_PUNCT,
    A_PUNCT,
    /* @ A-Z [ \ ] ^ _ */
    A_PUNCT,
    A_UPPER,
    A_UPPER,
    A_UPPER,
    A_UPPER,
    A_UPPER,
    A_UPPER,
    A_UPPER,
    A_UPPER,
    A_UPPER,
    A_UPPER,
    A_UPPER,
    A_UPPER,
    A_UPPER,
    A_UPPER,
    A_UPPER,
    A_UPPER,
    A_UPPER,
    A_UPPER,
    A_UPPER,
    A_UPPER,
    A_UPPER,
    A_UPPER,
    A_UPPER,
    A_UPPER,
    A_UPPER,
    A_UPPER,
    A_PUNCT,
    A_PUNCT,
    A_PUNCT,
    A_PUNCT,
    A_DIGIT,
    /* ` a-z { | } ~ DEL */
    A_PUNCT,
    A_LOWER,
    A_LOWER,
    A_LOWER,
    A_LOWER,
    A_LOWER,
    A_LOWER,
    A_LOWER,
    A_LOWER,
    A_LOWER,
    A_LOWER,
    A_LOWER,
    A_LOWER,
    A_LOWER,
    A_LOWER,
    A_LOWER,
    A_LOWER,
    A_LOWER,
    A_LOWER,
    A_LOWER,
    A_LOWER,
    A_LOWER,
    A_LOWER,
    A_LOWER,
    A_LOWER,
    A_LOWER,
    A_LOWER,
    A_PUNCT,
    A_PUNCT,
    A_PUNCT,
    A_PUNCT,
    A_SPACE,
    /* 0x80-0xFF: UTF-8 */
    R16(A_HIGH),
    R16(A_HIGH),
    R16(A_HIGH),
    R16(A_HIGH),
    R16(A_HIGH),
    R16(A_HIGH),
    R16(A_HIGH),
    R16(A_HIGH),
#undef R16
#undef R4
};

/* The class of the code point at @s (at most @len bytes); sets *n to its
 * length in bytes and *cp to it. Invalid UTF-8 is one byte of space. */
static enum norm_class class_at(const char *s, size_t len, size_t *n,
                                uint32_t *cp)
{
    unsigned char c = (unsigned char)s[0];
    if (c < 0x80) {
        *n = 1;
        *cp = c;
        switch (ascii_class[c]) {
        case A_SPACE:
            return NC_SPACE;
        case A_APOS:
            return NC_APOS;
        case A_HYPHEN:
            return NC_HYPHEN;
        case A_PUNCT:
            return NC_PUNCT;
        default:
            return NC_WORD;
        }
    }
    unsigned long v;
    size_t k = es_utf8_decode(s, len, &v);
    if (k == 0) {
        *n = 1;
        *cp = 0xFFFD;
        return NC_SPACE;
    }
    *n = k;
    *cp = (uint32_t)v;
    return es_norm__class((uint32_t)v);
}

/* Tallies a non-ASCII letter for the language check. */
static void count_script(struct lang_counts *lc, uint32_t cp)
{
    if (cp < 0x250) {
        lc->latin++;
        lc->latin_ext++;
        switch (cp) {
        case 0xF1:
        case 0xD1: /* ñ */
            lc->hint[LANG_ES] = 1;
            break;
        case 0xDF:
        case 0xE4:
        case 0xF6:
        case 0xFC:
        case 0xC4:
        case 0xD6:
        case 0xDC: /* ß ä ö ü */
            lc->hint[LANG_DE] = 1;
            break;
        case 0xE3:
        case 0xF5:
        case 0xC3:
        case 0xD5: /* ã õ */
            lc->hint[LANG_PT] = 1;
            break;
        case 0xE8:
        case 0xEA:
        case 0xE7:
        case 0x153:
        case 0xE0:
        case 0xF9:
        case 0xE2:
        case 0xEE:
        case 0xF4:
        case 0xFB:
        case 0xEB:
        case 0xEF:
            lc->hint[LANG_FR] = 1;
            break;
        case 0xEC:
        case 0xF2: /* ì ò */
            lc->hint[LANG_IT] = 1;
            break;
        default:
            break;
        }
    } else if (cp >= 0x3040 && cp <= 0x30FF) {
        lc->script[SC_KANA]++;
    } else if ((cp >= 0x4E00 && cp <= 0x9FFF) ||
               (cp >= 0x3400 && cp <= 0x4DBF) ||
               (cp >= 0x20000 && cp <= 0x2FFFF)) {
        lc->script[SC_HAN]++;
    } else if ((cp >= 0xAC00 && cp <= 0xD7AF) ||
               (cp >= 0x1100 && cp <= 0x11FF) ||
               (cp >= 0x3130 && cp <= 0x318F)) {
        lc->script[SC_HANGUL]++;
    } else if (cp >= 0x400 && cp <= 0x52F) {
        lc->script[SC_CYRILLIC]++;
    } else if (cp >= 0x370 && cp <= 0x3FF) {
        lc->script[SC_GREEK]++;
    } else if ((cp >= 0x600 && cp <= 0x6FF) || (cp >= 0x750 && cp <= 0x77F)) {
        lc->script[SC_ARABIC]++;
    } else if (cp >= 0x590 && cp <= 0x5FF) {
        lc->script[SC_HEBREW]++;
    } else if (cp >= 0xE00 && cp <= 0xE7F) {
        lc->script[SC_THAI]++;
    } else if (cp >= 0x900 && cp <= 0x97F) {
        lc->script[SC_DEVANAGARI]++;
    } else if (cp >= 0x1E00 && cp <= 0x1EFF) {
        lc->latin++; /* Latin extended additional (Vietnamese) */
    } else {
        lc->script[SC_OTHER]++;
    }
}

static const struct lex_entry *find(const struct es_lexicon *lex,
                                    const char *key, size_t len)
{
    return es_lexicon__find(lex, key, len, lex_hash(key, len));
}

/* Looks a word up again with its letter runs cut to 2, then to 1
 * ("goooood" -> "good", "sooo" -> "so"). */
static const struct lex_entry *find_elongated(const struct es_lexicon *lex,
                                              const char *w, size_t len)
{
    char tmp[64];
    if (len > sizeof(tmp))
        return NULL;
    for (size_t keep = 2; keep >= 1; keep--) {
        size_t n = 0, run = 0;
        int cut = 0;
        for (size_t i = 0; i < len; i++) {
            run = (i > 0 && w[i] == w[i - 1]) ? run + 1 : 1;
            if (run > keep) {
                cut = 1;
                continue;
            }
            tmp[n++] = w[i];
        }
        if (!cut)
            continue;
        const struct lex_entry *e = find(lex, tmp, n);
        if (e && (e->flags & (LEX_VALENCE | LEX_BOOSTER)))
            return e;
    }
    return NULL;
}

/* A rated entry of @key (@len bytes), or NULL. */
static const struct lex_entry *find_rated_n(const struct es_lexicon *lex,
                                            const char *key, size_t len)
{
    const struct lex_entry *e = find(lex, key, len);
    return e && (e->flags & LEX_VALENCE) ? e : NULL;
}

/* The same for a NUL-terminated @key. */
static const struct lex_entry *find_rated(const struct es_lexicon *lex,
                                          const char *key)
{
    return find_rated_n(lex, key, strlen(key));
}

/* Laughter of any length and spelling ("hahaa", "ahahhahah", "hehehehe",
 * "lolololol"): the lexicon rates a few spellings, people type hundreds.
 * Returns the entry of the spelling it stands for, or NULL. Only words
 * the lexicon does not know come here, so the test costs next to
 * nothing. */
static const struct lex_entry *find_laugh(const struct es_lexicon *lex,
                                          const char *w, size_t len)
{
    if (len < 4 || (w[0] != 'h' && w[0] != 'a' && w[0] != 'l'))
        return NULL;
    if (w[0] == 'l') {
        /* "lol" then more o's and l's: "lolol", "lololol", "lolll". */
        if (w[1] != 'o' || w[2] != 'l')
            return NULL;
        for (size_t i = 3; i < len; i++)
            if (w[i] != 'l' && w[i] != 'o')
                return NULL;
        const struct lex_entry *e = find_rated(lex, "lolol");
        return e ? e : find_rated(lex, "lol");
    }
    /* h with one vowel: "haha", "ahah", "hehe", "hihi"; at least two of
     * each, so that "hah" and "aha" stay what the lexicon says. */
    size_t h = 0, v = 0;
    char vowel = 0;
    for (size_t i = 0; i < len; i++) {
        char c = w[i];
        if (c == 'h') {
            h++;
        } else if ((c == 'a' || c == 'e' || c == 'i') &&
                   (!vowel || c == vowel)) {
            vowel = c;
            v++;
        } else {
            return NULL;
        }
    }
    if (h < 2 || v < 2)
        return NULL;
    const struct lex_entry *e = NULL;
    if (vowel == 'a') {
        if (len >= 6)
            e = find_rated(lex, "hahaha");
        if (!e)
            e = find_rated(lex, "haha");
    } else {
        if (len >= 6)
            e = find_rated(lex, "hehehe");
        if (!e)
            e = find_rated(lex, "hehe");
    }
    return e;
}

/* Whether the word @w (four bytes or more) may be laughter for
 * find_laugh(): "ha..", "he..", "hi..", "ah..", "lol..". */
static inline int may_laugh(const char *w)
{
    return (w[0] == 'h' && (w[1] == 'a' || w[1] == 'e' || w[1] == 'i')) ||
           (w[0] == 'a' && w[1] == 'h') ||
           (w[0] == 'l' && w[1] == 'o' && w[2] == 'l');
}

/* A word with its last letter typed twice ("sadd", "happyy", "nicee"):
 * the entry of the word without it, or NULL. Only unknown words come
 * here; known words that end in a double letter ("well", "too") never
 * do, and most others shortened are no word the lexicon rates. */
static const struct lex_entry *find_doubled_end(const struct es_lexicon *lex,
                                                const char *w, size_t len)
{
    if (len < 4 || w[len - 1] != w[len - 2] || w[len - 1] < 'a' ||
        w[len - 1] > 'z')
        return NULL;
    return find_rated_n(lex, w, len - 1);
}

/* 1 when the word @w (@len bytes, first eight in @key8) has a run of
 * three or more equal letters. */
static int elongated(const char *w, size_t len, uint64_t key8)
{
    if (len <= 8) {
        /* Within one 64-bit word: a zero byte in x marks b[i] == b[i+1],
         * in y b[i] == b[i+1] == b[i+2]; bytes past the word (the zero
         * padding) are masked off. */
        uint64_t v = key8;
        uint64_t x = v ^ (v >> 8);
        uint64_t y = x | (x >> 8);
        uint64_t valid = ~0ull >> (64 - 8 * (len - 2));
        uint64_t lo = 0x0101010101010101ull & valid;
        uint64_t hi = 0x8080808080808080ull & valid;
        if (!((y - lo) & ~y & hi))
            return 0;
    }
    for (size_t i = 2; i < len; i++)
        if (w[i] == w[i - 1] && w[i] == w[i - 2] && w[i] >= 'a' && w[i] <= 'z')
            return 1;
    return 0;
}

/* Spreads four bits into the low bits of four 16-bit lanes: bit k of a
 * 4-bit value times SWP_SPREAD lands at bit 16k, and the copies do not
 * overlap. */
#define SWP_SPREAD 0x0000200040008001ull
#define SWP_LANES  0x0001000100010001ull
/* Words between flushes: at weight 2 a lane stays below 65,536. */
#define SWP_FLUSH 16384u

/* What a word of the languages @x (LEX_LANG bits, shifted down) adds to
 * sc->swp: one in each language's lane, two when it names one or two
 * languages (a word of three or more, "de", "la", says less; x & (x - 1)
 * clears the lowest bit: two clears leave a third). A table, so that a
 * word costs two loads and two adds. */
#define SWP_WT(x) ((((x) & ((x)-1)) & ((((x) & ((x)-1))) - 1)) ? 1u : 2u)
#define SWP_INC(x)                                                             \
    {                                                                          \
        ((((x)&0xFull) * SWP_SPREAD) & SWP_LANES) * SWP_WT(x),                 \
            ((((x) >> 4) * SWP_SPREAD) & SWP_LANES) * SWP_WT(x)                \
    }
#define SWP_INC4(x)                                                            \
    SWP_INC(x), SWP_INC((x) + 1), SWP_INC((x) + 2), SWP_INC((x) + 3)
#define SWP_INC16(x)                                                           \
    SWP_INC4(x), SWP_INC4((x) + 4), SWP_INC4((x) + 8), SWP_INC4((x) + 12)
static const uint64_t swp_inc[1u << LANG_FLAG_COUNT][2] = {
    SWP_INC16(0u),  SWP_INC16(16u), SWP_INC16(32u), SWP_INC16(48u),
    SWP_INC16(64u), SWP_INC16(80u), SWP_INC16(96u), SWP_INC16(112u),
};
_Static_assert(LANG_FLAG_COUNT == 7, "swp_inc[] lists 128 language sets");

/* What an unknown word reads: no flags, no valence. */
static const struct lex_entry no_entry;

/* Moves the stopword counts of sc->swp into sc->lang.sw. */
static void flush_stopwords(struct scratch *sc)
{
    for (int k = 0; k < LANG_FLAG_COUNT; k++)
        sc->lang.sw[k] +=
            (unsigned)(sc->swp[k / 4] >> (16 * (k % 4))) & 0xFFFFu;
    sc->swp[0] = sc->swp[1] = 0;
    sc->swp_n = 0;
}

/* Finishes a word token whose lowered form is at sc->low + loff: looks it
 * up and counts it for the language check. @mixed: the word has upper-
 * and lower-case letters ("Starr", a name more often than a typo). */
static inline __attribute__((always_inline)) void
finish_word(struct scratch *sc, struct tok *t, uint32_t h, uint64_t key8,
            int mixed, int inner)
{
    t->hash = h;
    const char *w = sc->low + t->loff;
    const struct lex_entry *e = es_lexicon__find8(sc->lex, w, t->llen, h, key8);
    if (!e && t->llen > 3) {
        const struct lex_entry *e2 = NULL;
        /* Most unknown words are neutral ones: each test below is one
         * or two byte compares before anything is looked up. */
        if (elongated(w, t->llen, key8))
            e2 = find_elongated(sc->lex, w, t->llen);
        else if (!mixed && w[t->llen - 1] == w[t->llen - 2])
            e2 = find_doubled_end(sc->lex, w, t->llen);
        if (!e2 && may_laugh(w))
            e2 = find_laugh(sc->lex, w, t->llen);
        if (e2) {
            e = e2;
            t->rules |= ES_RULE_ELONGATED;
        }
    }
    t->e = e;
    /* Ends in "n't": one compare of the last three bytes, and no branch
     * on the length - short and long words alternate too irregularly for
     * the predictor. For a shorter word the bytes before it are read
     * (the previous word's, or the LOW_PAD zeros) and the test discards
     * them. Only a word with an inner ' or - can (@inner). */
    if (inner) {
        const unsigned char *u = (const unsigned char *)w + t->llen - 3;
        uint32_t tail = u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16;
        t->neg = (t->llen >= 3) & (tail == ('n' | '\'' << 8 | 't' << 16));
        sc->nt_seen |= t->neg;
    }
    /* Known or not is as good as random from word to word: no branch on
     * it, an unknown word reads the zeros of no_entry. */
    const struct lex_entry *r = e ? e : &no_entry;
    uint32_t f = r->flags;
    t->flags = f;
    sc->xall |= r->xflags;
    t->mwe = r->mwe_max;
    t->valence = r->valence; /* 0 unless LEX_VALENCE */
    t->neg |= (f & LEX_NEGATE) != 0;
    uint32_t langs = (f & LEX_LANG_MASK) >> LEX_LANG_SHIFT;
    sc->swp[0] += swp_inc[langs][0];
    sc->swp[1] += swp_inc[langs][1];
    if (++sc->swp_n == SWP_FLUSH)
        flush_stopwords(sc);
    if (f & LEX_STRONG)
        for (; langs; langs &= langs - 1)
            sc->lang.strong[__builtin_ctz(langs)] = 1;
    sc->lang.lex_hits +=
        (f & (LEX_VALENCE | LEX_EMO | LEX_BUILTIN)) == LEX_VALENCE;
}

/* Emits the ASCII word @s of @n bytes as a token that covers the @len
 * bytes of the text at @off (the same bytes, or the masked word they
 * stand for: see masked_word()). */
static inline __attribute__((always_inline)) struct tok *
emit_ascii(struct scratch *sc, size_t off, size_t len, const char *s, size_t n)
{
    struct tok *t = tok_push(sc);
    t->off = (uint32_t)off;
    t->len = (uint32_t)len;
    t->loff = (uint32_t)sc->llen;
    int upper = 0, lower = 0;
    low_reserve(sc, n);
    char *d = sc->low + sc->llen;
    uint64_t hh = LEX_SEED, w = 0;
    unsigned shift = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        unsigned cls = ascii_class[c];
        if (cls == A_UPPER) {
            c += 32;
            upper = 1;
        } else if (cls == A_LOWER) {
            lower = 1;
        }
        d[i] = (char)c;
        /* lex_hash(), fused with the lower-casing */
        w |= (uint64_t)c << shift;
        shift += 8;
        if (shift == 64) {
            hh = lex_hash_block(hh, w);
            w = 0;
            shift = 0;
        }
    }
    uint32_t h = lex_hash_final(hh, w, n);
    sc->llen += n;
    t->llen = (uint32_t)n;
    t->upper = upper && !lower;
    t->alpha = upper || lower;
    sc->lang.latin += (unsigned)n;
    t->kind = n == 1 ? TK_SHORT : TK_WORD;
    finish_word(sc, t, h, lex_key8(sc->low + t->loff, t->llen), upper && lower,
                1);
    return t;
}

/* Swear words as people mask them: "f*ck", "sh!t", "a$$", "b*tch",
 * "F***ING great". A masked word is read as the first word of this list
 * with its length whose letters agree with every letter typed; the
 * lexicon then rates it, or makes it the booster it is ("fucking"). The
 * list holds the words people mask, the likelier reading of a mask
 * first ("f**k" is fuck). */
static const char *const masked_words[] = {
    "fuck",     "fucking",  "fuckin",       "fucked",        "fucker",
    "fucks",    "shit",     "shitty",       "shits",         "bullshit",
    "damn",     "damned",   "dammit",       "goddamn",       "bitch",
    "bitches",  "bitching", "bitchy",       "ass",           "asses",
    "asshole",  "assholes", "bastard",      "bastards",      "crap",
    "crappy",   "hell",     "piss",         "pissed",        "dick",
    "dickhead", "cunt",     "motherfucker", "motherfucking", "wtf",
};

/* 1 when the byte @c is an ASCII letter. */
static inline int ascii_letter(unsigned char c)
{
    return ascii_class[c] == A_LOWER || ascii_class[c] == A_UPPER;
}

/* 1 when the byte @c is an ASCII digit. */
static inline int ascii_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A mask inside a word: '*' and '$' anywhere after the first letter
 * ("sh*t", "a$$"), '!' and '@' only between letters ("sh!t", "b@stard"),
 * as after a word they are punctuation or a mention. */
static int mask_char(unsigned char c)
{
    return c == '*' || c == '$' || c == '!' || c == '@';
}

/* Whether the punctuation at @i (past the start of a chunk) may mask
 * letters of a word: a cheap test, as a '!' after a word is common and
 * a masked word rare. */
static inline int may_be_masked(const char *text, size_t i, size_t len)
{
    unsigned char c = (unsigned char)text[i];
    if (!mask_char(c) || !i || !ascii_letter((unsigned char)text[i - 1]))
        return 0;
    if (c == '*' || c == '$')
        return 1;
    return i + 1 < len && ascii_letter((unsigned char)text[i + 1]);
}

/* The word at @ws, which has a mask character at @ps (may_be_masked()):
 * when its letters and masks spell a word of masked_words, emits that
 * word as a token over the masked text and returns where it ends;
 * otherwise returns 0 and emits nothing. */
static size_t masked_word(struct scratch *sc, const char *text, size_t ws,
                          size_t ps, size_t len)
{
    for (size_t k = ws; k < ps; k++)
        if (!ascii_letter((unsigned char)text[k]))
            return 0; /* "it's*", "2*": letters only before the mask */
    size_t q = ps;
    while (q < len && q - ws <= 13) {
        unsigned char c = (unsigned char)text[q];
        if (ascii_letter(c) || c == '*' || c == '$' ||
            ((c == '!' || c == '@') && q + 1 < len &&
             ascii_letter((unsigned char)text[q + 1])))
            q++;
        else
            break;
    }
    size_t n = q - ws;
    /* More of a word after the run ("sh*t3", "f*ckñ"): not one. */
    if (n > 13 || (q < len && (ascii_class[(unsigned char)text[q]] == A_DIGIT ||
                               (unsigned char)text[q] >= 0x80)))
        return 0;
    for (size_t w = 0; w < sizeof(masked_words) / sizeof(*masked_words); w++) {
        const char *m = masked_words[w];
        if (strlen(m) != n)
            continue;
        size_t k = 0;
        for (; k < n; k++) {
            unsigned char c = (unsigned char)text[ws + k];
            if (!mask_char(c) && (char)(c | 0x20) != m[k])
                break;
        }
        if (k < n)
            continue;
        /* All letters typed in capitals ("F**K") keep the caps
         * emphasis. */
        int upper = 1;
        for (k = 0; k < n; k++)
            if (ascii_class[(unsigned char)text[ws + k]] == A_LOWER)
                upper = 0;
        char key[16];
        for (k = 0; k < n; k++)
            key[k] = upper ? (char)(m[k] - 32) : m[k];
        emit_ascii(sc, ws, n, key, n);
        return q;
    }
    return 0;
}

/* Emits one word without a hyphen split. */
static struct tok *emit_one(struct scratch *sc, const char *text, size_t off,
                            size_t len, int ascii)
{
    const char *s = text + off;
    if (ascii)
        return emit_ascii(sc, off, len, s, len);
    struct tok *t = tok_push(sc);
    t->off = (uint32_t)off;
    t->len = (uint32_t)len;
    t->loff = (uint32_t)sc->llen;
    struct es_buf b = ES_BUF_INIT;
    int upper = 0, lower = 0;
    size_t cps = 0;
    for (size_t i = 0; i < len;) {
        size_t n;
        uint32_t cp;
        class_at(s + i, len - i, &n, &cp);
        cps++;
        if (cp < 0x80) {
            unsigned cls = ascii_class[cp];
            upper |= cls == A_UPPER;
            lower |= cls == A_LOWER;
            if (cls == A_UPPER || cls == A_LOWER)
                sc->lang.latin++;
        } else {
            count_script(&sc->lang, cp);
            upper |= utf8proc_isupper((utf8proc_int32_t)cp);
            lower |= utf8proc_islower((utf8proc_int32_t)cp);
        }
        i += n;
    }
    es_norm__fold(&b, s, len);
    low_reserve(sc, b.len);
    memcpy(sc->low + sc->llen, b.ptr, b.len);
    uint32_t h = lex_hash(b.ptr, b.len);
    sc->llen += b.len;
    t->llen = (uint32_t)b.len;
    es_buf_release(&b);
    t->upper = upper && !lower;
    t->alpha = 1;
    t->kind = cps == 1 ? TK_SHORT : TK_WORD;
    finish_word(sc, t, h, lex_key8(sc->low + t->loff, t->llen), upper && lower,
                1);
    return t;
}

/* Splits the hyphenated word token @t that was just pushed (token count
 * and lowered length before it in @mark_n, @mark_l) into its parts when
 * the lexicon does not know the whole ("customer-service"). */
static void split_hyphens(struct scratch *sc, struct tok *t, const char *text,
                          int ascii, size_t mark_n, size_t mark_l)
{
    if (t->e)
        return;
    size_t off = t->off, len = t->len;
    sc->n = mark_n;
    sc->llen = mark_l;
    size_t start = off;
    for (size_t i = off; i <= off + len; i++) {
        if (i == off + len || text[i] == '-') {
            if (i > start)
                emit_one(sc, text, start, i - start, ascii);
            start = i + 1;
        }
    }
}

/* Whether a new word starts at text[@i] (@i < @end) of a camel-case word:
 * "aB", or the last capital of a run before its word ("HTMLFail"). */
static int camel_cut(const char *text, size_t i, size_t end)
{
    unsigned char a = (unsigned char)text[i - 1], b = (unsigned char)text[i];
    unsigned char c = i + 1 < end ? (unsigned char)text[i + 1] : 0;
    if (b < 'A' || b > 'Z')
        return 0;
    return (a >= 'a' && a <= 'z') ||
           (a >= 'A' && a <= 'Z' && c >= 'a' && c <= 'z');
}

/* Splits the ASCII hashtag word token @t that was just pushed into the
 * words its capitals mark ("#WorstServiceEver", "#SoHappy", "#HTMLFail")
 * when the lexicon does not know the whole; as split_hyphens(). A brand
 * whose hashtag should stay whole ("#BestBuy") gets an overlay entry. */
static void split_camel(struct scratch *sc, struct tok *t, const char *text,
                        size_t mark_n, size_t mark_l)
{
    if (t->e)
        return;
    size_t off = t->off, end = t->off + t->len, start = off, i;
    for (i = off + 1; i < end && !camel_cut(text, i, end); i++)
        ;
    if (i == end)
        return; /* one word: "#Acme" */
    sc->n = mark_n;
    sc->llen = mark_l;
    for (i = off + 1; i <= end; i++) {
        if (i == end || camel_cut(text, i, end)) {
            emit_one(sc, text, start, i - start, 1);
            start = i;
        }
    }
    /* A hashtag is a unit of its own: its "No" or "Very" reaches no word
     * after it ("#NoFilter love this view"). */
    sc->t[sc->n - 1].brk = 1;
}

/* Emits the word at @off (@len bytes) as one token, or as its parts when
 * it is hyphenated (@hyphen) and the whole is not in the lexicon. */
static void emit_word(struct scratch *sc, const char *text, size_t off,
                      size_t len, int ascii, int hyphen)
{
    size_t mark_n = sc->n, mark_l = sc->llen;
    struct tok *t = emit_one(sc, text, off, len, ascii);
    if (hyphen)
        split_hyphens(sc, t, text, ascii, mark_n, mark_l);
}

/* 1 when @key (@n bytes) is a score out of five or ten ("7/10", "2/5"),
 * which is also how a date is written ("3/10", "4/5"). */
static int score_key(const char *key, size_t n)
{
    size_t i = 0, d = 0;
    while (i < n && key[i] >= '0' && key[i] <= '9')
        i++, d++;
    if (d < 1 || d > 2 || i == n || key[i] != '/')
        return 0;
    return (n - i == 2 && key[i + 1] == '5') ||
           (n - i == 3 && key[i + 1] == '1' && key[i + 2] == '0');
}

/* The lowered form of token @t, its length in *@len. A merged
 * expression has no single lowered form: its lexicon key stands for it
 * ("not only"). */
static const char *tok_low(const struct scratch *sc, const struct tok *t,
                           size_t *len)
{
    if (!t->llen && t->e && (t->rules & ES_RULE_IDIOM)) {
        *len = t->e->key_len;
        return sc->lex->keys.ptr + t->e->key_off;
    }
    *len = t->llen;
    return sc->low + t->loff;
}

/* 1 when the token @t, lowered, is one of the @n words in @words. */
static int low_is_one_of(const struct scratch *sc, const struct tok *t,
                         const char *const *words, size_t n)
{
    size_t len;
    const char *s = tok_low(sc, t, &len);
    for (size_t i = 0; i < n; i++)
        if (len == strlen(words[i]) && memcmp(s, words[i], len) == 0)
            return 1;
    return 0;
}

/* 1 when token @i is @w (lower case, @n bytes). */
static inline int low_is(const struct scratch *sc, size_t i, const char *w,
                         size_t n)
{
    return i < sc->n && sc->t[i].llen == n &&
           memcmp(sc->low + sc->t[i].loff, w, n) == 0;
}

/* 1 when the last token is a word that puts a date after it: "on 3/10",
 * "by 4/5", "from 5/10". */
static int before_date(const struct scratch *sc)
{
    static const char *const words[] = {
        "on",       "by",     "until",   "till",  "til",     "from",
        "since",    "before", "after",   "due",   "thru",    "through",
        "starting", "ending", "between", "dated", "expires", "expiring",
    };
    if (!sc->n || sc->t[sc->n - 1].kind == TK_EMO)
        return 0;
    return low_is_one_of(sc, &sc->t[sc->n - 1], words,
                         sizeof(words) / sizeof(*words));
}

/* Emits an emoticon or emoji token for @len bytes at @off whose lowered
 * key is @key. With @must_exist, only when the lexicon rates it as an
 * emoticon (a term with punctuation in it); returns 1 when emitted. */
static int emit_emo(struct scratch *sc, size_t off, size_t len, const char *key,
                    size_t klen, int must_exist)
{
    const struct lex_entry *e = find(sc->lex, key, klen);
    if (must_exist && !(e && (e->flags & LEX_VALENCE) && (e->flags & LEX_EMO)))
        return 0;
    /* "see you on 10/10": a date, which rates nothing. */
    if (e && score_key(key, klen) && before_date(sc))
        e = NULL;
    struct tok *t = tok_push(sc);
    t->off = (uint32_t)off;
    t->len = (uint32_t)len;
    t->e = e && (e->flags & LEX_VALENCE) ? e : NULL;
    t->flags = t->e ? t->e->flags : 0;
    t->valence = t->e ? t->e->valence : 0.0f;
    t->kind = TK_EMO; /* mwe stays 0: no expression starts here */
    return 1;
}

/* Lower-cases an ASCII chunk into @dst (at most @cap bytes), decoding
 * the HTML entities that escaped emoticons wear in feeds ("&lt;3");
 * returns 0 when it does not fit or is not ASCII. */
static size_t lower_chunk(char *dst, size_t cap, const char *s, size_t len)
{
    static const struct {
        const char *name;
        size_t len;
        char c;
    } ents[] = {
        { "&lt;", 4, '<' },
        { "&gt;", 4, '>' },
        { "&amp;", 5, '&' },
        { "&quot;", 6, '"' },
    };
    size_t n = 0;
    if (len > 2 * cap)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80 || n == cap)
            return 0;
        if (c == '&') {
            for (size_t k = 0; k < sizeof(ents) / sizeof(ents[0]); k++)
                if (len - i >= ents[k].len &&
                    memcmp(s + i, ents[k].name, ents[k].len) == 0) {
                    c = (unsigned char)ents[k].c;
                    i += ents[k].len - 1;
                    break;
                }
        }
        dst[n++] = (char)(ascii_class[c] == A_UPPER ? c + 32 : c);
    }
    return n;
}

/* 1 when the @len bytes at @s may hold an emoticon of the lexicon: short
 * enough, and starting with two bytes that some emoticon starts with
 * (or an HTML entity). Saves a hash for most chunks with punctuation. */
static int maybe_emo(const struct es_lexicon *lex, const char *s, size_t len)
{
    if (s[0] == '&')
        return len <= 40;
    if (len > lex->emo_max)
        return 0;
    unsigned char c0 = (unsigned char)s[0], c1 = 0;
    if (ascii_class[c0] == A_UPPER)
        c0 += 32;
    if (len > 1) {
        c1 = (unsigned char)s[1];
        if (ascii_class[c1] == A_UPPER)
            c1 += 32;
    }
    return es_lexicon__emo_start(lex, c0, c1);
}

/* 1 for the punctuation that ends a clause. */
static int clause_punct(unsigned char c)
{
    return c == ',' || c == '.' || c == ';' || c == ':' || c == '!' || c == '?';
}

/* 1 for the punctuation that ends a sentence. */
static int sentence_punct(unsigned char c)
{
    return c == '.' || c == '!' || c == '?';
}

/* 1 for ASCII letters, digits and '_'. */
static inline int ascii_word(unsigned cls)
{
    return cls == A_LOWER || cls == A_UPPER || cls == A_DIGIT;
}

/* The fast path's view of a byte: word character, upper or lower case,
 * or possibly inside a word (' and -, and any byte of UTF-8). */
enum {
    FW_WORD = 1,
    FW_UPPER = 2,
    FW_LOWER = 4,
    FW_HYPHEN = 8,
    FW_INNER = 16,
    FW_HIGH = 32,
    FW_MASK = 64, /* '*', '$', '!', '@': may mask a letter ("sh*t") */
};

#define FW_L (FW_WORD | FW_LOWER)
#define FW_U (FW_WORD | FW_UPPER)
#define FW_D FW_WORD
#define FW_A FW_INNER
#define FW_Y (FW_INNER | FW_HYPHEN)
#define FW_H (FW_INNER | FW_HIGH)
#define FW_M FW_MASK

/* fw_class[byte]: the same classes as ascii_class, as FW_* bits. */
static const unsigned char fw_class[256] = {
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    FW_M, 0,    0,
    FW_M, 0,    0,    FW_A, 0,    0,    FW_M, 0,    0,    FW_Y, 0,    0,
    FW_D, FW_D, FW_D, FW_D, FW_D, FW_D, FW_D, FW_D, FW_D, FW_D, 0,    0,
    0,    0,    0,    0,    FW_M, FW_U, FW_U, FW_U, FW_U, FW_U, FW_U, FW_U,
    FW_U, FW_U, FW_U, FW_U, FW_U, FW_U, FW_U, FW_U, FW_U, FW_U, FW_U, FW_U,
    FW_U, FW_U, FW_U, FW_U, FW_U, FW_U, FW_U, 0,    0,    0,    0,    FW_D,
    0,    FW_L, FW_L, FW_L, FW_L, FW_L, FW_L, FW_L, FW_L, FW_L, FW_L, FW_L,
    FW_L, FW_L, FW_L, FW_L, FW_L, FW_L, FW_L, FW_L, FW_L, FW_L, FW_L, FW_L,
    FW_L, FW_L, FW_L, 0,    0,    0,    0,    0,    FW_H, FW_H, FW_H, FW_H,
    FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H,
    FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H,
    FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H,
    FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H,
    FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H,
    FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H,
    FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H,
    FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H,
    FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H,
    FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H, FW_H,
    FW_H, FW_H, FW_H, FW_H,
};

#undef FW_L
#undef FW_U
#undef FW_D
#undef FW_A
#undef FW_Y
#undef FW_H
#undef FW_M

/* fw_lower[byte]: ASCII upper case lowered, every other byte as it is. */
static const unsigned char fw_lower[256] = {
    0,   1,   2,   3,   4,   5,   6,   7,   8,   9,   10,  11,  12,  13,  14,
    15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25,  26,  27,  28,  29,
    30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,  41,  42,  43,  44,
    45,  46,  47,  48,  49,  50,  51,  52,  53,  54,  55,  56,  57,  58,  59,
    60,  61,  62,  63,  64,  97,  98,  99,  100, 101, 102, 103, 104, 105, 106,
    107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121,
    122, 91,  92,  93,  94,  95,  96,  97,  98,  99,  100, 101, 102, 103, 104,
    105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119,
    120, 121, 122, 123, 124, 125, 126, 127, 128, 129, 130, 131, 132, 133, 134,
    135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149,
    150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162, 163, 164,
    165, 166, 167, 168, 169, 170, 171, 172, 173, 174, 175, 176, 177, 178, 179,
    180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191, 192, 193, 194,
    195, 196, 197, 198, 199, 200, 201, 202, 203, 204, 205, 206, 207, 208, 209,
    210, 211, 212, 213, 214, 215, 216, 217, 218, 219, 220, 221, 222, 223, 224,
    225, 226, 227, 228, 229, 230, 231, 232, 233, 234, 235, 236, 237, 238, 239,
    240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 251, 252, 253, 254,
    255,
};

/* emo_key[byte]: a byte as the emoticon filter sees it: lower-cased, and
 * 0 for the spaces that end a chunk (so "x " and "x" look alike). */
static const unsigned char emo_key[256] = {
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   33,  34,  35,  36,  37,  38,  39,  40,  41,  42,  43,  44,
    45,  46,  47,  48,  49,  50,  51,  52,  53,  54,  55,  56,  57,  58,  59,
    60,  61,  62,  63,  64,  97,  98,  99,  100, 101, 102, 103, 104, 105, 106,
    107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121,
    122, 91,  92,  93,  94,  95,  96,  97,  98,  99,  100, 101, 102, 103, 104,
    105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119,
    120, 121, 122, 123, 124, 125, 126, 0,   128, 129, 130, 131, 132, 133, 134,
    135, 136, 137, 138, 139, 140, 141, 142, 143, 144, 145, 146, 147, 148, 149,
    150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162, 163, 164,
    165, 166, 167, 168, 169, 170, 171, 172, 173, 174, 175, 176, 177, 178, 179,
    180, 181, 182, 183, 184, 185, 186, 187, 188, 189, 190, 191, 192, 193, 194,
    195, 196, 197, 198, 199, 200, 201, 202, 203, 204, 205, 206, 207, 208, 209,
    210, 211, 212, 213, 214, 215, 216, 217, 218, 219, 220, 221, 222, 223, 224,
    225, 226, 227, 228, 229, 230, 231, 232, 233, 234, 235, 236, 237, 238, 239,
    240, 241, 242, 243, 244, 245, 246, 247, 248, 249, 250, 251, 252, 253, 254,
    255,
};

/* The longest ASCII word the fast path takes; longer ones go the slow
 * way. */
#define FAST_WORD_MAX 64

/* Eight bytes in one 64-bit word (SWAR): each byte repeated. */
#define B8(c) (0x0101010101010101ull * (uint8_t)(c))

/* 0x80 in each byte of @v that lies in [lo, hi]; @v's bytes must be
 * below 0x80, so that no sum carries into the next byte. */
static inline uint64_t bytes_in(uint64_t v, unsigned lo, unsigned hi)
{
    uint64_t ge = v + B8(0x80 - lo); /* bit 7 set: byte >= lo */
    uint64_t gt = v + B8(0x7F - hi); /* bit 7 set: byte > hi */
    return ge & ~gt & B8(0x80);
}

/* The word characters at the start of the eight text bytes @v (little-
 * endian): returns how many of them (0-8) are ASCII letters, digits or
 * '_' before the first other byte, lower-cases those into *low (the
 * bytes after them are garbage) and adds FW_UPPER and FW_LOWER to *seen
 * for them. One pass over a whole short word, with no branch per byte:
 * where the word ends is what mispredicts in a byte loop. */
static inline unsigned word8(uint64_t v, uint64_t *low, unsigned *seen)
{
    /* The sums of bytes_in() are done on the low seven bits, so that none
     * carries; a byte >= 0x80 (UTF-8) is no word character here. */
    uint64_t high = v & B8(0x80);
    uint64_t v7 = v & B8(0x7F);
    uint64_t letter = bytes_in(v7 | B8(0x20), 'a', 'z');
    uint64_t upper = letter & ~(v7 << 2); /* bit 5 clear: 'A'-'Z' */
    uint64_t word = letter | bytes_in(v7, '0', '9') | bytes_in(v7, '_', '_');
    uint64_t stop = (~word & B8(0x80)) | high;
    unsigned n = stop ? (unsigned)__builtin_ctzll(stop) / 8 : 8;
    uint64_t keep = n == 8 ? ~0ull : (1ull << (8 * n)) - 1;
    upper &= keep;
    letter &= keep;
    *low = v | (upper >> 2); /* +0x20 on the upper-case letters */
    *seen |= (upper ? FW_UPPER : 0u) | ((letter & ~upper) ? FW_LOWER : 0u);
    return n;
}

/* Scans an ASCII word at @i (letters, digits, inner ' and -), lowering
 * and hashing it straight into the token array: the path nearly every
 * token takes. Returns the position after it, or @i unchanged when the
 * word needs the general path (non-ASCII letters in it, or very long). */
static size_t fast_word(struct scratch *sc, const char *text, size_t i,
                        size_t len)
{
    size_t ws = i, k = 0;
    unsigned seen = 0; /* FW_UPPER | FW_LOWER | FW_HYPHEN | FW_INNER */

    low_reserve(sc, FAST_WORD_MAX + 8);
    char *d = sc->low + sc->llen;
    size_t end = len - i > FAST_WORD_MAX ? i + FAST_WORD_MAX : len;
    const unsigned char *p = (const unsigned char *)text + i;
    const unsigned char *pe = (const unsigned char *)text + end;
    char *dp = d;
    for (;;) {
        /* The inner loop: letters and digits, eight bytes at a time while
         * eight are left before @pe, then byte by byte. The buffer has
         * room for the eight bytes word8() writes (FAST_WORD_MAX + 8). */
        unsigned m;
        if (pe - p >= 8) {
            uint64_t v, low;
            memcpy(&v, p, 8);
            unsigned n = word8(v, &low, &seen);
            memcpy(dp, &low, 8);
            p += n;
            dp += n;
            if (n == 8)
                continue;
        } else {
            while (p < pe && ((m = fw_class[*p]) & FW_WORD)) {
                seen |= m;
                *dp++ = (char)fw_lower[*p++];
            }
            if (p == pe)
                break;
        }
        m = fw_class[*p];
        if (!(m & FW_INNER)) {
            if ((m & FW_MASK) &&
                may_be_masked(text, (size_t)(p - (const unsigned char *)text),
                              len))
                return ws; /* "sh*t": the general path reads masks */
            break;
        }
        if (m & FW_HIGH)
            return ws; /* "café", "don’t": the general path */
        /* ' and - inside a word only: "don't", "wi-fi". */
        if (p + 1 >= pe)
            break;
        unsigned nm = fw_class[p[1]];
        if (nm & FW_HIGH)
            return ws; /* "don'ť": the general path decides */
        if (!(nm & FW_WORD))
            break;
        seen |= m;
        *dp++ = (char)*p++;
    }
    i = (size_t)(p - (const unsigned char *)text);
    k = (size_t)(dp - d);
    if (i == end && end < len &&
        (fw_class[(unsigned char)text[i]] & (FW_WORD | FW_INNER)))
        return ws; /* longer than FAST_WORD_MAX: the general path */
    /* lex_hash() of the lowered word, eight bytes at a time (the buffer
     * has room past the word, which the mask clears). */
    uint64_t hh = LEX_SEED, w, key8;
    memcpy(&key8, d, 8);
    if (k < 8) {
        /* Most words: the first eight bytes are the whole tail. */
        key8 &= ~0ull >> (64 - 8 * k);
        w = key8;
    } else {
        size_t o = 0;
        for (; o + 8 <= k; o += 8) {
            memcpy(&w, d + o, 8);
            hh = lex_hash_block(hh, w);
        }
        w = 0;
        if (o < k) {
            memcpy(&w, d + o, 8);
            w &= ~0ull >> (64 - 8 * (k - o));
        }
    }
    size_t mark_n = sc->n, mark_l = sc->llen;
    struct tok *t = tok_push(sc);
    t->off = (uint32_t)ws;
    t->len = (uint32_t)k;
    t->loff = (uint32_t)sc->llen;
    t->llen = (uint32_t)k;
    t->upper = (seen & (FW_UPPER | FW_LOWER)) == FW_UPPER;
    t->alpha = (seen & (FW_UPPER | FW_LOWER)) != 0;
    t->kind = k == 1 ? TK_SHORT : TK_WORD;
    sc->llen += k;
    sc->lang.latin += (unsigned)k;
    finish_word(sc, t, lex_hash_final(hh, w, k), key8,
                (seen & (FW_UPPER | FW_LOWER)) == (FW_UPPER | FW_LOWER),
                (seen & FW_INNER) != 0);
    /* A one-letter word stays until merge_expressions(): it may be the
     * middle of an expression ("works like a charm", "thank u"). */
    if (seen & FW_HYPHEN)
        split_hyphens(sc, t, text, 1, mark_n, mark_l);
    return i;
}

/* Whether the byte at @i of @text (@len bytes) is an ASCII letter,
 * digit or '_'. */
static inline int word_byte(const char *text, size_t i, size_t len)
{
    return i < len && ascii_word(ascii_class[(unsigned char)text[i]]);
}

/* The handle at @i, right after an '@' that no word precedes ("@acme",
 * "(@acme"; not "bob@acme.com"). A handle names an account: it rates
 * nothing ("@love" is a name), is no word of any language, and sits
 * inside a phrase without breaking it ("cancel my @acme subscription"),
 * so it makes no token at all. A Mastodon handle takes its instance with
 * it ("@acme@mastodon.social"). Returns the position after it, or @i
 * when no ASCII handle starts there. */
static size_t skip_handle(const char *text, size_t i, size_t len)
{
    size_t j = i;
    while (word_byte(text, j, len))
        j++;
    if (j > i && j < len && text[j] == '@' && word_byte(text, j + 1, len)) {
        j++;
        while (word_byte(text, j, len) ||
               (j < len && (text[j] == '.' || text[j] == '-') &&
                word_byte(text, j + 1, len)))
            j++;
    }
    /* Not ASCII after all ("@café"): the general path reads a word. */
    if (j < len && (unsigned char)text[j] >= 0x80)
        return i;
    return j;
}

/* The ASCII word at @i, right after a '#': fast_word(), then its parts
 * when its capitals mark words (split_camel). Out of line, so that the
 * check costs the words that follow no '#' nothing. Returns as
 * fast_word(). */
static __attribute__((noinline)) size_t
hashtag_word(struct scratch *sc, const char *text, size_t i, size_t len)
{
    size_t mark_n = sc->n, mark_l = sc->llen;
    size_t next = fast_word(sc, text, i, len);
    /* One token (a hyphenated word was split already); a word in one
     * case has no cut, which split_camel() finds for itself. */
    if (next != i && sc->n == mark_n + 1)
        split_camel(sc, &sc->t[mark_n], text, mark_n, mark_l);
    return next;
}

/* Tries the whole chunk @cs..@ce as an emoticon (":-)", "xD", "</3") or a
 * rated word with punctuation in it ("a+"), then the chunk without its
 * trailing full stops and commas (":)."). Returns 1 when one matched. */
static int chunk_emoticon(struct scratch *sc, const char *text, size_t cs,
                          size_t ce)
{
    char key[40];
    if (!maybe_emo(sc->lex, text + cs, ce - cs) && text[cs] != '&')
        return 0;
    size_t n = lower_chunk(key, sizeof(key), text + cs, ce - cs);
    if (n && emit_emo(sc, cs, ce - cs, key, n, 1))
        return 1;
    size_t e = ce;
    while (e > cs && clause_punct((unsigned char)text[e - 1]))
        e--;
    if (e < ce && e > cs + 1) {
        n = lower_chunk(key, sizeof(key), text + cs, e - cs);
        if (n && emit_emo(sc, cs, e - cs, key, n, 1)) {
            sc->t[sc->n - 1].brk = 1;
            for (size_t k = e; k < ce; k++)
                if (sentence_punct((unsigned char)text[k]))
                    sc->t[sc->n - 1].send = 1;
            return 1;
        }
    }
    return 0;
}

/* 1 when the chunk at @i may be an emoticon of the lexicon as a whole:
 * its first two bytes (lower-cased) start one, or it is an HTML entity. */
static inline int chunk_may_be_emo(const struct scratch *sc, const char *buf,
                                   size_t i, size_t len)
{
    unsigned char c = (unsigned char)buf[i];
    if (c == '&')
        return 1;
    unsigned char c1 = i + 1 < len ? emo_key[(unsigned char)buf[i + 1]] : 0;
    return es_lexicon__emo_start(sc->lex, emo_key[c], c1);
}

/* 1 for the bytes of a run of marks that may hold an emoticon: ASCII
 * punctuation, and the "-", "_" and "'" of ":-)", "^_^" and ":'(". */
static inline int emo_mark(unsigned char c)
{
    return ascii_class[c] == A_PUNCT || c == '-' || c == '_' || c == '\'';
}

/* The end of one letter or digit, typed once or more, right after the
 * marks at @ps..@pe when no other word character follows: it may end an
 * emoticon glued to a word ("great:D", "love<3", ":DDD"). @pe when there
 * is none, or when digits stand on both sides ("3:30", "2.0"). */
static size_t glued_tail(const char *text, size_t ps, size_t pe, size_t len)
{
    if (pe >= len)
        return pe;
    unsigned char c = (unsigned char)text[pe];
    unsigned cls = ascii_class[c];
    if (cls != A_LOWER && cls != A_UPPER && cls != A_DIGIT)
        return pe;
    if (cls == A_DIGIT && ps > 0 && pe - ps == 1 &&
        ascii_class[(unsigned char)text[ps - 1]] == A_DIGIT &&
        strchr(":.,/", text[ps]))
        return pe;
    size_t e = pe + 1;
    while (e < len && (unsigned char)text[e] == c)
        e++;
    if (e < len && ascii_word(ascii_class[(unsigned char)text[e]]))
        return pe;
    return e;
}

/* The length of the longest emoticon of the lexicon at @p that ends by
 * @te, or 0. */
static size_t emo_at(const struct scratch *sc, const char *text, size_t p,
                     size_t te)
{
    char key[40];
    unsigned char c1 = p + 1 < te ? emo_key[(unsigned char)text[p + 1]] : 0;
    if (!es_lexicon__emo_start(sc->lex, emo_key[(unsigned char)text[p]], c1))
        return 0;
    size_t max = te - p;
    if (max > sc->lex->emo_max)
        max = sc->lex->emo_max;
    for (size_t k = max; k >= 2; k--) {
        size_t n = lower_chunk(key, sizeof(key), text + p, k);
        if (!n)
            continue;
        const struct lex_entry *e = find(sc->lex, key, n);
        if (e && (e->flags & LEX_VALENCE) && (e->flags & LEX_EMO))
            return k;
    }
    return 0;
}

/* Finds the emoticons in a run of marks @ps..@pe that is no emoticon as
 * a whole, with the letter or digit glued after it up to @te: faces
 * typed one after another (":):)"), longer than any the lexicon lists
 * (":)))))))", "<33333", which count as the longest form), or glued to
 * the word before ("great:D"). Emits them, and the clause breaks of the
 * other marks; returns where the run ends (past the glued letter when an
 * emoticon took it), or 0 when there is none, leaving the run to the
 * caller. Slashes twice over are a URL's, not faces (":/"). */
static size_t emo_run(struct scratch *sc, const char *text, size_t ps,
                      size_t pe, size_t te)
{
    char key[40];
    for (size_t k = ps; k + 1 < pe; k++)
        if (text[k] == '/' && text[k + 1] == '/')
            return 0;
    size_t p = ps;
    int brk = 0, send = 0, found = 0;
    while (p < pe) {
        size_t k = emo_at(sc, text, p, te);
        if (!k) {
            brk |= clause_punct((unsigned char)text[p]);
            send |= sentence_punct((unsigned char)text[p]);
            p++;
            continue;
        }
        if (brk && sc->n) {
            sc->t[sc->n - 1].brk = 1;
            sc->t[sc->n - 1].send |= send;
        }
        brk = send = 0;
        size_t q = p + k;
        while (q < te && text[q] == text[q - 1])
            q++;
        size_t n = lower_chunk(key, sizeof(key), text + p, k);
        emit_emo(sc, p, q - p, key, n, 1);
        found = 1;
        p = q;
    }
    if (!found)
        return 0;
    if (brk && sc->n) {
        sc->t[sc->n - 1].brk = 1;
        sc->t[sc->n - 1].send |= send;
    }
    return p;
}

/* Splits text into tokens from @cs. Without @count it splits the one
 * chunk @cs..@len (no spaces in it); with @count it goes on from chunk to
 * chunk, counting the "!" and "?" it meets, and stops at the end, or
 * before a chunk that may be an emoticon whole. Returns where it
 * stopped. */
static size_t tokenize_chunk(struct scratch *sc, const char *text, size_t cs,
                             size_t len, int count)
{
    char key[40];
    size_t i = cs;

    while (i < len) {
        size_t n;
        uint32_t cp;
        enum norm_class c;
        unsigned ac = ascii_class[(unsigned char)text[i]];
        if (ascii_word(ac)) {
            size_t next = fast_word(sc, text, i, len);
            if (next != i) {
                i = next;
                continue;
            }
            c = NC_WORD;
            n = 1;
            cp = (unsigned char)text[i];
        } else if (ac == A_SPACE) {
            /* The next chunk: on with it, unless it may be an emoticon
             * whole, which tokenize() checks. */
            while (++i < len && ascii_class[(unsigned char)text[i]] == A_SPACE)
                ;
            if (!count || i == len || chunk_may_be_emo(sc, text, i, len))
                return i;
            continue;
        } else {
            c = class_at(text + i, len - i, &n, &cp);
        }
        if (c == NC_WORD) {
            /* The general path for a word: any letters and digits, with
             * inner apostrophes and hyphens. */
            size_t ws = i;
            int ascii = 1, hyphen = 0;
            while (i < len) {
                if (ascii_word(ascii_class[(unsigned char)text[i]])) {
                    i++;
                    continue;
                }
                c = class_at(text + i, len - i, &n, &cp);
                if (c == NC_WORD) {
                    if (cp >= 0x80)
                        ascii = 0;
                    i += n;
                    continue;
                }
                if (c == NC_APOS || c == NC_HYPHEN) {
                    size_t n2;
                    uint32_t cp2;
                    if (i + n < len && class_at(text + i + n, len - i - n, &n2,
                                                &cp2) == NC_WORD) {
                        if (cp >= 0x80)
                            ascii = 0;
                        hyphen |= c == NC_HYPHEN;
                        i += n;
                        continue;
                    }
                }
                break;
            }
            if (i < len && may_be_masked(text, i, len)) {
                size_t next = masked_word(sc, text, ws, i, len);
                if (next) {
                    i = next;
                    continue;
                }
            }
            emit_word(sc, text, ws, i - ws, ascii, hyphen);
        } else if (c == NC_SPACE) {
            return i + n; /* a non-ASCII space or invalid UTF-8 */
        } else if (c == NC_EMOJI) {
            emit_emo(sc, i, n, text + i, n, 0);
            i += n;
        } else if (c == NC_PUNCT && cp < 0x80) {
            /* A run of ASCII punctuation: an emoticon glued to a word
             * ("great:)"), or the end of a clause. */
            size_t ps = i;
            int brk = 0, send = 0, quote = 0;
            while (i < len && emo_mark((unsigned char)text[i])) {
                unsigned char b = (unsigned char)text[i];
                brk |= clause_punct(b);
                send |= sentence_punct(b);
                quote |= b == '"';
                if (count) {
                    sc->excl += b == '!';
                    sc->quest += b == '?';
                }
                i++;
            }
            sc->quotes |= quote;
            /* "0.3 Mbps", "$1,860", "4.5 stars": a point or comma between
             * digits ends no clause. The digit before first: a word ends
             * most runs. */
            if (ps > 0 && ascii_digit(text[ps - 1]) && i - ps == 1 && i < len &&
                (text[ps] == '.' || text[ps] == ',') && ascii_digit(text[i]))
                brk = send = 0;
            if (i - ps >= 2 && maybe_emo(sc->lex, text + ps, i - ps)) {
                size_t kl = lower_chunk(key, sizeof(key), text + ps, i - ps);
                if (kl && emit_emo(sc, ps, i - ps, key, kl, 1))
                    continue;
            }
            size_t te = glued_tail(text, ps, i, len);
            if (te > i || i - ps >= 2) {
                size_t next = emo_run(sc, text, ps, i, te);
                if (next) {
                    i = next;
                    continue;
                }
            }
            if (brk && sc->n) {
                sc->t[sc->n - 1].brk = 1;
                sc->t[sc->n - 1].send |= send;
            }
            if (text[i - 1] == '#' && i < len &&
                ascii_word(ascii_class[(unsigned char)text[i]])) {
                size_t next = hashtag_word(sc, text, i, len);
                if (next != i) {
                    i = next;
                    continue;
                }
            }
            if (text[i - 1] == '@' && word_byte(text, i, len) &&
                (i - 1 > ps || ps == 0 || !word_byte(text, ps - 1, len))) {
                size_t next = skip_handle(text, i, len);
                if (next != i) {
                    i = next;
                    continue;
                }
            }
        } else {
            if (c == NC_PUNCT && count) {
                sc->excl += cp == 0xFF01;
                sc->quest += cp == 0xFF1F;
            }
            sc->quotes |= cp == 0x201C; /* “ */
            if (c == NC_PUNCT && sc->n &&
                (cp == 0x3002 || cp == 0xFF0C || cp == 0x2026 || cp == 0xFF01 ||
                 cp == 0xFF1F || cp == 0x3001)) {
                sc->t[sc->n - 1].brk = 1;
                sc->t[sc->n - 1].send |= cp != 0xFF0C && cp != 0x3001;
            }
            i += n; /* apostrophes, hyphens, ignorables, other punct */
        }
    }
    return i;
}

/* The end of the chunk at @cs (the next space); counts its "!" and "?"
 * and tells whether it has punctuation. */
static size_t chunk_end(struct scratch *sc, const char *buf, size_t cs,
                        size_t len, int *has_punct)
{
    size_t i = cs;
    *has_punct = 0;
    while (i < len) {
        unsigned char c = (unsigned char)buf[i];
        unsigned cls = ascii_class[c];
        if (cls == A_SPACE)
            break;
        /* A chunk that starts with "-_" or "-." may be a face ("-_-",
         * "-.-"); a dash between words, or inside one ("well-known"),
         * stays on the fast path. */
        if (cls == A_PUNCT || (c == '-' && i == cs && i + 1 < len &&
                               (buf[i + 1] == '_' || buf[i + 1] == '.'))) {
            *has_punct = 1;
            sc->excl += c == '!';
            sc->quest += c == '?';
        } else if (cls == A_HIGH) {
            size_t n;
            uint32_t cp;
            enum norm_class nc = class_at(buf + i, len - i, &n, &cp);
            if (nc == NC_SPACE)
                break;
            if (nc == NC_PUNCT) {
                *has_punct = 1;
                sc->excl += cp == 0xFF01;
                sc->quest += cp == 0xFF1F;
            }
            i += n;
            continue;
        }
        i++;
    }
    return i;
}

/* Splits @buf into tokens in sc->t and counts "!" and "?". A chunk (the
 * bytes between spaces) that may be an emoticon is looked up whole
 * first; any other is split as it is read. */
static void tokenize(struct scratch *sc, const char *buf, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)buf[i];
        if (ascii_class[c] == A_SPACE) {
            i++;
            continue;
        }
        if (chunk_may_be_emo(sc, buf, i, len)) {
            int has_punct;
            size_t ce = chunk_end(sc, buf, i, len, &has_punct);
            if (ce == i) { /* a non-ASCII space or invalid UTF-8 */
                i = tokenize_chunk(sc, buf, i, len, 1);
                continue;
            }
            if (has_punct && chunk_emoticon(sc, buf, i, ce)) {
                i = ce;
                continue;
            }
            tokenize_chunk(sc, buf, i, ce, 0);
            i = ce;
            continue;
        }
        i = tokenize_chunk(sc, buf, i, len, 1);
    }
}

/* The token after @i that is not a brand's name (a name sits inside an
 * expression: "cancel my Acme subscription"), or sc->n. */
static inline size_t next_word(const struct scratch *sc, size_t i)
{
    size_t j = i + 1;
    while (j < sc->n && (sc->t[j].flags & LEX_NAME))
        j++;
    return j;
}

/* The longest expression of the lexicon that starts at token @i: walks
 * forward one word at a time while the words so far are an expression
 * or the start of one. Returns its length in tokens (0: none) and its
 * entry in *out. */
static inline __attribute__((always_inline)) size_t
match_expression(const struct scratch *sc, size_t i,
                 const struct lex_entry **out)
{
    char join[JOIN_MAX];
    const struct tok *t = sc->t;
    size_t maxk = t[i].e->mwe_max, best = 0;
    size_t jl = t[i].llen;
    size_t j = next_word(sc, i);

    /* An expression never spans the end of a sentence ("Was it good?
     * No. Good enough?"); a comma it may ("No, thank you"). */
    if (maxk < 2 || j >= sc->n || t[j].kind == TK_EMO || t[j - 1].send ||
        !es_lexicon__pair(sc->lex, t[i].hash, t[j].hash))
        return 0;
    if (jl >= sizeof(join))
        return 0;
    memcpy(join, sc->low + t[i].loff, jl);
    for (size_t k = 2; k <= maxk && j < sc->n; k++, j = next_word(sc, j)) {
        const struct tok *w = &t[j];
        if (w->kind == TK_EMO || t[j - 1].send ||
            jl + 1 + w->llen > sizeof(join))
            break;
        join[jl++] = ' ';
        memcpy(join + jl, sc->low + w->loff, w->llen);
        jl += w->llen;
        const struct lex_entry *e = find(sc->lex, join, jl);
        if (!e)
            break;
        if (e->flags & (LEX_VALENCE | LEX_BOOSTER | LEX_BUT | LEX_THOUGH |
                        LEX_NEGATE | LEX_AFTER | LEX_REMEDY)) {
            best = j - i + 1; /* in tokens, names inside included */
            *out = e;
        }
        if (!(e->flags & LEX_PREFIX))
            break;
    }
    return best;
}

/* 1 when the expression of @k tokens at @i gives way to a longer one
 * that starts inside it and ends past it: in "it worked like a charm",
 * "worked like a charm" says more than "it worked"; in "too hot to
 * touch", "hot to touch" more than "too hot". The longer expression is
 * the more specific reading. Of two as long, the first one stays, and
 * so does one that holds a negation before the other starts: in "still
 * don't have my money back", "have my money back" would be negated. */
static int outgrown(const struct scratch *sc, size_t i, size_t k)
{
    const struct lex_entry *e;
    for (size_t j = i + 1; j < i + k; j++) {
        if (sc->t[j - 1].neg)
            return 0;
        if (sc->t[j].mwe < 2 || !sc->t[j].e)
            continue;
        size_t kb = match_expression(sc, j, &e);
        if (kb > k && j + kb > i + k)
            return 1;
    }
    return 0;
}

/* 1 when the word token @t is rated on its own. */
static inline int rated_word(const struct tok *t)
{
    return (t->flags & LEX_VALENCE) && t->valence != 0;
}

/* Joins tokens into the multi-word expressions of the lexicon (longest
 * first) and drops one-letter words, which the rules do not count. With
 * @names_only, joins only the names of several words and drops
 * nothing. */
static inline __attribute__((always_inline)) void merge_pass(struct scratch *sc,
                                                             int names_only)
{
    size_t out = 0;
    struct tok *t = sc->t;
    unsigned upper = 0; /* any token in capitals: see score_english() */
    for (size_t i = 0; i < sc->n; i++) {
        const struct lex_entry *me = NULL;
        size_t k = 0;
        upper |= t[i].upper;
        /* A word that may start an expression; in the names' pass, one
         * that may start a name. The test of the two words' pair bit
         * (or of a name after the word, which match_expression() steps
         * over) comes first, without a branch: whether a word starts
         * an expression is as good as random from word to word, whether
         * it starts one with the next word nearly always "no". */
        size_t nx = i + 1 < sc->n ? i + 1 : i;
        unsigned may = (t[i].mwe > 1) & (i + 1 < sc->n) &
                       (es_lexicon__pair(sc->lex, t[i].hash, t[nx].hash) |
                        ((t[nx].flags & LEX_NAME) != 0));
        if (may && (!names_only || (t[i].flags & LEX_NAME_HEAD)))
            k = match_expression(sc, i, &me);
        if (k && names_only && !(me->flags & LEX_NAME))
            k = 0;
        if (k > 1 && !names_only && outgrown(sc, i, k))
            k = 0;
        /* A phrase rated 0 that hides a rated word ("looks like this")
         * does not hide it from a negation right before it: in "don't
         * like this" the verb is what is negated. */
        if (k && !names_only && me->valence == 0 && rated_word(&t[i]) && out &&
            t[out - 1].neg && !t[out - 1].brk)
            k = 0;
        if (k) {
            const struct tok *last = &t[i + k - 1];
            uint8_t all_upper = 1, alpha = 0;
            for (size_t j = i; j < i + k; j++) {
                all_upper &= t[j].upper | !t[j].alpha;
                alpha |= t[j].alpha;
            }
            struct tok m = t[i];
            m.len = last->off + last->len - m.off;
            m.e = me;
            m.flags = me->flags;
            /* A rated expression that ends in "if" ("would be great if")
             * opens a clause of what may be, as "if" does ("even if" is
             * a rule word of its own). */
            if ((me->flags & LEX_VALENCE) &&
                (last->flags & LEX_IRREALIS) == LEX_IRREALIS)
                m.flags |= LEX_IRREALIS;
            m.mwe = 0;
            m.valence = me->valence; /* 0 unless LEX_VALENCE */
            m.kind = TK_WORD;
            m.rules |= ES_RULE_IDIOM;
            m.brk = last->brk;
            m.send = last->send;
            m.neg = (me->flags & LEX_NEGATE) != 0;
            m.llen = 0; /* no single lowered form */
            m.upper = all_upper & alpha;
            m.alpha = alpha;
            t[out++] = m;
            upper |= m.upper;
            i += k - 1;
            continue;
        }
        if (t[i].kind == TK_SHORT && !names_only) {
            /* The break after a dropped word moves to the one before. */
            if (t[i].brk && out) {
                t[out - 1].brk = 1;
                t[out - 1].send |= t[i].send;
            }
            continue;
        }
        if (out != i)
            t[out] = t[i];
        out++;
    }
    sc->n = out;
    if (!names_only)
        sc->any_upper = upper != 0;
}

/* Joins tokens into the multi-word expressions of the lexicon. A brand
 * name of several words is joined first, so that an expression around
 * it finds it as one name it steps over ("cancel my Acme Cloud
 * subscription"). */
static void merge_expressions(struct scratch *sc)
{
    if (sc->lex->multi_names)
        merge_pass(sc, 1);
    merge_pass(sc, 0);
}

/* ==== Scoring ==== */

static uint32_t flags_of(const struct tok *t)
{
    return t->flags;
}

static int rated(const struct tok *t)
{
    return (flags_of(t) & LEX_VALENCE) != 0;
}

static int is_booster(const struct tok *t)
{
    return (flags_of(t) & LEX_BOOSTER) != 0;
}

/* The booster step that @b adds to @valence (0 when @b is none). */
static double booster_step(const struct tok *b, double valence, int cap_diff,
                           unsigned *rules)
{
    if (!is_booster(b))
        return 0;
    double s = b->e->scalar;
    if (valence < 0)
        s = -s;
    if (b->upper && cap_diff)
        s += valence > 0 ? C_INCR : -C_INCR;
    *rules |= ES_RULE_BOOSTER;
    return s;
}

/* Whether @t's entry carries one of the LEXX_* bits @bits (a word with
 * no entry carries none). */
static inline int has_xflag(const struct tok *t, unsigned bits)
{
    return t->e && (t->e->xflags & bits);
}

/* 1 when @t is laughter typed out: "lol", "lmao", "hahaha", 😂. Like
 * an emoji, it comments on the sentence and no negation reaches it. */
static inline int laugh_mark(const struct tok *t)
{
    return has_xflag(t, LEXX_LAUGH_MARK);
}

/* 1 when @t laughs, typed out or said: "lol", "laughing", "laughter". */
static inline int laughs(const struct tok *t)
{
    return t->score > 0 && has_xflag(t, LEXX_LAUGH_MARK | LEXX_LAUGH_WORD);
}

/* Whether @t is an emoticon or emoji rather than a word. */
static int is_emo(const struct tok *t)
{
    return t->kind == TK_EMO || (t->flags & LEX_EMO);
}

/* What a negation multiplies a word of valence @base by: a negated harm
 * is a weaker good (N_SCALAR_NEG) than a negated good is a harm. */
static inline double negation_scalar(double base)
{
    return base < 0 ? N_SCALAR_NEG : N_SCALAR;
}

/* 1 when the negator at token @j is "without" after another negation
 * in its clause, six tokens back at most: "can't open the app without it
 * crashing" says that it always crashes. */
static int without_after_neg(const struct scratch *sc, size_t j)
{
    const struct tok *t = sc->t;
    if (!(flags_of(&t[j]) & LEX_WITHOUT))
        return 0;
    /* A verb's negation; not "nothing" ("nothing without its star"
     * needs the star). */
    static const char *const nouns[] = { "nothing", "none",    "nobody",
                                         "nowhere", "neither", "nor",
                                         "despite", "without" };
    for (size_t k = j; k-- > 0 && j - k <= 6 && !t[k].brk;)
        if (t[k].neg &&
            !low_is_one_of(sc, &t[k], nouns, sizeof(nouns) / sizeof(nouns[0])))
            return 1;
    return 0;
}

/* 1 when the negator at token @j opens its clause as "not the ...
 * again": dismay at a thing come back ("not the app crashing again",
 * "Not my flight delayed again"), which negates nothing. */
static int not_again(const struct scratch *sc, size_t j)
{
    static const char *const nots[] = { "not" };
    static const char *const det[] = { "the",   "this", "that", "these",
                                       "those", "my",   "our",  "another" };
    static const char *const again[] = { "again" };
    const struct tok *t = sc->t;
    if ((j > 0 && !t[j - 1].brk) || j + 1 >= sc->n ||
        !low_is_one_of(sc, &t[j], nots, 1) ||
        !low_is_one_of(sc, &t[j + 1], det, sizeof(det) / sizeof(det[0])))
        return 0;
    for (size_t k = j + 2; k < sc->n; k++) {
        if (low_is_one_of(sc, &t[k], again, 1))
            return 1;
        if (t[k].brk)
            break;
    }
    return 0;
}

/* The first token of the sentence that token @i is in. */
static size_t sentence_start(const struct tok *t, size_t i)
{
    while (i > 0 && !t[i - 1].send)
        i--;
    return i;
}

/* 1 when the sentence of token @i ends in a '?' (among the bytes between
 * its last token and the next sentence's first); sets *@end, when not
 * NULL, to that last token. */
static int sentence_asks(const struct scratch *sc, size_t i, size_t *end)
{
    const struct tok *t = sc->t;
    size_t e = i;
    while (e + 1 < sc->n && !t[e].send)
        e++;
    if (end)
        *end = e;
    size_t a = t[e].off + t[e].len;
    size_t b = e + 1 < sc->n ? t[e + 1].off : sc->tlen;
    return b > a && memchr(sc->text + a, '?', b - a) != NULL;
}

/* 1 when the negation at token @j keeps a trouble off rather than
 * denying it: "hope it doesn't break", "so I don't lose it". */
static int negation_feared(const struct scratch *sc, size_t j)
{
    static const char *const hope[] = { "hope", "hoping",  "hopefully",
                                        "pray", "praying", "so",
                                        "sure" };
    size_t nh = sizeof(hope) / sizeof(hope[0]);
    const struct tok *t = sc->t;
    return (j >= 1 && !t[j - 1].brk &&
            low_is_one_of(sc, &t[j - 1], hope, nh)) ||
           (j >= 2 && !t[j - 2].brk && !t[j - 1].brk &&
            low_is_one_of(sc, &t[j - 2], hope, nh));
}

/* What the negator at token @j does to the rated word at @i, when it
 * says something else than "not": 1 for "couldn't be happier", "could
 * not be more excited", "can't be prouder" (a comparative after "be":
 * nothing could top it, so emphasis, not a flip; "couldn't be worse"
 * stays bad, and worse), 2 for a surprise said in the past, "didn't
 * expect to love it", "wasn't expecting to enjoy" (what followed did
 * happen), 3 for what is not wanted, "don't want to lose it", "don't
 * wanna wait" (a trouble feared, which the caller does not flip when
 * the word is one), else 0. */
static __attribute__((noinline)) int negation_turned(const struct scratch *sc,
                                                     size_t j, size_t i)
{
    static const char *const can[] = { "couldn't", "couldnt", "can't", "cant",
                                       "cannot" };
    static const char *const could[] = { "could", "can" };
    static const char *const nots[] = { "not" };
    static const char *const be[] = { "be" };
    static const char *const more[] = { "more" };
    static const char *const past[] = { "didn't", "didnt", "wasn't", "wasnt",
                                        "never" };
    static const char *const did[] = { "did", "was" };
    static const char *const expect[] = { "expect", "expected", "expecting" };
    static const char *const to[] = { "to" };
    const struct tok *t = sc->t;
    if (j + 2 > i)
        return 0;
    int can_not =
        low_is_one_of(sc, &t[j], can, sizeof(can) / sizeof(can[0])) ||
        (j > 0 && low_is_one_of(sc, &t[j], nots, 1) &&
         low_is_one_of(sc, &t[j - 1], could, sizeof(could) / sizeof(could[0])));
    if (can_not && low_is_one_of(sc, &t[j + 1], be, 1)) {
        const struct tok *w = &t[i];
        const char *lw = sc->low + w->loff;
        static const char *const irregular[] = { "better", "worse" };
        int comparative =
            i == j + 2 &&
            ((w->llen > 4 && memcmp(lw + w->llen - 2, "er", 2) == 0) ||
             low_is_one_of(sc, w, irregular,
                           sizeof(irregular) / sizeof(irregular[0])));
        int more_x = i == j + 3 && low_is_one_of(sc, &t[j + 2], more, 1);
        return comparative || more_x;
    }
    /* "don't want to lose", "doesn't wanna wait": what is not wanted
     * is feared, not denied. */
    static const char *const want[] = { "want" };
    static const char *const wanna[] = { "wanna" };
    if ((i == j + 3 && low_is_one_of(sc, &t[j + 1], want, 1) &&
         low_is_one_of(sc, &t[j + 2], to, 1)) ||
        (i == j + 2 && low_is_one_of(sc, &t[j + 1], wanna, 1)))
        return 3;

    int past_neg =
        low_is_one_of(sc, &t[j], past, sizeof(past) / sizeof(past[0])) ||
        (j > 0 && low_is_one_of(sc, &t[j], nots, 1) &&
         low_is_one_of(sc, &t[j - 1], did, sizeof(did) / sizeof(did[0])));
    if (past_neg && i == j + 3 &&
        low_is_one_of(sc, &t[j + 1], expect,
                      sizeof(expect) / sizeof(expect[0])) &&
        low_is_one_of(sc, &t[j + 2], to, 1))
        return 2;
    /* "Isn't it great?", "Don't you love it?", "Wasn't that fun?": a
     * question that expects yes says the word, it does not deny it. */
    static const char *const tag[] = {
        "isn't",   "isnt",   "aren't", "arent", "wasn't",  "wasnt",
        "weren't", "werent", "don't",  "dont",  "doesn't", "doesnt",
    };
    static const char *const who[] = { "it", "that", "this", "you",  "they",
                                       "he", "she",  "we",   "there" };
    if (sentence_start(t, j) == j &&
        low_is_one_of(sc, &t[j], tag, sizeof(tag) / sizeof(tag[0])) &&
        low_is_one_of(sc, &t[j + 1], who, sizeof(who) / sizeof(who[0])) &&
        sentence_asks(sc, i, NULL))
        return 2;
    return 0;
}

/* 1 when token @j is "and" or "or" that opens a clause of its own, a
 * subject after it: "absolutely nothing and im thrilled about it" (the
 * "nothing" does not reach "thrilled"); not "not big and bulky". "I" is
 * one letter, no token: read from the text. */
static int and_new_subject(const struct scratch *sc, size_t j)
{
    static const char *const conj[] = { "and", "or" };
    static const char *const subject[] = {
        "im",  "i'm", "i've", "ive",  "we",      "we're",
        "you", "he",  "she",  "they", "they're", "it's",
    };
    const struct tok *t = &sc->t[j];
    if (t->llen < 2 || t->llen > 3 || j + 1 >= sc->n ||
        !low_is_one_of(sc, t, conj, 2))
        return 0;
    size_t q = t->off + t->len;
    if (q + 2 < sc->tlen && sc->text[q] == ' ' &&
        (sc->text[q + 1] | 0x20) == 'i' && sc->text[q + 2] == ' ')
        return 1;
    return low_is_one_of(sc, &t[1], subject,
                         sizeof(subject) / sizeof(subject[0]));
}

/* 1 when what token @i rates is said to be less: "less comfortable",
 * "fewer crashes", "less than helpful" (@reach: how far back modifiers
 * reach). VADER only damps a word after "less"; people mean the
 * opposite of the word, as after "least". Not "more or less fine"; a
 * negation before ("no less impressive", "nothing less than amazing")
 * has negated the word already, and the two cancel. */
static int less_before(const struct scratch *sc, size_t i, size_t reach)
{
    static const char *const less[] = { "less", "fewer" };
    const struct tok *t = sc->t;
    size_t q = i - 1;
    if (reach > 1 && low_is(sc, q, "than", 4))
        q--;
    if (!low_is_one_of(sc, &t[q], less, 2))
        return 0;
    return !(q > 0 && !t[q - 1].brk && low_is(sc, q - 1, "or", 2));
}

/* 1 when the rated token @i is said of a past that is over: right after
 * "used to be" or "used to", a booster maybe between ("the popcorn used
 * to be fresh", "used to be so reliable", "I used to love this app").
 * Not "got used to good service" or "I'm used to it", where "used" is no
 * habit of the past. */
static int used_to_before(const struct scratch *sc, size_t i)
{
    static const char *const accustomed[] = {
        "get", "got",  "gets", "getting", "gotten", "am",  "is", "are",
        "was", "were", "be",   "being",   "been",   "i'm", "im", "become",
    };
    const struct tok *t = sc->t;
    size_t q = i;
    /* Each step back stays in the clause: no break after the token. */
    if (q > 0 && !t[q - 1].brk && is_booster(&t[q - 1]) && !rated(&t[q - 1]))
        q--;
    if (q > 0 && !t[q - 1].brk && low_is(sc, q - 1, "be", 2))
        q--;
    if (q < 2 || t[q - 1].brk || t[q - 2].brk || !low_is(sc, q - 1, "to", 2) ||
        !low_is(sc, q - 2, "used", 4))
        return 0;
    q -= 2;
    return !(q > 0 && !t[q - 1].brk &&
             low_is_one_of(sc, &t[q - 1], accustomed,
                           sizeof(accustomed) / sizeof(accustomed[0])));
}

/* The hashes of the words less_or_past() looks back for, set once
 * before main(). */
static struct {
    uint32_t less, fewer, than, to, be;
} rule_hash;

__attribute__((constructor)) static void rule_hash_init(void)
{
    rule_hash.less = lex_hash("less", 4);
    rule_hash.fewer = lex_hash("fewer", 5);
    rule_hash.than = lex_hash("than", 4);
    rule_hash.to = lex_hash("to", 2);
    rule_hash.be = lex_hash("be", 2);
}

/* @v, the valence of rated token @i so far, read as negated when what
 * it rates is said to be less (less_before()) or, for a good thing, to
 * be past (used_to_before()); the rule goes into *@rules. */
static __attribute__((noinline)) double less_or_past(const struct scratch *sc,
                                                     size_t i, size_t reach,
                                                     double v, unsigned *rules)
{
    double base = sc->t[i].e->valence;
    if (less_before(sc, i, reach)) {
        *rules |= ES_RULE_LESS;
        return v * negation_scalar(base);
    }
    if (reach > 1 && base > 0 && used_to_before(sc, i)) {
        *rules |= ES_RULE_ENDED;
        return v * negation_scalar(base);
    }
    return v;
}

/* The valence of token @i after the rules that look at its neighbours. */
static double token_valence(struct scratch *sc, size_t i, int cap_diff)
{
    struct tok *t = sc->t;
    struct tok *cur = &t[i];
    const struct lex_entry *e = cur->e;
    double base = e->valence;
    double v = base;
    unsigned rules = ES_RULE_LEXICON;

    /* A phrase rated 0 hides the words in it and rates nothing: no
     * booster or capitals make it a sentiment ("so I turned around and
     * went home", "SO LOOKS LIKE RAIN"). */
    if (base == 0) {
        cur->rules |= rules;
        return 0;
    }

    /* An emoticon or emoji comments on the whole sentence and is in no
     * word's scope: "I don't know :(" is sad, not happy, and the "way"
     * of "no way :)" boosts nothing. */
    int emo = is_emo(cur);
    if (cur->kind == TK_EMO)
        rules |= ES_RULE_EMOJI;
    if (cur->upper && cap_diff) {
        v += v > 0 ? C_INCR : -C_INCR;
        rules |= ES_RULE_CAPS;
    }
    /* How far back the modifiers reach: three tokens, and never past
     * the end of the clause before ("not good, but great"). */
    size_t reach = 0;
    while (!emo && reach < 3 && reach < i && !t[i - reach - 1].brk)
        reach++;
    /* "no" before it, two before it, or "no X or Y"; a "no" after a "no"
     * says it again ("no no no"). */
    if (!(e->flags & LEX_NO) &&
        ((reach > 0 && (flags_of(&t[i - 1]) & LEX_NO)) ||
         (reach > 1 && (flags_of(&t[i - 2]) & LEX_NO)) ||
         (reach > 2 && (flags_of(&t[i - 3]) & LEX_NO) &&
          (flags_of(&t[i - 1]) & LEX_OR_NOR)))) {
        v = base * negation_scalar(base);
        rules |= ES_RULE_NO;
    }
    for (size_t k = 1; k <= reach; k++) {
        const struct tok *p = &t[i - k];
        /* A rated word before it is sentiment of its own and ends the
         * reach ("don't care, don't care"), unless it is a booster first
         * ("super happy"). */
        if (rated(p) && !is_booster(p) && !p->neg)
            break;
        double s = booster_step(p, v, cap_diff, &rules);
        if (k == 2)
            s *= 0.95;
        else if (k == 3)
            s *= 0.9;
        v += s;
        /* "can't open it without it crashing", "not without problems":
         * two negations, none. */
        if (p->neg && without_after_neg(sc, i - k))
            break;
        if (k == 1) {
            /* "can't breathe lmao": laughter is no word a negation
             * reaches. */
            if (p->neg && base < 0 && negation_feared(sc, i - k)) {
                /* Nothing farther back adds to what counts 0. */
                v = 0;
                rules |= ES_RULE_FEARED;
                break;
            } else if (p->neg && !laugh_mark(cur) && !not_again(sc, i - k)) {
                v *= negation_scalar(base);
                rules |= ES_RULE_NEGATION;
            }
        } else {
            /* "nothing and im thrilled": a clause of its own after "and"
             * is out of the negation's reach. Asked only of a negation
             * two or three back, which few words have. */
            if (p->neg && and_new_subject(sc, i - 1))
                break;
            if (p->neg && k == 3 && and_new_subject(sc, i - 2))
                break;
            /* "not urgent but annoying": the contrast's clause is out of
             * its reach too. */
            if (p->neg && ((flags_of(&t[i - 1]) & LEX_BUT) ||
                           (k == 3 && (flags_of(&t[i - 2]) & LEX_BUT))))
                break;
            /* "never so good", "never this good": emphasis, no flip;
             * "without a doubt": no flip. */
            uint32_t fk = flags_of(p);
            int never_so = (fk & LEX_NEVER) &&
                           ((flags_of(&t[i - 1]) & LEX_SO_THIS) ||
                            (k == 3 && (flags_of(&t[i - 2]) & LEX_SO_THIS)));
            int without_doubt = (fk & LEX_WITHOUT) &&
                                ((flags_of(&t[i - 1]) & LEX_DOUBT) ||
                                 (k == 3 && (flags_of(&t[i - 2]) & LEX_DOUBT)));
            int turned = p->neg ? negation_turned(sc, i - k, i) : 0;
            if (p->neg && !turned && negation_feared(sc, i - k))
                turned = 3;
            /* A good thing not wanted is negated as ever. */
            if (turned == 3 && base >= 0)
                turned = 0;
            if (never_so || turned == 1) {
                v *= NEVER_SO;
                rules |= ES_RULE_NEVER_SO;
            } else if (turned == 3) {
                v = 0;
                rules |= ES_RULE_FEARED;
                break;
            } else if (!without_doubt && !turned && p->neg &&
                       !laugh_mark(cur) && !not_again(sc, i - k)) {
                v *= negation_scalar(base);
                rules |= ES_RULE_NEGATION;
            }
        }
    }
    /* "least" before it, unless "at least" or "very least". */
    if (reach > 0 && (flags_of(&t[i - 1]) & LEX_LEAST) && !rated(&t[i - 1]) &&
        !(i > 1 && (flags_of(&t[i - 2]) & LEX_AT_VERY))) {
        v *= N_SCALAR;
        rules |= ES_RULE_LEAST;
    }
    /* "less", "fewer", "than", "to", "be" or a booster right before it:
     * one test of hashes with no branch between, which nearly every
     * rated word fails, then the rules out of line. */
    if (reach > 0) {
        uint32_t ph = t[i - 1].hash;
        if ((ph == rule_hash.less) | (ph == rule_hash.fewer) |
            (ph == rule_hash.than) | (ph == rule_hash.to) |
            (ph == rule_hash.be) | is_booster(&t[i - 1]))
            v = less_or_past(sc, i, reach, v, &rules);
    }
    cur->rules |= rules;
    return v;
}

/* How far a remedy reaches: "fixed most of my gripes". */
#define REMEDY_REACH 4

/* 1 when token @t ends what a remedy is of: a verb ("the fixed fee is
 * ridiculous", "the fixes are awful") or a conjunction ("fixed the
 * login and broke the sync", "resolved but the problem is still
 * there"). */
static int remedy_stop(const struct scratch *sc, const struct tok *t)
{
    static const char *const words[] = { "is",    "are",  "was",   "were",
                                         "be",    "been", "being", "seems",
                                         "looks", "and" };
    return (flags_of(t) & (LEX_BUT | LEX_THOUGH)) ||
           low_is_one_of(sc, t, words, sizeof(words) / sizeof(words[0]));
}

/* 1 when a remedy said as done, and not negated, comes before token @i
 * in its clause with nothing rated positive between: "the update fixed
 * the crashes", "solved my login issue". The trouble it names is gone
 * and rates nothing; "never fixed the bug" keeps it (the remedy, negated,
 * scores below zero), and so does a trouble past a verb or conjunction
 * (remedy_stop()). */
static int remedied(const struct scratch *sc, size_t i)
{
    const struct tok *t = sc->t;
    for (size_t k = 1; k <= REMEDY_REACH && k <= i && !t[i - k].brk; k++) {
        const struct tok *p = &t[i - k];
        if (flags_of(p) & LEX_REMEDY) {
            if (p->score <= 0)
                return 0;
            for (size_t j = i - k + 1; j < i; j++)
                if (remedy_stop(sc, &t[j]))
                    return 0;
            return 1;
        }
        if (p->score > 0)
            return 0;
    }
    return 0;
}

/* 1 when the clause ends with token @i, or after one word that only
 * times it ("the outage is over now", "is gone already") or an emoji:
 * "the fee is over $100" goes on. */
static int clause_ends_after(const struct scratch *sc, size_t i)
{
    static const char *const when[] = { "now", "already", "finally", "again" };
    const struct tok *t = sc->t;
    if (t[i].brk || i + 1 == sc->n)
        return 1;
    const struct tok *next = &t[i + 1];
    if (next->kind == TK_EMO)
        return 1;
    return (next->brk || i + 2 == sc->n) &&
           low_is_one_of(sc, next, when, sizeof(when) / sizeof(when[0]));
}

/* 1 when the word after the ending at @i leaves it intransitive: the
 * clause ends, or an adverb or a time follows ("the crashes stopped
 * after the update", "the lag disappeared completely"); not "stopped
 * the bleeding" or "is over $100". */
static int ending_alone(const struct scratch *sc, size_t i)
{
    static const char *const after[] = {
        "after",       "since",      "when",    "once",   "completely",
        "entirely",    "altogether", "finally", "now",    "already",
        "immediately", "overnight",  "today",   "again",  "for",
        "in",          "from",       "with",    "during", "on",
    };
    if (clause_ends_after(sc, i))
        return 1;
    return low_is_one_of(sc, &sc->t[i + 1], after,
                         sizeof(after) / sizeof(after[0]));
}

/* The remedy at token @i, said in the passive ("the crash is fixed",
 * "my problem was finally solved", or a headline's "outage resolved"),
 * or an ending: a trouble that ends ("the lag is gone", "the error went
 * away", "the crashes stopped", "the outage is over"). The trouble
 * before it, in its clause, rates nothing after a rated remedy, and is
 * read as negated after an ending; a good thing before an ending is a
 * loss ("my vacation is over"). Scored tokens are read back; @i has its
 * score. A rated remedy counts when its score is above zero (not
 * negated); an ending when no negation is right before it ("the bug is
 * not gone", "the error never went away"). An ending rated below zero
 * ("stopped", "disappeared") keeps its valence unless a trouble ends
 * with it ("my order disappeared" is bad news). */
static void remedy_passive(struct scratch *sc, size_t i)
{
    static const char *const be[] = { "is",   "are",  "was", "were", "got",
                                      "gets", "been", "has", "have" };
    /* The verbs of rules.c's endings, which need no verb of being. */
    static const char *const verbs[] = { "stopped", "disappeared", "vanished",
                                         "ceased" };
    static const char *const over[] = { "over" };
    /* Rated below zero as what an unhappy customer asks for, they are
     * owed, not a trouble: "my refund never came back" is no relief. */
    static const char *const owed[] = { "refund", "refunds" };
    /* What treats a trouble: before one of them the trouble names the
     * treatment ("my epilepsy medication is gone", "the pain meds are
     * gone"), and it is the treatment that ended. */
    static const char *const treatment[] = {
        "medication", "medications", "medicine", "medicines", "meds",
        "tablets",    "pills",       "inhaler",  "inhalers",  "relief",
        "treatment",  "cream",       "spray",    "drops",     "prescription",
    };
    static const char *const to[] = { "to" };
    static const char *const when[] = { "finally", "eventually", "at last" };
    struct tok *t = sc->t;
    size_t k;
    if (i < 1 || t[i - 1].brk)
        return;
    int rated = (flags_of(&t[i]) & LEX_VALENCE) != 0;
    /* "my bag has gone to Rome": gone somewhere, not ended. */
    if (!rated && i + 1 < sc->n && !t[i].brk &&
        low_is_one_of(sc, &t[i + 1], to, 1))
        return;
    int ending = !rated || t[i].valence < 0;
    if (!ending) {
        if (t[i].score <= 0)
            return;
    } else if (t[i - 1].neg || (i >= 2 && !t[i - 2].brk && t[i - 2].neg)) {
        return;
    }
    int verb = ending && low_is_one_of(sc, &t[i], verbs,
                                       sizeof(verbs) / sizeof(verbs[0]));
    /* "is over $100", "stopped the bleeding": no ending. */
    if (ending && (verb || low_is_one_of(sc, &t[i], over, 1)) &&
        !ending_alone(sc, i))
        return;
    /* A verb of being before it ("is fixed", "has gone away"), maybe with
     * one word not rated negative between ("was finally fixed"); a
     * trouble that went away or stopped needs none ("the error went
     * away", "the crashes stopped"), nor a headline's remedy at the end
     * of its clause ("Outage resolved."). */
    if (low_is_one_of(sc, &t[i - 1], be, sizeof(be) / sizeof(be[0]))) {
        k = 1;
    } else if (i >= 2 && t[i - 1].score >= 0 && !t[i - 2].brk &&
               low_is_one_of(sc, &t[i - 2], be, sizeof(be) / sizeof(be[0]))) {
        k = 2;
    } else if ((t[i].rules & ES_RULE_IDIOM) || verb ||
               (!ending && clause_ends_after(sc, i)) ||
               /* Said as a headline: "EV anxiety gone", "pain gone",
                * or a loss: "my patience gone". */
               (ending && t[i - 1].score != 0 && clause_ends_after(sc, i))) {
        k = 0;
    } else {
        return;
    }
    if (i < k + 1)
        return;
    int ended_trouble = 0;
    for (size_t j = i - k; j > 0 && i - k - j < REMEDY_REACH; j--) {
        struct tok *p = &t[j - 1];
        /* "the rain finally stopped": when, not a good thing ended. */
        if (!p->brk && p->score > 0 &&
            low_is_one_of(sc, p, when, sizeof(when) / sizeof(when[0])))
            continue;
        /* A good thing before the trouble that ends is no loss: "I hope
         * the lag goes away". */
        if (p->brk || remedy_stop(sc, p) ||
            (p->score > 0 && (!ending || ended_trouble)))
            return;
        if (p->score > 0) {
            /* A good thing that ends is a loss: "my vacation is over",
             * "the magic is gone". */
            p->score *= (float)N_SCALAR;
            p->rules |= ES_RULE_ENDED;
        } else if (p->score < 0) {
            if (ending &&
                low_is_one_of(sc, p, owed, sizeof(owed) / sizeof(owed[0])))
                return;
            if (low_is_one_of(sc, &t[j], treatment,
                              sizeof(treatment) / sizeof(treatment[0])))
                return;
            /* A rated remedy says the good itself ("fixed"); an ending
             * ("gone") says it through the trouble, read as negation
             * reads it: "the pain went away" is "no more pain", and an
             * ending's own harm ("stopped") was the trouble's. */
            p->score = ending ? p->score * (float)N_SCALAR : 0;
            p->rules |= ES_RULE_REMEDY;
            ended_trouble = 1;
            if (ending && t[i].score < 0) {
                t[i].score = 0;
                t[i].rules |= ES_RULE_REMEDY;
            }
        }
    }
}

/* Scales the scores of tokens @lo..@hi (inclusive; none when @lo > @hi)
 * by @w, marking them with @rule. */
static void weigh(struct tok *t, size_t lo, size_t hi, double w, unsigned rule)
{
    for (size_t j = lo; j <= hi; j++)
        if (t[j].score != 0) {
            t[j].score *= (float)w;
            t[j].rules |= rule;
        }
}

/* The contrast of the sentence @lo..@hi around its first contrastive
 * conjunction @b; @prev is where the sentence before it starts (@lo when
 * none): "Great game! But the refs..." contrasts with that one. */
static void contrast_sentence(struct tok *t, size_t prev, size_t lo, size_t hi,
                              size_t b)
{
    t[b].rules |= ES_RULE_MODIFIER;
    if (flags_of(&t[b]) & LEX_BUT) {
        if (b > lo)
            weigh(t, lo, b - 1, BUT_BEFORE, ES_RULE_BUT_BEFORE);
        else if (prev < lo)
            weigh(t, prev, lo - 1, BUT_BEFORE, ES_RULE_BUT_BEFORE);
        weigh(t, b + 1, hi, BUT_AFTER, ES_RULE_BUT_AFTER);
        return;
    }
    /* "Lately though, it crashes" and "The app, though, is slow": the
     * adverb "however", which turns from the sentence before as a
     * leading "but" does. */
    if (t[b].brk && b < hi && (b == lo + 1 || (b > lo && t[b - 1].brk))) {
        if (prev < lo)
            weigh(t, prev, lo - 1, BUT_BEFORE, ES_RULE_BUT_BEFORE);
        weigh(t, b + 1, hi, BUT_AFTER, ES_RULE_BUT_AFTER);
        return;
    }
    /* "although": its own clause is the subordinate one. */
    if (t[b].brk || b == hi)
        return;         /* "good, though." says nothing about clauses */
    size_t end = b + 1; /* the last token of its clause */
    while (end < hi && !t[end].brk)
        end++;
    int leading = b == lo;
    if (leading && end == hi)
        return; /* "Although it rained." - no main clause to favour */
    weigh(t, b + 1, end, BUT_BEFORE, ES_RULE_BUT_BEFORE);
    if (leading)
        weigh(t, end + 1, hi, BUT_AFTER, ES_RULE_BUT_AFTER);
}

/* Reads the positive contribution of @t, if it has one, as negated:
 * praise said in irony. */
static void say_ironically(struct tok *t)
{
    if (t->score > 0) {
        t->score *= (float)N_SCALAR;
        t->rules |= ES_RULE_IRONY;
    }
}

/* The strength of the bad situation that makes praise ironic. */
#define IRONY_NEG (-1.0)

/* 1 when token @k may stand with praise in a clause of its own: a
 * booster ("so great") or a particle ("oh", "just", "well", "yeah",
 * "how"), not a noun ("Great product, slow shipping" is no irony). */
static int praise_particle(const struct scratch *sc, size_t k)
{
    static const char *const words[] = { "oh",  "just", "well", "yeah",
                                         "how", "wow",  "ah",   "ahh" };
    const struct tok *t = &sc->t[k];
    if ((flags_of(t) & LEX_BOOSTER) || laugh_mark(t))
        return 1;
    /* Their lengths first: most words before praise are none of them. */
    return t->llen >= 2 && t->llen <= 4 &&
           low_is_one_of(sc, t, words, sizeof(words) / sizeof(words[0]));
}

/* 1 when token @i opens its sentence, maybe after particles ("Oh
 * wonderful, another outage", "Well, great."). */
static int opens_sentence(const struct scratch *sc, size_t i)
{
    for (size_t k = i; k > 0; k--) {
        if (sc->t[k - 1].send)
            return 1;
        if (!praise_particle(sc, k - 1))
            return 0;
    }
    return 1;
}

/* 1 when token @k, after praise, names the people it is said to
 * ("Great job guys,", "Well done everyone,"), as a particle stands with
 * it; not a noun the praise is of ("great team", "great people"). */
static int praise_vocative(const struct scratch *sc, size_t k)
{
    static const char *const words[] = { "guys",      "folks", "everyone",
                                         "everybody", "yall",  "y'all",
                                         "lads",      "peeps" };
    const struct tok *t = &sc->t[k];
    return t->llen >= 4 && t->llen <= 9 &&
           low_is_one_of(sc, t, words, sizeof(words) / sizeof(words[0]));
}

/* How many tokens from @k, a "start" (the caller's test), name the time
 * praise greets ("start to the week" in "Great start to the week, car
 * won't start"): 0 when they do not. */
static __attribute__((noinline)) size_t praise_period(const struct scratch *sc,
                                                      size_t k)
{
    static const char *const det[] = { "the", "my", "our", "a" };
    static const char *const period[] = {
        "day",   "week",   "weekend", "morning", "year",     "month",
        "shift", "monday", "holiday", "trip",    "vacation", "semester",
    };
    const struct tok *t = sc->t;
    if (k + 3 >= sc->n || t[k].brk || !low_is(sc, k + 1, "to", 2) ||
        t[k + 1].brk)
        return 0;
    size_t p = k + 2;
    if (low_is_one_of(sc, &t[p], det, sizeof(det) / sizeof(det[0]))) {
        if (t[p].brk || p + 1 >= sc->n)
            return 0;
        p++;
    }
    if (!low_is_one_of(sc, &t[p], period, sizeof(period) / sizeof(period[0])))
        return 0;
    return p - k + 1;
}

/* 1 when token @j is praise alone in its clause ("Great,", "Just
 * perfect.", "Oh wonderful.", "Great job guys,"): a positive word of
 * LEX_PRAISE with no other word in its clause but particles, and after
 * it the people it is said to. */
static int lone_praise(const struct scratch *sc, size_t j)
{
    static const char *const another[] = { "another", "more" };
    const struct tok *t = sc->t;
    if (!(flags_of(&t[j]) & LEX_PRAISE) || t[j].score <= 0)
        return 0;
    for (size_t k = j; k > 0 && !t[k - 1].brk; k--)
        if (!praise_particle(sc, k - 1))
            return 0;
    /* The people addressed follow a phrase of praise or thanks ("great
     * job guys", "thanks folks"); after a lone adjective they are what
     * it praises ("Great guys, terrible food"). */
    int says = (t[j].rules & ES_RULE_IDIOM) || (flags_of(&t[j]) & LEX_THANKS);
    for (size_t k = j; k + 1 < sc->n && !t[k].brk; k++) {
        /* "yay another outage", "great more bugs": the comma left out
         * before what the praise greets. */
        if (low_is_one_of(sc, &t[k + 1], another, 2))
            return 1;
        /* "Great start to the week, ...": the time greeted. */
        size_t span = k == j && low_is(sc, k + 1, "start", 5)
                          ? praise_period(sc, k + 1)
                          : 0;
        if (span) {
            k += span - 1;
            continue;
        }
        if (!praise_particle(sc, k + 1) &&
            !(says && praise_vocative(sc, k + 1)))
            return 0;
    }
    return 1;
}

/* 1 when one of the @n words in @words (lower case) stands as a word in
 * the text of tokens @lo..@hi, in any case. */
static int span_has_word(const struct scratch *sc, size_t lo, size_t hi,
                         const char *const *words, size_t n)
{
    const char *s = sc->text + sc->t[lo].off;
    size_t len = sc->t[hi].off + sc->t[hi].len - sc->t[lo].off;
    for (size_t w = 0; w < n; w++) {
        size_t wl = strlen(words[w]);
        for (size_t k = 0; k + wl <= len; k++)
            if ((k == 0 || !isalnum((unsigned char)s[k - 1])) &&
                (k + wl == len || !isalnum((unsigned char)s[k + wl])) &&
                strncasecmp(s + k, words[w], wl) == 0)
                return 1;
    }
    return 0;
}

/* 1 when the trouble in tokens @lo..@hi comes again or goes on: "Great,
 * my order was lost again", "Thanks. Still waiting." */
static int trouble_again(const struct scratch *sc, size_t lo, size_t hi)
{
    static const char *const again[] = { "again", "another", "still" };
    return span_has_word(sc, lo, hi, again, 3);
}

/* 1 when praise alone at a sentence's start, before the bad situation of
 * tokens @lo..@hi, reads as irony: the situation is news ("Great, the
 * site is down"), or comes again ("Great, my order was lost again").
 * A state the praise greets as over is no irony: "Awesome, I was worried
 * it was broken", "Great, that was a nasty bug", "Nice, the bug that
 * drained my battery is gone", "Great, the outage is over". */
static int news_not_relief(const struct scratch *sc, size_t lo, size_t hi)
{
    static const char *const over[] = { "was",  "were",    "had",     "been",
                                        "gone", "is over", "are over" };
    return trouble_again(sc, lo, hi) || !span_has_word(sc, lo, hi, over, 7);
}

/* 1 when token @i is "love" or "loving" before a word in -ing: praise
 * of a doing, which frames what follows as "love waiting" does ("love
 * waking up to a locked account", "loving paying twice"). */
static int love_doing(const struct scratch *sc, size_t i)
{
    static const char *const love[] = { "love", "loving", "luv" };
    const struct tok *t = sc->t;
    if (i + 1 >= sc->n || t[i].brk || t[i].llen < 3 || t[i].llen > 6 ||
        !low_is_one_of(sc, &t[i], love, 3))
        return 0;
    const struct tok *w = &t[i + 1];
    const char *s = sc->low + w->loff;
    return w->llen >= 5 && s[w->llen - 3] == 'i' && s[w->llen - 2] == 'n' &&
           s[w->llen - 1] == 'g';
}

/* 1 when the thanks at token @i is "thanks for that" (or "cheers for
 * that") closing its clause, maybe with "one" or the people it is said
 * to ("thanks for that one guys"): thanks for what was told before,
 * which after bad news is sarcasm ("Flight cancelled again. Thanks for
 * that."). "thanks for this" mostly thanks a thing shared, and stays. */
static int thanks_for_that(const struct scratch *sc, size_t i)
{
    static const char *const for_word[] = { "for", "4" };
    static const char *const that[] = { "that" };
    static const char *const one[] = { "one" };
    const struct tok *t = sc->t;
    if (i + 2 >= sc->n || t[i].brk || t[i + 1].brk ||
        !low_is_one_of(sc, &t[i + 1], for_word, 2) ||
        !low_is_one_of(sc, &t[i + 2], that, 1))
        return 0;
    size_t k = i + 2;
    if (!clause_ends_after(sc, k) && low_is_one_of(sc, &t[k + 1], one, 1))
        k++;
    while (!clause_ends_after(sc, k) && praise_vocative(sc, k + 1))
        k++;
    return clause_ends_after(sc, k);
}

/* 1 when tokens @lo..@hi-1 hold a word at IRONY_NEG or below and no
 * contrast ("but", "though"; *@pos is set then, as it is for a positive
 * word that is no praise). */
static int trouble_before(const struct scratch *sc, size_t lo, size_t hi,
                          int *pos)
{
    const struct tok *t = sc->t;
    int neg = 0;
    for (size_t j = lo; j < hi; j++) {
        if (flags_of(&t[j]) & (LEX_BUT | LEX_THOUGH)) {
            *pos = 1;
            return 0;
        }
        if (t[j].score <= IRONY_NEG)
            neg = 1;
        else if (t[j].score > 0 && !(flags_of(&t[j]) & LEX_PRAISE))
            *pos = 1;
    }
    return neg;
}

/* 1 when tokens @lo..@hi-1, before praise that closes them, tell bad
 * news it can be irony of: trouble_before(), told as news rather than
 * relief. */
static int news_before(const struct scratch *sc, size_t lo, size_t hi, int *pos)
{
    return trouble_before(sc, lo, hi, pos) && news_not_relief(sc, lo, hi - 1);
}

/* 1 when token @j opens a clause that says when, as "when" would: a
 * time after "the" or "that" with a subject or "my" after it ("thank you
 * for staying open late the night my train got cancelled", "thanks for
 * the lift the day the buses were off"). */
static __attribute__((noinline)) int time_told(const struct scratch *sc,
                                               size_t j)
{
    static const char *const the[] = { "the", "that" };
    static const char *const time[] = { "night",   "day",       "morning",
                                        "evening", "afternoon", "week",
                                        "weekend", "time" };
    static const char *const who[] = { "my",  "our", "i",     "we",  "the",
                                       "his", "her", "their", "your" };
    const struct tok *t = sc->t;
    return j > 0 && j + 1 < sc->n && !t[j - 1].brk && !t[j].brk &&
           low_is_one_of(sc, &t[j - 1], the, 2) &&
           low_is_one_of(sc, &t[j], time, sizeof(time) / sizeof(time[0])) &&
           low_is_one_of(sc, &t[j + 1], who, sizeof(who) / sizeof(who[0]));
}

/* Praise whose object is a plainly bad situation is irony (the contrast
 * Riloff et al. 2013 describe): "Great, another outage.", "Perfect. Just
 * perfect. Order lost again.", "love waiting 2 hours on hold", "thanks
 * for the 3 hour delay", "great job losing my package". The praise is
 * read as negation reads it (x -0.74) when what it is of holds a word at
 * IRONY_NEG or below and nothing rated positive:
 * - praise alone in a clause that opens a sentence ("Great,") is of what
 *   follows, up to the end of the first sentence after it that rates
 *   anything else, unless a contrast comes first ("Great, but ..."); a
 *   lone "Thanks." only when the trouble goes on ("Thanks. Still
 *   waiting.");
 * - praise that frames what follows ("thanks for", "great job", "gotta
 *   love", "love how", "nice of you", "outdid themselves") is of the
 *   rest of its clause, up to a contrast ("but", "though") or a word
 *   that turns to something else ("for" after the frame, "who",
 *   "despite").
 * Praise inside a clause otherwise is left alone: "great for back
 * pain", "a great cast wasted on a bad script" are no irony. */
static __attribute__((noinline)) void apply_irony(struct scratch *sc)
{
    static const char *const for_word[] = { "for" };
    static const char *const after_word[] = {
        "after", "during", "throughout", "when", "while", "where",
    };
    static const char *const feelings[] = { "happy", "glad", "love" };
    struct tok *t = sc->t;
    size_t n = sc->n;
    for (size_t i = 0; i < n; i++) {
        uint32_t f = flags_of(&t[i]);
        if (!(f & LEX_PRAISE) || t[i].score <= 0)
            continue;
        int neg = 0, pos = 0;
        size_t end = i;
        int lone = lone_praise(sc, i);
        /* Alone in its clause, the praise may open its sentence, or
         * close it after the news. */
        int closing =
            lone && !(f & LEX_THANKS) && i > 0 && (t[i].send || i + 1 == n);
        if (lone && opens_sentence(sc, i)) {
            int other = 0; /* a sentence rating something else began */
            for (size_t j = i + 1; j < n; j++) {
                /* "Great, but the app crashed": the contrast says the
                 * praise was meant. */
                if (!other &&
                    (flags_of(&t[j]) & (LEX_BUT | LEX_THOUGH | LEX_SCOPE))) {
                    neg = 0;
                    break;
                }
                end = j;
                if (lone_praise(sc, j))
                    ;
                else if (t[j].score <= IRONY_NEG)
                    neg = other = 1;
                else if (t[j].score > 0)
                    pos = other = 1;
                else if (t[j].score != 0)
                    other = 1;
                if (t[j].send && other)
                    break;
            }
            /* A lone "Thanks." is mostly meant ("Thanks! My order
             * arrived damaged, can you help?"), unless the trouble goes
             * on: "Thanks. Still waiting." */
            if (neg && !((f & LEX_THANKS) ? trouble_again(sc, i + 1, end)
                                          : news_not_relief(sc, i + 1, end)))
                neg = 0;
            /* Said with a particle ("Just perfect.", "So great.") as
             * the text's last sentence, with nothing rated after it, it
             * closes the news of the sentence before: "Flight cancelled
             * again. Just perfect." Without one ("Lost my wallet.
             * Great.") it measured worse on the tweets. Not a feeling
             * ("only one glitch. Very happy."), which sums up as meant. */
            size_t so = sentence_start(t, i);
            if (!other && so > 0 && end + 1 == n && !(f & LEX_THANKS) &&
                so < i && praise_particle(sc, i - 1) &&
                !low_is_one_of(sc, &t[i], feelings,
                               sizeof(feelings) / sizeof(feelings[0])))
                neg = news_before(sc, sentence_start(t, so - 1), so, &pos);
        } else if ((f & LEX_THANKS) && thanks_for_that(sc, i)) {
            /* Thanks for what the sentence told, or for the sentence
             * before when the thanks opens its own. */
            size_t so = sentence_start(t, i);
            size_t lo = so;
            if (so > 0 && opens_sentence(sc, i))
                lo = sentence_start(t, so - 1);
            /* Past or not: "my order was lost. Thanks for that." */
            neg = trouble_before(sc, lo, i, &pos);
        } else if (closing) {
            /* The same praise closing the sentence that told the news:
             * "Servers down during the event, great.", "Flight cancelled
             * again, awesome". (A sentence of its own after the news,
             * "Lost my wallet. Great.", measured worse on the tweets.) */
            neg = news_before(sc, sentence_start(t, i), i, &pos);
        } else if (!t[i].brk && ((f & LEX_FRAME) ||
                                 ((f & LEX_THANKS) && i + 1 < n &&
                                  low_is_one_of(sc, &t[i + 1], for_word, 1)) ||
                                 love_doing(sc, i))) {
            for (size_t j = i + 1; j < n; j++) {
                uint32_t fj = flags_of(&t[j]);
                /* "thanks for the refund after the delay", "thanks for
                 * the updates during the outage", "thanks for extending
                 * the trial when the import broke", "thank you for the
                 * refund on the ride where the app glitched": the trouble
                 * after "after", "during", "when" or "where" is what was
                 * put right or lived through, not what is thanked. */
                if ((fj & (LEX_BUT | LEX_THOUGH)) ||
                    ((fj & LEX_SCOPE) && !(j == i + 1 && (f & LEX_THANKS))) ||
                    low_is_one_of(sc, &t[j], after_word,
                                  sizeof(after_word) / sizeof(after_word[0])) ||
                    time_told(sc, j))
                    break;
                end = j;
                if (t[j].score <= IRONY_NEG)
                    neg = 1;
                else if (t[j].score > 0)
                    pos = 1;
                if (t[j].brk)
                    break;
            }
        } else {
            continue;
        }
        if (!neg || pos)
            continue;
        for (size_t j = i; j <= end; j++)
            if (flags_of(&t[j]) & LEX_PRAISE)
                say_ironically(&t[j]);
        i = end;
    }
}

/* 1 when @buf ends with a mark its writer puts on sarcasm: Reddit's
 * "/s", "#sarcasm" or "#not" as the last word ("great update /s", "love
 * mondays #not"). A URL's "/s" is no mark: the mark follows a space. */
static int sarcasm_marked(const char *buf, size_t len)
{
    static const char *const marks[] = { "/s", "#sarcasm", "#not" };
    while (len && (buf[len - 1] == ' ' || buf[len - 1] == '\t' ||
                   buf[len - 1] == '\r' || buf[len - 1] == '\n'))
        len--;
    for (size_t m = 0; m < sizeof(marks) / sizeof(marks[0]); m++) {
        size_t ml = strlen(marks[m]);
        /* Its first byte ('/' or '#') first: every text comes here. */
        if (len >= ml && buf[len - ml] == marks[m][0] &&
            strncasecmp(buf + len - ml, marks[m], ml) == 0 &&
            (len == ml || buf[len - ml - 1] == ' ' ||
             buf[len - ml - 1] == '\t'))
            return 1;
    }
    return 0;
}

/* A text its writer marked as sarcasm says the opposite of its praise:
 * every positive contribution is read as negated, as irony is. */
static void apply_sarcasm_mark(struct scratch *sc)
{
    for (size_t i = 0; i < sc->n; i++)
        say_ironically(&sc->t[i]);
}

/* 1 when the "but" at @b answers a "not only" or "not just" before it in
 * its sentence (from @lo): "not only fast but also cheap" adds, and takes
 * nothing back. */
static int but_adds(const struct scratch *sc, size_t lo, size_t b)
{
    static const char *const first[] = { "not only", "not just" };
    for (size_t j = lo; j < b; j++)
        if (low_is_one_of(sc, &sc->t[j], first, 2))
            return 1;
    return 0;
}

/* "if it were any good", "unless you like waiting": a clause of "if" or
 * "unless" says what may be, not what is, and its words count half, to
 * the clause's end. SO-CAL (Taboada et al. 2011) ignores such irrealis
 * words outright; half their weight measured better here on all four
 * dev sets (and nothing, worse). Emoji comment on the sentence and keep
 * theirs. */
static void apply_irrealis(struct scratch *sc)
{
    struct tok *t = sc->t;
    size_t n = sc->n;
    for (size_t i = 0; i < n; i++) {
        if ((flags_of(&t[i]) & LEX_IRREALIS) != LEX_IRREALIS)
            continue;
        for (size_t j = i + 1; j < n && !t[j - 1].brk; j++)
            if (t[j].score != 0 && t[j].kind != TK_EMO) {
                t[j].score *= (float)IRREALIS;
                t[j].rules |= ES_RULE_IRREALIS;
            }
    }
}

/* Moves the weight between the clauses around a contrastive conjunction,
 * within its sentence: in a post of several sentences, "but" in the
 * second says nothing about the fourth. */
static void apply_contrast(struct scratch *sc)
{
    struct tok *t = sc->t;
    size_t n = sc->n, prev = 0, lo = 0, b = SIZE_MAX;
    /* One pass: the first conjunction of each sentence, then the
     * sentence's weights when it ends. */
    for (size_t i = 0; i < n; i++) {
        uint32_t f = flags_of(&t[i]);
        if (b == SIZE_MAX && (f & (LEX_BUT | LEX_THOUGH)) &&
            !((f & LEX_BUT) && but_adds(sc, lo, i)))
            b = i;
        if (t[i].send || i == n - 1) {
            if (b != SIZE_MAX)
                contrast_sentence(t, prev, lo, i, b);
            prev = lo;
            lo = i + 1;
            b = SIZE_MAX;
        }
    }
}

/* The emphasis of "!" and "?" marks. */
static double punctuation_emphasis(const struct scratch *sc)
{
    unsigned ex = sc->excl > 4 ? 4 : sc->excl;
    double amp = ex * EXCL_STEP;
    if (sc->quest > 1)
        amp += sc->quest <= 3 ? sc->quest * QUEST_STEP : QUEST_MAX;
    return amp;
}

static double normalize(double x)
{
    double s = x / sqrt(x * x + NORM_ALPHA);
    if (s < -1.0)
        return -1.0;
    if (s > 1.0)
        return 1.0;
    return s;
}

/* "Great phone for people who hate bloatware", "perfect for anyone who
 * hates cooking": the clause after "for <people> who" says what the
 * people it is for dislike or like, not what the writer thinks of the
 * thing; it rates nothing, up to the end of its clause or a contrast.
 * "I hate people who litter" names no audience and is left alone. */
static __attribute__((noinline)) void apply_audience(struct scratch *sc)
{
    static const char *const for_word[] = { "for" };
    static const char *const who[] = { "who", "that" };
    static const char *const people[] = {
        "people",    "anyone",     "anybody",   "those",   "someone",
        "somebody",  "everyone",   "everybody", "folks",   "users",
        "customers", "fans",       "gamers",    "parents", "beginners",
        "travelers", "travellers", "readers",   "viewers", "kids",
    };
    struct tok *t = sc->t;
    size_t n = sc->n;
    for (size_t i = 0; i + 3 < n; i++) {
        /* Cheapest first: most texts with "for" have no "who" after it. */
        if (!(flags_of(&t[i]) & LEX_SCOPE) || t[i].brk || t[i + 1].brk ||
            t[i + 2].brk || !low_is_one_of(sc, &t[i + 2], who, 2) ||
            !low_is_one_of(sc, &t[i], for_word, 1) ||
            !low_is_one_of(sc, &t[i + 1], people,
                           sizeof(people) / sizeof(people[0])))
            continue;
        size_t j = i + 3;
        for (; j < n && !(flags_of(&t[j]) & (LEX_BUT | LEX_THOUGH)); j++) {
            if (t[j].score != 0) {
                t[j].score = 0;
                t[j].rules |= ES_RULE_AUDIENCE;
            }
            if (t[j].brk)
                break;
        }
        i = j;
    }
}

/* Words that end the reach of laughter: "crying because my flight got
 * cancelled lol" cries about the flight. */
static int laughter_stop(const struct scratch *sc, const struct tok *t)
{
    static const char *const words[] = {
        "because", "cause", "cuz", "bc", "since", "when", "about", "over",
    };
    return low_is_one_of(sc, t, words, sizeof(words) / sizeof(words[0]));
}

/* "crying laughing", "lol I'm dying", "laughing so hard I cried", "I'm
 * dead 😂": tears, death and screaming next to laughter in a sentence
 * say how hard someone laughed, not that they grieve. Those words rate
 * nothing there, and the laughter counts. */
static __attribute__((noinline)) void apply_laughter(struct scratch *sc)
{
    enum { REACH = 5 };
    struct tok *t = sc->t;
    size_t n = sc->n;
    for (size_t i = 0; i < n; i++) {
        if (t[i].score >= 0 || !has_xflag(&t[i], LEXX_HARD))
            continue;
        int found = 0;
        /* Within the sentence, either side, up to a word that gives the
         * tears another cause. */
        for (size_t j = i; j-- > 0 && i - j <= REACH && !t[j].send;) {
            if (laughs(&t[j])) {
                found = 1;
                break;
            }
            if (laughter_stop(sc, &t[j]))
                break;
        }
        for (size_t j = i + 1;
             !found && j < n && j - i <= REACH && !t[j - 1].send; j++) {
            if (laughs(&t[j]))
                found = 1;
            else if (laughter_stop(sc, &t[j]))
                break;
        }
        if (found) {
            t[i].score = 0;
            t[i].rules |= ES_RULE_LAUGHTER;
        }
    }
}

/* "10/10 would not recommend", "5 stars would never buy again": a good
 * rating that the words right after it take back, in its clause, is a
 * joke at the product's expense, and reads as irony does. Not across a
 * comma: "4/5, slow shipping" is a rating and a complaint. */
static __attribute__((noinline)) void apply_score_irony(struct scratch *sc)
{
    /* "4 stars because it's missing a few features": the trouble says
     * why a star was taken, not that the rating is a joke. */
    static const char *const why[] = { "because", "cause", "cos",   "coz",
                                       "bc",      "as",    "since", "due" };
    struct tok *t = sc->t;
    size_t n = sc->n;
    for (size_t i = 0; i + 1 < n; i++) {
        if (!has_xflag(&t[i], LEXX_SCORE) || t[i].score <= 0)
            continue;
        if (!t[i].brk &&
            low_is_one_of(sc, &t[i + 1], why, sizeof(why) / sizeof(why[0])))
            continue;
        /* The first rated word within three, in the rating's clause and
         * before a contrast ("4/5 but slow shipping" is no joke). */
        for (size_t j = i; j + 1 < n && j - i < 3 && !t[j].brk; j++) {
            if (flags_of(&t[j + 1]) & (LEX_BUT | LEX_THOUGH))
                break;
            if (t[j + 1].score != 0) {
                if (t[j + 1].score < 0)
                    say_ironically(&t[i]);
                break;
            }
        }
    }
}

/* "Happy Monday... not", "Well that was fun. Not.": a "not" alone in its
 * clause, after a break, takes back the praise of the sentence before
 * it, as irony does. ("#not" is a sarcasm mark: apply_sarcasm_mark().) */
static __attribute__((noinline)) void apply_not_tail(struct scratch *sc)
{
    static const char *const not_word[] = { "not" };
    struct tok *t = sc->t;
    size_t last = sc->n;
    while (last > 0 && t[last - 1].kind == TK_EMO)
        last--;
    for (size_t k = 1; k < last; k++) {
        /* Alone in its clause: a break before it, and one after it or
         * nothing more ("Happy holidays... not, my order is lost"). */
        if (!t[k].neg || !t[k - 1].brk || !(t[k].brk || k + 1 == last) ||
            !low_is_one_of(sc, &t[k], not_word, 1))
            continue;
        for (size_t j = sentence_start(t, k - 1); j < k; j++)
            say_ironically(&t[j]);
    }
}

/* 1 when the article "a", too short to be a token, stands between
 * tokens @i and @i + 1 ("wasted a great cast"). */
static int dropped_a(const struct scratch *sc, size_t i)
{
    const struct tok *t = sc->t;
    const char *s = sc->text;
    for (uint32_t o = t[i].off + t[i].len; o < t[i + 1].off; o++)
        if ((s[o] == 'a' || s[o] == 'A') && !isalnum((unsigned char)s[o - 1]) &&
            !isalnum((unsigned char)s[o + 1]))
            return 1;
    return 0;
}

/* A good thing a harm is done to is a loss, read as negated as an ended
 * one is: "ruined my weekend", "wasted a great cast", "lacks the charm
 * of the first". The good is the object of a verb rated below zero,
 * after "my", "the", "a" and their like, within two words. */
static __attribute__((noinline)) void apply_harmed(struct scratch *sc)
{
    static const char *const det[] = { "my",    "our",   "your", "his", "her",
                                       "their", "the",   "a",    "an",  "this",
                                       "that",  "every", "any",  "all" };
    struct tok *t = sc->t;
    size_t n = sc->n;
    for (size_t i = 0; i + 1 < n; i++) {
        /* A verb of harm (LEXX_HARM) not negated ("not enjoying the" is
         * no harm done); the token's own fields first, as its entry is a
         * cache miss away. */
        if (t[i].score >= 0 || t[i].brk || (t[i].rules & ES_RULE_IDIOM) ||
            !has_xflag(&t[i], LEXX_HARM))
            continue;
        /* Its object: after a determiner, or the "a" no token stands for. */
        size_t first;
        if (t[i + 1].llen <= 5 && !t[i + 1].brk &&
            low_is_one_of(sc, &t[i + 1], det, sizeof(det) / sizeof(det[0])))
            first = i + 2;
        else if (dropped_a(sc, i))
            first = i + 1;
        else
            continue;
        for (size_t j = first; j < n && j <= first + 1; j++) {
            if (t[j].score < 0)
                break;
            if (t[j].score > 0) {
                t[j].score *= (float)N_SCALAR;
                t[j].rules |= ES_RULE_ENDED;
            }
            if (t[j].brk)
                break;
        }
    }
}

/* A claim asked back and corrected the other way is taken back: "5
 * stars? More like 1 star.", "Fast shipping? More like three weeks of
 * waiting." The sentence that ends in "?" before a sentence opening with
 * "more like" rates nothing when what follows has the other sign; of the
 * same sign it is emphasis ("Slow? More like glacial.") and stays. */
static __attribute__((noinline)) void apply_correction(struct scratch *sc)
{
    struct tok *t = sc->t;
    size_t n = sc->n;
    for (size_t i = 1; i < n; i++) {
        if (!has_xflag(&t[i], LEXX_CORRECT) || !t[i - 1].send ||
            !memchr(sc->text + t[i - 1].off + t[i - 1].len, '?',
                    t[i].off - (t[i - 1].off + t[i - 1].len)))
            continue;
        size_t lo = sentence_start(t, i - 1);
        double claim = 0, fix = 0;
        for (size_t j = lo; j < i; j++)
            claim += t[j].score;
        for (size_t j = i + 1; j < n; j++) {
            fix += t[j].score;
            if (t[j].send)
                break;
        }
        if (claim * fix >= 0)
            continue;
        for (size_t j = lo; j < i; j++)
            if (t[j].score != 0) {
                t[j].score = 0;
                t[j].rules |= ES_RULE_IRONY;
            }
    }
}

/* 1 when token @t is a word in -ly of five letters or more: an adverb
 * ("visibly", "really"), mostly. */
static int adverb_ly(const struct scratch *sc, const struct tok *t)
{
    const char *w = sc->low + t->loff;
    return t->llen >= 5 && w[t->llen - 2] == 'l' && w[t->llen - 1] == 'y';
}

/* 1 when token @i is "mid" said as a verdict, which only ends its
 * clause ("the new season is mid", "kinda mid tbh", "mid af 💀"); before
 * anything else it is a middle ("mid-July", "mid range", "mid 2024",
 * "low, mid and high"). */
static __attribute__((noinline)) int mid_verdict(const struct scratch *sc,
                                                 size_t i)
{
    static const char *const tags[] = { "af",   "asf", "tbh",      "ngl",
                                        "fr",   "imo", "honestly", "lol",
                                        "lmao", "bro", "fam",      "ong" };
    const struct tok *t = sc->t;
    if (t[i].brk || i + 1 == sc->n || t[i + 1].kind == TK_EMO)
        return 1;
    return low_is_one_of(sc, &t[i + 1], tags, sizeof(tags) / sizeof(tags[0]));
}

/* 1 when token @i is "like" as a filler, not a liking: before a number
 * or a sum ("took like 3 hours", "like $340"), before a '?' ("what's the
 * food like?"), or opening its clause before a pause ("Like, literally
 * raw"); unless a subject makes it the verb ("I like 3 of them"). A
 * one-digit number is no token of its own, so the bytes up to the next
 * token are read. */
static __attribute__((noinline)) int like_filler(const struct scratch *sc,
                                                 size_t i)
{
    static const char *const subject[] = { "you", "we", "they", "he", "she" };
    const struct tok *t = &sc->t[i];
    if (t->llen != 4 || memcmp(sc->low + t->loff, "like", 4) != 0 ||
        (i > 0 && low_is_one_of(sc, &t[-1], subject,
                                sizeof(subject) / sizeof(subject[0]))))
        return 0;
    /* "what's the food like?": a question of how, no liking. */
    size_t q = t->off + t->len;
    while (q < sc->tlen && sc->text[q] == ' ')
        q++;
    if (q < sc->tlen && sc->text[q] == '?')
        return 1;
    /* "I", one letter, is no token: read it from the text. */
    size_t b = t->off;
    while (b > 0 && sc->text[b - 1] == ' ')
        b--;
    if (b < t->off && b > 0 && (sc->text[b - 1] | 0x20) == 'i' &&
        (b == 1 || !isalnum((unsigned char)sc->text[b - 2])))
        return 0;
    /* "like actually pink in the middle", "Like, literally raw", "Like
     * visibly, the screen is lifting": opening its clause, before a comma
     * or an adverb in -ly, it is a pause. */
    if ((i == 0 || t[-1].brk) && i + 1 < sc->n &&
        ((t->brk && !t->send) || adverb_ly(sc, &t[1])))
        return 1;
    if (i + 1 >= sc->n || t->brk)
        return 0;
    /* Before a number, a sum too ("like $340", "like £20"). */
    for (size_t k = t->off + t->len; k <= sc->t[i + 1].off; k++) {
        unsigned char c = (unsigned char)sc->text[k];
        if (c >= '0' && c <= '9')
            return 1;
        if (c != ' ' && c != '$' && c != '~' && c < 0x80)
            return 0;
    }
    return 0;
}

/* 1 when the byte @c may end an opening quotation mark: '"', '\'', or
 * the last byte of a curly one. */
static inline int quote_mark(char c)
{
    return c == '"' || c == '\'' || c == '\x9C' || c == '\x98';
}

/* 1 when the rated word @t stands alone between quotation marks: scare
 * quotes ("their \"upgrade\" broke everything", "the so-called 'support'
 * team"), which deny the word rather than use it. Straight and curly
 * marks, the same kind on both sides. */
static __attribute__((noinline)) int scare_quoted(const struct scratch *sc,
                                                  const struct tok *t)
{
    size_t len = sc->tlen;
    const unsigned char *s = (const unsigned char *)sc->text;
    size_t a = t->off, b = t->off + t->len;
    /* One word: a phrase in quotes is more often quoted than denied
     * ("she said \"great job\""). */
    if (a == 0 || b >= len || !t->llen)
        return 0;
    if ((s[a - 1] == '"' && s[b] == '"') || (s[a - 1] == '\'' && s[b] == '\''))
        return 1;
    /* “word” and ‘word’: E2 80 9C .. E2 80 9D, E2 80 98 .. E2 80 99. */
    return a >= 3 && b + 2 < len && s[a - 3] == 0xE2 && s[a - 2] == 0x80 &&
           s[b] == 0xE2 && s[b + 1] == 0x80 &&
           ((s[a - 1] == 0x9C && s[b + 2] == 0x9D) ||
            (s[a - 1] == 0x98 && s[b + 2] == 0x99));
}

/* What "again" weighs in a boycott (see apply_never_again()), as the
 * lexicon rates "never ordering again". */
#define NEVER_AGAIN -1.8

/* "never shopping here again", "never using this courier again": a
 * boycott said with a verb no idiom of the lexicon names. A "never" with
 * a word in -ing right after it, and "again" later in its clause with
 * nothing between that the negation turned into a good ("never doubting
 * you again" is a promise): the "again" carries the boycott. */
static void apply_never_again(struct scratch *sc)
{
    static const char *const again[] = { "again" };
    struct tok *t = sc->t;
    for (size_t j = 0; j + 2 < sc->n; j++) {
        const struct tok *v = &t[j + 1];
        if (!(flags_of(&t[j]) & LEX_NEVER) || t[j].brk || v->llen < 5 ||
            memcmp(sc->low + v->loff + v->llen - 3, "ing", 3) != 0)
            continue;
        for (size_t k = j + 1; k < sc->n && k <= j + 7; k++) {
            if (t[k].score > 0)
                break;
            if (low_is_one_of(sc, &t[k], again, 1)) {
                if (t[k].score == 0) {
                    t[k].score = NEVER_AGAIN;
                    t[k].rules |= ES_RULE_IDIOM;
                }
                break;
            }
            if (t[k].brk)
                break;
        }
    }
}

/* "never once got my order wrong", "not once has it let me down",
 * "hardly ever had an issue": a negation word made emphatic by "once" or
 * "ever" is said of the whole clause, not of the three words after it,
 * so the first rated word of the clause (within eight tokens) is
 * negated too when the ordinary reach missed it. The first only: what
 * the clause says after it is said of it. "and", "but" and the like end
 * the clause ("never once replied and the app is awful"). A contraction
 * ("haven't once") is left to the ordinary reach: the pass runs on the
 * texts with a negation word, which the scorer knows at no cost. */
static __attribute__((noinline)) void apply_not_once(struct scratch *sc)
{
    static const char *const once[] = { "once", "ever" };
    static const char *const ends[] = { "and",     "but",      "so",
                                        "because", "although", "though",
                                        "while",   "yet",      "or" };
    struct tok *t = sc->t;
    size_t n = sc->n;
    for (size_t j = 0; j + 2 < n; j++) {
        if (!((flags_of(&t[j]) & LEX_NEGATE) || t[j].neg) || t[j].brk ||
            !low_is_one_of(sc, &t[j + 1], once, 2))
            continue;
        for (size_t k = j + 2; k < n && k <= j + 9 && !t[k - 1].brk; k++) {
            if (low_is_one_of(sc, &t[k], ends, sizeof(ends) / sizeof(ends[0])))
                break;
            if (t[k].score == 0 || is_emo(&t[k]))
                continue;
            if (!(t[k].rules &
                  (ES_RULE_NEGATION | ES_RULE_NO | ES_RULE_NEVER_SO))) {
                t[k].score *= (float)negation_scalar(t[k].e->valence);
                t[k].rules |= ES_RULE_NEGATION;
            }
            break;
        }
    }
}

/* "can't recommend Kinross Credit Union enough", "couldn't thank the
 * crew enough": praise denied and "enough" later in its clause says
 * there is no end to it. Emphasis, as "never so good" is, not a flip.
 * The lexicon holds the short forms ("can't recommend this enough");
 * this reads a name or a longer object between. */
static __attribute__((noinline)) void apply_enough(struct scratch *sc)
{
    static const char *const enough[] = { "enough" };
    /* Only these: "not good enough", "not fast enough" are short of it. */
    static const char *const praise[] = { "recommend",  "thank",   "praise",
                                          "appreciate", "commend", "rave" };
    struct tok *t = sc->t;
    size_t n = sc->n;
    for (size_t k = 0; k < n; k++) {
        if (!(t[k].rules & ES_RULE_NEGATION) || t[k].score >= 0 || !t[k].e ||
            t[k].e->valence <= 0 ||
            !low_is_one_of(sc, &t[k], praise,
                           sizeof(praise) / sizeof(praise[0])))
            continue;
        for (size_t j = k + 1; j < n && j <= k + 6 && !t[j - 1].brk; j++)
            if (low_is_one_of(sc, &t[j], enough, 1)) {
                t[k].score = (float)(t[k].e->valence * NEVER_SO);
                t[k].rules = (t[k].rules & ~(uint32_t)ES_RULE_NEGATION) |
                             ES_RULE_NEVER_SO;
                break;
            }
    }
}

/* "is my account safe?", "was the food good?": a yes-no question asks
 * about the good it names and does not claim it, so its praise counts
 * half. A trouble asked about is mostly one met ("is the app down
 * again?") and keeps its weight, as does a question that expects yes
 * ("isn't it great?", not in the list). Emoji keep theirs. Dev sets:
 * r +0.0001 to +0.0009, no F1 lower (half measured better than a third
 * or 0.7; damping troubles too lowered tweets F1). So it is with a
 * question that asks the crowd to choose or recommend ("which is
 * better?", "anyone know a good dentist?", "what's the best plan?"):
 * session 23, r up on every dev set and on 21 probes. */
static __attribute__((noinline)) void apply_polar(struct scratch *sc)
{
    static const char *const aux[] = {
        "is",      "are",  "was",   "were",   "does",   "do",
        "did",     "can",  "could", "will",   "would",  "should",
        "has",     "have", "am",    "which",  "anyone", "any",
        "anybody", "what", "whats", "what's",
    };
    static const char *const how[] = { "how" };
    struct tok *t = sc->t;
    size_t n = sc->n, k = 0;
    /* From each sentence with praise in it: most hold none, and are
     * passed over a score at a time. */
    while (k < n) {
        while (k < n && !(t[k].score > 0))
            k++;
        if (k == n)
            break;
        size_t e;
        if (!sentence_asks(sc, k, &e)) {
            k = e + 1;
            continue;
        }
        /* Opened by an auxiliary, or by "how" right before the praise
         * ("how good is it?"; "how is it good?" asks why). */
        size_t st = sentence_start(t, k);
        if (low_is_one_of(sc, &t[st], aux, sizeof(aux) / sizeof(aux[0])) ||
            (k == st + 1 && low_is_one_of(sc, &t[st], how, 1)))
            for (size_t j = k; j <= e; j++)
                if (t[j].score > 0 && t[j].kind != TK_EMO) {
                    t[j].score *= (float)POLAR;
                    t[j].rules |= ES_RULE_QUESTION;
                }
        k = e + 1;
    }
}

/* "the new album is so good 😭", "this is so cute 😭😭", "im crying,
 * this is so good", "I'm SOBBING, the whole plane sang": a loudly
 * crying face or a word of tears beside praise and no trouble is
 * overwhelm, not grief, as people write it now; it counts as half its
 * weight of joy. With a trouble ("failed my exam 😭", "crying, my flight
 * is cancelled") or alone it stays sad. Emoji only comment, and tears
 * are what is to be read: the other words decide. */
static __attribute__((noinline)) void apply_tears(struct scratch *sc)
{
    struct tok *t = sc->t;
    size_t n = sc->n;
    int praise = 0, laughter_only = 1;
    for (size_t i = 0; i < n; i++) {
        if (t[i].score == 0 || has_xflag(&t[i], LEXX_TEARS))
            continue;
        /* A happy face or a heart beside them praises too ("going to be
         * an auntie 😭😭💖"); a sad one only comments. */
        if (is_emo(&t[i]) && t[i].score < 0)
            continue;
        if (t[i].score < 0)
            return;
        praise = 1;
        if (!laughs(&t[i]))
            laughter_only = 0;
    }
    if (!praise)
        return;
    /* Laughter is no praise that words of tears could be of ("crying.
     * lol"); the face beside it is as before ("lol 😭"). */
    for (size_t i = 0; i < n; i++)
        if (has_xflag(&t[i], LEXX_TEARS) && t[i].score < 0 &&
            !(laughter_only && !is_emo(&t[i]))) {
            t[i].score *= (float)TEARS_OF_JOY;
            t[i].rules |= ES_RULE_JOY;
        }
}

/* "Greenwashing at its finest", "Incompetence at its best": praise of
 * what comes before it, in its clause, is irony when that is a plain
 * trouble (IRONY_NEG or below) and nothing there is praised: negated,
 * as irony is. A genre the lexicon rates as a trouble is praised
 * sincerely ("horror at its finest", "a thriller at its best"). */
static __attribute__((noinline)) void apply_at_best(struct scratch *sc)
{
    static const char *const genres[] = {
        "horror", "thriller", "thrillers", "tragedy", "crime",
        "war",    "disaster", "slasher",   "gore",    "suspense",
        "terror", "dystopia", "dystopian", "noir",    "survival",
    };
    struct tok *t = sc->t;
    for (size_t i = 1; i < sc->n; i++) {
        if (!has_xflag(&t[i], LEXX_AT_BEST) || t[i].score <= 0)
            continue;
        int trouble = 0, praise = 0;
        /* What it praises is right before it: eight tokens at most, so
         * that a text of many of them costs no more than its length. */
        for (size_t j = i; j-- > 0 && j + 8 >= i && !t[j].brk;) {
            trouble |= t[j].score <= IRONY_NEG &&
                       !low_is_one_of(sc, &t[j], genres,
                                      sizeof(genres) / sizeof(genres[0]));
            praise |= t[j].score > 0;
        }
        if (trouble && !praise) {
            t[i].score *= (float)N_SCALAR;
            t[i].rules |= ES_RULE_IRONY;
        }
    }
}

/* The end of the quotation that opens at byte @a of the text, when one
 * does: a straight '"' closes a straight one, a curly one a curly one
 * (“ ”). Returns the byte after its closing mark and sets *@open_end to
 * the byte after the opening one, or returns 0. */
static size_t quotation_end(const struct scratch *sc, size_t a,
                            size_t *open_end)
{
    const char *s = sc->text;
    size_t len = sc->tlen;
    if (s[a] == '"') {
        const char *c = memchr(s + a + 1, '"', len - a - 1);
        *open_end = a + 1;
        return c ? (size_t)(c - s) + 1 : 0;
    }
    if (a + 2 < len && (unsigned char)s[a] == 0xE2 &&
        (unsigned char)s[a + 1] == 0x80 && (unsigned char)s[a + 2] == 0x9C) {
        for (size_t k = a + 3; k + 2 < len; k++)
            if ((unsigned char)s[k] == 0xE2 &&
                (unsigned char)s[k + 1] == 0x80 &&
                (unsigned char)s[k + 2] == 0x9D) {
                *open_end = a + 3;
                return k + 3;
            }
    }
    return 0;
}

/* Praise inside a quotation of two words or more, in a text whose own
 * words tell a trouble: the voice quoted is someone else's, mostly the
 * brand's canned reply quoted back ("\"Your feedback helps us
 * improve!\" - every time they lose my order"). Its praise counts
 * nothing; the writer's own words decide. */
static __attribute__((noinline)) void apply_quoted(struct scratch *sc)
{
    struct tok *t = sc->t;
    size_t n = sc->n, len = sc->tlen, negs = 0, i = 0;
    const char *s = sc->text;
    /* Tears tell no trouble of their own here: "a note saying \"hope
     * the exam went well\" 😭" is moved, not wronged. */
    for (size_t k = 0; k < n; k++)
        negs += t[k].score < 0 && !has_xflag(&t[k], LEXX_TEARS);
    /* The quotations in order, the tokens with them: one pass over each
     * (a text of many quotations costs no more than its length). The
     * next '"' and the next lead byte of a curly mark are found again
     * only once passed. */
    const char *dq = memchr(s, '"', len), *cq = memchr(s, 0xE2, len);
    for (size_t a = 0; a < len && (dq || cq);) {
        if (dq && (size_t)(dq - s) < a)
            dq = memchr(s + a, '"', len - a);
        if (cq && (size_t)(cq - s) < a)
            cq = memchr(s + a, 0xE2, len - a);
        if (!dq && !cq)
            break;
        a = (size_t)((dq && (!cq || dq < cq) ? dq : cq) - s);
        size_t qa, qb = quotation_end(sc, a, &qa);
        if (!qb) {
            a++;
            continue;
        }
        while (i < n && t[i].off < qa)
            i++;
        size_t first = i, in_negs = 0;
        for (; i < n && t[i].off + t[i].len < qb; i++)
            in_negs += t[i].score < 0;
        if (i - first >= 2 && negs > in_negs)
            for (size_t k = first; k < i; k++)
                if (t[k].score > 0) {
                    t[k].score = 0;
                    t[k].rules |= ES_RULE_IRONY;
                }
        a = qb;
    }
}

/* What a price said raised counts: as "price hike" is rated. */
#define PRICE_RISE (-1.2)

/* "they raised my bill", "hiked the fares", "my rent went up again",
 * "the premium has doubled", "fees up 20%": a price (es_rules__prices,
 * unrated) said raised, in its clause, is a trouble. The verb comes up
 * to three tokens before it, or a rise up to four after; a negation
 * before either ("they didn't raise the price", "the bill never went
 * up") says none, and "up front", "up to" are no rise. */
static __attribute__((noinline)) void apply_price_rise(struct scratch *sc)
{
    static const char *const raise[] = {
        "raised",   "raise",     "raises",     "raising", "increased",
        "increase", "increases", "increasing", "hiked",   "hike",
        "hikes",    "hiking",    "upped",      "doubled", "tripled",
        "doubling", "tripling",  "jacked",
    };
    static const char *const rise[] = {
        "up",     "doubled", "tripled",     "increased", "risen",   "rose",
        "rising", "soared",  "skyrocketed", "jumped",    "climbed", "hiked",
    };
    static const char *const not_up[] = { "front", "to" };
    /* "went up to £5" rises, where "up to 50% off" does not. */
    static const char *const moved[] = { "went", "gone", "going", "goes",
                                         "go",   "put",  "shot",  "jumped" };
    static const char *const up_w[] = { "up" }, *const put_w[] = { "put" };
    struct tok *t = sc->t;
    size_t n = sc->n;
    for (size_t i = 0; i < n; i++) {
        if (!has_xflag(&t[i], LEXX_PRICE) || t[i].score != 0)
            continue;
        size_t from = SIZE_MAX; /* where the rise is said from */
        size_t put = SIZE_MAX;  /* "put the price up", "put up the fees" */
        int up = 0;
        for (size_t k = 1; k <= 3 && k <= i && !t[i - k].brk; k++) {
            if (low_is_one_of(sc, &t[i - k], raise,
                              sizeof(raise) / sizeof(raise[0]))) {
                from = i - k;
                break;
            }
            if (low_is_one_of(sc, &t[i - k], up_w, 1))
                up = 1;
            else if (low_is_one_of(sc, &t[i - k], put_w, 1)) {
                put = i - k;
                if (up)
                    from = put;
                break;
            }
        }
        for (size_t j = i + 1;
             from == SIZE_MAX && j < n && j <= i + 4 && !t[j - 1].brk; j++)
            if (t[j].neg)
                break;
            else if (low_is_one_of(sc, &t[j], rise,
                                   sizeof(rise) / sizeof(rise[0])) &&
                     !(j + 1 < n && !t[j].brk &&
                       low_is_one_of(sc, &t[j + 1], not_up,
                                     sizeof(not_up) / sizeof(not_up[0])) &&
                       !low_is_one_of(sc, &t[j - 1], moved,
                                      sizeof(moved) / sizeof(moved[0])) &&
                       put == SIZE_MAX))
                from = put != SIZE_MAX ? put : i;
        if (from == SIZE_MAX)
            continue;
        int negated = 0;
        for (size_t k = 1; k <= 3 && k <= from && !t[from - k].brk; k++)
            negated |= t[from - k].neg;
        if (negated)
            continue;
        t[i].score = (float)PRICE_RISE;
        t[i].rules |= ES_RULE_RAISED;
    }
}

/* 1 when token @t is "like" or an expression that opens with it ("like
 * a", "like this", "like cardboard"). */
static int opens_with_like(const struct scratch *sc, const struct tok *t)
{
    size_t len;
    const char *s = tok_low(sc, t, &len);
    return len >= 4 && memcmp(s, "like", 4) == 0 && (len == 4 || s[4] == ' ');
}

/* "nothing says summer like ice cream", "nothing says customer first
 * like tripling my premium": Y is the very picture of X. The "like" is
 * no liking, and the praise of X is irony when Y is a plain trouble
 * (IRONY_NEG or below) with nothing praised in it, as irony reads. */
static __attribute__((noinline)) void apply_nothing_says(struct scratch *sc)
{
    struct tok *t = sc->t;
    size_t n = sc->n;
    for (size_t i = 0; i < n; i++) {
        if (!has_xflag(&t[i], LEXX_NOTHING_SAYS) || t[i].brk)
            continue;
        size_t j = i + 1;
        while (j < n && !t[j - 1].brk && !opens_with_like(sc, &t[j]))
            j++;
        if (j >= n || t[j - 1].brk) {
            /* No "like" in the clause: none for a later "nothing says"
             * in it either, so the scan goes on from here (linear). */
            i = j - 1;
            continue;
        }
        /* The word "like" is no liking; an expression that opens with
         * it ("like cardboard") is of Y and keeps its rating. */
        size_t y = j;
        if (t[j].llen == 4) {
            t[j].score = 0;
            y = j + 1;
        }
        int neg = 0, pos = 0;
        size_t end = j;
        for (size_t k = y; k < n; k++) {
            if (flags_of(&t[k]) & (LEX_BUT | LEX_THOUGH))
                break;
            if (t[k].score <= IRONY_NEG)
                neg = 1;
            else if (t[k].score > 0 && !is_emo(&t[k]))
                pos = 1;
            end = k;
            if (t[k].brk)
                break;
        }
        if (neg && !pos)
            for (size_t k = i + 1; k < j; k++)
                say_ironically(&t[k]);
        i = end;
    }
}

/* "love waiting 2 hours for a cold burger, thanks 🙃", "truly I am
 * shocked 🙄": an upside-down face or rolled eyes mark the praise of
 * their sentence as irony, as "/s" marks a whole text. */
static __attribute__((noinline)) void apply_eyeroll(struct scratch *sc)
{
    struct tok *t = sc->t;
    size_t n = sc->n;
    for (size_t i = 0; i < n; i++) {
        if (!has_xflag(&t[i], LEXX_EYEROLL))
            continue;
        size_t j = sentence_start(t, i);
        for (; j < n; j++) {
            say_ironically(&t[j]);
            if (t[j].send && j >= i)
                break;
        }
        i = j;
    }
}

/* "HELP", "help!", "Help. My account was hacked": "help" alone in its
 * clause cries for help and praises none; it rates as "please help"
 * does. */
static __attribute__((noinline)) void apply_plea(struct scratch *sc)
{
    struct tok *t = sc->t;
    size_t n = sc->n;
    for (size_t i = 0; i < n; i++)
        if (has_xflag(&t[i], LEXX_PLEA) && (i == 0 || t[i - 1].brk) &&
            (t[i].brk || i + 1 == n)) {
            t[i].score = (float)HELP_PLEA;
            t[i].rules |= ES_RULE_PLEA;
        }
}

/* Scores every token of an English text. */
static void score_english(struct scratch *sc)
{
    struct tok *t = sc->t;
    size_t n = sc->n;
    size_t words = 0, upper = 0;
    /* Counted only when a token is in capitals at all: most texts have
     * none, and then no shouting stands out. */
    for (size_t i = 0; sc->any_upper && i < n; i++)
        if (t[i].alpha && t[i].kind != TK_EMO &&
            !(flags_of(&t[i]) & LEX_NAME)) { /* "IBM" is no shouting */
            words++;
            upper += t[i].upper;
        }
    /* ALL CAPS emphasises only when the rest is not shouted too. */
    int cap_diff = upper > 0 && upper < words;
    int praise = 0;          /* a word that may be said in irony */
    uint32_t flags_seen = 0; /* every token's flags: which passes apply */
    unsigned xseen = 0;      /* every rated token's xflags */

    /* First, with no branch per token, what every token gets and the
     * list of those that need more: the rated ones and the two rare
     * kinds below. Whether a word is rated is as good as random from
     * word to word; the loop over the list does not ask. */
    size_t more_stack[TOK_STACK], *more = more_stack, nmore = 0;
    if (n > TOK_STACK)
        more = es_xmalloc(n * sizeof(*more));
    for (size_t i = 0; i < n; i++) {
        uint32_t f = flags_of(&t[i]);
        t[i].score = 0; /* t[i].valence was set with t[i].e */
        flags_seen |= f;
        t[i].rules |= (f & (LEX_BOOSTER | LEX_NEGATE | LEX_BUT | LEX_THOUGH |
                            LEX_NO | LEX_AFTER))
                          ? ES_RULE_MODIFIER
                          : 0;
        more[nmore] = i;
        nmore += (f & (LEX_VALENCE | LEX_AFTER | LEX_REMEDY)) != 0;
    }
    /* A word rated other than 0 is on the list (a phrase rated 0 hides
     * its words and rates none). */
    int rated_any = 0;
    for (size_t m = 0; m < nmore; m++)
        rated_any |= t[more[m]].valence != 0;
    for (size_t m = 0; m < nmore; m++) {
        size_t i = more[m];
        struct tok *cur = &t[i];
        uint32_t f = flags_of(cur);
        if (!(f & LEX_VALENCE)) {
            /* "good as hell", "slow af": the intensifier follows the word
             * it boosts, which was scored just before. */
            struct tok *prev = i ? &t[i - 1] : NULL;
            if ((f & LEX_AFTER) && prev && !prev->brk && prev->score != 0) {
                float step = cur->e->scalar;
                prev->score += prev->score > 0 ? step : -step;
                prev->rules |= ES_RULE_BOOSTER;
            }
            if (f & LEX_REMEDY) /* "the lag is gone" */
                remedy_passive(sc, i);
            continue;
        }
        /* A booster that is also rated ("super") modifies a rated word
         * after it, and speaks for itself otherwise. */
        if ((f & LEX_BOOSTER) && i + 1 < n && rated(&t[i + 1]))
            continue;
        /* "no" before a rated word is a negation, not a word of its own
         * ("no good"), and so it is with a booster between ("no more
         * lag"); alone it keeps its valence ("no."). */
        if ((f & LEX_NO) && i + 1 < n && !cur->brk &&
            !(flags_of(&t[i + 1]) & LEX_NO) &&
            ((rated(&t[i + 1]) && !is_emo(&t[i + 1])) ||
             (i + 2 < n && is_booster(&t[i + 1]) && !t[i + 1].brk &&
              rated(&t[i + 2]) && !is_emo(&t[i + 2])))) {
            cur->rules |= ES_RULE_NO;
            continue;
        }
        if (cur->llen == 4 && sc->low[cur->loff] == 'l' && like_filler(sc, i))
            continue;
        if (cur->llen == 3 && memcmp(sc->low + cur->loff, "mid", 3) == 0 &&
            !mid_verdict(sc, i))
            continue;
        cur->score = (float)token_valence(sc, i, cap_diff);
        if (cur->score > 0 && cur->off && quote_mark(sc->text[cur->off - 1]) &&
            scare_quoted(sc, cur)) {
            cur->score = 0;
            cur->rules |= ES_RULE_IRONY;
        }
        if (cur->score < 0 && remedied(sc, i)) {
            cur->score = 0;
            cur->rules |= ES_RULE_REMEDY;
        }
        if (f & LEX_REMEDY)
            remedy_passive(sc, i);
        xseen |= cur->e->xflags; /* rated: it has an entry */
        /* Praise that apply_irony() may read: opening a sentence, or a
         * frame ("thanks for"). */
        if ((f & LEX_PRAISE) && ((f & (LEX_FRAME | LEX_THANKS)) || cur->send ||
                                 i + 1 == n || opens_sentence(sc, i)))
            praise = 1;
    }
    if (more != more_stack)
        free(more);
    sc->rated_any = rated_any;
    /* Only a text that names a price: unrated words, so sc->xall. */
    if (sc->xall & LEXX_PRICE)
        apply_price_rise(sc);
    if (xseen & LEXX_PLEA)
        apply_plea(sc);
    if (xseen & LEXX_AT_BEST)
        apply_at_best(sc);
    if (xseen & LEXX_EYEROLL)
        apply_eyeroll(sc);
    if (xseen & LEXX_NOTHING_SAYS)
        apply_nothing_says(sc);
    /* Only a text with a quotation mark may quote. */
    if (sc->quotes)
        apply_quoted(sc);
    /* "never" negates too: one test for the two passes. */
    if ((flags_seen & LEX_NEGATE) || sc->nt_seen) {
        if (flags_seen & LEX_NEVER)
            apply_never_again(sc);
        apply_not_once(sc);
        apply_enough(sc);
    }
    /* Only a text with a verb of harm: most have none. */
    if (xseen & LEXX_HARM)
        apply_harmed(sc);
    if (xseen & LEXX_CORRECT)
        apply_correction(sc);
    if (xseen & LEXX_SCORE)
        apply_score_irony(sc);
    /* Laughter and tears together: most texts have no such mix. */
    if ((xseen & LEXX_HARD) && (xseen & (LEXX_LAUGH_MARK | LEXX_LAUGH_WORD)))
        apply_laughter(sc);
    /* After the laughter: "crying laughing" is no tears at all. */
    if (xseen & LEXX_TEARS)
        apply_tears(sc);
    if (flags_seen & LEX_SCOPE)
        apply_audience(sc);
    if (praise)
        apply_irony(sc);
    /* Most texts hold no contrast: no pass over them for one. */
    if (flags_seen & (LEX_BUT | LEX_THOUGH))
        apply_contrast(sc);
    /* "if" or "unless" (the pair of bits LEX_IRREALIS is made of). */
    if ((flags_seen & LEX_IRREALIS) == LEX_IRREALIS)
        apply_irrealis(sc);
    /* A "not" alone in its clause, as texts with a negation may hold;
     * last, so that the praise it takes back is not read as a trouble by
     * irony. */
    if (n >= 2 && (flags_seen & LEX_NEGATE))
        apply_not_tail(sc);
    /* Only a text with a '?' may ask. */
    if (sc->quest)
        apply_polar(sc);
}

/* What the form of a complaint rates in a text with no rated word: a
 * mild trouble, as "meh" is. */
#define COMPLAINT -1.0

/* What a negation rates in a text with nothing else rated and no form
 * of a complaint: statements with a negation and no word of sentiment
 * are said more often of what went wrong than of what went right ("the
 * parcel didn't come", "it won't load", "not what I ordered"), as Potts
 * (2011, "On the negativity of negation") found in reviews. Half a
 * complaint's weight. */
#define NEG_ALONE -0.5

/* The words complaint_at() starts from, and their hashes, set once
 * before main(). */
static const char *const complaint_words[] = {
    "why",   "time",  "told",  "tell",  "card",   "kept",
    "every", "still", "keeps", "times", "nobody",
};
#define COMPLAINT_WORDS (sizeof(complaint_words) / sizeof(complaint_words[0]))
static uint32_t complaint_hash[COMPLAINT_WORDS];

__attribute__((constructor)) static void complaint_hash_init(void)
{
    for (size_t k = 0; k < COMPLAINT_WORDS; k++)
        complaint_hash[k] =
            lex_hash(complaint_words[k], strlen(complaint_words[k]));
}

/* 1 when a count comes right before token @i: a number in digits, which
 * the tokenizer keeps no token of when it is one digit ("3 times"), or
 * a word ("several times"). */
static int count_before(const struct scratch *sc, size_t i)
{
    static const char *const count[] = { "two",     "three",    "four",
                                         "five",    "six",      "ten",
                                         "several", "multiple", "many" };
    size_t p = sc->t[i].off;
    while (p > 0 && sc->text[p - 1] == ' ')
        p--;
    if (p > 0 && sc->text[p - 1] >= '0' && sc->text[p - 1] <= '9')
        return 1;
    return i > 0 && !sc->t[i - 1].brk &&
           low_is_one_of(sc, &sc->t[i - 1], count,
                         sizeof(count) / sizeof(count[0]));
}

/* 1 when a complaint's form starts at token @i: a question of "why"
 * opening a sentence ("why is my order still not here", not "why not");
 * "every single time", "every time" opening a clause; "nobody"; "still"
 * before a negation or "no", "nothing", "waiting"; "keeps" or "kept"
 * before a word in -ing ("keeps logging me out"); "told", "tell me";
 * "my card"; a count of times ("3 times"); an ordinal time ("for the
 * third time", "3rd time this week"; not "the second time around"). */
static int complaint_at(const struct scratch *sc, size_t i)
{
    static const char *const why_not[] = { "not", "yes", "wouldn't" };
    static const char *const after_still[] = {
        "no",    "not",   "nothing", "haven't", "hasn't",  "havent", "hasnt",
        "don't", "dont",  "doesn't", "doesnt",  "can't",   "cant",   "won't",
        "wont",  "isn't", "isnt",    "aren't",  "waiting", "never",
    };
    static const char *const us[] = { "me", "us" };
    static const char *const ordinal[] = {
        "second", "third", "fourth", "fifth", "sixth", "2nd",
        "3rd",    "4th",   "5th",    "6th",   "nth",
    };
    static const char *const when[] = { "this", "today", "in", "now", "that" };
    static const char *const than_words[] = { "faster", "better",  "more",
                                              "bigger", "cheaper", "less" };
    const struct tok *t = sc->t;
    switch (t[i].llen) {
    case 3:
        return low_is(sc, i, "why", 3) && (i == 0 || t[i - 1].send) &&
               !(i + 1 < sc->n && low_is_one_of(sc, &t[i + 1], why_not, 3));
    case 4:
        if (low_is(sc, i, "time", 4) && i > 0 && !t[i - 1].brk &&
            low_is_one_of(sc, &t[i - 1], ordinal,
                          sizeof(ordinal) / sizeof(ordinal[0])))
            return (i > 1 && low_is(sc, i - 2, "the", 3) &&
                    !low_is(sc, i + 1, "around", 6) &&
                    !low_is(sc, i + 1, "round", 5)) ||
                   (i + 1 < sc->n &&
                    low_is_one_of(sc, &t[i + 1], when,
                                  sizeof(when) / sizeof(when[0])));
        /* "was told 2 days", "they told me to wait": what the brand
         * said, told back. */
        if (low_is(sc, i, "told", 4))
            return 1;
        if (low_is(sc, i, "tell", 4) && !t[i].brk && i + 1 < sc->n &&
            low_is_one_of(sc, &t[i + 1], us, 2))
            return 1;
        /* "my card", charged or declined. */
        if (low_is(sc, i, "card", 4) && i > 0 && !t[i - 1].brk &&
            low_is(sc, i - 1, "my", 2))
            return 1;
        if (low_is(sc, i, "kept", 4) && !t[i].brk && i + 1 < sc->n)
            break;
        return 0;
    case 5:
        /* "3 times", "several times": a thing done over; not "5 times
         * faster". */
        if (low_is(sc, i, "times", 5) && count_before(sc, i))
            return !(i + 1 < sc->n && !t[i].brk &&
                     low_is_one_of(sc, &t[i + 1], than_words,
                                   sizeof(than_words) / sizeof(than_words[0])));
        /* "every time" opening a clause ("every time I call"): the
         * tokenizer keeps no "I" to look for. */
        if (low_is(sc, i, "every", 5) && !t[i].brk && i + 2 < sc->n)
            return (low_is(sc, i + 1, "single", 6) &&
                    low_is(sc, i + 2, "time", 4)) ||
                   (low_is(sc, i + 1, "time", 4) && !t[i + 1].brk);
        if (low_is(sc, i, "still", 5) && !t[i].brk && i + 1 < sc->n)
            return low_is_one_of(sc, &t[i + 1], after_still,
                                 sizeof(after_still) / sizeof(after_still[0]));
        if (low_is(sc, i, "keeps", 5) && !t[i].brk && i + 1 < sc->n)
            break;
        return 0;
    case 6:
        return low_is(sc, i, "nobody", 6);
    default:
        return 0;
    }
    /* "keeps", "kept" before a word in -ing. */
    const struct tok *v = &t[i + 1];
    return v->llen > 4 &&
           memcmp(sc->low + v->loff + v->llen - 3, "ing", 3) == 0;
}

/* 1 when token @i is "too" before a word ("too small", "too long to
 * wait"): an excess, said of what is wrong; not "me too". */
static int too_much(const struct scratch *sc, size_t i)
{
    return low_is(sc, i, "too", 3) && !sc->t[i].brk && i + 1 < sc->n;
}

/* "why is my order still not here", "booked for 9am, nobody came",
 * "app keeps logging me out": a complaint told as plain facts holds no
 * word a lexicon rates, and read 0; its form says it. In an English text
 * with no rated word at all, the first complaint form rates COMPLAINT,
 * as "!" alone reads as enthusiasm; with none, the first negation, or
 * "too" before a word, rates NEG_ALONE. */
static __attribute__((noinline)) void apply_complaint(struct scratch *sc)
{
    /* A rule may have scored an unrated word ("never using it again"). */
    for (size_t i = 0; i < sc->n; i++)
        if (sc->t[i].score != 0)
            return;
    for (size_t i = 0; i < sc->n; i++) {
        /* The words a complaint's form starts with, by hash: one test
         * with no branch between for every word, which nearly all fail. */
        uint32_t h = sc->t[i].hash;
        unsigned hit = 0;
        for (size_t k = 0; k < COMPLAINT_WORDS; k++)
            hit |= h == complaint_hash[k];
        if (hit && complaint_at(sc, i)) {
            sc->t[i].score = (float)COMPLAINT;
            sc->t[i].rules |= ES_RULE_COMPLAINT;
            return;
        }
    }
    for (size_t i = 0; i < sc->n; i++)
        if (sc->t[i].neg || too_much(sc, i)) {
            sc->t[i].score = (float)NEG_ALONE;
            sc->t[i].rules |= ES_RULE_COMPLAINT;
            return;
        }
}

/* Scores only the emoji and emoticons (a text that is not English). */
static void score_emoji_only(struct scratch *sc)
{
    for (size_t i = 0; i < sc->n; i++) {
        struct tok *cur = &sc->t[i];
        cur->score = 0;
        cur->valence = 0;
        if (cur->e && (cur->e->flags & LEX_VALENCE) &&
            (cur->kind == TK_EMO || (cur->e->flags & LEX_EMO))) {
            cur->valence = cur->e->valence;
            cur->score = cur->e->valence;
            cur->rules |= ES_RULE_LEXICON | ES_RULE_EMOJI;
        }
    }
}

/* Fills @out from the token scores. */
static void summarize(struct scratch *sc, int english, struct es_sentiment *out,
                      double *sum_out, double *punct_out)
{
    double sum = 0, pos = 0, neg = 0, neu = 0;
    for (size_t i = 0; i < sc->n; i++) {
        double s = sc->t[i].score;
        sum += s;
        /* +1 and -1: a sentiment word weighs more than a neutral one.
         * Adding 0 changes neither sum: no branch on the sign, which is
         * as good as random from token to token. */
        pos += s > 0 ? s + 1 : 0.0;
        neg += s < 0 ? s - 1 : 0.0;
        neu += s == 0;
    }
    double punct = 0;
    if (english && sum == 0 && sc->excl && !sc->quest) {
        /* "!" in a text with no word of sentiment at all is enthusiasm
         * ("Road trip tomorrow!"), as SentiStrength reads it (Thelwall et
         * al. 2010): its emphasis alone, positive. Not with a "?"
         * ("you did what?!"), nor where rated words cancel out
         * (score_english() noted whether any word is rated). */
        if (!sc->rated_any) {
            punct = punctuation_emphasis(sc);
            pos += punct;
        }
    } else if (english && sum != 0) {
        punct = punctuation_emphasis(sc);
        if (sum < 0)
            punct = -punct;
        if (pos > fabs(neg))
            pos += fabs(punct);
        else if (pos < fabs(neg))
            neg -= fabs(punct);
    }
    out->compound = sum + punct != 0 ? normalize(sum + punct) : 0.0;
    double total = pos + fabs(neg) + neu;
    if (total > 0) {
        out->pos = fabs(pos / total);
        out->neg = fabs(neg / total);
        out->neu = fabs(neu / total);
    } else {
        out->pos = out->neg = out->neu = 0;
    }
    out->label = out->compound >= ES_SENTIMENT_POS_THRESHOLD   ? 1
                 : out->compound <= ES_SENTIMENT_NEG_THRESHOLD ? -1
                                                               : 0;
    *sum_out = sum;
    *punct_out = punct;
}

static void record(const struct scratch *sc, struct es_sentiment_explain *ex)
{
    if (ex->alloc < sc->n) {
        ex->alloc = sc->n;
        ex->tokens = es_xrealloc(ex->tokens, sc->n * sizeof(*ex->tokens));
    }
    for (size_t i = 0; i < sc->n; i++) {
        const struct tok *t = &sc->t[i];
        ex->tokens[i] = (struct es_sentiment_token){
            .offset = t->off,
            .len = t->len,
            .valence = t->valence,
            .score = t->score,
            .rules = t->rules,
        };
    }
    ex->n = sc->n;
}

/* Adds the words of the languages that have no LEX_LANG bit (Polish,
 * Indonesian, Turkish, Swedish: LEXX_LANG in xflags) to the counts, at
 * the weight of a word of one language. */
static void count_more_languages(struct scratch *sc)
{
    for (size_t i = 0; i < sc->n; i++) {
        const struct lex_entry *e = sc->t[i].e;
        unsigned x =
            e ? ((unsigned)e->xflags & LEXX_LANG_MASK) >> LEXX_LANG_SHIFT : 0;
        if (x) {
            sc->lang.sw[LANG_FLAG_COUNT + __builtin_ctz(x)] += 2;
            sc->lang.xseen = 1;
        }
    }
}

static int score(const struct es_lexicon *lex, const char *buf, size_t len,
                 struct es_sentiment *out, struct es_sentiment_explain *ex)
{
    struct scratch sc;
    double sum, punct;

    scratch_init(&sc, lex);
    sc.text = buf;
    if (!buf)
        len = 0;
    if (len > TEXT_MAX)
        len = TEXT_MAX;
    sc.tlen = len;
    tokenize(&sc, buf, len);
    flush_stopwords(&sc);
    merge_expressions(&sc);
    /* The words of the languages past the flags' (LEXX_LANG) are counted
     * only when English is not plain already: a test per text, not one
     * per word. */
    if (sc.lang.sw[LANG_EN] + sc.lang.lex_hits < 2)
        count_more_languages(&sc);
    int english = es_lang__decide(&sc.lang, buf, len, out->lang);
    if (english) {
        score_english(&sc);
        if (sarcasm_marked(buf, len))
            apply_sarcasm_mark(&sc);
        if (!sc.rated_any)
            apply_complaint(&sc);
    } else {
        score_emoji_only(&sc);
    }
    summarize(&sc, english, out, &sum, &punct);
    out->low_confidence = !english;
    if (ex) {
        record(&sc, ex);
        ex->sum = sum;
        ex->punctuation = punct;
    }
    scratch_release(&sc);
    return 0;
}

/* ==== Public functions ==== */

int es_sentiment_score(const struct es_lexicon *lex, const char *buf,
                       size_t len, struct es_sentiment *out)
{
    return score(lex, buf, len, out, NULL);
}

int es_sentiment_explain(const struct es_lexicon *lex, const char *buf,
                         size_t len, struct es_sentiment *out,
                         struct es_sentiment_explain *ex)
{
    ex->n = 0;
    ex->sum = ex->punctuation = 0;
    return score(lex, buf, len, out, ex);
}

void es_sentiment_explain_release(struct es_sentiment_explain *ex)
{
    free(ex->tokens);
    *ex = (struct es_sentiment_explain)ES_SENTIMENT_EXPLAIN_INIT;
}

const char *es_sentiment_label_name(int label)
{
    return label > 0 ? "positive" : label < 0 ? "negative" : "neutral";
}

const char *es_sentiment_rule_name(unsigned rule)
{
    switch (rule) {
    case ES_RULE_LEXICON:
        return "lexicon";
    case ES_RULE_IDIOM:
        return "idiom";
    case ES_RULE_BOOSTER:
        return "booster";
    case ES_RULE_NEGATION:
        return "negation";
    case ES_RULE_NO:
        return "no";
    case ES_RULE_LEAST:
        return "least";
    case ES_RULE_LESS:
        return "less";
    case ES_RULE_COMPLAINT:
        return "complaint";
    case ES_RULE_CAPS:
        return "caps";
    case ES_RULE_BUT_BEFORE:
        return "but-before";
    case ES_RULE_BUT_AFTER:
        return "but-after";
    case ES_RULE_EMOJI:
        return "emoji";
    case ES_RULE_NEVER_SO:
        return "never-so";
    case ES_RULE_ELONGATED:
        return "elongated";
    case ES_RULE_MODIFIER:
        return "modifier";
    case ES_RULE_IRONY:
        return "irony";
    case ES_RULE_REMEDY:
        return "remedy";
    case ES_RULE_AUDIENCE:
        return "audience";
    case ES_RULE_LAUGHTER:
        return "laughter";
    case ES_RULE_ENDED:
        return "ended";
    case ES_RULE_IRREALIS:
        return "irrealis";
    case ES_RULE_QUESTION:
        return "question";
    case ES_RULE_PLEA:
        return "plea";
    case ES_RULE_JOY:
        return "joy";
    case ES_RULE_FEARED:
        return "feared";
    case ES_RULE_RAISED:
        return "price rise";
    default:
        return "?";
    }
}
