/* time.c - parsing and formatting the dates that feeds and APIs publish
 *
 * Feeds carry dates in RFC 822 form (and its cousins RFC 1123 and RFC 850,
 * plus asctime and `date` output that broken generators emit) or in ISO
 * 8601 / RFC 3339 / W3CDTF. Everything is converted to Unix seconds UTC
 * with plain integer arithmetic (days-from-civil), so the result never
 * depends on the process locale, the TZ variable or timegm(). A zone
 * named by the tz database is read from its compiled file (see below).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "earshot/error.h"
#include "earshot/item.h"

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d (Howard
 * Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int dm[12] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

char *es_time_format(int64_t t, char out[static 21])
{
    out[0] = '\0';
    if (t == ES_TIME_UNKNOWN)
        return out;
    int64_t days = t / 86400, secs = t % 86400;
    if (secs < 0) {
        secs += 86400;
        days--;
    }
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    /* Four digits is all the format has room for. */
    if (y < 0 || y > 9999)
        return out;
    snprintf(out, 21, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, m, d,
             (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
    return out;
}

int64_t es_time_now(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return (int64_t)time(NULL);
    return (int64_t)ts.tv_sec;
}

/* ==== Small scanning helpers ==== */

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Reads exactly @n digits at *s; returns -1 when they are not there. */
static int fixed_digits(const char **s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit((unsigned char)(*s)[i]))
            return -1;
        v = v * 10 + ((*s)[i] - '0');
    }
    *s += n;
    return v;
}

/* Case-insensitive comparison of the word [w, w+n) with @name. */
static int word_is(const char *w, size_t n, const char *name)
{
    if (strlen(name) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)w[i]) != name[i])
            return 0;
    return 1;
}

/* 1 when the word [w, w+n), ASCII letters folded, is the start of
 * @name (or all of it) and ends on a whole UTF-8 character of it. */
static int starts_name(const char *w, size_t n, const char *name)
{
    size_t k = 0;
    while (k < n && name[k] &&
           lower((unsigned char)w[k]) == (unsigned char)name[k])
        k++;
    return k == n && ((unsigned char)name[k] & 0xC0) != 0x80;
}

/* Returns 1..12 for an English month name or abbreviation, else 0:
 * "Sep", "Sept", "September" all name September. */
static int month_from_word(const char *w, size_t n)
{
    static const char *const names[12] = {
        "january", "february", "march",     "april",   "may",      "june",
        "july",    "august",   "september", "october", "november", "december",
    };
    if (n < 3)
        return 0;
    for (int i = 0; i < 12; i++)
        if (starts_name(w, n, names[i]))
            return i + 1;
    return 0;
}

/* Month names of the other languages feeds are written in (German,
 * French, Spanish, Italian, Dutch, Portuguese): their dates break RFC 822
 * ("Mo, 06 Mai 2024", "lun., 06 mai 2024", "6 de mayo de 2024"), and
 * real feeds publish them. A word of three letters or more that starts a
 * name names its month, as in English ("févr", "sept", "dic"); two
 * abbreviations that are no prefix are listed whole. Accented capitals
 * are not folded: month names are written in lower case or with an
 * ASCII capital. Returns 1..12, or 0. */
static int month_from_foreign_word(const char *w, size_t n)
{
    static const struct {
        const char *name;
        int month;
    } names[] = {
        { "januar", 1 },
        { "janvier", 1 },
        { "enero", 1 },
        { "gennaio", 1 },
        { "januari", 1 },
        { "janeiro", 1 },
        { "februar", 2 },
        { "f\xc3\xa9vrier", 2 },
        { "fevrier", 2 },
        { "febrero", 2 },
        { "febbraio", 2 },
        { "februari", 2 },
        { "fevereiro", 2 },
        { "m\xc3\xa4rz", 3 },
        { "maerz", 3 },
        { "mrz", 3 },
        { "mars", 3 },
        { "marzo", 3 },
        { "maart", 3 },
        { "mrt", 3 },
        { "mar\xc3\xa7o", 3 },
        { "marco", 3 },
        { "avril", 4 },
        { "abril", 4 },
        { "aprile", 4 },
        { "mai", 5 },
        { "mayo", 5 },
        { "maggio", 5 },
        { "mei", 5 },
        { "maio", 5 },
        { "juni", 6 },
        { "juin", 6 },
        { "junio", 6 },
        { "giugno", 6 },
        { "junho", 6 },
        { "juli", 7 },
        { "juillet", 7 },
        { "julio", 7 },
        { "luglio", 7 },
        { "julho", 7 },
        { "ao\xc3\xbbt", 8 },
        { "aout", 8 },
        { "agosto", 8 },
        { "augustus", 8 },
        { "septembre", 9 },
        { "setiembre", 9 },
        { "septiembre", 9 },
        { "settembre", 9 },
        { "setembro", 9 },
        { "oktober", 10 },
        { "octobre", 10 },
        { "octubre", 10 },
        { "ottobre", 10 },
        { "outubro", 10 },
        { "novembre", 11 },
        { "noviembre", 11 },
        { "novembro", 11 },
        { "dezember", 12 },
        { "d\xc3\xa9"
          "cembre",
          12 },
        { "decembre", 12 },
        { "diciembre", 12 },
        { "dicembre", 12 },
        { "dezembro", 12 },
    };
    if (n < 3)
        return 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (starts_name(w, n, names[i].name))
            return names[i].month;
    return 0;
}

static int is_weekday_word(const char *w, size_t n)
{
    static const char *const names[7] = {
        "monday", "tuesday",  "wednesday", "thursday",
        "friday", "saturday", "sunday",
    };
    if (n < 3)
        return 0;
    for (int i = 0; i < 7; i++)
        if (starts_name(w, n, names[i]))
            return 1;
    return 0;
}

/* Zone abbreviations, offsets in minutes east of UTC. The North American
 * ones are RFC 822's; the rest are what feeds from elsewhere carry. "ET",
 * "PT" and the like, which some US publishers write without the S or D,
 * are read as standard time. */
static const struct {
    const char *name;
    int minutes;
} zones[] = {
    { "gmt", 0 },        { "ut", 0 },         { "utc", 0 },
    { "z", 0 },          { "wet", 0 },        { "est", -5 * 60 },
    { "edt", -4 * 60 },  { "cst", -6 * 60 },  { "cdt", -5 * 60 },
    { "mst", -7 * 60 },  { "mdt", -6 * 60 },  { "pst", -8 * 60 },
    { "pdt", -7 * 60 },  { "ast", -4 * 60 },  { "adt", -3 * 60 },
    { "akst", -9 * 60 }, { "akdt", -8 * 60 }, { "hst", -10 * 60 },
    { "nst", -210 },     { "ndt", -150 },     { "bst", 60 },
    { "ist", 60 },       { "west", 60 },      { "cet", 60 },
    { "cest", 120 },     { "met", 60 },       { "mest", 120 },
    { "eet", 120 },      { "eest", 180 },     { "msk", 180 },
    { "jst", 9 * 60 },   { "kst", 9 * 60 },   { "hkt", 8 * 60 },
    { "sgt", 8 * 60 },   { "awst", 8 * 60 },  { "acst", 570 },
    { "acdt", 630 },     { "aest", 10 * 60 }, { "aedt", 11 * 60 },
    { "nzst", 12 * 60 }, { "nzdt", 13 * 60 }, { "at", -4 * 60 },
    { "et", -5 * 60 },   { "ct", -6 * 60 },   { "mt", -7 * 60 },
    { "pt", -8 * 60 },
};

/* Returns 1 and sets *min for a known zone word. Single letters are RFC
 * 822's military zones, with the signs RFC 822 gives them (A = -1 ... M =
 * -12, N = +1 ... Y = +12, Z = 0). */
static int zone_from_word(const char *w, size_t n, int *min)
{
    if (n == 1) {
        int c = lower((unsigned char)w[0]);
        if (c == 'z') {
            *min = 0;
            return 1;
        }
        if (c >= 'a' && c <= 'i') {
            *min = -(c - 'a' + 1) * 60;
            return 1;
        }
        if (c >= 'k' && c <= 'm') {
            *min = -(c - 'k' + 10) * 60;
            return 1;
        }
        if (c >= 'n' && c <= 'y') {
            *min = (c - 'n' + 1) * 60;
            return 1;
        }
        return 0;
    }
    int c0 = lower((unsigned char)w[0]);
    for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
        if (zones[i].name[0] == c0 && word_is(w, n, zones[i].name)) {
            *min = zones[i].minutes;
            return 1;
        }
    }
    return 0;
}

/* Parses "+hh", "+hhmm", "+hh:mm" (or '-') at *s. Returns 0 on success. */
static int numeric_zone(const char **s, int *min)
{
    const char *p = *s;
    int sign = *p == '-' ? -1 : 1;
    if (*p != '+' && *p != '-')
        return -1;
    p++;
    int h = fixed_digits(&p, 2), m = 0;
    if (h < 0) {
        /* "+1" and "-5": one-digit hours seen in the wild. */
        if (!is_digit((unsigned char)*p) || is_digit((unsigned char)p[1]))
            return -1;
        h = *p++ - '0';
    } else if (*p == ':') {
        p++;
        if ((m = fixed_digits(&p, 2)) < 0)
            return -1;
    } else if (is_digit((unsigned char)*p)) {
        if ((m = fixed_digits(&p, 2)) < 0)
            return -1;
    }
    if (h > 23 || m > 59 || is_digit((unsigned char)*p))
        return -1;
    *min = sign * (h * 60 + m);
    *s = p;
    return 0;
}

/* Whether the @n letters at @w may name the zone of an offset written
 * before them: a zone the table knows, or an abbreviation it does not
 * ("+0530 IST" is not Irish time), 2 to 5 capitals that are no month,
 * weekday or AM/PM. */
static int zone_label(const char *w, size_t n)
{
    int min;
    if (zone_from_word(w, n, &min))
        return 1;
    if (n < 2 || n > 5 || month_from_word(w, n) || is_weekday_word(w, n) ||
        word_is(w, n, "am") || word_is(w, n, "pm"))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (w[i] < 'A' || w[i] > 'Z')
            return 0;
    return 1;
}

/* Skips a zone's name written after its numeric offset: " GMT", " PST",
 * " (UTC)". The offset is what counts. Returns p unchanged when none
 * follows. */
static const char *skip_zone_label(const char *p)
{
    const char *q = p;
    while (is_space((unsigned char)*q))
        q++;
    int paren = *q == '(';
    if (paren)
        q++;
    const char *w = q;
    while (is_alpha((unsigned char)*q))
        q++;
    if (q == w || !zone_label(w, (size_t)(q - w)))
        return p;
    if (paren) {
        if (*q != ')')
            return p;
        q++;
    }
    return q;
}

/* Checks the fields and combines them. Returns 0 or -1. */
static int combine(int64_t y, int mo, int d, int h, int mi, int sec,
                   int zone_min, int64_t *out)
{
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return -1;
    if (h < 0 || mi < 0 || sec < 0 || h > 24 || mi > 59 || sec > 60)
        return -1;
    if (h == 24 && (mi || sec))
        return -1;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
           (int64_t)zone_min * 60;
    return 0;
}

/* ==== Zones of the tz database ("America/Los_Angeles") ==== */

/* Some generators print the zone's tz database name where RFC 822 wants
 * an offset ("Fri, 31 Mar 2023 20:19:00 America/Los_Angeles"). The
 * offset it stood for at that time comes from the system's compiled zone
 * files (TZif, RFC 8536; Debian's tzdata), read directly: localtime()
 * would need the TZ variable, which is one per process. */

#define TZIF_MAX (64 * 1024)

/* 1 when the @n bytes at @w may name a zone file: "Area/Place" of letters,
 * digits, '_', '-' and '+', and nothing that leaves the zone folder. */
static int tz_name_ok(const char *w, size_t n)
{
    int slash = 0;
    if (n < 3 || n > 64 || w[0] == '/' || w[n - 1] == '/')
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)w[i];
        if (c == '/') {
            if (w[i + 1] == '/' || w[i + 1] == '.')
                return 0;
            slash = 1;
        } else if (!is_alpha(c) && !is_digit(c) && c != '_' && c != '-' &&
                   c != '+') {
            return 0;
        }
    }
    return slash && w[0] != '.';
}

static int64_t be_int(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | p[i];
    if (bytes == 4)
        return (int32_t)(uint32_t)v;
    return (int64_t)v;
}

/* ==== The footer's rule: a POSIX TZ string (RFC 8536, section 3.3) ====
 *
 * After its last transition a zone follows the rule in the file's footer
 * ("PST8PDT,M3.2.0,M11.1.0"). Files built "slim", zic's default since
 * 2020, list transitions only up to the last change of rules (2007 for
 * the United States); "fat" ones, as Debian's, up to 2037. Either way a
 * later date needs the rule. */

/* A zone abbreviation: three or more letters, or <...> ("<+0330>"). */
static const char *tz_rule_name(const char *p)
{
    const char *q = p;
    if (*q == '<') {
        while (*++q && *q != '>')
            ;
        return *q == '>' && q - p >= 4 ? q + 1 : NULL;
    }
    while (is_alpha((unsigned char)*q))
        q++;
    return q - p >= 3 ? q : NULL;
}

/* [+-]hh[:mm[:ss]] into *sec, hours up to @hmax. */
static const char *tz_rule_time(const char *p, int hmax, int64_t *sec)
{
    int sign = 1, part[3] = { 0, 0, 0 };
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    for (int k = 0; k < 3; k++) {
        if (k && *p != ':')
            break;
        p += k != 0;
        if (!is_digit((unsigned char)*p))
            return NULL;
        int v = 0, nd = 0;
        while (is_digit((unsigned char)*p) && nd < 3) {
            v = v * 10 + (*p++ - '0');
            nd++;
        }
        if (k ? v > 59 || nd != 2 : v > hmax)
            return NULL;
        part[k] = v;
    }
    *sec = sign * ((int64_t)part[0] * 3600 + part[1] * 60 + part[2]);
    return p;
}

/* One end of summer time: Jn, n or Mm.w.d, then /time (02:00 when
 * absent). */
struct tz_rule_date {
    char kind; /* 'J', 'D' (zero-based day) or 'M' */
    int m, w, d, n;
    int64_t at; /* seconds after local midnight, -167h..167h */
};

static int tz_rule_num(const char **p, int lo, int hi, int *out)
{
    if (!is_digit((unsigned char)**p))
        return -1;
    int v = 0;
    while (is_digit((unsigned char)**p) && v <= hi)
        v = v * 10 + (*(*p)++ - '0');
    if (v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static const char *tz_rule_date(const char *p, struct tz_rule_date *r)
{
    *r = (struct tz_rule_date){ .at = 7200 };
    if (*p == 'M') {
        p++;
        r->kind = 'M';
        if (tz_rule_num(&p, 1, 12, &r->m) || *p++ != '.' ||
            tz_rule_num(&p, 1, 5, &r->w) || *p++ != '.' ||
            tz_rule_num(&p, 0, 6, &r->d))
            return NULL;
    } else if (*p == 'J') {
        p++;
        r->kind = 'J';
        if (tz_rule_num(&p, 1, 365, &r->n))
            return NULL;
    } else {
        r->kind = 'D';
        if (tz_rule_num(&p, 0, 365, &r->n))
            return NULL;
    }
    if (*p == '/' && !(p = tz_rule_time(p + 1, 167, &r->at)))
        return NULL;
    return p;
}

/* The local midnight (seconds, counted as if UTC) of the rule date @r in
 * the year @y, plus its time. */
static int64_t tz_rule_when(const struct tz_rule_date *r, int64_t y)
{
    int64_t day;
    if (r->kind == 'J') /* 1..365, 29 February never counted */
        day = days_from_civil(y, 1, 1) + r->n - 1 + (is_leap(y) && r->n >= 60);
    else if (r->kind == 'D')
        day = days_from_civil(y, 1, 1) + r->n;
    else {
        int64_t first = days_from_civil(y, r->m, 1);
        int wd = (int)(((first + 4) % 7 + 7) % 7); /* 1970-01-01: Thursday */
        int dom = 1 + (r->d - wd + 7) % 7 + (r->w - 1) * 7;
        if (dom > days_in_month(y, r->m))
            dom -= 7;
        day = first + dom - 1;
    }
    return day * 86400 + r->at;
}

/* The UT offset at the instant @t under the TZ string @s (@n bytes, not
 * terminated). Returns 0 and sets *off, or -1 for a rule it cannot
 * read. */
static int tz_rule_offset(const char *s, size_t n, int64_t t, int *off)
{
    char buf[128];
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    int64_t std, dst;
    const char *p = tz_rule_name(buf);
    if (!p || !(p = tz_rule_time(p, 24, &std)))
        return -1;
    std = -std; /* POSIX counts west of Greenwich as positive */
    if (!*p) {
        *off = (int)std;
        return 0;
    }
    if (!(p = tz_rule_name(p)))
        return -1;
    dst = std + 3600;
    if (*p && *p != ',') {
        if (!(p = tz_rule_time(p, 24, &dst)))
            return -1;
        dst = -dst;
    }
    struct tz_rule_date a, b;
    if (*p++ != ',' || !(p = tz_rule_date(p, &a)) || *p++ != ',' ||
        !(p = tz_rule_date(p, &b)) || *p)
        return -1;
    int64_t y;
    int m, d;
    civil_from_days((t + std) / 86400 - ((t + std) % 86400 < 0), &y, &m, &d);
    /* Summer time starts at a local standard time and ends at a local
     * summer time; south of the equator it spans the new year. */
    int64_t start = tz_rule_when(&a, y) - std;
    int64_t end = tz_rule_when(&b, y) - dst;
    int summer = start < end ? t >= start && t < end : !(t >= end && t < start);
    *off = (int)(summer ? dst : std);
    return 0;
}

/* The UT offset, in seconds, of the TZif data @b (@len bytes) at the
 * instant @t. Returns 0 and sets *off, or -1 for data it cannot read. */
static int tzif_offset(const unsigned char *b, size_t len, int64_t t, int *off)
{
    if (len < 44 || memcmp(b, "TZif", 4) != 0)
        return -1;
    int tsize = 4;
    size_t at = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (len - at < 44 || memcmp(b + at, "TZif", 4) != 0)
            return -1;
        const unsigned char *h = b + at + 20;
        uint64_t isut = (uint64_t)be_int(h, 4),
                 isstd = (uint64_t)be_int(h + 4, 4),
                 leap = (uint64_t)be_int(h + 8, 4),
                 ntime = (uint64_t)be_int(h + 12, 4),
                 ntype = (uint64_t)be_int(h + 16, 4),
                 nchar = (uint64_t)be_int(h + 20, 4);
        uint64_t body = ntime * (uint64_t)tsize + ntime + ntype * 6 + nchar +
                        leap * (uint64_t)(tsize + 4) + isstd + isut;
        if (ntype == 0 || ntime > TZIF_MAX || ntype > 256 || nchar > TZIF_MAX ||
            leap > TZIF_MAX || isstd > 256 || isut > 256 ||
            body > len - at - 44)
            return -1;
        /* Version 2 and later repeat the data with 64-bit times: use those. */
        if (pass == 0 && b[at + 4] >= '2') {
            at += 44 + body;
            tsize = 8;
            continue;
        }
        const unsigned char *times = b + at + 44;
        const unsigned char *idx = times + ntime * (uint64_t)tsize;
        const unsigned char *types = idx + ntime;
        /* Before the first transition: the first standard-time type. */
        size_t type = 0;
        for (size_t k = 0; k < ntype; k++)
            if (!types[k * 6 + 4]) {
                type = k;
                break;
            }
        size_t k = 0;
        for (; k < ntime && be_int(times + k * tsize, tsize) <= t; k++)
            type = idx[k];
        /* Past the last transition of a version 2 file: the footer's
         * rule, "\n" TZ "\n" right after the data, when it has one. */
        const unsigned char *foot = b + at + 44 + body;
        if (k == ntime && tsize == 8 && foot < b + len && *foot == '\n') {
            const unsigned char *e =
                memchr(foot + 1, '\n', (size_t)(b + len - foot - 1));
            if (e && e > foot + 1 &&
                tz_rule_offset((const char *)foot + 1, (size_t)(e - foot - 1),
                               t, off) == 0)
                return 0;
        }
        if (type >= ntype)
            return -1;
        *off = (int)be_int(types + type * 6, 4);
        return 0;
    }
    return -1;
}

/* Sets *utc to the instant that the wall-clock time @local (seconds,
 * counted as if it were UTC) names in the tz database zone @w (@n bytes).
 * Returns 0, or -1 when the zone is unknown here. */
static int tz_local_to_utc(const char *w, size_t n, int64_t local, int64_t *utc)
{
    char path[512];
    const char *dir = getenv("TZDIR");
    if (!dir || !*dir)
        dir = "/usr/share/zoneinfo";
    if (!tz_name_ok(w, n) || snprintf(path, sizeof(path), "%s/%.*s", dir,
                                      (int)n, w) >= (int)sizeof(path))
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    unsigned char *b = malloc(TZIF_MAX);
    size_t len = 0;
    ssize_t r;
    while (b && len < TZIF_MAX && (r = read(fd, b + len, TZIF_MAX - len)) > 0)
        len += (size_t)r;
    close(fd);
    /* The offset a day before and a day after: the local time is valid
     * with the first that maps it back to itself (in an hour that comes
     * twice, the one in force before the change); in an hour that a change
     * skips, neither does, and the offset before it is used. */
    int before, after, at, rc = -1;
    if (b && tzif_offset(b, len, local - 86400, &before) == 0 &&
        tzif_offset(b, len, local + 86400, &after) == 0) {
        int off = before;
        if ((tzif_offset(b, len, local - before, &at) != 0 || at != before) &&
            tzif_offset(b, len, local - after, &at) == 0 && at == after)
            off = after;
        *utc = local - off;
        rc = 0;
    }
    free(b);
    return rc;
}

/* ==== ISO 8601 / RFC 3339 / W3CDTF ==== */

/* Parses the zone after an ISO time: nothing (UTC), Z, +hh:mm, +hhmm, +hh,
 * optionally after a space, or a zone name ("UTC", "GMT"). */
static int iso_zone(const char *p, int *min)
{
    *min = 0;
    while (is_space((unsigned char)*p))
        p++;
    if (*p == '\0')
        return 0;
    if (*p == '+' || *p == '-') {
        if (numeric_zone(&p, min) < 0)
            return -1;
        /* "+0000 UTC", Go's default format, or "+0000 (UTC)": the name
         * after an offset only labels it. */
        p = skip_zone_label(p);
    } else if (is_alpha((unsigned char)*p)) {
        const char *w = p;
        while (is_alpha((unsigned char)*p))
            p++;
        if (!zone_from_word(w, (size_t)(p - w), min))
            return -1;
        /* "UTC+02:00" */
        if (*p == '+' || *p == '-') {
            int extra;
            if (numeric_zone(&p, &extra) < 0)
                return -1;
            *min += extra;
        }
    } else {
        return -1;
    }
    while (is_space((unsigned char)*p))
        p++;
    return *p == '\0' ? 0 : -1;
}

static int parse_iso(const char *p, int64_t *out)
{
    int64_t y;
    int mo = 1, d = 1, h = 0, mi = 0, sec = 0, zone = 0;
    int basic;
    if ((y = fixed_digits(&p, 4)) < 0)
        return -1;
    if (*p == '-') {
        basic = 0;
        p++;
        if ((mo = fixed_digits(&p, 2)) < 0)
            return -1;
        if (*p == '-') {
            p++;
            if ((d = fixed_digits(&p, 2)) < 0)
                return -1;
        } else if (*p != '\0' && !is_space((unsigned char)*p)) {
            return -1;
        }
    } else if (is_digit((unsigned char)*p)) {
        /* Basic format: YYYYMMDD. */
        basic = 1;
        if ((mo = fixed_digits(&p, 2)) < 0 || (d = fixed_digits(&p, 2)) < 0)
            return -1;
    } else {
        basic = 0;
    }
    const char *t = p;
    if (*t == 'T' || *t == 't' ||
        (*t == ' ' && is_digit((unsigned char)t[1]))) {
        p = t + 1;
        if ((h = fixed_digits(&p, 2)) < 0)
            return -1;
        if (*p == ':' || (basic && is_digit((unsigned char)*p))) {
            if (*p == ':')
                p++;
            if ((mi = fixed_digits(&p, 2)) < 0)
                return -1;
            if (*p == ':' || (basic && is_digit((unsigned char)*p))) {
                if (*p == ':')
                    p++;
                if ((sec = fixed_digits(&p, 2)) < 0)
                    return -1;
                /* Fractions of a second are dropped. */
                if (*p == '.' || *p == ',') {
                    p++;
                    if (!is_digit((unsigned char)*p))
                        return -1;
                    while (is_digit((unsigned char)*p))
                        p++;
                }
            }
        } else if (!basic) {
            return -1;
        }
    }
    if (iso_zone(p, &zone) < 0) {
        /* "2023-03-31 20:19:00 America/Los_Angeles" */
        int64_t local;
        size_t n;
        while (is_space((unsigned char)*p))
            p++;
        for (n = strlen(p); n && is_space((unsigned char)p[n - 1]); n--)
            ;
        if (combine(y, mo, d, h, mi, sec, 0, &local) < 0)
            return -1;
        return tz_local_to_utc(p, n, local, out);
    }
    return combine(y, mo, d, h, mi, sec, zone, out);
}

/* ==== RFC 822 / 1123 / 850, asctime and friends ==== */

/* The form nearly every RSS feed uses, "Wed, 01 May 2024 12:00:00 GMT",
 * read without the general scanner. Returns -1 on anything else. */
static int parse_rfc1123(const char *p, int64_t *out)
{
    int d, mo, h, mi, sec, zone = 0;
    int64_t y;
    if (!is_alpha((unsigned char)p[0]) || !is_alpha((unsigned char)p[1]) ||
        !is_alpha((unsigned char)p[2]) || p[3] != ',' || p[4] != ' ')
        return -1;
    p += 5;
    if (!is_digit((unsigned char)p[0]))
        return -1;
    d = *p++ - '0';
    if (is_digit((unsigned char)*p))
        d = d * 10 + (*p++ - '0');
    /* Each byte checked before the next is read: "Wed, 1 M" ends there. */
    if (*p++ != ' ' || !is_alpha((unsigned char)p[0]) ||
        !is_alpha((unsigned char)p[1]) || !is_alpha((unsigned char)p[2]) ||
        p[3] != ' ')
        return -1;
    if ((mo = month_from_word(p, 3)) == 0)
        return -1;
    p += 4;
    if ((y = fixed_digits(&p, 4)) < 0 || *p++ != ' ')
        return -1;
    if ((h = fixed_digits(&p, 2)) < 0 || *p++ != ':' ||
        (mi = fixed_digits(&p, 2)) < 0 || *p++ != ':' ||
        (sec = fixed_digits(&p, 2)) < 0 || *p++ != ' ')
        return -1;
    if (*p == '+' || *p == '-') {
        if (numeric_zone(&p, &zone) < 0)
            return -1;
        p = skip_zone_label(p);
    } else {
        const char *w = p;
        while (is_alpha((unsigned char)*p))
            p++;
        if (p == w || !zone_from_word(w, (size_t)(p - w), &zone))
            return -1;
    }
    while (is_space((unsigned char)*p))
        p++;
    if (*p)
        return -1;
    return combine(y, mo, d, h, mi, sec, zone, out);
}

/* 1 when @p starts the suffix of an ordinal day, "st", "nd", "rd", "th"
 * or French "er" ("1er mai"), and no letter follows it. */
static int ordinal_suffix(const char *p)
{
    int a = lower((unsigned char)p[0]);
    int b = a ? lower((unsigned char)p[1]) : 0;
    if (!((a == 's' && b == 't') || (a == 'n' && b == 'd') ||
          (a == 'r' && b == 'd') || (a == 't' && b == 'h') ||
          (a == 'e' && b == 'r')))
        return 0;
    return !is_alpha((unsigned char)p[2]) && (unsigned char)p[2] < 0x80;
}

/* A forgiving token scanner: a month word, a day, a year, an hh:mm[:ss]
 * time and a zone, in whatever order the generator chose. It reads
 * "Tue, 01 May 2024 12:00:00 GMT", "Tuesday, 01-May-24 12:00:00 GMT",
 * "Tue May  1 12:00:00 2024", "Tue May 1 12:00:00 UTC 2024" and
 * "May 1, 2024 12:00 PM" alike. */
/* 1 when @p, past blanks, is "am", "pm", "a.m." or "p.m." and no word
 * goes on after it. */
static int meridiem_follows(const char *p)
{
    while (*p == ' ')
        p++;
    int c = lower((unsigned char)*p);
    if (c != 'a' && c != 'p')
        return 0;
    p++;
    if (*p == '.')
        p++;
    if (lower((unsigned char)*p) != 'm')
        return 0;
    p++;
    if (*p == '.')
        p++;
    return !is_alpha((unsigned char)*p);
}

static int parse_loose(const char *p, int64_t *out)
{
    const char *start = p;
    int first_month = 0; /* mo came from a leading "Mar," */
    int64_t year = -1;
    int mo = 0, day = 0, h = -1, mi = 0, sec = 0, zone = 0;
    int have_zone = 0, year_digits = 0, pm = -1, etc = 0, offset = 0;
    const char *tz = NULL; /* a tz database name */
    size_t tzlen = 0;

    while (*p) {
        unsigned char c = (unsigned char)*p;
        if (is_space(c) || c == ',' || c == '.' || c == '/') {
            p++;
        } else if (is_alpha(c) || c >= 0x80) {
            const char *w = p;
            while (is_alpha((unsigned char)*p) || (unsigned char)*p >= 0x80)
                p++;
            size_t n = (size_t)(p - w);
            int m, z;
            /* The first word, before a comma, is the weekday in any
             * language ("Mo,", "lun.,", "Montag,"), unless it is the
             * only month ("Mar, 2024"): a month word after it wins. */
            const char *a = p;
            if (*a == '.')
                a++;
            int leading = w == start && *a == ',';
            if (mo && first_month && (m = month_from_word(w, n)) != 0) {
                mo = m; /* "mar, 07 may 2024": "mar" was Tuesday */
                first_month = 0;
            } else if (mo && first_month &&
                       (m = month_from_foreign_word(w, n)) != 0) {
                mo = m;
                first_month = 0;
            } else if (!mo && ((m = month_from_word(w, n)) != 0 ||
                               (m = month_from_foreign_word(w, n)) != 0)) {
                mo = m;
                first_month = leading;
            } else if (leading || is_weekday_word(w, n)) {
                /* The weekday is redundant; a wrong one is ignored. */
            } else if (word_is(w, n, "de") || word_is(w, n, "del") ||
                       word_is(w, n, "of")) {
                /* "6 de mayo de 2024", "1st of May" */
            } else if (h < 0 && word_is(w, n, "at")) {
                /* "May 1, 2024 at 5:00 PM": before the time, not a zone. */
            } else if (*p == '/' && word_is(w, n, "etc")) {
                /* The tz database's "Etc/GMT": the zone follows, and its
                 * "Etc/GMT+5" is five hours behind, POSIX style. */
                etc = 1;
            } else if (*p == '/' && !have_zone && !tz && h >= 0) {
                /* "America/Los_Angeles" after the time: read at the end. */
                while (*p && !is_space((unsigned char)*p) && *p != ',' &&
                       *p != '(' && *p != ')')
                    p++;
                tz = w;
                tzlen = (size_t)(p - w);
                have_zone = 1;
            } else if (h >= 0 && (word_is(w, n, "am") || word_is(w, n, "pm"))) {
                pm = word_is(w, n, "pm");
            } else if (h >= 0 && n == 1 &&
                       (lower(*w) == 'a' || lower(*w) == 'p') && p[0] == '.' &&
                       lower((unsigned char)p[1]) == 'm' &&
                       !is_alpha((unsigned char)p[2])) {
                /* "10:57 a.m.", as AP style and Django's default write it */
                pm = lower(*w) == 'p';
                p += 2;
            } else if (h < 0 && day &&
                       (word_is(w, n, "noon") || word_is(w, n, "midnight"))) {
                /* Django's "Nov. 16, 2020, noon" */
                h = word_is(w, n, "noon") ? 12 : 0;
            } else if (offset == 1 && zone_label(w, n)) {
                offset = 2;
                /* "+0000 GMT": the name labels the offset before it. */
            } else if (!have_zone && zone_from_word(w, n, &z)) {
                have_zone = 1;
                zone = z;
                if (*p == '+' || (*p == '-' && is_digit((unsigned char)p[1]))) {
                    int extra;
                    if (numeric_zone(&p, &extra) < 0)
                        return -1;
                    zone += etc ? -extra : extra;
                }
            } else {
                return -1;
            }
        } else if (c == '-' || c == '+') {
            /* A sign after the time is a numeric zone; before it, '-' is
             * RFC 850's date separator. */
            if (h >= 0 && !have_zone &&
                (c == '+' || is_digit((unsigned char)p[1]))) {
                if (numeric_zone(&p, &zone) < 0)
                    return -1;
                have_zone = 1;
                offset = 1;
            } else if (c == '-') {
                p++;
            } else {
                return -1;
            }
        } else if (c == '(') {
            /* RFC 822 comment, e.g. "+0000 (UTC)". */
            while (*p && *p != ')')
                p++;
            if (*p)
                p++;
        } else if (is_digit(c)) {
            const char *n0 = p;
            long v = 0;
            while (is_digit((unsigned char)*p) && p - n0 < 9)
                v = v * 10 + (*p++ - '0');
            int nd = (int)(p - n0);
            if (is_digit((unsigned char)*p))
                return -1;
            if (nd <= 2 && h < 0 && v <= 12 && meridiem_follows(p)) {
                h = (int)v; /* "1 a.m.", "5 PM": an hour, minutes left off */
                continue;
            }
            if (nd <= 2 && !day && !mo && p[0] == '.' &&
                is_digit((unsigned char)p[1])) {
                /* "16.11.2020": day, month and year, as Central Europe
                 * writes them (with dots, never month first). */
                const char *q = p + 1;
                int m2 = 0, k = 0;
                while (is_digit((unsigned char)*q) && k < 3)
                    m2 = m2 * 10 + (*q++ - '0'), k++;
                size_t yd = 0;
                while (k <= 2 && *q == '.' &&
                       is_digit((unsigned char)q[1 + yd]))
                    yd++;
                if (k > 2 || *q != '.' || (yd != 2 && yd != 4))
                    return -1; /* "1.2.3" is a version, not a date */
                day = (int)v;
                mo = m2;
                p = q + 1;
                continue;
            }
            if (nd <= 2 && ordinal_suffix(p)) {
                /* "May 6th", "1st of May", "1er mai": a day. */
                if (day || v < 1)
                    return -1;
                day = (int)v;
                p += 2;
                continue;
            }
            if (*p == ':') {
                if (h >= 0 || nd > 2)
                    return -1;
                h = (int)v;
                p++;
                if ((mi = fixed_digits(&p, 2)) < 0)
                    return -1;
                if (*p == ':') {
                    p++;
                    if ((sec = fixed_digits(&p, 2)) < 0)
                        return -1;
                    if (*p == '.' || *p == ',') {
                        p++;
                        while (is_digit((unsigned char)*p))
                            p++;
                    }
                }
            } else if (year_digits == 4 && !mo && !day && n0[-1] == '/' &&
                       *p == '/' && v >= 1 && v <= 12) {
                /* "2006/09/15": year, month and day, numerically. */
                mo = (int)v;
            } else if (nd >= 3 || (day && year < 0) || v > 31) {
                if (year >= 0)
                    return -1;
                year = v;
                year_digits = nd;
            } else if (!day && v >= 1) {
                day = (int)v;
            } else {
                return -1;
            }
        } else {
            return -1;
        }
    }
    if (!mo || !day || year < 0)
        return -1;
    if (year_digits <= 2)
        year += year < 50 ? 2000 : 1900; /* RFC 2822 section 4.3 */
    else if (year_digits == 3)
        year += 1900;
    if (h < 0)
        h = 0;
    if (pm >= 0) {
        if (h < 1 || h > 12)
            return -1;
        h = h % 12 + (pm ? 12 : 0);
    }
    if (tz) {
        int64_t local;
        if (combine(year, mo, day, h, mi, sec, 0, &local) < 0)
            return -1;
        return tz_local_to_utc(tz, tzlen, local, out);
    }
    return combine(year, mo, day, h, mi, sec, zone, out);
}

int es_time_parse(const char *s, int64_t *out)
{
    if (!s)
        return es_error_set(ES_EINVALID, "invalid date: none given");
    const char *p = s;
    while (is_space((unsigned char)*p))
        p++;
    /* Trailing blanks are skipped by both parsers. */
    int rc = parse_rfc1123(p, out);
    if (rc == 0)
        return 0;
    const char *q = p;
    if (fixed_digits(&q, 4) >= 0 &&
        (p[4] == '-' || p[4] == '\0' || p[4] == 'T' || p[4] == 't' ||
         is_digit((unsigned char)p[4]) || is_space((unsigned char)p[4])))
        rc = parse_iso(p, out);
    /* "2024 May 1" or an ISO date that did not parse: try the loose form. */
    if (rc < 0)
        rc = parse_loose(p, out);
    if (rc < 0)
        return es_error_set(ES_EINVALID, "invalid date '%.60s'", s);
    return 0;
}
