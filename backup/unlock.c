/* unlock.c: bk_unlock(). A lock is stale on its own host only (lock.c):
 * a run that died on another host sharing the repository (NFS) leaves
 * locks that nothing here can tell from live ones, and they hold off
 * prune and gc (locks/exclusive) or gc's sweep (a backup's lock) for
 * good. An operator who knows that host runs nothing against the
 * repository any more names it, and its locks are dealt with as stale
 * ones of this host would be: locks/exclusive is removed, and a backup's
 * lock only after the check of the chunks its run may have left
 * (recover.c), under a backup lock of our own as a backup does it.
 */
#include "backup/bk_internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/err.h"
#include "common/uuid.h"

static int unlock_backups(struct bk_repo *repo, struct bk_unlock_result *res)
{
    char own[64], id[UUID_STRLEN], **names = NULL;
    size_t num = 0;
    int rc;

    uuid_generate(id);
    snprintf(own, sizeof(own), "backup-%s", id);
    rc = bk_lock_take_durable(repo, own, "unlock");
    if (rc)
        return rc;
    bk_lock_stale_backups(repo, own, &names, &num);
    bk_strv_free(names, num);
    rc = bk_recover_interrupted(repo, own, &res->chunks_checked,
                                &res->chunks_removed);
    if (!rc)
        res->backup_locks_removed = num;
    bk_lock_drop(repo, own);
    return rc ? rc : bk_lock_live_backup(repo, NULL);
}

static int unlock_exclusive(struct bk_repo *repo, struct bk_unlock_result *res)
{
    struct stat st;
    int had = !fstatat(repo->dirfd, "locks/exclusive", &st, 0);
    /* Taking it breaks a stale holder's and fails on a live one's. */
    int rc = bk_lock_take(repo, "exclusive", "unlock");

    if (rc)
        return rc;
    bk_lock_drop(repo, "exclusive");
    res->exclusive_removed = had;
    return 0;
}

int bk_unlock(struct bk_repo *repo, const char *dead_host,
              struct bk_unlock_result *res_out)
{
    int rc, rc2;

    bk_error_clear(repo);
    memset(res_out, 0, sizeof(*res_out));
    if (dead_host && (!dead_host[0] || bk_is_this_host(dead_host)))
        return bk_fail(repo, ERR_INVALID,
                       "host \"%s\" is this host: its locks are stale once "
                       "their process is gone, without naming it",
                       dead_host);
    repo->dead_host = dead_host;
    rc = unlock_backups(repo, res_out);
    rc2 = unlock_exclusive(repo, res_out);
    repo->dead_host = NULL;
    return rc ? rc : rc2;
}
