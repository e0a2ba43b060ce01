build/obj/server/http/static.o: server/http/static.c server/http/static.h \
 server/api/req.h common/buf.h common/err.h server/api/api_util.h
server/http/static.h:
server/api/req.h:
common/buf.h:
common/err.h:
server/api/api_util.h:
