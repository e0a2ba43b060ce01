#!/bin/sh
# Black-box tests of build/xenith-backup (tests/backup/test_*.py).
set -eu
cd "$(dirname "$0")/../.."
: "${XENITH_BACKUP:=build/xenith-backup}"
export XENITH_BACKUP
exec python3 tests/backup/run.py "$@"
