// The counter name cache: what it writes it reads back; anything else reads as "not known".
#include "counter_name_cache.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <vector>

namespace acctc::runtime {
namespace {

class CounterNameCacheTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char pattern[] = "/tmp/acctc-name-cache-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        directory_ = pattern;
    }
    void TearDown() override { std::filesystem::remove_all(directory_); }

    void write_raw(const std::string& table, const std::string& text) const {
        std::ofstream(directory_ + "/" + table) << text;
    }

    std::string directory_;
};

TEST_F(CounterNameCacheTest, ReadsBackWhatItStored) {
    const CounterNameCache cache(directory_);
    const RememberedCounters stored{{42, 7}, {"skype_in", "skype_out", "otherwise"}};
    cache.store("acctc_t", stored);
    const auto loaded = cache.load("acctc_t");
    ASSERT_TRUE(loaded.has_value());
    EXPECT_EQ(loaded->shape, stored.shape);
    EXPECT_EQ(loaded->names, stored.names);
}

TEST_F(CounterNameCacheTest, ATableWithoutCountersIsKnownToHaveNone) {
    const CounterNameCache cache(directory_);
    cache.store("acctc_t", {{1, 2}, {}});
    const auto loaded = cache.load("acctc_t");
    ASSERT_TRUE(loaded.has_value());
    EXPECT_TRUE(loaded->names.empty());
}

TEST_F(CounterNameCacheTest, MissingOrForgottenIsUnknown) {
    const CounterNameCache cache(directory_);
    EXPECT_FALSE(cache.load("acctc_t").has_value());
    cache.store("acctc_t", {{1, 1}, {"a"}});
    cache.forget("acctc_t");
    EXPECT_FALSE(cache.load("acctc_t").has_value());
}

TEST_F(CounterNameCacheTest, DamagedFilesAreUnknown) {
    const CounterNameCache cache(directory_);
    for (const std::string& text : std::vector<std::string>{
             "",
             "acctc counter names 2\nhandle 1 members 1\na\n",
             "acctc counter names 1\n",
             "acctc counter names 1\nhandle x members 1\na\n",
             "acctc counter names 1\nmembers 1 handle 1\na\n",
             "acctc counter names 1\nhandle 1 members 1\n\n",
             "acctc counter names 1\nhandle 1 members 1\n" + std::string(256, 'n') + "\n",
         }) {
        write_raw("acctc_t", text);
        EXPECT_FALSE(cache.load("acctc_t").has_value()) << text;
    }
}

TEST_F(CounterNameCacheTest, NamesThatCannotBeStoredLeaveNothingBehind) {
    const CounterNameCache cache(directory_);
    cache.store("acctc_t", {{1, 1}, {"two\nlines"}});
    EXPECT_FALSE(cache.load("acctc_t").has_value());
    cache.store("../escape", {{1, 1}, {"a"}});
    EXPECT_FALSE(
        std::filesystem::exists(std::filesystem::path(directory_).parent_path() / "escape"));
    EXPECT_TRUE(std::filesystem::is_empty(directory_));
}

TEST_F(CounterNameCacheTest, AnUnwritableDirectoryIsNotAnError) {
    write_raw("file", "not a directory");
    const CounterNameCache cache(directory_ + "/file/names");
    cache.store("acctc_t", {{1, 1}, {"a"}});
    EXPECT_FALSE(cache.load("acctc_t").has_value());
}

} // namespace
} // namespace acctc::runtime
