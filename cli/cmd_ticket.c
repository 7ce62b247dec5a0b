/* cmd_ticket.c - private tickets: `ticket` opens and works one, `tickets`
 * lists them
 *
 * `earshot ticket ID` takes the conversation of mention ID private with
 * everything known about it; the subcommands (show, state, assign,
 * unassign, priority, note, forward) work a ticket by its number. All of
 * it is include/earshot/tickets.h; this file parses, prints and maps
 * error codes to exit statuses.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/tickets.h"

/* Parses @s as a positive id of @what ("mention", "ticket") into *out;
 * prints the problem and returns -1 otherwise. */
static int parse_id(const char *s, const char *what, int64_t *out)
{
    if (es_cli_parse_id(s, out) == 0)
        return 0;
    fprintf(stderr, "error: '%.*s' is not a %s id\n", ES_CLIP(s), what);
    return -1;
}

/* The exit status for a failed library call: its message on stderr. */
static int fail(void)
{
    return es_cli_fail("%s", es_error_last());
}

static void add_time(struct es_buf *b, int64_t t)
{
    char tmp[21];
    es_buf_adds(b, es_cli_fmt_time(t, tmp, "-"));
}

/* Appends @s indented by @indent spaces on every line. */
static void add_indented(struct es_buf *b, const char *s, const char *indent)
{
    es_buf_adds(b, indent);
    for (; s && *s; s++) {
        es_buf_addch(b, *s);
        if (*s == '\n' && s[1])
            es_buf_adds(b, indent);
    }
    es_buf_addch(b, '\n');
}

/* ==== ticket show ==== */

struct show_ctx {
    struct es_buf *b;
    int64_t *ids; /* the snapshot's mention ids */
    size_t nids;
    size_t nmessages;
    size_t nlive;     /* mentions of the thread now */
    size_t nlive_new; /* of which not in the snapshot */
};

static int show_context_mention(const struct es_ticket_context_mention *m,
                                void *payload)
{
    struct show_ctx *sc = payload;
    struct es_buf *b = sc->b;
    sc->ids = es_xrealloc(sc->ids, (sc->nids + 1) * sizeof(*sc->ids));
    sc->ids[sc->nids++] = m->mention_id;
    es_buf_addf(b, "  [%lld] ", (long long)m->mention_id);
    add_time(b, m->created_at);
    es_buf_addf(b, "  %s", m->platform ? m->platform : "-");
    if (m->author || m->author_name) {
        es_buf_adds(b, "  ");
        if (m->author)
            es_buf_addf(b, "@%s", m->author);
        if (m->author_name &&
            !(m->author && strcmp(m->author_name, m->author) == 0))
            es_buf_addf(b, "%s%s%s", m->author ? " (" : "", m->author_name,
                        m->author ? ")" : "");
    }
    if (m->author_followers != ES_COUNT_UNKNOWN)
        es_buf_addf(b, ", %lld followers", m->author_followers);
    es_buf_addf(b, "  [%s]\n", m->state ? m->state : "-");
    es_buf_adds(b, "      ");
    if (m->label)
        es_buf_addf(b, "%s %+.2f", m->label, m->sentiment);
    else
        es_buf_adds(b, "unscored");
    if (m->priority >= 0) {
        es_buf_addf(b, ", priority %d", m->priority);
        if (m->reasons && *m->reasons)
            es_buf_addf(b, " (%s)", m->reasons);
    }
    es_buf_addch(b, '\n');
    if (m->title && *m->title)
        es_buf_addf(b, "      %s\n", m->title);
    if (m->text && *m->text)
        add_indented(b, m->text, "      ");
    if (m->url)
        es_buf_addf(b, "      %s\n", m->url);
    if (m->tags && *m->tags)
        es_buf_addf(b, "      tags: %s\n", m->tags);
    if (m->notes && *m->notes) {
        es_buf_adds(b, "      notes:\n");
        add_indented(b, m->notes, "        ");
    }
    return 0;
}

static int show_message(const struct es_ticket_message *m, void *payload)
{
    struct show_ctx *sc = payload;
    struct es_buf *b = sc->b;
    if (sc->nmessages++ == 0)
        es_buf_adds(b, "\nmessages:\n");
    es_buf_adds(b, "  ");
    add_time(b, m->created_at);
    es_buf_addf(b, "  %s  %s:\n", es_ticket_message_kind_name(m->kind),
                m->agent ? m->agent : "system");
    add_indented(b, m->body, "      ");
    return 0;
}

/* Counts the live thread and lists the mentions the snapshot lacks. */
static int show_live(const struct es_mention *m, void *payload)
{
    struct show_ctx *sc = payload;
    sc->nlive++;
    for (size_t i = 0; i < sc->nids; i++)
        if (sc->ids[i] == m->id)
            return 0;
    if (sc->nlive_new++ == 0)
        es_buf_adds(sc->b, "\nnew in the thread since (earshot show ID):\n");
    es_buf_addf(sc->b, "  [%lld] [%s] ", (long long)m->id, m->state);
    if (m->item.author)
        es_buf_addf(sc->b, "@%s: ", m->item.author);
    const char *t = m->item.text ? m->item.text : m->item.title;
    es_cli_add_snippet(sc->b, t, 70);
    es_buf_addch(sc->b, '\n');
    return 0;
}

static int json_message(const struct es_ticket_message *m, void *payload)
{
    struct show_ctx *sc = payload;
    struct es_buf *b = sc->b;
    char tmp[21];
    es_buf_adds(b, sc->nmessages++ ? ",{" : "{");
    es_buf_addf(b, "\"id\":%lld,", (long long)m->id);
    es_json_key_str(b, "kind", es_ticket_message_kind_name(m->kind));
    es_buf_addch(b, ',');
    es_json_key_str(b, "agent", m->agent);
    es_buf_addch(b, ',');
    es_json_key_str(b, "body", m->body);
    es_buf_addch(b, ',');
    es_json_key_str(b, "created_at", es_time_format(m->created_at, tmp));
    es_buf_addch(b, '}');
    return 0;
}

static int json_live(const struct es_mention *m, void *payload)
{
    struct show_ctx *sc = payload;
    es_buf_addf(sc->b, "%s%lld", sc->nlive++ ? "," : "", (long long)m->id);
    return 0;
}

/* The JSON of `ticket show --json`: the ticket, its messages and the
 * live thread's mention ids; @created >= 0 adds "created". */
static int show_json(struct es_inbox *ib, const struct es_ticket *t,
                     int created, struct es_buf *b)
{
    struct show_ctx sc = { .b = b };
    es_ticket_json(b, t);
    es_buf_truncate(b, b->len - 1); /* reopen the object */
    es_buf_adds(b, ",\"messages\":[");
    int rc = es_ticket_messages_each(ib, t->id, json_message, &sc);
    es_buf_adds(b, "],\"thread\":[");
    if (rc == 0)
        rc = es_ticket_thread_each(ib, t->id, json_live, &sc);
    es_buf_addch(b, ']');
    if (created >= 0)
        es_buf_addf(b, ",\"created\":%s", created ? "true" : "false");
    es_buf_adds(b, "}\n");
    return rc;
}

/* Prints ticket @id in full (JSON when @json); @created as show_json. */
static int print_ticket(struct es_inbox *ib, int64_t id, int json, int created)
{
    struct es_ticket t;
    struct es_buf b = ES_BUF_INIT;
    struct show_ctx sc = { .b = &b };
    int rc = es_ticket_get(ib, id, &t);
    if (rc < 0)
        return fail();
    if (json) {
        rc = show_json(ib, &t, created, &b);
        goto done;
    }
    es_buf_addf(&b, "ticket %lld  [%s]", (long long)t.id,
                es_ticket_state_name(t.state));
    if (t.priority >= 0)
        es_buf_addf(&b, "  priority %d", t.priority);
    es_buf_addf(&b, "\nsubject:      %s\n", t.subject ? t.subject : "-");
    es_buf_addf(&b, "conversation: %s\n", t.conversation);
    es_buf_addf(&b, "assignee:     %s\n", t.assignee ? t.assignee : "-");
    es_buf_adds(&b, "opened:       ");
    add_time(&b, t.created_at);
    es_buf_addf(&b, " by %s\n", t.created_by ? t.created_by : "-");
    es_buf_adds(&b, "updated:      ");
    add_time(&b, t.updated_at);
    es_buf_addch(&b, '\n');
    if (t.solved_at != ES_TIME_UNKNOWN) {
        es_buf_adds(&b, "solved:       ");
        add_time(&b, t.solved_at);
        es_buf_addch(&b, '\n');
    }
    if (t.forward_state) {
        es_buf_addf(&b, "helpdesk:     %s, %d attempt%s", t.forward_state,
                    t.forward_attempts, t.forward_attempts == 1 ? "" : "s");
        if (t.forward_next != ES_TIME_UNKNOWN) {
            es_buf_adds(&b, ", next ");
            add_time(&b, t.forward_next);
        }
        if (t.forward_error)
            es_buf_addf(&b, "; last error: %s", t.forward_error);
        es_buf_addch(&b, '\n');
    }
    es_buf_adds(
        &b,
        "\nthe thread when the ticket was opened (states as they were then):\n");
    rc = es_ticket_context_each(ib, t.id, show_context_mention, &sc);
    if (rc == 0)
        rc = es_ticket_thread_each(ib, t.id, show_live, &sc);
    if (rc == 0)
        rc = es_ticket_messages_each(ib, t.id, show_message, &sc);
done:
    if (rc == 0)
        es_cli_write(b.ptr, b.len);
    else
        fail();
    free(sc.ids);
    es_buf_release(&b);
    es_ticket_release(&t);
    return rc < 0 ? ES_EXIT_FAIL : ES_EXIT_OK;
}

/* ==== ticket ID: opening ==== */

static const char ticket_usage[] =
    "usage: earshot ticket MENTION_ID [--ack CANNED] [--dm CANNED]\n"
    "                      [--account NAME] [--expect-version V] [--json]\n"
    "       earshot ticket show N [--json]\n"
    "       earshot ticket state N open|pending|solved|closed\n"
    "       earshot ticket assign N AGENT\n"
    "       earshot ticket unassign N\n"
    "       earshot ticket priority N 0-100\n"
    "       earshot ticket note N TEXT\n"
    "       earshot ticket forward\n"
    "`ticket MENTION_ID` moves the conversation of that mention into a\n"
    "private ticket carrying everything known about it: every mention of\n"
    "the thread with its author, reach, sentiment, priority and state, and\n"
    "the notes and tags on them. A conversation has one ticket: asking\n"
    "again shows it. The thread's new and open mentions become pending.\n"
    "--ack posts canned reply CANNED publicly in answer to the mention,\n"
    "--dm sends canned reply CANNED to its author privately (Mastodon\n"
    "direct, Bluesky chat, X direct message, Reddit message); both are\n"
    "queued for `earshot send` through the platform's account (or\n"
    "--account NAME), {ticket} in them is the ticket's number, and they\n"
    "go out only with a new ticket. --expect-version V (from `earshot\n"
    "show`) refuses when the conversation changed since you loaded it.\n"
    "Tickets go open <-> pending -> solved -> closed (solved and closed\n"
    "reopen to open); solving or closing resolves the thread's pending\n"
    "mentions. Notes are internal, never sent. `forward` delivers new\n"
    "tickets due to the [helpdesk] webhook once (earshot send and serve\n"
    "do it too). Changes act as --as AGENT (or [earshot] agent); viewers\n"
    "only read.\n";

/* `ticket MENTION_ID`: opens (or shows) the ticket, then reports the
 * acknowledgement and the private message queued with it. */
static int ticket_open(struct es_ctx *ctx, const char *arg,
                       struct es_ticket_request *rq, int json)
{
    struct es_ticket_opened o;
    if (parse_id(arg, "mention", &rq->mention_id) < 0)
        return ES_EXIT_USAGE;
    /* The config says whether new tickets go to a helpdesk, and holds
     * the accounts for --ack and --dm. */
    struct es_config *cfg = es_ctx_config(ctx);
    if (!cfg)
        return ES_EXIT_FAIL;
    struct es_inbox *ib = es_ctx_inbox(ctx);
    if (!ib)
        return ES_EXIT_FAIL;
    rq->agent = es_ctx_agent(ctx);
    if (!rq->agent)
        return es_ctx_agent_exit(ctx);
    int rc = es_ticket_open(ib, cfg, rq, &o);
    if (rc < 0 && !o.created)
        return fail();
    /* Past here the ticket exists, whatever became of its notices. */
    char why[1024];
    snprintf(why, sizeof(why), "%s", rc < 0 ? es_error_last() : "");
    if (!json) {
        if (o.created)
            printf("opened ticket %lld\n", (long long)o.ticket_id);
        else
            printf("the conversation has a ticket already: ticket %lld\n",
                   (long long)o.ticket_id);
        if (o.ack_reply_id)
            printf("queued the acknowledgement as reply %lld\n",
                   (long long)o.ack_reply_id);
        if (o.dm_reply_id)
            printf("queued the private message as reply %lld\n",
                   (long long)o.dm_reply_id);
        if (o.ack_reply_id || o.dm_reply_id)
            printf("(`earshot send` delivers them; `earshot outbox` shows "
                   "them)\n");
        putchar('\n');
        fflush(stdout);
    }
    int st = print_ticket(ib, o.ticket_id, json, o.created);
    if (rc < 0)
        return es_cli_fail("%s", why);
    return st;
}

/* ==== ticket subcommands ==== */

static int ticket_change(struct es_ctx *ctx, const char *sub, const char **args)
{
    int64_t id;
    if (parse_id(args[0], "ticket", &id) < 0)
        return ES_EXIT_USAGE;
    enum es_ticket_state state = ES_TICKET_OPEN;
    int priority = 0;
    if (strcmp(sub, "state") == 0 &&
        es_ticket_state_parse(args[1], &state) < 0) {
        fprintf(stderr, "error: %s\n", es_error_last());
        return ES_EXIT_USAGE;
    }
    if (strcmp(sub, "priority") == 0) {
        char *end;
        errno = 0;
        long v = strtol(args[1], &end, 10);
        if (errno || end == args[1] || *end || v < 0 || v > 100) {
            fprintf(stderr,
                    "error: a priority is a whole number from 0 to 100, not "
                    "'%s'\n",
                    args[1]);
            return ES_EXIT_USAGE;
        }
        priority = (int)v;
    }
    struct es_inbox *ib = es_ctx_inbox(ctx);
    if (!ib)
        return ES_EXIT_FAIL;
    const char *agent = es_ctx_agent(ctx);
    if (!agent)
        return es_ctx_agent_exit(ctx);
    int rc;
    if (strcmp(sub, "state") == 0)
        rc = es_ticket_set_state(ib, id, state, agent);
    else if (strcmp(sub, "assign") == 0)
        rc = es_ticket_assign(ib, id, args[1], agent);
    else if (strcmp(sub, "unassign") == 0)
        rc = es_ticket_assign(ib, id, NULL, agent);
    else if (strcmp(sub, "priority") == 0)
        rc = es_ticket_set_priority(ib, id, priority, agent);
    else
        rc =
            es_ticket_message_add(ib, id, ES_TICKET_NOTE, agent, args[1], NULL);
    if (rc < 0)
        return fail();
    struct es_ticket t;
    if (es_ticket_get(ib, id, &t) < 0)
        return fail();
    char prio[16] = "-";
    if (t.priority >= 0)
        snprintf(prio, sizeof(prio), "%d", t.priority);
    if (strcmp(sub, "note") == 0)
        printf("ticket %lld: note added\n", (long long)id);
    else
        printf("ticket %lld: %s, assignee %s, priority %s\n", (long long)id,
               es_ticket_state_name(t.state), t.assignee ? t.assignee : "-",
               prio);
    es_ticket_release(&t);
    return ES_EXIT_OK;
}

struct forward_out {
    int failed;
};

static void print_forward(const struct es_ticket_forward_report *r,
                          void *payload)
{
    struct forward_out *fo = payload;
    if (!r->error) {
        printf("ticket %lld: delivered to the helpdesk (HTTP %ld, attempt "
               "%d)\n",
               (long long)r->ticket_id, r->http_code, r->attempt);
    } else {
        char t[21];
        fo->failed++;
        printf("ticket %lld: not delivered (attempt %d): %s; next attempt "
               "%s\n",
               (long long)r->ticket_id, r->attempt, r->error,
               es_time_format(r->next, t));
    }
    fflush(stdout);
}

static int ticket_forward(struct es_ctx *ctx)
{
    struct es_config *cfg = es_ctx_config(ctx);
    if (!cfg)
        return ES_EXIT_FAIL;
    struct es_inbox *ib = es_ctx_inbox(ctx);
    if (!ib)
        return ES_EXIT_FAIL;
    struct es_helpdesk hd;
    if (!es_helpdesk_get(cfg, &hd)) {
        printf("helpdesk forwarding is off (no [helpdesk] webhook_url, or "
               "enabled = no)\n");
        return ES_EXIT_OK;
    }
    struct forward_out fo = { 0 };
    int n = 0;
    if (es_tickets_forward_run(ib, cfg, print_forward, &fo, &n) < 0)
        return fail();
    printf("%d delivered, %d to retry\n", n, fo.failed);
    return fo.failed ? ES_EXIT_FAIL : ES_EXIT_OK;
}

