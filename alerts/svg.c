/* svg.c - the volume-by-sentiment chart as a self-contained SVG document
 *
 * Marketing pastes this into reports, so it must stand alone: no fonts,
 * style sheets or images from elsewhere, presentation attributes rather
 * than CSS (office suites ignore much of CSS), a white background, and a
 * fixed 960x400 viewBox that scales. It is written by hand rather than
 * through libxml2: the document is a few fixed shapes, and escaping the
 * only free text (the title) is one function.
 *
 * Layout, top to bottom: the title and a one-line summary, the plot (the
 * counts axis on the left, the net-sentiment axis from -1 to 1 on the
 * right), the time labels, the legend. The volume is drawn as stacked
 * columns while a column can be at least MIN_COLUMN_PX wide, and as
 * stacked areas past that (5-minute buckets over a week are 2016 of
 * them). Time labels fall on round times (a quarter hour, six hours,
 * midnight, Monday, the first of a month) chosen so that they are at least
 * MIN_LABEL_PX apart; the date under a time is printed when it changes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "earshot/alloc.h"
#include "earshot/item.h"
#include "earshot/stats.h"

/* ==== Geometry and colours ==== */

enum {
    WIDTH = 960,
    HEIGHT = 400,
    PLOT_LEFT = 64,
    PLOT_RIGHT = WIDTH - 64,
    PLOT_TOP = 64,
    PLOT_BOTTOM = 318,
    MIN_COLUMN_PX = 3, /* narrower columns alias into noise: draw areas */
    MIN_LABEL_PX = 72, /* "00:00" over "10 May" fits in about 40 px */
    NET_MIN_PX = 4,    /* the net line's points at least this far apart */
};

/* Bottom to top of the stack, in enum es_stats_label order. */
static const char *const fills[ES_STATS_NLABELS] = {
    "#d9534f", /* negative: red */
    "#a6a6a6", /* neutral: grey */
    "#4caf50", /* positive: green */
    "#e3e3e3", /* unscored: light */
};
#define NET_COLOUR  "#1f4e9c"
#define TEXT_COLOUR "#333333"
#define GRID_COLOUR "#e6e6e6"

static const char *const months[12] = { "Jan", "Feb", "Mar", "Apr",
                                        "May", "Jun", "Jul", "Aug",
                                        "Sep", "Oct", "Nov", "Dec" };

/* ==== Text ==== */

/* Appends @s as XML character data (also fit for an attribute value):
 * invalid UTF-8 becomes U+FFFD, the five special characters become
 * entities, and the characters XML 1.0 forbids (controls other than tab
 * and line breaks, U+FFFE, U+FFFF) become U+FFFD. */
static void add_xml_text(struct es_buf *out, const char *s)
{
    struct es_buf valid = ES_BUF_INIT;
    es_buf_add_valid_utf8(&valid, s, strlen(s));
    for (size_t i = 0; i < valid.len; i++) {
        unsigned char c = (unsigned char)valid.ptr[i];
        switch (c) {
        case '&':
            es_buf_adds(out, "&amp;");
            break;
        case '<':
            es_buf_adds(out, "&lt;");
            break;
        case '>':
            es_buf_adds(out, "&gt;");
            break;
        case '"':
            es_buf_adds(out, "&quot;");
            break;
        case '\'':
            es_buf_adds(out, "&apos;");
            break;
        default:
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
                es_buf_adds(out, "\xEF\xBF\xBD");
            } else if (c == 0xEF && i + 2 < valid.len &&
                       (unsigned char)valid.ptr[i + 1] == 0xBF &&
                       ((unsigned char)valid.ptr[i + 2] == 0xBE ||
                        (unsigned char)valid.ptr[i + 2] == 0xBF)) {
                es_buf_adds(out, "\xEF\xBF\xBD");
                i += 2;
            } else {
                es_buf_addch(out, c);
            }
        }
    }
    es_buf_release(&valid);
}

static void utc(int64_t t, struct tm *tm)
{
    time_t tt = (time_t)t;
    gmtime_r(&tt, tm);
}

/* "3 May 2024 14:00" (with @with_time) or "3 May 2024". */
static void add_date(struct es_buf *out, int64_t t, int with_time)
{
    struct tm tm;
    utc(t, &tm);
    es_buf_addf(out, "%d %s %d", tm.tm_mday, months[tm.tm_mon],
                tm.tm_year + 1900);
    if (with_time)
        es_buf_addf(out, " %02d:%02d", tm.tm_hour, tm.tm_min);
}

/* How a bucket length reads in "mentions per ...". */
static void add_per(struct es_buf *out, long bucket)
{
    if (bucket == ES_STATS_5M)
        es_buf_adds(out, "5 minutes");
    else if (bucket == ES_STATS_HOUR)
        es_buf_adds(out, "hour");
    else if (bucket == ES_STATS_DAY)
        es_buf_adds(out, "day");
    else if (bucket % 86400 == 0)
        es_buf_addf(out, "%ld days", bucket / 86400);
    else if (bucket % 3600 == 0)
        es_buf_addf(out, "%ld hours", bucket / 3600);
    else if (bucket % 60 == 0)
        es_buf_addf(out, "%ld minutes", bucket / 60);
    else
        es_buf_addf(out, "%ld seconds", bucket);
}

/* The default title: "Mentions by sentiment per hour, 3 May 2024 14:00 to
 * 10 May 2024 15:00 UTC"; whole days name the first and the last day. */
static void default_title(struct es_buf *out, const struct es_stats *st)
{
    int days = st->bucket % 86400 == 0;
    es_buf_adds(out, "Mentions by sentiment per ");
    add_per(out, st->bucket);
    es_buf_adds(out, ", ");
    add_date(out, st->since, !days);
    es_buf_adds(out, " to ");
    add_date(out, days ? st->until - 86400 : st->until, !days);
    es_buf_adds(out, " UTC");
}

/* ==== Scales ==== */

/* A round step (1, 2 or 5 times a power of ten, at least 1) that divides
 * 0..@max into at most five intervals. */
static double nice_step(double max)
{
    double raw = max / 5;
    if (raw <= 1)
        return 1;
    double mag = pow(10, floor(log10(raw)));
    static const double mult[] = { 1, 2, 5, 10 };
    for (size_t i = 0; i < sizeof(mult) / sizeof(mult[0]); i++)
        if (mult[i] * mag >= raw)
            return mult[i] * mag;
    return 10 * mag;
}

struct chart {
    const struct es_stats *st;
    double slot;      /* px per bucket */
    double top_count; /* the counts axis runs 0..top_count */
    double count_step;
};

static double x_of(const struct chart *c, double bucket)
{
    return PLOT_LEFT + bucket * c->slot;
}

static double y_count(const struct chart *c, double v)
{
    return PLOT_BOTTOM - v / c->top_count * (PLOT_BOTTOM - PLOT_TOP);
}

static double y_net(double net)
{
    return PLOT_BOTTOM - (net + 1) / 2 * (PLOT_BOTTOM - PLOT_TOP);
}

/* ==== Time labels ==== */

/* A spacing of the time labels: every @secs seconds counted from
 * @offset (weeks start on Monday: the epoch was a Thursday), or every
 * @months months. */
struct label_step {
    long secs;
    long offset;
    int months;
};

static const struct label_step label_steps[] = {
    { 300, 0, 0 },
    { 600, 0, 0 },
    { 900, 0, 0 },
    { 1800, 0, 0 },
    { 3600, 0, 0 },
    { 7200, 0, 0 },
    { 10800, 0, 0 },
    { 21600, 0, 0 },
    { 43200, 0, 0 },
    { 86400, 0, 0 },
    { 172800, 0, 0 },
    { 604800, 345600, 0 },
    { 1209600, 345600, 0 },
    { 0, 0, 1 },
    { 0, 0, 2 },
    { 0, 0, 3 },
    { 0, 0, 6 },
    { 0, 0, 12 },
};

/* 1 when a label of @s goes at bucket start @t. */
static int is_label_time(const struct label_step *s, int64_t t)
{
    if (s->secs)
        return es_stats_bucket_floor(t - s->offset, s->secs) == t - s->offset;
    struct tm tm;
    utc(t, &tm);
    return tm.tm_mday == 1 && tm.tm_hour == 0 && tm.tm_min == 0 &&
           tm.tm_sec == 0 && tm.tm_mon % s->months == 0;
}

/* The finest round spacing that puts labels at least MIN_LABEL_PX apart,
 * or NULL when none fits the bucket (then every k-th bucket is labelled). */
static const struct label_step *pick_label_step(const struct es_stats *st,
                                                double slot)
{
    for (size_t i = 0; i < sizeof(label_steps) / sizeof(label_steps[0]); i++) {
        const struct label_step *s = &label_steps[i];
        double secs = s->secs ? (double)s->secs : 30.4 * 86400 * s->months;
        /* Labels must fall on bucket starts. */
        if (s->secs && (s->secs % st->bucket || s->offset % st->bucket))
            continue;
        if (!s->secs && 86400 % st->bucket)
            continue;
        if (secs / (double)st->bucket * slot >= MIN_LABEL_PX)
            return s;
    }
    return NULL;
}

/* Appends the tick marks and the labels under the plot. */
static void add_time_labels(struct es_buf *out, const struct chart *c)
{
    const struct es_stats *st = c->st;
    const struct label_step *s = pick_label_step(st, c->slot);
    size_t every = 1;
    if (!s) {
        every = (size_t)ceil(MIN_LABEL_PX / c->slot);
        if (every < 1)
            every = 1;
    }
    /* What the first line says: a time of day, a day, or a month. */
    int line1 = 0;
    if (s && s->months)
        line1 = 2;
    else if (st->bucket % 86400 == 0 || (s && s->secs % 86400 == 0))
        line1 = 1;
    int prev_day = -1, prev_year = -1;
    double last_x = -1e9;

    es_buf_addf(out,
                "<g id=\"time-labels\" fill=\"%s\" font-size=\"11\" "
                "text-anchor=\"middle\">\n",
                TEXT_COLOUR);
    for (size_t i = 0; i < st->nbuckets; i++) {
        int64_t t = st->since + (int64_t)i * st->bucket;
        if (s ? !is_label_time(s, t) : i % every != 0)
            continue;
        double x = x_of(c, (double)i);
        /* Round times may crowd at the edges: keep the spacing. */
        if (x - last_x < MIN_LABEL_PX * 0.9)
            continue;
        last_x = x;
        struct tm tm;
        utc(t, &tm);
        int day = (tm.tm_year + 1900) * 400 + tm.tm_yday;
        es_buf_addf(out,
                    "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
                    "stroke=\"%s\"/>\n",
                    x, PLOT_BOTTOM, x, PLOT_BOTTOM + 5, TEXT_COLOUR);
        es_buf_addf(out, "<text x=\"%.1f\" y=\"%d\">", x, PLOT_BOTTOM + 17);
        if (line1 == 0)
            es_buf_addf(out, "%02d:%02d", tm.tm_hour, tm.tm_min);
        else if (line1 == 1)
            es_buf_addf(out, "%d %s", tm.tm_mday, months[tm.tm_mon]);
        else
            es_buf_adds(out, months[tm.tm_mon]);
        /* The second line gives what the first leaves out, when it
         * changes: the date under times, the year under days. */
        if (line1 == 0 && day != prev_day)
            es_buf_addf(out, "<tspan x=\"%.1f\" dy=\"14\">%d %s</tspan>", x,
                        tm.tm_mday, months[tm.tm_mon]);
        else if (line1 != 0 && tm.tm_year != prev_year)
            es_buf_addf(out, "<tspan x=\"%.1f\" dy=\"14\">%d</tspan>", x,
                        tm.tm_year + 1900);
        es_buf_adds(out, "</text>\n");
        prev_day = day;
        prev_year = tm.tm_year;
    }
    es_buf_adds(out, "</g>\n");
}

/* ==== Series ==== */

/* The count below layer @label of bucket @i: the layers stacked under it. */
static long stacked_below(const struct es_stats_cell *cell, int label)
{
    long n = 0;
    for (int l = 0; l < label; l++)
        n += cell->count[l];
    return n;
}

static void add_columns(struct es_buf *out, const struct chart *c, int label)
{
    const struct es_stats *st = c->st;
    double gap = c->slot >= 6 ? c->slot * 0.2 : 0;
    for (size_t i = 0; i < st->nbuckets; i++) {
        const struct es_stats_cell *cell = &st->total.cells[i];
        long n = cell->count[label];
        if (n == 0)
            continue;
        long below = stacked_below(cell, label);
        double y0 = y_count(c, (double)below);
        double y1 = y_count(c, (double)(below + n));
        char start[21];
        es_time_format(st->since + (int64_t)i * st->bucket, start);
        es_buf_addf(out,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                    "height=\"%.1f\"><title>%s: %ld %s</title></rect>\n",
                    x_of(c, (double)i) + gap / 2, y1, c->slot - gap, y0 - y1,
                    start, n, es_stats_label_name(label));
    }
}

/* One closed path per layer, stepped like the columns it stands for: its
 * top edge left to right, its bottom edge back. A level is written once
 * however many buckets keep it (H to where it ends, V to the next), which
 * keeps the long runs of zeros of a quiet night short. */
static void add_area(struct es_buf *out, const struct chart *c, int label)
{
    const struct es_stats_cell *cells = c->st->total.cells;
    size_t n = c->st->nbuckets;
    long level = stacked_below(&cells[0], label) + cells[0].count[label];

    es_buf_addf(out, "<path d=\"M%.1f %.1f", x_of(c, 0),
                y_count(c, (double)level));
    for (size_t i = 1; i < n; i++) {
        long top = stacked_below(&cells[i], label) + cells[i].count[label];
        if (top != level)
            es_buf_addf(out, "H%.1fV%.1f", x_of(c, (double)i),
                        y_count(c, (double)top));
        level = top;
    }
    level = stacked_below(&cells[n - 1], label);
    es_buf_addf(out, "H%.1fV%.1f", x_of(c, (double)n),
                y_count(c, (double)level));
    for (size_t i = n - 1; i-- > 0;) {
        long bottom = stacked_below(&cells[i], label);
        if (bottom != level)
            es_buf_addf(out, "H%.1fV%.1f", x_of(c, (double)(i + 1)),
                        y_count(c, (double)bottom));
        level = bottom;
    }
    es_buf_addf(out, "H%.1fZ\"/>\n", x_of(c, 0));
}

/* A point of the net sentiment line: the mean compound score of the
 * buckets [first, first + span), NAN when none of them has a scored
 * mention. */
static double net_of_span(const struct es_stats_cell *cells, size_t first,
                          size_t span)
{
    double sum = 0;
    long scored = 0;
    for (size_t i = first; i < first + span; i++) {
        sum += cells[i].sentiment_sum;
        scored += cells[i].scored;
    }
    return scored ? sum / (double)scored : NAN;
}

/* The net sentiment line, broken where no mention was scored; points
 * that stand alone (or every point, when there is room) get a dot. With
 * buckets narrower than NET_MIN_PX a point stands for several of them
 * (their mean, weighted by scored mentions): a line through thousands of
 * single 5-minute means is noise, not a trend. */
static void add_net_line(struct es_buf *out, const struct chart *c)
{
    const struct es_stats *st = c->st;
    size_t span =
        c->slot >= NET_MIN_PX ? 1 : (size_t)ceil(NET_MIN_PX / c->slot);
    size_t npoints = (st->nbuckets + span - 1) / span;
    double *net = es_xmalloc((npoints ? npoints : 1) * sizeof(*net));
    double *x = es_xmalloc((npoints ? npoints : 1) * sizeof(*x));
    int pen_down = 0, any = 0;

    for (size_t p = 0; p < npoints; p++) {
        size_t first = p * span;
        size_t n = first + span <= st->nbuckets ? span : st->nbuckets - first;
        net[p] = net_of_span(st->total.cells, first, n);
        x[p] = x_of(c, (double)first + (double)n / 2);
    }
    es_buf_addf(out,
                "<g id=\"series-net\" data-series=\"net_sentiment\" "
                "fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
                "stroke-linejoin=\"round\">\n<path d=\"",
                NET_COLOUR);
    for (size_t p = 0; p < npoints; p++) {
        if (isnan(net[p])) {
            pen_down = 0;
            continue;
        }
        es_buf_addf(out, "%c%.1f %.1f", pen_down ? 'L' : 'M', x[p],
                    y_net(net[p]));
        pen_down = 1;
        any = 1;
    }
    /* An empty d draws nothing but is not valid path data. */
    es_buf_adds(out, any ? "\"/>\n" : "M0 0\" stroke=\"none\"/>\n");
    double room = c->slot * (double)span;
    for (size_t p = 0; p < npoints; p++) {
        if (isnan(net[p]))
            continue;
        int alone = (p == 0 || isnan(net[p - 1])) &&
                    (p + 1 == npoints || isnan(net[p + 1]));
        if (room < 8 && !alone)
            continue;
        es_buf_addf(out,
                    "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\" "
                    "stroke=\"none\"/>\n",
                    x[p], y_net(net[p]), room < 8 ? "1.5" : "2.5", NET_COLOUR);
    }
    es_buf_adds(out, "</g>\n");
    free(net);
    free(x);
}

/* ==== The document ==== */

static void add_axes(struct es_buf *out, const struct chart *c)
{
    /* Grid and counts on the left. */
    es_buf_addf(out, "<g id=\"axis-count\" fill=\"%s\" font-size=\"11\">\n",
                TEXT_COLOUR);
    for (double v = 0; v <= c->top_count + 1e-9; v += c->count_step) {
        double y = y_count(c, v);
        es_buf_addf(out,
                    "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
                    "stroke=\"%s\"/>\n",
                    PLOT_LEFT, y, PLOT_RIGHT, y, GRID_COLOUR);
        es_buf_addf(out,
                    "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.0f"
                    "</text>\n",
                    PLOT_LEFT - 6, y + 4, v);
    }
    es_buf_addf(out,
                "<text transform=\"translate(18 %d) rotate(-90)\" "
                "text-anchor=\"middle\">mentions per ",
                (PLOT_TOP + PLOT_BOTTOM) / 2);
    add_per(out, c->st->bucket);
    es_buf_adds(out, "</text>\n</g>\n");

    /* Net sentiment on the right, -1..1, with its zero line. */
    es_buf_addf(out,
                "<g id=\"axis-net\" fill=\"%s\" font-size=\"11\">\n"
                "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
                "stroke=\"%s\" stroke-dasharray=\"4 3\" "
                "stroke-opacity=\"0.5\"/>\n",
                NET_COLOUR, PLOT_LEFT, y_net(0), PLOT_RIGHT, y_net(0),
                NET_COLOUR);
    static const char *const net_labels[] = { "-1", "-0.5", "0", "+0.5", "+1" };
    for (int k = 0; k < 5; k++) {
        double y = y_net(-1 + 0.5 * k);
        es_buf_addf(out,
                    "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
                    "stroke=\"%s\"/>\n<text x=\"%d\" y=\"%.1f\">%s</text>\n",
                    PLOT_RIGHT, y, PLOT_RIGHT + 4, y, NET_COLOUR,
                    PLOT_RIGHT + 7, y + 4, net_labels[k]);
    }
    es_buf_addf(out,
                "<text transform=\"translate(%d %d) rotate(90)\" "
                "text-anchor=\"middle\">net sentiment (mean compound)</text>\n"
                "</g>\n",
                WIDTH - 16, (PLOT_TOP + PLOT_BOTTOM) / 2);

    /* The frame's bottom and sides. */
    es_buf_addf(
        out, "<path d=\"M%d %dV%dH%dV%d\" fill=\"none\" stroke=\"%s\"/>\n",
        PLOT_LEFT, PLOT_TOP, PLOT_BOTTOM, PLOT_RIGHT, PLOT_TOP, TEXT_COLOUR);
}

static void add_legend(struct es_buf *out, const struct es_stats *st)
{
    double x = PLOT_LEFT;
    const int y = HEIGHT - 20;
    es_buf_addf(out, "<g id=\"legend\" fill=\"%s\" font-size=\"12\">\n",
                TEXT_COLOUR);
    for (int l = 0; l < ES_STATS_NLABELS; l++) {
        char text[64];
        int len = snprintf(text, sizeof(text), "%s (%ld)",
                           es_stats_label_name(l), st->total.sum.count[l]);
        es_buf_addf(out,
                    "<rect x=\"%.1f\" y=\"%d\" width=\"12\" height=\"12\" "
                    "fill=\"%s\" stroke=\"#999999\" stroke-width=\"0.5\"/>\n"
                    "<text x=\"%.1f\" y=\"%d\">%s</text>\n",
                    x, y - 10, fills[l], x + 17, y, text);
        /* About 6.5 px per character at 12 px sans-serif. */
        x += 17 + 6.5 * len + 22;
    }
    es_buf_addf(out,
                "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
                "stroke=\"%s\" stroke-width=\"2\"/>\n"
                "<text x=\"%.1f\" y=\"%d\">net sentiment</text>\n</g>\n",
                x, y - 4, x + 18, y - 4, NET_COLOUR, x + 23, y);
}

/* "1234 mentions, net sentiment -0.12, 23% of the scored negative". */
static void add_summary(struct es_buf *out, const struct es_stats *st)
{
    const struct es_stats_cell *s = &st->total.sum;
    es_buf_addf(out,
                "<text x=\"%d\" y=\"46\" fill=\"#666666\" font-size=\"12\">"
                "%ld mention%s",
                PLOT_LEFT, s->total, s->total == 1 ? "" : "s");
    if (!isnan(s->net))
        es_buf_addf(out, ", net sentiment %+.2f", s->net);
    if (!isnan(s->share_negative))
        es_buf_addf(out, ", %.0f%% of the scored negative",
                    s->share_negative * 100);
    if (s->count[ES_STATS_UNSCORED])
        es_buf_addf(out, ", %ld unscored", s->count[ES_STATS_UNSCORED]);
    es_buf_adds(out, "</text>\n");
}

void es_stats_svg(const struct es_stats *st, const char *title,
                  struct es_buf *out)
{
    struct es_buf t = ES_BUF_INIT;
    struct chart c = { .st = st };
    long max = 0;

    if (title)
        es_buf_adds(&t, title);
    else
        default_title(&t, st);
    for (size_t i = 0; i < st->nbuckets; i++)
        if (st->total.cells[i].total > max)
            max = st->total.cells[i].total;
    c.count_step = nice_step((double)max);
    c.top_count = max ? ceil((double)max / c.count_step) * c.count_step
                      : 5 * c.count_step;
    c.slot = st->nbuckets
                 ? (double)(PLOT_RIGHT - PLOT_LEFT) / (double)st->nbuckets
                 : PLOT_RIGHT - PLOT_LEFT;

    es_buf_addf(out,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
                "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                "font-family=\"Helvetica, Arial, sans-serif\" role=\"img\" "
                "aria-labelledby=\"chart-title\">\n<title id=\"chart-title\">",
                WIDTH, HEIGHT, WIDTH, HEIGHT);
    add_xml_text(out, t.ptr);
    es_buf_adds(out, "</title>\n<desc>Stacked mentions per ");
    add_per(out, st->bucket);
    es_buf_adds(out, " by sentiment label (negative, neutral, positive, "
                     "unscored) with the net sentiment, the mean compound "
                     "score of the scored mentions, on the right axis from "
                     "-1 to 1. Times are UTC.</desc>\n");
    es_buf_addf(out,
                "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n"
                "<text x=\"%d\" y=\"26\" fill=\"%s\" font-size=\"16\" "
                "font-weight=\"bold\">",
                WIDTH, HEIGHT, PLOT_LEFT, TEXT_COLOUR);
    add_xml_text(out, t.ptr);
    es_buf_adds(out, "</text>\n");
    add_summary(out, st);
    add_axes(out, &c);

    int columns = c.slot >= MIN_COLUMN_PX;
    for (int l = 0; l < ES_STATS_NLABELS; l++) {
        es_buf_addf(out,
                    "<g id=\"series-%s\" data-series=\"%s\" fill=\"%s\"%s>\n",
                    es_stats_label_name(l), es_stats_label_name(l), fills[l],
                    columns ? "" : " stroke=\"none\"");
        if (columns)
            add_columns(out, &c, l);
        else
            add_area(out, &c, l);
        es_buf_adds(out, "</g>\n");
    }
    add_net_line(out, &c);
    if (max == 0)
        es_buf_addf(out,
                    "<text x=\"%d\" y=\"%d\" fill=\"#999999\" "
                    "font-size=\"14\" text-anchor=\"middle\">no mentions in "
                    "this window</text>\n",
                    (PLOT_LEFT + PLOT_RIGHT) / 2,
                    (PLOT_TOP + PLOT_BOTTOM) / 2 - 20);
    add_time_labels(out, &c);
    add_legend(out, st);
    es_buf_adds(out, "</svg>\n");
    es_buf_release(&t);
}
