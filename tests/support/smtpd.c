/* smtpd.c - a minimal, scriptable SMTP server on 127.0.0.1 for tests
 *
 * One thread per connection (loopsrv.c), like testhttpd.c.
 * It implements just the part of RFC 5321 that libcurl's SMTP client
 * uses (EHLO, AUTH PLAIN/LOGIN with or without an initial response, MAIL,
 * RCPT, DATA, RSET, NOOP, QUIT), strictly enough to catch a client that
 * gets the protocol wrong: commands out of order get 503, a line without
 * CRLF is not a line, and DATA ends only at CRLF "." CRLF, with the
 * leading dot of stuffed lines removed (RFC 5321 4.5.2).
 *
 * Settings, scripts, accepted messages and the transcript sit behind one
 * mutex; a connection thread copies what it needs while holding it.
 */
#include "smtpd.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "earshot/alloc.h"
#include "earshot/buf.h"
#include "loopsrv.h"

#define MAX_LINE (64 * 1024)       /* a command or data line */
#define MAX_DATA (8 * 1024 * 1024) /* one message */

struct script {
    char *reply; /* NULL: answer normally */
    int times;   /* left; < 0 forever */
    unsigned delay_ms;
};

struct es_smtpd {
    struct es_loopsrv *loop; /* sockets, threads, connections */
    pthread_mutex_t lock;    /* guards everything below */
    char *mechs;             /* AUTH mechanisms offered, or NULL */
    char *user;              /* accepted credentials, NULL: any */
    char *pass;
    int auth_required;
    struct script scripts[ES_SMTPD_NSTAGES];
    struct es_smtpd_message *msgs;
    size_t nmsgs;
    struct es_buf verbs; /* the transcript */
};

/* What one connection has read and the transaction in progress. */
struct session {
    struct es_smtpd *srv;
    int fd;
    char *buf; /* bytes read, not yet consumed */
    size_t have;
    struct es_smtpd_message msg; /* the transaction being built */
    int helo_done;
    int authed;
};

/* ==== Small helpers ==== */

static char *dup_or_null(const char *s)
{
    return s ? es_xstrdup(s) : NULL;
}

static int reply(struct session *s, const char *line)
{
    struct es_buf b = ES_BUF_INIT;
    es_buf_adds(&b, line);
    es_buf_adds(&b, "\r\n");
    int rc = es_loopsrv_send_all(s->fd, b.ptr, b.len);
    es_buf_release(&b);
    return rc;
}

/* The answer at @stage: the scripted refusal if one is left (copied into
 * @out, returns 1), else 0 to answer normally. Waits the stage's delay
 * first. */
static int scripted(struct session *s, enum es_smtpd_stage stage,
                    struct es_buf *out)
{
    struct es_smtpd *srv = s->srv;
    unsigned delay;
    int refused = 0;

    pthread_mutex_lock(&srv->lock);
    struct script *sc = &srv->scripts[stage];
    delay = sc->delay_ms;
    if (sc->reply && sc->times != 0) {
        es_buf_reset(out);
        es_buf_adds(out, sc->reply);
        refused = 1;
        if (sc->times > 0)
            sc->times--;
    }
    pthread_mutex_unlock(&srv->lock);
    if (delay)
        es_loopsrv_nap(srv->loop, delay);
    return refused;
}

static void log_verb(struct es_smtpd *srv, const char *verb)
{
    pthread_mutex_lock(&srv->lock);
    es_buf_adds(&srv->verbs, verb);
    es_buf_addch(&srv->verbs, '\n');
    pthread_mutex_unlock(&srv->lock);
}

static void message_reset(struct es_smtpd_message *m)
{
    free(m->from);
    for (size_t i = 0; i < m->nrcpt; i++)
        free(m->rcpt[i]);
    free(m->rcpt);
    free(m->data);
    m->from = NULL;
    m->rcpt = NULL;
    m->nrcpt = 0;
    m->data = NULL;
    m->len = 0;
}

