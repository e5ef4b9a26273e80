// What a kernel counter object counts, written into its comment so the runtime recovers a
// counter's family and dimension labels from the kernel alone (no policy file needed). The
// compiler encodes, the runtime decodes: both go through this one header.
//
// Format, version 1 (docs/runtime.md, "Counter metadata"):
//     acctc1 f=<n>[ k=<kind>][ <dimension>=<value>]...[ w=<difference>,...[ rx=<device>,...]][
//     @<origin>]
// <n> is the length of the family name, which is the first <n> bytes of the object's name
// (skype_tcp_in -> f=5: family skype), so a long family never pushes the labels out. Dimensions
// come in the order of enum Dimension. Values and the origin are escaped: every byte outside
// [A-Za-z0-9_.,:/+-] becomes %XX. nft holds at most 128 bytes of comment: the origin (file:line)
// is cut from the left ("...h/policy.acct:12") to fit, never the labels. A comment in any
// other form (tables written before version 1 hold just "file:line") decodes as family = the
// object's name, no labels, origin = the comment. w= lists how the counter's packets can differ
// from the wire's (docs/counting.md); rx= the devices whose receive offloads decide whether it
// counts merged packets. When the comment is short of room, rx= goes first, then w=, then the
// origin: never the labels.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace acctc {

// What a family is. Quotas are not produced yet; the encoding already carries the kind.
enum class CounterKind { counter, quota };

// The axes a family's counters differ by, in label order. A host dimension's values appear at
// run time (dynamic set elements), the others' at compile time. opener (who opened a followed
// connection: local or remote) comes before host, which the runtime appends last.
enum class Dimension { direction, protocol, icmp_type, class_, opener, host };

inline constexpr std::array<Dimension, 6> all_dimensions{Dimension::direction, Dimension::protocol,
                                                         Dimension::icmp_type, Dimension::class_,
                                                         Dimension::opener,    Dimension::host};

// The label name in every output (Prometheus, JSON, table columns, the comment).
constexpr std::string_view dimension_name(Dimension d) {
    constexpr std::array<std::string_view, 6> names{"direction", "protocol", "icmp_type",
                                                    "class",     "opener",   "host"};
    return names[static_cast<std::size_t>(d)];
}

constexpr std::string_view kind_name(CounterKind k) {
    return k == CounterKind::counter ? "counter" : "quota";
}

// How what a counter counts at its hook can differ from the packets on the wire
// (docs/counting.md, "Where the hooks differ from the wire"), as far as the policy decides it.
enum class WireDifference {
    segmentation_offload, // TCP this host sends: one packet per GSO packet, cut up after the hook
    receive_offload,      // arriving TCP merged by GRO/LRO before the hook, if the device does it
    fragmentation,        // datagrams larger than the MTU counted whole, fragmented after the hook
    reassembly,           // connection tracking reassembles fragmented datagrams before the hook
};

inline constexpr std::array<WireDifference, 4> all_wire_differences{
    WireDifference::segmentation_offload, WireDifference::receive_offload,
    WireDifference::fragmentation, WireDifference::reassembly};

// The name in the comment, JSON and Prometheus.
constexpr std::string_view wire_difference_name(WireDifference d) {
    constexpr std::array<std::string_view, 4> names{"gso", "gro", "fragmentation", "reassembly"};
    return names[static_cast<std::size_t>(d)];
}

// Whether the difference makes a counter count merged packets (fewer than the wire carries).
constexpr bool merges_packets(WireDifference d) {
    return d == WireDifference::segmentation_offload || d == WireDifference::receive_offload;
}

// A set of WireDifference.
class WireDifferences {
  public:
    void add(WireDifference d) { bits_ |= bit(d); }
    void add(const WireDifferences& other) { bits_ |= other.bits_; }
    void remove(WireDifference d) { bits_ &= ~bit(d); }
    bool has(WireDifference d) const { return (bits_ & bit(d)) != 0; }
    bool empty() const { return bits_ == 0; }
    bool merged() const {
        return has(WireDifference::segmentation_offload) || has(WireDifference::receive_offload);
    }
    friend bool operator==(const WireDifferences&, const WireDifferences&) = default;

  private:
    static unsigned bit(WireDifference d) { return 1U << static_cast<unsigned>(d); }
    unsigned bits_ = 0;
};

struct Label {
    Dimension dimension = Dimension::direction;
    std::string value;
    friend bool operator==(const Label&, const Label&) = default;
};

// One kernel counter's identity beyond its flat name.
struct CounterIdentity {
    std::string family; // e.g. skype
    CounterKind kind = CounterKind::counter;
    std::vector<Label> labels; // ordered by Dimension
    std::string origin;        // file:line, possibly cut from the left
    WireDifferences wire{};    // may differ from the wire by these
    // Devices whose receive offloads decide WireDifference::receive_offload (a trailing '*' is a
    // wildcard); empty: any device of the namespace.
    std::vector<std::string> receive_devices{};
    friend bool operator==(const CounterIdentity&, const CounterIdentity&) = default;
};

inline constexpr std::size_t nft_comment_limit = 128; // libnftables rejects longer comments
inline constexpr std::string_view counter_comment_version = "acctc1";

// The comment of a set whose elements count for counters (a large classification's part): each
// element's comment is the counter's name, a space and the counter's comment.
inline constexpr std::string_view element_set_comment = "acctc-elements";

// A counting set's whole comment: element_set_comment, its key's nft types joined by '.' (a
// reload keeps a set only when they are the policy's: the kernel would refuse the elements of
// another type, and listing each set's shape costs a libnftables run), ` @` and the origin, cut
// to nft_comment_limit.
inline std::string counting_set_comment(const std::vector<std::string>& types,
                                        std::string_view origin) {
    std::string out(element_set_comment);
    for (std::size_t i = 0; i < types.size(); ++i) {
        out += (i == 0 ? " " : ".") + types[i];
    }
    out += " @";
    out += origin;
    return out.substr(0, nft_comment_limit);
}

// The types part of a counting set's comment ("" when it has none).
inline std::string_view counting_set_types(std::string_view comment) {
    if (!comment.starts_with(element_set_comment) ||
        comment.substr(element_set_comment.size()).find(' ') != 0) {
        return {};
    }
    comment.remove_prefix(element_set_comment.size() + 1);
    return comment.substr(0, comment.find(' '));
}

namespace counter_labels_detail {

inline bool plain(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == ',' || c == ':' || c == '/' || c == '+' || c == '-';
}

inline void escape_into(std::string& out, std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    // Runs of plain bytes in one append: 100,000 class labels pass through here.
    std::size_t run = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (!plain(c)) {
            out.append(text.substr(run, i - run));
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
            run = i + 1;
        }
    }
    out.append(text.substr(run));
}

inline std::optional<std::string> unescape(std::string_view text) {
    auto digit = [](char c) -> int {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    };
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            if (!plain(static_cast<unsigned char>(text[i]))) {
                return std::nullopt;
            }
            out += text[i];
            continue;
        }
        const int hi = i + 1 < text.size() ? digit(text[i + 1]) : -1;
        const int lo = i + 2 < text.size() ? digit(text[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

// unescape() into `out` (replacing what it held); false when the text is not an escaped one.
// Plain text, the usual case, is one validation and one assignment.
inline bool unescape_into(std::string& out, std::string_view text) {
    if (text.find('%') == std::string_view::npos) {
        for (const char c : text) {
            if (!plain(static_cast<unsigned char>(c))) {
                return false;
            }
        }
        out.assign(text);
        return true;
    }
    auto unescaped = unescape(text);
    if (!unescaped) {
        return false;
    }
    out = std::move(*unescaped);
    return true;
}

// A value in a comma-separated list: its commas escaped too.
inline void escape_list_item_into(std::string& out, std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (plain(byte) && c != ',') {
            out += c;
        } else {
            out += '%';
            out += hex[byte >> 4];
            out += hex[byte & 15];
        }
    }
}

// Calls item(text) for each item of a comma-separated list, without building one; false as
// soon as one returns false.
template <typename Item>
bool each_list_item(std::string_view text, Item item) {
    for (std::size_t at = 0; at <= text.size();) {
        const std::size_t end = std::min(text.find(',', at), text.size());
        if (!item(text.substr(at, end - at))) {
            return false;
        }
        at = end + 1;
    }
    return true;
}

} // namespace counter_labels_detail

// The comment for kernel object `name`. Throws std::length_error when the labels alone do not
// fit (the checker's name limits keep that from happening) and std::invalid_argument when the
// family is not a prefix of the name.
inline std::string encode_counter_comment(std::string_view name, const CounterIdentity& identity,
                                          std::size_t limit = nft_comment_limit) {
    using counter_labels_detail::escape_into;
    if (!name.starts_with(identity.family) || identity.family.empty()) {
        throw std::invalid_argument("counter family '" + identity.family +
                                    "' does not begin the name '" + std::string(name) + "'");
    }
    std::string out;
    out.reserve(limit);
    out += counter_comment_version;
    out += " f=";
    out += std::to_string(identity.family.size());
    if (identity.kind != CounterKind::counter) {
        out += " k=";
        out += kind_name(identity.kind);
    }
    for (const Label& label : identity.labels) {
        out += ' ';
        out += dimension_name(label.dimension);
        out += '=';
        escape_into(out, label.value);
    }
    if (out.size() > limit) {
        throw std::length_error("the labels of counter '" + std::string(name) + "' take " +
                                std::to_string(out.size()) + " bytes; a comment holds " +
                                std::to_string(limit));
    }
    if (!identity.wire.empty()) {
        // Appended in place (one comment per counter, 100,000 of them), then cut back to what
        // fits: rx= goes first, then w=.
        const std::size_t labels_only = out.size();
        out += " w=";
        for (WireDifference d : all_wire_differences) {
            if (identity.wire.has(d)) {
                if (out.size() != labels_only + 3) {
                    out += ',';
                }
                out += wire_difference_name(d);
            }
        }
        const std::size_t wire_end = out.size();
        if (identity.wire.has(WireDifference::receive_offload)) {
            for (const std::string& device : identity.receive_devices) {
                out += out.size() == wire_end ? " rx=" : ",";
                counter_labels_detail::escape_list_item_into(out, device);
            }
        }
        // Without rx= the runtime asks every device: a counter may be flagged that is not.
        if (out.size() > limit) {
            out.resize(wire_end <= limit ? wire_end : labels_only);
        }
    }
    if (identity.origin.empty()) {
        return out;
    }
    const std::size_t labels_end = out.size();
    out += " @";
    escape_into(out, identity.origin);
    if (out.size() <= limit) {
        return out;
    }
    const std::size_t room = limit - labels_end;
    if (room < 2 + 3 + 1) {
        out.resize(labels_end); // no room for even "...x": the labels matter more
        return out;
    }
    // Keep the origin's last room - 5 bytes after " @...".
    const std::size_t origin_begin = labels_end + 2;
    std::size_t cut = out.size() - (room - 2 - 3);
    // Never split an escape: step past a '%' that starts within two bytes before the cut.
    for (std::size_t back = 1; back <= 2 && cut - back >= origin_begin; ++back) {
        if (out[cut - back] == '%') {
            cut += 3 - back;
            break;
        }
    }
    out.replace(origin_begin, cut - origin_begin, "...");
    return out;
}

// The identity of kernel object `name` from its comment; the fallback for any other comment.
// Walks the words in place and builds nothing it does not return: a read of 100,000 counters
// decodes 100,000 comments.
inline CounterIdentity decode_counter_comment(std::string_view name, std::string_view comment) {
    using counter_labels_detail::unescape_into;
    const auto fallback = [&] {
        return CounterIdentity{std::string(name), CounterKind::counter, {}, std::string(comment)};
    };
    if (!comment.starts_with(counter_comment_version) ||
        comment.size() <= counter_comment_version.size() ||
        comment[counter_comment_version.size()] != ' ') {
        return fallback();
    }
    CounterIdentity out;
    bool family_seen = false;
    std::size_t next_dimension = 0;
    std::string value;
    for (std::size_t at = counter_comment_version.size() + 1, w = 0; at <= comment.size(); ++w) {
        const std::size_t end = std::min(comment.find(' ', at), comment.size());
        const std::string_view word = comment.substr(at, end - at);
        const bool last = end == comment.size();
        at = end + 1;
        if (word.starts_with('@') && last) {
            if (!unescape_into(out.origin, word.substr(1))) {
                return fallback();
            }
            continue;
        }
        const std::size_t eq = word.find('=');
        if (eq == std::string_view::npos || eq == 0) {
            return fallback();
        }
        const std::string_view key = word.substr(0, eq);
        const std::string_view raw = word.substr(eq + 1);
        if (!unescape_into(value, raw)) {
            return fallback();
        }
        if (key == "f" && !family_seen && w == 0) {
            std::size_t length = 0;
            for (char c : value) {
                if (c < '0' || c > '9' || length > name.size()) {
                    return fallback();
                }
                length = length * 10 + static_cast<std::size_t>(c - '0');
            }
            if (value.empty() || length == 0 || length > name.size()) {
                return fallback();
            }
            out.family = std::string(name.substr(0, length));
            family_seen = true;
            continue;
        }
        if (key == "w" && family_seen && out.wire.empty()) {
            // Unescaped names are plain: the list splits on the raw text.
            const bool named =
                counter_labels_detail::each_list_item(raw, [&](std::string_view item) {
                    bool known = false;
                    for (WireDifference d : all_wire_differences) {
                        if (wire_difference_name(d) == item) {
                            out.wire.add(d);
                            known = true;
                        }
                    }
                    return known;
                });
            if (!named) {
                return fallback();
            }
            next_dimension = all_dimensions.size(); // labels come before w=
            continue;
        }
        if (key == "rx" && !out.wire.empty() && out.receive_devices.empty()) {
            const bool devices =
                counter_labels_detail::each_list_item(raw, [&](std::string_view item) {
                    std::string device;
                    if (!unescape_into(device, item) || device.empty()) {
                        return false;
                    }
                    out.receive_devices.push_back(std::move(device));
                    return true;
                });
            if (!devices) {
                return fallback();
            }
            continue;
        }
        if (key == "k" && family_seen && out.labels.empty()) {
            if (value == kind_name(CounterKind::quota)) {
                out.kind = CounterKind::quota;
                continue;
            }
            if (value != kind_name(CounterKind::counter)) {
                return fallback();
            }
            continue;
        }
        bool known = false;
        for (; family_seen && next_dimension < all_dimensions.size(); ++next_dimension) {
            if (dimension_name(all_dimensions[next_dimension]) == key) {
                out.labels.push_back({all_dimensions[next_dimension], std::move(value)});
                value.clear();
                ++next_dimension;
                known = true;
                break;
            }
        }
        if (!known) {
            return fallback(); // unknown, repeated or out-of-order dimension
        }
    }
    if (!family_seen) {
        return fallback();
    }
    return out;
}

} // namespace acctc
