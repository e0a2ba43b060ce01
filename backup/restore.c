/* restore.c: bk_restore(). N worker threads read, verify and write the
 * chunks of one disk of a snapshot at their offsets, two at a time (the
 * ids of a pair are checked with one two-stream hash). A new or regular
 * file is truncated to the disk size and zero chunks are left as holes;
 * on a block device zero chunks are discarded-to-zero (or written as
 * zeroes). The chunk files are read ahead by prefetch.c. Any bad chunk
 * stops the restore with its id and the snapshot in the log and in
 * bk_repo_error().
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
#define MAX_WORKERS  64
/* Written data is made durable and dropped from the page cache every
 * FLUSH_EVERY bytes, by the flusher thread: the device writes while the
 * workers go on (the caller's final fsync finds little left), and the
 * page cache holds at most about this much of the restore. */
#define FLUSH_EVERY (256ull << 20)

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
    pthread_cond_t cv;              /* to the flusher: more done, or finished */
    struct bk_prefetch pf;          /* reads ahead of next */
    uint64_t next;                  /* the next chunk to take */
    uint64_t done;                  /* bytes restored */
    uint64_t inflight[MAX_WORKERS]; /* chunk each worker is on, or ~0 */
    int workers;                    /* started (each takes its index) */
    int finished;
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

/* One chunk of the pair a worker restores at a time. */
struct rslot {
    uint64_t off;
    size_t len;
    const unsigned char *id;
    unsigned char *buf;
};

/* Read the chunks of s[n] (zero ones are written at once), check the
 * loaded ones against their ids two at a time, then write them. */
static int restore_slots(struct rjob *j, struct rslot *s, int n)
{
    uint32_t cs = j->ix->chunk_size;
    int i, rc = 0, bad, k = 0, idx[2];

    for (i = 0; i < n && !rc; i++) {
        size_t got = 0;

        if (bk_id_is_zero(s[i].id)) {
            rc = write_failed(j, s[i].off,
                              zero_range(j, s[i].buf, s[i].len, s[i].off));
            continue;
        }
        rc = bk_chunk_load(j->repo, s[i].id, s[i].buf, cs, &got);
        if (!rc && got != s[i].len)
            rc = ERR_IO;
        if (rc)
            return chunk_bad(j, s[i].id, s[i].off, rc);
        idx[k++] = i;
    }
    if (rc || !k)
        return rc;
    if (bk_chunk_verify2(j->repo, s[idx[0]].id, s[idx[0]].buf, s[idx[0]].len,
                         k > 1 ? s[idx[1]].id : NULL,
                         k > 1 ? s[idx[1]].buf : NULL,
                         k > 1 ? s[idx[1]].len : 0, &bad))
        return chunk_bad(j, s[idx[bad]].id, s[idx[bad]].off, ERR_IO);
    for (i = 0; i < k && !rc; i++)
        rc = write_failed(
            j, s[idx[i]].off,
            write_data(j, s[idx[i]].buf, s[idx[i]].len, s[idx[i]].off));
    return rc;
}

static void *rworker(void *arg)
{
    struct rjob *j = arg;
    uint32_t cs = j->ix->chunk_size;
    struct rslot s[2] = { { .buf = xmalloc(cs) }, { .buf = xmalloc(cs) } };
    int me;

    pthread_mutex_lock(&j->mu);
    me = j->workers++;
    pthread_mutex_unlock(&j->mu);
    for (;;) {
        uint64_t c;
        size_t done = 0;
        int n, rc;

        pthread_mutex_lock(&j->mu);
        if (j->err || j->next >= j->ix->num || bk_cancelled(j->prog)) {
            if (!j->err && j->next < j->ix->num)
                j->err = ERR_CANCELLED;
            pthread_mutex_unlock(&j->mu);
            break;
        }
        c = j->next;
        n = j->ix->num - c >= 2 ? 2 : 1;
        j->next += (uint64_t)n;
        j->inflight[me] = c;
        pthread_mutex_unlock(&j->mu);
        bk_prefetch_at(&j->pf, c + (uint64_t)n);

        for (int i = 0; i < n; i++) {
            uint64_t off = (c + (uint64_t)i) * cs;

            s[i].off = off;
            s[i].len =
                j->ix->disk_size - off < cs ? j->ix->disk_size - off : cs;
            s[i].id = j->ix->ids + (c + (uint64_t)i) * BK_ID_LEN;
            done += s[i].len;
        }
        rc = restore_slots(j, s, n);
        pthread_mutex_lock(&j->mu);
        if (rc && !j->err)
            j->err = rc;
        if (j->done / FLUSH_EVERY != (j->done + done) / FLUSH_EVERY)
            pthread_cond_signal(&j->cv);
        j->done += done;
        j->inflight[me] = UINT64_MAX;
        bk_progress_report(j->prog, j->done, j->ix->disk_size);
        pthread_mutex_unlock(&j->mu);
    }
    free(s[0].buf);
    free(s[1].buf);
    return NULL;
}

/* The flusher: each FLUSH_EVERY bytes, fdatasync the output and drop
 * the part every worker is past from the page cache. */
static void *rflusher(void *arg)
{
    struct rjob *j = arg;
    uint64_t mark = FLUSH_EVERY, low;
    int rc;

    pthread_mutex_lock(&j->mu);
    for (;;) {
        while (!j->finished && j->done < mark)
            pthread_cond_wait(&j->cv, &j->mu);
        if (j->finished || j->err)
            break;
        mark = (j->done / FLUSH_EVERY + 1) * FLUSH_EVERY;
        low = j->next;
        for (int i = 0; i < j->workers; i++)
            if (j->inflight[i] < low)
                low = j->inflight[i];
        pthread_mutex_unlock(&j->mu);
        rc = 0;
        if (fdatasync(j->fd)) {
            int e = errno;

            rc = bk_fail(j->repo, err_from_errno(e), "flushing %s to disk: %s",
                         j->path, strerror(e));
        }
        if (!rc)
            posix_fadvise(j->fd, 0, (off_t)(low * j->ix->chunk_size),
                          POSIX_FADV_DONTNEED);
        pthread_mutex_lock(&j->mu);
        if (rc && !j->err)
            j->err = rc;
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

static const unsigned char *restore_id_at(void *arg, uint64_t i)
{
    const struct bk_index *ix = arg;

    return ix->ids + i * BK_ID_LEN;
}

int bk_restore(struct bk_repo *repo, const char *snap_id, size_t disk,
               const char *path, const struct bk_progress *prog)
{
    struct bk_manifest m;
    struct bk_index ix = { 0 };
    struct rjob j = { 0 };
    struct stat st;
    pthread_t th[MAX_WORKERS], flusher;
    int n = bk_repo_threads(repo), started = 0, flushing, rc;

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
    pthread_cond_init(&j.cv, NULL);
    for (int i = 0; i < MAX_WORKERS; i++)
        j.inflight[i] = UINT64_MAX;
    if (n > MAX_WORKERS)
        n = MAX_WORKERS;
    flushing = !pthread_create(&flusher, NULL, rflusher, &j);
    bk_prefetch_start(&j.pf, repo, restore_id_at, &ix, ix.num);
    for (; started < n; started++)
        if (pthread_create(&th[started], NULL, rworker, &j))
            break;
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_lock(&j.mu);
    j.finished = 1;
    pthread_cond_signal(&j.cv);
    pthread_mutex_unlock(&j.mu);
    if (flushing)
        pthread_join(flusher, NULL);
    bk_prefetch_stop(&j.pf);
    pthread_cond_destroy(&j.cv);
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
