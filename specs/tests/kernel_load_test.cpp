// Every golden ruleset and every example really loads into the kernel: inside a throwaway
// network namespace (never the host's), twice in a row (the output is idempotent), with dummy
// links for the devices that passive collection binds to.
#include "spec_files.hpp"

#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <regex>
#include <set>
#include <unistd.h>

namespace acctc::specs {
namespace {

int run(const std::string& command) {
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class Namespace {
  public:
    Namespace() : name_("acctc-spec-" + std::to_string(getpid())) {
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

// cgroupv2 matches are resolved by nft at load time: the path must exist.
class CgroupDirectory {
  public:
    CgroupDirectory() {
        created_ = !std::filesystem::exists(path_);
        std::filesystem::create_directories(path_);
    }
    ~CgroupDirectory() {
        if (created_) {
            std::error_code ignored;
            std::filesystem::remove(path_, ignored);
            std::filesystem::remove(path_.parent_path(), ignored);
        }
    }

  private:
    std::filesystem::path path_ = "/sys/fs/cgroup/acctc-spec/skype.service";
    bool created_ = false;
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
    CgroupDirectory cgroup;
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

std::string test_name(const testing::TestParamInfo<std::string>& info) {
    return test_name_of(info.param);
}

INSTANTIATE_TEST_SUITE_P(Specs, KernelLoad, testing::ValuesIn(inputs("specs/compile")), test_name);
INSTANTIATE_TEST_SUITE_P(Examples, KernelLoad, testing::ValuesIn(inputs("examples")), test_name);

} // namespace
} // namespace acctc::specs
