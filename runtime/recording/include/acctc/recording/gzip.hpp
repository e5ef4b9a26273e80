// gzip (RFC 1952) through zlib, for Content-Encoding: gzip.
#pragma once

#include <string>
#include <string_view>

namespace acctc::recording {

// One gzip member holding `data`. Level 1: exposition text shrinks about tenfold even so, and a
// 100,000-counter body compresses in tens of milliseconds. Throws std::runtime_error.
std::string gzip_compress(std::string_view data, int level = 1);

} // namespace acctc::recording
