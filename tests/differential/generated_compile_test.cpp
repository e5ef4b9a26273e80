// The generated policies (policy_generator.hpp) through the compiler alone, both targets: every
// one either compiles or gets errors, never both or neither, and the ones that compile cover
// every construct of the language. No kernel, so it runs in the sanitizer build too.
#include "known_failures.hpp"

#include <gtest/gtest.h>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>

namespace acctc::differential {
namespace {

const char* target_name(Target target) {
    return target == Target::nft ? "nft" : "iptables";
}

TEST(GeneratedPolicies, AreTheSameOnEveryRun) {
    const auto first = generate_policies(default_seed, 50);
    const auto second = generate_policies(default_seed, 50);
    for (std::size_t i = 0; i < first.size(); ++i) {
        EXPECT_EQ(first[i].text, second[i].text);
    }
    EXPECT_NE(first[0].text, generate_policies(default_seed + 1, 1)[0].text);
}

TEST(GeneratedPolicies, CompileOrFailCleanlyAndCoverEveryConstruct) {
    std::map<Target, std::set<Construct>> covered;
    std::map<Target, std::size_t> compiled;
    std::size_t known = 0; // compiles that throw for a reason in known_failures.hpp
    const auto policies = generate_policies(default_seed, default_count);
    for (const GeneratedPolicy& policy : policies) {
        for (const Target target : {Target::nft, Target::iptables}) {
            std::optional<CompileResult> compiled_result;
            try {
                compiled_result = compile_generated(policy, target);
            } catch (const std::exception& e) {
                const Check check =
                    target == Target::nft ? Check::compile_nft : Check::compile_iptables;
                if (known_failure(policy, check, e.what()) != nullptr) {
                    ++known;
                    continue;
                }
                ADD_FAILURE() << "compile (" << target_name(target) << ") threw " << e.what()
                              << " on:\n"
                              << policy.text;
                continue;
            }
            const CompileResult& result = *compiled_result;
            std::ostringstream diagnostics;
            render_all(diagnostics, result.source, result.diagnostics);
            ASSERT_EQ(result.output.has_value(), !result.diagnostics.has_errors())
                << policy.text << diagnostics.str();
            // Both targets take every generated quota but iptables a per-host one (a quota
            // on a split host counter, docs/iptables.md, "Quotas").
            if (!result.output && policy.constructs.contains(Construct::quota)) {
                const auto count = [text = diagnostics.str()](std::string_view needle) {
                    std::size_t n = 0;
                    for (auto at = text.find(needle); at != std::string::npos;
                         at = text.find(needle, at + 1)) {
                        ++n;
                    }
                    return n;
                };
                const std::size_t per_host =
                    target == Target::iptables ? count("gives each host its own budget") : 0;
                EXPECT_EQ(count("error: quota"), per_host) << "a generated quota is refused:\n"
                                                           << policy.text << diagnostics.str();
            }
            if (result.output) {
                ++compiled[target];
                covered[target].insert(policy.constructs.begin(), policy.constructs.end());
            }
        }
    }
    // Enough of the set compiles for the kernel test to mean something.
    EXPECT_GE(compiled[Target::nft], policies.size() / 3);
    EXPECT_GE(compiled[Target::iptables], policies.size() / 4);
    for (std::size_t i = 0; i < construct_names.size(); ++i) {
        const auto construct = static_cast<Construct>(i);
        EXPECT_TRUE(covered[Target::nft].contains(construct))
            << "no compiling nft policy uses " << name_of(construct);
        // iptables has no ingress hook: passive collection is nft only (docs/iptables.md).
        if (construct != Construct::scope_passive) {
            EXPECT_TRUE(covered[Target::iptables].contains(construct))
                << "no compiling iptables policy uses " << name_of(construct);
        }
    }
    std::cout << "compiled: nft " << compiled[Target::nft] << ", iptables "
              << compiled[Target::iptables] << " of " << policies.size() << "; known failures "
              << known << "\n";
}

} // namespace
} // namespace acctc::differential
