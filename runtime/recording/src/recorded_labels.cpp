#include "acctc/recording/recorded_labels.hpp"

#include "acctc/recording/output_file.hpp"
#include "acctc/recording/rrd_names.hpp"

#include <fstream>
#include <iterator>

namespace acctc::recording {
namespace {

// Room for any labels: a file has no 128-byte limit, and it holds no origin.
constexpr std::size_t labels_limit = 4096;

std::string read_all(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

} // namespace

std::filesystem::path labels_path(const std::filesystem::path& dir, std::string_view policy,
                                  std::string_view counter) {
    return policy_dir(dir, policy) / (encode_file_component(counter) + ".labels");
}

void remember_labels(const std::filesystem::path& dir, const runtime::CounterSample& sample) {
    const CounterIdentity identity{sample.family_or_name(), CounterKind::counter, sample.labels(),
                                   ""};
    // One line, ended like every text file (`cat`, `wc -l`, POSIX), which readers strip.
    const std::string text = encode_counter_comment(sample.counter, identity, labels_limit) + "\n";
    const auto file = labels_path(dir, sample.policy, sample.counter);
    if (std::filesystem::exists(file) && read_all(file) == text) {
        return;
    }
    write_output_file(file, text);
}

CounterIdentity recorded_identity(const std::filesystem::path& dir, std::string_view policy,
                                  std::string_view counter) {
    const auto file = labels_path(dir, policy, counter);
    std::error_code error;
    if (!std::filesystem::is_regular_file(file, error)) {
        return decode_counter_comment(counter, "");
    }
    auto text = read_all(file);
    if (!text.empty() && text.back() == '\n') { // files written before it had none
        text.pop_back();
    }
    return decode_counter_comment(counter, text);
}

} // namespace acctc::recording
