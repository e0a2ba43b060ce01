build/obj/common/uuid.o: common/uuid.c common/uuid.h
common/uuid.h:
