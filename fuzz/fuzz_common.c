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
    const struct {
        const char *name, *value;
    } fields[] = {
        { "platform", item->platform },
        { "source", item->source },
        { "external_id", item->external_id },
        { "url", item->url },
        { "author", item->author },
        { "author_name", item->author_name },
        { "title", item->title },
        { "text", item->text },
        { "summary", item->summary },
        { "content", item->content },
        { "in_reply_to", item->in_reply_to },
        { "thread_root", item->thread_root },
        { "lang", item->lang },
        { "reply_ref", item->reply_ref },
    };
    char what[96];
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        snprintf(what, sizeof(what), "%s item's %s is valid UTF-8",
                 item->platform ? item->platform : "an", fields[i].name);
        fuzz_check(fuzz_utf8_ok(fields[i].value), what);
    }
    for (size_t i = 0; i < item->ncategories; i++)
        fuzz_check(item->categories[i] && fuzz_utf8_ok(item->categories[i]),
                   "category is valid UTF-8");
    fuzz_check(item->platform != NULL, "item has a platform");
    fuzz_check(item->kind >= ES_KIND_POST && item->kind <= ES_KIND_ARTICLE,
               "item kind in range");
    fuzz_check(item->rating >= 0 && item->rating <= 5, "rating is 0..5");
    return 0;
}
