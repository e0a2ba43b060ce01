#include "xen/hv_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/xalloc.h"
#include "xen/hv_driver.h"

int hv_file_begin(const char *path, char **tmp_out, int *fd_out)
{
    char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    if (fd < 0) {
        int rc = hv_fail(err_from_errno(errno), "%s: %s", tmp, strerror(errno));

        free(tmp);
        return rc;
    }
    *tmp_out = tmp;
    *fd_out = fd;
    return 0;
}

void hv_file_abort(int fd, const char *tmp)
{
    if (fd >= 0)
        close(fd);
    unlink(tmp);
}

static void hv_file_sync_dir(const char *path)
{
    char *dir = xstrdup(path), *slash = strrchr(dir, '/');
    int dfd;

    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(dir);
}

int hv_file_commit(int fd, const char *tmp, const char *path)
{
    if (fsync(fd)) {
        int rc = hv_fail(err_from_errno(errno), "%s: %s", tmp, strerror(errno));

        hv_file_abort(fd, tmp);
        return rc;
    }
    if (close(fd) || rename(tmp, path)) {
        int rc =
            hv_fail(err_from_errno(errno), "%s: %s", path, strerror(errno));

        unlink(tmp);
        return rc;
    }
    hv_file_sync_dir(path);
    return 0;
}
