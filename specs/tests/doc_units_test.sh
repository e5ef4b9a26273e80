#!/usr/bin/env bash
# Every systemd unit the documentation and the examples name (acctc-*.service, .timer) is one
# packaging/systemd installs.
#   doc_units_test.sh SOURCE_DIR
set -u
source_dir=$(realpath "$1")
failures=0
units=$(ls "$source_dir"/packaging/systemd | sed 's/\.in$//')
for unit in $(grep -ohE 'acctc-[a-z]+@?\.(service|timer)' "$source_dir"/README.md \
    "$source_dir"/docs/*.md "$source_dir"/docs/acctc.1 "$source_dir"/examples/*.acct | sort -u); do
    grep -qxF "$unit" <<<"$units" || { echo "FAIL: $unit is named but not installed"; failures=$((failures + 1)); }
done
echo "$failures unknown units"
[[ $failures == 0 ]]
