#include "support/exposition_parser.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <set>

namespace acctc::recording::testing {
namespace {

bool is_name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_name_char(char c) {
    return is_name_start(c) || (c >= '0' && c <= '9');
}

bool valid_utf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto byte = static_cast<unsigned char>(text[i]);
        std::size_t extra = 0;
        std::uint32_t code = 0;
        if (byte < 0x80) {
            ++i;
            continue;
        }
        if ((byte & 0xe0U) == 0xc0U) {
            extra = 1;
            code = byte & 0x1fU;
        } else if ((byte & 0xf0U) == 0xe0U) {
            extra = 2;
            code = byte & 0x0fU;
        } else if ((byte & 0xf8U) == 0xf0U) {
            extra = 3;
            code = byte & 0x07U;
        } else {
            return false;
        }
        if (i + extra >= text.size()) {
            return false;
        }
        for (std::size_t k = 1; k <= extra; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xc0U) != 0x80U) {
                return false;
            }
            code = (code << 6U) | (next & 0x3fU);
        }
        const std::uint32_t minimum = extra == 1 ? 0x80 : extra == 2 ? 0x800 : 0x10000;
        if (code < minimum || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
            return false;
        }
        i += extra + 1;
    }
    return true;
}

class LineParser {
  public:
    LineParser(std::string_view line, std::size_t number) : line_(line), number_(number) {}

    [[noreturn]] void fail(const std::string& what) const {
        throw ExpositionError("line " + std::to_string(number_) + ": " + what + " in '" +
                              std::string(line_) + "'");
    }
    bool done() const { return pos_ >= line_.size(); }
    char peek() const { return done() ? '\0' : line_[pos_]; }
    void skip_blanks() {
        while (!done() && (peek() == ' ' || peek() == '\t')) {
            ++pos_;
        }
    }
    void expect(char c) {
        if (peek() != c) {
            fail(std::string("expected '") + c + "'");
        }
        ++pos_;
    }
    std::string metric_name() {
        const auto start = pos_;
        if (!(is_name_start(peek()) || peek() == ':')) {
            fail("expected a metric name");
        }
        while (!done() && (is_name_char(peek()) || peek() == ':')) {
            ++pos_;
        }
        return std::string(line_.substr(start, pos_ - start));
    }
    std::string label_name() {
        const auto start = pos_;
        if (!is_name_start(peek())) {
            fail("expected a label name");
        }
        while (!done() && is_name_char(peek())) {
            ++pos_;
        }
        return std::string(line_.substr(start, pos_ - start));
    }
    // Label values escape backslash, double quote and newline; nothing else.
    std::string label_value() {
        expect('"');
        std::string value;
        for (;;) {
            if (done()) {
                fail("unterminated label value");
            }
            const char c = line_[pos_++];
            if (c == '"') {
                break;
            }
            if (c != '\\') {
                value += c;
                continue;
            }
            const char escaped = peek();
            ++pos_;
            if (escaped == '\\' || escaped == '"') {
                value += escaped;
            } else if (escaped == 'n') {
                value += '\n';
            } else {
                fail("invalid escape in label value");
            }
        }
        if (!valid_utf8(value)) {
            fail("label value is not UTF-8");
        }
        return value;
    }
    std::string_view token() {
        const auto start = pos_;
        while (!done() && peek() != ' ' && peek() != '\t') {
            ++pos_;
        }
        return line_.substr(start, pos_ - start);
    }
    std::string_view rest() {
        const auto text = line_.substr(std::min(pos_, line_.size()));
        pos_ = line_.size();
        return text;
    }

  private:
    std::string_view line_;
    std::size_t number_;
    std::size_t pos_ = 0;
};

double parse_value(std::string_view text, const LineParser& parser) {
    if (text == "NaN") {
        return std::numeric_limits<double>::quiet_NaN();
    }
    if (text == "+Inf" || text == "Inf") {
        return std::numeric_limits<double>::infinity();
    }
    if (text == "-Inf") {
        return -std::numeric_limits<double>::infinity();
    }
    auto digits = text;
    if (!digits.empty() && digits.front() == '+') {
        digits.remove_prefix(1);
    }
    double value = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value,
                                              std::chars_format::general);
    if (digits.empty() || error != std::errc{} || end != digits.data() + digits.size() ||
        std::isnan(value) || std::isinf(value)) {
        parser.fail("bad sample value '" + std::string(text) + "'");
    }
    return value;
}

std::string unescape_help(std::string_view text, const LineParser& parser) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\') {
            out += text[i];
            continue;
        }
        if (i + 1 >= text.size()) {
            parser.fail("dangling backslash in HELP");
        }
        const char escaped = text[++i];
        if (escaped == '\\') {
            out += '\\';
        } else if (escaped == 'n') {
            out += '\n';
        } else {
            parser.fail("invalid escape in HELP");
        }
    }
    return out;
}

// The family a sample name belongs to, given the family's declared type.
bool belongs_to(const std::string& sample, const ExpositionFamily& family) {
    if (sample == family.name) {
        return true;
    }
    const auto suffix_of = [&](std::string_view suffix) {
        return sample.size() == family.name.size() + suffix.size() &&
               sample.compare(0, family.name.size(), family.name) == 0 &&
               sample.compare(family.name.size(), suffix.size(), suffix) == 0;
    };
    if (family.type == "summary") {
        return suffix_of("_sum") || suffix_of("_count");
    }
    if (family.type == "histogram") {
        return suffix_of("_sum") || suffix_of("_count") || suffix_of("_bucket");
    }
    return false;
}

class Document {
  public:
    void comment(LineParser& parser) {
        parser.expect('#');
        parser.skip_blanks();
        const auto keyword = parser.token();
        if (keyword != "HELP" && keyword != "TYPE") {
            parser.rest(); // an ordinary comment
            return;
        }
        parser.skip_blanks();
        const auto name = parser.metric_name();
        auto& family = family_for_metadata(name, parser);
        if (keyword == "HELP") {
            if (family.help) {
                parser.fail("second HELP for " + name);
            }
            if (!parser.done()) {
                parser.expect(' ');
            }
            const auto help = unescape_help(parser.rest(), parser);
            if (!valid_utf8(help)) {
                parser.fail("HELP is not UTF-8");
            }
            family.help = help;
            return;
        }
        parser.skip_blanks();
        const auto type = std::string(parser.token());
        parser.skip_blanks();
        if (!parser.done()) {
            parser.fail("text after the TYPE");
        }
        static const std::set<std::string> types = {"counter", "gauge", "histogram", "summary",
                                                    "untyped"};
        if (types.count(type) == 0) {
            parser.fail("unknown type '" + type + "'");
        }
        if (typed_.count(name) != 0) {
            parser.fail("second TYPE for " + name);
        }
        if (!family.samples.empty()) {
            parser.fail("TYPE for " + name + " after its samples");
        }
        typed_.insert(name);
        family.type = type;
    }

    void sample(LineParser& parser) {
        ExpositionSample sample;
        sample.name = parser.metric_name();
        bool blank = parser.peek() == ' ' || parser.peek() == '\t';
        parser.skip_blanks();
        if (parser.peek() == '{') {
            parser.expect('{');
            parser.skip_blanks();
            while (parser.peek() != '}') {
                const auto label = parser.label_name();
                if (label.rfind("__", 0) == 0) {
                    parser.fail("label name '" + label + "' is reserved");
                }
                parser.skip_blanks();
                parser.expect('=');
                parser.skip_blanks();
                const auto value = parser.label_value();
                if (!sample.labels.emplace(label, value).second) {
                    parser.fail("duplicate label '" + label + "'");
                }
                parser.skip_blanks();
                if (parser.peek() == ',') {
                    parser.expect(',');
                    parser.skip_blanks();
                } else if (parser.peek() != '}') {
                    parser.fail("expected ',' or '}'");
                }
            }
            parser.expect('}');
            blank = parser.peek() == ' ' || parser.peek() == '\t';
        }
        if (!blank) {
            parser.fail("expected a blank before the value");
        }
        parser.skip_blanks();
        sample.value = parse_value(parser.token(), parser);
        parser.skip_blanks();
        if (!parser.done()) {
            const auto stamp = parser.token();
            std::int64_t ms = 0;
            const auto [end, error] =
                std::from_chars(stamp.data(), stamp.data() + stamp.size(), ms);
            if (error != std::errc{} || end != stamp.data() + stamp.size()) {
                parser.fail("bad timestamp");
            }
            sample.timestamp_ms = ms;
            parser.skip_blanks();
            if (!parser.done()) {
                parser.fail("text after the timestamp");
            }
        }
        auto& family = family_for_sample(sample.name, parser);
        std::string series = sample.name;
        for (const auto& [label, value] : sample.labels) {
            series += '\0' + label + '\0' + value;
        }
        if (!series_.insert(series).second) {
            parser.fail("duplicate series");
        }
        family.samples.push_back(std::move(sample));
    }

    std::vector<ExpositionFamily> take() { return std::move(families_); }

  private:
    // HELP and TYPE open a family, or continue the current one if it has the same name.
    ExpositionFamily& family_for_metadata(const std::string& name, const LineParser& parser) {
        if (!families_.empty() && families_.back().name == name) {
            return families_.back();
        }
        open(name, parser);
        return families_.back();
    }

    ExpositionFamily& family_for_sample(const std::string& name, const LineParser& parser) {
        if (!families_.empty() && belongs_to(name, families_.back())) {
            return families_.back();
        }
        open(name, parser);
        return families_.back();
    }

    void open(const std::string& name, const LineParser& parser) {
        if (!seen_.insert(name).second) {
            parser.fail("family " + name + " is not contiguous");
        }
        families_.push_back({name, "untyped", std::nullopt, {}});
    }

    std::vector<ExpositionFamily> families_;
    std::set<std::string> seen_;
    std::set<std::string> typed_;
    std::set<std::string> series_;
};

} // namespace

std::vector<ExpositionFamily> parse_exposition(std::string_view text) {
    if (!text.empty() && text.back() != '\n') {
        throw ExpositionError("the last line does not end with a newline");
    }
    Document document;
    std::size_t number = 0;
    while (!text.empty()) {
        const auto end = text.find('\n');
        const auto line = text.substr(0, end);
        text.remove_prefix(end + 1);
        LineParser parser(line, ++number);
        if (line.find('\r') != std::string_view::npos) {
            parser.fail("carriage return");
        }
        if (line.empty()) {
            continue;
        }
        if (line.front() == '#') {
            document.comment(parser);
        } else {
            document.sample(parser);
        }
    }
    return document.take();
}

} // namespace acctc::recording::testing
