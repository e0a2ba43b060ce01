/* timeutil.h: clocks and RFC 3339 formatting. Thread safe. */
#ifndef XENITH_COMMON_TIMEUTIL_H
#define XENITH_COMMON_TIMEUTIL_H

#include <stdint.h>

/* Seconds since the epoch (CLOCK_REALTIME). */
int64_t time_now(void);

/* Monotonic milliseconds, for timeouts and rates. */
int64_t time_mono_ms(void);

/* "2026-11-22T01:34:11Z" into out[21]; t in epoch seconds. */
void time_rfc3339(int64_t t, char out[21]);

/* Parse "YYYY-MM-DDTHH:MM:SSZ" (UTC only); 0 or ERR_INVALID. */
int time_parse_rfc3339(const char *s, int64_t *t_out);

/* Sleep for ms milliseconds (restarts on EINTR). */
void time_sleep_ms(int64_t ms);

#endif
