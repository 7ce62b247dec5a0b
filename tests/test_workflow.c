/* test_workflow.c - agents, roles, the audit log, conversation versions
 *
 * The shared core of the inbox workflow (include/earshot/workflow.h) on
 * an in-memory inbox: who may do what, what the audit log records, and
 * the stale-change guard that tells an agent who changed what.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka.h needs setjmp.h, stdarg.h and stddef.h first. */
#include <cmocka.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/inbox.h"
#include "earshot/workflow.h"

static int setup(void **state)
{
    struct es_inbox *ib = NULL;
    if (es_inbox_open(&ib, ":memory:") < 0)
        return -1;
    *state = ib;
    return 0;
}

static int teardown(void **state)
{
    es_inbox_free(*state);
    return 0;
}

static int count_agents(const struct es_agent *a, void *payload)
{
    (void)a;
    (*(int *)payload)++;
    return 0;
}

static void test_agents_and_roles(void **state)
{
    struct es_inbox *ib = *state;
    assert_int_equal(es_agent_add(ib, "dana", ES_ROLE_ADMIN, NULL), 0);
    assert_int_equal(es_agent_add(ib, "sam", ES_ROLE_AGENT, "dana"), 0);
    assert_int_equal(es_agent_add(ib, "vic", ES_ROLE_VIEWER, "dana"), 0);
    assert_int_equal(es_agent_add(ib, "sam", ES_ROLE_AGENT, "dana"),
                     ES_EEXISTS);
    assert_int_equal(es_agent_add(ib, "two words", ES_ROLE_AGENT, "dana"),
                     ES_EINVALID);
    assert_int_equal(es_agent_add(ib, "", ES_ROLE_AGENT, "dana"), ES_EINVALID);
    int n = 0;
    assert_int_equal(es_agent_each(ib, count_agents, &n), 0);
    assert_int_equal(n, 3);

    struct es_agent a;
    assert_int_equal(es_agent_get(ib, "sam", &a), 0);
    assert_string_equal(a.name, "sam");
    assert_int_equal(a.role, ES_ROLE_AGENT);
    es_agent_release(&a);
    assert_int_equal(es_agent_get(ib, "nobody", &a), ES_ENOTFOUND);
    assert_non_null(strstr(es_error_last(), "earshot agent add"));

    assert_int_equal(es_agent_check(ib, "sam", ES_ROLE_AGENT, "reply"), 0);
    assert_int_equal(es_agent_check(ib, "vic", ES_ROLE_AGENT, "reply"),
                     ES_EAUTH);
    assert_non_null(strstr(es_error_last(), "viewer"));
    assert_int_equal(es_agent_check(ib, "sam", ES_ROLE_ADMIN, "add agents"),
                     ES_EAUTH);
    assert_int_equal(es_agent_set_disabled(ib, "sam", 1, "dana"), 0);
    assert_int_equal(es_agent_check(ib, "sam", ES_ROLE_AGENT, "reply"),
                     ES_EAUTH);
    assert_non_null(strstr(es_error_last(), "disabled"));
    assert_int_equal(es_agent_check(ib, "ghost", ES_ROLE_VIEWER, "read"),
                     ES_ENOTFOUND);

    enum es_role r;
    assert_int_equal(es_role_parse("viewer", &r), 0);
    assert_int_equal(r, ES_ROLE_VIEWER);
    assert_int_equal(es_role_parse("boss", &r), ES_EINVALID);
}

struct audit_seen {
    int n;
    char last[256];
};

static int on_audit(const struct es_audit_entry *e, void *payload)
{
    struct audit_seen *s = payload;
    s->n++;
    snprintf(s->last, sizeof(s->last), "%s|%s|%s|%s|%s", e->agent, e->action,
             e->object, e->before ? e->before : "-", e->after ? e->after : "-");
    return 0;
}

