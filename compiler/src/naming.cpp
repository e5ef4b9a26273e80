#include "naming.hpp"

#include <cctype>

namespace acctc {

namespace {

std::string hook_chain_name(std::string name, const std::string& device) {
    static constexpr char digits[] = "0123456789abcdef";
    for (unsigned char c : device) {
        if (std::isalnum(c) || c == '_' || c == '-' || c == '.') {
            name.push_back(static_cast<char>(c));
        } else {
            name += {'/', digits[c >> 4], digits[c & 15]};
        }
    }
    return name;
}

} // namespace

std::string ingress_chain_name(const std::string& device) {
    return hook_chain_name("ingress_", device);
}

std::string egress_chain_name(const std::string& device) {
    return hook_chain_name("egress_", device);
}

} // namespace acctc
