#include "server/core/backup_repo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/seal.h"
#include "db/db_backup_jobs.h"
#include "db/db_backup_repos.h"
#include "server/core/app.h"
#include "server/core/backup_cache.h"
#include "server/core/tasks.h"

static int load_key(struct app *app, unsigned char key[SEAL_KEY_LEN])
{
    char path[PATH_MAX];

    if (snprintf(path, sizeof(path), "%s/secret.key", app->cfg.data_dir) >=
        (int)sizeof(path))
        return ERR_INVALID;
    return seal_key_load(path, key);
}

int backup_repo_seal(struct app *app, const char *repo_id,
                     const char *passphrase, char *out, size_t cap)
{
    unsigned char key[SEAL_KEY_LEN];
    int rc;

    rc = load_key(app, key);
    if (!rc)
        rc = seal_seal(key, repo_id, passphrase, out, cap);
    seal_wipe(key, sizeof(key));
    return rc;
}

int backup_repo_passphrase(struct app *app, const struct db_backup_repo *row,
                           char *out, size_t cap)
{
    unsigned char key[SEAL_KEY_LEN];
    int rc;

    if (cap)
        out[0] = '\0';
    if (!row->passphrase_sealed[0])
        return 0;
    rc = load_key(app, key);
    if (!rc)
        rc = seal_open(key, row->id, row->passphrase_sealed, out, cap);
    seal_wipe(key, sizeof(key));
    if (rc)
        log_error("backup: cannot unseal the passphrase of repository %s: "
                  "%s",
                  row->id, err_str(rc));
    return rc;
}

const char *backup_repo_open_why(int rc)
{
    switch (rc) {
    case ERR_NOTFOUND:
        return "no repository at its path (unmounted or moved?)";
    case ERR_UNAUTH:
        return "the stored passphrase does not open it";
    case ERR_UNSUPPORTED:
        return "a repository format this version does not know";
    default:
        return err_str(rc);
    }
}

const char *backup_repo_why(const struct bk_repo *repo, int rc)
{
    const char *why = repo ? bk_repo_error(repo) : "";

    return why[0] ? why : err_str(rc);
}

int backup_repo_open_row(struct app *app, const struct db_backup_repo *row,
                         struct bk_repo **repo_out)
{
    char pass[SEAL_PLAIN_MAX + 1];
    int rc;

    rc = backup_repo_passphrase(app, row, pass, sizeof(pass));
    if (!rc)
        rc = bk_repo_open(row->path, pass[0] ? pass : NULL, repo_out);
    seal_wipe(pass, sizeof(pass));
    return rc;
}

int backup_repo_open(struct app *app, const char *repo_id,
                     struct bk_repo **repo_out)
{
    struct db_backup_repo row;
    int rc;

    rc = db_backup_repo_get(app->db, repo_id, &row);
    if (!rc)
        rc = backup_repo_open_row(app, &row, repo_out);
    seal_wipe(row.passphrase_sealed, sizeof(row.passphrase_sealed));
    return rc;
}

struct find_arg {
    const char *snap_id;
    struct bk_snapshot_detail *det_out;
};

static int find_detail(struct bk_repo *repo, void *arg)
{
    struct find_arg *a = arg;

    return bk_snapshot_detail(repo, a->snap_id, a->det_out);
}

/* The snapshot in the repository of row: 0, ERR_NOTFOUND, or an error
 * opening it. */
static int find_in(struct app *app, const struct db_backup_repo *row,
                   const char *snap_id, struct bk_snapshot_detail *det_out)
{
    struct find_arg a = { snap_id, det_out };

    return backup_cache_use(app, row, find_detail, &a);
}

int backup_snapshot_find(struct app *app, const char *repo_id,
                         const char *snap_id, struct db_backup_repo *row_out,
                         struct bk_snapshot_detail *det_out)
{
    struct db_backup_repo *list = NULL;
    size_t i, num = 0;
    int rc;

    memset(det_out, 0, sizeof(*det_out));
    if (repo_id) {
        rc = db_backup_repo_get(app->db, repo_id, row_out);
        return rc ? rc : find_in(app, row_out, snap_id, det_out);
    }
    rc = db_backup_repo_list(app->db, &list, &num);
    if (rc)
        return rc;
    rc = ERR_NOTFOUND;
    for (i = 0; i < num && rc; i++) {
        if (find_in(app, &list[i], snap_id, det_out))
            continue;
        *row_out = list[i];
        rc = 0;
    }
    seal_wipe(list, num * sizeof(*list));
    free(list);
    return rc;
}

int backup_repo_in_use(struct app *app, const char *repo_id)
{
    int64_t n = 0;

    /* An error reads as "in use": never forget a repository we could
     * not check. */
    if (db_backup_job_repo_users(app->db, repo_id, &n))
        return 1;
    return n > 0;
}

static void progress_cb(void *opaque, uint64_t done, uint64_t total)
{
    struct backup_progress *bp = opaque;
    uint64_t grand;

    if (bp->fraction_only) {
        task_progress(bp->task, total ? (double)done / (double)total : 0);
        return;
    }
    done *= bp->unit;
    total *= bp->unit;
    grand = bp->total ? bp->total : bp->base + total;
    task_progress_bytes(bp->task, bp->base + done, grand);
}

void backup_progress_init(struct backup_progress *bp, struct task *t,
                          uint64_t base, uint64_t total)
{
    memset(bp, 0, sizeof(*bp));
    bp->task = t;
    bp->base = base;
    bp->total = total;
    bp->unit = 1;
    bp->bk.cb = progress_cb;
    bp->bk.opaque = bp;
    bp->bk.cancel = task_cancel_flag(t);
}
