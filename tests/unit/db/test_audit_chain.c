/* The audit hash chain: appends link up (also from many threads at
 * once), and editing, deleting or cutting off rows with raw SQL is
 * caught by db_audit_verify(). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "common/buf.h"
#include "common/hash.h"
#include "common/xalloc.h"
#include "db/db.h"
#include "db/db_audit.h"

struct chain {
    char dir[64];
    char path[128];
    struct db *db;
};

static void append(struct db *db, const char *user, int status)
{
    struct db_audit a;

    memset(&a, 0, sizeof(a));
    a.ts = 1700000000 + status;
    xstrlcpy(a.username, user, sizeof(a.username));
    xstrlcpy(a.source, "192.0.2.1", sizeof(a.source));
    xstrlcpy(a.method, "POST", sizeof(a.method));
    xstrlcpy(a.path, "/api/v1/vms", sizeof(a.path));
    xstrlcpy(a.target, "t", sizeof(a.target));
    a.status = status;
    assert_int_equal(db_audit_append(db, &a), 0);
    assert_int_equal(strlen(a.hash), 64);
}

static int setup(void **state)
{
    struct chain *c = xcalloc(1, sizeof(*c));
    int i;

    snprintf(c->dir, sizeof(c->dir), "/tmp/xenith-audit-XXXXXX");
    assert_non_null(mkdtemp(c->dir));
    snprintf(c->path, sizeof(c->path), "%s/a.db", c->dir);
    assert_int_equal(db_open(c->path, &c->db), 0);
    for (i = 1; i <= 5; i++)
        append(c->db, "admin", 200 + i);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct chain *c = *state;
    char p[160];

    db_close(c->db);
    unlink(c->path);
    snprintf(p, sizeof(p), "%s-wal", c->path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", c->path);
    unlink(p);
    rmdir(c->dir);
    free(c);
    return 0;
}

/* Run sql on the file behind the daemon's back. */
static void tamper(struct chain *c, const char *sql)
{
    sqlite3 *conn;

    db_close(c->db);
    c->db = NULL;
    assert_int_equal(sqlite3_open(c->path, &conn), SQLITE_OK);
    assert_int_equal(sqlite3_exec(conn, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_changes(conn), 1);
    sqlite3_close(conn);
    assert_int_equal(db_open(c->path, &c->db), 0);
}

static void verify(struct chain *c, int ok, int64_t bad, int64_t rows)
{
    int64_t got_bad = -1, got_rows = -1;
    int got_ok = -1;

    assert_int_equal(db_audit_verify(c->db, &got_ok, &got_bad, &got_rows), 0);
    assert_int_equal(got_ok, ok);
    assert_int_equal(got_bad, bad);
    assert_int_equal(got_rows, rows);
}

static void test_chain_links(void **state)
{
    struct chain *c = *state;
    struct db_audit *list = NULL;
    size_t num = 0;
    int64_t n = 0;

    verify(c, 1, 0, 5);
    assert_int_equal(db_audit_count(c->db, &n), 0);
    assert_int_equal(n, 5);
    assert_int_equal(db_audit_list(c->db, 10, 0, NULL, &list, &num), 0);
    assert_int_equal(num, 5);
    assert_int_equal(list[0].seq, 5); /* newest first */
    assert_string_equal(list[0].prev_hash, list[1].hash);
    assert_string_equal(list[4].prev_hash, "00000000000000000000000000000000"
                                           "00000000000000000000000000000000");
    free(list);
    /* Paging and the user filter. */
    assert_int_equal(db_audit_list(c->db, 2, 4, NULL, &list, &num), 0);
    assert_int_equal(num, 2);
    assert_int_equal(list[0].seq, 3);
    assert_int_equal(list[1].seq, 2);
    free(list);
    assert_int_equal(db_audit_list(c->db, 10, 0, "bob", &list, &num), 0);
    assert_int_equal(num, 0);
    free(list);
}

static void test_edit_detected(void **state)
{
    struct chain *c = *state;

    tamper(c, "UPDATE audit SET status = 200 WHERE seq = 3");
    verify(c, 0, 3, 5);
}

static void test_edit_with_rehash_detected(void **state)
{
    struct chain *c = *state;
    struct db_audit *list = NULL, a;
    struct buf b = BUF_INIT;
    char h[SHA256_HEXLEN], sql[256];
    size_t num = 0;

    /* Edit row 2 and give it a correct hash of its new content (the
     * formula of db_audit.h): row 3 no longer links to it. */
    assert_int_equal(db_audit_list(c->db, 1, 3, NULL, &list, &num), 0);
    assert_int_equal(num, 1);
    a = list[0];
    free(list);
    buf_printf(&b, "64:%s|10:%lld|7:mallory|%zu:%s|4:POST|%zu:%s|1:t|3:%d|",
               a.prev_hash, (long long)a.ts, strlen(a.source), a.source,
               strlen(a.path), a.path, a.status);
    sha256_hex(b.data, b.len, h);
    buf_release(&b);
    snprintf(sql, sizeof(sql),
             "UPDATE audit SET username = 'mallory', hash = '%s' "
             "WHERE seq = 2",
             h);
    tamper(c, sql);
    verify(c, 0, 3, 5);
}

static void test_delete_middle_detected(void **state)
{
    struct chain *c = *state;

    tamper(c, "DELETE FROM audit WHERE seq = 2");
    verify(c, 0, 3, 4);
}

static void test_cut_tail_detected(void **state)
{
    struct chain *c = *state;

    tamper(c, "DELETE FROM audit WHERE seq = 5");
    verify(c, 0, 5, 4);
}

static void test_field_shift_detected(void **state)
{
    struct chain *c = *state;

    /* Moving bytes from one field to the next keeps their
     * concatenation, not the row's hash. */
    tamper(c, "UPDATE audit SET method = 'POST/api', path = '/v1/vms' "
              "WHERE seq = 4");
    verify(c, 0, 4, 5);
}

static void *append_many(void *arg)
{
    int i;

    for (i = 0; i < 25; i++)
        append(arg, "racer", 300 + i);
    return NULL;
}

static void test_concurrent_appends_keep_one_chain(void **state)
{
    struct chain *c = *state;
    pthread_t t[4];
    int i;

    for (i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, append_many, c->db), 0);
    for (i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    verify(c, 1, 0, 105);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_chain_links, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edit_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_edit_with_rehash_detected, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_delete_middle_detected, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cut_tail_detected, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_field_shift_detected, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_appends_keep_one_chain,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
