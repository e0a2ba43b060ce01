/* prefetch.c: a thread that keeps the next BK_PREFETCH chunk files past
 * the workers of a restore or a verify on their way into the page cache
 * (POSIX_FADV_WILLNEED queues the reads and returns). Both usually read
 * a repository nobody read lately (backups are restored days later, and
 * a backup drops what it wrote from the page cache): each worker would
 * otherwise wait for one chunk file at a time, the disk idle between.
 * Thread safe: the workers report where they are with bk_prefetch_at().
 */
#include "backup/bk_internal.h"

#include <fcntl.h>
#include <unistd.h>

/* Start reading the file of chunk id into the page cache. */
static void prefetch_one(const struct bk_repo *repo, const unsigned char *id)
{
    char rel[80];
    int fd;

    if (bk_id_is_zero(id))
        return;
    bk_chunk_relpath(id, rel);
    fd = openat(repo->dirfd, rel, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return; /* the worker names it when it gets there */
    posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
    close(fd);
}

static void *prefetcher(void *arg)
{
    struct bk_prefetch *pf = arg;
    uint64_t ahead = 0, upto;

    pthread_mutex_lock(&pf->mu);
    for (;;) {
        while (!pf->stop && ahead < pf->num && ahead >= pf->at + BK_PREFETCH)
            pthread_cond_wait(&pf->cv, &pf->mu);
        if (pf->stop || ahead >= pf->num)
            break;
        if (ahead < pf->at)
            ahead = pf->at;
        upto = pf->num - pf->at < BK_PREFETCH ? pf->num : pf->at + BK_PREFETCH;
        pthread_mutex_unlock(&pf->mu);
        for (; ahead < upto; ahead++)
            prefetch_one(pf->repo, pf->id_at(pf->arg, ahead));
        pthread_mutex_lock(&pf->mu);
    }
    pthread_mutex_unlock(&pf->mu);
    return NULL;
}

void bk_prefetch_start(struct bk_prefetch *pf, const struct bk_repo *repo,
                       const unsigned char *(*id_at)(void *arg, uint64_t i),
                       void *arg, uint64_t num)
{
    pf->repo = repo;
    pf->id_at = id_at;
    pf->arg = arg;
    pf->num = num;
    pf->at = 0;
    pf->stop = 0;
    pthread_mutex_init(&pf->mu, NULL);
    pthread_cond_init(&pf->cv, NULL);
    pf->running = !pthread_create(&pf->th, NULL, prefetcher, pf);
}

void bk_prefetch_at(struct bk_prefetch *pf, uint64_t i)
{
    pthread_mutex_lock(&pf->mu);
    if (i > pf->at) {
        pf->at = i;
        pthread_cond_signal(&pf->cv);
    }
    pthread_mutex_unlock(&pf->mu);
}

void bk_prefetch_stop(struct bk_prefetch *pf)
{
    pthread_mutex_lock(&pf->mu);
    pf->stop = 1;
    pthread_cond_signal(&pf->cv);
    pthread_mutex_unlock(&pf->mu);
    if (pf->running)
        pthread_join(pf->th, NULL);
    pthread_cond_destroy(&pf->cv);
    pthread_mutex_destroy(&pf->mu);
}
