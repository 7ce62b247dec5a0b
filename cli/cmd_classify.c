/* cmd_classify.c - `earshot classify`: one score per line of stdin
 *
 * The sentiment classifier as a filter, for scripts, evaluations and
 * benchmarks: it needs no database and no config, only a lexicon (a
 * config named with --config brings its [classifier] settings). It
 * streams in constant memory, reading and writing in large blocks, and
 * formats the numbers by hand: at a million lines a second, printf would
 * be most of the run.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "earshot/alloc.h"
#include "earshot/config.h"
#include "earshot/error.h"
#include "earshot/sentiment.h"

#define IN_SIZE      (1u << 20) /* a line longer than this is cut here */
#define IN_START     (1u << 16) /* the input buffer, until a line is longer */
#define OUT_SIZE     (1u << 16) /* flushed when less than a line is left */
#define OUT_LINE_MAX 256        /* the longest plain or --json line */

struct out {
    char *buf;
    size_t len;
    int failed; /* a write failed: stop */
};

static void out_flush(struct out *o)
{
    size_t off = 0;
    while (off < o->len && !o->failed) {
        ssize_t n = write(STDOUT_FILENO, o->buf + off, o->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            o->failed = 1;
        else
            off += (size_t)n;
    }
    o->len = 0;
}

/* "00" to "99", two bytes each. */
static const char digit_pairs[] = "0001020304050607080910111213141516171819"
                                  "2021222324252627282930313233343536373839"
                                  "4041424344454647484950515253545556575859"
                                  "6061626364656667686970717273747576777879"
                                  "8081828384858687888990919293949596979899";

/* Writes @v with 4 decimals ("-0.4215", "3.1000") at @p; returns the end.
 * |v| is below 1e9 here (scores and valences). */
static char *put_fixed4(char *p, double v)
{
    /* llround() without the call into libm, a fifth of this function's
     * cost: adding 0.5 to |x| is exact below 2^52, except just below 0.5,
     * where the sum rounds up to 1. */
    double x = v * 10000.0;
    double a = fabs(x);
    long long q;
    if (!(a < 1e15)) {
        q = llround(x); /* out of range or NaN: as before */
        if (q < 0)
            q = -q;
    } else {
        q = a < 0.5 ? 0 : (long long)(a + 0.5);
    }
    if (x < 0 && q)
        *p++ = '-';
    long long ip = q / 10000;
    int frac = (int)(q % 10000);
    if (ip == 0) { /* a score: one digit */
        *p++ = '0';
    } else {
        char tmp[24];
        int n = 0;
        do {
            tmp[n++] = (char)('0' + ip % 10);
            ip /= 10;
        } while (ip);
        while (n)
            *p++ = tmp[--n];
    }
    *p++ = '.';
    memcpy(p, digit_pairs + 2 * (frac / 100), 2);
    memcpy(p + 2, digit_pairs + 2 * (frac % 100), 2);
    return p + 4;
}

static char *put_str(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

/* The --json object of @r, without the closing brace. */
static char *put_json(char *p, const struct es_sentiment *r)
{
    p = put_str(p, "{\"compound\":");
    p = put_fixed4(p, r->compound);
    p = put_str(p, ",\"pos\":");
    p = put_fixed4(p, r->pos);
    p = put_str(p, ",\"neu\":");
    p = put_fixed4(p, r->neu);
    p = put_str(p, ",\"neg\":");
    p = put_fixed4(p, r->neg);
    p = put_str(p, ",\"label\":\"");
    p = put_str(p, es_sentiment_label_name(r->label));
    p = put_str(p, "\",\"lang\":\"");
    p = put_str(p, r->lang); /* [a-z]{2,3}: no escaping needed */
    p = put_str(p, r->low_confidence ? "\",\"low_confidence\":true"
                                     : "\",\"low_confidence\":false");
    return p;
}

/* The --explain fields: every token with its valence, its contribution
 * and the rules that changed it. */
static void add_explain(struct es_buf *b, const char *line,
                        const struct es_sentiment_explain *ex)
{
    char num[32];
    es_buf_adds(b, ",\"sum\":");
    es_buf_add(b, num, (size_t)(put_fixed4(num, ex->sum) - num));
    es_buf_adds(b, ",\"punctuation\":");
    es_buf_add(b, num, (size_t)(put_fixed4(num, ex->punctuation) - num));
    es_buf_adds(b, ",\"tokens\":[");
    for (size_t i = 0; i < ex->n; i++) {
        const struct es_sentiment_token *t = &ex->tokens[i];
        if (i)
            es_buf_addch(b, ',');
        es_buf_adds(b, "{\"text\":");
        es_buf_add_json_str(b, line + t->offset, t->len);
        es_buf_adds(b, ",\"valence\":");
        es_buf_add(b, num, (size_t)(put_fixed4(num, t->valence) - num));
        es_buf_adds(b, ",\"score\":");
        es_buf_add(b, num, (size_t)(put_fixed4(num, t->score) - num));
        es_buf_adds(b, ",\"rules\":[");
        int first = 1;
        for (unsigned bit = 1; bit <= ES_RULE_LAST; bit <<= 1) {
            if (!(t->rules & bit))
                continue;
            if (!first)
                es_buf_addch(b, ',');
            first = 0;
            es_buf_addch(b, '"');
            es_buf_adds(b, es_sentiment_rule_name(bit));
            es_buf_addch(b, '"');
        }
        es_buf_adds(b, "]}");
    }
    es_buf_addch(b, ']');
}

/* Monotonic seconds, for --stats. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct classify {
    const struct es_lexicon *lex;
    int json, explain;
    unsigned long long lines; /* texts scored */
    struct out out;
    struct es_buf xbuf; /* --explain output of one line */
    struct es_sentiment_explain ex;
    size_t in_cap; /* the input buffer's size, IN_START..IN_SIZE */
};

static void classify_line(struct classify *c, const char *line, size_t len)
{
    struct es_sentiment r;
    struct out *o = &c->out;

    if (len && line[len - 1] == '\r')
        len--;
    c->lines++;
    if (c->explain) {
        es_sentiment_explain(c->lex, line, len, &r, &c->ex);
        char head[OUT_LINE_MAX];
        es_buf_reset(&c->xbuf);
        es_buf_add(&c->xbuf, head, (size_t)(put_json(head, &r) - head));
        add_explain(&c->xbuf, line, &c->ex);
        es_buf_adds(&c->xbuf, "}\n");
        if (o->len + c->xbuf.len > OUT_SIZE)
            out_flush(o);
        if (c->xbuf.len > OUT_SIZE) {
            o->len = 0;
            fwrite(c->xbuf.ptr, 1, c->xbuf.len, stdout);
            fflush(stdout);
        } else {
            memcpy(o->buf + o->len, c->xbuf.ptr, c->xbuf.len);
            o->len += c->xbuf.len;
        }
        return;
    }
    es_sentiment_score(c->lex, line, len, &r);
    if (o->len + OUT_LINE_MAX > OUT_SIZE)
        out_flush(o);
    char *p = o->buf + o->len;
    if (c->json) {
        p = put_json(p, &r);
        *p++ = '}';
    } else {
        p = put_fixed4(p, r.compound);
    }
    *p++ = '\n';
    o->len = (size_t)(p - o->buf);
}

/* Reads stdin to the end, scoring each line. The buffer starts small (a
 * megabyte that every run touched cost 256 page faults, a third of the
 * start-up's) and doubles for a longer line, up to IN_SIZE: a line longer
 * than that is scored on its first IN_SIZE bytes and the rest skipped. */
static int classify_stream(struct classify *c)
{
    size_t cap = IN_START;
    char *in = es_xmalloc(cap);
    size_t have = 0;
    int skipping = 0, rc = 0;

    for (;;) {
        ssize_t n = read(STDIN_FILENO, in + have, cap - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = es_cli_fail("cannot read stdin: %s", strerror(errno));
            break;
        }
        if (n == 0) {
            if (have && !skipping)
                classify_line(c, in, have);
            break;
        }
        have += (size_t)n;
        size_t start = 0;
        for (;;) {
            char *nl = memchr(in + start, '\n', have - start);
            if (!nl)
                break;
            size_t end = (size_t)(nl - in);
            if (!skipping)
                classify_line(c, in + start, end - start);
            skipping = 0;
            start = end + 1;
        }
        if (c->out.failed)
            break;
        if (start == 0 && have == cap && cap < IN_SIZE) {
            cap *= 2;
            in = es_xrealloc(in, cap);
            continue;
        }
        if (start == 0 && have == cap) {
            /* One line fills the buffer: score what we have, skip the
             * rest of it. */
            if (!skipping)
                classify_line(c, in, have);
            skipping = 1;
            have = 0;
            continue;
        }
        memmove(in, in + start, have - start);
        have -= start;
    }
    out_flush(&c->out);
    if (c->out.failed && rc == 0)
        rc = es_cli_fail("cannot write the scores: %s", strerror(errno));
    free(in);
    c->in_cap = cap;
    return rc;
}

int cmd_classify(int argc, char **argv, struct es_ctx *ctx)
{
    static const char usage[] =
        "usage: earshot classify [--json] [--explain] [--lexicon FILE]\n"
        "                        [--overlay FILE] [--stats]\n"
        "Reads one text per line on stdin and writes one line per text, in\n"
        "order: the compound sentiment score in [-1, 1] with 4 decimals.\n"
        "  --json         {\"compound\",\"pos\",\"neu\",\"neg\",\"label\",\"lang\",\n"
        "                 \"low_confidence\"} per line\n"
        "  --explain      --json plus every token's valence, contribution\n"
        "                 and the rules that changed it\n"
        "  --lexicon FILE the lexicon (earshot, VADER or AFINN format);\n"
        "                 default DATA_DIR/lexicons/earshot-en.tsv\n"
        "  --overlay FILE entries that add to or override the lexicon\n"
        "  --stats        on stderr: lexicon size, load time and memory,\n"
        "                 texts per second\n"
        "With --config FILE (or $EARSHOT_CONFIG), the lexicon and the\n"
        "brand overlays of its [classifier] are used, and the names of\n"
        "its [priority] brands rate nothing, as when mentions are\n"
        "stored; --lexicon replaces that lexicon and --overlay adds to\n"
        "them. Without a config, none is read.\n"
        "Text that is not English is scored on its emoji and emoticons\n"
        "only and flagged low_confidence. Needs no database.\n"
        "A loaded lexicon is kept as an image in $EARSHOT_CACHE_DIR\n"
        "(else $XDG_CACHE_HOME/earshot, else ~/.cache/earshot) for the\n"
        "next run; EARSHOT_CACHE_DIR= (empty) turns that off.\n";
    const char *json = NULL, *explain = NULL, *lexicon = NULL, *overlay = NULL,
               *stats = NULL;
    const struct es_opt opts[] = {
        { "json", 0, &json },       { "explain", 0, &explain },
        { "lexicon", 1, &lexicon }, { "overlay", 1, &overlay },
        { "stats", 0, &stats },     { NULL, 0, NULL },
    };
    double t0, t1, t2;
    const char *args[1];
    int nargs;
    struct es_lexicon *lex = NULL;
    char *path = NULL;
    struct classify c = { 0 };

    int rc = es_cli_parse_opts(argc, argv, opts, args, 0, &nargs, usage);
    if (rc)
        return rc < 0 ? ES_EXIT_OK : rc;
    const struct es_config_classifier *cc = NULL;
    const struct es_config_priority *cp = NULL;
#ifndef ES_CLI_FRONT
    /* The front (cli/front.c) hands a classify with a named config to
     * earshot-core, the executable that reads configs. */
    if (es_cli_config_given(ctx)) {
        struct es_config *cfg = es_ctx_config(ctx);
        if (!cfg)
            return ES_EXIT_FAIL;
        cc = es_config_classifier(cfg);
        cp = es_config_priority(cfg);
        if (!lexicon && cc->lexicon)
            lexicon = cc->lexicon;
    }
#endif
    if (!lexicon) {
        const char *dd = es_ctx_data_dir(ctx);
        if (!dd)
            return es_cli_fail("no lexicon found: pass --lexicon FILE or "
                               "--data-dir DIR");
        lexicon = path = es_xasprintf("%s/lexicons/earshot-en.tsv", dd);
    }
    t0 = now_s();
    if (es_lexicon_load(&lex, lexicon) < 0) {
        rc = es_cli_fail("%s", es_error_last());
        goto done;
    }
    /* Valid, but surely not what was meant: nothing has a valence. */
    if (es_lexicon_size(lex) == 0)
        fprintf(stderr,
                "warning: lexicon '%.*s' has no entries: texts will score "
                "0\n",
                ES_CLIP(lexicon));
    for (size_t i = 0; cc && i < cc->noverlays; i++) {
        if (es_lexicon_overlay(lex, cc->overlays[i]) < 0) {
            rc = es_cli_fail("%s", es_error_last());
            goto done;
        }
    }
    if (overlay && es_lexicon_overlay(lex, overlay) < 0) {
        rc = es_cli_fail("%s", es_error_last());
        goto done;
    }
    /* As when mentions are stored: the brand's names rate nothing. */
    if (cp)
        es_lexicon_add_names(lex, cp->brands, cp->nbrands);
    t1 = now_s();
    c.lex = lex;
    c.json = json != NULL;
    c.explain = explain != NULL;
    c.out.buf = es_xmalloc(OUT_SIZE);
    es_buf_init(&c.xbuf);
    rc = classify_stream(&c);
    t2 = now_s();
    if (stats) {
        static const char *const formats[] = { "earshot", "VADER", "AFINN" };
        fprintf(stderr,
                "lexicon: %zu terms (%s format%s), loaded in %.2f ms, "
                "%.2f MiB; buffers %.2f MiB\n"
                "classified %llu texts in %.3f s: %.0f texts/s\n",
                es_lexicon_size(lex), formats[es_lexicon_format_of(lex)],
                es_lexicon_from_cache(lex) ? ", cached image" : "",
                (t1 - t0) * 1e3,
                (double)es_lexicon_bytes(lex) / (1024.0 * 1024.0),
                (double)(c.in_cap + OUT_SIZE) / (1024.0 * 1024.0), c.lines,
                t2 - t1, t2 > t1 ? (double)c.lines / (t2 - t1) : 0.0);
    }
    free(c.out.buf);
    es_buf_release(&c.xbuf);
    es_sentiment_explain_release(&c.ex);
done:
    es_lexicon_free(lex);
    free(path);
    return rc;
}
