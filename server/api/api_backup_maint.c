/* api_backup_maint.c: repository maintenance as tasks: verify (re-hash
 * chunks; the task fails naming the first bad chunk), prune (retention
 * per snapshot name), gc (mark and sweep unreferenced chunks) and unlock
 * (stale locks, and those of a host an admin names dead: bk_unlock()). Each
 * task opens its own struct bk_repo (backup_repo_open) and reports byte
 * progress and cancel through struct backup_progress. */
#include "server/api/api.h"

#include <stdlib.h>
#include <string.h>

#include "backup/bk.h"
#include "common/err.h"
#include "common/log.h"
#include "common/seal.h"
#include "common/xalloc.h"
#include "db/db_backup_repos.h"
#include "server/api/api_backup.h"
#include "server/api/api_util.h"
#include "server/core/app.h"
#include "server/core/backup_cache.h"
#include "server/core/backup_repo.h"
#include "server/core/tasks.h"

#define TARGET "backup_repo"

struct maint_arg {
    char repo_id[37];
    int sample_pct;
    struct bk_retention keep;
    int dry_run;
    char *dead_host; /* unlock: NULL, or a host named dead */
};

static void maint_arg_free(void *p)
{
    struct maint_arg *a = p;

    free(a->dead_host);
    free(a);
}

/* The task's repository, or the task's error set. */
static int maint_open(struct task *t, const struct maint_arg *a,
                      struct bk_repo **repo_out)
{
    int rc = backup_repo_open(task_app(t), a->repo_id, repo_out);

    if (rc)
        task_set_error(t, "cannot open backup repository %s: %s", a->repo_id,
                       backup_repo_open_why(rc));
    return rc;
}

static json_t *strv_json(char **v, size_t n)
{
    json_t *arr = json_array();
    size_t i;

    for (i = 0; i < n; i++)
        json_array_append_new(arr, json_string(v[i]));
    return arr;
}

static json_t *verify_json(const struct bk_verify_report *rep)
{
    json_t *bad = json_array();
    size_t i;

    for (i = 0; i < rep->num_bad; i++) {
        const struct bk_bad_chunk *b = &rep->bad[i];

        json_array_append_new(
            bad,
            json_pack("{s:s, s:b, s:o}", "chunk", b->id, "missing", b->missing,
                      "snapshots", strv_json(b->snapshots, b->num_snapshots)));
    }
    return json_pack("{s:I, s:I, s:I, s:o, s:o, s:o}", "chunks_checked",
                     (json_int_t)rep->chunks_checked, "chunks_total",
                     (json_int_t)rep->chunks_total, "bytes_checked",
                     (json_int_t)rep->bytes_checked, "bad", bad, "bad_indexes",
                     strv_json(rep->bad_indexes, rep->num_bad_indexes),
                     "bad_files",
                     strv_json(rep->bad_files, rep->num_bad_files));
}

/* The failure message: the first bad chunk (and what it breaks), or
 * the first damaged snapshot. */
static void verify_error(struct task *t, const struct bk_verify_report *rep)
{
    if (rep->num_bad) {
        const struct bk_bad_chunk *b = &rep->bad[0];

        task_set_error(t,
                       "chunk %s is %s (breaks snapshot %s%s); %zu bad "
                       "chunk(s), %zu damaged snapshot(s)",
                       b->id, b->missing ? "missing" : "corrupt",
                       b->num_snapshots ? b->snapshots[0] : "-",
                       b->num_snapshots > 1 ? " and more" : "", rep->num_bad,
                       rep->num_bad_indexes);
    } else {
        task_set_error(t,
                       "the manifest or index of snapshot %s is damaged "
                       "(%s: damaged, tampered with or replaced); %zu "
                       "damaged snapshot(s)",
                       rep->bad_indexes[0],
                       rep->num_bad_files ? rep->bad_files[0] : "-",
                       rep->num_bad_indexes);
    }
}

static int verify_task(struct task *t, void *opaque)
{
    struct maint_arg *a = opaque;
    struct backup_progress bp;
    struct bk_verify_report rep;
    struct bk_repo *repo = NULL;
    int rc;

    memset(&rep, 0, sizeof(rep));
    rc = maint_open(t, a, &repo);
    if (rc)
        return rc;
    backup_progress_init(&bp, t, 0, 0);
    bp.unit = bk_repo_chunk_size(repo); /* it counts chunks */
    rc = bk_verify(repo, a->sample_pct, &bp.bk, &rep);
    backup_cache_touch(task_app(t), a->repo_id);
    if (rc) {
        if (rc != ERR_CANCELLED)
            task_set_error(t, "verify of backup repository %s failed: %s",
                           a->repo_id, backup_repo_why(repo, rc));
        goto out;
    }
    task_set_result(t, verify_json(&rep));
    if (rep.num_bad || rep.num_bad_indexes) {
        verify_error(t, &rep);
        log_error("backup: verify of repository %s: %zu bad chunk(s), %zu "
                  "damaged snapshot(s)",
                  a->repo_id, rep.num_bad, rep.num_bad_indexes);
        rc = ERR_IO;
    }
out:
    bk_verify_report_release(&rep);
    bk_repo_free(repo);
    return rc;
}

static int prune_task(struct task *t, void *opaque)
{
    struct maint_arg *a = opaque;
    struct bk_repo *repo = NULL;
    char **removed = NULL;
    size_t n = 0;
    int rc;

    rc = maint_open(t, a, &repo);
    if (rc)
        return rc;
    rc = bk_prune(repo, &a->keep, a->dry_run, &removed, &n);
    backup_cache_touch(task_app(t), a->repo_id);
    if (rc)
        task_set_error(t, "prune of backup repository %s failed: %s",
                       a->repo_id, backup_repo_why(repo, rc));
    bk_repo_free(repo);
    if (rc)
        return rc;
    task_set_result(t, json_pack("{s:o}", "removed", strv_json(removed, n)));
    bk_strv_free(removed, n);
    if (n && !a->dry_run)
        api_backup_repo_event(task_app(t), "updated", a->repo_id);
    return 0;
}

static int gc_task(struct task *t, void *opaque)
{
    struct maint_arg *a = opaque;
    struct backup_progress bp;
    struct bk_repo *repo = NULL;
    struct bk_gc_result res;
    int rc;

    rc = maint_open(t, a, &repo);
    if (rc)
        return rc;
    memset(&res, 0, sizeof(res));
    backup_progress_init(&bp, t, 0, 0);
    bp.fraction_only = 1; /* it counts chunk directories */
    rc = bk_gc(repo, &bp.bk, &res);
    backup_cache_touch(task_app(t), a->repo_id);
    if (rc && rc != ERR_CANCELLED)
        task_set_error(t, "gc of backup repository %s failed: %s", a->repo_id,
                       backup_repo_why(repo, rc));
    bk_repo_free(repo);
    if (rc)
        return rc;
    task_set_result(t, json_pack("{s:I, s:I, s:I}", "chunks_removed",
                                 (json_int_t)res.chunks_removed,
                                 "bytes_removed", (json_int_t)res.bytes_removed,
                                 "chunks_kept", (json_int_t)res.chunks_kept));
    if (res.chunks_removed)
        api_backup_repo_event(task_app(t), "updated", a->repo_id);
    return 0;
}

static int unlock_task(struct task *t, void *opaque)
{
    struct maint_arg *a = opaque;
    struct bk_unlock_result res;
    struct bk_repo *repo = NULL;
    int rc;

    rc = maint_open(t, a, &repo);
    if (rc)
        return rc;
    rc = bk_unlock(repo, a->dead_host, &res);
    backup_cache_touch(task_app(t), a->repo_id);
    /* What was removed is shown even when a live lock is left. */
    if (!rc || rc == ERR_BUSY)
        task_set_result(
            t, json_pack("{s:I, s:I, s:I, s:b}", "backup_locks_removed",
                         (json_int_t)res.backup_locks_removed, "chunks_checked",
                         (json_int_t)res.chunks_checked, "chunks_removed",
                         (json_int_t)res.chunks_removed, "exclusive_removed",
                         res.exclusive_removed));
    if (rc)
        task_set_error(t, "unlock of backup repository %s failed: %s",
                       a->repo_id, backup_repo_why(repo, rc));
    bk_repo_free(repo);
    return rc;
}

/* Load the repository and the body; *a_out **new** on success. */
static int maint_begin(struct app *app, struct req *q, struct resp *r,
                       const char *const *allowed, json_t **body_out,
                       struct maint_arg **a_out)
{
    struct db_backup_repo row;
    int rc;

    rc = api_backup_repo_load(app, q, r, &row);
    if (rc)
        return rc;
    seal_wipe(row.passphrase_sealed, sizeof(row.passphrase_sealed));
    rc = api_backup_body(q, r, allowed, body_out);
    if (rc)
        return rc;
    *a_out = xcalloc(1, sizeof(**a_out));
    xstrlcpy((*a_out)->repo_id, row.id, sizeof((*a_out)->repo_id));
    return 0;
}

/* Hand a over to a task of kind, or free it when reading the body
 * failed (rc < 0; the error is written to r). */
static int maint_submit(struct app *app, struct req *q, struct resp *r, int rc,
                        json_t *body, const char *kind, task_fn fn,
                        struct maint_arg *a)
{
    json_decref(body);
    if (rc < 0) {
        maint_arg_free(a);
        return rc;
    }
    return api_backup_submit(app, q, r, kind, TARGET, a->repo_id, fn, a,
                             maint_arg_free);
}

int api_backup_repo_verify(struct app *app, struct req *q, struct resp *r)
{
    static const char *const allowed[] = { "sample_percent", NULL };
    struct maint_arg *a = NULL;
    json_t *body = NULL;
    int64_t pct = 100;
    int rc;

    rc = maint_begin(app, q, r, allowed, &body, &a);
    if (rc)
        return rc;
    rc = api_get_int(r, body, "sample_percent", 0, 1, 100, &pct);
    a->sample_pct = (int)pct;
    return maint_submit(app, q, r, rc, body, "backup.verify", verify_task, a);
}

static const char *const keep_fields[] = { "keep_last",    "keep_hourly",
                                           "keep_daily",   "keep_weekly",
                                           "keep_monthly", "keep_yearly" };

static int prune_fields(struct resp *r, json_t *body, struct maint_arg *a)
{
    int *keep[] = { &a->keep.last,   &a->keep.hourly,  &a->keep.daily,
                    &a->keep.weekly, &a->keep.monthly, &a->keep.yearly };
    int64_t v;
    size_t i;
    int rc, any = 0;

    for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        v = 0;
        rc = api_get_int(r, body, keep_fields[i], 0, 0, 1000000, &v);
        if (rc < 0)
            return rc;
        *keep[i] = (int)v;
        any |= v > 0;
    }
    rc = api_get_bool(r, body, "dry_run", 0, &a->dry_run);
    if (rc < 0)
        return rc;
    if (!any)
        return api_error(r, ERR_INVALID, "keep_last",
                         "give at least one keep_* above 0 (a retention "
                         "keeping nothing would remove every snapshot)");
    return 0;
}

int api_backup_repo_prune(struct app *app, struct req *q, struct resp *r)
{
    static const char *const allowed[] = { "keep_last",    "keep_hourly",
                                           "keep_daily",   "keep_weekly",
                                           "keep_monthly", "keep_yearly",
                                           "dry_run",      NULL };
    struct maint_arg *a = NULL;
    json_t *body = NULL;
    int rc;

    rc = maint_begin(app, q, r, allowed, &body, &a);
    if (rc)
        return rc;
    rc = prune_fields(r, body, a);
    return maint_submit(app, q, r, rc, body, "backup.prune", prune_task, a);
}

int api_backup_repo_gc(struct app *app, struct req *q, struct resp *r)
{
    static const char *const allowed[] = { NULL };
    struct maint_arg *a = NULL;
    json_t *body = NULL;
    int rc;

    rc = maint_begin(app, q, r, allowed, &body, &a);
    if (rc)
        return rc;
    return maint_submit(app, q, r, 0, body, "backup.gc", gc_task, a);
}

int api_backup_repo_unlock(struct app *app, struct req *q, struct resp *r)
{
    static const char *const allowed[] = { "host", NULL };
    struct maint_arg *a = NULL;
    json_t *body = NULL;
    const char *host = NULL;
    int rc;

    rc = maint_begin(app, q, r, allowed, &body, &a);
    if (rc)
        return rc;
    rc = api_get_str(r, body, "host", 0, 1, 253, &host);
    if (rc > 0 && bk_is_this_host(host))
        rc = api_error(r, ERR_INVALID, "host",
                       "names this host, whose locks are stale once their "
                       "process is gone: give no host");
    if (rc > 0)
        a->dead_host = xstrdup(host);
    return maint_submit(app, q, r, rc, body, "backup.unlock", unlock_task, a);
}
