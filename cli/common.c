/* common.c - what both of earshot's executables share
 *
 * `earshot` (cli/front.c) runs `classify` itself and hands every other
 * command to `earshot-core` (cli/main.c); both parse the global options,
 * find the data dir and parse command options the same way, here. This
 * file may use only the common and classifier modules: the front links
 * nothing else.
 */
#define _XOPEN_SOURCE 700 /* realpath() */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "earshot/alloc.h"
#include "earshot/error.h"

int es_cli_fail(const char *fmt, ...)
{
    va_list ap;
    fputs("error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return ES_EXIT_FAIL;
}

int es_cli_fail_args(int rc)
{
    es_cli_fail("%s", es_error_last());
    return rc == ES_EINVALID ? ES_EXIT_USAGE : ES_EXIT_FAIL;
}

int es_cli_clip(const char *s, int max)
{
    int n = 0;
    while (n < max && s[n])
        n++;
    /* Cut before a character that would not fit whole: back up over its
     * continuation bytes to its lead byte. */
    if (n == max && s[n] && ((unsigned char)s[n] & 0xC0) == 0x80)
        while (n > 0 && ((unsigned char)s[--n] & 0xC0) == 0x80)
            ;
    return n;
}

void es_cli_add_snippet(struct es_buf *out, const char *s, size_t max)
{
    size_t chars = 0;
    for (const char *p = s ? s : ""; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c & 0xC0) != 0x80 && chars++ == max) {
            es_buf_adds(out, "\xE2\x80\xA6");
            return;
        }
        es_buf_addch(out, c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
    }
}

void es_cli_add_column(struct es_buf *out, const char *s, size_t width)
{
    size_t chars = 0;
    for (const char *p = s ? s : ""; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c & 0xC0) != 0x80 && chars++ == width)
            return;
        es_buf_addch(out, c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
    }
    for (; chars < width; chars++)
        es_buf_addch(out, ' ');
}

/* After an error: the command's synopsis (its usage lines) and where the
 * rest is, rather than the whole help, so that the one-line error stays
 * in sight. */
static void usage_hint(const char *usage_text)
{
    const char *p = usage_text;
    char cmd[64] = "";
    if (strncmp(p, "usage: ", 7) == 0)
        sscanf(p + 7, "%*s %63s", cmd);
    while (*p && (strncmp(p, "usage:", 6) == 0 || *p == ' ')) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
        fwrite(p, 1, n, stderr);
        p += n;
    }
    if (cmd[0] && *p)
        fprintf(stderr, "('earshot %s --help' says more)\n", cmd);
    else if (*p)
        fputs(p, stderr);
}

static int is_global_option(const char *name, size_t n)
{
    static const char *const globals[] = { "config", "db", "data-dir", "as" };
    for (size_t i = 0; i < sizeof(globals) / sizeof(globals[0]); i++)
        if (strlen(globals[i]) == n && strncmp(name, globals[i], n) == 0)
            return 1;
    return 0;
}

int es_cli_usage_error(const char *usage, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("error: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    usage_hint(usage);
    return ES_EXIT_USAGE;
}

void es_cli_write(const char *s, size_t len)
{
    size_t from = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        size_t n = 0;
        if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
            n = 1;
        else if (c == 0xC2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
                 (unsigned char)s[i + 1] <= 0x9F)
            n = 2;
        if (!n)
            continue;
        fwrite(s + from, 1, i - from, stdout);
        fputs("\xEF\xBF\xBD", stdout);
        i += n - 1;
        from = i + 1;
    }
    fwrite(s + from, 1, len - from, stdout);
}

const char *es_cli_fmt_time(int64_t t, char out[static 21], const char *none)
{
    return t == ES_TIME_UNKNOWN ? none : es_time_format(t, out);
}

int es_cli_list_end(struct es_buf *b, int json, int rc)
{
    if (json) {
        es_buf_adds(b, b->len > 1 ? "\n]\n" : "]\n");
        if (rc == 0)
            fwrite(b->ptr, 1, b->len, stdout);
    }
    es_buf_release(b);
    return rc < 0 ? es_cli_fail("%s", es_error_last()) : ES_EXIT_OK;
}

int es_cli_parse_count(const char *name, const char *value, int max, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || end == value || *end || v < 1 || v > max) {
        fprintf(stderr,
                "error: --%s takes a whole number from 1 to %d, not '%.*s'\n",
                name, max, ES_CLIP(value));
        return -1;
    }
    *out = (int)v;
    return 0;
}

int es_cli_parse_id(const char *s, int64_t *out)
{
    char *end;
    if (!s)
        return -1;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 1)
        return -1;
    *out = v;
    return 0;
}

int es_cli_parse_opts(int argc, char **argv, const struct es_opt *opts,
                      const char **args, int maxargs, int *nargs,
                      const char *usage_text)
{
    int only_args = 0;
    unsigned char seen[64] = { 0 };
    *nargs = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_args || a[0] != '-' || a[1] == '\0') {
            if (*nargs >= maxargs) {
                fprintf(stderr, "error: unexpected argument '%.*s'\n",
                        ES_CLIP(a));
                usage_hint(usage_text);
                return ES_EXIT_USAGE;
            }
            args[(*nargs)++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_args = 1;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            return -1;
        }
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "error: unknown option '%.*s'\n", ES_CLIP(a));
            usage_hint(usage_text);
            return ES_EXIT_USAGE;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const struct es_opt *o = NULL;
        size_t k = 0;
        for (; opts && opts[k].name; k++) {
            if (strlen(opts[k].name) == nlen &&
                strncmp(opts[k].name, name, nlen) == 0) {
                o = &opts[k];
                break;
            }
        }
        if (!o && is_global_option(name, nlen)) {
            fprintf(stderr,
                    "error: '--%.*s' goes before the command: earshot "
                    "--%.*s VALUE COMMAND ...\n",
                    (int)nlen, name, (int)nlen, name);
            return ES_EXIT_USAGE;
        }
        if (!o) {
            fprintf(stderr, "error: unknown option '--%.*s'\n",
                    es_cli_clip(name, nlen < 200 ? (int)nlen : 200), name);
            usage_hint(usage_text);
            return ES_EXIT_USAGE;
        }
        /* The same option twice is a mistake, not "the last one wins":
         * "--state new --state open" reads as either, and lists only one. */
        if (o->takes_value && k < sizeof(seen) && seen[k]++) {
            fprintf(stderr, "error: option '--%s' given twice\n", o->name);
            usage_hint(usage_text);
            return ES_EXIT_USAGE;
        }
        if (o->takes_value) {
            if (eq) {
                *o->value = eq + 1;
            } else if (i + 1 < argc &&
                       !(argv[i + 1][0] == '-' && argv[i + 1][1] == '-' &&
                         argv[i + 1][2])) {
                *o->value = argv[++i];
            } else {
                /* "--svg --help" is a forgotten value, not a file named
                 * "--help"; "--svg=--x" still gives one. */
                fprintf(stderr, "error: option '--%s' needs a value\n",
                        o->name);
                usage_hint(usage_text);
                return ES_EXIT_USAGE;
            }
        } else {
            if (eq) {
                fprintf(stderr, "error: option '--%s' takes no value\n",
                        o->name);
                usage_hint(usage_text);
                return ES_EXIT_USAGE;
            }
            *o->value = "1";
        }
    }
    return 0;
}

/* ==== Finding the data dir ==== */

static int is_dir(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int has_config(const char *dir)
{
    if (!is_dir(dir))
        return 0;
    char *p = es_xasprintf("%s/earshot.conf", dir);
    int ok = access(p, R_OK) == 0;
    free(p);
    return ok;
}

/* The folder the running binary is in, or NULL. */
char *es_cli_exe_dir(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return NULL;
    *slash = '\0';
    return es_xstrdup(exe);
}

/* The data dir of an installed binary, found from where it runs (so a
 * relocated install still finds its data): ES_EXE_TO_DATADIR is the path
 * from the binary's install dir to the data dir, "../share/earshot" for
 * bin/earshot. */
static char *prefix_data_dir(void)
{
    char *dir = es_cli_exe_dir();
    if (!dir)
        return NULL;
    char *p = es_xasprintf("%s/%s", dir, ES_EXE_TO_DATADIR);
    char *real = realpath(p, NULL); /* "data dir:" reads better without ".." */
    free(dir);
    if (real) {
        free(p);
        return real;
    }
    return p;
}

const char *es_ctx_data_dir(struct es_ctx *ctx)
{
    if (ctx->found_data_dir)
        return ctx->found_data_dir;
    if (ctx->data_dir) {
        ctx->found_data_dir = es_xstrdup(ctx->data_dir);
        return ctx->found_data_dir;
    }
    if (ctx->cfg_data_dir && *ctx->cfg_data_dir) {
        ctx->found_data_dir = es_xstrdup(ctx->cfg_data_dir);
        return ctx->found_data_dir;
    }
    const char *env = getenv("EARSHOT_DATA_DIR");
    if (env && *env && is_dir(env)) {
        ctx->found_data_dir = es_xstrdup(env);
        return ctx->found_data_dir;
    }
    char *pfx = prefix_data_dir();
    if (has_config(pfx)) {
        ctx->found_data_dir = pfx;
        return pfx;
    }
    free(pfx);
    if (has_config(ES_INSTALL_DATADIR))
        ctx->found_data_dir = es_xstrdup(ES_INSTALL_DATADIR);
    else if (has_config(ES_SOURCE_DATADIR))
        ctx->found_data_dir = es_xstrdup(ES_SOURCE_DATADIR);
    return ctx->found_data_dir;
}

int es_cli_config_given(const struct es_ctx *ctx)
{
    const char *env = getenv("EARSHOT_CONFIG");
    return (ctx->config_path && *ctx->config_path) || (env && *env);
}

/* ==== Global options ==== */

const char **es_cli_global_slot(struct es_ctx *ctx, const char *a)
{
    static const struct {
        const char *name;
        size_t len;
        size_t off;
    } globals[] = {
        { "--config", 8, offsetof(struct es_ctx, config_path) },
        { "--db", 4, offsetof(struct es_ctx, db_path) },
        { "--data-dir", 10, offsetof(struct es_ctx, data_dir) },
        { "--as", 4, offsetof(struct es_ctx, as_agent) },
    };
    for (size_t k = 0; k < sizeof(globals) / sizeof(globals[0]); k++)
        if (strncmp(a, globals[k].name, globals[k].len) == 0 &&
            (a[globals[k].len] == '\0' || a[globals[k].len] == '='))
            return (const char **)((char *)ctx + globals[k].off);
    return NULL;
}
