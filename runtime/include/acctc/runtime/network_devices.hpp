// The network devices of a namespace, for apply's check of the devices a policy names.
#pragma once

#include <string>
#include <vector>

namespace acctc::runtime {

// Names of the devices in /run/netns/NETNS (empty: the current namespace), sorted.
// Throws RuntimeError when the namespace cannot be entered.
std::vector<std::string> network_devices(const std::string& netns);

// Whether `pattern` (a device name, or a prefix ending in '*' as `via eth*` writes it) names
// one of `devices`.
bool names_a_device(const std::string& pattern, const std::vector<std::string>& devices);

} // namespace acctc::runtime
