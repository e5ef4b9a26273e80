#include "acctc/runtime/network_devices.hpp"

#include "acctc/runtime/errors.hpp"
#include "acctc/runtime/netns.hpp"

#include <algorithm>
#include <cerrno>
#include <memory>
#include <net/if.h>

namespace acctc::runtime {

std::vector<std::string> network_devices(const std::string& netns) {
    const NetnsScope scope(netns);
    // if_nameindex asks the kernel over a socket opened now: in the namespace just entered.
    const std::unique_ptr<struct if_nameindex, decltype(&if_freenameindex)> list(::if_nameindex(),
                                                                                 &if_freenameindex);
    if (!list) {
        throw_system_error("cannot list network devices", errno);
    }
    std::vector<std::string> names;
    for (const auto* entry = list.get(); entry->if_index != 0; ++entry) {
        names.emplace_back(entry->if_name);
    }
    std::sort(names.begin(), names.end());
    return names;
}

bool names_a_device(const std::string& pattern, const std::vector<std::string>& devices) {
    if (!pattern.empty() && pattern.back() == '*') {
        const auto prefix = pattern.substr(0, pattern.size() - 1);
        return std::any_of(devices.begin(), devices.end(),
                           [&](const std::string& name) { return name.starts_with(prefix); });
    }
    return std::find(devices.begin(), devices.end(), pattern) != devices.end();
}

} // namespace acctc::runtime
