#include "server/core/sr.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/uuid.h"
#include "common/xalloc.h"

#define SR_BLOCK     (64 * 1024)
#define SR_PATH_MAX  512
#define SR_PROBE_MAX 32

/* Directories an SR may never be, nor live under. */
static const char *const sr_system_trees[] = {
    "/etc",    "/usr",  "/bin", "/sbin", "/lib",  "/lib32", "/lib64",
    "/libx32", "/proc", "/sys", "/dev",  "/boot", "/run",   NULL,
};

/* Directories an SR may live under but never be. */
static const char *const sr_system_dirs[] = {
    "/",    "/var",   "/home",    "/srv",     "/tmp",     "/root", "/opt",
    "/mnt", "/media", "/var/lib", "/var/tmp", "/var/log", NULL,
};

/* Reflink probes, cached per filesystem (st_dev). */
static pthread_mutex_t sr_probe_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    dev_t dev;
    int reflink;
} sr_probes[SR_PROBE_MAX];
static size_t sr_num_probes;

static int sr_is_system(const char *path)
{
    size_t i, len = strlen(path);
    char norm[SR_PATH_MAX];

    /* Compare without trailing slashes ("/etc/" is "/etc"). */
    while (len > 1 && path[len - 1] == '/')
        len--;
    if (len >= sizeof(norm))
        return 1;
    memcpy(norm, path, len);
    norm[len] = '\0';
    for (i = 0; sr_system_dirs[i]; i++)
        if (!strcmp(norm, sr_system_dirs[i]))
            return 1;
    for (i = 0; sr_system_trees[i]; i++) {
        size_t n = strlen(sr_system_trees[i]);

        if (!strncmp(norm, sr_system_trees[i], n) &&
            (norm[n] == '\0' || norm[n] == '/'))
            return 1;
    }
    return 0;
}

static int sr_path_ok(const char *path)
{
    const char *p;
    size_t len = strlen(path);

    if (len < 2 || len >= SR_PATH_MAX || path[0] != '/')
        return 0;
    for (p = path; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return 0;
    /* No "." or ".." component anywhere. */
    for (p = path; (p = strchr(p, '/')); p++) {
        const char *c = p + 1;
        size_t n = strcspn(c, "/");

        if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return 0;
    }
    return !sr_is_system(path);
}

/* An image name: a plain file name, no directory part, no dot file. */
static int sr_file_ok(const char *file)
{
    size_t len = strlen(file);

    return len > 0 && len < 128 && file[0] != '.' && !strchr(file, '/');
}

static int sr_errno(const char *what, const char *path)
{
    int e = errno;

    log_error("sr: %s %s: %s", what, path, strerror(e));
    return err_from_errno(e);
}

static int sr_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc = 0;

    if (fd < 0)
        return sr_errno("open dir", dir);
    if (fsync(fd) < 0)
        rc = sr_errno("fsync dir", dir);
    close(fd);
    return rc;
}

/* mkdir -p with mode 0700 for what is created. */
static int sr_mkdirs(const char *path)
{
    char tmp[SR_PATH_MAX];
    char *p;

    if (xstrlcpy(tmp, path, sizeof(tmp)))
        return ERR_INVALID;
    for (p = tmp + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        {
            char c = *p;

            *p = '\0';
            if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
                return sr_errno("mkdir", tmp);
            *p = c;
        }
        if (*p == '\0')
            break;
    }
    return 0;
}

void sr_path_clean(const char *in, char *out, size_t cap)
{
    size_t n = 0;

    for (; *in && n + 1 < cap; in++) {
        if (*in == '/' && n > 0 && out[n - 1] == '/')
            continue;
        out[n++] = *in;
    }
    while (n > 1 && out[n - 1] == '/')
        n--;
    out[n] = '\0';
}

int sr_prepare(const char *path)
{
    char real[PATH_MAX], probe[SR_PATH_MAX + 32];
    struct stat st;
    int fd, rc;

    if (!sr_path_ok(path))
        return ERR_INVALID;
    if (stat(path, &st) < 0) {
        if (errno != ENOENT)
            return sr_errno("stat", path);
        rc = sr_mkdirs(path);
        if (rc)
            return rc;
        if (stat(path, &st) < 0)
            return sr_errno("stat", path);
    }
    if (!S_ISDIR(st.st_mode))
        return ERR_INVALID;
    /* A symlink must not lead into a system directory either. */
    if (!realpath(path, real))
        return sr_errno("realpath", path);
    if (sr_is_system(real))
        return ERR_INVALID;
    /* Writable: a real file, so a read-only mount is caught too. */
    snprintf(probe, sizeof(probe), "%s/.xenith-probe-XXXXXX", path);
    fd = mkstemp(probe);
    if (fd < 0)
        return sr_errno("write probe in", path);
    close(fd);
    unlink(probe);
    return 0;
}

