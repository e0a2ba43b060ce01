/* repo_ident.c: is an opened repository still the one on disk, and has
 * its content changed? For callers that keep a struct bk_repo open
 * (the daemon's repository list) instead of deriving the key of an
 * encrypted repository on every look. Thread safe for one repo object
 * at a time, like the rest of the engine.
 */
#include "backup/bk_internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/xalloc.h"

/* A directory changed within this many seconds of a stamp may change
 * again without its mtime moving (coarse file system clocks): such a
 * stamp is racy (git's "racy index" problem). */
#define RACY_SECS 2

int bk_fileid_note(const struct bk_repo *repo, const char *relpath,
                   const void *data, size_t len, struct bk_fileid *id_out)
{
    struct stat st;

    memset(id_out, 0, sizeof(*id_out));
    if (fstatat(repo->dirfd, relpath, &st, 0))
        return -1;
    id_out->dev = (uint64_t)st.st_dev;
    id_out->ino = (uint64_t)st.st_ino;
    id_out->size = (uint64_t)st.st_size;
    id_out->mtime_ns =
        (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    SHA256(data, len, id_out->sha);
    id_out->present = 1;
    return 0;
}

/* 1 when relpath is still the file id describes, bytes included. */
static int same_file(const struct bk_repo *repo, const char *relpath,
                     const struct bk_fileid *id)
{
    struct bk_fileid now;
    char *txt = NULL;
    size_t len;
    int same;

    if (!id->present || bk_read_file(repo, relpath, BK_CONFIG_MAX, &txt, &len))
        return 0;
    same = !bk_fileid_note(repo, relpath, txt, len, &now) &&
           now.dev == id->dev && now.ino == id->ino && now.size == id->size &&
           now.mtime_ns == id->mtime_ns &&
           !memcmp(now.sha, id->sha, sizeof(now.sha));
    free(txt);
    return same;
}

void bk_repo_idle(struct bk_repo *repo)
{
    if (repo->dirfd >= 0)
        close(repo->dirfd);
    repo->dirfd = -1;
}

int bk_repo_current(struct bk_repo *repo)
{
    struct stat st;
    int fd = open(repo->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0)
        return 0;
    if (fstat(fd, &st) || (uint64_t)st.st_dev != repo->dir_dev ||
        (uint64_t)st.st_ino != repo->dir_ino) {
        close(fd);
        return 0;
    }
    /* The same directory: use it (again, after bk_repo_idle). */
    if (repo->dirfd >= 0)
        close(repo->dirfd);
    repo->dirfd = fd;
    if (!same_file(repo, "config", &repo->id_config))
        return 0;
    return !repo->encrypted || same_file(repo, "keys/master", &repo->id_master);
}

/* FNV-1a over n 64-bit words. */
static uint64_t mix(uint64_t h, const uint64_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ v[i]) * 0x100000001b3ull;
    return h;
}

/* Mix what bk_fileid_note says of relpath into h (zeroes when absent). */
static uint64_t mix_file(const struct bk_repo *repo, const char *relpath,
                         uint64_t h)
{
    struct bk_fileid id;
    uint64_t v[8];
    char *txt = NULL;
    size_t len;

    memset(&id, 0, sizeof(id));
    if (!bk_read_file(repo, relpath, BK_CONFIG_MAX, &txt, &len))
        bk_fileid_note(repo, relpath, txt, len, &id);
    free(txt);
    v[0] = id.dev;
    v[1] = id.ino;
    v[2] = id.size;
    v[3] = (uint64_t)id.mtime_ns;
    memcpy(&v[4], id.sha, sizeof(id.sha));
    return mix(h, v, 8);
}

uint64_t bk_repo_ident(const char *dir)
{
    struct bk_repo r;
    struct stat st;
    uint64_t h = 0xcbf29ce484222325ull, v[2];

    memset(&r, 0, sizeof(r));
    r.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r.dirfd < 0)
        return 0;
    if (fstat(r.dirfd, &st)) {
        close(r.dirfd);
        return 0;
    }
    v[0] = (uint64_t)st.st_dev;
    v[1] = (uint64_t)st.st_ino;
    h = mix(h, v, 2);
    h = mix_file(&r, "config", h);
    h = mix_file(&r, "keys/master", h);
    close(r.dirfd);
    return h ? h : 1;
}

/* Mix one directory's identity and mtime into h; 1 when it is racy. */
static int mix_dir(int dirfd, const char *relpath, time_t now, uint64_t *h)
{
    uint64_t v[5];
    struct stat st;

    memset(v, 0, sizeof(v));
    if (!fstatat(dirfd, relpath, &st, 0)) {
        v[0] = (uint64_t)st.st_dev;
        v[1] = (uint64_t)st.st_ino;
        v[2] = (uint64_t)st.st_mtim.tv_sec;
        v[3] = (uint64_t)st.st_mtim.tv_nsec;
        v[4] = (uint64_t)st.st_size;
    }
    *h = mix(*h, v, sizeof(v) / sizeof(v[0]));
    return v[0] && st.st_mtim.tv_sec >= now - RACY_SECS;
}

uint64_t bk_repo_stamp(const struct bk_repo *repo, int *racy_out)
{
    uint64_t h = 0xcbf29ce484222325ull;
    time_t now = time(NULL);
    DIR *d = bk_opendir_at(repo->dirfd, "chunks");
    struct dirent *e;
    int racy;

    racy = mix_dir(repo->dirfd, "snapshots", now, &h);
    racy |= mix_dir(repo->dirfd, "chunks", now, &h);
    /* readdir order is stable while the directory is unchanged, and a
     * change of chunks/ itself is mixed in above. */
    while (d && (e = readdir(d)))
        if (strlen(e->d_name) == 2)
            racy |= mix_dir(dirfd(d), e->d_name, now, &h);
    if (d)
        closedir(d);
    *racy_out = racy;
    return h;
}
