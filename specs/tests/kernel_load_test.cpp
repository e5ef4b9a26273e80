// Every golden ruleset and every example really loads into the kernel: inside a throwaway
// network namespace (never the host's), twice in a row (the output is idempotent), with dummy
// links for the devices that passive collection binds to. The iptables texts load the same way
// through both iptables-legacy and iptables-nft (a namespace each), and read back from
// iptables-save exactly as emitted, which is what lets `acctc diff` compare them.
#include "kernel_fixture.hpp"
#include "spec_files.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <netdb.h>
#include <regex>
#include <set>
#include <sstream>
#include <unistd.h>

namespace acctc::specs {
namespace {

int run(const std::string& command) {
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class Namespace {
  public:
    explicit Namespace(const std::string& suffix = {})
        : name_("acctc-spec-" + std::to_string(getpid()) + suffix) {
        run("ip netns del " + name_ + " 2>/dev/null");
        if (run("ip netns add " + name_) != 0) {
            throw std::runtime_error("cannot create network namespace " + name_);
        }
    }
    ~Namespace() { run("ip netns del " + name_ + " 2>/dev/null"); }
    Namespace(const Namespace&) = delete;
    Namespace& operator=(const Namespace&) = delete;
    int exec(const std::string& command) const {
        // nsenter, not `ip netns exec`: that remounts /sys, hiding the cgroup2 tree nft reads.
        return run("nsenter --net=/run/netns/" + name_ + " " + command);
    }

  private:
    std::string name_;
};

class KernelLoad : public testing::TestWithParam<std::string> {};

TEST_P(KernelLoad, LoadsTwiceInANamespace) {
    if (geteuid() != 0) {
        GTEST_SKIP() << "needs root for network namespaces";
    }
    const CompileResult result = compile_spec(GetParam());
    ASSERT_TRUE(result.output.has_value()) << rendered_diagnostics(result);
    const std::string file = testing::TempDir() + "acctc-load-" + std::to_string(getpid()) + ".nft";
    std::ofstream(file) << result.output->text;

    Namespace ns;
    // cgroupv2 matches are resolved by nft at load time, under /sys/fs/cgroup: the path must exist.
    const runtime::testing::ScopedDirectory cgroup("/sys/fs/cgroup/acctc-spec/skype.service");
    std::set<std::string> devices;
    const std::regex device_pattern("device \"([^\"]+)\"");
    const std::string& text = result.output->text;
    for (std::sregex_iterator it(text.begin(), text.end(), device_pattern), end; it != end; ++it) {
        devices.insert((*it)[1]);
    }
    int index = 0;
    for (const auto& device : devices) {
        ASSERT_EQ(0, ns.exec("ip link add '" + device + "' type veth peer name acctcpeer" +
                             std::to_string(index++)));
    }
    EXPECT_EQ(0, ns.exec("nft -c -f " + file)) << text;
    EXPECT_EQ(0, ns.exec("nft -f " + file)) << text;
    EXPECT_EQ(0, ns.exec("nft -f " + file)) << "second load failed";
    EXPECT_EQ(0, ns.exec("nft list table inet " + result.output->table_name + " >/dev/null"));
    std::remove(file.c_str());
}

// The rules of acctc's chains ("-A acctc-..."), grouped by chain, with protocol names as numbers:
// iptables-save names protocols from the host's /etc/protocols.
std::vector<std::string> acctc_rules(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("-A acctc-", 0) != 0) {
            continue;
        }
        const auto p = line.find(" -p ");
        if (p != std::string::npos) {
            const auto begin = p + 4;
            const auto end = line.find(' ', begin);
            const std::string name = line.substr(begin, end - begin);
            if (const protoent* entry = getprotobyname(name.c_str())) {
                line.replace(begin, end - begin, std::to_string(entry->p_proto));
            }
        }
        out.push_back(line);
    }
    // iptables-save lists chains by name; the order within a chain is what matters.
    std::stable_sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
        return a.substr(0, a.find(' ', 3)) < b.substr(0, b.find(' ', 3));
    });
    return out;
}

std::string capture(const Namespace& ns, const std::string& command, const std::string& file) {
    EXPECT_EQ(0, ns.exec(command + " > " + file));
    return read_file(file);
}

