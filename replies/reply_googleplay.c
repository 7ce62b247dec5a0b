/* reply_googleplay.c - developer replies to Google Play reviews
 *
 * POST .../androidpublisher/v3/applications/PACKAGE/reviews/ID:reply
 * with replyText, the account's OAuth bearer token. A review holds one
 * developer reply and a new one replaces it, so sending the same reply
 * twice leaves exactly one: a reply cut off mid-flight is sent again.
 * The package is the account's `package`, else its source's. The reply
 * has no id of its own; its URL is the review's.
 */
#include <stdlib.h>
#include <string.h>

#include "earshot/alloc.h"
#include "reply.h"
#include "url.h"

#define DEFAULT_API "https://androidpublisher.googleapis.com"

static void googleplay_send(struct es_reply_job *job)
{
    struct es_buf auth = ES_BUF_INIT, url = ES_BUF_INIT, body = ES_BUF_INIT,
                  review = ES_BUF_INIT;
    struct es_http_response res;
    yajl_val root = NULL;

    es_http_response_init(&res);
    const char *package = es_config_source_get(job->account, "package");
    if ((!package || !*package) && job->source)
        package = es_config_source_get(job->source, "package");
    if (!package || !*package) {
        es_reply__fail(job, ES_REPLY_REFUSED,
                       "no package: set package = in the account");
        goto done;
    }
    if (es_reply__ref(job, "review_id", &review) < 0) {
        es_buf_reset(&review);
        es_buf_adds(&review, job->mention->item.external_id);
    }
    if (es_reply__auth(job, "Bearer", "token", &auth) < 0)
        goto done;
    es_reply__base(job, DEFAULT_API, &url);
    es_buf_adds(&url, "/androidpublisher/v3/applications/");
    es_url_add_escaped(&url, package);
    es_buf_adds(&url, "/reviews/");
    es_url_add_escaped(&url, review.ptr);
    es_buf_adds(&url, ":reply");
    es_buf_adds(&body, "{\"replyText\":");
    es_json_add_str(&body, job->reply->body);
    es_buf_addch(&body, '}');
    const char *headers[] = { auth.ptr, "Content-Type: application/json",
                              "Accept: application/json", NULL };
    if (es_reply__post(job, url.ptr, &body, headers, "posting the reply", 0,
                       "google play", &res, &root) < 0)
        goto done;
    if (!es_json_is_object(es_json_get(root, "result"))) {
        es_reply__fail(job, ES_REPLY_MAYBE,
                       "google play answered without the reply's result");
        goto done;
    }
    job->url =
        job->mention->item.url ? es_xstrdup(job->mention->item.url) : NULL;
    job->outcome = ES_REPLY_POSTED;
done:
    es_json_free(root);
    es_http_response_release(&res);
    es_reply__wipe(&auth);
    es_buf_release(&url);
    es_buf_release(&body);
    es_buf_release(&review);
}

const struct es_reply_ops es_reply_googleplay = {
    .name = "googleplay",
    .flags = ES_REPLY_KEYED_PUBLIC,
    .send = googleplay_send,
};
