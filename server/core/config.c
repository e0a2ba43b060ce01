#include "server/core/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/xalloc.h"

void config_defaults(struct config *c)
{
    memset(c, 0, sizeof(*c));
    xstrlcpy(c->listen_addr, "127.0.0.1", sizeof(c->listen_addr));
    c->listen_port = 8443;
    xstrlcpy(c->data_dir, "/var/lib/xenith", sizeof(c->data_dir));
    c->workers = 4;
    c->session_idle_s = 30 * 60;
    c->session_max_s = 12 * 3600;
}

static int config_int(const char *v, long lo, long hi, int *out)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi)
        return ERR_INVALID;
    *out = (int)n;
    return 0;
}

static int config_listen(struct config *c, const char *v)
{
    const char *colon = strrchr(v, ':');
    size_t alen;

    if (!colon || colon == v)
        return ERR_INVALID;
    alen = (size_t)(colon - v);
    if (v[0] == '[' && alen > 2 && v[alen - 1] == ']') {
        v++;
        alen -= 2;
    }
    if (alen >= sizeof(c->listen_addr))
        return ERR_INVALID;
    memcpy(c->listen_addr, v, alen);
    c->listen_addr[alen] = '\0';
    return config_int(colon + 1, 1, 65535, &c->listen_port);
}

static int config_local_user(struct config *c, const char *v)
{
    const char *colon = strchr(v, ':');
    char uidbuf[16];
    int uid;

    if (!colon || c->num_local_users >= CONFIG_MAX_LOCAL_USERS ||
        (size_t)(colon - v) >= sizeof(uidbuf))
        return ERR_INVALID;
    memcpy(uidbuf, v, (size_t)(colon - v));
    uidbuf[colon - v] = '\0';
    if (config_int(uidbuf, 0, 0x7fffffff, &uid) || !colon[1])
        return ERR_INVALID;
    c->local_users[c->num_local_users].uid = (uid_t)uid;
    if (xstrlcpy(c->local_users[c->num_local_users].username, colon + 1,
                 sizeof(c->local_users[0].username)))
        return ERR_INVALID;
    c->num_local_users++;
    return 0;
}

#define CONFIG_STR(field) \
    (xstrlcpy(c->field, value, sizeof(c->field)) ? ERR_INVALID : 0)

int config_set(struct config *c, const char *key, const char *value)
{
    int rc;

    if (!strcmp(key, "listen"))
        rc = config_listen(c, value);
    else if (!strcmp(key, "data"))
        rc = CONFIG_STR(data_dir);
    else if (!strcmp(key, "hv"))
        rc = CONFIG_STR(hv_uri);
    else if (!strcmp(key, "admin-password-file"))
        rc = CONFIG_STR(admin_password_file);
    else if (!strcmp(key, "tls-cert"))
        rc = CONFIG_STR(tls_cert);
    else if (!strcmp(key, "tls-key"))
        rc = CONFIG_STR(tls_key);
    else if (!strcmp(key, "web-root"))
        rc = CONFIG_STR(web_root);
    else if (!strcmp(key, "demo"))
        rc = config_int(value, 0, 1, &c->demo);
    else if (!strcmp(key, "workers"))
        rc = config_int(value, 1, 64, &c->workers);
    else if (!strcmp(key, "io-threads"))
        rc = config_int(value, 0, CONFIG_MAX_IO_THREADS, &c->io_threads);
    else if (!strcmp(key, "session-idle"))
        rc = config_int(value, 1, 30 * 86400, &c->session_idle_s);
    else if (!strcmp(key, "session-max"))
        rc = config_int(value, 1, 365 * 86400, &c->session_max_s);
    else if (!strcmp(key, "test-clock-offset")) /* hidden, for tests */
        rc = config_int(value, -400000000, 400000000, &c->test_clock_offset_s);
    else if (!strcmp(key, "local-user"))
        rc = config_local_user(c, value);
    else {
        log_error("config: unknown key '%s'", key);
        return ERR_INVALID;
    }
    if (rc)
        log_error("config: bad value for '%s'", key);
    return rc;
}

static char *config_trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s &&
           (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

int config_load_file(struct config *c, const char *path)
{
    char line[1024];
    int lineno = 0, rc = 0;
    FILE *f = fopen(path, "r");

    if (!f)
        return errno == ENOENT ? ERR_NOTFOUND : err_from_errno(errno);
    while (fgets(line, sizeof(line), f)) {
        char *eq, *key, *val, *s = config_trim(line);

        lineno++;
        if (!*s || *s == '#')
            continue;
        eq = strchr(s, '=');
        if (!eq) {
            log_error("config: %s:%d: expected key = value", path, lineno);
            rc = ERR_INVALID;
            break;
        }
        *eq = '\0';
        key = config_trim(s);
        val = config_trim(eq + 1);
        rc = config_set(c, key, val);
        if (rc) {
            log_error("config: %s:%d: bad line", path, lineno);
            break;
        }
    }
    fclose(f);
    return rc;
}

static void config_usage(void)
{
    fprintf(stderr,
            "usage: xenithd [--listen ADDR:PORT] [--data DIR] [--hv URI]\n"
            "               [--admin-password-file F] [--config FILE]\n"
            "               [--tls-cert F --tls-key F] [--web-root DIR]\n"
            "               [--workers N] [--io-threads N]\n"
            "               [--local-user UID:NAME] [--demo]\n");
}

int config_parse_args(struct config *c, int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            config_usage();
            return 1;
        }
        if (!strcmp(a, "--demo")) {
            c->demo = 1;
            continue;
        }
        if (strncmp(a, "--", 2) || i + 1 >= argc) {
            config_usage();
            return ERR_INVALID;
        }
        if (!strcmp(a, "--config")) {
            i++; /* loaded by main before the other arguments */
            continue;
        }
        if (config_set(c, a + 2, argv[++i])) {
            config_usage();
            return ERR_INVALID;
        }
    }
    return 0;
}
