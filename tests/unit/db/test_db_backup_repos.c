/* db_backup_repos.c: insert, get, list, update and delete backup
 * repositories; a taken name or path is ERR_EXISTS; a plain repository
 * keeps no sealed passphrase (NULL in the table). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/uuid.h"
#include "common/xalloc.h"
#include "db/db.h"
#include "db/db_backup_repos.h"

static void mk_repo(struct db_backup_repo *r, const char *name,
                    const char *path, const char *sealed)
{
    memset(r, 0, sizeof(*r));
    uuid_generate(r->id);
    xstrlcpy(r->name, name, sizeof(r->name));
    xstrlcpy(r->path, path, sizeof(r->path));
    r->encrypted = sealed[0] != '\0';
    xstrlcpy(r->passphrase_sealed, sealed, sizeof(r->passphrase_sealed));
    r->compression_level = 3;
    r->created_at = 1234;
}

static void test_backup_repos(void **state)
{
    char dir[] = "/tmp/xenith-dbbk-XXXXXX", path[256];
    struct db_backup_repo a, b, c, got, *list = NULL;
    struct db *db = NULL;
    size_t num = 0;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/x.db", dir);
    assert_int_equal(db_open(path, &db), 0);

    mk_repo(&a, "main", "/srv/backup/a", "");
    mk_repo(&b, "offsite", "/srv/backup/b", "01abcdef");
    assert_int_equal(db_backup_repo_insert(db, &a), 0);
    assert_int_equal(db_backup_repo_insert(db, &b), 0);

    mk_repo(&c, "main", "/srv/backup/c", "");
    assert_int_equal(db_backup_repo_insert(db, &c), ERR_EXISTS);
    mk_repo(&c, "other", "/srv/backup/a", "");
    assert_int_equal(db_backup_repo_insert(db, &c), ERR_EXISTS);

    assert_int_equal(db_backup_repo_get(db, b.id, &got), 0);
    assert_string_equal(got.name, "offsite");
    assert_string_equal(got.path, "/srv/backup/b");
    assert_int_equal(got.encrypted, 1);
    assert_string_equal(got.passphrase_sealed, "01abcdef");
    assert_int_equal(got.compression_level, 3);
    assert_int_equal(got.created_at, 1234);
    assert_int_equal(db_backup_repo_get(db, a.id, &got), 0);
    assert_int_equal(got.encrypted, 0);
    assert_string_equal(got.passphrase_sealed, "");

    assert_int_equal(db_backup_repo_list(db, &list, &num), 0);
    assert_int_equal(num, 2);
    assert_string_equal(list[0].name, "main");
    assert_string_equal(list[1].name, "offsite");
    free(list);

    xstrlcpy(b.name, "main", sizeof(b.name));
    assert_int_equal(db_backup_repo_update(db, &b), ERR_EXISTS);
    xstrlcpy(b.name, "far", sizeof(b.name));
    xstrlcpy(b.passphrase_sealed, "01ff", sizeof(b.passphrase_sealed));
    assert_int_equal(db_backup_repo_update(db, &b), 0);
    assert_int_equal(db_backup_repo_get(db, b.id, &got), 0);
    assert_string_equal(got.name, "far");
    assert_string_equal(got.passphrase_sealed, "01ff");
    assert_string_equal(got.path, "/srv/backup/b");

    assert_int_equal(db_backup_repo_update(db, &c), ERR_NOTFOUND);
    assert_int_equal(db_backup_repo_delete(db, a.id), 0);
    assert_int_equal(db_backup_repo_delete(db, a.id), ERR_NOTFOUND);
    assert_int_equal(db_backup_repo_get(db, a.id, &got), ERR_NOTFOUND);

    db_close(db);
    unlink(path);
    snprintf(path, sizeof(path), "%s/x.db-wal", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/x.db-shm", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backup_repos),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
