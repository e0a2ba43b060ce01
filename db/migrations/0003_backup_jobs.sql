-- 0003: backup jobs (issue 4): what to back up where and when, each run
-- with its per-VM results, and the SR clone kept per job and disk as the
-- next run's change-map base.
CREATE TABLE backup_jobs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    repo_id TEXT NOT NULL REFERENCES backup_repos (id) ON DELETE RESTRICT,
    schedule TEXT NOT NULL DEFAULT '',  -- 5-field cron, '' = manual only
    timezone TEXT NOT NULL DEFAULT 'UTC',
    keep_last INTEGER NOT NULL DEFAULT 0 CHECK (keep_last >= 0),
    keep_hourly INTEGER NOT NULL DEFAULT 0 CHECK (keep_hourly >= 0),
    keep_daily INTEGER NOT NULL DEFAULT 0 CHECK (keep_daily >= 0),
    keep_weekly INTEGER NOT NULL DEFAULT 0 CHECK (keep_weekly >= 0),
    keep_monthly INTEGER NOT NULL DEFAULT 0 CHECK (keep_monthly >= 0),
    keep_yearly INTEGER NOT NULL DEFAULT 0 CHECK (keep_yearly >= 0),
    concurrency INTEGER NOT NULL DEFAULT 1 CHECK (concurrency BETWEEN 1 AND 8),
    enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    last_due INTEGER,                   -- the last scheduled time handled
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX backup_jobs_repo ON backup_jobs (repo_id);

CREATE TABLE backup_job_vms (
    job_id TEXT NOT NULL REFERENCES backup_jobs (id) ON DELETE CASCADE,
    vm_id TEXT NOT NULL REFERENCES vms (id) ON DELETE CASCADE,
    PRIMARY KEY (job_id, vm_id)
);
CREATE INDEX backup_job_vms_vm ON backup_job_vms (vm_id);

CREATE TABLE backup_job_tags (
    job_id TEXT NOT NULL REFERENCES backup_jobs (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (job_id, tag)
);

CREATE TABLE backup_runs (
    id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL REFERENCES backup_jobs (id) ON DELETE CASCADE,
    task_id TEXT NOT NULL,
    trigger TEXT NOT NULL CHECK (trigger IN ('manual', 'schedule',
        'catch-up')),
    status TEXT NOT NULL CHECK (status IN ('running', 'success', 'failure',
        'cancelled', 'interrupted')),
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    error TEXT
);
CREATE INDEX backup_runs_job ON backup_runs (job_id, started_at);
-- Never two runs of one job at once.
CREATE UNIQUE INDEX backup_runs_one_running ON backup_runs (job_id)
    WHERE status = 'running';

-- No foreign key to vms: the history outlives a deleted VM.
CREATE TABLE backup_run_vms (
    run_id TEXT NOT NULL REFERENCES backup_runs (id) ON DELETE CASCADE,
    vm_id TEXT NOT NULL,
    vm_name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'success',
        'failure', 'cancelled', 'interrupted')),
    snapshot_id TEXT,
    bytes_read INTEGER NOT NULL DEFAULT 0,
    stored_bytes INTEGER NOT NULL DEFAULT 0,
    used_changemap INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    PRIMARY KEY (run_id, vm_id)
);

-- The clone of a disk kept after a job's successful backup of it: the
-- next run's FIEMAP change-map base. Rows go with their job, VM or disk
-- (cascade); the files of rows gone are swept by the scheduler.
CREATE TABLE backup_bases (
    job_id TEXT NOT NULL REFERENCES backup_jobs (id) ON DELETE CASCADE,
    disk_id TEXT NOT NULL REFERENCES disks (id) ON DELETE CASCADE,
    vm_id TEXT NOT NULL REFERENCES vms (id) ON DELETE CASCADE,
    sr_id TEXT NOT NULL,
    file TEXT NOT NULL,                 -- image file name inside the SR
    snapshot_id TEXT NOT NULL,          -- the backup it is the state of
    created_at INTEGER NOT NULL,
    PRIMARY KEY (job_id, disk_id)
);
CREATE INDEX backup_bases_vm ON backup_bases (vm_id);
CREATE INDEX backup_bases_disk ON backup_bases (disk_id);
