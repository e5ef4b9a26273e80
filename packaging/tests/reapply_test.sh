#!/usr/bin/env bash
# The apply unit's re-apply path, without systemd as PID 1: the unit's own ExecStart and
# ExecReload lines (as installed, with /usr/bin/acctc pointed at the build) run in a network
# namespace after what nftables.service does on restart ("nft flush ruleset") and on reload
# (nft -f of a file starting with "flush ruleset"): the acctc table comes back and counts again;
# a plain reload keeps the counts. The unit's ExecStop (acctc save) books the counts into the
# period totals before the flush, so `acctc report` still has them. systemd-analyze checks that the unit binds itself to
# nftables.service (PartOf, ReloadPropagatedFrom, WantedBy, After).
#   reapply_test.sh ACCTC UNIT_TEMPLATE
set -u
acctc=$(realpath "$1")
template=$2
netns=acctc-package-reapply-$$
work=$(mktemp -d /tmp/acctc-reapply-XXXXXX)
cleanup() { ip netns del "$netns" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

ip netns add "$netns" || exit 1
ip -n "$netns" link set lo up
mkdir -p "$work/etc/acctc"
cat >"$work/etc/acctc/lan.acct" <<'POLICY'
policy lan
counter sent { out; udp dport 9; include loopback }
POLICY

# The unit as installed, and its commands for the instance lan.
sed "s|@CMAKE_INSTALL_FULL_BINDIR@|/usr/bin|g" "$template" >"$work/acctc-apply@.service"
command_of() { # command_of KEY: the unit's KEY= line for instance lan, with the build's acctc
    sed -n "s/^$1=//p" "$work/acctc-apply@.service" | sed "s|/usr/bin/acctc|$acctc|; s/%i/lan/g"
}
start=$(command_of ExecStart)
reload=$(command_of ExecReload)
stop=$(command_of ExecStop)
stop=${stop#-} # "-": a failed save does not fail the stop
[[ $start == "$acctc apply lan" ]] || fail "ExecStart is '$start'"
[[ $stop == "$acctc save --quiet lan" ]] || fail "ExecStop is '$stop'"
# With the unit's UMask=, as systemd runs its commands.
unit_umask=$(command_of UMask)
[[ -n $unit_umask ]] || fail "the unit sets no UMask="
in_netns() {
    (umask "${unit_umask:-0022}" &&
        ip netns exec "$netns" env ACCTC_POLICY_DIR="$work/etc/acctc" ACCTC_STATE_DIR="$work/state" "$@")
}
reported() { # the packets of counter sent in acctc report: the period totals
    in_netns "$acctc" report lan --json -x | python3 -c '
import json, sys
rows = json.load(sys.stdin)["policies"][0]["periods"][0]["families"]
print(sum(r["packets"] for r in rows if r["name"] == "sent"))'
}
sent() { # the packet count of counter sent, or "none" without the table
    in_netns nft list counter inet acctc_lan sent 2>/dev/null |
        sed -n 's/.*packets \([0-9]*\) bytes.*/\1/p' | grep . || echo none
}
send() { # send N: N datagrams to the discard port on the namespace's loopback
    ip netns exec "$netns" bash -c 'for ((i = 0; i < $1; i++)); do echo x >/dev/udp/127.0.0.1/9; done' _ "$1"
}

# Unit logic: what systemd itself reads from the file.
for property in 'PartOf=nftables.service' 'ReloadPropagatedFrom=nftables.service' \
    'WantedBy=sysinit.target nftables.service'; do
    grep -qx "$property" "$work/acctc-apply@.service" || fail "unit lacks $property"
done
grep -q '^After=.*nftables.service' "$work/acctc-apply@.service" || fail "not After= nftables"
(cd "$work" && SYSTEMD_LOG_LEVEL=err systemd-analyze verify --man=no acctc-apply@lan.service) \
    2>&1 | grep -v 'is not executable\|Failed to prepare filename' | grep . &&
    fail "systemd-analyze verify complains"

in_netns $start >/dev/null || fail "ExecStart failed"
send 3
[[ $(sent) == 3 ]] || fail "after start: $(sent) datagrams, not 3"

# systemctl restart nftables: PartOf stops the unit first (ExecStop: the counts are saved), then
# nftables' ExecStop flushes, then the unit starts again: ExecStart.
in_netns $stop || fail "ExecStop failed"
# That first save made the period totals: `acctc report --saved` reads them without privileges
# (docs/periods.md), so the unit's umask must leave them readable.
chmod 755 "$work"
# In the namespace, as the unit saved there (with --netns it would read STATE/netns/NAME, where
# nothing was saved: before report --saved refused a name without totals, that passed vacuously).
ip netns exec "$netns" setpriv --reuid=65534 --regid=65534 --clear-groups "$acctc" report --saved \
    --json -x --state-dir "$work/state" lan >"$work/nobody.json" 2>"$work/nobody.log" ||
    fail "an unprivileged report --saved cannot read what ExecStop saved: $(cat "$work/nobody.log")"
saved=$(python3 -c '
import json, sys
rows = json.load(open(sys.argv[1]))["policies"][0]["periods"][0]["families"]
print(sum(r["packets"] for r in rows if r["name"] == "sent"))' "$work/nobody.json")
[[ $saved == 3 ]] || fail "the unprivileged report --saved has $saved datagrams, not 3"
in_netns nft flush ruleset
[[ $(sent) == none ]] || fail "flush left the table"
in_netns $start >/dev/null || fail "ExecStart after the flush failed"
[[ $(sent) == 0 ]] || fail "after the re-apply: $(sent), not a fresh table"
send 2
[[ $(sent) == 2 ]] || fail "the re-applied table counts $(sent), not 2"
[[ $(reported) == 5 ]] || fail "the report has $(reported) datagrams after the restart, not 5"

# acctc-save.timer: saved before nftables' reload flushes (a reload has no stop to save in).
in_netns "$acctc" save --quiet || fail "acctc save failed"

# systemctl reload nftables: nft -f /etc/nftables.conf; ReloadPropagatedFrom: ExecReload.
printf 'flush ruleset\ntable inet filter {\n  chain input { type filter hook input priority 0; }\n}\n' \
    >"$work/nftables.conf"
in_netns nft -f "$work/nftables.conf"
[[ $(sent) == none ]] || fail "nftables.conf did not flush"
in_netns $reload >/dev/null || fail "ExecReload failed"
send 1
[[ $(sent) == 1 ]] || fail "after the reload: $(sent), not 1"
in_netns nft list table inet filter >/dev/null || fail "the re-apply touched nftables' own table"

# systemctl reload acctc-apply@lan without a flush: the counts stay.
in_netns $reload >/dev/null || fail "second ExecReload failed"
[[ $(sent) == 1 ]] || fail "a reload without a flush lost counts: $(sent)"
[[ $(reported) == 6 ]] || fail "the report has $(reported) datagrams in the end, not 6"

((failures == 0)) && echo "all passed"
exit $((failures != 0))
