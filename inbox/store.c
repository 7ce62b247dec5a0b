/* store.c - SQLite persistence for the unified inbox
 *
 * Everything the rest of earshot stores or reads about mentions and
 * sources goes through here, and this is the only file (with schema.c)
 * that speaks SQL. Each statement is a named constant with ? placeholders,
 * prepared once when the inbox opens and cached in struct es_inbox; values
 * are always bound, never pasted into SQL text.
 *
 * Storing is the hot path: a poll batch of thousands of items runs through
 * es_inbox_put in one transaction. A new mention and a repeat are told
 * apart by the UNIQUE(source_id, external_id) constraint of a plain insert
 * rather than a look-up first; only a repeat is read back, to see whether
 * it was edited. The full-text row is written here directly rather than by
 * a trigger.
 */
#include "store.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "earshot/alloc.h"
#include "earshot/buf.h"
#include "earshot/error.h"

/* ==== Statements ==== */

/* One writer; readers elsewhere may briefly hold the lock. */
#define BUSY_TIMEOUT_MS 5000

/* Run on every open. WAL lets readers (the web page, `earshot inbox`) work
 * while a poll writes; NORMAL sync under WAL survives a crashed process and
 * on power loss can lose only the last commits, never consistency.
 * ":memory:" answers "memory" to the journal_mode request, which is fine.
 * A large batch grows the WAL file; the size limit trims it back after a
 * checkpoint. */
static const char OPEN_PRAGMAS[] = "PRAGMA journal_mode = WAL;"
                                   "PRAGMA synchronous = NORMAL;"
                                   "PRAGMA foreign_keys = ON;"
                                   "PRAGMA journal_size_limit = 67108864;";

/* Stores a new mention with its scores; a repeat (same source and
 * external id) is left alone here and es_inbox_put reads it back with
 * FIND_STORED to decide whether it was edited. The scores go in this same
 * statement: a separate UPDATE per row would cost the hot path a second
 * b-tree search and index update per row.
 *
 * There is deliberately no RETURNING clause. A RETURNING statement runs
 * inside a statement savepoint, and FTS5 (SQLite 3.40) flushes its pending
 * terms to a new on-disk segment at every savepoint: with RETURNING here a
 * batch became one tiny segment per mention plus the merges after them,
 * about 7,500 mentions/s instead of 25,000. (The same holds for anything
 * else that opens a savepoint mid-batch, triggers included.) es_inbox_put
 * reads the outcome from sqlite3_changes() and the last insert rowid. */
static const char PUT[] =
    "INSERT INTO mentions (source_id, platform, external_id, url, author,"
    " author_name, author_followers, title, text, summary, content,"
    " categories, created_at, updated_at, fetched_at, kind, in_reply_to,"
    " thread_root, rating, lang, reply_ref, first_seen, last_changed,"
    " sentiment, sentiment_pos, sentiment_neu, sentiment_neg, label,"
    " low_confidence, priority, priority_reasons, conversation)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
    " ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?22, ?23, ?24, ?25, ?26, ?27,"
    " ?28, ?29, ?30, ?32)"
    " ON CONFLICT (source_id, external_id) DO NOTHING";

/* An edited repeat (its text or title changed), mention ?31, with PUT's
 * parameters: the content columns and the new scores (computed from the
 * new text) replace the stored ones and it is marked edited. Metadata a
 * platform stopped sending is kept rather than erased (COALESCE). The
 * inbox's own columns (state, assignee) are never touched here. */
static const char EDIT[] =
    "UPDATE mentions SET"
    " platform = COALESCE(?2, platform), url = COALESCE(?4, url),"
    " author = COALESCE(?5, author),"
    " author_name = COALESCE(?6, author_name),"
    " author_followers = COALESCE(?7, author_followers),"
    " title = ?8, text = ?9, summary = ?10, content = ?11,"
    " categories = ?12,"
    " created_at = COALESCE(?13, created_at),"
    " updated_at = COALESCE(?14, updated_at),"
    " fetched_at = COALESCE(?15, fetched_at),"
    " kind = ?16,"
    " in_reply_to = COALESCE(?17, in_reply_to),"
    " thread_root = COALESCE(?18, thread_root),"
    " rating = COALESCE(?19, rating),"
    " lang = COALESCE(?20, lang),"
    " reply_ref = COALESCE(?21, reply_ref),"
    " sentiment = ?23, sentiment_pos = ?24, sentiment_neu = ?25,"
    " sentiment_neg = ?26, label = ?27, low_confidence = ?28,"
    " priority = ?29, priority_reasons = ?30,"
    " edited = 1, last_changed = ?22"
    " WHERE id = ?31";

/* Parameter numbers of PUT. */
enum put_param {
    P_SOURCE_ID = 1,
    P_PLATFORM,
    P_EXTERNAL_ID,
    P_URL,
    P_AUTHOR,
    P_AUTHOR_NAME,
    P_AUTHOR_FOLLOWERS,
    P_TITLE,
    P_TEXT,
    P_SUMMARY,
    P_CONTENT,
    P_CATEGORIES,
    P_CREATED_AT,
    P_UPDATED_AT,
    P_FETCHED_AT,
    P_KIND,
    P_IN_REPLY_TO,
    P_THREAD_ROOT,
    P_RATING,
    P_LANG,
    P_REPLY_REF,
    P_NOW,
    P_SENTIMENT,
    P_POS,
    P_NEU,
    P_NEG,
    P_LABEL,
    P_LOW_CONFIDENCE,
    P_PRIORITY,
    P_REASONS,
    P_ID,           /* EDIT only */
    P_CONVERSATION, /* PUT only */
};

/* Conversations (schema version 5). A platform post's conversation is
 * its parent's when the parent is stored, else the thread root the
 * platform names, else the post it replies to, else itself; reviews group
 * per author per source (per app). Children stored before their parent
 * point at the parent's id: once the parent arrives they move to its
 * conversation. Feeds have none. The partial index on external_id covers
 * exactly the WHERE below. */
static const char PARENT_CONV[] =
    "SELECT conversation FROM mentions WHERE external_id = ?1"
    " AND platform = ?2 AND platform IS NOT NULL AND platform <> 'rss'"
    " LIMIT 1";
static const char CONV_USED[] =
    "SELECT 1 FROM mentions WHERE conversation = ?1 LIMIT 1";
static const char CONV_MOVE[] =
    "UPDATE mentions SET conversation = ?1 WHERE conversation = ?2";
/* A ticket opened on the children alone follows them, unless the
 * conversation they join has its own. */
static const char CONV_MOVE_TICKET[] =
    "UPDATE tickets SET conversation = ?1 WHERE conversation = ?2"
    " AND NOT EXISTS (SELECT 1 FROM tickets WHERE conversation = ?1)";
/* A customer writing again into a conversation an agent resolved: it is
 * open again for the metrics (the new mention itself arrives as 'new'). */
static const char CONV_RESOLVED[] =
    "SELECT 1 FROM conversations WHERE key = ?1 AND resolved_at IS NOT NULL";
static const char CONV_REOPEN[] =
    "UPDATE conversations SET resolved_at = NULL WHERE key = ?1";
/* A reply earshot sent, seen again by a poller: ours, not a mention. */
static const char OWN_REPLY[] =
    "SELECT 1 FROM replies WHERE platform_id = ?1 LIMIT 1";

static const char FTS_INSERT[] =
    "INSERT INTO mentions_fts (rowid, text, title, author)"
    " VALUES (?1, ?2, ?3, ?4)";

/* The index rows of the mentions a batch stored, added in one statement
 * when it commits rather than one per mention: FTS5's term buffer and the
 * B-tree pages of each insert no longer take turns in the cache, which
 * measured 5-10% less CPU for a poll of 1,000 feeds (the instructions
 * saved are under 1%). A new mention always gets a rowid above every
 * stored one, and only PUT inserts mentions, so the batch's new rows are
 * those from its first. */
static const char FTS_INSERT_FROM[] =
    "INSERT INTO mentions_fts (rowid, text, title, author)"
    " SELECT id, text, title, author FROM mentions WHERE id >= ?1";

/* mentions_fts takes its content from mentions (schema.c, version 4), so
 * an index row is removed by naming the values it was indexed with. */
static const char FTS_DELETE[] =
    "INSERT INTO mentions_fts (mentions_fts, rowid, text, title, author)"
    " VALUES ('delete', ?1, ?2, ?3, ?4)";

/* A stored mention as es_inbox_put needs it, in the order of enum
 * stored_col. */
static const char FIND_STORED[] = "SELECT id, title, text, author FROM mentions"
                                  " WHERE source_id = ?1 AND external_id = ?2";

enum stored_col { F_ID = 0, F_TITLE, F_TEXT, F_AUTHOR };

static const char COUNT[] = "SELECT count(*) FROM mentions";

static const char LAST_ID[] = "SELECT coalesce(max(id), 0) FROM mentions";

static const char BEGIN[] = "BEGIN IMMEDIATE";
static const char BEGIN_READ[] = "BEGIN DEFERRED";
static const char COMMIT[] = "COMMIT";
static const char ROLLBACK[] = "ROLLBACK";

/* Registers a source, or changes the kind of a known one (keeping its id
 * and mentions); SOURCE_ID then reads the id either way. */
static const char SOURCE_ENSURE[] =
    "INSERT INTO sources (name, type) VALUES (?1, ?2)"
    " ON CONFLICT (name) DO UPDATE SET type = excluded.type"
    " WHERE type IS NOT excluded.type";

static const char SOURCE_ID[] = "SELECT id FROM sources WHERE name = ?1";

#define HEALTH_COLUMNS                                                         \
    "SELECT name, type, last_attempt, last_success, next_poll, failures,"      \
    " last_error, etag, last_modified, cursor"

/* The poll path reads one source's health per batch: counting its
 * mentions there would walk its whole index range every pass, so only
 * the listing (`earshot sources`) counts. */
static const char HEALTH_GET[] = HEALTH_COLUMNS ", -1 FROM sources"
                                                " WHERE name = ?1";
static const char HEALTH_EACH[] =
    HEALTH_COLUMNS ", (SELECT count(*) FROM mentions"
                   " WHERE source_id = sources.id) FROM sources ORDER BY name";

static const char HEALTH_PUT[] =
    "UPDATE sources SET last_attempt = ?2, last_success = ?3,"
    " next_poll = ?4, failures = ?5, last_error = ?6, etag = ?7,"
    " last_modified = ?8, cursor = ?9"
    " WHERE name = ?1";

/* Columns of a mention, in the order of enum mention_col. */
#define MENTION_COLUMNS                                                        \
    "SELECT m.id, s.name, m.platform, m.external_id, m.url, m.author,"         \
    " m.author_name, m.author_followers, m.title, m.text, m.summary,"          \
    " m.content, m.categories, m.created_at, m.updated_at, m.fetched_at,"      \
    " m.kind, m.in_reply_to, m.thread_root, m.rating, m.lang, m.reply_ref,"    \
    " m.state, m.assignee, m.sentiment, m.priority, m.edited, m.first_seen,"   \
    " m.sentiment_pos, m.sentiment_neu, m.sentiment_neg, m.label,"             \
    " m.low_confidence, m.priority_reasons"

enum mention_col {
    C_ID = 0,
    C_SOURCE,
    C_PLATFORM,
    C_EXTERNAL_ID,
    C_URL,
    C_AUTHOR,
    C_AUTHOR_NAME,
    C_AUTHOR_FOLLOWERS,
    C_TITLE,
    C_TEXT,
    C_SUMMARY,
    C_CONTENT,
    C_CATEGORIES,
    C_CREATED_AT,
    C_UPDATED_AT,
    C_FETCHED_AT,
    C_KIND,
    C_IN_REPLY_TO,
    C_THREAD_ROOT,
    C_RATING,
    C_LANG,
    C_REPLY_REF,
    C_STATE,
    C_ASSIGNEE,
    C_SENTIMENT,
    C_PRIORITY,
    C_EDITED,
    C_FIRST_SEEN,
    C_POS,
    C_NEU,
    C_NEG,
    C_LABEL,
    C_LOW_CONFIDENCE,
    C_REASONS,
};

/* Same filters for both lists (NULL: any): ?1 state, ?2 source name,
 * ?5 label, ?6 platform, ?7 language (any case; "en" matches "en-GB"
 * too), ?8 tag, ?9 assignee ('' for unassigned); ?3 limit; the search
 * list adds ?4, the FTS5 query. The order matches the mentions_order
 * index (schema.c): the filters are checked along it, and a tag is one
 * primary-key probe of mention_tags per row. */
#define LIST_FILTER                                                            \
    " (?1 IS NULL OR m.state = ?1)"                                            \
    " AND (?2 IS NULL OR s.name = ?2)"                                         \
    " AND (?5 IS NULL OR m.label = ?5)"                                        \
    " AND (?6 IS NULL OR m.platform = ?6)"                                     \
    " AND (?7 IS NULL OR m.lang = ?7 COLLATE NOCASE"                           \
    " OR substr(m.lang, 1, length(?7) + 1) = (?7 || '-') COLLATE NOCASE)"      \
    " AND (?8 IS NULL OR EXISTS (SELECT 1 FROM mention_tags t"                 \
    " WHERE t.mention_id = m.id AND t.tag = ?8))"                              \
    " AND (?9 IS NULL OR (?9 = '' AND m.assignee IS NULL)"                     \
    " OR m.assignee = ?9)"
#define LIST_ORDER                                                             \
    " ORDER BY m.priority DESC NULLS LAST,"                                    \
    " COALESCE(m.created_at, m.first_seen) DESC, m.id DESC"                    \
    " LIMIT ?3"

static const char LIST[] =
    MENTION_COLUMNS " FROM mentions m JOIN sources s ON s.id = m.source_id"
                    " WHERE" LIST_FILTER LIST_ORDER;

static const char LIST_SEARCH[] = MENTION_COLUMNS
    " FROM mentions_fts JOIN mentions m ON m.id = mentions_fts.rowid"
    " JOIN sources s ON s.id = m.source_id"
    " WHERE mentions_fts MATCH ?4 AND" LIST_FILTER LIST_ORDER;

static const char GET[] =
    MENTION_COLUMNS " FROM mentions m JOIN sources s ON s.id = m.source_id"
                    " WHERE m.id = ?1";

/* A cursor over every mention by id, for work in batches (rescoring). */
static const char SCAN[] =
    MENTION_COLUMNS " FROM mentions m JOIN sources s ON s.id = m.source_id"
                    " WHERE m.id > ?1 ORDER BY m.id LIMIT ?2";

/* New scores for a mention whose title and text are still ?11 and ?12
 * (those the scores were computed from). An item without a language of
 * its own takes the classifier's. */
static const char SET_SCORES[] =
    "UPDATE mentions SET sentiment = ?2, sentiment_pos = ?3,"
    " sentiment_neu = ?4, sentiment_neg = ?5, label = ?6,"
    " low_confidence = ?7, priority = ?8, priority_reasons = ?9,"
    " lang = COALESCE(lang, ?10)"
    " WHERE id = ?1 AND text IS ?11 AND title IS ?12";

/* Splits a JSON array column (categories, priority reasons) back into
 * strings. */
static const char CATEGORIES[] =
    "SELECT value FROM json_each(?1) WHERE type = 'text'";

enum stmt_id {
    S_PUT = 0,
    S_EDIT,
    S_FTS_INSERT,
    S_FTS_INSERT_FROM,
    S_FTS_DELETE,
    S_FIND_STORED,
    S_COUNT,
    S_LAST_ID,
    S_BEGIN,
    S_BEGIN_READ,
    S_COMMIT,
    S_ROLLBACK,
    S_SOURCE_ENSURE,
    S_SOURCE_ID,
    S_HEALTH_GET,
    S_HEALTH_EACH,
    S_HEALTH_PUT,
    S_LIST,
    S_LIST_SEARCH,
    S_GET,
    S_CATEGORIES,
    S_SCAN,
    S_SET_SCORES,
    S_PARENT_CONV,
    S_CONV_USED,
    S_CONV_MOVE,
    S_CONV_MOVE_TICKET,
    S_OWN_REPLY,
    S_CONV_RESOLVED,
    S_CONV_REOPEN,
    S__COUNT
};

static const char *const stmt_sql[S__COUNT] = {
    [S_PUT] = PUT,
    [S_EDIT] = EDIT,
    [S_FTS_INSERT] = FTS_INSERT,
    [S_FTS_INSERT_FROM] = FTS_INSERT_FROM,
    [S_FTS_DELETE] = FTS_DELETE,
    [S_FIND_STORED] = FIND_STORED,
    [S_COUNT] = COUNT,
    [S_LAST_ID] = LAST_ID,
    [S_BEGIN] = BEGIN,
    [S_BEGIN_READ] = BEGIN_READ,
    [S_COMMIT] = COMMIT,
    [S_ROLLBACK] = ROLLBACK,
    [S_SOURCE_ENSURE] = SOURCE_ENSURE,
    [S_SOURCE_ID] = SOURCE_ID,
    [S_HEALTH_GET] = HEALTH_GET,
    [S_HEALTH_EACH] = HEALTH_EACH,
    [S_HEALTH_PUT] = HEALTH_PUT,
    [S_LIST] = LIST,
    [S_LIST_SEARCH] = LIST_SEARCH,
    [S_GET] = GET,
    [S_CATEGORIES] = CATEGORIES,
    [S_SCAN] = SCAN,
    [S_SET_SCORES] = SET_SCORES,
    [S_PARENT_CONV] = PARENT_CONV,
    [S_CONV_USED] = CONV_USED,
    [S_CONV_MOVE] = CONV_MOVE,
    [S_CONV_MOVE_TICKET] = CONV_MOVE_TICKET,
    [S_OWN_REPLY] = OWN_REPLY,
    [S_CONV_RESOLVED] = CONV_RESOLVED,
    [S_CONV_REOPEN] = CONV_REOPEN,
};

struct es_inbox {
    sqlite3 *db;                  /* the one connection; we are its writer */
    char *path;                   /* as given to es_inbox_open, for errors */
    sqlite3_stmt *stmt[S__COUNT]; /* prepared at open, see stmt_sql */
    struct es_buf cats;           /* scratch: categories as JSON for PUT */
    struct es_buf conv;           /* scratch: a conversation key for PUT */
    int64_t fts_from; /* the first new mention not indexed yet, or 0 */
};

/* ==== Helpers ==== */

/* Sets an ES_EDB error "inbox 'PATH': WHAT: <sqlite message>". */
static int db_error(struct es_inbox *ib, const char *what)
{
    return es_error_set(ES_EDB, "inbox '%s': %s: %s", ib->path, what,
                        sqlite3_errmsg(ib->db));
}

static void bind_text(sqlite3_stmt *stmt, int i, const char *s)
{
    /* SQLITE_STATIC: every caller steps and resets before @s can go. */
    sqlite3_bind_text(stmt, i, s, -1, SQLITE_STATIC);
}

/* Binds a time, NULL when unknown. */
static void bind_time(sqlite3_stmt *stmt, int i, int64_t t)
{
    if (t == ES_TIME_UNKNOWN)
        sqlite3_bind_null(stmt, i);
    else
        sqlite3_bind_int64(stmt, i, t);
}

static int64_t column_time(sqlite3_stmt *stmt, int i)
{
    if (sqlite3_column_type(stmt, i) == SQLITE_NULL)
        return ES_TIME_UNKNOWN;
    return sqlite3_column_int64(stmt, i);
}

/* Returns a copy of text column @i that the caller frees, NULL for NULL. */
static char *column_dup(sqlite3_stmt *stmt, int i)
{
    const unsigned char *s = sqlite3_column_text(stmt, i);
    if (!s)
        return NULL;
    return es_xstrndup((const char *)s, (size_t)sqlite3_column_bytes(stmt, i));
}

/* Gives the cached statement @id for a query whose rows are handed to a
 * callback. The callback may start the same listing again (a nested
 * es_inbox_list); the cached statement is then still running, so a private
 * one is prepared, *owned set, and the caller finalizes it. */
static int stmt_for_cursor(struct es_inbox *ib, enum stmt_id id,
                           sqlite3_stmt **out, int *owned)
{
    *owned = 0;
    *out = ib->stmt[id];
    if (!sqlite3_stmt_busy(*out))
        return 0;
    if (sqlite3_prepare_v2(ib->db, stmt_sql[id], -1, out, NULL) != SQLITE_OK)
        return db_error(ib, "cannot prepare a query");
    *owned = 1;
    return 0;
}

static void stmt_done(sqlite3_stmt *stmt, int owned)
{
    if (owned)
        sqlite3_finalize(stmt);
    else
        sqlite3_reset(stmt);
}

/* Runs @stmt, which returns no rows (or only one we ignore). */
static int exec_stmt(struct es_inbox *ib, sqlite3_stmt *stmt, const char *what)
{
    int rc = sqlite3_step(stmt);
    int ret = (rc == SQLITE_DONE || rc == SQLITE_ROW) ? 0 : db_error(ib, what);
    sqlite3_reset(stmt);
    return ret;
}

/* ==== Opening ==== */

/* SQLite keeps memory statistics by default, which takes a global mutex
 * around every allocation; nothing here reads them, and the writer of a
 * large batch spent about 5% of its instructions on it. The setting only
 * takes before SQLite initialises (later it is refused, harmlessly), so
 * the first open makes it. */
static pthread_once_t sqlite_setup_once = PTHREAD_ONCE_INIT;

static void sqlite_setup(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_initialize();
}

int es_inbox_open(struct es_inbox **out, const char *path)
{
    struct es_inbox *ib = NULL;
    int version, rc;

    assert(out && path);
    *out = NULL;
    pthread_once(&sqlite_setup_once, sqlite_setup);
    ib = es_xcalloc(1, sizeof(*ib));
    ib->path = es_xstrdup(path);
    es_buf_init(&ib->cats);
    es_buf_init(&ib->conv);

    /* NOMUTEX: an es_inbox is used by one thread at a time, so SQLite's
     * own per-call locking would only cost time on the hot path. */
    rc = sqlite3_open_v2(
        path, &ib->db,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rc = es_error_set(ES_EDB, "cannot open inbox '%s': %s", path,
                          ib->db ? sqlite3_errmsg(ib->db) : sqlite3_errstr(rc));
        goto done;
    }
    sqlite3_busy_timeout(ib->db, BUSY_TIMEOUT_MS);
    /* A file from a newer earshot is refused before anything (even the
     * journal mode recorded in its header) is changed. */
    rc = es_inbox__check_version(ib->db, path, &version);
    if (rc < 0)
        goto done;
    /* A new file gets 32 KiB pages: a batch then splits and writes far
     * fewer pages, and the WAL and its checkpoint move the same bytes in
     * fewer, larger writes. An ingest of 100,000 entries took 9% less
     * wall time than with 8 KiB pages (16 KiB: 6%), almost all of it
     * system time, for the same instructions; the cost is that a single
     * row's change logs a 32 KiB page, which an agent's few changes a
     * minute never notice. It must precede WAL mode and the first table;
     * an existing file keeps the size it has. */
    if (version == 0 && sqlite3_exec(ib->db, "PRAGMA page_size = 32768", NULL,
                                     NULL, NULL) != SQLITE_OK) {
        rc = es_error_set(ES_EDB, "cannot open inbox '%s': %s", path,
                          sqlite3_errmsg(ib->db));
        goto done;
    }
    rc = sqlite3_exec(ib->db, OPEN_PRAGMAS, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        rc = es_error_set(ES_EDB, "cannot open inbox '%s': %s", path,
                          sqlite3_errmsg(ib->db));
        goto done;
    }
    rc = es_inbox__migrate(ib->db, path, ES_INBOX__LATEST);
    if (rc < 0)
        goto done;
    for (int i = 0; i < S__COUNT; i++) {
        if (sqlite3_prepare_v3(ib->db, stmt_sql[i], -1,
                               SQLITE_PREPARE_PERSISTENT, &ib->stmt[i],
                               NULL) != SQLITE_OK) {
            rc = es_error_set(ES_EDB, "cannot open inbox '%s': %s", path,
                              sqlite3_errmsg(ib->db));
            goto done;
        }
    }
    *out = ib;
    ib = NULL;
    rc = 0;
done:
    es_inbox_free(ib);
    return rc;
}

void es_inbox_free(struct es_inbox *ib)
{
    if (!ib)
        return;
    for (int i = 0; i < S__COUNT; i++)
        sqlite3_finalize(ib->stmt[i]);
    /* An open transaction is rolled back by the close: an unfinished
     * batch is never half-kept. */
    sqlite3_close(ib->db);
    es_buf_release(&ib->cats);
    es_buf_release(&ib->conv);
    free(ib->path);
    free(ib);
}

int es_inbox_schema_version(struct es_inbox *ib)
{
    int version;
    if (es_inbox__user_version(ib->db, ib->path, &version) < 0)
        return -1;
    return version;
}

sqlite3 *es_inbox__db(struct es_inbox *ib)
{
    return ib->db;
}

/* ==== Sources and their health ==== */

void es_source_health_release(struct es_source_health *h)
{
    if (!h)
        return;
    free(h->name);
    free(h->type);
    free(h->last_error);
    free(h->etag);
    free(h->last_modified);
    free(h->cursor);
    memset(h, 0, sizeof(*h));
}

int es_inbox_source_ensure(struct es_inbox *ib, const char *name,
                           const char *type, int64_t *out)
{
    sqlite3_stmt *stmt = ib->stmt[S_SOURCE_ENSURE];
    int rc;

    assert(name);
    if (!type)
        return es_error_set(ES_EINVALID, "source '%s': no type", name);
    bind_text(stmt, 1, name);
    bind_text(stmt, 2, type);
    rc = exec_stmt(ib, stmt, "cannot record source");
    if (rc < 0 || !out)
        return rc;

    stmt = ib->stmt[S_SOURCE_ID];
    bind_text(stmt, 1, name);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(stmt, 0);
        rc = 0;
    } else {
        rc = db_error(ib, "cannot find source");
    }
    sqlite3_reset(stmt);
    return rc;
}

/* Fills @h from a HEALTH_COLUMNS row. */
static void read_health(sqlite3_stmt *stmt, struct es_source_health *h)
{
    h->name = column_dup(stmt, 0);
    h->type = column_dup(stmt, 1);
    h->last_attempt = column_time(stmt, 2);
    h->last_success = column_time(stmt, 3);
    h->next_poll = column_time(stmt, 4);
    h->failures = sqlite3_column_int(stmt, 5);
    h->last_error = column_dup(stmt, 6);
    h->etag = column_dup(stmt, 7);
    h->last_modified = column_dup(stmt, 8);
    h->cursor = column_dup(stmt, 9);
    h->mentions = sqlite3_column_int64(stmt, 10);
}

int es_inbox_health_get(struct es_inbox *ib, const char *name,
                        struct es_source_health *out)
{
    sqlite3_stmt *stmt = ib->stmt[S_HEALTH_GET];
    int rc;

    assert(name && out);
    memset(out, 0, sizeof(*out));
    bind_text(stmt, 1, name);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        read_health(stmt, out);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = es_error_set(ES_ENOTFOUND, "inbox '%s': unknown source '%s'",
                          ib->path, name);
    } else {
        rc = db_error(ib, "cannot read source health");
    }
    sqlite3_reset(stmt);
    return rc;
}

int es_inbox_read_begin(struct es_inbox *ib)
{
    return exec_stmt(ib, ib->stmt[S_BEGIN_READ], "cannot begin reading");
}

void es_inbox_read_end(struct es_inbox *ib)
{
    /* A read-only transaction has nothing to lose: ROLLBACK ends it
     * without the work of a commit, and never fails for lack of one. */
    es_inbox_rollback(ib);
}

int es_inbox_health_put(struct es_inbox *ib, const struct es_source_health *h)
{
    sqlite3_stmt *stmt = ib->stmt[S_HEALTH_PUT];
    int rc;

    assert(h && h->name);
    for (int attempt = 0;; attempt++) {
        bind_text(stmt, 1, h->name);
        bind_time(stmt, 2, h->last_attempt);
        bind_time(stmt, 3, h->last_success);
        bind_time(stmt, 4, h->next_poll);
        sqlite3_bind_int(stmt, 5, h->failures);
        bind_text(stmt, 6, h->last_error);
        bind_text(stmt, 7, h->etag);
        bind_text(stmt, 8, h->last_modified);
        bind_text(stmt, 9, h->cursor);
        rc = exec_stmt(ib, stmt, "cannot write source health");
        if (rc < 0 || sqlite3_changes(ib->db) > 0)
            return rc;
        /* A source polled before it was registered: register it, once,
         * and write again. (Registering first on every call would cost
         * the poll path an extra write per source.) */
        if (attempt > 0 || !h->type)
            break;
        rc = es_inbox_source_ensure(ib, h->name, h->type, NULL);
        if (rc < 0)
            return rc;
    }
    return es_error_set(ES_ENOTFOUND, "inbox '%s': unknown source '%s'",
                        ib->path, h->name);
}

int es_inbox_health_each(struct es_inbox *ib, es_health_cb cb, void *payload)
{
    sqlite3_stmt *stmt = NULL;
    int owned = 0, rc;

    assert(cb);
    rc = stmt_for_cursor(ib, S_HEALTH_EACH, &stmt, &owned);
    if (rc < 0)
        return rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct es_source_health h;
        memset(&h, 0, sizeof(h));
        read_health(stmt, &h);
        int stop = cb(&h, payload);
        es_source_health_release(&h);
        if (stop) {
            rc = stop;
            goto done;
        }
    }
    rc = rc == SQLITE_DONE ? 0 : db_error(ib, "cannot list sources");
done:
    stmt_done(stmt, owned);
    return rc;
}

/* ==== Storing a batch ==== */

int es_inbox_begin(struct es_inbox *ib)
{
    ib->fts_from = 0;
    return exec_stmt(ib, ib->stmt[S_BEGIN], "cannot begin a batch");
}

/* Adds the index rows of the mentions stored since ib->fts_from. */
static int index_pending(struct es_inbox *ib)
{
    if (!ib->fts_from)
        return 0;
    sqlite3_stmt *stmt = ib->stmt[S_FTS_INSERT_FROM];
    sqlite3_bind_int64(stmt, 1, ib->fts_from);
    ib->fts_from = 0;
    return exec_stmt(ib, stmt, "cannot update the search index");
}

int es_inbox_commit(struct es_inbox *ib)
{
    int rc = index_pending(ib);
    if (rc < 0)
        return rc;
    return exec_stmt(ib, ib->stmt[S_COMMIT], "cannot commit a batch");
}

void es_inbox_rollback(struct es_inbox *ib)
{
    ib->fts_from = 0;
    /* SQLite may already have rolled back on its own (a full disk, an
     * interrupt); ROLLBACK outside a transaction would only fail. */
    if (!sqlite3_get_autocommit(ib->db))
        exec_stmt(ib, ib->stmt[S_ROLLBACK], "cannot roll back a batch");
}

/* Writes the categories as a JSON array into ib->cats; returns NULL when
 * there are none, so the column is NULL too. */
static const char *categories_json(struct es_inbox *ib,
                                   const struct es_item *item)
{
    if (item->ncategories == 0)
        return NULL;
    es_buf_reset(&ib->cats);
    es_buf_addch(&ib->cats, '[');
    for (size_t i = 0; i < item->ncategories; i++) {
        const char *c = item->categories[i] ? item->categories[i] : "";
        if (i)
            es_buf_addch(&ib->cats, ',');
        es_buf_add_json_str(&ib->cats, c, strlen(c));
    }
    es_buf_addch(&ib->cats, ']');
    return ib->cats.ptr;
}

/* The stored form of a label, and back. */
static const char *label_name(int label)
{
    return label < 0 ? "negative" : label > 0 ? "positive" : "neutral";
}

static int label_value(const char *name)
{
    if (!name)
        return 0;
    return strcmp(name, "negative") == 0   ? -1
           : strcmp(name, "positive") == 0 ? 1
                                           : 0;
}

/* Binds @sc to the score parameters @first.. of @stmt in the order
 * sentiment, pos, neu, neg, label, low_confidence, priority, reasons;
 * NULLs when @sc is NULL. */
static void bind_scores(sqlite3_stmt *stmt, int first,
                        const struct es_scores *sc)
{
    if (!sc) {
        for (int i = 0; i < 8; i++)
            sqlite3_bind_null(stmt, first + i);
        return;
    }
    sqlite3_bind_double(stmt, first, sc->sentiment);
    sqlite3_bind_double(stmt, first + 1, sc->pos);
    sqlite3_bind_double(stmt, first + 2, sc->neu);
    sqlite3_bind_double(stmt, first + 3, sc->neg);
    bind_text(stmt, first + 4, label_name(sc->label));
    sqlite3_bind_int(stmt, first + 5, sc->low_confidence ? 1 : 0);
    sqlite3_bind_int(stmt, first + 6, sc->priority);
    bind_text(stmt, first + 7, sc->reasons[0] ? sc->reasons : "[]");
}

/* The classifier's language of @sc, or NULL. */
static const char *scores_lang(const struct es_scores *sc)
{
    return sc && sc->lang[0] ? sc->lang : NULL;
}

static void bind_put(struct es_inbox *ib, sqlite3_stmt *stmt, int64_t source_id,
                     const struct es_item *it, const struct es_scores *sc)
{
    sqlite3_bind_int64(stmt, P_SOURCE_ID, source_id);
    bind_text(stmt, P_PLATFORM, it->platform);
    bind_text(stmt, P_EXTERNAL_ID, it->external_id);
    bind_text(stmt, P_URL, it->url);
    bind_text(stmt, P_AUTHOR, it->author);
    bind_text(stmt, P_AUTHOR_NAME, it->author_name);
    if (it->author_followers < 0)
        sqlite3_bind_null(stmt, P_AUTHOR_FOLLOWERS);
    else
        sqlite3_bind_int64(stmt, P_AUTHOR_FOLLOWERS, it->author_followers);
    bind_text(stmt, P_TITLE, it->title);
    bind_text(stmt, P_TEXT, it->text);
    bind_text(stmt, P_SUMMARY, it->summary);
    bind_text(stmt, P_CONTENT, it->content);
    bind_text(stmt, P_CATEGORIES, categories_json(ib, it));
    bind_time(stmt, P_CREATED_AT, it->created_at);
    bind_time(stmt, P_UPDATED_AT, it->updated_at);
    bind_time(stmt, P_FETCHED_AT, it->fetched_at);
    bind_text(stmt, P_KIND, es_item_kind_name(it->kind));
    bind_text(stmt, P_IN_REPLY_TO, it->in_reply_to);
    bind_text(stmt, P_THREAD_ROOT, it->thread_root);
    if (it->rating > 0)
        sqlite3_bind_int(stmt, P_RATING, it->rating);
    else
        sqlite3_bind_null(stmt, P_RATING);
    /* The platform's language when it gave one, else the classifier's. */
    bind_text(stmt, P_LANG, it->lang ? it->lang : scores_lang(sc));
    bind_text(stmt, P_REPLY_REF, it->reply_ref);
    sqlite3_bind_int64(stmt, P_NOW, es_time_now());
    bind_scores(stmt, P_SENTIMENT, sc);
}

/* Sets an error for a failed write of mention @item: a broken constraint
 * (unknown source id, ...) is the caller's input, the rest is the db's. */
static int put_error(struct es_inbox *ib, int64_t source_id,
                     const struct es_item *item, int rc)
{
    return es_error_set((rc & 0xff) == SQLITE_CONSTRAINT ? ES_EINVALID : ES_EDB,
                        "inbox '%s': cannot store mention '%s' of source "
                        "%lld: %s",
                        ib->path, item->external_id, (long long)source_id,
                        sqlite3_errmsg(ib->db));
}

/* Adds the full-text row of mention @id with these values, which must be
 * the ones stored in mentions (a later 'delete' has to name them). */
static int index_add(struct es_inbox *ib, int64_t id, const char *text,
                     const char *title, const char *author)
{
    sqlite3_stmt *stmt = ib->stmt[S_FTS_INSERT];

    sqlite3_bind_int64(stmt, 1, id);
    bind_text(stmt, 2, text);
    bind_text(stmt, 3, title);
    bind_text(stmt, 4, author);
    return exec_stmt(ib, stmt, "cannot update the search index");
}

/* Whether two nullable texts differ, as SQL's IS NOT compares them. */
static int differ(const char *a, const char *b)
{
    if (!a || !b)
        return a != b;
    return strcmp(a, b) != 0;
}

/* Binds a copy of column @col of @from to parameter @i of @stmt. */
static void bind_old(sqlite3_stmt *stmt, int i, sqlite3_stmt *from, int col)
{
    sqlite3_bind_text(stmt, i, (const char *)sqlite3_column_text(from, col), -1,
                      SQLITE_TRANSIENT);
}

/* The repeat path of es_inbox_put: @item of @source_id is already stored.
 * Sets *id to its id and *res to ES_PUT_UNCHANGED, or, when its text or
 * title changed, rewrites it (EDIT) with its index row and sets
 * ES_PUT_UPDATED. */
static int put_repeat(struct es_inbox *ib, int64_t source_id,
                      const struct es_item *item, const struct es_scores *sc,
                      enum es_put_result *res, int64_t *id)
{
    sqlite3_stmt *find = ib->stmt[S_FIND_STORED];
    sqlite3_stmt *stmt;
    char *old_author = NULL;
    const char *author;
    int rc;

    sqlite3_bind_int64(find, 1, source_id);
    bind_text(find, 2, item->external_id);
    rc = sqlite3_step(find);
    if (rc != SQLITE_ROW) {
        rc = db_error(ib, "cannot find a stored mention");
        goto done;
    }
    *id = sqlite3_column_int64(find, F_ID);
    *res = ES_PUT_UNCHANGED;
    rc = 0;
    if (!differ((const char *)sqlite3_column_text(find, F_TEXT), item->text) &&
        !differ((const char *)sqlite3_column_text(find, F_TITLE), item->title))
        goto done;

    /* An edit. The index row goes first, while the old values are at
     * hand; they are copied (TRANSIENT), so the look-up can end before
     * the row changes. */
    *res = ES_PUT_UPDATED;
    stmt = ib->stmt[S_FTS_DELETE];
    sqlite3_bind_int64(stmt, 1, *id);
    bind_old(stmt, 2, find, F_TEXT);
    bind_old(stmt, 3, find, F_TITLE);
    bind_old(stmt, 4, find, F_AUTHOR);
    /* EDIT keeps the stored author when the item has none (COALESCE);
     * the new index row must hold what is stored. */
    if (!item->author) {
        const unsigned char *a = sqlite3_column_text(find, F_AUTHOR);
        old_author = a ? es_xstrdup((const char *)a) : NULL;
    }
    sqlite3_reset(find);
    /* The row may be one this batch stored: its index row must exist
     * before it can be deleted. Only an edit flushes, so that repeats
     * between new mentions keep the batch's index writes in one. */
    rc = index_pending(ib);
    if (rc == 0)
        rc = exec_stmt(ib, stmt, "cannot update the search index");
    sqlite3_clear_bindings(stmt);
    if (rc < 0)
        goto done;

    stmt = ib->stmt[S_EDIT];
    bind_put(ib, stmt, source_id, item, sc);
    sqlite3_bind_int64(stmt, P_ID, *id);
    rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) {
        rc = put_error(ib, source_id, item, rc);
        goto done;
    }
    author = item->author ? item->author : old_author;
    rc = index_add(ib, *id, item->text, item->title, author);
done:
    sqlite3_reset(find);
    free(old_author);
    return rc;
}

/* Whether @platform is a feed's: no threads, no replies of ours. */
static int is_feed_platform(const char *platform)
{
    return !platform || strcmp(platform, "rss") == 0 ||
           strcmp(platform, "atom") == 0 || strcmp(platform, "rdf") == 0;
}

/* Whether @item is a reply earshot itself sent (replies.platform_id). */
static int is_own_reply(struct es_inbox *ib, const struct es_item *item)
{
    sqlite3_stmt *stmt = ib->stmt[S_OWN_REPLY];
    bind_text(stmt, 1, item->external_id);
    int found = sqlite3_step(stmt) == SQLITE_ROW;
    sqlite3_reset(stmt);
    return found;
}

/* Writes the conversation key of platform post @item into @out. */
static void conversation_of(struct es_inbox *ib, int64_t source_id,
                            const struct es_item *item, struct es_buf *out)
{
    es_buf_reset(out);
    if (item->kind == ES_KIND_REVIEW) {
        es_buf_addf(out, "%s:%lld:@%s", item->platform, (long long)source_id,
                    item->author ? item->author : "");
        return;
    }
    if (item->in_reply_to) {
        sqlite3_stmt *stmt = ib->stmt[S_PARENT_CONV];
        bind_text(stmt, 1, item->in_reply_to);
        bind_text(stmt, 2, item->platform);
        if (sqlite3_step(stmt) == SQLITE_ROW &&
            sqlite3_column_type(stmt, 0) != SQLITE_NULL)
            es_buf_adds(out, (const char *)sqlite3_column_text(stmt, 0));
        sqlite3_reset(stmt);
        if (out->len)
            return;
    }
    const char *root = item->thread_root   ? item->thread_root
                       : item->in_reply_to ? item->in_reply_to
                                           : item->external_id;
    es_buf_addf(out, "%s:%s", item->platform, root);
}

/* New mention @item of conversation @conv: a resolved conversation is
 * open again (the customer wrote back), and children stored before it
 * pointed at its own id; they join @conv. The UPDATE runs only when such
 * children exist (it would open a statement savepoint, which makes FTS5
 * flush its pending terms). */
static int conversation_adopt(struct es_inbox *ib, const struct es_item *item,
                              const char *conv)
{
    char *own = es_xasprintf("%s:%s", item->platform, item->external_id);
    int rc = 0;
    /* As with the move below, the UPDATE runs only when there is one to
     * make: a SELECT opens no savepoint. */
    sqlite3_stmt *res = ib->stmt[S_CONV_RESOLVED];
    bind_text(res, 1, conv);
    int resolved = sqlite3_step(res) == SQLITE_ROW;
    sqlite3_reset(res);
    if (resolved) {
        sqlite3_stmt *up = ib->stmt[S_CONV_REOPEN];
        bind_text(up, 1, conv);
        if (sqlite3_step(up) != SQLITE_DONE)
            rc = db_error(ib, "cannot reopen a conversation");
        sqlite3_reset(up);
    }
    if (strcmp(own, conv) != 0) {
        sqlite3_stmt *stmt = ib->stmt[S_CONV_USED];
        bind_text(stmt, 1, own);
        int used = sqlite3_step(stmt) == SQLITE_ROW;
        sqlite3_reset(stmt);
        if (used) {
            stmt = ib->stmt[S_CONV_MOVE];
            bind_text(stmt, 1, conv);
            bind_text(stmt, 2, own);
            if (sqlite3_step(stmt) != SQLITE_DONE)
                rc = db_error(ib, "cannot join a conversation");
            sqlite3_reset(stmt);
            stmt = ib->stmt[S_CONV_MOVE_TICKET];
            bind_text(stmt, 1, conv);
            bind_text(stmt, 2, own);
            if (rc == 0 && sqlite3_step(stmt) != SQLITE_DONE)
                rc = db_error(ib, "cannot move a ticket to its conversation");
            sqlite3_reset(stmt);
        }
    }
    free(own);
    return rc;
}

