/* cron.c and tzfile.c: parsing, next-run computation at fixed instants
 * (UTC and Europe/Paris across both DST changes, the TZif footer rule
 * beyond the listed transitions), and bad expressions naming their
 * field. Needs tzdata (/usr/share/zoneinfo). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "common/timeutil.h"
#include "server/core/cron.h"
#include "server/core/tzfile.h"

static int64_t ts(const char *s)
{
    int64_t t;

    assert_int_equal(time_parse_rfc3339(s, &t), 0);
    return t;
}

/* The runs of expr in zone after `after` must be want[0..n). */
static void check_runs(const char *expr, const char *zone, const char *after,
                       const char *const *want, size_t n)
{
    struct cron c;
    struct tz *z = NULL;
    int64_t t = ts(after), next;
    char got[21];
    size_t i;

    assert_int_equal(cron_parse(expr, &c, NULL, NULL, 0), 0);
    assert_int_equal(tz_load(NULL, zone, &z), 0);
    for (i = 0; i < n; i++) {
        assert_int_equal(cron_next(&c, z, t, &next), 0);
        time_rfc3339(next, got);
        if (strcmp(got, want[i]) != 0)
            fail_msg("%s in %s after %s: run %zu is %s, want %s", expr, zone,
                     after, i, got, want[i]);
        t = next;
    }
    tz_free(z);
}

#define RUNS(expr, zone, after, ...)                        \
    do {                                                    \
        static const char *const want_[] = { __VA_ARGS__ }; \
        check_runs(expr, zone, after, want_,                \
                   sizeof(want_) / sizeof(want_[0]));       \
    } while (0)

static void test_steps_and_ranges(void **state)
{
    (void)state;
    RUNS("*/15 * * * *", "UTC", "2026-01-01T00:07:00Z", "2026-01-01T00:15:00Z",
         "2026-01-01T00:30:00Z", "2026-01-01T00:45:00Z",
         "2026-01-01T01:00:00Z");
    /* Strictly after: a due instant is not returned again. */
    RUNS("*/15 * * * *", "UTC", "2026-01-01T00:15:00Z", "2026-01-01T00:30:00Z");
    RUNS("0 0 1 * *", "UTC", "2026-01-31T12:00:00Z", "2026-02-01T00:00:00Z",
         "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z");
    RUNS("10-20/5 3 * * *", "UTC", "2026-05-05T00:00:00Z",
         "2026-05-05T03:10:00Z", "2026-05-05T03:15:00Z", "2026-05-05T03:20:00Z",
         "2026-05-06T03:10:00Z");
    RUNS("5/20 * * * *", "UTC", "2026-05-05T00:00:00Z", "2026-05-05T00:05:00Z",
         "2026-05-05T00:25:00Z", "2026-05-05T00:45:00Z",
         "2026-05-05T01:05:00Z");
    RUNS("0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z");
}

static void test_weekdays_paris(void **state)
{
    (void)state;
    /* Friday noon -> Monday 02:00 CET (01:00Z), Tuesday, ... */
    RUNS("0 2 * * 1-5", "Europe/Paris", "2026-11-20T12:00:00Z",
         "2026-11-23T01:00:00Z", "2026-11-24T01:00:00Z", "2026-11-25T01:00:00Z",
         "2026-11-26T01:00:00Z", "2026-11-27T01:00:00Z",
         "2026-11-30T01:00:00Z");
    /* Summer time: 02:00 CEST is 00:00Z. */
    RUNS("0 2 * * 1-5", "Europe/Paris", "2026-07-03T12:00:00Z",
         "2026-07-06T00:00:00Z");
}

static void test_names(void **state)
{
    (void)state;
    RUNS("30 4 * JAN,jul Mon-Wed", "UTC", "2026-06-30T00:00:00Z",
         "2026-07-01T04:30:00Z", "2026-07-06T04:30:00Z", "2026-07-07T04:30:00Z",
         "2026-07-08T04:30:00Z");
    /* Day 7 is Sunday too. */
    RUNS("0 12 * * 7", "UTC", "2026-11-20T00:00:00Z", "2026-11-22T12:00:00Z");
    RUNS("0 12 * * sun", "UTC", "2026-11-20T00:00:00Z", "2026-11-22T12:00:00Z");
}

static void test_dom_dow_or(void **state)
{
    (void)state;
    /* Both restricted: the 13th OR any Friday. */
    RUNS("0 0 13 * 5", "UTC", "2026-11-01T00:00:00Z", "2026-11-06T00:00:00Z",
         "2026-11-13T00:00:00Z", "2026-11-20T00:00:00Z", "2026-11-27T00:00:00Z",
         "2026-12-04T00:00:00Z");
    /* dom starts with '*': both must match (odd days that are Fridays). */
    RUNS("0 0 */2 * 5", "UTC", "2026-11-01T00:00:00Z", "2026-11-13T00:00:00Z",
         "2026-11-27T00:00:00Z");
}

static void test_dst_gap(void **state)
{
    (void)state;
    /* 2026-03-29 02:00 CET -> 03:00 CEST: 02:30 does not exist, so it
     * runs at the first minute after the gap, once. */
    RUNS("30 2 * * *", "Europe/Paris", "2026-03-28T12:00:00Z",
         "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z");
    /* Minutes either side are untouched. */
    RUNS("30 1,3 * * *", "Europe/Paris", "2026-03-28T12:00:00Z",
         "2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z",
         "2026-03-29T23:30:00Z");
    /* Every 15 minutes runs straight through (02:xx just is not). */
    RUNS("*/15 * * * *", "Europe/Paris", "2026-03-29T00:40:00Z",
         "2026-03-29T00:45:00Z", "2026-03-29T01:00:00Z",
         "2026-03-29T01:15:00Z");
}

static void test_dst_overlap(void **state)
{
    (void)state;
    /* 2026-10-25 03:00 CEST -> 02:00 CET: 02:30 happens twice, runs
     * once (the first time, 00:30Z), then 02:30 CET the next day. */
    RUNS("30 2 * * *", "Europe/Paris", "2026-10-24T12:00:00Z",
         "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z");
    /* An hourly job runs every real hour. */
    RUNS("30 * * * *", "Europe/Paris", "2026-10-25T00:00:00Z",
         "2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z",
         "2026-10-25T02:30:00Z");
}

static void test_footer_rule(void **state)
{
    struct tz *z = NULL;

    (void)state;
    /* 2050 is past the transitions listed in the file: the POSIX rule
     * "CET-1CEST,M3.5.0,M10.5.0/3" decides. */
    RUNS("0 12 * * *", "Europe/Paris", "2050-07-01T00:00:00Z",
         "2050-07-01T10:00:00Z");
    RUNS("0 12 * * *", "Europe/Paris", "2050-01-10T00:00:00Z",
         "2050-01-10T11:00:00Z");
    RUNS("30 2 * * *", "Europe/Paris", "2050-03-26T12:00:00Z",
         "2050-03-27T01:00:00Z");
    /* Southern hemisphere: DST across the new year. */
    assert_int_equal(tz_load(NULL, "Australia/Sydney", &z), 0);
    assert_int_equal(tz_offset(z, ts("2050-01-10T00:00:00Z")), 11 * 3600);
    assert_int_equal(tz_offset(z, ts("2050-07-10T00:00:00Z")), 10 * 3600);
    assert_int_equal(tz_offset(z, ts("2026-01-10T00:00:00Z")), 11 * 3600);
    tz_free(z);
}

static void test_bad_expressions(void **state)
{
    static const struct {
        const char *expr, *field;
    } cases[] = {
        { "60 * * * *", "minute" },        { "*/0 * * * *", "minute" },
        { "1-x * * * *", "minute" },       { "* 24 * * *", "hour" },
        { "* 5-3 * * *", "hour" },         { "* * 0 * *", "day of month" },
        { "* * 32 * *", "day of month" },  { "* * * 13 *", "month" },
        { "* * * foo *", "month" },        { "* * * * 8", "day of week" },
        { "* * * * mon-", "day of week" }, { "* * * *", "expression" },
        { "* * * * * *", "expression" },   { "", "expression" },
        { "1,,2 * * * *", "minute" },      { "* * * jan/ *", "month" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cron c;
        const char *field = NULL;
        char msg[128] = "";

        if (cron_parse(cases[i].expr, &c, &field, msg, sizeof(msg)) !=
            ERR_INVALID)
            fail_msg("\"%s\" parsed", cases[i].expr);
        assert_non_null(field);
        if (strcmp(field, cases[i].field) != 0)
            fail_msg("\"%s\": field %s, want %s", cases[i].expr, field,
                     cases[i].field);
        assert_non_null(strstr(msg, cases[i].field));
    }
}

static void test_never(void **state)
{
    struct cron c;
    struct tz *z = NULL;
    int64_t next;

    (void)state;
    assert_int_equal(cron_parse("0 0 31 2 *", &c, NULL, NULL, 0), 0);
    assert_int_equal(tz_load(NULL, "UTC", &z), 0);
    assert_int_equal(cron_next(&c, z, ts("2026-01-01T00:00:00Z"), &next),
                     ERR_NOTFOUND);
    tz_free(z);
}

static void test_zone_names(void **state)
{
    static const char *const bad[] = { "../etc/passwd",
                                       "/etc/localtime",
                                       "Europe/../Paris",
                                       "Europe/",
                                       "Europe//Paris",
                                       "",
                                       ".",
                                       "Europe/Pa ris",
                                       "a;b" };
    struct tz *z = NULL;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (tz_name_valid(bad[i]))
            fail_msg("zone name \"%s\" accepted", bad[i]);
        assert_int_equal(tz_load(NULL, bad[i], &z), ERR_INVALID);
    }
    assert_int_equal(tz_load(NULL, "Nowhere/Atlantis", &z), ERR_NOTFOUND);
    /* A directory is not a zone. */
    assert_int_equal(tz_load(NULL, "Europe", &z), ERR_INVALID);
    assert_true(tz_name_valid("America/Argentina/Buenos_Aires"));
    assert_true(tz_name_valid("Etc/GMT+5"));
}

static void test_bad_tzif(void **state)
{
    static const unsigned char junk[] = "TZif2 not really a zone file....."
                                        "...............";
    struct tz *z = NULL;

    (void)state;
    assert_int_equal(tz_parse(junk, sizeof(junk) - 1, &z), ERR_INVALID);
    assert_int_equal(tz_parse((const unsigned char *)"", 0, &z), ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steps_and_ranges),
        cmocka_unit_test(test_weekdays_paris),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_dom_dow_or),
        cmocka_unit_test(test_dst_gap),
        cmocka_unit_test(test_dst_overlap),
        cmocka_unit_test(test_footer_rule),
        cmocka_unit_test(test_bad_expressions),
        cmocka_unit_test(test_never),
        cmocka_unit_test(test_zone_names),
        cmocka_unit_test(test_bad_tzif),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
