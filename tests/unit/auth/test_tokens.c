/* The tokens API through router_dispatch(): create (secret once, only
 * its hash stored), list own, delete own, role caps, expiry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/hash.h"
#include "common/timeutil.h"
#include "db/db_tokens.h"
#include "tests/unit/auth/fake.h"

/* POST /tokens as s (or with bearer when s is NULL); the secret into
 * secret_out when 201. */
static int create(struct fake_admin *t, const struct fake_session *s,
                  const char *bearer, const char *body, char secret_out[80])
{
    int st = s ? fake_as(&t->f, s, "POST", "/api/v1/tokens", body)
               : fake_bearer(&t->f, bearer, "POST", "/api/v1/tokens", body);

    if (st == 201 && secret_out)
        xstrlcpy(secret_out,
                 json_string_value(json_object_get(t->f.json, "token")), 80);
    return st;
}

static size_t count_tokens(struct fake_admin *t)
{
    assert_int_equal(fake_as(&t->f, &t->admin, "GET", "/api/v1/tokens", NULL),
                     200);
    return json_array_size(t->f.json);
}

static void test_create_use_list_delete(void **state)
{
    struct fake_admin *t = *state;
    char secret[80], id[37], path[80], h[SHA256_HEXLEN];
    struct db_token row;

    assert_int_equal(create(t, &t->admin, NULL,
                            "{\"name\":\"prometheus 1\",\"role\":\"viewer\"}",
                            secret),
                     201);
    assert_int_equal(strncmp(secret, "xnt_", 4), 0);
    assert_int_equal(strlen(secret), 4 + 64);
    xstrlcpy(id, json_string_value(json_object_get(t->f.json, "id")),
             sizeof(id));
    assert_string_equal(json_string_value(json_object_get(t->f.json, "role")),
                        "viewer");
    assert_true(json_is_null(json_object_get(t->f.json, "expires_at")));
    /* Stored only hashed. */
    sha256_hex(secret, strlen(secret), h);
    assert_int_equal(db_token_get_by_hash(t->f.app.db, h, &row), 0);
    assert_string_equal(row.id, id);
    assert_int_equal(db_token_get_by_hash(t->f.app.db, secret, &row),
                     ERR_NOTFOUND);

    /* It works, as a viewer. */
    assert_int_equal(fake_bearer(&t->f, secret, "GET", "/api/v1/metrics", NULL),
                     200);
    assert_int_equal(fake_bearer(&t->f, secret, "GET", "/api/v1/users", NULL),
                     403);

    /* Listed without the secret or its hash. */
    assert_int_equal(count_tokens(t), 1);
    assert_null(strstr(t->f.r.body.data, secret + 4));
    assert_null(strstr(t->f.r.body.data, h));
    assert_null(json_object_get(json_array_get(t->f.json, 0), "token"));

    snprintf(path, sizeof(path), "/api/v1/tokens/%s", id);
    assert_int_equal(fake_as(&t->f, &t->admin, "DELETE", path, NULL), 204);
    assert_int_equal(fake_bearer(&t->f, secret, "GET", "/api/v1/metrics", NULL),
                     401);
    assert_int_equal(fake_as(&t->f, &t->admin, "DELETE", path, NULL), 404);
    assert_int_equal(count_tokens(t), 0);
}

static void test_bad_input(void **state)
{
    struct fake_admin *t = *state;
    static const struct {
        const char *body;
        const char *field;
    } cases[] = {
        { "{\"name\":\"x\",\"role\":\"viewer\",\"expires_at\":\"tomorrow\"}",
          "expires_at" },
        { "{\"name\":\"x\",\"role\":\"viewer\","
          "\"expires_at\":\"2001-01-01T00:00:00Z\"}",
          "expires_at" },
        { "{\"name\":\"x\",\"role\":\"viewer\",\"expires_at\":5}",
          "expires_at" },
        { "{\"name\":\"x\",\"role\":\"root\"}", "role" },
        { "{\"name\":\"x\"}", "role" },
        { "{\"role\":\"viewer\"}", "name" },
        { "{\"name\":\"\",\"role\":\"viewer\"}", "name" },
        { "{\"name\":\"a/b\",\"role\":\"viewer\"}", "name" },
        { "{\"name\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
          "aaaaaaaaaa\",\"role\":\"viewer\"}",
          "name" },
        { "{\"name\":\"x\",\"role\":\"viewer\",\"secret\":\"mine\"}",
          "secret" },
        { "{\"name\":", "" },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(create(t, &t->admin, NULL, cases[i].body, NULL), 400);
        assert_string_equal(fake_err_field(&t->f), cases[i].field);
    }
    assert_int_equal(count_tokens(t), 0);
    assert_int_equal(
        fake_as(&t->f, &t->admin, "DELETE", "/api/v1/tokens/xyz", NULL), 400);
    assert_string_equal(fake_err_field(&t->f), "id");
}

static void test_expiry(void **state)
{
    struct fake_admin *t = *state;
    char secret[80], body[160], when[21];

    time_rfc3339(time_now() + 3600, when);
    snprintf(body, sizeof(body),
             "{\"name\":\"ci\",\"role\":\"operator\",\"expires_at\":\"%s\"}",
             when);
    assert_int_equal(create(t, &t->admin, NULL, body, secret), 201);
    assert_string_equal(
        json_string_value(json_object_get(t->f.json, "expires_at")), when);
    assert_int_equal(fake_bearer(&t->f, secret, "GET", "/api/v1/session", NULL),
                     200);
}

static void test_role_caps(void **state)
{
    struct fake_admin *t = *state;
    char op_secret[80], view_secret[80], secret[80];

    /* An operator token cannot mint an admin token, but an operator or
     * viewer one. */
    assert_int_equal(create(t, &t->admin, NULL,
                            "{\"name\":\"op\",\"role\":\"operator\"}",
                            op_secret),
                     201);
    assert_int_equal(create(t, NULL, op_secret,
                            "{\"name\":\"up\",\"role\":\"admin\"}", NULL),
                     403);
    assert_string_equal(fake_err_field(&t->f), "role");
    assert_int_equal(create(t, NULL, op_secret,
                            "{\"name\":\"v\",\"role\":\"viewer\"}",
                            view_secret),
                     201);
    assert_int_equal(create(t, NULL, view_secret,
                            "{\"name\":\"v2\",\"role\":\"operator\"}", NULL),
                     403);
    assert_int_equal(create(t, NULL, view_secret,
                            "{\"name\":\"v2\",\"role\":\"viewer\"}", secret),
                     201);
    assert_int_equal(count_tokens(t), 3);
    /* root on the local socket is no xenith user: no tokens. */
    assert_int_equal(fake_call(&t->f, 0, "POST", "/api/v1/tokens",
                               "{\"name\":\"r\",\"role\":\"viewer\"}", NULL),
                     403);
    assert_int_equal(fake_call(&t->f, 0, "GET", "/api/v1/tokens", NULL, NULL),
                     200);
    assert_int_equal(json_array_size(t->f.json), 0);
}

static void test_own_only(void **state)
{
    struct fake_admin *t = *state;
    struct fake_session bob;
    char id[37], path[80];

    assert_int_equal(fake_as(&t->f, &t->admin, "POST", "/api/v1/users",
                             "{\"username\":\"bob\",\"password\":"
                             "\"Pass-word-1\",\"role\":\"viewer\"}"),
                     201);
    assert_int_equal(fake_login(&t->f, "bob", "Pass-word-1", &bob), 200);
    assert_int_equal(create(t, &t->admin, NULL,
                            "{\"name\":\"mine\",\"role\":\"viewer\"}", NULL),
                     201);
    xstrlcpy(id, json_string_value(json_object_get(t->f.json, "id")),
             sizeof(id));
    /* bob sees none of admin's and cannot delete them (404). */
    assert_int_equal(fake_as(&t->f, &bob, "GET", "/api/v1/tokens", NULL), 200);
    assert_int_equal(json_array_size(t->f.json), 0);
    snprintf(path, sizeof(path), "/api/v1/tokens/%s", id);
    assert_int_equal(fake_as(&t->f, &bob, "DELETE", path, NULL), 404);
    assert_int_equal(count_tokens(t), 1);
    /* A viewer may create a viewer token, not more. */
    assert_int_equal(
        create(t, &bob, NULL, "{\"name\":\"b\",\"role\":\"operator\"}", NULL),
        403);
    assert_int_equal(
        create(t, &bob, NULL, "{\"name\":\"b\",\"role\":\"viewer\"}", NULL),
        201);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FAKE_ADMIN_TEST(test_create_use_list_delete),
        FAKE_ADMIN_TEST(test_bad_input),
        FAKE_ADMIN_TEST(test_expiry),
        FAKE_ADMIN_TEST(test_role_caps),
        FAKE_ADMIN_TEST(test_own_only),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
