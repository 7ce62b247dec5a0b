/* strmap.c - open addressing with linear probing, at most half full */
#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/alloc.h"

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static size_t slot_of(const struct es_strmap *m, const char *key)
{
    size_t i = (size_t)hash(key) & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], key) != 0)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static void grow(struct es_strmap *m)
{
    struct es_strmap old = *m;
    m->cap = old.cap ? old.cap * 2 : 16;
    m->keys = es_xcalloc(m->cap, sizeof(*m->keys));
    m->vals = es_xcalloc(m->cap, sizeof(*m->vals));
    for (size_t i = 0; i < old.cap; i++) {
        if (!old.keys[i])
            continue;
        size_t j = slot_of(m, old.keys[i]);
        m->keys[j] = old.keys[i];
        m->vals[j] = old.vals[i];
    }
    free(old.keys);
    free(old.vals);
}

int es_strmap_put(struct es_strmap *m, const char *key, void *val)
{
    if ((m->n + 1) * 2 > m->cap)
        grow(m);
    size_t i = slot_of(m, key);
    if (m->keys[i]) {
        m->vals[i] = val;
        return 0;
    }
    m->keys[i] = es_xstrdup(key);
    m->vals[i] = val;
    m->n++;
    return 1;
}

int es_strmap_get(const struct es_strmap *m, const char *key, void **val)
{
    if (!m->cap)
        return 0;
    size_t i = slot_of(m, key);
    if (!m->keys[i])
        return 0;
    if (val)
        *val = m->vals[i];
    return 1;
}

void es_strmap_clear(struct es_strmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof(*m));
}
