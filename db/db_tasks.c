#include "db/db_tasks.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/xalloc.h"
#include "db/db_internal.h"

#define TASK_COLS                                                    \
    "id, kind, target_type, target_id, username, status, progress, " \
    "created_at, started_at, finished_at, result, error"

void db_task_release(struct db_task *t)
{
    if (!t)
        return;
    free(t->result);
    free(t->error);
    t->result = NULL;
    t->error = NULL;
}

static void task_bind(sqlite3_stmt *st, const struct db_task *t)
{
    db_bind_text(st, ":id", t->id);
    db_bind_text(st, ":status", t->status);
    db_bind_double(st, ":progress", t->progress);
    if (t->started_at)
        db_bind_int(st, ":started_at", t->started_at);
    else
        db_bind_null(st, ":started_at");
    if (t->finished_at)
        db_bind_int(st, ":finished_at", t->finished_at);
    else
        db_bind_null(st, ":finished_at");
    db_bind_text(st, ":result", t->result);
    db_bind_text(st, ":error", t->error);
}

int db_task_insert(struct db *db, const struct db_task *t)
{
    static const char sql[] =
        "INSERT INTO tasks (" TASK_COLS ") VALUES (:id, :kind, :target_type, "
        ":target_id, :username, :status, :progress, :created_at, "
        ":started_at, :finished_at, :result, :error)";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (st) {
        task_bind(st, t);
        db_bind_text(st, ":kind", t->kind);
        db_bind_text(st, ":target_type", t->target_type);
        db_bind_text(st, ":target_id", t->target_id);
        db_bind_text(st, ":username", t->username);
        db_bind_int(st, ":created_at", t->created_at);
    }
    rc = db_exec_stmt(db, st, "insert task");
    db_unlock(db);
    return rc;
}

int db_task_update(struct db *db, const struct db_task *t)
{
    static const char sql[] =
        "UPDATE tasks SET status = :status, progress = :progress, "
        "started_at = :started_at, finished_at = :finished_at, "
        "result = :result, error = :error WHERE id = :id";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (st)
        task_bind(st, t);
    rc = db_exec_stmt(db, st, "update task");
    if (!rc && db_changes(db) == 0)
        rc = ERR_NOTFOUND;
    db_unlock(db);
    return rc;
}

static void task_row(sqlite3_stmt *st, struct db_task *t)
{
    memset(t, 0, sizeof(*t));
    db_col_text(st, 0, t->id, sizeof(t->id));
    db_col_text(st, 1, t->kind, sizeof(t->kind));
    db_col_text(st, 2, t->target_type, sizeof(t->target_type));
    db_col_text(st, 3, t->target_id, sizeof(t->target_id));
    db_col_text(st, 4, t->username, sizeof(t->username));
    db_col_text(st, 5, t->status, sizeof(t->status));
    t->progress = sqlite3_column_double(st, 6);
    t->created_at = sqlite3_column_int64(st, 7);
    t->started_at = sqlite3_column_int64(st, 8);
    t->finished_at = sqlite3_column_int64(st, 9);
    if (sqlite3_column_type(st, 10) != SQLITE_NULL)
        t->result = db_col_strdup(st, 10);
    if (sqlite3_column_type(st, 11) != SQLITE_NULL)
        t->error = db_col_strdup(st, 11);
}

int db_task_get(struct db *db, const char *id, struct db_task *out)
{
    static const char sql[] = "SELECT " TASK_COLS " FROM tasks WHERE id = :id";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (!st) {
        rc = ERR_INTERNAL;
        goto out;
    }
    db_bind_text(st, ":id", id);
    rc = db_step(db, st, "get task");
    if (rc == 1) {
        task_row(st, out);
        rc = 0;
    } else if (rc == 0) {
        rc = ERR_NOTFOUND;
    }
    sqlite3_reset(st);
out:
    db_unlock(db);
    return rc;
}

int db_task_list(struct db *db, size_t limit, struct db_task **list_out,
                 size_t *num_out)
{
    static const char sql[] = "SELECT " TASK_COLS " FROM tasks "
                              "ORDER BY created_at DESC, rowid DESC "
                              "LIMIT :limit";
    struct db_task *list = NULL;
    size_t num = 0, alloc = 0;
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (!st) {
        rc = ERR_INTERNAL;
        goto out;
    }
    db_bind_int(st, ":limit", (int64_t)limit);
    while ((rc = db_step(db, st, "list tasks")) == 1) {
        if (num == alloc) {
            alloc = alloc ? alloc * 2 : 16;
            list = xrealloc(list, alloc * sizeof(*list));
        }
        task_row(st, &list[num++]);
    }
    sqlite3_reset(st);
out:
    db_unlock(db);
    if (rc < 0) {
        while (num)
            db_task_release(&list[--num]);
        free(list);
        return rc;
    }
    *list_out = list;
    *num_out = num;
    return 0;
}

int db_task_interrupt_all(struct db *db, const char *reason, int *count_out)
{
    static const char sql[] =
        "UPDATE tasks SET status = 'interrupted', finished_at = :now, "
        "error = json_object('code', 'interrupted', 'message', :reason) "
        "WHERE status IN ('pending', 'running')";
    sqlite3_stmt *st;
    int rc;

    db_lock(db);
    st = db_stmt(db, sql);
    if (st) {
        db_bind_int(st, ":now", (int64_t)time(NULL));
        db_bind_text(st, ":reason", reason);
    }
    rc = db_exec_stmt(db, st, "interrupt tasks");
    if (!rc && count_out)
        *count_out = db_changes(db);
    db_unlock(db);
    return rc;
}
