#include "acctc/runtime/host_selection.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>

namespace acctc::runtime {

std::optional<std::string> canonical_host_address(std::string_view text) {
    const auto is_mac = [&] {
        for (std::size_t i = 0; i < text.size(); ++i) {
            if (i % 3 == 2 ? text[i] != ':' : !std::isxdigit(static_cast<unsigned char>(text[i]))) {
                return false;
            }
        }
        return text.size() == 17;
    };
    if (is_mac()) {
        std::string mac(text);
        std::transform(mac.begin(), mac.end(), mac.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        return mac;
    }
    const std::string address(text);
    unsigned char raw[16];
    char out[INET6_ADDRSTRLEN];
    const int family = address.find(':') == std::string::npos ? AF_INET : AF_INET6;
    if (inet_pton(family, address.c_str(), raw) != 1 || !inet_ntop(family, raw, out, sizeof out)) {
        return std::nullopt;
    }
    return out;
}

std::vector<CounterReading> select_readings(std::vector<CounterReading> readings,
                                            const CounterSelection& selection) {
    if (!selection.hosts.empty()) {
        std::erase_if(readings, [&](const CounterReading& r) {
            return std::find(selection.hosts.begin(), selection.hosts.end(),
                             r.sample.label(Dimension::host)) == selection.hosts.end();
        });
    }
    if (selection.sort) {
        const auto value = [&](const CounterReading& r) {
            return *selection.sort == SortKey::bytes ? r.sample.bytes : r.sample.packets;
        };
        std::stable_sort(readings.begin(), readings.end(),
                         [&](const auto& a, const auto& b) { return value(a) > value(b); });
    }
    if (selection.top && readings.size() > *selection.top) {
        readings.resize(*selection.top);
    }
    return readings;
}

} // namespace acctc::runtime
