/* backup_pipeline.c: bk_backup(). Per disk: find the chunks to read (the
 * FIEMAP change map against the parent's reflink clone, else the
 * allocated extents from SEEK_DATA/SEEK_HOLE), then N workers (N - 1
 * threads and the caller) each take the next two chunks and carry them
 * all the way: read, skip when all zero, hash (both at once), look up,
 * and when new compress, encrypt and write the file. Nothing waits for
 * order: a worker puts the id at the chunk's place in the index. A
 * flusher thread syncs the file system every FLUSH_EVERY bytes written,
 * so the last sync only waits for the tail, and then drops the chunk
 * files it made durable from the page cache (dropq.c). The indexes and the
 * manifest (in a temp file) are written before that sync, and the
 * manifest is renamed into place after it (the snapshot appears). The
 * run's lock is durable and outlives the chunks' last sync, so that
 * the next run can tell a power loss may have damaged them (recover.c).
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
    const char *disk_name; /* for error messages */
    const char *disk_path;
    int mapped;          /* a regular file: may be looked at through mmap */
    struct bk_srcmap sm; /* its mapping, when mapped */
    int expect_stored;   /* most chunks are expected to be stored already */
    struct bk_index *ix;
    const uint64_t *todo;
    uint64_t num_todo;
    uint64_t num_reads; /* todo[0..num_reads - 1] are to be read */
    int workers;
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
    uint64_t unflushed;    /* bytes written since the flusher last started */
    struct bk_dropq dropq; /* chunks written since then */
    struct bk_dropq *rest; /* where those of the last flush go */
    int flush_wanted;
    int tail_flushed;        /* the flush when the reads ran out was asked */
    int stop;                /* the workers are done: the flusher ends */
    pthread_cond_t flush_cv; /* wakes the flusher */
};

/* Chunk files are written without starting their writeback (the
 * workers would wait in the block layer's throttle); the flusher syncs
 * every FLUSH_EVERY bytes written, and once more when nothing is left
 * to read, so the final sync only waits for the last few chunks (with
 * 128 MiB a 5% change-map incremental, ~150 MB written, waited ~20 ms
 * at the end for a flush begun near its end). */
#define FLUSH_EVERY (32ull << 20)

/* One worker's buffers, reused for every chunk. */
struct wbuf {
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
    size_t len;              /* bytes read */
    int zero;                /* 1: all zero, not stored */
    size_t new_len;          /* size of the chunk file written, 0 when none */
    const unsigned char *id; /* the chunk's id when written */
};

/* Map [off, off + len) of the source, or NULL. Populating reports a
 * range past the end (a source that shrank) as an error rather than a
 * SIGBUS later. */
static const unsigned char *map_source(struct pipe *p, uint64_t off, size_t len)
{
    const unsigned char *m = bk_srcmap_get(&p->sm, off, len);

    if (!m)
        return NULL;
    if (madvise((void *)m, len, MADV_POPULATE_READ)) {
        bk_srcmap_put(&p->sm, off);
        return NULL;
    }
    return m;
}

/* 1 when [off, off + len) of a regular file holds no hole: one lseek
 * (the next hole after off). Mapping a hole would fill the page cache
 * with zero pages; read_chunk() skips holes instead. */
static int dense(int fd, uint64_t off, size_t len)
{
    off_t h = lseek(fd, (off_t)off, SEEK_HOLE);

    return h < 0 || (uint64_t)h >= off + len;
}

/* Copy the data of [off, off + len) of a regular file into buf through
 * a mapping, clearing its holes: copying from a populated mapping costs
 * less CPU than pread()'s copy out of the page cache (0.25-0.5 s less
 * for 1.7 GB here), and only the data runs are populated, so holes
 * never fill the page cache with zero pages. Anything unexpected (the
 * source shrank, no SEEK_DATA) falls back to read_chunk(). */
static int copy_mapped(struct pipe *p, unsigned char *buf, size_t len,
                       uint64_t off)
{
    uint64_t pos = off, end = off + len;
    long pg = sysconf(_SC_PAGESIZE);
    int fd = p->fd;
    const unsigned char *m;
    off_t h = lseek(fd, (off_t)off, SEEK_HOLE);

    if (h < 0)
        return read_chunk(fd, buf, len, off);
    m = bk_srcmap_get(&p->sm, off, len);
    if (!m)
        return read_chunk(fd, buf, len, off);
    while (pos < end) {
        /* The first run starts at off when h > off (off is in data). */
        off_t d = pos == off && (uint64_t)h > off
                      ? (off_t)off
                      : lseek(fd, (off_t)pos, SEEK_DATA);
        uint64_t a;

        if (d < 0 && errno != ENXIO)
            break;
        if (d < 0 || (uint64_t)d > end)
            d = (off_t)end; /* only a hole up to the end */
        memset(buf + (pos - off), 0, (uint64_t)d - pos);
        if ((uint64_t)d == end) {
            pos = end;
            break;
        }
        if (pos != off || (uint64_t)h <= off)
            h = lseek(fd, d, SEEK_HOLE);
        if (h < 0 || (uint64_t)h > end)
            h = (off_t)end;
        /* Populating reports a range past the end of the file as an
         * error rather than a SIGBUS in memcpy(). */
        a = ((uint64_t)d - off) & ~(uint64_t)(pg - 1);
        if (madvise((void *)(m + a), (uint64_t)h - off - a, MADV_POPULATE_READ))
            break;
        memcpy(buf + ((uint64_t)d - off), m + ((uint64_t)d - off),
               (uint64_t)(h - d));
        pos = (uint64_t)h;
    }
    bk_srcmap_put(&p->sm, off);
    if (pos < end)
        return read_chunk(fd, buf + (pos - off), end - pos, pos);
    return 0;
}

/* A failed read names the disk, the offset and the system's reason. */
static int copy_chunk(struct pipe *p, unsigned char *buf, size_t len,
                      uint64_t off)
{
    int rc = p->mapped ? copy_mapped(p, buf, len, off)
                       : read_chunk(p->fd, buf, len, off);

    if (rc)
        bk_fail(p->repo, rc, "reading disk %s (%s) at offset %llu: %s",
                p->disk_name, p->disk_path, (unsigned long long)off,
                errno ? strerror(errno) : err_str(rc));
    return rc;
}

static void note_stored(struct wbuf *w, int stored)
{
    w->stored_avg += (stored ? STORED_ONE / 8 : 0) - w->stored_avg / 8;
}

/* One chunk a worker has in hand. */
struct slot {
    uint64_t off;
    size_t len;
    unsigned char *id;      /* its place in the index */
    unsigned char *buf;     /* the worker's private copy (chunk_size) */
    const unsigned char *m; /* the source mapped, while looked at in place */
    int copy;               /* m is to be copied into buf while hashed */
    int hash;               /* loaded, its id is to be computed */
    int rc;
    struct chunk_res res;
};

static const unsigned char *slot_bytes(const struct slot *s)
{
    return s->m ? s->m : s->buf;
}

static void slot_unmap(struct pipe *p, struct slot *s)
{
    if (s->m)
        bk_srcmap_put(&p->sm, s->off);
    s->m = NULL;
    s->copy = 0;
}

/* Take todo entry e into s and load its bytes. A chunk to reuse from
 * the parent that is still stored is done at once (touched for gc).
 * While most chunks are found stored (an incremental), a dense chunk is
 * looked at in place through a mapping; otherwise it is copied into
 * s->buf, which a new chunk needs anyway. An all-zero chunk is done
 * here. Sets s->hash when its id is to be computed. */
static void slot_load(struct pipe *p, const struct wbuf *w, struct slot *s,
                      uint64_t e)
{
    uint64_t cs = p->repo->chunk_size, c = e & ~TODO_REUSE;

    s->off = c * cs;
    s->len = p->ix->disk_size - s->off < cs
                 ? (size_t)(p->ix->disk_size - s->off)
                 : (size_t)cs;
    s->id = p->ix->ids + c * BK_ID_LEN;
    s->m = NULL;
    s->copy = 0;
    s->hash = 0;
    s->rc = 0;
    memset(&s->res, 0, sizeof(s->res));
    if ((e & TODO_REUSE) && bk_chunk_exists(p->repo, s->id, 1))
        return;
    s->res.len = s->len;
    /* A dense chunk is mapped: looked at in place while most chunks are
     * found stored, else copied into s->buf while it is hashed. */
    if (p->mapped && (w->stored_avg > MAP_ABOVE || bk_sha256_x2_ok()) &&
        dense(p->fd, s->off, s->len)) {
        s->m = map_source(p, s->off, s->len);
        s->copy = s->m && w->stored_avg <= MAP_ABOVE;
    }
    if (!s->m) {
        s->rc = copy_chunk(p, s->buf, s->len, s->off);
        if (s->rc)
            return;
    }
    if (bk_is_zero(slot_bytes(s), s->len)) {
        memset(s->id, 0, BK_ID_LEN);
        s->res.zero = 1;
        slot_unmap(p, s);
        return;
    }
    s->hash = 1;
}

/* With its id computed: look the chunk up (touching it for gc) and when
 * the repository lacks it, encode and write it. A chunk looked at
 * through a mapping is only stored from a private copy, hashed again,
 * so a source that changes under the mapping cannot store bytes that do
 * not match their id. */
static int slot_store(struct pipe *p, struct wbuf *w, struct slot *s)
{
    struct bk_repo *repo = p->repo;
    int stored = bk_chunk_exists(repo, s->id, 1), rc;
    const void *raw;
    size_t flen;

    note_stored(w, stored);
    if (s->m) {
        slot_unmap(p, s);
        if (stored)
            return 0;
        rc = copy_chunk(p, s->buf, s->len, s->off);
        if (rc)
            return rc;
        if (bk_is_zero(s->buf, s->len)) {
            memset(s->id, 0, BK_ID_LEN);
            s->res.zero = 1;
            return 0;
        }
        bk_chunk_id(repo, s->buf, s->len, s->id);
        stored = bk_chunk_exists(repo, s->id, 1);
    }
    if (stored)
        return 0;
    /* A chunk stored raw is written from s->buf, not copied first. */
    flen = bk_chunk_encode_into(repo, s->id, s->buf, s->len, w->file,
                                w->scratch, &raw);
    rc =
        bk_chunk_write_split(repo, s->id, w->file, flen, raw, raw ? s->len : 0);
    if (!rc) {
        s->res.new_len = flen + (raw ? s->len : 0);
        s->res.id = s->id;
    }
    return rc;
}

/* Todo entries e[0..n-1] (n is 1 or 2) into s[]: load them, compute
 * their ids together (two SHA-256 streams at once run ~2x as fast as
 * one), then store what the repository lacks. The ids go straight into
 * the index (every worker writes its own entries). */
static void do_todos(struct pipe *p, struct wbuf *w, const uint64_t *e, int n,
                     struct slot *s)
{
    int pair;

    for (int i = 0; i < n; i++)
        slot_load(p, w, &s[i], e[i]);
    pair = n == 2 && s[0].hash && s[1].hash;
    /* Two mapped chunks to copy are copied by the hashing itself (the
     * ids are those of the copies); any other is copied first. */
    for (int i = 0; i < n; i++) {
        if (!s[i].copy || (pair && s[0].copy && s[1].copy))
            continue;
        memcpy(s[i].buf, s[i].m, s[i].len);
        slot_unmap(p, &s[i]);
    }
    if (pair && s[0].copy) {
        bk_chunk_id2_copy(p->repo, s[0].m, s[0].len, s[1].m, s[1].len, s[0].buf,
                          s[1].buf, s[0].id, s[1].id);
        slot_unmap(p, &s[0]);
        slot_unmap(p, &s[1]);
    } else if (pair)
        bk_chunk_id2(p->repo, slot_bytes(&s[0]), s[0].len, slot_bytes(&s[1]),
                     s[1].len, s[0].id, s[1].id);
    else
        for (int i = 0; i < n; i++)
            if (s[i].hash)
                bk_chunk_id(p->repo, slot_bytes(&s[i]), s[i].len, s[i].id);
    for (int i = 0; i < n; i++)
        if (s[i].hash)
            s[i].rc = slot_store(p, w, &s[i]);
}

/* Count one finished todo entry. Called with p->mu held. */
static void account(struct pipe *p, const struct chunk_res *r, int rc)
{
    if (rc && !p->err)
        p->err = rc;
    p->finished++;
    p->bytes_read += r->len;
    p->chunks_zero += (uint64_t)r->zero;
    if (r->new_len) {
        p->chunks_new++;
        p->stored_bytes += r->new_len;
        p->unflushed += r->new_len;
        bk_dropq_push(&p->dropq, r->id);
        if (p->unflushed >= FLUSH_EVERY && !p->flush_wanted) {
            p->flush_wanted = 1;
            pthread_cond_signal(&p->flush_cv);
        }
    }
    /* Nothing left to read: flush what is written while the other
     * workers finish their last chunks. */
    if (p->next >= p->num_reads && !p->tail_flushed && p->unflushed &&
        !p->flush_wanted) {
        p->tail_flushed = 1;
        p->flush_wanted = 1;
        pthread_cond_signal(&p->flush_cv);
    }
    if (!rc)
        bk_progress_report(
            p->prog, p->done0 + p->ix->disk_size * p->finished / p->num_todo,
            p->total);
}

/* How many todo entries a worker takes at seq: two (hashed together),
 * but one at a time for the last chunks to read, so that the workers
 * finish together rather than one waiting for the other's last pair. */
static int take_count(const struct pipe *p, uint64_t seq)
{
    uint64_t left = p->num_todo - seq;

    if (left < 2)
        return 1;
    if (seq < p->num_reads && p->num_reads - seq <= 2 * (uint64_t)p->workers)
        return 1;
    return 2;
}

static void *worker(void *arg)
{
    struct pipe *p = arg;
    size_t cs = p->repo->chunk_size;
    struct slot s[2];
    struct wbuf w;

    s[0].buf = xmalloc(cs);
    s[1].buf = xmalloc(cs);
    w.stored_avg = p->expect_stored ? STORED_ONE : 0;
    w.file = xmalloc(bk_chunk_file_bound(cs));
    w.scratch = p->repo->encrypted ? xmalloc(bk_compress_bound(cs)) : NULL;
    for (;;) {
        uint64_t seq;
        int n;

        pthread_mutex_lock(&p->mu);
        if (!p->err && p->next < p->num_todo && bk_cancelled(p->prog))
            p->err = ERR_CANCELLED;
        if (p->err || p->next >= p->num_todo) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        seq = p->next;
        n = take_count(p, seq);
        p->next += (uint64_t)n;
        pthread_mutex_unlock(&p->mu);

        do_todos(p, &w, p->todo + seq, n, s);

        pthread_mutex_lock(&p->mu);
        for (int i = 0; i < n; i++)
            account(p, &s[i].res, s[i].rc);
        pthread_mutex_unlock(&p->mu);
        for (int i = 0; p->mapped && i < n; i++)
            bk_srcmap_done(&p->sm, s[i].off);
    }
    free(s[0].buf);
    free(s[1].buf);
    free(w.file);
    free(w.scratch);
    return NULL;
}

/* Flush the repository's file system whenever the workers have written
 * FLUSH_EVERY bytes since the last flush began (and when the reads run
 * out). This writes the chunk files back and mostly waits for the
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
        struct bk_dropq synced;

        p->flush_wanted = 0;
        p->unflushed = 0;
        bk_dropq_take(&p->dropq, &synced);
        pthread_mutex_unlock(&p->mu);
        if (bk_repo_sync(p->repo))
            bk_dropq_free(&synced);
        else
            bk_dropq_drop(p->repo, &synced);
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
    p->workers = n;
    if (p->mapped) {
        bk_srcmap_init(&p->sm, p->fd, p->ix->disk_size, p->repo->chunk_size);
        for (uint64_t i = 0; i < p->num_todo; i++)
            bk_srcmap_expect(&p->sm,
                             (p->todo[i] & ~TODO_REUSE) * p->repo->chunk_size);
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->flush_cv, NULL);
    have_flusher = !pthread_create(&flush_th, NULL, flusher, p);
    for (; started < n - 1; started++)
        if (pthread_create(&th[started], NULL, worker, p))
            break;
    worker(p);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    if (p->mapped)
        bk_srcmap_release(&p->sm);
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_signal(&p->flush_cv);
    pthread_mutex_unlock(&p->mu);
    if (have_flusher)
        pthread_join(flush_th, NULL);
    pthread_cond_destroy(&p->flush_cv);
    pthread_mutex_destroy(&p->mu);
    /* The last chunks are synced with the indexes, later. */
    bk_dropq_append(p->rest, &p->dropq);
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
                                struct bk_index *ix, uint64_t *num_out,
                                uint64_t *reads_out)
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
    /* The chunks to read first, then those to reuse: workers take two
     * entries at a time and hash two chunks read together faster. */
    v = xmalloc((ix->num ? ix->num : 1) * sizeof(*v));
    for (int pass = 0; pass < 2; pass++) {
        for (uint64_t c = 0; c < ix->num; c++) {
            const unsigned char *pid = pix.ids + c * BK_ID_LEN;
            int reuse = !changed[c] && c < pix.num &&
                        /* a short last chunk changes with the size */
                        (c + 1 < ix->num || pix.disk_size == ix->disk_size);

            if (!reuse && pass == 0)
                v[n++] = c;
            if (pass == 1 && c == 0)
                *reads_out = n;
            if (!reuse || pass == 0)
                continue;
            memcpy(ix->ids + c * BK_ID_LEN, pid, BK_ID_LEN);
            if (!bk_id_is_zero(pid))
                v[n++] = c | TODO_REUSE; /* the workers touch it */
        }
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
                       uint64_t total, struct bk_dropq *rest,
                       struct bk_backup_result *res)
{
    struct pipe p = { .repo = repo,
                      .rest = rest,
                      .fd = fd,
                      .disk_name = d->name,
                      .disk_path = d->path,
                      .ix = ix,
                      .prog = prog,
                      .done0 = done0,
                      .total = total };
    uint64_t *todo = NULL, num = 0, reads = 0, read0 = res->bytes_read;
    int rc;

    if (d->changed_since && parent)
        todo = changed_chunks(repo, d, parent, ix, &num, &reads);
    if (todo) {
        meta->changemap = 1;
        res->used_changemap = 1;
    } else {
        todo = allocated_chunks(fd, ix, &num);
        reads = num;
    }
    /* Without a parent, or with a change map (whose reads are chunks
     * that changed), most chunks read are new. */
    p.expect_stored = parent && !meta->changemap;
    p.todo = todo;
    p.num_todo = num;
    p.num_reads = reads;
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

/* Make the snapshot m with the indexes ix[] appear. The indexes and the
 * manifest are written to temp files first, so that one sync makes them
 * durable together with the chunks they name (the flusher has synced
 * most chunks already); then the indexes get their names, durable
 * before the manifest's rename makes the snapshot appear. A kill leaves
 * temp files or indexes no manifest names, which gc removes. */
static int commit(struct bk_repo *repo, struct bk_manifest *m,
                  const struct bk_index *ix)
{
    char(*itmp)[BK_TMP_LEN] = xcalloc(m->num_disks, BK_TMP_LEN);
    char mtmp[BK_TMP_LEN] = "", rel[160] = "";
    int rc = 0;

    for (size_t i = 0; !rc && i < m->num_disks; i++) {
        struct bk_disk_meta *d = &m->disks[i];

        snprintf(d->index, sizeof(d->index), "%s.%zu.idx", m->info.id, i);
        rc = bk_index_stage(repo, &ix[i], d->index, d->index_sha, itmp[i]);
    }
    if (!rc)
        rc = bk_manifest_stage(repo, m, mtmp);
    if (!rc)
        rc = bk_repo_sync(repo);
    for (size_t i = 0; !rc && i < m->num_disks; i++) {
        snprintf(rel, sizeof(rel), "indexes/%s", m->disks[i].index);
        rc = bk_rename_staged(repo, itmp[i], rel);
        itmp[i][0] = 0; /* renamed, or removed on failure */
    }
    if (!rc)
        rc = bk_sync_dir(repo, rel);
    if (!rc) {
        snprintf(rel, sizeof(rel), "snapshots/%s.json", m->info.id);
        rc = bk_rename_staged(repo, mtmp, rel);
        mtmp[0] = 0;
    }
    if (!rc)
        rc = bk_sync_dir(repo, rel);
    for (size_t i = 0; i < m->num_disks; i++)
        if (itmp[i][0])
            unlinkat(repo->dirfd, itmp[i], 0);
    if (mtmp[0])
        unlinkat(repo->dirfd, mtmp, 0);
    free(itmp);
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
    struct bk_dropq rest = { 0 }; /* chunks the commit's sync makes clean */
    int *fds = NULL, have_parent = 0, locked = 0, rc;
    char lockname[64];
    uint64_t total = 0, done = 0;

    bk_error_clear(repo);
    if (!opts->name || !opts->name[0] || strlen(opts->name) >= 128 ||
        !num_disks)
        return ERR_INVALID;
    uuid_generate(m.info.id);
    snprintf(lockname, sizeof(lockname), "backup-%s", m.info.id);
    /* The lock is durable before any chunk is written, and removed only
     * once they are: after a power loss it marks this run as one whose
     * chunks the next backup must check before it trusts them. */
    rc = bk_lock_take_durable(repo, lockname, "backup");
    if (rc)
        return rc;
    locked = 1;
    rc = bk_recover_interrupted(repo, lockname, &res.interrupted_checked,
                                &res.interrupted_removed);
    if (rc)
        goto out;
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
                         &ix[i], &m.disks[i], prog, done, total, &rest, &res);
        if (rc)
            goto out;
        done += m.disks[i].size;
        res.logical_bytes += m.disks[i].size;
    }
    rc = commit(repo, &m, ix);
    if (rc)
        goto out;
    bk_dropq_drop(repo, &rest);
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
    bk_dropq_free(&rest);
    /* A failed or cancelled run may have written chunks that no sync
     * made durable yet: its lock stays unless a sync does now. */
    if (rc && res.chunks_new && bk_repo_sync(repo)) {
        log_warn("backup: lock %s kept: the next backup checks the chunks "
                 "of snapshot %s",
                 lockname, m.info.id);
        bk_lock_keep(lockname);
        locked = 0;
    }
    if (locked)
        bk_lock_drop(repo, lockname);
    bk_manifest_release(&parent);
    bk_manifest_release(&m);
    return rc;
}
