/* The audit log and metrics through router_dispatch(): what gets
 * recorded (log-ins with the name tried, never the password; every
 * mutating request with its target and status), GET /audit paging and
 * filters, /audit/verify, and GET /metrics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "common/err.h"
#include "tests/unit/auth/fake.h"

static const char *row_str(json_t *row, const char *key)
{
    const char *s = json_string_value(json_object_get(row, key));

    return s ? s : "";
}

static void test_login_attempts_recorded(void **state)
{
    struct fake_admin *t = *state;
    struct fake_session s;
    json_t *row;

    assert_int_equal(fake_login(&t->f, "mallory", "Secret-guess-1", &s), 401);
    assert_int_equal(
        fake_as(&t->f, &t->admin, "GET", "/api/v1/audit?limit=2", NULL), 200);
    assert_int_equal(json_array_size(t->f.json), 2);
    row = json_array_get(t->f.json, 0);
    assert_string_equal(row_str(row, "username"), "mallory");
    assert_string_equal(row_str(row, "method"), "POST");
    assert_string_equal(row_str(row, "path"), "/api/v1/session");
    assert_string_equal(row_str(row, "source"), "192.0.2.7");
    assert_int_equal(json_integer_value(json_object_get(row, "status")), 401);
    row = json_array_get(t->f.json, 1);
    assert_string_equal(row_str(row, "username"), "admin");
    assert_int_equal(json_integer_value(json_object_get(row, "status")), 200);
    assert_null(strstr(t->f.r.body.data, "Secret-guess-1"));
    assert_null(strstr(t->f.r.body.data, FAKE_ADMIN_PW));
    /* Bad JSON is recorded too, with no name. */
    assert_int_equal(fake_call(&t->f, -1, "POST", "/api/v1/session", "{", NULL),
                     400);
    assert_int_equal(
        fake_as(&t->f, &t->admin, "GET", "/api/v1/audit?limit=1", NULL), 200);
    row = json_array_get(t->f.json, 0);
    assert_string_equal(row_str(row, "username"), "-");
    assert_int_equal(json_integer_value(json_object_get(row, "status")), 400);
}

static void test_mutations_recorded(void **state)
{
    struct fake_admin *t = *state;
    char id[37];
    json_t *row;

    assert_int_equal(fake_as(&t->f, &t->admin, "POST", "/api/v1/users",
                             "{\"username\":\"bob\",\"password\":"
                             "\"Pass-word-1\",\"role\":\"viewer\"}"),
                     201);
    xstrlcpy(id, json_string_value(json_object_get(t->f.json, "id")),
             sizeof(id));
    /* A refused request (no CSRF token) is recorded as well. */
    assert_int_equal(fake_call(&t->f, -1, "POST", "/api/v1/users", "{}",
                               "Cookie", t->admin.cookie, NULL),
                     403);
    /* Reads are not. */
    assert_int_equal(fake_as(&t->f, &t->admin, "GET", "/api/v1/users", NULL),
                     200);
    assert_int_equal(
        fake_as(&t->f, &t->admin, "GET", "/api/v1/audit?limit=2", NULL), 200);
    row = json_array_get(t->f.json, 0);
    assert_int_equal(json_integer_value(json_object_get(row, "status")), 403);
    assert_string_equal(row_str(row, "path"), "/api/v1/users");
    row = json_array_get(t->f.json, 1);
    assert_int_equal(json_integer_value(json_object_get(row, "status")), 201);
    assert_string_equal(row_str(row, "target"), id);
    assert_string_equal(row_str(row, "username"), "admin");
    assert_true(json_is_string(json_object_get(row, "ts")));
    assert_int_equal(strlen(row_str(row, "hash")), 64);
}

static void test_paging_and_filters(void **state)
{
    struct fake_admin *t = *state;
    struct fake_session s;
    json_t *arr;
    json_int_t seq0, seq1;
    char path[80];
    int i;

    for (i = 0; i < 3; i++)
        assert_int_equal(fake_login(&t->f, "nobody", "Wrong-pass-1", &s), 401);
    assert_int_equal(fake_as(&t->f, &t->admin, "GET", "/api/v1/audit", NULL),
                     200);
    arr = t->f.json;
    assert_int_equal(json_array_size(arr), 4);
    seq0 = json_integer_value(json_object_get(json_array_get(arr, 0), "seq"));
    seq1 = json_integer_value(json_object_get(json_array_get(arr, 1), "seq"));
    assert_true(seq0 > seq1);

    snprintf(path, sizeof(path), "/api/v1/audit?before=%lld&limit=10",
             (long long)seq0);
    assert_int_equal(fake_as(&t->f, &t->admin, "GET", path, NULL), 200);
    assert_int_equal(json_array_size(t->f.json), 3);
    assert_int_equal(json_integer_value(
                         json_object_get(json_array_get(t->f.json, 0), "seq")),
                     seq1);

    assert_int_equal(
        fake_as(&t->f, &t->admin, "GET", "/api/v1/audit?user=admin", NULL),
        200);
    assert_int_equal(json_array_size(t->f.json), 1);
    assert_int_equal(
        fake_as(&t->f, &t->admin, "GET", "/api/v1/audit?user=nobody", NULL),
        200);
    assert_int_equal(json_array_size(t->f.json), 3);

    assert_int_equal(
        fake_as(&t->f, &t->admin, "GET", "/api/v1/audit?limit=0", NULL), 400);
    assert_string_equal(fake_err_field(&t->f), "limit");
    assert_int_equal(
        fake_as(&t->f, &t->admin, "GET", "/api/v1/audit?limit=1001", NULL),
        400);
    assert_int_equal(
        fake_as(&t->f, &t->admin, "GET", "/api/v1/audit?limit=5x", NULL), 400);
    assert_int_equal(
        fake_as(&t->f, &t->admin, "GET", "/api/v1/audit?before=-1", NULL), 400);
    assert_string_equal(fake_err_field(&t->f), "before");
    assert_int_equal(
        fake_as(&t->f, &t->admin, "GET", "/api/v1/audit?user=A%20B", NULL),
        400);
    assert_string_equal(fake_err_field(&t->f), "user");
}

static void test_verify(void **state)
{
    struct fake_admin *t = *state;

    assert_int_equal(fake_as(&t->f, &t->admin, "POST", "/api/v1/users",
                             "{\"username\":\"bob\",\"password\":"
                             "\"Pass-word-1\",\"role\":\"viewer\"}"),
                     201);
    assert_int_equal(
        fake_as(&t->f, &t->admin, "GET", "/api/v1/audit/verify", NULL), 200);
    assert_true(json_is_true(json_object_get(t->f.json, "ok")));
    assert_int_equal(json_integer_value(json_object_get(t->f.json, "rows")), 2);
    assert_null(json_object_get(t->f.json, "first_bad_seq"));
}

static void test_metrics(void **state)
{
    struct fake_admin *t = *state;
    const char *ct, *body;

    assert_int_equal(fake_as(&t->f, &t->admin, "GET", "/api/v1/metrics", NULL),
                     200);
    ct = t->f.r.content_type;
    assert_string_equal(ct, "text/plain; version=0.0.4");
    body = t->f.r.body.data;
    assert_non_null(strstr(body, "\nxenith_up 1\n"));
    assert_non_null(strstr(body, "\nxenith_users 1\n"));
    assert_non_null(strstr(body, "\nxenith_sessions_active 1\n"));
    assert_non_null(strstr(body, "\nxenith_audit_rows 1\n"));
    assert_non_null(strstr(body, "# TYPE xenith_tasks gauge\n"));
    assert_non_null(strstr(body, "\nxenith_tasks{status=\"running\"} 0\n"));
    /* Not public. */
    assert_int_equal(fake_call(&t->f, -1, "GET", "/api/v1/metrics", NULL, NULL),
                     401);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FAKE_ADMIN_TEST(test_login_attempts_recorded),
        FAKE_ADMIN_TEST(test_mutations_recorded),
        FAKE_ADMIN_TEST(test_paging_and_filters),
        FAKE_ADMIN_TEST(test_verify),
        FAKE_ADMIN_TEST(test_metrics),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
