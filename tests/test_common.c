/* test_common.c - the shared helpers: es_buf, UTF-8, dates
 *
 * Everything else builds on these, so they are pinned down here: buffer
 * growth and ownership, UTF-8 decoding and repair, and the date parser
 * with every form feeds and APIs are known to publish.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* cmocka.h uses jmp_buf, va_list and size_t without including them. */
#include <cmocka.h>

#include "earshot/alloc.h"
#include "earshot/buf.h"
#include "earshot/error.h"
#include "earshot/item.h"

/* ==== es_buf ==== */

static void test_buf_init_is_empty_string(void **state)
{
    (void)state;
    struct es_buf b = ES_BUF_INIT;
    assert_non_null(b.ptr);
    assert_string_equal(b.ptr, "");
    assert_int_equal(b.len, 0);
    assert_int_equal(b.alloc, 0);
    es_buf_release(&b); /* nothing allocated: must not free the static */
    es_buf_init(&b);
    assert_string_equal(b.ptr, "");
}

static void test_buf_add_grows_and_terminates(void **state)
{
    (void)state;
    struct es_buf b = ES_BUF_INIT;
    es_buf_adds(&b, "hello");
    es_buf_addch(&b, ' ');
    es_buf_add(&b, "world!!!", 5);
    assert_string_equal(b.ptr, "hello world");
    assert_int_equal(b.len, 11);
    assert_true(b.alloc > b.len);
    /* Large appends keep the content. */
    for (int i = 0; i < 10000; i++)
        es_buf_addch(&b, 'x');
    assert_int_equal(b.len, 11 + 10000);
    assert_int_equal(b.ptr[b.len], '\0');
    assert_memory_equal(b.ptr, "hello world", 11);
    es_buf_release(&b);
    assert_int_equal(b.len, 0);
}

static void test_buf_addf(void **state)
{
    (void)state;
    struct es_buf b = ES_BUF_INIT;
    es_buf_addf(&b, "%s=%d", "n", 42);
    es_buf_addf(&b, ";%05.1f", 3.14159);
    assert_string_equal(b.ptr, "n=42;003.1");
    es_buf_release(&b);
}

static void test_buf_reset_truncate_detach(void **state)
{
    (void)state;
    struct es_buf b = ES_BUF_INIT;
    es_buf_adds(&b, "abcdef");
    size_t alloc = b.alloc;
    es_buf_truncate(&b, 3);
    assert_string_equal(b.ptr, "abc");
    es_buf_truncate(&b, 10); /* longer than the content: no-op */
    assert_string_equal(b.ptr, "abc");
    es_buf_reset(&b);
    assert_string_equal(b.ptr, "");
    assert_int_equal(b.alloc, alloc); /* allocation kept */
    es_buf_adds(&b, "xyz");
    char *s = es_buf_detach(&b);
    assert_string_equal(s, "xyz");
    assert_string_equal(b.ptr, "");
    assert_int_equal(b.alloc, 0);
    free(s);
    /* Detaching an empty buffer still gives a string to free. */
    s = es_buf_detach(&b);
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
}

static void test_buf_add_utf8(void **state)
{
    (void)state;
    struct es_buf b = ES_BUF_INIT;
    es_buf_add_utf8(&b, 'A');
    es_buf_add_utf8(&b, 0xE9);     /* é */
    es_buf_add_utf8(&b, 0x20AC);   /* € */
    es_buf_add_utf8(&b, 0x1F600);  /* 😀 */
    es_buf_add_utf8(&b, 0xD800);   /* surrogate: U+FFFD */
    es_buf_add_utf8(&b, 0x110000); /* out of range: U+FFFD */
    es_buf_add_utf8(&b, 0);        /* NUL would cut the string */
    assert_string_equal(b.ptr, "A\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"
                               "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    es_buf_release(&b);
}

static void test_buf_add_valid_utf8(void **state)
{
    (void)state;
    struct es_buf b = ES_BUF_INIT;
    const char in[] = "ok \xC3\xA9 bad \xFF cut \xC3";
    es_buf_add_valid_utf8(&b, in, sizeof(in) - 1);
    assert_string_equal(b.ptr, "ok \xC3\xA9 bad \xEF\xBF\xBD cut \xEF\xBF\xBD");
    es_buf_release(&b);
}

static void test_buf_add_json_str(void **state)
{
    (void)state;
    struct es_buf b = ES_BUF_INIT;
    const char in[] = "a\"b\\c\n\t\x01\xC3\xA9\xFF";
    es_buf_add_json_str(&b, in, sizeof(in) - 1);
    assert_string_equal(b.ptr,
                        "\"a\\\"b\\\\c\\n\\t\\u0001\xC3\xA9\xEF\xBF\xBD\"");
    es_buf_release(&b);
}

/* ==== UTF-8 ==== */

static void test_utf8_decode_valid(void **state)
{
    (void)state;
    unsigned long cp;
    assert_int_equal(es_utf8_decode("A", 1, &cp), 1);
    assert_int_equal(cp, 'A');
    assert_int_equal(es_utf8_decode("\xC3\xA9", 2, &cp), 2);
    assert_int_equal(cp, 0xE9);
    assert_int_equal(es_utf8_decode("\xE2\x82\xAC", 3, &cp), 3);
    assert_int_equal(cp, 0x20AC);
    assert_int_equal(es_utf8_decode("\xF0\x9F\x98\x80", 4, &cp), 4);
    assert_int_equal(cp, 0x1F600);
    assert_int_equal(es_utf8_decode("\xF4\x8F\xBF\xBF", 4, &cp), 4);
    assert_int_equal(cp, 0x10FFFF);
}

static void test_utf8_decode_invalid(void **state)
{
    (void)state;
    unsigned long cp;
    assert_int_equal(es_utf8_decode("\x80", 1, &cp), 0);         /* lone tail */
    assert_int_equal(es_utf8_decode("\xC0\xAF", 2, &cp), 0);     /* overlong */
    assert_int_equal(es_utf8_decode("\xE0\x80\xAF", 3, &cp), 0); /* overlong */
    assert_int_equal(es_utf8_decode("\xED\xA0\x80", 3, &cp), 0); /* surrogate */
    assert_int_equal(es_utf8_decode("\xF4\x90\x80\x80", 4, &cp), 0); /* > max */
    assert_int_equal(es_utf8_decode("\xC3", 1, &cp), 0);     /* truncated */
    assert_int_equal(es_utf8_decode("\xE2\x82", 2, &cp), 0); /* truncated */
    assert_int_equal(es_utf8_decode("\xC3\x41", 2, &cp), 0); /* bad tail */
    assert_int_equal(es_utf8_decode("\xFF", 1, &cp), 0);
}

static void test_utf8_scrub(void **state)
{
    (void)state;
    char cut[] =
        "root element 'fee\xE4\xA1\x88\xE4\xA1'"; /* cut mid-character */
    es_utf8_scrub(cut);
    assert_string_equal(cut, "root element 'fee\xE4\xA1\x88?"
                             "?'");
    char bad[] = "a\xFF\xC0\xAF b \xED\xA0\x80 \xC3\xA9";
    es_utf8_scrub(bad);
    assert_string_equal(bad, "a??? b ??? \xC3\xA9");
    assert_int_equal(es_utf8_invalid_at("ab\xC3\xA9\xFFz", 6), 4);
    assert_int_equal(es_utf8_invalid_at("abc", 3), 3);
    assert_int_equal(es_utf8_invalid_at("\xE2\x82", 2), 0); /* cut */
    assert_int_equal(es_utf8_invalid_at("", 0), 0);
    char ok[] = "caf\xC3\xA9 \xF0\x9F\x98\x80";
    es_utf8_scrub(ok);
    assert_string_equal(ok, "caf\xC3\xA9 \xF0\x9F\x98\x80");
}

/* An error message quotes inputs and is cut to its buffer: it stays valid
 * UTF-8 whatever it quoted. */
static void test_error_message_is_valid_utf8(void **state)
{
    (void)state;
    char quoted[2048];
    memset(quoted, 0, sizeof(quoted));
    for (size_t i = 0; i + 3 < sizeof(quoted); i += 3)
        memcpy(quoted + i, "\xE2\x82\xAC", 3); /* euro signs, cut anywhere */
    for (int pad = 0; pad < 3; pad++) {
        es_error_set(ES_EINVALID, "%.*sbad \xFF byte: %s", pad, "xx", quoted);
        const char *m = es_error_last();
        size_t len = strlen(m);
        assert_true(len > 1000);
        assert_int_equal(es_utf8_invalid_at(m, len), len);
        assert_non_null(strstr(m, "bad ? byte"));
    }
}

/* ==== Dates ==== */

#define T_2024_05_01_12 ((int64_t)1714564800) /* 2024-05-01T12:00:00Z */

static void assert_date(const char *s, int64_t want)
{
    int64_t t = 0;
    int rc = es_time_parse(s, &t);
    if (rc != 0)
        fail_msg("es_time_parse(\"%s\") failed: %s", s, es_error_last());
    if (t != want) {
        char a[21], b[21];
        fail_msg("es_time_parse(\"%s\") = %s, want %s", s, es_time_format(t, a),
                 es_time_format(want, b));
    }
}

/* assert_date() with the answer written as "2024-05-01T12:00:00Z". */
static void assert_date_is(const char *s, const char *want)
{
    int64_t w;
    assert_int_equal(es_time_parse(want, &w), 0);
    assert_date(s, w);
}

static void assert_bad_date(const char *s)
{
    int64_t t = 0;
    if (es_time_parse(s, &t) != ES_EINVALID)
        fail_msg("es_time_parse(\"%s\") accepted a bad date", s);
}

static void test_time_rfc822_zones(void **state)
{
    (void)state;
    const int64_t t = T_2024_05_01_12;
    assert_date("Wed, 01 May 2024 12:00:00 GMT", t);
    assert_date("Wed, 01 May 2024 12:00:00 UT", t);
    assert_date("Wed, 01 May 2024 12:00:00 UTC", t);
    assert_date("Wed, 01 May 2024 12:00:00 Z", t);
    assert_date("Wed, 01 May 2024 12:00:00 +0000", t);
    assert_date("Wed, 01 May 2024 12:00:00 -0000", t);
    assert_date("Wed, 01 May 2024 07:00:00 EST", t);
    assert_date("Wed, 01 May 2024 08:00:00 EDT", t);
    assert_date("Wed, 01 May 2024 06:00:00 CST", t);
    assert_date("Wed, 01 May 2024 07:00:00 CDT", t);
    assert_date("Wed, 01 May 2024 05:00:00 MST", t);
    assert_date("Wed, 01 May 2024 06:00:00 MDT", t);
    assert_date("Wed, 01 May 2024 04:00:00 PST", t);
    assert_date("Wed, 01 May 2024 05:00:00 PDT", t);
    assert_date("Wed, 01 May 2024 14:00:00 +0200", t);
    assert_date("Wed, 01 May 2024 17:30:00 +0530", t);
    assert_date("Wed, 01 May 2024 06:30:00 -0530", t);
    assert_date("Wed, 01 May 2024 06:30:00 -05:30", t);
    assert_date("Wed, 01 May 2024 14:00:00 +02:00", t);
    assert_date("Wed, 01 May 2024 14:00:00 GMT+0200", t);
    /* RFC 822's military zones, with the signs RFC 822 gives them. */
    assert_date("Wed, 01 May 2024 11:00:00 A", t);
    assert_date("Wed, 01 May 2024 00:00:00 M", t);
    assert_date("Wed, 01 May 2024 13:00:00 N", t);
    assert_date("Thu, 02 May 2024 00:00:00 Y", t);
    assert_date("Wed, 01 May 2024 12:00:00 z", t);
}

static void test_time_rfc822_variants(void **state)
{
    (void)state;
    const int64_t t = T_2024_05_01_12;
    assert_date("01 May 2024 12:00:00 GMT", t);     /* no weekday */
    assert_date("Wed, 1 May 2024 12:00:00 GMT", t); /* one-digit day */
    assert_date("Wed, 01 May 24 12:00:00 GMT", t);  /* two-digit year */
    assert_date("Wed, 01 May 2024 12:00 GMT", t);   /* no seconds */
    assert_date("Wed 01 May 2024 12:00:00 GMT", t); /* no comma */
    assert_date("Wednesday, 01 May 2024 12:00:00 GMT", t);
    assert_date("wed, 01 may 2024 12:00:00 gmt", t); /* lower case */
    assert_date("Wed, 01 May 2024 12:00:00", t);     /* no zone: UTC */
    assert_date("  Wed, 01 May 2024 12:00:00 GMT \n", t);
    assert_date("Wed, 01 May 2024 12:00:00 +0000 (UTC)", t);
    assert_date("Wed, 01 Sept 2024 12:00:00 GMT", 1725192000);
    assert_date("Wed, 01 September 2024 12:00:00 GMT", 1725192000);
    assert_date("Wed, 01 May 2024", T_2024_05_01_12 - 12 * 3600);
    /* RFC 850 */
    assert_date("Wednesday, 01-May-24 12:00:00 GMT", t);
    assert_date("Sunday, 06-Nov-94 08:49:37 GMT", 784111777);
    /* Two-digit years: 00-49 are 20xx, 50-99 19xx (RFC 2822 4.3). */
    assert_date("Sun, 06 Nov 94 08:49:37 GMT", 784111777);
    assert_date("Sat, 01 Jan 00 00:00:00 GMT", 946684800);
    /* asctime and `date` */
    assert_date("Wed May  1 12:00:00 2024", t);
    assert_date("Sun Nov  6 08:49:37 1994", 784111777);
    assert_date("Wed May 1 12:00:00 UTC 2024", t);
    assert_date("Wed May 1 14:00:00 CEST 2024", t);
    /* What some generators write instead. */
    assert_date("May 1, 2024 12:00:00", t);
    assert_date("May 1, 2024 12:00 PM", t);
    assert_date("May 1, 2024 12:00 AM", t - 12 * 3600);
}

static void test_time_iso8601(void **state)
{
    (void)state;
    const int64_t t = T_2024_05_01_12;
    assert_date("2024-05-01T12:00:00Z", t);
    assert_date("2024-05-01T12:00:00z", t);
    assert_date("2024-05-01t12:00:00Z", t);
    assert_date("2024-05-01T12:00:00+00:00", t);
    assert_date("2024-05-01T14:00:00+02:00", t);
    assert_date("2024-05-01T14:00:00+0200", t);
    assert_date("2024-05-01T14:00:00+02", t);
    assert_date("2024-05-01T07:00:00-05:00", t);
    assert_date("2024-05-01T12:00:00.123Z", t);
    assert_date("2024-05-01T12:00:00,5Z", t);
    assert_date("2024-05-01T12:00:00.123456789+00:00", t);
    assert_date("2024-05-01T12:00Z", t); /* no seconds */
    assert_date("2024-05-01T13:00+01:00", t);
    assert_date("2024-05-01T12:00:00", t); /* no zone: UTC */
    assert_date("2024-05-01 12:00:00", t); /* space for T */
    assert_date("2024-05-01 12:00:00 +0000", t);
    assert_date("2024-05-01 12:00:00 UTC", t);
    assert_date("20240501T120000Z", t);       /* basic format */
    assert_date("2024-05-01", t - 12 * 3600); /* W3CDTF YYYY-MM-DD */
    assert_date("2024-05", 1714521600);       /* YYYY-MM */
    assert_date("2024", 1704067200);          /* YYYY */
    assert_date("2024-05-01T24:00:00Z", t + 12 * 3600);
    assert_date("2016-12-31T23:59:60Z", 1483228800); /* leap second */
}

/* Forms real publishers emit that are neither RFC 822 nor ISO 8601. */
static void test_time_publisher_quirks(void **state)
{
    (void)state;
    const int64_t t = T_2024_05_01_12;
    /* US zones without the S or D, read as standard time. */
    assert_date("Wed, 01 May 2024 08:00:00 AT", t);
    assert_date("Wed, 01 May 2024 07:00:00 ET", t);
    assert_date("Wed, 01 May 2024 06:00:00 CT", t);
    assert_date("Wed, 01 May 2024 05:00:00 MT", t);
    assert_date("Wednesday, 1 May 2024 04:00:00 PT", t);
    /* tz database names; Etc/GMT+5 is five hours behind UTC. */
    assert_date("Wed, 01 May 2024 12:00:00 Etc/GMT", t);
    assert_date("Wed, 01 May 2024 07:00:00 Etc/GMT+5", t);
    /* Numeric year/month/day with slashes. */
    assert_date("Wed, 2024/05/01 08:00:00 EDT", t);
    assert_date("2024/05/01 12:00:00", t);
    /* "at" before the time is a word, not the Atlantic zone. */
    assert_date("May 1, 2024 at 12:00 PM", t);
    assert_bad_date("2024/13/01 12:00:00");
    assert_bad_date("2024/05/01/07 12:00:00");
    assert_bad_date("Wed, 01 May 2024 12:00:00 Etc");
    /* A zone name after the offset labels it; the offset counts. */
    assert_date("Wed, 01 May 2024 12:00:00 +0000 GMT", t);
    assert_date("Wed, 01 May 2024 05:00:00 -0700 PDT", t);
    assert_date("Wed, 01 May 2024 17:30:00 +0530 IST", t);
    assert_date("Wed May 1 14:00:00 +0200 CEST 2024", t);
    /* Go's time.Time.String(): "2006-01-02 15:04:05.999 -0700 MST". */
    assert_date("2024-05-01 12:00:00 +0000 UTC", t);
    assert_date("2024-05-01 14:00:00.123456789 +0200 CEST", t);
    assert_bad_date("Wed, 01 May 2024 12:00:00 +0000 GMT junk");
    assert_bad_date("2024-05-01 12:00:00 +0000 UTC 7");
    assert_bad_date("2024-05-01T12:00:00+02:00 junk");
    assert_bad_date("2024-05-01T12:00:00+00:00 XYZ PST");
    /* A month, or AM/PM, after the offset is no zone name. */
    assert_date("12:00:00 +0000 May 1 2024", t);
    assert_date("14:00 +0200 Sept 3 2024", 1725364800);
    assert_date("May 1, 2024 7:00 -0500 AM", t);
    /* AP style and Django's default format: "a.m.", "p.m.", "noon". */
    assert_date("May 1, 2024, 12 p.m.", t);
    assert_date("May 1, 2024, 7:00 a.m. -0500", t);
    assert_date("Sept. 3, 2024, 1:05 p.m.", 1725368700);
    assert_date("May 1, 2024, noon", t);
    assert_date("May 2, 2024, midnight", t + 12 * 3600);
    /* Day, month and year with dots, as Central Europe writes them. */
    assert_date("01.05.2024 12:00", t);
    assert_date("Mi, 1.5.2024 - 14:00 +0200", t);
    assert_date("01.05.24 12:00", t);
    assert_bad_date("1.2.3");
    assert_bad_date("01.05.202 12:00");
    assert_bad_date("01.13.2024 12:00");
}

/* Dates of feeds written in other languages, against RFC 822 but
 * published ("Mo, 01 Mai 2024"), and ordinal days ("May 1st"). */
static void test_time_localised(void **state)
{
    (void)state;
    const int64_t t = T_2024_05_01_12;
    assert_date("Mi, 01 Mai 2024 14:00:00 +0200", t);       /* German */
    assert_date("Mittwoch, 1. Mai 2024 14:00:00 +0200", t); /* German */
    assert_date("mer., 01 mai 2024 14:00:00 +0200", t);     /* French */
    assert_date("mi\xc3\xa9, 01 may 2024 12:00:00 GMT", t); /* Spanish */
    assert_date("1 de mayo de 2024 12:00 +0000", t);        /* Spanish */
    assert_date("mer, 01 mag 2024 14:00:00 +0200", t);      /* Italian */
    assert_date("wo, 01 mei 2024 14:00:00 +0200", t);       /* Dutch */
    assert_date("qua, 01 mai 2024 09:00:00 -0300", t);      /* Portuguese */
    assert_date("01 f\xc3\xa9vr. 2024 12:00 +0000", 1706788800);
    assert_date("15 d\xc3\xa9"
                "c 2024 12:00 +0000",
                1734264000);
    assert_date("3 M\xc3\xa4rz 2024", 1709424000);
    assert_date("3 mrt 2024", 1709424000);
    /* A leading "mar," is Spanish Tuesday when a month follows, and
     * March when none does. */
    assert_date("mar, 30 abr 2024 12:00:00 GMT", t - 86400);
    assert_date("Mar, 3 2024", 1709424000);
    /* Ordinal days. */
    assert_date("May 1st, 2024 12:00 UTC", t);
    assert_date("1st of May 2024 12:00 UTC", t);
    assert_date("1er mai 2024 12:00 UTC", t);
    assert_date("Wednesday, May 1st 2024, 12:00 pm", t);
    assert_bad_date("May 1xt 2024");
    assert_bad_date("May 1st 3rd 2024");
    assert_bad_date("01 d\xc3 2024"); /* half a character */
}

static void test_time_calendar_edges(void **state)
{
    (void)state;
    assert_date("1970-01-01T00:00:00Z", 0);
    assert_date("1969-12-31T23:59:59Z", -1);
    assert_date("1900-03-01T00:00:00Z", -2203891200LL);
    assert_date("2000-02-29T00:00:00Z", 951782400);  /* leap (400) */
    assert_date("2024-02-29T00:00:00Z", 1709164800); /* leap (4) */
    assert_date("2038-01-19T03:14:08Z", 2147483648LL);
    assert_date("9999-12-31T23:59:59Z", 253402300799LL);
    assert_date("Thu, 01 Jan 1970 00:00:00 +0100", -3600);
}

static void test_time_rejects_garbage(void **state)
{
    (void)state;
    assert_bad_date("");
    assert_bad_date("   ");
    assert_bad_date("yesterday");
    assert_bad_date("sometime last week");
    assert_bad_date("2024-13-01T00:00:00Z"); /* month */
    assert_bad_date("2023-02-29T00:00:00Z"); /* not a leap year */
    assert_bad_date("2024-04-31");           /* April has 30 days */
    assert_bad_date("2024-05-01T25:00:00Z");
    assert_bad_date("2024-05-01T12:60:00Z");
    assert_bad_date("2024-05-01T12:00:00+25:00");
    assert_bad_date("2024-05-01T12:00:00Zjunk");
    assert_bad_date("2024-05-01T12");
    assert_bad_date("Wed, 32 May 2024 12:00:00 GMT");
    assert_bad_date("Wed, 01 Foo 2024 12:00:00 GMT");
    assert_bad_date("Wed, 01 May 2024 12:00:00 +99999");
    assert_bad_date("Wed, 01 May 2024 12:00:00 GMT trailing words");
    assert_bad_date("12:00:00");
    assert_bad_date("\xFF\xFE");
    /* Cut anywhere: every prefix is read without passing its end (each
     * is its own allocation, so AddressSanitizer sees an over-read;
     * "Wed, 1 M" once read two bytes past it). */
    static const char full[] = "Wed, 01 May 2024 12:00:00 +0000";
    for (size_t n = 0; n < sizeof(full) - 1; n++) {
        char *cut = es_xstrndup(full, n);
        int64_t t;
        es_time_parse(cut, &t);
        free(cut);
    }
    char *m = es_xstrdup("Wed, 1 M");
    assert_bad_date(m);
    free(m);
    int64_t t;
    assert_int_equal(es_time_parse(NULL, &t), ES_EINVALID);
    assert_non_null(strstr(es_error_last(), "invalid date"));
}

/* ==== Zones of the tz database ==== */

static unsigned char *put_be(unsigned char *p, int64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--)
        *p++ = (unsigned char)((uint64_t)v >> (8 * i));
    return p;
}

/* Writes a TZif file (RFC 8536) at @path: version 1, or 2 with 64-bit
 * times after the 32-bit block and the footer @footer (the TZ rule
 * between two newlines, NULL: Central Europe's); two types, +01:00
 * standard and +02:00 daylight, changing at @ntime transitions, as
 * Central Europe does. */
static void write_tzif(const char *path, int version, const int64_t *times,
                       const unsigned char *idx, size_t ntime,
                       const char *footer)
{
    unsigned char b[640], *p = b;
    for (int block = 0; block < (version >= 2 ? 2 : 1); block++) {
        int tsize = block ? 8 : 4;
        memcpy(p, "TZif", 4);
        p[4] = version >= 2 ? '2' : 0;
        memset(p + 5, 0, 15);
        p += 20;
        p = put_be(p, 0, 4); /* isutcnt */
        p = put_be(p, 0, 4); /* isstdcnt */
        p = put_be(p, 0, 4); /* leapcnt */
        p = put_be(p, (int64_t)ntime, 4);
        p = put_be(p, 2, 4); /* typecnt */
        p = put_be(p, 8, 4); /* charcnt */
        for (size_t i = 0; i < ntime; i++)
            p = put_be(p, times[i], tsize);
        memcpy(p, idx, ntime);
        p += ntime;
        p = put_be(p, 3600, 4);
        *p++ = 0; /* standard */
        *p++ = 0;
        p = put_be(p, 7200, 4);
        *p++ = 1; /* daylight */
        *p++ = 4;
        memcpy(p, "CET\0CEST", 8);
        p += 8;
    }
    if (version >= 2) {
        if (!footer)
            footer = "\nCET-1CEST,M3.5.0,M10.5.0/3\n";
        memcpy(p, footer, strlen(footer));
        p += strlen(footer);
    }
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, (size_t)(p - b), f), (size_t)(p - b));
    fclose(f);
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* A zone named as the tz database names it, where a generator put it in
 * place of an offset ("Fri, 31 Mar 2023 20:19:00 America/Los_Angeles"):
 * read from the compiled zone files under $TZDIR. */
static void test_time_tz_database_names(void **state)
{
    (void)state;
    char dir[] = "/tmp/es-tz-XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/Test", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    /* 2024-03-31T01:00:00Z to summer time, 2024-10-27T01:00:00Z back. */
    const int64_t times[] = { 1711846800, 1729990800 };
    const unsigned char idx[] = { 1, 0 };
    snprintf(path, sizeof(path), "%s/Test/Zone", dir);
    write_tzif(path, 2, times, idx, 2, NULL);
    snprintf(path, sizeof(path), "%s/Test/Old", dir);
    write_tzif(path, 1, times, idx, 2, NULL);
    /* After its last transition a zone follows its footer's rule: south
     * of the equator, summer spans the new year (Sydney's); a zone with
     * no summer time (Tehran's since 2022); days counted from 1 January
     * (Jn: 29 February never counted; n: counted); a rule that cannot be
     * read falls back to the last transition's type. */
    snprintf(path, sizeof(path), "%s/Test/South", dir);
    write_tzif(path, 2, times, idx, 2, "\nAEST-10AEDT,M10.1.0,M4.1.0/3\n");
    snprintf(path, sizeof(path), "%s/Test/Fixed", dir);
    write_tzif(path, 2, times, idx, 2, "\n<+0330>-3:30\n");
    snprintf(path, sizeof(path), "%s/Test/Julian", dir);
    write_tzif(path, 2, times, idx, 2, "\nXST3XDT,J60/0,J300/0\n");
    snprintf(path, sizeof(path), "%s/Test/Zero", dir);
    write_tzif(path, 2, times, idx, 2, "\nXST3XDT2,59/0,299/0\n");
    snprintf(path, sizeof(path), "%s/Test/Broken", dir);
    write_tzif(path, 2, times, idx, 2, "\nXST3XDT,M13.1.0,M4.1.0\n");
    snprintf(path, sizeof(path), "%s/Test/Cut", dir);
    write_bytes(path, "TZif2\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 24);
    snprintf(path, sizeof(path), "%s/Test/Huge", dir);
    unsigned char huge[64] = "TZif2";
    memset(huge + 20, 0x7f, 24); /* every count 2,139,062,143 */
    write_bytes(path, huge, sizeof(huge));
    snprintf(path, sizeof(path), "%s/Test/Text", dir);
    write_bytes(path, "not a zone file at all, just text of some length", 48);

    char *old = getenv("TZDIR") ? strdup(getenv("TZDIR")) : NULL;
    setenv("TZDIR", dir, 1);
    static const char *const zones[] = { "Test/Zone", "Test/Old" };
    for (size_t z = 0; z < 2; z++) {
        char d[96];
#define TZ_CASE(local, want)                                                   \
    do {                                                                       \
        snprintf(d, sizeof(d), "%s %s", local, zones[z]);                      \
        assert_date_is(d, want);                                               \
    } while (0)
        TZ_CASE("Mon, 01 Jan 2024 10:00:00", "2024-01-01T09:00:00Z");
        TZ_CASE("Mon, 01 Jul 2024 10:00:00", "2024-07-01T08:00:00Z");
        TZ_CASE("1 Jul 2024 10:00", "2024-07-01T08:00:00Z");
        TZ_CASE("2024-07-01T10:00:00", "2024-07-01T08:00:00Z");
        TZ_CASE("2024-07-01 10:00:00", "2024-07-01T08:00:00Z");
        /* An hour skipped: the offset before the change. An hour that
         * comes twice: its first time, still in summer time. */
        TZ_CASE("Sun, 31 Mar 2024 02:30:00", "2024-03-31T01:30:00Z");
        TZ_CASE("Sun, 27 Oct 2024 02:30:00", "2024-10-27T00:30:00Z");
        TZ_CASE("Sun, 27 Oct 2024 03:30:00", "2024-10-27T02:30:00Z");
        /* Past the last transition (2024-10-27): Central Europe's rule
         * in the version 2 file; the last type (+01:00) in version 1,
         * which has no rule. */
        TZ_CASE("Tue, 15 Jul 2025 10:00:00",
                z == 0 ? "2025-07-15T08:00:00Z" : "2025-07-15T09:00:00Z");
        TZ_CASE("Wed, 15 Jan 2025 10:00:00", "2025-01-15T09:00:00Z");
        /* The rule's own changes: the last Sunday of March at 02:00
         * standard time, of October at 03:00 summer time. */
        TZ_CASE("Sun, 30 Mar 2025 01:30:00", "2025-03-30T00:30:00Z");
        TZ_CASE("Sun, 30 Mar 2025 03:30:00",
                z == 0 ? "2025-03-30T01:30:00Z" : "2025-03-30T02:30:00Z");
        TZ_CASE("Sat, 25 Oct 2025 12:00:00",
                z == 0 ? "2025-10-25T10:00:00Z" : "2025-10-25T11:00:00Z");
        TZ_CASE("Sun, 26 Oct 2025 12:00:00", "2025-10-26T11:00:00Z");
        TZ_CASE("2043-07-31T20:19:00",
                z == 0 ? "2043-07-31T18:19:00Z" : "2043-07-31T19:19:00Z");
#undef TZ_CASE
    }
    assert_date_is("Fri, 31 Jan 2025 20:00:00 Test/South",
                   "2025-01-31T09:00:00Z");
    assert_date_is("Thu, 31 Jul 2025 20:00:00 Test/South",
                   "2025-07-31T10:00:00Z");
    assert_date_is("Wed, 31 Dec 2025 20:00:00 Test/South",
                   "2025-12-31T09:00:00Z");
    assert_date_is("Thu, 31 Jul 2025 20:00:00 Test/Fixed",
                   "2025-07-31T16:30:00Z");
    /* J60 is 1 March in every year; 59 (zero-based) is 29 February in a
     * leap year, 1 March in others. */
    assert_date_is("2028-02-29T12:00:00 Test/Julian", "2028-02-29T15:00:00Z");
    assert_date_is("2028-03-01T12:00:00 Test/Julian", "2028-03-01T14:00:00Z");
    assert_date_is("2028-02-29T12:00:00 Test/Zero", "2028-02-29T14:00:00Z");
    assert_date_is("2027-02-28T12:00:00 Test/Zero", "2027-02-28T15:00:00Z");
    assert_date_is("2025-07-15T10:00:00 Test/Broken", "2025-07-15T09:00:00Z");
    /* Zones it cannot read, names that are no zone: no date, no crash. */
    static const char *const bad[] = {
        "Mon, 01 Jul 2024 10:00:00 Test/Cut",
        "Mon, 01 Jul 2024 10:00:00 Test/Huge",
        "Mon, 01 Jul 2024 10:00:00 Test/Text",
        "Mon, 01 Jul 2024 10:00:00 Test/Nowhere",
        "Mon, 01 Jul 2024 10:00:00 Test/../Test/Zone",
        "Mon, 01 Jul 2024 10:00:00 Test//Zone",
        "2024-07-01T10:00:00 Test/Zone junk",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_bad_date(bad[i]);
    if (old)
        setenv("TZDIR", old, 1);
    else
        unsetenv("TZDIR");
    free(old);

    /* The system's own zone files, where it has them (Debian's tzdata). */
    if (access("/usr/share/zoneinfo/America/Los_Angeles", R_OK) == 0 &&
        !getenv("TZDIR")) {
        assert_date_is("Fri, 31 Mar 2023 20:19:00 America/Los_Angeles",
                       "2023-04-01T03:19:00Z");
        assert_date_is("Mon, 01 Jul 2024 10:00:00 Asia/Kolkata",
                       "2024-07-01T04:30:00Z");
    }
    const char *const names[] = { "Zone", "Old", "Cut", "Huge", "Text" };
    for (size_t i = 0; i < 5; i++) {
        snprintf(path, sizeof(path), "%s/Test/%s", dir, names[i]);
        unlink(path);
    }
    snprintf(path, sizeof(path), "%s/Test", dir);
    rmdir(path);
    rmdir(dir);
}

static void test_time_format(void **state)
{
    (void)state;
    char out[21];
    assert_string_equal(es_time_format(T_2024_05_01_12, out),
                        "2024-05-01T12:00:00Z");
    assert_string_equal(es_time_format(0, out), "1970-01-01T00:00:00Z");
    assert_string_equal(es_time_format(-1, out), "1969-12-31T23:59:59Z");
    assert_string_equal(es_time_format(951782400, out), "2000-02-29T00:00:00Z");
    assert_string_equal(es_time_format(ES_TIME_UNKNOWN, out), "");
    /* A year that does not fit four digits gives "" rather than junk. */
    assert_string_equal(es_time_format(INT64_MAX, out), "");
    assert_string_equal(es_time_format(253402300800LL, out), "");
    assert_ptr_equal(es_time_format(0, out), out);
}

static void test_time_roundtrip(void **state)
{
    (void)state;
    /* Every 7919 minutes from 1901 to 2100 survives format then parse. */
    for (int64_t t = -2177452800LL; t < 4102444800LL; t += 7919 * 60 + 17) {
        char s[21];
        int64_t back = 0;
        es_time_format(t, s);
        assert_int_equal(es_time_parse(s, &back), 0);
        assert_int_equal(back, t);
    }
}

/* A packed copy holds the same values as the original, in memory of its
 * own: ASan sees a leak or a double free if es_item_free gets it wrong. */
static void test_item_pack_copies_everything(void **state)
{
    (void)state;
    struct es_item *it = es_item_new();
    it->platform = es_xstrdup("rss");
    it->external_id = es_xstrdup("guid-1");
    it->url = es_xstrdup("https://example.com/1");
    it->title = es_xstrdup("Caf\xC3\xA9");
    it->text = es_xstrdup("still waiting");
    it->lang = es_xstrdup("en");
    it->author_followers = 12000;
    it->rating = 2;
    it->created_at = 1700000000;
    es_item_add_category(it, "support");
    es_item_add_category(it, "billing");

    struct es_item *p = es_item_pack(it);
    assert_true(p->packed);
    assert_string_equal(p->platform, "rss");
    assert_string_equal(p->external_id, "guid-1");
    assert_string_equal(p->url, "https://example.com/1");
    assert_string_equal(p->title, "Caf\xC3\xA9");
    assert_string_equal(p->text, "still waiting");
    assert_string_equal(p->lang, "en");
    assert_null(p->author);
    assert_null(p->summary);
    assert_int_equal(p->author_followers, 12000);
    assert_int_equal(p->rating, 2);
    assert_int_equal(p->created_at, 1700000000);
    assert_int_equal(p->ncategories, 2);
    assert_string_equal(p->categories[0], "support");
    assert_string_equal(p->categories[1], "billing");
    assert_ptr_not_equal(p->text, it->text);
    es_item_free(it); /* the copy must not depend on the original */
    assert_string_equal(p->text, "still waiting");

    /* A dup of a packed item is an ordinary item again. */
    struct es_item *d = es_item_dup(p);
    assert_false(d->packed);
    assert_string_equal(d->categories[1], "billing");
    es_item_free(p);
    es_item_free(d);
}

static void test_time_now(void **state)
{
    (void)state;
    int64_t now = es_time_now();
    assert_true(now > 1700000000); /* after 2023-11 */
    assert_true(now < 4102444800); /* before 2100 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_init_is_empty_string),
        cmocka_unit_test(test_buf_add_grows_and_terminates),
        cmocka_unit_test(test_buf_addf),
        cmocka_unit_test(test_buf_reset_truncate_detach),
        cmocka_unit_test(test_buf_add_utf8),
        cmocka_unit_test(test_buf_add_valid_utf8),
        cmocka_unit_test(test_buf_add_json_str),
        cmocka_unit_test(test_utf8_decode_valid),
        cmocka_unit_test(test_utf8_decode_invalid),
        cmocka_unit_test(test_utf8_scrub),
        cmocka_unit_test(test_error_message_is_valid_utf8),
        cmocka_unit_test(test_time_rfc822_zones),
        cmocka_unit_test(test_time_rfc822_variants),
        cmocka_unit_test(test_time_iso8601),
        cmocka_unit_test(test_time_publisher_quirks),
        cmocka_unit_test(test_time_localised),
        cmocka_unit_test(test_time_calendar_edges),
        cmocka_unit_test(test_time_rejects_garbage),
        cmocka_unit_test(test_time_tz_database_names),
        cmocka_unit_test(test_time_format),
        cmocka_unit_test(test_time_roundtrip),
        cmocka_unit_test(test_time_now),
        cmocka_unit_test(test_item_pack_copies_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
