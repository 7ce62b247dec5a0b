/* parse_bench.c - items per second of the streaming feed parser alone
 *
 * bench/ingest compares three costs of the same document: the raw libxml2
 * floor (xmllint --stream), our parser alone (this program) and the whole
 * ingest into SQLite. This program isolates the parser: the file is read
 * into memory first, then pushed through es_feed_parser_push() in 256 KiB
 * chunks, the way `earshot ingest` feeds it, with an emit callback that
 * only counts. Each entry is fully normalised (text, dates, links), so the
 * figure is what the store gets, minus the store.
 *
 *   es-bench-parse [--repeat N] FILE
 *
 * prints one line per run and a last line "best: ITEMS items in S s =
 * RATE items/s (MB/s, cpu C s)" that bench/ingest reads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "earshot/error.h"
#include "earshot/feed.h"

enum { CHUNK = 256 * 1024 };

struct counter {
    size_t items;
    size_t bytes; /* of text, so the compiler cannot drop the work */
};

static int count_item(const struct es_item *item, void *payload)
{
    struct counter *c = payload;
    c->items++;
    if (item->text)
        c->bytes += strlen(item->text);
    return 0;
}

/* Seconds on @clock: CLOCK_MONOTONIC for wall time, CLOCK_PROCESS_CPUTIME_ID
 * for CPU time, which a busy machine disturbs less. */
static double now_s(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads @path whole. Returns 0 and sets *out (caller frees) and *len. */
static int slurp(const char *path, char **out, size_t *len)
{
    int rc = -1;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "error: cannot open '%s': %s\n", path, strerror(errno));
        return -1;
    }
    for (;;) {
        if (cap - n < CHUNK) {
            cap = cap ? cap * 2 : 4 * CHUNK;
            char *nb = realloc(buf, cap);
            if (!nb) {
                fprintf(stderr, "error: '%s': out of memory\n", path);
                goto done;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        fprintf(stderr, "error: cannot read '%s': %s\n", path, strerror(errno));
        goto done;
    }
    *out = buf;
    *len = n;
    buf = NULL;
    rc = 0;
done:
    free(buf);
    fclose(f);
    return rc;
}

/* One pass over the document. Returns 0 (a recovered, malformed document
 * is reported but still counts) or -1. */
static int run_once(const char *path, const char *buf, size_t len,
                    struct counter *c, double *secs, double *cpu)
{
    struct es_feed_opts opts = {
        .source = "bench",
        .max_size = (size_t)1 << 40, /* a local file, as in `ingest` */
    };
    int rc = 0;
    memset(c, 0, sizeof(*c));
    double t0 = now_s(CLOCK_MONOTONIC);
    double c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    struct es_feed_parser *p = es_feed_parser_new(&opts, count_item, c);
    for (size_t off = 0; off < len; off += CHUNK) {
        size_t n = len - off < CHUNK ? len - off : CHUNK;
        rc = es_feed_parser_push(p, buf + off, n);
        if (rc != 0) {
            fprintf(stderr, "error: '%s': %s\n", path, es_error_last());
            rc = -1;
            goto done;
        }
    }
    if (es_feed_parser_finish(p) < 0) {
        const char *why = es_feed_parser_error(p);
        fprintf(stderr, "warning: '%s': %s\n", path,
                why ? why : es_error_last());
    }
done:
    es_feed_parser_free(p);
    *secs = now_s(CLOCK_MONOTONIC) - t0;
    *cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    return rc;
}

int main(int argc, char **argv)
{
    int repeat = 3;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
            repeat = atoi(argv[++i]);
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: es-bench-parse [--repeat N] FILE\n");
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (!path || repeat < 1) {
        fprintf(stderr, "usage: es-bench-parse [--repeat N] FILE\n");
        return 2;
    }
    char *buf = NULL;
    size_t len = 0;
    if (slurp(path, &buf, &len) < 0)
        return 1;

    double best = -1, best_cpu = 0;
    struct counter c;
    for (int r = 0; r < repeat; r++) {
        double secs, cpu;
        if (run_once(path, buf, len, &c, &secs, &cpu) < 0) {
            free(buf);
            return 1;
        }
        printf("run %d: %zu items in %.3f s = %.0f items/s (cpu %.3f s)\n",
               r + 1, c.items, secs, (double)c.items / secs, cpu);
        if (best < 0 || secs < best) {
            best = secs;
            best_cpu = cpu;
        }
    }
    printf("best: %zu items in %.3f s = %.0f items/s (%.1f MB/s, cpu %.3f s)\n",
           c.items, best, (double)c.items / best, (double)len / 1e6 / best,
           best_cpu);
    free(buf);
    return c.items ? 0 : 1;
}
