/* backup_pipeline.c: bk_backup(). Per disk: find the chunks to read (the
 * FIEMAP change map against the parent's reflink clone, else the
 * allocated extents from SEEK_DATA/SEEK_HOLE), then N worker threads
 * each read a chunk, skip it when all zero, hash it, look it up, and
 * compress + encrypt it when new, while the calling thread writes the
 * results in order into the chunk store and the index. Then syncfs,
 * the indexes, and last the manifest (the snapshot appears).
 */
#include "backup/bk_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/uuid.h"
#include "common/xalloc.h"

enum slot_state {
    SLOT_FREE,
    SLOT_BUSY,
    SLOT_DONE
};

struct slot {
    enum slot_state state;
    int zero;
    unsigned char id[BK_ID_LEN];
    unsigned char *file; /* encoded chunk to write, NULL when it exists */
    size_t file_len;
    uint32_t len;
};

struct pipe {
    struct bk_repo *repo;
    int fd;
    uint64_t size;
    const uint64_t *todo;
    uint64_t num_todo;
    uint64_t next;    /* next todo entry a worker takes */
    uint64_t written; /* entries the writer has committed */
    size_t window;
    struct slot *slots;
    int err;
    pthread_mutex_t mu;
    pthread_cond_t done_cv;
    pthread_cond_t space_cv;
    uint64_t bytes_read;
};

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

static void *worker(void *arg)
{
    struct pipe *p = arg;
    struct bk_repo *repo = p->repo;
    unsigned char *buf = xmalloc(repo->chunk_size);

    for (;;) {
        uint64_t seq, off;
        struct slot s = { .state = SLOT_DONE };
        int rc;

        pthread_mutex_lock(&p->mu);
        while (!p->err && p->next < p->num_todo &&
               p->next >= p->written + p->window)
            pthread_cond_wait(&p->space_cv, &p->mu);
        if (p->err || p->next >= p->num_todo) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        seq = p->next++;
        p->slots[seq % p->window].state = SLOT_BUSY;
        pthread_mutex_unlock(&p->mu);

        off = p->todo[seq] * repo->chunk_size;
        s.len = (uint32_t)(p->size - off < repo->chunk_size ? p->size - off
                                                            : repo->chunk_size);
        rc = read_full(p->fd, buf, s.len, off);
        if (!rc) {
            s.zero = bk_is_zero(buf, s.len);
            if (!s.zero) {
                bk_chunk_id(repo, buf, s.len, s.id);
                if (!bk_chunk_exists(repo, s.id, 1))
                    bk_chunk_encode(repo, s.id, buf, s.len, &s.file,
                                    &s.file_len);
            }
        }
        pthread_mutex_lock(&p->mu);
        p->bytes_read += s.len;
        if (rc && !p->err)
            p->err = rc;
        p->slots[seq % p->window] = s;
        pthread_cond_broadcast(&p->done_cv);
        pthread_mutex_unlock(&p->mu);
    }
    free(buf);
    return NULL;
}

/* The calling thread: commit results in order. */
static int writer(struct pipe *p, struct bk_index *ix,
                  const struct bk_progress *prog, uint64_t done0,
                  uint64_t total, struct bk_backup_result *res)
{
    int rc = 0;

    for (uint64_t seq = 0; seq < p->num_todo; seq++) {
        struct slot s, *sl = &p->slots[seq % p->window];

        pthread_mutex_lock(&p->mu);
        while (!p->err && sl->state != SLOT_DONE)
            pthread_cond_wait(&p->done_cv, &p->mu);
        if (p->err) {
            rc = p->err;
            pthread_mutex_unlock(&p->mu);
            break;
        }
        s = *sl;
        memset(sl, 0, sizeof(*sl));
        pthread_mutex_unlock(&p->mu);

        if (s.zero) {
            res->chunks_zero++;
            memset(ix->ids + p->todo[seq] * BK_ID_LEN, 0, BK_ID_LEN);
        } else {
            memcpy(ix->ids + p->todo[seq] * BK_ID_LEN, s.id, BK_ID_LEN);
        }
        if (s.file) {
            rc = bk_chunk_write(p->repo, s.id, s.file, s.file_len);
            if (!rc) {
                res->chunks_new++;
                res->stored_bytes += s.file_len;
            }
            free(s.file);
        }
        if (!rc && bk_cancelled(prog))
            rc = ERR_CANCELLED;
        pthread_mutex_lock(&p->mu);
        if (rc && !p->err)
            p->err = rc;
        p->written = seq + 1;
        pthread_cond_broadcast(&p->space_cv);
        pthread_mutex_unlock(&p->mu);
        if (rc)
            break;
        bk_progress_report(prog, done0 + (seq + 1) * p->repo->chunk_size,
                           total);
    }
    return rc;
}

static int run_pipe(struct bk_repo *repo, int fd, struct bk_index *ix,
                    const uint64_t *todo, uint64_t num_todo,
                    const struct bk_progress *prog, uint64_t done0,
                    uint64_t total, struct bk_backup_result *res)
{
    struct pipe p = { 0 };
    int n = bk_repo_threads(repo), started = 0, rc;
    pthread_t th[64];

    p.repo = repo;
    p.fd = fd;
    p.size = ix->disk_size;
    p.todo = todo;
    p.num_todo = num_todo;
    p.window = (size_t)(2 * n + 2);
    p.slots = xcalloc(p.window, sizeof(*p.slots));
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.done_cv, NULL);
    pthread_cond_init(&p.space_cv, NULL);
    for (; started < n; started++)
        if (pthread_create(&th[started], NULL, worker, &p))
            break;
    rc = started ? writer(&p, ix, prog, done0, total, res) : ERR_INTERNAL;
    pthread_mutex_lock(&p.mu);
    if (rc && !p.err)
        p.err = rc;
    pthread_cond_broadcast(&p.space_cv);
    pthread_mutex_unlock(&p.mu);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    for (size_t i = 0; i < p.window; i++)
        free(p.slots[i].file);
    res->bytes_read += p.bytes_read;
    free(p.slots);
    pthread_mutex_destroy(&p.mu);
    pthread_cond_destroy(&p.done_cv);
    pthread_cond_destroy(&p.space_cv);
    return rc;
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

/* Use the change map: copy the parent's ids of unchanged chunks (checking
 * and touching them for gc), and list the rest. NULL when not usable. */
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

        if (reuse && !bk_id_is_zero(pid) && !bk_chunk_exists(repo, pid, 1))
            reuse = 0;
        if (reuse)
            memcpy(ix->ids + c * BK_ID_LEN, pid, BK_ID_LEN);
        else
            v[n++] = c;
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
        if (rc) {
            log_error("backup: parent snapshot %s: %s", o->parent, err_str(rc));
            return ERR_INVALID;
        }
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
    res->chunks_total += ix->num;
    rc = run_pipe(repo, fd, ix, todo, num, prog, done0, total, res);
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
        off_t sz;

        fds[i] = open(disks[i].path, O_RDONLY | O_CLOEXEC);
        if (fds[i] < 0 || (sz = lseek(fds[i], 0, SEEK_END)) < 0) {
            rc = err_from_errno(errno);
            log_error("backup: open %s: %s", disks[i].path, strerror(errno));
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
