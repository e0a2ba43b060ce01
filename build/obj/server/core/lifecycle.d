build/obj/server/core/lifecycle.o: server/core/lifecycle.c \
 server/core/lifecycle.h common/log.h
server/core/lifecycle.h:
common/log.h:
