/* auth_limit.h: rate limit of failed log-ins (and wrong current
 * passwords), per username and per source address. A key that collected
 * AUTH_LIMIT_USER (or AUTH_LIMIT_ADDR) failures within AUTH_LIMIT_WINDOW_S
 * seconds of its first failure is blocked until that window ends. The
 * counts live in the database (db_login_failures.h), so a restart does
 * not reset them. Thread safe. A database error lets the attempt
 * through (logged): the limit is a brake, not the lock.
 */
#ifndef XENITH_SERVER_CORE_AUTH_LIMIT_H
#define XENITH_SERVER_CORE_AUTH_LIMIT_H

#include <stdint.h>

struct db;

#define AUTH_LIMIT_USER     5
#define AUTH_LIMIT_ADDR     20
#define AUTH_LIMIT_WINDOW_S 300

/* 0 if username from addr may try to log in now, else the seconds to
 * wait (> 0). */
int64_t auth_limit_check(struct db *db, const char *username, const char *addr);

/* Count one failure of username from addr. */
void auth_limit_fail(struct db *db, const char *username, const char *addr);

/* A successful log-in clears the username's failures (not the
 * address's). */
void auth_limit_success(struct db *db, const char *username);

/* Forget everything (tests). */
void auth_limit_reset(struct db *db);

#endif
