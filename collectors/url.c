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
#include <strings.h>

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

void es_url_add_escaped(struct es_buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
            c == '~') {
            es_buf_addch(out, c);
        } else {
            es_buf_addch(out, '%');
            es_buf_addch(out, hex[c >> 4]);
            es_buf_addch(out, hex[c & 15]);
        }
    }
}

void es_url_add_param(struct es_buf *url, const char *name, const char *value)
{
    if (!value)
        return;
    es_buf_addch(url, url->ptr && strchr(url->ptr, '?') ? '&' : '?');
    es_buf_adds(url, name);
    es_buf_addch(url, '=');
    es_url_add_escaped(url, value);
}

int es_url_link_rel(const char *link, const char *rel, struct es_buf *out)
{
    /* <https://a/b?max_id=1>; rel="next", <https://a/b?min_id=9>;
     * rel="prev" */
    const char *p = link;
    size_t rlen = strlen(rel);
    while (p && *p) {
        const char *lt = strchr(p, '<');
        if (!lt)
            return -1;
        const char *gt = strchr(lt, '>');
        if (!gt)
            return -1;
        const char *end = gt + 1;
        /* The parameters run to the next ',' outside quotes. */
        int quoted = 0;
        while (*end && (quoted || *end != ',')) {
            if (*end == '"')
                quoted = !quoted;
            end++;
        }
        for (const char *q = gt + 1; q + 4 < end; q++) {
            if (strncasecmp(q, "rel=", 4) != 0)
                continue;
            const char *v = q + 4;
            if (*v == '"')
                v++;
            /* rel may list several space-separated relations (and a
             * comma inside the quotes, which RFC 8288 does not define,
             * separates them too rather than stopping the scan). */
            while (v < end && *v != '"' && *v != ';') {
                size_t n = strcspn(v, " \";,");
                if (n == rlen && strncasecmp(v, rel, rlen) == 0) {
                    es_buf_reset(out);
                    es_buf_add(out, lt + 1, (size_t)(gt - lt - 1));
                    return 0;
                }
                v += n;
                while (*v == ' ' || *v == ',')
                    v++;
            }
        }
        p = *end ? end + 1 : end;
    }
    return -1;
}

int es_url_query_param(const char *url, const char *name, struct es_buf *out)
{
    const char *q = strchr(url, '?');
    size_t nlen = strlen(name);
    while (q && *q && *q != '#') {
        q++;
        size_t plen = strcspn(q, "&#");
        if (plen > nlen && strncmp(q, name, nlen) == 0 && q[nlen] == '=') {
            int n = 0;
            char *v = NULL;
            /* "name=" is empty: a length of 0 would have curl unescape
             * the rest of the URL. */
            if (plen > nlen + 1 &&
                !(v = curl_easy_unescape(NULL, q + nlen + 1,
                                         (int)(plen - nlen - 1), &n)))
                return -1;
            es_buf_reset(out); /* @url may live in @out: read it first */
            es_buf_add(out, v ? v : "", (size_t)n);
            curl_free(v);
            return 0;
        }
        q += plen;
    }
    return -1;
}

size_t es_url_trim_len(const char *base)
{
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    return n;
}
