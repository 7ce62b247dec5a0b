/* test_priority.c - the 0-100 priority of a mention and its reasons
 *
 * Each factor is checked alone against a hand-computed score (the default
 * weights are round numbers for that), then against its neighbours: more
 * of it moves the score the right way, and a reason says so. Sentiment is
 * set by hand here - the classifier has its own tests - except where the
 * config and the scorer of ingest are checked end to end.
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
#include "earshot/config.h"
#include "earshot/error.h"
#include "earshot/inbox.h"
#include "earshot/ingest.h"
#include "earshot/item.h"
#include "earshot/priority.h"
#include "earshot/sentiment.h"

#define NOW  1800000000LL /* a fixed "now" for the age factor */
#define HOUR 3600LL
#define DAY  (24 * HOUR)

/* ==== Helpers ==== */

/* A feed entry with @text, nothing else known. */
static void item_feed(struct es_item *it, const char *title, const char *text)
{
    es_item_init(it);
    it->platform = es_xstrdup("rss");
    it->kind = ES_KIND_ARTICLE;
    it->title = title ? es_xstrdup(title) : NULL;
    it->text = text ? es_xstrdup(text) : NULL;
}

/* A post on a social platform. */
static void item_social(struct es_item *it, enum es_item_kind kind,
                        const char *text)
{
    es_item_init(it);
    it->platform = es_xstrdup("mastodon");
    it->kind = kind;
    it->text = es_xstrdup(text);
}

static struct es_sentiment sentiment(double compound)
{
    struct es_sentiment s;
    memset(&s, 0, sizeof(s));
    s.compound = compound;
    s.label = compound >= ES_SENTIMENT_POS_THRESHOLD   ? ES_SENTIMENT_POSITIVE
              : compound <= ES_SENTIMENT_NEG_THRESHOLD ? ES_SENTIMENT_NEGATIVE
                                                       : ES_SENTIMENT_NEUTRAL;
    snprintf(s.lang, sizeof(s.lang), "en");
    return s;
}

/* Scores @it with @p and sentiment @compound. */
static struct es_priority_result
score(const struct es_priority *p, const struct es_item *it, double compound)
{
    struct es_sentiment s = sentiment(compound);
    struct es_priority_result r;
    assert_int_equal(es_priority_score(p, it, &s, NOW, &r), 0);
    assert_true(r.score >= 0 && r.score <= 100);
    /* Always a JSON array, even an empty one. */
    assert_int_equal(r.reasons[0], '[');
    assert_int_equal(r.reasons[strlen(r.reasons) - 1], ']');
    return r;
}

static int has_reason(const struct es_priority_result *r, const char *reason)
{
    char quoted[128];
    snprintf(quoted, sizeof(quoted), "\"%s\"", reason);
    return strstr(r->reasons, quoted) != NULL;
}

static struct es_priority *defaults(void)
{
    static const char *const brands[] = { "Acme Cloud", "Widgetly" };
    return es_priority_new(NULL, brands, 2);
}

/* The score of a plain feed entry with @text and sentiment 0. */
static int text_score(const struct es_priority *p, const char *text,
                      struct es_priority_result *out)
{
    struct es_item it;
    item_feed(&it, NULL, text);
    *out = score(p, &it, 0.0);
    es_item_release(&it);
    return out->score;
}

/* ==== Each factor alone ==== */

static void test_nothing_scores_zero(void **state)
{
    (void)state;
    struct es_priority *p = defaults();
    struct es_priority_result r;
    assert_int_equal(text_score(p, "A new dashboard shipped today.", &r), 0);
    assert_string_equal(r.reasons, "[]");
    assert_int_equal(r.nreasons, 0);
    /* No text at all, and no sentiment. */
    struct es_item it;
    es_item_init(&it);
    assert_int_equal(es_priority_score(p, &it, NULL, NOW, &r), 0);
    assert_int_equal(r.score, 0);
    assert_string_equal(r.reasons, "[]");
    es_priority_free(p);
}

static void test_negativity(void **state)
{
    (void)state;
    struct es_priority *p = defaults();
    struct es_item it;
    item_feed(&it, NULL, "the dashboard");

    struct es_priority_result r = score(p, &it, -0.5);
    assert_int_equal(r.score, 20); /* 40 x 0.5 */
    assert_string_equal(r.reasons, "[\"negative -0.50\"]");
    r = score(p, &it, -0.82);
    assert_int_equal(r.score, 33); /* 40 x 0.82 = 32.8 */
    assert_true(has_reason(&r, "negative -0.82"));
    assert_int_equal(score(p, &it, -1.0).score, 40);
    /* More negative, more urgent; neutral and positive add nothing. */
    assert_true(score(p, &it, -0.9).score > score(p, &it, -0.3).score);
    r = score(p, &it, -0.04);
    assert_int_equal(r.score, 0);
    assert_int_equal(r.nreasons, 0);
    assert_int_equal(score(p, &it, 0.9).score, 0);
    es_item_release(&it);
    es_priority_free(p);
}

static void test_urgency_words(void **state)
{
    (void)state;
    struct es_priority *p = defaults();
    struct es_priority_result r;
    static const struct {
        const char *text;
        const char *reason;
        int score;
    } cases[] = {
        { "Still waiting for a refund", "mentions refund", 18 },
        { "I want my money back", "mentions refund", 18 },
        { "Charged twice for one plan", "mentions billing error", 18 },
        { "How do I cancel my plan", "mentions cancellation", 18 },
        { "Cancellation took three emails", "mentions cancellation", 18 },
        { "the API is down again", "mentions outage", 24 },
        { "the API is down", "mentions outage", 24 },
        { "site has been down 2 hours now", "mentions outage", 24 },
        { "app is down. 20 minutes and counting", "mentions outage", 24 },
        { "login not working since noon", "mentions outage", 24 },
        { "login isn\xE2\x80\x99t working", "mentions outage", 24 },
        { "Big OUTAGE in fra1", "mentions outage", 24 },
        { "talking to my lawyer", "mentions legal action", 30 },
        { "this breaks GDPR", "mentions legal action", 30 },
        { "charger caught fire", "mentions safety", 30 },
        { "the battery is on fire", "mentions safety", 30 },
        { "the charger burned my hand", "mentions safety", 30 },
        { "battery swelled up overnight", "mentions safety", 30 },
        { "my kid got hurt by the toy", "mentions safety", 30 },
        { "double billed again", "mentions billing error", 18 },
        { "charged me 3 times", "mentions billing error", 18 },
        { "how do I delete my account", "mentions cancellation", 18 },
        { "how do I unsubscribe me from this", "mentions cancellation", 18 },
        { "trying to unsubscribe for a week", "mentions cancellation", 18 },
        { "site isnt working", "mentions outage", 24 },
        { "the app doesnt work", "mentions outage", 24 },
        { "the casing is unsafe", "mentions safety", 30 },
        { "this is a safety issue", "mentions safety", 30 },
        { "worried about my safety on your buses", "mentions safety", 30 },
        { "the scooter's brakes failed on a hill", "mentions safety", 30 },
        { "ended up in the ER last night", "mentions safety", 30 },
        { "charger smells like burning plastic", "mentions safety", 30 },
        { "my account got hijacked", "mentions account security", 24 },
        { "I think I got phished", "mentions account security", 24 },
        { "they banned me for asking", "mentions account access", 24 },
        { "my phone is stuck in a boot loop", "mentions outage", 24 },
        { "now debt collectors are calling", "mentions billing error", 18 },
        { "charged me 6 times for one order", "mentions billing error", 18 },
        { "my mom is in hospice", "mentions a vulnerable person", 18 },
        /* The brand's name before "down", as words or as one. */
        { "widgetly down again", "mentions outage", 24 },
        { "Acme Cloud down for anyone else", "mentions outage", 24 },
        { "@acmecloud down since noon", "mentions outage", 24 },
        { "login page throws a 500 error", "mentions outage", 24 },
        { "checkout keeps timing out", "mentions outage", 24 },
        { "this is fraud", "mentions legal action", 30 },
        { "reporting you to the BBB", "mentions legal action", 30 },
        { "my son choked on a small part", "mentions safety", 30 },
        { "your driver threatened me", "mentions safety", 30 },
        { "someone hacked my account", "mentions account security", 24 },
        { "my account was compromised", "mentions account security", 24 },
        { "was my password leaked in the data breach",
          "mentions account security", 24 },
        { "the whole team is locked out", "mentions account security", 24 },
        { "power's been out for 14 hours", "mentions outage", 24 },
        { "no internet since this morning", "mentions outage", 24 },
        { "you froze my account with no reason", "mentions account access",
          24 },
        { "my account was suspended overnight", "mentions account access", 24 },
        { "can't log in since the update", "mentions account access", 24 },
        { "withdrawals are paused, where is my money",
          "mentions account access", 28 },
        /* Session 20: money gone, a site down for others, a safety
         * question, money taken, a frozen card, a plea to be called,
         * children travelling. */
        { "\xC2\xA3"
          "38 gone, chat closes at 10",
          "mentions billing error", 18 },
        { "is the site down for anyone else", "mentions outage", 24 },
        { "grinding noise at 70 mph, is that safe", "mentions safety", 30 },
        { "a transfer i never made left my account",
          "mentions account security", 24 },
        { "you froze my card while im abroad", "mentions account access", 24 },
        /* With "tonight": 30 x (1 - 0.5 x 0.7); "I can't" and "I need"
         * add as much ("is stuck"). */
        { "please call me back tonight", "says it is urgent", 20 },
        { "flying as an unaccompanied minor", "mentions a vulnerable person",
          18 },
        /* Distress as people write it, from a second probe. */
        { "the sunscreen gave her a rash, we're at urgent care",
          "mentions safety", 30 },
        { "someone took out a loan in my name", "mentions account security",
          24 },
        { "the railing came away in my hand, my toddler was right there",
          "mentions safety", 30 },
        { "debited twice for one transaction", "mentions billing error", 18 },
        { "please escalate this", "says it is urgent", 15 },
        { "our donation form is throwing 502s", "mentions outage", 24 },
        { "the ATM swallowed my card", "mentions account access", 24 },
        { "debited but not received since morning", "mentions billing error",
          18 },
        { "my dad is in ICU and you cut his line",
          "mentions a vulnerable person", 18 },
        { "the driver wouldn't let me out", "mentions safety", 30 },
        { "the VAT deadline is midnight tonight", "says it is urgent", 20 },
        { "my passport is in the bag and I fly in 4 hours", "says it is urgent",
          15 },
        { "the driver has gone off route with my daughter", "mentions safety",
          30 },
        { "they talked me into moving it to a safe account",
          "mentions account security", 24 },
        { "payroll didn't go out this morning", "needs it soon", 22 },
        { "I'm diabetic and my food is lost", "mentions a vulnerable person",
          18 },
        { "a passenger has collapsed in coach C", "mentions safety", 30 },
        { "my account is blocked after the KYC update",
          "mentions account access", 24 },
        { "court documents had to be filed by noon", "mentions legal action",
          30 },
        { "overbooked, and they told me to leave at 1am", "says it is urgent",
          15 },
        { "you've taken \xC2\xA3"
          "2,140 by direct debit instead of \xC2\xA3"
          "214",
          "mentions billing error", 18 },
        { "a missing manhole cover by the school gate", "mentions safety", 30 },
        { "I am being evicted on Friday", "says it is urgent", 15 },
        /* Session 21: a person in crisis, a touch, an account used by
         * someone else, a card stopped, a game's progress lost. */
        { "he said he's going to end his life tonight", "mentions safety", 30 },
        { "a passenger keeps touching my leg", "mentions safety", 30 },
        { "a rider nearly hit a child outside the school", "mentions safety",
          30 },
        { "someone's used my account to order food",
          "mentions account security", 24 },
        { "your engineer wants my PIN, is this actually you",
          "mentions account security", 24 },
        { "I've been charged for three bundles I didn't buy",
          "mentions billing error", 18 },
        { "my card's been blocked while I'm abroad", "mentions account access",
          24 },
        { "the update wiped my progress", "mentions data loss", 24 },
        /* From a third probe. */
        { "they charged my credit card for a car I returned",
          "mentions billing error", 18 },
        { "charged for a service, I've never had an account",
          "mentions billing error", 18 },
        { "we got an email about a security incident",
          "mentions account security", 24 },
        { "he was on the floor for 3 hours", "mentions safety", 30 },
        { "the engineer left the pipes exposed", "mentions safety", 30 },
        { "my dad is on oxygen", "mentions a vulnerable person", 18 },
        /* A deadline with its hour: any hour. */
        { "the landlord needs the paperwork by 5pm", "says it is urgent", 15 },
        { "I need it before 11am", "is stuck", 20 },
        { "the branch closes at 10pm", "says it is urgent", 15 },
        { "she needs the statement by 10:30pm", "says it is urgent", 15 },
        { "the branch closes at 17:30 today", "needs it soon", 20 },
        { "I need the form by 9:15 am", "is stuck", 20 },
        { "the cabinet is wide open, wires hanging out and it's sparking",
          "mentions safety", 30 },
        { "shut by the council for rats in the kitchen", "mentions safety",
          30 },
        { "the woman at the gate is having chest pains", "mentions safety",
          30 },
        { "I was racially profiled by your security guard",
          "mentions legal action", 30 },
        { "day 4 of no broadband", "mentions outage", 24 },
        { "a man is unresponsive outside room 220", "mentions safety", 30 },
        { "I've called 999 and reception aren't coming", "mentions safety",
          30 },
        { "the sauce isn't on the allergen list", "mentions safety", 30 },
        { "it's my daughter's replacement hearing aid",
          "mentions a vulnerable person", 18 },
        /* Phrases of five words, which never matched (at most four). */
        { "my car broke down on the motorway", "mentions safety", 30 },
        { "I can't get into my account", "is stuck", 26 },
        { "billing sent me to collections for a paid bill",
          "mentions billing error", 18 },
        /* A one-word brand inside a phrase does not break it. */
        { "how do I delete my Widgetly account", "mentions cancellation", 18 },
        { "you froze my @widgetly account", "mentions account access", 24 },
        { "I can't access my Widgetly account", "is stuck", 26 },
        /* Said to the brand, "please" asks: 30 x (1 - 0.4 x 0.6). */
        { "please delete my Acme Cloud account", "asks for something", 23 },
        /* Session 16: what a probe of customer posts found unread. */
        { "found a piece of glass in my curry", "mentions safety", 30 },
        { "my son is allergic to peanuts and it had nuts", "mentions safety",
          30 },
        { "they charged my card twice", "mentions billing error", 18 },
        { "I didn't authorise this payment", "mentions billing error", 18 },
        { "someone logged into my account from Lagos",
          "mentions account security", 24 },
        { "you locked me out of online banking", "mentions account access",
          24 },
        { "my card has been blocked again", "mentions account access", 24 },
        { "your update wiped my phone", "mentions data loss", 24 },
        { "lost all my photos after the update", "mentions data loss", 24 },
        { "I will be contacting my solicitor", "mentions legal action", 30 },
        { "504 gateway timeout on every request", "mentions outage", 24 },
        { "it's down for everyone", "mentions outage", 24 },
        { "the fraud on my card", "mentions legal action", 30 },
        /* Session 17: urgency said outright. */
        { "need a reply asap", "says it is urgent", 15 },
        { "URGENT: wrong address on my order", "says it is urgent", 15 },
        { "please look into this urgently", "says it is urgent", 15 },
        { "this is an emergency, my order is for tomorrow", "needs it soon",
          20 },
        { "it is urgent", "says it is urgent", 15 },
        { "someone has taken money out of my account", "mentions billing error",
          18 },
        { "they took money from my account twice", "mentions billing error",
          18 },
        { "power cut since 6am on our street", "mentions outage", 24 },
        { "there's a strong smell of gas in the hallway", "mentions safety",
          30 },
        { "my account was taken over last night", "mentions account security",
          24 },
        { "you locked my account for no reason", "mentions account access",
          24 },
        { "someone ported my number out without asking",
          "mentions account security", 24 },
        { "sparks coming from the meter box", "mentions safety", 30 },
        /* A sum of money, in any currency and size, is one word. */
        { "Telvo just took \xC2\xA3"
          "340 out of my account",
          "mentions billing error", 18 },
        { "you charged me $89.99 twice this month", "mentions billing error",
          18 },
        { "\xE2\x82\xAC"
          "1,450 taken from my account by direct debit",
          "mentions billing error", 18 },
        /* With an outage: 30 x (1 - 0.2 x 0.4). */
        { "my disabled mum has had no heating for two days",
          "mentions a vulnerable person", 28 },
        { "we have a 3 month old baby and you cut off the power",
          "mentions a vulnerable person", 18 },
        /* Session 22: a flight within hours, rent due, another person's
         * details, aggression, a number cut off, special needs. */
        { "my flight is in 6 hours", "says it is urgent", 15 },
        { "I can't pay my rent because of this", "is stuck", 22 },
        { "the booking shows someone else's name", "mentions account security",
          24 },
        { "please lock my account", "mentions account security", 24 },
        { "the rider was aggressive to my daughter", "mentions safety", 30 },
        { "you cut my number off by mistake", "mentions account access", 24 },
        { "my son has special needs", "mentions a vulnerable person", 18 },
        /* From probe 18, read after its held-out figure. */
        { "the reset email has my password in plain text",
          "mentions account security", 24 },
        { "serious data leak in the shared boards", "mentions account security",
          24 },
        { "a rep at my door wants my bank details, is this legit",
          "mentions account security", 24 },
        { "these dungarees need recalling", "mentions safety", 30 },
        /* From probe 20, read after its held-out figure. */
        { "there's a boil water notice on our street", "mentions safety", 30 },
        { "the email shows my full card number", "mentions account security",
          24 },
        { "I'm registered blind", "mentions a vulnerable person", 18 },
        /* From probe 22, read after its held-out figure. */
        { "my mum lives alone", "mentions a vulnerable person", 18 },
        { "two payments I don't recognise", "mentions account security", 24 },
        { "my train leaves in 10 mins", "says it is urgent", 15 },
        { "the front door lock has broken", "mentions safety", 30 },
        { "the driver wouldn't stop when she asked", "mentions safety", 30 },
        /* From probe 26 (toys, a pharmacy, home cameras, furniture,
         * parcel lockers), read after its held-out figure. */
        { "my daughter swallowed a piece of the toy", "mentions safety", 30 },
        { "the wardrobe tipped over onto the bed", "mentions safety", 30 },
        { "the shelf bracket gave way", "mentions safety", 30 },
        { "his fingers are trapped in the locker door", "mentions safety", 30 },
        { "a voice came out of the camera", "mentions safety", 30 },
        { "there's a card skimmer on your reader", "mentions account security",
          24 },
        { "the share link is public and indexed", "mentions account security",
          24 },
        { "the app showed a different person's prescriptions",
          "mentions account security", 24 },
        { "she's got nothing for food until Thursday",
          "mentions a vulnerable person", 18 },
        /* From probe 27 (a dating app, e-scooters, home care, car seats,
         * boilers), read after its held-out figure. */
        { "a match spiked my drink last saturday", "mentions safety", 30 },
        { "the front wheel came off the pram", "mentions safety", 30 },
        { "the buckle won't release and baby is in it", "mentions safety", 30 },
        { "my ex can see where i live now", "mentions safety", 30 },
        { "the carers haven't been for two days",
          "mentions a vulnerable person", 18 },
        { "the profile shows my home address", "mentions account security",
          24 },
        { "that was my food money for the month", "mentions billing error",
          18 },
        /* From probe 28 (pet boarding, telehealth, self storage, solar, a
         * mobile game), read after its held-out figure. */
        { "the app showed me someone else's system and address",
          "mentions account security", 24 },
        { "a grown man asking for pics in clan chat", "mentions safety", 30 },
        { "the battery says thermal fault", "mentions safety", 30 },
        { "our storage unit had a break-in", "mentions safety", 30 },
        { "someone tried to break in last night", "mentions safety", 30 },
        { "they handed me someone else's dog at pickup",
          "mentions account security", 24 },
        /* From probe 29 (driving school, dentist, ferry, funeral
         * director, a language app, a theme park), read after its
         * held-out figure. */
        { "the instructor smelled of alcohol at 8am", "mentions safety", 30 },
        { "the lesson car had a bald tyre", "mentions safety", 30 },
        { "the lap bar popped up on the second loop", "mentions safety", 30 },
        { "stuck at the top of the lift hill for 35 mins", "mentions safety",
          30 },
        { "he keeps saying goodbye to everyone", "mentions safety", 30 },
        /* From probe 31 (a heating firm, a nursery chain, car hire, a
         * banking app, grocery delivery, a cinema chain). */
        { "the app showed me another family's child",
          "mentions account security", 24 },
        { "my ex has a court order saying he can't collect",
          "mentions legal action", 30 },
        { "a new payee added that wasn't me", "mentions account security", 24 },
        /* A day named, with another cue: 30 x (1 - 0.2 x 0.7); not a
         * duration ("since this morning", above). */
        { "the app is down, fix it today", "needs it soon", 26 },
        { "the app is down, need it fixed tmrw", "needs it soon", 26 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        text_score(p, cases[i].text, &r);
        if (!has_reason(&r, cases[i].reason) || r.score != cases[i].score)
            fail_msg("'%s': score %d %s, expected %d with \"%s\"",
                     cases[i].text, r.score, r.reasons, cases[i].score,
                     cases[i].reason);
    }
    /* Words that only look like cues. */
    static const char *const calm[] = {
        "calm down, it works",
        "down the road we will see",
        "refundable deposit",
        "the working group met",
        "a fireside chat",
        "lawyered-up startups",
        "zero-downtime deploys",
        "no outage since May",
        "I don't recall the name",
        "Unsubscribe | Manage preferences",
        "Click here to unsubscribe",
        "Acme stock is down 20% today",
        "shares were down 3 points",
        "revenue is down 5 percent",
        "the house and its down payment",
        "my heart melted",
        "no cap this update is fire",
        "the new drop is straight fire",
        "Widgetly down 5% after earnings",
        "wrote it down: widgetly",
        "I hacked together a script on the API",
        "we compromised on the colour",
        "photos of the new model leaked",
        "I choked on my coffee reading this",
        "the contract was breached",
        "the new album is out",
        "the power of a good playlist",
        "how do I log in with my passkey",
        "my Widgetly account page looks nice",
        /* "fraud" as a bank's service, a power of attorney. */
        "thanks to the fraud team",
        "the fraud line was quick",
        "sorting my nan's power of attorney",
        "I lost my keys",
        "deleted the app from my phone",
        /* No hurry, or a clinic. */
        "not urgent, whenever you can",
        "a non-urgent question about invoices",
        "the urgent care on 5th street",
        /* What a product has, no danger. */
        "the safety features are great",
        "it got a 5 star safety rating",
        "safety first, wearing my helmet",
        "is it safe to say this is the best phone",
        "the blue one is unavailable in my size",
        "put me down for two tickets",
        "the bill is in my name",
        "I didn't make it to the gym today",
        "see you tomorrow at the launch",
        /* A safety demo on a plane is no danger. */
        "the crew did the safety demo with real enthusiasm",
        /* A question that asks nothing of the brand; a contract, a
         * coupon; a place, a price, a nuisance (session 23). */
        "the best cafe where I live",
        "prices spiked again this month",
        "this app gives me headaches",
        "thank god for the new update",
        /* "break-in" splits as "break in": a rest, no burglary. */
        "I'll take a break in the afternoon",
        "not my fault, it's someone else's problem now",
        "I'd rather read a stranger's review than an ad",
        "how am I supposed to know it's broken without opening it",
        "update your card details in the app",
        "I feel trapped in this contract",
        "not remotely interested",
        "the coupon expired yesterday",
        /* A burn that hurts nobody. */
        "the watch says I burned 3,000 calories",
        "I'm burnt out after this week",
        "burned through my data in a day",
        "we locked our doors early",
        "a rash decision",
        "we've been flooded with messages, thank you",
        "the deadline is next month",
        "logged into the wrong account, my bad",
        "the shop won't open till ten",
        /* A farewell at a funeral (session 24). */
        "saying goodbye to mum was as gentle as it could be",
        "an emergency exit by the stairs",
        /* A film, a joke, an account used by its owner. */
        "Suicide Squad was better than I remembered",
        "this ad makes me want to die",
        "I used my account to order lunch",
        "saved my progress before the boss fight",
        "this song had me on the floor laughing",
        "the store is open 9am to 5pm",
        "John 3:16 on the back of the receipt",
        "I passed out on the sofa after the box arrived, so good",
        "stood by 9 of my friends",
        /* A price that fell. */
        "my bill went down this month",
        /* A discount, a price. */
        "they took \xC2\xA3"
        "20 off my bill",
        "paid $340 for the phone",
        /* Not a person. */
        "the feature is disabled in settings",
        "my 3 month old laptop",
        "the renewal price is down",
    };
    for (size_t i = 0; i < sizeof(calm) / sizeof(calm[0]); i++)
        if (text_score(p, calm[i], &r) != 0)
            fail_msg("'%s': score %d %s, expected 0", calm[i], r.score,
                     r.reasons);
    /* Two cues add, with diminishing returns: 30 x (1 - 0.4 x 0.4). */
    assert_int_equal(text_score(p, "refund or I cancel", &r), 25);
    assert_true(has_reason(&r, "mentions refund"));
    assert_true(has_reason(&r, "mentions cancellation"));
    assert_int_equal(r.nreasons, 2);
    /* A refund or an outage in a glad post is mostly over: it counts
     * half, 30 x 0.3 against 30 x 0.6 with no sentiment, 30 x 0.4
     * against 30 x 0.8; a day named counts nothing there, and with no
     * sentiment adds to the outage: 30 x (1 - 0.2 x 0.7). */
    static const struct {
        const char *text, *reason;
        int glad, plain;
    } halved[] = {
        { "refunded within the hour, thanks", "mentions refund", 9, 18 },
        { "short outage this morning, fixed in an hour", "mentions outage", 12,
          26 },
        { "rebooked me straight away after the cancellation",
          "mentions cancellation", 9, 18 },
    };
    for (size_t i = 0; i < sizeof(halved) / sizeof(halved[0]); i++) {
        struct es_item it;
        item_feed(&it, NULL, halved[i].text);
        r = score(p, &it, 0.6);
        assert_int_equal(r.score, halved[i].glad);
        assert_true(has_reason(&r, halved[i].reason));
        r = score(p, &it, 0.0);
        assert_int_equal(r.score, halved[i].plain);
        es_item_release(&it);
    }
    /* "dangerous" in a glad post is temptation ("this sale is
     * dangerous"); in any other, and beside another safety word even
     * in a glad one, danger. */
    {
        struct es_item it;
        item_feed(&it, NULL, "the new bakery section is dangerous");
        r = score(p, &it, 0.6);
        assert_false(has_reason(&r, "mentions safety"));
        r = score(p, &it, 0.0);
        assert_true(has_reason(&r, "mentions safety"));
        es_item_release(&it);
        item_feed(&it, NULL, "dangerous wiring, the charger caught fire");
        r = score(p, &it, 0.6);
        assert_true(has_reason(&r, "mentions safety"));
        es_item_release(&it);
    }
    /* A vulnerable person keeps the whole weight in a glad post: a
     * polite plea reads glad. */
    {
        struct es_item it;
        item_feed(&it, NULL, "my mum is 87 and housebound, thank you");
        r = score(p, &it, 0.6);
        assert_int_equal(r.score, 18);
        es_item_release(&it);
    }
    /* A cue said twice is one cue. */
    assert_int_equal(text_score(p, "refund refund REFUND", &r), 18);
    /* Never beyond the weight. */
    assert_int_equal(
        text_score(p, "refund, cancel, outage, lawyer, fire, charged twice",
                   &r),
        30);
    es_priority_free(p);
}

/* "please" said to the brand asks for something, as a question does;
 * a reference number quoted says a case is open. Neither counts in a
 * glad post. */
static void test_request_and_reference(void **state)
{
    (void)state;
    struct es_priority *p = defaults();
    struct es_priority_result r;
    struct es_item it;

    /* Said to nobody in particular, "please" asks nothing of us, and is
     * no other cue beside a day named. */
    assert_int_equal(text_score(p, "please bring back the old logo", &r), 0);
    assert_int_equal(text_score(p, "please come to the launch today", &r), 0);
    /* Naming the brand: 30 x 0.4. */
    assert_int_equal(
        text_score(p, "Acme Cloud please bring back dark mode", &r), 12);
    assert_string_equal(r.reasons, "[\"asks for something\"]");
    /* In a direct mention: the request (12) and the mention (10). */
    item_social(&it, ES_KIND_REPLY, "pls look at my ticket");
    r = score(p, &it, 0);
    assert_int_equal(r.score, 22);
    assert_true(has_reason(&r, "asks for something"));
    /* A glad one may be thanks ("please keep it up") or a polite plea:
     * half, 30 x 0.2, and the mention. */
    r = score(p, &it, 0.6);
    assert_int_equal(r.score, 16);
    assert_true(has_reason(&r, "asks for something"));
    es_item_release(&it);

    /* A reference: six digits or more, four after a '#', or two or
     * three letters and three digits or more: 30 x 0.3. */
    static const char *const refs[] = {
        "order 55912034 never came", "order #48213 never came",
        "claim HC-559120 is stuck",  "booking KW884123 shows the wrong name",
        "flight BA123 and no bags",
    };
    for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
        text_score(p, refs[i], &r);
        if (r.score != 9 || !has_reason(&r, "gives a reference"))
            fail_msg("'%s': score %d %s, expected 9 with a reference", refs[i],
                     r.score, r.reasons);
    }
    /* Years, prices, models and short numbers are none. */
    static const char *const none[] = {
        "since 2019 it never came", "it never came, #2024",
        "my ps5 never came",        "the a321neo never came",
        "order 4821 never came",    "it cost $123456",
    };
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
        text_score(p, none[i], &r);
        if (has_reason(&r, "gives a reference"))
            fail_msg("'%s': %s, expected no reference", none[i], r.reasons);
    }
    /* In a glad post a reference is no case: "came early, thanks". */
    item_feed(&it, NULL, "order #48213 came a day early");
    r = score(p, &it, 0.6);
    assert_false(has_reason(&r, "gives a reference"));
    es_item_release(&it);
    es_priority_free(p);
}

/* "I need", "I can't", "nobody is": a customer stuck, counted as a day
 * named is, in a negative post or beside another cue; not the idioms
 * "I can't wait", "I can't believe". */
static void test_stuck(void **state)
{
    (void)state;
    struct es_priority *p = defaults();
    struct es_priority_result r;
    struct es_item it;
    static const char *const stuck[] = {
        "I can't get into the building",    "we cannot pay the invoice",
        "I need my order before the party", "nobody is answering the phone",
        "no one has called back",
    };
    /* Negative (-0.5): 40 x 0.5, and 30 x 0.3. */
    for (size_t i = 0; i < sizeof(stuck) / sizeof(stuck[0]); i++) {
        item_feed(&it, NULL, stuck[i]);
        r = score(p, &it, -0.5);
        if (r.score != 29 || !has_reason(&r, "is stuck"))
            fail_msg("'%s': score %d %s, expected 29 with \"is stuck\"",
                     stuck[i], r.score, r.reasons);
        es_item_release(&it);
    }
    static const char *const idioms[] = {
        "I can't wait for the update",
        "I can't believe how slow it is",
        "we can't thank them enough",
        "I can't recommend it",
    };
    for (size_t i = 0; i < sizeof(idioms) / sizeof(idioms[0]); i++) {
        item_feed(&it, NULL, idioms[i]);
        r = score(p, &it, -0.5);
        if (has_reason(&r, "is stuck"))
            fail_msg("'%s': %s, expected no \"is stuck\"", idioms[i],
                     r.reasons);
        es_item_release(&it);
    }
    /* Neither negative nor with another cue: nothing. */
    assert_int_equal(text_score(p, "I need a new phone case", &r), 0);
    /* Beside an outage: 30 x (1 - 0.2 x 0.7). */
    assert_int_equal(text_score(p, "the app is down and I can't work", &r), 26);
    assert_true(has_reason(&r, "is stuck"));
    es_priority_free(p);
}

static void test_question_to_the_brand(void **state)
{
    (void)state;
    struct es_priority *p = defaults();
    struct es_priority_result r;
    struct es_item it;

    /* A feed entry asking something of nobody in particular. */
    assert_int_equal(text_score(p, "Which host is cheapest?", &r), 0);
    /* Naming the brand makes it a question to us: 30 x 0.5. */
    assert_int_equal(text_score(p, "Does Acme Cloud do IPv6?", &r), 15);
    assert_string_equal(r.reasons, "[\"asks a question\"]");
    assert_int_equal(text_score(p, "is acme   cloud any good?", &r), 15);
    assert_int_equal(text_score(p, "why is #AcmeCloud so slow?", &r), 15);
    assert_int_equal(text_score(p, "Widgetly, where is my order?", &r), 15);
    assert_int_equal(text_score(p, "Acme Cloud?! really", &r), 15);
    assert_int_equal(
        text_score(p, "Acme Cloud? \xE2\x80\x9Cno\xE2\x80\x9D", &r), 15);
    /* Named, but no question: none at all, or a '?' in a URL. */
    assert_int_equal(text_score(p, "Acme Cloud shipped IPv6.", &r), 0);
    assert_int_equal(
        text_score(p, "Acme Cloud: https://example.com/s?q=acme&x=1", &r), 0);
    assert_int_equal(text_score(p, "Acme Cloud at example.com/?ref=x", &r), 0);
    /* A question quoted is no question asked. */
    assert_int_equal(
        text_score(p,
                   "Acme Cloud's post-mortem: the thread \xE2\x80\x9CIs "
                   "the region down?\xE2\x80\x9D had 40 replies.",
                   &r),
        0);
    assert_int_equal(
        text_score(p, "Acme Cloud support said \"have you tried rebooting?\"",
                   &r),
        0);
    /* The brand's possessive is the brand. */
    assert_int_equal(text_score(p, "Is Acme Cloud's status page right?", &r),
                     15);
    assert_int_equal(
        text_score(p, "Widgetly\xE2\x80\x99s app, how do I check in?", &r), 15);
    /* Another account of the brand's, by the usual endings. */
    assert_int_equal(text_score(p, "@widgetlyapp where is my order?", &r), 15);
    assert_int_equal(text_score(p, "@acmecloud_support is IPv6 coming?", &r),
                     15);
    assert_int_equal(text_score(p, "@widgetlysucks where is my order?", &r), 0);
    assert_int_equal(text_score(p, "widgetlyapp, where is my order?", &r), 0);
    /* "Acme" alone is not "Acme Cloud". */
    assert_int_equal(text_score(p, "Does Acme do IPv6?", &r), 0);
    /* The title counts too. */
    item_feed(&it, "Acme Cloud and IPv6?", "asking for a friend");
    r = score(p, &it, 0);
    assert_true(has_reason(&r, "asks a question"));
    es_item_release(&it);

    /* In a direct mention the question is ours even unnamed: the
     * question (15) plus the direct mention (10). */
    item_social(&it, ES_KIND_REPLY, "when will it be fixed?");
    r = score(p, &it, 0);
    assert_int_equal(r.score, 25);
    assert_true(has_reason(&r, "asks a question"));
    assert_true(has_reason(&r, "direct mention"));
    es_item_release(&it);
    es_priority_free(p);
}

static void test_reach(void **state)
{
    (void)state;
    struct es_priority *p = defaults();
    struct es_item it;
    static const struct {
        long long followers;
        const char *reason; /* NULL: none */
        int score;
    } cases[] = {
        { ES_COUNT_UNKNOWN, NULL, 0 },
        { 0, NULL, 0 },
        { 100, NULL, 0 },
        { 850, "850 followers", 2 },      /* 10 x log10(8.5)/4 = 2.3 */
        { 1000, "1k followers", 3 },      /* 10 x 0.25 = 2.5, rounded up */
        { 1500, "1.5k followers", 3 },    /* 2.94 */
        { 12345, "12k followers", 5 },    /* 5.23 */
        { 999999, "999k followers", 10 }, /* 9.99999 */
        { 2000000, "2M followers", 10 },  /* capped */
        { 3400000, "3.4M followers", 10 },
        { 25000000, "25M followers", 10 },
    };
    int last = -1;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        item_feed(&it, NULL, "the dashboard");
        it.author_followers = cases[i].followers;
        struct es_priority_result r = score(p, &it, 0);
        if (r.score != cases[i].score ||
            (cases[i].reason ? !has_reason(&r, cases[i].reason)
                             : r.nreasons != 0))
            fail_msg("%lld followers: score %d %s, expected %d %s",
                     cases[i].followers, r.score, r.reasons, cases[i].score,
                     cases[i].reason ? cases[i].reason : "(none)");
        /* More reach never lowers the score. */
        assert_true(r.score >= last);
        last = r.score;
        es_item_release(&it);
    }
    es_priority_free(p);
}

static void test_rating(void **state)
{
    (void)state;
    struct es_priority *p = defaults();
    struct es_item it;
    int scores[6];
    for (int stars = 0; stars <= 5; stars++) {
        item_feed(&it, NULL, "my review");
        it.kind = ES_KIND_REVIEW;
        it.rating = stars;
        struct es_priority_result r = score(p, &it, 0);
        scores[stars] = r.score;
        if (stars == 1)
            assert_string_equal(r.reasons, "[\"1-star review\"]");
        else if (stars == 2)
            assert_string_equal(r.reasons, "[\"2-star review\"]");
        else
            assert_string_equal(r.reasons, "[]");
        es_item_release(&it);
    }
    assert_int_equal(scores[1], 20);
    assert_int_equal(scores[2], 10);
    assert_int_equal(scores[3], 0);
    assert_int_equal(scores[5], 0);
    assert_int_equal(scores[0], 0); /* not a review */
    es_priority_free(p);
}

static void test_direct_versus_keyword(void **state)
{
    (void)state;
    struct es_priority *p = defaults();
    struct es_item it;
    struct es_priority_result r;

    /* The same words as a feed entry (keyword match), a reply, a review on
     * a platform, and a post addressed with @. */
    item_feed(&it, NULL, "the new dashboard");
    it.kind = ES_KIND_REPLY; /* a feed's kinds do not make it direct */
    r = score(p, &it, 0);
    assert_int_equal(r.score, 0);
    es_item_release(&it);

    item_social(&it, ES_KIND_REPLY, "the new dashboard");
    r = score(p, &it, 0);
    assert_int_equal(r.score, 10);
    assert_string_equal(r.reasons, "[\"direct mention\"]");
    es_item_release(&it);

    item_social(&it, ES_KIND_REVIEW, "the new dashboard");
    assert_int_equal(score(p, &it, 0).score, 10);
    es_item_release(&it);

    item_social(&it, ES_KIND_POST, "hey @acmecloud the new dashboard");
    assert_int_equal(score(p, &it, 0).score, 10);
    es_item_release(&it);
    item_social(&it, ES_KIND_POST, "hey @Widgetly");
    assert_int_equal(score(p, &it, 0).score, 10);
    es_item_release(&it);
    /* The brand's other accounts, by the usual endings. */
    item_social(&it, ES_KIND_POST, "hey @AcmeCloudSupport the new dashboard");
    assert_int_equal(score(p, &it, 0).score, 10);
    es_item_release(&it);
    item_social(&it, ES_KIND_POST, "hey @widgetly_uk the new dashboard");
    assert_int_equal(score(p, &it, 0).score, 10);
    es_item_release(&it);

    /* A post that only names the brand is a keyword match. */
    item_social(&it, ES_KIND_POST, "the new Acme Cloud dashboard");
    r = score(p, &it, 0);
    assert_int_equal(r.score, 0);
    assert_false(has_reason(&r, "direct mention"));
    es_item_release(&it);
    /* "@someone" else is not us. */
    item_social(&it, ES_KIND_POST, "hey @otherhost the new dashboard");
    assert_int_equal(score(p, &it, 0).score, 0);
    es_item_release(&it);
    es_priority_free(p);
}

static void test_age(void **state)
{
    (void)state;
    struct es_priority *p = defaults();
    struct es_item it;
    struct es_priority_result r;
    static const struct {
        int64_t age;
        const char *reason; /* NULL: none */
        int score;          /* of a 1-star review (20 points) */
    } cases[] = {
        { -DAY, NULL, 20 },              /* from the future: no penalty */
        { 0, NULL, 20 },                 /* */
        { 30 * 60, NULL, 20 },           /* 20 - 0.14 */
        { 5 * HOUR, "5 hours old", 19 }, /* 20 - 1.34 */
        { DAY, "1 day old", 14 },        /* 20 - 5.67 */
        { 3 * DAY, "3 days old", 7 },    /* 20 - 12.64 */
        { 30 * DAY, "30 days old", 0 },
    };
    int last = 101;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        item_feed(&it, NULL, "meh");
        it.rating = 1;
        it.created_at = NOW - cases[i].age;
        r = score(p, &it, 0);
        if (r.score != cases[i].score ||
            (cases[i].reason ? !has_reason(&r, cases[i].reason)
                             : r.nreasons != 1))
            fail_msg("age %lld s: score %d %s, expected %d %s",
                     (long long)cases[i].age, r.score, r.reasons,
                     cases[i].score,
                     cases[i].reason ? cases[i].reason : "(none)");
        /* Older is never higher. */
        assert_true(r.score <= last);
        last = r.score;
        es_item_release(&it);
    }
    /* An unknown date takes nothing. */
    item_feed(&it, NULL, "meh");
    it.rating = 1;
    r = score(p, &it, 0);
    assert_int_equal(r.score, 20);
    assert_string_equal(r.reasons, "[\"1-star review\"]");
    es_item_release(&it);
    es_priority_free(p);
}

/* ==== Together ==== */

static void test_bounds_and_all_reasons(void **state)
{
    (void)state;
    struct es_priority *p = defaults();
    struct es_item it;

    /* Everything at once: clamped to 100, every reason listed. */
    item_social(&it, ES_KIND_REVIEW,
                "@acmecloud charged twice, no refund, the site is down, "
                "I will cancel and call my lawyer: the unit caught fire. "
                "Why?");
    it.title = es_xstrdup("Acme Cloud is unsafe");
    it.rating = 1;
    it.author_followers = 5000000;
    it.created_at = NOW - 2 * HOUR;
    struct es_priority_result r = score(p, &it, -0.99);
    assert_int_equal(r.score, 100);
    static const char *const all[] = {
        "negative -0.99",         "asks a question",       "mentions refund",
        "mentions billing error", "mentions cancellation", "mentions outage",
        "mentions legal action",  "mentions safety",       "1-star review",
        "5M followers",           "direct mention",        "2 hours old",
    };
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (!has_reason(&r, all[i]))
            fail_msg("no reason \"%s\" in %s", all[i], r.reasons);
    assert_int_equal(r.nreasons, sizeof(all) / sizeof(all[0]));
    es_item_release(&it);

    /* Praise from long ago: 0, never below. */
    item_feed(&it, NULL, "love it");
    it.created_at = NOW - 400 * DAY;
    r = score(p, &it, 0.95);
    assert_int_equal(r.score, 0);
    assert_string_equal(r.reasons, "[\"400 days old\"]");
    es_item_release(&it);
    es_priority_free(p);
}

static void test_weights_change_the_score(void **state)
{
    (void)state;
    struct es_priority_weights w;
    struct es_item it;
    item_feed(&it, NULL, "Still waiting for a refund");
    it.rating = 2;

    struct es_priority *p = es_priority_new(NULL, NULL, 0);
    int base = score(p, &it, -0.5).score; /* 20 + 18 + 10 */
    assert_int_equal(base, 48);
    es_priority_free(p);

    es_priority_weights_default(&w);
    assert_true(w.negative == ES_PRIORITY_WEIGHT_NEGATIVE);
    w.negative = 80;
    p = es_priority_new(&w, NULL, 0);
    assert_int_equal(score(p, &it, -0.5).score, 68);
    es_priority_free(p);

    es_priority_weights_default(&w);
    w.urgency = 0;
    w.rating = 50;
    p = es_priority_new(&w, NULL, 0);
    struct es_priority_result r = score(p, &it, -0.5);
    assert_int_equal(r.score, 45); /* 20 + 0 + 25 */
    /* A factor weighted 0 still says what it saw. */
    assert_true(has_reason(&r, "mentions refund"));
    es_priority_free(p);

    memset(&w, 0, sizeof(w));
    p = es_priority_new(&w, NULL, 0);
    assert_int_equal(score(p, &it, -1.0).score, 0);
    es_priority_free(p);
    es_item_release(&it);
}

/* Scores @it with the scorer ingest uses, opened on the config text
 * @conf (NULL: every default) and the source tree's data dir. */
static void score_with_config(const char *conf, const struct es_item *it,
                              struct es_scores *out)
{
    struct es_config *cfg = NULL;
    struct es_scorer *sc = NULL;
    if (conf)
        assert_int_equal(es_config_load_string(&cfg, conf, "t.conf"), 0);
    else
        cfg = es_config_new();
    if (es_scorer_open(&sc, cfg, ES_SOURCE_DIR "/config") != 0)
        fail_msg("%s", es_error_last());
    es_scorer_score(sc, it, NOW, out);
    es_scorer_free(sc);
    es_config_free(cfg);
}

/* The [priority] section, through the scorer ingest uses. */
static void test_weights_from_config(void **state)
{
    (void)state;
    struct es_scores a, b;
    struct es_item it;

    item_feed(&it, NULL, "Does Acme Cloud refund unused credit?");

    /* Defaults: no brand, so no question; refund 18, plus whatever the
     * lexicon makes of the words (the classifier's business). */
    score_with_config(NULL, &it, &a);
    double neg = a.sentiment <= -0.05 ? -a.sentiment * 40 : 0;
    assert_int_equal(a.priority, (int)(neg + 18 + 0.5));
    assert_non_null(strstr(a.reasons, "\"mentions refund\""));
    assert_null(strstr(a.reasons, "question"));

    score_with_config("[priority]\n"
                      "weight_urgency = 60\n"
                      "brand = Acme Cloud\n",
                      &it, &b);
    /* 60 x (1 - 0.4 x 0.5) */
    assert_int_equal(b.priority, (int)(neg + 48 + 0.5));
    assert_non_null(strstr(b.reasons, "\"asks a question\""));
    /* The sentiment does not depend on the weights. */
    assert_true(a.sentiment == b.sentiment);
    assert_string_equal(b.lang, "en");
    es_item_release(&it);
}

/* The brand's names rate nothing in the scorer ingest uses: "havoc" is
 * a rated word, and a product of that name is neutral. */
/* A brand's own cue phrases count as the built-in cues of their kind,
 * with the same reason and points; a phrase of more than four words is
 * skipped, and the built-in cues stay. */
static void test_own_cues(void **state)
{
    (void)state;
    static const char *const safety[] = { "wardrobe tipped", "gas HOB",
                                          "one two three four five" };
    static const char *const urgent[] = { "before the school run" };
    static const char *const outage[] = { "lockers offline" };
    struct es_priority_cues cues;
    memset(&cues, 0, sizeof(cues));
    cues.phrases[ES_PRIORITY_CUE_SAFETY] = safety;
    cues.nphrases[ES_PRIORITY_CUE_SAFETY] = 3;
    cues.phrases[ES_PRIORITY_CUE_URGENT] = urgent;
    cues.nphrases[ES_PRIORITY_CUE_URGENT] = 1;
    cues.phrases[ES_PRIORITY_CUE_OUTAGE] = outage;
    cues.nphrases[ES_PRIORITY_CUE_OUTAGE] = 1;
    struct es_priority *own = es_priority_new_with(NULL, NULL, 0, &cues);
    struct es_priority *plain = es_priority_new(NULL, NULL, 0);
    struct es_priority_result r;

    assert_int_equal(text_score(own, "the Wardrobe tipped onto the bed", &r),
                     30);
    assert_true(has_reason(&r, "mentions safety"));
    assert_int_equal(text_score(plain, "the wardrobe tipped onto the bed", &r),
                     0);
    assert_int_equal(text_score(own, "smell from the gas hob", &r), 30);
    assert_int_equal(text_score(own, "need it before the school run", &r), 15);
    assert_true(has_reason(&r, "says it is urgent"));
    assert_int_equal(text_score(own, "all the lockers offline", &r), 24);
    assert_true(has_reason(&r, "mentions outage"));
    /* Too long to match: skipped, no harm. */
    assert_int_equal(text_score(own, "one two three four five", &r), 0);
    /* The built-in cues stay. */
    assert_int_equal(text_score(own, "the charger caught fire", &r), 30);
    es_priority_free(own);
    es_priority_free(plain);
}

static void test_brand_names_from_config(void **state)
{
    (void)state;
    struct es_scores a, b;
    struct es_item it;

    item_feed(&it, NULL, "Havoc shipped a new release");
    score_with_config(NULL, &it, &a);
    assert_true(a.sentiment <= -0.05);
    score_with_config("[priority]\nbrand = Havoc\n", &it, &b);
    assert_true(b.sentiment > -0.05 && b.sentiment < 0.05);
    es_item_release(&it);
}

/* ==== Bad input ==== */

static void test_hostile_input(void **state)
{
    (void)state;
    static const char *const brands[] = {
        "",         "   ",  "a very long brand name of many words",
        "\xff\xfe", "it's", "x",
    };
    struct es_priority *p = es_priority_new(NULL, brands, 6);
    struct es_item it;
    struct es_priority_result r;

    /* A 1 MB text, a word longer than anything in the tables, invalid
     * UTF-8, lone apostrophes, control bytes: a score, no crash. */
    static const char pattern[] = "refund?? '\xe2\x80\x99@#\xff\x01 aaaaaaaaa";
    char *big = es_xmalloc(1 << 20);
    for (size_t i = 0; i < (1 << 20) - 1; i++)
        big[i] = pattern[i % (sizeof(pattern) - 1)];
    big[(1 << 20) - 1] = '\0';
    item_social(&it, ES_KIND_POST, big);
    r = score(p, &it, -0.3);
    assert_true(has_reason(&r, "mentions refund"));
    es_item_release(&it);
    free(big);

    char longword[300];
    memset(longword, 'w', sizeof(longword) - 1);
    longword[sizeof(longword) - 1] = '\0';
    assert_int_equal(text_score(p, longword, &r), 0);
    assert_int_equal(text_score(p, "''' ' \xe2\x80\x99 @ # ?", &r), 0);
    assert_int_equal(text_score(p, "\xe2\x80", &r), 0); /* cut sequence */
    /* A brand of many words still matches written as one word. */
    assert_int_equal(text_score(p, "#averylongbrandnameofmanywords ?", &r), 15);
    /* "it's" as a brand name. */
    assert_int_equal(text_score(p, "it\xE2\x80\x99s broken?", &r), 15);
    es_priority_free(p);
    es_priority_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_scores_zero),
        cmocka_unit_test(test_negativity),
        cmocka_unit_test(test_urgency_words),
        cmocka_unit_test(test_request_and_reference),
        cmocka_unit_test(test_stuck),
        cmocka_unit_test(test_question_to_the_brand),
        cmocka_unit_test(test_reach),
        cmocka_unit_test(test_rating),
        cmocka_unit_test(test_direct_versus_keyword),
        cmocka_unit_test(test_age),
        cmocka_unit_test(test_bounds_and_all_reasons),
        cmocka_unit_test(test_weights_change_the_score),
        cmocka_unit_test(test_weights_from_config),
        cmocka_unit_test(test_own_cues),
        cmocka_unit_test(test_brand_names_from_config),
        cmocka_unit_test(test_hostile_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
