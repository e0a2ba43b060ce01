/* app.h: the daemon's shared context, built by main and handed to every
 * handler. Fields are set before the front-ends start and read-only
 * afterwards (the objects they point to are thread safe).
 */
#ifndef XENITH_SERVER_CORE_APP_H
#define XENITH_SERVER_CORE_APP_H

#include <limits.h>
#include <signal.h>

#include "server/core/config.h"

struct db;
struct hv;
struct tasks;
struct events;
struct backup_sched;
struct backup_cache;
struct tls_live;

struct app {
    struct config cfg;
    struct db *db;
    struct hv *hv;
    struct tasks *tasks;
    struct events *events;
    struct backup_sched *sched; /* backup_sched.h; NULL when stopped */
    char web_root[PATH_MAX];    /* static UI files */
    /* The public listener's key pair: set (with __atomic_store_n) by
     * http_public_start, freed by main after both front-ends stop; NULL
     * before that (read it with __atomic_load_n). */
    struct tls_live *tls;
    /* Opened backup repositories (backup_cache.h); NULL: no caching. */
    struct backup_cache *bkcache;
    volatile sig_atomic_t stopping;
};

#define XENITH_VERSION "0.1.0"

#endif
