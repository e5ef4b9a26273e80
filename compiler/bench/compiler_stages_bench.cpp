// The compiler's stages on generated policies of 1,000 to 100,000 exclusive classes (and one
// counter on an alias of as many addresses), one benchmark per stage so a regression points at
// its stage, with a fitted complexity per family (the goal is linear), and the peak resident
// memory of one whole compile for each target.
#include "acctc/compile.hpp"
#include "check.hpp"
#include "element_counters.hpp"
#include "emit_iptables.hpp"
#include "emit_nft.hpp"
#include "host_database.hpp"
#include "intervals.hpp"
#include "lower.hpp"
#include "parser.hpp"

#include <algorithm>
#include <benchmark/benchmark.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace acctc {
namespace {

enum class Kind { ports, networks, protoport, alias, gids };

const char* kind_name(Kind kind) {
    switch (kind) {
    case Kind::ports:
        return "ports";
    case Kind::networks:
        return "networks";
    case Kind::protoport:
        return "protoport";
    case Kind::alias:
        return "alias";
    case Kind::gids:
        return "gids";
    }
    return "?";
}

// One counter, `address many`, on an alias of `count` addresses that do not merge (every other
// one of 10.0.0.0/8, in a shuffled order): each is a set element for nft, and three iptables
// rules (from it; not from any, to it) per hook. Once quadratic in both targets.
std::string generate_alias(std::size_t count) {
    std::vector<std::uint32_t> addresses;
    for (std::size_t i = 0; i < count; ++i) {
        addresses.push_back(0x0a000000U + 2 * static_cast<std::uint32_t>(i));
    }
    std::mt19937 random(1);
    std::shuffle(addresses.begin(), addresses.end(), random);
    std::string text = "policy bench\nnetwork many = ";
    for (std::size_t i = 0; i < count; ++i) {
        text += (i ? ", " : "") + format_ipv4(addresses[i]);
    }
    return text + "\ncounter c { address many }\n";
}

// The same shapes `acctc bench` loads: ports (one key, an interval map), host networks (an
// address interval map), alternating tcp/udp ports (a concatenated key) and owner groups (a
// meta key, local output only).
std::string generate_policy(Kind kind, std::size_t classes) {
    if (kind == Kind::alias) {
        return generate_alias(classes);
    }
    std::string text = std::string("policy bench\ninterface wan = eth0\nclassify svc ") +
                       (kind == Kind::gids ? "local out" : "forward in via wan") + " {\n";
    for (std::size_t i = 0; i < classes; ++i) {
        text += "    c" + std::to_string(i) + ": ";
        switch (kind) {
        case Kind::ports:
            text += "udp dport " + std::to_string(1000 + i);
            break;
        case Kind::networks: // one /32 per class inside 198.18.0.0/15
            text += "from 198." + std::to_string(18 + (i >> 16)) + "." +
                    std::to_string((i >> 8) & 255) + "." + std::to_string(i & 255);
            break;
        case Kind::protoport:
            text +=
                std::string(i % 2 == 0 ? "tcp" : "udp") + " dport " + std::to_string(1000 + i / 2);
            break;
        case Kind::gids:
            text += "owner group " + std::to_string(5000 + i);
            break;
        case Kind::alias:
            break;
        }
        text += "\n";
    }
    return text + "    otherwise: rest\n}\n";
}

struct Stages {
    SourceFile file;
    Diagnostics diagnostics;
    HostDatabase hosts{"/etc"};
    ast::Policy tree;
    ir::Policy policy;
    rules::Table table;

    Stages(Kind kind, std::size_t classes, int upto)
        : file("bench.acct", generate_policy(kind, classes)) {
        if (upto > 0) {
            tree = parse_policy(file, diagnostics);
        }
        if (upto > 1) {
            policy = check_policy(file, tree, hosts, diagnostics);
        }
        if (upto > 2) {
            table = lower_policy(policy, diagnostics);
        }
        if (upto > 3) {
            use_element_counters(table,
                                 CompileOptions{}.element_one_set_keys); // as the nft target does
        }
        if (diagnostics.has_errors()) {
            throw std::runtime_error("the generated policy does not compile");
        }
    }
};

void set_counters(benchmark::State& state, std::size_t classes) {
    state.SetComplexityN(static_cast<benchmark::IterationCount>(classes));
    state.counters["classes/s"] = benchmark::Counter(static_cast<double>(classes),
                                                     benchmark::Counter::kIsIterationInvariantRate);
}

void parse_stage(benchmark::State& state, Kind kind) {
    const auto classes = static_cast<std::size_t>(state.range(0));
    Stages stages(kind, classes, 0);
    for (auto _ : state) {
        Diagnostics diagnostics;
        benchmark::DoNotOptimize(parse_policy(stages.file, diagnostics));
    }
    set_counters(state, classes);
}

void check_stage(benchmark::State& state, Kind kind) {
    const auto classes = static_cast<std::size_t>(state.range(0));
    Stages stages(kind, classes, 1);
    for (auto _ : state) {
        Diagnostics diagnostics;
        benchmark::DoNotOptimize(check_policy(stages.file, stages.tree, stages.hosts, diagnostics));
    }
    set_counters(state, classes);
}

void lower_stage(benchmark::State& state, Kind kind) {
    const auto classes = static_cast<std::size_t>(state.range(0));
    Stages stages(kind, classes, 2);
    for (auto _ : state) {
        Diagnostics diagnostics;
        benchmark::DoNotOptimize(lower_policy(stages.policy, diagnostics));
    }
    set_counters(state, classes);
}

// Large classifications as element counters (nft only), on a copy of the lowered table made
// outside the timing.
void element_counters_stage(benchmark::State& state, Kind kind) {
    const auto classes = static_cast<std::size_t>(state.range(0));
    Stages stages(kind, classes, 3);
    for (auto _ : state) {
        state.PauseTiming();
        rules::Table table = stages.table;
        state.ResumeTiming();
        use_element_counters(table, CompileOptions{}.element_one_set_keys);
        benchmark::DoNotOptimize(table);
        state.PauseTiming();
        table = {}; // freed outside the timing too
        state.ResumeTiming();
    }
    set_counters(state, classes);
}

// nft emits the table after the element counters, iptables the lowered table.
template <typename Emit>
void emit_with(benchmark::State& state, Kind kind, int upto, Emit emit) {
    const auto classes = static_cast<std::size_t>(state.range(0));
    Stages stages(kind, classes, upto);
    for (auto _ : state) {
        benchmark::DoNotOptimize(emit(stages.table));
    }
    set_counters(state, classes);
}

void emit_stage(benchmark::State& state, Kind kind) {
    emit_with(state, kind, 4, [](const rules::Table& table) { return emit_nft(table); });
}

void emit_iptables_stage(benchmark::State& state, Kind kind) {
    emit_with(state, kind, 3, [](const rules::Table& table) { return emit_iptables(table); });
}

// The whole pipeline as `acctc compile [--target iptables]` runs it (host database and text
// assembly included; the iptables target also emits the nft text).
void compile_for(benchmark::State& state, Kind kind, Target target) {
    const auto classes = static_cast<std::size_t>(state.range(0));
    const std::string text = generate_policy(kind, classes);
    CompileOptions options;
    options.target = target;
    for (auto _ : state) {
        auto result = compile_source("bench.acct", text, options);
        if (!result.output) {
            state.SkipWithError("the generated policy does not compile");
            break;
        }
        benchmark::DoNotOptimize(result);
    }
    set_counters(state, classes);
}

void whole_compile(benchmark::State& state, Kind kind) {
    compile_for(state, kind, Target::nft);
}

void whole_compile_iptables(benchmark::State& state, Kind kind) {
    compile_for(state, kind, Target::iptables);
}

// Peak resident memory of a fresh process (this binary re-executed) that generates the
// policy and compiles it once, minus that of one that only generates it: the difference is
// what the compile itself needed at its peak. The child reports its own VmHWM: getrusage's
// ru_maxrss would include the pages the forked copy of this process held before exec.
constexpr const char* child_flag = "--acctc-compile-once";

long child_max_rss_kib(Kind kind, std::size_t classes, const char* what) {
    // Resolved here: inside popen's shell, /proc/self/exe would be the shell.
    const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
    const std::string command = self + " " + std::string(child_flag) + " " +
                                std::to_string(static_cast<int>(kind)) + " " +
                                std::to_string(classes) + " " + what;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe) {
        throw std::runtime_error("cannot start " + command);
    }
    long kib = -1;
    const int read = std::fscanf(pipe, "%ld", &kib);
    if (::pclose(pipe) != 0 || read != 1) {
        throw std::runtime_error("compile child failed");
    }
    return kib;
}

long own_peak_rss_kib() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("VmHWM:", 0) == 0) {
            return std::stol(line.substr(6));
        }
    }
    return -1;
}

// The child's side of child_max_rss_kib: `what` is generate, nft or iptables.
int compile_once(const char* kind, const char* classes, const char* what) {
    const std::string text =
        generate_policy(static_cast<Kind>(std::atoi(kind)), std::strtoul(classes, nullptr, 10));
    if (std::string_view(what) != "generate") {
        CompileOptions options;
        options.target = std::string_view(what) == "iptables" ? Target::iptables : Target::nft;
        if (!compile_source("bench.acct", text, options).output) {
            return 1;
        }
    }
    benchmark::DoNotOptimize(text.data());
    std::printf("%ld\n", own_peak_rss_kib());
    return 0;
}

void peak_memory_for(benchmark::State& state, Kind kind, const char* target) {
    const auto classes = static_cast<std::size_t>(state.range(0));
    long generate = 0;
    long compile = 0;
    for (auto _ : state) {
        generate = child_max_rss_kib(kind, classes, "generate");
        compile = child_max_rss_kib(kind, classes, target);
    }
    state.counters["peak_rss_MiB"] = static_cast<double>(compile) / 1024;
    state.counters["compile_MiB"] = static_cast<double>(compile - generate) / 1024;
}

void peak_memory(benchmark::State& state, Kind kind) {
    peak_memory_for(state, kind, "nft");
}

void peak_memory_iptables(benchmark::State& state, Kind kind) {
    peak_memory_for(state, kind, "iptables");
}

void register_all() {
    using Body = void (*)(benchmark::State&, Kind);
    const std::pair<const char*, Body> stages[] = {
        {"parse", parse_stage},     {"check", check_stage},
        {"lower", lower_stage},     {"element_counters", element_counters_stage},
        {"emit", emit_stage},       {"emit_iptables", emit_iptables_stage},
        {"compile", whole_compile}, {"compile_iptables", whole_compile_iptables}};
    for (const auto kind :
         {Kind::ports, Kind::networks, Kind::protoport, Kind::alias, Kind::gids}) {
        // Ports have 64,535 distinct keys above 1000, so that family stops at 10,000.
        const std::vector<std::int64_t> sizes =
            kind == Kind::ports ? std::vector<std::int64_t>{1000, 10000}
                                : std::vector<std::int64_t>{1000, 10000, 100000};
        for (const auto& [name, body] : stages) {
            auto* family = benchmark::RegisterBenchmark(
                (std::string(name) + "/" + kind_name(kind)).c_str(), body, kind);
            for (const auto size : sizes) {
                family->Arg(size);
            }
            family->Unit(benchmark::kMillisecond)->Complexity(benchmark::oN);
        }
        for (const auto& [name, body] : {std::pair<const char*, Body>{"peak_memory", peak_memory},
                                         {"peak_memory_iptables", peak_memory_iptables}}) {
            auto* memory = benchmark::RegisterBenchmark(
                (std::string(name) + "/" + kind_name(kind)).c_str(), body, kind);
            for (const auto size : sizes) {
                memory->Arg(size);
            }
            memory->Iterations(1)->Unit(benchmark::kMillisecond);
        }
    }
}

} // namespace
} // namespace acctc

int main(int argc, char** argv) {
    if (argc == 5 && std::string_view(argv[1]) == acctc::child_flag) {
        return acctc::compile_once(argv[2], argv[3], argv[4]);
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    acctc::register_all();
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
