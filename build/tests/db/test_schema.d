build/tests/db/test_schema: tests/unit/db/test_schema.c common/buf.h \
 db/db.h
common/buf.h:
db/db.h:
