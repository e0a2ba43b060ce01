/* nul_guard_scan(): "%00" in a request line becomes "%0g" (which lws
 * refuses through the path xenithd answers); nothing after the line's
 * end, nothing while the guard is off, and a "%00" split across reads
 * is still found. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "server/http/nul_guard.h"

static void scan(struct nul_guard *g, char *s)
{
    nul_guard_scan(g, (unsigned char *)s, strlen(s));
}

static void test_line_only(void **state)
{
    struct nul_guard g = { .on = 1 };
    char req[] = "GET /a%00b?c=%00 HTTP/1.1\r\nReferer: /x%00\r\n\r\n";

    (void)state;
    scan(&g, req);
    assert_string_equal(req,
                        "GET /a%0gb?c=%0g HTTP/1.1\r\nReferer: /x%00\r\n\r\n");
    assert_int_equal(g.on, 0);
}

static void test_split_across_reads(void **state)
{
    struct nul_guard g = { .on = 1 };
    char a[] = "GET /x%", b[] = "0", c[] = "0 HTTP/1.1\r\n";

    (void)state;
    scan(&g, a);
    scan(&g, b);
    scan(&g, c);
    assert_string_equal(a, "GET /x%");
    assert_string_equal(b, "0");
    assert_string_equal(c, "g HTTP/1.1\r\n");
    assert_int_equal(g.on, 0);
}

static void test_other_escapes_alone(void **state)
{
    struct nul_guard g = { .on = 1 };
    char req[] = "GET /%100%%00%000%0a0 HTTP/1.1\r\n";

    (void)state;
    scan(&g, req);
    assert_string_equal(req, "GET /%100%%0g%0g0%0a0 HTTP/1.1\r\n");
}

static void test_off_changes_nothing(void **state)
{
    struct nul_guard g = { 0 };
    char body[] = "GET /a%00 HTTP/1.1\r\n";

    (void)state;
    scan(&g, body);
    assert_string_equal(body, "GET /a%00 HTTP/1.1\r\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_only),
        cmocka_unit_test(test_split_across_reads),
        cmocka_unit_test(test_other_escapes_alone),
        cmocka_unit_test(test_off_changes_nothing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
