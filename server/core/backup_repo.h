/* backup_repo.h: backup repositories of the daemon (issue 4): opening
 * the chunk store of a backup_repos row (backup/bk.h) with its sealed
 * passphrase, and the bridge from the engine's progress callback to a
 * task's byte progress and cancel flag.
 *
 * struct bk_repo is for one thread at a time: every task opens its own
 * (backup_repo_open) and frees it when done; quick reads (the
 * repository and snapshot lists, snapshot look-ups) use the repositories
 * kept open by backup_cache.h. Thread safe.
 */
#ifndef XENITH_SERVER_CORE_BACKUP_REPO_H
#define XENITH_SERVER_CORE_BACKUP_REPO_H

#include <stddef.h>
#include <stdint.h>

#include "backup/bk.h"

struct app;
struct task;
struct db_backup_repo;

/* Open the repository of backup_repos row repo_id, unsealing its
 * passphrase. *repo_out is **new** (bk_repo_free). ERR_NOTFOUND for an
 * unknown id, else bk_repo_open's errors (ERR_NOTFOUND: the directory
 * holds no repository; ERR_UNAUTH: the stored passphrase does not open
 * it). */
int backup_repo_open(struct app *app, const char *repo_id,
                     struct bk_repo **repo_out);

/* Why a repository cannot be opened (rc from backup_repo_open), in
 * words for a user. Never NULL. */
const char *backup_repo_open_why(int rc);

/* Why an engine call on repo failed with rc, for a task or run result:
 * the engine's reason (bk_repo_error: operation, object and errno) or,
 * when it kept none, err_str(rc). **borrowed** (valid until the next
 * call on repo). repo may be NULL. */
const char *backup_repo_why(const struct bk_repo *repo, int rc);

/* bk_repo_open for a row already read. */
int backup_repo_open_row(struct app *app, const struct db_backup_repo *row,
                         struct bk_repo **repo_out);

/* Seal passphrase for the row repo_id (the id is authenticated with it)
 * into out[cap] (cap >= SEAL_HEX_MAX of common/seal.h). */
int backup_repo_seal(struct app *app, const char *repo_id,
                     const char *passphrase, char *out, size_t cap);

/* The clear passphrase of row into out[cap] ("" for a plain
 * repository). Wipe it (seal_wipe) after use. */
int backup_repo_passphrase(struct app *app, const struct db_backup_repo *row,
                           char *out, size_t cap);

/* Find snapshot snap_id (a full id) in repository repo_id, or, when
 * repo_id is NULL, in every known repository that opens. *row_out gets
 * the repository's row (wipe its passphrase_sealed), *det_out the
 * snapshot (bk_snapshot_detail_release). ERR_NOTFOUND when no
 * repository holds it (or repo_id is unknown), else the engine's
 * error. */
int backup_snapshot_find(struct app *app, const char *repo_id,
                         const char *snap_id, struct db_backup_repo *row_out,
                         struct bk_snapshot_detail *det_out);

/* 1 when a backup job uses repository repo_id (DELETE answers 409),
 * else 0. Hook for the jobs side (bkjobs): answers 0 until the
 * backup_jobs table exists. */
int backup_repo_in_use(struct app *app, const char *repo_id);

/* A struct bk_progress feeding task_progress_bytes and polling the
 * task's cancel flag. For a task made of several engine calls, base is
 * the bytes done by the earlier ones and total (0 = what the engine
 * says, plus base) the task's grand total:
 *
 *   struct backup_progress bp;
 *   backup_progress_init(&bp, t, 0, 0);
 *   rc = bk_verify(repo, 100, &bp.bk, &rep);
 */
struct backup_progress {
    struct bk_progress bk; /* pass &bp.bk to the engine */
    struct task *task;
    uint64_t base;
    uint64_t total;
    /* Set after init when the engine's units are not bytes: bytes per
     * unit (bk_verify counts chunks: the chunk size), or fraction_only
     * for a call whose units are no bytes at all (bk_gc counts chunk
     * directories): then only the task's progress moves. */
    uint64_t unit;
    int fraction_only;
};

void backup_progress_init(struct backup_progress *bp, struct task *t,
                          uint64_t base, uint64_t total);

#endif
