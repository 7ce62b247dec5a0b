/* sql.c - the small SQLite helpers the inbox's files share
 *
 * See sql.h: prepare-bind-step-finalize for statements that run once per
 * command, and the one wording of a database error.
 */
#include "sql.h"

#include <assert.h>
#include <stdarg.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/item.h"
#include "store.h"

int es_sql_fail(struct es_inbox *ib, const char *what)
{
    return es_error_set(ES_EDB, "inbox: %s: %s", what,
                        sqlite3_errmsg(es_inbox__db(ib)));
}

sqlite3_stmt *es_sql_prepare(struct es_inbox *ib, const char *sql,
                             const char *types, ...)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(es_inbox__db(ib), sql, -1, &stmt, NULL) !=
        SQLITE_OK) {
        es_sql_fail(ib, "cannot prepare a statement");
        sqlite3_finalize(stmt);
        return NULL;
    }
    va_list ap;
    va_start(ap, types);
    for (int i = 1; types && types[i - 1]; i++) {
        switch (types[i - 1]) {
        case 't':
            es_sql_bind_text(stmt, i, va_arg(ap, const char *));
            break;
        case 'i':
            sqlite3_bind_int64(stmt, i, va_arg(ap, int64_t));
            break;
        case 'n': {
            int64_t v = va_arg(ap, int64_t);
            if (v == ES_TIME_UNKNOWN)
                sqlite3_bind_null(stmt, i);
            else
                sqlite3_bind_int64(stmt, i, v);
            break;
        }
        default:
            assert(!"es_sql_prepare: type is not t, i or n");
        }
    }
    va_end(ap);
    return stmt;
}

void es_sql_bind_text(sqlite3_stmt *stmt, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(stmt, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(stmt, i);
}

int es_sql_run(struct es_inbox *ib, sqlite3_stmt *stmt, const char *what)
{
    if (!stmt)
        return ES_EDB;
    int rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : es_sql_fail(ib, what);
    sqlite3_finalize(stmt);
    return rc;
}

char *es_sql_dup_col(sqlite3_stmt *stmt, int i)
{
    const unsigned char *t = sqlite3_column_text(stmt, i);
    return t ? es_xstrdup((const char *)t) : NULL;
}

int64_t es_sql_time_col(sqlite3_stmt *stmt, int i)
{
    return sqlite3_column_type(stmt, i) == SQLITE_NULL
               ? ES_TIME_UNKNOWN
               : sqlite3_column_int64(stmt, i);
}

int es_sql_end(struct es_inbox *ib, int rc)
{
    if (rc == 0)
        return es_inbox_commit(ib);
    es_inbox_rollback(ib);
    return rc;
}
