#include "iptables_names.hpp"

namespace acctc::iptables {
namespace {

std::uint64_t fnv1a(const std::string& text) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (unsigned char c : text) {
        hash = (hash ^ c) * 0x100000001b3ULL;
    }
    return hash;
}

// `length` base-36 digits of the hash: 8 digits keep about 41 bits.
std::string hash_text(const std::string& text, std::size_t length) {
    static constexpr char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    std::uint64_t hash = fnv1a(text);
    std::string out;
    for (std::size_t i = 0; i < length; ++i) {
        out += digits[hash % 36];
        hash /= 36;
    }
    return out;
}

std::string shortened(const std::string& text, std::size_t limit, std::size_t hash_length) {
    if (text.size() <= limit) {
        return text;
    }
    return text.substr(0, limit - hash_length) + hash_text(text, hash_length);
}

} // namespace

std::string owned_prefix(const std::string& policy) {
    return "acctc-" + shortened(policy, 10, 6) + "-";
}

std::string object_name(const std::string& policy, const std::string& role, std::size_t limit) {
    const std::string prefix = owned_prefix(policy);
    return prefix + shortened(role, limit - prefix.size(), 8);
}

std::string counter_chain(const std::string& policy, const std::string& counter) {
    return object_name(policy, "c-" + counter);
}

std::string quota_chain(const std::string& policy, const std::string& quota) {
    return object_name(policy, "q-" + quota);
}

std::string quota_object(const std::string& policy, std::uint64_t bytes,
                         const QuotaIdentity& identity) {
    QuotaIdentity what = identity;
    what.origin.clear(); // where it is written changes nothing in the kernel
    const std::string prefix = owned_prefix(policy);
    const std::string hash = hash_text(
        identity.quota + " " + std::to_string(bytes) + " " + encode_quota_comment(what), 6);
    const std::size_t room = max_nfacct_name - prefix.size() - hash.size() - 1;
    return prefix + identity.quota.substr(0, room) + "-" + hash;
}

std::string counter_comment(const std::string& counter, const CounterIdentity& identity) {
    const std::string name = "acctc:" + counter;
    return name + " " + encode_counter_comment(counter, identity, max_comment - name.size() - 1);
}

std::string jump_comment(const std::string& policy) {
    return "acctc:policy:" + policy;
}

} // namespace acctc::iptables
