/* outfile.c: the restore command's output file, made durable: an image
 * is written under a temp name beside OUTFILE, fsynced, renamed over it
 * and the directory fsynced, so OUTFILE is either what it was before or
 * the whole restored image. A block device (or another existing
 * non-regular file) cannot be renamed onto: it is written in place and
 * fsynced.
 */
#include "backup/cli/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fileutil.h"
#include "common/xalloc.h"

static void set_why(struct cli_outfile *of, const char *what, int errnum)
{
    snprintf(of->why, sizeof(of->why), "%s %s: %s", what,
             of->tmp ? of->tmp : of->path, strerror(errnum));
}

int cli_outfile_begin(struct cli_outfile *of, const char *path)
{
    char real[PATH_MAX];
    const char *slash;
    struct stat st;
    int fd;

    memset(of, 0, sizeof(*of));
    of->path = xstrdup(path);
    of->mode = -1;
    /* A symlink stands for its target: restore there. */
    if (!lstat(path, &st) && S_ISLNK(st.st_mode) && realpath(path, real)) {
        free(of->path);
        of->path = xstrdup(real);
    }
    if (!stat(of->path, &st)) {
        if (S_ISDIR(st.st_mode)) {
            set_why(of, "cannot restore into", EISDIR);
            return ERR_INVALID;
        }
        if (!S_ISREG(st.st_mode))
            return 0; /* a block device: in place */
        of->mode = (int)(st.st_mode & 07777);
    }
    slash = strrchr(of->path, '/');
    of->tmp = xasprintf("%.*s.%s.restore-XXXXXX",
                        slash ? (int)(slash - of->path + 1) : 0, of->path,
                        slash ? slash + 1 : of->path);
    fd = mkostemp(of->tmp, O_CLOEXEC);
    if (fd < 0) {
        set_why(of, "cannot create", errno);
        free(of->tmp);
        of->tmp = NULL;
        return err_from_errno(errno);
    }
    close(fd);
    return 0;
}

const char *cli_outfile_target(const struct cli_outfile *of)
{
    return of->tmp ? of->tmp : of->path;
}

int cli_outfile_commit(struct cli_outfile *of)
{
    const char *p = cli_outfile_target(of);
    int fd, rc = 0;

    fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        set_why(of, "cannot open", errno);
        return err_from_errno(errno);
    }
    if (of->tmp && of->mode >= 0 && fchmod(fd, (mode_t)of->mode)) {
        set_why(of, "cannot set the permissions of", errno);
        rc = err_from_errno(errno);
    }
    /* A character device such as /dev/null has nothing to sync. */
    if (!rc && fsync(fd) && !(errno == EINVAL && !of->tmp)) {
        set_why(of, "cannot sync", errno);
        rc = err_from_errno(errno);
    }
    close(fd);
    if (rc || !of->tmp)
        return rc;
    if (rename(of->tmp, of->path)) {
        set_why(of, "cannot rename", errno);
        return err_from_errno(errno);
    }
    free(of->tmp);
    of->tmp = NULL;
    rc = file_sync_parent(of->path);
    if (rc)
        snprintf(of->why, sizeof(of->why),
                 "cannot sync the directory of %s: %s", of->path, err_str(rc));
    return rc;
}

void cli_outfile_release(struct cli_outfile *of)
{
    if (of->tmp)
        unlink(of->tmp);
    free(of->tmp);
    free(of->path);
    of->tmp = NULL;
    of->path = NULL;
}
