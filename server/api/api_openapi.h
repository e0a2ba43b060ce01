/* api_openapi.h: docs/openapi.json, embedded in the binary by the
 * Makefile (installer/gen-embed.sh -> build/gen/openapi_doc.c), and the
 * handler of GET /api/v1/openapi.json that serves it.
 */
#ifndef XENITH_SERVER_API_API_OPENAPI_H
#define XENITH_SERVER_API_API_OPENAPI_H

/* The document's bytes (NUL-terminated) and length without the NUL. */
extern const char openapi_doc[];
extern const unsigned long openapi_doc_len;

/* 0 when the embedded document parses as a JSON object, else
 * ERR_INTERNAL (logged once). Parsed only on the first call; thread
 * safe. */
int api_openapi_check(void);

#endif
