-- schema.sql: the current schema, readable in one place. Every change goes
-- into a new db/migrations/NNNN_what.sql too; tests/unit/db checks that
-- the migrations, applied in order to an empty database, give exactly this.
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    pw_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    must_change_password INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,             -- SHA-256 hex of the cookie secret
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    secret_hash TEXT NOT NULL UNIQUE, -- SHA-256 hex of the secret
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    last_used INTEGER
);
CREATE INDEX tokens_user ON tokens (user_id);

CREATE TABLE audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ts INTEGER NOT NULL,
    username TEXT NOT NULL,
    source TEXT NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    target TEXT NOT NULL,
    status INTEGER NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

CREATE TABLE srs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL CHECK (type IN ('file')),
    path TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE pool (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    default_sr TEXT REFERENCES srs (id) ON DELETE SET NULL
);

CREATE TABLE disks (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    sr_id TEXT NOT NULL REFERENCES srs (id) ON DELETE RESTRICT,
    file TEXT NOT NULL,              -- image file name inside the SR
    size_bytes INTEGER NOT NULL CHECK (size_bytes > 0),
    format TEXT NOT NULL DEFAULT 'raw' CHECK (format IN ('raw')),
    snapshot_of TEXT REFERENCES disks (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (sr_id, file)
);

-- bridge_owned (0004, hence its place): xenith created the bridge and
-- may delete it; 0 for a bridge it adopted.
CREATE TABLE networks (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    bridge TEXT NOT NULL UNIQUE,
    mtu INTEGER NOT NULL DEFAULT 1500 CHECK (mtu BETWEEN 68 AND 65535),
    created_at INTEGER NOT NULL
, bridge_owned INTEGER NOT NULL DEFAULT 0
    CHECK (bridge_owned IN (0, 1)));

CREATE TABLE vms (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'halted'
        CHECK (state IN ('halted', 'running', 'paused', 'suspended')),
    vcpus INTEGER NOT NULL CHECK (vcpus BETWEEN 1 AND 128),
    memory_mib INTEGER NOT NULL CHECK (memory_mib >= 16),
    boot TEXT NOT NULL,              -- JSON object, see the API
    tags TEXT NOT NULL DEFAULT '[]', -- JSON array of strings
    suspend_file TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE vm_disks (
    vm_id TEXT NOT NULL REFERENCES vms (id) ON DELETE CASCADE,
    device TEXT NOT NULL,
    disk_id TEXT NOT NULL REFERENCES disks (id) ON DELETE RESTRICT,
    mode TEXT NOT NULL DEFAULT 'rw' CHECK (mode IN ('rw', 'ro')),
    PRIMARY KEY (vm_id, device)
);
CREATE INDEX vm_disks_disk ON vm_disks (disk_id);

CREATE TABLE vm_nics (
    vm_id TEXT NOT NULL REFERENCES vms (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    network_id TEXT NOT NULL REFERENCES networks (id) ON DELETE RESTRICT,
    mac TEXT NOT NULL UNIQUE,
    PRIMARY KEY (vm_id, idx)
);
CREATE INDEX vm_nics_network ON vm_nics (network_id);

CREATE TABLE vm_snapshots (
    id TEXT PRIMARY KEY,
    vm_id TEXT NOT NULL REFERENCES vms (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    config TEXT NOT NULL,            -- JSON: the VM record when taken
    created_at INTEGER NOT NULL
);
CREATE INDEX vm_snapshots_vm ON vm_snapshots (vm_id);

CREATE TABLE vm_snapshot_disks (
    snapshot_id TEXT NOT NULL REFERENCES vm_snapshots (id) ON DELETE CASCADE,
    device TEXT NOT NULL,
    disk_id TEXT NOT NULL REFERENCES disks (id) ON DELETE RESTRICT,
    PRIMARY KEY (snapshot_id, device)
);

-- The last line's columns were added by 0002 (where ALTER TABLE puts
-- them): byte progress, NULL when the task reports none (eta_s also when
-- the time left is unknown).
CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    target_type TEXT NOT NULL DEFAULT '',
    target_id TEXT NOT NULL DEFAULT '',
    username TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'success',
        'failure', 'cancelled', 'interrupted')),
    progress REAL NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    result TEXT,                     -- JSON
    error TEXT                       -- JSON {"code","message"}
, bytes_done INTEGER, bytes_total INTEGER, rate_bps INTEGER, eta_s INTEGER);
CREATE INDEX tasks_created ON tasks (created_at);

CREATE TABLE backup_repos (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL UNIQUE,
    encrypted INTEGER NOT NULL DEFAULT 0 CHECK (encrypted IN (0, 1)),
    passphrase_sealed TEXT,          -- NULL for a plain repository
    compression_level INTEGER NOT NULL DEFAULT 1
        CHECK (compression_level BETWEEN 0 AND 19),
    created_at INTEGER NOT NULL
);

-- Backup jobs (0003): what to back up where and when, each run with its
-- per-VM results, and the SR clone kept per job and disk as the next
-- run's change-map base.
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
-- read_note (0006, hence its place): how the VM's data was read (the
-- change map, or why all of it was read); NULL when the backup failed.
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
    error TEXT, read_note TEXT,
    PRIMARY KEY (run_id, vm_id)
);

-- The clone of a disk kept after a job's successful backup of it: the
-- next run's FIEMAP change-map base. Rows go with their job, VM or disk
-- (cascade); the files of rows gone are swept by the scheduler.
CREATE TABLE backup_bases (
    job_id TEXT NOT NULL REFERENCES backup_jobs (id) ON DELETE CASCADE,
    disk_id TEXT NOT NULL REFERENCES disks (id) ON DELETE CASCADE,
    vm_id TEXT NOT NULL REFERENCES vms (id) ON DELETE CASCADE,
    device TEXT NOT NULL,               -- where the disk was ("xvda")
    sr_id TEXT NOT NULL,
    file TEXT NOT NULL,                 -- image file name inside the SR
    snapshot_id TEXT NOT NULL,          -- the backup it is the state of
    created_at INTEGER NOT NULL,
    PRIMARY KEY (job_id, disk_id)
);
CREATE INDEX backup_bases_vm ON backup_bases (vm_id);
CREATE INDEX backup_bases_disk ON backup_bases (disk_id);

-- Failed log-ins counted per username ('u:NAME') and per source address
-- ('a:ADDR') in a window from the first failure (server/core/auth_limit.h),
-- kept here so that restarting the daemon does not reset the rate limit.
CREATE TABLE login_failures (
    key TEXT PRIMARY KEY,
    window_start INTEGER NOT NULL, -- epoch seconds of the first failure
    failures INTEGER NOT NULL
) WITHOUT ROWID;
