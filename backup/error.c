/* error.c: why a call on a repository failed, in words for a user
 * (bk_repo_error). The engine records the first failure of a call
 * where it is found, with the operation, the object and the reason;
 * what fails after it (other workers stopping, the caller unwinding)
 * are consequences and are only logged. Thread safe.
 */
#include "backup/bk_internal.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"

struct bk_errslot {
    pthread_mutex_t mu;
    char msg[512];
};

struct bk_errslot *bk_errslot_new(void)
{
    struct bk_errslot *e = xcalloc(1, sizeof(*e));

    pthread_mutex_init(&e->mu, NULL);
    return e;
}

void bk_errslot_free(struct bk_errslot *e)
{
    if (!e)
        return;
    pthread_mutex_destroy(&e->mu);
    free(e);
}

void bk_error_clear(const struct bk_repo *repo)
{
    pthread_mutex_lock(&repo->err->mu);
    repo->err->msg[0] = '\0';
    pthread_mutex_unlock(&repo->err->mu);
}

int bk_fail(const struct bk_repo *repo, int rc, const char *fmt, ...)
{
    char msg[sizeof(repo->err->msg)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* A held lock is contention, not a fault: callers retry (a run's
     * retention waits for a prune), so it is not logged as an error. */
    log_msg(rc == ERR_BUSY ? LOG_DEBUG : LOG_ERROR, "backup: %s", msg);
    pthread_mutex_lock(&repo->err->mu);
    if (!repo->err->msg[0])
        memcpy(repo->err->msg, msg, sizeof(msg));
    pthread_mutex_unlock(&repo->err->mu);
    return rc;
}

const char *bk_repo_error(const struct bk_repo *repo)
{
    return repo->err->msg;
}
