build/obj/common/buf.o: common/buf.c common/buf.h common/err.h \
 common/xalloc.h
common/buf.h:
common/err.h:
common/xalloc.h:
