/* bk.h: the public API of the backup engine (docs/backup-format.md).
 *
 * A repository is a directory of content-addressed chunks, per-disk
 * indexes and snapshot manifests. struct bk_repo is an opened repository;
 * every call on it is safe from one thread at a time (the long calls run
 * their own worker threads). Several processes may use one repository:
 * backups run side by side, prune and gc take locks/exclusive, gc is safe
 * while backups run.
 *
 * Long calls take a struct bk_progress (may be NULL): its callback is
 * called from the calling thread or a worker (never two at once), and its
 * cancel flag, when set, makes the call stop and answer ERR_CANCELLED
 * with the repository left valid.
 *
 * Errors are enum err (common/err.h); messages go to the log with the
 * chunk and snapshot concerned, and the first one of a failed call is
 * kept for bk_repo_error().
 */
#ifndef XENITH_BACKUP_BK_H
#define XENITH_BACKUP_BK_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define BK_ID_LEN       32 /* chunk ids are 32 bytes */
#define BK_ID_HEXLEN    65
#define BK_SNAPID_LEN   37 /* snapshot ids are UUIDs */
#define BK_FORMAT       2  /* newest format version: encrypted repos */
#define BK_FORMAT_PLAIN 1  /* plain repos stay version 1 */
#define BK_CHUNK_SIZE   (1024 * 1024)
#define BK_DEFAULT_ZSTD 1

struct bk_repo;

struct bk_progress {
    /* Called with bytes done and total for the current call; may be NULL. */
    void (*cb)(void *opaque, uint64_t done, uint64_t total);
    void *opaque;
    atomic_int *cancel; /* may be NULL; non-zero cancels */
};

struct bk_init_opts {
    int compression_level;  /* zstd level 1..19; 0 = stored uncompressed */
    const char *passphrase; /* NULL = plain repository */
    uint32_t chunk_size;    /* 0 = BK_CHUNK_SIZE; a power of two,
                             * 64 KiB..64 MiB (for benchmarks) */
};

/* Create a new repository in dir (created if missing, must be empty):
 * format BK_FORMAT when encrypted, BK_FORMAT_PLAIN otherwise.
 * 0, ERR_EXISTS when dir holds a repository, ERR_INVALID on bad options,
 * ERR_IO. */
int bk_repo_init(const char *dir, const struct bk_init_opts *opts);

/* Open the repository in dir. passphrase is needed for encrypted ones
 * (ERR_UNAUTH when missing or wrong): their manifests and indexes are
 * sealed too (format 2), so every reader needs it. *repo_out is **new**
 * on success; ERR_NOTFOUND when dir is not a repository,
 * ERR_UNSUPPORTED for a format version this code does not know (it
 * knows 1 and 2). */
int bk_repo_open(const char *dir, const char *passphrase,
                 struct bk_repo **repo_out);
void bk_repo_free(struct bk_repo *repo);

/* Why the last failed call on repo failed, in words for a user: the
 * operation, the object and the reason, e.g. "writing chunk <id> into
 * /srv/repo: No space left on device" or "repository /srv/repo is
 * locked by pid 42 on host h since 2026-11-22T07:00:00Z (gc)". "" when
 * that call recorded none (then err_str() of its code is all there is).
 * Never holds a secret. **borrowed**: read it after the call returned;
 * valid until the next call on repo. */
const char *bk_repo_error(const struct bk_repo *repo);

/* 1 when the repository at repo's directory is still the one repo was
 * opened on: the same directory (device, inode), and its config and key
 * file the same files (device, inode, size, mtime) holding the same
 * bytes the settings and keys came from; the directory is opened again
 * for use (after bk_repo_idle). 0 when anything changed or cannot be
 * read: free repo and open it again (it may need another passphrase
 * now). Cheap: a few stats and two small reads. For callers that keep a
 * repo open across calls: call it before each use. */
int bk_repo_current(struct bk_repo *repo);

/* A value that changes whenever what bk_repo_open(dir) reads changes:
 * the directory's identity and the identity and bytes of its config and
 * key file. 0 when dir cannot be opened. For callers that remember that
 * a passphrase did not open dir, so they need not derive its key again
 * while this stays the same. */
uint64_t bk_repo_ident(const char *dir);

/* Close repo's directory until the next bk_repo_current(), so a repo
 * kept between uses does not hold its file system busy (an NFS share
 * or a disk can still be unmounted). Only bk_repo_current() and
 * bk_repo_free() may follow. */
void bk_repo_idle(struct bk_repo *repo);

/* A value that changes whenever bk_stats() may answer differently for
 * the same opened repository: it mixes the identity and mtime of
 * snapshots/, chunks/ and every chunks/xx/ (a snapshot or chunk added
 * or removed changes one). *racy_out is 1 when one of them changed in
 * the last 2 s, when a further change could keep its mtime on a coarse
 * clock: do not reuse stats by this stamp then. About 260 stats. */
uint64_t bk_repo_stamp(const struct bk_repo *repo, int *racy_out);

/* Worker threads used by long calls (default: online CPUs). */
void bk_repo_set_threads(struct bk_repo *repo, int n);

int bk_repo_encrypted(const struct bk_repo *repo);

struct bk_disk_src {
    const char *name;          /* e.g. "xvda" */
    const char *path;          /* image file or block device to read */
    const char *changed_since; /* the parent's reflink clone, or NULL */
};

struct bk_backup_opts {
    const char *name;      /* snapshot name (VM name); required */
    const char *parent;    /* parent snapshot id, "" = none, NULL = the
                            * newest snapshot of the same name */
    const char *job;       /* job id or NULL */
    const char *vm_config; /* JSON object text or NULL */
    int protect;           /* never pruned */
};

struct bk_backup_result {
    char snapshot_id[BK_SNAPID_LEN];
    uint64_t logical_bytes; /* sum of disk sizes */
    uint64_t bytes_read;    /* bytes actually read from the sources */
    uint64_t chunks_total;
    uint64_t chunks_zero;
    uint64_t chunks_new;   /* written by this backup */
    uint64_t stored_bytes; /* bytes of new chunk files */
    int used_changemap;    /* 1 when a FIEMAP change map was used */
    /* Chunks left by backups that did not finish, checked before this
     * one trusted them, and the damaged ones removed (bk_backup()). */
    uint64_t interrupted_checked;
    uint64_t interrupted_removed;
};

/* Back up disks[num_disks] into a new snapshot. Chunks go first, then the
 * indexes, then the manifest: a crash leaves no partial snapshot, and the
 * next run reuses what was written. A run that finds the lock of a backup
 * that did not finish first checks the chunks that one may have written
 * and removes the damaged ones (a power loss). result_out may be NULL. */
int bk_backup(struct bk_repo *repo, const struct bk_backup_opts *opts,
              const struct bk_disk_src *disks, size_t num_disks,
              const struct bk_progress *prog,
              struct bk_backup_result *result_out);

struct bk_snapshot_info {
    char id[BK_SNAPID_LEN];
    char name[128];
    char parent[BK_SNAPID_LEN]; /* "" when none */
    int64_t time;               /* epoch seconds */
    int64_t time_ms;            /* epoch milliseconds, orders snapshots */
    int protected_;
    uint64_t size; /* sum of disk sizes */
    size_t num_disks;
};

/* All snapshots, oldest first. *snaps_out is **new** (free()). */
int bk_snapshot_list(struct bk_repo *repo, struct bk_snapshot_info **snaps_out,
                     size_t *num_out);

/* Resolve a full id or a unique prefix of at least 4 characters. */
int bk_snapshot_resolve(struct bk_repo *repo, const char *prefix,
                        char id_out[BK_SNAPID_LEN]);

/* Restore disk number disk of snapshot snap_id into path (a file is
 * created or truncated and written sparse; a block device gets zeroes
 * where the image is zero; not fsynced). Every chunk is verified; on a mismatch
 * the call fails with ERR_IO and logs the chunk id and snapshot. */
int bk_restore(struct bk_repo *repo, const char *snap_id, size_t disk,
               const char *path, const struct bk_progress *prog);

struct bk_bad_chunk {
    char id[BK_ID_HEXLEN];
    int missing;      /* 1 = missing, 0 = corrupt */
    char **snapshots; /* the snapshots it breaks (**new** strings) */
    size_t num_snapshots;
};

struct bk_verify_report {
    uint64_t chunks_checked;
    uint64_t chunks_total;
    uint64_t bytes_checked;
    struct bk_bad_chunk *bad;
    size_t num_bad;
    char **bad_indexes; /* snapshots whose manifest or index is damaged */
    size_t num_bad_indexes;
    char **bad_files; /* those files, relative to the repository, e.g.
                       * "indexes/<id>.0.idx": damaged, tampered with
                       * or replaced (fails its hash or authentication) */
    size_t num_bad_files;
};

/* Re-read and re-hash every chunk named by a snapshot (sample_pct 100) or
 * a random sample_pct percent of them, in parallel. Returns 0 when the
 * check ran (look at num_bad), or an error. */
int bk_verify(struct bk_repo *repo, int sample_pct,
              const struct bk_progress *prog, struct bk_verify_report *rep);
void bk_verify_report_release(struct bk_verify_report *rep);

struct bk_retention {
    int last, hourly, daily, weekly, monthly, yearly;
};

/* Remove the snapshots the retention does not keep (per name; protected
 * snapshots are always kept). dry_run lists without removing. *removed_out
 * gets the removed ids (**new**, may be NULL). */
int bk_prune(struct bk_repo *repo, const struct bk_retention *keep, int dry_run,
             char ***removed_out, size_t *num_removed_out);

/* bk_prune for the snapshots named name only (name NULL: all names); the
 * others are kept whatever the retention says. */
int bk_prune_name(struct bk_repo *repo, const char *name,
                  const struct bk_retention *keep, int dry_run,
                  char ***removed_out, size_t *num_removed_out);

struct bk_gc_result {
    uint64_t chunks_removed;
    uint64_t bytes_removed;
    uint64_t chunks_kept;
    uint64_t tmp_removed;
};

/* Mark and sweep unreferenced chunks (safe while backups run). */
int bk_gc(struct bk_repo *repo, const struct bk_progress *prog,
          struct bk_gc_result *res_out);

struct bk_unlock_result {
    uint64_t backup_locks_removed; /* stale backup locks, after the check */
    uint64_t chunks_checked;       /* chunks those runs may have left */
    uint64_t chunks_removed;       /* of them, damaged and removed */
    int exclusive_removed;         /* a stale locks/exclusive was removed */
};

/* Remove the repository's stale locks as the next backup, prune or gc
 * would: a backup's lock only after the check of the chunks its run may
 * have left. Locks of dead_host (another host, named by an operator who
 * knows it runs nothing against this repository any more; NULL: none)
 * count as stale too: nothing here can tell them from live ones. 0 when
 * no lock is left, ERR_BUSY naming a live holder (the stale locks are
 * gone all the same), ERR_INVALID when dead_host is this host. */
int bk_unlock(struct bk_repo *repo, const char *dead_host,
              struct bk_unlock_result *res_out);

/* 1 when host is this host's name (as locks record it). */
int bk_is_this_host(const char *host);

struct bk_stats {
    uint64_t snapshots;
    uint64_t logical_bytes; /* sum over snapshots of their disk sizes */
    uint64_t chunks;
    uint64_t stored_bytes; /* sum of chunk file sizes */
    int encrypted;
    int compression_level;
    uint32_t chunk_size;
    char key_fingerprint[33];
};

int bk_stats(struct bk_repo *repo, struct bk_stats *st_out);

/* Free an array of **new** strings. */
void bk_strv_free(char **v, size_t n);

/* ---- snapshot details (snapshot_info.c) ---- */

struct bk_snapshot_disk {
    char name[64];
    uint64_t size;
};

struct bk_snapshot_detail {
    struct bk_snapshot_info info;
    char job[64];                   /* "" when none */
    char *vm_config;                /* **owned** JSON text, or NULL */
    struct bk_snapshot_disk *disks; /* **owned**, info.num_disks of them */
};

/* Read the manifest of snapshot snap_id (a full id): its info, job,
 * VM config and disks. ERR_NOTFOUND when there is no such snapshot,
 * ERR_IO when its manifest is damaged. Release with
 * bk_snapshot_detail_release. */
int bk_snapshot_detail(struct bk_repo *repo, const char *snap_id,
                       struct bk_snapshot_detail *out);
void bk_snapshot_detail_release(struct bk_snapshot_detail *d);

/* After a failed bk_restore, find why: the first chunk of disk number
 * disk of snap_id that is missing or corrupt, as hex into chunk_out
 * (*missing_out 1 when missing). 0 when one was found; ERR_NOTFOUND
 * when every chunk reads back fine (the failure was elsewhere); ERR_IO
 * when the manifest or index is damaged (chunk_out ""). */
int bk_snapshot_find_bad_chunk(struct bk_repo *repo, const char *snap_id,
                               size_t disk, char chunk_out[BK_ID_HEXLEN],
                               int *missing_out);

/* The repository's chunk size in bytes (cheap: from the open config). */
uint32_t bk_repo_chunk_size(const struct bk_repo *repo);

#endif
