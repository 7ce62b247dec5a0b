/* html.h - HTML to plain text and HTML character references
 *
 * Module-private helpers for collectors: feeds publish HTML in their
 * descriptions and content, Mastodon and others in their JSON. The
 * classifier wants plain text, so markup goes and references are decoded
 * the way a browser would. Everything here is pure, reentrant and never
 * allocates beyond the output buffer; output is always valid UTF-8.
 */
#ifndef EARSHOT_COLLECTORS_HTML_H
#define EARSHOT_COLLECTORS_HTML_H

#include <stddef.h>

#include "earshot/buf.h"

/* Appends the text of the HTML fragment [@html, @html + @len) to @out:
 * tags removed, script/style/template content dropped, block-level tags
 * and <br> act as white space, character references decoded, every run of
 * white space (including no-break space) collapsed to one space, leading
 * and trailing space trimmed. Invalid UTF-8 becomes U+FFFD. */
void es_html_to_text(const char *html, size_t len, struct es_buf *out);

/* Appends the @len bytes at @s to @out escaped for HTML or XML text and
 * attribute values (& < > "). */
void es_html_add_escaped(struct es_buf *out, const char *s, size_t len);

/* Appends @s to @out with character references decoded: HTML5's named
 * references (with the legacy names also taken without their ';', as a
 * browser takes them in text) and numeric references (invalid ones give
 * U+FFFD, 128..159 the Windows-1252 character as in HTML5). A '&' that
 * starts no known reference is kept. Invalid UTF-8 becomes U+FFFD. */
void es_html_decode_entities(const char *s, size_t len, struct es_buf *out);

/* Decodes the one reference that starts at @s (s[0] == '&'): returns the
 * number of bytes it spans and sets cp[0], and cp[1] to the second code
 * point of the few named references that stand for two, else 0; returns
 * 0 when @s starts no reference. A UTF-16 surrogate pair written as two
 * numeric references counts as one, for the character it encodes. */
size_t es_html_parse_ref(const char *s, size_t len, unsigned long cp[2]);

/* Appends the one or two code points es_html_parse_ref() gave as UTF-8. */
static inline void es_html_add_ref(struct es_buf *out,
                                   const unsigned long cp[2])
{
    es_buf_add_utf8(out, cp[0]);
    if (cp[1])
        es_buf_add_utf8(out, cp[1]);
}

/* Returns the code point of HTML5's named reference @name (@len bytes, no
 * '&', no ';'), 0 when there is none; sets *second (when not NULL) to the
 * second code point of a reference that stands for two, else 0. */
unsigned long es_html_entity(const char *name, size_t len,
                             unsigned long *second);

/* Returns the Unicode code point that Windows-1252 gives @byte; the five
 * bytes it leaves undefined map to the C1 control of the same value, as
 * the WHATWG encoding standard does. */
unsigned long es_html_cp1252(unsigned char byte);

#endif
