/* backup_event.h: the event the backup screens refresh on:
 * {"type":"backup","kind":"repository"|"job"|"run","action":
 * "created"|"updated"|"deleted","id":...} on /events. Thread safe. */
#ifndef XENITH_SERVER_CORE_BACKUP_EVENT_H
#define XENITH_SERVER_CORE_BACKUP_EVENT_H

struct app;

void backup_event(struct app *app, const char *kind, const char *action,
                  const char *id);

#endif
