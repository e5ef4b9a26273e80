#include "common.hpp"

#include "acctc/did_you_mean.hpp"
#include "acctc/source.hpp"
#include "huge_page_heap.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace acctc::cli {

namespace po = boost::program_options;

namespace {

// --policy-dir values. One command runs per process, so the option writes here and
// find_policy_file reads here, instead of every command threading the list through.
std::vector<std::string>& policy_dirs_option() {
    static std::vector<std::string> dirs;
    return dirs;
}

std::vector<std::filesystem::path> policy_search_path() {
    std::vector<std::filesystem::path> dirs(policy_dirs_option().begin(),
                                            policy_dirs_option().end());
    if (const char* variable = std::getenv(policy_dir_variable)) {
        std::istringstream list(variable);
        for (std::string dir; std::getline(list, dir, ':');) {
            if (!dir.empty()) {
                dirs.emplace_back(dir);
            }
        }
    }
    dirs.emplace_back(default_policy_dir);
    return dirs;
}

// "a, b or c"
std::string listing(const std::vector<std::filesystem::path>& dirs) {
    std::string text;
    for (std::size_t i = 0; i < dirs.size(); ++i) {
        text += (i == 0 ? "" : i + 1 == dirs.size() ? " or " : ", ") + dirs[i].string();
    }
    return text;
}

bool is_bare_name(const std::string& argument) {
    return !argument.empty() && argument != "-" && argument != "." && argument != ".." &&
           argument.find('/') == std::string::npos;
}

std::string file_name_for(const std::string& name) {
    const std::string suffix = ".acct";
    const bool has_suffix = name.size() > suffix.size() &&
                            name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    return has_suffix ? name : name + suffix;
}

bool is_directory(const std::string& path) {
    std::error_code error;
    return std::filesystem::is_directory(path, error);
}

} // namespace

std::string format_time(std::time_t time, const char* format, bool utc) {
    std::tm parts{};
    if (utc) {
        ::gmtime_r(&time, &parts);
    } else {
        ::localtime_r(&time, &parts);
    }
    char text[64];
    return std::string(text, std::strftime(text, sizeof text, format, &parts));
}

void add_policy_dir_option(po::options_description& options) {
    options.add_options()("policy-dir", po::value(&policy_dirs_option())->composing(),
                          "look up a POLICY NAME as DIR/NAME.acct before $ACCTC_POLICY_DIR and "
                          "/etc/acctc (repeatable)");
}

std::optional<std::string> find_policy_file(const std::string& argument) {
    std::error_code error;
    if (argument == "-" || (std::filesystem::exists(argument, error) &&
                            !std::filesystem::is_directory(argument, error))) {
        return argument;
    }
    if (!is_bare_name(argument)) {
        return std::nullopt;
    }
    for (const auto& dir : policy_search_path()) {
        const auto candidate = dir / file_name_for(argument);
        if (std::filesystem::is_regular_file(candidate, error)) {
            return candidate.string();
        }
    }
    return std::nullopt;
}

std::string read_policy(const std::string& path) {
    if (path == "-") {
        std::ostringstream text;
        text << std::cin.rdbuf();
        auto policy = std::move(text).str();
        prepare_heap_for_policy(policy.size());
        return policy;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw UsageError("cannot read '" + path + "': " + std::strerror(errno));
    }
    std::ostringstream text; // whole buffers, not a character at a time
    text << in.rdbuf();
    auto policy = std::move(text).str();
    prepare_heap_for_policy(policy.size()); // every policy read is compiled next
    return policy;
}

std::string source_name(const std::string& path) {
    return path == "-" ? std::string(stdin_name) : path;
}

std::string policy_file(const std::string& argument) {
    const auto path = find_policy_file(argument);
    if (!path) {
        // A directory is no policy file, but it does exist.
        const int reason = is_directory(argument) ? EISDIR : ENOENT;
        throw UsageError(is_bare_name(argument)
                             ? "no policy '" + argument + "': no file of that name, and no " +
                                   file_name_for(argument) + " in " + listing(policy_search_path())
                             : "cannot read '" + argument + "': " + std::strerror(reason));
    }
    return *path;
}

std::optional<CompiledPolicy> compile_policy_file(const std::string& argument,
                                                  const CompileOptions& options) {
    const auto path = policy_file(argument);
    auto result = compile_source(source_name(path), read_policy(path), options);
    render_all(std::cerr, result.source, result.diagnostics);
    return std::move(result.output);
}

namespace {

template <typename... Types>
bool is_typed_as(const po::value_semantic* semantic) {
    return (... || (dynamic_cast<const po::typed_value<Types>*>(semantic) != nullptr));
}

// Boost reads "-5" into an unsigned option as 4294967291 (--every -5 slept for 136 years, --top
// -1 kept everything): a negative value of a count or a duration is a usage error.
void refuse_negative_counts(const po::parsed_options& parsed, const po::options_description& all) {
    for (const auto& option : parsed.options) {
        const auto* description = all.find_nothrow(option.string_key, false);
        if (description == nullptr || option.value.empty() ||
            !is_typed_as<unsigned, unsigned long, unsigned long long>(
                description->semantic().get())) {
            continue;
        }
        const std::string& value = option.value.front();
        if (value.find('-') != std::string::npos) {
            throw UsageError("--" + option.string_key +
                             " takes a whole number without a sign, not '" + value + "'");
        }
    }
}

} // namespace

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
    if (args.size() == 1 && args[0] == list_options_argument) {
        for (const auto& option : all.options()) {
            if (is_positional(option->long_name())) {
                std::cout << "POSITIONAL " << option->long_name() << "\n";
                continue;
            }
            const char* value = option->semantic()->max_tokens() > 0 ? "=" : "";
            std::cout << "--" << option->long_name() << value << "\n";
            const std::string short_name =
                option->canonical_display_name(po::command_line_style::allow_dash_for_short);
            if (short_name.size() == 2 && short_name[0] == '-') {
                std::cout << short_name << value << "\n";
            }
        }
        return false;
    }
    try {
        const auto parsed = po::command_line_parser(args).options(all).positional(positional).run();
        refuse_negative_counts(parsed, all);
        po::store(parsed, values);
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
    } catch (const po::unknown_option& error) {
        std::vector<std::string> names;
        for (const auto& option : all.options()) {
            if (!is_positional(option->long_name())) {
                names.push_back("--" + option->long_name());
            }
        }
        const auto suggestion = did_you_mean(error.get_option_name(), names);
        throw UsageError(std::string(error.what()) +
                         (suggestion ? "; did you mean '" + *suggestion + "'?" : ""));
    } catch (const po::error& error) {
        throw UsageError(error.what());
    }
    return true;
}

ComingAndGoing::Change ComingAndGoing::update(std::set<std::string> now) {
    Change change;
    std::set_difference(now.begin(), now.end(), known_.begin(), known_.end(),
                        std::back_inserter(change.came));
    std::set_difference(known_.begin(), known_.end(), now.begin(), now.end(),
                        std::back_inserter(change.went));
    known_ = std::move(now);
    return change;
}

} // namespace acctc::cli
