/* schema.c - numbered migrations that create and upgrade the inbox tables
 *
 * The database records its schema version in PRAGMA user_version. Opening
 * an inbox applies every step after that version in order, each in its own
 * transaction, so a crash mid-upgrade leaves the file at the last complete
 * version (newsboat's schema_patches). Steps only ever add: a version this
 * program does not know is refused rather than touched, and no step drops
 * stored data (version 4 drops only the search index, which it rebuilds
 * from the mentions). To change the schema, append a step; never edit a
 * released one, because files in the field already ran it.
 */
#include <stdio.h>

#include <sqlite3.h>

#include "earshot/error.h"
#include "store.h"

/* Version 1: sources with their poll health, and mentions with every field
 * of struct es_item plus the inbox's own columns. Unknown times, counts and
 * scores are NULL, never a placeholder value. */
static const char MIGRATION_1[] =
    "CREATE TABLE sources ("
    "  id            INTEGER PRIMARY KEY,"
    "  name          TEXT NOT NULL UNIQUE,"
    "  type          TEXT NOT NULL,"
    "  last_attempt  INTEGER,"
    "  last_success  INTEGER,"
    "  next_poll     INTEGER,"
    "  failures      INTEGER NOT NULL DEFAULT 0,"
    "  last_error    TEXT,"
    "  etag          TEXT,"
    "  last_modified TEXT,"
    "  cursor        TEXT"
    ");"
    "CREATE TABLE mentions ("
    "  id               INTEGER PRIMARY KEY,"
    "  source_id        INTEGER NOT NULL REFERENCES sources(id),"
    "  platform         TEXT,"
    "  external_id      TEXT NOT NULL,"
    "  url              TEXT,"
    "  author           TEXT,"
    "  author_name      TEXT,"
    "  author_followers INTEGER,"
    "  title            TEXT,"
    "  text             TEXT,"
    "  summary          TEXT,"
    "  content          TEXT,"
    "  categories       TEXT," /* JSON array of strings; NULL when none */
    "  created_at       INTEGER,"
    "  updated_at       INTEGER,"
    "  fetched_at       INTEGER,"
    "  kind             TEXT NOT NULL DEFAULT 'post',"
    "  in_reply_to      TEXT,"
    "  thread_root      TEXT,"
    "  rating           INTEGER,"
    "  lang             TEXT,"
    "  reply_ref        TEXT,"
    "  sentiment        REAL,"
    "  sentiment_pos    REAL,"
    "  sentiment_neu    REAL,"
    "  sentiment_neg    REAL,"
    "  label            TEXT,"
    "  priority         INTEGER,"
    "  priority_reasons TEXT,"
    /* An OR chain, not IN (...): SQLite builds a temporary table for an
     * IN list on every row it checks, which cost 30% of a bulk insert. */
    "  state            TEXT NOT NULL DEFAULT 'new' CHECK (state = 'new'"
    "                   OR state = 'open' OR state = 'pending'"
    "                   OR state = 'resolved' OR state = 'spam'"
    "                   OR state = 'ignored'),"
    "  assignee         TEXT,"
    "  edited           INTEGER NOT NULL DEFAULT 0,"
    "  first_seen       INTEGER NOT NULL,"
    "  last_changed     INTEGER NOT NULL,"
    "  UNIQUE (source_id, external_id)"
    ");"
    /* The inbox view orders by exactly this key (see LIST in store.c)
     * and filters state and source along it; an index per filter would
     * cost every insert more than it saves a listing. */
    "CREATE INDEX mentions_order ON mentions"
    "  (priority DESC, COALESCE(created_at, first_seen) DESC, id DESC);";

/* Version 2: full-text search over text, title and author. A regular FTS5
 * table (it keeps its own copy of the three columns) keyed by rowid =
 * mentions.id; store.c writes it directly, without triggers (a trigger, like
 * any statement savepoint, makes FTS5 flush its pending terms for every
 * row). (Version 4 replaces this table with an external-content index,
 * whose deletes need the old values: see store.c.) FTS5 buffers
 * up to 'hashsize' bytes of terms in memory per write transaction before
 * it writes a segment; raising that from 1 MB to 16 MB halves the work of
 * a large batch (fewer, bigger segments to merge). Rows stored before this
 * version are indexed here. */
static const char MIGRATION_2[] =
    "CREATE VIRTUAL TABLE mentions_fts USING fts5("
    "  text, title, author, tokenize = 'unicode61 remove_diacritics 2'"
    ");"
    "INSERT INTO mentions_fts (mentions_fts, rank) VALUES ('hashsize', 16777216);"
    "INSERT INTO mentions_fts (rowid, text, title, author)"
    "  SELECT id, text, title, author FROM mentions;";

/* Version 3: the classifier flags the scores it could not trust (a text
 * that is not English is scored on its emoji and emoticons only). NULL
 * for mentions stored unscored, like the other score columns. */
static const char MIGRATION_3[] =
    "ALTER TABLE mentions ADD COLUMN low_confidence INTEGER;";

/* Version 4: the search index becomes an external-content FTS5 table
 * that reads text, title and author from mentions itself, rather than a
 * second copy of them: about a third less work per stored mention. No
 * columnsize table either, since the lists order by priority and nothing
 * ranks by bm25. The price is that removing a row from the index needs
 * the values it was indexed with, so store.c deletes an edited mention's
 * index row with its old values before it changes them. FTS5 keeps its
 * settings in the table, so hashsize is set again; 'rebuild' indexes the
 * mentions already stored. */
static const char MIGRATION_4[] =
    "DROP TABLE mentions_fts;"
    "CREATE VIRTUAL TABLE mentions_fts USING fts5("
    "  text, title, author, tokenize = 'unicode61 remove_diacritics 2',"
    "  content = 'mentions', content_rowid = 'id', columnsize = 0"
    ");"
    "INSERT INTO mentions_fts (mentions_fts, rank) VALUES ('hashsize', 16777216);"
    "INSERT INTO mentions_fts (mentions_fts) VALUES ('rebuild');";

/* Version 5: the inbox at work (issue 5). Conversations group mentions
 * by the platform's thread: mentions.conversation holds the key (NULL for
 * a mention that stands alone, as every feed entry does); the
 * conversations row exists once an agent acts on one and carries the
 * version that guards against stale replies, the claim, and the times the
 * metrics need. Agents, notes, tags, canned replies, the audit log, the
 * outbox of replies (exactly once: a unique idempotency key, states up to
 * 'unknown' for a send cut off mid-flight) and private tickets with the
 * context they were opened with. Partial indexes keep the mention insert
 * cheap: only platform posts are looked up by their platform id. */
static const char MIGRATION_5[] =
    "ALTER TABLE mentions ADD COLUMN conversation TEXT;"
    "CREATE INDEX mentions_conversation ON mentions (conversation)"
    "  WHERE conversation IS NOT NULL;"
    "CREATE INDEX mentions_platform_id ON mentions (external_id)"
    "  WHERE platform IS NOT NULL AND platform <> 'rss';"
    "CREATE TABLE agents ("
    "  id         INTEGER PRIMARY KEY,"
    "  name       TEXT NOT NULL UNIQUE,"
    "  role       TEXT NOT NULL DEFAULT 'agent' CHECK (role = 'admin'"
    "             OR role = 'agent' OR role = 'viewer'),"
    "  disabled   INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE conversations ("
    "  key               TEXT PRIMARY KEY," /* conversation, or 'm:ID' */
    "  version           INTEGER NOT NULL DEFAULT 1,"
    "  changed_by        TEXT," /* who made the last change */
    "  changed_what      TEXT," /* what it was, for the stale message */
    "  changed_at        INTEGER,"
    "  claim_agent       TEXT,"
    "  claim_expires     INTEGER,"
    "  first_response_at INTEGER," /* first public reply sent */
    "  resolved_at       INTEGER"
    ") WITHOUT ROWID;"
    "CREATE TABLE mention_tags ("
    "  mention_id INTEGER NOT NULL REFERENCES mentions(id),"
    "  tag        TEXT NOT NULL,"
    "  PRIMARY KEY (mention_id, tag)"
    ") WITHOUT ROWID;"
    "CREATE INDEX mention_tags_tag ON mention_tags (tag);"
    "CREATE TABLE notes ("
    "  id         INTEGER PRIMARY KEY,"
    "  mention_id INTEGER NOT NULL REFERENCES mentions(id),"
    "  agent      TEXT NOT NULL,"
    "  body       TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX notes_mention ON notes (mention_id);"
    "CREATE TABLE canned ("
    "  name       TEXT PRIMARY KEY,"
    "  body       TEXT NOT NULL,"
    "  updated_by TEXT,"
    "  updated_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE audit ("
    "  id     INTEGER PRIMARY KEY,"
    "  at     INTEGER NOT NULL,"
    "  agent  TEXT NOT NULL,"
    "  action TEXT NOT NULL," /* 'state', 'assign', 'reply', ... */
    "  object TEXT NOT NULL," /* 'mention:12', 'ticket:3', 'agent:dana' */
    "  before TEXT,"
    "  after  TEXT"
    ");"
    "CREATE TABLE replies ("
    "  id              INTEGER PRIMARY KEY,"
    "  mention_id      INTEGER NOT NULL REFERENCES mentions(id),"
    "  account         TEXT NOT NULL,"
    "  agent           TEXT NOT NULL,"
    "  body            TEXT NOT NULL,"
    "  visibility      TEXT NOT NULL DEFAULT 'public' CHECK (visibility ="
    "                  'public' OR visibility = 'private'),"
    "  state           TEXT NOT NULL DEFAULT 'queued' CHECK (state = 'queued'"
    "                  OR state = 'sending' OR state = 'sent'"
    "                  OR state = 'failed' OR state = 'unknown'"
    "                  OR state = 'cancelled'),"
    "  idempotency_key TEXT NOT NULL UNIQUE,"
    "  attempts        INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt    INTEGER,"
    "  platform_id     TEXT," /* the posted reply's id on the platform */
    "  url             TEXT,"
    "  error           TEXT,"
    "  ticket_id       INTEGER,"
    "  created_at      INTEGER NOT NULL,"
    "  sent_at         INTEGER"
    ");"
    "CREATE INDEX replies_due ON replies (state, next_attempt);"
    "CREATE INDEX replies_platform_id ON replies (platform_id)"
    "  WHERE platform_id IS NOT NULL;"
    "CREATE TABLE tickets ("
    "  id               INTEGER PRIMARY KEY,"
    "  conversation     TEXT NOT NULL UNIQUE,"
    "  subject          TEXT,"
    "  state            TEXT NOT NULL DEFAULT 'open' CHECK (state = 'open'"
    "                   OR state = 'pending' OR state = 'solved'"
    "                   OR state = 'closed'),"
    "  assignee         TEXT,"
    "  priority         INTEGER,"
    "  context          TEXT NOT NULL," /* JSON: all that was known */
    "  created_by       TEXT NOT NULL,"
    "  created_at       INTEGER NOT NULL,"
    "  updated_at       INTEGER NOT NULL,"
    "  solved_at        INTEGER,"
    "  forward_state    TEXT," /* NULL, 'pending', 'delivered', 'failed' */
    "  forward_attempts INTEGER NOT NULL DEFAULT 0,"
    "  forward_next     INTEGER,"
    "  forward_error    TEXT"
    ");"
    "CREATE TABLE ticket_messages ("
    "  id         INTEGER PRIMARY KEY,"
    "  ticket_id  INTEGER NOT NULL REFERENCES tickets(id),"
    "  agent      TEXT,"
    "  kind       TEXT NOT NULL CHECK (kind = 'note' OR kind = 'out'"
    "             OR kind = 'in'),"
    "  body       TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id);";

/* Version 6: spike alerts (issue 6). An alert is one spike of one rule:
 * it opens firing at the first bucket over the baseline and is resolved
 * when the series is back, whatever the spike's length; alert_rules
 * remembers per rule how far the evaluation has gone, the alert still
 * open and the cooldown. alert_deliveries records each notification of
 * each channel (unique per alert, channel and event: a retry never sends
 * twice) with its attempts. The time series count mentions by
 * COALESCE(created_at, first_seen) with no index of their own: one more
 * index would cost every stored mention, for queries that run once per
 * poll pass. */
static const char MIGRATION_6[] =
    "CREATE TABLE alerts ("
    "  id          INTEGER PRIMARY KEY,"
    "  rule        TEXT NOT NULL,"
    "  bucket      INTEGER NOT NULL," /* seconds */
    "  started_at  INTEGER NOT NULL," /* first bucket over the baseline */
    "  ended_at    INTEGER,"          /* NULL while firing */
    "  state       TEXT NOT NULL DEFAULT 'firing' CHECK (state = 'firing'"
    "              OR state = 'resolved'),"
    "  observed    INTEGER NOT NULL," /* count of the first bucket */
    "  expected    REAL NOT NULL,"    /* the baseline for it */
    "  score       REAL,"             /* how far above, as the rule reads it */
    "  peak        INTEGER,"          /* the largest bucket of the spike */
    "  explanation TEXT,"             /* JSON: why it fired */
    "  created_at  INTEGER NOT NULL,"
    "  updated_at  INTEGER NOT NULL"
    ");"
    "CREATE INDEX alerts_rule ON alerts (rule, started_at);"
    "CREATE TABLE alert_rules ("
    "  rule            TEXT PRIMARY KEY,"
    "  evaluated_until INTEGER," /* buckets before this are decided */
    "  open_alert      INTEGER," /* alerts.id while firing */
    "  cooldown_until  INTEGER"
    ") WITHOUT ROWID;"
    "CREATE TABLE alert_deliveries ("
    "  id           INTEGER PRIMARY KEY,"
    "  alert_id     INTEGER NOT NULL REFERENCES alerts(id),"
    "  notify       TEXT NOT NULL," /* [notify "NAME"] */
    "  event        TEXT NOT NULL CHECK (event = 'fire' OR event ="
    "               'resolve'),"
    "  state        TEXT NOT NULL DEFAULT 'pending' CHECK (state ="
    "               'pending' OR state = 'delivered' OR state = 'failed'),"
    "  attempts     INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt INTEGER,"
    "  last_error   TEXT,"
    "  delivered_at INTEGER,"
    "  created_at   INTEGER NOT NULL,"
    "  UNIQUE (alert_id, notify, event)"
    ");"
    "CREATE INDEX alert_deliveries_due ON alert_deliveries (state,"
    "  next_attempt);";

static const char *const migrations[] = {
    MIGRATION_1, MIGRATION_2, MIGRATION_3,
    MIGRATION_4, MIGRATION_5, MIGRATION_6,
};

const int es_inbox__latest = (int)(sizeof(migrations) / sizeof(migrations[0]));

int es_inbox__user_version(sqlite3 *db, const char *path, int *out)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        rc = es_error_set(ES_EDB, "cannot open inbox '%s': %s", path,
                          sqlite3_errmsg(db));
        goto done;
    }
    *out = sqlite3_column_int(stmt, 0);
    rc = 0;
done:
    sqlite3_finalize(stmt);
    return rc;
}

/* Runs migration step @version (1-based) unless the file is already there,
 * all in one IMMEDIATE transaction: a second process opening the same file
 * waits on the write lock, then sees the new version and skips. */
static int apply_step(sqlite3 *db, const char *path, int version)
{
    char pragma[48];
    int current, rc;

    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return es_error_set(ES_EDB, "cannot open inbox '%s': %s", path,
                            sqlite3_errmsg(db));
    rc = es_inbox__user_version(db, path, &current);
    if (rc < 0 || current >= version)
        goto done;
    if (sqlite3_exec(db, migrations[version - 1], NULL, NULL, NULL) !=
        SQLITE_OK) {
        rc = es_error_set(ES_EDB,
                          "cannot open inbox '%s': migration to version %d: %s",
                          path, version, sqlite3_errmsg(db));
        goto done;
    }
    /* PRAGMA takes no bound parameters; the value is our own integer. */
    snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version);
    if (sqlite3_exec(db, pragma, NULL, NULL, NULL) != SQLITE_OK) {
        rc = es_error_set(ES_EDB, "cannot open inbox '%s': %s", path,
                          sqlite3_errmsg(db));
        goto done;
    }
done:
    if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = es_error_set(ES_EDB, "cannot open inbox '%s': %s", path,
                          sqlite3_errmsg(db));
    if (rc < 0 && !sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int es_inbox__check_version(sqlite3 *db, const char *path, int *out)
{
    int rc = es_inbox__user_version(db, path, out);
    if (rc < 0)
        return rc;
    if (*out > es_inbox__latest)
        return es_error_set(ES_EDB,
                            "cannot open inbox '%s': schema version %d is "
                            "newer than this earshot knows (%d); upgrade "
                            "earshot",
                            path, *out, es_inbox__latest);
    if (*out < 0)
        return es_error_set(ES_EDB,
                            "cannot open inbox '%s': bad schema version %d",
                            path, *out);
    return 0;
}

int es_inbox__migrate(sqlite3 *db, const char *path, int upto)
{
    int current, rc;

    if (upto > es_inbox__latest)
        upto = es_inbox__latest;
    rc = es_inbox__check_version(db, path, &current);
    if (rc < 0)
        return rc;
    for (int v = current + 1; v <= upto; v++) {
        rc = apply_step(db, path, v);
        if (rc < 0)
            return rc;
    }
    return 0;
}
