#include "acctc/runtime/exposition.hpp"

namespace acctc::runtime {
namespace {

void append_family(std::string& out, const char* name, const char* help,
                   const std::vector<CounterSample>& samples, std::uint64_t CounterSample::*value) {
    out += std::string("# HELP ") + name + " " + help + "\n";
    out += std::string("# TYPE ") + name + " counter\n";
    for (const auto& sample : samples) {
        out += std::string(name) + "{policy=\"" + escape_label_value(sample.policy) +
               "\",counter=\"" + escape_label_value(sample.family_or_name()) + "\"";
        for (const auto& label : sample.labels) {
            out += ",";
            out += dimension_name(label.dimension);
            out += "=\"" + escape_label_value(label.value) + "\"";
        }
        out += "} " + std::to_string(sample.*value) + "\n";
    }
}

} // namespace

std::string escape_label_value(std::string_view value) {
    std::string escaped;
    escaped.reserve(value.size());
    for (char c : value) {
        switch (c) {
        case '\\':
            escaped += "\\\\";
            break;
        case '"':
            escaped += "\\\"";
            break;
        case '\n':
            escaped += "\\n";
            break;
        default:
            escaped += c;
        }
    }
    return escaped;
}

std::string format_prometheus(const std::vector<CounterSample>& samples) {
    std::string out;
    append_family(out, "acctc_packets_total", "Packets counted by an acctc policy counter.",
                  samples, &CounterSample::packets);
    append_family(out, "acctc_bytes_total",
                  "Bytes (layer 3 and up) counted by an acctc policy counter.", samples,
                  &CounterSample::bytes);
    return out;
}

} // namespace acctc::runtime
