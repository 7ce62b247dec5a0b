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

/* The HTML 4 entities (libxml2's html40EntitiesTable) plus "apos", sorted
 * by strcmp() for binary search. test_feed checks it against
 * htmlEntityLookup(). */
static const struct {
    const char name[9];
    unsigned short cp;
} entities[] = {
    { "AElig", 198 },    { "Aacute", 193 },   { "Acirc", 194 },
    { "Agrave", 192 },   { "Alpha", 913 },    { "Aring", 197 },
    { "Atilde", 195 },   { "Auml", 196 },     { "Beta", 914 },
    { "Ccedil", 199 },   { "Chi", 935 },      { "Dagger", 8225 },
    { "Delta", 916 },    { "ETH", 208 },      { "Eacute", 201 },
    { "Ecirc", 202 },    { "Egrave", 200 },   { "Epsilon", 917 },
    { "Eta", 919 },      { "Euml", 203 },     { "Gamma", 915 },
    { "Iacute", 205 },   { "Icirc", 206 },    { "Igrave", 204 },
    { "Iota", 921 },     { "Iuml", 207 },     { "Kappa", 922 },
    { "Lambda", 923 },   { "Mu", 924 },       { "Ntilde", 209 },
    { "Nu", 925 },       { "OElig", 338 },    { "Oacute", 211 },
    { "Ocirc", 212 },    { "Ograve", 210 },   { "Omega", 937 },
    { "Omicron", 927 },  { "Oslash", 216 },   { "Otilde", 213 },
    { "Ouml", 214 },     { "Phi", 934 },      { "Pi", 928 },
    { "Prime", 8243 },   { "Psi", 936 },      { "Rho", 929 },
    { "Scaron", 352 },   { "Sigma", 931 },    { "THORN", 222 },
    { "Tau", 932 },      { "Theta", 920 },    { "Uacute", 218 },
    { "Ucirc", 219 },    { "Ugrave", 217 },   { "Upsilon", 933 },
    { "Uuml", 220 },     { "Xi", 926 },       { "Yacute", 221 },
    { "Yuml", 376 },     { "Zeta", 918 },     { "aacute", 225 },
    { "acirc", 226 },    { "acute", 180 },    { "aelig", 230 },
    { "agrave", 224 },   { "alefsym", 8501 }, { "alpha", 945 },
    { "amp", 38 },       { "and", 8743 },     { "ang", 8736 },
    { "apos", 39 },      { "apos", 39 },      { "aring", 229 },
    { "asymp", 8776 },   { "atilde", 227 },   { "auml", 228 },
    { "bdquo", 8222 },   { "beta", 946 },     { "brvbar", 166 },
    { "bull", 8226 },    { "cap", 8745 },     { "ccedil", 231 },
    { "cedil", 184 },    { "cent", 162 },     { "chi", 967 },
    { "circ", 710 },     { "clubs", 9827 },   { "cong", 8773 },
    { "copy", 169 },     { "crarr", 8629 },   { "cup", 8746 },
    { "curren", 164 },   { "dArr", 8659 },    { "dagger", 8224 },
    { "darr", 8595 },    { "deg", 176 },      { "delta", 948 },
    { "diams", 9830 },   { "divide", 247 },   { "eacute", 233 },
    { "ecirc", 234 },    { "egrave", 232 },   { "empty", 8709 },
    { "emsp", 8195 },    { "ensp", 8194 },    { "epsilon", 949 },
    { "equiv", 8801 },   { "eta", 951 },      { "eth", 240 },
    { "euml", 235 },     { "euro", 8364 },    { "exist", 8707 },
    { "fnof", 402 },     { "forall", 8704 },  { "frac12", 189 },
    { "frac14", 188 },   { "frac34", 190 },   { "frasl", 8260 },
    { "gamma", 947 },    { "ge", 8805 },      { "gt", 62 },
    { "hArr", 8660 },    { "harr", 8596 },    { "hearts", 9829 },
    { "hellip", 8230 },  { "iacute", 237 },   { "icirc", 238 },
    { "iexcl", 161 },    { "igrave", 236 },   { "image", 8465 },
    { "infin", 8734 },   { "int", 8747 },     { "iota", 953 },
    { "iquest", 191 },   { "isin", 8712 },    { "iuml", 239 },
    { "kappa", 954 },    { "lArr", 8656 },    { "lambda", 955 },
    { "lang", 9001 },    { "laquo", 171 },    { "larr", 8592 },
    { "lceil", 8968 },   { "ldquo", 8220 },   { "le", 8804 },
    { "lfloor", 8970 },  { "lowast", 8727 },  { "loz", 9674 },
    { "lrm", 8206 },     { "lsaquo", 8249 },  { "lsquo", 8216 },
    { "lt", 60 },        { "macr", 175 },     { "mdash", 8212 },
    { "micro", 181 },    { "middot", 183 },   { "minus", 8722 },
    { "mu", 956 },       { "nabla", 8711 },   { "nbsp", 160 },
    { "ndash", 8211 },   { "ne", 8800 },      { "ni", 8715 },
    { "not", 172 },      { "notin", 8713 },   { "nsub", 8836 },
    { "ntilde", 241 },   { "nu", 957 },       { "oacute", 243 },
    { "ocirc", 244 },    { "oelig", 339 },    { "ograve", 242 },
    { "oline", 8254 },   { "omega", 969 },    { "omicron", 959 },
    { "oplus", 8853 },   { "or", 8744 },      { "ordf", 170 },
    { "ordm", 186 },     { "oslash", 248 },   { "otilde", 245 },
    { "otimes", 8855 },  { "ouml", 246 },     { "para", 182 },
    { "part", 8706 },    { "permil", 8240 },  { "perp", 8869 },
    { "phi", 966 },      { "pi", 960 },       { "piv", 982 },
    { "plusmn", 177 },   { "pound", 163 },    { "prime", 8242 },
    { "prod", 8719 },    { "prop", 8733 },    { "psi", 968 },
    { "quot", 34 },      { "rArr", 8658 },    { "radic", 8730 },
    { "rang", 9002 },    { "raquo", 187 },    { "rarr", 8594 },
    { "rceil", 8969 },   { "rdquo", 8221 },   { "real", 8476 },
    { "reg", 174 },      { "rfloor", 8971 },  { "rho", 961 },
    { "rlm", 8207 },     { "rsaquo", 8250 },  { "rsquo", 8217 },
    { "sbquo", 8218 },   { "scaron", 353 },   { "sdot", 8901 },
    { "sect", 167 },     { "shy", 173 },      { "sigma", 963 },
    { "sigmaf", 962 },   { "sim", 8764 },     { "spades", 9824 },
    { "sub", 8834 },     { "sube", 8838 },    { "sum", 8721 },
    { "sup", 8835 },     { "sup1", 185 },     { "sup2", 178 },
    { "sup3", 179 },     { "supe", 8839 },    { "szlig", 223 },
    { "tau", 964 },      { "there4", 8756 },  { "theta", 952 },
    { "thetasym", 977 }, { "thinsp", 8201 },  { "thorn", 254 },
    { "tilde", 732 },    { "times", 215 },    { "trade", 8482 },
    { "uArr", 8657 },    { "uacute", 250 },   { "uarr", 8593 },
    { "ucirc", 251 },    { "ugrave", 249 },   { "uml", 168 },
    { "upsih", 978 },    { "upsilon", 965 },  { "uuml", 252 },
    { "weierp", 8472 },  { "xi", 958 },       { "yacute", 253 },
    { "yen", 165 },      { "yuml", 255 },     { "zeta", 950 },
    { "zwj", 8205 },     { "zwnj", 8204 },
};

/* For each first letter, the range of entities[] starting with it. */
static const struct {
    unsigned short lo, hi;
} entity_index[128] = {
    ['A'] = { 0, 8 },     ['B'] = { 8, 9 },     ['C'] = { 9, 11 },
    ['D'] = { 11, 13 },   ['E'] = { 13, 20 },   ['G'] = { 20, 21 },
    ['I'] = { 21, 26 },   ['K'] = { 26, 27 },   ['L'] = { 27, 28 },
    ['M'] = { 28, 29 },   ['N'] = { 29, 31 },   ['O'] = { 31, 40 },
    ['P'] = { 40, 44 },   ['R'] = { 44, 45 },   ['S'] = { 45, 47 },
    ['T'] = { 47, 50 },   ['U'] = { 50, 55 },   ['X'] = { 55, 56 },
    ['Y'] = { 56, 58 },   ['Z'] = { 58, 59 },   ['a'] = { 59, 75 },
    ['b'] = { 75, 79 },   ['c'] = { 79, 91 },   ['d'] = { 91, 98 },
    ['e'] = { 98, 111 },  ['f'] = { 111, 117 }, ['g'] = { 117, 120 },
    ['h'] = { 120, 124 }, ['i'] = { 124, 135 }, ['k'] = { 135, 136 },
    ['l'] = { 136, 151 }, ['m'] = { 151, 157 }, ['n'] = { 157, 167 },
    ['o'] = { 167, 182 }, ['p'] = { 182, 195 }, ['q'] = { 195, 196 },
    ['r'] = { 196, 210 }, ['s'] = { 210, 228 }, ['t'] = { 228, 237 },
    ['u'] = { 237, 246 }, ['w'] = { 246, 247 }, ['x'] = { 247, 248 },
    ['y'] = { 248, 251 }, ['z'] = { 251, 254 },
};

unsigned long es_html_entity(const char *name, size_t len)
{
    if (len == 0 || len > 8 || (unsigned char)name[0] >= 128)
        return 0;
    size_t lo = entity_index[(unsigned char)name[0]].lo;
    size_t hi = entity_index[(unsigned char)name[0]].hi;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strncmp(name, entities[mid].name, len);
        if (c == 0 && entities[mid].name[len] != '\0')
            c = -1; /* name is a proper prefix: it sorts first */
        if (c == 0)
            return entities[mid].cp;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
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

size_t es_html_parse_ref(const char *s, size_t len, unsigned long *cp)
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
            *cp = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
            return i + k;
        }
        if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            v = 0xFFFD;
        else if (v >= 0x80 && v <= 0x9F)
            v = es_html_cp1252((unsigned char)v);
        *cp = v;
        return i;
    }
    while (i < len && i <= 9 && is_alnum((unsigned char)s[i]))
        i++;
    size_t n = i - 1;
    if (n == 0)
        return 0;
    unsigned long v = es_html_entity(s + 1, n);
    if (v && i < len && s[i] == ';') {
        *cp = v;
        return i + 1;
    }
    /* Browsers also take the oldest names without their ';', even when
     * letters follow ("&copy2024", "&ampx"): HTML5's legacy references. */
    static const char *const legacy[] = { "amp",  "lt",   "gt", "quot",
                                          "nbsp", "copy", "reg" };
    for (size_t k = 0; k < sizeof(legacy) / sizeof(legacy[0]); k++) {
        size_t ln = strlen(legacy[k]);
        if (n >= ln && memcmp(legacy[k], s + 1, ln) == 0) {
            *cp = es_html_entity(legacy[k], ln);
            return 1 + ln;
        }
    }
    return 0;
}

/* Appends the valid UTF-8 sequence at @s or U+FFFD; returns the bytes
 * consumed (at least 1) and the code point in *cp. */
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
            size_t n = es_html_parse_ref(s + i, len - i, &cp);
            if (n) {
                es_buf_add_utf8(out, cp);
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

/* Unicode white space besides ASCII's: no-break, the typographic spaces,
 * line/paragraph separators, ideographic space. */
static int is_unicode_space(unsigned long cp)
{
    return cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
           cp == 0x3000;
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
            unsigned long cp;
            size_t n = es_html_parse_ref(s + i, len - i, &cp);
            if (n == 0) {
                put_cp(&t, '&');
                i++;
            } else {
                if (is_ws((int)cp) || is_unicode_space(cp))
                    put_space(&t);
                else
                    put_cp(&t, cp);
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
