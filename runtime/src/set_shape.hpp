// What makes two declarations of a named set or map "the same set": the reload keeps a set
// in place (with the elements the packet path put in it) only when its shape is unchanged.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace acctc::runtime {

struct SetShape {
    bool map = false;
    // Canonical settings: "type" ("type ..." or "typeof ..."), "flags" (sorted, comma
    // separated, with the timeout flag nft implies), "timeout" and "gc-interval" (in nft's
    // time notation, canonical), "size", "policy" (when not the default), and one key per
    // other statement ("counter", "auto-merge", ...). Comments and elements are left out: a
    // kept set keeps the comment it was created with, and its elements are handled apart.
    std::map<std::string, std::string> settings;

    // Elements are added by the packet path (or expire): they are state, not definition.
    bool dynamic() const;
    // Constant elements with counters (a large classification's counting set): the elements
    // carry counts, so a reload keeps them rather than flushing and refilling the set.
    bool counts_elements() const { return !dynamic() && settings.count("counter") != 0; }
};

// Every `set NAME { ... }` and `map NAME { ... }` inside a table block, from nft text: the
// compiled definition, or nft's listing of the live sets (`list sets table ...`).
std::map<std::string, SetShape> parse_set_shapes(const std::string& text);

// Empty when the shapes are the same; otherwise what changed, e.g. "timeout 1h -> 2h".
std::string shape_change(const SetShape& before, const SetShape& after);

// nft time notation ("1h30m", "90s", "500ms", a bare number of seconds) in milliseconds, and
// back in the form nft lists it; nullopt-like -1 for text that is not a time.
std::int64_t parse_nft_time_ms(const std::string& text);
std::string format_nft_time_ms(std::int64_t milliseconds);

} // namespace acctc::runtime
