# Sourced by the kernel tests of per-host counters in BPF, with the test's arguments (ACCTC
# first): runs the test again in a private mount namespace, where its own bpffs is mounted at
# $ACCTC_BPF_ROOT (under $work) and nothing is pinned in the host's /sys/fs/bpf. Sets acctc and
# work; deletes the network namespaces the test lists in `namespaces`, the bpffs and $work on
# exit. fail MESSAGE ends the test.
if [[ -z ${ACCTC_BPF_TEST_PRIVATE:-} ]]; then
    ACCTC_BPF_TEST_PRIVATE=1 exec unshare -m --propagation private "$0" "$@"
fi
acctc=$(realpath "$1")
work=$(mktemp -d /tmp/acctc-bpf-test-XXXXXX)
export ACCTC_BPF_ROOT=$work/bpffs ACCTC_STATE_DIR=$work/state
mkdir -p "$ACCTC_BPF_ROOT"
mount -t bpf -o mode=0700 bpf "$ACCTC_BPF_ROOT" # acctc mounts none itself
namespaces=()
cleanup() {
    for ns in "${namespaces[@]}"; do ip netns del "$ns" 2>/dev/null; done
    umount "$ACCTC_BPF_ROOT" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
