/* api.h: every handler named in routes.c (one file per resource:
 * api_<resource>.c). All have the api_handler signature of router.h. */
#ifndef XENITH_SERVER_API_API_H
#define XENITH_SERVER_API_API_H

#include "server/api/router.h"

int api_audit_list(struct app *app, struct req *q, struct resp *r);
int api_audit_verify(struct app *app, struct req *q, struct resp *r);
int api_backup_job_delete(struct app *app, struct req *q, struct resp *r);
int api_backup_job_get(struct app *app, struct req *q, struct resp *r);
int api_backup_job_patch(struct app *app, struct req *q, struct resp *r);
int api_backup_job_run(struct app *app, struct req *q, struct resp *r);
int api_backup_job_runs(struct app *app, struct req *q, struct resp *r);
int api_backup_jobs_create(struct app *app, struct req *q, struct resp *r);
int api_backup_jobs_list(struct app *app, struct req *q, struct resp *r);
int api_backup_schedule_preview(struct app *app, struct req *q, struct resp *r);
int api_backup_repo_delete(struct app *app, struct req *q, struct resp *r);
int api_backup_repo_gc(struct app *app, struct req *q, struct resp *r);
int api_backup_repo_unlock(struct app *app, struct req *q, struct resp *r);
int api_backup_repo_get(struct app *app, struct req *q, struct resp *r);
int api_backup_repo_patch(struct app *app, struct req *q, struct resp *r);
int api_backup_repo_prune(struct app *app, struct req *q, struct resp *r);
int api_backup_repo_verify(struct app *app, struct req *q, struct resp *r);
int api_backup_snapshot_restore(struct app *app, struct req *q, struct resp *r);
int api_backup_snapshots_list(struct app *app, struct req *q, struct resp *r);
int api_backup_repos_create(struct app *app, struct req *q, struct resp *r);
int api_backup_repos_list(struct app *app, struct req *q, struct resp *r);
int api_disk_delete(struct app *app, struct req *q, struct resp *r);
int api_disk_export(struct app *app, struct req *q, struct resp *r);
int api_disk_get(struct app *app, struct req *q, struct resp *r);
int api_disk_import(struct app *app, struct req *q, struct resp *r);
int api_disk_patch(struct app *app, struct req *q, struct resp *r);
int api_disks_create(struct app *app, struct req *q, struct resp *r);
int api_disks_list(struct app *app, struct req *q, struct resp *r);
int api_echo(struct app *app, struct req *q, struct resp *r);
int api_events(struct app *app, struct req *q, struct resp *r);
int api_health(struct app *app, struct req *q, struct resp *r);
int api_host_get(struct app *app, struct req *q, struct resp *r);
int api_metrics(struct app *app, struct req *q, struct resp *r);
int api_network_delete(struct app *app, struct req *q, struct resp *r);
int api_network_get(struct app *app, struct req *q, struct resp *r);
int api_networks_create(struct app *app, struct req *q, struct resp *r);
int api_networks_list(struct app *app, struct req *q, struct resp *r);
int api_openapi(struct app *app, struct req *q, struct resp *r);
int api_pool_get(struct app *app, struct req *q, struct resp *r);
int api_pool_patch(struct app *app, struct req *q, struct resp *r);
int api_session_create(struct app *app, struct req *q, struct resp *r);
int api_session_delete(struct app *app, struct req *q, struct resp *r);
int api_session_get(struct app *app, struct req *q, struct resp *r);
int api_sr_delete(struct app *app, struct req *q, struct resp *r);
int api_sr_get(struct app *app, struct req *q, struct resp *r);
int api_srs_create(struct app *app, struct req *q, struct resp *r);
int api_srs_list(struct app *app, struct req *q, struct resp *r);
int api_task_cancel(struct app *app, struct req *q, struct resp *r);
int api_task_get(struct app *app, struct req *q, struct resp *r);
int api_tasks_list(struct app *app, struct req *q, struct resp *r);
int api_token_delete(struct app *app, struct req *q, struct resp *r);
int api_tokens_create(struct app *app, struct req *q, struct resp *r);
int api_tokens_list(struct app *app, struct req *q, struct resp *r);
int api_user_delete(struct app *app, struct req *q, struct resp *r);
int api_user_get(struct app *app, struct req *q, struct resp *r);
int api_user_password(struct app *app, struct req *q, struct resp *r);
int api_user_patch(struct app *app, struct req *q, struct resp *r);
int api_users_create(struct app *app, struct req *q, struct resp *r);
int api_users_list(struct app *app, struct req *q, struct resp *r);
int api_vm_console(struct app *app, struct req *q, struct resp *r);
int api_vm_vnc(struct app *app, struct req *q, struct resp *r);
/* Before the front-end accepts the /vnc upgrade (after authorization):
 * 0 when the VM exists, is running or paused and boots HVM; else the
 * 400/404/409 written to r. Reads the database only. */
int api_vm_vnc_check(struct app *app, struct req *q, struct resp *r);
int api_vm_delete(struct app *app, struct req *q, struct resp *r);
int api_vm_destroy(struct app *app, struct req *q, struct resp *r);
int api_vm_get(struct app *app, struct req *q, struct resp *r);
int api_vm_patch(struct app *app, struct req *q, struct resp *r);
int api_vm_pause(struct app *app, struct req *q, struct resp *r);
int api_vm_reboot(struct app *app, struct req *q, struct resp *r);
int api_vm_resume(struct app *app, struct req *q, struct resp *r);
int api_vm_shutdown(struct app *app, struct req *q, struct resp *r);
int api_vm_snapshot_create(struct app *app, struct req *q, struct resp *r);
int api_vm_snapshot_delete(struct app *app, struct req *q, struct resp *r);
int api_vm_snapshot_revert(struct app *app, struct req *q, struct resp *r);
int api_vm_snapshots_list(struct app *app, struct req *q, struct resp *r);
int api_vm_start(struct app *app, struct req *q, struct resp *r);
int api_vm_stats(struct app *app, struct req *q, struct resp *r);
int api_vm_suspend(struct app *app, struct req *q, struct resp *r);
int api_settings_get(struct app *app, struct req *q, struct resp *r);
int api_settings_patch(struct app *app, struct req *q, struct resp *r);
int api_settings_tls_put(struct app *app, struct req *q, struct resp *r);
int api_vms_create(struct app *app, struct req *q, struct resp *r);
int api_vms_list(struct app *app, struct req *q, struct resp *r);

#endif
