// The compiler's stages on generated policies of 1,000 to 100,000 exclusive classes, one
// benchmark per stage so a regression points at its stage, with a fitted complexity per
// family (the goal is linear), and the peak resident memory of one whole compile.
#include "acctc/compile.hpp"
#include "check.hpp"
#include "emit_nft.hpp"
#include "host_database.hpp"
#include "lower.hpp"
#include "parser.hpp"

#include <benchmark/benchmark.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace acctc {
namespace {

enum class Kind { ports, networks, protoport };

const char* kind_name(Kind kind) {
    switch (kind) {
    case Kind::ports:
        return "ports";
    case Kind::networks:
        return "networks";
    case Kind::protoport:
        return "protoport";
    }
    return "?";
}

// The same shapes `acctc bench` loads: ports (one key, an interval map), host networks (an
// address interval map) and alternating tcp/udp ports (a concatenated key).
std::string generate_policy(Kind kind, std::size_t classes) {
    std::string text = "policy bench\ninterface wan = eth0\nclassify svc forward in via wan {\n";
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

void emit_stage(benchmark::State& state, Kind kind) {
    const auto classes = static_cast<std::size_t>(state.range(0));
    Stages stages(kind, classes, 3);
    for (auto _ : state) {
        benchmark::DoNotOptimize(emit_nft(stages.table));
    }
    set_counters(state, classes);
}

// The whole pipeline as `acctc compile` runs it (host database and text assembly included).
void whole_compile(benchmark::State& state, Kind kind) {
    const auto classes = static_cast<std::size_t>(state.range(0));
    const std::string text = generate_policy(kind, classes);
    for (auto _ : state) {
        auto result = compile_source("bench.acct", text);
        if (!result.output) {
            state.SkipWithError("the generated policy does not compile");
            break;
        }
        benchmark::DoNotOptimize(result);
    }
    set_counters(state, classes);
}

// Peak resident memory of a fresh process (this binary re-executed) that generates the
// policy and compiles it once, minus that of one that only generates it: the difference is
// what the compile itself needed at its peak. The child reports its own VmHWM: getrusage's
// ru_maxrss would include the pages the forked copy of this process held before exec.
constexpr const char* child_flag = "--acctc-compile-once";

long child_max_rss_kib(Kind kind, std::size_t classes, bool compile) {
    // Resolved here: inside popen's shell, /proc/self/exe would be the shell.
    const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
    const std::string command = self + " " + std::string(child_flag) + " " +
                                std::to_string(static_cast<int>(kind)) + " " +
                                std::to_string(classes) + (compile ? " compile" : " generate");
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

// The child's side of child_max_rss_kib.
int compile_once(const char* kind, const char* classes, const char* what) {
    const std::string text =
        generate_policy(static_cast<Kind>(std::atoi(kind)), std::strtoul(classes, nullptr, 10));
    if (std::string_view(what) == "compile" && !compile_source("bench.acct", text).output) {
        return 1;
    }
    benchmark::DoNotOptimize(text.data());
    std::printf("%ld\n", own_peak_rss_kib());
    return 0;
}

void peak_memory(benchmark::State& state, Kind kind) {
    const auto classes = static_cast<std::size_t>(state.range(0));
    long generate = 0;
    long compile = 0;
    for (auto _ : state) {
        generate = child_max_rss_kib(kind, classes, false);
        compile = child_max_rss_kib(kind, classes, true);
    }
    state.counters["peak_rss_MiB"] = static_cast<double>(compile) / 1024;
    state.counters["compile_MiB"] = static_cast<double>(compile - generate) / 1024;
}

void register_all() {
    using Body = void (*)(benchmark::State&, Kind);
    const std::pair<const char*, Body> stages[] = {{"parse", parse_stage},
                                                   {"check", check_stage},
                                                   {"lower", lower_stage},
                                                   {"emit", emit_stage},
                                                   {"compile", whole_compile}};
    for (const auto kind : {Kind::ports, Kind::networks, Kind::protoport}) {
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
        auto* memory = benchmark::RegisterBenchmark(
            (std::string("peak_memory/") + kind_name(kind)).c_str(), peak_memory, kind);
        for (const auto size : sizes) {
            memory->Arg(size);
        }
        memory->Iterations(1)->Unit(benchmark::kMillisecond);
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
