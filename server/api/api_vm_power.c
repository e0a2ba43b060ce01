/* NEEDSWORK: not built yet; every handler here answers 501. */
#include "server/api/api.h"

#include "common/err.h"
#include "server/api/api_util.h"

int api_vm_start(struct app *app, struct req *q, struct resp *r)
{
    (void)app;
    return api_error(r, ERR_UNSUPPORTED, NULL, "%s %s is not built yet",
                     q->method, q->path);
}

int api_vm_shutdown(struct app *app, struct req *q, struct resp *r)
{
    (void)app;
    return api_error(r, ERR_UNSUPPORTED, NULL, "%s %s is not built yet",
                     q->method, q->path);
}

int api_vm_reboot(struct app *app, struct req *q, struct resp *r)
{
    (void)app;
    return api_error(r, ERR_UNSUPPORTED, NULL, "%s %s is not built yet",
                     q->method, q->path);
}

int api_vm_pause(struct app *app, struct req *q, struct resp *r)
{
    (void)app;
    return api_error(r, ERR_UNSUPPORTED, NULL, "%s %s is not built yet",
                     q->method, q->path);
}

int api_vm_resume(struct app *app, struct req *q, struct resp *r)
{
    (void)app;
    return api_error(r, ERR_UNSUPPORTED, NULL, "%s %s is not built yet",
                     q->method, q->path);
}

int api_vm_suspend(struct app *app, struct req *q, struct resp *r)
{
    (void)app;
    return api_error(r, ERR_UNSUPPORTED, NULL, "%s %s is not built yet",
                     q->method, q->path);
}

int api_vm_destroy(struct app *app, struct req *q, struct resp *r)
{
    (void)app;
    return api_error(r, ERR_UNSUPPORTED, NULL, "%s %s is not built yet",
                     q->method, q->path);
}

int api_vm_stats(struct app *app, struct req *q, struct resp *r)
{
    (void)app;
    return api_error(r, ERR_UNSUPPORTED, NULL, "%s %s is not built yet",
                     q->method, q->path);
}
