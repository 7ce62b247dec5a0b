/* notify.c - delivering alerts to Slack, webhooks, email and commands
 *
 * The alert engine queues alert_deliveries rows; this file sends the due
 * ones and records what happened (include/earshot/notify.h has the
 * contract). A pass runs in three steps so that the database stays on
 * the calling thread and no channel can hold up another:
 *
 * 1. take: in one IMMEDIATE transaction, read the due rows (at most
 *    ES_NOTIFY_PER_CHANNEL per channel) and lease them (next_attempt moved
 *    past the pass, so a second earshot process leaves them alone; a crash
 *    lets the lease expire and the row is sent again: at least once),
 *    then read each row's alert and build every message;
 * 2. send: one thread per channel delivers that channel's rows in order,
 *    each attempt bounded by the channel's timeout; after a failure the
 *    channel's remaining rows wait for the next pass;
 * 3. record: in one transaction, attempts, last_error, delivered_at, the
 *    next try (es_schedule_next: 60 s doubling to 6 h) or 'failed'.
 *
 * Secrets (secret, password, the path and query of a channel's URL, any
 * userinfo) are scrubbed from every error before it is stored or
 * reported; the messages we write ourselves never contain them, and the
 * scrub also catches what a server or a command echoes back.
 */
#include "earshot/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "collectors/http.h"
#include "collectors/json.h"
#include "earshot/alloc.h"
#include "earshot/buf.h"
#include "earshot/error.h"
#include "earshot/item.h"
#include "earshot/metrics.h"
#include "earshot/source.h"
#include "inbox/store.h"
#include "smtp.h"

extern char **environ;

/* Rows read per pass before the per-channel cap is applied. */
#define TAKE_LIMIT 500
/* Channel threads running at once. */
#define MAX_THREADS 16
/* A lease lasts the channel's timeout per row ahead of it, plus this. */
#define LEASE_MARGIN_S 60
/* How much of a refusal, or of a command's output, an error keeps. */
#define ERROR_SNIPPET 300
/* A command's stdout and stderr are kept up to this much each. */
#define OUTPUT_KEEP 8192
/* After a timeout, SIGTERM, then SIGKILL after this long. */
#define KILL_GRACE_MS 1000
/* Mention text in a message is cut to this many bytes. */
#define MENTION_TEXT 240

/* ==== Channels ==== */

enum channel_type { CH_SLACK, CH_WEBHOOK, CH_EMAIL, CH_COMMAND };

static const char *const type_names[] = { "slack", "webhook", "email",
                                          "command" };

/* One replacement the scrub makes in an error text. */
struct redaction {
    char *from;
    const char *to;
};

#define MAX_REDACTIONS 12

/* A [notify "NAME"] section, read and checked. Strings are borrowed from
 * the config except the redactions' and @display. */
struct channel {
    const char *name;
    enum channel_type type;
    const char *url; /* slack, webhook */
    const char *secret;
    const char *smtp_url;
    const char *from;
    const char *to;
    const char *username;
    const char *password;
    const char *command;
    int starttls;
    long timeout_ms;
    char display[256]; /* the URL as messages show it: origin + "/..." */
    struct redaction red[MAX_REDACTIONS];
    size_t nred;
};

static void channel_release(struct channel *ch)
{
    for (size_t i = 0; i < ch->nred; i++)
        free(ch->red[i].from);
    ch->nred = 0;
}

static void add_redaction(struct channel *ch, const char *s, size_t len,
                          const char *to)
{
    if (len == 0 || ch->nred == MAX_REDACTIONS)
        return;
    ch->red[ch->nred].from = es_xstrndup(s, len);
    ch->red[ch->nred].to = to;
    ch->nred++;
}

/* Records what must never appear for URL @url: the whole of it (and the
 * form es_http__redact_url gives) becomes @display, its path and query
 * "/...", its userinfo "***". Fills @display with the origin plus
 * "/..." when there is a path. */
static void redact_url(struct channel *ch, const char *url, char *display,
                       size_t size)
{
    char noinfo[1024];
    const char *p = strstr(url, "://");
    const char *auth = p ? p + 3 : url;
    size_t alen = strcspn(auth, "/?#");
    const char *at = memchr(auth, '@', alen);
    const char *host = at ? at + 1 : auth;
    size_t hlen = alen - (size_t)(host - auth);
    const char *rest = auth + alen;

    snprintf(display, size, "%.*s%.*s%s", p ? (int)(auth - url) : 0, url,
             (int)hlen, host, *rest && strcmp(rest, "/") != 0 ? "/..." : "");
    add_redaction(ch, url, strlen(url), display);
    es_http__redact_url(url, noinfo, sizeof(noinfo));
    if (strcmp(noinfo, url) != 0)
        add_redaction(ch, noinfo, strlen(noinfo), display);
    if (strlen(rest) > 1)
        add_redaction(ch, rest, strlen(rest), "/...");
    if (at)
        add_redaction(ch, auth, (size_t)(at - auth), "***");
}

/* Secrets shorter than this are not scrubbed from free text: they would
 * turn every message into asterisks, and protect nothing. */
#define MIN_SECRET 4

static int is_http_url(const char *u)
{
    return !strncasecmp(u, "http://", 7) || !strncasecmp(u, "https://", 8);
}

static const char *get(const struct es_config_source *sec, const char *key)
{
    const char *v = es_config_source_get(sec, key);
    return v && *v ? v : NULL;
}

/* Reads [notify "@name"] of @cfg into @ch (released by the caller with
 * channel_release, also on failure). Returns 0, ES_ENOTFOUND, or
 * ES_EINVALID naming the channel and the missing or bad key. */
static int channel_load(const struct es_config *cfg, const char *name,
                        struct channel *ch)
{
    const struct es_config_source *sec;
    const char *t;

    memset(ch, 0, sizeof(*ch));
    ch->name = name;
    sec = cfg ? es_config_section_find(cfg, "notify", name) : NULL;
    if (!sec)
        return es_error_set(ES_ENOTFOUND,
                            "notify '%s': no [notify \"%s\"] section in the "
                            "config",
                            name, name);
    t = sec->type ? sec->type : get(sec, "type");
    for (size_t i = 0; t && i < sizeof(type_names) / sizeof(*type_names); i++)
        if (strcmp(t, type_names[i]) == 0) {
            ch->type = (enum channel_type)i;
            t = NULL;
            break;
        }
    if (t || !(sec->type || get(sec, "type")))
        return es_error_set(ES_EINVALID,
                            "notify '%s': type must be slack, webhook, email "
                            "or command",
                            name);

    ch->url = get(sec, "url");
    ch->secret = get(sec, "secret");
    ch->smtp_url = get(sec, "smtp_url");
    ch->from = get(sec, "from");
    ch->to = get(sec, "to");
    ch->username = get(sec, "username");
    ch->password = get(sec, "password");
    ch->command = get(sec, "command");
    ch->starttls = es_config_source_bool(sec, "starttls", 1);
    long timeout = ES_NOTIFY_TIMEOUT_S;
    if (get(sec, "timeout") &&
        (es_metrics_parse_duration(get(sec, "timeout"), &timeout) < 0 ||
         timeout < 1))
        return es_error_set(ES_EINVALID,
                            "notify '%s': timeout '%s' is not a duration", name,
                            get(sec, "timeout"));
    ch->timeout_ms = timeout * 1000;

    if (ch->secret && strlen(ch->secret) >= MIN_SECRET)
        add_redaction(ch, ch->secret, strlen(ch->secret), "***");
    if (ch->password && strlen(ch->password) >= MIN_SECRET)
        add_redaction(ch, ch->password, strlen(ch->password), "***");
    if (ch->url)
        redact_url(ch, ch->url, ch->display, sizeof(ch->display));
    if (ch->smtp_url && ch->type == CH_EMAIL)
        redact_url(ch, ch->smtp_url, ch->display, sizeof(ch->display));

    switch (ch->type) {
    case CH_SLACK:
    case CH_WEBHOOK:
        if (!ch->url)
            return es_error_set(ES_EINVALID, "%s '%s': no url",
                                type_names[ch->type], name);
        if (!is_http_url(ch->url))
            return es_error_set(ES_EINVALID,
                                "%s '%s': url must be http:// or https://",
                                type_names[ch->type], name);
        if (ch->type == CH_WEBHOOK && !ch->secret)
            return es_error_set(ES_EINVALID,
                                "webhook '%s': no secret: deliveries are "
                                "only sent signed (set secret = ${ENV_VAR})",
                                name);
        break;
    case CH_EMAIL:
        if (!ch->smtp_url || !ch->from || !ch->to)
            return es_error_set(ES_EINVALID, "email '%s': no %s", name,
                                !ch->smtp_url ? "smtp_url"
                                : !ch->from   ? "from"
                                              : "to");
        break;
    case CH_COMMAND:
        if (!ch->command)
            return es_error_set(ES_EINVALID, "command '%s': no command", name);
        break;
    }
    return 0;
}

/* Replaces every secret of @ch in @b (longest first: they are added in
 * that order per URL), then makes it one line of valid UTF-8. */
static void scrub(struct es_buf *b, const struct channel *ch)
{
    for (size_t i = 0; i < ch->nred; i++) {
        const char *from = ch->red[i].from;
        size_t flen = strlen(from);
        char *hit;
        size_t off = 0;
        while ((hit = strstr(b->ptr + off, from)) != NULL) {
            struct es_buf nb = ES_BUF_INIT;
            size_t pos = (size_t)(hit - b->ptr);
            es_buf_add(&nb, b->ptr, pos);
            es_buf_adds(&nb, ch->red[i].to);
            off = nb.len;
            es_buf_adds(&nb, hit + flen);
            es_buf_release(b);
            *b = nb;
        }
    }
    struct es_buf clean = ES_BUF_INIT;
    es_buf_add_valid_utf8(&clean, b->ptr, b->len);
    for (size_t i = 0; i < clean.len; i++)
        if ((unsigned char)clean.ptr[i] < 0x20 || clean.ptr[i] == 0x7f)
            clean.ptr[i] = ' ';
    es_buf_release(b);
    *b = clean;
}

/* ==== What a message says ==== */

/* Everything a message is built from: one delivery and its alert. */
struct view {
    const char *notify; /* the channel's name */
    const char *event;  /* "fire", "resolve" or "test" */
    long long delivery_id;
    char delivery[96]; /* the stable delivery id */
    long long alert_id;
    char *rule;
    int64_t bucket; /* seconds */
    int64_t started_at;
    int64_t ended_at; /* ES_TIME_UNKNOWN while firing */
    int firing;
    long observed;
    double expected;
    int has_score;
    double score;
    int has_peak;
    long peak;
    char *explanation; /* the stored JSON, or NULL */
    yajl_val ex;       /* parsed, or NULL when absent or not JSON */
    char **urls;       /* per top mention, from the store when the
                          explanation has none (NULL entries) */
    size_t nurls;
    int64_t now;
};

static void view_release(struct view *v)
{
    free(v->rule);
    free(v->explanation);
    es_json_free(v->ex);
    for (size_t i = 0; i < v->nurls; i++)
        free(v->urls[i]);
    free(v->urls);
    memset(v, 0, sizeof(*v));
}

static const char *bucket_name(int64_t bucket, char out[16])
{
    if (bucket == 300)
        return "5m";
    if (bucket == 3600)
        return "1h";
    if (bucket == 86400)
        return "1d";
    snprintf(out, 16, "%llds", (long long)bucket);
    return out;
}

/* "the hour", "the 5 minutes", "the day" a bucket covers. */
static const char *bucket_span(int64_t bucket)
{
    return bucket == 300     ? "5 minutes"
           : bucket == 86400 ? "day"
           : bucket == 3600  ? "hour"
                             : "bucket";
}

/* "2024-05-01 09:00 UTC" */
static void add_when(struct es_buf *b, int64_t t)
{
    char iso[21];
    es_time_format(t, iso);
    if (!iso[0]) {
        es_buf_adds(b, "?");
        return;
    }
    es_buf_addf(b, "%.10s %.5s UTC", iso, iso + 11);
}

/* "3h", "2h 30m", "45m", "2d 4h" */
static void add_duration(struct es_buf *b, int64_t s)
{
    if (s < 0)
        s = 0;
    long long d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60;
    if (d)
        es_buf_addf(b, h ? "%lldd %lldh" : "%lldd", d, h);
    else if (h)
        es_buf_addf(b, m ? "%lldh %lldm" : "%lldh", h, m);
    else if (m)
        es_buf_addf(b, "%lldm", m);
    else
        es_buf_addf(b, "%llds", (long long)s);
}

static void add_num(struct es_buf *b, double x)
{
    if (!isfinite(x))
        es_buf_adds(b, "?");
    else if (fabs(x - round(x)) < 0.05)
        es_buf_addf(b, "%.0f", x);
    else
        es_buf_addf(b, "%.1f", x);
}

/* What the rule counts, as words: "negative mentions", "mentions from
 * hn". From the explanation's series. */
static void add_series_words(struct es_buf *b, const struct view *v)
{
    const char *s = es_json_str(v->ex, "series");
    if (!s || !strcmp(s, "all"))
        es_buf_adds(b, "mentions");
    else if (!strncmp(s, "source:", 7))
        es_buf_addf(b, "mentions from %s", s + 7);
    else if (!strncmp(s, "platform:", 9))
        es_buf_addf(b, "mentions on %s", s + 9);
    else if (!strncmp(s, "tag:", 4))
        es_buf_addf(b, "mentions tagged %s", s + 4);
    else if (!strncmp(s, "query:", 6))
        es_buf_addf(b, "mentions matching %s", s + 6);
    else
        es_buf_addf(b, "%s mentions", s);
}

static int64_t view_end(const struct view *v)
{
    return v->ended_at != ES_TIME_UNKNOWN ? v->ended_at : v->now;
}

/* One line that says it all; the fallback text of every channel. */
static void add_summary(struct es_buf *b, const struct view *v)
{
    if (!strcmp(v->event, "test")) {
        es_buf_addf(b,
                    "earshot test message through '%s': alerts from this "
                    "channel will look like this",
                    v->notify);
        return;
    }
    if (!strcmp(v->event, "resolve")) {
        es_buf_addf(b, "Resolved: %s: the spike is over after ", v->rule);
        add_duration(b, view_end(v) - v->started_at);
        es_buf_adds(b, " (");
        add_when(b, v->started_at);
        es_buf_adds(b, " to ");
        add_when(b, view_end(v));
        es_buf_adds(b, ")");
        if (v->has_peak)
            es_buf_addf(b, "; peak %ld in one %s", v->peak,
                        bucket_span(v->bucket));
        return;
    }
    es_buf_addf(b, "Spike: %s: %ld ", v->rule, v->observed);
    add_series_words(b, v);
    es_buf_addf(b, " in the %s from ", bucket_span(v->bucket));
    add_when(b, v->started_at);
    es_buf_adds(b, ", ");
    add_num(b, v->expected);
    es_buf_adds(b, " expected");
    if (v->has_score) {
        es_buf_adds(b, " (score ");
        add_num(b, v->score);
        es_buf_adds(b, ")");
    }
}

/* Appends @s (may be NULL) cut to @max bytes of whole UTF-8 characters,
 * with line breaks and controls turned into spaces, "..." when cut. */
static void add_clipped(struct es_buf *b, const char *s, size_t max)
{
    struct es_buf t = ES_BUF_INIT;
    if (!s)
        s = "";
    es_buf_add_valid_utf8(&t, s, strlen(s));
    for (size_t i = 0; i < t.len; i++)
        if ((unsigned char)t.ptr[i] < 0x20 || t.ptr[i] == 0x7f)
            t.ptr[i] = ' ';
    if (t.len > max) {
        size_t n = max;
        while (n > 0 && ((unsigned char)t.ptr[n] & 0xc0) == 0x80)
            n--;
        es_buf_truncate(&t, n);
        es_buf_adds(&t, "...");
    }
    es_buf_add(b, t.ptr, t.len);
    es_buf_release(&t);
}

/* The link of top mention @i: the explanation's url, else the store's. */
static const char *mention_url(const struct view *v, size_t i)
{
    yajl_val m = es_json_at(es_json_get(v->ex, "top_mentions"), i);
    const char *u = es_json_str(m, "url");
    if (u && *u)
        return u;
    return i < v->nurls ? v->urls[i] : NULL;
}

/* "outage (31), login (12)" from a [["word", n], ...] list; 0 when the
 * list is empty. */
