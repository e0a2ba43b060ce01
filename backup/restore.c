/* restore.c: bk_restore(). N worker threads read, verify and write the
 * chunks of one disk of a snapshot at their offsets. A new or regular
 * file is truncated to the disk size and zero chunks are left as holes;
 * on a block device zero chunks are discarded-to-zero (or written as
 * zeroes). Any bad chunk stops the restore with its id and the snapshot
 * in the log and in bk_repo_error().
 */
#include "backup/bk_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"

#define SPARSE_BLOCK (64 * 1024)

struct rjob {
    struct bk_repo *repo;
    const char *snap;
    const char *path;
    const char *disk; /* the disk's name, for messages */
    const struct bk_index *ix;
    const struct bk_progress *prog;
    int fd;
    int regular;
    pthread_mutex_t mu;
    uint64_t next;
    uint64_t done;
    int err;
};

static int write_full(int fd, const unsigned char *p, size_t n, uint64_t off)
{
    while (n) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return err_from_errno(w < 0 ? errno : EIO);
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

/* Write a chunk; into a fresh regular file all-zero blocks are skipped
 * (they are holes already), so the restored image stays sparse. */
static int write_data(struct rjob *j, const unsigned char *buf, size_t len,
                      uint64_t off)
{
    size_t i = 0;

    if (!j->regular)
        return write_full(j->fd, buf, len, off);
    while (i < len) {
        size_t n = len - i < SPARSE_BLOCK ? len - i : SPARSE_BLOCK, k = n;
        int rc;

        if (bk_is_zero(buf + i, n)) {
            i += n;
            continue;
        }
        /* Coalesce the following non-zero blocks into one write. */
        while (i + k < len) {
            size_t m = len - i - k < SPARSE_BLOCK ? len - i - k : SPARSE_BLOCK;

            if (bk_is_zero(buf + i + k, m))
                break;
            k += m;
        }
        rc = write_full(j->fd, buf + i, k, off + i);
        if (rc)
            return rc;
        i += k;
    }
    return 0;
}

static int zero_range(struct rjob *j, unsigned char *buf, size_t len,
                      uint64_t off)
{
    if (j->regular)
        return 0; /* a hole already */
    if (!fallocate(j->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                   (off_t)off, (off_t)len))
        return 0;
    memset(buf, 0, len);
    return write_full(j->fd, buf, len, off);
}

/* rc of a write at off; a failure is recorded with errno's reason. */
static int write_failed(struct rjob *j, uint64_t off, int rc)
{
    int e = errno;

    if (!rc)
        return 0;
    return bk_fail(j->repo, rc, "writing %s at offset %llu: %s", j->path,
                   (unsigned long long)off, strerror(e));
}

/* The chunk id at off could not be read back (rc ERR_NOTFOUND:
 * missing): ERR_IO, naming it and the snapshot. */
static int chunk_bad(struct rjob *j, const unsigned char *id, uint64_t off,
                     int rc)
{
    char hex[BK_ID_HEXLEN];

    bk_id_hex(id, hex);
    return bk_fail(j->repo, ERR_IO,
                   "chunk %s (disk %s, offset %llu) is %s (snapshot %s)", hex,
                   j->disk, (unsigned long long)off,
                   rc == ERR_NOTFOUND ? "missing" : "corrupt", j->snap);
}

static void *rworker(void *arg)
{
    struct rjob *j = arg;
    uint32_t cs = j->ix->chunk_size;
    unsigned char *buf = xmalloc(cs);

    for (;;) {
        uint64_t c, off;
        size_t len, got = 0;
        const unsigned char *id;
        int rc;

        pthread_mutex_lock(&j->mu);
        if (j->err || j->next >= j->ix->num || bk_cancelled(j->prog)) {
            if (!j->err && j->next < j->ix->num)
                j->err = ERR_CANCELLED;
            pthread_mutex_unlock(&j->mu);
            break;
        }
        c = j->next++;
        pthread_mutex_unlock(&j->mu);

        off = c * cs;
        len = j->ix->disk_size - off < cs ? j->ix->disk_size - off : cs;
        id = j->ix->ids + c * BK_ID_LEN;
        if (bk_id_is_zero(id)) {
            rc = write_failed(j, off, zero_range(j, buf, len, off));
        } else {
            rc = bk_chunk_read(j->repo, id, buf, cs, &got);
            if (!rc && got != len)
                rc = ERR_IO;
            if (rc)
                rc = chunk_bad(j, id, off, rc);
            else
                rc = write_failed(j, off, write_data(j, buf, len, off));
        }
        pthread_mutex_lock(&j->mu);
        if (rc && !j->err)
            j->err = rc;
        j->done += len;
        bk_progress_report(j->prog, j->done, j->ix->disk_size);
        pthread_mutex_unlock(&j->mu);
    }
    free(buf);
    return NULL;
}

int bk_restore(struct bk_repo *repo, const char *snap_id, size_t disk,
               const char *path, const struct bk_progress *prog)
{
    struct bk_manifest m;
    struct bk_index ix = { 0 };
    struct rjob j = { 0 };
    struct stat st;
    pthread_t th[64];
    int n = bk_repo_threads(repo), started = 0, rc;

    bk_error_clear(repo);
    j.fd = -1;
    rc = bk_manifest_read(repo, snap_id, &m);
    if (rc) {
        bk_fail(repo, rc, "reading the manifest of snapshot %s: %s", snap_id,
                err_str(rc));
        return rc;
    }
    if (disk >= m.num_disks) {
        rc = bk_fail(repo, ERR_NOTFOUND, "snapshot %s has no disk %zu", snap_id,
                     disk);
        goto out;
    }
    rc = bk_index_read(repo, m.disks[disk].index, m.disks[disk].index_sha, &ix);
    if (rc) {
        rc = bk_fail(repo, ERR_IO, "index %s of snapshot %s is damaged",
                     m.disks[disk].index, snap_id);
        goto out;
    }
    j.fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (j.fd < 0 || fstat(j.fd, &st)) {
        int e = errno;

        rc = bk_fail(repo, err_from_errno(e), "opening %s: %s", path,
                     strerror(e));
        goto out;
    }
    j.regular = S_ISREG(st.st_mode);
    if (j.regular &&
        (ftruncate(j.fd, 0) || ftruncate(j.fd, (off_t)ix.disk_size))) {
        int e = errno;

        rc = bk_fail(repo, err_from_errno(e), "sizing %s: %s", path,
                     strerror(e));
        goto out;
    }
    j.repo = repo;
    j.snap = snap_id;
    j.path = path;
    j.disk = m.disks[disk].name;
    j.ix = &ix;
    j.prog = prog;
    pthread_mutex_init(&j.mu, NULL);
    for (; started < n; started++)
        if (pthread_create(&th[started], NULL, rworker, &j))
            break;
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_destroy(&j.mu);
    /* No fsync: like cp, the caller syncs when it needs durability
     * (the daemon does before it starts a restored VM). */
    rc = started ? j.err : ERR_INTERNAL;
out:
    if (j.fd >= 0)
        close(j.fd);
    bk_index_release(&ix);
    bk_manifest_release(&m);
    return rc;
}
