#include "host_database.hpp"

#include <charconv>
#include <fstream>
#include <grp.h>
#include <pwd.h>
#include <sstream>
#include <vector>

namespace acctc {
namespace {

using IdMap = std::map<std::string, std::uint32_t, std::less<>>;

// passwd and group share the layout name:x:id:... ; the id is the third field.
IdMap read_id_file(const std::filesystem::path& path) {
    IdMap ids;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        std::vector<std::string_view> fields;
        std::string_view rest(line);
        for (int i = 0; i < 3; ++i) {
            const auto colon = rest.find(':');
            fields.push_back(rest.substr(0, colon));
            if (colon == std::string_view::npos) {
                rest = {};
                break;
            }
            rest.remove_prefix(colon + 1);
        }
        if (fields.size() < 3 || fields[0].empty() || fields[0].front() == '#') {
            continue;
        }
        std::uint32_t id = 0;
        const auto parsed =
            std::from_chars(fields[2].data(), fields[2].data() + fields[2].size(), id);
        if (parsed.ec == std::errc() && parsed.ptr == fields[2].data() + fields[2].size()) {
            ids.emplace(std::string(fields[0]), id);
        }
    }
    return ids;
}

// services: "name port/protocol aliases... # comment"; keys are "name/protocol".
std::map<std::string, std::uint16_t, std::less<>> read_services(const std::filesystem::path& path) {
    std::map<std::string, std::uint16_t, std::less<>> services;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        line = line.substr(0, line.find('#'));
        std::istringstream words(line);
        std::string name;
        std::string port_protocol;
        if (!(words >> name >> port_protocol)) {
            continue;
        }
        const auto slash = port_protocol.find('/');
        if (slash == std::string::npos) {
            continue;
        }
        unsigned port = 0;
        const auto parsed =
            std::from_chars(port_protocol.data(), port_protocol.data() + slash, port);
        if (parsed.ec != std::errc() || port > 65535) {
            continue;
        }
        const std::string protocol = port_protocol.substr(slash + 1);
        services.emplace(name + "/" + protocol, static_cast<std::uint16_t>(port));
        std::string alias;
        while (words >> alias) {
            services.emplace(alias + "/" + protocol, static_cast<std::uint16_t>(port));
        }
    }
    return services;
}

} // namespace

HostDatabase::HostDatabase(std::filesystem::path etc_dir)
    : etc_dir_(std::move(etc_dir)), system_etc_(etc_dir_ == "/etc") {}

// /etc goes through NSS (LDAP and other sources included); another directory is read as files.
template <typename NssLookup>
std::optional<std::uint32_t> HostDatabase::lookup_id(std::string_view name, IdCache& cache,
                                                     const char* file, NssLookup nss) const {
    if (system_etc_) {
        return nss(std::string(name));
    }
    if (!cache) {
        cache = read_id_file(etc_dir_ / file);
    }
    const auto found = cache->find(name);
    return found == cache->end() ? std::nullopt : std::optional(found->second);
}

std::optional<std::uint32_t> HostDatabase::user_id(std::string_view name) const {
    return lookup_id(name, users_, "passwd",
                     [](const std::string& key) -> std::optional<std::uint32_t> {
                         const passwd* entry = getpwnam(key.c_str());
                         return entry != nullptr ? std::optional(entry->pw_uid) : std::nullopt;
                     });
}

std::optional<std::uint32_t> HostDatabase::group_id(std::string_view name) const {
    return lookup_id(name, groups_, "group",
                     [](const std::string& key) -> std::optional<std::uint32_t> {
                         const group* entry = getgrnam(key.c_str());
                         return entry != nullptr ? std::optional(entry->gr_gid) : std::nullopt;
                     });
}

std::optional<std::uint16_t> HostDatabase::service_port(std::string_view name,
                                                        std::string_view protocol) const {
    if (!services_) {
        services_ = read_services(etc_dir_ / "services");
    }
    const std::string_view table_protocol = protocol == "udplite" ? "udp" : protocol;
    const auto found = services_->find(std::string(name) + "/" + std::string(table_protocol));
    return found == services_->end() ? std::nullopt : std::optional(found->second);
}

} // namespace acctc
