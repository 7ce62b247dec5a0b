/* cmd_inbox.c - reading the inbox: `inbox` lists, `show` shows one
 *
 * The table is for people, --json for scripts; both come from the same
 * es_inbox_list() call so they can never disagree.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_triage.h"
#include "earshot/error.h"
#include "earshot/outbox.h"
#include "earshot/sentiment.h"
#include "earshot/triage.h"
#include "earshot/workflow.h"

struct list_out {
    int json;
    size_t count;
    struct es_buf buf;
    struct es_inbox *ib; /* for the tags of --json */
};

static int json_tags(struct es_inbox *ib, int64_t id, struct es_buf *b);

static int print_mention(const struct es_mention *m, void *payload)
{
    struct list_out *lo = payload;
    struct es_buf *b = &lo->buf;
    es_buf_reset(b);
    if (lo->json) {
        es_buf_adds(b, lo->count ? ",\n" : "[\n");
        es_json_mention(b, m);
        /* The tags go inside the mention's object. */
        es_buf_truncate(b, b->len - 1);
        int rc = json_tags(lo->ib, m->id, b);
        es_buf_addch(b, '}');
        if (rc < 0)
            return rc;
    } else {
        char created[21] = "-";
        if (m->item.created_at != ES_TIME_UNKNOWN)
            es_time_format(m->item.created_at, created);
        else if (m->first_seen != ES_TIME_UNKNOWN)
            es_time_format(m->first_seen, created);
        char prio[8], score[24];
        if (m->prioritised)
            snprintf(prio, sizeof(prio), "%d", m->priority);
        else
            snprintf(prio, sizeof(prio), "-");
        if (m->scored)
            snprintf(score, sizeof(score), "%s %+.2f",
                     es_sentiment_label_name(m->label), m->sentiment);
        else
            snprintf(score, sizeof(score), "unscored");
        es_buf_addf(b, "%-6lld %-8s %4s %-14s ", (long long)m->id, m->state,
                    prio, score);
        es_cli_add_column(b, m->item.source ? m->item.source : "-", 16);
        es_buf_addf(b, " %.16s  ", created);
        if (m->item.author) {
            es_cli_add_snippet(b, m->item.author, 18);
            es_buf_adds(b, ": ");
        }
        const char *t =
            m->item.title && *m->item.title ? m->item.title : m->item.text;
        es_cli_add_snippet(b, t, 70);
        if (m->edited)
            es_buf_adds(b, " (edited)");
        es_buf_addch(b, '\n');
    }
    es_cli_write(b->ptr, b->len);
    lo->count++;
    return 0;
}

static int add_json_tag(const char *tag, void *payload)
{
    struct es_buf *b = payload;
    if (b->ptr[b->len - 1] != '[')
        es_buf_addch(b, ',');
    es_buf_add_json_str(b, tag, strlen(tag));
    return 0;
}

/* Appends `,"tags":[...]` of mention @id to @b. */
static int json_tags(struct es_inbox *ib, int64_t id, struct es_buf *b)
{
    es_buf_adds(b, ",\"tags\":[");
    int rc = es_triage_tags_each(ib, id, add_json_tag, b);
    es_buf_addch(b, ']');
    return rc;
}

static int add_json_note(const struct es_note *n, void *payload)
{
    struct es_buf *b = payload;
    char t[21];
    if (b->ptr[b->len - 1] != '[')
        es_buf_addch(b, ',');
    es_buf_addf(b, "{\"id\":%lld,", (long long)n->id);
    es_json_key_str(b, "agent", n->agent);
    es_buf_addch(b, ',');
    es_json_key_str(b, "body", n->body);
    es_buf_addch(b, ',');
    es_json_key_str(b, "created_at", es_time_format(n->created_at, t));
    es_buf_addch(b, '}');
    return 0;
}

/* ==== Filters and saved views ==== */

/* Checks a state or label name, printing what is wrong; @from names where
 * it came from ("" for the command line). */
static int check_names(const struct es_inbox_query *q, const char *from)
{
    enum es_state st;
    if (q->state && es_state_parse(q->state, &st) < 0) {
        fprintf(stderr, "error: %s%s\n", from, es_error_last());
        return -1;
    }
    if (q->label && strcmp(q->label, "positive") != 0 &&
        strcmp(q->label, "neutral") != 0 && strcmp(q->label, "negative") != 0) {
        fprintf(stderr,
                "error: %sunknown label '%s' (positive, neutral, negative)\n",
                from, q->label);
        return -1;
    }
    return 0;
}

int es_cli_filter_given(const struct es_cli_filter *f)
{
    return f->view || f->state || f->source || f->platform || f->label ||
           f->lang || f->tag || f->assignee || f->search;
}

int es_cli_filter_query(struct es_ctx *ctx, const struct es_cli_filter *f,
                        struct es_inbox_query *q)
{
    struct es_inbox_query opt = {
        .state = f->state,
        .source = f->source,
        .search = f->search,
        .label = f->label,
        .platform = f->platform,
        .lang = f->lang,
        .tag = f->tag,
        .assignee = f->assignee,
    };
    if (f->limit && es_cli_parse_count("limit", f->limit, 1000000, &opt.limit))
        return ES_EXIT_USAGE;
    if (check_names(&opt, "") < 0)
        return ES_EXIT_USAGE;
    if (f->view) {
        struct es_config *cfg = es_ctx_config(ctx);
        if (!cfg)
            return ES_EXIT_FAIL;
        if (es_triage_view(cfg, f->view, q) < 0)
            return es_cli_fail("%s", es_error_last());
        char from[96];
        snprintf(from, sizeof(from), "view '%s': ", f->view);
        if (check_names(q, from) < 0)
            return ES_EXIT_FAIL;
    }
    /* What the command line gives overrides the view. */
    const char **fields[] = {
        &q->state,    &q->source, &q->search, &q->label,
        &q->platform, &q->lang,   &q->tag,    &q->assignee
    };
    const char *given[] = {
        opt.state,    opt.source, opt.search, opt.label,
        opt.platform, opt.lang,   opt.tag,    opt.assignee
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        if (given[i])
            *fields[i] = given[i];
    if (opt.limit > 0)
        q->limit = opt.limit;
    /* "-" is no one: the unassigned mentions. */
    if (q->assignee && strcmp(q->assignee, "-") == 0)
        q->assignee = "";
    return 0;
}

/* ==== inbox and show ==== */

/* The names --source may give. */
struct known_sources {
    const char *name;
    const struct es_config *cfg; /* its names are listed already */
    int found;
    struct es_buf names;
};

static void add_known(struct known_sources *k, const char *name)
{
    if (k->names.len < 400) {
        es_buf_adds(&k->names, k->names.len ? ", " : "");
        es_buf_adds(&k->names, name);
    }
}

static int see_source(const struct es_source_health *h, void *payload)
{
    struct known_sources *k = payload;
    if (strcmp(h->name, k->name) == 0)
        k->found = 1;
    if (!(k->cfg && es_config_source_find(k->cfg, h->name)))
        add_known(k, h->name);
    return 0;
}

/* A --source that names no source of the config (@cfg, may be NULL) nor
 * of the store is a typo, not an empty inbox: ES_EXIT_USAGE with the
 * names known. */
static int check_source(struct es_inbox *ib, const struct es_config *cfg,
                        const char *name)
{
    if (cfg && es_config_source_find(cfg, name))
        return 0;
    struct known_sources k = { name, cfg, 0, ES_BUF_INIT };
    for (size_t i = 0; cfg && i < es_config_source_count(cfg); i++)
        add_known(&k, es_config_source_at(cfg, i)->name);
    int rc = es_inbox_health_each(ib, see_source, &k);
    if (rc == 0 && !k.found) {
        fprintf(stderr, "error: no source named '%.*s' (known: %s)\n",
                ES_CLIP(name), k.names.len ? k.names.ptr : "none yet");
        rc = ES_EXIT_USAGE;
    } else {
        rc = 0; /* a database error is said by the listing */
    }
    es_buf_release(&k.names);
    return rc;
}

int cmd_inbox(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] =
        "usage: earshot inbox [--view NAME] [--state S] [--source NAME]\n"
        "                     [--platform P] [--label L] [--lang L]\n"
        "                     [--tag T] [--assignee AGENT|-]\n"
        "                     [--search QUERY] [--limit N] [--json]\n"
        "Lists mentions, highest priority (0-100) first, then newest, with\n"
        "their sentiment label and score; mentions stored before scoring\n"
        "existed show as unscored, last. --search is a full-text query over\n"
        "text, title and author (SQLite FTS5 syntax: words, \"phrases\", AND,\n"
        "OR, NOT, prefix*; what is not that syntax, such as web-01 or can't,\n"
        "is searched as plain words). --label keeps one sentiment: positive,\n"
        "neutral or negative. States: new, open, pending, resolved, spam,\n"
        "ignored.\n"
        "--lang en also matches en-GB; --assignee - lists the unassigned.\n"
        "--view NAME starts from the saved view [view \"NAME\"] of the\n"
        "config; the options given override the view's. Default limit 50.\n"
        "--json adds the priority's reasons, the sentiment's pos/neu/neg\n"
        "shares and the mention's tags.\n";
    struct es_cli_filter f = { 0 };
    const char *json = NULL;
    const struct es_opt opts[] = {
        ES_CLI_FILTER_OPTS(&f),
        { "json", 0, &json },
        { NULL, 0, NULL },
    };
    const char *args[1];
    int nargs;
    int rc = es_cli_parse_opts(argc, argv, opts, args, 0, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    struct es_inbox_query q = { .limit = 50 };
    if ((rc = es_cli_filter_query(ctx, &f, &q)) != 0)
        return rc;
    struct es_inbox *ib = es_ctx_inbox(ctx);
    if (!ib)
        return ES_EXIT_FAIL;
    /* A source of the config that was never polled is no typo: the config
     * is read for it when one was named, even beside --db. */
    if (q.source && !ctx->cfg && es_cli_config_given(ctx) &&
        !es_ctx_config(ctx))
        return ES_EXIT_FAIL;
    if (q.source && (rc = check_source(ib, ctx->cfg, q.source)) != 0)
        return rc;
    struct list_out lo = { json != NULL, 0, ES_BUF_INIT, ib };
    if (!lo.json)
        printf("%-6s %-8s %4s %-14s %-16s %-16s  %s\n", "ID", "STATE", "PRIO",
               "SENTIMENT", "SOURCE", "CREATED", "MENTION");
    rc = es_inbox_list(ib, &q, print_mention, &lo);
    if (lo.json)
        fputs(lo.count ? "\n]\n" : "[]\n", stdout);
    es_buf_release(&lo.buf);
    if (rc < 0)
        return es_cli_fail("%s", es_error_last());
    return ES_EXIT_OK;
}

/* Says who could see the post when it was not public (Mastodon keeps
 * that in reply_ref), so that an agent does not answer a private message
 * as if it were public. */
static void add_visibility(struct es_buf *b, const char *reply_ref)
{
    struct es_buf v = ES_BUF_INIT;
    es_outbox_ref_get(reply_ref, "visibility", &v);
    if (v.len) {
        const char *what = "";
        if (strcmp(v.ptr, "direct") == 0)
            what = " (a private message: replies stay private)";
        else if (strcmp(v.ptr, "private") == 0)
            what = " (followers only: replies stay so)";
        es_buf_addf(b, "visibility: %s%s\n", v.ptr, what);
    }
    es_buf_release(&v);
}

int cmd_show(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] =
        "usage: earshot show ID [--json] [--thread]\n"
        "Shows one mention in full, with its tags, internal notes and the\n"
        "version of its conversation (pass it back with --expect-version to\n"
        "refuse a change when someone changed the conversation meanwhile).\n"
        "--thread shows the whole conversation instead (earshot thread).\n";
    const char *json = NULL, *thread = NULL;
    const struct es_opt opts[] = {
        { "json", 0, &json },
        { "thread", 0, &thread },
        { NULL, 0, NULL },
    };
    const char *args[1];
    int nargs;
    int rc = es_cli_parse_opts(argc, argv, opts, args, 1, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    if (thread)
        return cmd_thread(argc, argv, ctx);
    if (nargs != 1)
        return es_cli_usage_error(usage, "missing the mention ID");
    int64_t id;
    if (es_cli_parse_mention_id(args[0], &id))
        return ES_EXIT_USAGE;
    struct es_inbox *ib = es_ctx_inbox(ctx);
    if (!ib)
        return ES_EXIT_FAIL;
    struct es_mention m;
    rc = es_inbox_get(ib, id, &m);
    if (rc == ES_ENOTFOUND)
        return es_cli_fail("no mention with id %lld", (long long)id);
    if (rc < 0)
        return es_cli_fail("%s", es_error_last());
    struct es_buf key = ES_BUF_INIT;
    int64_t version = 0;
    rc = es_conversation_of(ib, id, &key);
    if (rc == 0)
        rc = es_conversation_version(ib, key.ptr, &version);
    if (rc < 0) {
        es_mention_release(&m);
        es_buf_release(&key);
        return es_cli_fail("%s", es_error_last());
    }
    struct es_buf b = ES_BUF_INIT;
    if (json) {
        es_json_mention(&b, &m);
        es_buf_truncate(&b, b.len - 1);
        es_buf_adds(&b, ",");
        es_json_key_str(&b, "conversation", key.ptr);
        es_buf_addf(&b, ",\"version\":%lld", (long long)version);
        rc = es_cli_json_tags_notes(ib, id, &b);
        es_buf_adds(&b, "}\n");
    } else {
        char t[21];
        const struct es_item *it = &m.item;
        es_buf_addf(&b, "mention %lld  [%s]%s\n", (long long)m.id, m.state,
                    m.edited ? "  (edited)" : "");
        es_buf_addf(&b, "source:    %s (%s)\n", it->source ? it->source : "-",
                    it->platform ? it->platform : "-");
        if (it->title)
            es_buf_addf(&b, "title:     %s\n", it->title);
        /* The name, and the handle when it says more: "Marta K. (marta_k)",
         * not "Marta K. (Marta K.)". */
        int both = it->author_name && it->author &&
                   strcmp(it->author_name, it->author) != 0;
        if (it->author || it->author_name)
            es_buf_addf(&b, "author:    %s%s%s%s\n",
                        it->author_name ? it->author_name : it->author,
                        both ? " (" : "", both ? it->author : "",
                        both ? ")" : "");
        if (it->author_followers != ES_COUNT_UNKNOWN)
            es_buf_addf(&b, "followers: %lld\n", it->author_followers);
        if (it->url)
            es_buf_addf(&b, "url:       %s\n", it->url);
        if (it->created_at != ES_TIME_UNKNOWN)
            es_buf_addf(&b, "created:   %s\n",
                        es_time_format(it->created_at, t));
        if (it->updated_at != ES_TIME_UNKNOWN)
            es_buf_addf(&b, "updated:   %s\n",
                        es_time_format(it->updated_at, t));
        es_buf_addf(&b, "kind:      %s\n", es_item_kind_name(it->kind));
        add_visibility(&b, it->reply_ref);
        if (it->rating > 0)
            es_buf_addf(&b, "rating:    %d stars\n", it->rating);
        if (it->lang)
            es_buf_addf(&b, "language:  %s\n", it->lang);
        if (m.scored) {
            es_buf_addf(&b,
                        "sentiment: %+.4f %s (pos %.3f, neu %.3f, neg "
                        "%.3f)\n",
                        m.sentiment, es_sentiment_label_name(m.label), m.pos,
                        m.neu, m.neg);
            if (m.low_confidence)
                es_buf_adds(&b, "           low confidence: not English, "
                                "only emoji and emoticons counted\n");
        } else {
            es_buf_adds(&b, "sentiment: unscored\n");
        }
        if (m.prioritised) {
            es_buf_addf(&b, "priority:  %d", m.priority);
            for (size_t i = 0; i < m.nreasons; i++)
                es_buf_addf(&b, "%s%s", i ? ", " : " - ", m.reasons[i]);
            es_buf_addch(&b, '\n');
        } else {
            es_buf_adds(&b, "priority:  unscored\n");
        }
        es_buf_addf(&b, "assignee:  %s\n", m.assignee ? m.assignee : "-");
        es_buf_addf(&b, "conversation: %s, version %lld\n", key.ptr,
                    (long long)version);
        if (it->ncategories) {
            es_buf_adds(&b, "categories: ");
            for (size_t i = 0; i < it->ncategories; i++)
                es_buf_addf(&b, "%s%s", i ? ", " : "", it->categories[i]);
            es_buf_addch(&b, '\n');
        }
        es_buf_addf(&b, "\n%s\n", it->text ? it->text : "");
        rc = es_cli_text_tags_notes(ib, id, "", &b);
    }
    es_mention_release(&m);
    es_buf_release(&key);
    if (rc < 0) {
        es_buf_release(&b);
        return es_cli_fail("%s", es_error_last());
    }
    es_cli_write(b.ptr, b.len);
    es_buf_release(&b);
    return ES_EXIT_OK;
}

/* ==== Tags and notes, for show and thread ==== */

int es_cli_json_tags_notes(struct es_inbox *ib, int64_t id, struct es_buf *b)
{
    int rc = json_tags(ib, id, b);
    es_buf_adds(b, ",\"notes\":[");
    if (rc == 0)
        rc = es_triage_notes_each(ib, id, add_json_note, b);
    es_buf_addch(b, ']');
    return rc;
}

struct text_out {
    struct es_buf *b;
    const char *indent;
    int n;
};

static int add_text_tag(const char *tag, void *payload)
{
    struct text_out *o = payload;
    es_buf_adds(o->b, o->n++ ? ", " : "");
    es_buf_adds(o->b, tag);
    return 0;
}

static int add_text_note(const struct es_note *n, void *payload)
{
    struct text_out *o = payload;
    char t[21];
    es_buf_addf(o->b, "%snote %lld by %s at %s:\n%s  ", o->indent,
                (long long)n->id, n->agent, es_time_format(n->created_at, t),
                o->indent);
    /* Each line of the note indented under its header. */
    for (const char *p = n->body; *p; p++) {
        es_buf_addch(o->b, *p);
        if (*p == '\n' && p[1])
            es_buf_addf(o->b, "%s  ", o->indent);
    }
    if (!o->b->len || o->b->ptr[o->b->len - 1] != '\n')
        es_buf_addch(o->b, '\n');
    return 0;
}

int es_cli_text_tags_notes(struct es_inbox *ib, int64_t id, const char *indent,
                           struct es_buf *b)
{
    struct text_out o = { b, indent, 0 };
    size_t mark = b->len;
    es_buf_addf(b, "%stags: ", indent);
    int rc = es_triage_tags_each(ib, id, add_text_tag, &o);
    if (o.n)
        es_buf_addch(b, '\n');
    else
        es_buf_truncate(b, mark);
    if (rc == 0)
        rc = es_triage_notes_each(ib, id, add_text_note, &o);
    return rc;
}
