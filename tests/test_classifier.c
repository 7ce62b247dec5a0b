/* test_classifier.c - the sentiment classifier: rules, loaders, languages
 *
 * Every rule of the method has a test whose expected score is computed by
 * hand from the fixture lexicon (tests/fixtures/classifier/mini.tsv) and
 * the method's constants: the helper takes the raw sum and normalises it
 * with x / sqrt(x^2 + 15), so each expectation reads as arithmetic
 * ("1.9 + 0.293" for "very good"). Then properties that must hold
 * whatever the lexicon, the three loaders and their error messages,
 * overlays, hostile input, the language check, threads, and the
 * `earshot classify` command itself.
 */
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* cmocka.h uses jmp_buf, va_list and size_t without including them. */
#include <cmocka.h>

#include "classifier/lexicon.h"
#include "earshot/error.h"
#include "earshot/sentiment.h"

#define FIX ES_FIXTURES "/classifier/"

static struct es_lexicon *mini;

static int setup(void **state)
{
    (void)state;
    if (es_lexicon_load(&mini, FIX "mini.tsv") < 0) {
        fprintf(stderr, "cannot load the fixture: %s\n", es_error_last());
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    es_lexicon_free(mini);
    return 0;
}

static double norm(double x)
{
    return x / sqrt(x * x + 15.0);
}

static struct es_sentiment score_with(const struct es_lexicon *lex,
                                      const char *text)
{
    struct es_sentiment r;
    assert_int_equal(es_sentiment_score(lex, text, strlen(text), &r), 0);
    return r;
}

static double compound(const char *text)
{
    return score_with(mini, text).compound;
}

/* Asserts that @text scores the normalised @sum with @lex. */
#define assert_score_with(lex, text, sum)                                      \
    do {                                                                       \
        double got_ = score_with(lex, text).compound;                          \
        double want_ = norm(sum);                                              \
        if (fabs(got_ - want_) > 1e-4)                                         \
            fail_msg("'%s': compound %.6f, expected %.6f (sum %.4f)", text,    \
                     got_, want_, (double)(sum));                              \
    } while (0)

/* Asserts that @text scores the normalised @sum (hand-computed). */
#define assert_score(text, sum) assert_score_with(mini, text, sum)

/* ==== One test per rule, expected scores computed by hand ==== */

static void test_rule_lexicon(void **state)
{
    (void)state;
    assert_score("good", 1.9);
    assert_score("bad", -2.5);
    assert_score("good and bad", 1.9 - 2.5);
    assert_score("the weather today", 0.0);
}

static void test_rule_booster(void **state)
{
    (void)state;
    assert_score("very good", 1.9 + 0.293);
    assert_score("very bad", -2.5 - 0.293);
    assert_score("genuinely good", 1.9 + 0.293);
    /* Two boosters: the farther one counts 95%. */
    assert_score("very very good", 1.9 + 0.293 + 0.293 * 0.95);
    /* Three back: 90%. */
    assert_score("really very very good",
                 1.9 + 0.293 + 0.293 * 0.95 + 0.293 * 0.9);
}

/* Intensifiers after the word: "good as hell" is praise, not hell. */
static void test_rule_after(void **state)
{
    (void)state;
    assert_score("good as hell", 1.9 + 0.293);
    assert_score("bad af", -2.5 - 0.293);
    assert_score("as hell", 0.0);
    /* A rated word that boosts the next one, as "super" does. */
    assert_score("damn good", 1.9 + 0.293);
}

static void test_rule_dampener(void **state)
{
    (void)state;
    assert_score("slightly good", 1.9 - 0.293);
    assert_score("slightly bad", -2.5 + 0.293);
    /* "kind of" is one dampener, not the rated word "kind". */
    assert_score("kind of good", 1.9 - 0.293);
    assert_score("a kind person", 2.4);
    assert_score("sort of bad", -2.5 + 0.293);
}

static void test_rule_negation(void **state)
{
    (void)state;
    assert_score("not good", 1.9 * -0.74);
    /* A negated harm is a weaker good: x -0.5 (N_SCALAR_NEG). */
    assert_score("not bad", -2.5 * -0.5);
    /* The counterfactual negates: what should have been was not. */
    assert_score("it should have been good", 1.9 * -0.74);
    assert_score("would've been good", 1.9 * -0.74);
    /* So does a wish for what is not; "wish you were" is longing, and
     * the verb is not part of it. */
    assert_score("I wish it was good", 1.9 * -0.74);
    assert_score("wish they would help", 1.7 * -0.74);
    assert_score("wish you were good", 1.9);
    /* A question that expects yes says the word ... */
    assert_score("isn't it good?", 1.9);
    assert_score("Don't you love it?", 3.2);
    /* ... but not without the '?', nor when the negation is inside. */
    assert_score("isn't it good", 1.9 * -0.74);
    assert_score("it isn't good?", 1.9 * -0.74);
    assert_score("it isn't good", 1.9 * -0.74);
    assert_score("it isnt good", 1.9 * -0.74);
    assert_score("it isn\xE2\x80\x99t good", 1.9 * -0.74); /* ’ */
    /* The apostrophe lost to a space; spoken spellings. */
    assert_score("it isn t good", 1.9 * -0.74);
    assert_score("nothin good", 1.9 * -0.74);
    assert_score("never good", 1.9 * -0.74);
    assert_score("without help", 1.7 * -0.74);
    /* "without" after a verb's negation in its clause says it always
     * happens: neither negates ("can't open it without it crashing"). */
    assert_score("cannot open it without a bad crash", -2.5);
    assert_score("it isn't without bad", -2.5);
    /* "nothing without" needs what follows: it negates. */
    assert_score("nothing without bad", -2.5 * -0.5 * -0.5);
    /* "hardly" and "barely" negate rather than damp. */
    assert_score("hardly good", 1.9 * -0.74);
    assert_score("barely happy", 2.7 * -0.74);
    /* Three tokens back still counts ... */
    assert_score("not at all good", 1.9 * -0.74);
    /* ... four does not. */
    assert_score("not at all that good", 1.9);
    /* Nor past "and" or "or" that opens a clause with a subject of its
     * own ("nothing and I'm happy"); "not big and good" is one clause. */
    assert_score("nothing and im happy", 2.7);
    assert_score("nothing and I am happy", 2.7);
    assert_score("not big and good", 1.9 * -0.74);
    /* Nor past "but": "not now but bad" is bad, weighted as the clause
     * after "but" is. */
    assert_score("not now but bad", -2.5 * 1.5);
    /* Negation and booster together: boost first, then flip. */
    assert_score("not very good", (1.9 + 0.293) * -0.74);
    /* "Not the ... again" opening a clause is dismay, and negates
     * nothing; without "again", or inside a clause, it negates. */
    assert_score("not the bad news again", -2.5);
    assert_score("Monday. Not this bad news again", -2.5);
    assert_score("not the bad news", -2.5 * -0.5);
    assert_score("it is not the bad news again", -2.5 * -0.5);
    assert_score("not the bad news, again", -2.5 * -0.5);
    /* "couldn't be" and a comparative: nothing could top it. Emphasis
     * (x 1.25, as "never so good") and no flip, so "couldn't be worse"
     * stays bad; without a comparative it negates. */
    assert_score("couldn't be happier", 2.9 * 1.25);
    assert_score("we could not be happier", 2.9 * 1.25);
    assert_score("it couldn't be worse", -2.7 * 1.25);
    assert_score("couldn't be more happy", (2.7 + 0.293) * 1.25);
    assert_score("couldn't be happy", 2.7 * -0.74);
    /* A surprise told in the past: what followed did happen. Said of
     * the future, it is a doubt, and negates. */
    assert_score("didn't expect to love it", 3.2);
    assert_score("I did not expect to love it", 3.2);
    assert_score("wasn't expecting to hate it", -2.7);
    assert_score("don't expect to love it", 3.2 * -0.74);
    /* A phrase rated 0 that hides a rated word ("looks like this") does
     * not hide it from a negation right before it. */
    assert_score("looks like this", 0.0);
    assert_score("i don't like this", 1.5 * -0.74);
    /* A trouble not wanted, or kept off, is feared: not flipped into
     * praise, and counted 0 ("feared"). A good thing not wanted is
     * negated as ever; "need" is no wish ("don't need to lose it"). */
    assert_score("I don't want to lose it", 0.0);
    assert_score("they don't wanna lose it", 0.0);
    assert_score("so we don't lose it", 0.0);
    assert_score("hope it isn't bad", 0.0);
    assert_score("make sure it isn't bad", 0.0);
    assert_score("I don't want to love it", 3.2 * -0.74);
    assert_score("we don't lose it", -1.5 * -0.5);
    assert_score("I don't need to lose it", -1.5 * -0.5);
    assert_score("so. it isn't bad", -2.5 * -0.5);
}

/* A praise word alone in quotation marks is denied, not used: scare
 * quotes ("their \"upgrade\""). A phrase in quotes, or a harm, stays. */
static void test_rule_scare_quotes(void **state)
{
    (void)state;
    assert_score("their \"good\" service", 0.0);
    assert_score("the 'good' service", 0.0);
    assert_score("the \xE2\x80\x9Cgood\xE2\x80\x9D service", 0.0);
    assert_score("the \xE2\x80\x98good\xE2\x80\x99 service", 0.0);
    assert_score("a good service", 1.9);
    assert_score("the \"good service", 1.9);
    assert_score("she said \"no problem\"", 1.5);
    assert_score("the \"bad\" service", -2.5);
}

/* "like" before a number is a filler ("took like 3 hours"), no liking. */
static void test_rule_like_filler(void **state)
{
    (void)state;
    assert_score("it took like 3 hours", 0.0);
    assert_score("like 100 people were there", 0.0);
    assert_score("i like it", 1.5);
    assert_score("i like 3 of them", 1.5);
    assert_score("i like, 3 of them", 1.5);
    /* Before a '?', a question of how: "what's the food like?". */
    assert_score("what is the food like?", 0.0);
    assert_score("what is the food like ?", 0.0);
    /* Opening its clause before a comma or a word of emphasis, a pause:
     * "like actually pink in the middle". */
    assert_score("raw. like actually bad", -2.5);
    assert_score("like, literally bad", -2.5);
    assert_score("like it", 1.5);
    assert_score("like visibly bad", -2.5);
    /* Before a sum, and before a number with a decimal point, which
     * ends no clause. */
    assert_score("it cost like $340", 0.0);
    assert_score("it cost like \xC2\xA3"
                 "20",
                 0.0);
    assert_score("getting like 0.3 Mbps", 0.0);
}

/* "never" with a word in -ing and "again" later in the clause: a
 * boycott, which "again" carries (NEVER_AGAIN, -1.8). */
static void test_rule_never_again(void **state)
{
    (void)state;
    assert_score("never using this courier again", -1.8);
    assert_score("Never using them again!", -1.8 - 0.292);
    /* Not without "again", nor past the end of the clause: there the
     * negation alone counts (NEG_ALONE, the complaint rule) ... */
    assert_score("never using this courier", -0.5);
    assert_score("never using it. again", -0.5);
    /* ... nor when the negation made a good of what is between: a
     * promise ("never doubting" a harm, negated: x -0.5). */
    assert_score("never doubting you again", -1.2 * -0.5);
}

static void test_rule_not_once(void **state)
{
    (void)state;
    /* Past the three tokens a negation reaches, "not once" and "never
     * ever" still negate the first rated word of their clause. */
    assert_score("not once did the staff seem good", 1.9 * -0.74);
    assert_score("never ever did the staff make it bad", -2.5 * -0.5);
    assert_score("hardly ever did the staff seem good", 1.9 * -0.74);
    /* Without "once" or "ever", the ordinary reach alone. */
    assert_score("not that the staff were good", 1.9);
    /* The first rated word only; "and" or a break ends the clause. */
    assert_score("not once did they say it was good then bad",
                 1.9 * -0.74 - 2.5);
    assert_score("not once did they call and it was bad", -2.5);
    assert_score("not once did they call. it was bad", -2.5);
    /* A contraction is a negation word too ("haven't once had an
     * issue"), with no flag of the lexicon's to find it by. */
    assert_score("haven't once had the staff be bad", -2.5 * -0.5);
    assert_score("hasn't ever made the staff seem good", 1.9 * -0.74);
}

static void test_rule_never_so(void **state)
{
    (void)state;
    /* "never so good" is emphasis, not negation. */
    assert_score("never so good", (1.9 + 0.293) * 1.25);
    assert_score("never this good", 1.9 * 1.25);
}

static void test_rule_without_doubt(void **state)
{
    (void)state;
    assert_score("without doubt good", 1.9);
}

static void test_rule_least(void **state)
{
    (void)state;
    assert_score("least good", 1.9 * -0.74);
    assert_score("the least good", 1.9 * -0.74);
    assert_score("at least good", 1.9);
    assert_score("very least good", 1.9 + 0.293 * 0.95);
}

/* What there is less of is read as negated, after the dampening of
 * "less" (-0.293): "less comfortable" says uncomfortable, "fewer
 * crashes" is good news. Over "than" too, a token back (95%). Not "more
 * or less good"; "no less good" negates twice. */
static void test_rule_less(void **state)
{
    (void)state;
    assert_score("less good", (1.9 - 0.293) * -0.74);
    assert_score("less bad", (-2.5 + 0.293) * -0.5);
    assert_score("fewer bad", -2.5 * -0.5);
    assert_score("less than good", (1.9 - 0.293 * 0.95) * -0.74);
    assert_score("or less good", 1.9 - 0.293);
    assert_score("no less good", (1.9 * -0.74 + 0.293) * -0.74);
    /* "less" two words back, not through "than": dampened only. */
    assert_score("less very good", 1.9 + 0.293 - 0.293 * 0.95);
}

/* A good thing said of a past that is over ("used to be good", "used to
 * be very good") is read as negated, as "is over" reads it; not "got
 * used to" a good thing, nor a harm ("used to be bad" says nothing of
 * now). */
static void test_rule_used_to(void **state)
{
    (void)state;
    assert_score("it used to be good", 1.9 * -0.74);
    assert_score("it used to be very good", (1.9 + 0.293) * -0.74);
    assert_score("I used to love it", 3.2 * -0.74);
    assert_score("we got used to good", 1.9);
    assert_score("it used to be bad", -2.5);
    assert_score("it used to be. good", 1.9);
}

/* A text with no rated word whose form complains: its first complaint
 * form rates -1.0 (COMPLAINT), and "!" goes with it. Not a "why" inside
 * a sentence or "why not", nor a text with a rated word. */
static void test_rule_complaint(void **state)
{
    (void)state;
    assert_score("why is my order still here", -1.0);
    assert_score("Why is it here!", -1.0 - 0.292);
    assert_score("booked for 9am. nobody came", -1.0);
    assert_score("the app keeps logging me out", -1.0);
    assert_score("every single time", -1.0);
    assert_score("every time I open it", -1.0);
    assert_score("still not here", -1.0);
    assert_score("they told me to wait", -1.0);
    assert_score("for the third time", -1.0);
    assert_score("the 3rd time this week", -1.0);
    assert_score("I was told 2 days", -1.0);
    assert_score("it went on my card", -1.0);
    assert_score("I have called 3 times", -1.0);
    assert_score("it is 5 times faster", 0.0);
    /* "why not" asks no "why" of a complaint; its negation alone
     * counts, as in editorials' "Why not fund the schools?". */
    assert_score("why not", -0.5);
    /* With no form, the first negation rates -0.5 (NEG_ALONE); not
     * where a rule scored a word, nor a rated word. */
    assert_score("the parcel didn't come", -0.5);
    assert_score("it is not what I ordered", -0.5);
    assert_score("the strap is too short", -0.5);
    assert_score("me too", 0.0);
    assert_score("never using this courier again", -1.8);
    assert_score("not good", 1.9 * -0.74);
    assert_score("I know why", 0.0);
    assert_score("it is still here", 0.0);
    assert_score("the second time around", 0.0);
    assert_score("why is it so good", 1.9 + 0.293);
}

static void test_rule_no(void **state)
{
    (void)state;
    /* "no" before a rated word is a negation and rates nothing itself. */
    assert_score("no good", 1.9 * -0.74);
    /* Alone it keeps its own valence. */
    assert_score("no.", -1.2);
    /* Two tokens back, over a booster ("no more lag"), it is a negation
     * too and rates nothing itself; the booster adds in the direction of
     * the flipped valence. Before an unrated word it keeps its valence. */
    assert_score("no more bad", -2.5 * -0.5 + 0.293);
    assert_score("no school", -1.2);
    /* "zero" works as "no" before a rated word, and rates nothing
     * itself: "zero regrets" is no regret at all. */
    assert_score("zero bad", -2.5 * -0.5);
    assert_score("zero good", 1.9 * -0.74);
    assert_score("zero", 0);
    /* "no" said again is no negation of itself: each keeps its own. */
    assert_score("no no no", -1.2 * 3);
    assert_score("no no good", -1.2 + 1.9 * -0.74);
    /* A clause ends it: "no, bad idea" is a "no" and a "bad". */
    assert_score("no, bad", -1.2 - 2.5);
}

/* A clause of "if" or "unless" says what may be: its words count half,
 * to the clause's end; emoji keep their weight. */
static void test_rule_irrealis(void **state)
{
    (void)state;
    assert_score("if good", 1.9 * 0.5);
    assert_score("good if bad", 1.9 - 2.5 * 0.5);
    assert_score("if bad, good", -2.5 * 0.5 + 1.9);
    assert_score("unless awful", -3.0 * 0.5);
    assert_score("if :)", 2.0);
    /* A sentence's end ends it too. */
    assert_score("if bad. good", -2.5 * 0.5 + 1.9);
}

static void test_rule_polar_question(void **state)
{
    (void)state;
    /* A yes-no question asks about the praise it names: half of it. */
    assert_score("is it good?", 1.9 * 0.5);
    assert_score("Was the food good ?", 1.9 * 0.5);
    /* A trouble asked about keeps its weight, and so do emoji. */
    assert_score("is it bad?", -2.5);
    assert_score("is it good :)?", 1.9 * 0.5 + 2.0);
    /* Not a yes-no question, or not a question: full weight. */
    assert_score("why is it good?", 1.9);
    assert_score("is it good.", 1.9);
    /* Only the sentence that asks. */
    assert_score("is it good? it is good", 1.9 * 0.5 + 1.9);
    /* "How good is it?" asks how much of the praise there is: half, as
     * a yes-no question; the praise must follow "how" ("how is it
     * good?" asks why), and the sentence must ask. */
    assert_score("how good is it?", 1.9 * 0.5);
    assert_score("How happy are they with it?", 2.7 * 0.5);
    assert_score("how is it good?", 1.9);
    assert_score("how good is it!", 1.9 + 0.292);
    /* A question that asks the crowd to choose or recommend names the
     * praise it looks for: "which is better?", "anyone know a good
     * plumber?", "what's the best one?". Half, as a yes-no question. */
    assert_score("which is good?", 1.9 * 0.5);
    assert_score("Anyone know a good one?", 1.9 * 0.5);
    assert_score("what is good here?", 1.9 * 0.5);
    assert_score("which is good. it is", 1.9);
}

static void test_rule_plea(void **state)
{
    (void)state;
    /* "help" alone in its clause cries for help: -0.3, whatever its
     * valence and case. */
    assert_score("HELP", -0.3);
    assert_score("help!", -0.3 - 0.292);
    assert_score("Help. It is good", -0.3 + 1.9);
    /* With other words in its clause it is the word. */
    assert_score("help me", 1.7);
    assert_score("good help", 1.9 + 1.7);
}

static void test_rule_tears_of_joy(void **state)
{
    (void)state;
    struct es_lexicon *lex = NULL;
    assert_int_equal(es_lexicon_load(&lex, FIX "mini.tsv"), 0);
    assert_int_equal(es_lexicon_overlay(lex, FIX "tears.tsv"), 0);
    /* 😭 beside praise and no trouble: x -0.5 of its -1.6 ... */
    assert_score_with(lex, "so good \xF0\x9F\x98\xAD", 1.9 + 0.293 + 0.8);
    /* ... beside a trouble, or alone, it is tears. */
    assert_score_with(lex, "bad \xF0\x9F\x98\xAD", -2.5 - 1.6);
    assert_score_with(lex, "good and bad \xF0\x9F\x98\xAD", 1.9 - 2.5 - 1.6);
    assert_score_with(lex, "\xF0\x9F\x98\xAD", -1.6);
    /* A happy face praises too; an angry one only comments. (With no
     * word to read the language by, emoji are all a text is scored
     * on, and no rule applies: hence "she is home".) */
    assert_score_with(lex, "she is home \xF0\x9F\x98\xAD\xF0\x9F\x98\x80",
                      0.8 + 2.2);
    assert_score_with(lex, "she is home \xF0\x9F\x98\xAD\xF0\x9F\x98\xA1",
                      -1.6 - 2.8);
    assert_score_with(lex, "so good \xF0\x9F\x98\xAD\xF0\x9F\x98\xA1",
                      1.9 + 0.293 + 0.8 - 2.8);
    /* Words of tears are read the same way: "im crying, so good". */
    assert_score_with(lex, "crying, so good", -1.8 * -0.5 + 1.9 + 0.293);
    assert_score_with(lex, "crying \xF0\x9F\x98\xAD so good",
                      0.9 + 0.8 + 1.9 + 0.293);
    assert_score_with(lex, "crying, so bad", -1.8 - 2.5 - 0.293);
    assert_score_with(lex, "crying", -1.8);
    es_lexicon_free(lex);
}

/* "nothing says X like Y": Y is the very picture of X, so "like" is no
 * liking, and the praise of X is irony when Y is a plain trouble. */
static void test_rule_nothing_says(void **state)
{
    (void)state;
    struct es_lexicon *lex = NULL;
    assert_int_equal(es_lexicon_load(&lex, FIX "mini.tsv"), 0);
    assert_int_equal(es_lexicon_overlay(lex, FIX "nothing.tsv"), 0);
    assert_score_with(lex, "nothing says great like good", 3.1 + 1.9);
    assert_score_with(lex, "nothing says great like bad", 3.1 * -0.74 - 2.5);
    /* An expression that opens with "like" ends X too. */
    assert_score_with(lex, "nothing says great like this bad",
                      3.1 * -0.74 - 2.5);
    /* Without "nothing says", "like" is a liking again. */
    assert_score_with(lex, "great like bad", 3.1 + 1.5 - 2.5);
    es_lexicon_free(lex);
}

static void test_rule_caps(void **state)
{
    (void)state;
    /* ALL CAPS in mixed-case text adds 0.733 ... */
    assert_score("GOOD day", 1.9 + 0.733);
    assert_score("BAD day", -2.5 - 0.733);
    /* ... a shouted booster too ... */
    assert_score("VERY good day", 1.9 + 0.293 + 0.733);
    /* ... but not when everything is shouted. */
    assert_score("GOOD DAY", 1.9);
}

static void test_rule_but(void **state)
{
    (void)state;
    assert_score("good but bad", 1.9 * 0.5 - 2.5 * 1.5);
    assert_score("bad but good", -2.5 * 0.5 + 1.9 * 1.5);
    /* Only the first "but" of a sentence divides. */
    assert_score("good but bad but great", 1.9 * 0.5 + (-2.5 + 3.1) * 1.5);
    /* It weighs its own sentence: the next one keeps its weight ... */
    assert_score("good but bad. great", 1.9 * 0.5 - 2.5 * 1.5 + 3.1);
    /* ... and the one before unless "But" opens the sentence ... */
    assert_score("great. good but bad", 3.1 + 1.9 * 0.5 - 2.5 * 1.5);
    assert_score("great. But bad", 3.1 * 0.5 - 2.5 * 1.5);
    /* ... and each sentence has its own. */
    assert_score("good but bad. bad but good",
                 1.9 * 0.5 - 2.5 * 1.5 - 2.5 * 0.5 + 1.9 * 1.5);
    /* "not only ... but" adds: no weight moves, nothing is negated ... */
    assert_score("not only good but great", 1.9 + 3.1);
    assert_score("not only bad, but awful", -2.5 - 3.0);
    /* ... within its sentence only. */
    assert_score("not only good. But bad", 1.9 * 0.5 - 2.5 * 1.5);
}

static void test_rule_although(void **state)
{
    (void)state;
    /* A leading "although" clause is the subordinate one ... */
    assert_score("Although the food was bad, the service was great",
                 -2.5 * 0.5 + 3.1 * 1.5);
    /* ... as is one that follows the main clause. */
    assert_score("the food was great, although the wait was bad",
                 3.1 - 2.5 * 0.5);
    /* "however" is a "but". */
    assert_score("good, however bad", 1.9 * 0.5 - 2.5 * 1.5);
    /* "though" set off by commas near the start is "however": it turns
     * from the sentence before, as a leading "But" does ... */
    assert_score("it was great. lately though, it is bad",
                 3.1 * 0.5 - 2.5 * 1.5);
    assert_score("it was great. the app, though, is bad",
                 3.1 * 0.5 - 2.5 * 1.5);
    /* ... while a closing one says nothing about clauses. */
    assert_score("it is bad. good, though.", -2.5 + 1.9);
}

static void test_rule_exclamation(void **state)
{
    (void)state;
    assert_score("good!", 1.9 + 0.292);
    assert_score("good!!", 1.9 + 2 * 0.292);
    /* At most four count. */
    assert_score("good!!!!!!!", 1.9 + 4 * 0.292);
    assert_score("bad!!", -2.5 - 2 * 0.292);
    /* With no word of sentiment at all, "!" is enthusiasm: its emphasis
     * alone, positive ... */
    assert_score("hello there!!!", 3 * 0.292);
    assert_score("road trip tomorrow!", 0.292);
    /* ... but not with a "?", nor where rated words cancel out. */
    assert_score("you did what?!", 0.0);
    assert_score("happy and hate!", 0.0);
    assert_score("hello there", 0.0);
}

static void test_rule_question(void **state)
{
    (void)state;
    assert_score("good?", 1.9);
    assert_score("good??", 1.9 + 2 * 0.18);
    assert_score("good???", 1.9 + 3 * 0.18);
    assert_score("good?????", 1.9 + 0.96);
}

static void test_rule_emoticon_emoji(void **state)
{
    (void)state;
    assert_score("what a good day :)", 1.9 + 2.0);
    assert_score("what a good day:)", 1.9 + 2.0); /* glued */
    assert_score("what a day :(", -1.9);
    assert_score("what a day \xF0\x9F\x98\x80", 2.2); /* 😀 */
    /* Variation selector and skin tone do not hide an emoji. */
    assert_score("what a day \xF0\x9F\x98\x80\xEF\xB8\x8F", 2.2);
    assert_score("what a day \xF0\x9F\x98\x80\xF0\x9F\x98\xA1", 2.2 - 2.8);
    assert_score("i <3 it", 1.9);
    /* An emoticon or emoji is outside a negation's scope: "no", "not"
     * and "n't" flip the word they govern, never the face after it, and
     * "no" before a face keeps its own valence; "way" in "no way :)"
     * boosts nothing. */
    assert_score("i do not know :(", -1.9);
    assert_score("don't go \xF0\x9F\x98\x80", 2.2);
    assert_score("no :(", -1.2 - 1.9);
    assert_score("no way :)", -1.2 + 2.0);
    assert_score("not good :)", 1.9 * -0.74 + 2.0);
    assert_score("very :)", 2.0); /* and no booster's */
}

/* Praise of a plainly bad situation is irony, read as negated. */
static void test_rule_irony(void **state)
{
    (void)state;
    /* Praise alone in a clause that opens a sentence, then bad. */
    assert_score("great, bad day", 3.1 * -0.74 - 2.5);
    assert_score("great. awful.", 3.1 * -0.74 - 3.0);
    /* A run of it, a booster inside ("so great"). */
    assert_score("great. so great. awful", (3.1 + 3.1 + 0.293) * -0.74 - 3.0);
    /* Praise alone closing the sentence that told the bad news. */
    assert_score("bad day, great", -2.5 + 3.1 * -0.74);
    assert_score("good day, great", 1.9 + 3.1);
    assert_score("bad day. great", -2.5 + 3.1);
    /* As the text's last sentence, said with a particle, it closes the
     * news before it; not with more said after it. */
    assert_score("bad day. so great", -2.5 + (3.1 + 0.293) * -0.74);
    assert_score("bad day. oh, great", -2.5 + 3.1 * -0.74);
    assert_score("bad day. so great. good", -2.5 + 3.1 + 0.293 + 1.9);
    /* A feeling sums up as meant: "only one glitch. Very happy." */
    assert_score("bad day. so happy", -2.5 + 2.7 + 0.293);
    /* Particles may come first ("Oh wonderful, another outage"). */
    assert_score("oh great, bad day", 3.1 * -0.74 - 2.5);
    assert_score("oh, great. bad day", 3.1 * -0.74 - 2.5);
    /* So may laughter and "wow", said as sarcastically as "oh". */
    assert_score("lol great, bad day", 1.8 + 3.1 * -0.74 - 2.5);
    assert_score("wow great, bad day", 3.1 * -0.74 - 2.5);
    assert_score("lol great", 1.8 + 3.1);
    /* The comma is often left out before "another" or "more". */
    assert_score("great another bad day", 3.1 * -0.74 - 2.5);
    assert_score("great more bad days", 3.1 * -0.74 - (2.5 + 0.293));
    assert_score("great another good day", 3.1 + 1.9);
    /* The people thanked may follow thanks ("thanks guys, ..."); after
     * a lone adjective they are what it praises. */
    assert_score("thanks guys, another bad day", 1.9 * -0.74 - 2.5);
    assert_score("thanks everyone. still bad", 1.9 * -0.74 - 2.5);
    assert_score("great guys, bad day", 3.1 - 2.5);
    /* "love" before a doing frames what follows, as "love waiting". */
    assert_score("love finding bad things", 3.2 * -0.74 - 2.5);
    assert_score("love finding good things", 3.2 + 1.9);
    assert_score("love bad things", 3.2 - 2.5);
    /* What went wrong "when" it was thanked for is lived through. */
    assert_score("thanks for it when bad", 1.9 - 2.5);
    assert_score("thanks for bad when it", 1.9 * -0.74 - 2.5);
    /* No irony: a contrast first, praise in what follows, or praise of
     * a noun ("great day"), which is a mixed verdict. */
    assert_score("great, but bad", 3.1 * 0.5 - 2.5 * 1.5);
    assert_score("great, good day", 3.1 + 1.9);
    assert_score("great day, bad night", 3.1 - 2.5);
    /* A past state greeted as over is relief, not irony, unless it
     * came again. */
    assert_score("great, it was bad", 3.1 - 2.5);
    assert_score("great, it was bad again", 3.1 * -0.74 - 2.5);
    assert_score("great, the bad one is gone", 3.1 + -2.5 * -0.74);
    /* "at its finest" praises what comes before it in its clause: a
     * trouble there with no praise makes it irony. */
    assert_score("bad service at its finest", -2.5 + 2.4 * -0.74);
    assert_score("good service at its finest", 1.9 + 2.4);
    assert_score("bad, service at its finest", -2.5 + 2.4);
    assert_score("service at its finest", 2.4);
    /* An upside-down face marks the praise of its sentence as irony,
     * and of no other sentence. */
    assert_score("good \xF0\x9F\x99\x83", 1.9 * -0.74 - 0.3);
    assert_score("a good day. a happy one \xF0\x9F\x99\x83",
                 1.9 + 2.7 * -0.74 - 0.3);
    assert_score("a bad day \xF0\x9F\x99\x83", -2.5 - 0.3);
    /* Praise inside a quotation of two words or more is someone else's
     * voice when the writer's own words tell a trouble: it counts 0. */
    assert_score("\"a good day\" they said. bad", -2.5);
    assert_score("\xE2\x80\x9C"
                 "a good day"
                 "\xE2\x80\x9D"
                 " they said. bad",
                 -2.5);
    assert_score("\"a good day\" they said", 1.9);
    assert_score("\"a good bad day\" they said", 1.9 - 2.5);
    /* A lone "thanks" is meant unless the trouble goes on. */
    assert_score("thanks. bad day", 1.9 - 2.5);
    assert_score("thanks. still bad", 1.9 * -0.74 - 2.5);
    /* "thanks for" thanks for what comes before "after" or "during":
     * the trouble there was lived through, not given. */
    assert_score("thanks for the bad news", 1.9 * -0.74 - 2.5);
    assert_score("thanks for the news during the bad day", 1.9 - 2.5);
    assert_score("thanks for the news on the day where it was bad", 1.9 - 2.5);
    /* "thanks for that" closing its clause thanks for the bad news told
     * before it, in its sentence or the one before, past or not. */
    assert_score("bad day. thanks for that", -2.5 + 1.9 * -0.74);
    assert_score("it was bad, thanks for that one guys", -2.5 + 1.9 * -0.74);
    assert_score("good day. thanks for that", 1.9 + 1.9);
    assert_score("bad but good. thanks for that", -2.5 * 0.5 + 1.9 * 1.5 + 1.9);
    assert_score("bad day. thanks for that day", -2.5 + 1.9);
    assert_score("bad day. thanks for this", -2.5 + 1.9);
    /* Praise inside a clause, without a frame, is left alone. */
    assert_score("i love the bad guys", 3.2 - 2.5);
    /* The writer's own mark at the end: all its praise is negated, what
     * it says is bad stays bad; a URL's "/s" is no mark. */
    assert_score("great day, good vibes /s", (3.1 + 1.9) * -0.74);
    assert_score("great #sarcasm", 3.1 * -0.74);
    assert_score("good day #NOT  ", 1.9 * -0.74);
    assert_score("bad day /s", -2.5);
    assert_score("great http://x.co/s", 3.1);
}

/* A trouble said remedied ("fixed the bugs") rates nothing. */
static void test_rule_remedy(void **state)
{
    (void)state;
    assert_score("fixed the bad", 1.5);
    /* Up to four tokens back, within the clause. */
    assert_score("fixed most of my bad", 1.5);
    assert_score("fixed it and then the bad", 1.5 - 2.5);
    assert_score("fixed, bad", 1.5 - 2.5);
    /* A negated remedy leaves the trouble: the remedy scores below 0. */
    assert_score("never fixed the bad", 1.5 * -0.74 - 2.5);
    /* A verb between: the trouble is said of something else. */
    assert_score("the fixed one is bad", 1.5 - 2.5);
    /* Something rated positive between ends it, and so does a
     * conjunction: the trouble after it is news. */
    assert_score("fixed good bad", 1.5 + 1.9 - 2.5);
    assert_score("fixed it and bad", 1.5 - 2.5);
    assert_score("fixed it but bad", 1.5 * 0.5 - 2.5 * 1.5);
    /* The passive: the trouble before it, up to a word between. */
    assert_score("the bad one is fixed", 1.5);
    assert_score("the bad one was finally fixed", 1.5);
    assert_score("the bad one is not fixed", -2.5 + 1.5 * -0.74);
    assert_score("good, bad is fixed", 1.9 + 1.5);
    /* A trouble that ends ("gone", "went away"), unrated: the trouble is
     * read as negation reads it, unless the ending is negated. */
    assert_score("the bad one is gone", -2.5 * -0.74);
    assert_score("the bad one is not gone", -2.5);
    assert_score("the bad went away", -2.5 * -0.74);
    assert_score("the bad never went away", -2.5);
    /* Before what treats it, the trouble names the treatment, and it is
     * the treatment that ended; gone somewhere is no ending. */
    assert_score("the bad medication is gone", -2.5);
    assert_score("the bad is gone to the shop", -2.5);
}

/* What the people a thing is for hate or love rates nothing. */
static void test_rule_audience(void **state)
{
    (void)state;
    assert_score("great for people who hate it", 3.1);
    assert_score("great for anyone that hates it", 3.1);
    /* To the end of its clause, or a contrast. */
    assert_score("for people who hate it, great", 3.1);
    assert_score("for people who hate it, bad", -2.5);
    assert_score("great for people who hate it but bad", 3.1 * 0.5 - 2.5 * 1.5);
    /* No "for": the people are the writer's subject. */
    assert_score("i hate people who hate", -2.7 - 2.7);
}

/* Tears said of laughter rate nothing: "crying laughing", "lol I'm
 * crying", "crying 😂"; within the sentence and five tokens, up to a word
 * that gives the tears another cause. Typed-out laughter is out of a
 * negation's reach, as an emoji is; the verb is not. */
static void test_rule_laughter(void **state)
{
    (void)state;
    assert_score("crying", -1.8);
    assert_score("crying laughing", 1.8);
    assert_score("lol crying", 1.8);
    assert_score("crying \xF0\x9F\x98\x82", 2.2);
    assert_score("crying at the end of lol", 1.8);
    assert_score("crying at the end of it lol", -1.8 + 1.8);
    assert_score("crying. lol", -1.8 + 1.8);
    assert_score("crying because of it lol", -1.8 + 1.8);
    assert_score("not lol", 1.8);
    assert_score("not laughing", 1.8 * -0.74);
}

/* A good thing said over is a loss, read as negated; a trouble said
 * over is read as negated too. Only at the end of the clause: "over
 * 100" is a number. */
static void test_rule_ended(void **state)
{
    (void)state;
    assert_score("happy times are over", 2.7 * -0.74);
    assert_score("the good is over now", 1.9 * -0.74);
    assert_score("the outage is over", -1.0 * -0.74);
    /* Said as a headline, with no verb of being: "EV anxiety gone". */
    assert_score("outage gone", -1.0 * -0.74);
    assert_score("outage gone wild", -1.0);
    /* And a good thing said gone in a headline is a loss. */
    assert_score("all the good gone", 1.9 * -0.74);
    assert_score("all the good gone wild", 1.9);
    assert_score("the outage is over 100", -1.0);
    assert_score("happy times are not over", 2.7);
    /* Verbs that end what is before them need no verb of being, and
     * take an adverb or a time after them, not an object. */
    assert_score("the outage stopped", -1.0 * -0.74);
    assert_score("the outage stopped after a day", -1.0 * -0.74);
    assert_score("the outage stopped in a day", -1.0 * -0.74);
    assert_score("they stopped the outage", -1.0);
    assert_score("happy times stopped", 2.7 * -0.74);
    /* A headline's remedy at the end of its clause. */
    assert_score("outage fixed", 1.5);
    assert_score("outage fixed it", -1.0 + 1.5);
}

/* A price said raised is a trouble, -1.2, whatever the lexicon: the
 * verb up to three tokens before it, or the rise up to four after; not
 * negated, and not "up front". */
static void test_rule_price_rise(void **state)
{
    (void)state;
    assert_score("they raised my bill", -1.2);
    assert_score("hiked the monthly fares", -1.2);
    assert_score("the rent went up again", -1.2);
    assert_score("my premium has doubled", -1.2);
    assert_score("my renewal went up again", -1.2);
    assert_score("fees up 20%", -1.2);
    assert_score("they raised my bill. good", -1.2 + 1.9);
    /* Not raised: only the negation with nothing else rated counts
     * (NEG_ALONE, the complaint rule). */
    assert_score("they didn't raise the price", -0.5);
    assert_score("the bill never went up", -0.5);
    assert_score("pay the fee up front", 0);
    assert_score("raised my hopes", 0);
    assert_score("the bill, up there", 0);
    /* "up to" rises after a verb of moving, and "put" takes "up" on
     * either side; "sign up fee" and "up to half off" do not rise. */
    assert_score("the price went up to five pounds", -1.2);
    assert_score("they put the fares up", -1.2);
    assert_score("they put up the fees again", -1.2);
    assert_score("prices up to half off", 0);
    assert_score("a sign up fee", 0);
    assert_score("put the bill in the drawer", 0);
    assert_score("they didn't put the price up", -0.5);
}

/* A good thing that a verb of harm is done to is a loss, read as
 * negated: its object, after a determiner or a dropped "a", within two
 * words. */
static void test_rule_harmed(void **state)
{
    (void)state;
    assert_score("ruined my good day", -2.4 + 1.9 * -0.74);
    assert_score("ruined a great day", -2.4 + 3.1 * -0.74);
    assert_score("ruined the good and the great", -2.4 + 1.9 * -0.74 + 3.1);
    /* A verb whose form does not say so, from the rules' list. */
    assert_score("lose my happy days", -1.5 + 2.7 * -0.74);
    /* No object: a break, no determiner, or a harm that is no verb. */
    assert_score("ruined, my good day", -2.4 + 1.9);
    assert_score("ruined good days", -2.4 + 1.9);
    assert_score("bad my good day", -2.5 + 1.9);
}

/* A claim asked back and corrected the other way rates nothing; the
 * same way, it is emphasis and stays. */
static void test_rule_correction(void **state)
{
    (void)state;
    assert_score("good? more like bad", -2.5);
    assert_score("awful? more like great", 3.1);
    assert_score("bad? more like awful", -2.5 - 3.0);
    /* Only after a question. */
    assert_score("good. more like bad", 1.9 - 2.5);
    /* The correction is its own sentence: later ones weigh nothing in. */
    assert_score("good? more like bad. great", -2.5 + 3.1);
}

/* A "not" alone at the end, after a break, takes back the praise of
 * the sentence before it. */
static void test_rule_not_tail(void **state)
{
    (void)state;
    assert_score("good. not", 1.9 * -0.74);
    assert_score("happy. good... not", 2.7 + 1.9 * -0.74);
    assert_score("good not", 1.9);
    /* Alone in its clause before the text goes on. */
    assert_score("good... not, happy", 1.9 * -0.74 + 2.7);
    assert_score("good. not happy", 1.9 + 2.7 * -0.74);
}

/* A handle names an account: it rates nothing, makes no token, and sits
 * inside an expression without breaking it. */
static void test_rule_handle(void **state)
{
    (void)state;
    assert_score("@good morning", 0.0);
    assert_score("no @acme problem", 1.5);
    assert_score("(@bad) good", 1.9);
    assert_score(".@good @bad@mastodon.social good", 1.9);
    /* Its case is no shouting: the rest is all caps, so no emphasis. */
    assert_score("@acme GOOD DAY", 1.9);
    assert_score("GOOD day @acme", 1.9 + 0.733);
}

/* A hashtag whose capitals mark its words is read as those words, when
 * the lexicon does not know it whole; a word without '#' is not split. */
static void test_rule_camel_hashtag(void **state)
{
    (void)state;
    assert_score("#SoGood", 1.9 + 0.293);
    assert_score("#NotGood", 1.9 * -0.74);
    assert_score("#VeryBADService", -2.5 - 0.293 - 0.733); /* caps, too */
    assert_score("NotGood", 0.0);
    assert_score("#notgood", 0.0);
    /* The hashtag's words reach no word after it. */
    assert_score("#NotSponsored good", 1.9);
    assert_score("#VeryNice bad", -2.5);
}

static void test_rule_idiom(void **state)
{
    (void)state;
    /* The lexicon's "no problem" (1.5) beats "no" + "problem". */
    assert_score("no problem at all", 1.5);
    /* An expression may hold a comma, never a sentence's end. */
    assert_score("no, problem", 1.5);
    assert_score("no. problem", -1.2);
    assert_score("no! problem", -1.2 - 0.292);
    /* Built-in customer-service phrases. */
    assert_score("still waiting for my refund", -1.8);
    assert_score("you charged twice for one order", -2.4);
    assert_score("i want to cancel my account", -2.0);
    assert_score("no response from support", -1.8);
}

static void test_rule_elongation(void **state)
{
    (void)state;
    assert_score("goooood", 1.9);
    assert_score("sooo good", 1.9 + 0.293);
}

/* A masked swear word reads as the word it masks: the booster
 * "fucking" boosts, with its caps emphasis when typed in capitals; a
 * mask that spells no such word, or a '*' after another word, changes
 * nothing. */
static void test_rule_masked_swearing(void **state)
{
    (void)state;
    assert_score("f***ing good", 1.9 + 0.293);
    assert_score("fu*king good", 1.9 + 0.293);
    assert_score("good F***ING good", 1.9 + 1.9 + 0.293 + 0.733);
    assert_score("good*", 1.9);
    assert_score("good** stuff", 1.9);
    assert_score("5*3 good", 1.9);
    assert_score("g**d", 0.0); /* not a word people mask */
    struct es_sentiment r;
    struct es_sentiment_explain ex = ES_SENTIMENT_EXPLAIN_INIT;
    const char *text = "so f**king good!";
    assert_int_equal(es_sentiment_explain(mini, text, strlen(text), &r, &ex),
                     0);
    assert_int_equal(ex.n, 3);
    /* The token spans the whole masked word, not "f" and "king". */
    assert_int_equal(ex.tokens[1].offset, 3);
    assert_int_equal(ex.tokens[1].len, 7);
    assert_true(ex.tokens[1].rules & ES_RULE_MODIFIER);
    es_sentiment_explain_release(&ex);
}

/* How people type on social media: laughter of any length, a last
 * letter typed twice, faces typed one after another, longer than listed
 * or glued to a word, and "-_-". */
static void test_rule_social_spellings(void **state)
{
    (void)state;
    static const char src[] = "haha\t1.8\nhahaha\t2.0\nhehe\t1.6\n"
                              "lol\t1.8\nlolol\t2.0\nsad\t-2.1\n"
                              "star\t1.0\ngood\t1.9\n:)\t2.0\n:))\t2.1\n"
                              ":(\t-1.9\n:d\t2.2\n:-)\t2.0\n:'(\t-2.3\n"
                              "<3\t2.6\n</3\t-2.0\n:/\t-1.0\n-_-\t-1.2\n";
    struct es_lexicon *lex = NULL;
    assert_int_equal(es_lexicon_load_buf(&lex, "social", src, strlen(src)), 0);
    const struct {
        const char *text;
        double sum;
    } cases[] = {
        /* laughter: any length, either vowel, "lol" repeated */
        { "hahaa", 1.8 },
        { "ahahhahahahah", 2.0 },
        { "hehehehe", 1.6 },
        { "hihi", 1.6 },
        { "lolololol", 2.0 },
        { "hah", 0 },  /* too short to be taken for laughter */
        { "hahz", 0 }, /* not laughter */
        /* the last letter typed twice, not in a capitalised name */
        { "sadd", -2.1 },
        { "Starr", 0 },
        /* faces typed one after another, or longer than listed */
        { ":):)", 4.0 },
        { ":)))))))", 2.1 },
        { ":DDDD", 2.2 },
        { "<3333333", 2.6 },
        { "<3<3", 5.2 },
        { ":'((((", -2.3 },
        /* faces glued to the word before */
        { "good:D", 1.9 + 2.2 },
        { "good:-)", 1.9 + 2.0 },
        { "sad:'(", -2.1 - 2.3 },
        { "good<3", 1.9 + 2.6 },
        { "good</3", 1.9 - 2.0 },
        { "-_-", -1.2 },
        /* times, numbers and URLs hold no faces */
        { "good at 3:30", 1.9 },
        { "good 3:3", 1.9 },
        { "good http://example.com/x", 1.9 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double got = score_with(lex, cases[i].text).compound;
        double want = cases[i].sum != 0 ? norm(cases[i].sum) : 0;
        if (fabs(got - want) > 1e-4)
            fail_msg("'%s': compound %.6f, expected %.6f", cases[i].text, got,
                     want);
    }
    es_lexicon_free(lex);
}

static void test_rule_unicode_fold(void **state)
{
    (void)state;
    /* "Café" is in the lexicon; NFKC case folding finds every spelling:
     * precomposed, combining accent, upper case. */
    assert_score("CAF\xC3\x89 time", 0.4 + 0.733);
    assert_score("Cafe\xCC\x81 time", 0.4);
    assert_score("caf\xC3\xA9 time", 0.4);
}

static void test_proportions(void **state)
{
    (void)state;
    struct es_sentiment r = score_with(mini, "good day");
    /* pos = (1.9 + 1) / (2.9 + 1), neu = 1 / 3.9 */
    assert_true(fabs(r.pos - 2.9 / 3.9) < 1e-4);
    assert_true(fabs(r.neu - 1.0 / 3.9) < 1e-4);
    assert_true(fabs(r.neg) < 1e-9);
    assert_int_equal(r.label, ES_SENTIMENT_POSITIVE);
    r = score_with(mini, "good but bad");
    assert_true(fabs(r.pos + r.neu + r.neg - 1.0) < 1e-9);
    assert_int_equal(r.label, ES_SENTIMENT_NEGATIVE);
    r = score_with(mini, "the weather today");
    assert_int_equal(r.label, ES_SENTIMENT_NEUTRAL);
    assert_true(fabs(r.neu - 1.0) < 1e-9);
    assert_string_equal(es_sentiment_label_name(1), "positive");
    assert_string_equal(es_sentiment_label_name(0), "neutral");
    assert_string_equal(es_sentiment_label_name(-1), "negative");
}

static void test_label_thresholds(void **state)
{
    (void)state;
    struct es_lexicon *lex = NULL;
    /* norm(0.2) = 0.0515: positive; norm(0.19) = 0.049: neutral. */
    const char *src = "meh\t0.2\nnah\t0.19\nugh\t-0.2\n";
    assert_int_equal(es_lexicon_load_buf(&lex, "t", src, strlen(src)), 0);
    assert_int_equal(score_with(lex, "meh").label, ES_SENTIMENT_POSITIVE);
    assert_int_equal(score_with(lex, "nah").label, ES_SENTIMENT_NEUTRAL);
    assert_int_equal(score_with(lex, "ugh").label, ES_SENTIMENT_NEGATIVE);
    es_lexicon_free(lex);
}

static void test_explain(void **state)
{
    (void)state;
    struct es_sentiment r;
    struct es_sentiment_explain ex = ES_SENTIMENT_EXPLAIN_INIT;
    const char *text = "this is NOT good, but great!";
    assert_int_equal(es_sentiment_explain(mini, text, strlen(text), &r, &ex),
                     0);
    assert_int_equal(ex.n, 6);
    /* "NOT" is a modifier; "good" is negated and halved before "but". */
    assert_memory_equal(text + ex.tokens[2].offset, "NOT", 3);
    assert_true(ex.tokens[2].rules & ES_RULE_MODIFIER);
    assert_memory_equal(text + ex.tokens[3].offset, "good", 4);
    assert_int_equal(ex.tokens[3].len, 4);
    assert_true(fabs(ex.tokens[3].valence - 1.9) < 1e-6);
    assert_true(fabs(ex.tokens[3].score - 1.9 * -0.74 * 0.5) < 1e-5);
    assert_true(ex.tokens[3].rules & ES_RULE_NEGATION);
    assert_true(ex.tokens[3].rules & ES_RULE_BUT_BEFORE);
    assert_true(ex.tokens[5].rules & ES_RULE_BUT_AFTER);
    assert_true(fabs(ex.tokens[5].score - 3.1 * 1.5) < 1e-5);
    assert_true(fabs(ex.punctuation - 0.292) < 1e-6);
    /* The explained score is the plain score. */
    struct es_sentiment plain = score_with(mini, text);
    assert_true(fabs(plain.compound - r.compound) < 1e-12);
    assert_true(fabs(r.compound - norm(ex.sum + ex.punctuation)) < 1e-6);
    assert_string_equal(es_sentiment_rule_name(ES_RULE_NEGATION), "negation");
    assert_string_equal(es_sentiment_rule_name(ES_RULE_CAPS), "caps");
    assert_string_equal(es_sentiment_rule_name(1u << 30), "?");
    /* Every rule up to the last one has a name --explain can print. */
    for (unsigned bit = 1; bit <= ES_RULE_LAST; bit <<= 1)
        assert_string_not_equal(es_sentiment_rule_name(bit), "?");
    assert_string_equal(es_sentiment_rule_name(ES_RULE_REMEDY), "remedy");
    assert_string_equal(es_sentiment_rule_name(ES_RULE_AUDIENCE), "audience");
    assert_string_equal(es_sentiment_rule_name(ES_RULE_LAUGHTER), "laughter");
    assert_string_equal(es_sentiment_rule_name(ES_RULE_ENDED), "ended");
    assert_string_equal(es_sentiment_rule_name(ES_RULE_IRREALIS), "irrealis");
    assert_string_equal(es_sentiment_rule_name(ES_RULE_QUESTION), "question");
    assert_string_equal(es_sentiment_rule_name(ES_RULE_PLEA), "plea");
    assert_string_equal(es_sentiment_rule_name(ES_RULE_JOY), "joy");
    assert_string_equal(es_sentiment_rule_name(ES_RULE_FEARED), "feared");
    assert_string_equal(es_sentiment_rule_name(ES_RULE_RAISED), "price rise");
    es_sentiment_explain_release(&ex);
    assert_null(ex.tokens);
    assert_int_equal(ex.n, 0);
}

/* ==== Properties ==== */

static const char *const positive_words[] = { "good", "great", "happy",
                                              "love" };
static const char *const negative_words[] = { "bad", "awful", "hate" };

static void test_prop_negation_flips_sign(void **state)
{
    (void)state;
    char buf[128];
    for (size_t i = 0; i < 4; i++) {
        snprintf(buf, sizeof(buf), "this is %s", positive_words[i]);
        double plain = compound(buf);
        snprintf(buf, sizeof(buf), "this is not %s", positive_words[i]);
        assert_true(plain > 0 && compound(buf) < 0);
        snprintf(buf, sizeof(buf), "this isn't %s", positive_words[i]);
        assert_true(compound(buf) < 0);
    }
    for (size_t i = 0; i < 3; i++) {
        snprintf(buf, sizeof(buf), "this is %s", negative_words[i]);
        double plain = compound(buf);
        snprintf(buf, sizeof(buf), "this is never %s", negative_words[i]);
        assert_true(plain < 0 && compound(buf) > 0);
    }
}

static void test_prop_boosters_and_caps_raise_magnitude(void **state)
{
    (void)state;
    char a[128], b[128], c[128];
    const char *all[] = { "good", "great", "happy", "bad", "awful", "hate" };
    for (size_t i = 0; i < 6; i++) {
        snprintf(a, sizeof(a), "it was %s", all[i]);
        snprintf(b, sizeof(b), "it was extremely %s", all[i]);
        snprintf(c, sizeof(c), "it was %s", all[i]);
        for (char *p = c + 7; *p; p++)
            *p = (char)(*p - 32); /* upper-case the word */
        double base = fabs(compound(a));
        assert_true(fabs(compound(b)) > base);
        assert_true(fabs(compound(c)) > base);
        snprintf(b, sizeof(b), "it was slightly %s", all[i]);
        assert_true(fabs(compound(b)) < base);
    }
}

static void test_prop_but_shifts_weight(void **state)
{
    (void)state;
    /* Whatever comes after "but" wins when the two are equally strong. */
    assert_true(compound("good but bad") < 0);
    assert_true(compound("bad but good") > 0);
    assert_true(compound("great but awful") < 0);
    assert_true(compound("awful but great") > 0);
    /* And it weighs more than without "but". */
    assert_true(compound("good but bad") < compound("good and bad"));
}

static void test_prop_exclamation_raises_magnitude(void **state)
{
    (void)state;
    assert_true(compound("good!!!") > compound("good!"));
    assert_true(compound("good!") > compound("good"));
    assert_true(compound("bad!!!") < compound("bad"));
}

/* ==== Loaders ==== */

static void test_load_earshot(void **state)
{
    (void)state;
    double v;
    assert_int_equal(es_lexicon_format_of(mini), ES_LEXICON_EARSHOT);
    assert_int_equal(es_lexicon_size(mini), 37);
    assert_int_equal(es_lexicon_lookup(mini, "GOOD", &v), 1);
    assert_true(fabs(v - 1.9) < 1e-6);
    assert_int_equal(es_lexicon_lookup(mini, "no   problem", &v), 1);
    assert_true(fabs(v - 1.5) < 1e-6);
    assert_int_equal(es_lexicon_lookup(mini, "caf\xC3\xA9", &v), 1);
    assert_int_equal(es_lexicon_lookup(mini, "unknownword", &v), 0);
    /* Rule words are known but not rated. */
    assert_int_equal(es_lexicon_lookup(mini, "very", &v), 0);
}

static void test_load_vader(void **state)
{
    (void)state;
    struct es_lexicon *lex = NULL;
    double v;
    assert_int_equal(es_lexicon_load(&lex, FIX "vader.txt"), 0);
    assert_int_equal(es_lexicon_format_of(lex), ES_LEXICON_VADER);
    assert_int_equal(es_lexicon_size(lex), 4);
    assert_int_equal(es_lexicon_lookup(lex, "horrible", &v), 1);
    assert_true(fabs(v + 2.5) < 1e-6);
    assert_true(fabs(score_with(lex, "horrible day").compound - norm(-2.5)) <
                1e-4);
    assert_true(fabs(score_with(lex, "a good day :)").compound -
                     norm(1.9 + 2.0)) < 1e-4);
    es_lexicon_free(lex);
}

static void test_load_afinn(void **state)
{
    (void)state;
    struct es_lexicon *lex = NULL;
    double v;
    assert_int_equal(es_lexicon_load(&lex, FIX "afinn.txt"), 0);
    assert_int_equal(es_lexicon_format_of(lex), ES_LEXICON_AFINN);
    assert_int_equal(es_lexicon_size(lex), 5);
    /* Integers on -5..+5 are scaled by 0.8 onto -4..+4. */
    assert_int_equal(es_lexicon_lookup(lex, "good", &v), 1);
    assert_true(fabs(v - 2.4) < 1e-6);
    assert_int_equal(es_lexicon_lookup(lex, "breathtaking", &v), 1);
    assert_true(fabs(v - 4.0) < 1e-6);
    /* Its multi-word entries work as expressions. */
    assert_true(fabs(score_with(lex, "i can't stand the day").compound -
                     norm(-3 * 0.8)) < 1e-4);
    es_lexicon_free(lex);
}

static void expect_load_error(const char *file, int code, const char *where,
                              const char *what)
{
    struct es_lexicon *lex = (struct es_lexicon *)1;
    char path[512];
    snprintf(path, sizeof(path), "%s%s", FIX, file);
    assert_int_equal(es_lexicon_load(&lex, path), code);
    assert_null(lex);
    const char *msg = es_error_last();
    if (!strstr(msg, where) || !strstr(msg, what))
        fail_msg("message '%s' lacks '%s' or '%s'", msg, where, what);
}

static void test_load_malformed(void **state)
{
    (void)state;
    expect_load_error("bad_notab.tsv", ES_EINVALID,
                      "bad_notab.tsv:3: ", "no tab");
    expect_load_error("bad_number.tsv", ES_EINVALID,
                      "bad_number.tsv:3: ", "'very' is not a number");
    expect_load_error("bad_range.tsv", ES_EINVALID,
                      "bad_range.tsv:3: ", "out of range");
    expect_load_error("bad_vader.txt", ES_EINVALID,
                      "bad_vader.txt:2: ", "expected 4 tab-separated fields");
    expect_load_error("no-such-file.tsv", ES_ENOTFOUND, "no-such-file.tsv",
                      "cannot open");
}

static void test_load_buf_edge_cases(void **state)
{
    (void)state;
    struct es_lexicon *lex = NULL;
    double v;
    /* A BOM, CRLF line ends, blank and comment lines, blanks around. */
    const char *src =
        "\xEF\xBB\xBF# c\r\n\r\n  \r\nGood \t 1.5 \r\nbad\t-2\r\n";
    assert_int_equal(es_lexicon_load_buf(&lex, "crlf", src, strlen(src)), 0);
    assert_int_equal(es_lexicon_size(lex), 2);
    assert_int_equal(es_lexicon_lookup(lex, "good", &v), 1);
    assert_true(fabs(v - 1.5) < 1e-6);
    es_lexicon_free(lex);

    const char *bad[][2] = {
        { "\tx\n", "empty term" },           { "a\t1\t2\n", "found 3 fields" },
        { "a\xff\t1\n", "not valid UTF-8" }, { "a\tnan\n", "not a number" },
        { "a\t1e999\n", "not a number" },    { "a\t6\n", "out of range" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        lex = NULL;
        int rc = es_lexicon_load_buf(&lex, "mem", bad[i][0], strlen(bad[i][0]));
        assert_int_equal(rc, ES_EINVALID);
        assert_null(lex);
        if (!strstr(es_error_last(), "mem:1: ") ||
            !strstr(es_error_last(), bad[i][1]))
            fail_msg("case %zu: '%s'", i, es_error_last());
    }
    /* A NUL byte: named with its line when in a term's line, and of no
     * harm in a comment, before or after the terms. */
    static const char nul_in_term[] = "# a\0b\ngood\t1\nb\0d\t-1\n";
    lex = NULL;
    assert_int_equal(
        es_lexicon_load_buf(&lex, "nul", nul_in_term, sizeof(nul_in_term) - 1),
        ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "nul:3: NUL byte"));
    static const char nul_in_comment[] = "# a\0b\ngood\t1\n# c\0\n";
    assert_int_equal(es_lexicon_load_buf(&lex, "nul", nul_in_comment,
                                         sizeof(nul_in_comment) - 1),
                     0);
    assert_int_equal(es_lexicon_size(lex), 1);
    es_lexicon_free(lex);
    /* An empty file is a valid, empty lexicon: the rules still work. */
    assert_int_equal(es_lexicon_load_buf(&lex, "empty", "", 0), 0);
    assert_int_equal(es_lexicon_size(lex), 0);
    assert_true(fabs(score_with(lex, "very good").compound) < 1e-12);
    es_lexicon_free(lex);
}

/* A text and the sign the shipped lexicon must give it. */
struct sign_case {
    const char *text;
    int sign;
};

/* Scores each of @cases with the shipped lexicon and fails on the first
 * whose sign is not the expected one. */
static void assert_shipped_signs(const struct sign_case *cases, size_t n)
{
    struct es_lexicon *lex = NULL;
    assert_int_equal(
        es_lexicon_load(&lex, ES_SOURCE_DIR "/config/lexicons/earshot-en.tsv"),
        0);
    for (size_t i = 0; i < n; i++) {
        double c = score_with(lex, cases[i].text).compound;
        int sign = c >= 0.05 ? 1 : c <= -0.05 ? -1 : 0;
        if (sign != cases[i].sign)
            fail_msg("'%s': compound %.4f, expected sign %d", cases[i].text, c,
                     cases[i].sign);
    }
    es_lexicon_free(lex);
}

/* The shipped lexicon reads customer-service language the way a support
 * team would: the issue's examples and messages of our own, none from
 * an evaluation set. Signs only: valences are the lexicon's to tune. */
static void test_shipped_lexicon_customer_service(void **state)
{
    (void)state;
    static const struct sign_case cases[] = {
        { "still waiting for my order", -1 },
        { "no response from support after a week", -1 },
        { "you charged twice for one order", -1 },
        { "I want to cancel my account", -1 },
        { "worst support ever", -1 },
        { "thanks for the quick fix", 1 },
        { "Third time I'm asking: where is my refund?", -1 },
        { "I've been on hold for 45 minutes", -1 },
        { "Why is nobody answering my emails?", -1 },
        { "I want to speak to a manager", -1 },
        { "I'm switching to your competitor", -1 },
        { "My package was supposed to arrive Monday", -1 },
        { "The update broke everything", -1 },
        { "Acme raises prices on storage", -1 },
        { "Looks like a backup job", 0 },
        { "Arrived a day early, very happy", 1 },
        { "Works like a charm", 1 },
        { "The new feature is exactly what I needed", 1 },
        { "Problem solved in five minutes, amazing", 1 },
        { "hardly good", -1 },
        { "I can't recommend it enough", 1 },
        { "It can't get any better", 1 },
        { "nothing but praise for the team", 1 },
        { "could have been worse", 1 },
        { "thanks for nothing", -1 },
        { "don't bother with their support", -1 },
        { "you had one job", -1 },
        { "Used to be a great app. Since the last update it crashes.", -1 },
        { "I really wanted to like this", -1 },
        { "for the price I expected a lot more", -1 },
        { "Support closed my ticket without fixing anything", -1 },
        { "Nobody has replied to my ticket in 5 days", -1 },
        { "they haven't replied in a week", -1 },
        { "radio silence from support since Monday", -1 },
        { "cancelling shouldnt be this hard", -1 },
        { "Support ticket closed without a reply", -1 },
        { "My package says delivered but it's not here", -1 },
        { "My internet has been dropping every 10 minutes all week", -1 },
        { "Absolute joke of a company", -1 },
        { "Acme never fails to disappoint", -1 },
        { "would not recommend this charger", -1 },
        { "you really need to fix your website", -1 },
        { "you absolute legends, sorted in minutes", 1 },
        { "ngl the new update slaps", 1 },
        { "this phone is lowkey fire", 1 },
        { "thanks but that didn't help at all", -1 },
        { "I'd appreciate it if someone could look into it, it's 2 weeks "
          "late",
          -1 },
        { "Appreciate the reply but I still don't have my money back", -1 },
        { "Price went up again, not sure it's worth it anymore", -1 },
        { "Solid app. Does what I need, no frills.", 1 },
        { "your product changed my life", 1 },
        { "Acme to lay off 500 workers", -1 },
        { "third time I'm reaching out. Please respond.", -1 },
        { "I literally can't with your app today", -1 },
        { "insane value for the money", 1 },
        /* Product and app reviews. */
        { "Save your money and buy something else.", -1 },
        { "Returned for a refund. Would not buy again.", -1 },
        { "Cheap plastic, feels like it will break any minute.", -1 },
        { "Smaller than I expected.", -1 },
        { "Does the job, nothing more, nothing less.", 1 },
        { "Why do I have to pay for features that used to be free?", -1 },
        { "Can't even open it anymore.", -1 },
        { "Don't waste your time.", -1 },
        { "Wish I could get my money back.", -1 },
        { "Way too many notifications.", -1 },
        { "I've tried them all and this is the one.", 1 },
        { "not the worst experience but far from the best", -1 },
        { "it's been down all morning, any ETA?", -1 },
        { "I'm never ordering from you again", -1 },
        { "The quality has gone downhill.", -1 },
        { "Would return if I could.", -1 },
        { "Not what I ordered.", -1 },
        { "Meets expectations.", 1 },
        { "Doesn't hold a charge.", -1 },
        { "Had to send it back twice.", -1 },
        { "I would definitely purchase again.", 1 },
        { "Wish I had bought this sooner.", 1 },
        { "The battery barely lasts a day.", -1 },
        { "The screen scratches easily.", -1 },
        { "Runs hot and the fan is loud.", -1 },
        { "Hard to clean.", -1 },
        { "Lasted longer than I thought it would.", 1 },
        /* Headlines. */
        { "Acme fined $5 million by regulators", -1 },
        { "Acme beats earnings expectations", 1 },
        { "Acme misses revenue forecast, shares slide", -1 },
        { "Acme cuts prices on its flagship model", 1 },
        { "Acme's new app tops the charts", 1 },
        { "this ain't it chief", -1 },
        /* "like" the preposition says nothing; the verb still does. */
        { "the room smelled like coffee", 0 },
        { "it broke like a cheap toy", -1 },
        { "I like the new design", 1 },
        { "I do not like the new design", -1 },
        { "Oh great, another outage.", -1 },
        { "yeah right, like that will ever happen", -1 },
        { "the new pricing is a slap in the face to loyal customers", -1 },
        { "it works, but barely", -1 },
        { "took them 3 weeks to answer a simple question", -1 },
        { "the update deleted all my photos. cool. cool cool cool.", -1 },
        { "the chat agent just disconnected on me. again.", -1 },
        { "I'm speechless. How is this acceptable?", -1 },
        { "Not sure what happened but my account is locked", -1 },
        { "Called support about a billing error. It's been three weeks. "
          "Still being charged.",
          -1 },
        { "just reinstalled and it works again, false alarm", 1 },
        /* Developer tools. */
        { "Breaking change in a minor version, again", -1 },
        { "Performance regression after upgrading to 3.2", -1 },
        { "This is a blocker for us", -1 },
        { "LGTM", 1 },
        /* Forum talk. */
        { "Acme is fine for casual use but I wouldn't rely on it for work",
          -1 },
        { "Acme is the GOAT of note apps", 1 },
        { "Acme is basically abandonware at this point", -1 },
        { "I'd rather eat glass than use Acme again", -1 },
        { "Acme got bought and it's been downhill since", -1 },
        { "Bold of Acme to charge $30 for this", -1 },
        /* Games, food, travel. */
        { "rubber banding everywhere", -1 },
        { "my burger was raw in the middle", -1 },
        { "the new menu slaps", 1 },
        { "the bully slaps him", -1 },
        { "waited 45 min for a coffee", -1 },
        /* Banks and insurers. */
        { "the app won't let me transfer money, keeps saying try again later",
          -1 },
        { "a member for 15 years and you still treat me like this", -1 },
        { "my claim has been pending for 3 months", -1 },
        /* Praise in slang. */
        { "this is sick, can't wait to try it", 1 },
        { "stupid good coffee", 1 },
        { "you never miss", 1 },
        { "could not be more pleased", 1 },
        { "support was friendly but couldn't fix anything", -1 },
        { "no setup, it just works", 1 },
        /* Developer tools. */
        { "Segfault on startup after upgrading", -1 },
        { "Memory leak in 8.1, please fix", -1 },
        { "Deprecated without warning", -1 },
        { "Works out of the box, zero config", 1 },
        /* Scores out of five and ten, and the same digits as a date. */
        { "solid 8/10, would buy again", 1 },
        { "rated it 2/5", -1 },
        { "see you on 10/10", 0 },
        { "the event is on 4/5", 0 },
        { "Pay to win garbage", -1 },
        { "Tastes like cardboard", -1 },
        /* Travel, utilities, delivery, streaming and billing. */
        { "roaming charges of $300 for a weekend, are you kidding me", -1 },
        { "my bill went up $20 with zero notice", -1 },
        { "estimated bill doubled, nobody has read the meter", -1 },
        { "power's been out for 14 hours and your map says restored", -1 },
        { "buffering every 30 seconds on a 1gbps line", -1 },
        { "the tracking hasn't updated in a week", -1 },
        { "the chatbot keeps looping me back to the FAQ", -1 },
        { "calling me about a warranty I never asked for", -1 },
        { "technician no-showed for the second time", -1 },
        { "booked a sea view, got a wall view. front desk shrugged", -1 },
        { "promo code doesn't apply at checkout", -1 },
        { "the gate agent rebooked me in 5 minutes, legend", 1 },
        { "shoutout to the night shift", 1 },
        /* Verdicts the rules read the wrong way round or not at all. */
        { "it's not the same anymore", -1 },
        { "I can't say enough good things", 1 },
        { "couldn't have asked for more", 1 },
        { "not up to par", -1 },
        { "I'd buy it again in a heartbeat", 1 },
        { "I want to like it but", -1 },
        { "they never listen to feedback", -1 },
        { "crickets from support", -1 },
        /* Replies in a support thread. */
        { "you guys rock", 1 },
        { "works now!", 1 },
        { "that did the trick", 1 },
        { "that didn't do the trick", -1 },
        { "please change it back", -1 },
        { "so over this app", -1 },
        /* "upgrade" alone is mostly the act, not a verdict. */
        { "upgrade to Pro, it's meh", -1 },
        { "the new version is a huge upgrade", 1 },
        /* "classic" is often a name; a discontinued product a loss. */
        { "Acme will discontinue the classic plan in March", 0 },
        { "they discontinued the only flavor I buy", -1 },
        { "an instant classic", 1 },
        /* Product reviews: fit, finish, damage and wear. */
        { "runs small, had to return for a bigger size", -1 },
        { "smells like chemicals, even after washing", -1 },
        /* "like" after a verb of seeming compares; names that hold a
         * rated word are things a complaint is about. */
        { "it started smelling like burning plastic", -1 },
        { "Greenwashing at its finest", -1 },
        { "haven't once had an issue with them", 1 },
        /* A working state told as past before a change has ended. */
        { "it worked fine until the update", -1 },
        { "It was working fine in version 1.4", -1 },
        { "it worked perfectly on my trip", 1 },
        /* A rescue keeps the trouble off; nothing more to pay. */
        { "the teller saved me from a scam today", 1 },
        { "oat milk at no extra charge from March", 1 },
        /* "genuinely" says how much, not how good. */
        { "I genuinely cannot find the deposit button", -1 },
        { "Incompetence at its best", -1 },
        { "love waiting 2 hours for a cold burger, thanks \xF0\x9F\x99\x83",
          -1 },
        { "raised my bill with no notice. love that for me "
          "\xF0\x9F\x99\x83",
          -1 },
        { "truly I am shocked \xF0\x9F\x99\x84", -1 },
        { "\"Your feedback helps us improve!\" - every time they lose my "
          "order",
          -1 },
        { "\"we've checked and there are no issues in your area\" there ARE "
          "issues",
          -1 },
        /* Tears beside a quotation are no trouble that makes it irony. */
        { "the rider left a note saying \"hope the exam went well\" "
          "\xF0\x9F\x98\xAD",
          1 },
        { "my rewards balance shows $0 after the update", 0 },
        /* A trouble feared or kept off is no praise. */
        { "I don't want to lose my data", 0 },
        { "how accurate is the heart rate sensor?", 1 },
        { "the lid doesn't close properly", -1 },
        { "arrived with a dent on the side", -1 },
        { "looks brand new", 1 },
        { "the sole started peeling off", -1 },
        { "the sizing chart is way off", -1 },
        { "fits like a glove", 1 },
        /* A brand in a storm. */
        { "unfollowed @acme after that statement", -1 },
        { "this ad is tone deaf", -1 },
        { "who approved this ad", -1 },
        { "Acme handled this really well", 1 },
        { "class action filed against Acme", -1 },
        { "Acme stock tanks after recall", -1 },
        { "ratioed by their own customers", -1 },
        /* Irony: praise of a plainly bad situation, and praise that is
         * meant. */
        { "Great, another price increase", -1 },
        { "Wonderful. My flight is cancelled again.", -1 },
        { "Perfect. Just perfect. Order lost again.", -1 },
        { "thanks for the 3 hour delay", -1 },
        { "oh wonderful, another outage", -1 },
        { "servers are down during the launch, great timing", -1 },
        { "Flight cancelled again, awesome", -1 },
        { "Perfect timing, the package arrived just as I got home!", 1 },
        { "I got the job, great!", 1 },
        { "oh wonderful, my order arrived early", 1 },
        { "5 stars? more like 1 star", -1 },
        { "Terrible service? More like the best service ever", 1 },
        { "thanks a lot for the 3 hour delay", -1 },
        { "thanks so much for cancelling my order", -1 },
        { "just what I needed, another bug", -1 },
        { "thanks so much for the quick help", 1 },
        { "great job losing my package", -1 },
        { "gotta love waiting 2 hours on hold", -1 },
        { "love how you can't reach a human anymore", -1 },
        { "nice of you to cancel my order without telling me", -1 },
        { "Great, thanks for fixing the outage so fast!", 1 },
        { "Awesome, the crash is fixed now", 1 },
        { "thanks for helping with the outage last night", 1 },
        /* The trouble after "after" is what was put right. */
        { "Thank you for rebooking me after the cancellation", 1 },
        { "thanks for losing my bag after the delay", -1 },
        { "thanks for the outage during my exam", -1 },
        { "thanks for making me wait 3 hours", -1 },
        { "love how easy the setup was", 1 },
        { "great for back pain", 1 },
        { "Thanks! I had been locked out for days.", 1 },
        { "Great, my package was lost again", -1 },
        { "Thanks. Still waiting though.", -1 },
        { "Thank you. My order is still missing.", -1 },
        { "Thanks! My order arrived damaged, can you help?", -1 },
        { "Thanks. Sorry to bother you again.", 1 },
        { "Thanks, still the best support team around", 1 },
        { "wow @acme really outdid themselves with this outage", -1 },
        { "they really outdid themselves with the new design", 1 },
        /* A trouble said fixed is gone; one not fixed stays. */
        { "the update fixed the crashes", 1 },
        { "The latest release fixed most of my gripes.", 1 },
        { "this patch solves the annoying lag", 1 },
        { "they still haven't fixed the crash", -1 },
        { "when will you fix the bug?", -1 },
        { "the fixes are awful", -1 },
        { "It fixed nothing, still crashing", -1 },
        { "none of it works", -1 },
        { "the annoying ads are gone", 1 },
        { "the pain went away", 1 },
        { "the error never went away", -1 },
        { "the bug is not gone", -1 },
        { "The bug was fixed in the next release", 1 },
        { "my problem was finally solved", 1 },
        { "the bug still isn't fixed", -1 },
        { "Support marked my ticket resolved but the problem is still there",
          -1 },
        /* A trouble that has ended is no irony either. */
        { "Cool, it stopped crashing after the update", 1 },
        { "Yay, my lost package showed up!", 1 },
        { "Glad the outage is over", 1 },
        { "Great, the outage is over", 1 },
        { "the contract terms are a huge red flag", -1 },
        /* Games, renewals, status codes, data sold; a favourite lost. */
        { "the free trial auto-renewed and charged me", -1 },
        { "the API has been returning 500s all morning", -1 },
        { "our team switched from Jira and never looked back", 1 },
        { "they sold my data to advertisers", -1 },
        { "they removed my favorite feature", -1 },
        { "the new patch nerfed my favorite character", -1 },
        { "my favorite feature is the dark mode", 1 },
        /* "like" that is no liking. */
        { "like I said, call me back", 0 },
        /* Slang: doom, nights made and days lost, apologies. */
        { "we're cooked", -1 },
        { "the steak was perfectly cooked", 1 },
        { "that concert made my night", 1 },
        { "not my day", -1 },
        { "can't even with this app", -1 },
        /* Irony and slowness in an emoji. */
        { "my order is late again 🙃", -1 },
        { "delivery took 3 weeks 🐌", -1 },
        /* What the people it is for dislike. */
        { "Great phone for people who hate bloatware", 1 },
        { "perfect for anyone who hates cooking", 1 },
        { "I hate people who litter", -1 },
        /* The old one was better; a change nobody asked for. */
        { "the old app was better", -1 },
        { "they fixed what wasn't broken", -1 },
        { "overpromised and underdelivered", -1 },
        /* Forms of rated words that no family makes (words/forms.txt). */
        { "so many inconveniences", -1 },
        { "I got hassled at the counter", -1 },
        { "the shoddiest build I've seen", -1 },
        { "the betrayals never end", -1 },
        { "we feasted like kings", 1 },
        /* Getting nowhere, things breaking, "fine until". */
        { "The rep was polite but couldn't do anything", -1 },
        { "Spent an hour on chat and got nowhere.", -1 },
        { "Every update breaks something new.", -1 },
        { "It's fine until you need to talk to a human.", -1 },
        { "Acme's pricing page is a maze", -1 },
        { "Took three calls but they got there in the end", 1 },
        /* An app function that fails; a request for help. */
        { "Since the last update I can't sync my data", -1 },
        { "Deleted after one day", -1 },
        { "They keep raising the price and removing features", -1 },
        { "@acme can you DM me? need help with my account", -1 },
        { "it does what it says on the tin", 1 },
        /* Questions that are complaints. */
        { "why is my order taking so long?", -1 },
        { "how many times do I have to call you?", -1 },
        { "is anyone even reading these?", -1 },
        { "when will this be fixed?", -1 },
        { "is it too much to ask for a working app?", -1 },
        { "who decided this was a good idea?", -1 },
        { "any update on my ticket?? it's been 10 days", -1 },
        { "what are your opening hours on sunday?", 0 },
        /* Praise that holds a bad word, or none. */
        { "shoutout to @acme for replacing my broken charger, no questions "
          "asked",
          1 },
        { "support fixed my issue in 5 min, no hold time at all", 1 },
        { "the driver went out of his way to find my apartment", 1 },
        { "they messed up my order but made it right immediately", 1 },
        { "I was skeptical but it actually works", 1 },
        { "ten out of ten, no notes", 1 },
        { "never going back to my old bank", 1 },
        { "the chat agent was patient and explained everything", 1 },
        /* A product too slow to use, customers on their way out. */
        { "the dashboard takes 40 seconds to load", -1 },
        { "migrating off your platform next quarter", -1 },
        { "how do I export my data?", 0 },
        { "no refunds policy \xF0\x9F\x9A\xA9", -1 }, /* 🚩 */
        { "Nothing like a 3 hour wait to start the day", -1 },
        { "paying more for less", -1 },
        /* Money held, bills chased, requests closed. */
        { "withdrawals have been paused for 3 days, where is my money", -1 },
        { "billing sent me to collections for a bill insurance paid", -1 },
        { "deposit still not returned 60 days after move out", -1 },
        { "maintenance request closed without anyone showing up", -1 },
        { "the portal says my results are ready but shows nothing", -1 },
        /* Orders chased, and company news. */
        { "Where is my order??", -1 },
        { "refund processed quickly", 1 },
        { "got my refund today, thanks", 1 },
        { "refund please", -1 },
        /* A rating the words after it take back. */
        { "10/10 would not recommend", -1 },
        { "5 stars would never buy again", -1 },
        { "10/10 would recommend", 1 },
        { "4/5, great value", 1 },
        /* ... but not a trouble that says why a star was taken. */
        { "4 stars because it's missing a few features, otherwise good", 1 },
        { "4 stars bc slow shipping", 1 },
        { "it's okay I guess", -1 },
        { "Why does your app log me out every single day?", -1 },
        { "Took my money and ran", -1 },
        { "Acme to cut 1,200 jobs amid slowing demand", -1 },
        { "Acme stock hits all-time high", 1 },
        { "Acme expands into three new markets", 1 },
        { "Acme partners with local schools to expand STEM programs", 1 },
        /* Developers on a product. */
        { "This is vaporware until proven otherwise", -1 },
        { "Another rug pull", -1 },
        { "They quietly removed the free tier", -1 },
        { "Switched from their competitor and haven't looked back", 1 },
        /* Session 17: pleas and remedies asked for, not praise of help
         * or of a fix; help given is still praise. */
        { "can someone please help me", -1 },
        { "pls help", -1 },
        { "need this fixed urgently", -1 },
        { "this needs to be fixed asap", -1 },
        { "i want this resolved today", -1 },
        { "get this sorted please", -1 },
        { "still hoping for a reply", -1 },
        { "when will you fix the app", -1 },
        { "fix your app", -1 },
        { "thanks for the help!", 1 },
        { "happy to help!", 1 },
        { "the update fixed it", 1 },
        /* A refused payment is the bad news irony reads. */
        { "Perfect, now my card is declined", -1 },
        /* Money gone, and "!!!" then adds to the alarm, not to joy. */
        { "URGENT someone took money from my account!!!", -1 },
        /* "still hasn't" is frustration and a negation both. */
        { "the bug still hasn't been fixed", -1 },
        { "my credit still hasn't been refunded", -1 },
        /* "never once", "not once": the whole clause is negated. */
        { "never once got my order wrong", 1 },
        { "not once has it let me down", 1 },
        { "not once did the app crash on me", 1 },
        { "never once had an issue with my account", 1 },
        /* Names of products that hold a rated word rate nothing ... */
        { "the smart meter was installed today", 0 },
        { "I bought a gift card for my sister", 0 },
        { "anti-cheat update is live", 0 },
        /* ... and plain complaints rate. */
        { "subtitles are out of sync on every episode", -1 },
        { "my account was taken over", -1 },
        { "my bill went down this month", 1 },
        { "unlimited plan throttled after 30GB", -1 },
        { "rebooked for the 4th time", -1 },
        { "can't get through to anyone on the phone", -1 },
        /* What a marketing team reads: fans, critics, star glyphs. */
        { "the new toaster is actually sick", 1 },
        { "nobody asked for this redesign", -1 },
        { "this app isn't what it used to be", -1 },
        { "Acme takes a profit hit", -1 },
        /* Sarcasm after a laugh or a "wow". */
        { "haha great, another outage", -1 },
        { "wow great, another outage", -1 },
        { "yay another outage", -1 },
        { "perfect another delay", -1 },
        /* Praise that frames a trouble, or stands alone before one. */
        { "Way to go, lost my bag again", -1 },
        { "Well done on losing my parcel", -1 },
        { "Good job breaking the app again", -1 },
        { "Amazing how the app crashes every time", -1 },
        { "Impressive, three weeks and still no reply", -1 },
        { "Amazing how fast the delivery was", 1 },
        { "Well done team, great launch", 1 },
        /* Idioms of complaint; a deal named for what does not change
         * (session 21). */
        { "booked them because they were cheapest. got what I paid for", -1 },
        { "I've had better customer service from a vending machine", -1 },
        { "my fixed deal is ending next month", 0 },
        { "my watch got really hot overnight", -1 },
        { "paying extra and still getting ads. Love that for us.", -1 },
        { "their quality has dropped off a cliff", -1 },
        { "ultra 900 more like ultra 90 on a good day", 0 },
        { "a voucher that expires in 6 months. thanks I guess", -1 },
        { "a raincoat that isn't waterproof", -1 },
        { "moved my membership 40 mins away. Cheers for nothing.", -1 },
        { "their renewal quote maths is not mathing", -1 },
        { "my jumper has been bobbling since the first wash", -1 },
        /* A price said raised. */
        { "Veltro increased my bill by 9% in the same email", -1 },
        { "they've put the bus fares up AGAIN", -1 },
        /* "please" that asks for a thing to be put right; a tier named
         * for its price; "top" as a payment (session 21). */
        { "Greyfield have billed us twice. Please sort it.", -1 },
        { "please escalate this", -1 },
        { "please", 1 },
        { "the free tier now has ads between songs", 0 },
        { "I topped up and then did a top up again", 0 },
        /* Words in a sense that praises nothing (session 21). */
        { "a passenger has been touching my leg for an hour", 0 },
        { "App logs me out every time. 1 star till fixed", -1 },
        { "the app saved my card without asking", -1 },
        { "Loyalty means nothing to these companies", -1 },
        { "what a touching film", 1 },
        /* A verb's negation before "without": it always happens. */
        { "I can't open the app without it crashing", -1 },
        /* A home left without what it runs on; patience said gone. */
        { "day 4 without internet", -1 },
        { "3 days without heating and hot water", -1 },
        { "my patience gone", -1 },
        /* Slang and support lines, from session 20's probe. */
        { "this update is such an L", -1 },
        { "customer service is so cooked", -1 },
        { "honestly that slapped", 1 },
        { "your number goes straight to voicemail", -1 },
        { "emailed them 4 days ago, crickets", -1 },
        { "the new router is a glow up", 1 },
        { "no breakouts after two weeks", 1 },
        { "my claim was approved but I still haven't been paid", -1 },
        { "the camera is in a league of its own", 1 },
        { "they can't tell me where my parcel is", -1 },
        { "can I have my money back", -1 },
        { "getting a 502 on the homepage", -1 },
        { "the rep actually listened", 1 },
        /* "mid" is a verdict where it ends its clause, else a middle. */
        { "the new season is mid", -1 },
        { "kinda mid tbh", -1 },
        { "the sale starts mid-July", 0 },
        { "a mid range phone", 0 },
        /* Senses that rate nothing; a date that is no holiday; a
         * question to the crowd; a clause of its own after "and"
         * (session 23). */
        { "the noise cancelling on these is great", 1 },
        { "Help desk hours this week: 9am-5pm Mon-Thu", 0 },
        { "the fine for parking in a disabled bay is 100 pounds", 0 },
        { "got a parking fine again", -1 },
        { "Health officials recommend the updated vaccine", 0 },
        { "Tickets go on sale Friday at 9am", 0 },
        { "Library closed for the holiday, back Tuesday", 0 },
        { "weekend plans: absolutely nothing and im thrilled about it", 1 },
        { "long day but got everything done", 1 },
        { "the january sale is dangerous, went in for a lamp", 1 },
        { "he must have got my number from the delivery note", 0 },
        { "it's solid oak on the outside", 0 },
        { "i think i'm coming down with something", -1 },
        { "slept 8 hours for the first time in weeks. feel human again", 1 },
        { "woke up with a fever on my birthday, perfect \xF0\x9F\x98\x92", -1 },
        { "oh wonderful, the kids drew on the walls \xF0\x9F\x98\x91", -1 },
        { "moved my emergency fund over to them", 0 },
        { "the gym was packed so I turned around and went home", 0 },
        /* Names that hold a rated word; "for good" as for ever; a
         * treatment that is gone; "thanks for that" after bad news
         * (session 22). */
        { "Breaking Bad is on tonight", 0 },
        { "The Killers are playing Hyde Park", 0 },
        { "I'm turning my TV off for good", 0 },
        { "waiting for good news", 1 },
        { "a force for good", 1 },
        { "the fair use policy caps data at 650GB", 0 },
        { "no fee to pause my contract", 1 },
        { "the cleaner came at 9", 0 },
        { "my daughter's epilepsy medication has gone to Rome", -1 },
        { "my pain medication is gone", -1 },
        { "the pain is gone", 1 },
        { "Flight cancelled again. Thanks for that.", -1 },
        { "my order was lost. thanks for that one guys", -1 },
        { "Great tip, thanks for that!", 1 },
        { "The app crashed but support fixed it. Thanks for that.", 1 },
        { "this is class action territory", -1 },
        { "platterbee came in clutch tonight", 1 },
        { "they drop calls every few minutes", -1 },
        { "getting a repair booked is a lottery", -1 },
        { "don't expect much from their support", -1 },
        /* From the review probe: what failed, said without a rated
         * word. */
        { "the dye runs in the wash", -1 },
        { "Complete pants. Bin job.", -1 },
        { "the remake butchered the story", -1 },
        { "It's fine but for 60 quid I expected a lot better", -1 },
        /* From the everyday probe: life news with tears, a pet put to
         * sleep, a meeting that could have been an email. */
        { "I'M GOING TO BE A DAD!!!!! \xF0\x9F\x98\xAD", 1 },
        { "Our Max had to be put to sleep yesterday", -1 },
        { "Great, another meeting that could've been an email.", -1 },
        { "nurses deserve so much better", -1 },
        /* What used to be good, what aged badly, what broke. */
        { "quality used to be so good, now it pills", -1 },
        { "this take aged like milk", -1 },
        { "the company went bust a month later", -1 },
        { "the hinge snapped after a week", -1 },
        { "matchmaking is cooked", -1 },
        { "the finale is peak fiction", 1 },
        { "nobody is picking up the phone", -1 },
        { "they actually called me back", 1 },
        { "quality has dropped since 2021", -1 },
        { "shockingly accurate transcription", 1 },
        { "thanks for extending our trial when the import broke", 1 },
        { "a breakdown of where my money went", 0 },
        { "we're so back", 1 },
        /* Praise denied "enough" has no end; a quality short of it is. */
        { "Cannot recommend Kinross Credit Union enough", 1 },
        { "it's not fast enough", -1 },
        { "paid my claim in 2 days, didn't even have to chase", 1 },
        { "the moisturiser gave me a rash", -1 },
        { "wheelchair assistance didn't turn up", -1 },
        { "the new true crime doc is so good", 1 },
        { "Paid for premium, still getting ads. What am I paying for?", -1 },
        { "the maternity line keeps ringing out", -1 },
        { "you've given our room away", -1 },
        { "a proper apology and credit. That's how you do it", 1 },
        /* App-store reviews in plain words. */
        { "App closes immediately after entering passcode", -1 },
        { "the pay button is greyed out", -1 },
        { "OTP takes ages to arrive", -1 },
        { "Works really well with my calendar", 1 },
        { "No microtransactions", 1 },
        { "no need to worry", 1 },
        { "no wait at all", 1 },
        { "it deleted my photos", -1 },
        { "the popups get old fast", -1 },
        { "Ironmoth can do better", -1 },
        { "the sandwich tasted like it was also delayed", -1 },
        { "\xE2\x98\x85\xE2\x98\x85\xE2\x98\x85\xE2\x98\x85"
          "\xE2\x98\x85",
          1 }, /* ★★★★★ */
        { "\xE2\x98\x85\xE2\x98\x86\xE2\x98\x86\xE2\x98\x86"
          "\xE2\x98\x86 crashed twice",
          -1 }, /* ★☆☆☆☆ */
    };
    assert_shipped_signs(cases, sizeof(cases) / sizeof(cases[0]));
}

/* Personal posts, written for this test: rated words that say the
 * opposite of the post ("best friend", "Star Wars", "zero regrets") and
 * everyday joy or gloom that holds no rated word ("nothing beats it",
 * "feeling really down"). */
static void test_shipped_lexicon_personal_posts(void **state)
{
    (void)state;
    static const struct sign_case cases[] = {
        { "spent the whole day gaming and i have zero regrets", 1 },
        { "nothing better than a hug from your kids after a long day", 1 },
        { "mom's apple pie, nothing beats it", 1 },
        { "the new star wars trailer looks so good", 1 },
        { "ngl this song slaps", 1 },
        { "finished my first 5k today! slow but i did it", 1 },
        { "lazy saturday, pancakes and cartoons", 1 },
        { "the fall leaves are so pretty this year", 1 },
        { "my best friend has been lying to me for months. i feel sick", -1 },
        { "feeling really down today, nothing is going right", -1 },
        { "my mom is in the hospital and im 2000 miles away", -1 },
        { "my dog had to be put down today. rest easy buddy", -1 },
        { "i cant believe they killed off my favorite character", -1 },
        { "thanks for the surprise charge", -1 },
        { "the app keeps logging me out", -1 },
        { "its way too hot today", -1 },
        /* What people look forward to, or dread (fourth pass). */
        { "beach day with the girls", 1 },
        { "spa weekend booked", 1 },
        { "stuck in traffic for an hour", -1 },
        { "monday again", -1 },
        { "dentist at 8am", -1 },
        { "just got my coffee, ready for the day", 1 },
        { "the kids made me breakfast in bed", 1 },
        { "back to work tomorrow", -1 },
        { "got a promotion", 1 },
        { "can't find parking anywhere", -1 },
        { "couldn't find anything wrong with it", 1 },
        /* Intensifiers that are swear words ("good as hell"). */
        { "this update is good as hell", 1 },
        { "the new app is so damn good", 1 },
        { "checkout is slow af", -1 },
        /* Newer slang, and "mid" that is mostly the middle. */
        { "she ate and left no crumbs", 1 },
        { "the customer service is goated", 1 },
        { "huge W for the devs", 1 },
        { "that's an L for the company", -1 },
        { "the new menu is so mid", -1 },
        { "Launching in mid-2024", 0 },
        /* Words whose everyday sense in a brand's mentions is neutral. */
        { "new content every week", 0 },
        { "patient portal login page", 0 },
        { "opened an issue on GitHub", 0 },
        { "the dark mode setting", 0 },
        { "having issues with my order", -1 },
        { "no issues at all", 1 },
        { "our customers deserve better", -1 },
        { "contact customer care", 0 },
        { "the screen resolution is 4K", 0 },
        { "magnetic charger included", 0 },
        { "I wonder if they ship to Canada", 0 },
        { "write a prompt for the model", 0 },
        { "set the value to 10", 0 },
        { "photo shoot today", 0 },
        { "lemon juice and goat milk", 0 },
        { "mint toothpaste on the new game console", 0 },
        { "Grace and Frank are here", 0 },
        { "the bath bombs are back", 0 },
        { "this car is a lemon", -1 },
        { "vinyl in mint condition", 1 },
        /* Masked swear words, and the booster one ("f***ing great"). */
        { "this is bullsh*t", -1 },
        { "sh!t, the app crashed again", -1 },
        { "what a b@stard", -1 },
        { "this is f***ing great", 1 },
        { "F**K this update", -1 },
        /* "never" in a compliment, and regret. */
        { "my skin has never looked better", 1 },
        { "can't stop using this app", 1 },
        { "I wish I'd never bought this", -1 },
        { "never should have upgraded", -1 },
        /* Laughing hard, said as tears and death. */
        { "crying laughing at this", 1 },
        { "lol im crying", 1 },
        { "I'm dying \xF0\x9F\x98\x82", 1 },
        { "laughing so hard I cried", 1 },
        { "I can't breathe lmao", 1 },
        { "crying because my flight got cancelled lol", -1 },
        { "I cried when my grandma died", -1 },
        { "I didn't laugh once", -1 },
        /* Adverbs of excess as "very". */
        { "scarily good", 1 },
        { "absurdly fast shipping", 1 },
        { "criminally underrated", 1 },
        { "stupidly expensive", -1 },
        { "dangerously close to the edge", -1 },
        /* Good things over, and praise taken back. */
        { "Vacation is over", -1 },
        { "my favorite feature is gone", -1 },
        { "the outage is finally over", 1 },
        { "the crashes stopped after the update", 1 },
        { "the error went away after the update", 1 },
        { "the lag disappeared", 1 },
        { "my order disappeared from the app", -1 },
        { "my money vanished", -1 },
        { "the music stopped", -1 },
        { "Outage resolved.", 1 },
        { "back to square one", -1 },
        { "My favorite feature disappeared in the last update", -1 },
        /* A trouble that does not come back has ended. */
        { "the problem never came back", 1 },
        { "the crash hasn't come back since the update", 1 },
        { "the error hasn't returned since I reinstalled", 1 },
        { "the good times never came back", -1 },
        /* A good thing harmed is a loss. */
        { "thanks a lot for ruining my weekend", -1 },
        { "this update ruined a great app", -1 },
        { "the sequel lacks the charm of the original", -1 },
        /* What a customer is owed did not come: no ending. */
        { "my refund never came back", -1 },
        { "my refund hasn't come back yet", -1 },
        { "I hope the lag never comes back", 1 },
        { "I hope the pain goes away", 1 },
        { "this is killing me \xF0\x9F\x98\x82", 1 },
        { "the heat is killing me", -1 },
        /* Delivery, outages and repeat custom. */
        { "still no tracking number", -1 },
        { "no tracking, no ads", 1 },
        { "notifications work again after the update", 1 },
        { "would definitely order again", 1 },
        { "will never order from here again", -1 },
        { "the website keeps timing out", -1 },
        { "the login page doesn't load", -1 },
        { "my laptop won't turn on", -1 },
        { "the payment didn't go through", -1 },
        { "emails not sending", -1 },
        { "the button does nothing", -1 },
        { "this is the third time I'm asking", -1 },
        { "Finally an app that just works", 1 },
        { "Keeps asking me to rate the app", -1 },
        { "@acme I'm done with you guys", -1 },
        { "Can't even cancel without calling", -1 },
        { "Good concept, poor execution", -1 },
        { "that's sick bro", 1 },
        { "that is a sick beat", 1 },
        { "I feel sick", -1 },
        { "it does what it says", 1 },
        { "arrived a day early!", 1 },
        { "I miss the old design", -1 },
        { "the refund finally came through", 1 },
        { "battery drains overnight", -1 },
        { "auto-renewal without my consent", -1 },
        { "the room smelled of smoke", -1 },
        { "password reset worked instantly", 1 },
        { "they gave me a voucher for my trouble", 0 },
        /* Life events and everyday luck. */
        { "we just got engaged!!", 1 },
        { "got my new phone today", 1 },
        { "the sun is out!", 1 },
        { "got a parking ticket", -1 },
        { "long line at the post office", -1 },
        { "The squeaking stopped after I tightened the screws", 1 },
        { "Happy holidays... not, my order is still missing", -1 },
        { "squeaky clean", 1 },
        { "this update drives me crazy", -1 },
        { "my biggest pet peeve", -1 },
        { "my pleasure!", 1 },
        { "The bank refunded the fraudulent charge within a day", 1 },
        { "they still haven't refunded the late fee", -1 },
        { "The ATM ate my card", -1 },
        { "no more lag since the patch", 1 },
        { "No more tangled cables!", 1 },
        { "Works, but only half the time", -1 },
        { "Battery lasts all day", 1 },
        { "Bought a second one for my mom", 1 },
        { "Happy Monday... not", -1 },
        { "Well that was fun. Not.", -1 },
        { "love mondays #not", -1 },
        /* A request said as a wish: what it asks for is missing. */
        { "It would be nice if you answered your emails", -1 },
        { "would be great if it worked", 0 },
        { "would love it if you added dark mode", 0 },
        /* The counterfactual. */
        { "It should have been a great film", -1 },
        { "would have been nice to get a reply", -1 },
        { "could have been worse", 1 },
        /* Asking again. */
        { "why does this keep happening?", -1 },
        { "any update on this?", -1 },
        { "great, just great", -1 },
        { "the food was just great", 1 },
        /* Exasperation and delight without a rated word. */
        { "ugh, here we go again", -1 },
        { "send help", -1 },
        { "my heart is full", 1 },
        { "why am I like this", -1 },
        /* Hashtags glued in lower case. */
        { "back at my desk #mondayblues", -1 },
        { "third call today #customerservicefail", -1 },
        { "at the lake with the crew #goodtimes", 1 },
        { "thanks a lot for nothing", -1 },
        { "cool story bro", -1 },
        { "thanks for the help, really appreciate being hung up on", -1 },
        /* Goals met, and "killer" as praise. */
        { "Crushed my workout this morning", 1 },
        { "smashed my goals this year", 1 },
        { "That was a killer show", 1 },
        { "killer deal on these headphones", 1 },
        { "the killer was never caught", -1 },
        /* What goes on decides after a negated "stop"; memory negates
         * nothing; a kindness named; an intensifier rates nothing. */
        { "the neighbour's dog won't stop barking", 0 },
        { "watching the news and can't stop crying", -1 },
        { "couldn't stop smiling all day", 1 },
        { "I'll never forget their kindness", 1 },
        { "I'll never forget how rude he was", -1 },
        { "Kind of them to waive the fee", 1 },
        { "the seats are less comfortable than the old ones", -1 },
        { "fewer crashes since the update", 1 },
        { "the car smelled strongly of smoke", 0 },
        { "I strongly recommend them", 1 },
        { "Nothing was too much trouble", 1 },
        { "kept us informed the whole way", 1 },
        { "getting my wisdom teeth out tomorrow", 0 },
        /* "Great start to the week," greets what follows, as "Great,"
         * does; a time ended is no good thing ended; thanks for what
         * was done the night something went wrong; words of crisis. */
        { "fantastic start to the week, car won't start", -1 },
        { "Great start to the week! Got the job", 1 },
        { "the rain finally stopped", 1 },
        { "Thank you for staying open late the night my train got cancelled",
          0 },
        { "I don't want to be alive any more", -1 },
        { "the popcorn used to be fresh", -1 },
        /* Complaints told as plain facts. */
        { "engineer booked 8-12. why is nobody here at 3pm", -1 },
        { "app keeps logging me out every single time", -1 },
        { "still haven't heard back about my order", -1 },
        /* A reminder: its negation is no complaint. */
        { "Don't forget our sale ends Sunday", 0 },
    };
    assert_shipped_signs(cases, sizeof(cases) / sizeof(cases[0]));
}

/* An expression may hold one-letter words, which the rules otherwise
 * drop: "works like a charm", "thank u". */
static void test_expression_with_one_letter_words(void **state)
{
    (void)state;
    static const char lexicon[] =
        "like\t1.5\nworks like a charm\t2.7\nthank u\t1.9\n";
    struct es_lexicon *lex = NULL;
    assert_int_equal(
        es_lexicon_load_buf(&lex, "short", lexicon, sizeof(lexicon) - 1), 0);
    assert_true(fabs(score_with(lex, "it works like a charm").compound -
                     norm(2.7)) < 1e-4);
    assert_true(fabs(score_with(lex, "thank u").compound - norm(1.9)) < 1e-4);
    /* Elsewhere a one-letter word still counts for nothing. */
    assert_true(fabs(score_with(lex, "I like a cat").compound - norm(1.5)) <
                1e-4);
    es_lexicon_free(lex);
}

/* Of two expressions that overlap, the longer one is read, though the
 * shorter starts first: "worked like a charm" in "it worked like a
 * charm", not "it worked" and then "like a charm". Of two as long, the
 * first. */
static void test_expression_outgrown(void **state)
{
    (void)state;
    static const char lexicon[] = "it worked\t1.0\nlike a charm\t2.3\n"
                                  "worked like a charm\t2.7\n"
                                  "quality dropped\t-1.6\n"
                                  "dropped off a cliff\t-1.8\n"
                                  "still don't have\t-1.3\n"
                                  "have my money back\t-1.8\n"
                                  "not good\t-1.6\ngood news\t2.1\n";
    struct es_lexicon *lex = NULL;
    assert_int_equal(
        es_lexicon_load_buf(&lex, "overlap", lexicon, sizeof(lexicon) - 1), 0);
    assert_score_with(lex, "it worked like a charm", 2.7);
    assert_score_with(lex, "quality dropped off a cliff", -1.8);
    /* A negation before the longer one keeps the first: "still don't
     * have my money back" is no money back had and then negated. */
    assert_score_with(lex, "still don't have my money back", -1.3);
    /* As long: the first stays ("not good" in "not good news"). */
    assert_score_with(lex, "not good news", -1.6);
    /* No overlap: the shorter one alone. */
    assert_score_with(lex, "it worked", 1.0);
    es_lexicon_free(lex);
}

/* A phrase rated 0 hides the rated word in it: "looks like" holds no
 * liking. */
static void test_zero_phrase_hides_its_word(void **state)
{
    (void)state;
    static const char lexicon[] = "like\t1.5\nlooks like\t0\n";
    struct es_lexicon *lex = NULL;
    assert_int_equal(
        es_lexicon_load_buf(&lex, "zero", lexicon, sizeof(lexicon) - 1), 0);
    assert_true(fabs(score_with(lex, "Looks like a backup job").compound) <
                1e-12);
    assert_true(fabs(score_with(lex, "I like it").compound - norm(1.5)) < 1e-4);
    /* Nor does a booster or capitals before it make it a sentiment. */
    assert_true(fabs(score_with(lex, "so looks like a backup job").compound) <
                1e-12);
    assert_true(
        fabs(score_with(lex, "really LOOKS LIKE a backup job").compound) <
        1e-12);
    es_lexicon_free(lex);
}

static void test_overlay(void **state)
{
    (void)state;
    struct es_lexicon *lex = NULL;
    double v;
    assert_int_equal(es_lexicon_load(&lex, FIX "mini.tsv"), 0);
    assert_true(score_with(lex, "havoc is here").compound < -0.4);
    assert_int_equal(es_lexicon_overlay(lex, FIX "overlay.tsv"), 0);
    /* Havoc is a product name: neutral. */
    assert_true(fabs(score_with(lex, "havoc is here").compound) < 1e-12);
    /* An outage is strongly negative for a hosting company. */
    assert_int_equal(es_lexicon_lookup(lex, "outage", &v), 1);
    assert_true(fabs(v + 3.5) < 1e-6);
    assert_true(
        fabs(score_with(lex, "the outage again").compound - norm(-3.5)) < 1e-4);
    /* New terms are added, old ones kept. */
    assert_int_equal(es_lexicon_lookup(lex, "downtime", &v), 1);
    assert_int_equal(es_lexicon_lookup(lex, "good", &v), 1);
    assert_int_equal(es_lexicon_size(lex), 38);
    /* A malformed overlay changes nothing and names its line. */
    assert_int_equal(es_lexicon_overlay(lex, FIX "bad_overlay.tsv"),
                     ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "bad_overlay.tsv:2: "));
    assert_int_equal(es_lexicon_lookup(lex, "outage", &v), 1);
    assert_true(fabs(v + 3.5) < 1e-6);
    assert_int_equal(es_lexicon_overlay(lex, FIX "none.tsv"), ES_ENOTFOUND);
    es_lexicon_free(lex);
}

/* ==== The lexicon cache (lexcache.c) ==== */

/* Writes @text to @path and dates it @age seconds back. */
static void write_aged(const char *path, const char *text, int age)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    struct timespec t[2];
    clock_gettime(CLOCK_REALTIME, &t[0]);
    t[0].tv_sec -= age;
    t[1] = t[0];
    assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
}

/* The number of files in @dir. */
static int files_in(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* The path of the one image in @dir into @out. */
static void the_image(const char *dir, char *out, size_t size)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    out[0] = '\0';
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            snprintf(out, size, "%s/%s", dir, e->d_name);
    closedir(d);
    assert_true(out[0] != '\0');
}

/* Reads the cached image of the lexicon file @path, as es_lexicon_load()
 * would: 0, or -1 when there is none (or no cache). */
static int cache_load(struct es_lexicon **out, const char *path)
{
    struct lexcache_key key;
    *out = NULL;
    if (es_lexcache__key(&key, path) != 0)
        return -1;
    return es_lexcache__load(out, &key);
}

/* 1 when @a and @b score these texts alike, to the last bit. */
static int same_scores(const struct es_lexicon *a, const struct es_lexicon *b)
{
    static const char *const texts[] = {
        "good but bad",
        "not only good but great",
        "very happy :)",
        "lol im crying",
        "the bad went away",
        "kind of awful",
        "😀😡",
        "no problem at all",
        "Havoc!!!",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct es_sentiment x = score_with(a, texts[i]);
        struct es_sentiment y = score_with(b, texts[i]);
        if (x.compound != y.compound || x.pos != y.pos || x.neg != y.neg)
            return 0;
    }
    return es_lexicon_size(a) == es_lexicon_size(b);
}

/* A loaded lexicon is cached for the next process, which reads the same
 * table back; an edited file, a damaged image or a fresh file builds it
 * again, and no cache error ever fails a load. */
static void test_lexicon_cache(void **state)
{
    (void)state;
    char dir[] = "/tmp/es-lexcache-XXXXXX";
    char src[256], cache[256], image[512];
    struct es_lexicon *a = NULL, *b = NULL;
    double v;
    const char *old_env = getenv("EARSHOT_CACHE_DIR");
    char *saved = old_env ? strdup(old_env) : NULL;

    assert_non_null(mkdtemp(dir));
    snprintf(src, sizeof(src), "%s/lex.tsv", dir);
    snprintf(cache, sizeof(cache), "%s/cache", dir);
    setenv("EARSHOT_CACHE_DIR", cache, 1);

    /* A file changed in the last two seconds is not cached ... */
    write_aged(src, "good\t1.9\nbad\t-2.5\nno problem\t1.5\n:)\t2.0\n", 0);
    assert_int_equal(es_lexicon_load(&a, src), 0);
    es_lexicon_free(a);
    assert_int_equal(files_in(cache), 0);
    assert_int_equal(cache_load(&b, src), -1);

    /* ... an older one is, and the image reads back the same table. */
    write_aged(src, "good\t1.9\nbad\t-2.5\nno problem\t1.5\n:)\t2.0\n", 60);
    assert_int_equal(es_lexicon_load(&a, src), 0);
    assert_int_equal(files_in(cache), 1);
    assert_int_equal(cache_load(&b, src), 0);
    assert_true(!same_scores(a, mini)); /* a smaller lexicon */
    assert_true(same_scores(a, b));
    es_lexicon_free(b);
    b = NULL;
    assert_false(es_lexicon_from_cache(a));
    /* An overlay on a lexicon read from the image works as on any. */
    assert_int_equal(es_lexicon_load(&b, src), 0);
    assert_true(es_lexicon_from_cache(b));
    assert_int_equal(es_lexicon_overlay(b, FIX "overlay.tsv"), 0);
    assert_int_equal(es_lexicon_lookup(b, "outage", &v), 1);
    assert_true(fabs(v + 3.5) < 1e-6);
    es_lexicon_free(b);
    b = NULL;

    /* Edited, the same size and an older time: the image is stale. */
    write_aged(src, "good\t1.1\nbad\t-2.5\nno problem\t1.5\n:)\t2.0\n", 90);
    assert_int_equal(cache_load(&b, src), -1);
    es_lexicon_free(a);
    assert_int_equal(es_lexicon_load(&a, src), 0);
    assert_int_equal(es_lexicon_lookup(a, "good", &v), 1);
    assert_true(fabs(v - 1.1) < 1e-6);
    assert_int_equal(files_in(cache), 1); /* replaced, not added */
    assert_int_equal(cache_load(&b, src), 0);
    assert_true(same_scores(a, b));
    es_lexicon_free(b);
    b = NULL;

    /* A damaged image is ignored and replaced: its tables garbled (the
     * header, first, still matches) ... */
    the_image(cache, image, sizeof(image));
    int fd = open(image, O_RDWR);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    char junk[4096];
    memset(junk, 0xFF, sizeof(junk));
    for (off_t o = 128; o < st.st_size; o += (off_t)sizeof(junk))
        assert_true(pwrite(fd, junk, sizeof(junk), o) > 0);
    assert_int_equal(ftruncate(fd, st.st_size), 0);
    assert_int_equal(cache_load(&b, src), -1);
    /* ... or cut short ... */
    assert_int_equal(ftruncate(fd, st.st_size - 1), 0);
    assert_int_equal(cache_load(&b, src), -1);
    /* ... or not an image at all. */
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_true(pwrite(fd, "GIF89a", 6, 0) == 6);
    assert_int_equal(close(fd), 0);
    assert_int_equal(cache_load(&b, src), -1);
    es_lexicon_free(a);
    assert_int_equal(es_lexicon_load(&a, src), 0);
    assert_int_equal(es_lexicon_lookup(a, "good", &v), 1);
    assert_true(fabs(v - 1.1) < 1e-6);
    assert_int_equal(cache_load(&b, src), 0);
    assert_true(same_scores(a, b));
    es_lexicon_free(b);
    b = NULL;

    /* A cache that cannot be made, or one turned off, loads the file. */
    snprintf(cache, sizeof(cache), "%s/lex.tsv/cache", dir);
    setenv("EARSHOT_CACHE_DIR", cache, 1);
    es_lexicon_free(a);
    assert_int_equal(es_lexicon_load(&a, src), 0);
    assert_int_equal(cache_load(&b, src), -1);
    setenv("EARSHOT_CACHE_DIR", "", 1);
    es_lexicon_free(a);
    assert_int_equal(es_lexicon_load(&a, src), 0);
    assert_int_equal(cache_load(&b, src), -1);
    assert_int_equal(es_lexicon_lookup(a, "good", &v), 1);

    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    es_lexicon_free(a);
    setenv("EARSHOT_CACHE_DIR", saved ? saved : "", 1);
    if (!saved)
        unsetenv("EARSHOT_CACHE_DIR");
    free(saved);
}

/* A brand's names, as [priority] brand = gives them, are names: never
 * rated, inside an expression without breaking it, and no shouting. */
static void test_brand_names(void **state)
{
    (void)state;
    struct es_lexicon *lex = NULL;
    double v;
    assert_int_equal(es_lexicon_load(&lex, FIX "mini.tsv"), 0);
    size_t rated = es_lexicon_size(lex);
    static const char *const names[] = { "Havoc", "Great Co", "not", "  " };
    /* "havoc" was rated: as a name it leaves the count ... */
    es_lexicon_add_names(lex, names, 1);
    assert_int_equal(es_lexicon_lookup(lex, "havoc", &v), 0);
    assert_int_equal(es_lexicon_size(lex), rated - 1);
    /* ... and "great co" joins it, rated 0; a rule word and a blank name
     * change nothing, and naming "Havoc" again changes nothing either. */
    es_lexicon_add_names(lex, names, 4);
    assert_int_equal(es_lexicon_lookup(lex, "great co", &v), 1);
    assert_true(v == 0);
    assert_int_equal(es_lexicon_size(lex), rated);
    assert_score_with(lex, "havoc is here", 0.0);
    /* A name inside an expression: "no problem". */
    assert_score_with(lex, "no Havoc problem", 1.5);
    /* A name of two words is rated 0 whole, and joined it is a name. */
    assert_score_with(lex, "Great Co is bad", -2.5);
    assert_score_with(lex, "#GreatCo bad", -2.5);
    /* ... and sits inside an expression as a one-word name does. */
    assert_score_with(lex, "no Great Co problem", 1.5);
    assert_score_with(lex, "great day", 3.1);
    /* A rule word stays one: "not" still negates. */
    assert_score_with(lex, "not good", 1.9 * -0.74);
    /* A name in capitals is its spelling, not shouting. */
    assert_score_with(lex, "HAVOC GOOD DAY", 1.9);
    es_lexicon_free(lex);
}

static void test_overlay_grows_table(void **state)
{
    (void)state;
    struct es_lexicon *lex = NULL;
    char path[] = "/tmp/es-test-overlay-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    for (int i = 0; i < 5000; i++)
        fprintf(f, "word%d\t%.1f\n", i, i % 4 - 2 + 0.5);
    fclose(f);
    assert_int_equal(es_lexicon_load(&lex, FIX "mini.tsv"), 0);
    assert_int_equal(es_lexicon_overlay(lex, path), 0);
    unlink(path);
    double v;
    for (int i = 0; i < 5000; i += 97) {
        char w[32];
        snprintf(w, sizeof(w), "word%d", i);
        assert_int_equal(es_lexicon_lookup(lex, w, &v), 1);
        assert_true(fabs(v - (i % 4 - 2 + 0.5)) < 1e-6);
    }
    assert_int_equal(es_lexicon_lookup(lex, "good", &v), 1);
    assert_true(
        fabs(score_with(lex, "very good").compound - norm(1.9 + 0.293)) < 1e-4);
    es_lexicon_free(lex);
}

/* ==== Hostile input ==== */

static void assert_sane(const struct es_sentiment *r)
{
    assert_true(isfinite(r->compound));
    assert_true(r->compound >= -1.0 && r->compound <= 1.0);
    assert_true(r->pos >= 0 && r->neu >= 0 && r->neg >= 0);
    assert_true(r->lang[0] != '\0');
}

static void test_hostile_input(void **state)
{
    (void)state;
    struct es_sentiment r;
    /* Invalid UTF-8 counts as space. */
    const char inv[] = "\xff\xfe good \xc3\x28 \xe2\x82 \xf0\x9f";
    assert_int_equal(es_sentiment_score(mini, inv, sizeof(inv) - 1, &r), 0);
    assert_sane(&r);
    assert_true(fabs(r.compound - norm(1.9)) < 1e-4);
    /* NUL bytes too. */
    const char nul[] = "good\0bad";
    assert_int_equal(es_sentiment_score(mini, nul, sizeof(nul) - 1, &r), 0);
    assert_true(fabs(r.compound - norm(1.9 - 2.5)) < 1e-4);
    /* Text that ends where its buffer does, in the middle of the forms
     * read ahead of ("@acme@inst.", "great,"): nothing past it is read
     * (AddressSanitizer would say). */
    static const char *const tails[] = {
        "good @acme@inst",
        "good @a@b-",
        "great,",
        "good #Very",
        "bad \"a good day",
        "bad \"a good\"",
        "bad \xE2\x80\x9Cgood day",
        "bad \xE2\x80",
    };
    for (size_t k = 0; k < sizeof(tails) / sizeof(tails[0]); k++) {
        size_t tl = strlen(tails[k]);
        char *exact = malloc(tl);
        assert_non_null(exact);
        memcpy(exact, tails[k], tl);
        assert_int_equal(es_sentiment_score(mini, exact, tl, &r), 0);
        assert_sane(&r);
        free(exact);
    }
    /* Quotations by the thousand (the quotation rule passes over them
     * once): the praise in each is quoted, the writer's "bad" decides. */
    {
        static const char unit[] = "\"a good day\" ";
        size_t ul = sizeof(unit) - 1, reps = 20000;
        char *many = malloc(4 + ul * reps);
        assert_non_null(many);
        memcpy(many, "bad ", 4);
        for (size_t k = 0; k < reps; k++)
            memcpy(many + 4 + k * ul, unit, ul);
        assert_int_equal(es_sentiment_score(mini, many, 4 + ul * reps, &r), 0);
        assert_sane(&r);
        assert_true(fabs(r.compound - norm(-2.5)) < 1e-4);
        free(many);
    }
    /* Empty, NULL with 0 length, only punctuation. */
    assert_int_equal(es_sentiment_score(mini, "", 0, &r), 0);
    assert_true(r.compound == 0 && r.label == ES_SENTIMENT_NEUTRAL);
    assert_int_equal(es_sentiment_score(mini, NULL, 0, &r), 0);
    assert_true(r.compound == 0);
    r = score_with(mini, "!!!???...,,,;;;:::---'''\"\"\"");
    assert_sane(&r);
    assert_true(r.compound == 0);
    /* Only emoji. */
    r = score_with(mini, "\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\xA1");
    assert_sane(&r);
    assert_true(fabs(r.compound - norm(2.2 + 2.2 - 2.8)) < 1e-4);
    /* A 1 MB line of words, junk bytes and emoji. */
    size_t big = 1u << 20;
    char *s = malloc(big);
    assert_non_null(s);
    uint32_t x = 12345;
    for (size_t i = 0; i < big; i++) {
        x = x * 1103515245u + 12345u;
        s[i] = (char)(x >> 16);
    }
    assert_int_equal(es_sentiment_score(mini, s, big, &r), 0);
    assert_sane(&r);
    for (size_t i = 0; i + 10 < big; i += 10)
        memcpy(s + i, "good bad! ", 10);
    assert_int_equal(es_sentiment_score(mini, s, big, &r), 0);
    assert_sane(&r);
    memset(s, 'a', big); /* one 1 MB word */
    assert_int_equal(es_sentiment_score(mini, s, big, &r), 0);
    assert_sane(&r);
    assert_true(r.compound == 0);
    memset(s, '!', big);
    assert_int_equal(es_sentiment_score(mini, s, big, &r), 0);
    assert_sane(&r);
    /* Explain survives it too. */
    struct es_sentiment_explain ex = ES_SENTIMENT_EXPLAIN_INIT;
    for (size_t i = 0; i + 10 < big; i += 10)
        memcpy(s + i, "NOT good, ", 10);
    assert_int_equal(es_sentiment_explain(mini, s, big, &r, &ex), 0);
    assert_sane(&r);
    assert_true(ex.n > 1000);
    es_sentiment_explain_release(&ex);
    free(s);
}

/* ==== Languages ==== */

static void expect_lang(const char *text, const char *lang, double emoji_sum)
{
    struct es_sentiment r = score_with(mini, text);
    if (strcmp(r.lang, lang) != 0)
        fail_msg("'%s': lang '%s', expected '%s'", text, r.lang, lang);
    assert_true(r.low_confidence);
    /* Only emoji and emoticons count. */
    if (fabs(r.compound - norm(emoji_sum)) > 1e-4)
        fail_msg("'%s': compound %.4f, expected %.4f", text, r.compound,
                 norm(emoji_sum));
}

static void test_lang_not_english(void **state)
{
    (void)state;
    expect_lang("Me encanta este producto, gracias \xF0\x9F\x98\x80", "es",
                2.2);
    /* "no" and "terrible" mean nothing here. */
    expect_lang("No me gusta nada este servicio, es terrible", "es", 0);
    expect_lang("El servicio al cliente es muy malo :(", "es", -1.9);
    expect_lang("Ich bin sehr zufrieden mit dem Service, danke!", "de", 0);
    expect_lang("Das ist wirklich schlecht und nicht gut \xF0\x9F\x98\xA1",
                "de", -2.8);
    expect_lang("Je suis tr\xC3\xA8s content de ce produit, merci beaucoup",
                "fr", 0);
    expect_lang("Le service est nul, je ne recommande pas :(", "fr", -1.9);
    /* このサービスは最悪です 😡 */
    expect_lang("\xE3\x81\x93\xE3\x81\xAE\xE3\x82\xB5\xE3\x83\xBC\xE3\x83"
                "\x93\xE3\x82\xB9\xE3\x81\xAF\xE6\x9C\x80\xE6\x82\xAA\xE3"
                "\x81\xA7\xE3\x81\x99 \xF0\x9F\x98\xA1",
                "ja", -2.8);
    expect_lang("N\xC3\xA3o gostei do produto, muito ruim", "pt", 0);
}

/* Short posts carry no function word to go by: their everyday words
 * still name the language, and a post with no English word at all goes
 * to the language of the words it has. */
static void test_lang_short_posts(void **state)
{
    (void)state;
    static const char *const posts[][2] = {
        { "Me encanta este producto", "es" },
        { "No funciona, quiero un reembolso", "es" },
        { "Muy mal servicio", "es" },
        { "Llevo tres d\xC3\xAD"
          "as esperando mi pedido",
          "es" },
        { "Buen\xC3\xADsimo", "es" }, /* one word, and not English */
        { "Le service client est nul", "fr" },
        { "Toujours pas de r\xC3\xA9ponse", "fr" },
        { "Super appli, je recommande", "fr" },
        { "Funktioniert nicht mehr", "de" },
        { "Die App st\xC3\xBCrzt st\xC3\xA4ndig ab", "de" },
        { "Tolles Produkt, gerne wieder", "de" },
        { "P\xC3\xA9ssimo atendimento", "pt" },
        { "Adorei o produto", "pt" },
        { "Adoro questo prodotto", "it" },
        { "Non funziona pi\xC3\xB9", "it" },
        { "Servizio clienti pessimo", "it" },
        { "Slechte service", "nl" },
        { "Werkt niet meer", "nl" },
        /* Words English shares ("die", "war", "super") outweighed by the
         * words of an order: this one read as a harsh English review. */
        { "Die Lieferung war super schnell", "de" },
        { "Commande livr\xC3\xA9"
          "e en retard",
          "fr" },
        { "Consegna in ritardo", "it" },
        { "Bestelling nooit ontvangen", "nl" },
        /* One word English rates too, against the stopwords of another
         * language and no English one. */
        { "Le client est super", "fr" },
        { "La app es super", "es" },
        /* Polish, Indonesian, Turkish and Swedish, as typed in ASCII. */
        { "Bardzo dobra aplikacja", "pl" },
        { "Zamowienie nadal nie dotarlo", "pl" },
        { "Aplikasi ini sangat bagus", "id" },
        { "Pesanan saya belum sampai", "id" },
        { "Kargo cok gec geldi", "tr" },
        { "Siparis hala gelmedi", "tr" },
        { "Appen fungerar inte", "sv" },
        { "Tack f\xC3\xB6r snabb leverans", "sv" },
    };
    for (size_t i = 0; i < sizeof(posts) / sizeof(posts[0]); i++)
        expect_lang(posts[i][0], posts[i][1], 0);
}

/* Too short for textcat, with no English word but a letter English never
 * writes: that letter's language, or "und", and never English. */
static void test_lang_marked_letters(void **state)
{
    (void)state;
    expect_lang("Hizmet \xC3\xA7ok k\xC3\xB6t\xC3\xBC, param\xC4\xB1 "
                "istiyorum",
                "tr", 0); /* ı */
    expect_lang("Nie dzia\xC5\x82"
                "a",
                "pl", 0); /* ł */
    /* No marking letter, but Turkish words (session 12; "und" before). */
    expect_lang("Bu uygulama \xC3\xA7ok k\xC3\xB6t\xC3\xBC", "tr", 0);
    /* No marking letter and no word of a list: "und". */
    expect_lang("Bu \xC3\xA7"
                "alan \xC3\xB6yk\xC3\xBC",
                "und", 0);
    /* An English word keeps it English, a name and all. */
    struct es_sentiment r = score_with(mini, "\xC5\x81ukasz love it");
    assert_string_equal(r.lang, "en");
    assert_false(r.low_confidence);
    assert_true(fabs(r.compound - norm(3.2)) < 1e-4);
}

static void test_lang_textcat(void **state)
{
    (void)state;
    /* No stopword of the seven languages: libexttextcat decides. */
    struct es_sentiment r = score_with(
        mini, "Bardzo dzi\xC4\x99kuj\xC4\x99 za szybk\xC4\x85 pomoc, "
              "wszystko dzia\xC5\x82"
              "a \xC5\x9Bwietnie, polecam");
    assert_string_not_equal(r.lang, "en");
    assert_true(r.low_confidence);
    assert_true(r.compound == 0);
}

static void test_lang_english_stays_english(void **state)
{
    (void)state;
    const char *texts[] = {
        "I love tacos de la casa",
        "good",
        "Tour de France was great",
        "@anonymous very good :)",
        "GREAT GAME",
        "thanks for the quick fix",
        "A film noir with a great twist",
        /* short posts, some with a word other languages share */
        "ok",
        "me too",
        "love it",
        "Still waiting for my refund",
        "the hotel was bad",
        "Real Madrid won again!",
        "de facto standard, sadly",
        "Mi amigo loves this place",
        "Gracias to the team",
        /* one borrowed word of thanks beside an English one */
        "Gracias! Great service",
        "Merci, great job",
        "Hasta la vista baby",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct es_sentiment r = score_with(mini, texts[i]);
        if (strcmp(r.lang, "en") != 0 || r.low_confidence)
            fail_msg("'%s': lang '%s'", texts[i], r.lang);
    }
    struct es_sentiment r = score_with(mini, "!!! :)");
    assert_string_equal(r.lang, "und");
}

/* Texts of tens of thousands of function words, up to the 128 KiB that
 * are scored: the stopword counts hold (they are kept in 16-bit lanes
 * between flushes, which must never wrap). */
static void test_lang_long_texts(void **state)
{
    (void)state;
    static const struct {
        const char *word, *lang;
    } runs[] = { { "the ", "en" }, { "pero ", "es" }, { "und ", "de" } };
    for (size_t k = 0; k < sizeof(runs) / sizeof(runs[0]); k++) {
        size_t wl = strlen(runs[k].word), n = 200000 / wl;
        char *text = malloc(n * wl + 1);
        assert_non_null(text);
        for (size_t i = 0; i < n; i++)
            memcpy(text + i * wl, runs[k].word, wl);
        text[n * wl] = '\0';
        for (size_t len = 70000; len <= n * wl; len += 65000) {
            struct es_sentiment r;
            assert_int_equal(es_sentiment_score(mini, text, len, &r), 0);
            if (strcmp(r.lang, runs[k].lang) != 0)
                fail_msg("%zu bytes of '%s': lang '%s'", len, runs[k].word,
                         r.lang);
        }
        free(text);
    }
}

/* ==== Threads share one lexicon ==== */

static const char *const thread_texts[] = {
    "good but bad",
    "NOT good!!",
    "sooo happy :)",
    "never so good",
    "Me encanta \xF0\x9F\x98\x80",
    "kind of awful",
    "still waiting???",
    "I hate this, although the help was great",
};
#define NTEXTS (sizeof(thread_texts) / sizeof(thread_texts[0]))

struct thread_arg {
    double expect[NTEXTS];
    int mismatches;
};

static void *thread_main(void *p)
{
    struct thread_arg *a = p;
    for (int round = 0; round < 2000; round++)
        for (size_t i = 0; i < NTEXTS; i++) {
            struct es_sentiment r;
            es_sentiment_score(mini, thread_texts[i], strlen(thread_texts[i]),
                               &r);
            if (r.compound != a->expect[i])
                a->mismatches++;
        }
    return NULL;
}

static void test_threads_share_lexicon(void **state)
{
    (void)state;
    struct thread_arg args[4];
    pthread_t th[4];
    for (size_t i = 0; i < NTEXTS; i++)
        args[0].expect[i] = compound(thread_texts[i]);
    for (int k = 0; k < 4; k++) {
        memcpy(args[k].expect, args[0].expect, sizeof(args[0].expect));
        args[k].mismatches = 0;
        assert_int_equal(pthread_create(&th[k], NULL, thread_main, &args[k]),
                         0);
    }
    for (int k = 0; k < 4; k++) {
        pthread_join(th[k], NULL);
        assert_int_equal(args[k].mismatches, 0);
    }
}

/* ==== earshot classify ==== */

/* Runs `earshot classify ARGS` on @input; returns the exit status and the
 * output in @out (at most @cap bytes). */
static int run_classify(const char *args, const char *input, size_t inlen,
                        char *out, size_t cap)
{
    char in[] = "/tmp/es-test-classify-XXXXXX";
    int fd = mkstemp(in);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, input, inlen), (ssize_t)inlen);
    close(fd);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "'%s' classify %s < '%s' 2>&1", ES_EARSHOT_BIN,
             args, in);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    unlink(in);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_cli_classify(void **state)
{
    (void)state;
    char out[8192];
    const char input[] = "good\n\nnot good\r\nvery bad!!\nlast line good";
    int rc = run_classify("--lexicon " FIX "mini.tsv", input, sizeof(input) - 1,
                          out, sizeof(out));
    assert_int_equal(rc, 0);
    /* One line per input, in order, 4 decimals. */
    char want[256];
    snprintf(want, sizeof(want), "%.4f\n0.0000\n%.4f\n%.4f\n%.4f\n", norm(1.9),
             norm(1.9 * -0.74), norm(-2.5 - 0.293 - 2 * 0.292), norm(1.9));
    assert_string_equal(out, want);

    rc = run_classify("--json --lexicon " FIX "mini.tsv", "good day\n", 9, out,
                      sizeof(out));
    assert_int_equal(rc, 0);
    snprintf(want, sizeof(want),
             "{\"compound\":%.4f,\"pos\":%.4f,\"neu\":%.4f,\"neg\":0.0000,"
             "\"label\":\"positive\",\"lang\":\"en\","
             "\"low_confidence\":false}\n",
             norm(1.9), 2.9 / 3.9, 1.0 / 3.9);
    assert_string_equal(out, want);

    rc = run_classify("--explain --lexicon " FIX "mini.tsv", "not good\n", 9,
                      out, sizeof(out));
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "\"text\":\"good\",\"valence\":1.9000,"
                                "\"score\":-1.4060,\"rules\":[\"lexicon\","
                                "\"negation\"]"));
    /* Every rule is named, the last one too. */
    rc = run_classify("--explain --lexicon " FIX "mini.tsv", "great, bad day\n",
                      15, out, sizeof(out));
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "\"rules\":[\"lexicon\",\"irony\"]"));

    rc = run_classify("--lexicon " FIX "mini.tsv --overlay " FIX "overlay.tsv",
                      "havoc\noutage\n", 13, out, sizeof(out));
    assert_int_equal(rc, 0);
    snprintf(want, sizeof(want), "0.0000\n%.4f\n", norm(-3.5));
    assert_string_equal(out, want);

    rc = run_classify("--lexicon " FIX "bad_range.tsv", "x\n", 2, out,
                      sizeof(out));
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "bad_range.tsv:3: "));
    rc = run_classify("--bogus", "", 0, out, sizeof(out));
    assert_int_equal(rc, 2);
}

static void test_cli_classify_long_lines(void **state)
{
    (void)state;
    /* A 3 MB line between two short ones: scored, order kept. */
    size_t big = 3u << 20;
    char *in = malloc(big + 64);
    assert_non_null(in);
    size_t n = 0;
    memcpy(in, "good\n", 5);
    n = 5;
    for (size_t i = 0; i < big; i++)
        in[n++] = i % 5 == 4 ? ' ' : 'x';
    memcpy(in + n, "\nbad\n", 5);
    n += 5;
    char out[256];
    int rc = run_classify("--lexicon " FIX "mini.tsv", in, n, out, sizeof(out));
    free(in);
    assert_int_equal(rc, 0);
    char want[64];
    snprintf(want, sizeof(want), "%.4f\n0.0000\n%.4f\n", norm(1.9), norm(-2.5));
    assert_string_equal(out, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_lexicon),
        cmocka_unit_test(test_rule_booster),
        cmocka_unit_test(test_rule_after),
        cmocka_unit_test(test_rule_dampener),
        cmocka_unit_test(test_rule_negation),
        cmocka_unit_test(test_rule_never_again),
        cmocka_unit_test(test_rule_like_filler),
        cmocka_unit_test(test_rule_scare_quotes),
        cmocka_unit_test(test_rule_not_once),
        cmocka_unit_test(test_rule_never_so),
        cmocka_unit_test(test_rule_without_doubt),
        cmocka_unit_test(test_rule_least),
        cmocka_unit_test(test_rule_less),
        cmocka_unit_test(test_rule_used_to),
        cmocka_unit_test(test_rule_complaint),
        cmocka_unit_test(test_rule_no),
        cmocka_unit_test(test_rule_irrealis),
        cmocka_unit_test(test_rule_polar_question),
        cmocka_unit_test(test_rule_plea),
        cmocka_unit_test(test_rule_tears_of_joy),
        cmocka_unit_test(test_rule_nothing_says),
        cmocka_unit_test(test_rule_caps),
        cmocka_unit_test(test_rule_but),
        cmocka_unit_test(test_rule_although),
        cmocka_unit_test(test_rule_exclamation),
        cmocka_unit_test(test_rule_question),
        cmocka_unit_test(test_rule_emoticon_emoji),
        cmocka_unit_test(test_rule_camel_hashtag),
        cmocka_unit_test(test_rule_handle),
        cmocka_unit_test(test_rule_irony),
        cmocka_unit_test(test_rule_remedy),
        cmocka_unit_test(test_rule_audience),
        cmocka_unit_test(test_rule_laughter),
        cmocka_unit_test(test_rule_ended),
        cmocka_unit_test(test_rule_price_rise),
        cmocka_unit_test(test_rule_harmed),
        cmocka_unit_test(test_rule_correction),
        cmocka_unit_test(test_rule_not_tail),
        cmocka_unit_test(test_rule_idiom),
        cmocka_unit_test(test_rule_elongation),
        cmocka_unit_test(test_rule_masked_swearing),
        cmocka_unit_test(test_rule_social_spellings),
        cmocka_unit_test(test_rule_unicode_fold),
        cmocka_unit_test(test_proportions),
        cmocka_unit_test(test_label_thresholds),
        cmocka_unit_test(test_explain),
        cmocka_unit_test(test_prop_negation_flips_sign),
        cmocka_unit_test(test_prop_boosters_and_caps_raise_magnitude),
        cmocka_unit_test(test_prop_but_shifts_weight),
        cmocka_unit_test(test_prop_exclamation_raises_magnitude),
        cmocka_unit_test(test_load_earshot),
        cmocka_unit_test(test_load_vader),
        cmocka_unit_test(test_load_afinn),
        cmocka_unit_test(test_load_malformed),
        cmocka_unit_test(test_load_buf_edge_cases),
        cmocka_unit_test(test_shipped_lexicon_customer_service),
        cmocka_unit_test(test_shipped_lexicon_personal_posts),
        cmocka_unit_test(test_expression_with_one_letter_words),
        cmocka_unit_test(test_expression_outgrown),
        cmocka_unit_test(test_zero_phrase_hides_its_word),
        cmocka_unit_test(test_overlay),
        cmocka_unit_test(test_lexicon_cache),
        cmocka_unit_test(test_brand_names),
        cmocka_unit_test(test_overlay_grows_table),
        cmocka_unit_test(test_hostile_input),
        cmocka_unit_test(test_lang_not_english),
        cmocka_unit_test(test_lang_short_posts),
        cmocka_unit_test(test_lang_marked_letters),
        cmocka_unit_test(test_lang_textcat),
        cmocka_unit_test(test_lang_english_stays_english),
        cmocka_unit_test(test_lang_long_texts),
        cmocka_unit_test(test_threads_share_lexicon),
        cmocka_unit_test(test_cli_classify),
        cmocka_unit_test(test_cli_classify_long_lines),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
