/* fuzz_url.c - links and URLs from outside (collectors/url.c)
 *
 * The input is a base URL, a newline, a reference, a newline, then the
 * value of a Link header as a server may send it (RFC 8288 pagination:
 * GitHub, Mastodon). The reference is resolved against the base as a
 * feed's relative link is; the header's "next" link is looked up (a rude
 * server must not hang it), and a query value escaped into a URL must
 * come back out unchanged.
 */
#include <stdlib.h>
#include <string.h>

#include "earshot/buf.h"
#include "fuzz.h"
#include "url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *ref = strchr(buf, '\n');
    char *link = NULL;
    if (ref) {
        *ref++ = '\0';
        link = strchr(ref, '\n');
        if (link)
            *link++ = '\0';
    }

    struct es_buf out = ES_BUF_INIT;
    if (ref)
        es_url_resolve(buf, ref, strlen(ref), &out);
    if (link) {
        es_buf_reset(&out);
        if (es_url_link_rel(link, "next", &out) == 0)
            fuzz_check(out.len <= strlen(link),
                       "the link comes from the header");
    }

    /* A query value escaped into a URL reads back as it was. */
    struct es_buf url = ES_BUF_INIT, back = ES_BUF_INIT;
    es_buf_adds(&url, "https://example.com/api/v1/search");
    es_url_add_param(&url, "q", buf);
    es_url_add_param(&url, "max_id", "42");
    for (size_t i = sizeof("https://example.com") - 1; i < url.len; i++)
        fuzz_check(url.ptr[i] > ' ' && url.ptr[i] < 0x7f && url.ptr[i] != '#',
                   "an escaped query holds only URL characters");
    fuzz_check(es_url_query_param(url.ptr, "q", &back) == 0 &&
                   strcmp(back.ptr ? back.ptr : "", buf) == 0,
               "an escaped query value reads back unchanged");
    es_buf_release(&back);
    es_buf_release(&url);
    es_buf_release(&out);
    free(buf);
    return 0;
}