static int add_pairs(struct es_buf *b, yajl_val list, size_t max)
{
    size_t n = es_json_len(list), k = 0;
    for (size_t i = 0; i < n && k < max; i++) {
        yajl_val pair = es_json_at(list, i);
        yajl_val w = es_json_at(pair, 0), c = es_json_at(pair, 1);
        if (!YAJL_IS_STRING(w))
            continue;
        es_buf_adds(b, k++ ? ", " : "");
        add_clipped(b, YAJL_GET_STRING(w), 60);
        if (c && YAJL_IS_INTEGER(c))
            es_buf_addf(b, " (%lld)", YAJL_GET_INTEGER(c));
        else if (c && YAJL_IS_DOUBLE(c))
            es_buf_addf(b, " (%.0f)", YAJL_GET_DOUBLE(c));
    }
    return k > 0;
}

/* ==== The JSON body (webhook, command) ==== */

static void json_num(struct es_buf *b, double x)
{
    if (isfinite(x))
        es_buf_addf(b, "%.6g", x);
    else
        es_buf_adds(b, "null");
}

/* The body documented in docs/alerts-notify.md. */
static void build_json(struct es_buf *b, const struct view *v)
{
    char bn[16];
    es_buf_adds(b, "{\"event\":");
    es_json_add_str(b, v->event);
    es_buf_adds(b, ",\"delivery\":");
    es_json_add_str(b, v->delivery);
    es_buf_addf(b, ",\"alert_id\":%lld,\"rule\":", v->alert_id);
    es_json_add_str(b, v->rule);
    es_buf_adds(b, ",\"notify\":");
    es_json_add_str(b, v->notify);
    es_buf_adds(b, ",\"state\":");
    es_json_add_str(b, v->firing ? "firing" : "resolved");
    es_buf_adds(b, ",\"bucket\":");
    es_json_add_str(b, bucket_name(v->bucket, bn));
    es_buf_addf(
        b, ",\"bucket_seconds\":%lld,\"started_at\":", (long long)v->bucket);
    es_json_add_time(b, v->started_at);
    es_buf_adds(b, ",\"ended_at\":");
    es_json_add_time(b, v->ended_at);
    es_buf_adds(b, ",\"duration_seconds\":");
    if (v->ended_at != ES_TIME_UNKNOWN)
        es_buf_addf(b, "%lld", (long long)(v->ended_at - v->started_at));
    else
        es_buf_adds(b, "null");
    es_buf_addf(b, ",\"observed\":%ld,\"expected\":", v->observed);
    json_num(b, v->expected);
    es_buf_adds(b, ",\"score\":");
    if (v->has_score)
        json_num(b, v->score);
    else
        es_buf_adds(b, "null");
    es_buf_adds(b, ",\"peak\":");
    if (v->has_peak)
        es_buf_addf(b, "%ld", v->peak);
    else
        es_buf_adds(b, "null");
    es_buf_adds(b, ",\"summary\":");
    struct es_buf s = ES_BUF_INIT;
    add_summary(&s, v);
    es_buf_add_json_str(b, s.ptr, s.len);
    es_buf_release(&s);
    /* The explanation goes in verbatim when it is JSON (it is the
     * detector's own document), else as null. */
    es_buf_adds(b, ",\"explanation\":");
    if (v->ex && v->explanation)
        es_buf_adds(b, v->explanation);
    else
        es_buf_adds(b, "null");
    es_buf_adds(b, ",\"sent_at\":");
    es_json_add_time(b, v->now);
    es_buf_adds(b, "}");
}

/* ==== Slack ==== */

/* Slack mrkdwn escapes only these three. */
static void add_mrkdwn(struct es_buf *b, const char *s, size_t max)
{
    struct es_buf t = ES_BUF_INIT;
    add_clipped(&t, s, max);
    for (size_t i = 0; i < t.len; i++) {
        char c = t.ptr[i];
        if (c == '&')
            es_buf_adds(b, "&amp;");
        else if (c == '<')
            es_buf_adds(b, "&lt;");
        else if (c == '>')
            es_buf_adds(b, "&gt;");
        else
            es_buf_addch(b, c);
    }
    es_buf_release(&t);
}

static void slack_text(struct es_buf *b, const char *type, const char *text)
{
    es_buf_addf(b, "{\"type\":\"%s\",\"text\":", type);
    es_buf_add_json_str(b, text, strlen(text));
    if (!strcmp(type, "plain_text"))
        es_buf_adds(b, ",\"emoji\":true");
    es_buf_adds(b, "}");
}

static void slack_field(struct es_buf *b, int *first, const char *label,
                        const char *value)
{
    struct es_buf t = ES_BUF_INIT;
    es_buf_addf(&t, "*%s*\n", label);
    add_mrkdwn(&t, value, 200);
    es_buf_adds(b, *first ? "" : ",");
    *first = 0;
    slack_text(b, "mrkdwn", t.ptr);
    es_buf_release(&t);
}

/* Slack refuses a section whose text is longer than 3000 characters
 * (invalid_blocks, a 400 we would take as final): bullets stop short of
 * it. */
#define SLACK_SECTION_MAX 2900

/* The top mentions as mrkdwn bullets; 0 when there are none. */
static int slack_mentions(struct es_buf *t, const struct view *v)
{
    yajl_val list = es_json_get(v->ex, "top_mentions");
    size_t n = es_json_len(list);
    struct es_buf item = ES_BUF_INIT;
    if (n == 0)
        return 0;
    es_buf_adds(t, "*Top mentions*");
    for (size_t i = 0; i < n && i < 5; i++) {
        yajl_val m = es_json_at(list, i);
        const char *author = es_json_str(m, "author");
        const char *source = es_json_str(m, "source");
        const char *url = mention_url(v, i);
        double sent;
        es_buf_reset(&item);
        es_buf_adds(&item, "\n• ");
        if (url && is_http_url(url) && strlen(url) < 1000 &&
            !strpbrk(url, "<>| ")) {
            es_buf_adds(&item, "<");
            add_mrkdwn(&item, url, 1000); /* & as &amp;, as Slack wants */
            es_buf_adds(&item, "|");
            add_mrkdwn(&item, author ? author : "mention", 80);
            es_buf_adds(&item, ">");
        } else {
            add_mrkdwn(&item, author ? author : "mention", 80);
        }
        if (source) {
            es_buf_adds(&item, " on ");
            add_mrkdwn(&item, source, 80);
        }
        if (es_json_num(m, "sentiment", &sent) == 0)
            es_buf_addf(&item, " (%+.2f)", sent);
        es_buf_adds(&item, ": _");
        add_mrkdwn(&item, es_json_str(m, "text"), MENTION_TEXT);
        es_buf_adds(&item, "_");
        if (t->len + item.len > SLACK_SECTION_MAX)
            break;
        es_buf_add(t, item.ptr, item.len);
    }
    es_buf_release(&item);
    return 1;
}

/* "*Terms:* ... · *Sources:* ... · *Authors:* ..." */
static int add_drivers(struct es_buf *t, const struct view *v, int mrkdwn)
{
    static const char *const keys[] = { "terms", "sources", "authors" };
    static const char *const labels[] = { "Terms", "Sources", "Authors" };
    int any = 0;
    for (size_t k = 0; k < 3; k++) {
        struct es_buf p = ES_BUF_INIT;
        if (add_pairs(&p, es_json_get(v->ex, keys[k]), 10)) {
            es_buf_adds(t, any ? (mrkdwn ? " · " : "\n") : "");
            es_buf_addf(t, mrkdwn ? "*%s:* " : "%s: ", labels[k]);
            if (mrkdwn)
                add_mrkdwn(t, p.ptr, 900);
            else
                es_buf_add(t, p.ptr, p.len);
            any = 1;
        }
        es_buf_release(&p);
    }
    return any;
}

static void build_slack(struct es_buf *b, const struct view *v)
{
    struct es_buf t = ES_BUF_INIT, head = ES_BUF_INIT;
    int test = !strcmp(v->event, "test");
    int resolve = !strcmp(v->event, "resolve");
    int first = 1;

    struct es_buf s = ES_BUF_INIT;
    add_summary(&s, v);
    add_mrkdwn(&t, s.ptr, 2000);
    es_buf_release(&s);
    es_buf_adds(b, "{\"text\":");
    es_buf_add_json_str(b, t.ptr, t.len);
    es_buf_adds(b, ",\"blocks\":[{\"type\":\"header\",\"text\":");
    es_buf_adds(&head, test      ? ":bell: Test: "
                       : resolve ? ":white_check_mark: Resolved: "
                                 : ":rotating_light: Spike: ");
    add_clipped(&head, v->rule, 100);
    slack_text(b, "plain_text", head.ptr);
    es_buf_adds(b, "}");

    /* What happened, in one sentence (the same as the fallback text),
     * then the figures as fields. */
    es_buf_adds(b, ",{\"type\":\"section\",\"text\":");
    slack_text(b, "mrkdwn", t.ptr);
    es_buf_adds(b, ",\"fields\":[");
    struct es_buf f = ES_BUF_INIT;
    if (resolve) {
        add_duration(&f, view_end(v) - v->started_at);
        slack_field(b, &first, "Lasted", f.ptr);
        es_buf_reset(&f);
        add_when(&f, view_end(v));
        slack_field(b, &first, "Ended", f.ptr);
        es_buf_reset(&f);
    }
    es_buf_addf(&f, "%ld", v->observed);
    slack_field(b, &first, resolve ? "Observed at the start" : "Observed",
                f.ptr);
    es_buf_reset(&f);
    add_num(&f, v->expected);
    slack_field(b, &first, "Expected", f.ptr);
    es_buf_reset(&f);
    if (v->has_score) {
        add_num(&f, v->score);
        slack_field(b, &first, "Score", f.ptr);
        es_buf_reset(&f);
    }
    if (v->has_peak) {
        es_buf_addf(&f, "%ld", v->peak);
        slack_field(b, &first, "Peak", f.ptr);
        es_buf_reset(&f);
    }
    add_when(&f, v->started_at);
    es_buf_addf(&f, " (%s buckets)", bucket_span(v->bucket));
    slack_field(b, &first, "Started", f.ptr);
    es_buf_release(&f);
    es_buf_adds(b, "]}");

    es_buf_reset(&t);
    if (slack_mentions(&t, v)) {
        es_buf_adds(b, ",{\"type\":\"section\",\"text\":");
        slack_text(b, "mrkdwn", t.ptr);
        es_buf_adds(b, "}");
    }
    es_buf_reset(&t);
    if (add_drivers(&t, v, 1)) {
        es_buf_adds(b, ",{\"type\":\"context\",\"elements\":[");
        slack_text(b, "mrkdwn", t.ptr);
        es_buf_adds(b, "]}");
    }
    es_buf_adds(b, "]}");
    es_buf_release(&t);
    es_buf_release(&head);
}

/* ==== Email ==== */

static void build_subject(struct es_buf *b, const struct view *v)
{
    if (!strcmp(v->event, "test")) {
        es_buf_addf(b, "[earshot] Test message through '%s'", v->notify);
    } else if (!strcmp(v->event, "resolve")) {
        es_buf_addf(b, "[earshot] Resolved: %s after ", v->rule);
        add_duration(b, view_end(v) - v->started_at);
    } else {
        es_buf_addf(b, "[earshot] Spike: %s: %ld ", v->rule, v->observed);
        add_series_words(b, v);
        es_buf_adds(b, " (");
        add_num(b, v->expected);
        es_buf_adds(b, " expected)");
    }
}

static void build_email_body(struct es_buf *b, const struct view *v)
{
    char bn[16];
    add_summary(b, v);
    es_buf_adds(b, ".\n\n");
    es_buf_addf(b, "Rule:      %s\n", v->rule);
    if (es_json_str(v->ex, "series"))
        es_buf_addf(b, "Series:    %s\n", es_json_str(v->ex, "series"));
    es_buf_addf(b, "Bucket:    %s\n", bucket_name(v->bucket, bn));
    es_buf_adds(b, "Started:   ");
    add_when(b, v->started_at);
    es_buf_adds(b, "\nEnded:     ");
    if (v->ended_at != ES_TIME_UNKNOWN) {
        add_when(b, v->ended_at);
        es_buf_adds(b, " (lasted ");
        add_duration(b, v->ended_at - v->started_at);
        es_buf_adds(b, ")");
    } else {
        es_buf_adds(b, "still firing");
    }
    es_buf_addf(b, "\nObserved:  %ld in the first %s\nExpected:  ", v->observed,
                bucket_span(v->bucket));
    add_num(b, v->expected);
    if (v->has_score) {
        es_buf_adds(b, "\nScore:     ");
        add_num(b, v->score);
    }
    if (v->has_peak)
        es_buf_addf(b, "\nPeak:      %ld in one %s", v->peak,
                    bucket_span(v->bucket));
    es_buf_adds(b, "\n");

    yajl_val list = es_json_get(v->ex, "top_mentions");
    size_t n = es_json_len(list);
    if (n)
        es_buf_adds(b, "\nTop mentions\n");
    for (size_t i = 0; i < n && i < 5; i++) {
        yajl_val m = es_json_at(list, i);
        const char *author = es_json_str(m, "author");
        const char *source = es_json_str(m, "source");
        const char *url = mention_url(v, i);
        double sent;
        es_buf_adds(b, "- ");
        add_clipped(b, author ? author : "(unknown author)", 80);
        if (source) {
            es_buf_adds(b, " on ");
            add_clipped(b, source, 80);
        }
        if (es_json_num(m, "sentiment", &sent) == 0)
            es_buf_addf(b, " (sentiment %+.2f)", sent);
        es_buf_adds(b, "\n  \"");
        add_clipped(b, es_json_str(m, "text"), MENTION_TEXT);
        es_buf_adds(b, "\"\n");
        if (url) {
            es_buf_adds(b, "  ");
            add_clipped(b, url, 500);
            es_buf_adds(b, "\n");
        }
    }
    struct es_buf d = ES_BUF_INIT;
    if (add_drivers(&d, v, 0))
        es_buf_addf(b, "\n%s\n", d.ptr);
    es_buf_release(&d);
    es_buf_addf(b, "\n-- \nearshot, alert %lld, delivery %s\n", v->alert_id,
                v->delivery);
}

/* ==== Sending: the outcome of one attempt ==== */

struct outcome {
    int ok;
    int code;            /* the es_error_code of a failure */
    int permanent;       /* retrying cannot help */
    int64_t retry_after; /* seconds, or -1 */
    struct es_buf error; /* why not, scrubbed */
};

static void outcome_fail(struct outcome *o, int permanent, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void outcome_fail(struct outcome *o, int permanent, const char *fmt, ...)
{
    va_list ap;
    o->ok = 0;
    o->code = ES_ENETWORK;
    o->permanent = permanent;
    es_buf_reset(&o->error);
    va_start(ap, fmt);
    es_buf_vaddf(&o->error, fmt, ap);
    va_end(ap);
}

/* Whether an HTTP refusal is final: a 4xx says the request itself is
 * wrong (Slack's invalid_payload, no_service, channel_is_archived), except
 * for timeouts, too early and rate limits. */
static int http_permanent(long code)
{
    return code >= 400 && code < 500 && code != 408 && code != 425 &&
           code != 429;
}

static void send_http(const struct channel *ch, const char *body, size_t len,
                      const char *const *headers, struct outcome *o)
{
    struct es_config_http hc = { 0 };
    struct es_http_response res;
    hc.timeout_ms = ch->timeout_ms;
    hc.connect_timeout_ms = ch->timeout_ms < ES_HTTP_CONNECT_TIMEOUT_MS
                                ? ch->timeout_ms
                                : ES_HTTP_CONNECT_TIMEOUT_MS;
    hc.max_redirects = 0; /* a redirected POST would turn into a GET */
    hc.max_body = 64 * 1024;
    struct es_http *http = es_http_new(&hc);
    struct es_http_request req = {
        .url = ch->url,
        .method = "POST",
        .body = body,
        .body_len = len,
        .headers = headers,
    };
    es_http_response_init(&res);
    es_http_get(http, &req, &res);
    o->retry_after = res.retry_after;
    /* A 2xx whose body is over the cap was still accepted. */
    if ((res.status == 0 || res.status == ES_ETOOBIG) && res.http_code >= 200 &&
        res.http_code <= 299) {
        o->ok = 1;
    } else if (res.http_code >= 300) {
        struct es_buf snippet = ES_BUF_INIT;
        add_clipped(&snippet, res.body.ptr, ERROR_SNIPPET);
        outcome_fail(o, http_permanent(res.http_code),
                     "%s '%s': %s answered HTTP %ld%s%s", type_names[ch->type],
                     ch->name, ch->display, res.http_code,
                     snippet.len ? ": " : "", snippet.ptr);
        es_buf_release(&snippet);
    } else {
        outcome_fail(o, 0, "%s '%s': %s", type_names[ch->type], ch->name,
                     res.error ? res.error : "no answer");
    }
    es_http_response_release(&res);
    es_http_free(http);
}

/* HMAC-SHA256 of @body under @key as "sha256=HEX" (71 bytes + NUL). */
static int sign(const char *key, const char *body, size_t len, char out[72])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)body,
              len, md, &mdlen) ||
        mdlen != 32)
        return -1;
    memcpy(out, "sha256=", 7);
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
    return 0;
}

static void send_webhook(const struct channel *ch, const struct view *v,
                         const struct es_buf *body, struct outcome *o)
{
    char sig[72], h_sig[100], h_id[140], h_ev[64];
    if (!ch->secret) {
        outcome_fail(o, 0,
                     "webhook '%s': no secret: refusing to send an "
                     "unsigned delivery",
                     ch->name);
        return;
    }
    if (sign(ch->secret, body->ptr, body->len, sig) < 0) {
        outcome_fail(o, 0, "webhook '%s': cannot compute the signature",
                     ch->name);
        return;
    }
    snprintf(h_sig, sizeof(h_sig), "X-Earshot-Signature: %s", sig);
    snprintf(h_id, sizeof(h_id), "X-Earshot-Delivery: %s", v->delivery);
    snprintf(h_ev, sizeof(h_ev), "X-Earshot-Event: %s", v->event);
    const char *headers[] = {
        "Content-Type: application/json", h_sig, h_id, h_ev, NULL,
    };
    send_http(ch, body->ptr, body->len, headers, o);
}

static void send_slack(const struct channel *ch, const struct es_buf *body,
                       struct outcome *o)
{
    const char *headers[] = { "Content-Type: application/json", NULL };
    send_http(ch, body->ptr, body->len, headers, o);
}

static void send_email(const struct channel *ch, const struct view *v,
                       const char *subject, const char *text, struct outcome *o)
{
    struct es_buf h = ES_BUF_INIT;
    es_buf_addf(&h, "X-Earshot-Event: %s\r\nX-Earshot-Delivery: %s\r\n",
                v->event, v->delivery);
    struct es_smtp_mail m = {
        .name = ch->name,
        .url = ch->smtp_url,
        .starttls = ch->starttls,
        .username = ch->username,
        .password = ch->password,
        .from = ch->from,
        .to = ch->to,
        .subject = subject,
        .body = text,
        .message_id = v->delivery,
        .headers = h.ptr,
        .date = v->now,
        .timeout_ms = ch->timeout_ms,
    };
    int permanent = 0;
    int rc = es_smtp_send(&m, &permanent);
    if (rc == 0) {
        o->ok = 1;
    } else {
        outcome_fail(o, permanent, "%s", es_error_last());
        o->code = rc;
    }
    es_buf_release(&h);
}

/* ==== The command channel ==== */

/* Serialises creating pipes and spawning: a pipe made by one channel
 * thread must not leak into a child spawned by another before it is
 * marked close-on-exec (that child would hold it open, and the first
 * command would never see its stdin end or its output close). */
static pthread_mutex_t spawn_lock = PTHREAD_MUTEX_INITIALIZER;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cloexec_pipe(int fds[2])
{
    if (pipe(fds) != 0)
        return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Reads what is there from @fd into @keep (up to OUTPUT_KEEP; the rest is
 * read and dropped). Closes @fd at end of file or on error. */
static void drain(int *fd, struct es_buf *keep)
{
    char buf[4096];
    for (;;) {
        ssize_t n = read(*fd, buf, sizeof(buf));
        if (n > 0) {
            size_t room = keep->len < OUTPUT_KEEP ? OUTPUT_KEEP - keep->len : 0;
            es_buf_add(keep, buf, (size_t)n < room ? (size_t)n : room);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        close_fd(fd);
        return;
    }
}

/* The first lines of a command's output, for its error: up to 3
 * non-empty lines joined with " / ", cut to ERROR_SNIPPET bytes. */
static void first_lines(struct es_buf *out, const struct es_buf *text)
{
    const char *p = text->ptr, *end = text->ptr + text->len;
    int lines = 0;
    struct es_buf t = ES_BUF_INIT;
    while (p < end && lines < 3) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        while (n && (p[n - 1] == '\r' || p[n - 1] == ' '))
            n--;
        if (n) {
            es_buf_adds(&t, lines++ ? " / " : "");
            es_buf_add(&t, p, n);
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    add_clipped(out, t.ptr, ERROR_SNIPPET);
    es_buf_release(&t);
}

/* Waits up to @ms for @pid; returns 1 and sets *status once it ended. */
static int reap(pid_t pid, int *status, int64_t ms)
{
    int64_t until = mono_ms() + ms;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return 1;
        if (mono_ms() >= until)
            return 0;
        struct timespec nap = { 0, 10 * 1000000L };
        nanosleep(&nap, NULL);
    }
}

/* Runs @ch's command with /bin/sh -c in its own process group, @body on
 * its stdin and @env added to the environment, for at most the channel's
 * timeout (then the whole group gets SIGTERM, and SIGKILL a second
 * later). Exit status 0 is success. SIGPIPE is blocked on this thread
 * while we write, so a command that does not read its stdin cannot kill
 * earshot. */
static void send_command(const struct channel *ch, const struct es_buf *body,
                         char *const *env, struct outcome *o)
{
    int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
    struct es_buf sout = ES_BUF_INIT, serr = ES_BUF_INIT, why = ES_BUF_INIT;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t pipe_set, old_mask, none;
    pid_t pid = -1;
    size_t sent = 0;
    int status = 0, exited = 0, timed_out = 0, epipe = 0;
    char **envp = NULL;

    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);

    size_t nenv = 0, nextra = 0;
    while (environ && environ[nenv])
        nenv++;
    while (env[nextra])
        nextra++;
    envp = es_xcalloc(nenv + nextra + 1, sizeof(char *));
    size_t k = 0;
    for (size_t i = 0; i < nenv; i++) {
        /* Ours win over inherited ones of the same name. */
        int shadowed = 0;
        for (size_t j = 0; j < nextra && !shadowed; j++) {
            size_t n = strcspn(env[j], "=");
            shadowed = !strncmp(environ[i], env[j], n + 1);
        }
        if (!shadowed)
            envp[k++] = environ[i];
    }
    for (size_t j = 0; j < nextra; j++)
        envp[k++] = env[j];

    pthread_mutex_lock(&spawn_lock);
    if (cloexec_pipe(in) < 0 || cloexec_pipe(out) < 0 ||
        cloexec_pipe(err) < 0) {
        pthread_mutex_unlock(&spawn_lock);
        outcome_fail(o, 0, "command '%s': cannot make a pipe: %s", ch->name,
                     strerror(errno));
        goto done;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawnattr_init(&attr);
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    /* `earshot serve` ignores SIGPIPE; the command gets the default. */
    posix_spawnattr_setsigdefault(&attr, &pipe_set);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
                                        POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    char arg0[] = "sh", arg1[] = "-c";
    char *cmd = es_xstrdup(ch->command);
    char *argv[] = { arg0, arg1, cmd, NULL };
    int src = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, envp);
    free(cmd);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close_fd(&in[0]);
    close_fd(&out[1]);
    close_fd(&err[1]);
    pthread_mutex_unlock(&spawn_lock);
    if (src != 0) {
        pid = -1;
        outcome_fail(o, 0, "command '%s': cannot run /bin/sh: %s", ch->name,
                     strerror(src));
        goto done;
    }
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    fcntl(err[0], F_SETFL, O_NONBLOCK);
    if (body->len == 0)
        close_fd(&in[1]);

    int64_t deadline = mono_ms() + ch->timeout_ms;
    for (;;) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            exited = 1;
            /* What it wrote before exiting; a background child that
             * still holds the pipes is not waited for. */
            if (out[0] >= 0)
                drain(&out[0], &sout);
            if (err[0] >= 0)
                drain(&err[0], &serr);
            break;
        }
        int64_t left = deadline - mono_ms();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        struct pollfd pf[3];
        nfds_t n = 0;
        int iw = -1, io = -1, ie = -1;
        if (in[1] >= 0) {
            pf[n] = (struct pollfd){ .fd = in[1], .events = POLLOUT };
            iw = (int)n++;
        }
        if (out[0] >= 0) {
            pf[n] = (struct pollfd){ .fd = out[0], .events = POLLIN };
            io = (int)n++;
        }
        if (err[0] >= 0) {
            pf[n] = (struct pollfd){ .fd = err[0], .events = POLLIN };
            ie = (int)n++;
        }
        /* A short tick: the exit is noticed by waitpid, not by a fd. */
        int r = poll(pf, n, left < 50 ? (int)left : 50);
        if (r < 0 && errno != EINTR)
            break;
        if (r <= 0)
            continue;
        if (iw >= 0 && pf[iw].revents) {
            ssize_t w = write(in[1], body->ptr + sent, body->len - sent);
            if (w > 0) {
                sent += (size_t)w;
                if (sent == body->len)
                    close_fd(&in[1]);
            } else if (w < 0 && errno == EPIPE) {
                epipe = 1; /* it did not read its stdin: its business */
                close_fd(&in[1]);
            } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                close_fd(&in[1]);
            }
        }
        if (io >= 0 && pf[io].revents)
            drain(&out[0], &sout);
        if (ie >= 0 && pf[ie].revents)
            drain(&err[0], &serr);
    }

    if (timed_out) {
        kill(-pid, SIGTERM);
        if (!reap(pid, &status, KILL_GRACE_MS)) {
            kill(-pid, SIGKILL);
            reap(pid, &status, 5000);
        } else {
            kill(-pid, SIGKILL); /* whatever of the group is left */
        }
        outcome_fail(o, 0,
                     "command '%s': timed out after %ld s, its process "
                     "group was killed",
                     ch->name, ch->timeout_ms / 1000);
    } else if (!exited) {
        kill(-pid, SIGKILL);
        reap(pid, &status, 5000);
        outcome_fail(o, 0, "command '%s': lost track of it: %s", ch->name,
                     strerror(errno));
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        o->ok = 1;
    } else {
        first_lines(&why, serr.len ? &serr : &sout);
        if (WIFEXITED(status))
            outcome_fail(o, 0, "command '%s': exited with status %d%s%s",
                         ch->name, WEXITSTATUS(status), why.len ? ": " : "",
                         why.ptr);
        else
            outcome_fail(o, 0, "command '%s': killed by signal %d%s%s",
                         ch->name, WIFSIGNALED(status) ? WTERMSIG(status) : 0,
                         why.len ? ": " : "", why.ptr);
    }

done:
    close_fd(&in[0]);
    close_fd(&in[1]);
    close_fd(&out[0]);
    close_fd(&out[1]);
    close_fd(&err[0]);
    close_fd(&err[1]);
    if (epipe) {
        /* Take the SIGPIPE our write raised on this thread, if any. */
        struct timespec zero = { 0, 0 };
        sigset_t pending;
        sigpending(&pending);
        if (sigismember(&pending, SIGPIPE))
            sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    free(envp);
    es_buf_release(&sout);
    es_buf_release(&serr);
    es_buf_release(&why);
}

/* ==== A pass ==== */

/* One due delivery. */
struct job {
    long long id;
    long long alert_id;
    char *notify;
    char event[12];
    int attempts;     /* before this pass */
    int64_t old_next; /* next_attempt before the lease */
    int64_t lease;    /* next_attempt while this pass holds it */
    int64_t created_at;
    struct group *group;
    struct view v;
    int ready;             /* the messages are built: send it */
    struct es_buf body;    /* webhook and command JSON, or Slack's */
    struct es_buf subject; /* email */
    struct es_buf text;    /* email */
    char **env;            /* command: EARSHOT_* variables */
    int tried;             /* an attempt was made (or failed before) */
    struct outcome o;
    const char *state; /* recorded: delivered, pending, failed */
    int64_t next;
};

/* The due rows of one channel, delivered in order by one thread. */
struct group {
    char *notify;
    struct channel ch;
    int ch_ok;              /* the section exists and is complete */
    struct es_buf ch_error; /* else why not */
    struct job **jobs;
    size_t n;
    int64_t retry_next; /* after a failure: when the rest may go */
};

static void job_free(struct job *j)
{
    if (!j)
        return;
    free(j->notify);
    view_release(&j->v);
    es_buf_release(&j->body);
    es_buf_release(&j->subject);
    es_buf_release(&j->text);
    es_buf_release(&j->o.error);
    if (j->env)
        for (char **e = j->env; *e; e++)
            free(*e);
    free(j->env);
    free(j);
}

/* A number in [0, 1) for the backoff's jitter: xorshift, seeded once per
 * thread. */
static double jitter(void)
{
    static _Thread_local uint64_t x;
    if (!x)
        x = ((uint64_t)time(NULL) * 0x9E3779B97F4A7C15ull) | 1;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return (double)(x >> 11) / 9007199254740992.0;
}

/* Builds what @ch sends for @v into @j. */
static void build_messages(struct job *j, const struct channel *ch)
{
    struct view *v = &j->v;
    switch (ch->type) {
    case CH_SLACK:
        build_slack(&j->body, v);
        break;
    case CH_WEBHOOK:
        build_json(&j->body, v);
        break;
    case CH_EMAIL:
        build_subject(&j->subject, v);
        build_email_body(&j->text, v);
        break;
    case CH_COMMAND:
        build_json(&j->body, v);
        j->env = es_xcalloc(6, sizeof(char *));
        j->env[0] = es_xasprintf("EARSHOT_EVENT=%s", v->event);
        j->env[1] = es_xasprintf("EARSHOT_ALERT_ID=%lld", v->alert_id);
        j->env[2] = es_xasprintf("EARSHOT_RULE=%s", v->rule);
        j->env[3] = es_xasprintf("EARSHOT_DELIVERY=%s", v->delivery);
        j->env[4] = es_xasprintf("EARSHOT_NOTIFY=%s", v->notify);
        break;
    }
    j->ready = 1;
}

/* One attempt of @j through @ch; the outcome lands in j->o, scrubbed. */
static void deliver_one(const struct channel *ch, struct job *j)
{
    j->tried = 1;
    j->o.ok = 0;
    j->o.retry_after = -1;
    switch (ch->type) {
    case CH_SLACK:
        send_slack(ch, &j->body, &j->o);
        break;
    case CH_WEBHOOK:
        send_webhook(ch, &j->v, &j->body, &j->o);
        break;
    case CH_EMAIL:
        send_email(ch, &j->v, j->subject.ptr, j->text.ptr, &j->o);
        break;
    case CH_COMMAND:
        send_command(ch, &j->body, j->env, &j->o);
        break;
    }
    if (!j->o.ok)
        scrub(&j->o.error, ch);
}

/* A channel thread: its rows in order, stopping at the first failure (the
 * rest would most likely fail the same way, each after a timeout). */
static void *group_main(void *arg)
{
    struct group *g = arg;
    for (size_t i = 0; i < g->n; i++) {
        struct job *j = g->jobs[i];
        if (!j->ready)
            continue;
        deliver_one(&g->ch, j);
        if (!j->o.ok)
            break;
    }
    return NULL;
}

static int db_error(sqlite3 *db, const char *what)
{
    return es_error_set(ES_EDB, "notify: cannot %s: %s", what,
                        sqlite3_errmsg(db));
}

/* Ends the BEGIN IMMEDIATE of take() or record(): commits when @rc is 0,
 * else rolls back. Returns @rc, or the error of a failed COMMIT (which
 * is rolled back too). */
static int tx_end(sqlite3 *db, int rc, const char *what)
{
    if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = db_error(db, what);
    if (rc < 0 && !sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static const char SQL_DUE[] =
    "SELECT d.id, d.alert_id, d.notify, d.event, d.attempts,"
    " d.next_attempt, d.created_at FROM alert_deliveries d"
    " WHERE d.state = 'pending'"
    " AND (d.next_attempt IS NULL OR d.next_attempt <= ?1)"
    /* a resolve never overtakes the fire of its alert */
    " AND NOT (d.event = 'resolve' AND EXISTS (SELECT 1 FROM"
    "  alert_deliveries f WHERE f.alert_id = d.alert_id AND f.notify ="
    "  d.notify AND f.event = 'fire' AND f.state = 'pending' AND"
    "  f.next_attempt > ?1))"
    " ORDER BY d.alert_id, d.event = 'resolve', d.id LIMIT ?2";

static const char SQL_LEASE[] =
    "UPDATE alert_deliveries SET next_attempt = ?1 WHERE id = ?2";

static const char SQL_ALERT[] =
    "SELECT rule, bucket, started_at, ended_at, state, observed, expected,"
    " score, peak, explanation FROM alerts WHERE id = ?1";

static const char SQL_URL[] = "SELECT url FROM mentions WHERE id = ?1";

static const char SQL_RECORD[] =
    "UPDATE alert_deliveries SET state = ?1, attempts = ?2,"
    " last_error = ?3, next_attempt = ?4, delivered_at = ?5 WHERE id = ?6";

static struct group *find_group(struct group **groups, size_t *ngroups,
                                const struct es_config *cfg, const char *notify)
{
    for (size_t i = 0; i < *ngroups; i++)
        if (strcmp(groups[i]->notify, notify) == 0)
            return groups[i];
    struct group *g = es_xcalloc(1, sizeof(*g));
    g->notify = es_xstrdup(notify);
    es_buf_init(&g->ch_error);
    g->retry_next = ES_TIME_UNKNOWN;
    if (channel_load(cfg, g->notify, &g->ch) == 0) {
        g->ch_ok = 1;
    } else {
        es_buf_adds(&g->ch_error, es_error_last());
        scrub(&g->ch_error, &g->ch);
        /* A broken section still bounds the lease. */
        if (g->ch.timeout_ms <= 0)
            g->ch.timeout_ms = ES_NOTIFY_TIMEOUT_S * 1000L;
    }
    groups[(*ngroups)++] = g;
    return g;
}

/* Step 1: reads and leases the due rows into @jobs (at most TAKE_LIMIT),
 * grouped by channel. */
static int take(sqlite3 *db, const struct es_config *cfg, int64_t now,
                struct job **jobs, size_t *njobs, struct group **groups,
                size_t *ngroups)
{
    sqlite3_stmt *due = NULL, *lease = NULL;
    int rc = 0, step;

    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return db_error(db, "read the due deliveries");
    if (sqlite3_prepare_v2(db, SQL_DUE, -1, &due, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, SQL_LEASE, -1, &lease, NULL) != SQLITE_OK) {
        rc = db_error(db, "read the due deliveries");
        goto done;
    }
    sqlite3_bind_int64(due, 1, now);
    sqlite3_bind_int(due, 2, TAKE_LIMIT);
    while ((step = sqlite3_step(due)) == SQLITE_ROW) {
        const char *notify = (const char *)sqlite3_column_text(due, 2);
        const char *event = (const char *)sqlite3_column_text(due, 3);
        struct group *g;
        if (!notify || !event)
            continue;
        g = find_group(groups, ngroups, cfg, notify);
        if (g->n >= ES_NOTIFY_PER_CHANNEL)
            continue;
        struct job *j = es_xcalloc(1, sizeof(*j));
        j->id = sqlite3_column_int64(due, 0);
        j->alert_id = sqlite3_column_int64(due, 1);
        j->notify = es_xstrdup(notify);
        snprintf(j->event, sizeof(j->event), "%s", event);
        j->attempts = sqlite3_column_int(due, 4);
        j->old_next = sqlite3_column_type(due, 5) == SQLITE_NULL
                          ? now
                          : sqlite3_column_int64(due, 5);
        j->created_at = sqlite3_column_int64(due, 6);
        j->group = g;
        es_buf_init(&j->body);
        es_buf_init(&j->subject);
        es_buf_init(&j->text);
        es_buf_init(&j->o.error);
        g->jobs = es_xrealloc(g->jobs, (g->n + 1) * sizeof(*g->jobs));
        g->jobs[g->n++] = j;
        jobs[(*njobs)++] = j;

        /* The thread may get to this row after every row before it
         * took its whole timeout. */
        j->lease =
            now + (int64_t)g->n * (g->ch.timeout_ms / 1000) + LEASE_MARGIN_S;
    }
    if (step != SQLITE_DONE) {
        rc = db_error(db, "read the due deliveries");
        goto done;
    }
    /* Leased once the read is over: no row changes under the SELECT. */
    for (size_t i = 0; i < *njobs; i++) {
        sqlite3_reset(lease);
        sqlite3_bind_int64(lease, 1, jobs[i]->lease);
        sqlite3_bind_int64(lease, 2, jobs[i]->id);
        if (sqlite3_step(lease) != SQLITE_DONE) {
            rc = db_error(db, "lease the due deliveries");
            goto done;
        }
    }
done:
    sqlite3_finalize(due);
    sqlite3_finalize(lease);
    return tx_end(db, rc, "lease the due deliveries");
}

static char *column_dup(sqlite3_stmt *st, int col)
{
    const char *s = (const char *)sqlite3_column_text(st, col);
    return s ? es_xstrdup(s) : NULL;
}

/* Parses the explanation of @v, and looks up in the store the link of
 * each top mention that has an id but no url. */
static void view_explain(sqlite3 *db, struct view *v)
{
    if (!v->explanation || es_json_parse(&v->ex, "explanation", v->explanation,
                                         strlen(v->explanation)) < 0) {
        v->ex = NULL;
        es_error_clear();
        return;
    }
    if (!es_json_is_object(v->ex)) {
        es_json_free(v->ex);
        v->ex = NULL;
        return;
    }
    yajl_val list = es_json_get(v->ex, "top_mentions");
    size_t n = es_json_len(list);
    sqlite3_stmt *st = NULL;
    if (!n || sqlite3_prepare_v2(db, SQL_URL, -1, &st, NULL) != SQLITE_OK)
        return;
    v->urls = es_xcalloc(n, sizeof(char *));
    v->nurls = n;
    for (size_t i = 0; i < n; i++) {
        yajl_val m = es_json_at(list, i);
        long long id;
        const char *u = es_json_str(m, "url");
        if ((u && *u) || es_json_int(m, "id", &id) < 0)
            continue;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW)
            v->urls[i] = column_dup(st, 0);
    }
    sqlite3_finalize(st);
}

/* Reads the alert of @j into j->v. Returns 0, ES_ENOTFOUND, or ES_EDB. */
static int load_view(sqlite3 *db, struct job *j, int64_t now)
{
    sqlite3_stmt *st = NULL;
    struct view *v = &j->v;
    int rc = 0;

    v->notify = j->notify;
    v->event = j->event;
    v->delivery_id = j->id;
    v->alert_id = j->alert_id;
    v->now = now;
    snprintf(v->delivery, sizeof(v->delivery), "es-%lld-%s-%lld-%lld",
             j->alert_id, j->event, j->id, (long long)j->created_at);
    if (sqlite3_prepare_v2(db, SQL_ALERT, -1, &st, NULL) != SQLITE_OK)
        return db_error(db, "read an alert");
    sqlite3_bind_int64(st, 1, j->alert_id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        v->rule = column_dup(st, 0);
        if (!v->rule)
            v->rule = es_xstrdup("?");
        v->bucket = sqlite3_column_int64(st, 1);
        v->started_at = sqlite3_column_int64(st, 2);
        v->ended_at = sqlite3_column_type(st, 3) == SQLITE_NULL
                          ? ES_TIME_UNKNOWN
                          : sqlite3_column_int64(st, 3);
        const char *state = (const char *)sqlite3_column_text(st, 4);
        v->firing = !state || strcmp(state, "resolved") != 0;
        v->observed = (long)sqlite3_column_int64(st, 5);
        v->expected = sqlite3_column_double(st, 6);
        v->has_score = sqlite3_column_type(st, 7) != SQLITE_NULL;
        v->score = sqlite3_column_double(st, 7);
        v->has_peak = sqlite3_column_type(st, 8) != SQLITE_NULL;
        v->peak = (long)sqlite3_column_int64(st, 8);
        v->explanation = column_dup(st, 9);
    } else if (step == SQLITE_DONE) {
        rc = es_error_set(ES_ENOTFOUND, "notify '%s': alert %lld is gone",
                          j->notify, j->alert_id);
    } else {
        rc = db_error(db, "read an alert");
    }
    sqlite3_finalize(st);
    if (rc == 0)
        view_explain(db, v);
    return rc;
}

/* Step 3: records every outcome in one transaction. */
static int record(sqlite3 *db, struct job **jobs, size_t njobs, int64_t now)
{
    sqlite3_stmt *st = NULL, *lease = NULL;
    int rc = 0;

    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return db_error(db, "record the deliveries");
    if (sqlite3_prepare_v2(db, SQL_RECORD, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, SQL_LEASE, -1, &lease, NULL) != SQLITE_OK) {
        rc = db_error(db, "record the deliveries");
        goto done;
    }
    for (size_t i = 0; i < njobs; i++) {
        struct job *j = jobs[i];
        if (!j->tried) {
            /* Left behind a failure of its channel: it waits as long as
             * the row that failed. */
            j->next = j->group->retry_next != ES_TIME_UNKNOWN
                          ? j->group->retry_next
                          : j->old_next;
            sqlite3_reset(lease);
            sqlite3_bind_int64(lease, 1, j->next);
            sqlite3_bind_int64(lease, 2, j->id);
            if (sqlite3_step(lease) != SQLITE_DONE) {
                rc = db_error(db, "record the deliveries");
                goto done;
            }
            continue;
        }
        int attempts = j->attempts + 1;
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        if (j->o.ok) {
            j->state = "delivered";
            sqlite3_bind_null(st, 3);
            sqlite3_bind_null(st, 4);
            sqlite3_bind_int64(st, 5, now);
        } else {
            int final = j->o.permanent || attempts >= ES_NOTIFY_MAX_ATTEMPTS;
            j->state = final ? "failed" : "pending";
            sqlite3_bind_text(st, 3, j->o.error.ptr, (int)j->o.error.len,
                              SQLITE_TRANSIENT);
            if (final) {
                sqlite3_bind_null(st, 4);
            } else {
                j->next = es_schedule_next(now, ES_NOTIFY_RETRY_S, attempts,
                                           j->o.retry_after, jitter());
                sqlite3_bind_int64(st, 4, j->next);
                if (j->group->retry_next == ES_TIME_UNKNOWN ||
                    j->next > j->group->retry_next)
                    j->group->retry_next = j->next;
            }
            sqlite3_bind_null(st, 5);
        }
        sqlite3_bind_text(st, 1, j->state, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, attempts);
        sqlite3_bind_int64(st, 6, j->id);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = db_error(db, "record the deliveries");
            goto done;
        }
    }
done:
    sqlite3_finalize(st);
    sqlite3_finalize(lease);
    return tx_end(db, rc, "record the deliveries");
}

