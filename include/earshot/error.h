/* error.h - error codes and the per-thread last-error message
 *
 * Every function that can fail returns int: 0 on success, a negative
 * enum es_error_code on failure. The place that finds the problem sets a
 * message with es_error_set(); callers pass the code up unchanged and read
 * the text with es_error_last().
 */
#ifndef EARSHOT_ERROR_H
#define EARSHOT_ERROR_H

enum es_error_code {
    ES_OK = 0,
    ES_ERROR = -1,      /* anything not named below */
    ES_ENOTFOUND = -2,  /* no such object */
    ES_EEXISTS = -3,    /* already there */
    ES_EINVALID = -4,   /* bad argument, bad config, bad input */
    ES_EUNCHANGED = -5, /* HTTP 304: nothing new */
    ES_ERATELIMIT = -6, /* 429 / 503 with Retry-After */
    ES_EAUTH = -7,      /* credentials refused */
    ES_ENETWORK = -8,   /* DNS, connect, timeout, reset, HTTP error */
    ES_EPARSE = -9,     /* malformed document */
    ES_EDB = -10,       /* SQLite failure */
    ES_ETOOBIG = -11,   /* body or document over its size cap */
};

/* Records a printf-style message for this thread and returns @code, so
 * that `return es_error_set(ES_EPARSE, "feed '%s': ...", url);` works.
 * Thread-safe: the buffer is _Thread_local. */
int es_error_set(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Returns a borrowed pointer to this thread's last message, valid until the
 * next es_error_set() on this thread. Never NULL ("" when none). */
const char *es_error_last(void);

/* Clears this thread's message. */
void es_error_clear(void);

/* Returns a static name for @code ("not found", "parse error", ...). */
const char *es_error_name(int code);

#endif
