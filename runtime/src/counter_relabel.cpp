#include "counter_relabel.hpp"

#include "acctc/counter_labels.hpp"
#include "acctc/runtime/errors.hpp"
#include "reload_plan.hpp"

#include <map>
#include <tuple>

namespace acctc::runtime {

std::vector<DeclaredCounter> declared_counters(const std::string& definition) {
    std::vector<DeclaredCounter> out;
    const std::string head = "\tcounter ";
    const std::string body = " {\n\t\tcomment \"";
    for (std::size_t at = definition.find(head); at != std::string::npos;
         at = definition.find(head, at + 1)) {
        if (at != 0 && definition[at - 1] != '\n') {
            continue;
        }
        const std::size_t name_begin = at + head.size();
        const std::size_t line_end = definition.find('\n', name_begin);
        if (line_end == std::string::npos || line_end < 2 ||
            definition.compare(line_end - 2, body.size(), body) != 0) {
            continue;
        }
        const std::size_t name_end = line_end - 2;
        const std::size_t comment_begin = name_end + body.size();
        const std::size_t comment_end = definition.find('"', comment_begin);
        if (comment_end == std::string::npos) {
            break;
        }
        out.push_back({definition.substr(name_begin, name_end - name_begin),
                       definition.substr(comment_begin, comment_end - comment_begin)});
    }
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

bool declare_with_values(std::string& commit, const std::string& name, std::uint64_t packets,
                         std::uint64_t bytes) {
    const std::string declared = "\tcounter " + name + " {\n";
    std::size_t where = commit.find(declared);
    if (where == std::string::npos) {
        return false;
    }
    where += declared.size();
    if (commit.compare(where, 9, "\t\tcomment") == 0) { // after the comment, as nft lists it
        where = commit.find('\n', where) + 1;
    }
    commit.insert(where, "\t\tpackets " + std::to_string(packets) + " bytes " +
                             std::to_string(bytes) + "\n");
    return true;
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
    for (const auto& relabel : relabels) {
        deletions += "delete counter inet " + table + " " + identifier(relabel.name) + "\n";
        if (!declare_with_values(commit, relabel.name, relabel.packets, relabel.bytes)) {
            throw RuntimeError(ErrorKind::rejected,
                               "internal: counter " + relabel.name + " is not declared");
        }
    }
    commit.insert(at + flush.size(), deletions);
    return commit;
}

} // namespace acctc::runtime
