#include "db/db_tasks.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/db_internal.h"

#define TASK_COLS                                                      \
    "id, kind, target_type, target_id, username, status, progress, "   \
    "created_at, started_at, finished_at, result, error, bytes_done, " \
    "bytes_total, rate_bps, eta_s"

void db_task_release(struct db_task *t)
{
    if (!t)
        return;
    free(t->result);
    free(t->error);
    t->result = NULL;
    t->error = NULL;
}

/* The arguments both insert and update bind (the columns that change). */
#define TASK_STATE_ARGS(t)                                              \
    DB_TEXT(":id", (t)->id), DB_TEXT(":status", (t)->status),           \
        DB_DOUBLE(":progress", (t)->progress),                          \
        DB_INT_OR_NULL(":started_at", (t)->started_at),                 \
        DB_INT_OR_NULL(":finished_at", (t)->finished_at),               \
        DB_TEXT(":result", (t)->result), DB_TEXT(":error", (t)->error), \
        DB_INT(":has_bytes", (t)->has_bytes),                           \
        DB_INT(":bytes_done", (t)->bytes_done),                         \
        DB_INT(":bytes_total", (t)->bytes_total),                       \
        DB_INT(":rate_bps", (t)->rate_bps), DB_INT(":eta_s", (t)->eta_s)

/* The byte columns: NULL unless the task reports bytes (eta_s also when
 * unknown). */
#define BYTES_DONE   "iif(:has_bytes, :bytes_done, NULL)"
#define BYTES_TOTAL  "iif(:has_bytes, :bytes_total, NULL)"
#define BYTES_RATE   "iif(:has_bytes, :rate_bps, NULL)"
#define BYTES_ETA    "iif(:has_bytes AND :eta_s >= 0, :eta_s, NULL)"
#define BYTES_VALUES BYTES_DONE ", " BYTES_TOTAL ", " BYTES_RATE ", " BYTES_ETA

int db_task_insert(struct db *db, const struct db_task *t)
{
    static const char sql[] =
        "INSERT INTO tasks (" TASK_COLS ") VALUES (:id, :kind, :target_type, "
        ":target_id, :username, :status, :progress, :created_at, "
        ":started_at, :finished_at, :result, :error, " BYTES_VALUES ")";

    return db_exec(db, sql, "insert task",
                   DB_ARGS(TASK_STATE_ARGS(t), DB_TEXT(":kind", t->kind),
                           DB_TEXT(":target_type", t->target_type),
                           DB_TEXT(":target_id", t->target_id),
                           DB_TEXT(":username", t->username),
                           DB_INT(":created_at", t->created_at)));
}

int db_task_update(struct db *db, const struct db_task *t)
{
    static const char sql[] =
        "UPDATE tasks SET status = :status, progress = :progress, "
        "started_at = :started_at, finished_at = :finished_at, "
        "result = :result, error = :error, bytes_done = " BYTES_DONE
        ", bytes_total = " BYTES_TOTAL ", rate_bps = " BYTES_RATE
        ", eta_s = " BYTES_ETA " WHERE id = :id";

    return db_exec_one(db, sql, "update task", DB_ARGS(TASK_STATE_ARGS(t)));
}

static void task_row(sqlite3_stmt *st, void *p)
{
    struct db_task *t = p;

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
    t->has_bytes = sqlite3_column_type(st, 13) != SQLITE_NULL;
    t->bytes_done = sqlite3_column_int64(st, 12);
    t->bytes_total = sqlite3_column_int64(st, 13);
    t->rate_bps = sqlite3_column_int64(st, 14);
    t->eta_s = sqlite3_column_type(st, 15) == SQLITE_NULL
                   ? -1
                   : sqlite3_column_int64(st, 15);
}

static void task_release_any(void *p)
{
    db_task_release(p);
}

int db_task_get(struct db *db, const char *id, struct db_task *out)
{
    static const char sql[] = "SELECT " TASK_COLS " FROM tasks WHERE id = :id";

    return db_query_one(db, sql, "get task", task_row, out,
                        DB_ARGS(DB_TEXT(":id", id)));
}

int db_task_list(struct db *db, size_t limit, struct db_task **list_out,
                 size_t *num_out)
{
    static const char sql[] = "SELECT " TASK_COLS " FROM tasks "
                              "ORDER BY created_at DESC, rowid DESC "
                              "LIMIT :limit";
    void *list;
    int rc;

    rc = db_query_list(db, sql, "list tasks", task_row, task_release_any,
                       sizeof(**list_out), &list, num_out,
                       DB_ARGS(DB_INT(":limit", (int64_t)limit)));
    if (!rc)
        *list_out = list;
    return rc;
}

int db_task_interrupt_all(struct db *db, const char *reason, int *count_out)
{
    static const char sql[] =
        "UPDATE tasks SET status = 'interrupted', finished_at = :now, "
        "error = json_object('code', 'interrupted', 'message', :reason) "
        "WHERE status IN ('pending', 'running')";
    int rc;

    db_lock(db); /* db_changes() must see this statement */
    rc = db_exec(db, sql, "interrupt tasks",
                 DB_ARGS(DB_INT(":now", (int64_t)time(NULL)),
                         DB_TEXT(":reason", reason)));
    if (!rc && count_out)
        *count_out = db_changes(db);
    db_unlock(db);
    return rc;
}
