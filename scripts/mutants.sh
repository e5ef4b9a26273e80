#!/bin/bash
# Mutation test of the compiler's parse actions, checker, lowering, field table and emitters:
# each mutant below is a deliberate bug (a field dropped from key selection, a condition
# dropped or negated, directions or sides swapped, a diagnostic's range widened, ...). For each one the script edits a copy of the tree, builds
# the compiler tests, runs the unit and golden tests and reports whether they caught it. A
# mutant the suite does not catch "survives": a hole in the tests. Goal: 0 survivors.
#
#   scripts/mutants.sh              # all mutants
#   scripts/mutants.sh M03 M10      # some of them
#   KEEP=1 scripts/mutants.sh       # keep the copy (/tmp/acctc-mutants-PID) for a look
#
# The copy is built once (ccache); each mutant rebuilds one object and the two test programs.
# Exit status: 0 when every mutant is killed, 1 when any survives, 2 on a setup failure.
set -u

source_dir=$(cd "$(dirname "$0")/.." && pwd)
work=/tmp/acctc-mutants-$$
copy=$work/src
build=$work/build
cleanup() { [ -n "${KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT

# id ~ file ~ exact text (must occur once) ~ replacement ~ what the bug is
mutants=(
  "M01~compiler/src/lower.cpp~if (c.negate || !c.set.empty() || !rules::info(c.field).map_key) {~if (c.negate || !c.set.empty()) {~key selection keeps a class whose other condition (new, fragment, length) is no map key: the condition is lost"
  "M02~compiler/src/lower.cpp~                key->depends.push_back(std::move(*protocol));~                (void)protocol;~a port map forgets the protocol it depends on"
  "M03~compiler/src/lower.cpp~        add(flag(Field::ct_new));~        (void)0;~the new (ct state new) condition is dropped"
  "M04~compiler/src/lower.cpp~            add_family(flag(family == ir::Family::ipv4 ? Field::fragment4 : Field::fragment6));~            (void)0;~the fragment condition is dropped"
  "M05~compiler/src/lower.cpp~                numbers(family == ir::Family::ipv4 ? Field::length4 : Field::length6, length));~                numbers(Field::length4, length));~IPv6 length reads the IPv4 field"
  "M06~compiler/src/lower.cpp~            out.push_back({Hook::output, {}, interface_condition(Field::oifname), ir::dir_out});~            out.push_back({Hook::output, {}, interface_condition(Field::oifname), ir::dir_in});~output is taken as the incoming direction (split direction names swap)"
  "M07~compiler/src/lower.cpp~        return {names(field, loopback, true)};~        return {names(field, loopback, false)};~the loopback exclusion is negated"
  "M08~compiler/src/lower.cpp~            add(numbers(Field::sport, port.ports));~            add(numbers(Field::dport, port.ports));~source ports match the destination port"
  "M09~compiler/src/lower.cpp~        return source ? Field::ip_saddr : Field::ip_daddr;~        return source ? Field::ip_daddr : Field::ip_saddr;~IPv4 source and destination addresses swap"
  "M10~compiler/src/lower.cpp~            tuples.emplace_back(proto.lo, value.lo);~            tuples.emplace_back(value.lo, proto.lo);~a concatenated protocol . port key swaps its parts"
  "M11~compiler/src/lower.cpp~        const bool v6_headers = family == ir::Family::ipv6 && !skipped.empty();~        const bool v6_headers = false;~IPv6 extension headers in a protocol list are taken as l4proto values"
  "M12~compiler/src/rules.hpp~\"th dport\", 0, true, true,~\"th dport\", 0, true, false,~the field table forgets that a destination port key depends on its protocol"
  "M13~compiler/src/rules.hpp~\"ip6 length\", 40,~\"ip6 length\", 0,~the field table forgets that ip6 length excludes the 40-byte header"
  "M14~compiler/src/rules.hpp~    {Field::ip6_saddr, \"ip6_saddr\", FieldFamily::ipv6,~    {Field::ip6_saddr, \"ip6_saddr\", FieldFamily::any,~the field table puts an IPv6 address field in both families"
  "M15~compiler/src/emit_nft.cpp~    const std::string op = c.negate ? \" != \" : \" \";~    const std::string op = \" \";~nft drops negations"
  "M16~compiler/src/emit_nft.cpp~        return port_protocol + (field == Field::sport ? \" sport\" : \" dport\");~        return port_protocol + (field == Field::sport ? \" dport\" : \" sport\");~nft swaps sport and dport"
  "M17~compiler/src/emit_nft.cpp~        return \"ct mark set ct mark | \" + hex32(s.mark_bit);~        return \"ct mark set \" + hex32(s.mark_bit);~nft overwrites the whole ct mark instead of setting the counter's bit"
  "M18~compiler/src/emit_iptables.cpp~                  (part.lo == part.hi ? \"\" : field.iptables_range + number(part.hi))}});~                  std::string()}});~iptables range options (owner, length) lose their upper bound"
  "M19~compiler/src/emit_iptables.cpp~        if (belongs_to_other(c.field)) {~        if (false) {~iptables puts family-specific conditions in the other family's text"
  "M20~compiler/src/emit_iptables.cpp~        s.matches.push_back({\"conntrack\", {std::string(c.negate ? \"! \" : \"\") + \"--ctstate NEW\"}});~        (void)c;~iptables drops ct state new"
  "M21~compiler/src/emit_iptables.cpp~            (c.field == Field::iifname ? s.in : s.out) = {c.negate, name};~            (c.field == Field::iifname ? s.out : s.in) = {c.negate, name};~iptables swaps -i and -o"
  "M22~compiler/src/emit_iptables.cpp~        for (std::uint8_t p : {6, 17, 33, 132, 136}) {~        for (std::uint8_t p : {6, 17, 33, 132}) {~iptables forgets udplite ports"
  "M23~compiler/src/lower.cpp~        c.negate = !to_host;~        c.negate = to_host;~prerouting takes forwarded packets for local ones and back (fragment counters)"
  "M24~compiler/src/check_clauses.cpp~        return ir::Side::source;~        return ir::Side::destination;~the checker reads sport as dport and from as to"
  "M25~compiler/src/parse_actions.hpp~        b.clause<ast::AddressClause>(in).side = q == \"from\" ? Side::source~        b.clause<ast::AddressClause>(in).side = q == \"from\" ? Side::destination~the parser reads from as to"
  "M26~compiler/src/check_clauses.cpp~        match.scopes |= clause.kind == Kind::local     ? ir::scope_local~        match.scopes |= clause.kind == Kind::local     ? ir::scope_forward~the checker reads local as forward"
  "M27~compiler/src/check_clauses.cpp~            diag.error(clause.keyword_range,~            diag.error(clause.range,~a clause not allowed in its context is reported over the whole clause, not its first word"
  "M28~compiler/src/parse_actions.hpp~        b.clause<ast::DirectionClause>(in).kind = in.string_view() == \"in\" ? Kind::in : Kind::out;~        b.clause<ast::DirectionClause>(in).kind = in.string_view() == \"in\" ? Kind::out : Kind::in;~the parser builds in as out"
  "M29~compiler/src/parse_actions.hpp~        b.clause_spanning<Node>({b.split_begin, b.range_of(in).end});~        b.clause<Node>(in);~a split clause's range starts after its split keyword"
)

selected=("$@")
want() {
  [ ${#selected[@]} -eq 0 ] && return 0
  local s
  for s in "${selected[@]}"; do [ "$s" = "$1" ] && return 0; done
  return 1
}

# The tracked tree as it is in the worktree (uncommitted edits included), without builds.
mkdir -p "$copy" || exit 2
(cd "$source_dir" && git ls-files -z --cached --others --exclude-standard --deduplicate |
  xargs -0 cp --parents -t "$copy/") || exit 2

configure() {
  cmake -S "$copy" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >"$work/configure.log" 2>&1
}
build_tests() {
  cmake --build "$build" --target acctc_compiler_tests acctc_golden_tests >"$work/build.log" 2>&1
}
run_tests() {
  "$build/compiler/acctc_compiler_tests" --gtest_brief=1 >"$work/tests.log" 2>&1 &&
    "$build/specs/acctc_golden_tests" --gtest_brief=1 >>"$work/tests.log" 2>&1
}

mkdir -p "$build"
if ! configure || ! build_tests; then
  echo "setup: the unmutated copy does not build (see $work/*.log)"; KEEP=1; exit 2
fi
if ! run_tests; then
  echo "setup: the unmutated copy fails its tests (see $work/tests.log)"; KEEP=1; exit 2
fi

mutate() { # file old new: replaces the one occurrence of old; fails unless there is exactly one
  python3 - "$1" "$2" "$3" <<'PY'
import sys
path, old, new = sys.argv[1:4]
text = open(path).read()
if text.count(old) != 1:
    sys.exit(f"{text.count(old)} occurrences")
open(path, "w").write(text.replace(old, new))
PY
}

killed=0; survived=0; broken=0; survivors=()
for entry in "${mutants[@]}"; do
  IFS='~' read -r id file old new what <<<"$entry"
  want "$id" || continue
  cp "$copy/$file" "$work/original"
  if ! why=$(mutate "$copy/$file" "$old" "$new" 2>&1); then
    printf '%s  STALE     %s (%s: %s)\n' "$id" "$what" "$file" "$why"
    broken=$((broken + 1))
    continue
  fi
  if ! build_tests; then
    result="killed (does not compile)"
    killed=$((killed + 1))
  elif run_tests; then
    result="SURVIVED"
    survived=$((survived + 1)); survivors+=("$id")
  else
    failing=$(grep -c '^\[  FAILED  \]' "$work/tests.log")
    result="killed ($failing failing tests)"
    killed=$((killed + 1))
  fi
  printf '%s  %-26s %s\n' "$id" "$result" "$what"
  cp "$work/original" "$copy/$file"
done
build_tests >/dev/null 2>&1 || true

echo "mutants: $((killed + survived + broken)), killed: $killed, survived: $survived${survivors:+ (${survivors[*]})}, stale: $broken"
[ "$survived" -eq 0 ] && [ "$broken" -eq 0 ]
