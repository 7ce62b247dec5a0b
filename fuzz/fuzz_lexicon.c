/* fuzz_lexicon.c - the lexicon loader on any file (classifier/lexicon.c)
 *
 * Loads the input as a lexicon in whichever of the three formats it looks
 * like (earshot's, VADER's, AFINN's), as a user's `lexicon =` or
 * `overlay =` file would be; a lexicon that loads must then score a text
 * and rate every term it rates within -4..+4.
 */
#include <math.h>
#include <string.h>

#include "earshot/error.h"
#include "earshot/sentiment.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct es_lexicon *lex;
    if (es_lexicon_load_buf(&lex, "fuzz.tsv", (const char *)data, size) != 0) {
        const char *msg = es_error_last();
        fuzz_check(msg && strncmp(msg, "fuzz.tsv", 8) == 0,
                   "a lexicon error names the file");
        fuzz_check(lex == NULL, "no lexicon on failure");
        return 0;
    }
    static const char text[] = "The support was not very good, but the app "
                               "is GREAT!!! :) still waiting for my refund";
    struct es_sentiment s;
    es_sentiment_score(lex, text, sizeof(text) - 1, &s);
    fuzz_check(isfinite(s.compound) && fabs(s.compound) <= 1.0,
               "compound in [-1, 1]");
    /* The first line's term, looked up: a rated term is within -4..+4. */
    char term[64];
    size_t n = 0;
    while (n < size && data[n] != '\t' && data[n] != '\n' && data[n] != '\0')
        n++;
    if (n < sizeof(term)) {
        memcpy(term, data, n);
        term[n] = '\0';
        double v;
        if (es_lexicon_lookup(lex, term, &v))
            fuzz_check(isfinite(v) && fabs(v) <= 4.0, "valence in -4..+4");
    }
    es_lexicon_free(lex);
    return 0;
}
