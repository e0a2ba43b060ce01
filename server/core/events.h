/* events.h: the in-process event bus. Publishers (task workers, the
 * hypervisor driver's event thread, handlers) post JSON messages;
 * subscribers (the WebSocket fan-out) get each one, synchronously on the
 * publisher's thread, so a callback must only queue and return.
 *
 * Message shape: {"type":"task"|"vm"|"sr"|"disk"|"network"|...,
 *                 "action":"created"|"updated"|"deleted"|"progress",
 *                 "id":"<object id>", "data":{...}, "ts":<epoch s>}
 * Thread safe.
 */
#ifndef XENITH_SERVER_CORE_EVENTS_H
#define XENITH_SERVER_CORE_EVENTS_H

#include <jansson.h>
#include <stddef.h>

struct events;

/* json is **borrowed**: a NUL-terminated serialized message. */
typedef void (*events_cb)(void *opaque, const char *json, size_t len);

struct events *events_new(void);
void events_free(struct events *ev);

/* Returns a subscription id (> 0) for events_unsubscribe. */
int events_subscribe(struct events *ev, events_cb cb, void *opaque);
/* After this returns, cb is not running and will not be called again. */
void events_unsubscribe(struct events *ev, int sub_id);

/* Build and deliver a message. data is **stolen** (may be NULL). */
void events_publish(struct events *ev, const char *type, const char *action,
                    const char *id, json_t *data);

/* The same with a "kind" key after "type" (kind may be NULL), for types
 * that cover several objects: {"type":"backup","kind":"repository",...}. */
void events_publish_kind(struct events *ev, const char *type, const char *kind,
                         const char *action, const char *id, json_t *data);

#endif
