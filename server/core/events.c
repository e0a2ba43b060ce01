#include "server/core/events.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"
#include "common/xalloc.h"

#define EVENTS_MAX_SUBS 256

struct events_sub {
    int id;
    events_cb cb;
    void *opaque;
};

struct events {
    pthread_mutex_t mu;
    struct events_sub subs[EVENTS_MAX_SUBS];
    size_t num_subs;
    int next_id;
};

struct events *events_new(void)
{
    struct events *ev = xcalloc(1, sizeof(*ev));

    pthread_mutex_init(&ev->mu, NULL);
    ev->next_id = 1;
    return ev;
}

void events_free(struct events *ev)
{
    if (!ev)
        return;
    pthread_mutex_destroy(&ev->mu);
    free(ev);
}

int events_subscribe(struct events *ev, events_cb cb, void *opaque)
{
    int id = -1;

    pthread_mutex_lock(&ev->mu);
    if (ev->num_subs < EVENTS_MAX_SUBS) {
        id = ev->next_id++;
        ev->subs[ev->num_subs].id = id;
        ev->subs[ev->num_subs].cb = cb;
        ev->subs[ev->num_subs].opaque = opaque;
        ev->num_subs++;
    }
    pthread_mutex_unlock(&ev->mu);
    return id;
}

void events_unsubscribe(struct events *ev, int sub_id)
{
    size_t i;

    pthread_mutex_lock(&ev->mu);
    for (i = 0; i < ev->num_subs; i++) {
        if (ev->subs[i].id == sub_id) {
            ev->subs[i] = ev->subs[ev->num_subs - 1];
            ev->num_subs--;
            break;
        }
    }
    pthread_mutex_unlock(&ev->mu);
}

void events_publish(struct events *ev, const char *type, const char *action,
                    const char *id, json_t *data)
{
    events_publish_kind(ev, type, NULL, action, id, data);
}

void events_publish_kind(struct events *ev, const char *type, const char *kind,
                         const char *action, const char *id, json_t *data)
{
    json_t *msg;
    char *s;
    size_t i, len;

    if (!ev) {
        json_decref(data);
        return;
    }
    msg = json_pack("{s:s, s:s, s:s, s:I}", "type", type, "action", action,
                    "id", id ? id : "", "ts", (json_int_t)time_now());
    if (kind)
        json_object_set_new(msg, "kind", json_string(kind));
    if (data)
        json_object_set_new(msg, "data", data);
    s = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (!s)
        return;
    len = strlen(s);
    /* Callbacks run under the lock: they only queue, and unsubscribe can
     * then promise that no callback is running afterwards. */
    pthread_mutex_lock(&ev->mu);
    for (i = 0; i < ev->num_subs; i++)
        ev->subs[i].cb(ev->subs[i].opaque, s, len);
    pthread_mutex_unlock(&ev->mu);
    free(s);
}
