/* cmd_triage.h - what the triage commands share (cmd_inbox.c,
 * cmd_triage.c, cmd_agent.c)
 *
 * `earshot inbox` and `earshot state --bulk` select mentions with the same
 * filter options and saved views, so both read them through one table
 * and one function; the id and version arguments of the commands that
 * change a mention are parsed the same way everywhere.
 */
#ifndef EARSHOT_CLI_CMD_TRIAGE_H
#define EARSHOT_CLI_CMD_TRIAGE_H

#include <stdint.h>

#include "cli.h"
#include "earshot/inbox.h"

/* The inbox view's filter options as given on the command line. */
struct es_cli_filter {
    const char *view; /* --view NAME: [view "NAME"] of the config */
    const char *state;
    const char *source;
    const char *platform;
    const char *label;
    const char *lang;
    const char *tag;
    const char *assignee; /* "-": unassigned */
    const char *search;
    const char *limit;
};

/* es_opt entries for every field of @f (to put in a command's table). */
#define ES_CLI_FILTER_OPTS(f)                                                  \
    { "view", 1, &(f)->view }, { "state", 1, &(f)->state },                    \
        { "source", 1, &(f)->source }, { "platform", 1, &(f)->platform },      \
        { "label", 1, &(f)->label }, { "lang", 1, &(f)->lang },                \
        { "tag", 1, &(f)->tag }, { "assignee", 1, &(f)->assignee },            \
        { "search", 1, &(f)->search },                                         \
    {                                                                          \
        "limit", 1, &(f)->limit                                                \
    }

/* Whether any filter (or a view) was given. */
int es_cli_filter_given(const struct es_cli_filter *f);

/* Fills @q from @f: the view's filters first (when --view is given),
 * then every option given on the command line over them; checks the
 * state, label and limit. Leaves @q->limit as it is when neither sets
 * one. The strings are borrowed from @f and the config. Returns 0, or
 * ES_EXIT_USAGE / ES_EXIT_FAIL after printing the problem. */
int es_cli_filter_query(struct es_ctx *ctx, const struct es_cli_filter *f,
                        struct es_inbox_query *q);

/* Appends `,"tags":[...],"notes":[...]` of mention @id to the JSON object
 * being written in @b (cmd_inbox.c). */
int es_cli_json_tags_notes(struct es_inbox *ib, int64_t id, struct es_buf *b);
/* Appends a "tags: a, b" line (none when there are no tags) and each
 * note with its author and time, every line led by @indent. */
int es_cli_text_tags_notes(struct es_inbox *ib, int64_t id, const char *indent,
                           struct es_buf *b);

/* Parses mention id @arg into *out; prints and returns ES_EXIT_USAGE when
 * it is not one, else 0. */
int es_cli_parse_mention_id(const char *arg, int64_t *out);

/* Parses --expect-version @arg (NULL: 0, none) into *out; prints and
 * returns ES_EXIT_USAGE when it is not a positive number, else 0. */
int es_cli_parse_version(const char *arg, int64_t *out);

#endif
