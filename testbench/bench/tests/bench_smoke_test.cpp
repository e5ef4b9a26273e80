// Smoke test of `acctc bench`: the quick run with 10 classes finishes and its JSON has the
// documented shape. It checks no timing: benchmarks are not timed tests.
#include <array>
#include <cstdio>
#include <gtest/gtest.h>
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
    for (const char* key :
         {"machine", "settings", "datapath", "apply", "host_reads", "notes", "seconds"}) {
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
}

// acctc's iptables output through iptables-nft and iptables-legacy: 20 classes make lookup
// trees (docs/iptables.md), and every flow lands in its class there too.
TEST(BenchSmoke, IptablesVariantsCountEveryFlowInItsClass) {
    const auto output =
        run(std::string(ACCTC_BINARY) +
            " bench --quick --classes 20 --kinds ports,networks,protoport,gids --ip 4 "
            "--no-apply --iptables-legacy --json "
            "2>/dev/null");
    const auto report = nlohmann::json::parse(output, nullptr, false);
    ASSERT_FALSE(report.is_discarded()) << output;
    ASSERT_EQ(report["datapath"].size(), 4U);
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
