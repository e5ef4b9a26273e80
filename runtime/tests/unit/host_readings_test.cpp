// The readings of `split host` sets: one per host with its set's family and labels plus
// host=ADDRESS, merged with the named counters, sorted by counter and then by address text, as
// `counters` has always reported them (so its JSON, Prometheus and text output stay the same).
#include "host_readings.hpp"

#include <algorithm>
#include <gtest/gtest.h>
#include <random>
#include <set>
#include <tuple>

namespace acctc::runtime {
namespace {

std::string comment(const std::string& set, const std::string& family, const std::string& origin) {
    CounterIdentity identity;
    identity.family = family;
    identity.labels = {{Dimension::direction, "in"}};
    identity.origin = origin;
    identity.wire.add(WireDifference::receive_offload);
    identity.receive_devices = {"lan0"};
    return encode_counter_comment(set, identity);
}

HostElement host(std::vector<unsigned char> key, std::uint64_t packets, std::uint64_t bytes) {
    HostElement element;
    std::copy(key.begin(), key.end(), element.key.begin());
    element.key_size = static_cast<std::uint8_t>(key.size());
    element.packets = packets;
    element.bytes = bytes;
    return element;
}

CounterReading named(const std::string& counter) {
    return reading_of("home", counter, 1, 2, CounterIdentity{counter, {}, {}, "home.acct:1"});
}

using Flat = std::tuple<std::string, std::string, std::uint64_t, std::uint64_t, std::string,
                        std::vector<Label>, std::string, std::vector<std::string>, WireDifferences>;
Flat flat(const CounterReading& r) {
    const auto& s = r.sample;
    return {s.policy,   s.counter,  s.packets,           s.bytes, s.family(),
            s.labels(), r.origin(), s.receive_devices(), s.wire};
}

// What the readings were before hosts were read as arrays: each host its own reading with its
// address text, then everything sorted by counter and host text.
std::vector<Flat> reference(const std::vector<CounterReading>& named_readings,
                            const std::vector<KernelHostSet>& sets) {
    std::vector<Flat> out;
    for (const auto& reading : named_readings) {
        out.push_back(flat(reading));
    }
    for (const auto& set : sets) {
        CounterIdentity identity = decode_counter_comment(set.set, set.comment);
        identity.labels.push_back({Dimension::host, {}});
        for (const auto& element : set.hosts) {
            CounterIdentity one = identity;
            one.labels.back().value = std::string(host_text(element).view());
            out.push_back(flat(reading_of("home", host_counter_name(set.set), element.packets,
                                          element.bytes, std::move(one))));
        }
    }
    std::stable_sort(out.begin(), out.end(), [](const Flat& a, const Flat& b) {
        const auto host = [](const Flat& f) {
            const auto& labels = std::get<5>(f);
            return labels.empty() || labels.back().dimension != Dimension::host
                       ? std::string()
                       : labels.back().value;
        };
        return std::pair(std::get<1>(a), host(a)) < std::pair(std::get<1>(b), host(b));
    });
    return out;
}

std::vector<Flat> flat(const std::vector<CounterReading>& readings) {
    std::vector<Flat> out;
    for (const auto& reading : readings) {
        out.push_back(flat(reading));
    }
    return out;
}

TEST(HostReadings, HostsSortByAddressTextAmongTheNamedCounters) {
    const std::vector<KernelHostSet> sets{
        {"lan_in_hosts_v4_p1",
         comment("lan_in_hosts_v4_p1", "lan", "home.acct:4"),
         {host({198, 18, 0, 10}, 1, 100), host({198, 18, 0, 2}, 2, 200)}},
        {"lan_in_hosts_v4_p0",
         comment("lan_in_hosts_v4_p0", "lan", "home.acct:4"),
         {host({198, 18, 0, 9}, 3, 300)}},
        {"lan_in_hosts_v6",
         comment("lan_in_hosts_v6", "lan", "home.acct:4"),
         {host({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 4, 400)}},
    };
    const auto readings =
        with_host_readings({named("zeta"), named("lan_overflow"), named("a")}, sets, "home");
    std::vector<std::string> order;
    for (const auto& reading : readings) {
        order.push_back(reading.sample.counter + " " + reading.sample.label(Dimension::host));
    }
    EXPECT_EQ(order, (std::vector<std::string>{"a ", "lan_in 198.18.0.10", "lan_in 198.18.0.2",
                                               "lan_in 198.18.0.9", "lan_in 2001:db8::1",
                                               "lan_overflow ", "zeta "}));
    const CounterSample& second = readings[2].sample;
    EXPECT_EQ(second.policy, "home");
    EXPECT_EQ(second.family(), "lan");
    EXPECT_EQ(second.packets, 2U);
    EXPECT_EQ(second.bytes, 200U);
    EXPECT_EQ(second.labels(),
              (std::vector<Label>{{Dimension::direction, "in"}, {Dimension::host, "198.18.0.2"}}));
    EXPECT_TRUE(second.wire.has(WireDifference::receive_offload));
    EXPECT_EQ(second.receive_devices(), std::vector<std::string>{"lan0"});
    EXPECT_EQ(readings[2].origin(), "home.acct:4");
}

TEST(HostReadings, SameAsOneReadingPerHostSortedByText) {
    std::mt19937 random(13);
    const auto byte = [&] { return static_cast<unsigned char>(random() % 3 == 0 ? 0 : random()); };
    std::vector<KernelHostSet> sets;
    std::set<std::vector<unsigned char>> keys; // a host is in one set only
    for (const std::string name : {"lan_in_hosts_v4_p0", "lan_in_hosts_v4_p1", "lan_in_hosts_v6",
                                   "lan_out_hosts_v6", "dev_hosts_mac", "b_hosts_v4"}) {
        const std::size_t size = name.ends_with("v6") ? 16 : name.ends_with("mac") ? 6 : 4;
        KernelHostSet set{name, comment(name, name.substr(0, name.find('_')), "home.acct:9"), {}};
        for (int i = 0; i < 3000; ++i) {
            std::vector<unsigned char> key(size);
            for (auto& b : key) {
                b = byte();
            }
            if (size == 16 && i % 2 == 0) {
                std::fill(key.begin(), key.begin() + 8,
                          0x20); // texts alike in their first 16 bytes
            }
            if (keys.insert(key).second) {
                set.hosts.push_back(host(key, random() % 1000, random()));
            }
        }
        sets.push_back(std::move(set));
    }
    const std::vector<CounterReading> counters{named("lan_in"), named("c"), named("a"),
                                               named("lan_out"), named("z")};
    EXPECT_EQ(flat(with_host_readings(counters, sets, "home")), reference(counters, sets));
}

TEST(HostReadings, NamedCountersAloneKeepTheirOrderByName) {
    const auto readings = with_host_readings({named("b"), named("a"), named("c")}, {}, "home");
    ASSERT_EQ(readings.size(), 3U);
    EXPECT_EQ(readings[0].sample.counter, "a");
    EXPECT_EQ(readings[2].sample.counter, "c");
}

} // namespace
} // namespace acctc::runtime
