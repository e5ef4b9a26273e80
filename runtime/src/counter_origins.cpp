#include "counter_origins.hpp"

#include "nft_inventory.hpp"
#include "run_files.hpp"

#include <sstream>

namespace acctc::runtime {
namespace {

constexpr std::string_view format_line = "acctc counter origins 1";
constexpr std::size_t max_file_bytes = 64U << 20;

std::string file_of(const std::string& table) {
    return table + ".origins";
}

bool storable(const std::string& text) {
    return text.find_first_of(std::string("\n\t\0", 3)) == std::string::npos;
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
        if (!name.empty() && storable(name) && storable(origin)) { // others show the kernel's
            text += name + "\t" + origin + "\n";
        }
    }
    if (text.size() > max_file_bytes) {
        forget_origins(table);
        return;
    }
    write_run_file(run_directory(), file_of(table), text);
}

std::map<std::string, std::string> recorded_origins(NftNetlink& netlink, const std::string& table) {
    const auto text = read_run_file(run_directory(), file_of(table), max_file_bytes);
    if (!text) {
        return {};
    }
    std::istringstream in(*text);
    std::string line;
    if (!std::getline(in, line) || line != format_line || !std::getline(in, line) ||
        !line.starts_with("table ")) {
        return {};
    }
    const auto shape = table_shape(netlink, table);
    if (!shape || line != "table " + std::to_string(shape->handle)) {
        return {};
    }
    std::map<std::string, std::string> origins;
    while (std::getline(in, line)) {
        const std::size_t tab = line.find('\t');
        if (tab == std::string::npos || tab == 0) {
            return {};
        }
        origins[line.substr(0, tab)] = line.substr(tab + 1);
    }
    return origins;
}

void forget_origins(const std::string& table) {
    remove_run_file(run_directory(), file_of(table));
}

} // namespace acctc::runtime
