/* cmd_notify.c - `earshot notify test NAME`: check a notification channel
 *
 * A [notify] section is only exercised when an alert fires, which is the
 * worst moment to learn that the webhook URL has a typo or the SMTP
 * server wants STARTTLS. `notify test` sends a made-up alert through one
 * channel, now, and says whether it arrived (es_notify_test); nothing is
 * recorded. The due deliveries themselves go out from `earshot serve`
 * and `earshot send` (es_notify_deliver_due).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "earshot/error.h"
#include "earshot/notify.h"

static const char usage[] =
    "usage: earshot notify test NAME\n"
    "Sends a made-up alert (rule earshot-test, event \"test\") through the\n"
    "[notify \"NAME\"] channel of the config, once, to check its settings:\n"
    "a Slack or webhook URL, the webhook's secret, the SMTP server, its\n"
    "STARTTLS and login, or a command. Nothing is recorded. Exit status 0\n"
    "when the channel accepted the message, 1 when it did not (the reason\n"
    "is printed; secrets never are).\n";

int cmd_notify(int argc, char **argv, struct es_ctx *ctx)
{
    const struct es_opt opts[] = { { NULL, 0, NULL } };
    const char *args[2];
    int nargs;
    int rc = es_cli_parse_opts(argc, argv, opts, args, 2, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    if (nargs >= 1 && strcmp(args[0], "test") != 0)
        fprintf(stderr, "error: unknown subcommand '%.*s'\n", ES_CLIP(args[0]));
    else if (nargs == 1)
        fprintf(stderr, "error: which channel? name a [notify] section\n");
    if (nargs != 2 || strcmp(args[0], "test") != 0) {
        fputs(usage, stderr);
        return ES_EXIT_USAGE;
    }

    struct es_config *cfg = es_ctx_config(ctx);
    if (!cfg)
        return ES_EXIT_FAIL;
    const char *name = args[1];
    const struct es_config_source *sec =
        es_config_section_find(cfg, "notify", name);
    if (es_notify_test(cfg, name, NULL, NULL) < 0)
        return es_cli_fail("%s", es_error_last());
    printf("sent a test alert through '%s' (%s)\n", name,
           sec && sec->type ? sec->type : "?");
    return ES_EXIT_OK;
}
