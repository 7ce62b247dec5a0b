/* cmd_triage.c - working mentions: state, assign, note, tag, thread, canned
 *
 * Thin commands over include/earshot/triage.h: each parses its words,
 * names the acting agent (--as, or the config's agent) and makes one
 * library call, which checks the agent, runs the change in one
 * transaction and audits it. What changed is printed with the
 * conversation's new version, which the next change may hand back with
 * --expect-version to be refused if someone else changed it meanwhile.
 */
#include "cmd_triage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/sentiment.h"
#include "earshot/triage.h"
#include "earshot/workflow.h"

/* ==== Shared parsing ==== */

int es_cli_parse_mention_id(const char *arg, int64_t *out)
{
    if (es_cli_parse_id(arg, out) == 0)
        return 0;
    fprintf(stderr, "error: '%.*s' is not a mention id\n", ES_CLIP(arg));
    return ES_EXIT_USAGE;
}

int es_cli_parse_version(const char *arg, int64_t *out)
{
    *out = 0;
    if (!arg)
        return 0;
    if (es_cli_parse_id(arg, out) == 0)
        return 0;
    fprintf(stderr,
            "error: --expect-version takes a version number (from "
            "`earshot show ID`), not '%s'\n",
            arg);
    return ES_EXIT_USAGE;
}

/* Joins @args[0..n) with spaces, or reads stdin when the one word is "-":
 * the text of a note or a canned reply. The caller frees the result.
 * NULL (after printing) when stdin cannot be read. */
