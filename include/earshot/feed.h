/* feed.h - RSS 0.9x/2.0, RSS 1.0 (RDF), Atom 0.3/1.0 and JSON Feed parsing
 *
 * A streaming parser on libxml2's SAX2 push interface: a document of any
 * size is parsed in constant memory, entries are emitted as soon as their
 * closing tag is seen (once the feed's title is known: see
 * es_feed_meta_cb). It never touches the network, never loads external
 * entities or DTDs, decodes HTML named entities that real feeds use without
 * declaring them, and recovers what it can from a malformed document.
 * A document that starts with "{" is read as a JSON Feed (1.0 or 1.1)
 * instead, held whole (within max_size) and parsed at finish.
 */
#ifndef EARSHOT_FEED_H
#define EARSHOT_FEED_H

#include <stddef.h>

#include "earshot/item.h"

/* Called once, before the first entry is emitted (or at finish when there
 * is none), with the feed's title and link as known then (either may be
 * NULL). Borrowed strings, valid during the call. Entries that come before
 * the feed's title (a feed may give its title, link and author last) are
 * held, up to 256, and emitted after the call, once the next entry after
 * the title or the end of the document has come; they get the feed's
 * author and language when they have none of their own. */
typedef int (*es_feed_meta_cb)(const char *title, const char *link,
                               void *payload);

struct es_feed_opts {
    const char *source;   /* source name: item->source, and messages */
    const char *base_url; /* URL the document came from; relative links */
    const char *charset;  /* charset from the HTTP header, or NULL */
    size_t max_size;      /* bytes; 0 = default 64 MiB */
    unsigned max_depth;   /* element nesting; 0 = default 256 */
    es_feed_meta_cb meta; /* optional */
};

struct es_feed_parser;

/* Returns a parser that emits each entry to @emit as an es_item with
 * platform "rss". @opts is copied (its strings too). The caller frees the
 * result with es_feed_parser_free(). */
struct es_feed_parser *es_feed_parser_new(const struct es_feed_opts *opts,
                                          es_item_cb emit, void *payload);

/* Feeds the next chunk of the document. Returns 0, the non-zero value
 * @emit or the meta callback returned (parsing stops), or ES_ETOOBIG once
 * the document passes max_size. Malformed XML is not an error here: the
 * parser recovers and records it (es_feed_parser_error()). */
int es_feed_parser_push(struct es_feed_parser *p, const char *buf, size_t len);

/* Reads @fd to its end and pushes what it reads, chunk by chunk, so a
 * document of any size is parsed in constant memory. Returns 0, what
 * es_feed_parser_push() returned, or ES_ERROR "cannot read: REASON" when
 * read() fails. Does not finish the document or close @fd. */
int es_feed_parser_push_fd(struct es_feed_parser *p, int fd);

/* Ends the document. Returns 0 when it was well-formed; ES_EPARSE when it
 * was not (entries recovered before and after the problem were emitted all
 * the same) with a message naming the line; ES_EPARSE also when the
 * document is not a feed at all. */
int es_feed_parser_finish(struct es_feed_parser *p);

/* Number of entries emitted so far. */
size_t es_feed_parser_count(const struct es_feed_parser *p);

/* Returns a borrowed pointer to the first problem found, as
 * "line N: what", or NULL; valid until es_feed_parser_free(). */
const char *es_feed_parser_error(const struct es_feed_parser *p);

void es_feed_parser_free(struct es_feed_parser *p);

/* Parses a whole document held in memory: new, push, finish, free.
 * Returns what es_feed_parser_finish() returns (or the push error); sets
 * *count, when not NULL, to the number of entries emitted. */
int es_feed_parse(const char *buf, size_t len, const struct es_feed_opts *opts,
                  es_item_cb emit, void *payload, size_t *count);

#endif
