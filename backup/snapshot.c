/* snapshot.c: snapshot manifests (snapshots/<id>.json): write (the
 * snapshot appears atomically), read, list and remove. Manifests are
 * capped at 1 MiB when read, and sealed in format-2 encrypted
 * repositories (metaseal.c). Thread safe: no shared state.
 */
#include "backup/bk_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/uuid.h"
#include "common/xalloc.h"

#define MANIFEST_MAX (1024 * 1024)

void bk_manifest_release(struct bk_manifest *m)
{
    if (!m)
        return;
    free(m->vm_config);
    free(m->disks);
    memset(m, 0, sizeof(*m));
}

/* The manifest's JSON text (**new**). */
static char *manifest_json(const struct bk_repo *repo,
                           const struct bk_manifest *m)
{
    json_t *o = json_object(), *disks = json_array(), *cfg = NULL;
    char t[21], *txt;

    time_rfc3339(m->info.time, t);
    json_object_set_new(o, "version", json_integer(repo->format));
    json_object_set_new(o, "id", json_string(m->info.id));
    json_object_set_new(o, "name", json_string(m->info.name));
    json_object_set_new(o, "time", json_string(t));
    json_object_set_new(o, "time_unix", json_integer(m->info.time));
    json_object_set_new(o, "time_ms", json_integer(m->info.time_ms));
    json_object_set_new(o, "job",
                        m->job[0] ? json_string(m->job) : json_null());
    json_object_set_new(o, "parent",
                        m->info.parent[0] ? json_string(m->info.parent)
                                          : json_null());
    json_object_set_new(o, "protected", json_boolean(m->info.protected_));
    if (m->vm_config)
        cfg = json_loads(m->vm_config, 0, NULL);
    json_object_set_new(o, "vm_config", cfg ? cfg : json_null());
    for (size_t i = 0; i < m->num_disks; i++) {
        const struct bk_disk_meta *d = &m->disks[i];

        json_array_append_new(
            disks, json_pack("{s:s,s:I,s:I,s:s,s:s,s:I,s:b}", "name", d->name,
                             "size", (json_int_t)d->size, "chunks",
                             (json_int_t)((d->size + repo->chunk_size - 1) /
                                          repo->chunk_size),
                             "index", d->index, "index_sha256", d->index_sha,
                             "bytes_read", (json_int_t)d->bytes_read,
                             "changemap", d->changemap));
    }
    json_object_set_new(o, "disks", disks);
    txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return txt;
}

/* Write the manifest atomically, or only stage it when tmp_out is set. */
static int manifest_store(const struct bk_repo *repo,
                          const struct bk_manifest *m, char *tmp_out)
{
    char rel[96], *txt = manifest_json(repo, m);
    unsigned char *f = (unsigned char *)txt, *sealed = NULL;
    size_t len = strlen(txt);
    int rc;

    snprintf(rel, sizeof(rel), "snapshots/%s.json", m->info.id);
    if (bk_meta_sealed(repo)) {
        bk_meta_seal(repo, BK_META_MANIFEST, rel, txt, len, &sealed, &len);
        f = sealed;
    }
    rc = tmp_out ? bk_write_file_staged(repo, rel, f, len, tmp_out)
                 : bk_write_file_atomic(repo, rel, f, len);
    free(sealed);
    free(txt);
    return rc;
}

int bk_manifest_write(const struct bk_repo *repo, const struct bk_manifest *m)
{
    return manifest_store(repo, m, NULL);
}

int bk_manifest_stage(const struct bk_repo *repo, const struct bk_manifest *m,
                      char tmp_out[BK_TMP_LEN])
{
    return manifest_store(repo, m, tmp_out);
}

static void copy_str(json_t *o, const char *key, char *dst, size_t cap)
{
    const char *s = json_string_value(json_object_get(o, key));

    dst[0] = 0;
    if (s)
        xstrlcpy(dst, s, cap);
}

/* Open the sealed manifest txt[*len] in place: 0 or ERR_IO (logged). */
static int unseal(const struct bk_repo *repo, const char *id, const char *rel,
                  char **txt, size_t *len)
{
    unsigned char *plain;
    size_t plen;
    int rc;

    rc = bk_meta_open(repo, BK_META_MANIFEST, rel, *txt, *len, &plain, &plen);
    if (rc) {
        log_error("backup: snapshot %s: manifest %s: %s", id, rel,
                  bk_meta_why(rc));
        return ERR_IO;
    }
    free(*txt);
    *txt = (char *)plain;
    *len = plen;
    return 0;
}

int bk_manifest_read(const struct bk_repo *repo, const char *id,
                     struct bk_manifest *m)
{
    char rel[96], *txt = NULL;
    size_t len;
    json_t *o = NULL, *disks, *d, *cfg;
    size_t i;
    int rc;

    memset(m, 0, sizeof(*m));
    if (!uuid_valid(id))
        return ERR_NOTFOUND;
    snprintf(rel, sizeof(rel), "snapshots/%s.json", id);
    rc = bk_read_file(repo, rel, MANIFEST_MAX + BK_META_OVER, &txt, &len);
    if (rc)
        return rc == ERR_TOOBIG ? ERR_IO : rc;
    if (bk_meta_sealed(repo)) {
        rc = unseal(repo, id, rel, &txt, &len);
        if (rc)
            goto out;
    }
    o = json_loadb(txt, len, 0, NULL);
    disks = json_object_get(o, "disks");
    if (!json_is_object(o) || !json_is_array(disks) ||
        json_integer_value(json_object_get(o, "version")) != repo->format) {
        log_error("backup: snapshot %s: bad manifest (%s)", id, rel);
        rc = ERR_IO;
        goto out;
    }
    copy_str(o, "id", m->info.id, sizeof(m->info.id));
    copy_str(o, "name", m->info.name, sizeof(m->info.name));
    copy_str(o, "parent", m->info.parent, sizeof(m->info.parent));
    copy_str(o, "job", m->job, sizeof(m->job));
    m->info.time = json_integer_value(json_object_get(o, "time_unix"));
    m->info.time_ms = json_integer_value(json_object_get(o, "time_ms"));
    if (!m->info.time_ms)
        m->info.time_ms = m->info.time * 1000;
    m->info.protected_ = json_is_true(json_object_get(o, "protected"));
    cfg = json_object_get(o, "vm_config");
    if (json_is_object(cfg))
        m->vm_config = json_dumps(cfg, JSON_COMPACT);
    m->num_disks = json_array_size(disks);
    m->info.num_disks = m->num_disks;
    m->disks = xcalloc(m->num_disks ? m->num_disks : 1, sizeof(*m->disks));
    json_array_foreach(disks, i, d) {
        struct bk_disk_meta *dm = &m->disks[i];

        copy_str(d, "name", dm->name, sizeof(dm->name));
        copy_str(d, "index", dm->index, sizeof(dm->index));
        copy_str(d, "index_sha256", dm->index_sha, sizeof(dm->index_sha));
        dm->size = (uint64_t)json_integer_value(json_object_get(d, "size"));
        dm->bytes_read =
            (uint64_t)json_integer_value(json_object_get(d, "bytes_read"));
        dm->changemap = json_is_true(json_object_get(d, "changemap"));
        m->info.size += dm->size;
        if (strchr(dm->index, '/') || !dm->index[0]) {
            rc = ERR_IO;
            goto out;
        }
    }
    if (strcmp(m->info.id, id)) {
        rc = ERR_IO;
        goto out;
    }
    rc = 0;
out:
    if (rc)
        bk_manifest_release(m);
    json_decref(o);
    free(txt);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int bk_manifest_ids(const struct bk_repo *repo, char ***ids_out,
                    size_t *num_out)
{
    DIR *d = bk_opendir_at(repo->dirfd, "snapshots");
    struct dirent *e;
    char **v = NULL;
    size_t n = 0, cap = 0;

    if (!d) {
        int en = errno;

        return bk_fail(repo, err_from_errno(en),
                       "listing the snapshots in %s: %s", repo->dir,
                       strerror(en));
    }
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);

        if (l != 36 + 5 || strcmp(e->d_name + 36, ".json"))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            v = xrealloc(v, cap * sizeof(*v));
        }
        v[n++] = xstrndup(e->d_name, 36);
    }
    closedir(d);
    if (n)
        qsort(v, n, sizeof(*v), cmp_str);
    *ids_out = v;
    *num_out = n;
    return 0;
}

int bk_manifest_remove(const struct bk_repo *repo, const char *id)
{
    struct bk_manifest m;
    char rel[128];
    int rc = bk_manifest_read(repo, id, &m), dfd;

    snprintf(rel, sizeof(rel), "snapshots/%s.json", id);
    if (unlinkat(repo->dirfd, rel, 0) && errno != ENOENT)
        return err_from_errno(errno);
    dfd = openat(repo->dirfd, "snapshots", O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    if (rc)
        return 0; /* a damaged manifest: its indexes are left to gc */
    for (size_t i = 0; i < m.num_disks; i++) {
        snprintf(rel, sizeof(rel), "indexes/%s", m.disks[i].index);
        unlinkat(repo->dirfd, rel, 0);
    }
    bk_manifest_release(&m);
    return 0;
}

void bk_strv_free(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int cmp_time(const void *a, const void *b)
{
    const struct bk_snapshot_info *x = a, *y = b;

    if (x->time_ms != y->time_ms)
        return x->time_ms < y->time_ms ? -1 : 1;
    return strcmp(x->id, y->id);
}

int bk_snapshot_list(struct bk_repo *repo, struct bk_snapshot_info **snaps_out,
                     size_t *num_out)
{
    char **ids = NULL;
    size_t n = 0, k = 0;
    struct bk_snapshot_info *v;
    int rc = bk_manifest_ids(repo, &ids, &n);

    if (rc)
        return rc;
    v = xcalloc(n ? n : 1, sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        struct bk_manifest m;

        if (bk_manifest_read(repo, ids[i], &m)) {
            log_warn("backup: snapshot %s: unreadable manifest", ids[i]);
            continue;
        }
        v[k++] = m.info;
        bk_manifest_release(&m);
    }
    bk_strv_free(ids, n);
    qsort(v, k, sizeof(*v), cmp_time);
    *snaps_out = v;
    *num_out = k;
    return 0;
}

int bk_snapshot_resolve(struct bk_repo *repo, const char *prefix,
                        char id_out[BK_SNAPID_LEN])
{
    char **ids = NULL;
    size_t n = 0, len = strlen(prefix), hits = 0;
    int rc;

    if (len < 4)
        return ERR_INVALID;
    rc = bk_manifest_ids(repo, &ids, &n);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (!strncmp(ids[i], prefix, len)) {
            hits++;
            xstrlcpy(id_out, ids[i], BK_SNAPID_LEN);
        }
    }
    bk_strv_free(ids, n);
    if (hits == 0)
        return ERR_NOTFOUND;
    return hits == 1 ? 0 : ERR_CONFLICT;
}
