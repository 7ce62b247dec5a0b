/* strmap.h - a small string-keyed hash map (module-private)
 *
 * Platform pages are parsed whole, and a kind often asks "did I see this
 * id in this body already?" (a post and a boost of it, a retweet and its
 * original, a comment whose post is in the page) or "which user is this
 * author_id?" A list scanned per item makes a large page quadratic; this
 * map keeps every such question O(1). Keys are copied; values are the
 * caller's.
 */
#ifndef EARSHOT_COLLECTORS_STRMAP_H
#define EARSHOT_COLLECTORS_STRMAP_H

#include <stddef.h>

struct es_strmap {
    char **keys; /* NULL for an empty slot */
    void **vals;
    size_t cap; /* a power of two, or 0 */
    size_t n;
};

#define ES_STRMAP_INIT                                                         \
    {                                                                          \
        NULL, NULL, 0, 0                                                       \
    }

/* Sets @key to @val. Returns 1 when @key was new, 0 when it was there
 * (its value is replaced). */
int es_strmap_put(struct es_strmap *m, const char *key, void *val);
/* Returns 1 and sets *val (may be NULL) when @key is there, else 0. */
int es_strmap_get(const struct es_strmap *m, const char *key, void **val);
/* Frees the keys and the table; the map is empty again. */
void es_strmap_clear(struct es_strmap *m);

#endif
