#!/usr/bin/env bash
# Installs what acctc needs, builds it, and runs the whole test suite (unit, golden, kernel, e2e).
# Kernel and e2e tests run only inside network namespaces they create; run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/packages.sh
install_acctc_packages
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build --parallel "$(nproc)"
ctest --test-dir build --output-on-failure --parallel "$(nproc)" --timeout 600
