#include "acctc/testbench/nft.hpp"

#include "acctc/testbench/process.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <sys/mman.h>
#include <unistd.h>

namespace acctc::testbench {

std::string run_nft(const NamedNetns& netns, const std::vector<std::string>& arguments,
                    const std::string& input) {
    auto child = ChildProcess::spawn("nft", netns, Identity{}, [&](ControlChannel& channel) {
        // The ruleset travels in a memfd that nft reads as a file; its output goes back over
        // the control channel.
        const int memory = ::memfd_create("acctc-ruleset", 0);
        if (memory < 0 ||
            ::write(memory, input.data(), input.size()) != static_cast<ssize_t>(input.size())) {
            throw_errno("memfd for nft");
        }
        std::vector<std::string> words = {"nft"};
        for (const auto& argument : arguments) {
            words.push_back(argument == "@input" ? "/proc/self/fd/" + std::to_string(memory)
                                                 : argument);
        }
        std::vector<char*> argv;
        for (auto& word : words) {
            argv.push_back(word.data());
        }
        argv.push_back(nullptr);
        ::dup2(channel.write_fd(), STDOUT_FILENO);
        ::dup2(channel.write_fd(), STDERR_FILENO);
        ::execvp("nft", argv.data());
        throw_errno("exec nft");
    });
    std::string output;
    while (auto line = child.channel().receive(std::chrono::seconds(30))) {
        output += *line + "\n";
    }
    const int status = child.wait(std::chrono::seconds(5));
    if (status != 0) {
        throw std::runtime_error("nft in " + netns.name() + " failed (status " +
                                 std::to_string(status) + "):\n" + output);
    }
    return output;
}

void load_ruleset(const NamedNetns& netns, const std::string& ruleset) {
    run_nft(netns, {"-f", "@input"}, ruleset);
}

std::map<std::string, CounterValue> read_counters(const NamedNetns& netns,
                                                  const std::string& table) {
    const auto output = run_nft(netns, {"-j", "list", "counters", "table", "inet", table});
    std::map<std::string, CounterValue> counters;
    const auto listing = nlohmann::json::parse(output); // named: the loop must not dangle
    for (const auto& item : listing.at("nftables")) {
        if (item.contains("counter")) {
            const auto& counter = item.at("counter");
            counters[counter.at("name").get<std::string>()] = {
                counter.at("packets").get<std::uint64_t>(),
                counter.at("bytes").get<std::uint64_t>()};
        }
    }
    return counters;
}

} // namespace acctc::testbench
