// acctc touches only its own table: foreign tables survive byte for byte, and concurrent
// applies never leave a mixture of two policies.
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/errors.hpp"
#include "acctc/runtime/netns.hpp"
#include "kernel_fixture.hpp"
#include "mutation_lock.hpp"
#include "test_policies.hpp"

#include <fstream>
#include <gtest/gtest.h>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace acctc::runtime::testing {
namespace {

// Tables a careless tool would hit: same family, same name in another family, similar names.
constexpr const char* foreign_ruleset = R"(table inet filter {
	counter keep { packets 11 bytes 1100 }
	set blocked { type ipv4_addr; elements = { 198.18.9.9 } }
	chain input {
		type filter hook input priority filter; policy accept;
		ip saddr @blocked counter drop
		tcp dport 22 counter accept comment "ssh"
	}
}
table ip acctc_t {
	counter total { packets 3 bytes 30 }
	chain output {
		type filter hook output priority 5; policy accept;
		udp dport 9 counter
	}
}
table inet acctc {
	chain c {
	}
}
)";

std::string foreign_state(const TestNamespace& netns) {
    return netns.nft("-a list table inet filter") + netns.nft("-a list table ip acctc_t") +
           netns.nft("-a list table inet acctc");
}

TEST(Isolation, ForeignTablesAreByteIdenticalAfterApplyResetAndRemove) {
    TestNamespace netns;
    shell("printf '%s' '" + std::string(foreign_ruleset) + "' | ip netns exec " + netns.name() +
          " nft -f -");
    const std::string before = foreign_state(netns);
    auto backend = make_backend(BackendKind::nftables, netns.name());
    backend->apply(policy_a(), false);
    EXPECT_EQ(foreign_state(netns), before);
    backend->apply(policy_b(), false);
    backend->counters("", true);
    EXPECT_EQ(foreign_state(netns), before);
    const auto removed = backend->remove("t");
    EXPECT_EQ(removed.final_counters.size(), 2U);
    EXPECT_EQ(foreign_state(netns), before);
    EXPECT_EQ(netns.nft("list tables"), "table inet filter\ntable ip acctc_t\ntable inet acctc\n");
}

TEST(Isolation, RemoveReportsFinalValuesAndUnknownPoliciesAreNamed) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    backend->apply(policy_a(), false);
    UdpTraffic(netns.name(), 9).send(4);
    const auto report = backend->remove("t");
    EXPECT_EQ(report.table, "acctc_t");
    ASSERT_EQ(report.final_counters.size(), 2U);
    EXPECT_EQ(report.final_counters[1].sample.packets, 4U);
    EXPECT_EQ(netns.nft("list ruleset"), "");
    try {
        backend->remove("t");
        ADD_FAILURE() << "removed a policy twice";
    } catch (const RuntimeError& error) {
        EXPECT_EQ(error.kind(), ErrorKind::unknown_table);
        EXPECT_NE(std::string(error.what()).find("no table inet acctc_t"), std::string::npos);
    }
}

// The table-level blocks of a normalised listing ("\tchain output {...}"), blank-separated.
std::set<std::string> blocks_of(const std::string& listing) {
    std::set<std::string> blocks;
    std::string block;
    std::istringstream in(listing);
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line == "}") {
            blocks.insert(block);
            block.clear();
        } else if (line.rfind("table ", 0) != 0) {
            block += line + "\n";
        }
    }
    blocks.erase("");
    return blocks;
}

// Between a reload's commit and its cleanup, what the new rules no longer use lingers
// unreferenced (so removed counters can be read once no packet uses them). A whole policy is
// every one of its blocks exactly, plus at most such leftovers, which never hook a packet.
bool is_whole(const std::string& live, const std::string& planned) {
    const auto have = blocks_of(live);
    const auto want = blocks_of(planned);
    for (const auto& block : want) {
        if (have.count(block) == 0) {
            return false;
        }
    }
    for (const auto& block : have) {
        if (want.count(block) == 0 && block.find(" hook ") != std::string::npos) {
            return false;
        }
    }
    return true;
}

// The lock file is opened like the records beside it: a link in its place is not followed
// (as root it would open any file), a FIFO does not stall.
TEST(Isolation, TheLockFileIsNeverALink) {
    TestNamespace netns;
    const NetnsScope inside(netns.name());
    const std::string path = "/run/acctc/netns-" + std::to_string(current_netns_id()) + ".lock";
    const std::string target = path + ".target";
    std::ofstream(target) << "untouched";
    ::unlink(path.c_str()); // left by an earlier namespace of the same inode number
    ASSERT_EQ(::symlink(target.c_str(), path.c_str()), 0);
    EXPECT_THROW(MutationLock(), RuntimeError);
    ::unlink(path.c_str());
    ::unlink(target.c_str());
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    EXPECT_THROW(MutationLock(), RuntimeError);
    ::unlink(path.c_str());
    EXPECT_NO_THROW(MutationLock());
    ::unlink(path.c_str());
}

TEST(Isolation, ConcurrentAppliesNeverLeaveAHalfRuleset) {
    TestNamespace netns;
    const std::string planned_a =
        make_backend(BackendKind::nftables, netns.name())->planned_ruleset(policy_a());
    const std::string planned_b =
        make_backend(BackendKind::nftables, netns.name())->planned_ruleset(policy_b());
    ASSERT_NE(planned_a, planned_b);
    std::atomic<bool> done{false};
    std::atomic<int> observed{0};
    std::atomic<int> mixed{0};
    std::thread watcher([&] {
        auto backend = make_backend(BackendKind::nftables, netns.name());
        while (!done) {
            const std::string live = backend->live_ruleset("t");
            if (live.empty()) {
                continue;
            }
            ++observed;
            if (!is_whole(live, planned_a) && !is_whole(live, planned_b)) {
                ++mixed;
            }
        }
    });
    std::vector<std::thread> appliers;
    for (int t = 0; t < 2; ++t) {
        appliers.emplace_back([&, t] {
            auto backend = make_backend(BackendKind::nftables, netns.name());
            for (int i = 0; i < 25; ++i) {
                backend->apply((i + t) % 2 == 0 ? policy_a() : policy_b(), false);
            }
        });
    }
    for (auto& applier : appliers) {
        applier.join();
    }
    done = true;
    watcher.join();
    EXPECT_GT(observed.load(), 0);
    EXPECT_EQ(mixed.load(), 0);
    // At rest the table is exactly one policy, counter objects included.
    auto backend = make_backend(BackendKind::nftables, netns.name());
    const std::string live = backend->live_ruleset("t");
    EXPECT_TRUE(live == backend->planned_ruleset(policy_a()) ||
                live == backend->planned_ruleset(policy_b()))
        << live;
}

} // namespace
} // namespace acctc::runtime::testing
