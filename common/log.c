#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level log_min = LOG_INFO;
static char log_prog[32] = "xenith";

void log_init(const char *prog)
{
    const char *dbg = getenv("XENITH_DEBUG");

    if (prog)
        snprintf(log_prog, sizeof(log_prog), "%s", prog);
    if (dbg && *dbg && strcmp(dbg, "0"))
        log_min = LOG_DEBUG;
}

void log_set_level(enum log_level lvl)
{
    log_min = lvl;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    static const char *const names[] = { "DEBUG", "INFO", "WARN", "ERROR" };
    char line[2048];
    struct tm tm;
    time_t now;
    va_list ap;
    int n, m;

    if (lvl < log_min)
        return;
    now = time(NULL);
    gmtime_r(&now, &tm);
    n = snprintf(line, sizeof(line),
                 "%04d-%02d-%02dT%02d:%02d:%02dZ %s[%d] %s ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 log_prog, (int)getpid(), names[lvl]);
    va_start(ap, fmt);
    m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += m;
    if (n > (int)sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    if (write(STDERR_FILENO, line, (size_t)n) < 0)
        return;
}
