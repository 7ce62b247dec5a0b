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
#include "earshot/buf.h"

/* Execs earshot-core with @argv. $EARSHOT_CORE, when set, names it;
 * else it is looked for beside this binary (the build tree), in the
 * libexec folder beside it (an install, moved or not), then where this
 * build put it and where it installs it (a binary copied elsewhere, or no
 * /proc to say where this one is). Returns only on failure, after saying
 * why. */
static int run_core(char **argv)
{
    const char *env = getenv("EARSHOT_CORE");
    char *dir = es_cli_exe_dir();
    char *tried[4] = { NULL, NULL, NULL, NULL };
    size_t n = 0;
    int err = ENOENT;

    if (env && *env) {
        tried[n++] = es_xstrdup(env);
    } else {
        if (dir) {
            tried[n++] = es_xasprintf("%s/earshot-core", dir);
            tried[n++] =
                es_xasprintf("%s/%s/earshot-core", dir, ES_EXE_TO_CORE);
        }
        tried[n++] = es_xstrdup(ES_BUILD_COREDIR "/earshot-core");
        tried[n++] = es_xstrdup(ES_INSTALL_COREDIR "/earshot-core");
    }
    size_t shown = n;
    for (size_t k = 0; k < n; k++) {
        execv(tried[k], argv);
        err = errno;
        if (err != ENOENT) { /* it is there but cannot run: say why */
            shown = k + 1;
            break;
        }
    }
    struct es_buf where = ES_BUF_INIT;
    for (size_t k = 0; k < shown; k++) {
        es_buf_adds(&where, k ? ", " : "");
        es_buf_adds(&where, tried[k]);
    }
    for (size_t k = 0; k < n; k++)
        free(tried[k]);
    fprintf(stderr, "error: cannot run earshot-core (%s): %s\n", where.ptr,
            strerror(err));
    es_buf_release(&where);
    free(dir);
    return ES_EXIT_FAIL;
}

int main(int argc, char **argv)
{
    struct es_ctx ctx = { 0 };
    int i = 1;

    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--") == 0) { /* the end of the global options */
            i++;
            break;
        }
        const char **slot = es_cli_global_slot(&ctx, argv[i]);
        const char *eq = strchr(argv[i], '=');
        if (!slot || (!eq && i + 1 >= argc))
            return run_core(argv); /* it explains */
        *slot = eq ? eq + 1 : argv[++i];
    }
    /* A named config brings its [classifier] settings: the core reads
     * configs. Without one, classify needs no file but the lexicon. */
    if (i >= argc || strcmp(argv[i], "classify") != 0 ||
        es_cli_config_given(&ctx))
        return run_core(argv);
    int rc = cmd_classify(argc - i, argv + i, &ctx);
    free(ctx.found_data_dir);
    return rc;
}
