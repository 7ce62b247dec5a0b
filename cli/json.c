/* json.c - the JSON shapes the command line prints
 *
 * `earshot parse`, `inbox --json` and `show --json` share these writers so
 * a mention looks the same wherever it is printed: other tools read it.
 */
#include <string.h>

#include "cli.h"
#include "earshot/sentiment.h"

void es_json_key_str(struct es_buf *out, const char *key, const char *val)
{
    es_buf_addch(out, '"');
    es_buf_adds(out, key);
    es_buf_adds(out, "\":");
    if (val)
        es_buf_add_json_str(out, val, strlen(val));
    else
        es_buf_adds(out, "null");
}

void es_json_key_time(struct es_buf *out, const char *key, int64_t t)
{
    char tmp[21];
    es_json_key_str(out, key,
                    t == ES_TIME_UNKNOWN ? NULL : es_time_format(t, tmp));
}

/* Writes the fields of @item, comma-separated, with no braces. */
void es_json_item_fields(struct es_buf *out, const struct es_item *item)
{
    es_json_key_str(out, "id", item->external_id);
    es_buf_addch(out, ',');
    es_json_key_str(out, "platform", item->platform);
    es_buf_addch(out, ',');
    es_json_key_str(out, "url", item->url);
    es_buf_addch(out, ',');
    es_json_key_str(out, "title", item->title);
    es_buf_addch(out, ',');
    es_json_key_str(out, "author", item->author);
    es_buf_addch(out, ',');
    es_json_key_str(out, "author_name", item->author_name);
    es_buf_addch(out, ',');
    if (item->author_followers == ES_COUNT_UNKNOWN)
        es_buf_adds(out, "\"author_followers\":null");
    else
        es_buf_addf(out, "\"author_followers\":%lld", item->author_followers);
    es_buf_addch(out, ',');
    es_json_key_time(out, "created_at", item->created_at);
    es_buf_addch(out, ',');
    es_json_key_time(out, "updated_at", item->updated_at);
    es_buf_addch(out, ',');
    es_json_key_str(out, "summary", item->summary);
    es_buf_addch(out, ',');
    es_json_key_str(out, "content", item->content);
    es_buf_addch(out, ',');
    es_json_key_str(out, "text", item->text);
    es_buf_adds(out, ",\"categories\":[");
    for (size_t i = 0; i < item->ncategories; i++) {
        if (i)
            es_buf_addch(out, ',');
        es_buf_add_json_str(out, item->categories[i],
                            strlen(item->categories[i]));
    }
    es_buf_adds(out, "],");
    es_json_key_str(out, "kind", es_item_kind_name(item->kind));
    es_buf_addch(out, ',');
    es_json_key_str(out, "in_reply_to", item->in_reply_to);
    es_buf_addch(out, ',');
    es_json_key_str(out, "thread_root", item->thread_root);
    es_buf_addch(out, ',');
    if (item->rating > 0)
        es_buf_addf(out, "\"rating\":%d", item->rating);
    else
        es_buf_adds(out, "\"rating\":null");
    es_buf_addch(out, ',');
    es_json_key_str(out, "lang", item->lang);
    es_buf_addch(out, ',');
    /* reply_ref is itself JSON when a platform needs more than the id. */
    if (item->reply_ref && (item->reply_ref[0] == '{'))
        es_buf_addf(out, "\"reply_ref\":%s", item->reply_ref);
    else
        es_json_key_str(out, "reply_ref", item->reply_ref);
}

void es_json_item(struct es_buf *out, const struct es_item *item)
{
    es_buf_addch(out, '{');
    es_json_item_fields(out, item);
    es_buf_addch(out, '}');
}

void es_json_mention(struct es_buf *out, const struct es_mention *m)
{
    es_buf_addf(out, "{\"mention_id\":%lld,", (long long)m->id);
    es_json_key_str(out, "source", m->item.source);
    es_buf_addch(out, ',');
    es_json_key_str(out, "state", m->state);
    es_buf_addch(out, ',');
    es_json_key_str(out, "assignee", m->assignee);
    es_buf_addch(out, ',');
    /* Unscored is null, never a made-up 0: see the store's contract. The
     * language is the item's "lang", below. */
    if (m->scored)
        es_buf_addf(out,
                    "\"sentiment\":%.4f,\"sentiment_pos\":%.4f,"
                    "\"sentiment_neu\":%.4f,\"sentiment_neg\":%.4f,"
                    "\"label\":\"%s\",\"low_confidence\":%s,",
                    m->sentiment, m->pos, m->neu, m->neg,
                    es_sentiment_label_name(m->label),
                    m->low_confidence ? "true" : "false");
    else
        es_buf_adds(out, "\"sentiment\":null,\"sentiment_pos\":null,"
                         "\"sentiment_neu\":null,\"sentiment_neg\":null,"
                         "\"label\":null,\"low_confidence\":null,");
    if (m->prioritised) {
        es_buf_addf(out, "\"priority\":%d,\"priority_reasons\":[", m->priority);
        for (size_t i = 0; i < m->nreasons; i++) {
            if (i)
                es_buf_addch(out, ',');
            es_buf_add_json_str(out, m->reasons[i], strlen(m->reasons[i]));
        }
        es_buf_adds(out, "],");
    } else {
        es_buf_adds(out, "\"priority\":null,\"priority_reasons\":null,");
    }
    es_buf_addf(out, "\"edited\":%s,", m->edited ? "true" : "false");
    es_json_key_time(out, "first_seen", m->first_seen);
    es_buf_addch(out, ',');
    es_json_key_time(out, "fetched_at", m->item.fetched_at);
    es_buf_addch(out, ',');
    es_json_item_fields(out, &m->item);
    es_buf_addch(out, '}');
}
