#include "acctc/recording/output_file.hpp"

#include "acctc/recording/unique_fd.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace acctc::recording {
namespace {

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& file, int error) {
    throw std::runtime_error(what + " " + file.string() + ": " + std::strerror(error));
}

void write_all(int fd, std::span<const unsigned char> data, const std::filesystem::path& file) {
    std::size_t written = 0;
    while (written < data.size()) {
        const auto n = ::write(fd, data.data() + written, data.size() - written);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            fail("cannot write", file, errno);
        }
        written += static_cast<std::size_t>(n);
    }
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

// Creates FILE.XXXXXX beside `file` with O_EXCL; mode 0666 so the umask applies as for any
// new file (mkstemp would force 0600).
std::pair<UniqueFd, std::string> create_beside(const std::filesystem::path& file) {
    static constexpr char letters[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    std::random_device seed;
    std::mt19937 random(seed());
    std::uniform_int_distribution<std::size_t> pick(0, sizeof letters - 2);
    for (int attempt = 0; attempt < 100; ++attempt) {
        std::string name = file.string() + ".";
        for (int i = 0; i < 6; ++i) {
            name += letters[pick(random)];
        }
        UniqueFd fd(
            ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0666));
        if (fd) {
            return {std::move(fd), std::move(name)};
        }
        if (errno != EEXIST) {
            fail("cannot create a temporary file for", file, errno);
        }
    }
    fail("cannot create a temporary file for", file, EEXIST);
}

void replace_regular(const std::filesystem::path& file, const struct stat* existing,
                     std::span<const unsigned char> data) {
    auto [fd, name] = create_beside(file);
    TemporaryFile temporary(std::move(name));
    if (existing != nullptr) {
        // The replacement is the same file to its readers: same permissions, same owner (an
        // owner change needs root; without it the file becomes ours, as with any rewrite).
        if (::fchmod(fd.get(), existing->st_mode & 07777) != 0) {
            fail("cannot set the mode of", temporary.path, errno);
        }
        (void)::fchown(fd.get(), existing->st_uid, existing->st_gid);
    }
    write_all(fd.get(), data, file);
    if (::fsync(fd.get()) != 0) {
        fail("cannot write", file, errno);
    }
    if (::close(fd.release()) != 0) {
        fail("cannot write", file, errno);
    }
    if (::rename(temporary.path.c_str(), file.c_str()) != 0) {
        fail("cannot rename to", file, errno);
    }
    temporary.keep = true;
}

// The path a symlink chain ends at (possibly not existing yet), or `file` itself.
std::filesystem::path resolved(const std::filesystem::path& file) {
    std::filesystem::path target = file;
    for (int hops = 0; hops < 40; ++hops) {
        struct stat link {};
        if (::lstat(target.c_str(), &link) != 0 || !S_ISLNK(link.st_mode)) {
            return target;
        }
        std::error_code error;
        const auto next = std::filesystem::read_symlink(target, error);
        if (error) {
            fail("cannot read the link", target, error.value());
        }
        target = next.is_absolute() ? next : target.parent_path() / next;
    }
    fail("cannot resolve", file, ELOOP);
}

// /dev/stdout, /dev/fd/N, /proc/self/fd/N: an open stream (maybe a file opened for appending
// by the shell), not a file to replace.
bool names_a_stream(const std::filesystem::path& file) {
    const auto text = file.lexically_normal().string();
    return text.starts_with("/dev/") || text.starts_with("/proc/");
}

// A terminal, pipe, FIFO, device or stream: what the user named gets the bytes. No O_CREAT: it
// exists. O_APPEND: a stream the shell opened with >> keeps what it held, one opened with >
// is empty anyway.
void write_in_place(const std::filesystem::path& file, std::span<const unsigned char> data) {
    UniqueFd fd(::open(file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY));
    if (!fd) {
        fail("cannot open", file, errno);
    }
    write_all(fd.get(), data, file);
    // Some devices report a failed write only when closed.
    if (::close(fd.release()) != 0) {
        fail("cannot write", file, errno);
    }
}

} // namespace

void write_output_file(const std::filesystem::path& file, std::span<const unsigned char> data) {
    struct stat existing {};
    if (::stat(file.c_str(), &existing) != 0) {
        if (errno != ENOENT) {
            fail("cannot write", file, errno);
        }
        replace_regular(resolved(file), nullptr, data); // new, or where a dangling link points
        return;
    }
    if (S_ISDIR(existing.st_mode)) {
        fail("cannot write", file, EISDIR);
    }
    if (S_ISREG(existing.st_mode) && !names_a_stream(file)) {
        // Through /proc's fd links (pipe:[N]) the chain can end somewhere else: then in place.
        const auto target = resolved(file);
        struct stat at_target {};
        if (::stat(target.c_str(), &at_target) == 0 && at_target.st_dev == existing.st_dev &&
            at_target.st_ino == existing.st_ino) {
            replace_regular(target, &existing, data);
            return;
        }
    }
    write_in_place(file, data);
}

void write_output_file(const std::filesystem::path& file, std::string_view text) {
    write_output_file(file,
                      std::span(reinterpret_cast<const unsigned char*>(text.data()), text.size()));
}

} // namespace acctc::recording
