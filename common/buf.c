/* buf.c - growable byte buffer
 *
 * Modelled on git's strbuf: the content is always NUL-terminated and an
 * empty buffer points at a shared static byte, so init never allocates.
 */
#include "earshot/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/alloc.h"

char es_buf__empty[1];

void es_buf_init(struct es_buf *buf)
{
    buf->ptr = es_buf__empty;
    buf->len = 0;
    buf->alloc = 0;
}

void es_buf_release(struct es_buf *buf)
{
    if (buf->alloc)
        free(buf->ptr);
    es_buf_init(buf);
}

void es_buf_clear(struct es_buf *buf)
{
    es_buf_release(buf);
}

void es_buf_reset(struct es_buf *buf)
{
    buf->len = 0;
    if (buf->alloc)
        buf->ptr[0] = '\0';
}

char *es_buf_detach(struct es_buf *buf)
{
    char *p;
    if (!buf->alloc)
        p = es_xstrndup("", 0);
    else
        p = buf->ptr;
    es_buf_init(buf);
    return p;
}

void es_buf_grow(struct es_buf *buf, size_t extra)
{
    size_t need = buf->len + extra + 1;
    if (need <= buf->alloc)
        return;
    size_t n = buf->alloc ? buf->alloc : 64;
    while (n < need)
        n = n < 1024 * 1024 ? n * 2 : n + n / 2;
    if (!buf->alloc) {
        buf->ptr = es_xmalloc(n);
        buf->ptr[0] = '\0';
    } else {
        buf->ptr = es_xrealloc(buf->ptr, n);
    }
    buf->alloc = n;
}

void es_buf_add(struct es_buf *buf, const void *data, size_t len)
{
    if (!len)
        return;
    es_buf_grow(buf, len);
    memcpy(buf->ptr + buf->len, data, len);
    buf->len += len;
    buf->ptr[buf->len] = '\0';
}

void es_buf_adds(struct es_buf *buf, const char *s)
{
    es_buf_add(buf, s, strlen(s));
}

void es_buf_addch(struct es_buf *buf, int c)
{
    es_buf_grow(buf, 1);
    buf->ptr[buf->len++] = (char)c;
    buf->ptr[buf->len] = '\0';
}

void es_buf_vaddf(struct es_buf *buf, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n <= 0)
        return;
    es_buf_grow(buf, (size_t)n);
    vsnprintf(buf->ptr + buf->len, (size_t)n + 1, fmt, ap);
    buf->len += (size_t)n;
}

void es_buf_addf(struct es_buf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    es_buf_vaddf(buf, fmt, ap);
    va_end(ap);
}

void es_buf_add_utf8(struct es_buf *buf, unsigned long cp)
{
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0)
        cp = 0xFFFD;
    es_buf_grow(buf, 4);
    char *p = buf->ptr + buf->len;
    if (cp < 0x80) {
        p[0] = (char)cp;
        buf->len += 1;
    } else if (cp < 0x800) {
        p[0] = (char)(0xC0 | (cp >> 6));
        p[1] = (char)(0x80 | (cp & 0x3F));
        buf->len += 2;
    } else if (cp < 0x10000) {
        p[0] = (char)(0xE0 | (cp >> 12));
        p[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        p[2] = (char)(0x80 | (cp & 0x3F));
        buf->len += 3;
    } else {
        p[0] = (char)(0xF0 | (cp >> 18));
        p[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        p[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        p[3] = (char)(0x80 | (cp & 0x3F));
        buf->len += 4;
    }
    buf->ptr[buf->len] = '\0';
}

size_t es_utf8_decode(const char *str, size_t len, unsigned long *cp)
{
    const unsigned char *s = (const unsigned char *)str;
    unsigned char c = s[0];
    size_t n;
    unsigned long v;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        v = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        v = c & 0x07;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10FFFF)) ||
        (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

size_t es_utf8_invalid_at(const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        if ((unsigned char)s[i] < 0x80) { /* most text is ASCII */
            i++;
            continue;
        }
        unsigned long cp;
        size_t n = es_utf8_decode(s + i, len - i, &cp);
        if (n == 0)
            return i;
        i += n;
    }
    return len;
}

void es_utf8_scrub(char *s)
{
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        unsigned long cp;
        size_t n = es_utf8_decode(s + i, len - i, &cp);
        if (n == 0)
            s[i++] = '?';
        else
            i += n;
    }
}

void es_buf_add_json_str(struct es_buf *buf, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    es_buf_grow(buf, len + 2);
    es_buf_addch(buf, '"');
    size_t i = 0;
    while (i < len) {
        size_t run = i;
        /* Copy plain ASCII runs in one go: the common case. */
        while (run < len && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' &&
               p[run] != '\\')
            run++;
        if (run > i) {
            es_buf_add(buf, p + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            es_buf_addch(buf, '\\');
            es_buf_addch(buf, c);
            i++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n':
                es_buf_adds(buf, "\\n");
                break;
            case '\r':
                es_buf_adds(buf, "\\r");
                break;
            case '\t':
                es_buf_adds(buf, "\\t");
                break;
            default: {
                char esc[7] = {
                    '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0
                };
                es_buf_adds(buf, esc);
            }
            }
            i++;
        } else {
            unsigned long cp;
            size_t n = es_utf8_decode((const char *)p + i, len - i, &cp);
            if (n == 0) {
                es_buf_adds(buf, "\xEF\xBF\xBD");
                i++;
            } else {
                es_buf_add(buf, p + i, n);
                i += n;
            }
        }
    }
    es_buf_addch(buf, '"');
}

void es_buf_truncate(struct es_buf *buf, size_t len)
{
    if (len >= buf->len)
        return;
    buf->len = len;
    buf->ptr[len] = '\0';
}

void es_buf_add_valid_utf8(struct es_buf *buf, const char *s, size_t len)
{
    size_t i = 0;
    es_buf_grow(buf, len);
    while (i < len) {
        size_t run = i;
        while (run < len && (unsigned char)s[run] < 0x80)
            run++;
        if (run > i) {
            es_buf_add(buf, s + i, run - i);
            i = run;
            continue;
        }
        unsigned long cp;
        size_t n = es_utf8_decode(s + i, len - i, &cp);
        if (n == 0) {
            es_buf_adds(buf, "\xEF\xBF\xBD");
            i++;
        } else {
            es_buf_add(buf, s + i, n);
            i += n;
        }
    }
}

uint64_t es_fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

static int b64_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

int es_base64_decode(const char *s, size_t len, struct es_buf *out)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t i = 0;
    for (; i < len && s[i] != '='; i++) {
        if (b64_space((unsigned char)s[i]))
            continue;
        int v = b64_value((unsigned char)s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            es_buf_addch(out, (char)((acc >> bits) & 0xFF));
        }
    }
    for (; i < len; i++) /* only padding and white space after "=" */
        if (s[i] != '=' && !b64_space((unsigned char)s[i]))
            return -1;
    return 0;
}
