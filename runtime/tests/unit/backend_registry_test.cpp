// The table of backends: every kind has its row, names are unique and found again, and the
// names every usage error lists come from the table.
#include "acctc/runtime/backend.hpp"

#include <gtest/gtest.h>
#include <set>

namespace acctc::runtime {
namespace {

TEST(BackendRegistry, EveryRowIsFoundByItsNameAndKind) {
    std::set<std::string_view> names;
    for (const auto& row : backends()) {
        EXPECT_TRUE(names.insert(row.name).second) << row.name;
        EXPECT_EQ(backend_named(row.name), &row);
        EXPECT_EQ(&backend_info(row.kind), &row);
        EXPECT_NE(row.make, nullptr);
        EXPECT_FALSE(row.summary.empty());
    }
    EXPECT_EQ(backend_named("pf"), nullptr);
    EXPECT_EQ(backend_named(""), nullptr);
}

TEST(BackendRegistry, WhatCompileEmitsForEachBackend) {
    EXPECT_EQ(backend_named("nft")->target, Target::nft);
    for (const char* name : {"iptables", "iptables-legacy", "iptables-nft"}) {
        ASSERT_NE(backend_named(name), nullptr) << name;
        EXPECT_EQ(backend_named(name)->target, Target::iptables) << name;
    }
    EXPECT_EQ(kernel_object(BackendKind::nftables, "acctc_x"), "table inet acctc_x");
    EXPECT_EQ(kernel_object(BackendKind::iptables_legacy, "acctc-x-"), "iptables chains acctc-x-*");
}

TEST(BackendRegistry, TheListOfNamesComesFromTheTable) {
    EXPECT_EQ(backend_names(), "nft, iptables, iptables-legacy or iptables-nft");
    EXPECT_EQ(backend_names(", "), "nft, iptables, iptables-legacy, iptables-nft");
}

} // namespace
} // namespace acctc::runtime
