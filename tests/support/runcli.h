/* runcli.h - run the earshot binary as a user would, for tests
 *
 * The command-line tests spawn the real program and check its exit
 * status and output, because scripts rely on both. Each run gets a clean
 * environment: HOME is the test's temporary folder, EARSHOT_DB and
 * EARSHOT_CONFIG are unset (a developer's own settings must not leak in),
 * stdin comes from a file or /dev/null, and stdout and stderr are captured
 * through files in the temporary folder, so a chatty command cannot fill a
 * pipe and hang the test. Failures to fork fail the test (cmocka).
 */
#ifndef EARSHOT_RUNCLI_H
#define EARSHOT_RUNCLI_H

#include <stdarg.h>
#include <sys/types.h>

#include "earshot/buf.h"

/* How a test runs the program: usually one static instance per test file.
 * Every pointer is borrowed for the call that starts a run. */
struct es_run_opts {
    const char *bin;        /* the program: ES_EARSHOT_BIN */
    const char *tmpdir;     /* the child's HOME; its output files go here */
    const char *config;     /* non-NULL: "--config CONFIG" comes first */
    const char *db;         /* non-NULL: then "--db DB" */
    const char *const *env; /* NULL, or NAME, VALUE, ..., NULL: set too */
};

/* One run. es_run_wait() fills status, out and err; es_run_release()
 * frees them. */
struct es_run {
    int status;        /* exit status, or 128 + the signal that killed it */
    struct es_buf out; /* what it wrote on stdout */
    struct es_buf err; /* what it wrote on stderr */
    pid_t pid;         /* the child, from es_run_start() to es_run_wait() */
    char *outp, *errp; /* private: the files that catch its output */
};

/* Starts the program with the arguments of @opts, then the NULL-terminated
 * @... (at most 48 in all); stdin comes from @stdin_path (NULL:
 * /dev/null). Returns at once: several runs may go at the same time. Each
 * run must be finished with es_run_wait(), then es_run_release(). */
void es_run_start(struct es_run *r, const struct es_run_opts *opts,
                  const char *stdin_path, ...);
void es_run_startv(struct es_run *r, const struct es_run_opts *opts,
                   const char *stdin_path, va_list ap);

/* Waits for the run to end and reads what it printed into r->out and
 * r->err (NUL-terminated, possibly empty). */
void es_run_wait(struct es_run *r);

/* es_run_start() then es_run_wait(). */
void es_run_earshot(struct es_run *r, const struct es_run_opts *opts,
                    const char *stdin_path, ...);
void es_run_earshotv(struct es_run *r, const struct es_run_opts *opts,
                     const char *stdin_path, va_list ap);

/* Frees what a finished run holds; the struct may then be reused. */
void es_run_release(struct es_run *r);

#endif
