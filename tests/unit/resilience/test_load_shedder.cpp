#include <gtest/gtest.h>

#include <optional>
#include <utility>
#include <vector>

#include "resilience/load_shedder.h"

namespace tokenizer {
namespace {

TEST(LoadShedder, RefusesBeyondTheLimitAndFreesOnDestruction) {
  LoadShedder shedder(2);
  EXPECT_EQ(shedder.limit(), 2);
  auto a = shedder.try_enter();
  auto b = shedder.try_enter();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(shedder.in_flight(), 2);
  EXPECT_FALSE(shedder.try_enter().has_value());
  EXPECT_EQ(shedder.shed_total(), 1u);
  a.reset();  // token destroyed
  EXPECT_EQ(shedder.in_flight(), 1);
  auto c = shedder.try_enter();
  EXPECT_TRUE(c.has_value());
  EXPECT_EQ(shedder.in_flight(), 2);
}

TEST(LoadShedder, MovedTokensReleaseOnce) {
  LoadShedder shedder(3);
  {
    auto t = shedder.try_enter();
    ASSERT_TRUE(t);
    LoadShedder::InFlightToken moved(std::move(*t));
    EXPECT_EQ(shedder.in_flight(), 1);
    t.reset();  // the moved-from token frees nothing
    EXPECT_EQ(shedder.in_flight(), 1);
    auto other = shedder.try_enter();
    ASSERT_TRUE(other);
    EXPECT_EQ(shedder.in_flight(), 2);
    moved = std::move(*other);  // assignment frees the slot `moved` held
    EXPECT_EQ(shedder.in_flight(), 1);
    moved.release();
    moved.release();  // idempotent
    EXPECT_EQ(shedder.in_flight(), 0);
  }
  EXPECT_EQ(shedder.in_flight(), 0);
}

TEST(LoadShedder, LimitBelowOneIsOne) {
  LoadShedder shedder(0);
  auto t = shedder.try_enter();
  EXPECT_TRUE(t.has_value());
  EXPECT_FALSE(shedder.try_enter().has_value());
}

TEST(LoadShedder, TokensCanBeHeldInACollection) {
  LoadShedder shedder(5);
  std::vector<LoadShedder::InFlightToken> held;
  while (auto t = shedder.try_enter()) held.push_back(std::move(*t));
  EXPECT_EQ(held.size(), 5u);
  EXPECT_EQ(shedder.in_flight(), 5);
  held.clear();
  EXPECT_EQ(shedder.in_flight(), 0);
}

}  // namespace
}  // namespace tokenizer
