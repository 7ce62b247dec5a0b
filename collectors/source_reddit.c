/* source_reddit.c - the "reddit" source kind: search, subreddits, mentions
 *
 * Reddit is read through its JSON API in up to four streams, each paged
 * newest-first with `after` and each with its own high-water mark (the
 * newest created_utc stored) in one JSON cursor:
 *   search    /search?q=QUERY&sort=new (or /r/SUB/search?restrict_sr=1)
 *   posts     /r/SUB/new              (a subreddit without a query)
 *   comments  /r/SUB/comments         (comments are not searchable)
 *   mentions  /message/inbox          (the account's inbox: username
 *                                      mentions, replies to its posts and
 *                                      comments, private messages)
 * Without a token the public host https://www.reddit.com serves the same
 * paths with ".json"; with a token (given, or from the password grant with
 * client_id, client_secret, username and password) https://oauth.reddit.com
 * serves them without. A stream pages back until it reaches what the last
 * poll stored, and only its last page carries its new high-water mark, so
 * an interrupted poll re-reads rather than skips. Comments whose post was
 * not in the page get their thread (/comments/ID) fetched as context.
 * Reddit asks every client for a descriptive User-Agent: `user_agent`.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/query.h"
#include "earshot/source.h"
#include "html.h"
#include "json.h"
#include "stream.h"
#include "strmap.h"
#include "url.h"

/* Defined at the bottom; registry.c refers to it. */
extern const struct es_source_ops es_source_reddit_ops;

#define WWW_HOST   "https://www.reddit.com" /* permalinks, public JSON */
#define OAUTH_HOST "https://oauth.reddit.com"
#define PAGE_LIMIT "100" /* Reddit's largest page */
/* Thread fetches per poll, and how many waiting ones we remember. */
/* Search results appear some minutes after posting: a search pages back
 * this far past its high-water mark so a late-indexed post is not lost. */
#define SEARCH_LAG        300
#define DEFAULT_MAX_PAGES 3

enum stream_type { ST_SEARCH, ST_POSTS, ST_COMMENTS, ST_MENTIONS };

/* The cursor's member name of each stream. */
static const char *const stream_keys[] = { "search", "posts", "comments",
                                           "mentions" };

/* One listing read newest-first. */
struct stream {
    enum stream_type type;
    int64_t stored; /* high-water mark (created_utc) to store; -1: none */
    int64_t newest; /* newest created_utc read in this poll; -1: none */
    char *after;    /* the next page's `after`; NULL: the first page */
    int pages;      /* pages read in this poll */
    int done;       /* nothing more to read in this poll */
};

/* What the request in flight is, for parse. */
enum inflight { RQ_NONE, RQ_TOKEN, RQ_STREAM, RQ_CONTEXT };

struct reddit_source {
    struct es_source base; /* must stay first */
    char *subreddit;       /* "acme" or "acme+acmecloud"; NULL: none */
    char *search_q;        /* the query rendered for Reddit; NULL: none */
    char *ua_header;       /* "User-Agent: ..." */
    char *client_id;       /* password grant (all four or none) */
    char *client_secret;   /* secret */
    char *username;
    int mentions_only; /* no /message/inbox here: /message/mentions */
    char *password;    /* secret */
    int context;       /* fetch threads of comments (`context`) */
    int max_pages;     /* pages per stream and poll */

    struct stream streams[4];
    size_t nstreams;
    size_t cur; /* the stream being read */
    int steps;  /* requests made in this poll */
    enum inflight inflight;

    char *session;           /* access token from the password grant */
    int64_t session_expires; /* Unix seconds */
    int auth_retried;        /* a 401 renewed the session in this poll */

    struct es_ctxq ctx; /* threads wanted as context */

    struct es_buf url;    /* the request's URL */
    struct es_buf auth;   /* "Authorization: ..." (a secret) */
    struct es_buf body;   /* the token request's body (a secret) */
    struct es_buf cursor; /* scratch for the cursor text */
};

/* ==== Small helpers ==== */

static void free_secret(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

static void buf_wipe(struct es_buf *b)
{
    if (b->alloc)
        memset(b->ptr, 0, b->alloc);
    es_buf_release(b);
}

/* Appends the base64 of @len bytes at @s (RFC 4648, padded). */
static void add_base64(struct es_buf *out, const char *s, size_t len)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len; i += 3) {
        unsigned long v = (unsigned long)p[i] << 16;
        if (i + 1 < len)
            v |= (unsigned long)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        es_buf_addch(out, tab[(v >> 18) & 63]);
        es_buf_addch(out, tab[(v >> 12) & 63]);
        es_buf_addch(out, i + 1 < len ? tab[(v >> 6) & 63] : '=');
        es_buf_addch(out, i + 2 < len ? tab[v & 63] : '=');
    }
}

/* Reddit's Markdown @md and, with raw_json=1, its real HTML rendering
 * @html: the text a reader sees comes from the HTML ("**sorry**" is
 * "sorry", "[docs](https://...)" is "docs", the new editor's "&#x200B;"
 * paragraphs are no text), which is kept as the content. */
static void set_text(struct es_item *it, const char *md, const char *html)
{
    /* Without raw_json=1 (a body saved from a plain .json URL, Reddit's
     * default) the HTML comes escaped once more: "&lt;div class=...". */
    struct es_buf raw = ES_BUF_INIT;
    if (html && !strchr(html, '<') && strstr(html, "&lt;")) {
        es_html_decode_entities(html, strlen(html), &raw);
        html = raw.ptr;
    }
    es_json_set_rendered_text(&it->text, md, html, 0);
    es_json_set(&it->content, html);
    es_buf_release(&raw);
}

/* Whether @s is Reddit's placeholder for deleted or removed content. */
static int is_gone(const char *s)
{
    return s && (strcmp(s, "[deleted]") == 0 || strcmp(s, "[removed]") == 0);
}

/* Whether @s has a control character (header injection, broken config). */
static int has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* The characters of an ID36. */
#define ID_CHARS "abcdefghijklmnopqrstuvwxyz0123456789"

/* Whether @s is a post's fullname, "t3_" and an ID36: safe in a path. */
static int is_post_id(const char *s)
{
    size_t n;
    if (!s || strncmp(s, "t3_", 3) != 0)
        return 0;
    n = strspn(s + 3, ID_CHARS);
    return n > 0 && n <= 16 && s[3 + n] == '\0';
}

/* Copies into @out the ID36 of the post in a permalink or context path
 * "/r/SUB/comments/ID36/slug/..." as "t3_ID36". Returns 0, or -1. */
static int post_from_path(const char *path, char *out, size_t size)
{
    const char *p = path ? strstr(path, "/comments/") : NULL;
    if (!p)
        return -1;
    p += strlen("/comments/");
    size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789");
    if (n == 0 || n + 4 > size)
        return -1;
    memcpy(out, "t3_", 3);
    memcpy(out + 3, p, n);
    out[3 + n] = '\0';
    return 0;
}

/* ==== Things to items ==== */

/* Parsing state shared by the stateful parse and parse_any. */
struct walk {
    const char *source;
    es_item_cb emit;
    void *payload;
    int rc;                  /* first non-zero emit return */
    int64_t newest;          /* over every dated thing, shown or not */
    int64_t oldest;          /* ES_TIME_UNKNOWN: none dated yet */
    size_t things;           /* things read (posts, comments, messages) */
    struct reddit_source *s; /* NULL in parse_any: no context queue */
    unsigned flags;          /* enum es_item_flags given to every item */
    struct es_strmap posts;  /* posts seen in this body (t3_...) */
    char **wanted; /* posts of matching comments: context candidates */
    size_t nwanted;
    struct es_strmap wanted_set; /* the same, to look up */
};

/* Sets @field to WWW_HOST + @path, the query string dropped (an inbox
 * item's context path ends in "?context=3"). */
static void set_permalink(char **field, const char *path)
{
    free(*field);
    *field = NULL;
    if (!path || path[0] != '/')
        return;
    size_t n = strcspn(path, "?#");
    *field = es_xasprintf("%s%.*s", WWW_HOST, (int)n, path);
}

/* Fills @it from thing @data of kind @kind ("t1", "t3", "t4"). Returns 1
 * when the thing is an item to emit, 0 when it is to be skipped (deleted,
 * removed, no id). */
static int thing_to_item(const char *kind, yajl_val data, const char *source,
                         struct es_item *it)
{
    char id[128];
    const char *name = es_json_str(data, "name");
    const char *id36 = es_json_str(data, "id");
    double created;

    es_item_release(it);
    if (name && strncmp(name, kind, 2) == 0 && name[2] == '_' && name[3])
        snprintf(id, sizeof(id), "%s", name);
    else if (id36 && *id36 && strlen(id36) < 64)
        snprintf(id, sizeof(id), "%s_%s", kind, id36);
    else
        return 0;

    const char *author = es_json_str(data, "author");
    if (strcmp(kind, "t3") == 0) {
        const char *selftext = es_json_str(data, "selftext");
        if (is_gone(selftext) || es_json_str(data, "removed_by_category"))
            return 0;
        it->kind = ES_KIND_POST;
        es_json_set(&it->title, es_json_str(data, "title"));
        if (selftext && *selftext)
            set_text(it, selftext, es_json_str(data, "selftext_html"));
        set_permalink(&it->url, es_json_str(data, "permalink"));
    } else if (strcmp(kind, "t1") == 0) {
        const char *body = es_json_str(data, "body");
        if (!body || is_gone(body))
            return 0;
        it->kind = ES_KIND_COMMENT;
        set_text(it, body, es_json_str(data, "body_html"));
        es_json_set(&it->in_reply_to, es_json_str(data, "parent_id"));
        const char *link_id = es_json_str(data, "link_id");
        const char *permalink = es_json_str(data, "permalink");
        /* An inbox item has no permalink or link_id, only its context. */
        const char *where =
            permalink ? permalink : es_json_str(data, "context");
        char post[80];
        if (link_id)
            es_json_set(&it->thread_root, link_id);
        else if (post_from_path(where, post, sizeof(post)) == 0)
            es_json_set(&it->thread_root, post);
        set_permalink(&it->url, where);
        /* Comments of before 2017 carry no permalink: the post's id and
         * the comment's make one (Reddit ignores the title slug). */
        const char *sub = es_json_str(data, "subreddit");
        if (!it->url && sub && id36 && is_post_id(link_id) &&
            sub[strspn(sub, ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZ_")] == '\0' &&
            *sub && id36[strspn(id36, ID_CHARS)] == '\0' && *id36)
            it->url = es_xasprintf("%s/r/%s/comments/%s/_/%s/", WWW_HOST, sub,
                                   link_id + 3, id36);
    } else if (strcmp(kind, "t4") == 0) {
        const char *body = es_json_str(data, "body");
        if (!body || is_gone(body))
            return 0;
        it->kind = ES_KIND_POST; /* a private message: a direct mention */
        es_json_set(&it->title, es_json_str(data, "subject"));
        set_text(it, body, es_json_str(data, "body_html"));
        es_json_set(&it->in_reply_to, es_json_str(data, "parent_id"));
        es_json_set(&it->thread_root, es_json_str(data, "first_message_name"));
        it->url = es_xasprintf("%s/message/messages/%s", WWW_HOST, id + 3);
    } else {
        return 0;
    }
    it->platform = es_xstrdup("reddit");
    it->source = es_xstrdup(source);
    it->external_id = es_xstrdup(id);
    if (author && *author && !is_gone(author))
        it->author = es_xstrdup(author);
    if (es_json_num(data, "created_utc", &created) == 0 && created > 0 &&
        created < 9e12)
        it->created_at = (int64_t)created;
    /* "edited" is false, or when the text last changed. */
    double edited;
    if (es_json_num(data, "edited", &edited) == 0 && edited > 0 &&
        edited < 9e12)
        it->updated_at = (int64_t)edited;
    const char *sub = es_json_str(data, "subreddit");
    if (sub && *sub)
        es_item_add_category(it, sub);
    return 1;
}

static void walk_listing(struct walk *w, yajl_val listing);

/* Reads one child of a listing {"kind": ..., "data": {...}}. */
static void walk_thing(struct walk *w, yajl_val thing)
{
    const char *kind = es_json_str(thing, "kind");
    yajl_val data = es_json_get(thing, "data");
    double created;

    if (!kind || !es_json_is_object(data) || w->rc)
        return;
    if (strcmp(kind, "Listing") == 0) {
        walk_listing(w, thing);
        return;
    }
    /* "more" stubs stand for comments we do not fetch. */
    if (strcmp(kind, "t1") != 0 && strcmp(kind, "t3") != 0 &&
        strcmp(kind, "t4") != 0)
        return;
    w->things++;
    if (es_json_num(data, "created_utc", &created) == 0 && created > 0 &&
        created < 9e12) {
        int64_t t = (int64_t)created;
        if (t > w->newest)
            w->newest = t;
        if (w->oldest == ES_TIME_UNKNOWN || t < w->oldest)
            w->oldest = t;
    }

    struct es_item it;
    es_item_init(&it);
    if (thing_to_item(kind, data, w->source, &it)) {
        if (it.kind == ES_KIND_POST && kind[1] == '3')
            es_strmap_put(&w->posts, it.external_id, NULL);
        /* A matching comment whose post we may not have: its thread. */
        if (w->s && it.kind == ES_KIND_COMMENT && is_post_id(it.thread_root) &&
            es_source_matches(&w->s->base, &it) &&
            es_strmap_put(&w->wanted_set, it.thread_root, NULL))
            es_strv_add(&w->wanted, &w->nwanted, it.thread_root);
        it.flags = w->flags;
        /* The inbox holds the account's own messages in the threads of
         * the ones it answered: not mentions. */
        if (!(w->flags & ES_ITEM_DIRECT) || !w->s || !w->s->username ||
            !it.author || strcasecmp(it.author, w->s->username) != 0)
            w->rc = w->emit(&it, w->payload);
    }
    es_item_release(&it);

    /* A comment's replies: a Listing, or "" when there are none. */
    yajl_val replies = es_json_get(data, "replies");
    if (!w->rc && es_json_is_object(replies))
        walk_listing(w, replies);
}

static void walk_listing(struct walk *w, yajl_val listing)
{
    yajl_val children = es_json_path(listing, "data.children");
    for (size_t i = 0; i < es_json_len(children) && !w->rc; i++)
        walk_thing(w, es_json_at(children, i));
}

/* Whether @v is {"kind": "Listing", "data": {"children": [...]}}; sets
 * the shape error (and returns 0) when it is a Listing of another shape. */
static int is_listing(yajl_val v, const char *path, int *bad)
{
    const char *kind = es_json_str(v, "kind");
    *bad = 0;
    if (!kind || strcmp(kind, "Listing") != 0)
        return 0;
    if (!es_json_is_array(es_json_path(v, "data.children"))) {
        char where[64];
        snprintf(where, sizeof(where), "%s.data.children", path);
        es_json_shape_error("reddit", where, "expected an array of things");
        *bad = 1;
        return 0;
    }
    return 1;
}

/* Walks any body Reddit sends: a Listing (search, new, comments, inbox),
 * a comments page ([Listing of the post, Listing of comments]) or a single
 * thing. Returns 0, ES_EPARSE for another shape, or the emit return. */
static int walk_body(struct walk *w, yajl_val root)
{
    int bad;
    if (es_json_is_array(root)) {
        size_t n = es_json_len(root);
        if (n == 0)
            return es_json_shape_error("reddit", "$",
                                       "expected a Listing or a comments "
                                       "page, got an empty array");
        for (size_t i = 0; i < n; i++) {
            char path[32];
            snprintf(path, sizeof(path), "$[%zu]", i);
            if (!is_listing(es_json_at(root, i), path, &bad))
                return bad ? ES_EPARSE
                           : es_json_shape_error("reddit", path,
                                                 "expected a Listing");
        }
        for (size_t i = 0; i < n && !w->rc; i++)
            walk_listing(w, es_json_at(root, i));
        return w->rc;
    }
    if (is_listing(root, "$", &bad)) {
        walk_listing(w, root);
        return w->rc;
    }
    if (bad)
        return ES_EPARSE;
    const char *kind = es_json_str(root, "kind");
    if (kind &&
        (strcmp(kind, "t1") == 0 || strcmp(kind, "t3") == 0 ||
         strcmp(kind, "t4") == 0) &&
        es_json_is_object(es_json_get(root, "data"))) {
        walk_thing(w, root);
        return w->rc;
    }
    return es_json_shape_error("reddit", "$",
                               "expected a Listing, a comments page or a "
                               "thing");
}

static void walk_release(struct walk *w)
{
    es_strmap_clear(&w->posts);
    es_strmap_clear(&w->wanted_set);
    es_strv_free(w->wanted, w->nwanted);
    w->wanted = NULL;
    w->nwanted = 0;
}

static int reddit_parse_any(const char *buf, size_t len,
                            const struct es_parse_opts *opts, es_item_cb emit,
                            void *payload)
{
    yajl_val root = NULL;
    const char *source = opts && opts->source ? opts->source : "reddit";
    struct walk w = {
        .source = source,
        .emit = emit,
        .payload = payload,
        .newest = -1,
        .oldest = ES_TIME_UNKNOWN,
    };
    int rc = es_json_parse(&root, "reddit", buf, len);
    if (rc == 0)
        rc = walk_body(&w, root);
    walk_release(&w);
    es_json_free(root);
    return rc;
}

/* ==== Open and close ==== */

/* Returns 1 when @name is a subreddit name or a "+"-joined list. */
static int valid_subreddit(const char *name)
{
    if (!*name || strlen(name) > 1000)
        return 0;
    for (const char *p = name; *p; p++)
        if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
            !(*p >= '0' && *p <= '9') && *p != '_' && *p != '+')
            return 0;
    return 1;
}

static void reddit_close(struct es_source *src)
{
    if (!src)
        return;
    struct reddit_source *s = (struct reddit_source *)src; /* base first */
    free(s->subreddit);
    free(s->search_q);
    free(s->ua_header);
    free(s->client_id);
    free_secret(s->client_secret);
    free(s->username);
    free_secret(s->password);
    free_secret(s->session);
    for (size_t i = 0; i < s->nstreams; i++)
        free(s->streams[i].after);
    es_ctxq_release(&s->ctx);
    es_buf_release(&s->url);
    buf_wipe(&s->auth);
    buf_wipe(&s->body);
    es_buf_release(&s->cursor);
    es_source__release_base(&s->base);
    free(s);
}

static int reddit_open(struct es_source **out,
                       const struct es_config_source *cfg)
{
    struct reddit_source *s = NULL;
    int rc;
    *out = NULL;

    s = es_xcalloc(1, sizeof(*s));
    es_buf_init(&s->url);
    es_buf_init(&s->auth);
    es_buf_init(&s->body);
    es_buf_init(&s->cursor);
    rc = es_source__init_base(&s->base, &es_source_reddit_ops, cfg);
    if (rc != 0) {
        free(s);
        return rc;
    }
#define FAIL(...)                                                              \
    do {                                                                       \
        rc = es_error_set(ES_EINVALID, __VA_ARGS__);                           \
        goto fail;                                                             \
    } while (0)

    const char *sub = es_config_source_get(cfg, "subreddit");
    if (sub && *sub) {
        if (strncmp(sub, "/r/", 3) == 0)
            sub += 3;
        else if (strncmp(sub, "r/", 2) == 0)
            sub += 2;
        if (!valid_subreddit(sub))
            FAIL("%s:%d: [source \"%s\"] subreddit '%s' is not a subreddit "
                 "name (letters, digits, _ and + between names)",
                 cfg->file, cfg->line, cfg->name, sub);
        s->subreddit = es_xstrdup(sub);
    }
    const char *ua = es_config_source_get(cfg, "user_agent");
    if (ua && *ua) {
        if (has_ctl(ua))
            FAIL("%s:%d: [source \"%s\"] user_agent has a control character",
                 cfg->file, cfg->line, cfg->name);
        s->ua_header = es_xasprintf("User-Agent: %s", ua);
    } else {
        s->ua_header = es_xasprintf(
            "User-Agent: earshot:%s:v0.1 (self-hosted social listening)",
            cfg->name);
    }
    if (s->base.token && has_ctl(s->base.token))
        FAIL("%s:%d: [source \"%s\"] token has a control character", cfg->file,
             cfg->line, cfg->name);

    const char *cid = es_config_source_get(cfg, "client_id");
    const char *csecret = es_config_source_get(cfg, "client_secret");
    const char *user = es_config_source_get(cfg, "username");
    const char *pass = es_config_source_get(cfg, "password");
    int ncreds = (cid && *cid) + (csecret && *csecret) + (user && *user) +
                 (pass && *pass);
    if (ncreds != 0 && ncreds != 4)
        FAIL("%s:%d: [source \"%s\"] the password grant needs client_id, "
             "client_secret, username and password together",
             cfg->file, cfg->line, cfg->name);
    if (ncreds == 4) {
        if (has_ctl(cid) || has_ctl(csecret) || has_ctl(user))
            FAIL("%s:%d: [source \"%s\"] client_id, client_secret or "
                 "username has a control character",
                 cfg->file, cfg->line, cfg->name);
        s->client_id = es_xstrdup(cid);
        s->client_secret = es_xstrdup(csecret);
        s->username = es_xstrdup(user);
        s->password = es_xstrdup(pass);
    }
    int authed = s->base.token || s->client_id;

    if (s->base.query) {
        /* A query of negations alone has no term to search for (its
         * plain rendering is empty): searching "-job" would ask for
         * everything. */
        char *plain = es_query_render(s->base.query, ES_QUERY_STYLE_PLAIN);
        char *q = es_query_render(s->base.query, ES_QUERY_STYLE_BOOLEAN);
        if (q && *q && !(plain && !*plain))
            s->search_q = q;
        else
            free(q);
        free(plain);
    }
    int mentions = es_config_source_bool(cfg, "mentions", 0);
    if (mentions && !authed)
        FAIL("%s:%d: [source \"%s\"] mentions = yes needs a token (or "
             "client_id, client_secret, username and password)",
             cfg->file, cfg->line, cfg->name);
    if (!s->search_q && !s->subreddit && !mentions)
        FAIL("%s:%d: [source \"%s\"] needs a query, a subreddit or "
             "mentions = yes",
             cfg->file, cfg->line, cfg->name);
    s->context = es_config_source_bool(cfg, "context", 1);
    s->max_pages = DEFAULT_MAX_PAGES;
    const char *mp = es_config_source_get(cfg, "max_pages");
    if (mp && atoi(mp) >= 1)
        s->max_pages = atoi(mp);

    if (s->search_q)
        s->streams[s->nstreams++].type = ST_SEARCH;
    else if (s->subreddit)
        s->streams[s->nstreams++].type = ST_POSTS;
    if (s->subreddit)
        s->streams[s->nstreams++].type = ST_COMMENTS;
    if (mentions)
        s->streams[s->nstreams++].type = ST_MENTIONS;
    for (size_t i = 0; i < s->nstreams; i++)
        s->streams[i].stored = s->streams[i].newest = -1;
#undef FAIL
    *out = &s->base;
    return 0;

fail:
    reddit_close(&s->base);
    return rc;
}

/* ==== Polling ==== */

/* The high-water marks as the cursor to store: {"search":1714000000,...}. */
static char *make_cursor(struct reddit_source *s)
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

static void reddit_begin(struct es_source *src, const char *cursor)
{
    struct reddit_source *s = (struct reddit_source *)src;
    yajl_val root = NULL;

    s->cur = 0;
    s->steps = 0;
    s->ctx.polled = 0;
    s->auth_retried = 0;
    s->inflight = RQ_NONE;
    for (size_t i = 0; i < s->nstreams; i++) {
        struct stream *st = &s->streams[i];
        free(st->after);
        st->after = NULL;
        st->pages = st->done = 0;
        st->stored = st->newest = -1;
    }
    /* A cursor that does not parse is ignored: as if never polled. */
    if (!cursor ||
        es_json_parse(&root, "reddit cursor", cursor, strlen(cursor)) != 0) {
        es_error_clear();
        return;
    }
    for (size_t i = 0; i < s->nstreams; i++) {
        long long v;
        if (es_json_int(root, stream_keys[s->streams[i].type], &v) == 0 &&
            v >= 0)
            s->streams[i].stored = v;
    }
    es_json_free(root);
}

static int use_oauth(const struct reddit_source *s)
{
    return s->base.token || s->session;
}

/* The host for API calls: `base_url` when set (tests, proxies). */
static const char *api_host(const struct reddit_source *s)
{
    if (s->base.base_url && *s->base.base_url)
        return s->base.base_url;
    return use_oauth(s) ? OAUTH_HOST : WWW_HOST;
}

/* Starts the URL with the host and @path (no trailing slash). */
static void url_start(struct reddit_source *s, const char *path)
{
    const char *host = api_host(s);
    size_t n = es_url_trim_len(host);
    es_buf_reset(&s->url);
    es_buf_add(&s->url, host, n);
    es_buf_adds(&s->url, path);
    /* The public host wants .json; oauth.reddit.com answers JSON anyway. */
    if (!use_oauth(s))
        es_buf_adds(&s->url, ".json");
}

static int needs_session(const struct reddit_source *s)
{
    if (!s->client_id || s->base.token)
        return 0;
    return !s->session || (int64_t)time(NULL) >= s->session_expires - 60;
}

/* Describes the password-grant token request. */
static void token_request(struct reddit_source *s,
                          struct es_source_request *req)
{
    struct es_buf cred = ES_BUF_INIT;
    const char *host =
        s->base.base_url && *s->base.base_url ? s->base.base_url : WWW_HOST;
    size_t n = es_url_trim_len(host);
    es_buf_reset(&s->url);
    es_buf_add(&s->url, host, n);
    es_buf_adds(&s->url, "/api/v1/access_token");

    es_buf_addf(&cred, "%s:%s", s->client_id, s->client_secret);
    buf_wipe(&s->auth);
    es_buf_init(&s->auth);
    es_buf_adds(&s->auth, "Authorization: Basic ");
    add_base64(&s->auth, cred.ptr, cred.len);
    buf_wipe(&cred);

    buf_wipe(&s->body);
    es_buf_init(&s->body);
    es_buf_adds(&s->body, "grant_type=password&username=");
    es_url_add_escaped(&s->body, s->username);
    es_buf_adds(&s->body, "&password=");
    es_url_add_escaped(&s->body, s->password);

    req->url = s->url.ptr;
    req->method = "POST";
    req->body = s->body.ptr;
    req->body_len = s->body.len;
    req->headers[0] = s->ua_header;
    req->headers[1] = s->auth.ptr;
    req->headers[2] = "Content-Type: application/x-www-form-urlencoded";
    req->headers[3] = "Accept: application/json";
}

/* Builds the URL of the next page of @st. */
static void stream_url(struct reddit_source *s, const struct stream *st)
{
    char path[1100];
    switch (st->type) {
    case ST_SEARCH:
        if (s->subreddit)
            snprintf(path, sizeof(path), "/r/%s/search", s->subreddit);
        else
            snprintf(path, sizeof(path), "/search");
        break;
    case ST_POSTS:
        snprintf(path, sizeof(path), "/r/%s/new", s->subreddit);
        break;
    case ST_COMMENTS:
        snprintf(path, sizeof(path), "/r/%s/comments", s->subreddit);
        break;
    case ST_MENTIONS:
        /* Not /message/mentions: a reply to the brand's comment or post
         * names no one, and only the inbox holds it (and messages). A
         * server without the inbox (a proxy, a Reddit-compatible API)
         * gets asked for the mentions alone. */
        snprintf(path, sizeof(path), "%s",
                 s->mentions_only ? "/message/mentions" : "/message/inbox");
        break;
    }
    url_start(s, path);
    if (st->type == ST_SEARCH) {
        es_url_add_param(&s->url, "q", s->search_q);
        es_url_add_param(&s->url, "sort", "new");
        es_url_add_param(&s->url, "type", "link");
        if (s->subreddit)
            es_url_add_param(&s->url, "restrict_sr", "1");
    }
    /* Reading the inbox must not mark the team's messages as read. */
    if (st->type == ST_MENTIONS)
        es_url_add_param(&s->url, "mark", "false");
    es_url_add_param(&s->url, "limit", PAGE_LIMIT);
    es_url_add_param(&s->url, "raw_json", "1");
    if (st->after)
        es_url_add_param(&s->url, "after", st->after);
}

/* Sets the headers every API call carries. */
static void api_headers(struct reddit_source *s, struct es_source_request *req)
{
    const char *token = s->base.token ? s->base.token : s->session;
    req->headers[0] = s->ua_header;
    req->headers[1] = "Accept: application/json";
    if (token) {
        buf_wipe(&s->auth);
        es_buf_init(&s->auth);
        es_buf_addf(&s->auth, "Authorization: bearer %s", token);
        req->headers[2] = s->auth.ptr;
    }
}

static int reddit_request(struct es_source *src, struct es_source_request *req)
{
    struct reddit_source *s = (struct reddit_source *)src;

    memset(req, 0, sizeof(*req));
    s->inflight = RQ_NONE;
    if (needs_session(s)) {
        token_request(s, req);
        s->inflight = RQ_TOKEN;
        s->steps++;
        return 0;
    }
    while (s->cur < s->nstreams && s->streams[s->cur].done)
        s->cur++;
    if (s->cur < s->nstreams) {
        stream_url(s, &s->streams[s->cur]);
        s->inflight = RQ_STREAM;
    } else if (s->context && es_ctxq_ready(&s->ctx)) {
        char *post = es_ctxq_pop(&s->ctx);
        char path[128];
        snprintf(path, sizeof(path), "/comments/%s", post + 3);
        url_start(s, path);
        es_url_add_param(&s->url, "limit", PAGE_LIMIT);
        es_url_add_param(&s->url, "raw_json", "1");
        free(post);
        s->inflight = RQ_CONTEXT;
    } else {
        return ES_EUNCHANGED;
    }
    api_headers(s, req);
    req->url = s->url.ptr;
    s->steps++;
    return 0;
}

/* Whether another request should follow in this poll. */
static int has_more(const struct reddit_source *s)
{
    if (s->steps >= ES_POLL_MAX_STEPS)
        return 0;
    for (size_t i = s->cur; i < s->nstreams; i++)
        if (!s->streams[i].done)
            return 1;
    return s->context && es_ctxq_ready(&s->ctx);
}

/* Queues the threads of @w's wanted posts that it did not show. */
static void queue_context(struct reddit_source *s, const struct walk *w)
{
    if (!s->context)
        return;
    for (size_t i = 0; i < w->nwanted; i++) {
        const char *post = w->wanted[i];
        if (!es_strmap_get(&w->posts, post, NULL))
            es_ctxq_want(&s->ctx, post);
    }
}

/* Reads the token response: {"access_token": ..., "expires_in": ...} or,
 * with HTTP 200 all the same, {"error": "invalid_grant"}. */
static int parse_token(struct reddit_source *s, yajl_val root)
{
    const char *token = es_json_str(root, "access_token");
    long long expires;
    if (!token || !*token || has_ctl(token)) {
        const char *why = es_json_str(root, "error");
        return es_error_set(ES_EAUTH, "reddit '%s': token request refused: %s",
                            s->base.name,
                            why && !has_ctl(why) && strlen(why) < 100
                                ? why
                                : "no access_token in the answer");
    }
    free_secret(s->session);
    s->session = es_xstrdup(token);
    if (es_json_int(root, "expires_in", &expires) != 0 || expires <= 0 ||
        expires > 10L * 365 * 86400)
        expires = 3600;
    s->session_expires = (int64_t)time(NULL) + expires;
    return 0;
}

static int reddit_parse(struct es_source *src,
                        const struct es_source_response *res,
                        struct es_source_page *page, es_item_cb emit,
                        void *payload)
{
    struct reddit_source *s = (struct reddit_source *)src;
    yajl_val root = NULL;
    char what[300];
    enum inflight inflight = s->inflight;
    struct walk w = {
        .source = s->base.name,
        .emit = emit,
        .payload = payload,
        .newest = -1,
        .oldest = ES_TIME_UNKNOWN,
        .s = s,
    };
    int rc;

    s->inflight = RQ_NONE;
    snprintf(what, sizeof(what), "reddit '%s'", s->base.name);
    rc = es_json_parse(&root, what, res->body, res->len);
    if (rc != 0)
        goto done;

    if (inflight == RQ_TOKEN) {
        rc = parse_token(s, root);
        page->more = rc == 0;
        goto done;
    }
    if (inflight == RQ_STREAM && s->cur < s->nstreams) {
        struct stream *st = &s->streams[s->cur];
        int bad;
        if (!is_listing(root, "$", &bad)) {
            rc = bad ? ES_EPARSE
                     : es_json_shape_error("reddit", "$", "expected a Listing");
            goto done;
        }
        if (st->type == ST_MENTIONS)
            w.flags = ES_ITEM_DIRECT;
        walk_listing(&w, root);
        if (w.rc) {
            rc = w.rc;
            goto done;
        }
        st->pages++;
        if (w.newest > st->newest)
            st->newest = w.newest;
        const char *after = es_json_str(es_json_get(root, "data"), "after");
        /* Page on while this page is all newer than the mark, leaving one
         * request for each stream still to start. */
        int64_t floor = st->stored - (st->type == ST_SEARCH ? SEARCH_LAG : 0);
        size_t waiting = s->nstreams - s->cur - 1;
        int budget = ES_POLL_MAX_STEPS - s->steps > (int)waiting;
        if (after && *after && st->stored >= 0 && w.things > 0 &&
            w.oldest != ES_TIME_UNKNOWN && w.oldest >= floor &&
            st->pages < s->max_pages && budget) {
            free(st->after);
            st->after = es_xstrdup(after);
        } else {
            /* The stream's last page in this poll carries its mark. */
            st->done = 1;
            if (st->newest > st->stored)
                st->stored = st->newest;
        }
    } else if (inflight == RQ_CONTEXT) {
        w.flags = ES_ITEM_CONTEXT;
        rc = walk_body(&w, root);
        if (rc)
            goto done;
    } else {
        rc = es_error_set(ES_ERROR, "reddit '%s': answer to no request",
                          s->base.name);
        goto done;
    }
    queue_context(s, &w);
    page->cursor = make_cursor(s);
    page->more = has_more(s);

done:
    walk_release(&w);
    es_json_free(root);
    return rc;
}

/* A session from the password grant that Reddit no longer takes is
 * renewed once per poll; a configured token that fails is the user's. */
static int reddit_failed(struct es_source *src,
                         const struct es_source_response *res)
{
    struct reddit_source *s = (struct reddit_source *)src;
    enum inflight inflight = s->inflight;
    s->inflight = RQ_NONE;
    /* A thread that is gone or private is not the source failing: go on
     * with the next request (it left the queue already). */
    if (inflight == RQ_CONTEXT &&
        (res->http_code == 403 || res->http_code == 404 ||
         res->http_code == 410))
        return 1;
    if (inflight == RQ_STREAM && s->cur < s->nstreams &&
        s->streams[s->cur].type == ST_MENTIONS && !s->mentions_only &&
        res->http_code == 404) {
        s->mentions_only = 1;
        return 1;
    }
    if (res->http_code == 401 && s->session && !s->auth_retried) {
        free_secret(s->session);
        s->session = NULL;
        s->auth_retried = 1;
        return 1;
    }
    return 0;
}

const struct es_source_ops es_source_reddit_ops = {
    .name = "reddit",
    .flags = ES_SOURCE_HAS_SEARCH,
    .default_interval_s = 300,
    .open = reddit_open,
    .begin = reddit_begin,
    .request = reddit_request,
    .parse = reddit_parse,
    .failed = reddit_failed,
    .parse_any = reddit_parse_any,
    .close = reddit_close,
};
