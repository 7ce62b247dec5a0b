/* source_mastodon.c - the "mastodon" source kind: hashtags, search, mentions
 *
 * One source reads up to four streams of one Mastodon instance, in this
 * order each poll: the account's mentions (notifications of type mention,
 * user token), the thread context of mentions that reply to a post not
 * seen yet, a hashtag timeline, a status search for the source's query,
 * and the brand's own posts (verify_credentials, then the account's
 * statuses). Each stream keeps its own position in one JSON cursor:
 *
 *     {"mentions":"1102","tag":"1099","search":"1090","own":"1080",
 *      "context":["1101"]}
 *
 * Timelines and notifications page forward with min_id (each page is the
 * oldest slice newer than the cursor; a page's cursor is the newest id in
 * it), following Link rel="prev" until an empty page or no such link.
 * Search results come newest first with no Link header, so the search
 * pages back (offset with a token, max_id without) until it reaches the
 * stored high-water mark, which moves only with the stream's last page.
 * Pending context fetches live in the cursor, so a poll cut short by the
 * step or rate limit picks them up next time instead of losing them.
 *
 * Statuses become items through one converter shared with parse_any: a
 * boost is resolved to the post it boosts (the store dedupes the original
 * by its id, so a post and its boosts are stored once), HTML content is
 * kept in content and flattened into text, and a status deleted under us
 * (no content, only its source text) or a notification whose status is
 * gone (null) is skipped.
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
extern const struct es_source_ops es_source_mastodon_ops;

#define KIND          "mastodon"
#define PAGE_LIMIT    "40" /* the most statuses a timeline page gives */
#define MAX_TAGS      5    /* the path tag plus four any[] (the server's cap) */
#define MAX_SEARCHES  3    /* plain searches one OR query may expand into */
#define MAX_PENDING   20   /* context fetches remembered in the cursor */
#define MAX_CONTEXT   5    /* context fetches per poll */
#define KNOWN_SIZE    1024 /* status ids whose thread was fetched */
#define MAX_ID_LEN    128  /* longer ids are not ids */
#define DEFAULT_PAGES 3    /* pages per stream and poll (max_pages) */

/* Stored positions, one per paged stream. */
enum pos { P_MENTIONS, P_TAG, P_SEARCH, P_OWN, P_COUNT };
static const char *const pos_names[P_COUNT] = { "mentions", "tag", "search",
                                                "own" };

/* The streams of one poll, in the order they are read. */
enum stream { ST_MENTIONS, ST_CONTEXT, ST_TAG, ST_SEARCH, ST_OWN, ST_DONE };

/* What the request in flight asked for. */
enum req_kind {
    R_NONE,
    R_MENTIONS,
    R_CONTEXT,
    R_TAG,
    R_SEARCH,
    R_VERIFY,
    R_OWN,
};

/* The cursor as stored: every stream's position and pending contexts. */
struct cursor {
    char *pos[P_COUNT];     /* newest id read, or NULL: never read */
    char *ctx[MAX_PENDING]; /* status ids whose context is to fetch */
    size_t nctx;
};

struct mastodon_source {
    struct es_source base; /* must stay first */
    char *label;           /* "mastodon 'NAME'" for messages */
    char *api;             /* base_url without a trailing slash */
    char *tags[MAX_TAGS];  /* hashtags without '#'; tags[0] is the path */
    size_t ntags;
    char *searches[MAX_SEARCHES]; /* plain queries for /api/v2/search */
    size_t nsearches;
    int mentions;            /* read notifications of type mention */
    int own_posts;           /* read the account's own statuses */
    int no_quote;            /* the server refused types[]=quote */
    int context;             /* fetch the threads mentions reply into */
    int max_pages;           /* pages per stream and poll */
    struct es_buf auth;      /* "Authorization: Bearer ..." (a secret) */
    struct es_buf ua;        /* "User-Agent: ..." or empty */
    char *account_id;        /* the token's account, once verified */
    char *known[KNOWN_SIZE]; /* ring of ids whose thread is known */
    size_t nknown;           /* ids added so far (ring index) */

    /* Per poll: reset by begin(). */
    struct cursor cur;  /* the whole cursor to store with the next page */
    enum stream stream; /* the stream being read */
    int fresh;          /* the stream had no stored position */
    int page;           /* pages read in this stream */
    int ctx_done;       /* context fetches made this poll */
    size_t salt;        /* search: which of searches[] */
    long long soffset;  /* search: results skipped (with a token) */
    char *smax_id;      /* search: page below this id (without a token) */
    char *shwm;         /* search: newest id seen this poll */
    enum req_kind req;  /* what the request in flight asked for */
    char *req_id;       /* the status whose context is in flight */
    struct es_buf url;  /* the request URL, valid until the next one */
};

/* ==== Ids ==== */

/* Orders two ids: numerically when both are digit strings (Mastodon's
 * snowflakes), else bytewise (other servers' flake ids sort that way). */
static int id_cmp(const char *a, const char *b)
{
    size_t da = strspn(a, "0123456789");
    size_t db = strspn(b, "0123456789");
    if (da && db && !a[da] && !b[db]) {
        while (*a == '0' && a[1])
            a++, da--;
        while (*b == '0' && b[1])
            b++, db--;
        if (da != db)
            return da < db ? -1 : 1;
    }
    int c = strcmp(a, b);
    return (c > 0) - (c < 0);
}

/* Whether @s can be a stored id: printable ASCII, short, no separators. */
static int id_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n >= MAX_ID_LEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '/' ||
            c == '?' || c == '#' || c == '%' || c == '&')
            return 0;
    }
    return 1;
}

/* Whether the thread of status @id was already fetched in this process. */
static int known_has(const struct mastodon_source *s, const char *id)
{
    size_t n = s->nknown < KNOWN_SIZE ? s->nknown : KNOWN_SIZE;
    for (size_t i = 0; i < n; i++)
        if (strcmp(s->known[i], id) == 0)
            return 1;
    return 0;
}

static void known_add(struct mastodon_source *s, const char *id)
{
    if (!id_valid(id) || known_has(s, id))
        return;
    size_t slot = s->nknown % KNOWN_SIZE;
    free(s->known[slot]);
    s->known[slot] = es_xstrdup(id);
    s->nknown++;
}

/* ==== The cursor ==== */

static void cursor_release(struct cursor *c)
{
    for (size_t i = 0; i < P_COUNT; i++)
        free(c->pos[i]);
    for (size_t i = 0; i < c->nctx; i++)
        free(c->ctx[i]);
    memset(c, 0, sizeof(*c));
}

static int cursor_has_ctx(const struct cursor *c, const char *id)
{
    for (size_t i = 0; i < c->nctx; i++)
        if (strcmp(c->ctx[i], id) == 0)
            return 1;
    return 0;
}

static void cursor_add_ctx(struct cursor *c, const char *id)
{
    if (c->nctx < MAX_PENDING && id_valid(id) && !cursor_has_ctx(c, id))
        c->ctx[c->nctx++] = es_xstrdup(id);
}

static void cursor_drop_ctx(struct cursor *c, const char *id)
{
    for (size_t i = 0; i < c->nctx; i++)
        if (strcmp(c->ctx[i], id) == 0) {
            free(c->ctx[i]);
            memmove(&c->ctx[i], &c->ctx[i + 1],
                    (c->nctx - i - 1) * sizeof(*c->ctx));
            c->nctx--;
            return;
        }
}

/* Reads a stored cursor; anything malformed leaves the cursor empty, as
 * if the source had never been polled (the streams start afresh). */
static void cursor_parse(struct cursor *c, const char *text)
{
    yajl_val root = NULL;
    memset(c, 0, sizeof(*c));
    if (!text || !*text)
        return;
    if (es_json_parse(&root, "cursor", text, strlen(text)) != 0 ||
        !es_json_is_object(root)) {
        es_error_clear();
        es_json_free(root);
        return;
    }
    for (size_t i = 0; i < P_COUNT; i++) {
        const char *v = es_json_str(root, pos_names[i]);
        if (v && !id_valid(v))
            goto bad;
        c->pos[i] = v ? es_xstrdup(v) : NULL;
    }
    yajl_val ctx = es_json_get(root, "context");
    if (ctx && !es_json_is_array(ctx))
        goto bad;
    for (size_t i = 0; i < es_json_len(ctx); i++) {
        yajl_val v = es_json_at(ctx, i);
        if (!v || !YAJL_IS_STRING(v) || !id_valid(v->u.string))
            goto bad;
        cursor_add_ctx(c, v->u.string);
    }
    es_json_free(root);
    return;
bad:
    cursor_release(c);
    es_json_free(root);
}

static char *cursor_format(const struct cursor *c)
{
    struct es_buf b = ES_BUF_INIT;
    es_buf_addch(&b, '{');
    for (size_t i = 0; i < P_COUNT; i++) {
        if (!c->pos[i])
            continue;
        if (b.len > 1)
            es_buf_addch(&b, ',');
        es_json_add_str(&b, pos_names[i]);
        es_buf_addch(&b, ':');
        es_json_add_str(&b, c->pos[i]);
    }
    if (c->nctx) {
        if (b.len > 1)
            es_buf_addch(&b, ',');
        es_buf_adds(&b, "\"context\":[");
        for (size_t i = 0; i < c->nctx; i++) {
            if (i)
                es_buf_addch(&b, ',');
            es_json_add_str(&b, c->ctx[i]);
        }
        es_buf_addch(&b, ']');
    }
    es_buf_addch(&b, '}');
    return es_buf_detach(&b);
}

/* ==== Statuses to items (shared by parse and parse_any) ==== */

/* A reply seen in a page: the mention and the post it answers. */
struct reply {
    char *id;
    char *parent;
};

/* State of one walk over a response body. */
struct conv {
    const char *kind;   /* names the input in shape errors */
    const char *source; /* item source */
    const char *root;   /* thread root given to every item, or NULL */
    es_item_cb emit;
    void *payload;
    unsigned flags; /* enum es_item_flags given to every item */
    int track;      /* collect the ids below (the stateful parse) */
    char **ids;     /* top-level ids in page order (cursor material) */
    size_t nids;
    struct es_strmap sids; /* ids of the statuses emitted (once each) */
    struct reply *replies; /* replies among them */
    size_t nreplies;
    int err;          /* first shape error, 0 when none */
    char errmsg[512]; /* its message (later calls may overwrite it) */
};

static void strv_push(char ***v, size_t *n, const char *s)
{
    *v = es_xrealloc(*v, (*n + 1) * sizeof(**v));
    (*v)[(*n)++] = es_xstrdup(s);
}

static void conv_release(struct conv *c)
{
    for (size_t i = 0; i < c->nids; i++)
        free(c->ids[i]);
    es_strmap_clear(&c->sids);
    for (size_t i = 0; i < c->nreplies; i++) {
        free(c->replies[i].id);
        free(c->replies[i].parent);
    }
    free(c->ids);
    free(c->replies);
    c->ids = NULL;
    c->replies = NULL;
    c->nids = c->nreplies = 0;
}

/* Writes @path followed by @suffix into @out (@size bytes), cut to fit:
 * a JSON path for messages. */
static void subpath(char *out, size_t size, const char *path,
                    const char *suffix)
{
    size_t n = strlen(path);
    size_t m = strlen(suffix);
    if (n > size - 1)
        n = size - 1;
    if (m > size - 1 - n)
        m = size - 1 - n;
    memmove(out, path, n);
    memcpy(out + n, suffix, m);
    out[n + m] = '\0';
}

/* Records a shape problem at @path; the walk goes on with the next
 * element and the first problem is returned at the end. */
static void conv_shape(struct conv *c, const char *path, const char *what)
{
    if (c->err)
        return;
    c->err = es_json_shape_error(c->kind, path, what);
    snprintf(c->errmsg, sizeof(c->errmsg), "%s", es_error_last());
}

/* The walk's result: the first shape problem (message restored), or 0. */
static int conv_result(const struct conv *c)
{
    if (!c->err)
        return 0;
    return es_error_set(c->err, "%s", c->errmsg);
}

static void conv_track_id(struct conv *c, yajl_val obj)
{
    char id[MAX_ID_LEN];
    if (c->track && es_json_id(obj, "id", id, sizeof(id)) && id_valid(id))
        strv_push(&c->ids, &c->nids, id);
}

/* Sets the text of @it from a status's HTML @content. A quote post
 * (Mastodon 4.5) carries, for clients that cannot show quotes, a
 * paragraph "RE: <link to the quoted post>" of class quote-inline, which
 * clients that can are told to hide: so is it here. */
static void set_status_text(struct es_item *it, const char *content)
{
    const char *q = strstr(content, "<p class=\"quote-inline\"");
    const char *end = q ? strstr(q, "</p>") : NULL;
    if (!end) {
        es_json_set_html_text(&it->text, content);
        return;
    }
    struct es_buf b = ES_BUF_INIT;
    es_buf_add(&b, content, (size_t)(q - content));
    es_buf_adds(&b, end + 4);
    es_json_set_html_text(&it->text, b.ptr);
    es_buf_release(&b);
}

/* Fills @it from status @st (a boost already resolved). Returns 0, or 1
 * when @st lacks what every status has (reported through @c). */
static int status_fill(struct conv *c, yajl_val st, const char *path,
                       struct es_item *it)
{
    char id[MAX_ID_LEN];
    char sub[160];
    if (!es_json_id(st, "id", id, sizeof(id))) {
        subpath(sub, sizeof(sub), path, ".id");
        conv_shape(c, sub, "expected the status id (a string)");
        return 1;
    }
    yajl_val account = es_json_get(st, "account");
    const char *acct = es_json_str(account, "acct");
    if (!es_json_is_object(account) || !acct) {
        subpath(sub, sizeof(sub), path,
                es_json_is_object(account) ? ".account.acct" : ".account");
        conv_shape(c, sub,
                   es_json_is_object(account)
                       ? "expected the author's acct (a string)"
                       : "expected the author's account (an object)");
        return 1;
    }
    while (*acct == '@')
        acct++;

    it->platform = es_xstrdup(KIND);
    it->source = es_xstrdup(c->source);
    it->external_id = es_xstrdup(id);
    const char *url = es_json_str(st, "url");
    es_json_set(&it->url, url && *url ? url : es_json_str(st, "uri"));
    it->author = es_xstrdup(acct);
    const char *name = es_json_str(account, "display_name");
    if (name && *name)
        it->author_name = es_xstrdup(name);
    long long followers;
    if (es_json_int(account, "followers_count", &followers) == 0 &&
        followers >= 0)
        it->author_followers = followers;
    /* The content warning is the post's subject line. */
    const char *spoiler = es_json_str(st, "spoiler_text");
    if (spoiler && *spoiler)
        it->title = es_xstrdup(spoiler);
    const char *content = es_json_str(st, "content");
    set_status_text(it, content ? content : "");
    es_json_set(&it->content, content);
    it->created_at = es_json_time(st, "created_at");
    it->updated_at = es_json_time(st, "edited_at");
    es_json_set(&it->lang, es_json_str(st, "language"));

    char parent[MAX_ID_LEN];
    if (es_json_id(st, "in_reply_to_id", parent, sizeof(parent))) {
        it->kind = ES_KIND_REPLY;
        it->in_reply_to = es_xstrdup(parent);
    } else {
        it->kind = ES_KIND_POST;
    }
    es_json_set(&it->thread_root, c->root);

    yajl_val tags = es_json_get(st, "tags");
    for (size_t i = 0; i < es_json_len(tags); i++) {
        const char *tag = es_json_str(es_json_at(tags, i), "name");
        if (tag && *tag)
            es_item_add_category(it, tag);
    }

    /* A reply must mention the author: the id alone is not enough. And
     * it must not be seen by more people than the status it answers: a
     * reply to a direct message is direct (reply_mastodon.c). */
    struct es_buf ref = ES_BUF_INIT;
    es_buf_adds(&ref, "{\"id\":");
    es_json_add_str(&ref, id);
    es_buf_adds(&ref, ",\"acct\":");
    es_json_add_str(&ref, acct);
    const char *vis = es_json_str(st, "visibility");
    if (vis && *vis && strcmp(vis, "public") != 0) {
        es_buf_adds(&ref, ",\"visibility\":");
        es_json_add_str(&ref, vis);
    }
    es_buf_addch(&ref, '}');
    it->reply_ref = es_buf_detach(&ref);
    return 0;
}

/* Emits the status @st found at @path, resolving a boost. Returns 0 or
 * what emit returned; shape problems are recorded in @c. */
static int emit_status(struct conv *c, yajl_val st, const char *path)
{
    char sub[160];
    if (!es_json_is_object(st)) {
        conv_shape(c, path, "expected a status (an object)");
        return 0;
    }
    yajl_val reblog = es_json_get(st, "reblog");
    if (reblog) {
        /* A boost carries the post it boosts: that post is the mention,
         * under its own id, whoever boosted it. */
        subpath(sub, sizeof(sub), path, ".reblog");
        path = sub;
        st = reblog;
        if (!es_json_is_object(st)) {
            conv_shape(c, path, "expected the boosted status (an object)");
            return 0;
        }
    }
    /* A deleted status comes back with its source text and no HTML. */
    const char *content = es_json_str(st, "content");
    if ((!content || !*content) && es_json_str(st, "text"))
        return 0;

    struct es_item it;
    es_item_init(&it);
    int rc = 0;
    /* A post and a boost of it in one body: one item. */
    if (status_fill(c, st, path, &it) == 0 &&
        es_strmap_put(&c->sids, it.external_id, NULL)) {
        if (c->track && it.in_reply_to) {
            c->replies = es_xrealloc(c->replies,
                                     (c->nreplies + 1) * sizeof(*c->replies));
            c->replies[c->nreplies].id = es_xstrdup(it.external_id);
            c->replies[c->nreplies].parent = es_xstrdup(it.in_reply_to);
            c->nreplies++;
        }
        it.flags = c->flags;
        rc = c->emit(&it, c->payload);
    }
    es_item_release(&it);
    return rc;
}

/* An array of statuses (timelines, an account's statuses). */
static int walk_statuses(struct conv *c, yajl_val arr, const char *path)
{
    char sub[128];
    for (size_t i = 0; i < es_json_len(arr); i++) {
        yajl_val st = es_json_at(arr, i);
        char idx[32];
        snprintf(idx, sizeof(idx), "[%zu]", i);
        subpath(sub, sizeof(sub), path, idx);
        conv_track_id(c, st);
        int rc = emit_status(c, st, sub);
        if (rc)
            return rc;
    }
    return 0;
}

/* An array of notifications: mentions (and quotes, 4.5) carry a status. */
/* One notification at @path: the status of a mention or a quote. */
static int notification(struct conv *c, yajl_val n, const char *path)
{
    char sub[128];
    /* A mention notification addresses the account itself. */
    c->flags |= ES_ITEM_DIRECT;
    conv_track_id(c, n);
    const char *type = es_json_str(n, "type");
    if (!type) {
        snprintf(sub, sizeof(sub), "%s.type", path);
        conv_shape(c, sub, "expected the notification type (a string)");
        return 0;
    }
    if (strcmp(type, "mention") != 0 && strcmp(type, "quote") != 0)
        return 0;
    /* The status of a mention that was deleted since is null. */
    yajl_val st = es_json_get(n, "status");
    if (!st)
        return 0;
    snprintf(sub, sizeof(sub), "%s.status", path);
    return emit_status(c, st, sub);
}

/* 1 when @v looks like a notification: a type and an account, and no
 * content of its own (which a status has). */
static int is_notification(yajl_val v)
{
    return es_json_str(v, "type") &&
           es_json_is_object(es_json_get(v, "account")) &&
           !es_json_get(v, "content");
}

static int walk_notifications(struct conv *c, yajl_val arr)
{
    char sub[128];
    for (size_t i = 0; i < es_json_len(arr); i++) {
        yajl_val n = es_json_at(arr, i);
        snprintf(sub, sizeof(sub), "$[%zu]", i);
        if (!es_json_is_object(n)) {
            conv_shape(c, sub, "expected a notification (an object)");
            continue;
        }
        int rc = notification(c, n, sub);
        if (rc)
            return rc;
    }
    return 0;
}

/* An array of conversations (direct messages): their last status. */
static int walk_conversations(struct conv *c, yajl_val arr)
{
    char sub[128];
    for (size_t i = 0; i < es_json_len(arr); i++) {
        yajl_val conv = es_json_at(arr, i);
        snprintf(sub, sizeof(sub), "$[%zu]", i);
        if (!es_json_is_object(conv)) {
            conv_shape(c, sub, "expected a conversation (an object)");
            continue;
        }
        yajl_val st = es_json_get(conv, "last_status");
        if (!st)
            continue;
        snprintf(sub, sizeof(sub), "$[%zu].last_status", i);
        int rc = emit_status(c, st, sub);
        if (rc)
            return rc;
    }
    return 0;
}

/* A v2 search result: only its statuses are mentions. */
static int walk_search(struct conv *c, yajl_val obj)
{
    yajl_val sts = es_json_get(obj, "statuses");
    if (sts && !es_json_is_array(sts)) {
        conv_shape(c, "$.statuses", "expected an array of statuses");
        return 0;
    }
    return walk_statuses(c, sts, "$.statuses");
}

/* A thread context: every status in it gets the thread's root, the first
 * ancestor (or @fetched itself when it starts the thread). */
static int walk_context(struct conv *c, yajl_val obj, const char *fetched)
{
    char root[MAX_ID_LEN];
    c->flags |= ES_ITEM_CONTEXT;
    yajl_val anc = es_json_get(obj, "ancestors");
    yajl_val desc = es_json_get(obj, "descendants");
    if ((anc && !es_json_is_array(anc)) || (desc && !es_json_is_array(desc))) {
        conv_shape(
            c, anc && !es_json_is_array(anc) ? "$.ancestors" : "$.descendants",
            "expected an array of statuses");
        return 0;
    }
    c->root = NULL;
    if (es_json_id(es_json_at(anc, 0), "id", root, sizeof(root)))
        c->root = root;
    else if (es_json_len(anc) == 0 && fetched)
        c->root = fetched;
    int rc = walk_statuses(c, anc, "$.ancestors");
    if (rc == 0)
        rc = walk_statuses(c, desc, "$.descendants");
    c->root = NULL;
    return rc;
}

/* ==== parse_any: any body this kind fetches, by its shape ==== */

static int mastodon_parse_any(const char *buf, size_t len,
                              const struct es_parse_opts *opts, es_item_cb emit,
                              void *payload)
{
    yajl_val root = NULL;
    struct conv c = {
        .kind = KIND,
        .source = opts && opts->source ? opts->source : KIND,
        .emit = emit,
        .payload = payload,
    };
    int rc = es_json_parse(&root, KIND, buf, len);
    if (rc != 0)
        return rc;

    if (es_json_is_array(root)) {
        /* The first element tells statuses, notifications and
         * conversations apart. */
        yajl_val first = es_json_at(root, 0);
        if (es_json_len(root) == 0) {
            rc = 0; /* an empty page */
        } else if (!es_json_is_object(first)) {
            rc = es_json_shape_error(KIND, "$[0]",
                                     "expected a status, a notification or a "
                                     "conversation (an object)");
        } else if (is_notification(first)) {
            rc = walk_notifications(&c, root);
        } else if (es_json_is_array(es_json_get(first, "accounts")) &&
                   es_json_get(first, "unread")) {
            rc = walk_conversations(&c, root);
        } else if (es_json_get(first, "content") ||
                   es_json_get(first, "account") ||
                   es_json_get(first, "reblog")) {
            rc = walk_statuses(&c, root, "$");
        } else {
            rc = es_json_shape_error(KIND, "$[0]",
                                     "expected a status, a notification or a "
                                     "conversation");
        }
    } else if (es_json_is_object(root)) {
        if (es_json_get(root, "ancestors") || es_json_get(root, "descendants"))
            rc = walk_context(&c, root, NULL);
        else if (es_json_get(root, "statuses") ||
                 es_json_get(root, "accounts") || es_json_get(root, "hashtags"))
            rc = walk_search(&c, root);
        else if (is_notification(root)) /* GET /api/v1/notifications/:id */
            rc = notification(&c, root, "$");
        else if (es_json_get(root, "content") || es_json_get(root, "reblog") ||
                 es_json_is_object(es_json_get(root, "account")))
            rc = emit_status(&c, root, "$");
        else if (es_json_str(root, "acct") && es_json_str(root, "username"))
            rc = 0; /* an account (verify_credentials): no mention */
        else
            rc = es_json_shape_error(
                KIND, "$",
                "expected a status, a search result ({accounts, statuses, "
                "hashtags}) or a context ({ancestors, descendants})");
    } else {
        rc = es_json_shape_error(KIND, "$",
                                 "expected an object or an array of "
                                 "statuses, notifications or conversations");
    }
    if (rc == 0)
        rc = conv_result(&c);
    conv_release(&c);
    es_json_free(root);
    return rc;
}

/* ==== Opening ==== */

/* The line of @key in @cfg, or the section's. */
static int key_line(const struct es_config_source *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->nkv; i++)
        if (strcmp(cfg->kv[i].key, key) == 0)
            return cfg->kv[i].line;
    return cfg->line;
}

static int has_http_scheme(const char *url)
{
    return strncasecmp(url, "https://", 8) == 0 ||
           strncasecmp(url, "http://", 7) == 0;
}

/* Splits `tag =` on commas and white space into s->tags, '#' dropped. */
static int split_tags(struct mastodon_source *s, const char *text,
                      const struct es_config_source *cfg)
{
    const char *p = text;
    while (*p) {
        p += strspn(p, ", \t");
        size_t n = strcspn(p, ", \t");
        if (n == 0)
            break;
        const char *t = p;
        size_t tn = n;
        while (tn && *t == '#')
            t++, tn--;
        p += n;
        if (tn == 0)
            continue;
        if (s->ntags == MAX_TAGS)
            return es_error_set(ES_EINVALID,
                                "%s:%d: [source \"%s\"] tag: at most %d "
                                "hashtags",
                                cfg->file, key_line(cfg, "tag"), cfg->name,
                                MAX_TAGS);
        s->tags[s->ntags++] = es_xstrndup(t, tn);
    }
    return 0;
}

/* Turns the source's query into plain searches (s->searches); none when
 * no plain search can narrow anything (only negations or prefix terms, or
 * an OR of more than MAX_SEARCHES alternatives). */
static void plan_searches(struct mastodon_source *s)
{
    if (!s->base.query || !*es_query_text(s->base.query))
        return;
    char *plain = es_query_render(s->base.query, ES_QUERY_STYLE_PLAIN);
    if (plain) {
        if (*plain)
            s->searches[s->nsearches++] = plain;
        else
            free(plain);
        return;
    }
    /* An OR with nothing in common: one search per alternative, when
     * there are few. */
    char **alts = NULL;
    if (es_query_alternatives(s->base.query, MAX_SEARCHES, &alts) == 0) {
        for (size_t i = 0; alts[i] && s->nsearches < MAX_SEARCHES; i++)
            if (*alts[i])
                s->searches[s->nsearches++] = es_xstrdup(alts[i]);
    }
    es_error_clear();
    es_query_alternatives_free(alts);
}

static void mastodon_close(struct es_source *src);

static int mastodon_open(struct es_source **out,
                         const struct es_config_source *cfg)
{
    *out = NULL;
    const char *base = es_config_source_get(cfg, "base_url");
    if (!base || !*base)
        return es_error_set(ES_EINVALID,
                            "%s:%d: [source \"%s\"] needs base_url (the "
                            "instance, e.g. https://mastodon.social)",
                            cfg->file, cfg->line, cfg->name);
    if (!has_http_scheme(base))
        return es_error_set(
            ES_EINVALID,
            "%s:%d: [source \"%s\"] base_url '%s' is not http or https",
            cfg->file, key_line(cfg, "base_url"), cfg->name, base);

    struct mastodon_source *s = es_xcalloc(1, sizeof(*s));
    es_buf_init(&s->auth);
    es_buf_init(&s->ua);
    es_buf_init(&s->url);
    int rc = es_source__init_base(&s->base, &es_source_mastodon_ops, cfg);
    if (rc != 0) {
        es_buf_release(&s->auth);
        es_buf_release(&s->ua);
        es_buf_release(&s->url);
        free(s);
        return rc;
    }
    s->label = es_xasprintf(KIND " '%s'", cfg->name);
    size_t blen = es_url_trim_len(base);
    s->api = es_xstrndup(base, blen);
    s->mentions = es_config_source_bool(cfg, "mentions", 0);
    s->own_posts = es_config_source_bool(cfg, "own_posts", 0);
    s->context = es_config_source_bool(cfg, "context", 1);
    s->max_pages = DEFAULT_PAGES;
    const char *mp = es_config_source_get(cfg, "max_pages");
    if (mp && atoi(mp) > 0)
        s->max_pages = atoi(mp);

    const char *tag = es_config_source_get(cfg, "tag");
    if (tag && (rc = split_tags(s, tag, cfg)) != 0)
        goto fail;
    if (tag && *tag && s->ntags == 0) {
        rc = es_error_set(ES_EINVALID,
                          "%s:%d: [source \"%s\"] tag '%s' names no hashtag",
                          cfg->file, key_line(cfg, "tag"), cfg->name, tag);
        goto fail;
    }
    const char *query = es_config_source_get(cfg, "query");
    if (s->ntags == 0 && !(query && *query) && !s->mentions) {
        rc = es_error_set(ES_EINVALID,
                          "%s:%d: [source \"%s\"] needs tag, query or "
                          "mentions = yes",
                          cfg->file, cfg->line, cfg->name);
        goto fail;
    }
    if ((s->mentions || s->own_posts) && !s->base.token) {
        const char *key = s->mentions ? "mentions" : "own_posts";
        rc = es_error_set(ES_EINVALID,
                          "%s:%d: [source \"%s\"] %s = yes needs a user "
                          "token (token or token_file)",
                          cfg->file, key_line(cfg, key), cfg->name, key);
        goto fail;
    }
    plan_searches(s);
    if (s->nsearches == 0 && s->ntags == 0 && !s->mentions) {
        rc = es_error_set(ES_EINVALID,
                          "%s:%d: [source \"%s\"] query '%s' gives Mastodon "
                          "search nothing to look for (only negations, "
                          "prefix terms or too many alternatives); set tag "
                          "or mentions = yes",
                          cfg->file, key_line(cfg, "query"), cfg->name,
                          query ? query : "");
        goto fail;
    }

    if (s->base.token)
        es_buf_addf(&s->auth, "Authorization: Bearer %s", s->base.token);
    const char *ua = es_config_source_get(cfg, "user_agent");
    if (ua && *ua)
        es_buf_addf(&s->ua, "User-Agent: %s", ua);
    *out = &s->base;
    return 0;
fail:
    mastodon_close(&s->base);
    return rc;
}

static void mastodon_close(struct es_source *src)
{
    if (!src)
        return;
    struct mastodon_source *s = (struct mastodon_source *)src;
    for (size_t i = 0; i < s->ntags; i++)
        free(s->tags[i]);
    for (size_t i = 0; i < s->nsearches; i++)
        free(s->searches[i]);
    for (size_t i = 0; i < KNOWN_SIZE; i++)
        free(s->known[i]);
    cursor_release(&s->cur);
    /* The header holds the token: wipe it before freeing. */
    if (s->auth.len)
        memset(s->auth.ptr, 0, s->auth.len);
    es_buf_release(&s->auth);
    es_buf_release(&s->ua);
    es_buf_release(&s->url);
    free(s->label);
    free(s->api);
    free(s->account_id);
    free(s->smax_id);
    free(s->shwm);
    free(s->req_id);
    es_source__release_base(&s->base);
    free(s);
}

/* ==== Polling ==== */

static enum pos stream_pos(enum stream st)
{
    switch (st) {
    case ST_MENTIONS:
        return P_MENTIONS;
    case ST_TAG:
        return P_TAG;
    case ST_SEARCH:
        return P_SEARCH;
    case ST_OWN:
        return P_OWN;
    default:
        return P_COUNT;
    }
}

/* Starts stream @st: nothing read yet. */
static void enter_stream(struct mastodon_source *s, enum stream st)
{
    s->stream = st;
    s->page = 0;
    enum pos p = stream_pos(st);
    s->fresh = p < P_COUNT && !s->cur.pos[p];
    s->salt = 0;
    s->soffset = 0;
    free(s->smax_id);
    free(s->shwm);
    s->smax_id = s->shwm = NULL;
}

static void next_stream(struct mastodon_source *s)
{
    if (s->stream != ST_DONE)
        enter_stream(s, (enum stream)(s->stream + 1));
}

static void mastodon_begin(struct es_source *src, const char *cursor)
{
    struct mastodon_source *s = (struct mastodon_source *)src;
    cursor_release(&s->cur);
    cursor_parse(&s->cur, cursor);
    s->ctx_done = 0;
    s->req = R_NONE;
    free(s->req_id);
    s->req_id = NULL;
    enter_stream(s, ST_MENTIONS);
}

/* Starts the URL: the instance, then @path (and @id, escaped, @tail). */
static void url_start(struct mastodon_source *s, const char *path,
                      const char *id, const char *tail)
{
    es_buf_reset(&s->url);
    es_buf_adds(&s->url, s->api);
    es_buf_adds(&s->url, path);
    if (id) {
        es_url_add_escaped(&s->url, id);
        es_buf_adds(&s->url, tail);
    }
}

static int mastodon_request(struct es_source *src,
                            struct es_source_request *req)
{
    struct mastodon_source *s = (struct mastodon_source *)src;
    char num[32];
    memset(req, 0, sizeof(*req));

    for (;;) {
        switch (s->stream) {
        case ST_MENTIONS:
            if (!s->mentions)
                break;
            url_start(s, "/api/v1/notifications", NULL, NULL);
            /* Quote posts (Mastodon 4.5) notify as "quote". Mastodon
             * ignores a type it does not know; some other servers refuse
             * it (400 or 422), and are asked again without it. */
            es_url_add_param(&s->url, "types[]", "mention");
            if (!s->no_quote)
                es_url_add_param(&s->url, "types[]", "quote");
            es_url_add_param(&s->url, "limit", PAGE_LIMIT);
            es_url_add_param(&s->url, "min_id", s->cur.pos[P_MENTIONS]);
            s->req = R_MENTIONS;
            goto send;
        case ST_CONTEXT:
            /* Threads fetched since the id was queued need no fetch. */
            while (s->cur.nctx && known_has(s, s->cur.ctx[0]))
                cursor_drop_ctx(&s->cur, s->cur.ctx[0]);
            if (!s->context || !s->cur.nctx || s->ctx_done >= MAX_CONTEXT)
                break;
            free(s->req_id);
            s->req_id = es_xstrdup(s->cur.ctx[0]);
            url_start(s, "/api/v1/statuses/", s->req_id, "/context");
            s->req = R_CONTEXT;
            goto send;
        case ST_TAG:
            if (!s->ntags)
                break;
            url_start(s, "/api/v1/timelines/tag/", s->tags[0], "");
            es_url_add_param(&s->url, "limit", PAGE_LIMIT);
            for (size_t i = 1; i < s->ntags; i++)
                es_url_add_param(&s->url, "any[]", s->tags[i]);
            es_url_add_param(&s->url, "min_id", s->cur.pos[P_TAG]);
            s->req = R_TAG;
            goto send;
        case ST_SEARCH:
            if (s->salt >= s->nsearches)
                break;
            url_start(s, "/api/v2/search", NULL, NULL);
            es_url_add_param(&s->url, "q", s->searches[s->salt]);
            es_url_add_param(&s->url, "type", "statuses");
            es_url_add_param(&s->url, "limit", PAGE_LIMIT);
            if (s->soffset > 0) {
                snprintf(num, sizeof(num), "%lld", s->soffset);
                es_url_add_param(&s->url, "offset", num);
            }
            es_url_add_param(&s->url, "max_id", s->smax_id);
            s->req = R_SEARCH;
            goto send;
        case ST_OWN:
            if (!s->own_posts)
                break;
            if (!s->account_id) {
                url_start(s, "/api/v1/accounts/verify_credentials", NULL, NULL);
                s->req = R_VERIFY;
                goto send;
            }
            url_start(s, "/api/v1/accounts/", s->account_id, "/statuses");
            /* The brand's boosts are other people's posts: they would pass
             * as its own, whatever the query says. */
            es_url_add_param(&s->url, "exclude_reblogs", "true");
            es_url_add_param(&s->url, "limit", PAGE_LIMIT);
            es_url_add_param(&s->url, "min_id", s->cur.pos[P_OWN]);
            s->req = R_OWN;
            goto send;
        case ST_DONE:
            s->req = R_NONE;
            return ES_EUNCHANGED;
        }
        next_stream(s);
    }

send:;
    size_t h = 0;
    req->url = s->url.ptr;
    req->headers[h++] = "Accept: application/json";
    if (s->auth.len)
        req->headers[h++] = s->auth.ptr;
    if (s->ua.len)
        req->headers[h++] = s->ua.ptr;
    req->headers[h] = NULL;
    return 0;
}

/* The newest of the ids collected by @c, or NULL. */
static const char *newest_id(const struct conv *c)
{
    const char *best = NULL;
    for (size_t i = 0; i < c->nids; i++)
        if (!best || id_cmp(c->ids[i], best) > 0)
            best = c->ids[i];
    return best;
}

/* After a page of a forward-paged stream (min_id): the page's newest id
 * is the stream's position; another page follows while the server links
 * to a newer one (rel="prev") and the page was not empty. */
static void forward_done(struct mastodon_source *s, enum pos p,
                         const struct conv *c,
                         const struct es_source_response *res,
                         struct es_source_page *page)
{
    struct es_buf prev = ES_BUF_INIT;
    const char *newest = newest_id(c);
    int more = 0;

    s->page++;
    /* A page that does not move the position (a server ignoring min_id)
     * would only be fetched again. */
    if (newest && (!s->cur.pos[p] || id_cmp(newest, s->cur.pos[p]) > 0)) {
        free(s->cur.pos[p]);
        s->cur.pos[p] = es_xstrdup(newest);
        more = !s->fresh && s->page < s->max_pages && res->link &&
               es_url_link_rel(res->link, "prev", &prev) == 0;
    }
    /* Pending contexts may have changed with an empty page too. */
    page->cursor = cursor_format(&s->cur);
    if (!more)
        next_stream(s);
    es_buf_release(&prev);
}

/* After a page of search results (newest first): page back until the
 * stored high-water mark is reached, then store the new one. */
static void search_done(struct mastodon_source *s, const struct conv *c,
                        struct es_source_page *page)
{
    const char *old = s->cur.pos[P_SEARCH];
    const char *oldest = NULL;
    int reached = 0;

