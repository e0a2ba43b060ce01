/* http_job: the request a front-end builds. Decoded query parameters
 * are re-encoded so req_query() gives them back unchanged; headers and
 * the body cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "server/api/req.h"
#include "server/http/http_job.h"

static void test_query_round_trip(void **state)
{
    static const struct {
        const char *name, *value;
    } params[] = {
        { "plain", "abc" },
        { "space", "a b+c" },
        { "amp", "x&y=z;w" },
        { "pct", "100%25 %zz" },
        { "utf8", "\xc3\xa9t\xc3\xa9" },
        { "empty", "" },
    };
    struct http_job *job = http_job_new();
    char out[64];
    size_t i;

    (void)state;
    http_job_set_method(job, "GET");
    http_job_set_path(job, "/api/v1/x");
    for (i = 0; i < sizeof(params) / sizeof(params[0]); i++)
        http_job_add_query(job, params[i].name, params[i].value);
    http_job_add_query(job, "flag", NULL);
    http_job_add_header(job, "Host", "example:8443");
    http_job_add_header(job, "x-csrf-token", "t0k");
    http_job_seal(job);

    assert_string_equal(job->q.method, "GET");
    assert_string_equal(job->q.path, "/api/v1/x");
    for (i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
        assert_int_equal(req_query(&job->q, params[i].name, out, sizeof(out)),
                         0);
        assert_string_equal(out, params[i].value);
    }
    assert_int_equal(req_query(&job->q, "flag", out, sizeof(out)), 0);
    assert_string_equal(out, "");
    assert_int_equal(req_query(&job->q, "nope", out, sizeof(out)),
                     ERR_NOTFOUND);
    assert_string_equal(req_header(&job->q, "X-CSRF-Token"), "t0k");
    assert_string_equal(req_header(&job->q, "host"), "example:8443");
    http_job_free(job);
}

static void test_header_limit(void **state)
{
    struct http_job *job = http_job_new();
    char name[32];
    int i;

    (void)state;
    for (i = 0; i < HTTP_MAX_HEADERS; i++) {
        snprintf(name, sizeof(name), "h%d", i);
        assert_int_equal(http_job_add_header(job, name, "v"), 0);
    }
    assert_int_equal(http_job_add_header(job, "one-too-many", "v"), ERR_TOOBIG);
    http_job_free(job);
}

static void test_body_cap(void **state)
{
    static char chunk[64 * 1024];
    struct http_job *job = http_job_new();
    int i;

    (void)state;
    http_job_set_method(job, "POST");
    http_job_set_path(job, "/static-path"); /* no route: capped body */
    http_job_seal(job);
    assert_int_equal(http_job_body_begin(job, NULL, "/nonexistent", -1), 0);
    for (i = 0; i < 17; i++) /* 1 MiB + 64 KiB, no length declared */
        assert_int_equal(http_job_body_add(job, chunk, sizeof(chunk)), 0);
    assert_true(job->too_big);
    assert_true(job->body.len <= REQ_MAX_BODY);
    http_job_answer_too_big(job);
    assert_int_equal(job->r.status, 413);
    http_job_free(job);
}

static void fake_run(struct app *app, struct http_job *job)
{
    (void)app;
    job->aux_fd = dup(STDERR_FILENO);
}

/* A job with ->run runs it instead of the router (a worker's step of
 * the public front-end, e.g. a console open), and its aux_fd nobody
 * took is closed with the job. */
static void test_run_job(void **state)
{
    struct http_job *job = http_job_new();
    struct stat st;
    int fd;

    (void)state;
    assert_int_equal(job->aux_fd, -1);
    job->run = fake_run;
    http_job_run(NULL, job);
    fd = job->aux_fd;
    assert_true(fd >= 0);
    assert_int_equal(job->r.status, 0); /* the router did not run */
    http_job_free(job);
    assert_int_equal(fstat(fd, &st), -1); /* closed with the job */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_round_trip),
        cmocka_unit_test(test_header_limit),
        cmocka_unit_test(test_body_cap),
        cmocka_unit_test(test_run_job),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
