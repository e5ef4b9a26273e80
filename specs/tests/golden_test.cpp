// Golden specs: every specs/compile/*.acct and examples/*.acct compiles to exactly its .nft
// (warnings included in a .warn file when there are any) and, for the iptables backend, to its
// .ipt, .ip6t and .ipset (peer sets only) or, when iptables cannot express it, to the
// diagnostics in .ipt.err; the checked policy and the lowered table (acctc compile --dump=check,
// --dump=lower) print exactly their .check and .lower; every specs/errors/*.acct fails with
// exactly its .err. Regenerate all
// expected files with:
//   ACCTC_UPDATE_SPECS=1 ctest --test-dir build -L golden
// and review the diff.
#include "spec_files.hpp"

#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>

namespace acctc::specs {
namespace {

bool updating() {
    return std::getenv("ACCTC_UPDATE_SPECS") != nullptr;
}

void compare_or_update(const std::filesystem::path& expected_file, const std::string& actual) {
    if (updating()) {
        if (actual.empty()) {
            std::filesystem::remove(expected_file);
        } else {
            std::ofstream(expected_file, std::ios::binary) << actual;
        }
        return;
    }
    const std::string expected =
        std::filesystem::exists(expected_file) ? read_file(expected_file) : std::string();
    EXPECT_EQ(expected, actual) << "golden " << expected_file
                                << " differs; regenerate with ACCTC_UPDATE_SPECS=1";
}

class CompileSpec : public testing::TestWithParam<std::string> {};

TEST_P(CompileSpec, MatchesGoldenRuleset) {
    const CompileResult result = compile_spec(GetParam());
    ASSERT_TRUE(result.output.has_value()) << rendered_diagnostics(result);
    compare_or_update(expected_path(GetParam(), ".nft"), result.output->text);
    compare_or_update(expected_path(GetParam(), ".warn"), rendered_diagnostics(result));
}

TEST_P(CompileSpec, MatchesGoldenIptablesRuleset) {
    const CompileResult result = compile_spec(GetParam(), Target::iptables);
    const auto* ipt = result.output ? &*result.output->iptables : nullptr;
    compare_or_update(expected_path(GetParam(), ".ipt"), ipt ? ipt->v4 : std::string());
    compare_or_update(expected_path(GetParam(), ".ip6t"), ipt ? ipt->v6 : std::string());
    compare_or_update(expected_path(GetParam(), ".ipset"), ipt ? ipt->ipset : std::string());
    compare_or_update(expected_path(GetParam(), ".ipt.err"),
                      ipt ? std::string() : rendered_diagnostics(result));
}

TEST_P(CompileSpec, MatchesGoldenDumps) {
    for (const auto& [dump, extension] :
         {std::pair{Dump::check, ".check"}, {Dump::lower, ".lower"}}) {
        const CompileResult result = compile_spec(GetParam(), Target::nft, dump);
        ASSERT_TRUE(result.output.has_value()) << rendered_diagnostics(result);
        compare_or_update(expected_path(GetParam(), extension), result.output->dump);
    }
}

class ErrorSpec : public testing::TestWithParam<std::string> {};

TEST_P(ErrorSpec, FailsWithGoldenDiagnostics) {
    const CompileResult result = compile_spec(GetParam());
    EXPECT_FALSE(result.output.has_value());
    EXPECT_TRUE(result.diagnostics.has_errors());
    compare_or_update(expected_path(GetParam(), ".err"), rendered_diagnostics(result));
}

std::string test_name(const testing::TestParamInfo<std::string>& info) {
    return test_name_of(info.param);
}

INSTANTIATE_TEST_SUITE_P(Specs, CompileSpec, testing::ValuesIn(inputs("specs/compile")), test_name);
INSTANTIATE_TEST_SUITE_P(Examples, CompileSpec, testing::ValuesIn(inputs("examples")), test_name);
INSTANTIATE_TEST_SUITE_P(Specs, ErrorSpec, testing::ValuesIn(inputs("specs/errors")), test_name);

} // namespace
} // namespace acctc::specs
