#include "check_opener.hpp"

namespace acctc {

void check_opener_split(const ir::Counter& counter, SourceRange split_range, Diagnostics& diag) {
    if (!counter.follow) {
        diag.error(split_range, "split opener needs 'follow connection' (or 'listen'): only a "
                                "followed connection tells who opened it");
    }
    // Without an interface, a router has no side that is local: no end of a forwarded
    // connection is this host's (the default scope is this host, so only `forward` gets here).
    if ((counter.match.scopes & ir::scope_forward) && counter.match.via.empty()) {
        diag.error(split_range, "split opener of forwarded traffic needs 'via INTERFACE': "
                                "connections opened through the interface are remote, the "
                                "others local");
    }
}

} // namespace acctc
