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

CREATE TABLE networks (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    bridge TEXT NOT NULL UNIQUE,
    mtu INTEGER NOT NULL DEFAULT 1500 CHECK (mtu BETWEEN 68 AND 65535),
    created_at INTEGER NOT NULL
);

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

-- Failed log-ins counted per username ('u:NAME') and per source address
-- ('a:ADDR') in a window from the first failure (server/core/auth_limit.h),
-- kept here so that restarting the daemon does not reset the rate limit.
CREATE TABLE login_failures (
    key TEXT PRIMARY KEY,
    window_start INTEGER NOT NULL, -- epoch seconds of the first failure
    failures INTEGER NOT NULL
) WITHOUT ROWID;
