/* config.h: xenithd's settings, from the config file and the command
 * line (the same keys; the command line wins).
 *
 * File format: "key = value" lines, '#' comments. Keys: listen, data,
 * hv, admin-password-file, tls-cert, tls-key, web-root, demo,
 * local-user (repeatable: "UID:USERNAME", maps a local socket peer to a
 * xenith user), session-idle, session-max, workers, io-threads.
 */
#ifndef XENITH_SERVER_CORE_CONFIG_H
#define XENITH_SERVER_CORE_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#define CONFIG_MAX_LOCAL_USERS 16
#define CONFIG_MAX_IO_THREADS  4

struct config_local_user {
    uid_t uid;
    char username[65];
};

struct config {
    char listen_addr[64]; /* "127.0.0.1" */
    int listen_port;      /* 8443 */
    char data_dir[PATH_MAX];
    char hv_uri[256]; /* "" = pick */
    char admin_password_file[PATH_MAX];
    char tls_cert[PATH_MAX]; /* "" = DATA/tls/cert.pem, generated */
    char tls_key[PATH_MAX];
    char web_root[PATH_MAX]; /* "" = ./web next to the binary's tree */
    int demo;
    int workers;             /* handler pool size */
    int io_threads;          /* TLS service threads; 0 = CPUs, max 4 */
    int session_idle_s;      /* idle expiry */
    int session_max_s;       /* absolute expiry */
    int test_clock_offset_s; /* hidden: the backup scheduler's clock */
    struct config_local_user local_users[CONFIG_MAX_LOCAL_USERS];
    size_t num_local_users;
};

/* Defaults for every field. */
void config_defaults(struct config *c);

/* Apply one "key", "value" pair; ERR_INVALID naming the key in the log. */
int config_set(struct config *c, const char *key, const char *value);

/* Read a config file; ERR_NOTFOUND if it does not exist. */
int config_load_file(struct config *c, const char *path);

/* Parse argv (after config_defaults/config_load_file). Returns 0, 1 for
 * --help (usage printed), or ERR_INVALID (message printed). */
int config_parse_args(struct config *c, int argc, char **argv);

#endif
