#!/usr/bin/env python3
"""gen_alerts.py - synthetic mention streams with known negative spikes

Writes weeks of mentions of a brand in the `earshot parse` JSON Lines
format (fed to `earshot import`), with the rhythm real social traffic has:
quiet nights, a morning peak and a softer evening, weekends at about 60%
with a later start, day-to-day and hour-to-hour noise beyond Poisson (a
lognormal factor on the rate), and a slow trend (+30% over the run). About
a fifth of the mentions are negative, a third positive, the rest neutral;
their texts are written so that earshot's classifier labels them so (the
bench checks the labels it stores).

Into that stream go negative spikes of known start, length (1 to 8
buckets) and size (1.5x to 6x the seasonal negative baseline of each
bucket: the extra mentions of a bucket are Poisson((size - 1) * baseline)),
some at night and some at the peak hours, at least two days apart, none in
the first week (the detector is still learning its rhythm). Spike mentions
share a topic word and a few loud authors, as a real pile-on does.

  gen_alerts.py --out stream.jsonl --truth truth.json [--weeks 8]
                [--bucket 3600] [--seed 7] [--scale 1.0]

truth.json: {"start", "bucket", "weeks", "spikes": [{"start", "length",
"size", "baseline", "hour"}...], "negative": [count per bucket...],
"expected": [seasonal negative rate per bucket...]}. The output depends only
on the arguments.
"""

import argparse
import json
import math
import random
import time

START = 1704067200  # 2024-01-01T00:00:00Z, a Monday
DAY = 86400
WEEK = 7 * DAY

# Relative volume by hour of day (UTC): quiet nights, a morning peak at
# 9-11, lunch, a softer evening.
WEEKDAY = [0.45, 0.38, 0.33, 0.30, 0.32, 0.40, 0.55, 0.85, 1.25, 1.60, 1.70,
           1.55, 1.35, 1.40, 1.45, 1.35, 1.25, 1.15, 1.05, 1.00, 0.90, 0.78,
           0.65, 0.52]
# Weekends: later and lower.
WEEKEND = [0.45, 0.38, 0.32, 0.28, 0.26, 0.27, 0.32, 0.40, 0.55, 0.70, 0.85,
           0.95, 1.00, 1.00, 0.95, 0.92, 0.90, 0.88, 0.85, 0.80, 0.72, 0.64,
           0.56, 0.50]

NEG_SHARE, POS_SHARE = 0.20, 0.33

PRODUCTS = ["app", "dashboard", "checkout", "billing page", "mobile app",
            "login", "sync", "search", "api", "website", "update", "support"]
NEGATIVE = [
    "the {p} is broken again, this is terrible",
    "worst experience ever with the acme {p}, totally useless",
    "acme {p} keeps failing, so frustrating and annoying",
    "really disappointed, the {p} is awful and nobody helps",
    "I hate how bad the acme {p} has become",
    "the acme {p} crashed and I lost my work, horrible",
    "acme support ignored me for days, the {p} is a disaster",
    "furious: the {p} charged me twice, terrible service",
    "the new {p} is ugly and slow, what a mess",
    "acme {p} is unusable today, really bad",
]
POSITIVE = [
    "love the new acme {p}, great work",
    "the acme {p} is excellent, thanks team",
    "really happy with the {p}, awesome job acme",
    "acme support was wonderful and fixed my {p} fast, thank you",
    "the {p} looks beautiful now, nice update",
    "great experience with the acme {p} today",
    "the acme {p} is so good, best tool I use",
    "impressed by how smooth the {p} is, well done",
]
NEUTRAL = [
    "acme released a new version of the {p} today",
    "is the acme {p} available in the store",
    "reading the acme docs about the {p}",
    "the acme {p} changelog mentions a new setting",
    "switching my team to the acme {p} next month",
    "does the acme {p} work with a second account",
    "acme announced a webinar about the {p}",
    "just installed the acme {p} on my laptop",
]
SPIKE_TOPICS = ["outage", "breach", "refund", "recall", "lawsuit", "downtime",
                "blackout", "overcharge"]
SPIKE_NEGATIVE = [
    "acme {t} again, this is terrible and nobody answers",
    "the acme {t} is a disaster, absolutely awful",
    "so angry about the acme {t}, worst company",
    "another acme {t}, I am furious and done with them",
    "acme {t} ruined my day, horrible",
]
PLATFORMS = ["mastodon", "bluesky", "reddit", "hn"]


def profile(t):
    """Seasonal relative volume at time t (no trend, no noise)."""
    dow = (t - START) // DAY % 7  # 0 = Monday
    hour = t % DAY // 3600
    frac = (t % 3600) / 3600.0
    table = WEEKEND if dow >= 5 else WEEKDAY
    nxt = WEEKEND if (dow + (hour == 23)) % 7 >= 5 else WEEKDAY
    a, b = table[hour], nxt[(hour + 1) % 24]
    return a + (b - a) * frac  # smooth within the hour


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--weeks", type=int, default=8)
    ap.add_argument("--bucket", type=int, default=3600)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--scale", type=float, default=1.0,
                    help="total mentions per hour at a weekday peak / 150")
    ap.add_argument("--spikes", type=int, default=24)
    a = ap.parse_args()
    r = random.Random(a.seed)
    bucket = a.bucket
    n = a.weeks * WEEK // bucket
    peak_rate = 150.0 * a.scale * bucket / 3600.0  # mentions per bucket
    trend = lambda t: 1.0 + 0.30 * (t - START) / (a.weeks * WEEK)

    # Noise beyond Poisson: a factor per day and one per hour.
    day_noise = [math.exp(r.gauss(0, 0.10)) for _ in range(a.weeks * 7 + 1)]
    hour_noise = [math.exp(r.gauss(0, 0.12)) for _ in range(a.weeks * 168 + 1)]

    def seasonal(i):
        """Mentions of all labels a bucket should hold (no noise)."""
        t = START + i * bucket + bucket // 2
        return peak_rate * profile(t) * trend(t) / 1.7

    # Spikes: spread over weeks 2..end, at least 2 days apart; half of the
    # starts at night (0-6h), a third at the peak (8-12h), the rest
    # anywhere. Sizes cycle through the list so each appears equally.
    sizes = [1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 3.0, 4.0]
    first, last = WEEK // bucket, n - 8 * 3600 // bucket - 1
    per_day = DAY // bucket
    spikes = []
    slots = list(range(first // per_day, last // per_day, 2))
    r.shuffle(slots)
    for k, d in enumerate(sorted(slots[:a.spikes])):
        kind = k % 3
        if kind == 0:
            hour = r.randrange(0, 6)
        elif kind == 1:
            hour = r.randrange(8, 12)
        else:
            hour = r.randrange(0, 24)
        start = d * per_day + hour * 3600 // bucket
        length = 1 + r.randrange(8)
        size = sizes[k % len(sizes)]
        spikes.append({"start": start, "length": length, "size": size,
                       "hour": hour})

    negative = [0] * n
    expected = [0.0] * n
    out = open(a.out, "w")
    mid = 0

    def emit(t, text, author, platform):
        nonlocal mid
        mid += 1
        out.write(json.dumps({
            "id": "m%d" % mid, "platform": platform,
            "url": "https://%s.example/p/%d" % (platform, mid),
            "author": author, "created_at": iso(t), "text": text,
        }, separators=(",", ":")) + "\n")

    spike_at = {}
    for s in spikes:
        for j in range(s["length"]):
            spike_at[s["start"] + j] = s
    topics = {}
    for i in range(n):
        t0 = START + i * bucket
        lam = seasonal(i) * day_noise[(i * bucket) // DAY] * \
            hour_noise[(i * bucket) // 3600]
        expected[i] = seasonal(i) * NEG_SHARE
        total = poisson(r, lam)
        for _ in range(total):
            u = r.random()
            p = r.choice(PRODUCTS)
            if u < NEG_SHARE:
                text, lab = r.choice(NEGATIVE).format(p=p), -1
            elif u < NEG_SHARE + POS_SHARE:
                text, lab = r.choice(POSITIVE).format(p=p), 1
            else:
                text, lab = r.choice(NEUTRAL).format(p=p), 0
            if lab < 0:
                negative[i] += 1
            emit(t0 + r.randrange(bucket), text,
                 "@user%d" % r.randrange(20000), r.choice(PLATFORMS))
        s = spike_at.get(i)
        if s:
            if id(s) not in topics:
                topics[id(s)] = r.choice(SPIKE_TOPICS)
                s["baseline"] = round(expected[i], 2)
                s["topic"] = topics[id(s)]
            extra = poisson(r, (s["size"] - 1.0) * expected[i])
            loud = ["@angry%d" % k for k in range(3)]
            for _ in range(extra):
                text = r.choice(SPIKE_NEGATIVE).format(t=topics[id(s)])
                author = r.choice(loud) if r.random() < 0.3 else \
                    "@user%d" % r.randrange(20000)
                emit(t0 + r.randrange(bucket), text, author,
                     r.choice(PLATFORMS))
                negative[i] += 1
    out.close()
    with open(a.truth, "w") as f:
        json.dump({"start": START, "bucket": bucket, "weeks": a.weeks,
                   "spikes": spikes, "negative": negative,
                   "expected": [round(x, 3) for x in expected],
                   "mentions": mid}, f)


def poisson(r, lam):
    """Poisson variate (Knuth for small means, normal approximation with
    continuity correction above 60)."""
    if lam <= 0:
        return 0
    if lam > 60:
        return max(0, int(r.gauss(lam, math.sqrt(lam)) + 0.5))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= r.random()
        if p <= limit:
            return k
        k += 1


if __name__ == "__main__":
    main()
