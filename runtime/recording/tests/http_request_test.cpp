// The request-head parser and the endpoint's routing, request by request.
#include "acctc/recording/http_request.hpp"
#include "acctc/recording/listen_address.hpp"
#include "acctc/recording/metrics_endpoint.hpp"

#include <gtest/gtest.h>

namespace acctc::recording {
namespace {

constexpr std::size_t limit = 8192;
using State = HeadParse::State;

HeadParse parse(std::string_view text) {
    return parse_request_head(text, limit);
}

TEST(HttpRequest, AcceptsWhatPrometheusAndCurlSend) {
    const auto parsed =
        parse("GET /metrics?name[]=x HTTP/1.1\r\nHost: 127.0.0.1:9739\r\n"
              "User-Agent: Prometheus/2.42.0\r\nAccept: text/plain;version=0.0.4\r\n"
              "Accept-Encoding: gzip\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n");
    ASSERT_EQ(parsed.state, State::complete) << parsed.reason;
    EXPECT_EQ(parsed.request.method, "GET");
    EXPECT_EQ(parsed.request.path, "/metrics");
    EXPECT_EQ(parsed.request.target, "/metrics?name[]=x");
    EXPECT_EQ(parsed.request.minor_version, 1);
    EXPECT_EQ(parsed.request.headers.at(1).first, "user-agent");
    EXPECT_FALSE(parsed.request.announces_body());
    // HTTP/1.0 needs no Host.
    EXPECT_EQ(parse("HEAD /metrics HTTP/1.0\r\n\r\n").state, State::complete);
}

// RFC 9112, 3.2.2: "a server MUST accept the absolute-form in requests" (proxies send it).
TEST(HttpRequest, AcceptsTheAbsoluteForm) {
    const struct {
        const char* target;
        const char* origin_form;
    } cases[] = {{"http://127.0.0.1:9739/metrics", "/metrics"},
                 {"HTTP://[::1]:9739/metrics?x=y", "/metrics?x=y"},
                 {"https://host/metrics", "/metrics"},
                 {"http://host", "/"},
                 {"http://host?x", "/?x"}};
    for (const auto& c : cases) {
        const auto parsed =
            parse(std::string("GET ") + c.target + " HTTP/1.1\r\nHost: host\r\n\r\n");
        ASSERT_EQ(parsed.state, State::complete) << c.target << ": " << parsed.reason;
        EXPECT_EQ(parsed.request.target, c.origin_form) << c.target;
        EXPECT_EQ(parsed.request.path,
                  std::string(c.origin_form).substr(0, std::string(c.origin_form).find('?')))
            << c.target;
    }
    // And it is routed as its path is.
    const auto metrics = parse("GET http://x:9739/metrics HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_EQ(metrics.state, State::complete);
    EXPECT_EQ(metrics.request.path, "/metrics");
}

TEST(HttpRequest, WaitsForTheRestOfAHead) {
    for (const auto* partial : {"", "G", "GET", "GET /met", "GET /metrics HTTP/1.1\r\n",
                                "GET /metrics HTTP/1.1\r\nHost: x\r\n"}) {
        EXPECT_EQ(parse(partial).state, State::incomplete) << partial;
    }
}

struct Rejection {
    const char* request;
    int status;
};

class HttpRejection : public ::testing::TestWithParam<Rejection> {};

TEST_P(HttpRejection, GetsTheRightStatus) {
    const auto parsed = parse(GetParam().request);
    EXPECT_EQ(parsed.state, State::rejected) << GetParam().request;
    EXPECT_EQ(parsed.status, GetParam().status) << parsed.reason;
    EXPECT_FALSE(parsed.reason.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, HttpRejection,
    ::testing::Values(Rejection{"\x16\x03\x01\x02\x00", 400}, // a TLS hello: at once
                      Rejection{"GET /metrics HTTP/1.1\nHost: x\n\n", 400},
                      Rejection{"GET  /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 400},
                      Rejection{"GET /metrics\r\n\r\n", 400}, // HTTP/0.9
                      Rejection{"GET metrics HTTP/1.1\r\nHost: x\r\n\r\n", 400},
                      Rejection{"GET http:///metrics HTTP/1.1\r\nHost: x\r\n\r\n", 400},
                      Rejection{"GET ftp://x/metrics HTTP/1.1\r\nHost: x\r\n\r\n", 400},
                      Rejection{"GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400},
                      Rejection{"GET /metrics HTTP/1.1\r\n\r\n", 400}, // no Host
                      Rejection{"GET /metrics HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
                      Rejection{"GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n", 400},
                      Rejection{"GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400},
                      Rejection{"GET /metrics HTTP/1.1\r\nHost: x\r\nA: b\x01\r\n\r\n", 400},
                      Rejection{"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
                                400},
                      Rejection{"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                                "Content-Length: 2\r\n\r\n",
                                400},
                      Rejection{"\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 400},
                      Rejection{"GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n", 505},
                      Rejection{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400},
                      Rejection{"GET /metrics HTTP/1.1x\r\nHost: x\r\n\r\n", 400}));

TEST(HttpRequest, OversizedHeadsAreRefusedByKind) {
    const std::string long_target = "GET /" + std::string(limit, 'a');
    EXPECT_EQ(parse(long_target).status, 414);
    const std::string many_headers =
        "GET /metrics HTTP/1.1\r\nHost: x\r\nX: " + std::string(limit, 'b');
    EXPECT_EQ(parse(many_headers).status, 431);
    // Complete but over the limit is refused too, not served.
    const std::string complete =
        "GET /metrics HTTP/1.1\r\nHost: x\r\nX: " + std::string(limit - 30, 'c') + "\r\n\r\n";
    EXPECT_EQ(parse(complete).status, 431);
}

TEST(MetricsEndpoint, RoutesByPathThenMethodThenBody) {
    int renders = 0;
    const MetricsRenderer render = [&renders] {
        ++renders;
        return std::string("# TYPE x counter\nx 1\n");
    };
    const auto request = [](const char* text) { return parse(text).request; };
    auto ok = respond(request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), render);
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(ok.content_type, "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_EQ(ok.body, "# TYPE x counter\nx 1\n");
    EXPECT_EQ(respond(request("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), render).status, 404);
    EXPECT_EQ(respond(request("GET /metrics/ HTTP/1.1\r\nHost: x\r\n\r\n"), render).status, 404);
    const auto post = respond(request("POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), render);
    EXPECT_EQ(post.status, 405);
    ASSERT_EQ(post.headers.size(), 1U);
    EXPECT_EQ(post.headers[0].second, "GET, HEAD");
    EXPECT_EQ(
        respond(request("GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"), render)
            .status,
        413);
    EXPECT_EQ(respond(request("GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                              "\r\n"),
                      render)
                  .status,
              413);
    EXPECT_EQ(renders, 1); // nothing but a good GET reads the counters
    const auto failed = respond(request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
                                []() -> std::string { throw std::runtime_error("no table"); });
    EXPECT_EQ(failed.status, 500);
    EXPECT_NE(failed.body.find("no table"), std::string::npos);
}

TEST(HttpResponse, HeadGetsTheHeadersOfAGet) {
    HttpResponse response;
    response.body = "abc\n";
    const auto full = serialize(response, false);
    const auto head = serialize(response, true);
    EXPECT_EQ(full.rfind("HTTP/1.1 200 OK\r\n", 0), 0U);
    EXPECT_NE(head.find("Content-Length: 4\r\n"), std::string::npos);
    EXPECT_NE(head.find("Connection: close\r\n"), std::string::npos);
    EXPECT_EQ(full, head + "abc\n");
}

TEST(ListenAddress, NumericV4AndBracketedV6Only) {
    EXPECT_EQ(parse_listen_address("127.0.0.1:9739").to_string(), "127.0.0.1:9739");
    EXPECT_EQ(parse_listen_address("[::1]:80").to_string(), "[::1]:80");
    EXPECT_EQ(parse_listen_address("0.0.0.0:0").port(), 0);
    for (const auto* bad : {"localhost:9739", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
                            "127.0.0.1:9x", "::1:80", "[::1]", "[nope]:1"}) {
        EXPECT_THROW(parse_listen_address(bad), std::invalid_argument) << bad;
    }
    EXPECT_EQ(std::string(default_listen_address), "127.0.0.1:9739");
}

} // namespace
} // namespace acctc::recording