/* Step 2: one thread per channel that has something to send, at most
 * MAX_THREADS at a time. */
static void send_all(struct group **groups, size_t ngroups)
{
    pthread_t tids[MAX_THREADS];
    size_t i = 0;

    while (i < ngroups) {
        size_t n = 0;
        for (; i < ngroups && n < MAX_THREADS; i++) {
            struct group *g = groups[i];
            int any = 0;
            for (size_t k = 0; k < g->n && !any; k++)
                any = g->jobs[k]->ready;
            if (!g->ch_ok || !any)
                continue;
            if (pthread_create(&tids[n], NULL, group_main, g) == 0)
                n++;
            else
                group_main(g); /* no thread: in line, still bounded */
        }
        for (size_t k = 0; k < n; k++)
            pthread_join(tids[k], NULL);
    }
}

int es_notify_deliver_run(struct es_inbox *ib, const struct es_config *cfg,
                          int64_t now, es_notify_cb cb, void *payload,
                          int *ndelivered)
{
    sqlite3 *db = es_inbox__db(ib);
    struct job **jobs = es_xcalloc(TAKE_LIMIT, sizeof(*jobs));
    struct group **groups = es_xcalloc(TAKE_LIMIT, sizeof(*groups));
    size_t njobs = 0, ngroups = 0;
    int delivered = 0, rc;
    int64_t t0 = mono_ms();

    if (ndelivered)
        *ndelivered = 0;
    rc = take(db, cfg, now, jobs, &njobs, groups, &ngroups);
    if (rc < 0)
        goto done;

    for (size_t i = 0; i < njobs; i++) {
        struct job *j = jobs[i];
        struct group *g = j->group;
        int lrc = load_view(db, j, now);
        if (lrc == ES_EDB) {
            rc = lrc;
            goto done;
        }
        if (lrc < 0) {
            /* The alert row is gone: nothing to send, ever. */
            j->tried = 1;
            outcome_fail(&j->o, 1, "%s", es_error_last());
        } else if (!g->ch_ok) {
            /* Recorded against every row of the channel at once: no
             * network involved, and the fix is the same for all. */
            j->tried = 1;
            outcome_fail(&j->o, 0, "%s", g->ch_error.ptr);
            j->o.code = ES_EINVALID;
        } else {
            build_messages(j, &g->ch);
        }
    }

    send_all(groups, ngroups);

    int64_t done_at = now + (mono_ms() - t0) / 1000;
    rc = record(db, jobs, njobs, done_at);
    if (rc < 0)
        goto done;
    for (size_t i = 0; i < njobs; i++) {
        struct job *j = jobs[i];
        if (j->tried && j->o.ok)
            delivered++;
        if (!cb || !j->tried)
            continue;
        struct es_notify_report r = {
            .delivery_id = j->id,
            .alert_id = j->alert_id,
            .notify = j->notify,
            .type = j->group->ch_ok ? type_names[j->group->ch.type] : NULL,
            .event = j->event,
            .attempt = j->attempts + 1,
            .state = j->state,
            .error = j->o.ok ? NULL : j->o.error.ptr,
            .next = j->next,
        };
        cb(&r, payload);
    }
    if (ndelivered)
        *ndelivered = delivered;
done:
    for (size_t i = 0; i < njobs; i++)
        job_free(jobs[i]);
    for (size_t i = 0; i < ngroups; i++) {
        channel_release(&groups[i]->ch);
        es_buf_release(&groups[i]->ch_error);
        free(groups[i]->jobs);
        free(groups[i]->notify);
        free(groups[i]);
    }
    free(jobs);
    free(groups);
    return rc;
}

int es_notify_deliver_due(struct es_inbox *ib, const struct es_config *cfg,
                          int *ndelivered)
{
    return es_notify_deliver_run(ib, cfg, es_time_now(), NULL, NULL,
                                 ndelivered);
}

/* ==== A test message ==== */

/* What a test message shows: a made-up spike, so the channel's owner sees
 * every part of a real alert. */
static const char TEST_EXPLANATION[] =
    "{\"rule\":\"earshot-test\",\"series\":\"negative\",\"bucket\":\"1h\","
    "\"observed\":42,\"expected\":6.5,\"score\":8.1,\"peak\":57,"
    "\"baseline\":\"weekly\",\"mentions\":42,"
    "\"top_mentions\":[{\"id\":0,\"author\":\"@example\",\"source\":"
    "\"example\",\"text\":\"This is a test of earshot's alert "
    "notifications; no spike happened.\",\"sentiment\":-0.5}],"
    "\"terms\":[[\"test\",42]],\"sources\":[[\"example\",42]],"
    "\"authors\":[[\"@example\",1]]}";

int es_notify_test(const struct es_config *cfg, const char *name,
                   es_notify_cb cb, void *payload)
{
    struct job j;
    struct group g;
    int rc;

    memset(&j, 0, sizeof(j));
    memset(&g, 0, sizeof(g));
    es_buf_init(&j.body);
    es_buf_init(&j.subject);
    es_buf_init(&j.text);
    es_buf_init(&j.o.error);
    rc = channel_load(cfg, name, &g.ch);
    if (rc < 0) {
        struct es_buf e = ES_BUF_INIT;
        es_buf_adds(&e, es_error_last());
        scrub(&e, &g.ch);
        es_error_set(rc, "%s", e.ptr);
        es_buf_release(&e);
        goto done;
    }
    int64_t now = es_time_now();
    snprintf(j.event, sizeof(j.event), "test");
    j.v.notify = name;
    j.v.event = j.event;
    j.v.rule = es_xstrdup("earshot-test");
    j.v.bucket = 3600;
    j.v.started_at = now - now % 3600 - 3600;
    j.v.ended_at = ES_TIME_UNKNOWN;
    j.v.firing = 1;
    j.v.observed = 42;
    j.v.expected = 6.5;
    j.v.has_score = 1;
    j.v.score = 8.1;
    j.v.has_peak = 1;
    j.v.peak = 57;
    j.v.explanation = es_xstrdup(TEST_EXPLANATION);
    j.v.now = now;
    snprintf(j.v.delivery, sizeof(j.v.delivery), "es-test-%lld",
             (long long)now);
    if (es_json_parse(&j.v.ex, "test", j.v.explanation,
                      strlen(j.v.explanation)) < 0)
        j.v.ex = NULL;
    build_messages(&j, &g.ch);
    deliver_one(&g.ch, &j);
    rc = j.o.ok ? 0 : es_error_set(j.o.code, "%s", j.o.error.ptr);
    if (cb) {
        struct es_notify_report r = {
            .notify = name,
            .type = type_names[g.ch.type],
            .event = "test",
            .attempt = 1,
            .state = j.o.ok ? "delivered" : "failed",
            .error = j.o.ok ? NULL : j.o.error.ptr,
        };
        cb(&r, payload);
    }
done:
    view_release(&j.v);
    es_buf_release(&j.body);
    es_buf_release(&j.subject);
    es_buf_release(&j.text);
    es_buf_release(&j.o.error);
    if (j.env)
        for (char **e = j.env; *e; e++)
            free(*e);
    free(j.env);
    channel_release(&g.ch);
    return rc;
}
