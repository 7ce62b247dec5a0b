/* source_bluesky.c - the "bluesky" source kind: search, mentions, own posts
 *
 * Bluesky speaks XRPC: every call is GET or POST /xrpc/<NSID> with JSON
 * out, and every error is {"error": NAME, "message": TEXT}. One source
 * reads up to three newest-first streams per poll, each with its own
 * high-water mark, kept together in one JSON cursor
 * ({"mentions":TIME,"own":TIME,"search":{"QUERY":TIME}}):
 * - mentions: app.bsky.notification.listNotifications, keeping mentions,
 *   replies and quotes (likes, reposts and follows are not mentions);
 * - search: app.bsky.feed.searchPosts for the source's query rendered as
 *   plain keywords (one search per alternative when the query is an OR
 *   with no term common to every branch), sort=latest, since the mark;
 * - own posts: app.bsky.feed.getAuthorFeed of the configured handle.
 * A reply whose parent is not in the page gets its thread fetched with
 * app.bsky.feed.getPostThread. With handle + app_password every call goes
 * through the account's PDS under a session (createSession, renewed with
 * refreshSession when the access token expires, created again when the
 * refresh token is refused); without them, through the public AppView.
 *
 * Post text is plain, but links in it are shortened for display; the
 * record's facets say where (UTF-8 byte offsets into the text), so the
 * full URL goes back in, and tags and mentions become categories.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/query.h"
#include "earshot/source.h"
#include "json.h"
#include "strmap.h"
#include "url.h"

/* Defined at the bottom; registry.c refers to it. */
extern const struct es_source_ops es_source_bluesky_ops;

#define KIND           "bluesky"
#define PUBLIC_APPVIEW "https://public.api.bsky.app"
#define DEFAULT_PDS    "https://bsky.social"
#define PAGE_LIMIT     "100"
#define CONTEXT_DEPTH  "3" /* levels of replies under a fetched parent */
#define DEF_MAX_PAGES  3   /* pages per stream and poll */
#define MAX_SEARCHES   4   /* plain searches one query may need */
#define MAX_CONTEXT    5   /* thread fetches per poll */
#define SEEN_CAP       512 /* parents whose thread this process fetched */
#define MAX_TRIES      3   /* session requests per poll */
#define MAX_FACETS     128
/* Search finds a post once the AppView has indexed it, which may be after
 * newer posts were read: every search looks this far behind its mark
 * again. The store drops the duplicates; a post indexed late is not lost. */
#define LOOKBACK 300

enum stream_kind {
    ST_MENTIONS,
    ST_SEARCH,
    ST_OWN,
};

/* What the request in flight was, for parse and failed. */
enum pending {
    P_NONE,
    P_CREATE,  /* com.atproto.server.createSession */
    P_REFRESH, /* com.atproto.server.refreshSession */
    P_STREAM,  /* a page of streams[cur] */
    P_CONTEXT, /* app.bsky.feed.getPostThread */
};

/* One newest-first stream. */
struct stream {
    enum stream_kind kind;
    const char *q;  /* ST_SEARCH: the plain search (owned by queries) */
    int64_t mark;   /* stored high-water mark, or ES_TIME_UNKNOWN */
    int64_t newest; /* newest position read in this poll */
    char *next;     /* the next page's cursor (or until time), or NULL */
    int64_t until;  /* anonymous search: the until sent last */
    int pages;      /* pages read in this poll */
    int done;       /* read to the mark, to the end or to max_pages */
};

struct bsky_source {
    struct es_source base; /* must stay first */
    char *host;            /* base URL of every call, no trailing '/' */
    char *handle;          /* `handle =` without '@', or NULL */
    char *password;        /* app password; a secret, or NULL */
    int auth;              /* handle + password: calls go under a session */
    int context;           /* `context =`: fetch threads of replies */
    int max_pages;         /* `max_pages =` */
    char *user_agent;      /* "User-Agent: ..." from `user_agent =` */
    char **queries;        /* plain searches, nqueries of them */
    size_t nqueries;
    struct stream streams[2 + MAX_SEARCHES];
    size_t nstreams;
    size_t cur; /* the stream being paged */

    /* The session outlives polls: tokens are renewed, not re-created. */
    char *access;      /* accessJwt; a secret */
    char *refresh;     /* refreshJwt; a secret */
    int session_tries; /* session requests in this poll */
    enum pending pending;

    /* Thread context: parents queued in this poll, and those fetched in
     * this process (a ring), so a busy thread is not fetched each poll. */
    char *ctx_queue[MAX_CONTEXT];
    int ctx_used; /* queued in this poll */
    int ctx_head; /* next to fetch */
    char *seen[SEEN_CAP];
    size_t seen_next;

    struct es_buf url;      /* the request's URL */
    struct es_buf body;     /* createSession's body; holds the password */
    struct es_buf auth_hdr; /* "Authorization: Bearer ..."; a secret */
};

/* One walk over a body: where items go, and what the stateful parse
 * wants to learn from it. */
struct walk {
    struct bsky_source *s; /* NULL in parse_any */
    const char *label;     /* names the input in messages */
    const char *source;    /* item->source */
    es_item_cb emit;
    void *payload;
    int want_context;  /* queue threads of replies whose parent is away */
    unsigned flags;    /* enum es_item_flags given to every item */
    const char **uris; /* the page's post uris (borrowed from the tree) */
    size_t nuris;
    int64_t newest; /* sort positions of the page's entries */
    int64_t oldest;
    char *bad; /* message for the first malformed entry, or NULL */
    struct es_strmap posted; /* uris emitted from this body: a post that is
                              * a reply's context and an entry of its own
                              * comes once */
};

/* ==== Small helpers ==== */

/* Frees a secret string after overwriting it. */
static void drop_secret(char **p)
{
    if (*p) {
        memset(*p, 0, strlen(*p));
        free(*p);
        *p = NULL;
    }
}

static void wipe_buf(struct es_buf *b)
{
    if (b->alloc)
        memset(b->ptr, 0, b->len);
    es_buf_reset(b);
}

static int64_t min_time(int64_t a, int64_t b)
{
    if (a == ES_TIME_UNKNOWN)
        return b;
    if (b == ES_TIME_UNKNOWN)
        return a;
    return a < b ? a : b;
}

static void track(struct walk *w, int64_t t)
{
    if (t == ES_TIME_UNKNOWN)
        return;
    if (w->newest == ES_TIME_UNKNOWN || t > w->newest)
        w->newest = t;
    if (w->oldest == ES_TIME_UNKNOWN || t < w->oldest)
        w->oldest = t;
}

/* Notes a malformed entry at @path; the walk goes on with the next. */
static void bad_entry(struct walk *w, const char *path, const char *what)
{
    if (w->bad)
        return;
    es_json_shape_error(w->label, path, what);
    w->bad = es_xstrdup(es_error_last());
}

/* Handles, DIDs and record keys are plain ASCII; anything else would not
 * make a usable permalink. */
static int url_safe(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || strchr(".-_:~", *s)))
            return 0;
    return 1;
}

/* ==== Text and facets ==== */

/* A link facet: the bytes [start, end) of the text show @uri. */
struct link_span {
    size_t start;
    size_t end;
    const char *uri;
};

/* Whether byte offset @i of @text (@len bytes) starts a character. */
static int on_boundary(const char *text, size_t len, size_t i)
{
    return i == len || (i < len && ((unsigned char)text[i] & 0xc0) != 0x80);
}

static const char *skip_prefix_ci(const char *s, size_t *len,
                                  const char *prefix)
{
    size_t n = strlen(prefix);
    if (*len >= n && strncasecmp(s, prefix, n) == 0) {
        *len -= n;
        return s + n;
    }
    return s;
}

/* Drops "https://", "http://" and "www." from the @len bytes at @s. */
static const char *bare_url(const char *s, size_t *len)
{
    const char *p = skip_prefix_ci(s, len, "https://");
    if (p == s)
        p = skip_prefix_ci(s, len, "http://");
    return skip_prefix_ci(p, len, "www.");
}

/* Appends what a link facet stands for. The app shows a long link cut
 * short ("example.com/spring-sa..."): when the shown text is the start of
 * the URI, the full URI replaces it; custom link text is kept and the URI
 * follows in parentheses. */
static void add_link(struct es_buf *out, const char *disp, size_t dlen,
                     const char *uri)
{
    size_t n = dlen;
    if (n >= 3 && (memcmp(disp + n - 3, "...", 3) == 0 ||
                   memcmp(disp + n - 3, "\xe2\x80\xa6", 3) == 0))
        n -= 3;
    size_t ulen = strlen(uri);
    const char *d = bare_url(disp, &n);
    const char *u = bare_url(uri, &ulen);
    if (n > 0 && n <= ulen && strncasecmp(d, u, n) == 0) {
        es_buf_adds(out, uri);
        return;
    }
    es_buf_add(out, disp, dlen);
    es_buf_adds(out, " (");
    es_buf_adds(out, uri);
    es_buf_addch(out, ')');
}

/* Categories one post may give (the lexicon allows 8 tags; facets add
 * the mentions and tags written in the text): a body of 160,000 tags
 * once took 39 s of comparisons. */
#define MAX_CATEGORIES 64

static void add_category_once(struct es_item *it, const char *cat)
{
    if (!cat || !*cat || it->ncategories >= MAX_CATEGORIES)
        return;
    for (size_t i = 0; i < it->ncategories; i++)
        if (strcmp(it->categories[i], cat) == 0)
            return;
    es_item_add_category(it, cat);
}

/* Sets it->text from record.text with link facets expanded, and adds the
 * record's tags (facets and the `tags` field) and mentions ("@handle" as
 * written) to the categories. Facets out of range, not on character
 * boundaries or overlapping an earlier link are ignored. */
static void set_text(struct es_item *it, yajl_val record, const char *text)
{
    struct link_span links[MAX_FACETS];
    size_t nlinks = 0;
    size_t len = strlen(text);
    yajl_val facets = es_json_get(record, "facets");

    for (size_t i = 0; i < es_json_len(facets) && i < MAX_FACETS; i++) {
        yajl_val f = es_json_at(facets, i);
        yajl_val idx = es_json_get(f, "index");
        long long bs, be;
        if (es_json_int(idx, "byteStart", &bs) != 0 ||
            es_json_int(idx, "byteEnd", &be) != 0)
            continue;
        if (bs < 0 || be <= bs || (unsigned long long)be > len)
            continue;
        size_t start = (size_t)bs, end = (size_t)be;
        if (!on_boundary(text, len, start) || !on_boundary(text, len, end))
            continue;
        yajl_val feats = es_json_get(f, "features");
        for (size_t j = 0; j < es_json_len(feats) && j < MAX_FACETS; j++) {
            yajl_val ft = es_json_at(feats, j);
            const char *type = es_json_str(ft, "$type");
            if (!type)
                continue;
            if (strcmp(type, "app.bsky.richtext.facet#link") == 0) {
                const char *uri = es_json_str(ft, "uri");
                if (uri && *uri && nlinks < MAX_FACETS) {
                    links[nlinks].start = start;
                    links[nlinks].end = end;
                    links[nlinks].uri = uri;
                    nlinks++;
                }
            } else if (strcmp(type, "app.bsky.richtext.facet#tag") == 0) {
                add_category_once(it, es_json_str(ft, "tag"));
            } else if (strcmp(type, "app.bsky.richtext.facet#mention") == 0 &&
                       text[start] == '@') {
                char *m = es_xstrndup(text + start, end - start);
                add_category_once(it, m);
                free(m);
            }
        }
    }
    yajl_val tags = es_json_get(record, "tags");
    for (size_t i = 0; i < es_json_len(tags) && i < MAX_CATEGORIES; i++) {
        yajl_val t = es_json_at(tags, i);
        if (YAJL_IS_STRING(t))
            add_category_once(it, t->u.string);
    }

    /* Facets come in any order: sort the links by start (few of them). */
    for (size_t i = 1; i < nlinks; i++) {
        struct link_span key = links[i];
        size_t j = i;
        while (j > 0 && links[j - 1].start > key.start) {
            links[j] = links[j - 1];
            j--;
        }
        links[j] = key;
    }
    struct es_buf b = ES_BUF_INIT;
    size_t pos = 0;
    for (size_t i = 0; i < nlinks; i++) {
        if (links[i].start < pos)
            continue; /* overlaps the previous link */
        es_buf_add(&b, text + pos, links[i].start - pos);
        add_link(&b, text + links[i].start, links[i].end - links[i].start,
                 links[i].uri);
        pos = links[i].end;
    }
    es_buf_add(&b, text + pos, len - pos);
    es_json_set_plain_text(&it->text, b.ptr, 0); /* white space collapsed */
    es_buf_release(&b);
}

/* ==== Posts to items ==== */

/* The position of a post in newest-first listings: the AppView's sortAt,
 * the earlier of createdAt and indexedAt (a post dated in the future
 * does not jump the queue). */
static int64_t post_sort_at(yajl_val post)
{
    return min_time(es_json_time(es_json_get(post, "record"), "createdAt"),
                    es_json_time(post, "indexedAt"));
}

/* Whether @uri is one of the page's posts. */
static int in_page(const struct walk *w, const char *uri)
{
    for (size_t i = 0; i < w->nuris; i++)
        if (strcmp(w->uris[i], uri) == 0)
            return 1;
    return 0;
}

static int was_seen(const struct bsky_source *s, const char *uri)
{
    for (size_t i = 0; i < SEEN_CAP && s->seen[i]; i++)
        if (strcmp(s->seen[i], uri) == 0)
            return 1;
    return 0;
}

static void mark_seen(struct bsky_source *s, const char *uri)
{
    free(s->seen[s->seen_next]);
    s->seen[s->seen_next] = es_xstrdup(uri);
    s->seen_next = (s->seen_next + 1) % SEEN_CAP;
}

/* Queues the thread of @parent for this poll, unless it is fetched or
 * queued already, or the poll has had its share. */
static void queue_context(struct bsky_source *s, const char *parent)
{
    if (!s->context || s->ctx_used >= MAX_CONTEXT || was_seen(s, parent))
        return;
    for (int i = 0; i < s->ctx_used; i++)
        if (s->ctx_queue[i] && strcmp(s->ctx_queue[i], parent) == 0)
            return;
    s->ctx_queue[s->ctx_used++] = es_xstrdup(parent);
}

/* Emits one post: @uri and @cid its ids, @author a profile view, @record
 * an app.bsky.feed.post record, @indexed_at the fallback time. @path
 * names it in messages. Returns 0 (also for a record that is not a post,
 * which is skipped, and for a malformed one, noted in @w), or the non-zero
 * value emit returned. */
static int emit_post(struct walk *w, const char *path, const char *uri,
                     const char *cid, yajl_val author, yajl_val record,
                     const char *indexed_at)
{
    if (!uri || strncmp(uri, "at://", 5) != 0) {
        bad_entry(w, path, "a post with an at:// uri");
        return 0;
    }
    if (!es_json_is_object(record)) {
        bad_entry(w, path, "a post with a record object");
        return 0;
    }
    const char *type = es_json_str(record, "$type");
    if (type && strcmp(type, "app.bsky.feed.post") != 0)
        return 0; /* a like, a follow, a list...: not a post */
    const char *text = es_json_str(record, "text");
    if (!text) {
        bad_entry(w, path, "a post record with a text string");
        return 0;
    }
    const char *did = es_json_str(author, "did");
    const char *handle = es_json_str(author, "handle");
    /* An account whose handle no longer verifies shows "handle.invalid":
     * its DID is the name that still works. */
    if (handle && (!*handle || strcmp(handle, "handle.invalid") == 0))
        handle = NULL;
    const char *who = handle ? handle : did;
    if (!who || !*who) {
        bad_entry(w, path, "a post author with a handle or did");
        return 0;
    }

    if (!es_strmap_put(&w->posted, uri, NULL))
        return 0;

    struct es_item it;
    es_item_init(&it);
    it.platform = es_xstrdup(KIND);
    it.source = es_xstrdup(w->source);
    it.external_id = es_xstrdup(uri);
    it.author = es_xstrdup(who);
    const char *display = es_json_str(author, "displayName");
    if (display && *display) /* "": no name, as other kinds say it */
        it.author_name = es_xstrdup(display);
    long long followers;
    if (es_json_int(author, "followersCount", &followers) == 0)
        it.author_followers = followers;

    /* at://AUTHORITY/app.bsky.feed.post/RKEY */
    const char *rkey = strrchr(uri, '/');
    const char *coll = strstr(uri, "/app.bsky.feed.post/");
    if (rkey && coll && coll + 19 == rkey && url_safe(rkey + 1) &&
        url_safe(who))
        it.url =
            es_xasprintf("https://bsky.app/profile/%s/post/%s", who, rkey + 1);

    set_text(&it, record, text);
    it.created_at = es_json_time(record, "createdAt");
    if (it.created_at == ES_TIME_UNKNOWN && indexed_at)
        es_time_parse(indexed_at, &it.created_at);
    yajl_val langs = es_json_get(record, "langs");
    yajl_val lang = es_json_at(langs, 0);
    if (lang && YAJL_IS_STRING(lang) && *lang->u.string)
        it.lang = es_xstrdup(lang->u.string);

    yajl_val reply = es_json_get(record, "reply");
    const char *parent_uri = es_json_str(es_json_get(reply, "parent"), "uri");
    const char *root_uri = es_json_str(es_json_get(reply, "root"), "uri");
    const char *root_cid = es_json_str(es_json_get(reply, "root"), "cid");
    if (parent_uri) {
        it.kind = ES_KIND_REPLY;
        it.in_reply_to = es_xstrdup(parent_uri);
        it.thread_root = es_xstrdup(root_uri ? root_uri : parent_uri);
    } else {
        it.kind = ES_KIND_POST;
        root_uri = uri;
        root_cid = cid;
    }
    if (!root_uri) {
        root_uri = parent_uri;
        root_cid = es_json_str(es_json_get(reply, "parent"), "cid");
    }
    struct es_buf ref = ES_BUF_INIT;
    es_buf_adds(&ref, "{\"uri\":");
    es_json_add_str(&ref, uri);
    es_buf_adds(&ref, ",\"cid\":");
    es_json_add_str(&ref, cid);
    es_buf_adds(&ref, ",\"root_uri\":");
    es_json_add_str(&ref, root_uri);
    es_buf_adds(&ref, ",\"root_cid\":");
    es_json_add_str(&ref, root_cid);
    es_buf_addch(&ref, '}');
    it.reply_ref = es_buf_detach(&ref);

    if (w->s && w->want_context && parent_uri && !in_page(w, parent_uri))
        queue_context(w->s, parent_uri);

    it.flags = w->flags;
    int rc = w->emit(&it, w->payload);
    es_item_release(&it);
    return rc;
}

/* Emits one app.bsky.feed.defs#postView. */
static int emit_post_view(struct walk *w, const char *path, yajl_val post)
{
    if (!es_json_is_object(post)) {
        bad_entry(w, path, "a post view object");
        return 0;
    }
    return emit_post(w, path, es_json_str(post, "uri"),
                     es_json_str(post, "cid"), es_json_get(post, "author"),
                     es_json_get(post, "record"),
                     es_json_str(post, "indexedAt"));
}

/* ==== The shapes of the bodies ==== */

/* searchPosts, getPosts, getQuotes: {"posts": [postView...]}. */
static int walk_posts(struct walk *w, yajl_val posts)
{
    char path[48];
    for (size_t i = 0; i < es_json_len(posts); i++) {
        yajl_val p = es_json_at(posts, i);
        snprintf(path, sizeof(path), "$.posts[%zu]", i);
        track(w, post_sort_at(p));
        int rc = emit_post_view(w, path, p);
        if (rc)
            return rc;
    }
    return 0;
}

/* Whether a notification's reason makes it a mention: somebody wrote a
 * post naming, answering or quoting the account. */
static int is_mention_reason(const char *reason)
{
    return reason &&
           (strcmp(reason, "mention") == 0 || strcmp(reason, "reply") == 0 ||
            strcmp(reason, "quote") == 0);
}

/* listNotifications: {"notifications": [notification...]}. Each carries
 * the post's record itself, not a post view. */
static int walk_notifications(struct walk *w, yajl_val list)
{
    char path[48];
    /* Mentions, replies and quotes address the account itself. */
    w->flags |= ES_ITEM_DIRECT;
    for (size_t i = 0; i < es_json_len(list); i++) {
        yajl_val n = es_json_at(list, i);
        snprintf(path, sizeof(path), "$.notifications[%zu]", i);
        if (!es_json_is_object(n)) {
            bad_entry(w, path, "a notification object");
            continue;
        }
        track(w, es_json_time(n, "indexedAt"));
        if (!is_mention_reason(es_json_str(n, "reason")))
            continue;
        int rc =
            emit_post(w, path, es_json_str(n, "uri"), es_json_str(n, "cid"),
                      es_json_get(n, "author"), es_json_get(n, "record"),
                      es_json_str(n, "indexedAt"));
        if (rc)
            return rc;
    }
    return 0;
}

/* Whether a union member of a reply ref or a thread is a visible post
 * (not a notFoundPost or blockedPost). */
static int is_visible(yajl_val v)
{
    return es_json_is_object(v) && !es_json_bool(v, "notFound", 0) &&
           !es_json_bool(v, "blocked", 0);
}

/* getAuthorFeed, getTimeline, getFeed: {"feed": [feedViewPost...]}.
 * Reposts are skipped (the post is somebody else's, from another time);
 * a reply's root and parent come along as post views and are emitted
 * too: the context of the reply at no extra request. */
static int walk_feed(struct walk *w, yajl_val feed)
{
    char path[64];
    for (size_t i = 0; i < es_json_len(feed); i++) {
        yajl_val e = es_json_at(feed, i);
        yajl_val post = es_json_get(e, "post");
        yajl_val reason = es_json_get(e, "reason");
        const char *rtype = es_json_str(reason, "$type");
        snprintf(path, sizeof(path), "$.feed[%zu].post", i);
        if (!es_json_is_object(post)) {
            bad_entry(w, path, "a feed entry with a post view");
            continue;
        }
        if (rtype && strcmp(rtype, "app.bsky.feed.defs#reasonRepost") == 0) {
            track(w, es_json_time(reason, "indexedAt"));
            continue;
        }
        track(w, post_sort_at(post));
        yajl_val reply = es_json_get(e, "reply");
        yajl_val root = es_json_get(reply, "root");
        static const char *const ends[] = { "root", "parent" };
        for (size_t k = 0; k < 2; k++) {
            yajl_val v = es_json_get(reply, ends[k]);
            if (!is_visible(v) || !es_json_get(v, "record"))
                continue;
            /* A reply to the root: its parent is the root again. */
            if (k == 1 && is_visible(root) && es_json_str(root, "uri") &&
                es_json_str(v, "uri") &&
                strcmp(es_json_str(root, "uri"), es_json_str(v, "uri")) == 0)
                continue;
            snprintf(path, sizeof(path), "$.feed[%zu].reply.%s", i, ends[k]);
            int rc = emit_post_view(w, path, v);
            if (rc)
                return rc;
        }
        snprintf(path, sizeof(path), "$.feed[%zu].post", i);
        int rc = emit_post_view(w, path, post);
        if (rc)
            return rc;
    }
    return 0;
}

/* Emits the post of thread node @node (a threadViewPost; notFoundPost and
 * blockedPost are skipped). */
static int thread_post(struct walk *w, yajl_val node, const char *path)
{
    if (!is_visible(node))
        return 0;
    yajl_val post = es_json_get(node, "post");
    if (!post)
        return 0; /* a union member we do not know */
    return emit_post_view(w, path, post);
}

/* Emits @node and every reply under it (the depth is bounded by the
 * document's nesting, which es_json_parse() caps). */
static int walk_down(struct walk *w, yajl_val node, const char *path)
{
    int rc = thread_post(w, node, path);
    if (rc)
        return rc;
    yajl_val replies = es_json_get(node, "replies");
    for (size_t i = 0; i < es_json_len(replies); i++)
        if ((rc = walk_down(w, es_json_at(replies, i), "$.thread..replies")))
            return rc;
    return 0;
}

/* getPostThread: {"thread": threadViewPost | notFoundPost | blockedPost}:
 * the ancestors (parent, its parent...), then the post and its replies. */
static int walk_thread(struct walk *w, yajl_val thread)
{
    int rc;
    w->flags |= ES_ITEM_CONTEXT;
    for (yajl_val p = es_json_get(thread, "parent"); p;
         p = es_json_get(p, "parent"))
        if ((rc = thread_post(w, p, "$.thread..parent")))
            return rc;
    return walk_down(w, thread, "$.thread");
}

/* Collects the post uris of a stream page into w->uris. */
static void collect_uris(struct walk *w, yajl_val arr, const char *post_key)
{
    size_t n = es_json_len(arr);
    w->uris = es_xcalloc(n ? n : 1, sizeof(*w->uris));
    w->nuris = 0;
    for (size_t i = 0; i < n; i++) {
        yajl_val e = es_json_at(arr, i);
        const char *uri =
            es_json_str(post_key ? es_json_get(e, post_key) : e, "uri");
        if (uri)
            w->uris[w->nuris++] = uri;
    }
}

/* Ends a walk: a malformed entry makes the result ES_EPARSE (what was
 * emitted stays emitted) unless emit stopped it. */
static int walk_finish(struct walk *w, int rc)
{
    if (rc == 0 && w->bad)
        rc = es_error_set(ES_EPARSE, "%s", w->bad);
    free(w->bad);
    free(w->uris);
    es_strmap_clear(&w->posted);
    w->bad = NULL;
    w->uris = NULL;
    return rc;
}

/* ==== Stateless parse: `earshot parse bluesky FILE` ==== */

/* A session (createSession or refreshSession output) holds no posts: it
 * is a body the collector fetches, so it parses to nothing rather than
 * an error, and none of it is ever printed (it holds tokens). An XRPC
 * error body is an error naming its error. */
static int bsky_parse_any(const char *buf, size_t len,
                          const struct es_parse_opts *opts, es_item_cb emit,
                          void *payload)
{
    yajl_val root = NULL;
    struct walk w = {
        .label = KIND,
        .source = opts ? opts->source : NULL,
        .emit = emit,
        .payload = payload,
        .newest = ES_TIME_UNKNOWN,
        .oldest = ES_TIME_UNKNOWN,
    };
    int rc = es_json_parse(&root, KIND, buf, len);
    if (rc != 0)
        return rc;

    yajl_val v;
    if (!es_json_is_object(root)) {
        rc = es_json_shape_error(KIND, "$",
                                 "an object (searchPosts, "
                                 "listNotifications, getPostThread, "
                                 "getAuthorFeed output or a post view)");
    } else if ((v = es_json_get(root, "posts"))) {
        rc = es_json_is_array(v)
                 ? walk_posts(&w, v)
                 : es_json_shape_error(KIND, "$.posts", "an array of posts");
    } else if ((v = es_json_get(root, "notifications"))) {
        rc = es_json_is_array(v)
                 ? walk_notifications(&w, v)
                 : es_json_shape_error(KIND, "$.notifications",
                                       "an array of notifications");
    } else if ((v = es_json_get(root, "thread"))) {
        rc = es_json_is_object(v)
                 ? walk_thread(&w, v)
                 : es_json_shape_error(KIND, "$.thread", "a thread object");
    } else if ((v = es_json_get(root, "feed"))) {
        rc = es_json_is_array(v) ? walk_feed(&w, v)
                                 : es_json_shape_error(KIND, "$.feed",
                                                       "an array of feed "
                                                       "entries");
    } else if (es_json_str(root, "accessJwt")) {
        rc = 0;
    } else if (es_json_get(root, "uri") && es_json_get(root, "record")) {
        rc = emit_post_view(&w, "$", root);
    } else if (es_json_str(root, "error")) {
        rc = es_error_set(
            ES_EPARSE, "%s: an XRPC error, not posts: %s%s%s", KIND,
            es_json_str(root, "error"),
            es_json_str(root, "message") ? ": " : "",
            es_json_str(root, "message") ? es_json_str(root, "message") : "");
    } else {
        rc = es_json_shape_error(KIND, "$",
                                 "posts, notifications, thread or feed");
    }
    rc = walk_finish(&w, rc);
    es_json_free(root);
    return rc;
}

/* ==== The cursor ==== */

static void add_mark(struct es_buf *b, int *first, const char *key,
                     int64_t mark)
{
    char t[21];
    if (mark == ES_TIME_UNKNOWN)
        return;
    if (!*first)
        es_buf_addch(b, ',');
    *first = 0;
    es_json_add_str(b, key);
    es_buf_addch(b, ':');
    es_json_add_str(b, es_time_format(mark, t));
}

/* The stored cursor: every stream's committed mark. */
static char *cursor_json(const struct bsky_source *s)
{
    struct es_buf b = ES_BUF_INIT;
    int first = 1, nsearch = 0;
    es_buf_addch(&b, '{');
    for (size_t i = 0; i < s->nstreams; i++) {
        const struct stream *st = &s->streams[i];
        if (st->kind == ST_MENTIONS)
            add_mark(&b, &first, "mentions", st->mark);
        else if (st->kind == ST_OWN)
            add_mark(&b, &first, "own", st->mark);
        else if (st->mark != ES_TIME_UNKNOWN)
            nsearch++;
    }
    if (nsearch) {
        int sfirst = 1;
        if (!first)
            es_buf_addch(&b, ',');
        es_buf_adds(&b, "\"search\":{");
        for (size_t i = 0; i < s->nstreams; i++)
            if (s->streams[i].kind == ST_SEARCH)
                add_mark(&b, &sfirst, s->streams[i].q, s->streams[i].mark);
        es_buf_addch(&b, '}');
    }
    es_buf_addch(&b, '}');
    return es_buf_detach(&b);
}

static int64_t stored_mark(yajl_val obj, const char *key)
{
    const char *v = es_json_str(obj, key);
    int64_t t;
    if (v && es_time_parse(v, &t) == 0)
        return t;
    return ES_TIME_UNKNOWN;
}

static void bsky_begin(struct es_source *src, const char *cursor)
{
    struct bsky_source *s = (struct bsky_source *)src;
    yajl_val root = NULL;

    /* A cursor we cannot read is as good as none: a fresh start. */
    if (cursor && *cursor &&
        es_json_parse(&root, "cursor", cursor, strlen(cursor)) != 0)
        root = NULL;
    es_error_clear();
    for (size_t i = 0; i < s->nstreams; i++) {
        struct stream *st = &s->streams[i];
        free(st->next);
        st->next = NULL;
        st->until = ES_TIME_UNKNOWN;
        st->newest = ES_TIME_UNKNOWN;
        st->pages = 0;
        st->done = 0;
        if (st->kind == ST_MENTIONS)
            st->mark = stored_mark(root, "mentions");
        else if (st->kind == ST_OWN)
            st->mark = stored_mark(root, "own");
        else
            st->mark = stored_mark(es_json_get(root, "search"), st->q);
    }
    es_json_free(root);
    for (int i = 0; i < s->ctx_used; i++) {
        free(s->ctx_queue[i]);
        s->ctx_queue[i] = NULL;
    }
    s->ctx_used = s->ctx_head = 0;
    s->cur = 0;
    s->session_tries = 0;
    s->pending = P_NONE;
}

/* ==== Requests ==== */

static void set_bearer(struct bsky_source *s, const char *token)
{
    wipe_buf(&s->auth_hdr);
    es_buf_adds(&s->auth_hdr, "Authorization: Bearer ");
    es_buf_adds(&s->auth_hdr, token);
}

static void start_url(struct bsky_source *s, const char *nsid)
{
    es_buf_reset(&s->url);
    es_buf_addf(&s->url, "%s/xrpc/%s", s->host, nsid);
}

static void add_time_param(struct es_buf *url, const char *name, int64_t t)
{
    char buf[21];
    es_url_add_param(url, name, es_time_format(t, buf));
}

/* Describes the session request that must come first: refreshSession
 * with the refresh token when there is one, else createSession. Adds its
 * headers from req->headers[*h] on. */
static int session_request(struct bsky_source *s, struct es_source_request *req,
                           int *h)
{
    if (s->session_tries >= MAX_TRIES)
        return es_error_set(ES_EAUTH,
                            "bluesky '%s': the server rejected the tokens of "
                            "%d new sessions in a row",
                            s->base.name, MAX_TRIES);
    s->session_tries++;
    req->method = "POST";
    if (s->refresh) {
        /* No input: the refresh token is the whole request. */
        start_url(s, "com.atproto.server.refreshSession");
        set_bearer(s, s->refresh);
        req->headers[(*h)++] = s->auth_hdr.ptr;
        req->body = "";
        s->pending = P_REFRESH;
        return 0;
    }
    start_url(s, "com.atproto.server.createSession");
    es_buf_adds(&s->body, "{\"identifier\":");
    es_json_add_str(&s->body, s->handle);
    es_buf_adds(&s->body, ",\"password\":");
    es_json_add_str(&s->body, s->password);
    es_buf_addch(&s->body, '}');
    req->headers[(*h)++] = "Content-Type: application/json";
    req->body = s->body.ptr;
    req->body_len = s->body.len;
    s->pending = P_CREATE;
    return 0;
}

static void stream_url(struct bsky_source *s, struct stream *st)
{
    switch (st->kind) {
    case ST_MENTIONS:
        start_url(s, "app.bsky.notification.listNotifications");
        es_url_add_param(&s->url, "limit", PAGE_LIMIT);
        /* Servers that know the filter send only these; the walk skips
         * the other reasons anyway. */
        es_url_add_param(&s->url, "reasons", "mention");
        es_url_add_param(&s->url, "reasons", "reply");
        es_url_add_param(&s->url, "reasons", "quote");
        es_url_add_param(&s->url, "cursor", st->next);
        break;
    case ST_SEARCH:
        start_url(s, "app.bsky.feed.searchPosts");
        es_url_add_param(&s->url, "q", st->q);
        es_url_add_param(&s->url, "sort", "latest");
        es_url_add_param(&s->url, "limit", PAGE_LIMIT);
        if (st->mark != ES_TIME_UNKNOWN)
            add_time_param(&s->url, "since", st->mark - LOOKBACK);
        /* The public AppView refuses cursors to anonymous clients: they
         * page back in time with `until` instead. */
        es_url_add_param(&s->url, s->auth ? "cursor" : "until", st->next);
        break;
    case ST_OWN:
        start_url(s, "app.bsky.feed.getAuthorFeed");
        es_url_add_param(&s->url, "actor", s->handle);
        es_url_add_param(&s->url, "filter", "posts_with_replies");
        es_url_add_param(&s->url, "limit", PAGE_LIMIT);
        es_url_add_param(&s->url, "cursor", st->next);
        break;
    }
}

static int bsky_request(struct es_source *src, struct es_source_request *req)
{
    struct bsky_source *s = (struct bsky_source *)src;
    int h = 0;

    memset(req, 0, sizeof(*req));
    wipe_buf(&s->body);
    s->pending = P_NONE;
    req->headers[h++] = "Accept: application/json";
    if (s->auth && !s->access) {
        int rc = session_request(s, req, &h);
        if (rc != 0)
            return rc;
    } else if (s->ctx_head < s->ctx_used) {
        char *uri = s->ctx_queue[s->ctx_head];
        s->ctx_queue[s->ctx_head++] = NULL;
        mark_seen(s, uri);
        start_url(s, "app.bsky.feed.getPostThread");
        es_url_add_param(&s->url, "uri", uri);
        es_url_add_param(&s->url, "depth", CONTEXT_DEPTH);
        free(uri);
        s->pending = P_CONTEXT;
    } else {
        while (s->cur < s->nstreams && s->streams[s->cur].done)
            s->cur++;
        if (s->cur == s->nstreams)
            return ES_EUNCHANGED;
        stream_url(s, &s->streams[s->cur]);
        s->pending = P_STREAM;
    }
    req->url = s->url.ptr;
    if (s->auth && s->access) {
        set_bearer(s, s->access);
        req->headers[h++] = s->auth_hdr.ptr;
    }
    if (s->user_agent)
        req->headers[h++] = s->user_agent;
    return 0;
}

/* ==== Parsing the answers ==== */

static int parse_session(struct bsky_source *s, yajl_val root,
                         const char *label)
{
    const char *access = es_json_str(root, "accessJwt");
    const char *refresh = es_json_str(root, "refreshJwt");
    if (!access || !*access || !refresh || !*refresh)
        return es_json_shape_error(label, "$.accessJwt",
                                   "a session with accessJwt and refreshJwt");
    drop_secret(&s->access);
    drop_secret(&s->refresh);
    s->access = es_xstrdup(access);
    s->refresh = es_xstrdup(refresh);
    return 0;
}

/* Reads one page of the current stream and decides whether it goes on:
 * the platform's cursor says whether there is another page; it stops
 * early at the stored mark and at max_pages. Its new mark is committed
 * with its last page only. */
static int parse_stream(struct bsky_source *s, yajl_val root, struct walk *w)
{
    struct stream *st = &s->streams[s->cur];
    static const char *const keys[] = { "notifications", "posts", "feed" };
    static const char *const paths[] = { "$.notifications", "$.posts",
                                         "$.feed" };
    yajl_val arr = es_json_get(root, keys[st->kind]);
    if (!es_json_is_array(arr))
        return es_json_shape_error(w->label, paths[st->kind], "an array");

    int rc;
    w->want_context = st->kind != ST_OWN;
    collect_uris(w, arr, st->kind == ST_OWN ? "post" : NULL);
    if (st->kind == ST_MENTIONS)
        rc = walk_notifications(w, arr);
    else if (st->kind == ST_SEARCH)
        rc = walk_posts(w, arr);
    else {
        w->flags |= ES_ITEM_OWN;
        rc = walk_feed(w, arr);
    }
    if (rc > 0)
        return rc;
    st->pages++;
    if (w->newest != ES_TIME_UNKNOWN &&
        (st->newest == ES_TIME_UNKNOWN || w->newest > st->newest))
        st->newest = w->newest;

    int64_t stop = st->mark;
    if (stop != ES_TIME_UNKNOWN && st->kind == ST_SEARCH)
        stop -= LOOKBACK;
    int reached = stop != ES_TIME_UNKNOWN && w->oldest != ES_TIME_UNKNOWN &&
                  w->oldest <= stop;
    const char *next = es_json_str(root, "cursor");
    free(st->next);
    st->next = NULL;
    if (next && *next && !reached && st->pages < s->max_pages) {
        if (st->kind != ST_SEARCH || s->auth) {
            st->next = es_xstrdup(next);
        } else if (w->oldest != ES_TIME_UNKNOWN &&
                   (st->until == ES_TIME_UNKNOWN ||
                    w->oldest + 1 < st->until)) {
            /* One second past the oldest post: posts sharing its second
             * come again rather than not at all. */
            char t[21];
            st->until = w->oldest + 1;
            st->next = es_xstrdup(es_time_format(st->until, t));
        }
    }
    if (!st->next) {
        st->done = 1;
        if (st->newest != ES_TIME_UNKNOWN &&
            (st->mark == ES_TIME_UNKNOWN || st->newest > st->mark))
            st->mark = st->newest;
    }
    return rc;
}

static int has_more(const struct bsky_source *s)
{
    if (s->ctx_head < s->ctx_used)
        return 1;
    for (size_t i = 0; i < s->nstreams; i++)
        if (!s->streams[i].done)
            return 1;
    return 0;
}

static int bsky_parse(struct es_source *src,
                      const struct es_source_response *res,
                      struct es_source_page *page, es_item_cb emit,
                      void *payload)
{
    struct bsky_source *s = (struct bsky_source *)src;
    enum pending p = s->pending;
    yajl_val root = NULL;
    char *label = es_xasprintf("bluesky '%s'", s->base.name);
    struct walk w = {
        .s = s,
        .label = label,
        .source = s->base.name,
        .emit = emit,
        .payload = payload,
        .newest = ES_TIME_UNKNOWN,
        .oldest = ES_TIME_UNKNOWN,
    };

    s->pending = P_NONE;
    int rc = es_json_parse(&root, label, res->body, res->len);
    if (rc != 0)
        goto done;
    if (p == P_CREATE || p == P_REFRESH) {
        rc = parse_session(s, root, label);
        page->more = rc == 0;
        goto done;
    }
    if (p == P_CONTEXT) {
        yajl_val thread = es_json_get(root, "thread");
        rc = es_json_is_object(thread)
                 ? walk_thread(&w, thread)
                 : es_json_shape_error(label, "$.thread", "a thread object");
    } else if (p == P_STREAM && s->cur < s->nstreams) {
        rc = parse_stream(s, root, &w);
    } else {
        rc = es_error_set(ES_ERROR, "%s: an answer to no request", label);
    }
    rc = walk_finish(&w, rc);
    if (rc == 0 || rc == ES_EPARSE) {
        page->cursor = cursor_json(s);
        page->more = has_more(s);
    }

done:
    free(w.uris);
    free(w.bad);
    es_json_free(root);
    free(label);
    return rc;
}

/* Copies the XRPC error name of an error answer into @out ("" when the
 * body has none). */
static void xrpc_error(const struct es_source_response *res, char *out,
                       size_t size)
{
    yajl_val root = NULL;
    out[0] = '\0';
    /* Keep the message the HTTP layer set about this answer. */
    char *saved = es_xstrdup(es_error_last());
    if (res->len && es_json_parse(&root, KIND, res->body, res->len) == 0) {
        const char *e = es_json_str(root, "error");
        if (e)
            snprintf(out, size, "%s", e);
    }
    es_json_free(root);
    es_error_set(ES_ERROR, "%s", saved);
    free(saved);
}

/* An expired or revoked token is renewed and the request made again; a
 * thread whose parent is gone (400 NotFound) is skipped. */
static int bsky_failed(struct es_source *src,
                       const struct es_source_response *res)
{
    struct bsky_source *s = (struct bsky_source *)src;
    enum pending p = s->pending;
    char err[64];

    s->pending = P_NONE;
    if (res->http_code != 400 && res->http_code != 401 && res->http_code != 404)
        return 0;
    xrpc_error(res, err, sizeof(err));
    if (p == P_REFRESH && res->http_code != 404) {
        /* The refresh token expired or was revoked: log in again. */
        drop_secret(&s->refresh);
        return 1;
    }
    if ((p == P_STREAM || p == P_CONTEXT) && s->auth && res->http_code != 404 &&
        (strcmp(err, "ExpiredToken") == 0 ||
         strcmp(err, "InvalidToken") == 0)) {
        drop_secret(&s->access);
        return 1;
    }
    if (p == P_CONTEXT && res->http_code != 401)
        return 1;
    return 0;
}

/* ==== Opening and closing ==== */

static void bsky_close(struct es_source *src)
{
    if (!src)
        return;
    struct bsky_source *s = (struct bsky_source *)src;
    for (size_t i = 0; i < s->nstreams; i++)
        free(s->streams[i].next);
    for (size_t i = 0; i < s->nqueries; i++)
        free(s->queries[i]);
    free(s->queries);
    for (int i = 0; i < MAX_CONTEXT; i++)
        free(s->ctx_queue[i]);
    for (size_t i = 0; i < SEEN_CAP; i++)
        free(s->seen[i]);
    drop_secret(&s->password);
    drop_secret(&s->access);
    drop_secret(&s->refresh);
    wipe_buf(&s->body);
    wipe_buf(&s->auth_hdr);
    es_buf_release(&s->body);
    es_buf_release(&s->auth_hdr);
    es_buf_release(&s->url);
    free(s->host);
    free(s->handle);
    free(s->user_agent);
    es_source__release_base(&s->base);
    free(s);
}

static void add_query(struct bsky_source *s, const char *q)
{
    if (!q || !*q || s->nqueries >= MAX_SEARCHES)
        return;
    s->queries = es_xrealloc(s->queries, (s->nqueries + 1) * sizeof(char *));
    s->queries[s->nqueries++] = es_xstrdup(q);
}

/* Turns the source's query into plain searches: its rendering, or one
 * per alternative when no single plain search covers it. A query with
 * nothing to search for (only negations, say) adds none: it still
 * filters the other streams. */
static int plan_searches(struct bsky_source *s,
                         const struct es_config_source *cfg)
{
    if (!s->base.query)
        return 0;
    char *one = es_query_render(s->base.query, ES_QUERY_STYLE_PLAIN);
    if (one) {
        add_query(s, one);
        free(one);
        return 0;
    }
    char **alts = NULL;
    if (es_query_alternatives(s->base.query, MAX_SEARCHES, &alts) != 0)
        return es_error_set(ES_EINVALID,
                            "%s:%d: [source \"%s\"] query needs more than %d "
                            "Bluesky searches; make it narrower",
                            cfg->file, cfg->line, cfg->name, MAX_SEARCHES);
    for (size_t i = 0; alts[i]; i++)
        add_query(s, alts[i]);
    es_query_alternatives_free(alts);
    return 0;
}

static int bsky_open(struct es_source **out, const struct es_config_source *cfg)
{
    *out = NULL;
    struct bsky_source *s = es_xcalloc(1, sizeof(*s));
    es_buf_init(&s->url);
    es_buf_init(&s->body);
    es_buf_init(&s->auth_hdr);
    int rc = es_source__init_base(&s->base, &es_source_bluesky_ops, cfg);
    if (rc != 0) {
        free(s);
        return rc;
    }

    const char *handle = es_config_source_get(cfg, "handle");
    const char *password = es_config_source_get(cfg, "app_password");
    const char *ua = es_config_source_get(cfg, "user_agent");
    const char *pages = es_config_source_get(cfg, "max_pages");
    int mentions = es_config_source_bool(cfg, "mentions", 0);
    int own = es_config_source_bool(cfg, "own_posts", 0);

    if (handle && *handle == '@')
        handle++;
    if (handle && *handle)
        s->handle = es_xstrdup(handle);
    /* The app password may come from token_file like other secrets. */
    if ((!password || !*password) && s->base.token && *s->base.token)
        password = s->base.token;
    if (password && *password)
        s->password = es_xstrdup(password);
    s->auth = s->handle && s->password;
    s->context = es_config_source_bool(cfg, "context", 1);
    s->max_pages = pages ? atoi(pages) : DEF_MAX_PAGES;
    if (s->max_pages < 1)
        s->max_pages = DEF_MAX_PAGES;
    if (ua && *ua)
        s->user_agent = es_xasprintf("User-Agent: %s", ua);

    if (s->password && !s->handle) {
        rc = es_error_set(ES_EINVALID,
                          "%s:%d: [source \"%s\"] has an app password but "
                          "no handle to log in with",
                          cfg->file, cfg->line, cfg->name);
        goto fail;
    }
    if (mentions && !s->auth) {
        rc = es_error_set(ES_EINVALID,
                          "%s:%d: [source \"%s\"] mentions = yes needs handle "
                          "and app_password",
                          cfg->file, cfg->line, cfg->name);
        goto fail;
    }
    if (own && !s->handle) {
        rc = es_error_set(ES_EINVALID,
                          "%s:%d: [source \"%s\"] own_posts = yes needs a "
                          "handle",
                          cfg->file, cfg->line, cfg->name);
        goto fail;
    }
    if ((rc = plan_searches(s, cfg)) != 0)
        goto fail;
    if (!s->nqueries && !mentions && !own) {
        rc = es_error_set(ES_EINVALID,
                          "%s:%d: [source \"%s\"] needs a query with a term "
                          "to search for, mentions = yes or own_posts = yes",
                          cfg->file, cfg->line, cfg->name);
        goto fail;
    }

    const char *host = s->base.base_url && *s->base.base_url ? s->base.base_url
                       : s->auth                             ? DEFAULT_PDS
                                                             : PUBLIC_APPVIEW;
    size_t hlen = es_url_trim_len(host);
    s->host = es_xstrndup(host, hlen);

    /* Mentions first: they matter most when a poll runs out of steps. */
    if (mentions)
        s->streams[s->nstreams++].kind = ST_MENTIONS;
    for (size_t i = 0; i < s->nqueries; i++) {
        s->streams[s->nstreams].kind = ST_SEARCH;
        s->streams[s->nstreams++].q = s->queries[i];
    }
    if (own)
        s->streams[s->nstreams++].kind = ST_OWN;
    for (size_t i = 0; i < s->nstreams; i++)
        s->streams[i].mark = s->streams[i].until = s->streams[i].newest =
            ES_TIME_UNKNOWN;
    *out = &s->base;
    return 0;

fail:
    bsky_close(&s->base);
    return rc;
}

const struct es_source_ops es_source_bluesky_ops = {
    .name = KIND,
    .flags = ES_SOURCE_HAS_SEARCH,
    .default_interval_s = 300,
    .open = bsky_open,
    .begin = bsky_begin,
    .request = bsky_request,
    .parse = bsky_parse,
    .failed = bsky_failed,
    .parse_any = bsky_parse_any,
    .close = bsky_close,
};
