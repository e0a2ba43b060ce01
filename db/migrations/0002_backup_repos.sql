-- 0002: backup repositories (issue 4): a chunk store directory known to
-- the daemon. The passphrase of an encrypted one is kept sealed
-- (common/seal.c: AES-256-GCM under DATA/secret.key, hex text).
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

-- Byte progress of long tasks (backups, restores, verify): NULL when a
-- task reports none. eta_s NULL also when unknown.
ALTER TABLE tasks ADD COLUMN bytes_done INTEGER;
ALTER TABLE tasks ADD COLUMN bytes_total INTEGER;
ALTER TABLE tasks ADD COLUMN rate_bps INTEGER;
ALTER TABLE tasks ADD COLUMN eta_s INTEGER;
