build/obj/xen/libxl/libxl_driver.o: xen/libxl/libxl_driver.c \
 xen/hv_driver.h xen/hv.h common/err.h xen/hv_probe.h
xen/hv_driver.h:
xen/hv.h:
common/err.h:
xen/hv_probe.h:
