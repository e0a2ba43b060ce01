#!/bin/bash
# tests/xen/build-image.sh: everything needed to boot real Xen under QEMU
# with the project's own xenithd in dom0.
#
#   tests/xen/build-image.sh [WORK]      (WORK defaults to build/xen-work)
#
# Downloads Debian 12 packages once (apt-get download, cached in
# WORK/debs, unpacked into WORK/root) and builds:
#   WORK/xen.gz-free      Xen's multiboot ELF (qemu -kernel cannot gunzip)
#   WORK/vmlinux          dom0 kernel, uncompressed: Xen's dom0 builder
#                         decompresses xz very slowly under TCG
#   WORK/guest/vmlinuz    guest kernel, gzip: libxenguest handles it fast
#   WORK/guest/initrd.gz  guest busybox init (tests/xen/guest-init.sh)
#   WORK/dom0-initrd.gz   dom0: busybox, xenstored, xenconsoled, hotplug
#                         scripts, modules, build/xenithd and its libraries,
#                         the guest files under /guest, /init from
#                         tests/xen/dom0-init.sh, and for HVM guests the
#                         qemu-xen device model, hvmloader and SeaBIOS
#   WORK/hvm.iso          an isolinux CD that shows a boot screen on VGA
#                         and the serial port and waits there (test_xen.py
#                         imports it into a disk for an HVM guest)
# Needs on the host: the packages in installer/deps.sh (qemu-system-x86,
# cpio, xz-utils, libxen-dev, seabios, xorriso, isolinux) and a built
# build/xenithd.
set -euo pipefail

ROOTDIR=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$ROOTDIR/tests/xen
W=$(mkdir -p "${1:-$ROOTDIR/build/xen-work}" && cd "${1:-$ROOTDIR/build/xen-work}" && pwd)
XENITHD=${XENITHD:-$ROOTDIR/build/xenithd}
RX=$W/root
T0=$(date +%s.%N)
step() { printf 'build-image: %-28s %6.1f s\n' "$1" "$(echo "$(date +%s.%N) - $T0" | bc)"; }

[ -x "$XENITHD" ] || { echo "build-image: $XENITHD missing (make all)"; exit 1; }

# ---------- Debian packages (cached) ----------
# xen-utils-4.17: xl, xenstored, xenconsoled, libxl-save-helper;
# xen-utils-common: /etc/xen/scripts (hotplug); xenstore-utils: xenstore-*;
# libxen*: the toolstack libraries of the same build; busybox-static: both
# userlands; util-linux: flock for the hotplug scripts' locking;
# qemu-system-xen: the HVM device model (/usr/libexec/xen-qemu-system-i386,
# the path libxl runs).
KPKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/{print $2; exit}')
PKGS="xen-hypervisor-4.17-amd64 xen-utils-4.17 xen-utils-common xenstore-utils
libxenmisc4.17 libxenstore4 libxentoollog1 libxencall1
libxenevtchn1 libxenforeignmemory1 libxengnttab1 libxendevicemodel1
libxentoolcore1 libxenhypfs1 $KPKG busybox-static util-linux iproute2
qemu-system-xen"
mkdir -p "$W/debs"
if [ ! -e "$W/debs/.complete" ] || [ "$(cat "$W/debs/.complete")" != "$(echo $PKGS)" ]; then
    (cd "$W/debs" && rm -f ./*.deb && apt-get download -q $PKGS)
    rm -rf "$RX"
    echo $PKGS > "$W/debs/.complete"
fi
if [ ! -d "$RX" ]; then
    mkdir -p "$RX.tmp"
    for d in "$W"/debs/*.deb; do dpkg-deb -x "$d" "$RX.tmp"; done
    mv "$RX.tmp" "$RX"
fi
step packages
KVER=$(ls "$RX/lib/modules" | head -1)
XB=$RX/usr/lib/xen-4.17/bin
# the unpacked libraries first, so ldd names what dom0 must get
LIBPATH=$RX/usr/lib/x86_64-linux-gnu:$RX/lib/x86_64-linux-gnu

# ---------- hypervisor and kernels (cached) ----------
[ -s "$W/xen" ] || zcat "$RX"/boot/xen-4.17*-amd64.gz > "$W/xen"
if [ ! -s "$W/vmlinux" ]; then
    # Debian's bzImage carries an xz stream; the first xz magic is it.
    off=$(python3 -c 'import sys; print(open(sys.argv[1],"rb").read().find(b"\xfd7zXZ\x00"))' \
        "$RX/boot/vmlinuz-$KVER")
    tail -c +$((off + 1)) "$RX/boot/vmlinuz-$KVER" | xz -dc 2>/dev/null > "$W/vmlinux.tmp" || true
    [ -s "$W/vmlinux.tmp" ] || { echo "build-image: cannot unpack the kernel"; exit 1; }
    mv "$W/vmlinux.tmp" "$W/vmlinux"
fi
step kernels

# ---------- helpers ----------
# copy_bin DEST SRC [NAME]: SRC into DEST/NAME plus every library ldd names
copy_bin() {
    local dst=$1 src=$2 name=${3:-$2} l
    mkdir -p "$dst/$(dirname "$name")"
    cp -L "$src" "$dst/$name"
    LD_LIBRARY_PATH=$LIBPATH ldd "$src" | awk '/=> \//{print $3} /^\t\/lib64/{print $1}' |
    while read -r l; do
        local to=${l#"$RX"}
        to=/lib/x86_64-linux-gnu/$(basename "$to")
        case $l in /lib64/*) to=$l ;; esac
        [ -e "$dst$to" ] || { mkdir -p "$(dirname "$dst$to")"; cp -L "$l" "$dst$to"; }
    done
}
busybox_root() {
    local d=$1 a
    rm -rf "$d"
    mkdir -p "$d"/{bin,sbin,etc,proc,sys,dev,run,tmp,root,usr/bin,usr/sbin,lib/modules,var/log,var/lib,var/run}
    cp "$RX/bin/busybox" "$d/bin/busybox"
    for a in $("$RX/bin/busybox" --list); do
        [ "$a" = busybox ] || ln -sf busybox "$d/bin/$a"
    done
}
mods() { # DEST module paths relative to kernel/
    local d=$1 m; shift
    for m in "$@"; do cp "$RX/lib/modules/$KVER/kernel/$m" "$d/lib/modules/"; done
}

# ---------- guest ----------
G=$W/guestroot
busybox_root "$G"
mods "$G" drivers/block/xen-blkfront.ko drivers/net/xen-netfront.ko
cp "$HERE/guest-init.sh" "$G/init"
chmod +x "$G/init"
# The kernel's Xen shutdown/reboot handler runs /sbin/poweroff and
# /sbin/reboot; our init is a plain script, so power off directly.
# xenith.ignore_shutdown on the guest's command line: ignore the request.
printf '#!/bin/sh\nif grep -q xenith.ignore_shutdown /proc/cmdline; then echo "guest: poweroff ignored"; exit 0; fi\necho "guest: poweroff requested"\nsync\nexec /bin/busybox poweroff -f\n' > "$G/sbin/poweroff"
printf '#!/bin/sh\necho "guest: reboot requested"\nsync\nexec /bin/busybox reboot -f\n' > "$G/sbin/reboot"
chmod +x "$G/sbin/poweroff" "$G/sbin/reboot"
mkdir -p "$W/guest"
(cd "$G" && find . | cpio -o -H newc --quiet | gzip -1) > "$W/guest/initrd.gz"
[ -s "$W/guest/vmlinuz" ] || gzip -1 -c "$W/vmlinux" > "$W/guest/vmlinuz"
step guest

# ---------- dom0 ----------
D=$W/dom0root
busybox_root "$D"
mods "$D" net/llc/llc.ko net/802/stp.ko net/bridge/bridge.ko \
    drivers/net/xen-netback/xen-netback.ko drivers/block/loop.ko \
    drivers/block/xen-blkback/xen-blkback.ko \
    drivers/net/ethernet/intel/e1000/e1000.ko drivers/xen/xen-evtchn.ko \
    drivers/xen/xen-gntdev.ko drivers/xen/xen-gntalloc.ko \
    drivers/xen/xen-privcmd.ko drivers/xen/xenfs/xenfs.ko
for b in xl xenstored xenconsoled xen-init-dom0 libxl-save-helper; do
    copy_bin "$D" "$XB/$b" "/usr/lib/xen-4.17/bin/$b"
    ln -sf ../lib/xen-4.17/bin/$b "$D/usr/sbin/$b"
done
copy_bin "$D" "$RX/usr/bin/xenstore" /usr/bin/xenstore
for t in read write ls list exists rm; do ln -sf xenstore "$D/usr/bin/xenstore-$t"; done
mkdir -p "$D/etc/xen/scripts"
cp -a "$RX/etc/xen/scripts/." "$D/etc/xen/scripts/"
cp "$RX/etc/xen/xl.conf" "$D/etc/xen/"
# the hotplug scripts are bash and lock with flock; ip for the vif scripts
copy_bin "$D" /bin/bash /bin/bash
copy_bin "$D" "$RX/usr/bin/flock" /usr/bin/flock
copy_bin "$D" "$RX/bin/ip" /sbin/ip
# the product itself, its libraries and its UI
copy_bin "$D" "$XENITHD" /usr/sbin/xenithd
mkdir -p "$D/usr/share/xenith"
cp -a "$ROOTDIR/web" "$D/usr/share/xenith/web"
# HVM guests: the qemu-xen device model (its libraries from this host,
# which has qemu-system-x86), hvmloader, SeaBIOS and the VGA BIOSes qemu
# loads, and the keymap qemu's VNC server wants.
copy_bin "$D" "$RX/usr/libexec/xen-qemu-system-i386" \
    /usr/libexec/xen-qemu-system-i386
mkdir -p "$D/usr/lib/xen-4.17/boot" "$D/usr/share/seabios" \
    "$D/usr/share/qemu/keymaps"
cp "$RX/usr/lib/xen-4.17/boot/hvmloader" "$D/usr/lib/xen-4.17/boot/"
for f in bios-256k.bin vgabios-stdvga.bin vgabios-cirrus.bin; do
    cp -L "/usr/share/seabios/$f" "$D/usr/share/seabios/"
    cp -L "/usr/share/seabios/$f" "$D/usr/share/qemu/"
done
cp -L /usr/share/qemu/keymaps/en-us "$D/usr/share/qemu/keymaps/"
# test-only: a backtrace in the log if xenithd crashes
gcc -O1 -g -shared -fPIC -o "$W/segv-trace.so" "$HERE/segv-trace.c"
cp "$W/segv-trace.so" "$D/usr/lib/segv-trace.so"
# glibc dlopen()s libgcc_s for pthread_cancel; ldd does not list it
cp -L /lib/x86_64-linux-gnu/libgcc_s.so.1 "$D/lib/x86_64-linux-gnu/"
cp -a "$W/guest" "$D/guest"
# the admin password: random once per work dir, read by test_xen.py and
# printed by xen-demo (never in the kernel command line or the log)
if [ ! -s "$W/admin-password" ]; then
    (umask 077 && head -c 18 /dev/urandom | base64 | tr '+/' 'xy' > "$W/admin-password")
fi
install -m 600 "$W/admin-password" "$D/etc/xenith-admin-password"
cp "$HERE/dom0-init.sh" "$D/init"
chmod +x "$D/init"
(cd "$D" && find . | cpio -o -H newc --quiet | gzip -1) > "$W/dom0-initrd.gz.tmp"
mv "$W/dom0-initrd.gz.tmp" "$W/dom0-initrd.gz"
step dom0

# ---------- the HVM guest's boot CD ----------
# isolinux only: SeaBIOS boots it in seconds even under emulation, and
# its screen (DISPLAY, coloured with ^O codes) and prompt stay up for the
# VNC screenshot; SERIAL puts isolinux's banner and "boot:" prompt (not
# the DISPLAY text) on the guest's COM1, which xenithd serves on
# /console. Nothing is booted: the prompt waits forever.
if [ ! -s "$W/hvm.iso" ] || [ "$HERE/build-image.sh" -nt "$W/hvm.iso" ]; then
    I=$W/iso
    rm -rf "$I"
    mkdir -p "$I/isolinux"
    cp /usr/lib/ISOLINUX/isolinux.bin \
        /usr/lib/syslinux/modules/bios/ldlinux.c32 "$I/isolinux/"
    printf 'SERIAL 0 115200\nDISPLAY boot.msg\nPROMPT 1\nTIMEOUT 0\nDEFAULT wait\nLABEL wait\n  KERNEL /none\n' \
        > "$I/isolinux/isolinux.cfg"
    {
        printf '\x0c\x0f1f                                        \n'
        printf '   XENITH HVM TEST ISO  (isolinux)      \n'
        printf '                                        \x0f0e\n\n'
        printf '\x0f2f  booted by SeaBIOS in an HVM guest     \x0f0f\n'
        printf '\x0f4e  qemu-xen VNC -> xenithd /vnc -> PNG   \x0f0f\n\n'
        printf '\x0f0aXENITH-HVM-ISO-READY\x0f0f\n'
    } > "$I/isolinux/boot.msg"
    xorriso -as mkisofs -quiet -o "$W/hvm.iso.tmp" -b isolinux/isolinux.bin \
        -c isolinux/boot.cat -no-emul-boot -boot-load-size 4 \
        -boot-info-table -V XENITH_HVM "$I" 2>/dev/null
    mv "$W/hvm.iso.tmp" "$W/hvm.iso"
fi
step iso
ls -la "$W/xen" "$W/vmlinux" "$W/dom0-initrd.gz" "$W/hvm.iso" "$W/guest/"
