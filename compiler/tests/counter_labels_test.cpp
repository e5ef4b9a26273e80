// The counter comment codec (acctc/counter_labels.hpp): what the compiler writes into a kernel
// counter's comment, the runtime must read back exactly, within nft's 128 bytes.
#include "acctc/counter_labels.hpp"

#include <gtest/gtest.h>

namespace acctc {
namespace {

std::string every_byte() {
    std::string text;
    for (int c = 0; c < 256; ++c) {
        text += static_cast<char>(c);
    }
    return text;
}

TEST(CounterLabels, RoundTripsFamilyLabelsAndOrigin) {
    const CounterIdentity identity{"skype",
                                   CounterKind::counter,
                                   {{Dimension::direction, "in"}, {Dimension::protocol, "tcp"}},
                                   "examples/skype_supernode.acct:9"};
    const std::string comment = encode_counter_comment("skype_tcp_in", identity);
    EXPECT_EQ(comment, "acctc1 f=5 direction=in protocol=tcp @examples/skype_supernode.acct:9");
    EXPECT_EQ(decode_counter_comment("skype_tcp_in", comment), identity);
}

TEST(CounterLabels, WireDifferencesAndReceiveDevicesRoundTrip) {
    CounterIdentity identity{"line", CounterKind::counter, {{Dimension::direction, "in"}}, "p:3"};
    identity.wire.add(WireDifference::receive_offload);
    identity.wire.add(WireDifference::reassembly);
    identity.receive_devices = {"wan0", "a,b", "eth*"};
    const std::string comment = encode_counter_comment("line_in", identity);
    EXPECT_EQ(comment, "acctc1 f=4 direction=in w=gro,reassembly rx=wan0,a%2Cb,eth%2A @p:3");
    EXPECT_EQ(decode_counter_comment("line_in", comment), identity);
    // Short of room: the devices go first (the runtime then asks every device), then w=.
    const std::string longest(15, 'd');
    identity.receive_devices.assign(8, longest);
    const CounterIdentity back =
        decode_counter_comment("line_in", encode_counter_comment("line_in", identity));
    EXPECT_EQ(back.wire, identity.wire);
    EXPECT_TRUE(back.receive_devices.empty());
    EXPECT_EQ(back.labels, identity.labels);
    // Unknown differences are a comment of another form, not a guess.
    EXPECT_EQ(decode_counter_comment("line_in", "acctc1 f=4 direction=in w=bogus").family,
              "line_in");
}

TEST(CounterLabels, EveryByteInLabelsAndOriginSurvives) {
    // Byte by byte, and all of them at once (escaped, so the origin is cut; labels never).
    for (int c = 0; c < 256; ++c) {
        const std::string byte(1, static_cast<char>(c));
        const CounterIdentity identity{
            "web",
            CounterKind::counter,
            {{Dimension::icmp_type, "a" + byte + "b"}, {Dimension::class_, byte + byte}},
            "dir/" + byte + ".acct:1"};
        const std::string comment = encode_counter_comment("web_x", identity);
        EXPECT_LE(comment.size(), nft_comment_limit);
        for (char k : comment) {
            EXPECT_TRUE(k >= 0x20 && k < 0x7f && k != '"' && k != '\\') << int(k);
        }
        EXPECT_EQ(decode_counter_comment("web_x", comment), identity) << c;
    }
    const std::string all = every_byte().substr(0, 30);
    const CounterIdentity identity{"n", CounterKind::quota, {{Dimension::class_, all}}, ""};
    EXPECT_EQ(decode_counter_comment("n_1", encode_counter_comment("n_1", identity)), identity);
}

TEST(CounterLabels, FamilyIsAPrefixOfTheNameWhateverItHolds) {
    const std::string name = every_byte().substr(1, 100);
    const CounterIdentity identity{name.substr(0, 60), CounterKind::counter, {}, "x:1"};
    EXPECT_EQ(decode_counter_comment(name, encode_counter_comment(name, identity)), identity);
    EXPECT_THROW(encode_counter_comment("other", identity), std::invalid_argument);
}

TEST(CounterLabels, LongOriginIsCutFromTheLeftNeverTheLabels) {
    // The longest labels the checker allows: a 64-character classify and class, split by
    // direction, in a 128-character counter name.
    const std::string family(63, 'f');
    const std::string label(60, 'c');
    const std::string name = family + "_" + label + "_out";
    const CounterIdentity base{family,
                               CounterKind::counter,
                               {{Dimension::direction, "out"}, {Dimension::class_, label}},
                               ""};
    for (std::size_t length = 0; length < 400; ++length) {
        for (const char* filler : {"a", "%", " ", "\xff"}) {
            CounterIdentity identity = base;
            for (std::size_t i = 0; i < length; ++i) {
                identity.origin += filler;
            }
            identity.origin += ".acct:12345";
            const std::string comment = encode_counter_comment(name, identity);
            ASSERT_LE(comment.size(), nft_comment_limit) << length;
            const CounterIdentity back = decode_counter_comment(name, comment);
            EXPECT_EQ(back.family, family);
            EXPECT_EQ(back.labels, base.labels);
            // What is left of the origin is its end, marked as cut.
            if (back.origin != identity.origin) {
                ASSERT_TRUE(back.origin.starts_with("...")) << back.origin;
                EXPECT_TRUE(identity.origin.ends_with(back.origin.substr(3))) << back.origin;
            }
        }
    }
}

TEST(CounterLabels, LabelsThatCannotFitAreRefused) {
    const CounterIdentity identity{
        "f", CounterKind::counter, {{Dimension::class_, std::string(200, 'x')}}, ""};
    EXPECT_THROW(encode_counter_comment("f_x", identity), std::length_error);
}

TEST(CounterLabels, OlderCommentsFallBackToTheName) {
    // Tables written before version 1 hold just file:line.
    const auto old = decode_counter_comment("skype_tcp_in", "examples/skype.acct:9");
    EXPECT_EQ(old.family, "skype_tcp_in");
    EXPECT_TRUE(old.labels.empty());
    EXPECT_EQ(old.origin, "examples/skype.acct:9");
    EXPECT_EQ(decode_counter_comment("c", "").family, "c");
    // Malformed or future versions fall back the same way.
    for (const char* bad : {"acctc1",
                            "acctc1 ",
                            "acctc1 f=0",
                            "acctc1 f=9",
                            "acctc1 f=x",
                            "acctc1 direction=in",
                            "acctc1 f=1 bogus=1",
                            "acctc1 f=1 protocol=tcp direction=in",
                            "acctc1 f=1 class=%G1",
                            "acctc1 f=1 class=%4",
                            "acctc1 f=1 @a @b",
                            "acctc1 f=1 class=a\"b",
                            "acctc2 f=1",
                            "acctc1 f=1 direction=in direction=out",
                            "acctc1 f=1 w=bogus",
                            "acctc1 f=1 w=gro,",
                            "acctc1 f=1 w=gro rx=",
                            "acctc1 f=1 w=gro rx=a,,b",
                            "acctc1 f=1 w=gro rx=%G1",
                            "acctc1 f=1 @a%G1"}) {
        const auto back = decode_counter_comment("c_in", bad);
        EXPECT_EQ(back.family, "c_in") << bad;
        EXPECT_TRUE(back.labels.empty()) << bad;
        EXPECT_EQ(back.origin, bad);
    }
}

} // namespace
} // namespace acctc
