build/obj/server/api/api_session.o: server/api/api_session.c \
 server/api/api.h server/api/router.h server/api/req.h common/buf.h \
 common/err.h server/api/api_util.h
server/api/api.h:
server/api/router.h:
server/api/req.h:
common/buf.h:
common/err.h:
server/api/api_util.h:
