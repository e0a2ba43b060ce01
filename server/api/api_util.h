/* api_util.h: JSON in and out for handlers, and the one place errors
 * become {"error":{"code":...,"message":...,"field":...}}.
 */
#ifndef XENITH_SERVER_API_API_UTIL_H
#define XENITH_SERVER_API_API_UTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "server/api/req.h"

struct app;
struct db_disk;

/* Fill r with an error body; returns err so handlers can
 * `return api_error(r, ERR_INVALID, "name", "name is too long");`.
 * field may be NULL. */
int api_error(struct resp *r, int err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Fill r with status and obj serialized (obj **stolen**). Returns 0. */
int api_json(struct resp *r, int status, json_t *obj);

/* 202 with a task object (loaded from the DB) and Location header. */
int api_task_accepted(struct app *app, struct resp *r, const char *task_id);

/* Parse q's body as a JSON object whose keys are all in allowed
 * (NULL-terminated). Errors (400 bad_json / not an object / unknown
 * field naming it) are written to r. *obj_out **new**. */
int api_body(const struct req *q, struct resp *r, const char *const *allowed,
             json_t **obj_out);

/* Typed field getters. Return 1 if present and valid (value in *out),
 * 0 if absent and !required, or an error written to r naming the field.
 * Strings: length in [min_len, max_len], no control characters; *out
 * **borrowed** from obj. */
int api_get_str(struct resp *r, json_t *obj, const char *key, int required,
                size_t min_len, size_t max_len, const char **out);
int api_get_int(struct resp *r, json_t *obj, const char *key, int required,
                int64_t min, int64_t max, int64_t *out);
int api_get_bool(struct resp *r, json_t *obj, const char *key, int required,
                 int *out);

/* Path parameter i that must be a UUID; 0 or ERR_INVALID (field "id")
 * written to r. */
int api_param_uuid(const struct req *q, struct resp *r, size_t i,
                   const char **out);

/* RFC 3339 string or JSON null for t == 0. **new** */
json_t *api_time(int64_t t);

/* Validate a name: 1..64 chars of [A-Za-z0-9 ._-], not starting with a
 * space; 0 or error written to r naming field. */
int api_check_name(struct resp *r, const char *field, const char *name);

/* The API object of disk d (used_bytes from its image in the SR at
 * sr_path; null when sr_path is NULL or the image is unreadable).
 * **new** */
json_t *api_disk_json(const struct db_disk *d, const char *sr_path);

#endif
