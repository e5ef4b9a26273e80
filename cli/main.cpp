// acctc: thin dispatcher over the subcommands registered in this directory.
#include "acctc/did_you_mean.hpp"
#include "acctc/version.hpp"
#include "command.hpp"
#include "common.hpp"
#include "service.hpp"

#include <algorithm>
#include <cstring>
#include <iostream>

namespace acctc::cli {
namespace {

std::vector<Command>& registry() {
    static std::vector<Command> all;
    return all;
}

void print_overview(std::ostream& out) {
    out << "usage: acctc COMMAND [OPTIONS] [ARGS]\n\n"
           "Compile traffic-accounting policies into nftables or iptables rulesets.\n\n"
           "commands:\n";
    for (const auto& command : commands()) {
        if (command.hidden) {
            continue;
        }
        out << "  " << command.name
            << std::string(12 - std::min<std::size_t>(11, std::strlen(command.name)), ' ')
            << command.summary << "\n";
    }
    out << "\nRun 'acctc COMMAND --help' (or 'acctc help COMMAND') for a command's options; 'man "
           "acctc' for the full "
           "manual.\n";
}

const Command* find_command(const std::string& name) {
    for (const auto& command : commands()) {
        if (name == command.name) {
            return &command;
        }
    }
    return nullptr;
}

int run_command(const Command& command, const std::vector<std::string>& args) {
    const std::string name = command.name;
    try {
        return command.run(args);
    } catch (const UsageError& error) {
        log_line(LogPriority::error,
                 "acctc " + name + ": " + error.what() + "\nTry 'acctc " + name + " --help'.");
        return exit_usage;
    } catch (const std::exception& error) {
        log_line(LogPriority::error, "acctc " + name + ": " + error.what());
        return exit_policy_error;
    }
}

int unknown_command(const std::string& name) {
    std::vector<std::string> names;
    for (const auto& command : commands()) {
        names.emplace_back(command.name);
    }
    const auto suggestion = acctc::did_you_mean(name, names);
    std::cerr << "acctc: unknown command '" << name << "'"
              << (suggestion ? "; did you mean '" + *suggestion + "'?" : "") << "\n";
    print_overview(std::cerr);
    return exit_usage;
}

} // namespace

CommandRegistration::CommandRegistration(Command command) {
    auto& all = registry();
    auto at =
        std::lower_bound(all.begin(), all.end(), command, [](const Command& a, const Command& b) {
            return std::strcmp(a.name, b.name) < 0;
        });
    all.insert(at, command);
}

const std::vector<Command>& commands() {
    return registry();
}

} // namespace acctc::cli

int main(int argc, char** argv) {
    using namespace acctc::cli;
    std::vector<std::string> args(argv + std::min(argc, 2), argv + argc);
    if (argc < 2) {
        print_overview(std::cerr);
        return exit_usage;
    }
    const std::string name = argv[1];
    if (name == "--help" || name == "-h" ||
        (name == "help" && (argc == 2 || std::strcmp(argv[2], "help") == 0))) {
        print_overview(std::cout);
        return exit_ok;
    }
    if (name == "--version" || name == "-V") {
        std::cout << "acctc " << acctc::version << "\n";
        return exit_ok;
    }
    if (name == "help") {
        // `acctc help CMD` is `acctc CMD --help`; more than one name is a usage error.
        if (argc > 3) {
            std::cerr << "acctc help: takes one COMMAND, not " << argc - 2 << "\n";
            return exit_usage;
        }
        const Command* command = find_command(args.front());
        return command != nullptr ? run_command(*command, {"--help"})
                                  : unknown_command(args.front());
    }
    if (const Command* command = find_command(name)) {
        return run_command(*command, args);
    }
    return unknown_command(name);
}
