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
#include <future>
#include <gtest/gtest.h>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

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
    // Checked against the kernel at this generation, so the next read need not count again.
    ASSERT_TRUE(names->verified.has_value());
    EXPECT_EQ(names->verified->generation, ruleset_generation(*netlink_));
    EXPECT_EQ(read(), initial);
}

// A record verified at the current generation is read without the member count; one that
// claims it for other names (edited or cut short since) is checked again.
TEST_F(CounterReadTest, AVerifiedClaimCoversOnlyTheNamesItWasMadeFor) {
    read();
    auto record = remembered();
    ASSERT_TRUE(record.has_value() && record->verified.has_value());
    record->names = {"a", "b"}; // the claim still carries the digest of a, b, c
    CounterNameCache().store("acctc_r", *record);
    EXPECT_EQ(read(), initial);
    EXPECT_EQ(remembered()->names.size(), 3U);
    EXPECT_EQ(read(true), initial);
    EXPECT_EQ(read(), (Values{{"a", {0, 0}}, {"b", {0, 0}}, {"c", {0, 0}}}));
}

// Applying stores the names it committed without a claim: someone else's transaction may have
// committed right after it. The first read checks them and makes the claim.
TEST(CounterRead, NamesRecordedByApplyAreVerifiedByTheFirstRead) {
    TestNamespace netns;
    auto backend = make_backend(BackendKind::nftables, netns.name());
    backend->apply(policy_a(), false);
    NetnsScope scope(netns.name());
    ASSERT_TRUE(CounterNameCache().load("acctc_t").has_value());
    EXPECT_FALSE(CounterNameCache().load("acctc_t")->verified.has_value());
    NftNetlink netlink;
    EXPECT_EQ(read_table_counters(netlink, "acctc_t", false).size(), policy_a().counters.size());
    const auto after = CounterNameCache().load("acctc_t");
    ASSERT_TRUE(after.has_value() && after->verified.has_value());
    EXPECT_EQ(after->verified->generation, ruleset_generation(netlink));
    backend->remove("t");
}

// A record that matches the table's handle and member count but leaves a counter out (a line
// lost, or a file left by another table) used to be trusted: the counter was missing from the
// reading, and a reset reported "zeroed" without zeroing it.
TEST_F(CounterReadTest, ARecordLeavingACounterOutIsNotTrusted) {
    read();
    auto record = remembered();
    ASSERT_TRUE(record.has_value());
    record->names = {"a", "c"};
    CounterNameCache().store("acctc_r", *record);
    EXPECT_EQ(read(), initial);
    EXPECT_EQ(remembered()->names.size(), 3U); // learned again

    CounterNameCache().store("acctc_r", *record);
    EXPECT_EQ(read(true), initial);
    EXPECT_EQ(read(), (Values{{"a", {0, 0}}, {"b", {0, 0}}, {"c", {0, 0}}}));
}

// Other members make up the count the check subtracts: anonymous sets, named sets, maps,
// stateful objects and more chains must not let a short record pass.
TEST_F(CounterReadTest, TheCounterCountSeesPastEveryOtherMember) {
    netns_.nft(
        "add set inet acctc_r s { type ipv4_addr\\; flags interval\\; } \\; "
        "add map inet acctc_r m { type inet_service : counter\\; } \\; "
        "add quota inet acctc_r q { over 1 mbytes } \\; "
        "add chain inet acctc_r out { type filter hook output priority 0\\; } \\; "
        "add rule inet acctc_r out ip daddr { 198.18.0.0/24, 198.18.2.0/24 } counter name a \\; "
        "add rule inet acctc_r out udp dport { 1, 2 } counter name b");
    read();
    auto record = remembered();
    ASSERT_TRUE(record.has_value());
    ASSERT_EQ(record->names.size(), 3U);
    EXPECT_EQ(counter_count(*netlink_, "acctc_r", record->shape), 3U);
    record->names = {"a", "b"};
    CounterNameCache().store("acctc_r", *record);
    EXPECT_EQ(read(), initial);
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
    const auto path = CounterNameCache().directory() + "/acctc_r";
    std::ofstream(path) << "acctc counter names 1\nhandle 0 members 0\n";
    EXPECT_EQ(read(), initial);
    std::ofstream(path) << std::string(5000, '\xff');
    EXPECT_EQ(read(), initial);
}

// A FIFO in the cache's place hung `counters` and `apply`; a link to /dev/zero read until
// memory ran out; an oversized file was read whole. Each now costs one dump.
TEST_F(CounterReadTest, ACacheThatIsNotARegularFileIsPassedBy) {
    read();
    const auto path = CounterNameCache().directory() + "/acctc_r";
    const auto read_in_time = [&](bool reset) {
        auto reading = std::async(std::launch::async, [&] {
            NetnsScope inside(netns_.name());
            NftNetlink netlink;
            return values_of(read_table_counters(netlink, "acctc_r", reset));
        });
        EXPECT_EQ(reading.wait_for(std::chrono::seconds(10)), std::future_status::ready);
        return reading.get();
    };
    ::unlink(path.c_str());
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    EXPECT_EQ(read_in_time(false), initial);
    ::unlink(path.c_str());
    ASSERT_EQ(::symlink("/dev/zero", path.c_str()), 0);
    EXPECT_EQ(read_in_time(false), initial);
    ::unlink(path.c_str());
    {
        std::ofstream big(path);
        big << "acctc counter names 1\nhandle 1 members 1\n";
        const std::string line(250, 'n');
        for (std::size_t size = 0; size <= CounterNameCache::max_file_bytes; size += 251) {
            big << line << "\n";
        }
    }
    EXPECT_EQ(read_in_time(false), initial);
    EXPECT_EQ(remembered()->names.size(), 3U); // the dump replaced it with the truth
}

// A cache outlives its namespace, and the kernel reuses namespace inode numbers: a table in a
// new namespace can have the handle and member count of the one a file describes. Files are
// keyed by the namespace cookie, never reused; and a record in the right place but from the
// other namespace is still checked.
TEST_F(CounterReadTest, ARecordOfAnotherNamespaceIsNeitherFoundNorTrusted) {
    read();
    const auto mine = remembered();
    ASSERT_TRUE(mine.has_value());
    const std::string my_directory = CounterNameCache().directory();
    TestNamespace other;
    other.nft("add table inet acctc_r \\; "
              "add counter inet acctc_r a packets 1 bytes 10 \\; "
              "add counter inet acctc_r x packets 7 bytes 70 \\; "
              "add counter inet acctc_r c packets 3 bytes 30 \\; "
              "add chain inet acctc_r spare");
    NetnsScope inside(other.name());
    const CounterNameCache there;
    EXPECT_NE(there.directory(), my_directory);
    EXPECT_FALSE(there.load("acctc_r").has_value());
    NftNetlink netlink;
    const auto shape = table_shape(netlink, "acctc_r");
    ASSERT_TRUE(shape.has_value());
    ASSERT_EQ(*shape, mine->shape); // the aliasing the review saw: same handle, same count
    there.store("acctc_r", *mine);
    EXPECT_EQ(values_of(read_table_counters(netlink, "acctc_r", false)),
              (Values{{"a", {1, 10}}, {"c", {3, 30}}, {"x", {7, 70}}}));
    there.forget("acctc_r");
}

// A claim that the names were checked at some generation holds only in the namespace that made
// it: another namespace's ruleset can be at the same generation, with a table of the same
// handle and member count that holds a counter more.
TEST_F(CounterReadTest, AClaimMadeInAnotherNamespaceIsNotTrusted) {
    read();
    auto mine = remembered();
    ASSERT_TRUE(mine.has_value() && mine->verified.has_value());
    TestNamespace other;
    other.nft("add table inet acctc_r \\; "
              "add counter inet acctc_r a packets 1 bytes 10 \\; "
              "add counter inet acctc_r b packets 2 bytes 20 \\; "
              "add counter inet acctc_r c packets 3 bytes 30 \\; "
              "add counter inet acctc_r x packets 7 bytes 70");
    NetnsScope inside(other.name());
    NftNetlink netlink;
    ASSERT_EQ(table_shape(netlink, "acctc_r"), mine->shape);
    mine->verified->generation = ruleset_generation(netlink); // the coincidence, made sure
    const CounterNameCache there;
    there.store("acctc_r", *mine);
    EXPECT_EQ(values_of(read_table_counters(netlink, "acctc_r", false)),
              (Values{{"a", {1, 10}}, {"b", {2, 20}}, {"c", {3, 30}}, {"x", {7, 70}}}));
    there.forget("acctc_r");
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
