build/obj/server/api/api_util.o: server/api/api_util.c \
 server/api/api_util.h server/api/req.h common/buf.h common/err.h \
 common/timeutil.h common/uuid.h db/db_tasks.h server/core/app.h \
 server/core/config.h server/core/tasks.h
server/api/api_util.h:
server/api/req.h:
common/buf.h:
common/err.h:
common/timeutil.h:
common/uuid.h:
db/db_tasks.h:
server/core/app.h:
server/core/config.h:
server/core/tasks.h:
