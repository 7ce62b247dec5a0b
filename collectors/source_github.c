/* source_github.c - the "github" source kind: issues, PRs and comments
 *
 * GitHub's REST API searches issues and pull requests
 * (/search/issues?q=...), but has no search for comments. So two streams
 * read the listening query, both oldest-first so that every page moves a
 * mark forward and a poll cut short loses nothing:
 *   issues    q="QUERY in:title,body created:>=SINCE", sort=created asc:
 *             issues and pull requests that mention the query;
 *   comments  q="QUERY in:comments updated:>=SINCE", sort=updated asc:
 *             issues with a matching comment, whose comments updated
 *             since SINCE are then read one issue at a time from
 *             /repos/OWNER/REPO/issues/N/comments?since=SINCE; the mark
 *             moves past an issue once all its comments are read.
 * SINCE is the stream's mark less a few minutes (the search index lags),
 * or a day back on the first poll. Pages follow the Link header; the
 * poller reads X-RateLimit-* and stops when the window is spent. A token
 * is optional (`Authorization: Bearer`); `base_url` points at GitHub
 * Enterprise (https://HOST/api/v3).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/query.h"
#include "earshot/source.h"
#include "json.h"
#include "url.h"

/* Defined at the bottom; registry.c refers to it. */
extern const struct es_source_ops es_source_github_ops;

#define DEFAULT_BASE      "https://api.github.com"
#define PER_PAGE          "100"
#define INDEX_LAG         300   /* seconds read again for late indexing */
#define FIRST_WINDOW      86400 /* the first poll looks a day back */
#define DEFAULT_MAX_PAGES 3

enum stream_type { ST_ISSUES, ST_COMMENTS };

static const char *const stream_keys[] = { "issues", "comments" };

struct stream {
    enum stream_type type;
    int64_t stored; /* everything up to this time is stored; -1: none */
    int64_t since;  /* the window's start in this poll */
    char *next;     /* the search's next page (Link rel=next), or NULL */
    int started;    /* the first search page was read */
    int pages;      /* search pages read in this poll */
    int retried;    /* an incomplete_results page was asked again */
    int done;
};

/* An issue of the comments stream, in the order the search gave. */
struct pending {
    char *repo; /* "owner/repo" */
    long long number;
    char *issue_id;  /* the issue's id: the comments' in_reply_to */
    int64_t updated; /* the mark once its comments are read */
    int comments;    /* whether it has comments to read */
};

enum inflight { RQ_NONE, RQ_SEARCH, RQ_COMMENTS };

struct github_source {
    struct es_source base; /* must stay first */
    char *q;               /* the query rendered for GitHub search */
    char *host;            /* API base, no trailing slash */
    char *auth_header;     /* "Authorization: Bearer ..." or NULL (secret) */
    char *ua_header;       /* "User-Agent: ..." or NULL: the default */
    int max_pages;

    struct stream streams[2];
    size_t nstreams;
    size_t cur;
    int steps;
    enum inflight inflight;

    struct pending *pend; /* comments stream: issues still to read */
    size_t npend;
    char *comments_next; /* the current issue's next comments page */

    struct es_buf url;
    struct es_buf cursor;
};

/* ==== Helpers ==== */

static int has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* Length of the "scheme://authority" part of @url. */
static size_t origin_len(const char *url)
{
    const char *p = strstr(url, "://");
    if (!p)
        return 0;
    p += 3;
    return (size_t)(p - url) + strcspn(p, "/?#");
}

/* Whether @url is on the same origin as @base (a Link to another host
 * would receive our token). */
static int same_origin(const char *base, const char *url)
{
    size_t n = origin_len(base);
    return n && origin_len(url) == n && strncmp(base, url, n) == 0;
}

/* Copies "owner/repo" out of an API URL ".../repos/OWNER/REPO[/...]"
 * into @out; returns 0, or -1 when it has none or odd characters. */
static int repo_from_url(const char *url, char *out, size_t size)
{
    const char *p = url ? strstr(url, "/repos/") : NULL;
    if (!p)
        return -1;
    p += strlen("/repos/");
    size_t owner = strcspn(p, "/");
    if (!owner || p[owner] != '/')
        return -1;
    size_t repo = strcspn(p + owner + 1, "/?#");
    size_t n = owner + 1 + repo;
    if (!repo || n >= size)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
            !(c >= '0' && c <= '9') && c != '-' && c != '_' && c != '.' &&
            !(c == '/' && i == owner))
            return -1;
    }
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

/* The issue number at the end of an issue_url ".../issues/N". */
static long long number_from_url(const char *url)
{
    const char *p = url ? strstr(url, "/issues/") : NULL;
    if (!p)
        return -1;
    p += strlen("/issues/");
    char *end;
    long long n = strtoll(p, &end, 10);
    return end != p && (*end == '\0' || *end == '/') && n > 0 ? n : -1;
}

/* Sets the item's reply_ref: {"repo":"owner/repo","number":N}. */
static void set_reply_ref(struct es_item *it, const char *repo, long long n)
{
    struct es_buf b = ES_BUF_INIT;
    es_buf_adds(&b, "{\"repo\":");
    es_json_add_str(&b, repo);
    es_buf_addf(&b, ",\"number\":%lld}", n);
    free(it->reply_ref);
    it->reply_ref = es_buf_detach(&b);
}

/* ==== Payloads to items ==== */

/* Fills @it (released first) with what issues and comments share.
 * Returns 1, or 0 without an id. */
static int fill_common(yajl_val v, const char *source, struct es_item *it)
{
    char id[32];
    es_item_release(it);
    if (!es_json_id(v, "id", id, sizeof(id)))
        return 0;
    it->platform = es_xstrdup("github");
    it->source = es_xstrdup(source);
    it->external_id = es_xstrdup(id);
    es_json_set(&it->url, es_json_str(v, "html_url"));
    es_json_set(&it->author, es_json_str(es_json_get(v, "user"), "login"));
    const char *body = es_json_str(v, "body");
    if (body && *body) {
        /* From body_html (the "full" media type): what a reader sees,
         * without the template's <!-- hidden --> instructions. */
        es_json_set_rendered_text(&it->text, body, es_json_str(v, "body_html"),
                                  1);
        es_json_set(&it->content, body); /* the Markdown as written */
    }
    it->created_at = es_json_time(v, "created_at");
    it->updated_at = es_json_time(v, "updated_at");
    return 1;
}

/* Fills @it from an issue or pull request. Returns 1, or 0 without an
 * id. */
static int issue_to_item(yajl_val v, const char *source, struct es_item *it)
{
    char repo[256];
    long long number;
    if (!fill_common(v, source, it))
        return 0;
    es_json_set(&it->title, es_json_str(v, "title"));
    it->kind = ES_KIND_POST;
    /* Older answers (search results of 2014) have no repository_url;
     * the issue's own API url ".../repos/OWNER/REPO/issues/N" names the
     * repository too. */
    if (repo_from_url(es_json_str(v, "repository_url"), repo, sizeof(repo)) ==
            0 ||
        repo_from_url(es_json_str(v, "url"), repo, sizeof(repo)) == 0) {
        es_item_add_category(it, repo);
        if (es_json_int(v, "number", &number) == 0 && number > 0)
            set_reply_ref(it, repo, number);
    }
    return 1;
}

/* Fills @it from an issue comment; @issue_id (may be NULL) is the id of
 * the issue it belongs to. Returns 1, or 0 without an id. */
static int comment_to_item(yajl_val v, const char *source, const char *issue_id,
                           struct es_item *it)
{
    char repo[256];
    if (!fill_common(v, source, it))
        return 0;
    it->kind = ES_KIND_COMMENT;
    es_json_set(&it->in_reply_to, issue_id);
    es_json_set(&it->thread_root, issue_id);
    const char *issue_url = es_json_str(v, "issue_url");
    long long number = number_from_url(issue_url);
    if (repo_from_url(issue_url, repo, sizeof(repo)) == 0) {
        es_item_add_category(it, repo);
        if (number > 0)
            set_reply_ref(it, repo, number);
    } else if (repo_from_url(es_json_str(v, "url"), repo, sizeof(repo)) == 0) {
        es_item_add_category(it, repo); /* older answers: no issue_url */
    }
    return 1;
}

/* Whether @v is an issue comment: it names its issue (issue_url), or,
 * as comments in older answers (2012) did not, it has no number and its
 * own API url is ".../issues/comments/ID". */
static int is_comment(yajl_val v)
{
    if (es_json_get(v, "issue_url"))
        return 1;
    const char *url = es_json_str(v, "url");
    return !es_json_get(v, "number") && es_json_get(v, "body") && url &&
           strstr(url, "/issues/comments/");
}

static int emit_one(int (*conv)(yajl_val, const char *, struct es_item *),
                    yajl_val v, const char *source, es_item_cb emit,
                    void *payload)
{
    struct es_item it;
    int rc = 0;
    es_item_init(&it);
    if (conv(v, source, &it))
        rc = emit(&it, payload);
    es_item_release(&it);
    return rc;
}

static int comment_conv(yajl_val v, const char *source, struct es_item *it)
{
    return comment_to_item(v, source, NULL, it);
}

/* Emits the items of a search result; the shape error names the path. */
static int emit_search(yajl_val root, const char *source, es_item_cb emit,
                       void *payload)
{
    yajl_val items = es_json_get(root, "items");
    int rc = 0;
    if (!es_json_is_array(items))
        return es_json_shape_error("github", "$.items",
                                   "expected an array of issues");
    for (size_t i = 0; i < es_json_len(items) && !rc; i++)
        rc = emit_one(issue_to_item, es_json_at(items, i), source, emit,
                      payload);
    return rc;
}

static int github_parse_any(const char *buf, size_t len,
                            const struct es_parse_opts *opts, es_item_cb emit,
                            void *payload)
{
    yajl_val root = NULL;
    const char *source = opts && opts->source ? opts->source : "github";
    int rc = es_json_parse(&root, "github", buf, len);
    if (rc != 0)
        return rc;
    if (es_json_is_object(root) && es_json_get(root, "items")) {
        rc = emit_search(root, source, emit, payload);
    } else if (es_json_is_object(root) && es_json_get(root, "number") &&
               es_json_get(root, "id")) {
        rc = emit_one(issue_to_item, root, source, emit, payload);
    } else if (es_json_is_object(root) && is_comment(root)) {
        rc = emit_one(comment_conv, root, source, emit, payload);
    } else if (es_json_is_array(root)) {
        /* A comments page, or a plain list of issues. */
        for (size_t i = 0; i < es_json_len(root) && !rc; i++) {
            yajl_val v = es_json_at(root, i);
            if (is_comment(v)) {
                rc = emit_one(comment_conv, v, source, emit, payload);
            } else if (es_json_get(v, "number")) {
                rc = emit_one(issue_to_item, v, source, emit, payload);
            } else {
                char path[32];
                snprintf(path, sizeof(path), "$[%zu]", i);
                rc = es_json_shape_error("github", path,
                                         "expected a comment or an issue");
            }
        }
    } else {
        rc = es_json_shape_error("github", "$",
                                 "expected a search result, an issue, a "
                                 "comment or an array of them");
    }
    es_json_free(root);
    return rc;
}

/* ==== Open and close ==== */

static void pending_pop(struct github_source *s)
{
    if (!s->npend)
        return;
    free(s->pend[0].repo);
    free(s->pend[0].issue_id);
    memmove(s->pend, s->pend + 1, (s->npend - 1) * sizeof(*s->pend));
    s->npend--;
}

static void pending_clear(struct github_source *s)
{
    while (s->npend)
        pending_pop(s);
    free(s->comments_next);
    s->comments_next = NULL;
}

static void github_close(struct es_source *src)
{
    if (!src)
        return;
    struct github_source *s = (struct github_source *)src; /* base first */
    pending_clear(s);
    free(s->pend);
    free(s->q);
    free(s->host);
    if (s->auth_header) {
        memset(s->auth_header, 0, strlen(s->auth_header));
        free(s->auth_header);
    }
    free(s->ua_header);
    for (size_t i = 0; i < s->nstreams; i++)
        free(s->streams[i].next);
    es_buf_release(&s->url);
    es_buf_release(&s->cursor);
    es_source__release_base(&s->base);
    free(s);
}

static int github_open(struct es_source **out,
                       const struct es_config_source *cfg)
{
    *out = NULL;
    struct github_source *s = es_xcalloc(1, sizeof(*s));
    int rc;
    es_buf_init(&s->url);
    es_buf_init(&s->cursor);
    rc = es_source__init_base(&s->base, &es_source_github_ops, cfg);
    if (rc != 0) {
        free(s);
        return rc;
    }
    if (s->base.query) {
        /* A query of negations alone has no term to search for (its
         * plain rendering is empty): searching "-job" would ask for
         * everything. */
        char *plain = es_query_render(s->base.query, ES_QUERY_STYLE_PLAIN);
        char *q = es_query_render(s->base.query, ES_QUERY_STYLE_BOOLEAN);
        if (q && *q && !(plain && !*plain))
            s->q = q;
        else
            free(q);
        free(plain);
    }
    if (!s->q) {
        rc = es_error_set(ES_EINVALID,
                          "%s:%d: [source \"%s\"] needs a query with a "
                          "term GitHub search can look for",
                          cfg->file, cfg->line, cfg->name);
        goto fail;
    }
    if (s->base.token) {
        if (has_ctl(s->base.token)) {
            rc = es_error_set(ES_EINVALID,
                              "%s:%d: [source \"%s\"] token has a control "
                              "character",
                              cfg->file, cfg->line, cfg->name);
            goto fail;
        }
        s->auth_header =
            es_xasprintf("Authorization: Bearer %s", s->base.token);
    }
    const char *ua = es_config_source_get(cfg, "user_agent");
    if (ua && *ua) {
        if (has_ctl(ua)) {
            rc = es_error_set(ES_EINVALID,
                              "%s:%d: [source \"%s\"] user_agent has a "
                              "control character",
                              cfg->file, cfg->line, cfg->name);
            goto fail;
        }
        s->ua_header = es_xasprintf("User-Agent: %s", ua);
    }
    const char *host =
        s->base.base_url && *s->base.base_url ? s->base.base_url : DEFAULT_BASE;
    size_t n = es_url_trim_len(host);
    s->host = es_xstrndup(host, n);
    s->max_pages = DEFAULT_MAX_PAGES;
    const char *mp = es_config_source_get(cfg, "max_pages");
    if (mp && atoi(mp) >= 1)
        s->max_pages = atoi(mp);
    s->streams[s->nstreams++].type = ST_ISSUES;
    s->streams[s->nstreams++].type = ST_COMMENTS;
    for (size_t i = 0; i < s->nstreams; i++)
        s->streams[i].stored = -1;
    *out = &s->base;
    return 0;

fail:
    github_close(&s->base);
    return rc;
}

/* ==== Polling ==== */

static char *make_cursor(struct github_source *s)
{
    struct es_buf *b = &s->cursor;
    es_buf_reset(b);
    es_buf_addch(b, '{');
    for (size_t i = 0; i < s->nstreams; i++) {
        const struct stream *st = &s->streams[i];
        if (st->stored >= 0)
            es_json_add_member_int(b, stream_keys[st->type], st->stored);
    }
    es_buf_addch(b, '}');
    return es_xstrdup(b->ptr);
}

static void github_begin(struct es_source *src, const char *cursor)
{
    struct github_source *s = (struct github_source *)src;
    yajl_val root = NULL;
    int64_t now = (int64_t)time(NULL);

    s->cur = 0;
    s->steps = 0;
    s->inflight = RQ_NONE;
    pending_clear(s);
    for (size_t i = 0; i < s->nstreams; i++) {
        struct stream *st = &s->streams[i];
        free(st->next);
        st->next = NULL;
        st->started = st->pages = st->retried = st->done = 0;
        st->stored = -1;
    }
    /* A cursor that does not parse is ignored: as if never polled. */
    if (cursor &&
        es_json_parse(&root, "github cursor", cursor, strlen(cursor)) == 0) {
        for (size_t i = 0; i < s->nstreams; i++) {
            long long v;
            if (es_json_int(root, stream_keys[s->streams[i].type], &v) == 0 &&
                v > 0)
                s->streams[i].stored = v;
        }
        es_json_free(root);
    }
    es_error_clear();
    for (size_t i = 0; i < s->nstreams; i++) {
        struct stream *st = &s->streams[i];
        st->since =
            st->stored >= 0 ? st->stored - INDEX_LAG : now - FIRST_WINDOW;
    }
}

static void search_url(struct github_source *s, const struct stream *st)
{
    char when[21];
    struct es_buf q = ES_BUF_INIT;
    es_time_format(st->since, when);
    es_buf_adds(&q, s->q);
    if (st->type == ST_ISSUES)
        es_buf_addf(&q, " in:title,body created:>=%s", when);
    else
        es_buf_addf(&q, " in:comments updated:>=%s", when);
    es_buf_reset(&s->url);
    es_buf_adds(&s->url, s->host);
    es_buf_adds(&s->url, "/search/issues");
    es_url_add_param(&s->url, "q", q.ptr);
    es_url_add_param(&s->url, "sort",
                     st->type == ST_ISSUES ? "created" : "updated");
    es_url_add_param(&s->url, "order", "asc");
    es_url_add_param(&s->url, "per_page", PER_PAGE);
    es_buf_release(&q);
}

static void comments_url(struct github_source *s, const struct stream *st)
{
    char when[21];
    const struct pending *p = &s->pend[0];
    es_time_format(st->since, when);
    es_buf_reset(&s->url);
    es_buf_addf(&s->url, "%s/repos/%s/issues/%lld/comments", s->host, p->repo,
                p->number);
    es_url_add_param(&s->url, "since", when);
    es_url_add_param(&s->url, "per_page", PER_PAGE);
}

static int github_request(struct es_source *src, struct es_source_request *req)
{
    struct github_source *s = (struct github_source *)src;
    memset(req, 0, sizeof(*req));
    s->inflight = RQ_NONE;
    while (s->cur < s->nstreams && s->streams[s->cur].done)
        s->cur++;
    if (s->cur >= s->nstreams)
        return ES_EUNCHANGED;
    struct stream *st = &s->streams[s->cur];
    if (st->type == ST_COMMENTS && (s->comments_next || s->npend)) {
        if (s->comments_next) {
            es_buf_reset(&s->url);
            es_buf_adds(&s->url, s->comments_next);
        } else {
            comments_url(s, st);
        }
        s->inflight = RQ_COMMENTS;
    } else if (st->next) {
        es_buf_reset(&s->url);
        es_buf_adds(&s->url, st->next);
        s->inflight = RQ_SEARCH;
    } else {
        search_url(s, st);
        s->inflight = RQ_SEARCH;
    }
    size_t h = 0;
    req->url = s->url.ptr;
    /* "full": each body also as HTML, whose text is what a reader sees. */
    req->headers[h++] = "Accept: application/vnd.github.full+json";
    req->headers[h++] = "X-GitHub-Api-Version: 2022-11-28";
    if (s->auth_header)
        req->headers[h++] = s->auth_header;
    if (s->ua_header)
        req->headers[h++] = s->ua_header;
    s->steps++;
    return 0;
}

/* The Link header's next page when it stays on our host, else NULL. */
static char *next_link(const struct github_source *s,
                       const struct es_source_response *res)
{
    struct es_buf b = ES_BUF_INIT;
    char *out = NULL;
    if (res->link && es_url_link_rel(res->link, "next", &b) == 0 &&
        same_origin(s->host, b.ptr) && !has_ctl(b.ptr))
        out = es_xstrdup(b.ptr);
    es_buf_release(&b);
    return out;
}

/* Moves the comments stream's mark past the leading issues that have no
 * comments left to read. */
static void drain(struct github_source *s, struct stream *st)
{
    while (s->npend && !s->pend[0].comments) {
        if (s->pend[0].updated > st->stored)
            st->stored = s->pend[0].updated;
        pending_pop(s);
    }
}

/* Whether a further request fits in the poll. */
static int budget(const struct github_source *s)
{
    return s->steps < ES_POLL_MAX_STEPS;
}

static int parse_search(struct github_source *s, struct stream *st,
                        yajl_val root, const struct es_source_response *res,
                        es_item_cb emit, void *payload)
{
    int rc;
    if (!es_json_is_object(root))
        return es_json_shape_error("github", "$", "expected a search result");
    if (!es_json_is_array(es_json_get(root, "items")))
        return es_json_shape_error("github", "$.items",
                                   "expected an array of issues");
    /* The comments search finds issues for their comments: an issue
     * itself is the issues search's to report. */
    if (st->type == ST_ISSUES) {
        rc = emit_search(root, s->base.name, emit, payload);
        if (rc)
            return rc;
    }
    /* A search that timed out leaves items out: ask once more before
     * moving the mark over them. */
    if (es_json_bool(root, "incomplete_results", 0) && !st->retried &&
        budget(s)) {
        st->retried = 1;
        return 0;
    }
    st->retried = 0;
    st->started = 1;
    st->pages++;
    free(st->next);
    st->next = next_link(s, res);

    yajl_val items = es_json_get(root, "items");
    int64_t mark = -1;
    for (size_t i = 0; i < es_json_len(items); i++) {
        yajl_val v = es_json_at(items, i);
        char id[32], repo[256];
        long long number, ncomments = 0;
        if (st->type == ST_ISSUES) {
            int64_t t = es_json_time(v, "created_at");
            if (t != ES_TIME_UNKNOWN && t > mark)
                mark = t;
            continue;
        }
        int64_t t = es_json_time(v, "updated_at");
        if (!es_json_id(v, "id", id, sizeof(id)) ||
            es_json_int(v, "number", &number) != 0 || number <= 0 ||
            repo_from_url(es_json_str(v, "repository_url"), repo,
                          sizeof(repo)) != 0 ||
            t == ES_TIME_UNKNOWN)
            continue;
        es_json_int(v, "comments", &ncomments);
        s->pend = es_xrealloc(s->pend, (s->npend + 1) * sizeof(*s->pend));
        struct pending *p = &s->pend[s->npend++];
        p->repo = es_xstrdup(repo);
        p->number = number;
        p->issue_id = es_xstrdup(id);
        p->updated = t;
        p->comments = ncomments > 0;
    }
    if (st->type == ST_ISSUES) {
        /* Oldest first: this page's newest is the new mark. */
        if (mark > st->stored)
            st->stored = mark;
        size_t waiting = s->nstreams - s->cur - 1;
        if (!st->next || st->pages >= s->max_pages ||
            ES_POLL_MAX_STEPS - s->steps <= (int)(2 * waiting))
            st->done = 1;
        return 0;
    }
    drain(s, st);
    if (!s->npend && (!st->next || st->pages >= s->max_pages))
        st->done = 1;
    return 0;
}

static int parse_comments(struct github_source *s, struct stream *st,
                          yajl_val root, const struct es_source_response *res,
                          es_item_cb emit, void *payload)
{
    int rc = 0;
    if (!es_json_is_array(root))
        return es_json_shape_error("github", "$",
                                   "expected an array of comments");
    if (!s->npend)
        return es_error_set(ES_ERROR, "github '%s': comments of no issue",
                            s->base.name);
    const struct pending *p = &s->pend[0];
    for (size_t i = 0; i < es_json_len(root) && !rc; i++) {
        struct es_item it;
        es_item_init(&it);
        if (comment_to_item(es_json_at(root, i), s->base.name, p->issue_id,
                            &it))
            rc = emit(&it, payload);
        es_item_release(&it);
    }
    if (rc)
        return rc;
    free(s->comments_next);
    s->comments_next = next_link(s, res);
    if (s->comments_next)
        return 0; /* the same issue's next page */
    /* All of this issue's new comments are read: the mark moves past it. */
    if (p->updated > st->stored)
        st->stored = p->updated;
    pending_pop(s);
    drain(s, st);
    if (!s->npend && (!st->next || st->pages >= s->max_pages))
        st->done = 1;
    return 0;
}

static int github_parse(struct es_source *src,
                        const struct es_source_response *res,
                        struct es_source_page *page, es_item_cb emit,
                        void *payload)
{
    struct github_source *s = (struct github_source *)src;
    yajl_val root = NULL;
    char what[300];
    enum inflight inflight = s->inflight;
    int rc;

    s->inflight = RQ_NONE;
    snprintf(what, sizeof(what), "github '%s'", s->base.name);
    rc = es_json_parse(&root, what, res->body, res->len);
    if (rc != 0)
        return rc;
    if (s->cur >= s->nstreams || inflight == RQ_NONE) {
        rc = es_error_set(ES_ERROR, "github '%s': answer to no request",
                          s->base.name);
    } else if (inflight == RQ_SEARCH) {
        rc = parse_search(s, &s->streams[s->cur], root, res, emit, payload);
    } else {
        rc = parse_comments(s, &s->streams[s->cur], root, res, emit, payload);
    }
    es_json_free(root);
    if (rc)
        return rc;
    page->cursor = make_cursor(s);
    page->more = 0;
    if (budget(s))
        for (size_t i = s->cur; i < s->nstreams; i++)
            if (!s->streams[i].done)
                page->more = 1;
    return 0;
}

/* A deleted or hidden issue's comments are skipped, not a failure. */
static int github_failed(struct es_source *src,
                         const struct es_source_response *res)
{
    struct github_source *s = (struct github_source *)src;
    enum inflight inflight = s->inflight;
    s->inflight = RQ_NONE;
    if (inflight != RQ_COMMENTS ||
        (res->http_code != 404 && res->http_code != 410) || !s->npend ||
        s->cur >= s->nstreams)
        return 0;
    struct stream *st = &s->streams[s->cur];
    free(s->comments_next);
    s->comments_next = NULL;
    if (s->pend[0].updated > st->stored)
        st->stored = s->pend[0].updated;
    pending_pop(s);
    drain(s, st);
    if (!s->npend && !st->next)
        st->done = 1;
    return 1;
}

const struct es_source_ops es_source_github_ops = {
    .name = "github",
    .flags = ES_SOURCE_HAS_SEARCH,
    .default_interval_s = 300,
    .open = github_open,
    .begin = github_begin,
    .request = github_request,
    .parse = github_parse,
    .failed = github_failed,
    .parse_any = github_parse_any,
    .close = github_close,
};
