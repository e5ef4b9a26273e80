#include "peer_report.hpp"

#include "socket_address.hpp"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace acctc::testbench {

std::string encode_report(const SideReport& report) {
    const nlohmann::json json = {{"view", report.view},
                                 {"sent", report.sent},
                                 {"received", report.received},
                                 {"wire", report.wire},
                                 {"problems", report.problems}};
    return "report " + json.dump();
}

SideReport decode_report(const std::string& line) {
    constexpr std::string_view tag = "report ";
    if (!line.starts_with(tag)) {
        throw std::runtime_error(line);
    }
    const auto json = nlohmann::json::parse(line.substr(tag.size()));
    SideReport report;
    report.view = json.at("view").get<FlowTuple>();
    report.sent = json.at("sent").get<Traffic>();
    report.received = json.at("received").get<Traffic>();
    report.wire = json.at("wire").get<Traffic>();
    report.problems = json.at("problems").get<std::vector<std::string>>();
    return report;
}

RouteInfo route_to(const IpAddress& destination) {
    auto probe = open_socket(destination.family, SOCK_DGRAM, 0);
    const auto target = SocketAddress::from(destination, 9);
    if (::connect(probe.get(), target.raw(), target.length) != 0) {
        throw_errno("no route to " + destination.to_string());
    }
    return {local_address(probe.get()).address(), connected_mtu(probe.get(), destination.family)};
}

std::vector<unsigned> packet_sizes(const std::vector<Burst>& bursts) {
    std::vector<unsigned> sizes;
    for (const auto& burst : bursts) {
        sizes.insert(sizes.end(), burst.count, burst.size);
    }
    return sizes;
}

} // namespace acctc::testbench
