/* alloc.h - allocation that aborts on out-of-memory (git's xmalloc)
 *
 * A social listening daemon cannot do anything useful after malloc fails,
 * so instead of threading ENOMEM through every call these abort with a
 * message. Free the results with free().
 */
#ifndef EARSHOT_ALLOC_H
#define EARSHOT_ALLOC_H

#include <stddef.h>

void *es_xmalloc(size_t size);
void *es_xcalloc(size_t n, size_t size);
void *es_xrealloc(void *ptr, size_t size);
/* Returns a copy of @s, or NULL when @s is NULL. */
char *es_xstrdup(const char *s);
/* Returns a NUL-terminated copy of the first @len bytes of @s. */
char *es_xstrndup(const char *s, size_t len);
/* Returns a newly allocated formatted string. */
char *es_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
