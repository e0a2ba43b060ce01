/* backup/chunkstore.c, index.c, snapshot.c and lock.c on a temp
 * repository: chunk encode/read round trips (plain and encrypted) and
 * every single-bit flip caught, indexes and their trailer, manifests,
 * stale and live locks. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "backup/bk_internal.h"
#include "common/err.h"
#include "common/log.h"
#include "common/uuid.h"
#include "common/xalloc.h"

static char tmpdir[] = "/tmp/xenith-bktest-XXXXXX";

static struct bk_repo *open_repo(const char *pass)
{
    struct bk_init_opts o = { .compression_level = 3, .passphrase = pass };
    struct bk_repo *r = NULL;
    char dir[128];

    snprintf(dir, sizeof(dir), "%s/%s", tmpdir, pass ? "enc" : "plain");
    if (access(dir, F_OK))
        assert_int_equal(bk_repo_init(dir, &o), 0);
    assert_int_equal(bk_repo_open(dir, pass, &r), 0);
    return r;
}

static void round_trip_and_flips(struct bk_repo *r)
{
    static unsigned char data[100000], out[BK_CHUNK_SIZE];
    unsigned char id[BK_ID_LEN], *file;
    size_t flen, len = 0;
    char rel[80], path[256];

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (unsigned char)(i % 251 < 100 ? 'a' : i % 7);
    bk_chunk_id(r, data, sizeof(data), id);
    bk_chunk_encode(r, id, data, sizeof(data), &file, &flen);
    assert_false(bk_chunk_exists(r, id, 0));
    assert_int_equal(bk_chunk_write(r, id, file, flen), 0);
    assert_true(bk_chunk_exists(r, id, 1));
    assert_int_equal(bk_chunk_read(r, id, out, sizeof(out), &len), 0);
    assert_int_equal(len, sizeof(data));
    assert_memory_equal(out, data, len);
    /* What a power loss leaves: no data, zeros, a short file. */
    assert_null(bk_chunk_file_bad(r, file, flen, BK_CHUNK_SIZE));
    assert_string_equal(bk_chunk_file_bad(r, file, 0, BK_CHUNK_SIZE),
                        "bad header");
    assert_string_equal(bk_chunk_file_bad(r, file, flen - 1, BK_CHUNK_SIZE),
                        "bad size");
    assert_string_equal(bk_chunk_file_bad(r, file, flen, 1000),
                        "bad flags or length");
    {
        unsigned char *z = xcalloc(1, flen);

        assert_string_equal(bk_chunk_file_bad(r, z, flen, BK_CHUNK_SIZE),
                            "bad header");
        memcpy(z, file, BK_CHDR_LEN); /* the header, then zeros */
        assert_string_equal(bk_chunk_file_bad(r, z, flen, BK_CHUNK_SIZE),
                            "checksum mismatch");
        free(z);
    }
    bk_chunk_relpath(id, rel);
    snprintf(path, sizeof(path), "%s/%s", r->dir, rel);
    /* A flip of any bit is caught. */
    for (size_t bit = 0; bit < flen * 8; bit++) {
        int fd = open(path, O_WRONLY);

        /* In place: a truncating rewrite makes ext4 flush every time. */
        file[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        assert_int_equal(pwrite(fd, file + bit / 8, 1, (off_t)(bit / 8)), 1);
        close(fd);
        if (bk_chunk_read(r, id, out, sizeof(out), &len) != ERR_IO)
            fail_msg("bit %zu of %zu bytes not caught", bit, flen);
        file[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        fd = open(path, O_WRONLY);
        assert_int_equal(pwrite(fd, file + bit / 8, 1, (off_t)(bit / 8)), 1);
        close(fd);
    }
    assert_int_equal(bk_chunk_read(r, id, out, sizeof(out), &len), 0);
    unlink(path);
    assert_int_equal(bk_chunk_read(r, id, out, sizeof(out), &len),
                     ERR_NOTFOUND);
    free(file);
}

static void test_chunks_plain(void **state)
{
    struct bk_repo *r = open_repo(NULL);

    (void)state;
    round_trip_and_flips(r);
    bk_repo_free(r);
}

static void test_chunks_encrypted(void **state)
{
    struct bk_repo *r = open_repo("pw"), *bad = NULL;
    char dir[128];

    (void)state;
    round_trip_and_flips(r);
    bk_repo_free(r);
    snprintf(dir, sizeof(dir), "%s/enc", tmpdir);
    assert_int_equal(bk_repo_open(dir, "wrong", &bad), ERR_UNAUTH);
    assert_int_equal(bk_repo_open(dir, NULL, &bad), ERR_UNAUTH);
    assert_null(bad);
}

/* A chunk stored under an id that is not its content's is refused by
 * bk_chunk_read(); bk_chunk_verify2() says which of a pair is wrong. */
static void test_ids_checked_one_and_two_at_a_time(void **state)
{
    static unsigned char a[70000], b[90000], out[BK_CHUNK_SIZE];
    unsigned char ida[BK_ID_LEN], idb[BK_ID_LEN], wrong[BK_ID_LEN], *file;
    const char *pass[] = { NULL, "pw" };
    size_t flen, len;
    int bad;

    (void)state;
    for (size_t i = 0; i < sizeof(a); i++)
        a[i] = (unsigned char)(i * 7 + 1);
    for (size_t i = 0; i < sizeof(b); i++)
        b[i] = (unsigned char)(i % 13);
    for (int p = 0; p < 2; p++) {
        struct bk_repo *r = open_repo(pass[p]);

        bk_chunk_id(r, a, sizeof(a), ida);
        bk_chunk_id(r, b, sizeof(b), idb);
        memcpy(wrong, ida, BK_ID_LEN);
        wrong[5] ^= 1;
        bk_chunk_encode(r, wrong, a, sizeof(a), &file, &flen);
        assert_int_equal(bk_chunk_write(r, wrong, file, flen), 0);
        free(file);
        assert_int_equal(bk_chunk_load(r, wrong, out, sizeof(out), &len), 0);
        assert_int_equal(bk_chunk_read(r, wrong, out, sizeof(out), &len),
                         ERR_IO);
        assert_int_equal(
            bk_chunk_verify2(r, ida, a, sizeof(a), idb, b, sizeof(b), &bad), 0);
        assert_int_equal(
            bk_chunk_verify2(r, ida, a, sizeof(a), NULL, NULL, 0, &bad), 0);
        assert_int_equal(
            bk_chunk_verify2(r, wrong, a, sizeof(a), idb, b, sizeof(b), &bad),
            ERR_IO);
        assert_int_equal(bad, 0);
        assert_int_equal(
            bk_chunk_verify2(r, ida, a, sizeof(a), wrong, b, sizeof(b), &bad),
            ERR_IO);
        assert_int_equal(bad, 1);
        bk_repo_free(r);
    }
}

static void test_index_round_trip(void **state)
{
    struct bk_repo *r = open_repo(NULL);
    struct bk_index ix, back = { 0 };
    char sha[65], path[256];
    int fd;

    (void)state;
    bk_index_init(&ix, BK_CHUNK_SIZE, 5 * BK_CHUNK_SIZE + 3);
    assert_int_equal(ix.num, 6);
    memset(ix.ids + BK_ID_LEN, 0xab, BK_ID_LEN);
    assert_int_equal(bk_index_write(r, &ix, "t.0.idx", sha), 0);
    assert_int_equal(bk_index_read(r, "t.0.idx", sha, &back), 0);
    assert_int_equal(back.disk_size, ix.disk_size);
    assert_memory_equal(back.ids, ix.ids, 6 * BK_ID_LEN);
    bk_index_release(&back);
    sha[0] = sha[0] == '0' ? '1' : '0';
    assert_int_equal(bk_index_read(r, "t.0.idx", sha, &back), ERR_IO);
    snprintf(path, sizeof(path), "%s/indexes/t.0.idx", r->dir);
    fd = open(path, O_WRONLY);
    assert_int_equal(pwrite(fd, "\x01", 1, 40), 1);
    close(fd);
    assert_int_equal(bk_index_read(r, "t.0.idx", NULL, &back), ERR_IO);
    assert_int_equal(bk_index_read(r, "nope.idx", NULL, &back), ERR_NOTFOUND);
    bk_index_release(&ix);
    bk_repo_free(r);
}

static void test_manifest_round_trip(void **state)
{
    struct bk_repo *r = open_repo(NULL);
    struct bk_manifest m = { 0 }, back;
    struct bk_disk_meta d = { .size = 42, .index = "x.0.idx" };
    char **ids = NULL;
    size_t n = 0;

    (void)state;
    uuid_generate(m.info.id);
    xstrlcpy(m.info.name, "web01", sizeof(m.info.name));
    xstrlcpy(d.name, "xvda", sizeof(d.name));
    m.info.time = 1795312800;
    m.info.time_ms = 1795312800123;
    m.info.protected_ = 1;
    m.vm_config = xstrdup("{\"vcpus\":2}");
    m.disks = &d;
    m.num_disks = 1;
    assert_int_equal(bk_manifest_write(r, &m), 0);
    assert_int_equal(bk_manifest_read(r, m.info.id, &back), 0);
    assert_string_equal(back.info.name, "web01");
    assert_int_equal(back.info.time_ms, 1795312800123);
    assert_true(back.info.protected_);
    assert_string_equal(back.vm_config, "{\"vcpus\":2}");
    assert_int_equal(back.disks[0].size, 42);
    bk_manifest_release(&back);
    assert_int_equal(bk_manifest_ids(r, &ids, &n), 0);
    assert_int_equal(n, 1);
    bk_strv_free(ids, n);
    assert_int_equal(bk_manifest_remove(r, m.info.id), 0);
    assert_int_equal(bk_manifest_read(r, m.info.id, &back), ERR_NOTFOUND);
    free(m.vm_config);
    bk_repo_free(r);
}

static void test_locks(void **state)
{
    struct bk_repo *r = open_repo(NULL);
    char path[256];
    FILE *f;

    (void)state;
    assert_int_equal(bk_lock_take(r, "exclusive", "gc"), 0);
    assert_int_equal(bk_lock_take(r, "exclusive", "gc"), ERR_BUSY);
    bk_lock_drop(r, "exclusive");
    /* A lock of a dead pid on this host is broken. */
    snprintf(path, sizeof(path), "%s/locks/exclusive", r->dir);
    f = fopen(path, "w");
    {
        char host[256];

        gethostname(host, sizeof(host));
        fprintf(f, "{\"pid\":999999999,\"host\":\"%s\",\"start_unix\":1}",
                host);
    }
    fclose(f);
    assert_int_equal(bk_lock_take(r, "exclusive", "gc"), 0);
    bk_lock_drop(r, "exclusive");
    /* Another host's lock is live. */
    f = fopen(path, "w");
    fputs("{\"pid\":1,\"host\":\"elsewhere\",\"start_unix\":1}", f);
    fclose(f);
    assert_int_equal(bk_lock_take(r, "exclusive", "gc"), ERR_BUSY);
    unlink(path);
    assert_int_equal(bk_lock_oldest_backup(r), INT64_MAX);
    assert_int_equal(bk_lock_take(r, "backup-x", "backup"), 0);
    assert_true(bk_lock_oldest_backup(r) < INT64_MAX);
    bk_lock_drop(r, "backup-x");
    /* A stale backup lock is not counted as live, and left in place:
     * it marks a run whose chunks the next backup checks. */
    assert_int_equal(bk_lock_take_durable(r, "backup-y", "backup"), 0);
    {
        char **names = NULL;
        size_t n = 0;

        bk_lock_stale_backups(r, NULL, &names, &n);
        assert_int_equal(n, 0);
        snprintf(path, sizeof(path), "%s/locks/backup-dead", r->dir);
        f = fopen(path, "w");
        fputs("{\"pid\":0,\"host\":\"", f);
        {
            char host[256];

            gethostname(host, sizeof(host));
            fputs(host, f);
        }
        fputs("\",\"start_unix\":1}", f);
        fclose(f);
        assert_true(bk_lock_oldest_backup(r) > 1);
        assert_int_equal(access(path, F_OK), 0);
        bk_lock_stale_backups(r, "backup-y", &names, &n);
        assert_int_equal(n, 1);
        assert_string_equal(names[0], "backup-dead");
        bk_strv_free(names, n);
        unlink(path);
        /* A lock this process kept after a failed run is stale at once,
         * as it would be after the process exited; its live neighbour
         * is not. */
        assert_int_equal(bk_lock_take_durable(r, "backup-k", "backup"), 0);
        bk_lock_stale_backups(r, "backup-y", &names, &n);
        assert_int_equal(n, 0);
        bk_lock_keep("backup-k");
        snprintf(path, sizeof(path), "%s/locks/backup-k", r->dir);
        assert_int_equal(access(path, F_OK), 0);
        bk_lock_stale_backups(r, "backup-y", &names, &n);
        assert_int_equal(n, 1);
        assert_string_equal(names[0], "backup-k");
        bk_strv_free(names, n);
        bk_lock_stale_backups(r, NULL, &names, &n);
        assert_int_equal(n, 1); /* backup-y is live */
        bk_strv_free(names, n);
        unlink(path);
    }
    bk_lock_drop(r, "backup-y");
    bk_repo_free(r);
}

static int setup(void **state)
{
    (void)state;
    log_set_level(LOG_ERROR + 1);
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunks_plain),
        cmocka_unit_test(test_chunks_encrypted),
        cmocka_unit_test(test_ids_checked_one_and_two_at_a_time),
        cmocka_unit_test(test_index_round_trip),
        cmocka_unit_test(test_manifest_round_trip),
        cmocka_unit_test(test_locks),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
