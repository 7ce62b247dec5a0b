/* front.c - `earshot`: runs `classify` itself, hands the rest to earshot-core
 *
 * earshot-core (cli/main.c) links libcurl, libxml2 and SQLite, and through
 * libcurl some forty shared libraries: TLS, Kerberos, LDAP, SSH, ICU.
 * Mapping and relocating them costs about 7 ms at every start. That is
 * nothing for a poll, but it is a tenth of `earshot classify` scoring
 * 100,000 lines, and classify is the filter scripts run again and again.
 * So the `earshot` on the PATH links only the classifier. Any other
 * command, and --help, --version or a bad global option, it hands to
 * earshot-core with the same arguments through exec, as git runs its
 * git-* programs: same process, same signals, same exit status.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "earshot/alloc.h"

/* Execs earshot-core with @argv: from this binary's folder (the build
 * tree), then from the install's libexec folder. Returns only on failure,
 * after saying why. */
static int run_core(char **argv)
{
    static const char *const rel[] = { ".", ES_EXE_TO_CORE };
    char *dir = es_cli_exe_dir();
    char *tried[2] = { NULL, NULL };
    int err = ENOENT;

    for (size_t k = 0; dir && k < 2; k++) {
        tried[k] = es_xasprintf("%s/%s/earshot-core", dir, rel[k]);
        execv(tried[k], argv);
        err = errno;
        if (err != ENOENT) /* it is there but cannot run: say why */
            break;
    }
    fprintf(stderr, "error: cannot run earshot-core (%s%s%s): %s\n",
            tried[0] ? tried[0] : "the folder of this program is unknown",
            tried[1] ? ", " : "", tried[1] ? tried[1] : "", strerror(err));
    free(tried[0]);
    free(tried[1]);
    free(dir);
    return ES_EXIT_FAIL;
}

int main(int argc, char **argv)
{
    struct es_ctx ctx = { 0 };
    int i = 1;

    for (; i < argc && argv[i][0] == '-'; i++) {
        const char **slot = es_cli_global_slot(&ctx, argv[i]);
        const char *eq = strchr(argv[i], '=');
        if (!slot || (!eq && i + 1 >= argc))
            return run_core(argv); /* it explains */
        *slot = eq ? eq + 1 : argv[++i];
    }
    if (i >= argc || strcmp(argv[i], "classify") != 0)
        return run_core(argv);
    int rc = cmd_classify(argc - i, argv + i, &ctx);
    free(ctx.found_data_dir);
    return rc;
}
