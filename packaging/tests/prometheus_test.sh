#!/usr/bin/env bash
# A real Prometheus (Debian's) scrapes `acctc serve` in a network namespace while datagrams are
# counted there, with the shipped recording and alerting rules (their group intervals shortened
# to 1 s). What it stored and computed must match the kernel's counters as `nft` reports them:
# the raw counters exactly, increase() and rate() exactly at the last sample (the series starts
# at 0, so PromQL extrapolates nothing), the recorded per-day series within extrapolation, and
# every rule evaluates without error; after `nft flush ruleset` AcctcPolicyNotLoaded fires.
#   prometheus_test.sh ACCTC SOURCE_DIR
set -u
acctc=$(realpath "$1")
examples=$(realpath "$2")/examples/prometheus
netns=acctc-package-prom-$$
work=$(mktemp -d /tmp/acctc-prometheus-XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
    ip netns del "$netns" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
command -v prometheus >/dev/null || { echo "prometheus is not installed (scripts/packages.sh)"; exit 1; }

promtool check config "$examples/prometheus.yml" >/dev/null || fail "promtool check config"
promtool check rules "$examples"/acctc-*-rules.yml >/dev/null || fail "promtool check rules"
jq -e '.panels | length > 0' "$examples/grafana-dashboard.json" >/dev/null || fail "dashboard JSON"

ip netns add "$netns" || exit 1
ip -n "$netns" link set lo up
for host in 198.18.0.1 198.18.0.2 198.18.0.3; do ip -n "$netns" address add $host/32 dev lo; done
in_netns() { ip netns exec "$netns" "$@"; }
cat >"$work/fleet.acct" <<'POLICY'
policy fleet
counter sent { out; udp dport 9; include loopback }
counter echo { udp dport 7; split direction; include loopback }
counter hosts { out; udp dport 5; include loopback; split host destination }
quota hosts { on hosts; 1 MB per day; warn at 800 B }
POLICY
in_netns "$acctc" apply "$work/fleet.acct" >/dev/null || { echo "FAIL: apply"; exit 1; }

# The shipped rules, evaluated every second; the shipped scrape job, every second.
for rules in "$examples"/acctc-*-rules.yml; do
    sed 's/^\(\s*\)interval: .*/\1interval: 1s/' "$rules" >"$work/$(basename "$rules")"
done
cat >"$work/prometheus.yml" <<CONFIG
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $work/acctc-recording-rules.yml
  - $work/acctc-alerting-rules.yml
scrape_configs:
  - job_name: acctc
    scrape_interval: 1s
    static_configs:
      - targets: ['127.0.0.1:9739']
CONFIG
ip netns exec "$netns" "$acctc" serve --listen 127.0.0.1:9739 2>"$work/serve.log" >&2 &
pids+=($!)
ip netns exec "$netns" prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
    --web.listen-address=127.0.0.1:9090 >"$work/prometheus.log" 2>&1 &
pids+=($!)

query() { # query PROMQL [TIME]: the first result's value, or "none"
    in_netns curl -s --max-time 5 http://127.0.0.1:9090/api/v1/query \
        --data-urlencode "query=$1" ${2:+--data-urlencode "time=$2"} |
        jq -r '.data.result[0].value[1] // "none"' 2>/dev/null | grep . || echo none
}
wait_for() { # wait_for SECONDS PROMQL: until it has a result
    local deadline=$((SECONDS + $1))
    while ((SECONDS < deadline)); do
        [[ $(query "$2") != none ]] && return 0
        sleep 0.5
    done
    return 1
}
send() { # send PORT N [ADDRESS]
    in_netns bash -c 'for ((i = 0; i < $2; i++)); do echo x >/dev/udp/$3/$1; done' _ "$1" "$2" \
        "${3:-127.0.0.1}"
}
kernel() { # kernel COUNTER packets|bytes, as nft reports it
    in_netns nft -j list counter inet acctc_fleet "$1" | jq -r ".nftables[1].counter.$2"
}

# Series that start at 0: the first scrapes happen before any traffic.
wait_for 30 'acctc_packets_total{counter="sent"} == 0' || {
    cat "$work/serve.log" "$work/prometheus.log" | tail -20
    echo "FAIL: Prometheus never scraped acctc"
    exit 1
}
sleep 2
for burst in 1 2 3 4; do
    send 9 $((burst * 5))
    send 7 3
    for host in 1 2 3; do send 5 $((host * burst)) 198.18.0.$host; done
    sleep 1
done
sleep 3 # a few scrapes after the last packet

# Kernel counter name, and its series: the family in `counter`, the split in `direction`.
for entry in 'sent|counter="sent"' 'echo_in|counter="echo",direction="in"' \
    'echo_out|counter="echo",direction="out"'; do
    counter=${entry%%|*}
    packets=$(kernel "$counter" packets)
    bytes=$(kernel "$counter" bytes)
    selector="{policy=\"fleet\",${entry#*|}}"
    last=$(query "timestamp(acctc_packets_total$selector)")
    echo "$counter: kernel $packets packets $bytes bytes"
    [[ $(query "acctc_packets_total$selector" "$last") == "$packets" ]] ||
        fail "$counter: stored $(query "acctc_packets_total$selector" "$last") packets"
    [[ $(query "acctc_bytes_total$selector" "$last") == "$bytes" ]] ||
        fail "$counter: stored $(query "acctc_bytes_total$selector" "$last") bytes"
    increase=$(query "increase(acctc_packets_total$selector[10m])" "$last")
    awk -v a="$increase" -v b="$packets" 'BEGIN { exit !(a - b < 1e-9 && b - a < 1e-9) }' ||
        fail "$counter: increase() $increase, kernel $packets"
    rate=$(query "rate(acctc_bytes_total$selector[5m])" "$last")
    awk -v r="$rate" -v b="$bytes" 'BEGIN { d = r * 300 - b; exit !(d < 1e-6 && d > -1e-6) }' ||
        fail "$counter: rate() $rate, kernel $bytes bytes / 300 s"
    # The recording rules' series, evaluated at their own times: extrapolation only at the end,
    # by at most half a scrape interval of the ~10 s sampled.
    for rule in counter_direction:acctc_packets:increase1d counter_direction:acctc_packets:increase30d; do
        recorded=$(query "$rule$selector")
        awk -v r="$recorded" -v k="$packets" 'BEGIN { exit !(r >= k - 1e-9 && r <= k * 1.15) }' ||
            fail "$counter: $rule is $recorded, kernel $packets"
    done
    recorded=$(query "counter_direction:acctc_bytes:rate5m$selector")
    awk -v r="$recorded" -v b="$bytes" 'BEGIN { exit !(r * 300 >= b - 1e-6 && r * 300 <= b * 1.15) }' ||
        fail "$counter: counter_direction:acctc_bytes:rate5m is $recorded, kernel $bytes / 300 s"
done
# A per-host family is one series per direction in the rules, its hosts summed (overflow, and
# `other` beyond --max-hosts, included): 6 + 12 + 18 + 24 datagrams were sent. A host's series
# appears with its first scrape, already above 0, so increase() cannot see what it held then:
# the rule is the sum of its hosts' increase() at the rule's own evaluation, at most what was sent.
for rule in counter_direction:acctc_packets:increase1d counter:acctc_bytes:increase1d; do
    [[ $(query "count($rule{counter=\"hosts\"})") == 1 ]] ||
        fail "$rule: $(query "count($rule{counter=\"hosts\"})") series for one per-host family"
done
echo "stored sent: $(query 'acctc_packets_total{counter="sent"}') packets," \
    "recorded per day: $(query 'counter_direction:acctc_packets:increase1d{counter="sent"}')"

# Every rule of both files loaded and evaluates without error.
rules=$(in_netns curl -s http://127.0.0.1:9090/api/v1/rules)
[[ $(jq '[.data.groups[].rules[]] | length' <<<"$rules") == 14 ]] ||
    fail "rules loaded: $(jq -c '[.data.groups[].rules[].name]' <<<"$rules")"
bad=$(jq -r '.data.groups[].rules[] | select(.health != "ok") | "\(.name): \(.lastError)"' <<<"$rules")
[[ -z $bad ]] || fail "rules with errors: $bad"
[[ $(query 'acctc_policy_loaded{policy="fleet"}') == 1 ]] || fail "acctc_policy_loaded is not 1"
# The per-host quota's hosts: .3 (30 datagrams of 30 bytes) is past 800 B, .2 (20) is not.
[[ $(query 'count(ALERTS{alertname="AcctcQuotaWarning",policy="fleet",quota="hosts"})') == 1 &&
    $(query 'ALERTS{alertname="AcctcQuotaWarning",host="198.18.0.3"}') != none ]] ||
    fail "AcctcQuotaWarning: $(query 'count(ALERTS{alertname="AcctcQuotaWarning"})') alerts"
[[ $(query 'ALERTS{alertname!="AcctcQuotaWarning"}') == none ]] ||
    fail "alerts while all is well: $(query 'ALERTS{alertname!="AcctcQuotaWarning"}')"

# nftables restarted without acctc bound to it: the policy is gone, and the alert says so.
in_netns nft flush ruleset
deadline=$((SECONDS + 15))
until [[ $(query 'ALERTS{alertname="AcctcPolicyNotLoaded",policy="fleet"}') != none ]]; do
    ((SECONDS < deadline)) || { fail "AcctcPolicyNotLoaded did not become pending"; break; }
    sleep 0.5
done

# The per-host rule against its hosts' increase(), with the policy gone: its series get no more
# samples, so the rule's value at its evaluation is what a query at that time computes. While
# scrapes land, one may be stored after a rule evaluated past its timestamp, and increase()'s
# extrapolation moves with it. The rule's value and its time come from one stored sample.
deadline=$((SECONDS + 15))
until [[ $(query 'acctc_packets_total{counter="hosts"}') == none ]]; do
    ((SECONDS < deadline)) || { fail "the per-host series did not end with the policy"; break; }
    sleep 0.5
done
sleep 2.5 # two rule evaluations over the ended series
sample=$(in_netns curl -s --max-time 5 http://127.0.0.1:9090/api/v1/query \
    --data-urlencode 'query=counter_direction:acctc_packets:increase1d{counter="hosts"}[5s]' |
    jq -r '.data.result[0].values[-1] | "\(.[0]) \(.[1])"' 2>/dev/null)
evaluated=${sample% *} recorded=${sample#* }
summed=$(query 'sum(increase(acctc_packets_total{counter="hosts"}[1d]))' "$evaluated")
awk -v r="$recorded" -v s="$summed" 'BEGIN { d = r - s; exit !(r > 0 && r <= 60 * 1.15 && d < 1e-6 && d > -1e-6) }' ||
    fail "hosts: counter_direction:acctc_packets:increase1d is $recorded at $evaluated, its hosts' increase() $summed, sent 60"

((failures == 0)) && echo "all passed"
exit $((failures != 0))
