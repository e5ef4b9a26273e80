// Counter families end to end: a policy with splits and classifications applied in a namespace,
// real packets, then the family and dimension labels as JSON, Prometheus text and table read
// back from the kernel alone; and a table written before labels existed reloaded losslessly.
#include "kernel_fixture.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <unistd.h>

namespace acctc::runtime::testing {
namespace {

const std::string policy_text =
    "policy famtest\n"
    "counter svc { out; udp dport 9; include loopback; split protocol udp, tcp }\n"
    "counter both { local; udp dport 9; include loopback; split direction }\n"
    "counter pings { out; icmp type echo-request, echo-reply; include loopback; split type }\n"
    "classify ports local out include loopback {\n"
    "    discard: udp dport 9\n"
    "    echo: udp dport 7\n"
    "    otherwise: rest\n"
    "}\n"
    "classify sides local include loopback split direction {\n"
    "    nine: udp dport 9\n"
    "    otherwise: other\n"
    "}\n";

class Families : public ::testing::Test {
  protected:
    void SetUp() override {
        directory_ = std::filesystem::temp_directory_path() /
                     ("acctc-families-" + std::to_string(::getpid()) + "-" + netns_.name());
        std::filesystem::create_directories(directory_);
        policy_ = (directory_ / "famtest.acct").string();
        std::ofstream(policy_) << policy_text;
    }
    void TearDown() override { std::filesystem::remove_all(directory_); }

    std::string acctc(const std::string& arguments) {
        std::string out, err;
        const int status = shell_status(std::string(ACCTC_CLI_PATH) + " " + arguments +
                                            " --netns " + netns_.name(),
                                        &out, &err);
        EXPECT_EQ(status, 0) << arguments << "\n" << err;
        return out;
    }
    // The JSON entry of one kernel counter.
    nlohmann::json entry(const std::string& name) {
        const auto json = nlohmann::json::parse(acctc("counters --json famtest"));
        EXPECT_TRUE(json.contains("time"));
        for (const auto& counter : json["counters"]) {
            if (counter["name"] == name) {
                return counter;
            }
        }
        ADD_FAILURE() << name << " missing from " << json.dump();
        return {};
    }

    TestNamespace netns_;
    std::filesystem::path directory_;
    std::string policy_;
};

TEST_F(Families, JsonPrometheusAndTableCarryFamilyAndLabels) {
    acctc("apply " + policy_);
    UdpTraffic(netns_.name(), 9).send(4);

    auto svc = entry("svc_udp");
    EXPECT_EQ(svc["counter"], "svc");
    EXPECT_EQ(svc["labels"], (nlohmann::json{{"protocol", "udp"}}));
    EXPECT_EQ(svc["packets"], 4);
    EXPECT_EQ(svc["origin"], policy_ + ":2");
    EXPECT_EQ(entry("svc_tcp")["packets"], 0);
    auto in = entry("both_in");
    EXPECT_EQ(in["counter"], "both");
    EXPECT_EQ(in["labels"], (nlohmann::json{{"direction", "in"}}));
    EXPECT_EQ(in["packets"], 4);
    EXPECT_EQ(entry("both_out")["labels"], (nlohmann::json{{"direction", "out"}}));
    auto request = entry("pings_echo_request");
    EXPECT_EQ(request["counter"], "pings");
    EXPECT_EQ(request["labels"], (nlohmann::json{{"icmp_type", "echo-request"}}));
    EXPECT_EQ(request["packets"], 0);
    EXPECT_EQ(entry("pings_echo_reply")["labels"], (nlohmann::json{{"icmp_type", "echo-reply"}}));
    auto discard = entry("ports_discard");
    EXPECT_EQ(discard["counter"], "ports");
    EXPECT_EQ(discard["labels"], (nlohmann::json{{"class", "discard"}}));
    EXPECT_EQ(discard["packets"], 4);
    auto nine_in = entry("sides_nine_in");
    EXPECT_EQ(nine_in["counter"], "sides");
    EXPECT_EQ(nine_in["labels"], (nlohmann::json{{"direction", "in"}, {"class", "nine"}}));
    EXPECT_EQ(nine_in["packets"], 4);
    EXPECT_EQ(entry("sides_other_out")["labels"],
              (nlohmann::json{{"direction", "out"}, {"class", "other"}}));

    const std::string prometheus = acctc("counters --prometheus famtest");
    for (const std::string& line : std::vector<std::string>{
             "acctc_packets_total{policy=\"famtest\",counter=\"svc\",protocol=\"udp\"} 4\n",
             "acctc_packets_total{policy=\"famtest\",counter=\"both\",direction=\"in\"} 4\n",
             "acctc_packets_total{policy=\"famtest\",counter=\"pings\",icmp_type=\"echo-request\"} "
             "0\n",
             "acctc_packets_total{policy=\"famtest\",counter=\"ports\",class=\"discard\"} 4\n",
             "acctc_bytes_total{policy=\"famtest\",counter=\"sides\",direction=\"out\",class="
             "\"nine\"} " +
                 std::to_string(4 * UdpTraffic::wire_bytes) + "\n"}) {
        EXPECT_NE(prometheus.find(line), std::string::npos) << line << prometheus;
    }
    if (shell_status("command -v promtool >/dev/null") == 0) {
        const auto file = directory_ / "metrics.prom";
        std::ofstream(file) << prometheus;
        std::string out, err;
        EXPECT_EQ(shell_status("promtool check metrics < " + file.string(), &out, &err), 0)
            << out << err;
        EXPECT_EQ(out + err, "");
    }

    // Table: grouped by family, a column per dimension.
    const std::string table = acctc("counters -x famtest");
    EXPECT_EQ(table.rfind("POLICY   COUNTER  DIRECTION  PROTOCOL  ICMP_TYPE     CLASS    "
                          "PACKETS  BYTES  ORIGIN\n",
                          0),
              0U)
        << table;
    EXPECT_NE(table.find("famtest  sides    in                                 nine           4"),
              std::string::npos)
        << table;
}

// A table loaded by an acctc from before the labels (comments hold only file:line) keeps its
// counts when the new version reloads it, and its counters carry their labels from then on.
TEST_F(Families, OlderTableKeepsItsCountsAndGainsLabels) {
    std::string text = shell(std::string(ACCTC_CLI_PATH) + " compile " + policy_);
    text = std::regex_replace(text, std::regex("comment \"acctc1 [^\"]*@([^\"]*)\""),
                              "comment \"$1\"");
    ASSERT_EQ(text.find("acctc1"), std::string::npos);
    const auto old = directory_ / "old.nft";
    std::ofstream(old) << text;
    shell("ip netns exec " + netns_.name() + " nft -f " + old.string());
    UdpTraffic traffic(netns_.name(), 9);
    traffic.send(3);
    // Before the reload: the fallback, family = name, no labels.
    auto before = entry("svc_udp");
    EXPECT_EQ(before["counter"], "svc_udp");
    EXPECT_EQ(before["labels"], nlohmann::json::object());
    EXPECT_EQ(before["origin"], policy_ + ":2");
    EXPECT_EQ(before["packets"], 3);

    const std::string report = acctc("apply " + policy_);
    EXPECT_NE(report.find("13 counters kept, 0 new, 0 removed"), std::string::npos) << report;
    traffic.send(2);
    for (const std::string name :
         {"svc_udp", "both_in", "both_out", "ports_discard", "sides_nine_in", "sides_nine_out"}) {
        EXPECT_EQ(entry(name)["packets"], 5) << name;
    }
    EXPECT_EQ(entry("svc_udp")["counter"], "svc");
    EXPECT_EQ(entry("svc_udp")["labels"], (nlohmann::json{{"protocol", "udp"}}));
    EXPECT_EQ(entry("sides_nine_in")["labels"],
              (nlohmann::json{{"direction", "in"}, {"class", "nine"}}));
    EXPECT_NE(netns_.nft("list counter inet acctc_famtest svc_udp").find("acctc1 f=3"),
              std::string::npos);
    // A second reload changes nothing.
    acctc("apply " + policy_);
    EXPECT_EQ(entry("svc_udp")["packets"], 5);
}

// The iptables backends carry the same metadata in their counting rules' comments.
TEST_F(Families, IptablesCountingRulesCarryTheLabels) {
    acctc("apply --backend iptables " + policy_);
    UdpTraffic traffic(netns_.name(), 9);
    traffic.send(4);
    const auto json = nlohmann::json::parse(acctc("counters --json --backend iptables famtest"));
    std::map<std::string, nlohmann::json> by_name;
    for (const auto& counter : json["counters"]) {
        by_name[counter["name"]] = counter;
    }
    ASSERT_EQ(by_name.size(), 13U) << json.dump();
    EXPECT_EQ(by_name["svc_udp"]["counter"], "svc");
    EXPECT_EQ(by_name["svc_udp"]["labels"], (nlohmann::json{{"protocol", "udp"}}));
    EXPECT_EQ(by_name["svc_udp"]["packets"], 4);
    EXPECT_EQ(by_name["svc_udp"]["origin"], policy_ + ":2");
    EXPECT_EQ(by_name["sides_nine_out"]["labels"],
              (nlohmann::json{{"direction", "out"}, {"class", "nine"}}));
    EXPECT_EQ(by_name["sides_nine_out"]["packets"], 4);
    // A reload keeps the counting rules, and so their counts.
    acctc("apply --backend iptables " + policy_);
    traffic.send(1);
    const auto again = nlohmann::json::parse(acctc("counters --json --backend iptables famtest"));
    for (const auto& counter : again["counters"]) {
        if (counter["name"] == "svc_udp") {
            EXPECT_EQ(counter["packets"], 5);
        }
    }
    acctc("remove --backend iptables famtest");
}

} // namespace
} // namespace acctc::runtime::testing
