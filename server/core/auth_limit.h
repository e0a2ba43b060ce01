/* auth_limit.h: in-memory rate limit of failed log-ins, per username
 * and per source address. A key that collected AUTH_LIMIT_USER (or
 * AUTH_LIMIT_ADDR) failures within AUTH_LIMIT_WINDOW_S seconds of its
 * first failure is blocked until that window ends. State is lost on
 * restart (by design: it is a brake, not a ban list). Thread safe.
 */
#ifndef XENITH_SERVER_CORE_AUTH_LIMIT_H
#define XENITH_SERVER_CORE_AUTH_LIMIT_H

#include <stdint.h>

#define AUTH_LIMIT_USER     5
#define AUTH_LIMIT_ADDR     20
#define AUTH_LIMIT_WINDOW_S 300

/* 0 if username from addr may try to log in now, else the seconds to
 * wait (> 0). */
int64_t auth_limit_check(const char *username, const char *addr);

/* Count one failure of username from addr. */
void auth_limit_fail(const char *username, const char *addr);

/* A successful log-in clears the username's failures (not the
 * address's). */
void auth_limit_success(const char *username);

/* Forget everything (tests). */
void auth_limit_reset(void);

#endif