int es_inbox_put(struct es_inbox *ib, int64_t source_id,
                 const struct es_item *item, const struct es_scores *scores,
                 enum es_put_result *result, int64_t *id)
{
    sqlite3_stmt *stmt = ib->stmt[S_PUT];
    enum es_put_result res = ES_PUT_UNCHANGED;
    int64_t mid = 0;
    int own_txn = 0, rc;

    assert(item);
    if (!item->external_id)
        return es_error_set(ES_EINVALID,
                            "inbox '%s': mention of source %lld has no "
                            "external id",
                            ib->path, (long long)source_id);
    /* Outside a batch, the mention and its index row still go together. */
    if (sqlite3_get_autocommit(ib->db)) {
        rc = es_inbox_begin(ib);
        if (rc < 0)
            return rc;
        own_txn = 1;
    }

    int post = !is_feed_platform(item->platform);
    if (post && is_own_reply(ib, item)) {
        /* Our own reply coming back through a poller: it is already
         * linked to the mention it answers, and is no new mention. */
        rc = 0;
        goto done;
    }
    bind_put(ib, stmt, source_id, item, scores);
    if (post) {
        conversation_of(ib, source_id, item, &ib->conv);
        bind_text(stmt, P_CONVERSATION, ib->conv.ptr);
    } else {
        sqlite3_bind_null(stmt, P_CONVERSATION);
    }
    rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) {
        rc = put_error(ib, source_id, item, rc);
        goto done;
    }
    if (sqlite3_changes(ib->db) > 0) {
        res = ES_PUT_NEW;
        mid = sqlite3_last_insert_rowid(ib->db);
        /* Indexed at the commit (index_pending), with the batch. */
        if (!ib->fts_from)
            ib->fts_from = mid;
        rc = 0;
        if (post)
            rc = conversation_adopt(ib, item, ib->conv.ptr);
    } else {
        rc = put_repeat(ib, source_id, item, scores, &res, &mid);
    }
done:
    if (own_txn) {
        if (rc == 0)
            rc = es_inbox_commit(ib);
        if (rc < 0)
            es_inbox_rollback(ib);
    }
    if (rc == 0) {
        if (result)
            *result = res;
        if (id)
            *id = mid;
    }
    return rc;
}

/* ==== Reading ==== */

void es_mention_release(struct es_mention *m)
{
    if (!m)
        return;
    es_item_release(&m->item);
    free(m->state);
    free(m->assignee);
    for (size_t i = 0; i < m->nreasons; i++)
        free(m->reasons[i]);
    free(m->reasons);
    memset(m, 0, sizeof(*m));
    es_item_init(&m->item);
}

static enum es_item_kind kind_from_name(const char *name)
{
    for (int k = ES_KIND_POST; name && k <= ES_KIND_ARTICLE; k++)
        if (strcmp(name, es_item_kind_name((enum es_item_kind)k)) == 0)
            return (enum es_item_kind)k;
    return ES_KIND_POST; /* a kind from a newer earshot */
}

/* Splits the JSON array @json into its strings, appending each to *list
 * (of *n). A value that is not an array of strings (edited by hand) gives
 * none. */
static void read_strings(struct es_inbox *ib, const char *json, char ***list,
                         size_t *n)
{
    sqlite3_stmt *stmt = ib->stmt[S_CATEGORIES];
    bind_text(stmt, 1, json);
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        const char *c = (const char *)sqlite3_column_text(stmt, 0);
        if (!c)
            continue;
        *list = es_xrealloc(*list, (*n + 1) * sizeof(**list));
        (*list)[(*n)++] = es_xstrdup(c);
    }
    sqlite3_reset(stmt);
}

/* Fills @m from a MENTION_COLUMNS row. */
static void read_mention(struct es_inbox *ib, sqlite3_stmt *stmt,
                         struct es_mention *m)
{
    struct es_item *it = &m->item;
    const char *cats;

    memset(m, 0, sizeof(*m));
    es_item_init(it);
    m->id = sqlite3_column_int64(stmt, C_ID);
    it->source = column_dup(stmt, C_SOURCE);
    it->platform = column_dup(stmt, C_PLATFORM);
    it->external_id = column_dup(stmt, C_EXTERNAL_ID);
    it->url = column_dup(stmt, C_URL);
    it->author = column_dup(stmt, C_AUTHOR);
    it->author_name = column_dup(stmt, C_AUTHOR_NAME);
    if (sqlite3_column_type(stmt, C_AUTHOR_FOLLOWERS) != SQLITE_NULL)
        it->author_followers = sqlite3_column_int64(stmt, C_AUTHOR_FOLLOWERS);
    it->title = column_dup(stmt, C_TITLE);
    it->text = column_dup(stmt, C_TEXT);
    it->summary = column_dup(stmt, C_SUMMARY);
    it->content = column_dup(stmt, C_CONTENT);
    cats = (const char *)sqlite3_column_text(stmt, C_CATEGORIES);
    if (cats)
        read_strings(ib, cats, &it->categories, &it->ncategories);
    it->created_at = column_time(stmt, C_CREATED_AT);
    it->updated_at = column_time(stmt, C_UPDATED_AT);
    it->fetched_at = column_time(stmt, C_FETCHED_AT);
    it->kind = kind_from_name((const char *)sqlite3_column_text(stmt, C_KIND));
    it->in_reply_to = column_dup(stmt, C_IN_REPLY_TO);
    it->thread_root = column_dup(stmt, C_THREAD_ROOT);
    it->rating = sqlite3_column_int(stmt, C_RATING);
    it->lang = column_dup(stmt, C_LANG);
    it->reply_ref = column_dup(stmt, C_REPLY_REF);
    m->state = column_dup(stmt, C_STATE);
    m->assignee = column_dup(stmt, C_ASSIGNEE);
    m->scored = sqlite3_column_type(stmt, C_SENTIMENT) != SQLITE_NULL;
    m->sentiment = sqlite3_column_double(stmt, C_SENTIMENT);
    m->pos = sqlite3_column_double(stmt, C_POS);
    m->neu = sqlite3_column_double(stmt, C_NEU);
    m->neg = sqlite3_column_double(stmt, C_NEG);
    m->label = label_value((const char *)sqlite3_column_text(stmt, C_LABEL));
    m->low_confidence = sqlite3_column_int(stmt, C_LOW_CONFIDENCE);
    m->prioritised = sqlite3_column_type(stmt, C_PRIORITY) != SQLITE_NULL;
    m->priority = sqlite3_column_int(stmt, C_PRIORITY);
    const char *reasons = (const char *)sqlite3_column_text(stmt, C_REASONS);
    if (reasons)
        read_strings(ib, reasons, &m->reasons, &m->nreasons);
    m->edited = sqlite3_column_int(stmt, C_EDITED);
    m->first_seen = column_time(stmt, C_FIRST_SEEN);
}

/* Appends @s (@n bytes) to @out as an FTS5 string: in double quotes,
 * with its own double quotes doubled. */
static void add_fts_string(struct es_buf *out, const char *s, size_t n)
{
    es_buf_addch(out, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            es_buf_addch(out, '"');
        es_buf_addch(out, s[i]);
    }
    es_buf_addch(out, '"');
}

static int is_fts_operator(const char *w, size_t n)
{
    return (n == 3 && (memcmp(w, "AND", 3) == 0 || memcmp(w, "NOT", 3) == 0)) ||
           (n == 2 && memcmp(w, "OR", 2) == 0);
}

/* The words a person typed as an FTS5 query that cannot be malformed:
 * each word, and each "quoted phrase", an FTS5 string, so that "web-01",
 * "can't" and "v3.2" are text, not syntax; AND, OR and NOT in capitals
 * between two words stay operators, and a word ending in '*' a prefix. */
static void literal_search(const char *s, struct es_buf *out)
{
    int prev_op = 1; /* nothing before: an operator here is a word */
    while (*s) {
        while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
            s++;
        if (!*s)
            break;
        const char *w = s;
        size_t n;
        int phrase = *s == '"';
        if (phrase) {
            const char *close = strchr(s + 1, '"');
            w = s + 1;
            n = close ? (size_t)(close - w) : strlen(w);
            s = close ? close + 1 : w + n;
        } else {
            n = strcspn(s, " \t\r\n");
            s += n;
        }
        const char *rest = s;
        while (*rest == ' ' || *rest == '\t' || *rest == '\n' || *rest == '\r')
            rest++;
        if (out->len)
            es_buf_addch(out, ' ');
        if (!phrase && !prev_op && *rest && is_fts_operator(w, n)) {
            es_buf_add(out, w, n);
            prev_op = 1;
            continue;
        }
        int prefix = !phrase && n > 1 && w[n - 1] == '*';
        add_fts_string(out, w, prefix ? n - 1 : n);
        if (prefix)
            es_buf_addch(out, '*');
        prev_op = 0;
    }
}

int es_inbox_list(struct es_inbox *ib, const struct es_inbox_query *q,
                  es_mention_cb cb, void *payload)
{
    static const struct es_inbox_query all = { 0 };
    sqlite3_stmt *stmt = NULL;
    int search, owned = 0, rc, literal = 0;
    struct es_buf lit = ES_BUF_INIT;

    assert(cb);
    if (!q)
        q = &all;
    search = q->search && q->search[0];
again:
    rc = stmt_for_cursor(ib, search ? S_LIST_SEARCH : S_LIST, &stmt, &owned);
    if (rc < 0) {
        es_buf_release(&lit);
        return rc;
    }
    bind_text(stmt, 1, q->state);
    bind_text(stmt, 2, q->source);
    sqlite3_bind_int(stmt, 3, q->limit > 0 ? q->limit : 50);
    bind_text(stmt, 5, q->label);
    bind_text(stmt, 6, q->platform);
    bind_text(stmt, 7, q->lang);
    bind_text(stmt, 8, q->tag);
    bind_text(stmt, 9, q->assignee);
    if (search)
        bind_text(stmt, 4, literal ? lit.ptr : q->search);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct es_mention m;
        read_mention(ib, stmt, &m);
        int stop = cb(&m, payload);
        es_mention_release(&m);
        if (stop) {
            rc = stop;
            goto done;
        }
    }
    if (rc == SQLITE_DONE) {
        rc = 0;
    } else if (search && rc == SQLITE_ERROR && !literal) {
        /* FTS5 reports a malformed query as a plain SQLITE_ERROR when the
         * query first runs (before any row): what was typed is not FTS5
         * syntax ("web-01", "can't"), so its words are searched as text.
         * Anything worse (I/O, corruption) has its own code. */
        stmt_done(stmt, owned);
        literal_search(q->search, &lit);
        if (!lit.len) {
            es_buf_release(&lit);
            return 0; /* only blanks and quotes: no word to find */
        }
        literal = 1;
        goto again;
    } else if (search && rc == SQLITE_ERROR) {
        rc = es_error_set(ES_EINVALID, "bad search '%s': %s", q->search,
                          sqlite3_errmsg(ib->db));
    } else {
        rc = db_error(ib, "cannot list mentions");
    }
done:
    stmt_done(stmt, owned);
    es_buf_release(&lit);
    return rc;
}

int es_inbox_get(struct es_inbox *ib, int64_t id, struct es_mention *out)
{
    sqlite3_stmt *stmt = ib->stmt[S_GET];
    int rc;

    assert(out);
    memset(out, 0, sizeof(*out));
    es_item_init(&out->item);
    sqlite3_bind_int64(stmt, 1, id);
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        read_mention(ib, stmt, out);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = es_error_set(ES_ENOTFOUND, "inbox '%s': no mention %lld", ib->path,
                          (long long)id);
    } else {
        rc = db_error(ib, "cannot read a mention");
    }
    sqlite3_reset(stmt);
    return rc;
}

long long es_inbox_count(struct es_inbox *ib)
{
    sqlite3_stmt *stmt = ib->stmt[S_COUNT];
    long long n;

    if (sqlite3_step(stmt) == SQLITE_ROW)
        n = sqlite3_column_int64(stmt, 0);
    else
        n = db_error(ib, "cannot count mentions");
    sqlite3_reset(stmt);
    return n;
}

/* ==== Rescoring in batches ==== */

int es_inbox_scan(struct es_inbox *ib, int64_t after_id, int limit,
                  es_mention_cb cb, void *payload, int64_t *last_id)
{
    sqlite3_stmt *stmt = NULL;
    int owned = 0, rc;
    int64_t last = after_id;

    assert(cb);
    rc = stmt_for_cursor(ib, S_SCAN, &stmt, &owned);
    if (rc < 0)
        return rc;
    sqlite3_bind_int64(stmt, 1, after_id);
    sqlite3_bind_int(stmt, 2, limit > 0 ? limit : 500);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct es_mention m;
        read_mention(ib, stmt, &m);
        last = m.id;
        int stop = cb(&m, payload);
        es_mention_release(&m);
        if (stop) {
            rc = stop;
            goto done;
        }
    }
    rc = rc == SQLITE_DONE ? 0 : db_error(ib, "cannot read mentions");
done:
    stmt_done(stmt, owned);
    if (last_id)
        *last_id = last;
    return rc;
}

int64_t es_inbox_last_id(struct es_inbox *ib)
{
    sqlite3_stmt *stmt = ib->stmt[S_LAST_ID];
    int64_t n;

    if (sqlite3_step(stmt) == SQLITE_ROW)
        n = sqlite3_column_int64(stmt, 0);
    else
        n = db_error(ib, "cannot read the last mention id");
    sqlite3_reset(stmt);
    return n;
}

int es_inbox_set_scores(struct es_inbox *ib, const struct es_mention *m,
                        const struct es_scores *scores, int *changed)
{
    sqlite3_stmt *stmt = ib->stmt[S_SET_SCORES];
    int rc;

    assert(m && scores);
    sqlite3_bind_int64(stmt, 1, m->id);
    bind_scores(stmt, 2, scores);
    bind_text(stmt, 10, scores_lang(scores));
    bind_text(stmt, 11, m->item.text);
    bind_text(stmt, 12, m->item.title);
    rc = exec_stmt(ib, stmt, "cannot store scores");
    if (rc < 0)
        return rc;
    if (sqlite3_changes(ib->db) == 0)
        return es_error_set(ES_ENOTFOUND,
                            "inbox '%s': mention %lld is gone or was "
                            "edited",
                            ib->path, (long long)m->id);
    if (changed)
        *changed = !m->scored || !m->prioritised ||
                   m->priority != scores->priority ||
                   m->label != (scores->label < 0   ? -1
                                : scores->label > 0 ? 1
                                                    : 0);
    return 0;
}