static void test_audit(void **state)
{
    struct es_inbox *ib = *state;
    assert_int_equal(es_agent_add(ib, "dana", ES_ROLE_ADMIN, NULL), 0);
    assert_int_equal(es_agent_set_disabled(ib, "dana", 1, "root"), 0);
    assert_int_equal(
        es_audit_add(ib, "dana", "state", "mention:7", "new", "open"), 0);
    struct audit_seen s = { 0 };
    assert_int_equal(es_audit_each(ib, ES_TIME_UNKNOWN, NULL, 0, on_audit, &s),
                     0);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.last, "dana|state|mention:7|new|open");
    memset(&s, 0, sizeof(s));
    assert_int_equal(
        es_audit_each(ib, ES_TIME_UNKNOWN, "root", 0, on_audit, &s), 0);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.last,
                        "root|agent disable|agent:dana|enabled|disabled");
    memset(&s, 0, sizeof(s));
    assert_int_equal(
        es_audit_each(ib, es_time_now() + 3600, NULL, 0, on_audit, &s), 0);
    assert_int_equal(s.n, 0);
}

static void test_conversation_versions(void **state)
{
    struct es_inbox *ib = *state;
    int64_t src = 0;
    assert_int_equal(es_inbox_source_ensure(ib, "m", "mastodon", &src), 0);
    struct es_item it;
    es_item_init(&it);
    it.platform = es_xstrdup("mastodon");
    it.external_id = es_xstrdup("42");
    it.text = es_xstrdup("hello");
    int64_t mid;
    assert_int_equal(es_inbox_put(ib, src, &it, NULL, NULL, &mid), 0);
    es_item_release(&it);

    struct es_buf key = ES_BUF_INIT;
    assert_int_equal(es_conversation_of(ib, mid, &key), 0);
    assert_string_equal(key.ptr, "mastodon:42");
    assert_int_equal(es_conversation_of(ib, 999, &key), ES_ENOTFOUND);

    int64_t v;
    assert_int_equal(es_conversation_version(ib, "mastodon:42", &v), 0);
    assert_int_equal(v, 1);
    /* Two agents loaded version 1; the first change wins. */
    assert_int_equal(es_conversation_touch(ib, "mastodon:42", "dana",
                                           "state new -> open", 1, &v),
                     0);
    assert_int_equal(v, 2);
    assert_int_equal(
        es_conversation_touch(ib, "mastodon:42", "sam", "note", 1, &v),
        ES_EEXISTS);
    assert_non_null(strstr(es_error_last(), "dana"));
    assert_non_null(strstr(es_error_last(), "state new -> open"));
    /* Without an expected version the change just happens. */
    assert_int_equal(
        es_conversation_touch(ib, "mastodon:42", "sam", "note", 0, &v), 0);
    assert_int_equal(v, 3);

    /* Claims: one holder at a time; the holder renews; release frees. */
    assert_int_equal(es_conversation_claim(ib, "mastodon:42", "dana", 600), 0);
    assert_int_equal(es_conversation_claim(ib, "mastodon:42", "dana", 600), 0);
    assert_int_equal(es_conversation_claim(ib, "mastodon:42", "sam", 600),
                     ES_EEXISTS);
    assert_non_null(strstr(es_error_last(), "dana is replying"));
    assert_int_equal(es_conversation_release(ib, "mastodon:42", "sam"), 0);
    assert_int_equal(es_conversation_claim(ib, "mastodon:42", "sam", 600),
                     ES_EEXISTS);
    assert_int_equal(es_conversation_release(ib, "mastodon:42", "dana"), 0);
    assert_int_equal(es_conversation_claim(ib, "mastodon:42", "sam", 600), 0);
    /* An expired claim is anyone's. */
    assert_int_equal(es_conversation_claim(ib, "mastodon:42", "sam", -1), 0);
    assert_int_equal(es_conversation_claim(ib, "mastodon:42", "dana", 600), 0);
    /* Claims do not change the version. */
    assert_int_equal(es_conversation_version(ib, "mastodon:42", &v), 0);
    assert_int_equal(v, 3);
    es_buf_release(&key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_agents_and_roles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conversation_versions, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
