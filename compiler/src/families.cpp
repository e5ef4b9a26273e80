#include "families.hpp"

#include "well_known.hpp"
#include "wire_differences.hpp"

#include <algorithm>

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

std::optional<rules::Direction> family_direction(std::optional<ir::Direction> direction) {
    if (!direction) {
        return std::nullopt;
    }
    return *direction == ir::dir_in ? rules::Direction::in : rules::Direction::out;
}

const char* opener_text(rules::Opener opener) {
    return opener == rules::Opener::local ? "local" : "remote";
}

namespace {

std::vector<rules::Direction> directions_of(unsigned mask) {
    std::vector<rules::Direction> out;
    if (mask & ir::dir_in) {
        out.push_back(rules::Direction::in);
    }
    if (mask & ir::dir_out) {
        out.push_back(rules::Direction::out);
    }
    return out;
}

const char* direction_text(rules::Direction d) {
    return d == rules::Direction::in ? "in" : "out";
}

bool has(const rules::CounterFamily& family, Dimension d) {
    return std::find(family.dimensions.begin(), family.dimensions.end(), d) !=
           family.dimensions.end();
}

} // namespace

rules::CounterFamily counter_family(const ir::Counter& counter) {
    rules::CounterFamily family;
    family.name = counter.name;
    family.origin = counter.origin;
    family.icmp_v6 = counter.match.icmp && counter.match.icmp->v6;
    for (const auto& split : counter.splits) {
        switch (split.kind) {
        case ir::Split::protocol:
            family.dimensions.push_back(Dimension::protocol);
            family.protocols = split.values;
            break;
        case ir::Split::direction:
            family.dimensions.push_back(Dimension::direction);
            family.directions = directions_of(counter.match.directions);
            break;
        case ir::Split::type:
            family.dimensions.push_back(Dimension::icmp_type);
            family.icmp_types = split.values;
            break;
        case ir::Split::host:
            family.dimensions.push_back(Dimension::host);
            break;
        case ir::Split::opener:
            family.dimensions.push_back(Dimension::opener);
            family.openers = {rules::Opener::local, rules::Opener::remote};
            break;
        }
    }
    return family;
}

rules::CounterFamily classify_family(const ir::Classify& classify) {
    rules::CounterFamily family;
    family.name = classify.name;
    family.origin = classify.origin;
    family.dimensions.push_back(Dimension::class_);
    family.members.reserve(classify.classes.size() + (classify.otherwise ? 1 : 0));
    for (const auto& cls : classify.classes) {
        family.members.push_back({cls.label, cls.origin, {}});
    }
    if (classify.otherwise) {
        family.members.push_back({classify.otherwise->label, classify.otherwise->origin, {}});
    }
    if (classify.split_direction) {
        family.dimensions.push_back(Dimension::direction);
        family.directions = {rules::Direction::in, rules::Direction::out};
    }
    return family;
}

std::string counter_name(const rules::CounterFamily& family, const Coordinate& at) {
    std::string name = family.name;
    for (Dimension d : family.dimensions) {
        switch (d) {
        case Dimension::direction:
            if (at.direction) {
                name += std::string("_") + direction_text(*at.direction);
            }
            break;
        case Dimension::protocol:
            if (at.protocol) {
                name += "_" + protocol_suffix(*at.protocol);
            }
            break;
        case Dimension::icmp_type:
            if (at.icmp_type) {
                name += "_" + icmp_type_suffix(*at.icmp_type, family.icmp_v6);
            }
            break;
        case Dimension::class_:
            if (at.member) {
                name += '_';
                name += family.members[*at.member].label;
            }
            break;
        case Dimension::opener:
            if (at.opener) {
                name += std::string("_") + opener_text(*at.opener);
            }
            break;
        case Dimension::host: // values appear at run time: named below
            break;
        }
    }
    // The one static object of a host dimension, last whatever the order of the splits
    // (lan_in_overflow beside the set lan_in_hosts_v4).
    if (at.overflow) {
        name += std::string("_") + host_overflow_label;
    }
    return name;
}

rules::CounterObject counter_object(const rules::CounterFamily& family, const Coordinate& at) {
    rules::CounterObject object;
    object.name = counter_name(family, at);
    CounterIdentity& identity = object.identity;
    identity.family = family.name;
    identity.kind = family.kind;
    identity.origin = at.member ? family.members[*at.member].origin : family.origin;
    // Labels in Dimension order, whatever order the suffixes were written in.
    if (at.direction && has(family, Dimension::direction)) {
        identity.labels.push_back({Dimension::direction, direction_text(*at.direction)});
    }
    if (at.protocol && has(family, Dimension::protocol)) {
        identity.labels.push_back({Dimension::protocol, protocol_name(*at.protocol)});
    }
    if (at.icmp_type && has(family, Dimension::icmp_type)) {
        identity.labels.push_back(
            {Dimension::icmp_type, icmp_type_name(*at.icmp_type, family.icmp_v6)});
    }
    if (at.member && has(family, Dimension::class_)) {
        identity.labels.push_back({Dimension::class_, family.members[*at.member].label});
    }
    if (at.opener && has(family, Dimension::opener)) {
        identity.labels.push_back({Dimension::opener, opener_text(*at.opener)});
    }
    if (at.overflow && has(family, Dimension::host)) {
        identity.labels.push_back({Dimension::host, host_overflow_label});
    }
    const rules::WireSides& sides = at.member ? family.members[*at.member].wire : family.wire;
    const bool split = at.direction && has(family, Dimension::direction);
    // The joined side only when the counter has no direction: a copy of its device lists for
    // each of 100,000 classes otherwise.
    std::optional<rules::WireSide> joined;
    if (!split) {
        joined = sides.arriving.joined(sides.leaving);
    }
    const rules::WireSide& side = joined                                  ? *joined
                                  : *at.direction == rules::Direction::in ? sides.arriving
                                                                          : sides.leaving;
    identity.wire = at.protocol && has(family, Dimension::protocol)
                        ? for_protocol(side.differences, *at.protocol)
                        : side.differences;
    if (identity.wire.has(WireDifference::receive_offload)) {
        identity.receive_devices =
            joined ? std::move(joined->receive_devices) : side.receive_devices;
    }
    return object;
}

std::string host_set_name(const rules::CounterFamily& family, const Coordinate& at, HostKey key,
                          std::optional<unsigned> part) {
    Coordinate base = at;
    base.overflow = false;
    return counter_name(family, base) +
           (key == HostKey::mac    ? "_hosts_mac"
            : key == HostKey::ipv6 ? "_hosts_v6"
                                   : "_hosts_v4") +
           (part ? "_p" + std::to_string(*part) : std::string());
}

std::vector<Coordinate> coordinates(const rules::CounterFamily& family) {
    // A dimension the family lacks contributes one empty value.
    auto values = [&]<typename T>(Dimension d, const std::vector<T>& of) {
        std::vector<std::optional<T>> out;
        if (has(family, d)) {
            out.assign(of.begin(), of.end());
        } else {
            out.emplace_back();
        }
        return out;
    };
    std::vector<std::size_t> indices(family.members.size());
    for (std::size_t i = 0; i < indices.size(); ++i) {
        indices[i] = i;
    }
    // Made once, not once per member of a 100,000-class family.
    const auto protocols = values(Dimension::protocol, family.protocols);
    const auto directions = values(Dimension::direction, family.directions);
    const auto types = values(Dimension::icmp_type, family.icmp_types);
    const auto openers = values(Dimension::opener, family.openers);
    const bool overflow = has(family, Dimension::host);
    std::vector<Coordinate> out;
    out.reserve(coordinate_count(family));
    for (auto member : values(Dimension::class_, indices)) {
        for (auto protocol : protocols) {
            for (auto direction : directions) {
                for (auto type : types) {
                    for (auto opener : openers) {
                        out.push_back({direction, protocol, type, member, overflow, opener});
                    }
                }
            }
        }
    }
    return out;
}

std::size_t coordinate_count(const rules::CounterFamily& family) {
    auto count = [&](Dimension d, std::size_t values) { return has(family, d) ? values : 1; };
    return count(Dimension::class_, family.members.size()) *
           count(Dimension::protocol, family.protocols.size()) *
           count(Dimension::direction, family.directions.size()) *
           count(Dimension::icmp_type, family.icmp_types.size()) *
           count(Dimension::opener, family.openers.size());
}

void expand_into(const rules::CounterFamily& family, std::vector<rules::CounterObject>& into) {
    for (const Coordinate& at : coordinates(family)) {
        into.push_back(counter_object(family, at));
    }
}

std::vector<rules::CounterObject> expand(const rules::CounterFamily& family) {
    std::vector<rules::CounterObject> out;
    out.reserve(coordinate_count(family));
    expand_into(family, out);
    return out;
}

std::vector<std::string> all_counter_names(const ir::Counter& counter) {
    std::vector<std::string> names;
    for (auto& object : expand(counter_family(counter))) {
        names.push_back(std::move(object.name));
    }
    return names;
}

std::vector<std::string> host_counter_names(const ir::Counter& counter) {
    const rules::CounterFamily family = counter_family(counter);
    std::vector<std::string> names;
    for (Coordinate at : coordinates(family)) {
        at.overflow = false;
        names.push_back(counter_name(family, at));
    }
    return names;
}

} // namespace acctc
