#include "db/db_backup_jobs.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/xalloc.h"
#include "db/db_internal.h"

/* ---- jobs ---- */

#define JOB_COLS                                                        \
    "id, name, repo_id, schedule, timezone, keep_last, keep_hourly, "   \
    "keep_daily, keep_weekly, keep_monthly, keep_yearly, concurrency, " \
    "enabled, last_due, created_at, updated_at"

void db_backup_job_release(struct db_backup_job *j)
{
    if (!j)
        return;
    free(j->vms);
    free(j->tags);
    j->vms = NULL;
    j->tags = NULL;
    j->num_vms = 0;
    j->num_tags = 0;
}

static void job_row(sqlite3_stmt *st, void *p)
{
    struct db_backup_job *j = p;

    memset(j, 0, sizeof(*j));
    db_col_text(st, 0, j->id, sizeof(j->id));
    db_col_text(st, 1, j->name, sizeof(j->name));
    db_col_text(st, 2, j->repo_id, sizeof(j->repo_id));
    db_col_text(st, 3, j->schedule, sizeof(j->schedule));
    db_col_text(st, 4, j->timezone, sizeof(j->timezone));
    j->keep_last = sqlite3_column_int(st, 5);
    j->keep_hourly = sqlite3_column_int(st, 6);
    j->keep_daily = sqlite3_column_int(st, 7);
    j->keep_weekly = sqlite3_column_int(st, 8);
    j->keep_monthly = sqlite3_column_int(st, 9);
    j->keep_yearly = sqlite3_column_int(st, 10);
    j->concurrency = sqlite3_column_int(st, 11);
    j->enabled = sqlite3_column_int(st, 12);
    j->last_due = sqlite3_column_int64(st, 13);
    j->created_at = sqlite3_column_int64(st, 14);
    j->updated_at = sqlite3_column_int64(st, 15);
}

static void job_release_any(void *p)
{
    db_backup_job_release(p);
}

/* Rows of (job_id, text) appended to a job's vms or tags. */
static void job_vm_row(sqlite3_stmt *st, void *p)
{
    struct db_backup_job *j = p;

    j->vms = xrealloc(j->vms, (j->num_vms + 1) * sizeof(*j->vms));
    db_col_text(st, 0, j->vms[j->num_vms++], sizeof(*j->vms));
}

static void job_tag_row(sqlite3_stmt *st, void *p)
{
    struct db_backup_job *j = p;

    j->tags = xrealloc(j->tags, (j->num_tags + 1) * sizeof(*j->tags));
    db_col_text(st, 0, j->tags[j->num_tags++], sizeof(*j->tags));
}

static int job_load_members(struct db *db, struct db_backup_job *j)
{
    static const char vms[] = "SELECT vm_id FROM backup_job_vms "
                              "WHERE job_id = :id ORDER BY rowid";
    static const char tags[] = "SELECT tag FROM backup_job_tags "
                               "WHERE job_id = :id ORDER BY rowid";
    int rc;

    rc = db_query_each(db, vms, "job vms", job_vm_row, j,
                       DB_ARGS(DB_TEXT(":id", j->id)));
    if (!rc)
        rc = db_query_each(db, tags, "job tags", job_tag_row, j,
                           DB_ARGS(DB_TEXT(":id", j->id)));
    return rc;
}

/* Replace the job's VM and tag rows (inside the caller's transaction). */
static int job_store_members(struct db *db, const struct db_backup_job *j)
{
    static const char del_vms[] = "DELETE FROM backup_job_vms "
                                  "WHERE job_id = :id";
    static const char del_tags[] = "DELETE FROM backup_job_tags "
                                   "WHERE job_id = :id";
    static const char add_vm[] = "INSERT INTO backup_job_vms (job_id, vm_id) "
                                 "VALUES (:id, :vm)";
    static const char add_tag[] = "INSERT INTO backup_job_tags (job_id, tag) "
                                  "VALUES (:id, :tag)";
    size_t i;
    int rc;

    rc = db_exec(db, del_vms, "clear job vms", DB_ARGS(DB_TEXT(":id", j->id)));
    if (!rc)
        rc = db_exec(db, del_tags, "clear job tags",
                     DB_ARGS(DB_TEXT(":id", j->id)));
    for (i = 0; !rc && i < j->num_vms; i++)
        rc = db_exec(db, add_vm, "add job vm",
                     DB_ARGS(DB_TEXT(":id", j->id), DB_TEXT(":vm", j->vms[i])));
    for (i = 0; !rc && i < j->num_tags; i++)
        rc = db_exec(
            db, add_tag, "add job tag",
            DB_ARGS(DB_TEXT(":id", j->id), DB_TEXT(":tag", j->tags[i])));
    return rc;
}

#define JOB_ARGS(j)                                       \
    DB_TEXT(":id", (j)->id), DB_TEXT(":name", (j)->name), \
        DB_TEXT(":repo_id", (j)->repo_id),                \
        DB_TEXT(":schedule", (j)->schedule),              \
        DB_TEXT(":timezone", (j)->timezone),              \
        DB_INT(":keep_last", (j)->keep_last),             \
        DB_INT(":keep_hourly", (j)->keep_hourly),         \
        DB_INT(":keep_daily", (j)->keep_daily),           \
        DB_INT(":keep_weekly", (j)->keep_weekly),         \
        DB_INT(":keep_monthly", (j)->keep_monthly),       \
        DB_INT(":keep_yearly", (j)->keep_yearly),         \
        DB_INT(":concurrency", (j)->concurrency),         \
        DB_INT(":enabled", (j)->enabled),                 \
        DB_INT_OR_NULL(":last_due", (j)->last_due),       \
        DB_INT(":updated_at", (j)->updated_at)

/* Run the job statement then the member rows in one transaction. */
static int job_write(struct db *db, const char *sql, const char *what,
                     const struct db_backup_job *j, int insert)
{
    int rc = db_begin(db);

    if (rc)
        return rc;
    if (insert)
        rc = db_exec_unique(
            db, sql, what,
            DB_ARGS(JOB_ARGS(j), DB_INT(":created_at", j->created_at)));
    else
        rc = db_exec_unique(db, sql, what, DB_ARGS(JOB_ARGS(j)));
    if (!rc && !insert && db_changes(db) == 0)
        rc = ERR_NOTFOUND;
    if (!rc)
        rc = job_store_members(db, j);
    if (rc) {
        db_rollback(db);
        return rc;
    }
    return db_commit(db);
}

int db_backup_job_insert(struct db *db, const struct db_backup_job *j)
{
    static const char sql[] =
        "INSERT INTO backup_jobs (id, name, repo_id, schedule, timezone, "
        "keep_last, keep_hourly, keep_daily, keep_weekly, keep_monthly, "
        "keep_yearly, concurrency, enabled, last_due, created_at, updated_at) "
        "VALUES "
        "(:id, :name, :repo_id, :schedule, :timezone, :keep_last, "
        ":keep_hourly, :keep_daily, :keep_weekly, :keep_monthly, "
        ":keep_yearly, :concurrency, :enabled, :last_due, :created_at, "
        ":updated_at)";

    return job_write(db, sql, "insert backup job", j, 1);
}

int db_backup_job_update(struct db *db, const struct db_backup_job *j)
{
    static const char sql[] =
        "UPDATE backup_jobs SET name = :name, repo_id = :repo_id, "
        "schedule = :schedule, timezone = :timezone, keep_last = :keep_last, "
        "keep_hourly = :keep_hourly, keep_daily = :keep_daily, "
        "keep_weekly = :keep_weekly, keep_monthly = :keep_monthly, "
        "keep_yearly = :keep_yearly, concurrency = :concurrency, "
        "enabled = :enabled, last_due = :last_due, updated_at = :updated_at "
        "WHERE id = :id";

    return job_write(db, sql, "update backup job", j, 0);
}

int db_backup_job_get(struct db *db, const char *id, struct db_backup_job *out)
{
    static const char sql[] =
        "SELECT " JOB_COLS " FROM backup_jobs WHERE id = :id";
    int rc;

    db_lock(db);
    rc = db_query_one(db, sql, "get backup job", job_row, out,
                      DB_ARGS(DB_TEXT(":id", id)));
    if (!rc) {
        rc = job_load_members(db, out);
        if (rc)
            db_backup_job_release(out);
    }
    db_unlock(db);
    return rc;
}

int db_backup_job_list(struct db *db, struct db_backup_job **list_out,
                       size_t *num_out)
{
    static const char sql[] =
        "SELECT " JOB_COLS " FROM backup_jobs ORDER BY name";
    struct db_backup_job *list = NULL;
    void *raw = NULL;
    size_t num = 0, i;
    int rc;

    db_lock(db);
    rc = db_query_list(db, sql, "list backup jobs", job_row, job_release_any,
                       sizeof(*list), &raw, &num, DB_NOARGS);
    list = raw;
    for (i = 0; !rc && i < num; i++)
        rc = job_load_members(db, &list[i]);
    db_unlock(db);
    if (rc) {
        for (i = 0; i < num; i++)
            db_backup_job_release(&list[i]);
        free(list);
        return rc;
    }
    *list_out = list;
    *num_out = num;
    return 0;
}

int db_backup_job_delete(struct db *db, const char *id)
{
    static const char sql[] =
        "DELETE FROM backup_jobs WHERE id = :id AND NOT EXISTS "
        "(SELECT 1 FROM backup_runs WHERE job_id = :id AND "
        "status = 'running')";
    static const char exists[] =
        "SELECT COUNT(*) FROM backup_jobs WHERE id = :id";
    int64_t n = 0;
    int rc;

    db_lock(db);
    rc = db_exec(db, sql, "delete backup job", DB_ARGS(DB_TEXT(":id", id)));
    if (!rc && db_changes(db) == 0) {
        rc = db_query_int(db, exists, "backup job exists", &n,
                          DB_ARGS(DB_TEXT(":id", id)));
        if (!rc)
            rc = n ? ERR_CONFLICT : ERR_NOTFOUND;
    }
    db_unlock(db);
    return rc;
}

int db_backup_job_set_last_due(struct db *db, const char *id, int64_t t)
{
    static const char sql[] =
        "UPDATE backup_jobs SET last_due = :t WHERE id = :id";

    return db_exec_one(db, sql, "set backup job due",
                       DB_ARGS(DB_TEXT(":id", id), DB_INT(":t", t)));
}

int db_backup_job_repo_users(struct db *db, const char *repo_id,
                             int64_t *count_out)
{
    static const char sql[] =
        "SELECT COUNT(*) FROM backup_jobs WHERE repo_id = :repo";

    return db_query_int(db, sql, "backup repo users", count_out,
                        DB_ARGS(DB_TEXT(":repo", repo_id)));
}

static void select_vm_row(sqlite3_stmt *st, void *p)
{
    struct db_backup_job_vm *v = p;

    memset(v, 0, sizeof(*v));
    db_col_text(st, 0, v->id, sizeof(v->id));
    db_col_text(st, 1, v->name, sizeof(v->name));
}

int db_backup_job_select_vms(struct db *db, const char *job_id,
                             struct db_backup_job_vm **list_out,
                             size_t *num_out)
{
    static const char sql[] =
        "SELECT v.id, v.name FROM vms v WHERE v.id IN "
        "(SELECT vm_id FROM backup_job_vms WHERE job_id = :job) "
        "OR EXISTS (SELECT 1 FROM json_each(v.tags) t "
        "JOIN backup_job_tags g ON g.tag = t.value WHERE g.job_id = :job) "
        "ORDER BY v.name, v.id";
    void *list = NULL;
    int rc;

    rc = db_query_list(db, sql, "backup job vms", select_vm_row, NULL,
                       sizeof(**list_out), &list, num_out,
                       DB_ARGS(DB_TEXT(":job", job_id)));
    if (!rc)
        *list_out = list;
    return rc;
}

