// Which counter a `split host` set's elements report under, from the set's name alone: a whole
// set and the parts of a large one (NAME_hosts_v4_p3) report as the same counter. And what a set
// dump's reply holds: the hosts with their counters.
#include "nft_host_counters.hpp"

#include <arpa/inet.h>
#include <endian.h>
#include <gtest/gtest.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <random>
#include <string>
#include <vector>

namespace acctc::runtime {
namespace {

TEST(HostCounterName, WholeSetsAndPartsReportUnderTheCounter) {
    EXPECT_EQ(host_counter_name("lan_in_hosts_v4"), "lan_in");
    EXPECT_EQ(host_counter_name("lan_in_hosts_v6"), "lan_in");
    EXPECT_EQ(host_counter_name("devices_hosts_mac"), "devices");
    EXPECT_EQ(host_counter_name("lan_in_hosts_v4_p0"), "lan_in");
    EXPECT_EQ(host_counter_name("lan_in_hosts_v6_p15"), "lan_in");
    EXPECT_EQ(host_counter_name("devices_hosts_mac_p63"), "devices");
}

TEST(HostCounterName, OtherNamesStayAsTheyAre) {
    EXPECT_EQ(host_counter_name("peers_skype_v4"), "peers_skype_v4");
    EXPECT_EQ(host_counter_name("x_p3"), "x_p3");
    EXPECT_EQ(host_counter_name("lan_hosts_v4_p"), "lan_hosts_v4_p");
    EXPECT_EQ(host_counter_name("lan_hosts_v4_px"), "lan_hosts_v4_px");
}

} // namespace
} // namespace acctc::runtime

// The decoding of a set dump's reply (NFT_MSG_GETSETELEM) into host elements, on a message built
// as the kernel builds it: keys of IPv4, IPv6 and MAC size, a counter alone (NFTA_SET_ELEM_EXPR)
// or in a list (NFTA_SET_ELEM_EXPRESSIONS) beside a quota, and elements without a counter or an
// address-sized key that are not hosts.
namespace acctc::runtime {
namespace {

class SetDump {
  public:
    SetDump() : message_(mnl_nlmsg_put_header(buffer_.data())) {
        message_->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSETELEM;
        static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(message_, sizeof(nfgenmsg)))
            ->nfgen_family = NFPROTO_INET;
        mnl_attr_put_strz(message_, NFTA_SET_ELEM_LIST_TABLE, "acctc_home");
        mnl_attr_put_strz(message_, NFTA_SET_ELEM_LIST_SET, "lan_hosts_v4");
        elements_ = mnl_attr_nest_start(message_, NFTA_SET_ELEM_LIST_ELEMENTS);
    }

    struct Expression {
        std::string name; // counter or quota
        std::uint64_t first = 0, second = 0;
    };
    // One element: list false puts a single expression as NFTA_SET_ELEM_EXPR.
    void element(const std::vector<unsigned char>& key, const std::vector<Expression>& expressions,
                 bool list = true) {
        nlattr* element = mnl_attr_nest_start(message_, NFTA_LIST_ELEM);
        if (!key.empty()) {
            nlattr* nest = mnl_attr_nest_start(message_, NFTA_SET_ELEM_KEY);
            mnl_attr_put(message_, NFTA_DATA_VALUE, key.size(), key.data());
            mnl_attr_nest_end(message_, nest);
        }
        mnl_attr_put_u32(message_, NFTA_SET_ELEM_FLAGS, 0);
        nlattr* nest = list ? mnl_attr_nest_start(message_, NFTA_SET_ELEM_EXPRESSIONS) : nullptr;
        for (const auto& expression : expressions) {
            put(expression,
                static_cast<std::uint16_t>(list ? int{NFTA_LIST_ELEM} : int{NFTA_SET_ELEM_EXPR}));
        }
        if (nest != nullptr) {
            mnl_attr_nest_end(message_, nest);
        }
        mnl_attr_nest_end(message_, element);
    }

    const nlmsghdr* done() {
        mnl_attr_nest_end(message_, elements_);
        return message_;
    }

  private:
    void put(const Expression& expression, std::uint16_t type) {
        nlattr* nest = mnl_attr_nest_start(message_, type);
        mnl_attr_put_strz(message_, NFTA_EXPR_NAME, expression.name.c_str());
        nlattr* data = mnl_attr_nest_start(message_, NFTA_EXPR_DATA);
        if (expression.name == "counter") {
            mnl_attr_put_u64(message_, NFTA_COUNTER_BYTES, htobe64(expression.second));
            mnl_attr_put_u64(message_, NFTA_COUNTER_PACKETS, htobe64(expression.first));
        } else {
            mnl_attr_put_u64(message_, NFTA_QUOTA_BYTES, htobe64(expression.first));
            mnl_attr_put_u64(message_, NFTA_QUOTA_CONSUMED, htobe64(expression.second));
        }
        mnl_attr_nest_end(message_, data);
        mnl_attr_nest_end(message_, nest);
    }

    std::vector<char> buffer_ = std::vector<char>(16384);
    nlmsghdr* message_;
    nlattr* elements_ = nullptr;
};

std::string text_of(const HostElement& element) {
    return std::string(host_text(element).view());
}

TEST(HostElements, ReadsEachElementWithACounterAsKeyBytesAndCounts) {
    SetDump dump;
    dump.element({198, 18, 0, 5}, {{"counter", 3, 300}});
    dump.element({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5},
                 {{"counter", 7, 700}}, false);
    dump.element({0xaa, 0xbb, 0xcc, 0, 0x01, 0xff}, {{"quota", 1000000, 10}, {"counter", 1, 60}});
    dump.element({198, 18, 0, 6}, {{"quota", 1000, 0}}); // no counter: not a host reading
    dump.element({1, 2, 3, 4, 5}, {{"counter", 1, 1}});  // no address's size
    dump.element({}, {{"counter", 1, 1}});               // no key
    dump.element({0, 0, 0, 0}, {{"counter", 0, 0}});
    std::vector<HostElement> hosts{HostElement{}}; // appended to
    read_host_elements(dump.done(), hosts);
    ASSERT_EQ(hosts.size(), 5U);
    EXPECT_EQ(text_of(hosts[1]), "198.18.0.5");
    EXPECT_EQ(hosts[1].packets, 3U);
    EXPECT_EQ(hosts[1].bytes, 300U);
    EXPECT_EQ(text_of(hosts[2]), "2001:db8::5");
    EXPECT_EQ(hosts[2].packets, 7U);
    EXPECT_EQ(hosts[2].bytes, 700U);
    EXPECT_EQ(text_of(hosts[3]), "aa:bb:cc:00:01:ff");
    EXPECT_EQ(hosts[3].packets, 1U);
    EXPECT_EQ(hosts[3].bytes, 60U);
    EXPECT_EQ(text_of(hosts[4]), "0.0.0.0");
    EXPECT_EQ(text_of(hosts[0]), ""); // no key at all
}

// The texts are inet_ntop's (what nft prints and acctc printed before it formatted IPv4 itself).
TEST(HostElements, TextsAreInetNtops) {
    std::mt19937 random(13);
    for (int i = 0; i < 20000; ++i) {
        HostElement element;
        element.key_size = i % 2 == 0 ? 4 : 16;
        for (std::size_t b = 0; b < element.key_size; ++b) {
            // Many zero bytes and many 255s, so that runs of zeros and the widest texts occur.
            const auto value = random() % 4;
            element.key[b] = value == 0   ? 0
                             : value == 1 ? 255
                                          : static_cast<unsigned char>(random());
        }
        char expected[INET6_ADDRSTRLEN] = {};
        ASSERT_NE(inet_ntop(element.key_size == 4 ? AF_INET : AF_INET6, element.key.data(),
                            expected, sizeof expected),
                  nullptr);
        ASSERT_EQ(text_of(element), expected);
    }
    for (const unsigned value : {0U, 1U, 9U, 10U, 99U, 100U, 109U, 199U, 200U, 255U}) {
        HostElement element;
        element.key_size = 4;
        element.key = {static_cast<unsigned char>(value), 0, static_cast<unsigned char>(value), 7};
        EXPECT_EQ(text_of(element), std::to_string(value) + ".0." + std::to_string(value) + ".7");
    }
}

} // namespace
} // namespace acctc::runtime
