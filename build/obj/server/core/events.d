build/obj/server/core/events.o: server/core/events.c server/core/events.h \
 common/timeutil.h common/xalloc.h
server/core/events.h:
common/timeutil.h:
common/xalloc.h:
