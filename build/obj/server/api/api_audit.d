build/obj/server/api/api_audit.o: server/api/api_audit.c server/api/api.h \
 server/api/router.h server/api/req.h common/buf.h common/err.h \
 server/api/api_util.h
server/api/api.h:
server/api/router.h:
server/api/req.h:
common/buf.h:
common/err.h:
server/api/api_util.h:
