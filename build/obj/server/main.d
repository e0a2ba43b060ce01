build/obj/server/main.o: server/main.c common/err.h common/log.h \
 common/xalloc.h db/db.h server/core/app.h server/core/config.h \
 server/core/auth.h server/api/req.h common/buf.h server/core/events.h \
 server/core/lifecycle.h server/core/tasks.h server/http/http.h xen/hv.h
common/err.h:
common/log.h:
common/xalloc.h:
db/db.h:
server/core/app.h:
server/core/config.h:
server/core/auth.h:
server/api/req.h:
common/buf.h:
server/core/events.h:
server/core/lifecycle.h:
server/core/tasks.h:
server/http/http.h:
xen/hv.h:
