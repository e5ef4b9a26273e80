#include "acctc/runtime/bpf_host_probe.hpp"

#include "acctc/runtime/bpf.hpp"
#include "acctc/runtime/errors.hpp"
#include "acctc/runtime/netns.hpp"
#include "acctc/runtime/nft_context.hpp"
#include "bpf_policy_hosts.hpp"
#include "unique_fd.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdexcept>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <utility>

namespace acctc::runtime {
namespace {

// Link types and the bytes a TCX program sees in front of the IP header. At ingress the kernel
// pushes the MAC header back for the program (tcx_run with needs_mac: mac_len bytes, 0 where the
// driver set none); at egress the packet starts with what header_ops->create wrote (nothing on a
// device without header_ops).
struct LinkType {
    unsigned short type;
    unsigned header;
};
constexpr LinkType link_types[] = {
    {ARPHRD_ETHER, 14}, // veth, bridge, bond, vlan, most NICs: eth_header
    {ARPHRD_NONE, 0},   // tun (IFF_TUN), WireGuard: no header_ops, IP from the first byte
};

unsigned short link_type(const std::string& device) {
    if (device.size() >= IFNAMSIZ) {
        throw RuntimeError(ErrorKind::rejected, "no device " + device);
    }
    const UniqueFd socket(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ifreq request{};
    std::memcpy(request.ifr_name, device.data(), device.size());
    if (!socket.valid() || ::ioctl(socket.get(), SIOCGIFHWADDR, &request) != 0) {
        const int error = errno;
        throw RuntimeError(error == ENODEV ? ErrorKind::rejected : ErrorKind::system,
                           "device " + device + ": " + std::strerror(error));
    }
    return request.ifr_hwaddr.sa_family;
}

// Whether the namespace translates addresses: an nft chain of type nat (nft's own or
// iptables-nft's), or iptables-legacy's nat table. A TCX program sees the addresses as they are
// on the device: at egress after source NAT, at ingress before destination NAT and before a
// reply is translated back, where nft's rules (and the nft sets) see the untranslated ones.
bool translates_addresses() {
    NftContext context;
    const NftResult chains = context.run("list chains");
    if (chains.ok && chains.output.find("type nat ") != std::string::npos) {
        return true;
    }
    for (const char* names :
         {"/proc/thread-self/net/ip_tables_names", "/proc/thread-self/net/ip6_tables_names"}) {
        std::ifstream file(names);
        std::string table;
        while (std::getline(file, table)) {
            if (table == "nat") {
                return true;
            }
        }
    }
    return false;
}

// Whether NAT changes what a program on this hook keyed so sees, and how messages name it: one
// row per key.
struct KeyFacts {
    BpfKey key;
    const char* name;
    bool translated_at_ingress; // destination NAT, and replies translated back
    bool translated_at_egress;  // source NAT
};
constexpr KeyFacts key_facts[] = {
    {BpfKey::source_address, "source addresses", false, true},
    {BpfKey::destination_address, "destination addresses", true, false},
    {BpfKey::destination_port, "destination ports", true, false},
};

const KeyFacts& facts(BpfKey key) {
    for (const KeyFacts& row : key_facts) {
        if (row.key == key) {
            return row;
        }
    }
    throw std::logic_error("BpfKey without a row in key_facts");
}

// Why the programs cannot count on their devices and hooks, or nothing.
std::string refusal(int program_fd, const std::vector<BpfProgramSite>& programs, bool nat) {
    for (const BpfProgramSite& program : programs) {
        const KeyFacts& key = facts(program.key);
        if (nat && (program.hook == BpfHook::ingress ? key.translated_at_ingress
                                                     : key.translated_at_egress)) {
            return "the namespace translates addresses (a nat chain or table) and a program on " +
                   program.device + " would see the " + key.name + " translated";
        }
    }
    for (const BpfProgramSite& program : programs) {
        const auto header = tcx_link_header(program.device);
        if (!header) {
            return "device " + program.device + " has link type " +
                   std::to_string(link_type(program.device)) +
                   ", neither Ethernet nor without a link-layer header";
        }
        const unsigned index = ::if_nametoindex(program.device.c_str());
        if (index == 0) {
            return "no device " + program.device;
        }
        // Attached and, with the descriptor, detached again: TCX is there and may be used.
        bpf::attach_tcx(program_fd, static_cast<int>(index), program.hook == BpfHook::ingress);
    }
    return {};
}

} // namespace

std::optional<unsigned> tcx_link_header(const std::string& device) {
    const unsigned short type = link_type(device);
    for (const auto& known : link_types) {
        if (known.type == type) {
            return known.header;
        }
    }
    return std::nullopt;
}

std::vector<BpfProgramSite> bpf_program_sites(const BpfHostCounterPlan& counter) {
    const auto key = [](BpfAddress address) {
        return address == BpfAddress::source ? BpfKey::source_address : BpfKey::destination_address;
    };
    std::vector<BpfProgramSite> out{{counter.device, counter.hook, key(counter.key)}};
    if (counter.egress_key) {
        out.push_back({counter.device, BpfHook::egress, key(*counter.egress_key)});
    }
    return out;
}

std::vector<BpfProgramSite> bpf_program_sites(const BpfClassifyPlan& classify) {
    return {{classify.device, classify.hook, classify.key}};
}

std::vector<std::string> bpf_refusals(const std::string& netns,
                                      const std::vector<std::vector<BpfProgramSite>>& users) {
    std::vector<std::string> out(users.size());
    if (users.empty()) {
        return out;
    }
    const NetnsScope scope(netns);
    std::string everywhere; // a refusal that holds for every user
    UniqueFd program;
    try {
        bpf::namespace_dir(true); // the pins' bpffs: refused where none is mounted
        program = bpf::pass_program("acctc_probe");
    } catch (const std::exception& error) {
        everywhere = error.what();
    }
    bool nat = false;
    try {
        nat = translates_addresses();
    } catch (const std::exception& error) {
        everywhere = error.what();
    }
    for (std::size_t i = 0; i < users.size(); ++i) {
        if (!everywhere.empty()) {
            out[i] = everywhere;
            continue;
        }
        try {
            out[i] = refusal(program.get(), users[i], nat);
        } catch (const std::exception& error) {
            out[i] = error.what();
        }
    }
    return out;
}

} // namespace acctc::runtime
