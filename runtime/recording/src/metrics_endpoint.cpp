#include "acctc/recording/metrics_endpoint.hpp"

#include <exception>

namespace acctc::recording {
MetricsRoute route(const HttpRequest& request) {
    MetricsRoute route;
    if (request.path != metrics_path) {
        route.answer = error_response(404, "only /metrics is served here");
        return route;
    }
    if (request.method != "GET" && request.method != "HEAD") {
        route.answer = error_response(405);
        route.answer->headers.emplace_back("Allow", "GET, HEAD");
        return route;
    }
    if (request.announces_body()) {
        route.answer = error_response(413, "/metrics takes no request body");
        return route;
    }
    route.head_only = request.method == "HEAD";
    route.gzip = accepts_gzip(request);
    return route;
}

HttpResponse metrics_response(bool gzip) {
    HttpResponse response;
    response.content_type = exposition_content_type;
    // Caches in between must not hand a gzip body to a client that did not ask for one.
    response.headers.emplace_back("Vary", "Accept-Encoding");
    if (gzip) {
        response.headers.emplace_back("Content-Encoding", "gzip");
    }
    return response;
}

HttpResponse respond(const HttpRequest& request, const MetricsRenderer& render) {
    auto routed = route(request);
    if (routed.answer) {
        return std::move(*routed.answer);
    }
    try {
        auto response = metrics_response(false);
        response.body = render();
        return response;
    } catch (const std::exception& error) {
        return error_response(500, error.what());
    }
}

} // namespace acctc::recording
