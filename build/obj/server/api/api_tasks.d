build/obj/server/api/api_tasks.o: server/api/api_tasks.c server/api/api.h \
 server/api/router.h server/api/req.h common/buf.h common/err.h \
 db/db_tasks.h server/api/api_util.h server/core/app.h \
 server/core/config.h server/core/tasks.h
server/api/api.h:
server/api/router.h:
server/api/req.h:
common/buf.h:
common/err.h:
db/db_tasks.h:
server/api/api_util.h:
server/core/app.h:
server/core/config.h:
server/core/tasks.h:
