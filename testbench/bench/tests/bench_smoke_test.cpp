// Smoke test of `acctc bench`: the quick run with 10 classes finishes and its JSON has the
// documented shape. It checks no timing: benchmarks are not timed tests.
#include <array>
#include <cstdio>
#include <gtest/gtest.h>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <sys/wait.h>

namespace {

struct PipeCloser {
    void operator()(FILE* pipe) const { ::pclose(pipe); }
};

std::string run(const std::string& command) {
    std::unique_ptr<FILE, PipeCloser> pipe(::popen(command.c_str(), "r"));
    if (!pipe) {
        return {};
    }
    std::string output;
    std::array<char, 4096> buffer{};
    while (const auto count = std::fread(buffer.data(), 1, buffer.size(), pipe.get())) {
        output.append(buffer.data(), count);
    }
    return output;
}

TEST(BenchSmoke, QuickRunWithTenClassesHasTheJsonShape) {
    const auto output =
        run(std::string(ACCTC_BINARY) +
            " bench --quick --classes 10 --hosts 300 --apply-classes 10 --json 2>/dev/null");
    const auto report = nlohmann::json::parse(output, nullptr, false);
    ASSERT_FALSE(report.is_discarded()) << output;
    for (const char* key : {"machine", "settings", "datapath", "apply", "host_reads", "compile",
                            "notes", "seconds"}) {
        EXPECT_TRUE(report.contains(key)) << key;
    }
    EXPECT_GT(report["machine"]["cpus"].get<unsigned>(), 0U);
    // Pinned by default to the last CPU it may use.
    EXPECT_GE(report["settings"]["cpu"].get<int>(), 0);
    // ports, networks, protoport, gids, hosts; with IPv4 traffic, then with IPv6.
    ASSERT_EQ(report["datapath"].size(), 10U);
    for (const auto& result : report["datapath"]) {
        SCOPED_TRACE(result.dump()); // which run, if one fails under load
        EXPECT_TRUE(result["ip_version"] == 4 || result["ip_version"] == 6);
        const bool hosts = result["kind"] == "hosts";
        const bool ports = result["kind"] == "ports" || result["kind"] == "protoport";
        EXPECT_EQ(result["classes"], hosts ? 300 : 10);
        std::set<std::string> variants;
        for (const auto& variant : result["variants"]) {
            variants.insert(variant["variant"].get<std::string>());
            EXPECT_EQ(variant["pps"].size(), 3U);
            EXPECT_GT(variant["median_pps"].get<double>(), 0);
            EXPECT_GE(variant["best_pps"].get<double>(), variant["median_pps"].get<double>());
            EXPECT_GT(variant["best_ratio"].get<double>(), 0);
            EXPECT_GT(variant["forwarded"].get<std::uint64_t>(), 0U);
            EXPECT_EQ(variant["cpu_pps"].size(), 3U);
            EXPECT_GT(variant["median_cpu_ratio"].get<double>(), 0);
            if (variant["variant"] == "acctc" || variant["variant"] == "naive" ||
                variant["variant"] == "one_set") {
                // The traffic lands in class counters, never in otherwise.
                EXPECT_GT(variant["counted"].get<std::uint64_t>(), 0U);
                EXPECT_EQ(variant["otherwise"], 0);
                EXPECT_EQ(variant["classes_hit"], result["flows"]);
            }
        }
        // Per-host counting has no hand-written one-rule-per-class equivalent; its steps add
        // the dispatch to the parts (the bench's set of 131,072 is 16), and the same policy with
        // one set per family to compare the parts with.
        EXPECT_TRUE(variants.count("baseline") && variants.count("empty_chain") &&
                    variants.count("acctc") && variants.count("naive") != hosts);
        for (const char* step : {"compare", "jump", "lookup"}) {
            EXPECT_EQ(variants.count(step), 1U) << step;
        }
        for (const char* step : {"dispatch", "one_set"}) {
            EXPECT_EQ(variants.count(step) == 1, hosts) << step;
        }
        // The BPF experiments beside nft, for hosts and for ports: every host in its map,
        // none in the overflow (the LRU map too: it has room for all of them); every flow in
        // its port's slot, none in the other slot.
        for (const char* bpf : {"bpf_hash", "bpf_percpu_hash", "bpf_lru_hash",
                                "bpf_hash_no_prealloc", "bpf_hash_generations"}) {
            EXPECT_EQ(variants.count(bpf) == 1, hosts) << bpf;
        }
        EXPECT_EQ(variants.count("bpf_ports") == 1, ports);
        EXPECT_EQ(variants.count("bpf_empty") == 1, hosts || ports);
        for (const auto& variant : result["variants"]) {
            if (variant["variant"].get<std::string>().rfind("bpf_hash", 0) == 0 ||
                variant["variant"] == "bpf_percpu_hash" || variant["variant"] == "bpf_lru_hash" ||
                variant["variant"] == "bpf_ports") {
                EXPECT_EQ(variant["classes_hit"], result["flows"]) << variant["variant"];
                EXPECT_EQ(variant["otherwise"], 0) << variant["variant"];
                // At the wan ingress, every packet the router forwarded was counted.
                EXPECT_GE(variant["counted"].get<std::uint64_t>(),
                          variant["forwarded"].get<std::uint64_t>())
                    << variant["variant"];
            }
        }
    }
    ASSERT_EQ(report["apply"].size(), 1U);
    EXPECT_EQ(report["apply"][0]["counters"], 11);
    // Every host of the set read back, and reset.
    ASSERT_EQ(report["host_reads"].size(), 1U);
    SCOPED_TRACE(report["host_reads"][0].dump());
    EXPECT_EQ(report["host_reads"][0]["hosts"], 300);
    EXPECT_EQ(report["host_reads"][0]["read"], 300);
    EXPECT_EQ(report["host_reads"][0]["reset_ms"].size(), 3U);
    // The kernel's part of each read's CPU time beside it.
    EXPECT_EQ(report["host_reads"][0]["reset_system_ms"].size(), 3U);
    EXPECT_LE(report["host_reads"][0]["median_read_system_ms"].get<double>(),
              report["host_reads"][0]["median_read_cpu_ms"].get<double>());
    // The same hosts read from BPF maps of three kinds.
    ASSERT_EQ(report["host_reads"][0]["bpf"].size(), 3U);
    for (const auto& bpf : report["host_reads"][0]["bpf"]) {
        EXPECT_EQ(bpf["read"], 300) << bpf["map"];
        EXPECT_EQ(bpf["reset_ms"].size(), 3U) << bpf["map"];
    }
}

// The compile timings: every kind, networks and hosts once per IP version, each run of `acctc
// compile` timed; networks go on past the data path's 16,384 /30s, ports stop at its 64,535.
TEST(BenchSmoke, CompileTimingsCoverEveryKind) {
    const auto output = run(std::string(ACCTC_BINARY) +
                            " bench --no-datapath --no-apply --compile-classes 20000,70000 "
                            "--compile-repetitions 2 --json 2>/dev/null");
    const auto report = nlohmann::json::parse(output, nullptr, false);
    ASSERT_FALSE(report.is_discarded()) << output;
    EXPECT_EQ(report["settings"]["compile_repetitions"], 2);
    std::map<std::string, std::set<std::size_t>> classes; // "kind vN" -> sizes
    for (const auto& timing : report["compile"]) {
        SCOPED_TRACE(timing.dump());
        const auto kind = timing["kind"].get<std::string>();
        const bool by_ip = kind == "networks" || kind == "hosts";
        EXPECT_EQ(timing["ip_version"] != 0, by_ip);
        classes[kind + " v" + timing["ip_version"].dump()].insert(
            timing["classes"].get<std::size_t>());
        ASSERT_EQ(timing["cpu_seconds"].size(), 2U);
        EXPECT_GT(timing["median_cpu_seconds"].get<double>(), 0);
        EXPECT_LE(timing["min_cpu_seconds"].get<double>(), timing["max_cpu_seconds"].get<double>());
    }
    const std::map<std::string, std::set<std::size_t>> expected{
        {"ports v0", {20000, 64535}},    {"networks v4", {20000, 70000}},
        {"networks v6", {20000, 70000}}, {"protoport v0", {20000, 70000}},
        {"gids v0", {20000, 70000}},     {"hosts v4", {20000, 65536}},
        {"hosts v6", {20000, 65536}}};
    EXPECT_EQ(classes, expected);
}

// acctc's iptables output through iptables-nft and iptables-legacy: 20 classes make lookup
// trees (docs/iptables.md; mixed: two trees of 10 in one chain), and every flow lands in its
// class there too.
TEST(BenchSmoke, IptablesVariantsCountEveryFlowInItsClass) {
    const auto output =
        run(std::string(ACCTC_BINARY) +
            " bench --quick --classes 20 --kinds ports,networks,protoport,gids,mixed --ip 4 "
            "--no-apply --iptables-legacy --json "
            "2>/dev/null");
    const auto report = nlohmann::json::parse(output, nullptr, false);
    ASSERT_FALSE(report.is_discarded()) << output;
    ASSERT_EQ(report["datapath"].size(), 5U);
    for (const auto& result : report["datapath"]) {
        std::set<std::string> checked;
        for (const auto& variant : result["variants"]) {
            if (variant["variant"] == "iptables" || variant["variant"] == "iptables_legacy") {
                checked.insert(variant["variant"].get<std::string>());
                EXPECT_EQ(variant["classes_hit"], result["flows"]) << result["kind"];
                EXPECT_EQ(variant["otherwise"], 0) << result["kind"];
            }
        }
        EXPECT_EQ(checked.size(), 2U) << result["kind"];
    }
}

// The hosts kind on iptables: the policy's ipsets loaded before its rules, the ip6tables half
// for IPv6 traffic; every host counted in its own element on iptables-nft and -legacy, none in
// the overflow (with the default 1,024 hash buckets an ipset took ~12,000 hosts from packets).
TEST(BenchSmoke, IptablesVariantsCountEveryHost) {
    const auto output = run(std::string(ACCTC_BINARY) +
                            " bench --quick --kinds hosts --hosts 300 --ip 4,6 --no-apply "
                            "--iptables-legacy --json 2>/dev/null");
    const auto report = nlohmann::json::parse(output, nullptr, false);
    ASSERT_FALSE(report.is_discarded()) << output;
    ASSERT_EQ(report["datapath"].size(), 2U);
    for (const auto& result : report["datapath"]) {
        std::set<std::string> checked;
        for (const auto& variant : result["variants"]) {
            const auto name = variant["variant"].get<std::string>();
            if (name == "acctc" || name == "iptables" || name == "iptables_legacy") {
                checked.insert(name);
                EXPECT_EQ(variant["classes_hit"], 300) << name << " IPv" << result["ip_version"];
                EXPECT_EQ(variant["otherwise"], 0) << name << " IPv" << result["ip_version"];
            }
        }
        EXPECT_EQ(checked.size(), 3U) << "IPv" << result["ip_version"];
    }
}

} // namespace
