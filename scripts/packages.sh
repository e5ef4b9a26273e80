#!/usr/bin/env bash
# The Debian bookworm packages acctc needs to build, test and run. Sourced by the set-up scripts.
ACCTC_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  tao-pegtl-dev libboost-program-options-dev nlohmann-json3-dev
  libnftables-dev libmnl-dev libnftnl-dev librrd-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev  # the sanitizer and fuzzing build (ASan, UBSan, libFuzzer)
  nftables iptables ipset conntrack iproute2 rrdtool curl procps python3
  iputils-ping tcpdump socat  # the kernel tests' pings, captures and UDP sinks (cli/tests)
  # the .deb (CPack, dpkg-shlibdeps), its pages and units; Prometheus for the fleet test and promtool
  dpkg-dev file man-db systemd jq prometheus lintian
  libbpf-dev  # scripts/wire/measure_gso_segs.sh: the BPF measurement of GSO/GRO segments
)
install_acctc_packages() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends "${ACCTC_PACKAGES[@]}"
}
