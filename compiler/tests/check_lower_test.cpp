// Checks and lowering on small policies: defaults, resolution, mark bits, and how exclusive
// classifications become maps.
#include "check.hpp"
#include "lower.hpp"
#include "parser.hpp"

#include <gtest/gtest.h>
#include <map>

namespace acctc {
namespace {

struct Checked {
    SourceFile file;
    Diagnostics diagnostics;
    ir::Policy policy;
};

Checked check(const std::string& text) {
    Checked out{SourceFile("t.acct", text), {}, {}};
    const HostDatabase hosts(std::filesystem::path(ACCTC_SOURCE_DIR) / "specs/etc");
    const auto tree = parse_policy(out.file, out.diagnostics);
    EXPECT_FALSE(out.diagnostics.has_errors());
    out.policy = check_policy(out.file, tree, hosts, out.diagnostics);
    return out;
}

TEST(Check, OwnerDefaultsToLocalOutput) {
    const auto c = check("policy p\ncounter s { owner group skype }\n");
    ASSERT_FALSE(c.diagnostics.has_errors());
    const auto& match = c.policy.counters[0].match;
    EXPECT_EQ(match.scopes, unsigned{ir::scope_local});
    EXPECT_EQ(match.directions, unsigned{ir::dir_out});
    EXPECT_TRUE(match.gids->contains(2000)); // from specs/etc/group
}

// The kernel resolves "a//b", "./a/b", "a/./b/" and "/a/b" to the cgroup a/b; nft's level is
// counted from the path acctc emits, so that path must be the normalised one.
TEST(Check, CgroupPathsAreNormalisedTheWayTheKernelResolvesThem) {
    for (const char* path : {"a/b", "a//b", "./a/b", "a/./b/", "/a/b", "//a/.//b/."}) {
        SCOPED_TRACE(path);
        const auto c =
            check(std::string("policy p\ncounter s { owner cgroup \"") + path + "\"; out }\n");
        ASSERT_FALSE(c.diagnostics.has_errors());
        EXPECT_EQ(c.policy.counters[0].match.cgroup, "a/b");
    }
    for (const char* path : {".", "/", "", "a/../b", "..", "a/b/.."}) {
        SCOPED_TRACE(path);
        const auto c =
            check(std::string("policy p\ncounter s { owner cgroup \"") + path + "\"; out }\n");
        EXPECT_TRUE(c.diagnostics.has_errors());
        EXPECT_FALSE(c.policy.counters[0].match.cgroup.has_value());
    }
}

// Address literals of every length: the longest IPv6 spelling is one, anything longer is not.
TEST(Check, AddressLiteralsUpToTheLongestSpelling) {
    const auto c = check("policy p\ncounter a { from 2001:db8::1/128, 198.18.0.1, "
                         "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255 }\n");
    ASSERT_FALSE(c.diagnostics.has_errors());
    EXPECT_EQ(c.policy.counters[0].match.addresses[0].v6.parts().size(), 2U);
    const auto longer = check("policy p\ncounter a { from "
                              "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0001 }\n");
    ASSERT_EQ(longer.diagnostics.all().size(), 1U);
    EXPECT_NE(longer.diagnostics.all()[0].message.find("is not a valid IPv6 address"),
              std::string::npos);
}

TEST(Check, DirectionWithoutInterfaceMeansThisHost) {
    const auto c = check("policy p\ninterface w = eth0\ncounter a { in }\ncounter b { via w }\n");
    EXPECT_EQ(c.policy.counters[0].match.scopes, unsigned{ir::scope_local});
    EXPECT_EQ(c.policy.counters[1].match.scopes, unsigned{ir::scope_local | ir::scope_forward});
}

TEST(Check, FollowCountersGetDistinctBitsOfTheMask) {
    const auto c = check("policy p\nconnmark mask 0x00000a00\n"
                         "counter a { follow connection; tcp }\ncounter b { listen udp 5 }\n");
    ASSERT_FALSE(c.diagnostics.has_errors());
    EXPECT_EQ(c.policy.counters[0].mark_bit, 0x200U);
    EXPECT_EQ(c.policy.counters[1].mark_bit, 0x800U);
    EXPECT_TRUE(c.policy.counters[1].follow); // listen implies following
    EXPECT_TRUE(c.policy.uses_conntrack);
}

TEST(Check, ServicesResolveFromTheHostDatabase) {
    const auto c = check("policy p\ncounter f { tcp sport ftp-data..ftp, smtp, www }\n");
    ASSERT_FALSE(c.diagnostics.has_errors());
    const auto& ports = c.policy.counters[0].match.ports[0].ports;
    ASSERT_EQ(ports.parts().size(), 3U);
    EXPECT_EQ(ports.parts()[0], (Interval{20, 21}));
    EXPECT_EQ(ports.parts()[2], (Interval{80, 80}));
}

TEST(Check, PeersReferenceMarksTheCounter) {
    const auto c =
        check("policy p\ncounter s { owner user alice }\ncounter g { in; from peers of s }\n");
    ASSERT_FALSE(c.diagnostics.has_errors());
    EXPECT_TRUE(c.policy.counters[0].peers_referenced);
    EXPECT_FALSE(c.policy.counters[1].peers_referenced);
}

// A /0 is the whole space of its family (an IPv6 /0 once became the single address ::).
TEST(Check, PrefixLengthZeroIsEveryAddress) {
    const auto c = check("policy p\ncounter a { from ::/0, 0.0.0.0/0 }\n");
    ASSERT_FALSE(c.diagnostics.has_errors());
    const auto& address = c.policy.counters[0].match.addresses[0];
    EXPECT_EQ(address.v6, IntervalSet::range(0, ~u128{0}));
    EXPECT_EQ(address.v4, IntervalSet::range(0, 0xffffffff));
}

TEST(Check, HostBitsUnderAZeroLengthPrefixAreAnError) {
    const auto c = check("policy p\ncounter a { from 2001:db8::/0 }\n");
    ASSERT_EQ(c.diagnostics.all().size(), 1U);
    EXPECT_EQ(c.diagnostics.all()[0].message,
              "'2001:db8::/0' has host bits set; did you mean ::/0?");
}

// Every later use of a label is an error, the first is not, in any order and however often
// (repeated_labels sorts the labels' hashes: the branches it names must be the right ones).
TEST(Check, EveryRepeatOfAClassLabelIsReportedAtTheRepeat) {
    const std::string text = "policy p\nclassify s local out {\n"
                             "    b: tcp dport 1\n    a: tcp dport 2\n    b: tcp dport 3\n"
                             "    c: tcp dport 4\n    b: tcp dport 5\n    a: tcp dport 6\n"
                             "    otherwise: rest\n}\n";
    const auto c = check(text);
    std::vector<std::size_t> lines;
    for (const auto& diagnostic : c.diagnostics.all()) {
        EXPECT_EQ(diagnostic.message.substr(0, 7), "class '");
        EXPECT_NE(diagnostic.message.find("' appears twice"), std::string::npos);
        lines.push_back(c.file.position(diagnostic.range.begin).line);
    }
    EXPECT_EQ(lines, (std::vector<std::size_t>{5, 7, 8}));
    ASSERT_EQ(c.policy.classifies.size(), 1U);
    EXPECT_EQ(c.policy.classifies[0].classes.size(), 3U); // b, a, c
}

const rules::Chain* find_chain(const rules::Table& table, const std::string& name) {
    for (const auto& chain : table.chains) {
        if (chain.name == name) {
            return &chain;
        }
    }
    return nullptr;
}

TEST(Lower, SingleKeyClassifyIsOneFirstMatchMap) {
    auto c = check("policy p\nclassify k forward {\n a: tcp dport 1..100\n b: tcp dport 50..200\n"
                   " otherwise: rest\n}\n");
    const auto table = lower_policy(c.policy, c.diagnostics);
    const auto* chain = find_chain(table, "classify_k");
    ASSERT_NE(chain, nullptr);
    ASSERT_EQ(chain->rules.size(), 2U); // the map lookup, then otherwise
    const auto& map = chain->rules[0].statements[0];
    ASSERT_EQ(map.kind, rules::Statement::Kind::count_map);
    ASSERT_EQ(map.entries.size(), 2U);
    EXPECT_EQ(map.entries[0].key[0], (Interval{1, 100}));
    EXPECT_EQ(map.entries[1].key[0], (Interval{101, 200})); // b loses what a took
    EXPECT_EQ(map.entries[1].counter, "k_b");
    EXPECT_EQ(chain->rules[0].statements[1].kind, rules::Statement::Kind::ret);
    EXPECT_EQ(chain->rules[1].statements[0].name, "k_rest");
}

TEST(Lower, ShadowedClassIsWarned) {
    auto c = check("policy p\nclassify k forward {\n a: udp dport 1..100\n b: udp dport 7\n}\n");
    lower_policy(c.policy, c.diagnostics);
    ASSERT_EQ(c.diagnostics.all().size(), 1U);
    EXPECT_EQ(c.diagnostics.all()[0].severity, Severity::warning);
    EXPECT_NE(c.diagnostics.all()[0].message.find("'b' can never match"), std::string::npos);
}

TEST(Lower, ProtocolAndPortClassesShareAConcatenatedKey) {
    auto c = check("policy p\nclassify k forward {\n web: tcp dport 80\n dns: udp dport 53\n}\n");
    const auto table = lower_policy(c.policy, c.diagnostics);
    const auto& map = find_chain(table, "classify_k")->rules[0].statements[0];
    ASSERT_EQ(map.key.size(), 2U);
    EXPECT_EQ(map.key[0], rules::Field::l4proto);
    EXPECT_EQ(map.entries.size(), 2U);
}

// The map's entries: each key's first interval and the counter it names, in order.
void expect_entries(const rules::Statement& map,
                    const std::vector<std::pair<Interval, std::string>>& expected) {
    ASSERT_EQ(map.entries.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(map.entries[i].key[0], expected[i].first) << i;
        EXPECT_EQ(map.entries[i].counter, expected[i].second) << i;
    }
}

// The one diagnostic: a warning that `label` can never match.
void expect_only_unreachable(const Diagnostics& diagnostics, const std::string& label) {
    ASSERT_EQ(diagnostics.all().size(), 1U);
    EXPECT_NE(diagnostics.all()[0].message.find("'" + label + "' can never match"),
              std::string::npos);
}

// Classes in any order: the first class with a tuple takes it, entries in key order, and a
// class whose every tuple an earlier one took is warned once.
TEST(Lower, ProtocolAndPortMapGoesToTheFirstClassOfATuple) {
    auto c = check("policy p\nclassify k forward {\n web: tcp dport 443, 80\n dns: udp dport 53\n"
                   " again: tcp dport 80\n alt: udp dport 53, 853\n}\n");
    const auto table = lower_policy(c.policy, c.diagnostics);
    const auto& map = find_chain(table, "classify_k")->rules[0].statements[0];
    ASSERT_EQ(map.key.size(), 2U);
    expect_entries(
        map, {{{6, 6}, "k_web"}, {{6, 6}, "k_web"}, {{17, 17}, "k_dns"}, {{17, 17}, "k_alt"}});
    const std::vector<u128> ports{80, 443, 53, 853};
    for (std::size_t i = 0; i < map.entries.size(); ++i) {
        EXPECT_EQ(map.entries[i].key[1], (Interval{ports[i], ports[i]})) << i;
    }
    expect_only_unreachable(c.diagnostics, "again");
}

void expect_unreachable(const Diagnostics& diagnostics, const std::vector<std::string>& labels) {
    ASSERT_EQ(diagnostics.all().size(), labels.size());
    for (std::size_t i = 0; i < labels.size(); ++i) {
        EXPECT_NE(diagnostics.all()[i].message.find("'" + labels[i] + "' can never match"),
                  std::string::npos)
            << diagnostics.all()[i].message;
    }
}

// A class without the protocol+port shape ends a run; runs shorter than four classes stay one
// rule per class. Each run's classes that an earlier class of the run covers are warned.
TEST(Lower, ShortRunsOfAMixedClassificationStayRules) {
    auto c = check("policy p\nclassify k forward {\n a: tcp dport 80\n b: tcp dport 80\n"
                   " c: icmp\n d: udp dport 53\n e: udp dport 53\n}\n");
    const auto table = lower_policy(c.policy, c.diagnostics);
    const auto* chain = find_chain(table, "classify_k");
    ASSERT_EQ(chain->rules.size(), 5U); // one rule per class
    expect_unreachable(c.diagnostics, {"b", "e"});
}

// A long classification mixing shapes is a map per run of one shape, in class order, each
// returning on a hit: first match across runs, rules only for the classes of no run.
TEST(Lower, RunsOfOneShapeBecomeAMapEach) {
    std::string source = "policy p\nclassify k forward {\n";
    for (int i = 0; i < 6; ++i) {
        source += " u" + std::to_string(i) + ": udp dport " + std::to_string(1000 + i) + "\n";
    }
    for (int i = 0; i < 5; ++i) {
        source += " n" + std::to_string(i) + ": from 198.18." + std::to_string(i) + ".0/24\n";
    }
    source += " mixed: udp dport 7 from 198.18.9.1\n";
    for (int i = 0; i < 4; ++i) {
        source += " t" + std::to_string(i) + ": " + (i % 2 ? "tcp" : "udp") + " dport " +
                  std::to_string(2000 + i) + "\n";
    }
    source += " again: udp dport 1000\n}\n";
    auto c = check(source);
    const auto table = lower_policy(c.policy, c.diagnostics);
    const auto* chain = find_chain(table, "classify_k");
    using Kind = rules::Statement::Kind;
    const std::vector<std::pair<std::vector<rules::Field>, std::size_t>> maps{
        {{rules::Field::dport}, 6},
        {{rules::Field::ip_saddr}, 5},
        {{}, 0},
        {{rules::Field::l4proto, rules::Field::dport}, 5}};
    ASSERT_EQ(chain->rules.size(), maps.size());
    for (std::size_t r = 0; r < maps.size(); ++r) {
        const auto& rule = chain->rules[r];
        EXPECT_EQ(rule.statements.back().kind, Kind::ret);
        if (maps[r].first.empty()) { // the class of no run's shape: its own rule
            EXPECT_EQ(rule.statements.front().kind, Kind::count);
            continue;
        }
        ASSERT_EQ(rule.statements.front().kind, Kind::count_map) << r;
        EXPECT_EQ(rule.statements.front().key, maps[r].first) << r;
        EXPECT_EQ(rule.statements.front().entries.size(), maps[r].second) << r;
    }
    // `again` is a tuple of the protocol+port run, reachable there (u0 is another run's).
    EXPECT_TRUE(c.diagnostics.all().empty());
}

// Classes out of key order: what a later class shares with an earlier one goes to the earlier.
TEST(Lower, SingleKeyMapOutOfOrderClasses) {
    auto c = check("policy p\nclassify k forward {\n a: udp dport 500..600\n b: udp dport 1..10\n"
                   " c: udp dport 5..550\n d: udp dport 700\n e: udp dport 7\n}\n");
    const auto table = lower_policy(c.policy, c.diagnostics);
    const auto& map = find_chain(table, "classify_k")->rules[0].statements[0];
    expect_entries(
        map, {{{1, 10}, "k_b"}, {{11, 499}, "k_c"}, {{500, 600}, "k_a"}, {{700, 700}, "k_d"}});
    expect_only_unreachable(c.diagnostics, "e");
}

TEST(Lower, MixedClassesFallBackToFirstMatchRules) {
    auto c = check("policy p\nclassify k forward {\n a: udp dport 53\n b: icmp\n}\n");
    const auto table = lower_policy(c.policy, c.diagnostics);
    const auto* chain = find_chain(table, "classify_k");
    ASSERT_EQ(chain->rules.size(), 2U);
    for (const auto& rule : chain->rules) {
        EXPECT_EQ(rule.statements.back().kind, rules::Statement::Kind::ret);
    }
}

TEST(Lower, ForwardViaBothDirectionsCountsEachPacketOnce) {
    auto c = check("policy p\ninterface l = ppp0\ncounter x { forward via l }\n");
    // Without egress chains (iptables); with them, see BothWaysViaADevice... below.
    const auto table = lower_policy(c.policy, c.diagnostics, {.egress = false});
    const auto* forward = find_chain(table, "forward");
    ASSERT_EQ(forward->rules.size(), 2U);
    // Second rule excludes what the first counted: iifname != ppp0 oifname ppp0.
    ASSERT_EQ(forward->rules[1].conditions.size(), 2U);
    EXPECT_TRUE(forward->rules[1].conditions[0].negate);
}

// `address X` is "from X, or to X and not from X"; when X is every address of a family the
// second alternative never holds and is left out (iptables-nft refuses `! -s 0.0.0.0/0`).
TEST(Lower, EitherSideOfEveryAddressIsOneAlternative) {
    auto c = check("policy p\ncounter a { local in; address 0.0.0.0/1, 128.0.0.0/1, ::/0 }\n");
    const auto table = lower_policy(c.policy, c.diagnostics);
    const auto* input = find_chain(table, "input");
    ASSERT_EQ(input->rules.size(), 2U); // one per family
    for (const auto& rule : input->rules) {
        for (const auto& condition : rule.conditions) {
            EXPECT_TRUE(condition.field == rules::Field::iifname || !condition.negate);
        }
    }
}

TEST(Lower, FollowMarksBeforeCountingSoTheFirstPacketCounts) {
    auto c = check("policy p\ninterface w = eth0\ncounter s { owner group skype; via w; listen "
                   "tcp 21212; follow connection }\n");
    const auto table = lower_policy(c.policy, c.diagnostics);
    for (const char* name : {"input", "output"}) {
        const auto* chain = find_chain(table, name);
        ASSERT_NE(chain, nullptr);
        ASSERT_GE(chain->rules.size(), 2U);
        EXPECT_EQ(chain->rules.front().statements[0].kind, rules::Statement::Kind::set_mark);
        EXPECT_EQ(chain->rules.back().statements[0].kind, rules::Statement::Kind::count);
    }
}

// split opener: a connection this host opened goes original on output and reply on input; one
// a peer opened the other way round. Each counter object carries the opener label.
TEST(Lower, SplitOpenerCountsEachSideByConntrackDirection) {
    auto c = check("policy p\ninterface w = eth0\ncounter s { owner group skype; via w; listen "
                   "tcp 21212; follow connection; split direction; split opener }\n");
    ASSERT_FALSE(c.diagnostics.has_errors());
    const auto table = lower_policy(c.policy, c.diagnostics);
    std::map<std::string, std::vector<Label>> labels;
    for (const auto& object : table.counters) {
        labels[object.name] = object.identity.labels;
    }
    ASSERT_EQ(labels.size(), 4U);
    EXPECT_EQ(labels["s_in_remote"],
              (std::vector<Label>{{Dimension::direction, "in"}, {Dimension::opener, "remote"}}));
    EXPECT_EQ(labels["s_out_local"],
              (std::vector<Label>{{Dimension::direction, "out"}, {Dimension::opener, "local"}}));
    EXPECT_EQ(encode_counter_comment(
                  "s_in_remote", {"s", CounterKind::counter, labels["s_in_remote"], "t.acct:3"}),
              "acctc1 f=1 direction=in opener=remote @t.acct:3");
    // Which conntrack direction each counter takes, per chain.
    auto taken = [&](const char* chain_name) {
        std::map<std::string, rules::Field> out;
        const auto* chain = find_chain(table, chain_name);
        EXPECT_NE(chain, nullptr);
        for (const auto& rule : chain->rules) {
            for (const auto& condition : rule.conditions) {
                if (condition.field == rules::Field::ct_orig ||
                    condition.field == rules::Field::ct_reply) {
                    EXPECT_FALSE(condition.negate);
                    out[rule.statements.at(0).name] = condition.field;
                }
            }
        }
        return out;
    };
    EXPECT_EQ(taken("input"),
              (std::map<std::string, rules::Field>{{"s_in_local", rules::Field::ct_reply},
                                                   {"s_in_remote", rules::Field::ct_orig}}));
    EXPECT_EQ(taken("output"),
              (std::map<std::string, rules::Field>{{"s_out_local", rules::Field::ct_orig},
                                                   {"s_out_remote", rules::Field::ct_reply}}));
}

// Relative to via, as in and out are: what was opened through the interface is remote.
TEST(Lower, SplitOpenerOfForwardedTrafficIsRelativeToVia) {
    auto c = check("policy p\ninterface w = eth0\ncounter r { forward via w; follow connection; "
                   "split opener }\n");
    ASSERT_FALSE(c.diagnostics.has_errors());
    const auto table = lower_policy(c.policy, c.diagnostics);
    const auto* chain = find_chain(table, "forward");
    ASSERT_NE(chain, nullptr);
    std::vector<std::pair<std::string, std::string>> seen; // interface field, counter
    for (const auto& rule : chain->rules) {
        if (rule.statements.at(0).kind != rules::Statement::Kind::count) {
            continue;
        }
        std::string side, direction;
        for (const auto& condition : rule.conditions) {
            if (condition.negate) {
                continue;
            }
            if (condition.field == rules::Field::iifname) {
                side = "arrives";
            } else if (condition.field == rules::Field::oifname) {
                side = "leaves";
            } else if (condition.field == rules::Field::ct_orig) {
                direction = "original";
            } else if (condition.field == rules::Field::ct_reply) {
                direction = "reply";
            }
        }
        seen.emplace_back(side + " " + direction, rule.statements[0].name);
    }
    EXPECT_EQ(seen,
              (std::vector<std::pair<std::string, std::string>>{{"arrives reply", "r_local"},
                                                                {"arrives original", "r_remote"},
                                                                {"leaves original", "r_local"},
                                                                {"leaves reply", "r_remote"}}));
}

TEST(Check, SplitOpenerNeedsAFollowedConnection) {
    SourceFile file("t.acct", "policy p\ncounter s { tcp dport 22; split opener }\n");
    Diagnostics diagnostics;
    const HostDatabase hosts(std::filesystem::path(ACCTC_SOURCE_DIR) / "specs/etc");
    check_policy(file, parse_policy(file, diagnostics), hosts, diagnostics);
    EXPECT_TRUE(diagnostics.has_errors());
}

TEST(Lower, VerdictsComeAfterEveryCount) {
    auto c =
        check("policy p\ncounter a { local in; tcp dport 22; accept }\ncounter b { local in }\n");
    const auto table = lower_policy(c.policy, c.diagnostics);
    const auto* input = find_chain(table, "input");
    ASSERT_EQ(input->rules.size(), 3U);
    EXPECT_EQ(input->rules[2].statements[0].kind, rules::Statement::Kind::accept);
}

} // namespace
} // namespace acctc

namespace acctc {
namespace {

// What leaves via a device is counted at its egress hook, after fragmentation (nft): this
// host's packets without the forwarded mark bit, a router's with it; the forward chain sets
// the bit and the egress chain clears it. Ports stay at output (non-first fragments carry
// none), as does everything on the iptables target.
TEST(Lower, LeavingSideOfAViaCounterIsCountedAtEgress) {
    auto c = check("policy p\ninterface w = eth0\ncounter u { local out via w; protocol udp }\n"
                   "counter f { forward out via w; fragment }\n"
                   "counter d { local out via w; udp dport 53 }\n");
    ASSERT_FALSE(c.diagnostics.has_errors());
    const auto table = lower_policy(c.policy, c.diagnostics);
    const auto* egress = find_chain(table, "egress_eth0");
    ASSERT_NE(egress, nullptr);
    EXPECT_EQ(egress->hook, rules::Hook::egress);
    EXPECT_EQ(egress->device, "eth0");
    std::map<std::string, bool> forwarded; // counter -> counted with the mark bit set
    for (const auto& rule : egress->rules) {
        for (const auto& condition : rule.conditions) {
            EXPECT_NE(condition.field, rules::Field::oifname);
            if (condition.field == rules::Field::packet_mark &&
                rule.statements.at(0).kind == rules::Statement::Kind::count) {
                forwarded[rule.statements[0].name] = !condition.negate;
            }
        }
    }
    EXPECT_EQ(forwarded, (std::map<std::string, bool>{{"u", false}, {"f", true}}));
    EXPECT_EQ(egress->rules.back().statements.at(0).kind, rules::Statement::Kind::unmark_packet);
    const auto* forward = find_chain(table, "forward");
    ASSERT_NE(forward, nullptr);
    EXPECT_EQ(forward->rules.front().statements.at(0).kind, rules::Statement::Kind::mark_packet);
    const auto* output = find_chain(table, "output");
    ASSERT_NE(output, nullptr);
    for (const auto& rule : output->rules) {
        EXPECT_EQ(rule.statements.at(0).name, "d");
    }
    const auto iptables =
        lower_policy(c.policy, c.diagnostics,
                     {.fragments_before_defrag = false, .host_parts = false, .egress = false});
    EXPECT_EQ(find_chain(iptables, "egress_eth0"), nullptr);
}

// A forward counter of both directions takes a packet that arrives and leaves via its devices
// once, on arrival: at egress the forwarded packets that arrived via them too carry a second
// bit and are left out. Two such counters on different devices stay at forward.
TEST(Lower, BothWaysViaADeviceCountsAHairpinPacketOnceAtEgress) {
    auto c = check("policy p\ninterface w = eth0\ncounter everything { via w }\n");
    ASSERT_FALSE(c.diagnostics.has_errors());
    const auto table = lower_policy(c.policy, c.diagnostics);
    const auto* egress = find_chain(table, "egress_eth0");
    ASSERT_NE(egress, nullptr);
    bool arrived_left_out = false;
    for (const auto& rule : egress->rules) {
        for (const auto& condition : rule.conditions) {
            arrived_left_out = arrived_left_out ||
                               (condition.field == rules::Field::packet_mark &&
                                condition.mark_bit == arrived_via_mark_bit && condition.negate);
        }
    }
    EXPECT_TRUE(arrived_left_out);
    const auto* forward = find_chain(table, "forward");
    ASSERT_NE(forward, nullptr);
    EXPECT_EQ(forward->rules.at(1).statements.at(0).mark_bit, arrived_via_mark_bit);

    auto two = check("policy p\ninterface w = eth0\ninterface v = eth1\n"
                     "counter a { via w }\ncounter b { via v }\n");
    const auto split = lower_policy(two.policy, two.diagnostics);
    EXPECT_EQ(find_chain(split, "egress_eth0"), nullptr);
}

} // namespace
} // namespace acctc
