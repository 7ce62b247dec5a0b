/* lang.c - is this text English, and if not, what is it?
 *
 * Scoring a Spanish post with the English lexicon gives nonsense ("no" is
 * negative, "sin" is a sin), so non-English text is recognised and scored
 * on its emoji only. The check must cost next to nothing, since it runs on
 * every text at a million texts a second: the tokenizer already counts
 * stopwords of seven languages (they are flags in the lexicon's hash
 * table; the everyday words of four more are marked in the entries'
 * xflags and counted only when a text is not plainly English) and the
 * letters of other scripts, and most texts are decided
 * from those counts alone. Only a longer Latin-script text with no
 * stopword of any of those languages goes to libexttextcat's n-gram
 * classifier, which is thousands of times slower, on about thirty
 * Latin-script languages.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <textcat.h>
#include <unistd.h>
#include <utf8proc.h>

#include "sentiment_int.h"

#ifndef ES_TEXTCAT_DIR
#define ES_TEXTCAT_DIR "/usr/share/libexttextcat"
#endif

static const char *const lang_codes[LANG_COUNT] = {
    "en", "es", "fr", "de", "pt", "it", "nl", "pl", "id", "tr", "sv",
};

static const char *const script_codes[SC_COUNT] = {
    "ja", "zh", "ko", "ru", "el", "ar", "he", "th", "hi", "und",
};

/* The Latin-script languages textcat chooses among: few, since its cost
 * grows with their number. */
static const char *const textcat_langs[] = {
    "en", "es", "fr", "de", "pt", "it", "nl", "sv", "pl", "tr", "id", "ro",
};

/* Below this many letters (@handles and URLs left out) textcat guesses:
 * leave such texts English. */
#define TEXTCAT_MIN_LETTERS 48

static void set_code(char code[8], const char *c)
{
    size_t n = strlen(c);
    if (n > 7)
        n = 7;
    memcpy(code, c, n);
    code[n] = '\0';
}

/* ==== libexttextcat, one handle per thread ==== */

static pthread_key_t tc_key;
static pthread_once_t tc_once = PTHREAD_ONCE_INIT;

/* Marks a thread whose textcat could not be set up: never try again. */
static char tc_failed;

static void tc_free(void *h)
{
    if (h && h != &tc_failed)
        textcat_Done(h);
}

static void tc_key_init(void)
{
    pthread_key_create(&tc_key, tc_free);
}

/* A textcat handle restricted to textcat_langs: its configuration is
 * written to a temporary file, read, and removed. */
static void *tc_open(void)
{
    const char *dir = getenv("ES_TEXTCAT_DIR");
    char conf[] = "/tmp/earshot-textcat-XXXXXX";
    char prefix[512];
    void *h = NULL;
    const char *tmp = getenv("TMPDIR");
    char path[512];

    if (!dir || !*dir)
        dir = ES_TEXTCAT_DIR;
    snprintf(prefix, sizeof(prefix), "%s/", dir);
    if (tmp && *tmp && strlen(tmp) < 400)
        snprintf(path, sizeof(path), "%s/earshot-textcat-XXXXXX", tmp);
    else
        snprintf(path, sizeof(path), "%s", conf);
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(path);
        return NULL;
    }
    for (size_t i = 0; i < sizeof(textcat_langs) / sizeof(*textcat_langs); i++)
        fprintf(f, "%s.lm %s\n", textcat_langs[i], textcat_langs[i]);
    if (fclose(f) == 0)
        h = special_textcat_Init(path, prefix);
    unlink(path);
    return h;
}

/* 1 when the word @w of @len bytes holds "://". */
static int has_url(const char *w, size_t len)
{
    for (size_t i = 0; i + 3 <= len; i++)
        if (w[i] == ':' && w[i + 1] == '/' && w[i + 2] == '/')
            return 1;
    return 0;
}

/* Asks textcat about @buf. Returns 1 and sets @code when it names one
 * language other than English with confidence, else 0. */
static int textcat_other(const char *buf, size_t len, char code[8])
{
    pthread_once(&tc_once, tc_key_init);
    void *h = pthread_getspecific(tc_key);
    if (!h) {
        h = tc_open();
        pthread_setspecific(tc_key, h ? h : &tc_failed);
    }
    if (!h || h == &tc_failed)
        return 0;
    /* The words only: @handles, #tags and URLs are not language. A few
     * hundred bytes tell the language. */
    char clean[128];
    size_t n = 0, letters = 0;
    int full = 0;
    for (size_t i = 0; i < len && !full && n < sizeof(clean) - 1;) {
        while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
            i++;
        size_t ws = i;
        while (i < len && buf[i] != ' ' && buf[i] != '\t')
            i++;
        if (i == ws || buf[ws] == '@' || buf[ws] == '#' ||
            has_url(buf + ws, i - ws) ||
            (i - ws >= 4 && memcmp(buf + ws, "www.", 4) == 0))
            continue;
        /* Whole, valid characters only: textcat reads a character's
         * continuation bytes past the length it is given, so a sequence
         * cut here or invalid in the text would have it read what the
         * stack held before (and answer differently from call to call). */
        for (size_t k = ws; k < i;) {
            utf8proc_int32_t cp;
            utf8proc_ssize_t m =
                utf8proc_iterate((const utf8proc_uint8_t *)buf + k,
                                 (utf8proc_ssize_t)(i - k), &cp);
            if (m <= 0 || cp == 0) {
                k++;
                continue;
            }
            if (n + (size_t)m > sizeof(clean) - 2) {
                full = 1;
                break;
            }
            memcpy(clean + n, buf + k, (size_t)m);
            n += (size_t)m;
            k += (size_t)m;
            letters += (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
        }
        clean[n++] = ' ';
    }
    clean[n] = '\0';
    if (letters < TEXTCAT_MIN_LETTERS)
        return 0;
    const char *r = textcat_Classify(h, clean, n);
    /* "[es][pt]" lists the near ties; trust only a single answer. */
    if (!r || r[0] != '[' || strchr(r + 1, '['))
        return 0;
    const char *end = strchr(r, ']');
    if (!end || end - r - 1 <= 0 || end - r - 1 > 7)
        return 0;
    char c[8];
    memcpy(c, r + 1, (size_t)(end - r - 1));
    c[end - r - 1] = '\0';
    if (strcmp(c, "en") == 0)
        return 0;
    set_code(code, c);
    return 1;
}

/* ==== Letters of one language ==== */

/* Letters that English never writes and that each mark one language
 * (lower and upper case): a short text with no English word but "ş" is
 * Turkish, with "ł" Polish. Letters shared by several (ä, å, ø, é) name
 * none. */
static const struct {
    uint32_t cp;
    const char *code;
} mark_letters[] = {
    { 0x011F, "tr" },
    { 0x011E, "tr" },
    { 0x015F, "tr" },
    { 0x015E, "tr" },
    { 0x0131, "tr" },
    { 0x0130, "tr" }, /* ğ Ğ ş Ş ı İ */
    { 0x0142, "pl" },
    { 0x0141, "pl" },
    { 0x0105, "pl" },
    { 0x0104, "pl" },
    { 0x0119, "pl" },
    { 0x0118, "pl" },
    { 0x017C, "pl" },
    { 0x017B, "pl" },
    { 0x017A, "pl" },
    { 0x0179, "pl" }, /* ł Ł ą Ą ę Ę ż Ż ź Ź */
    { 0x0159, "cs" },
    { 0x0158, "cs" },
    { 0x016F, "cs" },
    { 0x016E, "cs" },
    /* ř Ř ů Ů */
    { 0x0151, "hu" },
    { 0x0150, "hu" },
    { 0x0171, "hu" },
    { 0x0170, "hu" },
    /* ő Ő ű Ű */
    { 0x0103, "ro" },
    { 0x0102, "ro" },
    { 0x021B, "ro" },
    { 0x021A, "ro" },
    { 0x0219, "ro" },
    { 0x0218, "ro" }, /* ă Ă ț Ț ș Ș */
    { 0x0111, "vi" },
    { 0x0110, "vi" },
    { 0x01B0, "vi" },
    { 0x01AF, "vi" },
    { 0x01A1, "vi" },
    { 0x01A0, "vi" }, /* đ Đ ư Ư ơ Ơ */
};

/* The language whose marking letter @buf holds first, or "und" when it
 * holds none. */
static const char *marked_language(const char *buf, size_t len)
{
    const utf8proc_uint8_t *s = (const utf8proc_uint8_t *)buf;
    size_t i = 0;
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n =
            utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp);
        if (n <= 0) {
            i++;
            continue;
        }
        i += (size_t)n;
        if (cp < 0x100)
            continue;
        for (size_t k = 0; k < sizeof(mark_letters) / sizeof(*mark_letters);
             k++)
            if (mark_letters[k].cp == (uint32_t)cp)
                return mark_letters[k].code;
    }
    return "und";
}

/* ==== The decision ==== */

int es_lang__decide(const struct lang_counts *lc, const char *buf, size_t len,
                    char code[8])
{
    unsigned other = 0;
    int best = -1;

    /* Another script written more than Latin: its language. Kana marks
     * Japanese even among Han characters. */
    for (int s = 0; s < SC_COUNT; s++)
        other += lc->script[s];
    if (other > lc->latin) {
        int top = SC_OTHER;
        if (lc->script[SC_KANA])
            top = SC_KANA;
        else
            for (int s = 0; s < SC_COUNT; s++)
                if (lc->script[s] > lc->script[top])
                    top = s;
        set_code(code, script_codes[top]);
        return 0;
    }
    if (lc->latin == 0) {
        set_code(code, "und"); /* emoji, numbers, punctuation only */
        return 0;
    }

    /* Latin script: weigh the stopwords (2 for a word of one or two
     * languages, 1 for a word of three or more). A word the English
     * lexicon rates counts for English too, at half that weight. */
    unsigned en = lc->sw[LANG_EN] + lc->lex_hits;
    unsigned top = 0;
    for (int k = 1; k < LANG_FLAG_COUNT; k++) {
        unsigned s = lc->sw[k] + lc->hint[k] + 2u * lc->strong[k];
        if (s > top) {
            top = s;
            best = k;
        }
    }
    /* The languages past the flags' only when a word of theirs was seen:
     * this runs on every text. */
    for (int k = LANG_FLAG_COUNT; lc->xseen && k < LANG_COUNT; k++)
        if (lc->sw[k] > top) {
            top = lc->sw[k];
            best = k;
        }
    /* One word of that language and nothing else of it, beside English:
     * a word English writers borrow ("Gracias! Great service", "Danke,
     * works perfectly now"). */
    int borrowed = best > 0 && en >= 1 && lc->strong[best] &&
                   lc->sw[best] <= 2 && !lc->hint[best];
    if (best > 0 && top >= 4 && top > en && !borrowed) {
        set_code(code, lang_codes[best]);
        return 0;
    }
    if (en >= 2 || (en >= 1 && top == 0)) {
        set_code(code, "en");
        return 1;
    }
    /* No English word at all - no stopword, no word the lexicon rates -
     * and a word from another language's lists ("Slechte service"): that
     * language. So too with one rated word and no English stopword
     * against twice its weight of another language's ("Le client est
     * horrible": "horrible" is French too). Without a rated word the
     * English score would be 0 anyway; only the emoji count, either way. */
    if (best > 0 && top >= 2 &&
        (en == 0 || (lc->strong[best] && !borrowed) || lc->hint[best] ||
         (top >= 3 && top > 2 * en && !borrowed))) {
        /* One shared stopword ("nie" is German too) yields to a letter
         * of one language ("Nie działa"). */
        const char *m =
            top < 4 && lc->latin_ext ? marked_language(buf, len) : "und";
        set_code(code, strcmp(m, "und") != 0 ? m : lang_codes[best]);
        return 0;
    }
    /* Little or nothing to go on. A longer text with some sign of another
     * language - a stopword, or letters English does not use (é, ł, ş) -
     * goes to textcat; any other is taken for English. Wrongly calling
     * English text foreign would zero a real score; the other way round
     * costs little, since such a text has at most one word the English
     * lexicon rates. (textcat costs as much as a thousand texts scored,
     * so it is kept for the texts that need it.) */
    if (lc->latin >= TEXTCAT_MIN_LETTERS && (top > 0 || lc->latin_ext) &&
        textcat_other(buf, len, code))
        return 0;
    /* Not one English word, and letters English does not write ("Paramı
     * geri verin", "Źle zrobione"): too short for textcat, but no English
     * either. A letter of one language names it; else "und". Its score is
     * its emoji's, as it would have been. */
    if (en == 0 && lc->latin_ext) {
        set_code(code, marked_language(buf, len));
        return 0;
    }
    set_code(code, "en");
    return 1;
}
