// An rtnetlink socket through libmnl, bound to the namespace it was opened in. Requests ask
// for an ACK and report the kernel's errno with what was attempted.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

struct mnl_socket;
struct nlmsghdr;

namespace acctc::testbench {

class RtnlSocket {
  public:
    // Opens in the calling thread's current namespace (see ScopedNetns).
    RtnlSocket();

    // Builds a request in an internal buffer: `type` is RTM_*, flags beyond
    // NLM_F_REQUEST|NLM_F_ACK are added. The returned header stays valid until the next call.
    nlmsghdr* start(std::uint16_t type, std::uint16_t flags);
    // Sends the request started last and waits for its ACK; replies before the ACK (for a
    // GET) go to `on_message`. Throws std::system_error with the kernel's errno.
    void execute(const std::string& what,
                 const std::function<void(const nlmsghdr*)>& on_message = {});
    // Sends a dump request and calls `on_message` for each reply message.
    void dump(const std::string& what, const std::function<void(const nlmsghdr*)>& on_message);

  private:
    void transact(const std::string& what, const std::function<void(const nlmsghdr*)>& on_message);
    struct Closer {
        void operator()(mnl_socket* socket) const;
    };
    std::unique_ptr<mnl_socket, Closer> socket_;
    unsigned port_id_ = 0;
    unsigned sequence_ = 0;
    std::vector<char> buffer_;
};

} // namespace acctc::testbench
