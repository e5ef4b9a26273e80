// What must go when the bench is interrupted: the namespaces it mounted and the processes it
// forked. SIGINT/SIGTERM run an async-signal-safe handler that kills and unmounts them, then
// re-raise. SIGKILL cannot be caught: children die with PR_SET_PDEATHSIG and the mounts are
// removed by the next run's stale-namespace sweep.
#pragma once

#include <sys/types.h>

namespace acctc::testbench::cleanup {

// Idempotent; called by the first namespace or process the bench creates.
void install_signal_handlers();

// Fixed-size registries (no allocation in the handler). Registering past capacity throws.
void register_namespace_path(const char* path);
void unregister_namespace_path(const char* path);
void register_child(pid_t pid);
void unregister_child(pid_t pid);

} // namespace acctc::testbench::cleanup
