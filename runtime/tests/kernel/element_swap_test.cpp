// A reload that changes only counting sets and the rules that look them up goes as one libnftnl
// transaction (nft_element_swap.hpp, docs/runtime.md "A reload that changes only counting
// sets"): the new generations and their lookup rules, nothing else. It must be as lossless and
// atomic as the full reload while packets flow, and every reload it cannot express must fall
// back to the full reload. Which way a reload went shows in the chains: the swap keeps every
// chain (same handles, same order) and replaces the changed part's lookup rule in place; the
// full reload fills a changed part chain as a staged copy and renames it, so that chain gets a
// new handle.
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/counters.hpp"
#include "kernel_fixture.hpp"

#include <gtest/gtest.h>
#include <map>
#include <regex>

namespace acctc::runtime::testing {
namespace {

constexpr std::uint16_t first_port = 1000;
constexpr std::uint16_t moving_port = 30007;

std::uint16_t port_of(int index) {
    return static_cast<std::uint16_t>(first_port + index);
}

// Classes c0 .. c<count-1>, each counting UDP to port 1000+i; the moving port goes to class
// `owner`; `plain`: a counter object beside the classification.
CompiledPolicy classes(int count, int owner, bool plain = false) {
    std::string text = "policy swap\nclassify svc local out include loopback {\n";
    for (int i = 0; i < count; ++i) {
        text += "    c" + std::to_string(i) + ": udp dport " + std::to_string(port_of(i)) +
                (i == owner ? ", " + std::to_string(moving_port) : "") + "\n";
    }
    text += "    otherwise: rest\n}\n";
    if (plain) {
        text += "counter pings { local out include loopback; icmp }\n";
    }
    auto result = compile_source("swap.acct", text);
    if (!result.output) {
        ADD_FAILURE() << "the policy does not compile";
        return {};
    }
    return std::move(*result.output);
}

std::map<std::string, std::uint64_t> packets(const TestNamespace& netns) {
    return packets_by_counter(read_counters("swap", netns.name(), false));
}

// Every chain of the namespace with its handle, in order.
std::string chains(const TestNamespace& netns) {
    return netns.nft("-a list chains inet");
}

// The part chain whose counting set holds the moving port now.
std::string chain_of_moving_port(const TestNamespace& netns) {
    const std::string listing = netns.nft("list table inet acctc_swap");
    std::smatch element;
    if (!std::regex_search(listing, element,
                           std::regex("[ {]" + std::to_string(moving_port) + " counter"))) {
        ADD_FAILURE() << "no counting element for the moving port";
        return {};
    }
    const auto at = static_cast<std::size_t>(element.position(0));
    const auto set_at = listing.rfind("\tset ", at);
    if (set_at == std::string::npos) {
        ADD_FAILURE() << "no counting element for the moving port";
        return {};
    }
    const std::string set =
        listing.substr(set_at + 5, listing.find(' ', set_at + 5) - (set_at + 5));
    const auto lookup = listing.find("@" + set + " ");
    const auto chain_at = listing.rfind("\tchain ", lookup);
    return listing.substr(chain_at + 7, listing.find(' ', chain_at + 7) - (chain_at + 7));
}

TEST(ElementSwap, AKeyMovingUnderTrafficIsOneTransactionThatLosesNothing) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    backend->apply(classes(5000, 7), false);
    const std::string before = chains(netns);

    UdpTraffic mover(netns.name(), moving_port);
    UdpTraffic steady(netns.name(), port_of(4321));
    mover.start(400000, 4.0);
    steady.start(400000, 4.0);
    for (int reload = 0; reload < 8; ++reload) {
        const std::string part = chain_of_moving_port(netns);
        const std::string lookup = netns.nft("list chain inet acctc_swap " + part);
        const auto report = backend->apply(classes(5000, reload % 2 == 0 ? 8 : 7), false);
        EXPECT_TRUE(report.removed.empty());
        EXPECT_TRUE(report.sets_removed.empty());
        EXPECT_TRUE(report.sets_replaced.empty());
        // The swap: every chain stays; the part's lookup rule names the new generation.
        EXPECT_EQ(chains(netns), before) << "reload " << reload;
        EXPECT_NE(netns.nft("list chain inet acctc_swap " + part), lookup) << "reload " << reload;
    }
    mover.stop();
    steady.stop();
    const auto counts = packets(netns);
    EXPECT_GT(mover.sent(), 0U);
    EXPECT_EQ(counts.at("svc_c7") + counts.at("svc_c8"), mover.sent());
    EXPECT_EQ(counts.at("svc_c4321"), steady.sent());
    // The sets the swap created are the ones nft creates: the table lists as planned.
    EXPECT_EQ(backend->live_ruleset("swap"), backend->planned_ruleset(classes(5000, 7)));
}

TEST(ElementSwap, AKeyMovingWithoutTrafficKeepsWhatEachClassCounted) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    backend->apply(classes(5000, 7), false);
    UdpTraffic(netns.name(), port_of(7)).send(1);
    UdpTraffic(netns.name(), moving_port).send(3);
    UdpTraffic(netns.name(), port_of(9)).send(5); // a class the reload leaves alone
    const std::string before = chains(netns);
    backend->apply(classes(5000, 8), false);
    EXPECT_EQ(chains(netns), before);
    UdpTraffic(netns.name(), moving_port).send(2);
    const auto counts = packets(netns);
    EXPECT_EQ(counts.at("svc_c7"), 4U); // its history, carried
    EXPECT_EQ(counts.at("svc_c8"), 2U);
    EXPECT_EQ(counts.at("svc_c9"), 5U);
}

// A reload that also adds a counter object is not the swap's: the full reload does it, with
// the same counts.
TEST(ElementSwap, AReloadThatChangesMoreFallsBackToTheFullReload) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    backend->apply(classes(5000, 7), false);
    const std::string before = chains(netns);
    UdpTraffic mover(netns.name(), moving_port);
    mover.start(400000, 2.0);
    const auto report = backend->apply(classes(5000, 8, true), false);
    mover.stop();
    EXPECT_EQ(report.added, std::vector<std::string>{"pings"});
    EXPECT_NE(chains(netns), before); // the full reload re-created the changed part chain
    const auto counts = packets(netns);
    EXPECT_EQ(counts.at("svc_c7") + counts.at("svc_c8"), mover.sent());
    EXPECT_EQ(backend->live_ruleset("swap"), backend->planned_ruleset(classes(5000, 8, true)));
}

// A part chain edited by hand is not what the record says: the swap would keep the hand's rule,
// so the full reload puts the policy back.
TEST(ElementSwap, AChainEditedByHandFallsBackAndIsPutBack) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    backend->apply(classes(5000, 7), false);
    const std::string part = chain_of_moving_port(netns);
    netns.nft("add rule inet acctc_swap " + part + " counter");
    const std::string before = chains(netns);
    UdpTraffic mover(netns.name(), moving_port);
    mover.start(400000, 2.0);
    backend->apply(classes(5000, 8), false);
    mover.stop();
    EXPECT_NE(chains(netns), before);
    const auto counts = packets(netns);
    EXPECT_EQ(counts.at("svc_c7") + counts.at("svc_c8"), mover.sent());
    EXPECT_EQ(backend->live_ruleset("swap"), backend->planned_ruleset(classes(5000, 8)));
}

// The highest rule handle of the chain, and of the whole table.
std::pair<std::uint64_t, std::uint64_t> highest_handles(const TestNamespace& netns,
                                                        const std::string& chain) {
    const auto highest = [](const std::string& listing) {
        static const std::regex rule(R"(\t\t[^\n]* # handle (\d+)\n)");
        std::uint64_t most = 0;
        for (auto it = std::sregex_iterator(listing.begin(), listing.end(), rule);
             it != std::sregex_iterator(); ++it) {
            most = std::max<std::uint64_t>(most, std::stoull((*it)[1].str()));
        }
        return most;
    };
    return {highest(netns.nft("-a list chain inet acctc_swap " + chain)),
            highest(netns.nft("-a list table inet acctc_swap"))};
}

// A new table goes in two steps (nft_new_table.hpp): libnftables loads it with empty counting
// sets and empty base chains, then one netlink transaction adds the elements and the base
// chain's rules. Packets flowing meanwhile are counted from that commit on, each in its class:
// none is counted in `otherwise` for meeting an empty set (there, only the ICMP errors the
// closed ports send back, which `pings` counts too).
TEST(ElementSwap, ANewTableUnderTrafficCountsEveryPacketInItsClassFromItsCommit) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    UdpTraffic flow(netns.name(), port_of(12));
    flow.start(400000, 3.0);
    backend->apply(classes(5000, 7, true), false);
    flow.stop();
    // The base chain's rules came last, in the second step.
    const auto [base, table] = highest_handles(netns, "output");
    EXPECT_EQ(base, table);
    EXPECT_EQ(netns.nft("list chains inet").find(".fill"), std::string::npos);
    auto counts = packets(netns);
    EXPECT_LE(counts.at("svc_c12"), flow.sent());
    EXPECT_EQ(counts.at("svc_rest"), counts.at("pings"));
    UdpTraffic(netns.name(), port_of(12)).send(5);
    const auto before = counts.at("svc_c12");
    counts = packets(netns);
    EXPECT_EQ(counts.at("svc_c12"), before + 5);
    EXPECT_EQ(counts.at("svc_rest"), counts.at("pings"));
    EXPECT_EQ(backend->live_ruleset("swap"), backend->planned_ruleset(classes(5000, 7, true)));
}

} // namespace
} // namespace acctc::runtime::testing
