/* cmd_agent.c - `earshot agent`: the people who work the inbox
 *
 * Adds, lists, disables and enables agents through triage.h, which holds
 * the rules: admins manage agents, except that the very first agent may
 * be added by anyone (there is nobody to ask yet) and is an admin.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "earshot/error.h"
#include "earshot/triage.h"
#include "earshot/workflow.h"

static int count_agent(const struct es_agent *a, void *payload)
{
    (void)a;
    (*(int *)payload)++;
    return 0;
}

static int print_agent(const struct es_agent *a, void *payload)
{
    struct es_buf *b = payload;
    char t[21];
    es_time_format(a->created_at, t);
    if (b) {
        if (b->len > 1)
            es_buf_addch(b, ',');
        es_buf_adds(b, "\n{");
        es_json_key_str(b, "name", a->name);
        es_buf_addch(b, ',');
        es_json_key_str(b, "role", es_role_name(a->role));
        es_buf_addf(b, ",\"disabled\":%s,", a->disabled ? "true" : "false");
        es_json_key_str(b, "created_at", t);
        es_buf_addch(b, '}');
    } else {
        printf("%-24s %-7s %-9s %s\n", a->name, es_role_name(a->role),
               a->disabled ? "disabled" : "enabled", t);
    }
    return 0;
}

int cmd_agent(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] =
        "usage: earshot agent add NAME [--role admin|agent|viewer]\n"
        "       earshot agent list [--json]\n"
        "       earshot agent disable NAME\n"
        "       earshot agent enable NAME\n"
        "Agents work the inbox: viewers read, agents also triage and reply,\n"
        "admins also manage agents and canned replies. Only an admin may\n"
        "add, disable or enable agents (act as one with --as NAME or\n"
        "`agent =` in [earshot]), except the very first agent, which anyone\n"
        "may add and which is an admin. --role defaults to agent (admin for\n"
        "the first). The last enabled admin cannot be disabled.\n";
    const char *role = NULL, *json = NULL;
    const struct es_opt opts[] = {
        { "role", 1, &role },
        { "json", 0, &json },
        { NULL, 0, NULL },
    };
    const char *args[2];
    int nargs;
    int rc = es_cli_parse_opts(argc, argv, opts, args, 2, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    const char *sub = nargs ? args[0] : "";
    int add = strcmp(sub, "add") == 0, list = strcmp(sub, "list") == 0;
    int disable = strcmp(sub, "disable") == 0,
        enable = strcmp(sub, "enable") == 0;
    if (!(add || list || disable || enable) || nargs != (list ? 1 : 2) ||
        (role && !add) || (json && !list)) {
        if (nargs && !(add || list || disable || enable))
            fprintf(stderr, "error: unknown agent command '%.*s'\n",
                    ES_CLIP(sub));
        fputs(usage, stderr);
        return ES_EXIT_USAGE;
    }
    enum es_role r = ES_ROLE_AGENT;
    if (role && es_role_parse(role, &r) < 0) {
        fprintf(stderr, "error: %s\n", es_error_last());
        return ES_EXIT_USAGE;
    }
    struct es_inbox *ib = es_ctx_inbox(ctx);
    if (!ib)
        return ES_EXIT_FAIL;

    if (list) {
        struct es_buf b = ES_BUF_INIT;
        if (json)
            es_buf_addch(&b, '[');
        else
            printf("%-24s %-7s %-9s %s\n", "NAME", "ROLE", "STATE", "ADDED");
        rc = es_agent_each(ib, print_agent, json ? &b : NULL);
        return es_cli_list_end(&b, json != NULL, rc);
    }

    const char *by;
    if (add) {
        int n = 0;
        if (es_agent_each(ib, count_agent, &n) < 0)
            return es_cli_fail("%s", es_error_last());
        if (n == 0) {
            /* Nobody to ask yet: the first agent runs the place. */
            by = ctx->as_agent;
            if (!role)
                r = ES_ROLE_ADMIN;
        } else if (!(by = es_ctx_agent(ctx))) {
            return es_ctx_agent_exit(ctx);
        }
        if (es_triage_agent_add(ib, args[1], r, by) < 0)
            return es_cli_fail("%s", es_error_last());
        printf("added %s %s%s\n", es_role_name(r), args[1],
               n == 0 ? " (the first agent, an admin)" : "");
        return ES_EXIT_OK;
    }
    if (!(by = es_ctx_agent(ctx)))
        return es_ctx_agent_exit(ctx);
    if (es_triage_agent_set_disabled(ib, args[1], disable, by) < 0)
        return es_cli_fail("%s", es_error_last());
    printf("agent %s %s\n", args[1], disable ? "disabled" : "enabled");
    return ES_EXIT_OK;
}
