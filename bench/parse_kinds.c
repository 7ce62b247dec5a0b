/* parse_kinds.c - parse throughput of each platform kind (bench/collectors)
 *
 * For each KIND=FILE argument: reads FILE once, then times the kind's
 * stateless parser (the one `earshot parse KIND` uses) over it, and, as
 * the floor any JSON collector built on yajl has to stand on, yajl's tree
 * parse of the same bytes with nothing done to the tree. Prints one line
 * per kind: posts, best-of-N seconds for each, posts/s, and the ratio.
 *
 *   es-bench-kinds [--runs N] mastodon=/tmp/mastodon.json ...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yajl/yajl_tree.h>

#include "earshot/buf.h"
#include "earshot/error.h"
#include "earshot/source.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int count_item(const struct es_item *item, void *payload)
{
    (void)item;
    (*(size_t *)payload)++;
    return 0;
}

static int slurp(const char *path, struct es_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        es_buf_add(out, tmp, n);
    fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    int runs = 5;
    int first = 1;
    if (argc > 2 && strcmp(argv[1], "--runs") == 0) {
        runs = atoi(argv[2]);
        first = 3;
    }
    if (first >= argc || runs < 1) {
        fprintf(stderr, "usage: es-bench-kinds [--runs N] KIND=FILE...\n");
        return 2;
    }
    printf("%-12s %8s %10s %12s %10s %12s\n", "kind", "posts", "parse s",
           "posts/s", "yajl s", "parse/yajl");
    for (int a = first; a < argc; a++) {
        char *eq = strchr(argv[a], '=');
        if (!eq) {
            fprintf(stderr, "error: '%s' is not KIND=FILE\n", argv[a]);
            return 2;
        }
        *eq = '\0';
        const char *kind = argv[a], *path = eq + 1;
        const struct es_source_ops *ops = es_source_find(kind);
        if (!ops || !ops->parse_any) {
            fprintf(stderr, "error: no parser for kind '%s'\n", kind);
            return 1;
        }
        struct es_buf body = ES_BUF_INIT;
        if (slurp(path, &body) != 0) {
            fprintf(stderr, "error: cannot read '%s'\n", path);
            return 1;
        }
        struct es_parse_opts opts = { .source = "bench" };
        double best = 1e9, best_yajl = 1e9;
        size_t posts = 0;
        for (int r = 0; r < runs; r++) {
            size_t n = 0;
            double t0 = now_s();
            int rc = ops->parse_any(body.ptr, body.len, &opts, count_item, &n);
            double t = now_s() - t0;
            if (rc < 0) {
                fprintf(stderr, "error: %s: %s\n", kind, es_error_last());
                return 1;
            }
            posts = n;
            if (t < best)
                best = t;
            /* jsonl is one document per line: no single tree to build. */
            if (strcmp(kind, "jsonl") != 0) {
                char err[128];
                t0 = now_s();
                yajl_val v = yajl_tree_parse(body.ptr, err, sizeof(err));
                t = now_s() - t0;
                yajl_tree_free(v);
                if (t < best_yajl)
                    best_yajl = t;
            }
        }
        if (best_yajl < 1e9)
            printf("%-12s %8zu %10.4f %12.0f %10.4f %11.2fx\n", kind, posts,
                   best, (double)posts / best, best_yajl, best / best_yajl);
        else
            printf("%-12s %8zu %10.4f %12.0f %10s %12s\n", kind, posts, best,
                   (double)posts / best, "-", "-");
        es_buf_release(&body);
    }
    return 0;
}
