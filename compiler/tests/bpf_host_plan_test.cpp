// Which `split host` counters CompileOptions::bpf_hosts moves from the nft table to the BPF
// plan (compiler/src/bpf_hosts.cpp), and that everything else compiles as before.
#include "acctc/compile.hpp"

#include <gtest/gtest.h>
#include <string>

namespace acctc {
namespace {

CompiledPolicy compiled(const std::string& text, bool bpf_hosts = true) {
    CompileOptions options;
    options.bpf_hosts = bpf_hosts;
    CompileResult result = compile_source("test.acct", text, options);
    EXPECT_FALSE(result.diagnostics.has_errors()) << text;
    return result.output ? *result.output : CompiledPolicy{};
}

constexpr const char* header =
    "policy p\ninterface wan = wan0\ninterface lan = lan0\ninterface eth = \"eth*\"\n";

TEST(BpfHostPlan, DeviceAndDirectionOnlyGoToBpf) {
    const CompiledPolicy out = compiled(
        std::string(header) + "counter senders { in via wan; split host source size 1000 }\n"
                              "counter receivers { out via lan; split host destination }\n");
    ASSERT_EQ(out.bpf_hosts.size(), 2u);
    const BpfHostCounterPlan& senders = out.bpf_hosts[0];
    EXPECT_EQ(senders.counter, "senders");
    EXPECT_EQ(senders.overflow, "senders_overflow");
    EXPECT_EQ(senders.device, "wan0");
    EXPECT_EQ(senders.hook, BpfHook::ingress);
    EXPECT_EQ(senders.key, BpfAddress::source);
    EXPECT_EQ(senders.size, 1000u);
    EXPECT_EQ(senders.origin, "test.acct:5");
    // The labels the readings decode, as an nft set's comment: tc ingress sees GRO's packets.
    EXPECT_EQ(senders.comment, "acctc1 f=7 w=gro rx=wan0 @test.acct:5");
    EXPECT_EQ(senders.overflow_comment, "acctc1 f=7 host=overflow w=gro rx=wan0 @test.acct:5");
    const BpfHostCounterPlan& receivers = out.bpf_hosts[1];
    EXPECT_EQ(receivers.device, "lan0");
    EXPECT_EQ(receivers.hook, BpfHook::egress);
    EXPECT_EQ(receivers.key, BpfAddress::destination);
    EXPECT_EQ(receivers.size, 65536u);
    // Not in the table: no sets, no counters, no rules of theirs.
    EXPECT_EQ(out.definition.find("senders"), std::string::npos) << out.definition;
    EXPECT_EQ(out.definition.find("receivers"), std::string::npos) << out.definition;
    // Their devices are still checked by apply.
    ASSERT_EQ(out.devices.size(), 2u);
}

TEST(BpfHostPlan, OtherShapesStayInNft) {
    const char* shapes[] = {
        "counter c { local in via wan; split host source }\n", // input only
        "counter c { in via wan; split host remote }\n",       // side differs by scope
        "counter c { via wan; split host remote }\n", // both scopes: remote differs by scope
        "counter c { in via wan; icmp type echo-request; split host source; split type }\n",
        "counter c { in via wan; split host mac }\n",                     // MAC
        "counter c { in via wan; split host source; split direction }\n", // one direction
        "counter c { in via wan; udp; split host source }\n",             // more matches
        "counter c { in; split host source }\n",                          // no device
        "counter c { in via eth; split host source }\n",                  // a wildcard
    };
    for (const char* shape : shapes) {
        const CompiledPolicy out = compiled(std::string(header) + shape);
        EXPECT_TRUE(out.bpf_hosts.empty()) << shape;
        EXPECT_NE(out.definition.find("_overflow"), std::string::npos) << shape;
    }
}

TEST(BpfHostPlan, OffByDefaultAndOtherCountersUnchanged) {
    const std::string text = std::string(header) +
                             "counter web { in via wan; tcp sport 443 }\n"
                             "counter hosts { in via wan; split host source }\n"
                             "counter dns { in via wan; udp sport 53 }\n";
    const CompiledPolicy nft_only = compiled(text, false);
    EXPECT_TRUE(nft_only.bpf_hosts.empty());
    EXPECT_NE(nft_only.definition.find("hosts_overflow"), std::string::npos);
    const CompiledPolicy with_bpf = compiled(text);
    ASSERT_EQ(with_bpf.bpf_hosts.size(), 1u);
    // The table is the nft-only one without the host counter's pieces.
    const CompiledPolicy without =
        compiled(std::string(header) + "counter web { in via wan; tcp sport 443 }\n\n"
                                       "counter dns { in via wan; udp sport 53 }\n",
                 false);
    EXPECT_EQ(with_bpf.definition, without.definition);
    ASSERT_EQ(with_bpf.counters.size(), without.counters.size());
}

// examples/lan_hosts.acct: forwarded via one device, both directions split, keyed by the far
// side, within networks: a program per direction, the side's address, the ranges.
TEST(BpfHostPlan, LanHostsExampleIsTwoProgramsWithin) {
    const CompiledPolicy out =
        compiled("policy p\ninterface wan = wan0\nnetwork home = 198.18.0.0/16, 2001:db8::/48\n"
                 "counter lan { forward via wan; split host remote within home; "
                 "split direction }\n");
    ASSERT_EQ(out.bpf_hosts.size(), 2u);
    const BpfHostCounterPlan& in = out.bpf_hosts[0];
    const BpfHostCounterPlan& outgoing = out.bpf_hosts[1];
    EXPECT_EQ(in.counter, "lan_in");
    EXPECT_EQ(in.declared, "lan");
    EXPECT_EQ(in.overflow, "lan_in_overflow");
    EXPECT_EQ(in.hook, BpfHook::ingress);
    EXPECT_EQ(in.key, BpfAddress::destination);
    EXPECT_EQ(outgoing.counter, "lan_out");
    EXPECT_EQ(outgoing.hook, BpfHook::egress);
    EXPECT_EQ(outgoing.key, BpfAddress::source);
    EXPECT_EQ(in.comment, "acctc1 f=3 direction=in w=gro rx=wan0 @test.acct:4");
    ASSERT_TRUE(in.within);
    ASSERT_EQ(in.within_v4.size(), 1u);
    EXPECT_EQ(in.within_v4[0].lo_low, 0xC6120000u);
    EXPECT_EQ(in.within_v4[0].hi_low, 0xC612FFFFu);
    ASSERT_EQ(in.within_v6.size(), 1u);
    EXPECT_EQ(in.within_v6[0].lo_high, 0x20010db800000000u);
    EXPECT_EQ(in.within_v6[0].hi_high, 0x20010db80000ffffu);
    EXPECT_EQ(in.within_v6[0].hi_low, ~std::uint64_t{0});
    EXPECT_EQ(out.definition.find("lan_in"), std::string::npos) << out.definition;
}

// `/24 /64`: the program cuts the address to the prefix; the readings are nft's.
TEST(BpfHostPlan, PrefixesGoToBpf) {
    const CompiledPolicy out =
        compiled(std::string(header) + "counter c { in via wan; split host source /24 /64 }\n");
    ASSERT_EQ(out.bpf_hosts.size(), 1u);
    EXPECT_EQ(out.bpf_hosts[0].counter, "c");
    EXPECT_EQ(out.bpf_hosts[0].v4_prefix, 24u);
    EXPECT_EQ(out.bpf_hosts[0].v6_prefix, 64u);
    EXPECT_FALSE(out.bpf_hosts[0].protocol);
    EXPECT_EQ(out.definition.find("c_hosts"), std::string::npos) << out.definition;
}

// `split protocol` with `split direction`: a program per protocol and direction, named and
// labelled as nft's sets (lan_tcp_in: direction=in protocol=tcp), UDP without GRO's merging.
TEST(BpfHostPlan, ProtocolSplitIsAProgramPerProtocolAndDirection) {
    const CompiledPolicy out =
        compiled("policy p\ninterface wan = wan0\nnetwork home = 198.18.0.0/16\n"
                 "counter lan { forward via wan; split host remote within home; "
                 "split protocol tcp, udp; split direction }\n");
    ASSERT_EQ(out.bpf_hosts.size(), 4u);
    const char* names[] = {"lan_tcp_in", "lan_tcp_out", "lan_udp_in", "lan_udp_out"};
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(out.bpf_hosts[i].counter, names[i]);
        EXPECT_EQ(out.bpf_hosts[i].declared, "lan");
        EXPECT_EQ(out.bpf_hosts[i].overflow, std::string(names[i]) + "_overflow");
        EXPECT_EQ(out.bpf_hosts[i].protocol, i < 2 ? 6 : 17);
        EXPECT_EQ(out.bpf_hosts[i].hook, i % 2 == 0 ? BpfHook::ingress : BpfHook::egress);
    }
    EXPECT_EQ(out.bpf_hosts[0].comment,
              "acctc1 f=3 direction=in protocol=tcp w=gro rx=wan0 @test.acct:4");
    EXPECT_EQ(out.bpf_hosts[0].overflow_comment,
              "acctc1 f=3 direction=in protocol=tcp host=overflow w=gro rx=wan0 @test.acct:4");
    EXPECT_EQ(out.bpf_hosts[2].comment, "acctc1 f=3 direction=in protocol=udp @test.acct:4");
    EXPECT_EQ(out.definition.find("lan_"), std::string::npos) << out.definition;
}

// Both directions in one counter: the ingress program keyed by the destination (the far side
// of wan arriving) and an egress one keyed by the source, counting in the same maps.
TEST(BpfHostPlan, BothDirectionsInOneCounterAreTwoProgramsInOneMap) {
    const CompiledPolicy out =
        compiled(std::string(header) + "counter c { forward via wan; split host remote }\n");
    ASSERT_EQ(out.bpf_hosts.size(), 1u);
    const BpfHostCounterPlan& c = out.bpf_hosts[0];
    EXPECT_EQ(c.counter, "c");
    EXPECT_EQ(c.hook, BpfHook::ingress);
    EXPECT_EQ(c.key, BpfAddress::destination);
    ASSERT_TRUE(c.egress_key);
    EXPECT_EQ(*c.egress_key, BpfAddress::source);
    EXPECT_EQ(c.comment, "acctc1 f=1 w=gso,gro rx=wan0 @test.acct:5");
    EXPECT_EQ(out.definition.find("c_hosts"), std::string::npos) << out.definition;
}

// Counters the runtime found BPF unavailable for stay in nft sets, the others go to BPF.
TEST(BpfHostPlan, CountersNamedInNftHostsStayInNft) {
    CompileOptions options;
    options.bpf_hosts = true;
    options.nft_hosts = {"senders"};
    const CompileResult result = compile_source(
        "test.acct",
        std::string(header) + "counter senders { in via wan; split host source }\n"
                              "counter receivers { out via lan; split host destination }\n",
        options);
    ASSERT_TRUE(result.output);
    ASSERT_EQ(result.output->bpf_hosts.size(), 1u);
    EXPECT_EQ(result.output->bpf_hosts[0].counter, "receivers");
    EXPECT_EQ(result.output->bpf_hosts[0].declared, "receivers");
    EXPECT_NE(result.output->definition.find("senders_hosts_v4"), std::string::npos);
    EXPECT_EQ(result.output->definition.find("receivers_hosts_v4"), std::string::npos);
}

} // namespace
} // namespace acctc
