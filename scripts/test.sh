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
# Each build's wall and CPU time in the log: the suite must stay within CI's 30 minutes.
timed() { # WHAT COMMAND...
  local what=$1 TIMEFORMAT
  shift
  TIMEFORMAT="$what: %0R s wall, %0U s user, %0S s system"
  time "$@"
}
configure build
timed "build (build/)" cmake --build build --parallel "$jobs"
# The sanitizer and fuzzer trees only run tests, so they trade debug information, and the
# sanitizer tree optimisation, for build time: -g1 (line tables: enough for the sanitizers' stack
# traces; full -g took a third more CPU) and -O1 (what ASan recommends; -O2 took half as much CPU
# again). build/ stays -O2 -g.
configure build-sanitize -DACCTC_SANITIZE=ON -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG"
timed "build (build-sanitize/)" cmake --build build-sanitize --parallel "$jobs" \
  --target acctc_pure_tests
# The fuzzer keeps -O2: its 30 s should try as many inputs as they can.
configure build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DACCTC_SANITIZE=ON -DACCTC_FUZZ=ON \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"
timed "build (build-fuzz/)" cmake --build build-fuzz --parallel "$jobs" \
  --target acctc_compile_fuzzer
status=0
ctest --test-dir build --output-on-failure --parallel "$jobs" --timeout 600 || status=1
ctest --test-dir build-sanitize -L sanitize --output-on-failure --parallel "$jobs" \
  --timeout 600 || status=1
ctest --test-dir build-fuzz -L fuzz --output-on-failure || status=1
exit "$status"
