// libFuzzer target for the whole compile pipeline (parse, check, lower, emit) on both targets.
// Any input must either compile or get positioned errors: a crash, a sanitizer report, a hang or
// a result that has both (or neither) fails.
#include "acctc/compile.hpp"

#include <cstdint>
#include <cstdlib>
#include <sstream>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    for (const acctc::Target target : {acctc::Target::nft, acctc::Target::iptables}) {
        acctc::CompileOptions options;
        options.target = target;
        options.etc_dir = ACCTC_SOURCE_DIR "/specs/etc"; // users, groups, services: not the host's
        const acctc::CompileResult result = acctc::compile_source("fuzz.acct", text, options);
        std::ostringstream rendered;
        acctc::render_all(rendered, result.source, result.diagnostics);
        if (result.output.has_value() == result.diagnostics.has_errors()) {
            std::abort();
        }
    }
    return 0;
}
