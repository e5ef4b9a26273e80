#include "acctc/runtime/period_report.hpp"

#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/counter_report.hpp"
#include "text_table.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string_view>

namespace acctc::runtime {
namespace {

using std::chrono::sys_seconds;

bool larger_first(const ReportRow& a, const ReportRow& b) {
    return a.total.bytes != b.total.bytes ? a.total.bytes > b.total.bytes : a.name < b.name;
}

// Sorted by bytes; beyond `top` (when set) summed into one row of kind `rest_kind`.
void keep_top(std::vector<ReportRow>& rows, std::size_t top, const char* rest_kind) {
    std::sort(rows.begin(), rows.end(), larger_first);
    if (top == 0 || rows.size() <= top) {
        return;
    }
    ReportRow rest{std::to_string(rows.size() - top) + " more", rest_kind, {}};
    for (auto it = rows.begin() + static_cast<std::ptrdiff_t>(top); it != rows.end(); ++it) {
        rest.total += it->total;
    }
    rows.resize(top);
    rows.push_back(std::move(rest));
}

// The family's, else the counter's, total named `name` in `families`; empty when none is.
std::optional<Amount> total_named(const std::vector<ReportRow>& families, const std::string& name) {
    for (const auto& family : families) {
        if (family.name == name) {
            return family.total;
        }
    }
    for (const auto& family : families) {
        for (const auto& counter : family.children) {
            if (counter.kind == "counter" && counter.name == name) {
                return counter.total;
            }
        }
    }
    return std::nullopt;
}

void fill(ReportRow& row, const std::optional<Amount>& share_total, std::optional<double> elapsed) {
    // A share of 0 B is none ("-"), not "0.0 %" of bytes that did flow.
    if (share_total && share_total->bytes != 0) {
        row.share = double(row.total.bytes) / share_total->bytes;
    }
    if (elapsed && *elapsed > 0) {
        row.projected = static_cast<std::uint64_t>(std::llround(row.total.bytes / *elapsed));
    }
    for (auto& child : row.children) {
        fill(child, share_total, elapsed);
    }
}

// The counter a series' row goes under. A per-host counter's overflow counter
// (NAME_overflow, host=overflow) is that counter's host "overflow", as `acctc counters` shows
// it, not a counter of its own: every packet the counter matched is in one of its hosts or there.
std::string counter_row_of(const SeriesKey& key) {
    constexpr std::string_view suffix = "_overflow";
    const std::string_view name = key.counter;
    if (key.host == "overflow" && name.size() > suffix.size() && name.ends_with(suffix)) {
        return std::string(name.substr(0, name.size() - suffix.size()));
    }
    return key.counter;
}

std::vector<ReportRow> rows_for(const PolicyTotals& totals, const periods::Period& period,
                                const ReportOptions& options) {
    // family -> counter -> hosts (a plain counter: one entry with an empty host)
    std::map<std::string, std::map<std::string, std::vector<ReportRow>>> tree;
    for (const auto& [key, series] : totals.series) {
        tree[series.family][counter_row_of(key)].push_back(
            {key.host, "host", total_in(series, period, options.length)});
    }
    std::vector<ReportRow> families;
    for (auto& [family_name, counters] : tree) {
        ReportRow family{family_name, "family", {}};
        for (auto& [counter_name, hosts] : counters) {
            ReportRow counter{counter_name, "counter", {}};
            for (const auto& host : hosts) {
                counter.total += host.total;
            }
            if (!(hosts.size() == 1 && hosts.front().name.empty())) {
                // The overflow is no host: it is not ranked nor counted in "N more", and
                // comes last, as in `acctc counters`.
                const auto overflow = std::find_if(
                    hosts.begin(), hosts.end(), [](const auto& h) { return h.name == "overflow"; });
                std::optional<ReportRow> overflow_row;
                if (overflow != hosts.end()) {
                    overflow_row = std::move(*overflow);
                    hosts.erase(overflow);
                }
                counter.children = std::move(hosts);
                keep_top(counter.children, options.top, "other hosts");
                if (overflow_row) {
                    counter.children.push_back(std::move(*overflow_row));
                }
            }
            family.total += counter.total;
            family.children.push_back(std::move(counter));
        }
        // A family that is one plain counter of its own name needs no second line.
        const auto& only = family.children.front();
        if (family.children.size() == 1 && only.name == family_name && only.children.empty()) {
            family.children.clear();
        }
        keep_top(family.children, 0, "");
        families.push_back(std::move(family));
    }
    keep_top(families, options.top, "other families");
    return families;
}

std::string ordinal(int day) {
    const char* suffix = (day % 10 == 1 && day != 11)   ? "st"
                         : (day % 10 == 2 && day != 12) ? "nd"
                         : (day % 10 == 3 && day != 13) ? "rd"
                                                        : "th";
    return std::to_string(day) + suffix;
}

std::string length_text(const ReportOptions& options, int first_day) {
    if (options.length == periods::Length::month && first_day != 1) {
        return "month from the " + ordinal(first_day);
    }
    return std::string(periods::name(options.length));
}

std::string percent(double share) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f %%", share * 100);
    return text;
}

void add_rows(std::vector<std::vector<std::string>>& rows, const ReportRow& row, int depth,
              const ReportOptions& options, bool current, bool exact) {
    std::vector<std::string> cells{std::string(2 * depth, ' ') + row.name,
                                   format_bytes(row.total.bytes, exact),
                                   format_count(row.total.packets, exact)};
    if (!options.share_of.empty()) {
        cells.push_back(row.share ? percent(*row.share) : "-");
    }
    if (current) {
        cells.push_back(row.projected ? format_bytes(*row.projected, exact) : "-");
    }
    rows.push_back(std::move(cells));
    for (const auto& child : row.children) {
        add_rows(rows, child, depth + 1, options, current, exact);
    }
}

nlohmann::json row_to_json(const ReportRow& row) {
    nlohmann::json json{{"name", row.name},
                        {"kind", row.kind},
                        {"packets", row.total.packets},
                        {"bytes", row.total.bytes}};
    if (row.share) {
        json["share"] = *row.share;
    }
    if (row.projected) {
        json["projected_bytes"] = *row.projected;
    }
    if (!row.children.empty()) {
        nlohmann::json children = nlohmann::json::array();
        for (const auto& child : row.children) {
            children.push_back(row_to_json(child));
        }
        json[row.kind == "family" ? "counters" : "hosts"] = std::move(children);
    }
    return json;
}

// --share-of NAME where `totals` has no family or counter NAME: the error lists those it has.
std::invalid_argument unknown_share_of(const PolicyTotals& totals, const std::string& name) {
    std::set<std::string> names;
    for (const auto& [key, series] : totals.series) {
        names.insert(series.family);
        names.insert(counter_row_of(key));
    }
    std::string listing;
    for (const auto& one : names) {
        listing += (listing.empty() ? "" : ", ") + one;
    }
    return std::invalid_argument("--share-of " + name + ": policy " + totals.policy +
                                 " has no such family or counter (it has: " +
                                 (listing.empty() ? "none yet" : listing) + ")");
}

// Whether a series of `totals` is of the family or counter `name` (rows_for's names).
bool has_row_named(const PolicyTotals& totals, const std::string& name) {
    return std::any_of(totals.series.begin(), totals.series.end(), [&](const auto& entry) {
        return entry.second.family == name || counter_row_of(entry.first) == name;
    });
}

} // namespace

PolicyReport build_report(const PolicyTotals& totals, sys_seconds now,
                          const ReportOptions& options) {
    PolicyReport report{totals.policy, options.first_day, {}};
    auto period = periods::containing(now, options.length, options.first_day);
    for (std::size_t i = 0; i <= options.history; ++i) {
        PeriodReport one{period, i == 0, i == 0 ? periods::elapsed_fraction(period, now) : 1.0,
                         rows_for(totals, period, options)};
        std::optional<Amount> share_total;
        if (!options.share_of.empty()) {
            share_total = total_named(one.families, options.share_of);
            if (!share_total && i == 0) {
                throw unknown_share_of(totals, options.share_of);
            }
        }
        for (auto& family : one.families) {
            fill(family, share_total,
                 one.current ? std::optional<double>(one.elapsed) : std::nullopt);
        }
        report.periods.push_back(std::move(one));
        period = periods::previous(period, options.length, options.first_day);
    }
    return report;
}

namespace {

// The backends whose series booked anything in the periods a report shows; else those that
// have a baseline (applied, nothing counted yet); else every backend with a series.
std::set<BackendKind> backends_shown(const PolicyTotals& totals, sys_seconds now,
                                     const ReportOptions& options) {
    std::set<BackendKind> counted;
    auto period = periods::containing(now, options.length, options.first_day);
    for (std::size_t i = 0; i <= options.history; ++i) {
        for (const auto& [key, series] : totals.series) {
            if (total_in(series, period, options.length) != Amount{}) {
                counted.insert(key.backend);
            }
        }
        period = periods::previous(period, options.length, options.first_day);
    }
    if (counted.empty()) {
        for (const auto& [key, series] : totals.series) {
            if (series.baseline) {
                counted.insert(key.backend);
            }
        }
    }
    if (counted.empty()) {
        for (const auto& [key, series] : totals.series) {
            counted.insert(key.backend);
        }
    }
    return counted;
}

} // namespace

std::vector<PolicyReport> build_reports(const PolicyTotals& totals, sys_seconds now,
                                        const ReportOptions& options) {
    const auto shown = backends_shown(totals, now, options);
    if (shown.empty()) {
        return {build_report(totals, now, options)};
    }
    std::vector<PolicyReport> reports;
    bool share_of_found = false;
    for (const auto backend : shown) {
        PolicyTotals alone{totals.policy, totals.last_booking, {}};
        for (const auto& [key, series] : totals.series) {
            if (key.backend == backend) {
                alone.series.emplace(key, series);
            }
        }
        // Shares within each backend's report: of what that backend counted of share_of.
        const bool found = options.share_of.empty() || has_row_named(alone, options.share_of);
        share_of_found = share_of_found || found;
        ReportOptions without_shares = options;
        without_shares.share_of.clear();
        auto report = build_report(alone, now, found ? options : without_shares);
        report.share_of_found = found;
        report.backend = backend;
        for (const auto other : shown) {
            if (other != backend) {
                report.also_counted_by.push_back(other);
            }
        }
        reports.push_back(std::move(report));
    }
    if (!share_of_found) {
        throw unknown_share_of(totals, options.share_of);
    }
    return reports;
}

std::string format_report(const std::vector<PolicyReport>& reports, const ReportOptions& options,
                          sys_seconds now, bool exact) {
    std::string out;
    for (const auto& report : reports) {
        out += (out.empty() ? "" : "\n");
        std::string also;
        for (const auto other : report.also_counted_by) {
            also += (also.empty() ? "" : " and ") + std::string(backend_info(other).name);
        }
        out +=
            "policy " + report.policy +
            (also.empty() ? ""
                          : " as counted by " + std::string(backend_info(*report.backend).name)) +
            ", by " + length_text(options, report.first_day) + ", now " + periods::local_text(now) +
            "\n";
        if (!also.empty()) {
            out += "also counted by " + also +
                   ", shown apart and not added: while more than one was applied, each counted the "
                   "same packets\n";
        }
        if (!report.share_of_found) {
            out += "--share-of " + options.share_of + ": " +
                   std::string(backend_info(*report.backend).name) +
                   " counted no family or counter " + options.share_of +
                   ", so this section has no shares\n";
        }
        for (const auto& period : report.periods) {
            char elapsed[64];
            std::snprintf(elapsed, sizeof elapsed, " (current, %.1f %% elapsed)",
                          period.elapsed * 100);
            out += "\n" + periods::local_text(period.period.begin) + " .. " +
                   periods::local_text(period.period.end) + (period.current ? elapsed : "") + "\n";
            std::vector<std::vector<std::string>> rows{{"COUNTER", "BYTES", "PACKETS"}};
            std::vector<bool> numeric{false, true, true};
            if (!options.share_of.empty()) {
                rows.front().push_back("OF " + options.share_of);
                numeric.push_back(true);
            }
            if (period.current) {
                rows.front().push_back("PROJECTED");
                numeric.push_back(true);
            }
            for (const auto& family : period.families) {
                add_rows(rows, family, 0, options, period.current, exact);
            }
            out += period.families.empty() ? "(nothing saved yet)\n" : render_table(rows, numeric);
        }
    }
    return out;
}

nlohmann::json report_to_json(const std::vector<PolicyReport>& reports,
                              const ReportOptions& options, sys_seconds now) {
    nlohmann::json policies = nlohmann::json::array();
    for (const auto& report : reports) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& period : report.periods) {
            nlohmann::json families = nlohmann::json::array();
            for (const auto& family : period.families) {
                families.push_back(row_to_json(family));
            }
            list.push_back({{"begin", periods::rfc3339(period.period.begin)},
                            {"end", periods::rfc3339(period.period.end)},
                            {"current", period.current},
                            {"elapsed", period.elapsed},
                            {"families", std::move(families)}});
        }
        nlohmann::json also = nlohmann::json::array();
        for (const auto other : report.also_counted_by) {
            also.push_back(std::string(backend_info(other).name));
        }
        nlohmann::json policy{{"policy", report.policy},
                              {"backend", report.backend ? nlohmann::json(std::string(
                                                               backend_info(*report.backend).name))
                                                         : nlohmann::json(nullptr)},
                              {"also_counted_by", std::move(also)},
                              {"first_day", report.first_day},
                              {"periods", std::move(list)}};
        if (!options.share_of.empty()) {
            policy["share_of_found"] = report.share_of_found;
        }
        policies.push_back(std::move(policy));
    }
    return {{"now", periods::rfc3339(now)},
            {"period", periods::name(options.length)},
            {"share_of",
             options.share_of.empty() ? nlohmann::json(nullptr) : nlohmann::json(options.share_of)},
            {"policies", std::move(policies)}};
}

} // namespace acctc::runtime
