/* cmd_reply.c - reply, outbox and send: public replies from the command line
 *
 * `reply` puts a reply in the outbox (nothing is sent yet), `outbox`
 * shows what is there and lets an agent decide about a reply whose fate
 * is unknown, `send` delivers what is due once. `serve` runs the same
 * sending pass as `send` on its loop (es_cli_send_pass). Everything goes
 * through include/earshot/outbox.h, as a web page would.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "earshot/error.h"
#include "earshot/notify.h"
#include "earshot/outbox.h"
#include "earshot/tickets.h"
#include "earshot/triage.h"

/* Parses a positive id; returns 0, or -1 after printing what is wrong. */
static int parse_id(const char *what, const char *s, int64_t *out)
{
    if (es_cli_parse_id(s, out) == 0)
        return 0;
    fprintf(stderr, "error: %s must be a whole number above 0, not '%.*s'\n",
            what, ES_CLIP(s ? s : ""));
    return -1;
}

/* ==== reply ==== */

int cmd_reply(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] =
        "usage: earshot reply ID (--text TEXT | --canned NAME) [--account NAME]\n"
        "                        [--private] [--expect-version V] [--ticket N]\n"
        "Queues a reply to mention ID in the outbox; `earshot send` (or\n"
        "`earshot serve`) delivers it, exactly once. The reply goes out through\n"
        "the first [account] of the mention's platform, or --account NAME.\n"
        "--canned renders a canned reply ({author}, {agent}, {ticket}).\n"
        "--private sends a private message to the author instead (Mastodon\n"
        "direct, Bluesky chat, X direct message, Reddit message).\n"
        "--expect-version refuses the reply when the conversation changed since\n"
        "you read it at that version. Replying claims the conversation for\n"
        "claim_ttl seconds: another agent's reply meanwhile is refused.\n"
        "The length is checked now, as the platform counts it.\n";
    const char *text = NULL, *canned = NULL, *account = NULL, *priv = NULL,
               *expect = NULL, *ticket = NULL;
    const struct es_opt opts[] = {
        { "text", 1, &text },
        { "canned", 1, &canned },
        { "account", 1, &account },
        { "private", 0, &priv },
        { "expect-version", 1, &expect },
        { "ticket", 1, &ticket },
        { NULL, 0, NULL },
    };
    const char *args[1];
    int nargs;
    int rc = es_cli_parse_opts(argc, argv, opts, args, 1, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    if (nargs != 1)
        return es_cli_usage_error(usage, "missing the mention ID");
    if (!text == !canned)
        return es_cli_usage_error(usage, text ? "--text and --canned exclude "
                                                "each other"
                                              : "give the reply as --text TEXT "
                                                "or --canned NAME");
    struct es_reply_request rq = { .account = account,
                                   .private_message = !!priv };
    if (parse_id("the mention ID", args[0], &rq.mention_id) < 0 ||
        (expect &&
         parse_id("--expect-version", expect, &rq.expect_version) < 0) ||
        (ticket && parse_id("--ticket", ticket, &rq.ticket_id) < 0))
        return ES_EXIT_USAGE;
    if (!(rq.agent = es_ctx_agent(ctx)))
        return es_ctx_agent_exit(ctx);
    struct es_config *cfg = es_ctx_config(ctx);
    struct es_inbox *ib = cfg ? es_ctx_inbox(ctx) : NULL;
    if (!ib)
        return ES_EXIT_FAIL;
    struct es_buf body = ES_BUF_INIT;
    if (canned) {
        if (es_canned_render(ib, canned, rq.mention_id, rq.agent, rq.ticket_id,
                             &body) < 0) {
            es_buf_release(&body);
            return es_cli_fail("%s", es_error_last());
        }
        rq.body = body.ptr;
    } else {
        rq.body = text;
    }
    int64_t id = 0;
    rc = es_outbox_queue(ib, cfg, &rq, &id);
    es_buf_release(&body);
    if (rc < 0)
        return es_cli_fail("%s", es_error_last());
    struct es_reply r;
    if (es_outbox_get(ib, id, &r) == 0) {
        printf("reply %lld queued: %s on %s via '%s' to mention %lld\n",
               (long long)id, r.private_message ? "private message" : "public",
               r.platform ? r.platform : "?", r.account,
               (long long)r.mention_id);
        es_reply_release(&r);
    }
    fprintf(stderr, "`earshot send` delivers it (`earshot serve` does it on "
                    "its own)\n");
    return ES_EXIT_OK;
}

/* ==== outbox ==== */

struct outbox_out {
    int json;
    size_t count;
    struct es_buf buf;
};

static int print_reply(const struct es_reply *r, void *payload)
{
    struct outbox_out *oo = payload;
    struct es_buf *b = &oo->buf;
    char t[21];
    es_buf_reset(b);
    if (oo->json) {
        es_buf_adds(b, oo->count ? ",\n" : "[\n");
        es_buf_addf(b, "{\"id\":%lld,\"mention_id\":%lld,", (long long)r->id,
                    (long long)r->mention_id);
        es_json_key_str(b, "state", es_reply_state_name(r->state));
        es_buf_addch(b, ',');
        es_json_key_str(b, "visibility",
                        r->private_message ? "private" : "public");
        es_buf_addch(b, ',');
        es_json_key_str(b, "platform", r->platform);
        es_buf_addch(b, ',');
        es_json_key_str(b, "account", r->account);
        es_buf_addch(b, ',');
        es_json_key_str(b, "agent", r->agent);
        es_buf_addch(b, ',');
        es_json_key_str(b, "body", r->body);
        es_buf_addf(b, ",\"attempts\":%d,", r->attempts);
        es_json_key_time(b, "next_attempt", r->next_attempt);
        es_buf_addch(b, ',');
        es_json_key_str(b, "platform_id", r->platform_id);
        es_buf_addch(b, ',');
        es_json_key_str(b, "url", r->url);
        es_buf_addch(b, ',');
        es_json_key_str(b, "error", r->error);
        es_buf_addch(b, ',');
        if (r->ticket_id > 0)
            es_buf_addf(b, "\"ticket_id\":%lld,", (long long)r->ticket_id);
        else
            es_buf_adds(b, "\"ticket_id\":null,");
        es_json_key_time(b, "created_at", r->created_at);
        es_buf_addch(b, ',');
        es_json_key_time(b, "sent_at", r->sent_at);
        es_buf_adds(b, "}");
    } else {
        /* Sent: when; queued for a retry: when next; sending: since. */
        int64_t when = r->created_at;
        if (r->state == ES_REPLY_SENT)
            when = r->sent_at;
        else if ((r->state == ES_REPLY_QUEUED ||
                  r->state == ES_REPLY_SENDING) &&
                 r->next_attempt != ES_TIME_UNKNOWN)
            when = r->next_attempt;
        es_buf_addf(b, "%5lld  %-9s %-7s %-10s %-16s %-10s %7lld  %s  ",
                    (long long)r->id, es_reply_state_name(r->state),
                    r->private_message ? "private" : "public",
                    r->platform ? r->platform : "?", r->account, r->agent,
                    (long long)r->mention_id, es_time_format(when, t));
        es_cli_add_snippet(b, r->body, 60);
        es_buf_addch(b, '\n');
        if (r->url)
            es_buf_addf(b, "       url: %s\n", r->url);
        if (r->error && r->state != ES_REPLY_SENT)
            es_buf_addf(b, "       %s: %s\n",
                        r->state == ES_REPLY_QUEUED ? "retrying after"
                                                    : "error",
                        r->error);
    }
    es_cli_write(b->ptr, b->len);
    oo->count++;
    return 0;
}

static int outbox_resolve(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] =
        "usage: earshot outbox resolve ID (--sent | --resend | --cancel)\n"
        "Decides about reply ID. A reply is 'unknown' when the sender was\n"
        "cut off while posting it on a platform that takes no idempotency\n"
        "key: look at the platform, then --sent (it is there), --resend\n"
        "(it is not: queue it again) or --cancel. A failed reply can be\n"
        "resent (after fixing what failed) or cancelled; a queued one\n"
        "cancelled.\n";
    const char *sent = NULL, *resend = NULL, *cancel = NULL;
    const struct es_opt opts[] = {
        { "sent", 0, &sent },
        { "resend", 0, &resend },
        { "cancel", 0, &cancel },
        { NULL, 0, NULL },
    };
    const char *args[1];
    int nargs;
    int rc = es_cli_parse_opts(argc, argv, opts, args, 1, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    int64_t id;
    if (nargs != 1 || !!sent + !!resend + !!cancel != 1) {
        fprintf(stderr,
                "error: give a reply ID and one of --sent, --resend "
                "or --cancel\n%s",
                usage);
        return ES_EXIT_USAGE;
    }
    if (parse_id("the reply ID", args[0], &id) < 0)
        return ES_EXIT_USAGE;
    const char *agent = es_ctx_agent(ctx);
    if (!agent)
        return es_ctx_agent_exit(ctx);
    struct es_inbox *ib = es_ctx_inbox(ctx);
    if (!ib)
        return ES_EXIT_FAIL;
    enum es_outbox_resolution how = sent     ? ES_OUTBOX_SENT
                                    : resend ? ES_OUTBOX_RESEND
                                             : ES_OUTBOX_CANCEL;
    if (es_outbox_resolve(ib, id, agent, how) < 0)
        return es_cli_fail("%s", es_error_last());
    printf("reply %lld %s\n", (long long)id,
           sent     ? "marked sent"
           : resend ? "queued again: `earshot send` delivers it"
                    : "cancelled");
    return ES_EXIT_OK;
}

