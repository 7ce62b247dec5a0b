/* reply_x.c - replies as posts on X, private messages as direct messages
 *
 * POST /2/tweets with reply.in_reply_to_tweet_id, and for a private
 * message POST /2/dm_conversations/with/:participant_id/messages after
 * looking the author's id up by username (GET /2/users/by/username/).
 * Both with the account's OAuth 2.0 user-context token. X takes no
 * idempotency key: a post cut off mid-flight is 'unknown'.
 */
#include <stdlib.h>
#include <string.h>

#include "earshot/alloc.h"
#include "reply.h"
#include "url.h"

#define DEFAULT_API "https://api.x.com"

/* Looks the author's user id up into @out. */
static int author_id(struct es_reply_job *job, const char *base,
                     const char *auth, struct es_buf *out)
{
    const char *author = job->mention->item.author;
    if (!author || !*author)
        return es_reply__fail(job, ES_REPLY_REFUSED,
                              "the mention has no author to write to");
    struct es_buf url = ES_BUF_INIT;
    struct es_http_response res;
    yajl_val root = NULL;
    es_buf_addf(&url, "%s/2/users/by/username/", base);
    es_url_add_escaped(&url, author);
    const char *headers[] = { auth, "Accept: application/json", NULL };
    struct es_http_request req = { .url = url.ptr, .headers = headers };
    int rc = es_reply__call(job, &req, &res, "looking up the author", 1);
    if (rc == 0)
        rc = es_reply__parse(job, &res, "x users", ES_REPLY_RETRY, &root);
    if (rc == 0) {
        char id[32];
        if (es_json_id(es_json_get(root, "data"), "id", id, sizeof(id)))
            es_buf_adds(out, id);
        else
            rc = es_reply__fail(job, ES_REPLY_REFUSED, "X knows no user '%s'",
                                author);
    }
    es_json_free(root);
    es_http_response_release(&res);
    es_buf_release(&url);
    return rc;
}

static void x_send(struct es_reply_job *job)
{
    struct es_buf base = ES_BUF_INIT, auth = ES_BUF_INIT, url = ES_BUF_INIT,
                  body = ES_BUF_INIT, user = ES_BUF_INIT, parent = ES_BUF_INIT;
    struct es_http_response res;
    yajl_val root = NULL;
    int dm = job->reply->private_message;

    es_http_response_init(&res);
    es_reply__base(job, DEFAULT_API, &base);
    if (es_reply__auth(job, "Bearer", "token", &auth) < 0)
        goto done;
    es_buf_adds(&body, "{\"text\":");
    es_json_add_str(&body, job->reply->body);
    if (dm) {
        if (author_id(job, base.ptr, auth.ptr, &user) < 0)
            goto done;
        es_buf_addf(&url, "%s/2/dm_conversations/with/", base.ptr);
        es_url_add_escaped(&url, user.ptr);
        es_buf_adds(&url, "/messages");
    } else {
        es_buf_addf(&url, "%s/2/tweets", base.ptr);
        /* The newest version of an edited post (source_x.c). */
        if (es_reply__ref(job, "id", &parent) < 0)
            es_buf_adds(&parent, job->mention->item.external_id);
        es_buf_adds(&body, ",\"reply\":{\"in_reply_to_tweet_id\":");
        es_json_add_str(&body, parent.ptr);
        es_buf_addch(&body, '}');
    }
    es_buf_addch(&body, '}');
    const char *headers[] = { auth.ptr, "Content-Type: application/json",
                              "Accept: application/json", NULL };
    if (es_reply__post(job, url.ptr, &body, headers,
                       dm ? "sending the message" : "posting the reply", 0, "x",
                       &res, &root) < 0)
        goto done;
    char id[32];
    yajl_val data = es_json_get(root, "data");
    if (!es_json_id(data, dm ? "dm_event_id" : "id", id, sizeof(id))) {
        es_reply__fail(job, ES_REPLY_MAYBE,
                       "X answered without the new %s's id",
                       dm ? "message" : "post");
        goto done;
    }
    job->platform_id = es_xstrdup(id);
    if (!dm)
        job->url = es_xasprintf("https://x.com/i/web/status/%s", id);
    job->outcome = ES_REPLY_POSTED;
done:
    es_json_free(root);
    es_http_response_release(&res);
    es_reply__wipe(&auth);
    es_buf_release(&base);
    es_buf_release(&url);
    es_buf_release(&body);
    es_buf_release(&user);
    es_buf_release(&parent);
}

const struct es_reply_ops es_reply_x = {
    .name = "x",
    .flags = 0,
    .send = x_send,
};
