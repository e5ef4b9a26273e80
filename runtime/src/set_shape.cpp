#include "set_shape.hpp"

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>
#include <sstream>
#include <vector>

namespace acctc::runtime {
namespace {

// Where a character of nft text stands: inside a quoted string, and how deep in braces.
class Nesting {
  public:
    // Takes the next character; braces inside quotes do not count.
    void step(char c) {
        if (quoted_) {
            quoted_ = c != '"';
        } else if (c == '"') {
            quoted_ = true;
        } else if (c == '{') {
            ++depth_;
        } else if (c == '}') {
            --depth_;
        }
    }
    bool quoted() const { return quoted_; }
    int depth() const { return depth_; }

  private:
    bool quoted_ = false;
    int depth_ = 0;
};

// Index of the '}' closing the block whose '{' is at `open` (quotes respected), or npos.
std::size_t matching_brace(const std::string& text, std::size_t open) {
    Nesting nesting;
    for (std::size_t i = open; i < text.size(); ++i) {
        const bool was_quoted = nesting.quoted();
        nesting.step(text[i]);
        if (!was_quoted && text[i] == '}' && nesting.depth() == 0) {
            return i;
        }
    }
    return std::string::npos;
}

std::string collapse_spaces(const std::string& text) {
    std::istringstream words(text);
    std::string word;
    std::string out;
    while (words >> word) {
        out += (out.empty() ? "" : " ") + word;
    }
    return out;
}

// The statements of a block body: separated by newlines or ';' outside braces and quotes.
std::vector<std::string> statements(const std::string& body) {
    std::vector<std::string> out;
    std::string current;
    Nesting nesting;
    const auto finish = [&] {
        std::string statement = collapse_spaces(current);
        if (!statement.empty()) {
            out.push_back(std::move(statement));
        }
        current.clear();
    };
    for (const char c : body) {
        if (!nesting.quoted() && nesting.depth() == 0 && (c == '\n' || c == ';')) {
            finish();
            continue;
        }
        nesting.step(c);
        current += c;
    }
    finish();
    return out;
}

SetShape parse_body(bool map, const std::string& body) {
    SetShape shape;
    shape.map = map;
    std::set<std::string> flags;
    for (const auto& statement : statements(body)) {
        const std::size_t space = statement.find(' ');
        const std::string keyword = statement.substr(0, space);
        const std::string value = space == std::string::npos ? "" : statement.substr(space + 1);
        if (keyword == "comment" || keyword == "elements") {
            continue;
        }
        if (keyword == "type" || keyword == "typeof") {
            shape.settings["type"] = statement;
        } else if (keyword == "flags") {
            std::string flag;
            std::istringstream list(value);
            while (std::getline(list, flag, ',')) {
                flag = collapse_spaces(flag);
                if (!flag.empty()) {
                    flags.insert(flag);
                }
            }
        } else if (keyword == "timeout" || keyword == "gc-interval") {
            const std::int64_t ms = parse_nft_time_ms(value);
            shape.settings[keyword] = ms < 0 ? value : format_nft_time_ms(ms);
            if (keyword == "timeout") {
                flags.insert("timeout"); // nft sets the flag for a set with a default timeout
            }
        } else if (keyword == "size") {
            shape.settings["size"] = value;
        } else if (keyword == "policy") {
            if (value != "performance") { // the default, which nft does not list
                shape.settings["policy"] = value;
            }
        } else {
            shape.settings[statement] = "";
        }
    }
    std::string joined;
    for (const auto& flag : flags) {
        joined += (joined.empty() ? "" : ",") + flag;
    }
    if (!joined.empty()) {
        shape.settings["flags"] = joined;
    }
    return shape;
}

std::string describe(const std::string& key, const SetShape& shape) {
    const auto found = shape.settings.find(key);
    if (found == shape.settings.end()) {
        return "no " + key;
    }
    if (key == "type") {
        return found->second;
    }
    return found->second.empty() ? key : key + " " + found->second;
}

} // namespace

bool SetShape::dynamic() const {
    const auto flags = settings.find("flags");
    if (flags == settings.end()) {
        return false;
    }
    std::set<std::string> names;
    std::string flag;
    std::istringstream list(flags->second);
    while (std::getline(list, flag, ',')) {
        names.insert(flag);
    }
    return names.count("dynamic") != 0 || names.count("timeout") != 0;
}

std::map<std::string, SetShape> parse_set_shapes(const std::string& text) {
    static const std::regex set_head(R"(^\s*(set|map)\s+(\S+)\s*$)");
    std::map<std::string, SetShape> shapes;
    int depth = 0;
    bool quoted = false;
    std::string head; // the current statement at this depth, up to an opening brace
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            quoted = c != '"';
            continue;
        }
        std::smatch match;
        switch (c) {
        case '"':
            quoted = true;
            head += c; // a quoted name is not a set declaration acctc makes
            break;
        case '#':
            while (i + 1 < text.size() && text[i + 1] != '\n') {
                ++i;
            }
            break;
        case '{':
            if (depth == 1 && head.find_first_of("sm") != std::string::npos &&
                std::regex_match(head, match, set_head)) {
                const std::size_t close = matching_brace(text, i);
                if (close == std::string::npos) {
                    return shapes;
                }
                shapes[match[2].str()] =
                    parse_body(match[1].str() == "map", text.substr(i + 1, close - i - 1));
                i = close;
            } else {
                ++depth;
            }
            head.clear();
            break;
        case '}':
            depth = std::max(0, depth - 1);
            head.clear();
            break;
        case '\n':
        case ';':
            head.clear();
            break;
        default:
            if (depth == 1 && head.size() < 512) { // only table members can be sets
                head += c;
            }
        }
    }
    return shapes;
}

