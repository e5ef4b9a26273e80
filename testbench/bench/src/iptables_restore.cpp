#include "acctc/bench/iptables_restore.hpp"

#include "acctc/testbench/process.hpp"
#include "acctc/testbench/unique_fd.hpp"

#include <stdexcept>
#include <sys/mman.h>
#include <unistd.h>

namespace acctc::bench {
namespace {

void run_restore(const testbench::NamedNetns& netns, const std::string& text, bool noflush) {
    auto child = testbench::ChildProcess::spawn(
        "iptables-restore", netns, testbench::Identity{}, [&](testbench::ControlChannel& channel) {
            // The rules travel in a memfd that becomes the child's standard input.
            testbench::UniqueFd memory(::memfd_create("acctc-iptables", 0));
            if (!memory.valid() || ::write(memory.get(), text.data(), text.size()) !=
                                       static_cast<ssize_t>(text.size())) {
                testbench::throw_errno("memfd for iptables-restore");
            }
            ::lseek(memory.get(), 0, SEEK_SET);
            ::dup2(memory.get(), STDIN_FILENO);
            ::dup2(channel.write_fd(), STDOUT_FILENO);
            ::dup2(channel.write_fd(), STDERR_FILENO);
            if (noflush) {
                ::execlp("iptables-restore", "iptables-restore", "--noflush", nullptr);
            } else {
                ::execlp("iptables-restore", "iptables-restore", nullptr);
            }
            testbench::throw_errno("exec iptables-restore");
        });
    std::string output;
    while (auto line = child.channel().receive(std::chrono::seconds(60))) {
        output += *line + "\n";
    }
    if (child.wait(std::chrono::seconds(5)) != 0) {
        throw std::runtime_error("iptables-restore in " + netns.name() + " failed:\n" + output);
    }
}

} // namespace

void iptables_restore(const testbench::NamedNetns& netns, const std::string& text) {
    run_restore(netns, text, true);
}

void iptables_flush(const testbench::NamedNetns& netns) {
    run_restore(
        netns,
        "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n",
        false);
}

} // namespace acctc::bench
