// A strict HTTP/1.x request-head parser: enough for GET /metrics, and nothing lenient that a
// confused or hostile client could lean on.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace acctc::recording {

struct HttpRequest {
    std::string method;
    std::string target; // in origin-form: /metrics?x=y (also for http://host/metrics?x=y)
    std::string path;   // target without the query
    int minor_version = 1;
    std::vector<std::pair<std::string, std::string>> headers; // names lower-cased
    std::optional<unsigned long long> content_length;
    bool has_transfer_encoding = false;

    // A body follows the head; the exporter takes none.
    bool announces_body() const {
        return has_transfer_encoding || (content_length && *content_length > 0);
    }
};

struct HeadParse {
    enum class State { incomplete, complete, rejected };
    State state = State::incomplete;
    HttpRequest request; // when complete
    int status = 0;      // when rejected: 400, 414, 431 or 505
    std::string reason;  // when rejected: what was wrong, for the response body
};

// Looks at everything received so far. Rejects as early as the bytes allow (a TLS hello or
// a bare LF fails at once, not after a timeout); `incomplete` means wait for more.
HeadParse parse_request_head(std::string_view received, std::size_t max_head_bytes);

// Accept-Encoding names gzip (or *) with a q-value above 0, and does not refuse gzip.
bool accepts_gzip(const HttpRequest& request);

} // namespace acctc::recording
