/* lexicon.h - the classifier's insides shared between its files
 *
 * The lexicon is one open-addressing hash table built at load: every term
 * of the file, every rule word the scorer knows (boosters, negations,
 * "but", "least") and the stopwords of the languages we recognise, each a
 * single entry whose flags say all of that at once, so a token costs one
 * lookup. Keys are normalised (lower case, NFKC case fold for non-ASCII,
 * single spaces) by norm.c, the same code the tokenizer uses.
 */
#ifndef EARSHOT_CLASSIFIER_LEXICON_H
#define EARSHOT_CLASSIFIER_LEXICON_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "earshot/buf.h"
#include "earshot/sentiment.h"

/* What an entry is: bits of lex_entry.flags. */
enum {
    LEX_VALENCE = 1u << 0,  /* rated: valence is meaningful */
    LEX_BOOSTER = 1u << 1,  /* booster or dampener: scalar is its weight */
    LEX_NEGATE = 1u << 2,   /* not, never, isn't, without, ... */
    LEX_BUT = 1u << 3,      /* but, however: the clause after dominates */
    LEX_THOUGH = 1u << 4,   /* although, though: the clause is subordinate */
    LEX_EMO = 1u << 5,      /* an emoticon or emoji (no letters) */
    LEX_NO = 1u << 6,       /* "no" */
    LEX_LEAST = 1u << 7,    /* "least" */
    LEX_NEVER = 1u << 8,    /* "never" */
    LEX_SO_THIS = 1u << 9,  /* "so", "this" after "never" */
    LEX_WITHOUT = 1u << 10, /* "without" */
    LEX_DOUBT = 1u << 11,   /* "doubt" after "without" */
    LEX_AT_VERY = 1u << 12, /* "at", "very" before "least" */
    LEX_OR_NOR = 1u << 13,  /* "or", "nor" after "no X" */
    LEX_BUILTIN = 1u << 14, /* valence from the built-in idiom table */
    LEX_STRONG = 1u << 15,  /* a stopword that alone names its language;
                               with no LEX_LANG bit: see LEXX_LANG */
    LEX_REMEDY = 1u << 23,  /* "fixed", "solved": the trouble after is gone
                               (bit 23: the language bits use 16..22) */
    LEX_PREFIX = 1u << 24,  /* the first words of a longer expression */
    LEX_AFTER = 1u << 25,   /* "af", "as hell": boosts the rated word before */
    LEX_NAME = 1u << 26,    /* a brand's name: unrated, inside expressions */
    LEX_PRAISE = 1u << 27,  /* praise that may be said in irony: "great" */
    LEX_THANKS = 1u << 28,  /* "thanks", whose "for" names what is praised */
    LEX_SCOPE = 1u << 29, /* "for", "who", "despite": ends what praise is of */
    LEX_FRAME = 1u << 30, /* "great job": praise of what follows it */
    LEX_LANG_SHIFT = 16,  /* bits 16..22: stopword of language k */
};

/* The languages recognised by stopwords (bit k of the LEX_LANG bits). */
enum lex_lang {
    LANG_EN,
    LANG_ES,
    LANG_FR,
    LANG_DE,
    LANG_PT,
    LANG_IT,
    LANG_NL,
    /* Four more, whose words are marked in lex_entry.xflags (the flag
     * bits are all taken): LEXX_LANG(k). */
    LANG_PL,
    LANG_ID,
    LANG_TR,
    LANG_SV,
    LANG_COUNT,
};

/* The languages of LEX_LANG bits; the others are LEXX_LANG ones. */
#define LANG_FLAG_COUNT LANG_PL

#define LEX_LANG(k) (1u << (LEX_LANG_SHIFT + (k)))
/* "if", "unless": what follows, to the clause's end, is said of what may
 * be. English has no strong stopword of its own (the language check
 * never reads one), so the pair of bits is free to mean this. */
#define LEX_IRREALIS (LEX_STRONG | LEX_LANG(LANG_EN))
/* All the LEX_LANG bits (LANG_FLAG_COUNT of them). */
#define LEX_LANG_MASK (((1u << LANG_FLAG_COUNT) - 1) << LEX_LANG_SHIFT)

/* The first word of a brand name of several words: the last flag bit,
 * outside the enum, whose values C keeps within int. */
#define LEX_NAME_HEAD (1u << 31)

/* lex_entry.xflags: the words a few rare rules look for, marked once a
 * lexicon is loaded so that the scorer tests a bit, not a list. */
enum {
    LEXX_LAUGH_MARK = 1u << 0, /* "lol", "hahaha", 😂: typed laughter */
    LEXX_LAUGH_WORD = 1u << 1, /* "laughing", "laughter" */
    LEXX_HARD = 1u << 2,       /* "crying", "dying": said of laughter too */
    LEXX_SCORE = 1u << 3,      /* a good rating: "10/10", "5 stars" */
    LEXX_HARM = 1u << 8,       /* a verb rated below zero: "ruined" */
    LEXX_CORRECT = 1u << 9,    /* "more like": "5 stars? more like 1" */
    LEXX_PLEA = 1u << 10,      /* "help": alone in its clause, a plea */
    LEXX_TEARS = 1u << 11,     /* 😭: with praise alone, tears of joy */
    LEXX_AT_BEST = 1u << 12,   /* "at its finest": praise of what precedes */
    LEXX_EYEROLL = 1u << 13,   /* 🙃, 🙄: the praise beside it is irony */
    LEXX_NOTHING_SAYS = 1u << 14, /* "nothing says X like Y": Y is X */
    LEXX_PRICE = 1u << 15, /* "bill", "rent": a price that may be raised */
};
/* Bits 4..7: a word of language LANG_PL + k (no English word). */
#define LEXX_LANG_SHIFT 4
#define LEXX_LANG(k)    (1u << (LEXX_LANG_SHIFT + (k)-LANG_FLAG_COUNT))
#define LEXX_LANG_MASK  (0xFu << LEXX_LANG_SHIFT)

struct lex_entry {
    uint64_t key8;    /* the key's first 8 bytes, zero-padded: most keys
                         compare without a trip to lex->keys */
    uint32_t key_off; /* key bytes at lex->keys.ptr + key_off */
    uint16_t key_len;
    uint8_t mwe_max; /* >1: first word of an expression of up to this
                        many words */
    uint16_t xflags; /* LEXX_* bits, set once the lexicon is loaded */
    uint32_t flags;  /* LEX_* bits */
    float valence;   /* -4..+4 when LEX_VALENCE, else 0 (the scorer
                        reads it without testing the flag) */
    float scalar;    /* booster weight, +-0.293, when LEX_BOOSTER or _AFTER */
};

/* A slot of the probe array: 8 bytes, so that the array stays small
 * enough to live in the L2 cache. */
struct lex_slot {
    uint32_t hash; /* of the key */
    uint32_t idx;  /* entry index + 1; 0: empty */
};

struct es_lexicon {
    struct lex_slot *slots; /* owned, cap slots, at most 70% full */
    uint32_t cap;           /* power of two */
    uint32_t mask;          /* cap - 1 */
    struct lex_entry *ents; /* owned, dense */
    uint32_t nents, aents;  /* used, allocated */
    uint32_t rated;         /* entries rated by a lexicon file */
    uint32_t emo_max;       /* longest emoticon key, in bytes */
    uint32_t multi_names;   /* names of several words ("acme cloud") */
    struct es_buf keys;     /* every key, back to back (owned) */
    enum es_lexicon_format format;
    int from_cache;          /* read from lexcache.c's image */
    uint8_t emo2[65536 / 8]; /* first two bytes of every emoticon key */
    uint8_t pair[65536 / 8]; /* first two words of every expression */
    /* Bit (hash >> 15) of every key: most words are in no lexicon, and
     * this answers for them from the L1 cache. 16 KiB, not 8: with
     * about 21,000 keys the half-size map let about 27% of unknown
     * words through to the table, this one about 15% (session 17: 0.5%
     * fewer instructions, 2-7% less time in interleaved runs). */
    uint8_t known[131072 / 8];
};

/* The hash of keys and tokens: eight bytes at a time (little-endian),
 * then a final mix (64-bit multiply-xorshift). The tokenizer builds the
 * same blocks while it lower-cases a word, so it never reads a word twice;
 * the three steps below must stay in step with lex_hash(). */
#define LEX_SEED 0x9E3779B97F4A7C15ull

static inline uint64_t lex_hash_block(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0xFF51AFD7ED558CCDull;
    return h ^ (h >> 32);
}

static inline uint32_t lex_hash_final(uint64_t h, uint64_t tail, size_t len)
{
    h = (h ^ tail ^ ((uint64_t)len << 56)) * 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 29;
    h *= 0xFF51AFD7ED558CCDull;
    return (uint32_t)(h ^ (h >> 32));
}

static inline uint32_t lex_hash(const char *s, size_t len)
{
    uint64_t h = LEX_SEED;
    size_t total = len;
    while (len >= 8) {
        uint64_t w = 0;
        for (int k = 0; k < 8; k++)
            w |= (uint64_t)(unsigned char)s[k] << (8 * k);
        h = lex_hash_block(h, w);
        s += 8;
        len -= 8;
    }
    uint64_t w = 0;
    for (size_t k = 0; k < len; k++)
        w |= (uint64_t)(unsigned char)s[k] << (8 * k);
    return lex_hash_final(h, w, total);
}

/* The first 8 bytes of @key (@len bytes), zero-padded, little-endian. */
static inline uint64_t lex_key8(const char *key, size_t len)
{
    uint64_t w = 0;
    size_t n = len < 8 ? len : 8;
    for (size_t k = 0; k < n; k++)
        w |= (uint64_t)(unsigned char)key[k] << (8 * k);
    return w;
}

/* Finds the normalised key @key of @len bytes with hash @h and first
 * eight bytes @key8 (lex_key8()). Returns a borrowed pointer into @lex or
 * NULL. */
static inline const struct lex_entry *
es_lexicon__find8(const struct es_lexicon *lex, const char *key, size_t len,
                  uint32_t h, uint64_t key8)
{
    if (!((lex->known[h >> 18] >> ((h >> 15) & 7)) & 1))
        return NULL;
    uint32_t i = h & lex->mask;
    for (;;) {
        struct lex_slot s = lex->slots[i];
        if (!s.idx)
            return NULL;
        if (s.hash == h) {
            const struct lex_entry *e = &lex->ents[s.idx - 1];
            if (e->key_len == len && e->key8 == key8) {
                /* Words are short: a loop beats a call to memcmp. */
                const char *k = lex->keys.ptr + e->key_off;
                size_t j = 8;
                while (j < len && k[j] == key[j])
                    j++;
                if (j >= len)
                    return e;
            }
        }
        i = (i + 1) & lex->mask;
    }
}

/* As es_lexicon__find8(), computing the first eight bytes itself. */
static inline const struct lex_entry *
es_lexicon__find(const struct es_lexicon *lex, const char *key, size_t len,
                 uint32_t h)
{
    return es_lexicon__find8(lex, key, len, h, lex_key8(key, len));
}

/* The bit of lex->pair for two words with hashes @h1 and @h2. */
static inline unsigned lex_pair_bit(uint32_t h1, uint32_t h2)
{
    uint32_t x = (h1 ^ (h2 * 0x9E3779B1u)) * 0x85EBCA6Bu;
    return x >> 16;
}

/* 0 when no expression of the lexicon starts with the two words whose
 * hashes are @h1 and @h2 (1: maybe one does). */
static inline int es_lexicon__pair(const struct es_lexicon *lex, uint32_t h1,
                                   uint32_t h2)
{
    unsigned k = lex_pair_bit(h1, h2);
    return (lex->pair[k >> 3] >> (k & 7)) & 1;
}

/* 1 when an emoticon key may start with the bytes @c0 @c1 (0 for a
 * one-byte key): a cheap test before hashing a chunk of punctuation. */
static inline int es_lexicon__emo_start(const struct es_lexicon *lex,
                                        unsigned char c0, unsigned char c1)
{
    unsigned k = (unsigned)c0 << 8 | c1;
    return (lex->emo2[k >> 3] >> (k & 7)) & 1;
}

/* ==== norm.c: the shared normalisation of keys and tokens ==== */

/* Character classes of the tokenizer for one code point. */
enum norm_class {
    NC_SPACE,  /* whitespace, controls, NUL, invalid UTF-8 */
    NC_WORD,   /* letters, digits, marks, '_' */
    NC_APOS,   /* ' and U+2019 / U+2018 */
    NC_HYPHEN, /* - */
    NC_PUNCT,  /* other punctuation and symbols of text */
    NC_EMOJI,  /* a pictographic symbol: a token of its own */
    NC_IGNORE, /* variation selectors, ZWJ, skin tones: dropped */
};

/* The class of code point @cp. */
enum norm_class es_norm__class(uint32_t cp);

/* Appends the case-folded NFKC form of the non-ASCII word @s (@len bytes)
 * to @out; U+2019 and U+2018 become "'". Falls back to the bytes as they
 * are when they are not valid UTF-8 or the word is very long. */
void es_norm__fold(struct es_buf *out, const char *s, size_t len);

/* Writes the normalised key of the lexicon term @s into @out (reset
 * first): lower case, folded, words separated by single spaces, ignorable
 * code points dropped. Returns the number of words, 0 for an empty term. */
int es_norm__term(struct es_buf *out, const char *s, size_t len);

/* The number of words of @s when it is its own normalised key already
 * (lower-case ASCII words, one space between them), else 0. */
int es_norm__plain_words(const char *s, size_t len);

/* ==== lexcache.c: loaded lexicons kept on disk ==== */

/* A file's identity: what changes when it is replaced or edited. */
struct lexcache_file_id {
    uint64_t dev, ino, size;
    int64_t mtime_ns;
};

/* Where the image of one lexicon file goes, and what it must match: the
 * file and this executable as they are before the file is read (so that
 * an edit while it is read makes the image stale, never wrong). */
struct lexcache_key {
    char image[PATH_MAX];
    struct lexcache_file_id exe, src;
};

/* Fills @key for the lexicon file @path. Returns 0, or -1 when there is
 * no cache for it (turned off, no cache folder, not a regular file). */
int es_lexcache__key(struct lexcache_key *key, const char *path);

/* Reads the image @key names into *out (freed with es_lexicon_free()).
 * Returns 0, or -1 when there is none, or it is stale or damaged: load
 * the file. */
int es_lexcache__load(struct es_lexicon **out, const struct lexcache_key *key);

/* Caches @lex, just loaded from the file of @key, for the next process.
 * Errors are ignored: the cache only saves time. */
void es_lexcache__save(const struct es_lexicon *lex,
                       const struct lexcache_key *key);

/* ==== rules.c: the built-in word lists ==== */

struct rule_word {
    const char *word;
    uint32_t flags;
    float scalar; /* for LEX_BOOSTER */
};

/* NULL-terminated tables: rule words, stopwords, and default idioms. */
extern const struct rule_word es_rules__words[];

/* NULL-terminated lists of normalised terms for the LEXX_* bits. */
extern const char *const es_rules__laugh_marks[];
extern const char *const es_rules__laugh_words[];
extern const char *const es_rules__laugh_hard[];
extern const char *const es_rules__good_scores[];
extern const char *const es_rules__harm_verbs[];
extern const char *const es_rules__corrections[];
extern const char *const es_rules__pleas[];
extern const char *const es_rules__tears[];
extern const char *const es_rules__at_best[];
extern const char *const es_rules__eyerolls[];
extern const char *const es_rules__nothing_says[];
extern const char *const es_rules__prices[];

/* Everyday words of the languages past LANG_FLAG_COUNT, NULL-terminated:
 * marked LEXX_LANG(lang). */
struct rule_lang_word {
    const char *word;
    int lang;
};
extern const struct rule_lang_word es_rules__lang_words[];

struct rule_idiom {
    const char *term;
    float valence;
};
extern const struct rule_idiom es_rules__idioms[];

#endif
