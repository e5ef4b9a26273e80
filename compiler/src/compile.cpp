#include "acctc/compile.hpp"

namespace acctc {

CompileResult compile_source(std::string display_name, std::string text,
                             const CompileOptions&) {
    CompileResult result{SourceFile(std::move(display_name), std::move(text)), {}, {}};
    result.diagnostics.error({0, 0}, "compiler under construction");
    return result;
}

} // namespace acctc