int cmd_ticket(int argc, char **argv, struct es_ctx *ctx)
{
    struct es_ticket_request rq = { 0 };
    const char *json = NULL, *expect = NULL;
    const struct es_opt opts[] = {
        { "json", 0, &json },
        { "ack", 1, &rq.ack_canned },
        { "dm", 1, &rq.dm_canned },
        { "account", 1, &rq.account },
        { "expect-version", 1, &expect },
        { NULL, 0, NULL },
    };
    const char *args[4];
    int nargs;
    int rc = es_cli_parse_opts(argc, argv, opts, args, 3, &nargs, ticket_usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    if (nargs == 0)
        return es_cli_usage_error(ticket_usage, "missing what to do with "
                                                "tickets (see below)");
    const char *sub = args[0];
    static const struct {
        const char *name;
        int nargs; /* after the subcommand */
    } subs[] = {
        { "show", 1 },     { "state", 2 }, { "assign", 2 },  { "unassign", 1 },
        { "priority", 2 }, { "note", 2 },  { "forward", 0 },
    };
    if (sub[0] >= '0' && sub[0] <= '9') {
        if (nargs != 1) {
            fputs(ticket_usage, stderr);
            return ES_EXIT_USAGE;
        }
        if (expect &&
            parse_id(expect, "conversation version", &rq.expect_version) < 0)
            return ES_EXIT_USAGE;
        return ticket_open(ctx, sub, &rq, json != NULL);
    }
    if (rq.ack_canned || rq.dm_canned || rq.account || expect) {
        fprintf(stderr,
                "error: --ack, --dm, --account and --expect-version go with "
                "`ticket MENTION_ID`, not with '%s'\n",
                sub);
        return ES_EXIT_USAGE;
    }
    int want = -1;
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
        if (strcmp(sub, subs[i].name) == 0)
            want = subs[i].nargs;
    if (want < 0) {
        fprintf(stderr, "error: unknown ticket command '%.*s'\n%s",
                ES_CLIP(sub), ticket_usage);
        return ES_EXIT_USAGE;
    }
    if (nargs - 1 != want) {
        fprintf(stderr, "error: 'ticket %s' takes %d argument%s\n%s", sub, want,
                want == 1 ? "" : "s", ticket_usage);
        return ES_EXIT_USAGE;
    }
    if (strcmp(sub, "forward") == 0)
        return ticket_forward(ctx);
    if (strcmp(sub, "show") == 0) {
        int64_t id;
        if (parse_id(args[1], "ticket", &id) < 0)
            return ES_EXIT_USAGE;
        struct es_inbox *ib = es_ctx_inbox(ctx);
        if (!ib)
            return ES_EXIT_FAIL;
        return print_ticket(ib, id, json != NULL, -1);
    }
    return ticket_change(ctx, sub, args + 1);
}

/* ==== tickets ==== */

struct list_out {
    int json;
    size_t count;
    struct es_buf buf;
};

static int print_row(const struct es_ticket *t, void *payload)
{
    struct list_out *lo = payload;
    struct es_buf *b = &lo->buf;
    es_buf_reset(b);
    if (lo->json) {
        /* The list leaves the snapshot out; `ticket show --json` has it. */
        struct es_ticket brief = *t;
        brief.context = NULL;
        es_buf_adds(b, lo->count ? ",\n" : "[\n");
        es_ticket_json(b, &brief);
    } else {
        char created[21], prio[16];
        es_time_format(t->created_at, created);
        if (t->priority >= 0)
            snprintf(prio, sizeof(prio), "%d", t->priority);
        else
            snprintf(prio, sizeof(prio), "-");
        es_buf_addf(b, "%-6lld %-8s %4s %-12.12s %-20s %-10s %s\n",
                    (long long)t->id, es_ticket_state_name(t->state), prio,
                    t->assignee ? t->assignee : "-", created,
                    t->forward_state ? t->forward_state : "-",
                    t->subject ? t->subject : "");
    }
    es_cli_write(b->ptr, b->len);
    lo->count++;
    return 0;
}

int cmd_tickets(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] =
        "usage: earshot tickets [--state S] [--assignee AGENT|--unassigned]\n"
        "                       [--limit N] [--json]\n"
        "Lists tickets: open first, then pending, solved and closed; within\n"
        "a state the highest priority first, then the oldest. HELPDESK is\n"
        "the webhook delivery: pending or delivered. --json leaves each\n"
        "ticket's context out (null): `earshot ticket show N --json` has "
        "it.\n";
    const char *state = NULL, *assignee = NULL, *unassigned = NULL,
               *limit = NULL, *json = NULL;
    const struct es_opt opts[] = {
        { "state", 1, &state },
        { "assignee", 1, &assignee },
        { "unassigned", 0, &unassigned },
        { "limit", 1, &limit },
        { "json", 0, &json },
        { NULL, 0, NULL },
    };
    const char *args[1];
    int nargs;
    int rc = es_cli_parse_opts(argc, argv, opts, args, 0, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    struct es_ticket_query q = { .state = state, .assignee = assignee };
    enum es_ticket_state st;
    if (state && es_ticket_state_parse(state, &st) < 0) {
        fprintf(stderr, "error: %s\n", es_error_last());
        return ES_EXIT_USAGE;
    }
    if (assignee && unassigned) {
        fprintf(stderr, "error: give --assignee or --unassigned, not both\n");
        return ES_EXIT_USAGE;
    }
    if (unassigned)
        q.assignee = "";
    if (limit && es_cli_parse_count("limit", limit, 1000000, &q.limit) < 0)
        return ES_EXIT_USAGE;
    struct es_inbox *ib = es_ctx_inbox(ctx);
    if (!ib)
        return ES_EXIT_FAIL;
    struct list_out lo = { json != NULL, 0, ES_BUF_INIT };
    if (!lo.json)
        printf("%-6s %-8s %4s %-12s %-20s %-10s %s\n", "ID", "STATE", "PRIO",
               "ASSIGNEE", "CREATED", "HELPDESK", "SUBJECT");
    rc = es_ticket_each(ib, &q, print_row, &lo);
    if (lo.json)
        fputs(lo.count ? "\n]\n" : "[]\n", stdout);
    es_buf_release(&lo.buf);
    if (rc < 0)
        return fail();
    return ES_EXIT_OK;
}
