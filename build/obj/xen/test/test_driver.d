build/obj/xen/test/test_driver.o: xen/test/test_driver.c \
 xen/test/test_priv.h xen/hv.h common/err.h common/timeutil.h \
 common/uuid.h common/xalloc.h xen/hv_driver.h
xen/test/test_priv.h:
xen/hv.h:
common/err.h:
common/timeutil.h:
common/uuid.h:
common/xalloc.h:
xen/hv_driver.h:
