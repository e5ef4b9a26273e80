#include "counter_relabel.hpp"

#include "acctc/counter_labels.hpp"
#include "acctc/runtime/errors.hpp"
#include "reload_plan.hpp"

#include <map>
#include <set>
#include <string_view>
#include <tuple>

namespace acctc::runtime {

namespace {

// Each counter declaration of `text` as emit_nft writes it ("\tcounter NAME {" on a line of its
// own), in order: `found(name, after)` with `after` where the next line starts. One pass: a
// search of the whole text per counter would be quadratic in the counters (100,000).
template <typename Found>
void each_declaration(const std::string& text, Found found) {
    const std::string head = "\tcounter ";
    for (std::size_t at = text.find(head); at != std::string::npos; at = text.find(head, at + 1)) {
        if (at != 0 && text[at - 1] != '\n') {
            continue;
        }
        const std::size_t name_begin = at + head.size();
        const std::size_t line_end = text.find('\n', name_begin);
        if (line_end == std::string::npos || line_end < name_begin + 2 ||
            text.compare(line_end - 2, 2, " {") != 0) {
            continue;
        }
        found(std::string_view(text).substr(name_begin, line_end - 2 - name_begin), line_end + 1);
    }
}

} // namespace

std::vector<DeclaredCounter> declared_counters(const std::string& definition) {
    std::vector<DeclaredCounter> out;
    const std::string comment = "\t\tcomment \"";
    each_declaration(definition, [&](std::string_view name, std::size_t after) {
        if (definition.compare(after, comment.size(), comment) != 0) {
            return;
        }
        const std::size_t comment_begin = after + comment.size();
        const std::size_t comment_end = definition.find('"', comment_begin);
        if (comment_end != std::string::npos) {
            out.push_back(
                {std::string(name), definition.substr(comment_begin, comment_end - comment_begin)});
        }
    });
    return out;
}

std::vector<Relabel> counters_to_relabel(const std::vector<KernelCounter>& live,
                                         const std::string& definition) {
    std::map<std::string, const KernelCounter*> by_name;
    for (const auto& counter : live) {
        by_name[counter.name] = &counter;
    }
    std::vector<Relabel> out;
    for (auto& declared : declared_counters(definition)) {
        const auto found = by_name.find(declared.name);
        if (found == by_name.end()) {
            continue;
        }
        if (found->second->comment == declared.comment) {
            continue; // the same identity; decoding 100,000 pairs of comments cost 0.1 s
        }
        const CounterIdentity now = decode_counter_comment(declared.name, found->second->comment);
        const CounterIdentity next = decode_counter_comment(declared.name, declared.comment);
        if (std::tie(now.family, now.kind, now.labels) !=
            std::tie(next.family, next.kind, next.labels)) {
            out.push_back({std::move(declared.name), std::move(declared.comment),
                           found->second->packets, found->second->bytes});
        }
    }
    return out;
}

std::string with_values(const std::string& commit,
                        const std::map<std::string, CounterValues>& values,
                        std::set<std::string>& declared) {
    if (values.empty()) {
        return commit;
    }
    std::string out;
    out.reserve(commit.size() + 48 * values.size());
    std::size_t copied = 0;
    each_declaration(commit, [&](std::string_view name, std::size_t after) {
        const auto found = values.find(std::string(name));
        if (found == values.end()) {
            return;
        }
        if (commit.compare(after, 9, "\t\tcomment") == 0) { // after the comment, as nft lists it
            after = commit.find('\n', after) + 1;
        }
        out.append(commit, copied, after - copied);
        out += "\t\tpackets " + std::to_string(found->second.packets) + " bytes " +
               std::to_string(found->second.bytes) + "\n";
        copied = after;
        declared.insert(found->first);
    });
    out.append(commit, copied, std::string::npos);
    return out;
}

std::string with_relabels(std::string commit, const std::string& table,
                          const std::vector<Relabel>& relabels) {
    if (relabels.empty()) {
        return commit;
    }
    const std::string flush = "flush table inet " + table + "\n";
    const std::size_t at = commit.find(flush);
    if (at == std::string::npos) {
        throw RuntimeError(ErrorKind::rejected, "internal: a relabel needs a reload commit");
    }
    std::string deletions;
    std::map<std::string, CounterValues> values;
    for (const auto& relabel : relabels) {
        deletions += "delete counter inet " + table + " " + identifier(relabel.name) + "\n";
        values[relabel.name] = {relabel.packets, relabel.bytes};
    }
    std::set<std::string> declared;
    commit = with_values(commit, values, declared);
    for (const auto& relabel : relabels) {
        if (declared.count(relabel.name) == 0) {
            throw RuntimeError(ErrorKind::rejected,
                               "internal: counter " + relabel.name + " is not declared");
        }
    }
    commit.insert(at + flush.size(), deletions);
    return commit;
}

} // namespace acctc::runtime
