#include "acctc/recording/recorder.hpp"

#include "acctc/recording/directory_lock.hpp"
#include "acctc/recording/recorded_labels.hpp"
#include "acctc/recording/rrd_file.hpp"
#include "acctc/recording/rrd_names.hpp"

#include <map>

namespace acctc::recording {
namespace {

RecordedCounter record_one(const std::filesystem::path& dir, const runtime::CounterSample& sample,
                           const RrdLayout& layout, std::time_t now) {
    RecordedCounter result{sample.policy,
                           sample.counter,
                           rrd_path(dir, sample.policy, sample.counter),
                           RecordedCounter::Outcome::updated,
                           {}};
    try {
        if (!std::filesystem::exists(result.file)) {
            // One second before `now`, so this first reading is stored; its rate is unknown
            // because DERIVE needs two readings.
            create_rrd(result.file, layout,
                       {bytes_ds_name(sample.counter), packets_ds_name(sample.counter)}, now - 1);
            result.outcome = RecordedCounter::Outcome::created;
        }
        const std::time_t last = last_update(result.file);
        if (now <= last) {
            result.outcome = RecordedCounter::Outcome::skipped;
            result.detail = "already recorded at " + std::to_string(last);
            return result;
        }
        update_rrd(result.file, now, {sample.bytes, sample.packets});
        remember_labels(dir, sample);
    } catch (const std::exception& error) {
        result.outcome = RecordedCounter::Outcome::failed;
        result.detail = error.what();
    }
    return result;
}

} // namespace

std::vector<RecordedCounter> record_samples(const std::filesystem::path& dir,
                                            const std::vector<runtime::CounterSample>& samples,
                                            const RecordOptions& options, std::time_t now) {
    validate(options.layout);
    std::map<std::string, std::vector<const runtime::CounterSample*>> by_policy;
    for (const auto& sample : samples) {
        by_policy[sample.policy].push_back(&sample);
    }
    std::vector<RecordedCounter> results;
    for (const auto& [policy, policy_samples] : by_policy) {
        const auto directory = policy_dir(dir, policy);
        std::filesystem::create_directories(directory);
        const DirectoryLock lock(directory, options.lock_patience);
        for (const auto* sample : policy_samples) {
            results.push_back(record_one(dir, *sample, options.layout, now));
        }
    }
    return results;
}

} // namespace acctc::recording
