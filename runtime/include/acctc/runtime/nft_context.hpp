// RAII wrapper over libnftables: buffered output and errors, JSON parsed with nlohmann-json.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

struct nft_ctx;

namespace acctc::runtime {

struct NftResult {
    bool ok = false;
    std::string output;
    std::string errors; // nft's messages: "<cmdline>:L:C-C: Error: ..." plus source and carets
};

class NftContext {
  public:
    // output_flags: NFT_CTX_OUTPUT_* from libnftables.h.
    explicit NftContext(unsigned output_flags = 0);
    ~NftContext();
    NftContext(const NftContext&) = delete;
    NftContext& operator=(const NftContext&) = delete;

    // Dry run sends the batch to the kernel for validation but never commits it.
    void set_dry_run(bool dry_run);
    NftResult run(const std::string& commands);
    // Runs the text as nft reads a file: unlike a buffer, kernel errors then carry the right
    // line and column, which is what leads them back to the policy.
    NftResult run_as_file(const std::string& text);
    // Runs a listing command with JSON output; throws RuntimeError when nft fails.
    nlohmann::json run_json(const std::string& commands);

  private:
    struct Free {
        void operator()(nft_ctx* ctx) const;
    };
    std::unique_ptr<nft_ctx, Free> ctx_;
};

// Turns nft's error text into a RuntimeError with the right kind (permission, unsupported...).
[[noreturn]] void throw_nft_failure(const std::string& what, const std::string& errors);

} // namespace acctc::runtime
