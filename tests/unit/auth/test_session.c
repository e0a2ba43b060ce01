/* Log-in, sessions, CSRF, Bearer tokens and local peers, through
 * router_dispatch() with fake requests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/hash.h"
#include "common/timeutil.h"
#include "common/uuid.h"
#include "db/db_sessions.h"
#include "db/db_tokens.h"
#include "db/db_users.h"
#include "tests/unit/auth/fake.h"

static int setup(void **state)
{
    struct fake *f = xmalloc(sizeof(*f));

    fake_init(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fake_release(*state);
    free(*state);
    return 0;
}

/* A user with a cheap-to-make password hash copied from admin's. */
static void add_user(struct fake *f, const char *name, const char *role,
                     char id_out[37])
{
    struct db_user u, admin;

    assert_int_equal(db_user_get_by_name(f->app.db, "admin", &admin), 0);
    memset(&u, 0, sizeof(u));
    uuid_generate(u.id);
    xstrlcpy(u.username, name, sizeof(u.username));
    xstrlcpy(u.role, role, sizeof(u.role));
    xstrlcpy(u.pw_hash, admin.pw_hash, sizeof(u.pw_hash));
    u.created_at = u.updated_at = time_now();
    assert_int_equal(db_user_insert(f->app.db, &u), 0);
    if (id_out)
        memcpy(id_out, u.id, 37);
}

/* A token for user_id with role, expiring at expires (0 never). */
static void add_token(struct fake *f, const char *user_id, const char *role,
                      int64_t expires, const char *secret)
{
    struct db_token t;

    memset(&t, 0, sizeof(t));
    uuid_generate(t.id);
    xstrlcpy(t.user_id, user_id, sizeof(t.user_id));
    xstrlcpy(t.name, "test", sizeof(t.name));
    xstrlcpy(t.role, role, sizeof(t.role));
    sha256_hex(secret, strlen(secret), t.secret_hash);
    t.created_at = time_now();
    t.expires_at = expires;
    assert_int_equal(db_token_insert(f->app.db, &t), 0);
}

static void test_login_ok(void **state)
{
    struct fake *f = *state;
    struct fake_session s;
    const char *sc;
    json_t *user;

    assert_int_equal(fake_login(f, "admin", FAKE_ADMIN_PW, &s), 200);
    sc = fake_header(f, "Set-Cookie");
    assert_non_null(strstr(sc, "xenith_session="));
    assert_non_null(strstr(sc, "; Path=/; HttpOnly; Secure; SameSite=Strict"));
    assert_int_equal(strlen(s.cookie), strlen("xenith_session=") + 64);
    assert_int_equal(strlen(s.csrf), 64);
    user = json_object_get(f->json, "user");
    assert_string_equal(json_string_value(json_object_get(user, "username")),
                        "admin");
    assert_string_equal(json_string_value(json_object_get(user, "role")),
                        "admin");
    assert_true(uuid_valid(json_string_value(json_object_get(user, "id"))));
    assert_true(json_is_false(json_object_get(user, "must_change_password")));

    /* The cookie authenticates; GET needs no CSRF token. */
    assert_int_equal(fake_call(f, -1, "GET", "/api/v1/session", NULL, "Cookie",
                               s.cookie, NULL),
                     200);
    assert_string_equal(
        json_string_value(json_object_get(f->json, "csrf_token")), s.csrf);
    assert_string_equal(json_string_value(json_object_get(f->json, "via")),
                        "session");
    /* No cookie: 401. */
    assert_int_equal(fake_call(f, -1, "GET", "/api/v1/session", NULL, NULL),
                     401);
    /* A made-up cookie: 401. */
    assert_int_equal(fake_call(f, -1, "GET", "/api/v1/session", NULL, "Cookie",
                               "xenith_session=00ff", NULL),
                     401);
}

static void test_login_stores_only_hash(void **state)
{
    struct fake *f = *state;
    struct fake_session s;
    struct db_session row;
    char sid[SHA256_HEXLEN];
    const char *secret;

    assert_int_equal(fake_login(f, "admin", FAKE_ADMIN_PW, &s), 200);
    secret = s.cookie + strlen("xenith_session=");
    assert_int_equal(db_session_get(f->app.db, secret, &row), ERR_NOTFOUND);
    sha256_hex(secret, strlen(secret), sid);
    assert_int_equal(db_session_get(f->app.db, sid, &row), 0);
    assert_string_equal(row.source, "192.0.2.7");
    assert_true(row.expires_at > time_now());
}

static void test_login_wrong_password_and_unknown_user(void **state)
{
    struct fake *f = *state;
    struct fake_session s;
    char msg1[256];

    assert_int_equal(fake_login(f, "admin", "wrong-password", &s), 401);
    assert_null(fake_header(f, "Set-Cookie"));
    xstrlcpy(msg1,
             json_string_value(
                 json_object_get(json_object_get(f->json, "error"), "message")),
             sizeof(msg1));
    assert_int_equal(fake_login(f, "nobody", "wrong-password", &s), 401);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(f->json, "error"), "message")),
                        msg1);
    /* Case matters: usernames are lower case. */
    assert_int_equal(fake_login(f, "Admin", FAKE_ADMIN_PW, &s), 401);
}

static void test_login_bad_input(void **state)
{
    struct fake *f = *state;

    assert_int_equal(
        fake_call(f, -1, "POST", "/api/v1/session", "{\"username\":", NULL),
        400);
    assert_string_equal(fake_err_code(f), "bad_json");
    assert_int_equal(fake_call(f, -1, "POST", "/api/v1/session",
                               "{\"username\":1,\"password\":\"x\"}", NULL),
                     400);
    assert_string_equal(fake_err_field(f), "username");
    assert_int_equal(fake_call(f, -1, "POST", "/api/v1/session",
                               "{\"username\":\"admin\"}", NULL),
                     400);
    assert_string_equal(fake_err_field(f), "password");
    assert_int_equal(
        fake_call(f, -1, "POST", "/api/v1/session",
                  "{\"username\":\"admin\",\"password\":\"x\",\"x\":1}", NULL),
        400);
    assert_string_equal(fake_err_field(f), "x");
}

static void test_login_rate_limit(void **state)
{
    struct fake *f = *state;
    struct fake_session s;
    const char *ra;
    int i;

    for (i = 0; i < AUTH_LIMIT_USER; i++)
        assert_int_equal(fake_login(f, "admin", "wrong-password", &s), 401);
    /* Now even the right password waits. */
    assert_int_equal(fake_login(f, "admin", FAKE_ADMIN_PW, &s), 429);
    assert_string_equal(fake_err_code(f), "too_many_requests");
    ra = fake_header(f, "Retry-After");
    assert_non_null(ra);
    assert_true(strtol(ra, NULL, 10) > 0);
    assert_true(strtol(ra, NULL, 10) <= AUTH_LIMIT_WINDOW_S);

    /* Per address: many usernames from one address. */
    auth_limit_reset(f->app.db);
    for (i = 0; i < AUTH_LIMIT_ADDR; i++) {
        char name[32];

        snprintf(name, sizeof(name), "user%d", i);
        assert_int_equal(fake_login(f, name, "wrong-password", &s), 401);
    }
    assert_int_equal(fake_login(f, "admin", FAKE_ADMIN_PW, &s), 429);
    auth_limit_reset(f->app.db);
    assert_int_equal(fake_login(f, "admin", FAKE_ADMIN_PW, &s), 200);
}

static void test_session_expiry(void **state)
{
    struct fake *f = *state;
    struct fake_session s;
    struct db_session row;
    char sid[SHA256_HEXLEN];
    const char *secret;
    int64_t now = time_now();

    assert_int_equal(fake_login(f, "admin", FAKE_ADMIN_PW, &s), 200);
    secret = s.cookie + strlen("xenith_session=");
    sha256_hex(secret, strlen(secret), sid);
    assert_int_equal(db_session_get(f->app.db, sid, &row), 0);

    /* Idle too long: move last_seen back. */
    assert_int_equal(
        db_session_touch(f->app.db, sid, now - f->app.cfg.session_idle_s - 5),
        0);
    assert_int_equal(fake_call(f, -1, "GET", "/api/v1/session", NULL, "Cookie",
                               s.cookie, NULL),
                     401);
    /* ... and the session is gone for good. */
    assert_int_equal(db_session_get(f->app.db, sid, &row), ERR_NOTFOUND);

    /* Absolute expiry: a fresh last_seen does not help. */
    assert_int_equal(fake_login(f, "admin", FAKE_ADMIN_PW, &s), 200);
    secret = s.cookie + strlen("xenith_session=");
    sha256_hex(secret, strlen(secret), sid);
    assert_int_equal(db_session_get(f->app.db, sid, &row), 0);
    assert_int_equal(db_session_delete(f->app.db, sid), 0);
    row.expires_at = now - 1;
    row.last_seen = now;
    assert_int_equal(db_session_insert(f->app.db, &row), 0);
    assert_int_equal(fake_call(f, -1, "GET", "/api/v1/session", NULL, "Cookie",
                               s.cookie, NULL),
                     401);
}

static void test_csrf(void **state)
{
    struct fake *f = *state;
    struct fake_session s;

    assert_int_equal(fake_login(f, "admin", FAKE_ADMIN_PW, &s), 200);
    /* Missing. */
    assert_int_equal(fake_call(f, -1, "DELETE", "/api/v1/session", NULL,
                               "Cookie", s.cookie, NULL),
                     403);
    assert_string_equal(fake_err_field(f), "X-CSRF-Token");
    /* Wrong (same length). */
    s.csrf[0] = s.csrf[0] == 'a' ? 'b' : 'a';
    assert_int_equal(fake_as(f, &s, "DELETE", "/api/v1/session", NULL), 403);
    /* Empty. */
    assert_int_equal(fake_call(f, -1, "DELETE", "/api/v1/session", NULL,
                               "Cookie", s.cookie, "X-CSRF-Token", "", NULL),
                     403);
    /* A POST without it is refused before the handler: no token made. */
    assert_int_equal(fake_call(f, -1, "POST", "/api/v1/tokens",
                               "{\"name\":\"t\",\"role\":\"viewer\"}", "Cookie",
                               s.cookie, NULL),
                     403);
    assert_string_equal(fake_err_field(f), "X-CSRF-Token");
    /* Still logged in after the refusals. */
    assert_int_equal(fake_call(f, -1, "GET", "/api/v1/session", NULL, "Cookie",
                               s.cookie, NULL),
                     200);
    xstrlcpy(s.csrf, json_string_value(json_object_get(f->json, "csrf_token")),
             sizeof(s.csrf));
    assert_int_equal(fake_call(f, -1, "GET", "/api/v1/tokens", NULL, "Cookie",
                               s.cookie, NULL),
                     200);
    assert_int_equal(json_array_size(f->json), 0);
    /* X-Auth-Token carries it where X-CSRF-Token is absent (HTTP/2);
     * a wrong X-CSRF-Token is not overruled by a right X-Auth-Token. */
    assert_int_equal(fake_call(f, -1, "POST", "/api/v1/tokens",
                               "{\"name\":\"t\",\"role\":\"viewer\"}", "Cookie",
                               s.cookie, "X-CSRF-Token", "nope", "X-Auth-Token",
                               s.csrf, NULL),
                     403);
    assert_int_equal(fake_call(f, -1, "POST", "/api/v1/tokens",
                               "{\"name\":\"t\",\"role\":\"viewer\"}", "Cookie",
                               s.cookie, "X-Auth-Token", "nope", NULL),
                     403);
    assert_int_equal(fake_call(f, -1, "POST", "/api/v1/tokens",
                               "{\"name\":\"t\",\"role\":\"viewer\"}", "Cookie",
                               s.cookie, "X-Auth-Token", s.csrf, NULL),
                     201);
    /* Right: log out, the cookie is cleared and dead. */
    assert_int_equal(fake_as(f, &s, "DELETE", "/api/v1/session", NULL), 204);
    assert_non_null(strstr(fake_header(f, "Set-Cookie"), "Max-Age=0"));
    assert_int_equal(fake_call(f, -1, "GET", "/api/v1/session", NULL, "Cookie",
                               s.cookie, NULL),
                     401);
}

static void test_bearer_token(void **state)
{
    struct fake *f = *state;
    struct db_user admin;
    struct db_token t;
    char h[SHA256_HEXLEN];

    assert_int_equal(db_user_get_by_name(f->app.db, "admin", &admin), 0);
    add_token(f, admin.id, "admin", 0, "xnt_good");
    assert_int_equal(fake_bearer(f, "xnt_good", "GET", "/api/v1/session", NULL),
                     200);
    assert_string_equal(json_string_value(json_object_get(f->json, "via")),
                        "token");
    assert_true(json_is_null(json_object_get(f->json, "csrf_token")));
    /* A token needs no CSRF token on a POST (400 from the body, not
     * 403). */
    assert_int_equal(fake_bearer(f, "xnt_good", "POST", "/api/v1/users", "{}"),
                     400);
    /* last_used was recorded. */
    sha256_hex("xnt_good", 8, h);
    assert_int_equal(db_token_get_by_hash(f->app.db, h, &t), 0);
    assert_true(t.last_used > 0);
    /* Unknown, malformed. */
    assert_int_equal(fake_bearer(f, "xnt_bad", "GET", "/api/v1/session", NULL),
                     401);
    assert_int_equal(fake_call(f, -1, "GET", "/api/v1/session", NULL,
                               "Authorization", "Basic YWRtaW46eA==", NULL),
                     401);
    assert_int_equal(fake_bearer(f, "", "GET", "/api/v1/session", NULL), 401);
}

static void test_expired_token(void **state)
{
    struct fake *f = *state;
    struct db_user admin;

    assert_int_equal(db_user_get_by_name(f->app.db, "admin", &admin), 0);
    add_token(f, admin.id, "admin", time_now() - 1, "xnt_old");
    add_token(f, admin.id, "admin", time_now() + 3600, "xnt_fresh");
    assert_int_equal(fake_bearer(f, "xnt_old", "GET", "/api/v1/session", NULL),
                     401);
    assert_int_equal(
        fake_bearer(f, "xnt_fresh", "GET", "/api/v1/session", NULL), 200);
}

static void test_token_role_cap(void **state)
{
    struct fake *f = *state;
    struct db_user admin, op;
    char op_id[37];

    assert_int_equal(db_user_get_by_name(f->app.db, "admin", &admin), 0);
    /* A viewer token of an admin is a viewer. */
    add_token(f, admin.id, "viewer", 0, "xnt_view");
    assert_int_equal(fake_bearer(f, "xnt_view", "GET", "/api/v1/users", NULL),
                     403);
    assert_int_equal(fake_bearer(f, "xnt_view", "GET", "/api/v1/session", NULL),
                     200);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(f->json, "user"), "role")),
                        "viewer");
    /* An admin token of a user since demoted is capped at the owner's
     * current role. */
    add_user(f, "op", "admin", op_id);
    add_token(f, op_id, "admin", 0, "xnt_op");
    assert_int_equal(fake_bearer(f, "xnt_op", "GET", "/api/v1/users", NULL),
                     200);
    assert_int_equal(db_user_get(f->app.db, op_id, &op), 0);
    xstrlcpy(op.role, "operator", sizeof(op.role));
    assert_int_equal(db_user_update(f->app.db, &op), 0);
    assert_int_equal(fake_bearer(f, "xnt_op", "GET", "/api/v1/users", NULL),
                     403);
    /* The owner deleted: the token dies with it. */
    assert_int_equal(db_user_delete(f->app.db, op_id), 0);
    assert_int_equal(fake_bearer(f, "xnt_op", "GET", "/api/v1/session", NULL),
                     401);
}

static void test_local_peers(void **state)
{
    struct fake *f = *state;

    add_user(f, "alice", "operator", NULL);
    f->app.cfg.local_users[0].uid = 1000;
    xstrlcpy(f->app.cfg.local_users[0].username, "alice",
             sizeof(f->app.cfg.local_users[0].username));
    f->app.cfg.local_users[1].uid = 1001;
    xstrlcpy(f->app.cfg.local_users[1].username, "ghost",
             sizeof(f->app.cfg.local_users[1].username));
    f->app.cfg.num_local_users = 2;

    /* root is admin, no password, no CSRF. */
    assert_int_equal(fake_call(f, 0, "GET", "/api/v1/users", NULL, NULL), 200);
    assert_int_equal(fake_call(f, 0, "GET", "/api/v1/session", NULL, NULL),
                     200);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(f->json, "user"), "username")),
                        "root");
    assert_string_equal(json_string_value(json_object_get(f->json, "via")),
                        "peer");
    /* Mapped: that user's role. */
    assert_int_equal(fake_call(f, 1000, "GET", "/api/v1/session", NULL, NULL),
                     200);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(f->json, "user"), "role")),
                        "operator");
    assert_int_equal(fake_call(f, 1000, "GET", "/api/v1/users", NULL, NULL),
                     403);
    /* Mapped to a user that does not exist, and unmapped: 403. */
    assert_int_equal(fake_call(f, 1001, "GET", "/api/v1/session", NULL, NULL),
                     403);
    assert_int_equal(fake_call(f, 1002, "GET", "/api/v1/session", NULL, NULL),
                     403);
    /* A cookie does not count on the local socket. */
    assert_int_equal(fake_call(f, 1002, "GET", "/api/v1/session", NULL,
                               "Authorization", "Bearer x", NULL),
                     403);
}

