// `acctc serve --netns` end to end: real counters from our own namespace, scraped with curl,
// fresh on every scrape, and a clean exit on SIGTERM.
#include "support/exposition_parser.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/test_namespace.hpp"

#include <csignal>
#include <gtest/gtest.h>
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
    testing::ChildProcess serve(
        {ACCTC_CLI_PATH, "serve", "--netns", ns.name(), "--listen", "127.0.0.1:0", "servetest"});
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

TEST(ServeKernel, RefusesABadListenAddress) {
    const auto run = testing::run_process({ACCTC_CLI_PATH, "serve", "--listen", "localhost:80"});
    EXPECT_EQ(run.exit_code, 2);
    EXPECT_NE(run.err.find("numeric"), std::string::npos) << run.err;
}

} // namespace
} // namespace acctc::recording
