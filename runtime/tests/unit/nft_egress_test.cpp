// The egress counters' bytes: nft counts link-layer lengths at egress, the readers L3 lengths.
#include "nft_egress.hpp"

#include <gtest/gtest.h>

namespace acctc::runtime {
namespace {

// One 3,000-byte UDP datagram over Ethernet, as measured at egress: 3 frames of 3,110 bytes,
// 3,068 bytes of IP on the wire.
TEST(EgressBytes, TakeTheLinkLayerHeaderOffEachPacket) {
    EXPECT_EQ(wire_bytes(3110, 3, 14), 3068U);
    EXPECT_EQ(wire_bytes(3068, 3, 0), 3068U); // no link-layer header (tun, PPP)
    EXPECT_EQ(wire_bytes(0, 0, 14), 0U);
    EXPECT_EQ(wire_bytes(10, 1, 14), 0U); // never below zero
}

// The loopback device exists in every namespace and is counted like Ethernet there.
TEST(EgressBytes, LoopbackHeaderIsEthernetsAndAMissingDeviceHasNone) {
    EXPECT_EQ(link_header_length("lo"), 14U);
    EXPECT_FALSE(link_header_length("acctc-none0").has_value());
}

} // namespace
} // namespace acctc::runtime
