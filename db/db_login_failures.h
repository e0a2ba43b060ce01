/* db_login_failures.h: the login_failures table, the persistent state of
 * the log-in rate limit (server/core/auth_limit.h). A row counts the
 * failures of one key ("u:NAME" or "a:ADDR") since window_start. Thread
 * safe; ERR_NOTFOUND means no such row.
 */
#ifndef XENITH_DB_DB_LOGIN_FAILURES_H
#define XENITH_DB_DB_LOGIN_FAILURES_H

#include <stddef.h>
#include <stdint.h>

struct db;

/* The key's window start (epoch s) and failure count. */
int db_login_failures_get(struct db *db, const char *key, int64_t *start_out,
                          int *failures_out);

/* Count one failure of each key at now: a key whose window (of window_s
 * seconds) has ended, or that has none, starts a new one. One
 * transaction for all keys. */
int db_login_failures_add(struct db *db, const char *const *keys,
                          size_t num_keys, int64_t now, int64_t window_s);

/* Forget one key (a successful log-in). */
int db_login_failures_clear(struct db *db, const char *key);

/* Forget the windows that started before `before` (INT64_MAX: all). */
int db_login_failures_prune(struct db *db, int64_t before);

#endif
