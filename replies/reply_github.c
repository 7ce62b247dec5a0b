/* reply_github.c - replies as GitHub issue comments
 *
 * GitHub has a reply API, so a mention read from an issue, a pull request
 * or one of their comments is answered with a comment on that issue:
 * POST /repos/OWNER/REPO/issues/N/comments with body, the account's token
 * (repo and number from the mention's reply_ref). The comment's id is the
 * one the collector stores for comments, so a poll that meets it again
 * knows it as ours. No idempotency key: a comment cut off mid-flight is
 * 'unknown'.
 */
#include <stdlib.h>
#include <string.h>

#include "earshot/alloc.h"
#include "reply.h"

#define DEFAULT_API "https://api.github.com"

/* Whether @repo is "owner/name" of URL-safe characters. */
static int valid_repo(const char *repo)
{
    const char *slash = strchr(repo, '/');
    if (!slash || slash == repo || !slash[1] || strchr(slash + 1, '/'))
        return 0;
    for (const char *p = repo; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || strchr("-_./", *p)))
            return 0;
    return 1;
}

static void github_send(struct es_reply_job *job)
{
    struct es_buf auth = ES_BUF_INIT, url = ES_BUF_INIT, body = ES_BUF_INIT,
                  repo = ES_BUF_INIT, number = ES_BUF_INIT;
    struct es_http_response res;
    yajl_val root = NULL;

    es_http_response_init(&res);
    if (es_reply__ref(job, "repo", &repo) < 0 ||
        es_reply__ref(job, "number", &number) < 0 || !valid_repo(repo.ptr) ||
        strspn(number.ptr, "0123456789") != number.len) {
        es_reply__fail(job, ES_REPLY_REFUSED,
                       "the mention names no issue (repo and number) to "
                       "comment on");
        goto done;
    }
    if (es_reply__auth(job, "Bearer", "token", &auth) < 0)
        goto done;
    es_reply__base(job, DEFAULT_API, &url);
    es_buf_addf(&url, "/repos/%s/issues/%s/comments", repo.ptr, number.ptr);
    es_buf_adds(&body, "{\"body\":");
    es_json_add_str(&body, job->reply->body);
    es_buf_addch(&body, '}');
    const char *headers[] = { auth.ptr, "Content-Type: application/json",
                              "Accept: application/vnd.github+json",
                              "X-GitHub-Api-Version: 2022-11-28", NULL };
    if (es_reply__post(job, url.ptr, &body, headers, "posting the comment", 0,
                       "github", &res, &root) < 0)
        goto done;
    char id[32];
    if (!es_json_id(root, "id", id, sizeof(id))) {
        es_reply__fail(job, ES_REPLY_MAYBE,
                       "github answered without the new comment's id");
        goto done;
    }
    job->platform_id = es_xstrdup(id);
    const char *html = es_json_str(root, "html_url");
    job->url = html ? es_xstrdup(html) : NULL;
    job->outcome = ES_REPLY_POSTED;
done:
    es_json_free(root);
    es_http_response_release(&res);
    es_reply__wipe(&auth);
    es_buf_release(&url);
    es_buf_release(&body);
    es_buf_release(&repo);
    es_buf_release(&number);
}

const struct es_reply_ops es_reply_github = {
    .name = "github",
    .flags = 0,
    .send = github_send,
};
