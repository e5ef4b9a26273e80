#!/usr/bin/env bash
# The CLI's conventions without root: policies found by name, did-you-mean hints, usage errors,
# and the completion script written from the option tables.
#   usage_test.sh ACCTC
set -u
acctc=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# expect STATUS PATTERN command...: runs it, checks the exit status and that stdout+stderr match.
expect() {
    local status=$1 pattern=$2
    shift 2
    local output actual
    output=$("$@" 2>&1)
    actual=$?
    [[ $actual == "$status" ]] || fail "$* exited $actual, not $status: $output"
    grep -qE -- "$pattern" <<<"$output" || fail "$* printed no /$pattern/: $output"
}

# Policies by name: --policy-dir, then $ACCTC_POLICY_DIR, then /etc/acctc; paths win.
mkdir -p "$work/first" "$work/second"
printf 'policy first_dir\ncounter everything { }\n' >"$work/first/lan.acct"
printf 'policy second_dir\ncounter everything { }\n' >"$work/second/lan.acct"
printf 'policy only_second\ncounter everything { }\n' >"$work/second/wan.acct"
expect 0 'table inet acctc_first_dir' "$acctc" compile --policy-dir "$work/first" lan
expect 0 'acctc_first_dir' env ACCTC_POLICY_DIR="$work/first:$work/second" "$acctc" compile lan
expect 0 'acctc_second_dir' env ACCTC_POLICY_DIR="$work/first" "$acctc" compile \
    --policy-dir "$work/second" lan.acct
expect 0 'acctc_only_second' env ACCTC_POLICY_DIR="$work/first:$work/second" "$acctc" compile wan
expect 2 "no policy 'nowhere': no file of that name, and no nowhere.acct in $work/first or /etc/acctc" \
    "$acctc" check --policy-dir "$work/first" nowhere
(cd "$work/second" && expect 0 'acctc_second_dir' "$acctc" compile --policy-dir "$work/first" lan.acct)
expect 2 "cannot read '\./lan'" "$acctc" check --policy-dir "$work/first" ./lan
expect 2 "cannot read '$work/first': Is a directory" "$acctc" check "$work/first"

# Did you mean: subcommands, options, policy keywords.
expect 2 "unknown command 'aply'; did you mean 'apply'\?" "$acctc" aply
expect 2 "unrecognised option '--dry-rn'; did you mean '--dry-run'\?" "$acctc" apply --dry-rn x
expect 2 "unrecognised option '--jsn'; did you mean '--json'\?" "$acctc" counters --jsn
printf 'policy p\ncountr r { out }\n' >"$work/typo.acct"
expect 1 "found 'countr'; did you mean 'counter'\?" "$acctc" check "$work/typo.acct"

# --watch 0 says what is allowed, before touching the kernel.
for seconds in 0 -1 nan 100000; do
    expect 2 "--watch takes a number of seconds above 0 and at most 86400 \(e.g. --watch 1 or --watch 0.5\), not $seconds" \
        "$acctc" counters --watch "$seconds"
done
expect 2 '--reset zeroes every counter of the policy at once, so it takes no COUNTER' \
    "$acctc" counters lan web --reset
expect 2 "unrecognised option '--policy-dri'; did you mean '--policy-dir'\?" "$acctc" counters --policy-dri x
# --host takes an address, a MAC or overflow (docs/runtime.md); "other" selected nothing.
expect 2 "--host other: no counter reads as host 'other'" "$acctc" counters lan --host other
# A policy from standard input: <stdin> in errors, stdin in the rules' origins.
expect 0 'comment "stdin:2"' sh -c "printf 'policy s\ncounter c { tcp port 80 }\n' | '$acctc' compile -"
expect 1 '^<stdin>:2:1' sh -c "printf 'policy s\ncountr c { }\n' | '$acctc' check -"
# --top N keeps the first N rows (families for report): 0 keeps nothing, so it is refused,
# not read as "every row".
expect 2 '--top takes a number of rows of 1 or more, not 0' "$acctc" counters lan --top 0
expect 2 '--top takes a number of families of 1 or more, not 0' "$acctc" report lan --top 0

# compile and check take a backend as every kernel command does (--backend), or --target.
printf 'policy seg\ninterface s = eth0\ncounter seen { passive via s }\ncounter c { }\n' >"$work/seg.acct"
printf 'policy web\ncounter c { tcp port 443 }\n' >"$work/web.acct"
expect 0 'iptables-restore --noflush' "$acctc" compile --backend iptables-legacy "$work/web.acct"
expect 0 'table inet acctc_web' "$acctc" compile --backend nft "$work/web.acct"
expect 1 "passive collection, which iptables cannot express" "$acctc" check --backend iptables "$work/seg.acct"
expect 1 "passive collection, which iptables cannot express" "$acctc" check --target iptables-nft "$work/seg.acct"
expect 0 '' "$acctc" check "$work/seg.acct"
expect 2 "unknown backend 'ipt' \(expected nft, iptables" "$acctc" compile --backend ipt "$work/web.acct"
expect 2 'name two backends' "$acctc" compile --target iptables --backend nft "$work/web.acct"

# --host takes an address or MAC in any spelling; anything else is a usage error, not an empty list.
expect 2 "--host takes an IPv4 or IPv6 address, a MAC or overflow, not 'bogus'" \
    "$acctc" counters --netns acctc-usage-none --host bogus

# A directory given as the policy: not "No such file or directory", which it is not.
expect 2 "cannot read '$work/': Is a directory" "$acctc" check "$work/"

# --hosts-in's and --classes-in's values are checked by every command that takes them (counters
# ignored a typo, exit 0).
expect 2 "unknown --hosts-in 'bogus' \(expected auto, nft or bpf\)" \
    "$acctc" counters --netns acctc-usage-none --hosts-in bogus
expect 2 "unknown --hosts-in 'bpff'" "$acctc" save --state-dir "$work/state" --hosts-in bpff
expect 2 "unknown --classes-in 'bogus' \(expected auto, nft or bpf\)" \
    "$acctc" counters --netns acctc-usage-none --classes-in bogus
expect 2 "unknown --classes-in 'bpff'" "$acctc" diff --classes-in bpff "$work/first/lan.acct"

# A negative count or duration is a usage error (Boost read -5 as 4294967291: save --every -5
# slept for 136 years), and --count needs at least one update; all before touching anything.
expect 2 "--every takes a whole number without a sign, not '-5'" "$acctc" save --state-dir "$work/state" --every -5
expect 2 "--every takes a whole number without a sign, not '-5'" "$acctc" record --rrd-dir "$work/rrd" --every=-5
expect 2 "--top takes a whole number without a sign, not '-1'" "$acctc" counters --top -1
expect 2 "--history takes a whole number without a sign, not '-1'" "$acctc" report --history -1
expect 2 "--count takes a number of updates of 1 or more, not 0" "$acctc" counters --watch 1 --count 0
[[ -e $work/state || -e $work/rrd ]] && fail "a refused save or record wrote its directory"

# Completion: every option of every command's table, and nothing else.
"$acctc" completion bash >"$work/completion.bash" || fail "completion bash failed"
bash -n "$work/completion.bash" || fail "completion script is not valid bash"
for command in apply check compile counters diff graph record remove serve; do
    line=$(grep -E "^    $command\) options=" "$work/completion.bash")
    for option in $("$acctc" "$command" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
        [[ $line == *" $option "* || $line == *"\"$option "* ]] ||
            fail "completion for $command lacks $option"
    done
done
complete_words() { # complete_words WORD... : what bash would offer for the last word
    bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _acctc
             printf "%s\n" "${COMPREPLY[@]}"' _ "$work/completion.bash" "$@"
}
[[ $(complete_words acctc app) == apply ]] || fail "acctc app<TAB> is not apply"
[[ $(complete_words acctc apply --dry) == --dry-run ]] || fail "apply --dry<TAB>"
[[ $(ACCTC_POLICY_DIR="$work/second" complete_words acctc apply wa) == wan ]] ||
    fail "apply wa<TAB> is not the policy name wan"
complete_words acctc | grep -qx completion && fail "the hidden completion command is offered"
[[ $(complete_words acctc he) == help ]] || fail "acctc he<TAB> is not help"
[[ $(complete_words acctc help cou) == counters ]] || fail "acctc help cou<TAB> is not counters"
[[ $(complete_words acctc help "" | sort) == $(complete_words acctc "" | grep -v -- '^--\|^help$' | sort) ]] ||
    fail "acctc help <TAB> is not every command: $(complete_words acctc help "")"
[[ -z $(complete_words acctc help apply "") ]] || fail "acctc help apply <TAB> offers more"

# `acctc help COMMAND` is `acctc COMMAND --help`, for every command; `help` alone the overview.
for command in $("$acctc" --help | sed -n 's/^  \([a-z]*\) .*/\1/p') completion; do
    [[ $("$acctc" help "$command" 2>&1) == "$("$acctc" "$command" --help 2>&1)" ]] ||
        fail "acctc help $command is not acctc $command --help"
    "$acctc" help "$command" | grep -q "^usage: acctc $command" || fail "acctc help $command: no usage"
done
[[ $("$acctc" help) == "$("$acctc" --help)" ]] || fail "acctc help is not the overview"
[[ $("$acctc" help help) == "$("$acctc" --help)" ]] || fail "acctc help help is not the overview"
expect 2 "unknown command 'countrs'; did you mean 'counters'\?" "$acctc" help countrs
expect 2 "acctc help: takes one COMMAND, not 2" "$acctc" help apply counters

((failures == 0)) && echo "all passed"
exit $((failures != 0))
