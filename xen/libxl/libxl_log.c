/* libxl_log.c: libxl's xentoollog messages, forwarded to our log. */
#include "xen/libxl/libxl_priv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xentoollog.h>

#include "common/log.h"
#include "common/xalloc.h"

static void lx_vmessage(xentoollog_logger *lg, xentoollog_level level,
                        int errnoval, const char *context, const char *format,
                        va_list al)
{
    char msg[1024];
    enum log_level lvl;

    (void)lg;
    if (level < XTL_DETAIL)
        return; /* debug chatter */
    if (level >= XTL_ERROR)
        lvl = LOG_ERROR;
    else if (level >= XTL_WARN)
        lvl = LOG_WARN;
    else if (level >= XTL_INFO)
        lvl = LOG_INFO;
    else
        lvl = LOG_DEBUG;
    vsnprintf(msg, sizeof(msg), format, al);
    /* The VNC password travels to qemu in a QMP command (logged by libxl
     * at debug level, dropped above): never let one through. */
    if (strcasestr(msg, "password") || strcasestr(msg, "passwd"))
        xstrlcpy(msg, "(a message naming a password, withheld)", sizeof(msg));
    if (errnoval >= 0)
        log_msg(lvl, "libxl: %s: %s: %s", context ? context : "-", msg,
                strerror(errnoval));
    else
        log_msg(lvl, "libxl: %s: %s", context ? context : "-", msg);
}

static void lx_logger_destroy(xentoollog_logger *lg)
{
    free(lg);
}

xentoollog_logger *lx_logger_new(void)
{
    xentoollog_logger *lg = xcalloc(1, sizeof(*lg));

    lg->vmessage = lx_vmessage;
    lg->destroy = lx_logger_destroy;
    return lg;
}
