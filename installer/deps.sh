#!/bin/sh
# Install every Debian 12 package xenith needs to build, run and test.
# Idempotent: installs only what is missing, so `make test` can call it
# every time.
set -eu

# mount: the storage unit tests loop-mount an XFS image (mkfs.xfs from
# xfsprogs); it is priority "required", not Essential, so name it.
# sqlite3: the unit tests drive the CLI; python3: the e2e suite.
PKGS="build-essential pkg-config git ca-certificates curl openssl
python3 clang-format
libmicrohttpd-dev libwebsockets-dev libjansson-dev libsqlite3-dev
libzstd-dev libssl-dev libxen-dev libcmocka-dev
sqlite3 xfsprogs mount"

# `deps.sh bench`: also the peers the benchmarks measure against. Not for
# make run/test: installing nginx starts a system nginx on port 80.
if [ "${1:-}" = bench ]; then
    PKGS="$PKGS wrk nginx-light"
fi

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
        missing="$missing $p"
    fi
done
[ -n "$missing" ] || exit 0

echo "deps: installing:$missing"
SUDO=""
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
