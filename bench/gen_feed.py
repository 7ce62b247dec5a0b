#!/usr/bin/env python3
"""gen_feed.py - deterministic RSS 2.0 documents for earshot's benchmarks

One generator for both benches, so that the documents look alike:
realistic news-ish text in several languages' vocabulary, HTML markup
escaped in <description> and raw in a CDATA <content:encoded>, HTML named
entities inside that markup (&amp;eacute; &amp;mdash; ...), numeric
character references, UTF-8 in titles, varied authors (<author> and
<dc:creator>), categories, RFC 822 dates in several zones, guids that are
and are not permalinks.

The output depends only on the arguments (random.Random(seed)), so a bench
can cache it and every run measures the same bytes.

  gen_feed.py --items 100000 --seed 1 OUT.xml
  gen_feed.py --items 20 --feeds 1000 --seed 2 --out-dir DIR   (f0001.xml..)
"""

import argparse
import os
import random
import sys
import unicodedata

WORDS = (
    "the a of to in and for on with at by from about as into over after "
    "brand customer support release update outage service launch feature "
    "price review community product team company market report users "
    "developer phone battery screen camera delivery order refund account "
    "network cloud server latency weekend morning evening quarter growth "
    "analysts shares investors election council city river festival music "
    "football season transfer coach stadium weather storm forecast energy "
    "solar wind grid policy privacy security breach patch vulnerability "
    "open source maintainer license contributor release candidate beta "
    "startup funding round acquisition merger layoffs hiring remote office "
    "coffee restaurant menu recipe travel airport delay flight train strike "
    "hospital research study scientists climate ocean species discovery "
    "great terrible amazing disappointing excellent slow fast broken fixed "
    "happy angry love hate recommend avoid reliable cheap expensive new old"
).split()

# Words whose HTML spelling uses a named entity; the text form is UTF-8.
ACCENTED = [
    ("café", "caf&eacute;"),
    ("naïve", "na&iuml;ve"),
    ("résumé", "r&eacute;sum&eacute;"),
    ("São Paulo", "S&atilde;o Paulo"),
    ("Zürich", "Z&uuml;rich"),
    ("München", "M&uuml;nchen"),
    ("déjà vu", "d&eacute;j&agrave; vu"),
    ("façade", "fa&ccedil;ade"),
    ("Ærø", "&AElig;r&oslash;"),
    ("jalapeño", "jalape&ntilde;o"),
]

PUNCT_HTML = ["&mdash;", "&ndash;", "&hellip;", "&rsquo;s", "&nbsp;",
              "&laquo;", "&raquo;", "&copy;", "&euro;5", "&trade;"]

FIRST = ["Alice", "Bruno", "Chen", "Dana", "Émile", "Farah", "Giulia",
         "Hiro", "Ingrid", "José", "Kwame", "Lena", "Mateo", "Nadia",
         "Oskar", "Priya", "Quinn", "Rafael", "Søren", "Tomoko", "Uma",
         "Viktor", "Wen", "Xavier", "Yara", "Zoë"]
LAST = ["Anders", "Bianchi", "Costa", "Dubois", "Eriksen", "Fischer",
        "García", "Haddad", "Ivanova", "Jensen", "Kowalski", "López",
        "Müller", "Nakamura", "O'Brien", "Petrov", "Quiroga", "Rossi",
        "Schmidt", "Tanaka", "Ueda", "Vargas", "Walker", "Xu", "Yilmaz",
        "Zhang"]

CATEGORIES = ["Technology", "Business", "Support", "Product", "Outage",
              "Reviews", "Sports", "Politics", "Science", "Culture",
              "Travel", "Food & Drink", "Security", "Open Source", "Mobile",
              "Cloud", "Energy", "Health", "Opinion", "Local News"]

ZONES = ["+0000", "GMT", "-0500", "+0200", "-0800", "+0530", "EST", "+0900"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
          "Oct", "Nov", "Dec"]

HOSTS = ["news.example.com", "blog.example.org", "www.example.net",
         "forum.example.io", "reviews.example.co.uk"]


def ascii_fold(s):
    """Lower-case ASCII local part for an e-mail address."""
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return s.lower().replace("'", "")


def xml_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sentence(r, n_min, n_max):
    """Plain UTF-8 sentence (for titles)."""
    n = r.randint(n_min, n_max)
    out = []
    for _ in range(n):
        x = r.random()
        if x < 0.06:
            out.append(r.choice(ACCENTED)[0])
        else:
            out.append(r.choice(WORDS))
    s = " ".join(out)
    return s[0].upper() + s[1:]


def html_sentence(r, n_min, n_max):
    """A sentence of HTML source: named entities, inline markup, links."""
    n = r.randint(n_min, n_max)
    out = []
    for _ in range(n):
        x = r.random()
        if x < 0.05:
            out.append(r.choice(ACCENTED)[1])
        elif x < 0.08:
            out.append(r.choice(PUNCT_HTML))
        elif x < 0.10:
            out.append("<strong>%s</strong>" % r.choice(WORDS))
        elif x < 0.12:
            out.append("<em>%s</em>" % r.choice(WORDS))
        elif x < 0.135:
            out.append('<a href="https://%s/%s/%d">%s %s</a>' % (
                r.choice(HOSTS), r.choice(WORDS), r.randrange(100000),
                r.choice(WORDS), r.choice(WORDS)))
        elif x < 0.145:
            out.append("&#%d;" % r.choice([8217, 8220, 8221, 233, 8364]))
        else:
            out.append(r.choice(WORDS))
    s = " ".join(out)
    return s[0].upper() + s[1:] + r.choice([".", ".", ".", "!", "?"])


def rfc822(r):
    # 2023-01-01 .. ~2025-12: seconds since then, deterministic.
    day = r.randrange(7)
    d = r.randint(1, 28)
    mon = r.randrange(12)
    year = r.choice([2023, 2024, 2025])
    return "%s, %02d %s %d %02d:%02d:%02d %s" % (
        DAYS[day], d, MONTHS[mon], year, r.randrange(24), r.randrange(60),
        r.randrange(60), r.choice(ZONES))


def item(r, feed_id, i):
    host = r.choice(HOSTS)
    slug = "-".join(r.choice(WORDS) for _ in range(r.randint(2, 4)))
    link = "https://%s/%s/%d/%s" % (host, feed_id, i, slug)
    title = sentence(r, 4, 10)
    if r.random() < 0.15:
        title += " & " + r.choice(WORDS)
    first, last = r.choice(FIRST), r.choice(LAST)
    parts = ["<item>",
             "<title>%s</title>" % xml_escape(title),
             "<link>%s</link>" % link]
    if r.random() < 0.5:
        parts.append('<guid isPermaLink="false">%s-%08d-%04x</guid>' % (
            feed_id, i, r.randrange(65536)))
    else:
        parts.append("<guid>%s</guid>" % link)
    parts.append("<pubDate>%s</pubDate>" % rfc822(r))
    if r.random() < 0.5:
        parts.append("<dc:creator>%s</dc:creator>" % xml_escape(
            "%s %s" % (first, last)))
    else:
        parts.append("<author>%s.%s@example.com (%s %s)</author>" % (
            ascii_fold(first), ascii_fold(last), first, last))
    for c in r.sample(CATEGORIES, r.randint(0, 3)):
        parts.append("<category>%s</category>" % xml_escape(c))
    # <description>: a short HTML summary, escaped the way most feeds do.
    desc = "<p>%s</p>" % html_sentence(r, 8, 16)
    parts.append("<description>%s</description>" % xml_escape(desc))
    # <content:encoded>: longer HTML in CDATA, as WordPress writes it.
    if r.random() < 0.4:
        paras = []
        for _ in range(r.choice([1, 1, 2])):
            if r.random() < 0.15:
                paras.append("<ul>%s</ul>" % "".join(
                    "<li>%s</li>" % html_sentence(r, 3, 6)
                    for _ in range(r.randint(2, 3))))
            else:
                paras.append("<p>%s</p>" % " ".join(
                    html_sentence(r, 6, 14) for _ in range(r.randint(1, 2))))
        if r.random() < 0.2:
            paras.append('<p><img src="https://%s/img/%d.jpg" alt="%s" '
                         'width="640" height="360" /></p>' % (
                             host, r.randrange(10 ** 6), r.choice(WORDS)))
        parts.append("<content:encoded><![CDATA[%s]]></content:encoded>" %
                     "".join(paras))
    if r.random() < 0.3:
        parts.append("<comments>%s#comments</comments>" % link)
    parts.append("</item>\n")
    return "".join(parts)


def write_feed(path, r, feed_id, nitems):
    head = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:atom="http://www.w3.org/2005/Atom">\n'
            "<channel>\n"
            "<title>Bench feed %s &#8212; news &amp; reviews</title>\n"
            "<link>https://news.example.com/%s/</link>\n"
            "<description>Generated for earshot's benchmarks</description>\n"
            "<language>en</language>\n"
            "<lastBuildDate>Mon, 01 Dec 2025 12:00:00 +0000</lastBuildDate>\n"
            % (feed_id, feed_id))
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(head)
        batch = []
        for i in range(nitems):
            batch.append(item(r, feed_id, i))
            if len(batch) == 1000:
                f.write("".join(batch))
                batch = []
        f.write("".join(batch))
        f.write("</channel>\n</rss>\n")
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--feeds", type=int, default=0,
                    help="write this many feeds f0001.xml.. into --out-dir")
    ap.add_argument("--out-dir")
    ap.add_argument("out", nargs="?")
    a = ap.parse_args()
    if a.feeds:
        if not a.out_dir:
            ap.error("--feeds needs --out-dir")
        os.makedirs(a.out_dir, exist_ok=True)
        for k in range(1, a.feeds + 1):
            r = random.Random(a.seed * 1000003 + k)
            write_feed(os.path.join(a.out_dir, "f%04d.xml" % k), r,
                       "f%04d" % k, a.items)
    else:
        if not a.out:
            ap.error("need OUT (or --feeds with --out-dir)")
        write_feed(a.out, random.Random(a.seed), "bench", a.items)
    return 0


if __name__ == "__main__":
    sys.exit(main())
