/* priority.h - what an agent should answer first: a 0-100 score
 *
 * Sentiment says how a mention feels; priority says how much it matters
 * now. es_priority_score() adds up points from six factors of a mention
 * and its sentiment, each scaled by a weight from the [priority] section
 * of the config, and says why in short reasons ("negative -0.82", "asks a
 * question", "12k followers", "mentions refund", "1-star review", "3 days
 * old") that the inbox stores beside the score and shows to the agent.
 *
 * The factors, each in 0..1 and multiplied by its weight (the points it can
 * add at most):
 *   negative  how negative the compound score is (0 for >= 0)
 *   urgency   cue words: refund, billing errors ("charged twice"),
 *             cancellation, outage ("is down", "not working"), legal (lawyer,
 * sue, GDPR), safety (fire, injury, unsafe), account security and access,
 * data loss ("lost all my"), a vulnerable person ("my disabled mum",
 * insulin, newborn), urgency said outright ("urgent", "ASAP"),
 * and a question addressed to the
 * brand (a '?' in a direct mention, or in text that names a brand). Several
 * cues add up with diminishing returns. reach     the author's followers,
 * log-scaled: 0 at 100, 1 at 1M rating    a review's stars: 1 star is 1, 2
 * stars 0.5, others 0 direct    1 for a mention addressed to the brand (a
 * reply, a review, or "@brand" on a social platform); a feed entry is always a
 *             keyword match, 0
 *   age       subtracted: 1 - e^(-days/3) of the time since created_at
 * The sum is rounded and clamped into 0..100.
 *
 * Threads: a struct es_priority is immutable once es_priority_new()
 * returned; any number of threads may score with it at the same time.
 */
#ifndef EARSHOT_PRIORITY_H
#define EARSHOT_PRIORITY_H

#include <stddef.h>
#include <stdint.h>

#include "earshot/item.h"
#include "earshot/sentiment.h"

/* The points each factor adds at most ([priority] weight_* keys). */
struct es_priority_weights {
    double negative; /* weight_negative */
    double urgency;  /* weight_urgency */
    double reach;    /* weight_reach */
    double rating;   /* weight_rating */
    double direct;   /* weight_direct */
    double age;      /* weight_age: subtracted */
};

/* The defaults, as documented in config/earshot.conf. */
#define ES_PRIORITY_WEIGHT_NEGATIVE 40
#define ES_PRIORITY_WEIGHT_URGENCY  30
#define ES_PRIORITY_WEIGHT_REACH    10
#define ES_PRIORITY_WEIGHT_RATING   20
#define ES_PRIORITY_WEIGHT_DIRECT   10
#define ES_PRIORITY_WEIGHT_AGE      20

/* Sets *out to the default weights. */
void es_priority_weights_default(struct es_priority_weights *out);

struct es_priority;

/* Returns a scorer with weights @w (NULL: the defaults) that recognises
 * the @nbrands names in @brands ("Acme Cloud"; any case; a name also
 * matches written as one word, "@acmecloud" or "#AcmeCloud"). Copies what
 * it needs from @w and @brands. The caller frees the result with
 * es_priority_free(). */
struct es_priority *es_priority_new(const struct es_priority_weights *w,
                                    const char *const *brands, size_t nbrands);

/* The kinds of cue a brand may add phrases to ([priority] safety_words,
 * security_words, vulnerable_words, urgent_words, outage_words): each
 * counts as the built-in cues of its kind do, with their reason. */
enum es_priority_cue {
    ES_PRIORITY_CUE_SAFETY,     /* "mentions safety" */
    ES_PRIORITY_CUE_SECURITY,   /* "mentions account security" */
    ES_PRIORITY_CUE_VULNERABLE, /* "mentions a vulnerable person" */
    ES_PRIORITY_CUE_URGENT,     /* "says it is urgent" */
    ES_PRIORITY_CUE_OUTAGE,     /* "mentions outage" */
    ES_PRIORITY_CUE_COUNT
};

/* The most words a cue phrase may have; longer ones never match. */
#define ES_PRIORITY_PHRASE_MAX 4

/* A brand's own cue phrases, by kind: @phrases[k] holds @nphrases[k]
 * phrases ("wardrobe tipped", "door wide open"), any case, at most
 * ES_PRIORITY_PHRASE_MAX words each (longer ones are skipped). */
struct es_priority_cues {
    const char *const *phrases[ES_PRIORITY_CUE_COUNT];
    size_t nphrases[ES_PRIORITY_CUE_COUNT];
};

/* As es_priority_new(), with the brand's own cue phrases @cues (NULL:
 * none) beside the built-in ones. Copies what it needs from @cues. */
struct es_priority *es_priority_new_with(const struct es_priority_weights *w,
                                         const char *const *brands,
                                         size_t nbrands,
                                         const struct es_priority_cues *cues);

/* Frees @p; NULL is a no-op. */
void es_priority_free(struct es_priority *p);

/* Room for the reasons of one score as a JSON array; reasons that would
 * not fit are left out (the six factors fit with room to spare). */
#define ES_PRIORITY_REASONS_MAX 320

struct es_priority_result {
    int score;                             /* 0..100 */
    size_t nreasons;                       /* strings in @reasons */
    char reasons[ES_PRIORITY_REASONS_MAX]; /* JSON array of strings */
};

/* Scores @item, whose sentiment is @s, as of Unix time @now, into *out.
 * Reads the item's title and text, author_followers, rating, kind,
 * platform and created_at. Never fails: returns 0. Thread-safe. */
int es_priority_score(const struct es_priority *p, const struct es_item *item,
                      const struct es_sentiment *s, int64_t now,
                      struct es_priority_result *out);

#endif
