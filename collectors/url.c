/* url.c - resolving relative links against a base URL
 *
 * Feeds may give entry links relative to xml:base or to the document's own
 * URL. libcurl's CURLU parser implements RFC 3986 resolution: setting a
 * relative URL on a handle that holds the base resolves it. Absolute links,
 * by far the common case, never reach libcurl.
 */
#include "url.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "earshot/alloc.h"

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

int es_url_is_absolute(const char *s, size_t len)
{
    size_t i = 0;
    if (len == 0 || !is_alpha((unsigned char)s[0]))
        return 0;
    while (i < len &&
           (is_alpha((unsigned char)s[i]) || (s[i] >= '0' && s[i] <= '9') ||
            s[i] == '+' || s[i] == '-' || s[i] == '.'))
        i++;
    return i < len && s[i] == ':';
}

int es_url_resolve(const char *base, const char *ref, size_t len,
                   struct es_buf *out)
{
    CURLU *h = NULL;
    char *ref0 = NULL, *res = NULL;
    int resolved = 0;
    /* Spaces and non-ASCII bytes are percent-encoded rather than refused:
     * feeds are not strict about either. */
    const unsigned flags = CURLU_NON_SUPPORT_SCHEME | CURLU_URLENCODE;

    while (len && is_space((unsigned char)ref[0])) {
        ref++;
        len--;
    }
    while (len && is_space((unsigned char)ref[len - 1]))
        len--;
    if (es_url_is_absolute(ref, len) || !base || !*base)
        goto done;
    if (!es_url_is_absolute(base, strlen(base)))
        goto done;
    if (len && ref[0] == '#') {
        /* libcurl 7.88 drops the last segment of the base here. */
        const char *hash = strchr(base, '#');
        es_buf_add(out, base, hash ? (size_t)(hash - base) : strlen(base));
        es_buf_add(out, ref, len);
        resolved = 1;
        goto done;
    }
    h = curl_url();
    if (!h)
        goto done;
    if (curl_url_set(h, CURLUPART_URL, base, flags) != CURLUE_OK)
        goto done;
    ref0 = es_xstrndup(ref, len);
    if (curl_url_set(h, CURLUPART_URL, ref0, flags) != CURLUE_OK)
        goto done;
    if (curl_url_get(h, CURLUPART_URL, &res, 0) != CURLUE_OK)
        goto done;
    es_buf_adds(out, res);
    resolved = 1;

done:
    if (!resolved)
        es_buf_add(out, ref, len);
    curl_free(res);
    free(ref0);
    curl_url_cleanup(h);
    return resolved;
}
