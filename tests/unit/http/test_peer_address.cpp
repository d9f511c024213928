#include "http/peer_address.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

namespace tokenizer {
namespace {

in_addr from_host_order(std::uint32_t host_order) {
  in_addr a{};
  a.s_addr = htonl(host_order);
  return a;
}

std::string libc_text(const in_addr& a) {
  char text[INET_ADDRSTRLEN];
  return inet_ntop(AF_INET, &a, text, sizeof text) != nullptr ? text : "<inet_ntop failed>";
}

TEST(PeerAddress, Ipv4InDottedDecimalWithoutLeadingZeros) {
  EXPECT_EQ(ipv4_text(from_host_order(0x7f000001)), "127.0.0.1");
  EXPECT_EQ(ipv4_text(from_host_order(0xc0000201)), "192.0.2.1");
  EXPECT_EQ(ipv4_text(from_host_order(0)), "0.0.0.0");
  EXPECT_EQ(ipv4_text(from_host_order(0xffffffff)), "255.255.255.255");
  EXPECT_EQ(ipv4_text(from_host_order(0x0a09630a)), "10.9.99.10");
}

TEST(PeerAddress, Ipv4MatchesInetNtop) {
  // Every octet value in every position, then pseudo-random addresses (fixed seed).
  for (std::uint32_t v = 0; v < 256; ++v) {
    for (int shift = 0; shift < 32; shift += 8) {
      const in_addr a = from_host_order((v << shift) | (v == 0 ? 0x01010101u & ~(0xffu << shift) : 0));
      ASSERT_EQ(ipv4_text(a), libc_text(a)) << v << " at bit " << shift;
    }
  }
  std::mt19937 random(20261124);
  for (int i = 0; i < 100000; ++i) {
    const in_addr a = from_host_order(static_cast<std::uint32_t>(random()));
    ASSERT_EQ(ipv4_text(a), libc_text(a));
  }
}

}  // namespace
}  // namespace tokenizer
