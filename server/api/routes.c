/* routes.c: every route of the REST API v1, on one screen (tmux's
 * cmd_table[], git's commands[]). Roles are enforced by the router from
 * min_role; docs/openapi.json documents exactly these (a test checks).
 */
#include "server/api/router.h"

#include "server/api/api.h"

#define V1   "/api/v1"
#define PUB  ROLE_NONE
#define VIEW ROLE_VIEWER
#define OPER ROLE_OPERATOR
#define ADM  ROLE_ADMIN

const struct route api_routes[] = {
    /* method, pattern, handler, role, flags, summary */
    { "GET", V1 "/health", api_health, PUB, 0, "Liveness, version, driver" },
    { "GET", V1 "/openapi.json", api_openapi, VIEW, 0,
      "This API as OpenAPI 3" },

    { "POST", V1 "/session", api_session_create, PUB,
      ROUTE_PUBLIC_CSRF | ROUTE_NOAUDIT | ROUTE_PWCHANGE,
      "Log in (sets the session cookie)" },
    { "GET", V1 "/session", api_session_get, VIEW, ROUTE_PWCHANGE,
      "The current session" },
    { "DELETE", V1 "/session", api_session_delete, VIEW, ROUTE_PWCHANGE,
      "Log out" },

    { "GET", V1 "/host", api_host_get, VIEW, 0, "This host" },
    { "GET", V1 "/pool", api_pool_get, VIEW, 0, "The pool of this host" },
    { "PATCH", V1 "/pool", api_pool_patch, ADM, 0, "Change the pool" },

    { "GET", V1 "/vms", api_vms_list, VIEW, 0, "List VMs" },
    { "POST", V1 "/vms", api_vms_create, OPER, 0, "Create a VM" },
    { "GET", V1 "/vms/{id}", api_vm_get, VIEW, 0, "One VM" },
    { "PATCH", V1 "/vms/{id}", api_vm_patch, OPER, 0, "Change a VM" },
    { "DELETE", V1 "/vms/{id}", api_vm_delete, OPER, 0, "Delete a halted VM" },
    { "POST", V1 "/vms/{id}/start", api_vm_start, OPER, 0, "Start" },
    { "POST", V1 "/vms/{id}/shutdown", api_vm_shutdown, OPER, 0,
      "Clean shutdown" },
    { "POST", V1 "/vms/{id}/reboot", api_vm_reboot, OPER, 0, "Clean reboot" },
    { "POST", V1 "/vms/{id}/pause", api_vm_pause, OPER, 0, "Pause" },
    { "POST", V1 "/vms/{id}/resume", api_vm_resume, OPER, 0,
      "Resume a paused or suspended VM" },
    { "POST", V1 "/vms/{id}/suspend", api_vm_suspend, OPER, 0,
      "Suspend to a file in the SR" },
    { "POST", V1 "/vms/{id}/destroy", api_vm_destroy, OPER, 0,
      "Hard power-off" },
    { "GET", V1 "/vms/{id}/stats", api_vm_stats, VIEW, 0, "Live stats" },
    { "GET", V1 "/vms/{id}/snapshots", api_vm_snapshots_list, VIEW, 0,
      "List snapshots" },
    { "POST", V1 "/vms/{id}/snapshots", api_vm_snapshot_create, OPER, 0,
      "Take a snapshot" },
    { "POST", V1 "/vms/{id}/snapshots/{sid}/revert", api_vm_snapshot_revert,
      OPER, 0, "Revert to a snapshot" },
    { "DELETE", V1 "/vms/{id}/snapshots/{sid}", api_vm_snapshot_delete, OPER, 0,
      "Delete a snapshot" },
    { "GET", V1 "/vms/{id}/console", api_vm_console, OPER, ROUTE_WEBSOCKET,
      "Text console (WebSocket)" },
    { "GET", V1 "/vms/{id}/vnc", api_vm_vnc, OPER, ROUTE_WEBSOCKET,
      "Graphical console, RFB (WebSocket)" },

    { "GET", V1 "/srs", api_srs_list, VIEW, 0, "List storage repositories" },
    { "POST", V1 "/srs", api_srs_create, ADM, 0, "Create an SR" },
    { "GET", V1 "/srs/{id}", api_sr_get, VIEW, 0, "One SR" },
    { "DELETE", V1 "/srs/{id}", api_sr_delete, ADM, 0, "Forget an empty SR" },

    { "GET", V1 "/disks", api_disks_list, VIEW, 0, "List disks" },
    { "POST", V1 "/disks", api_disks_create, OPER, 0, "Create a disk" },
    { "GET", V1 "/disks/{id}", api_disk_get, VIEW, 0, "One disk" },
    { "PATCH", V1 "/disks/{id}", api_disk_patch, OPER, 0,
      "Rename or grow a disk" },
    { "DELETE", V1 "/disks/{id}", api_disk_delete, OPER, 0,
      "Delete a detached disk" },
    { "POST", V1 "/disks/{id}/import", api_disk_import, OPER, ROUTE_UPLOAD,
      "Upload a raw image" },
    { "GET", V1 "/disks/{id}/export", api_disk_export, OPER, 0,
      "Download the raw image" },

    { "GET", V1 "/networks", api_networks_list, VIEW, 0, "List networks" },
    { "POST", V1 "/networks", api_networks_create, ADM, 0, "Create a network" },
    { "GET", V1 "/networks/{id}", api_network_get, VIEW, 0, "One network" },
    { "DELETE", V1 "/networks/{id}", api_network_delete, ADM, 0,
      "Delete an unused network" },

    { "GET", V1 "/backup/repositories", api_backup_repos_list, VIEW, 0,
      "List backup repositories" },
    { "POST", V1 "/backup/repositories", api_backup_repos_create, ADM, 0,
      "Create or attach a backup repository" },
    { "GET", V1 "/backup/repositories/{id}", api_backup_repo_get, VIEW, 0,
      "One backup repository" },
    { "PATCH", V1 "/backup/repositories/{id}", api_backup_repo_patch, ADM, 0,
      "Rename a backup repository or store its new passphrase" },
    { "DELETE", V1 "/backup/repositories/{id}", api_backup_repo_delete, ADM, 0,
      "Forget a backup repository (its data stays)" },
    { "POST", V1 "/backup/repositories/{id}/verify", api_backup_repo_verify,
      ADM, 0, "Verify a backup repository (task)" },
    { "POST", V1 "/backup/repositories/{id}/prune", api_backup_repo_prune, ADM,
      0, "Apply a retention to a backup repository (task)" },
    { "POST", V1 "/backup/repositories/{id}/gc", api_backup_repo_gc, ADM, 0,
      "Remove unreferenced chunks (task)" },
    { "POST", V1 "/backup/repositories/{id}/unlock", api_backup_repo_unlock,
      ADM, 0, "Remove stale locks, or those of a host named dead (task)" },
    { "GET", V1 "/backup/snapshots", api_backup_snapshots_list, VIEW, 0,
      "List backup snapshots, newest first" },
    { "POST", V1 "/backup/snapshots/{id}/restore", api_backup_snapshot_restore,
      OPER, 0, "Restore a backup snapshot (task)" },

    { "GET", V1 "/tasks", api_tasks_list, VIEW, 0, "List recent tasks" },
    { "GET", V1 "/tasks/{id}", api_task_get, VIEW, 0, "One task" },
    { "POST", V1 "/tasks/{id}/cancel", api_task_cancel, OPER, 0,
      "Cancel a task" },

    { "GET", V1 "/backup/jobs", api_backup_jobs_list, VIEW, 0,
      "List backup jobs" },
    { "POST", V1 "/backup/jobs", api_backup_jobs_create, ADM, 0,
      "Create a backup job" },
    { "GET", V1 "/backup/jobs/{id}", api_backup_job_get, VIEW, 0,
      "One backup job" },
    { "PATCH", V1 "/backup/jobs/{id}", api_backup_job_patch, ADM, 0,
      "Change a backup job" },
    { "DELETE", V1 "/backup/jobs/{id}", api_backup_job_delete, ADM, 0,
      "Delete a backup job that is not running" },
    { "POST", V1 "/backup/jobs/{id}/run", api_backup_job_run, OPER, 0,
      "Run a backup job now" },
    { "GET", V1 "/backup/jobs/{id}/runs", api_backup_job_runs, VIEW, 0,
      "A backup job's runs, newest first" },
    { "GET", V1 "/backup/schedule/preview", api_backup_schedule_preview, VIEW,
      0, "The next runs of a cron schedule" },

    { "GET", V1 "/users", api_users_list, ADM, 0, "List users" },
    { "POST", V1 "/users", api_users_create, ADM, 0, "Create a user" },
    { "GET", V1 "/users/{id}", api_user_get, ADM, 0, "One user" },
    { "PATCH", V1 "/users/{id}", api_user_patch, ADM, 0, "Change a user" },
    { "DELETE", V1 "/users/{id}", api_user_delete, ADM, 0, "Delete a user" },
    { "POST", V1 "/users/{id}/password", api_user_password, VIEW,
      ROUTE_PWCHANGE,
      "Set a password (own: needs the current one; admin: any user)" },

    { "GET", V1 "/tokens", api_tokens_list, VIEW, 0, "List own API tokens" },
    { "POST", V1 "/tokens", api_tokens_create, VIEW, 0, "Create an API token" },
    { "DELETE", V1 "/tokens/{id}", api_token_delete, VIEW, 0,
      "Revoke an own API token" },

    { "GET", V1 "/audit", api_audit_list, ADM, 0, "The audit log" },
    { "GET", V1 "/audit/verify", api_audit_verify, ADM, 0,
      "Check the audit hash chain" },

    { "GET", V1 "/settings", api_settings_get, VIEW, 0,
      "Host settings: time zone, TLS certificate" },
    { "PATCH", V1 "/settings", api_settings_patch, ADM, 0,
      "Change the time zone" },
    { "PUT", V1 "/settings/tls", api_settings_tls_put, ADM, 0,
      "Replace the TLS certificate and key (served at once)" },

    { "GET", V1 "/metrics", api_metrics, VIEW, 0, "Prometheus metrics" },
    { "GET", V1 "/events", api_events, VIEW, ROUTE_WEBSOCKET,
      "Live events (WebSocket)" },
    { "GET", V1 "/echo", api_echo, VIEW, ROUTE_WEBSOCKET,
      "Echo (WebSocket, for benchmarks and diagnostics)" },
};

const size_t api_num_routes = sizeof(api_routes) / sizeof(api_routes[0]);
