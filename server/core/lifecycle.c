/* NEEDSWORK: reconcile and demo are written with the VM resources. */
#include "server/core/lifecycle.h"

#include "common/log.h"

int reconcile_at_start(struct app *app)
{
    (void)app;
    log_warn("reconcile: not built yet");
    return 0;
}

int demo_populate(struct app *app)
{
    (void)app;
    log_warn("demo: not built yet");
    return 0;
}
