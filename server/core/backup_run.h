/* backup_run.h: one run of a backup job, as a "backup.run" task.
 *
 * A run backs up each VM the job selects (its VM ids plus the VMs having
 * any of its tags), up to the job's concurrency at once: a
 * crash-consistent clone of every disk (vmclone.h: reflink where the SR
 * has it, the VM paused only around the clones), bk_backup of the clones
 * with the previous run's kept clone as the FIEMAP change-map base, then
 * the job's retention for that VM's snapshots (bk_prune_name). On a
 * reflink SR the new clones replace the kept ones (recorded in
 * backup_bases, files named "<uuid>.bkbase" in the disk's SR, so the SR
 * never lists them as images); elsewhere a clone is a full copy and is
 * dropped after the backup.
 *
 * The run's row mirrors its task: running, then success (every VM backed
 * up), failure (any VM failed), cancelled, or interrupted (daemon stop or
 * crash). Per-VM results are in backup_run_vms. Thread safe.
 */
#ifndef XENITH_SERVER_CORE_BACKUP_RUN_H
#define XENITH_SERVER_CORE_BACKUP_RUN_H

#include <jansson.h>

struct app;
struct db_backup_run_vm;

#define BACKUP_BASE_SUFFIX ".bkbase"

/* Start a run of job_id with trigger "manual", "schedule" or
 * "catch-up": its backup_runs row and its task. task_id_out[37] gets the
 * task id. ERR_NOTFOUND for an unknown job, ERR_CONFLICT when a run of
 * the job is running, ERR_BUSY when the daemon is stopping. */
int backup_run_start(struct app *app, const char *job_id, const char *trigger,
                     const char *username, char task_id_out[37]);

/* Start-up: runs left running by a crash or kill are marked interrupted
 * (with their unfinished VMs), and kept clones no backup_bases row names
 * any more (their job, VM or disk was deleted) are removed. */
int backup_run_recover(struct app *app);

/* One VM's result of a run as the API shows it (in the run and in the
 * run's task result): {vm, vm_name, status, snapshot, bytes_read,
 * stored_bytes, used_changemap, error}. **new** */
json_t *backup_run_vm_json(const struct db_backup_run_vm *v);

/* Remove "*.bkbase" files of every SR that no backup_bases row names. */
void backup_bases_sweep(struct app *app);

#endif
