#include "server/core/backup_event.h"

#include <jansson.h>

#include "server/core/app.h"
#include "server/core/events.h"

void backup_event(struct app *app, const char *kind, const char *action,
                  const char *id)
{
    /* NEEDSWORK: events_publish_kind (bkrepo) puts "kind" at the top
     * level; until it is merged it travels in "data". */
    events_publish(app->events, "backup", action, id,
                   json_pack("{s:s}", "kind", kind));
}
