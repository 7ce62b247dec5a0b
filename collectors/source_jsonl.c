/* source_jsonl.c - the "jsonl" kind: mentions as JSON Lines
 *
 * The way in for anything earshot has no collector for: a script, an
 * export, another tool's log. Each line is one mention in the format
 * `earshot parse` prints (include/earshot/jsonl.h), read from
 *
 *   path = FILE     a file that grows (a log): each poll reads the lines
 *                   appended since the last one;
 *   command = CMD   a command's standard output (/bin/sh -c CMD, stdin
 *                   /dev/null, stderr passed through), each poll runs it
 *                   once; it must exit 0 within the source's interval (5
 *                   minutes at most) and print at most 16 MiB, else the
 *                   poll fails and nothing it printed is kept;
 *   url = URL       an HTTP(S) document, fetched like a feed (ETag and
 *                   Last-Modified honoured).
 *
 * File and command are read here, in the polling thread, through the
 * kind's fetch hook; the URL goes through the poller's HTTP client like
 * any other kind (a second ops table without fetch, same name).
 *
 * A bad line is reported with its number and skipped, the good ones are
 * kept: parse emits them first and then returns ES_EPARSE "line N: ...",
 * which the poller turns into a recovered page.
 *
 * For a file the cursor is where the first unread line starts, with what
 * identifies the file: {"dev","ino"} (a rotated file restarts at 0), the
 * offset and the line number there, and a hash of the 64 bytes before the
 * offset (a file truncated and rewritten past the old offset restarts at
 * 0 too). It is stored with the lines read, so a restart resumes with no
 * gap and no duplicate. A last line without its newline is being written:
 * it is left for the next poll. A poll reads at most 16 MiB of the file;
 * it asks for another read when there is more.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "earshot/alloc.h"
#include "earshot/error.h"
#include "earshot/jsonl.h"
#include "earshot/source.h"
#include "http.h"
#include "json.h"

extern char **environ;

/* Defined at the bottom; registry.c refers to the first. */
extern const struct es_source_ops es_source_jsonl_ops;
static const struct es_source_ops jsonl_url_ops;

#define KIND        "jsonl"
#define CHUNK_MAX   ((size_t)ES_HTTP_MAX_BODY) /* bytes per read/output */
#define TAIL_BYTES  64                         /* hashed before the offset */
#define CMD_TIMEOUT 300 /* seconds at most, and never past the interval */
#define BAD_LISTED  5   /* line numbers listed in the message */
#define READ_STEP   65536

/* ==== One line ==== */

/* Sets @err and the thread's message; returns ES_EPARSE. */
__attribute__((format(printf, 3, 4))) static int
line_error(char *err, size_t errsize, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    es_utf8_scrub(msg);
    if (err && errsize)
        snprintf(err, errsize, "%s", msg);
    return es_error_set(ES_EPARSE, "%s", msg);
}

/* A string-valued key: *out is NULL when absent or null. */
static int get_str(yajl_val obj, const char *key, const char **out, char *err,
                   size_t errsize)
{
    yajl_val v = es_json_get(obj, key);
    *out = NULL;
    if (!v)
        return 0;
    if (!YAJL_IS_STRING(v))
        return line_error(err, errsize, "\"%s\" must be a string", key);
    *out = v->u.string;
    return 0;
}

/* A time-valued key: ISO 8601 string or Unix seconds. */
static int get_time(yajl_val obj, const char *key, int64_t *out, char *err,
                    size_t errsize)
{
    yajl_val v = es_json_get(obj, key);
    *out = ES_TIME_UNKNOWN;
    if (!v)
        return 0;
    if (YAJL_IS_STRING(v) && !*v->u.string)
        return 0;
    *out = es_json_time(obj, key);
    if (*out == ES_TIME_UNKNOWN)
        return line_error(err, errsize,
                          "\"%s\" must be an ISO 8601 time or Unix seconds",
                          key);
    return 0;
}

/* Appends @v as JSON (reply_ref objects are kept as text). Numbers keep
 * their original spelling; strings are valid UTF-8 (yajl checked). */
static void add_json(struct es_buf *b, yajl_val v)
{
    if (!v || YAJL_IS_NULL(v)) {
        es_buf_adds(b, "null");
    } else if (YAJL_IS_STRING(v)) {
        es_buf_add_json_str(b, v->u.string, strlen(v->u.string));
    } else if (YAJL_IS_NUMBER(v)) {
        es_buf_adds(b, v->u.number.r);
    } else if (YAJL_IS_TRUE(v)) {
        es_buf_adds(b, "true");
    } else if (YAJL_IS_FALSE(v)) {
        es_buf_adds(b, "false");
    } else if (YAJL_IS_ARRAY(v)) {
        es_buf_addch(b, '[');
        for (size_t i = 0; i < v->u.array.len; i++) {
            if (i)
                es_buf_addch(b, ',');
            add_json(b, v->u.array.values[i]);
        }
        es_buf_addch(b, ']');
    } else if (YAJL_IS_OBJECT(v)) {
        es_buf_addch(b, '{');
        for (size_t i = 0; i < v->u.object.len; i++) {
            if (i)
                es_buf_addch(b, ',');
            const char *k = v->u.object.keys[i];
            es_buf_add_json_str(b, k, strlen(k));
            es_buf_addch(b, ':');
            add_json(b, v->u.object.values[i]);
        }
        es_buf_addch(b, '}');
    }
}

/* The string members and where they go. */
static const struct {
    const char *key;
    size_t offset;
} str_keys[] = {
    { "platform", offsetof(struct es_item, platform) },
    { "url", offsetof(struct es_item, url) },
    { "title", offsetof(struct es_item, title) },
    { "author", offsetof(struct es_item, author) },
    { "author_name", offsetof(struct es_item, author_name) },
    { "text", offsetof(struct es_item, text) },
    { "content", offsetof(struct es_item, content) },
    { "summary", offsetof(struct es_item, summary) },
    { "in_reply_to", offsetof(struct es_item, in_reply_to) },
    { "thread_root", offsetof(struct es_item, thread_root) },
    { "lang", offsetof(struct es_item, lang) },
};

/* Fills @item from the object @o. */
static int convert(yajl_val o, struct es_item *item, char *err, size_t errsize)
{
    int rc;
    const char *s;
    char idbuf[64];

    if (!es_json_is_object(o))
        return line_error(err, errsize, "expected a JSON object");
    yajl_val id = es_json_get(o, "id");
    if (!id)
        return line_error(err, errsize, "missing \"id\"");
    if (YAJL_IS_STRING(id) && *id->u.string)
        item->external_id = es_xstrdup(id->u.string);
    else if (YAJL_IS_NUMBER(id) && es_json_id(o, "id", idbuf, sizeof(idbuf)))
        item->external_id = es_xstrdup(idbuf);
    else
        return line_error(err, errsize,
                          "\"id\" must be a non-empty string or a number");
    if (!es_json_get(o, "text"))
        return line_error(err, errsize, "missing \"text\"");
    for (size_t i = 0; i < sizeof(str_keys) / sizeof(*str_keys); i++) {
        if ((rc = get_str(o, str_keys[i].key, &s, err, errsize)) != 0)
            return rc;
        if (s)
            *(char **)((char *)item + str_keys[i].offset) = es_xstrdup(s);
    }
    if (!item->platform || !*item->platform)
        es_json_set(&item->platform, KIND);
    if ((rc = get_time(o, "created_at", &item->created_at, err, errsize)) ||
        (rc = get_time(o, "updated_at", &item->updated_at, err, errsize)))
        return rc;

    yajl_val v = es_json_get(o, "author_followers");
    long long n;
    if (v && (es_json_int(o, "author_followers", &n) != 0 || n < 0))
        return line_error(err, errsize, "\"author_followers\" must be a count");
    if (v)
        item->author_followers = n;
    v = es_json_get(o, "rating");
    if (v && (es_json_int(o, "rating", &n) != 0 || n < 0 || n > 5))
        return line_error(err, errsize, "\"rating\" must be 1 to 5");
    if (v)
        item->rating = (int)n;

    if ((rc = get_str(o, "kind", &s, err, errsize)) != 0)
        return rc;
    if (s && es_item_kind_parse(s, &item->kind) != 0)
        return line_error(err, errsize, "unknown \"kind\" '%.40s'", s);

    v = es_json_get(o, "categories");
    if (v && !es_json_is_array(v))
        return line_error(err, errsize, "\"categories\" must be an array");
    for (size_t i = 0; i < es_json_len(v); i++) {
        yajl_val c = es_json_at(v, i);
        if (!c || !YAJL_IS_STRING(c))
            return line_error(err, errsize, "\"categories\" must hold strings");
        es_item_add_category(item, c->u.string);
    }

    v = es_json_get(o, "reply_ref");
    if (v && YAJL_IS_STRING(v)) {
        item->reply_ref = es_xstrdup(v->u.string);
    } else if (v && YAJL_IS_OBJECT(v)) {
        struct es_buf b = ES_BUF_INIT;
        add_json(&b, v);
        item->reply_ref = es_buf_detach(&b);
    } else if (v) {
        return line_error(err, errsize,
                          "\"reply_ref\" must be a string or an object");
    }
    return 0;
}

int es_jsonl_parse_line(const char *line, size_t len, struct es_item *item,
                        char *err, size_t errsize)
{
    struct es_buf b = ES_BUF_INIT;
    yajl_val root = NULL;
    int rc;

    es_item_release(item);
    if (err && errsize)
        err[0] = '\0';
    while (len && (line[len - 1] == '\r' || line[len - 1] == '\n' ||
                   line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;
    while (len && (*line == ' ' || *line == '\t' || *line == '\r')) {
        line++;
        len--;
    }
    if (len == 0)
        return ES_ENOTFOUND;
    if (len > ES_JSONL_MAX_LINE)
        return line_error(err, errsize, "longer than %zu bytes",
                          (size_t)ES_JSONL_MAX_LINE);
    /* yajl reads up to a NUL. */
    es_buf_add(&b, line, len);
    rc = es_json_parse(&root, KIND, b.ptr, b.len);
    if (rc != 0) {
        const char *msg = es_error_last();
        if (strncmp(msg, KIND ": ", sizeof(KIND ": ") - 1) == 0)
            msg += sizeof(KIND ": ") - 1;
        char copy[256];
        snprintf(copy, sizeof(copy), "%s", msg);
        rc = line_error(err, errsize, "%s", copy);
        goto done;
    }
    rc = convert(root, item, err, errsize);
done:
    if (rc != 0)
        es_item_release(item);
    es_json_free(root);
    es_buf_release(&b);
    return rc;
}

/* ==== Many lines ==== */

/* Bad lines of one body, for the message. */
struct bad_lines {
    size_t count;
    unsigned long first; /* line number of the first */
    char first_why[200]; /* its reason */
    unsigned long more[BAD_LISTED];
};

/* Records bad line @lineno and why. */
static void add_bad(struct bad_lines *bad, unsigned long lineno,
                    const char *why)
{
    if (bad->count == 0) {
        bad->first = lineno;
        snprintf(bad->first_why, sizeof(bad->first_why), "%s", why);
    } else if (bad->count <= BAD_LISTED) {
        bad->more[bad->count - 1] = lineno;
    }
    bad->count++;
}

/* Parses every complete line of @buf (@len bytes; the last one may lack
 * its newline), numbering them from @first_line + 1, and emits the good
 * ones with source @source, counting them in *@emitted. Returns 0, or
 * what emit returned; bad lines are added to @bad. */
static int parse_lines(const char *buf, size_t len, unsigned long first_line,
                       const char *source, struct bad_lines *bad,
                       es_item_cb emit, void *payload, size_t *emitted)
{
    struct es_item item;
    char why[200];
    unsigned long lineno = first_line;
    int rc = 0;

    es_item_init(&item);
    /* A byte order mark at the very start of the input. */
    if (first_line == 0 && len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
        buf += 3;
        len -= 3;
    }
    for (size_t pos = 0; pos < len && rc == 0;) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) : len;
        lineno++;
        int prc =
            es_jsonl_parse_line(buf + pos, end - pos, &item, why, sizeof(why));
        pos = end + 1;
        if (prc == ES_ENOTFOUND)
            continue;
        if (prc != 0) {
            add_bad(bad, lineno, why);
            continue;
        }
        es_json_set(&item.source, source);
        rc = emit(&item, payload);
        es_item_release(&item);
        (*emitted)++;
    }
    es_item_release(&item);
    return rc;
}

/* ES_EPARSE naming @what and the bad lines, or 0 when there is none. */
static int bad_lines_error(const char *what, const struct bad_lines *bad)
{
    if (bad->count == 0)
        return 0;
    struct es_buf b = ES_BUF_INIT;
    es_buf_addf(&b, "%s: line %lu: %s", what, bad->first, bad->first_why);
    if (bad->count > 1) {
        size_t others = bad->count - 1;
        es_buf_addf(&b, " (and %zu more bad line%s: ", others,
                    others == 1 ? "" : "s");
        for (size_t i = 0; i < others && i < BAD_LISTED; i++)
            es_buf_addf(&b, "%s%lu", i ? ", " : "", bad->more[i]);
        es_buf_adds(&b, others > BAD_LISTED ? ", ...)" : ")");
    }
    int rc = es_error_set(ES_EPARSE, "%s", b.ptr);
    es_buf_release(&b);
    return rc;
}

static int jsonl_parse_any(const char *buf, size_t len,
                           const struct es_parse_opts *opts, es_item_cb emit,
                           void *payload)
{
    struct bad_lines bad = { 0 };
    size_t emitted = 0;
    int rc = parse_lines(buf, len, 0, opts ? opts->source : NULL, &bad, emit,
                         payload, &emitted);
    return rc != 0 ? rc : bad_lines_error(KIND, &bad);
}

/* ==== The source ==== */

enum mode { MODE_PATH, MODE_COMMAND, MODE_URL };

/* Where reading a file stands. */
struct file_pos {
    uintmax_t dev, ino; /* identity of the file */
    uint64_t offset;    /* start of the first unread line */
    unsigned long line; /* lines before it */
    uint64_t tail;      /* hash of the TAIL_BYTES before it */
};

struct jsonl_source {
    struct es_source base; /* must stay first */
    enum mode mode;
    char *path;               /* MODE_PATH */
    char *command;            /* MODE_COMMAND */
    char *what;               /* "source 'NAME'", for messages */
    char *auth_header;        /* MODE_URL with a token: a secret */
    char *ua_header;          /* "User-Agent: ..." or NULL */
    struct file_pos pos;      /* MODE_PATH: where the next read starts */
    struct file_pos end;      /* after the lines handed to parse */
    unsigned long first_line; /* lines before the body given to parse */
    int chunk_more;           /* a full chunk was read: read again */
    unsigned long skipped;    /* a line over CHUNK_MAX was skipped */
    struct bad_lines bad;     /* MODE_PATH: not reported yet */
    char *bad_cursor;         /* the cursor stored after them */
};

/* Reads up to @n bytes at @off; returns the count, or -1. */
static ssize_t read_at(int fd, void *buf, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

/* Hash of the (up to) TAIL_BYTES bytes before @off; 0 at the start. */
static int tail_hash(int fd, uint64_t off, uint64_t *out)
{
    unsigned char t[TAIL_BYTES];
    size_t n = off < TAIL_BYTES ? (size_t)off : TAIL_BYTES;
    *out = 0;
    if (n == 0)
        return 0;
    if (read_at(fd, t, n, off - n) != (ssize_t)n)
        return -1;
    *out = es_fnv1a(ES_FNV1A_INIT, t, n);
    return 0;
}

/* Parses the stored cursor; a malformed one means the start of the file. */
static void pos_from_cursor(struct file_pos *p, const char *cursor)
{
    yajl_val v = NULL;
    long long off, line;
    memset(p, 0, sizeof(*p));
    if (!cursor || !*cursor)
        return;
    if (es_json_parse(&v, "cursor", cursor, strlen(cursor)) != 0) {
        es_error_clear();
        return;
    }
    const char *dev = es_json_str(v, "dev");
    const char *ino = es_json_str(v, "ino");
    const char *tail = es_json_str(v, "tail");
    if (dev && ino && tail && es_json_int(v, "offset", &off) == 0 &&
        es_json_int(v, "line", &line) == 0 && off >= 0 && line >= 0) {
        p->dev = strtoumax(dev, NULL, 10);
        p->ino = strtoumax(ino, NULL, 10);
        p->tail = strtoull(tail, NULL, 16);
        p->offset = (uint64_t)off;
        p->line = (unsigned long)line;
    }
    es_json_free(v);
}

static char *pos_to_cursor(const struct file_pos *p)
{
    return es_xasprintf("{\"dev\":\"%ju\",\"ino\":\"%ju\",\"offset\":%" PRIu64
                        ",\"line\":%lu,\"tail\":\"%016" PRIx64 "\"}",
                        p->dev, p->ino, p->offset, p->line, p->tail);
}

/* Finds the first '\n' at or after @off; returns its offset, or -1 when
 * there is none yet (or on a read error). */
static int64_t find_newline(int fd, uint64_t off, uint64_t size)
{
    char buf[READ_STEP];
    while (off < size) {
        ssize_t n = read_at(fd, buf, sizeof(buf), off);
        if (n <= 0)
            return -1;
        const char *nl = memchr(buf, '\n', (size_t)n);
        if (nl)
            return (int64_t)(off + (uint64_t)(nl - buf));
        off += (uint64_t)n;
    }
    return -1;
}

/* Reads the complete lines appended since s->pos into @body. */
static int fetch_file(struct jsonl_source *s, struct es_buf *body)
{
    struct stat st;
    int rc = 0;
    int fd = open(s->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return es_error_set(errno == ENOENT ? ES_ENOTFOUND : ES_ERROR,
                            "%s: cannot open '%s': %s", s->what, s->path,
                            strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = es_error_set(ES_EINVALID, "%s: '%s' is not a regular file",
                          s->what, s->path);
        goto done;
    }
    uint64_t size = (uint64_t)st.st_size;
    struct file_pos p = s->pos;
    uint64_t tail;
    /* Another file, or this one cut shorter or rewritten: start over. */
    if (p.dev != (uintmax_t)st.st_dev || p.ino != (uintmax_t)st.st_ino ||
        p.offset > size || tail_hash(fd, p.offset, &tail) != 0 ||
        tail != p.tail) {
        memset(&p, 0, sizeof(p));
        p.dev = (uintmax_t)st.st_dev;
        p.ino = (uintmax_t)st.st_ino;
    }
    s->skipped = 0;
    s->chunk_more = 0;
    for (;;) {
        size_t want =
            size - p.offset < CHUNK_MAX ? (size_t)(size - p.offset) : CHUNK_MAX;
        if (want == 0)
            break;
        es_buf_reset(body);
        es_buf_grow(body, want);
        ssize_t n = read_at(fd, body->ptr, want, p.offset);
        if (n < 0) {
            rc = es_error_set(ES_ERROR, "%s: cannot read '%s': %s", s->what,
                              s->path, strerror(errno));
            goto done;
        }
        body->len = (size_t)n;
        body->ptr[n] = '\0';
        size_t last = body->len;
        while (last > 0 && body->ptr[last - 1] != '\n')
            last--;
        if (last > 0) {
            es_buf_truncate(body, last);
            s->chunk_more = (size_t)n == CHUNK_MAX;
            break;
        }
        es_buf_reset(body);
        if ((size_t)n < CHUNK_MAX)
            break; /* a line still being written */
        /* One line over the cap: skip it, report it, read on. */
        int64_t nl = find_newline(fd, p.offset + CHUNK_MAX, size);
        if (nl < 0)
            break;
        p.line++;
        p.offset = (uint64_t)nl + 1;
        s->skipped = p.line;
    }
    s->first_line = p.line;
    s->end = p;
    s->end.offset = p.offset + body->len;
    for (size_t i = 0; i < body->len; i++)
        if (body->ptr[i] == '\n')
            s->end.line++;
    if (tail_hash(fd, s->end.offset, &s->end.tail) != 0) {
        rc = es_error_set(ES_ERROR, "%s: cannot read '%s': %s", s->what,
                          s->path, strerror(errno));
        goto done;
    }
    if (body->len == 0 && !s->skipped) {
        es_error_clear();
        rc = ES_EUNCHANGED;
    }
done:
    close(fd);
    return rc;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs s->command with /bin/sh -c, its standard output read into @body
 * (at most CHUNK_MAX bytes) and its standard error passed through, for at
 * most @timeout_s seconds. */
static int run_command(struct jsonl_source *s, struct es_buf *body,
                       int timeout_s)
{
    int fds[2] = { -1, -1 };
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t sigs;
    pid_t pid = -1;
    int rc = 0, status = 0, reaped = 0;
    char sh[] = "sh", dash_c[] = "-c";
    char *argv[] = { sh, dash_c, s->command, NULL };

    if (pipe(fds) != 0)
        return es_error_set(ES_ERROR, "%s: cannot create a pipe: %s", s->what,
                            strerror(errno));
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY,
                                     0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    posix_spawnattr_init(&attr);
    /* Its own process group, so a timeout kills the whole pipeline; and
     * the signals a daemon may block or ignore back to normal. */
    posix_spawnattr_setpgroup(&attr, 0);
    sigemptyset(&sigs);
    posix_spawnattr_setsigmask(&attr, &sigs);
    sigaddset(&sigs, SIGPIPE);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    sigaddset(&sigs, SIGQUIT);
    sigaddset(&sigs, SIGCHLD);
    posix_spawnattr_setsigdefault(&attr, &sigs);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
                                        POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    int err = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(fds[1]);
    if (err != 0) {
        close(fds[0]);
        return es_error_set(ES_ERROR, "%s: cannot run the command: %s", s->what,
                            strerror(err));
    }

    int64_t deadline = now_ms() + (int64_t)timeout_s * 1000;
    es_buf_reset(body);
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            rc = es_error_set(ES_ERROR, "%s: the command timed out after %d s",
                              s->what, timeout_s);
            goto kill;
        }
        struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
        int pr = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
        if (pr < 0 && errno != EINTR) {
            rc = es_error_set(ES_ERROR, "%s: poll failed: %s", s->what,
                              strerror(errno));
            goto kill;
        }
        if (pr <= 0)
            continue;
        es_buf_grow(body, READ_STEP);
        ssize_t n = read(fds[0], body->ptr + body->len, READ_STEP);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = es_error_set(ES_ERROR,
                              "%s: cannot read the command's "
                              "output: %s",
                              s->what, strerror(errno));
            goto kill;
        }
        if (n == 0)
            break;
        body->len += (size_t)n;
        body->ptr[body->len] = '\0';
        if (body->len > CHUNK_MAX) {
            rc = es_error_set(ES_ETOOBIG,
                              "%s: the command's output is over the %zu-byte "
                              "limit",
                              s->what, (size_t)CHUNK_MAX);
            goto kill;
        }
    }
    /* Output closed: wait for the exit, still within the deadline. */
    while (!reaped) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            reaped = 1;
            break;
        }
        if (w < 0 && errno != EINTR) {
            rc = es_error_set(ES_ERROR, "%s: waitpid failed: %s", s->what,
                              strerror(errno));
            goto kill;
        }
        if (now_ms() >= deadline) {
            rc = es_error_set(ES_ERROR, "%s: the command timed out after %d s",
                              s->what, timeout_s);
            goto kill;
        }
        struct timespec ten_ms = { 0, 10 * 1000 * 1000 };
        nanosleep(&ten_ms, NULL);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        rc = es_error_set(ES_ERROR, "%s: the command exited with status %d",
                          s->what, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        rc = es_error_set(ES_ERROR, "%s: the command was killed by signal %d",
                          s->what, WTERMSIG(status));
kill:
    if (!reaped) {
        kill(-pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    close(fds[0]);
    if (rc != 0)
        es_buf_reset(body);
    return rc;
}

static int jsonl_fetch(struct es_source *src, struct es_buf *body)
{
    struct jsonl_source *s = (struct jsonl_source *)src;
    if (s->mode == MODE_PATH)
        return fetch_file(s, body);
    /* A command may not outlive its source's interval. */
    int timeout = src->interval > 0 && src->interval < CMD_TIMEOUT
                      ? src->interval
                      : CMD_TIMEOUT;
    s->first_line = 0;
    s->skipped = 0;
    return run_command(s, body, timeout);
}

static int jsonl_parse(struct es_source *src,
                       const struct es_source_response *res,
                       struct es_source_page *page, es_item_cb emit,
                       void *payload)
{
    struct jsonl_source *s = (struct jsonl_source *)src;
    struct bad_lines *bad = &s->bad;
    unsigned long first = s->mode == MODE_URL ? 0 : s->first_line;
    size_t emitted = 0;

    if (s->mode != MODE_PATH)
        memset(bad, 0, sizeof(*bad));
    if (s->mode == MODE_PATH && s->skipped) {
        char why[64];
        snprintf(why, sizeof(why), "longer than %zu bytes",
                 (size_t)ES_JSONL_MAX_LINE);
        add_bad(bad, s->skipped, why);
    }
    int rc = parse_lines(res->body, res->len, first, src->name, bad, emit,
                         payload, &emitted);
    if (rc != 0)
        return rc;
    if (s->mode == MODE_PATH) {
        page->cursor = pos_to_cursor(&s->end);
        page->more = s->chunk_more;
        s->pos = s->end;
        /* A read of bad lines only, with more to read: move on and
         * report them with the next read's items (in this poll, or the
         * next one if it resumes here), or the poller would keep no
         * cursor and every poll would stop here again. */
        if (emitted == 0 && s->chunk_more && bad->count) {
            free(s->bad_cursor);
            s->bad_cursor = es_xstrdup(page->cursor);
            return 0;
        }
    }
    rc = bad_lines_error(s->what, bad);
    memset(bad, 0, sizeof(*bad));
    free(s->bad_cursor);
    s->bad_cursor = NULL;
    return rc;
}

static void jsonl_begin(struct es_source *src, const char *cursor)
{
    struct jsonl_source *s = (struct jsonl_source *)src;
    /* Bad lines carried over are kept only when this poll resumes right
     * after them. */
    if (!cursor || !s->bad_cursor || strcmp(cursor, s->bad_cursor) != 0) {
        memset(&s->bad, 0, sizeof(s->bad));
        free(s->bad_cursor);
        s->bad_cursor = NULL;
    }
    if (s->mode == MODE_PATH)
        pos_from_cursor(&s->pos, cursor);
}

/* The fetch variant never asks for a URL. */
static int jsonl_no_request(struct es_source *src,
                            struct es_source_request *req)
{
    (void)src;
    memset(req, 0, sizeof(*req));
    return ES_EUNCHANGED;
}

static int jsonl_url_request(struct es_source *src,
                             struct es_source_request *req)
{
    struct jsonl_source *s = (struct jsonl_source *)src;
    size_t h = 0;
    memset(req, 0, sizeof(*req));
    req->url = src->url;
    req->headers[h++] = "Accept: application/x-ndjson, application/jsonl, "
                        "application/json;q=0.9, text/plain;q=0.8, */*;q=0.5";
    if (s->auth_header)
        req->headers[h++] = s->auth_header;
    if (s->ua_header)
        req->headers[h++] = s->ua_header;
    req->headers[h] = NULL;
    req->conditional = 1; /* the same document every time, like a feed */
    return 0;
}

static int jsonl_open(struct es_source **out,
                      const struct es_config_source *cfg)
{
    *out = NULL;
    const char *path = es_config_source_get(cfg, "path");
    const char *command = es_config_source_get(cfg, "command");
    const char *url = cfg->url && *cfg->url ? cfg->url : NULL;
    const char *ua = es_config_source_get(cfg, "user_agent");
    int n = (path && *path) + (command && *command) + (url != NULL);

    if (n != 1)
        return es_error_set(ES_EINVALID,
                            "%s:%d: [source \"%s\"] needs %s of path, "
                            "command or url",
                            cfg->file, cfg->line, cfg->name,
                            n ? "only one" : "one");
    if (url && strncmp(url, "http://", 7) != 0 &&
        strncmp(url, "https://", 8) != 0 && strncmp(url, "file://", 7) != 0)
        return es_error_set(ES_EINVALID,
                            "%s:%d: [source \"%s\"] url '%s' is not http, "
                            "https or file",
                            cfg->file, cfg->line, cfg->name, url);

    struct jsonl_source *s = es_xcalloc(1, sizeof(*s));
    int rc = es_source__init_base(
        &s->base, url ? &jsonl_url_ops : &es_source_jsonl_ops, cfg);
    if (rc != 0) {
        free(s);
        return rc;
    }
    s->mode = url ? MODE_URL : path && *path ? MODE_PATH : MODE_COMMAND;
    s->path = path && *path ? es_xstrdup(path) : NULL;
    s->command = command && *command ? es_xstrdup(command) : NULL;
    s->what = es_xasprintf("source '%s'", cfg->name);
    if (url && s->base.token)
        s->auth_header =
            es_xasprintf("Authorization: Bearer %s", s->base.token);
    if (ua && *ua)
        s->ua_header = es_xasprintf("User-Agent: %s", ua);
    *out = &s->base;
    return 0;
}

static void jsonl_close(struct es_source *src)
{
    if (!src)
        return;
    struct jsonl_source *s = (struct jsonl_source *)src;
    if (s->auth_header) {
        memset(s->auth_header, 0, strlen(s->auth_header));
        free(s->auth_header);
    }
    es_source__release_base(&s->base);
    free(s->path);
    free(s->command);
    free(s->what);
    free(s->ua_header);
    free(s->bad_cursor);
    free(s);
}

const struct es_source_ops es_source_jsonl_ops = {
    .name = KIND,
    .flags = 0,
    .default_interval_s = 300,
    .open = jsonl_open,
    .begin = jsonl_begin,
    .request = jsonl_no_request,
    .fetch = jsonl_fetch,
    .parse = jsonl_parse,
    .parse_any = jsonl_parse_any,
    .close = jsonl_close,
};

/* The same kind reading a URL through the poller's HTTP client. */
static const struct es_source_ops jsonl_url_ops = {
    .name = KIND,
    .flags = 0,
    .default_interval_s = 300,
    .open = jsonl_open,
    .begin = jsonl_begin,
    .request = jsonl_url_request,
    .parse = jsonl_parse,
    .parse_any = jsonl_parse_any,
    .close = jsonl_close,
};
