/* fixtures.c - inboxes, mentions, temporary folders and signatures for tests
 *
 * Shared by the test binaries so that each writes down only what is
 * particular to it. The helpers reach inside the inbox (inbox/store.h)
 * where a test needs a row that no public call writes as such, and use
 * cmocka's asserts, so they only run inside a cmocka test.
 */
#include "fixtures.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cmocka.h needs setjmp.h, stdarg.h and stddef.h first. */
#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <sqlite3.h>

#include "earshot/alloc.h"
#include "earshot/inbox.h"
#include "earshot/item.h"
#include "inbox/store.h"

/* ==== Inboxes and mentions ==== */

struct es_inbox *es_fx_inbox(void)
{
    struct es_inbox *ib = NULL;
    assert_int_equal(es_inbox_open(&ib, ":memory:"), 0);
    return ib;
}

static char *dup_or_null(const char *s)
{
    return s ? es_xstrdup(s) : NULL;
}

int64_t es_fx_put_mention(struct es_inbox *ib, const struct es_fx_mention *m)
{
    static int serial; /* the external ids, in the order of the calls */
    int64_t sid, id;
    struct es_item it;
    struct es_scores sc;

    memset(&sc, 0, sizeof(sc));
    assert_int_equal(es_inbox_source_ensure(ib, m->source, "rss", &sid), 0);
    es_item_init(&it);
    it.external_id = es_xasprintf("m-%d", ++serial);
    it.text = es_xstrdup(m->text ? m->text : "a mention");
    it.author = dup_or_null(m->author);
    it.platform = dup_or_null(m->platform);
    it.lang = dup_or_null(m->lang);
    it.url = dup_or_null(m->url);
    it.created_at = m->created_at;
    sc.sentiment = m->sentiment;
    sc.label = m->label == 'n' ? -1 : m->label == 'p' ? 1 : 0;
    sc.priority = m->priority;
    snprintf(sc.reasons, sizeof(sc.reasons), "[]");
    assert_int_equal(
        es_inbox_put(ib, sid, &it, m->label == 'u' ? NULL : &sc, NULL, &id), 0);
    es_item_release(&it);
    return id;
}

void es_fx_add_tag(struct es_inbox *ib, int64_t id, const char *tag)
{
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(es_inbox__db(ib),
                                        "INSERT INTO mention_tags (mention_id,"
                                        " tag) VALUES (?1, ?2)",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_text(stmt, 2, tag, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
    sqlite3_finalize(stmt);
}

/* ==== Temporary folders ==== */

void es_fx_rmtree(const char *dir)
{
    char *cmd = es_xasprintf("rm -rf '%s'", dir);
    int rc = system(cmd);
    (void)rc; /* what is left in /tmp fails no test */
    free(cmd);
}

void es_fx_write_file(const char *path, const char *fmt, ...)
{
    va_list ap;
    FILE *f = fopen(path, "w");
    if (!f)
        fail_msg("cannot write '%s'", path);
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fclose(f);
}

void es_fx_cli_open(struct es_fx_cli *fx, const char *bin, const char *tag,
                    const char *db_name)
{
    memset(fx, 0, sizeof(*fx));
    snprintf(fx->tmpdir, sizeof(fx->tmpdir), "/tmp/es-%s-XXXXXX", tag);
    assert_non_null(mkdtemp(fx->tmpdir));
    fx->conf = es_xasprintf("%s/test.conf", fx->tmpdir);
    fx->db = es_xasprintf("%s/%s", fx->tmpdir, db_name);
    fx->run.bin = bin;
    fx->run.tmpdir = fx->tmpdir;
    fx->run.config = fx->conf;
    fx->run.db = fx->db;
}

void es_fx_cli_close(struct es_fx_cli *fx)
{
    es_fx_rmtree(fx->tmpdir);
    free(fx->conf);
    free(fx->db);
    memset(fx, 0, sizeof(*fx));
}

int es_fx_cli_teardown(void **state)
{
    es_fx_cli_close(*state);
    return 0;
}

/* ==== Signatures ==== */

void es_fx_hmac_sha256(const char *key, const char *buf, size_t len,
                       char out[72])
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    assert_non_null(mac);
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    assert_non_null(ctx);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                         (char *)(uintptr_t) "SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    unsigned char md[64];
    size_t mdlen = 0;
    assert_int_equal(
        EVP_MAC_init(ctx, (const unsigned char *)key, strlen(key), params), 1);
    assert_int_equal(EVP_MAC_update(ctx, (const unsigned char *)buf, len), 1);
    assert_int_equal(EVP_MAC_final(ctx, md, &mdlen, sizeof(md)), 1);
    assert_int_equal(mdlen, 32);
    strcpy(out, "sha256=");
    for (size_t i = 0; i < mdlen; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
}
