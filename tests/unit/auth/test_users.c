/* The users API through router_dispatch(): create, list, get, patch,
 * delete, passwords; bad input answers 4xx naming the field and changes
 * nothing; the last admin stays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "common/err.h"
#include "db/db_sessions.h"
#include "db/db_users.h"
#include "tests/unit/auth/fake.h"

static int64_t count_users(struct fake_admin *t)
{
    int64_t n = -1;

    assert_int_equal(db_user_count(t->f.app.db, NULL, &n), 0);
    return n;
}

/* Create a user through the API; its id into id_out. */
static void create(struct fake_admin *t, const char *name, const char *role,
                   char id_out[37])
{
    char body[256];

    snprintf(body, sizeof(body),
             "{\"username\":\"%s\",\"password\":\"Pass-word-1\","
             "\"role\":\"%s\"}",
             name, role);
    assert_int_equal(fake_as(&t->f, &t->admin, "POST", "/api/v1/users", body),
                     201);
    xstrlcpy(id_out, json_string_value(json_object_get(t->f.json, "id")), 37);
}

static void test_create_list_get(void **state)
{
    struct fake_admin *t = *state;
    char id[37], path[80];
    json_t *arr;
    size_t i;

    create(t, "bob.smith-2_x", "operator", id);
    assert_string_equal(
        json_string_value(json_object_get(t->f.json, "username")),
        "bob.smith-2_x");
    assert_string_equal(json_string_value(json_object_get(t->f.json, "role")),
                        "operator");
    assert_null(json_object_get(t->f.json, "pw_hash"));
    assert_null(json_object_get(t->f.json, "password"));
    assert_true(json_is_string(json_object_get(t->f.json, "created_at")));

    assert_int_equal(fake_as(&t->f, &t->admin, "GET", "/api/v1/users", NULL),
                     200);
    arr = t->f.json;
    assert_int_equal(json_array_size(arr), 2);
    for (i = 0; i < json_array_size(arr); i++)
        assert_null(json_object_get(json_array_get(arr, i), "pw_hash"));
    assert_null(strstr(t->f.r.body.data, "scrypt"));

    snprintf(path, sizeof(path), "/api/v1/users/%s", id);
    assert_int_equal(fake_as(&t->f, &t->admin, "GET", path, NULL), 200);
    assert_string_equal(json_string_value(json_object_get(t->f.json, "id")),
                        id);
    /* The new user can log in. */
    {
        struct fake_session s;

        assert_int_equal(fake_login(&t->f, "bob.smith-2_x", "Pass-word-1", &s),
                         200);
    }
}

static void test_create_bad_input(void **state)
{
    struct fake_admin *t = *state;
    static const struct {
        const char *body;
        int status;
        const char *field;
    } cases[] = {
        { "{\"username\":\"x\",", 400, "" },
        { "[1]", 400, "" },
        { "{\"username\":\"Bob\",\"password\":\"Pass-word-1\","
          "\"role\":\"viewer\"}",
          400, "username" },
        { "{\"username\":\"\",\"password\":\"Pass-word-1\","
          "\"role\":\"viewer\"}",
          400, "username" },
        { "{\"username\":\"a b\",\"password\":\"Pass-word-1\","
          "\"role\":\"viewer\"}",
          400, "username" },
        { "{\"username\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
          "aaaaaaaaaaaaa\",\"password\":\"Pass-word-1\",\"role\":\"viewer\"}",
          400, "username" },
        { "{\"username\":7,\"password\":\"Pass-word-1\",\"role\":\"viewer\"}",
          400, "username" },
        { "{\"username\":\"c\",\"password\":\"short\",\"role\":\"viewer\"}",
          400, "password" },
        { "{\"username\":\"c\",\"password\":12345678,\"role\":\"viewer\"}", 400,
          "password" },
        { "{\"username\":\"c\",\"password\":\"Pass-word-1\",\"role\":\"god\"}",
          400, "role" },
        { "{\"username\":\"c\",\"password\":\"Pass-word-1\"}", 400, "role" },
        { "{\"username\":\"c\",\"password\":\"Pass-word-1\","
          "\"role\":\"viewer\",\"admin\":true}",
          400, "admin" },
        { "{\"username\":\"admin\",\"password\":\"Pass-word-1\","
          "\"role\":\"viewer\"}",
          409, "username" },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(
            fake_as(&t->f, &t->admin, "POST", "/api/v1/users", cases[i].body),
            cases[i].status);
        assert_string_equal(fake_err_field(&t->f), cases[i].field);
        assert_int_equal(count_users(t), 1);
    }
    assert_string_equal(fake_err_code(&t->f), "exists");
    /* No body at all. */
    assert_int_equal(fake_call(&t->f, -1, "POST", "/api/v1/users", NULL,
                               "Cookie", t->admin.cookie, "X-CSRF-Token",
                               t->admin.csrf, NULL),
                     400);
}

