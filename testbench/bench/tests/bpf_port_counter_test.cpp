// The bench's BPF port counter counts exactly (docs/performance.md, "Classes in BPF"): real
// packets through the bench topology's router, counted at once by acctc's compiled protocol and
// port classification (nft) and by the program's slots on the wan ingress; each class's packets
// and bytes must be the same in both and equal what the generator sent. Needs root; the
// namespaces are the test's own.
#include "acctc/bench/bench_policy.hpp"
#include "acctc/bench/bench_topology.hpp"
#include "acctc/bench/udp_generator.hpp"
#include "acctc/compile.hpp"
#include "acctc/runtime/bpf_port_counter.hpp"
#include "acctc/runtime/counters.hpp"
#include "acctc/testbench/netns.hpp"

#include <gtest/gtest.h>
#include <map>
#include <net/if.h>
#include <string>

namespace acctc::bench {
namespace {

using runtime::BpfPortCounter;

struct Tally {
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
    bool operator==(const Tally&) const = default;
};

class BpfPortCounterTest : public ::testing::TestWithParam<bool> {
  protected:
    bool ipv6() const { return GetParam(); }
    BenchTopology topology{testbench::RunPrefix::current()};
};

TEST_P(BpfPortCounterTest, EveryClassCountedLikeNftAndTheSender) {
    constexpr std::size_t classes = 1000;
    constexpr std::size_t flows = 16;
    constexpr std::uint64_t packets = 16 * 5 + 3; // the first 3 flows send one packet more
    const auto policy =
        make_bench_policy(ClassKind::protoport, classes, topology.addressing(), flows, ipv6());
    const auto compiled = compile_source(policy.policy_name + ".acct", policy.source);
    ASSERT_TRUE(compiled.output);
    topology.nft(BenchTopology::router, compiled.output->text);
    BpfPortCounter counter;
    {
        testbench::ScopedNetns inside(topology.netns(BenchTopology::router));
        counter.attach(
            static_cast<int>(::if_nametoindex(topology.addressing().wan_interface.c_str())));
    }
    GeneratorSpec spec;
    spec.flows = policy.flows;
    spec.max_packets = packets;
    spec.max_time = std::chrono::seconds(20);
    ASSERT_EQ(run_udp_generator(topology.netns(BenchTopology::sender), spec).sent, packets);

    const std::uint64_t length = ipv6() ? 115 : 95; // the generator's packets
    std::map<std::string, Tally> sent;              // per class, the sender's tally
    std::map<std::string, Tally> bpf;               // per class, its port's slot
    const auto slots = counter.read();
    for (std::size_t f = 0; f < policy.flows.size(); ++f) {
        const std::string name =
            policy.classify_name + "_c" + std::to_string(policy.hit_classes[f]);
        const std::uint64_t n = packets / flows + (f < packets % flows ? 1 : 0);
        sent[name] = {n, n * length};
        const auto& slot = slots[BpfPortCounter::slot(17, policy.flows[f].destination_port)];
        bpf[name] = {slot.packets, slot.bytes};
    }
    std::map<std::string, Tally> nft;
    for (const auto& sample :
         runtime::read_counters(policy.policy_name, topology.netns(BenchTopology::router).name())) {
        if (sample.packets > 0) {
            nft[sample.counter] = {sample.packets, sample.bytes};
        }
    }
    EXPECT_EQ(nft, sent) << "nft";
    EXPECT_EQ(bpf, sent) << "bpf";
    // Nothing else: every packet in its port's slot.
    std::uint64_t total = 0;
    for (const auto& slot : slots) {
        total += slot.packets;
    }
    EXPECT_EQ(total, packets);
    EXPECT_EQ(slots[BpfPortCounter::other].packets, 0U);
}

INSTANTIATE_TEST_SUITE_P(Families, BpfPortCounterTest, ::testing::Values(false, true),
                         [](const auto& param) { return param.param ? "IPv6" : "IPv4"; });

} // namespace
} // namespace acctc::bench
