// acctc bench: throughput of acctc's rulesets against no ruleset and the naive translation,
// in namespaces it creates and removes, plus apply, counter-read and compile timings at scale.
#include "acctc/bench/bench.hpp"
#include "command.hpp"
#include "common.hpp"

#include <iostream>
#include <nlohmann/json.hpp>
#include <sched.h>
#include <sstream>

namespace acctc::cli {
namespace {

namespace po = boost::program_options;

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> items;
    std::istringstream in(text);
    for (std::string item; std::getline(in, item, ',');) {
        if (!item.empty()) {
            items.push_back(item);
        }
    }
    return items;
}

std::vector<std::size_t> parse_sizes(const std::string& text, const char* option) {
    std::vector<std::size_t> sizes;
    for (const auto& item : split_list(text)) {
        std::size_t used = 0;
        unsigned long value = 0;
        try {
            value = std::stoul(item, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != item.size() || value < 2) {
            throw UsageError(std::string("--") + option + ": '" + item +
                             "' is not a number (2 or more)");
        }
        sizes.push_back(value);
    }
    return sizes;
}

int run_bench(const std::vector<std::string>& args) {
    bool json = false;
    bool quick = false;
    bool no_apply = false;
    bool no_datapath = false;
    bool no_compile = false;
    bool iptables_legacy = false;
    std::string kinds;
    std::string classes;
    std::string apply_classes;
    std::string compile_classes;
    unsigned compile_repetitions = 0;
    std::string hosts;
    std::string ip_versions;
    unsigned repetitions = 0;
    unsigned duration_ms = 0;
    unsigned flows = 16;
    std::size_t naive_max = 0;
    int cpu = -2; // not given: the bench's default
    po::options_description options("options");
    options.add_options()("json", po::bool_switch(&json), "print the report as JSON")(
        "quick", po::bool_switch(&quick),
        "3 repetitions of 100 ms, apply timings on 1,000 classes only")(
        "kinds", po::value(&kinds),
        "class kinds, comma-separated: ports,networks,protoport,gids,hosts,mixed (default "
        "all but mixed: half ports, half networks)")(
        "ip", po::value(&ip_versions),
        "the traffic's IP versions, comma-separated: 4,6 (default both)")(
        "hosts", po::value(&hosts),
        "active hosts for the hosts kind and the per-host read timings, comma-separated "
        "(default 65536)")("classes", po::value(&classes),
                           "policy sizes, comma-separated (default 10,100,1000,10000)")(
        "repetitions", po::value(&repetitions), "measurements per variant (default 41)")(
        "duration", po::value(&duration_ms), "milliseconds per measurement (default 50)")(
        "flows", po::value(&flows)->default_value(16), "flows, each hitting a different class")(
        "cpu", po::value(&cpu),
        "CPU for the sender and its forward path (default: the last one; -1: do not pin)")(
        "apply-classes", po::value(&apply_classes),
        "policy sizes for apply/read timings (default 10000,100000)")(
        "no-apply", po::bool_switch(&no_apply), "skip the apply and counter-read timings")(
        "compile-classes", po::value(&compile_classes),
        "policy sizes for the compile timings of every kind (default 100000)")(
        "compile-repetitions", po::value(&compile_repetitions),
        "runs of `acctc compile` per kind and size (default 11)")(
        "no-compile", po::bool_switch(&no_compile), "skip the compile timings")(
        "no-datapath", po::bool_switch(&no_datapath), "skip the throughput comparison")(
        "naive-max", po::value(&naive_max),
        "measure the naive chain only for policies of at most N classes (default: every size; "
        "100,000 rules walked on every packet make a 100,000-class case take ~25 min)")(
        "iptables-legacy", po::bool_switch(&iptables_legacy),
        "also measure the iptables output loaded with iptables-legacy (its table then stays in "
        "every variant's path)");
    po::variables_map map;
    if (!parse_command_line(args,
                            "acctc bench [--json] [--quick] [--kinds LIST] [--classes LIST] "
                            "[--repetitions N] [--duration MS] [--cpu N] [--apply-classes LIST] "
                            "[--hosts LIST] [--ip 4,6] [--naive-max N] [--iptables-legacy]",
                            options, {}, map)) {
        return exit_ok;
    }
    auto settings = quick ? bench::quick_bench_options() : bench::default_bench_options();
    if (!kinds.empty()) {
        settings.datapath.kinds.clear();
        for (const auto& item : split_list(kinds)) {
            const auto kind = bench::parse_class_kind(item);
            if (!kind) {
                throw UsageError("--kinds: unknown kind '" + item + "'");
            }
            settings.datapath.kinds.push_back(*kind);
        }
        settings.compile_kinds = settings.datapath.kinds;
    }
    if (!classes.empty()) {
        settings.datapath.sizes = parse_sizes(classes, "classes");
    }
    if (!ip_versions.empty()) {
        settings.datapath.ip_versions.clear();
        for (const auto& item : split_list(ip_versions)) {
            if (item != "4" && item != "6") {
                throw UsageError("--ip: '" + item + "' is not 4 or 6");
            }
            settings.datapath.ip_versions.push_back(item == "4" ? 4 : 6);
        }
    }
    if (!hosts.empty()) {
        settings.datapath.host_counts = parse_sizes(hosts, "hosts");
        settings.host_read_counts = settings.datapath.host_counts;
    }
    if (!apply_classes.empty()) {
        settings.apply_sizes = parse_sizes(apply_classes, "apply-classes");
    }
    if (!compile_classes.empty()) {
        settings.compile_sizes = parse_sizes(compile_classes, "compile-classes");
    }
    if (compile_repetitions > 0) {
        settings.compile_repetitions = compile_repetitions;
    }
    if (repetitions > 0) {
        settings.datapath.repetitions = repetitions;
    }
    if (duration_ms > 0) {
        settings.datapath.duration = std::chrono::milliseconds(duration_ms);
    }
    if (flows == 0) {
        throw UsageError("--flows must be at least 1");
    }
    settings.datapath.flows = flows;
    if (cpu != -2) {
        if (cpu < -1 || cpu >= CPU_SETSIZE) {
            throw UsageError("--cpu: a CPU number, or -1 for no pinning");
        }
        settings.datapath.cpu = cpu;
    }
    settings.datapath.iptables_legacy = iptables_legacy;
    if (naive_max > 0) {
        settings.datapath.naive_max_classes = naive_max;
    }
    if (no_apply) {
        settings.apply_sizes.clear();
        settings.host_read_counts.clear();
    }
    if (no_datapath) {
        settings.datapath.kinds.clear();
    }
    if (no_compile) {
        settings.compile_kinds.clear();
    }
    const auto report =
        bench::run_bench(settings, [](const std::string& line) { std::cerr << line << std::endl; });
    if (json) {
        std::cout << bench::to_json(report).dump(2) << "\n";
    } else {
        bench::print_table(std::cout, report);
    }
    return std::cout ? exit_ok : exit_usage;
}

const CommandRegistration bench_command{
    {"bench", "measure throughput, apply and counter-read times in namespaces", &run_bench}};

} // namespace
} // namespace acctc::cli
