/* store.h - what the inbox's own files share (module-private)
 *
 * store.c owns struct es_inbox and every statement that reads or writes
 * mentions; schema.c owns the migrations that create and upgrade the
 * tables. The two meet here. Tests include this header to reach the raw
 * connection (to set state by hand, or to build an old-version database).
 */
#ifndef EARSHOT_INBOX_STORE_H
#define EARSHOT_INBOX_STORE_H

#include <sqlite3.h>

#include "earshot/inbox.h"

/* Applies the migrations after PRAGMA user_version up to and including
 * version @upto (ES_INBOX__LATEST for all), each in its own transaction.
 * @path names the database in messages. Returns 0; ES_EDB with
 * "cannot open inbox 'PATH': ..." when a step fails (that step is rolled
 * back, earlier steps stay) or when the file's version is newer than this
 * program knows. */
int es_inbox__migrate(sqlite3 *db, const char *path, int upto);

/* The newest schema version this program knows. */
extern const int es_inbox__latest;
#define ES_INBOX__LATEST es_inbox__latest

/* Reads PRAGMA user_version into *out; ES_EDB with @path on failure. */
int es_inbox__user_version(sqlite3 *db, const char *path, int *out);

/* Reads the schema version into *out and refuses (ES_EDB, naming @path) a
 * version newer than this program knows, before anything is changed. */
int es_inbox__check_version(sqlite3 *db, const char *path, int *out);

/* Returns a borrowed pointer to the connection of @ib, valid until
 * es_inbox_free(). For tests and for the other files of inbox/ only. */
sqlite3 *es_inbox__db(struct es_inbox *ib);

#endif
