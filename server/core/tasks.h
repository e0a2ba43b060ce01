/* tasks.h: long-running operations. A task has a row in the tasks
 * table (so it survives restarts as a record), runs on a fixed pool of
 * worker threads, reports progress (stored and published on the event
 * bus as {"type":"task"}), and has a cancel flag its function checks at
 * safe points. At start-up, tasks left pending/running by a crash are
 * marked interrupted (tasks_start does it). Thread safe.
 */
#ifndef XENITH_SERVER_CORE_TASKS_H
#define XENITH_SERVER_CORE_TASKS_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>

struct app;
struct task;
struct tasks;
struct db_task;

/* Runs on a worker. Return 0 (success), ERR_CANCELLED (cancelled) or
 * another enum err (failure; message from task_set_error or the err
 * string). */
typedef int (*task_fn)(struct task *t, void *arg);

struct task_spec {
    const char *kind;        /* "vm.start" */
    const char *target_type; /* "vm" */
    const char *target_id;
    const char *username;
    task_fn fn;
    void *arg;                /* **stolen**: freed by arg_free */
    void (*arg_free)(void *); /* may be NULL */
};

/* Start nworkers workers; marks interrupted tasks from a previous run. */
int tasks_start(struct app *app, int nworkers, struct tasks **tasks_out);

/* Stop accepting, cancel the running ones, wait for the workers, and
 * mark what did not finish as interrupted. NULL ok. */
void tasks_stop(struct tasks *ts);

/* Queue a task; its row (status pending) is written before this
 * returns. id_out[37] gets its id. ERR_BUSY when stopping. */
int tasks_submit(struct tasks *ts, const struct task_spec *spec,
                 char id_out[37]);

/* Request cancellation: a pending task is cancelled at once, a running
 * one when its function next checks. ERR_NOTFOUND for an unknown id,
 * ERR_CONFLICT when already finished. */
int tasks_cancel(struct tasks *ts, const char *id);

/* Wait up to timeout_ms for a task to finish; 0 if finished,
 * ERR_TIMEOUT otherwise. For tests and the CLI. */
int tasks_wait(struct tasks *ts, const char *id, int timeout_ms);

/* For task functions. */
struct app *task_app(struct task *t);
const char *task_id(struct task *t);
int task_cancelled(struct task *t);
/* The cancel flag itself (non-zero once cancelled), for engines that
 * poll one (struct bk_progress of backup/bk.h). Valid while t runs. */
atomic_int *task_cancel_flag(struct task *t);
void task_progress(struct task *t, double frac); /* 0..1, rate limited */
/* Byte progress: sets progress to done/total and gives the task's JSON
 * (stored and published like task_progress, rate limited the same way)
 * "bytes_done", "bytes_total", "rate_bps" (bytes/s since the task
 * started) and "eta_s" (null when unknown). */
void task_progress_bytes(struct task *t, uint64_t done, uint64_t total);
void task_set_result(struct task *t, json_t *result); /* **stolen** */
void task_set_error(struct task *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The rate/ETA arithmetic of task_progress_bytes: *rate_out bytes/s
 * over elapsed_ms (0 when nothing measurable yet), *eta_out whole
 * seconds left at that rate, rounded up (-1 when unknown). */
void task_rate_eta(uint64_t done, uint64_t total, int64_t elapsed_ms,
                   int64_t *rate_out, int64_t *eta_out);

/* The API's JSON form of a task row. **new** */
json_t *task_to_json(const struct db_task *t);

#endif
