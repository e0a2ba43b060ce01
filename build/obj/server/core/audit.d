build/obj/server/core/audit.o: server/core/audit.c server/core/audit.h \
 server/api/req.h common/buf.h
server/core/audit.h:
server/api/req.h:
common/buf.h:
