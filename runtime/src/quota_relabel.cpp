#include "quota_relabel.hpp"

#include "acctc/runtime/errors.hpp"
#include "nft_host_counters.hpp"
#include "reload_plan.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <tuple>

namespace acctc::runtime {
namespace {

// The identity that matters: everything but the origin.
auto key(const QuotaIdentity& identity) {
    return std::tie(identity.quota, identity.role, identity.period, identity.start_day,
                    identity.drop);
}

// The comment of the declaration starting at `at` ("\t\tcomment \"...\"" before its "\t}").
std::optional<std::string> declared_comment(const std::string& definition, std::size_t at) {
    const std::string marker = "\t\tcomment \"";
    const std::size_t end = definition.find("\n\t}", at);
    const std::size_t begin = definition.find(marker, at);
    if (begin == std::string::npos || begin > end) {
        return std::nullopt;
    }
    const std::size_t comment_begin = begin + marker.size();
    const std::size_t comment_end = definition.find('"', comment_begin);
    if (comment_end == std::string::npos) {
        return std::nullopt;
    }
    return definition.substr(comment_begin, comment_end - comment_begin);
}

// The declaration of quota `name` in `text` gains "used N bytes": "\t\tover N bytes" ->
// "\t\tover N bytes used C bytes".
void declare_used(std::string& text, const std::string& name, std::uint64_t used) {
    const std::string declared = "\tquota " + name + " {\n";
    const std::size_t where = text.find(declared);
    const std::size_t line_end =
        where == std::string::npos ? where : text.find('\n', where + declared.size());
    if (line_end == std::string::npos) {
        throw RuntimeError(ErrorKind::rejected, "internal: quota " + name + " is not declared");
    }
    text.insert(line_end, " used " + std::to_string(used) + " bytes");
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
        const auto comment = declared_comment(definition, at);
        if (!comment) {
            continue;
        }
        const auto next = decode_quota_comment(object.object, *comment);
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
        declare_used(commit, relabel.name, relabel.used);
    }
    commit.insert(at + flush.size(), deletions);
    return commit;
}

std::string with_quota_starts(std::string definition, const std::vector<QuotaEvent>& live,
                              const QuotaStarts& starts) {
    for (const auto& [name, used] : starts.objects) {
        const bool kept = std::any_of(live.begin(), live.end(), [&](const QuotaEvent& object) {
            return object.object == name;
        });
        if (!kept && definition.find("\tquota " + name + " {\n") != std::string::npos) {
            declare_used(definition, name, used);
        }
    }
    return definition;
}

} // namespace acctc::runtime

namespace acctc::runtime {

void recreate_relabelled_quota_sets(SetPlan& plan, const std::vector<CommentedSet>& live,
                                    const std::string& definition) {
    for (const auto& set : live) {
        if (plan.keep.count(set.name) == 0) {
            continue;
        }
        const std::size_t at = definition.find("\n\tset " + set.name + " {\n");
        const auto comment =
            at == std::string::npos ? std::nullopt : declared_comment(definition, at + 1);
        // The quota's name is the comment's first q= bytes of the set's name.
        const auto name_of = [&](const std::string& text) -> std::optional<QuotaIdentity> {
            const std::size_t q = text.find(" q=");
            const std::size_t length =
                q == std::string::npos ? 0 : std::strtoul(text.c_str() + q + 3, nullptr, 10);
            if (length == 0 || length > set.name.size()) {
                return std::nullopt;
            }
            return decode_quota_comment(set.name.substr(0, length), text);
        };
        const auto before = name_of(set.comment);
        const auto after = comment ? name_of(*comment) : std::nullopt;
        if (!before || !after || (key(*before) == key(*after) && before->warn == after->warn)) {
            continue;
        }
        plan.keep.erase(set.name);
        plan.kept.erase(std::remove(plan.kept.begin(), plan.kept.end(), set.name), plan.kept.end());
        plan.replaced.emplace_back(set.name, "its quota's period, warning level or enforcement "
                                             "changed");
        std::sort(plan.replaced.begin(), plan.replaced.end());
    }
}

} // namespace acctc::runtime
