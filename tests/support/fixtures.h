/* fixtures.h - inboxes, mentions, temporary folders and signatures for tests
 *
 * The set-up that several test binaries had each written for themselves:
 * an inbox in memory, a mention stored with chosen times and scores, a
 * tag on it, a temporary folder holding a config and a database for
 * running the program (runcli.h), and an HMAC-SHA256 signature computed
 * independently of the code under test. Every helper fails the running
 * cmocka test when it cannot do its job, so the tests stay free of
 * set-up error handling.
 */
#ifndef EARSHOT_FIXTURES_H
#define EARSHOT_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

#include "runcli.h"

struct es_inbox;

/* ==== Inboxes and mentions ==== */

/* Opens an inbox in memory. The caller frees it with es_inbox_free(). */
struct es_inbox *es_fx_inbox(void);

/* One mention to store; every pointer is borrowed for the call. */
struct es_fx_mention {
    const char *source; /* its source, created as type rss when new */
    int64_t created_at; /* ES_TIME_UNKNOWN: unknown */
    char label;         /* 'n'egative, 'z'ero (neutral), 'p'ositive, or
                           'u'nscored: no scores at all */
    double sentiment;   /* the compound score */
    int priority;       /* 0..100 */
    const char *text;   /* NULL: "a mention" */
    const char *author; /* NULL: none; likewise below */
    const char *platform;
    const char *lang;
    const char *url;
};

/* Stores @m under a fresh external id ("m-1", "m-2", ... in the order of
 * the calls) with reasons "[]". Returns the mention's id. */
int64_t es_fx_put_mention(struct es_inbox *ib, const struct es_fx_mention *m);

/* Tags mention @id with @tag directly in the table (no agent, no audit
 * row). */
void es_fx_add_tag(struct es_inbox *ib, int64_t id, const char *tag);

/* ==== Temporary folders ==== */

/* Removes @dir and everything under it (rm -rf); errors are ignored. */
void es_fx_rmtree(const char *dir);

/* Writes the printf-style @fmt to the file @path, replacing it. */
void es_fx_write_file(const char *path, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A temporary folder for running the program on a database of its own. */
struct es_fx_cli {
    char tmpdir[64];        /* /tmp/es-TAG-XXXXXX, made by mkdtemp() */
    char *conf;             /* TMPDIR/test.conf (written by the test) */
    char *db;               /* TMPDIR/DB_NAME (created by the test) */
    struct es_run_opts run; /* runs @bin with --config CONF --db DB */
};

/* Makes the folder /tmp/es-@tag-XXXXXX and fills @fx so that es_run_*()
 * with &fx->run runs @bin (ES_EARSHOT_BIN) there with --config CONF and
 * --db DB. Neither file exists yet. Undo with es_fx_cli_close(). */
void es_fx_cli_open(struct es_fx_cli *fx, const char *bin, const char *tag,
                    const char *db_name);
/* Removes the folder with all it holds and frees the paths. */
void es_fx_cli_close(struct es_fx_cli *fx);
/* es_fx_cli_close() as a cmocka teardown, for a setup that set *@state
 * to its struct es_fx_cli. */
int es_fx_cli_teardown(void **state);

/* ==== Signatures ==== */

/* Writes "sha256=HEX", the HMAC-SHA256 of @len bytes at @buf under @key,
 * to @out. It goes through EVP_MAC, a different libcrypto path from the
 * HMAC() the webhooks use, so that the two check each other. */
void es_fx_hmac_sha256(const char *key, const char *buf, size_t len,
                       char out[72]);

#endif
