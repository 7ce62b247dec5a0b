/* jsonl.h - mentions as JSON Lines, the format `earshot parse` prints
 *
 * One JSON object per line, with the keys of `earshot parse` output: id,
 * platform, url, title, author, author_name, author_followers, created_at,
 * updated_at, text, content, summary, categories, kind, in_reply_to,
 * thread_root, rating, lang, reply_ref. Only id and text are required;
 * platform defaults to "jsonl"; unknown keys are ignored, so the output of
 * `earshot parse` (or of any tool writing the same keys) reads back as is.
 * The "jsonl" source kind reads this format from a file, a command or a
 * URL, and an import can use the same converter.
 */
#ifndef EARSHOT_JSONL_H
#define EARSHOT_JSONL_H

#include <stddef.h>

#include "earshot/item.h"

/* The longest line es_jsonl_parse_line() and the jsonl kind accept. */
#define ES_JSONL_MAX_LINE ((size_t)1 << 20)

/* Converts one line (@len bytes at @line, no NUL needed; a trailing "\r"
 * and surrounding white space are ignored) into @item, which must have
 * been initialised (es_item_init) and is released first.
 *
 * Values: id is a string or a number; created_at and updated_at are ISO
 * 8601 strings or Unix seconds; author_followers a count; rating 1..5
 * (null or 0: none); kind one of post, reply, comment, review, article
 * (default post); categories an array of strings; reply_ref a string or
 * an object (kept as its JSON text); every other key a string. null is
 * the same as an absent key. item->source is left NULL.
 *
 * Returns 0; ES_ENOTFOUND for a blank line (@item stays empty: skip it);
 * or ES_EPARSE for a bad line, with a one-line reason such as
 * "missing \"text\"" or "\"rating\" must be 1 to 5" in @err (@errsize
 * bytes, always NUL-terminated; the caller adds the line number) and in
 * es_error_last(). @item is left empty on failure. Thread-safe. */
int es_jsonl_parse_line(const char *line, size_t len, struct es_item *item,
                        char *err, size_t errsize);

#endif
