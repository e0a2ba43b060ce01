build/obj/xen/hv.o: xen/hv.c xen/hv.h common/err.h common/log.h \
 common/xalloc.h xen/hv_driver.h xen/hv_probe.h
xen/hv.h:
common/err.h:
common/log.h:
common/xalloc.h:
xen/hv_driver.h:
xen/hv_probe.h:
