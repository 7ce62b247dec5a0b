/* smtp.c - one email through libcurl's SMTP client
 *
 * Alerts go out by email as plain UTF-8 text. libcurl does the protocol:
 * EHLO, STARTTLS (required unless the channel says starttls = no, so a
 * password never crosses the network in clear by accident), AUTH with
 * the best mechanism the server offers, MAIL/RCPT/DATA, and the
 * dot-stuffing of the data (a line starting with "." gets a second one;
 * tests/test_net_notify.c checks it against the sink). We write the
 * RFC 5322 message ourselves: headers are ASCII (RFC 2047 words for a
 * UTF-8 subject or display name) with no control characters, so nothing
 * in an alert can inject a header; the body is quoted-printable, which
 * needs no 8BITMIME and keeps every line short.
 *
 * This file calls curl_easy_* directly (only collectors/http.c does
 * otherwise): the collectors' client speaks HTTP only. Each send has its
 * own easy handle and sets CURLOPT_NOSIGNAL, so the notifier's channel
 * threads can send at the same time.
 */
#include "smtp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "collectors/http.h"
#include "earshot/alloc.h"
#include "earshot/error.h"

#define SMTP_TIMEOUT_MS         30000L
#define SMTP_CONNECT_TIMEOUT_MS 10000L
#define SMTP_REPLY_MAX          200 /* bytes of a server reply we keep */

/* ==== Addresses ==== */

/* One entry of an address list: the bare address and, when written, the
 * display name before it (quotes kept as written). */
struct address {
    char *display; /* NULL when none */
    char *addr;
};

static void addresses_release(struct address *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(a[i].display);
        free(a[i].addr);
    }
    free(a);
}

static char *trimmed(const char *s, size_t len)
{
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    return es_xstrndup(s, len);
}

/* Whether @a is a plain ASCII addr-spec we can put on the envelope: one
 * '@' with something either side, no spaces, controls or specials. */
static int address_ok(const char *a)
{
    const char *at = strchr(a, '@');
    if (!at || at == a || !at[1] || strchr(at + 1, '@'))
        return 0;
    for (const unsigned char *p = (const unsigned char *)a; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || strchr("<>()[],;:\"\\", *p))
            return 0;
    return 1;
}

/* Parses @list into *out (caller frees with addresses_release). Commas
 * inside quotes or angle brackets do not split. */
static int parse_addresses(const char *list, const char *what,
                           struct address **out, size_t *n)
{
    struct address *a = NULL;
    size_t na = 0;
    const char *start = list;
    int quoted = 0, angled = 0, rc = 0;

    *out = NULL;
    *n = 0;
    for (const char *p = list;; p++) {
        if (*p == '\\' && quoted && p[1]) {
            p++;
            continue;
        }
        if (*p == '"')
            quoted = !quoted;
        else if (*p == '<' && !quoted)
            angled = 1;
        else if (*p == '>' && !quoted)
            angled = 0;
        if (*p && (*p != ',' || quoted || angled))
            continue;

        char *entry = trimmed(start, (size_t)(p - start));
        if (*entry) {
            struct address cur = { NULL, NULL };
            char *lt = strrchr(entry, '<');
            if (lt) {
                char *gt = strchr(lt, '>');
                if (gt && !gt[1 + strspn(gt + 1, " \t")]) {
                    cur.addr = es_xstrndup(lt + 1, (size_t)(gt - lt - 1));
                    cur.display = trimmed(entry, (size_t)(lt - entry));
                    if (!*cur.display) {
                        free(cur.display);
                        cur.display = NULL;
                    }
                }
            } else {
                cur.addr = es_xstrdup(entry);
            }
            if (!cur.addr || !address_ok(cur.addr)) {
                rc = es_error_set(ES_EINVALID, "bad address '%s' in %s", entry,
                                  what);
                free(cur.addr);
                free(cur.display);
                free(entry);
                goto done;
            }
            a = es_xrealloc(a, (na + 1) * sizeof(*a));
            a[na++] = cur;
        }
        free(entry);
        if (!*p)
            break;
        start = p + 1;
    }
    if (na == 0)
        rc = es_error_set(ES_EINVALID, "no address in %s", what);
done:
    if (rc < 0) {
        addresses_release(a, na);
        return rc;
    }
    *out = a;
    *n = na;
    return 0;
}

int es_smtp_addresses(const char *list, char ***out, size_t *n)
{
    struct address *a;
    size_t na;
    int rc = parse_addresses(list ? list : "", "the address list", &a, &na);
    if (rc < 0)
        return rc;
    char **v = es_xcalloc(na + 1, sizeof(char *));
    for (size_t i = 0; i < na; i++) {
        v[i] = a[i].addr;
        a[i].addr = NULL;
    }
    addresses_release(a, na);
    *out = v;
    *n = na;
    return 0;
}

void es_smtp_addresses_free(char **addrs)
{
    if (!addrs)
        return;
    for (char **p = addrs; *p; p++)
        free(*p);
    free(addrs);
}

/* ==== Composing ==== */

static void add_base64(struct es_buf *out, const unsigned char *s, size_t len)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)s[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)s[i + 1] << 8;
        if (i + 2 < len)
            v |= s[i + 2];
        es_buf_addch(out, tab[(v >> 18) & 63]);
        es_buf_addch(out, tab[(v >> 12) & 63]);
        es_buf_addch(out, i + 1 < len ? tab[(v >> 6) & 63] : '=');
        es_buf_addch(out, i + 2 < len ? tab[v & 63] : '=');
    }
}

/* Appends header text @s: as is when it is short printable ASCII, else as
 * RFC 2047 encoded words of at most 45 bytes of UTF-8 each (whole
 * characters), folded onto continuation lines. Controls become spaces
 * and invalid UTF-8 becomes U+FFFD either way. */
static void add_header_text(struct es_buf *out, const char *s)
{
    struct es_buf clean = ES_BUF_INIT;
    int ascii = 1;

    es_buf_add_valid_utf8(&clean, s, strlen(s));
    for (size_t i = 0; i < clean.len; i++) {
        unsigned char c = (unsigned char)clean.ptr[i];
        if (c < 0x20 || c == 0x7f)
            clean.ptr[i] = ' ';
        else if (c >= 0x80)
            ascii = 0;
    }
    /* "=?" in plain text would read as the start of an encoded word. */
    if (ascii && clean.len <= 900 && !strstr(clean.ptr, "=?")) {
        es_buf_add(out, clean.ptr, clean.len);
        es_buf_release(&clean);
        return;
    }
    for (size_t i = 0; i < clean.len;) {
        size_t n = clean.len - i < 45 ? clean.len - i : 45;
        while (n > 1 && i + n < clean.len &&
               ((unsigned char)clean.ptr[i + n] & 0xc0) == 0x80)
            n--;
        if (i)
            es_buf_adds(out, "\r\n ");
        es_buf_adds(out, "=?UTF-8?B?");
        add_base64(out, (const unsigned char *)clean.ptr + i, n);
        es_buf_adds(out, "?=");
        i += n;
    }
    es_buf_release(&clean);
}

/* Appends "Name: list" for an address list, each display name as header
 * text (encoded when not ASCII), one address per folded line. */
static void add_address_header(struct es_buf *out, const char *name,
                               const struct address *a, size_t n)
{
    es_buf_addf(out, "%s: ", name);
    for (size_t i = 0; i < n; i++) {
        if (i)
            es_buf_adds(out, ",\r\n ");
        if (a[i].display) {
            add_header_text(out, a[i].display);
            es_buf_addch(out, ' ');
        }
        es_buf_addf(out, "<%s>", a[i].addr);
    }
    es_buf_adds(out, "\r\n");
}

/* RFC 5322 date, always in English and UTC whatever the locale. */
static void add_date(struct es_buf *out, int64_t t)
{
    static const char *const days[] = { "Sun", "Mon", "Tue", "Wed",
                                        "Thu", "Fri", "Sat" };
    static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
                                          "May", "Jun", "Jul", "Aug",
                                          "Sep", "Oct", "Nov", "Dec" };
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    es_buf_addf(out, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
                days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
                tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void es_smtp_qp_encode(const char *s, size_t len, struct es_buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t col = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r' && i + 1 < len && s[i + 1] == '\n') {
            es_buf_adds(out, "\r\n");
            col = 0;
            i++;
            continue;
        }
        int at_eol = i + 1 == len ||
                     (s[i + 1] == '\r' && i + 2 < len && s[i + 2] == '\n');
        int literal = (c >= 33 && c <= 126 && c != '=') ||
                      ((c == ' ' || c == '\t') && !at_eol);
        size_t w = literal ? 1 : 3;
        /* A soft break keeps lines within 76 characters, "=" included. */
        if (col + w > 75) {
            es_buf_adds(out, "=\r\n");
            col = 0;
        }
        if (literal) {
            es_buf_addch(out, c);
        } else {
            es_buf_addch(out, '=');
            es_buf_addch(out, hex[c >> 4]);
            es_buf_addch(out, hex[c & 15]);
        }
        col += w;
    }
}

