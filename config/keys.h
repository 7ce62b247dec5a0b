/* keys.h - the config key table, seen from outside config.c
 *
 * The table itself stays static in config.c. The tests walk it through
 * this function to check that config/earshot.conf documents every key, so
 * the shipped file cannot drift from what the loader accepts.
 */
#ifndef EARSHOT_CONFIG_KEYS_H
#define EARSHOT_CONFIG_KEYS_H

#include <stddef.h>

struct es_config__keyinfo {
    const char *section; /* "earshot", "http", "source" */
    const char *name;    /* the key as written in the file */
    const char *def;     /* default in file syntax, or NULL */
    int named;           /* the section takes a name: [source "NAME"] */
    int secret;          /* never echoed in messages */
};

/* Fills *out with key @i of the table. Returns 0, or ES_ENOTFOUND when @i
 * is past the end. Static data: thread-safe. */
int es_config__key_info(size_t i, struct es_config__keyinfo *out);

#endif
