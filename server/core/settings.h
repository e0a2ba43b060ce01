/* settings.h: host settings kept in the settings table.
 */
#ifndef XENITH_SERVER_CORE_SETTINGS_H
#define XENITH_SERVER_CORE_SETTINGS_H

#include <stddef.h>

struct db;

#define SETTINGS_TZ_KEY     "timezone"
#define SETTINGS_TZ_DEFAULT "UTC"

/* The host time zone (an IANA name; "UTC" until set) into out[cap]: the
 * default for backup schedules. */
void settings_timezone(struct db *db, char *out, size_t cap);

/* Whether name is a zone /usr/share/zoneinfo holds (tzfile.h's check
 * and parse). */
int settings_timezone_valid(const char *name);

#endif
