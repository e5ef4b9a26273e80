// The differential property over the generated policies (policy_generator.hpp): whatever acctc
// compiles, the kernel tools accept. For nft: `nft -c -f` and a real `nft -f`; for iptables:
// `ipset restore`, `{ip,ip6}tables-restore --test` and a real load, on iptables-legacy and on
// iptables-nft. Every load happens in a throwaway network namespace (one per backend, emptied
// after each policy), never in the host's.
#include "kernel_fixture.hpp"
#include "known_failures.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iostream>
#include <map>
#include <optional>
#include <unistd.h>

namespace acctc::differential {
namespace {

using runtime::testing::cgroup2_mount;
using runtime::testing::ScopedDirectory;
using runtime::testing::shell_status;
using runtime::testing::TestNamespace;

// The cgroup generated `owner cgroup` clauses name: nft and xt_cgroup resolve it at load time.
class GeneratedCgroup {
  public:
    GeneratedCgroup() : mount_(cgroup2_mount()), directory_(mount_ / generated_cgroup) {}

    // What nft commands are run through: nft resolves cgroup paths under /sys/fs/cgroup, so on
    // hosts with the hybrid layout (cgroup2 elsewhere) it runs in a private mount namespace with
    // cgroup2 mounted there, as the test bench does (docs/language.md).
    std::string nft_wrapper() const {
        if (mount_ == "/sys/fs/cgroup") {
            return {};
        }
        return "unshare --mount sh -c 'mount -t cgroup2 none /sys/fs/cgroup && exec \"$0\" "
               "\"$@\"' ";
    }

  private:
    std::filesystem::path mount_;
    ScopedDirectory directory_;
};

// A namespace holding the devices generated policies name (passive collection binds to them).
class LoadNamespace {
  public:
    explicit LoadNamespace(std::string wrapper = {}) : wrapper_(std::move(wrapper)) {
        int peer = 0;
        for (const std::string_view device : generated_devices) {
            if (!device.ends_with('*')) {
                must("ip link add '" + std::string(device) + "' type veth peer name acctcdiff" +
                     std::to_string(peer++));
            }
        }
    }
    // Runs `command` inside, all of it: through a shell of its own, since in `nsenter ... a &&
    // b` the outer shell would run b in the host's namespace. Its stderr goes to *err.
    int run(const std::string& command, std::string* err) const {
        std::string quoted = "'";
        for (const char c : command) {
            quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
        }
        return shell_status("nsenter --net=/run/netns/" + ns_.name() + " " + wrapper_ + "sh -c " +
                                quoted + "'",
                            nullptr, err);
    }

  private:
    void must(const std::string& command) const {
        std::string err;
        if (run(command, &err) != 0) {
            throw std::runtime_error(command + ": " + err);
        }
    }
    std::string wrapper_; // what commands run through inside the namespace
    TestNamespace ns_;
};

struct Failure {
    const GeneratedPolicy* policy;
    Check check;
    std::string detail;
};

class Differential {
  public:
    explicit Differential(const GeneratedCgroup& cgroup)
        : dir_(std::filesystem::temp_directory_path() /
               ("acctc-differential-" + std::to_string(getpid()))),
          nft_(cgroup.nft_wrapper()) {
        std::filesystem::create_directories(dir_);
    }
    ~Differential() {
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
    }
    Differential(const Differential&) = delete;
    Differential& operator=(const Differential&) = delete;

    void check(const GeneratedPolicy& policy) {
        if (const auto output = compiled(policy, Target::nft, Check::compile_nft)) {
            check_nft(policy, *output);
        }
        if (const auto output = compiled(policy, Target::iptables, Check::compile_iptables)) {
            check_iptables(policy, *output);
        }
    }

    const std::vector<Failure>& failures() const { return failures_; }
    const std::map<Check, std::size_t>& passed() const { return passed_; }

  private:
    std::optional<CompiledPolicy> compiled(const GeneratedPolicy& policy, Target target,
                                           Check check) {
        try {
            CompileResult result = compile_generated(policy, target);
            ++passed_[check];
            return std::move(result.output);
        } catch (const std::exception& e) {
            failures_.push_back({&policy, check, std::string("threw ") + e.what()});
            return std::nullopt;
        }
    }

    // Runs command in ns; records a failure of `check` (and returns false) when it fails.
    bool expect(const LoadNamespace& ns, const std::string& command, const GeneratedPolicy& policy,
                Check check) {
        std::string err;
        if (ns.run(command, &err) != 0) {
            failures_.push_back({&policy, check, command + "\n" + err});
            return false;
        }
        return true;
    }

    std::string write(const std::string& name, const std::string& text) const {
        const std::string path = (dir_ / name).string();
        std::ofstream(path) << text;
        return path;
    }

    void check_nft(const GeneratedPolicy& policy, const CompiledPolicy& output) {
        const std::string file = write("policy.nft", output.text);
        if (expect(nft_, "nft -c -f " + file, policy, Check::nft_check)) {
            ++passed_[Check::nft_check];
            if (expect(nft_, "nft -f " + file, policy, Check::nft_load)) {
                ++passed_[Check::nft_load];
            }
        }
        nft_.run("nft flush ruleset", nullptr);
    }

    void check_iptables(const GeneratedPolicy& policy, const CompiledPolicy& output) {
        const IptablesPolicy& ipt = *output.iptables;
        // Quotas' nfacct objects, which `acctc apply` creates before the rules naming them
        // (docs/iptables.md, "Quotas"), made and deleted with the probe.
        std::string objects, deletions;
        for (const auto& quota : output.quotas) {
            for (const auto& object : quota.objects) {
                const std::string probe = "python3 " ACCTC_SOURCE_DIR "/scripts/probe_nfacct.py ";
                objects += probe + "new " + object.name + " " + std::to_string(object.bytes) +
                           " 0 >/dev/null && ";
                // iptables-nft drops a rule's reference after its commit: retried a moment.
                deletions += "for i in $(seq 20); do " + probe + "del " + object.name +
                             " | grep -q \"'error', 0\" && break; sleep 0.05; done; ";
            }
        }
        const std::string sets = write("policy.ipset", ipt.ipset);
        const std::string v4 = write("policy.v4", ipt.v4);
        const std::string v6 = write("policy.v6", ipt.v6);
        const std::string empty = write("empty", "*filter\nCOMMIT\n");
        for (const auto& [variant, ns, load] :
             {std::tuple{"legacy", &legacy_, Check::iptables_legacy_load},
              {"nft", &iptables_nft_, Check::iptables_nft_load}}) {
            const std::string v = variant;
            bool ok =
                objects.empty() || expect(*ns, objects + "true", policy, Check::iptables_test);
            ok = ok && (ipt.ipset.empty() || expect(*ns, "ipset -exist restore -f " + sets, policy,
                                                    Check::iptables_test));
            ok = ok && expect(*ns, "iptables-" + v + "-restore --noflush --test " + v4, policy,
                              Check::iptables_test);
            ok = ok && expect(*ns, "ip6tables-" + v + "-restore --noflush --test " + v6, policy,
                              Check::iptables_test);
            if (ok) {
                ++passed_[Check::iptables_test];
                if (expect(*ns, "iptables-" + v + "-restore --noflush " + v4, policy, load) &&
                    expect(*ns, "ip6tables-" + v + "-restore --noflush " + v6, policy, load)) {
                    ++passed_[load];
                }
            }
            // Empty the filter tables (a restore without --noflush), then the sets they used.
            ns->run("iptables-" + v + "-restore " + empty + " && ip6tables-" + v + "-restore " +
                        empty + " && ipset destroy",
                    nullptr);
            if (!deletions.empty()) { // after the rules that used them
                ns->run(deletions, nullptr);
            }
        }
    }

    std::filesystem::path dir_; // the texts loaded, one policy at a time
    LoadNamespace nft_;
    LoadNamespace legacy_;
    LoadNamespace iptables_nft_;
    std::vector<Failure> failures_;
    std::map<Check, std::size_t> passed_;
};

TEST(Differential, WhateverCompilesLoadsWithTheKernelTools) {
    if (geteuid() != 0) {
        GTEST_SKIP() << "needs root for network namespaces";
    }
    const auto policies = generate_policies(default_seed, default_count);
    std::vector<Failure> failures;
    {
        GeneratedCgroup cgroup;
        Differential differential(cgroup);
        for (const GeneratedPolicy& policy : policies) {
            differential.check(policy);
        }
        failures = differential.failures();
        for (const auto& [check, count] : differential.passed()) {
            std::cout << name_of(check) << ": " << count << " passed\n";
        }
    }

    std::map<const KnownFailure*, std::size_t> known_seen;
    for (const Failure& failure : failures) {
        if (const KnownFailure* known =
                known_failure(*failure.policy, failure.check, failure.detail)) {
            ++known_seen[known];
            continue;
        }
        ADD_FAILURE() << name_of(failure.check) << " failed for " << failure.policy->name << ":\n"
                      << failure.detail << "\n"
                      << failure.policy->text;
    }
    for (const KnownFailure& known : known_failures) {
        std::cout << "known failure (" << known.issue << "), " << name_of(known.check) << " /"
                  << known.pattern << "/ " << known.error << ": " << known_seen[&known]
                  << " policies"
                  << (known_seen[&known] == 0 ? " - fixed? remove it from known_failures.hpp" : "")
                  << "\n";
    }
}

} // namespace
} // namespace acctc::differential
