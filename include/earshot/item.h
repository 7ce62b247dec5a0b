/* item.h - the normalised mention, one model for every platform
 *
 * Collectors turn whatever a platform returns into a struct es_item; the
 * classifier and the inbox only ever see this shape. Every string field is
 * owned by the item (NULL when the platform did not give it) and is valid
 * UTF-8 once it leaves a collector.
 */
#ifndef EARSHOT_ITEM_H
#define EARSHOT_ITEM_H

#include <stddef.h>
#include <stdint.h>

/* Marks an unknown time or count. */
#define ES_TIME_UNKNOWN  INT64_MIN
#define ES_COUNT_UNKNOWN (-1LL)

enum es_item_kind {
    ES_KIND_POST = 0,
    ES_KIND_REPLY,
    ES_KIND_COMMENT,
    ES_KIND_REVIEW,
    ES_KIND_ARTICLE,
};

/* Why a collector read an item, besides matching the source's query. */
enum es_item_flags {
    ES_ITEM_DIRECT = 1 << 0,  /* addressed to the brand's own account: a
                               * mention, a reply or quote of its posts */
    ES_ITEM_CONTEXT = 1 << 1, /* fetched as the thread around a mention */
    ES_ITEM_OWN = 1 << 2,     /* posted by the brand's own account */
};

struct es_item {
    char *platform;             /* "rss", "mastodon", ... */
    char *source;               /* name of the configured source */
    char *external_id;          /* platform id; feeds: guid, link or hash */
    char *url;                  /* permalink */
    char *author;               /* handle, no leading @ */
    char *author_name;          /* display name */
    long long author_followers; /* reach; ES_COUNT_UNKNOWN when not given */
    char *title;
    char *text;        /* plain text: no markup, entities decoded */
    char *summary;     /* summary/description as published (HTML) */
    char *content;     /* full content as published (HTML) */
    char **categories; /* ncategories owned strings */
    size_t ncategories;
    int64_t created_at; /* Unix seconds UTC, or ES_TIME_UNKNOWN */
    int64_t updated_at; /* Unix seconds UTC, or ES_TIME_UNKNOWN */
    int64_t fetched_at; /* Unix seconds UTC, or ES_TIME_UNKNOWN */
    enum es_item_kind kind;
    char *in_reply_to; /* platform id of the parent */
    char *thread_root; /* platform id of the conversation root */
    int rating;        /* review stars 1..5; 0 when not a review */
    char *lang;        /* BCP 47 code when given */
    char *reply_ref;   /* what a reply needs (JSON), when not id */
    unsigned flags;    /* enum es_item_flags; 0 for a keyword match */
    int packed;        /* 1: made by es_item_pack(), strings and all in
                        * one allocation */
};

/* Called once per item. @item is borrowed: valid only during the call.
 * A non-zero return stops the producer, which returns that value. */
typedef int (*es_item_cb)(const struct es_item *item, void *payload);

/* Returns a zeroed item with the unknown markers set (times, followers).
 * The caller frees it with es_item_free(). */
struct es_item *es_item_new(void);
/* Sets the unknown markers on an item living on the stack. */
void es_item_init(struct es_item *item);
/* Frees the strings of @item and leaves it initialised (for reuse). */
void es_item_release(struct es_item *item);
/* Frees @item and its strings; NULL is a no-op. */
void es_item_free(struct es_item *item);
/* Returns a deep copy; the caller frees it with es_item_free(). */
struct es_item *es_item_dup(const struct es_item *item);
/* Returns a deep copy whose strings share one allocation with the item:
 * one malloc and one free instead of one per field, for items handed
 * between threads in bulk. Its fields must not be replaced; the caller
 * frees it with es_item_free() (never es_item_release()). */
struct es_item *es_item_pack(const struct es_item *item);
/* Appends a copy of @cat to the item's categories. */
void es_item_add_category(struct es_item *item, const char *cat);

/* "post", "reply", "comment", "review", "article". */
const char *es_item_kind_name(enum es_item_kind kind);
/* Returns 0 and sets *out, or ES_EINVALID for an unknown name. */
int es_item_kind_parse(const char *name, enum es_item_kind *out);

/* Formats @t as ISO 8601 UTC "2024-05-01T12:00:00Z" into @out (at least 21
 * bytes). Returns @out. An unknown time gives "". */
char *es_time_format(int64_t t, char out[static 21]);
/* Parses ISO 8601 / RFC 3339 / W3CDTF and RFC 822 / RFC 1123 / RFC 850
 * and asctime dates, every zone form, with or without seconds or zone
 * (no zone means UTC); a tz database name for the zone
 * ("America/Los_Angeles") is read from the zone files under $TZDIR, else
 * /usr/share/zoneinfo. Returns 0 and sets *out to Unix seconds UTC, or
 * ES_EINVALID. */
int es_time_parse(const char *s, int64_t *out);
/* Current time, Unix seconds UTC. */
int64_t es_time_now(void);

#endif
