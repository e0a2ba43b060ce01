/* backup/srcmap.c on a sparse temp file of three windows: a chunk reads
 * its own bytes through the mapping, a range across a window boundary
 * is refused, and a window stays mapped while it has users or entries
 * not done and is unmapped after the last (the bytes of the file mapped,
 * from /proc/self/maps: adjacent windows may show as one line).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "backup/bk_internal.h"

#define CS (1u << 20)

static char path[] = "/tmp/xenith-srcmap-XXXXXX";

/* Bytes of the temp file mapped in this process. */
static uint64_t mapped(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    uint64_t n = 0;

    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        char *e;
        uint64_t a = strtoull(line, &e, 16), b = strtoull(e + 1, NULL, 16);

        if (strstr(line, path))
            n += b - a;
    }
    fclose(f);
    return n;
}

/* A chunk of the file starts with its own offset in MiB. */
static void put_mark(int fd, uint64_t off)
{
    unsigned char b[8];

    bk_put64(b, off / CS);
    assert_int_equal(pwrite(fd, b, sizeof(b), (off_t)off), sizeof(b));
}

static void test_windows(void **state)
{
    uint64_t win = BK_SRCWIN_BYTES, size = 2 * win + 3 * CS;
    uint64_t offs[] = { 0, 5 * CS, win, 2 * win + 2 * CS };
    struct bk_srcmap sm;
    const unsigned char *m;
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    unlink(path); /* nothing left behind when an assertion fails; the
                   * maps still name it, as "path (deleted)" */
    assert_int_equal(ftruncate(fd, (off_t)size), 0);
    for (size_t i = 0; i < 4; i++)
        put_mark(fd, offs[i]);
    bk_srcmap_init(&sm, fd, size, CS);
    for (size_t i = 0; i < 4; i++)
        bk_srcmap_expect(&sm, offs[i]);
    /* Window 0 has two entries: mapped once, kept after the first. */
    m = bk_srcmap_get(&sm, 0, CS);
    assert_non_null(m);
    assert_int_equal(bk_get64(m), 0);
    bk_srcmap_put(&sm, 0);
    bk_srcmap_done(&sm, 0);
    assert_int_equal(mapped(), win);
    m = bk_srcmap_get(&sm, 5 * CS, CS);
    assert_non_null(m);
    assert_int_equal(bk_get64(m), 5);
    /* Done while still in use: unmapped at the put. */
    bk_srcmap_done(&sm, 5 * CS);
    assert_int_equal(mapped(), win);
    bk_srcmap_put(&sm, 5 * CS);
    assert_int_equal(mapped(), 0);
    /* Across a window boundary: refused (the caller reads instead). */
    assert_null(bk_srcmap_get(&sm, win - CS / 2, CS));
    /* The short last window. */
    m = bk_srcmap_get(&sm, 2 * win + 2 * CS, CS);
    assert_non_null(m);
    assert_int_equal(bk_get64(m), 2 * win / CS + 2);
    bk_srcmap_put(&sm, 2 * win + 2 * CS);
    m = bk_srcmap_get(&sm, win, CS);
    assert_non_null(m);
    assert_int_equal(bk_get64(m), win / CS);
    bk_srcmap_put(&sm, win);
    assert_int_equal(mapped(), win + 3 * CS);
    /* Release unmaps what is left. */
    bk_srcmap_release(&sm);
    assert_int_equal(mapped(), 0);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_windows),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
