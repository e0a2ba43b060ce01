/* api_disks.c: virtual disks, raw images in a file SR. The image file
 * is created before the row and removed if the row cannot be written,
 * so a failed create leaves neither. */
#include "server/api/api.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "db/db_storage.h"
#include "server/api/api_util.h"
#include "server/core/app.h"
#include "server/core/events.h"
#include "server/core/sr.h"

#define DISK_MIN_SIZE (1024LL * 1024)
#define DISK_MAX_SIZE (64LL * 1024 * 1024 * 1024 * 1024)

json_t *api_disk_json(const struct db_disk *d, const char *sr_path)
{
    uint64_t used = 0;
    json_t *o, *att = json_null();

    if (d->attached_vm[0])
        att = json_pack("{s:s, s:s}", "vm", d->attached_vm, "device",
                        d->attached_device);
    o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:o, s:o}", "id", d->id, "name",
                  d->name, "sr", d->sr_id, "size_bytes",
                  (json_int_t)d->size_bytes, "format", d->format, "created_at",
                  api_time(d->created_at), "attached", att);
    json_object_set_new(o, "snapshot_of",
                        d->snapshot_of[0] ? json_string(d->snapshot_of)
                                          : json_null());
    if (sr_path && sr_image_used(sr_path, d->file, &used) == 0)
        json_object_set_new(o, "used_bytes", json_integer((json_int_t)used));
    else
        json_object_set_new(o, "used_bytes", json_null());
    return o;
}

/* The disk of path parameter 0 and its SR; errors written to r. */
static int disk_load(struct app *app, struct req *q, struct resp *r,
                     struct db_disk *d, struct db_sr *sr)
{
    const char *id;
    int rc;

    if (api_param_uuid(q, r, 0, &id))
        return ERR_INVALID;
    xstrlcpy(r->audit_target, id, sizeof(r->audit_target));
    rc = db_disk_get(app->db, id, d);
    if (!rc)
        rc = db_sr_get(app->db, d->sr_id, sr);
    if (rc)
        return api_error(r, rc, NULL, "disk %s: %s", id, err_str(rc));
    return 0;
}

static int disk_check_size(struct resp *r, int64_t size)
{
    if (size % 512)
        return api_error(r, ERR_INVALID, "size_bytes",
                         "size_bytes must be a multiple of 512");
    return 0;
}

int api_disks_list(struct app *app, struct req *q, struct resp *r)
{
    struct db_disk *list = NULL;
    struct db_sr *srs = NULL;
    size_t i, j, num = 0, num_srs = 0;
    char sr_id[64];
    const char *filter = NULL;
    json_t *arr;
    int rc;

    rc = req_query(q, "sr", sr_id, sizeof(sr_id));
    if (rc == 0) {
        if (!uuid_valid(sr_id))
            return api_error(r, ERR_INVALID, "sr", "sr must be an SR id");
        filter = sr_id;
    } else if (rc != ERR_NOTFOUND) {
        return api_error(r, ERR_INVALID, "sr", "sr must be an SR id");
    }
    rc = db_sr_list(app->db, &srs, &num_srs);
    if (!rc)
        rc = db_disk_list(app->db, filter, &list, &num);
    if (rc) {
        free(srs);
        return rc;
    }
    arr = json_array();
    for (i = 0; i < num; i++) {
        const char *path = NULL;

        for (j = 0; j < num_srs && !path; j++)
            if (!strcmp(srs[j].id, list[i].sr_id))
                path = srs[j].path;
        json_array_append_new(arr, api_disk_json(&list[i], path));
    }
    free(list);
    free(srs);
    return api_json(r, 200, arr);
}

int api_disks_create(struct app *app, struct req *q, struct resp *r)
{
    static const char *const allowed[] = { "name", "sr", "size_bytes", NULL };
    const char *name, *sr_id;
    struct db_disk d;
    struct db_sr sr;
    json_t *body = NULL, *o;
    int rc;

    memset(&d, 0, sizeof(d));
    rc = api_body(q, r, allowed, &body);
    if (rc)
        return rc;
    if ((rc = api_get_str(r, body, "name", 1, 1, 64, &name)) < 0 ||
        (rc = api_check_name(r, "name", name)) < 0 ||
        (rc = api_get_str(r, body, "sr", 1, 1, 36, &sr_id)) < 0 ||
        (rc = api_get_int(r, body, "size_bytes", 1, DISK_MIN_SIZE,
                          DISK_MAX_SIZE, &d.size_bytes)) < 0 ||
        (rc = disk_check_size(r, d.size_bytes)) < 0)
        goto out;
    if (!uuid_valid(sr_id) || db_sr_get(app->db, sr_id, &sr)) {
        rc = api_error(r, ERR_INVALID, "sr", "sr '%s' is not a known SR id",
                       sr_id);
        goto out;
    }
    uuid_generate(d.id);
    xstrlcpy(d.name, name, sizeof(d.name));
    xstrlcpy(d.sr_id, sr.id, sizeof(d.sr_id));
    xstrlcpy(d.format, "raw", sizeof(d.format));
    d.created_at = time_now();
    rc = sr_image_create(sr.path, d.id, (uint64_t)d.size_bytes, d.file);
    if (rc == ERR_NOTFOUND) {
        rc =
            api_error(r, ERR_CONFLICT, "sr",
                      "the directory %s of SR %s is missing", sr.path, sr.name);
        goto out;
    }
    if (rc) {
        rc = api_error(r, rc, NULL, "cannot create the image in SR %s: %s",
                       sr.name, err_str(rc));
        goto out;
    }
    rc = db_disk_insert(app->db, &d);
    if (rc) {
        sr_image_delete(sr.path, d.file);
        rc = api_error(r, rc, NULL, "cannot record the disk: %s", err_str(rc));
        goto out;
    }
    xstrlcpy(r->audit_target, d.id, sizeof(r->audit_target));
    o = api_disk_json(&d, sr.path);
    events_publish(app->events, "disk", "created", d.id, json_deep_copy(o));
    rc = api_json(r, 201, o);
out:
    json_decref(body);
    return rc;
}

int api_disk_get(struct app *app, struct req *q, struct resp *r)
{
    struct db_disk d;
    struct db_sr sr;

    if (disk_load(app, q, r, &d, &sr))
        return ERR_INVALID;
    return api_json(r, 200, api_disk_json(&d, sr.path));
}

/* Grow the image and the row together: the row first, the file next,
 * the row back if the file cannot grow. */
static int disk_grow(struct app *app, struct resp *r, struct db_disk *d,
                     const struct db_sr *sr, int64_t size)
{
    int64_t old = d->size_bytes;
    int rc;

    d->size_bytes = size;
    rc = db_disk_update(app->db, d);
    if (rc)
        return api_error(r, rc, NULL, "cannot record the size: %s",
                         err_str(rc));
    rc = sr_image_resize(sr->path, d->file, (uint64_t)size);
    if (rc) {
        d->size_bytes = old;
        if (db_disk_update(app->db, d))
            log_error("disk %s: size in the DB and on disk differ", d->id);
        return api_error(r, rc, "size_bytes", "cannot grow the image: %s",
                         err_str(rc));
    }
    return 0;
}

int api_disk_patch(struct app *app, struct req *q, struct resp *r)
{
    static const char *const allowed[] = { "name", "size_bytes", NULL };
    const char *name = NULL;
    char state[16];
    int64_t size = 0;
    struct db_disk d;
    struct db_sr sr;
    json_t *body = NULL, *o;
    int rc, has_size;

    if (disk_load(app, q, r, &d, &sr))
        return ERR_INVALID;
    rc = api_body(q, r, allowed, &body);
    if (rc)
        return rc;
    if ((rc = api_get_str(r, body, "name", 0, 1, 64, &name)) < 0 ||
        (name && (rc = api_check_name(r, "name", name)) < 0) ||
        (rc = api_get_int(r, body, "size_bytes", 0, DISK_MIN_SIZE,
                          DISK_MAX_SIZE, &size)) < 0)
        goto out;
    has_size = rc == 1;
    if (has_size && (rc = disk_check_size(r, size)) < 0)
        goto out;
    if (has_size && size < d.size_bytes) {
        rc = api_error(r, ERR_INVALID, "size_bytes",
                       "disks only grow: size_bytes %lld is below the "
                       "current %lld",
                       (long long)size, (long long)d.size_bytes);
        goto out;
    }
    if (name)
        xstrlcpy(d.name, name, sizeof(d.name));
    if (has_size && size > d.size_bytes) {
        /* Allowed while attached to a running VM: the file grows now,
         * the guest sees the new size after its next boot. */
        rc = disk_grow(app, r, &d, &sr, size);
    } else {
        rc = db_disk_update(app->db, &d);
        if (rc)
            rc = api_error(r, rc, NULL, "disk %s: %s", d.id, err_str(rc));
    }
    if (rc)
        goto out;
    o = api_disk_json(&d, sr.path);
    if (has_size && !db_disk_vm_state(app->db, d.id, state) && state[0] &&
        strcmp(state, "halted"))
        json_object_set_new(o, "note",
                            json_string("the VM sees the new size after "
                                        "its next reboot"));
    events_publish(app->events, "disk", "updated", d.id, json_deep_copy(o));
    rc = api_json(r, 200, o);
out:
    json_decref(body);
    return rc;
}

int api_disk_delete(struct app *app, struct req *q, struct resp *r)
{
    struct db_disk d;
    struct db_sr sr;
    int rc;

    if (disk_load(app, q, r, &d, &sr))
        return ERR_INVALID;
    rc = db_disk_delete(app->db, d.id);
    if (rc == ERR_CONFLICT && d.attached_vm[0])
        return api_error(r, rc, NULL, "disk %s is attached to VM %s as %s",
                         d.id, d.attached_vm, d.attached_device);
    if (rc == ERR_CONFLICT)
        return api_error(r, rc, NULL, "disk %s is held by a VM snapshot", d.id);
    if (rc)
        return api_error(r, rc, NULL, "disk %s: %s", d.id, err_str(rc));
    /* The row is gone first: a crash now leaves an orphan file, never a
     * row without its image. */
    rc = sr_image_delete(sr.path, d.file);
    if (rc)
        log_warn("disk %s: image %s/%s not removed: %s", d.id, sr.path, d.file,
                 err_str(rc));
    events_publish(app->events, "disk", "deleted", d.id, NULL);
    r->status = 204;
    return 0;
}

/* A file descriptor holding q's body: the spooled upload, or (for a
 * front-end that buffered a small body) a memfd copy. **new** fd or -1
 * when there is no body. */
static int disk_body_fd(const struct req *q)
{
    size_t done = 0;
    int fd;

    if (q->body_fd >= 0)
        return dup(q->body_fd);
    if (!q->body || !q->body_len)
        return -1;
    fd = memfd_create("xenith-upload", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    while (done < q->body_len) {
        ssize_t n = write(fd, q->body + done, q->body_len - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)n;
    }
    return fd;
}

int api_disk_import(struct app *app, struct req *q, struct resp *r)
{
    struct db_disk d;
    struct db_sr sr;
    char state[16];
    uint64_t len = 0;
    json_t *o;
    int fd, rc;

    if (disk_load(app, q, r, &d, &sr))
        return ERR_INVALID;
    rc = db_disk_vm_state(app->db, d.id, state);
    if (rc)
        return rc;
    if (state[0] && strcmp(state, "halted"))
        return api_error(r, ERR_CONFLICT, NULL,
                         "disk %s is attached to a %s VM; stop it first", d.id,
                         state);
    fd = disk_body_fd(q);
    if (fd < 0)
        return api_error(r, ERR_INVALID, NULL,
                         "the body must be the raw image");
    /* NEEDSWORK: runs inline in the handler; big images should become
     * a task with progress instead. */
    rc = sr_image_import(sr.path, d.file, fd, (uint64_t)d.size_bytes, &len);
    close(fd);
    if (rc == ERR_TOOBIG)
        return api_error(r, rc, "size_bytes",
                         "the image is larger than the disk's size_bytes "
                         "(%lld); grow the disk first",
                         (long long)d.size_bytes);
    if (rc)
        return api_error(r, rc, NULL, "import into disk %s failed: %s", d.id,
                         err_str(rc));
    log_info("disk %s: imported %llu bytes", d.id, (unsigned long long)len);
    o = api_disk_json(&d, sr.path);
    events_publish(app->events, "disk", "updated", d.id, json_deep_copy(o));
    return api_json(r, 200, o);
}

int api_disk_export(struct app *app, struct req *q, struct resp *r)
{
    struct db_disk d;
    struct db_sr sr;
    char cd[128];
    int fd, rc;

    if (disk_load(app, q, r, &d, &sr))
        return ERR_INVALID;
    rc = sr_image_open(sr.path, d.file, &fd);
    if (rc)
        return api_error(r, rc, NULL, "cannot open the image of disk %s: %s",
                         d.id, err_str(rc));
    /* Names hold only [A-Za-z0-9 ._-]: safe inside the quotes. */
    snprintf(cd, sizeof(cd), "attachment; filename=\"%s.raw\"", d.name);
    resp_header(r, "Content-Disposition", cd);
    r->status = 200;
    r->content_type = "application/octet-stream";
    r->body_fd = fd;
    r->body_fd_len = d.size_bytes;
    return 0;
}
