#include "server/core/auth_limit.h"

#include <stdint.h>

#include "common/err.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "db/db_login_failures.h"

#define LIMIT_KEY_MAX 80

static void limit_key(char *out, size_t cap, char kind, const char *s)
{
    out[0] = kind;
    out[1] = ':';
    xstrlcpy(out + 2, s, cap - 2);
}

/* Seconds key must still wait at now, 0 if none. */
static int64_t limit_wait(struct db *db, const char *key, int max, int64_t now)
{
    int64_t start;
    int failures, rc;

    rc = db_login_failures_get(db, key, &start, &failures);
    if (rc) {
        if (rc != ERR_NOTFOUND)
            log_error("auth: cannot read the log-in failures: %s", err_str(rc));
        return 0;
    }
    if (failures < max || start > now || now - start >= AUTH_LIMIT_WINDOW_S)
        return 0;
    return start + AUTH_LIMIT_WINDOW_S - now;
}

int64_t auth_limit_check(struct db *db, const char *username, const char *addr)
{
    char ku[LIMIT_KEY_MAX], ka[LIMIT_KEY_MAX];
    int64_t now = time_now(), wu, wa;

    limit_key(ku, sizeof(ku), 'u', username);
    limit_key(ka, sizeof(ka), 'a', addr);
    wu = limit_wait(db, ku, AUTH_LIMIT_USER, now);
    wa = limit_wait(db, ka, AUTH_LIMIT_ADDR, now);
    return wu > wa ? wu : wa;
}

void auth_limit_fail(struct db *db, const char *username, const char *addr)
{
    char ku[LIMIT_KEY_MAX], ka[LIMIT_KEY_MAX];
    const char *keys[2] = { ku, ka };
    int64_t now = time_now();
    int rc;

    limit_key(ku, sizeof(ku), 'u', username);
    limit_key(ka, sizeof(ka), 'a', addr);
    /* Ended windows go, so guessed usernames do not pile up. */
    rc = db_login_failures_prune(db, now - AUTH_LIMIT_WINDOW_S);
    if (!rc)
        rc = db_login_failures_add(db, keys, 2, now, AUTH_LIMIT_WINDOW_S);
    if (rc)
        log_error("auth: cannot count a log-in failure: %s", err_str(rc));
}

void auth_limit_success(struct db *db, const char *username)
{
    char ku[LIMIT_KEY_MAX];
    int rc;

    limit_key(ku, sizeof(ku), 'u', username);
    rc = db_login_failures_clear(db, ku);
    if (rc)
        log_error("auth: cannot clear the log-in failures: %s", err_str(rc));
}

void auth_limit_reset(struct db *db)
{
    db_login_failures_prune(db, INT64_MAX);
}
