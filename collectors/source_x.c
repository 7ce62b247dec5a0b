/* source_x.c - the "x" source kind: X (Twitter) API v2 search and mentions
 *
 * Two streams, each optional: the recent search (/2/tweets/search/recent)
 * with the source's query rendered in X's boolean syntax, and the
 * account's mentions timeline (/2/users/:id/mentions). Both answer
 * newest-first in pages of 100, with meta.next_token (search) or
 * pagination_token (mentions) for the next page and since_id to stop at
 * what was already read. Only meta.next_token says there is another page:
 * X may return fewer than max_results on a page that is not the last.
 *
 * Cursor: {"search":{"since_id":"...","newest":"...","next":"..."},
 * "mentions":{...}}. since_id is the newest id of the last complete pass;
 * newest and next describe a pass still under way (its first page's
 * meta.newest_id, the page to fetch next). Every page stores the whole
 * cursor, so a poll cut short (max_pages, the poller's step cap, a spent
 * rate limit) resumes at the next page instead of leaving a gap; the new
 * since_id is stored only with the last page of a pass. The very first
 * pass of a stream (no since_id) reads at most max_pages pages.
 *
 * Authors and follower counts come from includes.users, joined by
 * author_id. A retweet is replaced by its original (from includes.tweets)
 * so one post is never stored twice; one whose original is missing
 * (deleted or protected) is skipped. With `context` on, a reply's parent
 * from includes.tweets is emitted too, and conversation roots that are
 * nowhere in the answer are looked up once per poll (/2/tweets?ids=).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/query.h"
#include "earshot/source.h"
#include "html.h"
#include "json.h"
#include "strmap.h"
#include "url.h"

/* Defined at the bottom; registry.c refers to it. */
extern const struct es_source_ops es_source_x_ops;

#define X_DEFAULT_BASE "https://api.x.com"
/* What every tweet request asks for. referenced_tweets.id.author_id puts
 * the authors of retweeted and replied-to posts in includes.users too. */
#define X_FIELDS                                                               \
    "tweet.fields=created_at,author_id,conversation_id,in_reply_to_user_id,"   \
    "referenced_tweets,lang,public_metrics,entities,note_tweet"                \
    "&expansions=author_id,referenced_tweets.id,"                              \
    "referenced_tweets.id.author_id"                                           \
    "&user.fields=username,name,public_metrics"
#define X_DEFAULT_PAGES 3    /* pages per stream and poll */
#define X_MAX_LOOKUP    100  /* ids in one /2/tweets lookup (X's limit) */
#define X_SEEN_MAX      1024 /* conversation roots remembered */
#define X_ID_MAX        32   /* tweet ids are 64-bit decimal numbers */

enum x_stream_id {
    X_SEARCH = 0,
    X_MENTIONS,
    X_NSTREAMS,
    X_LOOKUP = X_NSTREAMS, /* the context lookup in flight */
};

static const char *const stream_key[X_NSTREAMS] = { "search", "mentions" };

struct x_stream {
    int enabled;
    char *since_id; /* newest id of the last complete pass, or NULL */
    char *newest;   /* pass under way: its first page's newest id */
    char *next;     /* pass under way: token of the page to fetch */
    int pages;      /* pages fetched in this poll */
    int done;       /* nothing more to fetch in this poll */
    int retried;    /* failed() already restarted it in this poll */
};

struct x_source {
    struct es_source base; /* must stay first */
    char *api;             /* base URL without a trailing '/' */
    char *query;           /* the query in X syntax; NULL: no search */
    char *user_id;         /* whose mentions; NULL: no mentions */
    char *auth;            /* "Authorization: Bearer ..." (a secret) */
    char *what;            /* "x 'NAME'", for messages */
    int context;           /* emit parents, look up roots */
    int max_pages;
    struct x_stream st[X_NSTREAMS];
    int inflight;  /* enum x_stream_id of the request in flight */
    char **lookup; /* roots to look up in this poll */
    size_t nlookup;
    int lookup_done;        /* the lookup was requested in this poll */
    char *seen[X_SEEN_MAX]; /* roots already looked up (a ring) */
    size_t seen_pos;
    struct es_buf url; /* the request's URL, valid until the next one */
};

/* ==== Converting tweets ==== */

/* One response being turned into items. */
struct x_conv {
    const char *what;         /* "x" or "x 'NAME'", for messages */
    const char *source;       /* item.source */
    yajl_val users;           /* includes.users */
    yajl_val tweets;          /* includes.tweets */
    struct es_strmap emitted; /* ids emitted from this response */
    /* Id indexes of the arrays looked up (users, tweets, data), built on
     * the first look: a page of n tweets costs n, not n squared. */
    struct {
        yajl_val arr;
        struct es_strmap map;
    } idx[3];
    es_item_cb emit;
    void *payload;
    struct x_source *s; /* stateful parse: collects roots; NULL otherwise */
    unsigned flags;     /* enum es_item_flags given to the data tweets */
};

/* Returns the element of array @arr whose "id" is @id, or NULL. */
static yajl_val find_by_id(struct x_conv *cv, yajl_val arr, const char *id)
{
    char buf[X_ID_MAX];
    if (!id || !es_json_is_array(arr))
        return NULL;
    size_t k = 0;
    while (k < 3 && cv->idx[k].arr && cv->idx[k].arr != arr)
        k++;
    if (k == 3) { /* not one of the three arrays of a response */
        for (size_t i = 0; i < es_json_len(arr); i++) {
            yajl_val el = es_json_at(arr, i);
            const char *eid = es_json_id(el, "id", buf, sizeof(buf));
            if (eid && strcmp(eid, id) == 0)
                return el;
        }
        return NULL;
    }
    if (!cv->idx[k].arr) {
        cv->idx[k].arr = arr;
        for (size_t i = 0; i < es_json_len(arr); i++) {
            yajl_val el = es_json_at(arr, i);
            const char *eid = es_json_id(el, "id", buf, sizeof(buf));
            /* The first of two elements with one id wins, as in a scan. */
            if (eid && !es_strmap_get(&cv->idx[k].map, eid, NULL))
                es_strmap_put(&cv->idx[k].map, eid, (void *)el);
        }
    }
    void *v = NULL;
    return es_strmap_get(&cv->idx[k].map, id, &v) ? (yajl_val)v : NULL;
}

/* The id that tweet @t references with @type ("replied_to", "retweeted",
 * "quoted"), copied into @out; NULL when it has none. */
static const char *referenced(yajl_val t, const char *type, char *out,
                              size_t size)
{
    yajl_val refs = es_json_get(t, "referenced_tweets");
    for (size_t i = 0; i < es_json_len(refs); i++) {
        yajl_val r = es_json_at(refs, i);
        const char *rt = es_json_str(r, "type");
        if (rt && strcmp(rt, type) == 0)
            return es_json_id(r, "id", out, size);
    }
    return NULL;
}

/* Copies the handle a retweet's text starts with ("RT @name: ...") into
 * @out: the original's author when includes.users lacks it. */
static const char *retweet_handle(const char *text, char *out, size_t size)
{
    size_t n = 0;
    if (!text || strncmp(text, "RT @", 4) != 0)
        return NULL;
    text += 4;
    while (n + 1 < size &&
           ((text[n] >= 'a' && text[n] <= 'z') ||
            (text[n] >= 'A' && text[n] <= 'Z') ||
            (text[n] >= '0' && text[n] <= '9') || text[n] == '_'))
        n++;
    if (n == 0 || text[n] != ':')
        return NULL;
    memcpy(out, text, n);
    out[n] = '\0';
    return out;
}

static int was_emitted(const struct x_conv *cv, const char *id)
{
    return es_strmap_get(&cv->emitted, id, NULL);
}

static void mark_emitted(struct x_conv *cv, const char *id)
{
    es_strmap_put(&cv->emitted, id, NULL);
}

/* The id of version @which of post @t's edit history: 0 the original,
 * -1 the newest; NULL when the history does not say. */
static const char *edit_version(yajl_val t, int which)
{
    yajl_val hist = es_json_get(t, "edit_history_tweet_ids");
    size_t n = es_json_len(hist);
    if (!n)
        return NULL;
    yajl_val v = es_json_at(hist, which < 0 ? n - 1 : (size_t)which);
    const char *s = v && YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
    return s && *s && strlen(s) < X_ID_MAX ? s : NULL;
}

/* The most link entities read per post: X sends one per link in the
 * text, a few at most. */
#define X_LINKS_MAX 32

/* Replaces each t.co link in @b with the address it stands for, from the
 * text's entities.urls: an agent reading the inbox sees where a post
 * points, not https://t.co/Qz5pWm1cXb. A link without expanded_url stays.
 * One pass over the text as X sent it: an address put in is never read
 * again (an expanded_url holding its own link twice once doubled the
 * text per entity, a 1.4 KB answer asking for terabytes). */
static void expand_links(struct es_buf *b, yajl_val urls)
{
    const char *from[X_LINKS_MAX], *to[X_LINKS_MAX];
    size_t flen[X_LINKS_MAX], nl = 0;
    if (!b->len)
        return;
    for (size_t i = 0; i < es_json_len(urls) && nl < X_LINKS_MAX; i++) {
        yajl_val u = es_json_at(urls, i);
        const char *f = es_json_str(u, "url");
        const char *t = es_json_str(u, "expanded_url");
        if (!f || !t || !*f || strcmp(f, t) == 0 || !strstr(b->ptr, f))
            continue;
        from[nl] = f;
        to[nl] = t;
        flen[nl++] = strlen(f);
    }
    if (!nl)
        return;
    struct es_buf out = ES_BUF_INIT;
    const char *p = b->ptr;
    while (*p) {
        size_t k;
        for (k = 0; k < nl; k++) {
            if (*p != *from[k] || strncmp(p, from[k], flen[k]) != 0)
                continue;
            /* Whole links only: t.co/abc is not the start of t.co/abcd. */
            unsigned char after = (unsigned char)p[flen[k]];
            if (!((after >= 'a' && after <= 'z') ||
                  (after >= 'A' && after <= 'Z') ||
                  (after >= '0' && after <= '9') || after == '/' ||
                  after == '_' || after == '-'))
                break;
        }
        if (k < nl) {
            es_buf_adds(&out, to[k]);
            p += flen[k];
        } else {
            es_buf_addch(&out, *p++);
        }
    }
    es_buf_release(b);
    *b = out;
}

/* The time an X id was made, for a response that did not ask for
 * created_at: ids since November 2010 are snowflakes, milliseconds since
 * X's epoch (1288834974657) above bit 22. ES_TIME_UNKNOWN for others. */
static int64_t snowflake_time(const char *id)
{
    if (!id || !*id || strlen(id) > 19 || id[strspn(id, "0123456789")])
        return ES_TIME_UNKNOWN;
    unsigned long long v = strtoull(id, NULL, 10);
    if (v < (1ULL << 52)) /* sequential ids, before snowflakes (< 3e10) */
        return ES_TIME_UNKNOWN;
    return (int64_t)(((v >> 22) + 1288834974657ULL) / 1000);
}

/* Fills @it from tweet @t. @handle names the author when includes.users
 * does not. Returns 0, or -1 when @t has no usable id. */
static int tweet_item(struct x_conv *cv, yajl_val t, const char *handle,
                      struct es_item *it)
{
    char id[X_ID_MAX], author_id[X_ID_MAX], ref[X_ID_MAX], conv[X_ID_MAX];
    long long followers;

    if (!es_json_id(t, "id", id, sizeof(id)))
        return -1;
    it->platform = es_xstrdup("x");
    it->source = es_xstrdup(cv->source);
    /* An edit is a new post with a new id, and edit_history_tweet_ids
     * lists every version, the original first. Stored under the
     * original's id, an edit updates the mention in place (marked edited)
     * rather than adding a second one; a reply goes to the newest
     * version, kept in reply_ref. */
    const char *orig = edit_version(t, 0);
    if (orig && strcmp(orig, id) != 0) {
        it->external_id = es_xstrdup(orig);
        struct es_buf newest = ES_BUF_INIT;
        es_buf_adds(&newest, "{\"id\":");
        es_json_add_str(&newest, id);
        es_buf_addch(&newest, '}');
        it->reply_ref = es_buf_detach(&newest);
    } else {
        it->external_id = es_xstrdup(id);
    }

    yajl_val user =
        find_by_id(cv, cv->users,
                   es_json_id(t, "author_id", author_id, sizeof(author_id)));
    const char *username = es_json_str(user, "username");
    if (!username)
        username = handle;
    es_json_set(&it->author, username);
    es_json_set(&it->author_name, es_json_str(user, "name"));
    if (es_json_int(es_json_get(user, "public_metrics"), "followers_count",
                    &followers) == 0 &&
        followers >= 0)
        it->author_followers = followers;
    it->url = username
                  ? es_xasprintf("https://x.com/%s/status/%s", username, id)
                  : es_xasprintf("https://x.com/i/web/status/%s", id);

    /* A long post's text is cut at 280 characters; note_tweet has all of
     * it. X escapes &, < and > in both. */
    yajl_val holder = es_json_get(t, "note_tweet");
    const char *text = es_json_str(holder, "text");
    if (!text) {
        holder = t;
        text = es_json_str(t, "text");
    }
    if (text) {
        struct es_buf b = ES_BUF_INIT;
        es_html_decode_entities(text, strlen(text), &b);
        expand_links(&b, es_json_get(es_json_get(holder, "entities"), "urls"));
        es_json_set_plain_text(&it->text, b.ptr, 0); /* white space collapsed */
        es_buf_release(&b);
        /* Hashtags are categories, as Mastodon's and Bluesky's tags are
         * (v2 names the tag "tag", v1.1 "text"). */
        yajl_val tags =
            es_json_get(es_json_get(holder, "entities"), "hashtags");
        for (size_t i = 0; i < es_json_len(tags); i++) {
            yajl_val tag = es_json_at(tags, i);
            const char *name = es_json_str(tag, "tag");
            if (!name)
                name = es_json_str(tag, "text");
            if (name && *name)
                es_item_add_category(it, name);
        }
    }
    it->created_at = es_json_time(t, "created_at");
    if (it->created_at == ES_TIME_UNKNOWN)
        it->created_at = snowflake_time(id);
    es_json_set(&it->lang, es_json_str(t, "lang"));
    it->kind = ES_KIND_POST;
    if (referenced(t, "replied_to", ref, sizeof(ref))) {
        it->kind = ES_KIND_REPLY;
        it->in_reply_to = es_xstrdup(ref);
    }
    if (es_json_id(t, "conversation_id", conv, sizeof(conv)) &&
        strcmp(conv, it->external_id) != 0 && strcmp(conv, id) != 0)
        it->thread_root = es_xstrdup(conv);
    return 0;
}

/* Emits tweet @t once per response. Returns 0, -1 for a tweet without an
 * id, or what emit returned. */
static int emit_tweet(struct x_conv *cv, yajl_val t, const char *handle)
{
    struct es_item it;
    char id[X_ID_MAX];

    if (!es_json_id(t, "id", id, sizeof(id)))
        return -1;
    if (was_emitted(cv, id))
        return 0;
    /* An earlier version of an edited post (a lookup, or the parent a
     * reply answered) would put the old text back over the new. */
    const char *newest = edit_version(t, -1);
    if (newest && strcmp(newest, id) != 0)
        return 0;
    es_item_init(&it);
    tweet_item(cv, t, handle, &it);
    it.flags = cv->flags;
    mark_emitted(cv, id);
    int rc = cv->emit(&it, cv->payload);
    es_item_release(&it);
    return rc;
}

/* Whether @id is anywhere in this response or already looked up. */
static int root_known(struct x_conv *cv, yajl_val data, const char *id)
{
    if (was_emitted(cv, id) || find_by_id(cv, cv->tweets, id))
        return 1;
    if (find_by_id(cv, data, id))
        return 1;
    for (size_t i = 0; i < cv->s->nlookup; i++)
        if (strcmp(cv->s->lookup[i], id) == 0)
            return 1;
    for (size_t i = 0; i < X_SEEN_MAX && cv->s->seen[i]; i++)
        if (strcmp(cv->s->seen[i], id) == 0)
            return 1;
    return 0;
}

/* Converts one entry of data: a retweet becomes its original when the
 * response holds it; with context, the parent follows its reply and an
 * absent root is queued for the lookup. */
static int convert_entry(struct x_conv *cv, yajl_val data, yajl_val t)
{
    char ref[X_ID_MAX], handle[32];

    if (!es_json_is_object(t))
        return -1;
    const char *rt = referenced(t, "retweeted", ref, sizeof(ref));
    yajl_val orig = find_by_id(cv, cv->tweets, rt);
    if (rt && !orig) {
        /* The original is gone (deleted, or its account protected): the
         * retweet's "RT @name: ..." is that post's words cut short, not
         * the retweeter's, and X's terms want deleted posts gone. */
        return 0;
    }
    if (orig) {
        const char *h =
            retweet_handle(es_json_str(t, "text"), handle, sizeof(handle));
        int rc = emit_tweet(cv, orig, h);
        if (rc != 0)
            return rc;
        t = orig;
    } else {
        int rc = emit_tweet(cv, t, NULL);
        if (rc != 0)
            return rc;
    }
    if (!cv->s || !cv->s->context)
        return 0;
    yajl_val parent = find_by_id(cv, cv->tweets,
                                 referenced(t, "replied_to", ref, sizeof(ref)));
    /* The parent comes along as the thread around the reply. */
    unsigned saved = cv->flags;
    cv->flags = ES_ITEM_CONTEXT;
    int prc = parent ? emit_tweet(cv, parent, NULL) : 0;
    cv->flags = saved;
    if (prc > 0)
        return 1;
    char id[X_ID_MAX], conv[X_ID_MAX];
    struct x_source *s = cv->s;
    const char *first = edit_version(t, 0);
    if (es_json_id(t, "id", id, sizeof(id)) &&
        es_json_id(t, "conversation_id", conv, sizeof(conv)) &&
        strcmp(conv, id) != 0 && !(first && strcmp(conv, first) == 0) &&
        s->nlookup < X_MAX_LOOKUP && !s->lookup_done &&
        !root_known(cv, data, conv)) {
        s->lookup = es_xrealloc(s->lookup, (s->nlookup + 1) * sizeof(char *));
        s->lookup[s->nlookup++] = es_xstrdup(conv);
    }
    return 0;
}

/* Emits the tweets of a parsed response: data is an array (search,
 * mentions, lookup) or one tweet (single lookup). Returns 0, what emit
 * returned, or ES_EPARSE naming the first malformed entry once the others
 * are emitted. */
static int convert(struct x_conv *cv, yajl_val root)
{
    yajl_val data = es_json_get(root, "data");
    yajl_val includes = es_json_get(root, "includes");
    int rc = 0;
    size_t bad = 0;
    int nbad = 0;

    cv->users = es_json_get(includes, "users");
    cv->tweets = es_json_get(includes, "tweets");
    if (es_json_is_object(data)) {
        rc = convert_entry(cv, NULL, data);
        if (rc < 0)
            return es_json_shape_error(cv->what, "$.data.id",
                                       "a tweet without an id");
        return rc;
    }
    for (size_t i = 0; i < es_json_len(data); i++) {
        rc = convert_entry(cv, data, es_json_at(data, i));
        if (rc > 0)
            return rc;
        if (rc < 0 && nbad++ == 0)
            bad = i;
    }
    if (nbad) {
        char path[64];
        snprintf(path, sizeof(path), "$.data[%zu]", bad);
        return es_json_shape_error(cv->what, path,
                                   nbad == 1 ? "a tweet without an id, skipped"
                                             : "tweets without an id, "
                                               "skipped");
    }
    return 0;
}

static void conv_release(struct x_conv *cv)
{
    es_strmap_clear(&cv->emitted);
    for (size_t k = 0; k < 3; k++) {
        es_strmap_clear(&cv->idx[k].map);
        cv->idx[k].arr = NULL;
    }
}

/* The error of a response that carries errors and nothing else. */
static int api_error(const char *what, yajl_val errors)
{
    yajl_val e = es_json_at(errors, 0);
    const char *title = es_json_str(e, "title");
    const char *detail = es_json_str(e, "detail");
    const char *type = es_json_str(e, "type");
    int code = ES_ERROR;

    if (!detail)
        detail = es_json_str(e, "message");
    if (type && strstr(type, "/resource-not-found"))
        code = ES_ENOTFOUND;
    else if (type && (strstr(type, "/not-authorized-for-resource") ||
                      strstr(type, "/client-forbidden") ||
                      strstr(type, "/unsupported-authentication")))
        code = ES_EAUTH;
    return es_error_set(code,
                        "%s: the API answered only errors at "
                        "$.errors[0]: %s%s%s",
                        what, title ? title : "", title && detail ? ": " : "",
                        detail ? detail : (title ? "" : "no detail"));
}

/* Checks the shape of a response. Returns 0 when it has tweets to read
 * (or is an empty page), else an error naming the path. */
static int check_shape(const char *what, yajl_val root)
{
    if (!es_json_is_object(root))
        return es_json_shape_error(what, "$",
                                   "expected an object with data, meta or "
                                   "errors");
    yajl_val data = es_json_get(root, "data");
    if (data && !es_json_is_array(data) && !es_json_is_object(data))
        return es_json_shape_error(what, "$.data",
                                   "expected a tweet or an array of tweets");
    /* /2/users answers look alike: a user has a username and no text, and
     * is no post (its id would make a link to no tweet). */
    yajl_val first = es_json_is_array(data) ? es_json_at(data, 0) : data;
    if (es_json_str(first, "username") && !es_json_get(first, "text"))
        return es_json_shape_error(what, "$.data",
                                   "users (a /2/users answer), not tweets");
    if (data || es_json_is_object(es_json_get(root, "meta")))
        return 0;
    yajl_val errors = es_json_get(root, "errors");
    if (es_json_len(errors) > 0)
        return api_error(what, errors);
    return es_json_shape_error(what, "$.data", "missing");
}

static int x_parse_any(const char *buf, size_t len,
                       const struct es_parse_opts *opts, es_item_cb emit,
                       void *payload)
{
    yajl_val root = NULL;
    struct x_conv cv = {
        .what = "x",
        .source = opts && opts->source ? opts->source : "x",
        .emit = emit,
        .payload = payload,
    };
    int rc = es_json_parse(&root, "x", buf, len);
    if (rc == 0)
        rc = check_shape("x", root);
    if (rc == 0)
        rc = convert(&cv, root);
    conv_release(&cv);
    es_json_free(root);
    return rc;
}

/* ==== The source ==== */

static void x_close(struct es_source *src)
{
    if (!src)
        return;
    struct x_source *s = (struct x_source *)src; /* base is first */
    for (int i = 0; i < X_NSTREAMS; i++) {
        free(s->st[i].since_id);
        free(s->st[i].newest);
        free(s->st[i].next);
    }
    for (size_t i = 0; i < s->nlookup; i++)
        free(s->lookup[i]);
    free(s->lookup);
    for (size_t i = 0; i < X_SEEN_MAX; i++)
        free(s->seen[i]);
    free(s->api);
    free(s->query);
    free(s->user_id);
    if (s->auth) {
        memset(s->auth, 0, strlen(s->auth));
        free(s->auth);
    }
    free(s->what);
    es_buf_release(&s->url);
    es_source__release_base(&s->base);
    free(s);
}

