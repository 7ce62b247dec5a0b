/* norm.c - Unicode classes and normalisation shared by loader and tokenizer
 *
 * A lexicon term and a token of a text must normalise to the same bytes
 * or the lookup misses, so both go through here: ASCII is lower-cased by
 * hand (the fast path that nearly every token takes), anything else is
 * NFKC-normalised and case-folded by utf8proc (Latin-1 letters through a
 * table utf8proc fills once). Typographic apostrophes
 * become ASCII ones, so "don’t" is "don't".
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "lexicon.h"

/* Longest word folded with utf8proc, in code points; longer ones (a run
 * of Japanese with no spaces, say) are kept as they are: no lexicon term
 * is that long, and the stack buffer stays small. */
#define FOLD_MAX 128

enum norm_class es_norm__class(uint32_t cp)
{
    if (cp < 0x80) {
        if (cp <= ' ' || cp == 0x7F)
            return NC_SPACE;
        if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
            (cp >= '0' && cp <= '9') || cp == '_')
            return NC_WORD;
        if (cp == '\'')
            return NC_APOS;
        if (cp == '-')
            return NC_HYPHEN;
        return NC_PUNCT;
    }
    if (cp == 0x2019 || cp == 0x2018 || cp == 0x02BC)
        return NC_APOS;
    /* Parts of emoji sequences: variation selectors, the zero-width
     * joiner, skin tones, the keycap mark and tag characters. */
    if ((cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0x200D || cp == 0x20E3 ||
        (cp >= 0x1F3FB && cp <= 0x1F3FF) || (cp >= 0xE0020 && cp <= 0xE007F))
        return NC_IGNORE;
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
        return NC_WORD;
    case UTF8PROC_CATEGORY_SO:
        return NC_EMOJI;
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
    case UTF8PROC_CATEGORY_SM:
    case UTF8PROC_CATEGORY_SC:
    case UTF8PROC_CATEGORY_SK:
        return NC_PUNCT;
    default:
        return NC_SPACE; /* separators, controls, unassigned */
    }
}

/* The folds of U+00C0..U+00FF (bytes C3 80..C3 BF, the accented letters
 * of most European languages), computed once by utf8proc with the same
 * options as es_norm__fold(): the second byte of the fold when it is
 * again C3 xx, else 0 (the sharp s folds to "ss"). A word of ASCII and
 * these letters then folds by table, without a utf8proc call per word. */
static unsigned char latin1_fold[64];
static pthread_once_t latin1_once = PTHREAD_ONCE_INIT;

static const utf8proc_option_t FOLD_OPTS = UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
                                           UTF8PROC_CASEFOLD | UTF8PROC_IGNORE |
                                           UTF8PROC_STABLE;

static void latin1_init(void)
{
    for (unsigned b = 0x80; b <= 0xBF; b++) {
        const utf8proc_uint8_t in[3] = { 0xC3, (utf8proc_uint8_t)b, 0 };
        utf8proc_uint8_t *out = NULL;
        utf8proc_ssize_t n = utf8proc_map(in, 2, &out, FOLD_OPTS);
        if (n == 2 && out[0] == 0xC3 && out[1] >= 0x80 && out[1] <= 0xBF)
            latin1_fold[b - 0x80] = out[1];
        free(out);
    }
}

/* The fold of a word whose letters are ASCII or U+00C0..U+00FF by the
 * table above. Returns 0, having written nothing, for any other word. */
static int fold_latin1(struct es_buf *out, const char *s, size_t len)
{
    pthread_once(&latin1_once, latin1_init);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80)
            continue;
        if (c != 0xC3 || i + 1 >= len || (unsigned char)s[i + 1] < 0x80 ||
            (unsigned char)s[i + 1] > 0xBF ||
            !latin1_fold[(unsigned char)s[i + 1] - 0x80])
            return 0;
        i++;
    }
    es_buf_grow(out, len);
    char *d = out->ptr + out->len;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z') {
            c += 32;
        } else if (c == 0xC3) {
            *d++ = (char)c;
            c = latin1_fold[(unsigned char)s[++i] - 0x80];
        }
        *d++ = (char)c;
    }
    out->len += len;
    out->ptr[out->len] = '\0';
    return 1;
}

void es_norm__fold(struct es_buf *out, const char *s, size_t len)
{
    utf8proc_int32_t cps[FOLD_MAX];
    const utf8proc_option_t opts = FOLD_OPTS;
    utf8proc_ssize_t n;

    if (fold_latin1(out, s, len))
        return;
    if (len > FOLD_MAX)
        goto raw;
    n = utf8proc_decompose((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len,
                           cps, FOLD_MAX, opts);
    if (n < 0 || n > FOLD_MAX)
        goto raw;
    utf8proc_ssize_t k = 0;
    for (utf8proc_ssize_t i = 0; i < n; i++) {
        enum norm_class nc = es_norm__class((uint32_t)cps[i]);
        if (nc == NC_APOS)
            cps[k++] = '\'';
        else if (nc != NC_IGNORE)
            cps[k++] = cps[i];
    }
    n = utf8proc_reencode(cps, k, opts);
    if (n < 0)
        goto raw;
    es_buf_add(out, cps, (size_t)n);
    return;
raw:
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        es_buf_addch(out, c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
}

int es_norm__plain_words(const char *s, size_t len)
{
    int words = 1;
    if (!len || s[0] == ' ' || s[len - 1] == ' ')
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((unsigned char)(c - 'a') < 26)
            continue; /* most bytes: one test */
        if (c == ' ') {
            if (s[i - 1] == ' ')
                return 0;
            words++;
        } else if (c >= 0x80 || c < ' ' || (c >= 'A' && c <= 'Z')) {
            return 0;
        }
    }
    return words;
}

/* The fast path of es_norm__term() for what nearly every lexicon line
 * is: lower-case ASCII words with one space between them. Returns the
 * number of words, or 0 when @s is anything else. */
static int plain_term(struct es_buf *out, const char *s, size_t len)
{
    int words = es_norm__plain_words(s, len);
    if (words > 0)
        es_buf_add(out, s, len);
    return words;
}

int es_norm__term(struct es_buf *out, const char *s, size_t len)
{
    int words = 0;
    size_t i = 0;

    es_buf_reset(out);
    if ((words = plain_term(out, s, len)) > 0)
        return words;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            i++;
            continue;
        }
        /* One word: up to the next ASCII space. */
        size_t start = i;
        int ascii = 1;
        while (i < len && s[i] != ' ' && s[i] != '\t' && s[i] != '\r' &&
               s[i] != '\n') {
            if ((unsigned char)s[i] >= 0x80)
                ascii = 0;
            i++;
        }
        if (words++)
            es_buf_addch(out, ' ');
        if (ascii) {
            es_buf_grow(out, i - start);
            char *d = out->ptr + out->len;
            for (size_t k = start; k < i; k++) {
                unsigned char c2 = (unsigned char)s[k];
                *d++ = (char)(c2 >= 'A' && c2 <= 'Z' ? c2 + 32 : c2);
            }
            out->len += i - start;
            out->ptr[out->len] = '\0';
        } else {
            size_t before = out->len;
            es_norm__fold(out, s + start, i - start);
            if (out->len == before) /* only ignorables: drop the word */
                words--;
        }
    }
    /* A word made only of ignorables may have left a trailing space. */
    while (out->len && out->ptr[out->len - 1] == ' ')
        es_buf_truncate(out, out->len - 1);
    return out->len ? words : 0;
}
