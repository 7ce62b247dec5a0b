/* config.h - earshot's settings, read from a git-style INI file
 *
 * The file is read once with inih; every key is checked against one table
 * (config/config.c), so an unknown key or a bad value is an error that
 * names file:line. Values may hold ${ENV} references, expanded at load
 * time, which is how secrets stay out of the file.
 */
#ifndef EARSHOT_CONFIG_H
#define EARSHOT_CONFIG_H

#include <stddef.h>

struct es_config;

/* One `key = value` of a section, after ${ENV} expansion. */
struct es_config_kv {
    const char *key;
    const char *value;
    int line; /* where it was set in the file */
};

/* One [source "NAME"] section. Borrowed from the es_config it came from. */
struct es_config_source {
    const char *name;        /* the quoted part of the section header */
    const char *type;        /* `type =`, required */
    const char *url;         /* `url =` or NULL */
    int interval;            /* seconds; 0 = the type's default */
    int enabled;             /* `enabled =`, default yes */
    const char *file;        /* config file path, for messages */
    int line;                /* line of the section header */
    struct es_config_kv *kv; /* every key as written (type and url too) */
    size_t nkv;
};

/* HTTP settings from [http]; every field has a default. */
struct es_config_http {
    long connect_timeout_ms; /* connect_timeout, seconds in the file */
    long timeout_ms;         /* timeout: whole transfer */
    long max_body;           /* max_body: bytes, a response over it fails */
    long max_redirects;      /* max_redirects */
    long max_parallel;       /* max_parallel: concurrent transfers */
};

/* Reads and validates @path. On success *out owns everything; the caller
 * frees it with es_config_free(). On failure returns ES_EINVALID (or
 * ES_ENOTFOUND when the file cannot be opened) with a message of the form
 * "FILE:LINE: problem". */
int es_config_load(struct es_config **out, const char *path);

/* Parses config text held in memory; @name is used in messages. */
int es_config_load_string(struct es_config **out, const char *text,
                          const char *name);

/* Returns an empty config with every default set. Cannot fail. */
struct es_config *es_config_new(void);

void es_config_free(struct es_config *cfg);

/* The path (or name) the config was loaded from, as given; NULL for
 * es_config_new(). Borrowed, valid until es_config_free(). */
const char *es_config_file(const struct es_config *cfg);

/* [earshot] keys. Borrowed pointers valid until es_config_free(). The
 * database path is resolved against the config file's folder when it is
 * relative. NULL when not set. */
const char *es_config_database(const struct es_config *cfg);
const char *es_config_data_dir(const struct es_config *cfg);
/* "error", "warn", "info" or "debug"; default "info". */
const char *es_config_log_level(const struct es_config *cfg);
const struct es_config_http *es_config_http(const struct es_config *cfg);

/* [classifier]: the lexicon and the brand overlays every mention is scored
 * with; [priority]: the weight of each priority factor and the brand's
 * names (to tell a question addressed to it). */
struct es_config_classifier {
    const char *lexicon;   /* lexicon = (resolved path), or NULL: the data
                              dir's lexicons/earshot-en.tsv */
    const char **overlays; /* overlay = paths in the order given */
    size_t noverlays;
};

struct es_config_priority {
    double weight_negative; /* the points each factor adds at most */
    double weight_urgency;
    double weight_reach;
    double weight_rating;
    double weight_direct;
    double weight_age;   /* subtracted */
    const char **brands; /* brand = names, in the order given */
    size_t nbrands;
    /* The brand's own cue phrases (safety_words = ..., and so on), in
     * the order given. */
    const char **safety_words;
    size_t nsafety_words;
    const char **security_words;
    size_t nsecurity_words;
    const char **vulnerable_words;
    size_t nvulnerable_words;
    const char **urgent_words;
    size_t nurgent_words;
    const char **outage_words;
    size_t noutage_words;
};

/* Borrowed pointers valid until es_config_free(); every field has its
 * default when the file does not set it. */
const struct es_config_classifier *
es_config_classifier(const struct es_config *cfg);
const struct es_config_priority *
es_config_priority(const struct es_config *cfg);

size_t es_config_source_count(const struct es_config *cfg);
/* Returns a borrowed pointer valid until es_config_free(). */
const struct es_config_source *es_config_source_at(const struct es_config *cfg,
                                                   size_t i);
/* Returns the source named @name, or NULL. */
const struct es_config_source *
es_config_source_find(const struct es_config *cfg, const char *name);
/* Returns the value of @key in the section, or NULL when not set. */
const char *es_config_source_get(const struct es_config_source *src,
                                 const char *key);
/* The yes/no value of @key in the section (yes, true, 1 / no, false, 0,
 * any case), or @def when it is not set. */
int es_config_source_bool(const struct es_config_source *src, const char *key,
                          int def);
/* Reads the secret of @src: `token`, else the first line of the file that
 * `token_file` names (line break and trailing blanks dropped; the read
 * buffer is wiped). Returns 0 with *out set: the caller wipes and frees
 * it. Returns ES_ENOTFOUND (no message) when neither key is set, and
 * ES_EINVALID with "WHO cannot read token_file 'PATH': REASON" or "WHO
 * token_file 'PATH' is empty", @who naming the section for the reader
 * ("account 'x':", "FILE:LINE: [source \"x\"]"). */
int es_config_source_secret(const struct es_config_source *src, const char *who,
                            char **out);

/* The other key/value sections, read through the same struct: named
 * [account "NAME"] (the brand's own accounts: type, base_url, token or
 * token_file, handle, app_password, ...) and [view "NAME"] (saved inbox
 * filters: state, source, platform, label, lang, tag, assignee, search,
 * limit); and [sla] and [helpdesk], each one instance named after its
 * section (count 0 when the file has none: every key then has its
 * documented default, which the caller applies). For accounts, `type` is
 * in ->type too. [alert "NAME"] (series, bucket, sensitivity, min_count,
 * cooldown, notify, enabled) and [notify "NAME"] (type, url, secret,
 * smtp_url, from, to, username, password, starttls, command, timeout;
 * type in ->type) are read the same way. @section is "account", "view",
 * "sla", "helpdesk", "alert" or "notify".
 * Borrowed pointers valid until es_config_free(). */
size_t es_config_section_count(const struct es_config *cfg,
                               const char *section);
const struct es_config_source *es_config_section_at(const struct es_config *cfg,
                                                    const char *section,
                                                    size_t i);
const struct es_config_source *
es_config_section_find(const struct es_config *cfg, const char *section,
                       const char *name);

/* [earshot] agent: the agent the command line acts as when --as is not
 * given; NULL when not set. */
const char *es_config_agent(const struct es_config *cfg);
/* [earshot] claim_ttl: how long a claim on a conversation lasts, seconds
 * (default 600). */
long es_config_claim_ttl(const struct es_config *cfg);

#endif
