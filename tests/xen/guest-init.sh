#!/bin/sh
# PID 1 of the tiny PV guest (tests/xen): say hello on the PV console, read
# the marker xenith's test wrote to the first bytes of /dev/xvda, then
# repeat both every 2 s so a console opened later still sees them. Disks
# and NICs that come or go while it runs (hot-plug) are reported as
# "XENITH-GUEST-HOTPLUG add|remove block|net NAME [marker=...]".
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "XENITH-GUEST-HELLO uname=$(uname -r)"
insmod /lib/modules/xen-blkfront.ko 2>/dev/null
insmod /lib/modules/xen-netfront.ko 2>/dev/null
i=0
while [ ! -b /dev/xvda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
marker=none
[ -b /dev/xvda ] && marker=$(head -c 64 /dev/xvda | tr -cd 'A-Za-z0-9_-')
echo "XENITH-GUEST-DISK marker=$marker"
for n in /sys/class/net/eth*; do
    [ -e "$n" ] || continue
    ip link set "${n##*/}" up 2>/dev/null
    echo "XENITH-GUEST-NET ${n##*/} mac=$(cat "$n/address")"
done
# the entries of /sys/$1, space-separated
list() { ls "/sys/$1" | tr '\n' ' '; }
# report what appeared in or left /sys/$2 since the list $1
hotplug() {
    now=$(list "$2")
    for d in $now; do
        case " $1 " in *" $d "*) continue ;; esac
        extra=
        if [ "$2" = block ]; then
            i=0
            while [ ! -b "/dev/$d" ] && [ $i -lt 20 ]; do
                sleep 0.1
                i=$((i + 1))
            done
            extra=" marker=$(head -c 64 "/dev/$d" 2>/dev/null |
                tr -cd 'A-Za-z0-9_-')"
        fi
        echo "XENITH-GUEST-HOTPLUG add ${2#class/} $d$extra"
    done
    for d in $1; do
        case " $now " in *" $d "*) continue ;; esac
        echo "XENITH-GUEST-HOTPLUG remove ${2#class/} $d"
    done
}
blocks=$(list block)
nets=$(list class/net)
n=0
while :; do
    hotplug "$blocks" block
    blocks=$now
    hotplug "$nets" class/net
    nets=$now
    n=$((n + 1))
    echo "XENITH-GUEST-ALIVE n=$n marker=$marker"
    # input from the console is echoed back; "poweroff" and
# "reboot" do what they say
    if read -t 2 line; then
        echo "XENITH-GUEST-GOT $line"
        [ "$line" = poweroff ] && /sbin/poweroff
        [ "$line" = reboot ] && /sbin/reboot
    fi
done
