/* jsonfeed.h - JSON Feed 1.0 and 1.1 (module-private)
 *
 * https://www.jsonfeed.org/version/1.1/: a feed as a JSON object with a
 * "version" naming jsonfeed.org and an "items" array. feed.c hands a
 * document that starts with "{" here, so the "rss" kind and `earshot parse
 * rss` read JSON Feeds too, with the same item model as RSS and Atom.
 */
#ifndef EARSHOT_COLLECTORS_JSONFEED_H
#define EARSHOT_COLLECTORS_JSONFEED_H

#include <stddef.h>

#include "earshot/feed.h"
#include "earshot/item.h"

struct es_jsonfeed_opts {
    char *source;         /* item->source (borrowed) */
    const char *base_url; /* relative links resolve against it */
    es_feed_meta_cb meta; /* optional: title and home_page_url, first */
    es_item_cb emit;
    void *payload;
};

/* Parses the JSON Feed @buf (@len bytes, followed by a NUL byte, as an
 * es_buf's are) and emits its items in order.
 * Returns 0, the non-zero value a callback returned, or ES_EPARSE with
 * the reason written to @why (@why_size bytes, "what", without the source
 * name): invalid JSON, a JSON document that is no JSON Feed, or "items"
 * that is not an array. An item that is not an object is skipped and
 * counted in *skipped. *count is the number of items emitted. */
int es_jsonfeed_parse(const char *buf, size_t len,
                      const struct es_jsonfeed_opts *opts, size_t *count,
                      size_t *skipped, char *why, size_t why_size);

#endif
