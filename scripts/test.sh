#!/usr/bin/env bash
# Installs what acctc needs, builds it, and runs the whole test suite: unit, golden, kernel and
# e2e in build/ (warnings are errors here); the unit and golden tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer in build-sanitize/ (label sanitize); and the
# compiler's libFuzzer target for a bounded time in build-fuzz/ (clang, label fuzz).
# docs/testing.md says what each part proves. Kernel and e2e tests run only inside network
# namespaces they create; run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/packages.sh
install_acctc_packages
jobs=$(nproc)
configure() { # DIR OPTIONS...
  local dir=$1
  shift
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DACCTC_WERROR=ON "$@"
}
configure build
cmake --build build --parallel "$jobs"
configure build-sanitize -DACCTC_SANITIZE=ON
cmake --build build-sanitize --parallel "$jobs" --target acctc_pure_tests
configure build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DACCTC_SANITIZE=ON -DACCTC_FUZZ=ON
cmake --build build-fuzz --parallel "$jobs" --target acctc_compile_fuzzer
status=0
ctest --test-dir build --output-on-failure --parallel "$jobs" --timeout 600 || status=1
ctest --test-dir build-sanitize -L sanitize --output-on-failure --parallel "$jobs" \
  --timeout 600 || status=1
ctest --test-dir build-fuzz -L fuzz --output-on-failure || status=1
exit "$status"
