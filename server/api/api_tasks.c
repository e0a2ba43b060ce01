#include "server/api/api.h"

#include <stdlib.h>

#include "common/err.h"
#include "db/db_tasks.h"
#include "server/api/api_util.h"
#include "server/core/app.h"
#include "server/core/tasks.h"

int api_tasks_list(struct app *app, struct req *q, struct resp *r)
{
    struct db_task *list = NULL;
    size_t i, num = 0;
    json_t *arr;
    char lim[16];
    long limit = 200;
    int rc;

    if (req_query(q, "limit", lim, sizeof(lim)) == 0) {
        char *end;

        limit = strtol(lim, &end, 10);
        if (*end || limit < 1 || limit > 1000)
            return api_error(r, ERR_INVALID, "limit",
                             "limit must be between 1 and 1000");
    }
    rc = db_task_list(app->db, (size_t)limit, &list, &num);
    if (rc)
        return rc;
    arr = json_array();
    for (i = 0; i < num; i++) {
        json_array_append_new(arr, task_to_json(&list[i]));
        db_task_release(&list[i]);
    }
    free(list);
    return api_json(r, 200, arr);
}

int api_task_get(struct app *app, struct req *q, struct resp *r)
{
    struct db_task t;
    const char *id;
    int rc;

    if (api_param_uuid(q, r, 0, &id))
        return ERR_INVALID;
    rc = db_task_get(app->db, id, &t);
    if (rc)
        return api_error(r, rc, NULL, "task %s: %s", id, err_str(rc));
    api_json(r, 200, task_to_json(&t));
    db_task_release(&t);
    return 0;
}

int api_task_cancel(struct app *app, struct req *q, struct resp *r)
{
    const char *id;
    int rc;

    if (api_param_uuid(q, r, 0, &id))
        return ERR_INVALID;
    rc = tasks_cancel(app->tasks, id);
    if (rc == ERR_CONFLICT)
        return api_error(r, rc, NULL, "task %s has already finished", id);
    if (rc)
        return api_error(r, rc, NULL, "task %s: %s", id, err_str(rc));
    return api_task_accepted(app, r, id);
}
