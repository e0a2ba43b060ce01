/* cron.h: 5-field cron expressions (minute hour day-of-month month
 * day-of-week) as Vixie cron reads them: "*", numbers, lists "1,5",
 * ranges "1-5", steps "*\/15" and "1-30/2" (and "5/10" = 5-max/10),
 * month names jan..dec and day names sun..sat (any case), day of week
 * 0-7 (0 and 7 are Sunday). When both day fields are restricted (neither
 * starts with '*'), a day matches if EITHER matches; otherwise both must.
 *
 * Next-run times are computed in an IANA zone (tzfile.h) in local wall
 * time. A local time that does not exist (a DST gap) runs at the first
 * minute after the gap; a local time that happens twice (a DST overlap)
 * runs once, at its first occurrence, unless the hour field is "*" (an
 * hourly job keeps running every real hour). Pure functions, thread safe.
 */
#ifndef XENITH_SERVER_CORE_CRON_H
#define XENITH_SERVER_CORE_CRON_H

#include <stddef.h>
#include <stdint.h>

struct tz;

struct cron {
    uint64_t minute; /* bit n: minute n (0..59) */
    uint32_t hour;   /* 0..23 */
    uint32_t dom;    /* 1..31 */
    uint32_t month;  /* 1..12 */
    uint32_t dow;    /* 0..6, Sunday 0 */
    int dom_star, dow_star, hour_star;
};

/* Parse expr. 0, or ERR_INVALID with *field_out (may be NULL) set to
 * the offending field's name ("minute", "hour", "day of month",
 * "month", "day of week", or "expression" for a wrong field count) and
 * msg[cap] a sentence naming it. */
int cron_parse(const char *expr, struct cron *out, const char **field_out,
               char *msg, size_t cap);

/* The first run strictly after instant `after` (epoch seconds) in zone
 * z, into *next_out. ERR_NOTFOUND when none within 8 years (e.g. 31
 * February). */
int cron_next(const struct cron *c, const struct tz *z, int64_t after,
              int64_t *next_out);

#endif
