/* gc.c: bk_gc(), mark and sweep under locks/exclusive, safe while
 * backups run (docs/backup-format.md, "Locks"): only unreferenced chunks
 * older than the start of gc and of the oldest live backup are removed,
 * each through a rename and a second mtime check so that a chunk a
 * backup has just reused is put back. A damaged manifest or index stops
 * gc before it removes anything. Also removes stale temp files and
 * indexes no manifest names.
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
#include "common/timeutil.h"
#include "common/uuid.h"
#include "common/xalloc.h"

struct mark {
    unsigned char *ids;
    size_t n, cap;
    char **snaps;
    size_t num_snaps;
};

static int cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, BK_ID_LEN);
}

static int mark_all(struct bk_repo *repo, struct mark *mk)
{
    int rc = bk_manifest_ids(repo, &mk->snaps, &mk->num_snaps);

    if (rc)
        return rc;
    for (size_t s = 0; s < mk->num_snaps; s++) {
        struct bk_manifest m;

        rc = bk_manifest_read(repo, mk->snaps[s], &m);
        if (rc == ERR_NOTFOUND)
            continue; /* pruned meanwhile */
        if (rc)
            return bk_fail(repo, ERR_IO,
                           "gc: the manifest of snapshot %s is damaged; "
                           "nothing removed",
                           mk->snaps[s]);
        for (size_t d = 0; d < m.num_disks && !rc; d++) {
            struct bk_index ix;

            rc = bk_index_read(repo, m.disks[d].index, m.disks[d].index_sha,
                               &ix);
            if (rc) {
                rc = bk_fail(repo, ERR_IO,
                             "gc: index %s of snapshot %s is damaged; "
                             "nothing removed",
                             m.disks[d].index, mk->snaps[s]);
                break;
            }
            if (mk->n + ix.num > mk->cap) {
                mk->cap = 2 * (mk->n + ix.num) + 1024;
                mk->ids = xrealloc(mk->ids, mk->cap * BK_ID_LEN);
            }
            memcpy(mk->ids + mk->n * BK_ID_LEN, ix.ids, ix.num * BK_ID_LEN);
            mk->n += ix.num;
            bk_index_release(&ix);
        }
        bk_manifest_release(&m);
        if (rc)
            return rc;
    }
    if (mk->n)
        qsort(mk->ids, mk->n, BK_ID_LEN, cmp_id);
    return 0;
}

static int referenced(const struct mark *mk, const unsigned char *id)
{
    return mk->n && bsearch(id, mk->ids, mk->n, BK_ID_LEN, cmp_id) != NULL;
}

/* Remove dir/name when it is older than cutoff, through a rename and a
 * second look. Returns 1 when removed. */
static int sweep_one(int dfd, const char *name, int64_t cutoff, off_t *sz_out)
{
    char tmp[128], rnd[17];
    struct stat st;

    if (fstatat(dfd, name, &st, 0) || st.st_mtime >= cutoff)
        return 0;
    rand_hex(rnd, 8);
    snprintf(tmp, sizeof(tmp), ".tmp-gc-%s", rnd);
    if (renameat(dfd, name, dfd, tmp))
        return 0;
    if (fstatat(dfd, tmp, &st, 0) || st.st_mtime >= cutoff) {
        renameat(dfd, tmp, dfd, name); /* a backup just reused it */
        return 0;
    }
    *sz_out = st.st_size;
    return unlinkat(dfd, tmp, 0) == 0;
}

static void sweep_tmp(int dfd, const char *name, int64_t cutoff,
                      struct bk_gc_result *res)
{
    struct stat st;

    if (!fstatat(dfd, name, &st, 0) && st.st_mtime < cutoff &&
        !unlinkat(dfd, name, 0))
        res->tmp_removed++;
}

static void sweep_chunks(struct bk_repo *repo, const struct mark *mk,
                         int64_t cutoff, const struct bk_progress *prog,
                         struct bk_gc_result *res)
{
    for (int fan = 0; fan < 256 && !bk_cancelled(prog); fan++) {
        char sub[16];
        int sfd;
        DIR *d;
        struct dirent *e;

        snprintf(sub, sizeof(sub), "chunks/%02x", fan);
        d = bk_opendir_at(repo->dirfd, sub);
        if (!d)
            continue;
        sfd = dirfd(d);
        while ((e = readdir(d))) {
            unsigned char id[BK_ID_LEN];
            off_t sz = 0;

            if (!strncmp(e->d_name, ".tmp-", 5)) {
                sweep_tmp(sfd, e->d_name, cutoff, res);
                continue;
            }
            if (bk_id_parse(e->d_name, id))
                continue;
            if (referenced(mk, id)) {
                res->chunks_kept++;
                continue;
            }
            if (sweep_one(sfd, e->d_name, cutoff, &sz)) {
                res->chunks_removed++;
                res->bytes_removed += (uint64_t)sz;
            } else {
                res->chunks_kept++;
            }
        }
        closedir(d);
        bk_progress_report(prog, (uint64_t)fan + 1, 256);
    }
}

/* Temp files in dir, and in indexes/ the files of no snapshot. */
static void sweep_meta(struct bk_repo *repo, const char *dir,
                       const struct mark *mk, int64_t cutoff,
                       struct bk_gc_result *res)
{
    DIR *d = bk_opendir_at(repo->dirfd, dir);
    struct dirent *e;
    int fd;

    if (!d)
        return;
    fd = dirfd(d);
    while ((e = readdir(d))) {
        int known = 0;

        if (!strncmp(e->d_name, ".tmp-", 5)) {
            sweep_tmp(fd, e->d_name, cutoff, res);
            continue;
        }
        if (strcmp(dir, "indexes") || strlen(e->d_name) < 36)
            continue;
        for (size_t s = 0; s < mk->num_snaps && !known; s++)
            known = !strncmp(e->d_name, mk->snaps[s], 36);
        if (!known)
            sweep_tmp(fd, e->d_name, cutoff, res);
    }
    closedir(d);
}

int bk_gc(struct bk_repo *repo, const struct bk_progress *prog,
          struct bk_gc_result *res_out)
{
    struct mark mk = { 0 };
    struct bk_gc_result res = { 0 };
    int64_t cutoff, oldest;
    int rc;

    bk_error_clear(repo);
    rc = bk_lock_take(repo, "exclusive", "gc");
    if (rc)
        return rc;
    /* Now, by the earlier of this host's clock and the repository's
     * (the mtime of the lock just written): chunk mtimes are set by the
     * file system, and on NFS a client's clock may run ahead of the
     * server's, which would put chunks a backup touches after this
     * point before the cutoff. */
    cutoff = time_now();
    oldest = bk_lock_written(repo, "exclusive");
    if (oldest < cutoff)
        cutoff = oldest;
    /* Read the live backups first: a backup that starts after this
     * point starts after cutoff and touches what it reuses. */
    oldest = bk_lock_oldest_backup(repo);
    if (oldest < cutoff)
        cutoff = oldest;
    rc = mark_all(repo, &mk);
    if (rc)
        goto out;
    sweep_chunks(repo, &mk, cutoff, prog, &res);
    sweep_meta(repo, "indexes", &mk, cutoff, &res);
    sweep_meta(repo, "snapshots", &mk, cutoff, &res);
    sweep_meta(repo, "locks", &mk, cutoff, &res);
    sweep_meta(repo, ".", &mk, cutoff, &res);
    rc = bk_cancelled(prog) ? ERR_CANCELLED : 0;
    if (res_out)
        *res_out = res;
out:
    bk_lock_drop(repo, "exclusive");
    free(mk.ids);
    bk_strv_free(mk.snaps, mk.num_snaps);
    return rc;
}
