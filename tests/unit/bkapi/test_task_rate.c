/* task_rate_eta: bytes/s over the elapsed time and whole seconds left,
 * rounded up; unknown (-1) before any byte or any time has passed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "server/core/tasks.h"

static void check(uint64_t done, uint64_t total, int64_t ms, int64_t rate,
                  int64_t eta)
{
    int64_t r = -5, e = -5;

    task_rate_eta(done, total, ms, &r, &e);
    assert_int_equal(r, rate);
    assert_int_equal(e, eta);
}

static void test_rate_eta(void **state)
{
    (void)state;
    check(0, 1000, 500, 0, -1);       /* nothing done: unknown */
    check(100, 1000, 0, 0, -1);       /* no time yet */
    check(1000, 4000, 1000, 1000, 3); /* 1000 B/s, 3000 left */
    check(1000, 4001, 1000, 1000, 4); /* rounded up */
    check(1000, 1000, 250, 4000, 0);  /* done */
    check(3, 10, 2000, 1, 5);         /* 1.5 B/s: rate 1, eta ceil(7 / 1.5) */
    check(1, 10, 2000, 0, -1);        /* under 1 B/s: unknown */
    check(500, 100, 1000, 500, -1);   /* total below done */
    check(10ull << 30, 20ull << 30, 2000, 5ll << 30, 2); /* 5 GiB/s */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate_eta),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