static void test_bootstrap_random_password(void **state)
{
    struct fake *f = *state;
    struct app app;
    struct db_user u;
    struct stat st;
    char path[160], pw[64] = "";
    FILE *fp;

    (void)f;
    memset(&app, 0, sizeof(app));
    config_defaults(&app.cfg);
    xstrlcpy(app.cfg.data_dir, f->dir, sizeof(app.cfg.data_dir));
    assert_int_equal(db_open(":memory:", &app.db), 0);
    assert_int_equal(auth_bootstrap_admin(&app, NULL), 0);
    snprintf(path, sizeof(path), "%s/initial-admin-password", f->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    fp = fopen(path, "r");
    assert_non_null(fp);
    assert_non_null(fgets(pw, sizeof(pw), fp));
    fclose(fp);
    pw[strcspn(pw, "\n")] = '\0';
    assert_int_equal(strlen(pw), 20);
    assert_int_equal(db_user_get_by_name(app.db, "admin", &u), 0);
    assert_true(u.must_change_password);
    assert_string_equal(u.role, "admin");
    assert_int_equal(password_verify(pw, u.pw_hash), 0);
    /* Second start: nothing happens. */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(auth_bootstrap_admin(&app, NULL), 0);
    assert_int_not_equal(stat(path, &st), 0);
    db_close(app.db);
}

static void test_bootstrap_short_password_refused(void **state)
{
    struct fake *f = *state;
    struct app app;
    char path[160];
    int64_t n = -1;
    FILE *fp;

    memset(&app, 0, sizeof(app));
    config_defaults(&app.cfg);
    xstrlcpy(app.cfg.data_dir, f->dir, sizeof(app.cfg.data_dir));
    assert_int_equal(db_open(":memory:", &app.db), 0);
    snprintf(path, sizeof(path), "%s/short", f->dir);
    fp = fopen(path, "w");
    fputs("  short \n", fp);
    fclose(fp);
    assert_int_equal(auth_bootstrap_admin(&app, path), ERR_INVALID);
    assert_int_equal(db_user_count(app.db, NULL, &n), 0);
    assert_int_equal(n, 0);
    snprintf(path + strlen(path) - 5, 10, "none");
    assert_int_not_equal(auth_bootstrap_admin(&app, path), 0);
    unlink(path);
    snprintf(path, sizeof(path), "%s/short", f->dir);
    unlink(path);
    db_close(app.db);
}

static void test_bootstrap_failure_leaves_nothing(void **state)
{
    struct fake *f = *state;
    struct app app;
    struct stat st;
    char path[160];
    int64_t n = -1;

    memset(&app, 0, sizeof(app));
    config_defaults(&app.cfg);
    xstrlcpy(app.cfg.data_dir, f->dir, sizeof(app.cfg.data_dir));
    assert_int_equal(db_open(":memory:", &app.db), 0);
    db_inject_failure(app.db, "INSERT INTO users", 1);
    assert_int_not_equal(auth_bootstrap_admin(&app, NULL), 0);
    assert_int_equal(db_user_count(app.db, NULL, &n), 0);
    assert_int_equal(n, 0);
    snprintf(path, sizeof(path), "%s/initial-admin-password", f->dir);
    assert_int_not_equal(stat(path, &st), 0);
    /* The next start tries again and succeeds. */
    assert_int_equal(auth_bootstrap_admin(&app, NULL), 0);
    assert_int_equal(stat(path, &st), 0);
    db_close(app.db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_login_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_stores_only_hash, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_login_wrong_password_and_unknown_user, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_rate_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csrf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bearer_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_role_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_local_peers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bootstrap_random_password, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bootstrap_failure_leaves_nothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_bootstrap_short_password_refused,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
