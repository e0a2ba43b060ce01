build/obj/db/db.o: db/db.c db/db.h common/err.h common/log.h \
 common/xalloc.h db/db_internal.h
db/db.h:
common/err.h:
common/log.h:
common/xalloc.h:
db/db_internal.h:
