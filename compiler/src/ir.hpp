// The checked policy: every name resolved, every number in range, every clause typed. The
// checker produces it; lowering turns it into rules for a backend.
#pragma once

#include "acctc/quota_comment.hpp"
#include "acctc/source.hpp"
#include "boxed.hpp"
#include "intervals.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace acctc::ir {

enum Scope : unsigned { scope_local = 1, scope_forward = 2, scope_passive = 4 };
enum Direction : unsigned { dir_in = 1, dir_out = 2 };
enum class Side { source, destination, either };
enum class Family { ipv4, ipv6 };

struct PortMatch {
    IntervalSet protocols; // port-carrying protocols (tcp, udp, ...)
    Side side = Side::destination;
    IntervalSet ports;
};

struct AddressMatch {
    Side side = Side::source;
    IntervalSet v4;
    IntervalSet v6;
    std::string peers_of; // non-empty: the dynamic peer sets of that counter instead of v4/v6
};

struct IcmpMatch {
    bool v6 = false;
    IntervalSet types; // empty: any type
};

// A conjunction of conditions on one packet. Its consumers (lower.cpp alternatives(), dump.cpp
// dump_match()) bind every member by name: adding one is a compile error until each handles it.
// The rarely written conditions are Boxed (boxed.hpp): a class holds one Match, and most
// classes of a large classify hold one port or address condition.
struct Match {
    unsigned scopes = 0;          // 0 until defaulted by the checker
    unsigned directions = 0;      // 0 until defaulted by the checker
    std::vector<std::string> via; // interface names (a trailing '*' is a wildcard)
    bool include_loopback = false;
    Boxed<IntervalSet> uids;
    Boxed<IntervalSet> gids;
    Boxed<std::string> cgroup;
    std::optional<IntervalSet> protocols; // l4 protocol numbers
    std::vector<PortMatch> ports;
    Boxed<IcmpMatch> icmp;
    std::vector<AddressMatch> addresses;
    bool fragment = false;
    bool new_connection = false;
    Boxed<IntervalSet> length; // IP packet length, header included

    bool has_owner() const { return uids || gids || cgroup; }
};

// opener: who opened a followed connection, this host (local) or a peer (remote).
enum class Split { protocol, direction, type, host, opener };

// Which address of a packet names its host (docs/language.md, "Per-host counters").
// mac: the source MAC of an arriving packet, the device on the segment it came from.
enum class HostSide { source, destination, local, remote, mac };

// `split host`: one kernel set element with its own counter per address (or prefix) seen.
struct HostSplit {
    HostSide side = HostSide::source;
    unsigned v4_prefix = 32;  // aggregate to this prefix: /24 per IPv4 customer
    unsigned v6_prefix = 128; // /64 per IPv6 subscriber
    IntervalSet v4;           // `within`: only hosts in these networks (empty: any)
    IntervalSet v6;
    bool within = false;               // v4/v6 restrict
    std::uint32_t size = 65536;        // elements per set; the rest go to the overflow counter
    std::uint64_t timeout_seconds = 0; // 0: kept until reset
    SourceRange range;                 // the clause, for backend diagnostics
};

struct SplitSpec {
    Split kind;
    std::vector<std::uint8_t> values; // protocols for `split protocol`, ICMP types for `split type`
};

enum class Verdict { none, accept, drop };

struct ListenPort {
    std::uint8_t protocol;
    IntervalSet ports;
};

struct Counter {
    std::string name;
    std::string origin; // file:line
    SourceRange range;
    Match match;
    bool follow = false;
    std::vector<ListenPort> listen;
    std::vector<SplitSpec> splits;
    std::optional<HostSplit> host; // with a Split::host in splits
    Verdict verdict = Verdict::none;
    std::uint64_t peers_timeout_seconds = 3600;
    bool peers_referenced = false;
    std::uint32_t mark_bit = 0; // ct mark bit owned by this counter when following connections

    bool splits_by(Split kind) const {
        for (const auto& split : splits) {
            if (split.kind == kind) {
                return true;
            }
        }
        return false;
    }
};

struct Class {
    std::string label;
    std::string counter; // <classify>_<label>
    std::string origin;
    SourceRange range;
    Match match;
};

struct Classify {
    std::string name;
    std::string origin;
    SourceRange range;
    Match scope; // header clauses
    bool split_direction = false;
    std::vector<Class> classes;
    std::optional<Class> otherwise;
};

// A verdict in source order: from a counter's accept/drop or a top-level statement.
struct VerdictRule {
    Verdict verdict = Verdict::accept;
    std::string origin;
    std::size_t counter = static_cast<std::size_t>(-1); // index into Policy::counters, or none
    Match match;                                        // top-level statements only
    SourceRange range;                                  // the statement (counter: its name)
};

// `quota`: a byte budget per period over the bytes of some counters, held by the kernel
// (docs/language.md, "Quotas").
struct Quota {
    std::string name;
    std::string origin; // file:line
    SourceRange range;  // the name
    std::vector<std::string> counters; // kernel counter names whose bytes it sums, sorted
    std::uint64_t limit = 0;           // bytes per period
    std::uint64_t warn = 0;            // bytes at which it warns, below limit
    QuotaPeriod period = QuotaPeriod::month;
    unsigned start_day = 1; // monthly periods start on this day of the month
    bool drop = false;      // refuse what the counters would count once the limit is spent
    // counters are `split host` host counters: each host (element) has its own budget.
    bool per_host = false;
};

struct Policy {
    std::string name;
    std::string table;
    std::uint32_t connmark_mask = 0x00ff0000;
    std::vector<Counter> counters;
    std::vector<Classify> classifies;
    std::vector<VerdictRule> verdicts;
    std::vector<Quota> quotas;
    // Counting order across counters and classifications, as written.
    struct Item {
        bool is_classify;
        std::size_t index;
    };
    std::vector<Item> order;
    bool uses_conntrack = false;
};

} // namespace acctc::ir
