#include "naming.hpp"

#include <cctype>

namespace acctc {

std::string ingress_chain_name(const std::string& device) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string name = "ingress_";
    for (unsigned char c : device) {
        if (std::isalnum(c) || c == '_' || c == '-' || c == '.') {
            name.push_back(static_cast<char>(c));
        } else {
            name += {'/', digits[c >> 4], digits[c & 15]};
        }
    }
    return name;
}

} // namespace acctc
