build/gen/migrations.o: build/gen/migrations.c db/db_internal.h db/db.h
db/db_internal.h:
db/db.h:
