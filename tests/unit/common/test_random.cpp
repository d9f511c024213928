#include <gtest/gtest.h>

#include <regex>
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
  EXPECT_TRUE(std::regex_match(a, std::regex("[0-9a-f]{32}")));
}

TEST(SecureRandom, UuidIsVersion4) {
  const auto u = secure_random_uuid();
  EXPECT_TRUE(std::regex_match(u, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << u;
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