static int all_digits(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* Whether the rendered query @q has a term that is not negated: X
 * refuses a query made only of negations (-job -hiring). */
static int has_positive_term(const char *q)
{
    const char *p = q;
    while (*p) {
        if (*p == ' ' || *p == '(' || *p == ')') {
            p++;
        } else if (*p == '-') {
            /* Skip the negated operand: a phrase, a group or a word. */
            p++;
            if (*p == '"') {
                const char *end = strchr(p + 1, '"');
                p = end ? end + 1 : p + strlen(p);
            } else if (*p == '(') {
                int depth = 0, quoted = 0;
                for (; *p; p++) {
                    if (*p == '"')
                        quoted = !quoted;
                    else if (!quoted && *p == '(')
                        depth++;
                    else if (!quoted && *p == ')' && --depth == 0) {
                        p++;
                        break;
                    }
                }
            } else {
                p += strcspn(p, " ()");
            }
        } else if (strncmp(p, "OR", 2) == 0 &&
                   (p[2] == ' ' || p[2] == '(' || p[2] == '\0')) {
            p += 2;
        } else {
            return 1;
        }
    }
    return 0;
}

static int x_open(struct es_source **out, const struct es_config_source *cfg)
{
    *out = NULL;
    struct x_source *s = es_xcalloc(1, sizeof(*s));
    int rc = es_source__init_base(&s->base, &es_source_x_ops, cfg);
    if (rc != 0) {
        free(s);
        return rc;
    }
    es_buf_init(&s->url);
    s->inflight = X_SEARCH;

    if (!s->base.token || !*s->base.token) {
        rc = es_error_set(ES_EINVALID,
                          "%s:%d: [source \"%s\"] needs a bearer token "
                          "(token or token_file)",
                          cfg->file, cfg->line, cfg->name);
        goto fail;
    }
    int mentions = es_config_source_bool(cfg, "mentions", 0);
    const char *user_id = es_config_source_get(cfg, "user_id");
    if (mentions && (!user_id || !*user_id)) {
        rc = es_error_set(ES_EINVALID,
                          "%s:%d: [source \"%s\"] mentions = yes needs "
                          "user_id (the account's numeric id)",
                          cfg->file, cfg->line, cfg->name);
        goto fail;
    }
    if (mentions && !all_digits(user_id)) {
        rc = es_error_set(ES_EINVALID,
                          "%s:%d: [source \"%s\"] user_id '%s' is not a "
                          "numeric X user id",
                          cfg->file, cfg->line, cfg->name, user_id);
        goto fail;
    }
    if (s->base.query) {
        s->query = es_query_render(s->base.query, ES_QUERY_STYLE_BOOLEAN);
        if (s->query && !has_positive_term(s->query)) {
            /* Nothing to search for (only negations): X needs a term. */
            free(s->query);
            s->query = NULL;
        }
    }
    if (!s->query && !mentions) {
        rc = es_error_set(ES_EINVALID,
                          "%s:%d: [source \"%s\"] needs a query with a "
                          "term to search for, or mentions = yes",
                          cfg->file, cfg->line, cfg->name);
        goto fail;
    }
    if (mentions)
        s->user_id = es_xstrdup(user_id);
    s->st[X_SEARCH].enabled = s->query != NULL;
    s->st[X_MENTIONS].enabled = mentions;
    s->context = es_config_source_bool(cfg, "context", 1);
    const char *mp = es_config_source_get(cfg, "max_pages");
    s->max_pages = mp ? atoi(mp) : X_DEFAULT_PAGES;
    if (s->max_pages < 1)
        s->max_pages = X_DEFAULT_PAGES;

    const char *api = s->base.base_url && *s->base.base_url ? s->base.base_url
                                                            : X_DEFAULT_BASE;
    size_t n = es_url_trim_len(api);
    s->api = es_xstrndup(api, n);
    s->auth = es_xasprintf("Authorization: Bearer %s", s->base.token);
    s->what = es_xasprintf("x '%s'", cfg->name);
    *out = &s->base;
    return 0;

fail:
    x_close(&s->base);
    return rc;
}

static void stream_reset(struct x_stream *st)
{
    free(st->since_id);
    free(st->newest);
    free(st->next);
    st->since_id = st->newest = st->next = NULL;
}

/* Reads one stream's state from the stored cursor; anything malformed is
 * dropped, as if never stored. */
static void stream_load(struct x_stream *st, yajl_val obj)
{
    char id[X_ID_MAX];
    if (es_json_id(obj, "since_id", id, sizeof(id)) && all_digits(id))
        st->since_id = es_xstrdup(id);
    if (es_json_id(obj, "newest", id, sizeof(id)) && all_digits(id))
        st->newest = es_xstrdup(id);
    const char *next = es_json_str(obj, "next");
    if (next && *next && st->newest)
        st->next = es_xstrdup(next);
    if (!st->next) {
        free(st->newest);
        st->newest = NULL;
    }
}

static void x_begin(struct es_source *src, const char *cursor)
{
    struct x_source *s = (struct x_source *)src;
    yajl_val root = NULL;

    for (int i = 0; i < X_NSTREAMS; i++) {
        struct x_stream *st = &s->st[i];
        stream_reset(st);
        st->pages = 0;
        st->retried = 0;
        st->done = !st->enabled;
    }
    for (size_t i = 0; i < s->nlookup; i++)
        free(s->lookup[i]);
    free(s->lookup);
    s->lookup = NULL;
    s->nlookup = 0;
    s->lookup_done = 0;
    if (cursor && *cursor &&
        es_json_parse(&root, "x cursor", cursor, strlen(cursor)) == 0) {
        for (int i = 0; i < X_NSTREAMS; i++)
            if (s->st[i].enabled)
                stream_load(&s->st[i], es_json_get(root, stream_key[i]));
    }
    es_json_free(root);
    es_error_clear();
}

/* Whether request() has something left to fetch in this poll. */
static int has_work(const struct x_source *s)
{
    for (int i = 0; i < X_NSTREAMS; i++)
        if (!s->st[i].done)
            return 1;
    return s->context && !s->lookup_done && s->nlookup > 0;
}

static int x_request(struct es_source *src, struct es_source_request *req)
{
    struct x_source *s = (struct x_source *)src;

    memset(req, 0, sizeof(*req));
    es_buf_reset(&s->url);
    for (int i = 0; i < X_NSTREAMS; i++) {
        struct x_stream *st = &s->st[i];
        if (st->done)
            continue;
        if (i == X_SEARCH) {
            es_buf_addf(&s->url, "%s/2/tweets/search/recent", s->api);
            es_url_add_param(&s->url, "query", s->query);
        } else {
            es_buf_addf(&s->url, "%s/2/users/", s->api);
            es_url_add_escaped(&s->url, s->user_id);
            es_buf_adds(&s->url, "/mentions");
        }
        es_buf_adds(&s->url, i == X_SEARCH ? "&" : "?");
        es_buf_adds(&s->url, "max_results=100&" X_FIELDS);
        es_url_add_param(&s->url, "since_id", st->since_id);
        es_url_add_param(&s->url,
                         i == X_SEARCH ? "next_token" : "pagination_token",
                         st->next);
        s->inflight = i;
        req->url = s->url.ptr;
        req->headers[0] = s->auth;
        return 0;
    }
    if (s->context && !s->lookup_done && s->nlookup > 0) {
        es_buf_addf(&s->url, "%s/2/tweets?ids=", s->api);
        for (size_t i = 0; i < s->nlookup; i++) {
            if (i)
                es_buf_adds(&s->url, "%2C");
            es_url_add_escaped(&s->url, s->lookup[i]);
            /* Each root is asked for once per process. */
            free(s->seen[s->seen_pos]);
            s->seen[s->seen_pos] = es_xstrdup(s->lookup[i]);
            s->seen_pos = (s->seen_pos + 1) % X_SEEN_MAX;
        }
        es_buf_adds(&s->url, "&" X_FIELDS);
        s->lookup_done = 1;
        s->inflight = X_LOOKUP;
        req->url = s->url.ptr;
        req->headers[0] = s->auth;
        return 0;
    }
    return ES_EUNCHANGED;
}

/* Returns the whole cursor to store (see the top of the file). */
static char *build_cursor(const struct x_source *s)
{
    struct es_buf b = ES_BUF_INIT;
    int first = 1;

    es_buf_addch(&b, '{');
    for (int i = 0; i < X_NSTREAMS; i++) {
        const struct x_stream *st = &s->st[i];
        if (!st->enabled || (!st->since_id && !st->next))
            continue;
        if (!first)
            es_buf_addch(&b, ',');
        first = 0;
        es_json_add_str(&b, stream_key[i]);
        es_buf_addch(&b, ':');
        es_buf_addch(&b, '{');
        int f = 1;
        const char *keys[] = { "since_id", "newest", "next" };
        const char *vals[] = { st->since_id, st->next ? st->newest : NULL,
                               st->next };
        for (int k = 0; k < 3; k++) {
            if (!vals[k])
                continue;
            if (!f)
                es_buf_addch(&b, ',');
            f = 0;
            es_json_add_str(&b, keys[k]);
            es_buf_addch(&b, ':');
            es_json_add_str(&b, vals[k]);
        }
        es_buf_addch(&b, '}');
    }
    es_buf_addch(&b, '}');
    return es_buf_detach(&b);
}

/* Moves stream @st past the page whose meta is @meta. */
static void stream_advance(const struct x_source *s, struct x_stream *st,
                           yajl_val meta)
{
    char id[X_ID_MAX];
    const char *next = es_json_str(meta, "next_token");

    st->pages++;
    if (!st->newest && es_json_id(meta, "newest_id", id, sizeof(id)) &&
        all_digits(id))
        st->newest = es_xstrdup(id);
    free(st->next);
    st->next = NULL;
    /* The first pass of a stream stops at max_pages: there is no
     * since_id to page back to, only the whole search window. */
    int complete =
        !next || !*next || (!st->since_id && st->pages >= s->max_pages);
    if (complete) {
        if (st->newest) {
            free(st->since_id);
            st->since_id = st->newest;
            st->newest = NULL;
        }
        st->done = 1;
        return;
    }
    st->next = es_xstrdup(next);
    if (!st->newest) {
        /* A page with more to come but no newest_id: nothing to raise
         * the mark to; keep paging from the old one. */
        st->newest = st->since_id ? es_xstrdup(st->since_id) : NULL;
        if (!st->newest) {
            free(st->next);
            st->next = NULL;
            st->done = 1;
            return;
        }
    }
    if (st->pages >= s->max_pages)
        st->done = 1;
}

static int x_parse(struct es_source *src, const struct es_source_response *res,
                   struct es_source_page *page, es_item_cb emit, void *payload)
{
    struct x_source *s = (struct x_source *)src;
    yajl_val root = NULL;
    struct x_conv cv = {
        .what = s->what,
        .source = src->name,
        .emit = emit,
        .payload = payload,
        .s = s,
    };
    int rc = es_json_parse(&root, s->what, res->body, res->len);
    if (rc != 0)
        goto done;
    if (s->inflight == X_LOOKUP && !es_json_get(root, "data") &&
        es_json_len(es_json_get(root, "errors")) > 0) {
        /* Every root was deleted or protected: no context, no failure. */
        page->more = has_work(s);
        goto done;
    }
    rc = check_shape(s->what, root);
    if (rc != 0)
        goto done;
    cv.flags = s->inflight == X_MENTIONS ? ES_ITEM_DIRECT
               : s->inflight == X_LOOKUP ? ES_ITEM_CONTEXT
                                         : 0;
    rc = convert(&cv, root);
    if (rc > 0)
        goto done;
    if (s->inflight < X_NSTREAMS) {
        stream_advance(s, &s->st[s->inflight], es_json_get(root, "meta"));
        page->cursor = build_cursor(s);
    }
    page->more = has_work(s);

done:
    conv_release(&cv);
    es_json_free(root);
    return rc;
}

/* A 400 naming since_id (older than the search window) or the page token
 * (expired, or the query changed) restarts that stream once; a failed
 * context lookup is dropped. */
static int x_failed(struct es_source *src, const struct es_source_response *res)
{
    struct x_source *s = (struct x_source *)src;
    yajl_val root = NULL;
    int again = 0;

    /* Context is a bonus: its failure must not fail the poll whose
     * pages were stored already. */
    if (s->inflight == X_LOOKUP)
        return 1;
    if (res->http_code != 400)
        return 0;
    struct x_stream *st = &s->st[s->inflight];
    if (st->retried || !res->body || !res->len)
        return 0;
    char *saved = es_xstrdup(es_error_last());
    if (es_json_parse(&root, s->what, res->body, res->len) == 0) {
        yajl_val errors = es_json_get(root, "errors");
        for (size_t i = 0; i < es_json_len(errors); i++) {
            yajl_val p = es_json_get(es_json_at(errors, i), "parameters");
            if (es_json_get(p, "since_id") && st->since_id) {
                stream_reset(st);
                again = 1;
            } else if ((es_json_get(p, "next_token") ||
                        es_json_get(p, "pagination_token")) &&
                       st->next) {
                free(st->next);
                free(st->newest);
                st->next = st->newest = NULL;
                again = 1;
            }
        }
    }
    es_json_free(root);
    es_error_set(ES_ERROR, "%s", saved);
    free(saved);
    if (again) {
        st->retried = 1;
        st->pages = 0;
    }
    return again;
}

const struct es_source_ops es_source_x_ops = {
    .name = "x",
    .flags = ES_SOURCE_NEEDS_AUTH | ES_SOURCE_HAS_SEARCH,
    .default_interval_s = 900,
    .open = x_open,
    .begin = x_begin,
    .request = x_request,
    .parse = x_parse,
    .failed = x_failed,
    .parse_any = x_parse_any,
    .close = x_close,
};
