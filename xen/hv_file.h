/* hv_file.h: state files written so a crash leaves either the old file,
 * no file or the whole new one: write to a temporary name beside the
 * target, fsync, rename, fsync the directory. For the drivers' suspend.
 */
#ifndef XENITH_XEN_HV_FILE_H
#define XENITH_XEN_HV_FILE_H

/* Open a new temporary file (mode 0600) beside path. *tmp_out is **new**
 * (free() it), *fd_out the open descriptor. 0 or an err (hv_fail set). */
int hv_file_begin(const char *path, char **tmp_out, int *fd_out);

/* fsync and close fd, rename tmp to path and fsync the directory. On
 * error tmp is unlinked. fd is closed either way. 0 or an err. */
int hv_file_commit(int fd, const char *tmp, const char *path);

/* Give up: close fd and unlink tmp. */
void hv_file_abort(int fd, const char *tmp);

#endif
