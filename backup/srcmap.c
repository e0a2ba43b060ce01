/* srcmap.c: a source disk (a regular file) mapped in windows for the
 * backup pipeline. Mapping and unmapping each 1 MiB chunk cost the full
 * backup ~0.15 s of system time (two mmap_lock writers per chunk, a TLB
 * flush per unmap); a window is mapped once, by its first user, and
 * unmapped when every todo entry in it is done, so the page tables of a
 * large disk never grow past a few windows. Thread safe.
 */
#include "backup/bk_internal.h"

#include <stdlib.h>
#include <sys/mman.h>

#include "common/xalloc.h"

struct bk_srcwin {
    unsigned char *m; /* NULL: not mapped (yet, or any more) */
    size_t len;
    uint64_t left; /* todo entries in the window not done */
    unsigned users;
    int failed; /* mmap failed: callers read instead */
};

void bk_srcmap_init(struct bk_srcmap *sm, int fd, uint64_t size,
                    uint64_t chunk_size)
{
    uint64_t per = BK_SRCWIN_BYTES / chunk_size;

    sm->fd = fd;
    sm->size = size;
    sm->win_len = (per ? per : 1) * chunk_size;
    sm->num = size / sm->win_len + 1;
    sm->w = xcalloc(sm->num, sizeof(*sm->w));
    pthread_mutex_init(&sm->mu, NULL);
}

void bk_srcmap_expect(struct bk_srcmap *sm, uint64_t off)
{
    sm->w[off / sm->win_len].left++;
}

/* Take w's mapping out when nobody uses it and nothing is left to do in
 * it; the caller unmaps what is returned (outside the lock). */
static unsigned char *detach(struct bk_srcwin *w, size_t *len_out)
{
    unsigned char *m = w->m;

    if (!m || w->users || w->left)
        return NULL;
    w->m = NULL;
    *len_out = w->len;
    return m;
}

const unsigned char *bk_srcmap_get(struct bk_srcmap *sm, uint64_t off,
                                   size_t len)
{
    uint64_t i = off / sm->win_len, start = i * sm->win_len;
    struct bk_srcwin *w = &sm->w[i];
    const unsigned char *r = NULL;

    if (off + len > start + sm->win_len)
        return NULL; /* not within one window */
    pthread_mutex_lock(&sm->mu);
    if (!w->m && !w->failed) {
        size_t wl = (size_t)(sm->size - start < sm->win_len ? sm->size - start
                                                            : sm->win_len);
        void *m = mmap(NULL, wl, PROT_READ, MAP_SHARED, sm->fd, (off_t)start);

        if (m == MAP_FAILED) {
            w->failed = 1;
        } else {
            w->m = m;
            w->len = wl;
        }
    }
    if (w->m) {
        w->users++;
        r = w->m + (off - start);
    }
    pthread_mutex_unlock(&sm->mu);
    return r;
}

void bk_srcmap_put(struct bk_srcmap *sm, uint64_t off)
{
    struct bk_srcwin *w = &sm->w[off / sm->win_len];
    unsigned char *m;
    size_t len = 0;

    pthread_mutex_lock(&sm->mu);
    w->users--;
    m = detach(w, &len);
    pthread_mutex_unlock(&sm->mu);
    if (m)
        munmap(m, len);
}

void bk_srcmap_done(struct bk_srcmap *sm, uint64_t off)
{
    struct bk_srcwin *w = &sm->w[off / sm->win_len];
    unsigned char *m;
    size_t len = 0;

    pthread_mutex_lock(&sm->mu);
    if (w->left)
        w->left--;
    m = detach(w, &len);
    pthread_mutex_unlock(&sm->mu);
    if (m)
        munmap(m, len);
}

void bk_srcmap_release(struct bk_srcmap *sm)
{
    if (!sm->w)
        return;
    for (uint64_t i = 0; i < sm->num; i++)
        if (sm->w[i].m)
            munmap(sm->w[i].m, sm->w[i].len);
    free(sm->w);
    sm->w = NULL;
    pthread_mutex_destroy(&sm->mu);
}
