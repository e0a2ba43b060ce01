#!/bin/sh
# gzip-web.sh DIR: write a precompressed twin FILE.gz beside every
# compressible file of the web UI (html js mjs css svg json map txt
# wasm), which xenithd serves to clients sending Accept-Encoding: gzip.
# Idempotent: a twin is rewritten only when older than its file.
set -eu
dir=${1:-web}
find "$dir" -type f \( -name '*.html' -o -name '*.js' -o -name '*.mjs' \
    -o -name '*.css' -o -name '*.svg' -o -name '*.json' -o -name '*.map' \
    -o -name '*.txt' -o -name '*.wasm' \) | while IFS= read -r f; do
    if [ ! -e "$f.gz" ] || [ -n "$(find "$f" -newer "$f.gz")" ]; then
        gzip -9 -n -c "$f" > "$f.gz.tmp"
        mv "$f.gz.tmp" "$f.gz"
    fi
done
