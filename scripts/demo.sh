#!/usr/bin/env bash
# Installs what acctc needs, builds everything, and runs the main job on the shipped example:
# compiles the Skype supernode example policy into an nftables ruleset, then proves it in
# network namespaces (never the host's own network) with fake Skype peers, printing what each
# counter counted next to what the peers sent and what a packet capture saw.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/packages.sh
install_acctc_packages
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build --parallel "$(nproc)"
# The policy names the group Skype runs as, as the supernode's owner set it up.
getent group skype >/dev/null || groupadd --system skype
echo "== acctc compile examples/skype_supernode.acct"
build/cli/acctc compile examples/skype_supernode.acct
echo "== acctc testbench run -v skype_supernode"
build/cli/acctc testbench run -v skype_supernode
