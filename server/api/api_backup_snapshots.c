/* api_backup_snapshots.c: GET /backup/snapshots, the restore points in
 * every repository (or one), newest first, optionally of one VM (the
 * "vm" of the snapshot's VM config, written by backup jobs). Unavailable
 * repositories are skipped (GET /backup/repositories says why). */
#include "server/api/api.h"

#include <stdlib.h>
#include <string.h>

#include "backup/bk.h"
#include "common/err.h"
#include "common/seal.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "db/db_backup_repos.h"
#include "server/api/api_backup.h"
#include "server/api/api_util.h"
#include "server/core/app.h"
#include "server/core/backup_cache.h"
#include "server/core/backup_repo.h"

const char *api_backup_snapshot_vm(const struct bk_snapshot_detail *d,
                                   char out[37])
{
    json_t *cfg;
    const char *vm;

    out[0] = '\0';
    if (!d->vm_config)
        return NULL;
    cfg = json_loads(d->vm_config, 0, NULL);
    vm = json_string_value(json_object_get(cfg, "vm"));
    if (vm && uuid_valid(vm))
        xstrlcpy(out, vm, 37);
    json_decref(cfg);
    return out[0] ? out : NULL;
}

static json_t *opt_str(const char *s)
{
    return s && s[0] ? json_string(s) : json_null();
}

json_t *api_backup_snapshot_json(const char *repo_id,
                                 const struct bk_snapshot_detail *d)
{
    json_t *disks = json_array();
    char vm[37];
    size_t i;

    for (i = 0; i < d->info.num_disks; i++)
        json_array_append_new(disks,
                              json_pack("{s:s, s:I}", "name", d->disks[i].name,
                                        "size", (json_int_t)d->disks[i].size));
    return json_pack("{s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:I, s:b, s:o}", "id",
                     d->info.id, "repository", repo_id, "vm",
                     opt_str(api_backup_snapshot_vm(d, vm)), "name",
                     d->info.name, "time", api_time(d->info.time), "parent",
                     opt_str(d->info.parent), "job", opt_str(d->job), "size",
                     (json_int_t)d->info.size, "protected", d->info.protected_,
                     "disks", disks);
}

struct snap_item {
    int64_t time_ms;
    json_t *obj;
};

struct snap_list {
    struct snap_item *items;
    size_t num, cap;
};

struct list_arg {
    const struct db_backup_repo *row;
    const char *vm;
    struct snap_list *out;
};

/* Append the snapshots of one repository (of VM a->vm when not ""). */
static int list_repo(struct bk_repo *repo, void *arg)
{
    struct list_arg *a = arg;
    const struct db_backup_repo *row = a->row;
    const char *vm = a->vm;
    struct snap_list *out = a->out;
    struct bk_snapshot_info *snaps = NULL;
    size_t i, n = 0;
    int rc;

    rc = bk_snapshot_list(repo, &snaps, &n);
    if (rc)
        return rc;
    for (i = 0; i < n; i++) {
        struct bk_snapshot_detail d;
        char snap_vm[37];

        if (bk_snapshot_detail(repo, snaps[i].id, &d))
            continue;
        if (!vm[0] ||
            (api_backup_snapshot_vm(&d, snap_vm) && !strcmp(snap_vm, vm))) {
            if (out->num == out->cap) {
                out->cap = out->cap ? 2 * out->cap : 16;
                out->items =
                    xrealloc(out->items, out->cap * sizeof(*out->items));
            }
            out->items[out->num].time_ms = d.info.time_ms;
            out->items[out->num++].obj = api_backup_snapshot_json(row->id, &d);
        }
        bk_snapshot_detail_release(&d);
    }
    free(snaps);
    return 0;
}

static int newest_first(const void *a, const void *b)
{
    const struct snap_item *x = a, *y = b;

    return (x->time_ms < y->time_ms) - (x->time_ms > y->time_ms);
}

/* Query parameter key: "" when absent, else a UUID (400 naming it). */
static int query_uuid(const struct req *q, struct resp *r, const char *key,
                      char out[37])
{
    int rc = req_query(q, key, out, 37);

    if (rc == ERR_NOTFOUND) {
        out[0] = '\0';
        return 0;
    }
    if (rc || !uuid_valid(out))
        return api_error(r, ERR_INVALID, key, "%s must be an id", key);
    return 0;
}

int api_backup_snapshots_list(struct app *app, struct req *q, struct resp *r)
{
    struct db_backup_repo *list = NULL;
    struct snap_list out = { NULL, 0, 0 };
    char vm[37], repo_id[37];
    size_t i, num = 0;
    json_t *arr;
    int rc;

    if ((rc = query_uuid(q, r, "vm", vm)) < 0 ||
        (rc = query_uuid(q, r, "repository", repo_id)) < 0)
        return rc;
    rc = db_backup_repo_list(app->db, &list, &num);
    if (rc)
        return rc;
    for (i = 0; i < num; i++)
        if (!repo_id[0] || !strcmp(list[i].id, repo_id))
            break;
    if (repo_id[0] && i == num) {
        rc = api_error(r, ERR_INVALID, "repository",
                       "repository %s is not a known backup repository",
                       repo_id);
        goto out;
    }
    for (i = 0; i < num; i++) {
        struct list_arg a = { &list[i], vm, &out };

        /* An unavailable repository adds nothing. */
        if (!repo_id[0] || !strcmp(list[i].id, repo_id))
            backup_cache_use(app, &list[i], list_repo, &a);
    }
    if (out.num)
        qsort(out.items, out.num, sizeof(*out.items), newest_first);
    arr = json_array();
    for (i = 0; i < out.num; i++)
        json_array_append_new(arr, out.items[i].obj);
    rc = api_json(r, 200, arr);
out:
    free(out.items);
    seal_wipe(list, num * sizeof(*list));
    free(list);
    return rc;
}
