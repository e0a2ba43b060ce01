/* backup_pipeline.c: bk_backup(). Per disk: find the chunks to read (the
 * FIEMAP change map against the parent's reflink clone, else the
 * allocated extents from SEEK_DATA/SEEK_HOLE), then N workers (N - 1
 * threads and the caller) each take the next chunk and carry it all the
 * way: read, skip when all zero, hash, look up, and when new compress,
 * encrypt and write its file. Nothing waits for order: a worker puts
 * the id at the chunk's place in the index. A flusher thread syncs the
 * file system every FLUSH_EVERY bytes written, so the syncfs before the
 * indexes only waits for the tail. Then the indexes, and last the
 * manifest (the snapshot appears).
 */
#include "backup/bk_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/uuid.h"
#include "common/xalloc.h"

/* In a todo list: reuse the parent's id of this chunk (already in the
 * index) when the chunk is still stored. */
#define TODO_REUSE (1ull << 63)

struct pipe {
    struct bk_repo *repo;
    int fd;
    int mapped;        /* a regular file: may be looked at through mmap */
    int expect_stored; /* most chunks are expected to be stored already */
    struct bk_index *ix;
    const uint64_t *todo;
    uint64_t num_todo;
    const struct bk_progress *prog;
    uint64_t done0;
    uint64_t total;
    pthread_mutex_t mu; /* guards what follows */
    uint64_t next;      /* next todo entry a worker takes */
    int err;
    uint64_t finished; /* todo entries done */
    uint64_t bytes_read;
    uint64_t chunks_zero;
    uint64_t chunks_new;
    uint64_t stored_bytes;
    uint64_t unflushed; /* bytes written since the flusher last started */
    int flush_wanted;
    int stop;                /* the workers are done: the flusher ends */
    pthread_cond_t flush_cv; /* wakes the flusher */
};

/* Chunk data is flushed in the background every FLUSH_EVERY bytes, so
 * the syncfs before the indexes waits only for the tail. */
#define FLUSH_EVERY (128ull << 20)

/* One worker's buffers, reused for every chunk. */
struct wbuf {
    unsigned char *data;    /* chunk_size: what pread() reads */
    unsigned char *file;    /* the encoded chunk file */
    unsigned char *scratch; /* compressed data before sealing */
    unsigned stored_avg;    /* running share of chunks found stored,
                             * 0..STORED_ONE */
};

/* Looking a chunk up through a mapping saves copying it when it is
 * stored already, and costs a second hash when it is not: worth it while
 * more than about 70% of the chunks are found stored. */
#define STORED_ONE 256
#define MAP_ABOVE  180

static int read_full(int fd, unsigned char *p, size_t n, uint64_t off)
{
    while (n) {
        ssize_t r = pread(fd, p, n, (off_t)off);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return err_from_errno(errno);
        if (r == 0) {
            memset(p, 0, n); /* the source shrank: read as zeroes */
            return 0;
        }
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

/* Read [off, off + len) into buf, copying only the allocated parts:
 * holes inside the chunk (SEEK_HOLE) are cleared instead. Sources that
 * cannot tell (block devices) are read whole. */
static int read_chunk(int fd, unsigned char *buf, size_t len, uint64_t off)
{
    uint64_t pos = off, end = off + len;
    int rc;

    while (pos < end) {
        off_t d = lseek(fd, (off_t)pos, SEEK_DATA), h;

        if (d < 0 && errno == ENXIO)
            d = (off_t)end; /* only a hole up to the end of the file */
        else if (d < 0)
            return read_full(fd, buf + (pos - off), end - pos, pos);
        if ((uint64_t)d > end)
            d = (off_t)end;
        memset(buf + (pos - off), 0, (uint64_t)d - pos);
        if ((uint64_t)d == end)
            break;
        h = lseek(fd, d, SEEK_HOLE);
        if (h < 0 || (uint64_t)h > end)
            h = (off_t)end;
        rc = read_full(fd, buf + ((uint64_t)d - off), (uint64_t)(h - d),
                       (uint64_t)d);
        if (rc)
            return rc;
        pos = (uint64_t)h;
    }
    return 0;
}

/* What do_chunk() did with one chunk. */
struct chunk_res {
    size_t len;     /* bytes read */
    int zero;       /* 1: all zero, not stored */
    size_t new_len; /* size of the chunk file written, 0 when none */
};

/* Map [off, off + len) of the source, or NULL. Populating reports a
 * range past the end (a source that shrank) as an error rather than a
 * SIGBUS later. */
static const unsigned char *map_source(int fd, uint64_t off, size_t len)
{
    void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t)off);

    if (m == MAP_FAILED)
        return NULL;
    if (madvise(m, len, MADV_POPULATE_READ)) {
        munmap(m, len);
        return NULL;
    }
    return m;
}

/* Look the chunk up through a mapping of the source, without copying
 * it: 1 when it is zero or already stored (done), 0 when it must be
 * read and stored. A chunk is only ever stored from a private copy, so
 * a source that changes under the mapping cannot store bytes that do
 * not match their id. */
static int lookup_mapped(struct pipe *p, uint64_t off, size_t len,
                         unsigned char *id, struct chunk_res *res)
{
    const unsigned char *m = map_source(p->fd, off, len);
    int done = 0;

    if (!m)
        return 0;
    if (bk_is_zero(m, len)) {
        memset(id, 0, BK_ID_LEN);
        res->zero = 1;
        done = 1;
    } else {
        bk_chunk_id(p->repo, m, len, id);
        done = bk_chunk_exists(p->repo, id, 1);
    }
    munmap((void *)m, len);
    return done;
}

static void note_stored(struct wbuf *w, int stored)
{
    w->stored_avg += (stored ? STORED_ONE / 8 : 0) - w->stored_avg / 8;
}

/* Process chunk number c: zero check, hash, look up, and when new read
 * it into w->data, encode and write it. The id goes straight into the
 * index (every worker writes its own entries). While most chunks are
 * found in the repository (an incremental), a worker looks them up in
 * place through a mapping; otherwise it reads each into its buffer,
 * which a new chunk needs anyway. */
static int do_chunk(struct pipe *p, struct wbuf *w, uint64_t c,
                    struct chunk_res *res)
{
    struct bk_repo *repo = p->repo;
    uint64_t off = c * repo->chunk_size;
    size_t len = p->ix->disk_size - off < repo->chunk_size
                     ? (size_t)(p->ix->disk_size - off)
                     : repo->chunk_size;
    unsigned char *id = p->ix->ids + c * BK_ID_LEN;
    size_t flen;
    int mapped = 0, stored, rc;

    res->len = len;
    res->zero = 0;
    res->new_len = 0;
    if (p->mapped && w->stored_avg > MAP_ABOVE) {
        mapped = 1;
        if (lookup_mapped(p, off, len, id, res)) {
            if (!res->zero)
                note_stored(w, 1);
            return 0;
        }
    }
    rc = read_chunk(p->fd, w->data, len, off);
    if (rc)
        return rc;
    if (bk_is_zero(w->data, len)) {
        memset(id, 0, BK_ID_LEN);
        res->zero = 1;
        return 0;
    }
    bk_chunk_id(repo, w->data, len, id);
    stored = bk_chunk_exists(repo, id, 1);
    note_stored(w, stored && !mapped);
    if (stored)
        return 0;
    flen = bk_chunk_encode_into(repo, id, w->data, len, w->file, w->scratch);
    rc = bk_chunk_write(repo, id, w->file, flen);
    if (!rc)
        res->new_len = flen;
    return rc;
}

/* A todo entry: a chunk to read, or one to reuse from the parent when it
 * is still stored (touched for gc), else read. */
static int do_todo(struct pipe *p, struct wbuf *w, uint64_t e,
                   struct chunk_res *res)
{
    uint64_t c = e & ~TODO_REUSE;

    if (e & TODO_REUSE) {
        memset(res, 0, sizeof(*res));
        if (bk_chunk_exists(p->repo, p->ix->ids + c * BK_ID_LEN, 1))
            return 0;
    }
    return do_chunk(p, w, c, res);
}

static void *worker(void *arg)
{
    struct pipe *p = arg;
    size_t cs = p->repo->chunk_size;
    struct wbuf w;

    w.data = xmalloc(cs);
    w.stored_avg = p->expect_stored ? STORED_ONE : 0;
    w.file = xmalloc(bk_chunk_file_bound(cs));
    w.scratch = p->repo->encrypted ? xmalloc(bk_compress_bound(cs)) : NULL;
    for (;;) {
        struct chunk_res r = { 0 };
        uint64_t seq;
        int rc;

        pthread_mutex_lock(&p->mu);
        if (!p->err && p->next < p->num_todo && bk_cancelled(p->prog))
            p->err = ERR_CANCELLED;
        if (p->err || p->next >= p->num_todo) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        seq = p->next++;
        pthread_mutex_unlock(&p->mu);

        rc = do_todo(p, &w, p->todo[seq], &r);

        pthread_mutex_lock(&p->mu);
        if (rc && !p->err)
            p->err = rc;
        p->finished++;
        p->bytes_read += r.len;
        p->chunks_zero += (uint64_t)r.zero;
        if (r.new_len) {
            p->chunks_new++;
            p->stored_bytes += r.new_len;
            p->unflushed += r.new_len;
            if (p->unflushed >= FLUSH_EVERY && !p->flush_wanted) {
                p->flush_wanted = 1;
                pthread_cond_signal(&p->flush_cv);
            }
        }
        if (!rc)
            bk_progress_report(p->prog,
                               p->done0 +
                                   p->ix->disk_size * p->finished / p->num_todo,
                               p->total);
        pthread_mutex_unlock(&p->mu);
    }
    free(w.data);
    free(w.file);
    free(w.scratch);
    return NULL;
}

/* Flush the repository's file system whenever the workers have written
 * FLUSH_EVERY bytes since the last flush began. Mostly waits for the
 * disk, so it does not take a CPU from the workers. A failure is logged
 * here and met again by the final bk_repo_sync(). */
static void *flusher(void *arg)
{
    struct pipe *p = arg;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && !p->flush_wanted)
            pthread_cond_wait(&p->flush_cv, &p->mu);
        if (p->stop)
            break;
        p->flush_wanted = 0;
        p->unflushed = 0;
        pthread_mutex_unlock(&p->mu);
        bk_repo_sync(p->repo);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Run p's todo list through n workers: n - 1 threads and the caller. */
static int run_pipe(struct pipe *p, struct bk_backup_result *res)
{
    int n = bk_repo_threads(p->repo), started = 0, have_flusher;
    pthread_t th[64], flush_th;
    struct stat st;

    p->mapped = !fstat(p->fd, &st) && S_ISREG(st.st_mode);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->flush_cv, NULL);
    have_flusher = !pthread_create(&flush_th, NULL, flusher, p);
    for (; started < n - 1; started++)
        if (pthread_create(&th[started], NULL, worker, p))
            break;
    worker(p);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_signal(&p->flush_cv);
    pthread_mutex_unlock(&p->mu);
    if (have_flusher)
        pthread_join(flush_th, NULL);
    pthread_cond_destroy(&p->flush_cv);
    pthread_mutex_destroy(&p->mu);
    res->bytes_read += p->bytes_read;
    res->chunks_zero += p->chunks_zero;
    res->chunks_new += p->chunks_new;
    res->stored_bytes += p->stored_bytes;
    return p->err;
}

/* Chunks overlapping allocated data (all of them when SEEK_DATA is not
 * supported). */
static uint64_t *allocated_chunks(int fd, const struct bk_index *ix,
                                  uint64_t *num_out)
{
    uint64_t *v = xmalloc((ix->num ? ix->num : 1) * sizeof(*v));
    uint64_t n = 0, cs = ix->chunk_size, last = UINT64_MAX;
    off_t pos = 0;

    while ((uint64_t)pos < ix->disk_size) {
        off_t d = lseek(fd, pos, SEEK_DATA), h;

        if (d < 0 && errno == ENXIO)
            break;
        if (d < 0)
            goto all;
        h = lseek(fd, d, SEEK_HOLE);
        if (h < 0)
            goto all;
        if ((uint64_t)h > ix->disk_size)
            h = (off_t)ix->disk_size;
        for (uint64_t c = (uint64_t)d / cs; c * cs < (uint64_t)h; c++) {
            if (c != last)
                v[n++] = c;
            last = c;
        }
        pos = h;
    }
    *num_out = n;
    return v;
all:
    for (n = 0; n < ix->num; n++)
        v[n] = n;
    *num_out = n;
    return v;
}

/* Use the change map: copy the parent's ids of unchanged chunks and list
 * them as TODO_REUSE (the workers check and touch them for gc), and list
 * the rest to read. NULL when not usable. */
static uint64_t *changed_chunks(struct bk_repo *repo,
                                const struct bk_disk_src *d,
                                const struct bk_manifest *parent,
                                struct bk_index *ix, uint64_t *num_out)
{
    struct bk_index pix = { 0 };
    unsigned char *changed = NULL;
    uint64_t *v = NULL, n = 0;
    const struct bk_disk_meta *pd = NULL;

    for (size_t i = 0; i < parent->num_disks; i++)
        if (!strcmp(parent->disks[i].name, d->name))
            pd = &parent->disks[i];
    if (!pd || bk_index_read(repo, pd->index, pd->index_sha, &pix))
        goto out;
    if (pix.chunk_size != ix->chunk_size)
        goto out;
    changed = xcalloc(ix->num ? ix->num : 1, 1);
    if (bk_changemap(d->changed_since, d->path, ix->chunk_size, ix->num,
                     changed)) {
        log_warn("backup: %s: no change map, reading all data", d->path);
        goto out;
    }
    v = xmalloc((ix->num ? ix->num : 1) * sizeof(*v));
    for (uint64_t c = 0; c < ix->num; c++) {
        const unsigned char *pid = pix.ids + c * BK_ID_LEN;
        int reuse = !changed[c] && c < pix.num &&
                    /* a short last chunk changes with the size */
                    (c + 1 < ix->num || pix.disk_size == ix->disk_size);

        if (reuse)
            memcpy(ix->ids + c * BK_ID_LEN, pid, BK_ID_LEN);
        if (!reuse)
            v[n++] = c;
        else if (!bk_id_is_zero(pid))
            v[n++] = c | TODO_REUSE; /* the workers touch it */
    }
    *num_out = n;
out:
    free(changed);
    bk_index_release(&pix);
    return v;
}

static int find_parent(struct bk_repo *repo, const struct bk_backup_opts *o,
                       struct bk_manifest *m)
{
    struct bk_snapshot_info *s = NULL;
    size_t n = 0;
    char id[BK_SNAPID_LEN] = "";
    int rc;

    if (o->parent && !o->parent[0])
        return ERR_NOTFOUND;
    if (o->parent) {
        rc = bk_snapshot_resolve(repo, o->parent, id);
        if (rc)
            return bk_fail(repo, ERR_INVALID, "parent snapshot %s: %s",
                           o->parent, err_str(rc));
    } else {
        rc = bk_snapshot_list(repo, &s, &n);
        if (rc)
            return rc;
        for (size_t i = n; i-- > 0;) {
            if (!strcmp(s[i].name, o->name)) {
                xstrlcpy(id, s[i].id, sizeof(id));
                break;
            }
        }
        free(s);
        if (!id[0])
            return ERR_NOTFOUND;
    }
    return bk_manifest_read(repo, id, m);
}

static int backup_disk(struct bk_repo *repo, const struct bk_disk_src *d,
                       const struct bk_manifest *parent, int fd,
                       struct bk_index *ix, struct bk_disk_meta *meta,
                       const struct bk_progress *prog, uint64_t done0,
                       uint64_t total, struct bk_backup_result *res)
{
    struct pipe p = { .repo = repo,
                      .fd = fd,
                      .ix = ix,
                      .prog = prog,
                      .done0 = done0,
                      .total = total };
    uint64_t *todo = NULL, num = 0, read0 = res->bytes_read;
    int rc;

    if (d->changed_since && parent)
        todo = changed_chunks(repo, d, parent, ix, &num);
    if (todo) {
        meta->changemap = 1;
        res->used_changemap = 1;
    } else {
        todo = allocated_chunks(fd, ix, &num);
    }
    /* Without a parent, or with a change map (whose reads are chunks
     * that changed), most chunks read are new. */
    p.expect_stored = parent && !meta->changemap;
    p.todo = todo;
    p.num_todo = num;
    res->chunks_total += ix->num;
    rc = run_pipe(&p, res);
    /* Writes name their chunk; a failure nothing named was a read. */
    if (rc && rc != ERR_CANCELLED && !bk_repo_error(repo)[0])
        rc = bk_fail(repo, rc, "reading disk %s (%s): %s", d->name, d->path,
                     err_str(rc));
    meta->bytes_read = res->bytes_read - read0;
    free(todo);
    return rc;
}

int bk_backup(struct bk_repo *repo, const struct bk_backup_opts *opts,
              const struct bk_disk_src *disks, size_t num_disks,
              const struct bk_progress *prog,
              struct bk_backup_result *result_out)
{
    struct bk_manifest m = { 0 }, parent = { 0 };
    struct bk_backup_result res = { 0 };
    struct bk_index *ix = NULL;
    int *fds = NULL, have_parent = 0, locked = 0, rc;
    char lockname[64];
    uint64_t total = 0, done = 0;

    bk_error_clear(repo);
    if (!opts->name || !opts->name[0] || strlen(opts->name) >= 128 ||
        !num_disks)
        return ERR_INVALID;
    uuid_generate(m.info.id);
    snprintf(lockname, sizeof(lockname), "backup-%s", m.info.id);
    rc = bk_lock_take(repo, lockname, "backup");
    if (rc)
        return rc;
    locked = 1;
    xstrlcpy(m.info.name, opts->name, sizeof(m.info.name));
    {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        m.info.time = ts.tv_sec;
        m.info.time_ms = ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    }
    m.info.protected_ = opts->protect;
    if (opts->job)
        xstrlcpy(m.job, opts->job, sizeof(m.job));
    if (opts->vm_config)
        m.vm_config = xstrdup(opts->vm_config);
    rc = find_parent(repo, opts, &parent);
    if (rc && rc != ERR_NOTFOUND)
        goto out;
    have_parent = rc == 0;
    if (have_parent)
        xstrlcpy(m.info.parent, parent.info.id, sizeof(m.info.parent));
    m.num_disks = num_disks;
    m.disks = xcalloc(num_disks, sizeof(*m.disks));
    ix = xcalloc(num_disks, sizeof(*ix));
    fds = xmalloc(num_disks * sizeof(*fds));
    for (size_t i = 0; i < num_disks; i++)
        fds[i] = -1;
    for (size_t i = 0; i < num_disks; i++) {
        struct stat st;
        off_t sz;

        fds[i] = open(disks[i].path, O_RDONLY | O_CLOEXEC);
        /* A directory's "size" is a hash cookie, not bytes. */
        if (fds[i] >= 0 && !fstat(fds[i], &st) && !S_ISREG(st.st_mode) &&
            !S_ISBLK(st.st_mode)) {
            rc = bk_fail(repo, ERR_INVALID,
                         "disk %s (%s) is not an image file or a block "
                         "device",
                         disks[i].name ? disks[i].name : "?", disks[i].path);
            goto out;
        }
        if (fds[i] < 0 || (sz = lseek(fds[i], 0, SEEK_END)) < 0) {
            int e = errno;

            rc = bk_fail(repo, err_from_errno(e), "opening disk %s (%s): %s",
                         disks[i].name ? disks[i].name : "?", disks[i].path,
                         strerror(e));
            goto out;
        }
        if (!disks[i].name || !disks[i].name[0] ||
            strlen(disks[i].name) >= sizeof(m.disks[i].name)) {
            rc = ERR_INVALID;
            goto out;
        }
        xstrlcpy(m.disks[i].name, disks[i].name, sizeof(m.disks[i].name));
        m.disks[i].size = (uint64_t)sz;
        bk_index_init(&ix[i], repo->chunk_size, (uint64_t)sz);
        total += (uint64_t)sz;
    }
    for (size_t i = 0; i < num_disks; i++) {
        rc = backup_disk(repo, &disks[i], have_parent ? &parent : NULL, fds[i],
                         &ix[i], &m.disks[i], prog, done, total, &res);
        if (rc)
            goto out;
        done += m.disks[i].size;
        res.logical_bytes += m.disks[i].size;
    }
    /* Chunks are durable before any index names them. */
    rc = bk_repo_sync(repo);
    if (rc)
        goto out;
    for (size_t i = 0; i < num_disks; i++) {
        snprintf(m.disks[i].index, sizeof(m.disks[i].index), "%s.%zu.idx",
                 m.info.id, i);
        rc = bk_index_write(repo, &ix[i], m.disks[i].index,
                            m.disks[i].index_sha);
        if (rc)
            goto out;
    }
    rc = bk_manifest_write(repo, &m);
    if (rc)
        goto out;
    bk_progress_report(prog, total, total);
    xstrlcpy(res.snapshot_id, m.info.id, sizeof(res.snapshot_id));
    if (result_out)
        *result_out = res;
out:
    if (rc && rc != ERR_CANCELLED)
        log_error("backup: snapshot %s of %s failed: %s", m.info.id, opts->name,
                  err_str(rc));
    for (size_t i = 0; fds && i < num_disks; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
        bk_index_release(&ix[i]);
    }
    free(fds);
    free(ix);
    if (locked)
        bk_lock_drop(repo, lockname);
    bk_manifest_release(&parent);
    bk_manifest_release(&m);
    return rc;
}
