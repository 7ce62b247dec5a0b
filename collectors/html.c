/* html.c - HTML to plain text, and character references
 *
 * What gets classified is text, but feeds and APIs hand us HTML: this
 * file turns a fragment into the words a reader would see. It is a single
 * pass over the bytes with no allocation of its own (the output buffer
 * grows), since it runs on every item's content. The tokenizer follows the
 * HTML5 rules closely enough for text extraction: a '<' that cannot start
 * a tag is text, quoted attribute values may hold '>', comments and CDATA
 * are recognised, and script/style bodies are raw text that is dropped.
 */
#include "html.h"

#include <string.h>

/* ==== Character references ==== */

/* HTML5's named references: entities[] (sorted bytewise) and
 * entity_index[] by first letter. */
#include "html_entities.h"

/* Compares the @len bytes at @name with entry @k's name, as strcmp(). */
static int entity_cmp(const char *name, size_t len, size_t k)
{
    size_t elen = entities[k].len;
    int c = memcmp(name, entities[k].name, len < elen ? len : elen);
    if (c == 0 && len != elen)
        c = len < elen ? -1 : 1;
    return c;
}

/* The index in entities[] of the name made of the @len bytes at @name,
 * or -1. */
static long entity_find(const char *name, size_t len)
{
    if (len == 0 || len > ES_HTML_ENTITY_NAME_MAX ||
        (unsigned char)name[0] >= 128)
        return -1;
    size_t lo = entity_index[(unsigned char)name[0]].lo;
    size_t hi = entity_index[(unsigned char)name[0]].hi;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = entity_cmp(name, len, mid);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

unsigned long es_html_entity(const char *name, size_t len,
                             unsigned long *second)
{
    long k = entity_find(name, len);
    if (second)
        *second = k < 0 ? 0 : entities[k].cp2;
    return k < 0 ? 0 : entities[k].cp;
}

unsigned long es_html_cp1252(unsigned char byte)
{
    static const unsigned short c1[32] = {
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
        0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
        0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
        0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    };
    if (byte >= 0x80 && byte <= 0x9F)
        return c1[byte - 0x80];
    return byte;
}

static int is_alnum(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z');
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The value of the numeric reference at s[0] ("&#38;", "&#x26", ...) and
 * its length, or 0 when there is none. Values past U+10FFFF saturate. */
static size_t numeric_ref(const char *s, size_t len, unsigned long *cp)
{
    unsigned long v = 0;
    size_t digits = 0, i = 2;
    if (len < 3 || s[0] != '&' || s[1] != '#')
        return 0;
    if (s[i] == 'x' || s[i] == 'X') {
        i++;
        int h;
        while (i < len && (h = hex_value((unsigned char)s[i])) >= 0) {
            if (v <= 0x10FFFF)
                v = v * 16 + (unsigned long)h;
            i++;
            digits++;
        }
    } else {
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (v <= 0x10FFFF)
                v = v * 10 + (unsigned long)(s[i] - '0');
            i++;
            digits++;
        }
    }
    if (!digits)
        return 0;
    /* The ';' is optional for numeric references (HTML5). */
    if (i < len && s[i] == ';')
        i++;
    *cp = v;
    return i;
}

size_t es_html_parse_ref(const char *s, size_t len, unsigned long cp[2])
{
    size_t i = 1;
    if (len < 2 || s[0] != '&')
        return 0;
    if (s[1] == '#') {
        unsigned long v, lo;
        if ((i = numeric_ref(s, len, &v)) == 0)
            return 0;
        /* A UTF-16 pair written as two references, as some publishers
         * write an emoji, is the character it encodes. */
        size_t k;
        if (v >= 0xD800 && v <= 0xDBFF &&
            (k = numeric_ref(s + i, len - i, &lo)) != 0 && lo >= 0xDC00 &&
            lo <= 0xDFFF) {
            cp[0] = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
            cp[1] = 0;
            return i + k;
        }
        if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            v = 0xFFFD;
        else if (v >= 0x80 && v <= 0x9F)
            v = es_html_cp1252((unsigned char)v);
        cp[0] = v;
        cp[1] = 0;
        return i;
    }
    while (i < len && i <= ES_HTML_ENTITY_NAME_MAX &&
           is_alnum((unsigned char)s[i]))
        i++;
    size_t n = i - 1;
    if (n == 0)
        return 0;
    long k;
    if (i < len && s[i] == ';' && (k = entity_find(s + 1, n)) >= 0) {
        cp[0] = entities[k].cp;
        cp[1] = entities[k].cp2;
        return i + 1;
    }
    /* Browsers also take the oldest names without their ';', even when
     * letters follow ("&copy2024", "&eacute ", "&notit;" is "¬it;"):
     * HTML5's legacy references, the longest that fits. */
    for (size_t ln = n < ES_HTML_LEGACY_NAME_MAX ? n : ES_HTML_LEGACY_NAME_MAX;
         ln >= 2; ln--) {
        if ((k = entity_find(s + 1, ln)) >= 0 && entities[k].legacy) {
            cp[0] = entities[k].cp;
            cp[1] = 0;
            return 1 + ln;
        }
    }
    return 0;
}

static size_t take_utf8(const char *s, size_t len, unsigned long *cp)
{
    size_t n = es_utf8_decode(s, len, cp);
    if (n == 0) {
        *cp = 0xFFFD;
        return 1;
    }
    return n;
}

void es_html_decode_entities(const char *s, size_t len, struct es_buf *out)
{
    size_t i = 0;
    es_buf_grow(out, len);
    while (i < len) {
        size_t run = i;
        while (run < len && (unsigned char)s[run] < 0x80 && s[run] != '&')
            run++;
        if (run > i) {
            es_buf_add(out, s + i, run - i);
            i = run;
            if (i == len)
                break;
        }
        unsigned long cp;
        if (s[i] == '&') {
            unsigned long ref[2];
            size_t n = es_html_parse_ref(s + i, len - i, ref);
            if (n) {
                es_html_add_ref(out, ref);
                i += n;
            } else {
                es_buf_addch(out, '&');
                i++;
            }
            continue;
        }
        size_t n = es_utf8_decode(s + i, len - i, &cp);
        if (n) {
            es_buf_add(out, s + i, n);
            i += n;
        } else {
            es_buf_adds(out, "\xEF\xBF\xBD");
            i++;
        }
    }
}

/* ==== HTML to text ==== */

/* Writer state: white space is held back until a visible character
 * follows, which collapses runs and trims both ends in one go. The output
 * is written straight into the buffer: for valid UTF-8 input it is never
 * longer than the input (es_html_to_text() reserves that much), and the
 * rare longer case (U+FFFD for a stray byte) grows it first. */
struct text_out {
    struct es_buf *buf;
    size_t start; /* buf->len when we began: trimming stops there */
    size_t len;   /* bytes written so far, buf->len is stale meanwhile */
    int space;    /* white space seen since the last character */
};

static void reserve(struct text_out *t, size_t n)
{
    if (t->len + n + 1 > t->buf->alloc) {
        t->buf->len = t->len;
        es_buf_grow(t->buf, n);
    }
}

static void put_space(struct text_out *t)
{
    t->space = 1;
}

static inline void flush_space(struct text_out *t)
{
    if (t->space) {
        if (t->len > t->start)
            t->buf->ptr[t->len++] = ' ';
        t->space = 0;
    }
}

static void put_cp(struct text_out *t, unsigned long cp)
{
    if (cp < 0x20 || cp == 0x7F)
        return; /* controls are not text */
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        cp = 0xFFFD;
    reserve(t, 5);
    flush_space(t);
    unsigned char *o = (unsigned char *)t->buf->ptr + t->len;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        t->len += 1;
    } else if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        t->len += 2;
    } else if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        t->len += 3;
    } else {
        o[0] = (unsigned char)(0xF0 | (cp >> 18));
        o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[3] = (unsigned char)(0x80 | (cp & 0x3F));
        t->len += 4;
    }
}

static inline void put_run(struct text_out *t, const char *s, size_t n)
{
    reserve(t, n + 1);
    flush_space(t);
    memcpy(t->buf->ptr + t->len, s, n);
    t->len += n;
}

static int is_ws(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Bytes that end a run of plain text in es_html_to_text(): everything
 * but printable ASCII other than '<' and '&'. */
static const unsigned char stops[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x00 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x10 */
    1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x20 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* 0x30 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x40 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x50 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x60 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, /* 0x70 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x80 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x90 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xA0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xB0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xC0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xD0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xE0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xF0 */
};

/* Unicode white space besides ASCII's (no-break, the typographic spaces,
 * line/paragraph separators, ideographic space), and the zero-width space
 * and BOM that pages use as invisible fillers (Reddit's editor writes an
 * empty paragraph as "&#x200B;"): in text they separate words at most.
 * Not U+200D, the joiner inside emoji sequences. */
static int is_unicode_space(unsigned long cp)
{
    return cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200B) ||
           cp == 0xFEFF || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000;
}

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

enum tag_class {
    TAG_INLINE,
    TAG_BLOCK, /* renders as a line or paragraph break */
    TAG_RAW,   /* script, style, template: content is not text */
};

/* Elements that break the flow of text, by first letter. */
static const char *const block_tags[26][12] = {
    ['a' - 'a'] = { "address", "article", "aside" },
    ['b' - 'a'] = { "blockquote", "br" },
    ['c' - 'a'] = { "caption", "center" },
    ['d' - 'a'] = { "dd", "details", "dialog", "div", "dl", "dt" },
    ['f' - 'a'] = { "fieldset", "figcaption", "figure", "footer", "form" },
    ['h' - 'a'] = { "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup",
                    "hr" },
    ['l' - 'a'] = { "li" },
    ['m' - 'a'] = { "main" },
    ['n' - 'a'] = { "nav" },
    ['o' - 'a'] = { "ol", "option" },
    ['p' - 'a'] = { "p", "pre" },
    ['s' - 'a'] = { "section", "summary", "script", "style" },
    ['t' - 'a'] = { "table", "tbody", "td", "tfoot", "th", "thead", "title",
                    "tr", "template" },
    ['u' - 'a'] = { "ul" },
};

static enum tag_class classify_tag(const char *name)
{
    if (name[0] < 'a' || name[0] > 'z')
        return TAG_INLINE;
    const char *const *list = block_tags[name[0] - 'a'];
    for (size_t i = 0; i < 12 && list[i]; i++) {
        if (strcmp(name, list[i]) != 0)
            continue;
        if (strcmp(name, "script") == 0 || strcmp(name, "style") == 0 ||
            strcmp(name, "template") == 0)
            return TAG_RAW;
        return TAG_BLOCK;
    }
    return TAG_INLINE;
}

/* Skips the rest of a tag whose name ended at @i: attributes, with quoted
 * values that may contain '>'. Returns the index after the closing '>', or
 * @len when the input ends inside the tag. */
static size_t skip_tag(const char *s, size_t len, size_t i)
{
    while (i < len) {
        char c = s[i];
        if (c == '>')
            return i + 1;
        if (c == '=') {
            i++;
            while (i < len && is_ws((unsigned char)s[i]))
                i++;
            if (i < len && (s[i] == '"' || s[i] == '\'')) {
                const char *q = memchr(s + i + 1, s[i], len - i - 1);
                if (!q)
                    return len;
                i = (size_t)(q - s) + 1;
            }
            continue;
        }
        i++;
    }
    return len;
}

/* Finds "</name" (case-insensitive) ending a raw text element at or after
 * @i; returns the index of its '<', or @len. */
static size_t find_raw_end(const char *s, size_t len, size_t i,
                           const char *name)
{
    size_t n = strlen(name);
    while (i < len) {
        const char *lt = memchr(s + i, '<', len - i);
        if (!lt)
            return len;
        i = (size_t)(lt - s);
        if (i + 2 + n <= len && s[i + 1] == '/') {
            size_t k = 0;
            while (k < n && lower((unsigned char)s[i + 2 + k]) == name[k])
                k++;
            if (k == n &&
                (i + 2 + n == len || !is_alpha((unsigned char)s[i + 2 + n])))
                return i;
        }
        i++;
    }
    return len;
}

/* Returns the index of @pat at or after @i, or @len when it is absent. */
static size_t find(const char *s, size_t len, size_t i, const char *pat)
{
    size_t n = strlen(pat);
    while (i + n <= len) {
        const char *c = memchr(s + i, pat[0], len - i - n + 1);
        if (!c)
            break;
        i = (size_t)(c - s);
        if (memcmp(s + i, pat, n) == 0)
            return i;
        i++;
    }
    return len;
}

/* Returns the index just after @pat at or after @i, or @len. */
static size_t skip_past(const char *s, size_t len, size_t i, const char *pat)
{
    size_t at = find(s, len, i, pat);
    return at == len ? len : at + strlen(pat);
}

/* Handles the markup that starts with '<' at @i. Returns the index after
 * it, or @i when the '<' is plain text. */
static size_t markup(struct text_out *t, const char *s, size_t len, size_t i)
{
    size_t j = i + 1;
    if (j >= len)
        return i;
    if (s[j] == '!') {
        if (len - j >= 3 && s[j + 1] == '-' && s[j + 2] == '-')
            return skip_past(s, len, j + 3, "-->");
        if (len - j >= 8 && memcmp(s + j, "![CDATA[", 8) == 0) {
            /* Not HTML, but feeds nest it: its content is text. */
            size_t stop = find(s, len, j + 8, "]]>");
            for (size_t k = j + 8; k < stop;) {
                unsigned long cp;
                size_t n = take_utf8(s + k, stop - k, &cp);
                if (is_ws((int)cp) || is_unicode_space(cp))
                    put_space(t);
                else
                    put_cp(t, cp);
                k += n;
            }
            return stop == len ? len : stop + 3;
        }
        return skip_past(s, len, j, ">"); /* doctype, bogus comment */
    }
    if (s[j] == '?')
        return skip_past(s, len, j, ">");
    int end_tag = 0;
    if (s[j] == '/') {
        end_tag = 1;
        j++;
        if (j < len && s[j] == '>')
            return j + 1; /* "</>" is ignored */
    }
    if (j >= len || !is_alpha((unsigned char)s[j]))
        return end_tag ? skip_past(s, len, j, ">") : i;
    char name[12];
    size_t n = 0;
    while (j < len && !is_ws((unsigned char)s[j]) && s[j] != '/' &&
           s[j] != '>') {
        if (n < sizeof(name) - 1)
            name[n++] = (char)lower((unsigned char)s[j]);
        else
            n = sizeof(name); /* too long for any name we know */
        j++;
    }
    if (n >= sizeof(name))
        n = 0;
    name[n] = '\0';
    size_t after = skip_tag(s, len, j);
    switch (classify_tag(name)) {
    case TAG_BLOCK:
        put_space(t);
        break;
    case TAG_RAW:
        if (!end_tag && after < len) {
            size_t close = find_raw_end(s, len, after, name);
            after = close < len ? skip_tag(s, len, close + 2) : len;
        }
        put_space(t);
        break;
    case TAG_INLINE:
        break;
    }
    return after;
}

void es_html_to_text(const char *html, size_t len, struct es_buf *out)
{
    struct text_out t = { out, out->len, out->len, 0 };
    const char *s = html;
    size_t i = 0;
    es_buf_grow(out, len + 1);
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (!stops[c]) {
            size_t run = i + 1;
            while (run < len && !stops[(unsigned char)s[run]])
                run++;
            put_run(&t, s + i, run - i);
            i = run;
        } else if (c == '<') {
            size_t next = markup(&t, s, len, i);
            if (next == i) {
                put_cp(&t, '<');
                i++;
            } else {
                i = next;
            }
        } else if (c == '&') {
            unsigned long cp[2];
            size_t n = es_html_parse_ref(s + i, len - i, cp);
            if (n == 0) {
                put_cp(&t, '&');
                i++;
            } else {
                for (int k = 0; k < 2 && (k == 0 || cp[1]); k++) {
                    if (is_ws((int)cp[k]) || is_unicode_space(cp[k]))
                        put_space(&t);
                    else
                        put_cp(&t, cp[k]);
                }
                i += n;
            }
        } else if (c < 0x80) {
            if (is_ws(c))
                put_space(&t);
            i++; /* other controls are dropped */
        } else {
            unsigned long cp;
            size_t n = take_utf8(s + i, len - i, &cp);
            if (is_unicode_space(cp))
                put_space(&t);
            else if (n > 1)
                put_run(&t, s + i, n);
            else
                put_cp(&t, cp);
            i += n;
        }
    }
    out->len = t.len;
    out->ptr[out->len] = '\0';
}

void es_html_add_escaped(struct es_buf *out, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t run = i;
        while (run < len && s[run] != '&' && s[run] != '<' && s[run] != '>' &&
               s[run] != '"')
            run++;
        es_buf_add(out, s + i, run - i);
        if (run == len)
            break;
        switch (s[run]) {
        case '&':
            es_buf_adds(out, "&amp;");
            break;
        case '<':
            es_buf_adds(out, "&lt;");
            break;
        case '>':
            es_buf_adds(out, "&gt;");
            break;
        default:
            es_buf_adds(out, "&quot;");
            break;
        }
        i = run + 1;
    }
}
