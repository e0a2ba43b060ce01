/* outfile.h: the restore command's output file, written durably. A
 * regular (or new) OUTFILE is restored under a temp name beside it
 * (".NAME.restore-XXXXXX"), fsynced, renamed over OUTFILE and its
 * directory fsynced: a failure or a crash never leaves a partial image
 * under the final name. A replaced OUTFILE's permissions are kept (a new
 * one is 0600). A block device is written in place and fsynced.
 *
 *   struct cli_outfile of;
 *   rc = cli_outfile_begin(&of, path);
 *   if (!rc)
 *       rc = bk_restore(repo, id, disk, cli_outfile_target(&of), prog);
 *   if (!rc)
 *       rc = cli_outfile_commit(&of);
 *   cli_outfile_release(&of);   (removes the temp file when not committed)
 *
 * On an error of begin or commit, of.why says what failed, on which
 * file, and why. Not thread safe.
 */
#ifndef XENITH_BACKUP_CLI_OUTFILE_H
#define XENITH_BACKUP_CLI_OUTFILE_H

struct cli_outfile {
    char *path; /* the final name (a symlink resolved): **owned** */
    char *tmp;  /* the temp name, or NULL when written in place */
    int mode;   /* the permissions of the OUTFILE replaced, or -1 */
    char why[512];
};

/* Prepare writing path: create the temp file, or (block device) nothing.
 * 0, or an error with of->why set. Call cli_outfile_release in every
 * case. */
int cli_outfile_begin(struct cli_outfile *of, const char *path);

/* Where bk_restore writes (borrowed). */
const char *cli_outfile_target(const struct cli_outfile *of);

/* fsync, rename into place, fsync the directory. 0, or an error with
 * of->why set (the temp file is then removed by release). */
int cli_outfile_commit(struct cli_outfile *of);

/* Remove the temp file unless committed; free. */
void cli_outfile_release(struct cli_outfile *of);

#endif
