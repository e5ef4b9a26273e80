#include "support/png_header.hpp"

#include <array>
#include <string>

namespace acctc::recording::testing {
namespace {

std::uint32_t crc32(std::span<const unsigned char> data) {
    std::uint32_t crc = 0xffffffffU;
    for (const auto byte : data) {
        crc ^= byte;
        for (int bit = 0; bit < 8; ++bit) {
            crc = (crc >> 1U) ^ (0xedb88320U & (0U - (crc & 1U)));
        }
    }
    return crc ^ 0xffffffffU;
}

std::uint32_t big_endian(std::span<const unsigned char> at) {
    return (std::uint32_t{at[0]} << 24U) | (std::uint32_t{at[1]} << 16U) |
           (std::uint32_t{at[2]} << 8U) | std::uint32_t{at[3]};
}

} // namespace

PngHeader read_png_header(std::span<const unsigned char> png) {
    constexpr std::array<unsigned char, 8> signature = {0x89, 'P',  'N',  'G',
                                                        '\r', '\n', 0x1a, '\n'};
    if (png.size() < signature.size() ||
        !std::equal(signature.begin(), signature.end(), png.begin())) {
        throw std::runtime_error("no PNG signature");
    }
    PngHeader header;
    std::size_t at = signature.size();
    bool first = true;
    for (;;) {
        if (png.size() - at < 12) {
            throw std::runtime_error("truncated chunk at offset " + std::to_string(at));
        }
        const auto length = big_endian(png.subspan(at, 4));
        if (png.size() - at - 12 < length) {
            throw std::runtime_error("chunk longer than the file at offset " + std::to_string(at));
        }
        const auto type_and_data = png.subspan(at + 4, 4 + length);
        const std::string type(type_and_data.begin(), type_and_data.begin() + 4);
        if (crc32(type_and_data) != big_endian(png.subspan(at + 8 + length, 4))) {
            throw std::runtime_error("bad CRC in chunk " + type);
        }
        if (first) {
            if (type != "IHDR" || length != 13) {
                throw std::runtime_error("the first chunk is not a 13-byte IHDR");
            }
            const auto data = type_and_data.subspan(4);
            header.width = big_endian(data.subspan(0, 4));
            header.height = big_endian(data.subspan(4, 4));
            header.bit_depth = data[8];
            header.colour_type = data[9];
            first = false;
        }
        at += 12 + length;
        if (type == "IEND") {
            if (at != png.size()) {
                throw std::runtime_error("bytes after IEND");
            }
            return header;
        }
    }
}

} // namespace acctc::recording::testing
