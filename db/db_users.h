/* db_users.h: the users table (accounts, roles, password hashes).
 * Thread safe; ERR_NOTFOUND means no such row. */
#ifndef XENITH_DB_DB_USERS_H
#define XENITH_DB_DB_USERS_H

#include <stddef.h>
#include <stdint.h>

struct db;

struct db_user {
    char id[37];
    char username[65];
    char pw_hash[192]; /* "$scrypt$..." (common/hash.h) */
    char role[16];     /* admin|operator|viewer */
    int must_change_password;
    int64_t created_at;
    int64_t updated_at;
};

/* Insert u; ERR_EXISTS when the username is taken. */
int db_user_insert(struct db *db, const struct db_user *u);
int db_user_get(struct db *db, const char *id, struct db_user *out);
int db_user_get_by_name(struct db *db, const char *username,
                        struct db_user *out);
/* Every user ordered by username; *list_out **new** (free()). */
int db_user_list(struct db *db, struct db_user **list_out, size_t *num_out);
/* Number of users; role NULL counts all, else only that role. */
int db_user_count(struct db *db, const char *role, int64_t *count_out);
/* Update role, must_change_password and updated_at of u->id. */
int db_user_update(struct db *db, const struct db_user *u);
/* Replace the password hash; must_change_password set to must_change. */
int db_user_set_password(struct db *db, const char *id, const char *pw_hash,
                         int must_change, int64_t now);
/* Delete (sessions and tokens go with it, ON DELETE CASCADE). */
int db_user_delete(struct db *db, const char *id);

#endif
