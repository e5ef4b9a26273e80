// Finds the spec inputs and compiles them the way every golden expects: with specs/etc as the
// host database and the path relative to the source tree as the file name, so goldens never
// depend on where the tree lives or on the machine's users and services.
#pragma once

#include "acctc/compile.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace acctc::specs {

std::filesystem::path source_dir();
// Relative to the source tree: specs/compile/x.acct, specs/errors/y.acct, examples/z.acct.
std::vector<std::string> inputs(const std::string& directory);
std::string read_file(const std::filesystem::path& path);
CompileResult compile_spec(const std::string& relative, Target target = Target::nft,
                           Dump dump = Dump::none);
// Diagnostics as `acctc check` prints them.
std::string rendered_diagnostics(const CompileResult& result);
// Where the expected output of an input lives: .nft beside compile specs, .err beside error
// specs, specs/examples/NAME.nft for examples.
// A GoogleTest-safe name for a spec: its file stem with punctuation replaced.
std::string test_name_of(const std::string& relative);
std::filesystem::path expected_path(const std::string& relative, const std::string& extension);

} // namespace acctc::specs
