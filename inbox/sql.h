/* sql.h - the small SQLite helpers the inbox's files share (module-private)
 *
 * workflow.c, triage.c, triage_admin.c, tickets.c, outbox.c and metrics.c
 * run at the pace of people typing commands, so each call prepares its
 * statement, runs it and finalizes it: nothing to keep in step with
 * store.c's prepared set. These are the few helpers that pattern needs,
 * in one place so that every file words a database error the same way.
 */
#ifndef EARSHOT_INBOX_SQL_H
#define EARSHOT_INBOX_SQL_H

#include <stdint.h>

#include <sqlite3.h>

#include "earshot/inbox.h"

/* Sets an ES_EDB error "inbox: WHAT: <sqlite message>" and returns it. */
int es_sql_fail(struct es_inbox *ib, const char *what);

/* Prepares @sql and binds one argument per character of @types to the
 * parameters ?1, ?2, ...: 't' a const char * (NULL binds NULL), 'i' an
 * int64_t, 'n' an int64_t where ES_TIME_UNKNOWN binds NULL. @types may be
 * NULL or "" (bind nothing now, or bind later). Returns the statement,
 * which the caller finalizes, or NULL with an ES_EDB error set. */
sqlite3_stmt *es_sql_prepare(struct es_inbox *ib, const char *sql,
                             const char *types, ...);

/* Binds @s to parameter @i, or NULL when @s is NULL (SQLITE_TRANSIENT). */
void es_sql_bind_text(sqlite3_stmt *stmt, int i, const char *s);

/* Steps a statement that returns no rows and finalizes it; returns 0 or
 * ES_EDB naming @what. A NULL @stmt (a failed es_sql_prepare()) is
 * ES_EDB with the prepare's message left in place, so
 * `es_sql_run(ib, es_sql_prepare(...), "cannot ...")` is one call.
 * sqlite3_changes() still tells what it changed afterwards. */
int es_sql_run(struct es_inbox *ib, sqlite3_stmt *stmt, const char *what);

/* Column @i as a new string (the caller frees it), or NULL for SQL NULL. */
char *es_sql_dup_col(sqlite3_stmt *stmt, int i);

/* Column @i as a time, ES_TIME_UNKNOWN for SQL NULL. */
int64_t es_sql_time_col(sqlite3_stmt *stmt, int i);

/* Ends the transaction of a change (es_inbox_begin()): commits when @rc is
 * 0 and returns the commit's result, else rolls back and returns @rc. */
int es_sql_end(struct es_inbox *ib, int rc);

#endif
