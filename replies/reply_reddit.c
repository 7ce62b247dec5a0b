/* reply_reddit.c - replies as Reddit comments, private messages by mail
 *
 * POST /api/comment with thing_id (the mention's fullname: t3_ a post,
 * t1_ a comment, t4_ a message, which answers in the same thread) and
 * text; a private message about a post or comment is POST /api/compose
 * to the author. The token is the account's, or one from the password
 * grant (client_id, client_secret, username, password) as the collector
 * gets it. Reddit answers most refusals with HTTP 200 and a list of
 * json.errors; RATELIMIT among them means "later". Reddit takes no
 * idempotency key: a comment cut off mid-flight is 'unknown'.
 */
#include <stdlib.h>
#include <string.h>

#include "earshot/alloc.h"
#include "reply.h"
#include "url.h"

#define WWW_HOST   "https://www.reddit.com"
#define OAUTH_HOST "https://oauth.reddit.com"
/* Reddit asks for a descriptive User-Agent; `user_agent` overrides. */
#define DEFAULT_UA "earshot:replies:v1 (self-hosted social listening)"

static void add_base64(struct es_buf *out, const char *s, size_t len)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        es_buf_addch(out, tab[v >> 18 & 63]);
        es_buf_addch(out, tab[v >> 12 & 63]);
        es_buf_addch(out, i + 1 < len ? tab[v >> 6 & 63] : '=');
        es_buf_addch(out, i + 2 < len ? tab[v & 63] : '=');
    }
}

/* Sets @auth to "Authorization: bearer TOKEN": the account's token, or
 * one from the password grant. */
static int get_token(struct es_reply_job *job, const char *ua,
                     struct es_buf *auth)
{
    char *tok = NULL, *id = NULL, *secret = NULL, *user = NULL, *pass = NULL;
    struct es_buf url = ES_BUF_INIT, body = ES_BUF_INIT, basic = ES_BUF_INIT,
                  cred = ES_BUF_INIT;
    struct es_http_response res;
    yajl_val root = NULL;
    int rc = 0;

    es_http_response_init(&res);
    if (es_outbox_account_secret(job->account, "token", &tok) == 0) {
        es_buf_addf(auth, "Authorization: bearer %s", tok);
        goto done;
    }
    if (es_outbox_account_secret(job->account, "client_id", &id) < 0 ||
        es_outbox_account_secret(job->account, "client_secret", &secret) < 0 ||
        es_outbox_account_secret(job->account, "username", &user) < 0 ||
        es_outbox_account_secret(job->account, "password", &pass) < 0) {
        rc = es_reply__fail(job, ES_REPLY_REFUSED,
                            "the account needs a token, or client_id, "
                            "client_secret, username and password");
        goto done;
    }
    const char *b = es_config_source_get(job->account, "base_url");
    es_reply__base(job, b && *b ? b : WWW_HOST, &url);
    es_buf_adds(&url, "/api/v1/access_token");
    es_buf_addf(&cred, "%s:%s", id, secret);
    es_buf_adds(&basic, "Authorization: Basic ");
    add_base64(&basic, cred.ptr, cred.len);
    es_buf_adds(&body, "grant_type=password&username=");
    es_url_add_escaped(&body, user);
    es_buf_adds(&body, "&password=");
    es_url_add_escaped(&body, pass);
    const char *headers[] = { ua, basic.ptr,
                              "Content-Type: application/x-www-form-urlencoded",
                              "Accept: application/json", NULL };
    rc = es_reply__post(job, url.ptr, &body, headers, "getting a token", 1,
                        "reddit token", &res, &root);
    if (rc == 0) {
        const char *t = es_json_str(root, "access_token");
        if (t)
            es_buf_addf(auth, "Authorization: bearer %s", t);
        else
            rc = es_reply__fail(
                job, ES_REPLY_REFUSED, "reddit gave no token: %s",
                es_json_str(root, "error") ? es_json_str(root, "error")
                                           : "no access_token in the answer");
    }
done:
    es_json_free(root);
    es_http_response_release(&res);
    es_outbox_secret_free(tok);
    es_outbox_secret_free(id);
    es_outbox_secret_free(secret);
    es_outbox_secret_free(user);
    es_outbox_secret_free(pass);
    es_buf_release(&url);
    es_reply__wipe(&body);
    es_reply__wipe(&basic);
    es_reply__wipe(&cred);
    return rc;
}

/* Reads json.errors of a 200 answer: returns 0 when empty, or -1 with the
 * outcome set (RATELIMIT: retry; anything else: refused). */
static int reddit_errors(struct es_reply_job *job, yajl_val root)
{
    yajl_val errs = es_json_path(root, "json.errors");
    if (!es_json_len(errs))
        return 0;
    yajl_val e = es_json_at(errs, 0);
    yajl_val code = es_json_at(e, 0), msg = es_json_at(e, 1);
    const char *c = code && YAJL_IS_STRING(code) ? code->u.string : "";
    const char *m = msg && YAJL_IS_STRING(msg) ? msg->u.string : "";
    return es_reply__fail(
        job, strcmp(c, "RATELIMIT") == 0 ? ES_REPLY_RETRY : ES_REPLY_REFUSED,
        "reddit refused it: %s%s%s", c, *m ? ": " : "", m);
}

static void reddit_send(struct es_reply_job *job)
{
    struct es_buf ua = ES_BUF_INIT, auth = ES_BUF_INIT, url = ES_BUF_INIT,
                  body = ES_BUF_INIT, subject = ES_BUF_INIT;
    struct es_http_response res;
    yajl_val root = NULL;
    const char *fullname = job->mention->item.external_id;
    /* A message is answered in its thread; a post or comment by mail. */
    int compose =
        job->reply->private_message && strncmp(fullname, "t4_", 3) != 0;

    es_http_response_init(&res);
    const char *agent = es_config_source_get(job->account, "user_agent");
    es_buf_addf(&ua, "User-Agent: %s", agent && *agent ? agent : DEFAULT_UA);
    if (get_token(job, ua.ptr, &auth) < 0)
        goto done;
    const char *b = es_config_source_get(job->account, "base_url");
    es_reply__base(job, b && *b ? b : OAUTH_HOST, &url);
    es_buf_adds(&body, "api_type=json");
    if (compose) {
        es_buf_adds(&url, "/api/compose");
        const char *author = job->mention->item.author;
        if (!author) {
            es_reply__fail(job, ES_REPLY_REFUSED,
                           "the mention has no author to write to");
            goto done;
        }
        const char *title = job->mention->item.title;
        es_buf_adds(&subject, "re: ");
        es_buf_add_valid_utf8(&subject, title ? title : "your post",
                              title && strlen(title) > 90 ? 90
                              : title                     ? strlen(title)
                                                          : 9);
        es_buf_adds(&body, "&to=");
        es_url_add_escaped(&body, author);
        es_buf_adds(&body, "&subject=");
        es_url_add_escaped(&body, subject.ptr);
    } else {
        es_buf_adds(&url, "/api/comment");
        es_buf_adds(&body, "&thing_id=");
        es_url_add_escaped(&body, fullname);
    }
    es_buf_adds(&body, "&text=");
    es_url_add_escaped(&body, job->reply->body);
    const char *headers[] = { ua.ptr, auth.ptr,
                              "Content-Type: application/x-www-form-urlencoded",
                              "Accept: application/json", NULL };
    if (es_reply__post(job, url.ptr, &body, headers,
                       compose ? "sending the message" : "posting the comment",
                       0, "reddit", &res, &root) < 0 ||
        reddit_errors(job, root) < 0)
        goto done;
    if (!compose) {
        yajl_val thing = es_json_path(
            es_json_at(es_json_path(root, "json.data.things"), 0), "data");
        const char *name = es_json_str(thing, "name");
        if (!name) {
            es_reply__fail(job, ES_REPLY_MAYBE,
                           "reddit answered without the new comment's name");
            goto done;
        }
        job->platform_id = es_xstrdup(name);
        const char *link = es_json_str(thing, "permalink");
        if (link && link[0] == '/')
            job->url = es_xasprintf(WWW_HOST "%s", link);
    }
    job->outcome = ES_REPLY_POSTED;
done:
    es_json_free(root);
    es_http_response_release(&res);
    es_reply__wipe(&auth);
    es_buf_release(&ua);
    es_buf_release(&url);
    es_buf_release(&body);
    es_buf_release(&subject);
}

const struct es_reply_ops es_reply_reddit = {
    .name = "reddit",
    .flags = 0,
    .send = reddit_send,
};
