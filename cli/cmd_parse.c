/* cmd_parse.c - `parse` and `ingest`: documents from files, not sources
 *
 * `parse` shows exactly what a collector would extract from a payload,
 * touching no database, so a user can check a feed before adding it and
 * other tools can reuse our parsers. `ingest` stores the same entries, for
 * backfills of feed dumps. Both stream: a document of any size is read in
 * chunks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "earshot/error.h"
#include "earshot/feed.h"
#include "earshot/ingest.h"
#include "earshot/source.h"

struct parse_out {
    struct es_buf buf;
    int meta_done;
    size_t count; /* entries printed */
};

static int print_meta(const char *title, const char *link, void *payload)
{
    struct parse_out *po = payload;
    struct es_buf *b = &po->buf;
    es_buf_reset(b);
    es_buf_adds(b, "{\"feed\":{");
    es_json_key_str(b, "title", title);
    es_buf_addch(b, ',');
    es_json_key_str(b, "link", link);
    es_buf_adds(b, "}}\n");
    fwrite(b->ptr, 1, b->len, stdout);
    po->meta_done = 1;
    return 0;
}

static int print_entry(const struct es_item *item, void *payload)
{
    struct parse_out *po = payload;
    struct es_buf *b = &po->buf;
    es_buf_reset(b);
    es_json_item(b, item);
    es_buf_addch(b, '\n');
    fwrite(b->ptr, 1, b->len, stdout);
    po->count++;
    return 0;
}

/* Opens FILE for reading, "-" meaning stdin. Returns the fd or -1. */
static int open_input(const char *file)
{
    if (strcmp(file, "-") == 0)
        return STDIN_FILENO;
    int fd = open(file, O_RDONLY);
    if (fd < 0)
        es_cli_fail("cannot open '%s': %s", file, strerror(errno));
    return fd;
}

static const char *const feed_kinds[] = { "rss", "atom", "rdf", NULL };

static int is_feed_kind(const char *kind)
{
    for (size_t i = 0; feed_kinds[i]; i++)
        if (strcmp(kind, feed_kinds[i]) == 0)
            return 1;
    return 0;
}

/* Writes the kinds `parse` knows, comma-separated, into @b. */
static void list_kinds(struct es_buf *b)
{
    const struct es_source_ops *const *kinds = es_source_kinds();
    for (size_t i = 0; kinds[i]; i++) {
        if (i)
            es_buf_adds(b, ", ");
        es_buf_adds(b, kinds[i]->name);
    }
}

/* Reads all of @fd into @b, refusing more than @max bytes. */
static int read_all(int fd, struct es_buf *b, size_t max)
{
    for (;;) {
        es_buf_grow(b, 65536);
        ssize_t n = read(fd, b->ptr + b->len, 65536);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return es_error_set(ES_ERROR, "read failed: %s", strerror(errno));
        if (n == 0)
            break;
        b->len += (size_t)n;
        b->ptr[b->len] = '\0';
        if (b->len > max)
            return es_error_set(ES_ETOOBIG, "input is over the %zu-byte limit",
                                max);
    }
    return 0;
}

/* One response body of a platform kind, parsed whole. */
static int parse_platform(const struct es_source_ops *ops, const char *file,
                          const char *base_url)
{
    struct parse_out po = { ES_BUF_INIT, 1, 0 };
    struct es_buf in = ES_BUF_INIT;
    struct es_parse_opts opts = { .source = file, .base_url = base_url };
    int rc = 0;
    int fd = open_input(file);
    if (fd < 0)
        return ES_EXIT_FAIL;
    /* API responses are small; the cap stops a runaway file early. */
    if (read_all(fd, &in, (size_t)256 << 20) < 0) {
        rc = es_cli_fail("'%s': %s", file, es_error_last());
        goto done;
    }
    es_error_clear();
    int prc =
        ops->parse_any(in.ptr ? in.ptr : "", in.len, &opts, print_entry, &po);
    size_t count = po.count;
    if (prc < 0) {
        if (count == 0)
            rc = es_cli_fail("'%s': %s", file, es_error_last());
        else
            fprintf(stderr, "warning: '%s': %s (%zu items recovered)\n", file,
                    es_error_last(), count);
    }
done:
    fflush(stdout);
    es_buf_release(&po.buf);
    es_buf_release(&in);
    if (fd != STDIN_FILENO)
        close(fd);
    return rc;
}

int cmd_parse(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] =
        "usage: earshot parse KIND FILE [--base-url URL]\n"
        "Parses a document (FILE may be - for stdin) without touching any\n"
        "database and prints JSON Lines, one object per mention in document\n"
        "order. KIND rss reads RSS 0.9x/2.0, RSS 1.0, Atom and JSON Feed\n"
        "alike and prints {\"feed\":{...}} first. Every other KIND (mastodon,\n"
        "bluesky, reddit, hackernews, x, youtube, github, appstore,\n"
        "googleplay, jsonl) reads the body of any endpoint its collector\n"
        "calls and detects which one it is.\n"
        "--base-url resolves relative links as if the document had been\n"
        "fetched from URL. Exit 1 when nothing could be parsed.\n";
    const char *base_url = NULL;
    const struct es_opt opts[] = { { "base-url", 1, &base_url },
                                   { NULL, 0, NULL } };
    const char *args[2];
    int nargs;
    (void)ctx;
    int rc = es_cli_parse_opts(argc, argv, opts, args, 2, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    if (nargs != 2)
        return es_cli_usage_error(usage, nargs ? "missing FILE (- for stdin)"
                                               : "missing KIND and FILE");
    if (!is_feed_kind(args[0])) {
        const struct es_source_ops *ops = es_source_find(args[0]);
        if (!ops || !ops->parse_any) {
            struct es_buf known = ES_BUF_INIT;
            list_kinds(&known);
            fprintf(stderr, "error: unknown kind '%.*s' (known: %s)\n",
                    ES_CLIP(args[0]), known.ptr);
            es_buf_release(&known);
            return ES_EXIT_USAGE;
        }
        return parse_platform(ops, args[1], base_url);
    }
    int fd = open_input(args[1]);
    if (fd < 0)
        return ES_EXIT_FAIL;

    struct parse_out po = { ES_BUF_INIT, 0, 0 };
    struct es_feed_opts fo = {
        .source = args[1],
        .base_url = base_url,
        .max_size = (size_t)1 << 40, /* a local file: the user chose it */
        .meta = print_meta,
    };
    struct es_feed_parser *p = es_feed_parser_new(&fo, print_entry, &po);
    rc = 0;
    if (es_feed_parser_push_fd(p, fd) != 0) {
        rc = es_cli_fail("'%s': %s", args[1], es_error_last());
        goto done;
    }
    if (es_feed_parser_finish(p) < 0) {
        size_t count = es_feed_parser_count(p);
        const char *why = es_feed_parser_error(p);
        if (!why)
            why = es_error_last();
        if (count == 0) {
            rc = es_cli_fail("'%s': nothing could be parsed: %s", args[1], why);
        } else {
            fprintf(stderr, "warning: '%s': %s (%zu entries recovered)\n",
                    args[1], why, count);
        }
    }
done:
    fflush(stdout);
    es_feed_parser_free(p);
    es_buf_release(&po.buf);
    if (fd != STDIN_FILENO)
        close(fd);
    return rc;
}

int cmd_ingest(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] =
        "usage: earshot ingest KIND FILE --source NAME [--base-url URL]\n"
        "Parses a local document (FILE may be -) as a stream and stores its\n"
        "entries as source NAME in one transaction, with the same dedupe and\n"
        "the same scoring (sentiment and priority, from the config's\n"
        "[classifier] and [priority]) as polling: for backfills and feed\n"
        "dumps. KIND: rss.\n";
    const char *base_url = NULL, *source = NULL;
    const struct es_opt opts[] = {
        { "base-url", 1, &base_url },
        { "source", 1, &source },
        { NULL, 0, NULL },
    };
    const char *args[2];
    int nargs;
    int rc = es_cli_parse_opts(argc, argv, opts, args, 2, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    if (nargs != 2)
        return es_cli_usage_error(usage, nargs ? "missing FILE (- for stdin)"
                                               : "missing KIND and FILE");
    if (!source || !*source)
        return es_cli_usage_error(
            usage, "missing --source NAME (the source the entries belong to)");
    if (!is_feed_kind(args[0])) {
        fprintf(stderr, "error: unknown kind '%.*s' (known: rss)\n",
                ES_CLIP(args[0]));
        return ES_EXIT_USAGE;
    }
    /* Scoring reads [classifier] and [priority]: a config is needed even
     * when --db names the database. */
    struct es_config *cfg = es_ctx_config(ctx);
    if (!cfg)
        return ES_EXIT_FAIL;
    struct es_scorer *sc;
    if (es_scorer_open(&sc, cfg, es_ctx_data_dir(ctx)) < 0)
        return es_cli_fail("%s", es_error_last());
    struct es_inbox *ib = es_ctx_inbox(ctx);
    int fd = ib ? open_input(args[1]) : -1;
    if (fd < 0) {
        es_scorer_free(sc);
        return ES_EXIT_FAIL;
    }
    struct es_ingest_report rep;
    rc = es_ingest_feed_fd(ib, sc, fd, source, base_url, &rep);
    if (fd != STDIN_FILENO)
        close(fd);
    es_scorer_free(sc);
    if (rc < 0)
        return es_cli_fail("'%s': %s", args[1], es_error_last());
    if (rep.error)
        fprintf(stderr, "warning: '%s': %s\n", args[1], rep.error);
    printf("%s: %zu new, %zu updated, %zu unchanged\n", source, rep.nnew,
           rep.nupdated, rep.nunchanged);
    return ES_EXIT_OK;
}
