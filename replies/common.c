/* common.c - the platform senders' registry and shared helpers
 *
 * Adding a platform means one reply_<name>.c with its ops table and one
 * line in the registry below. The helpers turn an HTTP outcome into a
 * reply outcome the same way for every platform: what decides between
 * "try again" and "an agent must look" is whether the request can have
 * reached the platform, and that is a property of HTTP, not of the API.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "reply.h"

static const struct es_reply_ops *const registry[] = {
    &es_reply_mastodon, &es_reply_bluesky,
    &es_reply_x,        &es_reply_reddit,
    &es_reply_youtube,  &es_reply_googleplay,
    &es_reply_github,   NULL,
};

const struct es_reply_ops *es_reply__find(const char *name)
{
    for (size_t i = 0; name && registry[i]; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

int es_reply__fail(struct es_reply_job *job, enum es_reply_outcome outcome,
                   const char *fmt, ...)
{
    va_list ap;
    job->outcome = outcome;
    es_buf_reset(&job->error);
    va_start(ap, fmt);
    es_buf_vaddf(&job->error, fmt, ap);
    va_end(ap);
    return -1;
}

/* Whether libcurl's message @msg says the connection never got as far as
 * sending the request: the name did not resolve, nobody listened, the
 * connect timed out, TLS refused the peer. libcurl's codes stay inside
 * collectors/http.c, but its messages for these are stable. */
static int never_sent(const char *msg)
{
    static const char *const phrases[] = {
        "Could not resolve", "Couldn't resolve",     "Failed to connect",
        "Couldn't connect",  "Connection refused",   "Connection timed out",
        "SSL certificate",   "Unsupported protocol",
    };
    for (size_t i = 0; msg && i < sizeof(phrases) / sizeof(phrases[0]); i++)
        if (strstr(msg, phrases[i]))
            return 1;
    return 0;
}

int es_reply__call(struct es_reply_job *job, const struct es_http_request *req,
                   struct es_http_response *res, const char *what, int safe)
{
    int rc = es_http_get(job->http, req, res);
    return rc == 0 ? 0 : es_reply__classify(job, rc, res, what, safe);
}

int es_reply__classify(struct es_reply_job *job, int rc,
                       const struct es_http_response *res, const char *what,
                       int safe)
{
    const char *msg = res->error ? res->error : es_error_last();
    long code = res->http_code;
    char *platform_msg =
        code >= 400 ? es_json_error_text(res->body.ptr, res->body.len) : NULL;
    enum es_reply_outcome outcome;
    if (code == 429 || code == 503 || rc == ES_ERATELIMIT) {
        outcome = ES_REPLY_RETRY;
        job->retry_after = res->retry_after;
    } else if (code >= 500 || (code == 0 && !never_sent(msg)) ||
               (code >= 200 && code < 300)) {
        /* A 5xx, a transfer cut off, a 2xx too big to read: the post may
         * be there. */
        outcome = safe ? ES_REPLY_RETRY : ES_REPLY_MAYBE;
    } else if (code == 0 || code == 408) {
        outcome = ES_REPLY_RETRY;
    } else {
        outcome = ES_REPLY_REFUSED;
    }
    es_reply__fail(job, outcome, "%s: %s%s%s", what, msg,
                   platform_msg ? ": " : "", platform_msg ? platform_msg : "");
    free(platform_msg);
    return -1;
}

int es_reply__post(struct es_reply_job *job, const char *url,
                   const struct es_buf *body, const char *const *headers,
                   const char *what, int safe, const char *name,
                   struct es_http_response *res, yajl_val *root)
{
    struct es_http_request req = {
        .url = url,
        .method = "POST",
        .body = body->ptr,
        .body_len = body->len,
        .headers = headers,
    };
    if (es_reply__call(job, &req, res, what, safe) < 0)
        return -1;
    return es_reply__parse(job, res, name,
                           safe ? ES_REPLY_RETRY : ES_REPLY_MAYBE, root);
}

int es_reply__icontains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; hay && *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return 0;
}

void es_reply__base(const struct es_reply_job *job, const char *def,
                    struct es_buf *out)
{
    const char *b = es_config_source_get(job->account, "base_url");
    if (!b || !*b)
        b = def;
    size_t n = strlen(b);
    while (n && b[n - 1] == '/')
        n--;
    es_buf_add(out, b, n);
}

int es_reply__ref(const struct es_reply_job *job, const char *key,
                  struct es_buf *out)
{
    yajl_val root = NULL;
    const char *ref = job->mention->item.reply_ref;
    es_buf_reset(out);
    if (!ref || es_json_parse(&root, "reply_ref", ref, strlen(ref)) < 0)
        return -1;
    char num[32];
    const char *v = es_json_str(root, key);
    if (!v)
        v = es_json_id(root, key, num, sizeof(num)); /* a number */
    if (v)
        es_buf_adds(out, v);
    es_json_free(root);
    return out->len ? 0 : -1;
}

int es_reply__auth(struct es_reply_job *job, const char *scheme,
                   const char *key, struct es_buf *out)
{
    char *secret = NULL;
    int rc = es_outbox_account_secret(job->account, key, &secret);
    if (rc < 0)
        return es_reply__fail(job, ES_REPLY_REFUSED, "%s",
                              rc == ES_ENOTFOUND
                                  ? "the account has no credentials"
                                  : es_error_last());
    es_buf_addf(out, "Authorization: %s %s", scheme, secret);
    es_outbox_secret_free(secret);
    return 0;
}

void es_reply__wipe(struct es_buf *b)
{
    for (volatile char *p = b->ptr; b->alloc && p < b->ptr + b->len; p++)
        *p = '\0';
    es_buf_release(b);
}

int es_reply__parse(struct es_reply_job *job,
                    const struct es_http_response *res, const char *what,
                    enum es_reply_outcome outcome, yajl_val *root)
{
    *root = NULL;
    int rc = es_json_parse(root, what, res->body.ptr, res->body.len);
    if (rc == 0 && es_json_is_object(*root))
        return 0;
    es_json_free(*root);
    *root = NULL;
    return es_reply__fail(job, outcome,
                          "%s answered HTTP %ld with something that is not "
                          "the JSON object it sends for this: %s",
                          what, res->http_code,
                          !res->body.len ? "an empty body"
                          : rc < 0       ? es_error_last()
                                         : "another JSON value");
}
