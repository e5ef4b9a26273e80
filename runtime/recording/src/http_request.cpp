#include "acctc/recording/http_request.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <optional>

namespace acctc::recording {
namespace {

// RFC 9110 token characters.
bool is_tchar(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
        return true;
    }
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), is_tchar);
}

// Field values: visible characters, space, tab and obs-text; no other controls.
bool is_field_value(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte == '\t' || (byte >= 0x20 && byte != 0x7f);
    });
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) {
        return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    });
    return out;
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

HeadParse reject(int status, std::string reason) {
    HeadParse result;
    result.state = HeadParse::State::rejected;
    result.status = status;
    result.reason = std::move(reason);
    return result;
}

// Every '\n' must end a "\r\n"; a bare one is rejected rather than guessed at.
bool has_bare_lf(std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) {
            return true;
        }
    }
    return false;
}

// The origin-form of an absolute-form target (RFC 9112, 3.2.2: a server must accept
// `GET http://host:9739/metrics HTTP/1.1`, as proxies send it): the path and query after the
// authority, with "/" for an empty path. Any other target is returned as it is.
std::string origin_form(std::string_view target) {
    for (std::string_view scheme : {"http://", "https://"}) {
        if (target.size() > scheme.size() && lower(target.substr(0, scheme.size())) == scheme) {
            const auto rest = target.substr(scheme.size());
            const auto path = std::min(rest.find_first_of("/?"), rest.size());
            if (path == 0) {
                break; // no authority: not a URI
            }
            const auto tail = rest.substr(path);
            return tail.empty() || tail.front() == '?' ? "/" + std::string(tail)
                                                       : std::string(tail);
        }
    }
    return std::string(target);
}

std::optional<HeadParse> parse_request_line(std::string_view line, HttpRequest& request) {
    const auto first = line.find(' ');
    const auto second = first == std::string_view::npos ? first : line.find(' ', first + 1);
    if (second == std::string_view::npos || line.find(' ', second + 1) != std::string_view::npos) {
        return reject(400, "the request line must be METHOD SP TARGET SP VERSION");
    }
    const auto method = line.substr(0, first);
    const auto sent = line.substr(first + 1, second - first - 1);
    const auto version = line.substr(second + 1);
    if (!is_token(method)) {
        return reject(400, "bad method");
    }
    const bool sent_ok =
        std::all_of(sent.begin(), sent.end(), [](char c) { return c > 0x20 && c < 0x7f; });
    const auto target = origin_form(sent);
    const bool target_ok = sent_ok && !target.empty() && target.front() == '/';
    if (!target_ok) {
        return reject(400, "the target must be an absolute path like /metrics, or an http URI");
    }
    const bool version_ok = version.size() == 8 && version.substr(0, 5) == "HTTP/" &&
                            version[5] >= '0' && version[5] <= '9' && version[6] == '.' &&
                            version[7] >= '0' && version[7] <= '9';
    if (!version_ok) {
        return reject(400, "bad HTTP version");
    }
    if (version[5] != '1') {
        return reject(505, "only HTTP/1.x is served");
    }
    request.method = method;
    request.target = target;
    request.path = target.substr(0, target.find('?'));
    request.minor_version = version[7] - '0';
    return std::nullopt;
}

std::optional<HeadParse> parse_header(std::string_view line, HttpRequest& request) {
    if (line.front() == ' ' || line.front() == '\t') {
        return reject(400, "folded header lines are not accepted");
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
        return reject(400, "bad header line");
    }
    const auto name = lower(line.substr(0, colon));
    const auto value = trim(line.substr(colon + 1));
    if (!is_field_value(value)) {
        return reject(400, "control characters in header '" + name + "'");
    }
    if (name == "content-length") {
        unsigned long long length = 0;
        const auto [end, error] =
            std::from_chars(value.data(), value.data() + value.size(), length);
        if (value.empty() || error != std::errc{} || end != value.data() + value.size() ||
            (request.content_length && *request.content_length != length)) {
            return reject(400, "bad Content-Length");
        }
        request.content_length = length;
    } else if (name == "transfer-encoding") {
        request.has_transfer_encoding = true;
    } else if (name == "host") {
        const bool repeated =
            std::any_of(request.headers.begin(), request.headers.end(),
                        [](const auto& header) { return header.first == "host"; });
        if (repeated) {
            return reject(400, "more than one Host header");
        }
    }
    request.headers.emplace_back(name, std::string(value));
    return std::nullopt;
}

} // namespace

HeadParse parse_request_head(std::string_view received, std::size_t max_head_bytes) {
    const auto head_end = received.find("\r\n\r\n");
    const auto head =
        received.substr(0, head_end == std::string_view::npos ? received.size() : head_end + 2);
    if (has_bare_lf(head)) {
        return reject(400, "lines must end with CRLF");
    }
    const auto line_end = received.find("\r\n");
    // Check the method while it is still arriving, so non-HTTP bytes fail fast.
    const auto method_end = std::min({received.find(' '), line_end, received.size()});
    if (!std::all_of(received.begin(), received.begin() + static_cast<std::ptrdiff_t>(method_end),
                     is_tchar) ||
        (line_end != std::string_view::npos && method_end == 0)) {
        return reject(400, "not an HTTP request");
    }
    if (head_end == std::string_view::npos || head_end + 4 > max_head_bytes) {
        if (line_end == std::string_view::npos && received.size() > max_head_bytes) {
            return reject(414, "the request line is longer than " + std::to_string(max_head_bytes) +
                                   " bytes");
        }
        if (received.size() > max_head_bytes || head_end != std::string_view::npos) {
            return reject(431, "the request head is longer than " + std::to_string(max_head_bytes) +
                                   " bytes");
        }
        return {};
    }
    HeadParse result;
    auto rest = received.substr(0, head_end + 2);
    bool first_line = true;
    while (!rest.empty()) {
        const auto end = rest.find("\r\n");
        const auto line = rest.substr(0, end);
        rest.remove_prefix(end + 2);
        auto failure = first_line ? parse_request_line(line, result.request)
                                  : parse_header(line, result.request);
        if (failure) {
            return std::move(*failure);
        }
        first_line = false;
    }
    if (result.request.minor_version >= 1 &&
        std::none_of(result.request.headers.begin(), result.request.headers.end(),
                     [](const auto& header) { return header.first == "host"; })) {
        return reject(400, "HTTP/1.1 requests need a Host header");
    }
    result.state = HeadParse::State::complete;
    return result;
}

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
            const auto lowered = lower(coding);
            if (lowered == "gzip" || lowered == "x-gzip") {
                gzip = q;
            } else if (coding == "*") {
                any = q;
            }
        }
    }
    return gzip ? *gzip > 0 : any && *any > 0;
}

} // namespace acctc::recording
