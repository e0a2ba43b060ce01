#include "server/http/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"

int spool_open(const char *dir, int *fd_out)
{
    char tmpl[4096];
    int fd;

    *fd_out = -1;
    if (mkdir(dir, 0700) && errno != EEXIST)
        return err_from_errno(errno);
    fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
        /* O_TMPFILE unsupported here: create, then unlink at once. */
        if (snprintf(tmpl, sizeof(tmpl), "%s/upload-XXXXXX", dir) >=
            (int)sizeof(tmpl))
            return ERR_INVALID;
        fd = mkostemp(tmpl, O_CLOEXEC);
        if (fd < 0)
            return err_from_errno(errno);
        unlink(tmpl);
    }
    *fd_out = fd;
    return 0;
}

int spool_pwrite(int fd, const void *p, size_t n, int64_t off)
{
    const char *s = p;

    while (n) {
        ssize_t w = pwrite(fd, s, n, (off_t)off);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            return err_from_errno(errno);
        }
        s += w;
        n -= (size_t)w;
        off += w;
    }
    return 0;
}
