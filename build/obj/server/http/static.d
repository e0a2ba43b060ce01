build/obj/server/http/static.o: server/http/static.c server/http/static.h \
 server/api/req.h common/buf.h common/err.h common/log.h \
 server/api/api_util.h server/core/app.h server/core/config.h
server/http/static.h:
server/api/req.h:
common/buf.h:
common/err.h:
common/log.h:
server/api/api_util.h:
server/core/app.h:
server/core/config.h:
