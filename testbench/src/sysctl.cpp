#include "acctc/testbench/sysctl.hpp"

#include <cerrno>
#include <fcntl.h>
#include <stdexcept>
#include <unistd.h>

namespace acctc::testbench {
namespace {

std::string sysctl_path(const std::string& key) {
    if (!key.starts_with("net/") || key.find("..") != std::string::npos) {
        throw std::invalid_argument("sysctl '" + key + "' is not a per-namespace net/ key");
    }
    return "/proc/sys/" + key;
}

UniqueFd open_sysctl(const NamedNetns& netns, const std::string& key, int flags) {
    const auto path = sysctl_path(key);
    UniqueFd file;
    {
        ScopedNetns inside(netns);
        file.reset(::open(path.c_str(), flags | O_CLOEXEC));
    }
    if (!file.valid()) {
        throw_errno("open " + path + " in " + netns.name());
    }
    return file;
}

} // namespace

void write_sysctl(const NamedNetns& netns, const std::string& key, const std::string& value) {
    const auto file = open_sysctl(netns, key, O_WRONLY);
    if (::write(file.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
        throw_errno("write " + value + " to " + key + " in " + netns.name());
    }
}

std::string read_sysctl(const NamedNetns& netns, const std::string& key) {
    const auto file = open_sysctl(netns, key, O_RDONLY);
    char buffer[256];
    const auto length = ::read(file.get(), buffer, sizeof buffer);
    if (length < 0) {
        throw_errno("read " + key + " in " + netns.name());
    }
    std::string value(buffer, static_cast<std::size_t>(length));
    while (!value.empty() && (value.back() == '\n' || value.back() == ' ')) {
        value.pop_back();
    }
    return value;
}

} // namespace acctc::testbench
