build/obj/server/api/router.o: server/api/router.c server/api/router.h \
 server/api/req.h common/buf.h common/err.h common/log.h \
 server/api/api_util.h server/core/app.h server/core/config.h \
 server/core/audit.h server/core/auth.h server/http/static.h
server/api/router.h:
server/api/req.h:
common/buf.h:
common/err.h:
common/log.h:
server/api/api_util.h:
server/core/app.h:
server/core/config.h:
server/core/audit.h:
server/core/auth.h:
server/http/static.h:
