#include "server/core/backup_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/seal.h"
#include "common/xalloc.h"
#include "db/db_backup_repos.h"
#include "server/core/app.h"
#include "server/core/backup_repo.h"

struct centry {
    char id[37];
    pthread_mutex_t mu; /* guards what follows */
    /* The row the repository was opened with. */
    char path[sizeof(((struct db_backup_repo *)0)->path)];
    char sealed[DB_BACKUP_SEALED_MAX];
    struct bk_repo *repo; /* NULL: not open */
    /* Not open because the passphrase did not open it (ERR_UNAUTH), at
     * bk_repo_ident() fail_ident: not tried again while that holds. */
    int fail_rc;
    uint64_t fail_ident;
    int have_stats;
    uint64_t stamp; /* bk_repo_stamp() when st was read */
    struct bk_stats st;
};

struct backup_cache {
    pthread_mutex_t mu; /* guards the table (not the entries) */
    struct centry **v;  /* entries live until backup_cache_free */
    size_t num, cap;
};

struct backup_cache *backup_cache_new(void)
{
    struct backup_cache *c = xcalloc(1, sizeof(*c));

    pthread_mutex_init(&c->mu, NULL);
    return c;
}

/* Drop what e holds; e->mu held. */
static void entry_clear(struct centry *e)
{
    bk_repo_free(e->repo);
    e->repo = NULL;
    e->fail_rc = 0;
    e->have_stats = 0;
    seal_wipe(e->sealed, sizeof(e->sealed));
    e->path[0] = '\0';
}

void backup_cache_free(struct backup_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->num; i++) {
        entry_clear(c->v[i]);
        pthread_mutex_destroy(&c->v[i]->mu);
        free(c->v[i]);
    }
    free(c->v);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* The entry of id, made when create; NULL when none. Not locked. */
static struct centry *entry_find(struct backup_cache *c, const char *id,
                                 int create)
{
    struct centry *e = NULL;

    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->num && !e; i++)
        if (!strcmp(c->v[i]->id, id))
            e = c->v[i];
    if (!e && create) {
        if (c->num == c->cap) {
            c->cap = c->cap ? 2 * c->cap : 8;
            c->v = xrealloc(c->v, c->cap * sizeof(*c->v));
        }
        e = xcalloc(1, sizeof(*e));
        xstrlcpy(e->id, id, sizeof(e->id));
        pthread_mutex_init(&e->mu, NULL);
        c->v[c->num++] = e;
    }
    pthread_mutex_unlock(&c->mu);
    return e;
}

/* 1 when e was last opened (or failed to open) for row's path and
 * sealed passphrase. */
static int entry_same_row(const struct centry *e,
                          const struct db_backup_repo *row)
{
    return !strcmp(e->path, row->path) &&
           !strcmp(e->sealed, row->passphrase_sealed);
}

/* Make e hold the repository of row, opened; e->mu held. A stored
 * passphrase that did not open the repository is not tried again (no
 * key derivation, no log line per look) until the row or the
 * repository's config or key file changes. */
static int entry_open(struct app *app, struct centry *e,
                      const struct db_backup_repo *row)
{
    uint64_t ident;
    int rc;

    if (e->repo && (!entry_same_row(e, row) || !bk_repo_current(e->repo)))
        entry_clear(e);
    if (e->repo)
        return 0;
    ident = bk_repo_ident(row->path);
    if (e->fail_rc && entry_same_row(e, row) && ident == e->fail_ident)
        return e->fail_rc;
    entry_clear(e);
    rc = backup_repo_open_row(app, row, &e->repo);
    if (rc && rc != ERR_UNAUTH)
        return rc;
    xstrlcpy(e->path, row->path, sizeof(e->path));
    xstrlcpy(e->sealed, row->passphrase_sealed, sizeof(e->sealed));
    if (rc && ident) {
        e->fail_rc = rc;
        e->fail_ident = ident;
    }
    return rc;
}

/* The entry of row, locked, its repository open; NULL (*rc_out set)
 * when it cannot be opened. */
static struct centry *
entry_acquire(struct app *app, const struct db_backup_repo *row, int *rc_out)
{
    struct centry *e = entry_find(app->bkcache, row->id, 1);

    pthread_mutex_lock(&e->mu);
    *rc_out = entry_open(app, e, row);
    if (!*rc_out)
        return e;
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

/* Done with e: its repository lets go of its directory (no file system
 * kept busy between looks), and e is unlocked. */
static void entry_release(struct centry *e)
{
    bk_repo_idle(e->repo);
    pthread_mutex_unlock(&e->mu);
}

int backup_cache_use(struct app *app, const struct db_backup_repo *row,
                     int (*fn)(struct bk_repo *repo, void *arg), void *arg)
{
    struct bk_repo *repo = NULL;
    struct centry *e;
    int rc;

    if (!app->bkcache) {
        rc = backup_repo_open_row(app, row, &repo);
        if (!rc)
            rc = fn(repo, arg);
        bk_repo_free(repo);
        return rc;
    }
    e = entry_acquire(app, row, &rc);
    if (!e)
        return rc;
    rc = fn(e->repo, arg);
    entry_release(e);
    return rc;
}

static int stats_of(struct bk_repo *repo, void *arg)
{
    return bk_stats(repo, arg);
}

int backup_cache_stats(struct app *app, const struct db_backup_repo *row,
                       struct bk_stats *st_out)
{
    struct centry *e;
    uint64_t stamp;
    int rc, racy;

    if (!app->bkcache)
        return backup_cache_use(app, row, stats_of, st_out);
    e = entry_acquire(app, row, &rc);
    if (!e)
        return rc;
    stamp = bk_repo_stamp(e->repo, &racy);
    if (e->have_stats && e->stamp == stamp) {
        *st_out = e->st;
        goto out;
    }
    e->have_stats = 0;
    rc = bk_stats(e->repo, st_out);
    if (!rc && !racy) {
        e->st = *st_out;
        e->stamp = stamp;
        e->have_stats = 1;
    }
out:
    entry_release(e);
    return rc;
}

void backup_cache_touch(struct app *app, const char *repo_id)
{
    struct centry *e;

    if (!app->bkcache || !(e = entry_find(app->bkcache, repo_id, 0)))
        return;
    pthread_mutex_lock(&e->mu);
    e->have_stats = 0;
    pthread_mutex_unlock(&e->mu);
}

void backup_cache_forget(struct app *app, const char *repo_id)
{
    struct centry *e;

    if (!app->bkcache || !(e = entry_find(app->bkcache, repo_id, 0)))
        return;
    pthread_mutex_lock(&e->mu);
    entry_clear(e);
    pthread_mutex_unlock(&e->mu);
}
