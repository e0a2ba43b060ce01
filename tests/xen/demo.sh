#!/bin/bash
# tests/xen/demo.sh: boot the real-Xen test image (tests/xen/build-image.sh)
# and leave it running: xenithd with the libxl driver in dom0, reachable
# at https://127.0.0.1:PORT. Ctrl-C (or the time limit) stops QEMU.
#
#   tests/xen/demo.sh [WORK] [PORT] [MINUTES]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(cd "${1:-$HERE/../../build/xen-work}" && pwd)
PORT=${2:-18443}
MIN=${3:-120}
trap 'bash "$HERE/run.sh" stop "$W"; echo "xen-demo: QEMU stopped"' EXIT
trap 'exit 0' INT TERM
bash "$HERE/run.sh" start "$W" "$PORT" $((MIN * 60))
echo "xen-demo: booting Xen + dom0 under QEMU (serial log: $W/serial.log)"
for _ in $(seq 300); do
    curl -ks -m 5 -o /dev/null "https://127.0.0.1:$PORT/api/v1/health" && break
    kill -0 "$(cat "$W/qemu.pid" 2>/dev/null)" 2>/dev/null || { echo "xen-demo: QEMU died"; tail -20 "$W/serial.log"; exit 1; }
    sleep 1
done
cat <<MSG

  xenith on real Xen 4.17 (under QEMU) is up:
    URL:       https://127.0.0.1:$PORT   (self-signed certificate)
    user:      admin
    password:  $(cat "$W/admin-password")
  A guest kernel and initramfs are in dom0 at /guest/vmlinuz and
  /guest/initrd.gz (PV, cmdline "console=hvc0"); make a file SR at e.g.
  /srv/sr0; a network (e.g. bridge xenbr0) makes its bridge in dom0.
  Stops after $MIN minutes or on Ctrl-C.

MSG
while kill -0 "$(cat "$W/qemu.pid" 2>/dev/null)" 2>/dev/null; do sleep 2; done