int es_smtp_compose(const struct es_smtp_mail *m, struct es_buf *out)
{
    struct address *from = NULL, *to = NULL;
    size_t nfrom = 0, nto = 0;
    struct es_buf body = ES_BUF_INIT;
    int rc;

    if ((rc = parse_addresses(m->from ? m->from : "", "'from'", &from,
                              &nfrom)) < 0 ||
        (rc = parse_addresses(m->to ? m->to : "", "'to'", &to, &nto)) < 0)
        goto done;
    if (nfrom != 1) {
        rc = es_error_set(ES_EINVALID, "'from' must be one address");
        goto done;
    }

    const char *domain = strchr(from[0].addr, '@') + 1;
    add_date(out, m->date);
    add_address_header(out, "From", from, 1);
    add_address_header(out, "To", to, nto);
    es_buf_adds(out, "Subject: ");
    add_header_text(out, m->subject ? m->subject : "");
    es_buf_adds(out, "\r\n");
    if (m->message_id)
        es_buf_addf(out, "Message-ID: <%s@%s>\r\n", m->message_id, domain);
    if (m->headers)
        es_buf_adds(out, m->headers);
    es_buf_adds(out, "MIME-Version: 1.0\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\n"
                     "Content-Transfer-Encoding: quoted-printable\r\n"
                     "\r\n");
    /* Every line end becomes CRLF before encoding. */
    const char *b = m->body ? m->body : "";
    struct es_buf valid = ES_BUF_INIT;
    es_buf_add_valid_utf8(&valid, b, strlen(b));
    for (size_t i = 0; i < valid.len; i++) {
        char c = valid.ptr[i];
        if (c == '\r' && i + 1 < valid.len && valid.ptr[i + 1] == '\n')
            continue;
        if (c == '\r' || c == '\n')
            es_buf_adds(&body, "\r\n");
        else
            es_buf_addch(&body, c);
    }
    es_buf_release(&valid);
    if (body.len < 2 || strcmp(body.ptr + body.len - 2, "\r\n") != 0)
        es_buf_adds(&body, "\r\n");
    es_smtp_qp_encode(body.ptr, body.len, out);
done:
    addresses_release(from, nfrom);
    addresses_release(to, nto);
    es_buf_release(&body);
    return rc;
}

/* ==== Sending ==== */

/* The data libcurl uploads, and what the server said last. */
struct upload {
    const char *data;
    size_t len;
    size_t pos;
    char reply[SMTP_REPLY_MAX + 1]; /* the server's last refusal */
};

static size_t read_cb(char *dst, size_t size, size_t nmemb, void *userp)
{
    struct upload *u = userp;
    size_t room = size * nmemb;
    size_t n = u->len - u->pos < room ? u->len - u->pos : room;
    memcpy(dst, u->data + u->pos, n);
    u->pos += n;
    return n;
}

/* Keeps the last refusal (a 4xx or 5xx reply line) the server sent:
 * libcurl hands SMTP replies over as CURLINFO_HEADER_IN, and after a
 * refusal it still says QUIT, whose 221 is not the news. What we send,
 * which holds the AUTH exchange, is ignored. */
static int debug_cb(CURL *curl, curl_infotype type, char *data, size_t size,
                    void *userp)
{
    struct upload *u = userp;
    (void)curl;
    if (type != CURLINFO_HEADER_IN || size < 3 || data[0] < '4' ||
        data[0] > '5')
        return 0;
    size_t n = 0, k = 0;
    while (n < size && data[n] != '\r' && data[n] != '\n')
        n++;
    for (size_t i = 0; i < n && k < SMTP_REPLY_MAX; i++)
        u->reply[k++] = (unsigned char)data[i] < 0x20 ? ' ' : data[i];
    u->reply[k] = '\0';
    return 0;
}

static int scheme_is(const char *url, const char *scheme)
{
    size_t n = strlen(scheme);
    return strncasecmp(url, scheme, n) == 0 && strncmp(url + n, "://", 3) == 0;
}