int cmd_outbox(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] =
        "usage: earshot outbox [--state S] [--limit N] [--json]\n"
        "       earshot outbox resolve ID (--sent | --resend | --cancel)\n"
        "Lists the replies in the outbox, newest first: id, state, visibility,\n"
        "platform, account, agent, mention, when (sent, next attempt or\n"
        "queued) and text, with the posted URL or the last error. States:\n"
        "queued, sending, sent, failed, unknown (an agent must decide: see\n"
        "`earshot outbox resolve --help`), cancelled.\n";
    if (argc > 1 && strcmp(argv[1], "resolve") == 0)
        return outbox_resolve(argc - 1, argv + 1, ctx);
    const char *state = NULL, *limit_s = NULL, *json = NULL;
    const struct es_opt opts[] = {
        { "state", 1, &state },
        { "limit", 1, &limit_s },
        { "json", 0, &json },
        { NULL, 0, NULL },
    };
    const char *args[1];
    int nargs, limit = 0;
    int rc = es_cli_parse_opts(argc, argv, opts, args, 0, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    if (limit_s && es_cli_parse_count("limit", limit_s, 1000000, &limit) < 0)
        return ES_EXIT_USAGE;
    enum es_reply_state st;
    if (state && es_reply_state_parse(state, &st) < 0) {
        fprintf(stderr, "error: %s\n", es_error_last());
        return ES_EXIT_USAGE;
    }
    struct es_inbox *ib = es_ctx_inbox(ctx);
    if (!ib)
        return ES_EXIT_FAIL;
    struct outbox_out oo = { json != NULL, 0, ES_BUF_INIT };
    rc = es_outbox_each(ib, state, limit, print_reply, &oo);
    if (oo.json)
        fputs(oo.count ? "\n]\n" : "[]\n", stdout);
    else if (!oo.count)
        fprintf(stderr, "the outbox is empty%s%s\n", state ? " of state " : "",
                state ? state : "");
    es_buf_release(&oo.buf);
    return rc < 0 ? es_cli_fail("%s", es_error_last()) : ES_EXIT_OK;
}

/* ==== send ==== */

static void print_sent(const struct es_send_report *r, void *payload)
{
    FILE *out = payload;
    char t[21];
    switch (r->state) {
    case ES_REPLY_SENT:
        fprintf(out, "reply %lld: sent via '%s'%s%s\n", (long long)r->reply_id,
                r->account, r->url ? ": " : "", r->url ? r->url : "");
        break;
    case ES_REPLY_QUEUED:
        fprintf(out, "reply %lld: will retry at %s: %s\n",
                (long long)r->reply_id, es_time_format(r->next_attempt, t),
                r->error ? r->error : "");
        break;
    default:
        fprintf(out, "reply %lld: %s: %s\n", (long long)r->reply_id,
                es_reply_state_name(r->state), r->error ? r->error : "");
        break;
    }
}

int es_cli_send_pass(struct es_ctx *ctx, FILE *out, int quiet_busy)
{
    struct es_config *cfg = es_ctx_config(ctx);
    struct es_inbox *ib = cfg ? es_ctx_inbox(ctx) : NULL;
    if (!ib)
        return -1;
    struct es_send_stats st;
    int rc = es_replies_send_due(ib, cfg, print_sent, out, &st);
    if (rc == ES_EEXISTS) {
        if (!quiet_busy)
            fprintf(stderr, "earshot: %s; nothing sent\n", es_error_last());
        return 0;
    }
    if (rc < 0) {
        fprintf(stderr, "error: %s\n", es_error_last());
        return -1;
    }
    /* Tickets waiting for the helpdesk go out on the same pass; a
     * helpdesk that is down or misconfigured never holds up replies. */
    int forwarded = 0;
    if (es_tickets_forward_due(ib, cfg, &forwarded) < 0)
        fprintf(stderr, "earshot: helpdesk: %s\n", es_error_last());
    else if (forwarded > 0)
        fprintf(out, "helpdesk: %d ticket%s forwarded\n", forwarded,
                forwarded == 1 ? "" : "s");
    /* So do alert notifications: each channel is bounded by its own
     * timeout and records its own failures. */
    int notified = 0;
    if (es_notify_deliver_due(ib, cfg, &notified) < 0)
        fprintf(stderr, "earshot: alerts: %s\n", es_error_last());
    else if (notified > 0)
        fprintf(out, "alerts: %d notification%s delivered\n", notified,
                notified == 1 ? "" : "s");
    return (int)(st.failed + st.unknown);
}

int cmd_send(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] =
        "usage: earshot send\n"
        "Delivers every reply in the outbox that is due, once, then exits.\n"
        "Prints a line per reply: sent (with its URL), will retry (429 and\n"
        "5xx, with backoff), failed (the platform's own message) or unknown\n"
        "(cut off mid-flight on a platform without idempotency keys: see\n"
        "`earshot outbox resolve`). New tickets go to the [helpdesk]\n"
        "webhook and alert notifications to their [notify] channels on\n"
        "the same pass. Exit 1 when a reply failed or is\n"
        "unknown; 0 otherwise, also when nothing was due or another sender\n"
        "(`earshot serve`) is at work.\n";
    const char *args[1];
    int nargs;
    int rc = es_cli_parse_opts(argc, argv, NULL, args, 0, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    rc = es_cli_send_pass(ctx, stdout, 0);
    return rc == 0 ? ES_EXIT_OK : ES_EXIT_FAIL;
}
