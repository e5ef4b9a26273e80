// A reload that gives a kept counter another identity (family or labels) re-creates it with its
// values; one that does not leaves it in place. The reload finds out from the counters' comments
// it read for its inventory, and reads the values again only when something is relabelled.
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/counters.hpp"
#include "kernel_fixture.hpp"

#include <gtest/gtest.h>

namespace acctc::runtime::testing {
namespace {

CompiledPolicy labelled(const std::string& comment) {
    return make_policy("t",
                       "table inet acctc_t {\n\tcounter total_in {\n\t\tcomment \"" + comment +
                           "\"\n\t}\n\tchain output {\n\t\ttype filter hook output priority "
                           "filter - 10; policy accept;\n\t\tip daddr 198.18.0.1 udp dport 9 "
                           "counter name \"total_in\" comment \"t.acct:5\"\n\t}\n}\n",
                       {"total_in"});
}

const CounterSample& only(const std::vector<CounterSample>& samples) {
    EXPECT_EQ(samples.size(), 1U);
    return samples.at(0);
}

TEST(Relabel, AKeptCounterTakesItsNewLabelsWithItsValuesAndKeepsThemOnLaterReloads) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    UdpTraffic traffic(netns.name(), 9);
    // Written before the labels existed: the whole name is the family.
    backend->apply(labelled("t.acct:2"), false);
    traffic.send(5);
    EXPECT_EQ(only(read_counters("t", netns.name())).family(), "total_in");

    const auto relabelled = backend->apply(labelled("acctc1 f=5 direction=in @t.acct:2"), false);
    ASSERT_EQ(relabelled.kept.size(), 1U);
    EXPECT_EQ(relabelled.kept[0].sample.packets, 5U);
    auto sample = only(read_counters("t", netns.name()));
    EXPECT_EQ(sample.family(), "total");
    EXPECT_EQ(sample.label(Dimension::direction), "in");
    EXPECT_EQ(sample.packets, 5U);
    EXPECT_EQ(sample.bytes, 5 * UdpTraffic::wire_bytes);

    // Current already: nothing to relabel, the counter stays the kernel's same object.
    traffic.send(3);
    const auto again = backend->apply(labelled("acctc1 f=5 direction=in @t.acct:2"), false);
    ASSERT_EQ(again.kept.size(), 1U);
    EXPECT_EQ(again.kept[0].sample.packets, 8U);
    traffic.send(2);
    sample = only(read_counters("t", netns.name()));
    EXPECT_EQ(sample.family(), "total");
    EXPECT_EQ(sample.packets, 10U);
    EXPECT_EQ(sample.bytes, 10 * UdpTraffic::wire_bytes);
}

} // namespace
} // namespace acctc::runtime::testing
