#include "ipset_host_counters.hpp"

#include "acctc/ipset_host_comment.hpp"
#include "acctc/runtime/errors.hpp"
#include "acctc/runtime/host_selection.hpp"
#include "iptables_exec.hpp"
#include "text_lines.hpp"

#include <algorithm>
#include <charconv>
#include <set>

namespace acctc::runtime {
namespace {

// The address as the nft backend writes a host, whatever spelling ipset chose.
std::string canonical_address(const std::string& text) {
    return canonical_host_address(text).value_or(text);
}

std::uint64_t number_after(const std::vector<std::string>& words, const std::string& key) {
    const auto it = std::find(words.begin(), words.end(), key);
    std::uint64_t value = 0;
    if (it != words.end() && it + 1 != words.end()) {
        std::from_chars(it[1].data(), it[1].data() + it[1].size(), value);
    }
    return value;
}

std::vector<std::string> words_of(const std::string& line) {
    std::vector<std::string> words;
    for (std::size_t at = 0; at < line.size();) {
        const auto end = std::min(line.find(' ', at), line.size());
        if (end > at) {
            words.push_back(line.substr(at, end - at));
        }
        at = end + 1;
    }
    return words;
}

IpsetSave ipset_restore(const std::string& text, const char* what) {
    const auto result = run_process({"ipset", "restore"}, text);
    if (result.status != 0) {
        throw RuntimeError(ErrorKind::system,
                           std::string("ipset could not ") + what + " host sets: " + result.err);
    }
    return parse_ipset_save(result.out);
}

std::string save_commands(const std::vector<IpsetHostSet>& sets) {
    std::string text;
    for (const auto& set : sets) {
        text += "save " + set.ipset + "\n";
    }
    return text;
}

// The twin a reset swaps set `index` with: under the policy's prefix, so an apply or remove of
// the policy destroys one a failed reset left behind; compiled set names never end in "z<N>".
std::string twin_name(const IpsetHostSet& set, std::size_t index) {
    return set.prefix + "z" + std::to_string(index);
}

} // namespace

std::vector<IpsetHostSet> ipset_host_sets(const std::vector<SavedRule>& rules,
                                          const std::map<std::string, std::string>& policies) {
    std::vector<IpsetHostSet> out;
    std::set<std::string> seen;
    for (const auto& rule : rules) {
        auto comment = decode_ipset_host_comment(comment_of(rule.spec));
        if (!comment || seen.count(comment->ipset)) {
            continue;
        }
        for (const auto& [policy, prefix] : policies) {
            if (rule.chain.rfind(prefix, 0) == 0 && comment->ipset.rfind(prefix, 0) == 0) {
                seen.insert(comment->ipset);
                out.push_back({policy, prefix, std::move(comment->ipset),
                               std::move(comment->counter), std::move(comment->identity)});
                break;
            }
        }
    }
    return out;
}

IpsetSave parse_ipset_save(const std::string& text) {
    IpsetSave save;
    for (const auto& line : split_lines(text)) {
        const auto words = words_of(line);
        if (words.size() >= 3 && words[0] == "add") {
            save.elements.push_back({words[1], canonical_address(words[2]),
                                     number_after(words, "packets"), number_after(words, "bytes")});
        } else if (words.size() >= 2 && words[0] == "create") {
            save.creates[words[1]] = line.substr(line.find(words[1]) + words[1].size());
        } else if (words.size() == 1) {
            save.names.push_back(words[0]);
        }
    }
    return save;
}

std::vector<CounterReading> read_ipset_hosts(const std::vector<IpsetHostSet>& sets, bool reset) {
    if (sets.empty()) {
        return {};
    }
    IpsetSave saved = ipset_restore(save_commands(sets), "read");
    if (reset) {
        const auto listed = run_process({"ipset", "list", "-n"});
        const auto present = split_lines(listed.out);
        std::string text;
        for (std::size_t i = 0; i < sets.size(); ++i) {
            const std::string twin = twin_name(sets[i], i);
            if (std::find(present.begin(), present.end(), twin) != present.end()) {
                text += "destroy " + twin + "\n"; // left by a reset that failed half-way
            }
            text += "create " + twin + saved.creates.at(sets[i].ipset) + "\n";
            for (const auto& element : saved.elements) {
                if (element.set == sets[i].ipset) {
                    text += "add " + twin + " " + element.address + " packets 0 bytes 0\n";
                }
            }
            // The live set becomes the twin with the hosts at zero; the counts are read from
            // the old one, which no rule refers to any more.
            text += "swap " + sets[i].ipset + " " + twin + "\nsave " + twin + "\ndestroy " + twin +
                    "\n";
        }
        saved = ipset_restore(text, "reset");
        for (auto& element : saved.elements) {
            for (std::size_t i = 0; i < sets.size(); ++i) {
                if (element.set == twin_name(sets[i], i)) {
                    element.set = sets[i].ipset;
                }
            }
        }
    }
    // Each set's reading without a host: its hosts share its description.
    std::map<std::string, CounterReading> by_name;
    for (const auto& set : sets) {
        by_name.insert_or_assign(set.ipset,
                                 reading_of(set.policy, set.counter, 0, 0, set.identity));
    }
    std::vector<CounterReading> out;
    out.reserve(saved.elements.size());
    for (auto& element : saved.elements) {
        const auto found = by_name.find(element.set);
        if (found == by_name.end()) {
            continue;
        }
        CounterSample& sample = out.emplace_back(found->second).sample;
        sample.packets = element.packets;
        sample.bytes = element.bytes;
        sample.host = std::move(element.address);
    }
    return out;
}

} // namespace acctc::runtime
