build/obj/server/core/auth.o: server/core/auth.c server/core/auth.h \
 server/api/req.h common/buf.h common/err.h
server/core/auth.h:
server/api/req.h:
common/buf.h:
common/err.h:
