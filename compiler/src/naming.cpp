#include "naming.hpp"

#include "well_known.hpp"

#include <algorithm>
#include <cctype>

namespace acctc {

std::string protocol_suffix(std::uint8_t protocol) {
    const std::string name = protocol_name(protocol);
    return (name.front() >= '0' && name.front() <= '9') ? "proto" + name : name;
}

std::string icmp_type_suffix(std::uint8_t type, bool v6) {
    std::string name = icmp_type_name(type, v6);
    if (name.front() >= '0' && name.front() <= '9') {
        return "type" + name;
    }
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
}

std::string split_counter_name(const ir::Counter& counter, std::optional<std::uint8_t> protocol,
                               std::optional<ir::Direction> direction,
                               std::optional<std::uint8_t> type) {
    std::string name = counter.name;
    const bool v6 = counter.match.icmp && counter.match.icmp->v6;
    for (const auto& split : counter.splits) {
        switch (split.kind) {
        case ir::Split::protocol:
            if (protocol) {
                name += "_" + protocol_suffix(*protocol);
            }
            break;
        case ir::Split::direction:
            if (direction) {
                name += *direction == ir::dir_in ? "_in" : "_out";
            }
            break;
        case ir::Split::type:
            if (type) {
                name += "_" + icmp_type_suffix(*type, v6);
            }
            break;
        }
    }
    return name;
}

std::vector<std::string> all_counter_names(const ir::Counter& counter) {
    std::vector<std::optional<std::uint8_t>> protocols{std::nullopt};
    std::vector<std::optional<ir::Direction>> directions{std::nullopt};
    std::vector<std::optional<std::uint8_t>> types{std::nullopt};
    for (const auto& split : counter.splits) {
        if (split.kind == ir::Split::protocol) {
            protocols.assign(split.values.begin(), split.values.end());
        } else if (split.kind == ir::Split::type) {
            types.assign(split.values.begin(), split.values.end());
        } else {
            directions.clear();
            if (counter.match.directions & ir::dir_in) {
                directions.emplace_back(ir::dir_in);
            }
            if (counter.match.directions & ir::dir_out) {
                directions.emplace_back(ir::dir_out);
            }
        }
    }
    std::vector<std::string> names;
    for (auto protocol : protocols) {
        for (auto direction : directions) {
            for (auto type : types) {
                names.push_back(split_counter_name(counter, protocol, direction, type));
            }
        }
    }
    return names;
}

std::string ingress_chain_name(const std::string& device) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string name = "ingress_";
    for (unsigned char c : device) {
        if (std::isalnum(c) || c == '_' || c == '-' || c == '.') {
            name.push_back(static_cast<char>(c));
        } else {
            name += {'/', digits[c >> 4], digits[c & 15]};
        }
    }
    return name;
}

} // namespace acctc
