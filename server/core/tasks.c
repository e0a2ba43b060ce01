#include "server/core/tasks.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "db/db_tasks.h"
#include "server/api/api_util.h"
#include "server/core/app.h"
#include "server/core/events.h"

struct task {
    struct tasks *ts;
    struct db_task row;
    struct task_spec spec;
    atomic_int cancel; /* written under ts->mu; read anywhere */
    int done;
    int64_t last_progress_ms;
    int64_t started_ms; /* monotonic, when it began to run */
    json_t *result;
    char errmsg[512];
    struct task *next; /* queue or active list */
};

struct tasks {
    struct app *app;
    pthread_mutex_t mu;
    pthread_cond_t cond;      /* work queued or stopping */
    pthread_cond_t done_cond; /* a task finished */
    struct task *queue_head, *queue_tail;
    struct task *active; /* running tasks */
    pthread_t *workers;
    int num_workers;
    int stopping;
};

struct app *task_app(struct task *t)
{
    return t->ts->app;
}

const char *task_id(struct task *t)
{
    return t->row.id;
}

int task_cancelled(struct task *t)
{
    return atomic_load(&t->cancel);
}

atomic_int *task_cancel_flag(struct task *t)
{
    return &t->cancel;
}

static void task_publish(struct task *t)
{
    events_publish(t->ts->app->events, "task", "updated", t->row.id,
                   task_to_json(&t->row));
}

void task_progress(struct task *t, double frac)
{
    int64_t now = time_mono_ms();

    if (frac < 0)
        frac = 0;
    if (frac > 1)
        frac = 1;
    t->row.progress = frac;
    if (now - t->last_progress_ms < 250 && frac < 1)
        return;
    t->last_progress_ms = now;
    db_task_update(t->ts->app->db, &t->row);
    task_publish(t);
}

void task_rate_eta(uint64_t done, uint64_t total, int64_t elapsed_ms,
                   int64_t *rate_out, int64_t *eta_out)
{
    double rate;

    *rate_out = 0;
    *eta_out = -1;
    if (elapsed_ms <= 0 || done == 0)
        return;
    rate = (double)done * 1000.0 / (double)elapsed_ms;
    if (rate > (double)INT64_MAX)
        rate = (double)INT64_MAX;
    *rate_out = (int64_t)rate;
    if (total < done || rate < 1)
        return;
    *eta_out = (int64_t)ceil((double)(total - done) / rate);
}

void task_progress_bytes(struct task *t, uint64_t done, uint64_t total)
{
    if (done > total)
        total = done;
    t->row.has_bytes = 1;
    t->row.bytes_done = (int64_t)done;
    t->row.bytes_total = (int64_t)total;
    task_rate_eta(done, total, time_mono_ms() - t->started_ms, &t->row.rate_bps,
                  &t->row.eta_s);
    task_progress(t, total ? (double)done / (double)total : 0);
}

void task_set_result(struct task *t, json_t *result)
{
    json_decref(t->result);
    t->result = result;
}

void task_set_error(struct task *t, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(t->errmsg, sizeof(t->errmsg), fmt, ap);
    va_end(ap);
}

static json_t *json_text_or_null(const char *s)
{
    json_t *j;

    if (!s)
        return json_null();
    j = json_loads(s, 0, NULL);
    return j ? j : json_string(s);
}

json_t *task_to_json(const struct db_task *t)
{
    json_t *o;

    o = json_pack(
        "{s:s, s:s, s:{s:s, s:s}, s:s, s:s, s:f, s:o, s:o, "
        "s:o, s:o, s:o}",
        "id", t->id, "kind", t->kind, "target", "type", t->target_type, "id",
        t->target_id, "user", t->username, "status", t->status, "progress",
        t->progress, "created_at", api_time(t->created_at), "started_at",
        api_time(t->started_at), "finished_at", api_time(t->finished_at),
        "result", json_text_or_null(t->result), "error",
        json_text_or_null(t->error));
    if (o && t->has_bytes) {
        json_object_set_new(o, "bytes_done", json_integer(t->bytes_done));
        json_object_set_new(o, "bytes_total", json_integer(t->bytes_total));
        json_object_set_new(o, "rate_bps", json_integer(t->rate_bps));
        json_object_set_new(
            o, "eta_s", t->eta_s >= 0 ? json_integer(t->eta_s) : json_null());
    }
    return o;
}

static void task_free(struct task *t)
{
    if (!t)
        return;
    if (t->spec.arg_free)
        t->spec.arg_free(t->spec.arg);
    json_decref(t->result);
    db_task_release(&t->row);
    free(t);
}

static void task_finish(struct task *t, int rc)
{
    const char *status;

    if (rc == 0)
        status = "success";
    else if (rc == ERR_CANCELLED)
        status = "cancelled";
    else
        status = "failure";
    xstrlcpy(t->row.status, status, sizeof(t->row.status));
    t->row.finished_at = time_now();
    if (rc == 0) {
        t->row.progress = 1;
        if (t->row.has_bytes)
            t->row.eta_s = 0;
    }
    if (t->result) {
        t->row.result = json_dumps(t->result, JSON_COMPACT);
    }
    if (rc) {
        json_t *e = json_pack("{s:s, s:s}", "code", err_code(rc), "message",
                              t->errmsg[0] ? t->errmsg : err_str(rc));

        t->row.error = json_dumps(e, JSON_COMPACT);
        json_decref(e);
    }
    db_task_update(t->ts->app->db, &t->row);
    task_publish(t);
    log_info("task %s %s %s: %s%s%s", t->row.id, t->row.kind, t->row.target_id,
             status, rc ? ": " : "",
             rc ? (t->errmsg[0] ? t->errmsg : err_str(rc)) : "");
}

static void *tasks_worker(void *opaque)
{
    struct tasks *ts = opaque;

    for (;;) {
        struct task *t, **pp;
        int rc;

        pthread_mutex_lock(&ts->mu);
        while (!ts->queue_head && !ts->stopping)
            pthread_cond_wait(&ts->cond, &ts->mu);
        if (!ts->queue_head) {
            pthread_mutex_unlock(&ts->mu);
            break;
        }
        t = ts->queue_head;
        ts->queue_head = t->next;
        if (!ts->queue_head)
            ts->queue_tail = NULL;
        t->next = ts->active;
        ts->active = t;
        pthread_mutex_unlock(&ts->mu);

        if (ts->stopping || task_cancelled(t)) {
            rc = ERR_CANCELLED;
        } else {
            xstrlcpy(t->row.status, "running", sizeof(t->row.status));
            t->row.started_at = time_now();
            t->started_ms = time_mono_ms();
            db_task_update(ts->app->db, &t->row);
            task_publish(t);
            rc = t->spec.fn(t, t->spec.arg);
            if (rc && rc != ERR_CANCELLED && t->cancel && ts->stopping)
                rc = ERR_CANCELLED;
        }
        if (ts->stopping && rc == ERR_CANCELLED) {
            /* Shutdown, not a user's cancel: say so. */
            xstrlcpy(t->row.status, "interrupted", sizeof(t->row.status));
            t->row.finished_at = time_now();
            t->row.error = xstrdup("{\"code\":\"interrupted\",\"message\":"
                                   "\"daemon shutting down\"}");
            db_task_update(ts->app->db, &t->row);
        } else {
            task_finish(t, rc);
        }

        pthread_mutex_lock(&ts->mu);
        for (pp = &ts->active; *pp; pp = &(*pp)->next) {
            if (*pp == t) {
                *pp = t->next;
                break;
            }
        }
        pthread_cond_broadcast(&ts->done_cond);
        pthread_mutex_unlock(&ts->mu);
        task_free(t);
    }
    return NULL;
}

int tasks_start(struct app *app, int nworkers, struct tasks **tasks_out)
{
    struct tasks *ts = xcalloc(1, sizeof(*ts));
    int i, n = 0;

    ts->app = app;
    pthread_mutex_init(&ts->mu, NULL);
    pthread_cond_init(&ts->cond, NULL);
    pthread_cond_init(&ts->done_cond, NULL);
    if (db_task_interrupt_all(app->db, "daemon restarted while it ran", &n) ==
            0 &&
        n > 0)
        log_warn("tasks: marked %d task(s) from a previous run interrupted", n);
    ts->workers = xcalloc((size_t)nworkers, sizeof(*ts->workers));
    for (i = 0; i < nworkers; i++) {
        if (pthread_create(&ts->workers[i], NULL, tasks_worker, ts)) {
            log_error("tasks: cannot start worker %d", i);
            break;
        }
        ts->num_workers++;
    }
    *tasks_out = ts;
    return 0;
}

void tasks_stop(struct tasks *ts)
{
    struct task *t;
    int i;

    if (!ts)
        return;
    pthread_mutex_lock(&ts->mu);
    ts->stopping = 1;
    for (t = ts->active; t; t = t->next)
        t->cancel = 1;
    for (t = ts->queue_head; t; t = t->next)
        t->cancel = 1;
    pthread_cond_broadcast(&ts->cond);
    pthread_mutex_unlock(&ts->mu);
    for (i = 0; i < ts->num_workers; i++)
        pthread_join(ts->workers[i], NULL);
    db_task_interrupt_all(ts->app->db, "daemon shut down", NULL);
    free(ts->workers);
    pthread_mutex_destroy(&ts->mu);
    pthread_cond_destroy(&ts->cond);
    pthread_cond_destroy(&ts->done_cond);
    free(ts);
}

int tasks_submit(struct tasks *ts, const struct task_spec *spec,
                 char id_out[37])
{
    struct task *t = xcalloc(1, sizeof(*t));
    int rc;

    t->ts = ts;
    t->spec = *spec;
    uuid_generate(t->row.id);
    xstrlcpy(t->row.kind, spec->kind, sizeof(t->row.kind));
    xstrlcpy(t->row.target_type, spec->target_type ? spec->target_type : "",
             sizeof(t->row.target_type));
    xstrlcpy(t->row.target_id, spec->target_id ? spec->target_id : "",
             sizeof(t->row.target_id));
    xstrlcpy(t->row.username, spec->username ? spec->username : "",
             sizeof(t->row.username));
    xstrlcpy(t->row.status, "pending", sizeof(t->row.status));
    t->row.created_at = time_now();

    pthread_mutex_lock(&ts->mu);
    if (ts->stopping) {
        pthread_mutex_unlock(&ts->mu);
        task_free(t);
        return ERR_BUSY;
    }
    rc = db_task_insert(ts->app->db, &t->row);
    if (rc) {
        pthread_mutex_unlock(&ts->mu);
        task_free(t);
        return rc;
    }
    memcpy(id_out, t->row.id, 37);
    if (ts->queue_tail)
        ts->queue_tail->next = t;
    else
        ts->queue_head = t;
    ts->queue_tail = t;
    pthread_cond_signal(&ts->cond);
    pthread_mutex_unlock(&ts->mu);
    events_publish(ts->app->events, "task", "created", id_out, NULL);
    return 0;
}

int tasks_cancel(struct tasks *ts, const char *id)
{
    struct task *t, *prev = NULL, *found = NULL;
    struct db_task row;
    int rc;

    pthread_mutex_lock(&ts->mu);
    for (t = ts->active; t; t = t->next) {
        if (!strcmp(t->row.id, id)) {
            t->cancel = 1;
            pthread_mutex_unlock(&ts->mu);
            return 0;
        }
    }
    for (t = ts->queue_head; t; prev = t, t = t->next) {
        if (!strcmp(t->row.id, id)) {
            found = t;
            if (prev)
                prev->next = t->next;
            else
                ts->queue_head = t->next;
            if (ts->queue_tail == t)
                ts->queue_tail = prev;
            break;
        }
    }
    pthread_mutex_unlock(&ts->mu);
    if (found) {
        task_finish(found, ERR_CANCELLED);
        pthread_mutex_lock(&ts->mu);
        pthread_cond_broadcast(&ts->done_cond);
        pthread_mutex_unlock(&ts->mu);
        task_free(found);
        return 0;
    }
    rc = db_task_get(ts->app->db, id, &row);
    if (rc)
        return rc;
    db_task_release(&row);
    return ERR_CONFLICT;
}

static int tasks_is_live(struct tasks *ts, const char *id)
{
    struct task *t;

    for (t = ts->active; t; t = t->next)
        if (!strcmp(t->row.id, id))
            return 1;
    for (t = ts->queue_head; t; t = t->next)
        if (!strcmp(t->row.id, id))
            return 1;
    return 0;
}

int tasks_wait(struct tasks *ts, const char *id, int timeout_ms)
{
    int64_t deadline = time_mono_ms() + timeout_ms;
    int rc = 0;

    pthread_mutex_lock(&ts->mu);
    while (tasks_is_live(ts, id)) {
        struct timespec ts_abs;

        if (time_mono_ms() >= deadline) {
            rc = ERR_TIMEOUT;
            break;
        }
        clock_gettime(CLOCK_REALTIME, &ts_abs);
        ts_abs.tv_nsec += 50 * 1000000;
        if (ts_abs.tv_nsec >= 1000000000) {
            ts_abs.tv_sec++;
            ts_abs.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&ts->done_cond, &ts->mu, &ts_abs);
    }
    pthread_mutex_unlock(&ts->mu);
    return rc;
}
