#!/usr/bin/env bash
# Reproduces every figure of docs/performance.md on this machine: builds an optimised acctc,
# runs `acctc bench` (data path, apply, counter reads: about 7 minutes, in namespaces of its
# own) and the compiler's Google Benchmark, and writes bench.json and compiler-bench.json into
# the directory given (default: the current one). Run it as root on an otherwise idle machine.
set -euo pipefail
out="$(realpath "${1:-.}")"
cd "$(dirname "$0")/.."
. scripts/packages.sh
install_acctc_packages
# -O2: GCC 12 at -O3 stops on a false -Wrestrict in compiler/src/emit_nft.cpp.
cmake -S . -B build-perf -G Ninja -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG"
cmake --build build-perf --target acctc acctc_compiler_bench --parallel "$(nproc)"
build-perf/cli/acctc bench --json > "$out/bench.json"
# Pinned like the bench's sender: one CPU's speed, not the scheduler's.
taskset -c "$(($(nproc) - 1))" build-perf/compiler/bench/acctc_compiler_bench \
  --benchmark_format=json > "$out/compiler-bench.json"
echo "wrote $out/bench.json and $out/compiler-bench.json"
