#include "server/core/backup_run.h"

#include <dirent.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup/bk.h"
#include "common/err.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "db/db.h"
#include "db/db_backup_jobs.h"
#include "db/db_storage.h"
#include "db/db_vms.h"
#include "server/core/app.h"
#include "server/core/backup_event.h"
#include "server/core/backup_cache.h"
#include "server/core/backup_repo.h"
#include "server/core/sr.h"
#include "server/core/tasks.h"
#include "server/core/vmclone.h"
#include "server/core/vmstate.h"

#define RUN_MAX_WORKERS 8
#define RUN_CLAIM_MS    30000 /* wait this long for a VM's power op */
#define RUN_PRUNE_TRIES 20

/* Runs in flight, so the sweep never takes a clone being made. */
static pthread_mutex_t bases_mu = PTHREAD_MUTEX_INITIALIZER;
static int runs_active;

struct run_ctx {
    struct app *app;
    struct task *task;
    struct db_backup_job job;
    struct db_backup_run run; /* vms[]: the per-VM results */
    uint64_t *sizes;          /* logical bytes per VM */
    pthread_mutex_t mu;       /* next, finished, cur, task progress */
    pthread_mutex_t prune_mu; /* one prune of the repository at a time */
    size_t next;
    uint64_t total, finished, cur[RUN_MAX_WORKERS];
    int finalized;
};

struct run_worker {
    struct run_ctx *ctx;
    int idx;
    struct bk_repo *repo;
    int repo_rc;
    struct bk_progress bk;
};

/* ---- the run row ---- */

static void run_vm_save(struct run_ctx *ctx, struct db_backup_run_vm *v)
{
    int rc = db_backup_run_vm_update(ctx->app->db, ctx->run.id, v);

    if (rc)
        log_error("backup run %s: vm %s: cannot record the result: %s",
                  ctx->run.id, v->vm_id, err_str(rc));
}

/* The run's final state, once. */
static void run_finalize(struct run_ctx *ctx, const char *status,
                         const char *error)
{
    size_t i;
    int rc;

    if (ctx->finalized)
        return;
    ctx->finalized = 1;
    for (i = 0; i < ctx->run.num_vms; i++) {
        struct db_backup_run_vm *v = &ctx->run.vms[i];

        if (strcmp(v->status, "pending") && strcmp(v->status, "running"))
            continue;
        xstrlcpy(v->status,
                 !strcmp(status, "interrupted") ? "interrupted" : "cancelled",
                 sizeof(v->status));
        run_vm_save(ctx, v);
    }
    xstrlcpy(ctx->run.status, status, sizeof(ctx->run.status));
    xstrlcpy(ctx->run.error, error ? error : "", sizeof(ctx->run.error));
    ctx->run.finished_at = time_now();
    rc = db_backup_run_finish(ctx->app->db, &ctx->run);
    if (rc)
        log_error("backup run %s: cannot record its end: %s", ctx->run.id,
                  err_str(rc));
    backup_event(ctx->app, "run", "updated", ctx->run.id);
    log_info("backup run %s of job %s (%s): %s%s%s", ctx->run.id, ctx->job.id,
             ctx->run.trigger, status, error ? ": " : "", error ? error : "");
}

/* ---- progress ---- */

/* task_progress_bytes is for one thread at a time: ctx->mu serializes
 * the workers' reports. */
static void run_progress_cb(void *opaque, uint64_t done, uint64_t total)
{
    struct run_worker *w = opaque;
    struct run_ctx *ctx = w->ctx;
    uint64_t sum;
    int i;

    (void)total;
    pthread_mutex_lock(&ctx->mu);
    ctx->cur[w->idx] = done;
    sum = ctx->finished;
    for (i = 0; i < RUN_MAX_WORKERS; i++)
        sum += ctx->cur[i];
    task_progress_bytes(ctx->task, sum > ctx->total ? ctx->total : sum,
                        ctx->total);
    pthread_mutex_unlock(&ctx->mu);
}

static void run_progress_vm_done(struct run_worker *w, size_t vm)
{
    struct run_ctx *ctx = w->ctx;

    pthread_mutex_lock(&ctx->mu);
    ctx->cur[w->idx] = 0;
    ctx->finished += ctx->sizes[vm];
    task_progress_bytes(ctx->task, ctx->finished, ctx->total);
    pthread_mutex_unlock(&ctx->mu);
}

/* ---- one VM ---- */

/* The disks of a VM being backed up. */
struct vm_disks {
    struct db_disk disk[DB_VM_MAX_DISKS];
    struct db_sr sr[DB_VM_MAX_DISKS];
    char clone[DB_VM_MAX_DISKS][128]; /* new clone file */
    char clone_path[DB_VM_MAX_DISKS][640];
    char base_file[DB_VM_MAX_DISKS][128]; /* previous kept clone, "" */
    char base_path[DB_VM_MAX_DISKS][640];
    char base_snap[DB_VM_MAX_DISKS][37]; /* the backup it is the state of */
    struct vmclone_item items[DB_VM_MAX_DISKS];
    size_t num;
};

static int vm_disks_load(struct run_ctx *ctx, const struct db_vm *vm,
                         struct vm_disks *d, char *err, size_t cap)
{
    struct db_backup_base base;
    size_t i;
    int rc;

    memset(d, 0, sizeof(*d));
    for (i = 0; i < vm->num_disks; i++) {
        char id[37];

        rc = db_disk_get(ctx->app->db, vm->disks[i].disk_id, &d->disk[i]);
        if (!rc)
            rc = db_sr_get(ctx->app->db, d->disk[i].sr_id, &d->sr[i]);
        if (rc) {
            snprintf(err, cap, "disk %s: %s", vm->disks[i].disk_id,
                     err_str(rc));
            return rc;
        }
        uuid_generate(id);
        snprintf(d->clone[i], sizeof(d->clone[i]), "%s" BACKUP_BASE_SUFFIX, id);
        rc = sr_image_path(d->sr[i].path, d->clone[i], d->clone_path[i],
                           sizeof(d->clone_path[i]));
        if (rc) {
            snprintf(err, cap, "disk %s: SR path too long", d->disk[i].name);
            return rc;
        }
        if (!db_backup_base_get(ctx->app->db, ctx->job.id, d->disk[i].id,
                                &base) &&
            !strcmp(base.sr_id, d->sr[i].id) &&
            !strcmp(base.device, vm->disks[i].device) &&
            !sr_image_path(d->sr[i].path, base.file, d->base_path[i],
                           sizeof(d->base_path[i])) &&
            access(d->base_path[i], R_OK) == 0) {
            xstrlcpy(d->base_file[i], base.file, sizeof(d->base_file[i]));
            xstrlcpy(d->base_snap[i], base.snapshot_id,
                     sizeof(d->base_snap[i]));
        } else
            d->base_path[i][0] = '\0';
        d->items[i].sr_path = d->sr[i].path;
        d->items[i].src_file = d->disk[i].file;
        d->items[i].dst_file = d->clone[i];
    }
    d->num = vm->num_disks;
    return 0;
}

/* Clone the disks under the VM's claim (no power operation meanwhile). */
static int vm_clone(struct run_ctx *ctx, const char *vm_id, struct db_vm *vm,
                    struct vm_disks *d, char *err, size_t cap)
{
    int64_t deadline = time_mono_ms() + RUN_CLAIM_MS, pause_ms = 0;
    size_t failed = 0;
    int rc;

    while ((rc = vmstate_claim(vm_id)) == ERR_CONFLICT) {
        if (task_cancelled(ctx->task))
            return ERR_CANCELLED;
        if (time_mono_ms() > deadline) {
            snprintf(err, cap, "the VM stayed busy with another operation");
            return ERR_BUSY;
        }
        time_sleep_ms(100);
    }
    rc = db_vm_get(ctx->app->db, vm_id, vm);
    if (rc) {
        snprintf(err, cap, "%s",
                 rc == ERR_NOTFOUND ? "the VM was deleted" : err_str(rc));
        goto out;
    }
    rc = vm_disks_load(ctx, vm, d, err, cap);
    if (rc)
        goto out;
    rc = vmclone_disks(ctx->app, vm->id, !strcmp(vm->state, "running"),
                       d->items, d->num, &failed, &pause_ms);
    if (rc && failed == d->num)
        snprintf(err, cap, "cannot pause the VM: %s", err_str(rc));
    else if (rc)
        snprintf(err, cap, "cannot clone disk %s: %s", d->disk[failed].name,
                 err_str(rc));
    else
        log_info("backup run %s: vm %s: %zu disk(s) cloned, paused %lld ms",
                 ctx->run.id, vm->id, d->num, (long long)pause_ms);
out:
    vmstate_release(vm_id);
    vmstate_sync(ctx->app, vm_id);
    return rc;
}

/* The VM's configuration as the snapshot manifest keeps it. **new** */
static char *vm_config_json(const struct db_vm *vm, const struct vm_disks *d)
{
    json_t *disks = json_array(), *nics = json_array(), *o;
    json_t *boot = json_loads(vm->boot ? vm->boot : "{}", 0, NULL);
    json_t *tags = json_loads(vm->tags ? vm->tags : "[]", 0, NULL);
    char *txt;
    size_t i;

    for (i = 0; i < d->num; i++)
        json_array_append_new(
            disks, json_pack("{s:s, s:s, s:I, s:s}", "device",
                             vm->disks[i].device, "name", d->disk[i].name,
                             "size_bytes", (json_int_t)d->disk[i].size_bytes,
                             "mode", vm->disks[i].mode));
    for (i = 0; i < vm->num_nics; i++)
        json_array_append_new(nics, json_pack("{s:s, s:s}", "network",
                                              vm->nics[i].network_id, "mac",
                                              vm->nics[i].mac));
    o = json_pack("{s:s, s:s, s:i, s:I, s:o, s:o, s:o, s:o}", "vm", vm->id,
                  "name", vm->name, "vcpus", vm->vcpus, "memory_mib",
                  (json_int_t)vm->memory_mib, "boot",
                  boot ? boot : json_object(), "disks", disks, "nics", nics,
                  "tags", tags ? tags : json_array());
    txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return txt;
}

/* After a good backup: the reflinked clones become the kept bases (one
 * transaction), then the replaced files and the plain copies go. */
static void vm_keep_bases(struct run_ctx *ctx, const struct db_vm *vm,
                          const struct vm_disks *d, const char *snap_id)
{
    struct db_backup_base b;
    size_t i;
    int rc = db_begin(ctx->app->db);

    for (i = 0; !rc && i < d->num; i++) {
        if (!d->items[i].reflinked)
            continue;
        memset(&b, 0, sizeof(b));
        xstrlcpy(b.job_id, ctx->job.id, sizeof(b.job_id));
        xstrlcpy(b.disk_id, d->disk[i].id, sizeof(b.disk_id));
        xstrlcpy(b.vm_id, vm->id, sizeof(b.vm_id));
        xstrlcpy(b.device, vm->disks[i].device, sizeof(b.device));
        xstrlcpy(b.sr_id, d->sr[i].id, sizeof(b.sr_id));
        xstrlcpy(b.file, d->clone[i], sizeof(b.file));
        xstrlcpy(b.snapshot_id, snap_id, sizeof(b.snapshot_id));
        b.created_at = time_now();
        rc = db_backup_base_set(ctx->app->db, &b);
    }
    if (!rc) {
        rc = db_commit(ctx->app->db);
    } else {
        db_rollback(ctx->app->db);
    }
    for (i = 0; i < d->num; i++) {
        if (rc || !d->items[i].reflinked) {
            sr_image_delete(d->sr[i].path, d->clone[i]);
        } else if (d->base_file[i][0]) {
            sr_image_delete(d->sr[i].path, d->base_file[i]);
        }
    }
    if (rc)
        log_error("backup run %s: vm %s: cannot keep the change-map bases: "
                  "%s",
                  ctx->run.id, vm->id, err_str(rc));
}

/* The job's retention over this VM's snapshots. Prunes of one repository
 * take its exclusive lock: wait for another one to finish. */
static int vm_retention(struct run_worker *w, const char *name, char *err,
                        size_t cap)
{
    struct run_ctx *ctx = w->ctx;
    struct bk_retention keep = {
        ctx->job.keep_last,   ctx->job.keep_hourly,  ctx->job.keep_daily,
        ctx->job.keep_weekly, ctx->job.keep_monthly, ctx->job.keep_yearly,
    };
    char **removed = NULL;
    size_t num = 0, i;
    int tries, rc = 0;

    if (!keep.last && !keep.hourly && !keep.daily && !keep.weekly &&
        !keep.monthly && !keep.yearly)
        return 0;
    for (tries = 0; tries < RUN_PRUNE_TRIES; tries++) {
        pthread_mutex_lock(&ctx->prune_mu);
        rc = bk_prune_name(w->repo, name, &keep, 0, &removed, &num);
        pthread_mutex_unlock(&ctx->prune_mu);
        if (rc != ERR_BUSY)
            break;
        time_sleep_ms(250);
    }
    if (rc) {
        snprintf(err, cap, "retention: %s", backup_repo_why(w->repo, rc));
        return rc;
    }
    for (i = 0; i < num; i++)
        log_info("backup run %s: retention removed snapshot %s (%s)",
                 ctx->run.id, removed[i], name);
    bk_strv_free(removed, num);
    return 0;
}

/* The parent of the new snapshot. The change map reuses the parent's
 * chunk ids for unchanged extents, so with a kept clone the parent must
 * be the very backup that clone is the state of (not merely the newest
 * of the name: another job or the CLI may have written one since). A
 * clone of another backup, or of one pruned meanwhile, is not used.
 * NULL: no clone is used, the newest snapshot of the name is the parent
 * and everything is read (and deduplicated by hash). */
static const char *vm_parent(struct run_worker *w, struct vm_disks *d)
{
    const char *parent = NULL;
    char id[BK_SNAPID_LEN];
    size_t i;

    for (i = 0; i < d->num; i++) {
        if (!d->base_path[i][0])
            continue;
        if (!parent)
            parent = d->base_snap[i];
        else if (strcmp(parent, d->base_snap[i]))
            d->base_path[i][0] = '\0';
    }
    if (parent && bk_snapshot_resolve(w->repo, parent, id) == 0)
        return parent;
    for (i = 0; i < d->num; i++)
        d->base_path[i][0] = '\0';
    return NULL;
}

/* How a VM's data was read, in words for the task result: only the
 * changes (the reflink change map), or everything, and why. */
static void vm_read_note(const struct vm_disks *d,
                         const struct bk_backup_result *out, char *note,
                         size_t cap)
{
    size_t i;

    for (i = 0; i < d->num; i++) {
        if (d->items[i].reflinked)
            continue;
        snprintf(note, cap,
                 "read all data: SR '%s' cannot make reflink clones (XFS "
                 "with reflink or btrfs can), so a run cannot tell what "
                 "changed; only new chunks were stored",
                 d->sr[i].name);
        return;
    }
    if (out->used_changemap) {
        snprintf(note, cap,
                 "read only what changed since the previous run "
                 "(reflink change map)");
        return;
    }
    for (i = 0; i < d->num && d->base_path[i][0]; i++)
        ;
    snprintf(note, cap, "%s",
             i < d->num ? "read all data: the first backup of this disk by "
                          "this job; the next runs read only what changed"
                        : "read all data: the previous run's clone could not "
                          "serve as a change map (see the daemon log); only "
                          "new chunks were stored");
}

static void backup_vm(struct run_worker *w, size_t idx)
{
    struct run_ctx *ctx = w->ctx;
    struct db_backup_run_vm *res = &ctx->run.vms[idx];
    struct bk_disk_src src[DB_VM_MAX_DISKS];
    struct bk_backup_opts opts;
    struct bk_backup_result out;
    struct vm_disks *d = xcalloc(1, sizeof(*d));
    struct db_vm vm;
    char err[512] = "";
    char *config = NULL;
    int rc, cloned = 0;
    size_t i;

    memset(&vm, 0, sizeof(vm));
    memset(&out, 0, sizeof(out));
    xstrlcpy(res->status, "running", sizeof(res->status));
    run_vm_save(ctx, res);
    rc = w->repo_rc;
    if (rc) {
        snprintf(err, sizeof(err), "cannot open the repository: %s",
                 backup_repo_open_why(rc));
        goto out;
    }
    rc = vm_clone(ctx, res->vm_id, &vm, d, err, sizeof(err));
    if (rc)
        goto out;
    cloned = 1;
    if (!d->num) {
        snprintf(err, sizeof(err), "the VM has no disk");
        rc = ERR_INVALID;
        goto out;
    }
    config = vm_config_json(&vm, d);
    memset(&opts, 0, sizeof(opts));
    opts.name = vm.name;
    opts.parent = vm_parent(w, d);
    for (i = 0; i < d->num; i++) {
        src[i].name = vm.disks[i].device;
        src[i].path = d->clone_path[i];
        src[i].changed_since = d->base_path[i][0] ? d->base_path[i] : NULL;
    }
    opts.job = ctx->job.id;
    opts.vm_config = config;
    rc = bk_backup(w->repo, &opts, src, d->num, &w->bk, &out);
    if (rc) {
        if (rc != ERR_CANCELLED)
            snprintf(err, sizeof(err), "backup: %s",
                     backup_repo_why(w->repo, rc));
        goto out;
    }
    vm_read_note(d, &out, res->read_note, sizeof(res->read_note));
    vm_keep_bases(ctx, &vm, d, out.snapshot_id);
    cloned = 0;
    xstrlcpy(res->snapshot_id, out.snapshot_id, sizeof(res->snapshot_id));
    res->bytes_read = (int64_t)out.bytes_read;
    res->stored_bytes = (int64_t)out.stored_bytes;
    res->used_changemap = out.used_changemap;
    xstrlcpy(res->vm_name, vm.name, sizeof(res->vm_name));
    log_info("backup run %s: vm %s: snapshot %s, read %llu, stored %llu, "
             "change map %s",
             ctx->run.id, vm.id, out.snapshot_id,
             (unsigned long long)out.bytes_read,
             (unsigned long long)out.stored_bytes,
             out.used_changemap ? "yes" : "no");
    /* The backup stands even when the retention fails: say so. */
    vm_retention(w, vm.name, err, sizeof(err));
out:
    if (cloned)
        for (i = 0; i < d->num; i++)
            sr_image_delete(d->sr[i].path, d->clone[i]);
    if (rc == ERR_CANCELLED)
        xstrlcpy(res->status, ctx->app->stopping ? "interrupted" : "cancelled",
                 sizeof(res->status));
    else
        xstrlcpy(res->status, rc ? "failure" : "success", sizeof(res->status));
    xstrlcpy(res->error, err, sizeof(res->error));
    if (rc && rc != ERR_CANCELLED)
        log_error("backup run %s: vm %s: %s", ctx->run.id, res->vm_id, err);
    run_vm_save(ctx, res);
    run_progress_vm_done(w, idx);
    backup_event(ctx->app, "run", "updated", ctx->run.id);
    free(config);
    free(d);
    db_vm_release(&vm);
}

static void *run_worker_main(void *opaque)
{
    struct run_worker *w = opaque;
    struct run_ctx *ctx = w->ctx;

    w->repo_rc = backup_repo_open(ctx->app, ctx->job.repo_id, &w->repo);
    if (!w->repo_rc)
        bk_repo_set_threads(w->repo, 2);
    w->bk.cb = run_progress_cb;
    w->bk.opaque = w;
    w->bk.cancel = task_cancel_flag(ctx->task);
    for (;;) {
        size_t idx;

        pthread_mutex_lock(&ctx->mu);
        if (ctx->next >= ctx->run.num_vms || task_cancelled(ctx->task)) {
            pthread_mutex_unlock(&ctx->mu);
            break;
        }
        idx = ctx->next++;
        pthread_mutex_unlock(&ctx->mu);
        backup_vm(w, idx);
    }
    bk_repo_free(w->repo);
    w->repo = NULL;
    return NULL;
}

/* ---- the task ---- */

static void run_sizes(struct run_ctx *ctx)
{
    size_t i, k;

    ctx->sizes = xcalloc(ctx->run.num_vms + 1, sizeof(*ctx->sizes));
    for (i = 0; i < ctx->run.num_vms; i++) {
        struct db_vm vm;

        if (db_vm_get(ctx->app->db, ctx->run.vms[i].vm_id, &vm))
            continue;
        for (k = 0; k < vm.num_disks; k++) {
            struct db_disk disk;

            if (!db_disk_get(ctx->app->db, vm.disks[k].disk_id, &disk))
                ctx->sizes[i] += (uint64_t)disk.size_bytes;
        }
        db_vm_release(&vm);
        ctx->total += ctx->sizes[i];
    }
}

json_t *backup_run_vm_json(const struct db_backup_run_vm *v)
{
    return json_pack(
        "{s:s, s:s, s:s, s:o, s:I, s:I, s:b, s:o, s:o}", "vm", v->vm_id,
        "vm_name", v->vm_name, "status", v->status, "snapshot",
        v->snapshot_id[0] ? json_string(v->snapshot_id) : json_null(),
        "bytes_read", (json_int_t)v->bytes_read, "stored_bytes",
        (json_int_t)v->stored_bytes, "used_changemap", v->used_changemap,
        "error", v->error[0] ? json_string(v->error) : json_null(), "read_note",
        v->read_note[0] ? json_string(v->read_note) : json_null());
}

static json_t *run_result(const struct run_ctx *ctx)
{
    json_t *vms = json_array();
    size_t i;

    for (i = 0; i < ctx->run.num_vms; i++)
        json_array_append_new(vms, backup_run_vm_json(&ctx->run.vms[i]));
    return json_pack("{s:s, s:s, s:o}", "run", ctx->run.id, "job", ctx->job.id,
                     "vms", vms);
}

static int run_task(struct task *t, void *arg)
{
    struct run_ctx *ctx = arg;
    struct run_worker w[RUN_MAX_WORKERS];
    pthread_t th[RUN_MAX_WORKERS];
    size_t nfail = 0, i, first = SIZE_MAX;
    int n, started = 0;
    char msg[512];

    ctx->task = t;
    run_sizes(ctx);
    task_progress_bytes(t, 0, ctx->total);
    n = ctx->job.concurrency;
    if (n < 1)
        n = 1;
    if (n > RUN_MAX_WORKERS)
        n = RUN_MAX_WORKERS;
    if ((size_t)n > ctx->run.num_vms)
        n = (int)ctx->run.num_vms;
    memset(w, 0, sizeof(w));
    for (i = 0; i < (size_t)n; i++) {
        w[i].ctx = ctx;
        w[i].idx = (int)i;
        if (i == 0 || pthread_create(&th[i], NULL, run_worker_main, &w[i]))
            continue;
        started |= 1 << i;
    }
    if (n > 0)
        run_worker_main(&w[0]); /* this thread is a worker too */
    for (i = 1; i < (size_t)n; i++)
        if (started & (1 << i))
            pthread_join(th[i], NULL);
    /* Snapshots came and retention went: the list reads stats again. */
    backup_cache_touch(ctx->app, ctx->job.repo_id);

    task_set_result(t, run_result(ctx));
    if (task_cancelled(t)) {
        if (ctx->app->stopping)
            run_finalize(ctx, "interrupted", "daemon shutting down");
        else
            run_finalize(ctx, "cancelled", "cancelled");
        return ERR_CANCELLED;
    }
    for (i = 0; i < ctx->run.num_vms; i++) {
        if (!strcmp(ctx->run.vms[i].status, "failure")) {
            nfail++;
            if (first == SIZE_MAX)
                first = i;
        }
    }
    if (!ctx->run.num_vms) {
        run_finalize(ctx, "failure", "the job selects no VM");
        task_set_error(t, "the job selects no VM");
        return ERR_INVALID;
    }
    if (nfail) {
        snprintf(msg, sizeof(msg), "%zu of %zu VM(s) failed; %s: %.300s", nfail,
                 ctx->run.num_vms, ctx->run.vms[first].vm_name,
                 ctx->run.vms[first].error);
        run_finalize(ctx, "failure", msg);
        task_set_error(t, "%s", msg);
        return ERR_IO;
    }
    run_finalize(ctx, "success", NULL);
    return 0;
}

/* ---- kept clones no row names ---- */

struct sweep_names {
    struct db_backup_base *bases;
    size_t num;
};

static int sweep_named(const struct sweep_names *n, const char *sr_id,
                       const char *file)
{
    size_t i;

    for (i = 0; i < n->num; i++)
        if (!strcmp(n->bases[i].sr_id, sr_id) &&
            !strcmp(n->bases[i].file, file))
            return 1;
    return 0;
}

/* A kept clone, or the temp name sr_image_clone wrote it under. */
static int sweep_is_base(const char *name, char file_out[128])
{
    size_t len = strlen(name), sl = strlen(BACKUP_BASE_SUFFIX);

    if (len > 4 && !strcmp(name + len - 4, ".tmp"))
        len -= 4;
    if (len <= sl || len >= 128 ||
        strncmp(name + len - sl, BACKUP_BASE_SUFFIX, sl))
        return 0;
    memcpy(file_out, name, len);
    file_out[len] = '\0';
    return 1;
}

/* The caller holds bases_mu with no run active. */
static void sweep_locked(struct app *app)
{
    struct sweep_names n = { NULL, 0 };
    struct db_sr *srs = NULL;
    size_t nsr = 0, i;

    if (db_backup_base_list(app->db, &n.bases, &n.num) ||
        db_sr_list(app->db, &srs, &nsr))
        goto out;
    for (i = 0; i < nsr; i++) {
        DIR *dir = opendir(srs[i].path);
        struct dirent *de;
        char file[128];

        if (!dir)
            continue;
        while ((de = readdir(dir))) {
            if (!sweep_is_base(de->d_name, file))
                continue;
            if (strcmp(file, de->d_name) == 0 &&
                sweep_named(&n, srs[i].id, file))
                continue;
            if (unlinkat(dirfd(dir), de->d_name, 0) == 0)
                log_info("backup: removed unused kept clone %s/%s", srs[i].path,
                         de->d_name);
        }
        closedir(dir);
    }
out:
    free(n.bases);
    free(srs);
}

void backup_bases_sweep(struct app *app)
{
    pthread_mutex_lock(&bases_mu);
    if (runs_active == 0)
        sweep_locked(app);
    pthread_mutex_unlock(&bases_mu);
}

static void run_ctx_free(void *arg)
{
    struct run_ctx *ctx = arg;
    struct app *app;

    if (!ctx)
        return;
    app = ctx->app;
    /* Never started (cancelled while queued, or the daemon stopping). */
    if (app->stopping)
        run_finalize(ctx, "interrupted", "daemon shutting down");
    else
        run_finalize(ctx, "cancelled", "cancelled before it started");
    pthread_mutex_destroy(&ctx->mu);
    pthread_mutex_destroy(&ctx->prune_mu);
    db_backup_job_release(&ctx->job);
    db_backup_run_release(&ctx->run);
    free(ctx->sizes);
    free(ctx);
    pthread_mutex_lock(&bases_mu);
    runs_active--;
    if (runs_active == 0 && !app->stopping)
        sweep_locked(app);
    pthread_mutex_unlock(&bases_mu);
}

/* ---- starting a run ---- */

static int run_prepare(struct app *app, const char *job_id, const char *trigger,
                       struct run_ctx *ctx)
{
    struct db_backup_job_vm *vms = NULL;
    size_t num = 0, i;
    int rc;

    rc = db_backup_job_get(app->db, job_id, &ctx->job);
    if (rc)
        return rc;
    rc = db_backup_job_select_vms(app->db, job_id, &vms, &num);
    if (rc)
        return rc;
    uuid_generate(ctx->run.id);
    xstrlcpy(ctx->run.job_id, job_id, sizeof(ctx->run.job_id));
    xstrlcpy(ctx->run.trigger, trigger, sizeof(ctx->run.trigger));
    xstrlcpy(ctx->run.status, "running", sizeof(ctx->run.status));
    ctx->run.started_at = time_now();
    ctx->run.vms = xcalloc(num ? num : 1, sizeof(*ctx->run.vms));
    ctx->run.num_vms = num;
    for (i = 0; i < num; i++) {
        struct db_backup_run_vm *v = &ctx->run.vms[i];

        xstrlcpy(v->vm_id, vms[i].id, sizeof(v->vm_id));
        xstrlcpy(v->vm_name, vms[i].name, sizeof(v->vm_name));
        xstrlcpy(v->status, "pending", sizeof(v->status));
    }
    free(vms);
    rc = db_backup_run_insert(app->db, &ctx->run);
    return rc == ERR_EXISTS ? ERR_CONFLICT : rc;
}

int backup_run_start(struct app *app, const char *job_id, const char *trigger,
                     const char *username, char task_id_out[37])
{
    struct run_ctx *ctx = xcalloc(1, sizeof(*ctx));
    struct task_spec spec;
    char run_id[37];
    int rc;

    ctx->app = app;
    pthread_mutex_init(&ctx->mu, NULL);
    pthread_mutex_init(&ctx->prune_mu, NULL);
    /* Counted before the row exists, so no sweep takes its clones. */
    pthread_mutex_lock(&bases_mu);
    runs_active++;
    pthread_mutex_unlock(&bases_mu);
    rc = run_prepare(app, job_id, trigger, ctx);
    if (rc) {
        ctx->finalized = 1; /* no row to finish */
        run_ctx_free(ctx);
        return rc;
    }
    memcpy(run_id, ctx->run.id, sizeof(run_id));
    memset(&spec, 0, sizeof(spec));
    spec.kind = "backup.run";
    spec.target_type = "backup_job";
    spec.target_id = job_id;
    spec.username = username;
    spec.fn = run_task;
    spec.arg = ctx;
    spec.arg_free = run_ctx_free;
    backup_event(app, "run", "created", run_id);
    /* On failure the task frees ctx, which finishes the row. */
    rc = tasks_submit(app->tasks, &spec, task_id_out);
    if (rc)
        return rc;
    rc = db_backup_run_set_task(app->db, run_id, task_id_out);
    if (rc)
        log_error("backup run %s: cannot record task %s: %s", run_id,
                  task_id_out, err_str(rc));
    log_info("backup run %s of job %s (%s) queued as task %s", run_id, job_id,
             trigger, task_id_out);
    return 0;
}

int backup_run_recover(struct app *app)
{
    int n = 0, rc;

    rc = db_backup_run_interrupt_all(
        app->db, "the daemon stopped while the run was running", &n);
    if (rc)
        return rc;
    if (n)
        log_warn("backup: marked %d run(s) from a previous start "
                 "interrupted",
                 n);
    backup_bases_sweep(app);
    return 0;
}
