#!/bin/bash
# tests/xen/run.sh: boot Xen + dom0 (tests/xen/build-image.sh's image)
# under qemu-system-x86_64 with TCG, xenithd listening in dom0.
#
#   tests/xen/run.sh start WORK HOSTPORT TIMEOUT_S   boot in the background;
#                                 returns once QEMU runs (pid in WORK/qemu.pid)
#   tests/xen/run.sh stop WORK    stop that QEMU by its own PID
#
# The serial console (Xen, then dom0's hvc0) goes to WORK/serial.log.
# The only way in is QEMU's user network with restrict=on: 127.0.0.1:
# HOSTPORT on the host is xenithd's port 8443 in dom0, and HOSTPORT+1 is
# port 5900 (a VNC server in dom0). Every run is bounded by `timeout`.
# -cpu qemu64,+svm,+npt: SVM so Xen has HVM (PVH/HVM guests need HAP,
# i.e. +npt); not `max`, whose SMAP crashes dom0 under TCG.
set -euo pipefail
cmd=$1 W=$2
case $cmd in
start)
    HOSTPORT=$3 TMO=$4
    rm -f "$W/qemu.pid" "$W/serial.log"
    XENARGS="console=com1 com1=115200,8n1 dom0_mem=512M,max:512M dom0_max_vcpus=1 bootscrub=0 loglvl=all guest_loglvl=all"
    # no commas in the dom0 command line: QEMU splits -initrd at commas
    DOM0ARGS="console=hvc0 earlyprintk=xen rdinit=/init xenith_port=8443 ${XENITH_DOM0_ARGS:-}"
    setsid timeout --foreground "$TMO" qemu-system-x86_64 -accel tcg \
        -machine pc -cpu qemu64,+svm,+npt -smp 2 -m 2048 \
        -netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$HOSTPORT-:8443,hostfwd=tcp:127.0.0.1:$((HOSTPORT + 1))-:5900" \
        -device e1000,netdev=n0 -display none -monitor none \
        -serial "file:$W/serial.log" -no-reboot -pidfile "$W/qemu.pid" \
        -kernel "$W/xen" -append "$XENARGS" \
        -initrd "$W/vmlinux $DOM0ARGS,$W/dom0-initrd.gz" \
        </dev/null > "$W/qemu.out" 2>&1 &
    echo $! > "$W/timeout.pid"
    for _ in $(seq 100); do
        [ -s "$W/qemu.pid" ] && exit 0
        sleep 0.1
    done
    echo "run.sh: qemu did not start:"; cat "$W/qemu.out"; exit 1
    ;;
stop)
    if [ -s "$W/qemu.pid" ]; then
        pid=$(cat "$W/qemu.pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$W/qemu.pid"
    fi
    ;;
*)
    echo "usage: $0 start WORK HOSTPORT TIMEOUT_S | stop WORK"; exit 2 ;;
esac
