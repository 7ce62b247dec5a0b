/* outbox.c - the durable outbox: replies stored before they are sent
 *
 * A reply is a row of the replies table (schema version 5) long before
 * it is a request: es_outbox_queue() does every check that needs no
 * network and stores the reply with its own idempotency key in one
 * IMMEDIATE transaction, so two agents answering one customer at once
 * are serialised and the second one meets the first one's claim. The
 * sender (replies/) then moves each reply through its states with the
 * es_outbox_mark_*() steps below, each committed on its own, so that a
 * crash leaves a trace: a reply still in 'sending' had its request in
 * flight. This file also knows how each platform counts the length of a
 * text, since that is checked before queueing. Platform URLs and HTTP
 * stay in replies/.
 */
#include "earshot/outbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <utf8proc.h>

#include <sqlite3.h>
#include <yajl/yajl_tree.h>

#include "earshot/alloc.h"
#include "earshot/buf.h"
#include "earshot/error.h"
#include "earshot/item.h"
#include "earshot/workflow.h"
#include "sql.h"
#include "store.h"

/* ==== Statements ==== */

/* ==== Platforms and how they count ==== */

enum count_kind {
    COUNT_CHARS,     /* code points */
    COUNT_GRAPHEMES, /* user-perceived characters */
    COUNT_MASTODON,  /* graphemes; URL 23, @user@domain as @user */
    COUNT_X,         /* twitter-text v3 weights; URL 23 */
};

struct platform_rule {
    const char *name;  /* the items' platform and the accounts' type */
    const char *label; /* for messages */
    enum count_kind count;
    long limit;
    long max_bytes; /* 0: no byte limit besides */
    int private_ok; /* has private messages earshot can send */
    enum count_kind private_count;
    long private_limit;
    long private_max_bytes;
};

/* Limits as the platforms document them: Mastodon's default instance
 * limit, X's weighted 280 (10,000 for a direct message), Bluesky's post
 * record (300 graphemes, 3,000 bytes) and chat message (1,000 graphemes,
 * 10,000 bytes), Reddit's comment and message bodies, YouTube comments,
 * Google Play's developer reply (350), GitHub comments (65,536). */
static const struct platform_rule rules[] = {
    { "mastodon", "Mastodon", COUNT_MASTODON, 500, 0, 1, COUNT_MASTODON, 500,
      0 },
    { "bluesky", "Bluesky", COUNT_GRAPHEMES, 300, 3000, 1, COUNT_GRAPHEMES,
      1000, 10000 },
    { "x", "X", COUNT_X, 280, 0, 1, COUNT_CHARS, 10000, 0 },
    { "reddit", "Reddit", COUNT_CHARS, 10000, 0, 1, COUNT_CHARS, 10000, 0 },
    { "youtube", "YouTube", COUNT_CHARS, 10000, 0, 0, COUNT_CHARS, 0, 0 },
    { "googleplay", "Google Play", COUNT_CHARS, 350, 0, 0, COUNT_CHARS, 0, 0 },
    { "github", "GitHub", COUNT_CHARS, 65536, 0, 0, COUNT_CHARS, 0, 0 },
};

/* Platforms earshot reads but cannot answer on: no API for a reply. */
static const struct {
    const char *name;
    const char *label;
} no_reply[] = {
    { "rss", "a feed" },
    { "atom", "a feed" },
    { "rdf", "a feed" },
    { "hackernews", "Hacker News" },
    { "appstore", "the App Store" },
};

static const struct platform_rule *find_rule(const char *platform)
{
    for (size_t i = 0; platform && i < sizeof(rules) / sizeof(rules[0]); i++)
        if (strcmp(rules[i].name, platform) == 0)
            return &rules[i];
    return NULL;
}

static const char *no_reply_label(const char *platform)
{
    if (!platform)
        return "a feed";
    for (size_t i = 0; i < sizeof(no_reply) / sizeof(no_reply[0]); i++)
        if (strcmp(no_reply[i].name, platform) == 0)
            return no_reply[i].label;
    return NULL;
}

/* X's weight of code point @cp (twitter-text v3: these ranges weigh 1,
 * everything else 2; counted in halves of the limit's unit). */
static long x_weight(utf8proc_int32_t cp)
{
    if ((cp >= 0 && cp <= 4351) || (cp >= 8192 && cp <= 8205) ||
        (cp >= 8208 && cp <= 8223) || (cp >= 8242 && cp <= 8247))
        return 1;
    return 2;
}

struct cluster {
    size_t end;   /* byte after the cluster */
    long ncp;     /* code points in it */
    long xweight; /* sum of x_weight() */
    int emoji;    /* holds a pictograph, a flag letter or VS16 */
};

/* Reads the grapheme cluster of @s (@len bytes) at @pos into @c. Returns
 * 1, 0 at the end, -1 for bytes that are not UTF-8. Each cluster starts
 * with a fresh break state: utf8proc leaves the state at a break equal to
 * the class of the code point after it, which is what a fresh state
 * takes from that code point too. */
static int next_cluster(const utf8proc_uint8_t *s, size_t len, size_t pos,
                        struct cluster *c)
{
    utf8proc_int32_t cp, prev = -1, state = 0;
    memset(c, 0, sizeof(*c));
    size_t p = pos;
    while (p < len) {
        utf8proc_ssize_t n =
            utf8proc_iterate(s + p, (utf8proc_ssize_t)(len - p), &cp);
        if (n < 0)
            return -1;
        if (prev >= 0 && utf8proc_grapheme_break_stateful(prev, cp, &state))
            break;
        const utf8proc_property_t *prop = utf8proc_get_property(cp);
        if ((prop->boundclass == UTF8PROC_BOUNDCLASS_EXTENDED_PICTOGRAPHIC &&
             cp >= 0x2000) ||
            prop->boundclass == UTF8PROC_BOUNDCLASS_REGIONAL_INDICATOR ||
            cp == 0xFE0F)
            c->emoji = 1;
        c->ncp++;
        c->xweight += x_weight(cp);
        prev = cp;
        p += (size_t)n;
    }
    c->end = p;
    return p > pos;
}

static int is_host_char(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch == '-';
}

/* Whether a URL or a mention may start at @pos: at the start, or after a
 * byte that cannot be part of a word, a handle or a path. */
static int token_start(const unsigned char *s, size_t pos)
{
    if (pos == 0)
        return 1;
    unsigned char prev = s[pos - 1];
    return !is_host_char(prev) && !strchr("@/._$#", prev) && prev != '\0';
}

/* Top-level domains X links without a scheme (a short list: the common
 * ones; "acme.example" stays text). */
static int known_tld(const unsigned char *tld, size_t n)
{
    static const char *const tlds[] = {
        "com", "net", "org", "io", "co", "app", "dev", "ai", "me",     "info",
        "biz", "edu", "gov", "uk", "de", "fr",  "jp",  "ly", "gl",     "gg",
        "tv",  "xyz", "us",  "ca", "eu", "es",  "it",  "nl", "social", "cloud",
    };
    for (size_t i = 0; i < sizeof(tlds) / sizeof(tlds[0]); i++)
        if (strlen(tlds[i]) == n &&
            strncasecmp((const char *)tld, tlds[i], n) == 0)
            return 1;
    return 0;
}

/* The byte length of the URL at @pos, or 0: "http://" or "https://"
 * then anything up to white space, without trailing punctuation; with
 * @bare (X), also "www." and host names ending in a known TLD. */
static size_t url_at(const unsigned char *s, size_t len, size_t pos, int bare)
{
    if (!token_start(s, pos))
        return 0;
    size_t p = pos;
    if (len - pos > 8 && strncasecmp((const char *)s + pos, "https://", 8) == 0)
        p += 8;
    else if (len - pos > 7 &&
             strncasecmp((const char *)s + pos, "http://", 7) == 0)
        p += 7;
    if (p == pos) {
        if (!bare)
            return 0;
        /* host.tld: labels, dots, then a known TLD and no more host. */
        size_t q = pos, last_dot = 0;
        while (q < len && (is_host_char(s[q]) || s[q] == '.')) {
            if (s[q] == '.')
                last_dot = q;
            q++;
        }
        if (!last_dot || last_dot == pos || last_dot + 1 >= q ||
            s[last_dot - 1] == '.' ||
            !known_tld(s + last_dot + 1, q - last_dot - 1))
            return 0;
        p = q;
    } else if (p >= len || !is_host_char(s[p])) {
        return 0;
    }
    int paren = 0;
    while (p < len && s[p] != ' ' && s[p] != '\n' && s[p] != '\t' &&
           s[p] != '\r') {
        paren += s[p] == '(';
        p++;
    }
    while (p > pos &&
           (strchr(".,;:!?'\"", s[p - 1]) || (s[p - 1] == ')' && !paren)))
        p--;
    return p - pos;
}

/* The Mastodon mention at @pos: "@user" or "@user@domain". Returns its
 * byte length and sets *user_len, or 0. */
static size_t mention_at(const unsigned char *s, size_t len, size_t pos,
                         size_t *user_len)
{
    if (s[pos] != '@' || !token_start(s, pos))
        return 0;
    size_t p = pos + 1;
    while (p < len && (is_host_char(s[p]) || s[p] == '_') && s[p] != '-')
        p++;
    if (p == pos + 1)
        return 0;
    *user_len = p - pos - 1;
    if (p + 1 < len && s[p] == '@' && is_host_char(s[p + 1])) {
        size_t q = p + 1, dot = 0;
        while (q < len && (is_host_char(s[q]) || s[q] == '.')) {
            if (s[q] == '.' && q + 1 < len && is_host_char(s[q + 1]))
                dot = q;
            q++;
        }
        while (q > p + 1 && s[q - 1] == '.')
            q--;
        if (dot)
            p = q;
    }
    return p - pos;
}

/* Counts @text by @kind into *count. Returns 0 or -1 (not UTF-8). */
static int count_text(enum count_kind kind, const char *text, long *count)
{
    utf8proc_uint8_t *nfc = NULL;
    const unsigned char *s = (const unsigned char *)text;
    size_t len = strlen(text);
    long n = 0;
    int rc = 0;

    if (kind == COUNT_X) {
        /* twitter-text counts the NFC form. */
        nfc = utf8proc_NFC((const utf8proc_uint8_t *)text);
        if (!nfc)
            return -1;
        s = nfc;
        len = strlen((const char *)nfc);
    }
    for (size_t pos = 0; pos < len;) {
        size_t ulen = 0, mlen;
        if (kind == COUNT_MASTODON || kind == COUNT_X) {
            size_t url = url_at(s, len, pos, kind == COUNT_X);
            if (url) {
                n += 23;
                pos += url;
                continue;
            }
        }
        if (kind == COUNT_MASTODON && (mlen = mention_at(s, len, pos, &ulen))) {
            n += 1 + (long)ulen;
            pos += mlen;
            continue;
        }
        struct cluster c;
        int got = next_cluster(s, len, pos, &c);
        if (got < 0) {
            rc = -1;
            break;
        }
        if (kind == COUNT_CHARS)
            n += c.ncp;
        else if (kind == COUNT_X)
            n += c.emoji ? 2 : c.xweight;
        else
            n += 1;
        pos = c.end;
    }
    free(nfc);
    *count = n;
    return rc;
}

static const char *unit_of(enum count_kind kind)
{
    switch (kind) {
    case COUNT_X:
        return "weighted characters";
    case COUNT_GRAPHEMES:
        return "graphemes";
    default:
        return "characters";
    }
}

static const char *count_rules(enum count_kind kind)
{
    switch (kind) {
    case COUNT_X:
        return " (CJK and emoji count 2, a URL 23)";
    case COUNT_MASTODON:
        return " (a URL counts 23, @user@domain as @user)";
    default:
        return "";
    }
}

int es_outbox_text_length(const char *platform, int private_message,
                          const char *text, long *count, long *limit)
{
    const struct platform_rule *r = find_rule(platform);
    const char *label = no_reply_label(platform);
    *count = *limit = 0;
    if (!r && label)
        return es_error_set(ES_EINVALID,
                            "%s has no API to reply with: answer on the site "
                            "itself",
                            label);
    if (!r)
        return es_error_set(ES_EINVALID,
                            "earshot cannot reply on platform '%s'",
                            platform ? platform : "");
    if (private_message && !r->private_ok)
        return es_error_set(ES_EINVALID,
                            "%s has no private messages earshot can send",
                            r->label);
    enum count_kind kind = private_message ? r->private_count : r->count;
    *limit = private_message ? r->private_limit : r->limit;
    if (!text || count_text(kind, text, count) < 0)
        return es_error_set(ES_EINVALID, "reply text is not valid UTF-8");
    return 0;
}

/* ==== Accounts and their secrets ==== */

int es_outbox_account(const struct es_config *cfg, const char *name,
                      const char *platform, const struct es_config_source **out)
{
    *out = NULL;
    if (name) {
        const struct es_config_source *a =
            cfg ? es_config_section_find(cfg, "account", name) : NULL;
        if (!a)
            return es_error_set(ES_ENOTFOUND,
                                "no [account \"%s\"] in the config", name);
        if (platform && (!a->type || strcmp(a->type, platform) != 0))
            return es_error_set(ES_EINVALID,
                                "account '%s' is a %s account: it cannot "
                                "reply on %s",
                                name, a->type ? a->type : "(typeless)",
                                platform);
        *out = a;
        return 0;
    }
    size_t n = cfg ? es_config_section_count(cfg, "account") : 0;
    for (size_t i = 0; i < n; i++) {
        const struct es_config_source *a =
            es_config_section_at(cfg, "account", i);
        if (a && a->type && platform && strcmp(a->type, platform) == 0) {
            *out = a;
            return 0;
        }
    }
    return es_error_set(ES_ENOTFOUND,
                        "no account to reply on %s with: add an [account "
                        "\"NAME\"] with type = %s to the config",
                        platform ? platform : "this platform",
                        platform ? platform : "...");
}

void es_outbox_secret_free(char *secret)
{
    if (!secret)
        return;
    /* volatile: the wipe must not be optimised away before free(). */
    for (volatile char *p = secret; *p; p++)
        *p = '\0';
    free(secret);
}

int es_outbox_account_secret(const struct es_config_source *acct,
                             const char *key, char **out)
{
    *out = NULL;
    const char *v = es_config_source_get(acct, key);
    if (v && *v) {
        *out = es_xstrdup(v);
        return 0;
    }
    if (strcmp(key, "token") != 0)
        return ES_ENOTFOUND;
    char *who = es_xasprintf("account '%s':", acct->name);
    int rc = es_config_source_secret(acct, who, out);
    free(who);
    return rc;
}

/* Whether @key of @acct is set to something (token: or token_file). */
static int has_key(const struct es_config_source *acct, const char *key)
{
    const char *v = es_config_source_get(acct, key);
    if (v && *v)
        return 1;
    if (strcmp(key, "token") == 0) {
        v = es_config_source_get(acct, "token_file");
        return v && *v;
    }
    return 0;
}

static int missing(const struct es_config_source *acct, const char *key,
                   const char *how)
{
    return es_error_set(ES_EAUTH,
                        "account '%s' (%s) has no %s: %s in its [account] "
                        "section",
                        acct->name, acct->type ? acct->type : "no type", key,
                        how);
}

int es_outbox_account_check(const struct es_config_source *acct,
                            const struct es_config_source *source)
{
    const char *type = acct->type ? acct->type : "";
    if (strcmp(type, "bluesky") == 0) {
        if (!has_key(acct, "handle"))
            return missing(acct, "handle", "set handle = NAME.bsky.social");
        if (!has_key(acct, "app_password"))
            return missing(acct, "app_password",
                           "set app_password = ${ENV_VAR} (an app password "
                           "from Settings > App passwords)");
    } else if (strcmp(type, "reddit") == 0) {
        static const char *const grant[] = { "client_id", "client_secret",
                                             "username", "password" };
        if (!has_key(acct, "token")) {
            int any = 0;
            for (size_t i = 0; i < 4; i++)
                any |= has_key(acct, grant[i]);
            if (!any)
                return missing(acct, "token",
                               "set token = ${ENV_VAR}, or client_id, "
                               "client_secret, username and password");
            for (size_t i = 0; i < 4; i++)
                if (!has_key(acct, grant[i]))
                    return missing(acct, grant[i],
                                   "the password grant needs client_id, "
                                   "client_secret, username and password; "
                                   "set it");
        }
    } else if (!has_key(acct, "token")) {
        return missing(acct, "token",
                       "set token = ${ENV_VAR} or token_file = PATH");
    }
    if (strcmp(type, "mastodon") == 0 && !has_key(acct, "base_url"))
        return missing(acct, "base_url",
                       "set base_url = https://INSTANCE (where the account "
                       "lives)");
    if (strcmp(type, "googleplay") == 0 && !has_key(acct, "package") &&
        !(source && has_key(source, "package")))
        return missing(acct, "package", "set package = com.example.app");
    /* A token_file must be readable now, not at 3 a.m. in the sender. */
    if (has_key(acct, "token") && !es_config_source_get(acct, "token")) {
        char *tok = NULL;
        int rc = es_outbox_account_secret(acct, "token", &tok);
        es_outbox_secret_free(tok);
        if (rc < 0)
            return rc == ES_ENOTFOUND ? missing(acct, "token", "set it") : rc;
    }
    return 0;
}

/* ==== Queueing ==== */

/* Writes 128 random bits as 32 hex digits into @out (33 bytes). */
static int random_key(char out[static 33])
{
    unsigned char raw[16];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, raw, sizeof(raw)) : -1;
    if (fd >= 0)
        close(fd);
    if (n != (ssize_t)sizeof(raw))
        return es_error_set(ES_ERROR, "cannot read /dev/urandom for an "
                                      "idempotency key");
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    return 0;
}

void es_outbox_ref_get(const char *json, const char *key, struct es_buf *out)
{
    es_buf_reset(out);
    if (!json)
        return;
    yajl_val root = yajl_tree_parse(json, NULL, 0);
    const char *path[] = { key, NULL };
    yajl_val v = root ? yajl_tree_get(root, path, yajl_t_any) : NULL;
    if (v && YAJL_IS_STRING(v))
        es_buf_adds(out, YAJL_GET_STRING(v));
    else if (v && YAJL_IS_NUMBER(v) && YAJL_IS_INTEGER(v))
        es_buf_addf(out, "%lld", (long long)YAJL_GET_INTEGER(v));
    yajl_tree_free(root);
}

/* Whether @text mentions @acct ("@acct" as a whole handle, any case). */
static int mentions_acct(const char *text, const char *acct)
{
    size_t n = strlen(acct);
    for (const char *p = strchr(text, '@'); p; p = strchr(p + 1, '@')) {
        /* The n bytes first: only once they match is p[1 + n] known to be
         * inside the text (at worst its NUL). */
        if (strncasecmp(p + 1, acct, n) != 0)
            continue;
        unsigned char after = (unsigned char)p[1 + n];
        if (token_start((const unsigned char *)text, (size_t)(p - text)) &&
            !is_host_char(after) && after != '_' && after != '@' &&
            !(after == '.' && is_host_char((unsigned char)p[2 + n])))
            return 1;
    }
    return 0;
}

/* Checks that mention @m has what a reply on its platform needs, and
 * writes the text to post into @text: @body, with "@acct " in front on
 * Mastodon when the author is not mentioned yet. */
static int prepare_text(const struct es_mention *m, const char *body,
                        struct es_buf *text)
{
    const char *platform = m->item.platform;
    struct es_buf v = ES_BUF_INIT;
    int rc = 0;
    es_buf_reset(text);
    if (strcmp(platform, "mastodon") == 0) {
        es_outbox_ref_get(m->item.reply_ref, "acct", &v);
        const char *acct = v.len ? v.ptr : m->item.author;
        if (acct && *acct && !mentions_acct(body, acct))
            es_buf_addf(text, "@%s ", acct);
    } else if (strcmp(platform, "bluesky") == 0) {
        es_outbox_ref_get(m->item.reply_ref, "cid", &v);
        if (!v.len)
            rc = es_error_set(ES_EINVALID,
                              "mention %lld has no record reference (cid) to "
                              "reply to: poll its source again so that it is "
                              "stored with one",
                              (long long)m->id);
    } else if (strcmp(platform, "github") == 0) {
        es_outbox_ref_get(m->item.reply_ref, "repo", &v);
        if (!v.len)
            rc = es_error_set(ES_EINVALID,
                              "mention %lld names no issue to comment on: "
                              "poll its source again",
                              (long long)m->id);
    } else if (strcmp(platform, "reddit") == 0) {
        const char *id = m->item.external_id;
        if (strncmp(id, "t1_", 3) != 0 && strncmp(id, "t3_", 3) != 0 &&
            strncmp(id, "t4_", 3) != 0)
            rc = es_error_set(ES_EINVALID,
                              "mention %lld has no Reddit fullname (t1_, t3_ "
                              "or t4_) to reply to, but '%s'",
                              (long long)m->id, id);
    }
    es_buf_adds(text, body);
    es_buf_release(&v);
    return rc;
}

/* Everything es_outbox_queue() checks before its transaction. Fills
 * @text, *acct_name (borrowed from @cfg) and @conv. */
static int queue_checks(struct es_inbox *ib, const struct es_config *cfg,
                        const struct es_reply_request *rq, struct es_mention *m,
                        struct es_buf *text, const char **acct_name,
                        struct es_buf *conv)
{
    int rc = es_agent_check(ib, rq->agent, ES_ROLE_AGENT, "reply");
    if (rc < 0)
        return rc;
    const char *p;
    for (p = rq->body; *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r';)
        p++;
    if (!*p)
        return es_error_set(ES_EINVALID, "reply text is empty");
    if ((rc = es_inbox_get(ib, rq->mention_id, m)) < 0)
        return rc == ES_ENOTFOUND
                   ? es_error_set(ES_ENOTFOUND, "no mention %lld",
                                  (long long)rq->mention_id)
                   : rc;
    const char *platform = m->item.platform ? m->item.platform : "rss";
    const char *url = m->item.url ? m->item.url : "(no URL stored)";
    const struct platform_rule *rule = find_rule(platform);
    const char *label = no_reply_label(platform);
    if (!rule)
        return es_error_set(ES_EINVALID,
                            "cannot reply to mention %lld: %s%s%s has no "
                            "API earshot can reply with; answer on the site "
                            "itself: %s",
                            (long long)m->id, label ? label : "platform '",
                            label ? "" : platform, label ? "" : "'", url);
    if (rq->private_message && !rule->private_ok)
        return es_error_set(
            ES_EINVALID,
            "cannot send a private message about mention "
            "%lld: %s has no private messages earshot can send; reply "
            "publicly, or write to the author at %s",
            (long long)m->id, rule->label, url);
    const struct es_config_source *acct;
    if ((rc = es_outbox_account(cfg, rq->account, platform, &acct)) < 0)
        return rc;
    *acct_name = acct->name;
    const struct es_config_source *src =
        m->item.source && cfg ? es_config_source_find(cfg, m->item.source)
                              : NULL;
    if ((rc = es_outbox_account_check(acct, src)) < 0)
        return rc;
    if ((rc = prepare_text(m, rq->body, text)) < 0)
        return rc;
    long count, limit;
    if ((rc = es_outbox_text_length(platform, rq->private_message, text->ptr,
                                    &count, &limit)) < 0)
        return rc;
    enum count_kind kind =
        rq->private_message ? rule->private_count : rule->count;
    if (count > limit)
        return es_error_set(
            ES_ETOOBIG,
            "reply is %ld %s, over %s's limit of %ld%s%s: "
            "shorten it by %ld",
            count, unit_of(kind), rule->label, limit, count_rules(kind),
            text->len > strlen(rq->body) ? " (with the @mention of the author)"
                                         : "",
            count - limit);
    long max_bytes =
        rq->private_message ? rule->private_max_bytes : rule->max_bytes;
    if (max_bytes && (long)text->len > max_bytes)
        return es_error_set(ES_ETOOBIG,
                            "reply is %zu bytes, over %s's limit of %ld "
                            "bytes: shorten it",
                            text->len, rule->label, max_bytes);
    return es_conversation_of(ib, m->id, conv);
}

int es_outbox_queue(struct es_inbox *ib, const struct es_config *cfg,
                    const struct es_reply_request *rq, int64_t *reply_id)
{
    struct es_mention m;
    struct es_buf text = ES_BUF_INIT, conv = ES_BUF_INIT, after = ES_BUF_INIT;
    const char *acct_name = NULL;
    char key[33], object[48];
    int in_txn = 0, rc;

    memset(&m, 0, sizeof(m));
    if (!rq || !rq->agent || !rq->body) {
        rc = es_error_set(ES_EINVALID, "a reply needs an agent and a text");
        goto done;
    }
    if ((rc = queue_checks(ib, cfg, rq, &m, &text, &acct_name, &conv)) < 0)
        goto done;
    if ((rc = random_key(key)) < 0)
        goto done;
    if ((rc = es_inbox_begin(ib)) < 0)
        goto done;
    in_txn = 1;
    /* Inside the write lock: a second agent waits here, then meets the
     * first one's claim. */
    rc = es_conversation_claim(ib, conv.ptr, rq->agent,
                               es_config_claim_ttl(cfg));
    if (rc < 0)
        goto done;
    rc = es_conversation_touch(ib, conv.ptr, rq->agent,
                               rq->private_message ? "queued a private message"
                                                   : "queued a reply",
                               rq->expect_version, NULL);
    if (rc < 0)
        goto done;
    rc = es_sql_run(
        ib,
        es_sql_prepare(ib,
                       "INSERT INTO replies (mention_id, account, agent, body,"
                       " visibility, state, idempotency_key, ticket_id,"
                       " created_at) VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6,"
                       " ?7, ?8)",
                       "itttttni", rq->mention_id, acct_name, rq->agent,
                       text.ptr, rq->private_message ? "private" : "public",
                       key, rq->ticket_id > 0 ? rq->ticket_id : ES_TIME_UNKNOWN,
                       es_time_now()),
        "cannot queue a reply");
    if (rc < 0)
        goto done;
    int64_t id = sqlite3_last_insert_rowid(es_inbox__db(ib));
    snprintf(object, sizeof(object), "mention:%lld", (long long)rq->mention_id);
    es_buf_addf(&after, "reply %lld (%s, via %s): ", (long long)id,
                rq->private_message ? "private" : "public", acct_name);
    es_buf_adds(&after, text.ptr);
    rc = es_audit_add(ib, rq->agent, "reply", object, NULL, after.ptr);
    if (rc < 0)
        goto done;
    rc = es_inbox_commit(ib);
    in_txn = 0;
    if (rc == 0 && reply_id)
        *reply_id = id;
done:
    if (in_txn)
        es_inbox_rollback(ib);
    es_mention_release(&m);
    es_buf_release(&text);
    es_buf_release(&conv);
    es_buf_release(&after);
    return rc;
}

/* ==== Reading ==== */

static const char *const state_names[] = {
    "queued", "sending", "sent", "failed", "unknown", "cancelled",
};

const char *es_reply_state_name(enum es_reply_state state)
{
    return state >= ES_REPLY_QUEUED && state <= ES_REPLY_CANCELLED
               ? state_names[state]
               : "unknown";
}

int es_reply_state_parse(const char *name, enum es_reply_state *out)
{
    for (int s = ES_REPLY_QUEUED; name && s <= ES_REPLY_CANCELLED; s++)
        if (strcmp(name, state_names[s]) == 0) {
            *out = (enum es_reply_state)s;
            return 0;
        }
    return es_error_set(ES_EINVALID,
                        "unknown reply state '%s' (queued, sending, sent, "
                        "failed, unknown or cancelled)",
                        name ? name : "");
}

void es_reply_release(struct es_reply *r)
{
    if (!r)
        return;
    free(r->account);
    free(r->agent);
    free(r->body);
    free(r->idempotency_key);
    free(r->platform_id);
    free(r->url);
    free(r->error);
    free(r->platform);
    free(r->mention_url);
    memset(r, 0, sizeof(*r));
}

#define REPLY_COLUMNS                                                          \
    "SELECT r.id, r.mention_id, r.account, r.agent, r.body, r.visibility,"     \
    " r.state, r.idempotency_key, r.attempts, r.next_attempt,"                 \
    " r.platform_id, r.url, r.error, r.ticket_id, r.created_at, r.sent_at,"    \
    " m.platform, m.url FROM replies r LEFT JOIN mentions m ON m.id ="         \
    " r.mention_id"

static void read_reply(sqlite3_stmt *stmt, struct es_reply *out)
{
    memset(out, 0, sizeof(*out));
    out->id = sqlite3_column_int64(stmt, 0);
    out->mention_id = sqlite3_column_int64(stmt, 1);
    out->account = es_sql_dup_col(stmt, 2);
    out->agent = es_sql_dup_col(stmt, 3);
    out->body = es_sql_dup_col(stmt, 4);
    const char *vis = (const char *)sqlite3_column_text(stmt, 5);
    out->private_message = vis && strcmp(vis, "private") == 0;
    if (es_reply_state_parse((const char *)sqlite3_column_text(stmt, 6),
                             &out->state) < 0)
        out->state = ES_REPLY_UNKNOWN;
    out->idempotency_key = es_sql_dup_col(stmt, 7);
    out->attempts = sqlite3_column_int(stmt, 8);
    out->next_attempt = es_sql_time_col(stmt, 9);
    out->platform_id = es_sql_dup_col(stmt, 10);
    out->url = es_sql_dup_col(stmt, 11);
    out->error = es_sql_dup_col(stmt, 12);
    out->ticket_id = sqlite3_column_int64(stmt, 13);
    out->created_at = sqlite3_column_int64(stmt, 14);
    out->sent_at = es_sql_time_col(stmt, 15);
    out->platform = es_sql_dup_col(stmt, 16);
    out->mention_url = es_sql_dup_col(stmt, 17);
}

int es_outbox_get(struct es_inbox *ib, int64_t id, struct es_reply *out)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *stmt =
        es_sql_prepare(ib, REPLY_COLUMNS " WHERE r.id = ?1", "i", id);
    if (!stmt)
        return ES_EDB;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        read_reply(stmt, out);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = es_error_set(ES_ENOTFOUND, "no reply %lld in the outbox",
                          (long long)id);
    } else {
        rc = es_sql_fail(ib, "cannot read a reply");
    }
    sqlite3_finalize(stmt);
    return rc;
}

int es_outbox_each(struct es_inbox *ib, const char *state, int limit,
                   es_reply_cb cb, void *payload)
{
    enum es_reply_state st;
    if (state && es_reply_state_parse(state, &st) < 0)
        return ES_EINVALID;
    sqlite3_stmt *stmt =
        es_sql_prepare(ib,
                       REPLY_COLUMNS " WHERE ?1 IS NULL OR r.state"
                                     " = ?1 ORDER BY r.id DESC"
                                     " LIMIT ?2",
                       "ti", state, (int64_t)(limit > 0 ? limit : -1));
    if (!stmt)
        return ES_EDB;
    int rc = 0, step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct es_reply r;
        read_reply(stmt, &r);
        rc = cb(&r, payload);
        es_reply_release(&r);
        if (rc)
            break;
    }
    if (!rc && step != SQLITE_DONE)
        rc = es_sql_fail(ib, "cannot list the outbox");
    sqlite3_finalize(stmt);
    return rc;
}

/* ==== State changes ==== */

/* ES_EEXISTS naming the state reply @id is in (after an UPDATE that
 * matched no row), or ES_ENOTFOUND. */
static int wrong_state(struct es_inbox *ib, int64_t id, const char *wanted)
{
    struct es_reply r;
    int rc = es_outbox_get(ib, id, &r);
    if (rc < 0)
        return rc;
    rc = es_error_set(ES_EEXISTS, "reply %lld is %s, not %s", (long long)id,
                      es_reply_state_name(r.state), wanted);
    es_reply_release(&r);
    return rc;
}

/* Sets the conversation of reply @id's mention as first answered at @at
 * when it was not yet. In the caller's transaction. */
static int first_response(struct es_inbox *ib, int64_t mention_id, int64_t at)
{
    struct es_buf conv = ES_BUF_INIT;
    int rc = es_conversation_of(ib, mention_id, &conv);
    if (rc == 0)
        rc = es_sql_run(
            ib,
            es_sql_prepare(ib,
                           "INSERT INTO conversations (key, first_response_at)"
                           " VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET"
                           " first_response_at = COALESCE(first_response_at,"
                           " excluded.first_response_at)",
                           "ti", conv.ptr, at),
            "cannot record a first response");
    es_buf_release(&conv);
    return rc;
}

static int audit_reply(struct es_inbox *ib, const char *agent,
                       const char *action, int64_t id, const char *before,
                       const char *after)
{
    char object[40];
    snprintf(object, sizeof(object), "reply:%lld", (long long)id);
    return es_audit_add(ib, agent, action, object, before, after);
}

int es_outbox_mark_sending(struct es_inbox *ib, int64_t id)
{
    int rc = es_sql_run(
        ib,
        es_sql_prepare(ib,
                       "UPDATE replies SET state = 'sending', attempts ="
                       " attempts + 1, next_attempt = ?2 WHERE id = ?1"
                       " AND (state = 'queued' OR state = 'sending')",
                       "ii", id, es_time_now()),
        "cannot mark a reply as sending");
    if (rc == 0 && sqlite3_changes(es_inbox__db(ib)) == 0)
        rc = wrong_state(ib, id, "queued");
    return rc;
}

/* Moves reply @id from one of @from (an SQL condition on state) with
 * @set, auditing @action as "system"; plus the first response for a
 * public reply when @sent. One transaction. */
static int transition(struct es_inbox *ib, int64_t id, const char *set,
                      const char *from, const char *wanted, const char *action,
                      const char *platform_id, const char *url,
                      const char *error, int sent)
{
    struct es_reply r;
    int rc = es_inbox_begin(ib);
    if (rc < 0)
        return rc;
    if ((rc = es_outbox_get(ib, id, &r)) < 0)
        goto done;
    char *sql =
        es_xasprintf("UPDATE replies SET %s WHERE id = ?1 AND (%s)", set, from);
    int64_t now = es_time_now();
    rc = es_sql_run(
        ib, es_sql_prepare(ib, sql, "itttn", id, platform_id, url, error, now),
        "cannot change a reply");
    free(sql);
    if (rc == 0 && sqlite3_changes(es_inbox__db(ib)) == 0)
        rc = es_error_set(ES_EEXISTS, "reply %lld is %s, not %s", (long long)id,
                          es_reply_state_name(r.state), wanted);
    if (rc == 0 && sent && !r.private_message)
        rc = first_response(ib, r.mention_id, now);
    if (rc == 0)
        rc = audit_reply(ib, "system", action, id, es_reply_state_name(r.state),
                         error ? error
                         : url ? url
                               : platform_id);
    es_reply_release(&r);
done:
    if (rc == 0)
        return es_inbox_commit(ib);
    es_inbox_rollback(ib);
    return rc;
}

int es_outbox_mark_sent(struct es_inbox *ib, int64_t id,
                        const char *platform_id, const char *url)
{
    return transition(ib, id,
                      "state = 'sent', platform_id = ?2, url = ?3, error ="
                      " NULL, next_attempt = NULL, sent_at = ?5",
                      "state = 'sending' OR state = 'unknown'", "sending",
                      "reply sent", platform_id, url, NULL, 1);
}

int es_outbox_mark_retry(struct es_inbox *ib, int64_t id, int64_t next_attempt,
                         const char *error)
{
    int rc = es_sql_run(
        ib,
        es_sql_prepare(ib,
                       "UPDATE replies SET state = 'queued', next_attempt ="
                       " ?2, error = ?3 WHERE id = ?1 AND state ="
                       " 'sending'",
                       "int", id, next_attempt, error),
        "cannot reschedule a reply");
    if (rc == 0 && sqlite3_changes(es_inbox__db(ib)) == 0)
        rc = wrong_state(ib, id, "sending");
    return rc;
}

int es_outbox_mark_failed(struct es_inbox *ib, int64_t id, const char *error)
{
    return transition(
        ib, id, "state = 'failed', error = ?4, next_attempt = NULL",
        "state = 'queued' OR state = 'sending'", "queued or sending",
        "reply failed", NULL, NULL, error, 0);
}

int es_outbox_mark_unknown(struct es_inbox *ib, int64_t id, const char *error)
{
    return transition(
        ib, id, "state = 'unknown', error = ?4, next_attempt = NULL",
        "state = 'sending'", "sending", "reply unknown", NULL, NULL, error, 0);
}

