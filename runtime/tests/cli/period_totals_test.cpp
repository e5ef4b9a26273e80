// Period totals end to end, with real datagrams in a namespace: what `acctc report` says equals
// what was sent and what the kernel counted, across counter resets, reloads, a `nft flush
// ruleset` with a re-apply, a fake clock moving across periods and DST changes, and a save loop
// killed with SIGKILL. Also examples/metered_line.acct on an eth0 with a skype group.
#include "acctc/runtime/backend.hpp"
#include "kernel_fixture.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>
#include <unistd.h>

namespace acctc::runtime::testing {
namespace {

namespace fs = std::filesystem;

// "x\n" over UDP/IPv4: 20 + 8 + 2 bytes at layer 3.
constexpr std::uint64_t datagram_bytes = 30;

const char* const policy_v1 = "policy totals\n"
                              "counter discard { out; udp dport 9; include loopback }\n";
const char* const policy_v2 = "policy totals\n"
                              "counter discard { out; udp dport 9; include loopback }\n"
                              "counter echo { out; udp dport 7; include loopback }\n";

class PeriodTotals : public ::testing::Test {
  protected:
    void SetUp() override {
        directory_ = fs::temp_directory_path() /
                     ("acctc-periods-" + std::to_string(::getpid()) + "-" + netns_.name());
        fs::create_directories(directory_);
    }
    void TearDown() override { fs::remove_all(directory_); }

    std::string write(const std::string& name, const std::string& text) {
        const auto path = directory_ / name;
        std::ofstream(path) << text;
        return path.string();
    }
    // The CLI in the test namespace with the test's state directory; `now` sets ACCTC_NOW.
    std::string acctc(const std::string& arguments, const std::string& now = {},
                      const std::string& tz = "Europe/Berlin") {
        return shell("TZ=" + tz + (now.empty() ? "" : " ACCTC_NOW=" + now) + " " + ACCTC_CLI_PATH +
                     " " + arguments + " --netns " + netns_.name() + " --state-dir " + state_dir() +
                     " 2>/dev/null");
    }
    std::string state_dir() const { return (directory_ / "state").string(); }
    // `count` datagrams to 198.18.0.1 port `port` from inside the namespace.
    void send(int count, int port = 9) {
        shell("ip netns exec " + netns_.name() + " bash -c 'for i in $(seq " +
              std::to_string(count) + "); do echo x > /dev/udp/198.18.0.1/" + std::to_string(port) +
              "; done'");
    }
    // The discard counter as the kernel holds it now.
    std::uint64_t kernel_packets(bool reset = false) {
        const auto json = nlohmann::json::parse(
            acctc(std::string("counters --json totals") + (reset ? " --reset" : "")));
        for (const auto& counter : json["counters"]) {
            if (counter["name"] == "discard") {
                return counter["packets"];
            }
        }
        ADD_FAILURE() << "no counter discard in " << json.dump(1);
        return 0;
    }
    // A family's bytes and packets in the report's period `index` (0: the current one).
    static std::pair<std::uint64_t, std::uint64_t>
    family(const nlohmann::json& report, const std::string& name, std::size_t index = 0) {
        for (const auto& row : report["policies"][0]["periods"][index]["families"]) {
            if (row["name"] == name) {
                return {row["packets"], row["bytes"]};
            }
        }
        ADD_FAILURE() << "no family " << name << " in " << report.dump(1);
        return {0, 0};
    }

    TestNamespace netns_;
    fs::path directory_;
};

TEST_F(PeriodTotals, ReportEqualsWhatWasCountedAcrossResetsReloadsAndAFlush) {
    const auto v1 = write("v1.acct", policy_v1);
    const auto v2 = write("v2.acct", policy_v2);
    acctc("apply " + v1);
    acctc("save"); // creates the state directory: from now on resets and reloads book first
    std::uint64_t sent = 0;
    std::uint64_t kernel = 0; // what the kernel counted, read before each zeroing or loss
    send(5);
    sent += 5;
    kernel += kernel_packets(true);
    send(3);
    sent += 3;
    kernel += kernel_packets(true);
    send(4);
    sent += 4;
    acctc("apply " + v2); // reload: discard kept, echo added
    send(2);
    sent += 2;
    acctc("apply " + v1); // reload: echo removed
    send(6);
    sent += 6;
    acctc("save");
    kernel += kernel_packets();
    // What a restart of nftables.service does; apply creates the table anew.
    netns_.nft("flush ruleset");
    acctc("apply " + v1);
    // More than the old table held at its last save (12): only knowing that the table is new
    // (not "a counter that went down") books all of it.
    send(15);
    sent += 15;
    acctc("counters --reset");
    kernel += 15;
    send(1);
    sent += 1;
    kernel += kernel_packets();
    const auto report = nlohmann::json::parse(acctc("report totals --json"));
    EXPECT_EQ(family(report, "discard"), std::pair(sent, sent * datagram_bytes));
    EXPECT_EQ(kernel, sent);
    // The saved totals alone: all but the last datagram, booked by the reset before it.
    const auto saved = nlohmann::json::parse(acctc("report totals --json --saved"));
    EXPECT_EQ(family(saved, "discard").first, sent - 1);
}

// A large classification counts by elements (docs/language.md): a key that moves to another
// class leaves what it counted with the old class (a carry), so no class's reading jumps and
// the period total books every datagram once, across the reload that moves it and one that
// changes the number of parts.
TEST_F(PeriodTotals, AKeyMovingBetweenElementCountedClassesIsBookedOnce) {
    const auto classes = [&](int count, int owner_of_9) {
        std::string text = "policy totals\nclassify svc local out include loopback {\n";
        for (int i = 0; i < count; ++i) {
            text += "    c" + std::to_string(i) + ": udp dport " + std::to_string(1000 + i) +
                    (i == owner_of_9 ? ", 9\n" : "\n");
        }
        return write("classes" + std::to_string(count) + "_" + std::to_string(owner_of_9) + ".acct",
                     text + "    otherwise: rest\n}\n");
    };
    const auto kernel_sum = [&] {
        std::uint64_t sum = 0;
        const auto json = nlohmann::json::parse(acctc("counters --json totals"));
        for (const auto& counter : json["counters"]) {
            sum += counter["packets"].get<std::uint64_t>();
        }
        return sum;
    };
    acctc("apply " + classes(5000, 7));
    acctc("save");
    send(3); // c7
    acctc("apply " + classes(5000, 8));
    send(2); // c8
    acctc("save");
    acctc("apply " + classes(9000, 7)); // 64 parts -> 128, and 9 back to c7
    send(4);
    acctc("save");
    const auto json = nlohmann::json::parse(acctc("counters --json totals"));
    std::map<std::string, std::uint64_t> classes_read;
    for (const auto& counter : json["counters"]) {
        classes_read[counter["name"].get<std::string>()] = counter["packets"];
    }
    EXPECT_EQ(classes_read["svc_c7"], 7U);
    EXPECT_EQ(classes_read["svc_c8"], 2U);
    const std::uint64_t kernel = kernel_sum();
    EXPECT_GE(kernel, 9U); // the datagrams, and ICMP errors back over loopback in `otherwise`
    const auto report = nlohmann::json::parse(acctc("report totals --json"));
    EXPECT_EQ(family(report, "svc").first, kernel);
}

// Per-host counters (`split host`) keep a total per host across a reset and a reload.
TEST_F(PeriodTotals, PerHostTotals) {
    shell("ip -n " + netns_.name() + " addr add 198.18.0.2/32 dev lo");
    const auto policy = write("hosts.acct", "policy hosts\nnetwork lab = 198.18.0.0/16\n"
                                            "counter peers { out; udp dport 9; include loopback; "
                                            "split host remote within lab }\n");
    acctc("apply " + policy);
    acctc("save");
    const auto send_to = [&](const std::string& address, int count) {
        shell("ip netns exec " + netns_.name() + " bash -c 'for i in $(seq " +
              std::to_string(count) + "); do echo x > /dev/udp/" + address + "/9; done'");
    };
    send_to("198.18.0.1", 3);
    send_to("198.18.0.2", 2);
    acctc("counters --reset hosts");
    send_to("198.18.0.1", 1);
    send_to("198.18.0.2", 4);
    acctc("apply " + policy);
    send_to("198.18.0.2", 1);
    const auto report = nlohmann::json::parse(acctc("report hosts --json --top 1"));
    std::map<std::string, std::uint64_t> hosts;
    for (const auto& counter : report["policies"][0]["periods"][0]["families"][0]["counters"]) {
        for (const auto& host : counter["hosts"]) {
            hosts[host["name"]] = host["packets"];
        }
    }
    // --top 1: the busiest host, the other summed in "1 more".
    EXPECT_EQ(hosts["198.18.0.2"], 7U) << report.dump(1);
    EXPECT_EQ(hosts["1 more"], 4U) << report.dump(1);
    EXPECT_EQ(family(report, "peers").first, 11U);
}

// One policy moved from nft to iptables, with a while when both were applied: each backend's
// counters are booked apart, so neither's readings are booked against the other's baseline, and
// the report shows what each backend counted, not one sum that counts the overlap twice.
// Before, a counter had one baseline whatever the backend: the report said 4,000 for 3,000 sent.
TEST_F(PeriodTotals, APolicyOnTwoBackendsIsBookedPerBackend) {
    const auto v1 = write("v1.acct", policy_v1);
    acctc("apply " + v1);
    acctc("save");
    send(5);
    acctc("apply --backend iptables " + v1);
    send(3); // counted by both
    acctc("save");
    send(2); // by both
    acctc("remove --backend nft totals");
    send(4);
    acctc("save");
    send(7); // booked by the report only
    const auto report = nlohmann::json::parse(acctc("report totals --json"));
    std::map<std::string, std::uint64_t> by_backend;
    for (const auto& policy : report["policies"]) {
        EXPECT_EQ(policy["policy"], "totals");
        for (const auto& row : policy["periods"][0]["families"]) {
            by_backend[policy.value("backend", "(no backend)") + " " +
                       row["name"].get<std::string>()] = row["packets"];
        }
    }
    // `iptables` is booked as the variant installed (backend.hpp, resolved_backend).
    const std::string iptables(backend_info(resolved_backend(BackendKind::iptables)).name);
    const std::map<std::string, std::uint64_t> expected{{"nft discard", 5 + 3 + 2},
                                                        {iptables + " discard", 3 + 2 + 4 + 7}};
    EXPECT_EQ(by_backend, expected) << report.dump(1);
    // The text says both, and that they are not added.
    const auto text = acctc("report totals");
    EXPECT_NE(text.find("policy totals as counted by nft,"), std::string::npos) << text;
    EXPECT_NE(text.find("policy totals as counted by " + iptables + ","), std::string::npos)
        << text;
    EXPECT_NE(text.find("not added"), std::string::npos) << text;
    acctc("remove --backend iptables totals");
}

// A policy applied with nft and iptables at once: `counters` and `save` without a policy name
// read both backends, as they do with the name. Before, they read such a policy from nft only: the
// iptables side was neither listed nor booked.
TEST_F(PeriodTotals, EveryPolicyReadsBothBackendsOfAPolicyAppliedWithTwo) {
    const auto v1 = write("v1.acct", policy_v1);
    acctc("apply " + v1);
    acctc("apply --backend iptables " + v1);
    acctc("save");
    send(6);
    // Each backend's discard, as the read by name gives them.
    const auto discards = [&](const std::string& arguments) {
        std::vector<std::pair<std::uint64_t, std::uint64_t>> found;
        const auto json = nlohmann::json::parse(acctc(arguments));
        for (const auto& counter : json["counters"]) {
            if (counter["name"] == "discard") {
                found.emplace_back(counter["packets"], counter["bytes"]);
            }
        }
        return found;
    };
    const std::vector<std::pair<std::uint64_t, std::uint64_t>> both(2, {6, 6 * datagram_bytes});
    EXPECT_EQ(discards("counters --json totals"), both);
    EXPECT_EQ(discards("counters --json"), both);
    acctc("save");
    const auto report = nlohmann::json::parse(acctc("report totals --json --saved"));
    std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> by_backend;
    for (const auto& policy : report["policies"]) {
        for (const auto& row : policy["periods"][0]["families"]) {
            by_backend[policy.value("backend", "(no backend)") + " " +
                       row["name"].get<std::string>()] = {row["packets"], row["bytes"]};
        }
    }
    // `iptables` is booked as the variant installed (backend.hpp, resolved_backend).
    const std::string iptables(backend_info(resolved_backend(BackendKind::iptables)).name);
    const std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> expected{
        {"nft discard", {6, 6 * datagram_bytes}}, {iptables + " discard", {6, 6 * datagram_bytes}}};
    EXPECT_EQ(by_backend, expected) << report.dump(1);
    // The iptables copy flushed behind acctc's back is named, though nft still holds the policy.
    shell("ip netns exec " + netns_.name() +
          " sh -c 'for t in iptables ip6tables; do $t -F; $t -X; " + "done'");
    const auto said = shell(std::string(ACCTC_CLI_PATH) + " counters --netns " + netns_.name() +
                            " 2>&1 >/dev/null; echo exit $?");
    EXPECT_NE(said.find("policy totals is not loaded in network namespace " + netns_.name() +
                        ": acctc applied it here with --backend iptables"),
              std::string::npos)
        << said;
    EXPECT_NE(said.find("exit 1"), std::string::npos) << said;
    acctc("remove --backend iptables totals"); // forgets the mark
    acctc("remove --backend nft totals");
}

// A totals file written before the series had their backend (version 1: what acctc wrote
// until then) still loads: its series become the backend the policy is applied with, so the
// next save books only what was counted after their baselines, and the history stays.
TEST_F(PeriodTotals, AVersion1FileLoadsAsTheBackendAppliedWith) {
    const auto v1 = write("v1.acct", policy_v1);
    acctc("apply --backend iptables " + v1);
    acctc("save");
    send(4);
    acctc("save");
    // The file as the version before wrote it: no backend in the series.
    const auto file = fs::path(state_dir()) / "netns" / netns_.name() / "totals.json";
    auto json = nlohmann::json::parse(std::ifstream(file));
    ASSERT_EQ(json["version"], 2) << json.dump(1);
    json["version"] = 1;
    const std::string iptables(backend_info(resolved_backend(BackendKind::iptables)).name);
    for (auto& series : json["series"]) {
        ASSERT_EQ(series["backend"], iptables) << json.dump(1);
        series.erase("backend");
    }
    std::ofstream(file, std::ios::trunc) << json.dump();
    send(2);
    acctc("save");
    const auto report = nlohmann::json::parse(acctc("report totals --json --saved"));
    ASSERT_EQ(report["policies"].size(), 1U) << report.dump(1);
    EXPECT_EQ(report["policies"][0]["backend"], iptables);
    EXPECT_EQ(family(report, "discard"), std::pair(std::uint64_t{6}, 6 * datagram_bytes));
    acctc("remove --backend iptables totals");
}

// Totals booked as `iptables` before acctc took it as the variant installed load as that
// variant's: the next save goes on from their baselines (nothing booked twice), and the report
// has one section, not one per name.
TEST_F(PeriodTotals, TotalsBookedAsIptablesAreTheVariants) {
    acctc("apply --backend iptables " + write("v1.acct", policy_v1));
    acctc("save");
    send(4);
    acctc("save");
    const auto file = fs::path(state_dir()) / "netns" / netns_.name() / "totals.json";
    auto json = nlohmann::json::parse(std::ifstream(file));
    for (auto& series : json["series"]) {
        series["backend"] = "iptables";
    }
    std::ofstream(file, std::ios::trunc) << json.dump();
    send(2);
    acctc("save");
    const auto report = nlohmann::json::parse(acctc("report totals --json --saved"));
    ASSERT_EQ(report["policies"].size(), 1U) << report.dump(1);
    EXPECT_EQ(report["policies"][0]["backend"],
              std::string(backend_info(resolved_backend(BackendKind::iptables)).name));
    EXPECT_EQ(family(report, "discard"), std::pair(std::uint64_t{6}, 6 * datagram_bytes));
    acctc("remove --backend iptables totals");
}

// A fake clock across a billing day (the 15th) and both DST changes of Europe/Berlin: each save
// books into the period its clock shows, and earlier periods keep their totals.
TEST_F(PeriodTotals, RolloverWithAFakeClock) {
    acctc("apply " + write("v1.acct", policy_v1));
    acctc("save", "2026-03-14T23:50:00+01:00");
    send(3);
    acctc("save", "2026-03-14T23:59:00+01:00");
    send(4);
    acctc("save", "2026-03-15T00:05:00+01:00");
    auto month = nlohmann::json::parse(
        acctc("report totals --json --first-day 15 --history 1", "2026-03-20T12:00:00+01:00"));
    const auto& current = month["policies"][0]["periods"][0];
    EXPECT_EQ(current["begin"], "2026-03-15T00:00:00+01:00");
    EXPECT_EQ(current["end"], "2026-04-15T00:00:00+02:00");
    EXPECT_EQ(family(month, "discard", 0).first, 4U);
    EXPECT_EQ(family(month, "discard", 1).first, 3U);
    // Calendar months: all 7 in March.
    month = nlohmann::json::parse(acctc("report totals --json", "2026-03-20T12:00:00+01:00"));
    EXPECT_EQ(family(month, "discard").first, 7U);

    // Spring: the day of 2026-03-29 has 23 hours; 01:30 CET and 03:30 CEST are one hour apart.
    send(2);
    acctc("save", "2026-03-29T01:30:00+01:00");
    send(5);
    acctc("save", "2026-03-29T03:30:00+02:00");
    const auto day = nlohmann::json::parse(
        acctc("report totals --json --period day", "2026-03-29T12:00:00+02:00"));
    EXPECT_EQ(day["policies"][0]["periods"][0]["begin"], "2026-03-29T00:00:00+01:00");
    EXPECT_EQ(day["policies"][0]["periods"][0]["end"], "2026-03-30T00:00:00+02:00");
    EXPECT_EQ(family(day, "discard").first, 7U);
    const auto hours = nlohmann::json::parse(
        acctc("report totals --json --period hour --history 1", "2026-03-29T03:45:00+02:00"));
    EXPECT_EQ(family(hours, "discard", 0).first, 5U);
    EXPECT_EQ(family(hours, "discard", 1).first, 2U); // 01:00 CET, the hour before

    // Autumn: 02:00-03:00 happens twice on 2026-10-25; each is an hour of its own.
    send(1);
    acctc("save", "2026-10-25T02:30:00+02:00");
    send(2);
    acctc("save", "2026-10-25T02:30:00+01:00");
    const auto autumn = nlohmann::json::parse(
        acctc("report totals --json --period hour --history 1", "2026-10-25T02:45:00+01:00"));
    EXPECT_EQ(autumn["policies"][0]["periods"][0]["begin"], "2026-10-25T02:00:00+01:00");
    EXPECT_EQ(autumn["policies"][0]["periods"][1]["begin"], "2026-10-25T02:00:00+02:00");
    EXPECT_EQ(family(autumn, "discard", 0).first, 2U);
    EXPECT_EQ(family(autumn, "discard", 1).first, 1U);

    // The clock set back a day: the next save books there, nothing is subtracted.
    send(4);
    acctc("save", "2026-10-24T12:00:00+02:00");
    const auto back = nlohmann::json::parse(
        acctc("report totals --json --period day", "2026-10-24T13:00:00+02:00"));
    EXPECT_EQ(family(back, "discard").first, 4U);
    const auto year = nlohmann::json::parse(
        acctc("report totals --json --saved --history 12", "2026-10-25T12:00:00+01:00"));
    std::uint64_t all = 0;
    for (std::size_t i = 0; i < 13; ++i) {
        all += family(year, "discard", i).first;
    }
    EXPECT_EQ(all, 3U + 4 + 2 + 5 + 1 + 2 + 4);
    // A start day past 28 is refused.
    EXPECT_NE(shell_status(std::string(ACCTC_CLI_PATH) + " report --first-day 31 --state-dir " +
                           state_dir()),
              0);
}

// SIGKILL of the save loop leaves a whole file; a crash that also loses the kernel's counters
// (here: a flush after the kill, as a reboot would) loses only what came after the last save.
TEST_F(PeriodTotals, KillNineLosesAtMostTheIntervalSinceTheLastSave) {
    acctc("apply " + write("v1.acct", policy_v1));
    acctc("save");
    const auto loop = [&] {
        return std::stoi(shell("TZ=UTC " + std::string(ACCTC_CLI_PATH) +
                               " save --every 1 -q --netns " + netns_.name() + " --state-dir " +
                               state_dir() + " >/dev/null 2>&1 & echo $!"));
    };
    // Killed at moments that fall anywhere in a round: the file always reads.
    for (int round = 0; round < 6; ++round) {
        const int pid = loop();
        send(1);
        std::this_thread::sleep_for(std::chrono::milliseconds(150 + 230 * round));
        // Dead once gone or a zombie (whoever reaps it may take its time).
        const std::string proc = "/proc/" + std::to_string(pid);
        shell("kill -9 " + std::to_string(pid) + "; while [ -e " + proc + " ] && ! grep -q " +
              "'^State:.*Z' " + proc + "/status 2>/dev/null; do sleep 0.05; done");
        acctc("report totals --json --saved");
    }
    const int pid = loop();
    send(5);
    std::this_thread::sleep_for(std::chrono::milliseconds(2500)); // at least one round after
    shell("kill -9 " + std::to_string(pid));
    send(3); // counted by the kernel only
    netns_.nft("flush ruleset");
    acctc("apply " + write("v1.acct", policy_v1));
    const auto report = nlohmann::json::parse(acctc("report totals --json"));
    EXPECT_EQ(family(report, "discard").first, 6U + 5U);
    for (const auto& entry :
         fs::directory_iterator(fs::path(state_dir()) / "netns" / netns_.name())) {
        const auto name = entry.path().filename().string();
        EXPECT_TRUE(name == "totals.json" || name == ".acctc.lock") << name;
    }
}

// A damaged file is an error naming it, never a crash or a fresh start: save and report fail
// for it and leave it as it is; apply and reset still work.
TEST_F(PeriodTotals, DamagedFileIsAnErrorAndLeftAlone) {
    const auto v1 = write("v1.acct", policy_v1);
    acctc("apply " + v1);
    send(2);
    acctc("save");
    const auto file = fs::path(state_dir()) / "netns" / netns_.name() / "totals.json";
    std::ofstream(file, std::ios::trunc) << "{\"format\": \"acctc-totals\", \"version\": 1, ";
    const std::string cli = std::string("TZ=UTC ") + ACCTC_CLI_PATH + " ";
    const std::string where = " --netns " + netns_.name() + " --state-dir " + state_dir();
    std::string out;
    std::string err;
    EXPECT_EQ(shell_status(cli + "save" + where, &out, &err), 1);
    EXPECT_NE(err.find(file.string() + ": damaged totals"), std::string::npos) << err;
    EXPECT_EQ(shell_status(cli + "report" + where, &out, &err), 1);
    EXPECT_NE(err.find("move it aside"), std::string::npos) << err;
    EXPECT_EQ(shell_status(cli + "apply " + v1 + where, &out, &err), 0) << err;
    EXPECT_EQ(shell_status(cli + "counters --reset" + where, &out, &err), 0) << err;
    std::ifstream in(file);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}),
              "{\"format\": \"acctc-totals\", \"version\": 1, ");
}

// A mistyped POLICY is an error, exit 1, with --saved too (docs/periods.md): --saved leaves the
// kernel's counters out, so a name without saved totals has nothing to report. Before, it
// printed an empty "(nothing saved yet)" report and exited 0.
TEST_F(PeriodTotals, ANameWithoutSavedTotalsIsAnErrorWithSaved) {
    const auto v1 = write("v1.acct", policy_v1);
    acctc("apply " + v1);
    const std::string cli = std::string("TZ=UTC ") + ACCTC_CLI_PATH + " ";
    const std::string where = " --netns " + netns_.name() + " --state-dir " + state_dir();
    std::string out;
    std::string err;
    EXPECT_EQ(shell_status(cli + "report totalz --saved" + where, &out, &err), 1) << out;
    EXPECT_NE(err.find("policy totalz has no saved totals in"), std::string::npos) << err;
    EXPECT_EQ(shell_status(cli + "report totalz" + where, &out, &err), 1) << out;
    send(1);
    acctc("save");
    EXPECT_EQ(shell_status(cli + "report totals --saved" + where, &out, &err), 0) << err;
    EXPECT_NE(out.find("discard"), std::string::npos) << out;
}

// examples/metered_line.acct on a namespace with an eth0 (a veth to a peer) and a skype group:
// it applies, and the report shows the line and Skype's share of it, IPv4 and IPv6, by months
// from the quota's billing day.
TEST_F(PeriodTotals, MeteredLineExampleReports) {
    const std::string peer = netns_.name() + "-isp";
    struct PeerGuard {
        std::string name;
        ~PeerGuard() { shell_status("ip netns del " + name); }
    } guard{peer};
    shell("ip netns add " + peer);
    const std::string home = "ip -n " + netns_.name() + " ";
    shell(home + "link add eth0 type veth peer name isp0 netns " + peer);
    shell(home + "addr add 198.18.50.1/24 dev eth0 && " + home +
          "addr add 2001:db8:50::1/64 dev eth0 nodad && " + home + "link set eth0 up");
    shell("ip -n " + peer + " addr add 198.18.50.2/24 dev isp0 && ip -n " + peer +
          " addr add 2001:db8:50::2/64 dev isp0 nodad && ip -n " + peer + " link set isp0 up");
    const auto etc = directory_ / "etc";
    fs::create_directories(etc);
    std::ofstream(etc / "group") << "root:x:0:\nskype:x:4242:\n";
    std::ofstream(etc / "passwd") << "root:x:0:0:root:/root:/bin/sh\n";
    acctc("apply --etc " + etc.string() + " " + ACCTC_SOURCE_DIR + "/examples/metered_line.acct");
    acctc("save");
    const auto send_as = [&](const std::string& who, const std::string& address, int count) {
        shell("ip netns exec " + netns_.name() + " " + who + " bash -c 'for i in $(seq " +
              std::to_string(count) + "); do echo x > /dev/udp/" + address + "/21212; done'");
    };
    const std::string skype = "setpriv --regid 4242 --clear-groups";
    send_as(skype, "198.18.50.2", 4);
    send_as(skype, "2001:db8:50::2", 3);
    send_as("", "198.18.50.2", 2); // not Skype's
    const auto report =
        nlohmann::json::parse(acctc("report metered_line --json --exact --share-of line"));
    std::map<std::string, std::uint64_t> packets;
    for (const auto& family : report["policies"][0]["periods"][0]["families"]) {
        for (const auto& counter : family["counters"]) {
            packets[counter["name"]] = counter["packets"];
        }
    }
    EXPECT_EQ(packets["skype_udp_out"], 7U) << report.dump(1);
    // Months from the policy's billing day: its quota's "per month from day 15".
    EXPECT_EQ(report["policies"][0]["first_day"], 15);
    EXPECT_NE(report["policies"][0]["periods"][0]["begin"].get<std::string>().find("-15T00:00:00"),
              std::string::npos);
    // The saved totals alone are reported by the same months (they went by the 1st).
    const auto saved = nlohmann::json::parse(acctc("report metered_line --json --saved"));
    EXPECT_EQ(saved["policies"][0]["first_day"], 15) << saved.dump(1);
    EXPECT_EQ(saved["policies"][0]["periods"][0]["begin"],
              report["policies"][0]["periods"][0]["begin"]);
    EXPECT_GE(packets["line_out"], 9U);
    const auto skype_share = family(report, "skype");
    EXPECT_GT(skype_share.first, 0U);
    for (const auto& row : report["policies"][0]["periods"][0]["families"]) {
        EXPECT_TRUE(row.contains("share") && row.contains("projected_bytes")) << row.dump();
    }
}

} // namespace
} // namespace acctc::runtime::testing
