/* api_audit.c: read and verify the audit log (admin only, by
 * routes.c). There is no route that changes it. */
#include "server/api/api.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "db/db_audit.h"
#include "server/api/api_util.h"
#include "server/core/app.h"
#include "server/core/auth.h"

static json_t *audit_json(const struct db_audit *a)
{
    return json_pack("{s:I, s:o, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s}",
                     "seq", (json_int_t)a->seq, "ts", api_time(a->ts),
                     "username", a->username, "source", a->source, "method",
                     a->method, "path", a->path, "target", a->target, "status",
                     a->status, "prev_hash", a->prev_hash, "hash", a->hash);
}

/* Query parameter name as an integer in [min, max] into *out (left
 * alone when absent); 0 or an error naming it. */
static int query_int(const struct req *q, struct resp *r, const char *name,
                     long long min, long long max, long long *out)
{
    char v[24], *end;
    long long n;
    int rc = req_query(q, name, v, sizeof(v));

    if (rc == ERR_NOTFOUND)
        return 0;
    if (rc == 0) {
        n = strtoll(v, &end, 10);
        if (v[0] && !*end && n >= min && n <= max) {
            *out = n;
            return 0;
        }
    }
    return api_error(r, ERR_INVALID, name,
                     "%s must be an integer between %lld and %lld", name, min,
                     max);
}

int api_audit_list(struct app *app, struct req *q, struct resp *r)
{
    struct db_audit *list = NULL;
    long long limit = 100, before = 0;
    char user[65];
    size_t i, num = 0;
    json_t *arr;
    int rc, has_user;

    if (query_int(q, r, "limit", 1, 1000, &limit) ||
        query_int(q, r, "before", 1, INT64_MAX, &before))
        return ERR_INVALID;
    rc = req_query(q, "user", user, sizeof(user));
    has_user = rc == 0;
    if ((rc && rc != ERR_NOTFOUND) ||
        (has_user && strcmp(user, "-") && auth_username_check(user)))
        return api_error(r, ERR_INVALID, "user", "user is not a username");
    rc = db_audit_list(app->db, (size_t)limit, before, has_user ? user : NULL,
                       &list, &num);
    if (rc)
        return api_error(r, rc, NULL, "cannot read the audit log: %s",
                         err_str(rc));
    arr = json_array();
    for (i = 0; i < num; i++)
        json_array_append_new(arr, audit_json(&list[i]));
    free(list);
    return api_json(r, 200, arr);
}

int api_audit_verify(struct app *app, struct req *q, struct resp *r)
{
    int64_t first_bad = 0, rows = 0;
    int ok = 0, rc;

    (void)q;
    rc = db_audit_verify(app->db, &ok, &first_bad, &rows);
    if (rc)
        return api_error(r, rc, NULL, "cannot read the audit log: %s",
                         err_str(rc));
    if (ok)
        return api_json(
            r, 200, json_pack("{s:b, s:I}", "ok", 1, "rows", (json_int_t)rows));
    return api_json(r, 200,
                    json_pack("{s:b, s:I, s:I}", "ok", 0, "first_bad_seq",
                              (json_int_t)first_bad, "rows", (json_int_t)rows));
}
