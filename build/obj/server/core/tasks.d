build/obj/server/core/tasks.o: server/core/tasks.c server/core/tasks.h \
 common/err.h common/log.h common/timeutil.h common/uuid.h \
 common/xalloc.h db/db_tasks.h server/core/app.h server/core/config.h \
 server/core/events.h
server/core/tasks.h:
common/err.h:
common/log.h:
common/timeutil.h:
common/uuid.h:
common/xalloc.h:
db/db_tasks.h:
server/core/app.h:
server/core/config.h:
server/core/events.h:
