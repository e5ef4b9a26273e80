// Counter families: what a counter or classify counts, as data. A family names its dimensions
// (direction, protocol, ICMP type, class) and their values; expand() is the one place that
// turns a family into kernel counter objects, names and comment labels alike
// (skype + split protocol + split direction -> skype_tcp_in {direction=in, protocol=tcp}).
#pragma once

#include "ir.hpp"
#include "rules.hpp"

#include <optional>
#include <string>
#include <vector>

namespace acctc {

std::string protocol_suffix(std::uint8_t protocol);
std::string icmp_type_suffix(std::uint8_t type, bool v6);

rules::CounterFamily counter_family(const ir::Counter& counter);
rules::CounterFamily classify_family(const ir::Classify& classify);

// One counter of a family: a value for each of its dimensions (those it lacks stay empty).
struct Coordinate {
    std::optional<rules::Direction> direction;
    std::optional<std::uint8_t> protocol;
    std::optional<std::uint8_t> icmp_type;
    std::optional<std::size_t> member; // index into CounterFamily::members
    // split host: the static counter of what the host sets could not take (host="overflow");
    // the per-host counters themselves are set elements, named by host_set_name().
    bool overflow = false;
    std::optional<rules::Opener> opener{};
};

// What a host set's elements are: IPv4 or IPv6 addresses, or MAC addresses (`split host mac`).
enum class HostKey { ipv4, ipv6, mac };

// The per-host set of one coordinate of a family with a host dimension, per key:
// NAME_hosts_v4, NAME_hosts_v6, NAME_hosts_mac; a part of a large one (lower.cpp,
// host_parts()) adds _p<part>: NAME_hosts_v4_p3.
std::string host_set_name(const rules::CounterFamily& family, const Coordinate& at, HostKey key,
                          std::optional<unsigned> part = std::nullopt);
inline constexpr const char* host_overflow_label = "overflow";

// The kernel object of one coordinate; a dimension of the family left empty is skipped in the
// name and the labels (the counting rules of a classify name each class with its direction).
rules::CounterObject counter_object(const rules::CounterFamily& family, const Coordinate& at);
std::string counter_name(const rules::CounterFamily& family, const Coordinate& at);

// Every counter of a family, in a stable order: member, protocol, direction, ICMP type, opener.
std::vector<Coordinate> coordinates(const rules::CounterFamily& family);
// How many coordinates() returns, without making them (to reserve room for their objects).
std::size_t coordinate_count(const rules::CounterFamily& family);
// Their counter objects.
std::vector<rules::CounterObject> expand(const rules::CounterFamily& family);
// The same, appended to `into` (the table's vector, reserved once for every family).
void expand_into(const rules::CounterFamily& family, std::vector<rules::CounterObject>& into);

// The kernel object names a counter produces (expand(counter_family(counter)) names).
std::vector<std::string> all_counter_names(const ir::Counter& counter);
// `split host`: the names its hosts report under (DynamicSet::counter), in the same order.
std::vector<std::string> host_counter_names(const ir::Counter& counter);

std::optional<rules::Direction> family_direction(std::optional<ir::Direction> direction);

// The suffix and label value of an opener: "local" (this side opened the connection), "remote".
const char* opener_text(rules::Opener opener);

} // namespace acctc
