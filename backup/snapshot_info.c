/* snapshot_info.c: the public view of one snapshot's manifest (job, VM
 * config, disks) for callers outside the engine (the daemon's restore
 * and snapshot list), over bk_manifest_read. Thread safe: no shared
 * state.
 */
#include "backup/bk_internal.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/xalloc.h"

int bk_snapshot_detail(struct bk_repo *repo, const char *snap_id,
                       struct bk_snapshot_detail *out)
{
    struct bk_manifest m;
    size_t i;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = bk_manifest_read(repo, snap_id, &m);
    if (rc)
        return rc;
    out->info = m.info;
    xstrlcpy(out->job, m.job, sizeof(out->job));
    out->vm_config = m.vm_config; /* moved */
    m.vm_config = NULL;
    out->disks = xcalloc(m.num_disks ? m.num_disks : 1, sizeof(*out->disks));
    for (i = 0; i < m.num_disks; i++) {
        xstrlcpy(out->disks[i].name, m.disks[i].name,
                 sizeof(out->disks[i].name));
        out->disks[i].size = m.disks[i].size;
    }
    bk_manifest_release(&m);
    return 0;
}

void bk_snapshot_detail_release(struct bk_snapshot_detail *d)
{
    if (!d)
        return;
    free(d->vm_config);
    free(d->disks);
    memset(d, 0, sizeof(*d));
}

int bk_snapshot_find_bad_chunk(struct bk_repo *repo, const char *snap_id,
                               size_t disk, char chunk_out[BK_ID_HEXLEN],
                               int *missing_out)
{
    struct bk_manifest m;
    struct bk_index ix;
    unsigned char *buf = NULL;
    size_t got;
    uint64_t i;
    int rc;

    chunk_out[0] = '\0';
    *missing_out = 0;
    memset(&ix, 0, sizeof(ix));
    rc = bk_manifest_read(repo, snap_id, &m);
    if (rc)
        return rc == ERR_NOTFOUND ? ERR_IO : rc;
    if (disk >= m.num_disks) {
        rc = ERR_INVALID;
        goto out;
    }
    rc = bk_index_read(repo, m.disks[disk].index, m.disks[disk].index_sha, &ix);
    if (rc) {
        rc = ERR_IO;
        goto out;
    }
    buf = xmalloc(repo->chunk_size);
    rc = ERR_NOTFOUND;
    for (i = 0; i < ix.num && rc == ERR_NOTFOUND; i++) {
        const unsigned char *id = ix.ids + i * BK_ID_LEN;
        int r;

        if (bk_id_is_zero(id))
            continue;
        r = bk_chunk_read(repo, id, buf, repo->chunk_size, &got);
        if (r) {
            bk_id_hex(id, chunk_out);
            *missing_out = r == ERR_NOTFOUND;
            rc = 0;
        }
    }
out:
    free(buf);
    bk_index_release(&ix);
    bk_manifest_release(&m);
    return rc;
}

uint32_t bk_repo_chunk_size(const struct bk_repo *repo)
{
    return repo->chunk_size;
}
