/* changemap.c: which chunks of a reflink clone differ from an older
 * clone of the same disk, from the two files' extent maps (FIEMAP). An
 * extent of the new file that is shared and sits at the same physical
 * address in the old file at the same logical offset holds the same
 * bytes; holes in both hold zeroes; everything else is "changed".
 * Thread safe: no shared state.
 */
#include "backup/bk_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"

#define FIE_BATCH 512
#define NO_ADDR                                                               \
    (FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC | FIEMAP_EXTENT_ENCODED | \
     FIEMAP_EXTENT_NOT_ALIGNED | FIEMAP_EXTENT_DATA_INLINE)

struct ext {
    uint64_t log, phys, len;
};

/* All extents of fd (**new** array), FIEMAP_FLAG_SYNC so delayed
 * allocations are resolved first. */
static int extents(int fd, struct ext **v_out, size_t *n_out)
{
    size_t sz =
        sizeof(struct fiemap) + FIE_BATCH * sizeof(struct fiemap_extent);
    struct fiemap *fm = xmalloc(sz);
    struct ext *v = NULL;
    size_t n = 0, cap = 0;
    uint64_t start = 0;
    int last = 0, rc = 0;

    while (!last) {
        memset(fm, 0, sz);
        fm->fm_start = start;
        fm->fm_length = FIEMAP_MAX_OFFSET - start;
        fm->fm_flags = FIEMAP_FLAG_SYNC;
        fm->fm_extent_count = FIE_BATCH;
        if (ioctl(fd, FS_IOC_FIEMAP, fm) < 0) {
            rc = ERR_UNSUPPORTED;
            goto out;
        }
        if (fm->fm_mapped_extents == 0)
            break;
        for (unsigned i = 0; i < fm->fm_mapped_extents; i++) {
            struct fiemap_extent *e = &fm->fm_extents[i];

            if (n == cap) {
                cap = cap ? 2 * cap : 256;
                v = xrealloc(v, cap * sizeof(*v));
            }
            v[n].log = e->fe_logical;
            v[n].phys = e->fe_physical;
            v[n].len = e->fe_length;
            /* Extents that cannot be compared by address: changed. */
            if (e->fe_flags & NO_ADDR)
                v[n].phys = UINT64_MAX;
            n++;
            if (e->fe_flags & FIEMAP_EXTENT_LAST)
                last = 1;
            start = e->fe_logical + e->fe_length;
        }
    }
out:
    free(fm);
    if (rc) {
        free(v);
        return rc;
    }
    *v_out = v;
    *n_out = n;
    return 0;
}

static void mark(unsigned char *changed, uint64_t num, uint32_t cs,
                 uint64_t from, uint64_t to)
{
    if (to <= from)
        return;
    for (uint64_t c = from / cs; c < num && c * cs < to; c++)
        changed[c] = 1;
}

/* Does byte range [a, b) of cur map to the same physical bytes in old?
 * Marks as changed the parts that do not. old is sorted by log. */
static void compare(const struct ext *cur, const struct ext *old, size_t nold,
                    unsigned char *changed, uint64_t num, uint32_t cs)
{
    uint64_t pos = cur->log, end = cur->log + cur->len;
    size_t lo = 0, hi = nold;

    /* First old extent ending after pos. */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;

        if (old[mid].log + old[mid].len <= pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < nold && pos < end; i++) {
        const struct ext *o = &old[i];
        uint64_t s, e;

        if (o->log >= end)
            break;
        s = o->log > pos ? o->log : pos;
        e = o->log + o->len < end ? o->log + o->len : end;
        mark(changed, num, cs, pos, s); /* gap in old: data only in cur */
        if (cur->phys == UINT64_MAX || o->phys == UINT64_MAX ||
            cur->phys + (s - cur->log) != o->phys + (s - o->log))
            mark(changed, num, cs, s, e);
        pos = e;
    }
    mark(changed, num, cs, pos, end);
}

int bk_changemap(const char *old_path, const char *cur_path,
                 uint32_t chunk_size, uint64_t num_chunks,
                 unsigned char *changed)
{
    int ofd = open(old_path, O_RDONLY | O_CLOEXEC);
    int cfd = open(cur_path, O_RDONLY | O_CLOEXEC);
    struct ext *ov = NULL, *cv = NULL;
    size_t on = 0, cn = 0;
    struct stat ost, cst;
    uint64_t pos = 0;
    int rc;

    if (ofd < 0 || cfd < 0 || fstat(ofd, &ost) || fstat(cfd, &cst) ||
        !S_ISREG(ost.st_mode) || !S_ISREG(cst.st_mode)) {
        rc = ERR_UNSUPPORTED;
        goto out;
    }
    rc = extents(ofd, &ov, &on);
    if (!rc)
        rc = extents(cfd, &cv, &cn);
    if (rc)
        goto out;
    memset(changed, 0, num_chunks);
    for (size_t i = 0; i < cn; i++)
        compare(&cv[i], ov, on, changed, num_chunks, chunk_size);
    /* Holes of cur where old has data turned to zeroes: changed. */
    for (size_t i = 0, j = 0; i < on; i++) {
        uint64_t s = ov[i].log, e = ov[i].log + ov[i].len;

        while (j < cn && cv[j].log + cv[j].len <= s)
            j++;
        pos = s;
        for (size_t k = j; k < cn && cv[k].log < e && pos < e; k++) {
            mark(changed, num_chunks, chunk_size, pos,
                 cv[k].log > pos ? cv[k].log : pos);
            if (cv[k].log + cv[k].len > pos)
                pos = cv[k].log + cv[k].len;
        }
        mark(changed, num_chunks, chunk_size, pos, e);
    }
    /* Any size change: the tail differs. */
    if (ost.st_size != cst.st_size) {
        uint64_t m =
            (uint64_t)(ost.st_size < cst.st_size ? ost.st_size : cst.st_size);
        mark(changed, num_chunks, chunk_size, m, UINT64_MAX);
    }
    rc = 0;
out:
    free(ov);
    free(cv);
    if (ofd >= 0)
        close(ofd);
    if (cfd >= 0)
        close(cfd);
    return rc;
}
