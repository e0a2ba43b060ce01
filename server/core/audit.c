/* NEEDSWORK: the hash-chained audit log is being written. */
#include "server/core/audit.h"

void audit_record(struct app *app, const struct req *q, const struct resp *r)
{
    (void)app;
    (void)q;
    (void)r;
}
