/* triage_int.h - what the triage files of inbox/ share (module-private)
 *
 * triage.c (states, assignment, notes, tags, threads, views) and
 * triage_admin.c (agents and canned replies) run at the pace of people
 * typing commands, so each call prepares its statement, runs it and
 * finalizes it, as workflow.c does; these are the few helpers for that.
 */
#ifndef EARSHOT_INBOX_TRIAGE_INT_H
#define EARSHOT_INBOX_TRIAGE_INT_H

#include <stdint.h>

#include <sqlite3.h>

#include "earshot/inbox.h"

/* Sets an ES_EDB error "inbox: WHAT: <sqlite message>" and returns it. */
int es_triage__db_fail(struct es_inbox *ib, const char *what);

/* Prepares @sql and binds one argument per character of @types to the
 * parameters ?1, ?2, ...: 't' a const char * (NULL binds NULL), 'i' an
 * int64_t. Returns NULL (error set) on failure; the caller finalizes the
 * statement. */
sqlite3_stmt *es_triage__prepare(struct es_inbox *ib, const char *sql,
                                 const char *types, ...);

/* Steps a statement that returns no rows and finalizes it; returns 0 or
 * ES_EDB naming @what. A NULL @stmt (a failed prepare) is ES_EDB. */
int es_triage__run(struct es_inbox *ib, sqlite3_stmt *stmt, const char *what);

/* Whether @name is a usable name for a canned reply or a tag: 1 to 64
 * bytes, no control characters, no spaces, and no byte of @also. */
int es_triage__valid_name(const char *name, const char *also);

/* Ends the transaction of a change: commits when @rc is 0 (returning the
 * commit's result), else rolls back and returns @rc. */
int es_triage__end(struct es_inbox *ib, int rc);

#endif
