#include "nft_element_swap.hpp"

#include "chain_record.hpp"
#include "nft_reload_batch.hpp"

#include <algorithm>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <string_view>

namespace acctc::runtime {
namespace {

// The kernel's limit for an element's user data.
constexpr std::uint32_t max_user_data = 256;

bool anonymous(std::string_view set) {
    return set.starts_with("__");
}

// The live set `name` as the kernel describes it (type, flags, expressions, comment), or nothing
// when it is gone.
nftnl::Set live_set(NftNetlink& netlink, const std::string& table, const std::string& name) {
    nftnl::Set set;
    const int error = netlink.request(
        NFT_MSG_GETSET, NFPROTO_INET,
        [&](nlmsghdr* request) {
            mnl_attr_put_strz(request, NFTA_SET_TABLE, table.c_str());
            mnl_attr_put_strz(request, NFTA_SET_NAME, name.c_str());
        },
        [&](const nlmsghdr* reply) {
            auto parsed = nftnl::allocated<nftnl::Set>(nftnl_set_alloc());
            if (nftnl_set_nlmsg_parse(reply, parsed.get()) == 0) {
                set = std::move(parsed);
            }
        });
    return error == 0 ? std::move(set) : nftnl::Set();
}

// Turns the rule's lookups of the old generations to the new ones. False when the rule cannot
// be re-sent as the kernel dumped it (an anonymous set goes with its rule; a dynamic set or
// object map naming an old generation is not a lookup acctc writes).
bool rename_lookups(nftnl_rule* rule, const std::map<std::string, std::string>& renames,
                    bool& renamed) {
    const auto iterator = nftnl::allocated<nftnl::ExpressionIterator>(nftnl_expr_iter_create(rule));
    bool anonymous_set = false;
    renamed = false;
    for (nftnl_expr* expression = nftnl_expr_iter_next(iterator.get()); expression != nullptr;
         expression = nftnl_expr_iter_next(iterator.get())) {
        const std::string_view kind = nftnl_expr_get_str(expression, NFTNL_EXPR_NAME);
        std::uint16_t attribute = 0;
        if (kind == "lookup") {
            attribute = NFTNL_EXPR_LOOKUP_SET;
        } else if (kind == "dynset") {
            attribute = NFTNL_EXPR_DYNSET_SET_NAME;
        } else if (kind == "objref") {
            attribute = NFTNL_EXPR_OBJREF_SET_NAME;
        }
        if (attribute == 0 || !nftnl_expr_is_set(expression, attribute)) {
            continue;
        }
        const std::string set = nftnl_expr_get_str(expression, attribute);
        anonymous_set = anonymous_set || anonymous(set);
        const auto to = renames.find(set);
        if (to == renames.end()) {
            continue;
        }
        if (kind != "lookup") {
            return false;
        }
        nftnl_expr_set_str(expression, NFTNL_EXPR_LOOKUP_SET, to->second.c_str());
        renamed = true;
    }
    return !(renamed && anonymous_set);
}

} // namespace

std::vector<nftnl::Rule> live_rules(NftNetlink& netlink, const std::string& table,
                                    const std::string& chain) {
    for (int attempt = 0; attempt < 10; ++attempt) {
        std::vector<nftnl::Rule> rules;
        bool parsed = true;
        const bool whole = netlink.dump(
            NFT_MSG_GETRULE, NFPROTO_INET,
            [&](nlmsghdr* request) {
                mnl_attr_put_strz(request, NFTA_RULE_TABLE, table.c_str());
                mnl_attr_put_strz(request, NFTA_RULE_CHAIN, chain.c_str());
            },
            [&](const nlmsghdr* reply) {
                auto rule = nftnl::allocated<nftnl::Rule>(nftnl_rule_alloc());
                parsed = parsed && nftnl_rule_nlmsg_parse(reply, rule.get()) == 0;
                rules.push_back(std::move(rule));
            });
        if (whole && parsed) {
            return rules;
        }
    }
    return {};
}

std::optional<ElementSwap>
plan_element_swap(NftNetlink& netlink, const std::string& table, const TableInventory& existing,
                  const ElementReload& elements, const SetPlan& sets, const CounterPlan& counters,
                  const std::set<std::string>& declared_sets, const std::string& definition,
                  const LiveChains& live, const std::vector<CompiledPolicy::ElementSet>& wanted) {
    if (!elements.changed || !counters.added.empty() || !counters.removed.empty() ||
        !existing.objects.empty() || !existing.flowtables.empty() || !sets.replaced.empty()) {
        return std::nullopt;
    }
    const std::set<std::string> retired(elements.retired.begin(), elements.retired.end());
    // Old generation -> new, for the sets that change; the old ones are all retired.
    std::map<std::string, std::string> renames;
    std::map<std::string, std::string> back; // new -> old
    for (const auto& [fresh, before] : elements.predecessors) {
        if (before.empty() || retired.count(before) == 0) {
            return std::nullopt;
        }
        renames[before] = fresh;
        back[fresh] = before;
    }
    // Every set of the table stays as it is (a kept set whose elements are packet state or
    // counts) or is an old generation; every set declared is a kept one or a new generation.
    for (const auto& set : existing.sets) {
        const auto kept = sets.keep.find(set.name);
        const bool left_alone =
            kept != sets.keep.end() && kept->second && declared_sets.count(set.name) != 0;
        if (!left_alone && retired.count(set.name) == 0) {
            return std::nullopt;
        }
    }
    for (const auto& name : declared_sets) {
        if (sets.keep.count(name) == 0 && back.count(name) == 0) {
            return std::nullopt;
        }
    }
    const DeclaredNames declared = declared_names(definition);
    if (!declared.objects.empty() || declared.chains.size() != existing.chains.size()) {
        return std::nullopt;
    }
    for (const auto& chain : existing.chains) {
        const auto again = declared.chains.find(chain.name);
        if (again == declared.chains.end() || again->second != chain.base) {
            return std::nullopt;
        }
    }
    // The chains that change: each must be, but for the new generations' names, what the record
    // says the chain holds.
    std::map<std::string, std::string> before_blocks;
    for (const auto& [name, block] : chain_blocks(definition)) {
        if (live.unchanged.count(name) != 0) {
            continue;
        }
        std::string before = with_set_names(block, back);
        if (before == block) {
            return std::nullopt; // changed beyond the names of sets
        }
        before_blocks.emplace(name, std::move(before));
    }
    const LiveChains proven = recorded_unchanged_blocks(netlink, table, before_blocks);
    ElementSwap swap;
    for (const auto& [name, block] : before_blocks) {
        const auto handles = proven.rules.find(name);
        if (proven.unchanged.count(name) == 0 || handles == proven.rules.end()) {
            return std::nullopt;
        }
        auto rules = live_rules(netlink, table, name);
        if (rules.size() != handles->second.size()) {
            return std::nullopt;
        }
        for (std::size_t i = 0; i < rules.size(); ++i) {
            bool renamed = false;
            if (nftnl_rule_get_u64(rules[i].get(), NFTNL_RULE_HANDLE) != handles->second[i] ||
                !rename_lookups(rules[i].get(), renames, renamed)) {
                return std::nullopt;
            }
            if (renamed) {
                swap.rules.push_back({name, std::move(rules[i])});
            }
        }
    }
    // Each new generation as the kernel describes the one it follows, renamed.
    std::uint32_t id = 0;
    for (const auto& [fresh, before] : back) {
        const auto compiled = std::find_if(wanted.begin(), wanted.end(), [&](const auto& set) {
            const auto name = elements.names.find(set.name);
            return name != elements.names.end() && name->second == fresh;
        });
        nftnl::Set set = live_set(netlink, table, before);
        if (compiled == wanted.end() || !set ||
            (nftnl_set_is_set(set.get(), NFTNL_SET_FLAGS) &&
             (nftnl_set_get_u32(set.get(), NFTNL_SET_FLAGS) &
              (NFT_SET_INTERVAL | NFT_SET_ANONYMOUS | NFT_SET_MAP)) != 0)) {
            return std::nullopt;
        }
        nftnl_set_unset(set.get(), NFTNL_SET_HANDLE);
        nftnl_set_set_str(set.get(), NFTNL_SET_NAME, fresh.c_str());
        nftnl_set_set_u32(set.get(), NFTNL_SET_ID, ++id);
        const auto starts = elements.starts.find(fresh);
        swap.sets.push_back({std::move(set), &*compiled,
                             starts == elements.starts.end() ? nullptr : &starts->second});
    }
    for (const auto& name : elements.retired) {
        swap.cleanup.push_back({CleanupStep::Kind::delete_set, identifier(name), {}, 0});
    }
    return swap;
}

nlmsghdr* counting_elements_message(
    char* buffer, std::uint32_t sequence, const std::string& table, const std::string& set,
    std::uint32_t set_id, const std::vector<CompiledPolicy::ElementSet::Element>& elements,
    std::size_t first,
    const std::map<std::string, std::pair<std::uint64_t, std::uint64_t>>* starts) {
    // The elements: key as the kernel holds it, the policy's comment, and a counter starting
    // where the element it follows stood (nft_element_carry.hpp), or the set's own counter.
    auto part = nftnl::allocated<nftnl::Set>(nftnl_set_alloc());
    nftnl_set_set_str(part.get(), NFTNL_SET_TABLE, table.c_str());
    nftnl_set_set_str(part.get(), NFTNL_SET_NAME, set.c_str());
    if (set_id != 0) {
        nftnl_set_set_u32(part.get(), NFTNL_SET_ID, set_id);
    }
    const std::size_t end = std::min(elements.size(), first + elements_per_message);
    for (std::size_t e = first; e < end; ++e) {
        auto element = nftnl::allocated<nftnl::SetElement>(nftnl_set_elem_alloc());
        nftnl_set_elem_set(element.get(), NFTNL_SET_ELEM_KEY, elements[e].key.data(),
                           static_cast<std::uint32_t>(elements[e].key.size()));
        const auto data = nftnl::allocated<nftnl::UserData>(nftnl_udata_buf_alloc(max_user_data));
        if (!nftnl_udata_put_strz(data.get(), NFTNL_UDATA_SET_ELEM_COMMENT,
                                  elements[e].comment.c_str())) {
            throw RuntimeError(ErrorKind::rejected,
                               "the comment of an element is too long for the kernel: \"" +
                                   elements[e].comment + "\"");
        }
        nftnl_set_elem_set(element.get(), NFTNL_SET_ELEM_USERDATA, nftnl_udata_buf_data(data.get()),
                           nftnl_udata_buf_len(data.get()));
        if (starts != nullptr) {
            const auto start = starts->find(elements[e].key);
            if (start != starts->end()) {
                auto counter = nftnl::allocated<nftnl::Expression>(nftnl_expr_alloc("counter"));
                nftnl_expr_set_u64(counter.get(), NFTNL_EXPR_CTR_PACKETS, start->second.first);
                nftnl_expr_set_u64(counter.get(), NFTNL_EXPR_CTR_BYTES, start->second.second);
                nftnl_set_elem_add_expr(element.get(), counter.release());
            }
        }
        nftnl_set_elem_add(part.get(), element.release());
    }
    nlmsghdr* message = nftnl_nlmsg_build_hdr(buffer, NFT_MSG_NEWSETELEM, NFPROTO_INET,
                                              NLM_F_CREATE | NLM_F_EXCL, sequence);
    nftnl_set_elems_nlmsg_build_payload(message, part.get());
    return message;
}

void commit_element_swap(NftNetlink& netlink, const std::string& table, const ElementSwap& swap) {
    // The messages in order: each new set, then its elements a few to a message; then the rules.
    struct Item {
        std::size_t set = 0;   // index into swap.sets, or into swap.rules for a rule
        std::size_t first = 0; // first element; npos: the set itself
        bool rule = false;
    };
    constexpr std::size_t whole_set = static_cast<std::size_t>(-1);
    std::vector<Item> items;
    for (std::size_t s = 0; s < swap.sets.size(); ++s) {
        items.push_back({s, whole_set, false});
        for (std::size_t e = 0; e < swap.sets[s].compiled->elements.size();
             e += elements_per_message) {
            items.push_back({s, e, false});
        }
    }
    for (std::size_t r = 0; r < swap.rules.size(); ++r) {
        items.push_back({r, 0, true});
    }
    const auto set_name = [&](std::size_t s) {
        return std::string(nftnl_set_get_str(swap.sets[s].set.get(), NFTNL_SET_NAME));
    };
    commit_batch(
        netlink, table, items.size(),
        [&](std::size_t index, char* buffer, std::uint32_t sequence) {
            const Item& item = items[index];
            if (item.rule) {
                nlmsghdr* message = nftnl_nlmsg_build_hdr(buffer, NFT_MSG_NEWRULE, NFPROTO_INET,
                                                          NLM_F_REPLACE, sequence);
                nftnl_rule_nlmsg_build_payload(message, swap.rules[item.set].rule.get());
                return message;
            }
            const ElementSwap::NewSet& set = swap.sets[item.set];
            if (item.first == whole_set) {
                nlmsghdr* message = nftnl_nlmsg_build_hdr(buffer, NFT_MSG_NEWSET, NFPROTO_INET,
                                                          NLM_F_CREATE | NLM_F_EXCL, sequence);
                nftnl_set_nlmsg_build_payload(message, set.set.get());
                return message;
            }
            return counting_elements_message(buffer, sequence, table, set_name(item.set),
                                             nftnl_set_get_u32(set.set.get(), NFTNL_SET_ID),
                                             set.compiled->elements, item.first, set.starts);
        },
        [&](std::size_t index) {
            const Item& item = items[index];
            if (item.rule) {
                return "replacing a rule of chain " + swap.rules[item.set].chain;
            }
            return (item.first == whole_set ? "creating set " : "adding elements to set ") +
                   set_name(item.set);
        });
}

} // namespace acctc::runtime
