#include "acctc/bench/iptables_restore.hpp"

#include "acctc/testbench/process.hpp"
#include "acctc/testbench/unique_fd.hpp"

#include <stdexcept>
#include <sys/mman.h>
#include <unistd.h>

namespace acctc::bench {
namespace {

// Runs argv in `netns` with `input` as its standard input.
void run_tool(const testbench::NamedNetns& netns, const std::vector<std::string>& argv,
              const std::string& input) {
    auto child = testbench::ChildProcess::spawn(
        argv.front(), netns, testbench::Identity{}, [&](testbench::ControlChannel& channel) {
            // The rules travel in a memfd that becomes the child's standard input.
            testbench::UniqueFd memory(::memfd_create("acctc-iptables", 0));
            if (!memory.valid() || ::write(memory.get(), input.data(), input.size()) !=
                                       static_cast<ssize_t>(input.size())) {
                testbench::throw_errno("memfd for " + argv.front());
            }
            ::lseek(memory.get(), 0, SEEK_SET);
            ::dup2(memory.get(), STDIN_FILENO);
            ::dup2(channel.write_fd(), STDOUT_FILENO);
            ::dup2(channel.write_fd(), STDERR_FILENO);
            std::vector<char*> args;
            for (const auto& arg : argv) {
                args.push_back(const_cast<char*>(arg.c_str()));
            }
            args.push_back(nullptr);
            ::execvp(args.front(), args.data());
            testbench::throw_errno("exec " + argv.front());
        });
    std::string output;
    while (auto line = child.channel().receive(std::chrono::seconds(60))) {
        output += *line + "\n";
    }
    if (child.wait(std::chrono::seconds(5)) != 0) {
        throw std::runtime_error(argv.front() + " in " + netns.name() + " failed:\n" + output);
    }
}

} // namespace

void iptables_restore(const testbench::NamedNetns& netns, const std::string& text,
                      const std::string& program) {
    run_tool(netns, {program + "-restore", "--noflush"}, text);
}

void iptables_flush(const testbench::NamedNetns& netns, const std::string& program) {
    run_tool(netns, {program + "-restore"},
             "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n");
}

void ipset_restore(const testbench::NamedNetns& netns, const std::string& text) {
    run_tool(netns, {"ipset", "-exist", "restore"}, text);
}

void ipset_destroy(const testbench::NamedNetns& netns, const std::vector<std::string>& sets) {
    std::string text;
    for (const auto& set : sets) {
        text += "destroy " + set + "\n";
    }
    run_tool(netns, {"ipset", "-exist", "restore"}, text);
}

void iptables_command(const testbench::NamedNetns& netns, const std::string& program,
                      const std::vector<std::string>& args) {
    std::vector<std::string> argv{program, "-w"};
    argv.insert(argv.end(), args.begin(), args.end());
    run_tool(netns, argv, {});
}

} // namespace acctc::bench
