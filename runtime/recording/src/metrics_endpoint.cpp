#include "acctc/recording/metrics_endpoint.hpp"

#include <exception>

namespace acctc::recording {

HttpResponse respond(const HttpRequest& request, const MetricsRenderer& render) {
    if (request.path != metrics_path) {
        return error_response(404, "only /metrics is served here");
    }
    if (request.method != "GET" && request.method != "HEAD") {
        auto response = error_response(405);
        response.headers.emplace_back("Allow", "GET, HEAD");
        return response;
    }
    if (request.announces_body()) {
        return error_response(413, "/metrics takes no request body");
    }
    try {
        HttpResponse response;
        response.content_type = exposition_content_type;
        response.body = render();
        return response;
    } catch (const std::exception& error) {
        return error_response(500, error.what());
    }
}

} // namespace acctc::recording
