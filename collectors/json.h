/* json.h - reading platform API responses (module-private)
 *
 * Every platform kind parses its responses into yajl's tree and walks it
 * with these helpers. A response is untrusted: es_json_parse() checks its
 * size and nesting before yajl builds anything (yajl_tree_free recurses,
 * so a 100 MB "[[[[..." would otherwise overflow the stack), and the
 * getters return NULL or a default for a missing member or one of the
 * wrong type, so a kind never dereferences what the platform did not send.
 * A kind that finds a required member missing says so with
 * es_json_shape_error(), naming the kind and the JSON path.
 */
#ifndef EARSHOT_COLLECTORS_JSON_H
#define EARSHOT_COLLECTORS_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_tree.h>

#include "earshot/buf.h"
#include "earshot/item.h"

#define ES_JSON_MAX_BYTES (64L * 1024 * 1024)
#define ES_JSON_MAX_DEPTH 256

/* Parses @len bytes of @buf into *out. @what names the input in messages
 * ("mastodon", "reddit 'r-acme'"). Returns 0, or ES_EPARSE with a message
 * such as "mastodon: invalid JSON at byte 120: ..." (also for a body over
 * ES_JSON_MAX_BYTES, nested deeper than ES_JSON_MAX_DEPTH, or holding a
 * NUL byte), or ES_ETOOBIG for the size. The caller frees *out with
 * es_json_free(). */
int es_json_parse(yajl_val *out, const char *what, const char *buf, size_t len);
void es_json_free(yajl_val v);

/* Member @key of object @obj; NULL when @obj is not an object or has no
 * such member. A JSON null member is returned as NULL too. */
yajl_val es_json_get(yajl_val obj, const char *key);
/* Follows a dotted path of member names ("data.children"). */
yajl_val es_json_path(yajl_val v, const char *path);
/* The string member @key, or NULL (absent, null, or not a string). */
const char *es_json_str(yajl_val obj, const char *key);
/* An id that a platform may send as a string or a number: writes it into
 * @out (@size bytes) and returns @out, or NULL. */
const char *es_json_id(yajl_val obj, const char *key, char *out, size_t size);
/* Integer member @key (a JSON integer, or a string of digits). Returns 0
 * and sets *out, or -1. */
int es_json_int(yajl_val obj, const char *key, long long *out);
/* Number member @key as a double. Returns 0 and sets *out, or -1. */
int es_json_num(yajl_val obj, const char *key, double *out);
/* 1 for true, 0 for false, @def for anything else. */
int es_json_bool(yajl_val obj, const char *key, int def);
/* Array length (0 for a non-array) and element (NULL past the end). */
size_t es_json_len(yajl_val arr);
yajl_val es_json_at(yajl_val arr, size_t i);
int es_json_is_array(yajl_val v);
int es_json_is_object(yajl_val v);

/* A time member: ISO 8601 string or Unix seconds (integer). Returns
 * ES_TIME_UNKNOWN when absent or unreadable. */
int64_t es_json_time(yajl_val obj, const char *key);

/* Sets ES_EPARSE "KIND: unexpected JSON at PATH: WHAT" and returns it. */
int es_json_shape_error(const char *kind, const char *path, const char *what);

/* The platform's own explanation in an error body ({"error": ...},
 * {"message": ...}, {"errors": [{"message": ...}]}, {"error_description":
 * ...}, {"detail": ...}), cut to 200 bytes of valid UTF-8 with control
 * characters dropped; NULL when there is none. The caller frees it. */
char *es_json_error_text(const char *buf, size_t len);

/* Sets @field (freeing what was there) to a copy of @s, or NULL. */
void es_json_set(char **field, const char *s);
/* Sets @field to the plain text of HTML @html (markup stripped, entities
 * decoded, whitespace collapsed), or NULL when @html is NULL. */
void es_json_set_html_text(char **field, const char *html);
/* Sets @field to @text as typed (Markdown, say) with its white space
 * collapsed and trimmed, and HTML comments ("<!-- ... -->", an unclosed
 * one to the end; not inside `code`) left out when @no_comments; NULL
 * when nothing is left. */
void es_json_set_plain_text(char **field, const char *text, int no_comments);
/* Sets @field to the text a reader sees of a body a platform gives both as
 * its source @md (Markdown) and rendered as @html: from the HTML when
 * there is some (NULL when it renders to nothing, as an image or an empty
 * paragraph does), else es_json_set_plain_text(@md, @no_comments). */
void es_json_set_rendered_text(char **field, const char *md, const char *html,
                               int no_comments);

/* Appends @s to @b as a JSON string ("null" for NULL). */
void es_json_add_str(struct es_buf *b, const char *s);
/* Appends @t to @b as an ISO 8601 JSON string ("null" for
 * ES_TIME_UNKNOWN). */
void es_json_add_time(struct es_buf *b, int64_t t);
/* Appends the member "@key":@v to the JSON object @b is writing, after a
 * comma unless it follows the object's '{'. */
void es_json_add_member_int(struct es_buf *b, const char *key, long long v);

#endif
