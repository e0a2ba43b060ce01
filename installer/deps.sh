#!/bin/sh
# Install every Debian 12 package xenith needs to build, run and test.
# Idempotent: installs only what is missing, so `make test` can call it
# every time.
set -eu

PKGS="build-essential pkg-config git ca-certificates curl openssl
python3 clang-format
libmicrohttpd-dev libwebsockets-dev libjansson-dev libsqlite3-dev
libzstd-dev libssl-dev libxen-dev libcmocka-dev
sqlite3 wrk nginx-light xfsprogs
qemu-system-x86 cpio xz-utils bc"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
        missing="$missing $p"
    fi
done
if [ -n "$missing" ]; then
    echo "deps: installing:$missing"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
    # shellcheck disable=SC2086
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends $missing
fi
