/* cmd_inbox.c - reading the inbox: `inbox` lists, `show` shows one
 *
 * The table is for people, --json for scripts; both come from the same
 * es_inbox_list() call so they can never disagree.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "earshot/error.h"
#include "earshot/sentiment.h"

/* Appends at most @max UTF-8 characters of @s to @out, newlines and tabs
 * turned into spaces, with "…" when cut. */
static void add_snippet(struct es_buf *out, const char *s, size_t max)
{
    size_t chars = 0;
    if (!s)
        return;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c & 0xC0) != 0x80) {
            if (chars == max) {
                es_buf_adds(out, "\xE2\x80\xA6");
                return;
            }
            chars++;
        }
        es_buf_addch(out, (c == '\n' || c == '\t' || c == '\r') ? ' ' : c);
    }
}

struct list_out {
    int json;
    size_t count;
    struct es_buf buf;
};

static int print_mention(const struct es_mention *m, void *payload)
{
    struct list_out *lo = payload;
    struct es_buf *b = &lo->buf;
    es_buf_reset(b);
    if (lo->json) {
        es_buf_adds(b, lo->count ? ",\n" : "[\n");
        es_json_mention(b, m);
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
        es_buf_addf(b, "%-6lld %-8s %4s %-14s %-16.16s %.16s  ",
                    (long long)m->id, m->state, prio, score,
                    m->item.source ? m->item.source : "-", created);
        if (m->item.author) {
            add_snippet(b, m->item.author, 18);
            es_buf_adds(b, ": ");
        }
        const char *t =
            m->item.title && *m->item.title ? m->item.title : m->item.text;
        add_snippet(b, t, 70);
        if (m->edited)
            es_buf_adds(b, " (edited)");
        es_buf_addch(b, '\n');
    }
    fwrite(b->ptr, 1, b->len, stdout);
    lo->count++;
    return 0;
}

int cmd_inbox(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] =
        "usage: earshot inbox [--state S] [--source NAME] [--search QUERY]\n"
        "                     [--label L] [--limit N] [--json]\n"
        "Lists mentions, highest priority (0-100) first, then newest, with\n"
        "their sentiment label and score; mentions stored before scoring\n"
        "existed show as unscored, last. --search is a full-text query over\n"
        "text, title and author (SQLite FTS5 syntax: words, \"phrases\", AND,\n"
        "OR, NOT, prefix*). --label keeps one sentiment: positive, neutral\n"
        "or negative. States: new, open, pending, resolved, spam, ignored.\n"
        "Default limit 50. --json adds the priority's reasons and the\n"
        "sentiment's pos/neu/neg shares.\n";
    const char *state = NULL, *source = NULL, *search = NULL, *limit = NULL,
               *json = NULL, *label = NULL;
    const struct es_opt opts[] = {
        { "state", 1, &state },   { "source", 1, &source },
        { "search", 1, &search }, { "limit", 1, &limit },
        { "label", 1, &label },   { "json", 0, &json },
        { NULL, 0, NULL },
    };
    const char *args[1];
    int nargs;
    int rc = es_cli_parse_opts(argc, argv, opts, args, 0, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    struct es_inbox_query q = {
        .state = state,
        .source = source,
        .search = search,
        .limit = 50,
        .label = label,
    };
    if (limit && es_cli_parse_count("limit", limit, 1000000, &q.limit) < 0)
        return ES_EXIT_USAGE;
    if (state) {
        static const char *const states[] = { "new",      "open", "pending",
                                              "resolved", "spam", "ignored" };
        int ok = 0;
        for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
            ok |= strcmp(state, states[i]) == 0;
        if (!ok) {
            fprintf(stderr,
                    "error: unknown state '%s' (new, open, pending, "
                    "resolved, spam, ignored)\n",
                    state);
            return ES_EXIT_USAGE;
        }
    }
    if (label && strcmp(label, "positive") != 0 &&
        strcmp(label, "neutral") != 0 && strcmp(label, "negative") != 0) {
        fprintf(stderr,
                "error: unknown label '%s' (positive, neutral, negative)\n",
                label);
        return ES_EXIT_USAGE;
    }
    struct es_inbox *ib = es_ctx_inbox(ctx);
    if (!ib)
        return ES_EXIT_FAIL;
    struct list_out lo = { json != NULL, 0, ES_BUF_INIT };
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

int cmd_show(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] = "usage: earshot show ID [--json]\n"
                                "Shows one mention in full.\n";
    const char *json = NULL;
    const struct es_opt opts[] = { { "json", 0, &json }, { NULL, 0, NULL } };
    const char *args[1];
    int nargs;
    int rc = es_cli_parse_opts(argc, argv, opts, args, 1, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    if (nargs != 1) {
        fputs(usage, stderr);
        return ES_EXIT_USAGE;
    }
    char *end;
    errno = 0;
    long long id = strtoll(args[0], &end, 10);
    if (errno || *end || id <= 0) {
        fprintf(stderr, "error: '%s' is not a mention id\n", args[0]);
        return ES_EXIT_USAGE;
    }
    struct es_inbox *ib = es_ctx_inbox(ctx);
    if (!ib)
        return ES_EXIT_FAIL;
    struct es_mention m;
    rc = es_inbox_get(ib, id, &m);
    if (rc == ES_ENOTFOUND)
        return es_cli_fail("no mention with id %lld", id);
    if (rc < 0)
        return es_cli_fail("%s", es_error_last());
    struct es_buf b = ES_BUF_INIT;
    if (json) {
        es_json_mention(&b, &m);
        es_buf_addch(&b, '\n');
    } else {
        char t[21];
        const struct es_item *it = &m.item;
        es_buf_addf(&b, "mention %lld  [%s]%s\n", (long long)m.id, m.state,
                    m.edited ? "  (edited)" : "");
        es_buf_addf(&b, "source:    %s (%s)\n", it->source ? it->source : "-",
                    it->platform ? it->platform : "-");
        if (it->title)
            es_buf_addf(&b, "title:     %s\n", it->title);
        if (it->author || it->author_name)
            es_buf_addf(&b, "author:    %s%s%s%s\n",
                        it->author_name ? it->author_name : "",
                        it->author_name && it->author ? " (" : "",
                        it->author ? it->author : "",
                        it->author_name && it->author ? ")" : "");
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
        if (it->ncategories) {
            es_buf_adds(&b, "tags:      ");
            for (size_t i = 0; i < it->ncategories; i++)
                es_buf_addf(&b, "%s%s", i ? ", " : "", it->categories[i]);
            es_buf_addch(&b, '\n');
        }
        es_buf_addf(&b, "\n%s\n", it->text ? it->text : "");
    }
    fwrite(b.ptr, 1, b.len, stdout);
    es_buf_release(&b);
    es_mention_release(&m);
    return ES_EXIT_OK;
}
