/* query.c - the listening query language: parse, match, render
 *
 * Every source filters what it collects with the same query, and pushes
 * what it can of it into the platform's own search. The query is parsed
 * once into a small tree of AND, OR, NOT and leaves (a term or a phrase,
 * already case-folded and split into words). Matching folds an item's
 * fields once into one buffer and finds each leaf with strstr() plus
 * word-boundary checks, so a poll of thousands of items costs one fold per
 * item and no allocation per term. Rendering first relaxes the tree into
 * one that is never narrower than the query (what a platform cannot
 * express is dropped in the safe direction), then prints it.
 *
 * The semantics are documented in include/earshot/query.h.
 */
#include "earshot/query.h"

#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "earshot/alloc.h"
#include "earshot/buf.h"
#include "earshot/error.h"

/* ==== Compiled form ==== */

enum node_kind { N_LEAF, N_AND, N_OR, N_NOT };

/* Nodes live in one array and refer to each other by index, so a tree is
 * freed with one free() and copied trees never share pointers. */
struct node {
    enum node_kind kind;
    int leaf;  /* N_LEAF: index into es_query.leaves */
    int first; /* N_AND, N_OR, N_NOT: first child; -1 for a leaf */
    int last;  /* last child, for appending */
    int next;  /* next sibling, or -1 */
};

struct tree {
    struct node *v;
    size_t n;
    size_t alloc;
};

struct word {
    const char *s; /* folded, NUL-terminated inside leaf.folded */
    size_t len;
    unsigned char lb; /* the text needs a word boundary before it */
    unsigned char rb; /* ... and after it */
};

struct leaf {
    char *orig;         /* as written: term without '*', phrase collapsed */
    char *folded;       /* the folded words, each NUL-terminated */
    size_t folded_len;  /* bytes of folded, NULs included */
    struct word *words; /* nwords entries; one for a term */
    size_t nwords;
    int phrase; /* written in quotes */
    int prefix; /* term*: no boundary after the word */
    int canon;  /* first leaf equal to this one, for the alternatives */
};

struct es_query {
    char *text; /* as given; "" for NULL */
    struct tree t;
    int root; /* index into t.v; -1 for the empty query */
    struct leaf *leaves;
    size_t nleaves;
    size_t aleaves;
};

static int tree_new(struct tree *t, enum node_kind kind, int leaf)
{
    if (t->n == t->alloc) {
        t->alloc = t->alloc ? 2 * t->alloc : 16;
        t->v = es_xrealloc(t->v, t->alloc * sizeof(*t->v));
    }
    t->v[t->n] = (struct node){
        .kind = kind,
        .leaf = leaf,
        .first = -1,
        .last = -1,
        .next = -1,
    };
    return (int)t->n++;
}

/* Appends @child to the AND or OR node @parent; a child of the same kind
 * gives its children instead ((a b) c is a b c), so printing never has to
 * bracket an AND inside an AND. */
static void tree_append(struct tree *t, int parent, int child)
{
    if (t->v[child].kind == t->v[parent].kind) {
        int c = t->v[child].first;
        while (c >= 0) {
            int next = t->v[c].next;
            tree_append(t, parent, c);
            c = next;
        }
        return;
    }
    t->v[child].next = -1;
    if (t->v[parent].last < 0)
        t->v[parent].first = child;
    else
        t->v[t->v[parent].last].next = child;
    t->v[parent].last = child;
}

/* Returns NOT @child, where NOT NOT x is x. */
static int tree_not(struct tree *t, int child)
{
    if (t->v[child].kind == N_NOT)
        return t->v[child].first;
    int n = tree_new(t, N_NOT, -1);
    t->v[n].first = t->v[n].last = child;
    return n;
}

/* ==== Characters and folding ==== */

enum cp_class {
    C_SEP,  /* space, punctuation, symbols, emoji: between words */
    C_WORD, /* letter, mark, digit, connector: forms word boundaries */
    C_WIDE, /* CJK letter: part of text, but never a boundary */
};

static enum cp_class cp_class(utf8proc_int32_t cp)
{
    if (cp < 0x80) {
        int low = cp | 0x20;
        return (low >= 'a' && low <= 'z') || (cp >= '0' && cp <= '9') ||
                       cp == '_'
                   ? C_WORD
                   : C_SEP;
    }
    switch (utf8proc_category(cp)) {
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
    case UTF8PROC_CATEGORY_PC:
        /* East Asian wide letters are written without spaces, so a word
         * boundary means nothing there. */
        return utf8proc_charwidth(cp) >= 2 ? C_WIDE : C_WORD;
    default:
        return C_SEP;
    }
}

/* Decodes the code point at @s (before @end). Returns its length, at
 * least 1; a broken sequence reads as one U+FFFD byte. */
static size_t next_cp(const char *s, const char *end, utf8proc_int32_t *cp)
{
    if ((unsigned char)*s < 0x80) {
        *cp = (unsigned char)*s;
        return 1;
    }
    utf8proc_ssize_t n =
        utf8proc_iterate((const utf8proc_uint8_t *)s, end - s, cp);
    if (n <= 0) {
        *cp = 0xFFFD;
        return 1;
    }
    return (size_t)n;
}

/* Returns the code point that ends just before @p (p > start). */
static utf8proc_int32_t prev_cp(const char *start, const char *p)
{
    const char *q = p - 1;
    utf8proc_int32_t cp;

    while (q > start && p - q < 4 && ((unsigned char)*q & 0xC0) == 0x80)
        q--;
    next_cp(q, p, &cp);
    return cp;
}

/* Returns the length of the whitespace character at @s, or 0. */
static size_t space_at(const char *s, const char *end)
{
    unsigned char c = (unsigned char)*s;
    utf8proc_int32_t cp;

    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
        c == '\v')
        return 1;
    if (c < 0x80)
        return 0;
    utf8proc_ssize_t n =
        utf8proc_iterate((const utf8proc_uint8_t *)s, end - s, &cp);
    if (n <= 0)
        return 0;
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
        return (size_t)n;
    default:
        return 0;
    }
}

/* Typographic apostrophes and non-breaking hyphens read as the ASCII
 * ones, so "don’t" finds don't. */
static utf8proc_int32_t fold_custom(utf8proc_int32_t cp, void *data)
{
    (void)data;
    switch (cp) {
    case 0x2018:
    case 0x2019:
    case 0x02BC:
        return '\'';
    case 0x2010:
    case 0x2011:
        return '-';
    default:
        return cp;
    }
}

#define FOLD_OPTS                                                              \
    (UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE)

/* Code points folded on the stack; a longer text costs one allocation. */
#define FOLD_STACK 1024

/* Appends the folded @buf to @out. Returns 0, or -1 when @buf is not
 * valid UTF-8 (then nothing is appended). */
static int fold_utf8(struct es_buf *out, const char *buf, size_t len)
{
    utf8proc_int32_t stack[FOLD_STACK];
    utf8proc_int32_t *cps = stack;
    utf8proc_ssize_t cap = FOLD_STACK - 1; /* reencode needs a spare slot */
    utf8proc_ssize_t n;

    n = utf8proc_decompose_custom((const utf8proc_uint8_t *)buf,
                                  (utf8proc_ssize_t)len, cps, cap, FOLD_OPTS,
                                  fold_custom, NULL);
    if (n < 0)
        return -1;
    if (n > cap) {
        cap = n;
        cps = es_xmalloc(((size_t)cap + 1) * sizeof(*cps));
        n = utf8proc_decompose_custom((const utf8proc_uint8_t *)buf,
                                      (utf8proc_ssize_t)len, cps, cap,
                                      FOLD_OPTS, fold_custom, NULL);
    }
    if (n >= 0 && n <= cap)
        n = utf8proc_reencode(cps, n, FOLD_OPTS);
    else
        n = -1;
    if (n >= 0)
        es_buf_add(out, cps, (size_t)n);
    if (cps != stack)
        free(cps);
    return n < 0 ? -1 : 0;
}

/* Appends the case-folded NFC form of @buf to @out. ASCII, by far the
 * common case, is lower-cased by hand; invalid UTF-8 is repaired first. */
static void fold(struct es_buf *out, const char *buf, size_t len)
{
    size_t i = 0;

    while (i < len && (unsigned char)buf[i] < 0x80)
        i++;
    if (i == len) {
        es_buf_grow(out, len);
        for (i = 0; i < len; i++) {
            char c = buf[i];
            out->ptr[out->len + i] =
                (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
        }
        out->len += len;
        out->ptr[out->len] = '\0';
        return;
    }
    if (fold_utf8(out, buf, len) == 0)
        return;
    struct es_buf fixed = ES_BUF_INIT;
    es_buf_add_valid_utf8(&fixed, buf, len);
    if (fold_utf8(out, fixed.ptr, fixed.len) != 0)
        es_buf_add(out, fixed.ptr, fixed.len);
    es_buf_release(&fixed);
}

/* ==== Matching ==== */

static int boundary_before(const char *seg, const char *p)
{
    return p == seg || cp_class(prev_cp(seg, p)) != C_WORD;
}

static int boundary_after(const char *p, const char *end)
{
    utf8proc_int32_t cp;

    if (p == end)
        return 1;
    next_cp(p, end, &cp);
    return cp_class(cp) != C_WORD;
}

/* Returns 1 when @w is at @p in the segment [@seg, @end) with the
 * boundaries it needs. */
static int word_at(const struct word *w, const char *seg, const char *end,
                   const char *p)
{
    if ((size_t)(end - p) < w->len || memcmp(p, w->s, w->len) != 0)
        return 0;
    if (w->lb && !boundary_before(seg, p))
        return 0;
    if (w->rb && !boundary_after(p + w->len, end))
        return 0;
    return 1;
}

/* Returns 1 when @l occurs in the NUL-terminated segment [@seg, @end).
 * After the first word, each next word is taken at the leftmost place
 * past only separators; since a word can only start where the separators
 * end or inside them (when it starts with one), leftmost is never worse. */
static int leaf_in_segment(const struct leaf *l, const char *seg,
                           const char *end)
{
    const struct word *w0 = &l->words[0];

    for (const char *p = strstr(seg, w0->s); p; p = strstr(p + 1, w0->s)) {
        const char *pos;
        size_t i;

        if (!word_at(w0, seg, end, p))
            continue;
        pos = p + w0->len;
        for (i = 1; i < l->nwords; i++) {
            const char *c = pos;
            utf8proc_int32_t cp;

            while (!word_at(&l->words[i], seg, end, c)) {
                if (c == end)
                    break;
                size_t n = next_cp(c, end, &cp);
                if (cp_class(cp) != C_SEP)
                    break;
                c += n;
            }
            if (!word_at(&l->words[i], seg, end, c))
                break;
            pos = c + l->words[i].len;
        }
        if (i == l->nwords)
            return 1;
    }
    return 0;
}

/* @text holds the folded fields, each followed by a NUL. */
static int leaf_matches(const struct leaf *l, const struct es_buf *text)
{
    const char *p = text->ptr;
    const char *end = text->ptr + text->len;

    while (p < end) {
        size_t n = strlen(p);
        if (leaf_in_segment(l, p, p + n))
            return 1;
        p += n + 1;
    }
    return 0;
}

static int eval(const struct es_query *q, int n, const struct es_buf *text)
{
    const struct node *nd = &q->t.v[n];
    int c;

    switch (nd->kind) {
    case N_LEAF:
        return leaf_matches(&q->leaves[nd->leaf], text);
    case N_NOT:
        return !eval(q, nd->first, text);
    case N_AND:
        for (c = nd->first; c >= 0; c = q->t.v[c].next)
            if (!eval(q, c, text))
                return 0;
        return 1;
    case N_OR:
        for (c = nd->first; c >= 0; c = q->t.v[c].next)
            if (eval(q, c, text))
                return 1;
        return 0;
    }
    return 0;
}

int es_query_match(const struct es_query *q, const char *const *fields,
                   size_t nfields)
{
    struct es_buf text = ES_BUF_INIT;
    size_t total = 0;
    int rc;

    assert(q);
    if (q->root < 0)
        return 1;
    for (size_t i = 0; i < nfields; i++)
        if (fields[i])
            total += strlen(fields[i]) + 1;
    es_buf_grow(&text, total);
    for (size_t i = 0; i < nfields; i++) {
        if (!fields[i])
            continue;
        fold(&text, fields[i], strlen(fields[i]));
        es_buf_addch(&text, '\0');
    }
    rc = eval(q, q->root, &text);
    es_buf_release(&text);
    return rc;
}

/* ==== Parsing ==== */

enum tok_kind {
    T_END,
    T_LPAREN,
    T_RPAREN,
    T_AND,
    T_OR,
    T_NOT,
    T_MINUS,
    T_TERM,
    T_PHRASE,
};

struct parser {
    struct es_query *q;
    const char *s;      /* the query text */
    size_t len;         /* its length */
    size_t pos;         /* next byte to read */
    enum tok_kind kind; /* lookahead token */
    size_t tpos;        /* its first byte */
    size_t tlen;        /* its length (a phrase's with the quotes) */
    int depth;          /* open parentheses */
    char *err;          /* caller's message buffer, or NULL */
    size_t errsize;
};

static int fail(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Records the message for the caller and returns ES_EINVALID. */
static int fail(struct parser *p, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (p->err && p->errsize > 0)
        snprintf(p->err, p->errsize, "%s", msg);
    return es_error_set(ES_EINVALID, "%s", msg);
}

/* Reads the next token into p->kind, p->tpos, p->tlen. */
static int lex(struct parser *p)
{
    const char *s = p->s;
    const char *end = s + p->len;
    int after_minus = p->kind == T_MINUS;
    size_t n;

    while (p->pos < p->len && (n = space_at(s + p->pos, end)) > 0)
        p->pos += n;
    p->tpos = p->pos;
    p->tlen = 1;
    if (p->pos == p->len) {
        p->kind = T_END;
        p->tlen = 0;
        return 0;
    }
    switch (s[p->pos]) {
    case '(':
        p->kind = T_LPAREN;
        p->pos++;
        return 0;
    case ')':
        p->kind = T_RPAREN;
        p->pos++;
        return 0;
    case '"': {
        const char *close = memchr(s + p->pos + 1, '"', p->len - p->pos - 1);
        if (!close)
            return fail(p, "unterminated quote starting at column %zu",
                        p->pos + 1);
        p->kind = T_PHRASE;
        p->tlen = (size_t)(close - (s + p->pos)) + 1;
        p->pos += p->tlen;
        return 0;
    }
    case '-':
        /* A dash touching what follows negates it; one standing alone is
         * a mistake, not a search for "-". */
        if (p->pos + 1 == p->len || s[p->pos + 1] == ')' ||
            space_at(s + p->pos + 1, end))
            return fail(p, "missing term after '-' at column %zu", p->pos + 1);
        p->kind = T_MINUS;
        p->pos++;
        return 0;
    default:
        break;
    }
    while (p->pos < p->len && s[p->pos] != '(' && s[p->pos] != ')' &&
           s[p->pos] != '"' && !space_at(s + p->pos, end))
        p->pos++;
    p->kind = T_TERM;
    p->tlen = p->pos - p->tpos;
    /* -AND searches for the word: a dash always takes a term. */
    if (!after_minus) {
        const char *t = s + p->tpos;
        if (p->tlen == 3 && memcmp(t, "AND", 3) == 0)
            p->kind = T_AND;
        else if (p->tlen == 2 && memcmp(t, "OR", 2) == 0)
            p->kind = T_OR;
        else if (p->tlen == 3 && memcmp(t, "NOT", 3) == 0)
            p->kind = T_NOT;
    }
    return 0;
}

/* Sets the boundary flags of @w from its first and last characters. */
static void word_bounds(struct word *w, int prefix)
{
    const char *end = w->s + w->len;
    utf8proc_int32_t first, last;
    char c = w->s[0];

    next_cp(w->s, end, &first);
    last = prev_cp(w->s, end);
    w->lb = cp_class(first) == C_WORD || c == '#' || c == '@' || c == '$';
    w->rb = !prefix && cp_class(last) == C_WORD;
}

/* Adds a leaf for @orig (taken), folding it and splitting it into words
 * at spaces. Returns 0, or -1 when it folds to no word at all. */
static int add_leaf(struct parser *p, char *orig, int phrase, int prefix,
                    int *out)
{
    struct es_query *q = p->q;
    struct es_buf f = ES_BUF_INIT;
    struct leaf *l;
    size_t i, start;

    if (q->nleaves == q->aleaves) {
        q->aleaves = q->aleaves ? 2 * q->aleaves : 8;
        q->leaves = es_xrealloc(q->leaves, q->aleaves * sizeof(*q->leaves));
    }
    l = &q->leaves[q->nleaves];
    memset(l, 0, sizeof(*l));
    l->orig = orig;
    l->phrase = phrase;
    l->prefix = prefix;
    fold(&f, orig, strlen(orig));
    l->folded_len = f.len;
    l->folded = es_buf_detach(&f);
    /* Words: at most one per space, plus one. */
    l->words = es_xcalloc(l->folded_len / 2 + 1, sizeof(*l->words));
    for (i = start = 0; i <= l->folded_len; i++) {
        if (i < l->folded_len && l->folded[i] != ' ')
            continue;
        l->folded[i] = '\0';
        if (i > start) {
            struct word *w = &l->words[l->nwords++];
            w->s = l->folded + start;
            w->len = i - start;
            word_bounds(w, prefix);
        }
        start = i + 1;
    }
    if (l->nwords == 0) {
        free(l->words);
        free(l->folded);
        free(l->orig);
        return -1;
    }
    l->canon = (int)q->nleaves;
    for (i = 0; i < q->nleaves; i++) {
        const struct leaf *o = &q->leaves[i];
        if (o->phrase == phrase && o->prefix == prefix &&
            o->folded_len == l->folded_len &&
            memcmp(o->folded, l->folded, l->folded_len) == 0) {
            l->canon = o->canon;
            break;
        }
    }
    *out = tree_new(&q->t, N_LEAF, (int)q->nleaves++);
    return 0;
}

static int parse_term(struct parser *p, int *out)
{
    const char *raw = p->s + p->tpos;
    size_t len = p->tlen;
    const char *star = memchr(raw, '*', len);
    int prefix = 0;

    if (star) {
        size_t col = (size_t)(star - p->s) + 1;
        utf8proc_int32_t cp = 0;
        if (star != raw + len - 1)
            return fail(p, "misplaced '*' at column %zu", col);
        prefix = 1;
        len--;
        if (len > 0)
            cp = prev_cp(raw, raw + len);
        if (len == 0 || cp_class(cp) == C_SEP)
            return fail(p, "misplaced '*' at column %zu", col);
    }
    if (add_leaf(p, es_xstrndup(raw, len), 0, prefix, out) < 0)
        return fail(p, "empty term at column %zu", p->tpos + 1);
    return 0;
}

static int parse_phrase(struct parser *p, int *out)
{
    const char *s = p->s + p->tpos + 1;
    const char *end = p->s + p->tpos + p->tlen - 1;
    struct es_buf orig = ES_BUF_INIT;
    size_t n;

    /* Whitespace collapsed: the phrase as rendered for a platform. */
    while (s < end) {
        if ((n = space_at(s, end)) > 0) {
            s += n;
            continue;
        }
        const char *w = s;
        while (s < end && space_at(s, end) == 0)
            s++;
        if (orig.len > 0)
            es_buf_addch(&orig, ' ');
        es_buf_add(&orig, w, (size_t)(s - w));
    }
    if (orig.len == 0 || add_leaf(p, es_buf_detach(&orig), 1, 0, out) < 0) {
        es_buf_release(&orig);
        return fail(p, "empty phrase at column %zu", p->tpos + 1);
    }
    return 0;
}

static int parse_or(struct parser *p, const char *op, size_t op_pos, int *out);

static int starts_operand(enum tok_kind k)
{
    return k == T_TERM || k == T_PHRASE || k == T_LPAREN || k == T_NOT ||
           k == T_MINUS;
}

/* Reports the missing operand of @op (at @op_pos), or, at the start of an
 * expression (@op NULL), what stands where an operand should. */
static int missing(struct parser *p, const char *op, size_t op_pos)
{
    if (op)
        return fail(p, "missing term after '%s' at column %zu", op, op_pos + 1);
    switch (p->kind) {
    case T_AND:
        return fail(p, "missing term before 'AND' at column %zu", p->tpos + 1);
    case T_OR:
        return fail(p, "missing term before 'OR' at column %zu", p->tpos + 1);
    case T_RPAREN:
        return fail(p, "unmatched ')' at column %zu", p->tpos + 1);
    default:
        return fail(p, "missing term at column %zu", p->tpos + 1);
    }
}

static int parse_primary(struct parser *p, int *out)
{
    size_t open;
    int rc;

    switch (p->kind) {
    case T_TERM:
        rc = parse_term(p, out);
        break;
    case T_PHRASE:
        rc = parse_phrase(p, out);
        break;
    case T_LPAREN:
        open = p->tpos;
        if (++p->depth > ES_QUERY_MAX_DEPTH)
            return fail(p,
                        "parentheses nested deeper than %d levels at column "
                        "%zu",
                        ES_QUERY_MAX_DEPTH, open + 1);
        if ((rc = lex(p)) < 0)
            return rc;
        if (p->kind == T_RPAREN)
            return fail(p, "empty group at column %zu", open + 1);
        if (p->kind == T_END)
            return fail(p, "unmatched '(' at column %zu", open + 1);
        if ((rc = parse_or(p, NULL, 0, out)) < 0)
            return rc;
        if (p->kind != T_RPAREN)
            return fail(p, "unmatched '(' at column %zu", open + 1);
        p->depth--;
        break;
    default:
        return missing(p, NULL, 0);
    }
    if (rc < 0)
        return rc;
    return lex(p);
}

/* Negations are counted in a loop, not by recursion, so a long run of
 * NOTs cannot exhaust the stack; an even number cancels out. */
static int parse_unary(struct parser *p, const char *op, size_t op_pos,
                       int *out)
{
    int neg = 0;
    int rc;

    while (p->kind == T_NOT || p->kind == T_MINUS) {
        neg = !neg;
        op = p->kind == T_NOT ? "NOT" : "-";
        op_pos = p->tpos;
        if ((rc = lex(p)) < 0)
            return rc;
    }
    if (p->kind != T_TERM && p->kind != T_PHRASE && p->kind != T_LPAREN)
        return missing(p, op, op_pos);
    if ((rc = parse_primary(p, out)) < 0)
        return rc;
    if (neg)
        *out = tree_not(&p->q->t, *out);
    return 0;
}

static int parse_and(struct parser *p, const char *op, size_t op_pos, int *out)
{
    struct tree *t = &p->q->t;
    int first, n, and = -1;
    int rc;

    if ((rc = parse_unary(p, op, op_pos, &first)) < 0)
        return rc;
    for (;;) {
        op = NULL;
        if (p->kind == T_AND) {
            op = "AND";
            op_pos = p->tpos;
            if ((rc = lex(p)) < 0)
                return rc;
        } else if (!starts_operand(p->kind)) {
            break;
        }
        if ((rc = parse_unary(p, op, op_pos, &n)) < 0)
            return rc;
        if (and < 0) {
            and = tree_new(t, N_AND, -1);
            tree_append(t, and, first);
        }
        tree_append(t, and, n);
    }
    *out = and < 0 ? first : and;
    return 0;
}

static int parse_or(struct parser *p, const char *op, size_t op_pos, int *out)
{
    struct tree *t = &p->q->t;
    int first, n, or = -1;
    int rc;

    if ((rc = parse_and(p, op, op_pos, &first)) < 0)
        return rc;
    while (p->kind == T_OR) {
        op_pos = p->tpos;
        if ((rc = lex(p)) < 0)
            return rc;
        if ((rc = parse_and(p, "OR", op_pos, &n)) < 0)
            return rc;
        if (or < 0) {
            or = tree_new(t, N_OR, -1);
            tree_append(t, or, first);
        }
        tree_append(t, or, n);
    }
    *out = or < 0 ? first : or ;
    return 0;
}

int es_query_parse(struct es_query **out, const char *text, char *err,
                   size_t errsize)
{
    struct parser p = {
        .kind = T_END,
        .err = err,
        .errsize = errsize,
    };
    struct es_query *q = NULL;
    size_t len, i;
    int rc;

    assert(out);
    *out = NULL;
    if (err && errsize > 0)
        err[0] = '\0';
    if (!text)
        text = "";
    len = strlen(text);
    if (len > ES_QUERY_MAX_LEN)
        return fail(&p, "query is too long (%zu bytes, the limit is %d)", len,
                    ES_QUERY_MAX_LEN);
    if ((i = es_utf8_invalid_at(text, len)) < len)
        return fail(&p, "invalid UTF-8 at column %zu", i + 1);

    q = es_xcalloc(1, sizeof(*q));
    q->text = es_xstrdup(text);
    q->root = -1;
    p.q = q;
    p.s = q->text;
    p.len = len;
    if ((rc = lex(&p)) < 0)
        goto done;
    if (p.kind != T_END) {
        if ((rc = parse_or(&p, NULL, 0, &q->root)) < 0)
            goto done;
        /* parse_or() stops only at the end or at a ')' it cannot use. */
        if (p.kind != T_END) {
            rc = fail(&p, "unmatched ')' at column %zu", p.tpos + 1);
            goto done;
        }
    }
    *out = q;
    q = NULL;
    rc = 0;
done:
    es_query_free(q);
    return rc;
}

void es_query_free(struct es_query *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->nleaves; i++) {
        free(q->leaves[i].orig);
        free(q->leaves[i].folded);
        free(q->leaves[i].words);
    }
    free(q->leaves);
    free(q->t.v);
    free(q->text);
    free(q);
}

const char *es_query_text(const struct es_query *q)
{
    assert(q);
    return q->text;
}

/* ==== Rendering ==== */

/* relax() results besides a node index. */
#define R_TRUE  (-1) /* may match anything: nothing to push */
#define R_FALSE (-2) /* matches nothing (only ever under a NOT) */

/* Copies the subtree @n of @q into @out, relaxed so that it never matches
 * fewer items than @n where @positive (or never more, under an odd number
 * of NOTs), for a platform that cannot search by prefix, nor (@plain)
 * negate or alternate. A prefix term that must match becomes R_TRUE; one
 * that must not match keeps its stem, which matches no more than it does.
 * Returns a node index in @out, R_TRUE or R_FALSE. */
static int relax(const struct es_query *q, int n, int positive, int plain,
                 struct tree *out)
{
    const struct node *nd = &q->t.v[n];

    switch (nd->kind) {
    case N_LEAF:
        if (positive && q->leaves[nd->leaf].prefix)
            return R_TRUE;
        return tree_new(out, N_LEAF, nd->leaf);
    case N_NOT: {
        if (plain)
            return positive ? R_TRUE : R_FALSE;
        int c = relax(q, nd->first, !positive, plain, out);
        if (c == R_TRUE)
            return R_FALSE;
        if (c == R_FALSE)
            return R_TRUE;
        return tree_not(out, c);
    }
    case N_AND:
    case N_OR: {
        /* AND: a false child decides, a true one drops out; OR: dual. */
        int decides = nd->kind == N_AND ? R_FALSE : R_TRUE;
        int neutral = nd->kind == N_AND ? R_TRUE : R_FALSE;
        int parent = -1, only = -1;

        for (int c = nd->first; c >= 0; c = q->t.v[c].next) {
            int r = relax(q, c, positive, plain, out);
            if (r == decides)
                return r;
            if (r == neutral)
                continue;
            if (only < 0) {
                only = r;
                continue;
            }
            if (parent < 0) {
                parent = tree_new(out, nd->kind, -1);
                tree_append(out, parent, only);
            }
            tree_append(out, parent, r);
        }
        if (only < 0)
            return neutral;
        return parent < 0 ? only : parent;
    }
    }
    return R_TRUE;
}

/* Prints leaf @l; @negated: right after a '-', where an operator word is
 * a term already ("acme -AND"). */
static void print_leaf_at(const struct leaf *l, int negated, struct es_buf *out)
{
    /* Elsewhere a term that reads as an operator ("--NOT" is the word NOT
     * twice negated) is quoted, or the rendering would read it as one. */
    int quote = l->phrase || (!negated && (strcmp(l->orig, "AND") == 0 ||
                                           strcmp(l->orig, "OR") == 0 ||
                                           strcmp(l->orig, "NOT") == 0));
    if (quote)
        es_buf_addch(out, '"');
    es_buf_adds(out, l->orig);
    if (quote)
        es_buf_addch(out, '"');
}

static void print_leaf(const struct leaf *l, struct es_buf *out)
{
    print_leaf_at(l, 0, out);
}

/* Prints the relaxed tree in the X/Reddit/GitHub syntax. Composite
 * children are always bracketed: platforms disagree on whether OR binds
 * tighter than the implicit AND (on X it does). */
static void print_boolean(const struct es_query *q, const struct tree *t, int n,
                          struct es_buf *out)
{
    const struct node *nd = &t->v[n];

    switch (nd->kind) {
    case N_LEAF:
        print_leaf(&q->leaves[nd->leaf], out);
        break;
    case N_NOT:
        es_buf_addch(out, '-');
        if (t->v[nd->first].kind == N_LEAF) {
            print_leaf_at(&q->leaves[t->v[nd->first].leaf], 1, out);
        } else {
            es_buf_addch(out, '(');
            print_boolean(q, t, nd->first, out);
            es_buf_addch(out, ')');
        }
        break;
    case N_AND:
    case N_OR:
        for (int c = nd->first; c >= 0; c = t->v[c].next) {
            int wrap = t->v[c].kind == N_AND || t->v[c].kind == N_OR;
            if (c != nd->first)
                es_buf_adds(out, nd->kind == N_AND ? " " : " OR ");
            if (wrap)
                es_buf_addch(out, '(');
            print_boolean(q, t, c, out);
            if (wrap)
                es_buf_addch(out, ')');
        }
        break;
    }
}

char *es_query_render(const struct es_query *q, enum es_query_style style)
{
    struct tree t = { 0 };
    struct es_buf out = ES_BUF_INIT;
    char *res = NULL;
    int r;

    assert(q);
    if (q->root < 0)
        return es_xstrdup("");
    r = relax(q, q->root, 1, style == ES_QUERY_STYLE_PLAIN, &t);
    assert(r != R_FALSE); /* relaxing never narrows the whole query */
    if (r == R_TRUE) {
        res = es_xstrdup("");
        goto done;
    }
    if (style == ES_QUERY_STYLE_BOOLEAN) {
        print_boolean(q, &t, r, &out);
        res = es_buf_detach(&out);
        goto done;
    }
    /* Plain: only AND and leaves can be said; the relaxed tree has no
     * NOT, so its top-level leaves are what every match contains. */
    if (t.v[r].kind == N_LEAF) {
        print_leaf(&q->leaves[t.v[r].leaf], &out);
    } else if (t.v[r].kind == N_AND) {
        for (int c = t.v[r].first; c >= 0; c = t.v[c].next) {
            if (t.v[c].kind != N_LEAF)
                continue;
            if (out.len > 0)
                es_buf_addch(&out, ' ');
            print_leaf(&q->leaves[t.v[c].leaf], &out);
        }
    }
    if (out.len > 0)
        res = es_buf_detach(&out);
done:
    es_buf_release(&out);
    free(t.v);
    return res;
}

/* ==== Alternatives: the relaxed plain query in disjunctive form ==== */

struct conj {
    size_t n;
    int ids[]; /* canonical leaf indices, ascending, distinct */
};

struct dnf {
    struct conj **v;
    size_t n;
    size_t alloc;
};

static void dnf_push(struct dnf *d, struct conj *c)
{
    if (d->n == d->alloc) {
        d->alloc = d->alloc ? 2 * d->alloc : 4;
        d->v = es_xrealloc(d->v, d->alloc * sizeof(*d->v));
    }
    d->v[d->n++] = c;
}

static void dnf_release(struct dnf *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->v[i]);
    free(d->v);
    d->v = NULL;
    d->n = d->alloc = 0;
}

static struct conj *conj_new(size_t n)
{
    struct conj *c = es_xmalloc(sizeof(*c) + n * sizeof(c->ids[0]));
    c->n = n;
    return c;
}

/* Returns the union of two sorted sets. */
static struct conj *conj_union(const struct conj *a, const struct conj *b)
{
    struct conj *c = conj_new(a->n + b->n);
    size_t i = 0, j = 0, k = 0;

    while (i < a->n || j < b->n) {
        if (j == b->n || (i < a->n && a->ids[i] < b->ids[j]))
            c->ids[k++] = a->ids[i++];
        else if (i == a->n || b->ids[j] < a->ids[i])
            c->ids[k++] = b->ids[j++];
        else {
            c->ids[k++] = a->ids[i++];
            j++;
        }
    }
    c->n = k;
    return c;
}

static int conj_subset(const struct conj *a, const struct conj *b)
{
    size_t i = 0, j = 0;

    while (i < a->n && j < b->n) {
        if (a->ids[i] == b->ids[j])
            i++, j++;
        else if (a->ids[i] > b->ids[j])
            j++;
        else
            return 0;
    }
    return i == a->n;
}

/* Drops every alternative that another one covers: a search for fewer
 * words returns everything a search for more would (acme covers acme
 * outage). Of equal ones the first stays. */
static void dnf_minimize(struct dnf *d)
{
    size_t k = 0;

    for (size_t i = 0; i < d->n; i++) {
        int covered = 0;
        for (size_t j = 0; j < d->n && !covered; j++) {
            if (j == i || !d->v[j])
                continue;
            if (conj_subset(d->v[j], d->v[i]) &&
                (j < i || !conj_subset(d->v[i], d->v[j])))
                covered = 1;
        }
        if (covered) {
            free(d->v[i]);
            d->v[i] = NULL;
        }
    }
    for (size_t i = 0; i < d->n; i++)
        if (d->v[i])
            d->v[k++] = d->v[i];
    d->n = k;
}

static int too_many(size_t max)
{
    return es_error_set(ES_ETOOBIG, "query needs more than %zu plain searches",
                        max);
}

/* Appends the alternatives of the relaxed plain tree node @n to @out
 * (empty). Returns 0, or ES_ETOOBIG when there are more than @max. */
static int to_dnf(const struct es_query *q, const struct tree *t, int n,
                  size_t max, struct dnf *out)
{
    const struct node *nd = &t->v[n];
    struct dnf sub = { 0 };
    int rc = 0;

    if (nd->kind == N_LEAF) {
        struct conj *c = conj_new(1);
        c->ids[0] = q->leaves[nd->leaf].canon;
        dnf_push(out, c);
        return 0;
    }
    assert(nd->kind == N_AND || nd->kind == N_OR); /* relaxed: no NOT */
    if (nd->kind == N_AND)
        dnf_push(out, conj_new(0));
    for (int c = nd->first; c >= 0; c = t->v[c].next) {
        if ((rc = to_dnf(q, t, c, max, &sub)) < 0)
            goto done;
        if (nd->kind == N_OR) {
            for (size_t i = 0; i < sub.n; i++)
                dnf_push(out, sub.v[i]);
            sub.n = 0;
        } else {
            struct dnf prod = { 0 };
            /* Bounds the work before minimising, whatever the query. */
            if (sub.n > 0 && out->n > max * max / sub.n) {
                rc = too_many(max);
                goto done;
            }
            for (size_t i = 0; i < out->n; i++)
                for (size_t j = 0; j < sub.n; j++)
                    dnf_push(&prod, conj_union(out->v[i], sub.v[j]));
            dnf_release(out);
            *out = prod;
        }
        dnf_release(&sub);
        dnf_minimize(out);
        if (out->n > max) {
            rc = too_many(max);
            goto done;
        }
    }
done:
    dnf_release(&sub);
    return rc;
}

int es_query_alternatives(const struct es_query *q, size_t max, char ***out)
{
    struct tree t = { 0 };
    struct dnf d = { 0 };
    char **alts = NULL;
    int r, rc = 0;

    assert(q && out);
    *out = NULL;
    if (max > ES_QUERY_MAX_ALTERNATIVES)
        max = ES_QUERY_MAX_ALTERNATIVES;
    r = q->root < 0 ? R_TRUE : relax(q, q->root, 1, 1, &t);
    if (r == R_TRUE)
        dnf_push(&d, conj_new(0));
    else if ((rc = to_dnf(q, &t, r, max, &d)) < 0)
        goto done;
    if (d.n > max) {
        rc = too_many(max);
        goto done;
    }
    alts = es_xcalloc(d.n + 1, sizeof(*alts));
    for (size_t i = 0; i < d.n; i++) {
        struct es_buf b = ES_BUF_INIT;
        for (size_t j = 0; j < d.v[i]->n; j++) {
            if (j > 0)
                es_buf_addch(&b, ' ');
            print_leaf(&q->leaves[d.v[i]->ids[j]], &b);
        }
        alts[i] = es_buf_detach(&b);
    }
    *out = alts;
done:
    dnf_release(&d);
    free(t.v);
    return rc;
}

void es_query_alternatives_free(char **alts)
{
    if (!alts)
        return;
    for (size_t i = 0; alts[i]; i++)
        free(alts[i]);
    free(alts);
}
