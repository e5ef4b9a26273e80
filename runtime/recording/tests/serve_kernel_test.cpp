// `acctc serve --netns` end to end: real counters from our own namespace, scraped with curl,
// fresh on every scrape, and a clean exit on SIGTERM.
#include "support/exposition_parser.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/test_namespace.hpp"

#include <csignal>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <memory>

namespace acctc::recording {
namespace {

using namespace std::chrono_literals;

constexpr const char* ruleset = R"(table inet acctc_servetest {
    counter probe_udp_out {}
    chain output {
        type filter hook output priority 0; policy accept;
        ip daddr 198.18.0.1 udp dport 9 counter name "probe_udp_out"
    }
}
)";

struct Scrape {
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
};

Scrape scrape(const std::string& url) {
    const auto run = testing::run_process({"curl", "-sS", "--fail", "--max-time", "5", url});
    EXPECT_EQ(run.exit_code, 0) << run.err;
    if (testing::on_path("promtool")) {
        const auto check = testing::run_process({"promtool", "check", "metrics"}, run.out);
        EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
    }
    Scrape result;
    for (const auto& family : testing::parse_exposition(run.out)) {
        if (family.name != "acctc_packets_total" && family.name != "acctc_bytes_total") {
            continue;
        }
        for (const auto& sample : family.samples) {
            if (sample.labels.at("policy") != "servetest" ||
                sample.labels.at("counter") != "probe_udp_out") {
                continue;
            }
            (family.name == "acctc_packets_total" ? result.packets : result.bytes) =
                static_cast<std::uint64_t>(sample.value);
        }
    }
    return result;
}

TEST(ServeKernel, ScrapesTheNamespacesCountersAndStopsOnSigterm) {
    if (!testing::can_use_namespaces() || !testing::on_path("curl")) {
        GTEST_SKIP() << "needs root, ip, nft and curl";
    }
    const testing::TestNamespace ns("serve");
    ns.exec({"ip", "address", "add", "198.18.0.1/32", "dev", "lo"});
    ns.load_nft(ruleset);
    const auto sender = ns.socket(SOCK_DGRAM);
    testing::send_datagrams(sender.get(), "198.18.0.1", 9, 12, 100);

    // The listening socket is in the root namespace, on loopback and an ephemeral port.
    testing::ChildProcess serve({ACCTC_CLI_PATH, "serve", "--netns", ns.name(), "--listen",
                                 "127.0.0.1:0", "--max-age-ms", "0", "servetest"});
    const auto line = serve.wait_for_stderr_line("listening on http://", 5s);
    ASSERT_FALSE(line.empty()) << "acctc serve did not start";
    const auto url = line.substr(line.find("http://"));
    EXPECT_EQ(url.rfind("http://127.0.0.1:", 0), 0U) << url;

    const auto first = scrape(url);
    EXPECT_EQ(first.packets, 12U);
    EXPECT_EQ(first.bytes, 12U * 128);
    testing::send_datagrams(sender.get(), "198.18.0.1", 9, 5, 100);
    const auto second = scrape(url);
    EXPECT_EQ(second.packets, 17U);
    EXPECT_EQ(second.bytes, 17U * 128);

    const auto port = static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
    EXPECT_EQ(testing::status_of(testing::exchange(port, "BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n")),
              404);

    serve.signal(SIGTERM);
    const auto result = serve.wait(3s);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_NE(result.err.find("stopped"), std::string::npos) << result.err;
}

// The value of `family`{policy=...} for each policy in a scrape.
std::map<std::string, double> per_policy(const std::string& body, const std::string& family) {
    std::map<std::string, double> values;
    for (const auto& f : testing::parse_exposition(body)) {
        if (f.name == family) {
            for (const auto& sample : f.samples) {
                values[sample.labels.at("policy")] = sample.value;
            }
        }
    }
    return values;
}

std::string start_serve(testing::ChildProcess& serve) {
    const auto line = serve.wait_for_stderr_line("listening on http://", 10s);
    return line.empty() ? line : line.substr(line.find("http://"));
}

