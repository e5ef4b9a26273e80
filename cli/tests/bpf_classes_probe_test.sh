#!/usr/bin/env bash
# Where classifications count with --classes-in (docs/runtime.md, "Classes in BPF"), decided
# before anything is loaded (apply --dry-run): the probe attaches to each planned
# classification's device and hook. With NAT in the namespace an ingress classification stays in
# nft rules (destination NAT rewrites the port after the program saw it), an egress one does
# not; a device that does not exist keeps its classification in nft rules; `bpf` makes each of
# these an error. The iptables backends count classifications only in their rules: `bpf` is an
# error there, `auto` a notice. Private mount namespace and bpffs (ACCTC_BPF_ROOT).
#   bpf_classes_probe_test.sh ACCTC
set -u
source "$(dirname "$0")/bpf_test_lib.sh" "$@"
host=bpfcp$$
add_namespace "$host"
ip -n "$host" link add wan0 type veth peer name wan1
ip -n "$host" link set wan0 up
acctc_h() { "$acctc" "$1" --netns "$host" "${@:2}"; }

cat >"$work/svc.acct" <<'POLICY'
policy svc
interface wan = wan0
classify arriving in via wan { web: tcp dport 80, 443; otherwise: rest }
classify leaving out via wan { dns: tcp, udp dport 53 }
POLICY
# dry_run CLASSES_IN [OPTION...]: apply --dry-run's exit status, its standard error in $work/err
# and the counters it would load in $work/out: 2 of arriving's and 1 of leaving's in nft rules.
dry_run() {
    acctc_h apply --dry-run --classes-in "$@" "$work/svc.acct" >"$work/out.txt" 2>"$work/err"
    local status=$?
    grep -oE '[0-9]+ new' "$work/out.txt" | cut -d' ' -f1 >"$work/out"
    return $status
}
counters_in_nft() { cat "$work/out"; }

dry_run auto || fail "auto without NAT failed: $(cat "$work/err")"
[[ ! -s $work/err ]] || fail "auto without NAT said: $(cat "$work/err")"
[[ $(counters_in_nft) == 0 ]] || fail "auto without NAT: $(cat "$work/out.txt")"
dry_run nft || fail "nft failed: $(cat "$work/err")"
[[ $(counters_in_nft) == 3 ]] || fail "--classes-in nft: $(cat "$work/out.txt")"

ip netns exec "$host" nft add table ip nat_test
ip netns exec "$host" nft add chain ip nat_test pre '{ type nat hook prerouting priority dstnat; }'
dry_run auto || fail "auto with NAT failed: $(cat "$work/err")"
grep -q "notice: classification arriving counts in nft rules: BPF is not available here (.*would see the destination ports translated)" "$work/err" ||
    fail "no notice for the ingress classification under NAT: $(cat "$work/err")"
grep -q leaving "$work/err" && fail "the egress classification fell back too: $(cat "$work/err")"
[[ $(counters_in_nft) == 2 ]] || fail "under NAT, not only arriving in nft rules: $(cat "$work/out.txt")"
dry_run bpf
status=$?
[[ $status == 1 ]] && grep -q -- "--classes-in bpf: cannot count arriving in BPF here: .*destination ports translated" "$work/err" ||
    fail "--classes-in bpf under NAT exited $status: $(cat "$work/err")"
ip netns exec "$host" nft delete table ip nat_test

ip -n "$host" link del wan0
dry_run auto || fail "auto without the device failed: $(cat "$work/err")"
grep -q "notice: classifications arriving, leaving count in nft rules: BPF is not available here" "$work/err" ||
    fail "no notice without the device: $(cat "$work/err")"

for variant in iptables-nft iptables-legacy; do
    dry_run bpf --backend "$variant"
    status=$?
    [[ $status == 1 ]] && grep -q -- "--classes-in bpf: cannot count arriving, leaving in BPF: the $variant backend counts classifications only in its rules" "$work/err" ||
        fail "$variant --classes-in bpf exited $status: $(cat "$work/err")"
    dry_run auto --backend "$variant" ||
        fail "$variant --classes-in auto failed: $(cat "$work/err")"
    grep -q "notice: classifications arriving, leaving count in iptables rules" "$work/err" ||
        fail "$variant --classes-in auto: no notice: $(cat "$work/err")"
done
finish
echo "ok: --classes-in: BPF without NAT, the ingress classification in nft rules under NAT (bpf: an error), no device: nft rules; iptables: bpf an error, auto a notice"
