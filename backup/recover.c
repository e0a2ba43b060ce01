/* recover.c: bk_recover_interrupted(). Chunk files are renamed into
 * place without an fsync and made durable by one syncfs before any index
 * names them, and dedup trusts a chunk file by its name. A power loss
 * between the two may keep a chunk's name and lose its data (an empty or
 * zero-filled file). A backup's lock is durable and removed only after
 * that syncfs, so a stale backup lock marks such a run: every chunk file
 * changed since it was created (ctime, which a reuse's touch and a
 * rename also move on) is read and checked, and a bad one is removed so
 * that it is written again (docs/backup-format.md, "Interrupted
 * backups").
 */
#include "backup/bk_internal.h"

#include <dirent.h>
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

struct scan {
    struct bk_repo *repo;
    struct timespec since; /* check chunk files changed at or after it */
    unsigned char *buf;    /* one chunk file */
    size_t cap;
    uint64_t checked, removed;
};

static int ts_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec ||
           (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Read the open chunk file fd (st its stat) into s->buf; why it is bad,
 * or NULL. */
static const char *check_fd(struct scan *s, int fd, const struct stat *st)
{
    size_t got = 0, n;

    if (st->st_size < 0 || (uint64_t)st->st_size > s->cap)
        return "bad size";
    n = (size_t)st->st_size;
    while (got < n) {
        ssize_t r = read(fd, s->buf + got, n - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return "unreadable";
        got += (size_t)r;
    }
    return bk_chunk_file_bad(s->repo, s->buf, n, s->repo->chunk_size);
}

/* Remove name from dfd when it is still the file st describes: renamed
 * aside first, so a good copy another backup has just written under
 * that name is put back. */
static int remove_same(int dfd, const char *name, const struct stat *st)
{
    char tmp[64], rnd[17];
    struct stat now;

    rand_hex(rnd, 8);
    snprintf(tmp, sizeof(tmp), ".tmp-bad-%s", rnd);
    if (renameat(dfd, name, dfd, tmp))
        return 0;
    if (fstatat(dfd, tmp, &now, AT_SYMLINK_NOFOLLOW) ||
        now.st_ino != st->st_ino || now.st_dev != st->st_dev) {
        if (renameat2(dfd, tmp, dfd, name, RENAME_NOREPLACE))
            unlinkat(dfd, tmp, 0); /* a newer copy took the name */
        return 0;
    }
    return unlinkat(dfd, tmp, 0) == 0;
}

static void check_one(struct scan *s, int dfd, const char *sub,
                      const char *name)
{
    struct stat st;
    const char *why;
    int fd;

    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) ||
        ts_before(&st.st_ctim, &s->since))
        return;
    fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return; /* gone meanwhile (gc): nothing to trust */
    if (fstat(fd, &st)) {
        close(fd);
        return;
    }
    s->checked++;
    why = check_fd(s, fd, &st);
    close(fd);
    if (!why)
        return;
    log_warn("backup: chunk %s/%s left by an interrupted backup is "
             "damaged (%s): removed, it will be written again",
             sub, name, why);
    if (remove_same(dfd, name, &st))
        s->removed++;
}

static void scan_chunks(struct scan *s)
{
    for (int fan = 0; fan < 256; fan++) {
        unsigned char id[BK_ID_LEN];
        char sub[16];
        struct dirent *e;
        DIR *d;

        snprintf(sub, sizeof(sub), "chunks/%02x", fan);
        d = bk_opendir_at(s->repo->dirfd, sub);
        if (!d)
            continue;
        while ((e = readdir(d)))
            if (!bk_id_parse(e->d_name, id))
                check_one(s, dirfd(d), sub, e->d_name);
        closedir(d);
    }
}

int bk_recover_interrupted(struct bk_repo *repo, const char *own,
                           uint64_t *checked_out, uint64_t *removed_out)
{
    struct scan s = { .repo = repo };
    char **names = NULL, rel[300];
    size_t num = 0, live = 0;
    int rc = 0;

    *checked_out = *removed_out = 0;
    bk_lock_stale_backups(repo, own, &names, &num);
    /* The oldest stale lock's mtime (the repository's clock, like the
     * chunks' ctimes): its run wrote and touched chunks only after. */
    for (size_t i = 0; i < num; i++) {
        struct stat st;

        snprintf(rel, sizeof(rel), "locks/%s", names[i]);
        if (fstatat(repo->dirfd, rel, &st, 0))
            continue; /* another backup has just dealt with it */
        if (!live++ || ts_before(&st.st_mtim, &s.since))
            s.since = st.st_mtim;
    }
    if (!live)
        goto out;
    log_warn("backup: %zu backup(s) of %s did not finish; checking the "
             "chunks they may have left",
             live, repo->dir);
    s.cap = bk_chunk_file_bound(repo->chunk_size);
    s.buf = xmalloc(s.cap);
    scan_chunks(&s);
    free(s.buf);
    /* The removals, and chunks read back from the page cache after a
     * kill, must be durable before the marks go. */
    rc = bk_repo_sync(repo);
    if (rc)
        goto out;
    for (size_t i = 0; i < num; i++) {
        snprintf(rel, sizeof(rel), "locks/%s", names[i]);
        unlinkat(repo->dirfd, rel, 0);
    }
    log_warn("backup: %llu chunks left by an interrupted backup checked, "
             "%llu removed",
             (unsigned long long)s.checked, (unsigned long long)s.removed);
    *checked_out = s.checked;
    *removed_out = s.removed;
out:
    bk_strv_free(names, num);
    return rc;
}
