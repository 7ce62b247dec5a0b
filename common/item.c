/* item.c - the normalised mention: construction, copy, release
 *
 * Kept tiny on purpose: collectors fill the fields directly, this file only
 * owns the life cycle so every module frees an item the same way.
 */
#include "earshot/item.h"

#include <stdlib.h>
#include <string.h>

#include "earshot/alloc.h"
#include "earshot/error.h"

void es_item_init(struct es_item *item)
{
    memset(item, 0, sizeof(*item));
    item->author_followers = ES_COUNT_UNKNOWN;
    item->created_at = ES_TIME_UNKNOWN;
    item->updated_at = ES_TIME_UNKNOWN;
    item->fetched_at = ES_TIME_UNKNOWN;
}

struct es_item *es_item_new(void)
{
    struct es_item *item = es_xmalloc(sizeof(*item));
    es_item_init(item);
    return item;
}

void es_item_release(struct es_item *item)
{
    free(item->platform);
    free(item->source);
    free(item->external_id);
    free(item->url);
    free(item->author);
    free(item->author_name);
    free(item->title);
    free(item->text);
    free(item->summary);
    free(item->content);
    for (size_t i = 0; i < item->ncategories; i++)
        free(item->categories[i]);
    free(item->categories);
    free(item->in_reply_to);
    free(item->thread_root);
    free(item->lang);
    free(item->reply_ref);
    es_item_init(item);
}

void es_item_free(struct es_item *item)
{
    if (!item)
        return;
    if (!item->packed)
        es_item_release(item);
    free(item);
}

struct es_item *es_item_dup(const struct es_item *src)
{
    struct es_item *d = es_xmalloc(sizeof(*d));
    *d = *src;
    d->packed = 0;
    d->platform = es_xstrdup(src->platform);
    d->source = es_xstrdup(src->source);
    d->external_id = es_xstrdup(src->external_id);
    d->url = es_xstrdup(src->url);
    d->author = es_xstrdup(src->author);
    d->author_name = es_xstrdup(src->author_name);
    d->title = es_xstrdup(src->title);
    d->text = es_xstrdup(src->text);
    d->summary = es_xstrdup(src->summary);
    d->content = es_xstrdup(src->content);
    d->categories = NULL;
    if (src->ncategories) {
        d->categories = es_xmalloc(src->ncategories * sizeof(char *));
        for (size_t i = 0; i < src->ncategories; i++)
            d->categories[i] = es_xstrdup(src->categories[i]);
    }
    d->in_reply_to = es_xstrdup(src->in_reply_to);
    d->thread_root = es_xstrdup(src->thread_root);
    d->lang = es_xstrdup(src->lang);
    d->reply_ref = es_xstrdup(src->reply_ref);
    return d;
}

/* The string fields of an item, for es_item_pack(). */
#define ITEM_STRINGS(it)                                                       \
    &(it)->platform, &(it)->source, &(it)->external_id, &(it)->url,            \
        &(it)->author, &(it)->author_name, &(it)->title, &(it)->text,          \
        &(it)->summary, &(it)->content, &(it)->in_reply_to,                    \
        &(it)->thread_root, &(it)->lang, &(it)->reply_ref

/* Copies @s to *at and advances *at; NULL stays NULL. */
static char *pack_str(char **at, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = memcpy(*at, s, n);
    *at += n;
    return d;
}

struct es_item *es_item_pack(const struct es_item *src)
{
    const char *fields[] = {
        src->platform, src->source,      src->external_id, src->url,
        src->author,   src->author_name, src->title,       src->text,
        src->summary,  src->content,     src->in_reply_to, src->thread_root,
        src->lang,     src->reply_ref,
    };
    size_t need = sizeof(*src) + src->ncategories * sizeof(char *);
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        need += fields[i] ? strlen(fields[i]) + 1 : 0;
    for (size_t i = 0; i < src->ncategories; i++)
        need += strlen(src->categories[i]) + 1;

    /* The struct first, then the category pointers (pointer-aligned right
     * after it), then the bytes of every string. */
    char *block = es_xmalloc(need);
    struct es_item *d = (struct es_item *)(void *)block;
    *d = *src;
    d->packed = 1;
    char *at = block + sizeof(*d);
    d->categories = NULL;
    if (src->ncategories) {
        d->categories = (char **)(void *)at;
        at += src->ncategories * sizeof(char *);
    }
    char **dfields[] = { ITEM_STRINGS(d) };
    for (size_t i = 0; i < sizeof(dfields) / sizeof(dfields[0]); i++)
        *dfields[i] = pack_str(&at, fields[i]);
    for (size_t i = 0; i < src->ncategories; i++)
        d->categories[i] = pack_str(&at, src->categories[i]);
    return d;
}

void es_item_add_category(struct es_item *item, const char *cat)
{
    item->categories =
        es_xrealloc(item->categories, (item->ncategories + 1) * sizeof(char *));
    item->categories[item->ncategories++] = es_xstrdup(cat);
}

static const char *const kind_names[] = {
    [ES_KIND_POST] = "post",       [ES_KIND_REPLY] = "reply",
    [ES_KIND_COMMENT] = "comment", [ES_KIND_REVIEW] = "review",
    [ES_KIND_ARTICLE] = "article",
};

const char *es_item_kind_name(enum es_item_kind kind)
{
    if ((unsigned)kind >= sizeof(kind_names) / sizeof(kind_names[0]))
        return "post";
    return kind_names[kind];
}

int es_item_kind_parse(const char *name, enum es_item_kind *out)
{
    for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
        if (strcmp(name, kind_names[i]) == 0) {
            *out = (enum es_item_kind)i;
            return 0;
        }
    }
    return es_error_set(ES_EINVALID, "unknown kind '%s'", name);
}