    for (size_t i = 0; i < c->nids; i++) {
        const char *id = c->ids[i];
        if (!s->shwm || id_cmp(id, s->shwm) > 0) {
            free(s->shwm);
            s->shwm = es_xstrdup(id);
        }
        if (!oldest || id_cmp(id, oldest) < 0)
            oldest = id;
        if (old && id_cmp(id, old) <= 0)
            reached = 1;
    }
    s->page++;
    if (c->nids && !reached && old && s->page < s->max_pages) {
        /* Offset paging needs a user token; max_id does without. */
        if (s->base.token) {
            s->soffset += (long long)c->nids;
        } else {
            free(s->smax_id);
            s->smax_id = es_xstrdup(oldest);
        }
        return;
    }
    /* This search is done: the next one, or the stream's end. */
    s->salt++;
    s->page = 0;
    s->soffset = 0;
    free(s->smax_id);
    s->smax_id = NULL;
    if (s->salt < s->nsearches)
        return;
    if (s->shwm && (!old || id_cmp(s->shwm, old) > 0)) {
        free(s->cur.pos[P_SEARCH]);
        s->cur.pos[P_SEARCH] = es_xstrdup(s->shwm);
        page->cursor = cursor_format(&s->cur);
    }
    next_stream(s);
}

/* Queues the thread of every mention that replies to a post neither in
 * this page nor fetched before. */
static void queue_contexts(struct mastodon_source *s, const struct conv *c)
{
    if (!s->context)
        return;
    for (size_t i = 0; i < c->nreplies; i++) {
        const struct reply *r = &c->replies[i];
        int in_page = es_strmap_get(&c->sids, r->parent, NULL);
        if (in_page || known_has(s, r->parent) || known_has(s, r->id))
            continue;
        cursor_add_ctx(&s->cur, r->id);
    }
}

static int mastodon_parse(struct es_source *src,
                          const struct es_source_response *res,
                          struct es_source_page *page, es_item_cb emit,
                          void *payload)
{
    struct mastodon_source *s = (struct mastodon_source *)src;
    yajl_val root = NULL;
    struct conv c = {
        .kind = s->label,
        .source = src->name,
        .emit = emit,
        .payload = payload,
        .track = 1,
    };
    int rc = es_json_parse(&root, s->label, res->body, res->len);
    if (rc != 0)
        return rc;

    switch (s->req) {
    case R_MENTIONS:
    case R_TAG:
    case R_OWN:
        if (!es_json_is_array(root)) {
            rc = es_json_shape_error(s->label, "$",
                                     s->req == R_MENTIONS
                                         ? "expected an array of "
                                           "notifications"
                                         : "expected an array of statuses");
            break;
        }
        if (s->req == R_MENTIONS) {
            rc = walk_notifications(&c, root);
            queue_contexts(s, &c);
        } else {
            if (s->req == R_OWN)
                c.flags = ES_ITEM_OWN;
            rc = walk_statuses(&c, root, "$");
        }
        forward_done(s,
                     s->req == R_MENTIONS ? P_MENTIONS
                     : s->req == R_TAG    ? P_TAG
                                          : P_OWN,
                     &c, res, page);
        page->more = 1;
        break;
    case R_CONTEXT:
        if (!es_json_is_object(root)) {
            rc = es_json_shape_error(s->label, "$",
                                     "expected a context ({ancestors, "
                                     "descendants})");
            break;
        }
        rc = walk_context(&c, root, s->req_id);
        known_add(s, s->req_id);
        for (size_t i = 0; i < c.nids; i++)
            known_add(s, c.ids[i]);
        cursor_drop_ctx(&s->cur, s->req_id);
        s->ctx_done++;
        page->cursor = cursor_format(&s->cur);
        page->more = 1;
        break;
    case R_SEARCH:
        if (!es_json_is_object(root)) {
            rc = es_json_shape_error(s->label, "$",
                                     "expected a search result ({accounts, "
                                     "statuses, hashtags})");
            break;
        }
        rc = walk_search(&c, root);
        search_done(s, &c, page);
        page->more = 1;
        break;
    case R_VERIFY: {
        char id[MAX_ID_LEN];
        if (!es_json_id(root, "id", id, sizeof(id)) || !id_valid(id)) {
            rc = es_json_shape_error(s->label, "$.id",
                                     "expected the account id of the token");
            break;
        }
        s->account_id = es_xstrdup(id);
        page->more = 1;
        break;
    }
    case R_NONE:
        break;
    }
    if (rc == 0)
        rc = conv_result(&c);
    conv_release(&c);
    es_json_free(root);
    return rc;
}

/* A status that is gone (404) has no thread to fetch: skip it and go on
 * with the poll instead of failing the whole source. A server that
 * refuses the quote notification type is asked for mentions alone. */
static int mastodon_failed(struct es_source *src,
                           const struct es_source_response *res)
{
    struct mastodon_source *s = (struct mastodon_source *)src;
    if (s->req == R_MENTIONS && !s->no_quote &&
        (res->http_code == 400 || res->http_code == 422)) {
        s->no_quote = 1;
        return 1;
    }
    if (s->req != R_CONTEXT || !s->req_id ||
        (res->http_code != 404 && res->http_code != 410))
        return 0;
    known_add(s, s->req_id);
    cursor_drop_ctx(&s->cur, s->req_id);
    s->ctx_done++;
    return 1;
}

const struct es_source_ops es_source_mastodon_ops = {
    .name = KIND,
    .flags = ES_SOURCE_HAS_SEARCH,
    .default_interval_s = 300,
    .open = mastodon_open,
    .begin = mastodon_begin,
    .request = mastodon_request,
    .parse = mastodon_parse,
    .failed = mastodon_failed,
    .parse_any = mastodon_parse_any,
    .close = mastodon_close,
};
