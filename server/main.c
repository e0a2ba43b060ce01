/* main.c: xenithd, the management daemon of one Xen host. */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"
#include "db/db.h"
#include "server/core/app.h"
#include "server/core/auth.h"
#include "server/core/backup_cache.h"
#include "server/core/backup_sched.h"
#include "server/core/events.h"
#include "server/core/lifecycle.h"
#include "server/core/tasks.h"
#include "server/core/vmstate.h"
#include "server/http/http.h"
#include "server/http/tls_live.h"
#include "xen/hv.h"

static int mkdir_p(const char *path, mode_t mode)
{
    char tmp[PATH_MAX];
    char *p;

    if (xstrlcpy(tmp, path, sizeof(tmp)))
        return ERR_INVALID;
    for (p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, mode) && errno != EEXIST)
            return err_from_errno(errno);
        *p = '/';
    }
    if (mkdir(tmp, mode) && errno != EEXIST)
        return err_from_errno(errno);
    return 0;
}

/* web/ of the source tree when run from its build/ (or build/san/), else
 * the installed copy. */
static void pick_web_root(struct app *app)
{
    char exe[PATH_MAX];
    ssize_t n;
    char *b;

    if (app->cfg.web_root[0]) {
        xstrlcpy(app->web_root, app->cfg.web_root, sizeof(app->web_root));
        return;
    }
    xstrlcpy(app->web_root, "/usr/share/xenith/web", sizeof(app->web_root));
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    b = strstr(exe, "/build/");
    if (!b)
        return;
    while (strstr(b + 1, "/build/")) /* the innermost build/ */
        b = strstr(b + 1, "/build/");
    *b = '\0';
    if (strlen(exe) + 5 < sizeof(app->web_root))
        snprintf(app->web_root, sizeof(app->web_root), "%s/web", exe);
}

static int load_config(struct config *cfg, int argc, char **argv)
{
    const char *file = NULL;
    int i, rc;

    config_defaults(cfg);
    for (i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--config"))
            file = argv[i + 1];
    if (file) {
        rc = config_load_file(cfg, file);
        if (rc) {
            log_error("cannot read config file %s: %s", file, err_str(rc));
            return rc;
        }
    } else {
        rc = config_load_file(cfg, "/etc/xenith/xenithd.conf");
        if (rc && rc != ERR_NOTFOUND)
            return rc;
    }
    return config_parse_args(cfg, argc, argv);
}

static int wait_for_signal(void)
{
    sigset_t set;
    int sig = 0;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigwait(&set, &sig);
    return sig;
}

int main(int argc, char **argv)
{
    struct app app;
    struct http_public *pub = NULL;
    struct http_local *loc = NULL;
    char *dbpath = NULL, *sock = NULL;
    char abs_data[PATH_MAX];
    const char *uri;
    sigset_t set;
    int rc, sig;

    memset(&app, 0, sizeof(app));
    log_init("xenithd");
    /* glibc gives each thread that allocates its own arena (up to 8 per
     * CPU), and each keeps what it freed: with the handler threads
     * building 265 kB GET /vms answers and several TLS service threads
     * freeing them, RSS after bench/api's 50-connection rounds was
     * 37.5 MB with two service threads against 23 MB with one. Two
     * arenas keep it at 23 MB at the same requests/s (issue 2: RSS
     * under 50 MB). */
    mallopt(M_ARENA_MAX, 2);
    rc = load_config(&app.cfg, argc, argv);
    if (rc)
        return rc > 0 ? 0 : 2;

    /* Every thread inherits this mask; main takes the signals. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    umask(077);

    rc = mkdir_p(app.cfg.data_dir, 0700);
    if (rc) {
        log_error("cannot create data dir %s: %s", app.cfg.data_dir,
                  err_str(rc));
        return 1;
    }
    /* Absolute from here on: SR paths and the socket are built from it. */
    if (!realpath(app.cfg.data_dir, abs_data) ||
        xstrlcpy(app.cfg.data_dir, abs_data, sizeof(app.cfg.data_dir))) {
        log_error("cannot resolve data dir %s", app.cfg.data_dir);
        return 1;
    }
    pick_web_root(&app);
    dbpath = xasprintf("%s/xenith.db", app.cfg.data_dir);
    rc = db_open(dbpath, &app.db);
    if (rc) {
        log_error("cannot open database %s: %s", dbpath, err_str(rc));
        goto out;
    }
    uri = app.cfg.hv_uri[0] ? app.cfg.hv_uri : hv_default_uri();
    rc = hv_open(uri, &app.hv);
    if (rc) {
        log_error("cannot open hypervisor %s: %s", uri, hv_last_error());
        goto out;
    }
    log_info("hypervisor: %s (driver %s%s)", uri, hv_driver_name(app.hv),
             app.cfg.hv_uri[0] ? "" : ", picked automatically");
    app.events = events_new();
    app.bkcache = backup_cache_new();
    rc = tasks_start(&app, 4, &app.tasks);
    if (rc)
        goto out;
    vmstate_start(&app);
    rc = auth_bootstrap_admin(&app, app.cfg.admin_password_file[0]
                                        ? app.cfg.admin_password_file
                                        : NULL);
    if (rc)
        goto out;
    reconcile_at_start(&app);
    if (app.cfg.demo)
        demo_populate(&app);
    rc = backup_sched_start(&app);
    if (rc)
        goto out;

    sock = xasprintf("%s/xenithd.sock", app.cfg.data_dir);
    rc = http_local_start(&app, sock, &loc);
    if (rc)
        goto out;
    rc = http_public_start(&app, &pub);
    if (rc)
        goto out;
    log_info("xenithd %s ready: https://%s:%d/ (data %s)", XENITH_VERSION,
             app.cfg.listen_addr, app.cfg.listen_port, app.cfg.data_dir);

    sig = wait_for_signal();
    log_info("signal %d: shutting down", sig);
    app.stopping = 1;
    rc = 0;
out:
    http_public_stop(pub);
    http_local_stop(loc);
    backup_sched_stop(&app);
    tls_live_free(app.tls);
    app.tls = NULL;
    tasks_stop(app.tasks);
    vmstate_stop(&app);
    hv_close(app.hv);
    events_free(app.events);
    backup_cache_free(app.bkcache);
    db_close(app.db);
    if (!rc)
        log_info("stopped cleanly");
    free(dbpath);
    free(sock);
    return rc ? 1 : 0;
}
