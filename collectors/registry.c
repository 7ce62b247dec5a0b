/* registry.c - the list of source kinds
 *
 * Adding a kind means one new file with its ops table and one line here
 * (curl's protocol table works the same way).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/query.h"
#include "earshot/source.h"

extern const struct es_source_ops es_source_rss_ops;
extern const struct es_source_ops es_source_x_ops;
extern const struct es_source_ops es_source_youtube_ops;
extern const struct es_source_ops es_source_appstore_ops;
extern const struct es_source_ops es_source_googleplay_ops;
extern const struct es_source_ops es_source_jsonl_ops;
extern const struct es_source_ops es_source_bluesky_ops;
extern const struct es_source_ops es_source_reddit_ops;
extern const struct es_source_ops es_source_hackernews_ops;
extern const struct es_source_ops es_source_github_ops;
extern const struct es_source_ops es_source_mastodon_ops;

static const struct es_source_ops *const kinds[] = {
    &es_source_rss_ops,        &es_source_x_ops,
    &es_source_youtube_ops,    &es_source_appstore_ops,
    &es_source_googleplay_ops, &es_source_jsonl_ops,
    &es_source_bluesky_ops,    &es_source_reddit_ops,
    &es_source_hackernews_ops, &es_source_github_ops,
    &es_source_mastodon_ops,   NULL,
};

const struct es_source_ops *es_source_find(const char *type)
{
    if (!type)
        return NULL;
    for (size_t i = 0; kinds[i]; i++)
        if (strcmp(kinds[i]->name, type) == 0)
            return kinds[i];
    /* An Atom feed is read by the same parser: accept the obvious name. */
    if (strcmp(type, "atom") == 0 || strcmp(type, "rdf") == 0)
        return &es_source_rss_ops;
    return NULL;
}

const struct es_source_ops *const *es_source_kinds(void)
{
    return kinds;
}

int es_source__init_base(struct es_source *src, const struct es_source_ops *ops,
                         const struct es_config_source *cfg)
{
    char err[256];
    src->ops = ops;
    src->name = es_xstrdup(cfg->name);
    src->url = es_xstrdup(cfg->url);
    src->base_url = es_xstrdup(es_config_source_get(cfg, "base_url"));
    src->interval = cfg->interval > 0 ? cfg->interval : ops->default_interval_s;
    src->enabled = cfg->enabled;

    char *who =
        es_xasprintf("%s:%d: [source \"%s\"]", cfg->file, cfg->line, cfg->name);
    int rc = es_config_source_secret(cfg, who, &src->token);
    free(who);
    if (rc < 0 && rc != ES_ENOTFOUND) {
        es_source__release_base(src);
        return rc;
    }

    const char *query = es_config_source_get(cfg, "query");
    if (query && es_query_parse(&src->query, query, err, sizeof(err)) != 0) {
        int line = cfg->line;
        for (size_t i = 0; i < cfg->nkv; i++)
            if (strcmp(cfg->kv[i].key, "query") == 0)
                line = cfg->kv[i].line;
        es_source__release_base(src);
        return es_error_set(ES_EINVALID, "%s:%d: [source \"%s\"] bad query: %s",
                            cfg->file, line, cfg->name, err);
    }
    return 0;
}

void es_source__release_base(struct es_source *src)
{
    free(src->name);
    free(src->url);
    free(src->base_url);
    if (src->token) {
        memset(src->token, 0, strlen(src->token));
        free(src->token);
    }
    es_query_free(src->query);
    src->name = src->url = src->base_url = src->token = NULL;
    src->query = NULL;
}

int es_source_matches(const struct es_source *src, const struct es_item *item)
{
    /* A mention of the brand's account, the thread around it and the
     * brand's own posts belong in the inbox whatever words they use. */
    if (!src->query ||
        (item->flags & (ES_ITEM_DIRECT | ES_ITEM_CONTEXT | ES_ITEM_OWN)))
        return 1;
    /* The content too: the text a reader sees drops where links point
     * ("[the pricing page](https://acme.example/pricing)"), and a post
     * may be about the brand only through them. */
    const char *fields[] = { item->title, item->text, item->author,
                             item->content };
    return es_query_match(src->query, fields, 4);
}

int es_source_open(struct es_source **out, const struct es_config_source *cfg)
{
    *out = NULL;
    const struct es_source_ops *ops = es_source_find(cfg->type);
    if (!ops)
        return es_error_set(
            ES_EINVALID, "%s:%d: unknown type '%s' in [source \"%s\"]",
            cfg->file, cfg->line, cfg->type ? cfg->type : "", cfg->name);
    return ops->open(out, cfg);
}

void es_source_free(struct es_source *src)
{
    if (!src)
        return;
    src->ops->close(src);
}
