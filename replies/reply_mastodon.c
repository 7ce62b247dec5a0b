/* reply_mastodon.c - replies as Mastodon statuses
 *
 * POST /api/v1/statuses with in_reply_to_id and the reply's idempotency
 * key in the Idempotency-Key header: Mastodon remembers the key and
 * answers a repeat with the status it already created, so a reply cut
 * off mid-flight is simply sent again (within the hour Mastodon keeps
 * the key). A private message is a status of
 * visibility "direct", addressed to the author by the "@acct" the outbox
 * put in front of the text; a public reply is as narrow as the status it
 * answers (direct, followers-only or unlisted), never wider. Status ids are per
 * instance: when the account lives on another instance than the one the mention
 * was read from, the mention is looked up there first (search with
 * resolve=true).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "earshot/alloc.h"
#include "reply.h"
#include "url.h"

/* The host part of @url ("https://HOST/..."), for comparing instances. */
static void host_of(const char *url, struct es_buf *out)
{
    es_buf_reset(out);
    if (!url)
        return;
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t n = strcspn(p, "/?#");
    es_buf_add(out, p, n);
}

/* Whether the account's instance is not the one the mention's source
 * reads (both known). */
static int other_instance(const struct es_reply_job *job)
{
    const char *src =
        job->source ? es_config_source_get(job->source, "base_url") : NULL;
    const char *acc = es_config_source_get(job->account, "base_url");
    if (!src || !acc)
        return 0;
    struct es_buf a = ES_BUF_INIT, b = ES_BUF_INIT;
    host_of(src, &a);
    host_of(acc, &b);
    int other = strcasecmp(a.ptr, b.ptr) != 0;
    es_buf_release(&a);
    es_buf_release(&b);
    return other;
}

/* Finds the mention's status id on the account's instance into @out. */
static int resolve_status(struct es_reply_job *job, const char *base,
                          const char *auth, struct es_buf *out)
{
    const char *where = job->mention->item.url;
    if (!where)
        return es_reply__fail(job, ES_REPLY_REFUSED,
                              "the mention has no URL to find it by on the "
                              "account's instance");
    struct es_buf url = ES_BUF_INIT;
    struct es_http_response res;
    yajl_val root = NULL;
    es_buf_addf(&url, "%s/api/v2/search", base);
    es_url_add_param(&url, "q", where);
    es_url_add_param(&url, "type", "statuses");
    es_url_add_param(&url, "resolve", "true");
    es_url_add_param(&url, "limit", "1");
    const char *headers[] = { auth, "Accept: application/json", NULL };
    struct es_http_request req = { .url = url.ptr, .headers = headers };
    int rc = es_reply__call(job, &req, &res, "finding the mention", 1);
    if (rc == 0)
        rc = es_reply__parse(job, &res, "mastodon search", ES_REPLY_RETRY,
                             &root);
    if (rc == 0) {
        char id[64];
        yajl_val st = es_json_at(es_json_get(root, "statuses"), 0);
        if (es_json_id(st, "id", id, sizeof(id)))
            es_buf_adds(out, id);
        else
            rc = es_reply__fail(job, ES_REPLY_REFUSED,
                                "the account's instance cannot find the "
                                "mention %s",
                                where);
    }
    es_json_free(root);
    es_http_response_release(&res);
    es_buf_release(&url);
    return rc;
}

/* The visibility to post the reply with, or NULL for the account's
 * default: "direct" for a private message; else the status's own when it
 * was narrower than public (kept in the mention's reply_ref since the
 * collector read it), since Mastodon does not narrow a reply itself. */
static const char *reply_visibility(struct es_reply_job *job,
                                    struct es_buf *scratch)
{
    if (job->reply->private_message)
        return "direct";
    if (es_reply__ref(job, "visibility", scratch) < 0)
        return NULL;
    static const char *const narrower[] = { "direct", "private", "unlisted" };
    for (size_t i = 0; i < sizeof(narrower) / sizeof(narrower[0]); i++)
        if (strcmp(scratch->ptr, narrower[i]) == 0)
            return narrower[i];
    /* A fork's own ("limited", "local", "mutual"): followers only, rather
     * than guess wider. */
    return strcmp(scratch->ptr, "public") != 0 ? "private" : NULL;
}

static void mastodon_send(struct es_reply_job *job)
{
    struct es_buf base = ES_BUF_INIT, auth = ES_BUF_INIT, key = ES_BUF_INIT;
    struct es_buf url = ES_BUF_INIT, body = ES_BUF_INIT, parent = ES_BUF_INIT;
    struct es_buf parent_vis = ES_BUF_INIT;
    struct es_http_response res;
    yajl_val root = NULL;

    es_http_response_init(&res);
    es_reply__base(job, "", &base);
    if (!base.len) {
        es_reply__fail(job, ES_REPLY_REFUSED,
                       "the account has no base_url (its instance)");
        goto done;
    }
    if (es_reply__auth(job, "Bearer", "token", &auth) < 0)
        goto done;
    if (other_instance(job)) {
        if (resolve_status(job, base.ptr, auth.ptr, &parent) < 0)
            goto done;
    } else {
        es_buf_adds(&parent, job->mention->item.external_id);
    }
    es_buf_addf(&key, "Idempotency-Key: %s", job->reply->idempotency_key);
    es_buf_addf(&url, "%s/api/v1/statuses", base.ptr);
    es_buf_adds(&body, "{\"status\":");
    es_json_add_str(&body, job->reply->body);
    es_buf_adds(&body, ",\"in_reply_to_id\":");
    es_json_add_str(&body, parent.ptr);
    /* Never wider than the status answered: a public reply to a direct
     * message would publish a private conversation. */
    const char *vis = reply_visibility(job, &parent_vis);
    if (vis) {
        es_buf_adds(&body, ",\"visibility\":");
        es_json_add_str(&body, vis);
    }
    es_buf_addch(&body, '}');
    const char *headers[] = { auth.ptr, key.ptr,
                              "Content-Type: application/json",
                              "Accept: application/json", NULL };
    if (es_reply__post(job, url.ptr, &body, headers, "posting the status", 0,
                       "mastodon", &res, &root) < 0)
        goto done;
    char id[64];
    if (!es_json_id(root, "id", id, sizeof(id))) {
        es_reply__fail(job, ES_REPLY_MAYBE,
                       "mastodon answered without the new status's id");
        goto done;
    }
    job->platform_id = es_xstrdup(id);
    const char *u = es_json_str(root, "url");
    if (!u)
        u = es_json_str(root, "uri");
    job->url = u ? es_xstrdup(u) : NULL;
    job->outcome = ES_REPLY_POSTED;
done:
    es_http_response_release(&res);
    es_json_free(root);
    es_reply__wipe(&auth);
    es_buf_release(&base);
    es_buf_release(&key);
    es_buf_release(&url);
    es_buf_release(&body);
    es_buf_release(&parent);
    es_buf_release(&parent_vis);
}

const struct es_reply_ops es_reply_mastodon = {
    .name = "mastodon",
    .flags = ES_REPLY_KEYED_PUBLIC | ES_REPLY_KEYED_PRIVATE,
    /* Mastodon keeps an Idempotency-Key for an hour. */
    .key_ttl_s = 3600,
    .send = mastodon_send,
};
