/* db_backup_jobs.h: backup jobs, their runs with per-VM results, and the
 * SR clones kept as change-map bases (tables backup_jobs,
 * backup_job_vms, backup_job_tags, backup_runs, backup_run_vms,
 * backup_bases). One function per query; multi-row changes run in one
 * transaction (db_begin: not inside a caller's). Thread safe. Lists are
 * **new**: release each element, then free().
 */
#ifndef XENITH_DB_DB_BACKUP_JOBS_H
#define XENITH_DB_DB_BACKUP_JOBS_H

#include <stddef.h>
#include <stdint.h>

struct db;

#define DB_JOB_MAX_VMS  256
#define DB_JOB_MAX_TAGS 32

struct db_backup_job {
    char id[37];
    char name[65];
    char repo_id[37];
    char schedule[128]; /* "" = manual only */
    char timezone[128];
    int keep_last, keep_hourly, keep_daily, keep_weekly, keep_monthly,
        keep_yearly;
    int concurrency; /* 1..8 */
    int enabled;
    int64_t last_due; /* the last scheduled time handled, 0 = none */
    int64_t created_at;
    int64_t updated_at;
    char (*vms)[37]; /* **owned** VM ids */
    size_t num_vms;
    char (*tags)[65]; /* **owned** */
    size_t num_tags;
};

void db_backup_job_release(struct db_backup_job *j); /* frees vms/tags */

/* Insert the job with its VMs and tags (last_due too). ERR_EXISTS for a taken
 * name, ERR_CONFLICT for an unknown repository or VM. */
int db_backup_job_insert(struct db *db, const struct db_backup_job *j);
/* Replace every field but created_at, VMs and tags too. */
int db_backup_job_update(struct db *db, const struct db_backup_job *j);
int db_backup_job_get(struct db *db, const char *id, struct db_backup_job *out);
/* Ordered by name. */
int db_backup_job_list(struct db *db, struct db_backup_job **list_out,
                       size_t *num_out);
/* ERR_CONFLICT while a run of it is running. */
int db_backup_job_delete(struct db *db, const char *id);
int db_backup_job_set_last_due(struct db *db, const char *id, int64_t t);
/* Number of jobs that use repository repo_id. */
int db_backup_job_repo_users(struct db *db, const char *repo_id,
                             int64_t *count_out);

/* The VMs a job selects: its VM ids plus the VMs having any of its
 * tags, ordered by name. */
struct db_backup_job_vm {
    char id[37];
    char name[65];
};
int db_backup_job_select_vms(struct db *db, const char *job_id,
                             struct db_backup_job_vm **list_out,
                             size_t *num_out);

struct db_backup_run_vm {
    char vm_id[37];
    char vm_name[65];
    char status[16];      /* pending|running|success|failure|cancelled|
                           * interrupted */
    char snapshot_id[37]; /* "" when none */
    int64_t bytes_read;
    int64_t stored_bytes;
    int used_changemap;
    char error[512];     /* "" when none */
    char read_note[512]; /* how its data was read; "" when none */
};

struct db_backup_run {
    char id[37];
    char job_id[37];
    char task_id[37];
    char trigger[16]; /* manual|schedule|catch-up */
    char status[16];  /* running|success|failure|cancelled|interrupted */
    int64_t started_at;
    int64_t finished_at;          /* 0 = not yet */
    char error[512];              /* "" when none */
    struct db_backup_run_vm *vms; /* **owned** */
    size_t num_vms;
};

void db_backup_run_release(struct db_backup_run *r); /* frees vms */

/* Insert a run with its VM rows. ERR_EXISTS when a run of the job is
 * already running. */
int db_backup_run_insert(struct db *db, const struct db_backup_run *r);
/* The task that carries a run (set once the task is queued). */
int db_backup_run_set_task(struct db *db, const char *id, const char *task_id);
/* Status, finished_at and error of a run. */
int db_backup_run_finish(struct db *db, const struct db_backup_run *r);
/* One VM row of a run (matched by run id and vm_id). */
int db_backup_run_vm_update(struct db *db, const char *run_id,
                            const struct db_backup_run_vm *v);
int db_backup_run_get(struct db *db, const char *id, struct db_backup_run *out);
/* Newest first, at most limit. */
int db_backup_run_list(struct db *db, const char *job_id, size_t limit,
                       struct db_backup_run **list_out, size_t *num_out);
/* Whether a run of job_id is running (1/0) or an enum err. */
int db_backup_run_active(struct db *db, const char *job_id);
/* Mark every running run (and its unfinished VM rows) interrupted with
 * reason; count_out may be NULL. */
int db_backup_run_interrupt_all(struct db *db, const char *reason,
                                int *count_out);

struct db_backup_base {
    char job_id[37];
    char disk_id[37];
    char vm_id[37];
    char device[16]; /* the disk's device then: the manifest's disk name */
    char sr_id[37];
    char file[128];
    char snapshot_id[37];
    int64_t created_at;
};

int db_backup_base_get(struct db *db, const char *job_id, const char *disk_id,
                       struct db_backup_base *out);
/* Insert or replace the base of (job, disk). */
int db_backup_base_set(struct db *db, const struct db_backup_base *b);
/* Every base (for the sweep of unrecorded files). */
int db_backup_base_list(struct db *db, struct db_backup_base **list_out,
                        size_t *num_out);

#endif
