#!/usr/bin/env bash
# Builds the .deb with CPack and checks it the way an admin meets it: apt resolves its
# dependencies, dpkg installs it into an empty root (no network, no debootstrap), the binary
# runs, both man pages render without warnings, the units verify against that root's paths with
# an exposure of at most 2.0, the completion is valid bash, and a purge leaves nothing behind.
#   package_test.sh BUILD_DIR VERSION SOURCE_DIR
set -u
build=$(realpath "$1")
version=$2
source_dir=$3
work=$(mktemp -d /tmp/acctc-package-XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

(cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) || {
    cat "$work/cpack.log"
    echo "FAIL: cpack"
    exit 1
}
deb=$(echo "$work"/out/acctc_"$version"_*.deb)
[[ -f $deb ]] || { echo "FAIL: no package in $work/out"; exit 1; }
echo "package: $(basename "$deb"), $(stat -c %s "$deb") bytes"

# Dependencies: the shared libraries found by dpkg-shlibdeps, plus nft.
depends=$(dpkg-deb -f "$deb" Depends)
for package in nftables libnftables1 librrd8 libboost-program-options libmnl0 libnftnl11 libstdc++6; do
    [[ $depends == *"$package"* ]] || fail "Depends lacks $package: $depends"
done
apt-get install --simulate "$deb" >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "apt"; }
grep -q '^Inst acctc ' "$work/apt.log" || fail "apt would not install acctc: $(cat "$work/apt.log")"

# Debian's own checker, where installed: no error and no warning.
if command -v lintian >/dev/null; then
    lintian --tag-display-limit 0 "$deb" >"$work/lintian.log" 2>&1
    # Errors and warnings both (the deliberate one is overridden in the package).
    grep -qE '^[EW]: ' "$work/lintian.log" && fail "lintian: $(grep -E '^[EW]: ' "$work/lintian.log")"
fi

# Install into an empty dpkg root; the libraries come from the host, which apt just vouched for.
root=$work/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status"
dpkg --root="$root" --force-depends --force-script-chrootless --log=/dev/null -i "$deb" \
    >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i"; }
for file in usr/bin/acctc usr/share/man/man1/acctc.1.gz usr/share/man/man5/acctc.acct.5.gz \
    usr/share/doc/acctc/copyright usr/share/doc/acctc/changelog.gz \
    usr/share/bash-completion/completions/acctc usr/lib/systemd/system/acctc-apply@.service \
    usr/lib/systemd/system/acctc-exporter.service usr/lib/systemd/system/acctc-record.service \
    usr/lib/systemd/system/acctc-record.timer usr/lib/systemd/system/acctc-recorder.service \
    usr/lib/systemd/system/acctc-save.service usr/lib/systemd/system/acctc-save.timer \
    usr/lib/systemd/system/acctc-quotas.service usr/share/doc/acctc/examples/skype_supernode.acct \
    usr/share/doc/acctc/examples/metered_line.acct \
    usr/share/doc/acctc/examples/prometheus/prometheus.yml; do
    [[ -e $root/$file ]] || fail "not installed: /$file"
done

[[ -d $root/etc/acctc ]] || fail "postinst did not create /etc/acctc"
[[ $("$root/usr/bin/acctc" --version) == "acctc $version" ]] || fail "acctc --version"
for page in man1/acctc.1.gz man5/acctc.acct.5.gz; do
    MANWIDTH=80 man --warnings -l "$root/usr/share/man/$page" >"$work/page" 2>"$work/warnings"
    [[ ! -s $work/warnings ]] || fail "man $page warns: $(cat "$work/warnings")"
    grep -q '^NAME' "$work/page" || fail "man $page has no NAME section"
done
grep -qF 'acctc.acct - the acctc traffic-accounting policy language' <(MANWIDTH=80 man -l \
    "$root/usr/share/man/man5/acctc.acct.5.gz") || fail "acctc.acct(5) NAME line"
# acctc.acct(5) is docs/language.md: every section of the Markdown is a section of the page.
page=$work/acctc.acct.5
gzip -dc "$root/usr/share/man/man5/acctc.acct.5.gz" >"$page"
while read -r heading; do
    grep -qxF -- ".SH $(sed 's/`//g' <<<"${heading^^}")" "$page" ||
        fail "acctc.acct(5) lacks the section '$heading' of docs/language.md"
done < <(sed -n 's/^## //p' "$source_dir/docs/language.md")
bash -n "$root/usr/share/bash-completion/completions/acctc" || fail "completion is not bash"

# Units: ExecStart names the installed binary, and systemd accepts them in that root. The root
# gets the host's own units (sysinit.target, nftables.service) for the dependencies to resolve.
units=(acctc-apply@lan.service acctc-exporter.service acctc-record.service acctc-record.timer
    acctc-recorder.service acctc-quotas.service acctc-save.service acctc-save.timer)
grep -h '^Exec' "$root"/usr/lib/systemd/system/acctc* | grep -v '=-\?/usr/bin/acctc ' &&
    fail "a unit runs something else than /usr/bin/acctc"
cp -rn /usr/lib/systemd/system/. "$root/usr/lib/systemd/system/"
(cd "$root/usr/lib/systemd/system" &&
    systemd-analyze verify --man=no --root="$root" "${units[@]}") >"$work/verify.log" 2>&1 ||
    fail "systemd-analyze verify: $(cat "$work/verify.log")"
[[ ! -s $work/verify.log ]] || fail "systemd-analyze verify warns: $(cat "$work/verify.log")"
for unit in "${units[@]}"; do
    [[ $unit == *.timer ]] && continue
    line=$(cd "$root/usr/lib/systemd/system" &&
        systemd-analyze security --offline=yes --root="$root" --threshold=20 "$unit" 2>&1 |
        tail -1)
    echo "$line"
    [[ $line =~ level\ for\ .*:\ ([0-9]+\.[0-9]) ]] || { fail "security $unit: $line"; continue; }
    awk -v level="${BASH_REMATCH[1]}" 'BEGIN { exit !(level <= 2.0) }' ||
        fail "$unit exposure ${BASH_REMATCH[1]} above 2.0"
done

dpkg --root="$root" --force-depends --force-script-chrootless --log=/dev/null --purge acctc \
    >"$work/purge.log" 2>&1 || fail "purge: $(cat "$work/purge.log")"
[[ ! -e $root/usr/bin/acctc ]] || fail "purge left /usr/bin/acctc"

((failures == 0)) && echo "all passed"
exit $((failures != 0))
