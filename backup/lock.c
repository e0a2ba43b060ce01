/* lock.c: lock files in locks/ (docs/backup-format.md, "Locks"). A lock
 * is written whole under a temp name and hard-linked into place, so it
 * is never seen half-written and two takers cannot both win. A lock is
 * stale when it names this host and either another boot id or a pid
 * that no longer exists, or, for a backup's lock, this process and a run
 * that is over (a failed run's lock kept as a mark, below), or when it
 * names the host bk_unlock() was told is dead. Thread safe:
 * the backup locks this process holds are a list under a mutex. A
 * backup's lock is durable (fsynced with its directory): it also marks a
 * run whose chunks may not be, until the next backup checks them
 * (recover.c).
 */
#include "backup/bk_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/uuid.h"
#include "common/xalloc.h"

static void boot_id(char out[64])
{
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

    out[0] = 0;
    if (f) {
        if (fgets(out, 64, f))
            out[strcspn(out, "\n")] = 0;
        fclose(f);
    }
}

static void host_name(char out[256])
{
    if (gethostname(out, 256))
        xstrlcpy(out, "unknown", 256);
    out[255] = 0;
}

/* The backup locks ("backup-<id>", unique names) this process holds for
 * runs still going. A daemon runs many backups: one whose lock was kept
 * after it failed must not look live for as long as the daemon runs. */
static pthread_mutex_t held_mu = PTHREAD_MUTEX_INITIALIZER;
static char **held;
static size_t num_held;

static int is_backup_lock(const char *name)
{
    return !strncmp(name, "backup-", 7);
}

static size_t held_find(const char *name)
{
    size_t i;

    for (i = 0; i < num_held && strcmp(held[i], name); i++)
        ;
    return i;
}

static void held_add(const char *name)
{
    if (!is_backup_lock(name))
        return;
    pthread_mutex_lock(&held_mu);
    held = xrealloc(held, (num_held + 1) * sizeof(*held));
    held[num_held++] = xstrdup(name);
    pthread_mutex_unlock(&held_mu);
}

static void held_remove(const char *name)
{
    size_t i;

    pthread_mutex_lock(&held_mu);
    i = held_find(name);
    if (i < num_held) {
        free(held[i]);
        held[i] = held[--num_held];
    }
    pthread_mutex_unlock(&held_mu);
}

/* 1 when the lock file name, written by this very process, belongs to
 * no run of it any more. */
static int own_lock_done(const char *name)
{
    int done;

    if (!is_backup_lock(name))
        return 0;
    pthread_mutex_lock(&held_mu);
    done = held_find(name) == num_held;
    pthread_mutex_unlock(&held_mu);
    return done;
}

static const char *base_name(const char *relpath)
{
    const char *s = strrchr(relpath, '/');

    return s ? s + 1 : relpath;
}

/* Who holds a lock, as its file says. */
struct holder {
    long long pid;
    char host[256];
    char op[32];
    int64_t start;   /* by its host's clock; INT64_MAX when unknown */
    int64_t written; /* its file's mtime: the repository's clock */
};

/* The mtime of the file at relpath (set by the file system's clock, on
 * NFS the server's), or INT64_MAX. */
static int64_t written_at(const struct bk_repo *repo, const char *relpath)
{
    struct stat st;

    if (fstatat(repo->dirfd, relpath, &st, 0))
        return INT64_MAX;
    return (int64_t)st.st_mtime;
}

/* 1 when the lock at relpath is stale (or unreadable and old); fills
 * *h with its holder. */
static int lock_stale(const struct bk_repo *repo, const char *relpath,
                      struct holder *h)
{
    char *txt = NULL, host[256], boot[64];
    size_t len;
    json_t *o;
    const char *lh, *lb;
    long long pid;
    int stale = 0;

    memset(h, 0, sizeof(*h));
    h->start = INT64_MAX;
    h->written = written_at(repo, relpath);
    if (bk_read_file(repo, relpath, 4096, &txt, &len))
        return 0;
    o = json_loadb(txt, len, 0, NULL);
    free(txt);
    if (!o)
        return 1; /* locks are written whole: garbage is not a live lock */
    host_name(host);
    boot_id(boot);
    lh = json_string_value(json_object_get(o, "host"));
    lb = json_string_value(json_object_get(o, "boot_id"));
    pid = json_integer_value(json_object_get(o, "pid"));
    h->start = json_integer_value(json_object_get(o, "start_unix"));
    h->pid = pid;
    xstrlcpy(h->host, lh ? lh : "?", sizeof(h->host));
    xstrlcpy(h->op, json_string_value(json_object_get(o, "op")) ?: "?",
             sizeof(h->op));
    if (lh && repo->dead_host && !strcmp(lh, repo->dead_host)) {
        stale = 1; /* an operator says that host runs nothing here */
    } else if (lh && !strcmp(lh, host)) {
        if (lb && boot[0] && strcmp(lb, boot))
            stale = 1;
        else if (pid <= 0 || (kill((pid_t)pid, 0) && errno == ESRCH))
            stale = 1;
        else if (pid == (long long)getpid() &&
                 own_lock_done(base_name(relpath)))
            stale = 1;
    }
    json_decref(o);
    return stale;
}

/* ERR_BUSY, saying who holds the lock at rel. */
static int busy(const struct bk_repo *repo, const char *rel,
                const struct holder *h)
{
    char t[21];

    if (!h->pid)
        return bk_fail(repo, ERR_BUSY,
                       "repository %s is locked (%s, its holder unknown)",
                       repo->dir, rel);
    time_rfc3339(h->start == INT64_MAX ? 0 : h->start, t);
    return bk_fail(repo, ERR_BUSY,
                   "repository %s is locked by pid %lld on host %s since %s "
                   "(%s)",
                   repo->dir, h->pid, h->host, t, h->op);
}

/* Make the lock at rel durable: its bytes, then its name. On failure
 * the lock is removed. */
static int lock_sync(const struct bk_repo *repo, const char *rel)
{
    int fd = openat(repo->dirfd, rel, O_RDONLY | O_CLOEXEC), rc = 0, e;

    if (fd < 0 || fsync(fd)) {
        e = errno;
        rc = bk_fail(repo, err_from_errno(e), "syncing lock %s in %s: %s", rel,
                     repo->dir, strerror(e));
    }
    if (fd >= 0)
        close(fd);
    if (!rc)
        rc = bk_sync_dir(repo, rel);
    if (rc)
        unlinkat(repo->dirfd, rel, 0);
    return rc;
}

static int lock_take(const struct bk_repo *repo, const char *name,
                     const char *op, int durable)
{
    char host[256], boot[64], rel[128], tmp[128], rnd[17], *txt;
    struct holder h = { 0 };
    json_t *o;
    int rc, tries;

    host_name(host);
    boot_id(boot);
    o = json_pack("{s:I,s:s,s:s,s:I,s:s}", "pid", (json_int_t)getpid(), "host",
                  host, "boot_id", boot, "start_unix", (json_int_t)time_now(),
                  "op", op);
    txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    rand_hex(rnd, 8);
    snprintf(tmp, sizeof(tmp), "locks/.tmp-%s", rnd);
    snprintf(rel, sizeof(rel), "locks/%s", name);
    /* Not flushed: a lock only counts while its holder runs, and after a
     * crash it is stale whatever survived (another boot id, or an empty
     * or garbage file). */
    rc = bk_write_file_whole(repo, tmp, txt, strlen(txt));
    free(txt);
    if (rc)
        return rc;
    for (tries = 0; tries < 3; tries++) {
        if (!linkat(repo->dirfd, tmp, repo->dirfd, rel, 0)) {
            rc = 0;
            break;
        }
        if (errno != EEXIST) {
            int e = errno;

            rc = bk_fail(repo, err_from_errno(e), "taking lock %s in %s: %s",
                         rel, repo->dir, strerror(e));
            break;
        }
        if (!lock_stale(repo, rel, &h)) {
            rc = ERR_BUSY;
            break;
        }
        log_warn("backup: breaking stale lock %s/%s", repo->dir, rel);
        unlinkat(repo->dirfd, rel, 0);
        rc = ERR_BUSY;
    }
    unlinkat(repo->dirfd, tmp, 0);
    if (rc == ERR_BUSY)
        rc = busy(repo, rel, &h);
    if (!rc && durable)
        rc = lock_sync(repo, rel);
    if (!rc)
        held_add(name);
    return rc;
}

int bk_lock_take(const struct bk_repo *repo, const char *name, const char *op)
{
    return lock_take(repo, name, op, 0);
}

int bk_lock_take_durable(const struct bk_repo *repo, const char *name,
                         const char *op)
{
    return lock_take(repo, name, op, 1);
}

void bk_lock_drop(const struct bk_repo *repo, const char *name)
{
    char rel[128];

    held_remove(name);
    snprintf(rel, sizeof(rel), "locks/%s", name);
    unlinkat(repo->dirfd, rel, 0);
}

void bk_lock_keep(const char *name)
{
    held_remove(name);
}

/* Call fn for every backup lock but own (NULL: none), with whether it is
 * stale and its holder. */
static void each_backup_lock(const struct bk_repo *repo, const char *own,
                             void (*fn)(const char *name, int stale,
                                        const struct holder *h, void *arg),
                             void *arg)
{
    DIR *d = bk_opendir_at(repo->dirfd, "locks");
    struct holder h;
    struct dirent *e;
    char rel[300];

    if (!d)
        return;
    while ((e = readdir(d))) {
        int stale;

        if (!is_backup_lock(e->d_name) || (own && !strcmp(e->d_name, own)))
            continue;
        snprintf(rel, sizeof(rel), "locks/%s", e->d_name);
        stale = lock_stale(repo, rel, &h);
        fn(e->d_name, stale, &h, arg);
    }
    closedir(d);
}

static void note_oldest(const char *name, int stale, const struct holder *h,
                        void *arg)
{
    int64_t *oldest = arg;
    int64_t t = h->start < h->written ? h->start : h->written;

    (void)name;
    if (!stale && t < *oldest)
        *oldest = t;
}

int64_t bk_lock_written(const struct bk_repo *repo, const char *name)
{
    char rel[128];

    snprintf(rel, sizeof(rel), "locks/%s", name);
    return written_at(repo, rel);
}

int64_t bk_lock_oldest_backup(const struct bk_repo *repo)
{
    int64_t oldest = INT64_MAX;

    /* A stale backup lock is left alone: it marks a run that did not
     * finish, whose chunks the next backup checks (recover.c). */
    each_backup_lock(repo, NULL, note_oldest, &oldest);
    return oldest;
}

struct stale_list {
    char **names;
    size_t num;
};

static void note_stale(const char *name, int stale, const struct holder *h,
                       void *arg)
{
    struct stale_list *l = arg;

    (void)h;
    if (!stale)
        return;
    l->names = xrealloc(l->names, (l->num + 1) * sizeof(*l->names));
    l->names[l->num++] = xstrdup(name);
}

void bk_lock_stale_backups(const struct bk_repo *repo, const char *own,
                           char ***names_out, size_t *num_out)
{
    struct stale_list l = { 0 };

    each_backup_lock(repo, own, note_stale, &l);
    *names_out = l.names;
    *num_out = l.num;
}

struct live_find {
    const struct bk_repo *repo;
    int rc;
};

static void note_live(const char *name, int stale, const struct holder *h,
                      void *arg)
{
    struct live_find *f = arg;
    char rel[300];

    if (stale || f->rc)
        return;
    snprintf(rel, sizeof(rel), "locks/%s", name);
    f->rc = busy(f->repo, rel, h);
}

int bk_lock_live_backup(const struct bk_repo *repo, const char *own)
{
    struct live_find f = { repo, 0 };

    each_backup_lock(repo, own, note_live, &f);
    return f.rc;
}

int bk_is_this_host(const char *host)
{
    char me[256];

    host_name(me);
    return !strcmp(host, me);
}
