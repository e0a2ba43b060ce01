/* tzfile.h: IANA time zones read from /usr/share/zoneinfo (TZif v1-v4,
 * RFC 8536) without touching the process's TZ (setenv/tzset are not
 * thread safe). A struct tz answers "what is the UTC offset at this
 * instant" and "when does the offset change around it", including the
 * POSIX TZ footer rule for instants after the last listed transition.
 * Leap-second records are ignored (POSIX time). A loaded tz is
 * read-only, so one may be shared between threads.
 */
#ifndef XENITH_SERVER_CORE_TZFILE_H
#define XENITH_SERVER_CORE_TZFILE_H

#include <stddef.h>
#include <stdint.h>

struct tz;

/* Whether name is an acceptable zone name: 1..127 characters of
 * [A-Za-z0-9_+-/], no leading '/', no "." or ".." component. */
int tz_name_valid(const char *name);

/* Load zone name from dir (NULL: /usr/share/zoneinfo). "UTC" works even
 * without tzdata. ERR_INVALID for a bad name or a file that is not
 * TZif, ERR_NOTFOUND when there is no such zone. *tz_out **new**. */
int tz_load(const char *dir, const char *name, struct tz **tz_out);

/* Parse a TZif image in memory (for tests). *tz_out **new**. */
int tz_parse(const unsigned char *data, size_t len, struct tz **tz_out);

void tz_free(struct tz *z); /* NULL ok */

/* The zone's UTC offset (seconds east) at instant t (epoch seconds). */
int32_t tz_offset(const struct tz *z, int64_t t);

/* The offset changes around t: *since_out = the latest change <= t
 * (INT64_MIN when none), *next_out = the earliest change > t
 * (INT64_MAX when none). A "change" may keep the offset (a new
 * abbreviation only). */
void tz_changes(const struct tz *z, int64_t t, int64_t *since_out,
                int64_t *next_out);

/* Civil calendar helpers (proleptic Gregorian, UTC). */
int64_t tz_days_from_civil(int64_t y, int m, int d);
void tz_civil_from_days(int64_t days, int64_t *y_out, int *m_out, int *d_out);

#endif
