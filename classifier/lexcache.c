/* lexcache.c - a loaded lexicon kept on disk, so the next process skips
 * building it
 *
 * Building the hash table from a lexicon file of 17,000 terms takes about
 * 3 ms: as long as `earshot classify` then needs for 3,000 texts. The
 * table has no pointers in it (keys are offsets into one buffer), so it
 * is written as it is in memory to a cache file, and the next load of the
 * same file by the same program reads it back in well under a
 * millisecond.
 *
 * An image is used only when it was written by this very executable
 * (device, inode, size and modification time of /proc/self/exe) from the
 * very file (the same four of the lexicon): a rebuilt program or an edited
 * lexicon builds the table again and replaces the image. As git does for
 * its index, a lexicon changed in the last two seconds is not cached,
 * since a second change within the file system's clock tick could keep
 * its size and time. Every offset and index read back is checked, so a
 * damaged image is ignored, never trusted. A cache never makes a load
 * fail: any error reading or writing one falls back to the file.
 *
 * Where: $EARSHOT_CACHE_DIR, else $XDG_CACHE_HOME/earshot, else
 * $HOME/.cache/earshot. EARSHOT_CACHE_DIR set to an empty string turns
 * the cache off.
 */
#define _XOPEN_SOURCE 700 /* realpath() */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "earshot/alloc.h"
#include "lexicon.h"

#define IMAGE_MAGIC "eslex-2"

struct image_header {
    char magic[8];
    uint32_t header_size, entry_size, slot_size, lexicon_size;
    struct lexcache_file_id exe, src;
    uint32_t cap, nents, rated, emo_max, multi_names, format;
    uint64_t keys_len;
};

static void file_id_of(const struct stat *st, struct lexcache_file_id *id)
{
    memset(id, 0, sizeof(*id));
    id->dev = (uint64_t)st->st_dev;
    id->ino = (uint64_t)st->st_ino;
    id->size = (uint64_t)st->st_size;
    id->mtime_ns =
        (int64_t)st->st_mtim.tv_sec * 1000000000 + (int64_t)st->st_mtim.tv_nsec;
}

/* The cache file for the lexicon at @real (an absolute path), written by
 * the program at @exe, into @out (PATH_MAX bytes). Returns 0, or -1 when
 * there is no cache. */
static int image_path(const char *real, const char *exe, char *out)
{
    const char *dir = getenv("EARSHOT_CACHE_DIR");
    const char *sub = "";
    if (dir) {
        if (!*dir)
            return -1; /* turned off */
    } else if ((dir = getenv("XDG_CACHE_HOME")) && *dir == '/') {
        sub = "/earshot";
    } else if ((dir = getenv("HOME")) && *dir == '/') {
        sub = "/.cache/earshot";
    } else {
        return -1;
    }
    /* One image per lexicon path and executable: earshot and earshot-core
     * each keep theirs instead of replacing each other's. */
    uint32_t h1 = lex_hash(real, strlen(real));
    uint32_t h2 = lex_hash(exe, strlen(exe));
    int w = snprintf(out, PATH_MAX, "%s%s/lexicon-%08x%08x.img", dir, sub,
                     (unsigned)h1, (unsigned)h2);
    return w > 0 && w < PATH_MAX ? 0 : -1;
}

int es_lexcache__key(struct lexcache_key *key, const char *path)
{
    char real[PATH_MAX];
    struct stat st;
    memset(key, 0, sizeof(*key));
    if (!realpath(path, real) || stat(real, &st) != 0 || !S_ISREG(st.st_mode))
        return -1;
    file_id_of(&st, &key->src);
    if (stat("/proc/self/exe", &st) != 0)
        return -1;
    file_id_of(&st, &key->exe);
    /* The file the link names must be the one running. Under valgrind
     * (or qemu-user) /proc/self/exe is the tool itself, which a rebuilt
     * earshot would not change: an image from an older build would pass.
     * A program replaced since it started fails the test too. */
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    struct stat named;
    if (stat(exe, &named) != 0 || named.st_dev != st.st_dev ||
        named.st_ino != st.st_ino)
        return -1;
    return image_path(real, exe, key->image);
}

/* Reads exactly @len bytes at @off of @fd into @dst. */
static int read_at(int fd, void *dst, size_t len, off_t off)
{
    char *p = dst;
    while (len) {
        ssize_t n = pread(fd, p, len, off);
        if (n <= 0) {
            if (n < 0 && errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        off += n;
        len -= (size_t)n;
    }
    return 0;
}

/* 1 when the table read back is one the lookups can walk safely: every
 * slot names an entry, every entry's key lies in the key buffer, and
 * the probe array has empty slots to end a probe. */
static int image_sane(const struct es_lexicon *lex)
{
    uint32_t used = 0;
    for (uint32_t i = 0; i < lex->cap; i++) {
        uint32_t idx = lex->slots[i].idx;
        if (!idx)
            continue;
        if (idx > lex->nents)
            return 0;
        used++;
    }
    if (used != lex->nents || (uint64_t)used * 10 > (uint64_t)lex->cap * 7)
        return 0;
    for (uint32_t i = 0; i < lex->nents; i++) {
        const struct lex_entry *e = &lex->ents[i];
        if ((uint64_t)e->key_off + e->key_len > lex->keys.len)
            return 0;
    }
    return 1;
}

int es_lexcache__load(struct es_lexicon **out, const struct lexcache_key *key)
{
    struct image_header h;

    *out = NULL;
    int fd = open(key->image, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    struct es_lexicon *lex = NULL;
    if (fstat(fd, &st) != 0 || read_at(fd, &h, sizeof(h), 0) != 0)
        goto fail;
    if (memcmp(h.magic, IMAGE_MAGIC, sizeof(IMAGE_MAGIC)) != 0 ||
        h.header_size != sizeof(h) ||
        h.entry_size != sizeof(struct lex_entry) ||
        h.slot_size != sizeof(struct lex_slot) ||
        h.lexicon_size != sizeof(struct es_lexicon) ||
        memcmp(&h.exe, &key->exe, sizeof(h.exe)) != 0 ||
        memcmp(&h.src, &key->src, sizeof(h.src)) != 0)
        goto fail;
    /* The probe array is a power of two between 1024 and 2^28 slots. */
    if (h.cap < 1024 || h.cap > (1u << 28) || (h.cap & (h.cap - 1)) ||
        h.nents == 0 || h.nents > h.cap || h.keys_len > (1u << 30) ||
        h.format > ES_LEXICON_AFINN)
        goto fail;
    size_t maps = sizeof(lex->emo2) + sizeof(lex->pair) + sizeof(lex->known);
    size_t slots = (size_t)h.cap * sizeof(struct lex_slot);
    size_t ents = (size_t)h.nents * sizeof(struct lex_entry);
    if ((uint64_t)st.st_size != sizeof(h) + maps + slots + ents + h.keys_len)
        goto fail;

    lex = es_xcalloc(1, sizeof(*lex));
    lex->cap = h.cap;
    lex->mask = h.cap - 1;
    lex->nents = h.nents;
    lex->aents = h.nents + 16; /* room for an overlay's first terms */
    lex->rated = h.rated;
    lex->emo_max = h.emo_max;
    lex->multi_names = h.multi_names;
    lex->format = (enum es_lexicon_format)h.format;
    lex->from_cache = 1;
    lex->slots = es_xmalloc(slots);
    lex->ents = es_xmalloc((size_t)lex->aents * sizeof(struct lex_entry));
    es_buf_init(&lex->keys);
    es_buf_grow(&lex->keys, (size_t)h.keys_len);
    struct {
        void *p;
        size_t len;
    } parts[] = {
        { lex->emo2, sizeof(lex->emo2) },
        { lex->pair, sizeof(lex->pair) },
        { lex->known, sizeof(lex->known) },
        { lex->slots, slots },
        { lex->ents, ents },
        { lex->keys.ptr, (size_t)h.keys_len },
    };
    off_t off = sizeof(h);
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        if (read_at(fd, parts[i].p, parts[i].len, off) != 0)
            goto fail;
        off += (off_t)parts[i].len;
    }
    lex->keys.len = (size_t)h.keys_len;
    lex->keys.ptr[lex->keys.len] = '\0';
    if (!image_sane(lex))
        goto fail;
    close(fd);
    *out = lex;
    return 0;
fail:
    close(fd);
    es_lexicon_free(lex);
    return -1;
}

/* Creates @dir and its parents that are missing (mode 0700). */
static int make_dirs(char *dir)
{
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(dir, 0700);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(dir, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

static int write_all(int fd, const void *src, size_t len)
{
    const char *p = src;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

void es_lexcache__save(const struct es_lexicon *lex,
                       const struct lexcache_key *key)
{
    char file[PATH_MAX], tmp[PATH_MAX + 16];
    struct image_header h;

    memset(&h, 0, sizeof(h));
    h.exe = key->exe;
    h.src = key->src;
    snprintf(file, sizeof(file), "%s", key->image);
    /* Racy git's rule: a file changed in the last two seconds may change
     * again within its time stamp's tick. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    if (now_ns - h.src.mtime_ns < 2000000000LL)
        return;
    memcpy(h.magic, IMAGE_MAGIC, sizeof(IMAGE_MAGIC));
    h.header_size = sizeof(h);
    h.entry_size = sizeof(struct lex_entry);
    h.slot_size = sizeof(struct lex_slot);
    h.lexicon_size = sizeof(struct es_lexicon);
    h.cap = lex->cap;
    h.nents = lex->nents;
    h.rated = lex->rated;
    h.emo_max = lex->emo_max;
    h.multi_names = lex->multi_names;
    h.format = (uint32_t)lex->format;
    h.keys_len = lex->keys.len;

    char *slash = strrchr(file, '/');
    *slash = '\0';
    int rc = make_dirs(file);
    *slash = '/';
    if (rc != 0)
        return;
    /* Written aside and renamed over the old image: a reader sees the
     * old one or the new one, never half of one. */
    snprintf(tmp, sizeof(tmp), "%s.XXXXXX", file);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return;
    const struct {
        const void *p;
        size_t len;
    } parts[] = {
        { &h, sizeof(h) },
        { lex->emo2, sizeof(lex->emo2) },
        { lex->pair, sizeof(lex->pair) },
        { lex->known, sizeof(lex->known) },
        { lex->slots, (size_t)lex->cap * sizeof(*lex->slots) },
        { lex->ents, (size_t)lex->nents * sizeof(*lex->ents) },
        { lex->keys.ptr, lex->keys.len },
    };
    int bad = 0;
    for (size_t i = 0; !bad && i < sizeof(parts) / sizeof(parts[0]); i++)
        bad = write_all(fd, parts[i].p, parts[i].len) != 0;
    if (close(fd) != 0)
        bad = 1;
    if (bad || rename(tmp, file) != 0)
        unlink(tmp);
}
