/* reply_youtube.c - replies as YouTube comment replies
 *
 * comments.insert: POST /youtube/v3/comments?part=snippet with
 * snippet.parentId, the thread's top-level comment (YouTube threads are
 * one level deep: a reply to a reply answers the top comment), and
 * snippet.textOriginal, with the account's OAuth bearer token. No
 * idempotency key: a comment cut off mid-flight is 'unknown'.
 */
#include <stdlib.h>
#include <string.h>

#include "earshot/alloc.h"
#include "reply.h"
#include "url.h"

#define DEFAULT_API "https://www.googleapis.com"

/* The mention's URL with lc= (the highlighted comment) set to @id. */
static char *comment_url(const char *mention_url, const char *id)
{
    const char *v = mention_url ? strstr(mention_url, "watch?v=") : NULL;
    if (!v)
        return NULL;
    size_t n = strcspn(v + 8, "&#");
    struct es_buf u = ES_BUF_INIT;
    es_buf_adds(&u, "https://www.youtube.com/watch?v=");
    es_buf_add(&u, v + 8, n);
    es_buf_adds(&u, "&lc=");
    es_url_add_escaped(&u, id);
    return es_buf_detach(&u);
}

static void youtube_send(struct es_reply_job *job)
{
    struct es_buf auth = ES_BUF_INIT, url = ES_BUF_INIT, body = ES_BUF_INIT;
    struct es_http_response res;
    yajl_val root = NULL;
    const struct es_item *it = &job->mention->item;

    es_http_response_init(&res);
    if (es_reply__auth(job, "Bearer", "token", &auth) < 0)
        goto done;
    es_reply__base(job, DEFAULT_API, &url);
    es_buf_adds(&url, "/youtube/v3/comments?part=snippet");
    es_buf_adds(&body, "{\"snippet\":{\"parentId\":");
    es_json_add_str(&body, it->thread_root ? it->thread_root : it->external_id);
    es_buf_adds(&body, ",\"textOriginal\":");
    es_json_add_str(&body, job->reply->body);
    es_buf_adds(&body, "}}");
    const char *headers[] = { auth.ptr, "Content-Type: application/json",
                              "Accept: application/json", NULL };
    if (es_reply__post(job, url.ptr, &body, headers, "posting the comment", 0,
                       "youtube", &res, &root) < 0)
        goto done;
    const char *id = es_json_str(root, "id");
    if (!id) {
        es_reply__fail(job, ES_REPLY_MAYBE,
                       "youtube answered without the new comment's id");
        goto done;
    }
    job->platform_id = es_xstrdup(id);
    job->url = comment_url(it->url, id);
    job->outcome = ES_REPLY_POSTED;
done:
    es_json_free(root);
    es_http_response_release(&res);
    es_reply__wipe(&auth);
    es_buf_release(&url);
    es_buf_release(&body);
}

const struct es_reply_ops es_reply_youtube = {
    .name = "youtube",
    .flags = 0,
    .send = youtube_send,
};
