/* fuzz_query.c - the listening query language (collectors/query.c)
 *
 * The input is a query, then a NUL or newline, then a text to match. A
 * query that compiles is matched against the text and rendered in both
 * platform styles; query.h promises that a rendering is never narrower
 * than the query, so when the text matches the query it must match the
 * rendering compiled again, and one of the plain alternatives.
 */
#include <stdlib.h>
#include <string.h>

#include "earshot/error.h"
#include "earshot/query.h"
#include "fuzz.h"

/* Compiles @text and reports whether it matches @fields; -1 when @text
 * does not compile. */
static int matches(const char *text, const char *const *fields, size_t n)
{
    struct es_query *q;
    if (es_query_parse(&q, text, NULL, 0) != 0)
        return -1;
    int m = es_query_match(q, fields, n);
    es_query_free(q);
    return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *text = buf + strcspn(buf, "\n");
    if (*text)
        *text++ = '\0';
    else if (strlen(buf) < size)
        text = buf + strlen(buf) + 1; /* after the first NUL */

    char err[128];
    struct es_query *q;
    if (es_query_parse(&q, buf, err, sizeof(err)) != 0) {
        fuzz_check(fuzz_utf8_ok(err), "error message is valid UTF-8");
        free(buf);
        return 0;
    }
    /* The text as two fields, split at its first tab: a phrase never
     * spans two fields. */
    char *second = strchr(text, '\t');
    if (second)
        *second++ = '\0';
    const char *fields[2] = { text, second };
    int m = es_query_match(q, fields, 2);

    char *boolean = es_query_render(q, ES_QUERY_STYLE_BOOLEAN);
    fuzz_check(boolean != NULL, "a boolean rendering always exists");
    int bm = matches(boolean, fields, 2);
    fuzz_check(bm != -1, "the boolean rendering compiles");
    if (m)
        fuzz_check(bm == 1, "the boolean rendering is not narrower");
    free(boolean);

    char *plain = es_query_render(q, ES_QUERY_STYLE_PLAIN);
    if (plain) {
        int pm = matches(plain, fields, 2);
        fuzz_check(pm != -1, "the plain rendering compiles");
        if (m)
            fuzz_check(pm == 1, "the plain rendering is not narrower");
        free(plain);
    }

    char **alts;
    if (es_query_alternatives(q, ES_QUERY_MAX_ALTERNATIVES, &alts) == 0) {
        int any = 0;
        for (char **a = alts; *a; a++) {
            int am = matches(*a, fields, 2);
            fuzz_check(am != -1, "an alternative compiles");
            any |= am == 1;
        }
        if (m)
            fuzz_check(any, "the alternatives cover the query");
        es_query_alternatives_free(alts);
    }
    es_query_free(q);
    free(buf);
    return 0;
}
