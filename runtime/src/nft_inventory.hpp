// What an acctc table currently holds, learned through netlink dumps (fast at any size).
#pragma once

#include "nft_counter_dump.hpp"
#include "nft_netlink.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace acctc::runtime {

struct TableInventory {
    struct Set {
        std::string name;
        bool map = false;
    };
    struct Object {
        std::string name;
        std::uint32_t type = 0; // NFT_OBJECT_*
    };
    struct Chain {
        std::string name;
        bool base = false; // hooked into the packet path
    };
    std::vector<Chain> chains;
    std::vector<Set> sets;       // named sets and maps; anonymous ones go with their rules
    std::vector<Object> objects; // stateful objects other than counters
    std::vector<KernelCounter> counters;
    std::vector<std::string> flowtables;
};

bool table_exists(NftNetlink& netlink, const std::string& table);

// The table's chains, without their rules.
std::vector<TableInventory::Chain> table_chains(NftNetlink& netlink, const std::string& table);

// What one request tells about a table: its handle (new for every table created) and how many
// chains, sets, flowtables and stateful objects it holds.
struct TableShape {
    std::uint64_t handle = 0;
    std::uint32_t members = 0;
    friend bool operator==(const TableShape&, const TableShape&) = default;
};

// Empty when the table does not exist.
std::optional<TableShape> table_shape(NftNetlink& netlink, const std::string& table);

// Everything in `table inet TABLE`; empty when the table does not exist.
std::optional<TableInventory> read_inventory(NftNetlink& netlink, const std::string& table);

// How many counters the table held when it had `shape`, learned without the quadratic counter
// dump: its member count less its chains, named sets, flowtables and other objects. Only meaningful
// when ruleset_generation() did not change meanwhile.
std::uint32_t counter_count(NftNetlink& netlink, const std::string& table, const TableShape& shape);

// The handles of the rules of one chain, in order. The kernel walks only that chain: a dump of
// the whole table restarts its walk at every reply message, quadratic in a chain's rules.
std::vector<std::uint64_t> rule_handles(NftNetlink& netlink, const std::string& table,
                                        const std::string& chain);

// The generation of the namespace's ruleset, which every committed transaction changes.
std::uint32_t ruleset_generation(NftNetlink& netlink);

} // namespace acctc::runtime
