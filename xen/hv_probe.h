/* hv_probe.h: is Xen running here, with us in its control domain? */
#ifndef XENITH_XEN_HV_PROBE_H
#define XENITH_XEN_HV_PROBE_H

/* 1 when /proc/xen/capabilities says control_d and xenstore answers. */
int hv_probe_xen(void);

#endif
