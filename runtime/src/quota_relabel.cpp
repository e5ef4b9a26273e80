#include "quota_relabel.hpp"

#include "acctc/runtime/errors.hpp"
#include "reload_plan.hpp"

#include <map>
#include <tuple>

namespace acctc::runtime {
namespace {

// The identity that matters: everything but the origin.
auto key(const QuotaIdentity& identity) {
    return std::tie(identity.quota, identity.role, identity.period, identity.start_day,
                    identity.drop);
}

} // namespace

std::vector<QuotaRelabel> quotas_to_relabel(const std::vector<QuotaEvent>& live,
                                            const std::string& definition) {
    std::vector<QuotaRelabel> out;
    const std::string head = "\tquota ";
    for (const auto& object : live) {
        const std::string declared = head + object.object + " {\n";
        const std::size_t at = definition.find(declared);
        if (at == std::string::npos || (at != 0 && definition[at - 1] != '\n')) {
            continue; // not declared again: the reload's cleanup deletes it
        }
        const std::string marker = "\t\tcomment \"";
        const std::size_t comment_begin = definition.find(marker, at) + marker.size();
        const std::size_t comment_end = definition.find('"', comment_begin);
        if (comment_begin < marker.size() || comment_end == std::string::npos) {
            continue;
        }
        const auto next = decode_quota_comment(
            object.object, definition.substr(comment_begin, comment_end - comment_begin));
        if (next && key(*next) != key(object.identity)) {
            out.push_back({object.object, object.consumed});
        }
    }
    return out;
}

std::string with_quota_relabels(std::string commit, const std::string& table,
                                const std::vector<QuotaRelabel>& relabels) {
    if (relabels.empty()) {
        return commit;
    }
    const std::string flush = "flush table inet " + table + "\n";
    const std::size_t at = commit.find(flush);
    if (at == std::string::npos) {
        throw RuntimeError(ErrorKind::rejected, "internal: a quota relabel needs a reload commit");
    }
    std::string deletions;
    for (const auto& relabel : relabels) {
        deletions += "delete quota inet " + table + " " + identifier(relabel.name) + "\n";
        const std::string declared = "\tquota " + relabel.name + " {\n";
        const std::size_t where = commit.find(declared);
        const std::size_t line_end =
            where == std::string::npos ? where : commit.find('\n', where + declared.size());
        if (line_end == std::string::npos) {
            throw RuntimeError(ErrorKind::rejected,
                               "internal: quota " + relabel.name + " is not declared");
        }
        // "\t\tover N bytes" -> "\t\tover N bytes used C bytes"
        commit.insert(line_end, " used " + std::to_string(relabel.used) + " bytes");
    }
    commit.insert(at + flush.size(), deletions);
    return commit;
}

} // namespace acctc::runtime
