/* runcli.c - run the earshot binary as a user would, for tests
 *
 * fork, redirect, execv: the child's output goes to files named after a
 * per-process counter, so runs that overlap (two agents replying at once)
 * keep theirs apart. The files are removed once read.
 */
#include "runcli.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* cmocka needs stdarg, stddef and setjmp first. */
#include <cmocka.h>

#include "earshot/alloc.h"

#define MAX_ARGS 48

/* Reads the file at @path into @b (initialised here); a missing file
 * leaves it empty. */
static void slurp(const char *path, struct es_buf *b)
{
    FILE *f = fopen(path, "rb");
    char chunk[4096];
    size_t n;
    es_buf_init(b);
    if (!f)
        return;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        es_buf_add(b, chunk, n);
    fclose(f);
}

void es_run_startv(struct es_run *r, const struct es_run_opts *opts,
                   const char *stdin_path, va_list ap)
{
    static int nrun;
    const char *argv[MAX_ARGS + 2];
    int argc = 0;
    const char *a;

    assert_non_null(opts->bin);
    assert_non_null(opts->tmpdir);
    argv[argc++] = opts->bin;
    if (opts->config) {
        argv[argc++] = "--config";
        argv[argc++] = opts->config;
    }
    if (opts->db) {
        argv[argc++] = "--db";
        argv[argc++] = opts->db;
    }
    while ((a = va_arg(ap, const char *)) != NULL) {
        if (argc > MAX_ARGS)
            fail_msg("es_run: more than %d arguments", MAX_ARGS);
        argv[argc++] = a;
    }
    argv[argc] = NULL;

    es_buf_init(&r->out);
    es_buf_init(&r->err);
    r->status = -1;
    r->outp = es_xasprintf("%s/out-%d", opts->tmpdir, ++nrun);
    r->errp = es_xasprintf("%s/err-%d", opts->tmpdir, nrun);
    /* Nothing buffered in the test may be written twice by the child. */
    fflush(NULL);
    r->pid = fork();
    assert_true(r->pid >= 0);
    if (r->pid == 0) {
        if (!freopen(stdin_path ? stdin_path : "/dev/null", "r", stdin) ||
            !freopen(r->outp, "w", stdout) || !freopen(r->errp, "w", stderr))
            _exit(127);
        setenv("HOME", opts->tmpdir, 1);
        for (const char *const *e = opts->env; e && e[0] && e[1]; e += 2)
            setenv(e[0], e[1], 1);
        unsetenv("EARSHOT_DB");
        unsetenv("EARSHOT_CONFIG");
        execv(argv[0], (char *const *)(uintptr_t)argv);
        _exit(127);
    }
}

void es_run_start(struct es_run *r, const struct es_run_opts *opts,
                  const char *stdin_path, ...)
{
    va_list ap;
    va_start(ap, stdin_path);
    es_run_startv(r, opts, stdin_path, ap);
    va_end(ap);
}

void es_run_wait(struct es_run *r)
{
    int st;
    assert_int_equal(waitpid(r->pid, &st, 0), r->pid);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    es_buf_release(&r->out);
    es_buf_release(&r->err);
    slurp(r->outp, &r->out);
    slurp(r->errp, &r->err);
    unlink(r->outp);
    unlink(r->errp);
}

void es_run_earshotv(struct es_run *r, const struct es_run_opts *opts,
                     const char *stdin_path, va_list ap)
{
    es_run_startv(r, opts, stdin_path, ap);
    es_run_wait(r);
}

void es_run_earshot(struct es_run *r, const struct es_run_opts *opts,
                    const char *stdin_path, ...)
{
    va_list ap;
    va_start(ap, stdin_path);
    es_run_earshotv(r, opts, stdin_path, ap);
    va_end(ap);
}

void es_run_release(struct es_run *r)
{
    es_buf_release(&r->out);
    es_buf_release(&r->err);
    free(r->outp);
    free(r->errp);
    r->outp = r->errp = NULL;
}
