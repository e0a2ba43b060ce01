build/obj/server/api/api_health.o: server/api/api_health.c \
 server/api/api.h server/api/router.h server/api/req.h common/buf.h \
 server/api/api_util.h server/core/app.h server/core/config.h xen/hv.h
server/api/api.h:
server/api/router.h:
server/api/req.h:
common/buf.h:
server/api/api_util.h:
server/core/app.h:
server/core/config.h:
xen/hv.h:
