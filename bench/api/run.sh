#!/bin/sh
# bench/api/run.sh: GET /api/v1/vms with 1000 VMs defined, xenithd beside
# nginx serving the same JSON as a static file, both over TLS with the
# same certificate on 127.0.0.1, measured by wrk in the same run,
# interleaved. Writes bench/api/RESULTS.md.
#
# After the saturated rounds come paced ones: PACED connections that each
# wait between requests (wrk's delay() hook, latency.lua), the wait set
# so that together they offer half of nginx's median requests/s at PACED
# connections in this run, again interleaved.
#
# TCP congestion control: as root the whole bench runs in a private
# network namespace (its own loopback, a copy of the system's TCP
# settings) whose congestion control is BENCH_CC (default cubic, the
# kernel's default), the same for both servers and wrk. Why: with bbr
# (the default on some machines, this one included) and no fq qdisc,
# TCP paces itself. On these mostly idle loopback connections bbr's
# bandwidth filter at times resets to one sample of one segment that
# the client acked ~45 ms late (its delayed-ACK timer, or a late read):
# ss -ti shows bw 11.7 Mbit/s = one 65483-byte MSS per 45 ms. The
# pacing timer (tcp_pace_kick, armed +53-89 ms) then holds the rest of
# the next 265 KB response, for nginx as for xenithd: the paced p99 of
# 48-70 ms and max of ~100 ms of the earlier runs. The paced rounds
# also run once more with the system's congestion control, so that
# figure stays measured.
#
#   sh bench/api/run.sh            (env: NVMS ROUNDS DURATION THREADS CONNS
#                                   PACED BENCH_CC XENITHD OUT; CONNS is a
#                                   list, each concurrency gets its own
#                                   rounds; PACED="" skips the paced
#                                   rounds; BENCH_CC="" keeps the system's
#                                   congestion control and namespace)
set -eu
cd "$(dirname "$0")/../.."

BENCH_CC=${BENCH_CC-cubic}
CCFILE=/proc/sys/net/ipv4/tcp_congestion_control
CCAVAIL=/proc/sys/net/ipv4/tcp_available_congestion_control
if [ -z "${XENITH_BENCH_NETNS:-}" ]; then
    SYS_CC=$(cat "$CCFILE")
    export SYS_CC
    if [ -n "$BENCH_CC" ] && [ "$(id -u)" = 0 ] &&
        command -v unshare >/dev/null 2>&1 && command -v ip >/dev/null 2>&1 &&
        grep -qw "$BENCH_CC" "$CCAVAIL"; then
        XENITH_BENCH_NETNS=1
        export XENITH_BENCH_NETNS
        exec unshare --net sh "$0" "$@"
    fi
    if [ -n "$BENCH_CC" ] && [ "$BENCH_CC" != "$SYS_CC" ]; then
        echo "bench/api: cannot set $BENCH_CC (needs root, unshare, ip and" \
            "the module); measuring with $SYS_CC" >&2
    fi
    BENCH_CC=$SYS_CC
else
    ip link set lo up
    echo "$BENCH_CC" >"$CCFILE"
fi

NVMS=${NVMS:-1000}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-10 50}
PACED=${PACED-50}
XENITHD=${XENITHD:-build/xenithd}
OUT=${OUT:-bench/api/RESULTS.md}
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}

for t in wrk python3 curl "$NGINX"; do
    command -v "$t" >/dev/null 2>&1 || {
        echo "bench/api: $t is missing (sh installer/deps.sh bench)" >&2
        exit 1
    }
done
# Build only the daemon, and only when it is out of date.
if [ "$XENITHD" = build/xenithd ]; then
    make -j2 build/xenithd >/dev/null
fi

WORK=$(mktemp -d /tmp/xenith-bench-api.XXXXXX)
XPID=""
NPID=""
cleanup() {
    if [ -n "$NPID" ]; then
        kill "$NPID" 2>/dev/null || true
        wait "$NPID" 2>/dev/null || true
    fi
    if [ -n "$XPID" ]; then
        kill "$XPID" 2>/dev/null || true
        wait "$XPID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# CPU ticks (user + system) used so far by the processes given.
cpu_ticks() {
    t=0
    for p in "$@"; do
        t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
    done
    echo "$t"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_https() {
    i=0
    until curl -ks -o /dev/null "https://127.0.0.1:$1/api/v1/health" ||
        curl -ks -o /dev/null "https://127.0.0.1:$1/api/v1/vms"; do
        i=$((i + 1))
        if [ $i -gt 200 ]; then
            echo "bench/api: nothing answers on port $1" >&2
            return 1
        fi
        sleep 0.1
    done
}

XPORT=$(free_port)
NPORT=$(free_port)
DATA=$WORK/data
PW=bench-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
mkdir -p "$DATA" "$WORK/www/api/v1" "$WORK/nginx"
printf '%s\n' "$PW" >"$WORK/pw"
chmod 600 "$WORK/pw"

echo "bench/api: xenithd on 127.0.0.1:$XPORT, $NVMS VMs"
"$XENITHD" --listen "127.0.0.1:$XPORT" --data "$DATA" --hv test:///default \
    --admin-password-file "$WORK/pw" 2>"$WORK/xenithd.log" &
XPID=$!
wait_https "$XPORT" || {
    tail -20 "$WORK/xenithd.log" >&2
    exit 1
}
TOKEN=$(python3 bench/api/populate.py "$XPORT" "$PW" "$NVMS" \
    "$DATA/srs/bench" "$WORK/www/api/v1/vms")
grep -E '^Vm(HWM|RSS)' "/proc/$XPID/status" >"$WORK/rss-before"

# nginx: a private instance (own pid, logs, temp paths) on the same cert.
chmod 755 "$WORK" "$WORK/www" "$WORK/www/api" "$WORK/www/api/v1"
chmod 644 "$WORK/www/api/v1/vms"
cat >"$WORK/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    sendfile on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$NPORT ssl;
        ssl_certificate $DATA/tls/cert.pem;
        ssl_certificate_key $DATA/tls/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        root $WORK/www;
        location = /api/v1/vms { default_type application/json; }
    }
}
CONF
echo "bench/api: nginx on 127.0.0.1:$NPORT"
"$NGINX" -e "$WORK/nginx/error.log" -p "$WORK/nginx" \
    -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
NPID=$!
wait_https "$NPORT"

# Both must serve the same bytes, and xenithd only with the token.
curl -ks -H "Authorization: Bearer $TOKEN" \
    "https://127.0.0.1:$XPORT/api/v1/vms" >"$WORK/x.json"
curl -ks "https://127.0.0.1:$NPORT/api/v1/vms" >"$WORK/n.json"
cmp -s "$WORK/x.json" "$WORK/n.json" || {
    echo "bench/api: xenithd and nginx serve different bodies" >&2
    exit 1
}

{
    echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "nproc=$(nproc)"
    echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "mem=$(grep -m1 MemTotal /proc/meminfo | awk '{print $2}')"
    echo "kernel=$(uname -r)"
    echo "xenithd=$(curl -ks "https://127.0.0.1:$XPORT/api/v1/health")"
    echo "nginx=$("$NGINX" -v 2>&1)"
    echo "wrk=$(wrk -v 2>&1 | head -1)"
    echo "openssl=$(openssl version)"
    echo "lws=$(dpkg-query -W -f='${Version}' libwebsockets-dev 2>/dev/null || echo '?')"
    echo "nvms=$NVMS"
    echo "bytes=$(wc -c <"$WORK/x.json")"
    echo "rounds=$ROUNDS"
    echo "duration=$DURATION"
    echo "threads=$THREADS"
    echo "conns=$CONNS"
    echo "io_threads=$(grep -l '^xenithd-io' /proc/"$XPID"/task/*/comm | wc -l)"
    echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "clk_tck=$(getconf CLK_TCK)"
    echo "tcp_cc=$(cat "$CCFILE")"
    echo "sys_cc=$SYS_CC"
    echo "netns=${XENITH_BENCH_NETNS:-0}"
    echo "qdisc_lo=$(tc qdisc show dev lo 2>/dev/null | head -1 |
        cut -d' ' -f2)"
} >"$WORK/meta"

: >"$WORK/results"
for c in $CONNS; do
    i=1
    while [ $i -le "$ROUNDS" ]; do
        echo "load conns=$c round=$i $(cut -d' ' -f1 /proc/loadavg)" \
            >>"$WORK/results"
        echo "bench/api: -c$c round $i/$ROUNDS xenithd"
        t0=$(cpu_ticks "$XPID")
        wrk -t"$THREADS" -c"$c" -d"$DURATION" -s bench/api/latency.lua \
            -H "Authorization: Bearer $TOKEN" \
            "https://127.0.0.1:$XPORT/api/v1/vms" | grep '^RESULT' |
            sed "s/^RESULT/xenithd conns=$c round=$i cpu_ticks=X/" \
                >"$WORK/one"
        sed "s/cpu_ticks=X/cpu_ticks=$(($(cpu_ticks "$XPID") - t0))/" \
            "$WORK/one" >>"$WORK/results"
        echo "bench/api: -c$c round $i/$ROUNDS nginx"
        # shellcheck disable=SC2046 # one pid per word
        set -- "$NPID" $(ps --ppid "$NPID" -o pid=)
        t0=$(cpu_ticks "$@")
        wrk -t"$THREADS" -c"$c" -d"$DURATION" -s bench/api/latency.lua \
            "https://127.0.0.1:$NPORT/api/v1/vms" | grep '^RESULT' |
            sed "s/^RESULT/nginx conns=$c round=$i cpu_ticks=X/" \
                >"$WORK/one"
        sed "s/cpu_ticks=X/cpu_ticks=$(($(cpu_ticks "$@") - t0))/" \
            "$WORK/one" >>"$WORK/results"
        i=$((i + 1))
    done
done
# paced_round SERVER ROUND CC OUT: one paced wrk run, its line to OUT.
paced_round() {
    if [ "$1" = xenithd ]; then
        port=$XPORT
        pids=$XPID
        set -- "$@" -H "Authorization: Bearer $TOKEN"
    else
        port=$NPORT
        pids="$NPID $(ps --ppid "$NPID" -o pid= | tr '\n' ' ')"
    fi
    srv=$1
    rnd=$2
    echo "bench/api: paced -c$PACED ~$rate/s round $rnd/$ROUNDS $srv $3"
    pout=$4
    shift 4
    # shellcheck disable=SC2086 # one pid per word
    t0=$(cpu_ticks $pids)
    DELAY_MS=$delay wrk -t"$THREADS" -c"$PACED" -d"$DURATION" \
        -s bench/api/latency.lua "$@" \
        "https://127.0.0.1:$port/api/v1/vms" | grep '^RESULT' |
        sed "s/^RESULT/$srv conns=$PACED round=$rnd cpu_ticks=X/" \
            >"$WORK/one"
    # shellcheck disable=SC2086
    sed "s/cpu_ticks=X/cpu_ticks=$(($(cpu_ticks $pids) - t0))/" \
        "$WORK/one" >>"$pout"
}

# Paced: the same connections at half nginx's saturated rate, each
# waiting DELAY_MS on average (uniform over +-50%) between requests.
: >"$WORK/paced"
if [ -n "$PACED" ] && grep -q "^nginx conns=$PACED " "$WORK/results"; then
    rate=$(grep "^nginx conns=$PACED " "$WORK/results" |
        sed 's/.* rps=\([0-9.]*\).*/\1/' | sort -n |
        awk '{ v[NR] = $1 } END {
            if (NR % 2) m = v[(NR + 1) / 2]
            else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%.0f", m / 2 }')
    delay=$(awk -v c="$PACED" -v r="$rate" 'BEGIN { printf "%.0f", 1000 * c / r }')
    printf 'paced_conns=%s\npaced_rate=%s\npaced_delay_ms=%s\n' \
        "$PACED" "$rate" "$delay" >>"$WORK/meta"
    # Each round: BENCH_CC, then (if it differs) the system's congestion
    # control, each for both servers; new connections take the
    # namespace's setting when they are made (wrk) or accepted (servers).
    ccs=$BENCH_CC
    if [ "$SYS_CC" != "$BENCH_CC" ]; then
        ccs="$ccs $SYS_CC"
        : >"$WORK/paced-sys"
    fi
    i=1
    while [ $i -le "$ROUNDS" ]; do
        for cc in $ccs; do
            echo "$cc" >"$CCFILE"
            pout=$WORK/paced
            [ "$cc" = "$BENCH_CC" ] || pout=$WORK/paced-sys
            paced_round xenithd "$i" "$cc" "$pout"
            paced_round nginx "$i" "$cc" "$pout"
        done
        i=$((i + 1))
    done
    echo "$BENCH_CC" >"$CCFILE"
fi
# Latency of one request at a time, for context beside the figures
# above (queueing dominates those).
for srv in xenithd nginx; do
    if [ $srv = xenithd ]; then
        port=$XPORT
        set -- -H "Authorization: Bearer $TOKEN"
    else
        port=$NPORT
        set --
    fi
    echo "bench/api: one connection, $srv"
    wrk -t1 -c1 -d5s -s bench/api/latency.lua "$@" \
        "https://127.0.0.1:$port/api/v1/vms" | grep '^RESULT' |
        sed "s/^RESULT/$srv conns=1 round=c1/" >>"$WORK/results"
done
echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$WORK/meta"
grep -E '^Vm(HWM|RSS)' "/proc/$XPID/status" >"$WORK/rss-after"

python3 bench/api/report.py "$WORK" >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
cat "$OUT"