/* ---- runs ---- */

#define RUN_COLS \
    "id, job_id, task_id, trigger, status, started_at, finished_at, error"
#define RUN_VM_COLS                                                   \
    "vm_id, vm_name, status, snapshot_id, bytes_read, stored_bytes, " \
    "used_changemap, error, read_note"

void db_backup_run_release(struct db_backup_run *r)
{
    if (!r)
        return;
    free(r->vms);
    r->vms = NULL;
    r->num_vms = 0;
}

static void run_row(sqlite3_stmt *st, void *p)
{
    struct db_backup_run *r = p;

    memset(r, 0, sizeof(*r));
    db_col_text(st, 0, r->id, sizeof(r->id));
    db_col_text(st, 1, r->job_id, sizeof(r->job_id));
    db_col_text(st, 2, r->task_id, sizeof(r->task_id));
    db_col_text(st, 3, r->trigger, sizeof(r->trigger));
    db_col_text(st, 4, r->status, sizeof(r->status));
    r->started_at = sqlite3_column_int64(st, 5);
    r->finished_at = sqlite3_column_int64(st, 6);
    db_col_text(st, 7, r->error, sizeof(r->error));
}

static void run_release_any(void *p)
{
    db_backup_run_release(p);
}

static void run_vm_row(sqlite3_stmt *st, void *p)
{
    struct db_backup_run *r = p;
    struct db_backup_run_vm *v;

    r->vms = xrealloc(r->vms, (r->num_vms + 1) * sizeof(*r->vms));
    v = &r->vms[r->num_vms++];
    memset(v, 0, sizeof(*v));
    db_col_text(st, 0, v->vm_id, sizeof(v->vm_id));
    db_col_text(st, 1, v->vm_name, sizeof(v->vm_name));
    db_col_text(st, 2, v->status, sizeof(v->status));
    db_col_text(st, 3, v->snapshot_id, sizeof(v->snapshot_id));
    v->bytes_read = sqlite3_column_int64(st, 4);
    v->stored_bytes = sqlite3_column_int64(st, 5);
    v->used_changemap = sqlite3_column_int(st, 6);
    db_col_text(st, 7, v->error, sizeof(v->error));
    db_col_text(st, 8, v->read_note, sizeof(v->read_note));
}

static int run_load_vms(struct db *db, struct db_backup_run *r)
{
    static const char sql[] = "SELECT " RUN_VM_COLS " FROM backup_run_vms "
                              "WHERE run_id = :id ORDER BY rowid";

    return db_query_each(db, sql, "run vms", run_vm_row, r,
                         DB_ARGS(DB_TEXT(":id", r->id)));
}

#define RUN_VM_ARGS(run_id, v)                             \
    DB_TEXT(":run", (run_id)), DB_TEXT(":vm", (v)->vm_id), \
        DB_TEXT(":status", (v)->status),                   \
        DB_TEXT_OR_NULL(":snapshot", (v)->snapshot_id),    \
        DB_INT(":bytes_read", (v)->bytes_read),            \
        DB_INT(":stored_bytes", (v)->stored_bytes),        \
        DB_INT(":used_changemap", (v)->used_changemap),    \
        DB_TEXT_OR_NULL(":error", (v)->error),             \
        DB_TEXT_OR_NULL(":read_note", (v)->read_note)

int db_backup_run_insert(struct db *db, const struct db_backup_run *r)
{
    static const char sql[] =
        "INSERT INTO backup_runs (" RUN_COLS ") VALUES (:id, :job, :task, "
        ":trigger, :status, :started_at, :finished_at, :error)";
    static const char vm_sql[] =
        "INSERT INTO backup_run_vms (run_id, " RUN_VM_COLS ") VALUES (:run, "
        ":vm, :name, :status, :snapshot, :bytes_read, :stored_bytes, "
        ":used_changemap, :error, :read_note)";
    size_t i;
    int rc = db_begin(db);

    if (rc)
        return rc;
    rc = db_exec_unique(
        db, sql, "insert backup run",
        DB_ARGS(DB_TEXT(":id", r->id), DB_TEXT(":job", r->job_id),
                DB_TEXT(":task", r->task_id), DB_TEXT(":trigger", r->trigger),
                DB_TEXT(":status", r->status),
                DB_INT(":started_at", r->started_at),
                DB_INT_OR_NULL(":finished_at", r->finished_at),
                DB_TEXT_OR_NULL(":error", r->error)));
    for (i = 0; !rc && i < r->num_vms; i++)
        rc = db_exec(db, vm_sql, "insert run vm",
                     DB_ARGS(RUN_VM_ARGS(r->id, &r->vms[i]),
                             DB_TEXT(":name", r->vms[i].vm_name)));
    if (rc) {
        db_rollback(db);
        return rc;
    }
    return db_commit(db);
}

int db_backup_run_set_task(struct db *db, const char *id, const char *task_id)
{
    static const char sql[] =
        "UPDATE backup_runs SET task_id = :task WHERE id = :id";

    return db_exec_one(db, sql, "set backup run task",
                       DB_ARGS(DB_TEXT(":id", id), DB_TEXT(":task", task_id)));
}

int db_backup_run_finish(struct db *db, const struct db_backup_run *r)
{
    static const char sql[] =
        "UPDATE backup_runs SET status = :status, finished_at = :finished_at, "
        "error = :error WHERE id = :id";

    return db_exec_one(db, sql, "finish backup run",
                       DB_ARGS(DB_TEXT(":id", r->id),
                               DB_TEXT(":status", r->status),
                               DB_INT_OR_NULL(":finished_at", r->finished_at),
                               DB_TEXT_OR_NULL(":error", r->error)));
}

int db_backup_run_vm_update(struct db *db, const char *run_id,
                            const struct db_backup_run_vm *v)
{
    static const char sql[] =
        "UPDATE backup_run_vms SET status = :status, snapshot_id = :snapshot, "
        "bytes_read = :bytes_read, stored_bytes = :stored_bytes, "
        "used_changemap = :used_changemap, error = :error, "
        "read_note = :read_note WHERE run_id = :run AND vm_id = :vm";

    return db_exec_one(db, sql, "update run vm",
                       DB_ARGS(RUN_VM_ARGS(run_id, v)));
}

int db_backup_run_get(struct db *db, const char *id, struct db_backup_run *out)
{
    static const char sql[] =
        "SELECT " RUN_COLS " FROM backup_runs WHERE id = :id";
    int rc;

    db_lock(db);
    rc = db_query_one(db, sql, "get backup run", run_row, out,
                      DB_ARGS(DB_TEXT(":id", id)));
    if (!rc) {
        rc = run_load_vms(db, out);
        if (rc)
            db_backup_run_release(out);
    }
    db_unlock(db);
    return rc;
}

int db_backup_run_list(struct db *db, const char *job_id, size_t limit,
                       struct db_backup_run **list_out, size_t *num_out)
{
    static const char sql[] =
        "SELECT " RUN_COLS " FROM backup_runs WHERE job_id = :job "
        "ORDER BY started_at DESC, rowid DESC LIMIT :limit";
    struct db_backup_run *list;
    void *raw = NULL;
    size_t num = 0, i;
    int rc;

    db_lock(db);
    rc = db_query_list(
        db, sql, "list backup runs", run_row, run_release_any, sizeof(*list),
        &raw, &num,
        DB_ARGS(DB_TEXT(":job", job_id), DB_INT(":limit", (int64_t)limit)));
    list = raw;
    for (i = 0; !rc && i < num; i++)
        rc = run_load_vms(db, &list[i]);
    db_unlock(db);
    if (rc) {
        for (i = 0; i < num; i++)
            db_backup_run_release(&list[i]);
        free(list);
        return rc;
    }
    *list_out = list;
    *num_out = num;
    return 0;
}

int db_backup_run_active(struct db *db, const char *job_id)
{
    static const char sql[] = "SELECT COUNT(*) FROM backup_runs "
                              "WHERE job_id = :job AND status = 'running'";
    int64_t n = 0;
    int rc = db_query_int(db, sql, "backup run active", &n,
                          DB_ARGS(DB_TEXT(":job", job_id)));

    return rc ? rc : n > 0;
}

int db_backup_run_interrupt_all(struct db *db, const char *reason,
                                int *count_out)
{
    static const char vms[] =
        "UPDATE backup_run_vms SET status = 'interrupted', error = :reason "
        "WHERE status IN ('pending', 'running') AND run_id IN "
        "(SELECT id FROM backup_runs WHERE status = 'running')";
    static const char runs[] =
        "UPDATE backup_runs SET status = 'interrupted', finished_at = :now, "
        "error = :reason WHERE status = 'running'";
    int rc = db_begin(db);

    if (rc)
        return rc;
    rc = db_exec(db, vms, "interrupt run vms",
                 DB_ARGS(DB_TEXT(":reason", reason)));
    if (!rc)
        rc = db_exec(db, runs, "interrupt runs",
                     DB_ARGS(DB_INT(":now", (int64_t)time(NULL)),
                             DB_TEXT(":reason", reason)));
    if (!rc && count_out)
        *count_out = db_changes(db);
    if (rc) {
        db_rollback(db);
        return rc;
    }
    return db_commit(db);
}

/* ---- bases ---- */

#define BASE_COLS \
    "job_id, disk_id, vm_id, device, sr_id, file, snapshot_id, created_at"

static void base_row(sqlite3_stmt *st, void *p)
{
    struct db_backup_base *b = p;

    memset(b, 0, sizeof(*b));
    db_col_text(st, 0, b->job_id, sizeof(b->job_id));
    db_col_text(st, 1, b->disk_id, sizeof(b->disk_id));
    db_col_text(st, 2, b->vm_id, sizeof(b->vm_id));
    db_col_text(st, 3, b->device, sizeof(b->device));
    db_col_text(st, 4, b->sr_id, sizeof(b->sr_id));
    db_col_text(st, 5, b->file, sizeof(b->file));
    db_col_text(st, 6, b->snapshot_id, sizeof(b->snapshot_id));
    b->created_at = sqlite3_column_int64(st, 7);
}

int db_backup_base_get(struct db *db, const char *job_id, const char *disk_id,
                       struct db_backup_base *out)
{
    static const char sql[] = "SELECT " BASE_COLS " FROM backup_bases "
                              "WHERE job_id = :job AND disk_id = :disk";

    return db_query_one(
        db, sql, "get backup base", base_row, out,
        DB_ARGS(DB_TEXT(":job", job_id), DB_TEXT(":disk", disk_id)));
}

int db_backup_base_set(struct db *db, const struct db_backup_base *b)
{
    static const char sql[] =
        "INSERT OR REPLACE INTO backup_bases (" BASE_COLS ") VALUES (:job, "
        ":disk, :vm, :device, :sr, :file, :snapshot, :created_at)";

    return db_exec(
        db, sql, "set backup base",
        DB_ARGS(DB_TEXT(":job", b->job_id), DB_TEXT(":disk", b->disk_id),
                DB_TEXT(":vm", b->vm_id), DB_TEXT(":device", b->device),
                DB_TEXT(":sr", b->sr_id), DB_TEXT(":file", b->file),
                DB_TEXT(":snapshot", b->snapshot_id),
                DB_INT(":created_at", b->created_at)));
}

int db_backup_base_list(struct db *db, struct db_backup_base **list_out,
                        size_t *num_out)
{
    static const char sql[] = "SELECT " BASE_COLS " FROM backup_bases";
    void *list = NULL;
    int rc;

    rc = db_query_list(db, sql, "list backup bases", base_row, NULL,
                       sizeof(**list_out), &list, num_out, DB_NOARGS);
    if (!rc)
        *list_out = list;
    return rc;
}
