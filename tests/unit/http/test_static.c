/* static_serve() against a temp web root: index fallback, MIME types,
 * no way out of the root ("..", symlinks), ETag/If-None-Match, the .gz
 * twin, and GET/HEAD only. Data-driven where possible. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/xalloc.h"
#include "server/api/req.h"
#include "server/core/app.h"
#include "server/http/static.h"

static char top[PATH_MAX];
static struct app app;

static void put(const char *rel, const char *text)
{
    char path[PATH_MAX + 64];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", top, rel);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    char path[PATH_MAX + 64];

    (void)state;
    xstrlcpy(top, "/tmp/xenith-static-XXXXXX", sizeof(top));
    assert_non_null(mkdtemp(top));
    snprintf(path, sizeof(path), "%s/web", top);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/web/js", top);
    assert_int_equal(mkdir(path, 0700), 0);
    put("web/index.html", "INDEX");
    put("web/js/app.js", "APPJS");
    put("web/js/app.js.gz", "GZTWIN");
    put("web/style.css", "CSS");
    put("web/data.weird", "W");
    put("secret.txt", "SECRET");
    snprintf(path, sizeof(path), "%s/web/leak.txt", top);
    assert_int_equal(symlink("../secret.txt", path), 0);
    snprintf(path, sizeof(path), "%s/web", top);
    xstrlcpy(app.web_root, path, sizeof(app.web_root));
    return 0;
}

static int teardown(void **state)
{
    char cmd[PATH_MAX + 16];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
    return system(cmd) == 0 ? 0 : -1;
}

/* Serve method+path with up to two headers; body read into out. */
static void serve(const char *method, const char *path, const char *h1,
                  const char *v1, const char *h2, const char *v2,
                  struct resp *r, char *out, size_t cap)
{
    struct http_header hdrs[2] = { { h1, v1 }, { h2, v2 } };
    struct req q;
    ssize_t n = 0;

    memset(&q, 0, sizeof(q));
    q.method = method;
    q.path = path;
    q.headers = hdrs;
    q.num_headers = h2 ? 2 : h1 ? 1 : 0;
    q.body_fd = -1;
    resp_init(r);
    static_serve(&app, &q, r);
    out[0] = '\0';
    if (r->body_fd >= 0) {
        assert_true(r->body_fd_len < (int64_t)cap);
        n = read(r->body_fd, out, (size_t)r->body_fd_len);
        assert_int_equal(n, r->body_fd_len);
        out[n] = '\0';
    }
}

static const char *hdr(const struct resp *r, const char *name)
{
    size_t i;

    for (i = 0; i < r->num_extra; i++)
        if (!strcasecmp(r->extra[i].name, name))
            return r->extra[i].value;
    return NULL;
}

static void test_paths(void **state)
{
    static const struct {
        const char *path;
        int status;
        const char *body;
        const char *type; /* prefix */
    } cases[] = {
        { "/", 200, "INDEX", "text/html" },
        { "/index.html", 200, "INDEX", "text/html" },
        { "/js/app.js", 200, "APPJS", "text/javascript" },
        { "/style.css", 200, "CSS", "text/css" },
        { "/data.weird", 200, "W", "application/octet-stream" },
        { "/vms/42/console", 200, "INDEX", "text/html" },
        { "/js/", 200, "INDEX", "text/html" },
        { "/nope.png", 404, "", NULL },
        { "/../secret.txt", 404, "", NULL },
        { "/js/../../secret.txt", 404, "", NULL },
        { "/..", 404, "", NULL },
        { "/leak.txt", 404, "", NULL },
        { "/js\\..\\..\\secret.txt", 404, "", NULL },
    };
    char body[256];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct resp r;

        serve("GET", cases[i].path, NULL, NULL, NULL, NULL, &r, body,
              sizeof(body));
        if (r.status != cases[i].status)
            fail_msg("%s: status %d", cases[i].path, r.status);
        if (cases[i].status == 200) {
            assert_string_equal(body, cases[i].body);
            assert_non_null(r.content_type);
            assert_memory_equal(r.content_type, cases[i].type,
                                strlen(cases[i].type));
        } else {
            assert_null(strstr(buf_str(&r.body), "SECRET"));
            assert_int_equal(r.body_fd, -1);
        }
        resp_release(&r);
    }
}

static void test_etag_and_304(void **state)
{
    struct resp r, r2;
    char body[256], etag[128];

    (void)state;
    serve("GET", "/js/app.js", NULL, NULL, NULL, NULL, &r, body, sizeof(body));
    assert_non_null(hdr(&r, "ETag"));
    xstrlcpy(etag, hdr(&r, "ETag"), sizeof(etag));
    assert_string_equal(hdr(&r, "Cache-Control"), "no-cache");
    resp_release(&r);
    serve("GET", "/js/app.js", "If-None-Match", etag, NULL, NULL, &r2, body,
          sizeof(body));
    assert_int_equal(r2.status, 304);
    assert_int_equal(r2.body_fd, -1);
    resp_release(&r2);
    serve("GET", "/js/app.js", "If-None-Match", "\"x\", W/\"y\"", NULL, NULL,
          &r2, body, sizeof(body));
    assert_int_equal(r2.status, 200);
    resp_release(&r2);
}

static void test_gzip_twin(void **state)
{
    static const struct {
        const char *ae;
        int gz;
    } cases[] = {
        { "gzip", 1 },     { "br, gzip;q=0.8", 1 }, { "deflate, gzip", 1 },
        { "gzip;q=0", 0 }, { "identity", 0 },       { "xgzip", 0 },
    };
    char body[256];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct resp r;

        serve("GET", "/js/app.js", "Accept-Encoding", cases[i].ae, NULL, NULL,
              &r, body, sizeof(body));
        assert_int_equal(r.status, 200);
        assert_string_equal(body, cases[i].gz ? "GZTWIN" : "APPJS");
        if (cases[i].gz)
            assert_string_equal(hdr(&r, "Content-Encoding"), "gzip");
        else
            assert_null(hdr(&r, "Content-Encoding"));
        assert_string_equal(hdr(&r, "Vary"), "Accept-Encoding");
        /* The JavaScript MIME type, not the .gz file's. */
        assert_memory_equal(r.content_type, "text/javascript", 15);
        resp_release(&r);
    }
}

static void test_methods(void **state)
{
    struct resp r;
    char body[256];

    (void)state;
    serve("HEAD", "/", NULL, NULL, NULL, NULL, &r, body, sizeof(body));
    assert_int_equal(r.status, 200);
    resp_release(&r);
    serve("POST", "/", NULL, NULL, NULL, NULL, &r, body, sizeof(body));
    assert_int_equal(r.status, 405);
    assert_string_equal(hdr(&r, "Allow"), "GET, HEAD");
    resp_release(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_etag_and_304),
        cmocka_unit_test(test_gzip_twin),
        cmocka_unit_test(test_methods),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
