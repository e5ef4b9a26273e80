// Text from outside acctc's control (policy source lines, kernel object comments, user strings)
// made safe to print as one line on a terminal: valid UTF-8 as it is, control characters and
// bytes that are not UTF-8 escaped. Header-only: the runtime uses it without linking the compiler.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace acctc {

// The length of the well-formed UTF-8 sequence at text[at] (1 to 4), or 0 when the bytes there
// are not one (a stray continuation byte, an overlong form, a surrogate, past U+10FFFF, cut off).
inline std::size_t utf8_sequence_length(std::string_view text, std::size_t at) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[at + i]); };
    const unsigned char lead = byte(0);
    if (lead < 0x80) {
        return 1;
    }
    // RFC 3629's table: the allowed range of the second byte depends on the lead byte.
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) {
        length = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        length = 3;
        low = lead == 0xe0 ? 0xa0 : 0x80;
        high = lead == 0xed ? 0x9f : 0xbf;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        length = 4;
        low = lead == 0xf0 ? 0x90 : 0x80;
        high = lead == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0;
    }
    if (at + length > text.size() || byte(1) < low || byte(1) > high) {
        return 0;
    }
    for (std::size_t i = 2; i < length; ++i) {
        if (byte(i) < 0x80 || byte(i) > 0xbf) {
            return 0;
        }
    }
    return length;
}

// Code points that print nothing yet move the cursor or reorder the line: U+2028 and U+2029
// (line and paragraph separators) and the bidirectional controls (U+061C, U+200E, U+200F,
// U+202A-U+202E, U+2066-U+2069: "Trojan Source" reorders a line with them).
inline bool is_invisible_control(std::string_view sequence) {
    const auto at = [&](std::size_t i) { return static_cast<unsigned char>(sequence[i]); };
    if (sequence.size() == 2) {
        return at(0) == 0xd8 && at(1) == 0x9c; // U+061C
    }
    if (sequence.size() != 3 || at(0) != 0xe2) {
        return false;
    }
    return (at(1) == 0x80 &&
            (at(2) == 0x8e || at(2) == 0x8f || (at(2) >= 0xa8 && at(2) <= 0xae))) ||
           (at(1) == 0x81 && at(2) >= 0xa6 && at(2) <= 0xa9);
}

enum class Tabs { keep, escape };

// `text` as one terminal line: \n, \r and \t (unless Tabs::keep) as those two characters,
// other control characters (C0, DEL, C1 U+0080-U+009F and is_invisible_control's) and bytes that
// are not UTF-8 as \xNN per byte; everything else as it is.
inline std::string printable_text(std::string_view text, Tabs tabs = Tabs::escape) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size());
    const auto escape = [&](unsigned char c) {
        out += "\\x";
        out += hex[c >> 4];
        out += hex[c & 0xf];
    };
    for (std::size_t at = 0; at < text.size();) {
        const auto c = static_cast<unsigned char>(text[at]);
        const std::size_t length = utf8_sequence_length(text, at);
        if (c == '\t' && tabs == Tabs::keep) {
            out += '\t';
        } else if (c == '\n' || c == '\r' || c == '\t') {
            out += c == '\n' ? "\\n" : c == '\r' ? "\\r" : "\\t";
        } else if (c < 0x20 || c == 0x7f || length == 0) {
            escape(c);
        } else if ((length == 2 && c == 0xc2 && static_cast<unsigned char>(text[at + 1]) < 0xa0) ||
                   is_invisible_control(text.substr(at, length))) {
            // C1 controls: some terminals act on them as on ESC sequences.
            for (std::size_t i = 0; i < length; ++i) {
                escape(static_cast<unsigned char>(text[at + i]));
            }
        } else {
            out.append(text.substr(at, length));
        }
        at += length == 0 ? 1 : length;
    }
    return out;
}

// Columns `text` takes when printed: one per code point (a byte that is not UTF-8 counts one).
// Wide characters (CJK, emoji) take two on most terminals; acctc does not ask the locale.
inline std::size_t text_columns(std::string_view text) {
    std::size_t columns = 0;
    for (std::size_t at = 0; at < text.size(); ++columns) {
        const std::size_t length = utf8_sequence_length(text, at);
        at += length == 0 ? 1 : length;
    }
    return columns;
}

} // namespace acctc
