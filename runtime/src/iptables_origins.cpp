#include "iptables_origins.hpp"

#include "acctc/counter_labels.hpp"
#include "run_files.hpp"

#include <sstream>

namespace acctc::runtime {
namespace {

constexpr std::string_view format_line = "acctc iptables origins 1";
constexpr std::size_t max_file_bytes = 64U << 20;

std::string file_of(const std::string& prefix) {
    return "iptables-" + prefix + ".origins";
}

} // namespace

void record_iptables_origins(const std::string& prefix, const std::vector<CountedRule>& live,
                             const std::vector<CountedRule>& compiled) {
    std::map<std::string, std::string> live_metadata;
    for (const auto& rule : live) {
        live_metadata.emplace(rule.counter, rule.metadata);
    }
    std::string text = std::string(format_line) + "\n";
    for (const auto& rule : compiled) {
        const auto it = live_metadata.find(rule.counter);
        if (it == live_metadata.end() || it->second == rule.metadata) {
            continue; // the live comment says the current origin itself
        }
        const std::string origin = decode_counter_comment(rule.counter, rule.metadata).origin;
        if (!rule.counter.empty() && storable_field(rule.counter) && storable_field(it->second) &&
            storable_field(origin)) {
            text += rule.counter + "\t" + it->second + "\t" + origin + "\n";
        }
    }
    if (text.size() > max_file_bytes || text.size() == format_line.size() + 1) {
        forget_iptables_origins(prefix);
        return;
    }
    write_run_file(run_directory(), file_of(prefix), text);
}

std::map<std::string, RecordedOrigin> recorded_iptables_origins(const std::string& prefix) {
    const auto text = read_run_file(run_directory(), file_of(prefix), max_file_bytes);
    std::map<std::string, RecordedOrigin> out;
    if (!text) {
        return out;
    }
    std::istringstream in(*text);
    std::string line;
    if (!std::getline(in, line) || line != format_line) {
        return out;
    }
    while (std::getline(in, line)) {
        const auto first = line.find('\t');
        const auto second = first == std::string::npos ? first : line.find('\t', first + 1);
        if (first == 0 || second == std::string::npos) {
            return {};
        }
        out[line.substr(0, first)] = {line.substr(first + 1, second - first - 1),
                                      line.substr(second + 1)};
    }
    return out;
}

void forget_iptables_origins(const std::string& prefix) {
    if (valid_file_name(file_of(prefix))) {
        remove_run_file(run_directory(), file_of(prefix));
    }
}

void use_recorded_origins(const std::string& prefix, const std::vector<CountedRule>& live,
                          std::vector<CounterReading>& readings) {
    const auto recorded = recorded_iptables_origins(prefix);
    if (recorded.empty()) {
        return;
    }
    std::map<std::string, const std::string*> metadata;
    for (const auto& rule : live) {
        if (rule.chain.starts_with(prefix)) {
            metadata.emplace(rule.counter, &rule.metadata);
        }
    }
    for (auto& reading : readings) {
        const auto it = recorded.find(reading.sample.counter);
        const auto now = metadata.find(reading.sample.counter);
        if (it != recorded.end() && now != metadata.end() && *now->second == it->second.metadata) {
            reading.set_origin(it->second.origin);
        }
    }
}

} // namespace acctc::runtime
