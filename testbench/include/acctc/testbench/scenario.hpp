// Declarative end-to-end scenarios (*.scn): a policy, a topology, traffic and the counts each
// counter must show. The format is documented in docs/testbench.md; malformed files get
// nftables-style positioned diagnostics.
#pragma once

#include "acctc/diagnostics.hpp"
#include "acctc/source.hpp"
#include "acctc/testbench/flow.hpp"
#include "acctc/testbench/nft.hpp"
#include "acctc/testbench/topology.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace acctc::testbench {

// One summand of an expectation: a flow direction as its peers reported it, or a literal.
struct ExpectedTerm {
    std::string flow;   // empty for a literal
    bool reply = false; // orig (client -> server) or reply
    bool wire = false;  // fragments as on the wire instead of whole datagrams
    CounterValue literal;
    SourceRange range;
};

struct Expectation {
    std::string counter;
    std::vector<ExpectedTerm> terms; // empty: zero
    // `merged HEADER`: the counter counts segmentation-offload / GRO packets, so it may count
    // fewer packets than the terms, each missing one taking HEADER bytes (IP + TCP) with it.
    std::optional<std::uint64_t> merged_header;
    SourceRange range;
};

// Flows a backend does not run because of a documented limitation of it (`skip BACKEND
// FLOW... because "REASON"`): on that backend their terms count as zero and the run shows why.
struct FlowSkip {
    std::string backend; // as `--backend` names it: iptables-legacy, ...
    std::vector<std::string> flows;
    std::string reason;
    SourceRange range;
};

// `renumber NODE.IF FROM TO`: between two flows the interface moves from one address to
// another (a host given a new DHCP lease), before flow number `before_flow`.
struct Renumbering {
    LinkEnd at;
    IpPrefix from;
    IpPrefix to;
    std::size_t before_flow = 0;
    SourceRange range;
};

struct Scenario {
    std::string name;
    std::string description;
    // Either an acctc policy (compiled by the bench) or a hand-written nft ruleset whose
    // table `inet <ruleset_table>` holds the counters.
    std::string policy_text;
    std::string policy_name; // file name shown in compiler diagnostics
    std::string ruleset_table;
    std::map<std::string, gid_t> groups;
    std::map<std::string, std::pair<uid_t, gid_t>> users;
    // cgroup v2 groups the run creates under its own directory; a policy names that
    // directory as "@cgroup@" (owner cgroup "@cgroup@/NAME"). Peers `as cgroup NAME` carry
    // the bare NAME in Identity::cgroup until the runner resolves it.
    std::set<std::string> cgroups;
    TopologySpec topology;
    std::vector<std::pair<std::string, std::string>> node_rulesets; // node, nft text
    std::string load_node;
    // Capture points; a flow's captured count comes from the first one that saw it.
    std::vector<LinkEnd> captures;
    std::vector<FlowSpec> flows;
    std::vector<Renumbering> renumberings; // in file order
    std::vector<Expectation> expectations;
    std::vector<FlowSkip> skips;
};

struct ParsedScenario {
    SourceFile source;
    Diagnostics diagnostics;
    std::optional<Scenario> scenario; // empty when there are errors
};

// `base_directory` resolves `policy FILE` and `ruleset TABLE FILE`.
ParsedScenario parse_scenario(const std::string& display_name, const std::string& text,
                              const std::filesystem::path& base_directory);
ParsedScenario parse_scenario_file(const std::filesystem::path& path);

} // namespace acctc::testbench
