/* source_youtube.c - the "youtube" source kind: comments on videos
 *
 * Reads comment threads through the YouTube Data API v3, either for a
 * whole channel (`channel`: allThreadsRelatedToChannelId) or for a list of
 * videos (`videos`: one stream per video), newest first in pages of 100.
 * A thread carries its top-level comment and some of its replies; when
 * totalReplyCount says there are more, they are read from comments.list
 * (parentId) right after the thread page, before that page's cursor is
 * stored. The API key (token or token_file) goes in the key= parameter,
 * which the HTTP layer redacts from its messages.
 *
 * The API has no "since" parameter, so each stream pages back with
 * pageToken until a page ends at or before the high-water mark stored
 * last time (the newest publishedAt/updatedAt of a pass's first page), or
 * pages run out. Cursor: {"video:ID":{"since":"...","newest":"...",
 * "page":"..."}, "channel:ID":{...}}: since is the mark of the last
 * complete pass; newest and page describe a pass still under way, so a
 * poll cut short (max_pages, the poller's step cap) resumes where it
 * stopped instead of leaving a gap. The first pass of a stream reads at
 * most max_pages pages. Streams take turns being first, so a long list of
 * videos is not starved by the poller's step cap.
 *
 * Limits: a new reply to a thread older than the mark is seen only when
 * the thread is on a page read anyway (order=time sorts threads by their
 * top-level comment).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/source.h"
#include "html.h"
#include "json.h"
#include "url.h"

/* Defined at the bottom; registry.c refers to it. */
extern const struct es_source_ops es_source_youtube_ops;

#define YT_DEFAULT_BASE  "https://www.googleapis.com"
#define YT_DEFAULT_PAGES 3
#define YT_MAX_REPLIES   5 /* comments.list requests after one page */
#define YT_ID_MAX        128

/* The state a cursor stores for one stream. */
struct yt_state {
    int64_t since;  /* mark of the last complete pass, or ES_TIME_UNKNOWN */
    int64_t newest; /* pass under way: mark of its first page */
    char *page;     /* pass under way: pageToken of the next page */
};

struct yt_stream {
    char *key;             /* cursor key: "channel:ID" or "video:ID" */
    const char *param;     /* allThreadsRelatedToChannelId or videoId */
    const char *value;     /* the id, inside @key */
    struct yt_state st;    /* what the cursor says */
    struct yt_state after; /* past the page in flight, until its replies
                            * are read */
    int pending;           /* @after waits for the replies */
    int after_done;        /* the stream is done once @after is committed */
    int pages;             /* thread pages read in this poll */
    int done;              /* nothing more to fetch in this poll */
    int retried;           /* failed() restarted it in this poll */
};

/* Replies to read for one thread. */
struct yt_fetch {
    char *parent; /* the top-level comment id */
    char *video;  /* its video, for the items' URLs */
    char *page;   /* pageToken, NULL for the first page */
};

enum { YT_THREADS, YT_REPLIES };

struct yt_source {
    struct es_source base; /* must stay first */
    char *api;             /* base URL without a trailing '/' */
    char *what;            /* "youtube 'NAME'", for messages */
    int context;           /* read replies beyond the embedded ones */
    int max_pages;
    struct yt_stream *st;
    size_t nst;
    size_t rot;   /* the stream that goes first in this poll */
    size_t cur;   /* stream of the request in flight */
    int inflight; /* YT_THREADS or YT_REPLIES */
    struct yt_fetch q[YT_MAX_REPLIES]; /* replies to read, in order */
    size_t nq;
    int reply_requests; /* comments.list requests for the current page */
    struct es_buf url;  /* the request's URL (holds the key) */
};

/* ==== Converting comments ==== */

struct yt_conv {
    const char *what;   /* "youtube" or "youtube 'NAME'" */
    const char *source; /* item.source */
    es_item_cb emit;
    void *payload;
    int64_t since; /* skip what is not newer (ES_TIME_UNKNOWN: none) */
    long bad;      /* index of the first malformed entry, or -1 */
};

/* Whether @s holds markup or character references (textFormat=html). */
static int looks_like_html(const char *s)
{
    for (const char *p = s; *p; p++) {
        if (*p == '<' && (p[1] == '/' || (p[1] >= 'a' && p[1] <= 'z') ||
                          (p[1] >= 'A' && p[1] <= 'Z')))
            return 1;
        if (*p == '&') {
            size_t n = strspn(p + 1, "#abcdefghijklmnopqrstuvwxyz"
                                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
            if (n > 0 && p[1 + n] == ';')
                return 1;
        }
    }
    return 0;
}

/* Fills @it from comment resource @c. @video is the thread's video (the
 * snippet's own is used when set), @root the thread's top-level comment
 * id for replies (NULL for a top-level comment). Returns 0, 1 to skip
 * (rejected by the channel), -1 without an id. */
static int comment_item(const struct yt_conv *cv, yajl_val c, const char *video,
                        const char *root, struct es_item *it)
{
    const char *id = es_json_str(c, "id");
    yajl_val sn = es_json_get(c, "snippet");

    if (!id || !*id || !es_json_is_object(sn))
        return -1;
    const char *mod = es_json_str(sn, "moderationStatus");
    if (mod && strcmp(mod, "rejected") == 0)
        return 1;
    if (es_json_str(sn, "videoId"))
        video = es_json_str(sn, "videoId");

    it->platform = es_xstrdup("youtube");
    it->source = es_xstrdup(cv->source);
    it->external_id = es_xstrdup(id);
    if (video && *video) {
        struct es_buf u = ES_BUF_INIT;
        es_buf_adds(&u, "https://www.youtube.com/watch?v=");
        es_url_add_escaped(&u, video);
        es_buf_adds(&u, "&lc=");
        es_url_add_escaped(&u, id);
        it->url = es_buf_detach(&u);
        es_item_add_category(it, video);
    }
    const char *name = es_json_str(sn, "authorDisplayName");
    if (name && *name) {
        es_json_set(&it->author_name, name);
        es_json_set(&it->author, name[0] == '@' && name[1] ? name + 1 : name);
    }
    /* textOriginal is what the author typed; textDisplay may be HTML
     * (textFormat=html) and is all there is when the original is not
     * shared with us. */
    const char *orig = es_json_str(sn, "textOriginal");
    const char *disp = es_json_str(sn, "textDisplay");
    int html = disp && looks_like_html(disp);
    if (orig)
        es_json_set_plain_text(&it->text, orig, 0);
    else if (html)
        es_json_set_html_text(&it->text, disp);
    else
        es_json_set_plain_text(&it->text, disp, 0);
    if (html)
        es_json_set(&it->content, disp);
    it->created_at = es_json_time(sn, "publishedAt");
    it->updated_at = es_json_time(sn, "updatedAt");
    it->kind = ES_KIND_COMMENT;
    const char *parent = es_json_str(sn, "parentId");
    if (parent && *parent && strcmp(parent, id) != 0) {
        es_json_set(&it->in_reply_to, parent);
        es_json_set(&it->thread_root, root ? root : parent);
    } else if (root && strcmp(root, id) != 0) {
        es_json_set(&it->in_reply_to, root);
        es_json_set(&it->thread_root, root);
    }
    return 0;
}

/* Emits comment @c. Returns 0, -1 without an id, or what emit returned. */
static int emit_comment(const struct yt_conv *cv, yajl_val c, const char *video,
                        const char *root)
{
    struct es_item it;
    if (cv->since != ES_TIME_UNKNOWN && es_json_str(c, "id")) {
        /* Read in an earlier pass, unless edited since. */
        yajl_val sn = es_json_get(c, "snippet");
        int64_t pub = es_json_time(sn, "publishedAt");
        int64_t upd = es_json_time(sn, "updatedAt");
        if (pub != ES_TIME_UNKNOWN && pub <= cv->since && upd <= cv->since)
            return 0;
    }
    es_item_init(&it);
    int rc = comment_item(cv, c, video, root, &it);
    if (rc == 0)
        rc = cv->emit(&it, cv->payload);
    else if (rc == 1)
        rc = 0;
    es_item_release(&it);
    return rc;
}

/* The video of thread @th: its snippet's, else its top-level comment's. */
static const char *thread_video(yajl_val th)
{
    yajl_val sn = es_json_get(th, "snippet");
    const char *v = es_json_str(sn, "videoId");
    if (!v)
        v = es_json_str(es_json_path(sn, "topLevelComment.snippet"), "videoId");
    return v;
}

/* Emits a commentThread: its top-level comment, then the replies it
 * embeds. Returns 0, -1 when the thread has no usable top-level comment
 * (its replies are still emitted), or what emit returned. */
static int emit_thread(const struct yt_conv *cv, yajl_val th)
{
    yajl_val top = es_json_path(th, "snippet.topLevelComment");
    const char *video = thread_video(th);
    const char *root = es_json_str(top, "id");
    if (!root)
        root = es_json_str(th, "id");

    int rc = emit_comment(cv, top, video, NULL);
    if (rc > 0)
        return rc;
    int ret = rc;
    yajl_val replies = es_json_path(th, "replies.comments");
    for (size_t i = 0; i < es_json_len(replies); i++) {
        rc = emit_comment(cv, es_json_at(replies, i), video, root);
        if (rc > 0)
            return rc;
        if (rc < 0)
            ret = -1;
    }
    return ret;
}

/* Whether @el is a commentThread rather than a comment. */
static int is_thread(yajl_val el)
{
    const char *kind = es_json_str(el, "kind");
    if (kind)
        return strcmp(kind, "youtube#commentThread") == 0;
    return es_json_path(el, "snippet.topLevelComment") != NULL;
}

/* Emits every entry of @items (threads or comments). @video names the
 * video of bare comments that do not say. Returns 0, what emit returned,
 * or ES_EPARSE naming the first malformed entry once the rest are out. */
static int convert_items(struct yt_conv *cv, yajl_val items, const char *video,
                         const char *root)
{
    cv->bad = -1;
    for (size_t i = 0; i < es_json_len(items); i++) {
        yajl_val el = es_json_at(items, i);
        int rc = is_thread(el) ? emit_thread(cv, el)
                               : emit_comment(cv, el, video, root);
        if (rc > 0)
            return rc;
        if (rc < 0 && cv->bad < 0)
            cv->bad = (long)i;
    }
    if (cv->bad >= 0) {
        char path[64];
        snprintf(path, sizeof(path), "$.items[%ld]", cv->bad);
        return es_json_shape_error(cv->what, path,
                                   "a comment without an id or snippet, "
                                   "skipped");
    }
    return 0;
}

/* The error of a {"error": {"code", "message", "errors": [...]}} body
 * (or the older {"error": "message"}). */
static int api_error(const char *what, yajl_val root)
{
    long long code = 0;
    yajl_val err = es_json_get(root, "error");
    const char *msg = es_json_str(err, "message");
    const char *reason =
        es_json_str(es_json_at(es_json_get(err, "errors"), 0), "reason");
    struct es_buf text = ES_BUF_INIT;
    int rc = ES_ERROR;

    if (!msg)
        msg = es_json_str(root, "error");
    es_json_int(err, "code", &code);
    /* Google's messages hold markup ("<code><a href=...>videoId</a>"). */
    if (msg)
        es_html_to_text(msg, strlen(msg), &text);
    if (reason && (strcmp(reason, "quotaExceeded") == 0 ||
                   strstr(reason, "ateLimitExceeded")))
        rc = ES_ERATELIMIT;
    else if (code == 401 || code == 403)
        rc = ES_EAUTH;
    else if (code == 404)
        rc = ES_ENOTFOUND;
    else if (code == 400)
        rc = ES_EINVALID;
    es_error_set(rc, "%s: the API answered an error at $.error: %lld %s%s%s%s",
                 what, code, text.len ? text.ptr : "no message",
                 reason ? " (" : "", reason ? reason : "", reason ? ")" : "");
    es_buf_release(&text);
    return rc;
}

/* Finds the list in a response; *out is NULL for an empty list. Returns 0
 * or an error naming the path. */
static int find_items(const char *what, yajl_val root, yajl_val *out)
{
    *out = NULL;
    if (!es_json_is_object(root))
        return es_json_shape_error(what, "$",
                                   "expected an object with items or error");
    if (es_json_get(root, "error"))
        return api_error(what, root);
    yajl_val items = es_json_get(root, "items");
    if (items && !es_json_is_array(items))
        return es_json_shape_error(what, "$.items", "expected an array");
    const char *kind = es_json_str(root, "kind");
    if (!items && !(kind && strstr(kind, "ListResponse")))
        return es_json_shape_error(what, "$.items", "missing");
    *out = items;
    return 0;
}

static int yt_parse_any(const char *buf, size_t len,
                        const struct es_parse_opts *opts, es_item_cb emit,
                        void *payload)
{
    yajl_val root = NULL;
    yajl_val items = NULL;
    struct yt_conv cv = {
        .what = "youtube",
        .source = opts && opts->source ? opts->source : "youtube",
        .emit = emit,
        .payload = payload,
        .since = ES_TIME_UNKNOWN,
    };
    int rc = es_json_parse(&root, "youtube", buf, len);
    if (rc != 0)
        return rc;
    const char *kind = es_json_str(root, "kind");
    if (kind && strcmp(kind, "youtube#commentThread") == 0) {
        rc = emit_thread(&cv, root);
        if (rc < 0)
            rc = es_json_shape_error("youtube", "$.snippet.topLevelComment",
                                     "a thread without a comment");
    } else if (kind && strcmp(kind, "youtube#comment") == 0) {
        rc = emit_comment(&cv, root, NULL, NULL);
        if (rc < 0)
            rc = es_json_shape_error("youtube", "$.id",
                                     "a comment without an id or snippet");
    } else if (kind && strncmp(kind, "youtube#", 8) == 0 &&
               strcmp(kind, "youtube#commentThreadListResponse") != 0 &&
               strcmp(kind, "youtube#commentListResponse") != 0) {
        /* A search or videos answer: its items are no comments. */
        char what[160];
        snprintf(what, sizeof(what),
                 "a %.60s, not comments (the youtube kind reads "
                 "commentThreads.list and comments.list answers)",
                 kind);
        rc = es_json_shape_error("youtube", "$.kind", what);
    } else {
        rc = find_items("youtube", root, &items);
        if (rc == 0)
            rc = convert_items(&cv, items, NULL, NULL);
    }
    es_json_free(root);
    return rc;
}

/* ==== The source ==== */

static void state_clear(struct yt_state *st)
{
    free(st->page);
    st->page = NULL;
    st->since = st->newest = ES_TIME_UNKNOWN;
}

static void queue_clear(struct yt_source *s)
{
    for (size_t i = 0; i < s->nq; i++) {
        free(s->q[i].parent);
        free(s->q[i].video);
        free(s->q[i].page);
    }
    s->nq = 0;
}

static void yt_close(struct es_source *src)
{
    if (!src)
        return;
    struct yt_source *s = (struct yt_source *)src; /* base is first */
    for (size_t i = 0; i < s->nst; i++) {
        free(s->st[i].key);
        state_clear(&s->st[i].st);
        state_clear(&s->st[i].after);
    }
    free(s->st);
    queue_clear(s);
    free(s->api);
    free(s->what);
    if (s->url.alloc)
        memset(s->url.ptr, 0, s->url.len); /* it held the key */
    es_buf_release(&s->url);
    es_source__release_base(&s->base);
    free(s);
}

/* Whether @s (of @len bytes) is a plausible channel or video id. */
static int valid_id(const char *s, size_t len)
{
    if (len == 0 || len >= 64)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
            return 0;
    return 1;
}

static void add_stream(struct yt_source *s, const char *prefix,
                       const char *param, const char *id, size_t len)
{
    s->st = es_xrealloc(s->st, (s->nst + 1) * sizeof(*s->st));
    struct yt_stream *st = &s->st[s->nst++];
    memset(st, 0, sizeof(*st));
    st->key = es_xasprintf("%s:%.*s", prefix, (int)len, id);
    st->value = st->key + strlen(prefix) + 1;
    st->param = param;
    state_clear(&st->st);
    state_clear(&st->after);
}

static int yt_open(struct es_source **out, const struct es_config_source *cfg)
{
    *out = NULL;
    struct yt_source *s = es_xcalloc(1, sizeof(*s));
    int rc = es_source__init_base(&s->base, &es_source_youtube_ops, cfg);
    if (rc != 0) {
        free(s);
        return rc;
    }
    es_buf_init(&s->url);

    if (!s->base.token || !*s->base.token) {
        rc = es_error_set(ES_EINVALID,
                          "%s:%d: [source \"%s\"] needs an API key (token or "
                          "token_file)",
                          cfg->file, cfg->line, cfg->name);
        goto fail;
    }
    const char *channel = es_config_source_get(cfg, "channel");
    const char *videos = es_config_source_get(cfg, "videos");
    if (channel && *channel) {
        if (!valid_id(channel, strlen(channel))) {
            rc = es_error_set(ES_EINVALID,
                              "%s:%d: [source \"%s\"] channel '%s' is not a "
                              "channel id (UC...)",
                              cfg->file, cfg->line, cfg->name, channel);
            goto fail;
        }
        add_stream(s, "channel", "allThreadsRelatedToChannelId", channel,
                   strlen(channel));
    }
    for (const char *p = videos; p && *p;) {
        p += strspn(p, " \t,");
        size_t n = strcspn(p, ",");
        size_t m = n;
        while (m && (p[m - 1] == ' ' || p[m - 1] == '\t'))
            m--;
        if (m == 0) {
            p += n;
            continue;
        }
        if (!valid_id(p, m)) {
            rc = es_error_set(ES_EINVALID,
                              "%s:%d: [source \"%s\"] '%.*s' in videos is "
                              "not a video id",
                              cfg->file, cfg->line, cfg->name, (int)m, p);
            goto fail;
        }
        add_stream(s, "video", "videoId", p, m);
        p += n;
    }
    if (s->nst == 0) {
        rc = es_error_set(ES_EINVALID,
                          "%s:%d: [source \"%s\"] needs a channel or videos",
                          cfg->file, cfg->line, cfg->name);
        goto fail;
    }
    s->context = es_config_source_bool(cfg, "context", 1);
    const char *mp = es_config_source_get(cfg, "max_pages");
    s->max_pages = mp ? atoi(mp) : YT_DEFAULT_PAGES;
    if (s->max_pages < 1)
        s->max_pages = YT_DEFAULT_PAGES;
    const char *api = s->base.base_url && *s->base.base_url ? s->base.base_url
                                                            : YT_DEFAULT_BASE;
    size_t n = es_url_trim_len(api);
    s->api = es_xstrndup(api, n);
    s->what = es_xasprintf("youtube '%s'", cfg->name);
    s->rot = s->nst - 1; /* the first poll starts with the first stream */
    *out = &s->base;
    return 0;

fail:
    yt_close(&s->base);
    return rc;
}

static void yt_begin(struct es_source *src, const char *cursor)
{
    struct yt_source *s = (struct yt_source *)src;
    yajl_val root = NULL;

    queue_clear(s);
    s->rot = (s->rot + 1) % s->nst;
    if (cursor && *cursor &&
        es_json_parse(&root, "youtube cursor", cursor, strlen(cursor)) != 0)
        root = NULL;
    for (size_t i = 0; i < s->nst; i++) {
        struct yt_stream *st = &s->st[i];
        state_clear(&st->st);
        state_clear(&st->after);
        st->pending = st->after_done = st->pages = st->done = 0;
        st->retried = 0;
        yajl_val o = es_json_get(root, st->key);
        st->st.since = es_json_time(o, "since");
        const char *page = es_json_str(o, "page");
        int64_t newest = es_json_time(o, "newest");
        /* A pass under way needs both its mark and its next page. */
        if (page && *page && newest != ES_TIME_UNKNOWN) {
            st->st.page = es_xstrdup(page);
            st->st.newest = newest;
        }
    }
    es_json_free(root);
    es_error_clear();
}

static int has_work(const struct yt_source *s)
{
    if (s->nq > 0)
        return 1;
    for (size_t i = 0; i < s->nst; i++)
        if (!s->st[i].done)
            return 1;
    return 0;
}

static int yt_request(struct es_source *src, struct es_source_request *req)
{
    struct yt_source *s = (struct yt_source *)src;

    memset(req, 0, sizeof(*req));
    es_buf_reset(&s->url);
    if (s->nq > 0) {
        struct yt_fetch *f = &s->q[0];
        es_buf_addf(&s->url,
                    "%s/youtube/v3/comments?part=snippet&maxResults=100"
                    "&textFormat=plainText",
                    s->api);
        es_url_add_param(&s->url, "parentId", f->parent);
        es_url_add_param(&s->url, "pageToken", f->page);
        es_url_add_param(&s->url, "key", s->base.token);
        s->inflight = YT_REPLIES;
        s->reply_requests++;
        req->url = s->url.ptr;
        return 0;
    }
    for (size_t k = 0; k < s->nst; k++) {
        size_t i = (s->rot + k) % s->nst;
        struct yt_stream *st = &s->st[i];
        if (st->done)
            continue;
        es_buf_addf(&s->url,
                    "%s/youtube/v3/commentThreads?part=snippet,replies"
                    "&maxResults=100&order=time&textFormat=plainText",
                    s->api);
        es_url_add_param(&s->url, st->param, st->value);
        es_url_add_param(&s->url, "pageToken", st->st.page);
        es_url_add_param(&s->url, "key", s->base.token);
        s->cur = i;
        s->inflight = YT_THREADS;
        req->url = s->url.ptr;
        return 0;
    }
    return ES_EUNCHANGED;
}

static void add_time(struct es_buf *b, const char *key, int64_t t, int *first)
{
    char iso[21];
    if (t == ES_TIME_UNKNOWN)
        return;
    if (!*first)
        es_buf_addch(b, ',');
    *first = 0;
    es_json_add_str(b, key);
    es_buf_addch(b, ':');
    es_json_add_str(b, es_time_format(t, iso));
}

/* Returns the whole cursor to store (see the top of the file). */
static char *build_cursor(const struct yt_source *s)
{
    struct es_buf b = ES_BUF_INIT;
    int first = 1;

    es_buf_addch(&b, '{');
    for (size_t i = 0; i < s->nst; i++) {
        const struct yt_state *st = &s->st[i].st;
        if (st->since == ES_TIME_UNKNOWN && !st->page)
            continue;
        if (!first)
            es_buf_addch(&b, ',');
        first = 0;
        es_json_add_str(&b, s->st[i].key);
        es_buf_adds(&b, ":{");
        int f = 1;
        add_time(&b, "since", st->since, &f);
        if (st->page) {
            add_time(&b, "newest", st->newest, &f);
            if (!f)
                es_buf_addch(&b, ',');
            f = 0;
            es_json_add_str(&b, "page");
            es_buf_addch(&b, ':');
            es_json_add_str(&b, st->page);
        }
        es_buf_addch(&b, '}');
    }
    es_buf_addch(&b, '}');
    return es_buf_detach(&b);
}

/* Makes the state past the last thread page the stored one. */
static void commit(struct yt_stream *st)
{
    if (!st->pending)
        return;
    state_clear(&st->st);
    st->st = st->after;
    st->after.page = NULL;
    state_clear(&st->after);
    st->pending = 0;
    if (st->after_done)
        st->done = 1;
}

static int64_t max_time(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* Works out the state past thread page @root of stream @st into
 * st->after, and queues the replies it lacks. */
static void advance(struct yt_source *s, struct yt_stream *st, yajl_val root,
                    yajl_val items)
{
    int64_t mark = ES_TIME_UNKNOWN;
    int64_t last = ES_TIME_UNKNOWN;
    const struct yt_state *cur = &st->st;
    const char *next = es_json_str(root, "nextPageToken");

    for (size_t i = 0; i < es_json_len(items); i++) {
        yajl_val th = es_json_at(items, i);
        yajl_val sn = es_json_path(th, "snippet.topLevelComment.snippet");
        int64_t pub = es_json_time(sn, "publishedAt");
        mark = max_time(mark, max_time(pub, es_json_time(sn, "updatedAt")));
        last = pub;
        /* The mark covers the embedded replies too, so that the next
         * pass does not emit them again. */
        yajl_val replies = es_json_path(th, "replies.comments");
        for (size_t k = 0; k < es_json_len(replies); k++) {
            yajl_val rs = es_json_get(es_json_at(replies, k), "snippet");
            mark = max_time(mark, max_time(es_json_time(rs, "publishedAt"),
                                           es_json_time(rs, "updatedAt")));
        }
    }
    st->pages++;
    st->after.since = cur->since;
    st->after.newest = cur->newest != ES_TIME_UNKNOWN ? cur->newest : mark;
    st->after.page = NULL;
    /* Reached what the last pass read, ran out of pages, or (first pass)
     * read as far back as it may. */
    int complete = !next || !*next ||
                   (cur->since != ES_TIME_UNKNOWN && last != ES_TIME_UNKNOWN &&
                    last <= cur->since) ||
                   (cur->since == ES_TIME_UNKNOWN && st->pages >= s->max_pages);
    if (complete) {
        st->after.since = max_time(cur->since, st->after.newest);
        st->after.newest = ES_TIME_UNKNOWN;
    } else if (st->after.newest == ES_TIME_UNKNOWN &&
               cur->since == ES_TIME_UNKNOWN) {
        /* A first pass with nothing dated yet: no mark to resume to. */
        complete = 1;
    } else {
        /* Nothing dated on the page: page on towards the old mark, which
         * stays the mark (what is newer is read again next time). */
        if (st->after.newest == ES_TIME_UNKNOWN)
            st->after.newest = cur->since;
        st->after.page = es_xstrdup(next);
    }
    st->pending = 1;
    st->after_done = complete || st->pages >= s->max_pages;

    /* Replies the threads do not embed: read before the page's cursor is
     * stored, so that a poll cut short reads this page again. */
    s->nq = 0;
    s->reply_requests = 0;
    for (size_t i = 0; s->context && i < es_json_len(items); i++) {
        yajl_val th = es_json_at(items, i);
        yajl_val top = es_json_path(th, "snippet.topLevelComment");
        const char *id = es_json_str(top, "id");
        long long total = 0;
        int64_t pub = es_json_time(es_json_get(top, "snippet"), "publishedAt");
        if (!id || s->nq == YT_MAX_REPLIES ||
            es_json_int(es_json_get(th, "snippet"), "totalReplyCount",
                        &total) != 0 ||
            total <= (long long)es_json_len(es_json_path(th, "replies."
                                                             "comments")))
            continue;
        if (cur->since != ES_TIME_UNKNOWN && pub != ES_TIME_UNKNOWN &&
            pub <= cur->since)
            continue; /* read in an earlier pass */
        struct yt_fetch *f = &s->q[s->nq++];
        f->parent = es_xstrdup(id);
        f->video = es_xstrdup(thread_video(th));
        f->page = NULL;
    }
}

/* Done with the first queued fetch: drops it, and commits the page's
 * state once none is left. */
static void pop_fetch(struct yt_source *s)
{
    free(s->q[0].parent);
    free(s->q[0].video);
    free(s->q[0].page);
    memmove(&s->q[0], &s->q[1], (s->nq - 1) * sizeof(s->q[0]));
    s->nq--;
    if (s->nq == 0)
        commit(&s->st[s->cur]);
}

static int yt_parse(struct es_source *src, const struct es_source_response *res,
                    struct es_source_page *page, es_item_cb emit, void *payload)
{
    struct yt_source *s = (struct yt_source *)src;
    yajl_val root = NULL;
    yajl_val items = NULL;
    struct yt_conv cv = {
        .what = s->what,
        .source = src->name,
        .emit = emit,
        .payload = payload,
        .since = ES_TIME_UNKNOWN,
    };
    int rc = es_json_parse(&root, s->what, res->body, res->len);
    if (rc == 0)
        rc = find_items(s->what, root, &items);
    if (rc != 0)
        goto done;

    if (s->inflight == YT_THREADS) {
        struct yt_stream *st = &s->st[s->cur];
        cv.since = st->st.since;
        rc = convert_items(&cv, items, NULL, NULL);
        if (rc > 0)
            goto done;
        advance(s, st, root, items);
        if (s->nq == 0)
            commit(st);
    } else {
        struct yt_fetch *f = &s->q[0];
        cv.since = s->st[s->cur].st.since;
        rc = convert_items(&cv, items, f->video, f->parent);
        if (rc > 0)
            goto done;
        const char *next = es_json_str(root, "nextPageToken");
        if (next && *next && s->reply_requests < YT_MAX_REPLIES) {
            free(f->page);
            f->page = es_xstrdup(next);
        } else {
            pop_fetch(s);
        }
    }
    page->cursor = build_cursor(s);
    page->more = has_work(s);

done:
    es_json_free(root);
    return rc;
}

/* A video with comments turned off (or gone) is skipped while others are
 * left to read; an expired pageToken restarts its pass once; a reply
 * thread deleted meanwhile is dropped. */
static int yt_failed(struct es_source *src,
                     const struct es_source_response *res)
{
    struct yt_source *s = (struct yt_source *)src;
    yajl_val root = NULL;
    int again = 0;

    if (!res->body || !res->len)
        return 0;
    char *saved = es_xstrdup(es_error_last());
    if (es_json_parse(&root, s->what, res->body, res->len) != 0)
        goto done;
    yajl_val e = es_json_at(es_json_path(root, "error.errors"), 0);
    const char *reason = es_json_str(e, "reason");
    const char *location = es_json_str(e, "location");
    if (!reason)
        goto done;
    if (s->inflight == YT_REPLIES) {
        if (strcmp(reason, "commentNotFound") == 0 ||
            strcmp(reason, "parentCommentNotFound") == 0) {
            pop_fetch(s);
            again = 1;
        }
        goto done;
    }
    struct yt_stream *st = &s->st[s->cur];
    if ((strstr(reason, "PageToken") ||
         (location && strcmp(location, "pageToken") == 0)) &&
        st->st.page && !st->retried) {
        free(st->st.page);
        st->st.page = NULL;
        st->st.newest = ES_TIME_UNKNOWN;
        st->retried = 1;
        st->pages = 0;
        again = 1;
    } else if (strcmp(reason, "commentsDisabled") == 0 ||
               strcmp(reason, "videoNotFound") == 0 ||
               strcmp(reason, "channelNotFound") == 0) {
        st->done = 1;
        /* Alone, the error is worth reporting. */
        again = has_work(s);
    }

done:
    es_json_free(root);
    es_error_set(ES_ERROR, "%s", saved);
    free(saved);
    return again;
}

const struct es_source_ops es_source_youtube_ops = {
    .name = "youtube",
    .flags = ES_SOURCE_NEEDS_AUTH,
    .default_interval_s = 900,
    .open = yt_open,
    .begin = yt_begin,
    .request = yt_request,
    .parse = yt_parse,
    .failed = yt_failed,
    .parse_any = yt_parse_any,
    .close = yt_close,
};
