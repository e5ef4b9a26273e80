// Reading counters by remembered name, and every way the remembered names can be wrong: the
// values must always be the kernel's, whatever the cache under /run/acctc says.
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/netns.hpp"
#include "counter_name_cache.hpp"
#include "kernel_fixture.hpp"
#include "nft_counter_read.hpp"
#include "test_policies.hpp"

#include <algorithm>
#include <fstream>
#include <gtest/gtest.h>
#include <map>

namespace acctc::runtime::testing {
namespace {

using Values = std::map<std::string, std::pair<std::uint64_t, std::uint64_t>>;

Values values_of(const std::vector<KernelCounter>& counters) {
    Values values;
    for (const auto& counter : counters) {
        values[counter.name] = {counter.packets, counter.bytes};
    }
    return values;
}

// A table of counters with known values, written by hand as a foreign tool would.
class CounterReadTest : public ::testing::Test {
  protected:
    void SetUp() override {
        netns_.nft("add table inet acctc_r \\; "
                   "add counter inet acctc_r a packets 1 bytes 10 \\; "
                   "add counter inet acctc_r b packets 2 bytes 20 \\; "
                   "add counter inet acctc_r c packets 3 bytes 30 \\; "
                   "add chain inet acctc_r spare");
        scope_.emplace(netns_.name());
        netlink_.emplace();
    }
    void TearDown() override {
        forget_counter_names("acctc_r");
        netlink_.reset();
        scope_.reset();
    }

    Values read(bool reset = false) {
        return values_of(read_table_counters(*netlink_, "acctc_r", reset));
    }
    static std::optional<RememberedCounters> remembered() {
        return CounterNameCache().load("acctc_r");
    }

    TestNamespace netns_;
    std::optional<NetnsScope> scope_;
    std::optional<NftNetlink> netlink_;
};

const Values initial{{"a", {1, 10}}, {"b", {2, 20}}, {"c", {3, 30}}};

TEST_F(CounterReadTest, FirstReadLearnsTheNamesAndTheNextGoesByName) {
    EXPECT_FALSE(remembered().has_value());
    EXPECT_EQ(read(), initial);
    const auto names = remembered();
    ASSERT_TRUE(names.has_value());
    EXPECT_EQ(names->names.size(), 3U);
    EXPECT_EQ(read(), initial);
}

// The trust the speed comes from: a record that matches the table's handle and member count is
// read by name without a dump (here one that leaves a counter out, so the path shows).
TEST_F(CounterReadTest, ARecordMatchingTheTableIsReadByName) {
    read();
    auto record = remembered();
    ASSERT_TRUE(record.has_value());
    record->names = {"a", "c"};
    CounterNameCache().store("acctc_r", *record);
    EXPECT_EQ(read(), (Values{{"a", {1, 10}}, {"c", {3, 30}}}));
}

TEST_F(CounterReadTest, ACounterAddedSinceIsRead) {
    read();
    netns_.nft("add counter inet acctc_r d packets 4 bytes 40");
    auto expected = initial;
    expected["d"] = {4, 40};
    EXPECT_EQ(read(), expected);
    EXPECT_EQ(remembered()->names.size(), 4U);
}

TEST_F(CounterReadTest, ACounterRemovedSinceIsNotRead) {
    read();
    netns_.nft("delete counter inet acctc_r b");
    EXPECT_EQ(read(), (Values{{"a", {1, 10}}, {"c", {3, 30}}}));
}

TEST_F(CounterReadTest, ACounterSwappedForAnotherOfTheSameCountIsFound) {
    read();
    netns_.nft("delete counter inet acctc_r b \\; add counter inet acctc_r e packets 5 bytes 50");
    EXPECT_EQ(read(), (Values{{"a", {1, 10}}, {"c", {3, 30}}, {"e", {5, 50}}}));
}

TEST_F(CounterReadTest, ResetWithStaleNamesZeroesEveryCounterOnceAndReportsIt) {
    read();
    netns_.nft("delete counter inet acctc_r b \\; add counter inet acctc_r e packets 5 bytes 50");
    EXPECT_EQ(read(true), (Values{{"a", {1, 10}}, {"c", {3, 30}}, {"e", {5, 50}}}));
    EXPECT_EQ(read(), (Values{{"a", {0, 0}}, {"c", {0, 0}}, {"e", {0, 0}}}));
}

TEST_F(CounterReadTest, ResetByNameZeroes) {
    read();
    EXPECT_EQ(read(true), initial);
    EXPECT_EQ(read(), (Values{{"a", {0, 0}}, {"b", {0, 0}}, {"c", {0, 0}}}));
}

TEST_F(CounterReadTest, ARecreatedTableIsNotTakenForTheOldOne) {
    read();
    netns_.nft("delete table inet acctc_r \\; add table inet acctc_r \\; "
               "add counter inet acctc_r x packets 9 bytes 90 \\; "
               "add counter inet acctc_r y \\; add counter inet acctc_r z \\; "
               "add chain inet acctc_r spare");
    EXPECT_EQ(read(), (Values{{"x", {9, 90}}, {"y", {0, 0}}, {"z", {0, 0}}}));
}

TEST_F(CounterReadTest, GarbageInTheCacheIsIgnored) {
    read();
    const auto path = "/run/acctc/netns-" + std::to_string(current_netns_id()) + "/acctc_r";
    std::ofstream(path) << "acctc counter names 1\nhandle 0 members 0\n";
    EXPECT_EQ(read(), initial);
    std::ofstream(path) << std::string(5000, '\xff');
    EXPECT_EQ(read(), initial);
}

TEST_F(CounterReadTest, AMissingTableHasNoCounters) {
    netns_.nft("delete table inet acctc_r");
    EXPECT_TRUE(read().empty());
}

TEST(CounterRead, ApplyRemembersTheNamesItCommitted) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    backend->apply(policy_a(), false);
    NetnsScope scope(netns.name());
    const auto remembered = CounterNameCache().load("acctc_t");
    ASSERT_TRUE(remembered.has_value());
    std::vector<std::string> wanted;
    for (const auto& counter : policy_a().counters) {
        wanted.push_back(counter.name);
    }
    auto names = remembered->names;
    std::sort(names.begin(), names.end());
    std::sort(wanted.begin(), wanted.end());
    EXPECT_EQ(names, wanted);
    backend->remove("t");
    EXPECT_FALSE(CounterNameCache().load("acctc_t").has_value());
}

} // namespace
} // namespace acctc::runtime::testing
