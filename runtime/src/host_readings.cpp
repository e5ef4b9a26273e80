#include "host_readings.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <tuple>

namespace acctc::runtime {
namespace {

// One host of a counter, before it becomes a reading: what the reading needs, in one place, so
// that building the readings in sorted order reads no other memory at random (at 65,536 hosts
// a look-up of each host's element or text in sorted order missed the cache every time). The
// order is the address text's: its first 16 bytes as two numbers (big-endian, zero padded, so
// the same order as the text), the rest of the text only when those tie. IPv4 texts fit whole
// and are taken back from the numbers.
struct HostKey {
    std::uint64_t high = 0, low = 0; // text bytes 0-7 and 8-15
    std::uint64_t packets = 0, bytes = 0;
    std::uint32_t text = 0;      // in the counter's texts, read for a text of more than 16 bytes
    std::uint32_t prototype = 0; // its set's reading
    std::uint8_t size = 0;       // of the text

    HostKey(const HostText& host, const HostElement& element, std::uint32_t index,
            std::uint32_t set)
        : packets(element.packets), bytes(element.bytes), text(index), prototype(set),
          size(host.size) {
        for (std::size_t i = 0; i < 16; ++i) {
            const auto byte = i < host.size ? static_cast<unsigned char>(host.text[i]) : 0U;
            (i < 8 ? high : low) = ((i < 8 ? high : low) << 8) | byte;
        }
    }
    bool fits() const { return size <= 16; }
};

// The hosts of one counter.
struct CounterHosts {
    std::vector<HostKey> keys;
    std::vector<HostText> texts; // the texts of more than 16 bytes
};

bool by_counter(const CounterReading& a, const CounterReading& b) {
    return a.sample.counter < b.sample.counter;
}

// The hosts of one counter, sorted by address text, appended to out as readings.
void add_hosts(CounterHosts& hosts, const std::vector<CounterReading>& prototypes,
               std::vector<CounterReading>& out) {
    const auto text_of = [&](const HostKey& key) {
        return key.fits() ? std::string_view() : hosts.texts[key.text].view();
    };
    std::sort(hosts.keys.begin(), hosts.keys.end(), [&](const HostKey& a, const HostKey& b) {
        if (std::tie(a.high, a.low) != std::tie(b.high, b.low)) {
            return std::tie(a.high, a.low) < std::tie(b.high, b.low);
        }
        return text_of(a) < text_of(b);
    });
    for (const HostKey& key : hosts.keys) {
        // The counter's description shared, not copied: no block per host but a long address.
        CounterSample& sample = out.emplace_back(prototypes[key.prototype]).sample;
        std::string& host = sample.host;
        if (key.fits()) {
            std::array<char, 16> text{};
            for (std::size_t i = 0; i < 8; ++i) {
                text[i] = static_cast<char>(key.high >> (56 - 8 * i));
                text[8 + i] = static_cast<char>(key.low >> (56 - 8 * i));
            }
            host.assign(text.data(), key.size);
        } else {
            host.assign(text_of(key));
        }
        sample.packets = key.packets;
        sample.bytes = key.bytes;
    }
}

} // namespace

std::vector<CounterReading> with_host_readings(std::vector<CounterReading> named,
                                               const std::vector<KernelHostSet>& sets,
                                               const std::string& policy) {
    // Named counters come in the byte order of their record, usually sorted already.
    if (!std::is_sorted(named.begin(), named.end(), by_counter)) {
        std::stable_sort(named.begin(), named.end(), by_counter);
    }
    if (sets.empty()) {
        return named;
    }
    // Each set's reading without its host, its comment decoded once, and its hosts by counter.
    std::vector<CounterReading> prototypes;
    prototypes.reserve(sets.size());
    std::map<std::string, CounterHosts> counters;
    std::size_t total = named.size();
    for (const KernelHostSet& set : sets) {
        CounterIdentity identity = decode_counter_comment(set.set, set.comment);
        const std::string counter = host_counter_name(set.set);
        const auto index = static_cast<std::uint32_t>(prototypes.size());
        prototypes.push_back(reading_of(policy, counter, 0, 0, std::move(identity)));
        CounterHosts& hosts = counters[counter];
        hosts.keys.reserve(hosts.keys.size() + set.hosts.size());
        for (const HostElement& element : set.hosts) {
            const HostText text = host_text(element);
            if (text.size == 0) {
                continue;
            }
            const HostKey& key = hosts.keys.emplace_back(
                text, element, static_cast<std::uint32_t>(hosts.texts.size()), index);
            if (!key.fits()) {
                hosts.texts.push_back(text);
            }
        }
        total += set.hosts.size();
    }
    std::vector<CounterReading> out;
    out.reserve(total);
    std::size_t next = 0;
    for (auto& [counter, hosts] : counters) {
        for (; next < named.size() && named[next].sample.counter <= counter; ++next) {
            out.push_back(std::move(named[next]));
        }
        add_hosts(hosts, prototypes, out);
    }
    for (; next < named.size(); ++next) {
        out.push_back(std::move(named[next]));
    }
    return out;
}

} // namespace acctc::runtime
