/* The login_failures table: counting in a window, a new window once the
 * old one ended (or the clock went back), clearing and pruning. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/err.h"
#include "db/db.h"
#include "db/db_login_failures.h"

static void test_count_window_clear_prune(void **state)
{
    const char *both[2] = { "u:alice", "a:10.0.0.1" };
    const char *bob[1] = { "u:bob" };
    struct db *db = NULL;
    int64_t start;
    int n;

    (void)state;
    assert_int_equal(db_open(":memory:", &db), 0);
    assert_int_equal(db_login_failures_get(db, "u:alice", &start, &n),
                     ERR_NOTFOUND);
    assert_int_equal(db_login_failures_add(db, both, 2, 1000, 300), 0);
    assert_int_equal(db_login_failures_add(db, both, 2, 1100, 300), 0);
    assert_int_equal(db_login_failures_get(db, "u:alice", &start, &n), 0);
    assert_int_equal(start, 1000);
    assert_int_equal(n, 2);
    assert_int_equal(db_login_failures_get(db, "a:10.0.0.1", &start, &n), 0);
    assert_int_equal(n, 2);

    /* The window ended: a new one from now. */
    assert_int_equal(db_login_failures_add(db, both, 1, 1300, 300), 0);
    assert_int_equal(db_login_failures_get(db, "u:alice", &start, &n), 0);
    assert_int_equal(start, 1300);
    assert_int_equal(n, 1);
    /* The clock went back: a new window too. */
    assert_int_equal(db_login_failures_add(db, both, 1, 500, 300), 0);
    assert_int_equal(db_login_failures_get(db, "u:alice", &start, &n), 0);
    assert_int_equal(start, 500);
    assert_int_equal(n, 1);

    assert_int_equal(db_login_failures_clear(db, "u:alice"), 0);
    assert_int_equal(db_login_failures_get(db, "u:alice", &start, &n),
                     ERR_NOTFOUND);
    assert_int_equal(db_login_failures_get(db, "a:10.0.0.1", &start, &n), 0);

    assert_int_equal(db_login_failures_add(db, bob, 1, 2000, 300), 0);
    assert_int_equal(db_login_failures_prune(db, 1500), 0);
    assert_int_equal(db_login_failures_get(db, "a:10.0.0.1", &start, &n),
                     ERR_NOTFOUND);
    assert_int_equal(db_login_failures_get(db, "u:bob", &start, &n), 0);
    assert_int_equal(db_login_failures_prune(db, INT64_MAX), 0);
    assert_int_equal(db_login_failures_get(db, "u:bob", &start, &n),
                     ERR_NOTFOUND);
    db_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count_window_clear_prune),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
