#include "acctc/recording/rrd_names.hpp"

#include <array>
#include <cstdint>
#include <stdexcept>

namespace acctc::recording {
namespace {

bool is_ds_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// FNV-1a: tiny, stable across platforms and releases, which is all a file format needs.
std::uint32_t fnv1a(std::string_view text) {
    std::uint32_t hash = 2166136261U;
    for (const char c : text) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 16777619U;
    }
    return hash;
}

constexpr std::array<char, 16> hex_digits = {'0', '1', '2', '3', '4', '5', '6', '7',
                                             '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

} // namespace

std::string ds_stem(std::string_view counter) {
    bool valid = !counter.empty() && counter.size() <= max_ds_stem_length;
    for (const char c : counter) {
        valid = valid && is_ds_char(c);
    }
    if (valid) {
        return std::string(counter);
    }
    std::string stem;
    for (const char c : counter.substr(0, 8)) {
        stem += is_ds_char(c) ? c : '_';
    }
    const std::uint32_t hash = fnv1a(counter);
    const auto folded = static_cast<std::uint16_t>((hash >> 16U) ^ (hash & 0xffffU));
    stem += '_';
    for (int shift = 12; shift >= 0; shift -= 4) {
        stem += hex_digits.at((folded >> static_cast<unsigned>(shift)) & 0xfU);
    }
    return stem;
}

std::string bytes_ds_name(std::string_view counter) {
    return ds_stem(counter) + "_bytes";
}

std::string packets_ds_name(std::string_view counter) {
    return ds_stem(counter) + "_pkts";
}

std::string encode_file_component(std::string_view name) {
    std::string out;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool keep = is_ds_char(c) || c == '-' || (c == '.' && i != 0);
        if (keep) {
            out += c;
        } else {
            const auto byte = static_cast<unsigned char>(c);
            out += '%';
            out += hex_digits.at(byte >> 4U);
            out += hex_digits.at(byte & 0xfU);
        }
    }
    return out;
}

std::string decode_file_component(std::string_view component) {
    std::string out;
    for (std::size_t i = 0; i < component.size(); ++i) {
        if (component[i] != '%') {
            out += component[i];
            continue;
        }
        if (i + 2 >= component.size()) {
            throw std::invalid_argument("truncated escape in file name '" + std::string(component) +
                                        "'");
        }
        const int high = hex_value(component[i + 1]);
        const int low = hex_value(component[i + 2]);
        if (high < 0 || low < 0) {
            throw std::invalid_argument("bad escape in file name '" + std::string(component) + "'");
        }
        out += static_cast<char>(high * 16 + low);
        i += 2;
    }
    return out;
}

std::filesystem::path policy_dir(const std::filesystem::path& dir, std::string_view policy) {
    if (policy.empty()) {
        throw std::invalid_argument("empty policy name");
    }
    return dir / encode_file_component(policy);
}

std::filesystem::path rrd_path(const std::filesystem::path& dir, std::string_view policy,
                               std::string_view counter) {
    if (counter.empty()) {
        throw std::invalid_argument("empty counter name");
    }
    return policy_dir(dir, policy) / (encode_file_component(counter) + ".rrd");
}

} // namespace acctc::recording