std::string get(const std::string& url) {
    const auto run = testing::run_process({"curl", "-sS", "--fail", "--max-time", "5", url});
    EXPECT_EQ(run.exit_code, 0) << run.err;
    if (testing::on_path("promtool")) {
        const auto check = testing::run_process({"promtool", "check", "metrics"}, run.out);
        EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
    }
    return run.out;
}

TEST(ServeKernel, AMissingPolicyIsAMetricNotA500) {
    if (!testing::can_use_namespaces() || !testing::on_path("curl")) {
        GTEST_SKIP() << "needs root, ip, nft and curl";
    }
    const testing::TestNamespace ns("servemiss");
    ns.exec({"ip", "address", "add", "198.18.0.1/32", "dev", "lo"});
    ns.load_nft(ruleset);
    const auto sender = ns.socket(SOCK_DGRAM);
    testing::send_datagrams(sender.get(), "198.18.0.1", 9, 3, 100);
    testing::ChildProcess serve({ACCTC_CLI_PATH, "serve", "--netns", ns.name(), "--listen",
                                 "127.0.0.1:0", "--max-age-ms", "0", "servetest", "ghost"});
    const auto url = start_serve(serve);
    ASSERT_FALSE(url.empty()) << "acctc serve did not start";
    get(url);
    const auto body = get(url);
    EXPECT_EQ(scrape(url).packets, 3U); // the loaded policy's counters are served
    const auto loaded = per_policy(body, "acctc_policy_loaded");
    EXPECT_EQ(loaded.at("servetest"), 1);
    EXPECT_EQ(loaded.at("ghost"), 0);
    const auto errors = per_policy(body, "acctc_scrape_errors_total");
    EXPECT_EQ(errors.at("servetest"), 0);
    EXPECT_GE(errors.at("ghost"), 2); // start-up read and two scrapes
    // After a flush the named policy is gone too: still 200, loaded 0.
    ns.exec({"nft", "flush", "ruleset"});
    const auto flushed = per_policy(get(url), "acctc_policy_loaded");
    EXPECT_EQ(flushed.at("servetest"), 0);
    serve.signal(SIGTERM);
    const auto result = serve.wait(3s);
    EXPECT_EQ(result.exit_code, 0);
    EXPECT_NE(result.err.find("ghost"), std::string::npos) << result.err; // logged once
}

TEST(ServeKernel, AFlushedRulesetSaysWhichPolicyIsNotLoaded) {
    if (!testing::can_use_namespaces() || !testing::on_path("curl")) {
        GTEST_SKIP() << "needs root, ip, nft and curl";
    }
    const testing::TestNamespace ns("serveflush");
    const testing::TempDir dir;
    const auto policy = (dir.path() / "flushme.acct").string();
    std::ofstream(policy) << "policy flushme\ncounter probe { out; udp dport 9 }\n";
    testing::run_checked({ACCTC_CLI_PATH, "apply", "--netns", ns.name(), policy});
    testing::ChildProcess serve({ACCTC_CLI_PATH, "serve", "--netns", ns.name(), "--listen",
                                 "127.0.0.1:0", "--max-age-ms", "0"});
    const auto url = start_serve(serve);
    ASSERT_FALSE(url.empty()) << "acctc serve did not start";
    EXPECT_EQ(per_policy(get(url), "acctc_policy_loaded").at("flushme"), 1);
    auto counters = testing::run_process({ACCTC_CLI_PATH, "counters", "--netns", ns.name()});
    EXPECT_EQ(counters.exit_code, 0) << counters.err;

    ns.exec({"nft", "flush", "ruleset"}); // what restarting nftables.service does
    EXPECT_EQ(per_policy(get(url), "acctc_policy_loaded").at("flushme"), 0);
    counters = testing::run_process({ACCTC_CLI_PATH, "counters", "--netns", ns.name()});
    EXPECT_EQ(counters.exit_code, 1);
    EXPECT_NE(counters.err.find("policy flushme is not loaded"), std::string::npos) << counters.err;
    const auto record = testing::run_process(
        {ACCTC_CLI_PATH, "record", "--netns", ns.name(), "--rrd-dir", dir.path().string(), "-q"});
    EXPECT_EQ(record.exit_code, 1);
    EXPECT_NE(record.err.find("policy flushme is not loaded"), std::string::npos) << record.err;
    // `acctc remove` drops the expectation; then nothing is missing.
    const auto remove =
        testing::run_process({ACCTC_CLI_PATH, "remove", "--netns", ns.name(), "flushme"});
    EXPECT_EQ(remove.exit_code, 0) << remove.err;
    EXPECT_EQ(testing::run_process({ACCTC_CLI_PATH, "counters", "--netns", ns.name()}).exit_code,
              0);
    serve.signal(SIGTERM);
    EXPECT_EQ(serve.wait(3s).exit_code, 0);
}

// docs/runtime.md: `serve`, like `counters --prometheus`, shows at most --max-hosts hosts per
// counter, the largest by bytes, and the rest summed as host="other".
TEST(ServeKernel, MaxHostsCapsTheHostSeries) {
    if (!testing::can_use_namespaces() || !testing::on_path("curl")) {
        GTEST_SKIP() << "needs root, ip, nft and curl";
    }
    const testing::TestNamespace ns("servehosts");
    const testing::TempDir dir;
    const auto policy = (dir.path() / "capped.acct").string();
    std::ofstream(policy)
        << "policy capped\n"
           "counter hosts { out; include loopback; udp dport 9; split host destination }\n";
    testing::run_checked({ACCTC_CLI_PATH, "apply", "--netns", ns.name(), policy});
    const auto sender = ns.socket(SOCK_DGRAM);
    for (int host = 1; host <= 3; ++host) {
        const auto address = "198.18.0." + std::to_string(host);
        ns.exec({"ip", "address", "add", address + "/32", "dev", "lo"});
        testing::send_datagrams(sender.get(), address, 9, 4 - host, 100); // .1 the most
    }
    testing::ChildProcess serve({ACCTC_CLI_PATH, "serve", "--netns", ns.name(), "--listen",
                                 "127.0.0.1:0", "--max-age-ms", "0", "--max-hosts", "1"});
    const auto url = start_serve(serve);
    ASSERT_FALSE(url.empty()) << "acctc serve did not start";
    std::map<std::string, double> bytes; // host label: value
    for (const auto& family : testing::parse_exposition(get(url))) {
        for (const auto& sample : family.samples) {
            if (family.name == "acctc_bytes_total" && sample.labels.at("counter") == "hosts") {
                bytes[sample.labels.at("host")] = sample.value;
            }
        }
    }
    const std::map<std::string, double> expected{
        {"198.18.0.1", 3 * 128}, {"other", 3 * 128}, {"overflow", 0}};
    EXPECT_EQ(bytes, expected);
    serve.signal(SIGTERM);
    EXPECT_EQ(serve.wait(3s).exit_code, 0);
}

TEST(ServeKernel, ANamespaceItMayNotEnterFailsAtStart) {
    if (!testing::can_use_namespaces() || !testing::on_path("setpriv")) {
        GTEST_SKIP() << "needs root, ip, nft and setpriv";
    }
    const testing::TestNamespace ns("servepriv");
    const auto run = testing::run_process(
        {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
         ACCTC_CLI_PATH, "serve", "--netns", ns.name(), "--listen", "127.0.0.1:0"},
        {}, 10s);
    EXPECT_EQ(run.exit_code, 1) << run.err;
    EXPECT_NE(run.err.find("cannot enter network namespace '" + ns.name() + "'"), std::string::npos)
        << run.err;
    EXPECT_EQ(run.err.find("listening"), std::string::npos) << run.err;
}

TEST(ServeKernel, RefusesABadListenAddress) {
    const auto run = testing::run_process({ACCTC_CLI_PATH, "serve", "--listen", "localhost:80"});
    EXPECT_EQ(run.exit_code, 2);
    EXPECT_NE(run.err.find("numeric"), std::string::npos) << run.err;
}

} // namespace
} // namespace acctc::recording
