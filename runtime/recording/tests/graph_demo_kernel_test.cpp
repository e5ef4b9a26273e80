// Half a day of supernode-like traffic through real kernel counters, recorded at 5-minute
// steps on a compressed clock and drawn as the README's example graph. Set
// ACCTC_GRAPH_OUTPUT=FILE to keep the PNG.
#include "acctc/recording/graph.hpp"
#include "acctc/recording/graph_selection.hpp"
#include "acctc/recording/output_file.hpp"
#include "acctc/recording/recorder.hpp"
#include "acctc/recording/rrd_file.hpp"
#include "acctc/recording/rrd_names.hpp"
#include "acctc/runtime/counters.hpp"
#include "support/png_header.hpp"
#include "support/temp_dir.hpp"
#include "support/test_namespace.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <gtest/gtest.h>
#include <sys/socket.h>

namespace acctc::recording {
namespace {

// The seed's four counters: traffic to and from the published port 21212 on loopback, so
// one namespace is enough; in and out are told apart by port, as for a real supernode.
constexpr const char* ruleset = R"(table inet acctc_skype_supernode {
    counter skype_udp_in {}
    counter skype_udp_out {}
    counter skype_tcp_in {}
    counter skype_tcp_out {}
    chain input {
        type filter hook input priority 0; policy accept;
        udp dport 21212 counter name "skype_udp_in"
        tcp dport 21212 counter name "skype_tcp_in"
    }
    chain output {
        type filter hook output priority 0; policy accept;
        udp sport 21212 counter name "skype_udp_out"
        tcp sport 21212 counter name "skype_tcp_out"
    }
}
)";
constexpr const char* home = "198.18.0.1";
constexpr std::size_t voice_payload = 67; // bytes per voice datagram in the Skype study
constexpr int rounds = 144;               // 12 hours of 5-minute readings
constexpr std::time_t step = 300;

void check(bool ok, const char* what) {
    if (!ok) {
        throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
    }
}

void send_exact(int fd, std::size_t size) {
    const std::string data(size, 'r');
    std::size_t sent = 0;
    while (sent < size) {
        const auto n = ::send(fd, data.data() + sent, size - sent, 0);
        check(n > 0, "send");
        sent += static_cast<std::size_t>(n);
    }
}

void receive_exact(int fd, std::size_t size) {
    std::string buffer(65536, '\0');
    while (size > 0) {
        const auto n = ::recv(fd, buffer.data(), std::min(buffer.size(), size), 0);
        check(n > 0, "recv");
        size -= static_cast<std::size_t>(n);
    }
}

// Calls in the afternoon and evening, relayed TCP in bursts, a trickle of signalling always.
unsigned voice_in(int round) {
    const bool call = (round >= 20 && round < 46) || (round >= 90 && round < 118);
    return 12 +
           (call ? static_cast<unsigned>(160 + static_cast<int>(40 * std::sin(round / 3.0))) : 0U);
}
unsigned voice_out(int round) {
    const bool call = (round >= 20 && round < 46) || (round >= 90 && round < 118);
    return 10 +
           (call ? static_cast<unsigned>(140 + static_cast<int>(30 * std::cos(round / 4.0))) : 0U);
}
std::size_t relay_in(int round) {
    return 2000 + (round % 24 < 4 ? 60'000U : 0U);
}
std::size_t relay_out(int round) {
    return 3000 + (round % 24 < 4 ? 90'000U : 0U);
}

TEST(GraphDemoKernel, HalfADayOfSupernodeTraffic) {
    if (!testing::can_use_namespaces()) {
        GTEST_SKIP() << "needs root, ip and nft";
    }
    const testing::TestNamespace ns("demo");
    ns.exec({"ip", "address", "add", std::string(home) + "/32", "dev", "lo"});
    ns.load_nft(ruleset);

    const auto peer = ns.socket(SOCK_DGRAM);      // a peer sending voice to us
    const auto supernode = ns.socket(SOCK_DGRAM); // our client on the published port
    const auto published = testing::ipv4(home, 21212);
    check(::bind(supernode.get(), reinterpret_cast<const sockaddr*>(&published),
                 sizeof published) == 0,
          "bind udp");
    const auto listener = ns.socket(SOCK_STREAM);
    check(::bind(listener.get(), reinterpret_cast<const sockaddr*>(&published), sizeof published) ==
              0,
          "bind tcp");
    check(::listen(listener.get(), 1) == 0, "listen");
    const auto relay_client = ns.socket(SOCK_STREAM);
    check(::connect(relay_client.get(), reinterpret_cast<const sockaddr*>(&published),
                    sizeof published) == 0,
          "connect");
    const UniqueFd relay_server(::accept(listener.get(), nullptr, nullptr));
    check(static_cast<bool>(relay_server), "accept");

    testing::TempDir dir;
    const RecordOptions options; // the defaults a user gets: 5-minute steps
    const std::time_t end = (std::time(nullptr) / step) * step;
    const std::time_t begin = end - rounds * step;
    for (int round = 0; round <= rounds; ++round) {
        if (round > 0) {
            testing::send_datagrams(peer.get(), home, 21212, voice_in(round), voice_payload);
            testing::send_datagrams(supernode.get(), home, 40000, voice_out(round), voice_payload);
            send_exact(relay_client.get(), relay_in(round));
            receive_exact(relay_server.get(), relay_in(round));
            send_exact(relay_server.get(), relay_out(round));
            receive_exact(relay_client.get(), relay_out(round));
            // Nobody reads the voice datagrams; dropping them keeps the socket buffer free.
            std::string sink(2048, '\0');
            while (::recv(supernode.get(), sink.data(), sink.size(), MSG_DONTWAIT) > 0) {
            }
        }
        const auto samples = runtime::read_counters("skype_supernode", ns.name());
        ASSERT_EQ(samples.size(), 4U);
        for (const auto& result :
             record_samples(dir.path(), samples, options, begin + round * step)) {
            ASSERT_NE(result.outcome, RecordedCounter::Outcome::failed) << result.detail;
        }
    }
    // Voice is exact: the datagrams of round 30 over its 5 minutes.
    const auto series = fetch_rrd(rrd_path(dir.path(), "skype_supernode", "skype_udp_in"),
                                  "AVERAGE", begin + 29 * step, begin + 30 * step - 1, step);
    ASSERT_GE(series.rows(), 1U);
    EXPECT_DOUBLE_EQ(series.at(0, 0), voice_in(30) * (28.0 + voice_payload) / step);
    EXPECT_DOUBLE_EQ(series.at(0, 1), voice_in(30) / static_cast<double>(step));

    GraphRequest request;
    request.rrd_dir = dir.path();
    request.policy = "skype_supernode";
    request.counters = recorded_counters(dir.path(), "skype_supernode");
    request.start = std::to_string(begin);
    request.end = std::to_string(end);
    request.width = 900;
    request.height = 360;
    const auto png = render_graph(request);
    const auto header = testing::read_png_header(png);
    EXPECT_EQ(header.width, 900U);
    EXPECT_EQ(header.height, 360U);
    if (const char* output = std::getenv("ACCTC_GRAPH_OUTPUT")) {
        write_output_file(output, png);
    }
}

} // namespace
} // namespace acctc::recording
