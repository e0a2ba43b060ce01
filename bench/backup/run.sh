#!/bin/sh
# bench/backup/run.sh: xenith-backup beside restic and borg on a 2 GiB
# VM-like image (see bench.py for what runs). Needs root (an XFS loop
# mount for reflink clones) and about 14 GB of free disk.
#   sh bench/backup/run.sh            # writes bench/backup/RESULTS.md
#   ROUNDS=3 SIZE_MIB=2048 WORK=/var/tmp/xbk-bench sh bench/backup/run.sh
#   XENITH_BACKUP_BASE=/path/to/older/xenith-backup sh bench/backup/run.sh
#                                     # adds rows "(base)" to compare builds
set -eu
cd "$(dirname "$0")/../.."
WORK=${WORK:-/var/tmp/xenith-bench-backup}
# The XFS for images, clones, repositories and restores: at most ~9 GB
# live with the default 2 GiB image.
XFS_GIB=${XFS_GIB:-$(( ${SIZE_MIB:-2048} * 7 / 1024 > 4 ? ${SIZE_MIB:-2048} * 7 / 1024 : 4 ))}
export WORK

if [ "$(id -u)" != 0 ]; then
    echo "run.sh: needs root for the XFS loop mount" >&2
    exit 1
fi
missing=
command -v restic >/dev/null || missing="$missing restic"
command -v borg >/dev/null || missing="$missing borgbackup"
command -v mkfs.xfs >/dev/null || missing="$missing xfsprogs"
if [ -n "$missing" ]; then
    apt-get update -q
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
fi
[ -x build/xenith-backup ] || make -j2 build/xenith-backup

cleanup() {
    umount "$WORK/xfs" 2>/dev/null || true
    [ -z "${LOOP:-}" ] || losetup -d "$LOOP" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
umount "$WORK/xfs" 2>/dev/null || true
for l in $(losetup -j "$WORK/xfs.img" -O NAME -n 2>/dev/null); do
    losetup -d "$l" || true
done
rm -rf "$WORK"
mkdir -p "$WORK/xfs"
# The loop image is written in full first (zeros), not left sparse: a
# sparse backing file makes every first write to a block allocate it in
# the host file system too, which made new files on the XFS 5-10x slower
# to sync than rewritten ones (dd of 200 MB + fdatasync: 0.66-1.8 s
# against 0.13-0.18 s once written) and every tool's first round slow.
# A real disk has no such second allocation. The loop device does direct
# I/O (and the zeros are written with O_DIRECT): a buffered loop device
# copies every block written to the XFS once more, into xfs.img's page
# cache, in its worker on the same 2 cores, and caches it twice; a real
# disk does neither. Same code, one run each, buffered -> direct: change
# map 0.18 -> 0.15 s, its dd limit 0.10 -> 0.07 s, restic full 7.22 ->
# 6.64 s, borg extract 5.98 -> 5.44 s (every tool wrote faster).
dd if=/dev/zero of="$WORK/xfs.img" bs=4M count=$((XFS_GIB * 256)) \
    oflag=direct conv=fsync status=none
mkfs.xfs -q -m reflink=1 "$WORK/xfs.img"
LOOP=$(losetup -f --show --direct-io=on "$WORK/xfs.img")
mount "$LOOP" "$WORK/xfs"
# A copy, so rebuilding during a run does not change what is measured.
cp build/xenith-backup "$WORK/xenith-backup"
XENITH_BACKUP=$WORK/xenith-backup
export XENITH_BACKUP
python3 bench/backup/bench.py "$WORK/xfs" bench/backup/RESULTS.md
