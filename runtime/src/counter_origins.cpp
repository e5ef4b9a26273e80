#include "counter_origins.hpp"

#include "nft_inventory.hpp"
#include "run_files.hpp"

#include <algorithm>
#include <optional>
#include <string_view>

namespace acctc::runtime {
namespace {

constexpr std::string_view format_line = "acctc counter origins 1";
constexpr std::size_t max_file_bytes = 64U << 20;

std::string file_of(const std::string& table) {
    return table + ".origins";
}

} // namespace

void record_origins(NftNetlink& netlink, const std::string& table,
                    const std::map<std::string, std::string>& origins) {
    const auto shape = table_shape(netlink, table);
    if (!shape) {
        forget_origins(table);
        return;
    }
    std::string text = std::string(format_line) + "\ntable " + std::to_string(shape->handle) + "\n";
    for (const auto& [name, origin] : origins) {
        if (!name.empty() && storable_field(name) &&
            storable_field(origin)) { // others show the kernel's
            text += name + "\t" + origin + "\n";
        }
    }
    if (text.size() > max_file_bytes) {
        forget_origins(table);
        return;
    }
    write_run_file(run_directory(), file_of(table), text);
}

std::unordered_map<std::string, std::string> recorded_origins(NftNetlink& netlink,
                                                              const std::string& table) {
    const auto text = read_run_file(run_directory(), file_of(table), max_file_bytes);
    if (!text) {
        return {};
    }
    // Split in place: 100,000 origins through an istringstream and a std::map cost a twentieth
    // of a read of as many counters.
    const std::string_view all = *text;
    std::size_t at = 0;
    const auto next_line = [&]() -> std::optional<std::string_view> { // as std::getline
        if (at >= all.size()) {
            return std::nullopt;
        }
        const std::size_t end = std::min(all.find('\n', at), all.size());
        const auto line = all.substr(at, end - at);
        at = end + 1;
        return line;
    };
    const auto header = next_line();
    const auto handle = next_line();
    if (!header || *header != format_line || !handle || !handle->starts_with("table ")) {
        return {};
    }
    const auto shape = table_shape(netlink, table);
    if (!shape || *handle != "table " + std::to_string(shape->handle)) {
        return {};
    }
    std::unordered_map<std::string, std::string> origins;
    origins.reserve(static_cast<std::size_t>(std::count(all.begin() + at, all.end(), '\n')) + 1);
    while (const auto line = next_line()) {
        const std::size_t tab = line->find('\t');
        if (tab == std::string_view::npos || tab == 0) {
            return {};
        }
        origins.insert_or_assign(std::string(line->substr(0, tab)),
                                 std::string(line->substr(tab + 1)));
    }
    return origins;
}

void forget_origins(const std::string& table) {
    remove_run_file(run_directory(), file_of(table));
}

} // namespace acctc::runtime
