// A directory of its own under the system's temporary directory, removed with everything in it
// when the object goes.
#pragma once

#include "acctc/testbench/unique_fd.hpp"

#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace acctc::testbench {

class TemporaryDirectory {
  public:
    // `prefix`: the start of its name, e.g. acctc-tb-etc (mkdtemp adds six characters).
    explicit TemporaryDirectory(std::string_view prefix) {
        std::string pattern =
            (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw_errno("mkdtemp");
        }
        path_ = pattern;
    }
    TemporaryDirectory(const TemporaryDirectory&) = delete;
    TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
    ~TemporaryDirectory() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

} // namespace acctc::testbench
