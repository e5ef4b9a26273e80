#include "acctc/recording/graph.hpp"
#include "acctc/recording/rrd_file.hpp"

#include <cstring>
#include <memory>
#include <rrd.h>

namespace acctc::recording {
namespace {

struct InfoDeleter {
    void operator()(rrd_info_t* info) const { rrd_info_free(info); }
};

} // namespace

std::vector<unsigned char> render_graph(const GraphRequest& request) {
    std::vector<std::string> args = {"graph", "-"}; // "-": render into memory, not a file
    const auto definitions = graph_arguments(request);
    args.insert(args.end(), definitions.begin(), definitions.end());
    // rrd_graph_v takes char** but does not keep the pointers past the call.
    std::vector<char*> argv;
    for (auto& arg : args) {
        argv.push_back(arg.data());
    }
    argv.push_back(nullptr);
    rrd_clear_error();
    const std::unique_ptr<rrd_info_t, InfoDeleter> info(
        rrd_graph_v(static_cast<int>(args.size()), argv.data()));
    if (!info) {
        std::string detail = rrd_test_error() != 0 ? rrd_get_error() : "unknown librrd error";
        rrd_clear_error();
        throw RrdError("cannot draw graph: " + detail);
    }
    for (const rrd_info_t* entry = info.get(); entry != nullptr; entry = entry->next) {
        if (entry->type == RD_I_BLO && std::strcmp(entry->key, "image") == 0) {
            const auto* begin = entry->value.u_blo.ptr;
            return {begin, begin + entry->value.u_blo.size};
        }
    }
    throw RrdError("cannot draw graph: librrd returned no image");
}

} // namespace acctc::recording
