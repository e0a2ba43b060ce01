/* dropq.c: chunk files to drop from the page cache once they are on
 * disk. A backup writes data that nobody reads soon; cached, it would
 * push out what dom0's small memory is for (the VMs' disk files in the
 * SRs, the daemon's database), as a restore's output would (restore.c
 * drops that too). The pipeline's flusher takes the queue before each
 * syncfs and drops the files after it, when their pages are clean and
 * POSIX_FADV_DONTNEED frees them. Not thread safe: the pipeline holds
 * its mutex around push and take.
 */
#include "backup/bk_internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/xalloc.h"

void bk_dropq_push(struct bk_dropq *q, const unsigned char id[BK_ID_LEN])
{
    if (q->n == q->cap) {
        q->cap = q->cap ? 2 * q->cap : 64;
        q->ids = xrealloc(q->ids, q->cap * sizeof(*q->ids));
    }
    memcpy(q->ids[q->n++], id, BK_ID_LEN);
}

void bk_dropq_take(struct bk_dropq *q, struct bk_dropq *out)
{
    *out = *q;
    memset(q, 0, sizeof(*q));
}

void bk_dropq_append(struct bk_dropq *q, struct bk_dropq *from)
{
    for (size_t i = 0; i < from->n; i++)
        bk_dropq_push(q, from->ids[i]);
    bk_dropq_free(from);
}

void bk_dropq_drop(const struct bk_repo *repo, struct bk_dropq *q)
{
    char rel[80];

    for (size_t i = 0; i < q->n; i++) {
        int fd;

        bk_chunk_relpath(q->ids[i], rel);
        fd = openat(repo->dirfd, rel, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue; /* gone (gc): nothing to drop */
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        close(fd);
    }
    bk_dropq_free(q);
}

void bk_dropq_free(struct bk_dropq *q)
{
    free(q->ids);
    memset(q, 0, sizeof(*q));
}
