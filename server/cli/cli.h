/* cli.h: the `xenith` command line tool: xenithd's REST API over the
 * local UNIX socket (DATA/xenithd.sock; the daemon knows the caller from
 * SO_PEERCRED, so root needs no password).
 */
#ifndef XENITH_SERVER_CLI_CLI_H
#define XENITH_SERVER_CLI_CLI_H

#include <jansson.h>

struct cli {
    const char *socket; /* path of xenithd.sock */
    int json;           /* print raw JSON answers */
    int wait;           /* wait for tasks to finish (default 1) */
};

struct cli_resp {
    int status;   /* HTTP status, 0 when no answer */
    json_t *body; /* parsed JSON or NULL; **new** */
};

/* One request; body may be NULL (no body). 0 when an answer came (any
 * status), else -1 with the reason printed to stderr. */
int cli_request(const struct cli *c, const char *method, const char *path,
                json_t *body, struct cli_resp *out);
void cli_resp_release(struct cli_resp *r);

/* Print the API's error body ("error: message (field)") for a non-2xx
 * answer; returns 1 (the exit status). */
int cli_fail(const struct cli_resp *r, const char *what);

/* Commands: argv after the command word. Return the exit status. */
int cli_cmd_vm(const struct cli *c, int argc, char **argv);
int cli_cmd_list(const struct cli *c, const char *what, int argc, char **argv);
int cli_cmd_task(const struct cli *c, int argc, char **argv);
int cli_cmd_api(const struct cli *c, int argc, char **argv);

/* Wait for task id to finish; print its result. Exit status. */
int cli_wait_task(const struct cli *c, const char *id);

#endif
