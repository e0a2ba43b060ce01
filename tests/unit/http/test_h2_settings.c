/* h2_settings_no_connect(): the server's SETTINGS frame loses RFC
 * 8441's ENABLE_CONNECT_PROTOCOL = 1 (it becomes 0); anything else,
 * including frames that only look alike, is left alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "server/http/h2_settings.h"

/* What lws 4.1.6 sends first on an h2 connection. */
static const unsigned char lws_settings[] = {
    0x00, 0x00, 0x24, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, /* head */
    0x00, 0x01, 0x00, 0x01, 0x00, 0x00, /* HEADER_TABLE_SIZE 65536 */
    0x00, 0x02, 0x00, 0x00, 0x00, 0x00, /* ENABLE_PUSH 0 */
    0x00, 0x03, 0x00, 0x00, 0x00, 0x18, /* MAX_CONCURRENT_STREAMS 24 */
    0x00, 0x04, 0x00, 0x00, 0x00, 0x00, /* INITIAL_WINDOW_SIZE 0 */
    0x00, 0x06, 0x00, 0x00, 0x10, 0x00, /* MAX_HEADER_LIST_SIZE 4096 */
    0x00, 0x08, 0x00, 0x00, 0x00, 0x01, /* ENABLE_CONNECT_PROTOCOL 1 */
};

static void test_patches_the_lws_frame(void **state)
{
    unsigned char f[sizeof(lws_settings)], want[sizeof(lws_settings)];

    (void)state;
    memcpy(f, lws_settings, sizeof(f));
    memcpy(want, lws_settings, sizeof(want));
    want[sizeof(want) - 1] = 0;
    assert_true(h2_settings_wants_patch(f, sizeof(f)));
    assert_int_equal(h2_settings_no_connect(f, sizeof(f)), 1);
    assert_memory_equal(f, want, sizeof(f));
    /* Done once, nothing more to do. */
    assert_false(h2_settings_wants_patch(f, sizeof(f)));
    assert_int_equal(h2_settings_no_connect(f, sizeof(f)), 0);
    assert_memory_equal(f, want, sizeof(f));
}

static void expect_untouched(const unsigned char *p, size_t len)
{
    unsigned char f[128];

    assert_true(len <= sizeof(f));
    memcpy(f, p, len);
    assert_false(h2_settings_wants_patch(f, len));
    assert_int_equal(h2_settings_no_connect(f, len), 0);
    assert_memory_equal(f, p, len);
}

static void test_leaves_everything_else(void **state)
{
    unsigned char f[sizeof(lws_settings) + 6];

    (void)state;
    /* Not the whole frame, or more than it. */
    expect_untouched(lws_settings, sizeof(lws_settings) - 1);
    memcpy(f, lws_settings, sizeof(lws_settings));
    memset(f + sizeof(lws_settings), 0, 6);
    expect_untouched(f, sizeof(f));
    /* Another frame type (DATA), an ACK, a stream other than 0. */
    memcpy(f, lws_settings, sizeof(lws_settings));
    f[3] = 0x0;
    expect_untouched(f, sizeof(lws_settings));
    memcpy(f, lws_settings, sizeof(lws_settings));
    f[4] = 0x1;
    expect_untouched(f, sizeof(lws_settings));
    memcpy(f, lws_settings, sizeof(lws_settings));
    f[8] = 0x1;
    expect_untouched(f, sizeof(lws_settings));
    /* The setting already 0, or another value (not a boolean). */
    memcpy(f, lws_settings, sizeof(lws_settings));
    f[sizeof(lws_settings) - 1] = 0;
    expect_untouched(f, sizeof(lws_settings));
    f[sizeof(lws_settings) - 1] = 2;
    expect_untouched(f, sizeof(lws_settings));
    /* The value 1 under another id, and plain short writes. */
    memcpy(f, lws_settings, sizeof(lws_settings));
    f[sizeof(lws_settings) - 5] = 0x7;
    expect_untouched(f, sizeof(lws_settings));
    expect_untouched(lws_settings, 9);
    expect_untouched((const unsigned char *)"HTTP/1.1 200 OK\r\n", 17);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_patches_the_lws_frame),
        cmocka_unit_test(test_leaves_everything_else),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
