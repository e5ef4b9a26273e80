#include "acctc/runtime/nft_context.hpp"

#include "acctc/runtime/errors.hpp"
#include "unique_fd.hpp"

#include <cerrno>
#include <nftables/libnftables.h>
#include <sys/mman.h>
#include <unistd.h>

namespace acctc::runtime {

void NftContext::Free::operator()(nft_ctx* ctx) const {
    nft_ctx_free(ctx);
}

NftContext::NftContext(unsigned output_flags) : ctx_(nft_ctx_new(NFT_CTX_DEFAULT)) {
    if (!ctx_) {
        throw RuntimeError(ErrorKind::system, "cannot create an nftables context");
    }
    if (nft_ctx_buffer_output(ctx_.get()) != 0 || nft_ctx_buffer_error(ctx_.get()) != 0) {
        throw RuntimeError(ErrorKind::system, "cannot buffer nftables output");
    }
    nft_ctx_output_set_flags(ctx_.get(), output_flags);
}

NftContext::~NftContext() = default;

void NftContext::set_dry_run(bool dry_run) {
    nft_ctx_set_dry_run(ctx_.get(), dry_run);
}

NftResult NftContext::run(const std::string& commands) {
    NftResult result;
    result.ok = nft_run_cmd_from_buffer(ctx_.get(), commands.c_str()) == 0;
    // Both getters hand back and rewind their buffers, so each run starts empty.
    result.output = nft_ctx_get_output_buffer(ctx_.get());
    result.errors = nft_ctx_get_error_buffer(ctx_.get());
    return result;
}

NftResult NftContext::run_as_file(const std::string& text) {
    const UniqueFd file(::memfd_create("acctc-transaction", MFD_CLOEXEC));
    if (!file) {
        throw_system_error("cannot create a memory file for nft", errno);
    }
    const int fd = file.get();
    for (std::size_t written = 0; written < text.size();) {
        const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
        if (n < 0) {
            throw_system_error("cannot write the nft transaction", errno);
        }
        written += static_cast<std::size_t>(n);
    }
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    NftResult result;
    result.ok = nft_run_cmd_from_filename(ctx_.get(), path.c_str()) == 0;
    result.output = nft_ctx_get_output_buffer(ctx_.get());
    result.errors = nft_ctx_get_error_buffer(ctx_.get());
    return result;
}

nlohmann::json NftContext::run_json(const std::string& commands) {
    const unsigned flags = nft_ctx_output_get_flags(ctx_.get());
    nft_ctx_output_set_flags(ctx_.get(), flags | NFT_CTX_OUTPUT_JSON);
    NftResult result = run(commands);
    nft_ctx_output_set_flags(ctx_.get(), flags);
    if (!result.ok) {
        throw_nft_failure("nft '" + commands + "' failed", result.errors);
    }
    try {
        return nlohmann::json::parse(result.output);
    } catch (const nlohmann::json::exception& error) {
        throw RuntimeError(ErrorKind::system,
                           "nft printed JSON that cannot be parsed: " + std::string(error.what()));
    }
}

void throw_nft_failure(const std::string& what, const std::string& errors) {
    std::string first = errors.substr(0, errors.find('\n'));
    if (errors.find("Operation not permitted") != std::string::npos) {
        throw RuntimeError(ErrorKind::permission,
                           what + ": operation not permitted (acctc needs CAP_NET_ADMIN; run it "
                                  "as root)");
    }
    if (errors.find("Protocol not supported") != std::string::npos) {
        throw RuntimeError(ErrorKind::unsupported,
                           what + ": the kernel has no nf_tables support (" + first + ")");
    }
    throw RuntimeError(ErrorKind::system, what + ": " + (first.empty() ? "unknown error" : first));
}

} // namespace acctc::runtime
