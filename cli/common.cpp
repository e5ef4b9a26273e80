#include "common.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace acctc::cli {

namespace po = boost::program_options;

std::string read_policy(const std::string& path) {
    if (path == "-") {
        std::ostringstream text;
        text << std::cin.rdbuf();
        return text.str();
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw UsageError("cannot read '" + path + "': " + std::strerror(errno));
    }
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::optional<CompiledPolicy> compile_policy_file(const std::string& path,
                                                  const CompileOptions& options) {
    auto result = compile_source(path == "-" ? "<stdin>" : path, read_policy(path), options);
    render_all(std::cerr, result.source, result.diagnostics);
    return std::move(result.output);
}

bool parse_command_line(const std::vector<std::string>& args, const char* usage,
                        const po::options_description& options,
                        const po::positional_options_description& positional,
                        po::variables_map& values) {
    po::options_description all = options;
    all.add_options()("help,h", "show this help");
    auto is_positional = [&](const std::string& name) {
        for (unsigned i = 0; i < positional.max_total_count() && i < 16; ++i) {
            if (positional.name_for_position(i) == name) {
                return true;
            }
        }
        return false;
    };
    try {
        po::store(po::command_line_parser(args).options(all).positional(positional).run(), values);
        if (values.count("help") != 0U) {
            // Positional arguments are in the usage line, not in the option list.
            po::options_description shown("options");
            for (const auto& option : all.options()) {
                if (!is_positional(option->long_name())) {
                    shown.add(option);
                }
            }
            std::cout << "usage: " << usage << "\n\n" << shown << "\n";
            return false;
        }
        po::notify(values);
    } catch (const po::required_option& error) {
        std::string name = error.get_option_name();
        name.erase(0, name.find_first_not_of('-'));
        if (is_positional(name)) {
            for (char& c : name) {
                c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            }
            throw UsageError("missing " + name + " argument");
        }
        throw UsageError(error.what());
    } catch (const po::error& error) {
        throw UsageError(error.what());
    }
    return true;
}

} // namespace acctc::cli
