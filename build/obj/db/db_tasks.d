build/obj/db/db_tasks.o: db/db_tasks.c db/db_tasks.h common/err.h \
 common/xalloc.h db/db_internal.h db/db.h
db/db_tasks.h:
common/err.h:
common/xalloc.h:
db/db_internal.h:
db/db.h:
