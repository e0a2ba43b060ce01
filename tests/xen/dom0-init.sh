#!/bin/sh
# PID 1 of the dom0 initramfs (tests/xen): load the Xen modules, start
# xenstored and xenconsoled, bring up eth0 for QEMU's user network, then
# run xenithd with the xen:///system driver. The host reaches it only
# through QEMU's hostfwd on 127.0.0.1. Console: hvc0 (Xen's serial log).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mark() { echo "XENITH-DOM0 $1 uptime=$(cut -d' ' -f1 /proc/uptime)"; }
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
# devtmpfs has no udev links; the hotplug scripts' locking uses /dev/stdin
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /var/run
mkdir -p /var/run/xen /var/run/xenstored /var/lib/xen /var/log/xen/console \
    /var/lib/xenith /srv
mark init
for m in llc stp bridge xen-netback loop xen-blkback e1000 xen-evtchn \
    xen-gntdev xen-gntalloc xen-privcmd xenfs; do
    insmod /lib/modules/$m.ko || echo "XENITH-DOM0 insmod $m failed"
done
mount -t xenfs xenfs /proc/xen
xenstored --pid-file /var/run/xenstored.pid
i=0
while [ ! -S /var/run/xenstored/socket ] && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
xen-init-dom0 || echo "XENITH-DOM0 xen-init-dom0 failed"
# guests' consoles also go to /var/log/xen/console/guest-NAME.log, which
# is copied to hvc0 (the serial log) for diagnosis, and so are the HVM
# device models' logs (qemu-dm-NAME.log)
xenconsoled --pid-file=/var/run/xenconsoled.pid --log=guest \
    --log-dir=/var/log/xen/console
(while :; do
    for f in /var/log/xen/console/guest-*.log /var/log/xen/qemu-dm-*.log; do
        b=${f##*/}
        [ -e "$f" ] && [ ! -e "/tmp/tailing-$b" ] || continue
        touch "/tmp/tailing-$b"
        tail -F "$f" 2>/dev/null | sed "s/^/${b%.log}: /" &
    done
    sleep 1
done) &
hostname xenith-dom0
# xenith_debug on the dom0 command line: the domain list every 10 s
if grep -qw xenith_debug /proc/cmdline; then
    (while sleep 10; do
        xl list 2>&1 | sed 's/^/dom0-debug: /'
        ls /var/log/xen/console /var/log/xen 2>&1 | sed 's/^/dom0-debug: /'
    done) &
fi
mark xenstored-up
ip link set lo up
ip addr add 10.0.2.15/24 dev eth0
ip link set eth0 up
ip route add default via 10.0.2.2
# no bridge for guests' vifs here: xenithd makes it (netlink) when the
# test creates the network
PORT=$(sed -n 's/.*xenith_port=\([0-9]*\).*/\1/p' /proc/cmdline)
PORT=${PORT:-8443}
mark "xenithd-start port=$PORT"
LD_PRELOAD=/usr/lib/segv-trace.so \
    xenithd --listen 0.0.0.0:$PORT --data /var/lib/xenith --hv xen:///system \
    --web-root /usr/share/xenith/web \
    --admin-password-file /etc/xenith-admin-password \
    > /var/log/xenithd.log 2>&1 &
XPID=$!
tail -f /var/log/xenithd.log | sed 's/^/xenithd: /' &
# keep PID 1 alive; say so if xenithd dies
wait $XPID
mark "xenithd-exited rc=$?"
tail -f /var/log/xen/xen-hotplug.log 2>/dev/null &
while :; do sleep 3600; done
