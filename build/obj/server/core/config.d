build/obj/server/core/config.o: server/core/config.c server/core/config.h \
 common/err.h common/log.h common/xalloc.h
server/core/config.h:
common/err.h:
common/log.h:
common/xalloc.h:
