/* registry.c - the list of source kinds
 *
 * Adding a kind means one new file with its ops table and one line here
 * (curl's protocol table works the same way).
 */
#include <stdlib.h>
#include <string.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/source.h"

extern const struct es_source_ops es_source_rss_ops;

static const struct es_source_ops *const kinds[] = {
    &es_source_rss_ops,
    NULL,
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

void es_source__init_base(struct es_source *src,
                          const struct es_source_ops *ops,
                          const struct es_config_source *cfg)
{
    src->ops = ops;
    src->name = es_xstrdup(cfg->name);
    src->url = es_xstrdup(cfg->url);
    src->interval = cfg->interval > 0 ? cfg->interval : ops->default_interval_s;
    src->enabled = cfg->enabled;
}

void es_source__release_base(struct es_source *src)
{
    free(src->name);
    free(src->url);
    src->name = src->url = NULL;
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
