#include <gtest/gtest.h>

#include <chrono>

#include "fake_random.h"
#include "resilience/backoff.h"

namespace tokenizer {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

TEST(Backoff, CeilingDoublesFromBaseUpToCap) {
  const Backoff backoff({milliseconds(25), milliseconds(1000)});
  const milliseconds expected[] = {milliseconds(25),   milliseconds(50),  milliseconds(100),
                                   milliseconds(200),  milliseconds(400), milliseconds(800),
                                   milliseconds(1000), milliseconds(1000)};
  for (int retry = 1; retry <= 8; ++retry) {
    EXPECT_EQ(backoff.ceiling(retry), expected[retry - 1]) << "retry " << retry;
  }
}

TEST(Backoff, HugeRetryNumbersStayAtTheCap) {
  const Backoff backoff({milliseconds(25), milliseconds(1000)});
  EXPECT_EQ(backoff.ceiling(64), milliseconds(1000));
  EXPECT_EQ(backoff.ceiling(1 << 30), milliseconds(1000));
}

TEST(Backoff, RetryBelowOneIsTheFirstRetry) {
  const Backoff backoff({milliseconds(25), milliseconds(1000)});
  EXPECT_EQ(backoff.ceiling(0), milliseconds(25));
  EXPECT_EQ(backoff.ceiling(-3), milliseconds(25));
}

TEST(Backoff, ZeroDrawGivesZeroDelay) {
  const Backoff backoff({milliseconds(25), milliseconds(1000)});
  testing::FakeRandom zero(0);
  for (int retry = 1; retry <= 10; ++retry) EXPECT_EQ(backoff.delay(retry, zero), nanoseconds(0));
  EXPECT_EQ(zero.draws, 10);  // one draw per delay
}

TEST(Backoff, DrawNearOneStaysJustBelowTheCeiling) {
  const Backoff backoff({milliseconds(25), milliseconds(1000)});
  testing::FakeRandom high(testing::FakeRandom::unit(0.999999));
  for (int retry = 1; retry <= 10; ++retry) {
    const auto ceiling = backoff.ceiling(retry);
    const auto d = backoff.delay(retry, high);
    EXPECT_LT(d, ceiling) << "retry " << retry;
    EXPECT_GE(d, ceiling * 999 / 1000) << "retry " << retry;
  }
  testing::FakeRandom max(~0ULL);
  EXPECT_LT(backoff.delay(20, max), milliseconds(1000));
}

TEST(Backoff, DelayIsProportionalToTheDraw) {
  const Backoff backoff({milliseconds(100), milliseconds(10000)});
  testing::FakeRandom half(testing::FakeRandom::unit(0.5));
  EXPECT_EQ(backoff.delay(1, half), milliseconds(50));
  EXPECT_EQ(backoff.delay(3, half), milliseconds(200));
  testing::FakeRandom quarter(testing::FakeRandom::unit(0.25));
  EXPECT_EQ(backoff.delay(2, quarter), milliseconds(50));
}

TEST(Backoff, CapBelowBaseIsRaisedToBase) {
  const Backoff backoff({milliseconds(300), milliseconds(100)});
  EXPECT_EQ(backoff.config().cap, milliseconds(300));
  EXPECT_EQ(backoff.ceiling(1), milliseconds(300));
  EXPECT_EQ(backoff.ceiling(5), milliseconds(300));
}

TEST(Backoff, ZeroBaseMeansNoDelay) {
  const Backoff backoff({milliseconds(0), milliseconds(100)});
  testing::FakeRandom high(testing::FakeRandom::unit(0.9));
  EXPECT_EQ(backoff.ceiling(1000000), nanoseconds(0));
  EXPECT_EQ(backoff.delay(3, high), nanoseconds(0));
}

}  // namespace
}  // namespace tokenizer
