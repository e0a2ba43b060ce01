/* snapshot_info.c: the public view of one snapshot's manifest (job, VM
 * config, disks) for callers outside the engine (the daemon's restore
 * and snapshot list), over bk_manifest_read. Thread safe: no shared
 * state.
 */
#include "backup/bk_internal.h"

#include <stdlib.h>
#include <string.h>

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

uint32_t bk_repo_chunk_size(const struct bk_repo *repo)
{
    return repo->chunk_size;
}
