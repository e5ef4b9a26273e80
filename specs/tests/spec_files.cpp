#include "spec_files.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace acctc::specs {

std::filesystem::path source_dir() {
    return ACCTC_SOURCE_DIR;
}

std::vector<std::string> inputs(const std::string& directory) {
    std::vector<std::string> out;
    for (const auto& entry : std::filesystem::directory_iterator(source_dir() / directory)) {
        if (entry.path().extension() == ".acct") {
            out.push_back(directory + "/" + entry.path().filename().string());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

CompileResult compile_spec(const std::string& relative, Target target, Dump dump) {
    CompileOptions options;
    options.target = target;
    options.dump = dump;
    options.etc_dir = source_dir() / "specs/etc";
    return compile_source(relative, read_file(source_dir() / relative), options);
}

std::string rendered_diagnostics(const CompileResult& result) {
    std::ostringstream out;
    render_all(out, result.source, result.diagnostics);
    return out.str();
}

std::string test_name_of(const std::string& relative) {
    std::string name = std::filesystem::path(relative).stem().string();
    for (char& c : name) {
        c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    }
    return name;
}

std::filesystem::path expected_path(const std::string& relative, const std::string& extension) {
    std::filesystem::path path = source_dir() / relative;
    if (relative.rfind("examples/", 0) == 0) {
        return source_dir() / "specs/examples" / path.filename().replace_extension(extension);
    }
    return path.replace_extension(extension);
}

} // namespace acctc::specs
