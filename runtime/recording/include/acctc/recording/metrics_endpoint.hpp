// What the exporter answers to a parsed request: /metrics or a precise 4xx.
#pragma once

#include "acctc/recording/http_request.hpp"
#include "acctc/recording/http_response.hpp"

#include <functional>
#include <string>

namespace acctc::recording {

// Produces the exposition text, reading the counters afresh; throws when it cannot.
using MetricsRenderer = std::function<std::string()>;

inline constexpr const char* metrics_path = "/metrics";
inline constexpr const char* exposition_content_type = "text/plain; version=0.0.4; charset=utf-8";

// 404 for other paths, 405 (with Allow) for methods other than GET and HEAD, 413 when a body
// is announced, 500 when the renderer throws, else 200 with the exposition text.
HttpResponse respond(const HttpRequest& request, const MetricsRenderer& render);

} // namespace acctc::recording
