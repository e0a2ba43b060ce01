/* libxl_config.h: our VM record -> libxl_domain_config, as a pure
 * function (no libxl_ctx, no Xen needed), so golden tests can check it
 * (libvirt's libxlxml2domconfigtest is the model).
 *
 * Choices, documented once here:
 * - PV: kernel/ramdisk/cmdline in b_info (the 4.10+ fields), no
 *   bootloader. PVH: the same with type PVH. HVM: hvmloader with libxl's
 *   firmware defaults (SeaBIOS under qemu-xen), std VGA, VNC listening on
 *   127.0.0.1 with a free display and *no* password (the caller fills
 *   b_info.u.hvm.vnc.passwd per VM), serial "pty", boot order "dc" when a
 *   cdrom is present, else "c".
 * - Disks: format raw, backend PHY for block devices *and* regular files.
 *   On Linux libxl's own backend choice picks PHY for a raw regular file
 *   too (its block hotplug script attaches a loop device), as xl does; it
 *   needs no qemu process for PV and PVH guests, unlike QDISK. A cdrom is
 *   read-only and removable.
 * - NICs: on the given bridge with the given MAC, devid = index; type VIF
 *   for PV/PVH, libxl's default (emulated + PV) for HVM.
 * - on_poweroff destroy, on_reboot restart, on_crash destroy: libxl only
 *   records these for the toolstack (us) to act on.
 */
#ifndef XENITH_XEN_LIBXL_LIBXL_CONFIG_H
#define XENITH_XEN_LIBXL_LIBXL_CONFIG_H

#include <libxl.h>

#include "xen/hv.h"

/* Fill d_config (already libxl_domain_config_init'ed by the caller, who
 * also disposes it, on error too) from cfg. 0, or ERR_INVALID with the
 * reason in hv_last_error() for a bad uuid or MAC or an unknown boot
 * type. Pure and thread safe. */
int hv_libxl_make_config(const struct hv_vm_config *cfg,
                         libxl_domain_config *d_config);

/* One disk / nic as hv_libxl_make_config makes them (x already _init'ed;
 * the caller disposes it). make_nic: 0 or ERR_INVALID for a bad MAC. */
void hv_libxl_make_disk(const struct hv_disk *d, libxl_device_disk *x);
int hv_libxl_make_nic(const struct hv_nic *n, int devid, enum hv_boot_type boot,
                      libxl_device_nic *x);

/* Parse "00:16:3e:aa:bb:cc" into mac; 0 or ERR_INVALID. */
int hv_libxl_parse_mac(const char *s, libxl_mac *mac);

#endif
