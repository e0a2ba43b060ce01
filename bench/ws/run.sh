#!/bin/sh
# bench/ws/run.sh: WebSocket echo round trips against a throw-away
# xenithd (test driver, temp data dir): builds wsbench.c with cc and
# OpenSSL, logs in as admin, runs it, and writes RESULTS.md beside this
# script. Usage: bench/ws/run.sh [ROUNDS] [CLIENTS]  (XENITHD= to pick
# the binary; default build/xenithd).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
xenithd=${XENITHD:-$top/build/xenithd}
rounds=${1:-2000}
clients=${2:-50}
work=$(mktemp -d "${TMPDIR:-/tmp}/xenith-wsbench-XXXXXX")
pid=

cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

# shellcheck disable=SC2046 # pkg-config output is a word list
cc -O2 -Wall -Wextra -o "$work/wsbench" "$here/wsbench.c" \
    $(pkg-config --cflags --libs openssl) -pthread

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
printf '%s\n' "$password" > "$work/pw"
chmod 600 "$work/pw"
mkdir "$work/data"
"$xenithd" --listen "127.0.0.1:$port" --data "$work/data" \
    --hv test:///default --admin-password-file "$work/pw" \
    2> "$work/xenithd.log" &
pid=$!

url=https://127.0.0.1:$port
i=0
until curl -sfk -o /dev/null "$url/api/v1/health"; do
    i=$((i + 1))
    if [ $i -gt 100 ]; then
        echo "run.sh: xenithd did not start:" >&2
        cat "$work/xenithd.log" >&2
        exit 1
    fi
    sleep 0.1
done

session=$(curl -sk -D - -o /dev/null -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$password\"}" \
    "$url/api/v1/session" |
    sed -n 's/^[Ss]et-[Cc]ookie: xenith_session=\([^;]*\).*/\1/p')
if [ -z "$session" ]; then
    echo "run.sh: cannot log in as admin (is the auth layer merged?)" >&2
    exit 1
fi

load=$(cut -d' ' -f1-3 /proc/loadavg)
"$work/wsbench" 127.0.0.1 "$port" "cookie:$session" "$rounds" "$clients" \
    > "$work/out.md"
cat "$work/out.md"

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
{
    echo "# bench/ws results"
    echo
    echo "WebSocket echo (\`/api/v1/echo\`, TLS, one port) against xenithd on"
    echo "127.0.0.1, measured by \`bench/ws/run.sh\` (client: wsbench.c, OpenSSL)."
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- machine: $cpu, $(nproc) CPUs, $(uname -sr)"
    echo "- load average before the run: $load (other work on the machine skews p99)"
    echo "- libwebsockets $(pkg-config --modversion libwebsockets), $(openssl version)"
    echo "- xenithd $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "- targets (issue 2): 4 KiB p50 < 0.5 ms, 64 KiB p50 < 5 ms, 1 MiB works"
    echo
    cat "$work/out.md"
} > "$here/RESULTS.md"
echo "run.sh: wrote $here/RESULTS.md"
