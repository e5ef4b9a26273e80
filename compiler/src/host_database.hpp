// Users, groups and services of the host a policy is compiled for. Reads passwd, group and
// services from a directory (default /etc), so a policy can be compiled for another machine
// and specs are reproducible; for /etc itself users and groups also go through NSS.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace acctc {

class HostDatabase {
  public:
    explicit HostDatabase(std::filesystem::path etc_dir);

    std::optional<std::uint32_t> user_id(std::string_view name) const;
    std::optional<std::uint32_t> group_id(std::string_view name) const;
    // protocol is "tcp", "udp", "sctp", "udplite" or "dccp"; udplite uses udp's entries.
    std::optional<std::uint16_t> service_port(std::string_view name,
                                              std::string_view protocol) const;

  private:
    using IdCache = std::optional<std::map<std::string, std::uint32_t, std::less<>>>;
    template <typename NssLookup>
    std::optional<std::uint32_t> lookup_id(std::string_view name, IdCache& cache, const char* file,
                                           NssLookup nss) const;

    std::filesystem::path etc_dir_;
    bool system_etc_;
    mutable IdCache users_;
    mutable IdCache groups_;
    mutable std::optional<std::map<std::string, std::uint16_t, std::less<>>> services_;
};

} // namespace acctc
