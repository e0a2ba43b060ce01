/* api_srs.c: storage repositories. A file SR is a directory of sparse
 * raw images (server/core/sr.c); deleting one only forgets it: the
 * directory stays on disk. */
#include "server/api/api.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "db/db.h"
#include "db/db_storage.h"
#include "server/api/api_util.h"
#include "server/core/app.h"
#include "server/core/events.h"
#include "server/core/sr.h"

/* SR creation is serialised: the taken-check, the mkdir and the insert
 * of one request never interleave with another's (a loser must not
 * rmdir the directory the winner just made). */
static pthread_mutex_t sr_create_mu = PTHREAD_MUTEX_INITIALIZER;

static json_t *sr_to_json(struct app *app, const struct db_sr *sr)
{
    struct sr_usage u;
    int64_t ndisks = 0;
    json_t *o;

    o = json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", sr->id, "name", sr->name,
                  "type", sr->type, "path", sr->path, "created_at",
                  api_time(sr->created_at));
    db_sr_disk_count(app->db, sr->id, &ndisks);
    json_object_set_new(o, "disks", json_integer(ndisks));
    if (sr_usage(sr->path, &u) == 0) {
        json_object_set_new(o, "online", json_true());
        json_object_set_new(o, "size_bytes", json_integer(u.size_bytes));
        json_object_set_new(o, "used_bytes", json_integer(u.used_bytes));
        json_object_set_new(o, "free_bytes", json_integer(u.free_bytes));
        json_object_set_new(o, "reflink", json_boolean(u.reflink));
    } else {
        /* The directory is gone or unreadable: say so, do not fail. */
        json_object_set_new(o, "online", json_false());
        json_object_set_new(o, "size_bytes", json_null());
        json_object_set_new(o, "used_bytes", json_null());
        json_object_set_new(o, "free_bytes", json_null());
        json_object_set_new(o, "reflink", json_null());
    }
    return o;
}

int api_srs_list(struct app *app, struct req *q, struct resp *r)
{
    struct db_sr *list = NULL;
    size_t i, num = 0;
    json_t *arr;
    int rc;

    (void)q;
    rc = db_sr_list(app->db, &list, &num);
    if (rc)
        return rc;
    arr = json_array();
    for (i = 0; i < num; i++)
        json_array_append_new(arr, sr_to_json(app, &list[i]));
    free(list);
    return api_json(r, 200, arr);
}

/* 409 naming the field when name or path is taken, else 0. */
static int sr_check_taken(struct app *app, struct resp *r, const char *name,
                          const char *path)
{
    struct db_sr *list = NULL;
    size_t i, num = 0;
    int rc;

    rc = db_sr_list(app->db, &list, &num);
    if (rc)
        return rc;
    for (i = 0; i < num && !rc; i++) {
        if (!strcmp(list[i].name, name))
            rc = api_error(r, ERR_EXISTS, "name", "an SR named '%s' exists",
                           name);
        else if (!strcmp(list[i].path, path))
            rc = api_error(r, ERR_EXISTS, "path", "SR '%s' already uses %s",
                           list[i].name, path);
    }
    free(list);
    return rc;
}

/* Insert the SR and, when the pool has no default SR, make it the
 * default: one transaction. pool_out[37] gets the pool's id when it
 * changed, else "". */
static int sr_insert(struct app *app, const struct db_sr *sr, char *pool_out)
{
    struct db_pool pool;
    int rc;

    pool_out[0] = '\0';
    rc = db_begin(app->db);
    if (rc)
        return rc;
    rc = db_sr_insert(app->db, sr);
    if (!rc)
        rc = db_pool_get(app->db, &pool);
    if (!rc && !pool.default_sr[0]) {
        xstrlcpy(pool.default_sr, sr->id, sizeof(pool.default_sr));
        rc = db_pool_update(app->db, &pool);
        if (!rc)
            xstrlcpy(pool_out, pool.id, UUID_STRLEN);
    }
    if (rc) {
        db_rollback(app->db);
        pool_out[0] = '\0';
        return rc;
    }
    rc = db_commit(app->db);
    if (rc)
        pool_out[0] = '\0';
    return rc;
}

int api_srs_create(struct app *app, struct req *q, struct resp *r)
{
    static const char *const allowed[] = { "name", "type", "path", NULL };
    const char *name, *type, *path;
    struct db_sr sr;
    struct stat st;
    json_t *body = NULL, *o;
    char pool_id[UUID_STRLEN];
    int rc, existed, locked = 0;

    memset(&sr, 0, sizeof(sr));
    rc = api_body(q, r, allowed, &body);
    if (rc)
        return rc;
    if ((rc = api_get_str(r, body, "name", 1, 1, 64, &name)) < 0 ||
        (rc = api_check_name(r, "name", name)) < 0 ||
        (rc = api_get_str(r, body, "type", 1, 1, 15, &type)) < 0)
        goto out;
    if (strcmp(type, "file")) {
        rc = api_error(r, ERR_INVALID, "type", "type must be \"file\"");
        goto out;
    }
    if ((rc = api_get_str(r, body, "path", 1, 2, sizeof(sr.path) - 1, &path)) <
        0)
        goto out;
    if (path[0] != '/') {
        rc = api_error(r, ERR_INVALID, "path", "path must be absolute");
        goto out;
    }
    sr_path_clean(path, sr.path, sizeof(sr.path));
    pthread_mutex_lock(&sr_create_mu);
    locked = 1;
    rc = sr_check_taken(app, r, name, sr.path);
    if (rc)
        goto out;
    existed = stat(sr.path, &st) == 0;
    rc = sr_prepare(sr.path);
    if (rc) {
        rc =
            api_error(r, ERR_INVALID, "path",
                      "%s cannot be an SR: %s (an absolute, writable "
                      "directory outside the system directories, no "
                      "'..')",
                      sr.path, rc == ERR_INVALID ? "not allowed" : err_str(rc));
        goto out;
    }
    uuid_generate(sr.id);
    xstrlcpy(sr.name, name, sizeof(sr.name));
    xstrlcpy(sr.type, "file", sizeof(sr.type));
    sr.created_at = time_now();
    rc = sr_insert(app, &sr, pool_id);
    if (rc) {
        if (!existed && rmdir(sr.path) < 0)
            log_warn("sr: cannot remove %s: %s", sr.path, strerror(errno));
        if (rc == ERR_EXISTS)
            rc = api_error(r, rc, "name", "the SR name or path is taken");
        goto out;
    }
    log_info("sr: created %s (%s) at %s", sr.name, sr.id, sr.path);
    xstrlcpy(r->audit_target, sr.id, sizeof(r->audit_target));
    o = sr_to_json(app, &sr);
    events_publish(app->events, "sr", "created", sr.id, json_deep_copy(o));
    if (pool_id[0])
        events_publish(app->events, "pool", "updated", pool_id,
                       json_pack("{s:s}", "default_sr", sr.id));
    rc = api_json(r, 201, o);
out:
    if (locked)
        pthread_mutex_unlock(&sr_create_mu);
    json_decref(body);
    return rc;
}

int api_sr_get(struct app *app, struct req *q, struct resp *r)
{
    struct db_sr sr;
    const char *id;
    int rc;

    if (api_param_uuid(q, r, 0, &id))
        return ERR_INVALID;
    rc = db_sr_get(app->db, id, &sr);
    if (rc)
        return api_error(r, rc, NULL, "SR %s: %s", id, err_str(rc));
    return api_json(r, 200, sr_to_json(app, &sr));
}

int api_sr_delete(struct app *app, struct req *q, struct resp *r)
{
    struct db_pool pool;
    struct db_sr sr;
    const char *id;
    int64_t n = 0;
    int rc;

    if (api_param_uuid(q, r, 0, &id))
        return ERR_INVALID;
    xstrlcpy(r->audit_target, id, sizeof(r->audit_target));
    rc = db_sr_get(app->db, id, &sr);
    if (!rc)
        rc = db_pool_get(app->db, &pool);
    if (!rc)
        rc = db_sr_delete(app->db, id);
    if (rc == ERR_CONFLICT) {
        db_sr_disk_count(app->db, id, &n);
        return api_error(r, rc, NULL,
                         "SR %s still holds %lld disk(s); delete them first",
                         id, (long long)n);
    }
    if (rc)
        return api_error(r, rc, NULL, "SR %s: %s", id, err_str(rc));
    /* The directory and anything in it stay on disk: only forgotten. */
    log_info("sr: forgot %s (%s); %s is left on disk", sr.name, id, sr.path);
    events_publish(app->events, "sr", "deleted", id, NULL);
    if (!strcmp(pool.default_sr, id)) /* cleared by ON DELETE SET NULL */
        events_publish(app->events, "pool", "updated", pool.id,
                       json_pack("{s:n}", "default_sr"));
    r->status = 204;
    return 0;
}
