/* error.c - per-thread error messages
 *
 * The message is kept in a _Thread_local buffer so that poller threads and
 * the writer never overwrite each other's explanation.
 */
#include "earshot/error.h"

#include <stdarg.h>
#include <stdio.h>

#include "earshot/buf.h"

static _Thread_local char last_msg[1024];

int es_error_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_msg, sizeof(last_msg), fmt, ap);
    va_end(ap);
    /* Messages quote inputs and are cut to the buffer: they go to logs,
     * JSON and the database as valid UTF-8 all the same. */
    es_utf8_scrub(last_msg);
    return code;
}

const char *es_error_last(void)
{
    return last_msg;
}

void es_error_clear(void)
{
    last_msg[0] = '\0';
}

const char *es_error_name(int code)
{
    switch (code) {
    case ES_OK:
        return "ok";
    case ES_ENOTFOUND:
        return "not found";
    case ES_EEXISTS:
        return "already exists";
    case ES_EINVALID:
        return "invalid";
    case ES_EUNCHANGED:
        return "unchanged";
    case ES_ERATELIMIT:
        return "rate limited";
    case ES_EAUTH:
        return "authentication failed";
    case ES_ENETWORK:
        return "network error";
    case ES_EPARSE:
        return "parse error";
    case ES_EDB:
        return "database error";
    case ES_ETOOBIG:
        return "too big";
    default:
        return "error";
    }
}
