/* backup_sched.h: the backup job scheduler, one thread of the daemon.
 *
 * It sleeps on a condition variable until the earliest next run of an
 * enabled job with a schedule (or until woken by backup_sched_kick
 * after a job change, or by stop), starts due jobs with trigger
 * "schedule", and at start-up starts once, with trigger "catch-up", a
 * job whose scheduled time passed while the daemon was down. A job whose
 * previous run still runs skips that occurrence. backup_jobs.last_due
 * remembers the last scheduled time handled. When the events bus says a
 * VM or disk was deleted, its kept clones are removed (backup_run.h).
 *
 * Its clock is the system's plus the hidden option test-clock-offset
 * (seconds), so tests can put "now" just before a scheduled minute or
 * after a missed one. Thread safe.
 */
#ifndef XENITH_SERVER_CORE_BACKUP_SCHED_H
#define XENITH_SERVER_CORE_BACKUP_SCHED_H

#include <stddef.h>
#include <stdint.h>

struct app;

/* Mark runs left running interrupted, sweep unused kept clones, and
 * start the thread (after tasks_start). */
int backup_sched_start(struct app *app);

/* Stop and join the thread (before tasks_stop). NULL-safe. */
void backup_sched_stop(struct app *app);

/* A job was created, changed or deleted: recompute the next wake-up. */
void backup_sched_kick(struct app *app);

/* The scheduler's clock (epoch seconds). */
int64_t backup_sched_now(const struct app *app);

/* The first max runs of schedule in zone timezone strictly after
 * `after` into out[] (*num_out may be less when the schedule ends,
 * e.g. 31 February; 0 for schedule ""). ERR_INVALID with *field_out
 * "schedule" or "timezone" and msg[cap] saying what is wrong. */
int backup_schedule_next(const char *schedule, const char *timezone,
                         int64_t after, int64_t *out, size_t max,
                         size_t *num_out, const char **field_out, char *msg,
                         size_t cap);

#endif
