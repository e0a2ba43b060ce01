#!/bin/sh
# Run every unit test binary under DIR; print "N passed, N failed".
set -u
dir=$1
pass=0
failn=0
for t in $(find "$dir" -type f -perm -u+x -name 'test_*' | sort); do
    # A hung test is a failure with its output, never a hung CI.
    if out=$(cd "$(dirname "$0")/.." && timeout -k 10 300 "$t" 2>&1); then
        pass=$((pass + 1))
        echo "PASS $t"
    else
        failn=$((failn + 1))
        echo "FAIL $t"
        echo "$out" | tail -n 40
    fi
done
echo "unit: $pass passed, $failn failed"
[ $failn -eq 0 ] && [ $pass -gt 0 ]
