/* fuzz_classify.c - the sentiment scorer on any text (classifier/)
 *
 * Scores the input with the shipped lexicon, plain and explained, and
 * checks what sentiment.h promises: a compound in [-1, 1], proportions
 * that sum to 1 (or are all 0), a label that agrees with the compound, a
 * language code, and an explanation that gives the same score with
 * tokens inside the text. Then the priority of the same text as a post
 * (priority.h): a score in 0..100 and its reasons as a JSON array.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/item.h"
#include "earshot/priority.h"
#include "earshot/sentiment.h"
#include "fuzz.h"

static struct es_lexicon *lex;
static struct es_priority *prio;

/* Leaves the input's bytes where the scorer's stack frames will be, so
 * that a read of an uninitialised local answers differently the second
 * time (libexttextcat once read past the text it was given). */
__attribute__((noinline)) static void scramble_stack(const uint8_t *data,
                                                     size_t size)
{
    volatile unsigned char junk[8192];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = size ? (unsigned char)(data[i % size] ^ i) : (unsigned char)i;
}

static void load_lexicon(void)
{
    const char *path = getenv("ES_FUZZ_LEXICON");
    if (!path)
        path = ES_FUZZ_LEXICON;
    if (es_lexicon_load(&lex, path) != 0) {
        fprintf(stderr, "fuzz_classify: %s\n", es_error_last());
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!lex)
        load_lexicon();
    const char *buf = (const char *)data;
    struct es_sentiment s, e;
    es_sentiment_score(lex, buf, size, &s);
    fuzz_check(isfinite(s.compound) && s.compound >= -1.0 && s.compound <= 1.0,
               "compound in [-1, 1]");
    double total = s.pos + s.neu + s.neg;
    fuzz_check(s.pos >= 0 && s.neu >= 0 && s.neg >= 0, "proportions >= 0");
    fuzz_check(total == 0.0 || fabs(total - 1.0) < 1e-3,
               "proportions sum to 1 or are all 0");
    int want = s.compound >= ES_SENTIMENT_POS_THRESHOLD ? ES_SENTIMENT_POSITIVE
               : s.compound <= ES_SENTIMENT_NEG_THRESHOLD
                   ? ES_SENTIMENT_NEGATIVE
                   : ES_SENTIMENT_NEUTRAL;
    fuzz_check(s.label == want, "label agrees with the compound");
    fuzz_check(memchr(s.lang, '\0', sizeof(s.lang)) && s.lang[0],
               "a language code");

    struct es_sentiment again;
    scramble_stack(data, size);
    es_sentiment_score(lex, buf, size, &again);
    fuzz_check(again.compound == s.compound && strcmp(again.lang, s.lang) == 0,
               "the same text scores the same twice");

    struct es_sentiment_explain ex = ES_SENTIMENT_EXPLAIN_INIT;
    es_sentiment_explain(lex, buf, size, &e, &ex);
    fuzz_check(e.compound == s.compound && e.label == s.label &&
                   strcmp(e.lang, s.lang) == 0,
               "explained score equals the plain one");
    for (size_t i = 0; i < ex.n; i++) {
        fuzz_check(ex.tokens[i].offset <= size &&
                       ex.tokens[i].len <= size - ex.tokens[i].offset,
                   "explained token lies inside the text");
        fuzz_check(isfinite(ex.tokens[i].score), "token score is finite");
    }
    es_sentiment_explain_release(&ex);

    if (!prio) {
        static const char *const brands[] = { "Acme Cloud", "Widgetly" };
        prio = es_priority_new(NULL, brands, 2);
    }
    struct es_item it;
    es_item_init(&it);
    it.platform = es_xstrdup("mastodon");
    it.text = es_xstrndup(buf, size); /* stops at a NUL, as stored text */
    struct es_priority_result r;
    fuzz_check(es_priority_score(prio, &it, &s, 0, &r) == 0,
               "priority scores any text");
    size_t rl = strlen(r.reasons);
    fuzz_check(r.score >= 0 && r.score <= 100, "priority in 0..100");
    fuzz_check(rl >= 2 && r.reasons[0] == '[' && r.reasons[rl - 1] == ']',
               "reasons are a JSON array");
    es_item_release(&it);
    return 0;
}
