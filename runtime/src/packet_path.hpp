// Waiting until no packet still runs the ruleset generation a transaction just replaced.
#pragma once

namespace acctc::runtime {

// After a commit, packets already inside nf_tables keep running the old rules until they
// leave its RCU read-side section; this returns once every such section has ended, so a
// counter no rule references any more has its final value.
void wait_for_packet_path();

} // namespace acctc::runtime