static char *join_text(const char **args, int n)
{
    struct es_buf b = ES_BUF_INIT;
    if (n == 1 && strcmp(args[0], "-") == 0) {
        char chunk[4096];
        size_t got;
        while ((got = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
            es_buf_add(&b, chunk, got);
        if (ferror(stdin)) {
            es_buf_release(&b);
            es_cli_fail("cannot read the text from stdin");
            return NULL;
        }
        while (b.len && (b.ptr[b.len - 1] == '\n' || b.ptr[b.len - 1] == '\r'))
            es_buf_truncate(&b, b.len - 1);
        return es_buf_detach(&b);
    }
    for (int i = 0; i < n; i++) {
        if (i)
            es_buf_addch(&b, ' ');
        es_buf_adds(&b, args[i]);
    }
    return es_buf_detach(&b);
}

/* The common start of a command that changes mention args[0]: checks the
 * count of words, parses the id and --expect-version, opens the inbox and
 * names the agent. Returns 0 or the exit status. */
static int start_change(struct es_ctx *ctx, const char *usage, int nargs,
                        int min, const char **args, const char *expect,
                        int64_t *id, int64_t *version, struct es_inbox **ib,
                        const char **agent)
{
    if (nargs < min)
        return es_cli_usage_error(usage, nargs ? "missing an argument after "
                                                 "the mention ID"
                                               : "missing the mention ID");
    if (es_cli_parse_mention_id(args[0], id) ||
        es_cli_parse_version(expect, version))
        return ES_EXIT_USAGE;
    if (!(*ib = es_ctx_inbox(ctx)))
        return ES_EXIT_FAIL;
    if (!(*agent = es_ctx_agent(ctx)))
        return es_ctx_agent_exit(ctx);
    return 0;
}

/* ==== state ==== */

static int state_bulk(struct es_ctx *ctx, const char *state,
                      const struct es_cli_filter *f)
{
    enum es_state to;
    if (es_state_parse(state, &to) < 0) {
        fprintf(stderr, "error: %s\n", es_error_last());
        return ES_EXIT_USAGE;
    }
    if (!es_cli_filter_given(f)) {
        fprintf(stderr, "error: --bulk needs a filter or a view (--state "
                        "new for every new mention): it would change the "
                        "whole inbox\n");
        return ES_EXIT_USAGE;
    }
    /* No limit unless one is given: the whole selection changes. */
    struct es_inbox_query q = { .limit = 0 };
    int rc = es_cli_filter_query(ctx, f, &q);
    if (rc)
        return rc;
    struct es_inbox *ib = es_ctx_inbox(ctx);
    if (!ib)
        return ES_EXIT_FAIL;
    const char *agent = es_ctx_agent(ctx);
    if (!agent)
        return es_ctx_agent_exit(ctx);
    struct es_bulk_result r;
    if (es_triage_set_state_bulk(ib, &q, state, agent, &r) < 0)
        return es_cli_fail("%s", es_error_last());
    printf("%d matched: %d changed to %s, %d %s already, %d refused", r.matched,
           r.changed, state, r.unchanged, state, r.refused);
    if (r.refused)
        printf(" (%s is not allowed from their state)", state);
    printf("\n");
    return ES_EXIT_OK;
}

int cmd_state(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] =
        "usage: earshot state ID STATE [--expect-version V]\n"
        "       earshot state --bulk STATE [--view NAME] [--state S]\n"
        "                     [--source NAME] [--platform P] [--label L]\n"
        "                     [--lang L] [--tag T] [--assignee AGENT|-]\n"
        "                     [--search QUERY] [--limit N]\n"
        "Moves a mention to STATE: new, open, pending (waiting on the\n"
        "customer), resolved, spam or ignored. Allowed moves:\n"
        "  new      -> open, pending, resolved, spam, ignored\n"
        "  open     -> pending, resolved, spam, ignored\n"
        "  pending  -> open, resolved\n"
        "  resolved -> open (reopen)\n"
        "  spam, ignored -> new, open\n"
        "A move to the state it is in changes nothing. --expect-version V\n"
        "refuses the change when the conversation is no longer at version\n"
        "V (see `earshot show ID`), saying who changed what.\n"
        "--bulk moves every mention the filters select (as in `earshot\n"
        "inbox`, but with no limit unless --limit or the view sets one) in\n"
        "one transaction, and reports how many changed and how many the\n"
        "table refused.\n";
    struct es_cli_filter f = { 0 };
    const char *bulk = NULL, *expect = NULL;
    const struct es_opt opts[] = {
        { "bulk", 0, &bulk },
        { "expect-version", 1, &expect },
        ES_CLI_FILTER_OPTS(&f),
        { NULL, 0, NULL },
    };
    const char *args[2];
    int nargs;
    int rc = es_cli_parse_opts(argc, argv, opts, args, 2, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    if (bulk) {
        if (nargs != 1)
            return es_cli_usage_error(usage, nargs ? "--bulk takes the STATE "
                                                     "only, no mention ID"
                                                   : "missing the STATE");
        if (expect)
            return es_cli_usage_error(usage, "--expect-version is for one "
                                             "mention, not --bulk");
        return state_bulk(ctx, args[0], &f);
    }
    if (nargs != 2)
        return es_cli_usage_error(usage, nargs ? "missing the STATE"
                                               : "missing the mention ID");
    if (es_cli_filter_given(&f) || f.limit)
        return es_cli_usage_error(usage, "filters select mentions for --bulk "
                                         "only");
    enum es_state to;
    if (es_state_parse(args[1], &to) < 0) {
        fprintf(stderr, "error: %s\n", es_error_last());
        return ES_EXIT_USAGE;
    }
    struct es_inbox *ib;
    const char *agent;
    int64_t id, version;
    if ((rc = start_change(ctx, usage, nargs, 2, args, expect, &id, &version,
                           &ib, &agent)))
        return rc;
    struct es_change ch;
    if (es_triage_set_state(ib, id, args[1], agent, version, &ch) < 0)
        return es_cli_fail("%s", es_error_last());
    if (ch.changed)
        printf("mention %lld: %s -> %s (conversation version %lld)\n",
               (long long)id, ch.before, args[1], (long long)ch.version);
    else
        printf("mention %lld is %s already (conversation version %lld)\n",
               (long long)id, args[1], (long long)ch.version);
    es_change_release(&ch);
    return ES_EXIT_OK;
}

/* ==== assign, unassign ==== */

static int assign(int argc, char **argv, struct es_ctx *ctx, int on)
{
    static const char usage_on[] =
        "usage: earshot assign ID AGENT [--expect-version V]\n"
        "Assigns mention ID to AGENT, an enabled agent or admin (viewers\n"
        "cannot be assigned work).\n";
    static const char usage_off[] =
        "usage: earshot unassign ID [--expect-version V]\n"
        "Leaves mention ID unassigned.\n";
    const char *usage = on ? usage_on : usage_off;
    const char *expect = NULL;
    const struct es_opt opts[] = {
        { "expect-version", 1, &expect },
        { NULL, 0, NULL },
    };
    const char *args[2];
    int nargs;
    int rc =
        es_cli_parse_opts(argc, argv, opts, args, on ? 2 : 1, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    struct es_inbox *ib;
    const char *agent;
    int64_t id, version;
    if (nargs != (on ? 2 : 1))
        return es_cli_usage_error(usage, nargs ? "missing the AGENT"
                                               : "missing the mention ID");
    if ((rc = start_change(ctx, usage, nargs, nargs, args, expect, &id,
                           &version, &ib, &agent)))
        return rc;
    struct es_change ch;
    if (es_triage_assign(ib, id, on ? args[1] : NULL, agent, version, &ch) < 0)
        return es_cli_fail("%s", es_error_last());
    if (ch.changed && on)
        printf("mention %lld assigned to %s (conversation version %lld)\n",
               (long long)id, args[1], (long long)ch.version);
    else if (ch.changed)
        printf("mention %lld unassigned, was %s (conversation version "
               "%lld)\n",
               (long long)id, ch.before, (long long)ch.version);
    else if (on)
        printf("mention %lld is assigned to %s already\n", (long long)id,
               args[1]);
    else
        printf("mention %lld is not assigned\n", (long long)id);
    es_change_release(&ch);
    return ES_EXIT_OK;
}

int cmd_assign(int argc, char **argv, struct es_ctx *ctx)
{
    return assign(argc, argv, ctx, 1);
}

int cmd_unassign(int argc, char **argv, struct es_ctx *ctx)
{
    return assign(argc, argv, ctx, 0);
}

/* ==== note ==== */

#define MAX_WORDS 256

int cmd_note(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] =
        "usage: earshot note ID TEXT... [--expect-version V]\n"
        "Adds an internal note to mention ID: for the team only, never sent\n"
        "anywhere. TEXT - reads the note from stdin.\n";
    const char *expect = NULL;
    const struct es_opt opts[] = {
        { "expect-version", 1, &expect },
        { NULL, 0, NULL },
    };
    const char *args[MAX_WORDS];
    int nargs;
    int rc =
        es_cli_parse_opts(argc, argv, opts, args, MAX_WORDS, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    struct es_inbox *ib;
    const char *agent;
    int64_t id, version, note_id = 0;
    if ((rc = start_change(ctx, usage, nargs, 2, args, expect, &id, &version,
                           &ib, &agent)))
        return rc;
    char *text = join_text(args + 1, nargs - 1);
    if (!text)
        return ES_EXIT_FAIL;
    struct es_change ch;
    rc = es_triage_note_add(ib, id, text, agent, version, &note_id, &ch);
    free(text);
    if (rc < 0)
        return es_cli_fail_args(rc);
    printf("note %lld added to mention %lld (conversation version %lld)\n",
           (long long)note_id, (long long)id, (long long)ch.version);
    es_change_release(&ch);
    return ES_EXIT_OK;
}

/* ==== tag, untag ==== */

static int print_tag(const char *tag, void *payload)
{
    int *n = payload;
    printf("%s%s", (*n)++ ? ", " : "", tag);
    return 0;
}

static int tag(int argc, char **argv, struct es_ctx *ctx, int add)
{
    static const char usage_add[] =
        "usage: earshot tag ID TAG... [--expect-version V]\n"
        "Tags mention ID (a tag: no spaces or commas; case is kept). See\n"
        "them with `earshot show ID`; list by tag with `inbox --tag T`.\n";
    static const char usage_rm[] =
        "usage: earshot untag ID TAG... [--expect-version V]\n"
        "Removes tags from mention ID.\n";
    const char *usage = add ? usage_add : usage_rm;
    const char *expect = NULL;
    const struct es_opt opts[] = {
        { "expect-version", 1, &expect },
        { NULL, 0, NULL },
    };
    const char *args[MAX_WORDS];
    int nargs;
    int rc =
        es_cli_parse_opts(argc, argv, opts, args, MAX_WORDS, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    struct es_inbox *ib;
    const char *agent;
    int64_t id, version;
    if ((rc = start_change(ctx, usage, nargs, 2, args, expect, &id, &version,
                           &ib, &agent)))
        return rc;
    struct es_change ch;
    rc = (add ? es_triage_tag : es_triage_untag)(
        ib, id, args + 1, (size_t)(nargs - 1), agent, version, &ch);
    if (rc < 0)
        return es_cli_fail_args(rc);
    if (!ch.changed) {
        printf(add ? "mention %lld has those tags already\n"
                   : "mention %lld has none of those tags\n",
               (long long)id);
    } else {
        int n = 0;
        printf("mention %lld tags: ", (long long)id);
        rc = es_triage_tags_each(ib, id, print_tag, &n);
        printf("%s (conversation version %lld)\n", n ? "" : "none",
               (long long)ch.version);
    }
    es_change_release(&ch);
    return rc < 0 ? es_cli_fail("%s", es_error_last()) : ES_EXIT_OK;
}

int cmd_tag(int argc, char **argv, struct es_ctx *ctx)
{
    return tag(argc, argv, ctx, 1);
}

int cmd_untag(int argc, char **argv, struct es_ctx *ctx)
{
    return tag(argc, argv, ctx, 0);
}

/* ==== thread ==== */

struct thread_out {
    struct es_inbox *ib;
    int json;
    int64_t asked; /* the mention the thread was asked for */
    int n;
    struct es_buf b;
};

/* Deeper than this, replies are drawn at this depth: the screen is only
 * so wide. */
#define MAX_INDENT 8

static int print_thread_mention(const struct es_mention *m, int depth,
                                void *payload)
{
    struct thread_out *o = payload;
    struct es_buf *b = &o->b;
    int rc;
    es_buf_reset(b);
    if (o->json) {
        es_buf_adds(b, o->n ? ",\n" : "\n");
        es_json_mention(b, m);
        es_buf_truncate(b, b->len - 1);
        es_buf_addf(b, ",\"depth\":%d", depth);
        rc = es_cli_json_tags_notes(o->ib, m->id, b);
        es_buf_addch(b, '}');
    } else {
        char indent[2 * MAX_INDENT + 8], t[21] = "-";
        int d = depth > MAX_INDENT ? MAX_INDENT : depth;
        memset(indent, ' ', (size_t)(2 * d));
        indent[2 * d] = '\0';
        if (m->item.created_at != ES_TIME_UNKNOWN)
            es_time_format(m->item.created_at, t);
        else if (m->first_seen != ES_TIME_UNKNOWN)
            es_time_format(m->first_seen, t);
        es_buf_addf(b, "%s%s%lld [%s] %s %s", m->id == o->asked ? "> " : "  ",
                    indent, (long long)m->id, m->state, t,
                    m->item.author ? m->item.author : "-");
        if (m->assignee)
            es_buf_addf(b, " (assigned to %s)", m->assignee);
        es_buf_adds(b, ":\n");
        /* The text in full, each line under the header. */
        const char *text = m->item.text ? m->item.text : m->item.title;
        es_buf_addf(b, "  %s    ", indent);
        for (const char *p = text ? text : ""; *p; p++) {
            es_buf_addch(b, *p);
            if (*p == '\n' && p[1])
                es_buf_addf(b, "  %s    ", indent);
        }
        if (b->ptr[b->len - 1] != '\n')
            es_buf_addch(b, '\n');
        char *sub = es_xasprintf("  %s    ", indent);
        rc = es_cli_text_tags_notes(o->ib, m->id, sub, b);
        free(sub);
    }
    if (rc < 0)
        return rc;
    es_cli_write(b->ptr, b->len);
    o->n++;
    return 0;
}

int cmd_thread(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] =
        "usage: earshot thread ID [--json]\n"
        "Shows the conversation of mention ID: every mention of it, oldest\n"
        "first, replies indented under what they answer, with their state,\n"
        "assignee, tags and internal notes. '>' marks mention ID. The\n"
        "header gives the conversation's version (see --expect-version).\n"
        "--json: {\"conversation\", \"version\", \"mentions\": [...]} where\n"
        "each mention has its \"depth\" in the reply tree.\n";
    const char *json = NULL, *thread = NULL;
    const struct es_opt opts[] = {
        { "json", 0, &json },
        { "thread", 0, &thread }, /* from `show ID --thread` */
        { NULL, 0, NULL },
    };
    const char *args[1];
    int nargs;
    int rc = es_cli_parse_opts(argc, argv, opts, args, 1, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    int64_t id;
    if (nargs != 1)
        return es_cli_usage_error(usage, "missing the mention ID");
    if (es_cli_parse_mention_id(args[0], &id))
        return ES_EXIT_USAGE;
    struct es_inbox *ib = es_ctx_inbox(ctx);
    if (!ib)
        return ES_EXIT_FAIL;
    struct es_buf key = ES_BUF_INIT;
    int64_t version = 0;
    rc = es_conversation_of(ib, id, &key);
    if (rc == 0)
        rc = es_conversation_version(ib, key.ptr, &version);
    if (rc < 0) {
        es_buf_release(&key);
        return es_cli_fail("%s", es_error_last());
    }
    struct thread_out o = { ib, json != NULL, id, 0, ES_BUF_INIT };
    if (o.json) {
        es_buf_adds(&o.b, "{");
        es_json_key_str(&o.b, "conversation", key.ptr);
        es_buf_addf(&o.b, ",\"version\":%lld,\"mentions\":[",
                    (long long)version);
        es_cli_write(o.b.ptr, o.b.len);
    } else {
        printf("conversation %s, version %lld\n\n", key.ptr,
               (long long)version);
    }
    rc = es_triage_thread(ib, id, print_thread_mention, &o);
    if (o.json)
        fputs("\n]}\n", stdout);
    es_buf_release(&o.b);
    es_buf_release(&key);
    if (rc < 0)
        return es_cli_fail("%s", es_error_last());
    return ES_EXIT_OK;
}

/* ==== canned ==== */

static int print_canned(const struct es_canned *c, void *payload)
{
    struct es_buf *b = payload;
    if (b) {
        char t[21];
        if (b->len > 1)
            es_buf_addch(b, ',');
        es_buf_adds(b, "\n{");
        es_json_key_str(b, "name", c->name);
        es_buf_addch(b, ',');
        es_json_key_str(b, "body", c->body);
        es_buf_addch(b, ',');
        es_json_key_str(b, "updated_by", c->updated_by);
        es_buf_addch(b, ',');
        es_json_key_str(b, "updated_at", es_time_format(c->updated_at, t));
        es_buf_addch(b, '}');
        return 0;
    }
    /* One line each: the name, then the start of the text. */
    struct es_buf line = ES_BUF_INIT;
    es_cli_add_snippet(&line, c->body, 60);
    printf("%-20s %s\n", c->name, line.ptr);
    es_buf_release(&line);
    return 0;
}

int cmd_canned(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] =
        "usage: earshot canned add NAME TEXT... [--replace]\n"
        "       earshot canned list [--json]\n"
        "       earshot canned show NAME [--mention ID] [--ticket N]\n"
        "       earshot canned rm NAME\n"
        "Canned replies, managed by admins, used by agents (`earshot reply\n"
        "ID --canned NAME`). The text may hold {author} (the mention's\n"
        "author: display name, else handle), {agent} (the replying agent)\n"
        "and {ticket} (the ticket number); any other {word} is refused as\n"
        "a typo. TEXT - reads the text from stdin. `show --mention ID`\n"
        "prints the text as it would go out for that mention.\n";
    const char *replace = NULL, *json = NULL, *mention = NULL, *ticket = NULL;
    const struct es_opt opts[] = {
        { "replace", 0, &replace }, { "json", 0, &json },
        { "mention", 1, &mention }, { "ticket", 1, &ticket },
        { NULL, 0, NULL },
    };
    const char *args[MAX_WORDS];
    int nargs;
    int rc =
        es_cli_parse_opts(argc, argv, opts, args, MAX_WORDS, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    const char *sub = nargs ? args[0] : "";
    int add = strcmp(sub, "add") == 0, list = strcmp(sub, "list") == 0,
        show = strcmp(sub, "show") == 0, rm = strcmp(sub, "rm") == 0;
    int want = add ? -3 : list ? 1 : 2; /* words; negative: at least */
    if (!(add || list || show || rm) ||
        (want < 0 ? nargs < -want : nargs != want) || (replace && !add) ||
        (json && !list) || ((mention || ticket) && !show)) {
        if (nargs && !(add || list || show || rm))
            fprintf(stderr, "error: unknown canned command '%.*s'\n",
                    ES_CLIP(sub));
        fputs(usage, stderr);
        return ES_EXIT_USAGE;
    }
    int64_t mention_id = 0, ticket_id = 0;
    if (mention && es_cli_parse_mention_id(mention, &mention_id))
        return ES_EXIT_USAGE;
    if (ticket && es_cli_parse_id(ticket, &ticket_id) < 0) {
        fprintf(stderr, "error: '%.*s' is not a ticket number\n",
                ES_CLIP(ticket));
        return ES_EXIT_USAGE;
    }
    struct es_inbox *ib = es_ctx_inbox(ctx);
    if (!ib)
        return ES_EXIT_FAIL;

    if (list) {
        struct es_buf b = ES_BUF_INIT;
        if (json)
            es_buf_addch(&b, '[');
        rc = es_canned_each(ib, print_canned, json ? &b : NULL);
        return es_cli_list_end(&b, json != NULL, rc);
    }
    if (show) {
        struct es_canned c;
        if (es_canned_get(ib, args[1], &c) < 0)
            return es_cli_fail("%s", es_error_last());
        if (mention) {
            struct es_buf out = ES_BUF_INIT;
            /* The agent is only needed for {agent}; without one that
             * placeholder is the error. */
            const char *agent = ctx->as_agent;
            if (!agent && ctx->cfg)
                agent = es_config_agent(ctx->cfg);
            rc = es_canned_render(ib, args[1], mention_id, agent, ticket_id,
                                  &out);
            if (rc == 0) {
                es_buf_addch(&out, '\n');
                es_cli_write(out.ptr, out.len);
            }
            es_buf_release(&out);
        } else {
            char t[21];
            printf("canned reply %s, updated by %s at %s:\n%s\n", c.name,
                   c.updated_by ? c.updated_by : "-",
                   es_time_format(c.updated_at, t), c.body);
        }
        es_canned_release(&c);
        return rc < 0 ? es_cli_fail("%s", es_error_last()) : ES_EXIT_OK;
    }
    const char *agent = es_ctx_agent(ctx);
    if (!agent)
        return es_ctx_agent_exit(ctx);
    if (rm) {
        if (es_canned_remove(ib, args[1], agent) < 0)
            return es_cli_fail("%s", es_error_last());
        printf("canned reply %s removed\n", args[1]);
        return ES_EXIT_OK;
    }
    char *text = join_text(args + 2, nargs - 2);
    if (!text)
        return ES_EXIT_FAIL;
    rc = es_canned_add(ib, args[1], text, agent, replace != NULL);
    free(text);
    if (rc == ES_EEXISTS)
        return es_cli_fail("%s (add --replace to change it)", es_error_last());
    if (rc < 0)
        return es_cli_fail_args(rc);
    printf("canned reply %s %s\n", args[1], replace ? "saved" : "added");
    return ES_EXIT_OK;
}
