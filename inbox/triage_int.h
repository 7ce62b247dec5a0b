/* triage_int.h - what the triage files of inbox/ share (module-private)
 *
 * triage.c (states, assignment, notes, tags, threads, views),
 * triage_admin.c (agents and canned replies) and workflow.c (the agents
 * themselves) check names the same way. Their SQL helpers are in sql.h.
 */
#ifndef EARSHOT_INBOX_TRIAGE_INT_H
#define EARSHOT_INBOX_TRIAGE_INT_H

/* Whether @name is a usable name for an agent, a canned reply or a tag: 1
 * to 64 bytes, no control characters, no spaces, and no byte of @also
 * (NULL: none). */
int es_triage__valid_name(const char *name, const char *also);

#endif
