// The exporter over real loopback sockets (127.0.0.1, an ephemeral port): curl, promtool when
// installed, the strict parser, hostile and slow clients.
#include "acctc/recording/metrics_server.hpp"
#include "acctc/runtime/exposition.hpp"
#include "support/exposition_parser.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"

#include <atomic>
#include <gtest/gtest.h>
#include <mutex>
#include <sys/eventfd.h>
#include <thread>

namespace acctc::recording {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using runtime::CounterSample;

struct CurlResult {
    int status = 0;
    std::string headers;
    std::string body;
};

// Raw response (-i) split at the blank line; -sS keeps errors visible in the failure message.
CurlResult curl(const std::vector<std::string>& extra, const std::string& url) {
    std::vector<std::string> argv = {"curl", "-sS", "-i", "--max-time", "5"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(url);
    const auto run = testing::run_process(argv);
    EXPECT_EQ(run.exit_code, 0) << run.err;
    CurlResult result;
    result.status = testing::status_of(run.out);
    const auto split = run.out.find("\r\n\r\n");
    result.headers = run.out.substr(0, split);
    result.body = split == std::string::npos ? "" : run.out.substr(split + 4);
    return result;
}

class MetricsServerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!testing::on_path("curl")) {
            GTEST_SKIP() << "curl is not installed";
        }
        options.read_timeout = 500ms;
        options.write_timeout = 1s;
        options.linger_timeout = 200ms;
        options.max_connections = 4;
        options.max_age = 0ms; // every request reads afresh, as the tests count reads
        start();
    }
    void TearDown() override { stop(); }

    void start() {
        server = std::make_unique<MetricsServer>(
            parse_listen_address("127.0.0.1:0"),
            [this] {
                ++scrapes;
                if (failing) {
                    throw std::runtime_error("table inet acctc_home is gone");
                }
                std::this_thread::sleep_for(render_delay);
                const std::lock_guard lock(mutex);
                return runtime::format_prometheus(samples) + padding;
            },
            options);
        stop_fd = UniqueFd(::eventfd(0, EFD_CLOEXEC));
        thread = std::thread([this] { server->run(stop_fd.get()); });
        url = "http://" + server->address().to_string() + "/metrics";
    }
    void stop() {
        if (thread.joinable()) {
            const std::uint64_t one = 1;
            ASSERT_EQ(::write(stop_fd.get(), &one, sizeof one), 8);
            thread.join();
        }
    }
    std::uint16_t port() const { return server->address().port(); }

    ServerOptions options;
    std::mutex mutex;
    std::vector<CounterSample> samples = {{"home", "skype_tcp_in", 10, 1000},
                                          {"home", "skype_tcp_out", 20, 2000}};
    std::string padding;
    std::chrono::milliseconds render_delay{0};
    std::atomic<int> scrapes{0};
    std::atomic<bool> failing{false};
    std::unique_ptr<MetricsServer> server;
    UniqueFd stop_fd;
    std::thread thread;
    std::string url;
};

double value_of(const std::vector<testing::ExpositionFamily>& families, const std::string& family,
                const std::string& counter) {
    for (const auto& f : families) {
        for (const auto& sample : f.samples) {
            if (f.name == family && sample.labels.at("counter") == counter) {
                return sample.value;
            }
        }
    }
    ADD_FAILURE() << "no " << family << " for " << counter;
    return -1;
}

TEST_F(MetricsServerTest, CurlGetsStrictlyValidExposition) {
    const auto response = curl({}, url);
    ASSERT_EQ(response.status, 200) << response.headers;
    EXPECT_NE(response.headers.find("Content-Type: text/plain; version=0.0.4; charset=utf-8"),
              std::string::npos);
    const auto families = testing::parse_exposition(response.body);
    ASSERT_EQ(families.size(), 2U);
    for (const auto& family : families) {
        EXPECT_EQ(family.type, "counter");
        EXPECT_TRUE(family.help.has_value());
        EXPECT_EQ(family.name.substr(family.name.size() - 6), "_total");
        ASSERT_EQ(family.samples.size(), 2U);
        for (const auto& sample : family.samples) {
            EXPECT_EQ(sample.labels.size(), 2U);
            EXPECT_EQ(sample.labels.at("policy"), "home");
            EXPECT_GE(sample.value, 0);
        }
    }
    EXPECT_EQ(value_of(families, "acctc_packets_total", "skype_tcp_out"), 20);
    EXPECT_EQ(value_of(families, "acctc_bytes_total", "skype_tcp_in"), 1000);
    if (testing::on_path("promtool")) {
        const auto check = testing::run_process({"promtool", "check", "metrics"}, response.body);
        EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
    }
}

TEST_F(MetricsServerTest, EveryScrapeReadsTheCountersAfresh) {
    const auto before = testing::parse_exposition(curl({}, url).body);
    {
        const std::lock_guard lock(mutex);
        samples[0].bytes = 123456789012ULL;
        samples.push_back({"home", "a \"quoted\\\" name", 1, 2}); // escaping by the runtime
    }
    const auto after = testing::parse_exposition(curl({}, url).body);
    EXPECT_EQ(value_of(before, "acctc_bytes_total", "skype_tcp_in"), 1000);
    EXPECT_EQ(value_of(after, "acctc_bytes_total", "skype_tcp_in"), 123456789012.0);
    EXPECT_EQ(value_of(after, "acctc_bytes_total", "a \"quoted\\\" name"), 2);
    EXPECT_EQ(scrapes.load(), 2);
}

TEST_F(MetricsServerTest, HeadAndWrongPathsAndMethods) {
    const auto get = curl({}, url);
    const auto head = curl({"-I"}, url);
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.body, "");
    EXPECT_NE(head.headers.find("Content-Length: " + std::to_string(get.body.size())),
              std::string::npos)
        << head.headers;
    EXPECT_EQ(curl({}, "http://" + server->address().to_string() + "/").status, 404);
    EXPECT_EQ(curl({}, "http://" + server->address().to_string() + "/metricsx").status, 404);
    const auto post = curl({"-X", "POST", "--data", "x=1"}, url);
    EXPECT_EQ(post.status, 405);
    EXPECT_NE(post.headers.find("Allow: GET, HEAD"), std::string::npos);
    EXPECT_EQ(curl({"-X", "DELETE"}, url).status, 405);
    EXPECT_EQ(curl({"-H", "Content-Length: 100000000"}, url).status, 413);
    EXPECT_EQ(curl({"-H", "X-Big: " + std::string(9000, 'x')}, url).status, 431);
}

TEST_F(MetricsServerTest, MalformedAndOversizedRawRequests) {
    using testing::exchange;
    using testing::status_of;
    EXPECT_EQ(status_of(exchange(port(), "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03")), 400);
    EXPECT_EQ(status_of(exchange(port(), "GET /metrics HTTP/1.1\n\n")), 400);
    EXPECT_EQ(status_of(exchange(port(), "GET /metrics HTTP/1.1\r\n\r\n")), 400);
    EXPECT_EQ(status_of(exchange(port(), "GET /metrics HTTP/3.0\r\nHost: x\r\n\r\n")), 505);
    EXPECT_EQ(status_of(exchange(port(), "GET /" + std::string(10000, 'a'))), 414);
    // A client that keeps sending after the 431 still receives it (lingering close).
    EXPECT_EQ(status_of(exchange(port(), "GET /metrics HTTP/1.1\r\nHost: x\r\nX: " +
                                             std::string(100000, 'y'))),
              431);
    EXPECT_EQ(status_of(exchange(port(), "GET /metrics HTTP/1.0\r\n\r\n")), 200);
    EXPECT_EQ(scrapes.load(), 1);
}

TEST_F(MetricsServerTest, SlowClientsDoNotDelayOthers) {
    auto dribbling = testing::connect_loopback(port());
    testing::send_all(dribbling.get(), "GET /metr"); // and then nothing
    const auto silent = testing::connect_loopback(port());
    const auto begin = Clock::now();
    EXPECT_EQ(curl({}, url).status, 200);
    EXPECT_LT(Clock::now() - begin, 400ms); // well below the 500 ms read timeout
    // The dribbler hears 408 when its time is up; the silent one is just closed.
    const auto answer = testing::read_until_close(dribbling.get(), 3s);
    EXPECT_EQ(testing::status_of(answer), 408);
    EXPECT_EQ(testing::read_until_close(silent.get(), 3s), "");
    EXPECT_LT(Clock::now() - begin, 2s);
}

TEST_F(MetricsServerTest, ClientsThatDoNotReadAreCutOff) {
    padding = "# " + std::string(32 * 1024 * 1024, 'p') + "\n"; // beyond any socket buffer
    const auto lazy = testing::connect_loopback(port());
    testing::send_all(lazy.get(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    std::this_thread::sleep_for(100ms);
    const auto begin = Clock::now();
    const auto response = curl({}, url); // served while the lazy one still blocks its write
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(testing::parse_exposition(response.body).size(), 2U);
    EXPECT_LT(Clock::now() - begin, 3s);
    // After the write timeout the lazy client gets less than the whole response, then EOF.
    std::this_thread::sleep_for(options.write_timeout + 200ms);
    const auto partial = testing::read_until_close(lazy.get(), 5s);
    EXPECT_LT(partial.size(), padding.size());
}

TEST_F(MetricsServerTest, ConnectionFloodEvictsTheOldestUnfinishedRequest) {
    std::vector<UniqueFd> idle;
    for (int i = 0; i < 6; ++i) { // more than max_connections (4)
        idle.push_back(testing::connect_loopback(port()));
        testing::send_all(idle.back().get(), "GET");
    }
    EXPECT_EQ(curl({}, url).status, 200);
    // The first ones made room: closed without an answer long before their read timeout.
    EXPECT_EQ(testing::read_until_close(idle[0].get(), 300ms), "");
    EXPECT_EQ(testing::read_until_close(idle[1].get(), 300ms), "");
}

TEST_F(MetricsServerTest, AFailedReadIsA500NotACrash) {
    failing = true;
    const auto response = curl({}, url);
    EXPECT_EQ(response.status, 500);
    EXPECT_NE(response.body.find("acctc_home is gone"), std::string::npos);
    failing = false;
    EXPECT_EQ(curl({}, url).status, 200);
}

TEST_F(MetricsServerTest, GzipWhenTheClientAcceptsIt) {
    padding = "# " + std::string(100000, 'z') + "\n";
    const auto plain = curl({}, url);
    const auto compressed = curl({"--compressed"}, url); // sends Accept-Encoding, decodes
    EXPECT_EQ(compressed.status, 200);
    EXPECT_NE(compressed.headers.find("Content-Encoding: gzip"), std::string::npos)
        << compressed.headers;
    EXPECT_NE(compressed.headers.find("Vary: Accept-Encoding"), std::string::npos);
    EXPECT_EQ(compressed.body, plain.body);
    EXPECT_EQ(testing::parse_exposition(compressed.body).size(), 2U);
    // The bytes on the wire are the gzip stream: much shorter than the text.
    const auto raw = curl({"-H", "Accept-Encoding: gzip"}, url);
    EXPECT_LT(raw.body.size(), plain.body.size() / 10);
    ASSERT_GE(raw.body.size(), 2U);
    EXPECT_EQ(static_cast<unsigned char>(raw.body[0]), 0x1fU);
    EXPECT_EQ(static_cast<unsigned char>(raw.body[1]), 0x8bU);
    // Refused or not offered: plain text.
    for (const char* refused :
         {"Accept-Encoding: gzip;q=0", "Accept-Encoding: br, *;q=0", "Accept-Encoding: identity"}) {
        const auto response = curl({"-H", refused}, url);
        EXPECT_EQ(response.headers.find("Content-Encoding"), std::string::npos) << refused;
        EXPECT_EQ(response.body, plain.body) << refused;
    }
    EXPECT_NE(curl({"-H", "Accept-Encoding: deflate, GZIP;q=0.5"}, url)
                  .headers.find("Content-Encoding: gzip"),
              std::string::npos);
}

TEST_F(MetricsServerTest, ConcurrentScrapesShareOneRead) {
    stop();
    options.max_connections = 16;
    start();
    render_delay = 300ms;
    std::vector<UniqueFd> scrapers;
    const auto begin = Clock::now();
    for (int i = 0; i < 8; ++i) {
        scrapers.push_back(testing::connect_loopback(port()));
        testing::send_all(scrapers.back().get(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    for (const auto& scraper : scrapers) {
        EXPECT_EQ(testing::status_of(testing::read_until_close(scraper.get(), 3s)), 200);
    }
    // Eight requests, at most two reads (any that came during the first wait for the next).
    EXPECT_LE(scrapes.load(), 2);
    EXPECT_LT(Clock::now() - begin, 1500ms);
}

TEST_F(MetricsServerTest, ARecentReadServesRequestsWithinMaxAge) {
    stop();
    options.max_age = 10s;
    start();
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(curl({}, url).status, 200);
    }
    EXPECT_EQ(scrapes.load(), 1);
}

TEST_F(MetricsServerTest, WhileRequestsKeepComingTheNextReadIsReadyBeforeItIsNeeded) {
    stop();
    options.max_age = 3s;
    start();
    render_delay = 1s;
    EXPECT_EQ(curl({}, url).status, 200); // the first waits for its read
    // For 5 s, one request every 200 ms: none waits for a read (each would take >= 1 s), as
    // the next read starts when the last one is 1.5 s old.
    const auto until = Clock::now() + 5s;
    auto slowest = Clock::duration::zero();
    while (Clock::now() < until) {
        const auto begin = Clock::now();
        EXPECT_EQ(testing::status_of(
                      testing::exchange(port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")),
                  200);
        slowest = std::max(slowest, Clock::now() - begin);
        std::this_thread::sleep_for(200ms);
    }
    EXPECT_LT(slowest, 700ms);
    EXPECT_GE(scrapes.load(), 3); // refreshed meanwhile, never older than 3 s
}

TEST_F(MetricsServerTest, StalledClientsNeitherDelayOthersNorPinMemory) {
    stop();
    options.max_connections = 256;
    options.write_timeout = 20s;       // longer than the test: only the memory cap cuts them
    options.max_held_bytes = 12 << 20; // three bodies of 4 MiB
    start();
    padding = "# " + std::string(4 << 20, 'p') + "\n";
    // 200 clients that send a request and never read: each holds a response to send.
    std::vector<UniqueFd> stalled;
    for (int round = 0; round < 4; ++round) {
        for (int i = 0; i < 50; ++i) {
            stalled.push_back(testing::connect_loopback(port()));
            testing::send_all(stalled.back().get(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        }
        std::this_thread::sleep_for(100ms); // a new read per round (max_age 0)
        {
            const std::lock_guard lock(mutex);
            samples[0].packets = static_cast<std::uint64_t>(round);
        }
    }
    const auto begin = Clock::now();
    const auto response = curl({}, url);
    EXPECT_EQ(response.status, 200);
    EXPECT_LT(Clock::now() - begin, 1s);
    // The clients of the oldest bodies were dropped to stay within 12 MiB: they see less than
    // a whole response and then EOF, long before the 20 s write timeout.
    const auto partial = testing::read_until_close(stalled.front().get(), 3s);
    EXPECT_LT(partial.size(), padding.size());
    EXPECT_GE(scrapes.load(), 4);
}

TEST_F(MetricsServerTest, StopsPromptlyWithClientsConnected) {
    const auto idle = testing::connect_loopback(port());
    const auto begin = Clock::now();
    stop();
    EXPECT_LT(Clock::now() - begin, 200ms);
    EXPECT_EQ(testing::read_until_close(idle.get(), 1s), "");
}

TEST(MetricsServer, ABusyPortFailsAtConstruction) {
    const MetricsServer first(parse_listen_address("127.0.0.1:0"), [] { return std::string(); });
    EXPECT_THROW(MetricsServer(first.address(), [] { return std::string(); }), std::system_error);
}

} // namespace
} // namespace acctc::recording
