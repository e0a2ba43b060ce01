#include "server/api/api_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/timeutil.h"
#include "common/uuid.h"
#include "db/db_tasks.h"
#include "server/core/app.h"
#include "server/core/tasks.h"

int api_error(struct resp *r, int err, const char *field, const char *fmt, ...)
{
    char msg[512];
    json_t *e;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    e = json_pack("{s:s, s:s}", "code", err_code(err), "message", msg);
    if (field)
        json_object_set_new(e, "field", json_string(field));
    api_json(r, err_http_status(err), json_pack("{s:o}", "error", e));
    return err;
}

int api_json(struct resp *r, int status, json_t *obj)
{
    char *s = json_dumps(obj, JSON_COMPACT);

    json_decref(obj);
    buf_reset(&r->body);
    if (s) {
        buf_puts(&r->body, s);
        free(s);
    }
    r->status = status;
    r->content_type = "application/json";
    return 0;
}

int api_task_accepted(struct app *app, struct resp *r, const char *task_id)
{
    struct db_task t;
    char loc[80];
    int rc = db_task_get(app->db, task_id, &t);

    if (rc)
        return api_error(r, rc, NULL, "task %s: %s", task_id, err_str(rc));
    snprintf(loc, sizeof(loc), "/api/v1/tasks/%s", task_id);
    resp_header(r, "Location", loc);
    api_json(r, 202, task_to_json(&t));
    db_task_release(&t);
    return 0;
}

int api_body(const struct req *q, struct resp *r, const char *const *allowed,
             json_t **obj_out)
{
    json_error_t jerr;
    const char *key;
    json_t *obj, *val;

    if (!q->body || q->body_len == 0)
        return api_error(r, ERR_BADJSON, NULL,
                         "a JSON object body is required");
    obj = json_loadb(q->body, q->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!obj)
        return api_error(r, ERR_BADJSON, NULL, "bad JSON at line %d: %s",
                         jerr.line, jerr.text);
    if (!json_is_object(obj)) {
        json_decref(obj);
        return api_error(r, ERR_BADJSON, NULL,
                         "the body must be a JSON object");
    }
    json_object_foreach(obj, key, val) {
        const char *const *a;

        for (a = allowed; *a; a++)
            if (!strcmp(*a, key))
                break;
        if (!*a) {
            api_error(r, ERR_INVALID, key, "unknown field '%.64s'", key);
            json_decref(obj);
            return ERR_INVALID;
        }
    }
    *obj_out = obj;
    return 0;
}

static int api_has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

int api_get_str(struct resp *r, json_t *obj, const char *key, int required,
                size_t min_len, size_t max_len, const char **out)
{
    json_t *v = json_object_get(obj, key);
    size_t len;

    if (!v) {
        if (required)
            return api_error(r, ERR_INVALID, key, "%s is required", key);
        return 0;
    }
    if (!json_is_string(v))
        return api_error(r, ERR_INVALID, key, "%s must be a string", key);
    len = json_string_length(v);
    if (len < min_len || len > max_len)
        return api_error(r, ERR_INVALID, key,
                         "%s must be %zu to %zu characters long", key, min_len,
                         max_len);
    if (strlen(json_string_value(v)) != len ||
        api_has_ctl(json_string_value(v)))
        return api_error(r, ERR_INVALID, key,
                         "%s must not contain control characters", key);
    *out = json_string_value(v);
    return 1;
}

int api_get_int(struct resp *r, json_t *obj, const char *key, int required,
                int64_t min, int64_t max, int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    int64_t n;

    if (!v) {
        if (required)
            return api_error(r, ERR_INVALID, key, "%s is required", key);
        return 0;
    }
    if (!json_is_integer(v))
        return api_error(r, ERR_INVALID, key, "%s must be an integer", key);
    n = json_integer_value(v);
    if (n < min || n > max)
        return api_error(r, ERR_INVALID, key,
                         "%s must be between %lld and %lld", key,
                         (long long)min, (long long)max);
    *out = n;
    return 1;
}

int api_get_bool(struct resp *r, json_t *obj, const char *key, int required,
                 int *out)
{
    json_t *v = json_object_get(obj, key);

    if (!v) {
        if (required)
            return api_error(r, ERR_INVALID, key, "%s is required", key);
        return 0;
    }
    if (!json_is_boolean(v))
        return api_error(r, ERR_INVALID, key, "%s must be true or false", key);
    *out = json_is_true(v);
    return 1;
}

int api_param_uuid(const struct req *q, struct resp *r, size_t i,
                   const char **out)
{
    if (i >= q->num_params || !uuid_valid(q->params[i]))
        return api_error(r, ERR_INVALID, "id",
                         "the id in the path is not a UUID");
    *out = q->params[i];
    return 0;
}

json_t *api_time(int64_t t)
{
    char buf[21];

    if (!t)
        return json_null();
    time_rfc3339(t, buf);
    return json_string(buf);
}

int api_check_name(struct resp *r, const char *field, const char *name)
{
    size_t i, len = strlen(name);

    if (len < 1 || len > 64 || name[0] == ' ')
        return api_error(r, ERR_INVALID, field, "%s must be 1 to 64 characters",
                         field);
    for (i = 0; i < len; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == ' ' || c == '.' || c == '_' ||
              c == '-'))
            return api_error(r, ERR_INVALID, field,
                             "%s may hold letters, digits, space, '.', '_' "
                             "and '-' only",
                             field);
    }
    return 0;
}
