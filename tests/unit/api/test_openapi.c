/* docs/openapi.json (as embedded in the binary) and the route table
 * api_routes[] describe the same API: the same (method, path) pairs
 * both ways, each operation's x-min-role equal to the route's min_role,
 * x-websocket exactly on ROUTE_WEBSOCKET routes, every {param} of a
 * path declared as a UUID path parameter. Every mismatch is printed.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "server/api/api_openapi.h"
#include "server/api/router.h"

static const char *const methods[] = { "get",    "post", "put",     "patch",
                                       "delete", "head", "options", NULL };

static const char *role_name(enum role r)
{
    switch (r) {
    case ROLE_NONE:
        return "public";
    case ROLE_VIEWER:
        return "viewer";
    case ROLE_OPERATOR:
        return "operator";
    case ROLE_ADMIN:
        return "admin";
    }
    return "?";
}

static void lower(const char *s, char *out, size_t cap)
{
    size_t i;

    for (i = 0; s[i] && i + 1 < cap; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[i] = '\0';
}

static json_t *load_doc(void)
{
    json_error_t jerr;
    json_t *doc = json_loadb(openapi_doc, openapi_doc_len, 0, &jerr);

    if (!doc)
        fprintf(stderr, "openapi.json line %d: %s\n", jerr.line, jerr.text);
    assert_non_null(doc);
    assert_true(json_is_object(doc));
    return doc;
}

static json_t *doc_op(json_t *doc, const char *method, const char *path)
{
    char m[16];

    lower(method, m, sizeof(m));
    return json_object_get(json_object_get(json_object_get(doc, "paths"), path),
                           m);
}

/* Is {name} declared as a required UUID path parameter of op or its
 * path item? */
static int has_uuid_param(json_t *doc, json_t *item, json_t *op,
                          const char *name)
{
    json_t *lists[2] = { json_object_get(op, "parameters"),
                         json_object_get(item, "parameters") };
    size_t i, j;
    json_t *p;

    for (i = 0; i < 2; i++) {
        json_array_foreach(lists[i], j, p) {
            json_t *s = json_object_get(p, "schema");
            const char *ref = json_string_value(json_object_get(s, "$ref"));

            if (strcmp(json_string_value(json_object_get(p, "name")) ?: "",
                       name) ||
                strcmp(json_string_value(json_object_get(p, "in")) ?: "",
                       "path"))
                continue;
            if (ref && !strncmp(ref, "#/components/schemas/", 21))
                s = json_object_get(
                    json_object_get(json_object_get(doc, "components"),
                                    "schemas"),
                    ref + 21);
            return json_is_true(json_object_get(p, "required")) &&
                   !strcmp(json_string_value(json_object_get(s, "format"))
                               ?: "",
                           "uuid");
        }
    }
    return 0;
}

/* Check one route against its operation; returns the mismatches. */
static int check_route(json_t *doc, const struct route *rt)
{
    json_t *item = json_object_get(json_object_get(doc, "paths"), rt->pattern);
    json_t *op = doc_op(doc, rt->method, rt->pattern);
    const char *role, *p;
    int ws, bad = 0;

    if (!op) {
        fprintf(stderr, "MISSING in openapi.json: %s %s\n", rt->method,
                rt->pattern);
        return 1;
    }
    role = json_string_value(json_object_get(op, "x-min-role"));
    if (!role || strcmp(role, role_name(rt->min_role))) {
        fprintf(stderr, "ROLE %s %s: openapi.json says %s, routes.c %s\n",
                rt->method, rt->pattern, role ? role : "(none)",
                role_name(rt->min_role));
        bad++;
    }
    ws = json_is_true(json_object_get(op, "x-websocket"));
    if (ws != !!(rt->flags & ROUTE_WEBSOCKET)) {
        fprintf(stderr, "WEBSOCKET %s %s: openapi.json says %s, routes.c %s\n",
                rt->method, rt->pattern, ws ? "yes" : "no",
                rt->flags & ROUTE_WEBSOCKET ? "yes" : "no");
        bad++;
    }
    if (!json_string_value(json_object_get(op, "summary"))) {
        fprintf(stderr, "SUMMARY %s %s: none\n", rt->method, rt->pattern);
        bad++;
    }
    for (p = strchr(rt->pattern, '{'); p; p = strchr(p + 1, '{')) {
        char name[32];
        size_t len = strcspn(p + 1, "}");

        if (len >= sizeof(name))
            len = sizeof(name) - 1;
        memcpy(name, p + 1, len);
        name[len] = '\0';
        if (!has_uuid_param(doc, item, op, name)) {
            fprintf(stderr,
                    "PARAM %s %s: {%s} is not a required UUID path "
                    "parameter\n",
                    rt->method, rt->pattern, name);
            bad++;
        }
    }
    return bad;
}

static const struct route *find_route(const char *method, const char *path)
{
    size_t i;
    char m[16];

    for (i = 0; i < api_num_routes; i++) {
        lower(api_routes[i].method, m, sizeof(m));
        if (!strcmp(m, method) && !strcmp(api_routes[i].pattern, path))
            return &api_routes[i];
    }
    return NULL;
}

static void test_every_route_is_documented(void **state)
{
    json_t *doc = load_doc();
    size_t i;
    int bad = 0;

    (void)state;
    for (i = 0; i < api_num_routes; i++)
        bad += check_route(doc, &api_routes[i]);
    json_decref(doc);
    assert_int_equal(bad, 0);
}

static void test_every_operation_is_routed(void **state)
{
    json_t *doc = load_doc(), *item;
    const char *path;
    size_t n = 0;
    int bad = 0;

    (void)state;
    json_object_foreach(json_object_get(doc, "paths"), path, item) {
        const char *const *m;

        for (m = methods; *m; m++) {
            if (!json_object_get(item, *m))
                continue;
            n++;
            if (!find_route(*m, path)) {
                fprintf(stderr,
                        "EXTRA in openapi.json (not in routes.c): "
                        "%s %s\n",
                        *m, path);
                bad++;
            }
        }
    }
    json_decref(doc);
    assert_int_equal(bad, 0);
    assert_int_equal(n, api_num_routes);
}

static void test_document_basics(void **state)
{
    json_t *doc = load_doc();
    json_t *schemes =
        json_object_get(json_object_get(doc, "components"), "securitySchemes");
    json_t *err = json_object_get(
        json_object_get(json_object_get(doc, "components"), "schemas"),
        "Error");

    (void)state;
    assert_string_equal(json_string_value(json_object_get(doc, "openapi")),
                        "3.0.3");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(schemes, "session"), "name")),
                        "xenith_session");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(schemes, "csrf"), "name")),
                        "X-CSRF-Token");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(schemes, "bearer"), "scheme")),
                        "bearer");
    assert_non_null(json_object_get(
        json_object_get(json_object_get(err, "properties"), "error"),
        "properties"));
    assert_int_equal(api_openapi_check(), 0);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_document_basics),
        cmocka_unit_test(test_every_route_is_documented),
        cmocka_unit_test(test_every_operation_is_routed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
