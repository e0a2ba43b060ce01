build/obj/xen/libxl/libxl_driver.o: xen/libxl/libxl_driver.c \
 xen/libxl/libxl_priv.h xen/hv.h common/err.h common/log.h \
 common/timeutil.h common/xalloc.h xen/hv_driver.h xen/hv_probe.h
xen/libxl/libxl_priv.h:
xen/hv.h:
common/err.h:
common/log.h:
common/timeutil.h:
common/xalloc.h:
xen/hv_driver.h:
xen/hv_probe.h:
