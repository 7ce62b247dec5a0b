#!/usr/bin/env python3
"""score_alerts.py - score fired alerts against the spikes gen_alerts.py injected

  score_alerts.py [--peers] [--table] [--title TEXT] TRUTH ALERTS [TRUTH ALERTS ...]

ALERTS is the output of `earshot alerts backtest RULE --json` on the
stream TRUTH describes: an object whose "alerts" each have "started_at"
(ISO 8601 or Unix seconds). Several pairs are pooled.

Matching: an alert matches a spike when it starts between one bucket
before the spike and the bucket after its end; a spike is detected in
time when a matching alert starts within one bucket of the spike's start;
an alert that matches no spike is a false alarm; a spike with more than
one matching alert is split (the target is exactly one alert per spike).

--peers also scores, on the same true negative counts (the generator's
own, so label noise favours no one), two detectors that other listening
tools use, each given our minimum count, hysteresis and cooldown so that
only the baseline differs:
  naive     a rolling mean + 3 sigma of the previous 24 buckets
  poisson   the median of the same hour of the previous 8 weeks as the
            expected count, firing when the Poisson tail probability of
            the observed count is below 0.001 (it trusts Poisson, with no
            spread of its own)

Without --table: one line of figures per detector. With --table: the
bench table (measure, figure, target, status), targets on the earshot
row only: >= 95% of the spikes of at least 3x detected within one
bucket, <= 1 false alarm per simulated week, 0 split spikes.
"""

import argparse
import calendar
import json
import math
import statistics
import time


def to_time(v):
    if v is None:
        return None
    if isinstance(v, (int, float)):
        return int(v)
    return calendar.timegm(time.strptime(v, "%Y-%m-%dT%H:%M:%SZ"))


class Score:
    def __init__(self):
        self.det3 = self.tot3 = self.false = self.split = 0
        self.weeks = 0
        self.alerts = 0
        self.delays = []
        self.sizes = {}

    def add(self, truth, starts):
        """@starts: the alerts' first buckets (indices into the stream)."""
        spikes = truth["spikes"]
        self.weeks += truth["weeks"]
        self.alerts += len(starts)
        matched = {k: [] for k in range(len(spikes))}
        for a0 in starts:
            hit = None
            for k, s in enumerate(spikes):
                if s["start"] - 1 <= a0 <= s["start"] + s["length"]:
                    hit = k
                    break
            if hit is None:
                self.false += 1
            else:
                matched[hit].append(a0)
        for k, s in enumerate(spikes):
            ok = any(abs(a0 - s["start"]) <= 1 for a0 in matched[k])
            key = s["size"]
            d, t = self.sizes.get(key, (0, 0))
            self.sizes[key] = (d + ok, t + 1)
            if s["size"] >= 3:
                self.tot3 += 1
                self.det3 += ok
            if matched[k]:
                self.delays.append(min(matched[k]) - s["start"])
            if len(matched[k]) > 1:
                self.split += 1

    def rate3(self):
        return 100.0 * self.det3 / self.tot3 if self.tot3 else 0.0

    def per_week(self):
        return self.false / self.weeks if self.weeks else 0.0

    def sizes_text(self):
        return " ".join("%gx:%d/%d" % (k, v[0], v[1])
                        for k, v in sorted(self.sizes.items()))

    def line(self, label):
        return ("%s detected_3x=%d/%d (%.1f%%) delay_median=%s "
                "false_alarms=%d per_week=%.2f split_spikes=%d alerts=%d "
                "by_size=%s" % (
                    label, self.det3, self.tot3, self.rate3(),
                    ("%g" % statistics.median(self.delays))
                    if self.delays else "-",
                    self.false, self.per_week(), self.split, self.alerts,
                    self.sizes_text()))


def lifecycle(n, elevated, still, min_count, counts, cooldown):
    """Our lifecycle over per-bucket tests: fire when elevated and at least
    min_count, stay while still, cool down after the end."""
    out, firing, cool_until, i0 = [], False, -1, 0
    for i in range(n):
        if firing:
            if still(i):
                continue
            firing = False
            cool_until = i + cooldown
            continue
        if elevated(i) and counts[i] >= min_count and i >= cool_until:
            firing, i0 = True, i
            out.append(i0)
    return out


def naive(counts, min_count, cooldown, window=24, k=3.0):
    def stats(i):
        w = counts[max(0, i - window):i]
        if len(w) < window:
            return None
        m = sum(w) / len(w)
        return m, math.sqrt(sum((x - m) ** 2 for x in w) / len(w))

    def elevated(i, kk=k):
        s = stats(i)
        return s is not None and counts[i] > s[0] + kk * max(s[1], 1e-9)

    return lifecycle(len(counts), elevated, lambda i: elevated(i, k / 2),
                     min_count, counts, cooldown)


def poisson_tail(counts, per_week, min_count, cooldown, p=0.001):
    def expected(i):
        xs = [counts[i - w * per_week] for w in range(1, 9)
              if i - w * per_week >= 0]
        return statistics.median(xs) if len(xs) >= 3 else None

    def sf(x, lam):
        """P(X >= x) for X ~ Poisson(lam)."""
        if x <= 0:
            return 1.0
        term = cdf = math.exp(-lam)
        for j in range(1, x):
            term *= lam / j
            cdf += term
        return max(0.0, 1.0 - cdf)

    def elevated(i, pp=p):
        e = expected(i)
        return e is not None and sf(counts[i], max(e, 0.5)) < pp

    return lifecycle(len(counts), elevated, lambda i: elevated(i, 0.05),
                     min_count, counts, cooldown)


def check(value, op, limit):
    ok = value >= limit if op == ">=" else value <= limit
    return "met" if ok else "MISSED"


def row(measure, figure, target="-", status=""):
    print("%-50s %-24s %-8s %s" % (measure, figure, target, status))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="+", help="TRUTH ALERTS pairs")
    ap.add_argument("--peers", action="store_true")
    ap.add_argument("--table", action="store_true")
    ap.add_argument("--title", default="")
    ap.add_argument("--no-targets", action="store_true",
                    help="print the figures without targets")
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--cooldown-buckets", type=int, default=6)
    a = ap.parse_args()
    if len(a.files) % 2:
        ap.error("give TRUTH ALERTS pairs")
    ours, peers = Score(), {"naive": Score(), "poisson": Score()}
    for k in range(0, len(a.files), 2):
        truth = json.load(open(a.files[k]))
        doc = json.load(open(a.files[k + 1]))
        start, bucket = truth["start"], truth["bucket"]
        ours.add(truth, [(to_time(x["started_at"]) - start) // bucket
                         for x in doc["alerts"]])
        if a.peers:
            counts = truth["negative"]
            peers["naive"].add(truth, naive(counts, a.min_count,
                                            a.cooldown_buckets))
            peers["poisson"].add(truth, poisson_tail(
                counts, 7 * 86400 // bucket, a.min_count,
                a.cooldown_buckets))
    if not a.table:
        print(ours.line("earshot"))
        for name, s in peers.items():
            if a.peers:
                print(s.line(name))
        return
    title = a.title + ": " if a.title else ""
    if a.no_targets:
        global check

        def check(value, op, limit):
            return ""
    row(title + "spikes >= 3x found within 1 bucket",
        "%d/%d = %.1f%%" % (ours.det3, ours.tot3, ours.rate3()),
        "-" if a.no_targets else ">= 95%",
        check(ours.rate3(), ">=", 95))
    row(title + "false alarms per simulated week",
        "%.2f (%d in %d weeks)" % (ours.per_week(), ours.false, ours.weeks),
        "-" if a.no_targets else "<= 1", check(ours.per_week(), "<=", 1))
    row(title + "spikes split into several alerts", "%d" % ours.split,
        "-" if a.no_targets else "0", check(ours.split, "<=", 0))
    if a.peers:
        for name, label in (("naive", "peer mean+3sd of 24h"),
                            ("poisson", "peer median+Poisson tail")):
            s = peers[name]
            row("  %s: spikes >= 3x in time" % label,
                "%d/%d = %.1f%%" % (s.det3, s.tot3, s.rate3()))
            row("  %s: false alarms/week" % label,
                "%.2f (%d)" % (s.per_week(), s.false))
            row("  %s: split spikes" % label, "%d" % s.split)
    print("\n%sfound in time / injected, by size:" % title)
    print("  %-26s %s" % ("earshot", ours.sizes_text()))
    if a.peers:
        print("  %-26s %s" % ("peer mean+3sd of 24h", peers["naive"].sizes_text()))
        print("  %-26s %s" % ("peer median+Poisson tail",
                              peers["poisson"].sizes_text()))


if __name__ == "__main__":
    main()
