build/obj/server/api/req.o: server/api/req.c server/api/req.h \
 common/buf.h common/err.h common/xalloc.h
server/api/req.h:
common/buf.h:
common/err.h:
common/xalloc.h:
