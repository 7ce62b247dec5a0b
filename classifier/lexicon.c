/* lexicon.c - loading lexicons into one open-addressing hash table
 *
 * Three formats are read, told apart by their shape: earshot's own
 * (term<TAB>valence on -4..+4), VADER's (token, mean, standard deviation,
 * the list of ratings) and AFINN's (token, integer on -5..+5, scaled by
 * 0.8 onto VADER's range). A file is checked whole before anything is
 * added, so a malformed overlay leaves the lexicon as it was.
 *
 * The table is built once and never changes afterwards, so threads share
 * it without locks. Its probe array of 8-byte slots is kept at most 70%
 * full: a miss, the common case for a token that the filter of known
 * keys lets through, ends at an empty slot within a cache line or two,
 * and twenty thousand terms take 256 KiB of L2 cache (at 60% they needed
 * twice that, which with the entries no longer fitted beside the rest).
 */
#include "lexicon.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "earshot/alloc.h"
#include "earshot/error.h"

#define TERM_MAX    255 /* bytes of a normalised term */
#define MWE_MAX     8   /* words of a multi-word expression */
#define AFINN_SCALE 0.8

/* ==== The hash table ==== */

static struct es_lexicon *lex_new(uint32_t expect)
{
    struct es_lexicon *lex = es_xcalloc(1, sizeof(*lex));
    uint32_t cap = 1024;
    while (cap * 7u < (expect + 16u) * 10u) /* at most 70% full */
        cap <<= 1;
    lex->slots = es_xcalloc(cap, sizeof(*lex->slots));
    lex->cap = cap;
    lex->mask = cap - 1;
    lex->aents = expect + 16;
    lex->ents = es_xmalloc(lex->aents * sizeof(*lex->ents));
    es_buf_init(&lex->keys);
    return lex;
}

/* Doubles the probe array. */
static void lex_grow(struct es_lexicon *lex)
{
    uint32_t ncap = lex->cap * 2;
    struct lex_slot *ns = es_xcalloc(ncap, sizeof(*ns));
    for (uint32_t i = 0; i < lex->cap; i++) {
        struct lex_slot s = lex->slots[i];
        if (!s.idx)
            continue;
        uint32_t k = s.hash & (ncap - 1);
        while (ns[k].idx)
            k = (k + 1) & (ncap - 1);
        ns[k] = s;
    }
    free(lex->slots);
    lex->slots = ns;
    lex->cap = ncap;
    lex->mask = ncap - 1;
}

/* Returns the entry of the normalised @key, adding an empty one (no
 * flags) when it is not there yet. The pointer is valid until the next
 * lex_put(). */
static struct lex_entry *lex_put(struct es_lexicon *lex, const char *key,
                                 size_t len)
{
    uint32_t h = lex_hash(key, len);
    if ((lex->nents + 1) * 10 > lex->cap * 7)
        lex_grow(lex);
    uint32_t i = h & lex->mask;
    for (;;) {
        struct lex_slot s = lex->slots[i];
        if (!s.idx)
            break;
        struct lex_entry *e = &lex->ents[s.idx - 1];
        if (s.hash == h && e->key_len == len &&
            memcmp(lex->keys.ptr + e->key_off, key, len) == 0)
            return e;
        i = (i + 1) & lex->mask;
    }
    if (lex->nents == lex->aents) {
        lex->aents *= 2;
        lex->ents = es_xrealloc(lex->ents, lex->aents * sizeof(*lex->ents));
    }
    struct lex_entry *e = &lex->ents[lex->nents++];
    memset(e, 0, sizeof(*e));
    e->key_off = (uint32_t)lex->keys.len;
    e->key_len = (uint16_t)len;
    e->key8 = lex_key8(key, len);
    es_buf_add(&lex->keys, key, len);
    lex->slots[i].hash = h;
    lex->slots[i].idx = lex->nents;
    lex->known[h >> 18] |= (uint8_t)(1u << ((h >> 15) & 7));
    return e;
}

/* What an ASCII byte is to key_is_emo(): a letter or digit (the common
 * case, tested first: every key is read while a lexicon loads), one of
 * ' - _, a blank, or punctuation. */
enum { KC_ALNUM, KC_JOIN, KC_BLANK, KC_PUNCT };
static inline unsigned char key_class(unsigned char b)
{
    if ((b | 0x20) >= 'a' && (b | 0x20) <= 'z')
        return KC_ALNUM;
    if (b >= '0' && b <= '9')
        return KC_ALNUM;
    if (b == '\'' || b == '-' || b == '_')
        return KC_JOIN;
    if (b <= ' ' || b == 0x7F)
        return KC_BLANK;
    return KC_PUNCT;
}

/* 1 when the single-word key @key is an emoticon or emoji: it has
 * punctuation or a pictographic symbol in it, or is made of hyphens,
 * underscores and apostrophes alone ("-_-"). */
static int key_is_emo(const char *key, size_t len)
{
    int alnum = 0;
    for (size_t i = 0; i < len;) {
        unsigned char b = (unsigned char)key[i];
        if (b < 0x80) { /* ASCII: no need to decode */
            unsigned char c = key_class(b);
            if (c == KC_PUNCT)
                return 1;
            alnum |= c != KC_JOIN; /* a blank counts, as it did */
            i++;
            continue;
        }
        alnum = 1;
        unsigned long cp;
        size_t n = es_utf8_decode(key + i, len - i, &cp);
        if (n == 0)
            return 0;
        enum norm_class c = es_norm__class((uint32_t)cp);
        if (c == NC_PUNCT || c == NC_EMOJI)
            return 1;
        i += n;
    }
    return !alnum && len > 0;
}

/* Adds the normalised @key of @words words with @flags; marks its first
 * word as the head of an expression and its first words as a prefix. */
static struct lex_entry *lex_add(struct es_lexicon *lex, const char *key,
                                 size_t len, int words, uint32_t flags)
{
    struct lex_entry *e;
    if (words == 1 && key_is_emo(key, len)) {
        flags |= LEX_EMO;
        unsigned k = (unsigned)(unsigned char)key[0] << 8 |
                     (len > 1 ? (unsigned char)key[1] : 0);
        lex->emo2[k >> 3] |= (uint8_t)(1u << (k & 7));
        if (len > lex->emo_max)
            lex->emo_max = (uint32_t)len;
    }
    if (words > 1) {
        size_t first = (size_t)(strchr(key, ' ') - key);
        const char *second = key + first + 1;
        const char *sp = memchr(second, ' ', len - first - 1);
        size_t second_len = sp ? (size_t)(sp - second) : len - first - 1;
        unsigned bit =
            lex_pair_bit(lex_hash(key, first), lex_hash(second, second_len));
        lex->pair[bit >> 3] |= (uint8_t)(1u << (bit & 7));
        e = lex_put(lex, key, first);
        if (e->mwe_max < words)
            e->mwe_max = (uint8_t)words;
        /* "no problem at" is a prefix of "no problem at all". */
        for (size_t k = first + 1; k < len; k++)
            if (key[k] == ' ')
                lex_put(lex, key, k)->flags |= LEX_PREFIX;
    }
    e = lex_put(lex, key, len);
    e->flags |= flags;
    return e;
}

/* Sets the valence a lexicon file gives @key. Returns its entry, valid
 * until the next lex_put(). */
static struct lex_entry *lex_rate(struct es_lexicon *lex, const char *key,
                                  size_t len, int words, double valence)
{
    struct lex_entry *e = lex_add(lex, key, len, words, 0);
    if (!(e->flags & LEX_VALENCE) || (e->flags & LEX_BUILTIN))
        lex->rated++;
    e->flags = (e->flags | LEX_VALENCE) & ~(uint32_t)LEX_BUILTIN;
    e->valence = (float)valence;
    return e;
}

/* The rule words, stopwords and default idioms every lexicon starts
 * with. */
static void lex_add_builtins(struct es_lexicon *lex)
{
    struct es_buf key = ES_BUF_INIT;
    for (const struct rule_word *w = es_rules__words; w->word; w++) {
        int words = es_norm__term(&key, w->word, strlen(w->word));
        struct lex_entry *e = lex_add(lex, key.ptr, key.len, words, w->flags);
        if (w->flags & (LEX_BOOSTER | LEX_AFTER))
            e->scalar = w->scalar;
    }
    for (const struct rule_lang_word *w = es_rules__lang_words; w->word; w++) {
        int words = es_norm__term(&key, w->word, strlen(w->word));
        struct lex_entry *e = lex_add(lex, key.ptr, key.len, words, 0);
        /* LEX_STRONG with no LEX_LANG bit sends the tokenizer to xflags:
         * a word that has a LEX_LANG bit already keeps to it. */
        if (!(e->flags & LEX_LANG_MASK)) {
            e->flags |= LEX_STRONG;
            e->xflags |= (uint16_t)LEXX_LANG(w->lang);
        }
    }
    for (const struct rule_idiom *d = es_rules__idioms; d->term; d++) {
        int words = es_norm__term(&key, d->term, strlen(d->term));
        struct lex_entry *e = lex_add(lex, key.ptr, key.len, words, 0);
        if (!(e->flags & LEX_VALENCE)) {
            e->flags |= LEX_VALENCE | LEX_BUILTIN;
            e->valence = d->valence;
        }
    }
    es_buf_release(&key);
}

/* ==== Parsing ==== */

/* A row whose term is its own key (nearly all of them) points to it in
 * the file's bytes rather than copying it. */
#define KEY_IS_TERM UINT32_MAX

/* 32 bytes: a lexicon has tens of thousands of rows, and every page of
 * them is a page fault at start-up. */
struct row {
    const char *term; /* into the file's bytes */
    double value;
    uint32_t line;
    uint32_t key_off;  /* its normalised key in parse.keys, or KEY_IS_TERM */
    uint16_t term_len; /* at most TERM_MAX */
    uint16_t key_len;
    uint8_t words; /* its number of words; 0 until normalised, unless plain */
};

struct parse {
    const char *name;
    enum es_lexicon_format format;
    int have_format;
    int all_integer; /* every value is a whole number */
    int beyond_4;    /* some |value| > 4 */
    struct row *rows;
    size_t n, alloc;
    struct es_buf keys; /* the normalised keys, back to back */
};

/* Parses a plain decimal ("-1.25") exactly as strtod() would: an
 * integer mantissa of at most 15 digits divided by a power of ten is
 * correctly rounded. Returns 0, or -1 for anything else. */
static int parse_plain(const char *s, const char *end, double *out)
{
    static const double pow10[] = {
        1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
        1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15
    };
    int neg = 0, digits = 0, frac = -1;
    uint64_t m = 0;
    if (s < end && (*s == '-' || *s == '+'))
        neg = *s++ == '-';
    for (; s < end; s++) {
        if (*s == '.' && frac < 0) {
            frac = 0;
            continue;
        }
        if (*s < '0' || *s > '9' || ++digits > 15)
            return -1;
        m = m * 10 + (uint64_t)(*s - '0');
        if (frac >= 0)
            frac++;
    }
    if (digits == 0 || frac == 0)
        return -1;
    double v = (double)m / pow10[frac > 0 ? frac : 0];
    *out = neg ? -v : v;
    return 0;
}

/* Parses the number in @s..@end (surrounding blanks allowed). */
static int parse_number(const char *s, const char *end, double *out)
{
    /* Nearly every valence is written "d.d" or "-d.d": no loop. The
     * division by 10 rounds as strtod() does. */
    size_t n = (size_t)(end - s);
    int neg = n == 4 && s[0] == '-';
    if ((n == 3 || neg) && s[neg + 1] == '.' &&
        (unsigned char)(s[neg] - '0') < 10 &&
        (unsigned char)(s[neg + 2] - '0') < 10) {
        double v = (double)((s[neg] - '0') * 10 + (s[neg + 2] - '0')) / 10;
        *out = neg ? -v : v;
        return 0;
    }
    char tmp[64];
    while (s < end && (*s == ' ' || *s == '\r'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\r'))
        end--;
    if (parse_plain(s, end, out) == 0)
        return 0;
    size_t len = (size_t)(end - s);
    if (len == 0 || len >= sizeof(tmp))
        return -1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    char *stop;
    errno = 0;
    double v = strtod(tmp, &stop);
    if (*stop || errno || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int valid_utf8(const char *s, size_t len)
{
    return es_utf8_invalid_at(s, len) == len;
}

/* Parses one data line @s of @len bytes (no newline) into a row. */
static int parse_line(struct parse *p, const char *s, size_t len, size_t line)
{
    const char *f[5] = { 0 };
    size_t flen[5] = { 0 };
    int nf = 0;
    const char *end = s + len;
    const char *start = s;

    while (nf < 5) {
        const char *tab = memchr(start, '\t', (size_t)(end - start));
        const char *c = tab ? tab : end;
        f[nf] = start;
        flen[nf] = (size_t)(c - start);
        nf++;
        if (!tab)
            break;
        start = tab + 1;
    }
    if (!p->have_format) {
        p->format = nf == 4 ? ES_LEXICON_VADER : ES_LEXICON_EARSHOT;
        p->have_format = 1;
    }
    if (p->format == ES_LEXICON_VADER && nf != 4)
        return es_error_set(ES_EINVALID,
                            "%s:%zu: expected 4 tab-separated fields "
                            "(token, mean, sd, ratings) as in the lines "
                            "before, found %d",
                            p->name, line, nf > 4 ? 5 : nf);
    if (p->format != ES_LEXICON_VADER && nf != 2)
        return es_error_set(ES_EINVALID,
                            nf == 1 ? "%s:%zu: expected term<TAB>valence, "
                                      "found no tab"
                                    : "%s:%zu: expected term<TAB>valence, "
                                      "found %d fields",
                            p->name, line, nf > 4 ? 5 : nf);
    /* The term: trimmed of blanks, valid UTF-8, not too long. */
    const char *t = f[0];
    size_t tl = flen[0];
    while (tl && (*t == ' ' || *t == '\r')) {
        t++;
        tl--;
    }
    while (tl && (t[tl - 1] == ' ' || t[tl - 1] == '\r'))
        tl--;
    if (tl == 0)
        return es_error_set(ES_EINVALID, "%s:%zu: empty term", p->name, line);
    /* Nearly every term is its own key, in lower-case ASCII: then it is
     * valid UTF-8 too, and parse_all() need not normalise it. */
    int plain = es_norm__plain_words(t, tl);
    if (!plain && !valid_utf8(t, tl))
        return es_error_set(ES_EINVALID, "%s:%zu: term is not valid UTF-8",
                            p->name, line);
    if (tl > TERM_MAX)
        return es_error_set(ES_EINVALID, "%s:%zu: term longer than %d bytes",
                            p->name, line, TERM_MAX);
    double v;
    if (parse_number(f[1], f[1] + flen[1], &v) < 0)
        return es_error_set(ES_EINVALID,
                            "%s:%zu: valence '%.*s' is not a number", p->name,
                            line, (int)(flen[1] > 40 ? 40 : flen[1]), f[1]);
    if (p->format == ES_LEXICON_VADER) {
        double sd;
        if (parse_number(f[2], f[2] + flen[2], &sd) < 0 || sd < 0)
            return es_error_set(ES_EINVALID,
                                "%s:%zu: standard deviation '%.*s' is not "
                                "a number >= 0",
                                p->name, line,
                                (int)(flen[2] > 40 ? 40 : flen[2]), f[2]);
        if (flen[3] == 0 || f[3][0] != '[')
            return es_error_set(ES_EINVALID,
                                "%s:%zu: expected a list of ratings "
                                "'[...]' in field 4",
                                p->name, line);
        if (v < -4 || v > 4)
            return es_error_set(ES_EINVALID,
                                "%s:%zu: mean %g out of range [-4, 4]", p->name,
                                line, v);
    } else {
        if (v < -5 || v > 5)
            return es_error_set(ES_EINVALID,
                                "%s:%zu: valence %g out of range [-4, 4]",
                                p->name, line, v);
        if (v != floor(v))
            p->all_integer = 0;
        if (fabs(v) > 4)
            p->beyond_4 = 1;
    }
    if (p->n == p->alloc) {
        p->alloc = p->alloc ? p->alloc * 2 : 1024;
        p->rows = es_xrealloc(p->rows, p->alloc * sizeof(*p->rows));
    }
    p->rows[p->n++] = (struct row){
        .term = t,
        .term_len = (uint16_t)tl,
        .value = v,
        .line = (uint32_t)line,
        .words = (uint8_t)plain, /* a term of 255 bytes has 128 words */
    };
    return 0;
}

/* Parses the whole file @buf into p->rows and settles its format. */
static int parse_all(struct parse *p, const char *buf, size_t len)
{
    size_t line = 0;
    const char *s = buf, *end = buf + len;

    p->all_integer = 1;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        s += 3;
    /* One look for a NUL byte in the whole file, not one per line. */
    const char *nul = memchr(s, '\0', (size_t)(end - s));
    /* Rows for every line at once: growing the array would copy it, and
     * touch twice the pages. */
    size_t lines = 1;
    for (const char *c = s; (c = memchr(c, '\n', (size_t)(end - c))); c++)
        lines++;
    if (lines > p->alloc) {
        p->alloc = lines;
        p->rows = es_xrealloc(p->rows, p->alloc * sizeof(*p->rows));
    }
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end;
        line++;
        size_t ll = (size_t)(le - s);
        if (ll && s[ll - 1] == '\r')
            ll--;
        size_t k = 0;
        while (k < ll && (s[k] == ' ' || s[k] == '\t'))
            k++;
        if (k < ll && s[k] != '#') {
            if (nul && nul < s) /* it was in a comment: the next one */
                nul = memchr(s, '\0', (size_t)(end - s));
            if (nul && nul < s + ll)
                return es_error_set(ES_EINVALID, "%s:%zu: NUL byte in line",
                                    p->name, line);
            int rc = parse_line(p, s, ll, line);
            if (rc < 0)
                return rc;
        }
        s = nl ? nl + 1 : end;
    }
    if (p->format == ES_LEXICON_EARSHOT && p->n && p->all_integer &&
        p->beyond_4)
        p->format = ES_LEXICON_AFINN;
    if (p->format == ES_LEXICON_EARSHOT) {
        /* Earshot's range is -4..+4: a 4.5 is a mistake, not AFINN. */
        for (size_t i = 0; i < p->n; i++)
            if (fabs(p->rows[i].value) > 4)
                return es_error_set(
                    ES_EINVALID, "%s:%zu: valence %g out of range [-4, 4]",
                    p->name, (size_t)p->rows[i].line, p->rows[i].value);
    }
    /* Terms must normalise to something the tokenizer can produce. */
    struct es_buf key = ES_BUF_INIT;
    int rc = 0;
    for (size_t i = 0; i < p->n && rc == 0; i++) {
        struct row *r = &p->rows[i];
        int words = r->words; /* parse_line() found it plain */
        if (words > 0) {
            r->key_off = KEY_IS_TERM;
            r->key_len = r->term_len;
        } else {
            words = es_norm__term(&key, r->term, r->term_len);
            if (key.len > TERM_MAX) {
                rc = es_error_set(ES_EINVALID,
                                  "%s:%zu: term longer than %d bytes once "
                                  "normalised",
                                  p->name, (size_t)r->line, TERM_MAX);
                break;
            }
            r->key_off = (uint32_t)p->keys.len;
            r->key_len = (uint16_t)key.len;
            es_buf_add(&p->keys, key.ptr, key.len);
        }
        r->words = (uint8_t)words;
        if (words == 0)
            rc = es_error_set(ES_EINVALID,
                              "%s:%zu: term has nothing left once "
                              "normalised",
                              p->name, (size_t)r->line);
        else if (words > MWE_MAX)
            rc = es_error_set(ES_EINVALID,
                              "%s:%zu: expression of %d words (at most %d)",
                              p->name, (size_t)r->line, words, MWE_MAX);
    }
    es_buf_release(&key);
    return rc;
}

/* Sets @bit on the entries of the terms of @list that the lexicon has. */
static void mark_list(struct es_lexicon *lex, const char *const *list,
                      uint16_t bit)
{
    for (; *list; list++) {
        size_t len = strlen(*list);
        /* lex_put() finds it again, as an entry we may change. */
        if (es_lexicon__find(lex, *list, len, lex_hash(*list, len)))
            lex_put(lex, *list, len)->xflags |= bit;
    }
}

/* Marks LEXX_HARM on the words rated below zero that read as verbs by
 * their form ("ruined", "ruining", "ruins") and on those of
 * es_rules__harm_verbs, for the scorer's harmed-good rule; again after
 * an overlay, which may rate a word anew. */
static void mark_harms(struct es_lexicon *lex)
{
    for (uint32_t i = 0; i < lex->nents; i++) {
        struct lex_entry *e = &lex->ents[i];
        const char *k = lex->keys.ptr + e->key_off;
        size_t len = e->key_len;
        e->xflags &= (uint16_t)~LEXX_HARM;
        if (!(e->flags & LEX_VALENCE) || e->valence >= 0 || len < 4)
            continue;
        if (((k[len - 1] == 'd' && k[len - 2] == 'e') ||
             (k[len - 1] == 'g' && k[len - 2] == 'n' && k[len - 3] == 'i') ||
             (k[len - 1] == 's' && k[len - 2] != 's')) &&
            !memchr(k, ' ', len))
            e->xflags |= LEXX_HARM;
    }
    for (const char *const *v = es_rules__harm_verbs; *v; v++) {
        size_t len = strlen(*v);
        const struct lex_entry *e =
            es_lexicon__find(lex, *v, len, lex_hash(*v, len));
        if (e && (e->flags & LEX_VALENCE) && e->valence < 0)
            lex_put(lex, *v, len)->xflags |= LEXX_HARM;
    }
}

/* Marks the words the laughter rule, the scores' irony, the harmed
 * good, the plea, the tears of joy, "at its finest" and the eye roll
 * look for (LEXX_*), once the lexicon's terms are in. */
static void mark_words(struct es_lexicon *lex)
{
    mark_harms(lex);
    mark_list(lex, es_rules__laugh_marks, LEXX_LAUGH_MARK);
    mark_list(lex, es_rules__laugh_words, LEXX_LAUGH_WORD);
    mark_list(lex, es_rules__laugh_hard, LEXX_HARD);
    mark_list(lex, es_rules__good_scores, LEXX_SCORE);
    mark_list(lex, es_rules__corrections, LEXX_CORRECT);
    mark_list(lex, es_rules__pleas, LEXX_PLEA);
    mark_list(lex, es_rules__tears, LEXX_TEARS);
    mark_list(lex, es_rules__at_best, LEXX_AT_BEST);
    mark_list(lex, es_rules__eyerolls, LEXX_EYEROLL);
    mark_list(lex, es_rules__nothing_says, LEXX_NOTHING_SAYS);
    /* Unrated words: entries made for them, with no LEX_* flag. */
    for (const char *const *v = es_rules__prices; *v; v++)
        lex_put(lex, *v, strlen(*v))->xflags |= LEXX_PRICE;
}

/* Adds the parsed rows to @lex. */
static void apply_rows(struct es_lexicon *lex, const struct parse *p)
{
    double scale = p->format == ES_LEXICON_AFINN ? AFINN_SCALE : 1.0;
    for (size_t i = 0; i < p->n; i++) {
        const struct row *r = &p->rows[i];
        const char *key =
            r->key_off == KEY_IS_TERM ? r->term : p->keys.ptr + r->key_off;
        lex_rate(lex, key, r->key_len, r->words, r->value * scale);
    }
    mark_words(lex);
}

/* Reads the file at @path whole into *out (NUL-terminated). */
static int read_file(const char *path, char **out, size_t *len)
{
    struct es_buf b = ES_BUF_INIT;
    char chunk[65536];
    size_t n;
    FILE *f = fopen(path, "rb");
    if (!f)
        return es_error_set(errno == ENOENT ? ES_ENOTFOUND : ES_ERROR,
                            "cannot open lexicon '%s': %s", path,
                            strerror(errno));
    /* A regular file is read in one piece into a buffer of its size; a
     * pipe or a growing file goes on in chunks. */
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        es_buf_grow(&b, (size_t)st.st_size);
        n = fread(b.ptr, 1, (size_t)st.st_size, f);
        b.len = n;
        b.ptr[n] = '\0';
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        es_buf_add(&b, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        es_buf_release(&b);
        return es_error_set(ES_ERROR, "cannot read lexicon '%s'", path);
    }
    *len = b.len;
    *out = es_buf_detach(&b);
    return 0;
}

/* ==== Public functions ==== */

int es_lexicon_load_buf(struct es_lexicon **out, const char *name,
                        const char *buf, size_t len)
{
    struct parse p = { .name = name, .keys = ES_BUF_INIT };
    struct es_lexicon *lex = NULL;
    int rc;

    *out = NULL;
    rc = parse_all(&p, buf, len);
    if (rc < 0)
        goto done;
    /* The built-in words and the prefixes of expressions add about a
     * sixth to the rows: room for all of them, so that the entries are
     * never copied to a bigger array. */
    lex = lex_new((uint32_t)(p.n + p.n / 6) + 1024);
    /* Room for every key at once: the file's bytes bound the terms', and
     * the built-in words take a few kilobytes more. */
    es_buf_grow(&lex->keys, len + 16384);
    lex_add_builtins(lex);
    apply_rows(lex, &p);
    lex->format = p.format;
    *out = lex;
done:
    free(p.rows);
    es_buf_release(&p.keys);
    return rc;
}

int es_lexicon_load(struct es_lexicon **out, const char *path)
{
    char *buf = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    /* The cache's key is taken before the file is read: an edit while it
     * is read leaves an image that the next load finds stale. */
    struct lexcache_key key;
    int cacheable = es_lexcache__key(&key, path) == 0;
    if (cacheable && es_lexcache__load(out, &key) == 0)
        return 0;
    rc = read_file(path, &buf, &len);
    if (rc == 0)
        rc = es_lexicon_load_buf(out, path, buf, len);
    free(buf);
    if (rc == 0 && cacheable)
        es_lexcache__save(*out, &key);
    return rc;
}

int es_lexicon_overlay(struct es_lexicon *lex, const char *path)
{
    struct parse p = { .name = path, .keys = ES_BUF_INIT };
    char *buf = NULL;
    size_t len = 0;
    int rc;

    rc = read_file(path, &buf, &len);
    if (rc < 0)
        goto done;
    rc = parse_all(&p, buf, len);
    if (rc < 0)
        goto done;
    apply_rows(lex, &p);
done:
    free(p.rows);
    es_buf_release(&p.keys);
    free(buf);
    return rc;
}

/* Makes the single-word key @key a name, unless the rules use it. */
static void lex_name(struct es_lexicon *lex, const char *key, size_t len)
{
    struct lex_entry *e = lex_add(lex, key, len, 1, 0);
    if (e->flags & (LEX_BOOSTER | LEX_NEGATE | LEX_BUT | LEX_THOUGH | LEX_NO |
                    LEX_LEAST | LEX_NEVER | LEX_WITHOUT | LEX_AFTER | LEX_EMO))
        return;
    if ((e->flags & LEX_VALENCE) && !(e->flags & LEX_BUILTIN))
        lex->rated--;
    e->flags = (e->flags & ~(uint32_t)(LEX_VALENCE | LEX_BUILTIN)) | LEX_NAME;
    e->valence = 0;
}

void es_lexicon_add_names(struct es_lexicon *lex, const char *const *names,
                          size_t n)
{
    struct es_buf key = ES_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        int words = es_norm__term(&key, names[i], strlen(names[i]));
        if (words < 1 || key.len == 0 || key.len > TERM_MAX)
            continue;
        if (words == 1) {
            lex_name(lex, key.ptr, key.len);
            continue;
        }
        if (words <= MWE_MAX) {
            lex_rate(lex, key.ptr, key.len, words, 0.0)->flags |= LEX_NAME;
            size_t first = (size_t)(strchr(key.ptr, ' ') - key.ptr);
            lex_put(lex, key.ptr, first)->flags |= LEX_NAME_HEAD;
            lex->multi_names++;
        }
        /* "Acme Cloud" is also written "#AcmeCloud" and "@acmecloud". */
        size_t j = 0;
        for (size_t k = 0; k < key.len; k++)
            if (key.ptr[k] != ' ')
                key.ptr[j++] = key.ptr[k];
        lex_name(lex, key.ptr, j);
    }
    es_buf_release(&key);
}

void es_lexicon_free(struct es_lexicon *lex)
{
    if (!lex)
        return;
    free(lex->slots);
    free(lex->ents);
    es_buf_release(&lex->keys);
    free(lex);
}

size_t es_lexicon_size(const struct es_lexicon *lex)
{
    return lex->rated;
}

size_t es_lexicon_bytes(const struct es_lexicon *lex)
{
    return sizeof(*lex) + (size_t)lex->cap * sizeof(*lex->slots) +
           (size_t)lex->aents * sizeof(*lex->ents) + lex->keys.alloc;
}

enum es_lexicon_format es_lexicon_format_of(const struct es_lexicon *lex)
{
    return lex->format;
}

int es_lexicon_from_cache(const struct es_lexicon *lex)
{
    return lex->from_cache;
}

int es_lexicon_lookup(const struct es_lexicon *lex, const char *term,
                      double *valence)
{
    struct es_buf key = ES_BUF_INIT;
    int found = 0;
    if (es_norm__term(&key, term, strlen(term)) > 0) {
        const struct lex_entry *e =
            es_lexicon__find(lex, key.ptr, key.len, lex_hash(key.ptr, key.len));
        if (e && (e->flags & LEX_VALENCE)) {
            *valence = e->valence;
            found = 1;
        }
    }
    es_buf_release(&key);
    return found;
}
