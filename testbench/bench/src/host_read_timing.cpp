#include "acctc/bench/host_read_timing.hpp"

#include "acctc/bench/bench_policy.hpp"
#include "acctc/bench/datapath.hpp"
#include "acctc/compile.hpp"
#include "acctc/runtime/backend.hpp"
#include "acctc/runtime/bpf.hpp"
#include "acctc/runtime/counters.hpp"
#include "acctc/runtime/nft_context.hpp"
#include "acctc/testbench/netns.hpp"

#include <chrono>
#include <stdexcept>

namespace acctc::bench {
namespace {

// Each host as the packet path would have left it: an element with a counter in one of the
// IPv4 host sets (the parts of a large set: which part holds a host does not change the read).
std::string fill_commands(const BenchPolicy& policy, const CompiledPolicy& compiled) {
    std::vector<std::string> sets;
    for (const auto& set : compiled.sets) {
        if (set.starts_with(policy.classify_name + "_hosts_v4")) {
            sets.push_back(set);
        }
    }
    if (sets.empty()) {
        throw std::runtime_error("host read timing: the bench policy has no IPv4 host set");
    }
    std::vector<std::string> elements(sets.size());
    for (std::size_t i = 0; i < policy.flows.size(); ++i) {
        std::string& text = elements[i % sets.size()];
        text += (text.empty() ? "" : ", ") + policy.flows[i].source.to_string() +
                " counter packets 1 bytes 95";
    }
    std::string commands;
    for (std::size_t k = 0; k < sets.size(); ++k) {
        if (!elements[k].empty()) {
            commands += "add element inet " + compiled.table_name + " " + sets[k] + " { " +
                        elements[k] + " }\n";
        }
    }
    return commands;
}

// The policy's hosts in BPF maps of each kind, read and read-and-deleted like the set.
std::vector<BpfReadTiming> time_bpf_reads(const BenchPolicy& policy, unsigned repetitions,
                                          std::vector<std::string>& notes) {
    std::vector<BpfHostCount> hosts;
    for (const auto& flow : policy.flows) {
        BpfHostCount host;
        std::copy(flow.source.bytes.begin(), flow.source.bytes.begin() + 4, host.address.begin());
        host.packets = 1;
        host.bytes = 95;
        hosts.push_back(host);
    }
    std::vector<BpfReadTiming> out;
    for (const auto map :
         {BpfHostMap::hash, BpfHostMap::percpu_hash, BpfHostMap::hash_generations}) {
        try {
            // Sized as the bench's nft set: twice the largest host count.
            BpfHostCounter counter(map,
                                   static_cast<std::uint32_t>(2 * max_classes(ClassKind::hosts)));
            BpfReadTiming timing;
            timing.map = map;
            timing.reads = time_reads(
                repetitions,
                [&](bool reset) {
                    const auto counts = reset ? counter.read_and_delete() : counter.read();
                    if (!reset && timing.read == 0) {
                        timing.read = counts.hosts.size();
                    }
                },
                [&] { counter.fill(hosts); });
            out.push_back(timing);
        } catch (const std::exception& error) {
            notes.push_back("bpf read timing " + to_string(map) + " skipped: " + error.what());
        }
    }
    return out;
}

double median_rcu_wait_ms(unsigned repetitions) {
    std::vector<double> waits;
    for (unsigned rep = 0; rep < repetitions; ++rep) {
        const auto start = std::chrono::steady_clock::now();
        try {
            runtime::bpf::wait_for_running_programs();
        } catch (const std::exception&) {
            return -1;
        }
        waits.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count());
    }
    return median(waits);
}

HostReadTiming time_one(std::size_t hosts, unsigned repetitions) {
    if (hosts < 2 || hosts > max_classes(ClassKind::hosts)) {
        throw std::invalid_argument("host read timing: 2.." +
                                    std::to_string(max_classes(ClassKind::hosts)) + " hosts");
    }
    HostReadTiming timing;
    timing.hosts = hosts;
    const auto policy = make_bench_policy(ClassKind::hosts, hosts, offline_addressing(), 1);
    auto compiled = compile_source(policy.policy_name + ".acct", policy.source);
    if (!compiled.output) {
        throw std::runtime_error("host read timing: the bench policy does not compile");
    }
    const auto netns = testbench::NamedNetns::create(testbench::RunPrefix::current().text() +
                                                     "hosts" + std::to_string(hosts));
    runtime::make_backend(runtime::BackendKind::nftables, netns.name())
        ->apply(*compiled.output, false);
    {
        testbench::ScopedNetns inside(netns);
        const auto result = runtime::NftContext().run(fill_commands(policy, *compiled.output));
        if (!result.ok) {
            throw std::runtime_error("host read timing: cannot add the hosts: " + result.errors);
        }
    }
    timing.reads = time_reads(policy.policy_name, netns.name(), repetitions,
                              [&](const std::vector<runtime::CounterSample>& samples) {
                                  for (const auto& sample : samples) {
                                      timing.read += sample.label(Dimension::host).empty() ||
                                                             sample.counter == policy.rest_counter
                                                         ? 0
                                                         : 1;
                                  }
                              });
    if (timing.read != hosts) {
        throw std::runtime_error("host read timing: read " + std::to_string(timing.read) +
                                 " hosts, expected " + std::to_string(hosts));
    }
    timing.bpf = time_bpf_reads(policy, repetitions, timing.bpf_notes);
    for (const auto& bpf : timing.bpf) {
        if (bpf.read != hosts) {
            throw std::runtime_error("host read timing: bpf " + to_string(bpf.map) + " read " +
                                     std::to_string(bpf.read) + " hosts, expected " +
                                     std::to_string(hosts));
        }
    }
    timing.median_rcu_wait_ms = median_rcu_wait_ms(repetitions);
    return timing;
}

} // namespace

std::vector<HostReadTiming>
run_host_read_timing(const std::vector<std::size_t>& host_counts, unsigned repetitions,
                     const std::function<void(const std::string&)>& progress) {
    std::vector<HostReadTiming> timings;
    for (const auto hosts : host_counts) {
        timings.push_back(time_one(hosts, repetitions));
        if (progress) {
            progress("hosts " + std::to_string(hosts) + ": " + describe(timings.back().reads));
            for (const auto& bpf : timings.back().bpf) {
                progress("hosts " + std::to_string(hosts) + " bpf " + to_string(bpf.map) + ": " +
                         describe(bpf.reads));
            }
        }
    }
    return timings;
}

} // namespace acctc::bench
