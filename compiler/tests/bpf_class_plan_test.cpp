// Which classifications CompileOptions::bpf_classes moves from the nft table to the BPF plan
// (compiler/src/bpf_classes.cpp): the shapes, the first-match partition of the ports, names and
// comments as nft's counters have them, and that everything else compiles as before.
#include "acctc/compile.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace acctc {
namespace {

CompileResult class_plan_result(const std::string& text, bool bpf_classes = true,
                                Target target = Target::nft) {
    CompileOptions options;
    options.target = target;
    options.bpf_classes = bpf_classes;
    CompileResult result = compile_source("test.acct", text, options);
    EXPECT_FALSE(result.diagnostics.has_errors()) << text;
    return result;
}

CompiledPolicy class_plan(const std::string& text, bool bpf_classes = true) {
    CompileResult result = class_plan_result(text, bpf_classes);
    return result.output ? *result.output : CompiledPolicy{};
}

// The comment nft's table gives counter `name`.
std::string nft_comment(const std::string& definition, const std::string& name) {
    const std::string head = "counter " + name + " {\n\t\tcomment \"";
    const auto at = definition.find(head);
    if (at == std::string::npos) {
        return "(no counter " + name + ")";
    }
    const auto begin = at + head.size();
    return definition.substr(begin, definition.find('"', begin) - begin);
}

constexpr const char* policy_head =
    "policy p\ninterface wan = wan0\ninterface lan = lan0\ninterface eth = \"eth*\"\n";

BpfPortRange tcp(std::uint16_t first, std::uint16_t last) {
    return {6, first, last};
}
BpfPortRange udp(std::uint16_t first, std::uint16_t last) {
    return {17, first, last};
}

TEST(BpfClassPlan, PortsOfOneDeviceAndDirectionGoToBpf) {
    const std::string text = std::string(policy_head) + "classify svc in via wan {\n"
                                                        "    web: tcp dport 80, 443\n"
                                                        "    dns: tcp, udp dport 53\n"
                                                        "    high: udp dport 1024..65535\n"
                                                        "    otherwise: rest\n"
                                                        "}\n";
    const CompiledPolicy out = class_plan(text);
    ASSERT_EQ(out.bpf_classes.size(), 1u);
    const BpfClassifyPlan& svc = out.bpf_classes[0];
    EXPECT_EQ(svc.classify, "svc");
    EXPECT_EQ(svc.origin, "test.acct:5");
    EXPECT_EQ(svc.device, "wan0");
    EXPECT_EQ(svc.hook, BpfHook::ingress);
    EXPECT_FALSE(svc.forwarded_only);
    ASSERT_EQ(svc.classes.size(), 4u);
    EXPECT_EQ(svc.classes[0].ports, (std::vector{tcp(80, 80), tcp(443, 443)}));
    EXPECT_EQ(svc.classes[1].ports, (std::vector{tcp(53, 53), udp(53, 53)}));
    EXPECT_EQ(svc.classes[2].ports, (std::vector{udp(1024, 65535)}));
    EXPECT_TRUE(svc.classes[3].otherwise);
    EXPECT_TRUE(svc.classes[3].ports.empty());
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_FALSE(svc.classes[i].otherwise);
    }
    // Names and comments as nft's counters have them: at ingress nft sees what GRO merged on
    // wan0, as the program does (a UDP class nothing merged).
    const CompiledPolicy nft = class_plan(text, false);
    EXPECT_TRUE(nft.bpf_classes.empty());
    ASSERT_EQ(nft.counters.size(), 4u);
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(svc.classes[i].counter, nft.counters[i].name);
        EXPECT_EQ(svc.classes[i].comment, nft_comment(nft.definition, nft.counters[i].name));
    }
    EXPECT_EQ(svc.classes[0].comment, "acctc1 f=3 class=web w=gro rx=wan0 @test.acct:6");
    EXPECT_EQ(svc.classes[2].comment, "acctc1 f=3 class=high @test.acct:8");
    EXPECT_EQ(svc.classes[3].counter, "svc_rest");
    // Not in the table: no chain, no counters; the device is still checked by apply.
    EXPECT_EQ(out.definition.find("svc"), std::string::npos) << out.definition;
    EXPECT_TRUE(out.counters.empty());
    ASSERT_EQ(out.devices.size(), 1u);
    EXPECT_EQ(out.devices[0].device, "wan0");
}

// At egress the program sees GSO packets before they are cut up and what GRO merged where it
// arrived, and no fragmentation (nft's output hook counts datagrams before it).
TEST(BpfClassPlan, EgressForwardOnly) {
    const std::string text = std::string(policy_head) +
                             "classify svc forward out via lan { web: tcp dport 80; dns: udp "
                             "dport 53; otherwise: rest }\n";
    const CompiledPolicy out = class_plan(text);
    ASSERT_EQ(out.bpf_classes.size(), 1u);
    const BpfClassifyPlan& svc = out.bpf_classes[0];
    EXPECT_EQ(svc.device, "lan0");
    EXPECT_EQ(svc.hook, BpfHook::egress);
    EXPECT_TRUE(svc.forwarded_only);
    ASSERT_EQ(svc.classes.size(), 3u);
    EXPECT_EQ(svc.classes[0].comment, "acctc1 f=3 class=web w=gso,gro @test.acct:5");
    EXPECT_EQ(svc.classes[1].comment, "acctc1 f=3 class=dns @test.acct:5");
    EXPECT_EQ(svc.classes[2].comment, "acctc1 f=3 class=rest w=gso,gro @test.acct:5");
    const CompiledPolicy both_scopes =
        class_plan(std::string(policy_head) + "classify svc out via lan { web: tcp dport 80 }\n");
    ASSERT_EQ(both_scopes.bpf_classes.size(), 1u);
    EXPECT_FALSE(both_scopes.bpf_classes[0].forwarded_only);
    EXPECT_EQ(both_scopes.bpf_classes[0].hook, BpfHook::egress);
}

// First match: a class owns, per protocol, its ports less what earlier classes took; one that
// earlier classes cover entirely owns nothing and is warned about, as nft's lowering does.
TEST(BpfClassPlan, FirstMatchPartition) {
    const CompileResult result =
        class_plan_result(std::string(policy_head) + "classify c in via wan {\n"
                                                     "    a: tcp dport 1000..2000\n"
                                                     "    b: tcp dport 1500..2500, 80\n"
                                                     "    c: tcp, udp dport 1800..1900\n"
                                                     "    d: udp dport 1..65535\n"
                                                     "    e: tcp dport 1200, 2400\n"
                                                     "    f: tcp dport 0..65535\n"
                                                     "}\n");
    ASSERT_TRUE(result.output);
    ASSERT_EQ(result.output->bpf_classes.size(), 1u);
    const auto& classes = result.output->bpf_classes[0].classes;
    ASSERT_EQ(classes.size(), 6u);
    EXPECT_EQ(classes[0].ports, (std::vector{tcp(1000, 2000)}));
    EXPECT_EQ(classes[1].ports, (std::vector{tcp(80, 80), tcp(2001, 2500)}));
    EXPECT_EQ(classes[2].ports, (std::vector{udp(1800, 1900)}));
    EXPECT_EQ(classes[3].ports, (std::vector{udp(1, 1799), udp(1901, 65535)}));
    EXPECT_TRUE(classes[4].ports.empty());
    EXPECT_EQ(classes[5].ports, (std::vector{tcp(0, 79), tcp(81, 999), tcp(2501, 65535)}));
    std::string warnings;
    for (const Diagnostic& diagnostic : result.diagnostics.all()) {
        warnings += diagnostic.message + "\n";
    }
    EXPECT_EQ(warnings, "class 'e' can never match: earlier classes of 'c' take all its packets\n");
}

BpfPrefix v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d, std::uint8_t length) {
    BpfPrefix out;
    out.address = {a, b, c, d};
    out.length = length;
    return out;
}
BpfPrefix v6_2001_db8(std::uint8_t third_low, std::uint8_t length) {
    BpfPrefix out;
    out.ipv6 = true;
    out.address = {0x20, 0x01, 0x0d, 0xb8, 0, third_low};
    out.length = length;
    return out;
}

TEST(BpfClassPlan, NetworksOfOneSideGoToBpf) {
    const std::string text = std::string(policy_head) +
                             "classify hosts forward out via wan {\n"
                             "    one: from 198.18.1.10\n"
                             "    lan: from 198.18.1.0/24, 2001:db8:1::/48\n"
                             "    otherwise: rest\n"
                             "}\n";
    const CompiledPolicy out = class_plan(text);
    ASSERT_EQ(out.bpf_classes.size(), 1u);
    const BpfClassifyPlan& hosts = out.bpf_classes[0];
    EXPECT_EQ(hosts.key, BpfKey::source_address);
    EXPECT_EQ(hosts.hook, BpfHook::egress);
    EXPECT_TRUE(hosts.forwarded_only);
    ASSERT_EQ(hosts.classes.size(), 3u);
    EXPECT_EQ(hosts.classes[0].prefixes, (std::vector{v4(198, 18, 1, 10, 32)}));
    EXPECT_EQ(hosts.classes[1].prefixes, (std::vector{v4(198, 18, 1, 0, 24), v6_2001_db8(1, 48)}));
    EXPECT_TRUE(hosts.classes[2].otherwise);
    EXPECT_TRUE(hosts.classes[2].prefixes.empty());
    for (const BpfClass& cls : hosts.classes) {
        EXPECT_TRUE(cls.ports.empty());
    }
    const CompiledPolicy nft = class_plan(text, false);
    ASSERT_EQ(nft.counters.size(), 3u);
    // Names as nft's; at egress the program sees GSO packets before they are cut up, where nft's
    // forward hook sees what GRO merged only.
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(hosts.classes[i].counter, nft.counters[i].name);
        EXPECT_NE(hosts.classes[i].comment.find(" w=gso,gro "), std::string::npos);
        EXPECT_NE(nft_comment(nft.definition, nft.counters[i].name).find(" w=gro "),
                  std::string::npos);
    }
    const CompiledPolicy to =
        class_plan(std::string(policy_head) + "classify d in via wan { a: to 2001:db8:2::/64 }\n");
    ASSERT_EQ(to.bpf_classes.size(), 1u);
    EXPECT_EQ(to.bpf_classes[0].key, BpfKey::destination_address);
}

// A prefix inside one an earlier class put in is left out (the earlier class takes it there); a
// later class's shorter prefix goes in around an earlier longer one, which the trie prefers.
TEST(BpfClassPlan, PrefixesInFirstMatchOrder) {
    const CompileResult result = class_plan_result(std::string(policy_head) +
                                                   "classify c in via wan {\n"
                                                   "    narrow: from 198.18.1.16/28\n"
                                                   "    wide: from 198.18.1.0/24\n"
                                                   "    inside: from 198.18.1.128/25, 198.18.2.1\n"
                                                   "    again: from 198.18.1.16/28\n"
                                                   "    six: from 2001:db8:1::/48, 198.18.1.1\n"
                                                   "}\n");
    ASSERT_TRUE(result.output);
    ASSERT_EQ(result.output->bpf_classes.size(), 1u);
    const auto& classes = result.output->bpf_classes[0].classes;
    ASSERT_EQ(classes.size(), 5u);
    EXPECT_EQ(classes[0].prefixes, (std::vector{v4(198, 18, 1, 16, 28)}));
    EXPECT_EQ(classes[1].prefixes, (std::vector{v4(198, 18, 1, 0, 24)}));
    EXPECT_EQ(classes[2].prefixes, (std::vector{v4(198, 18, 2, 1, 32)}));
    EXPECT_TRUE(classes[3].prefixes.empty());
    EXPECT_EQ(classes[4].prefixes, (std::vector{v6_2001_db8(1, 48)}));
    std::string warnings;
    for (const Diagnostic& diagnostic : result.diagnostics.all()) {
        warnings += diagnostic.message + "\n";
    }
    EXPECT_EQ(warnings,
              "class 'again' can never match: earlier classes of 'c' take all its packets\n");
}

TEST(BpfClassPlan, OtherShapesStayInNft) {
    const char* shapes[] = {
        "classify c local in via wan { a: tcp dport 80 }\n", // input only
        "classify c via wan { a: tcp dport 80 }\n",          // both directions
        "classify c via wan split direction { a: tcp dport 80 }\n",
        "classify c in via eth { a: tcp dport 80 }\n",          // a wildcard
        "classify c in { a: tcp dport 80 }\n",                  // no device
        "classify c in via wan, lan { a: tcp dport 80 }\n",     // two devices
        "classify c passive via wan { a: tcp dport 80 }\n",     // before everything
        "classify c in via wan udp { a: udp dport 53 }\n",      // more in the header
        "classify c in via wan { a: tcp sport 80 }\n",          // source ports
        "classify c in via wan { a: tcp port 80 }\n",           // either side
        "classify c in via wan { a: sctp dport 80 }\n",         // no slots for SCTP
        "classify c in via wan { a: udp }\n",                   // a protocol without ports
        "classify c in via wan { a: tcp dport 80; b: icmp }\n", // one class of another shape
        "classify c in via wan { a: tcp dport 80 from 198.18.0.0/16 }\n",
        "classify c in via wan { a: tcp dport 80 length 0..100 }\n",
        "classify c in via wan { a: udp tcp, udp dport 53 }\n", // narrowed by another clause
        "classify c in via wan { a: tcp dport 80 }\nquota q { on c_a; 1 GB per day }\n",
        "classify c in via wan { a: from 198.18.0.0/16; b: to 198.18.0.0/16 }\n", // two sides
        "classify c in via wan { a: from 198.18.0.0/16; b: tcp dport 80 }\n",     // two keys
        "classify c in via wan { a: from 198.18.0.0/16 to 198.18.1.0/24 }\n",
        "classify c in via wan { a: from 198.18.0.0/16 udp }\n",
        "classify c in via wan { a: address 198.18.0.0/16 }\n", // either side
    };
    for (const char* shape : shapes) {
        const CompileResult result = class_plan_result(std::string(policy_head) + shape);
        ASSERT_TRUE(result.output) << shape;
        EXPECT_TRUE(result.output->bpf_classes.empty()) << shape;
        EXPECT_NE(result.output->definition.find("chain classify_c"), std::string::npos) << shape;
    }
}

// The table is the nft-only one without the classification: the counters and classifications
// before and after it (the order's indexes) as they were.
TEST(BpfClassPlan, OffByDefaultAndTheRestUnchanged) {
    const std::string before = std::string(policy_head) +
                               "counter web { in via wan; tcp sport 443 }\n"
                               "classify ssh in via wan { s: tcp sport 22 }\n";
    const std::string after = "counter dns { in via wan; udp sport 53 }\n"
                              "classify out_svc out via wan { a: tcp dport 80; otherwise: b }\n";
    const std::string text =
        before + "classify svc in via wan { web: tcp dport 80; otherwise: rest }\n" + after;
    EXPECT_TRUE(class_plan_result(text, false).output->bpf_classes.empty());
    const CompiledPolicy with_bpf = class_plan(text);
    ASSERT_EQ(with_bpf.bpf_classes.size(), 2u);
    EXPECT_EQ(with_bpf.bpf_classes[0].classify, "svc");
    EXPECT_EQ(with_bpf.bpf_classes[1].classify, "out_svc");
    const CompiledPolicy without =
        class_plan(before + "\n" + "counter dns { in via wan; udp sport 53 }\n", false);
    EXPECT_EQ(with_bpf.definition, without.definition);
    EXPECT_NE(with_bpf.definition.find("chain classify_ssh"), std::string::npos);
    EXPECT_EQ(with_bpf.definition.find("classify_svc"), std::string::npos);
    ASSERT_EQ(with_bpf.counters.size(), without.counters.size());
}

// Classifications the runtime found BPF unavailable for stay in nft rules, the others go.
TEST(BpfClassPlan, ClassificationsNamedInNftClassesStayInNft) {
    CompileOptions options;
    options.bpf_classes = true;
    options.nft_classes = {"a"};
    const CompileResult result =
        compile_source("test.acct",
                       std::string(policy_head) + "classify a in via wan { x: tcp dport 80 }\n"
                                                  "classify b out via lan { y: udp dport 53 }\n",
                       options);
    ASSERT_TRUE(result.output);
    ASSERT_EQ(result.output->bpf_classes.size(), 1u);
    EXPECT_EQ(result.output->bpf_classes[0].classify, "b");
    EXPECT_NE(result.output->definition.find("chain classify_a"), std::string::npos);
    EXPECT_EQ(result.output->definition.find("classify_b"), std::string::npos);
}

// iptables counts classifications in its rules: the eligible ones are named, and stay there.
TEST(BpfClassPlan, IptablesNamesThemAndKeepsTheRules) {
    const CompileResult result =
        class_plan_result(std::string(policy_head) + "classify a in via wan { x: tcp dport 80 }\n"
                                                     "classify b in via wan { y: tcp sport 80 }\n",
                          true, Target::iptables);
    ASSERT_TRUE(result.output);
    EXPECT_TRUE(result.output->bpf_classes.empty());
    EXPECT_EQ(result.output->bpf_classes_unavailable, std::vector<std::string>{"a"});
    ASSERT_TRUE(result.output->iptables);
    EXPECT_NE(result.output->iptables->v4.find("a_x"), std::string::npos);
}

// Per-host counters and classifications in BPF at once.
TEST(BpfClassPlan, WithHostsInBpf) {
    CompileOptions options;
    options.bpf_classes = true;
    options.bpf_hosts = true;
    const CompileResult result = compile_source(
        "test.acct",
        std::string(policy_head) + "counter hosts { in via wan; split host source }\n"
                                   "classify a in via wan { x: tcp dport 80 }\n"
                                   "counter web { in via wan; tcp sport 443 }\n",
        options);
    ASSERT_TRUE(result.output);
    EXPECT_EQ(result.output->bpf_hosts.size(), 1u);
    EXPECT_EQ(result.output->bpf_classes.size(), 1u);
    ASSERT_EQ(result.output->counters.size(), 1u);
    EXPECT_EQ(result.output->counters[0].name, "web");
}

} // namespace
} // namespace acctc
