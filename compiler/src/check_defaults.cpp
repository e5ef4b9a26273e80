// Scope and direction defaults of a read match, and the combinations of clauses the kernel
// cannot honour.
#include "checker.hpp"
#include "well_known.hpp"

namespace acctc {

// Scope and direction defaults, and the combinations the kernel cannot honour.
void Checker::apply_defaults(ir::Match& match, const CounterExtras& extras,
                             const ClauseSites& sites, SourceRange where, Context context) {
    const bool explicit_scope = match.scopes != 0;
    const bool split_direction = sites.split_direction.has_value();
    const bool owner = match.has_owner();
    const bool follow = extras.follow || !extras.listen.empty();
    if (!explicit_scope) {
        // Owners and listening sockets exist only on this host.
        if (owner || !extras.listen.empty()) {
            match.scopes = ir::scope_local;
        } else if ((match.directions != 0 || split_direction || sites.split_opener) &&
                   match.via.empty()) {
            // "in" and "out" (and who opened) without an interface are relative to this host.
            match.scopes = ir::scope_local;
        } else {
            match.scopes = ir::scope_local | ir::scope_forward;
        }
    }
    if (match.directions == 0) {
        match.directions = (owner && !follow) ? ir::dir_out : (ir::dir_in | ir::dir_out);
        if (match.scopes == ir::scope_passive) {
            match.directions = ir::dir_in;
        }
    }

    if (owner) {
        if (match.scopes & ir::scope_forward) {
            auto& error = diag_.error(*sites.owner, "owner matches only packets of local sockets; "
                                                    "forwarded traffic has no owner");
            error.notes.push_back({sites.forward.value_or(where), "forward scope given here"});
        }
        if (match.scopes & ir::scope_passive) {
            auto& error = diag_.error(*sites.owner, "owner cannot apply to passive collection");
            error.notes.push_back({sites.passive.value_or(where), "passive given here"});
        }
        if (!follow && (match.directions & ir::dir_in) && !(match.scopes & ir::scope_passive)) {
            auto& error = diag_.error(*sites.owner,
                                      "owner matches only outgoing packets (the kernel knows the "
                                      "socket on output); add 'follow connection' to count the "
                                      "incoming half");
            error.notes.push_back({sites.in.value_or(where), "incoming traffic asked for here"});
        }
        if (!follow && split_direction) {
            auto& error = diag_.error(*sites.split_direction,
                                      "split direction with owner needs 'follow connection': "
                                      "without it only outgoing packets can match");
            error.notes.push_back({*sites.owner, "owner given here"});
        }
    }
    if (match.scopes & ir::scope_passive) {
        if (match.scopes != ir::scope_passive) {
            diag_.error(*sites.passive,
                        "passive collection cannot be combined with local or forward");
        } else if (match.via.empty()) {
            diag_.error(*sites.passive, "passive collection needs 'via INTERFACE': it counts what "
                                        "arrives on that device");
        }
        for (const auto& device : match.via) {
            if (device.back() == '*') {
                diag_.error(*sites.via,
                            "passive collection needs exact device names, not '" + device + "'");
            }
        }
        if (match.directions & ir::dir_out) {
            diag_.error(sites.out.value_or(where), "passive collection sees only arriving packets");
        }
        if (follow || match.new_connection) {
            diag_.error(sites.follow.value_or(sites.listen.value_or(where)),
                        "passive collection runs before connection tracking; it cannot follow "
                        "connections or match 'new'");
        }
        if (extras.verdict != ir::Verdict::none || context == Context::verdict) {
            diag_.error(where, "passive collection only counts; it takes no accept or drop");
        }
    }
    if ((match.scopes & ir::scope_forward) && match.via.empty()) {
        if (sites.forward && sites.direction) {
            diag_.error(*sites.direction, "in forward scope, in and out are relative to an "
                                          "interface; add 'via INTERFACE'");
        }
        if (sites.forward && split_direction) {
            diag_.error(*sites.split_direction, "split direction of forwarded traffic needs "
                                                "'via INTERFACE'");
        }
    }
    if (match.fragment) {
        if (!match.ports.empty()) {
            auto& error =
                diag_.error(*sites.fragment, "non-first fragments carry no ports; a "
                                             "fragment clause cannot be combined with ports");
            error.notes.push_back({*sites.ports, "ports given here"});
        }
        if (match.icmp && !match.icmp->types.empty()) {
            auto& error =
                diag_.error(*sites.fragment, "non-first fragments carry no ICMP header; "
                                             "drop the ICMP types or the fragment clause");
            error.notes.push_back({*sites.icmp, "ICMP types given here"});
        }
    }
    check_families(match, sites, where);
}

// Address families: literal sets restrict, and all clauses must share one.
void Checker::check_families(const ir::Match& match, const ClauseSites& sites, SourceRange where) {
    bool v4 = true;
    bool v6 = true;
    for (const auto& address : match.addresses) {
        if (address.peers_of.empty()) {
            v4 = v4 && !address.v4.empty();
            v6 = v6 && !address.v6.empty();
        }
    }
    if (match.icmp) {
        (match.icmp->v6 ? v4 : v6) = false;
    }
    if (!v4 && !v6) {
        diag_.error(where, "these addresses and protocols share no address family (IPv4 with "
                           "IPv6); nothing could match");
    } else if (match.length && !match.length->empty()) { // empty: already an error
        const bool v4_length = !match.length->intersect(possible_ip_lengths(false)).empty();
        const bool v6_length = !match.length->intersect(possible_ip_lengths(true)).empty();
        if (!(v4 && v4_length) && !(v6 && v6_length)) {
            diag_.error(sites.length.value_or(where),
                        v4_length || v6_length
                            ? "these lengths fit only the other address family (an IPv4 packet "
                              "is at least 20 bytes, an IPv6 packet 40); nothing could match"
                            : "no packet is this short (an IPv4 packet is at least 20 bytes, an "
                              "IPv6 packet 40); nothing could match");
        }
    }
}

// Someone counting a service's traffic by its owner expects both directions; without
// following the connection a download counts only its acknowledgements. Said when the
// direction was left to the default and the statement is otherwise sound.
void Checker::warn_outgoing_only(const ir::Match& match, bool follow, const ClauseSites& sites,
                                 Context context, std::size_t errors_before) {
    if (!match.has_owner() || follow || sites.direction || sites.split_direction ||
        match.scopes != ir::scope_local || diag_.error_count() != errors_before) {
        return;
    }
    diag_.warning(*sites.owner,
                  context == Context::counter
                      ? "owner without 'follow connection' counts only outgoing packets (the "
                        "kernel knows the socket on output only): what this host receives is "
                        "not counted; add 'follow connection' to count both directions, or "
                        "'out' to count only what is sent"
                      : "owner counts only outgoing packets (the kernel knows the socket on "
                        "output only) and a classify cannot follow connections: add 'out' to "
                        "say so, or count both directions with a counter that has 'follow "
                        "connection'");
}

} // namespace acctc
