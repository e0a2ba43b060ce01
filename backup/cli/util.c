/* util.c: the CLI's shared helpers: progress on a TTY (bytes, MB/s,
 * ETA), SIGINT/SIGTERM -> cancel, JSON output, errors, passphrase and
 * repository opening.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup/cli/cli.h"
#include "common/err.h"
#include "common/timeutil.h"
#include "common/xalloc.h"

#define PASS_MAX 4096

static atomic_int cancel_flag;

atomic_int *cli_cancel_flag(void)
{
    return &cancel_flag;
}

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&cancel_flag, 1);
}

void cli_human_bytes(unsigned long long n, char out[32])
{
    if (n >= 1024ull * 1024 * 1024)
        snprintf(out, 32, "%.2f GiB", n / (1024.0 * 1024 * 1024));
    else if (n >= 1024 * 1024)
        snprintf(out, 32, "%.1f MiB", n / (1024.0 * 1024));
    else
        snprintf(out, 32, "%llu B", n);
}

static void progress_cb(void *opaque, uint64_t done, uint64_t total)
{
    struct cli_progress *cp = opaque;
    long long now = time_mono_ms();
    double secs, rate;
    char d[32], t[32];

    if (done > total)
        done = total;
    if (now - cp->last_ms < 200 && done < total)
        return;
    cp->last_ms = now;
    secs = (double)(now - cp->start_ms) / 1000.0;
    if (!cp->bytes) {
        fprintf(stderr, "\r%s: %llu/%llu   ", cp->label,
                (unsigned long long)done, (unsigned long long)total);
        return;
    }
    rate = secs > 0 ? (double)done / secs : 0;
    cli_human_bytes(done, d);
    cli_human_bytes(total, t);
    fprintf(stderr, "\r%s: %s / %s  %.1f MB/s  ETA %.0fs   ", cp->label, d, t,
            rate / 1e6, rate > 0 ? (double)(total - done) / rate : 0.0);
}

void cli_progress_start(struct cli_progress *cp, struct bk_progress *prog,
                        const struct cli *c, const char *label, int bytes)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    memset(cp, 0, sizeof(*cp));
    cp->label = label;
    cp->bytes = bytes;
    cp->enabled = !c->json && !c->quiet && isatty(STDERR_FILENO);
    cp->start_ms = time_mono_ms();
    prog->cb = cp->enabled ? progress_cb : NULL;
    prog->opaque = cp;
    prog->cancel = &cancel_flag;
}

void cli_progress_end(struct cli_progress *cp)
{
    if (cp->enabled)
        fputc('\n', stderr);
}

void cli_print_json(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);

    puts(s);
    free(s);
    json_decref(o);
}

int cli_fail(const struct cli *c, const char *what, int err)
{
    if (c->json) {
        json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", err_code(err),
                              "message", what);

        cli_print_json(o);
    }
    fprintf(stderr, "xenith-backup: %s: %s\n", what, err_str(err));
    return EXIT_FAIL;
}

int cli_fail_repo(const struct cli *c, const struct bk_repo *repo,
                  const char *what, int err)
{
    const char *why = bk_repo_error(repo);
    char msg[1024];

    if (!why[0])
        return cli_fail(c, what, err);
    snprintf(msg, sizeof(msg), "%s: %s", what, why);
    if (c->json)
        cli_print_json(json_pack("{s:{s:s,s:s}}", "error", "code",
                                 err_code(err), "message", msg));
    fprintf(stderr, "xenith-backup: %s\n", msg);
    return EXIT_FAIL;
}

char *cli_passphrase(const struct cli *c)
{
    const char *env = getenv("XENITH_BACKUP_PASSPHRASE");
    char *buf;
    size_t n;
    FILE *f;

    if (!c->passphrase_file)
        return env && *env ? xstrdup(env) : NULL;
    f = fopen(c->passphrase_file, "re");
    if (!f) {
        fprintf(stderr, "xenith-backup: %s: %s\n", c->passphrase_file,
                strerror(errno));
        return NULL;
    }
    buf = xcalloc(1, PASS_MAX + 1);
    n = fread(buf, 1, PASS_MAX, f);
    fclose(f);
    buf[n] = 0;
    buf[strcspn(buf, "\r\n")] = 0; /* the first line */
    if (!buf[0]) {
        free(buf);
        return NULL;
    }
    return buf;
}

int cli_open(const struct cli *c, struct bk_repo **repo_out)
{
    char *pass = cli_passphrase(c);
    int rc = bk_repo_open(c->repo, pass, repo_out), had = pass != NULL;

    if (pass) {
        explicit_bzero(pass, strlen(pass));
        free(pass);
    }
    if (rc == ERR_UNAUTH)
        return cli_fail(c,
                        had ? "cannot open the repository: wrong passphrase"
                            : "cannot open the repository: it is encrypted "
                              "and needs its passphrase (--passphrase-file "
                              "or XENITH_BACKUP_PASSPHRASE)",
                        rc);
    if (rc)
        return cli_fail(c, "cannot open the repository", rc);
    if (c->threads)
        bk_repo_set_threads(*repo_out, c->threads);
    return EXIT_OK;
}
