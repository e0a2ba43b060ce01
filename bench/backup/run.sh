#!/bin/sh
# bench/backup/run.sh: xenith-backup beside restic and borg on a 2 GiB
# VM-like image (see bench.py for what runs). Needs root (an XFS loop
# mount for reflink clones) and about 12 GB of free disk.
#   sh bench/backup/run.sh            # writes bench/backup/RESULTS.md
#   ROUNDS=3 SIZE_MIB=2048 WORK=/var/tmp/xbk-bench sh bench/backup/run.sh
#   XENITH_BACKUP_BASE=/path/to/older/xenith-backup sh bench/backup/run.sh
#                                     # adds rows "(base)" to compare builds
set -eu
cd "$(dirname "$0")/../.."
WORK=${WORK:-/var/tmp/xenith-bench-backup}
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
}
trap cleanup EXIT INT TERM
umount "$WORK/xfs" 2>/dev/null || true
rm -rf "$WORK"
mkdir -p "$WORK/xfs"
truncate -s 24G "$WORK/xfs.img"
mkfs.xfs -q -m reflink=1 "$WORK/xfs.img"
mount -o loop "$WORK/xfs.img" "$WORK/xfs"
# A copy, so rebuilding during a run does not change what is measured.
cp build/xenith-backup "$WORK/xenith-backup"
XENITH_BACKUP=$WORK/xenith-backup
export XENITH_BACKUP
python3 bench/backup/bench.py "$WORK/xfs" bench/backup/RESULTS.md
