#include "nft_new_table.hpp"

#include "nft_element_swap.hpp"
#include "nft_inventory.hpp"
#include "nft_reload_batch.hpp"
#include "nftnl_handles.hpp"
#include "text_lines.hpp"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <set>
#include <string_view>

namespace acctc::runtime {
namespace {

constexpr std::string_view fill_suffix = ".fill";

std::string fill_chain(const std::string& base) {
    return base + std::string(fill_suffix);
}

} // namespace

std::optional<NewTableSteps> new_table_steps(const std::string& definition,
                                             const std::vector<CompiledPolicy::ElementSet>& sets) {
    std::set<std::string_view> counting;
    for (const auto& set : sets) {
        if (!set.elements.empty()) {
            counting.insert(set.name);
        }
    }
    if (counting.empty()) {
        return std::nullopt;
    }
    // The compiler's layout: blocks at one tab (`\tset NAME {`, `\tchain NAME {`), their lines at
    // two, a counting set's elements from `\t\telements = {` to the brace that closes it.
    NewTableSteps steps;
    std::string& out = steps.definition;
    out.reserve(definition.size() / 4);
    int depth = 0;
    bool in_counting_set = false;
    int skip_until = -1; // depth at which skipped elements end
    std::string chain;   // the chain block the lines are in
    std::string header;  // its lines up to the hook line
    std::string rules;   // the rules of a base chain
    bool base = false;
    bool refused = false;
    for_each_line(definition, [&](const std::string& line) {
        const int after = depth + brace_balance(line);
        if (skip_until >= 0) {
            if (after <= skip_until) {
                skip_until = -1;
            }
            depth = after;
            return;
        }
        if (depth == 1 && line.starts_with("\tset ")) {
            const std::string_view name = std::string_view(line).substr(5, line.find(' ', 5) - 5);
            in_counting_set = counting.count(name) != 0;
        } else if (depth == 2 && in_counting_set && line.starts_with("\t\telements = {")) {
            if (after > 2) {
                skip_until = 2;
            }
            depth = after;
            return;
        } else if (depth == 1 && line.starts_with("\tchain ")) {
            chain = line.substr(7, line.find(' ', 7) - 7);
            header = line + "\n";
            rules.clear();
            base = false;
            depth = after;
            return;
        }
        if (!chain.empty()) {
            if (after <= 1) { // the block's closing line
                out += header;
                out += line + "\n";
                if (base) {
                    out += "\tchain " + fill_chain(chain) + " {\n" + rules + "\t}\n";
                    steps.base_chains.push_back(chain);
                }
                chain.clear();
            } else if (depth == 2 && !base && line.starts_with("\t\ttype ") &&
                       line.find(" hook ") != std::string::npos) {
                base = true;
                header += line + "\n";
            } else if (base) {
                refused = refused || line.find('{') != std::string::npos;
                rules += line + "\n";
            } else {
                header += line + "\n";
            }
            depth = after;
            return;
        }
        out += line;
        out += '\n';
        depth = after;
    });
    if (refused || !chain.empty() || depth != 0) {
        return std::nullopt;
    }
    return steps;
}

void fill_new_table(NftNetlink& netlink, const std::string& table, const NewTableSteps& steps,
                    const std::vector<CompiledPolicy::ElementSet>& sets) {
    struct Item {
        enum class Kind { elements, rule, drop_fill } kind;
        std::size_t index; // set, rule or base chain
        std::size_t first; // elements: the first
    };
    std::vector<Item> items;
    for (std::size_t s = 0; s < sets.size(); ++s) {
        for (std::size_t e = 0; e < sets[s].elements.size(); e += elements_per_message) {
            items.push_back({Item::Kind::elements, s, e});
        }
    }
    struct Moved {
        std::string chain;
        nftnl::Rule rule;
    };
    std::vector<Moved> moved;
    for (const auto& chain : steps.base_chains) {
        for (auto& rule : live_rules(netlink, table, fill_chain(chain))) {
            // Appended in order: no handle, and no position (the dump names the rule before
            // it in NAME.fill, which NAME does not hold).
            nftnl_rule_unset(rule.get(), NFTNL_RULE_HANDLE);
            nftnl_rule_unset(rule.get(), NFTNL_RULE_POSITION);
            nftnl_rule_set_str(rule.get(), NFTNL_RULE_CHAIN, chain.c_str());
            items.push_back({Item::Kind::rule, moved.size(), 0});
            moved.push_back({chain, std::move(rule)});
        }
    }
    for (std::size_t c = 0; c < steps.base_chains.size(); ++c) {
        items.push_back({Item::Kind::drop_fill, c, 0});
    }
    commit_batch(
        netlink, table, items.size(),
        [&](std::size_t index, char* buffer, std::uint32_t sequence) -> nlmsghdr* {
            const Item& item = items[index];
            switch (item.kind) {
            case Item::Kind::elements:
                return counting_elements_message(buffer, sequence, table, sets[item.index].name, 0,
                                                 sets[item.index].elements, item.first, nullptr);
            case Item::Kind::rule: {
                nlmsghdr* message = nftnl_nlmsg_build_hdr(buffer, NFT_MSG_NEWRULE, NFPROTO_INET,
                                                          NLM_F_CREATE | NLM_F_APPEND, sequence);
                nftnl_rule_nlmsg_build_payload(message, moved[item.index].rule.get());
                return message;
            }
            case Item::Kind::drop_fill: {
                const auto chain = nftnl::allocated<nftnl::Chain>(nftnl_chain_alloc());
                nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_TABLE, table.c_str());
                nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_NAME,
                                    fill_chain(steps.base_chains[item.index]).c_str());
                nlmsghdr* message =
                    nftnl_nlmsg_build_hdr(buffer, NFT_MSG_DELCHAIN, NFPROTO_INET, 0, sequence);
                nftnl_chain_nlmsg_build_payload(message, chain.get());
                return message;
            }
            }
            throw std::logic_error("unknown step");
        },
        [&](std::size_t index) {
            const Item& item = items[index];
            switch (item.kind) {
            case Item::Kind::elements:
                return "adding elements to set " + sets[item.index].name;
            case Item::Kind::rule:
                return "adding a rule to chain " + moved[item.index].chain;
            case Item::Kind::drop_fill:
                return "deleting chain " + fill_chain(steps.base_chains[item.index]);
            }
            return std::string("a step");
        });
}

bool stopped_between_steps(NftNetlink& netlink, const std::string& table) {
    const auto chains = table_chains(netlink, table);
    return std::any_of(chains.begin(), chains.end(), [](const TableInventory::Chain& chain) {
        return chain.name.ends_with(fill_suffix);
    });
}

void test_kill_between_steps() {
    if (std::getenv("ACCTC_TEST_KILL_BETWEEN_STEPS") != nullptr) {
        ::raise(SIGKILL);
    }
}

void delete_new_table(NftNetlink& netlink, const std::string& table) {
    commit_batch(
        netlink, table, 1,
        [&](std::size_t, char* buffer, std::uint32_t sequence) {
            nlmsghdr* message = put_nft_header(buffer, NFT_MSG_DELTABLE, 0, NFPROTO_INET, sequence);
            mnl_attr_put_strz(message, NFTA_TABLE_NAME, table.c_str());
            return message;
        },
        [&](std::size_t) { return std::string("deleting the table"); });
}

} // namespace acctc::runtime
