/* api_backup_repos.c: backup repositories (issue 4, contract in
 * docs/api.md "Backups"). A repository is a chunk store directory
 * (backup/bk.h); the daemon keeps its path and, for an encrypted one,
 * its passphrase sealed under DATA/secret.key. Creating one either
 * initialises an empty or missing directory or attaches a directory
 * that already holds a repository; deleting only forgets it. */
#include "server/api/api.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup/bk.h"
#include "common/err.h"
#include "common/log.h"
#include "common/seal.h"
#include "common/timeutil.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "db/db_backup_repos.h"
#include "server/api/api_backup.h"
#include "server/api/api_util.h"
#include "server/core/app.h"
#include "server/core/backup_cache.h"
#include "server/core/backup_repo.h"
#include "server/core/events.h"
#include "server/core/sr.h"

#define PASSPHRASE_MIN 8

/* Creation and renames are serialised: the taken-check, the init and
 * the insert of one request never interleave with another's. */
static pthread_mutex_t repo_create_mu = PTHREAD_MUTEX_INITIALIZER;

static json_t *repo_stats_json(const struct bk_stats *st)
{
    double ratio = st->stored_bytes
                       ? (double)st->logical_bytes / (double)st->stored_bytes
                       : 0;

    return json_pack("{s:I, s:I, s:I, s:I, s:f}", "snapshots",
                     (json_int_t)st->snapshots, "logical_bytes",
                     (json_int_t)st->logical_bytes, "stored_bytes",
                     (json_int_t)st->stored_bytes, "chunks",
                     (json_int_t)st->chunks, "dedup_ratio", ratio);
}

/* The API object; opens the repository (or finds it in the cache,
 * backup_cache.h) for its status and stats (when
 * that fails: status "unavailable", error, chunk_size,
 * key_fingerprint and stats null). */
static json_t *repo_to_json(struct app *app, const struct db_backup_repo *row)
{
    struct bk_stats st;
    json_t *o;
    int rc;

    o = json_pack("{s:s, s:s, s:s, s:b, s:i, s:o}", "id", row->id, "name",
                  row->name, "path", row->path, "encrypted", row->encrypted,
                  "compression_level", row->compression_level, "created",
                  api_time(row->created_at));
    rc = backup_cache_stats(app, row, &st);
    if (rc) {
        json_object_set_new(o, "chunk_size", json_null());
        json_object_set_new(o, "key_fingerprint", json_null());
        json_object_set_new(o, "status", json_string("unavailable"));
        json_object_set_new(o, "error", json_string(backup_repo_open_why(rc)));
        json_object_set_new(o, "stats", json_null());
        return o;
    }
    json_object_set_new(o, "compression_level",
                        json_integer(st.compression_level));
    json_object_set_new(o, "chunk_size", json_integer(st.chunk_size));
    json_object_set_new(o, "key_fingerprint",
                        st.key_fingerprint[0] ? json_string(st.key_fingerprint)
                                              : json_null());
    json_object_set_new(o, "status", json_string("ok"));
    json_object_set_new(o, "stats", repo_stats_json(&st));
    return o;
}

void api_backup_repo_event(struct app *app, const char *action, const char *id)
{
    events_publish_kind(app->events, "backup", "repository", action, id, NULL);
}

int api_backup_body(const struct req *q, struct resp *r,
                    const char *const *allowed, json_t **obj_out)
{
    if (!q->body || q->body_len == 0) {
        *obj_out = json_object();
        return 0;
    }
    return api_body(q, r, allowed, obj_out);
}

int api_backup_submit(struct app *app, struct req *q, struct resp *r,
                      const char *kind, const char *target_type,
                      const char *target_id, task_fn fn, void *arg,
                      void (*arg_free)(void *))
{
    struct task_spec spec;
    char task_id[37];
    int rc;

    memset(&spec, 0, sizeof(spec));
    spec.kind = kind;
    spec.target_type = target_type;
    spec.target_id = target_id;
    spec.username = q->who.username;
    spec.fn = fn;
    spec.arg = arg;
    spec.arg_free = arg_free;
    rc = tasks_submit(app->tasks, &spec, task_id);
    if (rc)
        return api_error(r, rc, NULL, "cannot queue the task: %s", err_str(rc));
    return api_task_accepted(app, r, task_id);
}

int api_backup_repos_list(struct app *app, struct req *q, struct resp *r)
{
    struct db_backup_repo *list = NULL;
    size_t i, num = 0;
    json_t *arr;
    int rc;

    (void)q;
    rc = db_backup_repo_list(app->db, &list, &num);
    if (rc)
        return rc;
    arr = json_array();
    for (i = 0; i < num; i++)
        json_array_append_new(arr, repo_to_json(app, &list[i]));
    seal_wipe(list, num * sizeof(*list));
    free(list);
    return api_json(r, 200, arr);
}

int api_backup_repo_load(struct app *app, struct req *q, struct resp *r,
                         struct db_backup_repo *row)
{
    const char *id;
    int rc;

    if (api_param_uuid(q, r, 0, &id))
        return ERR_INVALID;
    xstrlcpy(r->audit_target, id, sizeof(r->audit_target));
    rc = db_backup_repo_get(app->db, id, row);
    if (rc)
        return api_error(r, rc, NULL, "backup repository %s: %s", id,
                         err_str(rc));
    return 0;
}

int api_backup_repo_get(struct app *app, struct req *q, struct resp *r)
{
    struct db_backup_repo row;
    int rc;

    rc = api_backup_repo_load(app, q, r, &row);
    if (rc)
        return rc;
    rc = api_json(r, 200, repo_to_json(app, &row));
    seal_wipe(&row, sizeof(row));
    return rc;
}

/* 409 naming the field when name (or path, when not NULL) is taken by
 * another repository than self (may be NULL), else 0. */
static int repo_check_taken(struct app *app, struct resp *r, const char *self,
                            const char *name, const char *path)
{
    struct db_backup_repo *list = NULL;
    size_t i, num = 0;
    int rc;

    rc = db_backup_repo_list(app->db, &list, &num);
    if (rc)
        return rc;
    for (i = 0; i < num && !rc; i++) {
        if (self && !strcmp(list[i].id, self))
            continue;
        if (!strcmp(list[i].name, name))
            rc = api_error(r, ERR_EXISTS, "name",
                           "a backup repository named '%s' exists", name);
        else if (path && !strcmp(list[i].path, path))
            rc = api_error(r, ERR_EXISTS, "path",
                           "backup repository '%s' already uses %s",
                           list[i].name, path);
    }
    seal_wipe(list, num * sizeof(*list));
    free(list);
    return rc;
}

/* 1 when dir has no entries but "." and "..", 0 when it has, or an
 * error. */
static int dir_is_empty(const char *dir)
{
    struct dirent *e;
    DIR *d = opendir(dir);
    int empty = 1;

    if (!d)
        return err_from_errno(errno);
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            empty = 0;
            break;
        }
    }
    closedir(d);
    return empty;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)flag;
    if (ftw->level > 0 && remove(path) < 0)
        log_warn("backup: cannot remove %s: %s", path, strerror(errno));
    return 0;
}

/* Undo a bk_repo_init into dir, which was empty (or missing: removed
 * too) before it. */
static void repo_uninit(const char *dir, int existed)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (!existed && rmdir(dir) < 0)
        log_warn("backup: cannot remove %s: %s", dir, strerror(errno));
}

struct repo_create {
    const char *name;
    const char *passphrase; /* NULL = none given */
    int64_t level;          /* -1 = not given */
    struct db_backup_repo row;
    int existed;     /* the directory existed before */
    int initialised; /* this request made the repository */
};

/* Open the repository at c->row.path (attach) or initialise one there
 * when the directory is empty or missing; fill c->row's encryption and
 * compression level. Errors are written to r naming the field. */
static int repo_attach_or_init(struct resp *r, struct repo_create *c)
{
    struct bk_init_opts opts;
    struct bk_repo *repo = NULL;
    struct bk_stats st;
    int rc;

    rc = bk_repo_open(c->row.path, c->passphrase, &repo);
    if (!rc) {
        rc = bk_stats(repo, &st);
        bk_repo_free(repo);
        if (rc)
            return api_error(r, rc, "path", "cannot read the repository: %s",
                             err_str(rc));
        if (!st.encrypted && c->passphrase)
            return api_error(r, ERR_INVALID, "passphrase",
                             "the repository at %s is not encrypted: leave "
                             "out the passphrase",
                             c->row.path);
        c->row.encrypted = st.encrypted;
        c->row.compression_level = st.compression_level;
        return 0;
    }
    if (rc == ERR_UNAUTH)
        return api_error(r, ERR_INVALID, "passphrase",
                         c->passphrase ? "the passphrase does not open the "
                                         "repository at %s"
                                       : "the repository at %s is encrypted: "
                                         "its passphrase is needed",
                         c->row.path);
    if (rc == ERR_UNSUPPORTED)
        return api_error(r, ERR_INVALID, "path",
                         "%s holds a repository of a format version this "
                         "version does not know",
                         c->row.path);
    if (rc != ERR_NOTFOUND)
        return api_error(r, ERR_INVALID, "path", "cannot open %s: %s",
                         c->row.path, err_str(rc));
    rc = dir_is_empty(c->row.path);
    if (rc < 0)
        return api_error(r, ERR_INVALID, "path", "cannot read %s: %s",
                         c->row.path, err_str(rc));
    if (!rc)
        return api_error(r, ERR_INVALID, "path",
                         "%s holds files but no backup repository: give an "
                         "empty directory or a repository",
                         c->row.path);
    memset(&opts, 0, sizeof(opts));
    opts.compression_level = c->level >= 0 ? (int)c->level : BK_DEFAULT_ZSTD;
    opts.passphrase = c->passphrase;
    rc = bk_repo_init(c->row.path, &opts);
    if (rc) {
        repo_uninit(c->row.path, 1);
        return api_error(r, ERR_INVALID, "path",
                         "cannot create a repository in %s: %s", c->row.path,
                         err_str(rc));
    }
    c->initialised = 1;
    c->row.encrypted = c->passphrase != NULL;
    c->row.compression_level = opts.compression_level;
    return 0;
}

/* The path field: absolute, cleaned, a directory the daemon may use
 * (created when missing, as for SRs), resolved through symlinks so one
 * repository is not known twice. */
static int repo_check_path(struct resp *r, const char *path,
                           struct repo_create *c)
{
    char clean[sizeof(c->row.path)], real[PATH_MAX];
    struct stat st;
    int rc;

    if (path[0] != '/')
        return api_error(r, ERR_INVALID, "path", "path must be absolute");
    sr_path_clean(path, clean, sizeof(clean));
    c->existed = stat(clean, &st) == 0;
    rc = sr_prepare(clean);
    if (rc)
        return api_error(r, ERR_INVALID, "path",
                         "%s cannot hold a backup repository: %s (an "
                         "absolute, writable directory outside the system "
                         "directories, no '..')",
                         clean,
                         rc == ERR_INVALID ? "not allowed" : err_str(rc));
    if (!realpath(clean, real) ||
        xstrlcpy(c->row.path, real, sizeof(c->row.path)) < 0) {
        rc = api_error(r, ERR_INVALID, "path", "cannot resolve %s", clean);
        if (!c->existed)
            rmdir(clean);
        return rc;
    }
    return 0;
}

static int repo_create_fields(struct resp *r, json_t *body,
                              struct repo_create *c, const char **path_out)
{
    int rc;

    c->level = -1;
    if ((rc = api_get_str(r, body, "name", 1, 1, 64, &c->name)) < 0 ||
        (rc = api_check_name(r, "name", c->name)) < 0 ||
        (rc = api_get_str(r, body, "path", 1, 2, sizeof(c->row.path) - 1,
                          path_out)) < 0 ||
        (rc = api_get_str(r, body, "passphrase", 0, PASSPHRASE_MIN,
                          SEAL_PLAIN_MAX, &c->passphrase)) < 0 ||
        (rc = api_get_int(r, body, "compression_level", 0, 0, 19, &c->level)) <
            0)
        return rc;
    if (rc == 0)
        c->level = -1;
    return 0;
}

int api_backup_repos_create(struct app *app, struct req *q, struct resp *r)
{
    static const char *const allowed[] = { "name", "path", "passphrase",
                                           "compression_level", NULL };
    struct repo_create c;
    const char *path = NULL;
    json_t *body = NULL, *o;
    int rc, locked = 0, prepared = 0;

    memset(&c, 0, sizeof(c));
    rc = api_body(q, r, allowed, &body);
    if (rc)
        return rc;
    rc = repo_create_fields(r, body, &c, &path);
    if (rc)
        goto out;
    pthread_mutex_lock(&repo_create_mu);
    locked = 1;
    /* Taken before anything is touched on disk. */
    rc = repo_check_taken(app, r, NULL, c.name, NULL);
    if (rc)
        goto out;
    rc = repo_check_path(r, path, &c);
    if (rc)
        goto out;
    prepared = 1;
    rc = repo_check_taken(app, r, NULL, c.name, c.row.path);
    if (rc)
        goto out;
    rc = repo_attach_or_init(r, &c);
    if (rc)
        goto out;
    uuid_generate(c.row.id);
    xstrlcpy(c.row.name, c.name, sizeof(c.row.name));
    c.row.created_at = time_now();
    if (c.row.encrypted) {
        rc = backup_repo_seal(app, c.row.id, c.passphrase,
                              c.row.passphrase_sealed,
                              sizeof(c.row.passphrase_sealed));
        if (rc) {
            rc = api_error(r, rc, NULL, "cannot seal the passphrase: %s",
                           err_str(rc));
            goto out;
        }
    }
    rc = db_backup_repo_insert(app->db, &c.row);
    if (rc) {
        rc = api_error(r, rc, rc == ERR_EXISTS ? "name" : NULL,
                       "cannot record the repository: %s", err_str(rc));
        goto out;
    }
    log_info("backup: %s repository %s (%s) at %s%s",
             c.initialised ? "created" : "attached", c.row.name, c.row.id,
             c.row.path, c.row.encrypted ? ", encrypted" : "");
    xstrlcpy(r->audit_target, c.row.id, sizeof(r->audit_target));
    o = repo_to_json(app, &c.row);
    api_backup_repo_event(app, "created", c.row.id);
    rc = api_json(r, 201, o);
    c.initialised = 0; /* kept */
out:
    if (rc && c.initialised)
        repo_uninit(c.row.path, c.existed);
    else if (rc && prepared && !c.existed && rmdir(c.row.path) < 0)
        log_warn("backup: cannot remove %s: %s", c.row.path, strerror(errno));
    if (locked)
        pthread_mutex_unlock(&repo_create_mu);
    seal_wipe(&c.row, sizeof(c.row));
    json_decref(body);
    return rc;
}

/* PATCH passphrase: the repository's passphrase was changed elsewhere
 * (or the stored one is wrong): store the one that opens it now. */
static int repo_new_passphrase(struct app *app, struct resp *r,
                               struct db_backup_repo *row, const char *pass)
{
    struct bk_repo *repo = NULL;
    int rc;

    if (!row->encrypted)
        return api_error(r, ERR_INVALID, "passphrase",
                         "the repository is not encrypted");
    rc = bk_repo_open(row->path, pass, &repo);
    bk_repo_free(repo);
    if (rc == ERR_UNAUTH)
        return api_error(r, ERR_INVALID, "passphrase",
                         "the passphrase does not open the repository");
    if (rc)
        return api_error(r, ERR_CONFLICT, "passphrase",
                         "cannot check the passphrase: the repository is "
                         "unavailable: %s",
                         backup_repo_open_why(rc));
    rc = backup_repo_seal(app, row->id, pass, row->passphrase_sealed,
                          sizeof(row->passphrase_sealed));
    if (rc)
        return api_error(r, rc, NULL, "cannot seal the passphrase: %s",
                         err_str(rc));
    return 0;
}

int api_backup_repo_patch(struct app *app, struct req *q, struct resp *r)
{
    static const char *const allowed[] = { "name", "passphrase", NULL };
    struct db_backup_repo row;
    const char *name = NULL, *pass = NULL;
    json_t *body = NULL;
    int rc, locked = 0;

    memset(&row, 0, sizeof(row));
    rc = api_backup_repo_load(app, q, r, &row);
    if (rc)
        return rc;
    rc = api_body(q, r, allowed, &body);
    if (rc)
        goto out;
    if ((rc = api_get_str(r, body, "name", 0, 1, 64, &name)) < 0 ||
        (name && (rc = api_check_name(r, "name", name)) < 0) ||
        (rc = api_get_str(r, body, "passphrase", 0, PASSPHRASE_MIN,
                          SEAL_PLAIN_MAX, &pass)) < 0)
        goto out;
    pthread_mutex_lock(&repo_create_mu);
    locked = 1;
    if (name) {
        rc = repo_check_taken(app, r, row.id, name, NULL);
        if (rc)
            goto out;
        xstrlcpy(row.name, name, sizeof(row.name));
    }
    if (pass && (rc = repo_new_passphrase(app, r, &row, pass)) < 0)
        goto out;
    rc = db_backup_repo_update(app->db, &row);
    if (rc) {
        rc = api_error(r, rc, rc == ERR_EXISTS ? "name" : NULL,
                       "backup repository %s: %s", row.id, err_str(rc));
        goto out;
    }
    backup_cache_forget(app, row.id);
    if (pass)
        log_info("backup: repository %s (%s): passphrase replaced", row.name,
                 row.id);
    api_backup_repo_event(app, "updated", row.id);
    rc = api_json(r, 200, repo_to_json(app, &row));
out:
    if (locked)
        pthread_mutex_unlock(&repo_create_mu);
    seal_wipe(&row, sizeof(row));
    json_decref(body);
    return rc;
}

int api_backup_repo_delete(struct app *app, struct req *q, struct resp *r)
{
    struct db_backup_repo row;
    int rc;

    rc = api_backup_repo_load(app, q, r, &row);
    if (rc)
        return rc;
    seal_wipe(row.passphrase_sealed, sizeof(row.passphrase_sealed));
    if (backup_repo_in_use(app, row.id))
        return api_error(r, ERR_CONFLICT, NULL,
                         "backup repository %s is used by a job; change or "
                         "delete the job first",
                         row.id);
    rc = db_backup_repo_delete(app->db, row.id);
    if (rc)
        return api_error(r, rc, NULL, "backup repository %s: %s", row.id,
                         err_str(rc));
    backup_cache_forget(app, row.id);
    /* The repository stays on disk: only forgotten. */
    log_info("backup: forgot repository %s (%s); %s is left on disk", row.name,
             row.id, row.path);
    api_backup_repo_event(app, "deleted", row.id);
    r->status = 204;
    return 0;
}
