// HTTP/1.1 responses as bytes; every response closes the connection.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace acctc::recording {

struct HttpResponse {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers; // beyond the standard ones
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
};

std::string_view reason_phrase(int status);

// A short plain-text response whose body repeats the status and says why.
HttpResponse error_response(int status, std::string_view why = {});

// Status line and headers up to the blank line, for a body of `content_length` bytes sent
// separately (the exporter shares one rendered body among many responses).
std::string serialize_head(const HttpResponse& response, std::size_t content_length);

// Status line, Content-Type, Content-Length, Cache-Control, Connection: close, extra headers;
// the body unless `head_only` (HEAD gets the headers a GET would get).
std::string serialize(const HttpResponse& response, bool head_only);

} // namespace acctc::recording
