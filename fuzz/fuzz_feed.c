/* fuzz_feed.c - the RSS/Atom parser on any bytes (collectors/feed.c)
 *
 * Parses the input twice: whole, as `earshot parse rss` does, and pushed
 * in small chunks with a Latin-1 charset from the HTTP header, as the
 * poller streams a response. Every entry emitted must keep item.h's
 * promises (fuzz_check_item).
 */
#include "earshot/feed.h"
#include "fuzz.h"

static int check_meta(const char *title, const char *link, void *payload)
{
    (void)payload;
    fuzz_check(fuzz_utf8_ok(title), "feed title is valid UTF-8");
    fuzz_check(fuzz_utf8_ok(link), "feed link is valid UTF-8");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct es_feed_opts opts = {
        .source = "fuzz",
        .base_url = "https://example.com/blog/feed.xml",
        .max_size = 1 << 20,
        .meta = check_meta,
    };
    size_t count = 0;
    es_feed_parse(buf, size, &opts, fuzz_check_item, NULL, &count);

    opts.charset = "ISO-8859-1";
    opts.base_url = NULL;
    struct es_feed_parser *p = es_feed_parser_new(&opts, fuzz_check_item, NULL);
    /* A chunk size from the input itself, so that the fuzzer explores
     * where the document is split. */
    size_t step = size ? (size_t)data[size / 2] % 61 + 1 : 1;
    int rc = 0;
    for (size_t off = 0; rc == 0 && off < size; off += step)
        rc = es_feed_parser_push(p, buf + off,
                                 size - off < step ? size - off : step);
    es_feed_parser_finish(p);
    const char *err = es_feed_parser_error(p);
    fuzz_check(fuzz_utf8_ok(err), "parse error message is valid UTF-8");
    es_feed_parser_free(p);
    return 0;
}
