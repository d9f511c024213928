#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "common/random.h"
#include "fake_clock.h"
#include "fake_random.h"

namespace tokenizer {
namespace {

TEST(SecureRandom, HexHasRequestedLengthAndDiffers) {
  const auto a = secure_random_hex(16);
  const auto b = secure_random_hex(16);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(SecureRandom, UuidIsVersion4) {
  const auto u = secure_random_uuid();
  ASSERT_EQ(u.size(), 36u) << u;
  for (std::size_t i : {8u, 13u, 18u, 23u}) EXPECT_EQ(u[i], '-') << u;
  EXPECT_EQ(u[14], '4') << u;                                        // version 4
  EXPECT_NE(std::string("89ab").find(u[19]), std::string::npos) << u;  // RFC 4122 variant
  std::string hex = u;
  hex.erase(std::remove(hex.begin(), hex.end(), '-'), hex.end());
  EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos) << u;
}

TEST(Random, NextUnitIsInHalfOpenRange) {
  testing::FakeRandom zero(0);
  EXPECT_EQ(zero.next_unit(), 0.0);
  testing::FakeRandom max(~0ULL);
  EXPECT_LT(max.next_unit(), 1.0);
  testing::FakeRandom half(testing::FakeRandom::unit(0.5));
  EXPECT_DOUBLE_EQ(half.next_unit(), 0.5);
}

TEST(FakeClock, AdvancesBothClocks) {
  testing::FakeClock clock;
  const auto w = clock.wall();
  const auto s = clock.steady();
  clock.advance(std::chrono::seconds(3));
  EXPECT_EQ(clock.wall() - w, std::chrono::seconds(3));
  EXPECT_EQ(clock.steady() - s, std::chrono::seconds(3));
}

}  // namespace
}  // namespace tokenizer
