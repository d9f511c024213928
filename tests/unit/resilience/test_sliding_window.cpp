#include <gtest/gtest.h>

#include <chrono>

#include "fake_clock.h"
#include "resilience/sliding_window.h"

namespace tokenizer {
namespace {

using std::chrono::milliseconds;

struct Count {
  int n = 0;
  Count& operator+=(const Count& o) {
    n += o.n;
    return *this;
  }
};

TEST(SlidingWindow, EventsLeaveWithBucketGranularity) {
  testing::FakeClock clock;
  SlidingWindow<Count> w(std::chrono::seconds(10), 10, clock.steady());
  w.at(clock.steady()).n += 3;  // bucket [0 s, 1 s)
  clock.advance(milliseconds(500));
  w.at(clock.steady()).n += 1;  // same bucket
  EXPECT_EQ(w.total(clock.steady()).n, 4);
  clock.advance(milliseconds(9000));  // t = 9.5 s: bucket 9, bucket 0 still inside
  EXPECT_EQ(w.total(clock.steady()).n, 4);
  w.at(clock.steady()).n += 2;
  clock.advance(milliseconds(500));  // t = 10 s: bucket 10 replaces bucket 0
  EXPECT_EQ(w.total(clock.steady()).n, 2);
  w.at(clock.steady()).n += 5;  // reuses slot 0, old value gone
  EXPECT_EQ(w.total(clock.steady()).n, 7);
  clock.advance(std::chrono::seconds(30));
  EXPECT_EQ(w.total(clock.steady()).n, 0);
}

TEST(SlidingWindow, ClearForgetsEverything) {
  testing::FakeClock clock;
  SlidingWindow<Count> w(std::chrono::seconds(10), 10, clock.steady());
  w.at(clock.steady()).n += 3;
  w.clear();
  EXPECT_EQ(w.total(clock.steady()).n, 0);
}

}  // namespace
}  // namespace tokenizer
