/* api_backup.h: helpers shared by the backup API's handler files
 * (api_backup_*.c) only. */
#ifndef XENITH_SERVER_API_API_BACKUP_H
#define XENITH_SERVER_API_API_BACKUP_H

#include <jansson.h>

#include "server/api/req.h"
#include "server/core/tasks.h"

struct app;
struct bk_snapshot_detail;
struct db_backup_repo;

/* The backup repository named by path parameter 0 into *row (its
 * sealed passphrase included: seal_wipe it), or 400/404 written to r.
 * Sets r's audit target. */
int api_backup_repo_load(struct app *app, struct req *q, struct resp *r,
                         struct db_backup_repo *row);

/* api_body, but an empty body is the empty object (for routes whose
 * fields are all optional). */
int api_backup_body(const struct req *q, struct resp *r,
                    const char *const *allowed, json_t **obj_out);

/* Queue fn(arg) as task kind on target (type, id) for q's user and
 * answer 202 with it; arg is **stolen** (freed by arg_free on every
 * path). */
int api_backup_submit(struct app *app, struct req *q, struct resp *r,
                      const char *kind, const char *target_type,
                      const char *target_id, task_fn fn, void *arg,
                      void (*arg_free)(void *));

/* Publish {"type":"backup","kind":"repository","action","id"}. */
void api_backup_repo_event(struct app *app, const char *action, const char *id);

/* The VM id in snapshot d's VM config into out[37] and returned, or
 * NULL (out "") when it has none. */
const char *api_backup_snapshot_vm(const struct bk_snapshot_detail *d,
                                   char out[37]);

/* The API object of snapshot d of repository repo_id. **new** */
json_t *api_backup_snapshot_json(const char *repo_id,
                                 const struct bk_snapshot_detail *d);

#endif
