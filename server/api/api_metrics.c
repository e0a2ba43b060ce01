/* api_metrics.c: GET /metrics in the Prometheus text format (0.0.4).
 * Any authenticated caller (VIEW role); Prometheus sends a Bearer
 * token. Each family is written by one function below; VM and SR
 * metrics go into metrics_hv() (see the NEEDSWORK there). */
#include "server/api/api.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/timeutil.h"
#include "db/db_audit.h"
#include "db/db_sessions.h"
#include "db/db_stats.h"
#include "db/db_users.h"
#include "server/api/api_util.h"
#include "server/core/app.h"

/* One gauge without labels, with its HELP and TYPE lines. */
static void metric_gauge(struct buf *b, const char *name, const char *help,
                         int64_t v)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %" PRId64 "\n", name, help,
               name, name, v);
}

static int metrics_core(struct app *app, struct buf *b)
{
    int64_t users = 0, sessions = 0, audit = 0, now = time_now();
    int rc;

    rc = db_user_count(app->db, NULL, &users);
    if (!rc)
        rc = db_session_count_active(app->db, now,
                                     now - app->cfg.session_idle_s, &sessions);
    if (!rc)
        rc = db_audit_count(app->db, &audit);
    if (rc)
        return rc;
    metric_gauge(b, "xenith_up", "1 while xenithd answers.", 1);
    metric_gauge(b, "xenith_users", "Number of user accounts.", users);
    metric_gauge(b, "xenith_sessions_active",
                 "Browser sessions neither expired nor idle.", sessions);
    metric_gauge(b, "xenith_audit_rows", "Rows in the audit log.", audit);
    return 0;
}

static int metrics_tasks(struct app *app, struct buf *b)
{
    static const char *const statuses[] = { "pending",   "running",
                                            "success",   "failure",
                                            "cancelled", "interrupted" };
    struct db_count *list = NULL;
    size_t i, j, num = 0;
    int rc;

    rc = db_stats_tasks(app->db, &list, &num);
    if (rc)
        return rc;
    buf_puts(b, "# HELP xenith_tasks Tasks kept in the database, by status."
                "\n# TYPE xenith_tasks gauge\n");
    for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        int64_t n = 0;

        for (j = 0; j < num; j++)
            if (!strcmp(list[j].key, statuses[i]))
                n = list[j].count;
        buf_printf(b, "xenith_tasks{status=\"%s\"} %" PRId64 "\n", statuses[i],
                   n);
    }
    free(list);
    return 0;
}

/* NEEDSWORK: VM and SR metrics (xenith_vms{state=...}, per-VM CPU and
 * memory, SR size/used/free) belong here, written with metric_gauge()
 * or the labelled shape of metrics_tasks(). */
static int metrics_hv(struct app *app, struct buf *b)
{
    (void)app;
    (void)b;
    return 0;
}

int api_metrics(struct app *app, struct req *q, struct resp *r)
{
    struct buf b = BUF_INIT;
    int rc;

    (void)q;
    rc = metrics_core(app, &b);
    if (!rc)
        rc = metrics_tasks(app, &b);
    if (!rc)
        rc = metrics_hv(app, &b);
    if (rc) {
        buf_release(&b);
        return api_error(r, rc, NULL, "cannot collect metrics: %s",
                         err_str(rc));
    }
    buf_reset(&r->body);
    buf_append(&r->body, b.data, b.len);
    buf_release(&b);
    r->status = 200;
    r->content_type = "text/plain; version=0.0.4";
    return 0;
}
