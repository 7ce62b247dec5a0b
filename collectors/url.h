/* url.h - resolving relative links (RFC 3986 section 5)
 *
 * Module-private: feeds give relative links against xml:base or the URL
 * they were fetched from. Resolution is libcurl's URL API; nothing here
 * touches the network.
 */
#ifndef EARSHOT_COLLECTORS_URL_H
#define EARSHOT_COLLECTORS_URL_H

#include <stddef.h>

#include "earshot/buf.h"

/* Returns 1 when the @len bytes at @s start with a URI scheme ("http:",
 * "tag:", "urn:"...), i.e. form an absolute reference. */
int es_url_is_absolute(const char *s, size_t len);

/* Appends to @out the reference @ref (@len bytes, surrounding white space
 * ignored) resolved against @base. An absolute @ref is appended as given;
 * so is @ref when @base is NULL, empty or not absolute, or when the pair
 * cannot be resolved. Returns 1 when a resolution took place, else 0. */
int es_url_resolve(const char *base, const char *ref, size_t len,
                   struct es_buf *out);

/* Appends @s to @out percent-encoded as a query value (RFC 3986
 * unreserved characters kept, everything else %XX, space as %20). */
void es_url_add_escaped(struct es_buf *out, const char *s);
/* Appends "?NAME=VALUE" to @url, or "&NAME=VALUE" when it already has a
 * query, with VALUE percent-encoded. A NULL @value appends nothing. */
void es_url_add_param(struct es_buf *url, const char *name, const char *value);
/* Copies the URL of the link with relation @rel ("next", "prev") of an
 * RFC 8288 Link header into @out; returns 0, or -1 when there is none. */
int es_url_link_rel(const char *link, const char *rel, struct es_buf *out);
/* Returns the value of query parameter @name of @url, percent-decoded,
 * in @out; 0, or -1 when the URL has no such parameter. */
int es_url_query_param(const char *url, const char *name, struct es_buf *out);

/* The length of @base without its trailing slashes, so that a path
 * starting with '/' can follow. */
size_t es_url_trim_len(const char *base);

#endif
