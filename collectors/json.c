/* json.c - guarded yajl trees and typed getters for the platform kinds
 *
 * yajl decodes \u escapes (surrogate pairs included) as it builds the
 * tree, and checks the shape of UTF-8 sequences, not their values: an
 * overlong form (C1 B7), a surrogate's bytes (ED A0 80) and a lone low
 * surrogate escape (a platform that cut an emoji in half, which yajl
 * writes as those bytes) pass. When a body holds any of them, its strings
 * are made valid afterwards (U+FFFD for each), so every string a getter
 * returns is valid UTF-8.
 * What yajl does not bound is nesting: building and freeing the tree
 * recurse, so the document's depth is measured first with a scan that
 * only tracks strings and brackets.
 */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "html.h"

/* Returns the deepest nesting of @buf, stopping early past @limit. */
static int max_depth(const char *buf, size_t len, int limit)
{
    int depth = 0, deepest = 0, in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > deepest) {
                deepest = depth;
                if (deepest > limit)
                    return deepest;
            }
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return deepest;
}

/* 1 when @buf holds bytes that are not valid UTF-8, or may hold a
 * surrogate escape (\uD800-\uDFFF): then its strings need scrub().
 * Eight ASCII bytes without a backslash are skipped at once. */
static int needs_scrub(const char *buf, size_t len)
{
    const uint64_t high = 0x8080808080808080ULL, ones = 0x0101010101010101ULL;
    const uint64_t bs = 0x5c5c5c5c5c5c5c5cULL;
    size_t i = 0;
    while (i < len) {
        if (len - i >= 8) {
            uint64_t w;
            memcpy(&w, buf + i, 8);
            uint64_t x = w ^ bs; /* a zero byte where w had a '\\' */
            if (((w | ((x - ones) & ~x)) & high) == 0) {
                i += 8;
                continue;
            }
        }
        unsigned char c = (unsigned char)buf[i];
        if (c == '\\') {
            if (len - i >= 4 && buf[i + 1] == 'u' &&
                (buf[i + 2] == 'd' || buf[i + 2] == 'D') && buf[i + 3] &&
                strchr("89abcdefABCDEF", buf[i + 3]))
                return 1;
            i += 2; /* past the escaped character: "\\\\" is one backslash */
        } else if (c < 0x80) {
            i++;
        } else {
            unsigned long cp;
            size_t n = es_utf8_decode(buf + i, len - i, &cp);
            if (n == 0)
                return 1;
            i += n;
        }
    }
    return 0;
}

/* Makes every string value under @v valid UTF-8. A surrogate's three
 * bytes (ED A0..BF xx: how yajl writes a lone low surrogate escape)
 * become one U+FFFD in place; any other invalid sequence, U+FFFD per
 * byte in a new string (yajl's tree frees strings with free()). Depth is
 * bounded by es_json_parse's check. */
static void scrub(yajl_val v)
{
    if (YAJL_IS_STRING(v)) {
        char *s = v->u.string;
        for (char *p = s; (p = strchr(p, '\xED')) != NULL; p++)
            if ((unsigned char)p[1] >= 0xA0 && (unsigned char)p[1] <= 0xBF &&
                ((unsigned char)p[2] & 0xC0) == 0x80) {
                memcpy(p, "\xEF\xBF\xBD", 3);
                p += 2;
            }
        size_t len = strlen(s);
        if (es_utf8_invalid_at(s, len) < len) {
            struct es_buf b = ES_BUF_INIT;
            es_buf_add_valid_utf8(&b, s, len);
            v->u.string = es_buf_detach(&b);
            free(s);
        }
    } else if (YAJL_IS_OBJECT(v)) {
        for (size_t i = 0; i < v->u.object.len; i++)
            scrub(v->u.object.values[i]);
    } else if (YAJL_IS_ARRAY(v)) {
        for (size_t i = 0; i < v->u.array.len; i++)
            scrub(v->u.array.values[i]);
    }
}

/* Where yajl stopped in a body it refused: its tree parser does not say,
 * so a parse without a tree runs again over the body (only when it
 * failed). */
static size_t error_offset(const char *buf, size_t len)
{
    yajl_handle h = yajl_alloc(NULL, NULL, NULL);
    if (!h)
        return 0;
    yajl_status st = yajl_parse(h, (const unsigned char *)buf, len);
    /* Refused within the body: the count takes in the byte refused. All of
     * it read and still refused: the body ends too soon. */
    size_t off = st == yajl_status_ok ? len : yajl_get_bytes_consumed(h);
    if (st != yajl_status_ok && off > 0)
        off--;
    yajl_free(h);
    return off < len ? off : len;
}

int es_json_parse(yajl_val *out, const char *what, const char *buf, size_t len)
{
    char err[256];
    *out = NULL;
    if (len > (size_t)ES_JSON_MAX_BYTES)
        return es_error_set(ES_ETOOBIG,
                            "%s: JSON body of %zu bytes is over the %ld-byte "
                            "limit",
                            what, len, (long)ES_JSON_MAX_BYTES);
    if (memchr(buf, '\0', len))
        return es_error_set(ES_EPARSE, "%s: invalid JSON: a NUL byte at %zu",
                            what,
                            (size_t)((const char *)memchr(buf, 0, len) - buf));
    if (max_depth(buf, len, ES_JSON_MAX_DEPTH) > ES_JSON_MAX_DEPTH)
        return es_error_set(ES_EPARSE,
                            "%s: invalid JSON: nested deeper than %d levels",
                            what, ES_JSON_MAX_DEPTH);
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\r' ||
                       buf[i] == '\t'))
        i++;
    if (i == len)
        return es_error_set(ES_EPARSE, "%s: empty body where JSON was expected",
                            what);
    err[0] = '\0';
    /* yajl_tree_parse reads up to the NUL that ends every body we hold. */
    yajl_val v = yajl_tree_parse(buf, err, sizeof(err));
    if (!v) {
        /* yajl's message continues with a picture of the input: keep the
         * first line. */
        err[strcspn(err, "\n")] = '\0';
        size_t at = error_offset(buf, len);
        unsigned char c = at < len ? (unsigned char)buf[at] : 0;
        char near[16] = "";
        if (c >= 0x21 && c < 0x7f && c != '\'')
            snprintf(near, sizeof(near), " ('%c')", c);
        if (at == len)
            return es_error_set(ES_EPARSE,
                                "%s: invalid JSON at its end (byte "
                                "%zu): %s",
                                what, at, err[0] ? err : "cannot parse");
        return es_error_set(ES_EPARSE, "%s: invalid JSON at byte %zu%s: %s",
                            what, at, near, err[0] ? err : "cannot parse");
    }
    if (needs_scrub(buf, len))
        scrub(v);
    *out = v;
    return 0;
}

void es_json_free(yajl_val v)
{
    if (v)
        yajl_tree_free(v);
}

yajl_val es_json_get(yajl_val obj, const char *key)
{
    if (!obj || !YAJL_IS_OBJECT(obj))
        return NULL;
    for (size_t i = 0; i < obj->u.object.len; i++)
        if (strcmp(obj->u.object.keys[i], key) == 0) {
            yajl_val v = obj->u.object.values[i];
            return v && !YAJL_IS_NULL(v) ? v : NULL;
        }
    return NULL;
}

yajl_val es_json_path(yajl_val v, const char *path)
{
    char key[128];
    while (v && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof(key))
            return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        v = es_json_get(v, key);
        path += n;
        if (*path == '.')
            path++;
    }
    return v;
}

const char *es_json_str(yajl_val obj, const char *key)
{
    yajl_val v = es_json_get(obj, key);
    return v && YAJL_IS_STRING(v) ? v->u.string : NULL;
}

const char *es_json_id(yajl_val obj, const char *key, char *out, size_t size)
{
    yajl_val v = es_json_get(obj, key);
    const char *s = NULL;
    if (v && YAJL_IS_STRING(v))
        s = v->u.string;
    else if (v && YAJL_IS_NUMBER(v))
        s = v->u.number.r;
    if (!s || !*s || strlen(s) >= size)
        return NULL;
    memcpy(out, s, strlen(s) + 1);
    return out;
}

int es_json_int(yajl_val obj, const char *key, long long *out)
{
    yajl_val v = es_json_get(obj, key);
    if (v && YAJL_IS_INTEGER(v)) {
        *out = v->u.number.i;
        return 0;
    }
    if (v && YAJL_IS_DOUBLE(v) && v->u.number.d > -9e18 &&
        v->u.number.d < 9e18) {
        *out = (long long)v->u.number.d;
        return 0;
    }
    if (v && YAJL_IS_STRING(v) && *v->u.string) {
        char *end;
        long long n = strtoll(v->u.string, &end, 10);
        if (*end == '\0') {
            *out = n;
            return 0;
        }
    }
    return -1;
}

int es_json_num(yajl_val obj, const char *key, double *out)
{
    yajl_val v = es_json_get(obj, key);
    if (v && YAJL_IS_NUMBER(v)) {
        *out = YAJL_IS_INTEGER(v) ? (double)v->u.number.i : v->u.number.d;
        return 0;
    }
    return -1;
}

int es_json_bool(yajl_val obj, const char *key, int def)
{
    yajl_val v = es_json_get(obj, key);
    if (v && YAJL_IS_TRUE(v))
        return 1;
    if (v && YAJL_IS_FALSE(v))
        return 0;
    return def;
}

size_t es_json_len(yajl_val arr)
{
    return arr && YAJL_IS_ARRAY(arr) ? arr->u.array.len : 0;
}

yajl_val es_json_at(yajl_val arr, size_t i)
{
    if (!arr || !YAJL_IS_ARRAY(arr) || i >= arr->u.array.len)
        return NULL;
    yajl_val v = arr->u.array.values[i];
    return v && !YAJL_IS_NULL(v) ? v : NULL;
}

int es_json_is_array(yajl_val v)
{
    return v && YAJL_IS_ARRAY(v);
}

int es_json_is_object(yajl_val v)
{
    return v && YAJL_IS_OBJECT(v);
}

int64_t es_json_time(yajl_val obj, const char *key)
{
    yajl_val v = es_json_get(obj, key);
    int64_t t;
    if (v && YAJL_IS_INTEGER(v))
        return v->u.number.i;
    if (v && YAJL_IS_STRING(v) && es_time_parse(v->u.string, &t) == 0)
        return t;
    return ES_TIME_UNKNOWN;
}

int es_json_shape_error(const char *kind, const char *path, const char *what)
{
    return es_error_set(ES_EPARSE, "%s: unexpected JSON at %s: %s", kind,
                        path && *path ? path : "$", what);
}

/* Copies at most @max bytes of @s into @b: valid UTF-8, no control
 * characters, cut on a character boundary. */
static void add_clean(struct es_buf *b, const char *s, size_t max)
{
    struct es_buf tmp = ES_BUF_INIT;
    es_buf_add_valid_utf8(&tmp, s, strlen(s));
    for (size_t i = 0; i < tmp.len && b->len < max; i++) {
        unsigned char c = (unsigned char)tmp.ptr[i];
        if (c < 0x20 || c == 0x7f) {
            es_buf_addch(b, ' ');
            continue;
        }
        /* Stop before a multibyte character that would not fit. */
        if (c >= 0xc0) {
            size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
            if (b->len + n > max)
                break;
            es_buf_add(b, tmp.ptr + i, n);
            i += n - 1;
            continue;
        }
        es_buf_addch(b, c);
    }
    es_buf_release(&tmp);
}

char *es_json_error_text(const char *buf, size_t len)
{
    yajl_val root;
    char *out = NULL;
    if (!buf || !len)
        return NULL;
    /* Called while a message about the failed request stands: keep it. */
    char *saved = es_xstrdup(es_error_last());
    int rc = es_json_parse(&root, "error body", buf, len);
    es_error_set(ES_ERROR, "%s", saved ? saved : "");
    free(saved);
    if (rc != 0)
        return NULL;
    const char *msg = NULL;
    static const char *const keys[] = { "error_description", "message",
                                        "detail", "error", "title" };
    for (size_t i = 0; !msg && i < sizeof(keys) / sizeof(*keys); i++)
        msg = es_json_str(root, keys[i]);
    if (!msg) {
        yajl_val e = es_json_get(root, "error");
        msg = es_json_str(e, "message");
        if (!msg)
            msg = es_json_str(es_json_at(es_json_get(root, "errors"), 0),
                              "message");
        if (!msg)
            msg = es_json_str(es_json_at(es_json_get(root, "errors"), 0),
                              "detail");
    }
    if (msg && *msg) {
        struct es_buf b = ES_BUF_INIT;
        add_clean(&b, msg, 200);
        out = es_buf_detach(&b);
    }
    es_json_free(root);
    return out;
}

void es_json_set(char **field, const char *s)
{
    free(*field);
    *field = s ? es_xstrdup(s) : NULL;
}

void es_json_set_html_text(char **field, const char *html)
{
    free(*field);
    *field = NULL;
    if (!html)
        return;
    struct es_buf b = ES_BUF_INIT;
    es_html_to_text(html, strlen(html), &b);
    *field = es_buf_detach(&b);
}

void es_json_set_plain_text(char **field, const char *text, int no_comments)
{
    struct es_buf b = ES_BUF_INIT;
    int space = 0, code = 0;
    for (const char *p = text ? text : ""; *p; p++) {
        /* Inside `code` (or a ``` block: three toggles) "<!--" is text. */
        if (*p == '`')
            code = !code;
        if (no_comments && !code && strncmp(p, "<!--", 4) == 0) {
            const char *end = strstr(p + 4, "-->");
            if (!end)
                break;
            p = end + 2;
            space = b.len > 0;
            continue;
        }
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
            space = b.len > 0;
            continue;
        }
        if (space)
            es_buf_addch(&b, ' ');
        space = 0;
        es_buf_addch(&b, *p);
    }
    free(*field);
    *field = b.len ? es_buf_detach(&b) : NULL;
    es_buf_release(&b);
}

void es_json_set_rendered_text(char **field, const char *md, const char *html,
                               int no_comments)
{
    if (!html || !*html) {
        es_json_set_plain_text(field, md, no_comments);
        return;
    }
    es_json_set_html_text(field, html);
    if (*field && !**field) {
        free(*field);
        *field = NULL;
    }
}

void es_json_add_str(struct es_buf *b, const char *s)
{
    if (!s)
        es_buf_adds(b, "null");
    else
        es_buf_add_json_str(b, s, strlen(s));
}

void es_json_add_time(struct es_buf *b, int64_t t)
{
    char iso[21];
    es_json_add_str(b, t == ES_TIME_UNKNOWN ? NULL : es_time_format(t, iso));
}

void es_json_add_member_int(struct es_buf *b, const char *key, long long v)
{
    if (b->len && b->ptr[b->len - 1] != '{')
        es_buf_addch(b, ',');
    es_json_add_str(b, key);
    es_buf_addf(b, ":%lld", v);
}