void es_smtpd_message_release(struct es_smtpd_message *msg)
{
    if (!msg)
        return;
    message_reset(msg);
    free(msg->helo);
    free(msg->auth_mech);
    free(msg->auth_user);
    memset(msg, 0, sizeof(*msg));
}

static void message_copy(struct es_smtpd_message *dst,
                         const struct es_smtpd_message *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->helo = dup_or_null(src->helo);
    dst->auth_mech = dup_or_null(src->auth_mech);
    dst->auth_user = dup_or_null(src->auth_user);
    dst->from = dup_or_null(src->from);
    dst->nrcpt = src->nrcpt;
    dst->rcpt = es_xcalloc(src->nrcpt + 1, sizeof(char *));
    for (size_t i = 0; i < src->nrcpt; i++)
        dst->rcpt[i] = es_xstrdup(src->rcpt[i]);
    dst->len = src->len;
    dst->data = es_xmalloc(src->len + 1);
    if (src->len)
        memcpy(dst->data, src->data, src->len);
    dst->data[src->len] = '\0';
}

/* Decodes base64 @in into @out (which may hold NULs: out->len says how
 * many bytes). Returns 0, or -1 for bad input. */
static int b64_decode(const char *in, struct es_buf *out)
{
    unsigned acc = 0;
    int bits = 0;
    es_buf_reset(out);
    for (const char *p = in; *p && *p != '='; p++) {
        const char *tab =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *at = strchr(tab, *p);
        if (!at)
            return -1;
        acc = (acc << 6) | (unsigned)(at - tab);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            es_buf_addch(out, (int)((acc >> bits) & 0xff));
        }
    }
    return 0;
}

/* ==== Reading lines ==== */

/* Reads one CRLF-terminated line into @line (without the CRLF). Returns
 * 0, or -1 when the peer closed, the server stops, or the line is too
 * long. */
static int read_line(struct session *s, struct es_buf *line)
{
    for (;;) {
        for (size_t i = 1; i < s->have; i++)
            if (s->buf[i - 1] == '\r' && s->buf[i] == '\n') {
                es_buf_reset(line);
                es_buf_add(line, s->buf, i - 1);
                memmove(s->buf, s->buf + i + 1, s->have - i - 1);
                s->have -= i + 1;
                return 0;
            }
        if (s->have >= MAX_LINE)
            return -1;
        ssize_t n = recv(s->fd, s->buf + s->have, MAX_LINE - s->have, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        s->have += (size_t)n;
    }
}

/* Strips "<...>" (and any " SIZE=..." parameters after it) from the
 * argument of MAIL FROM: / RCPT TO:. */
static char *path_arg(const char *arg)
{
    while (*arg == ' ')
        arg++;
    if (*arg == '<') {
        const char *end = strchr(arg, '>');
        if (!end)
            return NULL;
        return es_xstrndup(arg + 1, (size_t)(end - arg - 1));
    }
    size_t n = strcspn(arg, " ");
    return es_xstrndup(arg, n);
}

/* ==== Commands ==== */

static int do_ehlo(struct session *s, const char *verb, const char *arg)
{
    struct es_buf r = ES_BUF_INIT;
    int rc;
    if (scripted(s, ES_SMTPD_EHLO, &r)) {
        rc = reply(s, r.ptr);
        es_buf_release(&r);
        return rc;
    }
    free(s->msg.helo);
    s->msg.helo = es_xstrdup(arg);
    message_reset(&s->msg);
    s->helo_done = 1;
    if (strcasecmp(verb, "HELO") == 0) {
        rc = reply(s, "250 127.0.0.1");
    } else {
        pthread_mutex_lock(&s->srv->lock);
        es_buf_adds(&r, "250-127.0.0.1 hello\r\n250-8BITMIME\r\n");
        if (s->srv->mechs)
            es_buf_addf(&r, "250-AUTH %s\r\n", s->srv->mechs);
        pthread_mutex_unlock(&s->srv->lock);
        es_buf_adds(&r, "250 SIZE 10485760");
        rc = reply(s, r.ptr);
    }
    es_buf_release(&r);
    return rc;
}

/* Checks @user/@pass against the configured credentials. */
static int creds_ok(struct es_smtpd *srv, const char *user, const char *pass)
{
    int ok;
    pthread_mutex_lock(&srv->lock);
    ok = (!srv->user || strcmp(srv->user, user) == 0) &&
         (!srv->pass || strcmp(srv->pass, pass) == 0);
    pthread_mutex_unlock(&srv->lock);
    return ok;
}

static int mech_offered(struct es_smtpd *srv, const char *mech)
{
    int ok = 0;
    pthread_mutex_lock(&srv->lock);
    if (srv->mechs) {
        const char *p = srv->mechs;
        size_t n = strlen(mech);
        while (*p) {
            size_t len = strcspn(p, " ");
            if (len == n && strncasecmp(p, mech, n) == 0)
                ok = 1;
            p += len;
            while (*p == ' ')
                p++;
        }
    }
    pthread_mutex_unlock(&srv->lock);
    return ok;
}

/* Reads one AUTH continuation line into @out (decoded). Returns 0, 1 when
 * the client cancelled with "*" (already answered), or -1 on a dead
 * connection. */
static int auth_read(struct session *s, struct es_buf *line, struct es_buf *out)
{
    if (read_line(s, line) < 0)
        return -1;
    if (strcmp(line->ptr, "*") == 0)
        return reply(s, "501 5.7.0 authentication cancelled") < 0 ? -1 : 1;
    if (b64_decode(line->ptr, out) < 0)
        return reply(s, "501 5.5.2 bad base64") < 0 ? -1 : 1;
    return 0;
}

static int do_auth(struct session *s, const char *arg, struct es_buf *line)
{
    struct es_buf dec = ES_BUF_INIT, r = ES_BUF_INIT;
    char *user = NULL, *pass = NULL;
    char mech[32];
    const char *ir;
    int rc = 0;

    size_t mlen = strcspn(arg, " ");
    if (mlen == 0 || mlen >= sizeof(mech)) {
        rc = reply(s, "501 5.5.4 syntax: AUTH mechanism");
        goto done;
    }
    memcpy(mech, arg, mlen);
    mech[mlen] = '\0';
    ir = arg[mlen] == ' ' ? arg + mlen + 1 : NULL;
    if (!s->helo_done || s->authed || s->msg.from) {
        rc = reply(s, "503 5.5.1 bad sequence of commands");
        goto done;
    }
    if (!mech_offered(s->srv, mech)) {
        rc = reply(s, "504 5.5.4 mechanism not supported");
        goto done;
    }
    if (strcasecmp(mech, "PLAIN") == 0) {
        if (ir && strcmp(ir, "=") != 0) {
            if (b64_decode(ir, &dec) < 0) {
                rc = reply(s, "501 5.5.2 bad base64");
                goto done;
            }
        } else {
            if (reply(s, "334 ") < 0 || (rc = auth_read(s, line, &dec)) != 0)
                goto done;
        }
        /* authzid NUL authcid NUL passwd */
        const char *p = dec.ptr, *end = dec.ptr + dec.len;
        const char *z1 = memchr(p, '\0', dec.len);
        const char *z2 =
            z1 ? memchr(z1 + 1, '\0', (size_t)(end - z1 - 1)) : NULL;
        if (!z2) {
            rc = reply(s, "501 5.5.2 malformed PLAIN response");
            goto done;
        }
        user = es_xstrndup(z1 + 1, (size_t)(z2 - z1 - 1));
        pass = es_xstrndup(z2 + 1, (size_t)(end - z2 - 1));
    } else if (strcasecmp(mech, "LOGIN") == 0) {
        if (ir) {
            if (b64_decode(ir, &dec) < 0) {
                rc = reply(s, "501 5.5.2 bad base64");
                goto done;
            }
        } else if (reply(s, "334 VXNlcm5hbWU6") < 0 ||
                   (rc = auth_read(s, line, &dec)) != 0) {
            goto done;
        }
        user = es_xstrndup(dec.ptr, dec.len);
        if (reply(s, "334 UGFzc3dvcmQ6") < 0 ||
            (rc = auth_read(s, line, &dec)) != 0)
            goto done;
        pass = es_xstrndup(dec.ptr, dec.len);
    } else {
        rc = reply(s, "504 5.5.4 mechanism not supported");
        goto done;
    }

    if (scripted(s, ES_SMTPD_AUTH, &r)) {
        rc = reply(s, r.ptr);
    } else if (!creds_ok(s->srv, user, pass)) {
        rc = reply(s, "535 5.7.8 authentication credentials invalid");
    } else {
        s->authed = 1;
        free(s->msg.auth_mech);
        free(s->msg.auth_user);
        s->msg.auth_mech = es_xstrdup(mech);
        for (char *c = s->msg.auth_mech; *c; c++)
            if (*c >= 'a' && *c <= 'z')
                *c = (char)(*c - 'a' + 'A');
        s->msg.auth_user = es_xstrdup(user);
        rc = reply(s, "235 2.7.0 authentication successful");
    }
done:
    free(user);
    free(pass);
    es_buf_release(&dec);
    es_buf_release(&r);
    return rc < 0 ? -1 : 0;
}

static int do_mail(struct session *s, const char *arg)
{
    struct es_buf r = ES_BUF_INIT;
    int rc, required;

    pthread_mutex_lock(&s->srv->lock);
    required = s->srv->auth_required;
    pthread_mutex_unlock(&s->srv->lock);
    if (!s->helo_done || s->msg.from)
        rc = reply(s, "503 5.5.1 bad sequence of commands");
    else if (strncasecmp(arg, "FROM:", 5) != 0)
        rc = reply(s, "501 5.5.4 syntax: MAIL FROM:<address>");
    else if (required && !s->authed)
        rc = reply(s, "530 5.7.0 authentication required");
    else if (scripted(s, ES_SMTPD_MAIL, &r))
        rc = reply(s, r.ptr);
    else if (!(s->msg.from = path_arg(arg + 5)))
        rc = reply(s, "501 5.1.7 bad sender address syntax");
    else
        rc = reply(s, "250 2.1.0 sender ok");
    es_buf_release(&r);
    return rc;
}

static int do_rcpt(struct session *s, const char *arg)
{
    struct es_buf r = ES_BUF_INIT;
    char *addr = NULL;
    int rc;

    if (!s->msg.from)
        rc = reply(s, "503 5.5.1 need MAIL before RCPT");
    else if (strncasecmp(arg, "TO:", 3) != 0)
        rc = reply(s, "501 5.5.4 syntax: RCPT TO:<address>");
    else if (scripted(s, ES_SMTPD_RCPT, &r))
        rc = reply(s, r.ptr);
    else if (!(addr = path_arg(arg + 3)) || !*addr)
        rc = reply(s, "501 5.1.3 bad recipient address syntax");
    else {
        s->msg.rcpt =
            es_xrealloc(s->msg.rcpt, (s->msg.nrcpt + 2) * sizeof(char *));
        s->msg.rcpt[s->msg.nrcpt++] = addr;
        s->msg.rcpt[s->msg.nrcpt] = NULL;
        addr = NULL;
        rc = reply(s, "250 2.1.5 recipient ok");
    }
    free(addr);
    es_buf_release(&r);
    return rc;
}

static int do_data(struct session *s, struct es_buf *line)
{
    struct es_buf r = ES_BUF_INIT, data = ES_BUF_INIT;
    int rc = 0, too_big = 0;

    if (!s->msg.from || s->msg.nrcpt == 0) {
        rc = reply(s, s->msg.from ? "554 5.5.1 no valid recipients"
                                  : "503 5.5.1 need MAIL before DATA");
        goto done;
    }
    if (scripted(s, ES_SMTPD_DATA, &r)) {
        rc = reply(s, r.ptr);
        message_reset(&s->msg);
        goto done;
    }
    if ((rc = reply(s, "354 end data with <CR><LF>.<CR><LF>")) < 0)
        goto done;
    for (;;) {
        if ((rc = read_line(s, line)) < 0)
            goto done;
        if (strcmp(line->ptr, ".") == 0)
            break;
        /* RFC 5321 4.5.2: a leading dot was doubled by the client. */
        const char *p = line->ptr[0] == '.' ? line->ptr + 1 : line->ptr;
        size_t n = line->ptr[0] == '.' ? line->len - 1 : line->len;
        if (data.len + n + 2 > MAX_DATA) {
            too_big = 1;
            continue;
        }
        es_buf_add(&data, p, n);
        es_buf_adds(&data, "\r\n");
    }
    if (too_big) {
        rc = reply(s, "552 5.3.4 message too big");
    } else if (scripted(s, ES_SMTPD_END, &r)) {
        rc = reply(s, r.ptr);
    } else {
        struct es_smtpd *srv = s->srv;
        s->msg.len = data.len;
        s->msg.data = es_buf_detach(&data);
        pthread_mutex_lock(&srv->lock);
        srv->msgs =
            es_xrealloc(srv->msgs, (srv->nmsgs + 1) * sizeof(*srv->msgs));
        message_copy(&srv->msgs[srv->nmsgs++], &s->msg);
        pthread_mutex_unlock(&srv->lock);
        rc = reply(s, "250 2.0.0 ok: queued");
    }
    message_reset(&s->msg);
done:
    es_buf_release(&r);
    es_buf_release(&data);
    return rc;
}

/* ==== Connections ==== */

/* Holds one SMTP session until QUIT or the peer leaves (loopsrv.h). */
static void serve_conn(struct es_loopsrv_conn *conn, int fd, void *payload)
{
    struct es_smtpd *srv = payload;
    struct session s = { .srv = srv, .fd = fd };
    struct es_buf line = ES_BUF_INIT, r = ES_BUF_INIT;

    (void)conn; /* never reset: an SMTP client is told, not cut off */
    s.buf = es_xmalloc(MAX_LINE);
    if (scripted(&s, ES_SMTPD_GREETING, &r)) {
        reply(&s, r.ptr);
        goto done;
    }
    if (reply(&s, "220 127.0.0.1 ESMTP earshot test sink") < 0)
        goto done;
    while (read_line(&s, &line) == 0) {
        char verb[16];
        size_t vlen = strcspn(line.ptr, " ");
        const char *argp = line.ptr + vlen;
        int rc;
        if (*argp == ' ')
            argp++;
        if (vlen >= sizeof(verb))
            vlen = sizeof(verb) - 1;
        for (size_t i = 0; i < vlen; i++) {
            char ch = line.ptr[i];
            verb[i] = ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
        }
        verb[vlen] = '\0';
        log_verb(srv, verb);
        if (!strcmp(verb, "EHLO") || !strcmp(verb, "HELO"))
            rc = do_ehlo(&s, verb, argp);
        else if (!strcmp(verb, "AUTH"))
            rc = do_auth(&s, argp, &line);
        else if (!strcmp(verb, "MAIL"))
            rc = do_mail(&s, argp);
        else if (!strcmp(verb, "RCPT"))
            rc = do_rcpt(&s, argp);
        else if (!strcmp(verb, "DATA"))
            rc = do_data(&s, &line);
        else if (!strcmp(verb, "RSET")) {
            message_reset(&s.msg);
            rc = reply(&s, "250 2.0.0 reset");
        } else if (!strcmp(verb, "NOOP"))
            rc = reply(&s, "250 2.0.0 ok");
        else if (!strcmp(verb, "QUIT")) {
            reply(&s, "221 2.0.0 bye");
            break;
        } else
            /* STARTTLS among them: it is never offered. */
            rc = reply(&s, "502 5.5.1 command not implemented");
        if (rc < 0)
            break;
    }
done:
    es_smtpd_message_release(&s.msg);
    es_buf_release(&line);
    es_buf_release(&r);
    free(s.buf);
}

/* ==== Lifetime and accessors ==== */

int es_smtpd_open(struct es_smtpd **out)
{
    struct es_smtpd *srv = es_xcalloc(1, sizeof(*srv));

    *out = NULL;
    es_buf_init(&srv->verbs);
    pthread_mutex_init(&srv->lock, NULL);
    if (es_loopsrv_open(&srv->loop, 0, 64, serve_conn, srv) != 0) {
        fprintf(stderr, "smtpd: cannot listen on 127.0.0.1: %s\n",
                strerror(errno));
        pthread_mutex_destroy(&srv->lock);
        es_buf_release(&srv->verbs);
        free(srv);
        return -1;
    }
    *out = srv;
    return 0;
}

void es_smtpd_free(struct es_smtpd *srv)
{
    if (!srv)
        return;

    /* First every connection thread ends: they use the scripts. */
    es_loopsrv_free(srv->loop);
    es_smtpd_clear(srv);
    free(srv->msgs);
    for (int i = 0; i < ES_SMTPD_NSTAGES; i++)
        free(srv->scripts[i].reply);
    free(srv->mechs);
    free(srv->user);
    free(srv->pass);
    es_buf_release(&srv->verbs);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
}

int es_smtpd_port(const struct es_smtpd *srv)
{
    return es_loopsrv_port(srv->loop);
}

char *es_smtpd_url(const struct es_smtpd *srv)
{
    return es_xasprintf("smtp://127.0.0.1:%d", es_loopsrv_port(srv->loop));
}

void es_smtpd_set_auth(struct es_smtpd *srv, const char *mechs,
                       const char *user, const char *pass, int required)
{
    pthread_mutex_lock(&srv->lock);
    free(srv->mechs);
    free(srv->user);
    free(srv->pass);
    srv->mechs = dup_or_null(mechs);
    srv->user = dup_or_null(user);
    srv->pass = dup_or_null(pass);
    srv->auth_required = required;
    pthread_mutex_unlock(&srv->lock);
}

void es_smtpd_refuse(struct es_smtpd *srv, enum es_smtpd_stage stage,
                     const char *reply_line, int times)
{
    pthread_mutex_lock(&srv->lock);
    free(srv->scripts[stage].reply);
    srv->scripts[stage].reply = dup_or_null(reply_line);
    srv->scripts[stage].times = times;
    pthread_mutex_unlock(&srv->lock);
}

void es_smtpd_delay(struct es_smtpd *srv, enum es_smtpd_stage stage,
                    unsigned ms)
{
    pthread_mutex_lock(&srv->lock);
    srv->scripts[stage].delay_ms = ms;
    pthread_mutex_unlock(&srv->lock);
}

size_t es_smtpd_count(struct es_smtpd *srv)
{
    pthread_mutex_lock(&srv->lock);
    size_t n = srv->nmsgs;
    pthread_mutex_unlock(&srv->lock);
    return n;
}

int es_smtpd_message(struct es_smtpd *srv, long nth,
                     struct es_smtpd_message *out)
{
    int rc = -1;
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&srv->lock);
    long i = nth < 0 ? (long)srv->nmsgs + nth : nth;
    if (i >= 0 && (size_t)i < srv->nmsgs) {
        message_copy(out, &srv->msgs[i]);
        rc = 0;
    }
    pthread_mutex_unlock(&srv->lock);
    return rc;
}

size_t es_smtpd_connections(struct es_smtpd *srv)
{
    return es_loopsrv_accepted(srv->loop);
}

char *es_smtpd_verbs(struct es_smtpd *srv)
{
    pthread_mutex_lock(&srv->lock);
    char *s = es_xstrdup(srv->verbs.ptr);
    pthread_mutex_unlock(&srv->lock);
    return s;
}

void es_smtpd_clear(struct es_smtpd *srv)
{
    pthread_mutex_lock(&srv->lock);
    for (size_t i = 0; i < srv->nmsgs; i++)
        es_smtpd_message_release(&srv->msgs[i]);
    srv->nmsgs = 0;
    es_buf_reset(&srv->verbs);
    pthread_mutex_unlock(&srv->lock);
}
