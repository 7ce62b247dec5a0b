/* schedule.c - when to poll a source next
 *
 * A healthy source is polled every `interval` seconds. A failing one backs
 * off exponentially so that a dead feed costs little and a flapping server
 * is not hammered, and a server's Retry-After is always honoured. Jitter
 * keeps sources configured with the same interval from firing in lockstep
 * forever. Pure arithmetic: the caller supplies the clock and the random
 * number, so it is tested without sleeping.
 */
#include <stdint.h>

#include "earshot/source.h"

#define BACKOFF_FIRST_MAX 60         /* first retry at most this soon, s */
#define BACKOFF_CAP       (6 * 3600) /* longest wait for a short interval */

int64_t es_schedule_next(int64_t now, int interval, int failures,
                         int64_t retry_after, double rnd)
{
    double delay;

    if (interval < 1)
        interval = 1;
    if (!(rnd >= 0.0)) /* also catches NaN */
        rnd = 0.0;
    if (rnd > 1.0)
        rnd = 1.0;

    if (failures <= 0) {
        delay = interval;
    } else {
        double first =
            interval < BACKOFF_FIRST_MAX ? interval : BACKOFF_FIRST_MAX;
        double cap = interval > BACKOFF_CAP ? interval : BACKOFF_CAP;
        delay = first;
        /* Doubling stops at the cap, so a huge failure count cannot
         * overflow. */
        for (int i = 1; i < failures && delay < cap; i++)
            delay *= 2;
        if (delay > cap)
            delay = cap;
    }

    delay *= 1.0 + (rnd - 0.5) * 0.2; /* +-10% */
    int64_t next = now + (int64_t)(delay + 0.5);
    if (next <= now)
        next = now + 1;
    if (retry_after >= 0 && next < now + retry_after)
        next = now + retry_after;
    return next;
}
