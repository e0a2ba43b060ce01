/* api_backup_jobs.c: backup jobs (GET|POST /backup/jobs, GET|PATCH|
 * DELETE /backup/jobs/{id}), their runs (POST /backup/jobs/{id}/run,
 * GET /backup/jobs/{id}/runs) and GET /backup/schedule/preview. The run
 * itself is server/core/backup_run.c, the scheduler backup_sched.c.
 */
#include "server/api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "db/db_backup_jobs.h"
#include "db/db_backup_repos.h"
#include "db/db_vms.h"
#include "server/api/api_util.h"
#include "server/core/app.h"
#include "server/core/backup_event.h"
#include "server/core/backup_run.h"
#include "server/core/backup_sched.h"
#include "server/core/settings.h"

#define JOB_NEXT_RUNS   5
#define JOB_RUNS_LIMIT  50
#define JOB_KEEP_MAX    100000
#define JOB_KEEP_FIELDS 6

static const char *const keep_names[JOB_KEEP_FIELDS] = {
    "last", "hourly", "daily", "weekly", "monthly", "yearly",
};

static int *job_keep(struct db_backup_job *j, size_t i)
{
    int *const f[JOB_KEEP_FIELDS] = {
        &j->keep_last,   &j->keep_hourly,  &j->keep_daily,
        &j->keep_weekly, &j->keep_monthly, &j->keep_yearly,
    };

    return f[i];
}

/* ---- JSON out ---- */

static json_t *run_to_json(const struct db_backup_run *run)
{
    json_t *vms = json_array();
    size_t i;

    for (i = 0; i < run->num_vms; i++)
        json_array_append_new(vms, backup_run_vm_json(&run->vms[i]));
    return json_pack("{s:s, s:s, s:o, s:s, s:s, s:o, s:o, s:o, s:o}", "id",
                     run->id, "job", run->job_id, "task",
                     run->task_id[0] ? json_string(run->task_id) : json_null(),
                     "trigger", run->trigger, "status", run->status, "started",
                     api_time(run->started_at), "finished",
                     api_time(run->finished_at), "error",
                     run->error[0] ? json_string(run->error) : json_null(),
                     "vms", vms);
}

static json_t *job_to_json(struct app *app, struct db_backup_job *j)
{
    json_t *vms = json_array(), *tags = json_array(), *next = json_array();
    json_t *keep = json_object(), *last = json_null();
    struct db_backup_run *runs = NULL;
    int64_t times[JOB_NEXT_RUNS];
    const char *field;
    char msg[160];
    size_t i, n = 0;

    for (i = 0; i < j->num_vms; i++)
        json_array_append_new(vms, json_string(j->vms[i]));
    for (i = 0; i < j->num_tags; i++)
        json_array_append_new(tags, json_string(j->tags[i]));
    for (i = 0; i < JOB_KEEP_FIELDS; i++)
        json_object_set_new(keep, keep_names[i], json_integer(*job_keep(j, i)));
    if (j->enabled && j->schedule[0] &&
        !backup_schedule_next(j->schedule, j->timezone, backup_sched_now(app),
                              times, JOB_NEXT_RUNS, &n, &field, msg,
                              sizeof(msg)))
        for (i = 0; i < n; i++)
            json_array_append_new(next, api_time(times[i]));
    if (!db_backup_run_list(app->db, j->id, 1, &runs, &n) && n) {
        json_decref(last);
        last = run_to_json(&runs[0]);
        db_backup_run_release(&runs[0]);
    }
    free(runs);
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:o, s:i, s:b, "
                     "s:o, s:o, s:o}",
                     "id", j->id, "name", j->name, "repository", j->repo_id,
                     "vms", vms, "tags", tags, "schedule", j->schedule,
                     "timezone", j->timezone, "retention", keep, "concurrency",
                     j->concurrency, "enabled", j->enabled, "next_runs", next,
                     "last_run", last, "created", api_time(j->created_at));
}

/* ---- JSON in ---- */

static int job_get_vms(struct app *app, struct resp *r, json_t *body,
                       struct db_backup_job *j)
{
    json_t *a = json_object_get(body, "vms"), *v;
    struct db_vm vm;
    size_t i, k;
    int rc;

    if (!a)
        return 0;
    if (!json_is_array(a) || json_array_size(a) > DB_JOB_MAX_VMS)
        return api_error(r, ERR_INVALID, "vms",
                         "vms must be an array of at most %d VM ids",
                         DB_JOB_MAX_VMS);
    free(j->vms);
    j->vms = xcalloc(json_array_size(a) + 1, sizeof(*j->vms));
    j->num_vms = 0;
    json_array_foreach(a, i, v) {
        const char *id = json_string_value(v);

        if (!id || !uuid_valid(id))
            return api_error(r, ERR_INVALID, "vms", "vms[%zu] must be a VM id",
                             i);
        rc = db_vm_get(app->db, id, &vm);
        if (rc == ERR_NOTFOUND)
            return api_error(r, ERR_INVALID, "vms", "vms[%zu]: no VM %s", i,
                             id);
        if (rc)
            return api_error(r, rc, "vms", "vms[%zu]: %s", i, err_str(rc));
        db_vm_release(&vm);
        for (k = 0; k < j->num_vms; k++)
            if (!strcmp(j->vms[k], id))
                break;
        if (k == j->num_vms)
            xstrlcpy(j->vms[j->num_vms++], id, sizeof(*j->vms));
    }
    return 0;
}

static int job_get_tags(struct resp *r, json_t *body, struct db_backup_job *j)
{
    json_t *a = json_object_get(body, "tags"), *v;
    size_t i, k;

    if (!a)
        return 0;
    if (!json_is_array(a) || json_array_size(a) > DB_JOB_MAX_TAGS)
        return api_error(r, ERR_INVALID, "tags",
                         "tags must be an array of at most %d strings",
                         DB_JOB_MAX_TAGS);
    free(j->tags);
    j->tags = xcalloc(json_array_size(a) + 1, sizeof(*j->tags));
    j->num_tags = 0;
    json_array_foreach(a, i, v) {
        const char *t = json_string_value(v);
        size_t len = t ? strlen(t) : 0, c;

        if (!t || len < 1 || len > 64)
            return api_error(r, ERR_INVALID, "tags",
                             "tags[%zu] must be a string of 1 to 64 "
                             "characters",
                             i);
        for (c = 0; c < len; c++)
            if ((unsigned char)t[c] < 0x20 || t[c] == 0x7f)
                return api_error(r, ERR_INVALID, "tags",
                                 "tags[%zu] holds a control character", i);
        for (k = 0; k < j->num_tags; k++)
            if (!strcmp(j->tags[k], t))
                break;
        if (k == j->num_tags)
            xstrlcpy(j->tags[j->num_tags++], t, sizeof(*j->tags));
    }
    return 0;
}

static int job_get_retention(struct resp *r, json_t *body,
                             struct db_backup_job *j)
{
    json_t *o = json_object_get(body, "retention"), *v;
    const char *key;
    size_t i;

    if (!o)
        return 0;
    if (!json_is_object(o))
        return api_error(r, ERR_INVALID, "retention",
                         "retention must be an object {last, hourly, daily, "
                         "weekly, monthly, yearly}");
    json_object_foreach(o, key, v) {
        for (i = 0; i < JOB_KEEP_FIELDS; i++)
            if (!strcmp(key, keep_names[i]))
                break;
        if (i == JOB_KEEP_FIELDS)
            return api_error(r, ERR_INVALID, "retention",
                             "retention has no field '%.32s'", key);
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > JOB_KEEP_MAX)
            return api_error(r, ERR_INVALID, "retention",
                             "retention.%s must be an integer from 0 to %d",
                             keep_names[i], JOB_KEEP_MAX);
        *job_keep(j, i) = (int)json_integer_value(v);
    }
    return 0;
}

/* Every field of body into j (absent ones keep j's values), validated;
 * an error is written to r naming the field. */
static int job_from_body(struct app *app, struct resp *r, json_t *body,
                         int create, struct db_backup_job *j)
{
    struct db_backup_repo repo;
    const char *s, *field;
    int64_t v, times[1];
    char msg[160];
    size_t n;
    int rc, b;

    if ((rc = api_get_str(r, body, "name", create, 1, 64, &s)) < 0)
        return rc;
    if (rc == 1) {
        if ((rc = api_check_name(r, "name", s)))
            return rc;
        xstrlcpy(j->name, s, sizeof(j->name));
    }
    if ((rc = api_get_str(r, body, "repository", create, 36, 36, &s)) < 0)
        return rc;
    if (rc == 1) {
        if (!uuid_valid(s) || db_backup_repo_get(app->db, s, &repo))
            return api_error(r, ERR_INVALID, "repository",
                             "no backup repository %s", s);
        xstrlcpy(j->repo_id, s, sizeof(j->repo_id));
    }
    if ((rc = api_get_str(r, body, "schedule", 0, 0, 127, &s)) < 0)
        return rc;
    if (rc == 1)
        xstrlcpy(j->schedule, s, sizeof(j->schedule));
    if ((rc = api_get_str(r, body, "timezone", 0, 1, 127, &s)) < 0)
        return rc;
    if (rc == 1)
        xstrlcpy(j->timezone, s, sizeof(j->timezone));
    if (backup_schedule_next(j->schedule, j->timezone, 0, times, 0, &n, &field,
                             msg, sizeof(msg)))
        return api_error(r, ERR_INVALID, field, "%s", msg);
    if ((rc = api_get_int(r, body, "concurrency", 0, 1, 8, &v)) < 0)
        return rc;
    if (rc == 1)
        j->concurrency = (int)v;
    if ((rc = api_get_bool(r, body, "enabled", 0, &b)) < 0)
        return rc;
    if (rc == 1)
        j->enabled = b;
    if ((rc = job_get_vms(app, r, body, j)) || (rc = job_get_tags(r, body, j)))
        return rc;
    return job_get_retention(r, body, j);
}

static const char *const job_fields[] = {
    "name",     "repository", "vms",     "tags",        "schedule",
    "timezone", "retention",  "enabled", "concurrency", NULL,
};

/* The write's error as a response. */
static int job_write_error(struct resp *r, int rc, const char *name)
{
    if (rc == ERR_EXISTS)
        return api_error(r, rc, "name", "a backup job named '%s' exists", name);
    if (rc == ERR_CONFLICT) /* a VM or the repository went meanwhile */
        return api_error(r, rc, NULL,
                         "a VM or the repository of the job is gone");
    return api_error(r, rc, NULL, "cannot record the backup job: %s",
                     err_str(rc));
}

/* ---- handlers ---- */

int api_backup_jobs_list(struct app *app, struct req *q, struct resp *r)
{
    struct db_backup_job *list = NULL;
    size_t num = 0, i;
    json_t *arr;
    int rc;

    (void)q;
    rc = db_backup_job_list(app->db, &list, &num);
    if (rc)
        return api_error(r, rc, NULL, "cannot list backup jobs: %s",
                         err_str(rc));
    arr = json_array();
    for (i = 0; i < num; i++) {
        json_array_append_new(arr, job_to_json(app, &list[i]));
        db_backup_job_release(&list[i]);
    }
    free(list);
    return api_json(r, 200, arr);
}

int api_backup_jobs_create(struct app *app, struct req *q, struct resp *r)
{
    struct db_backup_job j;
    json_t *body = NULL;
    int rc;

    memset(&j, 0, sizeof(j));
    settings_timezone(app->db, j.timezone, sizeof(j.timezone));
    j.concurrency = 1;
    j.enabled = 1;
    rc = api_body(q, r, job_fields, &body);
    if (rc)
        goto out;
    rc = job_from_body(app, r, body, 1, &j);
    if (rc)
        goto out;
    uuid_generate(j.id);
    j.created_at = j.updated_at = time_now();
    j.last_due = backup_sched_now(app);
    rc = db_backup_job_insert(app->db, &j);
    if (rc) {
        rc = job_write_error(r, rc, j.name);
        goto out;
    }
    log_info("backup job %s (%s) created", j.id, j.name);
    xstrlcpy(r->audit_target, j.id, sizeof(r->audit_target));
    backup_sched_kick(app);
    backup_event(app, "job", "created", j.id);
    rc = api_json(r, 201, job_to_json(app, &j));
out:
    json_decref(body);
    db_backup_job_release(&j);
    return rc;
}

/* The job of path parameter 0 into out, or an error written to r. */
static int job_load(struct app *app, const struct req *q, struct resp *r,
                    struct db_backup_job *out)
{
    const char *id;
    int rc = api_param_uuid(q, r, 0, &id);

    if (rc)
        return rc;
    rc = db_backup_job_get(app->db, id, out);
    if (rc)
        return api_error(r, rc, NULL, "backup job %s: %s", id, err_str(rc));
    return 0;
}

int api_backup_job_get(struct app *app, struct req *q, struct resp *r)
{
    struct db_backup_job j;
    int rc = job_load(app, q, r, &j);

    if (rc)
        return rc;
    rc = api_json(r, 200, job_to_json(app, &j));
    db_backup_job_release(&j);
    return rc;
}

int api_backup_job_patch(struct app *app, struct req *q, struct resp *r)
{
    struct db_backup_job j;
    char schedule[128], timezone[128];
    json_t *body = NULL;
    int rc, enabled;

    rc = job_load(app, q, r, &j);
    if (rc)
        return rc;
    memcpy(schedule, j.schedule, sizeof(schedule));
    memcpy(timezone, j.timezone, sizeof(timezone));
    enabled = j.enabled;
    rc = api_body(q, r, job_fields, &body);
    if (rc)
        goto out;
    rc = job_from_body(app, r, body, 0, &j);
    if (rc)
        goto out;
    /* A new schedule counts from now: no catch-up of its past. */
    if (strcmp(schedule, j.schedule) || strcmp(timezone, j.timezone) ||
        enabled != j.enabled)
        j.last_due = backup_sched_now(app);
    j.updated_at = time_now();
    rc = db_backup_job_update(app->db, &j);
    if (rc) {
        rc = job_write_error(r, rc, j.name);
        goto out;
    }
    log_info("backup job %s (%s) changed", j.id, j.name);
    xstrlcpy(r->audit_target, j.id, sizeof(r->audit_target));
    backup_sched_kick(app);
    backup_event(app, "job", "updated", j.id);
    rc = api_json(r, 200, job_to_json(app, &j));
out:
    json_decref(body);
    db_backup_job_release(&j);
    return rc;
}

int api_backup_job_delete(struct app *app, struct req *q, struct resp *r)
{
    const char *id;
    int rc = api_param_uuid(q, r, 0, &id);

    if (rc)
        return rc;
    rc = db_backup_job_delete(app->db, id);
    if (rc == ERR_CONFLICT)
        return api_error(r, rc, NULL, "backup job %s is running", id);
    if (rc)
        return api_error(r, rc, NULL, "backup job %s: %s", id, err_str(rc));
    log_info("backup job %s deleted", id);
    xstrlcpy(r->audit_target, id, sizeof(r->audit_target));
    backup_bases_sweep(app); /* its kept clones */
    backup_sched_kick(app);
    backup_event(app, "job", "deleted", id);
    r->status = 204;
    return 0;
}

int api_backup_job_run(struct app *app, struct req *q, struct resp *r)
{
    char task_id[37];
    const char *id;
    int rc = api_param_uuid(q, r, 0, &id);

    if (rc)
        return rc;
    rc = backup_run_start(app, id, "manual", q->who.username, task_id);
    if (rc == ERR_CONFLICT)
        return api_error(r, rc, NULL,
                         "a run of backup job %s is already running", id);
    if (rc)
        return api_error(r, rc, NULL, "backup job %s: %s", id, err_str(rc));
    xstrlcpy(r->audit_target, id, sizeof(r->audit_target));
    return api_task_accepted(app, r, task_id);
}

int api_backup_job_runs(struct app *app, struct req *q, struct resp *r)
{
    struct db_backup_run *runs = NULL;
    struct db_backup_job j;
    size_t num = 0, i;
    json_t *arr;
    int rc = job_load(app, q, r, &j);

    if (rc)
        return rc;
    rc = db_backup_run_list(app->db, j.id, JOB_RUNS_LIMIT, &runs, &num);
    db_backup_job_release(&j);
    if (rc)
        return api_error(r, rc, NULL, "cannot list runs: %s", err_str(rc));
    arr = json_array();
    for (i = 0; i < num; i++) {
        json_array_append_new(arr, run_to_json(&runs[i]));
        db_backup_run_release(&runs[i]);
    }
    free(runs);
    return api_json(r, 200, arr);
}

int api_backup_schedule_preview(struct app *app, struct req *q, struct resp *r)
{
    char schedule[128], timezone[128], msg[160];
    int64_t times[JOB_NEXT_RUNS];
    const char *field;
    json_t *next;
    size_t n = 0, i;
    int rc;

    rc = req_query(q, "schedule", schedule, sizeof(schedule));
    if (rc || !schedule[0])
        return api_error(r, ERR_INVALID, "schedule",
                         rc == ERR_INVALID ? "schedule is too long"
                                           : "schedule is required");
    rc = req_query(q, "timezone", timezone, sizeof(timezone));
    if (rc == ERR_INVALID)
        return api_error(r, rc, "timezone", "timezone is too long");
    if (rc)
        settings_timezone(app->db, timezone, sizeof(timezone));
    if (backup_schedule_next(schedule, timezone, backup_sched_now(app), times,
                             JOB_NEXT_RUNS, &n, &field, msg, sizeof(msg)))
        return api_error(r, ERR_INVALID, field, "%s", msg);
    next = json_array();
    for (i = 0; i < n; i++)
        json_array_append_new(next, api_time(times[i]));
    return api_json(r, 200, json_pack("{s:o}", "next_runs", next));
}
