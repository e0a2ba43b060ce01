/* log.h: one line per event to stderr.
 *
 * Format: "2026-11-22T01:34:11Z xenithd[pid] LEVEL message\n", written
 * with a single write(2) so lines from threads never interleave.
 * Never pass secrets (passwords, tokens, keys) to these functions.
 * Thread safe.
 */
#ifndef XENITH_COMMON_LOG_H
#define XENITH_COMMON_LOG_H

enum log_level {
    LOG_DEBUG = 0,
    LOG_INFO = 1,
    LOG_WARN = 2,
    LOG_ERROR = 3,
};

/* Set the minimum level printed (default LOG_INFO; XENITH_DEBUG=1 env
 * turns on LOG_DEBUG at log_init()). */
void log_init(const char *prog);
void log_set_level(enum log_level lvl);

void log_msg(enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
