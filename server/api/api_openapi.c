#include "server/api/api_openapi.h"

#include <jansson.h>
#include <pthread.h>

#include "common/err.h"
#include "common/log.h"
#include "server/api/api.h"
#include "server/api/api_util.h"

static pthread_once_t openapi_once = PTHREAD_ONCE_INIT;
static int openapi_rc;

static void openapi_parse(void)
{
    json_error_t jerr;
    json_t *doc = json_loadb(openapi_doc, openapi_doc_len, 0, &jerr);

    openapi_rc = 0;
    if (!doc || !json_is_object(doc)) {
        log_error("openapi: the embedded docs/openapi.json does not parse "
                  "(line %d: %s)",
                  jerr.line, doc ? "not an object" : jerr.text);
        openapi_rc = ERR_INTERNAL;
    }
    json_decref(doc);
}

int api_openapi_check(void)
{
    pthread_once(&openapi_once, openapi_parse);
    return openapi_rc;
}

int api_openapi(struct app *app, struct req *q, struct resp *r)
{
    (void)app;
    (void)q;
    if (api_openapi_check())
        return api_error(r, ERR_INTERNAL, NULL,
                         "the embedded API document is broken");
    buf_reset(&r->body);
    buf_append(&r->body, openapi_doc, openapi_doc_len);
    r->status = 200;
    r->content_type = "application/json";
    return 0;
}
