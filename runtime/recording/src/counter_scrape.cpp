#include "acctc/recording/counter_scrape.hpp"

#include "acctc/runtime/applied_policies.hpp"
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/counters.hpp"
#include "acctc/runtime/errors.hpp"
#include "acctc/runtime/exposition.hpp"
#include "acctc/runtime/netns.hpp"
#include "acctc/runtime/quotas.hpp"

namespace acctc::recording {
namespace {

// Failures no other policy could escape: reading anything is pointless.
bool fatal(const runtime::RuntimeError& error) {
    return error.kind() == runtime::ErrorKind::permission ||
           error.kind() == runtime::ErrorKind::netns ||
           error.kind() == runtime::ErrorKind::unsupported;
}

void append_policy_family(std::string& out, const char* name, const char* type, const char* help,
                          const std::map<std::string, std::uint64_t>& values) {
    out += std::string("# HELP ") + name + " " + help + "\n";
    out += std::string("# TYPE ") + name + " " + type + "\n";
    for (const auto& [policy, value] : values) {
        out += std::string(name) + "{policy=\"" + runtime::escape_label_value(policy) + "\"} " +
               std::to_string(value) + "\n";
    }
}

// The quotas of the policies served (nft tables only; iptables has none). A namespace that
// cannot be read shows no quotas; the counters above say why.
std::string quota_gauges_of(const std::vector<std::string>& policies, const std::string& netns) {
    try {
        const runtime::NetnsScope scope(netns);
        std::vector<runtime::QuotaReading> readings;
        for (const auto& policy : policies.empty() ? std::vector<std::string>{""} : policies) {
            auto more = runtime::read_quotas(policy);
            readings.insert(readings.end(), more.begin(), more.end());
        }
        return runtime::format_quota_prometheus(readings);
    } catch (const runtime::RuntimeError&) {
        return runtime::format_quota_prometheus({});
    }
}

} // namespace

std::string CounterScrape::quota_gauges() const {
    return quota_gauges_of(policies_, netns_);
}

CounterScrape::CounterScrape(std::vector<std::string> policies, std::string netns,
                             std::function<void(const std::string&)> log,
                             std::optional<runtime::BackendKind> backend, std::size_t max_hosts)
    : policies_(std::move(policies)), netns_(std::move(netns)), backend_(backend),
      max_hosts_(max_hosts), log_(std::move(log)) {}

void CounterScrape::note(const std::string& policy, const std::string& problem) {
    auto& last = last_problem_[policy];
    if (problem != last && log_) {
        log_(problem.empty() ? "policy " + policy + " is readable again" : problem);
    }
    last = problem;
    if (!problem.empty()) {
        ++errors_[policy];
    }
}

std::string CounterScrape::render() {
    std::vector<runtime::CounterSample> samples;
    std::map<std::string, std::uint64_t> loaded;
    std::map<std::string, std::string> gone; // policy: why it is not loaded
    const runtime::CounterSource source(netns_, backend_);
    if (policies_.empty()) {
        auto every = source.read_every();
        samples = runtime::samples_of(std::move(every.readings));
        for (const auto& sample : samples) {
            loaded[sample.policy] = 1;
        }
        for (const auto& policy : every.unloaded) {
            loaded[policy.policy] = 0;
            gone[policy.policy] = runtime::not_loaded_message(policy, netns_);
        }
    } else {
        for (const auto& policy : policies_) {
            try {
                auto more = runtime::samples_of(source.read(policy));
                samples.insert(samples.end(), std::make_move_iterator(more.begin()),
                               std::make_move_iterator(more.end()));
                loaded[policy] = 1;
            } catch (const runtime::RuntimeError& error) {
                if (fatal(error)) {
                    throw;
                }
                loaded[policy] = 0;
                note(policy, error.what());
            }
        }
    }
    for (const auto& [policy, is_loaded] : loaded) {
        if (is_loaded == 1) {
            note(policy, {});
        } else if (policies_.empty()) {
            note(policy, gone[policy]);
        }
        errors_.try_emplace(policy, 0); // a series from the start, not from the first failure
    }
    auto text = runtime::format_prometheus(samples, max_hosts_);
    text += quota_gauges();
    append_policy_family(text, "acctc_policy_loaded", "gauge",
                         "1 if the policy's counters could be read in this scrape, else 0.",
                         loaded);
    append_policy_family(text, "acctc_scrape_errors_total", "counter",
                         "Scrapes in which the policy's counters could not be read.", errors_);
    return text;
}

} // namespace acctc::recording
