#include "server/api/api_vm_util.h"

#include "common/err.h"
#include "db/db_vms.h"
#include "server/api/api_util.h"
#include "server/core/app.h"
#include "server/core/vmstate.h"

int api_vm_load(struct app *app, const struct req *q, struct resp *r,
                struct db_vm *vm_out)
{
    const char *id;
    int rc;

    rc = api_param_uuid(q, r, 0, &id);
    if (rc)
        return rc;
    rc = db_vm_get(app->db, id, vm_out);
    if (rc == ERR_NOTFOUND)
        return api_error(r, rc, NULL, "no vm %s", id);
    if (rc)
        return api_error(r, rc, NULL, "vm %s: %s", id, err_str(rc));
    return 0;
}

int api_vm_state_conflict(struct resp *r, const struct db_vm *vm)
{
    return api_error(r, ERR_CONFLICT, "state", "vm is %s", vm->state);
}

int api_vm_claim(struct resp *r, const char *vm_id)
{
    if (vmstate_claim(vm_id))
        return api_error(r, ERR_CONFLICT, NULL,
                         "a task is already running for this vm");
    return 0;
}

int api_no_content(struct resp *r)
{
    buf_reset(&r->body);
    r->status = 204;
    r->content_type = NULL;
    return 0;
}
