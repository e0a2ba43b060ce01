#include "server/core/backup_sched.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "db/db_backup_jobs.h"
#include "server/core/app.h"
#include "server/core/backup_run.h"
#include "server/core/cron.h"
#include "server/core/events.h"
#include "server/core/tzfile.h"

#define SCHED_MAX_SLEEP_S 60  /* re-check the wall clock at least this often */
#define SCHED_SWEEP_S     600 /* sweep unused kept clones this often */

struct backup_sched {
    struct app *app;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond; /* kicked or stopping */
    int kicked, stop;
    int sweep;       /* a VM or disk was deleted: its kept clones can go */
    int sub_id;      /* events subscription */
    int64_t started; /* scheduler clock at start: earlier dues catch up */
};

int64_t backup_sched_now(const struct app *app)
{
    return time_now() + app->cfg.test_clock_offset_s;
}

int backup_schedule_next(const char *schedule, const char *timezone,
                         int64_t after, int64_t *out, size_t max,
                         size_t *num_out, const char **field_out, char *msg,
                         size_t cap)
{
    struct tz *z = NULL;
    struct cron c;
    size_t n = 0;
    int rc;

    *num_out = 0;
    rc = tz_load(NULL, timezone, &z);
    if (rc) {
        *field_out = "timezone";
        snprintf(msg, cap,
                 "unknown time zone \"%.64s\" (an IANA name such "
                 "as Europe/Paris)",
                 timezone);
        return ERR_INVALID;
    }
    if (!schedule[0])
        goto out;
    rc = cron_parse(schedule, &c, NULL, msg, cap);
    if (rc) {
        *field_out = "schedule";
        goto out;
    }
    while (n < max && !cron_next(&c, z, after, &out[n]))
        after = out[n++];
out:
    tz_free(z);
    *num_out = n;
    return rc;
}

/* The next scheduled time of job after t, or 0 when none. */
static int64_t job_next(const struct db_backup_job *j, int64_t t)
{
    const char *field;
    char msg[160];
    int64_t next;
    size_t n;

    if (!j->enabled || !j->schedule[0])
        return 0;
    if (backup_schedule_next(j->schedule, j->timezone, t, &next, 1, &n, &field,
                             msg, sizeof(msg))) {
        log_warn("backup job %s: %s", j->id, msg);
        return 0;
    }
    return n ? next : 0;
}

/* Start the due jobs; the earliest next scheduled time into *wake_out
 * (0 = none). Called without s->mu. */
static void sched_pass(struct backup_sched *s, int64_t *wake_out)
{
    struct app *app = s->app;
    struct db_backup_job *jobs = NULL;
    size_t num = 0, i;
    int64_t now = backup_sched_now(app), wake = 0;

    if (db_backup_job_list(app->db, &jobs, &num)) {
        *wake_out = now + SCHED_MAX_SLEEP_S;
        return;
    }
    for (i = 0; i < num; i++) {
        struct db_backup_job *j = &jobs[i];
        int64_t due = job_next(j, j->last_due ? j->last_due : j->created_at);
        char task_id[37];
        int rc;

        if (due && due <= now) {
            const char *trigger = due < s->started ? "catch-up" : "schedule";
            char at[21];

            time_rfc3339(due, at);
            log_info("backup job %s: %s run due at %s", j->id, trigger, at);
            /* Handled once, however many times it was missed. */
            db_backup_job_set_last_due(app->db, j->id, now);
            rc = backup_run_start(app, j->id, trigger, "scheduler", task_id);
            if (rc == ERR_CONFLICT)
                log_warn("backup job %s: still running at its scheduled "
                         "time: this run is skipped",
                         j->id);
            else if (rc)
                log_error("backup job %s: cannot start its %s run: %s", j->id,
                          trigger, err_str(rc));
            due = job_next(j, now);
        }
        if (due && (!wake || due < wake))
            wake = due;
        db_backup_job_release(j);
    }
    free(jobs);
    *wake_out = wake;
}

static void *sched_main(void *opaque)
{
    struct backup_sched *s = opaque;
    int64_t last_sweep = time_mono_ms();

    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        int64_t wake, wait_s;
        struct timespec ts;

        int sweep = s->sweep;

        s->kicked = 0;
        s->sweep = 0;
        pthread_mutex_unlock(&s->mu);
        sched_pass(s, &wake);
        if (sweep || time_mono_ms() - last_sweep > SCHED_SWEEP_S * 1000LL) {
            backup_bases_sweep(s->app);
            last_sweep = time_mono_ms();
        }
        pthread_mutex_lock(&s->mu);
        if (s->stop || s->kicked)
            continue;
        wait_s = wake ? wake - backup_sched_now(s->app) : SCHED_MAX_SLEEP_S;
        if (wait_s > SCHED_MAX_SLEEP_S)
            wait_s = SCHED_MAX_SLEEP_S;
        if (wait_s <= 0)
            continue;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += wait_s;
        while (!s->stop && !s->kicked &&
               pthread_cond_timedwait(&s->cond, &s->mu, &ts) == 0)
            ;
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Events bus: a deleted VM or disk took its backup_bases rows along
 * (cascade); wake the thread to remove their files. */
static void sched_on_event(void *opaque, const char *msg, size_t len)
{
    struct backup_sched *s = opaque;
    json_t *o = json_loadb(msg, len, 0, NULL);
    const char *type = json_string_value(json_object_get(o, "type"));
    const char *action = json_string_value(json_object_get(o, "action"));

    if (type && action && !strcmp(action, "deleted") &&
        (!strcmp(type, "vm") || !strcmp(type, "disk"))) {
        pthread_mutex_lock(&s->mu);
        s->sweep = 1;
        s->kicked = 1;
        pthread_cond_signal(&s->cond);
        pthread_mutex_unlock(&s->mu);
    }
    json_decref(o);
}

int backup_sched_start(struct app *app)
{
    struct backup_sched *s;
    pthread_condattr_t attr;
    int rc;

    rc = backup_run_recover(app);
    if (rc)
        return rc;
    s = xcalloc(1, sizeof(*s));
    s->app = app;
    s->started = backup_sched_now(app);
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&s->thread, NULL, sched_main, s)) {
        log_error("backup: cannot start the scheduler thread");
        pthread_cond_destroy(&s->cond);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return ERR_INTERNAL;
    }
    app->sched = s;
    s->sub_id = events_subscribe(app->events, sched_on_event, s);
    if (app->cfg.test_clock_offset_s)
        log_warn("backup: scheduler clock offset by %d s (test option)",
                 app->cfg.test_clock_offset_s);
    return 0;
}

void backup_sched_stop(struct app *app)
{
    struct backup_sched *s = app ? app->sched : NULL;

    if (!s)
        return;
    if (s->sub_id > 0)
        events_unsubscribe(app->events, s->sub_id);
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->mu);
    free(s);
    app->sched = NULL;
}

void backup_sched_kick(struct app *app)
{
    struct backup_sched *s = app->sched;

    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->kicked = 1;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->mu);
}