/* 1 if FICLONE works in dir, 0 if not, or an error. */
static int sr_probe_reflink(const char *dir)
{
    char a[SR_PATH_MAX + 32], b[SR_PATH_MAX + 32], data[4096];
    int fa = -1, fb = -1, rc;

    memset(data, 0x5a, sizeof(data));
    snprintf(a, sizeof(a), "%s/.xenith-reflink-XXXXXX", dir);
    snprintf(b, sizeof(b), "%s/.xenith-reflink-XXXXXX", dir);
    fa = mkstemp(a);
    if (fa < 0) {
        rc = sr_errno("reflink probe in", dir);
        goto out;
    }
    fb = mkstemp(b);
    if (fb < 0) {
        rc = sr_errno("reflink probe in", dir);
        unlink(a);
        goto out;
    }
    unlink(a);
    unlink(b);
    if (write(fa, data, sizeof(data)) != (ssize_t)sizeof(data)) {
        rc = sr_errno("reflink probe write in", dir);
        goto out;
    }
    rc = ioctl(fb, FICLONE, fa) == 0;
out:
    if (fa >= 0)
        close(fa);
    if (fb >= 0)
        close(fb);
    return rc;
}

static int sr_reflink(const char *dir, dev_t dev)
{
    size_t i;
    int rc;

    pthread_mutex_lock(&sr_probe_mu);
    for (i = 0; i < sr_num_probes; i++) {
        if (sr_probes[i].dev == dev) {
            rc = sr_probes[i].reflink;
            pthread_mutex_unlock(&sr_probe_mu);
            return rc;
        }
    }
    pthread_mutex_unlock(&sr_probe_mu);
    rc = sr_probe_reflink(dir);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&sr_probe_mu);
    if (sr_num_probes < SR_PROBE_MAX) {
        sr_probes[sr_num_probes].dev = dev;
        sr_probes[sr_num_probes].reflink = rc;
        sr_num_probes++;
    }
    pthread_mutex_unlock(&sr_probe_mu);
    return rc;
}

static int sr_is_image_name(const char *name)
{
    size_t len = strlen(name);

    return name[0] != '.' && len > 4 && !strcmp(name + len - 4, ".raw");
}

int sr_usage(const char *path, struct sr_usage *out)
{
    struct statvfs vfs;
    struct dirent *de;
    struct stat st;
    DIR *d;
    int rc;

    memset(out, 0, sizeof(*out));
    if (statvfs(path, &vfs) < 0 || stat(path, &st) < 0)
        return sr_errno("statvfs", path);
    out->size_bytes = (uint64_t)vfs.f_blocks * vfs.f_frsize;
    out->free_bytes = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    d = opendir(path);
    if (!d)
        return sr_errno("opendir", path);
    while ((de = readdir(d))) {
        struct stat ist;

        if (!sr_is_image_name(de->d_name))
            continue;
        if (fstatat(dirfd(d), de->d_name, &ist, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISREG(ist.st_mode))
            out->used_bytes += (uint64_t)ist.st_blocks * 512;
    }
    closedir(d);
    rc = sr_reflink(path, st.st_dev);
    if (rc < 0)
        return rc;
    out->reflink = rc;
    return 0;
}

int sr_image_path(const char *sr_path, const char *file, char *out, size_t cap)
{
    int n;

    if (!sr_file_ok(file))
        return ERR_INVALID;
    n = snprintf(out, cap, "%s/%s", sr_path, file);
    if (n < 0 || (size_t)n >= cap)
        return ERR_INVALID;
    return 0;
}

int sr_image_create(const char *sr_path, const char *disk_id, uint64_t size,
                    char file_out[128])
{
    char file[128], path[SR_PATH_MAX + 128];
    int fd = -1, rc;

    if (!uuid_valid(disk_id) || size == 0 || size > INT64_MAX)
        return ERR_INVALID;
    snprintf(file, sizeof(file), "%s.raw", disk_id);
    rc = sr_image_path(sr_path, file, path, sizeof(path));
    if (rc)
        return rc;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return sr_errno("create image", path);
    if (ftruncate(fd, (off_t)size) < 0) {
        rc = sr_errno("size image", path);
        goto fail;
    }
    if (fsync(fd) < 0) {
        rc = sr_errno("fsync image", path);
        goto fail;
    }
    close(fd);
    fd = -1;
    rc = sr_fsync_dir(sr_path);
    if (rc)
        goto fail;
    xstrlcpy(file_out, file, 128);
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    unlink(path);
    return rc;
}

int sr_image_resize(const char *sr_path, const char *file, uint64_t size)
{
    char path[SR_PATH_MAX + 128];
    struct stat st;
    int fd, rc;

    rc = sr_image_path(sr_path, file, path, sizeof(path));
    if (rc)
        return rc;
    if (size > INT64_MAX)
        return ERR_INVALID;
    fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return sr_errno("open image", path);
    if (fstat(fd, &st) < 0) {
        rc = sr_errno("stat image", path);
        goto out;
    }
    if ((uint64_t)st.st_size > size) {
        rc = ERR_INVALID;
        goto out;
    }
    if ((uint64_t)st.st_size == size) {
        rc = 0;
        goto out;
    }
    if (ftruncate(fd, (off_t)size) < 0 || fsync(fd) < 0) {
        rc = sr_errno("grow image", path);
        goto out;
    }
    rc = 0;
out:
    close(fd);
    return rc;
}

int sr_image_delete(const char *sr_path, const char *file)
{
    char path[SR_PATH_MAX + 128];
    int rc;

    rc = sr_image_path(sr_path, file, path, sizeof(path));
    if (rc)
        return rc;
    if (unlink(path) < 0) {
        if (errno == ENOENT)
            return ERR_NOTFOUND;
        return sr_errno("delete image", path);
    }
    return sr_fsync_dir(sr_path);
}

int sr_image_used(const char *sr_path, const char *file, uint64_t *used_out)
{
    char path[SR_PATH_MAX + 128];
    struct stat st;
    int rc;

    rc = sr_image_path(sr_path, file, path, sizeof(path));
    if (rc)
        return rc;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return ERR_NOTFOUND;
        return sr_errno("stat image", path);
    }
    *used_out = (uint64_t)st.st_blocks * 512;
    return 0;
}

static int sr_all_zero(const char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

/* Copy [off, end) of src to the same offsets of dst, leaving all-zero
 * blocks as holes. */
static int sr_copy_range(int src, int dst, off_t off, off_t end, char *buf,
                         const char *what)
{
    while (off < end) {
        size_t want = end - off < SR_BLOCK ? (size_t)(end - off) : SR_BLOCK;
        ssize_t n = pread(src, buf, want, off);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return sr_errno("read", what);
        }
        if (n == 0)
            break;
        if (!sr_all_zero(buf, (size_t)n)) {
            ssize_t done = 0;

            while (done < n) {
                ssize_t w =
                    pwrite(dst, buf + done, (size_t)(n - done), off + done);

                if (w < 0) {
                    if (errno == EINTR)
                        continue;
                    return sr_errno("write", what);
                }
                done += w;
            }
        }
        off += n;
    }
    return 0;
}

/* Sparse copy of src into dst (already sized): only the data extents
 * that SEEK_DATA/SEEK_HOLE report, and of those only non-zero blocks. */
static int sr_sparse_copy(int src, int dst, off_t size, const char *what)
{
    char *buf = xmalloc(SR_BLOCK);
    off_t off = 0;
    int rc = 0;

    while (off < size) {
        off_t data = lseek(src, off, SEEK_DATA), hole;

        if (data < 0) {
            if (errno == ENXIO) /* only a hole is left */
                break;
            if (errno != EINVAL) {
                rc = sr_errno("seek data", what);
                goto out;
            }
            /* No SEEK_DATA here: treat everything as data. */
            data = off;
            hole = size;
        } else {
            hole = lseek(src, data, SEEK_HOLE);
            if (hole < 0) {
                rc = sr_errno("seek hole", what);
                goto out;
            }
        }
        if (hole > size)
            hole = size;
        rc = sr_copy_range(src, dst, data, hole, buf, what);
        if (rc)
            goto out;
        off = hole;
    }
out:
    free(buf);
    return rc;
}

/* fsync fd, close it, rename tmp to path, fsync the directory. On any
 * failure tmp is removed. Closes fd in every case. */
static int sr_commit_tmp(int fd, const char *tmp, const char *path,
                         const char *dir)
{
    int rc = 0;

    if (fsync(fd) < 0)
        rc = sr_errno("fsync", tmp);
    if (close(fd) < 0 && !rc)
        rc = sr_errno("close", tmp);
    if (!rc && rename(tmp, path) < 0)
        rc = sr_errno("rename", tmp);
    if (rc) {
        unlink(tmp);
        return rc;
    }
    return sr_fsync_dir(dir);
}

int sr_image_clone(const char *sr_path, const char *src_file,
                   const char *dst_file, int *reflinked_out)
{
    char src[SR_PATH_MAX + 128], dst[SR_PATH_MAX + 128];
    char tmp[SR_PATH_MAX + 136];
    int sfd = -1, dfd = -1, reflinked = 0, rc;
    struct stat st;

    rc = sr_image_path(sr_path, src_file, src, sizeof(src));
    if (!rc)
        rc = sr_image_path(sr_path, dst_file, dst, sizeof(dst));
    if (rc)
        return rc;
    snprintf(tmp, sizeof(tmp), "%s.tmp", dst);
    if (access(dst, F_OK) == 0)
        return ERR_EXISTS;
    sfd = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (sfd < 0)
        return sr_errno("open image", src);
    if (fstat(sfd, &st) < 0) {
        rc = sr_errno("stat image", src);
        goto out;
    }
    /* A stale temp file from a crash is ours to replace. */
    dfd =
        open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (dfd < 0) {
        rc = sr_errno("create", tmp);
        goto out;
    }
    if (ioctl(dfd, FICLONE, sfd) == 0) {
        reflinked = 1;
    } else {
        log_debug("sr: no reflink for %s (%s): sparse copy", src,
                  strerror(errno));
        if (ftruncate(dfd, 0) < 0 || ftruncate(dfd, st.st_size) < 0) {
            rc = sr_errno("size", tmp);
            goto fail;
        }
        rc = sr_sparse_copy(sfd, dfd, st.st_size, src);
        if (rc)
            goto fail;
    }
    rc = sr_commit_tmp(dfd, tmp, dst, sr_path);
    dfd = -1;
    if (rc)
        goto out;
    if (reflinked_out)
        *reflinked_out = reflinked;
    goto out;
fail:
    close(dfd);
    dfd = -1;
    unlink(tmp);
out:
    if (sfd >= 0)
        close(sfd);
    return rc;
}

int sr_image_import(const char *sr_path, const char *file, int src_fd,
                    uint64_t size, uint64_t *len_out)
{
    char path[SR_PATH_MAX + 128], tmp[SR_PATH_MAX + 144];
    char *buf = NULL;
    uint64_t off = 0;
    struct stat st;
    int dfd = -1, rc, seekable;

    rc = sr_image_path(sr_path, file, path, sizeof(path));
    if (rc)
        return rc;
    if (fstat(src_fd, &st) < 0)
        return sr_errno("stat upload for", path);
    seekable = S_ISREG(st.st_mode);
    if (seekable && (uint64_t)st.st_size > size)
        return ERR_TOOBIG;
    /* A unique temp name: two imports into one disk never share it. */
    snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path);
    dfd = mkostemp(tmp, O_CLOEXEC);
    if (dfd < 0)
        return sr_errno("create", tmp);
    if (ftruncate(dfd, (off_t)size) < 0) {
        rc = sr_errno("size", tmp);
        goto fail;
    }
    buf = xmalloc(SR_BLOCK);
    for (;;) {
        ssize_t n = seekable ? pread(src_fd, buf, SR_BLOCK, (off_t)off)
                             : read(src_fd, buf, SR_BLOCK);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = sr_errno("read upload for", path);
            goto fail;
        }
        if (n == 0)
            break;
        if (off + (uint64_t)n > size) {
            rc = ERR_TOOBIG;
            goto fail;
        }
        if (!sr_all_zero(buf, (size_t)n)) {
            ssize_t done = 0;

            while (done < n) {
                ssize_t w = pwrite(dfd, buf + done, (size_t)(n - done),
                                   (off_t)off + done);

                if (w < 0) {
                    if (errno == EINTR)
                        continue;
                    rc = sr_errno("write", tmp);
                    goto fail;
                }
                done += w;
            }
        }
        off += (uint64_t)n;
    }
    free(buf);
    buf = NULL;
    rc = sr_commit_tmp(dfd, tmp, path, sr_path);
    dfd = -1;
    if (!rc && len_out)
        *len_out = off;
    return rc;
fail:
    free(buf);
    close(dfd);
    unlink(tmp);
    return rc;
}

int sr_image_sync(const char *sr_path, const char *file)
{
    int fd, rc;

    rc = sr_image_open(sr_path, file, &fd);
    if (rc)
        return rc;
    rc = fsync(fd) < 0 ? sr_errno("fsync image", file) : 0;
    close(fd);
    return rc;
}

int sr_image_rename(const char *sr_path, const char *from, const char *to)
{
    char a[SR_PATH_MAX + 128], b[SR_PATH_MAX + 128];
    int rc;

    rc = sr_image_path(sr_path, from, a, sizeof(a));
    if (!rc)
        rc = sr_image_path(sr_path, to, b, sizeof(b));
    if (rc)
        return rc;
    if (rename(a, b) < 0)
        return sr_errno("rename", a);
    return sr_fsync_dir(sr_path);
}

int sr_image_open(const char *sr_path, const char *file, int *fd_out)
{
    char path[SR_PATH_MAX + 128];
    int fd, rc;

    rc = sr_image_path(sr_path, file, path, sizeof(path));
    if (rc)
        return rc;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return sr_errno("open image", path);
    *fd_out = fd;
    return 0;
}
