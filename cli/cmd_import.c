/* cmd_import.c - `import`: JSON Lines mentions into the inbox
 *
 * The command around es_ingest_import_fd(): backfills, migrations from
 * other tools, and histories to backtest alert rules on. It scores like
 * `ingest` (the config's [classifier] and [priority]), so a config is
 * needed even when --db names the database. Bad lines are listed on
 * stderr with their numbers (the first BAD_LISTED of them) and skipped;
 * the summary goes to stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "earshot/error.h"
#include "earshot/ingest.h"

/* Bad lines named one by one; the count covers the rest. */
#define BAD_LISTED 100

struct bad_lines {
    const char *name; /* the file, or "<stdin>" */
    size_t listed;
};

static void on_bad(unsigned long lineno, const char *why, void *payload)
{
    struct bad_lines *bl = payload;
    if (bl->listed++ < BAD_LISTED)
        fprintf(stderr, "warning: %s:%lu: %s (line skipped)\n", bl->name,
                lineno, why);
}

int cmd_import(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] =
        "usage: earshot import FILE [--source NAME]\n"
        "Stores the mentions of a JSON Lines file (FILE may be - for stdin),\n"
        "one object per line in the format `earshot parse` prints (id and\n"
        "text required; created_at, platform, author, ... kept), scored and\n"
        "deduplicated like polled mentions, under source NAME (default\n"
        "\"import\", created with type jsonl). Reads as a stream, a few\n"
        "thousand mentions per transaction. A bad line is reported with its\n"
        "number and skipped; the rest is imported. Prints\n"
        "\"NAME: N new, N updated, N unchanged, N bad\". Exit status 1 when\n"
        "the input cannot be read, the store fails, or every line was bad.\n";
    const char *source = NULL;
    const struct es_opt opts[] = {
        { "source", 1, &source },
        { NULL, 0, NULL },
    };
    const char *args[1];
    int nargs;
    int rc = es_cli_parse_opts(argc, argv, opts, args, 1, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    if (nargs != 1)
        return es_cli_usage_error(usage, "missing FILE (- for stdin)");
    if (source && !*source)
        return es_cli_usage_error(usage, "--source needs a name");
    struct es_config *cfg = es_ctx_config(ctx);
    if (!cfg)
        return ES_EXIT_FAIL;
    struct es_scorer *sc;
    if (es_scorer_open(&sc, cfg, es_ctx_data_dir(ctx)) < 0)
        return es_cli_fail("%s", es_error_last());
    struct es_inbox *ib = es_ctx_inbox(ctx);
    if (!ib) {
        es_scorer_free(sc);
        return ES_EXIT_FAIL;
    }
    int is_stdin = strcmp(args[0], "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(args[0], O_RDONLY);
    if (fd < 0) {
        es_scorer_free(sc);
        return es_cli_fail("cannot open '%s': %s", args[0], strerror(errno));
    }
    struct bad_lines bl = { is_stdin ? "<stdin>" : args[0], 0 };
    struct es_import_opts io = {
        .source = source,
        .bad = on_bad,
        .payload = &bl,
    };
    struct es_import_report rep;
    rc = es_ingest_import_fd(ib, sc, fd, &io, &rep);
    if (!is_stdin)
        close(fd);
    es_scorer_free(sc);
    if (bl.listed > BAD_LISTED)
        fprintf(stderr, "warning: %s: %zu more bad lines not listed\n", bl.name,
                bl.listed - BAD_LISTED);
    if (rc < 0) {
        if (rep.nbatches)
            fprintf(stderr,
                    "note: %zu new, %zu updated mentions were stored before "
                    "the failure\n",
                    rep.nnew, rep.nupdated);
        return es_cli_fail("'%s': %s", bl.name, es_error_last());
    }
    printf("%s: %zu new, %zu updated, %zu unchanged, %zu bad\n",
           source ? source : "import", rep.nnew, rep.nupdated, rep.nunchanged,
           rep.nbad);
    if (rep.nbad && rep.nnew + rep.nupdated + rep.nunchanged == 0)
        return es_cli_fail("'%s': no line is a mention in the `earshot parse` "
                           "format",
                           bl.name);
    return ES_EXIT_OK;
}
