/* source_hackernews.c - the "hackernews" source kind: Algolia's HN search
 *
 * Hacker News has no search of its own; Algolia's public API does, sorted
 * by date: /api/v1/search_by_date?query=Q&tags=(story,comment)
 * &numericFilters=created_at_i>X. The listening query is rendered as
 * plain keywords; a query with alternatives no single plain search can
 * express (acme OR acmecloud) becomes one search per alternative, each
 * with its own created_at_i mark in the JSON cursor ({"acme":1714000000}),
 * and a query with nothing to push (or too many alternatives) reads every
 * new story and comment, which the local filter narrows.
 *
 * Results come newest first, so a poll reads page 0, then walks back from
 * the last page towards page 1: once pages N-1..k are stored, everything
 * older than page k's newest hit is, and the mark can move there even if
 * the poll stops half-way. Algolia serves only the first 1000 hits of a
 * search; a bigger backlog is read in a time window (created_at_i <= U)
 * small enough to be served whole. Comments whose story is not in the page
 * get their thread (/api/v1/items/ID, the whole tree) fetched as context.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/query.h"
#include "earshot/source.h"
#include "html.h"
#include "json.h"
#include "stream.h"
#include "url.h"

/* Defined at the bottom; registry.c refers to it. */
extern const struct es_source_ops es_source_hackernews_ops;

#define DEFAULT_BASE      "https://hn.algolia.com"
#define ITEM_URL          "https://news.ycombinator.com/item?id="
#define HITS_PER_PAGE     100
#define MAX_SEARCHES      4   /* more alternatives than this: read everything */
#define BROAD_KEY         "*" /* the cursor's name for the unnarrowed search */
#define INDEX_LAG         120 /* seconds: hits indexed late are read again */
#define DEFAULT_MAX_PAGES 5

enum phase { PH_FIRST, PH_BACK, PH_DONE };

/* One plain search and where it stands. */
struct search {
    char *q;          /* plain query; "" reads everything */
    int64_t stored;   /* created_at_i up to which all is stored; -1: none */
    int64_t from;     /* this poll's lower bound (created_at_i > from) */
    int64_t newest;   /* newest hit read in this poll; -1: none */
    int64_t upper;    /* window: created_at_i <= upper; 0: none */
    long long nbhits; /* nbHits of this walk's page 0 */
    long long nbpages;
    long long page; /* the page to request */
    int pages;      /* pages read in this poll */
    int narrowed;   /* windows tried in this poll */
    enum phase phase;
};

enum inflight { RQ_NONE, RQ_SEARCH, RQ_CONTEXT };

struct hn_source {
    struct es_source base; /* must stay first */
    struct search *searches;
    size_t nsearches;
    size_t cur;
    int steps; /* requests made in this poll */
    int context;
    int max_pages;
    enum inflight inflight;

    struct es_ctxq ctx; /* threads wanted as context */

    struct es_buf url;
    struct es_buf cursor;
};

/* ==== String lists ==== */

/* ==== Hits and items to es_items ==== */

struct walk {
    const char *source;
    es_item_cb emit;
    void *payload;
    int rc;
    int64_t newest;      /* newest created_at_i of the body; -1: none */
    size_t hits;         /* hits read */
    struct hn_source *s; /* NULL in parse_any */
    unsigned flags;      /* enum es_item_flags given to every item */
    char **stories;      /* stories seen in this body */
    size_t nstories;
    char **wanted; /* stories of matching comments: context candidates */
    size_t nwanted;
    char root[32]; /* the story an item tree hangs from; "" for a search */
};

static void walk_release(struct walk *w)
{
    es_strv_free(w->stories, w->nstories);
    es_strv_free(w->wanted, w->nwanted);
    w->stories = w->wanted = NULL;
    w->nstories = w->nwanted = 0;
}

/* Whether the _tags array of @hit holds @tag. */
static int has_tag(yajl_val hit, const char *tag)
{
    yajl_val tags = es_json_get(hit, "_tags");
    for (size_t i = 0; i < es_json_len(tags); i++) {
        yajl_val t = es_json_at(tags, i);
        if (t && YAJL_IS_STRING(t) && strcmp(t->u.string, tag) == 0)
            return 1;
    }
    return 0;
}

/* A hit's time; one past the year 5000 is no time (a window's arithmetic
 * on it must not overflow). The official Firebase API's items
 * (/v0/item/ID.json), which `earshot parse` also reads, give "time". */
static int64_t hit_time(yajl_val v)
{
    long long t;
    if (es_json_int(v, "created_at_i", &t) == 0 && t > 0)
        return t < 100000000000LL ? t : ES_TIME_UNKNOWN;
    if (es_json_int(v, "time", &t) == 0 && t > 0)
        return t < 100000000000LL ? t : ES_TIME_UNKNOWN;
    int64_t iso = es_json_time(v, "created_at");
    return iso < 100000000000LL ? iso : ES_TIME_UNKNOWN;
}

/* A link story has no text: its title is the mention. The address it
 * links to is kept as its content, a link, so that a query for the
 * brand's domain matches it and an agent sees where it points. */
static void set_link_content(struct es_item *it, const char *url)
{
    if (!url ||
        (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0))
        return;
    struct es_buf b = ES_BUF_INIT;
    es_buf_adds(&b, "<a href=\"");
    es_html_add_escaped(&b, url, strlen(url));
    es_buf_adds(&b, "\">");
    es_html_add_escaped(&b, url, strlen(url));
    es_buf_adds(&b, "</a>");
    free(it->content);
    it->content = es_buf_detach(&b);
}

/* Fills @it from a search hit or an item-tree node @v. Returns 1 to emit,
 * 0 to skip (deleted: no author and no text, or no id). */
static int hn_to_item(yajl_val v, const char *source, struct es_item *it)
{
    char id[32], num[32];
    es_item_release(it);
    if (!es_json_id(v, "objectID", id, sizeof(id)) &&
        !es_json_id(v, "id", id, sizeof(id)))
        return 0;

    const char *type = es_json_str(v, "type"); /* item trees */
    int comment;
    if (type)
        comment = strcmp(type, "comment") == 0;
    else if (has_tag(v, "comment"))
        comment = 1;
    else if (has_tag(v, "story") || has_tag(v, "poll") || has_tag(v, "job"))
        comment = 0;
    else /* a node with a parent answers it (the API docs' item tree) */
        comment = es_json_str(v, "comment_text") != NULL ||
                  es_json_get(v, "parent_id") || es_json_get(v, "parent");

    const char *html = es_json_str(v, comment ? "comment_text" : "story_text");
    if (!html)
        html = es_json_str(v, "text");
    const char *author = es_json_str(v, "author");
    if (!author)
        author = es_json_str(v, "by"); /* Firebase */
    const char *title = comment ? NULL : es_json_str(v, "title");
    if (!author && !html && !title)
        return 0;

    it->platform = es_xstrdup("hackernews");
    it->source = es_xstrdup(source);
    it->external_id = es_xstrdup(id);
    it->url = es_xasprintf("%s%s", ITEM_URL, id);
    es_json_set(&it->author, author);
    es_json_set(&it->title, title);
    if (html && *html) {
        es_json_set_html_text(&it->text, html);
        es_json_set(&it->content, html);
    } else if (!comment) {
        set_link_content(it, es_json_str(v, "url"));
    }
    it->created_at = hit_time(v);
    it->kind = comment ? ES_KIND_COMMENT : ES_KIND_POST;
    if (comment) {
        if (es_json_id(v, "parent_id", num, sizeof(num)) ||
            es_json_id(v, "parent", num, sizeof(num)))
            es_json_set(&it->in_reply_to, num);
        if (es_json_id(v, "story_id", num, sizeof(num)))
            es_json_set(&it->thread_root, num);
    }
    return 1;
}

/* Emits one hit or node, and with @recurse the replies nested in it (the
 * JSON depth limit bounds the recursion). */
static void walk_node(struct walk *w, yajl_val v, int recurse)
{
    if (!es_json_is_object(v) || w->rc)
        return;
    w->hits++;
    int64_t t = hit_time(v);
    if (t != ES_TIME_UNKNOWN && t > w->newest)
        w->newest = t;

    struct es_item it;
    es_item_init(&it);
    if (hn_to_item(v, w->source, &it)) {
        /* In an item tree, every comment is in the root story's thread,
         * whether or not the node says so (the API docs' example does
         * not). */
        if (it.kind == ES_KIND_COMMENT && !it.thread_root && w->root[0])
            it.thread_root = es_xstrdup(w->root);
        if (it.kind == ES_KIND_POST &&
            !es_strv_has(w->stories, w->nstories, it.external_id))
            es_strv_add(&w->stories, &w->nstories, it.external_id);
        if (w->s && it.kind == ES_KIND_COMMENT && it.thread_root &&
            es_source_matches(&w->s->base, &it) &&
            !es_strv_has(w->wanted, w->nwanted, it.thread_root))
            es_strv_add(&w->wanted, &w->nwanted, it.thread_root);
        it.flags = w->flags;
        w->rc = w->emit(&it, w->payload);
    }
    es_item_release(&it);

    /* Item trees nest their replies; a search hit's "children" are ids. */
    yajl_val children = es_json_get(v, "children");
    for (size_t i = 0; recurse && i < es_json_len(children) && !w->rc; i++)
        walk_node(w, es_json_at(children, i), 1);
}

/* Walks a search result {"hits": [...], "page": ..., "nbPages": ...}. */
static int walk_search(struct walk *w, yajl_val root)
{
    yajl_val hits = es_json_get(root, "hits");
    if (!es_json_is_array(hits))
        return es_json_shape_error("hackernews", "$.hits",
                                   "expected an array of hits");
    for (size_t i = 0; i < es_json_len(hits) && !w->rc; i++)
        walk_node(w, es_json_at(hits, i), 0);
    return w->rc;
}

static int is_item_tree(yajl_val root)
{
    yajl_val id = es_json_get(root, "id");
    return id && YAJL_IS_NUMBER(id) &&
           (es_json_str(root, "type") || es_json_get(root, "children"));
}

static int walk_body(struct walk *w, yajl_val root)
{
    if (es_json_is_object(root) && es_json_get(root, "hits"))
        return walk_search(w, root);
    if (es_json_is_object(root) && is_item_tree(root)) {
        yajl_val children = es_json_get(root, "children");
        if (children && !es_json_is_array(children))
            return es_json_shape_error("hackernews", "$.children",
                                       "expected an array of items");
        char id[32];
        if (!es_json_get(root, "parent_id") && !es_json_get(root, "parent") &&
            es_json_id(root, "id", id, sizeof(id)))
            memcpy(w->root, id, sizeof(id));
        walk_node(w, root, 1);
        return w->rc;
    }
    return es_json_shape_error("hackernews", "$",
                               "expected a search result or an item tree");
}

static int hn_parse_any(const char *buf, size_t len,
                        const struct es_parse_opts *opts, es_item_cb emit,
                        void *payload)
{
    yajl_val root = NULL;
    struct walk w = {
        .source = opts && opts->source ? opts->source : "hackernews",
        .emit = emit,
        .payload = payload,
        .newest = -1,
    };
    int rc = es_json_parse(&root, "hackernews", buf, len);
    if (rc == 0)
        rc = walk_body(&w, root);
    walk_release(&w);
    es_json_free(root);
    return rc;
}

/* ==== Open and close ==== */

static void hn_close(struct es_source *src)
{
    if (!src)
        return;
    struct hn_source *s = (struct hn_source *)src; /* base is first */
    for (size_t i = 0; i < s->nsearches; i++)
        free(s->searches[i].q);
    free(s->searches);
    es_ctxq_release(&s->ctx);
    es_buf_release(&s->url);
    es_buf_release(&s->cursor);
    es_source__release_base(&s->base);
    free(s);
}

static void add_search(struct hn_source *s, const char *q)
{
    for (size_t i = 0; i < s->nsearches; i++)
        if (strcmp(s->searches[i].q, q) == 0)
            return;
    s->searches =
        es_xrealloc(s->searches, (s->nsearches + 1) * sizeof(*s->searches));
    struct search *se = &s->searches[s->nsearches++];
    memset(se, 0, sizeof(*se));
    se->q = es_xstrdup(q);
    se->stored = se->newest = -1;
}

/* Turns the listening query into plain searches (see the top). */
static void plan_searches(struct hn_source *s)
{
    if (!s->base.query) {
        add_search(s, "");
        return;
    }
    char *plain = es_query_render(s->base.query, ES_QUERY_STYLE_PLAIN);
    if (plain) {
        add_search(s, plain);
        free(plain);
        return;
    }
    char **alts = NULL;
    int broad = 1;
    if (es_query_alternatives(s->base.query, MAX_SEARCHES, &alts) == 0) {
        broad = 0;
        /* A "" alternative covers everything: then read it all. */
        for (size_t i = 0; alts[i]; i++)
            if (!*alts[i])
                broad = 1;
        for (size_t i = 0; !broad && alts[i]; i++)
            add_search(s, alts[i]);
    }
    es_query_alternatives_free(alts);
    es_error_clear();
    if (broad || s->nsearches == 0)
        add_search(s, "");
}

static int hn_open(struct es_source **out, const struct es_config_source *cfg)
{
    *out = NULL;
    struct hn_source *s = es_xcalloc(1, sizeof(*s));
    es_buf_init(&s->url);
    es_buf_init(&s->cursor);
    int rc = es_source__init_base(&s->base, &es_source_hackernews_ops, cfg);
    if (rc != 0) {
        free(s);
        return rc;
    }
    s->context = es_config_source_bool(cfg, "context", 1);
    s->max_pages = DEFAULT_MAX_PAGES;
    const char *mp = es_config_source_get(cfg, "max_pages");
    if (mp && atoi(mp) >= 1)
        s->max_pages = atoi(mp);
    /* Page 0 and at least one page walked back, or a backlog of more
     * than a page would never move the mark. */
    if (s->max_pages < 2)
        s->max_pages = 2;
    plan_searches(s);
    *out = &s->base;
    return 0;
}

/* ==== Polling ==== */

/* The cursor key of search @se. */
static const char *search_key(const struct search *se)
{
    return *se->q ? se->q : BROAD_KEY;
}

static char *make_cursor(struct hn_source *s)
{
    struct es_buf *b = &s->cursor;
    es_buf_reset(b);
    es_buf_addch(b, '{');
    for (size_t i = 0; i < s->nsearches; i++) {
        const struct search *se = &s->searches[i];
        if (se->stored >= 0)
            es_json_add_member_int(b, search_key(se), se->stored);
    }
    es_buf_addch(b, '}');
    return es_xstrdup(b->ptr);
}

static void hn_begin(struct es_source *src, const char *cursor)
{
    struct hn_source *s = (struct hn_source *)src;
    yajl_val root = NULL;

    s->cur = 0;
    s->steps = 0;
    s->ctx.polled = 0;
    s->inflight = RQ_NONE;
    for (size_t i = 0; i < s->nsearches; i++) {
        struct search *se = &s->searches[i];
        se->stored = se->newest = -1;
        se->from = INT64_MIN;
        se->upper = 0;
        se->nbhits = se->nbpages = se->page = 0;
        se->pages = se->narrowed = 0;
        se->phase = PH_FIRST;
    }
    /* A cursor that does not parse is ignored: as if never polled. */
    if (!cursor || es_json_parse(&root, "hackernews cursor", cursor,
                                 strlen(cursor)) != 0) {
        es_error_clear();
        return;
    }
    for (size_t i = 0; i < s->nsearches; i++) {
        long long v;
        struct search *se = &s->searches[i];
        if (es_json_int(root, search_key(se), &v) == 0 && v >= 0) {
            se->stored = v;
            /* Fixed for the poll: the walk's pages must not move. */
            se->from = v - INDEX_LAG;
        }
    }
    es_json_free(root);
}

static void url_start(struct hn_source *s, const char *path)
{
    const char *host =
        s->base.base_url && *s->base.base_url ? s->base.base_url : DEFAULT_BASE;
    size_t n = es_url_trim_len(host);
    es_buf_reset(&s->url);
    es_buf_add(&s->url, host, n);
    es_buf_adds(&s->url, path);
}

static void search_url(struct hn_source *s, const struct search *se)
{
    char num[96];
    url_start(s, "/api/v1/search_by_date");
    if (*se->q)
        es_url_add_param(&s->url, "query", se->q);
    es_url_add_param(&s->url, "tags", "(story,comment)");
    if (se->from != INT64_MIN) {
        int64_t floor = se->from;
        if (se->upper)
            snprintf(num, sizeof(num), "created_at_i>%lld,created_at_i<=%lld",
                     (long long)floor, (long long)se->upper);
        else
            snprintf(num, sizeof(num), "created_at_i>%lld", (long long)floor);
        es_url_add_param(&s->url, "numericFilters", num);
    }
    snprintf(num, sizeof(num), "%d", HITS_PER_PAGE);
    es_url_add_param(&s->url, "hitsPerPage", num);
    snprintf(num, sizeof(num), "%lld", se->page);
    es_url_add_param(&s->url, "page", num);
}

static int hn_request(struct es_source *src, struct es_source_request *req)
{
    struct hn_source *s = (struct hn_source *)src;

    memset(req, 0, sizeof(*req));
    s->inflight = RQ_NONE;
    while (s->cur < s->nsearches && s->searches[s->cur].phase == PH_DONE)
        s->cur++;
    if (s->cur < s->nsearches) {
        search_url(s, &s->searches[s->cur]);
        s->inflight = RQ_SEARCH;
    } else if (s->context && es_ctxq_ready(&s->ctx)) {
        char *story = es_ctxq_pop(&s->ctx);
        char path[64];
        snprintf(path, sizeof(path), "/api/v1/items/%s", story);
        url_start(s, path);
        free(story);
        s->inflight = RQ_CONTEXT;
    } else {
        return ES_EUNCHANGED;
    }
    req->url = s->url.ptr;
    req->headers[0] = "Accept: application/json";
    s->steps++;
    return 0;
}

static int has_more(const struct hn_source *s)
{
    if (s->steps >= ES_POLL_MAX_STEPS)
        return 0;
    for (size_t i = s->cur; i < s->nsearches; i++)
        if (s->searches[i].phase != PH_DONE)
            return 1;
    return s->context && es_ctxq_ready(&s->ctx);
}

static void queue_context(struct hn_source *s, const struct walk *w)
{
    if (!s->context)
        return;
    for (size_t i = 0; i < w->nwanted; i++) {
        const char *story = w->wanted[i];
        if (es_strv_has(w->stories, w->nstories, story) || strlen(story) > 20 ||
            strspn(story, "0123456789") != strlen(story))
            continue;
        es_ctxq_want(&s->ctx, story);
    }
}

/* Ends search @se for this poll with everything up to @mark stored. */
static void finish(struct search *se, int64_t mark)
{
    if (mark > se->stored)
        se->stored = mark;
    se->phase = PH_DONE;
}

/* Moves search @se on after a page (see the top of the file). @budget:
 * whether another request of this search fits in the poll. */
static void advance(struct hn_source *s, struct search *se, yajl_val root,
                    const struct walk *w, int budget)
{
    long long page = -1, nbpages = 0, nbhits = 0, hpp = HITS_PER_PAGE;
    es_json_int(root, "page", &page);
    es_json_int(root, "nbPages", &nbpages);
    es_json_int(root, "nbHits", &nbhits);
    es_json_int(root, "hitsPerPage", &hpp);
    /* Algolia serves 1,000 hits at most, so no more pages nor hits to a
     * page: counts beyond are a broken answer, bounded (nbpages * hpp
     * once overflowed). */
    if (hpp <= 0 || hpp > 1000)
        hpp = HITS_PER_PAGE;
    if (nbpages < 0 || nbpages > 1000)
        nbpages = 1000;
    if (nbhits < 0)
        nbhits = 0;
    se->pages++;

    if (se->phase == PH_FIRST) {
        if (!se->upper && w->newest > se->newest)
            se->newest = w->newest;
        if (se->stored < 0) {
            /* Never polled: the latest page is where listening starts. */
            finish(se, se->newest);
            return;
        }
        int64_t floor = se->from;
        int64_t top = se->upper ? se->upper : se->newest;
        if (nbhits > nbpages * hpp && top > floor + 1) {
            /* More than Algolia serves: narrow the window, aiming at half
             * of what it serves, and read that first. */
            if (!budget || se->narrowed >= 3) {
                se->phase = PH_DONE; /* the next poll tries again */
                return;
            }
            double part = (double)(nbpages * hpp) / (2.0 * (double)nbhits);
            int64_t span = (int64_t)((double)(top - floor) * part);
            se->upper = floor + (span > 1 ? span : 1);
            se->narrowed++;
            se->page = 0;
            return;
        }
        if (nbpages <= 1) {
            finish(se, se->upper ? se->upper : se->newest);
            return;
        }
        se->nbhits = nbhits;
        se->nbpages = nbpages;
        se->page = nbpages - 1;
        se->phase = PH_BACK;
        if (!budget || se->pages >= s->max_pages)
            se->phase = PH_DONE;
        return;
    }

    /* Walking back: a page is only trusted while nothing moved the pages
     * since page 0 (a new hit shifts every later page by one). */
    if (page != se->page || nbhits != se->nbhits || nbpages != se->nbpages) {
        se->phase = PH_DONE;
        return;
    }
    if (w->newest > 0 && w->newest - 1 > se->stored)
        se->stored = w->newest - 1;
    se->page--;
    if (se->page <= 0) {
        finish(se, se->upper ? se->upper : se->newest);
        return;
    }
    if (!budget || se->pages >= s->max_pages)
        se->phase = PH_DONE;
}

static int hn_parse(struct es_source *src, const struct es_source_response *res,
                    struct es_source_page *page, es_item_cb emit, void *payload)
{
    struct hn_source *s = (struct hn_source *)src;
    yajl_val root = NULL;
    char what[300];
    enum inflight inflight = s->inflight;
    struct walk w = {
        .source = s->base.name,
        .emit = emit,
        .payload = payload,
        .newest = -1,
        .s = s,
    };
    int rc;

    s->inflight = RQ_NONE;
    snprintf(what, sizeof(what), "hackernews '%s'", s->base.name);
    rc = es_json_parse(&root, what, res->body, res->len);
    if (rc != 0)
        goto done;
    if (inflight == RQ_SEARCH && s->cur < s->nsearches) {
        if (!es_json_is_object(root))
            rc = es_json_shape_error("hackernews", "$",
                                     "expected a search result");
        else
            rc = walk_search(&w, root);
        if (rc)
            goto done;
        size_t waiting = s->nsearches - s->cur - 1;
        int budget = ES_POLL_MAX_STEPS - s->steps > (int)waiting;
        advance(s, &s->searches[s->cur], root, &w, budget);
    } else if (inflight == RQ_CONTEXT) {
        w.flags = ES_ITEM_CONTEXT;
        rc = walk_body(&w, root);
        if (rc)
            goto done;
    } else {
        rc = es_error_set(ES_ERROR, "hackernews '%s': answer to no request",
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

/* A thread that is gone is skipped, not a failure of the source. */
static int hn_failed(struct es_source *src,
                     const struct es_source_response *res)
{
    struct hn_source *s = (struct hn_source *)src;
    enum inflight inflight = s->inflight;
    s->inflight = RQ_NONE;
    return inflight == RQ_CONTEXT &&
           (res->http_code == 404 || res->http_code == 410);
}

const struct es_source_ops es_source_hackernews_ops = {
    .name = "hackernews",
    .flags = ES_SOURCE_HAS_SEARCH,
    .default_interval_s = 300,
    .open = hn_open,
    .begin = hn_begin,
    .request = hn_request,
    .parse = hn_parse,
    .failed = hn_failed,
    .parse_any = hn_parse_any,
    .close = hn_close,
};
