/* backup_cache.h: opened backup repositories and their stats, kept for
 * the repository list (GET /backup/repositories), which otherwise
 * opens every repository on every call: for an encrypted one a scrypt
 * key derivation (~0.1 s), for any a walk over every chunk file.
 *
 * An entry is reused only while it is provably right:
 * - the opened repository, while the row's path and sealed passphrase
 *   are those it was opened with and bk_repo_current() holds (the same
 *   directory, config and key file: device, inode, size, mtime and
 *   bytes), so a changed passphrase, a re-initialised or replaced
 *   repository is opened again (and a wrong passphrase found again);
 * - a stored passphrase that does not open the repository, while the
 *   row and bk_repo_ident() (directory, config and key file) stay the
 *   same: not tried again, so no key derivation and no log line per
 *   look;
 * - its stats, while bk_repo_stamp() is unchanged and was not racy
 *   (snapshots or chunks added or removed by anyone, the CLI included,
 *   change it) and no run into the repository ended since
 *   (backup_cache_touch).
 * PATCH and DELETE of a repository drop its entry (backup_cache_forget).
 * The snapshot list and look-ups use the kept repositories too
 * (backup_cache_use). Between looks a kept repository holds no file
 * descriptor (bk_repo_idle), so its file system can be unmounted.
 *
 * Thread safe: a table lock for the lookup, then one lock per entry
 * held while its repository is used (struct bk_repo is for one thread
 * at a time), so lists from several workers wait for one key
 * derivation instead of each doing their own.
 */
#ifndef XENITH_SERVER_CORE_BACKUP_CACHE_H
#define XENITH_SERVER_CORE_BACKUP_CACHE_H

#include "backup/bk.h"

struct app;
struct backup_cache;
struct db_backup_repo;

struct backup_cache *backup_cache_new(void);
void backup_cache_free(struct backup_cache *c);

/* The stats of the repository of row, from the cache or freshly (the
 * repository opened with the row's passphrase when needed). 0, or
 * backup_repo_open_row's / bk_stats' error. Without app->bkcache (unit
 * tests) every call opens the repository. */
int backup_cache_stats(struct app *app, const struct db_backup_repo *row,
                       struct bk_stats *st_out);

/* Call fn(repo, arg) with the repository of row open (kept in the
 * cache, or opened now and kept), under its entry's lock: fn must not
 * keep repo nor call into the cache. fn's answer, or the open's error
 * (fn not called). For quick reads (snapshot lists and details), not
 * for long calls, which open their own (backup_repo_open). */
int backup_cache_use(struct app *app, const struct db_backup_repo *row,
                     int (*fn)(struct bk_repo *repo, void *arg), void *arg);

/* A run, prune, gc or verify into repo_id ended: its stats are read
 * again at the next look. */
void backup_cache_touch(struct app *app, const char *repo_id);

/* repo_id was changed (PATCH) or forgotten (DELETE): drop its opened
 * repository and stats. */
void backup_cache_forget(struct app *app, const char *repo_id);

#endif
