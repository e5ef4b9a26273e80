// Which counters the BPF correction of merged packets covers (compiler/src/bpf_wire.cpp), how
// their nft rules become the program's rules, and that only the covered ones lose the
// segmentation-offload warning.
#include "acctc/compile.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <string>

namespace acctc {
namespace {

struct Compiled {
    CompiledPolicy policy;
    std::string warnings;
};

Compiled compiled(const std::string& text, Target target = Target::nft) {
    CompileOptions options;
    options.target = target;
    CompileResult result = compile_source("test.acct", text, options);
    EXPECT_FALSE(result.diagnostics.has_errors()) << text;
    std::string warnings;
    for (const auto& d : result.diagnostics.sorted()) {
        warnings += d.message + "\n";
    }
    return {result.output ? *result.output : CompiledPolicy{}, warnings};
}

constexpr const char* header = "policy p\ninterface wan = wan0\n";

const WireHook* hook(const BpfWirePlan& plan, const std::string& device, bool ingress) {
    for (const auto& h : plan.hooks) {
        if (h.device == device && h.ingress == ingress) {
            return &h;
        }
    }
    return nullptr;
}

TEST(BpfWirePlan, MeteredLineIsCoveredBothWaysInOneRuleEach) {
    const Compiled out =
        compiled(std::string(header) + "counter line { via wan; split direction }\n");
    const BpfWirePlan& plan = out.policy.bpf_wire;
    EXPECT_EQ(plan.declared, std::vector<std::string>{"line"});
    EXPECT_EQ(plan.counters, (std::vector<std::string>{"line_in", "line_out"}));
    const WireHook* in = hook(plan, "wan0", true);
    const WireHook* leaving = hook(plan, "wan0", false);
    ASSERT_NE(in, nullptr);
    ASSERT_NE(leaving, nullptr);
    // input and forward count the same: one rule of any scope, no routing lookup.
    ASSERT_EQ(in->rules.size(), 1u);
    EXPECT_EQ(in->rules[0].scope, WireScope::any);
    EXPECT_EQ(plan.counters[in->rules[0].counter], "line_in");
    // The egress chain's two rules, this host's packets and forwarded ones: one too.
    ASSERT_EQ(leaving->rules.size(), 1u);
    EXPECT_EQ(leaving->rules[0].scope, WireScope::any);
    EXPECT_EQ(out.warnings.find("segmentation-offload"), std::string::npos) << out.warnings;
}

TEST(BpfWirePlan, AddressesPortsAndScopesBecomeConditions) {
    const Compiled out =
        compiled(std::string(header) +
                 "counter web { local in via wan; tcp dport 443; from 198.18.0.0/15 }\n"
                 "counter six { forward out via wan; to 2001:db8::/32 }\n");
    const BpfWirePlan& plan = out.policy.bpf_wire;
    const WireHook* in = hook(plan, "wan0", true);
    ASSERT_NE(in, nullptr);
    ASSERT_EQ(in->rules.size(), 1u);
    EXPECT_EQ(in->rules[0].scope, WireScope::local);
    const auto& conditions = in->rules[0].conditions;
    const auto has = [&](WireField field) {
        return std::any_of(conditions.begin(), conditions.end(),
                           [&](const WireCondition& c) { return c.field == field; });
    };
    EXPECT_TRUE(has(WireField::l4proto));
    EXPECT_TRUE(has(WireField::dport));
    EXPECT_TRUE(has(WireField::saddr4));
    const auto saddr = std::find_if(conditions.begin(), conditions.end(),
                                    [](const auto& c) { return c.field == WireField::saddr4; });
    ASSERT_EQ(saddr->ranges.size(), 1u);
    EXPECT_EQ(saddr->ranges[0].lo_low, 0xc6120000u);
    EXPECT_EQ(saddr->ranges[0].hi_low, 0xc613ffffu);
    const WireHook* leaving = hook(plan, "wan0", false);
    ASSERT_NE(leaving, nullptr);
    ASSERT_EQ(leaving->rules.size(), 1u);
    EXPECT_EQ(leaving->rules[0].scope, WireScope::forwarded);
    const auto& daddr = leaving->rules[0].conditions.back();
    EXPECT_EQ(daddr.field, WireField::daddr6);
    EXPECT_EQ(daddr.ranges[0].lo_high, 0x20010db800000000u);
    EXPECT_EQ(daddr.ranges[0].hi_high, 0x20010db8ffffffffu);
}

TEST(BpfWirePlan, BothDirectionsInForwardScopeLeaveOutWhatArrivedViaTheDevice) {
    const Compiled out = compiled(std::string(header) + "counter everything { via wan }\n");
    const WireHook* leaving = hook(out.policy.bpf_wire, "wan0", false);
    ASSERT_NE(leaving, nullptr);
    const bool once = std::any_of(leaving->rules.begin(), leaving->rules.end(), [](const auto& r) {
        return r.scope == WireScope::forwarded &&
               r.not_arrived_via == std::vector<std::string>{"wan0"};
    });
    EXPECT_TRUE(once);
}

TEST(BpfWirePlan, WhatTheProgramCannotClassifyStaysWarned) {
    const Compiled out = compiled(std::string(header) +
                                  "counter mine { out via wan; owner user root }\n"
                                  "counter big { out via wan; length 1000..65535 }\n"
                                  "counter anywhere { out; tcp }\n"
                                  "counter followed { via wan; tcp port 22; follow connection }\n"
                                  "counter covered { out via wan; udp }\n");
    EXPECT_EQ(out.policy.bpf_wire.declared, std::vector<std::string>{"covered"});
    for (const char* name : {"mine", "big", "anywhere", "followed"}) {
        EXPECT_NE(out.warnings.find(name), std::string::npos) << name << "\n" << out.warnings;
    }
    EXPECT_EQ(out.warnings.find("covered"), std::string::npos) << out.warnings;
}

// A quota's charge rules share its counters' conditions: the counters are corrected, and the
// quota with them (examples/metered_line.acct), by the counters it sums that are corrected.
TEST(BpfWirePlan, QuotasSumTheirCountersCorrections) {
    const Compiled out =
        compiled(std::string(header) + "counter line { via wan; split direction }\n"
                                       "counter mine { out via wan; owner user root }\n"
                                       "quota line { on line\n 50 GB per month from day 15 }\n"
                                       "quota both { on line_out, mine\n 1 GB per day; drop }\n"
                                       "quota only_mine { on mine\n 1 GB per day }\n");
    const BpfWirePlan& plan = out.policy.bpf_wire;
    EXPECT_EQ(plan.declared, std::vector<std::string>{"line"});
    // Still warned about fragments (a quota's counters stay at the output hook), no longer
    // about segmentation offload.
    const std::string line = out.warnings.substr(out.warnings.find("counter line:"));
    EXPECT_EQ(line.substr(0, line.find('\n')).find("segmentation"), std::string::npos)
        << out.warnings;
    ASSERT_EQ(plan.quotas.size(), 2U);
    const auto names = [&](const WireQuota& quota) {
        std::vector<std::string> summed;
        for (const std::size_t c : quota.counters) {
            summed.push_back(plan.counters.at(c));
        }
        return summed;
    };
    EXPECT_EQ(plan.quotas[0].name, "line");
    EXPECT_EQ(plan.quotas[0].limit, 50000000000U);
    EXPECT_EQ(plan.quotas[0].warn, 40000000000U);
    EXPECT_EQ(names(plan.quotas[0]), (std::vector<std::string>{"line_in", "line_out"}));
    EXPECT_EQ(plan.quotas[1].name, "both");
    EXPECT_EQ(names(plan.quotas[1]), std::vector<std::string>{"line_out"});
}

// The TCX program does not depend on the backend: iptables' counters are corrected as nft's,
// except those a quota sums (an nfacct object's budget cannot be lowered without zeroing it).
TEST(BpfWirePlan, IptablesCorrectsAllButQuotas) {
    const Compiled out =
        compiled(std::string(header) + "counter line { via wan; split direction }\n"
                                       "counter billed { out via wan; tcp }\n"
                                       "quota q { on billed\n 1 GB per month }\n",
                 Target::iptables);
    EXPECT_EQ(out.policy.bpf_wire.declared, std::vector<std::string>{"line"});
    EXPECT_TRUE(out.policy.bpf_wire.quotas.empty());
    // No egress hook on iptables: fragments stay warned, segmentation offload no longer.
    EXPECT_NE(out.warnings.find("counter line: the output hook sees datagrams larger"),
              std::string::npos)
        << out.warnings;
    EXPECT_NE(out.warnings.find("counter billed: the output hook sees TCP segmentation-offload"),
              std::string::npos)
        << out.warnings;
}

} // namespace
} // namespace acctc
