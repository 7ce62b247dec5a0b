/* reply_bluesky.c - replies as Bluesky posts, private messages as chats
 *
 * A session from the account's handle and app password
 * (com.atproto.server.createSession), then com.atproto.repo.createRecord
 * of an app.bsky.feed.post with the reply's root and parent (uri and cid
 * from the mention's reply_ref). The record key is not left to the PDS:
 * it is a TID derived from the reply's idempotency key and creation time,
 * so the post has the same at:// URI on every attempt. A retry first
 * asks for that record (com.atproto.repo.getRecord) and takes it as sent
 * when it is there; a create that meets an existing record ("already
 * exists") is sent too. Private messages go through the chat service
 * (chat.bsky.convo.getConvoForMembers, then sendMessage, proxied by the
 * PDS with the atproto-proxy header); the app password must allow
 * direct messages. Chat messages have no key: one cut off is 'unknown'.
 *
 * Bluesky makes links, @handles and #tags clickable only through facets:
 * UTF-8 byte ranges of the text sent with the record (add_facets()).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "earshot/alloc.h"
#include "earshot/item.h"
#include "reply.h"
#include "url.h"

#define DEFAULT_PDS "https://bsky.social"
#define CHAT_PROXY  "atproto-proxy: did:web:api.bsky.chat#bsky_chat"
#define COLLECTION  "app.bsky.feed.post"

struct session {
    struct es_buf base; /* the PDS, no trailing slash */
    struct es_buf auth; /* "Authorization: Bearer JWT" (a secret) */
    struct es_buf did;  /* the account's DID */
};

/* Writes the record key of reply @r into @out: a TID (13 characters of
 * base32-sortable, 53 bits of microseconds then 10 bits of clock id)
 * whose time is the reply's creation second plus a sub-second offset,
 * and whose clock id, taken from its idempotency key. */
static void reply_tid(const struct es_reply *r, char out[14])
{
    static const char alpha[] = "234567abcdefghijklmnopqrstuvwxyz";
    uint64_t h = 0;
    for (const char *p = r->idempotency_key;
         p && *p && p < r->idempotency_key + 15; p++) {
        int d = *p >= '0' && *p <= '9'   ? *p - '0'
                : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
                : *p >= 'A' && *p <= 'F' ? *p - 'A' + 10
                                         : (unsigned char)*p % 16;
        h = h << 4 | (uint64_t)d;
    }
    uint64_t us = (uint64_t)(r->created_at > 0 ? r->created_at : 0) * 1000000u +
                  h % 1000000u;
    uint64_t v = (us & ((UINT64_C(1) << 53) - 1)) << 10 | (h >> 20 & 0x3ff);
    for (int i = 12; i >= 0; i--) {
        out[i] = alpha[v & 31];
        v >>= 5;
    }
    out[13] = '\0';
}

static void session_release(struct session *s)
{
    es_buf_release(&s->base);
    es_reply__wipe(&s->auth);
    es_buf_release(&s->did);
}

/* Logs in with handle and app_password. */
static int session_open(struct es_reply_job *job, struct session *s)
{
    struct es_buf url = ES_BUF_INIT, body = ES_BUF_INIT;
    struct es_http_response res;
    yajl_val root = NULL;
    char *password = NULL;
    int rc;

    es_http_response_init(&res);
    es_reply__base(job, DEFAULT_PDS, &s->base);
    const char *handle = es_config_source_get(job->account, "handle");
    if (!handle ||
        es_outbox_account_secret(job->account, "app_password", &password) < 0) {
        rc = es_reply__fail(job, ES_REPLY_REFUSED,
                            "the account needs handle and app_password");
        goto done;
    }
    es_buf_addf(&url, "%s/xrpc/com.atproto.server.createSession", s->base.ptr);
    es_buf_adds(&body, "{\"identifier\":");
    es_json_add_str(&body, handle);
    es_buf_adds(&body, ",\"password\":");
    es_json_add_str(&body, password);
    es_buf_addch(&body, '}');
    const char *headers[] = { "Content-Type: application/json",
                              "Accept: application/json", NULL };
    rc = es_reply__post(job, url.ptr, &body, headers, "logging in", 1,
                        "bluesky session", &res, &root);
    if (rc == 0) {
        const char *jwt = es_json_str(root, "accessJwt");
        const char *did = es_json_str(root, "did");
        if (!jwt || !did) {
            rc = es_reply__fail(job, ES_REPLY_RETRY,
                                "bluesky session: the answer has no "
                                "accessJwt or did");
        } else {
            es_buf_addf(&s->auth, "Authorization: Bearer %s", jwt);
            es_buf_adds(&s->did, did);
        }
    }
done:
    es_json_free(root);
    es_http_response_release(&res);
    es_outbox_secret_free(password);
    es_buf_release(&url);
    es_reply__wipe(&body);
    return rc;
}

/* Whether record @rkey exists: 1 (its URI in job->platform_id), 0 when
 * the PDS says it does not, -1 (job outcome set) when it cannot tell. */
static int record_exists(struct es_reply_job *job, struct session *s,
                         const char *rkey)
{
    struct es_buf url = ES_BUF_INIT;
    struct es_http_response res;
    yajl_val root = NULL;
    es_buf_addf(&url, "%s/xrpc/com.atproto.repo.getRecord", s->base.ptr);
    es_url_add_param(&url, "repo", s->did.ptr);
    es_url_add_param(&url, "collection", COLLECTION);
    es_url_add_param(&url, "rkey", rkey);
    const char *headers[] = { s->auth.ptr, "Accept: application/json", NULL };
    struct es_http_request req = { .url = url.ptr, .headers = headers };
    int rc = es_http_get(job->http, &req, &res);
    if (rc < 0 && (res.http_code == 400 || res.http_code == 404) &&
        res.body.ptr && strstr(res.body.ptr, "RecordNotFound")) {
        rc = 0;
    } else if (rc < 0) {
        rc = es_reply__classify(job, rc, &res, "looking for an earlier attempt",
                                1);
    } else if (es_reply__parse(job, &res, "bluesky getRecord", ES_REPLY_RETRY,
                               &root) < 0) {
        rc = -1;
    } else {
        const char *uri = es_json_str(root, "uri");
        job->platform_id =
            es_xasprintf("at://%s/" COLLECTION "/%s", s->did.ptr, rkey);
        if (uri && strcmp(uri, job->platform_id) != 0) {
            free(job->platform_id);
            job->platform_id = es_xstrdup(uri);
        }
        rc = 1;
    }
    es_json_free(root);
    es_http_response_release(&res);
    es_buf_release(&url);
    return rc;
}

static void set_post_url(struct es_reply_job *job, const char *rkey)
{
    const char *handle = es_config_source_get(job->account, "handle");
    if (handle && !strpbrk(handle, "/?#&"))
        job->url =
            es_xasprintf("https://bsky.app/profile/%s/post/%s", handle, rkey);
}

static void add_strong_ref(struct es_buf *b, const char *uri, const char *cid)
{
    es_buf_adds(b, "{\"uri\":");
    es_json_add_str(b, uri);
    es_buf_adds(b, ",\"cid\":");
    es_json_add_str(b, cid);
    es_buf_addch(b, '}');
}

/* ==== Facets ==== */

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

static int is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

/* Punctuation that ends a sentence rather than a link, handle or tag. */
static int is_trailing_punct(unsigned char c)
{
    return c && strchr(".,;:!?'\")]}>", c) != NULL;
}

/* Where a facet may start: the start of the text, after a space, or
 * after an opening bracket. */
static int facet_boundary(const char *text, size_t i)
{
    return i == 0 || is_space((unsigned char)text[i - 1]) ||
           text[i - 1] == '(' || text[i - 1] == '[';
}

/* The length of the http(s) URL at @p, trailing punctuation left out,
 * or 0. Its host must hold a dot. */
static size_t url_at(const char *p)
{
    size_t n;
    if (strncmp(p, "https://", 8) == 0)
        n = 8;
    else if (strncmp(p, "http://", 7) == 0)
        n = 7;
    else
        return 0;
    size_t host = n;
    int dot = 0;
    while (p[n] && !is_space((unsigned char)p[n]))
        n++;
    while (n > host && is_trailing_punct((unsigned char)p[n - 1])) {
        /* "(see https://x.example/a_(b))": keep a ')' that closes one
         * inside the link. */
        if (p[n - 1] == ')' && memchr(p + host, '(', n - host))
            break;
        n--;
    }
    for (size_t k = host; k < n && p[k] != '/' && p[k] != '?'; k++)
        dot |= p[k] == '.';
    return dot ? n : 0;
}

/* The length of the handle after an '@' at @p: a domain name of at least
 * two labels (letters, digits, inner '-'), the last one starting with a
 * letter; 0 when there is none. */
static size_t handle_at(const char *p)
{
    size_t n = 0;
    while (is_alnum((unsigned char)p[n]) || p[n] == '-' || p[n] == '.')
        n++;
    while (n && (p[n - 1] == '.' || p[n - 1] == '-'))
        n--;
    /* "@acme.com's" or "jo@acme.com": a word goes on, not a handle */
    if (n == 0 || n > 253 ||
        (p[n] && !is_space((unsigned char)p[n]) &&
         !is_trailing_punct((unsigned char)p[n])) ||
        p[n] == '\'')
        return 0;
    size_t labels = 0, start = 0;
    for (size_t k = 0; k <= n; k++) {
        if (k < n && p[k] != '.')
            continue;
        size_t len = k - start;
        if (len == 0 || len > 63 || p[start] == '-' || p[k - 1] == '-')
            return 0;
        labels++;
        if (k == n && !((p[start] | 0x20) >= 'a' && (p[start] | 0x20) <= 'z'))
            return 0;
        start = k + 1;
    }
    return labels >= 2 ? n : 0;
}

/* The length of the tag after a '#' at @p: up to a space, trailing
 * punctuation left out; 0 when that is empty, only digits ("#1"), or
 * longer than Bluesky's 64 characters. */
static size_t tag_at(const char *p)
{
    size_t n = 0, chars = 0;
    int digits_only = 1;
    while (p[n] && !is_space((unsigned char)p[n]) && p[n] != '#')
        n++;
    while (n && is_trailing_punct((unsigned char)p[n - 1]))
        n--;
    for (size_t k = 0; k < n; k++) {
        unsigned char c = (unsigned char)p[k];
        chars += (c & 0xC0) != 0x80;
        if (!(c >= '0' && c <= '9'))
            digits_only = 0;
    }
    return n && !digits_only && chars <= 64 ? n : 0;
}

/* The DID of @handle, asked of the PDS (resolveHandle), into @out.
 * With @required (the author a chat goes to) a failure is the job's
 * outcome, said as es_reply__call() says it. Without (a @handle in the
 * text) it is only -1: a mistyped handle stays plain text and the reply
 * still goes out; an answer must then hold a "did:" to count. */
static int resolve_handle(struct es_reply_job *job, struct session *s,
                          const char *handle, int required, struct es_buf *out)
{
    struct es_buf url = ES_BUF_INIT;
    struct es_http_response res;
    yajl_val root = NULL;
    int rc;

    es_buf_addf(&url, "%s/xrpc/com.atproto.identity.resolveHandle",
                s->base.ptr);
    es_url_add_param(&url, "handle", handle);
    const char *headers[] = { s->auth.ptr, "Accept: application/json", NULL };
    struct es_http_request req = { .url = url.ptr, .headers = headers };
    if (required) {
        rc = es_reply__call(job, &req, &res, "resolving the author", 1);
        if (rc == 0)
            rc = es_reply__parse(job, &res, "bluesky resolveHandle",
                                 ES_REPLY_RETRY, &root);
    } else {
        rc = es_http_get(job->http, &req, &res) == 0 &&
                     es_json_parse(&root, "bluesky resolveHandle", res.body.ptr,
                                   res.body.len) == 0
                 ? 0
                 : -1;
    }
    const char *did = rc == 0 ? es_json_str(root, "did") : NULL;
    if (did && (required || strncmp(did, "did:", 4) == 0)) {
        es_buf_reset(out);
        es_buf_adds(out, did);
    } else if (rc == 0) {
        rc = required ? es_reply__fail(job, ES_REPLY_REFUSED,
                                       "bluesky cannot resolve the author "
                                       "'%s'",
                                       handle)
                      : -1;
    }
    es_json_free(root);
    es_http_response_release(&res);
    es_buf_release(&url);
    return rc;
}

/* Appends facet number *@n (bytes @start..@end of the text) of feature
 * @type, whose @key is @value (@value_len bytes). */
static void add_facet(struct es_buf *b, int *n, size_t start, size_t end,
                      const char *type, const char *key, const char *value,
                      size_t value_len)
{
    es_buf_adds(b, (*n)++ ? "," : ",\"facets\":[");
    es_buf_addf(b,
                "{\"index\":{\"byteStart\":%zu,\"byteEnd\":%zu},"
                "\"features\":[{\"$type\":\"app.bsky.richtext.facet#%s\","
                "\"%s\":",
                start, end, type, key);
    es_buf_add_json_str(b, value, value_len);
    es_buf_adds(b, "}]}");
}

/* Appends ,"facets":[...] for the links, @handles and #tags of @text to
 * the record in @b (nothing when there are none). Offsets count bytes of
 * the UTF-8 text, the end excluded, as app.bsky.richtext.facet says. */
static void add_facets(struct es_reply_job *job, struct session *s,
                       const char *text, struct es_buf *b)
{
    struct es_buf did = ES_BUF_INIT, handle = ES_BUF_INIT;
    int n = 0;
    for (size_t i = 0; text[i];) {
        size_t len = 0;
        if (facet_boundary(text, i)) {
            if ((len = url_at(text + i))) {
                add_facet(b, &n, i, i + len, "link", "uri", text + i, len);
            } else if (text[i] == '@' && (len = handle_at(text + i + 1))) {
                es_buf_reset(&handle);
                es_buf_add(&handle, text + i + 1, len);
                if (resolve_handle(job, s, handle.ptr, 0, &did) == 0)
                    add_facet(b, &n, i, i + 1 + len, "mention", "did", did.ptr,
                              did.len);
                len++;
            } else if (text[i] == '#' && (len = tag_at(text + i + 1))) {
                add_facet(b, &n, i, i + 1 + len, "tag", "tag", text + i + 1,
                          len);
                len++;
            }
        }
        i += len ? len : 1;
    }
    if (n)
        es_buf_addch(b, ']');
    es_buf_release(&did);
    es_buf_release(&handle);
}

static void post_reply(struct es_reply_job *job, struct session *s)
{
    struct es_buf uri = ES_BUF_INIT, cid = ES_BUF_INIT, root_uri = ES_BUF_INIT,
                  root_cid = ES_BUF_INIT, url = ES_BUF_INIT, body = ES_BUF_INIT;
    struct es_http_response res;
    yajl_val root = NULL;
    char rkey[14], when[32];

    es_http_response_init(&res);
    reply_tid(job->reply, rkey);
    if (es_reply__ref(job, "uri", &uri) < 0 ||
        es_reply__ref(job, "cid", &cid) < 0) {
        es_reply__fail(job, ES_REPLY_REFUSED,
                       "the mention has no uri and cid to reply to");
        goto done;
    }
    if (es_reply__ref(job, "root_uri", &root_uri) < 0 ||
        es_reply__ref(job, "root_cid", &root_cid) < 0) {
        es_buf_reset(&root_uri);
        es_buf_reset(&root_cid);
        es_buf_adds(&root_uri, uri.ptr);
        es_buf_adds(&root_cid, cid.ptr);
    }
    if (job->retry) {
        int found = record_exists(job, s, rkey);
        if (found < 0)
            goto done;
        if (found) {
            set_post_url(job, rkey);
            job->outcome = ES_REPLY_POSTED;
            goto done;
        }
    }
    es_time_format(es_time_now(), when);
    if (strlen(when) == 20) /* "...:SSZ": atproto likes milliseconds */
        memcpy(when + 19, ".000Z", 6);
    es_buf_addf(&url, "%s/xrpc/com.atproto.repo.createRecord", s->base.ptr);
    es_buf_adds(&body, "{\"repo\":");
    es_json_add_str(&body, s->did.ptr);
    es_buf_addf(&body,
                ",\"collection\":\"" COLLECTION "\",\"rkey\":\"%s\","
                "\"record\":{\"$type\":\"" COLLECTION "\",\"text\":",
                rkey);
    es_json_add_str(&body, job->reply->body);
    add_facets(job, s, job->reply->body, &body);
    es_buf_adds(&body, ",\"createdAt\":");
    es_json_add_str(&body, when);
    es_buf_adds(&body, ",\"reply\":{\"root\":");
    add_strong_ref(&body, root_uri.ptr, root_cid.ptr);
    es_buf_adds(&body, ",\"parent\":");
    add_strong_ref(&body, uri.ptr, cid.ptr);
    es_buf_adds(&body, "}}}");
    const char *headers[] = { s->auth.ptr, "Content-Type: application/json",
                              "Accept: application/json", NULL };
    if (es_reply__post(job, url.ptr, &body, headers, "creating the post", 0,
                       "bluesky", &res, &root) < 0) {
        /* The record of an earlier attempt is there: that one counts (a
         * 2xx whose answer did not parse is not that). */
        if (res.http_code >= 400 && res.body.ptr &&
            (es_reply__icontains(res.body.ptr, "already exists") ||
             res.http_code == 409)) {
            job->platform_id =
                es_xasprintf("at://%s/" COLLECTION "/%s", s->did.ptr, rkey);
            set_post_url(job, rkey);
            job->outcome = ES_REPLY_POSTED;
        }
        goto done;
    }
    const char *new_uri = es_json_str(root, "uri");
    if (!new_uri) {
        es_reply__fail(job, ES_REPLY_MAYBE,
                       "bluesky answered without the new post's uri");
        goto done;
    }
    job->platform_id = es_xstrdup(new_uri);
    set_post_url(job, rkey);
    job->outcome = ES_REPLY_POSTED;
done:
    es_json_free(root);
    es_http_response_release(&res);
    es_buf_release(&uri);
    es_buf_release(&cid);
    es_buf_release(&root_uri);
    es_buf_release(&root_cid);
    es_buf_release(&url);
    es_buf_release(&body);
}

/* The author's DID into @out: the authority of the mention's at:// URI,
 * the author itself when it is a DID, else resolved from the handle. */
static int author_did(struct es_reply_job *job, struct session *s,
                      struct es_buf *out)
{
    struct es_buf uri = ES_BUF_INIT;
    es_buf_reset(out);
    if (es_reply__ref(job, "uri", &uri) == 0 &&
        strncmp(uri.ptr, "at://did:", 9) == 0)
        es_buf_add(out, uri.ptr + 5, strcspn(uri.ptr + 5, "/"));
    es_buf_release(&uri);
    const char *author = job->mention->item.author;
    if (!out->len && author && strncmp(author, "did:", 4) == 0)
        es_buf_adds(out, author);
    if (out->len)
        return 0;
    if (!author)
        return es_reply__fail(job, ES_REPLY_REFUSED,
                              "the mention has no author to write to");
    return resolve_handle(job, s, author, 1, out);
}

static void send_chat(struct es_reply_job *job, struct session *s)
{
    struct es_buf did = ES_BUF_INIT, url = ES_BUF_INIT, body = ES_BUF_INIT;
    struct es_http_response res;
    yajl_val root = NULL;

    es_http_response_init(&res);
    if (author_did(job, s, &did) < 0)
        goto done;
    es_buf_addf(&url, "%s/xrpc/chat.bsky.convo.getConvoForMembers",
                s->base.ptr);
    es_url_add_param(&url, "members", did.ptr);
    const char *headers[] = { s->auth.ptr, CHAT_PROXY,
                              "Content-Type: application/json",
                              "Accept: application/json", NULL };
    struct es_http_request req = { .url = url.ptr, .headers = headers };
    if (es_reply__call(job, &req, &res, "opening the chat", 1) < 0 ||
        es_reply__parse(job, &res, "bluesky chat", ES_REPLY_RETRY, &root) < 0)
        goto done;
    const char *convo = es_json_str(es_json_get(root, "convo"), "id");
    if (!convo) {
        es_reply__fail(job, ES_REPLY_RETRY,
                       "bluesky chat: the answer names no conversation");
        goto done;
    }
    es_buf_adds(&body, "{\"convoId\":");
    es_json_add_str(&body, convo);
    es_buf_adds(&body, ",\"message\":{\"text\":");
    es_json_add_str(&body, job->reply->body);
    add_facets(job, s, job->reply->body, &body);
    es_buf_adds(&body, "}}");
    es_json_free(root);
    root = NULL;
    es_http_response_release(&res);
    es_buf_reset(&url);
    es_buf_addf(&url, "%s/xrpc/chat.bsky.convo.sendMessage", s->base.ptr);
    if (es_reply__post(job, url.ptr, &body, headers, "sending the message", 0,
                       "bluesky chat", &res, &root) < 0)
        goto done;
    const char *id = es_json_str(root, "id");
    job->platform_id = id ? es_xstrdup(id) : NULL;
    job->outcome = ES_REPLY_POSTED;
done:
    es_json_free(root);
    es_http_response_release(&res);
    es_buf_release(&did);
    es_buf_release(&url);
    es_buf_release(&body);
}

static void bluesky_send(struct es_reply_job *job)
{
    struct session s = { ES_BUF_INIT, ES_BUF_INIT, ES_BUF_INIT };
    if (session_open(job, &s) == 0) {
        if (job->reply->private_message)
            send_chat(job, &s);
        else
            post_reply(job, &s);
    }
    session_release(&s);
}

const struct es_reply_ops es_reply_bluesky = {
    .name = "bluesky",
    .flags = ES_REPLY_KEYED_PUBLIC,
    .send = bluesky_send,
};
