/* The engine's reasons (bk_repo_error): what failed, on which object and
 * why, kept for the call that failed and cleared by the next one; and
 * the helpers for callers that keep a repository open (bk_repo_current,
 * bk_repo_idle, bk_repo_stamp, bk_repo_ident). */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "backup/bk.h"
#include "backup/bk_internal.h"
#include "common/err.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/xalloc.h"

#define MIB (1024 * 1024)

static char tmpdir[] = "/tmp/xenith-bkerr-XXXXXX";
static char repo_dir[128], img[128];

static struct bk_repo *repo_open(void)
{
    struct bk_repo *r = NULL;

    assert_int_equal(bk_repo_open(repo_dir, NULL, &r), 0);
    return r;
}

static void backup_one(struct bk_repo *r, char snap_out[BK_SNAPID_LEN])
{
    struct bk_backup_opts o = { .name = "vm" };
    struct bk_disk_src d = { .name = "xvda", .path = img };
    struct bk_backup_result res;

    assert_int_equal(bk_backup(r, &o, &d, 1, NULL, &res), 0);
    xstrlcpy(snap_out, res.snapshot_id, BK_SNAPID_LEN);
}

static void test_reason_kept_then_cleared(void **state)
{
    struct bk_repo *r = repo_open();
    struct bk_backup_opts o = { .name = "vm" };
    struct bk_disk_src d = { .name = "xvda", .path = "/nonexistent/x.img" };
    char snap[BK_SNAPID_LEN];

    (void)state;
    assert_string_equal(bk_repo_error(r), "");
    assert_int_equal(bk_backup(r, &o, &d, 1, NULL, NULL), ERR_NOTFOUND);
    assert_string_equal(bk_repo_error(r), "opening disk xvda "
                                          "(/nonexistent/x.img): No such "
                                          "file or directory");
    /* A call failing before any work does not show an old reason. */
    o.name = NULL;
    assert_int_equal(bk_backup(r, &o, &d, 1, NULL, NULL), ERR_INVALID);
    assert_string_equal(bk_repo_error(r), "");
    backup_one(r, snap);
    assert_string_equal(bk_repo_error(r), "");
    bk_repo_free(r);
}

static void test_lock_holder_named(void **state)
{
    struct bk_repo *r = repo_open();
    char path[256], host[256], boot[64] = "", want[512], t[21];
    int64_t start = time_now() - 60;
    FILE *f;

    (void)state;
    assert_int_equal(gethostname(host, sizeof(host)), 0);
    f = fopen("/proc/sys/kernel/random/boot_id", "r");
    assert_non_null(f);
    assert_non_null(fgets(boot, sizeof(boot), f));
    fclose(f);
    boot[strcspn(boot, "\n")] = 0;
    snprintf(path, sizeof(path), "%s/locks/exclusive", repo_dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "{\"pid\":%d,\"host\":\"%s\",\"boot_id\":\"%s\","
            "\"start_unix\":%lld,\"op\":\"prune\"}",
            (int)getpid(), host, boot, (long long)start);
    fclose(f);
    time_rfc3339(start, t);
    snprintf(want, sizeof(want),
             "repository %s is locked by pid %d on host %s since %s (prune)",
             repo_dir, (int)getpid(), host, t);
    assert_int_equal(bk_gc(r, NULL, NULL), ERR_BUSY);
    assert_string_equal(bk_repo_error(r), want);
    unlink(path);
    assert_int_equal(bk_gc(r, NULL, NULL), 0);
    assert_string_equal(bk_repo_error(r), "");
    bk_repo_free(r);
}

static void test_restore_names_chunk_and_target(void **state)
{
    struct bk_repo *r = repo_open();
    struct bk_index ix = { 0 };
    struct bk_manifest m;
    char snap[BK_SNAPID_LEN], hex[BK_ID_HEXLEN], rel[80], path[300];
    char want[512], out[160];
    unsigned char *ids;
    int fd;

    (void)state;
    backup_one(r, snap);
    /* /dev/full: every write fails with ENOSPC. */
    assert_int_equal(bk_restore(r, snap, 0, "/dev/full", NULL), ERR_NOSPACE);
    assert_non_null(strstr(bk_repo_error(r), "writing /dev/full at offset "));
    assert_non_null(strstr(bk_repo_error(r), ": No space left on device"));
    /* A corrupt chunk: named with its disk, offset and snapshot. */
    assert_int_equal(bk_manifest_read(r, snap, &m), 0);
    assert_int_equal(bk_index_read(r, m.disks[0].index, NULL, &ix), 0);
    ids = ix.ids; /* chunk 0 holds data */
    bk_id_hex(ids, hex);
    bk_chunk_relpath(ids, rel);
    snprintf(path, sizeof(path), "%s/%s", repo_dir, rel);
    fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "XX", 2, 40), 2);
    close(fd);
    snprintf(out, sizeof(out), "%s/out", tmpdir);
    assert_int_equal(bk_restore(r, snap, 0, out, NULL), ERR_IO);
    snprintf(want, sizeof(want),
             "chunk %s (disk xvda, offset 0) is corrupt (snapshot %s)", hex,
             snap);
    assert_string_equal(bk_repo_error(r), want);
    unlink(path); /* gone: the next backup writes it again */
    bk_index_release(&ix);
    bk_manifest_release(&m);
    bk_repo_free(r);
}

static void test_current_idle_and_stamp(void **state)
{
    struct bk_repo *r = repo_open();
    struct bk_stats st;
    struct timespec ts[2];
    char cfg[160], snap[BK_SNAPID_LEN];
    uint64_t s1, s2, id1 = bk_repo_ident(repo_dir);
    int racy;

    (void)state;
    assert_true(id1 != 0);
    assert_int_equal(bk_repo_ident(repo_dir), id1);
    assert_int_equal(bk_repo_ident("/nonexistent"), 0);
    assert_int_equal(bk_repo_current(r), 1);
    s1 = bk_repo_stamp(r, &racy);
    assert_int_equal(bk_repo_stamp(r, &racy), s1);
    bk_repo_idle(r);
    assert_int_equal(bk_repo_current(r), 1); /* the directory again */
    assert_int_equal(bk_stats(r, &st), 0);
    backup_one(r, snap); /* a new manifest: snapshots/ changed */
    s2 = bk_repo_stamp(r, &racy);
    assert_true(s2 != s1);
    assert_int_equal(racy, 1); /* just now */
    /* The config's mtime moved: not current any more. */
    snprintf(cfg, sizeof(cfg), "%s/config", repo_dir);
    clock_gettime(CLOCK_REALTIME, &ts[0]);
    ts[0].tv_sec += 5;
    ts[1] = ts[0];
    assert_int_equal(utimensat(AT_FDCWD, cfg, ts, 0), 0);
    assert_int_equal(bk_repo_current(r), 0);
    assert_true(bk_repo_ident(repo_dir) != id1);
    bk_repo_free(r);
    r = repo_open();
    assert_int_equal(bk_repo_current(r), 1);
    bk_repo_free(r);
}

static int setup(void **state)
{
    struct bk_init_opts o = { .compression_level = 1 };
    unsigned char *buf = xmalloc(2 * MIB);
    int fd;

    (void)state;
    log_set_level(LOG_ERROR + 1);
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(repo_dir, sizeof(repo_dir), "%s/repo", tmpdir);
    snprintf(img, sizeof(img), "%s/img", tmpdir);
    for (size_t i = 0; i < 2 * MIB; i++)
        buf[i] = (unsigned char)((i * 2654435761u) >> 13);
    fd = open(img, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, buf, 2 * MIB) != 2 * MIB)
        return -1;
    close(fd);
    free(buf);
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
        cmocka_unit_test(test_reason_kept_then_cleared),
        cmocka_unit_test(test_lock_holder_named),
        cmocka_unit_test(test_restore_names_chunk_and_target),
        cmocka_unit_test(test_current_idle_and_stamp),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
