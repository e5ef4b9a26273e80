// One backend concept, end to end with the CLI in namespaces of our own: a policy applied with an
// iptables backend is found again without --backend (counters, serve, record, remove), serve and
// record read the backend they are told, and nft and iptables policies side by side are all
// read. Every count is of real datagrams, exact to the byte.
#include "acctc/recording/rrd_names.hpp"
#include "support/exposition_parser.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/test_namespace.hpp"

#include <csignal>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

namespace acctc::recording {
namespace {

using namespace std::chrono_literals;

constexpr const char* address = "198.18.0.1";
constexpr std::uint64_t datagram_bytes = 128; // 100 bytes of payload + UDP + IPv4 headers

struct Count {
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
    bool operator==(const Count&) const = default;
};
using Counts = std::map<std::string, Count>; // "policy/counter"

std::ostream& operator<<(std::ostream& out, const Count& count) {
    return out << count.packets << " packets, " << count.bytes << " bytes";
}

class BackendMemory : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!testing::can_use_namespaces() || !testing::on_path("iptables-legacy") ||
            !testing::on_path("iptables")) {
            GTEST_SKIP() << "needs root, ip, nft, iptables and iptables-legacy";
        }
        ns_ = std::make_unique<testing::TestNamespace>("backend");
        ns_->exec({"ip", "address", "add", std::string(address) + "/32", "dev", "lo"});
        sender_ = ns_->socket(SOCK_DGRAM);
    }

    // policy NAME counting outgoing datagrams to `port`.
    std::string write_policy(const std::string& name, unsigned port) const {
        const auto path = (dir_.path() / (name + ".acct")).string();
        std::ofstream(path) << "policy " << name << "\ncounter probe { out; udp dport " << port
                            << "; include loopback }\n";
        return path;
    }
    testing::ProcessResult acctc(std::vector<std::string> arguments) const {
        arguments.insert(arguments.begin(), ACCTC_CLI_PATH);
        arguments.insert(arguments.end(), {"--netns", ns_->name()});
        return testing::run_process(arguments);
    }
    void send(unsigned port, unsigned count) const {
        testing::send_datagrams(sender_.get(), address, port, count, 100);
    }
    // `acctc counters --json` with `extra` options.
    Counts counters(std::vector<std::string> extra = {}) const {
        extra.insert(extra.begin(), {"counters", "--json"});
        const auto run = acctc(extra);
        EXPECT_EQ(run.exit_code, 0) << run.err;
        Counts counts;
        const auto json = nlohmann::json::parse(run.out);
        for (const auto& entry : json["counters"]) {
            counts[entry["policy"].get<std::string>() + "/" + entry["counter"].get<std::string>()] =
                {entry["packets"].get<std::uint64_t>(), entry["bytes"].get<std::uint64_t>()};
        }
        return counts;
    }
    // What `acctc serve EXTRA...` answers on its first scrape.
    Counts served(std::vector<std::string> extra) const {
        std::vector<std::string> argv{ACCTC_CLI_PATH, "serve",       "--netns",      ns_->name(),
                                      "--listen",     "127.0.0.1:0", "--max-age-ms", "0"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        testing::ChildProcess serve(argv);
        const auto line = serve.wait_for_stderr_line("listening on http://", 10s);
        EXPECT_FALSE(line.empty()) << "acctc serve did not start: " << serve.wait(1s).err;
        Counts counts;
        if (line.empty()) {
            return counts;
        }
        const auto run = testing::run_process(
            {"curl", "-sS", "--fail", "--max-time", "5", line.substr(line.find("http://"))});
        EXPECT_EQ(run.exit_code, 0) << run.err;
        for (const auto& family : testing::parse_exposition(run.out)) {
            if (family.name != "acctc_packets_total" && family.name != "acctc_bytes_total") {
                continue; // health metrics: policy only
            }
            for (const auto& sample : family.samples) {
                const auto key = sample.labels.at("policy") + "/" + sample.labels.at("counter");
                if (family.name == "acctc_packets_total") {
                    counts[key].packets = static_cast<std::uint64_t>(sample.value);
                } else if (family.name == "acctc_bytes_total") {
                    counts[key].bytes = static_cast<std::uint64_t>(sample.value);
                }
            }
        }
        serve.signal(SIGTERM);
        EXPECT_EQ(serve.wait(5s).exit_code, 0);
        return counts;
    }
    // `acctc record EXTRA...` once, then the values it stored for policy/probe.
    Count recorded(const std::string& policy, std::vector<std::string> extra) const {
        const auto rrd_dir = dir_.path() / "rrd";
        extra.insert(extra.begin(), {"record", "--quiet", "--rrd-dir", rrd_dir.string()});
        const auto run = acctc(extra);
        EXPECT_EQ(run.exit_code, 0) << run.err;
        // rrdtool lastupdate: the raw values of the last update, "<time>: <bytes> <packets>".
        const auto last = testing::run_process(
            {"rrdtool", "lastupdate", rrd_path(rrd_dir, policy, "probe").string()});
        EXPECT_EQ(last.exit_code, 0) << last.err;
        const auto colon = last.out.rfind(": ");
        Count count;
        if (colon != std::string::npos) {
            std::istringstream(last.out.substr(colon + 2)) >> count.bytes >> count.packets;
        }
        return count;
    }
    static Count sent(std::uint64_t packets) { return {packets, packets * datagram_bytes}; }

    testing::TempDir dir_;
    std::unique_ptr<testing::TestNamespace> ns_;
    UniqueFd sender_;
};

TEST_F(BackendMemory, CountersFindsAPolicyAppliedWithIptablesLegacy) {
    const auto policy = write_policy("legacyprobe", 9);
    auto run = acctc({"apply", "--backend", "iptables-legacy", policy});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_NE(run.out.find("into iptables chains acctc-"), std::string::npos) << run.out;
    // The rules are x_tables', not nf_tables': nft has nothing of acctc's.
    EXPECT_EQ(ns_->exec({"nft", "list", "tables"}).find("acctc"), std::string::npos);
    send(9, 7);

    EXPECT_EQ(counters(), (Counts{{"legacyprobe/probe", sent(7)}}));
    EXPECT_EQ(counters({"legacyprobe"}), (Counts{{"legacyprobe/probe", sent(7)}}));
    run = acctc({"diff", policy});
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err; // compared with the iptables chains
    // Applied again without --backend: where it is, counts kept, no second copy in nft.
    run = acctc({"apply", policy});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_NE(run.out.find("into iptables chains acctc-"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("1 counters kept"), std::string::npos) << run.out;
    EXPECT_EQ(ns_->exec({"nft", "list", "tables"}).find("acctc"), std::string::npos);

    // Reset zeroes iptables-legacy's counters; the packets after it are counted from zero.
    EXPECT_EQ(counters({"--reset"}), (Counts{{"legacyprobe/probe", sent(7)}}));
    send(9, 2);
    EXPECT_EQ(counters(), (Counts{{"legacyprobe/probe", sent(2)}}));

    run = acctc({"remove", "legacyprobe"});
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_NE(run.out.find("removed iptables chains acctc-"), std::string::npos) << run.out;
    EXPECT_EQ(ns_->exec({"iptables-legacy-save"}).find("acctc"), std::string::npos);
    EXPECT_EQ(counters(), Counts{});
}

TEST_F(BackendMemory, ServeAndRecordReadTheBackendTheyAreTold) {
    ASSERT_EQ(acctc({"apply", "--backend", "iptables", write_policy("iptprobe", 9)}).exit_code, 0);
    send(9, 11);

    EXPECT_EQ(served({"--backend", "iptables", "iptprobe"}),
              (Counts{{"iptprobe/probe", sent(11)}}));
    EXPECT_EQ(served({"--backend", "iptables"}), (Counts{{"iptprobe/probe", sent(11)}}));
    EXPECT_EQ(recorded("iptprobe", {"--backend", "iptables", "iptprobe"}), sent(11));
    send(9, 4);
    ::sleep(1); // librrd takes one update per second
    EXPECT_EQ(recorded("iptprobe", {"--backend", "iptables"}), sent(15));

    // Told nft, they read nft, which does not hold the policy.
    EXPECT_EQ(served({"--backend", "nft"}), Counts{});
    const auto run = acctc(
        {"record", "--backend", "nft", "--rrd-dir", (dir_.path() / "nft").string(), "iptprobe"});
    EXPECT_NE(run.exit_code, 0);
    EXPECT_NE(run.err.find("no table inet acctc_iptprobe"), std::string::npos) << run.err;
    // Told an unknown backend: a usage error naming the table's backends.
    const auto unknown = acctc({"serve", "--backend", "pf"});
    EXPECT_EQ(unknown.exit_code, 2);
    EXPECT_NE(unknown.err.find("unknown backend 'pf' (expected nft, iptables, iptables-legacy or "
                               "iptables-nft)"),
              std::string::npos)
        << unknown.err;
}

TEST_F(BackendMemory, PoliciesOnNftAndIptablesSideBySideAreAllRead) {
    ASSERT_EQ(acctc({"apply", write_policy("nftside", 9)}).exit_code, 0);
    ASSERT_EQ(
        acctc({"apply", "--backend", "iptables-legacy", write_policy("legacyside", 7)}).exit_code,
        0);
    ASSERT_EQ(acctc({"apply", "--backend", "iptables", write_policy("iptside", 19)}).exit_code, 0);
    send(9, 3);
    send(7, 5);
    send(19, 6);
    const Counts all{
        {"iptside/probe", sent(6)}, {"legacyside/probe", sent(5)}, {"nftside/probe", sent(3)}};
    EXPECT_EQ(counters(), all);
    EXPECT_EQ(served({}), all);
    EXPECT_EQ(recorded("legacyside", {}), sent(5));
    EXPECT_EQ(recorded("nftside", {}), sent(3));
    EXPECT_EQ(recorded("iptside", {}), sent(6));
    // Told one backend, only its policies.
    EXPECT_EQ(counters({"--backend", "nft"}), (Counts{{"nftside/probe", sent(3)}}));
    EXPECT_EQ(counters({"--backend", "iptables-legacy"}), (Counts{{"legacyside/probe", sent(5)}}));

    // A flushed iptables policy is named as not loaded, the others still read.
    ns_->exec({"iptables-legacy", "-t", "filter", "-F"});
    ns_->exec({"iptables-legacy", "-t", "filter", "-X"});
    ns_->exec({"ip6tables-legacy", "-t", "filter", "-F"});
    ns_->exec({"ip6tables-legacy", "-t", "filter", "-X"});
    const auto run = acctc({"counters", "-x"});
    EXPECT_EQ(run.exit_code, 1);
    EXPECT_NE(run.err.find("policy legacyside is not loaded in network namespace " + ns_->name() +
                           ": acctc applied it here with --backend iptables-legacy"),
              std::string::npos)
        << run.err;
    EXPECT_NE(run.out.find("nftside"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("iptside"), std::string::npos) << run.out;
}

} // namespace
} // namespace acctc::recording
