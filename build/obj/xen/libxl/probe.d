build/obj/xen/libxl/probe.o: xen/libxl/probe.c xen/hv_probe.h
xen/hv_probe.h:
