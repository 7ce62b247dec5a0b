/* buf.h - growable byte buffer (git's strbuf, reduced)
 *
 * A struct es_buf lives on the stack or inside another struct. Its data is
 * always NUL-terminated, so buf.ptr can be used as a C string when the
 * content has no NUL. Allocation failure aborts (es_xmalloc).
 */
#ifndef EARSHOT_BUF_H
#define EARSHOT_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct es_buf {
    char *ptr;    /* NUL-terminated content; never NULL after init */
    size_t len;   /* bytes used, not counting the NUL */
    size_t alloc; /* bytes allocated; 0 while ptr points at es_buf__empty */
};

extern char es_buf__empty[];
#define ES_BUF_INIT                                                            \
    {                                                                          \
        es_buf__empty, 0, 0                                                    \
    }

void es_buf_init(struct es_buf *buf);
/* Frees the contents; the buffer must be initialised again before reuse. */
void es_buf_release(struct es_buf *buf);
/* Releases, then initialises: an empty buffer ready for reuse. */
void es_buf_clear(struct es_buf *buf);
/* Sets the length to 0 and keeps the allocation. */
void es_buf_reset(struct es_buf *buf);
/* Gives the content to the caller, who frees it with free(); the buffer is
 * left initialised and empty. Never returns NULL. */
char *es_buf_detach(struct es_buf *buf);
void es_buf_grow(struct es_buf *buf, size_t extra);
void es_buf_add(struct es_buf *buf, const void *data, size_t len);
void es_buf_adds(struct es_buf *buf, const char *s);
void es_buf_addch(struct es_buf *buf, int c);
void es_buf_addf(struct es_buf *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void es_buf_vaddf(struct es_buf *buf, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Appends the UTF-8 encoding of code point @cp (U+FFFD when invalid). */
void es_buf_add_utf8(struct es_buf *buf, unsigned long cp);
/* Appends @s as a JSON string literal, quotes included. Invalid UTF-8
 * becomes U+FFFD, so the output is always valid JSON. */
void es_buf_add_json_str(struct es_buf *buf, const char *s, size_t len);
/* Appends @s with every invalid UTF-8 sequence replaced by U+FFFD. */
void es_buf_add_valid_utf8(struct es_buf *buf, const char *s, size_t len);
void es_buf_truncate(struct es_buf *buf, size_t len);

/* Decodes one UTF-8 sequence at @s (at most @len bytes, len > 0). Returns
 * its length and sets *cp, or returns 0 for an invalid, overlong, surrogate
 * or truncated sequence. */
size_t es_utf8_decode(const char *s, size_t len, unsigned long *cp);

/* Returns the offset of the first byte of @s (@len bytes) that does not
 * start a valid UTF-8 sequence, or @len when all of it is valid. */
size_t es_utf8_invalid_at(const char *s, size_t len);

/* Replaces, in place, each byte of an invalid or cut UTF-8 sequence in the
 * NUL-terminated @s with '?', so that a message cut to a fixed size, or
 * quoting what an input held, is valid UTF-8. */
void es_utf8_scrub(char *s);

/* Appends to @out the bytes the base64 of @len bytes at @s stands for
 * (white space between digits allowed, padding optional). Returns 0, or
 * -1 when @s holds anything else (what was decoded before stays). */
int es_base64_decode(const char *s, size_t len, struct es_buf *out);

/* FNV-1a 64 of @n bytes at @p, continuing from @h (ES_FNV1A_INIT for a
 * first piece): a stable, non-cryptographic name for content that has no
 * id of its own. Values are stored as ids: never change the function. */
#define ES_FNV1A_INIT 0xcbf29ce484222325ULL
uint64_t es_fnv1a(uint64_t h, const void *p, size_t n);

#endif
