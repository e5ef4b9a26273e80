#include "acctc/testbench/offloads.hpp"

#include <cstring>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

namespace acctc::testbench {

void disable_offloads(const NamedNetns& netns, const std::string& interface) {
    UniqueFd control;
    {
        ScopedNetns inside(netns);
        control.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    }
    if (!control.valid()) {
        throw_errno("socket for ethtool in " + netns.name());
    }
    for (std::uint32_t command : {ETHTOOL_STSO, ETHTOOL_SGSO, ETHTOOL_SGRO}) {
        ethtool_value value{};
        value.cmd = command;
        value.data = 0;
        ifreq request{};
        std::strncpy(request.ifr_name, interface.c_str(), IFNAMSIZ - 1);
        request.ifr_data = reinterpret_cast<char*>(&value);
        // EOPNOTSUPP: the device has no such offload to turn off.
        if (::ioctl(control.get(), SIOCETHTOOL, &request) != 0 && errno != EOPNOTSUPP) {
            throw_errno("ethtool offload off on " + interface + " in " + netns.name());
        }
    }
}

} // namespace acctc::testbench
