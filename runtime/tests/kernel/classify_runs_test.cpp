// A large classification mixing match kinds (docs/language.md, "Large classifications") is a map
// per run of one shape, in class order: on nft counting sets (one set, or parts behind a hash
// dispatch with the rules after them in a miss chain), on iptables lookup trees. First match
// must hold across the runs: a packet two runs' classes would take is counted by the earlier
// class, a packet no class of a run takes goes on to the next run, and a reload that changes the
// runs keeps every class's count. Counts against what was sent, on every backend.
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/counters.hpp"
#include "kernel_fixture.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <map>

namespace acctc::runtime::testing {
namespace {

struct RunSizes {
    int to;     // to 198.19.x.y: no packet of the test goes there
    int tuples; // tcp or udp dport 20000 + i / 2
    int from;   // from 198.19.128+x.y: nor comes from there
};

// nft: the three runs as element counters, the second in parts (more than 16,384 keys) and the
// third in the miss chain after them; iptables: three lookup trees in one chain, of a size
// iptables-restore loads in about a second.
RunSizes sizes(BackendKind kind) {
    return kind == BackendKind::nftables ? RunSizes{4100, 20000, 4100} : RunSizes{600, 1200, 600};
}

std::string address(int base, int i) {
    return "198.19." + std::to_string(base + i / 250) + "." + std::to_string(i % 250);
}

// Three runs of classes, each of another shape, between a rule and otherwise: destination
// networks (`local`, the traffic's destination 198.18.0.1, last when `local`); protocol and port;
// source networks (`me`, its source 198.18.0.1 too, last when `me`). The rule first takes the
// port unreachables the datagrams to closed ports bring back (local out too).
CompiledPolicy mixed(BackendKind kind, bool local, bool me) {
    const RunSizes n = sizes(kind);
    std::string text = "policy runs\nclassify svc local out include loopback {\n"
                       "    errors: icmp\n";
    for (int i = 0; i < n.to; ++i) {
        text += "    n" + std::to_string(i) + ": to " + address(0, i) + "\n";
    }
    if (local) {
        text += "    local: to 198.18.0.1\n";
    }
    for (int i = 0; i < n.tuples; ++i) {
        text += "    t" + std::to_string(i) + ": " + (i % 2 ? "udp" : "tcp") + " dport " +
                std::to_string(20000 + i / 2) + "\n";
    }
    for (int i = 0; i < n.from; ++i) {
        text += "    s" + std::to_string(i) + ": from " + address(128, i) + "\n";
    }
    if (me) {
        text += "    me: from 198.18.0.1\n";
    }
    text += "    otherwise: rest\n}\n";
    CompileOptions options;
    options.target = backend_info(kind).target;
    auto result = compile_source("runs.acct", text, options);
    if (!result.output) {
        ADD_FAILURE() << "the policy does not compile";
        return {};
    }
    return std::move(*result.output);
}

std::map<std::string, std::uint64_t> packets(const TestNamespace& netns, BackendKind kind) {
    return packets_by_counter(read_counters("runs", netns.name(), false, kind));
}

// Every class but those named (and the port unreachables') counted nothing.
void expect_only(const std::map<std::string, std::uint64_t>& counts,
                 const std::map<std::string, std::uint64_t>& expected) {
    for (const auto& [counter, value] : counts) {
        if (counter == "svc_errors") {
            continue;
        }
        const auto it = expected.find(counter);
        EXPECT_EQ(value, it == expected.end() ? 0U : it->second) << counter;
    }
    for (const auto& [counter, value] : expected) {
        EXPECT_EQ(counts.count(counter), 1U) << counter << " not read";
    }
}

class ClassifyRuns : public ::testing::TestWithParam<BackendKind> {};

TEST_P(ClassifyRuns, FirstMatchHoldsAcrossTheRunsOfAMixedClassification) {
    const BackendKind kind = GetParam();
    TestNamespace netns;
    auto backend = make_backend(kind, netns.name());
    backend->apply(mixed(kind, false, false), false);
    if (kind == BackendKind::nftables) {
        // The layout under test: one set; parts behind a dispatch, the rules after them in the
        // miss chain; there another set.
        const std::string listing = netns.nft("list table inet acctc_runs");
        for (const char* part :
             {"ip daddr @classify_svc_e0 return", "chain classify_svc_p0 {",
              "goto classify_svc_miss", "ip saddr @classify_svc_miss_e0 return"}) {
            EXPECT_NE(listing.find(part), std::string::npos) << part;
        }
    }
    // 20011: no destination of the first run: t23 of the second.
    UdpTraffic(netns.name(), 20011).send(4);
    // 20012's UDP class is t25; 20012 over TCP (t24) is not sent.
    UdpTraffic(netns.name(), 20012).send(1);
    // No class of any run: otherwise.
    UdpTraffic(netns.name(), 40000).send(2);
    expect_only(packets(netns, kind), {{"svc_t23", 4}, {"svc_t25", 1}, {"svc_rest", 2}});

    // Reloaded with `me`: the third run takes what the first two do not, before otherwise; its
    // class does not take what the second run's do. Every count is kept.
    backend->apply(mixed(kind, false, true), false);
    UdpTraffic(netns.name(), 20011).send(5);
    UdpTraffic(netns.name(), 40000).send(3);
    expect_only(packets(netns, kind),
                {{"svc_t23", 9}, {"svc_t25", 1}, {"svc_me", 3}, {"svc_rest", 2}});

    // Reloaded with `local`: the first run takes it all, before the second and the third.
    backend->apply(mixed(kind, true, true), false);
    UdpTraffic(netns.name(), 20011).send(2);
    UdpTraffic(netns.name(), 40000).send(1);
    expect_only(packets(netns, kind),
                {{"svc_t23", 9}, {"svc_t25", 1}, {"svc_me", 3}, {"svc_local", 3}, {"svc_rest", 2}});
    backend->remove("runs");
}

// Four runs of a tree's size in one chain: on iptables-nft, whose chains nf_tables refuses to
// nest 16 deep ("Too many links"), the trees share one tree's depth and the smallest is its
// entries in a row. Counts as nft's.
TEST_P(ClassifyRuns, FourRunsOfATreesSizeLoadAndCount) {
    const BackendKind kind = GetParam();
    std::string text = "policy runs\nclassify svc local out include loopback {\n    errors: icmp\n";
    for (int i = 0; i < 300; ++i) {
        text += "    n" + std::to_string(i) + ": to " + address(0, i) + "\n";
    }
    for (int i = 0; i < 300; ++i) {
        text += "    t" + std::to_string(i) + ": " + (i % 2 ? "udp" : "tcp") + " dport " +
                std::to_string(20000 + i / 2) + "\n";
    }
    for (int i = 0; i < 300; ++i) {
        text += "    s" + std::to_string(i) + ": from " + address(128, i) + "\n";
    }
    for (int i = 0; i < 20; ++i) {
        text += "    q" + std::to_string(i) + ": udp sport " + std::to_string(30000 + i) + "\n";
    }
    text += "    me: from 198.18.0.1\n    otherwise: rest\n}\n";
    CompileOptions options;
    options.target = backend_info(kind).target;
    auto result = compile_source("runs.acct", text, options);
    ASSERT_TRUE(result.output);
    TestNamespace netns;
    auto backend = make_backend(kind, netns.name());
    backend->apply(*result.output, false);
    UdpTraffic(netns.name(), 20011).send(3);
    UdpTraffic(netns.name(), 40000).send(2);
    expect_only(packets(netns, kind), {{"svc_t23", 3}, {"svc_me", 2}});
    backend->remove("runs");
}

INSTANTIATE_TEST_SUITE_P(Backends, ClassifyRuns, every_backend(), backend_param_name);

} // namespace
} // namespace acctc::runtime::testing
