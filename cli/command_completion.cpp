// acctc completion bash: a bash completion script written from the subcommands' own option
// tables (each run with list_options_argument), so no second list of options can go stale.
#include "command.hpp"
#include "common.hpp"

#include <iostream>
#include <sstream>

namespace acctc::cli {
namespace {

struct CommandWords {
    std::string options;       // every option, space-separated
    std::string value_options; // the ones that take a value, space-padded for matching
    bool takes_policy = false; // a POLICY positional: complete policy names too
};

CommandWords words_of(const Command& command) {
    std::ostringstream listing;
    auto* const saved = std::cout.rdbuf(listing.rdbuf());
    try {
        command.run({list_options_argument});
    } catch (const std::exception&) {
        // A command without an option table of its own (testbench): nothing to offer.
    }
    std::cout.rdbuf(saved);
    CommandWords words;
    std::istringstream lines(listing.str());
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("POSITIONAL ", 0) == 0) {
            words.takes_policy = words.takes_policy || line == "POSITIONAL policy";
        } else if (!line.empty() && line.back() == '=') {
            line.pop_back();
            words.options += line + " ";
            words.value_options += " " + line;
        } else if (!line.empty()) {
            words.options += line + " ";
        }
    }
    words.value_options += " ";
    return words;
}

void print_bash(std::ostream& out) {
    std::string names;
    for (const auto& command : commands()) {
        if (!command.hidden) {
            names += std::string(command.name) + " ";
        }
    }
    out << "# bash completion for acctc, written by `acctc completion bash` from its option "
           "tables.\n"
           "_acctc_policy_names() {\n"
           "    local dir file IFS=: search=\"${ACCTC_POLICY_DIR}:"
        << default_policy_dir
        << "\"\n"
           "    for dir in $search; do\n"
           "        [[ -n $dir ]] || continue\n"
           "        for file in \"$dir\"/*.acct; do\n"
           "            [[ -e $file ]] && file=${file##*/} && printf '%s\\n' \"${file%.acct}\"\n"
           "        done\n"
           "    done\n"
           "}\n"
           "_acctc() {\n"
           "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
           "    COMPREPLY=()\n"
           "    if ((COMP_CWORD == 1)); then\n"
           "        COMPREPLY=($(compgen -W \"--help --version help "
        << names
        << "\" -- \"$cur\"))\n"
           "        return\n"
           "    fi\n"
           // `acctc help COMMAND` takes one command name and nothing else.
           "    if [[ ${COMP_WORDS[1]} == help ]]; then\n"
           "        ((COMP_CWORD == 2)) && COMPREPLY=($(compgen -W \""
        << names
        << "\" -- \"$cur\"))\n"
           "        return\n"
           "    fi\n"
           "    local options= values= policy=\n"
           "    case ${COMP_WORDS[1]} in\n";
    for (const auto& command : commands()) {
        if (command.hidden) {
            continue;
        }
        const auto words = words_of(command);
        out << "    " << command.name << ") options=\"" << words.options << "\" values=\""
            << words.value_options << "\" policy=" << (words.takes_policy ? "1" : "") << " ;;\n";
    }
    out << "    esac\n"
           "    if [[ $values == *\" $prev \"* ]]; then\n"
           "        case $prev in\n"
           "        --netns) COMPREPLY=($(compgen -W \"$(ip netns list 2>/dev/null | cut -d' ' "
           "-f1)\" -- \"$cur\")) ;;\n"
           "        *) COMPREPLY=($(compgen -f -- \"$cur\")) ;;\n"
           "        esac\n"
           "        return\n"
           "    fi\n"
           "    if [[ $cur == -* ]]; then\n"
           "        COMPREPLY=($(compgen -W \"$options\" -- \"$cur\"))\n"
           "    elif [[ -n $policy ]]; then\n"
           "        COMPREPLY=($(compgen -W \"$(_acctc_policy_names)\" -- \"$cur\") "
           "$(compgen -f -- \"$cur\"))\n"
           "    else\n"
           "        COMPREPLY=($(compgen -f -- \"$cur\"))\n"
           "    fi\n"
           "}\n"
           "complete -F _acctc acctc\n";
}

int run_completion(const std::vector<std::string>& args) {
    if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
        std::cout << "usage: acctc completion bash\n\nprints a bash completion script (the only "
                     "shell so far): source <(acctc completion bash)\n";
        return exit_ok;
    }
    if (args.size() != 1 || args[0] != "bash") {
        throw UsageError("usage: acctc completion bash (the only shell so far)");
    }
    print_bash(std::cout);
    return exit_ok;
}

const CommandRegistration registration{
    {"completion", "print a shell completion script", &run_completion, true}};

} // namespace
} // namespace acctc::cli
