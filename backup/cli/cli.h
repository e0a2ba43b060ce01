/* cli.h: what the files of the xenith-backup CLI share: the parsed
 * command line, the progress display, output helpers and one function
 * per command. Single-threaded except for the progress callback, which
 * the engine serialises.
 */
#ifndef XENITH_BACKUP_CLI_CLI_H
#define XENITH_BACKUP_CLI_CLI_H

#include <jansson.h>
#include <stdatomic.h>

#include "backup/bk.h"

/* Exit statuses. */
#define EXIT_OK      0
#define EXIT_FAIL    1
#define EXIT_USAGE   2
#define EXIT_PROBLEM 3 /* verify found corrupt or missing data */

struct cli {
    const char *cmd;
    const char *repo;
    const char *passphrase_file;
    const char *name;
    const char *parent; /* NULL = automatic by name */
    const char *changed_since;
    const char *disk_name;
    const char *vm_config_file; /* a JSON object for the manifest */
    const char *host;           /* unlock: a host declared dead */
    int no_parent;
    int json;
    int quiet;
    int threads;
    int encrypt;
    int compression;
    int chunk_kib;
    int sample;
    int disk;
    int protect;
    int dry_run;
    struct bk_retention keep;
    char **args; /* positional arguments after the command */
    int num_args;
};

/* Progress on a TTY (stderr): label, bytes, MB/s, ETA. */
struct cli_progress {
    const char *label;
    int enabled;
    int bytes; /* 1: done/total are bytes; 0: items */
    long long start_ms;
    long long last_ms;
};

/* Set up prog for a long call; a signal handler flips the cancel flag. */
void cli_progress_start(struct cli_progress *cp, struct bk_progress *prog,
                        const struct cli *c, const char *label, int bytes);
void cli_progress_end(struct cli_progress *cp);
atomic_int *cli_cancel_flag(void);

/* Print a JSON object to stdout (steals o). */
void cli_print_json(json_t *o);

/* Report an engine error for what on stderr; returns EXIT_FAIL. */
int cli_fail(const struct cli *c, const char *what, int err);

/* cli_fail for a failed call on repo, with the engine's reason
 * (bk_repo_error) when it kept one. */
int cli_fail_repo(const struct cli *c, const struct bk_repo *repo,
                  const char *what, int err);

/* Read the passphrase (--passphrase-file, else XENITH_BACKUP_PASSPHRASE):
 * **new** or NULL. */
char *cli_passphrase(const struct cli *c);

/* Open the repository named by --repo. */
int cli_open(const struct cli *c, struct bk_repo **repo_out);

void cli_human_bytes(unsigned long long n, char out[32]);

int cmd_init(const struct cli *c);
int cmd_backup_file(const struct cli *c);
int cmd_snapshots(const struct cli *c);
int cmd_restore(const struct cli *c);
int cmd_verify(const struct cli *c);
int cmd_prune(const struct cli *c);
int cmd_gc(const struct cli *c);
int cmd_stats(const struct cli *c);
int cmd_unlock(const struct cli *c);

#endif
