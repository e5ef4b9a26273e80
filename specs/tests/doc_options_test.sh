#!/usr/bin/env bash
# The man page and the CLI agree (no root): every command `acctc --help` lists has an entry of
# its own in acctc(1); the SYNOPSIS line of each command names exactly the options the command
# accepts (its own option table, as the bash completion reads it), short and long forms; and
# every one of them is also described in the body, not only listed.
#   doc_options_test.sh ACCTC SOURCE_DIR
set -u
acctc=$(realpath "$1")
source_dir=$(realpath "$2")
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# Wide enough that no SYNOPSIS entry wraps; no hyphenation (the page says .nh).
man_text=$(MANWIDTH=2000 man -l "$source_dir/docs/acctc.1" 2>/dev/null | col -b)
[[ -n $man_text ]] || { echo "FAIL: man cannot render docs/acctc.1"; exit 1; }
synopsis=$(awk '/^SYNOPSIS/ {on = 1; next} /^[A-Z]/ {on = 0} on' <<<"$man_text" | sed 's/^ *//')
body=$(awk '/^SYNOPSIS/ {on = 1; next} /^[A-Z]/ {on = 0} !on' <<<"$man_text")
options_in() { grep -oE -- '(^|[][ |(])--?[A-Za-z][-A-Za-z]*' | sed 's/^[][ |(]//' | sort -u; }

commands=$("$acctc" --help | awk '/^commands:/ {on = 1; next} on && /^  [a-z]/ {print $1}')
[[ $(wc -w <<<"$commands") -ge 14 ]] || fail "acctc --help lists only: $commands"
for command in $commands; do
    subcommands=$command
    [[ $command == testbench ]] && subcommands="testbench_run testbench_cleanup"
    for sub in $subcommands; do
        words=${sub//_/ }
        # The command's own options: its option table, as completion reads it.
        if [[ $command == testbench ]]; then
            accepted=$("$acctc" $words --help 2>&1 | awk '/^options:/ {on = 1} on' | options_in)
        else
            accepted=$("$acctc" $words --list-options-for-completion | grep -v '^POSITIONAL' |
                sed 's/=$//' | sort -u)
        fi
        accepted=$(grep -vxE -- '-h|--help' <<<"$accepted")
        line=$(grep -E "^acctc $words( |$)" <<<"$synopsis")
        [[ -n $line ]] || { fail "no SYNOPSIS line for acctc $words"; continue; }
        listed=$(options_in <<<"${line#acctc $words}")
        missing=$(comm -23 <(sort -u <<<"$accepted") <(sort -u <<<"$listed") | tr '\n' ' ')
        extra=$(comm -13 <(sort -u <<<"$accepted") <(sort -u <<<"$listed") | tr '\n' ' ')
        [[ -z ${missing// /} ]] || fail "acctc $words accepts options the SYNOPSIS lacks: $missing"
        [[ -z ${extra// /} ]] || fail "the SYNOPSIS of acctc $words names options it does not accept: $extra"
        # Described in the body too, as an option word (not a part of a longer one).
        for option in $accepted; do
            grep -qE -- "(^|[^-A-Za-z])${option}([^-A-Za-z]|$)" <<<"$body" ||
                fail "acctc $words: $option is in no description of the man page"
        done
        # Each command has its own entry under COMMANDS.
        grep -qE "^ {7}$words( |$)" <<<"$body" || fail "no COMMANDS entry for acctc $words"
    done
done
echo "$failures problems"
[[ $failures == 0 ]]
