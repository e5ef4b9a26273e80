#include "acctc/bench/bench.hpp"

#include "acctc/bench/text_table.hpp"
#include "acctc/testbench/netns.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <sys/utsname.h>
#include <unistd.h>

namespace acctc::bench {
namespace {

double load_average() {
    double load[1] = {0};
    return ::getloadavg(load, 1) == 1 ? load[0] : -1;
}

MachineInfo machine_info() {
    MachineInfo info;
    info.cpus = static_cast<unsigned>(::sysconf(_SC_NPROCESSORS_ONLN));
    utsname name{};
    if (::uname(&name) == 0) {
        info.kernel = std::string(name.sysname) + " " + name.release;
    }
    std::ifstream cpuinfo("/proc/cpuinfo");
    for (std::string line; std::getline(cpuinfo, line);) {
        if (line.rfind("model name", 0) == 0) {
            info.cpu_model = line.substr(line.find(':') + 2);
            break;
        }
    }
    info.load_start = load_average();
    return info;
}

std::string format_pps(double pps) {
    std::ostringstream text;
    text << std::fixed << std::setprecision(pps >= 1e5 ? 0 : 1) << pps / 1e3 << "k";
    return text.str();
}

std::string fixed(double value, int decimals) {
    std::ostringstream text;
    text << std::fixed << std::setprecision(decimals) << value;
    return text.str();
}

std::string format_ratio(double ratio) {
    std::ostringstream text;
    text << std::fixed << std::setprecision(ratio < 0.1 ? 3 : 2) << ratio;
    return text.str();
}

} // namespace

BenchOptions default_bench_options() {
    BenchOptions options;
    options.datapath.kinds = {ClassKind::ports, ClassKind::networks, ClassKind::protoport,
                              ClassKind::gids, ClassKind::hosts};
    options.datapath.sizes = {10, 100, 1000, 10000};
    options.datapath.host_counts = {65536};
    options.datapath.ip_versions = {4, 6};
    // Many short measurements: the host's slow spells (up to 2x, lasting about a second) then
    // usually cover a whole repetition, so its ratios compare like with like.
    options.datapath.repetitions = 41;
    options.datapath.duration = std::chrono::milliseconds(50);
    options.datapath.cpu = last_allowed_cpu();
    options.apply_sizes = {10000, 100000};
    options.apply_repetitions = 5;
    options.host_read_counts = {65536};
    options.compile_kinds = options.datapath.kinds;
    options.compile_sizes = {100000};
    options.compile_repetitions = 11;
    return options;
}

BenchOptions quick_bench_options() {
    BenchOptions options = default_bench_options();
    options.datapath.repetitions = 3;
    options.datapath.duration = std::chrono::milliseconds(100);
    options.apply_sizes = {1000};
    options.apply_repetitions = 3;
    options.datapath.host_counts = {1000};
    options.host_read_counts = {1000};
    options.compile_sizes = {1000};
    options.compile_repetitions = 3;
    options.quick = true;
    return options;
}

BenchReport run_bench(const BenchOptions& options,
                      const std::function<void(const std::string&)>& progress) {
    const auto start = std::chrono::steady_clock::now();
    BenchReport report;
    report.options = options;
    report.machine = machine_info();
    testbench::remove_stale_namespaces();
    if (!options.datapath.kinds.empty() && !options.datapath.sizes.empty()) {
        report.datapath = run_datapath(options.datapath, progress);
    }
    if (!options.apply_sizes.empty()) {
        report.apply = run_apply_timing(options.apply_sizes, options.apply_repetitions, progress);
    }
    if (!options.host_read_counts.empty()) {
        report.host_reads =
            run_host_read_timing(options.host_read_counts, options.apply_repetitions, progress);
    }
    if (!options.compile_kinds.empty() && !options.compile_sizes.empty()) {
        report.compile =
            run_compile_timing(options.compile_kinds, options.compile_sizes,
                               options.datapath.ip_versions, options.compile_repetitions, progress);
    }
    report.machine.load_end = load_average();
    report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report;
}

nlohmann::json to_json(const BenchReport& report) {
    using nlohmann::json;
    const auto& options = report.options;
    json kinds = json::array();
    for (const auto kind : options.datapath.kinds) {
        kinds.push_back(to_string(kind));
    }
    json out = {
        {"machine",
         {{"cpus", report.machine.cpus},
          {"kernel", report.machine.kernel},
          {"cpu_model", report.machine.cpu_model},
          {"load_average_start", report.machine.load_start},
          {"load_average_end", report.machine.load_end}}},
        {"settings",
         {{"quick", options.quick},
          {"kinds", kinds},
          {"classes", options.datapath.sizes},
          {"hosts", options.datapath.host_counts},
          {"ip_versions", options.datapath.ip_versions},
          {"host_reads", options.host_read_counts},
          {"repetitions", options.datapath.repetitions},
          {"measurement_ms", options.datapath.duration.count()},
          {"flows", options.datapath.flows},
          {"cpu", options.datapath.cpu},
          {"packet_length", 95},
          {"apply_classes", options.apply_sizes},
          {"apply_repetitions", options.apply_repetitions},
          {"compile_classes", options.compile_sizes},
          {"compile_repetitions", options.compile_repetitions}}},
        {"datapath", json::array()},
        {"apply", json::array()},
        {"host_reads", json::array()},
        {"compile", json::array()},
        {"notes", report.datapath.notes},
        {"seconds", report.seconds},
    };
    for (const auto& result : report.datapath.cases) {
        json variants = json::array();
        for (const auto& variant : result.variants) {
            json entry = {{"variant", to_string(variant.variant)},
                          {"median_pps", variant.median_pps},
                          {"median_ratio", variant.median_ratio},
                          {"best_pps", variant.best_pps},
                          {"best_ratio", variant.best_ratio},
                          {"pps", variant.pps},
                          {"ratios", variant.ratios},
                          {"median_cpu_pps", variant.median_cpu_pps},
                          {"median_cpu_ratio", variant.median_cpu_ratio},
                          {"cpu_pps", variant.cpu_pps},
                          {"cpu_ratios", variant.cpu_ratios},
                          {"sent", variant.sent},
                          {"forwarded", variant.forwarded}};
            if (variant.variant != Variant::baseline) {
                entry["load_seconds"] = variant.load_seconds;
            }
            if (variant.variant != Variant::baseline && variant.variant != Variant::empty_chain &&
                variant.variant != Variant::bpf_empty) {
                entry["counted"] = variant.counted;
                entry["otherwise"] = variant.otherwise;
                entry["classes_hit"] = variant.classes_hit;
            }
            variants.push_back(entry);
        }
        out["datapath"].push_back({{"kind", to_string(result.kind)},
                                   {"classes", result.classes},
                                   {"flows", result.flows},
                                   {"ip_version", result.ip_version},
                                   {"hook", result.hook},
                                   {"variants", variants}});
    }
    for (const auto& timing : report.apply) {
        out["apply"].push_back({{"kind", timing.kind},
                                {"classes", timing.classes},
                                {"counters", timing.counters},
                                {"ruleset_bytes", timing.ruleset_bytes},
                                {"compile_seconds", timing.compile_seconds},
                                {"apply_seconds", timing.apply_seconds},
                                {"reload_seconds", timing.reload_seconds},
                                {"change_seconds", timing.change_seconds},
                                {"apply_cpu_seconds", timing.apply_cpu_seconds},
                                {"reload_cpu_seconds", timing.reload_cpu_seconds},
                                {"change_cpu_seconds", timing.change_cpu_seconds}});
        add_read_timings(out["apply"].back(), timing.reads);
    }
    for (const auto& timing : report.host_reads) {
        out["host_reads"].push_back({{"hosts", timing.hosts}, {"read", timing.read}});
        auto& entry = out["host_reads"].back();
        add_read_timings(entry, timing.reads);
        entry["bpf"] = json::array();
        for (const auto& bpf : timing.bpf) {
            entry["bpf"].push_back({{"map", to_string(bpf.map)}, {"read", bpf.read}});
            add_read_timings(entry["bpf"].back(), bpf.reads);
        }
        entry["bpf_notes"] = timing.bpf_notes;
        entry["median_rcu_wait_ms"] = timing.median_rcu_wait_ms;
    }
    for (const auto& timing : report.compile) {
        out["compile"].push_back({{"kind", to_string(timing.kind)},
                                  {"ip_version", timing.ip_version},
                                  {"classes", timing.classes},
                                  {"source_bytes", timing.source_bytes},
                                  {"cpu_seconds", timing.cpu_seconds},
                                  {"user_seconds", timing.user_seconds},
                                  {"wall_seconds", timing.wall_seconds},
                                  {"median_cpu_seconds", timing.median_cpu_seconds},
                                  {"min_cpu_seconds", timing.min_cpu_seconds},
                                  {"max_cpu_seconds", timing.max_cpu_seconds},
                                  {"median_user_seconds", timing.median_user_seconds},
                                  {"median_wall_seconds", timing.median_wall_seconds}});
    }
    return out;
}

void print_table(std::ostream& out, const BenchReport& report) {
    const auto& machine = report.machine;
    out << "machine: " << machine.cpus << " CPUs, " << machine.cpu_model << ", " << machine.kernel
        << ", load average " << machine.load_start << " -> " << machine.load_end << "\n";
    if (!report.datapath.cases.empty()) {
        out << "data path: UDP, " << report.options.datapath.repetitions << " x "
            << report.options.datapath.duration.count() << " ms per variant, interleaved"
            << (report.options.datapath.cpu >= 0
                    ? ", sender on CPU " + std::to_string(report.options.datapath.cpu)
                    : std::string())
            << "; IPv4 packets of 95 bytes, IPv6 of 115; pps = medians; ratio = median of variant "
               "/ "
               "baseline of the same repetition, "
               "then best variant / best baseline, then the median ratio per second of the "
               "sender's "
               "CPU time (its softirq included, not the time other processes held the CPU); empty "
               "= "
               "one base chain without rules\n\n";
    }
    // One pps and one ratio column per variant any case measured, in the variants' order.
    std::vector<Variant> shown;
    for (int v = 0; v < variant_count; ++v) {
        for (const auto& result : report.datapath.cases) {
            if (std::any_of(
                    result.variants.begin(), result.variants.end(),
                    [&](const auto& variant) { return static_cast<int>(variant.variant) == v; })) {
                shown.push_back(static_cast<Variant>(v));
                break;
            }
        }
    }
    std::vector<TextColumn> columns{{"kind", Align::left}, {"ip"}, {"classes"}};
    for (const auto variant : shown) {
        columns.push_back({to_string(variant) + " pps"});
        if (variant != Variant::baseline) {
            columns.push_back({"ratio"});
        }
    }
    columns.push_back({"check", Align::left});
    TextTable datapath(columns);
    for (const auto& result : report.datapath.cases) {
        std::vector<std::string> cells{to_string(result.kind),
                                       "v" + std::to_string(result.ip_version),
                                       std::to_string(result.classes)};
        for (const auto variant : shown) {
            const auto found =
                std::find_if(result.variants.begin(), result.variants.end(),
                             [&](const auto& measured) { return measured.variant == variant; });
            const bool measured = found != result.variants.end();
            cells.push_back(measured ? format_pps(found->median_pps) : "-");
            if (variant != Variant::baseline) {
                cells.push_back(measured ? format_ratio(found->median_ratio) + "/" +
                                               format_ratio(found->best_ratio) + "/" +
                                               format_ratio(found->median_cpu_ratio)
                                         : "-");
            }
        }
        // Every packet the acctc table saw landed in a class counter, none in otherwise.
        // The same for the policy with one set instead of parts (or parts instead of one set)
        // and for acctc's iptables output, where they ran.
        std::string check;
        for (const auto v :
             {Variant::acctc, Variant::one_set, Variant::parts, Variant::iptables,
              Variant::iptables_legacy, Variant::bpf_hash, Variant::bpf_percpu_hash,
              Variant::bpf_lru_hash, Variant::bpf_hash_no_prealloc, Variant::bpf_hash_generations,
              Variant::bpf_ports, Variant::acctc_bpf}) {
            const auto found =
                std::find_if(result.variants.begin(), result.variants.end(),
                             [&](const auto& measured) { return measured.variant == v; });
            if (found == result.variants.end()) {
                continue;
            }
            check +=
                (check.empty() ? "" : "; ") +
                (v == Variant::acctc ? std::string() : to_string(v) + " ") +
                std::to_string(found->classes_hit) + "/" + std::to_string(result.flows) +
                " classes hit" +
                (found->otherwise == 0 ? "" : ", otherwise " + std::to_string(found->otherwise));
        }
        cells.push_back(std::move(check));
        datapath.add_row(std::move(cells));
    }
    if (!report.datapath.cases.empty()) {
        datapath.print(out);
    }
    for (const auto& note : report.datapath.notes) {
        out << "note: " << note << "\n";
    }
    if (!report.apply.empty()) {
        TextTable apply({{"apply", Align::left},
                         {"classes"},
                         {"compile s"},
                         {"apply s (CPU)"},
                         {"reload s (CPU)"},
                         {"1 changed s (CPU)"},
                         {"read ms"},
                         {"read CPU ms"},
                         {"reset ms"},
                         {"reset CPU ms"}});
        for (const auto& timing : report.apply) {
            apply.add_row(
                {timing.kind, std::to_string(timing.classes), fixed(timing.compile_seconds, 3),
                 fixed(timing.apply_seconds, 3) + " (" + fixed(timing.apply_cpu_seconds, 3) + ")",
                 fixed(timing.reload_seconds, 3) + " (" + fixed(timing.reload_cpu_seconds, 3) + ")",
                 fixed(timing.change_seconds, 3) + " (" + fixed(timing.change_cpu_seconds, 3) + ")",
                 fixed(timing.reads.median_read_ms, 1), fixed(timing.reads.median_read_cpu_ms, 1),
                 fixed(timing.reads.median_reset_ms, 1),
                 fixed(timing.reads.median_reset_cpu_ms, 1)});
        }
        out << "\n";
        apply.print(out);
    }
    if (!report.host_reads.empty()) {
        TextTable hosts({{"hosts"},
                         {"counters", Align::left},
                         {"read ms"},
                         {"read CPU ms"},
                         {"reset ms"},
                         {"reset CPU ms"}});
        const auto add_row = [&](std::size_t count, const std::string& where,
                                 const ReadTimings& reads) {
            hosts.add_row({std::to_string(count), where, fixed(reads.median_read_ms, 1),
                           fixed(reads.median_read_cpu_ms, 1), fixed(reads.median_reset_ms, 1),
                           fixed(reads.median_reset_cpu_ms, 1)});
        };
        for (const auto& timing : report.host_reads) {
            add_row(timing.hosts, "nft set elements", timing.reads);
            for (const auto& bpf : timing.bpf) {
                add_row(timing.hosts, "bpf " + to_string(bpf.map), bpf.reads);
            }
        }
        out << "\n";
        hosts.print(out);
        for (const auto& timing : report.host_reads) {
            for (const auto& note : timing.bpf_notes) {
                out << "note: " << note << "\n";
            }
            out << "bpf, " << timing.hosts
                << " hosts: a reset is BPF_MAP_LOOKUP_AND_DELETE_BATCH (hash_generations: "
                   "switch generations, wait for running programs, then that); the wait "
                   "(membarrier, synchronize_rcu) "
                << fixed(timing.median_rcu_wait_ms, 1) << " ms\n";
        }
    }
    if (!report.compile.empty()) {
        TextTable compile({{"compile", Align::left},
                           {"ip"},
                           {"classes"},
                           {"CPU s (median)"},
                           {"CPU s (min-max)"},
                           {"user s"},
                           {"wall s"}});
        for (const auto& timing : report.compile) {
            compile.add_row(
                {to_string(timing.kind),
                 timing.ip_version ? "v" + std::to_string(timing.ip_version) : "-",
                 std::to_string(timing.classes), fixed(timing.median_cpu_seconds, 3),
                 fixed(timing.min_cpu_seconds, 3) + "-" + fixed(timing.max_cpu_seconds, 3),
                 fixed(timing.median_user_seconds, 3), fixed(timing.median_wall_seconds, 3)});
        }
        out << "\n";
        compile.print(out);
        out << "compile: the whole `acctc compile FILE > /dev/null` in its own process, "
            << report.options.compile_repetitions
            << " runs of each, interleaved; CPU = user + system\n";
    }
    out << "\ntotal " << std::fixed << std::setprecision(1) << report.seconds << " s\n"
        << std::defaultfloat;
}

} // namespace acctc::bench
