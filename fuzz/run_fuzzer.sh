#!/usr/bin/env bash
# Runs a libFuzzer target for a bounded time on a corpus seeded from every policy (.acct) under
# specs/ and examples/. Exits non-zero on a crash, a sanitizer report, a leak or a slow input;
# the input that did it is left in WORK/artifacts (reproduce: FUZZER WORK/artifacts/crash-...).
# Usage: run_fuzzer.sh FUZZER SOURCE_DIR WORK_DIR SECONDS
set -euo pipefail
fuzzer=$1 source=$2 work=$3 seconds=$4
rm -rf "$work/corpus"
mkdir -p "$work/corpus" "$work/artifacts"
while IFS= read -r -d '' policy; do
  relative=${policy#"$source"/}
  cp "$policy" "$work/corpus/${relative//\//_}"
done < <(find "$source/specs" "$source/examples" -name '*.acct' -print0)
# A fixed seed keeps CI runs comparable; ACCTC_FUZZ_SEED=0 lets libFuzzer pick one.
exec "$fuzzer" -max_total_time="$seconds" -timeout=25 -max_len=8192 -seed="${ACCTC_FUZZ_SEED:-1}" \
  -print_final_stats=1 -dict="$source/fuzz/acct.dict" -artifact_prefix="$work/artifacts/" \
  "$work/corpus"
