#include "acctc/recording/rrd_names.hpp"

#include <gtest/gtest.h>
#include <set>

namespace acctc::recording {
namespace {

bool valid_ds_name(const std::string& name) {
    if (name.empty() || name.size() > max_ds_name_length) {
        return false;
    }
    for (const char c : name) {
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_')) {
            return false;
        }
    }
    return true;
}

TEST(RrdNames, ShortCountersKeepTheirNameLikeTheSeed) {
    EXPECT_EQ(bytes_ds_name("skype_tcp_in"), "skype_tcp_in_bytes");
    EXPECT_EQ(packets_ds_name("skype_tcp_in"), "skype_tcp_in_pkts");
    EXPECT_EQ(bytes_ds_name("skype_udp_out"), "skype_udp_out_bytes"); // exactly 19
}

TEST(RrdNames, LongCountersGetAStablePrefixAndHash) {
    const auto stem = ds_stem("link_use_essential");
    EXPECT_EQ(stem.size(), max_ds_stem_length);
    EXPECT_EQ(stem.substr(0, 9), "link_use_");
    EXPECT_EQ(stem, ds_stem("link_use_essential")); // deterministic
    EXPECT_NE(stem, ds_stem("link_use_nonessential"));
    EXPECT_TRUE(valid_ds_name(bytes_ds_name("link_use_nonessential")));
    EXPECT_TRUE(valid_ds_name(packets_ds_name("link_use_nonessential")));
}

TEST(RrdNames, InvalidCharactersNeverReachLibrrd) {
    for (const auto* name : {"a-b", "x.y", "caf\xc3\xa9", "with space", "a"}) {
        EXPECT_TRUE(valid_ds_name(bytes_ds_name(name))) << name;
    }
    // A replaced character forces the hash, so a-b and a_b stay distinct.
    EXPECT_NE(ds_stem("a-b"), ds_stem("a_b"));
}

TEST(RrdNames, DistinctLongNamesRarelyCollide) {
    std::set<std::string> stems;
    for (int i = 0; i < 200; ++i) {
        stems.insert(ds_stem("counter_number_" + std::to_string(i)));
    }
    EXPECT_EQ(stems.size(), 200U);
}

TEST(RrdNames, FileComponentsRoundTripAndStayInOneDirectory) {
    for (const auto* name : {"skype_tcp_in", ".hidden", "../etc", "a/b", "50%", "x.y"}) {
        const auto encoded = encode_file_component(name);
        EXPECT_EQ(encoded.find('/'), std::string::npos) << name;
        EXPECT_NE(encoded.front(), '.') << name;
        EXPECT_EQ(decode_file_component(encoded), name);
    }
    EXPECT_EQ(encode_file_component("skype_tcp_in"), "skype_tcp_in");
    EXPECT_THROW(decode_file_component("bad%4"), std::invalid_argument);
    EXPECT_THROW(decode_file_component("bad%zz"), std::invalid_argument);
}

TEST(RrdNames, OneFilePerCounterUnderItsPolicy) {
    EXPECT_EQ(rrd_path("/var/lib/acctc", "skype_supernode", "skype_tcp_in"),
              "/var/lib/acctc/skype_supernode/skype_tcp_in.rrd");
    EXPECT_THROW(rrd_path("/x", "", "c"), std::invalid_argument);
    EXPECT_THROW(rrd_path("/x", "p", ""), std::invalid_argument);
}

} // namespace
} // namespace acctc::recording