class IptablesLoad : public testing::TestWithParam<std::string> {};

TEST_P(IptablesLoad, LoadsTwiceOnLegacyAndNftAndReadsBackAsEmitted) {
    if (geteuid() != 0) {
        GTEST_SKIP() << "needs root for network namespaces";
    }
    const CompileResult result = compile_spec(GetParam(), Target::iptables);
    if (!result.output) {
        GTEST_SKIP() << "not expressible with iptables (golden .ipt.err): "
                     << rendered_diagnostics(result);
    }
    const IptablesPolicy& ipt = *result.output->iptables;
    const std::string base = testing::TempDir() + "acctc-ipt-" + std::to_string(getpid());
    std::ofstream(base + ".ipset") << ipt.ipset;
    std::ofstream(base + ".v4") << ipt.v4;
    std::ofstream(base + ".v6") << ipt.v6;
    // xt_cgroup resolves its path in the cgroup2 hierarchy, wherever that is mounted.
    const runtime::testing::ScopedDirectory cgroup(runtime::testing::cgroup2_mount() /
                                                   "acctc-spec/skype.service");
    for (const std::string variant : {"legacy", "nft"}) {
        SCOPED_TRACE(variant);
        Namespace ns("-" + variant);
        if (!ipt.ipset.empty() &&
            ns.exec("ipset -exist restore < " + base + ".ipset 2> " + base + ".err") != 0) {
            const std::string error = read_file(base + ".err");
            std::remove((base + ".err").c_str());
            // A kernel built without an ipset type (hash:mac: CONFIG_IP_SET_HASH_MAC).
            if (error.find("set type not supported") != std::string::npos) {
                GTEST_SKIP() << "this kernel lacks an ipset type of the policy: " << error;
            }
            FAIL() << error;
        }
        // Quotas' nfacct objects, which `acctc apply` creates before the rules that name them
        // (docs/iptables.md, "Quotas"); made here with the probe, not with acctc.
        for (const auto& quota : result.output->quotas) {
            for (const auto& object : quota.objects) {
                ASSERT_EQ(0, ns.exec("python3 " ACCTC_SOURCE_DIR "/scripts/probe_nfacct.py new " +
                                     object.name + " " + std::to_string(object.bytes) +
                                     " 0 > /dev/null"));
            }
        }
        for (const auto& [tool, file, text] : {std::tuple{"iptables", base + ".v4", &ipt.v4},
                                               {"ip6tables", base + ".v6", &ipt.v6}}) {
            const std::string restore = std::string(tool) + "-" + variant + "-restore --noflush";
            EXPECT_EQ(0, ns.exec(restore + " --test < " + file)) << *text;
            EXPECT_EQ(0, ns.exec(restore + " < " + file)) << *text;
            EXPECT_EQ(0, ns.exec(restore + " < " + file)) << "second load failed";
            const std::string saved =
                capture(ns, std::string(tool) + "-" + variant + "-save -t filter", base + ".saved");
            EXPECT_EQ(acctc_rules(*text), acctc_rules(saved)) << saved;
        }
    }
    for (const char* extension : {".ipset", ".v4", ".v6", ".saved"}) {
        std::remove((base + extension).c_str());
    }
}

