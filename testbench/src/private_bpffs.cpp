#include "acctc/testbench/private_bpffs.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sched.h>
#include <stdexcept>
#include <sys/mount.h>

namespace acctc::testbench {
namespace {

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error(what + ": " + std::strerror(errno));
}

} // namespace

PrivateBpffs::PrivateBpffs() {
    if (::unshare(CLONE_NEWNS) != 0) {
        fail("unshare mount namespace");
    }
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        fail("make mounts private");
    }
    char root[] = "/tmp/acctc-tb-bpf-XXXXXX";
    if (::mkdtemp(root) == nullptr) {
        fail("mkdtemp");
    }
    root_ = root;
    if (::mount("bpf", root, "bpf", 0, "mode=0700") != 0) {
        const int error = errno;
        std::filesystem::remove(root_);
        errno = error;
        fail("mount bpffs on " + root_.string());
    }
    ::setenv("ACCTC_BPF_ROOT", root, 1);
}

PrivateBpffs::~PrivateBpffs() {
    ::umount2(root_.c_str(), MNT_DETACH);
    std::error_code ignored;
    std::filesystem::remove(root_, ignored);
    ::unsetenv("ACCTC_BPF_ROOT");
}

} // namespace acctc::testbench
