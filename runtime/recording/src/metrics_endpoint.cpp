#include "acctc/recording/metrics_endpoint.hpp"

#include <cctype>
#include <cstdlib>
#include <exception>
#include <string_view>

namespace acctc::recording {
namespace {

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

// The q-value of one Accept-Encoding element ("gzip;q=0.5"); 1 without one, 0 when malformed.
double quality_of(std::string_view parameters) {
    for (std::size_t at = 0; at < parameters.size();) {
        const auto end = std::min(parameters.find(';', at), parameters.size());
        const auto parameter = trim(parameters.substr(at, end - at));
        at = end + 1;
        if (parameter.size() < 2 || std::tolower(static_cast<unsigned char>(parameter[0])) != 'q' ||
            parameter[1] != '=') {
            continue;
        }
        const std::string value(parameter.substr(2));
        char* end_of_number = nullptr;
        const double q = std::strtod(value.c_str(), &end_of_number);
        return end_of_number == value.c_str() + value.size() && q > 0 && q <= 1 ? q : 0;
    }
    return 1;
}

} // namespace

bool accepts_gzip(const HttpRequest& request) {
    std::optional<double> gzip;
    std::optional<double> any;
    for (const auto& [name, value] : request.headers) {
        if (name != "accept-encoding") {
            continue;
        }
        const std::string_view list = value;
        for (std::size_t at = 0; at <= list.size();) {
            const auto end = std::min(list.find(',', at), list.size());
            const auto element = list.substr(at, end - at);
            at = end + 1;
            const auto semicolon = std::min(element.find(';'), element.size());
            const auto coding = trim(element.substr(0, semicolon));
            const double q = quality_of(element.substr(semicolon));
            if (equal_ignoring_case(coding, "gzip") || equal_ignoring_case(coding, "x-gzip")) {
                gzip = q;
            } else if (coding == "*") {
                any = q;
            }
        }
    }
    return gzip ? *gzip > 0 : any && *any > 0;
}

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
