/* fuzz_platforms.c - every platform kind's parser on any bytes
 *
 * Hands the input to the stateless parser of each kind that has one
 * (Mastodon, Bluesky, Reddit, Hacker News, X, YouTube, GitHub, the app
 * stores, JSON Lines: what `earshot parse KIND` runs), so one corpus of
 * platform responses exercises them all. Every item emitted must keep
 * item.h's promises.
 */
#include <stdlib.h>
#include <string.h>

#include "earshot/error.h"
#include "earshot/source.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The collectors get a NUL-terminated body (es_source_response), so
     * the copy has one after its last byte; NULs inside stay. */
    char *body = malloc(size + 1);
    memcpy(body, data, size);
    body[size] = '\0';
    struct es_parse_opts opts = { .source = "fuzz",
                                  .base_url = "https://example.com/" };
    for (const struct es_source_ops *const *k = es_source_kinds(); *k; k++) {
        if (!(*k)->parse_any)
            continue;
        int rc = (*k)->parse_any(body, size, &opts, fuzz_check_item, NULL);
        if (rc != 0)
            fuzz_check(fuzz_utf8_ok(es_error_last()),
                       "parse error message is valid UTF-8");
    }
    free(body);
    return 0;
}
