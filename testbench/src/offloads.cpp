#include "acctc/testbench/offloads.hpp"

#include <cstring>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <utility>

namespace acctc::testbench {

namespace {

void set_offloads(const NamedNetns& netns, const std::string& interface, bool tso, bool gso,
                  bool gro) {
    UniqueFd control;
    {
        ScopedNetns inside(netns);
        control.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    }
    if (!control.valid()) {
        throw_errno("socket for ethtool in " + netns.name());
    }
    for (auto [command, on] :
         {std::pair{ETHTOOL_STSO, tso}, {ETHTOOL_SGSO, gso}, {ETHTOOL_SGRO, gro}}) {
        ethtool_value value{};
        value.cmd = command;
        value.data = on ? 1 : 0;
        ifreq request{};
        std::strncpy(request.ifr_name, interface.c_str(), IFNAMSIZ - 1);
        request.ifr_data = reinterpret_cast<char*>(&value);
        // EOPNOTSUPP: the device has no such offload to switch.
        if (::ioctl(control.get(), SIOCETHTOOL, &request) != 0 && errno != EOPNOTSUPP) {
            throw_errno("ethtool offloads on " + interface + " in " + netns.name());
        }
    }
}

} // namespace

void disable_offloads(const NamedNetns& netns, const std::string& interface) {
    set_offloads(netns, interface, false, false, false);
}

void card_offloads(const NamedNetns& netns, const std::string& interface) {
    set_offloads(netns, interface, false, true, true);
}

} // namespace acctc::testbench
