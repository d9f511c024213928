#include <gtest/gtest.h>

#include "fake_clock.h"
#include "http/rate_limiter.h"

namespace tokenizer {
namespace {

using std::chrono::milliseconds;

TEST(KeyedRateLimiter, AllowsBurstThenThrottlesWithRetryAfter) {
  testing::FakeClock clock;
  KeyedRateLimiter limiter(clock, /*rate*/ 2, /*burst*/ 3);
  EXPECT_FALSE(limiter.try_acquire("alice"));
  EXPECT_FALSE(limiter.try_acquire("alice"));
  EXPECT_FALSE(limiter.try_acquire("alice"));
  const auto wait = limiter.try_acquire("alice");
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, milliseconds(500));  // one token at 2/s
  clock.advance(milliseconds(499));
  EXPECT_TRUE(limiter.try_acquire("alice"));
  clock.advance(milliseconds(2));
  EXPECT_FALSE(limiter.try_acquire("alice"));
}

TEST(KeyedRateLimiter, KeysAreIndependent) {
  testing::FakeClock clock;
  KeyedRateLimiter limiter(clock, 1, 1);
  EXPECT_FALSE(limiter.try_acquire("a"));
  EXPECT_TRUE(limiter.try_acquire("a"));
  EXPECT_FALSE(limiter.try_acquire("b"));
}

TEST(KeyedRateLimiter, RefillIsCappedAtBurst) {
  testing::FakeClock clock;
  KeyedRateLimiter limiter(clock, 10, 2);
  EXPECT_FALSE(limiter.try_acquire("a"));
  clock.advance(std::chrono::hours(1));
  EXPECT_FALSE(limiter.try_acquire("a"));
  EXPECT_FALSE(limiter.try_acquire("a"));
  EXPECT_TRUE(limiter.try_acquire("a"));
}

TEST(KeyedRateLimiter, CheckDoesNotConsume) {
  testing::FakeClock clock;
  KeyedRateLimiter limiter(clock, 1, 1);
  EXPECT_FALSE(limiter.check("a"));
  EXPECT_FALSE(limiter.check("a"));
  EXPECT_FALSE(limiter.try_acquire("a"));
  EXPECT_TRUE(limiter.check("a"));
}

TEST(KeyedRateLimiter, HundredWrongPasswordsInAFewSecondsAreThrottled) {
  // The defaults for failed logins: 1/s with a burst of 10 per source address.
  testing::FakeClock clock;
  KeyedRateLimiter limiter(clock, 1, 10);
  int allowed = 0;
  for (int i = 0; i < 100; ++i) {
    if (!limiter.try_acquire("203.0.113.9")) ++allowed;
    clock.advance(milliseconds(30));  // 100 attempts in 3 s
  }
  EXPECT_LE(allowed, 13);
  EXPECT_GE(allowed, 10);
}

TEST(KeyedRateLimiter, KeyCountIsBounded) {
  testing::FakeClock clock;
  KeyedRateLimiter limiter(clock, 1, 1, /*max_keys*/ 64);
  for (int i = 0; i < 10000; ++i) limiter.try_acquire("k" + std::to_string(i));
  EXPECT_LE(limiter.size(), 64u);
}

}  // namespace
}  // namespace tokenizer