int es_outbox_due(struct es_inbox *ib, int64_t now, int64_t **ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    sqlite3_stmt *stmt =
        es_sql_prepare(ib,
                       "SELECT id FROM replies WHERE state ="
                       " 'sending' OR (state = 'queued' AND"
                       " (next_attempt IS NULL OR next_attempt <="
                       " ?1)) ORDER BY id",
                       "i", now);
    if (!stmt)
        return ES_EDB;
    size_t alloc = 0;
    int step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (*n == alloc) {
            alloc = alloc ? 2 * alloc : 16;
            *ids = es_xrealloc(*ids, alloc * sizeof(**ids));
        }
        (*ids)[(*n)++] = sqlite3_column_int64(stmt, 0);
    }
    int rc =
        step == SQLITE_DONE ? 0 : es_sql_fail(ib, "cannot read the outbox");
    sqlite3_finalize(stmt);
    if (rc < 0) {
        free(*ids);
        *ids = NULL;
        *n = 0;
    }
    return rc;
}

int es_outbox_resolve(struct es_inbox *ib, int64_t id, const char *agent,
                      enum es_outbox_resolution how)
{
    static const char *const verbs[] = { "mark sent", "resend", "cancel" };
    struct es_reply r;
    struct es_buf conv = ES_BUF_INIT;
    int rc = es_agent_check(ib, agent, ES_ROLE_AGENT, "resolve replies");
    if (rc < 0)
        return rc;
    if ((rc = es_inbox_begin(ib)) < 0)
        return rc;
    if ((rc = es_outbox_get(ib, id, &r)) < 0)
        goto done;
    int ok = how == ES_OUTBOX_SENT ? r.state == ES_REPLY_UNKNOWN
             : how == ES_OUTBOX_RESEND
                 ? r.state == ES_REPLY_UNKNOWN || r.state == ES_REPLY_FAILED
                 : r.state == ES_REPLY_UNKNOWN || r.state == ES_REPLY_FAILED ||
                       r.state == ES_REPLY_QUEUED;
    if (!ok) {
        rc = es_error_set(ES_EINVALID,
                          "reply %lld is %s: only an unknown reply can be "
                          "marked sent, an unknown or failed one resent, and "
                          "an unknown, failed or queued one cancelled",
                          (long long)id, es_reply_state_name(r.state));
        es_reply_release(&r);
        goto done;
    }
    int64_t now = es_time_now();
    const char *to = how == ES_OUTBOX_SENT     ? "sent"
                     : how == ES_OUTBOX_RESEND ? "queued"
                                               : "cancelled";
    /* A resend keeps its idempotency key: where the platform honours it,
     * a post that did go out is recognised rather than doubled. Its
     * attempts drop to 1 so the retry budget starts again, while the
     * sender still knows it went out before. */
    rc = es_sql_run(
        ib,
        es_sql_prepare(ib,
                       "UPDATE replies SET state = ?2, next_attempt = NULL,"
                       " sent_at = CASE WHEN ?2 = 'sent' THEN ?3 ELSE sent_at"
                       " END, error = CASE WHEN ?2 = 'queued' THEN NULL ELSE"
                       " error END, attempts = CASE WHEN ?2 = 'queued' THEN"
                       " MIN(attempts, 1) ELSE attempts END WHERE id = ?1",
                       "iti", id, to, now),
        "cannot resolve a reply");
    if (rc == 0 && how == ES_OUTBOX_SENT && !r.private_message)
        rc = first_response(ib, r.mention_id, now);
    if (rc == 0)
        rc = audit_reply(ib, agent, "reply resolve", id,
                         es_reply_state_name(r.state), to);
    if (rc == 0)
        rc = es_conversation_of(ib, r.mention_id, &conv);
    if (rc == 0) {
        char what[64];
        snprintf(what, sizeof(what), "%s reply %lld", verbs[how],
                 (long long)id);
        rc = es_conversation_touch(ib, conv.ptr, agent, what, 0, NULL);
    }
    es_reply_release(&r);
done:
    es_buf_release(&conv);
    if (rc == 0)
        return es_inbox_commit(ib);
    es_inbox_rollback(ib);
    return rc;
}

/* ==== One sender at a time ==== */

struct es_outbox_lock {
    int fd; /* the lock file, holding a write lock on its whole length */
};

int es_outbox_lock(struct es_inbox *ib, struct es_outbox_lock **out)
{
    *out = NULL;
    const char *db = sqlite3_db_filename(es_inbox__db(ib), "main");
    if (!db || !*db)
        return 0; /* in memory: only this connection sees it */
    char *path = es_xasprintf("%s-sender.lock", db);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        int rc = es_error_set(ES_ERROR, "cannot open the sender lock '%s': %s",
                              path, strerror(errno));
        free(path);
        return rc;
    }
    /* fcntl locks, not flock: POSIX, and released when the process dies
     * however it dies. */
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    if (fcntl(fd, F_SETLK, &fl) < 0) {
        int e = errno;
        close(fd);
        int rc = e == EACCES || e == EAGAIN
                     ? es_error_set(ES_EEXISTS,
                                    "another sender is running on '%s' (it "
                                    "holds '%s')",
                                    db, path)
                     : es_error_set(ES_ERROR, "cannot lock '%s': %s", path,
                                    strerror(e));
        free(path);
        return rc;
    }
    free(path);
    *out = es_xmalloc(sizeof(**out));
    (*out)->fd = fd;
    return 0;
}

void es_outbox_unlock(struct es_outbox_lock *lock)
{
    if (!lock)
        return;
    close(lock->fd); /* drops the lock */
    free(lock);
}
