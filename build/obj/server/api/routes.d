build/obj/server/api/routes.o: server/api/routes.c server/api/router.h \
 server/api/req.h common/buf.h server/api/api.h
server/api/router.h:
server/api/req.h:
common/buf.h:
server/api/api.h:
