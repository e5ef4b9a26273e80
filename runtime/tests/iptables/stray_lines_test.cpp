// The iptables backend loads only the chain declarations and rules acctc writes. A line of any
// other kind in the restore text (a table switch, "-F", "-P INPUT DROP", a truncated "-A") is
// refused with acctc's own error before anything reaches the kernel: it once flushed a host's
// filter table, or died with a raw basic_string::substr exception.
#include "acctc/compile.hpp"
#include "acctc/runtime/errors.hpp"
#include "acctc/runtime/iptables_backend.hpp"
#include "kernel_fixture.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

namespace acctc::runtime::testing {
namespace {

CompiledPolicy compiled() {
    CompileOptions options;
    options.target = Target::iptables;
    auto result =
        compile_source("stray.acct", "policy stray\ncounter c { in; udp dport 9 }\n", options);
    if (!result.output) {
        throw std::runtime_error("test policy does not compile");
    }
    return *result.output;
}

TEST(IptablesStrayLines, AreRefusedBeforeAnythingLoads) {
    if (geteuid() != 0) {
        GTEST_SKIP() << "needs root for network namespaces";
    }
    for (const std::string stray : {"-F", "-P INPUT DROP", "*nat", "-A", "-I INPUT", ":",
                                    "-X acctc-stray-input", "flush ruleset"}) {
        SCOPED_TRACE(stray);
        TestNamespace netns;
        const std::string in_netns = "nsenter --net=/run/netns/" + netns.name() + " ";
        shell(in_netns + "iptables -N sentinel");
        CompiledPolicy policy = compiled();
        std::string& v4 = policy.iptables->v4;
        v4.insert(v4.find("COMMIT"), stray + "\n");
        const auto backend = make_iptables_backend(netns.name());
        try {
            backend->apply(policy, false);
            ADD_FAILURE() << "a stray line was loaded";
        } catch (const RuntimeError& error) {
            EXPECT_NE(std::string(error.what()).find("neither a chain nor a rule"),
                      std::string::npos)
                << error.what();
        }
        EXPECT_EQ(shell(in_netns + "iptables -S"), "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n"
                                                   "-P OUTPUT ACCEPT\n-N sentinel\n");
        EXPECT_EQ(shell(in_netns + "ip6tables -S"),
                  "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n");
    }
}

} // namespace
} // namespace acctc::runtime::testing
