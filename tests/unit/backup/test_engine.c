/* The engine through its public API (backup/bk.h): backup + restore
 * byte-identical, the zero/hole handling, cancel leaves no snapshot,
 * verify finds a missing chunk and names its snapshots, prune never
 * removes a protected snapshot, gc, and the FIEMAP change map of a file
 * against itself and against a copy, and chunks a power loss damaged
 * found and written again by the next backup. */
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

#include "backup/bk.h"
#include "backup/bk_internal.h"
#include "common/err.h"
#include "common/log.h"
#include "common/uuid.h"
#include "common/xalloc.h"

#define MIB (1024 * 1024)

static char tmpdir[] = "/tmp/xenith-bkeng-XXXXXX";
static char repo_dir[128], img[128], out[128];

static void write_image(const char *path, unsigned seed)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    unsigned char *buf = xmalloc(MIB);

    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 9 * MIB + 777), 0);
    for (int c = 0; c < 9; c += 2) {
        for (size_t i = 0; i < MIB; i++)
            buf[i] = (unsigned char)(c == 4 ? 'a' + i % 13
                                            : (i * 2654435761u + seed +
                                               (unsigned)c * 977) >>
                                                  13);
        assert_int_equal(pwrite(fd, buf, MIB / 2, (off_t)c * MIB + 4096),
                         MIB / 2);
    }
    close(fd);
    free(buf);
}

static int same_files(const char *a, const char *b)
{
    char cmd[300];

    snprintf(cmd, sizeof(cmd), "cmp -s %s %s", a, b);
    return system(cmd) == 0;
}

static struct bk_repo *repo_open(void)
{
    struct bk_repo *r = NULL;

    assert_int_equal(bk_repo_open(repo_dir, NULL, &r), 0);
    return r;
}

static void test_backup_restore(void **state)
{
    struct bk_repo *r = repo_open();
    struct bk_backup_opts o = { .name = "vm" };
    struct bk_disk_src d = { .name = "xvda", .path = img };
    struct bk_backup_result res, res2;
    struct stat st;

    (void)state;
    assert_int_equal(bk_backup(r, &o, &d, 1, NULL, &res), 0);
    assert_int_equal(res.chunks_total, 10);
    assert_int_equal(res.chunks_new, 5);
    assert_int_equal(res.bytes_read, 5 * MIB);
    assert_int_equal(bk_restore(r, res.snapshot_id, 0, out, NULL), 0);
    assert_true(same_files(img, out));
    assert_int_equal(stat(out, &st), 0);
    assert_true((uint64_t)st.st_blocks * 512 < 4 * MIB);
    assert_int_equal(bk_backup(r, &o, &d, 1, NULL, &res2), 0);
    assert_int_equal(res2.chunks_new, 0);
    assert_int_equal(bk_restore(r, res.snapshot_id, 1, out, NULL),
                     ERR_NOTFOUND);
    bk_repo_free(r);
}

static void test_cancel_leaves_no_snapshot(void **state)
{
    struct bk_repo *r = repo_open();
    struct bk_backup_opts o = { .name = "cancelled", .parent = "" };
    struct bk_disk_src d = { .name = "xvda", .path = img };
    atomic_int cancel = 1;
    struct bk_progress p = { .cancel = &cancel };
    struct bk_snapshot_info *s = NULL;
    size_t n = 0, before;

    (void)state;
    assert_int_equal(bk_snapshot_list(r, &s, &n), 0);
    free(s);
    before = n;
    write_image(img, 99); /* new data, so there is work to cancel */
    assert_int_equal(bk_backup(r, &o, &d, 1, &p, NULL), ERR_CANCELLED);
    assert_int_equal(bk_snapshot_list(r, &s, &n), 0);
    free(s);
    assert_int_equal(n, before);
    assert_int_equal(bk_lock_oldest_backup(r), INT64_MAX);
    bk_repo_free(r);
}

static void test_verify_names_snapshots(void **state)
{
    struct bk_repo *r = repo_open();
    struct bk_verify_report rep;
    struct bk_snapshot_info *s = NULL;
    struct bk_index ix;
    struct bk_manifest m;
    char rel[80], path[300], moved[310];
    size_t n = 0;

    (void)state;
    assert_int_equal(bk_verify(r, 100, NULL, &rep), 0);
    assert_int_equal(rep.num_bad, 0);
    bk_verify_report_release(&rep);
    assert_int_equal(bk_snapshot_list(r, &s, &n), 0);
    assert_true(n >= 2);
    assert_int_equal(bk_manifest_read(r, s[0].id, &m), 0);
    assert_int_equal(bk_index_read(r, m.disks[0].index, NULL, &ix), 0);
    bk_chunk_relpath(ix.ids, rel);
    snprintf(path, sizeof(path), "%s/%s", repo_dir, rel);
    snprintf(moved, sizeof(moved), "%s.x", path);
    assert_int_equal(rename(path, moved), 0);
    assert_int_equal(bk_verify(r, 100, NULL, &rep), 0);
    assert_int_equal(rep.num_bad, 1);
    assert_true(rep.bad[0].missing);
    assert_int_equal(rep.bad[0].num_snapshots, 2);
    bk_verify_report_release(&rep);
    assert_int_equal(bk_restore(r, s[0].id, 0, out, NULL), ERR_IO);
    assert_int_equal(rename(moved, path), 0);
    bk_index_release(&ix);
    bk_manifest_release(&m);
    free(s);
    assert_int_equal(bk_verify(r, 0, NULL, &rep), ERR_INVALID);
    bk_repo_free(r);
}

static void test_prune_protected_and_gc(void **state)
{
    struct bk_repo *r = repo_open();
    struct bk_backup_opts o = { .name = "p", .protect = 1 };
    struct bk_disk_src d = { .name = "xvda", .path = img };
    struct bk_backup_result prot, last;
    struct bk_retention keep = { .last = 1 };
    struct bk_gc_result g;
    char **rm = NULL;
    size_t nrm = 0;

    (void)state;
    assert_int_equal(bk_backup(r, &o, &d, 1, NULL, &prot), 0);
    o.protect = 0;
    write_image(img, 7);
    assert_int_equal(bk_backup(r, &o, &d, 1, NULL, &last), 0);
    assert_int_equal(bk_prune(r, &keep, 0, &rm, &nrm), 0);
    for (size_t i = 0; i < nrm; i++) {
        assert_string_not_equal(rm[i], prot.snapshot_id);
        assert_string_not_equal(rm[i], last.snapshot_id);
    }
    bk_strv_free(rm, nrm);
    assert_int_equal(bk_gc(r, NULL, &g), 0);
    assert_int_equal(bk_restore(r, prot.snapshot_id, 0, out, NULL), 0);
    assert_int_equal(bk_restore(r, last.snapshot_id, 0, out, NULL), 0);
    assert_true(same_files(img, out));
    bk_repo_free(r);
}

/* bk_prune_name keeps every snapshot of the other names. */
static void test_prune_one_name(void **state)
{
    struct bk_repo *r = repo_open();
    struct bk_backup_opts a = { .name = "one-a" }, b = { .name = "one-b" };
    struct bk_disk_src d = { .name = "xvda", .path = img };
    struct bk_backup_result ra[3], rb[3];
    struct bk_retention keep = { .last = 1 };
    char **rm = NULL;
    size_t nrm = 0, i;

    (void)state;
    for (i = 0; i < 3; i++) {
        assert_int_equal(bk_backup(r, &a, &d, 1, NULL, &ra[i]), 0);
        assert_int_equal(bk_backup(r, &b, &d, 1, NULL, &rb[i]), 0);
    }
    assert_int_equal(bk_prune_name(r, "one-a", &keep, 0, &rm, &nrm), 0);
    assert_int_equal(nrm, 2);
    for (i = 0; i < nrm; i++)
        assert_true(!strcmp(rm[i], ra[0].snapshot_id) ||
                    !strcmp(rm[i], ra[1].snapshot_id));
    bk_strv_free(rm, nrm);
    for (i = 0; i < 3; i++)
        assert_int_equal(bk_restore(r, rb[i].snapshot_id, 0, out, NULL), 0);
    assert_int_equal(bk_restore(r, ra[2].snapshot_id, 0, out, NULL), 0);
    assert_int_not_equal(bk_restore(r, ra[0].snapshot_id, 0, out, NULL), 0);
    bk_repo_free(r);
}

