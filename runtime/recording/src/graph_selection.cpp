#include "acctc/recording/graph_selection.hpp"

#include "acctc/recording/rrd_file.hpp"
#include "acctc/recording/rrd_names.hpp"

#include <algorithm>
#include <stdexcept>

namespace acctc::recording {

std::vector<std::string> recorded_counters(const std::filesystem::path& dir,
                                           std::string_view policy) {
    const auto directory = policy_dir(dir, policy);
    std::error_code error;
    std::filesystem::directory_iterator entries(directory, error);
    if (error) {
        throw std::runtime_error("no recordings for policy '" + std::string(policy) + "' in " +
                                 directory.string() + ": " + error.message());
    }
    std::vector<std::string> counters;
    for (const auto& entry : entries) {
        if (entry.is_regular_file() && entry.path().extension() == ".rrd") {
            counters.push_back(decode_file_component(entry.path().stem().string()));
        }
    }
    std::sort(counters.begin(), counters.end());
    return counters;
}

std::vector<std::string> select_counters(const std::vector<std::string>& recorded,
                                         const std::vector<std::string>& selectors) {
    if (selectors.empty()) {
        return recorded;
    }
    std::vector<std::string> selected;
    for (const auto& selector : selectors) {
        bool matched = false;
        for (const auto& counter : recorded) {
            // A family selects its counters (skype_in), a counter its hosts (lan_in@198.18.0.5).
            const bool member =
                counter == selector ||
                (counter.size() > selector.size() &&
                 counter.compare(0, selector.size(), selector) == 0 &&
                 (counter[selector.size()] == '_' || counter[selector.size()] == '@'));
            if (member) {
                matched = true;
                if (std::find(selected.begin(), selected.end(), counter) == selected.end()) {
                    selected.push_back(counter);
                }
            }
        }
        if (!matched) {
            std::string known;
            for (const auto& counter : recorded) {
                known += (known.empty() ? "" : ", ") + counter;
            }
            throw std::invalid_argument("no recorded counter or group '" + selector +
                                        "' (recorded: " + (known.empty() ? "none" : known) + ")");
        }
    }
    std::sort(selected.begin(), selected.end());
    return selected;
}

ReadableCounters readable_counters(const std::filesystem::path& dir, std::string_view policy,
                                   const std::vector<std::string>& counters) {
    ReadableCounters result;
    for (const auto& counter : counters) {
        try {
            (void)last_update(rrd_path(dir, policy, counter)); // reads and checks the header
            result.readable.push_back(counter);
        } catch (const RrdError& error) {
            result.problems.emplace_back(error.what());
        }
    }
    return result;
}

} // namespace acctc::recording
