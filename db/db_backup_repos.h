/* db_backup_repos.h: the backup_repos table (backup repositories the
 * daemon knows: a chunk store directory, see backup/bk.h). The
 * passphrase of an encrypted repository is stored sealed only
 * (common/seal.h); this layer never sees it in clear. Thread safe.
 */
#ifndef XENITH_DB_DB_BACKUP_REPOS_H
#define XENITH_DB_DB_BACKUP_REPOS_H

#include <stddef.h>
#include <stdint.h>

struct db;

#define DB_BACKUP_SEALED_MAX 1024 /* hex text of a sealed passphrase + NUL */

struct db_backup_repo {
    char id[37];
    char name[65];
    char path[512];
    int encrypted;
    char passphrase_sealed[DB_BACKUP_SEALED_MAX]; /* "" when plain */
    int compression_level;
    int64_t created_at;
};

/* ERR_EXISTS when the name or the path is taken. */
int db_backup_repo_insert(struct db *db, const struct db_backup_repo *r);
int db_backup_repo_get(struct db *db, const char *id,
                       struct db_backup_repo *out);
/* By name; *list_out **new** (free()). */
int db_backup_repo_list(struct db *db, struct db_backup_repo **list_out,
                        size_t *num_out);
/* Name and sealed passphrase only; ERR_EXISTS for a taken name. */
int db_backup_repo_update(struct db *db, const struct db_backup_repo *r);
int db_backup_repo_delete(struct db *db, const char *id);

#endif
