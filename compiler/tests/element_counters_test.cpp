// Large classifications as element counters (element_counters.hpp): the threshold, the text's
// shape, and the partition, which must be the kernel's jhash (checked with real packets by the
// kernel test ElementCounters).
#include "acctc/compile.hpp"
#include "acctc/kernel_jhash.hpp"
#include "acctc/left_to_exit.hpp"
#include "element_counters.hpp"

#include <gtest/gtest.h>
#include <set>

namespace acctc {
namespace {

std::string ports_policy(int classes, const std::string& protocol = "udp") {
    std::string text = "policy big\nclassify svc local out {\n";
    for (int i = 0; i < classes; ++i) {
        text += "    c" + std::to_string(i) + ": " + protocol + " dport " +
                std::to_string(1000 + i) + "\n";
    }
    return text + "    otherwise: other\n}\n";
}

// `one_set_keys`: CompileOptions::element_one_set_keys; 0 (always parts) unless a test is
// about the bound.
CompiledPolicy compiled(const std::string& text, Target target = Target::nft,
                        std::size_t one_set_keys = 0) {
    CompileOptions options;
    options.target = target;
    options.element_one_set_keys = one_set_keys;
    auto result = compile_source("big.acct", text, options);
    EXPECT_TRUE(result.output.has_value());
    return result.output ? std::move(*result.output) : CompiledPolicy{};
}

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
        ++n;
    }
    return n;
}

TEST(ElementCounters, SmallerMapsKeepTheirCounterObjects) {
    const auto policy = compiled(ports_policy(static_cast<int>(element_counter_threshold) - 1));
    EXPECT_TRUE(policy.element_counters.empty());
    EXPECT_TRUE(policy.element_sets.empty());
    EXPECT_EQ(policy.counters.size(), element_counter_threshold);
    EXPECT_EQ(policy.definition.find("jhash"), std::string::npos);
}

TEST(ElementCounters, LargeMapsBecomeCountingSetsFoundByAHashDispatch) {
    const int classes = static_cast<int>(element_counter_threshold);
    const auto policy = compiled(ports_policy(classes));
    EXPECT_EQ(policy.element_counters.size(), static_cast<std::size_t>(classes));
    ASSERT_EQ(policy.counters.size(), 1U); // otherwise
    EXPECT_EQ(policy.counters[0].name, "svc_other");
    // 4,096 keys at most 512 a part: 8 parts, each a set and a chain.
    ASSERT_EQ(policy.element_sets.size(), 8U);
    const auto& text = policy.definition;
    EXPECT_EQ(count(text, "\tcounter svc_c"), 0U);
    EXPECT_EQ(count(text, "comment \"acctc-elements inet_service @big.acct:2\""), 8U);
    EXPECT_NE(text.find("jhash udp dport mod 8 seed 0x0 vmap { 0 : goto classify_svc_p0, "),
              std::string::npos);
    // Each lookup of a port behind its guard (no fragment past the first: emit_nft.cpp).
    EXPECT_NE(text.find("\t\t@th,0,24 & 0x0 == 0x0 th dport @classify_svc_e0 return"),
              std::string::npos);
    EXPECT_EQ(count(text, "goto classify_svc_miss"), 9U);
    EXPECT_NE(text.find("chain classify_svc_miss {\n\t\tcounter name \"svc_other\""),
              std::string::npos);
    EXPECT_NE(text.find("1000 comment \"svc_c0 acctc1 f=3 class=c0 w=fragmentation @big.acct:3\""),
              std::string::npos);
    // Every key once, in the part its jhash picks.
    std::set<std::string> keys;
    for (std::size_t p = 0; p < policy.element_sets.size(); ++p) {
        const auto& set = policy.element_sets[p];
        EXPECT_EQ(set.name, "classify_svc_e" + std::to_string(p));
        EXPECT_EQ(set.types, std::vector<std::string>{"inet_service"});
        for (const auto& element : set.elements) {
            ASSERT_EQ(element.key.size(), 2U); // a port, network order
            const auto* bytes = reinterpret_cast<const unsigned char*>(element.key.data());
            EXPECT_EQ(nft_jhash(bytes, 2, 0, 8), p);
            const unsigned port = (unsigned{bytes[0]} << 8) | bytes[1];
            EXPECT_EQ(element.counter, "svc_c" + std::to_string(port - 1000));
            keys.insert(element.key);
        }
    }
    EXPECT_EQ(keys.size(), static_cast<std::size_t>(classes));
}

TEST(ElementCounters, UpToTheOneSetBoundAMapIsOneSetLookedUpWithoutADispatch) {
    const std::size_t bound = CompileOptions{}.element_one_set_keys;
    const auto policy =
        compiled(ports_policy(static_cast<int>(element_counter_threshold)), Target::nft, bound);
    ASSERT_EQ(policy.element_sets.size(), 1U);
    EXPECT_EQ(policy.element_sets[0].name, "classify_svc_e0");
    EXPECT_EQ(policy.element_sets[0].elements.size(), element_counter_threshold);
    const auto& text = policy.definition;
    EXPECT_EQ(text.find("jhash"), std::string::npos);
    EXPECT_EQ(text.find("classify_svc_miss"), std::string::npos);
    // The lookup takes the map's place; the rules after it stay in the chain.
    EXPECT_NE(text.find("chain classify_svc {\n\t\tmeta l4proto udp @th,0,24 & 0x0 == 0x0 udp "
                        "dport @classify_svc_e0 return comment \"big.acct:2\"\n\t\tcounter name "
                        "\"svc_other\""),
              std::string::npos);
    // One key more than the bound: parts.
    const auto larger = compiled(ports_policy(static_cast<int>(bound) + 1), Target::nft, bound);
    EXPECT_GT(larger.element_sets.size(), 1U);
    EXPECT_NE(larger.definition.find("jhash udp dport mod "), std::string::npos);
}

TEST(ElementCounters, TheIptablesTargetKeepsCounterObjects) {
    const auto policy =
        compiled(ports_policy(static_cast<int>(element_counter_threshold)), Target::iptables);
    EXPECT_TRUE(policy.element_counters.empty());
    EXPECT_EQ(policy.counters.size(), element_counter_threshold + 1);
}

// Each element counts for its own class however the classes are ordered: in key order (the
// counter guessed from the stride), alternating protocols (every other), or shuffled (the index).
TEST(ElementCounters, EveryElementCountsForItsOwnClassInAnyOrder) {
    const int classes = static_cast<int>(element_counter_threshold);
    for (const int step : {1, 7919, classes - 1}) { // in order, shuffled, descending
        SCOPED_TRACE(step);
        std::string text = "policy big\nclassify svc local out {\n";
        for (int i = 0; i < classes; ++i) {
            const int port = 1000 + (i * step) % classes;
            text += "    c" + std::to_string(port) + ": " + (port % 2 ? "udp" : "tcp") + " dport " +
                    std::to_string(port) + "\n";
        }
        const auto policy = compiled(text + "    otherwise: other\n}\n");
        std::size_t elements = 0;
        for (const auto& set : policy.element_sets) {
            for (const auto& element : set.elements) {
                ASSERT_EQ(element.key.size(), 8U); // protocol . port, 4 bytes each
                const auto* bytes = reinterpret_cast<const unsigned char*>(element.key.data());
                const unsigned port = (unsigned{bytes[4]} << 8) | bytes[5];
                EXPECT_EQ(element.counter, "svc_c" + std::to_string(port));
                EXPECT_EQ(element.comment.substr(0, element.counter.size() + 1),
                          element.counter + " ");
                EXPECT_EQ(bytes[0], port % 2 ? 17 : 6);
                ++elements;
            }
        }
        EXPECT_EQ(elements, static_cast<std::size_t>(classes));
    }
}

// acctc compile and check leave the stages' structures to the exit (left_to_exit.hpp): the
// result must be the same as a compile that frees them.
TEST(ElementCounters, LeavingTheStagesToTheExitChangesNoResult) {
    const std::string text = ports_policy(static_cast<int>(element_counter_threshold));
    CompileOptions options;
    options.leave_stages_to_exit = true;
    options.element_one_set_keys = 0; // as compiled() does
    auto left = compile_source("big.acct", text, options);
    ASSERT_TRUE(left.output.has_value());
    const auto freed = compiled(text);
    EXPECT_EQ(left.output->text, freed.text);
    ASSERT_EQ(left.output->element_sets.size(), freed.element_sets.size());
    for (std::size_t s = 0; s < freed.element_sets.size(); ++s) {
        const auto& a = left.output->element_sets[s].elements;
        const auto& b = freed.element_sets[s].elements;
        ASSERT_EQ(a.size(), b.size());
        for (std::size_t e = 0; e < a.size(); ++e) {
            EXPECT_EQ(a[e].key, b[e].key);
            EXPECT_EQ(a[e].counter, b[e].counter);
            EXPECT_EQ(a[e].comment, b[e].comment);
        }
    }
    EXPECT_EQ(left.output->element_counters.size(), freed.element_counters.size());
    const auto& kept = left_to_exit(std::move(*left.output));
    EXPECT_EQ(kept.text, freed.text); // the kept object lives on
}

TEST(ElementCounters, ConcatenatedKeysArePaddedToFourBytesPerField) {
    const std::vector<rules::Field> key{rules::Field::l4proto, rules::Field::dport};
    const auto bytes = hashed_key(key, {Interval{17, 17}, Interval{1000, 1000}});
    EXPECT_EQ(bytes, std::string("\x11\0\0\0\x03\xe8\0\0", 8));
    EXPECT_EQ(hashed_key({rules::Field::dport}, {Interval{1000, 1000}}), "\x03\xe8");
}

TEST(ElementCounters, KernelJhashKnownValues) {
    // Bob Jenkins' lookup3 hashlittle() of "Four score and seven years ago" (30 bytes) with
    // initval 0 and 1: the published test values, which the kernel's jhash() equals.
    const std::string text = "Four score and seven years ago";
    const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
    EXPECT_EQ(kernel_jhash(bytes, text.size(), 0), 0x17770551U);
    EXPECT_EQ(kernel_jhash(bytes, text.size(), 1), 0xcd628161U);
    EXPECT_EQ(kernel_jhash(bytes, 0, 0), 0xdeadbeefU);
}

} // namespace
} // namespace acctc
