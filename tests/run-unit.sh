#!/bin/sh
# Run every unit test binary under DIR; print "N passed, N failed" and
# the cmocka tests that skipped themselves (not run, never passed).
set -u
dir=$1
pass=0
failn=0
notrun=0
for t in $(find "$dir" -type f -perm -u+x -name 'test_*' | sort); do
    # A hung test is a failure with its output, never a hung CI.
    if out=$(cd "$(dirname "$0")/.." && timeout -k 10 300 "$t" 2>&1); then
        pass=$((pass + 1))
        echo "PASS $t"
        skipped=$(echo "$out" | sed -n 's/^\[  SKIPPED \] \(test_[A-Za-z0-9_]*\)$/\1/p' |
            sort -u)
        for s in $skipped; do
            notrun=$((notrun + 1))
            echo "NOT RUN $t: $s (skipped itself)"
        done
    else
        failn=$((failn + 1))
        echo "FAIL $t"
        echo "$out" | tail -n 40
    fi
done
echo "unit: $pass passed, $failn failed ($notrun tests in them not run)"
[ $failn -eq 0 ] && [ $pass -gt 0 ]
