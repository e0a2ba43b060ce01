/* fake.h: a daemon without front-ends for handler tests: an app with an
 * in-memory DB and the first admin, and requests built by hand and run
 * through router_dispatch() ("handlers can be unit-tested with a fake
 * request"). Static functions; include from one test file only. */
#ifndef XENITH_TESTS_UNIT_AUTH_FAKE_H
#define XENITH_TESTS_UNIT_AUTH_FAKE_H

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/xalloc.h"
#include "db/db.h"
#include "server/api/router.h"
#include "server/core/app.h"
#include "server/core/auth.h"
#include "server/core/auth_limit.h"

#define FAKE_ADMIN_PW "Admin-pass-1234"

struct fake {
    struct app app;
    char dir[64];
    struct resp r;
    json_t *json; /* the last response body, parsed, or NULL */
};

static inline void fake_init(struct fake *f)
{
    char pwfile[128];
    FILE *fp;

    memset(f, 0, sizeof(*f));
    config_defaults(&f->app.cfg);
    snprintf(f->dir, sizeof(f->dir), "/tmp/xenith-auth-XXXXXX");
    if (!mkdtemp(f->dir))
        abort();
    xstrlcpy(f->app.cfg.data_dir, f->dir, sizeof(f->app.cfg.data_dir));
    if (db_open(":memory:", &f->app.db))
        abort();
    snprintf(pwfile, sizeof(pwfile), "%s/pw", f->dir);
    fp = fopen(pwfile, "w");
    fprintf(fp, "  %s  \n", FAKE_ADMIN_PW);
    fclose(fp);
    if (auth_bootstrap_admin(&f->app, pwfile))
        abort();
    unlink(pwfile);
    auth_limit_reset(f->app.db);
    resp_init(&f->r);
}

static inline void fake_release(struct fake *f)
{
    char path[128];

    resp_release(&f->r);
    json_decref(f->json);
    db_close(f->app.db);
    snprintf(path, sizeof(path), "%s/initial-admin-password", f->dir);
    unlink(path);
    rmdir(f->dir);
}

/* Run one request. Headers as name, value pairs ending with NULL.
 * local: -1 for TCP, else the peer uid on the local socket. Returns
 * the status; f->r and f->json hold the response. */
static inline int fake_call(struct fake *f, int local, const char *method,
                            const char *path, const char *body, ...)
{
    struct http_header h[8];
    struct req q;
    char pathbuf[256];
    const char *qs;
    va_list ap;
    size_t n = 0;

    memset(&q, 0, sizeof(q));
    xstrlcpy(pathbuf, path, sizeof(pathbuf));
    qs = strchr(path, '?');
    if (qs) {
        pathbuf[qs - path] = '\0';
        q.query = qs + 1;
    }
    va_start(ap, body);
    for (;;) {
        const char *name = va_arg(ap, const char *);

        if (!name)
            break;
        h[n].name = name;
        h[n].value = va_arg(ap, const char *);
        n++;
    }
    va_end(ap);
    if (body) {
        h[n].name = "Content-Type";
        h[n].value = "application/json";
        n++;
    }
    q.method = method;
    q.path = pathbuf;
    q.headers = h;
    q.num_headers = n;
    q.body = body;
    q.body_len = body ? strlen(body) : 0;
    q.body_fd = -1;
    if (local >= 0) {
        q.local = 1;
        q.peer_uid = (uid_t)local;
        xstrlcpy(q.peer, "unix", sizeof(q.peer));
    } else {
        xstrlcpy(q.peer, "192.0.2.7", sizeof(q.peer));
    }
    resp_release(&f->r);
    resp_init(&f->r);
    json_decref(f->json);
    router_dispatch(&f->app, &q, &f->r);
    f->json = f->r.body.len ? json_loads(f->r.body.data, 0, NULL) : NULL;
    return f->r.status;
}

/* A response header's value, or NULL. */
static inline const char *fake_header(const struct fake *f, const char *name)
{
    size_t i;

    for (i = 0; i < f->r.num_extra; i++)
        if (!strcasecmp(f->r.extra[i].name, name))
            return f->r.extra[i].value;
    return NULL;
}

/* The error code/field of the last response ("" when absent). */
static inline const char *fake_err_code(const struct fake *f)
{
    const char *s = json_string_value(
        json_object_get(json_object_get(f->json, "error"), "code"));

    return s ? s : "";
}

static inline const char *fake_err_field(const struct fake *f)
{
    const char *s = json_string_value(
        json_object_get(json_object_get(f->json, "error"), "field"));

    return s ? s : "";
}

/* A logged-in browser: cookie header value and CSRF token. */
struct fake_session {
    char cookie[128];
    char csrf[80];
};

static inline int fake_login(struct fake *f, const char *user, const char *pw,
                             struct fake_session *s_out)
{
    char body[512];
    const char *sc;
    int st;

    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s\"}",
             user, pw);
    st = fake_call(f, -1, "POST", "/api/v1/session", body, NULL);
    if (st != 200)
        return st;
    sc = fake_header(f, "Set-Cookie");
    if (!sc)
        return -1;
    snprintf(s_out->cookie, sizeof(s_out->cookie), "%.*s",
             (int)strcspn(sc, ";"), sc);
    xstrlcpy(s_out->csrf,
             json_string_value(json_object_get(f->json, "csrf_token")),
             sizeof(s_out->csrf));
    return st;
}

/* Requests as a logged-in browser (with the CSRF token). */
static inline int fake_as(struct fake *f, const struct fake_session *s,
                          const char *method, const char *path,
                          const char *body)
{
    return fake_call(f, -1, method, path, body, "Cookie", s->cookie,
                     "X-CSRF-Token", s->csrf, NULL);
}

/* Requests with a Bearer token. */
static inline int fake_bearer(struct fake *f, const char *token,
                              const char *method, const char *path,
                              const char *body)
{
    char h[160];

    snprintf(h, sizeof(h), "Bearer %s", token);
    return fake_call(f, -1, method, path, body, "Authorization", h, NULL);
}

/* cmocka set-up for tests that act as a logged-in admin. */
struct fake_admin {
    struct fake f;
    struct fake_session admin;
};

static inline int fake_admin_setup(void **state)
{
    struct fake_admin *t = xmalloc(sizeof(*t));

    fake_init(&t->f);
    if (fake_login(&t->f, "admin", FAKE_ADMIN_PW, &t->admin) != 200)
        abort();
    *state = t;
    return 0;
}

static inline int fake_admin_teardown(void **state)
{
    struct fake_admin *t = *state;

    fake_release(&t->f);
    free(t);
    return 0;
}

#define FAKE_ADMIN_TEST(fn) \
    cmocka_unit_test_setup_teardown(fn, fake_admin_setup, fake_admin_teardown)

#endif
