// What the exporter answers to a parsed request: /metrics or a precise 4xx.
#pragma once

#include "acctc/recording/http_request.hpp"
#include "acctc/recording/http_response.hpp"

#include <functional>
#include <optional>
#include <string>

namespace acctc::recording {

// Produces the exposition text, reading the counters afresh; throws when it cannot.
using MetricsRenderer = std::function<std::string()>;

inline constexpr const char* metrics_path = "/metrics";
inline constexpr const char* exposition_content_type = "text/plain; version=0.0.4; charset=utf-8";

struct MetricsRoute {
    std::optional<HttpResponse> answer; // set: answer this at once, the counters are not needed
    bool head_only = false;             // HEAD: the headers a GET would get
    bool gzip = false;                  // the client accepts Content-Encoding: gzip
};

// 404 for other paths, 405 (with Allow) for methods other than GET and HEAD, 413 when a body
// is announced; otherwise the metrics, gzip-encoded when Accept-Encoding allows it.
MetricsRoute route(const HttpRequest& request);

// The head fields of a 200 with the exposition text, plain or gzip-encoded.
HttpResponse metrics_response(bool gzip);

// route() then, for the metrics, render(): 500 when it throws, else 200 with the plain text.
HttpResponse respond(const HttpRequest& request, const MetricsRenderer& render);

} // namespace acctc::recording
