#include "acctc/recording/gzip.hpp"

#include <stdexcept>
#include <zlib.h>

namespace acctc::recording {
namespace {

// deflateEnd on every path out, as a z_stream owns zlib's buffers.
struct Deflater {
    z_stream stream{};
    Deflater(const Deflater&) = delete;
    Deflater& operator=(const Deflater&) = delete;
    explicit Deflater(int level) {
        // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
        if (deflateInit2(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            throw std::runtime_error("gzip: cannot initialise zlib");
        }
    }
    ~Deflater() { deflateEnd(&stream); }
};

} // namespace

std::string gzip_compress(std::string_view data, int level) {
    Deflater deflater(level);
    auto& stream = deflater.stream;
    std::string out(deflateBound(&stream, data.size()), '\0');
    // zlib's API is not const-correct; it does not write through next_in.
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream.avail_in = static_cast<uInt>(data.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    if (data.size() != stream.avail_in || deflate(&stream, Z_FINISH) != Z_STREAM_END) {
        throw std::runtime_error("gzip: cannot compress " + std::to_string(data.size()) + " bytes");
    }
    out.resize(stream.total_out);
    return out;
}

} // namespace acctc::recording
