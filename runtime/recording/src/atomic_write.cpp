#include "acctc/recording/atomic_write.hpp"

#include "acctc/recording/unique_fd.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <sys/stat.h>
#include <vector>

namespace acctc::recording {
namespace {

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& file) {
    throw std::runtime_error(what + " " + file.string() + ": " + std::strerror(errno));
}

// Removes the temporary file unless the rename consumed it.
struct TemporaryFile {
    std::string path;
    bool keep = false;
    TemporaryFile(const TemporaryFile&) = delete;
    TemporaryFile& operator=(const TemporaryFile&) = delete;
    explicit TemporaryFile(std::string name) : path(std::move(name)) {}
    ~TemporaryFile() {
        if (!keep) {
            ::unlink(path.c_str());
        }
    }
};

} // namespace

void write_file_atomically(const std::filesystem::path& file, std::span<const unsigned char> data) {
    std::string pattern = file.string() + ".XXXXXX";
    std::vector<char> name(pattern.begin(), pattern.end());
    name.push_back('\0');
    UniqueFd fd(::mkstemp(name.data()));
    if (!fd) {
        fail("cannot create a temporary file for", file);
    }
    TemporaryFile temporary(name.data());
    // mkstemp makes 0600; a graph is meant to be read by others (a web server, say).
    if (::fchmod(fd.get(), 0644) != 0) {
        fail("cannot set the mode of", temporary.path);
    }
    std::size_t written = 0;
    while (written < data.size()) {
        const auto n = ::write(fd.get(), data.data() + written, data.size() - written);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            fail("cannot write", temporary.path);
        }
        written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) {
        fail("cannot sync", temporary.path);
    }
    fd.reset();
    if (::rename(temporary.path.c_str(), file.c_str()) != 0) {
        fail("cannot rename to", file);
    }
    temporary.keep = true;
}

} // namespace acctc::recording
