/* smtpd.h - a minimal, scriptable SMTP server on 127.0.0.1 for tests
 *
 * The email channel of the notifier is tested against a real socket
 * without touching the internet: a test opens a sink on a free loopback
 * port, points smtp_url at es_smtpd_url(), and afterwards asserts on the
 * envelope, the AUTH user and the message the client sent. It speaks
 * EHLO/HELO, AUTH PLAIN and LOGIN, MAIL FROM, RCPT TO, DATA (undoing the
 * client's dot-stuffing), RSET, NOOP and QUIT. It never offers STARTTLS
 * (there is no TLS here), so a client that insists on it must fail. Each
 * stage can be scripted to refuse (451, 550, 535 ...) or to answer late.
 */
#ifndef EARSHOT_SMTPD_H
#define EARSHOT_SMTPD_H

#include <stddef.h>

/* Where a scripted answer applies. */
enum es_smtpd_stage {
    ES_SMTPD_GREETING, /* the 220 banner on connect */
    ES_SMTPD_EHLO,     /* EHLO or HELO */
    ES_SMTPD_AUTH,     /* the final answer to AUTH (235 when accepted) */
    ES_SMTPD_MAIL,     /* MAIL FROM */
    ES_SMTPD_RCPT,     /* RCPT TO */
    ES_SMTPD_DATA,     /* the 354 to DATA */
    ES_SMTPD_END,      /* the answer after the final "." */
    ES_SMTPD_NSTAGES,
};

/* One message the sink accepted (a 250 after the final "."). */
struct es_smtpd_message {
    char *helo;      /* the EHLO/HELO argument */
    char *auth_mech; /* "PLAIN", "LOGIN", or NULL when no AUTH */
    char *auth_user; /* the user that authenticated, or NULL */
    char *from;      /* MAIL FROM address, without the <> */
    char **rcpt;     /* RCPT TO addresses, without the <> */
    size_t nrcpt;
    char *data; /* the message, dot-stuffing undone, CRLF lines, NUL-ended,
                   without the final ".\r\n" */
    size_t len;
};

struct es_smtpd;

/* Listens on 127.0.0.1 (a free port) and starts serving. Returns 0, or -1
 * with a message on stderr. The caller frees the sink with
 * es_smtpd_free(), which stops it and closes every connection. */
int es_smtpd_open(struct es_smtpd **out);
void es_smtpd_free(struct es_smtpd *srv);

int es_smtpd_port(const struct es_smtpd *srv);
/* Returns "smtp://127.0.0.1:PORT"; the caller frees it. */
char *es_smtpd_url(const struct es_smtpd *srv);

/* Offers AUTH with @mechs ("PLAIN LOGIN", "PLAIN", ...; NULL: no AUTH in
 * EHLO) and accepts only @user / @pass (NULL: any). With @required, MAIL
 * before a successful AUTH gets 530. Thread-safe. */
void es_smtpd_set_auth(struct es_smtpd *srv, const char *mechs,
                       const char *user, const char *pass, int required);

/* The next @times answers at @stage are @reply (a full line without the
 * CRLF, such as "451 4.3.0 try again later"); @times < 0: every one. A
 * refused stage ends the transaction the way a real server's would: the
 * client may RSET and try again. Thread-safe. */
void es_smtpd_refuse(struct es_smtpd *srv, enum es_smtpd_stage stage,
                     const char *reply, int times);
/* Every answer at @stage comes @ms late (0: at once). Thread-safe. */
void es_smtpd_delay(struct es_smtpd *srv, enum es_smtpd_stage stage,
                    unsigned ms);

/* Messages accepted so far. */
size_t es_smtpd_count(struct es_smtpd *srv);
/* Copies the @nth accepted message (from 0; negative counts from the
 * end) into @out. Returns 0, or -1 when there is no such message. The
 * caller frees it with es_smtpd_message_release(). */
int es_smtpd_message(struct es_smtpd *srv, long nth,
                     struct es_smtpd_message *out);
void es_smtpd_message_release(struct es_smtpd_message *msg);
/* Connections accepted so far, and commands seen (every verb, upper-case,
 * one per line: "EHLO\nAUTH\nMAIL\n..."; AUTH data is never logged). The
 * caller frees the transcript. */
size_t es_smtpd_connections(struct es_smtpd *srv);
char *es_smtpd_verbs(struct es_smtpd *srv);
/* Forgets the accepted messages and the transcript. */
void es_smtpd_clear(struct es_smtpd *srv);

#endif
