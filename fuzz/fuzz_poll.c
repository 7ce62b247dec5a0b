/* fuzz_poll.c - each source kind's poll-time parser on any answer
 *
 * fuzz_platforms runs the stateless parsers; a poll runs ops->parse with
 * the source's state: the cursor it resumes from, the pages and the
 * windows it walks (a Hacker News answer's page counts once overflowed
 * there). The first byte picks the kind and whether a cursor is stored;
 * the rest is the answer, given to parse twice, as a first page and as
 * the page after it. Every item must keep item.h's promises, and the
 * cursor a page hands back must be valid UTF-8.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/alloc.h"
#include "earshot/config.h"
#include "earshot/error.h"
#include "earshot/source.h"
#include "fuzz.h"

/* A section each kind opens with; nothing here touches the network. */
static const char *const configs[] = {
    "type = rss\nurl = https://e.example/feed.xml\n",
    "type = mastodon\nbase_url = https://m.example\ntag = acme\n",
    ("type = bluesky\nbase_url = https://b.example/\nhandle = acme.com\n"
     "own_posts = yes\n"),
    "type = reddit\nquery = acme\n",
    "type = hackernews\nquery = acme\n",
    "type = x\ntoken = t\nquery = acme\n",
    "type = youtube\ntoken = k\nvideos = dQw4w9WgXcQ\n",
    "type = github\nquery = acme\n",
    "type = appstore\napp_id = 1\n",
    "type = googleplay\ntoken = t\npackage = com.acme.app\n",
};
#define NKINDS (sizeof(configs) / sizeof(configs[0]))

/* Cursors of the shapes kinds store (a time, an id, JSON): a kind reads
 * what it understands and starts over on the rest. */
static const char *const cursors[] = {
    NULL,
    "1714500000",
    "{\"acme\":1714500000}",
    "113502200000000100",
    "{\"own\":\"2024-05-01T09:40:00Z\"}",
};

static int check_item(const struct es_item *item, void *payload)
{
    return fuzz_check_item(item, payload);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t kind = data[0] % NKINDS;
    const char *cursor = cursors[(data[0] / NKINDS) % 5];
    char *text = es_xasprintf("[source \"f\"]\n%s", configs[kind]);
    struct es_config *cfg;
    if (es_config_load_string(&cfg, text, "fuzz.conf") != 0) {
        fprintf(stderr, "fuzz_poll: %s\n", es_error_last());
        abort();
    }
    struct es_source *src;
    if (es_source_open(&src, es_config_source_at(cfg, 0)) != 0) {
        fprintf(stderr, "fuzz_poll: %s\n", es_error_last());
        abort();
    }
    char *body = malloc(size);
    memcpy(body, data + 1, size - 1);
    body[size - 1] = '\0';
    const struct es_source_ops *ops = src->ops;
    if (ops->begin)
        ops->begin(src, cursor);
    for (int round = 0; round < 2; round++) {
        struct es_source_request req = { 0 };
        if (ops->request && ops->request(src, &req) != 0)
            break;
        struct es_source_response res = {
            .body = body,
            .len = size - 1,
            .content_type =
                kind == 0 ? "application/rss+xml" : "application/json",
            .http_code = 200,
            .link =
                round ? "<https://e.example/next?page=3>; rel=\"next\"" : NULL,
        };
        struct es_source_page page = { 0 };
        int rc = ops->parse(src, &res, &page, check_item, NULL);
        fuzz_check(fuzz_utf8_ok(page.cursor), "a page's cursor is valid UTF-8");
        free(page.cursor);
        if (rc != 0 || !page.more)
            break;
    }
    free(body);
    es_source_free(src);
    es_config_free(cfg);
    free(text);
    return 0;
}
