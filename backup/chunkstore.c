/* chunkstore.c: the chunk files of a repository (chunks/ab/<id>) and the
 * small-file helpers every module uses: atomic writes (temp + fsync +
 * rename + fsync dir) and capped reads. Thread safe: no shared state;
 * concurrent writers of one chunk both rename identical content.
 */
#include "backup/bk_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/uuid.h"
#include "common/xalloc.h"

void bk_chunk_relpath(const unsigned char id[BK_ID_LEN], char out[80])
{
    char hex[BK_ID_HEXLEN];

    bk_id_hex(id, hex);
    snprintf(out, 80, "chunks/%.2s/%s", hex, hex);
}

size_t bk_chunk_file_bound(size_t len)
{
    return bk_compress_bound(len) + BK_CHDR_LEN + BK_NONCE_LEN + BK_TAG_LEN;
}

size_t bk_chunk_encode_into(const struct bk_repo *repo,
                            const unsigned char id[BK_ID_LEN], const void *data,
                            size_t len, unsigned char *f,
                            unsigned char *scratch, const void **raw_out)
{
    size_t cap = bk_chunk_file_bound(len), plen = 0, off = BK_CHDR_LEN;
    unsigned char *payload, aad[BK_CHDR_AAD + BK_ID_LEN];
    unsigned char flags = 0;
    const void *src = data;

    if (repo->encrypted)
        off += BK_NONCE_LEN;
    payload = f + off;
    if (repo->encrypted) {
        /* Compress aside, then seal into place. */
        if (bk_compress(repo->level, data, len, scratch, bk_compress_bound(len),
                        &plen)) {
            flags |= BK_FLAG_ZSTD;
            src = scratch;
        } else {
            plen = len;
        }
        flags |= BK_FLAG_ENC;
    } else if (bk_compress(repo->level, data, len, payload, cap - off, &plen)) {
        flags |= BK_FLAG_ZSTD;
    } else {
        plen = len;
        if (raw_out)
            src = NULL; /* the caller writes data after the header */
        else
            memcpy(payload, data, len);
    }
    if (raw_out)
        *raw_out = src ? NULL : data;
    memcpy(f, BK_CHUNK_MAGIC, 4);
    f[4] = 1;
    f[5] = flags;
    f[6] = f[7] = 0;
    bk_put32(f + 8, (uint32_t)len);
    bk_put32(f + 12, (uint32_t)plen);
    if (repo->encrypted) {
        rand_bytes(f + BK_CHDR_LEN, BK_NONCE_LEN);
        memcpy(aad, f, BK_CHDR_AAD);
        memcpy(aad + BK_CHDR_AAD, id, BK_ID_LEN);
        if (bk_gcm_seal(repo->k_enc, f + BK_CHDR_LEN, aad, sizeof(aad), src,
                        plen, payload)) {
            fprintf(stderr, "xenith-backup: encryption failed\n");
            abort();
        }
        plen += BK_TAG_LEN;
    }
    if (!src) {
        bk_put64(f + BK_CHDR_AAD, bk_payload_sum(data, len));
        return off;
    }
    bk_put64(f + BK_CHDR_AAD,
             bk_payload_sum(f + BK_CHDR_LEN, off + plen - BK_CHDR_LEN));
    return off + plen;
}

void bk_chunk_encode(const struct bk_repo *repo,
                     const unsigned char id[BK_ID_LEN], const void *data,
                     size_t len, unsigned char **file_out, size_t *file_len_out)
{
    unsigned char *f = xmalloc(bk_chunk_file_bound(len));
    unsigned char *scratch =
        repo->encrypted ? xmalloc(bk_compress_bound(len)) : NULL;

    *file_len_out = bk_chunk_encode_into(repo, id, data, len, f, scratch, NULL);
    *file_out = f;
    free(scratch);
}

int bk_chunk_exists(const struct bk_repo *repo,
                    const unsigned char id[BK_ID_LEN], int touch)
{
    char rel[80];
    struct stat st;

    bk_chunk_relpath(id, rel);
    if (touch)
        return utimensat(repo->dirfd, rel, NULL, 0) == 0;
    return fstatat(repo->dirfd, rel, &st, 0) == 0;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;

    while (n) {
        ssize_t w = write(fd, c, n);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            return err_from_errno(errno);
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* What relpath is, for a message: "chunk <id>", "index <name>",
 * "manifest <name>", or the path itself. */
static void describe(const char *relpath, char *out, size_t cap)
{
    const char *base = strrchr(relpath, '/');

    base = base ? base + 1 : relpath;
    if (!strncmp(relpath, "chunks/", 7))
        snprintf(out, cap, "chunk %s", base);
    else if (!strncmp(relpath, "indexes/", 8))
        snprintf(out, cap, "index %s", base);
    else if (!strncmp(relpath, "snapshots/", 10))
        snprintf(out, cap, "manifest %s", base);
    else
        snprintf(out, cap, "%s", relpath);
}

/* The directory part of relpath ("." when none) into dir[cap]. */
static void dir_of(const char *relpath, char *dir, size_t cap)
{
    const char *slash = strrchr(relpath, '/');

    if (slash)
        snprintf(dir, cap, "%.*s", (int)(slash - relpath), relpath);
    else
        xstrlcpy(dir, ".", cap);
}

static int fsync_dir(const struct bk_repo *repo, const char *dir)
{
    int dfd = openat(repo->dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int e = 0;

    if (dfd < 0 || fsync(dfd))
        e = errno ? errno : EIO;
    if (dfd >= 0)
        close(dfd);
    return e;
}

/* The reason of a failed step with relpath, for the caller. */
static int write_failed(const struct bk_repo *repo, const char *relpath,
                        const char *step, int e)
{
    char what[128];

    describe(relpath, what, sizeof(what));
    return bk_fail(repo, err_from_errno(e), "%s %s in repository %s: %s", step,
                   what, repo->dir, strerror(e));
}

/* How a file is made durable. */
enum wmode {
    W_FSYNC, /* fsync the file, and after the rename its directory */
    W_START, /* start its writeback: the caller syncs the file system */
    W_LAZY,  /* nothing: the caller syncs the file system (chunk files:
              * the pipeline's flusher thread starts their writeback, so
              * the workers never wait in the block layer's throttle) */
};

/* Write data then tail to a new temp file beside relpath (its path to
 * tmp[BK_TMP_LEN]), as mode says. 0 or an errno value, with *step_out
 * saying what failed. */
static int write_temp(const struct bk_repo *repo, const char *relpath,
                      const void *data, size_t len, const void *tail,
                      size_t tail_len, enum wmode mode, char *tmp,
                      const char **step_out)
{
    char dir[200], rnd[17];
    int fd, rc, e = 0;

    rand_hex(rnd, 8);
    dir_of(relpath, dir, sizeof(dir));
    snprintf(tmp, BK_TMP_LEN, "%s/.tmp-%s", dir, rnd);
    *step_out = "creating";
    fd =
        openat(repo->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno == ENOENT) {
        if (mkdirat(repo->dirfd, dir, 0755) && errno != EEXIST)
            return errno;
        fd = openat(repo->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                    0644);
    }
    if (fd < 0)
        return errno;
    *step_out = "writing";
    rc = write_all(fd, data, len);
    if (!rc && tail_len)
        rc = write_all(fd, tail, tail_len);
    if (!rc && mode == W_FSYNC && fsync(fd))
        rc = err_from_errno(errno);
    if (rc)
        e = errno ? errno : EIO;
    /* Start writeback now so the caller's syncfs finds little to do. */
    if (!rc && mode == W_START)
        sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
    if (close(fd) && !e)
        e = errno;
    if (e)
        unlinkat(repo->dirfd, tmp, 0);
    return e;
}

/* Write data to a temp file beside relpath and rename it into place. */
static int write_renamed(const struct bk_repo *repo, const char *relpath,
                         const void *data, size_t len, const void *tail,
                         size_t tail_len, enum wmode mode)
{
    char tmp[BK_TMP_LEN], dir[200];
    const char *step;
    int e =
        write_temp(repo, relpath, data, len, tail, tail_len, mode, tmp, &step);

    if (e)
        return write_failed(repo, relpath, step, e);
    if (renameat(repo->dirfd, tmp, repo->dirfd, relpath)) {
        e = errno;
        unlinkat(repo->dirfd, tmp, 0);
        return write_failed(repo, relpath, "writing", e);
    }
    dir_of(relpath, dir, sizeof(dir));
    if (mode == W_FSYNC && (e = fsync_dir(repo, dir)))
        return write_failed(repo, relpath, "syncing the directory of", e);
    return 0;
}

int bk_write_file_staged(const struct bk_repo *repo, const char *relpath,
                         const void *data, size_t len, char tmp_out[BK_TMP_LEN])
{
    const char *step;
    int e =
        write_temp(repo, relpath, data, len, NULL, 0, W_START, tmp_out, &step);

    return e ? write_failed(repo, relpath, step, e) : 0;
}

int bk_rename_staged(const struct bk_repo *repo, const char *tmp,
                     const char *relpath)
{
    int e;

    if (!renameat(repo->dirfd, tmp, repo->dirfd, relpath))
        return 0;
    e = errno;
    unlinkat(repo->dirfd, tmp, 0);
    return write_failed(repo, relpath, "writing", e);
}

int bk_sync_dir(const struct bk_repo *repo, const char *relpath)
{
    char dir[200];
    int e;

    dir_of(relpath, dir, sizeof(dir));
    e = fsync_dir(repo, dir);
    return e ? write_failed(repo, relpath, "syncing the directory of", e) : 0;
}

int bk_chunk_write_split(const struct bk_repo *repo,
                         const unsigned char id[BK_ID_LEN],
                         const unsigned char *head, size_t head_len,
                         const void *tail, size_t tail_len)
{
    char rel[80];

    bk_chunk_relpath(id, rel);
    return write_renamed(repo, rel, head, head_len, tail, tail_len, W_LAZY);
}

int bk_chunk_write(const struct bk_repo *repo,
                   const unsigned char id[BK_ID_LEN], const unsigned char *file,
                   size_t file_len)
{
    if (bk_chunk_exists(repo, id, 0))
        return 0;
    return bk_chunk_write_split(repo, id, file, file_len, NULL, 0);
}

int bk_write_file_atomic(const struct bk_repo *repo, const char *relpath,
                         const void *data, size_t len)
{
    return write_renamed(repo, relpath, data, len, NULL, 0, W_FSYNC);
}

int bk_write_file_whole(const struct bk_repo *repo, const char *relpath,
                        const void *data, size_t len)
{
    return write_renamed(repo, relpath, data, len, NULL, 0, W_START);
}

int bk_read_file(const struct bk_repo *repo, const char *relpath, size_t cap,
                 char **data_out, size_t *len_out)
{
    int fd = openat(repo->dirfd, relpath, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char *d = NULL;
    size_t got = 0;
    int rc;

    if (fd < 0)
        return errno == ENOENT ? ERR_NOTFOUND : err_from_errno(errno);
    if (fstat(fd, &st)) {
        rc = err_from_errno(errno);
        goto out;
    }
    if ((uint64_t)st.st_size > cap) {
        rc = ERR_TOOBIG;
        goto out;
    }
    d = xmalloc((size_t)st.st_size + 1);
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, d + got, (size_t)st.st_size - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = ERR_IO;
            goto out;
        }
        got += (size_t)r;
    }
    d[got] = 0;
    *data_out = d;
    *len_out = got;
    d = NULL;
    rc = 0;
out:
    free(d);
    close(fd);
    return rc;
}

const char *bk_chunk_file_bad(const struct bk_repo *repo,
                              const unsigned char *h, size_t flen, size_t cap)
{
    size_t off = BK_CHDR_LEN + (repo->encrypted ? BK_NONCE_LEN : 0);
    uint32_t ulen, plen;

    if (flen < BK_CHDR_LEN || memcmp(h, BK_CHUNK_MAGIC, 4) || h[4] != 1 ||
        h[6] || h[7])
        return "bad header";
    ulen = bk_get32(h + 8);
    plen = bk_get32(h + 12);
    if ((h[5] & BK_FLAG_ENC) != (repo->encrypted ? BK_FLAG_ENC : 0) ||
        (h[5] & ~(BK_FLAG_ENC | BK_FLAG_ZSTD)) || ulen > cap || ulen == 0)
        return "bad flags or length";
    if (flen != off + plen + (repo->encrypted ? BK_TAG_LEN : 0))
        return "bad size";
    if (bk_get64(h + BK_CHDR_AAD) !=
        bk_payload_sum(h + BK_CHDR_LEN, flen - BK_CHDR_LEN))
        return "checksum mismatch";
    return NULL;
}

static int corrupt(const char *hex, const char *why)
{
    log_error("backup: chunk %s is corrupt: %s", hex, why);
    return ERR_IO;
}

int bk_chunk_load(const struct bk_repo *repo, const unsigned char id[BK_ID_LEN],
                  unsigned char *out, size_t cap, size_t *len_out)
{
    char rel[80], hex[BK_ID_HEXLEN];
    char *f = NULL;
    size_t flen, off = BK_CHDR_LEN;
    unsigned char *h, aad[BK_CHDR_AAD + BK_ID_LEN];
    unsigned char *plain = NULL;
    uint32_t ulen, plen;
    const char *why;
    int rc;

    bk_chunk_relpath(id, rel);
    bk_id_hex(id, hex);
    rc = bk_read_file(repo, rel, BK_MAX_CHUNK + 4096, &f, &flen);
    if (rc == ERR_NOTFOUND) {
        log_error("backup: chunk %s is missing", hex);
        return rc;
    }
    if (rc)
        return corrupt(hex, err_str(rc));
    h = (unsigned char *)f;
    rc = ERR_IO;
    why = bk_chunk_file_bad(repo, h, flen, cap);
    if (why) {
        corrupt(hex, why);
        goto out;
    }
    ulen = bk_get32(h + 8);
    plen = bk_get32(h + 12);
    if (repo->encrypted)
        off += BK_NONCE_LEN;
    if (repo->encrypted) {
        plain = xmalloc(plen ? plen : 1);
        memcpy(aad, h, BK_CHDR_AAD);
        memcpy(aad + BK_CHDR_AAD, id, BK_ID_LEN);
        if (bk_gcm_open(repo->k_enc, h + BK_CHDR_LEN, aad, sizeof(aad), h + off,
                        plen + BK_TAG_LEN, plain)) {
            corrupt(hex, "authentication failed");
            goto out;
        }
    }
    {
        const unsigned char *src = plain ? plain : h + off;

        if (h[5] & BK_FLAG_ZSTD) {
            if (bk_decompress(src, plen, out, ulen)) {
                corrupt(hex, "bad zstd frame");
                goto out;
            }
        } else if (plen != ulen) {
            corrupt(hex, "bad raw length");
            goto out;
        } else {
            memcpy(out, src, ulen);
        }
    }
    *len_out = ulen;
    rc = 0;
out:
    free(plain);
    free(f);
    return rc;
}

/* ERR_IO, logged, when got is not id. */
static int id_check(const unsigned char id[BK_ID_LEN],
                    const unsigned char got[BK_ID_LEN])
{
    char hex[BK_ID_HEXLEN];

    if (!memcmp(got, id, BK_ID_LEN))
        return 0;
    bk_id_hex(id, hex);
    return corrupt(hex, "content does not match its id");
}

int bk_chunk_verify2(const struct bk_repo *repo,
                     const unsigned char ida[BK_ID_LEN], const void *a,
                     size_t la, const unsigned char idb[BK_ID_LEN],
                     const void *b, size_t lb, int *bad_out)
{
    unsigned char ga[BK_ID_LEN], gb[BK_ID_LEN];

    if (b)
        bk_chunk_id2(repo, a, la, b, lb, ga, gb);
    else
        bk_chunk_id(repo, a, la, ga);
    *bad_out = 0;
    if (id_check(ida, ga))
        return ERR_IO;
    *bad_out = 1;
    return b ? id_check(idb, gb) : 0;
}

int bk_chunk_read(const struct bk_repo *repo, const unsigned char id[BK_ID_LEN],
                  unsigned char *out, size_t cap, size_t *len_out)
{
    int rc = bk_chunk_load(repo, id, out, cap, len_out), bad;

    return rc ? rc
              : bk_chunk_verify2(repo, id, out, *len_out, NULL, NULL, 0, &bad);
}

DIR *bk_opendir_at(int dirfd, const char *relpath)
{
    int fd = openat(dirfd, relpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d;

    if (fd < 0)
        return NULL;
    d = fdopendir(fd);
    if (!d)
        close(fd);
    return d;
}

int bk_repo_sync(const struct bk_repo *repo)
{
    if (syncfs(repo->dirfd)) {
        int e = errno;

        return bk_fail(repo, err_from_errno(e), "flushing %s to disk: %s",
                       repo->dir, strerror(e));
    }
    return 0;
}
