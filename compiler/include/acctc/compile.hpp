// The compiler's public entry point: policy text in, ruleset text out.
#pragma once

#include "acctc/diagnostics.hpp"
#include "acctc/source.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace acctc {

enum class Target { nft, iptables };

struct CompileOptions {
    Target target = Target::nft;
    // Where passwd, group and services are read from: /etc by default, another
    // directory when compiling for a different host (and for reproducible specs).
    std::filesystem::path etc_dir = "/etc";
};

struct CompiledCounter {
    std::string name;   // the kernel object name, e.g. skype_tcp_in
    std::string origin; // "file:line" of the declaration
};

struct CompiledPolicy {
    std::string policy_name; // as declared by `policy NAME`
    std::string table_name;  // acctc_<policy>
    // nft: "table inet T\ndelete table inet T\n" so loading twice never fails.
    std::string preamble;
    // nft: the complete "table inet T { ... }" block.
    std::string definition;
    // preamble + definition: what `acctc compile` prints.
    std::string text;
    std::vector<CompiledCounter> counters;
    std::vector<std::string> chains;
    std::vector<std::string> sets;
};

struct CompileResult {
    SourceFile source;
    Diagnostics diagnostics;
    std::optional<CompiledPolicy> output; // empty when diagnostics has errors
};

CompileResult compile_source(std::string display_name, std::string text,
                             const CompileOptions& options = {});

} // namespace acctc
