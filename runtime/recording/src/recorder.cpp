#include "acctc/recording/recorder.hpp"

#include "acctc/recording/directory_lock.hpp"
#include "acctc/recording/recorded_labels.hpp"
#include "acctc/recording/rrd_file.hpp"
#include "acctc/recording/rrd_names.hpp"

#include <algorithm>
#include <cctype>
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

// librrd creates NAME.rrd by writing NAME.rrdXXXXXX (mkstemp) and renaming it; a process killed
// in between leaves that file forever. Under the directory lock no acctc writer is creating one,
// so every regular file of that shape is such a leftover (symlinks and anything else stay).
void remove_stale_temporaries(const std::filesystem::path& directory) {
    std::error_code error;
    for (std::filesystem::directory_iterator entries(directory, error), end;
         !error && entries != end; entries.increment(error)) {
        const auto name = entries->path().filename().string();
        const auto at = name.rfind(".rrd");
        const bool shaped =
            at != std::string::npos && at > 0 && name.size() == at + 4 + 6 &&
            std::all_of(name.begin() + static_cast<long>(at) + 4, name.end(),
                        [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
        std::error_code ignored;
        if (shaped && entries->is_regular_file(ignored) && !entries->is_symlink(ignored)) {
            std::filesystem::remove(entries->path(), ignored);
        }
    }
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
        remove_stale_temporaries(directory);
        for (const auto* sample : policy_samples) {
            results.push_back(record_one(dir, *sample, options.layout, now));
        }
    }
    return results;
}

} // namespace acctc::recording
