#include "acctc/recording/http_response.hpp"

namespace acctc::recording {

std::string_view reason_phrase(int status) {
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

HttpResponse error_response(int status, std::string_view why) {
    HttpResponse response;
    response.status = status;
    response.body = std::to_string(status) + " " + std::string(reason_phrase(status));
    if (!why.empty()) {
        response.body += ": " + std::string(why);
    }
    response.body += "\n";
    return response;
}

std::string serialize_head(const HttpResponse& response, std::size_t content_length) {
    std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " +
                      std::string(reason_phrase(response.status)) + "\r\n";
    out += "Content-Type: " + response.content_type + "\r\n";
    out += "Content-Length: " + std::to_string(content_length) + "\r\n";
    out += "Cache-Control: no-store\r\n";
    out += "Connection: close\r\n";
    for (const auto& [name, value] : response.headers) {
        out += name + ": " + value + "\r\n";
    }
    out += "\r\n";
    return out;
}

std::string serialize(const HttpResponse& response, bool head_only) {
    auto out = serialize_head(response, response.body.size());
    if (!head_only) {
        out += response.body;
    }
    return out;
}

} // namespace acctc::recording
