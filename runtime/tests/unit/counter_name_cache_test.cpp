// The counter name cache: what it writes it reads back; anything else reads as "not known".
#include "counter_name_cache.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
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

// In byte order, whatever order they were given in: counters read by name then come out
// sorted, and a name twice is a neighbour.
TEST_F(CounterNameCacheTest, ReadsBackWhatItStoredSorted) {
    const CounterNameCache cache(directory_);
    const RememberedCounters stored{{42, 7}, {"skype_in", "skype_out", "otherwise"}};
    cache.store("acctc_t", stored);
    const auto loaded = cache.load("acctc_t");
    ASSERT_TRUE(loaded.has_value());
    EXPECT_EQ(loaded->shape, stored.shape);
    EXPECT_EQ(loaded->names, (std::vector<std::string>{"otherwise", "skype_in", "skype_out"}));
    EXPECT_FALSE(loaded->verified.has_value());
    cache.store("acctc_u", {{42, 7}, {"a", "b", "a"}});
    EXPECT_FALSE(cache.load("acctc_u").has_value());
}

// The generation the names were checked at, and a digest of the names checked: a record whose
// names were changed afterwards keeps the old digest and so no longer matches its claim.
TEST_F(CounterNameCacheTest, ReadsBackWhenAndWhichNamesWereVerified) {
    const CounterNameCache cache(directory_);
    RememberedCounters stored{{42, 7}, {"a", "b"}};
    stored.verified = NamesVerified{4000000000U, names_digest(stored.names), 8942};
    cache.store("acctc_t", stored);
    const auto loaded = cache.load("acctc_t");
    ASSERT_TRUE(loaded.has_value());
    EXPECT_EQ(loaded->verified, stored.verified);
    EXPECT_EQ(loaded->verified->digest, names_digest(loaded->names));
    EXPECT_NE(names_digest({"a"}), names_digest({"a", "b"}));
    EXPECT_NE(names_digest({"ab"}), names_digest({"a", "b"}));
    EXPECT_EQ(names_digest({"b", "a"}), names_digest({"a", "b"}));
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
             "", "acctc counter names 1\nhandle 1 members 1\na\n", "acctc counter names 2\n",
             "acctc counter names 2\nhandle 1 members 1\na\n", // no verified line
             "acctc counter names 2\nhandle x members 1\nverified no\na\n",
             "acctc counter names 2\nmembers 1 handle 1\nverified no\na\n",
             "acctc counter names 2\nhandle 1 members 1\nverified 7\na\n",
             "acctc counter names 2\nhandle 1 members 1\nverified 7 digest x netns 1\na\n",
             "acctc counter names 2\nhandle 1 members 1\nverified 7 digest 1\na\n", // no netns
             "acctc counter names 2\nhandle 1 members 1\nverified no\n\n",
             "acctc counter names 2\nhandle 1 members 1\nverified no\n" + std::string(256, 'n') +
                 "\n",
             "acctc counter names 2\nhandle 1 members 2\nverified no\na\na\n", // one counter twice
             "acctc counter names 2\nhandle 1 members 2\nverified no\nb\na\n", // out of order
             "acctc counter names 2\nhandle 1 members 2\nverified no\na\nb",   // cut short
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

// Reads only regular files, never through a link, never waiting: each of these used to hang
// (a FIFO) or read until memory ran out (a link to /dev/zero).
TEST_F(CounterNameCacheTest, OnlyARegularFileIsRead) {
    const CounterNameCache cache(directory_);
    const std::string path = directory_ + "/acctc_t";
    const auto load_in_time = [&] {
        auto loading = std::async(std::launch::async, [&] { return cache.load("acctc_t"); });
        EXPECT_EQ(loading.wait_for(std::chrono::seconds(5)), std::future_status::ready);
        return loading.get();
    };
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    EXPECT_FALSE(load_in_time().has_value());
    ::unlink(path.c_str());

    ASSERT_EQ(::symlink("/dev/zero", path.c_str()), 0);
    EXPECT_FALSE(load_in_time().has_value());
    ::unlink(path.c_str());

    // A link to a good file is refused too: whoever placed it chose what it says.
    const RememberedCounters stored{{1, 1}, {"a"}};
    CounterNameCache(directory_ + "/elsewhere").store("acctc_t", stored);
    ASSERT_EQ(::symlink((directory_ + "/elsewhere/acctc_t").c_str(), path.c_str()), 0);
    EXPECT_FALSE(load_in_time().has_value());
    ::unlink(path.c_str());

    ASSERT_EQ(::mkdir(path.c_str(), 0700), 0);
    EXPECT_FALSE(load_in_time().has_value());
}

TEST_F(CounterNameCacheTest, StoringReplacesWhateverIsInThePlace) {
    const CounterNameCache cache(directory_);
    const std::string path = directory_ + "/acctc_t";
    const RememberedCounters stored{{1, 1}, {"a"}};
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    cache.store("acctc_t", stored);
    ASSERT_TRUE(cache.load("acctc_t").has_value());
    ::unlink(path.c_str());
    write_raw("target", "kept");
    ASSERT_EQ(::symlink((directory_ + "/target").c_str(), path.c_str()), 0);
    cache.store("acctc_t", stored);
    EXPECT_TRUE(cache.load("acctc_t").has_value());
    std::ifstream target(directory_ + "/target");
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(target), {}), "kept"); // not followed
}

TEST_F(CounterNameCacheTest, ALinkedDirectoryIsNotUsed) {
    const std::string real = directory_ + "/real";
    CounterNameCache(real).store("acctc_t", {{1, 1}, {"a"}});
    ASSERT_EQ(::symlink(real.c_str(), (directory_ + "/link").c_str()), 0);
    EXPECT_FALSE(CounterNameCache(directory_ + "/link").load("acctc_t").has_value());
}

TEST_F(CounterNameCacheTest, AnOversizedFileIsNotRead) {
    const CounterNameCache cache(directory_);
    std::string text = "acctc counter names 2\nhandle 1 members 1\nverified no\n";
    const std::string name(200, 'n');
    for (std::size_t i = 0; text.size() <= CounterNameCache::max_file_bytes; ++i) {
        text += name + std::to_string(i) + "\n";
    }
    write_raw("acctc_t", text);
    EXPECT_FALSE(cache.load("acctc_t").has_value());
}

TEST_F(CounterNameCacheTest, WithoutADirectoryNothingIsRemembered) {
    const CounterNameCache cache{std::string()};
    cache.store("acctc_t", {{1, 1}, {"a"}});
    EXPECT_FALSE(cache.load("acctc_t").has_value());
}

TEST(CounterNameCacheKey, TheCurrentNamespaceHasACookieOfItsOwn) {
    const std::string directory = CounterNameCache().directory();
    EXPECT_TRUE(directory.starts_with("/run/acctc/netns-cookie-")) << directory;
}

} // namespace
} // namespace acctc::runtime
