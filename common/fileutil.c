#include "common/fileutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/xalloc.h"

int file_write_synced(const char *path, const void *data, size_t len,
                      mode_t mode)
{
    const char *p = data;
    int fd, rc = 0;

    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return err_from_errno(errno);
    while (len) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = err_from_errno(errno);
            goto out;
        }
        p += n;
        len -= (size_t)n;
    }
    if (fchmod(fd, mode) || fsync(fd))
        rc = err_from_errno(errno);
out:
    if (close(fd) && !rc)
        rc = err_from_errno(errno);
    return rc;
}

int file_sync_parent(const char *path)
{
    char dir[PATH_MAX];
    char *slash;
    int fd, rc = 0;

    xstrlcpy(dir, path, sizeof(dir));
    slash = strrchr(dir, '/');
    if (!slash)
        xstrlcpy(dir, ".", sizeof(dir));
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return err_from_errno(errno);
    if (fsync(fd))
        rc = err_from_errno(errno);
    close(fd);
    return rc;
}
