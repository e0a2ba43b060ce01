/* db_tasks.h: the tasks table (long-running operations and their
 * outcome). Thread safe. */
#ifndef XENITH_DB_DB_TASKS_H
#define XENITH_DB_DB_TASKS_H

#include <stddef.h>
#include <stdint.h>

struct db;

struct db_task {
    char id[37];
    char kind[32];        /* "vm.start", "disk.import", ... */
    char target_type[16]; /* "vm", "disk", ... */
    char target_id[37];
    char username[65];
    char status[16]; /* pending|running|success|failure|cancelled|interrupted */
    double progress; /* 0..1 */
    int64_t created_at;
    int64_t started_at;  /* 0 = not yet */
    int64_t finished_at; /* 0 = not yet */
    char *result;        /* **owned** JSON text or NULL */
    char *error;         /* **owned** JSON text {"code","message"} or NULL */
    /* Byte progress (task_progress_bytes); has_bytes 0 = none reported. */
    int has_bytes;
    int64_t bytes_done;
    int64_t bytes_total;
    int64_t rate_bps; /* bytes/s over the task so far */
    int64_t eta_s;    /* -1 = unknown */
};

void db_task_release(struct db_task *t); /* frees result/error */

int db_task_insert(struct db *db, const struct db_task *t);
/* Update status, progress, started/finished, result and error. */
int db_task_update(struct db *db, const struct db_task *t);
int db_task_get(struct db *db, const char *id, struct db_task *out);
/* Newest first, at most limit rows; *list_out **new**, release each
 * element then free(). */
int db_task_list(struct db *db, size_t limit, struct db_task **list_out,
                 size_t *num_out);
/* Mark every pending/running task interrupted with reason; count_out
 * may be NULL. */
int db_task_interrupt_all(struct db *db, const char *reason, int *count_out);

#endif