// The file name reaches generated text as is only in the header comment (escaped there), a
// device name inside quotes (nft) or as an argument (iptables). With every byte 0-255 and known
// attacks in either, all the outputs that compile, loaded one after the other, leave exactly
// one policy's table or chains, and what was there before untouched (a newline in the file
// name once ended the comment and ran "flush ruleset" or "-P INPUT DROP"). iptables-nft takes
// 15 ms per restore transaction, so it gets only the variants with line breaks, and the
// devices with punctuation.
TEST(InjectionLoad, EveryByteInFileAndDeviceNamesLoadsAsOnePolicyOnly) {
    if (geteuid() != 0) {
        GTEST_SKIP() << "needs root for network namespaces";
    }
    std::vector<std::string> strings;
    for (int byte = 0; byte < 256; ++byte) {
        strings.push_back("x" + std::string(1, static_cast<char>(byte)) + "y");
        strings.emplace_back(1, static_cast<char>(byte));
    }
    strings.insert(strings.end(), {"\nflush ruleset\n", "\n*filter\n-F\n-P INPUT DROP\nCOMMIT\n",
                                   "\n-F\n", "-F", "--", "\r\n} table ip x { }\n"});
    struct Variant {
        std::string text, file_name, policy;
    };
    std::vector<Variant> variants;
    for (const auto& text : strings) {
        variants.push_back({text, text + ".acct", "policy evil\ncounter c { in; udp dport 9 }\n"});
        variants.push_back({text, "d.acct",
                            "policy evil\ninterface d = \"" + text +
                                "\"\ncounter c { local in; via d; udp dport 9 }\n"});
    }
    std::string nft;
    std::map<std::string, std::string> restore; // "legacy.v4", "nft.v6", ... -> text
    for (const auto& [text, name, policy] : variants) {
        CompileOptions options;
        const auto result = compile_source(name, policy, options);
        if (!result.output) {
            continue; // a device name Linux cannot have: a positioned error
        }
        nft += result.output->text;
        options.target = Target::iptables;
        const auto for_iptables = compile_source(name, policy, options);
        if (!for_iptables.output) {
            continue; // "+" alone: iptables would read the wildcard, a positioned error
        }
        const IptablesPolicy& ipt = *for_iptables.output->iptables;
        // What iptables-nft also loads: line breaks anywhere, punctuation inside a device name.
        const bool unusual = text.find_first_of("\r\n") != std::string::npos ||
                             (name == "d.acct" && text.size() == 3 &&
                              !std::isalnum(static_cast<unsigned char>(text[1])));
        for (const std::string variant : {"legacy", "nft"}) {
            if (variant == "legacy" || unusual) {
                restore[variant + ".v4"] += ipt.v4;
                restore[variant + ".v6"] += ipt.v6;
            }
        }
    }
    const std::string base = testing::TempDir() + "acctc-inject-" + std::to_string(getpid());
    std::ofstream(base + ".nft") << nft;
    {
        Namespace ns("-inject-nft");
        ASSERT_EQ(0, ns.exec("nft add table inet sentinel"));
        EXPECT_EQ(0, ns.exec("nft -c -f " + base + ".nft"));
        EXPECT_EQ(0, ns.exec("nft -f " + base + ".nft"));
        EXPECT_EQ("table inet sentinel\ntable inet acctc_evil\n",
                  capture(ns, "nft list tables", base + ".out"));
    }
    for (const std::string variant : {"legacy", "nft"}) {
        SCOPED_TRACE(variant);
        Namespace ns("-inject-" + variant);
        for (const auto& [tool, family] : {std::pair{"iptables", ".v4"}, {"ip6tables", ".v6"}}) {
            const std::string file = base + family;
            std::ofstream(file) << restore[variant + family];
            const std::string prefix = std::string(tool) + "-" + variant;
            ASSERT_EQ(0, ns.exec(prefix + " -N sentinel"));
            EXPECT_EQ(0, ns.exec(prefix + "-restore --noflush < " + file));
            EXPECT_EQ("-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n-N acctc-evil-c-c\n"
                      "-N acctc-evil-input\n-N sentinel\n",
                      capture(ns, prefix + " -S | grep -v '^-A'", base + ".out"));
        }
    }
    for (const char* extension : {".nft", ".v4", ".v6", ".out"}) {
        std::remove((base + extension).c_str());
    }
}

std::string test_name(const testing::TestParamInfo<std::string>& info) {
    return test_name_of(info.param);
}

INSTANTIATE_TEST_SUITE_P(Specs, KernelLoad, testing::ValuesIn(inputs("specs/compile")), test_name);
INSTANTIATE_TEST_SUITE_P(Examples, KernelLoad, testing::ValuesIn(inputs("examples")), test_name);
INSTANTIATE_TEST_SUITE_P(Specs, IptablesLoad, testing::ValuesIn(inputs("specs/compile")),
                         test_name);
INSTANTIATE_TEST_SUITE_P(Examples, IptablesLoad, testing::ValuesIn(inputs("examples")), test_name);

} // namespace
} // namespace acctc::specs
