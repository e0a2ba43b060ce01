/* auth_bootstrap.c: the first admin account (auth_bootstrap_admin). */
#include "server/core/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "db/db_users.h"
#include "server/core/app.h"

#define BOOT_PW_LEN 20

/* First line of path, surrounding white space trimmed, into out[cap]. */
static int read_password_file(const char *path, char *out, size_t cap)
{
    char line[AUTH_PASSWORD_MAX + 8];
    size_t len, start = 0;
    FILE *f = fopen(path, "r");

    if (!f) {
        log_error("admin password file %s: %s", path, strerror(errno));
        return ERR_IO;
    }
    if (!fgets(line, sizeof(line), f))
        line[0] = '\0';
    fclose(f);
    len = strlen(line);
    while (len && strchr(" \t\r\n", line[len - 1]))
        line[--len] = '\0';
    while (line[start] == ' ' || line[start] == '\t')
        start++;
    len -= start;
    if (len < AUTH_PASSWORD_MIN || len > AUTH_PASSWORD_MAX) {
        log_error("admin password file %s: the password on its first line "
                  "must be %d to %d characters; refusing to start",
                  path, AUTH_PASSWORD_MIN, AUTH_PASSWORD_MAX);
        return ERR_INVALID;
    }
    xstrlcpy(out, line + start, cap);
    return 0;
}

/* BOOT_PW_LEN characters of [A-Za-z0-9] from the CSPRNG. */
static void random_password(char out[BOOT_PW_LEN + 1])
{
    static const char alpha[] = "ABCDEFGHJKLMNPQRSTUVWXYZ"
                                "abcdefghijkmnopqrstuvwxyz23456789";
    const size_t n = sizeof(alpha) - 1;
    size_t i = 0;

    while (i < BOOT_PW_LEN) {
        unsigned char b;

        rand_bytes(&b, 1);
        if (b >= 256 - 256 % n)
            continue; /* no modulo bias */
        out[i++] = alpha[b % n];
    }
    out[i] = '\0';
}

/* Write pw + "\n" to DATA/initial-admin-password, 0600, temp + fsync +
 * rename. */
static int write_initial_password(struct app *app, const char *pw)
{
    char *path = xasprintf("%s/initial-admin-password", app->cfg.data_dir);
    char *tmp = xasprintf("%s.tmp", path);
    size_t len = strlen(pw);
    int fd, rc = 0;

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = err_from_errno(errno);
        log_error("cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (write(fd, pw, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
        fsync(fd)) {
        rc = err_from_errno(errno);
        log_error("cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        goto out;
    }
    close(fd);
    if (rename(tmp, path)) {
        rc = err_from_errno(errno);
        log_error("cannot rename %s: %s", tmp, strerror(errno));
        unlink(tmp);
    }
out:
    free(path);
    free(tmp);
    return rc;
}

static void unlink_initial_password(struct app *app)
{
    char *path = xasprintf("%s/initial-admin-password", app->cfg.data_dir);

    unlink(path);
    free(path);
}

int auth_bootstrap_admin(struct app *app, const char *password_file)
{
    char pw[AUTH_PASSWORD_MAX + 1];
    struct db_user u;
    int64_t count = 0;
    int rc;

    rc = db_user_count(app->db, NULL, &count);
    if (rc || count > 0)
        return rc;
    memset(&u, 0, sizeof(u));
    if (password_file) {
        rc = read_password_file(password_file, pw, sizeof(pw));
        if (rc)
            return rc;
    } else {
        random_password(pw);
        u.must_change_password = 1;
    }
    rc = password_hash(pw, u.pw_hash, sizeof(u.pw_hash));
    if (rc)
        goto out;
    if (!password_file) {
        rc = write_initial_password(app, pw);
        if (rc)
            goto out;
    }
    uuid_generate(u.id);
    xstrlcpy(u.username, "admin", sizeof(u.username));
    xstrlcpy(u.role, "admin", sizeof(u.role));
    u.created_at = u.updated_at = time_now();
    rc = db_user_insert(app->db, &u);
    if (rc) {
        log_error("cannot create the first admin user: %s", err_str(rc));
        if (!password_file)
            unlink_initial_password(app);
        goto out;
    }
    if (!password_file)
        fprintf(stderr, "first admin password: %s\n", pw);
    log_info("created the first user: admin%s",
             password_file ? " (password from the file)"
                           : " (password in DATA/initial-admin-password)");
out:
    memset(pw, 0, sizeof(pw));
    return rc;
}
