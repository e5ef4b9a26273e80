// The nfacct objects of iptables quotas (docs/iptables.md, "Quotas"), as the kernel lists them
// (scripts/probe_nfacct.py, not acctc): apply creates exactly the policy's object, a dry run
// none; an apply whose restore the kernel refuses (a cgroup gone between compiling and loading:
// `--test` does not resolve it, the commit does) leaves no new object behind and the policy as
// it was; an object acctc did not name is never touched; remove deletes the policy's objects.
// A quota on half the classes of a classification that iptables looks up through a tree of
// chains is charged exactly once for each packet those classes count, and for no other.
#include "acctc/compile.hpp"
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/errors.hpp"
#include "kernel_fixture.hpp"

#include <gtest/gtest.h>
#include <memory>
#include <optional>

namespace acctc::runtime::testing {
namespace {

// "NAME BYTES QUOTA USE" per object whose name starts with acctc-, and the foreign one.
std::string objects(const TestNamespace& ns) {
    return shell("ip netns exec " + ns.name() +
                 " python3 " ACCTC_SOURCE_DIR
                 "/scripts/probe_nfacct.py list acctc- ; ip netns exec " +
                 ns.name() + " python3 " ACCTC_SOURCE_DIR "/scripts/probe_nfacct.py list foreign");
}

CompiledPolicy compiled(BackendKind kind, const std::string& text) {
    CompileOptions options;
    options.target = backend_info(kind).target;
    auto result = compile_source("nfq.acct", text, options);
    if (!result.output) {
        throw std::runtime_error("test policy does not compile");
    }
    return std::move(*result.output);
}

class QuotaObjects : public ::testing::TestWithParam<BackendKind> {};

TEST_P(QuotaObjects, CreatedByApplyOnlyAndNeverLeftByAFailedOne) {
    if (geteuid() != 0) {
        GTEST_SKIP() << "needs root for network namespaces";
    }
    TestNamespace ns;
    shell("ip netns exec " + ns.name() +
          " python3 " ACCTC_SOURCE_DIR "/scripts/probe_nfacct.py new foreign 100 7 >/dev/null");
    const auto backend = make_backend(GetParam(), ns.name());
    const std::string policy = "policy nfq\n"
                               "interface loop = lo\ncounter lo_in { local in via loop }\n"
                               "quota q { on lo_in; 10 kB per day; drop }\n";
    backend->apply(compiled(GetParam(), policy), true);
    EXPECT_EQ(objects(ns), "foreign 7 100 1\n") << "a dry run created an object";

    const CompiledPolicy first = compiled(GetParam(), policy);
    backend->apply(first, false);
    ASSERT_EQ(first.quotas.size(), 1U);
    const std::string name = first.quotas[0].objects.at(0).name;
    EXPECT_EQ(objects(ns), name + " 0 10000 3\nforeign 7 100 1\n"); // charged by v4 and v6

    // A new budget whose rules the kernel refuses at the commit: the cgroup they name exists
    // when compiling, not when loading.
    std::optional<CompiledPolicy> refused;
    {
        const ScopedDirectory cgroup(cgroup2_mount() / "acctc-nfq-test");
        refused = compiled(GetParam(), "policy nfq\n"
                                       "interface loop = lo\ncounter lo_in { local in via loop }\n"
                                       "counter owned { owner cgroup \"acctc-nfq-test\" }\n"
                                       "quota q { on lo_in, owned; 20 kB per day; drop }\n");
    }
    try {
        backend->apply(*refused, false);
        ADD_FAILURE() << "the kernel took a rule naming a cgroup that does not exist";
    } catch (const RuntimeError& error) {
        // Named by its policy line, or (iptables-legacy, which reports the COMMIT line) said why
        // not, instead of a bare "line 27 failed".
        const std::string what = error.what();
        EXPECT_TRUE(what.rfind("nfq.acct:", 0) == 0 ||
                    what.find("refused one of the rules at COMMIT") != std::string::npos)
            << what;
    }
    EXPECT_EQ(objects(ns), name + " 0 10000 3\nforeign 7 100 1\n")
        << "the failed apply left an object, or took the old one";

    backend->remove("nfq");
    EXPECT_EQ(objects(ns), "foreign 7 100 1\n");
}

TEST_P(QuotaObjects, ChargedOnceForWhatItsClassesCountThroughALookupTree) {
    if (geteuid() != 0) {
        GTEST_SKIP() << "needs root for network namespaces";
    }
    std::string text = "policy nfq\ninterface loop = lo\nclassify ports local out via loop {\n";
    std::string members;
    for (int i = 1; i <= 40; ++i) {
        text += "    p" + std::to_string(i) + ": udp dport " + std::to_string(9000 + i) + "\n";
        if (i % 2 == 1) {
            members += (members.empty() ? "" : ", ") + std::string("ports_p") + std::to_string(i);
        }
    }
    text += "    otherwise: others\n}\nquota odd { on " + members + "; 1 MB per day; drop }\n";
    const CompiledPolicy policy = compiled(GetParam(), text);
    ASSERT_NE(policy.iptables->v4.find("-g acctc-nfq-q-odd"), std::string::npos)
        << "no lookup tree charges the quota: " << policy.iptables->v4;
    TestNamespace ns;
    const auto backend = make_backend(GetParam(), ns.name());
    backend->apply(policy, false);
    for (const auto& [port, count] : {std::pair{9001, 2}, {9002, 1}, {9039, 1}, {9040, 1}}) {
        UdpTraffic(ns.name(), static_cast<std::uint16_t>(port)).send(count);
    }
    UdpTraffic(ns.name(), 9100).send(1); // others
    const std::string name = policy.quotas.at(0).objects.at(0).name;
    EXPECT_EQ(objects(ns), name + " " + std::to_string(3 * UdpTraffic::wire_bytes) +
                               " 1000000 3\n"); // 9001 twice and 9039, as their classes
    // Each datagram counted once, by its class (others also count the ICMP errors of the
    // ports nothing listens on).
    std::vector<CounterSample> samples;
    for (const auto& reading : backend->counters("nfq", false)) {
        samples.push_back(reading.sample);
    }
    EXPECT_EQ(packets_of(samples, "ports_p1"), 2U);
    EXPECT_EQ(packets_of(samples, "ports_p2"), 1U);
    EXPECT_EQ(packets_of(samples, "ports_p39"), 1U);
    EXPECT_EQ(packets_of(samples, "ports_p40"), 1U);
    backend->remove("nfq");
}

INSTANTIATE_TEST_SUITE_P(Variants, QuotaObjects,
                         ::testing::Values(BackendKind::iptables_legacy, BackendKind::iptables_nft),
                         [](const auto& variant) {
                             return variant.param == BackendKind::iptables_legacy ? "legacy"
                                                                                  : "nft";
                         });

} // namespace
} // namespace acctc::runtime::testing
