#include "nft_inventory.hpp"

#include "acctc/runtime/errors.hpp"
#include "nft_counter_read.hpp"

#include <cerrno>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

namespace acctc::runtime {
namespace {

// Dumps one kind of table member, retrying when a concurrent change interrupted the dump.
void dump_members(NftNetlink& netlink, std::uint16_t message, const std::string& table,
                  const NftNetlink::AddAttributes& add, const NftNetlink::OnMessage& on_member,
                  const std::function<void()>& restart) {
    for (int attempt = 0; attempt < 10; ++attempt) {
        restart();
        if (netlink.dump(message, NFPROTO_INET, add, on_member)) {
            return;
        }
    }
    throw RuntimeError(ErrorKind::system, "table inet " + table + " keeps changing while read");
}

// Asks a dump for the members of one table only.
NftNetlink::AddAttributes of_table(std::uint16_t table_attribute, const std::string& table) {
    return [table_attribute, &table](nlmsghdr* request) {
        mnl_attr_put_strz(request, table_attribute, table.c_str());
    };
}

} // namespace

std::vector<TableInventory::Chain> table_chains(NftNetlink& netlink, const std::string& table) {
    static const auto chain_expected =
        attribute_types(NFTA_CHAIN_MAX, {{NFTA_CHAIN_TABLE, MNL_TYPE_NUL_STRING},
                                         {NFTA_CHAIN_NAME, MNL_TYPE_NUL_STRING}});
    std::vector<TableInventory::Chain> chains;
    // Older kernels ignore the table filter of some dumps, so every reply is checked again.
    dump_members(
        netlink, NFT_MSG_GETCHAIN, table, of_table(NFTA_CHAIN_TABLE, table),
        [&](const nlmsghdr* reply) {
            const NftAttributes chain(reply, chain_expected);
            if (chain.string(NFTA_CHAIN_TABLE) == table) {
                chains.push_back({chain.string(NFTA_CHAIN_NAME), chain.has(NFTA_CHAIN_HOOK)});
            }
        },
        [&] { chains.clear(); });
    return chains;
}

bool table_exists(NftNetlink& netlink, const std::string& table) {
    return table_shape(netlink, table).has_value();
}

std::optional<TableShape> table_shape(NftNetlink& netlink, const std::string& table) {
    static const auto table_expected = attribute_types(
        NFTA_TABLE_MAX, {{NFTA_TABLE_HANDLE, MNL_TYPE_U64}, {NFTA_TABLE_USE, MNL_TYPE_U32}});
    TableShape shape;
    const int error = netlink.request(
        NFT_MSG_GETTABLE, NFPROTO_INET,
        [&](nlmsghdr* request) { mnl_attr_put_strz(request, NFTA_TABLE_NAME, table.c_str()); },
        [&](const nlmsghdr* reply) {
            const NftAttributes attributes(reply, table_expected);
            shape = {attributes.u64(NFTA_TABLE_HANDLE), attributes.u32(NFTA_TABLE_USE)};
        });
    if (error == ENOENT) {
        return std::nullopt;
    }
    if (error != 0) {
        throw_system_error("cannot look up table inet " + table, error);
    }
    return shape;
}

namespace {

// Everything but the counters.
TableInventory read_members(NftNetlink& netlink, const std::string& table) {
    static const auto set_expected =
        attribute_types(NFTA_SET_MAX, {{NFTA_SET_TABLE, MNL_TYPE_NUL_STRING},
                                       {NFTA_SET_NAME, MNL_TYPE_NUL_STRING},
                                       {NFTA_SET_FLAGS, MNL_TYPE_U32}});
    static const auto object_expected =
        attribute_types(NFTA_OBJ_MAX, {{NFTA_OBJ_TABLE, MNL_TYPE_NUL_STRING},
                                       {NFTA_OBJ_NAME, MNL_TYPE_NUL_STRING},
                                       {NFTA_OBJ_TYPE, MNL_TYPE_U32}});
    static const auto flowtable_expected =
        attribute_types(NFTA_FLOWTABLE_MAX, {{NFTA_FLOWTABLE_TABLE, MNL_TYPE_NUL_STRING},
                                             {NFTA_FLOWTABLE_NAME, MNL_TYPE_NUL_STRING}});

    TableInventory inventory;
    inventory.chains = table_chains(netlink, table);
    // Older kernels ignore the table filter of some dumps, so every reply is checked again.
    dump_members(
        netlink, NFT_MSG_GETSET, table, of_table(NFTA_SET_TABLE, table),
        [&](const nlmsghdr* reply) {
            const NftAttributes set(reply, set_expected);
            const std::uint32_t flags = set.u32(NFTA_SET_FLAGS);
            if (set.string(NFTA_SET_TABLE) == table && (flags & NFT_SET_ANONYMOUS) == 0) {
                inventory.sets.push_back(
                    {set.string(NFTA_SET_NAME), (flags & (NFT_SET_MAP | NFT_SET_OBJECT)) != 0});
            }
        },
        [&] { inventory.sets.clear(); });
    // One dump per object type other than counters: a dump restarts its walk over every object
    // of the family for each reply datagram it fills, so letting 100,000 counters fill replies
    // would cost seconds, while a dump that fills none walks them once.
    for (std::uint32_t type = NFT_OBJECT_COUNTER + 1; type <= NFT_OBJECT_MAX; ++type) {
        const auto add = [&](nlmsghdr* request) {
            mnl_attr_put_strz(request, NFTA_OBJ_TABLE, table.c_str());
            mnl_attr_put_u32(request, NFTA_OBJ_TYPE, htobe32(type));
        };
        const auto on_object = [&](const nlmsghdr* reply) {
            const NftAttributes object(reply, object_expected);
            if (object.string(NFTA_OBJ_TABLE) == table && object.u32(NFTA_OBJ_TYPE) == type) {
                inventory.objects.push_back({object.string(NFTA_OBJ_NAME), type});
            }
        };
        const std::size_t before = inventory.objects.size();
        dump_members(netlink, NFT_MSG_GETOBJ, table, add, on_object,
                     [&] { inventory.objects.resize(before); });
    }
    dump_members(
        netlink, NFT_MSG_GETFLOWTABLE, table, of_table(NFTA_FLOWTABLE_TABLE, table),
        [&](const nlmsghdr* reply) {
            const NftAttributes flowtable(reply, flowtable_expected);
            if (flowtable.string(NFTA_FLOWTABLE_TABLE) == table) {
                inventory.flowtables.push_back(flowtable.string(NFTA_FLOWTABLE_NAME));
            }
        },
        [&] { inventory.flowtables.clear(); });
    return inventory;
}

} // namespace

std::optional<TableInventory> read_inventory(NftNetlink& netlink, const std::string& table) {
    if (!table_exists(netlink, table)) {
        return std::nullopt;
    }
    TableInventory inventory = read_members(netlink, table);
    inventory.counters = read_table_counters(netlink, table, false);
    return inventory;
}

std::uint32_t counter_count(NftNetlink& netlink, const std::string& table,
                            const TableShape& shape) {
    // Anonymous sets are not members (they belong to their rules). Were they on some kernel,
    // the count would come out too high and the names would never be taken: slow, not wrong.
    const TableInventory members = read_members(netlink, table);
    const std::uint64_t others = members.chains.size() + members.sets.size() +
                                 members.objects.size() + members.flowtables.size();
    // A table that changed between the two reads can hold fewer members than counted.
    return others > shape.members ? 0 : static_cast<std::uint32_t>(shape.members - others);
}

std::vector<std::uint64_t> rule_handles(NftNetlink& netlink, const std::string& table,
                                        const std::string& chain) {
    static const auto rule_expected =
        attribute_types(NFTA_RULE_MAX, {{NFTA_RULE_TABLE, MNL_TYPE_NUL_STRING},
                                        {NFTA_RULE_CHAIN, MNL_TYPE_NUL_STRING},
                                        {NFTA_RULE_HANDLE, MNL_TYPE_U64}});
    std::vector<std::uint64_t> handles;
    dump_members(
        netlink, NFT_MSG_GETRULE, table,
        [&](nlmsghdr* request) {
            mnl_attr_put_strz(request, NFTA_RULE_TABLE, table.c_str());
            mnl_attr_put_strz(request, NFTA_RULE_CHAIN, chain.c_str());
        },
        [&](const nlmsghdr* reply) {
            const NftAttributes rule(reply, rule_expected);
            if (rule.string(NFTA_RULE_TABLE) == table && rule.string(NFTA_RULE_CHAIN) == chain) {
                handles.push_back(rule.u64(NFTA_RULE_HANDLE));
            }
        },
        [&] { handles.clear(); });
    return handles;
}

std::uint32_t ruleset_generation(NftNetlink& netlink) {
    static const auto expected = attribute_types(NFTA_GEN_MAX, {{NFTA_GEN_ID, MNL_TYPE_U32}});
    std::uint32_t generation = 0;
    const int error = netlink.request(
        NFT_MSG_GETGEN, AF_UNSPEC, [](nlmsghdr*) {},
        [&](const nlmsghdr* reply) {
            generation = NftAttributes(reply, expected).u32(NFTA_GEN_ID);
        });
    if (error != 0) {
        throw_system_error("cannot read the ruleset generation", error);
    }
    return generation;
}

} // namespace acctc::runtime
