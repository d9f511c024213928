#include <gtest/gtest.h>

#include <chrono>

#include "fake_clock.h"
#include "resilience/retry_budget.h"

namespace tokenizer {
namespace {

using std::chrono::milliseconds;

int acquire_all(RetryBudget& budget, int limit = 10000) {
  int granted = 0;
  while (granted < limit && budget.try_acquire_retry()) ++granted;
  return granted;
}

TEST(RetryBudget, FloorAllowsRetriesWithoutTraffic) {
  testing::FakeClock clock;
  RetryBudget budget({20, 10, milliseconds(10000), 10}, clock);
  EXPECT_EQ(acquire_all(budget), 10);
  EXPECT_FALSE(budget.try_acquire_retry());
  const auto s = budget.snapshot();
  EXPECT_EQ(s.requests, 0);
  EXPECT_EQ(s.retries, 10);
  EXPECT_EQ(s.allowed, 10);
}

TEST(RetryBudget, PercentOfRequestsAboveTheFloor) {
  testing::FakeClock clock;
  RetryBudget budget({20, 10, milliseconds(10000), 10}, clock);
  for (int i = 0; i < 200; ++i) budget.record_request();
  EXPECT_EQ(budget.snapshot().allowed, 40);
  EXPECT_EQ(acquire_all(budget), 40);
  // More traffic earns more retries: 5 more requests → one more retry.
  for (int i = 0; i < 5; ++i) budget.record_request();
  EXPECT_TRUE(budget.try_acquire_retry());
  EXPECT_FALSE(budget.try_acquire_retry());
}

TEST(RetryBudget, ZeroFloorAndFewRequestsAllowsNothing) {
  testing::FakeClock clock;
  RetryBudget budget({20, 0, milliseconds(10000), 10}, clock);
  for (int i = 0; i < 4; ++i) budget.record_request();  // 4 * 20 % = 0.8 → 0
  EXPECT_FALSE(budget.try_acquire_retry());
  budget.record_request();  // 5 * 20 % = 1
  EXPECT_TRUE(budget.try_acquire_retry());
  EXPECT_FALSE(budget.try_acquire_retry());
}

TEST(RetryBudget, ExhaustedBudgetRefillsWhenTheWindowMovesOn) {
  testing::FakeClock clock;
  RetryBudget budget({20, 2, milliseconds(10000), 10}, clock);
  EXPECT_EQ(acquire_all(budget), 2);
  clock.advance(milliseconds(9999));  // the retries are still in the window
  EXPECT_FALSE(budget.try_acquire_retry());
  clock.advance(milliseconds(1));  // t = 10 s: their bucket left
  EXPECT_EQ(acquire_all(budget), 2);
}

TEST(RetryBudget, OldRequestsStopEarningRetries) {
  testing::FakeClock clock;
  RetryBudget budget({20, 1, milliseconds(10000), 10}, clock);
  for (int i = 0; i < 100; ++i) budget.record_request();  // t = 0: 20 retries allowed
  clock.advance(milliseconds(5000));
  EXPECT_EQ(acquire_all(budget), 20);  // t = 5 s
  clock.advance(milliseconds(5000));   // t = 10 s: the requests left, the retries did not
  auto s = budget.snapshot();
  EXPECT_EQ(s.requests, 0);
  EXPECT_EQ(s.retries, 20);
  EXPECT_EQ(s.allowed, 1);
  EXPECT_FALSE(budget.try_acquire_retry());
  clock.advance(milliseconds(5000));  // t = 15 s: the retries left too
  s = budget.snapshot();
  EXPECT_EQ(s.retries, 0);
  EXPECT_TRUE(budget.try_acquire_retry());
}

}  // namespace
}  // namespace tokenizer
