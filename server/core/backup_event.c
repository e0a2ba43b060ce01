#include "server/core/backup_event.h"

#include "server/core/app.h"
#include "server/core/events.h"

void backup_event(struct app *app, const char *kind, const char *action,
                  const char *id)
{
    events_publish_kind(app->events, "backup", kind, action, id, NULL);
}