std::string shape_change(const SetShape& before, const SetShape& after) {
    if (before.map != after.map) {
        return before.map ? "map -> set" : "set -> map";
    }
    std::set<std::string> keys;
    for (const auto* shape : {&before, &after}) {
        for (const auto& [key, value] : shape->settings) {
            keys.insert(key);
        }
    }
    std::string change;
    for (const auto& key : keys) {
        const auto old_value = before.settings.find(key);
        const auto new_value = after.settings.find(key);
        const bool both = old_value != before.settings.end() && new_value != after.settings.end();
        if (both && old_value->second == new_value->second) {
            continue;
        }
        const std::string text = both && key != "type" && !old_value->second.empty()
                                     ? key + " " + old_value->second + " -> " + new_value->second
                                     : describe(key, before) + " -> " + describe(key, after);
        change += (change.empty() ? "" : ", ") + text;
    }
    return change;
}

std::int64_t parse_nft_time_ms(const std::string& text) {
    static const std::regex whole(R"(^(\d+(d|h|ms|m|s))+$|^\d+$)");
    static const std::regex part(R"((\d+)(d|h|ms|m|s)?)");
    if (!std::regex_match(text, whole)) {
        return -1;
    }
    std::int64_t total = 0;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), part);
         it != std::sregex_iterator(); ++it) {
        const std::int64_t number = std::stoll((*it)[1].str());
        const std::string unit = (*it)[2].str();
        const std::int64_t scale = unit == "d"    ? 86'400'000
                                   : unit == "h"  ? 3'600'000
                                   : unit == "m"  ? 60'000
                                   : unit == "ms" ? 1
                                                  : 1000; // "s" or a bare number
        total += number * scale;
    }
    return total;
}

std::string format_nft_time_ms(std::int64_t milliseconds) {
    if (milliseconds == 0) {
        return "0s";
    }
    static const std::pair<std::int64_t, const char*> units[] = {
        {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}, {1, "ms"}};
    std::string out;
    for (const auto& [size, suffix] : units) {
        if (milliseconds >= size) {
            out += std::to_string(milliseconds / size) + suffix;
            milliseconds %= size;
        }
    }
    return out;
}

} // namespace acctc::runtime
