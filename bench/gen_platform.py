#!/usr/bin/env python3
"""gen_platform.py - deterministic platform API responses for bench/collectors

Writes responses in each platform's documented shape (the same field names
and nesting as the official API references), filled with the same kind of
text as gen_feed.py: several languages' words, emoji, HTML where the
platform sends HTML, authors with follower counts. The output depends only
on the arguments, so a bench can cache it.

  gen_platform.py parse --posts 20000 --out-dir DIR
      DIR/<kind>.json: one large response per kind, for parse throughput
  gen_platform.py poll --sources 1000 --posts 20 --out-dir DIR
      DIR/sNNNN/<the API path the kind requests>: one page per source, for
      es-fakeserver, plus DIR/sources.conf with one [source] per directory
      (base_url = @BASE@/sNNNN; the bench replaces @BASE@)
"""

import argparse
import json
import os
import random

from gen_feed import ACCENTED, FIRST, WORDS

EMOJI = ["\U0001F600", "\U0001F44D", "\U0001F621", "\U0001F389", "\u2764\ufe0f",
         "\U0001F622", "\U0001F680", "\U0001F525"]
PHRASES = ["still waiting for a refund", "thanks for the quick fix",
           "the app keeps crashing", "love the new update", "no response from support",
           "charged twice this month", "works great", "worst support ever",
           "can't wait for the launch", "is it down for anyone else?"]
BASE_TIME = 1763632800  # 2025-11-20T10:00:00Z


def iso(t, frac=True):
    import time
    s = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))
    return s + (".000Z" if frac else "Z")


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.n = 0

    def sentence(self):
        r = self.r
        words = [r.choice(WORDS) for _ in range(r.randint(8, 30))]
        if r.random() < 0.3:
            words.insert(r.randrange(len(words)), r.choice(ACCENTED)[0])
        if r.random() < 0.5:
            words.insert(r.randrange(len(words)), r.choice(PHRASES))
        if r.random() < 0.4:
            words.append(r.choice(EMOJI))
        words.insert(r.randrange(len(words)), "acme")
        return " ".join(words).capitalize() + r.choice([".", "!", "?", ""])

    def html(self, text):
        return "<p>" + text.replace("&", "&amp;").replace("<", "&lt;") + \
            ' <a href="https://tags.example/tags/acme" class="mention hashtag" ' \
            'rel="tag">#<span>acme</span></a></p>'

    def user(self):
        r = self.r
        name = r.choice(FIRST)
        handle = "%s%d" % (name.lower().encode("ascii", "ignore").decode() or "user",
                           r.randint(1, 99999))
        return handle, name, r.choice([3, 40, 512, 2048, 12000, 250000])

    def next_id(self, base):
        self.n += 1
        return base + self.n


def mastodon_status(g, i):
    handle, name, followers = g.user()
    sid = str(g.next_id(109000000000000000))
    text = g.sentence()
    return {
        "id": sid, "created_at": iso(BASE_TIME - i * 37), "in_reply_to_id": None,
        "in_reply_to_account_id": None, "sensitive": False, "spoiler_text": "",
        "visibility": "public", "language": "en",
        "uri": "https://m.example/users/%s/statuses/%s" % (handle, sid),
        "url": "https://m.example/@%s/%s" % (handle, sid),
        "replies_count": 0, "reblogs_count": 1, "favourites_count": 2, "edited_at": None,
        "content": g.html(text), "reblog": None, "application": None,
        "account": {"id": str(g.next_id(100000)), "username": handle, "acct": handle,
                    "display_name": name, "locked": False, "bot": False,
                    "created_at": "2020-01-01T00:00:00.000Z", "note": "",
                    "url": "https://m.example/@" + handle, "avatar": "", "header": "",
                    "followers_count": followers, "following_count": 10,
                    "statuses_count": 100, "emojis": [], "fields": []},
        "media_attachments": [], "mentions": [],
        "tags": [{"name": "acme", "url": "https://m.example/tags/acme"}],
        "emojis": [], "card": None, "poll": None,
    }


def mastodon(g, n):
    return [mastodon_status(g, i) for i in range(n)]


def hackernews(g, n):
    hits = []
    for i in range(n):
        handle, _, _ = g.user()
        oid = g.next_id(40000000)
        story = i % 4 == 0
        t = BASE_TIME - i * 41
        hits.append({
            "created_at": iso(t), "title": ("Acme: " + g.sentence())[:80] if story else None,
            "url": "https://blog.example/%d" % oid if story else None,
            "author": handle, "points": 3 if story else None,
            "story_text": None,
            "comment_text": None if story else g.html(g.sentence()),
            "num_comments": 0 if story else None,
            "story_id": None if story else oid - 1,
            "story_title": None if story else "Acme raises prices",
            "parent_id": None if story else oid - 1,
            "created_at_i": t,
            "_tags": ["story" if story else "comment", "author_" + handle],
            "objectID": str(oid),
        })
    return {"hits": hits, "nbHits": n, "page": 0, "nbPages": 1, "hitsPerPage": n,
            "exhaustiveNbHits": True, "query": "acme", "params": "query=acme"}


def reddit(g, n, comments=False):
    children = []
    for i in range(n):
        handle, _, _ = g.user()
        rid = format(g.next_id(0x1000000), "x")
        t = float(BASE_TIME - i * 53)
        if comments:
            data = {"subreddit": "acme", "id": rid, "name": "t1_" + rid,
                    "author": handle, "body": g.sentence(),
                    "link_id": "t3_zz%s" % rid, "parent_id": "t3_zz%s" % rid,
                    "permalink": "/r/acme/comments/zz%s/x/%s/" % (rid, rid),
                    "created_utc": t, "score": 1, "subreddit_name_prefixed": "r/acme"}
            children.append({"kind": "t1", "data": data})
        else:
            data = {"subreddit": "acme", "selftext": g.sentence(), "title": g.sentence()[:90],
                    "name": "t3_" + rid, "id": rid, "author": handle,
                    "author_fullname": "t2_" + rid,
                    "permalink": "/r/acme/comments/%s/title/" % rid,
                    "url": "https://www.reddit.com/r/acme/comments/%s/title/" % rid,
                    "created_utc": t, "num_comments": 0, "score": 1, "is_self": True,
                    "subreddit_name_prefixed": "r/acme"}
            children.append({"kind": "t3", "data": data})
    return {"kind": "Listing", "data": {"after": None, "dist": n, "modhash": "",
                                         "geo_filter": "", "children": children,
                                         "before": None}}


def x(g, n):
    data, users = [], []
    for i in range(n):
        handle, name, followers = g.user()
        uid = str(g.next_id(900000))
        tid = str(g.next_id(1860000000000000000))
        data.append({"id": tid, "text": g.sentence(), "author_id": uid,
                     "created_at": iso(BASE_TIME - i * 29), "conversation_id": tid,
                     "lang": "en", "edit_history_tweet_ids": [tid],
                     "public_metrics": {"retweet_count": 0, "reply_count": 0,
                                        "like_count": 1, "quote_count": 0}})
        users.append({"id": uid, "name": name, "username": handle,
                      "public_metrics": {"followers_count": followers,
                                         "following_count": 1, "tweet_count": 9,
                                         "listed_count": 0}})
    return {"data": data, "includes": {"users": users},
            "meta": {"newest_id": data[0]["id"] if data else None,
                     "oldest_id": data[-1]["id"] if data else None,
                     "result_count": n}}


def bluesky(g, n):
    posts = []
    for i in range(n):
        handle, name, _ = g.user()
        did = "did:plc:%024x" % g.next_id(0)
        rkey = "3l%011x" % g.next_id(0)
        t = iso(BASE_TIME - i * 31)
        posts.append({
            "uri": "at://%s/app.bsky.feed.post/%s" % (did, rkey),
            "cid": "bafyreia%052x" % g.next_id(0),
            "author": {"did": did, "handle": handle + ".bsky.social",
                       "displayName": name, "labels": []},
            "record": {"$type": "app.bsky.feed.post", "text": g.sentence(),
                       "createdAt": t, "langs": ["en"]},
            "replyCount": 0, "repostCount": 0, "likeCount": 1, "quoteCount": 0,
            "indexedAt": t, "labels": [],
        })
    return {"posts": posts}


def youtube(g, n):
    items = []
    for i in range(n):
        handle, _, _ = g.user()
        cid = "Ugx%021x" % g.next_id(0)
        text = g.sentence()
        t = iso(BASE_TIME - i * 47, frac=False)
        snippet = {"channelId": "UCacme", "videoId": "dQw4w9WgXcQ",
                   "textDisplay": text.replace("&", "&amp;"), "textOriginal": text,
                   "authorDisplayName": "@" + handle,
                   "authorProfileImageUrl": "https://yt3.example/a.jpg",
                   "authorChannelUrl": "http://www.youtube.com/@" + handle,
                   "authorChannelId": {"value": "UC" + handle}, "canRate": True,
                   "viewerRating": "none", "likeCount": 0, "publishedAt": t,
                   "updatedAt": t}
        items.append({"kind": "youtube#commentThread", "etag": "e%d" % i, "id": cid,
                      "snippet": {"channelId": "UCacme", "videoId": "dQw4w9WgXcQ",
                                  "topLevelComment": {"kind": "youtube#comment",
                                                      "etag": "c%d" % i, "id": cid,
                                                      "snippet": snippet},
                                  "canReply": True, "totalReplyCount": 0,
                                  "isPublic": True}})
    return {"kind": "youtube#commentThreadListResponse", "etag": "page",
            "pageInfo": {"totalResults": n, "resultsPerPage": n}, "items": items}


def github(g, n):
    items = []
    for i in range(n):
        handle, _, _ = g.user()
        num = g.next_id(0)
        items.append({"url": "https://api.github.com/repos/acme/app/issues/%d" % num,
                      "repository_url": "https://api.github.com/repos/acme/app",
                      "html_url": "https://github.com/acme/app/issues/%d" % num,
                      "id": g.next_id(2000000000), "node_id": "I_%d" % num,
                      "number": num, "title": g.sentence()[:80],
                      "user": {"login": handle, "id": num, "type": "User"},
                      "labels": [], "state": "open", "locked": False, "comments": 0,
                      "created_at": iso(BASE_TIME - i * 61, frac=False),
                      "updated_at": iso(BASE_TIME - i * 61, frac=False),
                      "closed_at": None, "author_association": "NONE",
                      "body": g.sentence(), "score": 1.0})
    return {"total_count": n, "incomplete_results": False, "items": items}


def appstore(g, n):
    entries = []
    for i in range(n):
        handle, _, _ = g.user()
        rid = str(g.next_id(10000000000))
        entries.append({
            "author": {"uri": {"label": "https://itunes.apple.com/us/reviews/id%s" % rid},
                       "name": {"label": handle}, "label": ""},
            "updated": {"label": "2025-11-20T02:%02d:00-07:00" % (i % 60)},
            "im:rating": {"label": str(g.r.randint(1, 5))},
            "im:version": {"label": "4.%d" % (i % 9)},
            "id": {"label": rid}, "title": {"label": g.sentence()[:60]},
            "content": {"label": g.sentence(), "attributes": {"type": "text"}},
            "link": {"attributes": {"rel": "related",
                                    "href": "https://itunes.apple.com/us/review?id=284882215&type=Purple%20Software"}},
            "im:voteSum": {"label": "0"},
            "im:contentType": {"attributes": {"term": "Application", "label": "Application"}},
            "im:voteCount": {"label": "0"}})
    return {"feed": {"author": {"name": {"label": "iTunes Store"},
                                "uri": {"label": "http://www.apple.com/itunes/"}},
                     "entry": entries,
                     "updated": {"label": "2025-11-20T03:00:00-07:00"},
                     "rights": {"label": "Copyright 2008 Apple Inc."},
                     "title": {"label": "iTunes Store: Customer Reviews"},
                     "icon": {"label": "http://itunes.apple.com/favicon.ico"},
                     "link": [{"attributes": {"rel": "alternate", "type": "text/html",
                                              "href": "https://apps.apple.com/WebObjects/MZStore.woa/wa/viewGrouping?cc=us&id=1"}}],
                     "id": {"label": "https://mzstoreservices-int-st.itunes.apple.com/us/rss/customerreviews/id=284882215/sortby=mostrecent/json"}}}


def googleplay(g, n):
    reviews = []
    for i in range(n):
        handle, name, _ = g.user()
        reviews.append({"reviewId": "gp:AOqpTO%020x" % g.next_id(0), "authorName": name,
                        "comments": [{"userComment": {
                            "text": "\t" + g.sentence(),
                            "lastModified": {"seconds": str(BASE_TIME - i * 71),
                                             "nanos": 0},
                            "starRating": g.r.randint(1, 5), "reviewerLanguage": "en",
                            "device": "a10", "androidOsVersion": 33,
                            "appVersionCode": 42, "appVersionName": "4.2.0"}}]})
    return {"reviews": reviews, "tokenPagination": {}}


def jsonl(g, n):
    lines = []
    for i in range(n):
        handle, name, followers = g.user()
        lines.append(json.dumps({"id": "ext-%d" % g.next_id(0), "platform": "forum",
                                 "url": "https://forum.example/t/%d" % i,
                                 "author": handle, "author_name": name,
                                 "author_followers": followers,
                                 "created_at": iso(BASE_TIME - i * 13, frac=False),
                                 "text": g.sentence(), "kind": "post"},
                                ensure_ascii=False))
    return "\n".join(lines) + "\n"


PARSE_KINDS = {
    "mastodon": mastodon, "hackernews": hackernews, "reddit": reddit, "x": x,
    "bluesky": bluesky, "youtube": youtube, "github": github,
    "appstore": appstore, "googleplay": googleplay, "jsonl": jsonl,
}

# The poll mix: kind, the path its collector requests, the generator, and
# the keys its [source] section needs. Each page says it is the last one.
POLL_KINDS = [
    ("mastodon", ["api/v1/timelines/tag/acme"], lambda g, n: [mastodon(g, n)],
     "tag = acme\n"),
    ("hackernews", ["api/v1/search_by_date"], lambda g, n: [hackernews(g, n)],
     "query = acme\n"),
    ("reddit", ["r/acme/new.json", "r/acme/comments.json"],
     lambda g, n: [reddit(g, n // 2), reddit(g, n - n // 2, comments=True)],
     "subreddit = acme\n"),
    ("x", ["2/tweets/search/recent"], lambda g, n: [x(g, n)],
     "query = acme\ntoken = bench-token\n"),
    ("bluesky", ["xrpc/app.bsky.feed.searchPosts"], lambda g, n: [bluesky(g, n)],
     "query = acme\n"),
]


def write(path, body):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(body if isinstance(body, str) else json.dumps(body, ensure_ascii=False))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["parse", "poll"])
    ap.add_argument("--posts", type=int, default=20)
    ap.add_argument("--sources", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--out-dir", required=True)
    a = ap.parse_args()
    g = Gen(a.seed)
    if a.mode == "parse":
        for kind, fn in PARSE_KINDS.items():
            write(os.path.join(a.out_dir, kind + ".json"), fn(g, a.posts))
        return
    conf = []
    for k in range(1, a.sources + 1):
        kind, paths, fn, keys = POLL_KINDS[(k - 1) % len(POLL_KINDS)]
        name = "s%04d" % k
        for path, body in zip(paths, fn(g, a.posts)):
            write(os.path.join(a.out_dir, name, path), body)
        conf.append('[source "%s"]\ntype = %s\nbase_url = @BASE@/%s\n%scontext = no\n'
                    % (name, kind, name, keys))
    write(os.path.join(a.out_dir, "sources.conf"), "\n".join(conf))


if __name__ == "__main__":
    main()
