build/obj/server/http/http_stub.o: server/http/http_stub.c \
 server/http/http.h common/err.h common/log.h
server/http/http.h:
common/err.h:
common/log.h:
