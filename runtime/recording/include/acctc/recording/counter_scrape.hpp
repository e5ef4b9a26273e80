// What `acctc serve` renders on every read of the counters: the samples of the policies asked
// for (or of every acctc policy), and per policy whether it could be read, so that one missing
// or unreadable policy shows as a metric instead of turning the whole scrape into a 500.
#pragma once

#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/exposition.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace acctc::recording {

class CounterScrape {
  public:
    // policies: names; empty: every acctc policy in the namespace (and those acctc applied
    // there that are gone). netns and backend as for runtime::CounterSource: the backend
    // named, else the ones acctc remembers applying each policy with. log: a policy's read
    // failing or recovering, once per change. max_hosts: host series per counter at most,
    // the rest summed as host="other" (`counters --prometheus --max-hosts`).
    CounterScrape(std::vector<std::string> policies, std::string netns,
                  std::function<void(const std::string&)> log = {},
                  std::optional<runtime::BackendKind> backend = {},
                  std::size_t max_hosts = runtime::default_max_host_series);

    // acctc_packets_total and acctc_bytes_total, then acctc_policy_loaded (gauge, 1 or 0) and
    // acctc_scrape_errors_total (reads of the policy that failed, since start) per policy.
    // Throws runtime::RuntimeError only for what no policy escapes: the namespace cannot be
    // entered, no CAP_NET_ADMIN, no nf_tables (ErrorKind::netns, permission, unsupported).
    // Not thread-safe: one render at a time.
    std::string render();

  private:
    // acctc_quota_* gauges of the quotas of those policies.
    std::string quota_gauges() const;
    void note(const std::string& policy, const std::string& error);

    std::vector<std::string> policies_;
    std::string netns_;
    std::optional<runtime::BackendKind> backend_;
    std::size_t max_hosts_;
    std::function<void(const std::string&)> log_;
    std::map<std::string, std::uint64_t> errors_;     // acctc_scrape_errors_total
    std::map<std::string, std::string> last_problem_; // to log changes only
};

} // namespace acctc::recording
