#include "acctc/testbench/cleanup.hpp"

#include <array>
#include <atomic>
#include <csignal>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <sys/mount.h>
#include <unistd.h>

namespace acctc::testbench::cleanup {
namespace {

constexpr std::size_t max_namespaces = 256;
constexpr std::size_t max_children = 1024;
constexpr std::size_t max_path = 256;

// Slots are written under a mutex by normal code and only read by the handler; a slot's
// `used` flag is set after its contents, so the handler never sees half a path.
struct PathSlot {
    std::array<char, max_path> path{};
    std::atomic<bool> used{false};
};
std::array<PathSlot, max_namespaces> namespace_slots;
std::array<std::atomic<pid_t>, max_children> child_slots{};
std::mutex registry_mutex;
std::once_flag handlers_installed;

void on_terminating_signal(int signal_number) {
    for (auto& child : child_slots) {
        const pid_t pid = child.load();
        if (pid > 0) {
            ::kill(pid, SIGKILL);
        }
    }
    for (auto& slot : namespace_slots) {
        if (slot.used.load()) {
            ::umount2(slot.path.data(), MNT_DETACH);
            ::unlink(slot.path.data());
        }
    }
    ::signal(signal_number, SIG_DFL);
    ::raise(signal_number);
}

} // namespace

void install_signal_handlers() {
    std::call_once(handlers_installed, [] {
        struct sigaction action {};
        action.sa_handler = on_terminating_signal;
        sigemptyset(&action.sa_mask);
        for (int signal_number : {SIGINT, SIGTERM, SIGHUP}) {
            ::sigaction(signal_number, &action, nullptr);
        }
    });
}

void register_namespace_path(const char* path) {
    if (std::strlen(path) >= max_path) {
        throw std::length_error("namespace path too long for the cleanup registry");
    }
    std::lock_guard lock(registry_mutex);
    for (auto& slot : namespace_slots) {
        if (!slot.used.load()) {
            std::strncpy(slot.path.data(), path, max_path - 1);
            slot.used.store(true);
            return;
        }
    }
    throw std::length_error("too many namespaces for the cleanup registry");
}

void unregister_namespace_path(const char* path) {
    std::lock_guard lock(registry_mutex);
    for (auto& slot : namespace_slots) {
        if (slot.used.load() && std::strcmp(slot.path.data(), path) == 0) {
            slot.used.store(false);
            return;
        }
    }
}

void register_child(pid_t pid) {
    std::lock_guard lock(registry_mutex);
    for (auto& slot : child_slots) {
        pid_t empty = 0;
        if (slot.compare_exchange_strong(empty, pid)) {
            return;
        }
    }
    throw std::length_error("too many child processes for the cleanup registry");
}

void unregister_child(pid_t pid) {
    std::lock_guard lock(registry_mutex);
    for (auto& slot : child_slots) {
        pid_t expected = pid;
        if (slot.compare_exchange_strong(expected, 0)) {
            return;
        }
    }
}

} // namespace acctc::testbench::cleanup
