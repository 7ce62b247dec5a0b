/* fuzz_common.c - the checks fuzz.h declares */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/buf.h"
#include "fuzz.h"

void fuzz__check(int ok, const char *what, const char *file, int line)
{
    if (ok)
        return;
    fprintf(stderr, "%s:%d: property failed: %s\n", file, line, what);
    abort();
}

int fuzz_utf8_ok(const char *s)
{
    return !s || es_utf8_invalid_at(s, strlen(s)) == strlen(s);
}

int fuzz_check_item(const struct es_item *item, void *payload)
{
    (void)payload;
    const char *fields[] = {
        item->platform, item->source,      item->external_id, item->url,
        item->author,   item->author_name, item->title,       item->text,
        item->summary,  item->content,     item->in_reply_to, item->thread_root,
        item->lang,     item->reply_ref
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        fuzz_check(fuzz_utf8_ok(fields[i]), "item string is valid UTF-8");
    for (size_t i = 0; i < item->ncategories; i++)
        fuzz_check(item->categories[i] && fuzz_utf8_ok(item->categories[i]),
                   "category is valid UTF-8");
    fuzz_check(item->platform != NULL, "item has a platform");
    fuzz_check(item->kind >= ES_KIND_POST && item->kind <= ES_KIND_ARTICLE,
               "item kind in range");
    fuzz_check(item->rating >= 0 && item->rating <= 5, "rating is 0..5");
    return 0;
}
