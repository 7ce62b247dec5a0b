/* config.c - the INI settings file, checked against one key table
 *
 * inih does the tokenising (comments, `key = value`, BOM); everything else
 * is ours and driven by the `keys` table below, the way redis drives
 * CONFIG SET from standardConfig: each line says which section a key lives
 * in, how its text is read, its default and where the value goes. One loop
 * (on_value -> convert) handles every key, so adding a key is one table line
 * and a paragraph in config/earshot.conf (a test checks the paragraph).
 *
 * inih only hands us key/value pairs, with neither the line number nor the
 * moment a section starts, so we feed it through our own line reader: it
 * counts lines and sees every `[section]` header first, which is how empty
 * sections, repeated source names and missing keys get a file:line too.
 */
#define _XOPEN_SOURCE 700 /* realpath() */

#include "earshot/config.h"

#include <assert.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "earshot/alloc.h"
#include "earshot/buf.h"
#include "earshot/error.h"
#include "earshot/ingest.h"
#include "keys.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Longest line we accept, not counting the newline. inih is set to hold
 * it (plus "\r\n" and the NUL); anything longer is an error rather than a
 * line that inih would silently split in two. */
#define MAX_LINE_BYTES 16384
/* A settings file is small; this only stops us slurping a wrong path. */
#define MAX_FILE_BYTES (4L << 20)

/* The key/value sections other than [source], in struct es_config. */
enum {
    KVS_ACCOUNT,
    KVS_VIEW,
    KVS_SLA,
    KVS_HELPDESK,
    KVS_ALERT,
    KVS_NOTIFY,
    KVS__COUNT
};

struct es_config {
    char *file;            /* path or name given to the loader; NULL for new */
    char *dir;             /* absolute folder of @file; NULL: relative stays */
    const char *database;  /* [earshot] database, resolved, or NULL */
    const char *data_dir;  /* [earshot] data_dir, resolved, or NULL */
    const char *log_level; /* [earshot] log_level */
    struct es_config_http http;
    struct es_config_classifier classifier; /* arrays owned, strings pooled */
    struct es_config_priority priority;     /* brands owned, strings pooled */
    struct es_config_source *sources;
    size_t nsources, sources_cap;
    size_t *source_slots; /* by name, open addressing: index + 1, 0 empty */
    size_t source_mask;   /* source_slots has source_mask + 1 entries */
    const char *agent;    /* [earshot] agent: who the CLI acts as */
    long claim_ttl;       /* [earshot] claim_ttl, seconds */
    struct es_config_source *kvs[KVS__COUNT]; /* accounts, views, [sla]... */
    size_t nkvs[KVS__COUNT];
    char **pool; /* every string the structs above point into */
    size_t npool, pool_cap;
};

/* ==== The key table ==== */

enum sect_kind {
    SEC_EARSHOT,
    SEC_HTTP,
    SEC_CLASSIFIER,
    SEC_PRIORITY,
    SEC_SOURCE,
    SEC_ACCOUNT,  /* [account "NAME"]: the brand's own accounts */
    SEC_VIEW,     /* [view "NAME"]: saved inbox filters */
    SEC_SLA,      /* [sla]: response-time targets */
    SEC_HELPDESK, /* [helpdesk]: forwarding tickets elsewhere */
    SEC_ALERT,    /* [alert "NAME"]: spike rules */
    SEC_NOTIFY,   /* [notify "NAME"]: where alerts go */
};

struct sect_spec {
    const char *name;    /* as written: [http], [source "NAME"] */
    enum sect_kind kind; /* matches key_spec.sect */
    int named;           /* needs a quoted name; one instance per name */
};

/* Sources, accounts, views, alerts and notify channels are named sections
 * kept as key/value lists (struct es_config_source); [sla] and [helpdesk]
 * are one such list each. */
static const struct sect_spec sections[] = {
    { "earshot", SEC_EARSHOT, 0 },
    { "http", SEC_HTTP, 0 },
    { "classifier", SEC_CLASSIFIER, 0 },
    { "priority", SEC_PRIORITY, 0 },
    { "source", SEC_SOURCE, 1 },
    { "account", SEC_ACCOUNT, 1 },
    { "view", SEC_VIEW, 1 },
    { "sla", SEC_SLA, 0 },
    { "helpdesk", SEC_HELPDESK, 0 },
    { "alert", SEC_ALERT, 1 },
    { "notify", SEC_NOTIFY, 1 },
};

enum key_type {
    T_STRING,  /* any text */
    T_PATH,    /* a file path; relative ones start at the config's folder */
    T_URL,     /* http://, https:// or file:; relative file: as T_PATH */
    T_BOOL,    /* yes/no/true/false/1/0, stored as an int 1/0 */
    T_INT,     /* decimal integer */
    T_SECONDS, /* integer seconds, or with an s, m or h suffix */
    T_MSEC,    /* as T_SECONDS in the file, stored in milliseconds */
    T_BYTES,   /* integer bytes, or with a k or M suffix (1024-based) */
    T_REAL,    /* decimal number, "12" or "0.5", stored as a double */
};

enum key_flags {
    KEY_SECRET = 1 << 0,   /* messages name the key, never the value */
    KEY_REQUIRED = 1 << 1, /* the section is unusable without it */
    KEY_LIST = 1 << 2,     /* may repeat; each value is a comma-separated
                              list; field is a `const char **` array and
                              count_offset its size_t count */
};

/* Extra validation after the type's own: returns 0, or non-zero after
 * pointing *what at a static noun ("log level") and *hint at the values
 * expected; the caller writes "bad WHAT 'value' for 'key' in [section]
 * (expected HINT)". */
typedef int (*key_check_fn)(const char *value, const char **what,
                            const char **hint);

struct key_spec {
    enum sect_kind sect;
    const char *name;
    enum key_type type;
    unsigned flags;      /* enum key_flags */
    const char *def;     /* default in file syntax; NULL: unset */
    long min, max;       /* numbers: accepted range, in file units */
    size_t offset;       /* field in the section's struct ... */
    size_t size;         /* ... and its size; 0: kept in kv only */
    key_check_fn check;  /* or NULL */
    size_t count_offset; /* KEY_LIST: the count beside the array */
};

static int check_log_level(const char *value, const char **what,
                           const char **hint);
static int check_bucket(const char *value, const char **what,
                        const char **hint);
static int check_notify_type(const char *value, const char **what,
                             const char **hint);
static int check_cue_phrase(const char *value, const char **what,
                            const char **hint);

#define CFG(m) offsetof(struct es_config, m), sizeof(((struct es_config *)0)->m)
#define HTTP(m)                                                                \
    offsetof(struct es_config_http, m), sizeof(((struct es_config_http *)0)->m)
#define SRC(m)                                                                 \
    offsetof(struct es_config_source, m),                                      \
        sizeof(((struct es_config_source *)0)->m)
#define CLS(m)                                                                 \
    offsetof(struct es_config_classifier, m),                                  \
        sizeof(((struct es_config_classifier *)0)->m)
#define PRIO(m)                                                                \
    offsetof(struct es_config_priority, m),                                    \
        sizeof(((struct es_config_priority *)0)->m)
#define KV_ONLY 0, 0
/* The count of a KEY_LIST array, after the check. */
#define COUNT(type, m) offsetof(struct type, m)

#define DAY (24L * 3600)

/* Every key earshot knows. Source kinds read their own keys from
 * es_config_source.kv, so a key for a new kind is one line here (KV_ONLY)
 * plus its documentation in config/earshot.conf. */
/* clang-format off */
static const struct key_spec keys[] = {
/*  section         key                type       flags         default min   max       field                     check            list count */
    { SEC_EARSHOT,    "database",        T_PATH,    0,            NULL,   0,    0,        CFG(database),            NULL,            0 },
    { SEC_EARSHOT,    "data_dir",        T_PATH,    0,            NULL,   0,    0,        CFG(data_dir),            NULL,            0 },
    { SEC_EARSHOT,    "log_level",       T_STRING,  0,            "info", 0,    0,        CFG(log_level),           check_log_level, 0 },
    { SEC_EARSHOT,    "agent",           T_STRING,  0,            NULL,   0,    0,        CFG(agent),               NULL,            0 },
    { SEC_EARSHOT,    "claim_ttl",       T_SECONDS, 0,            "10m",  10,   DAY,      CFG(claim_ttl),           NULL,            0 },
    { SEC_HTTP,       "connect_timeout", T_MSEC,    0,            "10",   1,    300,      HTTP(connect_timeout_ms), NULL,            0 },
    { SEC_HTTP,       "timeout",         T_MSEC,    0,            "30",   1,    3600,     HTTP(timeout_ms),         NULL,            0 },
    { SEC_HTTP,       "max_body",        T_BYTES,   0,            "16M",  1024, 1L << 30, HTTP(max_body),           NULL,            0 },
    { SEC_HTTP,       "max_redirects",   T_INT,     0,            "5",    0,    20,       HTTP(max_redirects),      NULL,            0 },
    { SEC_HTTP,       "max_parallel",    T_INT,     0,            "32",   1,    64,       HTTP(max_parallel),       NULL,            0 },
    { SEC_CLASSIFIER, "lexicon",         T_PATH,    0,            NULL,   0,    0,        CLS(lexicon),             NULL,            0 },
    { SEC_CLASSIFIER, "overlay",         T_PATH,    KEY_LIST,     NULL,   0,    0,        CLS(overlays),            NULL,            COUNT(es_config_classifier, noverlays) },
    { SEC_PRIORITY,   "weight_negative", T_REAL,    0,            "40",   0,    100,      PRIO(weight_negative),    NULL,            0 },
    { SEC_PRIORITY,   "weight_urgency",  T_REAL,    0,            "30",   0,    100,      PRIO(weight_urgency),     NULL,            0 },
    { SEC_PRIORITY,   "weight_reach",    T_REAL,    0,            "10",   0,    100,      PRIO(weight_reach),       NULL,            0 },
    { SEC_PRIORITY,   "weight_rating",   T_REAL,    0,            "20",   0,    100,      PRIO(weight_rating),      NULL,            0 },
    { SEC_PRIORITY,   "weight_direct",   T_REAL,    0,            "10",   0,    100,      PRIO(weight_direct),      NULL,            0 },
    { SEC_PRIORITY,   "weight_age",      T_REAL,    0,            "20",   0,    100,      PRIO(weight_age),         NULL,            0 },
    { SEC_PRIORITY,   "brand",           T_STRING,  KEY_LIST,     NULL,   0,    0,        PRIO(brands),             NULL,            COUNT(es_config_priority, nbrands) },
    { SEC_PRIORITY,   "safety_words",    T_STRING,  KEY_LIST,     NULL,   0,    0,        PRIO(safety_words),       check_cue_phrase, COUNT(es_config_priority, nsafety_words) },
    { SEC_PRIORITY,   "security_words",  T_STRING,  KEY_LIST,     NULL,   0,    0,        PRIO(security_words),     check_cue_phrase, COUNT(es_config_priority, nsecurity_words) },
    { SEC_PRIORITY,   "vulnerable_words", T_STRING, KEY_LIST,     NULL,   0,    0,        PRIO(vulnerable_words),   check_cue_phrase, COUNT(es_config_priority, nvulnerable_words) },
    { SEC_PRIORITY,   "urgent_words",    T_STRING,  KEY_LIST,     NULL,   0,    0,        PRIO(urgent_words),       check_cue_phrase, COUNT(es_config_priority, nurgent_words) },
    { SEC_PRIORITY,   "outage_words",    T_STRING,  KEY_LIST,     NULL,   0,    0,        PRIO(outage_words),       check_cue_phrase, COUNT(es_config_priority, noutage_words) },
    { SEC_SOURCE,     "type",            T_STRING,  KEY_REQUIRED, NULL,   0,    0,        SRC(type),                NULL,            0 },
    { SEC_SOURCE,     "url",             T_URL,     0,            NULL,   0,    0,        SRC(url),                 NULL,            0 },
    { SEC_SOURCE,     "interval",        T_SECONDS, 0,            "0",    0,    30 * DAY, SRC(interval),            NULL,            0 },
    { SEC_SOURCE,     "enabled",         T_BOOL,    0,            "yes",  0,    1,        SRC(enabled),             NULL,            0 },
    { SEC_SOURCE,     "base_url",        T_URL,     0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_SOURCE,     "query",           T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_SOURCE,     "token",           T_STRING,  KEY_SECRET,   NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_SOURCE,     "token_file",      T_PATH,    0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_SOURCE,     "tag",             T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_SOURCE,     "mentions",        T_BOOL,    0,            NULL,   0,    1,        KV_ONLY,                  NULL,            0 },
    { SEC_SOURCE,     "own_posts",       T_BOOL,    0,            NULL,   0,    1,        KV_ONLY,                  NULL,            0 },
    { SEC_SOURCE,     "context",         T_BOOL,    0,            NULL,   0,    1,        KV_ONLY,                  NULL,            0 },
    { SEC_SOURCE,     "max_pages",       T_INT,     0,            NULL,   1,    10,       KV_ONLY,                  NULL,            0 },
    { SEC_SOURCE,     "handle",          T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_SOURCE,     "app_password",    T_STRING,  KEY_SECRET,   NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_SOURCE,     "subreddit",       T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_SOURCE,     "user_agent",      T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_SOURCE,     "client_id",       T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_SOURCE,     "client_secret",   T_STRING,  KEY_SECRET,   NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_SOURCE,     "username",        T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_SOURCE,     "password",        T_STRING,  KEY_SECRET,   NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_SOURCE,     "user_id",         T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_SOURCE,     "channel",         T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_SOURCE,     "videos",          T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_SOURCE,     "app_id",          T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_SOURCE,     "country",         T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_SOURCE,     "format",          T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_SOURCE,     "package",         T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_SOURCE,     "command",         T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_SOURCE,     "path",            T_PATH,    0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_ACCOUNT,    "type",            T_STRING,  KEY_REQUIRED, NULL,   0,    0,        SRC(type),                NULL,            0 },
    { SEC_ACCOUNT,    "base_url",        T_URL,     0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_ACCOUNT,    "token",           T_STRING,  KEY_SECRET,   NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_ACCOUNT,    "token_file",      T_PATH,    0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_ACCOUNT,    "handle",          T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_ACCOUNT,    "app_password",    T_STRING,  KEY_SECRET,   NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_ACCOUNT,    "client_id",       T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_ACCOUNT,    "client_secret",   T_STRING,  KEY_SECRET,   NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_ACCOUNT,    "username",        T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_ACCOUNT,    "password",        T_STRING,  KEY_SECRET,   NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_ACCOUNT,    "user_id",         T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_ACCOUNT,    "package",         T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_ACCOUNT,    "user_agent",      T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_VIEW,       "state",           T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_VIEW,       "source",          T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_VIEW,       "platform",        T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_VIEW,       "label",           T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_VIEW,       "lang",            T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_VIEW,       "tag",             T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_VIEW,       "assignee",        T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_VIEW,       "search",          T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_VIEW,       "limit",           T_INT,     0,            NULL,   1,    100000,   KV_ONLY,                  NULL,            0 },
    { SEC_SLA,        "first_response",  T_SECONDS, 0,            "4h",   1,    30 * DAY, KV_ONLY,                  NULL,            0 },
    { SEC_SLA,        "negative_first_response", T_SECONDS, 0,            "30m",  1,    30 * DAY, KV_ONLY,                  NULL,            0 },
    { SEC_SLA,        "high_priority",   T_INT,     0,            "70",   0,    100,      KV_ONLY,                  NULL,            0 },
    { SEC_SLA,        "high_priority_first_response", T_SECONDS, 0,            "30m",  1,    30 * DAY, KV_ONLY,                  NULL,            0 },
    { SEC_SLA,        "resolution",      T_SECONDS, 0,            "24h",  1,    30 * DAY, KV_ONLY,                  NULL,            0 },
    { SEC_HELPDESK,   "webhook_url",     T_URL,     0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_HELPDESK,   "secret",          T_STRING,  KEY_SECRET,   NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_HELPDESK,   "enabled",         T_BOOL,    0,            "yes",  0,    1,        KV_ONLY,                  NULL,            0 },
    { SEC_ALERT,      "series",          T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_ALERT,      "bucket",          T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  check_bucket,    0 },
    { SEC_ALERT,      "sensitivity",     T_REAL,    0,            NULL,   0,    100,      KV_ONLY,                  NULL,            0 },
    { SEC_ALERT,      "min_count",       T_INT,     0,            NULL,   1,    1000000,  KV_ONLY,                  NULL,            0 },
    { SEC_ALERT,      "cooldown",        T_SECONDS, 0,            NULL,   0,    30 * DAY, KV_ONLY,                  NULL,            0 },
    { SEC_ALERT,      "notify",          T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_ALERT,      "enabled",         T_BOOL,    0,            NULL,   0,    1,        KV_ONLY,                  NULL,            0 },
    { SEC_NOTIFY,     "type",            T_STRING,  KEY_REQUIRED, NULL,   0,    0,        SRC(type),               check_notify_type, 0 },
    { SEC_NOTIFY,     "url",             T_URL,     0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_NOTIFY,     "secret",          T_STRING,  KEY_SECRET,   NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_NOTIFY,     "smtp_url",        T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_NOTIFY,     "from",            T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_NOTIFY,     "to",              T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_NOTIFY,     "username",        T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_NOTIFY,     "password",        T_STRING,  KEY_SECRET,   NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_NOTIFY,     "starttls",        T_BOOL,    0,            NULL,   0,    1,        KV_ONLY,                  NULL,            0 },
    { SEC_NOTIFY,     "command",         T_STRING,  0,            NULL,   0,    0,        KV_ONLY,                  NULL,            0 },
    { SEC_NOTIFY,     "timeout",         T_SECONDS, 0,            NULL,   1,    3600,     KV_ONLY,                  NULL,            0 },
};
/* clang-format on */

static int check_bucket(const char *value, const char **what, const char **hint)
{
    if (strcmp(value, "5m") == 0 || strcmp(value, "1h") == 0 ||
        strcmp(value, "1d") == 0)
        return 0;
    *what = "bucket";
    *hint = "5m, 1h or 1d";
    return -1;
}

static int check_notify_type(const char *value, const char **what,
                             const char **hint)
{
    static const char *const types[] = { "slack", "webhook", "email",
                                         "command" };
    for (size_t i = 0; i < sizeof(types) / sizeof(*types); i++)
        if (strcmp(value, types[i]) == 0)
            return 0;
    *what = "notify type";
    *hint = "slack, webhook, email or command";
    return -1;
}

static const char *const log_levels[] = { "error", "warn", "info", "debug" };

static int check_log_level(const char *value, const char **what,
                           const char **hint)
{
    for (size_t i = 0; i < ARRAY_SIZE(log_levels); i++)
        if (strcmp(value, log_levels[i]) == 0)
            return 0;
    *what = "log level";
    *hint = "error, warn, info or debug";
    return -1;
}

/* The words of a cue phrase as the priority scorer splits them
 * (classifier/priority.c): runs of ASCII letters, digits, ' and _ and of
 * other UTF-8 letters; the punctuation of U+2000..U+206F separates. */
static size_t cue_phrase_words(const char *s)
{
    size_t n = 0;
    int in = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        int word;
        size_t len = 1;
        if (*p < 0x80) {
            word = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                   (*p >= '0' && *p <= '9') || *p == '\'' || *p == '_';
        } else {
            while (p[len] >= 0x80 && p[len] < 0xC0)
                len++;
            /* E2 80 xx and E2 81 xx: dashes, quotes, spaces; but the
             * curly apostrophes (E2 80 98, E2 80 99) are apostrophes. */
            word = (!(p[0] == 0xE2 && (p[1] == 0x80 || p[1] == 0x81)) ||
                    (p[1] == 0x80 && (p[2] == 0x98 || p[2] == 0x99))) &&
                   !(p[0] == 0xC2 && p[1] == 0xA0);
        }
        if (word && !in)
            n++;
        in = word;
        p += len;
    }
    return n;
}

/* A cue phrase of the brand's own: one to four words, as the scorer
 * splits them (ES_PRIORITY_PHRASE_MAX; a longer one would never match). */
static int check_cue_phrase(const char *value, const char **what,
                            const char **hint)
{
    size_t n = cue_phrase_words(value);
    if (n >= 1 && n <= 4)
        return 0;
    *what = n ? "cue phrase (too many words)" : "cue phrase (no words)";
    *hint = "a phrase of one to four words, phrases separated by commas";
    return -1;
}

static const struct sect_spec *find_section(const char *name, size_t len)
{
    for (size_t i = 0; i < ARRAY_SIZE(sections); i++)
        if (strlen(sections[i].name) == len &&
            memcmp(sections[i].name, name, len) == 0)
            return &sections[i];
    return NULL;
}

static const struct sect_spec *section_of(enum sect_kind kind)
{
    for (size_t i = 0; i < ARRAY_SIZE(sections); i++)
        if (sections[i].kind == kind)
            return &sections[i];
    return NULL;
}

/* Returns the index of @name in section @kind, or -1. */
static int find_key(enum sect_kind kind, const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
        if (keys[i].sect == kind && strcmp(keys[i].name, name) == 0)
            return (int)i;
    return -1;
}

int es_config__key_info(size_t i, struct es_config__keyinfo *out)
{
    if (i >= ARRAY_SIZE(keys))
        return ES_ENOTFOUND;
    const struct sect_spec *sec = section_of(keys[i].sect);
    out->section = sec->name;
    out->named = sec->named;
    out->name = keys[i].name;
    out->def = keys[i].def;
    out->secret = (keys[i].flags & KEY_SECRET) != 0;
    return 0;
}

/* ==== Reading values ==== */

/* Reads a decimal integer followed by an optional one-letter suffix from
 * @units (with its multiplier in @mult). Returns 0, -1 when the text is not
 * of that form, or 1 when it is but overflows a long. */
static int parse_number(const char *s, const char *units, const long *mult,
                        long *out)
{
    const char *p = s;
    if (*p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return -1;
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    int overflow = errno == ERANGE;
    long m = 1;
    if (*end != '\0') {
        const char *u = units ? strchr(units, *end) : NULL;
        if (!u || end[1] != '\0')
            return -1;
        m = mult[u - units];
    }
    if (overflow || n > LONG_MAX / m || n < LONG_MIN / m)
        return 1;
    *out = n * m;
    return 0;
}

/* Reads a plain decimal number: digits with an optional '-' and
 * fraction, "12", "0.5", "-3.25"; no '+', exponent, hex, inf or nan (as
 * parse_number() takes no '+'). Returns 0, or -1 when the text is not of
 * that form. */
static int parse_real(const char *s, double *out)
{
    const char *p = s;
    int digits = 0;
    if (*p == '-')
        p++;
    for (; *p >= '0' && *p <= '9'; p++)
        digits++;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            digits++;
    if (*p != '\0' || digits == 0)
        return -1;
    *out = strtod(s, NULL);
    return 0;
}

static int parse_bool(const char *s, long *out)
{
    static const char *const yes[] = { "yes", "true", "1" };
    static const char *const no[] = { "no", "false", "0" };
    for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}

/* Appends @s with every byte that may not appear raw in a URL path
 * percent-encoded. '%' itself is kept when @keep_pct (the user may have
 * encoded already). */
static void add_url_path(struct es_buf *out, const char *s, int keep_pct)
{
    static const char safe[] = "-._~!$&'()*+,;=:@/";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') || strchr(safe, *p) ||
            (keep_pct && *p == '%'))
            es_buf_addch(out, *p);
        else
            es_buf_addf(out, "%%%02X", *p);
    }
}

/* Returns @path made absolute against @dir (as is when @dir is NULL or
 * @path is absolute). The caller frees the result. */
static char *resolve_path(const char *dir, const char *path)
{
    if (!dir || path[0] == '/')
        return es_xstrdup(path);
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    size_t n = strlen(dir);
    return es_xasprintf("%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", path);
}

/* Turns `file:REL` into `file:///DIR/REL` and `file:/ABS` into
 * `file:///ABS`, percent-encoding what a URL cannot hold raw; leaves every
 * other URL alone, and a relative one too when @dir is unknown. The caller
 * frees the result. */
static char *resolve_url(const char *dir, const char *url)
{
    if (strncasecmp(url, "file:", 5) != 0 || strncmp(url + 5, "//", 2) == 0)
        return es_xstrdup(url);
    const char *path = url + 5;
    if (path[0] != '/' && !dir)
        return es_xstrdup(url);
    struct es_buf b = ES_BUF_INIT;
    es_buf_adds(&b, "file://");
    if (path[0] != '/') {
        add_url_path(&b, dir, 0);
        if (b.ptr[b.len - 1] != '/')
            es_buf_addch(&b, '/');
        while (path[0] == '.' && path[1] == '/')
            path += 2;
    }
    add_url_path(&b, path, 1);
    return es_buf_detach(&b);
}

static int url_scheme_ok(const char *url)
{
    return strncasecmp(url, "http://", 7) == 0 ||
           strncasecmp(url, "https://", 8) == 0 ||
           strncasecmp(url, "file:", 5) == 0;
}

/* ==== The loader ==== */

struct loader {
    struct es_config *cfg;
    const char *text;             /* whole file, NUL-terminated */
    size_t len;                   /* bytes in @text */
    size_t pos;                   /* next byte the reader hands to inih */
    int line;                     /* line being parsed, 1-based */
    int line_start;               /* the next read begins a new line */
    int failed;                   /* a message is set; stop everything */
    const struct sect_spec *sect; /* current section, NULL before one */
    size_t src;                   /* index in cfg->sources when named */
    int sect_line;                /* line of the current header */
    struct es_buf where;          /* "[http]" or "[source \"hn\"]" */
    int seen[ARRAY_SIZE(keys)];   /* line where each key was set, or 0 */
};

/* Records "FILE:LINE: problem" as the error; returns ES_EINVALID. */
__attribute__((format(printf, 3, 4))) static int
fail(struct loader *ld, int line, const char *fmt, ...)
{
    struct es_buf msg = ES_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    es_buf_vaddf(&msg, fmt, ap);
    va_end(ap);
    /* Names and values quoted from the file may hold anything; the
     * message goes to terminals and JSON, so keep it clean UTF-8. */
    struct es_buf clean = ES_BUF_INIT;
    es_buf_add_valid_utf8(&clean, msg.ptr, msg.len);
    for (size_t i = 0; i < clean.len; i++)
        if ((unsigned char)clean.ptr[i] < 0x20 || clean.ptr[i] == 0x7f)
            clean.ptr[i] = '?';
    es_error_set(ES_EINVALID, "%s:%d: %s", ld->cfg->file, line, clean.ptr);
    es_buf_release(&clean);
    es_buf_release(&msg);
    ld->failed = 1;
    return ES_EINVALID;
}

/* Gives @s to the config, which frees it in es_config_free(). */
static const char *keep(struct es_config *cfg, char *s)
{
    if (cfg->npool == cfg->pool_cap) {
        cfg->pool_cap = cfg->pool_cap ? cfg->pool_cap * 2 : 64;
        cfg->pool = es_xrealloc(cfg->pool, cfg->pool_cap * sizeof(*cfg->pool));
    }
    cfg->pool[cfg->npool++] = s;
    return s;
}

/* ==== Sources by name ====
 *
 * A config may list thousands of sources, and each poll result and each
 * line of `earshot sources` looks one up by name: a hash index keeps that
 * (and the duplicate check of the loader) from growing with the square of
 * their number. */

static size_t name_hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (size_t)h;
}

/* The slot of source @name in the index: the one holding it, or the
 * empty one where it would go. The index must exist. */
static size_t *source_slot(const struct es_config *cfg, const char *name)
{
    size_t i = name_hash(name) & cfg->source_mask;
    for (;;) {
        size_t *slot = &cfg->source_slots[i];
        if (*slot == 0 || strcmp(cfg->sources[*slot - 1].name, name) == 0)
            return slot;
        i = (i + 1) & cfg->source_mask;
    }
}

/* Indexes cfg->sources[@idx] by name, growing the index to stay at most
 * half full. */
static void source_index_add(struct es_config *cfg, size_t idx)
{
    size_t cap = cfg->source_slots ? cfg->source_mask + 1 : 0;
    if ((idx + 1) * 2 > cap) {
        size_t ncap = cap ? cap * 2 : 64;
        free(cfg->source_slots);
        cfg->source_slots = es_xcalloc(ncap, sizeof(*cfg->source_slots));
        cfg->source_mask = ncap - 1;
        for (size_t i = 0; i < idx; i++)
            *source_slot(cfg, cfg->sources[i].name) = i + 1;
    }
    *source_slot(cfg, cfg->sources[idx].name) = idx + 1;
}

/* Writes "PROBLEM 'VALUE' for 'KEY' in WHERE (expected HINT)" to @why,
 * leaving the value out when the key is a secret. @hint may be NULL. */
static void describe(struct es_buf *why, const struct key_spec *k,
                     const char *problem, const char *value, const char *where,
                     const char *hint)
{
    es_buf_adds(why, problem);
    if (!(k->flags & KEY_SECRET))
        es_buf_addf(why, " '%s'", value);
    es_buf_addf(why, " for '%s' in %s", k->name, where);
    if (hint)
        es_buf_addf(why, " (expected %s)", hint);
}

/* Stores a number in a field of either int or long size. */
static void store_number(void *field, size_t size, long n)
{
    if (size == sizeof(int)) {
        int v = (int)n;
        memcpy(field, &v, sizeof(v));
    } else {
        assert(size == sizeof(long));
        memcpy(field, &n, sizeof(n));
    }
}

/* Reads @value as key @k of section @where, checks it and stores it in
 * @target (the struct of the key's section). On success *kv_value, when
 * not NULL, is set to the text to keep in kv (the resolved value).
 * Returns 0 or ES_EINVALID with the problem (no file:line) in @why. */
static int convert(const struct key_spec *k, const char *value,
                   const char *where, struct es_config *cfg, void *target,
                   const char **kv_value, struct es_buf *why)
{
    static const char *const type_word[] = {
        [T_BOOL] = "bad boolean",     [T_INT] = "bad integer",
        [T_SECONDS] = "bad duration", [T_MSEC] = "bad duration",
        [T_BYTES] = "bad size",       [T_REAL] = "bad number",
    };
    static const char *const type_hint[] = {
        [T_BOOL] = "yes, no, true, false, 1 or 0",
        [T_SECONDS] = "seconds, or a number with s, m or h",
        [T_MSEC] = "seconds, or a number with s, m or h",
        [T_BYTES] = "bytes, or a number with k or M",
        [T_REAL] = "a number such as 12 or 0.5",
    };
    static const long secs[] = { 1, 60, 3600 };
    static const long bytes[] = { 1024, 1024, 1024L * 1024 };
    struct es_buf range = ES_BUF_INIT;
    const char *what = NULL, *hint = NULL;
    char *s = NULL;
    long n = 0;
    double d = 0;
    int r = 0;
    int rc = ES_EINVALID;

    if (*value == '\0' && (k->type != T_STRING || (k->flags & KEY_REQUIRED))) {
        es_buf_addf(why, "empty value for '%s' in %s", k->name, where);
        goto done;
    }
    switch (k->type) {
    case T_STRING:
        s = es_xstrdup(value);
        break;
    case T_PATH:
        s = resolve_path(cfg->dir, value);
        break;
    case T_URL:
        if (!url_scheme_ok(value)) {
            describe(why, k, "unsupported URL", value, where,
                     "http://, https:// or file:");
            goto done;
        }
        s = resolve_url(cfg->dir, value);
        break;
    case T_BOOL:
        r = parse_bool(value, &n);
        break;
    case T_INT:
        r = parse_number(value, NULL, NULL, &n);
        break;
    case T_SECONDS:
    case T_MSEC:
        r = parse_number(value, "smh", secs, &n);
        break;
    case T_BYTES:
        r = parse_number(value, "kKM", bytes, &n);
        break;
    case T_REAL:
        r = parse_real(value, &d);
        break;
    }
    if (r < 0) {
        describe(why, k, type_word[k->type], value, where, type_hint[k->type]);
        goto done;
    }
    if (k->type == T_REAL && (d < (double)k->min || d > (double)k->max)) {
        es_buf_addf(&range, "%ld to %ld", k->min, k->max);
        describe(why, k, "out-of-range value", value, where, range.ptr);
        goto done;
    }
    if (!s && k->type != T_REAL && (r > 0 || n < k->min || n > k->max)) {
        es_buf_addf(&range, "%ld to %ld%s", k->min, k->max,
                    k->type == T_BYTES                          ? " bytes"
                    : k->type == T_SECONDS || k->type == T_MSEC ? " seconds"
                                                                : "");
        describe(why, k, "out-of-range value", value, where, range.ptr);
        goto done;
    }
    if (k->check && k->check(s ? s : value, &what, &hint) != 0) {
        es_buf_addf(why, "bad %s", what);
        describe(why, k, "", value, where, hint);
        goto done;
    }

    if (s) {
        keep(cfg, s);
        if (k->size)
            memcpy((char *)target + k->offset, &s, sizeof(s));
        if (kv_value)
            *kv_value = s;
        s = NULL;
    } else if (k->type == T_REAL) {
        if (k->size) {
            assert(k->size == sizeof(d));
            memcpy((char *)target + k->offset, &d, sizeof(d));
        }
        if (kv_value)
            *kv_value = keep(cfg, es_xstrdup(value));
    } else {
        if (k->type == T_MSEC)
            n *= 1000;
        if (k->size)
            store_number((char *)target + k->offset, k->size, n);
        if (kv_value)
            *kv_value = keep(cfg, es_xstrdup(value));
    }
    rc = 0;
done:
    free(s);
    es_buf_release(&range);
    return rc;
}

/* Expands ${NAME} from the environment and $$ to $ in @value, into @out.
 * A lone $ before anything else is kept as is. */
static int expand_env(struct loader *ld, const struct key_spec *k,
                      const char *value, struct es_buf *out)
{
    for (const char *p = value; *p;) {
        if (p[0] != '$') {
            size_t n = strcspn(p, "$");
            es_buf_add(out, p, n);
            p += n;
            continue;
        }
        if (p[1] == '$') {
            es_buf_addch(out, '$');
            p += 2;
            continue;
        }
        if (p[1] != '{') {
            es_buf_addch(out, '$');
            p++;
            continue;
        }
        const char *name = p + 2;
        size_t n = strcspn(name, "}");
        if (name[n] != '}')
            return fail(ld, ld->line,
                        "unterminated '${' in value of '%s' in %s", k->name,
                        ld->where.ptr);
        int ok = n > 0 && !(name[0] >= '0' && name[0] <= '9');
        for (size_t i = 0; i < n && ok; i++) {
            char c = name[i];
            ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                 (c >= '0' && c <= '9') || c == '_';
        }
        if (!ok)
            return fail(ld, ld->line,
                        "bad variable name in '${...}' in value of '%s' in %s",
                        k->name, ld->where.ptr);
        char *var = es_xstrndup(name, n);
        const char *env = getenv(var);
        if (!env) {
            fail(ld, ld->line, "environment variable '%s' is not set", var);
            free(var);
            return ES_EINVALID;
        }
        free(var);
        es_buf_adds(out, env);
        p = name + n + 1;
    }
    return 0;
}

/* Returns what is wrong with @s (@len bytes) as text: "control
 * character", "invalid UTF-8", or NULL when it is clean. A tab is fine. */
static const char *text_problem(const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return "control character";
        if (c < 0x80) {
            i++;
            continue;
        }
        unsigned long cp;
        size_t n = es_utf8_decode(s + i, len - i, &cp);
        if (n == 0)
            return "invalid UTF-8";
        i += n;
    }
    return NULL;
}

/* Values end up in HTTP headers, SQL and JSON: no control characters (a
 * newline from an environment variable would inject a header) and no
 * invalid UTF-8. The value itself is never quoted: it may be a secret. */
static int check_text(struct loader *ld, const struct key_spec *k,
                      const char *s, size_t len)
{
    const char *problem = text_problem(s, len);
    if (problem)
        return fail(ld, ld->line, "%s in value of '%s' in %s", problem, k->name,
                    ld->where.ptr);
    return 0;
}

/* Checks the section that just ended: its required keys. */
static int finish_section(struct loader *ld)
{
    if (!ld->sect)
        return 0;
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
        if (keys[i].sect == ld->sect->kind && (keys[i].flags & KEY_REQUIRED) &&
            !ld->seen[i])
            return fail(ld, ld->sect_line, "missing '%s' in %s", keys[i].name,
                        ld->where.ptr);
    return 0;
}

/* Applies the defaults of every key of @kind to @target. The defaults are
 * constants of ours: one that does not parse is a bug, hence the assert. */
static void apply_defaults(struct es_config *cfg, enum sect_kind kind,
                           void *target)
{
    struct es_buf why = ES_BUF_INIT;
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        if (keys[i].sect != kind || !keys[i].def)
            continue;
        int rc =
            convert(&keys[i], keys[i].def, "defaults", cfg, target, NULL, &why);
        assert(rc == 0);
        (void)rc;
    }
    es_buf_release(&why);
}

/* The slot in es_config.kvs of a key/value section kind other than
 * [source]. */
static int kvs_of(enum sect_kind kind)
{
    switch (kind) {
    case SEC_ACCOUNT:
        return KVS_ACCOUNT;
    case SEC_VIEW:
        return KVS_VIEW;
    case SEC_SLA:
        return KVS_SLA;
    case SEC_HELPDESK:
        return KVS_HELPDESK;
    case SEC_ALERT:
        return KVS_ALERT;
    case SEC_NOTIFY:
        return KVS_NOTIFY;
    default:
        return -1;
    }
}

/* Appends a key/value section to @list (of *@n) named @name, from line
 * @line. Returns its index. */
static size_t add_kv_section(struct es_config *cfg,
                             struct es_config_source **list, size_t *n,
                             const char *name, int line)
{
    *list = es_xrealloc(*list, (*n + 1) * sizeof(**list));
    struct es_config_source *src = &(*list)[*n];
    memset(src, 0, sizeof(*src));
    src->name = name;
    src->file = cfg->file;
    src->line = line;
    src->enabled = 1;
    return (*n)++;
}

static void *section_target(struct loader *ld)
{
    switch (ld->sect->kind) {
    case SEC_EARSHOT:
        return ld->cfg;
    case SEC_HTTP:
        return &ld->cfg->http;
    case SEC_CLASSIFIER:
        return &ld->cfg->classifier;
    case SEC_PRIORITY:
        return &ld->cfg->priority;
    case SEC_SOURCE:
        return &ld->cfg->sources[ld->src];
    case SEC_ACCOUNT:
    case SEC_VIEW:
    case SEC_SLA:
    case SEC_HELPDESK:
    case SEC_ALERT:
    case SEC_NOTIFY:
        return &ld->cfg->kvs[kvs_of(ld->sect->kind)][ld->src];
    }
    return NULL;
}

/* Starts section @sec named @name (NULL for unnamed kinds). */
static int begin_section(struct loader *ld, const struct sect_spec *sec,
                         char *name)
{
    struct es_config *cfg = ld->cfg;
    ld->sect = sec;
    ld->sect_line = ld->line;
    es_buf_reset(&ld->where);
    if (!sec->named) {
        es_buf_addf(&ld->where, "[%s]", sec->name);
        free(name);
        int slot = kvs_of(sec->kind);
        if (slot >= 0) {
            /* One list for the section however often it appears. */
            if (cfg->nkvs[slot] == 0)
                add_kv_section(cfg, &cfg->kvs[slot], &cfg->nkvs[slot],
                               sec->name, ld->line);
            ld->src = 0;
        }
        return 0;
    }
    es_buf_addf(&ld->where, "[%s \"", sec->name);
    for (const char *c = name; *c; c++) {
        if (*c == '"' || *c == '\\')
            es_buf_addch(&ld->where, '\\');
        es_buf_addch(&ld->where, *c);
    }
    es_buf_adds(&ld->where, "\"]");
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
        if (keys[i].sect == sec->kind)
            ld->seen[i] = 0;
    int slot = kvs_of(sec->kind);
    if (slot >= 0) {
        for (size_t i = 0; i < cfg->nkvs[slot]; i++) {
            if (strcmp(cfg->kvs[slot][i].name, name) == 0) {
                fail(ld, ld->line,
                     "duplicate %s '%s' (first defined at line %d)", sec->name,
                     name, cfg->kvs[slot][i].line);
                free(name);
                return ES_EINVALID;
            }
        }
        ld->src = add_kv_section(cfg, &cfg->kvs[slot], &cfg->nkvs[slot],
                                 keep(cfg, name), ld->line);
        apply_defaults(cfg, sec->kind, &cfg->kvs[slot][ld->src]);
        return 0;
    }
    const struct es_config_source *dup = es_config_source_find(cfg, name);
    if (dup) {
        fail(ld, ld->line, "duplicate source '%s' (first defined at line %d)",
             name, dup->line);
        free(name);
        return ES_EINVALID;
    }
    if (cfg->nsources == cfg->sources_cap) {
        cfg->sources_cap = cfg->sources_cap ? cfg->sources_cap * 2 : 16;
        cfg->sources =
            es_xrealloc(cfg->sources, cfg->sources_cap * sizeof(*cfg->sources));
    }
    struct es_config_source *src = &cfg->sources[cfg->nsources];
    memset(src, 0, sizeof(*src));
    src->name = keep(cfg, name);
    src->file = cfg->file;
    src->line = ld->line;
    ld->src = cfg->nsources++;
    source_index_add(cfg, ld->src);
    apply_defaults(cfg, sec->kind, src);
    return 0;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Parses the header line @p (@len bytes, no newline): `[kind]` or
 * `[kind "name"]`, the name with git's \" and \\ escapes, then ends the
 * previous section and starts the new one. */
static int section_header(struct loader *ld, const char *p, size_t len)
{
    const char *end = p + len;
    char *name = NULL;
    int rc = finish_section(ld);
    if (rc != 0)
        return rc;

    while (p < end && is_space(*p))
        p++;
    p++; /* the '[' the caller saw */
    while (p < end && is_space(*p))
        p++;
    const char *kind = p;
    while (p < end && !is_space(*p) && *p != ']' && *p != '"')
        p++;
    int kind_len = (int)(p - kind);
    if (kind_len == 0) {
        rc = fail(ld, ld->line, "missing section name in '[]'");
        goto done;
    }
    const struct sect_spec *sec = find_section(kind, (size_t)kind_len);
    if (!sec) {
        rc = fail(ld, ld->line, "unknown section '%.*s'", kind_len, kind);
        goto done;
    }
    while (p < end && is_space(*p))
        p++;
    if (p < end && *p == '"') {
        struct es_buf b = ES_BUF_INIT;
        for (p++; p < end && *p != '"'; p++) {
            if (*p == '\\' && p + 1 < end)
                p++;
            es_buf_addch(&b, *p);
        }
        name = es_buf_detach(&b);
        if (p >= end) {
            rc = fail(ld, ld->line, "unterminated name in section header");
            goto done;
        }
        p++;
        while (p < end && is_space(*p))
            p++;
    } else if (p < end && *p != ']') {
        const char *word = p;
        while (p < end && *p != ']' && !is_space(*p))
            p++;
        int word_len = (int)(p - word);
        rc =
            fail(ld, ld->line,
                 "unquoted name '%.*s' in section header (write [%s \"%.*s\"])",
                 word_len, word, sec->name, word_len, word);
        goto done;
    }
    if (p >= end || *p != ']') {
        rc = fail(ld, ld->line, "missing ']' in section header");
        goto done;
    }
    for (p++; p < end && is_space(*p); p++)
        ;
    if (p < end && *p != ';' && *p != '#') {
        rc = fail(ld, ld->line, "unexpected text after section header");
        goto done;
    }
    if (sec->named && !name) {
        rc = fail(ld, ld->line,
                  "missing name for section [%s] (write [%s \"NAME\"])",
                  sec->name, sec->name);
        goto done;
    }
    if (!sec->named && name) {
        rc = fail(ld, ld->line, "unexpected name '%s' for section [%s]", name,
                  sec->name);
        goto done;
    }
    if (name && name[0] == '\0') {
        rc = fail(ld, ld->line, "empty name in section [%s \"\"]", sec->name);
        goto done;
    }
    const char *problem = name ? text_problem(name, strlen(name)) : NULL;
    if (problem) {
        rc = fail(ld, ld->line, "%s in section name", problem);
        goto done;
    }
    rc = begin_section(ld, sec, name);
    name = NULL; /* begin_section took it */
done:
    free(name);
    return rc;
}

/* inih's reader (fgets-shaped). We count lines here and handle section
 * headers before inih sees them, then hand it a plain "[s]" instead: its
 * own header parsing (a 50-byte limit, inline comments inside quotes)
 * never gets a say. Returning NULL ends the parse. */
static char *read_line(char *str, int num, void *stream)
{
    static const char header[] = "[s]\n";
    struct loader *ld = stream;
    if (ld->failed || ld->pos >= ld->len || num < 2)
        return NULL;
    const char *p = ld->text + ld->pos;
    size_t n;
    if (ld->line_start) {
        ld->line++;
        if (ld->line == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0) {
            p += 3;
            ld->pos += 3;
        }
        n = strcspn(p, "\n");
        size_t content = n > 0 && p[n - 1] == '\r' ? n - 1 : n;
        if (content > MAX_LINE_BYTES) {
            fail(ld, ld->line, "line too long (over %d bytes)", MAX_LINE_BYTES);
            return NULL;
        }
        size_t lead = strspn(p, " \t");
        if (lead < n && p[lead] == '[') {
            if (section_header(ld, p, content) != 0)
                return NULL;
            ld->pos += p[n] == '\n' ? n + 1 : n;
            /* inih starts every line with its whole buffer (>= 200). */
            assert(num >= (int)sizeof(header));
            memcpy(str, header, sizeof(header));
            return str;
        }
    }
    n = strcspn(p, "\n");
    if (p[n] == '\n')
        n++;
    if (n > (size_t)num - 1)
        n = (size_t)num - 1;
    memcpy(str, p, n);
    str[n] = '\0';
    ld->pos += n;
    ld->line_start = n > 0 && str[n - 1] == '\n';
    return str;
}

/* Appends the comma-separated values of @value (blanks around each
 * trimmed, empty ones skipped) to the KEY_LIST key @k of @target, each
 * read as the key's type (a path is resolved). */
static int add_list(struct loader *ld, const struct key_spec *k,
                    const char *value, void *target)
{
    struct key_spec one = *k;
    struct es_buf why = ES_BUF_INIT;
    int added = 0, rc = 0;

    one.size = 0; /* convert() only checks and resolves; we store */
    for (const char *p = value; *p && rc == 0;) {
        size_t n = strcspn(p, ",");
        /* Trim a copy of the start: p itself moves on by n below. */
        const char *start = p, *end = p + n;
        while (start < end && (*start == ' ' || *start == '\t'))
            start++;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if (end > start) {
            char *elem = es_xstrndup(start, (size_t)(end - start));
            const char *kept = NULL;
            if (convert(&one, elem, ld->where.ptr, ld->cfg, target, &kept,
                        &why) != 0) {
                rc = fail(ld, ld->line, "%s", why.ptr);
            } else {
                const char **arr;
                size_t count;
                char *base = target;
                memcpy(&arr, base + k->offset, sizeof(arr));
                memcpy(&count, base + k->count_offset, sizeof(count));
                arr = es_xrealloc(arr, (count + 1) * sizeof(*arr));
                arr[count++] = kept;
                memcpy(base + k->offset, &arr, sizeof(arr));
                memcpy(base + k->count_offset, &count, sizeof(count));
                added++;
            }
            free(elem);
        }
        p += n;
        if (*p == ',')
            p++;
    }
    if (rc == 0 && added == 0)
        rc = fail(ld, ld->line, "empty value for '%s' in %s", k->name,
                  ld->where.ptr);
    es_buf_release(&why);
    return rc;
}

/* inih's handler: one `key = value`. Returns 1 to go on, 0 to stop. */
static int on_value(void *user, const char *section, const char *name,
                    const char *value)
{
    struct loader *ld = user;
    struct es_buf val = ES_BUF_INIT;
    struct es_buf why = ES_BUF_INIT;
    int ok = 0;
    (void)section; /* we track sections ourselves, from the reader */

    if (ld->failed)
        goto done;
    if (!ld->sect) {
        fail(ld, ld->line, "key '%s' outside any section", name);
        goto done;
    }
    int i = find_key(ld->sect->kind, name);
    if (i < 0) {
        fail(ld, ld->line, "unknown key '%s' in %s", name, ld->where.ptr);
        goto done;
    }
    const struct key_spec *k = &keys[i];
    if (ld->seen[i] && !(k->flags & KEY_LIST)) {
        fail(ld, ld->line, "duplicate key '%s' in %s (first set at line %d)",
             name, ld->where.ptr, ld->seen[i]);
        goto done;
    }
    ld->seen[i] = ld->line;
    if (expand_env(ld, k, value ? value : "", &val) != 0 ||
        check_text(ld, k, val.ptr, val.len) != 0)
        goto done;
    if (k->flags & KEY_LIST) {
        if (add_list(ld, k, val.ptr, section_target(ld)) == 0)
            ok = 1;
        goto done;
    }
    const char *kv_value = NULL;
    if (convert(k, val.ptr, ld->where.ptr, ld->cfg, section_target(ld),
                &kv_value, &why) != 0) {
        fail(ld, ld->line, "%s", why.ptr);
        goto done;
    }
    if (ld->sect->kind == SEC_SOURCE || kvs_of(ld->sect->kind) >= 0) {
        struct es_config_source *src = section_target(ld);
        src->kv = es_xrealloc(src->kv, (src->nkv + 1) * sizeof(*src->kv));
        src->kv[src->nkv].key = k->name;
        src->kv[src->nkv].value = kv_value;
        src->kv[src->nkv].line = ld->line;
        src->nkv++;
    }
    ok = 1;
done:
    es_buf_release(&val);
    es_buf_release(&why);
    return ok;
}

/* ==== Public API ==== */

static pthread_once_t inih_once = PTHREAD_ONCE_INIT;

/* Debian's inih turns its compile-time options into globals; we set them
 * once, before any parse, so that no two threads race on them. */
static void inih_setup(void)
{
    /* An indented line is a key of its own, not the continuation of the
     * previous value: git-style files are indented under their headers. */
    ini_allow_multiline = false;
    /* A heap line buffer that grows, up to our own limit. */
    ini_use_stack = false;
    ini_allow_realloc = true;
    ini_max_line = MAX_LINE_BYTES + 3;
    ini_stop_on_first_error = true;
}

/* Returns the absolute folder of config file @path (the current folder
 * when @path has none), or NULL when it cannot be found out. */
static char *folder_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir =
        slash ? es_xstrndup(path, slash == path ? 1 : (size_t)(slash - path))
              : es_xstrdup(".");
    char *abs = realpath(dir, NULL);
    if (abs) {
        free(dir);
        return abs;
    }
    if (dir[0] == '/')
        return dir;
    char cwd[PATH_MAX];
    char *res = NULL;
    if (getcwd(cwd, sizeof(cwd)))
        res = strcmp(dir, ".") == 0 ? es_xstrdup(cwd)
                                    : es_xasprintf("%s/%s", cwd, dir);
    free(dir);
    return res;
}

static struct es_config *config_alloc(const char *file)
{
    struct es_config *cfg = es_xcalloc(1, sizeof(*cfg));
    if (file) {
        cfg->file = es_xstrdup(file);
        cfg->dir = folder_of(file);
    }
    apply_defaults(cfg, SEC_EARSHOT, cfg);
    apply_defaults(cfg, SEC_HTTP, &cfg->http);
    apply_defaults(cfg, SEC_CLASSIFIER, &cfg->classifier);
    apply_defaults(cfg, SEC_PRIORITY, &cfg->priority);
    return cfg;
}

struct es_config *es_config_new(void)
{
    return config_alloc(NULL);
}

/* Parses @len bytes of @text (NUL-terminated) named @name. */
static int load(struct es_config **out, const char *text, size_t len,
                const char *name)
{
    struct loader ld;
    int rc;
    memset(&ld, 0, sizeof(ld));
    es_buf_init(&ld.where);
    ld.cfg = config_alloc(name);
    ld.text = text;
    ld.len = len;
    ld.line_start = 1;

    const char *nul = memchr(text, '\0', len);
    if (nul) {
        int line = 1;
        for (const char *p = text; p < nul; p++)
            line += *p == '\n';
        rc = fail(&ld, line, "unexpected NUL byte");
        goto done;
    }
    pthread_once(&inih_once, inih_setup);
    int r = ini_parse_stream(read_line, &ld, on_value, &ld);
    if (ld.failed) {
        rc = ES_EINVALID;
        goto done;
    }
    if (r == -2) {
        rc = es_error_set(ES_ERROR, "%s: out of memory", name);
        goto done;
    }
    if (r != 0) {
        rc = fail(&ld, ld.line,
                  "syntax error (expected 'key = value', '[section]' or a "
                  "comment)");
        goto done;
    }
    rc = finish_section(&ld);
done:
    es_buf_release(&ld.where);
    if (rc != 0) {
        es_config_free(ld.cfg);
        ld.cfg = NULL;
    }
    *out = ld.cfg;
    return rc;
}

int es_config_load_string(struct es_config **out, const char *text,
                          const char *name)
{
    assert(out && text);
    return load(out, text, strlen(text), name ? name : "config");
}

int es_config_load(struct es_config **out, const char *path)
{
    struct es_buf text = ES_BUF_INIT;
    FILE *f = NULL;
    char chunk[4096];
    char why[256];
    int rc;
    assert(out && path);
    *out = NULL;

    f = fopen(path, "rb");
    if (!f)
        goto io_error;
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        es_buf_add(&text, chunk, n);
        if (text.len > (size_t)MAX_FILE_BYTES) {
            rc = es_error_set(ES_EINVALID,
                              "config '%s' is too big (over %ld bytes)", path,
                              MAX_FILE_BYTES);
            goto done;
        }
    }
    if (ferror(f))
        goto io_error;
    rc = load(out, text.ptr, text.len, path);
    goto done;
io_error:
    if (strerror_r(errno, why, sizeof(why)) != 0)
        snprintf(why, sizeof(why), "error %d", errno);
    rc = es_error_set(ES_ENOTFOUND, "cannot read config '%s': %s", path, why);
done:
    if (f)
        fclose(f);
    es_buf_release(&text);
    return rc;
}

void es_config_free(struct es_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->npool; i++)
        free(cfg->pool[i]);
    for (size_t i = 0; i < cfg->nsources; i++)
        free(cfg->sources[i].kv);
    for (int k = 0; k < KVS__COUNT; k++) {
        for (size_t i = 0; i < cfg->nkvs[k]; i++)
            free(cfg->kvs[k][i].kv);
        free(cfg->kvs[k]);
    }
    free(cfg->pool);
    free(cfg->classifier.overlays);
    free(cfg->priority.brands);
    free(cfg->priority.safety_words);
    free(cfg->priority.security_words);
    free(cfg->priority.vulnerable_words);
    free(cfg->priority.urgent_words);
    free(cfg->priority.outage_words);
    free(cfg->sources);
    free(cfg->source_slots);
    free(cfg->file);
    free(cfg->dir);
    free(cfg);
}

const char *es_config_file(const struct es_config *cfg)
{
    return cfg->file;
}

const char *es_config_database(const struct es_config *cfg)
{
    return cfg->database;
}

const char *es_config_data_dir(const struct es_config *cfg)
{
    return cfg->data_dir;
}

const char *es_config_log_level(const struct es_config *cfg)
{
    return cfg->log_level;
}

const struct es_config_http *es_config_http(const struct es_config *cfg)
{
    return &cfg->http;
}

const struct es_config_classifier *
es_config_classifier(const struct es_config *cfg)
{
    return &cfg->classifier;
}

const struct es_config_priority *es_config_priority(const struct es_config *cfg)
{
    return &cfg->priority;
}

size_t es_config_source_count(const struct es_config *cfg)
{
    return cfg->nsources;
}

const struct es_config_source *es_config_source_at(const struct es_config *cfg,
                                                   size_t i)
{
    return i < cfg->nsources ? &cfg->sources[i] : NULL;
}

const struct es_config_source *
es_config_source_find(const struct es_config *cfg, const char *name)
{
    if (!cfg->source_slots || !name)
        return NULL;
    size_t idx = *source_slot(cfg, name);
    return idx ? &cfg->sources[idx - 1] : NULL;
}

const char *es_config_source_get(const struct es_config_source *src,
                                 const char *key)
{
    if (!src)
        return NULL;
    for (size_t i = 0; i < src->nkv; i++)
        if (strcmp(src->kv[i].key, key) == 0)
            return src->kv[i].value;
    return NULL;
}

int es_config_source_secret(const struct es_config_source *src, const char *who,
                            char **out)
{
    *out = NULL;
    const char *token = es_config_source_get(src, "token");
    if (token && *token) {
        *out = es_xstrdup(token);
        return 0;
    }
    const char *file = es_config_source_get(src, "token_file");
    if (!file || !*file)
        return ES_ENOTFOUND;
    FILE *f = fopen(file, "r");
    if (!f)
        return es_error_set(ES_EINVALID, "%s cannot read token_file '%s': %s",
                            who, file, strerror(errno));
    char line[4096];
    int ok = fgets(line, sizeof(line), f) != NULL;
    fclose(f);
    if (!ok)
        line[0] = '\0';
    size_t n = strcspn(line, "\r\n");
    while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
        n--;
    line[n] = '\0';
    int rc = 0;
    if (n == 0)
        rc =
            es_error_set(ES_EINVALID, "%s token_file '%s' is empty", who, file);
    else
        *out = es_xstrdup(line);
    /* volatile: the wipe must not be optimised away; no copy of the
     * secret stays on the stack. */
    for (volatile char *p = line; p < line + sizeof(line); p++)
        *p = '\0';
    return rc;
}

/* Maps a section name to its slot in es_config.kvs, or -1. */
static int kvs_by_name(const char *section)
{
    const struct sect_spec *sec =
        section ? find_section(section, strlen(section)) : NULL;
    return sec ? kvs_of(sec->kind) : -1;
}

size_t es_config_section_count(const struct es_config *cfg, const char *section)
{
    int slot = kvs_by_name(section);
    return slot < 0 ? 0 : cfg->nkvs[slot];
}

const struct es_config_source *
es_config_section_at(const struct es_config *cfg, const char *section, size_t i)
{
    int slot = kvs_by_name(section);
    return slot < 0 || i >= cfg->nkvs[slot] ? NULL : &cfg->kvs[slot][i];
}

const struct es_config_source *
es_config_section_find(const struct es_config *cfg, const char *section,
                       const char *name)
{
    int slot = kvs_by_name(section);
    for (size_t i = 0; slot >= 0 && name && i < cfg->nkvs[slot]; i++)
        if (strcmp(cfg->kvs[slot][i].name, name) == 0)
            return &cfg->kvs[slot][i];
    return NULL;
}

const char *es_config_agent(const struct es_config *cfg)
{
    return cfg->agent;
}

long es_config_claim_ttl(const struct es_config *cfg)
{
    return cfg->claim_ttl;
}

int es_config_source_bool(const struct es_config_source *src, const char *key,
                          int def)
{
    long v;
    const char *s = src ? es_config_source_get(src, key) : NULL;
    /* The loader checked the spelling: anything else is a section built
     * by hand, and gets the default. */
    if (!s || parse_bool(s, &v) != 0)
        return def;
    return v != 0;
}