static void test_bad_uuid_in_path(void **state)
{
    struct fake_admin *t = *state;

    assert_int_equal(
        fake_as(&t->f, &t->admin, "GET", "/api/v1/users/not-a-uuid", NULL),
        400);
    assert_string_equal(fake_err_field(&t->f), "id");
    assert_int_equal(
        fake_as(&t->f, &t->admin, "DELETE", "/api/v1/users/1234", NULL), 400);
    assert_int_equal(fake_as(&t->f, &t->admin, "GET",
                             "/api/v1/users/"
                             "00000000-0000-4000-8000-000000000000",
                             NULL),
                     404);
}

static void test_patch(void **state)
{
    struct fake_admin *t = *state;
    char id[37], path[80];

    create(t, "carol", "viewer", id);
    snprintf(path, sizeof(path), "/api/v1/users/%s", id);
    assert_int_equal(fake_as(&t->f, &t->admin, "PATCH", path,
                             "{\"role\":\"operator\","
                             "\"must_change_password\":true}"),
                     200);
    assert_string_equal(json_string_value(json_object_get(t->f.json, "role")),
                        "operator");
    assert_true(
        json_is_true(json_object_get(t->f.json, "must_change_password")));
    /* Bad input: nothing changes. */
    assert_int_equal(fake_as(&t->f, &t->admin, "PATCH", path,
                             "{\"role\":\"admin\",\"username\":\"x\"}"),
                     400);
    assert_string_equal(fake_err_field(&t->f), "username");
    assert_int_equal(fake_as(&t->f, &t->admin, "PATCH", path,
                             "{\"role\":\"admin\","
                             "\"must_change_password\":\"no\"}"),
                     400);
    assert_string_equal(fake_err_field(&t->f), "must_change_password");
    assert_int_equal(fake_as(&t->f, &t->admin, "GET", path, NULL), 200);
    assert_string_equal(json_string_value(json_object_get(t->f.json, "role")),
                        "operator");
}

static void test_last_admin(void **state)
{
    struct fake_admin *t = *state;
    struct db_user admin;
    char path[80], id[37], path2[80];

    assert_int_equal(db_user_get_by_name(t->f.app.db, "admin", &admin), 0);
    snprintf(path, sizeof(path), "/api/v1/users/%s", admin.id);
    /* Demoting the only admin: 409, still admin. */
    assert_int_equal(
        fake_as(&t->f, &t->admin, "PATCH", path, "{\"role\":\"viewer\"}"), 409);
    assert_string_equal(fake_err_field(&t->f), "role");
    /* Deleting yourself: 409. */
    assert_int_equal(fake_as(&t->f, &t->admin, "DELETE", path, NULL), 409);
    assert_int_equal(count_users(t), 1);

    /* With a second admin, admin may be demoted (by the other one). */
    create(t, "dave", "admin", id);
    assert_int_equal(
        fake_as(&t->f, &t->admin, "PATCH", path, "{\"role\":\"viewer\"}"), 200);
    /* admin is a viewer now: the router refuses it the users API. */
    assert_int_equal(fake_as(&t->f, &t->admin, "GET", "/api/v1/users", NULL),
                     403);
    /* dave (last admin) cannot be deleted by root either. */
    snprintf(path2, sizeof(path2), "/api/v1/users/%s", id);
    assert_int_equal(fake_call(&t->f, 0, "DELETE", path2, NULL, NULL), 409);
    assert_int_equal(fake_call(&t->f, 0, "DELETE", path, NULL, NULL), 204);
    assert_int_equal(count_users(t), 1);
    /* Its session went with it. */
    assert_int_equal(fake_call(&t->f, -1, "GET", "/api/v1/session", NULL,
                               "Cookie", t->admin.cookie, NULL),
                     401);
}

