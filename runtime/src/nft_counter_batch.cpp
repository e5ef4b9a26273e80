#include "nft_counter_batch.hpp"

#include "acctc/runtime/errors.hpp"

#include <cstring>
#include <libnftnl/object.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <memory>

namespace acctc::runtime {
namespace {

struct FreeObject {
    void operator()(nftnl_obj* object) const { nftnl_obj_free(object); }
};
using Object = std::unique_ptr<nftnl_obj, FreeObject>;

struct FreeUserData {
    void operator()(nftnl_udata_buf* buffer) const { nftnl_udata_buf_free(buffer); }
};

// The kernel's limit for NFTA_OBJ_USERDATA.
constexpr std::uint32_t max_user_data = 256;

Object counter_object(const std::string& table, const std::string& name) {
    Object object(nftnl_obj_alloc());
    if (!object) {
        throw RuntimeError(ErrorKind::system, "out of memory for an nf_tables counter");
    }
    nftnl_obj_set_str(object.get(), NFTNL_OBJ_TABLE, table.c_str());
    nftnl_obj_set_str(object.get(), NFTNL_OBJ_NAME, name.c_str());
    nftnl_obj_set_u32(object.get(), NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
    return object;
}

// The comment as nft stores it: a NUL-terminated comment record in the object's user data.
void set_comment(nftnl_obj* object, const std::string& comment) {
    const std::unique_ptr<nftnl_udata_buf, FreeUserData> data(nftnl_udata_buf_alloc(max_user_data));
    if (!data || !nftnl_udata_put_strz(data.get(), NFTNL_UDATA_OBJ_COMMENT, comment.c_str())) {
        throw RuntimeError(ErrorKind::rejected, "the comment of a counter is too long for the "
                                                "kernel: \"" +
                                                    comment + "\"");
    }
    nftnl_obj_set_data(object, NFTNL_OBJ_USERDATA, nftnl_udata_buf_data(data.get()),
                       nftnl_udata_buf_len(data.get()));
}

} // namespace

void commit_counter_changes(NftNetlink& netlink, const std::string& table,
                            const std::vector<DeclaredCounter>& create,
                            const std::vector<std::string>& remove) {
    const std::size_t count = create.size() + remove.size();
    if (count == 0) {
        return;
    }
    const auto refused =
        netlink.transaction(count, [&](std::size_t item, char* buffer, std::uint32_t sequence) {
            const bool creating = item < create.size();
            const std::string& name = creating ? create[item].name : remove[item - create.size()];
            const Object object = counter_object(table, name);
            if (creating) {
                set_comment(object.get(), create[item].comment);
            }
            nlmsghdr* message =
                nftnl_nlmsg_build_hdr(buffer, creating ? NFT_MSG_NEWOBJ : NFT_MSG_DELOBJ,
                                      NFPROTO_INET, creating ? NLM_F_CREATE : 0, sequence);
            nftnl_obj_nlmsg_build_payload(message, object.get());
            return message;
        });
    if (refused.empty()) {
        return;
    }
    const auto [item, error] = refused.front();
    const std::string what =
        item >= count ? "the transaction"
        : item < create.size()
            ? "creating counter " + create[item].name + " (" + create[item].comment + ")"
            : "deleting counter " + remove[item - create.size()];
    const std::string message = "the kernel refused " + what + " in table inet " + table;
    if (error == ENOENT || error == EEXIST || error == EINVAL) {
        throw RuntimeError(ErrorKind::rejected,
                           message + ": " + std::strerror(error) + "; nothing was changed");
    }
    throw_system_error(message, error);
}

} // namespace acctc::runtime