static void test_changemap_self_and_copy(void **state)
{
    unsigned char changed[10];
    char copy[160], cmd[400];
    int rc;

    (void)state;
    rc = bk_changemap(img, img, MIB, 10, changed);
    if (rc == ERR_UNSUPPORTED) {
        skip();
        return;
    }
    assert_int_equal(rc, 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(changed[i], 0);
    snprintf(copy, sizeof(copy), "%s/copy", tmpdir);
    snprintf(cmd, sizeof(cmd), "cp --reflink=never --sparse=always %s %s", img,
             copy);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(bk_changemap(img, copy, MIB, 10, changed), 0);
    /* Data chunks differ in address; holes in both stay unchanged. */
    for (int i = 0; i < 9; i++)
        assert_int_equal(changed[i], i % 2 == 0);
    assert_int_equal(bk_changemap("/nonexistent", copy, MIB, 10, changed),
                     ERR_UNSUPPORTED);
}

/* Damage chunk id as a power loss may: zeros of its size, or empty. */
static void damage_chunk(struct bk_repo *r, const unsigned char *id, int empty)
{
    char rel[80], path[256];
    struct stat st;
    unsigned char *z;
    int fd;

    bk_chunk_relpath(id, rel);
    snprintf(path, sizeof(path), "%s/%s", repo_dir, rel);
    assert_int_equal(stat(path, &st), 0);
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    z = xcalloc(1, (size_t)st.st_size);
    if (!empty)
        assert_int_equal(write(fd, z, (size_t)st.st_size), st.st_size);
    close(fd);
    free(z);
    (void)r;
}

/* A power loss after chunks got their names and before the sync: the
 * run's lock survives (its pid is gone), the snapshot never appeared,
 * two of its chunks lost their data. The next backup removes them,
 * writes them again, and the result verifies and restores. */
static void test_power_loss_recovered(void **state)
{
    struct bk_repo *r = repo_open();
    struct bk_backup_opts o = { .name = "powerloss", .parent = "" };
    struct bk_disk_src d = { .name = "xvda", .path = img };
    struct bk_backup_result res, res2;
    struct bk_verify_report rep = { 0 };
    struct bk_manifest m;
    struct bk_index ix;
    char lock[256], host[256];
    struct timespec t[2];
    FILE *f;

    (void)state;
    write_image(img, 4242);
    assert_int_equal(bk_backup(r, &o, &d, 1, NULL, &res), 0);
    assert_int_equal(res.interrupted_checked, 0);
    assert_int_equal(res.chunks_new, 4); /* chunk 4 is everyone's */
    assert_int_equal(bk_manifest_read(r, res.snapshot_id, &m), 0);
    assert_int_equal(bk_index_read(r, m.disks[0].index, NULL, &ix), 0);
    bk_manifest_release(&m);
    assert_int_equal(bk_manifest_remove(r, res.snapshot_id), 0);
    damage_chunk(r, ix.ids, 1);
    damage_chunk(r, ix.ids + 2 * BK_ID_LEN, 0);
    snprintf(lock, sizeof(lock), "%s/locks/backup-powerloss", repo_dir);
    f = fopen(lock, "w");
    assert_non_null(f);
    gethostname(host, sizeof(host));
    fprintf(f, "{\"pid\":0,\"host\":\"%s\",\"start_unix\":1}", host);
    fclose(f);
    clock_gettime(CLOCK_REALTIME, &t[0]);
    t[0].tv_sec -= 60; /* before the damaged run */
    t[1] = t[0];
    assert_int_equal(utimensat(AT_FDCWD, lock, t, 0), 0);
    assert_int_equal(bk_backup(r, &o, &d, 1, NULL, &res2), 0);
    assert_int_equal(res2.interrupted_removed, 2);
    assert_true(res2.interrupted_checked >= 5);
    assert_int_equal(res2.chunks_new, 2);
    assert_int_equal(access(lock, F_OK), -1);
    assert_int_equal(bk_lock_oldest_backup(r), INT64_MAX);
    assert_int_equal(bk_verify(r, 100, NULL, &rep), 0);
    assert_int_equal(rep.num_bad, 0);
    bk_verify_report_release(&rep);
    assert_int_equal(bk_restore(r, res2.snapshot_id, 0, out, NULL), 0);
    assert_true(same_files(img, out));
    /* No stale lock: nothing is checked. */
    assert_int_equal(bk_backup(r, &o, &d, 1, NULL, &res), 0);
    assert_int_equal(res.interrupted_checked, 0);
    bk_index_release(&ix);
    bk_repo_free(r);
}

static int setup(void **state)
{
    struct bk_init_opts o = { .compression_level = 1 };

    (void)state;
    log_set_level(LOG_ERROR + 1);
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(repo_dir, sizeof(repo_dir), "%s/repo", tmpdir);
    snprintf(img, sizeof(img), "%s/img", tmpdir);
    snprintf(out, sizeof(out), "%s/out", tmpdir);
    write_image(img, 1);
    return bk_repo_init(repo_dir, &o);
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
        cmocka_unit_test(test_backup_restore),
        cmocka_unit_test(test_cancel_leaves_no_snapshot),
        cmocka_unit_test(test_verify_names_snapshots),
        cmocka_unit_test(test_prune_protected_and_gc),
        cmocka_unit_test(test_prune_one_name),
        cmocka_unit_test(test_changemap_self_and_copy),
        cmocka_unit_test(test_power_loss_recovered),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
