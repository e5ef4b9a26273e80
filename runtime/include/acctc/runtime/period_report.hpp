// `acctc report`: a policy's period totals (period_totals.hpp) per family, counter and host for
// the current period and the ones before it, with shares of a chosen total and the projection
// to the period's end.
#pragma once

#include "acctc/runtime/period_totals.hpp"
#include "acctc/runtime/periods.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace acctc::runtime {

struct ReportOptions {
    periods::Length length = periods::Length::month;
    int first_day = 1;       // of a month period, 1..28
    std::size_t history = 0; // complete periods before the current one
    // A family or counter name: every row's bytes as a share of its bytes in the same period.
    std::string share_of{};
    std::size_t top = 0; // the N largest families, and hosts per counter; 0: all
};

struct ReportRow {
    std::string name; // family, counter (kernel name) or host address
    std::string kind; // "family", "counter", "host", "other hosts"
    Amount total;
    std::optional<double> share{};            // of the share_of total, 0..1
    std::optional<std::uint64_t> projected{}; // bytes at the period's end, current period only
    std::vector<ReportRow> children{};        // a family's counters, a counter's hosts
};

struct PeriodReport {
    periods::Period period;
    bool current = false;
    double elapsed = 1; // fraction of the period passed (1 for a past one)
    std::vector<ReportRow> families;
};

struct PolicyReport {
    std::string policy;
    int first_day = 1;                 // the one its months were cut with
    std::vector<PeriodReport> periods; // the current one first, then older ones
    // The backend whose counts these are; none when no backend counted in these periods.
    std::optional<BackendKind> backend{};
    // The other backends that counted the policy in these periods, each with a report of its
    // own: never added up, since while two were applied both counted the same packets.
    std::vector<BackendKind> also_counted_by{};
    // False when --share-of names nothing this backend counted (only another did): its rows
    // have no shares, and the report says so. build_report never makes one false: it throws.
    bool share_of_found = true;
};

// Throws std::invalid_argument when share_of names no family or counter of the policy.
PolicyReport build_report(const PolicyTotals& totals, std::chrono::sys_seconds now,
                          const ReportOptions& options);
// One report per backend that counted the policy in the periods shown (one, the usual case;
// two after a move from one backend to another), each of that backend's series alone. Shares
// are of share_of within each report; one whose backend counted no such family or counter has
// none (share_of_found false). Throws std::invalid_argument when no backend counted it.
std::vector<PolicyReport> build_reports(const PolicyTotals& totals, std::chrono::sys_seconds now,
                                        const ReportOptions& options);

// The text: per period a heading and a table FAMILY/COUNTER BYTES PACKETS [SHARE] [PROJECTED].
std::string format_report(const std::vector<PolicyReport>& reports, const ReportOptions& options,
                          std::chrono::sys_seconds now, bool exact);
nlohmann::json report_to_json(const std::vector<PolicyReport>& reports,
                              const ReportOptions& options, std::chrono::sys_seconds now);

} // namespace acctc::runtime
