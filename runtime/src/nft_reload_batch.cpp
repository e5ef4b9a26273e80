#include "nft_reload_batch.hpp"

#include "acctc/runtime/errors.hpp"
#include "nftnl_handles.hpp"

#include <cerrno>
#include <cstring>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <map>
#include <memory>

namespace acctc::runtime {
namespace {

using nftnl::allocated;
using Object = nftnl::Object;
using Chain = nftnl::Chain;
using Set = nftnl::Set;
using Rule = nftnl::Rule;
using UserData = nftnl::UserData;

// The kernel's limit for NFTA_OBJ_USERDATA.
constexpr std::uint32_t max_user_data = 256;

Object object_named(const std::string& table, const std::string& name, std::uint32_t type) {
    auto object = allocated<Object>(nftnl_obj_alloc());
    nftnl_obj_set_str(object.get(), NFTNL_OBJ_TABLE, table.c_str());
    nftnl_obj_set_str(object.get(), NFTNL_OBJ_NAME, name.c_str());
    nftnl_obj_set_u32(object.get(), NFTNL_OBJ_TYPE, type);
    return object;
}

// The comment as nft stores it: a NUL-terminated comment record in the object's user data.
void set_comment(nftnl_obj* object, const std::string& comment) {
    const auto data = allocated<UserData>(nftnl_udata_buf_alloc(max_user_data));
    if (!nftnl_udata_put_strz(data.get(), NFTNL_UDATA_OBJ_COMMENT, comment.c_str())) {
        throw RuntimeError(ErrorKind::rejected,
                           "the comment of a counter is too long for the kernel: \"" + comment +
                               "\"");
    }
    nftnl_obj_set_data(object, NFTNL_OBJ_USERDATA, nftnl_udata_buf_data(data.get()),
                       nftnl_udata_buf_len(data.get()));
}

// The handle of each chain to be renamed: a rename names the chain by handle.
std::map<std::string, std::uint64_t> handles_of_renamed(NftNetlink& netlink,
                                                        const std::string& table,
                                                        const std::vector<CleanupStep>& steps) {
    static const std::vector<mnl_attr_data_type> expected = [] {
        std::vector<mnl_attr_data_type> types(NFTA_CHAIN_MAX + 1, MNL_TYPE_UNSPEC);
        types[NFTA_CHAIN_HANDLE] = MNL_TYPE_U64;
        return types;
    }();
    std::map<std::string, std::uint64_t> handles;
    for (const auto& step : steps) {
        if (step.kind != CleanupStep::Kind::rename_chain) {
            continue;
        }
        const int error = netlink.request(
            NFT_MSG_GETCHAIN, NFPROTO_INET,
            [&](nlmsghdr* request) {
                mnl_attr_put_strz(request, NFTA_CHAIN_TABLE, table.c_str());
                mnl_attr_put_strz(request, NFTA_CHAIN_NAME, step.name.c_str());
            },
            [&](const nlmsghdr* reply) {
                handles[step.name] = NftAttributes(reply, expected).u64(NFTA_CHAIN_HANDLE);
            });
        if (error != 0) {
            throw_system_error("cannot find chain " + step.name + " of table inet " + table, error);
        }
    }
    return handles;
}

nlmsghdr* cleanup_message(const std::string& table, const CleanupStep& step,
                          const std::map<std::string, std::uint64_t>& handles, char* buffer,
                          std::uint32_t sequence) {
    switch (step.kind) {
    case CleanupStep::Kind::flush_chain: {
        // A rule deletion naming the chain and no rule: every rule of the chain.
        const auto rule = allocated<Rule>(nftnl_rule_alloc());
        nftnl_rule_set_str(rule.get(), NFTNL_RULE_TABLE, table.c_str());
        nftnl_rule_set_str(rule.get(), NFTNL_RULE_CHAIN, step.name.c_str());
        nlmsghdr* message =
            nftnl_nlmsg_build_hdr(buffer, NFT_MSG_DELRULE, NFPROTO_INET, 0, sequence);
        nftnl_rule_nlmsg_build_payload(message, rule.get());
        return message;
    }
    case CleanupStep::Kind::delete_set:
    case CleanupStep::Kind::delete_map: {
        const auto set = allocated<Set>(nftnl_set_alloc());
        nftnl_set_set_str(set.get(), NFTNL_SET_TABLE, table.c_str());
        nftnl_set_set_str(set.get(), NFTNL_SET_NAME, step.name.c_str());
        nlmsghdr* message =
            nftnl_nlmsg_build_hdr(buffer, NFT_MSG_DELSET, NFPROTO_INET, 0, sequence);
        nftnl_set_nlmsg_build_payload(message, set.get());
        return message;
    }
    case CleanupStep::Kind::delete_chain:
    case CleanupStep::Kind::rename_chain: {
        const bool rename = step.kind == CleanupStep::Kind::rename_chain;
        const auto chain = allocated<Chain>(nftnl_chain_alloc());
        nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_TABLE, table.c_str());
        if (rename) {
            nftnl_chain_set_u64(chain.get(), NFTNL_CHAIN_HANDLE, handles.at(step.name));
        }
        nftnl_chain_set_str(chain.get(), NFTNL_CHAIN_NAME,
                            (rename ? step.new_name : step.name).c_str());
        nlmsghdr* message = nftnl_nlmsg_build_hdr(
            buffer, rename ? NFT_MSG_NEWCHAIN : NFT_MSG_DELCHAIN, NFPROTO_INET, 0, sequence);
        nftnl_chain_nlmsg_build_payload(message, chain.get());
        return message;
    }
    case CleanupStep::Kind::delete_object: {
        const auto object = object_named(table, step.name, step.object_type);
        nlmsghdr* message =
            nftnl_nlmsg_build_hdr(buffer, NFT_MSG_DELOBJ, NFPROTO_INET, 0, sequence);
        nftnl_obj_nlmsg_build_payload(message, object.get());
        return message;
    }
    }
    throw std::logic_error("unknown cleanup step");
}

} // namespace

void commit_batch(NftNetlink& netlink, const std::string& table, std::size_t count,
                  const NftNetlink::BuildItem& build,
                  const std::function<std::string(std::size_t)>& what) {
    if (count == 0) {
        return;
    }
    const auto refused = netlink.transaction(count, build);
    if (refused.empty()) {
        return;
    }
    const auto [item, error] = refused.front();
    const std::string message = "the kernel refused " +
                                (item >= count ? std::string("the transaction") : what(item)) +
                                " in table inet " + table;
    if (error == ENOENT || error == EEXIST || error == EINVAL || error == EBUSY) {
        throw RuntimeError(ErrorKind::rejected,
                           message + ": " + std::strerror(error) + "; nothing was changed");
    }
    throw_system_error(message, error);
}

void commit_counter_changes(NftNetlink& netlink, const std::string& table,
                            const std::vector<DeclaredCounter>& create,
                            const std::vector<std::string>& remove) {
    commit_batch(
        netlink, table, create.size() + remove.size(),
        [&](std::size_t item, char* buffer, std::uint32_t sequence) {
            const bool creating = item < create.size();
            const std::string& name = creating ? create[item].name : remove[item - create.size()];
            const Object object = object_named(table, name, NFT_OBJECT_COUNTER);
            if (creating) {
                set_comment(object.get(), create[item].comment);
            }
            nlmsghdr* message =
                nftnl_nlmsg_build_hdr(buffer, creating ? NFT_MSG_NEWOBJ : NFT_MSG_DELOBJ,
                                      NFPROTO_INET, creating ? NLM_F_CREATE : 0, sequence);
            nftnl_obj_nlmsg_build_payload(message, object.get());
            return message;
        },
        [&](std::size_t item) {
            return item < create.size()
                       ? "creating counter " + create[item].name + " (" + create[item].comment + ")"
                       : "deleting counter " + remove[item - create.size()];
        });
}

void run_cleanup(NftNetlink& netlink, const std::string& table,
                 const std::vector<CleanupStep>& steps) {
    const auto handles = handles_of_renamed(netlink, table, steps);
    commit_batch(
        netlink, table, steps.size(),
        [&](std::size_t item, char* buffer, std::uint32_t sequence) {
            return cleanup_message(table, steps[item], handles, buffer, sequence);
        },
        [&](std::size_t item) {
            std::string text = cleanup_text(table, {steps[item]});
            return "'" + text.substr(0, text.find('\n')) + "'";
        });
}

} // namespace acctc::runtime
