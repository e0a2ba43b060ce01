/* The file SR layer: path checks, image create/grow/delete, the sparse
 * copy (holes stay holes, bytes identical), the reflink clone on a real
 * XFS loop mount (root only), and the atomic sparse import. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/uuid.h"
#include "server/core/sr.h"

#define MIB (1024 * 1024)

static char tmpdir[] = "/tmp/xenith-srtest-XXXXXX";
static char xfs_mnt[300];
static int xfs_mounted;

static void xfs_unmount(void);

static void rm_rf(const char *path)
{
    char cmd[600];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", path);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    xfs_unmount();
    if (xfs_mounted) {
        fprintf(stderr, "%s is still mounted: not removing %s\n", xfs_mnt,
                tmpdir);
        return -1;
    }
    rm_rf(tmpdir);
    return 0;
}

/* Write n bytes of pattern byte c at off in path. */
static void put(const char *path, off_t off, int c, size_t n)
{
    char *buf = malloc(n);
    int fd = open(path, O_WRONLY);

    assert_non_null(buf);
    assert_true(fd >= 0);
    memset(buf, c, n);
    assert_int_equal(pwrite(fd, buf, n, off), (ssize_t)n);
    assert_int_equal(fsync(fd), 0);
    close(fd);
    free(buf);
}

static int same_bytes(const char *a, const char *b)
{
    char cmd[1300];

    snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", a, b);
    return system(cmd) == 0;
}

static uint64_t blocks_bytes(const char *path)
{
    struct stat st;

    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_blocks * 512;
}

static void test_prepare_rejects_bad_paths(void **state)
{
    static const char *const bad[] = {
        "relative/dir",
        "",
        "/",
        "/etc",
        "/etc/",
        "/etc/xenith",
        "/usr",
        "/usr/lib/sr",
        "/bin",
        "/proc",
        "/proc/self",
        "/sys/x",
        "/dev",
        "/dev/shm/sr",
        "/tmp",
        "/var",
        "/tmp/../etc",
        "/tmp/a/../b",
        "/tmp/./a",
        NULL,
    };
    char file[300], link[300], ok[300];
    size_t i;
    int fd;

    (void)state;
    for (i = 0; bad[i]; i++)
        assert_int_equal(sr_prepare(bad[i]), ERR_INVALID);
    /* A file is not a directory. */
    snprintf(file, sizeof(file), "%s/afile", tmpdir);
    fd = open(file, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(sr_prepare(file), ERR_INVALID);
    /* A symlink into /etc is refused too. */
    snprintf(link, sizeof(link), "%s/etclink", tmpdir);
    assert_int_equal(symlink("/etc", link), 0);
    assert_int_equal(sr_prepare(link), ERR_INVALID);
    /* A missing directory is created, mode 0700, parents too. */
    snprintf(ok, sizeof(ok), "%s/new/sr1", tmpdir);
    assert_int_equal(sr_prepare(ok), 0);
    {
        struct stat st;

        assert_int_equal(stat(ok, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 0777, 0700);
    }
    /* Twice is fine. */
    assert_int_equal(sr_prepare(ok), 0);
}

static void test_image_lifecycle(void **state)
{
    char dir[300], path[600], file[128], id[UUID_STRLEN];
    struct sr_usage u;
    uint64_t used = 1;
    struct stat st;

    (void)state;
    snprintf(dir, sizeof(dir), "%s/life", tmpdir);
    assert_int_equal(sr_prepare(dir), 0);
    uuid_generate(id);
    assert_int_equal(sr_image_create(dir, "../x", MIB, file), ERR_INVALID);
    assert_int_equal(sr_image_create(dir, id, 8 * MIB, file), 0);
    assert_int_equal(strlen(file), 36 + 4);
    assert_string_equal(file + 36, ".raw");
    assert_int_equal(sr_image_create(dir, id, 8 * MIB, file), ERR_EXISTS);
    assert_int_equal(sr_image_path(dir, file, path, sizeof(path)), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 8 * MIB);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* Sparse: nothing allocated yet. */
    assert_int_equal(sr_image_used(dir, file, &used), 0);
    assert_true(used < 64 * 1024);

    put(path, 2 * MIB, 0xab, MIB);
    assert_int_equal(sr_image_used(dir, file, &used), 0);
    assert_true(used >= MIB);
    assert_int_equal(sr_usage(dir, &u), 0);
    assert_true(u.size_bytes > 0);
    assert_true(u.free_bytes <= u.size_bytes);
    assert_true(u.used_bytes >= MIB);

    /* Grow only. */
    assert_int_equal(sr_image_resize(dir, file, 4 * MIB), ERR_INVALID);
    assert_int_equal(sr_image_resize(dir, file, 16 * MIB), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 16 * MIB);

    /* No escaping the SR through a file name. */
    assert_int_equal(sr_image_path(dir, "../etc/passwd", path, sizeof(path)),
                     ERR_INVALID);
    assert_int_equal(sr_image_delete(dir, ".hidden"), ERR_INVALID);

    assert_int_equal(sr_image_delete(dir, file), 0);
    assert_int_equal(sr_image_delete(dir, file), ERR_NOTFOUND);
    assert_int_equal(sr_image_used(dir, file, &used), ERR_NOTFOUND);
}

/* Clone a 32 MiB image with two data islands, one all-zero written
 * block and holes; check bytes, holes, and which path was taken. */
static void clone_check(const char *dir, int expect_reflink)
{
    char src[600], dst[600], file[128], id[UUID_STRLEN];
    char dfile[128], tmp[700];
    uint64_t used_src, used_before, used_after;
    struct sr_usage u;
    int reflinked = -1;

    uuid_generate(id);
    assert_int_equal(sr_image_create(dir, id, 32 * MIB, file), 0);
    assert_int_equal(sr_image_path(dir, file, src, sizeof(src)), 0);
    put(src, 0, 0x11, MIB);
    put(src, 20 * MIB, 0x22, 2 * MIB);
    put(src, 30 * MIB, 0x00, MIB); /* written zeros: may become a hole */
    used_src = blocks_bytes(src);
    assert_int_equal(sr_usage(dir, &u), 0);
    assert_int_equal(u.reflink, expect_reflink);
    used_before = u.used_bytes;

    uuid_generate(id);
    snprintf(dfile, sizeof(dfile), "%s.raw", id);
    assert_int_equal(sr_image_clone(dir, file, dfile, &reflinked), 0);
    assert_int_equal(reflinked, expect_reflink);
    assert_int_equal(sr_image_path(dir, dfile, dst, sizeof(dst)), 0);
    assert_true(same_bytes(src, dst));
    /* No temp file left behind. */
    snprintf(tmp, sizeof(tmp), "%s.tmp", dst);
    assert_int_equal(access(tmp, F_OK), -1);
    /* An existing destination is refused. */
    assert_int_equal(sr_image_clone(dir, file, dfile, NULL), ERR_EXISTS);

    if (expect_reflink) {
        /* Shared extents: the filesystem's free space does not drop by
         * the clone's size (st_blocks counts shared blocks twice). */
        struct sr_usage u2;

        assert_int_equal(sr_usage(dir, &u2), 0);
        assert_true(u.free_bytes - u2.free_bytes < MIB);
    } else {
        /* Holes stay holes, and the zero block is not allocated. */
        used_after = blocks_bytes(dst);
        assert_true(used_after >= 3 * MIB);
        assert_true(used_after <= 3 * MIB + 256 * 1024);
        assert_true(used_after <= used_src);
        assert_int_equal(sr_usage(dir, &u), 0);
        assert_true(u.used_bytes >= used_before + 3 * MIB);
    }
    assert_int_equal(sr_image_delete(dir, dfile), 0);
    assert_int_equal(sr_image_delete(dir, file), 0);
}

static void test_clone_sparse_copy(void **state)
{
    char dir[300];

    (void)state;
    snprintf(dir, sizeof(dir), "%s/clone", tmpdir);
    assert_int_equal(sr_prepare(dir), 0);
    {
        struct sr_usage u;

        /* ext4 or tmpfs: no FICLONE, so the sparse copy. */
        assert_int_equal(sr_usage(dir, &u), 0);
        if (u.reflink)
            fprintf(stderr, "\n*** /tmp supports reflinks: the sparse copy "
                            "path is NOT tested here ***\n\n");
        clone_check(dir, u.reflink);
    }
}

static int run(const char *cmd)
{
    int rc = system(cmd);

    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void xfs_unmount(void)
{
    if (!xfs_mounted)
        return;
    if (umount(xfs_mnt) != 0)
        fprintf(stderr, "umount %s: %s\n", xfs_mnt, strerror(errno));
    else
        xfs_mounted = 0;
}

static void test_clone_reflink_on_xfs(void **state)
{
    char img[300], sr[320], cmd[1400];

    (void)state;
    if (geteuid() != 0) {
        fprintf(stderr, "\n*** SKIPPED test_clone_reflink_on_xfs: not root, "
                        "cannot loop-mount XFS; the reflink path is NOT "
                        "tested ***\n\n");
        skip();
    }
    /* Root: mkfs.xfs (xfsprogs) must be there, installer/deps.sh has it. */
    assert_int_equal(run("command -v mkfs.xfs >/dev/null"), 0);
    snprintf(img, sizeof(img), "%s/xfs.img", tmpdir);
    snprintf(xfs_mnt, sizeof(xfs_mnt), "%s/xfs", tmpdir);
    assert_int_equal(mkdir(xfs_mnt, 0700), 0);
    snprintf(cmd, sizeof(cmd),
             "truncate -s 300M '%s' && mkfs.xfs -q -m reflink=1 '%s' && "
             "mount -o loop '%s' '%s'",
             img, img, img, xfs_mnt);
    assert_int_equal(run(cmd), 0);
    /* From here a failing assert jumps out: the group teardown then
     * unmounts (xfs_mounted). */
    xfs_mounted = 1;
    snprintf(sr, sizeof(sr), "%s/sr", xfs_mnt);
    assert_int_equal(sr_prepare(sr), 0);
    clone_check(sr, 1);
    xfs_unmount();
    assert_int_equal(xfs_mounted, 0);
    unlink(img);
    rmdir(xfs_mnt);
}

/* An upload with holes: a memfd whose data has zeros between islands. */
static int make_upload(size_t len)
{
    int fd = memfd_create("upload", 0);
    char *buf = calloc(1, len);
    size_t i;

    assert_true(fd >= 0);
    for (i = 0; i < 64 * 1024; i++)
        buf[i] = (char)(i * 7 + 1);
    memset(buf + 5 * MIB, 0x33, 100000);
    assert_int_equal(write(fd, buf, len), (ssize_t)len);
    free(buf);
    return fd;
}

static void test_import_sparse_and_atomic(void **state)
{
    char dir[300], path[600], file[128], id[UUID_STRLEN];
    uint64_t len = 0;
    struct stat st;
    char buf[16];
    int fd, img;

    (void)state;
    snprintf(dir, sizeof(dir), "%s/import", tmpdir);
    assert_int_equal(sr_prepare(dir), 0);
    uuid_generate(id);
    assert_int_equal(sr_image_create(dir, id, 8 * MIB, file), 0);
    assert_int_equal(sr_image_path(dir, file, path, sizeof(path)), 0);
    put(path, 0, 0x77, 16);

    /* Larger than the disk: refused, the old image untouched. */
    fd = make_upload(8 * MIB + 512);
    assert_int_equal(sr_image_import(dir, file, fd, 8 * MIB, &len), ERR_TOOBIG);
    close(fd);
    img = open(path, O_RDONLY);
    assert_int_equal(read(img, buf, 16), 16);
    close(img);
    assert_int_equal((unsigned char)buf[0], 0x77);

    /* 6 MiB into an 8 MiB disk: size kept, data written sparsely. */
    fd = make_upload(6 * MIB);
    assert_int_equal(sr_image_import(dir, file, fd, 8 * MIB, &len), 0);
    assert_int_equal(len, 6 * MIB);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 8 * MIB);
    assert_true((uint64_t)st.st_blocks * 512 <= 512 * 1024);
    {
        char *a = malloc(6 * MIB), *b = malloc(6 * MIB);

        img = open(path, O_RDONLY);
        assert_int_equal(pread(fd, a, 6 * MIB, 0), 6 * MIB);
        assert_int_equal(pread(img, b, 6 * MIB, 0), 6 * MIB);
        assert_memory_equal(a, b, 6 * MIB);
        close(img);
        free(a);
        free(b);
    }
    close(fd);
    /* No temp file left behind by either import. */
    {
        char cmd[400];

        snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", dir);
        assert_int_equal(run(cmd), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prepare_rejects_bad_paths),
        cmocka_unit_test(test_image_lifecycle),
        cmocka_unit_test(test_clone_sparse_copy),
        cmocka_unit_test(test_clone_reflink_on_xfs),
        cmocka_unit_test(test_import_sparse_and_atomic),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
