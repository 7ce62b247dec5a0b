/* smtp.h - one email through libcurl's SMTP client (module-private)
 *
 * The email channel of notify.c. es_smtp_compose() writes an RFC 5322
 * message (Date, From, To, Subject, Message-ID, MIME-Version, a
 * quoted-printable UTF-8 text body); es_smtp_send() hands it to libcurl,
 * which speaks SMTP, STARTTLS and AUTH and dot-stuffs the data. This is
 * the one place outside collectors/http.c that calls curl_easy_*: the
 * collectors' client speaks HTTP only.
 */
#ifndef EARSHOT_ALERTS_SMTP_H
#define EARSHOT_ALERTS_SMTP_H

#include <stddef.h>
#include <stdint.h>

#include "earshot/buf.h"

/* One email. Every string is borrowed for the duration of the call. */
struct es_smtp_mail {
    const char *name;       /* the [notify] name, for messages */
    const char *url;        /* smtp://HOST[:PORT] or smtps://HOST[:PORT] */
    int starttls;           /* smtp://: 1 requires STARTTLS, 0 sends plain */
    const char *username;   /* NULL or "": no AUTH */
    const char *password;   /* never in a message */
    const char *from;       /* "a@b" or "Name <a@b>" */
    const char *to;         /* comma-separated, each like @from */
    const char *subject;    /* UTF-8; RFC 2047-encoded when not ASCII */
    const char *body;       /* UTF-8 text, LF or CRLF line ends */
    const char *message_id; /* the part before '@' of Message-ID */
    const char *headers;    /* extra header lines, each ending in "\r\n" */
    int64_t date;           /* the Date: header, Unix seconds */
    long timeout_ms;        /* the whole exchange; <= 0: 30 s */
};

/* Splits the address list @list ("a@b, Name <c@d>, \"Doe, J\" <e@f>")
 * into bare addresses ("a@b", "c@d", "e@f"): *out is a NULL-terminated
 * array the caller frees with es_smtp_addresses_free(), *n its length.
 * Returns 0, or ES_EINVALID naming the bad entry for an empty list or an
 * entry that is not an address. */
int es_smtp_addresses(const char *list, char ***out, size_t *n);
void es_smtp_addresses_free(char **addrs);

/* Writes the whole message for @m into @out (CRLF line ends, headers
 * free of control characters). Returns 0, or ES_EINVALID for a bad from
 * or to. */
int es_smtp_compose(const struct es_smtp_mail *m, struct es_buf *out);

/* Sends @m: the envelope from `from` and `to`, the data from
 * es_smtp_compose(). Returns 0 once the server accepted the message (250
 * after the data). On failure: ES_EINVALID (bad URL or address),
 * ES_EAUTH (login refused), ES_ENETWORK (connect, timeout, no STARTTLS,
 * a refusal), with a message that names the channel, the server (no
 * userinfo) and its reply, never the password. *permanent (may be NULL)
 * is set to 1 when the server refused for good (a 55x reply), else 0.
 * Thread-safe (one easy handle per call, no signals); curl_global_init()
 * must have been called. */
int es_smtp_send(const struct es_smtp_mail *m, int *permanent);

/* Appends @len bytes of @s to @out as quoted-printable (RFC 2045), with
 * lines of at most 76 characters; @s should have CRLF line ends, which
 * are kept as hard line breaks. */
void es_smtp_qp_encode(const char *s, size_t len, struct es_buf *out);

#endif
