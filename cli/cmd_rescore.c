/* cmd_rescore.c - `earshot rescore`: score every stored mention again
 *
 * Mentions are scored once, as they are stored. After a change to the
 * lexicon, an overlay or the [priority] weights, this brings the stored
 * scores up to date, in short batches, so that a running `earshot serve`
 * is never kept from writing for long.
 */
#include <stdlib.h>

#include "cli.h"
#include "earshot/error.h"
#include "earshot/ingest.h"

static void print_progress(const struct es_rescore_report *r, void *payload)
{
    (void)payload;
    /* Every 20 batches (10,000 mentions at the default size). */
    if (r->nbatches % 20 == 0)
        fprintf(stderr, "rescore: %zu mentions so far\n", r->nscored);
}

int cmd_rescore(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] =
        "usage: earshot rescore [--batch N]\n"
        "Recomputes the sentiment and priority of every stored mention with\n"
        "the current lexicon and overlays ([classifier]) and weights\n"
        "([priority]), after a change to any of them. Works in batches of N\n"
        "mentions (default 500), each written in one short transaction, so a\n"
        "running `earshot serve` waits at most one batch; restart serve too,\n"
        "since it reads those settings only when it starts. Prints how many\n"
        "mentions were rescored and how many changed priority or label.\n";
    const char *batch = NULL;
    const struct es_opt opts[] = {
        { "batch", 1, &batch },
        { NULL, 0, NULL },
    };
    const char *args[1];
    int nargs;
    int rc = es_cli_parse_opts(argc, argv, opts, args, 0, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    int n = 500;
    if (batch && es_cli_parse_count("batch", batch, 100000, &n) < 0)
        return ES_EXIT_USAGE;
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
    struct es_rescore_report r;
    rc = es_ingest_rescore(ib, sc, n, print_progress, NULL, &r);
    es_scorer_free(sc);
    if (rc < 0) {
        es_cli_fail("%s", es_error_last());
        fprintf(stderr, "rescore: %zu mentions were rescored before that\n",
                r.nscored);
        return ES_EXIT_FAIL;
    }
    printf("rescored %zu mentions in %zu batch%s: %zu changed priority or "
           "label, %zu skipped (edited meanwhile)\n",
           r.nscored, r.nbatches, r.nbatches == 1 ? "" : "es", r.nchanged,
           r.nskipped);
    return ES_EXIT_OK;
}