static void test_delete_cascades(void **state)
{
    struct fake_admin *t = *state;
    struct fake_session s;
    char id[37], path[80];

    create(t, "erin", "viewer", id);
    assert_int_equal(fake_login(&t->f, "erin", "Pass-word-1", &s), 200);
    snprintf(path, sizeof(path), "/api/v1/users/%s", id);
    assert_int_equal(fake_as(&t->f, &t->admin, "DELETE", path, NULL), 204);
    assert_int_equal(fake_as(&t->f, &s, "GET", "/api/v1/session", NULL), 401);
    assert_int_equal(fake_as(&t->f, &t->admin, "DELETE", path, NULL), 404);
}

static void test_password_own_and_admin(void **state)
{
    struct fake_admin *t = *state;
    struct fake_session s, s2;
    struct db_user u;
    char id[37], path[96], admin_path[96];

    create(t, "frank", "viewer", id);
    snprintf(path, sizeof(path), "/api/v1/users/%s/password", id);
    assert_int_equal(db_user_get_by_name(t->f.app.db, "admin", &u), 0);
    snprintf(admin_path, sizeof(admin_path), "/api/v1/users/%s/password", u.id);
    assert_int_equal(fake_login(&t->f, "frank", "Pass-word-1", &s), 200);
    assert_int_equal(fake_login(&t->f, "frank", "Pass-word-1", &s2), 200);

    /* A viewer may not set someone else's password. */
    assert_int_equal(fake_as(&t->f, &s, "POST", admin_path,
                             "{\"password\":\"Hijacked-1\","
                             "\"current_password\":\"Pass-word-1\"}"),
                     403);
    /* Own: the current password is needed and checked. */
    assert_int_equal(
        fake_as(&t->f, &s, "POST", path, "{\"password\":\"New-pass-12\"}"),
        400);
    assert_string_equal(fake_err_field(&t->f), "current_password");
    assert_int_equal(fake_as(&t->f, &s, "POST", path,
                             "{\"password\":\"New-pass-12\","
                             "\"current_password\":\"wrong-one\"}"),
                     403);
    assert_string_equal(fake_err_field(&t->f), "current_password");
    assert_int_equal(fake_as(&t->f, &s, "POST", path,
                             "{\"password\":\"short\","
                             "\"current_password\":\"Pass-word-1\"}"),
                     400);
    assert_string_equal(fake_err_field(&t->f), "password");
    assert_int_equal(fake_as(&t->f, &s, "POST", path,
                             "{\"password\":\"New-pass-12\","
                             "\"current_password\":\"Pass-word-1\"}"),
                     204);
    /* This session lives on, the other one is gone. */
    assert_int_equal(fake_as(&t->f, &s, "GET", "/api/v1/session", NULL), 200);
    assert_int_equal(fake_as(&t->f, &s2, "GET", "/api/v1/session", NULL), 401);
    assert_int_equal(fake_login(&t->f, "frank", "Pass-word-1", &s2), 401);
    assert_int_equal(fake_login(&t->f, "frank", "New-pass-12", &s2), 200);

    /* The admin sets it without the current one; must_change cleared,
     * frank's sessions end. */
    assert_int_equal(db_user_get(t->f.app.db, id, &u), 0);
    u.must_change_password = 1;
    assert_int_equal(db_user_update(t->f.app.db, &u), 0);
    assert_int_equal(fake_as(&t->f, &t->admin, "POST", path,
                             "{\"password\":\"Admin-set-1\"}"),
                     204);
    assert_int_equal(db_user_get(t->f.app.db, id, &u), 0);
    assert_false(u.must_change_password);
    assert_int_equal(fake_as(&t->f, &s, "GET", "/api/v1/session", NULL), 401);
    assert_int_equal(fake_login(&t->f, "frank", "Admin-set-1", &s), 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FAKE_ADMIN_TEST(test_create_list_get),
        FAKE_ADMIN_TEST(test_create_bad_input),
        FAKE_ADMIN_TEST(test_bad_uuid_in_path),
        FAKE_ADMIN_TEST(test_patch),
        FAKE_ADMIN_TEST(test_last_admin),
        FAKE_ADMIN_TEST(test_delete_cascades),
        FAKE_ADMIN_TEST(test_password_own_and_admin),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
