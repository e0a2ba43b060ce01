#include "server/core/audit.h"

#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/xalloc.h"
#include "db/db_audit.h"
#include "server/core/app.h"

void audit_record_as(struct app *app, const struct req *q, const struct resp *r,
                     const char *username)
{
    struct db_audit a;
    const char *target = "";
    int rc;

    memset(&a, 0, sizeof(a));
    a.ts = time_now();
    xstrlcpy(a.username, username && *username ? username : "-",
             sizeof(a.username));
    xstrlcpy(a.source, q->peer[0] ? q->peer : "-", sizeof(a.source));
    xstrlcpy(a.method, q->method, sizeof(a.method));
    xstrlcpy(a.path, q->path, sizeof(a.path));
    if (r->audit_target[0])
        target = r->audit_target;
    else if (q->num_params > 0)
        target = q->params[0];
    xstrlcpy(a.target, target, sizeof(a.target));
    a.status = r->status;
    rc = db_audit_append(app->db, &a);
    if (rc)
        log_error("audit: cannot record %s %s by %s: %s", a.method, a.path,
                  a.username, err_str(rc));
}

void audit_record(struct app *app, const struct req *q, const struct resp *r)
{
    audit_record_as(app, q, r, q->who.username);
}
