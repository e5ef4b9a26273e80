#!/usr/bin/env bash
# Every whole policy the documentation shows (a fenced block whose first statement is
# `policy NAME`) must check clean: README.md's first example is what a new user types first.
#   doc_policies_test.sh ACCTC SOURCE_DIR
set -u
acctc=$(realpath "$1")
source_dir=$(realpath "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
found=0
for doc in "$source_dir"/README.md "$source_dir"/docs/*.md; do
    # One file per fenced block that starts (after comments and blank lines) with `policy NAME`.
    awk -v dir="$work" -v base="$(basename "$doc")" '
        /^```/ {
            if (in_block && is_policy) { print body > (dir "/" base "_" start ".acct"); close(dir "/" base "_" start ".acct") }
            in_block = !in_block; body = ""; is_policy = 0; seen = 0; start = NR + 1; next
        }
        in_block {
            body = body $0 "\n"
            if (!seen && $0 !~ /^[ \t]*(#.*)?$/) { seen = 1; is_policy = ($0 ~ /^[ \t]*policy[ \t]+[A-Za-z_0-9]+[ \t]*$/) }
        }' "$doc"
done
for policy in "$work"/*.acct; do
    [[ -e $policy ]] || continue
    found=$((found + 1))
    if ! output=$("$acctc" check --etc "$source_dir/specs/etc" "$policy" 2>&1); then
        echo "FAIL: $(basename "$policy" .acct | sed 's/_\([0-9]*\)$/ (block at line \1)/'):"
        echo "$output"
        failures=$((failures + 1))
    fi
done
# The README alone holds seven; finding none means the extraction broke.
[[ $found -ge 7 ]] || { echo "FAIL: only $found policies found in the documentation"; failures=$((failures + 1)); }
echo "$found documented policies checked, $failures failed"
[[ $failures == 0 ]]
