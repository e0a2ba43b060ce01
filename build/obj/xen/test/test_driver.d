build/obj/xen/test/test_driver.o: xen/test/test_driver.c xen/hv_driver.h \
 xen/hv.h common/err.h
xen/hv_driver.h:
xen/hv.h:
common/err.h:
