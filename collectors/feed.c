/* feed.c - RSS 0.9x/2.0, RSS 1.0 (RDF) and Atom 0.3/1.0 parsing (and JSON
 * Feed, handed to jsonfeed.c)
 *
 * Every feed source funnels through here, so the parser has to be fast,
 * frugal and paranoid at once. It sits on libxml2's SAX2 push parser: no
 * tree is built, an entry becomes an es_item the moment its closing tag is
 * seen, and the field buffers are reused from one entry to the next, so a
 * 60 MB document costs what a 60 kB one does. Elements are recognised by
 * the (namespace, local name) pair libxml2 hands over; its names are
 * interned in the parser's dictionary, so a small pointer-keyed cache turns
 * most lookups into two pointer compares.
 *
 * Real feeds are sloppy: HTML entities with no DTD to declare them, wrong
 * or missing encoding declarations, bytes that are not UTF-8, undeclared
 * namespace prefixes, truncated documents. Each is repaired the way a
 * browser or a forgiving reader would, and what cannot be repaired is
 * recovered around (XML_PARSE_RECOVER) and reported as "line N: what".
 * Hostile documents get nothing: no network, no external entity or DTD is
 * ever loaded, entities declared in the document cannot nest (so billion
 * laughs has nothing to expand), and size and nesting depth are capped.
 */
#include "earshot/feed.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

#include "earshot/alloc.h"
#include "earshot/buf.h"
#include "earshot/error.h"
#include "html.h"
#include "jsonfeed.h"
#include "url.h"

#define DEFAULT_MAX_SIZE  ((size_t)64 << 20)
#define DEFAULT_MAX_DEPTH 256u
#define PUSH_CHUNK        ((size_t)64 << 10) /* bytes per xmlParseChunk() */
#define HEAD_MAX          1024 /* bytes sniffed for BOM and declaration */
#define ENT_MAX           4096 /* distinct entity names remembered */
/* Slots an entity name may be from its hash's: names a feed chose to
 * collide (djb2 collides by blocks, "Az" and "BY") would otherwise make
 * every reference walk thousands (a 16 MB feed took 10.6 s, not 0.23). A
 * name that finds no slot within them is treated as one past ENT_MAX. */
#define ENT_PROBES   32
#define ENT_DECL_MAX 65536 /* longest entity text we accept */
/* Element name cache slots, a power of two: a feed uses a few dozen
 * names, and a poll makes (and zeroes) a parser per document. */
#define NAME_CACHE       128
#define FILTER_LOOKAHEAD 48 /* see "The input filter" */
#define REF_NAME_MAX     40
#define CATEGORIES_MAX   256           /* per entry; dedup is quadratic */
#define BARE_AMP         "earshot-amp" /* stands for a stray '&' */
#define BARE_LT          "earshot-lt"  /* stands for a stray '<' */

/* ==== Names and namespaces ==== */

enum ns {
    NS_NONE,
    NS_RSS, /* RSS 1.0 / 0.90 / Userland: the RSS core elements */
    NS_ATOM10,
    NS_ATOM03,
    NS_RDF,
    NS_DC,
    NS_DCTERMS,
    NS_CONTENT,
    NS_XHTML,
    NS_XML,
    NS_MEDIA,  /* Media RSS: YouTube's feeds, podcasts, Mastodon */
    NS_ITUNES, /* Apple's podcast tags */
    NS_OTHER,
};

/* Compared without case, as feed readers do: Apple's own first podcast
 * documents spelt the iTunes namespace ".../DTDs/Podcast-1.0.dtd". */
static const struct {
    const char *uri;
    unsigned char ns;
} known_ns[] = {
    { "http://www.w3.org/2005/Atom", NS_ATOM10 },
    { "http://purl.org/dc/elements/1.1/", NS_DC },
    { "http://purl.org/rss/1.0/modules/content/", NS_CONTENT },
    { "http://purl.org/rss/1.0/", NS_RSS },
    { "http://www.w3.org/1999/02/22-rdf-syntax-ns#", NS_RDF },
    { "http://purl.org/atom/ns#", NS_ATOM03 },
    { "http://www.w3.org/1999/xhtml", NS_XHTML },
    { "http://purl.org/dc/terms/", NS_DCTERMS },
    { "http://my.netscape.com/rdf/simple/0.9/", NS_RSS },
    { "http://backend.userland.com/rss2", NS_RSS },
    { "http://backend.userland.com/rss", NS_RSS },
    { "http://www.w3.org/XML/1998/namespace", NS_XML },
    { "http://search.yahoo.com/mrss/", NS_MEDIA },
    { "http://search.yahoo.com/mrss", NS_MEDIA },
    { "http://www.itunes.com/dtds/podcast-1.0.dtd", NS_ITUNES },
};

/* Feeds that use a prefix without declaring it still mean the usual
 * namespace: libxml2 reports the error and passes the prefix alone. */
static const struct {
    const char *prefix;
    unsigned char ns;
} known_prefixes[] = {
    { "dc", NS_DC },   { "content", NS_CONTENT }, { "atom", NS_ATOM10 },
    { "rdf", NS_RDF }, { "dcterms", NS_DCTERMS }, { "xhtml", NS_XHTML },
    { "xml", NS_XML }, { "media", NS_MEDIA },     { "itunes", NS_ITUNES },
};

enum name {
    N_OTHER,
    N_RDF,
    N_AUTHOR,
    N_BODY,
    N_CATEGORY,
    N_CHANNEL,
    N_CONTENT,
    N_CREATED,
    N_CREATOR,
    N_DATE,
    N_DESCRIPTION,
    N_DIV,
    N_EMAIL,
    N_ENCODED,
    N_ENTRY,
    N_FEED,
    N_GUID,
    N_ID,
    N_ISSUED,
    N_ITEM,
    N_LANGUAGE,
    N_LINK,
    N_MODIFIED,
    N_NAME,
    N_PUBDATE,
    N_PUBLISHED,
    N_RSS,
    N_SOURCE,
    N_SUBJECT,
    N_SUMMARY,
    N_TITLE,
    N_UPDATED,
};

/* Sorted by strcmp(); index + 1 is the enum name. */
static const char *const names[] = {
    "RDF",       "author",   "body",   "category",    "channel", "content",
    "created",   "creator",  "date",   "description", "div",     "email",
    "encoded",   "entry",    "feed",   "guid",        "id",      "issued",
    "item",      "language", "link",   "modified",    "name",    "pubDate",
    "published", "rss",      "source", "subject",     "summary", "title",
    "updated",
};

static unsigned char name_of(const char *local)
{
    size_t lo = 0, hi = sizeof(names) / sizeof(names[0]);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(local, names[mid]);
        if (c == 0)
            return (unsigned char)(mid + 1);
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return N_OTHER;
}

static unsigned char ns_of(const char *uri, const char *prefix)
{
    if (uri) {
        for (size_t i = 0; i < sizeof(known_ns) / sizeof(known_ns[0]); i++)
            if (strcasecmp(uri, known_ns[i].uri) == 0)
                return known_ns[i].ns;
        return NS_OTHER;
    }
    if (prefix) {
        for (size_t i = 0;
             i < sizeof(known_prefixes) / sizeof(known_prefixes[0]); i++)
            if (strcmp(prefix, known_prefixes[i].prefix) == 0)
                return known_prefixes[i].ns;
        return NS_OTHER;
    }
    return NS_NONE;
}

/* ==== Parser state ==== */

enum format { FMT_UNKNOWN, FMT_RSS, FMT_RDF, FMT_ATOM, FMT_JSON };

/* How the text of a title, summary or content is to be read. */
enum text_type {
    TYPE_RSS,   /* plain text or HTML: HTML when it looks like some */
    TYPE_TEXT,  /* plain text, kept as is */
    TYPE_HTML,  /* HTML markup in text (escaped or CDATA) */
    TYPE_XHTML, /* inline XHTML elements, serialised */
    TYPE_SKIP,  /* base64 or out-of-line: ignored */
    /* Atom 0.3's mode="base64" of a text type: the characters are
     * captured, then decoded into TYPE_TEXT or TYPE_HTML. */
    TYPE_B64_TEXT,
    TYPE_B64_HTML,
};

/* Where a captured element's text goes. */
enum target {
    T_NONE,
    T_TITLE,
    T_LINK,
    T_ID,
    T_SUMMARY,
    T_CONTENT,
    T_PUBLISHED,
    T_UPDATED,
    T_CATEGORY,
    T_RSS_AUTHOR,
    T_CREATOR,
    T_NAME, /* of an Atom author; see author_kind */
    T_EMAIL,
    T_LANG,
    T_ALT_SUMMARY,
    T_FEED_TITLE,
    T_FEED_LINK,
    T_FEED_LANG,
};

enum author_kind { AUTHOR_ENTRY, AUTHOR_SOURCE, AUTHOR_FEED };

/* An entry being read; buffers are reset, never freed, between entries. */
struct entry {
    struct es_buf title, link, id, about, summary, content, cats, lang;
    struct es_buf alt_summary; /* media:description, itunes:summary */
    struct es_buf rss_author, creator, name, email, src_name, src_email;
    struct es_buf pub_raw, upd_raw; /* date text, for the fallback id */
    size_t ncats;
    int64_t published, updated;
    unsigned char pub_rank, upd_rank; /* how good the date source is */
    unsigned char link_rank;
    unsigned char title_type, summary_type, content_type, alt_summary_type;
    unsigned char guid_is_link; /* RSS guid without isPermaLink="false" */
    unsigned char authors;      /* Atom <author> elements seen */
    unsigned char src_authors;
};

struct feedinfo {
    struct es_buf title, link, lang, name, email;
    unsigned char link_rank, authors;
};

/* The element whose text is being collected. */
struct capture {
    enum target target;      /* T_NONE when idle */
    unsigned depth;          /* depth of the element */
    unsigned char type;      /* enum text_type */
    unsigned char rank;      /* dates and links: priority of this source */
    unsigned char tag_open;  /* serialising: "<name ..." awaits its '>' */
    unsigned char unwrap;    /* xhtml: the first child may be the div */
    unsigned unwrap_depth;   /* depth of the unwrapped div, or 0 */
    enum author_kind author; /* for T_NAME, T_EMAIL */
    unsigned pick_depth;     /* plain text: the child read alone, or 0 */
    unsigned char picked;    /* plain text: complete, the rest ignored */
};

/* xml:base and xml:lang in scope; only elements carrying one push. */
struct frame {
    unsigned depth;
    char *base; /* resolved; NULL: inherited */
    char *lang; /* NULL: inherited */
};

enum ent_kind {
    ENT_DECLARED,
    ENT_HTML,
    ENT_REFUSED,
    ENT_EXTERNAL,
    ENT_UNDEFINED,
    ENT_BARE_AMP,
    ENT_BARE_LT,
};

/* One entity name, as handed to libxml2. In content a "predefined" entity
 * is delivered straight to the characters callback; in attribute values
 * libxml2 copies only the first byte of a predefined entity, so there a
 * general one is returned instead and libxml2 leaves "&name;" in the
 * value, which attr_decode() then resolves. */
struct ent {
    xmlEntity text;
    xmlEntity attr;
    char *name;
    char *content;
    unsigned char kind;
    unsigned char reported;
};

struct name_slot {
    const xmlChar *local; /* interned by the parser's dictionary */
    const xmlChar *key;   /* namespace URI, or the prefix when none */
    unsigned char key_is_prefix, ns, name, used;
};

enum input_mode {
    MODE_UTF8,   /* UTF-8, invalid bytes read as Windows-1252 */
    MODE_CP1252, /* Latin-1 labels, read as browsers do: Windows-1252 */
    MODE_LIBXML, /* anything else: libxml2's (iconv) decoder */
};

/* Entries held before a late feed title (see es_feed_parser.pending): a
 * feed with no title at all is not held up for more than this. */
#define PENDING_MAX 256

struct es_feed_parser {
    /* options, copied */
    char *source;
    char *base_url;
    char *charset;
    size_t max_size;
    unsigned max_depth;
    es_feed_meta_cb meta;
    es_item_cb emit;
    void *payload;

    xmlParserCtxtPtr ctxt;
    enum input_mode mode;
    xmlCharEncodingHandlerPtr handler; /* MODE_LIBXML */
    struct es_buf head; /* bytes held until the encoding is known */
    int json;           /* a JSON Feed: held whole in jbuf (jsonfeed.c) */
    struct es_buf jbuf;
    unsigned char lex; /* enum lex: where the input filter is */
    unsigned char pend[FILTER_LOOKAHEAD]; /* undecided input tail */
    size_t npend;
    struct es_buf xbuf;   /* filtered input */
    size_t total;         /* bytes pushed */
    unsigned line_offset; /* blank lines dropped before <?xml */

    int rc;     /* sticky: ES_ETOOBIG or what a callback returned */
    int halted; /* the parser was stopped: ignore further events */
    int finished;
    int failed;             /* a well-formedness problem: finish gives EPARSE */
    char error[512];        /* the first problem, "line N: what" */
    char note[256];         /* a repaired problem (encoding), when no error */
    char libxml_first[256]; /* libxml2's first complaint, for not-a-feed */
    char lead[24];          /* the first bytes, shown when they are no markup */

    enum format format;
    char *atom_alias; /* namespace of an Atom feed not in Atom's own */
    unsigned depth;
    unsigned channel_depth; /* RSS/RDF <channel>, the Atom <feed> */
    unsigned entry_depth;   /* 0: not in an entry */
    unsigned author_depth;  /* an Atom <author> being read */
    enum author_kind author_kind;
    unsigned source_depth; /* Atom <source> inside an entry */
    struct capture cap;
    struct es_buf text; /* captured characters */
    struct entry e;
    struct feedinfo f;
    int meta_sent;
    /* Entries read before the feed's title, held until the next entry
     * after it or the end (a feed may give its title, link and author
     * after its entries) and then emitted after the meta callback; at
     * most PENDING_MAX. */
    struct es_item **pending;
    size_t npending, apending;
    size_t count;

    struct frame *frames;
    size_t nframes, aframes;

    struct ent **ents; /* open addressing, ENT_MAX * 2 slots when used */
    size_t nents;
    struct ent scratch; /* for names past ENT_MAX */
    struct name_slot slots[NAME_CACHE];

    struct es_buf tmp, fix, out, aname; /* scratch */
    char **catv;
    size_t acatv;
};

/* ==== Problems ==== */

static unsigned current_line(const struct es_feed_parser *p)
{
    if (!p->ctxt || !p->ctxt->input)
        return 1 + p->line_offset;
    return (unsigned)p->ctxt->input->line + p->line_offset;
}

/* Records a well-formedness problem; only the first one is kept. */
__attribute__((format(printf, 3, 4))) static void
problem(struct es_feed_parser *p, unsigned line, const char *fmt, ...)
{
    p->failed = 1;
    if (p->error[0])
        return;
    int n = snprintf(p->error, sizeof(p->error), "line %u: ", line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->error + n, sizeof(p->error) - (size_t)n, fmt, ap);
    va_end(ap);
    es_utf8_scrub(p->error);
}

/* Stops libxml2 from within a callback or between chunks. */
static void halt(struct es_feed_parser *p)
{
    p->halted = 1;
    if (p->ctxt)
        xmlStopParser(p->ctxt);
}

/* libxml2's errors, from the SAX handler and, around each chunk, from the
 * thread's structured handler (encoding errors carry no context). */
static void on_error(void *ctx, xmlErrorPtr err)
{
    struct es_feed_parser *p = ctx;
    if (!err || err->level < XML_ERR_ERROR)
        return;
    /* Undeclared prefixes are repaired (known_prefixes): not a failure. */
    if (err->domain == XML_FROM_NAMESPACE)
        return;
    char msg[200];
    snprintf(msg, sizeof(msg), "%s", err->message ? err->message : "error");
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (msg[i] == '\n')
            msg[i] = ' ';
    if (msg[0] >= 'A' && msg[0] <= 'Z' && !(msg[1] >= 'A' && msg[1] <= 'Z'))
        msg[0] = (char)(msg[0] + 32);
    if (!p->libxml_first[0])
        snprintf(p->libxml_first, sizeof(p->libxml_first), "%s", msg);
    unsigned line =
        err->line > 0 ? (unsigned)err->line + p->line_offset : current_line(p);
    problem(p, line, "%s", msg);
}

/* ==== Text helpers ==== */

static int is_ws(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The elements a title or description may hold as HTML, as feedparser
 * lists them: a tag of any other name ("</T>" in "vector<int> and </T>",
 * "</script>", "</example>") says the text is about markup, not markup. */
static const char *const html_elements[] = {
    "a",        "abbr",       "acronym",  "address",  "area",       "article",
    "aside",    "audio",      "b",        "big",      "blockquote", "br",
    "button",   "canvas",     "caption",  "center",   "cite",       "code",
    "col",      "colgroup",   "dd",       "del",      "details",    "dfn",
    "dialog",   "dir",        "div",      "dl",       "dt",         "em",
    "fieldset", "figcaption", "figure",   "font",     "footer",     "form",
    "h1",       "h2",         "h3",       "h4",       "h5",         "h6",
    "header",   "hr",         "i",        "img",      "input",      "ins",
    "kbd",      "label",      "legend",   "li",       "map",        "mark",
    "menu",     "meter",      "nav",      "ol",       "optgroup",   "option",
    "output",   "p",          "pre",      "progress", "q",          "s",
    "samp",     "section",    "select",   "small",    "source",     "span",
    "strike",   "strong",     "sub",      "summary",  "sup",        "table",
    "tbody",    "td",         "textarea", "tfoot",    "th",         "thead",
    "time",     "tr",         "tt",       "u",        "ul",         "var",
    "video",
};

static int is_html_element(const char *name, size_t len)
{
    char low[16];
    if (len == 0 || len >= sizeof(low))
        return 0;
    for (size_t i = 0; i < len; i++)
        low[i] =
            (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    low[len] = '\0';
    for (size_t i = 0; i < sizeof(html_elements) / sizeof(*html_elements); i++)
        if (strcmp(low, html_elements[i]) == 0)
            return 1;
    return 0;
}

/* Whether a text that may be plain or HTML is HTML, by feedparser's
 * long-standing test: it holds an end tag ("</b>") or a character
 * reference with its ';' ("&amp;", "&#38;"), every tag in it names an
 * HTML element, and every named reference is one HTML knows. */
static int looks_like_html(const char *s, size_t len)
{
    int marked = 0;
    for (size_t i = 0; i + 1 < len; i++) {
        size_t j = i + 1;
        if (s[i] == '<') {
            int end = s[j] == '/';
            j += (size_t)end;
            if (j >= len || !is_alpha((unsigned char)s[j]))
                continue; /* "a < b", "<3": no tag */
            size_t k = j;
            while (k < len && (is_alpha((unsigned char)s[k]) ||
                               (s[k] >= '0' && s[k] <= '9')))
                k++;
            if (!is_html_element(s + j, k - j))
                return 0;
            if (end && k < len && s[k] == '>')
                marked = 1; /* "</b>", "</h1>" */
        } else if (s[i] == '&') {
            int num = s[j] == '#';
            j += (size_t)num;
            size_t k = j;
            while (k < len && (is_alpha((unsigned char)s[k]) ||
                               (s[k] >= '0' && s[k] <= '9')))
                k++;
            if (k > j && k < len && s[k] == ';') {
                if (!num && !es_html_entity(s + j, k - j, NULL))
                    return 0;
                marked = 1;
            }
        }
    }
    return marked;
}

/* es_buf_add() for the hot paths, inlined. */
static inline void buf_add(struct es_buf *b, const void *data, size_t len)
{
    if (b->len + len >= b->alloc)
        es_buf_grow(b, len);
    memcpy(b->ptr + b->len, data, len);
    b->len += len;
    b->ptr[b->len] = '\0';
}

/* es_buf_reset(), inlined: entries reset sixteen buffers each. */
static inline void buf_reset(struct es_buf *b)
{
    b->len = 0;
    if (b->alloc)
        b->ptr[0] = '\0';
}

static void swap_buf(struct es_buf *a, struct es_buf *b)
{
    struct es_buf t = *a;
    *a = *b;
    *b = t;
}

/* Trims white space at both ends of @b, in place. */
static void trim(struct es_buf *b)
{
    size_t s = 0, e = b->len;
    while (s < e && is_ws((unsigned char)b->ptr[s]))
        s++;
    while (e > s && is_ws((unsigned char)b->ptr[e - 1]))
        e--;
    if (s)
        memmove(b->ptr, b->ptr + s, e - s);
    es_buf_truncate(b, e - s);
}

/* 1 for ASCII white space, 2 for 0xC2 (which may start a no-break
 * space), 0 for the bytes collapse_ws() copies as they are. */
static const unsigned char ws_class[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 0, 0, /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
    1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x20 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x30 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x40 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x50 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x60 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x70 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x80 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x90 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xA0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xB0 */
    0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xC0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xD0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xE0 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0xF0 */
};

/* Appends @s with white-space runs (and no-break spaces) collapsed to one
 * space, trimmed. */
static void collapse_ws(const char *s, size_t len, struct es_buf *out)
{
    const unsigned char *u = (const unsigned char *)s;
    es_buf_grow(out, len);
    char *o = out->ptr + out->len, *start = o;
    int space = 0;
    size_t i = 0;
    while (i < len) {
        size_t run = i;
        while (run < len && !ws_class[u[run]])
            run++;
        if (run > i) {
            if (space && o > start)
                *o++ = ' ';
            space = 0;
            memcpy(o, s + i, run - i);
            o += run - i;
            i = run;
            continue;
        }
        if (ws_class[u[i]] == 1) {
            space = 1;
            i++;
        } else if (i + 1 < len && u[i + 1] == 0xA0) {
            space = 1;
            i += 2;
        } else {
            if (space && o > start)
                *o++ = ' ';
            space = 0;
            *o++ = s[i++];
        }
    }
    out->len = (size_t)(o - out->ptr);
    out->ptr[out->len] = '\0';
}

/* Ends an e-mail address written beside a name. */
static int is_addr_stop(int c)
{
    switch (c) {
    case '(':
    case ')':
    case '<':
    case '>':
    case '[':
    case ']':
    case '"':
    case ',':
    case ';':
        return 1;
    default:
        return is_ws(c);
    }
}

/* Appends the display name in an RSS author or dc:creator, which may carry
 * an address on either side: "jo@example.com (Jo Bloggs)", "Jo Bloggs
 * (jo@example.com)" and "Jo Bloggs <jo@example.com>" all give "Jo Bloggs".
 * A lone address gives nothing; text without an address is the name. */
static void author_display(const char *s, size_t len, struct es_buf *out)
{
    const char *at = memchr(s, '@', len), *end = s + len;
    if (!at) {
        collapse_ws(s, len, out);
        return;
    }
    const char *a = at, *b = at;
    while (a > s && !is_addr_stop((unsigned char)a[-1]))
        a--;
    while (b < end && !is_addr_stop((unsigned char)*b))
        b++;
    if (a > s && b < end &&
        ((a[-1] == '(' && *b == ')') || (a[-1] == '<' && *b == '>'))) {
        a--;
        b++;
    }
    /* What is left, less the brackets or quotes around it, is the name. */
    size_t start = out->len;
    collapse_ws(s, (size_t)(a - s), out);
    if (out->len > start && b < end)
        es_buf_addch(out, ' ');
    collapse_ws(b, (size_t)(end - b), out);
    const char *n = out->ptr + start;
    size_t k = out->len - start;
    while (k >= 2 && ((n[0] == '(' && n[k - 1] == ')') ||
                      (n[0] == '"' && n[k - 1] == '"'))) {
        n++;
        k -= 2;
    }
    while (k && is_ws((unsigned char)*n)) {
        n++;
        k--;
    }
    while (k && is_ws((unsigned char)n[k - 1]))
        k--;
    memmove(out->ptr + start, n, k);
    es_buf_truncate(out, start + k);
}

/* Makes @b valid UTF-8, reading stray bytes and C1 controls as
 * Windows-1252 (what a mislabelled Latin-1 feed means). Returns the text,
 * or NULL when @b is empty. */
static char *clean(struct es_feed_parser *p, struct es_buf *b)
{
    const unsigned char *s = (const unsigned char *)b->ptr;
    size_t i = 0, n = b->len;
    unsigned long cp;
    if (n == 0)
        return NULL;
    if (p->mode != MODE_LIBXML) {
        /* Our own input filter and libxml2 have validated the UTF-8: only
         * a C1 control (0xC2 0x80..0x9F) can need repair. */
        const unsigned char *c = s;
        for (;;) {
            c = memchr(c, 0xC2, n - (size_t)(c - s));
            if (!c || c + 1 >= s + n)
                return b->ptr;
            if (c[1] <= 0x9F)
                break;
            c += 2;
        }
    }
    for (;;) {
        while (i < n && s[i] < 0x80)
            i++;
        if (i == n)
            return b->ptr;
        size_t k = es_utf8_decode(b->ptr + i, n - i, &cp);
        if (k == 0 || cp <= 0x9F)
            break;
        i += k;
    }
    es_buf_reset(&p->fix);
    es_buf_add(&p->fix, b->ptr, i);
    while (i < n) {
        if (s[i] < 0x80) {
            es_buf_addch(&p->fix, (char)s[i++]);
            continue;
        }
        size_t k = es_utf8_decode(b->ptr + i, n - i, &cp);
        if (k == 0) {
            cp = es_html_cp1252(s[i]);
            k = 1;
        } else if (cp <= 0x9F) {
            cp = es_html_cp1252((unsigned char)cp);
        } else {
            es_buf_add(&p->fix, s + i, k);
            i += k;
            continue;
        }
        if (cp >= 0x80 && cp <= 0x9F)
            cp = 0xFFFD; /* a byte Windows-1252 leaves undefined */
        es_buf_add_utf8(&p->fix, cp);
        i += k;
    }
    swap_buf(b, &p->fix);
    return b->ptr;
}

/* ==== Entities ==== */

static int ref_at(const unsigned char *s, size_t len, int final);

static size_t ent_hash(const char *s, size_t len)
{
    size_t h = 5381;
    for (size_t i = 0; i < len; i++)
        h = h * 33 + (unsigned char)s[i];
    return h;
}

static struct ent *ent_find(const struct es_feed_parser *p, const char *name,
                            size_t len)
{
    if (!p->ents)
        return NULL;
    size_t mask = ENT_MAX * 2 - 1, h = ent_hash(name, len) & mask;
    for (int probe = 0; probe < ENT_PROBES; probe++, h = (h + 1) & mask) {
        struct ent *e = p->ents[h];
        if (!e)
            return NULL;
        if (strncmp(e->name, name, len) == 0 && e->name[len] == '\0')
            return e;
    }
    return NULL;
}

static void ent_fill(struct ent *e)
{
    memset(&e->text, 0, sizeof(e->text));
    e->text.type = XML_ENTITY_DECL;
    e->text.name = (const xmlChar *)e->name;
    e->text.content = (xmlChar *)e->content;
    e->text.length = (int)strlen(e->content);
    e->text.etype = XML_INTERNAL_PREDEFINED_ENTITY;
    e->attr = e->text;
    e->attr.etype = XML_INTERNAL_GENERAL_ENTITY;
    /* Marked as already checked, without '<': libxml2 then neither
     * expands nor re-examines it inside attribute values. */
    e->attr.checked = 2;
}

/* Adds an entity; returns NULL when the table is full. */
static struct ent *ent_add(struct es_feed_parser *p, const char *name,
                           enum ent_kind kind, const char *content, size_t clen)
{
    if (p->nents >= ENT_MAX)
        return NULL;
    if (!p->ents)
        p->ents = es_xcalloc(ENT_MAX * 2, sizeof(*p->ents));
    struct ent *e = es_xcalloc(1, sizeof(*e));
    e->name = es_xstrdup(name);
    e->kind = (unsigned char)kind;
    if (content) {
        e->content = es_xstrndup(content, clen);
    } else {
        e->content = es_xasprintf("&%s;", name); /* shown as written */
    }
    ent_fill(e);
    size_t len = strlen(name), mask = ENT_MAX * 2 - 1;
    size_t h = ent_hash(name, len) & mask;
    int probe = 0;
    while (p->ents[h] && ++probe < ENT_PROBES)
        h = (h + 1) & mask;
    if (p->ents[h]) { /* a crowded run: as if the table were full */
        free(e->name);
        free(e->content);
        free(e);
        return NULL;
    }
    p->ents[h] = e;
    p->nents++;
    return e;
}

/* libxml2 hands the raw text of a declared entity to whatever getEntity
 * returns for it, as ->orig (xmlParseEntityDecl): ours to free. */
static void ent_free_orig(struct ent *e)
{
    if (e->text.orig)
        xmlFree(e->text.orig);
    if (e->attr.orig)
        xmlFree(e->attr.orig);
    e->text.orig = e->attr.orig = NULL;
}

static void ent_free_all(struct es_feed_parser *p)
{
    ent_free_orig(&p->scratch);
    if (!p->ents)
        return;
    for (size_t i = 0; i < ENT_MAX * 2; i++) {
        struct ent *e = p->ents[i];
        if (!e)
            continue;
        ent_free_orig(e);
        free(e->name);
        free(e->content);
        free(e);
    }
    free(p->ents);
    p->ents = NULL;
    p->nents = 0;
}

/* Entities declared in the document's internal subset. Plain text ones
 * (character references and HTML entities allowed) are kept; anything
 * that refers to another declared entity, which is how billion laughs
 * grows, or to an external resource, is refused. */
static void on_entity_decl(void *ctx, const xmlChar *name, int type,
                           const xmlChar *public_id, const xmlChar *system_id,
                           xmlChar *content)
{
    struct es_feed_parser *p = ctx;
    (void)public_id;
    (void)system_id;
    if (p->halted || !name)
        return;
    if (type != XML_INTERNAL_GENERAL_ENTITY &&
        type != XML_EXTERNAL_GENERAL_PARSED_ENTITY &&
        type != XML_EXTERNAL_GENERAL_UNPARSED_ENTITY)
        return; /* parameter entities are never expanded */
    const char *n = (const char *)name;
    if (ent_find(p, n, strlen(n)))
        return; /* the first declaration binds (XML 1.0 4.2) */
    if (type != XML_INTERNAL_GENERAL_ENTITY) {
        ent_add(p, n, ENT_EXTERNAL, NULL, 0);
        return;
    }
    const char *c = content ? (const char *)content : "";
    size_t len = strlen(c);
    if (len > ENT_DECL_MAX) {
        ent_add(p, n, ENT_REFUSED, NULL, 0);
        return;
    }
    es_buf_reset(&p->tmp);
    for (size_t i = 0; i < len;) {
        if (c[i] != '&') {
            es_buf_addch(&p->tmp, c[i++]);
            continue;
        }
        unsigned long cp[2];
        size_t k = es_html_parse_ref(c + i, len - i, cp);
        if (k && c[i + k - 1] == ';') {
            es_html_add_ref(&p->tmp, cp);
            i += k;
        } else if (ref_at((const unsigned char *)c + i, len - i, 1)) {
            /* A reference to another entity: how billion laughs grows. */
            ent_add(p, n, ENT_REFUSED, NULL, 0);
            return;
        } else {
            es_buf_addch(&p->tmp, c[i++]); /* a literal '&' (from &#38;) */
        }
    }
    ent_add(p, n, ENT_DECLARED, p->tmp.ptr, p->tmp.len);
}

static void report_entity(struct es_feed_parser *p, struct ent *e)
{
    /* libxml2 looks each declaration up again while still in the DTD;
     * only a use in the document is a problem. */
    if (e->reported || p->ctxt->inSubset)
        return;
    e->reported = 1;
    switch (e->kind) {
    case ENT_EXTERNAL:
        problem(p, current_line(p), "external entity '%s' not loaded", e->name);
        break;
    case ENT_REFUSED:
        problem(p, current_line(p),
                "entity '%s' not expanded: it refers to other entities",
                e->name);
        break;
    case ENT_UNDEFINED:
        problem(p, current_line(p), "entity '%s' not defined", e->name);
        break;
    case ENT_BARE_AMP:
        problem(p, current_line(p),
                "'&' starts no entity reference (read as text)");
        break;
    case ENT_BARE_LT:
        problem(p, current_line(p), "'<' starts no tag (read as text)");
        break;
    default:
        break;
    }
}

static int in_attribute(const struct es_feed_parser *p)
{
    return p->ctxt->instate == XML_PARSER_START_TAG ||
           p->ctxt->instate == XML_PARSER_ATTRIBUTE_VALUE;
}

/* Every reference to a non-predefined entity comes here. */
static xmlEntityPtr on_get_entity(void *ctx, const xmlChar *name)
{
    struct es_feed_parser *p = ctx;
    /* After any recovered error libxml2 silently drops every later entity
     * reference while wellFormed is 0; we track errors ourselves. */
    p->ctxt->wellFormed = 1;
    const char *n = (const char *)name;
    size_t len = strlen(n);
    struct ent *e = ent_find(p, n, len);
    if (!e && strcmp(n, BARE_AMP) == 0)
        e = ent_add(p, n, ENT_BARE_AMP, "&", 1);
    else if (!e && strcmp(n, BARE_LT) == 0)
        e = ent_add(p, n, ENT_BARE_LT, "<", 1);
    if (!e) {
        char utf8[16]; /* two code points at most */
        struct es_buf b = ES_BUF_INIT;
        unsigned long cp[2];
        cp[0] = es_html_entity(n, len, &cp[1]);
        enum ent_kind kind = cp[0] ? ENT_HTML : ENT_UNDEFINED;
        if (cp[0]) {
            es_html_add_ref(&b, cp);
            memcpy(utf8, b.ptr, b.len + 1);
            es_buf_release(&b);
        }
        e = ent_add(p, n, kind, cp[0] ? utf8 : NULL, cp[0] ? strlen(utf8) : 0);
        if (!e) {
            /* Table full (a hostile document): a scratch entry serves,
             * valid until the next reference. */
            e = &p->scratch;
            ent_free_orig(e);
            free(e->name);
            free(e->content);
            e->name = es_xstrdup(n);
            e->content = cp[0] ? es_xstrdup(utf8) : es_xasprintf("&%s;", n);
            e->kind = (unsigned char)kind;
            e->reported = 1;
            ent_fill(e);
            if (!cp[0])
                problem(p, current_line(p), "entity '%s' not defined", n);
        }
    }
    report_entity(p, e);
    return in_attribute(p) ? &e->attr : &e->text;
}

static xmlEntityPtr on_get_parameter_entity(void *ctx, const xmlChar *name)
{
    (void)ctx;
    (void)name;
    return NULL;
}

static xmlParserInputPtr on_resolve_entity(void *ctx, const xmlChar *public_id,
                                           const xmlChar *system_id)
{
    (void)ctx;
    (void)public_id;
    (void)system_id;
    return NULL; /* nothing is ever loaded */
}

static void on_external_subset(void *ctx, const xmlChar *name,
                               const xmlChar *external_id,
                               const xmlChar *system_id)
{
    (void)ctx;
    (void)name;
    (void)external_id;
    (void)system_id;
}

/* Decodes an attribute value as libxml2 leaves it without entity
 * substitution: '&' arrives as "&#38;" and our entities as "&name;". */
static void attr_decode(struct es_feed_parser *p, const xmlChar *v,
                        const xmlChar *end, struct es_buf *out)
{
    const char *s = (const char *)v;
    size_t len = (size_t)(end - v);
    if (!memchr(s, '&', len)) {
        es_buf_add(out, s, len);
        return;
    }
    for (size_t i = 0; i < len;) {
        if (s[i] != '&') {
            es_buf_addch(out, s[i++]);
            continue;
        }
        size_t j = i + 1;
        while (j < len && j - i < 64 && s[j] != ';' && s[j] != '&')
            j++;
        struct ent *e = NULL;
        if (j < len && s[j] == ';' && s[i + 1] != '#')
            e = ent_find(p, s + i + 1, j - i - 1);
        if (e) {
            es_buf_adds(out, e->content);
            i = j + 1;
            continue;
        }
        unsigned long cp[2];
        size_t k = es_html_parse_ref(s + i, len - i, cp);
        if (k) {
            es_html_add_ref(out, cp);
            i += k;
        } else {
            es_buf_addch(out, '&');
            i++;
        }
    }
}

/* Returns the decoded value of attribute @local (no namespace, or the
 * given one) into p->tmp, or NULL when absent. */
static const char *attr(struct es_feed_parser *p, int nb, const xmlChar **attrs,
                        const char *local, unsigned char ns)
{
    for (int i = 0; i < nb; i++) {
        const xmlChar **a = attrs + 5 * i;
        if (strcmp((const char *)a[0], local) != 0)
            continue;
        if (ns != NS_NONE &&
            ns_of((const char *)a[2], (const char *)a[1]) != ns)
            continue;
        if (ns == NS_NONE && a[2] && a[1])
            continue;
        es_buf_reset(&p->tmp);
        attr_decode(p, a[3], a[4], &p->tmp);
        return p->tmp.ptr;
    }
    return NULL;
}

/* ==== xml:base and xml:lang ==== */

static const char *cur_base(const struct es_feed_parser *p)
{
    for (size_t i = p->nframes; i > 0; i--)
        if (p->frames[i - 1].base)
            return p->frames[i - 1].base;
    return p->base_url;
}

static const char *cur_lang(const struct es_feed_parser *p)
{
    for (size_t i = p->nframes; i > 0; i--)
        if (p->frames[i - 1].lang)
            return p->frames[i - 1].lang;
    return NULL;
}

static void push_frame(struct es_feed_parser *p, int nb, const xmlChar **attrs)
{
    char *base = NULL, *lang = NULL;
    for (int i = 0; i < nb; i++) {
        const xmlChar **a = attrs + 5 * i;
        if (!a[1] || strcmp((const char *)a[1], "xml") != 0)
            continue;
        const char *local = (const char *)a[0];
        if (strcmp(local, "base") == 0 && !base) {
            es_buf_reset(&p->tmp);
            attr_decode(p, a[3], a[4], &p->tmp);
            es_buf_reset(&p->out);
            es_url_resolve(cur_base(p), p->tmp.ptr, p->tmp.len, &p->out);
            base = es_xstrndup(p->out.ptr, p->out.len);
        } else if (strcmp(local, "lang") == 0 && !lang) {
            es_buf_reset(&p->tmp);
            attr_decode(p, a[3], a[4], &p->tmp);
            trim(&p->tmp);
            lang = es_xstrndup(p->tmp.ptr, p->tmp.len);
        }
    }
    if (!base && !lang)
        return;
    if (p->nframes == p->aframes) {
        p->aframes = p->aframes ? p->aframes * 2 : 8;
        p->frames = es_xrealloc(p->frames, p->aframes * sizeof(*p->frames));
    }
    p->frames[p->nframes++] = (struct frame){ p->depth, base, lang };
}

static void pop_frames(struct es_feed_parser *p)
{
    while (p->nframes && p->frames[p->nframes - 1].depth >= p->depth) {
        struct frame *f = &p->frames[--p->nframes];
        free(f->base);
        free(f->lang);
    }
}

/* ==== Entries ==== */

static const size_t entry_buf_offsets[] = {
    offsetof(struct entry, title),       offsetof(struct entry, link),
    offsetof(struct entry, id),          offsetof(struct entry, about),
    offsetof(struct entry, summary),     offsetof(struct entry, content),
    offsetof(struct entry, cats),        offsetof(struct entry, lang),
    offsetof(struct entry, rss_author),  offsetof(struct entry, creator),
    offsetof(struct entry, name),        offsetof(struct entry, email),
    offsetof(struct entry, src_name),    offsetof(struct entry, src_email),
    offsetof(struct entry, pub_raw),     offsetof(struct entry, upd_raw),
    offsetof(struct entry, alt_summary),
};
#define NENTRY_BUFS (sizeof(entry_buf_offsets) / sizeof(entry_buf_offsets[0]))

static struct es_buf *entry_buf(struct entry *e, size_t i)
{
    return (struct es_buf *)(void *)((char *)e + entry_buf_offsets[i]);
}

static void entry_reset(struct entry *e)
{
    for (size_t i = 0; i < NENTRY_BUFS; i++)
        buf_reset(entry_buf(e, i));
    e->ncats = 0;
    e->published = e->updated = ES_TIME_UNKNOWN;
    e->pub_rank = e->upd_rank = e->link_rank = 0;
    e->title_type = e->summary_type = e->content_type = TYPE_TEXT;
    e->guid_is_link = 0;
    e->authors = e->src_authors = 0;
}

static void entry_release(struct entry *e)
{
    for (size_t i = 0; i < NENTRY_BUFS; i++)
        es_buf_release(entry_buf(e, i));
}

/* The feed's own author, for an Atom entry that names none (Atom: a
 * feed's author is its entries'): its name, else its email. */
static void feed_author(struct es_feed_parser *p, char **author, char **name)
{
    *author = clean(p, &p->f.name);
    if (*author) {
        *name = *author; /* cleaned once: the same bytes */
        return;
    }
    *author = clean(p, &p->f.email);
}

/* Emits the held entries, in document order, with the feed's author
 * and language when they have none of their own (Atom: a feed's author
 * is its entries'). Returns what the emit callback returned. */
static int flush_pending(struct es_feed_parser *p)
{
    int rc = 0;
    for (size_t i = 0; i < p->npending; i++) {
        struct es_item *it = p->pending[i];
        char *author = it->author, *name = it->author_name, *lang = it->lang;
        if (!rc) {
            /* Borrowed for the call only: a packed item's fields are
             * restored before it is freed. */
            if (!it->author && p->format == FMT_ATOM)
                feed_author(p, &it->author, &it->author_name);
            if (!it->lang)
                it->lang = clean(p, &p->f.lang);
            p->count++;
            rc = p->emit(it, p->payload);
            if (rc) {
                p->rc = rc;
                halt(p);
            }
        }
        it->author = author;
        it->author_name = name;
        it->lang = lang;
        es_item_free(it);
    }
    p->npending = 0;
    return rc;
}

static int send_meta(struct es_feed_parser *p)
{
    p->meta_sent = 1;
    if (p->meta) {
        const char *title = clean(p, &p->f.title);
        const char *link = clean(p, &p->f.link);
        int rc = p->meta(title, link, p->payload);
        if (rc) {
            p->rc = rc;
            halt(p);
            return rc;
        }
    }
    return flush_pending(p);
}

/* The plain text the classifier reads, from one of the entry's fields. */
static void field_text(struct es_buf *out, const struct es_buf *b, int type)
{
    if (type == TYPE_TEXT ||
        (type == TYPE_RSS && !looks_like_html(b->ptr, b->len)))
        collapse_ws(b->ptr, b->len, out);
    else
        es_html_to_text(b->ptr, b->len, out);
}

/* Whether @b holds a byte that could open markup or an entity: without
 * one, field_text() of TYPE_RSS would only collapse white space. */
static int may_be_marked(const struct es_buf *b)
{
    return memchr(b->ptr, '&', b->len) || memchr(b->ptr, '<', b->len);
}

static int is_http(const char *s, size_t len)
{
    return (len > 7 && strncmp(s, "http://", 7) == 0) ||
           (len > 8 && strncmp(s, "https://", 8) == 0);
}

static void emit_entry(struct es_feed_parser *p)
{
    static char platform[] = "rss";
    struct entry *e = &p->e;
    struct es_item item;
    char hash[24];

    /* Before the feed's title: held, up to PENDING_MAX (see above). */
    int hold = !p->meta_sent && !p->f.title.len && p->npending < PENDING_MAX;
    if (!hold && !p->meta_sent && send_meta(p))
        return;
    es_item_init(&item);
    item.platform = platform;
    item.source = p->source;
    item.kind = ES_KIND_ARTICLE;

    item.title = clean(p, &e->title);
    if (e->link.len == 0 && e->guid_is_link && is_http(e->id.ptr, e->id.len))
        es_buf_add(&e->link, e->id.ptr, e->id.len);
    item.url = clean(p, &e->link);
    if (e->id.len)
        item.external_id = clean(p, &e->id);
    else if (e->link.len)
        item.external_id = item.url;
    else if (e->about.len)
        item.external_id = clean(p, &e->about);
    else {
        /* FNV-1a 64 of title and date: stable from one poll to the next. */
        uint64_t h = ES_FNV1A_INIT;
        const struct es_buf *date = e->pub_raw.len ? &e->pub_raw : &e->upd_raw;
        const struct es_buf *parts[4] = { &e->title, date, NULL, NULL };
        if (!e->title.len && !date->len) {
            parts[2] = &e->summary;
            parts[3] = &e->content;
        }
        for (size_t k = 0; k < 4; k++) {
            if (!parts[k])
                continue;
            h = es_fnv1a(h, parts[k]->ptr, parts[k]->len);
            h = es_fnv1a(h, "\x1F", 1); /* a separator */
        }
        snprintf(hash, sizeof(hash), "h:%016llx", (unsigned long long)h);
        item.external_id = hash;
    }

    /* Author: RSS <author>, dc:creator, Atom author name then email, the
     * Atom source's author, the feed's author. The display name goes with
     * the one chosen: "jo@example.com (Jo Bloggs)" gives "Jo Bloggs". */
    es_buf_reset(&p->aname);
    if (e->rss_author.len)
        author_display(e->rss_author.ptr, e->rss_author.len, &p->aname);
    else if (e->creator.len)
        author_display(e->creator.ptr, e->creator.len, &p->aname);
    struct es_buf *cands[][2] = {
        { &e->rss_author, &p->aname },  { &e->creator, &p->aname },
        { &e->name, &e->name },         { &e->email, NULL },
        { &e->src_name, &e->src_name }, { &e->src_email, NULL },
    };
    size_t ncand = p->format == FMT_ATOM ? 6 : 4;
    for (size_t i = 0; i < ncand && !item.author; i++) {
        item.author = clean(p, cands[i][0]);
        if (item.author && cands[i][1])
            item.author_name = clean(p, cands[i][1]);
    }
    if (!item.author && p->format == FMT_ATOM)
        feed_author(p, &item.author, &item.author_name);

    /* YouTube's feeds carry a video's description only as
     * media:description (in media:group), some podcasts an episode's only
     * as itunes:summary; feedparser reads both as the summary too. */
    if (!e->summary.len && e->alt_summary.len) {
        swap_buf(&e->summary, &e->alt_summary);
        e->summary_type = e->alt_summary_type;
    }
    item.summary = clean(p, &e->summary);
    item.content = clean(p, &e->content);

    es_buf_reset(&p->out);
    if (e->content.len)
        field_text(&p->out, &e->content, e->content_type);
    if (!p->out.len && e->summary.len)
        field_text(&p->out, &e->summary, e->summary_type);
    if (!p->out.len && e->title.len)
        es_buf_add(&p->out, e->title.ptr, e->title.len);
    item.text = clean(p, &p->out);

    if (e->ncats) {
        clean(p, &e->cats);
        if (p->acatv < e->ncats) {
            p->acatv = e->ncats * 2;
            p->catv = es_xrealloc(p->catv, p->acatv * sizeof(char *));
        }
        char *c = e->cats.ptr;
        for (size_t i = 0; i < e->ncats; i++) {
            p->catv[i] = c;
            c += strlen(c) + 1;
        }
        item.categories = p->catv;
        item.ncategories = e->ncats;
    }
    item.created_at =
        e->published != ES_TIME_UNKNOWN ? e->published : e->updated;
    item.updated_at = e->updated;
    item.lang = clean(p, e->lang.len ? &e->lang : &p->f.lang);

    if (hold) {
        if (p->npending == p->apending) {
            p->apending = p->apending ? p->apending * 2 : 16;
            p->pending =
                es_xrealloc(p->pending, p->apending * sizeof(*p->pending));
        }
        p->pending[p->npending++] = es_item_pack(&item);
        return;
    }
    p->count++;
    int rc = p->emit(&item, p->payload);
    if (rc) {
        p->rc = rc;
        halt(p);
    }
}

static void add_category(struct entry *e, const char *s, size_t len)
{
    while (len && is_ws((unsigned char)*s)) {
        s++;
        len--;
    }
    while (len && is_ws((unsigned char)s[len - 1]))
        len--;
    if (!len || memchr(s, '\0', len) || e->ncats >= CATEGORIES_MAX)
        return;
    /* Feeds often repeat a category (RSS category and dc:subject). */
    const char *c = e->cats.ptr;
    for (size_t i = 0; i < e->ncats; i++) {
        size_t n = strlen(c);
        if (n == len && memcmp(c, s, len) == 0)
            return;
        c += n + 1;
    }
    es_buf_add(&e->cats, s, len);
    es_buf_addch(&e->cats, '\0');
    e->ncats++;
}

/* ==== Capturing element text ==== */

static int atom_ns(const struct es_feed_parser *p, unsigned char ns)
{
    return ns == NS_ATOM10 || ns == NS_ATOM03 ||
           (ns == NS_NONE && p->format == FMT_ATOM);
}

static int rss_ns(const struct es_feed_parser *p, unsigned char ns)
{
    return ns == NS_RSS || (ns == NS_NONE && p->format != FMT_ATOM);
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Reads an Atom text construct's type (1.0) or type and mode (0.3). */
static enum text_type atom_type(struct es_feed_parser *p, int nb,
                                const xmlChar **attrs)
{
    const char *mode = attr(p, nb, attrs, "mode", NS_NONE);
    int escaped = 0, b64 = 0;
    if (mode) { /* attr() reuses its buffer: read mode before type */
        b64 = strcmp(mode, "base64") == 0;
        escaped = strcmp(mode, "escaped") == 0;
    }
    const char *type = attr(p, nb, attrs, "type", NS_NONE);
    if (b64) {
        /* Text and markup only; an image or any other media is no text. */
        if (!type || !*type || strcmp(type, "text") == 0 ||
            strcmp(type, "text/plain") == 0)
            return TYPE_B64_TEXT;
        if (strcmp(type, "html") == 0 || strcmp(type, "text/html") == 0 ||
            strcmp(type, "xhtml") == 0 || has_suffix(type, "+xml"))
            return TYPE_B64_HTML;
        return TYPE_SKIP;
    }
    if (!type || !*type || strcmp(type, "text") == 0)
        return TYPE_TEXT;
    if (strcmp(type, "html") == 0 || strcmp(type, "text/html") == 0)
        return TYPE_HTML;
    int xml = strcmp(type, "xhtml") == 0 || has_suffix(type, "+xml") ||
              has_suffix(type, "/xml");
    if (xml)
        return escaped ? TYPE_HTML : TYPE_XHTML;
    if (strncmp(type, "text/", 5) == 0)
        return TYPE_TEXT;
    return TYPE_SKIP; /* other media types are base64 */
}

static void begin_capture(struct es_feed_parser *p, enum target t,
                          enum text_type type, unsigned char rank)
{
    p->cap.target = t;
    p->cap.depth = p->depth;
    p->cap.type = (unsigned char)type;
    p->cap.rank = rank;
    p->cap.tag_open = 0;
    p->cap.unwrap = type == TYPE_XHTML;
    p->cap.unwrap_depth = 0;
    p->cap.pick_depth = 0;
    p->cap.picked = 0;
    es_buf_reset(&p->text);
}

static const char *const void_tags[] = {
    "area",  "base", "br",   "col",   "embed",  "hr",    "img",
    "input", "link", "meta", "param", "source", "track", "wbr",
};

static int is_void(const char *name)
{
    for (size_t i = 0; i < sizeof(void_tags) / sizeof(void_tags[0]); i++)
        if (strcmp(name, void_tags[i]) == 0)
            return 1;
    return 0;
}

static void add_qname(struct es_buf *b, const xmlChar *local,
                      const xmlChar *prefix, unsigned char ns)
{
    if (prefix && ns != NS_XHTML) {
        es_buf_adds(b, (const char *)prefix);
        es_buf_addch(b, ':');
    }
    es_buf_adds(b, (const char *)local);
}

/* A child element of a plain-text field that holds the field's value by
 * itself, where real feeds put one: an RSS author or dc:creator written
 * as <name>...</name><title>Vice President</title> (the name is the
 * author), a date written as Drupal does, <time datetime="...">Fri,
 * 05/03/2019 - 15:21</time> (the attribute is the date). */
static void pick_child(struct es_feed_parser *p, unsigned char name,
                       const xmlChar *local, int nb, const xmlChar **attrs)
{
    struct capture *c = &p->cap;
    if ((c->target == T_RSS_AUTHOR || c->target == T_CREATOR) &&
        name == N_NAME) {
        es_buf_reset(&p->text);
        c->pick_depth = p->depth;
    } else if ((c->target == T_PUBLISHED || c->target == T_UPDATED) &&
               strcmp((const char *)local, "time") == 0) {
        const char *dt = attr(p, nb, attrs, "datetime", NS_NONE);
        if (dt && *dt) {
            es_buf_reset(&p->text);
            es_buf_adds(&p->text, dt);
            c->picked = 1;
        }
    }
}

/* A child element of a captured field. */
static void capture_start(struct es_feed_parser *p, const xmlChar *local,
                          const xmlChar *prefix, unsigned char ns,
                          unsigned char name, int nb, const xmlChar **attrs)
{
    struct capture *c = &p->cap;
    if (c->type == TYPE_TEXT && p->depth == c->depth + 1 && !c->picked &&
        !c->pick_depth)
        pick_child(p, name, local, nb, attrs);
    if (c->type != TYPE_HTML && c->type != TYPE_XHTML)
        return; /* plain text: only the characters count */
    if (c->unwrap && p->depth == c->depth + 1) {
        c->unwrap = 0;
        if (ns == NS_XHTML && name == N_DIV) {
            c->unwrap_depth = p->depth;
            return;
        }
    }
    struct es_buf *b = &p->text;
    if (c->tag_open)
        es_buf_addch(b, '>');
    es_buf_addch(b, '<');
    add_qname(b, local, prefix, ns);
    for (int i = 0; i < nb; i++) {
        const xmlChar **a = attrs + 5 * i;
        es_buf_addch(b, ' ');
        add_qname(b, a[0], a[1], NS_OTHER);
        es_buf_adds(b, "=\"");
        es_buf_reset(&p->tmp);
        attr_decode(p, a[3], a[4], &p->tmp);
        es_html_add_escaped(b, p->tmp.ptr, p->tmp.len);
        es_buf_addch(b, '"');
    }
    c->tag_open = 1;
}

static void capture_end(struct es_feed_parser *p, const xmlChar *local,
                        const xmlChar *prefix, unsigned char ns)
{
    struct capture *c = &p->cap;
    if (c->pick_depth && p->depth == c->pick_depth)
        c->picked = 1; /* the picked child is complete */
    if (c->type != TYPE_HTML && c->type != TYPE_XHTML)
        return;
    if (p->depth == c->unwrap_depth) {
        c->unwrap_depth = 0;
        return;
    }
    struct es_buf *b = &p->text;
    if (c->tag_open) {
        c->tag_open = 0;
        if (is_void((const char *)local) && (ns == NS_XHTML || ns == NS_NONE)) {
            es_buf_adds(b, " />");
            return;
        }
        es_buf_addch(b, '>');
    }
    es_buf_adds(b, "</");
    add_qname(b, local, prefix, ns);
    es_buf_addch(b, '>');
}

static void on_chars(void *ctx, const xmlChar *ch, int len)
{
    struct es_feed_parser *p = ctx;
    struct capture *c = &p->cap;
    p->ctxt->wellFormed = 1; /* see on_get_entity() */
    if (c->target == T_NONE || p->halted || c->picked ||
        (c->pick_depth && p->depth < c->pick_depth))
        return;
    const char *s = (const char *)ch;
    if (c->tag_open) {
        es_buf_addch(&p->text, '>');
        c->tag_open = 0;
    }
    if (c->type == TYPE_XHTML) {
        if (p->depth == c->depth) {
            /* Outside the div: white space only, in a valid feed. */
            int blank = 1;
            for (int i = 0; i < len && blank; i++)
                blank = is_ws(s[i]);
            if (blank)
                return;
        }
        es_html_add_escaped(&p->text, s, (size_t)len);
    } else if (c->type == TYPE_HTML && p->depth > c->depth) {
        es_html_add_escaped(&p->text, s, (size_t)len); /* inside raw XHTML */
    } else {
        buf_add(&p->text, s, (size_t)len);
    }
}

/* Parses a date field and keeps it when its source ranks higher. */
static void take_date(struct es_feed_parser *p, int updated)
{
    struct entry *e = &p->e;
    int64_t t;
    trim(&p->text);
    if (!p->text.len || es_time_parse(p->text.ptr, &t) < 0)
        return;
    /* 0001-01-01T00:00:00Z is Go's zero time, what Hugo and other Go
     * generators write for a page with no date: no date at all. */
    if (t == INT64_C(-62135596800))
        return;
    if (updated && p->cap.rank > e->upd_rank) {
        e->updated = t;
        e->upd_rank = p->cap.rank;
        swap_buf(&e->upd_raw, &p->text);
    } else if (!updated && p->cap.rank > e->pub_rank) {
        e->published = t;
        e->pub_rank = p->cap.rank;
        swap_buf(&e->pub_raw, &p->text);
    }
}

/* Turns a captured title into plain text. */
static void take_title(struct es_feed_parser *p, struct es_buf *dst,
                       unsigned char *type_out)
{
    es_buf_reset(dst);
    /* An RSS title (TYPE_RSS) is plain text by the spec, yet often HTML,
     * escaped: field_text() reads it as HTML only when it looks like
     * some, so "Rock &amp;reggae" stays "Rock &reggae" and "5 < 7" text. */
    field_text(dst, &p->text, p->cap.type);
    if (type_out)
        *type_out = p->cap.type;
}

/* Sets a link when this source ranks above the one we have. */
static void take_link(struct es_feed_parser *p, struct es_buf *dst,
                      unsigned char *rank, unsigned char new_rank,
                      const char *href, size_t len)
{
    while (len && is_ws((unsigned char)*href)) {
        href++;
        len--;
    }
    while (len && is_ws((unsigned char)href[len - 1]))
        len--;
    if (new_rank <= *rank || !len)
        return;
    es_buf_reset(&p->out);
    es_url_resolve(cur_base(p), href, len, &p->out);
    swap_buf(dst, &p->out);
    *rank = new_rank;
}

/* A link in CDATA escaped as if it were not ("...?a=1&amp;b=2", as
 * publishers write them): "&amp;" is no part of any address, so it is
 * read as the "&" it stands for, as browsers and feedparser read it. */
static void unescape_amp(struct es_buf *t)
{
    size_t w = 0;
    if (!t->len || !memchr(t->ptr, '&', t->len))
        return;
    for (size_t r = 0; r < t->len; r++) {
        t->ptr[w++] = t->ptr[r];
        if (t->ptr[r] == '&' && t->len - r >= 5 &&
            memcmp(t->ptr + r + 1, "amp;", 4) == 0)
            r += 4;
    }
    es_buf_truncate(t, w);
}

/* Keeps the trimmed text @t of @type in @dst unless @dst has some
 * already: the first summary or content of an entry wins. */
static void take_first(struct es_buf *t, struct es_buf *dst,
                       unsigned char *dst_type, unsigned char type)
{
    trim(t);
    if (!dst->len) {
        swap_buf(dst, t);
        *dst_type = type;
    }
}

/* The value of base64 digit @c, or -1. */
/* A base64 field (Atom 0.3) decoded into the text it stands for: invalid
 * UTF-8 as U+FFFD and NUL bytes as spaces, as the rest of the document
 * could never hold them; nothing when it is not base64. */
static void decode_b64_capture(struct es_feed_parser *p)
{
    struct es_buf *t = &p->text;
    p->cap.type = p->cap.type == TYPE_B64_HTML ? TYPE_HTML : TYPE_TEXT;
    es_buf_reset(&p->out);
    int ok = es_base64_decode(t->ptr, t->len, &p->out) == 0;
    es_buf_reset(t);
    if (!ok)
        return;
    for (size_t i = 0; i < p->out.len; i++)
        if (p->out.ptr[i] == '\0')
            p->out.ptr[i] = ' ';
    es_buf_add_valid_utf8(t, p->out.ptr, p->out.len);
}

/* The end of a captured field: put its text where it belongs. */
static void finish_capture(struct es_feed_parser *p)
{
    struct entry *e = &p->e;
    struct es_buf *t = &p->text;
    enum target target = p->cap.target;
    p->cap.target = T_NONE;
    if (p->cap.tag_open)
        es_buf_addch(t, '>');
    if (p->cap.type == TYPE_B64_TEXT || p->cap.type == TYPE_B64_HTML)
        decode_b64_capture(p);
    switch (target) {
    case T_TITLE:
        if (!e->title.len)
            take_title(p, &e->title, &e->title_type);
        break;
    case T_FEED_TITLE:
        /* A late title: the entries held for it go with the next entry
         * or at the end, so that a link or author after it comes too. */
        if (!p->f.title.len)
            take_title(p, &p->f.title, NULL);
        break;
    case T_LINK:
        unescape_amp(t);
        take_link(p, &e->link, &e->link_rank, p->cap.rank, t->ptr, t->len);
        break;
    case T_FEED_LINK:
        unescape_amp(t);
        take_link(p, &p->f.link, &p->f.link_rank, p->cap.rank, t->ptr, t->len);
        break;
    case T_ID:
        trim(t);
        if (!e->id.len)
            swap_buf(&e->id, t);
        break;
    case T_SUMMARY:
        take_first(t, &e->summary, &e->summary_type, p->cap.type);
        break;
    case T_ALT_SUMMARY:
        take_first(t, &e->alt_summary, &e->alt_summary_type, p->cap.type);
        break;
    case T_CONTENT:
        take_first(t, &e->content, &e->content_type, p->cap.type);
        break;
    case T_PUBLISHED:
        take_date(p, 0);
        break;
    case T_UPDATED:
        take_date(p, 1);
        break;
    case T_CATEGORY:
        /* Escaped markup or entities in CDATA ("Food &amp; Drink"), read
         * once, as a title is; most categories have neither. */
        if (!may_be_marked(t)) {
            add_category(e, t->ptr, t->len);
            break;
        }
        es_buf_reset(&p->out);
        field_text(&p->out, t, TYPE_RSS);
        add_category(e, p->out.ptr, p->out.len);
        break;
    case T_RSS_AUTHOR:
    case T_CREATOR:
    case T_NAME:
    case T_EMAIL:
    case T_LANG:
    case T_FEED_LANG: {
        struct es_buf *dst;
        if (target == T_RSS_AUTHOR)
            dst = &e->rss_author;
        else if (target == T_CREATOR)
            dst = &e->creator;
        else if (target == T_LANG)
            dst = &e->lang;
        else if (target == T_FEED_LANG)
            dst = &p->f.lang;
        else if (p->cap.author == AUTHOR_ENTRY)
            dst = target == T_NAME ? &e->name : &e->email;
        else if (p->cap.author == AUTHOR_SOURCE)
            dst = target == T_NAME ? &e->src_name : &e->src_email;
        else
            dst = target == T_NAME ? &p->f.name : &p->f.email;
        if (!dst->len) {
            es_buf_reset(&p->out);
            /* A name may carry escaped markup, as arXiv's dc:creator
             * links each author ("&lt;a href=...&gt;Hana Nakamura&lt;/a&gt;"):
             * read once, as a title is. A language code is a code. */
            if (target == T_LANG || target == T_FEED_LANG || !may_be_marked(t))
                collapse_ws(t->ptr, t->len, &p->out);
            else
                field_text(&p->out, t, TYPE_RSS);
            swap_buf(dst, &p->out);
        }
        break;
    }
    case T_NONE:
        break;
    }
}

/* ==== SAX: elements ==== */

static void lookup(struct es_feed_parser *p, const xmlChar *local,
                   const xmlChar *prefix, const xmlChar *uri, unsigned char *ns,
                   unsigned char *name)
{
    const xmlChar *key = uri ? uri : prefix;
    unsigned char kp = !uri && prefix;
    /* Dictionary strings sit side by side: hash every bit of both. */
    uint64_t x = ((uint64_t)(uintptr_t)local ^
                  ((uint64_t)(uintptr_t)key * 0xff51afd7ed558ccdULL)) *
                 0x9e3779b97f4a7c15ULL;
    size_t h = (size_t)(x >> 40) & (NAME_CACHE - 1);
    struct name_slot *s = &p->slots[h];
    if (s->used &&
        (s->local != local || s->key != key || s->key_is_prefix != kp))
        s = &p->slots[h ^ 1]; /* a second way */
    if (!s->used || s->local != local || s->key != key ||
        s->key_is_prefix != kp) {
        s->local = local;
        s->key = key;
        s->key_is_prefix = kp;
        s->ns = ns_of((const char *)uri, (const char *)prefix);
        if (s->ns == NS_OTHER && p->atom_alias && uri &&
            strcmp((const char *)uri, p->atom_alias) == 0)
            s->ns = NS_ATOM10;
        s->name = name_of((const char *)local);
        s->used = 1;
    }
    *ns = s->ns;
    *name = s->name;
}

static void start_root(struct es_feed_parser *p, unsigned char ns,
                       unsigned char name, const xmlChar *local,
                       const xmlChar *uri)
{
    if (name == N_RSS && ns != NS_ATOM10 && ns != NS_ATOM03) {
        p->format = FMT_RSS;
    } else if (name == N_RDF && ns == NS_RDF) {
        p->format = FMT_RDF;
    } else if (name == N_FEED &&
               (ns == NS_ATOM10 || ns == NS_ATOM03 || ns == NS_NONE)) {
        p->format = FMT_ATOM;
        p->channel_depth = 1;
    } else if (name == N_ENTRY && (ns == NS_ATOM10 || ns == NS_ATOM03)) {
        p->format = FMT_ATOM; /* an Atom entry document */
        p->entry_depth = 1;
        entry_reset(&p->e);
    } else if (name == N_CHANNEL && (ns == NS_NONE || ns == NS_RSS)) {
        p->format = FMT_RSS;
        p->channel_depth = 1;
    } else if (name == N_FEED && ns == NS_OTHER && uri) {
        /* Atom under another namespace: a draft's ("http://purl.org/echo/")
         * or Atom's own misspelt ("https://www.w3.org/2005/Atom"). Its
         * elements are read as Atom's. */
        p->format = FMT_ATOM;
        p->channel_depth = 1;
        p->atom_alias = es_xstrdup((const char *)uri);
    } else {
        unsigned line = current_line(p);
        p->error[0] = '\0';
        problem(p, line, "not an RSS, Atom or JSON feed (root element '%.40s')",
                (const char *)local);
        halt(p);
    }
}

/* An Atom link, from its href; a link with no href but the address as
 * its text, as a few generators write it, is captured as @target. */
static void atom_link(struct es_feed_parser *p, int nb, const xmlChar **attrs,
                      struct es_buf *dst, unsigned char *rank,
                      enum target target)
{
    const char *rel = attr(p, nb, attrs, "rel", NS_NONE);
    if (rel && strcmp(rel, "alternate") != 0)
        return;
    /* Of several alternates, the HTML page is the permalink. */
    const char *type = attr(p, nb, attrs, "type", NS_NONE);
    unsigned char r = !type || strcmp(type, "text/html") == 0 ||
                              strcmp(type, "application/xhtml+xml") == 0
                          ? 2
                          : 1;
    const char *href = attr(p, nb, attrs, "href", NS_NONE);
    if (!href) {
        if (r > *rank)
            begin_capture(p, target, TYPE_TEXT, r);
        return;
    }
    size_t len = p->tmp.len;
    es_buf_reset(&p->fix);
    es_buf_add(&p->fix, href, len);
    take_link(p, dst, rank, r, p->fix.ptr, p->fix.len);
}

/* A child of an entry (p->depth == entry_depth + 1). */
static void entry_child(struct es_feed_parser *p, unsigned char ns,
                        unsigned char name, int nb, const xmlChar **attrs)
{
    struct entry *e = &p->e;
    int atom = atom_ns(p, ns), rss = rss_ns(p, ns);
    enum text_type type;

    switch (name) {
    case N_TITLE:
        if (rss)
            begin_capture(p, T_TITLE, TYPE_RSS, 0);
        else if (atom && (type = atom_type(p, nb, attrs)) != TYPE_SKIP)
            begin_capture(p, T_TITLE, type, 0);
        else if (ns == NS_DC)
            begin_capture(p, T_TITLE, TYPE_RSS, 0);
        break;
    case N_LINK:
        if (rss)
            begin_capture(p, T_LINK, TYPE_TEXT, 3);
        else if (atom)
            atom_link(p, nb, attrs, &e->link, &e->link_rank, T_LINK);
        break;
    case N_DESCRIPTION:
        if (rss || (ns == NS_DC && p->format != FMT_ATOM))
            begin_capture(p, T_SUMMARY, TYPE_HTML, 0);
        break;
    case N_SUMMARY:
        if (atom && (type = atom_type(p, nb, attrs)) != TYPE_SKIP)
            begin_capture(p, T_SUMMARY, type, 0);
        else if (ns == NS_ITUNES) /* plain text by Apple's spec; not always */
            begin_capture(p, T_ALT_SUMMARY, TYPE_RSS, 0);
        break;
    case N_CONTENT:
        if (atom && !attr(p, nb, attrs, "src", NS_NONE) &&
            (type = atom_type(p, nb, attrs)) != TYPE_SKIP)
            begin_capture(p, T_CONTENT, type, 0);
        break;
    case N_ENCODED:
        if (ns == NS_CONTENT)
            begin_capture(p, T_CONTENT, TYPE_HTML, 0);
        break;
    case N_BODY:
        /* RSS 2.0's xhtml:body: the item's content as inline XHTML. Its
         * first div, unlike an Atom xhtml construct's, is content. */
        if (ns == NS_XHTML && p->format != FMT_ATOM) {
            begin_capture(p, T_CONTENT, TYPE_XHTML, 0);
            p->cap.unwrap = 0;
        }
        break;
    case N_GUID:
        if (rss) {
            const char *pl = attr(p, nb, attrs, "isPermaLink", NS_NONE);
            e->guid_is_link = !pl || strcmp(pl, "false") != 0;
            begin_capture(p, T_ID, TYPE_TEXT, 0);
        }
        break;
    case N_ID:
        if (atom)
            begin_capture(p, T_ID, TYPE_TEXT, 0);
        break;
    case N_PUBDATE:
        if (rss)
            begin_capture(p, T_PUBLISHED, TYPE_TEXT, 4);
        break;
    case N_PUBLISHED:
        if (atom)
            begin_capture(p, T_PUBLISHED, TYPE_TEXT, 5);
        break;
    case N_ISSUED:
        if (atom)
            begin_capture(p, T_PUBLISHED, TYPE_TEXT, 4);
        else if (ns == NS_DCTERMS)
            begin_capture(p, T_PUBLISHED, TYPE_TEXT, 3);
        break;
    case N_DATE:
        if (ns == NS_DC || ns == NS_DCTERMS)
            begin_capture(p, T_PUBLISHED, TYPE_TEXT, 3);
        break;
    case N_CREATED:
        if (atom || ns == NS_DCTERMS)
            begin_capture(p, T_PUBLISHED, TYPE_TEXT, 2);
        break;
    case N_UPDATED:
        if (atom)
            begin_capture(p, T_UPDATED, TYPE_TEXT, 3);
        break;
    case N_MODIFIED:
        if (atom)
            begin_capture(p, T_UPDATED, TYPE_TEXT, 3);
        else if (ns == NS_DCTERMS)
            begin_capture(p, T_UPDATED, TYPE_TEXT, 2);
        break;
    case N_AUTHOR:
        if (atom) {
            p->author_depth = p->depth;
            p->author_kind = AUTHOR_ENTRY;
            e->authors++;
        } else if (rss) {
            begin_capture(p, T_RSS_AUTHOR, TYPE_TEXT, 0);
        } else if (ns == NS_ITUNES && p->format != FMT_ATOM) {
            /* A podcast episode's author: after author and dc:creator,
             * in the slot Atom feeds use for the author's name. */
            begin_capture(p, T_NAME, TYPE_TEXT, 0);
            p->cap.author = AUTHOR_ENTRY;
        }
        break;
    case N_CREATOR:
        if (ns == NS_DC)
            begin_capture(p, T_CREATOR, TYPE_TEXT, 0);
        break;
    case N_CATEGORY:
        if (rss) {
            begin_capture(p, T_CATEGORY, TYPE_TEXT, 0);
        } else if (atom) {
            const char *term = attr(p, nb, attrs, "term", NS_NONE);
            if (!term || !*term)
                term = attr(p, nb, attrs, "label", NS_NONE);
            if (term)
                add_category(e, term, strlen(term));
        }
        break;
    case N_SUBJECT:
        if (ns == NS_DC)
            begin_capture(p, T_CATEGORY, TYPE_TEXT, 0);
        break;
    case N_LANGUAGE:
        if (ns == NS_DC)
            begin_capture(p, T_LANG, TYPE_TEXT, 0);
        break;
    case N_SOURCE:
        if (atom)
            p->source_depth = p->depth;
        break;
    default:
        break;
    }
}

/* A child of the channel (or of the Atom feed), outside any entry. */
static void channel_child(struct es_feed_parser *p, unsigned char ns,
                          unsigned char name, int nb, const xmlChar **attrs)
{
    int atom = atom_ns(p, ns), rss = rss_ns(p, ns);
    enum text_type type;
    switch (name) {
    case N_TITLE:
        if (rss)
            begin_capture(p, T_FEED_TITLE, TYPE_RSS, 0);
        else if (atom && (type = atom_type(p, nb, attrs)) != TYPE_SKIP)
            begin_capture(p, T_FEED_TITLE, type, 0);
        else if (ns == NS_DC) /* as for an item: the first title counts */
            begin_capture(p, T_FEED_TITLE, TYPE_RSS, 0);
        break;
    case N_LINK:
        if (rss)
            begin_capture(p, T_FEED_LINK, TYPE_TEXT, 3);
        else if (atom)
            atom_link(p, nb, attrs, &p->f.link, &p->f.link_rank, T_FEED_LINK);
        break;
    case N_LANGUAGE:
        if (rss || ns == NS_DC)
            begin_capture(p, T_FEED_LANG, TYPE_TEXT, 0);
        break;
    case N_AUTHOR:
        if (atom) {
            p->author_depth = p->depth;
            p->author_kind = AUTHOR_FEED;
            p->f.authors++;
        }
        break;
    default:
        break;
    }
}

static void on_start(void *ctx, const xmlChar *local, const xmlChar *prefix,
                     const xmlChar *uri, int nb_namespaces,
                     const xmlChar **namespaces, int nb_attributes,
                     int nb_defaulted, const xmlChar **attrs)
{
    struct es_feed_parser *p = ctx;
    unsigned char ns, name;
    (void)nb_namespaces;
    (void)namespaces;
    (void)nb_defaulted;

    p->ctxt->wellFormed = 1; /* see on_get_entity() */
    if (p->halted)
        return;
    p->depth++;
    if (p->depth > p->max_depth) {
        problem(p, current_line(p), "elements nested deeper than %u",
                p->max_depth);
        halt(p);
        return;
    }
    if (nb_attributes)
        push_frame(p, nb_attributes, attrs);
    lookup(p, local, prefix, uri, &ns, &name);

    if (p->cap.target != T_NONE) {
        capture_start(p, local, prefix, ns, name, nb_attributes, attrs);
        return;
    }
    if (p->depth == 1) {
        start_root(p, ns, name, local, uri);
        if (p->entry_depth) {
            const char *lang = cur_lang(p);
            if (lang)
                es_buf_adds(&p->e.lang, lang);
        }
        return;
    }
    if (p->entry_depth) {
        unsigned rel = p->depth - p->entry_depth;
        if (ns == NS_MEDIA && name == N_DESCRIPTION) {
            /* In the entry, in media:group or media:content: the first
             * one. type="html" is markup; "plain", the default, is text. */
            const char *type = attr(p, nb_attributes, attrs, "type", NS_NONE);
            begin_capture(
                p, T_ALT_SUMMARY,
                type && strcmp(type, "html") == 0 ? TYPE_HTML : TYPE_TEXT, 0);
        } else if (rel == 1) {
            entry_child(p, ns, name, nb_attributes, attrs);
        } else if (p->author_depth && p->depth == p->author_depth + 1) {
            /* <atom:author><name>: RSS feeds write the children of an
             * Atom author without its prefix, in no namespace. */
            if ((atom_ns(p, ns) || ns == NS_NONE) &&
                (name == N_NAME || name == N_EMAIL)) {
                int first = p->author_kind == AUTHOR_ENTRY
                                ? p->e.authors == 1
                                : p->e.src_authors == 1;
                if (first) {
                    begin_capture(p, name == N_NAME ? T_NAME : T_EMAIL,
                                  TYPE_TEXT, 0);
                    p->cap.author = p->author_kind;
                }
            }
        } else if (p->source_depth && p->depth == p->source_depth + 1 &&
                   name == N_AUTHOR && atom_ns(p, ns)) {
            p->author_depth = p->depth;
            p->author_kind = AUTHOR_SOURCE;
            p->e.src_authors++;
        }
        return;
    }
    int entry = (p->format == FMT_ATOM && name == N_ENTRY && atom_ns(p, ns)) ||
                (p->format != FMT_ATOM && name == N_ITEM && rss_ns(p, ns));
    if (entry) {
        p->entry_depth = p->depth;
        entry_reset(&p->e);
        const char *lang = cur_lang(p);
        if (lang)
            es_buf_adds(&p->e.lang, lang);
        if (p->format == FMT_RDF) {
            const char *about = attr(p, nb_attributes, attrs, "about", NS_RDF);
            if (about)
                es_buf_add(&p->e.about, about, p->tmp.len);
        }
        return;
    }
    if (p->format != FMT_ATOM && name == N_CHANNEL && rss_ns(p, ns) &&
        !p->channel_depth) {
        p->channel_depth = p->depth;
        return;
    }
    if (p->channel_depth && p->depth == p->channel_depth + 1) {
        channel_child(p, ns, name, nb_attributes, attrs);
    } else if (p->author_depth && p->depth == p->author_depth + 1 &&
               p->author_kind == AUTHOR_FEED && p->f.authors == 1 &&
               atom_ns(p, ns) && (name == N_NAME || name == N_EMAIL)) {
        begin_capture(p, name == N_NAME ? T_NAME : T_EMAIL, TYPE_TEXT, 0);
        p->cap.author = AUTHOR_FEED;
    }
}

static void on_end(void *ctx, const xmlChar *local, const xmlChar *prefix,
                   const xmlChar *uri)
{
    struct es_feed_parser *p = ctx;
    p->ctxt->wellFormed = 1; /* see on_get_entity() */
    if (p->halted || p->depth == 0)
        return;
    if (p->cap.target != T_NONE) {
        if (p->depth == p->cap.depth) {
            finish_capture(p);
        } else {
            unsigned char ns, name;
            lookup(p, local, prefix, uri, &ns, &name);
            capture_end(p, local, prefix, ns);
        }
    }
    if (p->depth == p->author_depth)
        p->author_depth = 0;
    if (p->depth == p->source_depth)
        p->source_depth = 0;
    if (p->depth == p->entry_depth) {
        p->entry_depth = 0;
        emit_entry(p);
    }
    if (p->depth == p->channel_depth && p->format != FMT_ATOM)
        p->channel_depth = 0;
    pop_frames(p);
    p->depth--;
}

/* ==== Input: encoding, chunks ==== */

static const xmlSAXHandler sax_template = {
    .internalSubset = NULL,
    .getEntity = on_get_entity,
    .entityDecl = on_entity_decl,
    .resolveEntity = on_resolve_entity,
    .getParameterEntity = on_get_parameter_entity,
    .externalSubset = on_external_subset,
    .characters = on_chars,
    .ignorableWhitespace = on_chars,
    .cdataBlock = on_chars,
    .startElementNs = on_start,
    .endElementNs = on_end,
    .serror = on_error,
    .initialized = XML_SAX2_MAGIC,
};

/* libxml2's unstructured complaints ("xmlParseChunk: encoder error"),
 * which would otherwise go to stderr. */
__attribute__((format(printf, 2, 3))) static void
on_generic_error(void *ctx, const char *fmt, ...)
{
    struct es_feed_parser *p = ctx;
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    if (n)
        problem(p, current_line(p), "%s", msg);
}

/* Hands bytes, already UTF-8 or in the declared encoding, to libxml2. */
static void parse_chunk(struct es_feed_parser *p, const char *buf, size_t len,
                        int terminate)
{
    if (p->halted)
        return;
    /* Some errors are raised without a parser context (encoding errors):
     * route the thread's handlers to us for the duration of the call. */
    xmlStructuredErrorFunc old = xmlStructuredError;
    void *old_ctx = xmlStructuredErrorContext;
    xmlGenericErrorFunc old_generic = xmlGenericError;
    void *old_generic_ctx = xmlGenericErrorContext;
    xmlSetStructuredErrorFunc(p, on_error);
    xmlSetGenericErrorFunc(p, on_generic_error);
    int rc = xmlParseChunk(p->ctxt, buf, (int)len, terminate);
    xmlSetGenericErrorFunc(old_generic_ctx, old_generic);
    xmlSetStructuredErrorFunc(old_ctx, old);
    if (rc == XML_ERR_INVALID_ENCODING || rc == XML_ERR_UNSUPPORTED_ENCODING)
        problem(p, current_line(p), "input is not in the declared encoding");
}

/* ==== The input filter ====
 *
 * For every ASCII-compatible document the bytes pass through a small lexer
 * before libxml2 sees them. It makes the input valid UTF-8 (MODE_UTF8
 * keeps valid sequences and reads stray bytes as Windows-1252; MODE_CP1252
 * transcodes everything) and mends the faults that make libxml2 lose
 * text: a '&' that starts no reference ("AT&T", "?a=1&b=2"), which it
 * drops along with the following name, and a '<' that cannot start markup
 * ("a < b"), on which the push parser gives up for good. Both become
 * references to entities of ours (BARE_AMP, BARE_LT), so that on_get_entity()
 * can put the character back and report the problem with its line. A
 * numeric reference to no character, which libxml2 drops, is rewritten
 * (see fix_charref()). CDATA
 * sections, comments and processing instructions are passed untouched.
 * The lexer never looks further ahead than FILTER_LOOKAHEAD bytes; what it
 * cannot decide at the end of a chunk waits in p->pend for the next.
 */

enum lex { LEX_TEXT, LEX_CDATA, LEX_COMMENT, LEX_PI };

/* Per lexer state, the bytes that need a look: the state's terminator,
 * '<' and '&' in text, and any byte >= 0x80. */
static const unsigned char lex_stops[4][256] = {
    {
        /* LEX_TEXT */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    },
    {
        /* LEX_CDATA */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    },
    {
        /* LEX_COMMENT */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    },
    {
        /* LEX_PI */
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    },
};

static const char *const lex_end[4] = { "", "]]>", "-->", "?>" };

static size_t utf8_need(unsigned char lead)
{
    if (lead >= 0xC2 && lead <= 0xDF)
        return 2;
    if (lead >= 0xE0 && lead <= 0xEF)
        return 3;
    if (lead >= 0xF0 && lead <= 0xF4)
        return 4;
    return 0;
}

static int is_name_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           c == ':';
}

static int is_name_char(unsigned char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* Whether the '&' at s[0] starts a reference: 1 yes, 0 no, -1 cannot tell
 * before more bytes arrive. Non-ASCII entity names are not recognised. */
static int ref_at(const unsigned char *s, size_t len, int final)
{
    size_t i = 1;
    if (i == len)
        return final ? 0 : -1;
    if (s[i] == '#') {
        int hex = 0;
        size_t digits = 0;
        if (++i == len)
            return final ? 0 : -1;
        if (s[i] == 'x' || s[i] == 'X') {
            hex = 1;
            i++;
        }
        for (; i < len && i <= REF_NAME_MAX; i++) {
            unsigned char c = s[i];
            int dig =
                (c >= '0' && c <= '9') ||
                (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
            if (!dig)
                break;
            digits++;
        }
        if (i == len && i <= REF_NAME_MAX)
            return final ? 0 : -1;
        return digits && i < len && s[i] == ';';
    }
    if (!is_name_start(s[i]))
        return 0;
    for (i++; i < len && i <= REF_NAME_MAX && is_name_char(s[i]); i++)
        ;
    if (i == len && i <= REF_NAME_MAX)
        return final ? 0 : -1;
    return i < len && s[i] == ';';
}

/* Output of one filter_run(): untouched stretches of the input are handed
 * over as they are; once something is rewritten, the rest of the run is
 * assembled in p->xbuf. */
struct fout {
    const unsigned char *s;
    size_t done; /* s[0..done) is in xbuf (or needs none) */
    int rewrote; /* xbuf in use */
};

static void rewrite(struct es_feed_parser *p, struct fout *o, size_t at,
                    size_t skip, const char *with, size_t wlen)
{
    if (!o->rewrote) {
        es_buf_reset(&p->xbuf);
        o->rewrote = 1;
    }
    buf_add(&p->xbuf, o->s + o->done, at - o->done);
    buf_add(&p->xbuf, with, wlen);
    o->done = at + skip;
}

static void rewrite_byte(struct es_feed_parser *p, struct fout *o, size_t at)
{
    char u[4];
    unsigned long cp = es_html_cp1252(o->s[at]);
    size_t n;
    if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    }
    rewrite(p, o, at, 1, u, n);
}

static void note_encoding(struct es_feed_parser *p, const char *what)
{
    if (!p->note[0]) {
        snprintf(p->note, sizeof(p->note), "line %u: %s", current_line(p),
                 what);
        es_utf8_scrub(p->note);
    }
}

/* The code point of the numeric reference at s[0], which ref_at() found
 * complete, and its length. Values past U+10FFFF saturate. */
static size_t charref(const unsigned char *s, unsigned long *cp)
{
    size_t i = 2;
    int hex = (s[i] | 0x20) == 'x';
    unsigned long v = 0;
    for (i += (size_t)hex; s[i] != ';'; i++) {
        unsigned d = s[i] <= '9' ? s[i] - '0' : (s[i] | 0x20) - 'a' + 10;
        if (v <= 0x10FFFF)
            v = v * (hex ? 16 : 10) + d;
    }
    *cp = v;
    return i + 1;
}

/* A numeric reference at s[i] that libxml2 would refuse and drop, text and
 * all: zero, a surrogate, or past U+10FFFF. A UTF-16 pair written as two
 * references (how some publishers write an emoji) becomes the character
 * it encodes, anything else U+FFFD, as in HTML; "&#X41;", which HTML
 * reads and XML does not, becomes "&#x41;". Returns the bytes consumed,
 * or 0 when the next chunk must decide. */
static size_t fix_charref(struct es_feed_parser *p, struct fout *o,
                          const unsigned char *s, size_t len, size_t i,
                          int final)
{
    unsigned long cp, lo;
    size_t n = charref(s + i, &cp), m = 0;
    char ref[16];
    if ((cp && cp < 0xD800) || (cp >= 0xE000 && cp <= 0x10FFFF)) {
        if (s[i + 2] == 'X') {
            int w = snprintf(ref, sizeof(ref), "&#x%lX;", cp);
            rewrite(p, o, i, n, ref, (size_t)w);
        }
        return n;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        size_t j = i + n;
        int r = j < len ? (s[j] == '&' ? ref_at(s + j, len - j, final) : 0)
                        : (final ? 0 : -1);
        if (r < 0 && len - i < FILTER_LOOKAHEAD)
            return 0;
        if (r > 0 && s[j + 1] == '#') {
            size_t k = charref(s + j, &lo);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                m = k;
            }
        }
    }
    if (!m)
        cp = 0xFFFD;
    int w = snprintf(ref, sizeof(ref), "&#x%lX;", cp);
    rewrite(p, o, i, n + m, ref, (size_t)w);
    note_encoding(p, m ? "a surrogate pair in character references, combined"
                       : "a reference to no character, read as U+FFFD");
    return n + m;
}

/* Index of the first byte at or after @i that lexer state @lex must look
 * at. This loop sees every input byte, hence the vector code. */
static size_t next_stop(const unsigned char *s, size_t len, size_t i,
                        unsigned char lex)
{
    const unsigned char *stops = lex_stops[lex];
#ifdef __SSE2__
    static const char first[4] = { '<', ']', '-', '?' };
    const __m128i c1 = _mm_set1_epi8(first[lex]);
    const __m128i c2 = _mm_set1_epi8(lex == LEX_TEXT ? '&' : first[lex]);
    while (i + 16 <= len) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i hit =
            _mm_or_si128(_mm_cmpeq_epi8(v, c1), _mm_cmpeq_epi8(v, c2));
        /* The sign bit of each byte: set for >= 0x80 and for a match. */
        int m = _mm_movemask_epi8(_mm_or_si128(v, hit));
        if (m)
            return i + (size_t)__builtin_ctz((unsigned)m);
        i += 16;
    }
#endif
    while (i < len && !stops[s[i]])
        i++;
    return i;
}

/* Runs the lexer over s[0..len) and hands what it decided to libxml2.
 * Returns the number of bytes consumed: all of them when @final, else all
 * but an undecidable tail shorter than FILTER_LOOKAHEAD. */
static size_t filter_run(struct es_feed_parser *p, const unsigned char *s,
                         size_t len, int final)
{
    struct fout o = { s, 0, 0 };
    size_t i = 0;
    while (i < len) {
        i = next_stop(s, len, i, p->lex);
        if (i >= len)
            break;
        unsigned char c = s[i];
        if (c >= 0x80) {
            if (p->mode == MODE_CP1252) {
                rewrite_byte(p, &o, i);
                i++;
                continue;
            }
            unsigned long cp;
            size_t n = es_utf8_decode((const char *)s + i, len - i, &cp);
            if (n) {
                i += n;
                continue;
            }
            size_t need = utf8_need(c), k = i + 1;
            while (k < len && k < i + need && (s[k] & 0xC0) == 0x80)
                k++;
            if (!final && need && k == len)
                break; /* a sequence the next chunk may complete */
            note_encoding(p, "invalid UTF-8, read as Windows-1252");
            rewrite_byte(p, &o, i);
            i++;
            continue;
        }
        if (p->lex != LEX_TEXT) {
            /* The terminator of a CDATA section, comment or PI? */
            const char *end = lex_end[p->lex];
            size_t n = strlen(end), have = len - i < n ? len - i : n;
            if (memcmp(s + i, end, have) != 0) {
                i++;
            } else if (have < n) {
                if (!final)
                    break;
                i = len;
            } else {
                p->lex = LEX_TEXT;
                i += n;
            }
            continue;
        }
        if (c == '&') {
            int r = ref_at(s + i, len - i, final);
            if (r < 0)
                break;
            if (r == 0) {
                rewrite(p, &o, i, 1, "&" BARE_AMP ";", sizeof(BARE_AMP) + 1);
                i++;
            } else if (s[i + 1] == '#') {
                size_t n = fix_charref(p, &o, s, len, i, final);
                if (n == 0)
                    break;
                i += n;
            } else {
                i += 2; /* the rest of the reference is plain ASCII */
            }
            continue;
        }
        /* '<' */
        if (i + 1 == len) {
            if (!final)
                break;
            rewrite(p, &o, i, 1, "&" BARE_LT ";", sizeof(BARE_LT) + 1);
            i++;
            continue;
        }
        unsigned char d = s[i + 1];
        if (d == '?') {
            p->lex = LEX_PI;
            i += 2;
        } else if (d == '!') {
            static const char cdata[] = "<![CDATA[", comment[] = "<!--";
            size_t have = len - i;
            if (have >= 9 && memcmp(s + i, cdata, 9) == 0) {
                p->lex = LEX_CDATA;
                i += 9;
            } else if (have >= 4 && memcmp(s + i, comment, 4) == 0) {
                p->lex = LEX_COMMENT;
                i += 4;
            } else if (!final && have < 9 &&
                       (memcmp(s + i, cdata, have) == 0 ||
                        (have < 4 && memcmp(s + i, comment, have) == 0))) {
                break;
            } else {
                i += 2; /* <!DOCTYPE, <!ENTITY ... */
            }
        } else if (d == '/' || is_name_start(d) || d >= 0x80) {
            i++; /* a tag */
        } else {
            rewrite(p, &o, i, 1, "&" BARE_LT ";", sizeof(BARE_LT) + 1);
            i++;
        }
    }
    if (o.rewrote) {
        buf_add(&p->xbuf, s + o.done, i - o.done);
        parse_chunk(p, p->xbuf.ptr, p->xbuf.len, 0);
    } else if (i) {
        parse_chunk(p, (const char *)s, i, 0);
    }
    return i;
}

/* Filters one chunk, completing first the tail the last one left. */
static void feed_filtered(struct es_feed_parser *p, const unsigned char *s,
                          size_t len)
{
    if (p->npend) {
        unsigned char comb[sizeof(p->pend) + FILTER_LOOKAHEAD];
        size_t take = len < FILTER_LOOKAHEAD ? len : FILTER_LOOKAHEAD;
        memcpy(comb, p->pend, p->npend);
        memcpy(comb + p->npend, s, take);
        size_t n = p->npend + take;
        size_t used = filter_run(p, comb, n, 0);
        if (used < p->npend) {
            /* Still undecided: only when the chunk was that short. */
            assert(take == len && n - used <= sizeof(p->pend));
            memmove(p->pend, comb + used, n - used);
            p->npend = n - used;
            return;
        }
        used -= p->npend;
        p->npend = 0;
        s += used;
        len -= used;
    }
    size_t used = filter_run(p, s, len, 0);
    assert(len - used <= sizeof(p->pend));
    memcpy(p->pend, s + used, len - used);
    p->npend = len - used;
}

static void feed_input(struct es_feed_parser *p, const char *buf, size_t len)
{
    while (len && !p->halted) {
        size_t n = len < PUSH_CHUNK ? len : PUSH_CHUNK;
        if (p->mode == MODE_LIBXML)
            parse_chunk(p, buf, n, 0);
        else
            feed_filtered(p, (const unsigned char *)buf, n);
        buf += n;
        len -= n;
    }
}

static int label_in(const char *label, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(label, list[i]) == 0)
            return 1;
    return 0;
}

static const char *const utf8_labels[] = {
    "utf-8",          "utf8",      "unicode-1-1-utf-8", "us-ascii", "ascii",
    "ansi_x3.4-1968", "iso646-us", "x-unicode20utf8",   NULL,
};

/* WHATWG: every Latin-1 label means Windows-1252. */
static const char *const cp1252_labels[] = {
    "iso-8859-1", "iso8859-1",    "iso_8859-1",  "iso_8859-1:1987",
    "latin1",     "latin-1",      "l1",          "cp819",
    "ibm819",     "iso-ir-100",   "csisolatin1", "iso88591",
    "8859-1",     "windows-1252", "cp1252",      "x-cp1252",
    "cp-1252",    "win-1252",     NULL,
};

/* Finds encoding="..." in an XML declaration at the start of @s. */
static int decl_encoding(const char *s, size_t len, char *out, size_t outsz)
{
    if (len < 6 || memcmp(s, "<?xml", 5) != 0 || !is_ws((unsigned char)s[5]))
        return 0;
    const char *end = memchr(s, '>', len);
    size_t n = end ? (size_t)(end - s) : len;
    for (size_t i = 5; i + 8 < n; i++) {
        if (memcmp(s + i, "encoding", 8) != 0)
            continue;
        size_t j = i + 8;
        while (j < n && is_ws((unsigned char)s[j]))
            j++;
        if (j >= n || s[j] != '=')
            return 0;
        j++;
        while (j < n && is_ws((unsigned char)s[j]))
            j++;
        if (j >= n || (s[j] != '"' && s[j] != '\''))
            return 0;
        char q = s[j++];
        size_t k = 0;
        while (j < n && s[j] != q && k + 1 < outsz)
            out[k++] = s[j++];
        out[k] = '\0';
        return k > 0;
    }
    return 0;
}

/* Lower-cases and trims a charset label. */
static void norm_label(const char *in, char *out, size_t outsz)
{
    size_t k = 0;
    while (*in && (is_ws((unsigned char)*in) || *in == '"' || *in == '\''))
        in++;
    for (; *in && k + 1 < outsz && !is_ws((unsigned char)*in) && *in != '"' &&
           *in != '\'' && *in != ';';
         in++)
        out[k++] = (char)(*in >= 'A' && *in <= 'Z' ? *in + 32 : *in);
    out[k] = '\0';
}

/* Decides how the bytes are to be decoded, creates the libxml2 parser and
 * feeds it the bytes held so far. */
/* Keeps the first bytes of a document that does not start with markup,
 * printable ASCII only, to say what it is instead ("# My notes", "?ELF"). */
static void note_lead(struct es_feed_parser *p)
{
    const unsigned char *h = (const unsigned char *)p->head.ptr;
    size_t i = 0, len = p->head.len, n = 0;
    if (len >= 3 && h[0] == 0xEF && h[1] == 0xBB && h[2] == 0xBF)
        i = 3;
    while (i < len && is_ws(h[i]))
        i++;
    if (i == len || h[i] == '<' || h[i] == 0 || h[i] == 0xFE || h[i] == 0xFF)
        return; /* markup, or UTF-16, which libxml2 judges */
    for (; i < len && n < sizeof(p->lead) - 1 && h[i] != '\n'; i++)
        p->lead[n++] = h[i] >= 0x20 && h[i] < 0x7f ? (char)h[i] : '?';
    p->lead[n] = '\0';
}

static void start_parser(struct es_feed_parser *p)
{
    const unsigned char *h = (const unsigned char *)p->head.ptr;
    size_t len = p->head.len, skip = 0;
    char label[64] = "";
    const char *utf16 = NULL;

    note_lead(p);

    if (len >= 2 && h[0] == 0xFF && h[1] == 0xFE) {
        utf16 = "UTF-16LE";
        skip = 2;
    } else if (len >= 2 && h[0] == 0xFE && h[1] == 0xFF) {
        utf16 = "UTF-16BE";
        skip = 2;
    } else if (len >= 4 && h[0] == '<' && h[1] == 0 && h[2] != 0 && h[3] == 0) {
        utf16 = "UTF-16LE";
    } else if (len >= 4 && h[0] == 0 && h[1] == '<' && h[2] == 0 && h[3] != 0) {
        utf16 = "UTF-16BE";
    }
    if (utf16) {
        p->mode = MODE_LIBXML;
        p->handler = xmlFindCharEncodingHandler(utf16);
    } else {
        int bom = len >= 3 && h[0] == 0xEF && h[1] == 0xBB && h[2] == 0xBF;
        if (bom)
            skip = 3;
        /* Blank lines before the declaration (a PHP classic) are fatal to
         * an XML parser; drop them. */
        size_t ws = skip;
        unsigned lines = 0;
        while (ws < len && is_ws(h[ws]))
            lines += h[ws++] == '\n';
        if (len - ws >= 5 && memcmp(h + ws, "<?xml", 5) == 0) {
            skip = ws;
            p->line_offset = lines;
        }
        char declared[64], decl_label[64] = "";
        if (decl_encoding((const char *)h + skip, len - skip, declared,
                          sizeof(declared)))
            norm_label(declared, decl_label, sizeof(decl_label));
        if (bom) {
            snprintf(label, sizeof(label), "utf-8");
        } else if (p->charset && *p->charset) {
            /* The header wins (RFC 7303), but for one case: a server's
             * default Latin-1 ("text/xml; charset=ISO-8859-1") over a
             * document that declares UTF-8, a mislabel common enough that
             * the document is the better witness of its bytes. UTF-8 mode
             * still reads a stray Latin-1 byte as Windows-1252, so a
             * document that was Latin-1 after all reads right too. */
            norm_label(p->charset, label, sizeof(label));
            if (label_in(label, cp1252_labels) && decl_label[0] &&
                label_in(decl_label, utf8_labels))
                snprintf(label, sizeof(label), "%s", decl_label);
        } else if (decl_label[0]) {
            snprintf(label, sizeof(label), "%s", decl_label);
        }
        if (!label[0] || label_in(label, utf8_labels) ||
            strncmp(label, "utf-16", 6) == 0 ||
            strncmp(label, "utf-32", 6) == 0 || strcmp(label, "ucs-2") == 0) {
            /* UTF-16 declared on 8-bit content is a mislabel. */
            p->mode = MODE_UTF8;
        } else if (label_in(label, cp1252_labels)) {
            p->mode = MODE_CP1252;
        } else {
            p->handler = xmlFindCharEncodingHandler(label);
            if (p->handler) {
                p->mode = MODE_LIBXML;
            } else {
                p->mode = MODE_UTF8;
                char what[128];
                snprintf(what, sizeof(what),
                         "unknown encoding '%.40s', read as UTF-8", label);
                note_encoding(p, what);
            }
        }
    }

    xmlSAXHandler sax = sax_template;
    p->ctxt = xmlCreatePushParserCtxt(&sax, p, NULL, 0, NULL);
    if (!p->ctxt) {
        p->rc = es_error_set(ES_ERROR, "feed '%s': cannot create XML parser",
                             p->source ? p->source : "");
        p->halted = 1;
        return;
    }
    int opts = XML_PARSE_NONET | XML_PARSE_RECOVER | XML_PARSE_IGNORE_ENC;
    if (p->max_depth > 256)
        opts |= XML_PARSE_HUGE;
    xmlCtxtUseOptions(p->ctxt, opts);
    if (p->mode == MODE_LIBXML && p->handler) {
        /* The input buffer owns the handler from here on. */
        xmlSwitchToEncoding(p->ctxt, p->handler);
        p->handler = NULL;
    }
    feed_input(p, p->head.ptr + skip, len - skip);
    es_buf_release(&p->head);
}

/* Whether enough of the document has arrived to pick its encoding. */
static int head_complete(const struct es_feed_parser *p)
{
    const char *h = p->head.ptr;
    size_t len = p->head.len;
    if (len >= HEAD_MAX)
        return 1;
    if (len < 4)
        return 0;
    size_t i = 0;
    if ((unsigned char)h[0] == 0xEF)
        i = 3;
    while (i < len && is_ws((unsigned char)h[i]))
        i++;
    if (len - i < 5)
        return memcmp(h + i, "<?xml", len - i) != 0;
    if (memcmp(h + i, "<?xml", 5) != 0)
        return 1;
    return memchr(h + i, '>', len - i) != NULL;
}

/* A document whose first character, after a BOM and white space, is "{"
 * or "[" is JSON: when the head held so far shows one, switches the
 * parser to holding the document whole (from the head on) for
 * jsonfeed.c, which reads a JSON Feed or says what the JSON is not.
 * Returns 1 when it switched. */
static int switch_to_json(struct es_feed_parser *p)
{
    const char *h = p->head.ptr;
    size_t i = 0, len = p->head.len;
    if (len >= 3 && memcmp(h, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < len && is_ws((unsigned char)h[i]))
        i++;
    if (i == len || (h[i] != '{' && h[i] != '['))
        return 0;
    p->json = 1;
    es_buf_add(&p->jbuf, h, len);
    return 1;
}

static void finish_json(struct es_feed_parser *p)
{
    struct es_jsonfeed_opts o = {
        .source = p->source,
        .base_url = p->base_url,
        .meta = p->meta,
        .emit = p->emit,
        .payload = p->payload,
    };
    size_t skipped;
    char why[400];
    int rc = es_jsonfeed_parse(p->jbuf.ptr, p->jbuf.len, &o, &p->count,
                               &skipped, why, sizeof(why));
    p->format = FMT_JSON;
    p->meta_sent = 1;
    if (rc == ES_EPARSE)
        problem(p, 1, "%s", why);
    else if (rc)
        p->rc = rc;
    else if (skipped)
        snprintf(p->note, sizeof(p->note),
                 "%zu JSON Feed item%s skipped: not an object", skipped,
                 skipped == 1 ? "" : "s");
}

/* ==== Public API ==== */

struct es_feed_parser *es_feed_parser_new(const struct es_feed_opts *opts,
                                          es_item_cb emit, void *payload)
{
    assert(emit);
    struct es_feed_parser *p = es_xcalloc(1, sizeof(*p));
    xmlInitParser();
    if (opts) {
        p->source = es_xstrdup(opts->source);
        p->base_url = es_xstrdup(opts->base_url);
        p->charset = es_xstrdup(opts->charset);
        p->max_size = opts->max_size;
        p->max_depth = opts->max_depth;
        p->meta = opts->meta;
    }
    if (!p->max_size)
        p->max_size = DEFAULT_MAX_SIZE;
    if (!p->max_depth)
        p->max_depth = DEFAULT_MAX_DEPTH;
    p->emit = emit;
    p->payload = payload;
    for (size_t i = 0; i < NENTRY_BUFS; i++)
        es_buf_init(entry_buf(&p->e, i));
    es_buf_init(&p->f.title);
    es_buf_init(&p->f.link);
    es_buf_init(&p->f.lang);
    es_buf_init(&p->f.name);
    es_buf_init(&p->f.email);
    es_buf_init(&p->head);
    es_buf_init(&p->jbuf);
    es_buf_init(&p->xbuf);
    es_buf_init(&p->text);
    es_buf_init(&p->tmp);
    es_buf_init(&p->fix);
    es_buf_init(&p->out);
    es_buf_init(&p->aname);
    entry_reset(&p->e);
    return p;
}

int es_feed_parser_push(struct es_feed_parser *p, const char *buf, size_t len)
{
    if (p->rc)
        return p->rc;
    if (p->finished || len == 0)
        return 0;
    if (len > p->max_size - p->total) {
        if (!p->error[0])
            snprintf(p->error, sizeof(p->error), "document over %zu bytes",
                     p->max_size);
        if (p->source)
            p->rc =
                es_error_set(ES_ETOOBIG, "feed '%s': %s", p->source, p->error);
        else
            p->rc = es_error_set(ES_ETOOBIG, "%s", p->error);
        halt(p);
        return p->rc;
    }
    p->total += len;
    if (p->json) {
        es_buf_add(&p->jbuf, buf, len);
        return 0;
    }
    if (!p->ctxt) {
        size_t take = len;
        if (p->head.len + take > HEAD_MAX)
            take = HEAD_MAX > p->head.len ? HEAD_MAX - p->head.len : 0;
        es_buf_add(&p->head, buf, take);
        if (!head_complete(p))
            return 0;
        if (switch_to_json(p)) {
            es_buf_add(&p->jbuf, buf + take, len - take);
            return 0;
        }
        start_parser(p);
        buf += take;
        len -= take;
    }
    feed_input(p, buf, len);
    return p->rc;
}

int es_feed_parser_finish(struct es_feed_parser *p)
{
    const char *src = p->source ? p->source : "";
    if (p->finished)
        goto result;
    p->finished = 1;
    if (p->rc)
        goto result;
    if (p->json || (!p->ctxt && switch_to_json(p))) {
        finish_json(p);
        goto result;
    }
    if (!p->ctxt) {
        size_t i = 0;
        while (i < p->head.len && is_ws((unsigned char)p->head.ptr[i]))
            i++;
        if (i == p->head.len) {
            problem(p, 1, "not an RSS, Atom or JSON feed (empty document)");
            goto result;
        }
        start_parser(p);
    }
    if (p->npend) {
        filter_run(p, p->pend, p->npend, 1);
        p->npend = 0;
    }
    parse_chunk(p, NULL, 0, 1);
    if (!p->rc && p->format != FMT_UNKNOWN && !p->meta_sent)
        send_meta(p);

result:
    if (p->rc)
        return p->rc;
    if (p->format == FMT_UNKNOWN) {
        if (!strstr(p->error, "not an RSS, Atom or JSON feed")) {
            char detail[300];
            if (p->lead[0])
                snprintf(detail, sizeof(detail),
                         "not XML or JSON: it starts with \"%s\"", p->lead);
            else
                snprintf(detail, sizeof(detail), "%s", p->libxml_first);
            p->error[0] = '\0';
            if (detail[0])
                problem(p, 1, "not an RSS, Atom or JSON feed (%s)", detail);
            else
                problem(p, 1, "not an RSS, Atom or JSON feed");
        }
        p->failed = 1;
    }
    if (!p->failed)
        return 0;
    if (p->source)
        return es_error_set(ES_EPARSE, "feed '%s': %s", src, p->error);
    return es_error_set(ES_EPARSE, "%s", p->error);
}

size_t es_feed_parser_count(const struct es_feed_parser *p)
{
    return p->count;
}

const char *es_feed_parser_error(const struct es_feed_parser *p)
{
    if (p->error[0])
        return p->error;
    if (p->note[0])
        return p->note;
    return NULL;
}

void es_feed_parser_free(struct es_feed_parser *p)
{
    if (!p)
        return;
    if (p->ctxt) {
        if (p->ctxt->myDoc)
            xmlFreeDoc(p->ctxt->myDoc); /* entity declarations, SAX mode */
        xmlFreeParserCtxt(p->ctxt);
    }
    if (p->handler)
        xmlCharEncCloseFunc(p->handler);
    while (p->nframes) {
        struct frame *f = &p->frames[--p->nframes];
        free(f->base);
        free(f->lang);
    }
    free(p->frames);
    ent_free_all(p);
    free(p->scratch.name);
    free(p->scratch.content);
    entry_release(&p->e);
    for (size_t i = 0; i < p->npending; i++)
        es_item_free(p->pending[i]);
    free(p->pending);
    es_buf_release(&p->f.title);
    es_buf_release(&p->f.link);
    es_buf_release(&p->f.lang);
    es_buf_release(&p->f.name);
    es_buf_release(&p->f.email);
    es_buf_release(&p->head);
    es_buf_release(&p->jbuf);
    es_buf_release(&p->xbuf);
    es_buf_release(&p->text);
    es_buf_release(&p->tmp);
    es_buf_release(&p->fix);
    es_buf_release(&p->out);
    es_buf_release(&p->aname);
    free(p->catv);
    free(p->atom_alias);
    free(p->source);
    free(p->base_url);
    free(p->charset);
    free(p);
}

int es_feed_parser_push_fd(struct es_feed_parser *p, int fd)
{
    enum { READ_SIZE = 256 * 1024 };
    char *buf = es_xmalloc(READ_SIZE);
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, buf, READ_SIZE);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = es_error_set(ES_ERROR, "cannot read: %s", strerror(errno));
            break;
        }
        if (n == 0)
            break;
        rc = es_feed_parser_push(p, buf, (size_t)n);
        if (rc != 0)
            break;
    }
    free(buf);
    return rc;
}

int es_feed_parse(const char *buf, size_t len, const struct es_feed_opts *opts,
                  es_item_cb emit, void *payload, size_t *count)
{
    struct es_feed_parser *p = es_feed_parser_new(opts, emit, payload);
    int rc = 0;
    /* Pushing in pieces keeps libxml2 from copying the whole document. */
    for (size_t off = 0; off < len && rc == 0; off += PUSH_CHUNK) {
        size_t n = len - off < PUSH_CHUNK ? len - off : PUSH_CHUNK;
        rc = es_feed_parser_push(p, buf + off, n);
    }
    if (rc == 0)
        rc = es_feed_parser_finish(p);
    if (count)
        *count = p->count;
    es_feed_parser_free(p);
    return rc;
}
