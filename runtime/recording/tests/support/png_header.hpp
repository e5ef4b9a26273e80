// Checks a PNG's structure (signature, chunk CRCs, IHDR first, IEND last) and reads its size.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>

namespace acctc::recording::testing {

struct PngHeader {
    std::uint32_t width = 0;
    std::uint32_t height = 0;
    std::uint8_t bit_depth = 0;
    std::uint8_t colour_type = 0;
};

// Throws std::runtime_error describing the first defect.
PngHeader read_png_header(std::span<const unsigned char> png);

} // namespace acctc::recording::testing
