// libnftnl's objects as owning handles (STYLE: RAII for C handles), for the transactions acctc
// builds itself (nft_reload_batch.hpp, nft_element_swap.hpp).
#pragma once

#include "acctc/runtime/errors.hpp"

#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>
#include <memory>

namespace acctc::runtime::nftnl {

template <auto release>
struct Release {
    template <typename T>
    void operator()(T* handle) const {
        release(handle);
    }
};
using Object = std::unique_ptr<nftnl_obj, Release<nftnl_obj_free>>;
using Chain = std::unique_ptr<nftnl_chain, Release<nftnl_chain_free>>;
using Set = std::unique_ptr<nftnl_set, Release<nftnl_set_free>>;
using SetElement = std::unique_ptr<nftnl_set_elem, Release<nftnl_set_elem_free>>;
using Rule = std::unique_ptr<nftnl_rule, Release<nftnl_rule_free>>;
using Expression = std::unique_ptr<nftnl_expr, Release<nftnl_expr_free>>;
using ExpressionIterator = std::unique_ptr<nftnl_expr_iter, Release<nftnl_expr_iter_destroy>>;
using UserData = std::unique_ptr<nftnl_udata_buf, Release<nftnl_udata_buf_free>>;

// Takes ownership of what a libnftnl allocator returned; throws when it returned nothing.
template <typename Handle>
Handle allocated(decltype(Handle().get()) raw) {
    if (raw == nullptr) {
        throw RuntimeError(ErrorKind::system, "out of memory for an nf_tables message");
    }
    return Handle(raw);
}

} // namespace acctc::runtime::nftnl