int es_smtp_send(const struct es_smtp_mail *m, int *permanent)
{
    CURL *curl = NULL;
    struct curl_slist *rcpt = NULL;
    struct es_buf data = ES_BUF_INIT, envfrom = ES_BUF_INIT;
    struct upload up;
    struct address *from = NULL;
    size_t nfrom = 0;
    char **to = NULL;
    size_t nto = 0;
    char where[512], errbuf[CURL_ERROR_SIZE];
    const char *name = m->name ? m->name : "?";
    int rc = 0;

    if (permanent)
        *permanent = 0;
    memset(&up, 0, sizeof(up));
    errbuf[0] = '\0';
    if (!m->url || !*m->url)
        return es_error_set(ES_EINVALID, "email '%s': no smtp_url", name);
    es_http__redact_url(m->url, where, sizeof(where));
    int implicit_tls = scheme_is(m->url, "smtps");
    if (!implicit_tls && !scheme_is(m->url, "smtp"))
        return es_error_set(ES_EINVALID,
                            "email '%s': smtp_url '%s' must be smtp:// or "
                            "smtps://",
                            name, where);
    if ((rc = es_smtp_compose(m, &data)) < 0 ||
        (rc = parse_addresses(m->from, "'from'", &from, &nfrom)) < 0 ||
        (rc = es_smtp_addresses(m->to, &to, &nto)) < 0) {
        char why[512];
        snprintf(why, sizeof(why), "%s", es_error_last());
        rc = es_error_set(rc, "email '%s': %s", name, why);
        goto done;
    }
    es_buf_addf(&envfrom, "<%s>", from[0].addr);
    for (size_t i = 0; i < nto; i++) {
        char line[600];
        snprintf(line, sizeof(line), "<%s>", to[i]);
        rcpt = curl_slist_append(rcpt, line);
        if (!rcpt) {
            rc = es_error_set(ES_ERROR, "email '%s': out of memory", name);
            goto done;
        }
    }

    curl = curl_easy_init();
    if (!curl) {
        rc = es_error_set(ES_ERROR, "email '%s': cannot start libcurl", name);
        goto done;
    }
    up.data = data.ptr;
    up.len = data.len;
    long timeout = m->timeout_ms > 0 ? m->timeout_ms : SMTP_TIMEOUT_MS;
    curl_easy_setopt(curl, CURLOPT_URL, m->url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(
        curl, CURLOPT_CONNECTTIMEOUT_MS,
        timeout < SMTP_CONNECT_TIMEOUT_MS ? timeout : SMTP_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_USE_SSL,
                     implicit_tls || m->starttls ? (long)CURLUSESSL_ALL
                                                 : (long)CURLUSESSL_NONE);
    if (m->username && *m->username) {
        curl_easy_setopt(curl, CURLOPT_USERNAME, m->username);
        curl_easy_setopt(curl, CURLOPT_PASSWORD,
                         m->password ? m->password : "");
    }
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, envfrom.ptr);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(curl, CURLOPT_READDATA, &up);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    /* VERBOSE only routes the protocol through debug_cb, which keeps the
     * server's replies; nothing is printed. */
    curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, debug_cb);
    curl_easy_setopt(curl, CURLOPT_DEBUGDATA, &up);
    curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);

    CURLcode cc = curl_easy_perform(curl);
    if (cc == CURLE_OK)
        goto done;

    long code = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(cc);
    switch (cc) {
    case CURLE_USE_SSL_FAILED:
        rc = es_error_set(ES_ENETWORK,
                          "email '%s': %s does not offer STARTTLS, and "
                          "starttls = yes refuses to send the login and the "
                          "message in clear text (use smtps://, or set "
                          "starttls = no only for a trusted local relay)",
                          name, where);
        break;
    case CURLE_LOGIN_DENIED:
        rc = es_error_set(ES_EAUTH, "email '%s': %s refused the login%s%s",
                          name, where, up.reply[0] ? ": " : "", up.reply);
        break;
    case CURLE_OPERATION_TIMEDOUT:
        rc = es_error_set(ES_ENETWORK, "email '%s': %s timed out after %ld s",
                          name, where, (timeout + 999) / 1000);
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
        rc = es_error_set(ES_ENETWORK, "email '%s': %s: %s", name, where,
                          detail);
        break;
    default:
        if (code >= 400 && up.reply[0])
            rc = es_error_set(ES_ENETWORK, "email '%s': %s refused: %s", name,
                              where, up.reply);
        else
            rc = es_error_set(ES_ENETWORK, "email '%s': %s: %s", name, where,
                              detail);
        break;
    }
    /* 55x: the mailbox, the sender or the message is refused for good. */
    if (permanent && code >= 550 && code <= 559)
        *permanent = 1;
done:
    if (curl)
        curl_easy_cleanup(curl);
    curl_slist_free_all(rcpt);
    addresses_release(from, nfrom);
    es_smtp_addresses_free(to);
    es_buf_release(&data);
    es_buf_release(&envfrom);
    return rc;
}
