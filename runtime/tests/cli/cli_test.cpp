// The kernel subcommands end to end: acctc apply / diff / counters / remove in a namespace.
#include "kernel_fixture.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace acctc::runtime::testing {
namespace {

struct CliRun {
    int status;
    std::string out;
    std::string err;
};

class Cli : public ::testing::Test {
  protected:
    void SetUp() override {
        directory_ = std::filesystem::temp_directory_path() /
                     ("acctc-cli-" + std::to_string(::getpid()) + "-" + netns_.name());
        std::filesystem::create_directories(directory_);
    }
    void TearDown() override { std::filesystem::remove_all(directory_); }

    std::string write_policy(const std::string& name, const std::string& text) {
        const auto path = directory_ / name;
        std::ofstream(path) << text;
        return path.string();
    }
    CliRun acctc(const std::string& arguments, const std::string& wrapper = "") {
        CliRun run{};
        const std::string command = std::string(ACCTC_CLI_PATH) + " " + arguments;
        run.status = shell_status(wrapper.empty() ? command : wrapper + " '" + command + "'",
                                  &run.out, &run.err);
        return run;
    }
    std::string in_netns() const { return " --netns " + netns_.name(); }

    TestNamespace netns_;
    std::filesystem::path directory_;
};

const std::string version_1 = "policy clitest\n"
                              "counter discard { out; udp dport 9; include loopback }\n"
                              "counter echo { out; udp dport 7; include loopback }\n";
const std::string version_2 = "policy clitest\n"
                              "counter discard { out; udp dport 9; include loopback }\n"
                              "counter chargen { out; udp dport 19; include loopback }\n";

TEST_F(Cli, ApplyCountDiffResetRemove) {
    const std::string v1 = write_policy("v1.acct", version_1);
    const std::string v2 = write_policy("v2.acct", version_2);

    CliRun run = acctc("apply --dry-run " + v1 + in_netns());
    EXPECT_EQ(run.status, 0) << run.err;
    EXPECT_EQ(run.out.rfind("would load policy clitest", 0), 0U) << run.out;
    EXPECT_EQ(netns_.nft("list tables"), "");

    run = acctc("apply " + v1 + in_netns());
    ASSERT_EQ(run.status, 0) << run.err;
    EXPECT_EQ(run.out, "loaded policy clitest into table inet acctc_clitest in network namespace " +
                           netns_.name() + ": 0 counters kept, 2 new, 0 removed (new table)\n");
    UdpTraffic(netns_.name(), 9).send(3);

    run = acctc("counters -x clitest" + in_netns());
    EXPECT_EQ(run.status, 0) << run.err;
    EXPECT_EQ(run.out, "POLICY   COUNTER  PACKETS  BYTES  ORIGIN\n"
                       "clitest  discard        3    180  " +
                           v1 + ":2\n" + "clitest  echo           0      0  " + v1 + ":3\n");
    run = acctc("counters --json" + in_netns());
    const auto json = nlohmann::json::parse(run.out);
    EXPECT_EQ(json["counters"][0]["counter"], "discard");
    EXPECT_EQ(json["counters"][0]["packets"], 3);
    EXPECT_EQ(json["counters"][0]["bytes"], 180);
    run = acctc("counters --prometheus" + in_netns());
    EXPECT_NE(run.out.find("acctc_bytes_total{policy=\"clitest\",counter=\"discard\"} 180\n"),
              std::string::npos)
        << run.out;

    run = acctc("diff " + v1 + in_netns());
    EXPECT_EQ(run.status, 0) << run.out << run.err;
    EXPECT_EQ(run.out, "");
    run = acctc("diff " + v2 + in_netns());
    EXPECT_EQ(run.status, 1) << run.err;
    EXPECT_NE(run.out.find("-\tcounter echo {\n"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("+\tcounter chargen {\n"), std::string::npos) << run.out;
    run = acctc("diff " + v2 + " --against " + v1 + in_netns());
    EXPECT_EQ(run.status, 1) << run.err;
    EXPECT_EQ(run.out.rfind("--- " + v1 + "\n+++ " + v2 + "\n", 0), 0U) << run.out;

    run = acctc("apply " + v2 + in_netns());
    EXPECT_EQ(run.status, 0) << run.err;
    EXPECT_NE(run.out.find(": 1 counters kept, 1 new, 1 removed\n"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("removed counter echo (final 0 packets, 0 bytes) from " + v1 + ":3\n"),
              std::string::npos)
        << run.out;

    run = acctc("counters -x --reset " + v2 + in_netns());
    EXPECT_EQ(run.status, 0) << run.err;
    EXPECT_NE(run.out.find("clitest  discard        3    180"), std::string::npos) << run.out;
    run = acctc("counters --json clitest" + in_netns());
    EXPECT_EQ(nlohmann::json::parse(run.out)["counters"][1]["packets"], 0);

    run = acctc("counters -x --watch 0.1 --count 2" + in_netns());
    EXPECT_EQ(run.status, 0) << run.err;
    EXPECT_NE(run.out.find("PACKETS/S"), run.out.rfind("PACKETS/S")) << run.out;

    // --watch --json: one object per line and interval, with what each counter counted in it.
    UdpTraffic(netns_.name(), 9).send(2);
    run = acctc("counters --watch 0.1 --count 2 --json clitest" + in_netns());
    EXPECT_EQ(run.status, 0) << run.err;
    std::vector<nlohmann::json> lines;
    for (std::size_t at = 0, end; (end = run.out.find('\n', at)) != std::string::npos;
         at = end + 1) {
        lines.push_back(nlohmann::json::parse(run.out.substr(at, end - at)));
    }
    ASSERT_EQ(lines.size(), 2U) << run.out;
    for (const auto& line : lines) {
        EXPECT_GT(line["seconds"].get<double>(), 0.05);
        EXPECT_EQ(line["counters"][1]["counter"], "discard");
        EXPECT_EQ(line["counters"][1]["packets"], 2);
        EXPECT_EQ(line["counters"][1]["delta_packets"], 0); // counted before the watch
        EXPECT_EQ(line["counters"][1]["packets_per_second"], 0.0);
    }

    // --watch --reset: what was counted before comes first, then each interval's own counts;
    // nothing is left behind.
    run = acctc("counters --watch 0.1 --count 2 --reset --json clitest" + in_netns());
    EXPECT_EQ(run.status, 0) << run.err;
    lines.clear();
    for (std::size_t at = 0, end; (end = run.out.find('\n', at)) != std::string::npos;
         at = end + 1) {
        lines.push_back(nlohmann::json::parse(run.out.substr(at, end - at)));
    }
    ASSERT_EQ(lines.size(), 3U) << run.out;
    EXPECT_TRUE(lines[0]["seconds"].is_null());
    EXPECT_EQ(lines[0]["counters"][1]["packets"], 2);
    EXPECT_EQ(lines[1]["counters"][1]["packets"], 0);
    EXPECT_EQ(lines[2]["counters"][1]["delta_packets"], 0);
    run = acctc("counters --json clitest" + in_netns());
    EXPECT_EQ(nlohmann::json::parse(run.out)["counters"][1]["packets"], 0);

    run = acctc("remove clitest" + in_netns());
    EXPECT_EQ(run.status, 0) << run.err;
    EXPECT_EQ(run.out.rfind("removed table inet acctc_clitest", 0), 0U) << run.out;
    EXPECT_EQ(netns_.nft("list tables"), "");

    run = acctc("counters clitest" + in_netns());
    EXPECT_EQ(run.status, 1);
    EXPECT_EQ(run.err, "acctc counters: policy 'clitest' is not applied: no table inet "
                       "acctc_clitest in network namespace '" +
                           netns_.name() + "'\n");
}

// A file name is user text: a newline in it once ended the "# Generated by ... from NAME"
// comment, so `acctc compile F | nft -f -` ran what followed and `apply --backend iptables`
// loaded "-P INPUT DROP" (or died on "-F" with a raw basic_string::substr exception).
TEST_F(Cli, FileNamesCannotAddCommands) {
    const std::string policy = "policy evil\ncounter c { in; udp dport 9; include loopback }\n";
    const std::string in_netns_shell = "nsenter --net=/run/netns/" + netns_.name() + " ";
    netns_.nft("add table inet sentinel");

    const std::string nft_file =
        write_policy("a\nflush ruleset\ntable inet injected { }\n.acct", policy);
    CliRun run = acctc("compile '" + nft_file + "' | " + in_netns_shell + "nft -f -");
    EXPECT_EQ(run.status, 0) << run.err;
    EXPECT_EQ(netns_.nft("list tables"), "table inet sentinel\ntable inet acctc_evil\n");

    shell(in_netns_shell + "iptables -N sentinel");

    for (const std::string name :
         {"b\n*filter\n-F\n-P INPUT DROP\nCOMMIT\n.acct", "c\n-F\n.acct"}) {
        const std::string ipt_file = write_policy(name, policy);
        run = acctc("apply --backend iptables '" + ipt_file + "'" + in_netns());
        EXPECT_EQ(run.status, 0) << run.err;
        EXPECT_EQ(run.err, "");
        EXPECT_EQ(shell(in_netns_shell + "iptables -S INPUT").substr(0, 16), "-P INPUT ACCEPT\n");
        EXPECT_NE(shell(in_netns_shell + "iptables -S").find("-N sentinel\n"), std::string::npos);
        run = acctc("remove --backend iptables evil" + in_netns());
        EXPECT_EQ(run.status, 0) << run.err;
        EXPECT_EQ(shell(in_netns_shell + "iptables -S INPUT"), "-P INPUT ACCEPT\n");
    }
}

// `acctc diff --live` as a drift check (issue 11): right after apply it exits 0 whatever order
// the kernel lists counters in, however the file is named and wherever its lines moved; a real
// change shows as exactly that change. ORIGIN follows the policy applied last.
TEST_F(Cli, DiffIsADriftCheck) {
    const std::string only_b =
        write_policy("b.acct", "policy drift\ncounter b { out; udp dport 9; include loopback }\n");
    const std::string both_text = "policy drift\n"
                                  "counter a { out; udp dport 7; include loopback }\n"
                                  "counter b { out; udp dport 9; include loopback }\n";
    const std::string both = write_policy("ab.acct", both_text);
    ASSERT_EQ(acctc("apply " + only_b + in_netns()).status, 0);
    ASSERT_EQ(acctc("apply " + both + in_netns()).status, 0);
    CliRun run = acctc("diff --live " + both + in_netns());
    EXPECT_EQ(run.status, 0) << run.out << run.err;
    EXPECT_EQ(run.out, "");

    const std::string other_name = (directory_ / "." / "sub" / ".." / "ab.acct").string();
    std::filesystem::create_directories(directory_ / "sub");
    run = acctc("diff " + other_name + in_netns());
    EXPECT_EQ(run.status, 0) << run.out << run.err;

    const std::string shifted = write_policy("shifted.acct", "# a comment on top\n" + both_text);
    run = acctc("diff " + shifted + in_netns());
    EXPECT_EQ(run.status, 0) << run.out << run.err;

    std::string changed_text = both_text;
    changed_text.replace(changed_text.find("dport 9"), 7, "dport 10");
    const std::string changed = write_policy("changed.acct", changed_text);
    run = acctc("diff " + changed + in_netns());
    EXPECT_EQ(run.status, 1) << run.err;
    std::size_t removed = 0;
    std::size_t added = 0;
    for (std::size_t at = 0, end; (end = run.out.find('\n', at)) != std::string::npos;
         at = end + 1) {
        const std::string line = run.out.substr(at, end - at);
        removed += line.starts_with("-\t") ? 1 : 0;
        added += line.starts_with("+\t") ? 1 : 0;
    }
    EXPECT_EQ(removed, 1U) << run.out;
    EXPECT_EQ(added, 1U) << run.out;
    EXPECT_NE(run.out.find("udp dport 10"), std::string::npos) << run.out;

    ASSERT_EQ(acctc("apply " + shifted + in_netns()).status, 0);
    run = acctc("counters -x drift" + in_netns());
    EXPECT_EQ(run.out, "POLICY  COUNTER  PACKETS  BYTES  ORIGIN\n"
                       "drift   a              0      0  " +
                           shifted + ":3\n" + "drift   b              0      0  " + shifted +
                           ":4\n")
        << run.out;
    run = acctc("diff " + shifted + in_netns());
    EXPECT_EQ(run.status, 0) << run.out << run.err;
}

TEST_F(Cli, WithoutNetAdminOneClearLine) {
    const CliRun run = acctc("counters" + in_netns(), "capsh --drop=cap_net_admin -- -c");
    EXPECT_EQ(run.status, 1);
    EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
    EXPECT_NE(run.err.find("CAP_NET_ADMIN"), std::string::npos) << run.err;
}

TEST_F(Cli, UsageErrors) {
    EXPECT_EQ(acctc("counters --json --prometheus").status, 2);
    EXPECT_EQ(acctc("counters --watch 1 --prometheus").status, 2);
    EXPECT_EQ(acctc("counters --watch 0").status, 2);
    EXPECT_EQ(acctc("diff a.acct --live --against b.acct").status, 2);
    const CliRun run = acctc("counters --netns acctc-rt-no-such-namespace");
    EXPECT_EQ(run.status, 1);
    EXPECT_NE(run.err.find("'acctc-rt-no-such-namespace'"), std::string::npos) << run.err;
}

// Policies by name from a policy directory, and counters selected by name or family prefix.
TEST_F(Cli, PolicyByNameAndCounterSelection) {
    const auto dir = directory_ / "policies";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "lan.acct") << "policy lan\n"
                                       "counter dns { out; udp dport 53; include loopback }\n"
                                       "counter web { out; udp dport 80; split direction; include "
                                       "loopback }\n"
                                       "counter discard { out; udp dport 9; include loopback }\n";
    const std::string by_dir = " --policy-dir " + dir.string() + in_netns();

    CliRun run = acctc("apply lan" + by_dir);
    ASSERT_EQ(run.status, 0) << run.err;
    EXPECT_EQ(run.out.rfind("loaded policy lan into table inet acctc_lan", 0), 0U) << run.out;
    UdpTraffic(netns_.name(), 9).send(2);
    UdpTraffic(netns_.name(), 53).send(1);

    run = acctc("counters -x lan discard" + by_dir);
    EXPECT_EQ(run.status, 0) << run.err;
    EXPECT_NE(run.out.find("lan     discard        2"), std::string::npos) << run.out;
    EXPECT_EQ(run.out.find("dns"), std::string::npos) << run.out;
    run = acctc("counters --json lan dns web" + in_netns());
    EXPECT_EQ(run.status, 0) << run.err;
    std::vector<std::string> names;
    const auto listing = nlohmann::json::parse(run.out);
    for (const auto& counter : listing["counters"]) {
        names.push_back(counter["name"]);
    }
    // dns by its name, web by its family (its one counter is web_out).
    EXPECT_EQ(names, (std::vector<std::string>{"dns", "web_out"})) << run.out;
    run = acctc("counters -x lan web_out" + in_netns()); // a counter of a family by its name
    EXPECT_EQ(run.status, 0) << run.err;
    EXPECT_NE(run.out.find("web"), std::string::npos) << run.out;
    EXPECT_EQ(run.out.find("discard"), std::string::npos) << run.out;
    run = acctc("counters lan nosuch" + in_netns());
    EXPECT_EQ(run.status, 1);
    EXPECT_EQ(run.err, "acctc counters: no counter or family 'nosuch' (counters: discard, dns, "
                       "web_out)\n");

    run = acctc("remove lan" + by_dir);
    EXPECT_EQ(run.status, 0) << run.err;
    EXPECT_EQ(netns_.nft("list tables"), "");
    run = acctc("apply nowhere" + by_dir);
    EXPECT_EQ(run.status, 2);
    EXPECT_NE(run.err.find("no nowhere.acct in " + dir.string()), std::string::npos) << run.err;
}

// Commands that only read the policy's name from its file (counters, remove, quotas, report,
// save, record, serve) say nothing about its warnings: apply said them once, and a read, a
// timer's save or the exporter's log must not repeat them on every run. Errors still stop them.
TEST_F(Cli, NamingAPolicyByItsFileRepeatsNoWarnings) {
    const auto dir = directory_ / "policies";
    std::filesystem::create_directories(dir);
    // `out` without `via`: the output hook's segmentation-offload warning.
    std::ofstream(dir / "warned.acct") << "policy warned\ncounter total { out }\n";
    const std::string by_dir = " --policy-dir " + dir.string() + in_netns();
    CliRun run = acctc("apply warned" + by_dir);
    ASSERT_EQ(run.status, 0) << run.err;
    EXPECT_NE(run.err.find("warning: counter total"), std::string::npos) << run.err;
    const std::string save = "save --state-dir " + (directory_ / "state").string() + " warned";
    for (const std::string& command :
         {std::string("counters warned"), std::string("counters --json warned"),
          std::string("quotas warned"), save}) {
        run = acctc(command + by_dir);
        EXPECT_EQ(run.err.find("warning"), std::string::npos) << command << ": " << run.err;
    }
    // A file by its path that does not compile is an error, as before.
    std::ofstream(dir / "broken.acct") << "policy broken\ncountr x { }\n";
    run = acctc("counters " + (dir / "broken.acct").string() + in_netns());
    EXPECT_EQ(run.status, 1);
    EXPECT_NE(run.err.find("error: "), std::string::npos) << run.err;
    // The applied policy's file edited into an error (before a reload that would fail): a NAME
    // still names the policy as applied, so the unit's ExecStop `acctc save NAME` (before
    // `systemctl restart nftables` flushes) and `acctc remove NAME` still work. Before, they
    // failed on the file's errors and the counts since the last save were lost.
    std::ofstream(dir / "warned.acct", std::ios::trunc) << "policy warned\ncountr total { out }\n";
    run = acctc(save + by_dir);
    EXPECT_EQ(run.status, 0) << run.err;
    EXPECT_NE(run.err.find("warned.acct does not compile"), std::string::npos) << run.err;
    EXPECT_NE(run.out.find("saved warned"), std::string::npos) << run.out;
    run = acctc("counters warned" + by_dir);
    EXPECT_EQ(run.status, 0) << run.err;
    EXPECT_NE(run.out.find("total"), std::string::npos) << run.out;
    run = acctc("remove warned" + by_dir);
    EXPECT_EQ(run.status, 0) << run.err;
    EXPECT_EQ(netns_.nft("list tables"), "");
}

// The same policy applied with a second backend is said, with how to remove the first copy.
TEST_F(Cli, ApplyingWithASecondBackendWarns) {
    const std::string v1 = write_policy("v1.acct", version_1);
    CliRun run = acctc("apply " + v1 + in_netns());
    ASSERT_EQ(run.status, 0) << run.err;
    run = acctc("apply --backend iptables-legacy " + v1 + in_netns());
    EXPECT_EQ(run.status, 0) << run.err;
    EXPECT_NE(run.err.find("warning: policy clitest was also applied in network namespace " +
                           netns_.name() +
                           " with nft: both count every packet, and counters lists both; remove "
                           "that one with: acctc remove --backend nft clitest"),
              std::string::npos)
        << run.err;
    run = acctc("remove --backend nft clitest" + in_netns());
    EXPECT_EQ(run.status, 0) << run.err;
    run = acctc("apply " + v1 + in_netns()); // iptables-legacy alone now: no warning
    EXPECT_EQ(run.status, 0) << run.err;
    EXPECT_EQ(run.err.find("also applied"), std::string::npos) << run.err;
    acctc("remove clitest" + in_netns());
}

} // namespace
} // namespace acctc::runtime::testing
