/* priority.c - a mention's 0-100 priority and the reasons for it
 *
 * Runs at ingest for every stored mention, in the scorer thread beside
 * the sentiment scorer, so it has to be cheap: one pass over the title and
 * the text that splits words, lower-cases them into a small ring and looks
 * each up once in a hash table of cue words. A table entry is keyed by the
 * last word of its phrase ("not working" under "working"), so phrases cost
 * nothing until their last word shows up. Brand names from the config go
 * into the same table.
 *
 * The factors and their scale are described in include/earshot/priority.h
 * and, for users, in config/earshot.conf.
 */
#include "earshot/priority.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "earshot/alloc.h"

/* ==== Cue words ==== */

enum cue_kind {
    CUE_QUESTION = 0, /* not a word: a '?' addressed to the brand */
    CUE_REFUND,
    CUE_BILLING,
    CUE_CANCEL,
    CUE_OUTAGE,
    CUE_LEGAL,
    CUE_SAFETY,
    CUE_SECURITY,
    CUE_ACCESS,
    CUE_DATA,
    CUE_URGENT,
    CUE_VULNERABLE,
    CUE_SOON,    /* a day or an hour named: the answer is needed soon */
    CUE_REQUEST, /* "please" said to the brand */
    CUE_CASE,    /* a reference number: an order, a booking, a claim */
    CUE_NEED,    /* "I need", "I can't", "nobody is": stuck, waiting */
    CUE_BRAND,   /* a configured brand name: addressing, not urgency */
    CUE__COUNT
};

/* How urgent each cue is alone, its reason, and how much of it counts
 * in a post the classifier calls positive. Several cues combine as
 * 1 - (1 - a)(1 - b)...: each adds, none pushes the factor past 1. Legal
 * and safety words are as urgent as it gets on their own. "refunded
 * instantly, thanks!", "short outage this morning, fixed within the
 * hour - great support", "thank you for rebooking me after the
 * cancellation": a refund, an outage or a cancellation in a glad post is
 * mostly over. Safety keeps its weight: a misread complaint must not
 * lose it; and so, since session 22, does a vulnerable person, since a
 * polite plea reads glad ("my mum is 87 and her tap is dry, could
 * someone please ring me back? Thank you"): halving it measured lower
 * on eight of nine probes. */
static const struct {
    double strength;
    const char *reason;
    double when_glad;
} cue_info[CUE__COUNT] = {
    [CUE_QUESTION] = { 0.5, "asks a question", 1.0 },
    [CUE_REFUND] = { 0.6, "mentions refund", 0.5 },
    [CUE_BILLING] = { 0.6, "mentions billing error", 1.0 },
    [CUE_CANCEL] = { 0.6, "mentions cancellation", 0.5 },
    [CUE_OUTAGE] = { 0.8, "mentions outage", 0.5 },
    [CUE_LEGAL] = { 1.0, "mentions legal action", 1.0 },
    [CUE_SAFETY] = { 1.0, "mentions safety", 1.0 },
    [CUE_SECURITY] = { 0.8, "mentions account security", 1.0 },
    [CUE_ACCESS] = { 0.8, "mentions account access", 1.0 },
    [CUE_DATA] = { 0.8, "mentions data loss", 1.0 },
    [CUE_URGENT] = { 0.5, "says it is urgent", 1.0 },
    [CUE_VULNERABLE] = { 0.6, "mentions a vulnerable person", 1.0 },
    /* "today", "tonight", "this afternoon" in a post that is not glad:
     * the customer needs the answer within the day. In a glad one it is
     * only when the good thing happened ("arrived today, love it"). */
    [CUE_SOON] = { 0.3, "needs it soon", 0.0 },
    /* "please" said to the brand, and a reference number quoted: a
     * customer waiting on the brand. In a glad post a reference is
     * thanks ("order #48213 came early"); a request counts half, since
     * a polite one reads glad ("could someone please ring me back,
     * thank you") as thanks do ("please keep it up"). */
    [CUE_REQUEST] = { 0.4, "asks for something", 0.5 },
    [CUE_CASE] = { 0.3, "gives a reference", 0.0 },
    /* "I need", "I can't", "no one is answering": a customer who cannot
     * go on without the brand; counted as a day named is. */
    [CUE_NEED] = { 0.3, "is stuck", 0.0 },
    [CUE_BRAND] = { 0.0, NULL, 0.0 },
};

/* The cue words and phrases, lower case, words separated by one space.
 * "down" alone says too little ("calm down", "down the road"), so only
 * the phrases that report something being down count. A kind counts
 * once however many of its phrases a post holds, so a phrase that holds
 * a shorter one of its kind adds nothing ("spiked my drink" beside
 * "spiked my"), unless that one's veto would take it away; '-' splits
 * words as a space does ("break-in" is "break in"). */
static const struct {
    enum cue_kind kind;
    const char *phrase;
} cue_words[] = {
    { CUE_REFUND, "refund" },
    { CUE_REFUND, "refunds" },
    { CUE_REFUND, "refunded" },
    { CUE_REFUND, "refunding" },
    { CUE_REFUND, "chargeback" },
    { CUE_REFUND, "money back" },
    { CUE_BILLING, "charged twice" },
    { CUE_BILLING, "billed twice" },
    { CUE_BILLING, "double charged" },
    { CUE_BILLING, "overcharged" },
    { CUE_BILLING, "double billed" },
    { CUE_BILLING, "charged me twice" },
    { CUE_BILLING, "charged 3 times" },
    { CUE_BILLING, "charged me 3 times" },
    { CUE_BILLING, "charged three times" },
    { CUE_BILLING, "charged multiple times" },
    { CUE_BILLING, "unauthorized charge" },
    { CUE_BILLING, "unauthorised charge" },
    { CUE_BILLING, "fraudulent charge" },
    { CUE_BILLING, "charged my card twice" },
    { CUE_BILLING, "charged 4 times" },
    { CUE_BILLING, "charged 5 times" },
    { CUE_BILLING, "charged four times" },
    { CUE_BILLING, "charged me 4 times" },
    { CUE_BILLING, "charged 2 times" },
    { CUE_BILLING, "charged 6 times" },
    { CUE_BILLING, "charged me 2 times" },
    { CUE_BILLING, "charged me 5 times" },
    { CUE_BILLING, "charged me 6 times" },
    { CUE_BILLING, "paid twice" },
    { CUE_BILLING, "duplicate charge" },
    { CUE_BILLING, "duplicate charges" },
    { CUE_BILLING, "duplicate payment" },
    { CUE_BILLING, "double payment" },
    { CUE_BILLING, "unauthorised payment" },
    { CUE_BILLING, "unauthorized payment" },
    { CUE_BILLING, "unauthorised transaction" },
    { CUE_BILLING, "unauthorized transaction" },
    { CUE_BILLING, "didn't authorise" },
    { CUE_BILLING, "didn't authorize" },
    { CUE_BILLING, "didnt authorise" },
    { CUE_BILLING, "didnt authorize" },
    { CUE_BILLING, "did not authorise" },
    { CUE_BILLING, "did not authorize" },
    { CUE_BILLING, "never authorised" },
    { CUE_BILLING, "never authorized" },
    { CUE_BILLING, "never signed up" },
    /* Money gone from an account: a charge or a theft, urgent either
     * way. */
    { CUE_BILLING, "took money from my" },
    { CUE_BILLING, "taken money from my" },
    { CUE_BILLING, "money out of my" },
    { CUE_BILLING, "money missing from my" },
    /* The same with the sum said: "took £340 out of my account",
     * "charged me $89 twice". Not "took £20 off my bill", a discount. */
    { CUE_BILLING, "took £1 out of" },
    { CUE_BILLING, "taken £1 out of" },
    { CUE_BILLING, "took £1 from my" },
    { CUE_BILLING, "taken £1 from my" },
    { CUE_BILLING, "took out £1" },
    { CUE_BILLING, "debited £1" },
    { CUE_BILLING, "charged me £1 twice" },
    { CUE_BILLING, "charged £1 twice" },
    { CUE_BILLING, "stole £1" },
    { CUE_BILLING, "stolen £1" },
    { CUE_BILLING, "£1 missing from" },
    { CUE_BILLING, "£1 taken from" },
    { CUE_BILLING, "£1 has gone" },
    /* A bill chased that should not be. */
    { CUE_BILLING, "sent me to collections" },
    { CUE_BILLING, "sent to collections" },
    { CUE_BILLING, "to collections" },
    { CUE_BILLING, "debt collector" },
    { CUE_BILLING, "debt collectors" },
    { CUE_BILLING, "debt collection" },
    /* Session 20: money gone, and asked after. */
    { CUE_BILLING, "£1 gone" },
    { CUE_BILLING, "where is my money" },
    { CUE_BILLING, "where's my money" },
    { CUE_BILLING, "wheres my money" },
    { CUE_BILLING, "debited twice" },
    { CUE_BILLING, "debited 2 times" },
    { CUE_BILLING, "debited two times" },
    { CUE_BILLING, "taken twice" },
    { CUE_BILLING, "fee twice" },
    { CUE_BILLING, "payment twice" },
    { CUE_BILLING, "charged double" },
    { CUE_BILLING, "i never bought" },
    { CUE_BILLING, "i never ordered" },
    { CUE_BILLING, "money left my account" },
    { CUE_BILLING, "taken the money" },
    { CUE_BILLING, "took the money" },
    { CUE_BILLING, "debited but not" },
    { CUE_BILLING, "not reflected" },
    { CUE_BILLING, "hasn't reflected" },
    { CUE_BILLING, "hasnt reflected" },
    { CUE_BILLING, "didn't dispense" },
    { CUE_BILLING, "did not dispense" },
    { CUE_BILLING, "didnt dispense" },
    { CUE_BILLING, "payroll didn't go" },
    { CUE_BILLING, "payroll didnt go" },
    { CUE_BILLING, "payroll failed" },
    { CUE_BILLING, "haven't landed" },
    { CUE_BILLING, "havent landed" },
    { CUE_BILLING, "money's gone" },
    { CUE_BILLING, "money is gone" },
    { CUE_BILLING, "money has gone" },
    { CUE_BILLING, "gone from my account" },
    { CUE_BILLING, "overdrawn" },
    { CUE_BILLING, "pending charges" },
    { CUE_BILLING, "to the wrong account" },
    { CUE_BILLING, "times for one order" },
    { CUE_BILLING, "three times for one" },
    { CUE_BILLING, "twice for one" },
    { CUE_BILLING, "returned my salary" },
    { CUE_BILLING, "never landed" },
    { CUE_BILLING, "didn't get paid" },
    { CUE_BILLING, "didnt get paid" },
    { CUE_BILLING, "payroll didn't run" },
    { CUE_BILLING, "payroll didnt run" },
    { CUE_BILLING, "debited from my account" },
    { CUE_BILLING, "instead of £1" },
    { CUE_BILLING, "wrong till number" },
    { CUE_BILLING, "nobody has been paid" },
    { CUE_BILLING, "withholding my" },
    { CUE_BILLING, "vanished from my account" },
    { CUE_BILLING, "payments i didn't make" },
    { CUE_BILLING, "payments i didnt make" },
    { CUE_BILLING, "purchases i didn't make" },
    { CUE_BILLING, "orders i didn't place" },
    { CUE_BILLING, "orders i didnt place" },
    { CUE_CANCEL, "cancel" },
    { CUE_CANCEL, "cancels" },
    { CUE_CANCEL, "cancelled" },
    { CUE_CANCEL, "canceled" },
    { CUE_CANCEL, "cancelling" },
    { CUE_CANCEL, "canceling" },
    { CUE_CANCEL, "cancellation" },
    { CUE_CANCEL, "cancelation" },
    { CUE_CANCEL, "delete my account" },
    { CUE_CANCEL, "close my account" },
    /* Not "unsubscribe" alone: newsletters print it in every footer. */
    { CUE_CANCEL, "unsubscribe me" },
    { CUE_CANCEL, "want to unsubscribe" },
    { CUE_CANCEL, "trying to unsubscribe" },
    { CUE_CANCEL, "tried to unsubscribe" },
    { CUE_CANCEL, "can't unsubscribe" },
    { CUE_CANCEL, "cant unsubscribe" },
    { CUE_OUTAGE, "outage" },
    { CUE_OUTAGE, "outages" },
    { CUE_OUTAGE, "downtime" },
    { CUE_OUTAGE, "is down" },
    { CUE_OUTAGE, "are down" },
    { CUE_OUTAGE, "was down" },
    { CUE_OUTAGE, "were down" },
    { CUE_OUTAGE, "it's down" },
    { CUE_OUTAGE, "went down" },
    { CUE_OUTAGE, "goes down" },
    { CUE_OUTAGE, "still down" },
    { CUE_OUTAGE, "been down" },
    { CUE_OUTAGE, "down again" },
    { CUE_OUTAGE, "not working" },
    { CUE_OUTAGE, "isn't working" },
    { CUE_OUTAGE, "stopped working" },
    { CUE_OUTAGE, "doesn't work" },
    { CUE_OUTAGE, "does not work" },
    { CUE_OUTAGE, "won't load" },
    { CUE_OUTAGE, "not loading" },
    /* The same typed without apostrophes, as phones often leave them. */
    { CUE_OUTAGE, "its down" },
    { CUE_OUTAGE, "isnt working" },
    { CUE_OUTAGE, "doesnt work" },
    { CUE_OUTAGE, "wont load" },
    { CUE_OUTAGE, "aren't working" },
    { CUE_OUTAGE, "arent working" },
    { CUE_OUTAGE, "500 error" },
    { CUE_OUTAGE, "502 error" },
    { CUE_OUTAGE, "503 error" },
    { CUE_OUTAGE, "error 500" },
    { CUE_OUTAGE, "error 502" },
    { CUE_OUTAGE, "error 503" },
    { CUE_OUTAGE, "internal server error" },
    { CUE_OUTAGE, "bad gateway" },
    { CUE_OUTAGE, "gateway timeout" },
    { CUE_OUTAGE, "504 error" },
    { CUE_OUTAGE, "error 504" },
    { CUE_OUTAGE, "unreachable" },
    { CUE_OUTAGE, "app down" },
    { CUE_OUTAGE, "won't boot" },
    { CUE_OUTAGE, "wont boot" },
    { CUE_OUTAGE, "boot loop" },
    { CUE_OUTAGE, "boot loops" },
    { CUE_OUTAGE, "bootloop" },
    { CUE_OUTAGE, "site down" },
    { CUE_OUTAGE, "website down" },
    { CUE_OUTAGE, "server down" },
    { CUE_OUTAGE, "servers down" },
    { CUE_OUTAGE, "api down" },
    { CUE_OUTAGE, "timing out" },
    { CUE_OUTAGE, "times out" },
    { CUE_OUTAGE, "timed out" },
    /* Utilities and internet providers: the service itself is out. Not
     * "is out" alone: "the new album is out". */
    { CUE_OUTAGE, "power is out" },
    { CUE_OUTAGE, "power's out" },
    { CUE_OUTAGE, "power went out" },
    { CUE_OUTAGE, "power has been out" },
    { CUE_OUTAGE, "power's been out" },
    { CUE_OUTAGE, "lost power" },
    { CUE_OUTAGE, "without power" },
    { CUE_OUTAGE, "no power" },
    /* Session 17: the British "power cut", and water and heat. */
    { CUE_OUTAGE, "power cut" },
    { CUE_OUTAGE, "power cuts" },
    { CUE_OUTAGE, "no water" },
    { CUE_OUTAGE, "no hot water" },
    { CUE_OUTAGE, "no heating" },
    { CUE_OUTAGE, "internet is out" },
    { CUE_OUTAGE, "internet's out" },
    { CUE_OUTAGE, "wifi is out" },
    { CUE_OUTAGE, "no internet" },
    { CUE_OUTAGE, "no signal" },
    /* Session 20: the question of a site that will not load. */
    { CUE_OUTAGE, "down for anyone" },
    { CUE_OUTAGE, "down for everyone" },
    { CUE_OUTAGE, "down for me too" },
    { CUE_OUTAGE, "service unavailable" },
    { CUE_OUTAGE, "been unavailable" },
    { CUE_OUTAGE, "502s" },
    { CUE_OUTAGE, "503s" },
    { CUE_OUTAGE, "500s" },
    { CUE_OUTAGE, "power's been off" },
    { CUE_OUTAGE, "power has been off" },
    { CUE_OUTAGE, "without internet" },
    { CUE_OUTAGE, "no electricity" },
    { CUE_OUTAGE, "without electricity" },
    { CUE_OUTAGE, "without water" },
    { CUE_OUTAGE, "without mobile data" },
    { CUE_OUTAGE, "no mobile data" },
    { CUE_OUTAGE, "app won't open" },
    { CUE_OUTAGE, "app wont open" },
    { CUE_OUTAGE, "boiler has packed" },
    { CUE_OUTAGE, "boiler's broken" },
    { CUE_OUTAGE, "boiler broke" },
    { CUE_LEGAL, "legal" },
    { CUE_LEGAL, "lawyer" },
    { CUE_LEGAL, "lawyers" },
    { CUE_LEGAL, "attorney" },
    { CUE_LEGAL, "sue" },
    { CUE_LEGAL, "suing" },
    { CUE_LEGAL, "sued" },
    { CUE_LEGAL, "lawsuit" },
    { CUE_LEGAL, "gdpr" },
    { CUE_LEGAL, "small claims" },
    { CUE_LEGAL, "class action" },
    { CUE_LEGAL, "fraud" },
    { CUE_LEGAL, "fraudulent" },
    { CUE_LEGAL, "bbb" },
    { CUE_LEGAL, "better business bureau" },
    { CUE_LEGAL, "ftc" },
    { CUE_LEGAL, "attorney general" },
    { CUE_LEGAL, "consumer protection" },
    { CUE_LEGAL, "trading standards" },
    { CUE_LEGAL, "ombudsman" },
    { CUE_LEGAL, "solicitor" },
    { CUE_LEGAL, "solicitors" },
    { CUE_LEGAL, "formal complaint" },
    { CUE_LEGAL, "police" },
    { CUE_LEGAL, "report you to" },
    { CUE_LEGAL, "reporting you to" },
    { CUE_LEGAL, "reported you to" },
    { CUE_LEGAL, "report them to" },
    { CUE_LEGAL, "reported them to" },
    { CUE_LEGAL, "regulator" },
    { CUE_LEGAL, "court documents" },
    { CUE_LEGAL, "court hearing" },
    { CUE_LEGAL, "court date" },
    { CUE_SAFETY, "safety" },
    { CUE_SAFETY, "unsafe" },
    { CUE_SAFETY, "injury" },
    { CUE_SAFETY, "injuries" },
    { CUE_SAFETY, "injured" },
    { CUE_SAFETY, "fire" },
    { CUE_SAFETY, "burned" },
    { CUE_SAFETY, "burnt" },
    { CUE_SAFETY, "hazard" },
    { CUE_SAFETY, "hazardous" },
    { CUE_SAFETY, "dangerous" },
    { CUE_SAFETY, "exploded" },
    { CUE_SAFETY, "overheating" },
    { CUE_SAFETY, "overheated" },
    { CUE_SAFETY, "got hurt" },
    { CUE_SAFETY, "electric shock" },
    { CUE_SAFETY, "started smoking" },
    { CUE_SAFETY, "brakes failed" },
    { CUE_SAFETY, "brake failure" },
    { CUE_SAFETY, "brakes failing" },
    { CUE_SAFETY, "smoke coming" },
    { CUE_SAFETY, "swollen battery" },
    { CUE_SAFETY, "battery swelled" },
    { CUE_SAFETY, "started sparking" },
    { CUE_SAFETY, "choking hazard" },
    /* Not "choked" alone: "I choked on my coffee reading this". */
    { CUE_SAFETY, "choked on a small" },
    { CUE_SAFETY, "choked on a piece" },
    { CUE_SAFETY, "choked on a part" },
    { CUE_SAFETY, "threatened me" },
    { CUE_SAFETY, "assaulted" },
    { CUE_SAFETY, "allergic reaction" },
    { CUE_SAFETY, "food poisoning" },
    /* Session 16: harm reports a probe of customer posts found unread.
     * Phrases where a word alone has another sense: "knife and fork",
     * "smoke and mirrors", "glass of wine". */
    { CUE_SAFETY, "allergic to" },
    { CUE_SAFETY, "anaphylactic" },
    { CUE_SAFETY, "anaphylaxis" },
    { CUE_SAFETY, "ambulance" },
    { CUE_SAFETY, "in hospital" },
    { CUE_SAFETY, "in the hospital" },
    { CUE_SAFETY, "hospitalised" },
    { CUE_SAFETY, "hospitalized" },
    { CUE_SAFETY, "piece of glass" },
    { CUE_SAFETY, "glass in my" },
    { CUE_SAFETY, "raw chicken" },
    { CUE_SAFETY, "undercooked chicken" },
    { CUE_SAFETY, "cockroach" },
    { CUE_SAFETY, "vomiting" },
    { CUE_SAFETY, "smell of smoke" },
    { CUE_SAFETY, "caught fire" },
    { CUE_SAFETY, "burst into flames" },
    { CUE_SAFETY, "battery swelling" },
    { CUE_SAFETY, "battery is swelling" },
    { CUE_SAFETY, "battery has swollen" },
    { CUE_SAFETY, "pulled a knife" },
    { CUE_SAFETY, "harassed" },
    { CUE_SAFETY, "harassment" },
    { CUE_SAFETY, "threatening me" },
    { CUE_SAFETY, "threatened to" },
    { CUE_SAFETY, "don't feel safe" },
    { CUE_SAFETY, "dont feel safe" },
    { CUE_SAFETY, "felt unsafe" },
    /* Gas, and a driver or a car that put someone in danger. Not
     * "crash" alone: an app crashes. */
    { CUE_SAFETY, "smell of gas" },
    { CUE_SAFETY, "smell gas" },
    { CUE_SAFETY, "gas leak" },
    { CUE_SAFETY, "carbon monoxide" },
    { CUE_SAFETY, "drunk driver" },
    { CUE_SAFETY, "driver was drunk" },
    { CUE_SAFETY, "car crash" },
    { CUE_SAFETY, "sparks coming" },
    { CUE_SAFETY, "sparks from" },
    { CUE_SAFETY, "exposed wires" },
    { CUE_SAFETY, "brown water" },
    { CUE_SAFETY, "water is brown" },
    { CUE_SAFETY, "hit my car" },
    { CUE_SAFETY, "hit my parked car" },
    { CUE_SAFETY, "crashed into me" },
    { CUE_SAFETY, "grooming" },
    /* Session 18: harm told at length in Reddit and YouTube comments. */
    { CUE_SAFETY, "in the er" },
    { CUE_SAFETY, "to the er" },
    { CUE_SAFETY, "burning smell" },
    { CUE_SAFETY, "smell of burning" },
    { CUE_SAFETY, "smells like burning" },
    { CUE_SAFETY, "smelling like burning" },
    { CUE_SAFETY, "burning plastic" },
    { CUE_SAFETY, "blistered" },
    { CUE_SAFETY, "pedal went soft" },
    { CUE_SAFETY, "stop safely" },
    /* Not "recall", "melted" or "sparking" alone: "I don't recall", "my
     * heart melted", "sparking joy". */
    { CUE_SAFETY, "product recall" },
    { CUE_SAFETY, "safety recall" },
    { CUE_SAFETY, "been recalled" },
    { CUE_SAFETY, "was recalled" },
    /* Session 20: a safety question, and a breakdown where traffic runs
     * ("broke down on the motorway"; at most PHRASE_MAX words). Not "is
     * it safe", which "is it safe to say" would take. */
    { CUE_SAFETY, "safe to drive" },
    { CUE_SAFETY, "safe to use" },
    { CUE_SAFETY, "safe to eat" },
    { CUE_SAFETY, "safe to drink" },
    { CUE_SAFETY, "is that safe" },
    { CUE_SAFETY, "is this safe" },
    { CUE_SAFETY, "down on the motorway" },
    { CUE_SAFETY, "down on the highway" },
    { CUE_SAFETY, "down on the freeway" },
    { CUE_SAFETY, "hard shoulder" },
    { CUE_SAFETY, "to urgent care" },
    { CUE_SAFETY, "at urgent care" },
    { CUE_SAFETY, "in urgent care" },
    { CUE_SAFETY, "eye hospital" },
    { CUE_SAFETY, "swollen shut" },
    { CUE_SAFETY, "eyes are swelling" },
    { CUE_SAFETY, "gave me a rash" },
    { CUE_SAFETY, "gave her a rash" },
    { CUE_SAFETY, "gave him a rash" },
    { CUE_SAFETY, "rash all over" },
    { CUE_SAFETY, "away in my hand" },
    { CUE_SAFETY, "off in my hand" },
    { CUE_SAFETY, "lost all power" },
    { CUE_SAFETY, "in the fast lane" },
    { CUE_SAFETY, "wrong medication" },
    { CUE_SAFETY, "wrong medicine" },
    { CUE_SAFETY, "wrong drug" },
    { CUE_SAFETY, "nearly took it" },
    { CUE_SAFETY, "ceiling collapsed" },
    { CUE_SAFETY, "ceiling fell" },
    { CUE_SAFETY, "shard of glass" },
    { CUE_SAFETY, "wouldn't let me out" },
    { CUE_SAFETY, "wouldnt let me out" },
    { CUE_SAFETY, "knows where i live" },
    { CUE_SAFETY, "keeps messaging me" },
    { CUE_SAFETY, "didn't follow the route" },
    { CUE_SAFETY, "water main burst" },
    { CUE_SAFETY, "burst pipe" },
    { CUE_SAFETY, "sewage" },
    { CUE_SAFETY, "house flooded" },
    { CUE_SAFETY, "flat flooded" },
    { CUE_SAFETY, "home flooded" },
    { CUE_SAFETY, "basement flooded" },
    { CUE_SAFETY, "kitchen flooded" },
    { CUE_SAFETY, "reversed into" },
    { CUE_SAFETY, "severe allergy" },
    { CUE_SAFETY, "nut allergy" },
    { CUE_SAFETY, "shellfish allergy" },
    { CUE_SAFETY, "ringing my doorbell" },
    { CUE_SAFETY, "i'm on my own" },
    { CUE_SAFETY, "im on my own" },
    { CUE_SAFETY, "off route" },
    { CUE_SAFETY, "gas smell" },
    { CUE_SAFETY, "smells of gas" },
    { CUE_SAFETY, "water pouring" },
    { CUE_SAFETY, "water is pouring" },
    { CUE_SAFETY, "it's smoking" },
    { CUE_SAFETY, "its smoking" },
    { CUE_SAFETY, "someone else's prescription" },
    { CUE_SAFETY, "wrong prescription" },
    { CUE_SAFETY, "live wires" },
    { CUE_SAFETY, "cable hanging" },
    { CUE_SAFETY, "tree has come down" },
    { CUE_SAFETY, "fallen tree" },
    { CUE_SAFETY, "wrong strength" },
    { CUE_SAFETY, "wrong dose" },
    { CUE_SAFETY, "do not drink" },
    { CUE_SAFETY, "contaminated" },
    { CUE_SAFETY, "contamination" },
    { CUE_SAFETY, "anyone can walk in" },
    { CUE_SAFETY, "has collapsed" },
    { CUE_SAFETY, "passenger collapsed" },
    { CUE_SAFETY, "hurt my neck" },
    { CUE_SAFETY, "hurt my back" },
    { CUE_SAFETY, "i've hurt" },
    { CUE_SAFETY, "ive hurt" },
    { CUE_SAFETY, "bleeding heavily" },
    { CUE_SAFETY, "still bleeding" },
    { CUE_SAFETY, "smells of petrol" },
    { CUE_SAFETY, "been brown" },
    { CUE_SAFETY, "seizure" },
    { CUE_SAFETY, "manhole" },
    { CUE_SAFETY, "leaning over the" },
    { CUE_SAFETY, "threatening him" },
    { CUE_SAFETY, "threatening her" },
    { CUE_SAFETY, "threatening my" },
    { CUE_SAFETY, "someone else's tablets" },
    { CUE_SAFETY, "through the ceiling" },
    { CUE_SAFETY, "into our electrics" },
    /* Someone else in a customer's account, or their data out. Not
     * "hacked", "compromised" or "leaked" alone: "hacked together a
     * script", "we compromised on colour", "the new model leaked". */
    { CUE_SECURITY, "got hacked" },
    { CUE_SECURITY, "was hacked" },
    { CUE_SECURITY, "been hacked" },
    { CUE_SECURITY, "account hacked" },
    { CUE_SECURITY, "hacked my" },
    { CUE_SECURITY, "hacked into" },
    { CUE_SECURITY, "account compromised" },
    { CUE_SECURITY, "account was compromised" },
    { CUE_SECURITY, "account has been compromised" },
    { CUE_SECURITY, "data breach" },
    { CUE_SECURITY, "security breach" },
    { CUE_SECURITY, "password leaked" },
    { CUE_SECURITY, "passwords leaked" },
    { CUE_SECURITY, "data leaked" },
    { CUE_SECURITY, "data was leaked" },
    { CUE_SECURITY, "leaked my" },
    { CUE_SECURITY, "phishing" },
    { CUE_SECURITY, "identity theft" },
    { CUE_SECURITY, "unauthorized access" },
    { CUE_SECURITY, "unauthorised access" },
    { CUE_SECURITY, "locked out" },
    { CUE_SECURITY, "changed my email" },
    { CUE_SECURITY, "changed my password" },
    { CUE_SECURITY, "someone logged into" },
    { CUE_SECURITY, "someone logged in" },
    { CUE_SECURITY, "someone is using my" },
    { CUE_SECURITY, "someone's using my" },
    { CUE_SECURITY, "someones using my" },
    { CUE_SECURITY, "ported my number" },
    { CUE_SECURITY, "sim swap" },
    { CUE_SECURITY, "sim swapped" },
    { CUE_SECURITY, "someone used my" },
    { CUE_SECURITY, "card stolen" },
    { CUE_SECURITY, "card was stolen" },
    { CUE_SECURITY, "details were stolen" },
    { CUE_SECURITY, "details stolen" },
    { CUE_SECURITY, "scammed" },
    { CUE_SECURITY, "victim of a scam" },
    { CUE_SECURITY, "someone else's account" },
    { CUE_SECURITY, "someone else's data" },
    { CUE_SECURITY, "someone else's details" },
    { CUE_SECURITY, "pretending to be me" },
    { CUE_SECURITY, "without my permission" },
    { CUE_SECURITY, "without my consent" },
    { CUE_SECURITY, "privacy breach" },
    { CUE_SECURITY, "account was taken over" },
    { CUE_SECURITY, "taken over my account" },
    { CUE_SECURITY, "account taken over" },
    { CUE_SECURITY, "account hijacked" },
    { CUE_SECURITY, "account got hijacked" },
    { CUE_SECURITY, "account was hijacked" },
    { CUE_SECURITY, "hijacked my" },
    { CUE_SECURITY, "someone got into" },
    { CUE_SECURITY, "got into my account" },
    { CUE_SECURITY, "phished" },
    { CUE_SECURITY, "card was used" },
    { CUE_SECURITY, "card being used" },
    { CUE_SECURITY, "porting error" },
    { CUE_SECURITY, "someone else's house" },
    { CUE_SECURITY, "someone else's home" },
    /* Session 20: money taken by someone else. */
    { CUE_SECURITY, "transfer i never made" },
    { CUE_SECURITY, "payment i never made" },
    { CUE_SECURITY, "transaction i never made" },
    { CUE_SECURITY, "emptied my account" },
    { CUE_SECURITY, "emptied my savings" },
    { CUE_SECURITY, "drained my account" },
    { CUE_SECURITY, "never applied for" },
    { CUE_SECURITY, "never approved" },
    { CUE_SECURITY, "account emptied" },
    { CUE_SECURITY, "account was emptied" },
    { CUE_SECURITY, "emptied his account" },
    { CUE_SECURITY, "emptied her account" },
    { CUE_SECURITY, "emptied our account" },
    { CUE_SECURITY, "someone took my" },
    { CUE_SECURITY, "someone opened" },
    { CUE_SECURITY, "opened in my name" },
    { CUE_SECURITY, "out in my name" },
    { CUE_SECURITY, "loan in my name" },
    { CUE_SECURITY, "card in my name" },
    { CUE_SECURITY, "contract in my name" },
    { CUE_SECURITY, "contracts in my name" },
    { CUE_SECURITY, "let someone open" },
    { CUE_SECURITY, "safe account" },
    { CUE_SECURITY, "was a scam" },
    { CUE_SECURITY, "number was taken over" },
    { CUE_SECURITY, "being drained" },
    { CUE_SECURITY, "without my instruction" },
    { CUE_SECURITY, "missing from her" },
    { CUE_SECURITY, "missing from his" },
    /* A customer kept from their own account or money. "closed my
     * account" is what the brand did; "close my account" is the
     * customer's cancellation. */
    { CUE_ACCESS, "froze my account" },
    { CUE_ACCESS, "frozen my account" },
    { CUE_ACCESS, "account frozen" },
    { CUE_ACCESS, "account is frozen" },
    { CUE_ACCESS, "account was frozen" },
    { CUE_ACCESS, "account has been frozen" },
    { CUE_ACCESS, "suspended my account" },
    { CUE_ACCESS, "account suspended" },
    { CUE_ACCESS, "account is suspended" },
    { CUE_ACCESS, "account was suspended" },
    { CUE_ACCESS, "account has been suspended" },
    { CUE_ACCESS, "account got suspended" },
    { CUE_ACCESS, "banned my account" },
    { CUE_ACCESS, "locked my account" },
    { CUE_ACCESS, "closed my account" },
    { CUE_ACCESS, "closed my business account" },
    { CUE_ACCESS, "suspended my" },
    { CUE_ACCESS, "suspend my line" },
    { CUE_ACCESS, "banned me" },
    { CUE_ACCESS, "can't log in" },
    { CUE_ACCESS, "cant log in" },
    { CUE_ACCESS, "cannot log in" },
    { CUE_ACCESS, "can't login" },
    { CUE_ACCESS, "cant login" },
    { CUE_ACCESS, "unable to log in" },
    { CUE_ACCESS, "unable to login" },
    { CUE_ACCESS, "can't access my account" },
    { CUE_ACCESS, "cant access my account" },
    { CUE_ACCESS, "get into my account" },
    { CUE_ACCESS, "froze my funds" },
    { CUE_ACCESS, "funds frozen" },
    { CUE_ACCESS, "funds are frozen" },
    { CUE_ACCESS, "can't withdraw" },
    { CUE_ACCESS, "cant withdraw" },
    { CUE_ACCESS, "unable to withdraw" },
    { CUE_ACCESS, "withdrawals paused" },
    { CUE_ACCESS, "withdrawals are paused" },
    { CUE_ACCESS, "withdrawals suspended" },
    { CUE_ACCESS, "locked me out" },
    { CUE_ACCESS, "account is locked" },
    { CUE_ACCESS, "account locked" },
    { CUE_ACCESS, "blocked my card" },
    { CUE_ACCESS, "card blocked" },
    { CUE_ACCESS, "card is blocked" },
    { CUE_ACCESS, "card has been blocked" },
    { CUE_ACCESS, "card declined" },
    { CUE_ACCESS, "card was declined" },
    { CUE_ACCESS, "won't let me withdraw" },
    { CUE_ACCESS, "wont let me withdraw" },
    { CUE_ACCESS, "can't access my money" },
    { CUE_ACCESS, "cant access my money" },
    { CUE_ACCESS, "can't access my funds" },
    { CUE_ACCESS, "deactivated my account" },
    { CUE_ACCESS, "account deactivated" },
    { CUE_ACCESS, "account will be closed" },
    { CUE_ACCESS, "account will be terminated" },
    /* Session 20: a card frozen, a line cut off. */
    { CUE_ACCESS, "froze my card" },
    { CUE_ACCESS, "frozen my card" },
    { CUE_ACCESS, "card frozen" },
    { CUE_ACCESS, "card is frozen" },
    { CUE_ACCESS, "card was frozen" },
    { CUE_ACCESS, "card has been frozen" },
    { CUE_ACCESS, "cut off my line" },
    { CUE_ACCESS, "cut off my phone" },
    { CUE_ACCESS, "cut off my internet" },
    { CUE_ACCESS, "disconnected my line" },
    { CUE_ACCESS, "disconnected my service" },
    { CUE_ACCESS, "locked us out" },
    { CUE_ACCESS, "can't get in" },
    { CUE_ACCESS, "cant get in" },
    { CUE_ACCESS, "swallowed my card" },
    { CUE_ACCESS, "line was barred" },
    { CUE_ACCESS, "line barred" },
    { CUE_ACCESS, "number deactivated" },
    { CUE_ACCESS, "been deactivated" },
    { CUE_ACCESS, "number's been suspended" },
    { CUE_ACCESS, "number has been suspended" },
    { CUE_ACCESS, "sim blocked" },
    { CUE_ACCESS, "banned my driver account" },
    { CUE_ACCESS, "frozen my savings" },
    { CUE_ACCESS, "froze my savings" },
    { CUE_ACCESS, "won't unlock" },
    { CUE_ACCESS, "wont unlock" },
    { CUE_ACCESS, "account blocked" },
    { CUE_ACCESS, "account is blocked" },
    { CUE_ACCESS, "account has been blocked" },
    { CUE_ACCESS, "account has been locked" },
    { CUE_ACCESS, "cut off our" },
    { CUE_ACCESS, "cut our business line" },
    { CUE_ACCESS, "froze my business" },
    { CUE_ACCESS, "frozen my seller" },
    { CUE_ACCESS, "payouts held" },
    { CUE_ACCESS, "funds held" },
    { CUE_ACCESS, "lost my card" },
    { CUE_ACCESS, "locked our admin" },
    { CUE_ACCESS, "locked our account" },
    { CUE_ACCESS, "locked our entire" },
    { CUE_ACCESS, "locked our org" },
    /* What a customer had is gone: files, photos, a database. Not
     * "lost" or "deleted" alone ("lost my keys", "deleted the app"). */
    { CUE_DATA, "data loss" },
    { CUE_DATA, "lost all my" },
    { CUE_DATA, "lost all our" },
    { CUE_DATA, "lost my data" },
    { CUE_DATA, "lost our data" },
    { CUE_DATA, "lost my photos" },
    { CUE_DATA, "lost my files" },
    { CUE_DATA, "deleted all my" },
    { CUE_DATA, "deleted all our" },
    { CUE_DATA, "deleted every" },
    { CUE_DATA, "wiped my" },
    { CUE_DATA, "wiped our" },
    { CUE_DATA, "no backup" },
    { CUE_DATA, "no backups" },
    /* The writer says it cannot wait. Not "urgent" after "not" or "non"
     * (scan_word), nor "urgent care", a clinic; "emergency" only as
     * "is an emergency": "an emergency exit", "state of emergency". */
    { CUE_URGENT, "urgent" },
    { CUE_URGENT, "urgently" },
    { CUE_URGENT, "asap" },
    { CUE_URGENT, "as soon as possible" },
    { CUE_URGENT, "time sensitive" },
    { CUE_URGENT, "is an emergency" },
    { CUE_URGENT, "it's an emergency" },
    { CUE_URGENT, "its an emergency" },
    { CUE_URGENT, "emergency please" },
    /* Session 20: a plea to be called, a customer stranded. */
    { CUE_URGENT, "please call me" },
    { CUE_URGENT, "call me now" },
    { CUE_URGENT, "call me back" },
    { CUE_URGENT, "need this fixed" },
    { CUE_URGENT, "need this sorted" },
    { CUE_URGENT, "do i do now" },
    { CUE_URGENT, "what am i supposed" },
    { CUE_URGENT, "stranded" },
    { CUE_URGENT, "nowhere to stay" },
    { CUE_URGENT, "nowhere to sleep" },
    { CUE_URGENT, "nowhere to go" },
    { CUE_URGENT, "please escalate" },
    { CUE_URGENT, "escalate this" },
    { CUE_URGENT, "someone call me" },
    { CUE_URGENT, "please help" },
    { CUE_URGENT, "pls help" },
    { CUE_URGENT, "please respond" },
    { CUE_URGENT, "please prioritise" },
    { CUE_URGENT, "please prioritize" },
    { CUE_URGENT, "kindly reverse" },
    { CUE_URGENT, "i beg" },
    { CUE_URGENT, "who do i call" },
    { CUE_URGENT, "can anyone help" },
    { CUE_URGENT, "can someone help" },
    { CUE_URGENT, "booking doesn't exist" },
    { CUE_URGENT, "booking doesnt exist" },
    { CUE_URGENT, "given our room away" },
    { CUE_URGENT, "gave our room away" },
    { CUE_URGENT, "prepaid room away" },
    { CUE_URGENT, "deadline is tonight" },
    { CUE_URGENT, "deadline is today" },
    { CUE_URGENT, "deadline is midnight" },
    { CUE_URGENT, "deadline tonight" },
    { CUE_URGENT, "deadline today" },
    { CUE_URGENT, "i fly in" },
    { CUE_URGENT, "i fly on" },
    { CUE_URGENT, "i fly tomorrow" },
    { CUE_URGENT, "flight leaves in" },
    { CUE_URGENT, "check-in closes" },
    { CUE_URGENT, "check in closes" },
    { CUE_URGENT, "boarding closes" },
    { CUE_URGENT, "due tomorrow" },
    { CUE_URGENT, "pay staff tomorrow" },
    { CUE_URGENT, "pay my staff" },
    { CUE_URGENT, "payment run" },
    { CUE_URGENT, "drove off with" },
    { CUE_URGENT, "booking disappeared" },
    { CUE_URGENT, "deadline is tomorrow" },
    { CUE_URGENT, "deadline tomorrow" },
    { CUE_URGENT, "overbooking" },
    { CUE_URGENT, "overbooked" },
    { CUE_URGENT, "told me to leave" },
    { CUE_URGENT, "no money until" },
    { CUE_URGENT, "have no money" },
    { CUE_URGENT, "bumped off" },
    { CUE_URGENT, "bumped from" },
    { CUE_URGENT, "visa appointment" },
    { CUE_URGENT, "visa documents" },
    { CUE_URGENT, "hard deadline" },
    { CUE_URGENT, "wedding is tomorrow" },
    { CUE_URGENT, "flight closes in" },
    { CUE_URGENT, "flight boards in" },
    { CUE_URGENT, "emergency line" },
    { CUE_URGENT, "booking has disappeared" },
    { CUE_URGENT, "denied boarding" },
    { CUE_URGENT, "evicted" },
    /* Someone who cannot wait out a lost service: utilities and
     * providers keep registers of them. Not "disabled" alone ("the
     * feature is disabled"), nor "3 month old" without a baby. */
    { CUE_VULNERABLE, "my disabled" },
    /* A customer grieving, or caring for someone dying. Not "passed"
     * alone: "passed the test". */
    { CUE_VULNERABLE, "passed away" },
    { CUE_VULNERABLE, "death in the family" },
    { CUE_VULNERABLE, "bereavement" },
    { CUE_VULNERABLE, "bereaved" },
    { CUE_VULNERABLE, "funeral" },
    { CUE_VULNERABLE, "hospice" },
    { CUE_VULNERABLE, "terminally ill" },
    { CUE_VULNERABLE, "disabled mum" },
    { CUE_VULNERABLE, "disabled mother" },
    { CUE_VULNERABLE, "disabled dad" },
    { CUE_VULNERABLE, "disabled father" },
    { CUE_VULNERABLE, "disabled son" },
    { CUE_VULNERABLE, "disabled daughter" },
    { CUE_VULNERABLE, "disabled child" },
    { CUE_VULNERABLE, "am disabled" },
    { CUE_VULNERABLE, "i'm disabled" },
    { CUE_VULNERABLE, "im disabled" },
    { CUE_VULNERABLE, "my elderly" },
    { CUE_VULNERABLE, "elderly mum" },
    { CUE_VULNERABLE, "elderly mother" },
    { CUE_VULNERABLE, "elderly father" },
    { CUE_VULNERABLE, "elderly dad" },
    { CUE_VULNERABLE, "elderly parents" },
    { CUE_VULNERABLE, "elderly neighbour" },
    { CUE_VULNERABLE, "elderly neighbor" },
    { CUE_VULNERABLE, "insulin" },
    { CUE_VULNERABLE, "oxygen machine" },
    { CUE_VULNERABLE, "oxygen concentrator" },
    { CUE_VULNERABLE, "dialysis" },
    { CUE_VULNERABLE, "chemo" },
    { CUE_VULNERABLE, "chemotherapy" },
    { CUE_VULNERABLE, "newborn" },
    { CUE_VULNERABLE, "month old baby" },
    { CUE_VULNERABLE, "week old baby" },
    { CUE_VULNERABLE, "pregnant" },
    { CUE_VULNERABLE, "wheelchair" },
    { CUE_VULNERABLE, "medical equipment" },
    { CUE_VULNERABLE, "life support" },
    { CUE_VULNERABLE, "housebound" },
    { CUE_VULNERABLE, "priority services register" },
    { CUE_VULNERABLE, "vulnerable customer" },
    /* Session 20: children travelling, medicine awaited. */
    { CUE_VULNERABLE, "with my kids" },
    { CUE_VULNERABLE, "with two kids" },
    { CUE_VULNERABLE, "with 2 kids" },
    { CUE_VULNERABLE, "with my children" },
    { CUE_VULNERABLE, "prescription" },
    { CUE_VULNERABLE, "my medication" },
    { CUE_VULNERABLE, "my meds" },
    { CUE_VULNERABLE, "toddler" },
    { CUE_VULNERABLE, "my baby" },
    { CUE_VULNERABLE, "baby's formula" },
    { CUE_VULNERABLE, "baby formula" },
    { CUE_VULNERABLE, "epipen" },
    { CUE_VULNERABLE, "epi pen" },
    { CUE_VULNERABLE, "dementia" },
    { CUE_VULNERABLE, "cpap" },
    { CUE_VULNERABLE, "blood thinner" },
    { CUE_VULNERABLE, "maternity" },
    { CUE_VULNERABLE, "year old dad" },
    { CUE_VULNERABLE, "year old mum" },
    { CUE_VULNERABLE, "year old mom" },
    { CUE_VULNERABLE, "year old mother" },
    { CUE_VULNERABLE, "year old father" },
    { CUE_VULNERABLE, "my grandad" },
    { CUE_VULNERABLE, "my grandpa" },
    { CUE_VULNERABLE, "my grandma" },
    { CUE_VULNERABLE, "my nan" },
    { CUE_VULNERABLE, "my gran" },
    { CUE_VULNERABLE, "kids in the back" },
    { CUE_VULNERABLE, "icu" },
    { CUE_VULNERABLE, "intensive care" },
    { CUE_VULNERABLE, "in labour" },
    { CUE_VULNERABLE, "in labor" },
    { CUE_VULNERABLE, "midwife" },
    { CUE_VULNERABLE, "unaccompanied" },
    { CUE_VULNERABLE, "year old son" },
    { CUE_VULNERABLE, "year old daughter" },
    { CUE_VULNERABLE, "travelling alone" },
    { CUE_VULNERABLE, "traveling alone" },
    { CUE_VULNERABLE, "i live alone" },
    { CUE_VULNERABLE, "diabetic" },
    { CUE_VULNERABLE, "care home" },
    { CUE_VULNERABLE, "i'm a carer" },
    { CUE_VULNERABLE, "im a carer" },
    { CUE_VULNERABLE, "she's alone" },
    { CUE_VULNERABLE, "he's alone" },
    { CUE_VULNERABLE, "waiting on his own" },
    { CUE_VULNERABLE, "waiting on her own" },
    { CUE_VULNERABLE, "blue badge" },
    { CUE_VULNERABLE, "biopsy" },
    { CUE_VULNERABLE, "hospital appointment" },
    { CUE_VULNERABLE, "priority register" },
    { CUE_VULNERABLE, "partially sighted" },
    { CUE_VULNERABLE, "guide dog" },
    { CUE_VULNERABLE, "i'm blind" },
    { CUE_VULNERABLE, "im blind" },
    { CUE_VULNERABLE, "palliative" },
    { CUE_VULNERABLE, "hospital bill" },
    { CUE_VULNERABLE, "pensioner" },
    { CUE_VULNERABLE, "epilepsy" },
    { CUE_VULNERABLE, "in surgery" },
    /* Session 21: a person in crisis. Not "want to die" or "suicide",
     * which people write of a bad ad or a film. */
    { CUE_SAFETY, "suicidal" },
    { CUE_SAFETY, "kill myself" },
    { CUE_SAFETY, "end my life" },
    { CUE_SAFETY, "end his life" },
    { CUE_SAFETY, "end her life" },
    { CUE_SAFETY, "end their life" },
    { CUE_SAFETY, "take my own life" },
    { CUE_SAFETY, "self harm" },
    { CUE_SAFETY, "self harming" },
    /* Touched, exposed or nearly run over. */
    { CUE_SAFETY, "touching my leg" },
    { CUE_SAFETY, "keeps touching me" },
    { CUE_SAFETY, "groped" },
    { CUE_SAFETY, "groping" },
    { CUE_SAFETY, "inappropriate comments" },
    { CUE_SAFETY, "doxxed" },
    { CUE_SAFETY, "doxed" },
    { CUE_SAFETY, "nearly hit a" },
    { CUE_SAFETY, "almost hit a" },
    { CUE_SAFETY, "shouted abuse" },
    /* Someone else in the account; a caller who may not be the brand. */
    { CUE_SECURITY, "someone's used my" },
    { CUE_SECURITY, "someone used my" },
    { CUE_SECURITY, "someone has used my" },
    { CUE_SECURITY, "i didn't do this" },
    { CUE_SECURITY, "i didnt do this" },
    { CUE_SECURITY, "email was changed" },
    { CUE_SECURITY, "email has been changed" },
    { CUE_SECURITY, "email is changed" },
    { CUE_SECURITY, "password was changed" },
    { CUE_SECURITY, "password has been changed" },
    { CUE_SECURITY, "is this actually you" },
    { CUE_SECURITY, "is this really you" },
    /* Bought by someone else; wages that did not come. */
    { CUE_BILLING, "didn't buy" },
    { CUE_BILLING, "didnt buy" },
    { CUE_BILLING, "did not buy" },
    { CUE_BILLING, "didn't purchase" },
    { CUE_BILLING, "salary hasn't gone" },
    { CUE_BILLING, "salary hasn't arrived" },
    { CUE_BILLING, "salary hasn't come" },
    { CUE_BILLING, "waiting on wages" },
    /* A card or an account stopped, the only one there is. */
    { CUE_ACCESS, "card's been blocked" },
    { CUE_ACCESS, "card was blocked" },
    { CUE_ACCESS, "account's been frozen" },
    { CUE_ACCESS, "account has been frozen" },
    { CUE_ACCESS, "frozen my business" },
    { CUE_ACCESS, "my only card" },
    /* A game's progress lost. */
    { CUE_DATA, "lost my progress" },
    { CUE_DATA, "progress was wiped" },
    { CUE_DATA, "wiped my progress" },
    { CUE_DATA, "my save is gone" },
    /* From a third probe: a card charged for what was not had, money
     * held, people who need looking after, a fall, a breach. */
    { CUE_BILLING, "charged my credit card" },
    { CUE_BILLING, "charged my debit card" },
    { CUE_BILLING, "direct debit twice" },
    { CUE_BILLING, "never had an account" },
    { CUE_BILLING, "held on my card" },
    { CUE_ACCESS, "can't pay for my" },
    { CUE_SECURITY, "security incident" },
    { CUE_SECURITY, "hacked account" },
    { CUE_SECURITY, "someone's in my account" },
    { CUE_SAFETY, "pipes exposed" },
    { CUE_SAFETY, "exposed pipes" },
    { CUE_SAFETY, "on the floor for" },
    { CUE_SAFETY, "had a fall" },
    { CUE_VULNERABLE, "in a refuge" },
    { CUE_VULNERABLE, "heart condition" },
    { CUE_VULNERABLE, "on oxygen" },
    { CUE_VULNERABLE, "autistic" },
    { CUE_LEGAL, "wrongly accused" },
    /* A deadline within the day, said with its hour (any hour reads as
     * "9am": see CLOCK) or its part of the day. */
    { CUE_URGENT, "by 9am" },
    { CUE_URGENT, "before 9am" },
    { CUE_URGENT, "closes at 9am" },
    { CUE_URGENT, "by noon" },
    { CUE_URGENT, "by midnight" },
    { CUE_URGENT, "by tonight" },
    { CUE_URGENT, "by tomorrow" },
    { CUE_URGENT, "due today" },
    { CUE_URGENT, "due tonight" },
    /* Live parts and vermin ("sparking" alone stays out: see above). */
    { CUE_SAFETY, "it's sparking" },
    { CUE_SAFETY, "is sparking" },
    { CUE_SAFETY, "wires hanging out" },
    { CUE_SAFETY, "rats in the" },
    { CUE_SAFETY, "mouse droppings" },
    /* From the fourth probe, read: a person hurt or taken ill, a
     * customer treated for who they are, a line that is down. */
    { CUE_SAFETY, "hit my daughter" },
    { CUE_SAFETY, "hit my son" },
    { CUE_SAFETY, "hit my child" },
    { CUE_SAFETY, "she's bleeding" },
    { CUE_SAFETY, "he's bleeding" },
    { CUE_SAFETY, "chest pain" },
    { CUE_SAFETY, "chest pains" },
    { CUE_LEGAL, "racial profiling" },
    { CUE_LEGAL, "racially profiled" },
    { CUE_LEGAL, "discriminated against" },
    { CUE_VULNERABLE, "on crutches" },
    { CUE_OUTAGE, "no broadband" },
    { CUE_OUTAGE, "internet has dropped" },
    { CUE_OUTAGE, "without a working line" },
    /* From the fifth probe, read: someone collapsed, a customer filmed,
     * a hearing aid awaited, an allergen not listed. "999" and "911"
     * are numbers the cue table keeps as they are. Not "passed out",
     * which people write of the sofa. */
    { CUE_SAFETY, "unresponsive" },
    { CUE_SAFETY, "called 911" },
    { CUE_SAFETY, "filming women" },
    { CUE_SAFETY, "filming me" },
    { CUE_SAFETY, "peanut allergy" },
    { CUE_SAFETY, "allergen list" },
    { CUE_VULNERABLE, "hearing aid" },
    { CUE_VULNERABLE, "i'm deaf" },
    /* Session 22, from a probe of mobile, delivery, airline, gym and
     * insurance posts: a flight within hours, a traveller at the gate
     * now (not "the staff at the gate"), rent about to go out, a home
     * that cannot be left. */
    { CUE_URGENT, "flight is in" },
    { CUE_URGENT, "flight is tonight" },
    { CUE_URGENT, "flight is today" },
    { CUE_URGENT, "flight is tomorrow" },
    { CUE_URGENT, "i'm at the gate" },
    { CUE_URGENT, "we're at the gate" },
    { CUE_URGENT, "stuck here" },
    { CUE_URGENT, "need it today" },
    { CUE_URGENT, "need it tonight" },
    { CUE_URGENT, "can't leave my house" },
    { CUE_BILLING, "can't pay rent" },
    { CUE_BILLING, "can't pay my rent" },
    { CUE_BILLING, "before my rent" },
    { CUE_BILLING, "rent goes out" },
    /* Another person's details on a booking or a payout; an identity
     * used for contracts; a passport number shown. */
    { CUE_SECURITY, "lock my account" },
    { CUE_SECURITY, "contracts in my name" },
    { CUE_SECURITY, "contract in my name" },
    { CUE_SECURITY, "accounts in my name" },
    { CUE_SECURITY, "opened in my name" },
    { CUE_SECURITY, "passport number" },
    /* Staff or customers turned aggressive (not "became aggressive",
     * said of pricing), sexual remarks, fumes, water near the wiring. */
    { CUE_SAFETY, "was aggressive" },
    { CUE_SAFETY, "being aggressive" },
    { CUE_SAFETY, "got aggressive" },
    { CUE_SAFETY, "aggressive towards" },
    { CUE_SAFETY, "sexual comments" },
    { CUE_SAFETY, "chemical smell" },
    { CUE_SAFETY, "water coming through" },
    { CUE_SAFETY, "light fittings" },
    { CUE_ACCESS, "cut my number off" },
    { CUE_ACCESS, "cut off my number" },
    { CUE_ACCESS, "without a phone" },
    { CUE_VULNERABLE, "additional needs" },
    { CUE_VULNERABLE, "special needs" },
    { CUE_VULNERABLE, "my patients" },
    /* A reference number, read as one word (ref_word()): a customer who
     * quotes one has a case open. */
    { CUE_CASE, "\xE2\x84\x96" },
    /* A request, said to the brand (see es_priority_score()): it waits
     * for an answer as a question does. */
    { CUE_REQUEST, "please" },
    { CUE_REQUEST, "pls" },
    { CUE_REQUEST, "plz" },
    { CUE_REQUEST, "kindly" },
    /* A customer who needs something, cannot do something, or has
     * nobody to turn to (not "I can't wait", "I can't believe": see
     * need_idiom()). */
    { CUE_NEED, "i need" },
    { CUE_NEED, "we need" },
    { CUE_NEED, "i really need" },
    { CUE_NEED, "i urgently need" },
    { CUE_NEED, "need help" },
    { CUE_NEED, "need someone" },
    { CUE_NEED, "need an answer" },
    { CUE_NEED, "i can't" },
    { CUE_NEED, "we can't" },
    { CUE_NEED, "i cannot" },
    { CUE_NEED, "we cannot" },
    { CUE_NEED, "nobody is" },
    { CUE_NEED, "no one is" },
    { CUE_NEED, "nobody has" },
    { CUE_NEED, "no one has" },
    /* From a fresh brand probe, read once its held-out figure was
     * taken: privacy and security said plainly, a phishing check, a
     * product to recall, a driver who would not stop, money taken for
     * what was never ordered, an hour something is due. */
    { CUE_SECURITY, "data leak" },
    { CUE_SECURITY, "privacy issue" },
    { CUE_SECURITY, "security issue" },
    { CUE_SECURITY, "security problem" },
    { CUE_SECURITY, "security flaw" },
    { CUE_SECURITY, "in plain text" },
    { CUE_SECURITY, "admin access" },
    { CUE_SECURITY, "still has access" },
    { CUE_SECURITY, "is this legit" },
    { CUE_SECURITY, "entered my card" },
    { CUE_SECURITY, "live location" },
    { CUE_SAFETY, "need recalling" },
    { CUE_SAFETY, "needs recalling" },
    { CUE_SAFETY, "wouldn't stop" },
    { CUE_SAFETY, "never gave him my" },
    { CUE_ACCESS, "cut off my broadband" },
    { CUE_BILLING, "gone out twice" },
    { CUE_BILLING, "never enabled" },
    { CUE_BILLING, "never ordered" },
    { CUE_URGENT, "due at 9am" },
    { CUE_URGENT, "exam at 9am" },
    { CUE_URGENT, "at 9am tomorrow" },
    /* From probe 20, read once its held-out figure was taken. */
    { CUE_VULNERABLE, "registered blind" },
    { CUE_SAFETY, "boil water" },
    { CUE_SAFETY, "hit by another car" },
    { CUE_SAFETY, "ceiling tiles" },
    { CUE_SAFETY, "under our front door" },
    { CUE_SAFETY, "is it safe for" },
    { CUE_ACCESS, "be disconnected" },
    { CUE_SECURITY, "full card number" },
    { CUE_SECURITY, "didn't do it" },
    { CUE_SECURITY, "didnt do it" },
    { CUE_OUTAGE, "locker won't open" },
    { CUE_OUTAGE, "door won't open" },
    { CUE_URGENT, "am i insured" },
    /* From probe 22, read once its held-out figure was taken: people
     * alone, a charge not recognised, a card to block or freeze, a
     * declined card, something left behind, a home that is not safe. */
    { CUE_VULNERABLE, "lives alone" },
    { CUE_VULNERABLE, "on her own" },
    { CUE_VULNERABLE, "on his own" },
    { CUE_VULNERABLE, "with 3 kids" },
    { CUE_VULNERABLE, "with three kids" },
    { CUE_SECURITY, "don't recognise" },
    { CUE_SECURITY, "don't recognize" },
    { CUE_SECURITY, "dont recognise" },
    { CUE_SECURITY, "do not recognise" },
    { CUE_SECURITY, "freeze it" },
    { CUE_SECURITY, "freeze my account" },
    { CUE_SECURITY, "freeze my card" },
    { CUE_SECURITY, "block her card" },
    { CUE_SECURITY, "never owned" },
    { CUE_SECURITY, "tamper alert" },
    { CUE_SECURITY, "never made this" },
    { CUE_SECURITY, "someone's logged into" },
    { CUE_SECURITY, "someone's just used" },
    { CUE_ACCESS, "card's been declined" },
    { CUE_ACCESS, "card was declined" },
    { CUE_ACCESS, "declined everywhere" },
    { CUE_BILLING, "charged 3x" },
    { CUE_SAFETY, "is it safe indoors" },
    { CUE_SAFETY, "it safe to stay" },
    { CUE_SAFETY, "dairy allergy" },
    { CUE_SAFETY, "going to get hurt" },
    { CUE_SAFETY, "glass all over" },
    { CUE_SAFETY, "smells strongly of gas" },
    { CUE_SAFETY, "barricaded" },
    { CUE_SAFETY, "live wire" },
    { CUE_SAFETY, "lock has broken" },
    { CUE_SAFETY, "won't lock" },
    { CUE_URGENT, "left my laptop" },
    { CUE_URGENT, "leaves in" },
    { CUE_URGENT, "nowhere else to go" },
    { CUE_URGENT, "told to leave" },
    /* Session 23, from the read half of a probe of five more trades (a
     * toy maker, a pharmacy chain, home cameras, a furniture retailer,
     * parcel lockers): a child who swallowed a part or is trapped,
     * furniture that gave way, a wrong dose already taken, a stranger's
     * voice from a camera, a break-in, a card skimmer, a pensioner with
     * nothing for food. */
    { CUE_SAFETY, "swallowed a" },
    { CUE_SAFETY, "swallowed the" },
    { CUE_SAFETY, "swallowed some" },
    { CUE_SAFETY, "swallowed part" },
    { CUE_SAFETY, "swallowed one" },
    { CUE_SAFETY, "swallowed it" },
    { CUE_SAFETY, "in his mouth" },
    { CUE_SAFETY, "in her mouth" },
    { CUE_SAFETY, "round his neck" },
    { CUE_SAFETY, "round her neck" },
    { CUE_SAFETY, "around his neck" },
    { CUE_SAFETY, "around her neck" },
    { CUE_SAFETY, "fingers are trapped" },
    { CUE_SAFETY, "fingers trapped" },
    { CUE_SAFETY, "trapped inside" },
    { CUE_SAFETY, "locked inside" },
    { CUE_SAFETY, "climbed into" },
    { CUE_SAFETY, "tipped over" },
    { CUE_SAFETY, "toppled" },
    { CUE_SAFETY, "fell on him" },
    { CUE_SAFETY, "fell on her" },
    { CUE_SAFETY, "came crashing down" },
    { CUE_SAFETY, "gave way" },
    { CUE_SAFETY, "scorched" },
    { CUE_SAFETY, "smoke alarm" },
    { CUE_SAFETY, "smoke from" },
    { CUE_SAFETY, "warm to the touch" },
    { CUE_SAFETY, "hot to the touch" },
    { CUE_SAFETY, "bulging" },
    { CUE_SAFETY, "wheezing" },
    { CUE_SAFETY, "struggling to breathe" },
    { CUE_SAFETY, "hives" },
    { CUE_SAFETY, "overdose" },
    { CUE_SAFETY, "already took" },
    { CUE_SAFETY, "already given" },
    { CUE_SAFETY, "poisoning" },
    { CUE_SAFETY, "poisoned" },
    { CUE_SAFETY, "999" },
    { CUE_SAFETY, "a&e" },
    { CUE_SAFETY, "broke in" },
    { CUE_SAFETY, "broken into" },
    { CUE_SAFETY, "had a break-in" },
    { CUE_SAFETY, "been a break-in" },
    { CUE_SAFETY, "burglary" },
    { CUE_SAFETY, "burgled" },
    { CUE_SAFETY, "burglars" },
    { CUE_SAFETY, "intruder" },
    { CUE_SAFETY, "trying my door" },
    { CUE_SAFETY, "door wide open" },
    { CUE_SAFETY, "voice came out" },
    { CUE_SAFETY, "home alone" },
    { CUE_SAFETY, "tipping forward" },
    { CUE_SAFETY, "rocked forward" },
    { CUE_SAFETY, "leaning forward" },
    { CUE_SECURITY, "public link" },
    { CUE_SECURITY, "indexed" },
    { CUE_SECURITY, "another person's" },
    { CUE_SECURITY, "different person's" },
    { CUE_SECURITY, "anyone can see" },
    { CUE_SECURITY, "anyone can open" },
    { CUE_SECURITY, "strangers can" },
    { CUE_SECURITY, "viewing the feed" },
    { CUE_SECURITY, "who's viewed" },
    { CUE_SECURITY, "skimmer" },
    { CUE_SECURITY, "card fraud" },
    { CUE_SECURITY, "fake account" },
    { CUE_SECURITY, "impersonating" },
    { CUE_SECURITY, "impersonation" },
    { CUE_SECURITY, "scam site" },
    { CUE_SECURITY, "fake site" },
    { CUE_SECURITY, "fake website" },
    { CUE_SECURITY, "been breached" },
    { CUE_SECURITY, "auto-unlock" },
    { CUE_SECURITY, "unlocked itself" },
    { CUE_SECURITY, "nhs number" },
    { CUE_VULNERABLE, "in his cot" },
    { CUE_VULNERABLE, "in her cot" },
    { CUE_VULNERABLE, "in the cot" },
    { CUE_VULNERABLE, "oxygen" },
    { CUE_VULNERABLE, "transplant" },
    { CUE_VULNERABLE, "anti-rejection" },
    { CUE_VULNERABLE, "her pension" },
    { CUE_VULNERABLE, "his pension" },
    { CUE_VULNERABLE, "a pension" },
    { CUE_VULNERABLE, "nothing to eat" },
    { CUE_VULNERABLE, "nothing to sleep on" },
    { CUE_URGENT, "what do i do" },
    { CUE_URGENT, "what should i do" },
    { CUE_URGENT, "what must i do" },
    { CUE_URGENT, "who do i report" },
    { CUE_URGENT, "is anyone there" },
    { CUE_URGENT, "open it remotely" },
    { CUE_SAFETY, "has melted" },
    { CUE_SAFETY, "melted plastic" },
    { CUE_SAFETY, "trying to break in" },
    { CUE_SAFETY, "tried to break in" },
    { CUE_SAFETY, "out of date medicine" },
    { CUE_SAFETY, "pens expired" },
    { CUE_SAFETY, "both expired" },
    { CUE_SECURITY, "for card details" },
    { CUE_VULNERABLE, "month old son" },
    { CUE_VULNERABLE, "month old daughter" },
    { CUE_VULNERABLE, "nothing for food" },
    { CUE_VULNERABLE, "money for food" },
    { CUE_SAFETY, "been messaging me" },
    { CUE_SAFETY, "keeps texting me" },
    { CUE_SAFETY, "turned up at my" },
    { CUE_VULNERABLE, "morning after pill" },
    /* Session 23, from the read half of a second probe of new trades (a
     * dating app, e-scooters, home care, car seats and prams, boilers):
     * a stalker outside, a drink spiked, a wheel that came off, a buckle
     * that won't release, fumes and headaches after a service, a carer
     * who has not been, a parent's pills lost, a profile that shows a
     * home address, a month's food money taken. */
    { CUE_SAFETY, "he's outside" },
    { CUE_SAFETY, "she's outside" },
    { CUE_SAFETY, "outside my house" },
    { CUE_SAFETY, "outside my flat" },
    { CUE_SAFETY, "private photos" },
    { CUE_SAFETY, "get away from him" },
    { CUE_SAFETY, "get away from her" },
    { CUE_SAFETY, "wheel came off" },
    { CUE_SAFETY, "came off in" },
    { CUE_SAFETY, "hanging off" },
    { CUE_SAFETY, "brake cable" },
    { CUE_SAFETY, "brake failed" },
    { CUE_SAFETY, "brakes don't work" },
    { CUE_SAFETY, "brakes dont work" },
    { CUE_SAFETY, "won't release" },
    { CUE_SAFETY, "wont release" },
    { CUE_SAFETY, "still strapped in" },
    { CUE_SAFETY, "co alarm" },
    { CUE_SAFETY, "hissing" },
    { CUE_SAFETY, "a hiss" },
    { CUE_SAFETY, "yellow flame" },
    { CUE_SAFETY, "sooty" },
    { CUE_SAFETY, "still shaking" },
    { CUE_SAFETY, "i'm shaking" },
    { CUE_SAFETY, "im shaking" },
    { CUE_SAFETY, "lithium battery" },
    { CUE_SAFETY, "in the canal" },
    { CUE_SAFETY, "still ok to use" },
    { CUE_SAFETY, "still safe to" },
    { CUE_SAFETY, "is that allowed" },
    { CUE_SAFETY, "no id badge" },
    { CUE_SAFETY, "saying he was from" },
    { CUE_SAFETY, "said he was from" },
    { CUE_SAFETY, "claimed to be from" },
    { CUE_SAFETY, "throttle is sticking" },
    { CUE_SAFETY, "weren't done up" },
    { CUE_SAFETY, "not done up" },
    { CUE_SAFETY, "affect breathing" },
    { CUE_SAFETY, "his breathing" },
    { CUE_SAFETY, "her breathing" },
    { CUE_SAFETY, "stopped breathing" },
    { CUE_VULNERABLE, "bedbound" },
    { CUE_VULNERABLE, "bed bound" },
    { CUE_VULNERABLE, "pressure sore" },
    { CUE_VULNERABLE, "widowed" },
    { CUE_VULNERABLE, "not answering the door" },
    { CUE_VULNERABLE, "haven't been for" },
    { CUE_VULNERABLE, "hasn't been for" },
    { CUE_VULNERABLE, "curtains still shut" },
    { CUE_VULNERABLE, "had nothing since" },
    { CUE_VULNERABLE, "blister packs" },
    { CUE_VULNERABLE, "his pills" },
    { CUE_VULNERABLE, "her pills" },
    { CUE_VULNERABLE, "dad's pills" },
    { CUE_VULNERABLE, "mum's pills" },
    { CUE_VULNERABLE, "mom's pills" },
    { CUE_VULNERABLE, "week old" },
    { CUE_VULNERABLE, "weeks old" },
    { CUE_VULNERABLE, "months old" },
    { CUE_SECURITY, "account was used" },
    { CUE_SECURITY, "exact street" },
    { CUE_SECURITY, "exact location" },
    { CUE_SECURITY, "home address" },
    { CUE_SECURITY, "anyone with the link" },
    { CUE_SECURITY, "card pin" },
    { CUE_SECURITY, "her pin" },
    { CUE_SECURITY, "his pin" },
    { CUE_SECURITY, "sent her £1" },
    { CUE_SECURITY, "sent him £1" },
    { CUE_SECURITY, "romance scam" },
    { CUE_BILLING, "food money" },
    { CUE_BILLING, "money for the month" },
    { CUE_BILLING, "account's now empty" },
    { CUE_BILLING, "account is now empty" },
    { CUE_BILLING, "still charging me" },
    { CUE_BILLING, "keeps charging me" },
    { CUE_BILLING, "charges keep coming" },
    { CUE_BILLING, "£1 short" },
    { CUE_SAFETY, "see where i live" },
    { CUE_SAFETY, "out where i live" },
    { CUE_SAFETY, "find where i live" },
    { CUE_SAFETY, "out where i work" },
    { CUE_SAFETY, "knows where i work" },
    { CUE_SAFETY, "drink was spiked" },
    { CUE_SAFETY, "drink spiked" },
    { CUE_SAFETY, "spiked my" },
    { CUE_SAFETY, "getting headaches" },
    { CUE_SAFETY, "been feeling sick" },
    { CUE_SAFETY, "feeling sick since" },
    { CUE_SAFETY, "handlebar is loose" },
    { CUE_SAFETY, "handlebars are loose" },
    { CUE_SAFETY, "handlebar came off" },
    /* Session 23, from the read half of a third probe of new trades (pet
     * boarding, telehealth, self storage, solar, a mobile game): the
     * general forms of what the two before named by trade: anything of
     * someone else's or a stranger's shown, a child asked for pictures
     * or told to keep a secret, a wish not to be around. */
    { CUE_SECURITY, "someone else's" },
    { CUE_SECURITY, "stranger's" },
    { CUE_SECURITY, "other customers" },
    { CUE_SECURITY, "another customer's" },
    { CUE_SECURITY, "another patient's" },
    { CUE_SECURITY, "other patients" },
    { CUE_SECURITY, "key safe code" },
    { CUE_SAFETY, "not being around" },
    { CUE_SAFETY, "end it all" },
    { CUE_SAFETY, "he'll end it" },
    { CUE_SAFETY, "she'll end it" },
    { CUE_SAFETY, "going to end it" },
    { CUE_SAFETY, "saying goodbye to" },
    { CUE_SAFETY, "bolt cutters" },
    { CUE_SAFETY, "a tingle" },
    { CUE_SAFETY, "petrol smell" },
    { CUE_SAFETY, "thermal fault" },
    { CUE_SAFETY, "floppy" },
    { CUE_SAFETY, "doesn't fade" },
    { CUE_SAFETY, "asking for pics" },
    { CUE_SAFETY, "asked for pics" },
    { CUE_SAFETY, "for verification pics" },
    { CUE_SAFETY, "not to tell my" },
    { CUE_SAFETY, "grown man" },
    /* Session 24, from the read half of a fourth probe of new trades
     * (driving school, dentist, ferry, funeral director, a language app,
     * a theme park): what any trade with vehicles, rides or staff can
     * do to a customer: staff smelling of drink, a bald tyre, a brake or
     * restraint that failed, no lifeguard, people stuck on a ride, a
     * child asked for photos, a chat with no way to report. */
    { CUE_SAFETY, "smelled of alcohol" },
    { CUE_SAFETY, "smelt of alcohol" },
    { CUE_SAFETY, "smelling of alcohol" },
    { CUE_SAFETY, "smelled strongly of alcohol" },
    { CUE_SAFETY, "smelled of booze" },
    { CUE_SAFETY, "smelt of booze" },
    { CUE_SAFETY, "bald tyre" },
    { CUE_SAFETY, "bald tyres" },
    { CUE_SAFETY, "bald tire" },
    { CUE_SAFETY, "bald tires" },
    { CUE_SAFETY, "brake didn't work" },
    { CUE_SAFETY, "brakes didn't work" },
    { CUE_SAFETY, "lap bar" },
    { CUE_SAFETY, "restraint hadn't" },
    { CUE_SAFETY, "restraint wasn't" },
    { CUE_SAFETY, "restraint came" },
    { CUE_SAFETY, "restraint opened" },
    { CUE_SAFETY, "restraint popped" },
    { CUE_SAFETY, "no lifeguard" },
    { CUE_SAFETY, "stuck at the top" },
    { CUE_SAFETY, "asking for photos" },
    { CUE_SAFETY, "asked for photos" },
    { CUE_SAFETY, "asking her for photos" },
    { CUE_SAFETY, "asking him for photos" },
    { CUE_SAFETY, "no report button" },
    /* The read half of a fifth probe (a heating call-out firm, a
     * nursery chain, car hire, a banking app, grocery delivery, a cinema
     * chain): another family's records shown, a court order ignored, a
     * child's photo posted, a harness clip missing, a reaction under
     * way, a regulator told, a payee added, a benefit income. */
    { CUE_SECURITY, "another family's" },
    { CUE_SECURITY, "another child's" },
    { CUE_SECURITY, "new payee" },
    { CUE_SECURITY, "payee added" },
    { CUE_SECURITY, "photo of my kid" },
    { CUE_SECURITY, "photo of my son" },
    { CUE_SECURITY, "photo of my daughter" },
    { CUE_SECURITY, "photo of my child" },
    { CUE_SECURITY, "photos of my kids" },
    { CUE_SECURITY, "photos of my children" },
    { CUE_LEGAL, "court order" },
    { CUE_LEGAL, "ofsted" },
    { CUE_LEGAL, "cqc" },
    { CUE_SAFETY, "harness clip" },
    { CUE_SAFETY, "he's reacting" },
    { CUE_SAFETY, "she's reacting" },
    { CUE_SAFETY, "a burn on" },
    { CUE_VULNERABLE, "universal credit" },
    { CUE_VULNERABLE, "on benefits" },
    /* The day the answer is needed in. Not "in an hour" or "within the
     * hour", which as often say how fast a thing was done ("refunded
     * within the hour"). */
    { CUE_SOON, "today" },
    { CUE_SOON, "tonight" },
    { CUE_SOON, "tomorrow" },
    { CUE_SOON, "this morning" },
    { CUE_SOON, "this afternoon" },
    { CUE_SOON, "this evening" },
    { CUE_SOON, "right now" },
    /* The same days as people type them. */
    { CUE_SOON, "tmrw" },
    { CUE_SOON, "tmr" },
    { CUE_SOON, "2moro" },
    { CUE_SOON, "tonite" },
    { CUE_SOON, "2day" },
};

/* The words after a cue that take the cue away (NULL-terminated), and
 * whether a number or a sum of money does too. */
struct cue_veto {
    const char *const *words;
    int number;
};

/* "the fraud team", "fraud line", "fraud checks": a bank's service, no
 * charge of fraud. */
static const char *const fraud_service[] = {
    "team",   "teams",     "line",       "department", "dept",
    "check",  "checks",    "alert",      "alerts",     "prevention",
    "unit",   "detection", "protection", "hotline",    "squad",
    "number", "services",  "desk",       NULL,
};
/* "urgent care": a clinic, no hurry. */
static const char *const urgent_clinic[] = { "care", NULL };
/* "safety features", "5-star safety rating", "safety first!", a plane's
 * "safety demo": what a product has, no danger. */
static const char *const safety_feature[] = {
    "feature",  "features", "first",         "rating",
    "ratings",  "tip",      "tips",          "setting",
    "settings", "mode",     "glasses",       "goggles",
    "gear",     "net",      "pin",           "razor",
    "record",   "demo",     "demonstration", "video",
    "briefing", "card",     "instructions",  NULL,
};
/* "burned 3,000 calories", "burned through my data", "burnt out",
 * "burned a CD": no burn to the skin (a number or a sum too). */
static const char *const burn_not_hurt[] = {
    "calories", "cals", "kcal", "through", "out",     "off", "rubber",
    "cd",       "cds",  "dvd",  "disc",    "bridges", NULL,
};
/* "I can't wait", "I can't believe", "I can't thank them enough": an
 * idiom of praise or feeling, not a thing the customer cannot do. */
static const char *const need_idiom[] = {
    "wait",     "believe",   "complain",  "stand",     "recommend", "fault",
    "thank",    "stop",      "help",      "say",       "praise",    "imagine",
    "describe", "express",   "remember",  "tell",      "decide",    "choose",
    "explain",  "emphasize", "emphasise", "overstate", "rate",      NULL,
};

/* "someone else's problem", "a stranger's opinion": what is another's
 * here is no record of theirs shown to the writer. Not a child or a pet:
 * "they handed me someone else's dog" is as urgent as it gets. */
static const char *const not_theirs[] = {
    "problem",        "problems", "fault",    "job",      "turn",
    "responsibility", "mess",     "opinion",  "review",   "reviews",
    "idea",           "ideas",    "choice",   "decision", "shoes",
    "hands",          "life",     "business", NULL,
};

/* "saying goodbye to mum": a farewell at a funeral, not a wish to end
 * one's life ("keeps saying goodbye to everyone"). */
static const char *const farewell_to[] = {
    "mum",         "mom",         "mam",     "dad",     "nan",     "nana",
    "gran",        "granny",      "grandma", "grandad", "grandpa", "granddad",
    "grandmother", "grandfather", "mother",  "father",  "husband", "wife",
    "brother",     "sister",      "uncle",   "aunt",    "auntie",  "him",
    "her",         NULL,
};

/* The cues of the table that the word after them decides. */
static const struct {
    const char *phrase;
    struct cue_veto veto;
} cue_vetoes[] = {
    { "fraud", { fraud_service, 0 } },
    { "urgent", { urgent_clinic, 0 } },
    { "safety", { safety_feature, 0 } },
    { "burned", { burn_not_hurt, 1 } },
    { "burnt", { burn_not_hurt, 1 } },
    { "i can't", { need_idiom, 0 } },
    { "we can't", { need_idiom, 0 } },
    { "i cannot", { need_idiom, 0 } },
    { "we cannot", { need_idiom, 0 } },
    { "someone else's", { not_theirs, 0 } },
    { "stranger's", { not_theirs, 0 } },
    { "saying goodbye to", { farewell_to, 0 } },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The veto of the table's @phrase, or NULL. */
static const struct cue_veto *veto_of(const char *phrase)
{
    for (size_t i = 0; i < ARRAY_SIZE(cue_vetoes); i++)
        if (strcmp(cue_vetoes[i].phrase, phrase) == 0)
            return &cue_vetoes[i].veto;
    return NULL;
}

/* Longest word we compare, and the most words in a phrase or brand name.
 * A longer word matches nothing; a longer brand still matches written as
 * one word. */
#define WORD_MAX   64
#define PHRASE_MAX ES_PRIORITY_PHRASE_MAX
/* The words a scan remembers: a phrase, and two one-word brands inside
 * it ("can't access my Widgetly account"). */
#define RING (PHRASE_MAX + 2)

/* One entry of the table: a phrase of 1..PHRASE_MAX normalised words. */
struct cue {
    char *words[PHRASE_MAX]; /* owned; words[n - 1] is the key */
    size_t key_len;          /* strlen(words[n - 1]) */
    int n;
    enum cue_kind kind;
    const struct cue_veto *veto; /* the word after it decides, or NULL */
    int next;                    /* next cue with the same last word, or -1 */
    int literal; /* its words include a brand: no brand is skipped */
};

struct es_priority {
    struct es_priority_weights w;
    struct cue *cues; /* owned array of ncues */
    size_t ncues;
    int *slots;  /* open addressing: index of a chain's head cue, or -1 */
    size_t mask; /* slots has mask + 1 entries, a power of two */
    int *brands; /* owned: the cues of the brands in one word ("acmecloud") */
    size_t nbrands;
};

void es_priority_weights_default(struct es_priority_weights *out)
{
    out->negative = ES_PRIORITY_WEIGHT_NEGATIVE;
    out->urgency = ES_PRIORITY_WEIGHT_URGENCY;
    out->reach = ES_PRIORITY_WEIGHT_REACH;
    out->rating = ES_PRIORITY_WEIGHT_RATING;
    out->direct = ES_PRIORITY_WEIGHT_DIRECT;
    out->age = ES_PRIORITY_WEIGHT_AGE;
}

/* ==== Words ==== */

/* FNV-1a: short words, no need for anything better. */
#define FNV_SEED  2166136261u
#define FNV_PRIME 16777619u

static uint32_t hash_word(const char *s, size_t len)
{
    uint32_t h = FNV_SEED;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= FNV_PRIME;
    }
    return h;
}

/* What the byte sequence at @s (of @len bytes) is to the word splitter:
 * returns 1 for a word character, 0 for a separator, and sets *n to its
 * length in bytes and *ch to the byte to keep (ASCII lower case; the
 * curly apostrophes become '). Non-ASCII letters are kept as they are;
 * the punctuation of U+2000..U+206F (dashes, quotes, ellipsis) and
 * non-breaking spaces separate words. */
/* ASCII bytes as the splitter keeps them: the lower-case letter, digit,
 * apostrophe or underscore, or 0 for a separator. A table lookup per byte
 * is most of the cost of scanning a long text. */
static const unsigned char ascii_word[128] = {
    ['\''] = '\'', ['0'] = '0', ['1'] = '1', ['2'] = '2', ['3'] = '3',
    ['4'] = '4',   ['5'] = '5', ['6'] = '6', ['7'] = '7', ['8'] = '8',
    ['9'] = '9',   ['A'] = 'a', ['B'] = 'b', ['C'] = 'c', ['D'] = 'd',
    ['E'] = 'e',   ['F'] = 'f', ['G'] = 'g', ['H'] = 'h', ['I'] = 'i',
    ['J'] = 'j',   ['K'] = 'k', ['L'] = 'l', ['M'] = 'm', ['N'] = 'n',
    ['O'] = 'o',   ['P'] = 'p', ['Q'] = 'q', ['R'] = 'r', ['S'] = 's',
    ['T'] = 't',   ['U'] = 'u', ['V'] = 'v', ['W'] = 'w', ['X'] = 'x',
    ['Y'] = 'y',   ['Z'] = 'z', ['_'] = '_', ['a'] = 'a', ['b'] = 'b',
    ['c'] = 'c',   ['d'] = 'd', ['e'] = 'e', ['f'] = 'f', ['g'] = 'g',
    ['h'] = 'h',   ['i'] = 'i', ['j'] = 'j', ['k'] = 'k', ['l'] = 'l',
    ['m'] = 'm',   ['n'] = 'n', ['o'] = 'o', ['p'] = 'p', ['q'] = 'q',
    ['r'] = 'r',   ['s'] = 's', ['t'] = 't', ['u'] = 'u', ['v'] = 'v',
    ['w'] = 'w',   ['x'] = 'x', ['y'] = 'y', ['z'] = 'z',
};

static int word_char(const unsigned char *s, size_t len, size_t *n,
                     unsigned char *ch)
{
    unsigned char c = s[0];
    *n = 1;
    *ch = c;
    if (c < 0x80) {
        *ch = ascii_word[c];
        return *ch != 0;
    }
    if (c == 0xE2 && len >= 3 && s[1] == 0x80) {
        *n = 3;
        if (s[2] == 0x98 || s[2] == 0x99) {
            *ch = '\'';
            return 1;
        }
        return 0;
    }
    if (c == 0xE2 && len >= 3 && s[1] == 0x81 && s[2] <= 0xAF) {
        *n = 3;
        return 0;
    }
    if (c == 0xC2 && len >= 2 && s[1] == 0xA0) {
        *n = 2;
        return 0;
    }
    return 1;
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* What a reference number becomes (see ref_word()), as the table
 * writes it: the numero sign. */
static const char REFNO[] = "\xE2\x84\x96"; /* № */

/* 1 when the word @w (@len bytes, lower case) is a reference an agent
 * looks up: six digits or more ("559120"), four or more after a '#'
 * (@hash: "#48213"; not a year, "#2024"), or two or three letters then
 * three digits or more ("kw884123", "hc559120", "ba123"). Not a price
 * (split_words() reads those first) or a model with a digit or two
 * ("ps5", "a321neo"). */
static int ref_word(const char *w, size_t len, int hash)
{
    size_t letters = 0, digits = 0;
    while (letters < len && w[letters] >= 'a' && w[letters] <= 'z')
        letters++;
    while (letters + digits < len &&
           is_digit((unsigned char)w[letters + digits]))
        digits++;
    if (letters + digits != len)
        return 0;
    /* "#2024" is a year. */
    int year = digits == 4 && (w[0] == '1' || w[0] == '2') &&
               (w[1] == '9' || w[1] == '0');
    if (letters == 0)
        return digits >= 6 || (hash && digits >= 4 && !year);
    return letters <= 3 && letters >= 2 && digits >= 3;
}

/* The word an amount of money becomes (see split_words()). */
static const char AMOUNT[] = "\xC2\xA3"; /* £ */
/* What every time of day is read as: "by 9am" in the table matches "by
 * 5pm", "before 11am", "by 10:30pm" and "closes at 17:30". */
static const char CLOCK[] = "9am";

/* Whether the word @s (@n bytes, lower case) is one or two digits, then
 * "am" or "pm" when @ampm. */
static int clock_word(const char *s, size_t n, int ampm)
{
    size_t d = ampm ? n - 2 : n;
    if (n < (ampm ? 3u : 1u) || d > 2 ||
        (ampm && ((s[d] != 'a' && s[d] != 'p') || s[d + 1] != 'm')))
        return 0;
    for (size_t i = 0; i < d; i++)
        if (!is_digit((unsigned char)s[i]))
            return 0;
    return 1;
}

/* The length of the currency sign @w (@len bytes) opens with: £, € or
 * ¥; 0 for none. ("$" is no word byte: the splitter looks before the
 * word for it.) */
static size_t currency_len(const char *w, size_t len)
{
    const unsigned char *u = (const unsigned char *)w;
    if (len >= 2 && u[0] == 0xC2 && (u[1] == 0xA3 || u[1] == 0xA5))
        return 2;
    if (len >= 3 && u[0] == 0xE2 && u[1] == 0x82 && u[2] == 0xAC)
        return 3;
    return 0;
}

/* 1 when @w (@len bytes) is the number of an amount: digits, maybe a
 * "k" or "m" after them ("2k"). */
static int amount_tail(const char *w, size_t len)
{
    size_t k = 0;
    while (k < len && w[k] >= '0' && w[k] <= '9')
        k++;
    return k == len || (k + 1 == len && (w[k] == 'k' || w[k] == 'm'));
}

/* A word as the splitter hands it on. */
struct word {
    char s[WORD_MAX];
    size_t len;    /* 0: too long to match anything */
    int at;        /* written "@word" */
    int pct;       /* written "word%" */
    uint32_t hash; /* hash_word(s, len), by the splitter, once a word */
    int name;      /* a word of a brand's name, which a phrase may hold */
};

typedef void (*word_fn)(const struct word *w, void *payload);

/* Splits @buf (@len bytes) into normalised words: lower case, leading
 * and trailing apostrophes dropped. Calls @fn for each, then once with a
 * NULL word at the end so that phrases never span two calls. */
static void split_words(const char *buf, size_t len, word_fn fn, void *payload)
{
    const unsigned char *s = (const unsigned char *)buf;
    struct word w;
    size_t i = 0;

    w.len = 0;
    w.at = 0;
    w.pct = 0;
    while (i < len) {
        size_t n;
        unsigned char ch;
        if (!word_char(s + i, len - i, &n, &ch)) {
            i += n;
            continue;
        }
        /* A word starts here. */
        size_t ws = i, wl = 0;
        int too_long = 0;
        w.at = i > 0 && s[i - 1] == '@';
        while (i < len && word_char(s + i, len - i, &n, &ch)) {
            /* ASCII (and the apostrophes) as @ch, other bytes as they are:
             * word_char() hands those on one at a time. */
            if (wl + 1 < WORD_MAX)
                w.s[wl++] = (char)ch;
            else
                too_long = 1;
            i += n;
        }
        /* An amount of money ("$340", "£1,450.00", "€2k") is one word,
         * "£", whatever the sum: the table's "took £1 out of" reads as
         * "took £ out of" and matches them all. */
        size_t cur = currency_len(w.s, wl);
        int dollar = ws > 0 && s[ws - 1] == '$';
        if ((cur || dollar) && cur < wl && w.s[cur] >= '0' && w.s[cur] <= '9' &&
            amount_tail(w.s + cur, wl - cur)) {
            while (i + 1 < len && (s[i] == ',' || s[i] == '.') &&
                   s[i + 1] >= '0' && s[i + 1] <= '9') {
                i++;
                while (i < len && s[i] >= '0' && s[i] <= '9')
                    i++;
            }
            memcpy(w.s, AMOUNT, sizeof(AMOUNT));
            wl = sizeof(AMOUNT) - 1;
            too_long = 0;
        } else if (clock_word(w.s, wl, 1)) {
            memcpy(w.s, CLOCK, sizeof(CLOCK));
            wl = sizeof(CLOCK) - 1;
        } else if (clock_word(w.s, wl, 0) && i + 2 < len && s[i] == ':' &&
                   is_digit(s[i + 1]) && is_digit(s[i + 2]) &&
                   (i + 3 == len || !is_digit(s[i + 3]))) {
            /* "10:30pm", "17:30": the minutes, and the am or pm, are
             * part of it. */
            i += 3;
            if (i + 1 < len && ((s[i] | 0x20) == 'a' || (s[i] | 0x20) == 'p') &&
                (s[i + 1] | 0x20) == 'm')
                i += 2;
            memcpy(w.s, CLOCK, sizeof(CLOCK));
            wl = sizeof(CLOCK) - 1;
        } else if (ref_word(w.s, wl, ws > 0 && s[ws - 1] == '#')) {
            memcpy(w.s, REFNO, sizeof(REFNO));
            wl = sizeof(REFNO) - 1;
        }
        size_t start = 0;
        while (start < wl && w.s[start] == '\'')
            start++;
        while (wl > start && w.s[wl - 1] == '\'')
            wl--;
        if (wl == start)
            continue;
        if (start)
            memmove(w.s, w.s + start, wl - start);
        w.len = too_long ? 0 : wl - start;
        w.s[w.len] = '\0';
        w.pct = i < len && s[i] == '%';
        w.hash = hash_word(w.s, w.len);
        fn(&w, payload);
    }
    fn(NULL, payload);
}

/* ==== The cue table ==== */

struct build {
    char *words[PHRASE_MAX];
    int n;
    int overflow; /* more than PHRASE_MAX words */
    struct {
        char s[256];
        size_t len;
        int overflow;
    } joined; /* every word run together: "acmecloud" */
};

static void collect_word(const struct word *w, void *payload)
{
    struct build *b = payload;
    if (!w)
        return;
    if (w->len == 0) {
        b->overflow = 1;
        b->joined.overflow = 1;
        return;
    }
    if (b->n < PHRASE_MAX)
        b->words[b->n++] = es_xstrndup(w->s, w->len);
    else
        b->overflow = 1;
    if (b->joined.len + w->len < sizeof(b->joined.s)) {
        memcpy(b->joined.s + b->joined.len, w->s, w->len);
        b->joined.len += w->len;
    } else {
        b->joined.overflow = 1;
    }
}

static struct cue *add_cue(struct es_priority *p, size_t *cap, char **words,
                           int n, enum cue_kind kind)
{
    if (p->ncues == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        p->cues = es_xrealloc(p->cues, *cap * sizeof(*p->cues));
    }
    struct cue *c = &p->cues[p->ncues++];
    memset(c, 0, sizeof(*c));
    for (int i = 0; i < n; i++)
        c->words[i] = words[i];
    c->key_len = strlen(words[n - 1]);
    c->n = n;
    c->kind = kind;
    c->next = -1;
    c->literal = kind == CUE_BRAND;
    return c;
}

/* Adds @text (split into words) as a cue of @kind, decided by the word
 * after it when @veto is set. A brand is also added written as one
 * word. Phrases of more than PHRASE_MAX words are not. */
static void add_phrase(struct es_priority *p, size_t *cap, const char *text,
                       enum cue_kind kind, const struct cue_veto *veto)
{
    struct build b;
    memset(&b, 0, sizeof(b));
    split_words(text, strlen(text), collect_word, &b);
    /* A phrase of the table longer than PHRASE_MAX would never match:
     * "came away in my hand" is written "away in my hand". */
    assert(kind == CUE_BRAND || !b.overflow);
    if (b.n > 0 && !b.overflow) {
        add_cue(p, cap, b.words, b.n, kind)->veto = veto;
    } else {
        for (int i = 0; i < b.n; i++)
            free(b.words[i]);
    }
    if (kind == CUE_BRAND && !b.joined.overflow && b.joined.len &&
        (b.n > 1 || b.overflow)) {
        char *one = es_xstrndup(b.joined.s, b.joined.len);
        add_cue(p, cap, &one, 1, kind);
    }
}

/* Returns the slot for @word (@len bytes, hash_word() @hash): the one
 * whose chain has that last word, or the empty slot where it would go. */
static size_t find_slot(const struct es_priority *p, const char *word,
                        size_t len, uint32_t hash)
{
    size_t i = hash & p->mask;
    for (;;) {
        int head = p->slots[i];
        if (head < 0)
            return i;
        const struct cue *c = &p->cues[head];
        if (c->key_len == len && memcmp(c->words[c->n - 1], word, len) == 0)
            return i;
        i = (i + 1) & p->mask;
    }
}

/* "Is @acme down?", "acme cloud down again": the brand followed by "down"
 * is an outage cue, written as words and as one ("acmecloud down"). The
 * words after it still decide, as for "is down" ("Acme down 5%"). */
static void add_brand_down(struct es_priority *p, size_t *cap,
                           const char *brand)
{
    struct build b;
    memset(&b, 0, sizeof(b));
    split_words(brand, strlen(brand), collect_word, &b);
    int several = b.n > 1 || b.overflow;
    if (b.n > 0 && !b.overflow && b.n < PHRASE_MAX) {
        b.words[b.n++] = es_xstrdup("down");
        add_cue(p, cap, b.words, b.n, CUE_OUTAGE)->literal = 1;
    } else {
        for (int i = 0; i < b.n; i++)
            free(b.words[i]);
    }
    if (several && !b.joined.overflow && b.joined.len) {
        char *two[2] = { es_xstrndup(b.joined.s, b.joined.len),
                         es_xstrdup("down") };
        add_cue(p, cap, two, 2, CUE_OUTAGE)->literal = 1;
    }
}

/* The number of words @phrase has as a cue phrase (the words a scan
 * matches: letters, digits, apostrophes, '_'); PHRASE_MAX + 1 for more
 * than PHRASE_MAX. config.c checks [priority] *_words the same way. */
static size_t phrase_words(const char *phrase)
{
    struct build b;
    memset(&b, 0, sizeof(b));
    split_words(phrase, strlen(phrase), collect_word, &b);
    size_t n = b.overflow ? PHRASE_MAX + 1 : (size_t)b.n;
    for (int i = 0; i < b.n; i++)
        free(b.words[i]);
    return n;
}

/* A brand's own phrase of @kind: as the table's, but one too long to
 * match is skipped rather than a bug. */
static void add_own_phrase(struct es_priority *p, size_t *cap, const char *text,
                           enum cue_kind kind)
{
    if (!text || phrase_words(text) - 1 >= PHRASE_MAX)
        return;
    add_phrase(p, cap, text, kind, veto_of(text));
}

struct es_priority *es_priority_new(const struct es_priority_weights *w,
                                    const char *const *brands, size_t nbrands)
{
    return es_priority_new_with(w, brands, nbrands, NULL);
}

struct es_priority *es_priority_new_with(const struct es_priority_weights *w,
                                         const char *const *brands,
                                         size_t nbrands,
                                         const struct es_priority_cues *cues)
{
    /* The public kinds, in the order of enum es_priority_cue. */
    static const enum cue_kind own_kind[ES_PRIORITY_CUE_COUNT] = {
        CUE_SAFETY, CUE_SECURITY, CUE_VULNERABLE, CUE_URGENT, CUE_OUTAGE,
    };
    struct es_priority *p = es_xcalloc(1, sizeof(*p));
    size_t cap = 0;

    if (w)
        p->w = *w;
    else
        es_priority_weights_default(&p->w);
    for (size_t i = 0; i < ARRAY_SIZE(cue_words); i++)
        add_phrase(p, &cap, cue_words[i].phrase, cue_words[i].kind,
                   veto_of(cue_words[i].phrase));
    for (int k = 0; cues && k < ES_PRIORITY_CUE_COUNT; k++)
        for (size_t i = 0; i < cues->nphrases[k]; i++)
            add_own_phrase(p, &cap, cues->phrases[k][i], own_kind[k]);
    for (size_t i = 0; i < nbrands; i++)
        if (brands[i]) {
            add_phrase(p, &cap, brands[i], CUE_BRAND, NULL);
            add_brand_down(p, &cap, brands[i]);
        }

    size_t nslots = 16;
    while (nslots < p->ncues * 4)
        nslots *= 2;
    p->mask = nslots - 1;
    p->slots = es_xmalloc(nslots * sizeof(*p->slots));
    for (size_t i = 0; i < nslots; i++)
        p->slots[i] = -1;
    p->brands = es_xmalloc((p->ncues ? p->ncues : 1) * sizeof(*p->brands));
    for (size_t i = 0; i < p->ncues; i++)
        if (p->cues[i].kind == CUE_BRAND && p->cues[i].n == 1)
            p->brands[p->nbrands++] = (int)i;
    /* Chains keep the table's order, so the first cue listed is seen
     * first; the order does not change a score. */
    for (size_t i = p->ncues; i-- > 0;) {
        struct cue *c = &p->cues[i];
        const char *key = c->words[c->n - 1];
        size_t slot = find_slot(p, key, c->key_len, hash_word(key, c->key_len));
        c->next = p->slots[slot];
        p->slots[slot] = (int)i;
    }
    return p;
}

void es_priority_free(struct es_priority *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->ncues; i++)
        for (int k = 0; k < p->cues[i].n; k++)
            free(p->cues[i].words[k]);
    free(p->cues);
    free(p->slots);
    free(p->brands);
    free(p);
}

/* ==== Scanning a mention ==== */

struct scan {
    const struct es_priority *p;
    struct word ring[RING]; /* the last words, ring[(pos - k) % RING] */
    size_t pos;             /* words seen since the last reset */
    unsigned found;         /* 1 << enum cue_kind */
    unsigned soft;          /* kinds of "found" seen only as "dangerous" */
    int at_brand;           /* "@brand" */
    int down_wait;          /* words left to tell "is down" apart */
    /* A cue word whose sense the word after it decides ("fraud team",
     * "urgent care", "safety features"): its kind, and the test that
     * the next word passes when it takes the cue away. */
    enum cue_kind wait_kind;
    const struct cue_veto *wait_veto;
};

/* The word @back places before the newest (0 is the newest), or NULL. */
static const struct word *ring_at(const struct scan *sc, size_t back)
{
    if (back >= sc->pos || back >= RING)
        return NULL;
    return &sc->ring[(sc->pos - 1 - back) % RING];
}

/* 1 when the words before the newest one, which is @c's last word (the
 * table chains cues by it), are @c's others. "delete my Acme account": a
 * brand's name inside a phrase is stepped over, unless the phrase names
 * the brand itself (c->literal). */
static int cue_matches(const struct scan *sc, const struct cue *c)
{
    size_t back = 1;
    for (int k = 1; k < c->n; k++) {
        const struct word *prev = ring_at(sc, back++);
        while (prev && prev->name && !c->literal)
            prev = ring_at(sc, back++);
        if (!prev || !prev->len || strcmp(prev->s, c->words[c->n - 1 - k]))
            return 0;
    }
    return 1;
}

/* 1 when @s is one of the @n strings of @words. */
static int is_one_of(const char *s, const char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, words[i]) == 0)
            return 1;
    return 0;
}

/* 1 when the word @w is there, not too long, and one of the array
 * @list. */
#define WORD_IN(w, list)                                                       \
    ((w) && (w)->len && is_one_of((w)->s, (list), ARRAY_SIZE(list)))

/* 1 when @prev, the word before "fire", makes it slang for excellent. */
static int fire_is_praise(const struct word *prev)
{
    static const char *const words[] = {
        "is",        "so",         "was",    "straight", "pure",
        "absolute",  "absolutely", "lowkey", "highkey",  "kinda",
        "literally", "it's",       "its",    "that's",   "thats",
    };
    return WORD_IN(prev, words);
}

/* 1 when @w, the word after a cue, takes the cue away by @v. */
static int veto_takes(const struct cue_veto *v, const struct word *w)
{
    if (v->number &&
        (is_digit((unsigned char)w->s[0]) || strcmp(w->s, AMOUNT) == 0))
        return 1;
    for (const char *const *k = v->words; *k; k++)
        if (strcmp(w->s, *k) == 0)
            return 1;
    return 0;
}

/* 1 when @w names what a customer pays: then "went down" is a price
 * that fell. */
static int price_word(const struct word *w)
{
    static const char *const words[] = {
        "price",   "prices",   "bill",     "bills",  "cost",
        "costs",   "premium",  "premiums", "fee",    "fees",
        "renewal", "rate",     "rates",    "tariff", "subscription",
        "payment", "payments", "quote",    "excess",
    };
    return WORD_IN(w, words);
}

/* 1 when @prev, the word before "urgent" or "asap", takes the hurry
 * back: "not urgent", "non-urgent", "no rush, not asap". */
static int not_urgent(const struct word *prev)
{
    static const char *const words[] = {
        "not", "non", "nothing", "isn't", "isnt", "no", "never", "less",
    };
    return WORD_IN(prev, words);
}

/* 1 when the word @w (@len bytes) is the last word of a brand's name:
 * then "Acme's" is Acme. */
static int brand_key(const struct es_priority *p, const char *w, size_t len)
{
    for (int i = p->slots[find_slot(p, w, len, hash_word(w, len))]; i >= 0;
         i = p->cues[i].next)
        if (p->cues[i].kind == CUE_BRAND)
            return 1;
    return 0;
}

/* 1 when the handle @w ("@acmecloudapp", "@acmecloud_support") is a
 * brand's name in one word with one of the endings brands give their
 * other accounts. Only handles come here, and no brand matched them
 * whole. */
static int brand_handle(const struct es_priority *p, const struct word *w)
{
    static const char *const endings[] = {
        "app",     "hq",       "help", "support", "care", "team",
        "status",  "official", "uk",   "us",      "usa",  "ca",
        "au",      "ie",       "in",   "global",  "news", "dev",
        "service", "services", "cs",   "ops",     "inc",  "ltd",
    };
    for (size_t i = 0; i < p->nbrands; i++) {
        const struct cue *c = &p->cues[p->brands[i]];
        if (w->len <= c->key_len || memcmp(w->s, c->words[0], c->key_len))
            continue;
        const char *rest = w->s + c->key_len;
        if (*rest == '_')
            rest++;
        if (is_one_of(rest, endings, ARRAY_SIZE(endings)))
            return 1;
    }
    return 0;
}

static void scan_word(const struct word *w, void *payload)
{
    struct scan *sc = payload;
    const struct es_priority *p = sc->p;
    struct word stem;

    if (sc->wait_veto) {
        const struct cue_veto *veto = sc->wait_veto;
        sc->wait_veto = NULL;
        if (!w || !w->len || !veto_takes(veto, w)) {
            sc->found |= 1u << sc->wait_kind;
            sc->soft &= ~(1u << sc->wait_kind);
        }
    }
    /* "Acme Cloud's status page, is it up?": the possessive of a brand
     * is the brand. Only a brand's last word loses its "'s": "it's" and
     * "that's" stay as they are, for the phrases that hold them. */
    if (w && w->len > 2 && w->s[w->len - 2] == '\'' &&
        w->s[w->len - 1] == 's' && brand_key(p, w->s, w->len - 2)) {
        stem.len = w->len - 2;
        memcpy(stem.s, w->s, stem.len);
        stem.s[stem.len] = '\0';
        stem.at = w->at;
        stem.pct = w->pct;
        stem.name = 0;
        stem.hash = hash_word(stem.s, stem.len);
        w = &stem;
    }

    if (sc->down_wait) {
        /* "is down 20%", "was down 3 points", "its down payment": a
         * price, not an outage. */
        static const char *const units[] = { "percent", "pct", "points",
                                             "pts" };
        static const char *const payment[] = { "payment", "payments" };
        if (w &&
            ((w->pct && w->len && w->s[0] >= '0' && w->s[0] <= '9') ||
             WORD_IN(w, units) || (sc->down_wait == 2 && WORD_IN(w, payment))))
            sc->down_wait = 0;
        else if (!w || --sc->down_wait == 0)
            sc->found |= 1u << CUE_OUTAGE;
    }
    if (!w) {
        sc->down_wait = 0;
        sc->pos = 0;
        return;
    }
    /* Copy only the bytes in use: the ring is written for every word. */
    struct word *slot = &sc->ring[sc->pos % RING];
    memcpy(slot->s, w->s, w->len + 1);
    slot->len = w->len;
    slot->at = w->at;
    slot->name = 0;
    sc->pos++;
    if (w->len == 0)
        return;
    int head = p->slots[find_slot(p, w->s, w->len, w->hash)];
    /* A brand name that ends here, of one word or several ("acme
     * cloud"): its words are names, which other phrases step over. Marked
     * before any phrase ending here looks back over them. */
    int named = 0;
    for (int i = head; i >= 0; i = p->cues[i].next) {
        const struct cue *c = &p->cues[i];
        if (c->kind == CUE_BRAND && cue_matches(sc, c)) {
            named = 1;
            for (int k = 0; k < c->n; k++)
                sc->ring[(sc->pos - 1 - (size_t)k) % RING].name = 1;
        }
    }
    /* "@acmecloudapp, where is my order?": another account of the
     * brand's, addressed as the brand. */
    if (w->at && !named && brand_handle(p, w)) {
        slot->name = 1;
        sc->found |= 1u << CUE_BRAND;
        sc->at_brand = 1;
    }
    for (int i = head; i >= 0; i = p->cues[i].next) {
        const struct cue *c = &p->cues[i];
        if (!cue_matches(sc, c))
            continue;
        /* "zero-downtime deploys", "no outage since May": the absence of
         * an outage is no outage. */
        if (c->kind == CUE_OUTAGE && c->n == 1) {
            static const char *const none[] = { "zero", "no", "without" };
            if (WORD_IN(ring_at(sc, 1), none))
                continue;
        }
        /* "my bill went down", "the price is down": money, no outage. */
        if (c->kind == CUE_OUTAGE && strcmp(w->s, "down") == 0 &&
            price_word(ring_at(sc, (size_t)c->n)))
            continue;
        /* "the site is down": decided by the two words after it. */
        if (c->kind == CUE_OUTAGE && strcmp(w->s, "down") == 0) {
            if (!(sc->found & (1u << CUE_OUTAGE)))
                sc->down_wait = 2;
            continue;
        }
        /* "power of attorney" is a paper, not a lawyer. */
        if (c->kind == CUE_LEGAL && c->n == 1 &&
            strcmp(w->s, "attorney") == 0) {
            const struct word *of = ring_at(sc, 1), *power = ring_at(sc, 2);
            if (of && power && strcmp(of->s, "of") == 0 &&
                strcmp(power->s, "power") == 0)
                continue;
        }
        /* "down since this morning" says how long, not by when. */
        if (c->kind == CUE_SOON) {
            static const char *const since[] = { "since", "from" };
            if (WORD_IN(ring_at(sc, (size_t)c->n), since))
                continue;
        }
        /* "not urgent", "non-urgent", "nothing urgent": no hurry. */
        if (c->kind == CUE_URGENT && c->n == 1 && not_urgent(ring_at(sc, 1)))
            continue;
        /* "fraud team", "I can't wait", "burned 500 calories", "urgent
         * care", "safety features": a cue the word after it decides
         * (the table's veto). */
        if (c->veto) {
            sc->wait_kind = c->kind;
            sc->wait_veto = c->veto;
            continue;
        }
        /* "this update is fire", "so fire", "straight fire": slang
         * praise, not a blaze. */
        if (c->kind == CUE_SAFETY && strcmp(w->s, "fire") == 0 &&
            fire_is_praise(ring_at(sc, 1)))
            continue;
        /* "this sale is dangerous": a safety word that a glad post uses
         * of temptation; any other safety word makes it a safety cue. */
        if (c->kind == CUE_SAFETY && c->n == 1 &&
            strcmp(w->s, "dangerous") == 0) {
            if (!(sc->found & (1u << CUE_SAFETY)))
                sc->soft |= 1u << CUE_SAFETY;
        } else {
            sc->soft &= ~(1u << c->kind);
        }
        sc->found |= 1u << c->kind;
        if (c->kind == CUE_BRAND && c->n == 1 && w->at)
            sc->at_brand = 1;
    }
}

/* True when @s asks something: a '?' that ends a sentence, not one in a
 * URL ("/search?q=acme") or an expression ("a?b"), and not one that
 * closes a quotation: a post-mortem citing the forum thread "Is the
 * region down?" asks nothing itself. */
static int asks(const char *s)
{
    for (const char *q = s ? strchr(s, '?') : NULL; q; q = strchr(q + 1, '?')) {
        unsigned char next = (unsigned char)q[1];
        if (next == '\0')
            return 1;
        if (next == '"' || strncmp(q + 1, "\xE2\x80\x9D", 3) == 0 || /* ” */
            strncmp(q + 1, "\xC2\xBB", 2) == 0)                      /* » */
            continue;
        int in_word = (next >= 'a' && next <= 'z') ||
                      (next >= 'A' && next <= 'Z') ||
                      (next >= '0' && next <= '9') || strchr("=&/_%-", next);
        if (!in_word)
            return 1;
    }
    return 0;
}

/* Feeds are found by keyword search: their entries are never addressed
 * to the brand, whatever their kind. */
static int is_feed(const char *platform)
{
    return !platform || strcmp(platform, "rss") == 0 ||
           strcmp(platform, "atom") == 0 || strcmp(platform, "rdf") == 0;
}

/* ==== Reasons ==== */

/* A reason being written: every mention gets a few, so they are put
 * together by hand rather than with snprintf, which cost more than the
 * whole scan of the words. */
struct reason {
    char s[64];
    size_t len;
};

static void reason_add(struct reason *r, const char *s)
{
    size_t n = strlen(s);
    if (r->len + n < sizeof(r->s)) {
        memcpy(r->s + r->len, s, n);
        r->len += n;
    }
}

static void reason_int(struct reason *r, long long v)
{
    char digits[24];
    size_t n = 0;
    unsigned long long u =
        v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        digits[n++] = '-';
    while (n && r->len + 1 < sizeof(r->s))
        r->s[r->len++] = digits[--n];
}

/* @v in [-1, 1] rounded to two decimals: "-0.82". */
static void reason_fixed2(struct reason *r, double v)
{
    long long c = llround(fabs(v) * 100.0);
    if (v < 0 && c)
        reason_add(r, "-");
    reason_int(r, c / 100);
    char frac[4] = { '.', (char)('0' + c / 10 % 10), (char)('0' + c % 10), 0 };
    reason_add(r, frac);
}

/* Appends @r to the JSON array in @out unless it would not fit. The
 * reasons are our own ASCII strings: nothing to escape. */
static void add_reason_r(struct es_priority_result *out, size_t *len,
                         const struct reason *r)
{
    size_t need = r->len + 2 + (out->nreasons ? 1 : 0);
    if (*len + need + 2 > sizeof(out->reasons))
        return;
    char *p = out->reasons + *len;
    if (out->nreasons)
        *p++ = ',';
    *p++ = '"';
    memcpy(p, r->s, r->len);
    p += r->len;
    *p++ = '"';
    *p = '\0';
    *len += need;
    out->nreasons++;
}

static void add_reason(struct es_priority_result *out, size_t *len,
                       const char *reason)
{
    struct reason r = { .len = 0 };
    reason_add(&r, reason);
    add_reason_r(out, len, &r);
}

/* "850", "1.2k", "12k", "3.4M", "25M": rounded down, so never "1000k";
 * "1k" rather than "1.0k". */
static void reason_count(struct reason *r, long long n)
{
    long long unit = n < 1000000 ? 1000 : 1000000;
    const char *suffix = unit == 1000 ? "k" : "M";
    if (n < 1000) {
        reason_int(r, n);
        return;
    }
    reason_int(r, n / unit);
    if (n < 10 * unit && n / (unit / 10) % 10) {
        char frac[3] = { '.', (char)('0' + n / (unit / 10) % 10), 0 };
        reason_add(r, frac);
    }
    reason_add(r, suffix);
}

int es_priority_score(const struct es_priority *p, const struct es_item *item,
                      const struct es_sentiment *s, int64_t now,
                      struct es_priority_result *out)
{
    struct scan sc;
    struct reason r;
    size_t len = 0;
    double points = 0;

    assert(p && item && out);
    memset(out, 0, sizeof(*out));
    out->reasons[len++] = '[';

    /* Negativity: only a score the classifier calls negative counts. */
    if (s && s->compound <= ES_SENTIMENT_NEG_THRESHOLD) {
        points += p->w.negative * -s->compound;
        r.len = 0;
        reason_add(&r, "negative ");
        reason_fixed2(&r, s->compound);
        add_reason_r(out, &len, &r);
    }

    /* Urgency and addressing, from the words. */
    memset(&sc, 0, sizeof(sc));
    sc.p = p;
    if (item->title)
        split_words(item->title, strlen(item->title), scan_word, &sc);
    if (item->text)
        split_words(item->text, strlen(item->text), scan_word, &sc);
    int question = asks(item->title) || asks(item->text);
    int feed = is_feed(item->platform);
    int direct = !feed && ((item->flags & ES_ITEM_DIRECT) ||
                           item->kind == ES_KIND_REPLY ||
                           item->kind == ES_KIND_REVIEW || sc.at_brand);
    if (question && (direct || (sc.found & (1u << CUE_BRAND))))
        sc.found |= 1u << CUE_QUESTION;
    /* "please" asks the brand only in a post addressed to it. */
    if (!direct && !(sc.found & (1u << CUE_BRAND)))
        sc.found &= ~(1u << CUE_REQUEST);
    double calm = 1.0;
    for (int k = 0; k < CUE__COUNT; k++) {
        if (k == CUE_BRAND || !(sc.found & (1u << k)))
            continue;
        /* A day named presses only a post that needs something: one
         * the classifier calls negative, or one with another cue ("A
         * new dashboard shipped today" needs nothing). */
        if ((k == CUE_SOON || k == CUE_NEED) &&
            !(s && s->compound <= ES_SENTIMENT_NEG_THRESHOLD) &&
            !(sc.found &
              ~((1u << CUE_SOON) | (1u << CUE_NEED) | (1u << CUE_BRAND))))
            continue;
        double strength = cue_info[k].strength;
        if (s && s->compound >= ES_SENTIMENT_POS_THRESHOLD) {
            if (sc.soft & (1u << k))
                continue;
            strength *= cue_info[k].when_glad;
            if (strength == 0)
                continue;
        }
        calm *= 1.0 - strength;
        add_reason(out, &len, cue_info[k].reason);
    }
    points += p->w.urgency * (1.0 - calm);

    /* Stars: a 1- or 2-star review is a customer about to leave. */
    if (item->rating == 1 || item->rating == 2) {
        points += p->w.rating * (item->rating == 1 ? 1.0 : 0.5);
        r.len = 0;
        reason_int(&r, item->rating);
        reason_add(&r, "-star review");
        add_reason_r(out, &len, &r);
    }

    /* Reach: nothing below 100 followers, all of it at a million. */
    long long f = item->author_followers;
    if (f > 100) {
        double reach = log10((double)f / 100.0) / 4.0;
        points += p->w.reach * (reach > 1.0 ? 1.0 : reach);
        r.len = 0;
        reason_count(&r, f);
        reason_add(&r, " followers");
        add_reason_r(out, &len, &r);
    }

    if (direct) {
        points += p->w.direct;
        add_reason(out, &len, "direct mention");
    }

    /* Age takes points away: half of them after two days, most after a
     * week. Unknown or future times take nothing. */
    if (item->created_at != ES_TIME_UNKNOWN && now > item->created_at) {
        int64_t age = now - item->created_at;
        points -= p->w.age * (1.0 - exp(-(double)age / (3.0 * 86400.0)));
        long long d = (long long)(age / 86400), h = (long long)(age / 3600);
        if (d >= 1 || h >= 1) {
            r.len = 0;
            reason_int(&r, d >= 1 ? d : h);
            reason_add(&r, d >= 1 ? (d == 1 ? " day old" : " days old")
                                  : (h == 1 ? " hour old" : " hours old"));
            add_reason_r(out, &len, &r);
        }
    }

    out->reasons[len++] = ']';
    out->reasons[len] = '\0';
    double total = floor(points + 0.5);
    out->score = total < 0 ? 0 : total > 100 ? 100 : (int)total;
    return 0;
}
