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

#endif
