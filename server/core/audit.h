/* audit.h: the append-only, hash-chained audit log of every mutating
 * request. Each row's hash = SHA-256(prev_hash | fields), so editing or
 * deleting a row breaks the chain, which audit_verify detects (the
 * chain itself is in db/db_audit.h). Thread safe.
 */
#ifndef XENITH_SERVER_CORE_AUDIT_H
#define XENITH_SERVER_CORE_AUDIT_H

#include "server/api/req.h"

struct app;

/* Record q and its outcome r (who, when, what, target, status,
 * source address). Errors are logged, never returned to the caller. */
void audit_record(struct app *app, const struct req *q, const struct resp *r);

/* The same with an explicit username (NULL or "" -> "-"), for handlers
 * of ROUTE_NOAUDIT routes such as the log-in, which record the name
 * that was tried. */
void audit_record_as(struct app *app, const struct req *q, const struct resp *r,
                     const char *username);

#endif
