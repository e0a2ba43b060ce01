#!/bin/sh
# Install every Debian 12 package xenith needs to build, run and test.
# Idempotent: installs only what is missing, so `make test` can call it
# every time.
set -eu

# mount: the storage unit tests loop-mount an XFS image (mkfs.xfs from
# xfsprogs); it is priority "required", not Essential, so name it.
# sqlite3: the unit tests drive the CLI; python3: the e2e suite.
# iproute2: tests/xen copies Debian's ip into dom0 and takes its libraries
# (libbpf, libmnl, libelf ...) from this host; without them the vif
# hotplug script cannot find the bridge. seabios, qemu-system-data: the
# firmware and keymap of the HVM device model tests/xen puts into dom0;
# xorriso, isolinux, syslinux-common: its HVM guest's boot CD.
# tzdata: backup job schedules are read in IANA zones from
# /usr/share/zoneinfo (server/core/tzfile.c). strace: tests/backup checks
# the order of fsync and rename in a restore; faketime: it runs gc on a
# host whose clock is ahead of the repository's.
PKGS="build-essential pkg-config git ca-certificates curl openssl
python3 clang-format
libmicrohttpd-dev libwebsockets-dev libjansson-dev libsqlite3-dev
libzstd-dev libssl-dev libxen-dev libcmocka-dev
sqlite3 xfsprogs mount tzdata strace faketime
chromium firefox-esr fonts-dejavu-core
qemu-system-x86 cpio xz-utils bc iproute2
seabios qemu-system-data xorriso isolinux syslinux-common"

# `deps.sh bench`: also the peers the benchmarks measure against. Not for
# make run/test: installing nginx starts a system nginx on port 80.
if [ "${1:-}" = bench ]; then
    PKGS="$PKGS wrk nginx-light restic borgbackup"
fi

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
        missing="$missing $p"
    fi
done
# The UI is built with Vite 7, which needs Node.js >= 20 (Debian 12's own
# nodejs is 18). Machines of our kind carry Node 20 and npm; where node is
# missing or older, take Debian's nodejs + npm, then Node 20 from the npm
# registry (the `node` package), and check again.
node_major() {
    node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}
want_node=0
if [ "$(node_major)" -lt 20 ] || ! command -v npm >/dev/null 2>&1; then
    want_node=1
    command -v node >/dev/null 2>&1 || missing="$missing nodejs"
    command -v npm >/dev/null 2>&1 || missing="$missing npm"
fi

ensure_node() {
    [ $want_node -eq 1 ] || return 0
    if [ "$(node_major)" -lt 20 ]; then
        echo "deps: Node.js $(node --version 2>/dev/null) is too old; installing Node 20 from the npm registry"
        $SUDO npm install -g --no-audit --no-fund node@20
        hash -r
    fi
    if [ "$(node_major)" -lt 20 ]; then
        echo "deps: Node.js >= 20 is needed to build the UI (found $(node --version 2>/dev/null))" >&2
        exit 1
    fi
}

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
if [ -z "$missing" ]; then
    ensure_node
    exit 0
fi

echo "deps: installing:$missing"
[ "$(id -u)" -eq 0 ] || SUDO=sudo
# A freshly booted machine often runs apt-daily/unattended-upgrades: wait
# for dpkg's lock instead of failing, and retry flaky downloads.
APT="$SUDO env DEBIAN_FRONTEND=noninteractive apt-get -q
    -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3"
# The lists lock of `apt-get update` does not honour DPkg::Lock::Timeout.
tries=0
until $APT update; do
    tries=$((tries + 1))
    [ $tries -lt 10 ] || exit 1
    echo "deps: apt-get update failed, retrying in 30 s"
    sleep 30
done
# shellcheck disable=SC2086
$APT install -y --no-install-recommends $missing
ensure_node
