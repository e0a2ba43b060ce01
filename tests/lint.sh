#!/bin/sh
# make lint: banned functions and header fences (../shared/STYLE.md).
set -u
fail=0
files=$(git ls-files '*.c' '*.h' 2>/dev/null)
[ -n "$files" ] || files=$(find common db xen backup server tests -name '*.[ch]')

say() { echo "lint: $*"; fail=1; }

# Banned functions.
for f in $files; do
    grep -nE '(^|[^A-Za-z0-9_.>])(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|strtok|strncpy)[[:space:]]*\(' "$f" \
        | grep -v 'lint: allow' | sed "s|^|lint: $f:banned: |" | grep . && fail=1
done

# Third-party header fences: "header regex" "allowed path regex".
fence() {
    hdr=$1
    allowed=$2
    for f in $files; do
        echo "$f" | grep -qE "$allowed" && continue
        grep -nE "#include[[:space:]]*<($hdr)" "$f" >/dev/null &&
            say "$f includes <$hdr> outside $allowed"
    done
}
fence 'libxl|xenstore|xenstat|xenctrl|xentoollog' '^(xen/libxl/|tests/unit/xen/)'
fence 'microhttpd\.h|libwebsockets\.h' '^server/http/'
fence 'sqlite3\.h' '^(db/|tests/unit/db/)'
fence 'zstd\.h' '^backup/'
fence 'openssl/' '^(backup/|server/http/|common/hash\.c|common/seal\.c|tests/unit/|bench/)'

# Our own layering: common includes nothing of ours; xen/ db/ backup/ never
# include server/ or each other.
for f in $files; do
    case "$f" in
    common/*) bad='"(db|xen|backup|server)/' ;;
    xen/*) bad='"(db|backup|server)/' ;;
    db/*) bad='"(xen|backup|server)/' ;;
    backup/*) bad='"(db|xen|server)/' ;;
    *) continue ;;
    esac
    grep -nE "#include[[:space:]]*$bad" "$f" >/dev/null && say "$f breaks the layering ($bad)"
done

# Every .c includes its own header first, when it has one.
for f in $files; do
    case "$f" in *.c) ;; *) continue ;; esac
    h=${f%.c}.h
    [ -f "$h" ] || continue
    first=$(grep -m1 -E '^#include' "$f")
    echo "$first" | grep -q "\"$h\"" || say "$f: first include must be \"$h\""
done

# Header guards.
for f in $files; do
    case "$f" in *.h) ;; *) continue ;; esac
    grep -q '^#ifndef XENITH_' "$f" || say "$f: no XENITH_ include guard"
done

if [ $fail -eq 0 ]; then echo "lint: ok"; fi
exit $fail
